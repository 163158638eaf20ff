"""The scanner against corpora written without reading it (phi_corpus_heldout*).

Each identifier's text must be covered by one finding (recall per kind at
least 95%), and no negative sentence may raise any finding.
"""

from __future__ import annotations

from collections import Counter

import pytest

from cases.phi import scan_text
from tests.cases.phi_scoring import covered, heldout_corpus

# Every batch: the first, then two more, each written after a round of fixes.
SNIPPETS, NEGATIVES = heldout_corpus()
IDENTIFIERS = [(s.text, s.expected) for s in SNIPPETS]

RECALL_FLOOR = 0.95


def _by_kind() -> dict[str, list[tuple[str, str]]]:
    cases: dict[str, list[tuple[str, str]]] = {}
    for text, expected in IDENTIFIERS:
        for kind, exact in expected:
            cases.setdefault(kind, []).append((text, exact))
    return cases


def test_corpus_is_big_and_every_expected_text_is_in_its_sentence():
    identifiers = [pair for _, expected in IDENTIFIERS for pair in expected]
    assert len(identifiers) >= 200
    assert len(NEGATIVES) >= 200
    for text, expected in IDENTIFIERS:
        for _, exact in expected:
            assert exact in text, (exact, text)
    kinds = Counter(kind for kind, _ in identifiers)
    assert {"name", "location", "institution", "employer", "handle", "email"} <= set(
        kinds
    )


@pytest.mark.parametrize("kind", sorted(_by_kind()))
def test_recall_per_kind(kind):
    cases = _by_kind()[kind]
    missed = [(exact, text) for text, exact in cases if not covered(text, exact)]
    assert 1 - len(missed) / len(cases) >= RECALL_FLOOR, missed


@pytest.mark.parametrize("text", NEGATIVES, ids=lambda t: t[:50])
def test_negative_raises_no_finding(text):
    assert scan_text(text) == []


@pytest.mark.parametrize("text", NEGATIVES, ids=lambda t: t[:50])
def test_negative_in_lower_case_raises_no_finding(text):
    # How some people text: the same sentence with no capital letters.
    assert scan_text(text.lower()) == []
