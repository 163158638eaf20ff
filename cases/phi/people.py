"""Names found with the given/family-name lexicon rather than a title.

- A given name from the lexicon followed by a capitalised word that is a
  family name or no ordinary English word: "Eleanor Vantongeren".
- Lower-case names after "pt", "patient", titles and relations:
  "pt eleanor vantongeren", "mrs o'connor", "daughter sarah".
- A capitalised name before an apposition: "Okonkwo Adebayo, a retired
  teacher", "Vantongeren, aged 54".
- The name under a sign-off: "Kind regards, Tom".

Ambiguous words need more: a given name that is mostly an English word
("Will", "May", "Hope") needs a lexicon family name after it, and eponyms
("Austin Flint murmur", "Sister Mary Joseph nodule") are left alone by the
same checks the title-based detector uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from cases.phi.findings import REASONS, _Hit
from cases.phi.lexicon import (
    BIG_PLACES,
    FIRST_NAMES,
    PLACES,
    REGIONS,
    SURNAMES,
    VERY_COMMON,
    WORDS,
)
from cases.phi.names import (
    _AFTER_NAME_NOT_PERSON,
    _EPONYMS,
    _FIRST_NAMES,
    _NOT_NAMES,
    _TOKEN,
    _name_span,
)
from cases.phi.text import _LOW, _UP, _Doc, _words

_CAP_WORD = re.compile(rf"(?<![\w'’-])[{_UP}][{_LOW}]+(?:['’-][{_UP}]?[{_LOW}]+)*")
_SPACE_THEN_TOKEN = re.compile(rf"[ \t]+(?={_TOKEN})")
_NEXT_TOKEN = re.compile(_TOKEN)
_TOKEN_SPLIT = re.compile(r"[\s]+")
# Words that start a capitalised phrase which is a place, organisation or
# heading rather than a person ("Santa Ana", "Saint John").
_NOT_BEFORE = re.compile(
    r"(?:\b(?:St|Saint|Ste|San|Santa|Fort|Port|Mount|Lake)\.?\s+|[-/])$"
)
# Clinical and everyday words that the name lists hold but that are far more
# often something else in a note.
_STOP = (
    _NOT_NAMES
    | _EPONYMS
    | _words(
        """
        alert well sat stable settled better worse fine good poor fair dry wet
        lying sitting standing walking eating drinking sleeping seen noted plan
        impression assessment diagnosis history examination exam imaging bloods
        labs results management summary discharge admission review follow
        referral letter report note notes chest heart lung lungs abdomen head
        neck back leg legs arm arms hand hands foot feet eye eyes ear ears skin
        bone bones joint joints knee hip spine brain renal liver kidney blood
        urine stool pain fever cough rash nausea vomiting headache street road
        avenue lane boulevard crescent terrace river valley virus
        """
    )
)
# After a name, words that make it an eponym or a place, not a person.
_NOT_PERSON_AFTER = re.compile(
    r"(?:['’]s?)?[ \t-]*(?:virus|viral|fever|pupils?|rings?|spots?|spotted|lesions?"
    r"|crystals?|spirals?|rods?|fibres|fibers|duct|fissure|triangle|fascia|area"
    r"|plexus|rules?|protocol|guidelines?|shunt|chart|questionnaire|index|method"
    r"|technique|jaw|winking|syncope|street|road|avenue|lane|ward|bay|unit|wing"
    r"|approach|frame|wires?|splint|position|exercises?|drain|valve|line|tube"
    r"|needle|catheter|stain|staining|stained|dye|agar|airway|incision|\w*(?:ectomy|otomy|ostomy|plasty"
    r"|pexy|rrhaphy|scopy|graphy)|sequence|complex|effect|equation|principle|curve"
    r"|terrier|spaniel|retriever|flu|influenza)\b",
    re.IGNORECASE,
)
_PARTICLES = re.compile(
    r"(?:[ \t]+(?:van|von|der|den|de|del|della|di|da|du|la|le|ter|ten|bin|ibn|al|el))*"
)
_SURNAME_PARTICLE = re.compile(
    r"(?:van|von|de|del|della|di|da|du|la|le|al|el|bin|ibn|o)$"
)


# Very common words that are never a given name at the start of a name.
_FUNCTION_WORDS = _words(
    "the a an this that these those his her their its our your my and or of in on"
    " at to for with by from as is was"
)


def _is_surnameish(word: str) -> bool:
    """A capitalised word after a given name: a family name or no English word."""
    folded = word.casefold().strip("'’")
    if folded in _STOP:
        return False
    parts = re.split(r"[-'’]", folded)
    if any(part in SURNAMES for part in parts):
        return True
    return all(part not in WORDS for part in parts if part)


def _capitalised_names(doc: _Doc) -> Iterator[_Hit]:
    text = doc.text
    reason = f"{REASONS['name']} (a given name and a family name)."
    for match in _CAP_WORD.finditer(text):
        word = match.group()
        folded = word.casefold()
        if folded not in FIRST_NAMES or word in _FIRST_NAMES:
            continue  # the names detector already handles its own short list
        very_common = folded in VERY_COMMON
        if folded in _STOP and not very_common:
            continue
        start = match.start()
        if _NOT_BEFORE.search(text, max(0, start - 8), start):
            continue
        particles = _PARTICLES.match(text, match.end())
        gap = _SPACE_THEN_TOKEN.match(text, particles.end())
        if gap is None:
            continue
        second = _NEXT_TOKEN.match(text, gap.end())
        if second is None or not _is_surnameish(second.group()):
            continue
        second_folded = second.group().casefold()
        if very_common and (
            second_folded not in SURNAMES
            or second_folded in WORDS
            or folded in _FUNCTION_WORDS
        ):
            continue  # "Will Continue", "May Need", "The Bristol stool chart"
        if folded in WORDS and second_folded in VERY_COMMON:
            continue  # "Grace Will"
        pair = f"{folded} {second_folded}"
        if pair in PLACES or pair in REGIONS:
            continue  # "San Francisco", "Santa Ana"
        span = _name_span(text, second.start(), surname_first=False)
        if span is None or _NOT_PERSON_AFTER.match(text, span[1]):
            continue
        yield _Hit(start, span[1], "name", reason)


# --- lower-case names after "pt", titles and relations ----------------------
_LOWER_TRIGGER = re.compile(
    r"(?<![\w-])(?P<t>pt|pts|patient|mr|mrs|ms|mx|miss|dr|prof|nurse|sister"
    r"|wife|husband|partner|son|daughter|mother|father|mum|mom|dad|brother"
    r"|grandson|granddaughter|grandmother|grandfather|niece|nephew|aunt|uncle"
    r"|carer|caregiver|friend|neighbour|neighbor|named|called|aka|name"
    r"|boyfriend|girlfriend|fianc[eé]e?|hubby|nan|nana|gran|granny|grandma|grandad"
    r"|grandpa|stepdad|stepmum|stepmom|stepfather|stepmother|bf|gf)"
    r"(?:'s)?\.?:?[ \t]+(?:(?:is|was|called|named)[ \t]+)?"
    r"(?P<a>[a-z][a-z'’]+(?:-[a-z]+)?)(?:[ \t]+(?P<b>[a-z][a-z'’]+(?:-[a-z]+)?))?"
)
_TITLES = frozenset(["mr", "mrs", "ms", "mx", "miss", "dr", "prof"])
_LOWER_STARTS = frozenset(
    [
        "pt",
        "pts",
        "patient",
        "mr",
        "mrs",
        "ms",
        "mx",
        "miss",
        "dr",
        "prof",
        "nurse",
        "sister",
        "wife",
        "husband",
        "partner",
        "son",
        "daughter",
        "mother",
        "father",
        "mum",
        "mom",
        "dad",
        "brother",
        "grandson",
        "granddaughter",
        "grandmother",
        "grandfather",
        "niece",
        "nephew",
        "aunt",
        "uncle",
        "carer",
        "caregiver",
        "friend",
        "neighbour",
        "neighbor",
        "named",
        "called",
        "aka",
        "name",
        "boyfriend",
        "girlfriend",
        "fiance",
        "fiancee",
        "hubby",
        "nan",
        "nana",
        "gran",
        "granny",
        "grandma",
        "grandad",
        "grandpa",
        "stepdad",
        "stepmum",
        "stepmom",
        "stepfather",
        "stepmother",
        "bf",
        "gf",
    ]
)


def _lexicon_name(word: str) -> bool:
    return word in FIRST_NAMES or word in SURNAMES


def _lower_names(doc: _Doc) -> Iterator[_Hit]:
    text = doc.text
    for start in doc.word_starts(_LOWER_STARTS):
        match = _LOWER_TRIGGER.match(text, start)
        if match is None:
            continue
        trigger = match["t"]
        first = match["a"].strip("'’")
        second = (match["b"] or "").strip("'’")
        if first in _STOP or first in VERY_COMMON:
            continue
        if trigger in _TITLES:
            # "mrs smith": after a title a lexicon name is enough.
            ok = _lexicon_name(first) or first not in WORDS
        else:
            ok = (first in FIRST_NAMES or first in SURNAMES) and (
                first not in WORDS
                or (
                    first in FIRST_NAMES
                    and second
                    and second in SURNAMES
                    and second not in _STOP
                )
            )
        if not ok:
            continue
        end = match.end("a")
        if (
            second
            and second not in _STOP
            and second not in VERY_COMMON
            and (second in SURNAMES or second not in WORDS)
        ):
            end = match.end("b")
        elif _SURNAME_PARTICLE.fullmatch(first):
            continue
        if (
            _AFTER_NAME_NOT_PERSON.match(text, end)
            or _NOT_PERSON_AFTER.match(text, end)
            or re.sub(r"['’]s$", "", first) in _STOP
            or first.endswith(("-like", "-type", "-esque"))
        ):
            continue  # "sister mary joseph nodule", "dr. parkinson's disease"
        reason = f"{REASONS['name']} (after “{trigger}”)."
        yield _Hit(match.start("a"), end, "name", reason)


# --- appositions and sign-offs ------------------------------------------------
_APPOSITION = re.compile(
    rf"(?<![\w'’-])(?P<n>{_TOKEN}(?:[ \t]+{_TOKEN}){{0,2}}),[ \t]+"
    r"(?:an?[ \t]+(?:\d{1,3}[- ]?(?:year|yr)s?[- ]old|retired|former|local|young"
    r"|elderly|married|single|widowed|divorced|keen|self-employed|\w+ed|\w+[ \t]+"
    r"(?:teacher|nurse|farmer|driver|engineer|student|builder|mother|father))"
    r"|aged[ \t]+\d|age[ \t]+\d|\d{1,3}[ \t]*(?:,|y\b|yo\b|years?\b|[MF]\b))"
)
_SIGN_OFF = re.compile(
    r"(?i:(?:kind|best|warm|warmest|many)[ \t]+(?:regards|wishes|thanks)|regards"
    r"|yours[ \t]+(?:sincerely|faithfully|truly)|sincerely|thanks|thank[ \t]+you"
    r"|cheers|love|with[ \t]+thanks|signed|all[ \t]+the[ \t]+best|best(?=[ \t]*,))"
    r"[ \t]*[,.!-]?[ \t]*\n?[ \t]*"
)
_SIGN_OFF_STARTS = frozenset(
    [
        "kind",
        "best",
        "warm",
        "warmest",
        "many",
        "regards",
        "yours",
        "sincerely",
        "thanks",
        "thank",
        "cheers",
        "love",
        "with",
        "signed",
    ]
)


def _plausible_name(words: list[str]) -> bool:
    folded = [w.casefold() for w in words]
    if any(w in _STOP for w in folded):
        return False
    if any(_lexicon_name(w) and w not in WORDS for w in folded):
        return True
    return all(w not in WORDS for w in folded)


def _appositions(doc: _Doc) -> Iterator[_Hit]:
    text = doc.text
    if ", " not in text:
        return
    reason = f"{REASONS['name']} (described as a person)."
    for match in _APPOSITION.finditer(text):
        words = _TOKEN_SPLIT.split(match["n"])
        # Sentence-initial single words are too often headings ("Chest, ...").
        if len(words) == 1 and words[0].casefold() in WORDS:
            continue
        if _plausible_name(words):
            span = _name_span(text, match.start("n"), surname_first=False)
            if span:
                yield _Hit(*span, "name", reason)


def _sign_offs(doc: _Doc) -> Iterator[_Hit]:
    text = doc.text
    for start in doc.word_starts(_SIGN_OFF_STARTS):
        match = _SIGN_OFF.match(text, start)
        if match is None:
            continue
        name = _NEXT_TOKEN.match(text, match.end())
        if name is None:
            continue
        span = _name_span(text, match.end(), surname_first=False)
        if span is None:
            continue
        words = _TOKEN_SPLIT.split(text[span[0] : span[1]])
        first = words[0].casefold()
        if _plausible_name(words) or (
            (first in FIRST_NAMES or first in SURNAMES)
            and first not in _STOP
            and first not in VERY_COMMON
        ):
            yield _Hit(*span, "name", f"{REASONS['name']} (signing off).")


# --- an initial and a family name; a given name doing something --------------
_INITIAL_SURNAME = re.compile(
    rf"(?<![\w.'’-])(?:[{_UP}]\.[ \t]?){{1,2}}[ \t]?(?P<s>{_TOKEN})"
)
_PERSON_VERB = re.compile(
    r"[ \t]+(?:is|was|has|had|reports|reported|says|said|states|stated|feels|felt"
    r"|attended|attends|presented|presents|lives|lived|works|worked|denies|denied"
    r"|complains|complained|describes|described|explains|explained|mentions"
    r"|mentioned|tells|told|asked|asks|wants|wanted|agreed|agrees|declined"
    r"|declines|consented|refused|refuses|prefers|likes|enjoys|drinks|smokes"
    r"|walks|drives|came|went|fell|died|phoned|rang|visited|visits|lost|noticed"
    r"|noted|first|herself|himself|and[ \t]+(?:her|his)|(?:and|&)[ \t]+[A-Z][a-z]+[ \t]+"
    r"(?:are|were|have|had))\b"
)


_LATIN = re.compile(
    r"(?:us|ae|um|ii|is|ensis|oides|ica|ans|ens|ale|ile|ella|osa|ata|ina|alis|ium"
    r"|ia|genes|phila|ella|coli|pylori|es|ax|ix|ex|i)$"
)
_AFTER_WORD = re.compile(r"(?:[A-Z][a-z]*|\d)[ \t]+$")


_COPULA = re.compile(r"[ \t]+(?:is|was|has|had|first)\b")


def _initial_surnames(doc: _Doc) -> Iterator[_Hit]:
    """ "E. Vantongeren attended": an initial, then a known family name."""
    text = doc.text
    if ". " not in text and "." not in text:
        return
    reason = f"{REASONS['name']} (an initial and a family name)."
    for match in _INITIAL_SURNAME.finditer(text):
        surname = match["s"].casefold()
        if surname in _STOP or surname in WORDS:
            continue
        parts = surname.split("-")
        if not any(p in SURNAMES for p in parts) and _LATIN.search(surname):
            continue  # "S. Aureus", "C. Difficile": a species, not a person
        if _AFTER_WORD.search(text, max(0, match.start() - 20), match.start()):
            continue  # "Vitamin D. Levels", "Grade 3. Wells"
        span = _name_span(text, match.start(), surname_first=False)
        if span and not _NOT_PERSON_AFTER.match(text, span[1]):
            yield _Hit(*span, "name", reason)


def _given_names_acting(doc: _Doc) -> Iterator[_Hit]:
    """ "Eleanor reports feeling better": a given name that is no English
    word, no place and no eponym, followed by what a person does."""
    text = doc.text
    reason = f"{REASONS['name']} (a given name)."
    for match in _CAP_WORD.finditer(text):
        folded = match.group().casefold()
        if (
            folded not in FIRST_NAMES
            or folded in WORDS
            or folded in _STOP
            or folded in BIG_PLACES
            or folded in REGIONS
        ):
            continue
        end = match.end()
        verb = _PERSON_VERB.match(text, end)
        if text[end : end + 1] in "'’" or verb is None:
            continue
        if folded in PLACES and _COPULA.match(verb.group()):
            continue  # "Chester is a ward": a town can be, but not report
        if _NOT_BEFORE.search(text, max(0, match.start() - 8), match.start()):
            continue
        yield _Hit(match.start(), end, "name", reason)


_CAP_PAIR = re.compile(
    rf"(?<![\w'’.-])(?P<a>[{_UP}][{_LOW}]{{2,}}(?:-[{_UP}][{_LOW}]+)?)[ \t]+"
    rf"(?P<b>[{_UP}][{_LOW}]{{2,}}(?:-[{_UP}][{_LOW}]+)?)(?![\w'’-])"
)


# Drug, organism and disease endings: "Metformin Hydrochloride was started",
# "Covid Pneumonitis was". A word the name lexicon knows is exempt (Levine).
_MEDICAL_ENDING = re.compile(
    r"(?:itis|osis|iasis|oma|a?emia|pathy|ectomy|otomy|plasty|scopy|ride|ole"
    r"|mab|nib|pril|sartan|statin|cillin|mycin|cycline|olol|pine|vir|ide|ate"
    r"|ine|ium|ase|bacter|coccus|phage|virus|vid|cin|fen|done|pam|lam|gen|drome"
    r"|ist|logy|ics)$"
)


def _medical_word(word: str, *, second: bool) -> bool:
    if word in FIRST_NAMES or word in SURNAMES:
        return False
    return bool(_MEDICAL_ENDING.search(word)) or (second and bool(_LATIN.search(word)))


def _unknown_pairs_acting(doc: _Doc) -> Iterator[_Hit]:
    """ "Yevgenia Sokolova presented": two capitalised words that are neither
    English words, places nor eponyms, followed by what a person does; the
    lexicon need not know either name."""
    text = doc.text
    reason = f"{REASONS['name']} (a given name and a family name)."
    for match in _CAP_PAIR.finditer(text):
        words = [match["a"].casefold(), match["b"].casefold()]
        if any(
            part in WORDS
            or part in _STOP
            or part in _NOT_NAMES
            or part in _EPONYMS
            or part in PLACES
            or part in REGIONS
            for word in words
            for part in word.split("-")
        ):
            continue
        if _medical_word(words[0], second=False) or _medical_word(
            words[1], second=True
        ):
            continue
        verb = _PERSON_VERB.match(text, match.end())
        if verb is None or text[match.end() : match.end() + 1] in "'’":
            continue
        if _NOT_BEFORE.search(text, max(0, match.start() - 8), match.start()):
            continue
        yield _Hit(match.start(), match.end(), "name", reason)


# "I'm Chiamaka", "hi its ahmed", "this is Dmitri", "our registrar Dmitri":
# a word saying who someone is, then a name the lexicon knows or no word.
_INTRO = re.compile(
    r"(?<![\w'’])(?P<t>(?i:i['’]?m|i[ \t]+am|it['’]?s|this[ \t]+is|my[ \t]+name['’]s"
    r"|registrar|consultant|colleague|locum|physio|pharmacist|midwife|sho"
    r"|intern|fellow|resident|trainee|house[ \t]+officer|student))"
    r"[ \t]+(?P<n>[A-Za-zÀ-ÖØ-öø-ÿ][a-zà-öø-ÿ'’-]+)(?![\w'’-])"
)
_ROLES = _words(
    "registrar consultant colleague locum physio pharmacist midwife sho intern"
    " fellow resident trainee officer student"
)


_INTRO_STARTS = _ROLES | _words("i im it its this my house")


def _introductions(doc: _Doc) -> Iterator[_Hit]:
    text = doc.text
    for key_start in doc.word_starts(_INTRO_STARTS):
        match = _INTRO.match(text, key_start)
        if match is None:
            continue
        word = match["n"]
        folded = word.casefold().strip("'’")
        if folded in _STOP or folded in VERY_COMMON or folded in REGIONS:
            continue
        known = folded in FIRST_NAMES or folded in SURNAMES
        role = match["t"].casefold().split()[-1] in _ROLES
        if word[:1].isupper():
            if role and not known:
                continue  # "consultant Haematologist"
            ok = folded not in WORDS and (known or folded not in PLACES)
        else:
            # Lower case is how some people write everything, so only a
            # name the lexicon knows that is no English word.
            ok = known and folded not in WORDS and not role
        if not ok or _NOT_PERSON_AFTER.match(text, match.end()):
            continue
        span = _name_span(text, match.start("n"), surname_first=False)
        end = span[1] if span and span[0] == match.start("n") else match.end("n")
        yield _Hit(match.start("n"), end, "name", f"{REASONS['name']} (introduced).")


def name_hits(doc: _Doc) -> Iterator[_Hit]:
    yield from _introductions(doc)
    yield from _capitalised_names(doc)
    yield from _initial_surnames(doc)
    yield from _given_names_acting(doc)
    yield from _unknown_pairs_acting(doc)
    yield from _lower_names(doc)
    yield from _appositions(doc)
    yield from _sign_offs(doc)
