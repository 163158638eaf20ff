"""The keys that seal the audit chain (HMAC-SHA256), and their rotation.

Every event names the key that sealed it (``AuditEvent.key_id``), so events
sealed before a rotation keep verifying with their old key. Keys are ordered
oldest to newest: the key derived from SECRET_KEY (id ``sk``, used while
AUDIT_HMAC_KEY is unset), then AUDIT_HMAC_PREVIOUS_KEYS in the order given,
then the current AUDIT_HMAC_KEY. A chain may only move forward through that
order, so a retired key that leaks can't seal events after its successor
took over.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac

DERIVED_KEY_ID = "sk"
KEY_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, bytes]  # oldest first; the current key is last

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]

    def rank(self, key_id: str) -> int:
        return list(self.keys).index(key_id)


def derived_key(secret_key: str | None = None) -> bytes:
    """The development key: a value derived from SECRET_KEY, never SECRET_KEY itself."""
    return (
        salted_hmac(
            "consilium.audit-chain",
            "audit-hmac-key",
            secret=secret_key or settings.SECRET_KEY,
            algorithm="sha256",
        )
        .hexdigest()
        .encode()
    )


def parse_previous_keys(value: str) -> dict[str, str]:
    """``id:key,id:key`` (oldest first) as an ordered dict; raises on bad input."""
    keys: dict[str, str] = {}
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        key_id, sep, key = item.partition(":")
        if not sep or not KEY_ID_RE.match(key_id) or not key:
            raise ImproperlyConfigured(
                "AUDIT_HMAC_PREVIOUS_KEYS must be a comma-separated list of id:key "
                "pairs, oldest first; ids are 1-16 letters, digits, - or _."
            )
        keys[key_id] = key
    return keys


def keyring() -> Keyring:
    keys: dict[str, bytes] = {DERIVED_KEY_ID: derived_key()}
    for key_id, key in settings.AUDIT_HMAC_PREVIOUS_KEYS.items():
        # An explicit ``sk`` (kept after SECRET_KEY was rotated) replaces the
        # derived value but keeps its place as the oldest key.
        keys[key_id] = key.encode()
    current_id = DERIVED_KEY_ID
    if settings.AUDIT_HMAC_KEY:
        current_id = settings.AUDIT_HMAC_KEY_ID
        if not KEY_ID_RE.match(current_id) or current_id == DERIVED_KEY_ID:
            raise ImproperlyConfigured(
                "AUDIT_HMAC_KEY_ID must be 1-16 letters, digits, - or _, and not 'sk'."
            )
        if current_id in settings.AUDIT_HMAC_PREVIOUS_KEYS:
            raise ImproperlyConfigured(
                f"AUDIT_HMAC_KEY_ID {current_id!r} is also listed in "
                "AUDIT_HMAC_PREVIOUS_KEYS: give the new key a new id."
            )
        keys[current_id] = settings.AUDIT_HMAC_KEY.encode()
    return Keyring(current_id=current_id, keys=keys)


def seal(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()
