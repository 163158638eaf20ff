"""Demo cases for ``seed_demo``: invented, de-identified teaching cases.

Nothing here describes a real patient. Every case goes through the real
services, so each one passes the PHI gate the way a clinician's would.
Running the seeder again finds the cases by owner and title and leaves them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cases.models import Case, CaseParticipant
from cases.services.cases import (
    DEFAULT_ATTESTATION,
    case_create,
    case_publish,
    participant_invite,
)
from workspace.demo import Demo
from workspace.models import Specialty


@dataclass(frozen=True)
class DemoCase:
    owner: str
    title: str
    specialty: str
    age_band: str
    sex: str
    presenting_complaint: str
    history: str
    examination: str
    investigations: str
    working_notes: str
    tags: tuple[str, ...]
    visibility: str = Case.Visibility.COMMUNITY
    publish: bool = True
    # The final diagnosis; diagnoses.demo resolves the case with it.
    resolve_with: str = ""
    participants: dict[str, str] = field(default_factory=dict)


CASES = [
    DemoCase(
        owner="sam",
        title="Expanding annular rash after a camping trip",
        specialty="Dermatology",
        age_band="30–39",
        sex="female",
        presenting_complaint="A slowly enlarging red ring on the thigh, first noticed "
        "about ten days after a camping holiday in woodland.",
        history=(
            "- Mild fatigue and aching joints for a week\n"
            "- Recalls removing a small tick, did not keep it\n"
            "- No new medicines, no similar rash before\n"
            "- Works outdoors; no pets"
        ),
        examination=(
            "Single **14 cm** erythematous annular plaque with central clearing on "
            "the lateral thigh. Warm, non-tender, no scale. No lymphadenopathy. "
            "Joints: no effusions."
        ),
        investigations="Serology sent; result pending. FBC and CRP normal.",
        working_notes=(
            "Classic target appearance, but serology is often negative this early. "
            "Would you treat empirically now, or wait for serology?"
        ),
        tags=("rash", "travel", "tick bite"),
        resolve_with="Erythema migrans (early localised Lyme disease)",
        participants={"ben": CaseParticipant.Role.CONSULTANT},
    ),
    DemoCase(
        owner="ben",
        title="Pleuritic chest pain two weeks after a long-haul flight",
        specialty="Emergency Medicine",
        age_band="40–49",
        sex="male",
        presenting_complaint="Sharp right-sided chest pain worse on breathing in, "
        "with breathlessness on stairs since yesterday.",
        history=(
            "Returned from a twelve-hour flight two weeks ago. Left calf ached for a "
            "few days afterwards. No haemoptysis. Non-smoker, no previous clots."
        ),
        examination=(
            "HR 108, RR 22, SpO₂ 93% on air, BP 128/80, afebrile. Chest clear. "
            "Left calf 2 cm larger than the right, mildly tender."
        ),
        investigations=(
            "| Test | Result |\n|---|---|\n| ECG | sinus tachycardia, S1Q3T3 |\n"
            "| D-dimer | raised |\n| CTPA | filling defects in right lower lobe "
            "segmental arteries |"
        ),
        working_notes="Wells score 6. Anticoagulated. Question: outpatient "
        "management reasonable with normal troponin and no RV strain?",
        tags=("chest pain", "VTE"),
        visibility=Case.Visibility.WORKSPACE,
        participants={"ana": CaseParticipant.Role.COLLABORATOR},
    ),
    DemoCase(
        owner="ana",
        title="Weight loss, tremor and palpitations in a young adult",
        specialty="Endocrinology",
        age_band="18–29",
        sex="female",
        presenting_complaint="Six kilograms of weight loss over three months with "
        "palpitations, heat intolerance and a fine tremor.",
        history="Irregular periods. Mother treated for a thyroid problem. "
        "No neck pain, no recent viral illness.",
        examination=(
            "Smooth, non-tender diffuse goitre with a bruit. Lid lag, mild "
            "proptosis. Fine tremor of outstretched hands. HR 112 regular."
        ),
        investigations="TSH suppressed; free T4 and T3 raised. TSH-receptor "
        "antibodies positive. ESR normal.",
        working_notes="Likely Graves' disease. Started a beta-blocker. Thoughts on "
        "carbimazole versus early definitive treatment given the eye signs?",
        tags=("thyroid", "weight loss"),
        resolve_with="Graves' disease with mild thyroid eye disease",
    ),
    DemoCase(
        owner="sam",
        title="Symmetrical small-joint polyarthritis with morning stiffness",
        specialty="Rheumatology",
        age_band="50–59",
        sex="female",
        presenting_complaint="Painful, swollen hands and feet for four months; "
        "stiffness lasts two hours every morning.",
        history="Gradual onset. No rash, no mouth ulcers, no recent infection. "
        "Ex-smoker. Over-the-counter ibuprofen helps a little.",
        examination=(
            "Synovitis of MCP 2–3 and PIP joints bilaterally, positive squeeze test "
            "across the MTP joints. No nodules, no psoriasis."
        ),
        investigations="RF and anti-CCP strongly positive. CRP 38. Hand X-rays: "
        "periarticular osteopenia, no erosions yet.",
        working_notes="Seropositive early RA. Planning methotrexate with a short "
        "bridging steroid course. Any view on baseline imaging of the feet?",
        tags=("arthritis", "autoimmune"),
    ),
    DemoCase(
        owner="ben",
        title="Thunderclap headache during exercise",
        specialty="Neurology",
        age_band="30–39",
        sex="male",
        presenting_complaint="Sudden, worst-ever occipital headache at the peak of "
        "a weight-lifting session, reaching full intensity within a minute.",
        history="Two similar but milder episodes over the previous week. "
        "No neck trauma. Occasional decongestant use.",
        examination="GCS 15, no meningism, no focal neurology. BP 150/95.",
        investigations=(
            "CT head at 4 hours: normal. CT angiography: multifocal segmental "
            "narrowing of the posterior cerebral arteries, no aneurysm."
        ),
        working_notes="Suspect reversible cerebral vasoconstriction syndrome. "
        "Stopped the decongestant; nimodipine considered. Repeat imaging timing?",
        tags=("headache", "vascular"),
    ),
    DemoCase(
        owner="ana",
        title="Recurrent wheeze and a persistent right lower lobe shadow",
        specialty="Paediatrics",
        age_band="1–4",
        sex="male",
        presenting_complaint="Three chest infections in six months, each with "
        "wheeze on the right, not responding fully to inhalers.",
        history="Thriving otherwise. A choking episode while eating peanuts was "
        "reported a few weeks before the first infection.",
        examination="Reduced air entry and monophonic wheeze over the right base. "
        "No clubbing.",
        investigations="Chest X-ray: persistent right lower lobe collapse with "
        "hyperinflation on expiratory film.",
        working_notes="Foreign body aspiration until proven otherwise. Referred "
        "for rigid bronchoscopy.",
        tags=("wheeze", "foreign body"),
        resolve_with="Inhaled peanut fragment in the right main bronchus, removed",
    ),
    DemoCase(
        owner="sam",
        title="Painless progressive visual loss in one eye",
        specialty="Ophthalmology",
        age_band="60–69",
        sex="male",
        presenting_complaint="Gradual blurring of central vision in the left eye "
        "over three weeks; straight lines look wavy.",
        history="Type 2 diabetes for many years. Hypertension. Smoker.",
        examination="Visual acuity 6/24 left, 6/9 right. Amsler grid distortion "
        "on the left. Fundus: drusen and a grey-green subretinal lesion.",
        investigations="OCT: subretinal fluid with a choroidal neovascular membrane.",
        working_notes="Neovascular AMD versus diabetic maculopathy: OCT favours "
        "the former. Anti-VEGF started.",
        tags=("vision", "retina"),
        visibility=Case.Visibility.WORKSPACE,
    ),
    DemoCase(
        owner="ana",
        title="Confusion and hyponatraemia on a new antidepressant",
        specialty="Geriatrics",
        age_band="80–89",
        sex="female",
        presenting_complaint="Three days of increasing confusion and unsteadiness "
        "after starting an SSRI for low mood.",
        history="Also takes a thiazide diuretic. Eating and drinking normally.",
        examination="Clinically euvolaemic. Disorientated in time, no focal signs.",
        investigations="Sodium 118; serum osmolality low, urine osmolality and "
        "urine sodium inappropriately high. TSH and cortisol normal.",
        working_notes="Drug-induced SIADH, made worse by the thiazide. Both "
        "stopped, fluid restriction. How fast would you correct?",
        tags=("hyponatraemia", "polypharmacy"),
    ),
    DemoCase(
        owner="ana",
        title="Intermittent claudication in a young smoker",
        specialty="Vascular Surgery",
        age_band="30–39",
        sex="male",
        presenting_complaint="Calf pain after walking one hundred metres, "
        "relieved by rest.",
        history="Heavy smoker. Cold fingers in winter.",
        examination="Absent foot pulses on both sides; a healing ulcer on the "
        "tip of the left index finger.",
        investigations="Ankle-brachial index 0.6 on both sides. Lipids and HbA1c "
        "normal.",
        working_notes="Thinking of thromboangiitis obliterans; asked "
        "rheumatology whether to screen for a vasculitis first.",
        tags=("claudication",),
        visibility=Case.Visibility.PRIVATE,
    ),
    DemoCase(
        owner="ana",
        title="Recurrent dizziness on standing in a marathon runner",
        specialty="Cardiology",
        age_band="18–29",
        sex="female",
        presenting_complaint="Light-headed within a minute of standing, twice "
        "close to fainting.",
        history="Runs forty miles a week. No palpitations with the episodes.",
        examination="",
        investigations="",
        working_notes="Postural tachycardia or simple deconditioning after a "
        "virus? Still writing up.",
        tags=("syncope",),
        visibility=Case.Visibility.PRIVATE,
        publish=False,
    ),
]


def _seed_case(demo: Demo, spec: DemoCase, specialties: dict[str, Specialty]) -> Case:
    owner = demo.users[spec.owner]
    existing = Case.objects.filter(owner=owner, title=spec.title).first()
    if existing is not None:
        return existing
    case = case_create(
        owner=owner,
        title=spec.title,
        specialty=specialties.get(spec.specialty),
        age_band=spec.age_band,
        sex=spec.sex,
        presenting_complaint=spec.presenting_complaint,
        history=spec.history,
        examination=spec.examination,
        investigations=spec.investigations,
        working_notes=spec.working_notes,
        tags=spec.tags,
        visibility=spec.visibility,
        workspace=demo.workspace,
    )
    for username, role in spec.participants.items():
        participant_invite(case=case, by=owner, invitee=demo.users[username], role=role)
    if spec.publish:
        case = case_publish(case=case, by=owner, attestation=DEFAULT_ATTESTATION)
    return case


def seed(demo: Demo) -> None:
    specialties = {s.name: s for s in Specialty.objects.all()}
    cases = [_seed_case(demo, spec, specialties) for spec in CASES]
    demo.objects["cases"] = cases
    demo.objects["case"] = cases[0]
