"""The scanner's word lists, read once from ``cases/phi/data/`` at import.

The files are derived from maintained packages by
``scripts/build_phi_lexicon.py`` (its docstring says how to regenerate them);
none of those packages is needed at run time. Everything is keyed by the
case-folded word, so ``"eleanor"`` and ``"Eleanor"`` look up alike.
"""

from __future__ import annotations

import gzip
from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"


def _rows(name: str) -> list[list[str]]:
    with gzip.open(_DATA / name, "rt", encoding="utf-8") as handle:
        return [line.split("\t") for line in handle.read().splitlines() if line]


def _load() -> tuple[
    frozenset[str],
    frozenset[str],
    frozenset[str],
    frozenset[str],
    dict[str, str],
    dict[str, int],
]:
    words, very_common = set(), set()
    for row in _rows("words.txt.gz"):
        words.add(row[0])
        if len(row) > 1:
            very_common.add(row[0])
    first, last = set(), set()
    for name, flags in _rows("names.txt.gz"):
        folded = name.casefold()
        if "F" in flags:
            first.add(folded)
        if "S" in flags:
            last.add(folded)
    places: dict[str, str] = {}
    longest: dict[str, int] = {}
    for name, flags in _rows("places.txt.gz"):
        folded = " ".join(name.casefold().split())
        places[folded] = flags
        head, size = folded.split(" ", 1)[0], folded.count(" ") + 1
        longest[head] = max(longest.get(head, 0), size)
    return (
        frozenset(words),
        frozenset(very_common),
        frozenset(first),
        frozenset(last),
        places,
        longest,
    )


#: Ordinary lower-case English words; ``VERY_COMMON`` ("will", "may") are far
#: more often words than names.
#: ``FIRST_NAMES`` and ``SURNAMES``: case-folded given and family names.
#: ``PLACES``: case-folded town, city and county names to their flags (``B``
#: a big city, ``c`` also an English word, ``p`` also a given name, ``K`` a UK
#: or Irish county, ``U`` a US county name, only meant with "County").
#: ``PLACE_WORDS``: a place's first word to the most words a place starting
#: with it has, so a lookup tries only as many words as can match.
WORDS, VERY_COMMON, FIRST_NAMES, SURNAMES, PLACES, PLACE_WORDS = _load()
