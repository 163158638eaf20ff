"""One scorer for the PHI scanner against the labelled corpora, shared by the
recall tests (test_phi, test_phi_recall, test_phi_heldout) and the benchmark
(benchmarks/phi_eval.py): where a labelled identifier stands, which findings
meet it, and the per-kind tally of found, found as another kind, missed and
false alarms."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from types import ModuleType

from cases.phi import Finding, scan_text
from tests.cases import (
    phi_corpus_heldout,
    phi_corpus_heldout_b,
    phi_corpus_heldout_c,
    phi_corpus_recall,
)
from tests.cases.phi_corpus import Snippet

# The first held-out batch, then two more, each written after a round of fixes.
HELDOUT_BATCHES: tuple[ModuleType, ...] = (
    phi_corpus_heldout,
    phi_corpus_heldout_b,
    phi_corpus_heldout_c,
)


def span(text: str, exact: str) -> tuple[int, int]:
    """Where the labelled ``exact`` text first stands in ``text``."""
    start = text.index(exact)
    return start, start + len(exact)


def overlaps(finding: Finding, start: int, end: int) -> bool:
    return finding.start < end and start < finding.end


def covers(finding: Finding, start: int, end: int) -> bool:
    return finding.start <= start and end <= finding.end


def found(text: str, kind: str, exact: str) -> bool:
    """Whether a finding of ``kind`` meets the labelled ``exact`` text."""
    start, end = span(text, exact)
    return any(f.kind == kind and overlaps(f, start, end) for f in scan_text(text))


def covered(text: str, exact: str) -> bool:
    """Whether one finding, of any kind, covers the labelled ``exact`` text."""
    start, end = span(text, exact)
    return any(covers(f, start, end) for f in scan_text(text))


def unexpected(
    snippet: Snippet, findings: list[Finding] | None = None
) -> list[Finding]:
    """The findings on ``snippet`` that meet none of its labelled identifiers."""
    if findings is None:
        findings = scan_text(snippet.text)
    spans = [span(snippet.text, exact) for _, exact in snippet.expected]
    return [
        f for f in findings if not any(overlaps(f, start, end) for start, end in spans)
    ]


def recall_corpus() -> tuple[list[Snippet], list[str]]:
    """The recall corpus as snippets with every identifier each one carries."""
    snippets = [
        Snippet(text, ((kind, expected), *phi_corpus_recall.ALSO.get(text, ())))
        for kind, expected, text in phi_corpus_recall.IDENTIFIERS
    ]
    return snippets, phi_corpus_recall.NEGATIVES


def heldout_corpus(
    *batches: ModuleType,
) -> tuple[list[Snippet], list[str]]:
    """The held-out corpora (written without reading the scanner) as snippets:
    the ``batches`` named, or all of them."""
    batches = batches or HELDOUT_BATCHES
    snippets = [
        Snippet(text, tuple(expected))
        for batch in batches
        for text, expected in batch.IDENTIFIERS
    ]
    return snippets, [text for batch in batches for text in batch.NEGATIVES]


@dataclass
class Result:
    found: Counter = field(default_factory=Counter)
    other_kind: Counter = field(default_factory=Counter)
    missed: Counter = field(default_factory=Counter)
    false_alarms: Counter = field(default_factory=Counter)
    details: list[str] = field(default_factory=list)


def evaluate(positives: list[Snippet], negatives: list[str]) -> Result:
    """Tally, per kind, each labelled identifier and each false alarm."""
    result = Result()
    for snippet in positives:
        findings = scan_text(snippet.text)
        for kind, substring in snippet.expected:
            start, end = span(snippet.text, substring)
            hits = [f for f in findings if overlaps(f, start, end)]
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
        for finding in unexpected(snippet, findings):
            result.false_alarms[finding.kind] += 1
            result.details.append(
                f"FALSE ALARM {finding.kind}: {finding.text!r} in {snippet.text!r}"
            )
    for text in negatives:
        for finding in scan_text(text):
            result.false_alarms[finding.kind] += 1
            result.details.append(
                f"FALSE ALARM {finding.kind}: {finding.text!r} in {text!r}"
            )
    return result
