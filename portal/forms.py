"""Forms of the patient portal and the clinician's submission inbox.

They parse and bound input; the rules (care links, consent, transitions,
case permissions) are the services' (``portal.services``).
"""

from __future__ import annotations

from django import forms

from portal.models import FindingLink, Submission
from portal.services import CONSENT_TEXT, MAX_DESCRIPTION, MAX_NOTE
from workspace.models import User


class ClinicianChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        profile = getattr(obj, "clinician_profile", None)
        title = f"{profile.title} " if profile and profile.title else ""
        return f"{title}{obj.display_name}"


class SubmissionForm(forms.Form):
    clinician = ClinicianChoiceField(
        queryset=User.objects.none(), label="Send to", empty_label=None
    )
    file = forms.FileField(
        label="Photo or video",
        required=False,
        help_text="Take one now or choose one from your phone. Large videos are fine.",
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/*,video/*", "data-portal-file": ""}
        ),
    )
    asset = forms.IntegerField(required=False, widget=forms.HiddenInput)
    link = forms.CharField(
        label="Link to a post or video",
        required=False,
        max_length=2048,
        help_text="TikTok, YouTube, Instagram, Reddit, X, Facebook or any website.",
        widget=forms.TextInput(
            attrs={
                "inputmode": "url",
                "autocomplete": "off",
                "autocapitalize": "off",
                "spellcheck": "false",
                "placeholder": "https://",
                "data-portal-link": "",
            }
        ),
    )
    description = forms.CharField(
        label="What did you notice, and when?",
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(
            attrs={
                "rows": 4,
                "placeholder": "e.g. The rash on my arm spread over the weekend; "
                "this video is from Sunday morning.",
            }
        ),
    )
    consent = forms.BooleanField(label=CONSENT_TEXT, required=False)

    def __init__(self, *args, clinicians: list[User], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["clinician"]
        field.queryset = User.objects.filter(
            pk__in=[c.pk for c in clinicians]
        ).select_related("clinician_profile")
        if len(clinicians) == 1:
            field.initial = clinicians[0].pk
            field.widget = forms.HiddenInput()


class RateForm(forms.Form):
    credibility = forms.ChoiceField(
        label="How credible is it?",
        choices=[
            c
            for c in Submission.Credibility.choices
            if c[0] != Submission.Credibility.UNRATED
        ],
        widget=forms.RadioSelect,
    )
    credibility_note = forms.CharField(
        label="Why (for you only)",
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReplyForm(forms.Form):
    reply = forms.CharField(
        label="Note to your patient",
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Your patient sees this on their submissions page.",
    )


class DismissForm(forms.Form):
    reply = forms.CharField(
        label="Note to your patient",
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AttachForm(forms.Form):
    differential = forms.TypedChoiceField(label="Differential", coerce=int, choices=())
    relation = forms.ChoiceField(
        label="How it relates",
        choices=FindingLink.Relation.choices,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Note for the case",
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Colleagues on the case see this. Don't include the patient's name.",
    )
    blur_faces = forms.BooleanField(
        label="Blur faces in the copy shared with the case",
        required=False,
        initial=True,
        help_text="Faces are searched for either way, and you review the copy "
        "before anyone on the case sees it; untick to keep faces sharp, which "
        "you then confirm face by face.",
    )

    def __init__(self, *args, groups, has_media: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not has_media:
            del self.fields["blur_faces"]
        self.fields["differential"].choices = [
            (case.title, [(d.pk, d.label) for d in entries]) for case, entries in groups
        ]
