"""Measure the PHI scanner against the labelled corpora.

Run: ``.venv/bin/python benchmarks/phi_eval.py [-v]``. Prints, per kind and
for each corpus (``tests/cases/phi_corpus.py``, the shape-based one, and
``tests/cases/phi_corpus_recall.py``, the lexicon and context one),
identifiers found with the right kind, found with another kind, missed,
recall, and false alarms (findings on text that carries no labelled
identifier); then the import cost and the scan time for a ~20 kB note.
``-v`` lists every miss and false alarm.
"""

from __future__ import annotations

import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_started = time.process_time()
from cases.phi import KINDS, scan_text  # noqa: E402

_IMPORT_SECONDS = time.process_time() - _started

from tests.cases import phi_corpus_heldout  # noqa: E402
from tests.cases.phi_corpus import NEGATIVES, POSITIVES  # noqa: E402
from tests.cases.phi_scoring import (  # noqa: E402
    Result,
    evaluate,
    heldout_corpus,
    recall_corpus,
)


def _scan_time_ms(texts: list[str]) -> float:
    """CPU milliseconds to scan 20 kB made of ``texts`` (best of 5 runs)."""
    note = " ".join(texts)
    note = ((note + " ") * (20_000 // len(note) + 1))[:20_000]
    runs = 10
    best = min(
        timeit.repeat(
            lambda: scan_text(note), number=runs, repeat=5, timer=time.process_time
        )
    )
    return best / runs * 1000


def _table(title: str, result: Result, positives: int, negatives: int) -> None:
    print(f"\n{title}: {positives} positive snippets, {negatives} negative snippets")
    print(f"{'kind':<14}{'found':>7}{'other':>7}{'missed':>8}{'recall':>8}{'false':>7}")
    for kind in KINDS:
        counts = (result.found[kind], result.other_kind[kind], result.missed[kind])
        total = sum(counts)
        if not total and not result.false_alarms[kind]:
            continue
        recall = f"{result.found[kind] / total:.0%}" if total else "-"
        print(
            f"{kind:<14}{counts[0]:>7}{counts[1]:>7}{counts[2]:>8}{recall:>8}"
            f"{result.false_alarms[kind]:>7}"
        )
    found = sum(result.found.values())
    flagged = found + sum(result.other_kind.values())
    expected = flagged + sum(result.missed.values())
    print(
        f"{'total':<14}{found:>7}{sum(result.other_kind.values()):>7}"
        f"{sum(result.missed.values()):>8}{found / expected:>8.0%}"
        f"{sum(result.false_alarms.values()):>7}"
    )
    print(f"recall (flagged at all): {flagged / expected:.1%} of {expected}")
    print(f"recall (right kind):     {found / expected:.1%}")
    print(f"false alarms:            {sum(result.false_alarms.values())}")


def main() -> None:
    result = evaluate(POSITIVES, NEGATIVES)
    _table("phi_corpus", result, len(POSITIVES), len(NEGATIVES))
    recall_positives, recall_negatives = recall_corpus()
    recall_result = evaluate(recall_positives, recall_negatives)
    _table(
        "phi_corpus_recall", recall_result, len(recall_positives), len(recall_negatives)
    )
    heldout_positives, heldout_negatives = heldout_corpus(phi_corpus_heldout)
    heldout_result = evaluate(heldout_positives, heldout_negatives)
    _table(
        "phi_corpus_heldout",
        heldout_result,
        len(heldout_positives),
        len(heldout_negatives),
    )
    print(f"\nimport cases.phi: {_IMPORT_SECONDS * 1000:.0f} ms CPU")
    dense = _scan_time_ms(
        [s.text for s in POSITIVES + recall_positives + heldout_positives]
        + NEGATIVES
        + recall_negatives
        + heldout_negatives
    )
    plain = _scan_time_ms(NEGATIVES + recall_negatives + heldout_negatives)
    print(
        f"scan 20 kB, whole corpus (an identifier every ~50 chars): {dense:.1f} ms CPU"
    )
    print(
        f"scan 20 kB, negatives only (ordinary clinical text):      {plain:.1f} ms CPU"
    )
    if "-v" in sys.argv[1:]:
        print()
        print(
            "\n".join(result.details + recall_result.details + heldout_result.details)
        )


if __name__ == "__main__":
    main()
