"""PHI scanner: each identifier kind, tricky clinical text, merging, keys."""

from __future__ import annotations

import itertools
import re

import pytest

from cases.phi import (
    KINDS,
    Finding,
    finding_key,
    findings_unresolved,
    scan_fields,
    scan_text,
)
from tests.cases.phi_corpus import NEGATIVES, POSITIVES
from tests.cases.phi_scoring import overlaps, span


def flagged(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in scan_text(text)]


# (kind, text, the exact text of the finding)
POSITIVE_CASES = [
    # names after titles
    ("name", "Seen by Dr Amelia Hart today.", "Amelia Hart"),
    ("name", "Seen by Dr. Amelia Hart today.", "Amelia Hart"),
    ("name", "Mr Hughes was reviewed.", "Hughes"),
    ("name", "Mrs O'Connor is anxious.", "O'Connor"),
    ("name", "Ms. Nguyen declined.", "Nguyen"),
    ("name", "Miss Zoë Müller, 24, attended.", "Zoë Müller"),
    ("name", "Mx Taylor-Reed uses they/them.", "Taylor-Reed"),
    ("name", "Prof Jean-Luc Moreau agreed.", "Jean-Luc Moreau"),
    ("name", "Professor Sir Michael Marmot spoke.", "Michael Marmot"),
    ("name", "Nurse Okafor gave the dose.", "Okafor"),
    ("name", "Sister McAllister is in charge.", "McAllister"),
    ("name", "Seen by Dr A. B. Okonkwo.", "A. B. Okonkwo"),
    ("name", "Discussed with Dr van der Berg.", "van der Berg"),
    ("name", "Dr İlker Yılmaz reviewed her.", "İlker Yılmaz"),
    ("name", "Seen by Dr AMELIA HART today.", "AMELIA HART"),
    # a person who shares a name with a disease is still a person
    ("name", "Dr. Parkinson reviewed the scan.", "Parkinson"),
    ("name", "Mr Wilson presented with Wilson's disease.", "Wilson"),
    # names after patient / relation / naming words
    ("name", "Patient John Whitaker admitted.", "John Whitaker"),
    ("name", "Pt: Smith", "Smith"),
    ("name", "Patient: SMITH, Sarah", "SMITH, Sarah"),
    ("name", "Name: DOE, JOHN", "DOE, JOHN"),
    ("name", "Patient Name: Priya Raman", "Priya Raman"),
    ("name", "The baby, named Lily, was well.", "Lily"),
    ("name", "Her son, called Tom, helps.", "Tom"),
    ("name", "known as Bobby to friends", "Bobby"),
    ("name", "Her husband Michael drove her in.", "Michael"),
    ("name", "His wife Janet is his carer.", "Janet"),
    ("name", "pt seen with mum (Sarah) today.", "Sarah"),
    ("name", "Son: Jack", "Jack"),
    ("name", "She is the daughter of Margaret Ellis.", "Margaret Ellis"),
    ("name", "He is the husband of Anne Rowe.", "Anne Rowe"),
    ("name", "Dear Dr Patel, thank you.", "Patel"),
    ("name", "Reviewed by Sarah Jones (ANP).", "Sarah Jones"),
    ("name", "Sarah Thompson attended clinic.", "Sarah Thompson"),
    # dates more specific than a year
    ("date", "Admitted 12/03/2024 with sepsis.", "12/03/2024"),
    ("date", "Admitted 3/12/2024 with sepsis.", "3/12/2024"),
    ("date", "Seen 12.03.24 in clinic.", "12.03.24"),
    ("date", "Seen 12-03-2024 in clinic.", "12-03-2024"),
    ("date", "DOB 21/7/56", "21/7/56"),
    ("date", "MRI on 2024-03-12.", "2024-03-12"),
    ("date", "Referral 2024/05/12 09:30.", "2024/05/12 09:30"),
    ("date", "Biopsy 2023-11-02T09:15 sent.", "2023-11-02T09:15"),
    ("date", "Fell 05/11/2023 14:30 at home.", "05/11/2023 14:30"),
    ("date", "On 5/6/24 at 2pm she fell.", "5/6/24 at 2pm"),
    ("date", "Seen on 3 March 2024 in ED.", "3 March 2024"),
    ("date", "Born 14 Feb. 1957 in Leeds.", "14 Feb. 1957"),
    ("date", "DOB: 14 Feb 1957", "14 Feb 1957"),
    ("date", "Seen 7-Aug-2021 by ENT.", "7-Aug-2021"),
    ("date", "Admitted 12-Mar-24.", "12-Mar-24"),
    ("date", "Admitted 1st January 2024 at 10:30.", "1st January 2024 at 10:30"),
    ("date", "Surgery planned for the 3rd of May.", "3rd of May"),
    ("date", "Next review Tuesday 14th May.", "14th May"),
    ("date", "Symptoms started on March 12th.", "March 12th"),
    ("date", "Discharged Jan 5, 2023.", "Jan 5, 2023"),
    ("date", "Discharged JAN 5 2023.", "JAN 5 2023"),
    ("date", "Symptoms since November 2022.", "November 2022"),
    ("date", "Onset Mar '24.", "Mar '24"),
    ("date", "Onset approx. 10/2023.", "10/2023"),
    ("date", "INR 2.3 on 12/5.", "12/5"),
    ("date", "Admitted on Christmas Day 2023.", "Christmas Day 2023"),
    # ages over 89
    ("age", "A 92-year-old woman fell.", "92-year-old"),
    ("age", "A 93 year old man.", "93 year old"),
    ("age", "She is 91 years old.", "91 years old"),
    ("age", "95 yo male with confusion.", "95 yo"),
    ("age", "95yo male.", "95yo"),
    ("age", "97 y/o female.", "97 y/o"),
    ("age", "Patient aged 95.", "aged 95"),
    ("age", "Age: 101", "Age: 101"),
    ("age", "Age 90", "Age 90"),
    ("age", "96 years of age.", "96 years of age"),
    ("age", "He is 102.", "102"),
    ("age", "A ninety-two-year-old woman.", "ninety-two-year-old"),
    ("age", "A nonagenarian with falls.", "nonagenarian"),
    ("age", "A centenarian.", "centenarian"),
    ("age", "Still driving in her late 90s.", "in her late 90s"),
    # phone
    ("phone", "Mobile: 07700 900123", "07700 900123"),
    ("phone", "Call 07700900123 if worse.", "07700900123"),
    ("phone", "GP tel 020 7946 0958.", "020 7946 0958"),
    ("phone", "Surgery (020) 7946 0958.", "(020) 7946 0958"),
    ("phone", "Ring 0161 496 0000.", "0161 496 0000"),
    ("phone", "Contact +44 161 496 0000.", "+44 161 496 0000"),
    ("phone", "Contact +44 (0)20 7946 0958.", "+44 (0)20 7946 0958"),
    ("phone", "Wife on +1 415 555 2671.", "+1 415 555 2671"),
    ("phone", "Brother in Paris +33 1 23 45 67 89.", "+33 1 23 45 67 89"),
    ("phone", "Call (555) 201-4477 please.", "(555) 201-4477"),
    ("phone", "Call 555-201-9988 please.", "555-201-9988"),
    ("phone", "Call 555.201.9988 please.", "555.201.9988"),
    ("phone", "Tel: 555-0142", "555-0142"),
    # fax
    ("fax", "Fax: 0161 496 0001", "0161 496 0001"),
    ("fax", "Fax number: (212) 555-0188", "(212) 555-0188"),
    ("fax", "Results faxed to (312) 555-0199.", "(312) 555-0199"),
    ("fax", "fax +44 20 7946 0999", "+44 20 7946 0999"),
    # email
    ("email", "Email j.whitaker@example.com today.", "j.whitaker@example.com"),
    (
        "email",
        "Send to marta.k+clinic@hospital.org.uk.",
        "marta.k+clinic@hospital.org.uk",
    ),
    ("email", "EMAIL: JOHN.DOE@EXAMPLE.CO.UK", "JOHN.DOE@EXAMPLE.CO.UK"),
    ("email", "Contact mailto:jane@example.org now.", "jane@example.org"),
    # url
    (
        "url",
        "Page: https://www.gofundme.com/f/help-john",
        "https://www.gofundme.com/f/help-john",
    ),
    ("url", "See https://example.com/a?b=1&c=2).", "https://example.com/a?b=1&c=2"),
    ("url", "Blog at www.example.org/lily-diary.", "www.example.org/lily-diary"),
    (
        "url",
        "Video youtube.com/watch?v=abc123XYZ00 posted.",
        "youtube.com/watch?v=abc123XYZ00",
    ),
    ("url", "Visit bit.ly/3xYzAbc for it.", "bit.ly/3xYzAbc"),
    ("url", "HTTP://EXAMPLE.COM/X", "HTTP://EXAMPLE.COM/X"),
    # ip
    ("ip", "Login from 192.168.14.201 flagged.", "192.168.14.201"),
    (
        "ip",
        "Monitor at 2001:db8:85a3::8a2e:370:7334 offline.",
        "2001:db8:85a3::8a2e:370:7334",
    ),
    ("ip", "Gateway fe80::1ff:fe23:4567:890a down.", "fe80::1ff:fe23:4567:890a"),
    # record numbers (MRN, NHS, hospital, account, insurance, licence, ...)
    ("record_number", "MRN: 00482913", "00482913"),
    ("record_number", "MRN 1234567", "1234567"),
    ("record_number", "MRN: ABC-123-456", "ABC-123-456"),
    ("record_number", "Hosp no: 0012345", "0012345"),
    ("record_number", "Hospital no. RX1234567", "RX1234567"),
    ("record_number", "NHS number 943 476 5919", "943 476 5919"),
    ("record_number", "NHS No: 9434765919", "9434765919"),
    ("record_number", "CHI 0101011234", "0101011234"),
    ("record_number", "Account #: 55120987", "55120987"),
    ("record_number", "Account number 12-3456-78", "12-3456-78"),
    ("record_number", "Insurance policy number is HX-4490-221.", "HX-4490-221"),
    ("record_number", "Policy # 99887766", "99887766"),
    ("record_number", "Member ID: BCX998877665", "BCX998877665"),
    ("record_number", "Insurance: Aetna, member ID W123456789", "W123456789"),
    ("record_number", "Medicaid ID 71234598A on file.", "71234598A"),
    ("record_number", "Medicare number 1EG4-TE5-MK73", "1EG4-TE5-MK73"),
    ("record_number", "Health plan beneficiary number 88812345", "88812345"),
    ("record_number", "Driver's licence no. MORGA753116SM9IJ", "MORGA753116SM9IJ"),
    ("record_number", "Licence number: 12345678", "12345678"),
    ("record_number", "Death certificate no. 2023/004512 issued.", "2023/004512"),
    ("record_number", "Passport no. 123456789", "123456789"),
    ("record_number", "NI number AB 12 34 56 C", "AB 12 34 56 C"),
    ("record_number", "GMC 7654321", "7654321"),
    ("record_number", "Her hospital number for this stay is 7788123.", "7788123"),
    ("record_number", "Ref 40417731552 on the letter.", "40417731552"),
    ("record_number", "Found 9434765919 on the wristband.", "9434765919"),
    # SSN
    ("ssn", "SSN 123-45-6789", "123-45-6789"),
    ("ssn", "SSN: 219099999", "219099999"),
    ("ssn", "Social security number 219 09 9999.", "219 09 9999"),
    ("ssn", "Form shows 078-05-1120 in box 3.", "078-05-1120"),
    # addresses
    ("address", "Lives at 42 Wallaby Way, Sydney.", "42 Wallaby Way"),
    ("address", "Lives at 10 Downing Street.", "10 Downing Street"),
    ("address", "Home: 221B Baker Street, London.", "221B Baker Street"),
    ("address", "Outside 1600 Pennsylvania Avenue.", "1600 Pennsylvania Avenue"),
    ("address", "Moved to 18 Elm Grove Rd, Springfield.", "18 Elm Grove Rd"),
    ("address", "Address: 55 Oak Rd., Boston.", "55 Oak Rd."),
    ("address", "Lives at 7 Harley Dr, Austin.", "7 Harley Dr"),
    ("address", "Lives at 3 North Main St, Springfield.", "3 North Main St"),
    ("address", "Works at 350 5th Avenue.", "350 5th Avenue"),
    ("address", "Letters to PO Box 4417.", "PO Box 4417"),
    ("address", "Letters to P.O. Box 12.", "P.O. Box 12"),
    # ZIP codes and UK postcodes
    ("zip", "London NW1 6XE", "NW1 6XE"),
    ("zip", "Manchester M1 1AE", "M1 1AE"),
    ("zip", "Postcode: SW1A 1AA", "SW1A 1AA"),
    ("zip", "Postcode SW1A1AA", "SW1A1AA"),
    ("zip", "Springfield, IL 62704", "62704"),
    ("zip", "Austin TX 78701-1234", "78701-1234"),
    ("zip", "Zip code 90210", "90210"),
    ("zip", "18 Elm Grove Rd, Springfield 62704", "62704"),
    # device identifiers
    ("device_id", "Pacemaker serial PJN776512H checked.", "PJN776512H"),
    ("device_id", "Insulin pump S/N: 12-4456-B78", "12-4456-B78"),
    ("device_id", "Device ID: A1B2C3D4E5", "A1B2C3D4E5"),
    ("device_id", "Pump serial number: 8765-XYZ-4321", "8765-XYZ-4321"),
    ("device_id", "Cochlear implant ID CI512-778899", "CI512-778899"),
    ("device_id", "Model/serial: Medtronic W1DR01", "W1DR01"),
    ("device_id", "IMEI 356938035643809", "356938035643809"),
    (
        "device_id",
        "UDI (01)00844588003288(17)141120(10)7654321D",
        "(01)00844588003288(17)141120(10)7654321D",
    ),
    ("device_id", "CGM MAC 00:1A:7D:DA:71:13 paired.", "00:1A:7D:DA:71:13"),
    # vehicle identifiers
    ("vehicle_id", "Car VIN 1HGCM82633A004352 noted.", "1HGCM82633A004352"),
    ("vehicle_id", "VIN: 1FTFW1ET5DFC10312", "1FTFW1ET5DFC10312"),
    ("vehicle_id", "Registration plate AB12 CDE.", "AB12 CDE"),
    ("vehicle_id", "Her car, plate 7ABC123, was towed.", "7ABC123"),
    ("vehicle_id", "Reg no. WX19 ABC", "WX19 ABC"),
    ("vehicle_id", "Van was LB07 SEO, witnesses said.", "LB07 SEO"),
    # names without a title, lower case after "pt", sign-offs
    ("name", "Eleanor Vantongeren, a retired teacher.", "Eleanor Vantongeren"),
    ("name", "pt eleanor vantongeren seen today.", "eleanor vantongeren"),
    ("name", "Seen with mrs okafor.", "okafor"),
    ("name", "Kind regards,\nSiobhan", "Siobhan"),
    # e-mail addresses spelt out, handles
    ("email", "Email jane dot doe at gmail dot com", "jane dot doe at gmail dot com"),
    ("email", "Contact jane[at]example[dot]org", "jane[at]example[dot]org"),
    ("handle", "She posts as @granny_gets_fit.", "@granny_gets_fit"),
    ("handle", "Posted as u/throwaway_mum22.", "u/throwaway_mum22"),
    ("handle", "Instagram: jane_doe92", "jane_doe92"),
    # towns, cities and counties
    ("location", "She lives in Leeds.", "Leeds"),
    ("location", "Moved here from Reading.", "Reading"),
    ("location", "Lives in Orange County.", "Orange County"),
    ("location", "A farmer from County Mayo.", "County Mayo"),
    # institutions and employers
    ("institution", "Admitted to St Mary's Hospital.", "St Mary's Hospital"),
    ("institution", "Seen at Leeds General Infirmary.", "Leeds General Infirmary"),
    ("institution", "Registered with Riverside Surgery.", "Riverside Surgery"),
    ("institution", "Second opinion at the Mayo Clinic.", "Mayo Clinic"),
    ("employer", "Works at Tesco on the tills.", "Tesco"),
    ("employer", "Employed by Acme Ltd as a driver.", "Acme Ltd"),
    # month and year, ages in words
    ("date", "Onset March 2023.", "March 2023"),
    ("date", "Last seen Mar '23.", "Mar '23"),
    ("age", "A widow aged ninety-two.", "aged ninety-two"),
    ("age", "A ninety-three-year-old man.", "ninety-three-year-old"),
    # the street someone lives on narrows them down even without a number
    ("address", "She lives on Elm Street.", "Elm Street"),
    ("address", "Moved to Maple Avenue in the spring.", "Maple Avenue"),
    # invented North American numbers (exchange 1xx) and the label forms
    ("phone", "Call her at (555) 123-4567 tomorrow.", "(555) 123-4567"),
    ("phone", "His number is 555-123-4567.", "555-123-4567"),
    ("phone", "Her cell is 555.123.4567.", "555.123.4567"),
    ("phone", "Reach me on 555 123 4567.", "555 123 4567"),
    ("phone", "Test letter: 123-456-7890.", "123-456-7890"),
    # surname, comma, given name after a naming word
    ("name", "Patient: Garcia, Luis", "Garcia, Luis"),
    ("name", "Name: Smith, John A.", "Smith, John A."),
    ("name", "Patient name: Lee, Mary Ann", "Lee, Mary Ann"),
    # a given name after "met with", "seen with", "brought in by"
    ("name", "Met with Sarah yesterday.", "Sarah"),
    ("name", "Brought in by Kevin, her partner.", "Kevin"),
    # EXIF's date, pasted from a photo's details
    ("date", "Photo taken 2023:05:14 10:22:01.", "2023:05:14 10:22:01"),
    # facility word first, as in letters from abroad
    ("institution", "Transferred from Hôpital Necker, Paris.", "Hôpital Necker"),
    ("institution", "Treated at Klinikum Großhadern.", "Klinikum Großhadern"),
    ("institution", "Seen at Ospedale San Raffaele.", "Ospedale San Raffaele"),
    (
        "institution",
        "Referred by Hospital General de México.",
        "Hospital General de México",
    ),
    ("institution", "A fellowship at the Karolinska.", "Karolinska"),
    # a place word inside a longer name stays a name ("Smith" before "MD")
    ("name", "Signed: J Smith MD", "J Smith"),
    ("name", "Mrs Paris Hilton attended.", "Paris Hilton"),
    ("ssn", "SIN 046 454 286 on the form.", "046 454 286"),
    ("address", "Apt 4B, 221 W 57th St", "Apt 4B, 221 W 57th St"),
    ("address", "Lives in Flat 3 on the top floor.", "Flat 3"),
    ("name", "Seen by Smith team on Monday.", "Smith"),
    # two unknown capitalised words doing what a person does
    ("name", "Yevgenia Sokolova presented with fever.", "Yevgenia Sokolova"),
    (
        "name",
        "Oluwadamilare Ogunleye reports chest pain.",
        "Oluwadamilare Ogunleye",
    ),
]


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    POSITIVE_CASES,
    ids=[f"{kind}:{text[:40]}" for kind, text, _ in POSITIVE_CASES],
)
def test_identifier_is_found_with_its_kind_and_exact_span(kind, text, expected):
    assert (kind, expected) in flagged(text)


# (the kind it could be mistaken for, ordinary clinical text); none is flagged
NEGATIVE_CASES = [
    # eponymous diseases and signs, including after a title
    ("name", "Known Parkinson's disease on co-careldopa."),
    ("name", "Query Dr. Parkinson's disease vs drug-induced parkinsonism."),
    ("name", "Mr. Hyde-like personality change."),
    ("name", "Mr. Hyde-esque behaviour."),
    ("name", "Crohn's disease and Hodgkin lymphoma."),
    ("name", "Alzheimer's dementia; Addison's disease."),
    ("name", "Cushing's syndrome excluded; Graves' disease treated."),
    ("name", "Hashimoto's thyroiditis; Bell's palsy."),
    ("name", "Mrs Bell's palsy improved."),
    ("name", "Guillain-Barré syndrome after infection."),
    ("name", "Kawasaki disease; Marfan syndrome."),
    ("name", "Wilson's disease screen; Down syndrome."),
    ("name", "Patient Parkinson's disease is stable."),
    ("name", "Sister Mary Joseph nodule at the umbilicus."),
    ("name", "Austin Flint murmur at the apex."),
    ("name", "Adam Stokes attack suspected."),
    ("name", "Henry Ford Hospital referral."),
    ("name", "Stevens-Johnson syndrome after lamotrigine."),
    ("name", "Charcot-Marie-Tooth disease in the family."),
    # capitalised words after a trigger that are not names
    ("name", "The patient was seen in clinic."),
    ("name", "Patient presented with chest pain."),
    ("name", "Patient Safety incident logged."),
    ("name", "Patient Group Directions apply."),
    ("name", "Patient Information Leaflet given."),
    ("name", "Discussed with the Dr on call; Nurse Practitioner to review."),
    ("name", "Dr MRI review; Dr ICU; Mr GP."),
    ("name", "Nurse Led Clinic on Monday."),
    ("name", "Seen by the Registrar and Consultant."),
    ("name", "Seen by Physio today."),
    ("name", "Discussed with Microbiology."),
    ("name", "Spoke to Cardiology registrar."),
    ("name", "Dear Colleague, thank you."),
    ("name", "Patient called 111."),
    ("name", "Patient A and patient B were compared."),
    ("name", "St John's wort stopped."),
    # dates: durations, shorthand, scores, bare years
    ("date", "Symptoms began 2 weeks ago."),
    ("date", "Day 3 of IV antibiotics."),
    ("date", "Amoxicillin for 5/7."),
    ("date", "Follow-up in 6/12; bloods in 2/52."),
    ("date", "Repeat in 3/12."),
    ("date", "Review on day 3/7."),
    ("date", "Diagnosed in 2019, relapsed in 2021."),
    ("date", "BP 120/80, GCS 15/15."),
    ("date", "Power 4/5; murmur grade 3/6; pain 7/10."),
    ("date", "Visual acuity 6/9 right, 6/6 left."),
    ("date", "Guideline section 1.2.3 applies."),
    ("date", "May need a repeat scan in March."),
    ("date", "March 12 patients were enrolled."),
    ("date", "Insulin 10 units at 22:00."),
    # ages of 89 or less, and numbers near age words
    ("age", "An 89-year-old man with delirium."),
    ("age", "Aged 45, smoker."),
    ("age", "aged 89."),
    ("age", "Neonate aged 90 days."),
    ("age", "She is 95 kg."),
    ("age", "Sats in the 90s on air."),
    ("age", "HR 92, RR 18."),
    # phone look-alikes
    ("phone", "BP 120/80, HR 110, SpO2 96%."),
    ("phone", "Sodium 128 (135-145), potassium 5.9 (3.5-5.3)."),
    ("phone", "Urine output 1200 mL over 24 hours."),
    ("phone", "WCC 12.3 x10^9/L, CRP 145 mg/L."),
    ("phone", "Adrenaline 1:1000 0.5 mL IM."),
    # email / url / ip look-alikes
    ("url", "e.g. i.v. co-amoxiclav, b.d. dosing, p.r.n."),
    ("url", "FEV1/FVC 0.65; 12-lead ECG."),
    ("ip", "Time 12:30:45 and ratio 1:2:3."),
    ("ip", "Values 1.2.3 and 4.5.6; ratio 1:2."),
    # record-number look-alikes
    ("record_number", "ICD-10 code E11.9; SNOMED CT 44054006; LOINC 2345-7."),
    ("record_number", "ICD-10 I63.9, SNOMED 230690007."),
    ("record_number", "Batch number 12345678 for the vaccine."),
    ("record_number", "Lab values: 120000 platelets."),
    ("record_number", "Case 12 discussed at MDT."),
    ("record_number", "Group 2 patients were excluded."),
    ("record_number", "The record shows 3 admissions."),
    ("record_number", "Platelets 150000 per microlitre."),
    ("record_number", "Policy since 2019 allows it."),
    # SSN look-alikes
    ("ssn", "Ranges 120-45-60 were noted."),
    # address look-alikes
    ("address", "Took 2 Green tablets."),
    ("address", "Lives at home with her husband; living on benefits."),
    ("name", "Seen with Chest pain; met with Resistance; seen with Headache."),
    ("name", "Brought in by London Ambulance Service; visited by Community Nurses."),
    (
        "institution",
        "Hospital Anxiety and Depression Scale 12; Hospital Episode Statistics.",
    ),
    ("phone", "Ratio 2023:05; doses 1.5-2.0-2.5 mg; ISBN 978-0-306-40615-7."),
    ("phone", "Call me in 2 weeks; ring them at 3pm."),
    (
        "name",
        "Helicobacter Pylori was found. Metformin Hydrochloride was started. "
        "Klebsiella Pneumoniae was isolated. Amoxicillin Clavulanate was given.",
    ),
    ("name", "Covid Pneumonitis was excluded. Tazocin Meropenem was switched."),
    (
        "name",
        "Seen by Chest team; discussed with Renal registrar; Haematology on-call.",
    ),
    ("address", "ECG flat 2 leads; Flat T waves in V4; apt to fall."),
    ("address", "Pain in 3 Main areas."),
    ("address", "Seen by 2 Dr on call."),
    ("address", "Walks 50 yards on the flat."),
    # ZIP look-alikes: lab values, tumour markers, vertebrae
    ("zip", "Platelets 15000; WBC 12000."),
    ("zip", "CA 19-9 elevated; CA 125 60."),
    ("zip", "C5 6TH nerve root."),
    ("zip", "MRI: disc prolapse at L4/L5 with S1 root compression."),
    ("zip", "T2-weighted images at C5-C6."),
    # device look-alikes
    ("device_id", "Pacemaker checked, normal function."),
    ("device_id", "ICD 2 serial shocks delivered."),
    ("device_id", "Serial troponins 12 then 45."),
    ("device_id", "Device 1 and device 2 were compared."),
    # vehicle look-alikes
    ("vehicle_id", "Growth plate fracture, Salter-Harris II."),
    ("vehicle_id", "Plate and 6 screws, 3.5 mm LCP."),
    ("vehicle_id", "The growth plate T12 vertebra."),
    ("vehicle_id", "Stage IIIA; ECOG 1; BRCA1 negative; HER2 positive."),
    # eponyms, place-named diseases and notations next to the new detectors
    ("name", "Bell's palsy; Austin Flint murmur; Sister Mary Joseph nodule."),
    ("location", "Lyme disease; West Nile virus; Bristol stool chart type 4."),
    ("location", "Reading glasses; Bath chair; Hope to discharge."),
    ("name", "Will review in clinic; May need OT; Mark the site."),
    ("date", "Off work 2/7; review 6/52; visual acuity 6/12; BP 120/80."),
    ("institution", "Cardiac Surgery to review; Fracture Clinic next week."),
    ("employer", "Works for the NHS; works at home."),
    ("handle", "Gentamicin @ 5 mg/kg; check @ 6 hours."),
    ("email", "Results at the end of the letter."),
]


@pytest.mark.parametrize(
    ("kind", "text"),
    NEGATIVE_CASES,
    ids=[f"{kind}:{text[:40]}" for kind, text in NEGATIVE_CASES],
)
def test_ordinary_clinical_text_is_not_flagged(kind, text):
    assert flagged(text) == []


def test_professional_registration_number_is_a_licence_not_a_number_plate():
    assert flagged("GMC registration number 1234567 confirmed.") == [
        ("record_number", "1234567")
    ]


@pytest.mark.parametrize("snippet", POSITIVES, ids=lambda s: s.text[:50])
def test_corpus_positive_identifiers_are_all_found_with_their_kind(snippet):
    findings = scan_text(snippet.text)

    for kind, substring in snippet.expected:
        start, end = span(snippet.text, substring)
        overlapping = [f for f in findings if overlaps(f, start, end)]
        assert [f.kind for f in overlapping] == [kind], (substring, findings)
    assert len(findings) == len(snippet.expected), findings


@pytest.mark.parametrize("text", NEGATIVES, ids=lambda t: t[:50])
def test_corpus_negatives_raise_no_finding(text):
    assert scan_text(text) == []


def test_corpus_is_big_enough_and_covers_every_kind():
    kinds = {kind for s in POSITIVES for kind, _ in s.expected}

    assert len(POSITIVES) >= 60
    assert len(NEGATIVES) >= 60
    assert kinds == set(KINDS)


# --- findings: shape, order, merging -----------------------------------------


def test_finding_carries_field_offsets_text_kind_and_reason():
    text = "Seen by Dr Amelia Hart on 12/03/2024."

    findings = scan_text(text, field="history")

    assert findings == [
        Finding(
            field="history",
            start=11,
            end=22,
            text="Amelia Hart",
            kind="name",
            reason="Looks like a person's name (after “Dr”).",
        ),
        Finding(
            field="history",
            start=26,
            end=36,
            text="12/03/2024",
            kind="date",
            reason="Looks like a date more specific than a year.",
        ),
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_readable_reason_sentence(kind):
    example = next(text for k, text, _ in POSITIVE_CASES if k == kind)

    reasons = [f.reason for f in scan_text(example) if f.kind == kind]

    assert reasons
    assert all(re.fullmatch(r"[A-Z].{10,}\.", reason) for reason in reasons)


def test_findings_are_sorted_and_never_overlap_on_a_dense_note():
    note = "\n".join([s.text for s in POSITIVES] + NEGATIVES)

    findings = scan_text(note)

    assert findings == sorted(findings, key=lambda f: f.start)
    for before, after in itertools.pairwise(findings):
        assert before.end <= after.start
    for finding in findings:
        assert note[finding.start : finding.end] == finding.text


def test_fax_label_makes_the_number_a_fax_not_a_phone():
    assert flagged("Fax: 0161 496 0001") == [("fax", "0161 496 0001")]


def test_labelled_nhs_number_is_a_record_number_even_though_it_looks_like_a_phone():
    assert flagged("NHS number 943 476 5919") == [("record_number", "943 476 5919")]


def test_unlabelled_number_that_fits_both_phone_and_nhs_checksum_stays_a_phone():
    assert flagged("Number 943 476 5919 noted.") == [("phone", "943 476 5919")]


def test_overlapping_findings_merge_into_one_covering_both_spans():
    # The URL rule and the IP rule both claim the address inside the link.
    findings = scan_text("Portal http://192.168.1.20/login for results.")

    assert [(f.kind, f.text) for f in findings] == [
        ("url", "http://192.168.1.20/login")
    ]


def test_email_wins_over_the_domain_inside_it():
    assert flagged("Write to anne@example.com.") == [("email", "anne@example.com")]


def test_time_joins_its_date_in_one_finding():
    assert flagged("Fell 05/11/2023 14:30.") == [("date", "05/11/2023 14:30")]


def test_offsets_stay_right_when_lower_casing_changes_length():
    # "İ".lower() is two characters; offsets must still index the original.
    text = "İİİ Dr Ayşe Kaya, DOB 02/03/1931, NHS number 943 476 5919"

    findings = scan_text(text)

    assert [(f.kind, f.text) for f in findings] == [
        ("name", "Ayşe Kaya"),
        ("date", "02/03/1931"),
        ("record_number", "943 476 5919"),
    ]
    assert all(text[f.start : f.end] == f.text for f in findings)


@pytest.mark.parametrize("text", ["", " ", "\n\n", "no identifiers here"])
def test_text_without_identifiers_gives_no_findings(text):
    assert scan_text(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "1" * 5000,
        "1." * 3000,
        "a." * 3000 + "com",
        ":" * 3000 + "a:b",
        "Dr " * 2000,
        "Patient " * 1500 + "Smith",
        "12/" * 2000,
        "x@" * 2000 + "y.com",
        "A1" * 3000,
        "(" * 2000 + "555) 201-4477",
    ],
    ids=lambda t: t[:12],
)
def test_adversarial_inputs_scan_without_blowing_up(text):
    findings = scan_text(text)

    assert all(text[f.start : f.end] == f.text for f in findings)
    assert all(f.kind in KINDS for f in findings)


# --- scanning several fields -------------------------------------------------


def test_scan_fields_reports_each_field_in_order_with_its_name():
    findings = scan_fields(
        {
            "title": "Rash in a 94-year-old",
            "history": "Seen by Dr Amelia Hart. Tel 020 7946 0958.",
            "exam": "",
            "investigations": "Hb 102, CRP 5",
        }
    )

    assert [(f.field, f.kind, f.text) for f in findings] == [
        ("title", "age", "94-year-old"),
        ("history", "name", "Amelia Hart"),
        ("history", "phone", "020 7946 0958"),
    ]


def test_scan_fields_tolerates_missing_text():
    assert scan_fields({"history": None}) == []  # type: ignore[dict-item]


# --- dismissal keys -----------------------------------------------------------


def _only(text: str, field: str = "history") -> Finding:
    [finding] = scan_text(text, field=field)
    return finding


def test_finding_key_is_stable_across_rescans_and_positions():
    first = _only("Tel 020 7946 0958")
    moved = _only("Some new sentence first. Tel 020 7946 0958")

    assert (first.start, first.end) != (moved.start, moved.end)
    assert finding_key(first) == finding_key(moved)
    assert re.fullmatch(r"[0-9a-f]{64}", finding_key(first))


def test_finding_key_ignores_spacing_punctuation_and_case():
    assert finding_key(_only("Tel 020 7946 0958")) == finding_key(
        _only("Tel 020-7946-0958")
    )
    assert finding_key(_only("Seen by Dr AMELIA HART")) == finding_key(
        _only("Seen by Dr Amelia Hart")
    )


def test_finding_key_differs_by_field_kind_and_text():
    base = _only("Seen by Dr Amelia Hart")

    assert finding_key(base) != finding_key(_only("Seen by Dr Amelia Hart", "exam"))
    assert finding_key(base) != finding_key(_only("Seen by Dr Amelia Hurt"))
    assert finding_key(_only("Fax: 0161 496 0001")) != finding_key(
        _only("Tel: 0161 496 0001")
    )


def test_finding_key_does_not_contain_the_identifier_in_clear():
    finding = _only("Tel 020 7946 0958")

    assert "7946" not in finding_key(finding)


def test_dismissed_findings_stay_dismissed_after_an_unrelated_edit():
    before = scan_text("Seen by Dr Amelia Hart. Tel 020 7946 0958.", field="history")
    dismissed = {finding_key(f) for f in before if f.kind == "name"}

    after = scan_text(
        "Seen by Dr Amelia Hart (consultant). Tel 020 7946 0958. New line 12/03/2024.",
        field="history",
    )
    unresolved = findings_unresolved(after, dismissed)

    assert [(f.kind, f.text) for f in unresolved] == [
        ("phone", "020 7946 0958"),
        ("date", "12/03/2024"),
    ]
