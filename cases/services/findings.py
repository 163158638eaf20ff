"""PHI findings on a case's text: scanning its fields and tags, and findings
as JSON for pages, frames and the stored scan record."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from cases.models import Case
from cases.phi import Finding, finding_key, scan_fields
from workspace.models import User

__all__ = ["KIND_LABELS", "case_phi_scan", "finding_as_dict", "phi_scan_fields"]


KIND_LABELS = {
    "name": "Name",
    "date": "Date",
    "age": "Age over 89",
    "phone": "Phone",
    "fax": "Fax",
    "email": "Email",
    "url": "Web address",
    "ip": "IP address",
    "record_number": "Record number",
    "ssn": "SSN",
    "address": "Address",
    "zip": "Postcode",
    "device_id": "Device ID",
    "vehicle_id": "Vehicle ID",
    "handle": "Social handle",
    "location": "Town or county",
    "institution": "Institution",
    "employer": "Employer",
}


def phi_scan_fields(
    fields: Mapping[str, str], *, tags: Iterable[str] = ()
) -> list[Finding]:
    """Scan text fields and the tags (as one ``"tags"`` field, comma-joined)."""
    mapping = dict(fields)
    tag_text = ", ".join(tags)
    if tag_text:
        mapping["tags"] = tag_text
    return scan_fields(mapping)


def case_phi_scan(case: Case) -> list[Finding]:
    """Findings over the case's current text fields and tags."""
    return phi_scan_fields(case.text_fields(), tags=[t.name for t in case.tags.all()])


def finding_as_dict(
    finding: Finding, *, dismissed: Collection[str] = (), text: str | None = None
) -> dict[str, Any]:
    """A JSON-ready finding. With ``text`` (the field's value), adds an excerpt.

    The excerpt is ``before``/``match``/``after`` so clients highlight the span
    without recomputing offsets (Python and JavaScript count characters
    differently).
    """
    key = finding_key(finding)
    data: dict[str, Any] = {
        "key": key,
        "field": finding.field,
        "kind": finding.kind,
        "label": KIND_LABELS.get(finding.kind, finding.kind),
        "reason": finding.reason,
        "start": finding.start,
        "end": finding.end,
        "dismissed": key in dismissed,
    }
    if text is not None:
        data["before"] = _clip_left(text[: finding.start])
        data["match"] = text[finding.start : finding.end]
        data["after"] = _clip_right(text[finding.end :])
    return data


def _clip_left(text: str, width: int = 40) -> str:
    return text if len(text) <= width else "…" + text[-width:].lstrip()


def _clip_right(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[:width].rstrip() + "…"


def _scan_record(findings: list[Finding], dismissed: Collection[str]) -> list[dict]:
    # Stored without the matched text: the span and the key are enough to
    # audit the decision, and the scan must not become a copy of identifiers.
    return [finding_as_dict(f, dismissed=dismissed) for f in findings]


ATTESTATION_FIELDS = (
    "phi_scan",
    "phi_dismissed",
    "phi_scanned_at",
    "deid_attestation",
    "attested_by",
    "attested_at",
)


def _attest(
    case: Case,
    by: User,
    findings: list[Finding],
    given: Collection[str],
    attestation: str,
    now: datetime,
) -> list[str]:
    """Store on ``case`` (unsaved) the scan, the dismissals that matched a
    finding and ``by``'s attestation, all as of ``now``; returns the fields
    set (``ATTESTATION_FIELDS``), for ``save(update_fields=...)``."""
    case.phi_scan = _scan_record(findings, given)
    case.phi_dismissed = sorted({finding_key(f) for f in findings} & set(given))
    case.phi_scanned_at = case.attested_at = now
    case.deid_attestation = attestation.strip()
    case.attested_by = by
    return list(ATTESTATION_FIELDS)


def _kinds(findings: Iterable[Finding]) -> dict[str, int]:
    return dict(Counter(f.kind for f in findings))
