"""A third held-out batch, written after the second round of fixes and scored
once before the fixes that followed it (two misses, one false alarm).

Same shape and rules as :mod:`tests.cases.phi_corpus_heldout`.
"""

from __future__ import annotations

IDENTIFIERS: list[tuple[str, tuple[tuple[str, str], ...]]] = [
    (
        "Mrs Adaeze Nnamdi-Okoro attended with her sister.",
        (("name", "Adaeze Nnamdi-Okoro"),),
    ),
    (
        "Referred by Dr Rahman at Bow Health Centre.",
        (("name", "Rahman"), ("institution", "Bow Health Centre")),
    ),
    ("He lives in Harehills with his parents.", (("location", "Harehills"),)),
    ("Originally from Kumasi, came to the UK in 2009.", (("location", "Kumasi"),)),
    (
        "Works at Lidl in Bootle as a cashier.",
        (("employer", "Lidl"), ("location", "Bootle")),
    ),
    ("DOB: 1/2/1935", (("date", "1/2/1935"),)),
    ("Age 91.", (("age", "91"),)),
    ("Seen on 7th Nov 2023 by the heart failure nurses.", (("date", "7th Nov 2023"),)),
    (
        "follow me on tiktok @sunny.days.with.lupus",
        (("handle", "@sunny.days.with.lupus"),),
    ),
    ("Email: p_kaur1978@hotmail.co.uk", (("email", "p_kaur1978@hotmail.co.uk"),)),
    ("ring me 07398 765432", (("phone", "07398 765432"),)),
    (
        "Cared for at Oakhaven Hospice, Lymington.",
        (("institution", "Oakhaven Hospice"), ("location", "Lymington")),
    ),
    ("NHS No. 401 023 2137", (("record_number", "401 023 2137"),)),
    (
        "Father, Giuseppe Esposito, died of MI aged 60.",
        (("name", "Giuseppe Esposito"),),
    ),
    ("She's from a village near Galway.", (("location", "Galway"),)),
    ("Admitted to Tameside General on Friday.", (("institution", "Tameside General"),)),
    ("my mum is 92 and lives in swindon", (("age", "92"), ("location", "swindon"))),
    (
        "He drives for Uber in Manchester.",
        (("employer", "Uber"), ("location", "Manchester")),
    ),
    ("Attends Westfield Academy, year 9.", (("institution", "Westfield Academy"),)),
    (
        "I'm Oksana, writing for my father Taras.",
        (("name", "Oksana"), ("name", "Taras")),
    ),
    (
        "Contact: mohan [dot] iyer [at] gmail [dot] com",
        (("email", "mohan [dot] iyer [at] gmail [dot] com"),),
    ),
    (
        "Profile: linkedin.com/in/sarah-obrien-rn",
        (("url", "linkedin.com/in/sarah-obrien-rn"),),
    ),
    ("Hospital number: RWE2345678", (("record_number", "RWE2345678"),)),
    (
        "Lives at 5 Mill Lane, Ely CB7 4AA.",
        (("address", "5 Mill Lane"), ("location", "Ely"), ("zip", "CB7 4AA")),
    ),
    (
        "Last seen in May 2022 in Coventry.",
        (("date", "May 2022"), ("location", "Coventry")),
    ),
    ("Patient resides in Queens, NY.", (("location", "Queens"),)),
    ("A ninety-four-year-old retired miner.", (("age", "ninety-four"),)),
    (
        "He was under Prof Chaudhry at the Walton Centre.",
        (("name", "Chaudhry"), ("institution", "Walton Centre")),
    ),
    ("Discussed with Sister Aoife Brennan on Ward 12.", (("name", "Aoife Brennan"),)),
    ("Moved here from Ljubljana last spring.", (("location", "Ljubljana"),)),
]
NEGATIVES: list[str] = [
    "Addisonian crisis managed with IV hydrocortisone.",
    "Cushing's triad suggests raised ICP.",
    "Plan: repeat LFTs in 2/52, GP to review.",
    "Ebola and Marburg are filoviruses.",
    "Spanish flu pandemic of 1918.",
    "Epstein-Barr virus serology positive.",
    "The Bristol stool chart type 6.",
    "Wells criteria for DVT were low.",
    "Glasgow-Blatchford score of 0.",
    "Warfarin clinic on Thursday.",
    "Seen in the Parkinson's clinic.",
    "Mark will need an extra dose? No: mark the chart.",
    "Bath salts ingestion suspected.",
    "Hope she improves.",
    "Sandy loose stools.",
    "April showers and May flowers are irrelevant.",
    "Nice to meet you, thanks for the referral.",
    "Temp 38.9, HR 110, sats 93%.",
    "Apgar 9 at 5 minutes.",
    "CD4 count 350.",
    "Prescribed Calpol and Nurofen.",
    "Lives independently in a flat, mobilises with a stick.",
    "Transferred to Majors for monitoring.",
    "Discharged home with district nurse follow-up.",
    "Korsakoff psychosis is irreversible.",
    "Ottawa knee rules applied.",
    "Reviewed at the Tuesday MDT.",
    "Treated at home with oral antibiotics.",
    "Diagnosed at 6 weeks with hip dysplasia.",
    "Grace Kelly sign is not a real sign.",
]
