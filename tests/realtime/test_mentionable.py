"""Who the composer offers after ``@``: the mentionable endpoint and its rule."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import Case, CaseParticipant
from cases.permissions import case_access, case_viewers_q
from realtime.services import message_post, thread_default
from workspace.models import Membership, User

pytestmark = pytest.mark.django_db


def url(case, q: str | None = None) -> str:
    base = reverse("discussion_mentionable", args=[case.pk])
    return base if q is None else f"{base}?q={q}"


def usernames(response) -> list[str]:
    assert response.status_code == 200
    return [row["username"] for row in response.json()]


def test_collaborator_gets_people_as_json_with_name_specialty_and_initials(
    discussion, client_for, make_clinician
):
    derm = make_clinician(
        "ben", first_name="Ben", last_name="Carter", specialties=["Dermatology"]
    )
    CaseParticipant.objects.create(
        case=discussion.case, user=derm, role=CaseParticipant.Role.CONSULTANT
    )

    response = client_for(discussion.colleague).get(url(discussion.case, "be"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == [
        {
            "username": "ben",
            "name": "Ben Carter",
            "specialty": "Dermatology",
            "avatar_initials": "BC",
        }
    ]


def test_viewer_is_refused_and_people_who_cannot_see_the_case_get_404(
    discussion, client_for, make_patient, client
):
    assert client_for(discussion.viewer).get(url(discussion.case)).status_code == 403
    for user in (discussion.outsider, make_patient("pip")):
        assert client_for(user).get(url(discussion.case)).status_code == 404
    missing = reverse("discussion_mentionable", args=[discussion.case.pk + 999])
    assert client_for(discussion.owner).get(missing).status_code == 404
    anonymous = client.get(url(discussion.case))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.url


def test_only_get_is_allowed(discussion, client_for):
    response = client_for(discussion.owner).post(url(discussion.case))
    assert response.status_code == 405


def test_matches_a_prefix_of_username_first_or_last_name_in_any_case(
    discussion, client_for
):
    owner = client_for(discussion.owner)
    assert usernames(owner.get(url(discussion.case, "CO"))) == ["colin"]
    assert usernames(owner.get(url(discussion.case, "lab"))) == ["colin"]
    assert usernames(owner.get(url(discussion.case, "Ver"))) == ["vera"]
    assert usernames(owner.get(url(discussion.case, "@vie"))) == ["vera"]
    # Inside a name is not a prefix.
    assert usernames(owner.get(url(discussion.case, "olin"))) == []


def test_private_case_offers_only_its_participants_not_oneself(discussion, client_for):
    # The outsider is a verified clinician but not on this private case.
    found = usernames(client_for(discussion.owner).get(url(discussion.case)))
    assert found == ["colin", "vera"]


def test_deactivated_users_patients_and_outsiders_are_never_offered(
    discussion, client_for, make_clinician, make_patient
):
    gone = make_clinician("obadiah", first_name="Obadiah")
    CaseParticipant.objects.create(
        case=discussion.case, user=gone, role=CaseParticipant.Role.COLLABORATOR
    )
    User.objects.filter(pk=gone.pk).update(is_active=False)
    patient = make_patient("oprah", clinician=discussion.owner)
    # A patient on the participant list still cannot see the case.
    CaseParticipant.objects.create(
        case=discussion.case, user=patient, role=CaseParticipant.Role.VIEWER
    )
    unverified = make_clinician("oscar", verified=False)
    CaseParticipant.objects.create(
        case=discussion.case, user=unverified, role=CaseParticipant.Role.COLLABORATOR
    )

    found = usernames(client_for(discussion.colleague).get(url(discussion.case, "o")))

    assert found == ["olive"]


def test_community_case_admits_verified_clinicians_after_the_participants(
    make_clinician, make_case, client_for
):
    owner = make_clinician("olive", first_name="Olive", last_name="Owner")
    zed = make_clinician("zed", first_name="Zed", last_name="Aaronson")
    stranger = make_clinician("abe", first_name="Abe", last_name="Zimmer")
    make_clinician("adam", first_name="Adam", verified=False)
    case = make_case(
        owner,
        participants={zed: CaseParticipant.Role.COLLABORATOR},
        status=Case.Status.PUBLISHED,
        visibility=Case.Visibility.COMMUNITY,
    )

    found = usernames(client_for(stranger).get(url(case, "")))

    # The participants (not the asker, not the unverified Adam).
    assert found == ["olive", "zed"]
    # Zed is a participant, so comes before Abe despite the name.
    found = usernames(client_for(owner).get(url(case, "a")))
    assert found == ["zed", "abe"]


def test_workspace_case_admits_members_but_not_other_clinicians(
    make_clinician, make_case, make_workspace, client_for
):
    owner = make_clinician("olive")
    member = make_clinician("mia")
    make_clinician("mick")
    workspace = make_workspace(
        members={owner: Membership.Role.OWNER, member: Membership.Role.MEMBER}
    )
    case = make_case(
        owner,
        status=Case.Status.PUBLISHED,
        visibility=Case.Visibility.WORKSPACE,
        workspace=workspace,
    )

    assert usernames(client_for(owner).get(url(case, "mi"))) == ["mia"]


def test_draft_community_case_offers_only_participants(
    make_clinician, make_case, client_for
):
    owner = make_clinician("olive")
    make_clinician("pete")
    case = make_case(
        owner, status=Case.Status.DRAFT, visibility=Case.Visibility.COMMUNITY
    )

    assert usernames(client_for(owner).get(url(case, "p"))) == []


def test_at_most_eight_people_participants_first_then_by_name(
    make_clinician, make_case, client_for
):
    owner = make_clinician("olive")
    late = make_clinician("sam", first_name="Sam", last_name="Zulu")
    for n in range(10):
        make_clinician(f"sally{n}", first_name="Sally", last_name=f"S{n}")
    case = make_case(
        owner,
        participants={late: CaseParticipant.Role.CONSULTANT},
        status=Case.Status.PUBLISHED,
        visibility=Case.Visibility.COMMUNITY,
    )

    found = usernames(client_for(owner).get(url(case, "s")))

    assert found == ["sam"] + [f"sally{n}" for n in range(7)]


def test_queries_do_not_grow_with_the_people_found(
    make_clinician, make_case, client_for, django_assert_max_num_queries
):
    owner = make_clinician("olive")
    case = make_case(
        owner, status=Case.Status.PUBLISHED, visibility=Case.Visibility.COMMUNITY
    )
    make_clinician("kim", specialties=["Dermatology"])
    client = client_for(owner)
    client.get(url(case, "k"))  # warm the session

    with django_assert_max_num_queries(10) as one:
        assert len(usernames(client.get(url(case, "k")))) == 1
    for n in range(7):
        make_clinician(f"kai{n}", specialties=["Dermatology", "Rheumatology"])
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(usernames(client.get(url(case, "k")))) == 8


def test_viewers_rule_matches_case_access_for_every_user_and_case(
    make_clinician, make_case, make_patient, make_workspace
):
    owner = make_clinician("olive")
    unverified_owner = make_clinician("uma", verified=False)
    member = make_clinician("mia")
    other = make_clinician("otto")
    unverified = make_clinician("ulf", verified=False)
    patient = make_patient("pip")
    collaborator = make_clinician("colin")
    workspace = make_workspace(
        members={owner: Membership.Role.OWNER, member: Membership.Role.MEMBER}
    )
    cases = []
    for status in (Case.Status.DRAFT, Case.Status.PUBLISHED):
        for visibility in Case.Visibility.values:
            for case_owner in (owner, unverified_owner):
                cases.append(
                    make_case(
                        case_owner,
                        participants={
                            collaborator: CaseParticipant.Role.COLLABORATOR,
                            unverified: CaseParticipant.Role.VIEWER,
                            patient: CaseParticipant.Role.VIEWER,
                        },
                        status=status,
                        visibility=visibility,
                        workspace=workspace
                        if visibility == Case.Visibility.WORKSPACE
                        else None,
                    )
                )
    people = [owner, unverified_owner, member, other, unverified, patient, collaborator]
    for case in cases:
        expected = {u.pk for u in people if case_access(u, case).can_view}
        got = set(
            User.objects.filter(case_viewers_q(case)).values_list("pk", flat=True)
        )
        assert got == expected, (case.status, case.visibility, case.owner)


def test_mention_notifies_exactly_the_people_the_endpoint_offers(
    discussion, client_for, make_clinician
):
    gone = make_clinician("gail")
    CaseParticipant.objects.create(
        case=discussion.case, user=gone, role=CaseParticipant.Role.COLLABORATOR
    )
    User.objects.filter(pk=gone.pk).update(is_active=False)
    offered = set(usernames(client_for(discussion.owner).get(url(discussion.case))))

    result = message_post(
        case=discussion.case,
        thread=thread_default(case=discussion.case),
        by=discussion.owner,
        body="@colin @vera @otto @gail please look",
        client_id="m1",
    )

    mentioned = set(result.message.mentions.values_list("username", flat=True))
    assert mentioned == offered == {"colin", "vera"}
