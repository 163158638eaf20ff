from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import UsernameField

from .models import ClinicianProfile, Membership, Specialty, User
from .services import InviteCodeError, invite_code_check
from .time_zones import zone_canonical, zone_choices


class _SignUpBase(forms.Form):
    username = UsernameField(
        max_length=150,
        help_text="Letters, digits and @/./+/-/_ only.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Confirm password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self):
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken.")
        return username

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email already exists.")
        return email

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords do not match.")
        elif p1:
            candidate = User(
                username=data.get("username", ""),
                email=data.get("email", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
            )
            try:
                password_validation.validate_password(p1, candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ClinicianSignUpForm(_SignUpBase):
    title = forms.CharField(
        max_length=40, required=False, help_text="e.g. Dr, Prof, RN"
    )
    specialties = forms.ModelMultipleChoiceField(
        queryset=Specialty.objects.all(), required=False, widget=forms.SelectMultiple
    )
    registration_number = forms.CharField(
        max_length=64,
        required=False,
        help_text="Your professional registration. Staff verify it before you can see colleagues' cases.",
    )
    registration_body = forms.CharField(max_length=120, required=False)
    institution = forms.CharField(max_length=160, required=False)


class PatientSignUpForm(_SignUpBase):
    code = forms.CharField(
        label="Invite code",
        max_length=20,
        help_text="The code your clinician gave you, e.g. ABCD-EF23-GH45.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )
    field_order = ["code"]

    def clean_code(self):
        code = self.cleaned_data["code"]
        try:
            invite_code_check(code)
        except InviteCodeError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return code


class RedeemCodeForm(forms.Form):
    code = forms.CharField(label="Invite code", max_length=20)

    def clean_code(self):
        code = self.cleaned_data["code"]
        try:
            invite_code_check(code)
        except InviteCodeError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return code


class TimeZoneField(forms.ChoiceField):
    """A select of zones by region; blank follows the browser. Stores tzdata's
    current name (an older alias such as Asia/Calcutta becomes Asia/Kolkata)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Time zone")
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            "Times are shown in this zone. Leave it on “Follow my browser” to use "
            "the zone of the device you are on.",
        )
        super().__init__(choices=zone_choices, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return zone_canonical(value) or value

    def valid_value(self, value):
        return value == "" or zone_canonical(value) is not None


class ProfileForm(forms.ModelForm):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(
        help_text="A new address takes effect once you follow the link we send to it."
    )
    # A User field kept here so one form edits the whole profile (see the view).
    time_zone = TimeZoneField()

    class Meta:
        model = ClinicianProfile
        fields = [
            "title",
            "specialties",
            "registration_number",
            "registration_body",
            "institution",
        ]


class PatientProfileForm(forms.ModelForm):
    # Not a model field: a new address waits for confirmation (see the view).
    email = forms.EmailField(
        help_text="A new address takes effect once you follow the link we send to it."
    )

    time_zone = TimeZoneField()

    class Meta:
        model = User
        fields = ["first_name", "last_name", "time_zone"]


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class WorkspaceInviteForm(forms.Form):
    who = forms.CharField(
        label="Username or email",
        max_length=254,
        help_text="A colleague's username or email.",
    )
    role = forms.ChoiceField(
        choices=Membership.Role.choices, initial=Membership.Role.MEMBER
    )


class PatientInviteForm(forms.Form):
    note = forms.CharField(
        max_length=120,
        required=False,
        label="Private note",
        help_text="Only you see this, e.g. clinic date. Avoid full names.",
    )
