"""The scanner never fails on text a clinician might type.

The gate runs on every text others see, so an exception in a detector is a
500 on posting and a message lost. Every corpus sentence, in every case a
keyboard produces (caps lock included), alone, joined to another and cut
short at random points, scans without raising and with findings that are
sorted, never overlap and quote the text they cover.
"""

from __future__ import annotations

import random

import pytest

from cases.phi import scan_text
from tests.cases import phi_corpus, phi_corpus_heldout, phi_corpus_recall

SENTENCES = sorted(
    {
        *(s.text for s in phi_corpus.POSITIVES),
        *phi_corpus.NEGATIVES,
        *(text for text, _ in phi_corpus_heldout.IDENTIFIERS),
        *phi_corpus_heldout.NEGATIVES,
        *(text for *_, text in phi_corpus_recall.IDENTIFIERS),
        *phi_corpus_recall.NEGATIVES,
    }
)
CASINGS = {
    "as typed": str,
    "caps lock": str.upper,
    "lower": str.lower,
    "title": str.title,
}


def _assert_well_formed(text: str) -> None:
    findings = scan_text(text)
    end = 0
    for finding in findings:
        assert end <= finding.start < finding.end <= len(text), (text, finding)
        assert text[finding.start : finding.end] == finding.text
        end = finding.end


def test_the_capitals_that_once_crashed_the_venue_detector_scan():
    text = "ATTENDS ENFIELD MEDICAL CENTRE FOR HER WARFARIN CHECKS.\nATTENDS HCENTRE"
    _assert_well_formed(text)


@pytest.mark.parametrize("casing", CASINGS)
def test_every_corpus_sentence_scans_in_every_casing(casing):
    assert len(SENTENCES) > 300
    for sentence in SENTENCES:
        _assert_well_formed(CASINGS[casing](sentence))


@pytest.mark.parametrize("casing", CASINGS)
def test_joined_and_truncated_sentences_scan(casing):
    rng = random.Random(f"phi-robustness-{casing}")
    change = CASINGS[casing]
    for _ in range(600):
        first, second = rng.sample(SENTENCES, 2)
        joined = change(first + rng.choice(["\n", " ", ". ", ", "]) + second)
        _assert_well_formed(joined)
        _assert_well_formed(joined[: rng.randrange(1, len(joined) + 1)])
        _assert_well_formed(joined[rng.randrange(len(joined)) :])
