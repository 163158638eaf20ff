"""Forms of the diagnoses app: the differential panel's (an entry, a vote, a
decision, the working order, independent mode, asking to join) and resolving
the case. ``Icd10Field`` is also the consult answer's suggestion code field.
"""

from __future__ import annotations

from django import forms

from diagnoses import icd10
from diagnoses.models import Differential
from diagnoses.services import MAX_LABEL, MAX_RATIONALE

__all__ = [
    "DecisionForm",
    "DifferentialEditForm",
    "DifferentialForm",
    "Icd10Field",
    "IndependentForm",
    "JoinForm",
    "ReorderForm",
    "ResolveForm",
    "VoteForm",
]


class Icd10Field(forms.CharField):
    def to_python(self, value):
        return icd10.normalise_icd10(super().to_python(value))

    def validate(self, value):
        super().validate(value)
        icd10.validate_icd10(value)


class DifferentialForm(forms.Form):
    label = forms.CharField(
        label="Diagnosis",
        max_length=MAX_LABEL,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    icd10_code = Icd10Field(
        label="ICD-10 code",
        required=False,
        max_length=12,
        help_text="For example J18.9. Start typing a diagnosis or code for suggestions.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    rationale = forms.CharField(
        required=False,
        max_length=MAX_RATIONALE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why it fits, or what would confirm or exclude it.",
    )
    likelihood = forms.IntegerField(
        label="Your likelihood (0–100)",
        required=False,
        min_value=0,
        max_value=100,
        help_text="Optional: shown as the proposer's estimate.",
    )


class DifferentialEditForm(DifferentialForm):
    likelihood = None


class VoteForm(forms.Form):
    # Only the likelihood is read: the voter is always the signed-in user.
    likelihood = forms.IntegerField(required=False, min_value=0, max_value=100)
    withdraw = forms.BooleanField(required=False)


class DecisionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("rule_out", "Rule out"),
            ("reconsider", "Reconsider"),
            ("confirm", "Confirm"),
        ],
        widget=forms.HiddenInput,
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=MAX_RATIONALE,
        help_text="Why it was ruled out or how it was confirmed. Everyone on the "
        "case reads it.",
    )
    resolve_case = forms.BooleanField(label="Also resolve the case", required=False)


class ReorderForm(forms.Form):
    order = forms.CharField(required=False)
    move = forms.IntegerField(required=False)
    direction = forms.ChoiceField(
        required=False, choices=[("up", "Up"), ("down", "Down")]
    )

    def clean_order(self):
        raw = self.cleaned_data["order"].strip()
        if not raw:
            return None
        try:
            return [int(part) for part in raw.split(",") if part.strip()]
        except ValueError as exc:
            raise forms.ValidationError(
                "Send the ids as a comma-separated list."
            ) from exc

    def clean(self):
        data = super().clean()
        if data.get("order") is None and not (
            data.get("move") and data.get("direction")
        ):
            raise forms.ValidationError("Say which entry moves where.")
        return data


class IndependentForm(forms.Form):
    independent = forms.BooleanField(required=False)


class JoinForm(forms.Form):
    message = forms.CharField(
        label="Message to the owner", required=False, max_length=500
    )


class ResolveForm(forms.Form):
    confirmed = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Confirmed diagnosis on the differential",
        empty_label="None of the listed diagnoses",
        help_text="Linking it confirms that entry and scores everyone's "
        "likelihoods against it (their track record).",
    )
    final_diagnosis = forms.CharField(
        max_length=200,
        required=False,
        label="Final diagnosis",
        help_text="Shown to everyone who can see the case. Left empty, the "
        "linked diagnosis is used.",
    )

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)

        qs = Differential.objects.none()
        if case is not None:
            qs = Differential.objects.filter(case=case).exclude(
                status=Differential.Status.RULED_OUT
            )
        self.fields["confirmed"].queryset = qs

    def clean(self):
        data = super().clean()
        if not data.get("final_diagnosis") and not data.get("confirmed"):
            self.add_error(
                "final_diagnosis",
                "Enter the final diagnosis or link one from the differential.",
            )
        return data
