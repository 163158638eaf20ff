import pytest
from django.core.management import call_command
from django.urls import reverse

from workspace import services
from workspace.models import AuditEvent, Membership, WorkspaceInvitation

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(make_clinician, make_workspace):
    owner = make_clinician("owner")
    member = make_clinician("member")
    ws = make_workspace("Cardiology", members={owner: "owner", member: "member"})
    return ws, owner, member


def test_owner_invites_existing_clinician_who_accepts(team, make_clinician, client):
    ws, owner, _ = team
    newbie = make_clinician("newbie")
    client.force_login(owner)
    response = client.post(ws.get_absolute_url(), {"who": "newbie", "role": "member"})
    assert response.status_code == 302
    invitation = WorkspaceInvitation.objects.get(workspace=ws, invitee=newbie)
    assert newbie.notifications.filter(kind="workspace_invite").exists()
    client.force_login(newbie)
    response = client.post(
        reverse("workspace_invitation", args=[invitation.token]), {"action": "accept"}
    )
    assert response.status_code == 302
    assert Membership.objects.filter(workspace=ws, user=newbie, role="member").exists()
    assert AuditEvent.objects.filter(verb="workspace.join", actor=newbie).exists()


def test_invite_by_email_sends_mail_through_a_task(
    team, mailoutbox, django_capture_on_commit_callbacks
):
    ws, owner, _ = team
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.workspace_invite(
            workspace=ws, by=owner, who="someone@hospital.org"
        )
    assert outcome.emailed
    assert mailoutbox[0].to == ["someone@hospital.org"]
    assert outcome.invitation.token in mailoutbox[0].body


def test_members_cannot_invite(team, make_clinician, client):
    ws, _, member = team
    make_clinician("target")
    client.force_login(member)
    response = client.post(ws.get_absolute_url(), {"who": "target", "role": "member"})
    assert response.status_code == 403
    assert not WorkspaceInvitation.objects.exists()


def test_invitation_for_someone_else_is_refused(team, make_clinician):
    ws, owner, _ = team
    invited = make_clinician("invited")
    intruder = make_clinician("intruder")
    invitation = services.workspace_invite(
        workspace=ws, by=owner, who="invited"
    ).invitation
    with pytest.raises(services.PermissionDenied):
        services.workspace_invitation_respond(
            invitation=invitation, user=intruder, accept=True
        )
    assert not Membership.objects.filter(workspace=ws, user=intruder).exists()
    assert invited.pk  # the real invitee is untouched


def test_patients_cannot_be_invited(team, make_patient):
    ws, owner, _ = team
    make_patient("sickperson")
    with pytest.raises(services.ServiceError, match="Only clinicians"):
        services.workspace_invite(workspace=ws, by=owner, who="sickperson")


def test_non_members_get_404_for_workspace_page(team, make_clinician, client):
    ws, _, _ = team
    client.force_login(make_clinician("outsider"))
    assert client.get(ws.get_absolute_url()).status_code == 404


def test_workspace_page_lists_members_with_constant_queries(
    team, make_clinician, client, django_assert_max_num_queries
):
    ws, owner, _ = team
    for i in range(15):
        Membership.objects.create(workspace=ws, user=make_clinician(f"extra{i}"))
    client.force_login(owner)
    with django_assert_max_num_queries(14):
        response = client.get(ws.get_absolute_url())
    assert response.content.decode().count("@extra") == 15


def test_last_owner_cannot_leave(team):
    ws, owner, _ = team
    with pytest.raises(services.PermissionDenied, match="at least one owner"):
        services.membership_remove(
            membership=Membership.objects.get(workspace=ws, user=owner), by=owner
        )


def test_creating_a_workspace_makes_creator_owner(client, make_clinician):
    doc = make_clinician("founder")
    client.force_login(doc)
    response = client.post(reverse("workspace_list"), {"name": "Neuro Club"})
    assert response.status_code == 302
    assert (
        Membership.objects.get(user=doc, workspace__name="Neuro Club").role == "owner"
    )


def test_seed_demo_is_idempotent(capsys):
    call_command("seed_demo")
    first = Membership.objects.count()
    call_command("seed_demo")
    assert Membership.objects.count() == first
    out = capsys.readouterr().out
    assert "ana" in out and "pat" in out


def test_seed_demo_users_have_confirmed_addresses_that_invitations_resolve_to():
    from workspace.email_addresses import user_by_confirmed_email
    from workspace.models import User

    call_command("seed_demo")
    for username in ["ana", "ben", "sam", "uma", "pat"]:
        user = User.objects.get(username=username)
        assert user.email_confirmed, username
    assert user_by_confirmed_email("BEN@demo.consilium").username == "ben"
