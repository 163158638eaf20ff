from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from workspace import services
from workspace.models import AuditEvent, CareLink, ClinicianProfile, PatientInvite, User

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a-Long-unusual-passphrase-42"


def signup_data(**overrides):
    data = {
        "username": "newdoc",
        "first_name": "New",
        "last_name": "Doctor",
        "email": "newdoc@example.org",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
        "registration_number": "GMC1234567",
    }
    data.update(overrides)
    return data


def test_clinician_sign_up_creates_unverified_pending_profile_and_logs_in(client):
    response = client.post(reverse("signup"), signup_data())
    assert response.status_code == 302
    user = User.objects.get(username="newdoc")
    assert user.is_clinician
    assert user.clinician_profile.verification == ClinicianProfile.Verification.PENDING
    assert not user.is_verified_clinician
    assert client.get(reverse("home")).context["user"] == user
    assert AuditEvent.objects.filter(verb="account.sign_up", actor=user).exists()


def test_sign_up_rejects_mismatched_passwords_and_taken_username(
    client, make_clinician
):
    make_clinician("taken")
    response = client.post(
        reverse("signup"),
        signup_data(username="taken", password2="something-else-entirely"),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "That username is taken." in errors["username"]
    assert "The two passwords do not match." in errors["password2"]
    assert not User.objects.filter(email="newdoc@example.org").exists()


def test_sign_up_rejects_weak_password(client):
    response = client.post(
        reverse("signup"), signup_data(password1="password", password2="password")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]


def test_login_and_logout_at_standard_urls(client, make_clinician):
    make_clinician("logme")
    response = client.post(
        reverse("login"),
        {"username": "logme", "password": "correct-horse-battery-staple"},
    )
    assert response.status_code == 302
    assert client.get(reverse("profile")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("profile")).status_code == 302


def test_password_reset_sends_an_email(client, make_clinician, mailoutbox):
    make_clinician("forgetful", email="forgetful@example.org")
    response = client.post(
        reverse("password_reset"), {"email": "forgetful@example.org"}
    )
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/accounts/reset/" in mailoutbox[0].body


@pytest.fixture
def invite(make_clinician):
    return services.patient_invite_create(clinician=make_clinician("doc"))


def patient_data(code, **overrides):
    data = {
        "code": code,
        "username": "patty",
        "email": "patty@example.org",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
    }
    data.update(overrides)
    return data


def test_patient_signs_up_with_invite_code_and_is_linked(client, invite):
    # Codes are accepted however the patient types them.
    typed = invite.code.replace("-", " ").lower()
    response = client.post(reverse("signup_patient"), patient_data(typed))
    assert response.status_code == 302
    patient = User.objects.get(username="patty")
    assert patient.is_patient
    assert CareLink.objects.filter(patient=patient, clinician=invite.clinician).exists()
    invite.refresh_from_db()
    assert invite.used_by == patient
    assert invite.clinician.notifications.filter(title__contains="joined").exists()


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ("wrong", "not valid"),
        ("used", "already been used"),
        ("expired", "has expired"),
    ],
)
def test_bad_invite_codes_get_clear_errors(client, invite, scenario, message):
    code = invite.code
    if scenario == "wrong":
        code = "AAAA-BBBB-CCCC"
    elif scenario == "used":
        invite.used_at = timezone.now()
        invite.save()
    else:
        PatientInvite.objects.filter(pk=invite.pk).update(
            expires_at=timezone.now() - timedelta(days=1)
        )
    response = client.post(reverse("signup_patient"), patient_data(code))
    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].errors["code"])
    assert not User.objects.filter(username="patty").exists()


def test_a_code_cannot_be_redeemed_twice(invite):
    services.patient_sign_up(
        code=invite.code, username="p1", email="p1@x.org", password=GOOD_PASSWORD
    )
    with pytest.raises(services.InviteCodeError):
        services.patient_sign_up(
            code=invite.code, username="p2", email="p2@x.org", password=GOOD_PASSWORD
        )
    assert not get_user_model().objects.filter(username="p2").exists()


def test_staff_verification_is_audited_and_notifies(make_clinician, admin_user, client):
    doc = make_clinician("unver", verified=False)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:workspace_clinicianprofile_changelist"),
        {"action": "verify", "_selected_action": [doc.clinician_profile.pk]},
    )
    assert response.status_code == 302
    doc.refresh_from_db()
    assert doc.is_verified_clinician
    assert doc.clinician_profile.verified_by == admin_user
    assert AuditEvent.objects.filter(verb="clinician.verify", actor=admin_user).exists()
    assert doc.notifications.filter(kind="verification").exists()


def test_only_staff_can_verify(make_clinician):
    doc = make_clinician("a", verified=False)
    other = make_clinician("b")
    with pytest.raises(services.PermissionDenied):
        services.clinician_verify(profile=doc.clinician_profile, by=other)


def test_changing_registration_number_drops_verification(client, make_clinician):
    doc = make_clinician("verified")
    client.force_login(doc)
    response = client.post(
        reverse("profile"),
        {"title": "Dr", "registration_number": "NEW999", "email": "v@example.org"},
    )
    assert response.status_code == 302
    doc.refresh_from_db()
    assert not doc.is_verified_clinician


def test_patients_cannot_open_clinician_pages(client, make_patient):
    client.force_login(make_patient())
    for name in ["workspace_list", "patient_list"]:
        assert client.get(reverse(name)).status_code == 403


def test_clinician_creates_patient_invite_code(client, make_clinician):
    doc = make_clinician("inviter")
    client.force_login(doc)
    response = client.post(
        reverse("patient_list"), {"note": "Tuesday clinic"}, follow=True
    )
    invite = PatientInvite.objects.get(clinician=doc)
    assert invite.code in response.content.decode()
    assert not invite.is_expired


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Unverified clinicians and invite codes --------------------------------------------


def test_unverified_clinician_cannot_create_an_invite_code(client, make_clinician):
    uma = make_clinician("uma", verified=False)
    client.force_login(uma)

    response = client.post(reverse("patient_list"), {"note": "Tuesday clinic"})

    assert response.status_code == 403
    assert "Until staff verify it" in response.content.decode()
    assert not PatientInvite.objects.filter(clinician=uma).exists()
    with pytest.raises(services.PermissionDenied, match="verified"):
        services.patient_invite_create(clinician=uma)
    assert not PatientInvite.objects.exists()


def test_unverified_clinician_sees_why_there_is_no_invite_button(
    client, make_clinician
):
    client.force_login(make_clinician("uma", verified=False))

    body = client.get(reverse("patient_list")).content.decode()

    assert "Create invite code" not in body
    assert "data-verification-needed" in body
    assert reverse("profile") in body


def test_verified_clinician_sees_the_invite_button(client, make_clinician):
    client.force_login(make_clinician("vera"))

    body = client.get(reverse("patient_list")).content.decode()

    assert "Create invite code" in body
    assert "data-verification-needed" not in body


def test_a_code_from_a_clinician_who_lost_verification_cannot_be_redeemed(
    client, invite
):
    ClinicianProfile.objects.filter(user=invite.clinician).update(
        verification=ClinicianProfile.Verification.UNVERIFIED
    )

    response = client.post(
        reverse("signup_patient"), patient_data(invite.code), follow=True
    )

    assert "waiting for verification" in response.content.decode()
    assert not CareLink.objects.exists()


def test_patient_asking_for_verification_gets_403_not_a_crash(make_patient):
    from django.test import Client

    patient = make_patient()
    client = Client(raise_request_exception=False)
    client.force_login(patient)
    response = client.post(reverse("request_verification"))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(verb="clinician.verification_request").exists()


def test_verification_request_service_refuses_patients_with_a_message(make_patient):
    with pytest.raises(services.ServiceError, match="Only clinicians"):
        services.verification_request(user=make_patient())
