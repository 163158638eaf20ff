"""Shared building blocks and the regex detectors of :mod:`cases.phi`.

Dates, ages, phone and fax numbers, e-mail and web addresses, IP addresses,
record, SSN, device and vehicle numbers, street addresses and postcodes, and
names after titles, relations and naming words. The lexicon-driven detectors
live beside this module (``people``, ``places``, ``web``); ``scanner`` runs
them all and merges what they find. Nothing here imports Django.
"""

from __future__ import annotations

import ipaddress
import re
import string
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

# Most specific first: decides the kind of merged, overlapping findings.
KINDS = (
    "ssn",
    "email",
    "url",
    "handle",
    "ip",
    "vehicle_id",
    "device_id",
    "record_number",
    "fax",
    "phone",
    "date",
    "age",
    "address",
    "zip",
    "employer",
    "institution",
    "location",
    "name",
)
_RANK = {kind: rank for rank, kind in enumerate(KINDS)}

REASONS = {
    "name": "Looks like a person's name",
    "date": "Looks like a date more specific than a year",
    "age": "Gives an age over 89; Safe Harbor allows only “90 or older”",
    "phone": "Looks like a phone number",
    "fax": "Looks like a fax number",
    "email": "Looks like an email address",
    "url": "Looks like a web address; remove it if it could lead to the patient",
    "ip": "Looks like an IP address",
    "record_number": "Looks like a record, account, insurance or licence number",
    "ssn": "Looks like a US Social Security number",
    "address": "Looks like a street address",
    "zip": "Looks like a postcode or ZIP code",
    "device_id": "Looks like a device serial number or identifier",
    "vehicle_id": "Looks like a vehicle identifier (VIN or number plate)",
    "handle": "Looks like a social media handle or profile",
    "location": "Names a town, city or county; Safe Harbor allows only the state",
    "institution": "Names a hospital, clinic, practice or other institution, "
    "which can place the patient",
    "employer": "Names an employer, which can identify the patient",
}


@dataclass(frozen=True)
class Finding:
    field: str
    start: int
    end: int
    text: str
    kind: str
    reason: str


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    kind: str
    reason: str
    # Unlabelled guesses (an NHS-like checksum, any long number) yield to a
    # labelled or better-shaped finding on the same text.
    weak: bool = False


# --- building blocks ----------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_UP = "A-ZÀ-ÖØ-ÞĀ-ſ"  # Latin Extended-A mixes cases; pragmatic
_LOW = "a-zß-öø-ÿĀ-ſ"
_TOKEN = (
    rf"(?:[{_UP}]['’])?[{_UP}][{_LOW}]+(?:[{_UP}][{_LOW}]+)?"
    rf"(?:-[{_UP}][{_LOW}]+)*"
)
_INITIAL = rf"[{_UP}](?:\.|(?=\s))"
_PARTICLE = (
    r"(?:van|von|der|den|de|del|della|di|da|du|la|le|ter|ten|bin|bint|ibn|al|el)"
)
_NAME = re.compile(
    rf"(?:{_PARTICLE}\s+)*(?:{_INITIAL}\s*){{0,3}}{_TOKEN}"
    rf"(?:\s+(?:{_PARTICLE}\s+)*(?:{_INITIAL}\s*)?{_TOKEN}){{0,2}}"
)
_SURNAME_FIRST = re.compile(
    rf"[{_UP}]{{2,}}(?:[-'’][{_UP}]{{2,}})?,\s*(?:{_TOKEN}|[{_UP}]{{2,}}\b)"
)
_CAPS_NAME = re.compile(
    rf"[{_UP}]{{2,}}(?:[-'’][{_UP}]{{2,}})?(?:\s+[{_UP}]{{2,}}(?:[-'’][{_UP}]{{2,}})?){{0,2}}\b"
)
_ACRONYMS = _words(
    "MRI CT ECG EEG EMG ICU ITU HDU GP ED ENT OPD MDT SHO FY1 FY2 ST3 CCU AMU SDEC"
    " ANP CNS OT SALT NHS USS CXR AXR PET DEXA HIV COVID"
)
_NAME_PIECE = re.compile(rf"{_TOKEN}|{_INITIAL}|{_PARTICLE}")

_TITLE = (
    r"\b(?:[Dd]r|Doctor|Mr|Mrs|Ms|Mx|Miss|Mister|[Pp]rof|Professor|Nurse|Sister"
    r"|Matron|Rev|Revd|Reverend|Father|Sir|Dame|Lady|Lord|Capt|Captain|Sgt)\b\.?"
)
_RELATION = (
    r"\b(?:[Ww]ife|[Hh]usband|[Pp]artner|[Ss]on|[Dd]aughter|[Mm]other|[Ff]ather"
    r"|[Mm]um|[Mm]om|[Dd]ad|[Bb]rother|[Ss]ister|[Gg]rand(?:son|daughter|mother"
    r"|father)|[Nn]iece|[Nn]ephew|[Aa]unt|[Uu]ncle|[Cc]ousin|[Cc]arer|[Cc]aregiver"
    r"|[Ff]ianc[ée]e?|[Bb]oyfriend|[Gg]irlfriend|[Nn]eighbou?r|[Ff]riend"
    r"|[Ee]mployer|[Ll]andlord|[Gg]uardian)(?:\s+of)?,?(?:\s+(?:is|was))?"
    r"(?:\s+(?:called|named))?"
)
_LEAD_IN = (
    r"\b(?:[Pp]atient|PATIENT|[Pp]t|[Nn]amed|[Cc]alled|[Kk]nown\s+as|aka"
    r"|[Gg]oes\s+by|[Nn]ame(?:\s+is)?|NAME|[Ss]igned(?:\s+by)?|[Ss]een\s+by"
    r"|[Rr]eviewed\s+by|[Rr]eferred\s+by|[Dd]iscussed\s+with|[Ss]poke\s+(?:to|with)"
    r"|[Ss]poken\s+to|[Ee]scorted\s+by|[Aa]ccompanied\s+by|[Dd]ear|[Aa]ttn"
    r"|[Cc]c)\b\.?:?"
)
_NAME_TRIGGER = re.compile(
    rf"(?P<title>{_TITLE})\s+|(?P<lead>{_RELATION}|{_LEAD_IN})(?:\s*[:(]\s*|\s+)"
)

# Capitalised words that follow a trigger without being a name.
_NOT_NAMES = _words(
    """
    a an and or of in on at to for with by from as is was has had have be been
    being are were will would should could can may might must did does do am
    the this that these those who which what when where why how his her their
    its it he she they we you i me my our your him them no not yes none also
    then now again here there today yesterday tomorrow tonight morning evening
    presented presents presenting denies denied reports reported reporting
    states stated complains complained admitted discharged transferred seen
    reviewed notes note history information education name names number id
    record records details detail care safety group groups population cohort
    consent consented declined agreed tolerated remains continues unit ward
    clinic hospital team department service services practitioner specialist
    consultant registrar led review referral surgeon physician doctor nurse
    sister charge station manager cardiology neurology radiology oncology
    surgery medicine paediatrics pediatrics psychiatry dermatology ortho
    orthos gastro cardio neuro neuros resp paeds peds obs gynae derm derma
    rheum haem heme onc uro plastics maxfax ophth psych micro gen surg med
    meds vascular renal hepatology diabetes endo geriatrics elderly
    orthopaedics orthopedics urology gynaecology obstetrics haematology
    hematology rheumatology endocrinology gastroenterology nephrology
    respiratory emergency icu anaesthetics anesthesiology microbiology
    pathology pharmacy physiotherapy ambulance security police switchboard
    reception monday tuesday wednesday thursday friday saturday sunday
    january february march april june july august september october november
    december male female man woman boy girl baby infant child unknown
    please thanks thank said says feels felt currently previously given
    started stopped went came called named dr mr mrs ms mx miss prof
    professor sir dame lady lord rev revd reverend capt captain sgt mister
    matron has reported wife husband partner mum mom dad mother father son
    daughter brother sister carer physio physiotherapist dietitian dietician
    pharmacist paramedic paramedics midwife anaesthetist anesthesiologist
    psychiatrist psychologist neurologist cardiologist oncologist radiologist
    dermatologist haematologist hematologist rheumatologist gastroenterologist
    staff student medical surgical night weekend colleague colleagues madam all
    everyone intensivist sonographer radiographer therapist occupational
    social worker advice liaison experience outcome outcomes
    identifier identification list lists portal leaflet leaflets
    administration controlled transport pathway pathways centred centered
    initials label labels demographics alert alerts
    """
)

# Eponyms: after a trigger, "Dr. Parkinson's disease" is a disease, not a name.
_EPONYMS = _words(
    """
    addison adie alport alzheimer apgar argyll asperger austin babinski baker
    barlow barré barre barrett bartholin bartter becker behçet behcet bell
    bennett binswanger bouchard bowen broca brown brudzinski brugada budd
    buerger burkitt caplan caroli castleman charcot cheyne chiari churg chvostek
    colles conn crigler creutzfeldt crohn cullen cushing danlos devic dieulafoy
    down dressler dubin duchenne dukes dupuytren eaton ebstein edwards ehlers
    eisenmenger erb ewing fabry fallot fanconi felty flint gardner gaucher
    gilbert glanzmann glasgow gleason goodpasture graves guillain hartmann
    hashimoto heberden henoch hirschsprung hodgkin homans horner huntington
    hurler jakob janeway jeghers kaposi kasai kawasaki kearns kehr kerley kernig
    kienböck kikuchi killip klinefelter klippel klumpke korsakoff kussmaul
    lambert leber legg leigh lesch lewy lhermitte lisfranc lynch mallory
    mallampati marfan marie meckel menetrier ménétrier meniere ménière merkel
    monteggia morton munchausen murphy niemann nissen nyhan ogilvie osgood
    osler paget pancoast parkinson patau perthes peutz peyronie phalen pick
    plummer pompe pott prader prinzmetal quervain raynaud recklinghausen reiter
    rett richter romberg rovsing roth salter sayre schatzki schlatter schönlein
    sézary sequard séquard sheehan sjögren sjogren stevens still sturge
    takayasu takotsubo tay tietze tinel todd tourette trousseau turner
    vinson virchow waldenström weber wegener wells wernicke whipple willebrand
    willi wilms wilson wolff zenker zollinger
    """
)
_DISEASE_WORDS = (
    r"(?:disease|syndrome|sign|signs|palsy|phenomenon|lymphoma|sarcoma|tumou?r"
    r"|disorder|classification|score|scale|criteria|test|manoeuvre|maneuver"
    r"|reflex|fracture|cyst|node|nodes|nodule|triad|law|ulcer|o?esophagus"
    r"|encephalopathy|thyroiditis|dementia|chorea|ataxia|anomaly|malformation"
    r"|procedure|operation|incision|repair|pouch|diverticulum|murmur|crisis"
    r"|type|variant|body|bodies|cells?|paresis|aneurysm|contracture|foot"
    r"|arthropathy|angina|position|stage|grade|staging|respiration|breathing"
    r"|attacks?|hospital|clinic|centre|center|institute|foundation|university"
    r"|college|school|trust|ward|unit|building|house|wing|lecture|prize|award"
    r"|virus|fever|pupils?|sequence|terrier|spaniel|retriever|flu|influenza)\b"
)
_AFTER_NAME_NOT_PERSON = re.compile(
    rf"(?:['’]s?)?[ \t]*(?:-?[ \t]*{_DISEASE_WORDS})|-(?:like|type|esque|ian)\b",
    re.IGNORECASE,
)
_POSSESSIVE = re.compile(r"['’]s?\b")

# Common first names: a capitalised word after one is very likely a surname.
_FIRST_NAMES = _words(
    "Aaron Adam Ahmed Aisha Alan Albert Alexander Alice Ali Amanda Amber Amelia"
    " Amy Andrea Andrew Angela Ann Anna Anthony Arthur Ashley Ava Barbara Benjamin"
    " Betty Beverly Brandon Brenda Brian Bruce Bryan Carl Carol Carolyn Catherine"
    " Charles Charlotte Cheryl Chloe Christina Christine Christopher Cynthia"
    " Daniel David Deborah Debra Denise Dennis Diana Diane Donald Donna Dorothy"
    " Douglas Dylan Edward Elijah Elizabeth Ella Ellie Emily Emma Eric Ethan"
    " Eugene Evelyn Fatima Frances Frank Freya Gary George Gerald Gloria Gregory"
    " Hannah Harold Harry Heather Helen Henry Isabella Isla Jack Jacob Jacqueline"
    " James Janet Janice Jason Jean Jeffrey Jennifer Jeremy Jessica Joan John"
    " Jonathan Jose Joseph Joshua Joyce Juan Judith Judy Julia Julie Justin"
    " Karen Katherine Kathleen Kathryn Kayla Keith Kelly Kenneth Kevin Kimberly"
    " Kyle Larry Laura Lauren Lawrence Lily Linda Lisa Logan Lori Margaret Maria"
    " Marilyn Martha Mary Matthew Megan Melissa Mia Michael Michelle Mohammed"
    " Muhammad Nancy Natalie Nathan Nicholas Nicole Noah Olivia Oliver Pamela"
    " Patricia Patrick Paul Peter Philip Priya Rachel Ralph Raymond Rebecca"
    " Richard Robert Roger Ronald Ruby Russell Ruth Ryan Samantha Samuel Sandra"
    " Sarah Scott Sean Sharon Shirley Sophia Sophie Stephanie Stephen Steven"
    " Susan Teresa Theresa Thomas Timothy Tyler Victoria Vincent Virginia Walter"
    " Wayne William Zachary"
)
_FOLLOWED_BY_TOKEN = re.compile(rf"\s+(?=(?:{_PARTICLE}\s+)*{_TOKEN})")
_LOWER_WORD = re.compile(r"[a-z]+")
_CAPITALISED_WORD = re.compile(r"[A-Z][a-z]+")
# Lower-cased first words of the triggers: a cheap set lookup per word decides
# whether the (slower) trigger pattern is tried at that position at all.
_TRIGGER_STARTS = _words(
    """
    dr doctor mr mrs ms mx miss mister prof professor nurse sister matron rev
    revd reverend father sir dame lady lord capt captain sgt wife husband
    partner son daughter mother mum mom dad brother grandson granddaughter
    grandmother grandfather niece nephew aunt uncle cousin carer caregiver
    fianc boyfriend girlfriend neighbour neighbor friend employer landlord
    guardian patient pt named called known aka goes name signed seen reviewed
    referred discussed spoke spoken escorted accompanied dear attn cc
    """
)


# --- the text being scanned ------------------------------------------------


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class _Doc:
    """The text being scanned, with what several detectors share.

    ``lower`` is ASCII-lower-cased (same length and offsets as ``text``), so
    labels match without a slow case-insensitive pattern; ``words`` is the
    set of ASCII words in it, so a detector keyed on words such as "fax" or
    "MRN" only runs where one of them actually occurs.
    """

    __slots__ = ("_starts", "lower", "text", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        lower = text.lower()
        # str.lower() is fast but a few characters grow ("İ" becomes two);
        # offsets must line up with the original, so fall back then.
        self.lower = lower if len(lower) == len(text) else text.translate(_ASCII_LOWER)
        self.words = frozenset(_LOWER_WORD.findall(self.lower))
        self._starts: dict[frozenset[str], list[int]] = {}

    def word_starts(self, keywords: frozenset[str]) -> list[int]:
        """Offsets where any of ``keywords`` (lower case) occurs as a word."""
        cached = self._starts.get(keywords)
        if cached is None:
            cached = self._starts[keywords] = self._find_starts(keywords)
        return cached

    def _find_starts(self, keywords: frozenset[str]) -> list[int]:
        lower, starts = self.lower, []
        for keyword in keywords & self.words:
            size = len(keyword)
            index = lower.find(keyword)
            while index != -1:
                end = index + size
                if (index == 0 or not _is_ascii_letter(lower[index - 1])) and (
                    end == len(lower) or not _is_ascii_letter(lower[end])
                ):
                    starts.append(index)
                index = lower.find(keyword, index + 1)
        starts.sort()
        return starts


def _is_ascii_letter(char: str) -> bool:
    return "a" <= char <= "z"


# --- names -------------------------------------------------------------------


def _caps_name_span(text: str, pos: int) -> tuple[int, int] | None:
    """An upper-case name after a title ("Dr AMELIA HART"), not an acronym."""
    match = _CAPS_NAME.match(text, pos)
    if match is None:
        return None
    words = match.group().split()
    if any(word.casefold() in _NOT_NAMES or word in _ACRONYMS for word in words):
        return None
    if max(len(word) for word in words) < 4:
        return None
    return match.start(), match.end()


def _name_span(
    text: str, pos: int, *, surname_first: bool, caps: bool = False
) -> tuple[int, int] | None:
    """The name starting at ``pos``, trimmed of non-name words, or None."""
    if surname_first:
        match = _SURNAME_FIRST.match(text, pos)
        if match:
            return match.start(), match.end()
    match = _NAME.match(text, pos)
    if match is None:
        return _caps_name_span(text, pos) if caps else None
    end = match.start()
    has_token = False
    for piece in _NAME_PIECE.finditer(match.group()):
        word = piece.group().rstrip(".")
        if len(word) > 1 and word.casefold() in _NOT_NAMES:
            break
        end = match.start() + piece.end()
        has_token = has_token or (len(word) > 1 and word[:1].isupper())
    if not has_token:
        return None
    # Drop particles left dangling at the end ("Berg de" before a stop word).
    name = text[match.start() : end]
    while (
        (last := name.rsplit(None, 1))
        and len(last) == 2
        and re.fullmatch(_PARTICLE, last[1])
    ):
        name = last[0]
    end = match.start() + len(name)
    last_word = re.split(r"[\s-]+", name)[-1].rstrip(".").casefold()
    following = text[end : end + 40]
    if _AFTER_NAME_NOT_PERSON.match(following):
        return None
    if last_word in _EPONYMS and _POSSESSIVE.match(following):
        return None
    return match.start(), end


_ABBREVIATED_LEADS = _words("pt attn cc aka")


def _ends_sentence(trigger: re.Match[str]) -> bool:
    """A lead word such as "patient" closing its sentence with a full stop."""
    lead = trigger["lead"]
    if lead is None or not lead.rstrip(":").endswith("."):
        return False
    word = lead.rstrip(".:").split()[-1].lower()
    return word not in _ABBREVIATED_LEADS


def _names(doc: _Doc) -> Iterator[_Hit]:
    text = doc.text
    for start in doc.word_starts(_TRIGGER_STARTS):
        trigger = _NAME_TRIGGER.match(text, start)
        if trigger and _ends_sentence(trigger):
            continue  # "…not a patient. Reading the notes…"
        if trigger:
            label = " ".join(trigger.group().split()).rstrip(":")
            span = _name_span(
                text,
                trigger.end(),
                surname_first=trigger["lead"] is not None,
                caps=trigger["title"] is not None,
            )
            if span:
                yield _Hit(*span, "name", f"{REASONS['name']} (after “{label}”).")
    first_names = _FIRST_NAMES.intersection(_CAPITALISED_WORD.findall(text))
    for start in doc.word_starts(frozenset(name.lower() for name in first_names)):
        if text[start : start + 1].isupper() and (
            start == 0 or not text[start - 1].isalnum()
        ):
            word = _LOWER_WORD.match(doc.lower, start)
            follow = word and _FOLLOWED_BY_TOKEN.match(text, word.end())
            if not follow:
                continue
            span = _name_span(text, start, surname_first=False)
            if span and span[1] > follow.end():
                reason = f"{REASONS['name']} (a first name and surname)."
                yield _Hit(*span, "name", reason)


# --- regex detectors ----------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """A regex detector; group ``v`` (else the whole match) is the finding.

    Speed matters, as every rule reads the whole text:

    - ``keywords`` (lower-case words): the pattern is only tried where one of
      them starts, so it must begin with one of them.
    - Otherwise patterns start with a literal or a character class, which lets
      the regex engine skip ahead quickly; the boundary a leading ``\\b`` or
      lookbehind would express is checked here instead, by ``not_after``: a
      class the character before the match must not belong to.
    - ``lower`` runs the pattern on the lower-cased text instead of using a
      (much slower) case-insensitive pattern.
    - ``gate`` skips the rule when a cheap test on the text fails.
    - ``lead_in`` (with ``keywords``): a pattern that must end right at the
      keyword; the match is then tried from where the lead-in starts.

    With ``value``, ``pattern`` finds only the label and ``value`` must match
    the original text right after it (for case-sensitive values).
    """

    kind: str
    pattern: re.Pattern[str]
    reason: str = ""
    check: Callable[[re.Match[str]], bool] | None = None
    lower: bool = False
    value: re.Pattern[str] | None = None
    weak: bool = False
    not_after: re.Pattern[str] | None = None
    gate: Callable[[str], bool] | None = None
    keywords: frozenset[str] | None = None
    lead_in: re.Pattern[str] | None = None

    def _matches(self, source: str, doc: _Doc) -> Iterator[re.Match[str]]:
        not_after = self.not_after
        if self.keywords is not None:
            for keyword_start in doc.word_starts(self.keywords):
                start = keyword_start
                if self.lead_in is not None:
                    # The match begins a little before the keyword ("3 March").
                    window = max(0, keyword_start - 64)
                    lead = self.lead_in.search(source, window, keyword_start)
                    if lead is None:
                        continue
                    start = lead.start()
                if (
                    start
                    and not_after is not None
                    and not_after.match(source, start - 1)
                ):
                    continue
                match = self.pattern.match(source, start)
                if match is not None:
                    yield match
            return
        search, pos = self.pattern.search, 0
        while (match := search(source, pos)) is not None:
            start = match.start()
            pos = max(match.end(), start + 1)
            if start and not_after is not None and not_after.match(source, start - 1):
                pos = start + 1  # as a lookbehind would: try the next position
                continue
            yield match

    def hits(self, doc: _Doc) -> Iterator[_Hit]:
        source = doc.lower if self.lower else doc.text
        if self.gate is not None and not self.gate(source):
            return
        reason = self.reason or REASONS[self.kind] + "."
        for found in self._matches(source, doc):
            match = found
            if self.value is not None:
                match = self.value.match(doc.text, found.end())
                if match is None:
                    continue
            if self.check is not None and not self.check(match):
                continue
            span = match.span("v" if "v" in match.re.groupindex else 0)
            if span[0] < span[1]:
                yield _Hit(*span, self.kind, reason, self.weak)


def _rule(
    kind: str,
    pattern: str,
    reason: str = "",
    *,
    check: Callable[[re.Match[str]], bool] | None = None,
    lower: bool = False,
    value: str | None = None,
    weak: bool = False,
    not_after: str | None = None,
    gate: Callable[[str], bool] | None = None,
    keywords: str | None = None,
    lead_in: str | None = None,
) -> _Rule:
    return _Rule(
        kind,
        re.compile(pattern),
        reason,
        check,
        lower,
        re.compile(value) if value is not None else None,
        weak,
        re.compile(not_after) if not_after is not None else None,
        gate,
        _words(keywords) if keywords is not None else None,
        re.compile(lead_in) if lead_in is not None else None,
    )


_WORD = r"\w"  # not_after for what a leading \b would say
_IN_NUMBER = r"[\w/.:+-]"  # not_after for numbers: not inside 1.2, a/b, x-1
_NOT_BEFORE_NUM = r"(?![\w/]|[.:-]\d)"

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
    # 2024-03-12, 2024/03/12 09:15, 2023-11-02T09:15:00Z.
    _rule(
        "date",
        rf"(?P<v>{_YEAR}(?P<sep>[-/.])(?P<m>[0-9]{{1,2}})(?P=sep)(?P<d>[0-9]{{1,2}})"
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

# Phone and fax ----------------------------------------------------------------
_PHONE_BODY = r"\+?\(?\d[\d\s().-]{5,22}\d"
# "Fax:", "fax no.", "faxed to", "fax the letter to".
_FAX_LABEL = (
    r"(?:fax(?:ed)?|facsimile)(?:\s*(?:no\.?|number|#))?"
    r"(?:(?:\s+[a-z]+){0,3}?\s+(?:to|on))?"
)
_PHONE_LABEL = (
    r"(?:tel(?:ephone)?|phone|ph|mob(?:ile)?|cell(?:phone)?|landline|contact"
    r"(?:\s+(?:no|number))?|call(?:ed)?|ring|text|whatsapp|reached|pager)"
    r"(?:\s*(?:no\.?|number|#))?(?:\s+(?:on|at))?"
)


_NANP = r"(?:\([2-9][0-9]{2}\)\s?|[2-9][0-9]{2}[\s.-])[2-9][0-9]{2}[\s.-][0-9]{4}"


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
        " call called ring text whatsapp reached pager",
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
]

# Addresses and postcodes -------------------------------------------------------
_STREET_SUFFIX = (
    r"(?:(?:Street|Road|Avenue|Lane|Drive|Boulevard|Court|Way|Place|Close"
    r"|Crescent|Terrace|Gardens|Grove|Square|Parkway|Highway|Circle|Row|Mews|Hill"
    r"|Walk|Park|Rise|Vale|View|Green|Parade|Esplanade|Trail|Alley|Plaza|Loop"
    r"|Broadway|Wharf)\b"
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
    # One-word streets: "61 Kingsway, Swansea", "4 Highgate.".
    _rule(
        "address",
        rf"(?P<v>[0-9]{{1,5}}[A-Za-z]?\s+[{_UP}][{_LOW}]+(?:way|gate))(?=,|\.?\s*$|\.\s)",
        not_after=r"[\w./:-]",
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

_SIMPLE_RULES = (
    _DATE_RULES
    + _AGE_RULES
    + _PHONE_RULES
    + _WEB_RULES
    + [_IPV4]
    + _RECORD_RULES
    + _SSN_RULES
    + _ZIP_RULES
    + _DEVICE_RULES
    + _VEHICLE_RULES
)
