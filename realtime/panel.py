"""The discussion panel's template context, shared by the thread page and the
``{% case_discussion %}`` tag on the case page.

A fixed number of queries whatever the number of messages: topics (with
their last message id and the viewer's unread count) and one page of messages with their authors.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import strip_tags

from cases.models import Case
from cases.permissions import CaseAccess

from . import reads, selectors, services
from .anchors import anchor_frame
from .forms import MessageForm, ThreadForm
from .models import MAX_BODY_CHARS, Thread

__all__ = ["annotations_for_page", "discussion_context"]

PAGE_SIZE = 50
MAX_PAGE_ANNOTATIONS = 500
NOTE_EXCERPT_CHARS = 200


def annotations_for_page(*, case: Case, user) -> list[dict[str, Any]]:
    """Every live annotation of the case on media ``user`` may see, newest
    last, for drawing over the media (``#case-annotations``): one query."""
    rows = (
        selectors.annotations_for_case(case)
        .select_related("author", "anchor_media__asset")
        .order_by("-id")[:MAX_PAGE_ANNOTATIONS]
    )
    found = []
    for message in rows:
        item = message.anchor_media
        item.case = case
        if not item.visible_to(user):
            continue
        text = " ".join(strip_tags(message.body_html).split())
        if len(text) > NOTE_EXCERPT_CHARS:
            text = text[: NOTE_EXCERPT_CHARS - 1] + "…"
        found.append(
            {
                "id": message.pk,
                "thread": message.thread_id,
                "author": message.author.display_name,
                "text": text,
                "anchor": anchor_frame(message),
            }
        )
    found.reverse()
    return found


def discussion_context(
    *,
    request: HttpRequest,
    case: Case,
    access: CaseAccess,
    thread: Thread | None = None,
    before: int | None = None,
    form: MessageForm | None = None,
    thread_form: ThreadForm | None = None,
    next_url: str | None = None,
    phi_findings: list[dict] | None = None,
    topic_phi_findings: list[dict] | None = None,
) -> dict[str, Any]:
    """``phi_findings`` / ``topic_phi_findings``: what the PHI gate flagged in
    a refused message or topic title (``realtime.views.findings_for``)."""
    threads = list(reads.threads_with_unread(case=case, user=request.user))
    if not any(t.is_default for t in threads):
        services.thread_default(case=case)
        threads = list(reads.threads_with_unread(case=case, user=request.user))
    if thread is None:
        thread = next(t for t in threads if t.is_default)
    else:
        thread = next((t for t in threads if t.pk == thread.pk), thread)
    page = selectors.message_history(
        case=case, thread=thread, before=before, limit=PAGE_SIZE
    )
    if form is None:
        # A fresh idempotency key per rendered form: submitting the same form
        # twice (double click, resubmit after a timeout) posts one message.
        form = MessageForm(initial={"client_id": f"form-{uuid.uuid4()}"})
    thread_url = reverse("discussion_thread", args=[case.pk, thread.pk])
    return {
        "case": case,
        "access": access,
        "thread": thread,
        "threads": threads,
        "thread_messages": page.messages,
        "has_more": page.has_more,
        "older_url": (
            f"{thread_url}?before={page.messages[0].pk}#discussion"
            if page.has_more and page.messages
            else ""
        ),
        "is_latest_page": before is None,
        "last_id": max((t.last_id or 0 for t in threads), default=0),
        "form": form,
        "thread_form": thread_form or ThreadForm(),
        "thread_url": thread_url,
        "next_url": next_url or request.get_full_path(),
        "max_body": MAX_BODY_CHARS,
        "ws_path": f"/ws/cases/{case.pk}/",
        "viewer": request.user,
        "phi_findings": phi_findings or [],
        "topic_phi_findings": topic_phi_findings or [],
        "annotations_json": json.dumps(
            annotations_for_page(case=case, user=request.user),
            separators=(",", ":"),
        ),
    }
