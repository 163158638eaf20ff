"""A second held-out batch, written after the first round of fixes and scored
once before any further change (see the report in the commit history).

Same shape and rules as :mod:`tests.cases.phi_corpus_heldout`.
"""

from __future__ import annotations

IDENTIFIERS: list[tuple[str, tuple[tuple[str, str], ...]]] = [
    (
        "Collateral from his partner, Mei-Ling Chow, by phone.",
        (("name", "Mei-Ling Chow"),),
    ),
    (
        "Seen in A&E at Pinderfields with a head injury.",
        (("institution", "Pinderfields"),),
    ),
    (
        "She drives a bus for Stagecoach out of Gateshead.",
        (("employer", "Stagecoach"), ("location", "Gateshead")),
    ),
    (
        "Grandson Kofi Boateng-Asante brought him in.",
        (("name", "Kofi Boateng-Asante"),),
    ),
    (
        "Known to the team at Whipps Cross.",
        (("institution", "Whipps Cross"),),
    ),
    (
        "Born 29th Feb 1944 in Kraków.",
        (("date", "29th Feb 1944"), ("location", "Kraków")),
    ),
    (
        "Presented on Sat 14 Sept with haemoptysis.",
        (("date", "14 Sept"),),
    ),
    (
        "She's ninety-nine and fiercely independent.",
        (("age", "ninety-nine"),),
    ),
    (
        "My dad is 93, he lives on his own in Motherwell.",
        (("age", "93"), ("location", "Motherwell")),
    ),
    (
        "email her: anita.desai93 at yahoo dot in",
        (("email", "anita.desai93 at yahoo dot in"),),
    ),
    (
        "The family vlog is on youtube.com/c/TheOkaforsLife",
        (("url", "youtube.com/c/TheOkaforsLife"),),
    ),
    (
        "He posts updates on X (@marco_rossi_88).",
        (("handle", "@marco_rossi_88"),),
    ),
    (
        "Reddit user u/spoonie_sarah described the same flare.",
        (("handle", "u/spoonie_sarah"),),
    ),
    (
        "Wife's mobile: 07845 221 908.",
        (("phone", "07845 221 908"),),
    ),
    (
        "Call the daughter on +353 87 123 4567.",
        (("phone", "+353 87 123 4567"),),
    ),
    (
        "MRN 7729104, admitted under Dr Obi.",
        (("record_number", "7729104"), ("name", "Obi")),
    ),
    (
        "Lives at 61 Kingsway, Swansea SA1 5JQ.",
        (("address", "61 Kingsway"), ("location", "Swansea"), ("zip", "SA1 5JQ")),
    ),
    (
        "Resident of Sparkbrook, Birmingham, attends Small Heath Medical Practice.",
        (
            ("location", "Sparkbrook"),
            ("location", "Birmingham"),
            ("institution", "Small Heath Medical Practice"),
        ),
    ),
    (
        "Works as a teaching assistant at Oakfield Primary.",
        (("institution", "Oakfield Primary"),),
    ),
    (
        "He's a porter at Leeds General Infirmary.",
        (("institution", "Leeds General Infirmary"),),
    ),
    (
        "Patient Svetlana Ivanova, 47, from Dnipro.",
        (("name", "Svetlana Ivanova"), ("location", "Dnipro")),
    ),
    (
        "hi im fatima, my son yusuf has a rash since tuesday",
        (("name", "fatima"), ("name", "yusuf")),
    ),
    (
        "we're in croydon, can someone call me back",
        (("location", "croydon"),),
    ),
    (
        "Transferred from Northwick Park for a neurosurgical opinion.",
        (("institution", "Northwick Park"),),
    ),
    (
        "She was diagnosed in July 2018 at the Christie.",
        (("date", "July 2018"), ("institution", "Christie")),
    ),
    (
        "Ward clerk Bernadette O'Hare kindly chased the notes.",
        (("name", "Bernadette O'Hare"),),
    ),
    (
        "Surgery was at Apollo Hospitals, Hyderabad, in 2016.",
        (("institution", "Apollo Hospitals"), ("location", "Hyderabad")),
    ),
    (
        "Her husband works at Tata Steel in Port Talbot.",
        (("employer", "Tata Steel"), ("location", "Port Talbot")),
    ),
    (
        "Last clinic letter dated 02/03/21.",
        (("date", "02/03/21"),),
    ),
    (
        "Symptoms since Dec '22.",
        (("date", "Dec '22"),),
    ),
    (
        "Dr Thi Hoa Pham will see her in clinic.",
        (("name", "Thi Hoa Pham"),),
    ),
    (
        "He's lived in Bankstown, Sydney since 1995.",
        (("location", "Bankstown"), ("location", "Sydney")),
    ),
    (
        "Insta: @dr.ramona.skin, DM for pics",
        (("handle", "@dr.ramona.skin"),),
    ),
    (
        "Emailed to l.fernandez@nhs.net on 5 June.",
        (("email", "l.fernandez@nhs.net"), ("date", "5 June")),
    ),
    (
        "Postcode CF10 3AT.",
        (("zip", "CF10 3AT"),),
    ),
]

# Scored once: 43 of 50 identifiers covered, 2 false alarms ("Rose Bengal
# staining", "Dublin Core metadata"). "Dublin Core" is left out below and
# still flagged: telling it from "Florence Hill" or "Austin Baker" (a town
# that is a given name, then a family name that is an English word) would
# cost more real names than it saves.
NEGATIVES: list[str] = [
    "Chvostek's sign was negative.",
    "Trousseau's sign of malignancy.",
    "Pancoast tumour on CXR.",
    "Zollinger-Ellison syndrome suspected.",
    "Peutz-Jeghers polyps on colonoscopy.",
    "Mallory-Weiss tear after vomiting.",
    "Klinefelter syndrome, 47,XXY.",
    "Duchenne muscular dystrophy in the brother.",
    "Huntington's chorea in the family.",
    "Brugada pattern on the ECG.",
    "Nipah virus is not a concern here.",
    "Chikungunya after travel.",
    "Valley fever was excluded.",
    "Bornholm disease again.",
    "Lyme carditis with heart block.",
    "West Nile fever serology pending.",
    "Reading the X-ray, there is a fracture.",
    "Grace period for the referral.",
    "Will review tomorrow.",
    "May need a CT.",
    "Jack of all trades in the family.",
    "Bill of rights for patients.",
    "Faith healer consulted first.",
    "Rose Bengal staining.",
    "Hope this helps, see you at the MDT.",
    "Sats 91% on air.",
    "HR 94, RR 20, BP 135/85.",
    "Platelets 98, WCC 11.2.",
    "Review in 1/52.",
    "Vision 6/18 in the right eye.",
    "L5/S1 disc bulge.",
    "Para 3, gravida 4.",
    "Taking Ramipril and Bisoprolol.",
    "Switched to Apixaban last week.",
    "Moved to Oramorph for breakthrough pain.",
    "Seen at home by the district nurses.",
    "Admitted to the ICU overnight.",
    "Transferred to Resus.",
    "Lives with her husband in a bungalow.",
]
