"""Demo outcomes, differentials and votes for ``seed_demo`` (after ``cases.demo``).

Everything goes through the real services, so the ranking history and the
audit trail look as they would after real use. Safe to run twice: a case
that already has differentials is left alone.
"""

from __future__ import annotations

from cases.demo import CASES
from cases.models import Case
from diagnoses import services as dx
from diagnoses.models import Differential
from diagnoses.services import case_resolve
from workspace.demo import Demo

__all__ = ["demo_case", "demo_entries", "seed"]


def demo_case(demo: Demo, title: str) -> Case | None:
    """A demo case by title: this run's, or one seeded before."""
    for case in demo.objects.get("cases", []):
        if case.title == title:
            return case
    return Case.objects.filter(title=title).first()


def demo_entries(
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
    rash = demo_case(demo, "Expanding annular rash after a camping trip")
    if rash is not None and not rash.differentials.exists():
        made = demo_entries(
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

    chest = demo_case(demo, "Pleuritic chest pain two weeks after a long-haul flight")
    if chest is not None and not chest.differentials.exists():
        made = demo_entries(
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

    joints = demo_case(
        demo, "Symmetrical small-joint polyarthritis with morning stiffness"
    )
    if joints is not None and not joints.differentials.exists():
        demo_entries(
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


def _resolve(demo: Demo) -> None:
    """Resolve the published demo cases whose story has an outcome."""
    cases = demo.objects.get("cases", [])
    for i, (spec, case) in enumerate(zip(CASES, cases, strict=False)):
        if spec.resolve_with and case.status == Case.Status.PUBLISHED:
            cases[i] = case_resolve(
                case=case, by=case.owner, final_diagnosis=spec.resolve_with
            )
            if getattr(demo.objects.get("case"), "pk", None) == case.pk:
                demo.objects["case"] = cases[i]


def seed(demo: Demo) -> None:
    """Resolve the demo cases that have an outcome, then add differentials
    and votes to them."""
    _resolve(demo)
    if not all(name in demo.users for name in ("ana", "ben", "sam")):
        return
    _differentials(demo)
