"""The wire protocol of the discussion sockets (DESIGN.md): reading a client
frame, its fields and its ``ref``, the close codes, and the ``error`` frame a
refusal becomes.

Nothing here touches the database or a socket; the consumers call it.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from workspace.services import PermissionDenied, ServiceError

from . import services
from .frames import phi_findings

__all__ = [
    "CLOSE_FORBIDDEN",
    "CLOSE_NOT_FOUND",
    "CLOSE_NOT_LOGGED_IN",
    "BadFrame",
    "dumps",
    "error_frame",
    "frame_ref",
    "int_field",
    "parse_frame",
    "refusal_frame",
]

CLOSE_NOT_LOGGED_IN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404

# The largest frame read is settings.WS_MAX_FRAME_BYTES (256 KiB of UTF-8):
# more than any valid frame (10,000 characters JSON-escaped as \uXXXX pairs
# is 120 KB) and below Daphne's own limit (1 MiB), so an oversized frame gets
# a `too_long` error frame; only a message over Daphne's limit never reaches
# the app (autobahn drops the connection: tests/realtime/test_daphne_limits.py).


class BadFrame(Exception):
    def __init__(self, detail: str, code: str = "bad_request") -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


def dumps(content: dict) -> str:
    """A frame as the compact JSON text sent to clients."""
    return json.dumps(content, separators=(",", ":"))


def int_field(frame: dict, key: str, *, required: bool = True) -> int | None:
    """``frame[key]`` as a non-negative integer, else ``BadFrame``."""
    value = frame.get(key)
    if value is None:
        if required:
            raise BadFrame(f"`{key}` is required.")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadFrame(f"`{key}` must be a non-negative integer.")
    return value


def error_frame(code: str, detail: str, ref: Any = None, **extra: Any) -> dict:
    return {"type": "error", "code": code, "detail": detail, "ref": ref, **extra}


def refusal_frame(refused: ServiceError, ref: Any) -> dict:
    """The ``error`` frame for a service's refusal of the frame ``ref`` names."""
    if isinstance(refused, PermissionDenied):
        return error_frame("forbidden", str(refused), ref)
    if isinstance(refused, services.PHIFound):
        return error_frame(
            "phi_found", str(refused), ref, findings=phi_findings(refused)
        )
    if isinstance(refused, services.RateLimited):
        return error_frame(
            refused.code, str(refused), ref, retry_after=refused.retry_after
        )
    if isinstance(refused, services.BadAnchor | services.DiscussionError):
        return error_frame(refused.code, str(refused), ref)
    return error_frame("bad_request", str(refused), ref)


def _too_long(text: str, limit: int) -> bool:
    """True when ``text`` is more than ``limit`` bytes of UTF-8 (encoded only
    when the character count leaves it in doubt)."""
    if len(text) * 4 <= limit:
        return False
    if len(text) > limit:
        return True
    return len(text.encode("utf-8", "surrogatepass")) > limit


def parse_frame(text_data: str | None) -> dict:
    """The client's frame as a dict, or ``BadFrame`` (``bad_json`` /
    ``too_long``) for anything else; never raises anything but ``BadFrame``.

    Nesting too deep for the decoder (``"[" * 100000``) is ``bad_json``: the
    C decoder stops at the interpreter's recursion limit with a
    ``RecursionError``, which would otherwise end the consumer (a 1011 close).
    """
    if text_data is None:
        raise BadFrame("Send JSON as text frames.", "bad_json")
    limit = settings.WS_MAX_FRAME_BYTES
    if _too_long(text_data, limit):
        raise BadFrame(
            f"Frames are at most {limit:,} bytes; this one was not read.", "too_long"
        )
    try:
        frame = json.loads(text_data)
    except RecursionError:
        raise BadFrame("Frames must not be nested this deeply.", "bad_json") from None
    except ValueError:
        raise BadFrame("Frames must be JSON objects.", "bad_json") from None
    if not isinstance(frame, dict):
        raise BadFrame("Frames must be JSON objects.", "bad_json")
    return frame


def frame_ref(kind: str, frame: dict) -> Any:
    """What an error frame's ``ref`` names: the ``client_id`` of a
    ``message.send`` (or of a ``thread.create`` that has one), the message id
    of a ``message.edit``, otherwise the frame type."""
    if kind in ("message.send", "thread.create"):
        ref = frame.get("client_id")
        if isinstance(ref, str) and 0 < len(ref) <= 64:
            return ref
    elif kind == "message.edit":
        ref = frame.get("id")
        if isinstance(ref, int) and not isinstance(ref, bool) and ref >= 0:
            return ref
    return kind
