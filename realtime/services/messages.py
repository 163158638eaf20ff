"""Messages of a case's discussion: the one place a message is posted,
edited or deleted (the socket and the form fallback both call these).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from cases.models import Case
from cases.permissions import case_access
from cases.phi_gate import phi_gate
from workspace import audit
from workspace.events import broadcast_on_commit, case_group
from workspace.markdown import rendered_ahead
from workspace.models import Notification, User
from workspace.services import PermissionDenied, notification_create

from ..anchors import anchor_clean
from ..frames import message_frame, message_html
from ..models import MAX_CLIENT_ID_CHARS, Message, Thread
from ..rendering import link_mentions, mention_candidates, render_body
from ..selectors import case_mentionable
from .rules import (
    BadRequest,
    NotFound,
    clean_body,
    dismissed_keys,
    rate_limit,
    require_comment,
    require_view,
)

__all__ = ["PostResult", "message_delete", "message_edit", "message_post"]


@dataclass(frozen=True)
class PostResult:
    message: Message
    duplicate: bool  # True: the client_id was already stored, nothing was sent


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
        raise BadRequest(
            f"client_id must be a string of 1–{MAX_CLIENT_ID_CHARS} characters."
        )
    body = clean_body(body)
    dismissed = dismissed_keys(phi_dismissed)
    stored = _stored(by=by, client_id=client_id)
    if stored is not None:
        return PostResult(message=stored, duplicate=True)
    require_comment(case_access(by, case))
    thread_id = getattr(thread, "pk", thread)
    thread_obj = Thread.objects.filter(pk=thread_id, case=case).first()
    if thread_obj is None:
        raise NotFound("That topic does not exist in this case.")
    anchored = anchor_clean(case=case, by=by, anchor=anchor)
    rate_limit(by=by, scope="message")
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
    require_view(case_access(by, found_case))
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
    body = clean_body(body)
    dismissed = dismissed_keys(phi_dismissed)
    message = _own_message(case=case, message=message, by=by)
    case = case or message.case
    if body == message.body:
        return message
    rate_limit(by=by, scope="change")
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
    rate_limit(by=by, scope="change")
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
