"""A held-out PHI corpus written by someone who had not read the scanner.

Written before looking at ``cases.phi`` or its author's corpora, as a stranger
would write clinical text: UK, US, Australian and Indian notes, discharge
summaries, referral letters, chatty discussion messages, patient-written
descriptions and lowercase texting.  ``IDENTIFIERS`` pairs each sentence with
the identifiers in it, each as ``(kind, text)``: ``text`` occurs in the
sentence and must be covered by one finding.  ``NEGATIVES`` are sentences that
must yield no finding at all.

Decisions per Safe Harbor, noted where a reader could disagree:

- States and countries may stay ("NHS Wales", "flew back from Nigeria").
- A year alone may stay; a month alone ("worse every March") may stay — only a
  month together with a day or a year is a date element worth flagging here.
- "90 or older" / "90+" is the aggregate Safe Harbor itself asks for, so it
  stays; an exact age of 90 or more, in digits or words, is flagged, and so
  is a decade ("in her nineties", narrower than "90 or older"; first written
  as a negative, moved after the first run).
- Eponymous scores named after cities ("Oxford knee score", "Dublin
  criteria", "Manchester triage") and place-named diseases stay.
"""

from __future__ import annotations

IDENTIFIERS: list[tuple[str, tuple[tuple[str, str], ...]]] = [
    # --- UK GP / hospital notes -------------------------------------------
    (
        "Seen in clinic today with her daughter Siobhan, who lives in Stockport.",
        (("name", "Siobhan"), ("location", "Stockport")),
    ),
    (
        "Referred by Dr Oluwaseun Adeyemi, Park View Surgery, for ongoing chest pain.",
        (("name", "Oluwaseun Adeyemi"), ("institution", "Park View Surgery")),
    ),
    (
        "Pt is a retired postman from Kirkcaldy, lives alone, NHS no 943 476 5919.",
        (("location", "Kirkcaldy"), ("record_number", "943 476 5919")),
    ),
    (
        "Admitted to Ward 7B at Ninewells Hospital on 14/03/2023 after a fall.",
        (("institution", "Ninewells Hospital"), ("date", "14/03/2023")),
    ),
    (
        "Lives at 27 Holloway Road, London N7 8DB with wife Margaret.",
        (
            ("address", "27 Holloway Road"),
            ("location", "London"),
            ("zip", "N7 8DB"),
            ("name", "Margaret"),
        ),
    ),
    (
        "Mobile 07911 123456, please ring after 5pm, landline 0161 496 0734.",
        (("phone", "07911 123456"), ("phone", "0161 496 0734")),
    ),
    (
        "Discharged to Beechwood Care Home in Harrogate for respite.",
        (("institution", "Beechwood Care Home"), ("location", "Harrogate")),
    ),
    (
        "Works as a forklift driver at the Tesco depot in Daventry.",
        (("employer", "Tesco"), ("location", "Daventry")),
    ),
    (
        "Son Gareth Pryce-Jones is NOK, contact via ward.",
        (("name", "Gareth Pryce-Jones"),),
    ),
    (
        "She attends St Aidan's Catholic Primary School in Toxteth.",
        (
            ("institution", "St Aidan's Catholic Primary School"),
            ("location", "Toxteth"),
        ),
    ),
    (
        "Hosp no RXH0042871, seen by the falls team.",
        (("record_number", "RXH0042871"),),
    ),
    (
        "Mrs Nwachukwu was reviewed on the 3rd of May by the orthogeriatricians.",
        (("name", "Nwachukwu"), ("date", "3rd of May")),
    ),
    (
        "Previously under the care of Mr van der Merwe at Frimley Park.",
        (("name", "van der Merwe"), ("institution", "Frimley Park")),
    ),
    (
        "Symptoms began in March 2022 while she was visiting family in Bradford.",
        (("date", "March 2022"), ("location", "Bradford")),
    ),
    (
        "Dictated by Kwame Mensah, Specialty Registrar, Royal Free Hospital.",
        (("name", "Kwame Mensah"), ("institution", "Royal Free Hospital")),
    ),
    (
        "He is 94 and still drives to Leamington Spa every week.",
        (("age", "94"), ("location", "Leamington Spa")),
    ),
    (
        "ninety-three year old lady, lives with her niece in Penge.",
        (("age", "ninety-three"), ("location", "Penge")),
    ),
    (
        "Fax the letter to 020 7946 0321 marked FAO Dr Haddad.",
        (("fax", "020 7946 0321"), ("name", "Haddad")),
    ),
    # --- US notes and discharge summaries ---------------------------------
    (
        "Patient is a 91 yo male transferred from Mercy Hospital in Cedar Rapids.",
        (
            ("age", "91"),
            ("institution", "Mercy Hospital"),
            ("location", "Cedar Rapids"),
        ),
    ),
    (
        "MRN: 00482917. DOB 07/22/1941. Admit date 11/02/2023.",
        (("record_number", "00482917"), ("date", "07/22/1941"), ("date", "11/02/2023")),
    ),
    (
        "Pt's wife Guadalupe Hernández-Ruiz can be reached at (503) 555-0187.",
        (("name", "Guadalupe Hernández-Ruiz"), ("phone", "(503) 555-0187")),
    ),
    (
        "Resides at 1420 Maple Ave, Apt 3B, Evanston, IL 60201.",
        (("address", "1420 Maple Ave"), ("location", "Evanston"), ("zip", "60201")),
    ),
    (
        "He works nights as a security guard for Amazon in Fresno.",
        (("employer", "Amazon"), ("location", "Fresno")),
    ),
    (
        "SSN 078-05-1120 on file; Medicaid ID KY48810023.",
        (("ssn", "078-05-1120"), ("record_number", "KY48810023")),
    ),
    (
        "Followed by Dr. Nguyen Thi Lan at the Kaiser clinic in Oakland.",
        (
            ("name", "Nguyen Thi Lan"),
            ("institution", "Kaiser clinic"),
            ("location", "Oakland"),
        ),
    ),
    (
        "Brought in by EMS from her home in the Bronx after a syncopal episode.",
        (("location", "the Bronx"),),
    ),
    (
        "Daughter, LaKeisha Washington, is health care proxy.",
        (("name", "LaKeisha Washington"),),
    ),
    (
        "Pacemaker serial no. PJN887541H, Medtronic.",
        (("device_id", "PJN887541H"),),
    ),
    (
        "Vehicle involved: plate 7ABC123, VIN 1HGCM82633A004352.",
        (("vehicle_id", "7ABC123"), ("vehicle_id", "1HGCM82633A004352")),
    ),
    (
        "Last seen at Johns Hopkins Bayview on Jan 5, 2024.",
        (("institution", "Johns Hopkins Bayview"), ("date", "Jan 5, 2024")),
    ),
    (
        "Teaches 4th grade at Lincoln Elementary in Boise.",
        (("institution", "Lincoln Elementary"), ("location", "Boise")),
    ),
    (
        "Dx confirmed Sept 2019, treated at MD Anderson.",
        (("date", "Sept 2019"), ("institution", "MD Anderson")),
    ),
    (
        "Moved from Dearborn to Ann Arbor last fall with husband Tariq.",
        (("location", "Dearborn"), ("location", "Ann Arbor"), ("name", "Tariq")),
    ),
    # --- Australian notes -------------------------------------------------
    (
        "Pt from Toowoomba, flown to Royal Brisbane and Women's Hospital.",
        (
            ("location", "Toowoomba"),
            ("institution", "Royal Brisbane and Women's Hospital"),
        ),
    ),
    (
        "Medicare no 2123 45670 1, lives in Parramatta with partner Jarrah.",
        (
            ("record_number", "2123 45670 1"),
            ("location", "Parramatta"),
            ("name", "Jarrah"),
        ),
    ),
    (
        "Ph 0412 345 678 or (02) 9876 5432.",
        (("phone", "0412 345 678"), ("phone", "(02) 9876 5432")),
    ),
    (
        "Works at Woolworths in Fremantle, stocking shelves.",
        (("employer", "Woolworths"), ("location", "Fremantle")),
    ),
    (
        "Address 14 Wattle St, Ballarat VIC 3350.",
        (("address", "14 Wattle St"), ("location", "Ballarat"), ("zip", "3350")),
    ),
    # --- Indian notes -----------------------------------------------------
    (
        "Mr Venkataraman Subramanian, 92 years, resident of Mylapore, Chennai.",
        (
            ("name", "Venkataraman Subramanian"),
            ("age", "92"),
            ("location", "Mylapore"),
            ("location", "Chennai"),
        ),
    ),
    (
        "Referred from Christian Medical College Vellore with uncontrolled DM.",
        (("institution", "Christian Medical College"), ("location", "Vellore")),
    ),
    (
        "Contact son Arjun Mehta on +91 98765 43210.",
        (("name", "Arjun Mehta"), ("phone", "+91 98765 43210")),
    ),
    (
        "Pt is a software engineer at Infosys, Electronic City, Bangalore.",
        (
            ("employer", "Infosys"),
            ("location", "Electronic City"),
            ("location", "Bangalore"),
        ),
    ),
    (
        "Smt. Lakshmi Devi was admitted to AIIMS on 12.08.2022.",
        (("name", "Lakshmi Devi"), ("institution", "AIIMS"), ("date", "12.08.2022")),
    ),
    (
        "Native of Kozhikode district, now staying in Andheri West.",
        (("location", "Kozhikode"), ("location", "Andheri West")),
    ),
    (
        "PIN 400058, UHID 2023/08/11873.",
        (("zip", "400058"), ("record_number", "2023/08/11873")),
    ),
    # --- Referral letters -------------------------------------------------
    (
        "Dear Dr Kowalczyk, thank you for seeing Agnieszka Wiśniewska, aged 34.",
        (("name", "Kowalczyk"), ("name", "Agnieszka Wiśniewska")),
    ),
    (
        "Re: Oleksandr Kovalenko, DOB 02-11-1987, Flat 4, 19 Chapel Street.",
        (
            ("name", "Oleksandr Kovalenko"),
            ("date", "02-11-1987"),
            ("address", "19 Chapel Street"),
        ),
    ),
    (
        "Yours sincerely, Dr Fatima Al-Rashid, Consultant Dermatologist.",
        (("name", "Fatima Al-Rashid"),),
    ),
    (
        "Re: Mr Chidi Okonkwo (Hosp No K2291844), 15 Elm Grove, Didsbury.",
        (
            ("name", "Chidi Okonkwo"),
            ("record_number", "K2291844"),
            ("address", "15 Elm Grove"),
            ("location", "Didsbury"),
        ),
    ),
    (
        "I saw this charming gentleman, Mr Björn Lindqvist, in the Tuesday clinic.",
        (("name", "Björn Lindqvist"),),
    ),
    (
        "cc: Dr Yuki Tanaka, Riverside Medical Practice, Ealing.",
        (
            ("name", "Yuki Tanaka"),
            ("institution", "Riverside Medical Practice"),
            ("location", "Ealing"),
        ),
    ),
    (
        "Ms Ngozi Eze is a 29-year-old teacher at Hillcrest Academy.",
        (("name", "Ngozi Eze"), ("institution", "Hillcrest Academy")),
    ),
    (
        "Next of kin: Mohammed bin Salman Al-Otaibi (brother).",
        (("name", "Mohammed bin Salman Al-Otaibi"),),
    ),
    (
        "Patient: Zhang Wei. Referred by Dr Li Na, Guangzhou.",
        (("name", "Zhang Wei"), ("name", "Li Na"), ("location", "Guangzhou")),
    ),
    (
        "Ms O'Sullivan-Byrne was reviewed at the Mater Misericordiae.",
        (("name", "O'Sullivan-Byrne"), ("institution", "Mater Misericordiae")),
    ),
    (
        "Sent to Dr. de la Cruz at St. Luke's Medical Center, Quezon City.",
        (
            ("name", "de la Cruz"),
            ("institution", "St. Luke's Medical Center"),
            ("location", "Quezon City"),
        ),
    ),
    # --- Chatty discussion messages ---------------------------------------
    (
        "anyone else seen this? the lad's a plumber for British Gas, lives out near Wigan",
        (("employer", "British Gas"), ("location", "Wigan")),
    ),
    (
        "Sounds like the case Aisha presented last week from Croydon.",
        (("name", "Aisha"), ("location", "Croydon")),
    ),
    (
        "I had one like this in Moss Side back in Feb 2021, turned out to be TB.",
        (("location", "Moss Side"), ("date", "Feb 2021")),
    ),
    (
        "her instagram is @priya.glows_92 and she posts the rash photos there",
        (("handle", "@priya.glows_92"),),
    ),
    (
        "Mum posted a video at https://www.tiktok.com/@jaydenmum_uk/video/7281234567890",
        (("url", "https://www.tiktok.com/@jaydenmum_uk/video/7281234567890"),),
    ),
    (
        "he's u/throwaway_knee_pain on reddit, asked about this in r/AskDocs",
        (("handle", "u/throwaway_knee_pain"),),
    ),
    (
        "His YouTube channel youtube.com/@TomsTinnitusDiary has the whole story.",
        (("url", "youtube.com/@TomsTinnitusDiary"),),
    ),
    (
        "She messaged us from facebook.com/maria.gonzalez.3152 asking for results.",
        (("url", "facebook.com/maria.gonzalez.3152"),),
    ),
    (
        "Found her on X as @DrSunitaRao, she's the GP.",
        (("handle", "@DrSunitaRao"),),
    ),
    (
        "Her profile: instagram.com/hana_kim.ootd, lots of skin pics.",
        (("url", "instagram.com/hana_kim.ootd"),),
    ),
    (
        "Reach me at sam dot okafor at gmail dot com if you want the scans.",
        (("email", "sam dot okafor at gmail dot com"),),
    ),
    (
        "Contact: j.mwangi [at] outlook [dot] com",
        (("email", "j.mwangi [at] outlook [dot] com"),),
    ),
    (
        "email is tomasz(at)wp(dot)pl",
        (("email", "tomasz(at)wp(dot)pl"),),
    ),
    (
        "Plain old e-mail for the daughter: rachel.cohen@yahoo.co.uk",
        (("email", "rachel.cohen@yahoo.co.uk"),),
    ),
    (
        "mail me at kenji_watanabe AT hotmail DOT co DOT jp",
        (("email", "kenji_watanabe AT hotmail DOT co DOT jp"),),
    ),
    (
        "Our registrar Dmitri thinks it's sarcoid; the patient is from Solihull.",
        (("name", "Dmitri"), ("location", "Solihull")),
    ),
    (
        "Saw her again on 2 Feb; she now works at Starbucks on the high street.",
        (("date", "2 Feb"), ("employer", "Starbucks")),
    ),
    (
        "Has anyone managed a 96-year-old with this? Living in Hove.",
        (("age", "96-year-old"), ("location", "Hove")),
    ),
    (
        "The server logged him from 192.168.14.203 when he uploaded.",
        (("ip", "192.168.14.203"),),
    ),
    (
        "Photos are on https://drive.google.com/drive/folders/1aBcD3fGhIjK",
        (("url", "https://drive.google.com/drive/folders/1aBcD3fGhIjK"),),
    ),
    # --- Patient-written descriptions --------------------------------------
    (
        "Hi, I'm Chiamaka, I'm 31 and I live in Peckham. The rash started in June 2023.",
        (("name", "Chiamaka"), ("location", "Peckham"), ("date", "June 2023")),
    ),
    (
        "My name is Rahul Verma and my son Aarav has had this cough since the 15th of January.",
        (("name", "Rahul Verma"), ("name", "Aarav"), ("date", "15th of January")),
    ),
    (
        "I work at Sainsbury's in Basingstoke and standing all day makes my legs swell.",
        (("employer", "Sainsbury's"), ("location", "Basingstoke")),
    ),
    (
        "My grandma turned ninety-one last month and she lives in Cork with us.",
        (("age", "ninety-one"), ("location", "Cork")),
    ),
    (
        "I'm a nurse at Addenbrooke's so I know this isn't normal.",
        (("institution", "Addenbrooke's"),),
    ),
    (
        "We moved to Leith from Glasgow in October 2020.",
        (("location", "Leith"), ("location", "Glasgow"), ("date", "October 2020")),
    ),
    (
        "My husband Juan Carlos says I snore like a train.",
        (("name", "Juan Carlos"),),
    ),
    (
        "I go to the Alder Hey clinic every 3 months, my consultant is Dr Banerjee.",
        (("institution", "Alder Hey"), ("name", "Banerjee")),
    ),
    (
        "Call me on 07700 900 461 or my work number 01632 960 001.",
        (("phone", "07700 900 461"), ("phone", "01632 960 001")),
    ),
    (
        "I was born on 4 July 1958 and I've never had a problem till now.",
        (("date", "4 July 1958"),),
    ),
    (
        "I am Tendai Moyo, I was diagnosed at Groote Schuur in 2015.",
        (("name", "Tendai Moyo"), ("institution", "Groote Schuur")),
    ),
    (
        "I'm a barista at Pret near Canary Wharf.",
        (("employer", "Pret"), ("location", "Canary Wharf")),
    ),
    (
        "My postcode is BS8 1TH if that helps for the home visit.",
        (("zip", "BS8 1TH"),),
    ),
    # --- Lowercase texting style -------------------------------------------
    (
        "my mum priya sharma has had this since christmas",
        (("name", "priya sharma"),),
    ),
    (
        "hi its ahmed, we live in walthamstow, the lump came up last week",
        (("name", "ahmed"), ("location", "walthamstow")),
    ),
    (
        "my nan is 97 and lives in a care home in bournemouth",
        (("age", "97"), ("location", "bournemouth")),
    ),
    (
        "sorry for the late reply, im at work at mcdonalds in luton till 10",
        (("employer", "mcdonalds"), ("location", "luton")),
    ),
    (
        "pls text 07123 456789 not my email",
        (("phone", "07123 456789"),),
    ),
    (
        "ask for dr okafor at the royal london, he knows me",
        (("name", "okafor"), ("institution", "royal london")),
    ),
    (
        "me and my boyfriend jamal went to the walk in at stratford",
        (("name", "jamal"), ("location", "stratford")),
    ),
    (
        "dob is 12/9/88 if u need it",
        (("date", "12/9/88"),),
    ),
    (
        "ive been going to st thomas hospital since feb 2019",
        (("institution", "st thomas hospital"), ("date", "feb 2019")),
    ),
    (
        "my sister wei ling lives in ipoh and has the same rash",
        (("name", "wei ling"), ("location", "ipoh")),
    ),
    (
        "my tiktok is tiktok.com/@kayla.rash.journey",
        (("url", "tiktok.com/@kayla.rash.journey"),),
    ),
    (
        "find me on insta @lola_gets_better",
        (("handle", "@lola_gets_better"),),
    ),
    # --- Nicknames, initials, particles ------------------------------------
    (
        "Seen with J. P. Morgan-Hughes, his stepfather.",
        (("name", "J. P. Morgan-Hughes"),),
    ),
    (
        "Pt prefers to be called Bobby (Robert Kaminski).",
        (("name", "Bobby"), ("name", "Robert Kaminski")),
    ),
    (
        "Collateral from her friend Dee-Dee, who lives nearby in Salford.",
        (("name", "Dee-Dee"), ("location", "Salford")),
    ),
    (
        "Reviewed with Prof. Abdel-Rahman El-Sayed.",
        (("name", "Abdel-Rahman El-Sayed"),),
    ),
    (
        "Initial assessment by A.K. Chatterjee, ST4.",
        (("name", "A.K. Chatterjee"),),
    ),
    (
        "Husband Ludwig von Hohenberg declined to stay.",
        (("name", "Ludwig von Hohenberg"),),
    ),
    (
        "Spoke to Ms Da Silva on the phone this morning.",
        (("name", "Da Silva"),),
    ),
    (
        "Son-in-law Emeka Obi-Nwosu will collect her.",
        (("name", "Emeka Obi-Nwosu"),),
    ),
    # --- More places worldwide ---------------------------------------------
    (
        "Grew up in Soweto, moved to Brixton aged 19.",
        (("location", "Soweto"), ("location", "Brixton")),
    ),
    (
        "He commutes from Sutton Coldfield to Birmingham each day.",
        (("location", "Sutton Coldfield"), ("location", "Birmingham")),
    ),
    (
        "Family are in Lagos but she lives in Tottenham.",
        (("location", "Lagos"), ("location", "Tottenham")),
    ),
    (
        "Lives on a farm near Ballymena, County Antrim.",
        (("location", "Ballymena"), ("location", "County Antrim")),
    ),
    (
        "Originally from Wrocław, now lives in Slough.",
        (("location", "Wrocław"), ("location", "Slough")),
    ),
    (
        "Recent travel to Kisumu and Mombasa, no malaria prophylaxis.",
        (("location", "Kisumu"), ("location", "Mombasa")),
    ),
    (
        "Lives in Brooklyn, works in Hoboken.",
        (("location", "Brooklyn"), ("location", "Hoboken")),
    ),
    (
        "She was visiting relatives in Rawalpindi when the fever began.",
        (("location", "Rawalpindi"),),
    ),
    (
        "Lives in a flat in Hackney with three flatmates.",
        (("location", "Hackney"),),
    ),
    (
        "Travelled from Guadalajara to see her sister in San Antonio.",
        (("location", "Guadalajara"), ("location", "San Antonio")),
    ),
    (
        "Resident of Kowloon, visiting his son in Vancouver.",
        (("location", "Kowloon"), ("location", "Vancouver")),
    ),
    # --- Institutions and employers ----------------------------------------
    (
        "Transferred from Queen Elizabeth University Hospital for ECMO.",
        (("institution", "Queen Elizabeth University Hospital"),),
    ),
    (
        "Attends the Maudsley for her eating disorder.",
        (("institution", "Maudsley"),),
    ),
    (
        "He is a resident at Sunrise of Weybridge nursing home.",
        (("institution", "Sunrise of Weybridge"),),
    ),
    (
        "Seen at Cedars-Sinai last year for a second opinion.",
        (("institution", "Cedars-Sinai"),),
    ),
    (
        "She is a lecturer at the University of Leeds.",
        (("institution", "University of Leeds"),),
    ),
    (
        "Worked for thirty years at Rolls-Royce in Derby.",
        (("employer", "Rolls-Royce"), ("location", "Derby")),
    ),
    (
        "Employed by Deloitte as an auditor, lots of travel.",
        (("employer", "Deloitte"),),
    ),
    (
        "Pt is a firefighter with the London Fire Brigade.",
        (("employer", "London Fire Brigade"),),
    ),
    (
        "Attends Greenfield Medical Centre for her warfarin checks.",
        (("institution", "Greenfield Medical Centre"),),
    ),
    (
        "Transferred to the Mayo Clinic in Rochester for further workup.",
        (("institution", "Mayo Clinic"), ("location", "Rochester")),
    ),
    (
        "Son works as a mechanic at the Toyota dealership in Swindon.",
        (("employer", "Toyota"), ("location", "Swindon")),
    ),
    # --- Dates in many formats ---------------------------------------------
    (
        "Colonoscopy booked for 2024-06-18.",
        (("date", "2024-06-18"),),
    ),
    (
        "Last admission: 21st December 2022.",
        (("date", "21st December 2022"),),
    ),
    (
        "First presented on Monday 9th October.",
        (("date", "9th October"),),
    ),
    (
        "Bloods taken 5/1/24, repeat due.",
        (("date", "5/1/24"),),
    ),
    (
        "Previous MI in Aug '18.",
        (("date", "Aug '18"),),
    ),
    (
        "Started methotrexate mid-November 2021.",
        (("date", "November 2021"),),
    ),
    (
        "Follow-up arranged for the twelfth of April.",
        (("date", "twelfth of April"),),
    ),
    (
        "Echo done 03.Mar.2020 showed EF 35%.",
        (("date", "03.Mar.2020"),),
    ),
    (
        "He was last well on December 24.",
        (("date", "December 24"),),
    ),
    (
        "Date of death 30/06/2023 at 04:15.",
        (("date", "30/06/2023"),),
    ),
    (
        "She had her hip done in 11/2019.",
        (("date", "11/2019"),),
    ),
    # --- Ages 90+ ------------------------------------------------------------
    (
        "A ninety-eight-year-old man with new confusion.",
        (("age", "ninety-eight"),),
    ),
    (
        "Age: 103. Lives independently.",
        (("age", "103"),),
    ),
    (
        "She is one hundred and two and sharp as a tack.",
        (("age", "one hundred and two"),),
    ),
    (
        "This 90 y/o lady presented with a UTI.",
        (("age", "90"),),
    ),
    # Scored as false alarms on the first run; a decade of the nineties is
    # narrower than the "90 or older" Safe Harbor allows, so it is an age.
    (
        "She is in her nineties.",
        (("age", "in her nineties"),),
    ),
    (
        "A man in his 90s with delirium.",
        (("age", "in his 90s"),),
    ),
    (
        "Aged 95, lives with daughter.",
        (("age", "95"),),
    ),
    # --- Phones and records --------------------------------------------------
    (
        "Tel: +44 20 7946 0958 (daughter's mobile).",
        (("phone", "+44 20 7946 0958"),),
    ),
    (
        "Call 555-867-5309 after 6.",
        (("phone", "555-867-5309"),),
    ),
    (
        "Ring his brother in Germany on +49 30 12345678.",
        (("phone", "+49 30 12345678"),),
    ),
    (
        "NHS Number: 4857773456.",
        (("record_number", "4857773456"),),
    ),
    (
        "Insurance policy no. BCBS-778213-02.",
        (("record_number", "BCBS-778213-02"),),
    ),
    (
        "Driver's licence MORGA753116SM9IJ.",
        (("record_number", "MORGA753116SM9IJ"),),
    ),
    (
        "CHI 1203456789, seen in Dundee.",
        (("record_number", "1203456789"), ("location", "Dundee")),
    ),
    # --- Postcodes and addresses ---------------------------------------------
    (
        "Home address: 3 Rosebank Close, Ipswich IP4 2LT.",
        (("address", "3 Rosebank Close"), ("location", "Ipswich"), ("zip", "IP4 2LT")),
    ),
    (
        "Lives at 88 Queen's Drive, Glasgow G42 8BZ.",
        (("address", "88 Queen's Drive"), ("location", "Glasgow"), ("zip", "G42 8BZ")),
    ),
    (
        "Mailing address PO Box 4471, Tucson AZ 85717.",
        (("address", "PO Box 4471"), ("location", "Tucson"), ("zip", "85717")),
    ),
    (
        "Lives in Flat 12, Ashdown House, off the Mile End Road.",
        (("address", "Flat 12, Ashdown House"), ("location", "Mile End")),
    ),
]

NEGATIVES: list[str] = [
    # --- Eponyms ---------------------------------------------------------------
    "Examination consistent with Bell's palsy affecting the left side.",
    "An Austin Flint murmur was heard at the apex.",
    "Umbilical nodule suspicious for a Sister Mary Joseph nodule.",
    "Long-standing Parkinson's disease with on-off phenomena.",
    "Crohn's disease flare, started on budesonide.",
    "TFTs suggest Hashimoto's thyroiditis.",
    "Adrenal crisis in known Addison's disease.",
    "Cushingoid features on long-term prednisolone; ?Cushing syndrome.",
    "Ascending weakness, areflexia: query Guillain-Barré syndrome.",
    "Ataxia, ophthalmoplegia and confusion raise concern for Wernicke encephalopathy.",
    "Chronic alcohol use with Korsakoff syndrome.",
    "Known Tourette syndrome with motor tics.",
    "Diagnosed with Asperger syndrome as a teenager.",
    "Popliteal swelling, likely a Baker's cyst.",
    "Anterior knee pain in an adolescent: Osgood-Schlatter disease.",
    "Purple skin lesions concerning for Kaposi sarcoma.",
    "Painless lymphadenopathy; biopsy showed Hodgkin lymphoma.",
    "Lytic lesion of the femur, ?Ewing sarcoma.",
    "Abdominal mass in a toddler, Wilms tumour suspected.",
    "A hard left supraclavicular Virchow's node was palpable.",
    "Down syndrome with an AVSD repaired in infancy.",
    "Raynaud's phenomenon in both hands.",
    "Reduced vibration sense; Romberg's test positive.",
    "Murphy's sign positive in the right upper quadrant.",
    "Trendelenburg gait noted on the right.",
    "Barrett's oesophagus on surveillance endoscopy.",
    "Dupuytren's contracture of the ring finger.",
    "Meniere's disease with recurrent vertigo.",
    "Bowen's disease on the shin, treated with cryotherapy.",
    "Sjögren's syndrome with dry eyes and mouth.",
    "Wolff-Parkinson-White pattern on ECG.",
    "Stevens-Johnson syndrome after lamotrigine.",
    "Creutzfeldt-Jakob disease was considered and excluded.",
    "Charcot-Marie-Tooth disease runs in the family.",
    "Ehlers-Danlos syndrome, hypermobile type.",
    "Kussmaul breathing in DKA.",
    "Cheyne-Stokes respiration overnight.",
    "Positive Homans sign is unreliable.",
    "Heberden's nodes on the DIP joints.",
    "Bouchard's nodes also present.",
    "Still's disease was in the differential.",
    "Takayasu arteritis in a young woman.",
    "Kawasaki disease with coronary aneurysm.",
    "Paget's disease of bone, raised ALP.",
    "Graves' disease with exophthalmos.",
    "Conn's syndrome suspected given hypokalaemia.",
    "Alport syndrome with haematuria and deafness.",
    "Marfan syndrome, aortic root dilated.",
    "Munchausen syndrome by proxy was raised by social care.",
    "Stockholm syndrome is not a recognised diagnosis.",
    "Kernig's and Brudzinski's signs negative.",
    "Bence Jones protein in the urine.",
    "Lhermitte's sign on neck flexion.",
    "Tinel's and Phalen's tests positive at the wrist.",
    "Cullen's and Grey Turner's signs absent.",
    "Glanzmann thrombasthenia was excluded.",
    # --- Place-named diseases and organisms ------------------------------------
    "Erythema migrans after a tick bite: Lyme disease.",
    "West Nile virus serology sent.",
    "Returned traveller, Ebola excluded by the high-level isolation unit.",
    "Marburg virus disease is very rare.",
    "Hand, foot and mouth disease from Coxsackie virus.",
    "Norwalk virus outbreak on the ward.",
    "Rocky Mountain spotted fever was in the differential.",
    "Japanese encephalitis vaccine given before travel.",
    "The 1918 Spanish flu killed millions.",
    "Zika virus in pregnancy counselling.",
    "Lassa fever risk assessment done.",
    "Hendra virus is transmitted by bats.",
    "Hantavirus pulmonary syndrome after cleaning a barn.",
    "Omsk haemorrhagic fever is not endemic here.",
    "Ross River virus is common in Australia.",
    "Murray Valley encephalitis was considered.",
    "Q fever in a farm worker.",
    "Legionnaires' disease linked to the cooling tower.",
    "Mediterranean spotted fever after a trip.",
    "Chagas disease screening for donors.",
    "Brazilian purpuric fever is historical.",
    "MERS coronavirus was excluded.",
    "Congo-Crimean haemorrhagic fever precautions.",
    "Bornholm disease causing pleuritic pain.",
    "Tahyna virus is seldom tested.",
    "German measles immunity confirmed.",
    # --- Drugs, brands, anatomy ------------------------------------------------
    "Started on Keppra 500 mg BD and Epilim.",
    "Switched from Humira to Stelara.",
    "Taking Ozempic weekly for weight loss.",
    "Given Tylenol and Advil at home.",
    "Lantus 20 units at night, NovoRapid with meals.",
    "Prescribed Zoloft by her GP.",
    "Applied Sudocrem to the nappy area.",
    "Using Ventolin four times a day.",
    "Tenderness over the anatomical snuffbox.",
    "Pain radiating into the Achilles tendon.",
    "The circle of Willis appeared normal on CTA.",
    "Bundle of His conduction normal.",
    "Fluid in the pouch of Douglas.",
    "Normal Broca's area on MRI.",
    "Purkinje fibres and the sinoatrial node.",
    "Eustachian tube dysfunction.",
    "Loop of Henle diuretics such as furosemide.",
    "Islets of Langerhans antibodies negative.",
    # --- Scores and scales ------------------------------------------------------
    "Glasgow Coma Scale 14/15 on arrival.",
    "Wells score 4, so a CTPA was requested.",
    "CURB-65 of 2, admitted for IV antibiotics.",
    "Apgar scores 8 and 9 at 1 and 5 minutes.",
    "Gleason 3+4=7 adenocarcinoma.",
    "Bishop score 5, induction planned.",
    "Boston bowel prep score 8.",
    "Oxford knee score improved from 18 to 36.",
    "Edinburgh postnatal depression scale score of 14.",
    "Manchester triage category orange.",
    "Meets the Dublin criteria for psychogenic non-epileptic seizures? Not really.",
    "Ottawa ankle rules negative.",
    "Ranson criteria were applied.",
    "Rockall score of 3 before endoscopy.",
    "Geneva score low.",
    "Denver developmental screening normal.",
    "Nottingham prognostic index 3.4.",
    "San Francisco syncope rule negative.",
    "Canadian C-spine rule applied.",
    "Rome IV criteria met for IBS.",
    "Montreal Cognitive Assessment 26/30.",
    "New York Heart Association class II.",
    "Seattle heart failure model estimates.",
    "Framingham risk score calculated.",
    "Child-Pugh B cirrhosis.",
    "Breslow thickness 1.2 mm.",
    "Salter-Harris type II fracture.",
    "Mallampati grade 3 airway.",
    # --- Numbers that are not dates, phones or ages ------------------------------
    "Review in 2/7 with repeat bloods.",
    "Sick note for 6/52.",
    "Follow up in 3/12.",
    "Neuro obs 1/40 overnight.",
    "Vision 20/20 in both eyes.",
    "Visual acuity 6/12 right, 6/9 left.",
    "BP 120/80, HR 72, sats 98% on air.",
    "T2 weighted imaging showed oedema.",
    "Disc prolapse at L4/5 compressing the nerve root.",
    "C3/C4 stenosis on MRI.",
    "G3P2 at 38 weeks.",
    "4+ pitting oedema to the knees.",
    "Given 90 mg of enoxaparin.",
    "95% sats on 2L oxygen.",
    "Aged 90 or older per the registry bands.",
    "Population was 90+ years old in this cohort.",
    "Hb 92 g/L, platelets 103.",
    "Weight 97 kg, BMI 31.",
    "Temperature 38.4 and RR 22.",
    "Troponin rose from 14 to 96 ng/L.",
    "HbA1c 58 mmol/mol in 2021.",
    "PSA 4.2 ng/mL.",
    "QTc 460 ms on 12-lead.",
    "eGFR 45, creatinine 132.",
    "INR 2.5, target range 2-3.",
    "Score of 9/10 pain.",
    "Stage T3N1M0 disease.",
    "Grade 2/6 systolic murmur.",
    "He smokes 20/day, 30 pack-years.",
    "Drinks 14 units/week.",
    "Dose 1.5 mg/kg every 8 hours.",
    "Fluids at 125 ml/hr.",
    # --- Ordinary words that are also names or towns ----------------------------
    "She will need physio and may need a walking frame.",
    "Mark the site of maximal tenderness with a pen.",
    "Advised a warm bath twice daily.",
    "Reading the ECG again, there are peaked T waves.",
    "Reading glasses prescribed.",
    "We hope the swelling settles with elevation.",
    "She moved with surprising grace despite the arthritis.",
    "He has great faith in the treatment.",
    "A rose-coloured rash on the trunk.",
    "Sandy stool with undigested food.",
    "Used a jack to lift the car and felt his back go.",
    "The bill for the private scan was high.",
    "Follow the Nice guidelines for hypertension.",
    "As per NICE guidance, offer a statin.",
    "NHS Wales has its own pathway.",
    "She flew back from Nigeria last month.",
    "Her symptoms are always worse in March.",
    "Seen in 2019 and again in 2022.",
    "March on with the current plan.",
    "Patience is needed with the wound.",
    "The brook behind the house flooded.",
    "Warren-like burrows seen under dermoscopy.",
    "Daisy chain appearance on ultrasound.",
    "Pearl-like papule on the nose, likely BCC.",
    "Bowel sounds normal; abdomen soft.",
    "The sun was bright so she squinted.",
    "Heather pollen makes her hay fever worse.",
    "Walk to the end of the corridor and back.",
    "Bishop's collar dermatitis is not a thing.",
    "Penny-sized lesion on the cheek.",
    "She carries an EpiPen at all times.",
    "Dr on call reviewed; plan as above.",
    "Consultant ward round this morning.",
    "Discussed at the MDT on Tuesday.",
    "Patient seen in the emergency department.",
    "Referred to the falls clinic.",
    "Lives alone, independent with ADLs.",
    "Daughter visits daily.",
    "Works in an office, sedentary job.",
    "Retired teacher, non-smoker.",
    "Self-employed builder.",
    "Unemployed, lives with parents.",
    "Lives in a care home.",
    "Attends the local GP surgery.",
    "Moved to the area recently.",
    "Travelled abroad in the summer.",
    "Spring and autumn exacerbations.",
    "Over 90 years old patients were excluded.",
    "Patients aged 18-65 only.",
    "Normal sinus rhythm, rate 88.",
    "Chest clear, heart sounds I + II + 0.",
    "Grand rounds on Friday at noon.",
    "Gold standard is biopsy.",
    "Sterling work by the nursing staff.",
    "A long way to go yet.",
    "Get up and go test took 14 seconds.",
    "Holly, ivy and mistletoe poisoning risk at Christmas.",
    "Victoria sponge at the ward party.",
    "Madeira cake is not on her diet.",
]
