"""Case pages: forms, inline PHI warnings, autosave, the case page, bad input."""

import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import Case, CaseInvitation, CaseParticipant
from cases.phi import finding_key, scan_fields
from cases.services import cases as services
from workspace.models import AuditEvent, Specialty

pytestmark = pytest.mark.django_db


def _form(**extra):
    data = {
        "title": "Annular rash after a camping trip",
        "specialty": Specialty.objects.get(name="Dermatology").pk,
        "age_band": "30–39",
        "sex": "female",
        "presenting_complaint": "Expanding red ring on the thigh.",
        "history": "Removed a tick a fortnight ago.",
        "examination": "",
        "investigations": "",
        "working_notes": "",
        "tags": "rash, travel",
        "visibility": "community",
        "workspace": "",
        "attestation": services.DEFAULT_ATTESTATION,
        "action": "save",
    }
    data.update(extra)
    return data


class _Elements(HTMLParser):
    """Collects every element and attribute a browser would build."""

    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes += [(tag, name, value) for name, value in attrs]


def _html(response) -> str:
    return response.content.decode()


# --- create ---------------------------------------------------------------------------


def test_create_page_offers_age_bands_never_an_exact_age(clinician, client_for):
    html = _html(client_for(clinician).get(reverse("case_create")))

    assert '<select name="age_band"' in html
    assert '<option value="90+">90 or over</option>' in html
    assert 'type="number"' not in html
    assert "date of birth" in html  # the help text says what not to enter


def test_save_draft_redirects_to_edit_and_audits(clinician, client_for):
    response = client_for(clinician).post(reverse("case_create"), _form())

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("case_edit", args=[case.pk])
    assert case.status == Case.Status.DRAFT
    assert case.owner == clinician
    assert AuditEvent.objects.filter(verb="case.create", case_id=case.pk).exists()


def test_validation_errors_are_per_field_and_keep_the_input(clinician, client_for):
    data = _form(
        title="   ",
        age_band="47",
        history="A long history the clinician must not lose.",
        tags=", ".join(f"tag{i}" for i in range(12)),
        visibility="workspace",
    )

    response = client_for(clinician).post(reverse("case_create"), data)

    html = _html(response)
    assert response.status_code == 200
    assert not Case.objects.exists()
    assert re.search(r'id="id_title_error">Give the case a title', html)
    assert 'id="id_age_band_error">Select a valid choice' in html
    assert 'id="id_tags_error">Use at most 10 tags' in html
    assert 'id="id_workspace_error">Choose the workspace' in html
    assert "A long history the clinician must not lose." in html
    assert 'aria-invalid="true"' in html


def test_overlong_text_is_a_field_error(clinician, client_for):
    response = client_for(clinician).post(
        reverse("case_create"), _form(history="x" * 20_001)
    )

    assert 'id="id_history_error">Ensure this value has at most 20000' in _html(
        response
    )


def test_publish_from_create_with_phi_saves_draft_and_shows_the_finding(
    clinician, client_for
):
    client = client_for(clinician)
    data = _form(history="Seen by Dr Patel last week.", action="publish", attest="on")

    response = client.post(reverse("case_create"), data, follow=True)

    case = Case.objects.get()
    assert case.status == Case.Status.DRAFT
    assert case.history == "Seen by Dr Patel last week."
    html = _html(response)
    assert response.redirect_chain[-1][0].startswith(
        reverse("case_edit", args=[case.pk])
    )
    assert "not published yet" in html
    assert "Seen by Dr <mark>Patel</mark> last week." in html
    assert "Looks like a person&#x27;s name" in html


def test_publish_from_create_when_clean(clinician, client_for):
    response = client_for(clinician).post(
        reverse("case_create"), _form(action="publish", attest="on")
    )

    case = Case.objects.get()
    assert response["Location"] == case.get_absolute_url()
    assert case.status == Case.Status.PUBLISHED


# --- edit and publish -----------------------------------------------------------------


def test_edit_page_lists_each_finding_with_field_span_reason_and_dismiss_box(
    clinician, client_for
):
    case = services.case_create(
        owner=clinician,
        title="Rash",
        history="Call 020 7946 0958 for results.",
        tags=["rash"],
    )
    [finding] = services.case_phi_scan(case)

    html = _html(client_for(clinician).get(reverse("case_edit", args=[case.pk])))

    block = html[html.index('data-phi-for="history"') :]
    assert "Call <mark>020 7946 0958</mark> for results." in block
    assert "Looks like a phone number" in block
    assert f'name="dismiss" value="{finding_key(finding)}"' in block
    assert "1 possible identifier to fix" in html


def test_publish_is_blocked_then_succeeds_after_dismissing_each_finding(
    clinician, client_for
):
    client = client_for(clinician)
    case = services.case_create(owner=clinician, title="Draft")
    url = reverse("case_edit", args=[case.pk])
    data = _form(
        history="Reviewed by Dr Patel.",
        action="publish",
        attest="on",
        visibility="private",
    )

    blocked = client.post(url, data)

    assert blocked.status_code == 200
    assert "must be removed or marked as not identifying" in _html(blocked)
    case.refresh_from_db()
    assert case.status == Case.Status.DRAFT
    assert case.history == "Reviewed by Dr Patel."  # the edit itself was saved
    key = re.search(r'name="dismiss" value="([0-9a-f]{64})"', _html(blocked))[1]

    published = client.post(url, {**data, "dismiss": [key]})

    assert published.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.PUBLISHED
    assert case.phi_dismissed == [key]


def test_publish_needs_the_attestation_box(clinician, client_for):
    case = services.case_create(owner=clinician, title="Draft")

    response = client_for(clinician).post(
        reverse("case_edit", args=[case.pk]), _form(action="publish")
    )

    assert 'id="id_attest_error">Tick the box to attest' in _html(response)
    case.refresh_from_db()
    assert case.status == Case.Status.DRAFT


def test_incomplete_draft_publish_shows_field_errors_and_keeps_the_edit(
    clinician, client_for
):
    case = services.case_create(owner=clinician, title="Draft")

    response = client_for(clinician).post(
        reverse("case_edit", args=[case.pk]),
        _form(specialty="", age_band="", action="publish", attest="on"),
    )

    html = _html(response)
    assert 'id="id_specialty_error">Choose a specialty before publishing' in html
    assert 'id="id_age_band_error">Choose an age band before publishing' in html
    assert "Your changes are saved, but not published yet." in html
    case.refresh_from_db()
    assert case.status == Case.Status.DRAFT
    assert case.history == "Removed a tick a fortnight ago."


def test_collaborator_edits_a_published_case_only_through_the_gate(cast, client_for):
    case = cast.case(history="Stable.")
    client = client_for(cast.collaborator)
    url = reverse("case_edit", args=[case.pk])
    data = {
        "title": case.title,
        "specialty": case.specialty_id,
        "age_band": case.age_band,
        "sex": "unknown",
        "presenting_complaint": case.presenting_complaint,
        "history": "Discussed with Mrs Okafor's GP.",
        "attest": "on",
        "attestation": "Still de-identified.",
        "action": "save",
    }

    blocked = client.post(url, data)
    assert blocked.status_code == 200
    assert "<mark>Okafor</mark>" in _html(blocked)
    assert 'name="visibility"' not in _html(blocked)  # owner-only field
    case.refresh_from_db()
    assert case.history == "Stable."

    saved = client.post(url, {**data, "history": "Discussed with the GP."})
    assert saved.status_code == 302
    case.refresh_from_db()
    assert case.history == "Discussed with the GP."
    assert case.attested_by == cast.collaborator


# --- autosave and live scan -----------------------------------------------------------


def test_first_autosave_creates_the_draft_then_edits_it(clinician, client_for):
    client = client_for(clinician)

    created = client.post(reverse("case_create_autosave"), _form())

    assert created.status_code == 201
    body = created.json()
    case = Case.objects.get()
    assert body["id"] == case.pk
    assert body["edit_url"] == reverse("case_edit", args=[case.pk])
    assert body["autosave_url"] == reverse("case_autosave", args=[case.pk])

    updated = client.post(
        body["autosave_url"], _form(history="Now with a phone: 020 7946 0958")
    )

    assert updated.status_code == 200
    [finding] = updated.json()["findings"]
    assert finding["field"] == "history"
    assert finding["kind"] == "phone"
    assert finding["match"] == "020 7946 0958"
    assert finding["before"] == "Now with a phone: "
    assert finding["dismissed"] is False
    case.refresh_from_db()
    assert case.history == "Now with a phone: 020 7946 0958"
    event = AuditEvent.objects.filter(verb="case.update").latest("id")
    assert event.data == {"fields": ["history"], "autosave": True}


def test_autosave_persists_dismissals(clinician, client_for):
    case = services.case_create(owner=clinician, title="Draft", history="Dr Patel")
    key = finding_key(services.case_phi_scan(case)[0])

    response = client_for(clinician).post(
        reverse("case_autosave", args=[case.pk]),
        _form(title="Draft", history="Dr Patel", dismiss=[key]),
    )

    assert response.json()["findings"][0]["dismissed"] is True
    case.refresh_from_db()
    assert case.phi_dismissed == [key]


def test_autosave_reports_field_errors_as_json(clinician, client_for):
    case = services.case_create(owner=clinician, title="Draft")

    response = client_for(clinician).post(
        reverse("case_autosave", args=[case.pk]), _form(title="", age_band="12")
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"title", "age_band"}
    case.refresh_from_db()
    assert case.title == "Draft"


def test_autosave_refuses_published_cases(cast, client_for):
    case = cast.case()

    response = client_for(cast.owner).post(
        reverse("case_autosave", args=[case.pk]), _form()
    )

    assert response.status_code == 409
    assert "Only drafts" in response.json()["error"]


def test_autosave_needs_the_csrf_token(clinician):
    case = services.case_create(owner=clinician, title="Draft")
    client = Client(enforce_csrf_checks=True)
    client.force_login(clinician)
    url = reverse("case_autosave", args=[case.pk])

    refused = client.post(url, _form(title="Changed"))
    page = client.get(reverse("case_edit", args=[case.pk]))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', _html(page))[1]
    accepted = client.post(url, _form(title="Changed"), HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403
    assert accepted.status_code == 200
    case.refresh_from_db()
    assert case.title == "Changed"


def test_live_scan_returns_findings_without_saving(clinician, client_for):
    response = client_for(clinician).post(
        reverse("case_phi_scan"),
        {"title": "Rash", "working_notes": "See https://example.org/p?id=7"},
    )

    [finding] = response.json()["findings"]
    assert (finding["field"], finding["kind"]) == ("working_notes", "url")
    assert not Case.objects.exists()


def test_json_endpoints_refuse_get(clinician, client_for):
    client = client_for(clinician)

    assert client.get(reverse("case_phi_scan")).status_code == 405
    assert client.get(reverse("case_create_autosave")).status_code == 405


# --- the case page --------------------------------------------------------------------


def test_case_page_shows_header_sections_participants_and_slots(cast, client_for):
    case = cast.case(
        history="Went **hiking**.",
        examination="Annular plaque.",
        final_diagnosis="",
    )
    case.tags.set([services._tags_from_names(["rash"])[0]])

    html = _html(client_for(cast.member).get(case.get_absolute_url()))

    for text in (
        case.title,
        "Published",
        "Community — every verified clinician",
        "Dermatology",
        "40–49",
        'href="/cases/?tag=rash"',
        "<p>Went <strong>hiking</strong>.</p>",
        "Annular plaque.",
        "Participants",
        "Consultant",
    ):
        assert text in html, text
    for slot in ("media", "differentials", "consults", "discussion"):
        assert f"<!-- slot:{slot} -->" in html
    assert "Invite a colleague" not in html  # members don't manage
    assert 'id="section-investigations"' not in html  # empty sections hidden


def test_owner_sees_invite_archive_and_publish_controls_on_a_draft(cast, client_for):
    case = cast.case(status=Case.Status.DRAFT)

    html = _html(client_for(cast.owner).get(case.get_absolute_url()))

    assert "Invite a colleague" in html
    assert "Review &amp; publish" in html
    assert "Archive" in html
    assert "only its participants can see it" in html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt&#58;alert(1))",
        '<a href="#" style="position:fixed">x</a>',
        '<div style="background:url(javascript:alert(1))">x</div>',
    ],
)
def test_markdown_injection_renders_inert(cast, client_for, payload):
    case = cast.case(history=payload, working_notes=payload, title=payload[:50])

    html = _html(client_for(cast.owner).get(case.get_absolute_url()))

    # The header and the sections this page renders (slots are other features').
    main = html[html.index('<article class="case"') : html.index("<!-- slot:media -->")]
    parser = _Elements()
    parser.feed(main)
    assert "script" not in parser.tags
    assert "img" not in parser.tags
    for tag, name, value in parser.attributes:
        assert not name.startswith("on"), (tag, name)
        assert name != "style", tag
        assert not (value or "").strip().lower().startswith("javascript:"), tag
    if payload.startswith("<script>"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in main  # shown as typed


def test_invite_form_shows_field_errors(cast, client_for):
    case = cast.case()

    response = client_for(cast.owner).post(
        reverse("case_participant_add", args=[case.pk]),
        {"who": "nobody-here", "role": "viewer"},
    )

    assert response.status_code == 400
    assert "No verified clinician has that username." in _html(response)


def test_invite_by_email_adds_the_clinician(cast, client_for, make_clinician):
    colleague = make_clinician("colleague", email="colleague@hospital.example")
    case = cast.case()

    response = client_for(cast.owner).post(
        reverse("case_participant_add", args=[case.pk]),
        {"who": "Colleague@Hospital.example", "role": "collaborator"},
    )

    assert response.status_code == 302
    assert CaseParticipant.objects.get(case=case, user=colleague).role == (
        "collaborator"
    )


def test_resolve_with_an_identifier_lists_it_and_resolves_once_dismissed(
    cast, client_for
):
    case = cast.case()
    client = client_for(cast.owner)
    url = reverse("case_resolve", args=[case.pk])
    diagnosis = "Lyme disease, per Dr House"
    (finding,) = scan_fields({"final_diagnosis": diagnosis})
    key = finding_key(finding)

    response = client.post(url, {"final_diagnosis": diagnosis})

    assert response.status_code == 400
    html = _html(response)
    assert 'data-phi-for="final_diagnosis"' in html
    assert "<mark>House</mark>" in html
    assert f'name="dismiss" value="{key}"' in html
    case.refresh_from_db()
    assert case.status == Case.Status.PUBLISHED

    resolved = client.post(url, {"final_diagnosis": diagnosis, "dismiss": key})

    assert resolved.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert case.final_diagnosis == diagnosis
    event = AuditEvent.objects.get(case_id=case.pk, verb="phi.dismiss")
    assert event.data["surface"] == "case.resolve"


def test_leaving_a_case_returns_to_the_list(cast, client_for):
    case = cast.case()
    me = case.participants.get(user=cast.consultant)

    response = client_for(cast.consultant).post(
        reverse("case_participant_remove", args=[case.pk, me.pk])
    )

    assert response["Location"] == reverse("case_list")


def test_case_page_query_count_does_not_grow_with_participants(
    cast, client_for, make_clinician, django_assert_max_num_queries
):
    case = cast.case()
    client = client_for(cast.owner)
    client.get(case.get_absolute_url())  # warm caches (content types, sessions)
    # 22: the owner's page also lists join requests and the resolve form's
    # differential entries, and the discussion its media annotations (one
    # query each, whatever their number).
    with django_assert_max_num_queries(22) as few:
        client.get(case.get_absolute_url())
    for _ in range(15):
        CaseParticipant.objects.create(case=case, user=make_clinician(), role="viewer")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(case.get_absolute_url())
    assert response.status_code == 200


# --- Invitations by address (issue 13: no hijack through an unconfirmed email) -----


def test_invite_by_an_unconfirmed_address_sends_a_link_instead_of_adding_its_holder(
    cast, client_for, make_clinician, mailoutbox, django_capture_on_commit_callbacks
):
    squatter = make_clinician(
        "squatter", email="newhire@hospital.example", email_confirmed=False
    )
    case = cast.case()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.owner).post(
            reverse("case_participant_add", args=[case.pk]),
            {"who": "NewHire@hospital.example", "role": "consultant"},
        )

    assert response.status_code == 302
    assert not CaseParticipant.objects.filter(case=case, user=squatter).exists()
    assert not squatter.notifications.exists()
    invitation = CaseInvitation.objects.get(case=case)
    assert (invitation.email, invitation.role) == (
        "NewHire@hospital.example",
        "consultant",
    )
    [mail] = mailoutbox
    assert mail.to == ["NewHire@hospital.example"]
    assert f"http://testserver/cases/invitations/{invitation.token}/" in mail.body
    assert case.title not in mail.body + mail.subject
    page = client_for(cast.owner).get(case.get_absolute_url())
    assert "NewHire@hospital.example" in _html(page)
    assert AuditEvent.objects.filter(verb="case.invite_email", case_id=case.pk).exists()


def test_whoever_opens_the_case_invitation_link_joins_once(
    cast, client_for, make_clinician
):
    case = cast.case()
    invitation = services.participant_invite_email(
        case=case, by=cast.owner, email="anyone@hospital.example", role="viewer"
    )
    joiner = make_clinician("joiner", email="joiner@elsewhere.example")
    client = client_for(joiner)
    page = client.get(reverse("case_invitation", args=[invitation.token]))
    assert page.status_code == 200
    assert case.title not in _html(page)

    response = client.post(reverse("case_invitation", args=[invitation.token]))

    assert response.status_code == 302
    assert CaseParticipant.objects.get(case=case, user=joiner).role == "viewer"
    invitation.refresh_from_db()
    assert (invitation.status, invitation.accepted_by) == ("accepted", joiner)
    late = client_for(make_clinician("late"))
    again = late.post(reverse("case_invitation", args=[invitation.token]))
    assert again.status_code == 400
    assert "no longer open" in _html(again)


def test_an_unverified_clinician_cannot_join_through_a_case_invitation_link(
    cast, client_for, make_clinician
):
    case = cast.case()
    invitation = services.participant_invite_email(
        case=case, by=cast.owner, email="anyone@hospital.example", role="viewer"
    )
    unverified = make_clinician("notyet", verified=False)
    response = client_for(unverified).post(
        reverse("case_invitation", args=[invitation.token])
    )
    assert response.status_code == 400
    assert "Only verified clinicians" in _html(response)
    assert not CaseParticipant.objects.filter(case=case, user=unverified).exists()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_a_username_shaped_like_an_address_does_not_take_its_case_invitation(
    cast, client_for, make_clinician
):
    impostor = make_clinician("boss@hospital.example", email="me@impostor.example")
    case = cast.case()
    client_for(cast.owner).post(
        reverse("case_participant_add", args=[case.pk]),
        {"who": "boss@hospital.example", "role": "viewer"},
    )
    assert not CaseParticipant.objects.filter(case=case, user=impostor).exists()
    assert CaseInvitation.objects.filter(
        case=case, email="boss@hospital.example"
    ).exists()
