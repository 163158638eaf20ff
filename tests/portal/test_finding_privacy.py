"""What other clinicians see of a patient's social link: the case page, the
differential fragment, the case's frames and its audit trail carry only the
canonical URL, never the patient's handle, community, slug or sharer ids; and
the data migration rewrites links stored before that rule."""

from __future__ import annotations

import json
from importlib import import_module

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from portal.models import FindingLink, SocialLink
from tests.fixtures.submissions import attach, case_with_entry, named_patient, submit
from workspace.models import AuditEvent, Notification

pytestmark = pytest.mark.django_db

TT_ID = "7301234567890123456"

# (pasted URL, canonical URL or None, the parts of it that identify someone)
PASTED = [
    (
        f"https://m.tiktok.com/v/{TT_ID}.html?u_code=d9e8f7a6b5c4&share_item_id="
        f"{TT_ID}&share_app_id=1233&user_id=6812345678901234567&utm_source=copy",
        f"https://tiktok.com/embed/v2/{TT_ID}",
        ["u_code", "d9e8f7a6b5c4", "share_item_id", "6812345678901234567", "utm_"],
    ),
    (
        f"https://www.tiktok.com/@perpetua.q/video/{TT_ID}?is_from_webapp=1"
        "&sender_device=pc&_r=1&_t=8abc",
        f"https://tiktok.com/embed/v2/{TT_ID}",
        ["perpetua.q", "is_from_webapp", "sender_device", "8abc"],
    ),
    (
        "https://www.reddit.com/user/PerpetuaQ/comments/1abc2de/my_rash_at_home/"
        "?utm_source=share&utm_medium=ios_app&share_id=Zx9",
        "https://reddit.com/comments/1abc2de/",
        ["perpetuaq", "my_rash_at_home", "share_id", "zx9", "utm_"],
    ),
    (
        "https://old.reddit.com/r/QuillfeatherFamily/comments/1abc2de/mums_rash/",
        "https://reddit.com/comments/1abc2de/",
        ["quillfeatherfamily", "mums_rash"],
    ),
    (
        "https://x.com/perpetua_q/status/1734567890123456789?s=46&t=AbCdEfGh",
        "https://x.com/i/status/1734567890123456789",
        ["perpetua_q", "abcdefgh", "s=46"],
    ),
    (
        "https://www.instagram.com/perpetua.q/reel/Cx1AbCdEfGh/?igsh=MzRlODBiNWFlZA==",
        "https://instagram.com/reel/Cx1AbCdEfGh/",
        ["perpetua.q", "igsh", "mzrlodbinwflza"],
    ),
    (
        "https://youtu.be/dQw4w9WgXcQ?si=PerpetuaShare42",
        "https://youtube.com/watch?v=dQw4w9WgXcQ",
        ["perpetuashare42", "si="],
    ),
    (
        "https://www.reddit.com/r/AskDocs/s/PqUiLl123",
        None,
        ["askdocs", "pquill123", "/s/"],
    ),
]


@pytest.fixture
def pat(make_patient, doc):
    return named_patient(make_patient, doc)


@pytest.mark.parametrize(("pasted", "canonical", "identifying"), PASTED)
def test_case_page_shows_only_the_canonical_link_never_the_handle_or_query(
    client_for, case_events, pat, doc, make_clinician, make_case,
    pasted, canonical, identifying,
):  # fmt: skip
    colleague = make_clinician("colleague")
    case, entry = case_with_entry(
        make_case, doc, participants={colleague: "viewer"}, status="published"
    )
    submission = submit(pat, doc, link=pasted, description="Like mine")

    frames = case_events(case, lambda: attach(submission, doc, entry, note="Same"))

    viewer = client_for(colleague)
    page = viewer.get(reverse("case_detail", args=[case.pk])).content.decode()
    fragment = viewer.get(
        reverse("differentials_fragment", args=[case.pk])
    ).content.decode()
    trail = json.dumps(
        list(AuditEvent.objects.filter(case_id=case.pk).values("verb", "data")),
        default=str,
    )
    notes = json.dumps(
        list(Notification.objects.exclude(user=pat).values("title", "body", "url"))
    )
    finding = FindingLink.objects.get(submission=submission)
    assert "Same" in page and "Same" in fragment
    assert finding.canonical_url == (canonical or "")
    if canonical:
        assert canonical in page and canonical in fragment
    else:
        assert "kept with the patient" in page
        assert finding.embed_url == ""
    for surface in (page, fragment, trail, notes, json.dumps(frames)):
        lowered = surface.lower()
        assert pasted.lower() not in lowered
        leaked = [word for word in identifying if word in lowered]
        assert leaked == [], leaked
    # The original stays on the submission, for the patient and the clinician.
    assert SocialLink.objects.get(submission=submission).url == pasted
    review = client_for(doc).get(reverse("inbox_review", args=[submission.pk]))
    assert identifying[0] in review.content.decode().lower()


def test_share_link_submission_shows_its_original_to_the_patient_and_clinician(
    client_for, pat, doc
):
    pasted = "https://vm.tiktok.com/ZMabc123/"
    submission = submit(pat, doc, link=pasted)

    link = SocialLink.objects.get(submission=submission)
    assert (link.canonical_url, link.embed_url, link.case_safe) == ("", "", False)
    assert "share link" in link.private_reason
    for page in (
        client_for(pat).get(reverse("portal_list")),
        client_for(doc).get(reverse("inbox_review", args=[submission.pk])),
    ):
        body = page.content.decode()
        assert pasted in body
        assert "never shown on a case" in body


def test_link_check_tells_the_patient_a_share_link_stays_with_the_clinician(
    client_for, pat
):
    response = client_for(pat).get(
        reverse("portal_link_check"),
        {"url": "https://www.reddit.com/r/AskDocs/s/AbCdEf123"},
    )

    data = response.json()
    assert data["ok"] and data["platform"] == "reddit"
    assert data["canonical_url"] is None and data["case_safe"] is False
    assert "share link" in data["private_reason"]


def test_attach_derives_the_case_url_again_from_what_was_pasted(pat, doc, make_case):
    # A row saved by an older parser, still holding the handle.
    submission = submit(pat, doc, link=PASTED[1][0])
    SocialLink.objects.filter(submission=submission).update(
        canonical_url=f"https://tiktok.com/@perpetua.q/video/{TT_ID}"
    )
    submission.refresh_from_db()
    _, entry = case_with_entry(make_case, doc)

    finding = attach(submission, doc, entry)

    assert finding.canonical_url == f"https://tiktok.com/embed/v2/{TT_ID}"


def test_data_migration_recomputes_stored_links_and_their_findings(pat, doc, make_case):
    migration = import_module("cases.migrations.0008_social_links_case_safe")
    _, entry = case_with_entry(make_case, doc)
    old_forms = {
        PASTED[1][0]: f"https://tiktok.com/@perpetua.q/video/{TT_ID}",
        PASTED[2][
            0
        ]: "https://reddit.com/user/PerpetuaQ/comments/1abc2de/my_rash_at_home/",
        "https://vm.tiktok.com/ZMabc123/": "https://vm.tiktok.com/ZMabc123/",
    }
    findings = []
    for pasted, old in old_forms.items():
        finding = attach(submit(pat, doc, link=pasted), doc, entry)
        SocialLink.objects.filter(url=pasted).update(
            canonical_url=old, embed_url=f"https://embed.example/{old}"
        )
        FindingLink.objects.filter(pk=finding.pk).update(
            canonical_url=old, embed_url=f"https://embed.example/{old}"
        )
        findings.append(finding)

    # The models as that migration knew them (they have moved to portal since).
    state = MigrationLoader(connection).project_state(
        ("cases", "0008_social_links_case_safe")
    )
    migration.recompute(state.apps, None)

    got = [
        (
            SocialLink.objects.get(url=pasted).canonical_url,
            FindingLink.objects.get(pk=finding.pk).canonical_url,
            FindingLink.objects.get(pk=finding.pk).embed_url,
        )
        for pasted, finding in zip(old_forms, findings, strict=True)
    ]
    assert got == [
        (
            f"https://tiktok.com/embed/v2/{TT_ID}",
            f"https://tiktok.com/embed/v2/{TT_ID}",
            f"https://www.tiktok.com/embed/v2/{TT_ID}",
        ),
        ("https://reddit.com/comments/1abc2de/",) * 2 + ("",),
        ("", "", ""),
    ]
    # What the patient pasted is kept as it was.
    assert set(SocialLink.objects.values_list("url", flat=True)) == set(old_forms)
