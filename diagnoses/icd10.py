"""ICD-10 codes: format validation, normalisation and search over a small list.

The bundled list (``cases/data/icd10_common.csv``) holds a few hundred common
codes with their titles, enough for search-as-you-type while recording a
differential; any code of the right shape is accepted, listed or not.

Shape: a letter, two digits (ICD-10-CM also allows a letter third, e.g.
``C4A``), then optionally a dot and one to four letters or digits:
``J18``, ``J18.9``, ``S72.001A``. ``j189`` is normalised to ``J18.9``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.core.exceptions import ValidationError

__all__ = [
    "ICD10_RE",
    "Icd10Code",
    "codes",
    "lookup",
    "normalise_icd10",
    "search",
    "validate_icd10",
]

DATA_FILE = Path(__file__).parent / "data" / "icd10_common.csv"
ICD10_RE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?$")
_LOOSE_RE = re.compile(r"^([A-Z][0-9][0-9A-Z])\.?([0-9A-Z]{0,4})$")


@dataclass(frozen=True)
class Icd10Code:
    code: str
    title: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "title": self.title}


def normalise_icd10(value: str) -> str:
    """Upper-case, trim, and put the dot after the category: ``j189`` → ``J18.9``.

    Returns the input (trimmed, upper-cased) unchanged when it does not look
    like a code at all, so the validator can say so.
    """
    raw = (value or "").strip().upper().replace(" ", "")
    match = _LOOSE_RE.match(raw)
    if not match:
        return raw
    category, detail = match.groups()
    return f"{category}.{detail}" if detail else category


def validate_icd10(value: str) -> None:
    """Django validator: the value must be a well-formed ICD-10 code (or empty)."""
    if value and not ICD10_RE.match(value):
        raise ValidationError(
            "Enter an ICD-10 code such as J18.9 or L40 (a letter, two "
            "characters, then optionally a dot and up to four more).",
            code="icd10_format",
        )


@lru_cache(maxsize=1)
def codes() -> tuple[Icd10Code, ...]:
    """The bundled list, read once per process."""
    with DATA_FILE.open(newline="", encoding="utf-8") as fh:
        return tuple(
            Icd10Code(code=row["code"].strip(), title=row["title"].strip())
            for row in csv.DictReader(fh)
        )


@lru_cache(maxsize=1)
def _by_code() -> dict[str, Icd10Code]:
    return {c.code: c for c in codes()}


def lookup(code: str) -> Icd10Code | None:
    """The listed entry for ``code`` (normalised first), or None."""
    return _by_code().get(normalise_icd10(code))


def search(query: str, *, limit: int = 10) -> list[Icd10Code]:
    """Listed codes matching ``query`` by code prefix or by words in the title.

    Code-prefix matches come first, then titles starting with the query, then
    titles containing every word of it; the order within each group is the
    list's own. Queries under two characters return nothing.
    """
    q = (query or "").strip()
    if len(q) < 2:
        return []
    code_q = normalise_icd10(q)
    words = [w for w in re.split(r"\W+", q.lower()) if w]
    first: list[Icd10Code] = []
    second: list[Icd10Code] = []
    third: list[Icd10Code] = []
    for entry in codes():
        title = entry.title.lower()
        if entry.code.startswith(code_q) or entry.code.replace(".", "").startswith(
            code_q.replace(".", "")
        ):
            first.append(entry)
        elif title.startswith(q.lower()):
            second.append(entry)
        elif words and all(w in title for w in words):
            third.append(entry)
    return (first + second + third)[:limit]
