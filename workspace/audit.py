"""The audit trail: one helper every feature calls to record who did what.

``record`` appends to a hash chain under a row lock, so concurrent writers on
PostgreSQL serialise and the chain never forks. Each hash is an HMAC keyed
by the audit key (audit_keys.py): someone who can write the table but not
read the key can't edit a row and recompute the hashes after it.
``verify_chain`` walks the chain and returns the first event whose key,
link or content no longer matches.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.http import HttpRequest

from .audit_keys import keyring
from .models import AuditChainHead, AuditEvent, User


def client_ip(request: HttpRequest | None) -> str | None:
    """The caller's address as the server saw it.

    X-Forwarded-For is never read here: anyone can send it. Behind nginx,
    Daphne's ``--proxy-headers`` puts the first X-Forwarded-For entry into
    REMOTE_ADDR, which is safe only because deploy/nginx.conf overwrites the
    header with ``$remote_addr`` (appending would keep a forged first entry)
    and Daphne listens on loopback only.
    """
    if request is None:
        return None
    return _normalise_ip(request.META.get("REMOTE_ADDR", ""))


def _normalise_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _describe(target: Any) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if isinstance(target, models.Model):
        label = str(target)[:200]
        return target._meta.label_lower, str(target.pk), label
    return type(target).__name__.lower(), "", str(target)[:200]


@transaction.atomic
def record(
    *,
    actor: User | None,
    verb: str,
    target: Any = None,
    case_id: int | None = None,
    request: HttpRequest | None = None,
    ip: str | None = None,
    data: dict | None = None,
) -> AuditEvent:
    """Append one event to the chain; never updates or deletes an event."""
    target_type, target_id, target_label = _describe(target)
    ring = keyring()
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    actor = actor if actor is not None and actor.is_authenticated else None
    event = AuditEvent(
        actor=actor,
        actor_label=actor.username if actor else "",
        verb=verb,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        case_id=case_id,
        ip=_normalise_ip(ip) if ip else client_ip(request),
        data=data or {},
        prev_hash=head.last_hash,
        key_id=ring.current_id,
    )
    event.hash = event.compute_hash(ring.current)
    event.save()
    head.last_hash = event.hash
    head.last_event_id = event.pk
    head.save(update_fields=["last_hash", "last_event_id"])
    return event


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def _events_in_order() -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("id").iterator(chunk_size=2000)


def verify_chain() -> tuple[int, ChainBreak | None]:
    """Check every key, link and hash; return (events checked, first break or None)."""
    ring = keyring()
    previous = ""
    previous_rank = 0
    count = 0
    last_id = None
    for event in _events_in_order():
        count += 1
        key = ring.keys.get(event.key_id)
        if key is None:
            return count, ChainBreak(
                event.pk,
                f"it is sealed with audit key {event.key_id!r}, which is not "
                "configured (list retired keys in AUDIT_HMAC_PREVIOUS_KEYS)",
            )
        rank = ring.rank(event.key_id)
        if rank < previous_rank:
            return count, ChainBreak(
                event.pk,
                f"it is sealed with retired audit key {event.key_id!r} after a "
                "newer key took over",
            )
        if event.prev_hash != previous:
            return count, ChainBreak(
                event.pk,
                "its link to the previous event does not match (an event before it was changed or removed)",
            )
        if not hmac.compare_digest(event.compute_hash(key), event.hash):
            return count, ChainBreak(
                event.pk, "its content does not match its hash (it was edited)"
            )
        previous = event.hash
        previous_rank = rank
        last_id = event.pk
    head = AuditChainHead.objects.filter(pk=1).first()
    if head and head.last_event_id and head.last_event_id != last_id:
        return count, ChainBreak(
            head.last_event_id,
            "the newest events were removed from the end of the chain",
        )
    return count, None
