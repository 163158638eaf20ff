"""Measure the PHI scanner against the labelled corpus.

Run: ``.venv/bin/python benchmarks/phi_eval.py [-v]``. Prints, per kind,
identifiers found with the right kind, found with another kind, missed, and
false alarms (findings on text that carries no labelled identifier), then
the scan time for a ~20 kB note. ``-v`` lists every miss and false alarm.
"""

from __future__ import annotations

import sys
import time
import timeit
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cases.phi import KINDS, Finding, scan_text
from tests.cases.phi_corpus import NEGATIVES, POSITIVES


@dataclass
class Result:
    found: Counter = field(default_factory=Counter)
    other_kind: Counter = field(default_factory=Counter)
    missed: Counter = field(default_factory=Counter)
    false_alarms: Counter = field(default_factory=Counter)
    details: list[str] = field(default_factory=list)


def _overlaps(finding: Finding, start: int, end: int) -> bool:
    return finding.start < end and start < finding.end


def evaluate() -> Result:
    result = Result()
    for snippet in POSITIVES:
        findings = scan_text(snippet.text)
        spans = []
        for kind, substring in snippet.expected:
            start = snippet.text.index(substring)
            end = start + len(substring)
            spans.append((start, end))
            hits = [f for f in findings if _overlaps(f, start, end)]
            if any(f.kind == kind for f in hits):
                result.found[kind] += 1
            elif hits:
                result.other_kind[kind] += 1
                result.details.append(
                    f"OTHER KIND {kind}: {substring!r} flagged as "
                    f"{[f.kind for f in hits]} in {snippet.text!r}"
                )
            else:
                result.missed[kind] += 1
                result.details.append(
                    f"MISSED {kind}: {substring!r} in {snippet.text!r}"
                )
        for finding in findings:
            if not any(_overlaps(finding, start, end) for start, end in spans):
                result.false_alarms[finding.kind] += 1
                result.details.append(
                    f"FALSE ALARM {finding.kind}: {finding.text!r} in {snippet.text!r}"
                )
    for text in NEGATIVES:
        for finding in scan_text(text):
            result.false_alarms[finding.kind] += 1
            result.details.append(
                f"FALSE ALARM {finding.kind}: {finding.text!r} in {text!r}"
            )
    return result


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


def main() -> None:
    result = evaluate()
    print(f"{'kind':<14}{'found':>7}{'other':>7}{'missed':>8}{'false':>7}")
    for kind in KINDS:
        print(
            f"{kind:<14}{result.found[kind]:>7}{result.other_kind[kind]:>7}"
            f"{result.missed[kind]:>8}{result.false_alarms[kind]:>7}"
        )
    total = sum(result.found.values()) + sum(result.other_kind.values())
    expected = total + sum(result.missed.values())
    print(
        f"{'total':<14}{sum(result.found.values()):>7}"
        f"{sum(result.other_kind.values()):>7}{sum(result.missed.values()):>8}"
        f"{sum(result.false_alarms.values()):>7}"
    )
    print(
        f"\n{len(POSITIVES)} positive snippets ({expected} identifiers), "
        f"{len(NEGATIVES)} negative snippets"
    )
    print(f"recall (flagged at all): {total / expected:.1%}")
    print(f"recall (right kind):     {sum(result.found.values()) / expected:.1%}")
    print(f"false alarms:            {sum(result.false_alarms.values())}")
    dense = _scan_time_ms([s.text for s in POSITIVES] + NEGATIVES)
    plain = _scan_time_ms(NEGATIVES)
    print(
        f"scan 20 kB, whole corpus (an identifier every ~50 chars): {dense:.1f} ms CPU"
    )
    print(
        f"scan 20 kB, negatives only (ordinary clinical text):      {plain:.1f} ms CPU"
    )
    if "-v" in sys.argv[1:]:
        print()
        print("\n".join(result.details))


if __name__ == "__main__":
    main()
