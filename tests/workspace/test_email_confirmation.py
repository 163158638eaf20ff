"""Confirmed, unique e-mail addresses, and invitations that resolve only to them."""

import re
from datetime import timedelta
from importlib import import_module

import pytest
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from workspace import email_addresses, services
from workspace.models import AuditEvent, Membership, User, WorkspaceInvitation

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a-Long-unusual-passphrase-42"


@pytest.fixture
def mail(mailoutbox, django_capture_on_commit_callbacks):
    """Run on-commit callbacks (the e-mail task) inside the block; return the outbox."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    run.outbox = mailoutbox
    return run


def _link(message) -> str:
    return re.search(
        r"(?:https?://testserver)?(/accounts/email/confirm/\S+/)", message.body
    )[1]


@pytest.fixture
def team(make_clinician, make_workspace):
    owner = make_clinician("owner")
    return make_workspace("Cardiology", members={owner: "owner"}), owner


# --- Uniqueness ---------------------------------------------------------------------


def test_two_accounts_cannot_share_an_address_in_any_case(make_clinician):
    make_clinician("first", email="Shared@Example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("second", email="shared@example.ORG", password="x")
    User.objects.create_user("blank1", email="", password="x")
    User.objects.create_user("blank2", email="", password="x")  # blanks don't clash


def test_sign_up_with_an_address_taken_in_another_case_is_refused(
    client, make_clinician
):
    make_clinician("first", email="dr.who@example.org")
    response = client.post(
        reverse("signup"),
        {
            "username": "second",
            "email": "DR.WHO@example.org",
            "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert (
        "An account with this email already exists."
        in response.context["form"].errors["email"]
    )
    with pytest.raises(services.EmailTaken):
        services.clinician_sign_up(
            username="third", email="Dr.Who@Example.org", password=GOOD_PASSWORD
        )


def test_migration_keeps_a_shared_address_on_the_oldest_account_only(django_user_model):
    from django.apps import apps

    split = import_module(
        "workspace.migrations.0004_email_confirmation"
    ).split_duplicate_emails
    old = django_user_model.objects.create_user(
        "old", email="dup@example.org", password="x"
    )
    new = django_user_model.objects.create_user(
        "new", email="other@example.org", password="x"
    )
    django_user_model.objects.filter(pk=new.pk).update(
        date_joined=old.date_joined + timedelta(days=1)
    )
    # Rows as they could exist before the constraint. The test's transaction
    # rolls back the dropped index along with everything else.
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX unique_user_email_ci")
    django_user_model.objects.filter(pk=new.pk).update(email="DUP@example.org")
    split(apps, None)
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.email == "dup@example.org"
    assert (new.email, new.pending_email) == ("", "DUP@example.org")


# --- Confirmation -------------------------------------------------------------------


def test_sign_up_sends_a_signed_link_that_confirms_the_address(client, mail):
    with mail():
        response = client.post(
            reverse("signup"),
            {
                "username": "newdoc",
                "email": "newdoc@example.org",
                "password1": GOOD_PASSWORD,
                "password2": GOOD_PASSWORD,
            },
        )
    assert response.status_code == 302
    user = User.objects.get(username="newdoc")
    assert user.email == "newdoc@example.org" and user.email_confirmed_at is None
    [message] = mail.outbox
    assert message.to == ["newdoc@example.org"]
    link = _link(message)
    assert "http://testserver/accounts/email/confirm/" in message.body

    page = Client().get(link)
    assert page.status_code == 200
    assert "newdoc@example.org" in page.content.decode()
    user.refresh_from_db()
    assert user.email_confirmed_at is None  # a GET (a mail scanner) confirms nothing
    assert Client().post(link).status_code == 302
    user.refresh_from_db()
    assert user.email_confirmed
    assert AuditEvent.objects.filter(verb="account.email_confirm", actor=user).exists()


def test_patient_sign_up_also_sends_a_confirmation_link(make_clinician, mail):
    invite = services.patient_invite_create(clinician=make_clinician("gp"))
    with mail():
        services.patient_sign_up(
            code=invite.code,
            username="patty",
            email="patty@example.org",
            password=GOOD_PASSWORD,
        )
    assert mail.outbox[0].to == ["patty@example.org"]
    assert "/accounts/email/confirm/" in mail.outbox[0].body


def test_tampered_or_expired_links_are_refused_with_400(make_clinician, settings):
    user = make_clinician("doc", email_confirmed=False)
    token = email_addresses.confirmation_token(user, user.email)
    bad = Client().post(reverse("email_confirm", args=[token[:-2] + "xx"]))
    assert bad.status_code == 400
    assert "not valid" in bad.content.decode()
    forged = signing.dumps({"u": user.pk, "e": user.email}, salt="another-salt")
    assert Client().post(reverse("email_confirm", args=[forged])).status_code == 400
    settings.EMAIL_CONFIRM_MAX_AGE_DAYS = 0
    expired = Client().post(reverse("email_confirm", args=[token]))
    assert expired.status_code == 400 and "expired" in expired.content.decode()
    user.refresh_from_db()
    assert user.email_confirmed_at is None


def test_profile_change_waits_for_confirmation_of_the_new_address(
    make_clinician, client, mail
):
    user = make_clinician("mover", email="old@example.org")
    client.force_login(user)
    with mail():
        response = client.post(
            reverse("profile"), {"email": "new@example.org", "first_name": "Mo"}
        )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.email, user.pending_email) == ("old@example.org", "new@example.org")
    assert user.email_confirmed and user.first_name == "Mo"
    [message] = mail.outbox
    assert message.to == ["new@example.org"]
    assert "new@example.org" in client.get(reverse("profile")).content.decode()

    assert client.post(_link(message)).status_code == 302
    user.refresh_from_db()
    assert (user.email, user.pending_email) == ("new@example.org", "")
    assert user.email_confirmed


def test_patient_profile_change_also_waits_for_confirmation(make_patient, client, mail):
    patient = make_patient("patty")
    client.force_login(patient)
    with mail():
        client.post(
            reverse("profile"),
            {"email": "patty.new@example.org", "first_name": "P", "last_name": "Q"},
        )
    patient.refresh_from_db()
    assert patient.email == "patty@example.org"
    assert patient.pending_email == "patty.new@example.org"
    assert mail.outbox[0].to == ["patty.new@example.org"]


def test_profile_cannot_take_an_address_another_account_holds(make_clinician, client):
    make_clinician("holder", email="taken@example.org", email_confirmed=False)
    user = make_clinician("grabber")
    client.force_login(user)
    response = client.post(reverse("profile"), {"email": "TAKEN@example.org"})
    assert response.status_code == 200
    assert (
        "An account with this email already exists."
        in response.context["form"].errors["email"]
    )
    user.refresh_from_db()
    assert user.pending_email == ""


def test_a_pending_address_another_account_confirmed_first_cannot_be_confirmed(
    make_clinician, mail
):
    slow = make_clinician("slow")
    with mail():
        email_addresses.email_change_request(user=slow, address="contested@example.org")
    fast = make_clinician("fast")
    with mail():
        email_addresses.email_change_request(user=fast, address="contested@example.org")
    email_addresses.email_confirm(token=_link(mail.outbox[1]).split("/")[-2])
    with pytest.raises(email_addresses.EmailError, match="Another account"):
        email_addresses.email_confirm(token=_link(mail.outbox[0]).split("/")[-2])
    slow.refresh_from_db()
    assert slow.email == "slow@example.org"


def test_resend_sends_a_new_link_and_is_throttled(make_clinician, client, mail):
    user = make_clinician("resender", email_confirmed=False)
    client.force_login(user)
    with mail():
        first = client.post(reverse("email_confirmation_resend"), follow=True)
        second = client.post(reverse("email_confirmation_resend"), follow=True)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    assert "We sent a new confirmation link" in first.content.decode()
    assert "less than a minute ago" in second.content.decode()


def test_resend_for_a_confirmed_address_says_so(make_clinician, client, mail):
    client.force_login(make_clinician("done"))
    with mail():
        response = client.post(reverse("email_confirmation_resend"), follow=True)
    assert "already confirmed" in response.content.decode()
    assert mail.outbox == []


# --- Invitations ------------------------------------------------------------------


def test_profile_email_set_to_an_address_about_to_be_invited_hijacks_nothing(
    team, make_clinician, client, mail
):
    """The reported attack: type the invitee's address into your own profile."""
    ws, owner = team
    attacker = make_clinician("attacker")
    client.force_login(attacker)
    with mail():
        client.post(reverse("profile"), {"email": "victim@hospital.org"})
        outcome = services.workspace_invite(
            workspace=ws, by=owner, who="victim@hospital.org"
        )
    invitation = outcome.invitation
    assert invitation.invitee is None and invitation.email == "victim@hospital.org"
    assert not attacker.notifications.filter(kind="workspace_invite").exists()
    invite_mail = [m for m in mail.outbox if "Join Cardiology" in m.subject]
    assert [m.to for m in invite_mail] == [["victim@hospital.org"]]
    assert invitation.token in invite_mail[0].body
    client.force_login(attacker)
    assert (
        invitation.token not in client.get(reverse("workspace_list")).content.decode()
    )


def test_unconfirmed_address_on_an_account_does_not_resolve_to_it(
    team, make_clinician, mail
):
    ws, owner = team
    unconfirmed = make_clinician(
        "unsure", email="unsure@example.org", email_confirmed=False
    )
    with mail():
        outcome = services.workspace_invite(
            workspace=ws, by=owner, who="Unsure@example.org"
        )
    assert outcome.invitation.invitee is None
    assert not unconfirmed.notifications.exists()
    assert mail.outbox[0].to == ["Unsure@example.org"]


def test_confirmed_address_resolves_to_its_account(team, make_clinician, mail):
    ws, owner = team
    confirmed = make_clinician("sure", email="sure@example.org")
    with mail():
        outcome = services.workspace_invite(
            workspace=ws, by=owner, who="SURE@example.org"
        )
    assert outcome.invitation.invitee == confirmed
    assert confirmed.notifications.filter(kind="workspace_invite").exists()
    assert mail.outbox[0].to == ["sure@example.org"]


def test_a_username_that_looks_like_an_address_does_not_capture_its_invitations(
    team, make_clinician, mail
):
    ws, owner = team
    make_clinician("victim@hospital.org", email="squatter@example.org")
    with mail():
        outcome = services.workspace_invite(
            workspace=ws, by=owner, who="victim@hospital.org"
        )
    assert outcome.invitation.invitee is None
    assert mail.outbox[0].to == ["victim@hospital.org"]


def test_invitation_by_username_mails_only_a_confirmed_address(
    team, make_clinician, mail
):
    ws, owner = team
    make_clinician("quiet", email="quiet@example.org", email_confirmed=False)
    with mail():
        outcome = services.workspace_invite(workspace=ws, by=owner, who="quiet")
    assert outcome.invitation.invitee.username == "quiet"
    assert not outcome.emailed and mail.outbox == []


def test_an_address_invitation_is_accepted_by_whoever_logs_in_through_the_link(
    team, make_clinician, client
):
    ws, owner = team
    invitation = services.workspace_invite(
        workspace=ws, by=owner, who="newcomer@hospital.org", role="admin"
    ).invitation
    newcomer = make_clinician("newcomer", email="personal@example.org")
    client.force_login(newcomer)
    response = client.post(
        reverse("workspace_invitation", args=[invitation.token]), {"action": "accept"}
    )
    assert response.status_code == 302
    assert Membership.objects.get(workspace=ws, user=newcomer).role == "admin"
    invitation.refresh_from_db()
    assert invitation.status == WorkspaceInvitation.Status.ACCEPTED
    assert invitation.invitee == newcomer
    # Used once: nobody else joins through the same link.
    other = make_clinician("latecomer")
    with pytest.raises(services.ServiceError, match="no longer open"):
        services.workspace_invitation_respond(
            invitation=invitation, user=other, accept=True
        )


def test_confirmation_link_for_a_replaced_pending_address_no_longer_works(
    make_clinician, mail
):
    user = make_clinician("fickle")
    with mail():
        email_addresses.email_change_request(user=user, address="one@example.org")
        email_addresses.email_change_request(user=user, address="two@example.org")
    with pytest.raises(email_addresses.EmailError, match="no longer waiting"):
        email_addresses.email_confirm(token=_link(mail.outbox[0]).split("/")[-2])
    user.refresh_from_db()
    assert user.email == "fickle@example.org"
    assert timezone.now() - user.email_confirmed_at < timedelta(minutes=5)


def test_an_address_changed_by_staff_in_the_admin_is_no_longer_confirmed(
    admin_client, make_clinician
):
    user = make_clinician("edited", email="before@example.org")
    page = admin_client.get(f"/admin/workspace/user/{user.pk}/change/")
    form = page.context["adminform"].form
    data = {
        name: form.initial.get(name) or ""
        for name in form.fields
        if name not in {"password", "groups", "user_permissions", "last_login"}
    }
    data.update(
        email="after@example.org",
        date_joined_0=user.date_joined.strftime("%Y-%m-%d"),
        date_joined_1=user.date_joined.strftime("%H:%M:%S"),
        is_active="on",
        **{
            "clinician_profile-TOTAL_FORMS": "1",
            "clinician_profile-INITIAL_FORMS": "1",
            "clinician_profile-MIN_NUM_FORMS": "0",
            "clinician_profile-MAX_NUM_FORMS": "1",
            "clinician_profile-0-id": str(user.clinician_profile.pk),
            "clinician_profile-0-user": str(user.pk),
        },
    )
    data.pop("date_joined", None)
    response = admin_client.post(f"/admin/workspace/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.email == "after@example.org"
    assert user.email_confirmed_at is None
