"""Hospitals, clinics, practices, schools and other institutions.

Institutions are a capitalised name ending in a facility word ("Hospital",
"Infirmary", "Clinic", "Surgery", "Medical Centre", "Hospice") with at least
one word that is not a specialty or a description ("Riverside Surgery", not
"Cardiac Surgery"), or a proper name right after a care verb ("seen at
Cedars-Sinai", "admitted to AIIMS", "attends the Maudsley"; never a ward or a
service: "admitted to ICU", "transferred to Resus"). Written in lower case,
a facility needs a saint's or a town's name before it ("st mary's hospital").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from cases.phi.findings import REASONS, _Hit
from cases.phi.lexicon import FIRST_NAMES, PLACES, REGIONS, SURNAMES, VERY_COMMON, WORDS
from cases.phi.locations import (
    _CAP,
    _EPONYM_PLACES,
    _NOT_A_PLACE_AFTER,
    _NOT_PLACES,
    _place_at,
)
from cases.phi.names import _ACRONYMS, _NOT_NAMES
from cases.phi.text import _Doc, _words

_FACILITY = (
    r"(?:Hospitals?|Infirmary|Clinic|Surgery|Medical[ \t]+(?:Centre|Center|Practice"
    r"|Group|Clinic)|Health[ \t]+(?:Centre|Center|Clinic|System|Trust)"
    r"|(?:Community|Care|Rehabilitation|Rehab|Cancer|Children'?s|Women'?s)[ \t]+"
    r"(?:Centre|Center)|Hospice|Nursing[ \t]+Home|Care[ \t]+Home|Rest[ \t]+Home"
    r"|Sanatorium|Polyclinic|Practice|Foundation[ \t]+Trust|NHS[ \t]+Trust"
    r"|Healthcare|Health|Primary[ \t]+School|School|Academy|College|University"
    r"|Elementary(?:[ \t]+School)?|Kindergarten|Preschool|Nursery[ \t]+School)"
)
_FACILITY_LOWER = re.compile(
    r"(?:hospital|infirmary|clinic|hospice|medical[ \t]+cent(?:re|er)"
    r"|health[ \t]+cent(?:re|er)|surgery)\b(?![ \t]*(?:on|for|was|is)\b)"
)
_FACILITY_RE = re.compile(rf"\b{_FACILITY}\b(?:[ \t]+of[ \t]+{_CAP}(?:[ \t]+{_CAP})?)?")
_FACILITY_KEYWORDS = _words(
    "hospital hospitals infirmary clinic surgery medical health community care"
    " rehabilitation rehab cancer children childrens women womens hospice nursing"
    " rest sanatorium polyclinic practice foundation nhs healthcare primary school"
    " academy college university elementary kindergarten preschool"
)
_INSTITUTION_WORD = re.compile(
    rf"(?:(?:St|Ste|Saint)\.?[ \t]+)?(?:{_CAP}|[A-Z]{{2,}})(?:['’]s?)?$|&$|and$|of$|the$"
)
# Words that describe a service rather than name a place.
_GENERIC = _words(
    """
    the a an and of for at in on to with by our your his her their this that local
    district general university teaching community private public regional county
    city royal national state federal memorial new old main central north south
    east west upper lower day night weekend outpatient outpatients inpatient
    ambulatory urgent emergency acute elective major minor further previous
    prior recent planned emergency routine follow-up follow review assessment
    rapid access specialist specialty consultant nurse led nurse-led doctor gp
    family medical surgical mental health psychiatric psychiatry psychological
    maternity antenatal postnatal fertility sexual genitourinary gum hiv travel
    vaccination immunisation flu covid walk-in walk drop-in virtual telephone
    video online remote mobile hospital clinic surgery centre center practice
    children's childrens children child paediatric pediatric women's womens
    adult adults elderly geriatric older people care primary secondary tertiary
    cardiac cardiology cardiothoracic thoracic vascular plastic plastics general
    orthopaedic orthopedic trauma spinal spine neurosurgery neurosurgical neuro
    neurology neurological stroke heart chest lung lungs respiratory renal kidney
    liver hepatology gastro gastroenterology colorectal bowel upper-gi gi
    endoscopy breast skin dermatology eye eyes ophthalmic ophthalmology ear nose
    throat ent dental oral maxillofacial facial hand foot feet knee hip joint
    bone bones fracture fractures pain memory falls diabetes diabetic endocrine
    thyroid obesity bariatric weight metabolic cancer oncology haematology
    hematology blood anticoagulation warfarin lipid hypertension asthma copd
    allergy immunology rheumatology urology prostate bladder gynaecology
    gynecology obstetric obstetrics menopause colposcopy sleep epilepsy
    headache migraine movement parkinson's dementia transplant dialysis
    infectious infection wound leg ulcer podiatry physiotherapy physio
    rehabilitation rehab addiction alcohol drug drugs substance smoking
    cessation psychiatry counselling speech language hearing audiology
    vision sight genetic genetics radiology imaging x-ray scan ultrasound
    laser minor injuries injury keyhole laparoscopic robotic open cosmetic
    reconstructive transgender gender identity pre-op preop pre-assessment
    booking screening vaccination test testing results student medical
    dental veterinary vet pet animal nhs va veterans military army naval
    mission charity base camp field this that which same other another
    any every each some no last first second next best top good
    """
)
_INSTITUTION_CUE = re.compile(
    r"\b(?:at|to|from|in|into|with|by|via|under|of|attends|attended|attending"
    r"|admitted|transferred|discharged|referred|registered|seen|treated|born"
    r"|delivered|works|worked|employed)[ \t]+(?:the[ \t]+)?$",
    re.IGNORECASE,
)


def _institution_hits(doc: _Doc) -> Iterator[_Hit]:
    text = doc.text
    seen_end = -1
    for key_start in doc.word_starts(_FACILITY_KEYWORDS):
        if key_start < seen_end:
            continue
        facility = _FACILITY_RE.match(text, key_start)
        lower_case = False
        if facility is None:
            # "St Mary's hospital", "Leeds infirmary": written in lower case,
            # it needs a saint's or a town's name before it.
            facility = _FACILITY_LOWER.match(text, key_start)
            lower_case = True
        if facility is None:
            continue
        # Walk back over the capitalised words naming it.
        words: list[tuple[int, str]] = []
        pos = key_start
        while True:
            back = re.search(
                rf"(?:(?:St|Ste|Saint)\.?[ \t]+)?(?:{_CAP}|[A-Z]{{2,}}\d*)(?:['’]s?)?[ \t]+$"
                r"|(?:&|and|of|on|upon|the)[ \t]+$",
                text[max(0, pos - 40) : pos],
            )
            if back is None or len(words) >= 6:
                break
            start = pos - (len(text[max(0, pos - 40) : pos]) - back.start())
            words.insert(0, (start, text[start:pos].strip()))
            pos = start
        # Trim connector and function words off the front.
        while words and (
            words[0][1].casefold() in {"&", "and", "of", "on", "upon", "the"}
            or (
                words[0][1].casefold() in _NOT_NAMES - {"st"}
                and not words[0][1].startswith(("St", "Saint"))
            )
        ):
            words.pop(0)
        if not words:
            continue
        names = [w for _, w in words]
        head = re.match(_FACILITY, facility.group())
        tail = facility.group()[len(head.group()) :] if head else ""
        names += re.findall(_CAP, tail)
        proper = [
            w
            for w in names
            if re.sub(r"['’]s?$", "", w).casefold() not in _GENERIC
            and w not in _ACRONYMS
            and w.casefold() not in {"&", "and", "of", "on", "upon"}
            and re.sub(r"['’]s?$", "", w).casefold() not in _EPONYM_PLACES
        ]
        if not proper:
            continue
        start = words[0][0]
        before = text[max(0, start - 30) : start]
        cued = _INSTITUTION_CUE.search(before) is not None
        saint = names[0].startswith(("St ", "St. ", "Saint ", "Ste "))
        folded = [re.sub(r"['’]s?$", "", w).casefold() for w in proper]
        if (
            not cued
            and not saint
            and len(proper) >= 2
            and folded[0] in FIRST_NAMES
            and folded[-1] in SURNAMES
        ):
            # "Henry Ford Hospital referral": a person's name on a building,
            # without a word saying that someone went there.
            continue
        place = any(w in PLACES for w in folded)
        named = any(w in SURNAMES and w not in VERY_COMMON for w in folded)
        if lower_case and not (saint or place or (cued and named)):
            continue  # "the Kaiser clinic" needs "at", "to", "attends"…
        headings = {"Surgery", "Practice", "Health", "Healthcare", "School"}
        headings |= {"College", "Academy", "University"}
        if (
            not cued
            and not saint
            and not place
            and facility.group() in headings
            and all(w in WORDS and w not in PLACES for w in folded)
        ):
            continue  # a capitalised heading: "Previous Surgery"
        if facility.group() in {"Health", "Healthcare", "Practice"} and not (
            cued or saint or place
        ):
            continue
        end = facility.end()
        # "Christian Medical College Vellore": the town naming it.
        town = re.match(rf",?[ \t]+(?={_CAP})", text[end : end + 3])
        if town is not None:
            found = _place_at(text, end + town.end())
            if found is not None and found[1] != "U":
                end = found[0]
        seen_end = end
        yield _Hit(start, end, "institution", REASONS["institution"] + ".")
    yield from _venue_hits(doc)
    yield from _named_after_facility_hits(doc)
    for saint in doc.word_starts(_SAINT):
        match = _LOWER_SAINT.match(doc.lower, saint)
        if match is not None:
            yield _Hit(*match.span(), "institution", REASONS["institution"] + ".")


# Where care happens: a proper name after one of these is a hospital or a
# clinic even without a facility word ("seen at Cedars-Sinai", "treated at
# MD Anderson", "admitted to AIIMS", "attends the Maudsley").
_VENUE_CUE = re.compile(
    r"(?i:\b(?:admitted|readmitted|transferred|discharged|treated|diagnosed|seen"
    r"|reviewed|operated[ \t]+on|attends|attended|attending|followed[ \t]+up"
    r"|scanned|delivered|investigated|managed|stepped[ \t]+down|repatriated)"
    r"(?:[ \t]+(?:previously|initially|originally|again|there|elsewhere))?"
    r"(?:[ \t]+(?:at|to|from|into))?"
    r"|\b(?:care[ \t]+of|under)\b[^.;\n]{0,40}?[ \t]at"
    # "seen in A&E at", "diagnosed in July 2018 at", "known to the team at".
    r"|\b(?:seen|treated|diagnosed|admitted|operated|reviewed|known)\b[^.;\n]{0,30}?"
    r"[ \t](?:at|to)"
    r"|\b(?:team|teams|doctors|surgeons|consultants)[ \t]+(?:at|from))"
    r"(?:[ \t]+the)?[ \t]+$"
)
_VENUE_NAME = re.compile(
    rf"(?<![\w'’-])(?:{_CAP}|[A-Z]{{2,6}})(?:['’]s)?"
    rf"(?:[ \t]+(?:{_CAP}|[A-Z]{{2,6}})(?:['’]s)?){{0,3}}(?![\w'’-])"
)
# Wards, departments and services: where, but not which hospital.
_CLINICAL_ACRONYMS = _words(
    """
    ICU ITU HDU CCU NICU PICU SCBU MAU AMU SAU EAU CDU ED AE ER OR PACU ACU OT
    OPD IPD MDT GP CT MRI PET CAMHS IAPT CMHT EPU DSU TIA SDEC UTC MIU WIC NHS VA
    CICU CTICU NNU PAU PEU HASU ASU GUM SHS EPAU DAU RESUS IR EU USA UK
    """
)
_VENUE_STOP = _words(
    """
    resus majors minors theatre theatres recovery triage home hospital clinic ward
    bay side room bed unit department outpatients inpatients casualty
    christmas easter midnight noon term birth county borough city town village
    district parish
    """
)


_VENUE_KEYWORDS = _words(
    "admitted readmitted transferred discharged treated diagnosed seen reviewed"
    " operated attends attended attending followed scanned delivered investigated"
    " managed stepped repatriated care known team teams doctors surgeons consultants"
    " under"
)


# The word right before a venue's name (after "the"): "at", "to", "from",
# "into", or the verb itself ("attends the Maudsley").
_VENUE_LAST_WORDS = _words("at to from into attends attended attending")


def _venue_hits(doc: _Doc) -> Iterator[_Hit]:
    text = doc.text
    reason = REASONS["institution"] + "."
    cues = doc.word_starts(_VENUE_KEYWORDS)
    if not cues:
        return
    for cue in cues:
        # The name is within a few words of its verb.
        window_end = min(len(text), cue + 70)
        match = None
        for match in _VENUE_NAME.finditer(text, cue, window_end):
            pre = doc.lower[max(0, match.start() - 16) : match.start()].split()
            if pre and pre[-1] == "the":
                pre.pop()
            if not pre or pre[-1] not in _VENUE_LAST_WORDS:
                continue  # cheap test first: the cue pattern is slow
            if _VENUE_CUE.search(text, max(0, match.start() - 70), match.start()):
                break
        else:
            continue
        if match is None:
            continue
        start = match.start()
        match = _VENUE_NAME.match(text, start)  # the whole name, past the window
        if match is None:
            continue  # the window cut a word short; whole, it is no name
        words = match.group().split()
        folded = [re.sub(r"['’]s$", "", w).casefold() for w in words]
        # "Tameside General" is a hospital; "General Surgery" a specialty.
        if (
            any(w in _NOT_NAMES or w in _VENUE_STOP or w in _NOT_PLACES for w in folded)
            or folded[0] in _GENERIC
        ):
            continue
        proper = [
            w
            for w, f in zip(words, folded, strict=True)
            if w.upper() not in _CLINICAL_ACRONYMS
            and w not in _ACRONYMS
            and f not in WORDS
            and f not in _GENERIC
            and f not in _EPONYM_PLACES
            and f not in REGIONS
        ]
        if not proper:
            continue
        phrase = " ".join(folded)
        if phrase in PLACES or phrase in REGIONS:
            continue  # a town: the location detector's
        if len(words) >= 2 and folded[0] in FIRST_NAMES and folded[-1] in SURNAMES:
            continue  # "seen at the request of" never; "seen by John Smith"
        if _NOT_A_PLACE_AFTER.match(text, match.end()):
            continue
        yield _Hit(start, match.end(), "institution", reason)


_SAINT = _words("st")
_LOWER_SAINT = re.compile(
    r"(?<![\w-])st\.?[ \t]+[a-z]+(?:['’]s?)?[ \t]+(?:hospital|infirmary|hospice"
    r"|clinic|surgery|medical[ \t]+cent(?:re|er)|health[ \t]+cent(?:re|er)|school)\b"
)


# Facility words that come before the name, in the languages clinicians
# forward letters from: "Hôpital Necker", "Klinikum Großhadern", "Ospedale San
# Raffaele", "Clínica Alemana". English "Hospital" is left out: before a
# capitalised word it names a scale or a statistic far more often ("Hospital
# Anxiety and Depression Scale", "Hospital Episode Statistics").
_FACILITY_FIRST = re.compile(
    r"(?<![\w-])(?:H[ôo]pital|Centre[ \t]+Hospitalier(?:[ \t]+Universitaire)?|Clinique"
    r"|Universit[äa]tsklinikum|Klinikum|Klinik|Krankenhaus|Spital|Ospedale"
    r"|Policlinico|Cl[íi]nica|Hospital(?=[ \t]+(?:de|del|do|da|General|Universit"
    r"|Italiano|Alem[aã]o|Israelita|San|Santa|Sant|Sao|São))|Szpital|Ziekenhuis"
    r"|Sjukhus|Sykehus)"
    r"(?P<name>(?:(?:[ \t]+(?:de|del|della|di|do|da|des|du|la|le|der|am|an|im))*"
    r"[ \t]+[A-ZÀ-ÖØ-Þ][\w'’-]*\w){1,4})"
)
# Institutions known by one word.
_ONE_WORD_INSTITUTION = re.compile(
    r"(?<![\w-])(?:Charité|Salpêtrière|Karolinska|Necker)(?![\w-])"
)


def _named_after_facility_hits(doc: _Doc) -> Iterator[_Hit]:
    text = doc.text
    for match in _FACILITY_FIRST.finditer(text):
        yield _Hit(*match.span(), "institution", REASONS["institution"] + ".")
    for match in _ONE_WORD_INSTITUTION.finditer(text):
        yield _Hit(*match.span(), "institution", REASONS["institution"] + ".")
