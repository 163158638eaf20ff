"""The e-mail preferences form: only the kinds that apply to the user."""

from __future__ import annotations

from django import forms
from django.conf import settings

from workspace.models import User

from .models import CLINICIAN_KINDS, PATIENT_KINDS, EmailPreference


class EmailPreferenceForm(forms.ModelForm):
    class Meta:
        model = EmailPreference
        fields = [
            "consult_assigned",
            "consult_accepted",
            "consult_answered",
            "consult_due_soon",
            "consult_overdue",
            "mention",
            "digest_minutes",
            "submission_reply",
            "unsubscribed_all",
        ]

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        kinds = PATIENT_KINDS if user.is_patient else CLINICIAN_KINDS
        keep = {str(kind) for kind in kinds} | {"unsubscribed_all"}
        if not user.is_patient:
            keep.add("digest_minutes")
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if "digest_minutes" in self.fields:
            default = settings.NOTIFICATION_DIGEST_MINUTES
            self.fields["digest_minutes"] = forms.TypedChoiceField(
                label="E-mail mentions still unread",
                choices=[("", f"after {default} minutes (the default)")]
                + [(str(v), label) for v, label in EmailPreference.DIGEST_CHOICES],
                coerce=int,
                empty_value=None,
                required=False,
                initial=self.instance.digest_minutes,
                help_text="Only while you have no Consilium page open; one e-mail "
                "lists every unread mention since the last.",
            )
        self.fields[
            "unsubscribed_all"
        ].help_text = (
            "Overrides the choices above. Notifications still appear in Consilium."
        )
