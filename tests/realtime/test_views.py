"""The discussion without JavaScript, and the panel tag for the case page."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.template import RequestContext, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.permissions import case_access
from cases.phi import finding_key, scan_fields
from realtime.models import Message, Thread
from realtime.services import message_post, thread_default
from workspace.models import AuditEvent

pytestmark = pytest.mark.django_db


def thread_url(case, thread) -> str:
    return reverse("discussion_thread", args=[case.pk, thread.pk])


def test_discussion_url_redirects_to_the_general_topic(discussion, client_for):
    response = client_for(discussion.owner).get(
        reverse("discussion", args=[discussion.case.pk])
    )
    general = Thread.objects.get(case=discussion.case, is_default=True)
    assert response.status_code == 302
    assert response.url == thread_url(discussion.case, general)


def test_thread_page_shows_messages_and_a_form_and_audits_the_view(
    discussion, client_for
):
    general = thread_default(case=discussion.case)
    message_post(
        case=discussion.case,
        thread=general,
        by=discussion.colleague,
        body="Started **prednisolone**",
        client_id="v1",
    )

    response = client_for(discussion.owner).get(thread_url(discussion.case, general))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Started <strong>prednisolone</strong>" in html
    assert 'name="body"' in html and 'name="client_id"' in html
    assert f'data-ws-path="/ws/cases/{discussion.case.pk}/"' in html
    assert AuditEvent.objects.filter(
        verb="discussion.view", actor=discussion.owner
    ).exists()


def test_case_pages_of_other_people_are_404(discussion, client_for, make_patient):
    general = thread_default(case=discussion.case)
    patient = make_patient("pip")
    for user in (discussion.outsider, patient):
        response = client_for(user).get(thread_url(discussion.case, general))
        assert response.status_code == 404
    posted = client_for(discussion.outsider).post(
        thread_url(discussion.case, general), {"body": "hi", "client_id": "o1"}
    )
    assert posted.status_code == 404
    assert not Message.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(discussion, client):
    general = thread_default(case=discussion.case)
    response = client.get(thread_url(discussion.case, general))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_form_post_goes_through_message_post_and_is_idempotent(discussion, client_for):
    general = thread_default(case=discussion.case)
    c = client_for(discussion.colleague)
    data = {"body": "From a browser without JS", "client_id": "form-123"}

    first = c.post(thread_url(discussion.case, general), data)
    second = c.post(thread_url(discussion.case, general), data)  # double submit

    [message] = Message.objects.all()
    assert message.seq == 1 and message.author == discussion.colleague
    assert first.status_code == second.status_code == 302
    assert first.url == f"{thread_url(discussion.case, general)}#m{message.pk}"


def test_form_post_returns_to_a_safe_next_url_only(discussion, client_for):
    general = thread_default(case=discussion.case)
    c = client_for(discussion.owner)
    url = thread_url(discussion.case, general)

    inside = c.post(url, {"body": "a", "client_id": "n1", "next": "/cases/1/?tab=x"})
    outside = c.post(
        url, {"body": "b", "client_id": "n2", "next": "https://evil.example/"}
    )

    assert inside.url.startswith("/cases/1/?tab=x#m")
    assert outside.url.startswith(url + "#m")


def test_viewer_form_post_is_refused_with_the_reason(discussion, client_for):
    general = thread_default(case=discussion.case)
    response = client_for(discussion.viewer).post(
        thread_url(discussion.case, general), {"body": "hi", "client_id": "vv"}
    )
    assert response.status_code == 403
    assert (
        "Viewers can read the discussion but not post to it."
        in response.content.decode()
    )
    assert not Message.objects.exists()


def test_topic_create_and_duplicate_title(discussion, client_for):
    c = client_for(discussion.owner)
    url = reverse("discussion_thread_create", args=[discussion.case.pk])

    created = c.post(url, {"title": "Imaging"})
    duplicate = c.post(url, {"title": "imaging"})

    thread = Thread.objects.get(case=discussion.case, title="Imaging")
    assert created.status_code == 302 and created.url == thread_url(
        discussion.case, thread
    )
    assert duplicate.status_code == 400
    assert "There is already a topic called" in duplicate.content.decode()


def test_author_edits_and_deletes_without_javascript(discussion, client_for):
    general = thread_default(case=discussion.case)
    message = message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body="first draft of the plan",
        client_id="e1",
    ).message
    c = client_for(discussion.owner)
    edit_url = reverse("discussion_message_edit", args=[discussion.case.pk, message.pk])
    delete_url = reverse(
        "discussion_message_delete", args=[discussion.case.pk, message.pk]
    )

    form = c.get(edit_url)
    saved = c.post(edit_url, {"body": "revised plan wording"})
    message.refresh_from_db()
    body_after_edit = message.body
    deleted = c.post(delete_url)
    message.refresh_from_db()

    assert (
        form.status_code == 200 and "first draft of the plan" in form.content.decode()
    )
    assert saved.status_code == 302 and body_after_edit == "revised plan wording"
    assert deleted.status_code == 302 and message.is_deleted
    page = c.get(thread_url(discussion.case, general)).content.decode()
    assert "Message deleted" in page and "revised plan wording" not in page


def test_others_cannot_edit_or_delete_through_the_forms(discussion, client_for):
    general = thread_default(case=discussion.case)
    message = message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body="mine",
        client_id="e2",
    ).message
    c = client_for(discussion.colleague)

    c.post(
        reverse("discussion_message_edit", args=[discussion.case.pk, message.pk]),
        {"body": "theirs"},
    )
    c.post(reverse("discussion_message_delete", args=[discussion.case.pk, message.pk]))

    message.refresh_from_db()
    assert message.body == "mine" and not message.is_deleted


def test_xss_in_a_message_is_inert_on_the_page(discussion, client_for):
    general = thread_default(case=discussion.case)
    message_post(
        case=discussion.case,
        thread=general,
        by=discussion.colleague,
        body='<script>alert("x")</script> [a](javascript:alert(1))',
        client_id="x1",
    )
    html = (
        client_for(discussion.owner)
        .get(thread_url(discussion.case, general))
        .content.decode()
    )
    assert '<script>alert("x")' not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript:' not in html


def test_page_scripts_carry_the_csp_nonce_and_no_inline_handlers(
    discussion, client_for
):
    general = thread_default(case=discussion.case)
    response = client_for(discussion.owner).get(thread_url(discussion.case, general))
    html = response.content.decode()
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script[^>]*>", html)
    assert any("discussion.js" in s for s in scripts)
    assert all(f'nonce="{nonce}"' in s for s in scripts)
    assert not re.search(r"\son(click|submit|load|error|keydown)=", html)
    assert " style=" not in html


def render_tag(case, user, access=None):
    request = RequestFactory().get("/cases/x/")
    request.user = user
    request._csp_nonce = "n0nce"  # what the CSP middleware sets
    template = Template("{% load discussion %}{% case_discussion case access %}")
    access = access or case_access(user, case)
    context = RequestContext(request, {"case": case, "access": access})
    return template.render(context)


def test_case_discussion_tag_renders_the_panel_in_constant_queries(
    discussion, django_assert_max_num_queries
):
    general = thread_default(case=discussion.case)
    Thread.objects.create(case=discussion.case, title="Imaging")
    for n in range(3):
        message_post(
            case=discussion.case,
            thread=general,
            by=discussion.owner,
            body=f"m{n}",
            client_id=f"t{n}",
        )
    access = case_access(discussion.colleague, discussion.case)
    with CaptureQueriesContext(connection) as few:
        render_tag(discussion.case, discussion.colleague, access)
    for n in range(3, 30):
        message_post(
            case=discussion.case,
            thread=general,
            by=discussion.colleague,
            body=f"m{n}",
            client_id=f"t{n}",
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = render_tag(discussion.case, discussion.colleague, access)

    # Topics with their last ids, one page of messages with authors, the
    # annotations drawn over the media, and the unread badge of the base
    # context processor.
    assert len(few.captured_queries) <= 4

    assert html.count('<li class="msg') == 30
    assert "# Imaging" in html and 'nonce="n0nce"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_viewer_panel_has_no_composer(discussion):
    thread_default(case=discussion.case)
    html = render_tag(discussion.case, discussion.viewer)
    assert "data-composer" not in html
    assert "viewers cannot post" in html


def test_case_page_shows_the_live_discussion(discussion, client_for):
    general = thread_default(case=discussion.case)
    message_post(
        case=discussion.case,
        thread=general,
        by=discussion.colleague,
        body="Seen on the *case page*",
        client_id="cp1",
    )
    response = client_for(discussion.owner).get(
        reverse("case_detail", args=[discussion.case.pk])
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="discussion"' in html and "data-discussion" in html
    assert "Seen on the <em>case page</em>" in html


def test_too_long_form_post_shows_the_error_in_the_composer(discussion, client_for):
    general = thread_default(case=discussion.case)
    response = client_for(discussion.owner).post(
        thread_url(discussion.case, general),
        {"body": "x" * 10_001, "client_id": "long"},
    )
    assert response.status_code == 400
    assert "at most 10000 characters" in response.content.decode()
    assert not Message.objects.exists()


def test_staff_can_read_messages_in_the_admin_but_not_change_them(
    discussion, client_for
):
    general = thread_default(case=discussion.case)
    message = message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body="x",
        client_id="a",
    ).message
    staff = discussion.owner
    staff.is_staff = staff.is_superuser = True
    staff.save()
    c = client_for(staff)

    listing = c.get(reverse("admin:realtime_message_changelist"))
    detail = c.get(reverse("admin:realtime_message_change", args=[message.pk]))
    delete = c.post(
        reverse("admin:realtime_message_delete", args=[message.pk]), {"post": "yes"}
    )

    assert listing.status_code == 200 and detail.status_code == 200
    assert delete.status_code == 403
    assert Message.objects.filter(pk=message.pk).exists()


def test_demo_seed_posts_the_discussion_once_and_skips_without_cases(make_clinician):
    from realtime import demo as realtime_demo
    from workspace.demo import Demo

    users = {
        "ana": make_clinician("ana"),
        "ben": make_clinician("ben"),
        "sam": make_clinician("sam"),
    }
    realtime_demo.seed(Demo(users=users))
    assert not Message.objects.exists()  # no demo cases yet: nothing to do

    from cases.models import Case, CaseParticipant

    case = Case.objects.create(
        owner=users["ana"], title="Demo rash", status=Case.Status.PUBLISHED
    )
    CaseParticipant.objects.create(case=case, user=users["ana"], role="owner")
    for name in ("ben", "sam"):
        CaseParticipant.objects.create(case=case, user=users[name], role="collaborator")
    realtime_demo.seed(Demo(users=users))
    realtime_demo.seed(Demo(users=users))

    assert Message.objects.filter(case=case).count() == len(realtime_demo.SCRIPT)
    assert set(Thread.objects.filter(case=case).values_list("title", flat=True)) == {
        "General",
        "Investigations",
    }
    assert Message.objects.filter(case=case, mentions__username="ben").exists()


# --- the PHI gate without JavaScript -----------------------------------------------------------

PHI_BODY = "Mr John Smith, DOB 12/03/1961, phone 020 7946 0958"


def dismiss_boxes(html: str) -> list[str]:
    return re.findall(r'name="dismiss" value="([0-9a-f]{64})"', html)


def test_form_post_with_phi_shows_the_findings_and_posts_once_all_are_ticked(
    discussion, client_for
):
    general = thread_default(case=discussion.case)
    c = client_for(discussion.owner)
    url = thread_url(discussion.case, general)
    data = {"body": PHI_BODY, "client_id": "form-phi"}

    refused = c.post(url, data)
    html = refused.content.decode()
    keys = [finding_key(f) for f in scan_fields({"body": PHI_BODY})]

    assert refused.status_code == 400
    assert "3 possible identifiers must be removed" in html
    assert "<mark>John Smith</mark>" in html and "<mark>020 7946 0958</mark>" in html
    assert dismiss_boxes(html) == keys
    assert PHI_BODY in html  # the text stays in the composer to edit
    assert not Message.objects.exists()

    partly = c.post(url, {**data, "dismiss": keys[:1]})
    assert partly.status_code == 400
    assert f'value="{keys[0]}" checked' in partly.content.decode()

    posted = c.post(url, {**data, "dismiss": keys})
    [message] = Message.objects.all()
    assert posted.status_code == 302 and message.body == PHI_BODY
    assert AuditEvent.objects.get(verb="phi.dismiss").data["surface"] == (
        "message.send"
    )


def test_edit_form_with_phi_shows_the_findings(discussion, client_for):
    general = thread_default(case=discussion.case)
    message = message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body="plain",
        client_id="e-phi",
    ).message
    c = client_for(discussion.owner)
    url = reverse("discussion_message_edit", args=[discussion.case.pk, message.pk])

    refused = c.post(url, {"body": PHI_BODY})
    keys = dismiss_boxes(refused.content.decode())
    message.refresh_from_db()
    body_after_refusal = message.body
    saved = c.post(url, {"body": PHI_BODY, "dismiss": keys})
    message.refresh_from_db()

    assert refused.status_code == 400 and len(keys) == 3
    assert body_after_refusal == "plain"
    assert saved.status_code == 302 and message.body == PHI_BODY


def test_topic_form_with_phi_shows_the_findings(discussion, client_for):
    c = client_for(discussion.owner)
    url = reverse("discussion_thread_create", args=[discussion.case.pk])
    title = "Mr John Smith follow-up"

    refused = c.post(url, {"title": title})
    html = refused.content.decode()
    keys = dismiss_boxes(html)
    created = c.post(url, {"title": title, "dismiss": keys})

    assert refused.status_code == 400 and "<mark>John Smith</mark>" in html
    assert f'value="{title}"' in html
    assert len(keys) == 1
    assert created.status_code == 302
    assert Thread.objects.filter(case=discussion.case, title=title).exists()


def test_rate_limited_form_posts_answer_429(discussion, client_for, settings):
    settings.TOPIC_RATE_LIMIT = 1
    settings.TOPIC_RATE_WINDOW_SECONDS = 60
    c = client_for(discussion.owner)
    url = reverse("discussion_thread_create", args=[discussion.case.pk])

    first = c.post(url, {"title": "Imaging"})
    second = c.post(url, {"title": "Bloods"})

    assert first.status_code == 302
    assert second.status_code == 429
    assert "adding topics too quickly" in second.content.decode()


def test_without_javascript_the_page_shows_only_the_viewers_own_controls(
    discussion, client_for
):
    general = thread_default(case=discussion.case)
    message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body="Mine to change",
        client_id="nojs-1",
    )
    reader = client_for(discussion.colleague)

    page = reader.get(thread_url(discussion.case, general)).content.decode()
    css_url = reverse("discussion_viewer_css")
    assert f'<noscript><link rel="stylesheet" href="{css_url}"></noscript>' in page
    assert f'data-author-id="{discussion.owner.pk}"' in page
    assert '<div class="msg__actions" data-own hidden>' in page

    css = reader.get(css_url)
    assert css["Content-Type"].startswith("text/css")
    assert "private" in css["Cache-Control"]
    rule = css.content.decode()
    assert f'.msg[data-author-id="{discussion.colleague.pk}"]' in rule
    assert f'data-author-id="{discussion.owner.pk}"' not in rule


def test_delete_without_javascript_posts_the_panels_form_to_the_message(
    discussion, client_for
):
    general = thread_default(case=discussion.case)
    message = message_post(
        case=discussion.case,
        thread=general,
        by=discussion.owner,
        body="Wrong case",
        client_id="nojs-2",
    ).message
    owner = client_for(discussion.owner)
    url = thread_url(discussion.case, general)
    page = owner.get(url).content.decode()
    form_id = f"discussion-delete-{discussion.case.pk}"
    delete_url = reverse(
        "discussion_message_delete", args=[discussion.case.pk, message.pk]
    )
    assert f'<form method="post" id="{form_id}" hidden>' in page
    assert f'form="{form_id}" formaction="{delete_url}"' in page

    response = owner.post(delete_url, {"next": url})

    assert response.status_code == 302 and response.url == url
    message.refresh_from_db()
    assert message.is_deleted
