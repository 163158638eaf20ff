"""Forms for case pages: parse and validate input; services do the rest."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.text import slugify

from cases.models import AgeBand, Case, Sex
from cases.selectors import Feed
from cases.services.cases import (
    CONTENT_FIELDS,
    DEFAULT_ATTESTATION,
    INVITABLE_ROLES,
    MAX_TAGS,
    SHARING_FIELDS,
)
from workspace.email_addresses import looks_like_email, user_by_confirmed_email
from workspace.models import Membership, Specialty, User, Workspace

__all__ = [
    "MARKDOWN_HELP",
    "CaseFilterForm",
    "CaseForm",
    "InviteForm",
    "RoleForm",
]

_KEY = re.compile(r"[0-9a-f]{64}")
LONG_TEXT = 20_000
MARKDOWN_HELP = (
    "The text fields take Markdown: **bold**, *italic*, lists and tables "
    "(no images or raw HTML)."
)


def _textarea(rows: int, placeholder: str = "") -> forms.Textarea:
    attrs: dict[str, Any] = {"rows": rows}
    if placeholder:
        attrs["placeholder"] = placeholder
    return forms.Textarea(attrs=attrs)


def _split_tags(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n]", value or "") if part.strip()]


class CaseForm(forms.Form):
    """Create or edit a case; also carries the PHI dismissals and attestation.

    ``intent`` is "save" (save a draft or an edit), "publish" (save then
    publish) or "autosave". Publishing and editing a case others can already
    see both need the attestation box ticked. Only the owner sees the
    visibility and workspace fields.
    """

    title = forms.CharField(
        max_length=200,
        error_messages={"required": "Give the case a title."},
        help_text="A short clinical summary, e.g. “Annular rash after a hiking trip”. "
        "No names, places or dates.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    specialty = forms.ModelChoiceField(
        queryset=Specialty.objects.all(),
        required=False,
        empty_label="Choose a specialty…",
    )
    age_band = forms.ChoiceField(
        choices=[("", "Choose an age band…"), *AgeBand.choices],
        required=False,
        label="Age band",
        help_text="A band only: never an exact age or a date of birth.",
    )
    sex = forms.ChoiceField(choices=Sex.choices, initial=Sex.UNKNOWN)
    presenting_complaint = forms.CharField(
        max_length=2000,
        required=False,
        widget=_textarea(3, "What brought the patient in, in a sentence or two."),
    )
    history = forms.CharField(
        max_length=LONG_TEXT,
        required=False,
        widget=_textarea(8),
    )
    examination = forms.CharField(
        max_length=LONG_TEXT,
        required=False,
        widget=_textarea(6),
    )
    investigations = forms.CharField(
        max_length=LONG_TEXT,
        required=False,
        widget=_textarea(6),
    )
    working_notes = forms.CharField(
        max_length=LONG_TEXT,
        required=False,
        widget=_textarea(5),
        label="Working notes",
        help_text="Your reasoning so far and the question for colleagues.",
    )
    tags = forms.CharField(
        max_length=400,
        required=False,
        help_text=f"Up to {MAX_TAGS}, separated by commas, e.g. “rash, travel”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    visibility = forms.ChoiceField(
        choices=Case.Visibility.choices,
        initial=Case.Visibility.PRIVATE,
        widget=forms.RadioSelect,
        label="Who may see it once published",
    )
    workspace = forms.ModelChoiceField(
        queryset=Workspace.objects.none(),
        required=False,
        empty_label="No workspace",
        help_text="Required for workspace visibility.",
    )
    attest = forms.BooleanField(
        required=False, label="I attest that this case is de-identified."
    )
    attestation = forms.CharField(
        required=False,
        max_length=2000,
        widget=_textarea(4),
        initial=DEFAULT_ATTESTATION,
        label="Attestation",
    )

    def __init__(
        self,
        data=None,
        *,
        user: User,
        case: Case | None = None,
        intent: str = "save",
        **kwargs,
    ):
        self.user = user
        self.case = case
        self.intent = intent
        if case is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(case)
        super().__init__(data, **kwargs)
        owner = case.owner if case is not None else user
        self.can_share = case is None or case.owner_id == user.pk
        if self.can_share:
            self.fields["workspace"].queryset = Workspace.objects.filter(
                pk__in=Membership.objects.filter(user=owner).values("workspace_id")
            )
        else:
            for name in SHARING_FIELDS:
                del self.fields[name]
        if self.needs_attestation:
            self.fields["attest"].label = (
                "I attest that this case is de-identified."
                if self.intent == "publish"
                else "I confirm the edited case is still de-identified."
            )

    @staticmethod
    def initial_for(case: Case) -> dict[str, Any]:
        initial = {
            name: getattr(case, name) for name in CONTENT_FIELDS if name != "tags"
        }
        initial["specialty"] = case.specialty_id
        initial["workspace"] = case.workspace_id
        initial["visibility"] = case.visibility
        initial["tags"] = ", ".join(t.name for t in case.tags.all())
        return initial

    @property
    def needs_attestation(self) -> bool:
        if self.intent == "publish":
            return True
        return (
            self.case is not None and not self.case.is_draft and self.intent == "save"
        )

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise forms.ValidationError("Give the case a title.")
        return title

    def clean_tags(self) -> list[str]:
        names = _split_tags(self.cleaned_data["tags"])
        if len(names) > MAX_TAGS:
            raise forms.ValidationError(f"Use at most {MAX_TAGS} tags.")
        for name in names:
            if len(name) > 40:
                raise forms.ValidationError(
                    f"“{name[:20]}…” is too long: keep each tag under 40 characters."
                )
            if not slugify(name, allow_unicode=True):
                raise forms.ValidationError(
                    f"“{name}” needs at least one letter or digit."
                )
        return names

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        wants_workspace = data.get("visibility") == Case.Visibility.WORKSPACE
        if self.can_share and wants_workspace and not data.get("workspace"):
            self.add_error(
                "workspace", "Choose the workspace whose members may see the case."
            )
        if self.needs_attestation:
            if not data.get("attest"):
                self.add_error("attest", "Tick the box to attest before publishing.")
            if not (data.get("attestation") or "").strip():
                self.add_error("attestation", "Write or keep the attestation text.")
        return data

    @property
    def dismissed(self) -> set[str]:
        """Finding keys ticked as "not identifying" (well-formed ones only)."""
        if not self.is_bound:
            return set(self.case.phi_dismissed) if self.case else set()
        return {k for k in self.data.getlist("dismiss") if _KEY.fullmatch(k)}

    def changes(self) -> dict[str, Any]:
        """The service's ``changes``: content fields, and sharing for the owner."""
        names = list(CONTENT_FIELDS) + (list(SHARING_FIELDS) if self.can_share else [])
        return {name: self.cleaned_data[name] for name in names if name in self.fields}

    def raw_text(self) -> tuple[dict[str, str], list[str]]:
        """The text as typed (valid or not), for scanning and highlighting."""
        if self.is_bound:
            fields = {name: self.data.get(name, "") for name in Case.TEXT_FIELDS}
            return fields, _split_tags(self.data.get("tags", ""))
        if self.case is not None:
            return self.case.text_fields(), [t.name for t in self.case.tags.all()]
        return dict.fromkeys(Case.TEXT_FIELDS, ""), []


class CaseFilterForm(forms.Form):
    """Feed, filters and search for the case list; bad values are ignored."""

    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Search titles and notes"}
        ),
    )
    feed = forms.ChoiceField(choices=Feed.choices, required=False)
    specialty = forms.ModelChoiceField(
        queryset=Specialty.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label="Any specialty",
    )
    tag = forms.CharField(required=False, max_length=60)
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Case.Status.choices], required=False
    )
    age_band = forms.ChoiceField(
        choices=[("", "Any age"), *AgeBand.choices], required=False, label="Age band"
    )

    def clean_tag(self) -> str:
        # A slug, not a lookup: whether a tag exists at all (perhaps only on
        # cases this user may not see) must not show.
        return slugify(self.cleaned_data["tag"].strip(), allow_unicode=True)


class InviteForm(forms.Form):
    who = forms.CharField(
        max_length=254,
        label="Colleague",
        help_text=(
            "Their username, or an email address: unless a verified clinician "
            "confirmed that address, it gets a one-use invitation link."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        choices=[(r.value, r.label) for r in INVITABLE_ROLES],
        help_text="Collaborators edit; consultants comment and vote; viewers read.",
    )

    def clean_who(self) -> User | str:
        """A verified clinician, or an address to send a token link to.

        An address resolves to an account only if that account confirmed it,
        so nobody receives an invitation by putting someone's address in
        their profile.
        """
        who = self.cleaned_data["who"].strip()
        if looks_like_email(who):
            address = forms.EmailField().clean(who)
            user = user_by_confirmed_email(address)
            if user is not None and user.is_verified_clinician:
                return user
            return address
        user = (
            User.objects.filter(username__iexact=who.lstrip("@"))
            .select_related("clinician_profile")
            .first()
        )
        if user is None or not user.is_verified_clinician:
            raise forms.ValidationError(
                "No verified clinician has that username. Invite them by email instead."
            )
        return user


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=[(r.value, r.label) for r in INVITABLE_ROLES])
