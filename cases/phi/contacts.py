"""Phone and fax numbers, e-mail and web addresses, IP addresses.

A number after "Fax:" is a fax, not a phone; domains written without a
scheme ("bit.ly/abc") are found from their ending; IPv6 addresses are grown
from a ``:x:`` seed and validated with :mod:`ipaddress`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from cases.phi.findings import REASONS, _Hit
from cases.phi.rules import _IN_NUMBER, _NOT_BEFORE_NUM, _rule
from cases.phi.text import _Doc, _words

# Phone and fax ----------------------------------------------------------------
_PHONE_BODY = r"\+?\(?\d[\d\s().-]{5,22}\d"
# "Fax:", "fax no.", "faxed to", "fax the letter to".
_FAX_LABEL = (
    r"(?:fax(?:ed)?|facsimile)(?:\s*(?:no\.?|number|#))?"
    r"(?:(?:\s+[a-z]+){0,3}?\s+(?:to|on))?"
)
_PHONE_LABEL = (
    r"(?:tel(?:ephone)?|phone|ph|mob(?:ile)?|cell(?:phone)?|landline|contact"
    r"(?:\s+(?:no|number))?|call(?:ed)?|ring|text|whatsapp|reach(?:ed)?|pager)"
    r"(?:\s+(?:me|him|her|them|us))?"
    r"(?:\s*(?:no\.?|number|#))?(?:\s+(?:is|was))?(?:\s+(?:on|at))?"
)


# A valid North American number, however it is separated; or a 3-3-4 number
# whose shape alone says phone ("(555) 123-4567", "123-456-7890" with one
# separator throughout): the invented numbers notes and test letters use.
_NANP = (
    r"(?:(?:\([2-9][0-9]{2}\)\s?|[2-9][0-9]{2}[\s.-])[2-9][0-9]{2}[\s.-][0-9]{4}"
    r"|\([0-9]{3}\)\s?[0-9]{3}[\s.-][0-9]{4}"
    r"|[0-9]{3}(?P<sep>[.-])[0-9]{3}(?P=sep)[0-9]{4})"
)


def _phone_digits_ok(match: re.Match[str], low: int = 7, high: int = 15) -> bool:
    digits = sum(ch.isdigit() for ch in match["v"])
    return low <= digits <= high and match["v"].count("(") == match["v"].count(")")


_PHONE_RULES = [
    _rule(
        "fax",
        rf"{_FAX_LABEL}\s*[:.#-]?\s*(?P<v>{_PHONE_BODY})(?!\d)",
        check=_phone_digits_ok,
        lower=True,
        keywords="fax faxed facsimile",
    ),
    _rule(
        "phone",
        rf"{_PHONE_LABEL}\s*[:.#-]?\s*(?P<v>{_PHONE_BODY})(?!\d)",
        check=_phone_digits_ok,
        lower=True,
        keywords="tel telephone phone ph mob mobile cell cellphone landline contact"
        " call called ring text whatsapp reach reached pager",
    ),
    # International: +44 161 496 0000, +1 (415) 555-2671, +44 (0)20 7946 0958.
    _rule(
        "phone",
        r"(?P<v>\+[0-9]{1,3}[\s.-]?(?:\(0\)\s?)?\(?\d{1,4}\)?"
        r"(?:[\s.-]?\d{2,4}){2,5})(?![\w/]|[.-]\d)",
        check=lambda m: _phone_digits_ok(m, 8, 15),
        not_after=r"[\w+]",
    ),
    # North American: (555) 201-4477, 555-201-9988, 555.201.9988.
    _rule(
        "phone",
        rf"(?P<v>{_NANP}){_NOT_BEFORE_NUM}",
        not_after=_IN_NUMBER,
    ),
    _rule(
        "phone",
        rf"(?P<v>1[\s.-]{_NANP}){_NOT_BEFORE_NUM}",
        not_after=_IN_NUMBER,
    ),
    # Australia: (02) 9876 5432, 02 9876 5432.
    _rule(
        "phone",
        r"(?P<v>(?:\(0[2378]\)|0[2378])[\s-]?\d{4}[\s-]?\d{4})" + _NOT_BEFORE_NUM,
        not_after=r"[\w/.:+(-]",
    ),
    # UK: 020 7946 0958, (0161) 496 0000, 07700 900123, 07700900123.
    _rule(
        "phone",
        r"(?P<v>(?:0[1-9]\d{1,3}|\(0[1-9]\d{1,3}\))[\s-]?\d{3,4}[\s-]?\d{3,4})"
        + _NOT_BEFORE_NUM,
        check=lambda m: (
            _phone_digits_ok(m, 10, 11)
            and (not m["v"].isdigit() or m["v"].startswith("07"))
        ),
        not_after=r"[\w/.:+(-]",
    ),
]

# Email, URL, IP -------------------------------------------------------------
_TLD_LIST = _words(
    "com org net edu gov mil int io info biz uk ie au nz eu app health ly me tv co us"
)
# Country domains that only an e-mail address spelt out uses ("(dot)pl").
_CC_TLDS = _words(
    "pl jp cn kr ru br za ng ke gh pk ae sa sg hk my ph mx ar cl ch at se no dk fi be"
    " pt gr tr il nl de fr es it in ca ac nhs ro cz hu ua lk bd np eg ma tw vn id th"
)
_TLDS = "(?:{})".format("|".join(sorted(_TLD_LIST)))
_URL_TAIL = r"[^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]}]"
_TLD_DOT = re.compile(rf"\.{_TLDS}(?![a-z0-9-])")
_BARE_DOMAIN = re.compile(
    rf"(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+{_TLDS}(?:/(?:{_URL_TAIL})?)?(?![\w@-])"
)
_DOMAIN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")

_WEB_RULES = [
    _rule(
        "email",
        r"(?P<v>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b",
        not_after=r"[\w.+-]",
        gate=lambda source: "@" in source,
    ),
    _rule(
        "url",
        rf"(?P<v>(?:https?://|www\.)(?:{_URL_TAIL})?)",
        lower=True,
        keywords="http https www",
    ),
]


def _bare_domain_hits(doc: _Doc) -> Iterator[_Hit]:
    """Domains without a scheme (example.com/page, bit.ly/abc).

    Found from their ending (".com"), which is rare and quick to search for,
    then grown back to the start of the name.
    """
    text, reason, pos = doc.text, REASONS["url"] + ".", 0
    while (dot := _TLD_DOT.search(text, pos)) is not None:
        pos = dot.end()
        start = dot.start()
        while start and text[start - 1] in _DOMAIN_CHARS:
            start -= 1
        if start and (text[start - 1].isalnum() or text[start - 1] in "_@./-"):
            continue
        match = _BARE_DOMAIN.match(text, start)
        if match is not None and match.end() >= dot.end():
            pos = match.end()
            yield _Hit(start, match.end(), "url", reason)


_IPV4 = _rule(
    "ip",
    r"(?P<v>[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})(?![\w]|\.\d)",
    check=lambda m: _is_ip(m["v"], ipaddress.IPv4Address),
    not_after=r"[\w.]",
)
_IPV6_SEED = re.compile(r":[0-9A-Fa-f]{0,4}:")
_IPV6_CHARS = frozenset("0123456789abcdefABCDEF:.")


def _is_ip(
    text: str, kind: type[ipaddress.IPv4Address | ipaddress.IPv6Address]
) -> bool:
    try:
        kind(text)
    except ValueError:
        return False
    return True


def _ipv6_hits(text: str) -> Iterator[_Hit]:
    """IPv6 addresses, grown outwards from a ``:x:`` seed and then validated."""
    reason = REASONS["ip"] + "."
    pos = 0
    while (seed := _IPV6_SEED.search(text, pos)) is not None:
        start, end = seed.start(), seed.end()
        while start and text[start - 1] in _IPV6_CHARS:
            start -= 1
        while end < len(text) and text[end] in _IPV6_CHARS:
            end += 1
        pos = end
        candidate = text[start:end].rstrip(".:")
        boundary_ok = not (
            start and (text[start - 1].isalnum() or text[start - 1] == "_")
        )
        if (
            boundary_ok
            and candidate.count(":") >= 2
            and _is_ip(candidate, ipaddress.IPv6Address)
        ):
            yield _Hit(start, start + len(candidate), "ip", reason)
