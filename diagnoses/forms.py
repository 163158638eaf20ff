"""Forms of the diagnoses app."""

from __future__ import annotations

from django import forms

from diagnoses.models import Differential

__all__ = ["ResolveForm"]


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
