"""Employers: the name after a word about work, or a company's name.

Employers follow "works at/for", "employed by", "job at", "works as a … at",
"employer:", or carry a company suffix ("Acme Ltd"). A town after "works in"
is a location, not an employer; in lower-case texting ("im at work at
mcdonalds") a word that is no English word, name or place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from cases.phi.dates import _MONTH_NAMES
from cases.phi.findings import REASONS, _Hit
from cases.phi.institutions import _GENERIC
from cases.phi.lexicon import FIRST_NAMES, PLACES, WORDS
from cases.phi.locations import _CAP, _NOT_PLACES
from cases.phi.names import _ACRONYMS, _NOT_NAMES
from cases.phi.text import _Doc, _words

_EMPLOYER_CUE = re.compile(
    r"(?i:\b(?:works?|worked|working|employed|employment|employee|job|jobs|career"
    r"|volunteers?|volunteering|volunteered|retired|redundant|apprenticeship"
    r"|placement|shifts?|contract|contracted|drives|drove|delivers)"
    r"(?:[ \t]+(?:part-time|full-time|part[ \t]+time|full[ \t]+time|nights|shifts"
    r"|now|currently|still|previously|locally))?"
    r"(?:[ \t]+as[ \t]+(?:an?|the)[ \t]+[\w-]+(?:[ \t]+[\w-]+)?"
    r"|[ \t]+(?:an?|the)[ \t]+[\w-]+(?:[ \t]+[\w-]+)?)?"
    r"[ \t]+(?:at|for|by|with|from|in)"
    r"|\b(?:is|was|as|she's|he's)[ \t]+(?:an?|the)[ \t]+[a-z][\w-]*(?:[ \t]+[a-z][\w-]*)?"
    r"[ \t]+(?:at|for|with)"
    r"|\bemployer(?:s|'s)?(?:[ \t]+is|[ \t]+was|[ \t]*[:=,-])"
    r"|\b(?!(?:doctor|nurse|physician|surgeon|consultant|registrar|practitioner"
    r"|therapist|physio|specialist|sister|matron|paramedic|midwife|carer|later|after"
    r"|other|over|under|another|either|neither|whether|per|her|their|our|your"
    r"|together|ever|never|better|number|order|letter|member|partner|counter"
    r"|monitor|visitor|junior|senior|prior|anterior|posterior|interior|exterior"
    r"|superior|inferior|patient|resident|inpatient|outpatient)\b)[a-z]{3,}"
    r"(?:er|or|ist|ant|ian|man|woman|person|ess|eer)[ \t]+(?:at|for|with)"
    r"|\b(?:manager|director|cashier|clerk|supervisor|engineer|driver|owner"
    r"|partner|teacher|nurse|cleaner|chef|waiter|waitress|barista|accountant"
    r"|lawyer|solicitor|secretary|receptionist|technician|analyst|consultant"
    r"|developer|programmer|labourer|laborer|porter|mechanic)[ \t]+(?:at|for|with))"
    r"[ \t]+(?:the[ \t]+)?$"
    # "works in the food hall at", "worked nights on the wards for".
    r"|(?i:\b(?:works?|worked|working|employed|job)\b[^.;:\n]{0,40}?[ \t](?:at|for"
    r"|with)[ \t]+(?:the[ \t]+)?)$"
)
_ORG = re.compile(
    rf"(?:{_CAP}|[A-Z][A-Za-z]*[A-Z][A-Za-z]*|[A-Z]{{2,}}|[A-Z][a-z]*\d+[a-z]*)"
    rf"(?:['’]s)?(?:(?:[ \t]+(?:&|and|of|for|the|de|du)[ \t]+|[ \t]+|-)"
    rf"(?:{_CAP}|[A-Z][A-Za-z]*[A-Z][A-Za-z]*|[A-Z]{{2,}}|Sons)(?:['’]s)?){{0,5}}"
    r"(?:,?[ \t]+(?:Ltd|Limited|plc|PLC|Inc|LLC|LLP|Corp|Corporation|Co|GmbH)\b\.?)?"
)
_COMPANY = re.compile(
    rf"(?<![\w'’-])(?:{_CAP}|[A-Z]{{2,}})(?:[ \t]+(?:&[ \t]+)?(?:{_CAP}|[A-Z]{{2,}})){{0,4}},?"
    r"[ \t]+(?:Ltd|Limited|plc|PLC|Inc|LLC|LLP|Corp|Corporation|GmbH|& Sons|& Co)\b\.?"
)
_EMPLOYER_KEYWORDS = _words(
    "at for by with from in employer ltd limited plc inc llc llp corp corporation"
    " gmbh sons co"
)


_LOWER_ORG = re.compile(r"[a-z][a-z'’&]{3,}(?![\w'’-])")
_LOWER_EMPLOYER_CUE = re.compile(
    r"\b(?:works?|worked|working|employed|job)[ \t]+(?:at|for|by)[ \t]+(?:the[ \t]+)?$"
)


_EMPLOYER_STEMS = (
    "work",
    "employ",
    "job",
    "career",
    "volunteer",
    "retired",
    "redundant",
    "apprentice",
    "placement",
    "shift",
    "contract",
    "driv",
    "drove",
    "deliver",
)
_EMPLOYER_SUFFIXES = (
    "er",
    "or",
    "ist",
    "ant",
    "ian",
    "man",
    "woman",
    "person",
    "ess",
    "eer",
    "employer",
    "employers",
    "employer's",
)


_JOBS = _words(
    "manager director cashier clerk supervisor engineer driver owner partner teacher"
    " nurse cleaner chef waiter waitress barista accountant lawyer solicitor"
    " secretary receptionist technician analyst consultant developer programmer"
    " labourer laborer porter mechanic"
)


def _may_be_employer_cue(head: str) -> bool:
    """Whether ``head`` (lower case, before "at"/"for"…) could hold a cue:
    a word about work, or a job title right before the keyword."""
    if any(stem in head for stem in _EMPLOYER_STEMS):
        return True
    words = head.split()
    if words and words[-1] == "the":
        words.pop()
    if not words:
        return False
    last = words[-1]
    return (
        last.endswith(_EMPLOYER_SUFFIXES)
        or last in _JOBS
        or (len(words) >= 3 and words[-3] in {"is", "was", "as", "she's", "he's"})
        or (len(words) >= 4 and words[-4] in {"is", "was", "as", "she's", "he's"})
    )


def _org_words_ok(org: str) -> bool:
    words = [w for w in re.split(r"[ \t&-]+", org) if w]
    folded = [re.sub(r"['’]s$", "", w).casefold().rstrip(".") for w in words]
    meaningful = [
        w
        for w in folded
        if w not in {"and", "of", "for", "the", "de", "du", "ltd", "inc", "plc"}
    ]
    if not meaningful:
        return False
    if all(
        w in _NOT_NAMES or w in _GENERIC or w.upper() in _ACRONYMS for w in meaningful
    ):
        return False
    return not all(w in _NOT_PLACES for w in meaningful)


def _employer_hits(doc: _Doc) -> Iterator[_Hit]:
    text = doc.text
    reason = REASONS["employer"] + "."
    for key_start in doc.word_starts(
        frozenset({"at", "for", "by", "with", "from", "in", "employer", "is"})
    ):
        end_kw = text.find(" ", key_start)
        if end_kw == -1:
            continue
        pos = end_kw
        while pos < len(text) and text[pos] in " \t:=-":
            pos += 1
        if text.startswith("the ", pos):
            pos += 4
        if not text[pos : pos + 1].isupper():
            lower = None
            head = doc.lower[max(0, key_start - 12) : key_start]
            if "work" in head or "job" in head or "employ" in head:
                lower = _LOWER_ORG.match(text, pos)
            if (
                lower is not None
                and lower.group() not in WORDS
                and lower.group() not in FIRST_NAMES
                and lower.group() not in PLACES
                and lower.group().upper() not in _ACRONYMS
                and _LOWER_EMPLOYER_CUE.search(text, max(0, key_start - 40), pos)
            ):
                # "im at work at mcdonalds": lower-case texting.
                yield _Hit(pos, lower.end(), "employer", reason)
            continue
        window = text[max(0, key_start - 70) : pos]
        if not (
            doc.lower.startswith("employ", key_start)
            or _may_be_employer_cue(doc.lower[max(0, key_start - 70) : key_start])
        ):
            continue  # a cheap test first: the cue below is slow to search
        if _EMPLOYER_CUE.search(window) is None:
            continue
        org = _ORG.match(text, pos)
        if org is None:
            continue
        value = org.group().rstrip(",")
        if value in _MONTH_NAMES or not _org_words_ok(value):
            continue
        # A town after "works in" is a location, not an employer.
        first = value.split()[0].casefold()
        if text[key_start : key_start + 2].lower() == "in" and first in PLACES:
            continue
        yield _Hit(pos, pos + len(value), "employer", reason)
    if not any(
        s in text
        for s in (
            "Ltd",
            "Limited",
            "plc",
            "PLC",
            "Inc",
            "LLC",
            "LLP",
            "Corp",
            "GmbH",
            "& Sons",
            "& Co",
        )
    ):
        return
    for match in _COMPANY.finditer(text):
        if _org_words_ok(match.group()):
            yield _Hit(*match.span(), "employer", reason)
