"""The scanner against the lexicon-and-context corpus (phi_corpus_recall).

Per kind, at least the recall floor below of the identifiers is found with
the right kind, and no tricky clinical negative raises any finding.
"""

from __future__ import annotations

import pytest

from cases.phi import KINDS, scan_text
from tests.cases.phi_corpus_recall import ALSO, IDENTIFIERS, NEGATIVES

# Share of each kind's identifiers that must be found with the right kind.
RECALL_FLOOR = {
    "name": 0.9,
    "location": 0.9,
    "institution": 0.9,
    "employer": 0.9,
    "handle": 0.9,
    "email": 0.9,
    "date": 0.9,
    "age": 0.9,
}


def _expected(text: str, kind: str, exact: str) -> list[tuple[str, str]]:
    return [(kind, exact), *ALSO.get(text, [])]


def _found(text: str, kind: str, exact: str) -> bool:
    start = text.index(exact)
    end = start + len(exact)
    return any(
        f.kind == kind and f.start < end and start < f.end for f in scan_text(text)
    )


def test_corpus_is_big_enough():
    identifiers = sum(len(_expected(t, k, e)) for k, e, t in IDENTIFIERS)

    assert identifiers >= 300
    assert len(NEGATIVES) >= 300
    assert set(RECALL_FLOOR) <= {kind for kind, _, _ in IDENTIFIERS}
    assert set(RECALL_FLOOR) <= set(KINDS)
    for kind, exact, text in IDENTIFIERS:
        assert exact in text, (kind, exact, text)


@pytest.mark.parametrize("kind", sorted(RECALL_FLOOR))
def test_recall_per_kind_meets_its_floor(kind):
    cases = [
        (text, k, exact)
        for k0, e0, text in IDENTIFIERS
        for k, exact in _expected(text, k0, e0)
        if k == kind
    ]
    missed = [(text, exact) for text, k, exact in cases if not _found(text, k, exact)]

    assert len(cases) >= 15
    assert 1 - len(missed) / len(cases) >= RECALL_FLOOR[kind], missed


def test_identifier_sentences_raise_nothing_beyond_their_identifiers():
    false_alarms = []
    for kind, exact, text in IDENTIFIERS:
        spans = []
        for _, part in _expected(text, kind, exact):
            start = text.index(part)
            spans.append((start, start + len(part)))
        for f in scan_text(text):
            if not any(f.start < end and start < f.end for start, end in spans):
                false_alarms.append((f.kind, f.text, text))

    assert false_alarms == []


@pytest.mark.parametrize("text", NEGATIVES, ids=lambda t: t[:50])
def test_tricky_clinical_negative_raises_no_finding(text):
    assert [(f.kind, f.text) for f in scan_text(text)] == []
