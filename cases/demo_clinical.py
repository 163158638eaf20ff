"""Demo differentials, votes and consults for ``seed_demo`` (after ``cases.demo``).

Everything goes through the real services, so the ranking history, the
consult timelines, the notifications and the audit trail look as they would
after real use. Consults end up in every state: requested, accepted (one of
them overdue), answered, closed, declined and cancelled. Safe to run twice: a
case that already has differentials or consults is left alone.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from workspace.demo import Demo
from workspace.models import Specialty

from .models import Case, ConsultRequest, Differential
from .services import consults as consult_services
from .services import differentials as dx

__all__ = ["seed"]


def _case(demo: Demo, title: str) -> Case | None:
    for case in demo.objects.get("cases", []):
        if case.title == title:
            return case
    return Case.objects.filter(title=title).first()


def _entries(
    case: Case, rows: list[tuple[str, str, str, str, dict[str, int]]], demo: Demo
) -> dict[str, Differential]:
    """Add (proposer, label, code, rationale, {voter: likelihood}) rows."""
    made = {}
    for proposer, label, code, rationale, votes in rows:
        by = demo.users[proposer]
        entry = dx.differential_add(
            case=case,
            by=by,
            label=label,
            icd10_code=code,
            rationale=rationale,
            likelihood=votes.get(proposer),
        )
        for voter, likelihood in votes.items():
            if voter != proposer:
                dx.differential_vote(
                    differential=entry, by=demo.users[voter], likelihood=likelihood
                )
        made[label] = entry
    return made


def _differentials(demo: Demo) -> None:
    rash = _case(demo, "Expanding annular rash after a camping trip")
    if rash is not None and not rash.differentials.exists():
        made = _entries(
            rash,
            [
                (
                    "sam",
                    "Erythema migrans (early localised Lyme disease)",
                    "A69.2",
                    "Expanding annular erythema with central clearing after a "
                    "tick bite in woodland.",
                    {"sam": 85, "ben": 75},
                ),
                (
                    "ben",
                    "Tinea corporis",
                    "B35.4",
                    "Annular, but expected scale at the edge.",
                    {"ben": 20, "sam": 10},
                ),
                (
                    "sam",
                    "Granuloma annulare",
                    "L92.0",
                    "Annular, but usually smaller and not expanding this fast.",
                    {"sam": 10, "ben": 5},
                ),
            ],
            demo,
        )
        dx.differential_rule_out(
            differential=made["Tinea corporis"],
            by=demo.users["sam"],
            reason="No scale; skin scraping negative for fungi.",
        )
        dx.differential_confirm(
            differential=made["Erythema migrans (early localised Lyme disease)"],
            by=demo.users["sam"],
            note="Convalescent serology positive.",
        )

    chest = _case(demo, "Pleuritic chest pain two weeks after a long-haul flight")
    if chest is not None and not chest.differentials.exists():
        made = _entries(
            chest,
            [
                (
                    "ben",
                    "Pulmonary embolism",
                    "I26.9",
                    "Long-haul flight, calf swelling, hypoxia, CTPA filling defects.",
                    {"ben": 85, "ana": 95},
                ),
                (
                    "ana",
                    "Community-acquired pneumonia",
                    "J18.9",
                    "Pleuritic pain and tachycardia, but afebrile with a clear chest.",
                    {"ana": 10, "ben": 20},
                ),
                (
                    "ben",
                    "Acute pericarditis",
                    "I30.9",
                    "Pleuritic pain, but no rub and no ECG changes of pericarditis.",
                    {"ben": 10},
                ),
                (
                    "ana",
                    "Musculoskeletal chest wall pain",
                    "",
                    "Diagnosis of exclusion here.",
                    {"ana": 5},
                ),
            ],
            demo,
        )
        dx.differential_rule_out(
            differential=made["Acute pericarditis"],
            by=demo.users["ben"],
            reason="ECG shows S1Q3T3 without saddle ST elevation.",
        )
        dx.differential_vote(
            differential=made["Pulmonary embolism"],
            by=demo.users["ben"],
            likelihood=95,
        )

    joints = _case(demo, "Symmetrical small-joint polyarthritis with morning stiffness")
    if joints is not None and not joints.differentials.exists():
        _entries(
            joints,
            [
                (
                    "sam",
                    "Seropositive rheumatoid arthritis",
                    "M05.9",
                    "Symmetrical small-joint synovitis, RF and anti-CCP positive.",
                    {"sam": 90},
                ),
                (
                    "sam",
                    "Psoriatic arthritis",
                    "L40.5",
                    "No psoriasis or nail changes; serology argues against.",
                    {"sam": 5},
                ),
                ("sam", "Viral polyarthritis", "", "Four months is too long.", {}),
            ],
            demo,
        )


def _consults(demo: Demo) -> None:
    users = demo.users
    rheumatology = Specialty.objects.filter(name="Rheumatology").first()
    dermatology = Specialty.objects.filter(name="Dermatology").first()

    headache = _case(demo, "Thunderclap headache during exercise")
    if headache is not None and not headache.consults.exists() and rheumatology:
        dx.differential_add(
            case=headache,
            by=users["ben"],
            label="Reversible cerebral vasoconstriction syndrome",
            rationale="Recurrent thunderclap headaches on exertion, decongestant, "
            "segmental narrowing.",
            likelihood=80,
        )
        sah = dx.differential_add(
            case=headache,
            by=users["ben"],
            label="Aneurysmal subarachnoid haemorrhage",
            icd10_code="I60.9",
            likelihood=10,
        )
        dx.differential_rule_out(
            differential=sah, by=users["ben"], reason="CT and CT angiography clear."
        )
        # Answered, waiting for the requester to close it.
        answered = consult_services.consult_request(
            case=headache,
            by=users["ben"],
            specialty=rheumatology,
            urgency=ConsultRequest.Urgency.URGENT,
            question="Could this be primary angiitis of the CNS rather than RCVS? "
            "Would you add anything to the work-up?",
        )
        consult_services.consult_accept(consult=answered, by=users["sam"])
        consult_services.consult_answer(
            consult=answered,
            by=users["sam"],
            impression="The thunderclap onset, exertional trigger and decongestant "
            "use favour **RCVS**; primary angiitis usually starts insidiously.",
            recommendations="- Repeat CT angiography in 8–12 weeks; reversal "
            "confirms RCVS\n- Avoid steroids: they can worsen RCVS\n"
            "- LP only if the course is atypical",
            follow_up="Re-consult if the narrowing persists at 12 weeks.",
            suggestions=[
                {
                    "label": "Primary angiitis of the CNS",
                    "icd10_code": "I67.7",
                    "rationale": "Keep on the list until repeat imaging.",
                    "likelihood": 10,
                }
            ],
        )
        # Accepted by a named colleague and now overdue.
        overdue = consult_services.consult_request(
            case=headache,
            by=users["ben"],
            assignee=users["ana"],
            urgency=ConsultRequest.Urgency.EMERGENT,
            question="BP 150/95 persists. Target before the repeat scan?",
        )
        consult_services.consult_accept(consult=overdue, by=users["ana"])
        ConsultRequest.objects.filter(pk=overdue.pk).update(
            due_at=timezone.now() - timedelta(minutes=20)
        )

    chest = _case(demo, "Pleuritic chest pain two weeks after a long-haul flight")
    if chest is not None and not chest.consults.exists():
        closed = consult_services.consult_request(
            case=chest,
            by=users["ben"],
            assignee=users["ana"],
            question="Outpatient anticoagulation reasonable with a normal "
            "troponin and no RV strain?",
        )
        consult_services.consult_accept(consult=closed, by=users["ana"])
        consult_services.consult_answer(
            consult=closed,
            by=users["ana"],
            impression="Low-risk PE (sPESI 0): outpatient treatment is reasonable.",
            recommendations="A DOAC for at least three months; safety-net advice.",
            follow_up="Clinic review at three months to decide on duration.",
        )
        consult_services.consult_close(consult=closed, by=users["ben"])

    claudication = _case(demo, "Intermittent claudication in a young smoker")
    if claudication is not None and not claudication.consults.exists() and rheumatology:
        # Waiting in the rheumatologists' queue (sam's).
        consult_services.consult_request(
            case=claudication,
            by=users["ana"],
            specialty=rheumatology,
            question="Cold fingers and claudication in a heavy smoker: would you "
            "screen for a vasculitis before calling it Buerger's disease?",
        )

    thyroid = _case(demo, "Weight loss, tremor and palpitations in a young adult")
    if thyroid is not None and not thyroid.consults.exists() and dermatology:
        declined = consult_services.consult_request(
            case=thyroid,
            by=users["ana"],
            specialty=dermatology,
            question="Any skin signs worth looking for alongside the eye disease?",
        )
        consult_services.consult_decline(
            consult=declined,
            by=users["sam"],
            reason="Nothing dermatological to add yet; re-consult if pretibial "
            "changes appear.",
        )

    joints = _case(demo, "Symmetrical small-joint polyarthritis with morning stiffness")
    if joints is not None and not joints.consults.exists():
        cancelled = consult_services.consult_request(
            case=joints,
            by=users["sam"],
            assignee=users["ana"],
            question="Baseline chest imaging before methotrexate?",
        )
        consult_services.consult_cancel(
            consult=cancelled, by=users["sam"], reason="Sorted in clinic."
        )


def seed(demo: Demo) -> None:
    """Add the clinical layer to the demo cases (see the module docstring)."""
    if not all(name in demo.users for name in ("ana", "ben", "sam")):
        return
    _differentials(demo)
    _consults(demo)
