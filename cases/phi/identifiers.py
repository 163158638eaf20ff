"""Record, account, licence and SSN numbers; device and vehicle identifiers.

Labelled numbers ("MRN: 4471239", "policy number 77-1023"), NHS numbers with
a valid check digit, UK National Insurance numbers, long runs of digits,
device serials, UDIs and MAC addresses, VINs and number plates. A long
number after a clinical code's name (SNOMED, ICD, a batch) is a code, not an
identifier.
"""

from __future__ import annotations

import re

from cases.phi.dates import _YEAR
from cases.phi.rules import _IN_NUMBER, _NOT_BEFORE_NUM, _WORD, _rule

# Record, account, insurance, licence and certificate numbers -----------------
_NUMBER_WORD = r"(?:\s*(?:no\.?|number|num\.?|#|id|code))?"
_RECORD_LABEL = (
    r"(?:mrn|mr\s*#|mr\s+no\.?|medical\s+record|record|hospital|hosp\.?|unit|ur"
    r"|urn|patient\s+id|pid|chart|case|nhs|chi|account|acct\.?"
    r"|billing|insurance|insurer|policy|member(?:ship)?|subscriber|group"
    r"|health\s+plan(?:\s+beneficiary)?|beneficiary|medicare|medicaid"
    r"|(?:driver'?s?|driving)\s+licen[cs]e|licen[cs]e|dl|gmc|nmc(?:\s+pin)?|npi"
    r"|dea|certificate|cert\.?|passport|national\s+insurance|ni|employee"
    r"|student|ref(?:erence)?|claim|encounter|visit|accession|lab"
    r"|uhid|abha|crn|aadhaar|aadhar|ipd|opd|ip|op|iqama|emirates\s+id|health\s+card"
    r"|(?:gmc|nmc|hcpc|professional|medical)?\s*registration)"
)
_RECORD_KEYWORDS = (
    "mrn mr medical record hospital hosp unit ur urn patient pid chart case nhs chi"
    " account acct billing insurance insurer policy member membership subscriber"
    " group health beneficiary medicare medicaid driver drivers driving licence"
    " license dl gmc nmc npi dea certificate cert passport national ni employee"
    " student ref reference claim encounter visit accession lab registration"
    " professional uhid abha crn aadhaar aadhar ipd opd ip op iqama emirates"
)
# A value: letters and digits, possibly grouped with "-", "/" or spaces
# between digit groups, with at least three digits in it.
_RECORD_VALUE = (
    r"(?P<v>(?=[A-Z0-9/ -]*\d[A-Z0-9/ -]*\d[A-Z0-9/ -]*\d)[A-Z0-9]"
    r"(?:[A-Z0-9]|[-/](?=[A-Z0-9])|\s(?=\d{2,}\b)|(?<=\d)\s(?=\d\b(?![.,]\d)))+)"
)
_CODE_CONTEXT = re.compile(
    r"(?i:snomed|icd|loinc|opcs|cpt|read\s+code|code|batch|lot|atc|ndc|bnf"
    r"|reference\s+range|isbn|doi|pmid)\W{0,3}(?:[\w-]+\W{0,3}){0,2}$"
)


def _labelled_value_ok(match: re.Match[str]) -> bool:
    value = match["v"]
    return len(value.replace(" ", "")) >= 4 and not re.fullmatch(_YEAR, value)


def _nhs_checksum_ok(digits: str) -> bool:
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    return check != 10 and (0 if check == 11 else check) == int(digits[9])


def _long_number_ok(match: re.Match[str]) -> bool:
    before = match.string[max(0, match.start() - 30) : match.start()]
    return _CODE_CONTEXT.search(before) is None


_RECORD_RULES = [
    _rule(
        "record_number",
        rf"{_RECORD_LABEL}{_NUMBER_WORD}\s*(?:[:#=.-]\s*)*(?:is\s+)?",
        check=_labelled_value_ok,
        lower=True,
        value=_RECORD_VALUE,
        keywords=_RECORD_KEYWORDS,
    ),
    # Label a few words before the number: "hospital number for this
    # admission is 7788123". Only labels that name an identifier outright:
    # "lab values: 120000" must not count.
    _rule(
        "record_number",
        rf"(?:mrn|nhs|chi|passport|medicare|medicaid|ssn"
        rf"|{_RECORD_LABEL}\s*(?:no\.?|number|num\.?|#|id))\b[^\n\d]{{1,40}}?"
        r"(?<![\w/.-])(?P<v>\d{5,}(?:[ -]\d{2,})*)(?![\w/]|[.,]\d)",
        lower=True,
        keywords=_RECORD_KEYWORDS,
    ),
    # NHS number in its usual 3-3-4 layout (or run together) with a valid
    # check digit.
    _rule(
        "record_number",
        r"(?P<v>[0-9]{3} [0-9]{3} [0-9]{4}|[0-9]{10})" + _NOT_BEFORE_NUM,
        "Looks like an NHS number (it has a valid check digit).",
        check=lambda m: _nhs_checksum_ok(m["v"].replace(" ", "")),
        weak=True,
        not_after=_IN_NUMBER,
    ),
    # UK National Insurance number.
    _rule(
        "record_number",
        r"(?P<v>[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z](?<!BG|GB|NK|KN|TN|NT|ZZ)"
        r"\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D])\b",
        "Looks like a UK National Insurance number.",
        not_after=_WORD,
    ),
    # Any long run of digits: in a note it is nearly always an identifier.
    _rule(
        "record_number",
        r"(?P<v>[0-9]{8,})(?![\w]|[.,/]\d)",
        "A long number like this is usually a record, account or other "
        "identifying number.",
        check=_long_number_ok,
        weak=True,
        not_after=r"[\w.,/-]",
    ),
]

# SSN -----------------------------------------------------------------------------
_SSN_RULES = [
    _rule(
        "ssn",
        r"(?P<v>[0-8][0-9]{2}(?<!000|666)-(?!00)[0-9]{2}-(?!0000)[0-9]{4})(?![\w-])",
        not_after=r"[\w-]",
    ),
    _rule(
        "ssn",
        r"(?:ssn|ss\s*#|social\s+security(?:\s+(?:number|no\.?|#))?)"
        r"\s*[:#]?\s*(?P<v>\d{3}[- ]?\d{2}[- ]?\d{4})(?![\w-])",
        lower=True,
        keywords="ssn ss social",
    ),
    # Canada's Social Insurance Number: "SIN 046 454 286".
    _rule(
        "ssn",
        r"(?:sin|social\s+insurance(?:\s+(?:number|no\.?|#))?)"
        r"\s*[:#]?\s*(?P<v>\d{3}[- ]?\d{3}[- ]?\d{3})(?![\w-])",
        lower=True,
        keywords="sin social",
    ),
]
# Device and vehicle identifiers -----------------------------------------------
_DEVICE_LABEL = (
    r"(?:serial(?:\s*(?:number|no\.?|#))?|s/n|sn|device\s+(?:id|identifier|serial"
    r"|number|no\.?)|udi|imei|mac\s+address|(?:pacemaker|icd|crt-?[dp]|implant"
    r"|pump|cgm|sensor|transmitter|defibrillator|stimulator|hearing\s+aid"
    r"|cochlear\s+implant|generator|lead|valve|monitor)\s+(?:serial|s/n|sn|id)"
    r"(?:\s*(?:number|no\.?|#))?|model/serial|ventilator\s+id)"
)
_DEVICE_RULES = [
    _rule(
        "device_id",
        rf"{_DEVICE_LABEL}\s*[:#=]?\s*(?:is\s+)?",
        lower=True,
        # A maker's name may come first: "serial: Medtronic RNB123456H".
        value=r"(?:[A-Z][a-z]+\s+)?(?P<v>(?=[A-Za-z0-9:/.-]*\d)[A-Z0-9]"
        r"(?:[A-Za-z0-9]|[-/.:](?=[A-Za-z0-9])){3,40})",
        keywords="serial sn device udi imei mac pacemaker icd crt implant pump cgm"
        " sensor transmitter defibrillator stimulator hearing cochlear generator lead"
        " valve monitor model ventilator",
    ),
    # "S/N" splits into two words, so it is searched for on its own.
    _rule(
        "device_id",
        r"s/n\s*[:#=]?\s*",
        lower=True,
        value=r"(?P<v>(?=[A-Za-z0-9:/.-]*\d)[A-Z0-9]"
        r"(?:[A-Za-z0-9]|[-/.:](?=[A-Za-z0-9])){3,40})",
        not_after=_WORD,
        gate=lambda source: "s/n" in source,
    ),
    # GS1 UDI: (01) GTIN then application identifiers.
    _rule("device_id", r"(?P<v>\(01\)\d{14}(?:\(\d{2,4}\)[A-Za-z0-9-]+)*)"),
    # MAC address.
    _rule(
        "device_id",
        r"(?P<v>[0-9A-Fa-f]{2}(?P<sep>[:-])(?:[0-9A-Fa-f]{2}(?P=sep)){4}"
        r"[0-9A-Fa-f]{2})(?![\w:-])",
        "Looks like a device's network (MAC) address.",
        not_after=r"[\w:-]",
    ),
]


def _plate_ok(match: re.Match[str]) -> bool:
    value = match["v"]
    letters = sum(ch.isalpha() for ch in value)
    digits = sum(ch.isdigit() for ch in value)
    return letters >= 2 and digits >= 2 and 4 <= len(value.replace(" ", "")) <= 8


def _vin_ok(match: re.Match[str]) -> bool:
    value = match["v"]
    return (
        sum(ch.isdigit() for ch in value) >= 3
        and sum(ch.isalpha() for ch in value) >= 2
    )


_VEHICLE_RULES = [
    _rule(
        "vehicle_id",
        r"(?P<v>[A-HJ-NPR-Z0-9]{17})(?![A-Za-z0-9])",
        check=_vin_ok,
        not_after=r"[A-Za-z0-9]",
    ),
    _rule(
        "vehicle_id",
        r"(?:(?:licen[cs]e|number|registration|reg)\s+plate|plate"
        r"|vehicle\s+reg(?:istration)?|car\s+reg(?:istration)?|registration"
        r"|reg(?:istration)?\s+(?:no\.?|number|mark)|vrn|vrm)"
        r"(?:\s*(?:no\.?|number))?\s*[:#]?\s*(?:(?:is|was)\s+)?",
        check=_plate_ok,
        lower=True,
        value=r"(?P<v>[A-Z0-9]{1,4}[ -]?[A-Z0-9]{1,4}(?:[ -]?[A-Z0-9]{1,3})?)(?![\w-])",
        keywords="licence license number registration reg plate vehicle car vrn vrm",
    ),
    # Current UK format written with its space: AB12 CDE.
    _rule(
        "vehicle_id",
        r"(?P<v>[A-HJ-PR-Y][A-HJ-PR-Y]\d{2} [A-HJ-PR-Z]{3})(?![\w-])",
        not_after=r"[\w-]",
    ),
]
