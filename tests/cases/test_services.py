"""Case services: lifecycle, the PHI gate, participants, audit and events."""

import pytest

from cases.models import Case, CaseInvitation, CaseParticipant
from cases.phi import finding_key, scan_fields
from cases.services import cases as services
from cases.services.cases import PHIFound
from diagnoses.services import case_resolve
from workspace.errors import InvalidInput
from workspace.models import AuditEvent, Notification, Specialty
from workspace.services import PermissionDenied, ServiceError

pytestmark = pytest.mark.django_db

ATTEST = services.DEFAULT_ATTESTATION


def _complete(**extra):
    fields = {
        "title": "Annular rash after a camping trip",
        "specialty": Specialty.objects.get(name="Dermatology"),
        "age_band": "30–39",
        "sex": "female",
        "presenting_complaint": "Expanding red ring on the thigh for ten days.",
        "history": "Removed a tick a fortnight ago.",
        "tags": ["rash", "travel"],
    }
    return fields | extra


def _verbs(case):
    return list(
        AuditEvent.objects.filter(case_id=case.pk)
        .order_by("id")
        .values_list("verb", flat=True)
    )


# --- create and update ----------------------------------------------------------------


def test_create_makes_a_private_draft_with_its_owner_as_participant(make_clinician):
    owner = make_clinician()

    case = services.case_create(owner=owner, **_complete())

    assert case.status == Case.Status.DRAFT
    assert case.visibility == Case.Visibility.PRIVATE
    assert CaseParticipant.objects.get(case=case).role == "owner"
    assert sorted(t.name for t in case.tags.all()) == ["rash", "travel"]
    assert _verbs(case) == ["case.create"]


def test_create_caches_rendered_markdown_for_the_case_page(make_clinician):
    case = services.case_create(
        owner=make_clinician(), **_complete(history="**Tick** bite")
    )

    case.refresh_from_db()
    assert case.rendered["history"] == "<p><strong>Tick</strong> bite</p>"
    assert case.html("history") == "<p><strong>Tick</strong> bite</p>"


def test_tags_are_shared_case_insensitively_and_capped(make_clinician):
    owner = make_clinician()
    first = services.case_create(owner=owner, **_complete(tags=["Rash"]))
    second = services.case_create(owner=owner, **_complete(tags=["rash", " RASH "]))

    assert list(first.tags.all()) == list(second.tags.all())
    with pytest.raises(InvalidInput) as exc:
        services.case_create(
            owner=owner, **_complete(tags=[f"t{i}" for i in range(11)])
        )
    assert "tags" in exc.value.errors


def test_workspace_visibility_needs_a_workspace_the_owner_belongs_to(
    make_clinician, make_workspace
):
    owner = make_clinician()
    foreign = make_workspace()

    with pytest.raises(InvalidInput) as missing:
        services.case_create(
            owner=owner, visibility=Case.Visibility.WORKSPACE, **_complete()
        )
    with pytest.raises(InvalidInput) as not_member:
        services.case_create(
            owner=owner,
            visibility=Case.Visibility.WORKSPACE,
            workspace=foreign,
            **_complete(),
        )

    assert "workspace" in missing.value.errors
    assert "not a member" in not_member.value.errors["workspace"]
    assert not Case.objects.exists()


def test_patients_cannot_create_cases(make_patient):
    with pytest.raises(PermissionDenied):
        services.case_create(owner=make_patient(), **_complete())


def test_collaborator_edits_content_but_not_who_sees_it(cast):
    case = cast.case(status=Case.Status.DRAFT)

    services.case_update(
        case=case, by=cast.collaborator, changes={"history": "Now with *more*."}
    )
    with pytest.raises(PermissionDenied):
        services.case_update(
            case=case,
            by=cast.collaborator,
            changes={"visibility": Case.Visibility.PRIVATE},
        )

    case.refresh_from_db()
    assert case.history == "Now with *more*."
    assert case.rendered["history"] == "<p>Now with <em>more</em>.</p>"
    assert case.visibility == Case.Visibility.COMMUNITY
    assert _verbs(case) == ["case.update"]


@pytest.mark.parametrize("role", ["consultant", "viewer", "member", "outsider"])
def test_only_owner_and_collaborators_edit(cast, role):
    case = cast.case()

    with pytest.raises(PermissionDenied):
        services.case_update(case=case, by=cast.users[role], changes={"title": "X"})

    case.refresh_from_db()
    assert case.title != "X"


def test_archived_cases_are_read_only(cast):
    case = cast.case(status=Case.Status.ARCHIVED)

    with pytest.raises(PermissionDenied, match="Archived"):
        services.case_update(case=case, by=cast.owner, changes={"title": "X"})


def test_draft_update_saves_phi_freely_and_keeps_only_current_dismissals(cast):
    case = cast.case(status=Case.Status.DRAFT)
    text = "Seen at 14 Elm Street last week."
    [finding] = services.phi_scan_fields({"history": text})
    key = finding_key(finding)

    services.case_update(
        case=case,
        by=cast.owner,
        changes={"history": text},
        dismissed=[key, "f" * 64],
    )

    case.refresh_from_db()
    assert case.history == text
    assert case.phi_dismissed == [key]


def test_update_without_changes_writes_no_audit_and_no_event(cast, case_events):
    case = cast.case(status=Case.Status.DRAFT)

    frames = case_events(
        case,
        lambda: services.case_update(
            case=case, by=cast.owner, changes={"title": case.title}
        ),
    )

    assert frames == []
    assert _verbs(case) == []


def test_editing_a_published_case_passes_the_phi_gate_again(cast):
    case = cast.case(history="Stable.")
    phi = "Call her on 020 7946 0958 if worse."

    with pytest.raises(PHIFound) as blocked:
        services.case_update(
            case=case,
            by=cast.collaborator,
            changes={"history": phi},
            attestation=ATTEST,
        )
    case.refresh_from_db()
    assert case.history == "Stable."
    assert [f.kind for f in blocked.value.findings] == ["phone"]

    with pytest.raises(InvalidInput) as unattested:
        services.case_update(
            case=case, by=cast.collaborator, changes={"history": "Improving."}
        )
    assert "attestation" in unattested.value.errors

    services.case_update(
        case=case,
        by=cast.collaborator,
        changes={"history": "Improving."},
        attestation="Still de-identified.",
    )
    case.refresh_from_db()
    assert case.history == "Improving."
    assert case.deid_attestation == "Still de-identified."
    assert case.attested_by == cast.collaborator


# --- publish: the PHI gate ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "text", "kind"),
    [
        ("title", "Rash in Mrs Jones", "name"),
        ("presenting_complaint", "Rash since 3 March 2024.", "date"),
        ("history", "Lives at 221 Baker Street.", "address"),
        ("examination", "Aged 93, frail.", "age"),
        ("investigations", "MRN: 48213377 results attached", "record_number"),
        ("working_notes", "Email me at jo.bloggs@example.com", "email"),
        ("tags", ["rash", "Mr Smith"], "name"),
    ],
)
def test_publish_is_blocked_by_an_identifier_in_any_field(cast, field, text, kind):
    case = services.case_create(owner=cast.owner, **_complete(**{field: text}))

    with pytest.raises(PHIFound) as exc:
        services.case_publish(case=case, by=cast.owner, attestation=ATTEST)

    assert {(f.field, f.kind) for f in exc.value.findings} == {(field, kind)}
    case.refresh_from_db()
    assert case.status == Case.Status.DRAFT
    blocked = AuditEvent.objects.get(case_id=case.pk, verb="case.publish_blocked")
    assert blocked.data == {"unresolved": 1, "kinds": {kind: 1}}


def test_publish_after_editing_the_identifier_away(cast):
    case = services.case_create(
        owner=cast.owner, **_complete(history="Seen by Dr Patel on 12/03/2024.")
    )
    with pytest.raises(PHIFound):
        services.case_publish(case=case, by=cast.owner, attestation=ATTEST)

    services.case_update(
        case=case, by=cast.owner, changes={"history": "Seen in clinic last spring."}
    )
    case = services.case_publish(case=case, by=cast.owner, attestation=ATTEST)

    assert case.status == Case.Status.PUBLISHED
    assert case.phi_scan == []


def test_publish_with_each_finding_dismissed_explicitly_stores_scan_and_attestation(
    cast,
):
    text = "Seen by Dr Patel on 12/03/2024."
    case = services.case_create(owner=cast.owner, **_complete(history=text))
    findings = services.case_phi_scan(case)
    keys = [finding_key(f) for f in findings]
    assert len(keys) == 2

    with pytest.raises(PHIFound) as partly:
        services.case_publish(
            case=case, by=cast.owner, attestation=ATTEST, dismissed=keys[:1]
        )
    assert len(partly.value.findings) == 1

    case = services.case_publish(
        case=case, by=cast.owner, attestation="  I attest.  ", dismissed=keys
    )

    case.refresh_from_db()
    assert case.status == Case.Status.PUBLISHED
    assert case.published_at is not None
    assert case.deid_attestation == "I attest."
    assert case.attested_by == cast.owner
    assert case.attested_at is not None
    assert sorted(case.phi_dismissed) == sorted(keys)
    assert [(f["field"], f["kind"], f["dismissed"]) for f in case.phi_scan] == [
        ("history", "name", True),
        ("history", "date", True),
    ]
    # The stored scan records where and why, never the identifier itself.
    assert "Patel" not in str(case.phi_scan)
    event = AuditEvent.objects.get(case_id=case.pk, verb="case.publish")
    assert event.actor == cast.owner
    assert event.data["findings"] == 2
    assert event.data["dismissed"] == 2
    assert event.data["kinds"] == {"name": 1, "date": 1}
    assert event.data["attestation"] == "I attest."


def test_a_dismissal_covers_only_its_own_field(cast):
    case = services.case_create(
        owner=cast.owner,
        **_complete(history="Dr Patel reviewed.", examination="Dr Patel examined."),
    )
    history_key = next(
        finding_key(f) for f in services.case_phi_scan(case) if f.field == "history"
    )

    with pytest.raises(PHIFound) as exc:
        services.case_publish(
            case=case, by=cast.owner, attestation=ATTEST, dismissed=[history_key]
        )

    assert [f.field for f in exc.value.findings] == ["examination"]


def test_publish_needs_the_fields_colleagues_need(cast):
    case = services.case_create(owner=cast.owner, title="Rash")

    with pytest.raises(InvalidInput) as exc:
        services.case_publish(case=case, by=cast.owner, attestation=ATTEST)

    assert set(exc.value.errors) == {"presenting_complaint", "specialty", "age_band"}


def test_publish_needs_an_attestation(cast):
    case = services.case_create(owner=cast.owner, **_complete())

    with pytest.raises(InvalidInput) as exc:
        services.case_publish(case=case, by=cast.owner, attestation="   ")

    assert "attestation" in exc.value.errors
    case.refresh_from_db()
    assert case.status == Case.Status.DRAFT


def test_only_the_verified_owner_publishes(cast, make_clinician):
    case = cast.case(status=Case.Status.DRAFT)
    with pytest.raises(PermissionDenied):
        services.case_publish(case=case, by=cast.collaborator, attestation=ATTEST)

    unverified = make_clinician(verified=False)
    own = services.case_create(owner=unverified, **_complete())
    with pytest.raises(PermissionDenied, match="verified"):
        services.case_publish(case=own, by=unverified, attestation=ATTEST)


def test_publishing_twice_is_refused(cast):
    case = cast.case()

    with pytest.raises(ServiceError, match="already"):
        services.case_publish(case=case, by=cast.owner, attestation=ATTEST)


def test_publish_announces_case_updated_to_the_case_group(cast, case_events):
    case = services.case_create(owner=cast.owner, **_complete())

    frames = case_events(
        case,
        lambda: services.case_publish(case=case, by=cast.owner, attestation=ATTEST),
    )

    assert frames == [
        {
            "type": "case.updated",
            "case": case.pk,
            "status": "published",
            "visibility": "private",
        }
    ]


def test_blocked_publish_announces_nothing(cast, case_events):
    case = services.case_create(
        owner=cast.owner, **_complete(history="Phone 020 7946 0958")
    )

    def attempt():
        with pytest.raises(PHIFound):
            services.case_publish(case=case, by=cast.owner, attestation=ATTEST)

    assert case_events(case, attempt) == []


# --- resolve and archive --------------------------------------------------------------


def test_collaborator_resolves_a_published_case(cast):
    case = cast.case()

    case_resolve(
        case=case, by=cast.collaborator, final_diagnosis="  Erythema   migrans "
    )

    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert case.final_diagnosis == "Erythema migrans"
    assert case.resolved_at is not None
    assert _verbs(case) == ["case.resolve"]


def test_resolve_scans_the_diagnosis_and_needs_a_published_case(cast):
    case = cast.case()
    with pytest.raises(PHIFound):
        case_resolve(case=case, by=cast.owner, final_diagnosis="Lyme, as Dr House said")
    draft = cast.case(status=Case.Status.DRAFT)
    with pytest.raises(ServiceError, match="published"):
        case_resolve(case=draft, by=cast.owner, final_diagnosis="Lyme")
    with pytest.raises(PermissionDenied):
        case_resolve(case=case, by=cast.consultant, final_diagnosis="Lyme")


def test_resolve_with_a_dismissed_finding_stores_the_diagnosis_and_audits_it(cast):
    case = cast.case()
    diagnosis = "Lyme, as Dr House said"
    (finding,) = scan_fields({"final_diagnosis": diagnosis})
    key = finding_key(finding)

    case_resolve(case=case, by=cast.owner, final_diagnosis=diagnosis, dismissed=[key])

    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert case.final_diagnosis == diagnosis
    event = AuditEvent.objects.get(case_id=case.pk, verb="phi.dismiss")
    assert event.actor == cast.owner
    assert event.data == {"surface": "case.resolve", "keys": [key], "kinds": ["name"]}


def test_a_refused_resolution_records_no_dismissal(cast):
    case = cast.case()
    with pytest.raises(PHIFound) as refused:
        case_resolve(
            case=case,
            by=cast.owner,
            final_diagnosis="Lyme per Dr House, MRN 44812093",
            dismissed=[finding_key(f) for f in scan_fields({"x": "Dr House"})],
        )
    assert {f.kind for f in refused.value.findings} == {"name", "record_number"}
    assert not AuditEvent.objects.filter(case_id=case.pk, verb="phi.dismiss").exists()


def test_owner_archives_and_staff_may_take_a_case_down(cast, make_clinician):
    mine = cast.case()
    services.case_archive(case=mine, by=cast.owner)
    mine.refresh_from_db()
    assert mine.status == Case.Status.ARCHIVED

    other = cast.case()
    with pytest.raises(PermissionDenied):
        services.case_archive(case=other, by=cast.collaborator)
    staff = make_clinician(is_staff=True)
    services.case_archive(case=other, by=staff)
    event = AuditEvent.objects.get(case_id=other.pk, verb="case.archive")
    assert event.actor == staff
    assert event.data == {"from": "published", "moderation": True}


# --- participants ---------------------------------------------------------------------


def test_owner_invites_a_verified_clinician_who_is_notified(
    cast, make_clinician, case_events
):
    case = cast.case(status=Case.Status.DRAFT)
    newcomer = make_clinician("newcomer")

    frames = case_events(
        case,
        lambda: services.participant_invite(
            case=case, by=cast.owner, invitee=newcomer, role="consultant"
        ),
    )

    participant = CaseParticipant.objects.get(case=case, user=newcomer)
    assert participant.role == "consultant"
    assert participant.added_by == cast.owner
    note = Notification.objects.get(user=newcomer)
    assert note.kind == Notification.Kind.CASE_INVITE
    assert note.url == f"/cases/{case.pk}/"
    assert "consultant" in note.title
    assert frames[0]["type"] == "case.updated"
    assert frames[0]["participants"] is True
    event = AuditEvent.objects.get(case_id=case.pk, verb="case.participant_add")
    assert event.data == {"user": "newcomer", "role": "consultant"}


@pytest.mark.parametrize("by_address", [False, True])
def test_a_draft_is_shared_only_once_its_text_passes_the_phi_scan(
    cast, make_clinician, by_address
):
    """Whoever is invited reads the draft at once, before any publishing check."""
    case = cast.case(
        status=Case.Status.DRAFT, history="Seen by Dr Amelia Hart on 12/03/2024."
    )
    newcomer = make_clinician("newcomer")

    def invite():
        if by_address:
            return services.participant_invite_email(
                case=case, by=cast.owner, email="x@hospital.example", role="viewer"
            )
        return services.participant_invite(
            case=case, by=cast.owner, invitee=newcomer, role="viewer"
        )

    with pytest.raises(ServiceError, match=r"2 possible identifiers \(date, name\)"):
        invite()
    assert not CaseParticipant.objects.filter(case=case, user=newcomer).exists()
    assert not CaseInvitation.objects.filter(case=case).exists()

    # Dismissed findings (the clinician's call, audited when made) clear it.
    case.phi_dismissed = [finding_key(f) for f in services.case_phi_scan(case)]
    case.save(update_fields=["phi_dismissed"])
    invite()
    assert (
        CaseInvitation.objects.filter(case=case).exists()
        if by_address
        else CaseParticipant.objects.filter(case=case, user=newcomer).exists()
    )


def test_invite_rules(cast, make_clinician, make_patient):
    case = cast.case()
    with pytest.raises(InvalidInput, match="verified"):
        services.participant_invite(
            case=case, by=cast.owner, invitee=cast.unverified, role="viewer"
        )
    with pytest.raises(InvalidInput, match="verified"):
        services.participant_invite(
            case=case, by=cast.owner, invitee=make_patient(), role="viewer"
        )
    with pytest.raises(InvalidInput, match="already"):
        services.participant_invite(
            case=case, by=cast.owner, invitee=cast.viewer, role="viewer"
        )
    with pytest.raises(InvalidInput):
        services.participant_invite(
            case=case, by=cast.owner, invitee=cast.member, role="owner"
        )
    with pytest.raises(PermissionDenied):
        services.participant_invite(
            case=case, by=cast.collaborator, invitee=cast.member, role="viewer"
        )
    assert not Notification.objects.filter(kind="case_invite").exists()


def test_owner_removes_participants_and_anyone_may_leave(cast):
    case = cast.case()
    parts = {p.user.username: p for p in case.participants.select_related("user")}

    services.participant_remove(participant=parts["viewer"], by=cast.owner)
    services.participant_remove(participant=parts["consultant"], by=cast.consultant)
    with pytest.raises(PermissionDenied):
        services.participant_remove(participant=parts["owner"], by=cast.owner)
    with pytest.raises(PermissionDenied):
        services.participant_remove(participant=parts["collaborator"], by=cast.member)

    assert set(case.participants.values_list("user__username", flat=True)) == {
        "owner",
        "collaborator",
    }
    assert _verbs(case) == ["case.participant_remove", "case.participant_leave"]


def test_owner_changes_roles_but_not_their_own(cast):
    case = cast.case()
    viewer = case.participants.get(user=cast.viewer)
    owner = case.participants.get(user=cast.owner)

    services.participant_change_role(
        participant=viewer, by=cast.owner, role="consultant"
    )
    with pytest.raises(PermissionDenied):
        services.participant_change_role(
            participant=owner, by=cast.owner, role="viewer"
        )
    with pytest.raises(PermissionDenied):
        services.participant_change_role(
            participant=viewer, by=cast.collaborator, role="viewer"
        )

    viewer.refresh_from_db()
    assert viewer.role == "consultant"
    event = AuditEvent.objects.get(case_id=case.pk, verb="case.participant_role")
    assert event.data == {"user": "viewer", "from": "viewer", "to": "consultant"}


def test_view_record_writes_one_case_view_event(cast):
    case = cast.case()
    before = AuditEvent.objects.count()

    services.case_view_record(case=case, user=cast.member, ip="10.0.0.7")

    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert (event.verb, event.actor, event.case_id, event.ip) == (
        "case.view",
        cast.member,
        case.pk,
        "10.0.0.7",
    )


def test_rendered_cache_is_ignored_when_its_version_is_stale(cast):
    case = cast.case(history="*fresh*")
    case.rendered = {"_v": -1, "history": "<p>stale</p>"}

    assert case.html("history") == "<p><em>fresh</em></p>"


def test_address_invitation_follows_the_invite_rules_and_closes_with_the_case(
    cast, make_clinician
):
    case = cast.case()
    with pytest.raises(PermissionDenied):
        services.participant_invite_email(
            case=case, by=cast.collaborator, email="x@hospital.example", role="viewer"
        )
    with pytest.raises(InvalidInput):
        services.participant_invite_email(
            case=case, by=cast.owner, email="x@hospital.example", role="owner"
        )
    invitation = services.participant_invite_email(
        case=case, by=cast.owner, email="x@hospital.example", role="viewer"
    )
    again = services.participant_invite_email(
        case=case, by=cast.owner, email="X@hospital.example", role="consultant"
    )
    assert again.pk == invitation.pk and again.role == "consultant"
    services.case_archive(case=case, by=cast.owner)
    with pytest.raises(ServiceError, match="Archived"):
        services.case_invitation_accept(
            invitation=invitation, user=make_clinician("joiner")
        )
