"""Discussion topics (threads) inside a case and the messages posted to them.

Invariants the database enforces:

- ``Message.seq`` is unique within a case; ``services.message_post`` assigns
  consecutive numbers under a lock on the case row, so within one case the
  order of ``id``, ``seq`` and commit is the same.
- ``(author, client_id)`` is unique: a client that resends a message after a
  reconnect gets the stored one back instead of a copy.
- A topic title is unique within its case (case-insensitively), and each case
  has at most one default topic ("General").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from cases.models import Case, CaseAsset

MAX_BODY_CHARS = 10_000
MAX_CLIENT_ID_CHARS = 64
MAX_TITLE_CHARS = 80
DEFAULT_THREAD_TITLE = "General"


class Thread(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="threads")
    title = models.CharField(max_length=MAX_TITLE_CHARS)
    is_default = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "created", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("title"), "case", name="unique_thread_title_per_case"
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(is_default=True),
                name="one_default_thread_per_case",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Message(models.Model):
    # The case is stored beside the thread so history and ``seq`` are one
    # indexed lookup per case, without a join.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    thread = models.ForeignKey(
        Thread, on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.PositiveBigIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="messages"
    )
    client_id = models.CharField(max_length=MAX_CLIENT_ID_CHARS)
    body = models.TextField(
        blank=True, help_text="Markdown as typed; empty once deleted"
    )
    body_html = models.TextField(
        blank=True, help_text="Sanitized HTML, rendered on save"
    )
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in"
    )
    created = models.DateTimeField(auto_now_add=True)
    edited = models.DateTimeField(null=True, blank=True)
    deleted = models.DateTimeField(null=True, blank=True)
    # An annotation: the message points at a place on one of the case's media
    # (``realtime.anchors`` validates it). ``anchor`` holds the place, e.g.
    # {"kind": "region", "shape": "box", "x1": .1, ...}; the media goes with
    # its item (a removed item leaves the note without its place).
    anchor_media = models.ForeignKey(
        CaseAsset,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="annotations",
    )
    anchor = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_id"], name="unique_message_client_id"
            ),
            models.UniqueConstraint(
                fields=["case", "seq"], name="unique_message_seq_per_case"
            ),
        ]
        indexes = [
            models.Index(fields=["thread", "id"], name="message_thread_id"),
            models.Index(fields=["case", "id"], name="message_case_id"),
        ]

    def __str__(self) -> str:
        # No body here: this label lands in the audit trail.
        return f"Message {self.pk} in case {self.case_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted is not None


class ThreadReadState(models.Model):
    """How far one user has read one topic (Zulip-style unread state).

    ``last_read_id`` only moves forward (``realtime.reads.thread_mark_read``);
    a message is unread for the user when it is newer than this, written by
    someone else and not deleted.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    thread = models.ForeignKey(
        Thread, on_delete=models.CASCADE, related_name="read_states"
    )
    last_read_id = models.PositiveBigIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "thread"], name="unique_thread_read_state"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"User {self.user_id} read thread {self.thread_id} to {self.last_read_id}"
        )
