"""Keyed UIDs and pseudonyms, age bands, date parsing and shifting."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from datetime import date, timedelta
from functools import lru_cache

from pydicom.uid import (
    UID_dictionary,
)


@lru_cache(maxsize=131072)
def map_uid(uid_key: bytes, uid: str) -> str:
    """Return the keyed replacement ``2.25.<n>`` for ``uid``.

    n is the integer of a version-8 UUID built from HMAC-SHA256(key, uid), as
    PS3.5 B.2 asks of 2.25 UIDs; the result is at most 44 characters.
    """
    digest = bytearray(
        hmac.new(uid_key, uid.strip("\x00 ").encode("ascii"), hashlib.sha256).digest()[
            :16
        ]
    )
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8: custom
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 9562 variant
    return f"2.25.{uuid.UUID(bytes=bytes(digest)).int}"


def pseudonym(uid_key: bytes, label: str, value: str) -> str:
    digest = hmac.new(
        uid_key, f"{label}\x00{value}".encode(), hashlib.sha256
    ).hexdigest()
    return f"ANON-{digest[:16].upper()}"


def is_well_known_uid(value: str) -> bool:
    return value in UID_dictionary


_AS_RE = re.compile(r"^\s*(\d{1,3})\s*([DWMY]?)\s*$")
_AS_UNIT_YEARS = {"D": 1 / 365.25, "W": 7 / 365.25, "M": 1 / 12, "Y": 1, "": 1}


def _age_years(age: str) -> float | None:
    match = _AS_RE.match(age or "")
    if not match:
        return None
    return int(match.group(1)) * _AS_UNIT_YEARS[match.group(2)]


def age_band(age: str) -> str | None:
    """Return the decade band of a DICOM AS age: ``"045Y" -> "40-49"``.

    Under one year (any D/W/M age below 12 months) is ``"<1"``, one to nine is
    ``"1-9"``, and 90 or more is ``"90+"`` so no exact age over 89 is ever
    kept. None when the value is not an age.
    """
    years = _age_years(age)
    if years is None:
        return None
    whole = int(years)
    if whole < 1:
        return "<1"
    if whole >= 90:
        return "90+"
    if whole < 10:
        return "1-9"
    low = whole // 10 * 10
    return f"{low}-{low + 9}"


def band_as_value(band: str) -> str:
    """The AS value kept in Patient's Age for a band: its lower bound."""
    if band == "<1":
        return "000Y"
    low = int(band.rstrip("+").split("-")[0])
    return f"{low:03d}Y"


def parse_da(value: str) -> date | None:
    value = value.strip()
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def shift_da(value: str, days: int) -> str | None:
    if "-" in value:  # a range, as found in query datasets
        parts = [shift_da(part, days) if part else "" for part in value.split("-")]
        return None if None in parts else "-".join(p or "" for p in parts)
    parsed = parse_da(value)
    if parsed is None:
        return None
    try:
        return (parsed + timedelta(days=days)).strftime("%Y%m%d")
    except OverflowError:
        return None


_DT_RE = re.compile(r"^(\d{8})(\d{0,6}(?:\.\d{1,6})?)([+-]\d{4})?$")


def shift_dt(value: str, days: int) -> str | None:
    # The UTC offset is dropped: Timezone Offset From UTC is removed (X) too.
    match = _DT_RE.match(value.strip())
    if not match:
        return None
    shifted = shift_da(match.group(1), days)
    return None if shifted is None else shifted + match.group(2)
