"""Actions on discussions: the only place a topic is created or a message is
posted, edited or deleted. The WebSocket consumer and the HTML form fallback
both call these, so both get the same rules, limits and broadcasts.

Every broadcast is sent on commit (``workspace.events.broadcast_on_commit``),
so nobody hears of a message that was rolled back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from cases.models import Case
from cases.permissions import case_access
from cases.phi_gate import PHIFound, phi_gate
from workspace import audit
from workspace.events import broadcast_on_commit, case_group
from workspace.markdown import rendered_ahead
from workspace.models import Notification, User
from workspace.services import PermissionDenied, ServiceError, notification_create

from .anchors import BadAnchor, anchor_clean
from .frames import message_frame, message_html, thread_frame
from .models import (
    DEFAULT_THREAD_TITLE,
    MAX_BODY_CHARS,
    MAX_CLIENT_ID_CHARS,
    MAX_TITLE_CHARS,
    Message,
    Thread,
)
from .ratelimit import rate_limit_retry_after
from .rendering import link_mentions, mention_candidates, render_body
from .selectors import case_mentionable

__all__ = [
    "BadAnchor",
    "BodyTooLong",
    "DiscussionError",
    "InvalidInput",
    "NotFound",
    "PHIFound",
    "PostResult",
    "RateLimited",
    "message_delete",
    "message_edit",
    "message_post",
    "thread_create",
    "thread_default",
]


class DiscussionError(ServiceError):
    """A refused discussion action; ``code`` is the protocol's error code."""

    code = "bad_request"


class InvalidInput(DiscussionError):
    code = "bad_request"


class BodyTooLong(DiscussionError):
    code = "too_long"


class RateLimited(DiscussionError):
    """Too many actions of one kind; ``retry_after`` is the wait in seconds."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# What each rate-limit scope (``realtime.ratelimit``) is called in refusals.
_RATE_WHAT = {
    "message": "sending messages",
    "change": "changing messages",
    "topic": "adding topics",
}


def _rate_limit(*, by: User, scope: str) -> None:
    """Count one action of ``scope`` for ``by``; ``RateLimited`` when over."""
    wait = rate_limit_retry_after(user_id=by.pk, scope=scope)
    if wait:
        raise RateLimited(
            f"You are {_RATE_WHAT[scope]} too quickly; try again in "
            f"{wait} second{'s' if wait != 1 else ''}.",
            retry_after=wait,
        )


MAX_DISMISSED_KEYS = 200


def _dismissed(keys: object) -> list[str]:
    """The ``phi_dismissed`` keys a client sent: a list of strings."""
    if keys is None:
        return []
    if not isinstance(keys, list | tuple | set | frozenset) or not all(
        isinstance(k, str) and len(k) <= 128 for k in keys
    ):
        raise InvalidInput("phi_dismissed must be a list of finding keys.")
    if len(keys) > MAX_DISMISSED_KEYS:
        raise InvalidInput(
            f"phi_dismissed holds at most {MAX_DISMISSED_KEYS} finding keys."
        )
    return list(keys)


class NotFound(DiscussionError):
    code = "not_found"


@dataclass(frozen=True)
class PostResult:
    message: Message
    duplicate: bool  # True: the client_id was already stored, nothing was sent


# --- Topics --------------------------------------------------------------------------


def thread_default(*, case: Case) -> Thread:
    """The case's "General" topic, created on first use (safe under races)."""
    thread = Thread.objects.filter(case=case, is_default=True).first()
    if thread is not None:
        return thread
    try:
        with transaction.atomic():
            return Thread.objects.create(
                case=case, title=DEFAULT_THREAD_TITLE, is_default=True
            )
    except IntegrityError:
        # Someone else created it (or a topic already took the title).
        thread = Thread.objects.filter(case=case, is_default=True).first()
        if thread is not None:
            return thread
        thread = Thread.objects.get(case=case, title__iexact=DEFAULT_THREAD_TITLE)
        Thread.objects.filter(pk=thread.pk).update(is_default=True)
        thread.is_default = True
        return thread


@transaction.atomic
def thread_create(
    *,
    case: Case,
    by: User,
    title: str,
    phi_dismissed: Collection[str] | None = None,
    ip: str | None = None,
) -> Thread:
    """Add a topic to the case and announce it with a ``thread.new`` frame.

    Anyone who may comment may add topics. Titles are unique per case,
    ignoring case and surrounding space. The title passes the PHI gate
    (``PHIFound`` unless every finding is fixed or in ``phi_dismissed``).
    Rate limited per user (``RateLimited``, scope ``topic``).
    """
    access = case_access(by, case)
    _require_comment(access)
    dismissed = _dismissed(phi_dismissed)
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput("Give the topic a title.")
    if len(title) > MAX_TITLE_CHARS:
        raise BodyTooLong(f"Topic titles are at most {MAX_TITLE_CHARS} characters.")
    _rate_limit(by=by, scope="topic")
    phi_gate(
        fields={"title": title},
        dismissed=dismissed,
        by=by,
        surface="thread.create",
        case_id=case.pk,
        ip=ip,
    )
    thread_default(case=case)
    if (
        Thread.objects.filter(case=case)
        .annotate(lower=Lower("title"))
        .filter(lower=title.lower())
        .exists()
    ):
        raise InvalidInput(f"There is already a topic called “{title}”.")
    try:
        with transaction.atomic():
            thread = Thread.objects.create(case=case, title=title, created_by=by)
    except IntegrityError:
        raise InvalidInput(f"There is already a topic called “{title}”.") from None
    thread.last_id = 0
    audit.record(
        actor=by,
        verb="thread.create",
        target=thread,
        case_id=case.pk,
        data={"title": title},
    )
    broadcast_on_commit(
        case_group(case), {"type": "thread.new", "thread": thread_frame(thread)}
    )
    return thread


# --- Messages ------------------------------------------------------------------------


def _require_view(access) -> None:
    if not access.can_view:
        raise PermissionDenied("You no longer have access to this case.")


def _require_comment(access) -> None:
    _require_view(access)
    if not access.can_comment:
        raise PermissionDenied("Viewers can read the discussion but not post to it.")


def _clean_body(body: object) -> str:
    if not isinstance(body, str):
        raise InvalidInput("The message body must be text.")
    if len(body) > MAX_BODY_CHARS:
        raise BodyTooLong(
            f"Messages are at most {MAX_BODY_CHARS:,} characters "
            f"(this one has {len(body):,})."
        )
    if not body.strip():
        raise InvalidInput("Write something before sending.")
    return body


def _render(*, case: Case, body: str) -> tuple[str, list[User]]:
    """Body HTML with mentions of people who can see the case linked."""
    html = render_body(body)
    names = mention_candidates(html)
    mentioned: dict[str, User] = {}
    if names:
        for user in case_mentionable(case).filter(username__in=names):
            mentioned[user.username] = user
    if mentioned:
        html = link_mentions(
            html, lambda name: mentioned[name].pk if name in mentioned else None
        )
    return html, list(mentioned.values())


def _thread_url(message: Message) -> str:
    return (
        reverse("discussion_thread", args=[message.case_id, message.thread_id])
        + f"#m{message.pk}"
    )


def _notify_mentions(*, message: Message, case: Case, users: list[User]) -> None:
    excerpt = " ".join(strip_tags(message.body_html).split())
    if len(excerpt) > 200:
        excerpt = excerpt[:199] + "…"
    for user in users:
        if user.pk == message.author_id:
            continue
        notification_create(
            user=user,
            kind=Notification.Kind.MENTION,
            title=f"{message.author.display_name} mentioned you in “{case.title}”",
            body=excerpt,
            url=_thread_url(message),
            data={
                "case": case.pk,
                "thread": message.thread_id,
                "message": message.pk,
            },
        )


def _stored(*, by: User, client_id: str) -> Message | None:
    return (
        Message.objects.select_related("author", "thread", "anchor_media__asset")
        .filter(author=by, client_id=client_id)
        .first()
    )


def message_post(
    *,
    case: Case,
    thread: Thread | int,
    by: User,
    body: str,
    client_id: str,
    phi_dismissed: Collection[str] | None = None,
    ip: str | None = None,
    anchor: object = None,
) -> PostResult:
    """Post a message; the one place a message is created.

    Guarantees:
    - ``by`` may comment on ``case`` (else ``PermissionDenied``) and ``thread``
      belongs to it (else ``NotFound``); the body is 1–10,000 characters.
    - Idempotent per ``(by, client_id)``: a repeat returns the stored message
      with ``duplicate=True`` and broadcasts nothing, also when two identical
      sends race (the unique constraint decides, the loser reads the winner).
    - ``seq`` is the case's next number, taken under a row lock on the case
      in the same transaction, so numbers are consecutive and, within a case,
      ids, seqs and commits are in the same order.
    - On commit, ``message.new`` goes to the case group and each newly
      mentioned person who can see the case gets a ``mention`` notification.
    - Rate limited per user (``RateLimited``); repeats are not counted.
    - The body passes the PHI gate: ``PHIFound`` (nothing stored, no ``seq``
      taken, the ``client_id`` still free) unless every finding is fixed or
      its key is in ``phi_dismissed``; a dismissal is audited (``phi.dismiss``)
      in the posting transaction. A repeat of a stored ``client_id`` is not
      scanned again.
    - ``anchor`` (optional) makes the message an annotation on one of the
      case's media (``realtime.anchors``); a bad or foreign anchor raises
      ``BadAnchor`` and nothing is stored. The body is the annotation's note
      and goes through the same PHI gate.
    """
    if not isinstance(client_id, str) or not 0 < len(client_id) <= MAX_CLIENT_ID_CHARS:
        raise InvalidInput(
            f"client_id must be a string of 1–{MAX_CLIENT_ID_CHARS} characters."
        )
    body = _clean_body(body)
    dismissed = _dismissed(phi_dismissed)
    stored = _stored(by=by, client_id=client_id)
    if stored is not None:
        return PostResult(message=stored, duplicate=True)
    _require_comment(case_access(by, case))
    thread_id = getattr(thread, "pk", thread)
    thread_obj = Thread.objects.filter(pk=thread_id, case=case).first()
    if thread_obj is None:
        raise NotFound("That topic does not exist in this case.")
    anchored = anchor_clean(case=case, by=by, anchor=anchor)
    _rate_limit(by=by, scope="message")
    html, mentioned = _render(case=case, body=body)
    try:
        with transaction.atomic():
            locked = (
                Case.objects.select_for_update()
                .only("last_message_seq")
                .get(pk=case.pk)
            )
            # Checked again under the lock: a racing duplicate that got the
            # lock first has committed by now.
            stored = _stored(by=by, client_id=client_id)
            if stored is not None:
                return PostResult(message=stored, duplicate=True)
            # Under the lock, so the dismissal's audit event commits (or rolls
            # back) with the message; a refusal raises before seq is taken.
            phi_gate(
                fields={"body": body},
                dismissed=dismissed,
                by=by,
                surface="message.send",
                target=thread_obj,
                case_id=case.pk,
                ip=ip,
            )
            seq = locked.last_message_seq + 1
            Case.objects.filter(pk=case.pk).update(last_message_seq=seq)
            message = Message.objects.create(
                case=case,
                thread=thread_obj,
                seq=seq,
                author=by,
                client_id=client_id,
                body=body,
                body_html=html,
                anchor_media=anchored[0] if anchored else None,
                anchor=anchored[1] if anchored else None,
            )
            if mentioned:
                message.mentions.set(mentioned)
            _notify_mentions(message=message, case=case, users=mentioned)
            broadcast_on_commit(
                case_group(case),
                {"type": "message.new", "message": message_frame(message)},
            )
    except IntegrityError:
        # The same client_id committed in between (e.g. sent to two cases at
        # once); everything above rolled back, seq included.
        stored = _stored(by=by, client_id=client_id)
        if stored is None:
            raise
        return PostResult(message=stored, duplicate=True)
    case.last_message_seq = seq
    return PostResult(message=message, duplicate=False)


def _own_message(*, case: Case | None, message: Message | int, by: User) -> Message:
    message_id = getattr(message, "pk", message)
    qs = Message.objects.select_for_update().filter(pk=message_id)
    if case is not None:
        qs = qs.filter(case=case)
    found = qs.first()
    if found is None or found.is_deleted:
        raise NotFound("That message does not exist (or was deleted).")
    found_case = case if case is not None else Case.objects.get(pk=found.case_id)
    _require_view(case_access(by, found_case))
    if found.author_id != by.pk:
        raise PermissionDenied("Only the author can change a message.")
    found.author = by
    return found


def _audit_data(message: Message) -> dict:
    return {
        "thread": message.thread_id,
        "seq": message.seq,
        "previous_sha256": hashlib.sha256(message.body.encode()).hexdigest(),
        "previous_length": len(message.body),
    }


@rendered_ahead("body")
@transaction.atomic
def message_edit(
    *,
    message: Message | int,
    by: User,
    body: str,
    case: Case | None = None,
    ip: str | None = None,
    phi_dismissed: Collection[str] | None = None,
) -> Message:
    """Replace the body of the author's own live message.

    Re-renders the HTML, stamps ``edited``, records ``message.edit`` in the
    audit trail (with a hash of the previous text, not the text), notifies
    people newly mentioned, and broadcasts ``message.updated`` on commit.
    Pass ``case`` to refuse a message from another case as ``NotFound``.
    The new body passes the PHI gate like a new message (``PHIFound``,
    nothing changed). Rate limited per user with deletes (scope ``change``).
    """
    body = _clean_body(body)
    dismissed = _dismissed(phi_dismissed)
    message = _own_message(case=case, message=message, by=by)
    case = case or message.case
    if body == message.body:
        return message
    _rate_limit(by=by, scope="change")
    phi_gate(
        fields={"body": body},
        dismissed=dismissed,
        by=by,
        surface="message.edit",
        target=message,
        case_id=case.pk,
        ip=ip,
    )
    previous = _audit_data(message)
    html, mentioned = _render(case=case, body=body)
    already = set(message.mentions.values_list("pk", flat=True))
    message.body = body
    message.body_html = html
    message.edited = timezone.now()
    message.save(update_fields=["body", "body_html", "edited"])
    message.mentions.set(mentioned)
    _notify_mentions(
        message=message,
        case=case,
        users=[user for user in mentioned if user.pk not in already],
    )
    audit.record(
        actor=by,
        verb="message.edit",
        target=message,
        case_id=case.pk,
        ip=ip,
        data=previous,
    )
    broadcast_on_commit(
        case_group(case), {"type": "message.updated", "message": message_frame(message)}
    )
    return message


@transaction.atomic
def message_delete(
    *,
    message: Message | int,
    by: User,
    case: Case | None = None,
    ip: str | None = None,
) -> Message:
    """Turn the author's own message into a tombstone.

    The row (and its ``seq``) stays so history has no holes; the body, HTML
    and mentions are removed. Records ``message.delete`` in the audit trail
    and broadcasts ``message.deleted`` (with the tombstone's ``html``) on
    commit. Rate limited per user with edits (scope ``change``).
    """
    message = _own_message(case=case, message=message, by=by)
    case = case or message.case
    _rate_limit(by=by, scope="change")
    data = _audit_data(message)
    message.body = ""
    message.body_html = ""
    message.deleted = timezone.now()
    message.save(update_fields=["body", "body_html", "deleted"])
    message.mentions.clear()
    audit.record(
        actor=by,
        verb="message.delete",
        target=message,
        case_id=case.pk,
        ip=ip,
        data=data,
    )
    broadcast_on_commit(
        case_group(case),
        {
            "type": "message.deleted",
            "id": message.pk,
            "thread": message.thread_id,
            "html": message_html(message),
        },
    )
    return message
