"""A small labelled corpus for the PHI scanner (all sentences invented).

``POSITIVES`` pairs each snippet with the identifiers it carries, as
``(kind, exact substring)``; ``NEGATIVES`` are ordinary clinical sentences
that must raise no finding (lab values, doses, scores, eponyms, durations).
``benchmarks/phi_eval.py`` prints found / missed / false alarms over it and
``tests/cases/test_phi.py`` holds the scanner to it.

Names, numbers and addresses are made up; phone numbers use the ranges set
aside for drama (UK 07700 900xxx, 020 7946 0xxx, 0161 496 0xxx; US 555-01xx)
where the format allows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Snippet:
    text: str
    expected: tuple[tuple[str, str], ...]


def _s(text: str, *expected: tuple[str, str]) -> Snippet:
    for _, substring in expected:
        assert substring in text, (substring, text)
    return Snippet(text, expected)


POSITIVES: list[Snippet] = [
    # names
    _s("Seen today by Dr. Amelia Hart in clinic.", ("name", "Amelia Hart")),
    _s("Mrs O'Connor reports worsening breathlessness.", ("name", "O'Connor")),
    _s(
        "Referred by Prof Jean-Luc Moreau for a second opinion.",
        ("name", "Jean-Luc Moreau"),
    ),
    _s("Patient John Whitaker, admitted overnight.", ("name", "John Whitaker")),
    _s("Her husband Michael brought her in.", ("name", "Michael")),
    _s(
        "She is the daughter of Margaret Ellis, who had the same condition.",
        ("name", "Margaret Ellis"),
    ),
    _s("Spoke to Nurse Okafor on the ward.", ("name", "Okafor")),
    _s("The baby, named Lily, was born at term.", ("name", "Lily")),
    _s("Ms. Nguyen declined the procedure.", ("name", "Nguyen")),
    _s("Mr J. McAllister attended with his wife.", ("name", "J. McAllister")),
    _s("Patient: SMITH, Sarah", ("name", "SMITH, Sarah")),
    _s("Sarah Thompson attended the memory clinic.", ("name", "Sarah Thompson")),
    _s("Her son, called Tom, is her main carer.", ("name", "Tom")),
    _s("Discussed with Dr van der Berg (cardiology).", ("name", "van der Berg")),
    _s("Miss Zoë Müller, 24, presented with a rash.", ("name", "Zoë Müller")),
    _s(
        "Dr. Parkinson reviewed Mr Hughes on 4/5/2022.",
        ("name", "Parkinson"),
        ("name", "Hughes"),
        ("date", "4/5/2022"),
    ),
    _s("Name: Priya Raman", ("name", "Priya Raman")),
    # dates
    _s("Admitted 12/03/2024 with sepsis.", ("date", "12/03/2024")),
    _s("MRI performed on 2024-03-12.", ("date", "2024-03-12")),
    _s("Seen on 3 March 2024 in ED.", ("date", "3 March 2024")),
    _s("Symptoms started on March 12th.", ("date", "March 12th")),
    _s("Surgery planned for the 3rd of May.", ("date", "3rd of May")),
    _s("Last clinic 12.03.24, reviewed again today.", ("date", "12.03.24")),
    _s(
        "Fall at home on 05/11/2023 14:30, found by a neighbour.",
        ("date", "05/11/2023 14:30"),
    ),
    _s("DOB: 14 Feb 1957", ("date", "14 Feb 1957")),
    _s("Discharged Jan 5, 2023.", ("date", "Jan 5, 2023")),
    _s(
        "Biopsy taken 2023-11-02T09:15 and sent to histology.",
        ("date", "2023-11-02T09:15"),
    ),
    _s("Symptoms since November 2022.", ("date", "November 2022")),
    _s("Seen 7-Aug-2021 by the ENT team.", ("date", "7-Aug-2021")),
    # ages over 89
    _s("A 92-year-old woman with a hip fracture.", ("age", "92-year-old")),
    _s("Patient aged 95 living alone.", ("age", "aged 95")),
    _s("95 yo male with confusion.", ("age", "95 yo")),
    _s("Age: 101", ("age", "Age: 101")),
    _s("She is 91 years old and independent.", ("age", "91 years old")),
    _s("A nonagenarian with recurrent falls.", ("age", "nonagenarian")),
    _s("Still driving in her late 90s.", ("age", "late 90s")),
    # phone and fax
    _s("Daughter's mobile: 07700 900123", ("phone", "07700 900123")),
    _s("Call (555) 201-4477 to reach the family.", ("phone", "(555) 201-4477")),
    _s("GP surgery tel 020 7946 0958.", ("phone", "020 7946 0958")),
    _s("Contact +44 161 496 0000 for results.", ("phone", "+44 161 496 0000")),
    _s("Fax: 0161 496 0001", ("fax", "0161 496 0001")),
    _s("Results faxed to (312) 555-0199.", ("fax", "(312) 555-0199")),
    _s("Wife can be reached on +1 415 555 2671.", ("phone", "+1 415 555 2671")),
    _s("Ring the carer on 555-201-9988 after 5pm.", ("phone", "555-201-9988")),
    # email, URL, IP
    _s(
        "Family email j.whitaker@example.com for updates.",
        ("email", "j.whitaker@example.com"),
    ),
    _s(
        "Send images to marta.k+clinic@hospital.org.uk please.",
        ("email", "marta.k+clinic@hospital.org.uk"),
    ),
    _s(
        "His fundraising page is https://www.gofundme.com/f/help-john-recover",
        ("url", "https://www.gofundme.com/f/help-john-recover"),
    ),
    _s(
        "She posts updates at www.instagram.com/lily_recovery_diary.",
        ("url", "www.instagram.com/lily_recovery_diary"),
    ),
    _s(
        "Video uploaded to youtube.com/watch?v=abc123XYZ00 by the mother.",
        ("url", "youtube.com/watch?v=abc123XYZ00"),
    ),
    _s("Login from 192.168.14.201 flagged by IT.", ("ip", "192.168.14.201")),
    _s(
        "Home monitor at 2001:db8:85a3::8a2e:370:7334 stopped reporting.",
        ("ip", "2001:db8:85a3::8a2e:370:7334"),
    ),
    # record, account, insurance, licence, certificate numbers
    _s("MRN: 00482913", ("record_number", "00482913")),
    _s("NHS number 943 476 5919", ("record_number", "943 476 5919")),
    _s("Hospital no. RX1234567", ("record_number", "RX1234567")),
    _s(
        "Insurance policy number is HX-4490-221.",
        ("record_number", "HX-4490-221"),
    ),
    _s("Medicaid ID 71234598A on file.", ("record_number", "71234598A")),
    _s("Member ID: BCX998877665", ("record_number", "BCX998877665")),
    _s(
        "Driver's licence no. MORGA753116SM9IJ",
        ("record_number", "MORGA753116SM9IJ"),
    ),
    _s(
        "Death certificate no. 2023/004512 issued.",
        ("record_number", "2023/004512"),
    ),
    _s("Account #: 55120987", ("record_number", "55120987")),
    _s(
        "Her hospital number for this admission is 7788123.",
        ("record_number", "7788123"),
    ),
    _s("Ref 40417731552 on the referral letter.", ("record_number", "40417731552")),
    # SSN
    _s("SSN 123-45-6789", ("ssn", "123-45-6789")),
    _s("SSN: 219099999", ("ssn", "219099999")),
    # addresses and postcodes
    _s(
        "Lives at 42 Wallaby Way, Sydney.",
        ("address", "42 Wallaby Way"),
        ("location", "Sydney"),
    ),
    _s(
        "Home address: 221B Baker Street, London NW1 6XE",
        ("address", "221B Baker Street"),
        ("location", "London"),
        ("zip", "NW1 6XE"),
    ),
    _s(
        "Found collapsed outside 1600 Pennsylvania Avenue.",
        ("address", "1600 Pennsylvania Avenue"),
    ),
    _s("Send letters to PO Box 4417.", ("address", "PO Box 4417")),
    _s(
        "Moved to 18 Elm Grove Rd, Springfield, IL 62704 last year.",
        ("address", "18 Elm Grove Rd"),
        ("location", "Springfield"),
        ("zip", "62704"),
    ),
    _s(
        "Lives at 7 Harley Dr, Austin TX 78701.",
        ("address", "7 Harley Dr"),
        ("location", "Austin"),
        ("zip", "78701"),
    ),
    _s("Postcode: M1 1AE", ("zip", "M1 1AE")),
    _s("Zip code 90210", ("zip", "90210")),
    # device identifiers
    _s("Pacemaker serial PJN776512H checked.", ("device_id", "PJN776512H")),
    _s("Insulin pump S/N: 12-4456-B78", ("device_id", "12-4456-B78")),
    _s("Device ID: A1B2C3D4E5", ("device_id", "A1B2C3D4E5")),
    _s(
        "UDI (01)00844588003288(17)141120(10)7654321D(21)10 recorded.",
        ("device_id", "(01)00844588003288(17)141120(10)7654321D(21)10"),
    ),
    _s(
        "CGM transmitter MAC 00:1A:7D:DA:71:13 paired.",
        ("device_id", "00:1A:7D:DA:71:13"),
    ),
    # vehicle identifiers
    _s(
        "Hit by a car, VIN 1HGCM82633A004352, driver fled.",
        ("vehicle_id", "1HGCM82633A004352"),
    ),
    _s(
        "Witness noted registration plate AB12 CDE.",
        ("vehicle_id", "AB12 CDE"),
    ),
    _s("Her car, plate 7ABC123, was towed.", ("vehicle_id", "7ABC123")),
    # mixed, as in a real note
    _s(
        "92-year-old with Parkinson's disease seen by Dr Ahmed on 3/4/2023; "
        "BP 120/80, HR 72.",
        ("age", "92-year-old"),
        ("name", "Ahmed"),
        ("date", "3/4/2023"),
    ),
    _s(
        "Wife Janet (tel 07700 900456) reports he fell on 2 Jan.",
        ("name", "Janet"),
        ("phone", "07700 900456"),
        ("date", "2 Jan"),
    ),
]


# Identifiers that need a lexicon or a context cue (the kinds added with the
# gazetteer); tests/cases/phi_corpus_recall.py holds many more.
POSITIVES += [
    _s(
        "Eleanor Vantongeren, a retired teacher, fell.", ("name", "Eleanor Vantongeren")
    ),
    _s("She lives in Leeds with her partner.", ("location", "Leeds")),
    _s(
        "Transferred from Leeds General Infirmary.",
        ("institution", "Leeds General Infirmary"),
    ),
    _s("Works at Tesco on the tills.", ("employer", "Tesco")),
    _s("She posts as @granny_gets_fit.", ("handle", "@granny_gets_fit")),
    _s(
        "Email jane dot doe at gmail dot com",
        ("email", "jane dot doe at gmail dot com"),
    ),
]


NEGATIVES: list[str] = [
    "Known Parkinson's disease, on co-careldopa.",
    "Query Dr. Parkinson's disease vs drug-induced parkinsonism.",
    "Mr. Hyde-like personality change reported by family.",
    "Background of Crohn's disease and Hodgkin lymphoma in remission.",
    "Alzheimer's dementia; Addison's disease on hydrocortisone.",
    "Cushing's syndrome excluded; Graves' disease treated with carbimazole.",
    "Hashimoto's thyroiditis, Bell's palsy on the left in 2019.",
    "Guillain-Barré syndrome after Campylobacter infection.",
    "Kawasaki disease as a child; Marfan syndrome suspected.",
    "Wilson's disease screen negative; Down syndrome with AVSD repair.",
    "Hb 10.2, K 4.1, Na 135, Cr 89, eGFR 62.",
    "BP 120/80, HR 110, RR 22, SpO2 96% on air, temp 38.1.",
    "Paracetamol 1 g qds and amoxicillin 500 mg bd for 5/7.",
    "GCS 15/15, pupils equal and reactive.",
    "ICD-10 I63.9, SNOMED 230690007.",
    "MRI: disc prolapse at L4/L5 with S1 root compression.",
    "T2-weighted images show high signal at C5-C6.",
    "Symptoms began 2 weeks ago and worsened over 3 days.",
    "Day 3 of IV antibiotics; review on day 5.",
    "Follow-up in 6/12 with repeat bloods in 2/52.",
    "Diagnosed in 2019, relapsed in 2021.",
    "An 89-year-old man with delirium.",
    "Aged 45, smoker with 30 pack-years.",
    "Power 4/5 in the left leg, reflexes 2+.",
    "Grade 3/6 systolic murmur at the left sternal edge.",
    "WCC 12.3 x10^9/L, CRP 145 mg/L, lactate 2.1 mmol/L.",
    "INR 2.5 on warfarin; target range 2-3.",
    "HbA1c 48 mmol/mol, BMI 32.1 kg/m2.",
    "QTc 450 ms, EF 35%, troponin 45 ng/L.",
    "pH 7.32, pCO2 6.2 kPa, pO2 9.1 kPa, HCO3 18.",
    "The patient was seen in clinic and reassured.",
    "Patient presented with chest pain radiating to the jaw.",
    "Discussed with the Dr on call; Nurse Practitioner to review.",
    "St John's wort stopped due to interactions.",
    "Babinski sign positive; Romberg's test negative.",
    "Glasgow Coma Scale 14; Wells score 4; CURB-65 score 2.",
    "Stage IIIA; ECOG 1; BRCA1 negative; HER2 positive.",
    "CD4 count 350 cells/uL, viral load < 50 copies/mL.",
    "Obstetric history G2P1, currently 36+4 weeks.",
    "Adrenaline 1:1000 0.5 mL IM given at 14:30.",
    "Oxygen 2 L/min via nasal cannula.",
    "12-lead ECG shows sinus rhythm at 72 bpm.",
    "1.5T MRI brain, 3 x 2 cm lesion in the left frontal lobe.",
    "Visual acuity 6/9 right, 6/6 left.",
    "Ferritin 12 ug/L, B12 180 ng/L, folate 3.1.",
    "Platelets 150000 per microlitre.",
    "Ward 7B, bed 12, side room.",
    "Prescribed 5 mg/kg/day in 3 divided doses.",
    "Lesion in segment 4a of the liver, 12 mm.",
    "Apgar 9 at 5 minutes and 10 at 10 minutes.",
    "May need a repeat scan in March.",
    "Pain score 7/10 reduced to 3/10 after morphine.",
    "Chest X-ray: Kerley B lines, no effusion.",
    "FEV1/FVC 0.65, FEV1 55% predicted.",
    "Creatinine rose from 89 to 145 umol/L over 48 hours.",
    "Sodium 128 (135-145), potassium 5.9 (3.5-5.3).",
    "Tumour marker CA 19-9 raised at 120 U/mL; CA 125 normal.",
    "Hodgkin's disease treated with ABVD in 2010.",
    "Heberden's nodes and Bouchard's nodes noted.",
    "Sister Mary Joseph nodule palpated at the umbilicus.",
    "Temperature 37.8 C at 06:00.",
    "Tacrolimus level 8.2 ug/L (target 5-10).",
    "Dose reduced from 10 mg to 7.5 mg on day 14.",
    "Repeat in 3/12; annual review thereafter.",
    "PSA 4.1 ng/mL, Gleason 3+4=7.",
    "Barrett's oesophagus on surveillance.",
    "Charcot foot on the right; Raynaud's phenomenon.",
    "Meniere's disease with tinnitus.",
    "Seen by the Registrar and Consultant.",
    "C3 and C4 low, ANA 1:640 speckled.",
    "Sats 94% on 28% Venturi.",
    "Protein 1.2 g/24h; ACR 45 mg/mmol.",
    "TSH 0.01 mU/L, free T4 35 pmol/L.",
    "Blood group O RhD positive.",
    "Mild LVH, LVEF 55-60%.",
    "Sats in the 90s on room air.",
    "Austin Flint murmur heard at the apex.",
    "Stevens-Johnson syndrome after lamotrigine.",
    "Ehlers-Danlos syndrome, hypermobile type.",
    "Patient Safety incident form completed.",
    "Urine output 1200 mL over 24 hours.",
    "Fluids at 125 mL/h; 3 litres in 24 hours.",
    "Insulin 10 units at 22:00; CBG 14.2 mmol/L.",
    "Pacemaker checked: normal function, battery 8 years.",
    "ICD shock delivered twice overnight.",
    "Growth plate fracture of the distal radius, Salter-Harris II.",
    "Plate and 6 screws inserted, 3.5 mm LCP.",
    "See the guideline section 1.2.3 on sepsis.",
    "Warfarin 3 mg on Monday, 4 mg on Tuesday.",
]


# Written after the scanner was tuned on the lists above, as a held-out check
# in a different (US-style, abbreviated) register. First run: 32 of 33
# identifiers flagged, one with the wrong kind ("fax records to ..." read as a
# phone), no false alarms; the fax label was widened after that.
POSITIVES += [
    _s("CC: 91 y.o. F w/ SOB x3d.", ("age", "91 y.o.")),
    _s("HPI: Pt is a 104 yo man from a nursing home.", ("age", "104 yo")),
    _s("Pt's daughter, Linda, at bedside.", ("name", "Linda")),
    _s("Attending: Dr. Raymond Chu", ("name", "Raymond Chu")),
    _s("Spoke with pt's son Carlos by phone.", ("name", "Carlos")),
    _s("Seen in ED 4/17/2023 @ 0215.", ("date", "4/17/2023")),
    _s("Last menstrual period 02/14/24.", ("date", "02/14/24")),
    _s("Surgery 23rd Sept 2019 at St Mary's.", ("date", "23rd Sept 2019")),
    _s("Admitted Monday, 6 May 2024.", ("date", "6 May 2024")),
    _s("Dated: 2022.07.19", ("date", "2022.07.19")),
    _s("Contact daughter at 617-555-0147 (cell).", ("phone", "617-555-0147")),
    _s("Home phone (617) 555 0198", ("phone", "(617) 555 0198")),
    _s("Mob 07911 123456", ("phone", "07911 123456")),
    _s("Please fax records to 1-800-555-0123.", ("fax", "1-800-555-0123")),
    _s(
        "Pt emailed photos from kittycat1954@gmail.com",
        ("email", "kittycat1954@gmail.com"),
    ),
    _s(
        "Her TikTok is https://www.tiktok.com/@granny_gets_fit",
        ("url", "https://www.tiktok.com/@granny_gets_fit"),
    ),
    _s("Accessed portal from IP 203.0.113.45.", ("ip", "203.0.113.45")),
    _s("Medical record number: 004-55-1234-9", ("record_number", "004-55-1234-9")),
    _s("BCBS subscriber ID XYZ123456789", ("record_number", "XYZ123456789")),
    _s("Acct# 000123456", ("record_number", "000123456")),
    _s("Birth cert no. 1987-123456", ("record_number", "1987-123456")),
    _s("SS# 321-54-9876", ("ssn", "321-54-9876")),
    _s("Resides at 77 Sunset Blvd, Apt 4.", ("address", "77 Sunset Blvd")),
    _s(
        "Lives at 9 Rose Cottage Lane, Hexham NE46 3RT.",
        ("address", "9 Rose Cottage Lane"),
        ("location", "Hexham"),
        ("zip", "NE46 3RT"),
    ),
    _s(
        "Mailing: 450 Elm St, Chicago, IL 60614",
        ("address", "450 Elm St"),
        ("location", "Chicago"),
        ("zip", "60614"),
    ),
    _s("ICD generator serial number BFK203344R", ("device_id", "BFK203344R")),
    _s("Hearing aid S/N 4471-2209", ("device_id", "4471-2209")),
    _s("Vehicle reg: KM18 XRT", ("vehicle_id", "KM18 XRT")),
    _s("Involved car VIN 5YJ3E1EA7KF317000", ("vehicle_id", "5YJ3E1EA7KF317000")),
    _s("Her neighbour Mrs Patricia Gill found her.", ("name", "Patricia Gill")),
]

NEGATIVES += [
    "Pt is a 67 yo M w/ hx of CHF (EF 25%), CKD3, DM2.",
    "Vitals: T 99.1F, HR 88, BP 132/84, RR 16, SpO2 98% RA.",
    "Labs: Na 138, K 4.4, Cl 101, HCO3 24, BUN 18, Cr 1.1, Glu 142.",
    "Metoprolol 25 mg PO BID; lisinopril 10 mg daily.",
    "CXR: no acute cardiopulmonary process.",
    "Plan: f/u with PCP in 1-2 wks.",
    "Troponin x3 negative.",
    "A&Ox3, CN II-XII intact.",
    "Motor 5/5 throughout; DTRs 2+ symmetric.",
    "MMSE 24/30; MoCA 21/30.",
    "Hep B sAg negative, HCV Ab negative.",
    "s/p CABG x3 in 2015.",
    "Started on heparin gtt at 18 units/kg/hr.",
    "Wound 3 x 4 cm, stage 2 pressure injury on sacrum.",
    "Epley manoeuvre for BPPV.",
    "Apley's test negative; McMurray's positive.",
    "Tinel's and Phalen's positive at the wrist.",
    "Kernig's and Brudzinski's signs negative.",
    "Dix-Hallpike positive on the right.",
    "Trendelenburg gait noted.",
    "Hodgkin's lymphoma, Ann Arbor stage II.",
    "HbA1c 7.2% (55 mmol/mol).",
    "eGFR >90 mL/min/1.73m2.",
    "Took 2 Paracetamol and went to bed.",
    "Scheduled for 3 cycles of R-CHOP.",
    "Mr and Mrs are both smokers.",
    "Ventricular rate 150, QRS 90 ms, PR 160 ms.",
    "Grade 2 diastolic dysfunction.",
    "Lipase 1200 U/L.",
    "Walked 400 m in 6 min.",
]
