"""Towns, cities and counties.

Safe Harbor allows the state and the country, so only smaller places count.
A place from the gazetteer is flagged:

- after a cue that introduces a place ("lives in", "from", "moved to", "born
  in", "near", "town of") — even when the name is also an English word
  ("lives in Bath", "from Reading");
- after a plain "in", "at" or "to", unless it is also an English word;
- before a state or a postcode ("Springfield, IL", "Leeds LS1 4AP");
- with "County" ("Orange County", "County Durham", "Co. Mayo");
- on its own when it is a large city that is neither an English word nor a
  given name ("London", "Leeds").

- after a residence cue ("lives in", "resident of", "her home in the",
  "originally from", "we moved to") even when the gazetteer does not know it,
  if it is no English word ("lives in Penge", "the Bronx");
- in an all-lower-case text, after "in", "at" or "to" ("we live in luton").

Never when it is part of a longer capitalised name ("Austin Flint murmur") or
names a disease, sign or score ("Lyme disease", "West Nile virus", "Bristol
stool chart", "Glasgow Coma Scale").

The town on a street address line is found here too
(:func:`town_after_address`), for the scanner to report on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from cases.phi.addresses import _US_STATES
from cases.phi.dates import _MONTH_NAMES
from cases.phi.findings import REASONS, _Hit
from cases.phi.lexicon import (
    FIRST_NAMES,
    PLACE_WORDS,
    PLACES,
    REGIONS,
    SURNAMES,
    VERY_COMMON,
    WORDS,
    place_flags,
    plain,
)
from cases.phi.names import _DISEASE_WORDS, _EPONYMS, _NOT_NAMES
from cases.phi.text import _LOW, _UP, _Doc, _words

_CAP = rf"[{_UP}][{_LOW}]+(?:['’-][{_UP}]?[{_LOW}]+)*"
_CAP_WORD = re.compile(rf"(?<![\w'’.-]){_CAP}")
_PLACE_TOKEN = re.compile(
    rf"{_CAP}|upon|on|le|la|de|in|by|the|of|under|over|en|sur|am|der|del|do|da|du"
    r"|les|los|las|el|al|super"
)
_GAP = re.compile(r"[ \t]+|-")
_DAYS = _words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
_NOT_PLACES = frozenset(w.casefold() for w in _MONTH_NAMES | _DAYS | _NOT_NAMES) | {
    "mercy",
    "christmas",
    "easter",
}
# Eponyms ("Wells score", "Glasgow Coma Scale") are towns only after a cue.
_EPONYM_PLACES = frozenset(w.casefold() for w in _EPONYMS)

# What makes a capitalised place-like word a disease, sign, score or device.
_NOT_A_PLACE_AFTER = re.compile(
    r"[ \t-]*(?:(?!(?:the|a|an|and|or|with|near|in|at|to|for|of|from|on|by|is|was"
    r"|last|this|next|her|his|their|where|since|until|after|before)\b)[A-Za-z][\w-]*"
    rf"[ \t]+)?(?:{_DISEASE_WORDS[3:-3]}|virus|viral"
    r"|fever|encephalitis|flu|influenza|boil|belly|strain|protocol|rule|rules"
    r"|splint|technique|knot|catheter|tube|shunt|questionnaire|index|system"
    r"|method|regimen|formula|chart|stool|criterion|classification|cocktail"
    r"|bandage|pessary|stitch|suture|triage|tomato|tea|salts?|water|spa|bun"
    r"|sausage|chair|ham|cheese|terrier|spaniel|brace|jacket|sprouts?|mustard|cake"
    r"|tart|pudding|sponge|boots?|pasty|cream|bean|beans|nut|nuts|orange|plane"
    r"|line|cast|mixture|sauce|cow|milk|\w+(?:itis|osis|oma|pathy|aemia|emia))\b",
    re.IGNORECASE,
)
_STRONG_CUE = re.compile(
    r"(?:\b(?:lives?|living|lived|resides?|residing|resident|settled|located"
    r"|based|born|raised|grew[ \t]+up|moved|moving|relocated|relocating|emigrated"
    r"|returned|travelled|traveled|travelling|traveling|flew|holiday(?:ing)?"
    r"|staying|stays|visiting|visited|commutes?)(?:[ \t]+(?:back|here|there|home))?"
    r"[ \t]+(?:in|at|to|from|near|of|around|outside)(?:[ \t]+the)?"
    r"|\b(?:from|near|outside|out[ \t]+of|hometown|hometown[ \t]+of|native[ \t]+of"
    r"|(?:home|family|relatives|parents|flat|house|farm)[ \t]+(?:in|near|outside)(?:[ \t]+the)?"
    r"|(?:town|city|village|county|borough|parish|suburb|district|area)[ \t]+of)"
    r"|\b(?:lives|living|lived|moved|visiting|visited)"
    r"|\b(?:home|address|town|city|village|county|residence|location|lives|from"
    r"|hometown|lives[ \t]+in)[ \t]*:)[ \t]+$",
    re.IGNORECASE,
)
# "Hexham resident", "a Barnsley man": the place a person is from.
_PERSON_FROM = re.compile(
    r"[ \t]+(?:residents?|natives?|local|locals|man|woman|men|women|boy|girl|lad"
    r"|lass|family|couple|pensioner|farmer|miner)\b"
)
_CLOSES_PHRASE = re.compile(
    r"[ \t]*(?:[,;.)!?\n]|$|[ \t](?:and|or|where|since|until|last|before|after"
    r"|with|who|when|for|every|each|back|till|but)\b)"
)
# Cues that say where someone lives or comes from: after one, a capitalised
# word that is no English word, name of a region or heading is a place even
# when the gazetteer does not know it (a suburb, a neighbourhood, a village).
_RESIDENCE_CUE = re.compile(
    r"\b(?:lives?|living|lived|live|resides?|residing|resident|settled|based|born"
    r"|raised|grew[ \t]+up|relocated|emigrated|staying|stays"
    r"|native|hometown|(?:home|family|relatives|parents|flat|house|farm))"
    r"(?:[ \t]+(?:here|there|now|back|home|out|nearby))?"
    r"[ \t]+(?:in|at|to|from|near|of|outside|around)(?:[ \t]+the)?[ \t]+$"
    r"|\b(?:town|village|suburb|district|borough|area|neighbou?rhood)[ \t]+of[ \t]+$"
    r"|\bnow[ \t]+(?:in|staying[ \t]+in|living[ \t]+in)[ \t]+$"
    r"|\b(?:originally|comes|came|is|are|hails|family)[ \t]+from(?:[ \t]+the)?[ \t]+$"
    # People move house; a drug is "switched to" ("we moved to Leith").
    r"|\b(?:we|i|they|he|she|family|parents)[ \t]+(?:have[ \t]+|had[ \t]+|recently[ \t]+"
    r"|just[ \t]+)?(?:moved|relocated)(?:[ \t]+(?:here|back|away))?[ \t]+(?:to|from)"
    r"[ \t]+$"
    # "lives with her niece in Penge".
    r"|\b(?:lives?|living|lived|resides?|staying|stays)\b[^.;,:\n]{0,30}?[ \t]"
    r"(?:in|near)(?:[ \t]+the)?[ \t]+$",
    re.IGNORECASE,
)
_WEAK_CUE = re.compile(r"\b(?:in|at|to|around)[ \t]+(?:the[ \t]+)?$")
_FOLLOWED_BY_REGION = re.compile(
    rf",?[ \t]+(?:(?:{'|'.join(sorted(_US_STATES))})\b(?!\.\w)"
    r"|[A-Z]{1,2}[0-9][A-Z0-9]?[ \t]+[0-9][A-Z]{2}\b"
    r"|(?:Co\.|County)[ \t]+[A-Z])"
)
_COUNTY = re.compile(
    rf"(?<![\w'’-])(?:(?P<a>{_CAP}(?:[ \t]+{_CAP})?)[ \t]+County\b"
    rf"|(?:County|Co\.)[ \t]+(?P<b>{_CAP}))"
)


_PLACE_BASED = re.compile(
    rf"(?<![\w'’.-])(?P<p>{_CAP}(?:[ \t]+{_CAP})?)-(?:based|born|bred|raised)\b"
)


def _place_at(text: str, start: int) -> tuple[int, str] | None:
    """The longest gazetteer place starting at ``start``: (end, flags)."""
    first = _CAP_WORD.match(text, start)
    if first is None:
        return None
    folded = first.group().casefold()
    most = PLACE_WORDS.get(folded) or PLACE_WORDS.get(plain(folded))
    if most is None:
        # "Kirkby-in-Ashfield" is written with spaces in the gazetteer.
        flags = place_flags(folded.replace("-", " ")) if "-" in folded else None
        return (first.end(), flags) if flags is not None else None
    ends, words, pos = [first.end()], [first.group()], first.end()
    while len(words) < most:
        gap = _GAP.match(text, pos)
        if gap is None:
            break
        token = _PLACE_TOKEN.match(text, gap.end())
        if token is None:
            break
        words.append(token.group())
        pos = token.end()
        ends.append(pos)
    for size in range(len(words), 0, -1):
        flags = place_flags(" ".join(words[:size]).casefold())
        if flags is not None and words[size - 1][:1].isupper():
            return ends[size - 1], flags
    return None


def place_after(text: str, pos: int) -> int | None:
    """End of a town named right after ``pos`` (", Sydney" after an address)."""
    match = re.compile(r",?[ \t]+").match(text, pos)
    if match is None:
        return None
    found = _place_at(text, match.end())
    if found is None or found[1] == "U":
        return None
    return found[0]


_TOWN_ON_ADDRESS = re.compile(
    rf",?[ \t]+(?P<t>{_CAP}(?:[ \t]+{_CAP}){{0,2}})(?=[ \t]*(?:[,.;)\n]|$)"
    rf"|,?[ \t]+(?:[A-Z]{{2,3}}\b|[A-Z]{{1,2}}[0-9][A-Z0-9]?[ \t]+[0-9][A-Z]{{2}}\b|\d{{4,6}}\b))"
)


def town_after_address(text: str, pos: int) -> _Hit | None:
    """The town after a street address: a gazetteer place, or capitalised
    words closing the line or followed by a state or a postcode."""
    match = _TOWN_ON_ADDRESS.match(text, pos)
    if match is None:
        return None
    words = match["t"].split()
    if words[0].casefold() in _NOT_PLACES or " ".join(words).casefold() in REGIONS:
        return None
    return _Hit(*match.span("t"), "location", REASONS["location"] + ".")


_AFTER_CAP = re.compile(rf"[ \t]+(?:{_CAP}|[A-Z]{{2,}}\b)")
_CAP_BEFORE = re.compile(rf"{_CAP}[ \t]+$")
_COMPASS_BEFORE = re.compile(r"(?:West|East|North|South)[ \t]+$")


def _location_hits(doc: _Doc) -> Iterator[_Hit]:
    text = doc.text
    for match in _CAP_WORD.finditer(text):
        start = match.start()
        folded = match.group().casefold()
        if folded in _NOT_PLACES or (
            folded not in PLACE_WORDS
            and plain(folded) not in PLACE_WORDS
            and ("-" not in folded or folded.replace("-", " ") not in PLACES)
        ):
            continue
        found = _place_at(text, start)
        if found is None:
            continue
        end, flags = found
        if flags == "U" or _NOT_A_PLACE_AFTER.match(text, end):
            continue
        after_cap = _AFTER_CAP.match(text, end)
        region = _FOLLOWED_BY_REGION.match(text, end)
        if after_cap and not region:
            continue
        before = text[max(0, start - 40) : start]
        if text[start - 1 : start] == "-" or _COMPASS_BEFORE.search(before):
            continue
        strong_cue = _STRONG_CUE.search(before) is not None
        # Part of a longer capitalised name: "Austin Flint", "Jack London".
        if not strong_cue and _CAP_BEFORE.search(before):
            continue
        # "Cedar Rapids", "Mile End": several capitalised words together are
        # a place name, even when each is also an English word.
        common = "c" in flags and " " not in text[start:end]
        strong = strong_cue or _PERSON_FROM.match(text, end) is not None
        listed = re.search(rf"({_CAP}),[ \t]*$", before)
        if listed and listed.group(1).casefold() in PLACES:
            strong = True  # "Wells, Somerset"
        if folded in _EPONYM_PLACES and not strong:
            continue
        if re.match(r"(?:St|Saint|Ste)\b", match.group()):
            # "at St Mary's" is a hospital or a church far more often than
            # the town of that name.
            ok = strong
        elif strong or region:
            ok = not (common and folded in VERY_COMMON)
        elif _WEAK_CUE.search(before):
            # "in Derby.", "to Bath and back": capitalised mid-sentence and
            # closing the phrase, a town even if it is also a word.
            ok = not common or (
                folded not in VERY_COMMON
                and not folded.endswith("ing")  # "seen in Reading": a gerund
                and _CLOSES_PHRASE.match(text, end) is not None
            )
        elif re.search(r"[^\W\d_][,;][ \t]*$", before) and _CLOSES_PHRASE.match(
            text, end
        ):
            # "Riverside Medical Practice, Ealing.": a town closing a list of
            # where someone is, and no word or given name.
            ok = not common and "p" not in flags and folded not in FIRST_NAMES
        else:
            # No cue: only a big city closing a phrase ("London, ", "… in
            # March from London."), never one before a noun ("Kyoto gastritis").
            ok = (
                _CLOSES_PHRASE.match(text, end) is not None
                and "B" in flags
                and not common
                and "p" not in flags
                and folded not in SURNAMES
            )
        if ok:
            yield _Hit(start, end, "location", REASONS["location"] + ".")
    yield from _residence_hits(doc)
    if "-b" in text or "-r" in text:
        for match in _PLACE_BASED.finditer(text):
            flags = place_flags(" ".join(match["p"].casefold().split()))
            if flags is not None and flags != "U":
                yield _Hit(*match.span("p"), "location", REASONS["location"] + ".")
    for match in _COUNTY.finditer(text):
        base = match["a"] or match["b"]
        if base.split()[0].casefold() in _NOT_PLACES:
            continue
        if match["b"] and base.casefold() not in PLACES:
            continue
        yield _Hit(*match.span(), "location", REASONS["location"] + ".")


_RESIDENCE_PLACE = re.compile(
    rf"(?<![\w'’-])(?:(?P<c>{_CAP}(?:[ \t]+{_CAP}){{0,2}})|(?P<l>[a-z][a-z'’-]{{3,}}))"
    r"(?![\w'’-])"
)
_RESIDENCE_PREPOSITIONS = _words("in at to of from near outside around")
_LOWER_WEAK_CUE = re.compile(r"\b(?:in|at|to|near|from)[ \t]+$")


def _residence_hits(doc: _Doc) -> Iterator[_Hit]:
    """Places the gazetteer may not know, by what is said around them.

    After a residence cue ("lives in Penge", "resident of Mylapore", "her home
    in the Bronx") a capitalised word that is no English word, region, month
    or eponym; in lower-case texting, a town from the gazetteer that is no
    English word ("we live in walthamstow", "a care home in bournemouth").
    """
    text, lower = doc.text, doc.lower
    reason = REASONS["location"] + "."
    # Written all in lower case, a town need not be a big one.
    texting = not any(ch.isupper() for ch in text)
    # Every cue ends with one of these words (and perhaps "the").
    for key_start in doc.word_starts(_RESIDENCE_PREPOSITIONS):
        pos = lower.find(" ", key_start, key_start + 8)
        if pos == -1:
            continue
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if lower.startswith("the ", pos):
            pos += 4
            while pos < len(text) and text[pos] in " \t":
                pos += 1
        match = _RESIDENCE_PLACE.match(text, pos)
        if match is None:
            continue
        start = match.start()
        if match["c"]:
            words = match["c"].split()
            first = words[0].casefold()
            phrase = " ".join(w.casefold() for w in words)
            if (
                first in WORDS
                or first in _NOT_PLACES
                or first in _EPONYM_PLACES
                or first in REGIONS
                or phrase in REGIONS
                or _RESIDENCE_CUE.search(text, max(0, start - 40), start) is None
                or _NOT_A_PLACE_AFTER.match(text, match.end())
            ):
                continue
            if lower[max(0, start - 4) : start] == "the " and (
                "the " + phrase in PLACES
            ):
                start -= 4  # "the Bronx"
            yield _Hit(start, match.end(), "location", reason)
            continue
        word = match["l"]
        if word in WORDS or word in FIRST_NAMES or word in _NOT_PLACES:
            continue
        flags = place_flags(word)
        if flags is None or "U" in flags or "c" in flags:
            continue
        before = text[max(0, start - 40) : start]
        if (
            _RESIDENCE_CUE.search(before) is not None
            or (("B" in flags or texting) and _LOWER_WEAK_CUE.search(before))
        ) and not _NOT_A_PLACE_AFTER.match(text, match.end()):
            yield _Hit(start, match.end(), "location", reason)
