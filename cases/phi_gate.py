"""One PHI gate for every text that other people see.

The case form, discussion messages and their edits, topic titles, differential
labels, rationales and rule-out reasons, consult questions, answers and decline
reasons, media captions, the final diagnosis, finding notes, clinician
replies, "ask to join" messages and workspace names and descriptions all pass
:func:`phi_gate` inside the service that stores them. The gate
scans the fields with :mod:`cases.phi`; every finding must be edited away or
dismissed by its :func:`cases.phi.finding_key`, otherwise :class:`PHIFound` is
raised and nothing is stored. A dismissal that lets text through is recorded
in the audit trail (``phi.dismiss``) with the surface, the kinds and the keys,
never the text itself.

Call it inside the service's transaction, so the audit event and the write
commit or roll back together.

The gate fails closed: should a detector ever raise, the text is refused
with :class:`PHICheckFailed` (the error is logged), never let through
unscanned and never a bare 500 that loses the user's words.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

from cases.phi import Finding, finding_key, findings_unresolved, scan_fields
from workspace import audit
from workspace.services import ServiceError

__all__ = ["PHICheckFailed", "PHIFound", "findings_payload", "phi_gate"]

logger = logging.getLogger(__name__)


class PHICheckFailed(ServiceError):
    """The scanner broke on this text, so it is refused rather than let through."""

    status = 422

    def __init__(self) -> None:
        super().__init__(
            "This text could not be checked for patient identifiers, so it was "
            "not saved. Reword it slightly and try again; the problem has been "
            "reported."
        )


class PHIFound(ServiceError):
    """The PHI gate refused: ``findings`` are those neither fixed nor dismissed.

    ``texts`` maps each scanned field to its value, so a caller can show the
    matched text in context.
    """

    def __init__(self, findings: list[Finding], texts: Mapping[str, str] | None = None):
        self.findings = findings
        self.texts = dict(texts or {})
        count = len(findings)
        super().__init__(
            f"{count} possible identifier{'s' if count != 1 else ''} must be "
            "removed or marked as not identifying first."
        )

    def payload(self) -> list[dict[str, Any]]:
        """JSON-ready findings (see :func:`findings_payload`)."""
        return findings_payload(self.findings)


def findings_payload(findings: Collection[Finding]) -> list[dict[str, Any]]:
    """``key``, ``field``, ``kind``, ``start``, ``end``, ``text`` and ``reason``
    of each finding: what a client needs to highlight it and dismiss it by key.
    """
    return [
        {
            "key": finding_key(f),
            "field": f.field,
            "kind": f.kind,
            "start": f.start,
            "end": f.end,
            "text": f.text,
            "reason": f.reason,
        }
        for f in findings
    ]


def phi_gate(
    *,
    fields: Mapping[str, str],
    dismissed: Collection[str] = (),
    by: Any,
    surface: str,
    target: Any = None,
    case_id: int | None = None,
    ip: str | None = None,
) -> list[str]:
    """Let ``fields`` through only when every finding is fixed or dismissed.

    Raises :class:`PHIFound` with the unresolved findings. When it passes and
    some findings were dismissed, records one ``phi.dismiss`` audit event for
    ``surface`` (e.g. ``"message.send"``, ``"consult.question"``) and returns
    the sorted keys that matched a finding; otherwise returns ``[]``. Keys in
    ``dismissed`` that match nothing are ignored.
    """
    try:
        findings = scan_fields({name: value or "" for name, value in fields.items()})
    except Exception as exc:
        logger.exception("PHI scan failed on surface %s", surface)
        raise PHICheckFailed() from exc
    if not findings:
        return []
    given = set(dismissed)
    unresolved = findings_unresolved(findings, given)
    if unresolved:
        raise PHIFound(unresolved, fields)
    used = sorted({finding_key(f) for f in findings})
    audit.record(
        actor=by,
        verb="phi.dismiss",
        target=target,
        case_id=case_id,
        ip=ip,
        data={
            "surface": surface,
            "keys": used,
            "kinds": sorted({f.kind for f in findings}),
        },
    )
    return used
