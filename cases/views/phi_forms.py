"""Showing a :class:`~cases.phi_gate.PHIFound` refusal to the author.

Every service that stores shared text passes it through
:func:`cases.phi_gate.phi_gate`; the views here turn a refusal into a 4xx the
author can act on:

- HTML forms re-render with each finding listed under its field
  (``templates/cases/_phi_list.html``, the case form's markup), each with a
  "not identifying" checkbox named ``dismiss`` whose value is the finding's
  key. Re-submitting with the boxes ticked lets the text through, and the
  gate audits the dismissal.
- ``fetch`` endpoints answer :func:`phi_json`: ``{"error", "code":
  "phi_found", "findings": PHIFound.payload()}`` with 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.http import JsonResponse

from cases.phi import scan_fields
from cases.phi_gate import PHIFound
from cases.services.cases import KIND_LABELS, finding_as_dict

__all__ = ["attach_findings", "dismissed_keys", "findings_by_field", "phi_json"]

_KEY = re.compile(r"[0-9a-f]{64}")


def dismissed_keys(data: Any) -> set[str]:
    """Well-formed finding keys ticked as "not identifying" (``dismiss``)."""
    if hasattr(data, "getlist"):
        values = data.getlist("dismiss")
    else:
        values = (data or {}).get("dismiss") or []
        if isinstance(values, str):
            values = [values]
    return {v for v in values if isinstance(v, str) and _KEY.fullmatch(v)}


def findings_by_field(
    exc: PHIFound, *, dismissed: set[str] | frozenset[str] = frozenset()
) -> dict[str, list[dict]]:
    """Every finding in the refused text grouped by field, with the excerpt
    to highlight: the unresolved ones, and those already ``dismissed`` (shown
    ticked, so sending the form again keeps them dismissed)."""
    grouped: dict[str, list[dict]] = {}
    for finding in scan_fields(exc.texts) if exc.texts else exc.findings:
        text = exc.texts.get(finding.field)
        grouped.setdefault(finding.field, []).append(
            finding_as_dict(finding, dismissed=dismissed, text=text)
        )
    return grouped


def attach_findings(
    form: forms.BaseForm,
    exc: PHIFound,
    *,
    dismissed: set[str] | frozenset[str] = frozenset(),
    field_name: Callable[[str], str | None] | Mapping[str, str] | None = None,
    orphans: bool = True,
    message: bool = True,
) -> None:
    """List ``exc``'s findings under the form's fields, with the message.

    ``field_name`` maps the gate's field names to the form's (a mapping, or a
    callable returning ``None`` for a field the form does not have); a
    finding on a field the form lacks is listed with the form's errors, or
    left out with ``orphans=False`` (another form on the page shows it).
    ``message=False`` leaves the refusal's message to another form too.
    ``includes_form_fields.html`` renders a bound field's ``phi``.
    """
    if isinstance(field_name, Mapping):
        mapping = field_name
        field_name = mapping.get
    if message:
        form.add_error(None, str(exc))
    for gate_field, findings in findings_by_field(exc, dismissed=dismissed).items():
        name = field_name(gate_field) if field_name else gate_field
        if name not in form.fields:
            name = None
        if name is None:
            if not orphans:
                continue
            form.phi_orphans = [*getattr(form, "phi_orphans", []), *findings]
            continue
        bound = form[name]
        bound.phi = [*getattr(bound, "phi", []), *findings]


def phi_json(exc: PHIFound, *, status: int = 400, **extra: Any) -> JsonResponse:
    """The JSON refusal: the message, ``code: "phi_found"`` and the findings."""
    message = str(exc)
    return JsonResponse(
        {
            "ok": False,
            "error": message,
            "message": message,
            "code": "phi_found",
            # The gate's payload, with the kind's label to show.
            "findings": [
                {**f, "label": KIND_LABELS.get(f["kind"], f["kind"])}
                for f in exc.payload()
            ],
            **extra,
        },
        status=status,
    )
