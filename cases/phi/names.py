"""Names after titles, relations and naming words, and the name vocabulary.

"Dr Amelia Hart", "daughter Sarah", "seen by J. Smith", "patient: HART,
Amelia", and a common first name followed by a surname ("Emily Tanaka").
Eponyms ("Dr. Parkinson's disease", "Austin Flint murmur") are not names.

The vocabulary here (words that follow a trigger without being a name,
eponyms, disease words, acronyms, common first names) is shared with the
lexicon-driven detectors in ``people``, ``locations``, ``institutions`` and
``employers``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from cases.phi.findings import REASONS, _Hit
from cases.phi.lexicon import FIRST_NAMES, SURNAMES, WORDS
from cases.phi.text import _LOW, _LOWER_WORD, _UP, _Doc, _words

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
# "Garcia, Luis", "Smith, John A." after a naming word: a surname, a comma and
# a given name from the lexicon.
_SURNAME_COMMA_GIVEN = re.compile(
    rf"(?P<surname>{_TOKEN}),[ \t]*(?P<given>{_TOKEN})"
    rf"(?:[ \t]+(?:{_TOKEN}|{_INITIAL}))?"
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
# Leads a given name follows, but so does much else ("seen with Chest pain"):
# what follows them must be a given name the lexicon knows.
_WEAK_LEADS = r"[Mm]et\s+with|[Ss]een\s+with|[Bb]rought\s+in\s+by|[Vv]isited\s+by"
_LEAD_IN = (
    r"\b(?:[Pp]atient|PATIENT|[Pp]t|[Nn]amed|[Cc]alled|[Kk]nown\s+as|aka"
    r"|[Gg]oes\s+by|[Nn]ame(?:\s+is)?|NAME|[Ss]igned(?:\s+by)?|[Ss]een\s+by"
    r"|[Rr]eviewed\s+by|[Rr]eferred\s+by|[Dd]iscussed\s+with|[Ss]poke\s+(?:to|with)"
    r"|[Ss]poken\s+to|[Ee]scorted\s+by|[Aa]ccompanied\s+by|[Dd]ear|[Aa]ttn"
    rf"|{_WEAK_LEADS}|[Cc]c)\b\.?:?"
)
_WEAK_LEAD = re.compile(_WEAK_LEADS)
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
_A_SERVICE = re.compile(
    r"[ \t]+(?:team|service|services|clinic|department|dept|unit|ward|nurses?"
    r"|registrar|reg|consultant|sho|fy1|fy2|on[- ]call|doctors?|physicians?"
    r"|surgeons?|colleagues|MDT)\b",
    re.IGNORECASE,
)

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
    referred discussed spoke spoken escorted accompanied dear attn cc met
    brought visited
    """
)


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
        match = _SURNAME_COMMA_GIVEN.match(text, pos)
        if (
            match
            and match["given"].casefold() in FIRST_NAMES
            and match["surname"].casefold() not in _NOT_NAMES
        ):
            end = match.end()
            last = match.group().rsplit(None, 1)[-1]
            if len(last) > 2 and last.casefold() in _NOT_NAMES:
                end = match.end("given")
            return match.start(), end
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
    if (
        " " not in name.strip()
        and last_word in WORDS
        and last_word not in FIRST_NAMES
        and last_word not in SURNAMES
        and _A_SERVICE.match(following)
    ):
        return None  # "seen by Chest team", "discussed with Renal registrar"
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
            if span and _WEAK_LEAD.match(label):
                # "met with Sarah", never "seen with Chest pain": only a
                # given name follows these.
                first = re.split(r"[\s,-]+", text[span[0] : span[1]])[0]
                if first.casefold() not in FIRST_NAMES:
                    span = None
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
