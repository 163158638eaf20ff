"""Dates more specific than a year, and ages over 89.

Safe Harbor counts both under its "dates" element: a bare year and a month
name on its own are allowed, and so is an age given as "90 or older". UK
duration shorthand ("3/7", "2/52") and scores ("9/10") are not dates.
"""

from __future__ import annotations

import re

from cases.phi.rules import _IN_NUMBER, _NOT_BEFORE_NUM, _WORD, _Rule, _rule
from cases.phi.text import _words

# Dates ------------------------------------------------------------------------
_MONTH_NAMES = _words(
    "January February March April May June July August September October"
    " November December Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec"
)
# Lower-case forms only where they are not also English words or abbreviations.
_MONTH_LOWER_OK = _words(
    "january february april june july august september october november december"
    " jan feb apr jun jul aug sep sept oct nov"
)
_MONTH = "(?:{})".format(
    "|".join(
        sorted(
            {m for name in _MONTH_NAMES for m in (name, name.upper())}
            | {
                name.lower() for name in _MONTH_NAMES if name.lower() in _MONTH_LOWER_OK
            },
            key=len,
            reverse=True,
        )
    )
)
_MONTH_KEYWORDS = " ".join(sorted({name.lower() for name in _MONTH_NAMES}))
_TIME = (
    r"(?:(?:,?\s+(?:at\s+)?|T)(?:[01]?\d|2[0-3])(?::|h)[0-5]\d(?::[0-5]\d)?"
    r"(?:\s*[ap]\.?m\.?)?(?![\d:])|,?\s+at\s+(?:1[0-2]|0?[1-9])\s*[ap]\.?m\.?)"
)
_ORDINAL = r"(?:st|nd|rd|th)"
_YEAR = r"(?:19|20)[0-9]{2}"


_ORDINAL_WORDS = (
    r"(?i:(?:twenty|thirty)[- ]?(?:first|second|third|fourth|fifth|sixth|seventh"
    r"|eighth|ninth)|thirty[- ]?first|first|second|third|fourth|fifth|sixth"
    r"|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth"
    r"|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth)"
)
# "of" alone is a score as often as a date ("a pain score of 9/10").
_DATE_LEAD_IN = re.compile(
    r"\b(?:on|dated|since|from|until|till|by|(?:night|morning|evening|afternoon"
    r"|weekend|week|date|end|start|beginning|middle)\s+of)\s+(?:the\s+)?$"
)
_DATE_LEAD_IN_STRICT = re.compile(r"\b(?:on|dated|since)\s+(?:the\s+)?$")


def _preceded_by(match: re.Match[str], lead_in: re.Pattern[str]) -> bool:
    """Whether ``lead_in`` (anchored with ``$``) ends where ``match`` starts."""
    start = match.start()
    return lead_in.search(match.string, max(0, start - 32), start) is not None


def _valid_dm(match: re.Match[str]) -> bool:
    a, b = int(match["a"]), int(match["b"])
    return (1 <= a <= 31 and 1 <= b <= 12) or (1 <= b <= 31 and 1 <= a <= 12)


def _valid_day(match: re.Match[str]) -> bool:
    return 1 <= int(match["d"]) <= 31


_DATE_RULES = [
    # 12/03/2024, 12.03.24, 5-11-2023 14:30 (either day or month first).
    _rule(
        "date",
        r"(?P<v>(?P<a>[0-9]{1,2})(?P<sep>[/.-])(?P<b>[0-9]{1,2})(?P=sep)"
        rf"(?:{_YEAR}|[0-9]{{2}}){_NOT_BEFORE_NUM}{_TIME}?)",
        check=_valid_dm,
        not_after=_IN_NUMBER,
    ),
    # 2024-03-12, 2024/03/12 09:15, 2023-11-02T09:15:00Z, and EXIF's
    # 2023:05:14 10:22:01 (pasted from a photo's details).
    _rule(
        "date",
        rf"(?P<v>{_YEAR}(?P<sep>[-/.:])(?P<m>[0-9]{{1,2}})(?P=sep)(?P<d>[0-9]{{1,2}})"
        r"(?:(?:T|\s+)(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?"
        rf"(?:Z|[+-]\d{{2}}:?\d{{2}})?)?){_NOT_BEFORE_NUM}",
        check=lambda m: 1 <= int(m["m"]) <= 12 and 1 <= int(m["d"]) <= 31,
        not_after=_IN_NUMBER,
    ),
    # 3 March 2024, 3rd of May, 14 Feb 1957, 7-Aug-2021.
    _rule(
        "date",
        rf"(?P<v>(?P<d>[0-9]{{1,2}}){_ORDINAL}?(?:\s+of)?(?:\s+|-|\.)(?:{_MONTH})\b"
        # A full stop belongs to the date only as an abbreviation ("Feb. 1957").
        rf"(?:\.(?=,?\s*\d))?"
        rf"(?:,?\s+(?:{_YEAR}|['’]\d{{2}})\b|-(?:{_YEAR}|\d{{2}})\b|(?<=\.){_YEAR}\b)?"
        rf"{_TIME}?)",
        check=_valid_day,
        not_after=_IN_NUMBER,
        keywords=_MONTH_KEYWORDS,
        lead_in=rf"[0-9]{{1,2}}{_ORDINAL}?(?:\s+of)?(?:\s+|-|\.)$",
    ),
    # "the twelfth of April", "twenty-first of June 2023".
    _rule(
        "date",
        rf"(?P<v>{_ORDINAL_WORDS}\s+of\s+(?:{_MONTH})\b(?:,?\s+{_YEAR}\b)?)",
        keywords=_MONTH_KEYWORDS,
        lead_in=rf"{_ORDINAL_WORDS}\s+of\s+$",
    ),
    # March 12th, Jan 5, 2023, March 12 2024; not "March 12 patients".
    _rule(
        "date",
        rf"(?P<v>(?:{_MONTH})\.?\s+(?:the\s+)?(?P<d>[0-3]?\d){_ORDINAL}?\b"
        r"(?!\s*(?:mg|mcg|ml|mmol|kg|%|units?|patients|days|weeks|months|years"
        r"|hours|minutes|x)\b|[.,:/]\d)"
        rf"(?:,?\s+{_YEAR}\b)?{_TIME}?)",
        check=_valid_day,
        not_after=_WORD,
        keywords=_MONTH_KEYWORDS,
    ),
    # November 2022, Mar '24: month and year is still more than a year.
    _rule(
        "date",
        rf"(?P<v>(?:{_MONTH})\.?(?:,?\s+(?:of\s+)?|-)(?:{_YEAR}|['’]\d{{2}})\b)",
        not_after=_WORD,
        keywords=_MONTH_KEYWORDS,
    ),
    # "on 12/5": day and month only. Without such a word "3/7" and "2/52" are
    # durations in UK notes (3 days of 7, 2 weeks), so they are left alone.
    _rule(
        "date",
        r"(?P<v>(?P<a>[0-9]{1,2})/(?P<b>[0-9]{1,2}))(?![\w/]|[.:-]\d)",
        check=lambda m: (
            1 <= int(m["a"]) <= 31
            and 1 <= int(m["b"]) <= 12
            and _preceded_by(m, _DATE_LEAD_IN)
            # "from 8/10 to 3/10" is a pain score; "on 8/10" is a date.
            and (m["b"] != "10" or _preceded_by(m, _DATE_LEAD_IN_STRICT))
        ),
        lower=True,
        not_after=_IN_NUMBER,
    ),
    # Christmas Day, New Year's Eve 2023: a day of the year by name.
    _rule(
        "date",
        r"(?P<v>(?:(?:christmas|boxing|new\s+year'?s)\s+(?:day|eve)"
        r"|thanksgiving(?:\s+day)?|easter\s+(?:sunday|monday)|independence\s+day)"
        rf"(?:,?\s+{_YEAR})?)\b",
        lower=True,
        keywords="christmas boxing new thanksgiving easter independence",
    ),
    # 03/2024 (month/year).
    _rule(
        "date",
        rf"(?P<v>(?:(?:0?[1-9]|1[0-2])/|(?:0[1-9]|1[0-2])[-.]){_YEAR}){_NOT_BEFORE_NUM}",
        not_after=_IN_NUMBER,
        gate=lambda source: any(
            f"{sep}{century}" in source for sep in "/-." for century in ("19", "20")
        ),
    ),
]

# Ages over 89 ---------------------------------------------------------------
_AGE_NUMBER = r"(?:9[0-9]|1[0-4][0-9])"
_SPELLED_90S = (
    r"(?:ninety|a\s+hundred|one\s+hundred)(?:[- ](?:and\s+)?"
    r"(?:one|two|three|four|five|six|seven|eight|nine))?"
)
_AGE_LEAD_IN = re.compile(
    r"\b(?:he|she|who|pt|patient|they|i|(?:[a-z]+'s|my|his|her|their|our|the)\s+"
    r"(?:mother|father|mum|mom|dad|grandmother|grandfather|gran|granny|grandma|grandpa"
    r"|grandad|nan|nana|husband|wife|aunt|uncle|patient|lady|gentleman|man|woman"
    r"|partner|neighbour|neighbor))(?:\s+(?:is|was|turned|turns|am|are)|'s)"
    r"\s+(?:now\s+|just\s+|nearly\s+|almost\s+)?$"
)
# "aged 90 or older", "over 90 years old": the band Safe Harbor asks for.
_AGE_BAND_BEFORE = re.compile(
    r"(?:\b(?:over|above|under|beyond|past|than|least)|[>≥<≤+])\s*$", re.IGNORECASE
)
_AGE_BAND_AFTER = re.compile(
    r"\s*(?:\+|(?:or|and)\s+(?:older|over|above|more|up))", re.IGNORECASE
)


def _not_a_band(match: re.Match[str]) -> bool:
    """Whether an age is exact, not "90 or older" / "over 90"."""
    start, end = match.span("v")
    source = match.string
    number = re.search(r"\d|ninety|hundred", source[start:end], re.IGNORECASE)
    head = source[max(0, start - 24) : start + (number.start() if number else 0)]
    return (
        _AGE_BAND_BEFORE.search(head) is None
        and _AGE_BAND_AFTER.match(source, end) is None
    )


_AGE_NUMBER_APPOSITION = re.compile(r"(?:[,(]|\b(?:is|was|turned|turns))[ \t]*$")
_SPELLED_90S_AGE = (
    rf"{_SPELLED_90S}(?:\s*-?\s*(?:years?|yrs?)(?:[- ]old\b|\s+of\s+age\b))?"
)


def _spelled_age_rule(pattern: str, **kwargs) -> _Rule:
    """An age over 89 in words: searched for only in (lower-cased) text that
    says "ninety" or "hundred"."""
    return _rule(
        "age",
        pattern,
        lower=True,
        gate=lambda source: "ninety" in source or "hundred" in source,
        **kwargs,
    )


_AGE_RULES = [
    # "aged ninety-two", "age of ninety", "turned ninety-one".
    _spelled_age_rule(
        rf"(?P<v>(?:aged?|age\s+of|turned|turns|reached)\s+{_SPELLED_90S_AGE})\b",
        keywords="age aged turned turns reached",
    ),
    # "she is ninety-four", "he was a hundred".
    _spelled_age_rule(
        rf"(?P<v>{_SPELLED_90S_AGE})\b(?![- ](?:per|percent|mg|kg|minutes|seconds|beats|bpm|mm|ml|days|weeks|months|times)\b)",
        check=lambda m: _preceded_by(m, _AGE_LEAD_IN),
        keywords="ninety a one",
    ),
    _rule(
        "age",
        rf"(?P<v>{_AGE_NUMBER}\s*-?\s*(?:years?|yrs?|yr)\s*-?\s*old\b"
        rf"|{_AGE_NUMBER}\s*-?\s*(?:y/o|y\.o\.?|yo|yof|yom)(?![\w/])"
        rf"|{_AGE_NUMBER}\s+years?\s+of\s+age\b)",
        lower=True,
        not_after=r"[\w.]",
        gate=lambda source: any(
            word in source for word in ("old", "yo", "y/o", "y.o", "of age")
        ),
    ),
    _spelled_age_rule(
        rf"(?P<v>{_SPELLED_90S}[- ]years?(?:[- ]old|\s+of\s+age))\b",
        keywords="ninety a one",
    ),
    _rule(
        "age",
        rf"(?P<v>(?:aged?|age\s*[:=]|age\s+of)\s*{_AGE_NUMBER})\b"
        r"(?!\s*(?:%|mg|kg|mm|cm|ml|days?|weeks?|months?|[./]\d))",
        lower=True,
        keywords="age aged",
    ),
    # "she is 102", "he turned 90".
    _rule(
        "age",
        rf"(?P<v>{_AGE_NUMBER})\b(?!\s*(?:%|kg|g|cm|mm|mg|lb|lbs|bpm|mmhg|/|\.\d))",
        check=lambda m: _preceded_by(m, _AGE_LEAD_IN),
        lower=True,
        not_after=r"[\w.]",
    ),
    _rule(
        "age",
        r"(?P<v>(?:super)?centenarians?|nonagenarians?)\b",
        lower=True,
        keywords="centenarian centenarians supercentenarian supercentenarians"
        " nonagenarian nonagenarians",
    ),
    _rule(
        "age",
        r"(?P<v>in\s+(?:his|her|their)\s+(?:(?:early|mid|late)[- ])?(?:90s|nineties))\b",
        lower=True,
        keywords="in",
        gate=lambda source: "90s" in source or "nineties" in source,
    ),
]

_AGE_RULES.append(
    # "Mr Subramanian, 92 years, resident of …".
    _rule(
        "age",
        rf"(?P<v>{_AGE_NUMBER}\s*(?:years?|yrs?))\b(?!\s*(?:ago|later|earlier|since"
        r"|before|after|previously|of\s+(?!age)))",
        check=lambda m: _preceded_by(m, _AGE_NUMBER_APPOSITION),
        lower=True,
        not_after=r"[\w.]",
        gate=lambda source: "year" in source or "yr" in source,
    )
)
_AGE_RULES = [
    _Rule(
        r.kind,
        r.pattern,
        r.reason,
        (lambda m, c=r.check: _not_a_band(m) and (c is None or c(m))),
        r.lower,
        r.value,
        r.weak,
        r.not_after,
        r.gate,
        r.keywords,
        r.lead_in,
    )
    for r in _AGE_RULES
]
