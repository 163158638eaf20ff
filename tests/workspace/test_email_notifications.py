"""E-mail notifications through the locmem backend: who gets what, once, and how
to stop it (consult steps, escalation, patient replies, mention digests)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import Case
from consults import services as consult_svc
from consults.models import ConsultRequest
from consults.reminders import consults_escalate
from portal import services as submission_svc
from portal.models import Submission
from realtime.services import message_post, thread_default
from tests.fixtures.cache import local_cache_clear
from tests.fixtures.submissions import TIKTOK, submit
from workspace import online
from workspace.mail.models import EmailPreference, PendingMention
from workspace.mail.sending import unsubscribe_token
from workspace.mail.services import mention_digests_send, notification_email_send
from workspace.models import AuditEvent, Notification, Specialty
from workspace.services import notifications_mark_read

QUESTION = (
    "Is this **plaque psoriasis** or _nummular eczema_? Biopsy showed acanthosis."
)
IMPRESSION = "Plaque psoriasis; the acanthosis with parakeratosis fits."


@pytest.fixture
def team(make_clinician, make_case):
    class Team:
        owner = make_clinician("olive", first_name="Olive", last_name="Owner")
        derm = make_clinician("dana", first_name="Dana", last_name="Derm")
        derm2 = make_clinician("dmitri", specialties=["Dermatology"])
        derm3 = make_clinician("dora", specialties=["Dermatology"])
        unverified = make_clinician("uma", specialties=["Dermatology"], verified=False)
        rheum = make_clinician("ruth", specialties=["Rheumatology"])
        case = make_case(
            owner, status=Case.Status.PUBLISHED, title="Scaly plaques on the shins"
        )
        dermatology = Specialty.objects.get(name="Dermatology")

    return Team


@pytest.fixture(autouse=True)
def _nobody_online():
    local_cache_clear()


def ask(team, capture, **kwargs):
    kwargs.setdefault("question", QUESTION)
    with capture(execute=True):
        return consult_svc.consult_request(case=team.case, by=team.owner, **kwargs)


def to(address: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if m.to == [address]]


def html_of(message) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


# --- Consult steps ------------------------------------------------------------------


def test_consult_for_a_named_specialist_emails_them_title_and_link_only(
    team, django_capture_on_commit_callbacks
):
    consult = ask(team, django_capture_on_commit_callbacks, assignee=team.derm)

    [message] = mail.outbox
    assert message.to == ["dana@example.org"]
    assert message.subject == "Routine consult request from Olive Owner"
    url = f"http://localhost:8000/consults/{consult.pk}/"
    assert url in message.body and url in html_of(message)
    for text in ("psoriasis", "eczema", "acanthosis", "Biopsy"):
        assert text not in message.body and text not in html_of(message)


def test_every_email_carries_one_click_unsubscribe_headers(
    team, django_capture_on_commit_callbacks
):
    ask(team, django_capture_on_commit_callbacks, assignee=team.derm)

    [message] = mail.outbox
    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<http://localhost:8000/unsubscribe/")
    assert header.endswith("/>")
    assert message.extra_headers["List-Unsubscribe-Post"] == (
        "List-Unsubscribe=One-Click"
    )
    assert header[1:-1] in message.body
    assert "http://localhost:8000/accounts/notifications/" in message.body
    # The header survives into the message that goes on the wire.
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in str(message.message())


def test_emergent_specialty_consult_emails_each_verified_specialist_at_once(
    team, django_capture_on_commit_callbacks
):
    ask(
        team,
        django_capture_on_commit_callbacks,
        specialty=team.dermatology,
        urgency=ConsultRequest.Urgency.EMERGENT,
    )

    assert sorted(m.to[0] for m in mail.outbox) == [
        "dmitri@example.org",
        "dora@example.org",
    ]
    assert {m.subject for m in mail.outbox} == {
        "Emergent consult request from Olive Owner"
    }


def test_accept_and_answer_email_the_requester_without_the_answer(
    team, django_capture_on_commit_callbacks
):
    consult = ask(team, django_capture_on_commit_callbacks, assignee=team.derm)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        consult_svc.consult_accept(consult=consult, by=team.derm)
    with django_capture_on_commit_callbacks(execute=True):
        consult_svc.consult_answer(consult=consult, by=team.derm, impression=IMPRESSION)

    accepted, answered = mail.outbox
    assert accepted.to == answered.to == ["olive@example.org"]
    assert accepted.subject == (
        "Dana Derm accepted your consult on “Scaly plaques on the shins”"
    )
    assert answered.subject == (
        "Dana Derm answered your consult on “Scaly plaques on the shins”"
    )
    assert "parakeratosis" not in answered.body
    assert "parakeratosis" not in html_of(answered)


def test_declining_and_closing_stay_in_the_app(
    team, django_capture_on_commit_callbacks
):
    consult = ask(team, django_capture_on_commit_callbacks, assignee=team.derm)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        consult_svc.consult_decline(consult=consult, by=team.derm, reason="Not mine.")

    assert Notification.objects.filter(user=team.owner).count() == 1
    assert mail.outbox == []


def test_preferences_turn_off_one_kind_or_everything(
    team, django_capture_on_commit_callbacks
):
    EmailPreference.objects.create(user=team.derm2, consult_assigned=False)
    EmailPreference.objects.create(user=team.derm3, unsubscribed_all=True)

    ask(team, django_capture_on_commit_callbacks, specialty=team.dermatology)

    assert mail.outbox == []
    assert Notification.objects.filter(user__in=[team.derm2, team.derm3]).count() == 2


def test_no_email_to_inactive_users_or_users_without_an_address(
    team, django_capture_on_commit_callbacks
):
    team.derm2.email = ""
    team.derm2.save(update_fields=["email"])
    team.derm3.is_active = False
    team.derm3.save(update_fields=["is_active"])

    ask(team, django_capture_on_commit_callbacks, specialty=team.dermatology)

    assert mail.outbox == []


def test_a_notification_is_emailed_once_and_not_after_it_was_read(
    team, django_capture_on_commit_callbacks
):
    ask(team, django_capture_on_commit_callbacks, assignee=team.derm)
    note = Notification.objects.get(user=team.derm)

    assert notification_email_send(notification_id=note.pk) is False  # a retry
    assert len(mail.outbox) == 1

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        consult_svc.consult_request(
            case=team.case, by=team.owner, question="Again?", assignee=team.derm
        )
    notifications_mark_read(user=team.derm)
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1


def test_notification_previews_are_text_not_markdown(
    team, django_capture_on_commit_callbacks
):
    from workspace import events

    sent = []
    original = events.send_now
    events.send_now = lambda group, payload: sent.append(payload)
    try:
        ask(team, django_capture_on_commit_callbacks, assignee=team.derm)
    finally:
        events.send_now = original

    note = Notification.objects.get(user=team.derm)
    expected = "Is this plaque psoriasis or nummular eczema? Biopsy showed acanthosis."
    assert note.body == expected
    [frame] = [p for p in sent if p["type"] == "notification"]
    assert frame["notification"]["body"] == expected


# --- Due soon and overdue -----------------------------------------------------------


def test_escalation_reminds_then_escalates_each_consult_once(
    team, django_capture_on_commit_callbacks
):
    consult = ask(team, django_capture_on_commit_callbacks, specialty=team.dermatology)
    with django_capture_on_commit_callbacks(execute=True):
        consult_svc.consult_accept(consult=consult, by=team.derm2)
    mail.outbox.clear()
    start = consult.created

    # 50 h into a 72 h routine consult: more than a quarter left, nothing yet.
    with django_capture_on_commit_callbacks(execute=True):
        early = consults_escalate(now=start + timedelta(hours=50))
    assert (early.due_soon, early.overdue) == (0, 0)
    assert mail.outbox == []

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            soon = consults_escalate(now=start + timedelta(hours=60))
    [reminder] = mail.outbox
    assert reminder.to == ["dmitri@example.org"]
    assert reminder.subject.startswith("Due in 12")
    assert "Scaly plaques on the shins" in reminder.subject
    assert soon.due_soon == 0  # the second run found it already sent
    mail.outbox.clear()

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            late = consults_escalate(now=start + timedelta(hours=73))
    assert late.overdue == 0
    assert sorted(m.to[0] for m in mail.outbox) == [
        "dmitri@example.org",  # the specialist who took it
        "dora@example.org",  # the rest of the specialty
        "olive@example.org",  # the requester
    ]
    assert {m.subject for m in mail.outbox} == {
        "Overdue: the routine consult on “Scaly plaques on the shins”"
    }
    overdue_notes = Notification.objects.filter(data__reminder="overdue")
    assert overdue_notes.count() == 3


def test_answered_consults_are_not_escalated(team, django_capture_on_commit_callbacks):
    consult = ask(team, django_capture_on_commit_callbacks, assignee=team.derm)
    with django_capture_on_commit_callbacks(execute=True):
        consult_svc.consult_accept(consult=consult, by=team.derm)
        consult_svc.consult_answer(consult=consult, by=team.derm, impression="Fine.")
    mail.outbox.clear()

    report = consults_escalate(now=consult.created + timedelta(days=5))

    assert (report.due_soon, report.overdue) == (0, 0)
    assert mail.outbox == []


def test_consults_escalate_command_reports_what_it_sent(
    team, django_capture_on_commit_callbacks, capsys
):
    ask(
        team,
        django_capture_on_commit_callbacks,
        assignee=team.derm,
        due_at=timezone.now() + timedelta(seconds=1),
    )
    ConsultRequest.objects.update(due_at=timezone.now() - timedelta(minutes=1))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("consults_escalate")
        call_command("consults_escalate")

    out = capsys.readouterr().out.splitlines()
    assert out == [
        "0 due-soon reminder(s), 1 overdue escalation(s) sent.",
        "0 due-soon reminder(s), 0 overdue escalation(s) sent.",
    ]
    assert sorted(m.to[0] for m in mail.outbox) == [
        "dana@example.org",
        "olive@example.org",
    ]


# --- Patients -----------------------------------------------------------------------


def test_patient_is_told_their_clinician_replied_and_nothing_else(
    make_patient, make_clinician, django_capture_on_commit_callbacks
):
    clinician = make_clinician("zelda", first_name="Zelda", last_name="Quill")
    patient = make_patient("yusuf", clinician=clinician)
    submission = submit(patient, clinician, link=TIKTOK, description="My rash video")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        submission_svc.submission_reply(
            submission=submission, by=clinician, note="Looks like eczema, use cream."
        )

    [message] = mail.outbox
    assert message.to == ["yusuf@example.org"]
    assert message.subject == "Your clinician replied to your submission"
    assert "http://localhost:8000/portal/" in message.body
    texts = [message.subject, message.body, html_of(message)]
    for text in texts:
        for clinical in ("eczema", "cream", "rash", "video", "tiktok", "derm.clips"):
            assert clinical not in text.lower()
        for name in ("Zelda", "Quill", "Yusuf", "yusuf", "zelda"):
            assert name not in text
    assert f"#submission-{submission.pk}" not in message.body
    assert Submission.objects.get(pk=submission.pk).clinician_note


def test_clinicians_are_not_emailed_about_patient_submissions(
    make_patient, make_clinician, django_capture_on_commit_callbacks
):
    clinician = make_clinician("cara")
    patient = make_patient("peter", clinician=clinician)

    submit(patient, clinician, link=TIKTOK)

    assert Notification.objects.filter(user=clinician).count() == 1
    assert mail.outbox == []


# --- Mentions while away ------------------------------------------------------------


def mention(team, body: str, client_id: str, capture):
    with capture(execute=True):
        return message_post(
            case=team.case,
            thread=thread_default(case=team.case),
            by=team.owner,
            body=body,
            client_id=client_id,
        ).message


@pytest.fixture
def mentioned(team, make_clinician):
    from cases.models import CaseParticipant

    CaseParticipant.objects.create(
        case=team.case, user=team.derm, role=CaseParticipant.Role.COLLABORATOR
    )
    return team


def test_unread_mentions_are_batched_into_one_digest_after_the_delay(
    mentioned, django_capture_on_commit_callbacks
):
    team = mentioned
    mention(team, "@dana what do you think?", "m1", django_capture_on_commit_callbacks)
    mention(team, "@dana and the **shins**?", "m2", django_capture_on_commit_callbacks)
    now = timezone.now()

    assert mention_digests_send(now=now + timedelta(minutes=4)) == 0
    assert mail.outbox == []

    assert mention_digests_send(now=now + timedelta(minutes=6)) == 1
    [digest] = mail.outbox
    assert digest.to == ["dana@example.org"]
    assert digest.subject == "You were mentioned 2 times in Consilium"
    title = "Olive Owner mentioned you in “Scaly plaques on the shins”"
    assert digest.body.count(title) == 2
    assert "what do you think" not in digest.body
    assert "what do you think" not in html_of(digest)
    assert digest.extra_headers["List-Unsubscribe-Post"] == (
        "List-Unsubscribe=One-Click"
    )

    # Sent once: the next run has nothing; a later mention starts a new digest.
    assert mention_digests_send(now=now + timedelta(minutes=30)) == 0
    mention(team, "@dana one more", "m3", django_capture_on_commit_callbacks)
    assert mention_digests_send(now=timezone.now() + timedelta(minutes=6)) == 1
    assert mail.outbox[1].subject == title


def test_mentions_read_in_time_are_not_emailed(
    mentioned, django_capture_on_commit_callbacks
):
    team = mentioned
    mention(team, "@dana first", "m1", django_capture_on_commit_callbacks)
    mention(team, "@dana second", "m2", django_capture_on_commit_callbacks)
    first = Notification.objects.filter(user=team.derm).order_by("pk").first()
    notifications_mark_read(user=team.derm, ids=[first.pk])

    assert mention_digests_send(now=timezone.now() + timedelta(minutes=6)) == 1
    [digest] = mail.outbox
    assert digest.subject == (
        "Olive Owner mentioned you in “Scaly plaques on the shins”"
    )
    assert PendingMention.objects.get(notification=first).state == "dropped"

    notifications_mark_read(user=team.derm)
    mention(team, "@dana third", "m3", django_capture_on_commit_callbacks)
    notifications_mark_read(user=team.derm)
    assert mention_digests_send(now=timezone.now() + timedelta(minutes=6)) == 0
    assert len(mail.outbox) == 1


def test_digest_waits_while_the_user_has_a_page_open(
    mentioned, django_capture_on_commit_callbacks
):
    team = mentioned
    online.user_connection_open(user_id=team.derm.pk, connection="tab-1")
    mention(team, "@dana here?", "m1", django_capture_on_commit_callbacks)
    later = timezone.now() + timedelta(minutes=6)

    assert mention_digests_send(now=later) == 0
    online.user_connection_close(user_id=team.derm.pk, connection="tab-1")
    assert mention_digests_send(now=later) == 1
    assert len(mail.outbox) == 1


def test_digest_delay_and_mention_preference_are_the_users(
    mentioned, django_capture_on_commit_callbacks
):
    team = mentioned
    EmailPreference.objects.create(user=team.derm, digest_minutes=15)
    mention(team, "@dana slow", "m1", django_capture_on_commit_callbacks)
    assert mention_digests_send(now=timezone.now() + timedelta(minutes=10)) == 0
    assert mention_digests_send(now=timezone.now() + timedelta(minutes=16)) == 1

    EmailPreference.objects.filter(user=team.derm).update(mention=False)
    mention(team, "@dana off", "m2", django_capture_on_commit_callbacks)
    assert not PendingMention.objects.filter(state="pending").exists()
    assert mention_digests_send(now=timezone.now() + timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1


def test_notifications_digest_command_sends_due_digests(
    mentioned, django_capture_on_commit_callbacks, capsys
):
    team = mentioned
    mention(team, "@dana hi", "m1", django_capture_on_commit_callbacks)
    PendingMention.objects.update(created=timezone.now() - timedelta(minutes=10))

    call_command("notifications_digest")
    call_command("notifications_digest")

    assert capsys.readouterr().out.splitlines() == [
        "1 mention digest(s) sent.",
        "0 mention digest(s) sent.",
    ]
    assert len(mail.outbox) == 1


def test_online_entries_expire_and_count_each_tab(monkeypatch):
    online.user_connection_open(user_id=7, connection="a")
    online.user_connection_open(user_id=7, connection="b")
    online.user_connection_close(user_id=7, connection="a")
    assert online.user_is_online(7)
    online.user_connection_close(user_id=7, connection="b")
    assert not online.user_is_online(7)

    online.user_connection_open(user_id=8, connection="a")
    real = online.time.time()
    monkeypatch.setattr(
        online.time, "time", lambda: real + online.ENTRY_TTL_SECONDS + 1
    )
    assert not online.user_is_online(8)


# --- Unsubscribe and preferences ----------------------------------------------------


def test_one_click_unsubscribe_post_works_without_login(team):
    token = unsubscribe_token(team.derm, "consult_assigned")
    url = reverse("email_unsubscribe", args=[token])

    response = Client(enforce_csrf_checks=True).post(
        url,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    pref = EmailPreference.objects.get(user=team.derm)
    assert pref.consult_assigned is False
    assert pref.consult_accepted is True and pref.unsubscribed_all is False
    assert AuditEvent.objects.filter(verb="email.preferences", actor=team.derm).exists()


def test_unsubscribe_get_only_asks_and_post_can_stop_everything(team):
    url = reverse("email_unsubscribe", args=[unsubscribe_token(team.derm, "mention")])
    client = Client()

    page = client.get(url)
    assert page.status_code == 200
    assert b"Stop all notification e-mails" in page.content
    assert not EmailPreference.objects.filter(user=team.derm).exists()

    done = client.post(url, {"scope": "all"})
    assert done.status_code == 200
    assert b"no more notification e-mails" in done.content
    assert EmailPreference.objects.get(user=team.derm).unsubscribed_all is True


def test_forged_unsubscribe_token_is_refused_and_changes_nothing(team):
    token = unsubscribe_token(team.derm, "mention")
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")

    response = Client().post(reverse("email_unsubscribe", args=[forged]))

    assert response.status_code == 400
    assert b"does not work" in response.content
    assert not EmailPreference.objects.exists()


def test_unsubscribed_user_gets_no_more_mail(team, django_capture_on_commit_callbacks):
    Client().post(
        reverse("email_unsubscribe", args=[unsubscribe_token(team.derm, "mention")]),
        {"scope": "all"},
    )

    ask(team, django_capture_on_commit_callbacks, assignee=team.derm)

    assert mail.outbox == []


def test_preferences_page_is_linked_from_the_profile_and_saves(team, client_for):
    client = client_for(team.derm)
    assert (
        reverse("email_preferences").encode() in client.get(reverse("profile")).content
    )

    page = client.get(reverse("email_preferences"))
    assert page.status_code == 200
    html = page.content.decode()
    assert '<label for="id_consult_overdue">' in html
    assert "id_submission_reply" not in html
    assert "<legend>E-mail me when</legend>" in html

    response = client.post(
        reverse("email_preferences"),
        {
            "consult_assigned": "on",
            "consult_accepted": "on",
            "consult_answered": "on",
            "consult_due_soon": "on",
            "mention": "on",
            "digest_minutes": "60",
        },
    )

    assert response.status_code == 302
    pref = EmailPreference.objects.get(user=team.derm)
    assert pref.consult_overdue is False and pref.consult_assigned is True
    assert pref.digest_minutes == 60 and pref.digest_delay_minutes == 60


def test_patient_preferences_offer_only_their_email(make_patient, client_for):
    patient = make_patient("peter")
    client = client_for(patient)

    html = client.get(reverse("email_preferences")).content.decode()
    assert "id_submission_reply" in html
    assert "id_consult_assigned" not in html and "id_digest_minutes" not in html

    client.post(reverse("email_preferences"), {})
    assert EmailPreference.objects.get(user=patient).submission_reply is False


def test_preferences_need_login(client):
    response = client.get(reverse("email_preferences"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_bad_digest_choice_is_a_form_error(team, client_for):
    response = client_for(team.derm).post(
        reverse("email_preferences"), {"digest_minutes": "2"}
    )
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert not EmailPreference.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_mention_queues_a_delayed_digest_task_on_the_database_queue(mentioned):
    from django.test import override_settings
    from django_tasks_db.models import DBTaskResult

    team = mentioned
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    ):
        message_post(
            case=team.case,
            thread=thread_default(case=team.case),
            by=team.owner,
            body="@dana a question",
            client_id="db-1",
        )
        [queued] = DBTaskResult.objects.filter(
            task_path="workspace.mail.tasks.mention_digest"
        )
        assert queued.args_kwargs["kwargs"] == {"user_id": team.derm.pk}
        assert queued.run_after >= timezone.now() + timedelta(minutes=4)

        call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
        assert mail.outbox == []  # not due yet

        past = timezone.now() - timedelta(minutes=10)
        DBTaskResult.objects.filter(pk=queued.pk).update(run_after=past)
        PendingMention.objects.update(created=past)
        call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)

    [digest] = mail.outbox
    assert digest.to == ["dana@example.org"]


def test_week_old_mentions_are_dropped_and_finished_rows_forgotten(
    mentioned, django_capture_on_commit_callbacks
):
    from workspace.mail.services import pending_mentions_prune

    team = mentioned
    mention(team, "@dana old", "m1", django_capture_on_commit_callbacks)
    mention(team, "@dana sent", "m2", django_capture_on_commit_callbacks)
    stale, sent = PendingMention.objects.order_by("pk")
    PendingMention.objects.filter(pk=sent.pk).update(state="sent")

    deleted = pending_mentions_prune(now=timezone.now() + timedelta(days=8))

    assert deleted == 1
    assert not PendingMention.objects.filter(pk=sent.pk).exists()
    assert PendingMention.objects.get(pk=stale.pk).state == "dropped"
    assert mention_digests_send(now=timezone.now() + timedelta(days=8)) == 0


def test_stored_markdown_bodies_are_flattened_by_the_migration(team):
    from importlib import import_module

    from django.apps import apps

    old = Notification.objects.create(
        user=team.derm, title="Old", body="**Sepsis** vs _viral_ rash"
    )
    plain = Notification.objects.create(user=team.derm, title="Plain", body="Fine.")

    import_module("workspace.mail.migrations.0002_notification_bodies_as_text").flatten(
        apps, None
    )

    old.refresh_from_db()
    plain.refresh_from_db()
    assert old.body == "Sepsis vs viral rash"
    assert plain.body == "Fine."
