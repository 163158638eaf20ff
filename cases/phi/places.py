"""Towns, cities and counties; hospitals and other institutions; employers.

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

Institutions are a capitalised name ending in a facility word ("Hospital",
"Infirmary", "Clinic", "Surgery", "Medical Centre", "Hospice") with at least
one word that is not a specialty or a description ("Riverside Surgery", not
"Cardiac Surgery"), or a proper name right after a care verb ("seen at
Cedars-Sinai", "admitted to AIIMS", "attends the Maudsley"; never a ward or a
service: "admitted to ICU", "transferred to Resus"). Employers follow "works
at/for", "employed by", "job at", "works as a … at", "employer:", or carry a
company suffix ("Acme Ltd").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from cases.phi.core import (
    _ACRONYMS,
    _DISEASE_WORDS,
    _EPONYMS,
    _LOW,
    _MONTH_NAMES,
    _NOT_NAMES,
    _UP,
    _US_STATES,
    REASONS,
    _Doc,
    _Hit,
    _words,
)
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


# --- institutions ----------------------------------------------------------------
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


# --- employers -----------------------------------------------------------------
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


def place_hits(doc: _Doc) -> Iterator[_Hit]:
    yield from _location_hits(doc)
    yield from _institution_hits(doc)
    yield from _employer_hits(doc)
