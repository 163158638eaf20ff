"""Street addresses, PO boxes and flats; postcodes and ZIP codes.

UK postcodes must start with a real postcode area ("C5 6TH" is a nerve root);
a bare five-digit ZIP needs a state, a label or an address before it, and an
Indian PIN or an Australian postcode its label or state.
The town on an address line is found by ``locations``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from cases.phi.findings import REASONS, _Hit
from cases.phi.rules import _WORD, _rule
from cases.phi.text import _LOW, _UP, _words

# Addresses and postcodes -------------------------------------------------------
_STREET_SUFFIX_WORD = (
    r"(?:Street|Road|Avenue|Lane|Drive|Boulevard|Court|Way|Place|Close"
    r"|Crescent|Terrace|Gardens|Grove|Square|Parkway|Highway|Circle|Row|Mews|Hill"
    r"|Walk|Park|Rise|Vale|View|Green|Parade|Esplanade|Trail|Alley|Plaza|Loop"
    r"|Broadway|Wharf)\b"
)
_STREET_SUFFIX = (
    rf"(?:{_STREET_SUFFIX_WORD}"
    # An abbreviation keeps its full stop; a full word's is the sentence's.
    r"|(?:St|Rd|Ave|Av|Ln|Dr|Blvd|Ct|Pl|Cres|Terr|Gdns|Sq|Pkwy|Hwy|Cir|Trl)\b\.?)"
)
_STREET_WORD = rf"(?:[{_UP}][{_LOW}'’.-]*|\d+(?:st|nd|rd|th))"
_ADDRESS_RULES = [
    _rule(
        "address",
        r"(?P<v>[0-9]{1,5}[A-Za-z]?(?:[-/]\d{1,5}[A-Za-z]?)?,?\s+"
        r"(?:(?:North|South|East|West|[NSEW])\.?\s+)?"
        rf"(?:{_STREET_WORD}\s+){{1,4}}{_STREET_SUFFIX})"
        # "Dr"/"St" followed by a capitalised word is a title or a saint, not
        # a street ("2 Dr Smith"), unless a comma or line end closes it.
        rf"(?<!Dr\.)(?<!St\.)(?!(?<=Dr)\s+[{_UP}][{_LOW}])(?!(?<=St)\s+[{_UP}][{_LOW}])",
        not_after=r"[\w./:-]",
        # Found from the street word back to its house number.
        keywords=" ".join(re.findall(r"[A-Z][a-z]+", _STREET_SUFFIX)).lower(),
        lead_in=r"[0-9]{1,5}[A-Za-z]?(?:[-/]\d{1,5}[A-Za-z]?)?,?\s+"
        r"(?:(?:North|South|East|West|[NSEW])\.?\s+)?"
        rf"(?:{_STREET_WORD}\s+){{1,4}}$",
    ),
    # A street without a house number where someone lives: "lives on Elm
    # Street", "moved to Maple Avenue" (full street words only: "Dr", "St").
    _rule(
        "address",
        r"(?:[Ll]ives?|[Ll]iving|[Rr]esides?|[Rr]esiding|[Mm]oved|[Hh]ome)\s+"
        r"(?:on|at|in|to|off)\s+(?:the\s+)?"
        rf"(?P<v>(?:{_STREET_WORD}\s+){{1,3}}"
        rf"{_STREET_SUFFIX_WORD})",
        keywords="live lives living reside resides residing moved home",
    ),
    # One-word streets: "61 Kingsway, Swansea", "4 Highgate.".
    _rule(
        "address",
        rf"(?P<v>[0-9]{{1,5}}[A-Za-z]?\s+[{_UP}][{_LOW}]+(?:way|gate))(?=,|\.?\s*$|\.\s)",
        not_after=r"[\w./:-]",
    ),
    # A flat's number on its own is part of an address: "Apt 4B, 221 W 57th
    # St", "Flat 3". Capitalised only: "flat 2 leads" on an ECG is not.
    _rule(
        "address",
        r"(?P<v>(?:Apt|APT|Apartment|Flat)\.?[ \t]*#?[ \t]*\d{1,4}[A-Za-z]?)"
        r"(?![\w/.-])",
        keywords="apt apartment flat",
    ),
    # "Flat 12, Ashdown House", "Apt 4B Riverside Court".
    _rule(
        "address",
        r"(?P<v>(?:Flat|Apartment|Apt|Unit|Suite|Room)\.?\s+\d{1,4}[A-Za-z]?,?\s+"
        rf"(?:[{_UP}][{_LOW}'’-]+\s+){{1,3}}(?:House|Court|Lodge|Mansions|Towers?"
        r"|Building|Heights|Block|Point|Apartments|Residences?|Hall|Cottages?)\b)",
        keywords="flat apartment apt unit suite room",
    ),
    _rule(
        "address",
        r"(?P<v>(?:p\.?\s?o\.?\s*box|post\s+office\s+box)\s*#?\s*\d+)\b",
        lower=True,
        keywords="p po post",
    ),
]
_US_STATES = _words(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO"
    " MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
)
_UK_POSTCODE = r"(?P<area>[A-Z]{1,2})[0-9][A-Z0-9]?\s[0-9][ABD-HJLNP-UW-Z]{2}"
# For "Postcode:" labels, matched on the lower-cased text, space optional.
_UK_POSTCODE_LOWER = r"(?P<area>[a-z]{1,2})[0-9][a-z0-9]?\s?[0-9][abd-hjlnp-uw-z]{2}"
# Outward codes start with one of these postcode areas ("C5 6TH" is a nerve
# root, not a postcode: there is no area "C").
_UK_AREAS = _words(
    "AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG"
    " DH DL DN DT DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM"
    " IP IV JE KA KT KW KY L LA LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW"
    " OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY"
    " TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE"
)


def _uk_area_ok(match: re.Match[str]) -> bool:
    return match["area"].upper() in _UK_AREAS


_ZIP = r"[0-9]{5}(?:-[0-9]{4})?"
_ZIP_RULES = [
    _rule(
        "zip",
        rf"(?P<v>{_UK_POSTCODE})(?![\w-])",
        check=_uk_area_ok,
        not_after=r"[\w-]",
    ),
    _rule(
        "zip",
        rf"(?:{'|'.join(sorted(_US_STATES))})\.?,?\s+(?P<v>{_ZIP})(?![\w-])",
        not_after=_WORD,
    ),
    _rule(
        "zip",
        r"(?:zip(?:\s*code)?|postal\s+code|post\s*code)\s*[:#]?\s*"
        rf"(?P<v>{_ZIP}|{_UK_POSTCODE_LOWER})(?![\w-])",
        check=lambda m: m["area"] is None or _uk_area_ok(m),
        lower=True,
        keywords="zip postal post postcode",
    ),
    _rule("zip", r"(?P<v>[0-9]{5}-[0-9]{4})(?![\w-])", not_after=r"[\w-]"),
    # India: "PIN 400058", "pincode 560100".
    _rule(
        "zip",
        r"(?:pin(?:\s*code)?|pincode)\s*[:#-]?\s*(?P<v>[1-9][0-9]{2}\s?[0-9]{3})(?![\w-])",
        lower=True,
        keywords="pin pincode",
    ),
    # Australia: "Ballarat VIC 3350", "Bondi NSW 2026".
    _rule(
        "zip",
        rf"[{_UP}][{_LOW}]+,?\s+(?:NSW|VIC|Vic|QLD|Qld|SA|WA|TAS|Tas|NT|ACT)\.?,?\s+"
        r"(?P<v>[0-9]{4})(?![\w-])",
        not_after=_WORD,
    ),
]
_ZIP_NEAR_ADDRESS = re.compile(rf"(?<![\w.-])(?P<v>{_ZIP})(?![\w-]|\.\d)")


def _zips_after_addresses(text: str, addresses: Iterable[_Hit]) -> Iterator[_Hit]:
    reason = REASONS["zip"] + " (next to an address)."
    for address in addresses:
        window_end = text.find("\n", address.end, address.end + 60)
        window_end = address.end + 60 if window_end == -1 else window_end
        for match in _ZIP_NEAR_ADDRESS.finditer(text, address.end, window_end):
            yield _Hit(*match.span("v"), "zip", reason)
