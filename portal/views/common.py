"""What the portal's and the inbox's views share."""

from __future__ import annotations

from django import forms
from django.http import JsonResponse


def form_errors_json(form: forms.Form, status: int = 400) -> JsonResponse:
    """An invalid form, for a JSON caller: ``{"ok": false, "errors": {field:
    [message, ...]}}`` (non-field errors under ``__all__``)."""
    return JsonResponse(
        {
            "ok": False,
            "errors": {
                name: [error["message"] for error in errors]
                for name, errors in form.errors.get_json_data().items()
            },
        },
        status=status,
    )
