"""Forms of the consults app: requesting a consult, answering it (with
suggested diagnoses), declining, closing and cancelling it.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone

from consults.models import ConsultRequest
from consults.services import MAX_TEXT
from diagnoses.forms import Icd10Field
from workspace.email_addresses import user_lookup
from workspace.models import Specialty, User

__all__ = [
    "AnswerForm",
    "CancelForm",
    "CloseForm",
    "ConsultRequestForm",
    "DeclineForm",
    "SuggestionForm",
    "SuggestionFormSet",
]


class ConsultRequestForm(forms.Form):
    specialty = forms.ModelChoiceField(
        queryset=Specialty.objects.all(),
        required=False,
        empty_label="Choose a specialty",
        help_text="Every verified clinician in the specialty sees the request in "
        "their queue.",
    )
    assignee = forms.CharField(
        label="Named specialist",
        required=False,
        max_length=150,
        help_text="Their username, to ask one person. Leave empty to ask the "
        "specialty.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "list": "consult-colleagues",
            }
        ),
    )
    question = forms.CharField(
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What do you want to know? Markdown works. No identifiers.",
    )
    urgency = forms.ChoiceField(
        choices=ConsultRequest.Urgency.choices,
        initial=ConsultRequest.Urgency.ROUTINE,
        widget=forms.RadioSelect,
        help_text="Sets the default due time: routine 72 hours, urgent 24 hours, "
        "emergent 1 hour.",
    )
    due_at = forms.DateTimeField(
        label="Due",
        required=False,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        help_text="Leave empty for the default from the urgency.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()
        self.fields["due_at"].help_text += f" Times are {zone}."

    def clean_assignee(self) -> User | None:
        who = self.cleaned_data["assignee"].strip().lstrip("@")
        if not who:
            return None
        # An address counts only once its account confirmed it.
        user = user_lookup(who)
        if user is None or not user.is_clinician:
            raise forms.ValidationError("No clinician with that username or email.")
        return user

    def clean(self):
        data = super().clean()
        if not data.get("specialty") and not data.get("assignee") and not self.errors:
            self.add_error("specialty", "Choose a specialty or name a specialist.")
        return data


class SuggestionForm(forms.Form):
    label = forms.CharField(label="Diagnosis", required=False, max_length=200)
    icd10_code = Icd10Field(label="ICD-10 code", required=False, max_length=12)
    likelihood = forms.IntegerField(
        label="Likelihood (0–100)", required=False, min_value=0, max_value=100
    )
    rationale = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        data = super().clean()
        if not data.get("label") and (
            data.get("icd10_code") or data.get("rationale") or data.get("likelihood")
        ):
            self.add_error("label", "Name the diagnosis.")
        return data


SuggestionFormSet = forms.formset_factory(
    SuggestionForm, extra=3, max_num=10, validate_max=True
)


class AnswerForm(forms.Form):
    impression = forms.CharField(
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Your overall impression. Markdown works.",
    )
    recommendations = forms.CharField(
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Investigations, treatment, referrals.",
    )
    follow_up = forms.CharField(
        label="Follow-up",
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="When and how to follow up, and what should prompt a re-consult.",
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Reason for declining",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The requester sees this, e.g. “Better suited to rheumatology”.",
    )


class CloseForm(forms.Form):
    keep_consultant = forms.BooleanField(
        label="Keep the specialist on the case as a consultant",
        required=False,
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label="Reason (optional)", required=False, max_length=2000)
