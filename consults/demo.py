"""Demo consults for ``seed_demo`` (after ``diagnoses.demo``).

Everything goes through the real services, so the consult timelines, the
notifications and the audit trail look as they would after real use.
Consults end up in every state: requested, accepted (one of them overdue),
answered, closed, declined and cancelled. Safe to run twice: a case that
already has consults is left alone.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from consults import services as consult_services
from consults.models import ConsultRequest
from diagnoses import services as dx
from diagnoses.demo import demo_case
from workspace.demo import Demo
from workspace.models import Specialty

__all__ = ["seed"]


def _consults(demo: Demo) -> None:
    users = demo.users
    rheumatology = Specialty.objects.filter(name="Rheumatology").first()
    dermatology = Specialty.objects.filter(name="Dermatology").first()

    headache = demo_case(demo, "Thunderclap headache during exercise")
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

    chest = demo_case(demo, "Pleuritic chest pain two weeks after a long-haul flight")
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

    claudication = demo_case(demo, "Intermittent claudication in a young smoker")
    if claudication is not None and not claudication.consults.exists() and rheumatology:
        # Waiting in the rheumatologists' queue (sam's).
        consult_services.consult_request(
            case=claudication,
            by=users["ana"],
            specialty=rheumatology,
            question="Cold fingers and claudication in a heavy smoker: would you "
            "screen for a vasculitis before calling it Buerger's disease?",
        )

    thyroid = demo_case(demo, "Weight loss, tremor and palpitations in a young adult")
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

    joints = demo_case(
        demo, "Symmetrical small-joint polyarthritis with morning stiffness"
    )
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
    """Add consults to the demo cases."""
    if not all(name in demo.users for name in ("ana", "ben", "sam")):
        return
    _consults(demo)
