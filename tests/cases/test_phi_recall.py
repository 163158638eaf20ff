"""The scanner against the lexicon-and-context corpus (phi_corpus_recall).

Per kind, at least the recall floor below of the identifiers is found with
the right kind, and no tricky clinical negative raises any finding.
"""

from __future__ import annotations

import itertools

import pytest

from cases.phi import KINDS, scan_text
from tests.cases.phi_corpus_recall import IDENTIFIERS, NEGATIVES
from tests.cases.phi_scoring import found, recall_corpus, unexpected

SNIPPETS, _ = recall_corpus()

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


def test_corpus_is_big_enough():
    identifiers = sum(len(s.expected) for s in SNIPPETS)

    assert identifiers >= 300
    assert len(NEGATIVES) >= 300
    assert set(RECALL_FLOOR) <= {kind for kind, _, _ in IDENTIFIERS}
    assert set(RECALL_FLOOR) <= set(KINDS)
    for kind, exact, text in IDENTIFIERS:
        assert exact in text, (kind, exact, text)


@pytest.mark.parametrize("kind", sorted(RECALL_FLOOR))
def test_recall_per_kind_meets_its_floor(kind):
    cases = [
        (s.text, k, exact) for s in SNIPPETS for k, exact in s.expected if k == kind
    ]
    missed = [(text, exact) for text, k, exact in cases if not found(text, k, exact)]

    assert len(cases) >= 15
    assert 1 - len(missed) / len(cases) >= RECALL_FLOOR[kind], missed


def test_identifier_sentences_raise_nothing_beyond_their_identifiers():
    false_alarms = [(f.kind, f.text, s.text) for s in SNIPPETS for f in unexpected(s)]

    assert false_alarms == []


@pytest.mark.parametrize("text", NEGATIVES, ids=lambda t: t[:50])
def test_tricky_clinical_negative_raises_no_finding(text):
    assert [(f.kind, f.text) for f in scan_text(text)] == []


# --- how the new kinds merge with the others ----------------------------------


def flagged(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in scan_text(text)]


def test_town_inside_an_institution_name_is_the_institution():
    assert flagged("Transferred from Leeds General Infirmary.") == [
        ("institution", "Leeds General Infirmary")
    ]


def test_workplace_named_after_a_works_at_cue_is_one_employer_finding():
    assert flagged("She works as a nurse at St Mary's Hospital.") == [
        ("employer", "St Mary's Hospital")
    ]


def test_town_on_an_address_line_is_a_place_of_its_own():
    # Removing the street alone would still publish the town.
    assert flagged("Lives at 42 Wallaby Way, Sydney.") == [
        ("address", "42 Wallaby Way"),
        ("location", "Sydney"),
    ]
    assert flagged("15 Elm Grove, Didsbury.") == [
        ("address", "15 Elm Grove"),
        ("location", "Didsbury"),
    ]


def test_profile_url_stays_a_web_address_and_email_local_part_is_no_handle():
    assert flagged("See tiktok.com/@granny_gets_fit") == [
        ("url", "tiktok.com/@granny_gets_fit")
    ]
    assert flagged("Write to granny@example.com") == [("email", "granny@example.com")]


def test_spelt_out_email_is_one_email_finding_not_a_domain():
    assert flagged("Write to mike.b at example.com please.") == [
        ("email", "mike.b at example.com")
    ]


def test_town_that_is_a_common_word_needs_a_cue():
    assert flagged("Reading glasses; seen in Reading.") == []
    assert flagged("Moved from Reading last year.") == [("location", "Reading")]


def test_person_named_hospital_needs_a_cue():
    assert flagged("Henry Ford Hospital referral.") == []
    assert flagged("Transferred to Henry Ford Hospital.") == [
        ("institution", "Henry Ford Hospital")
    ]


def test_new_kinds_have_reason_sentences():
    text = (
        "Lives in Leeds. Works at Tesco. Seen at Riverside Surgery. "
        "Posts as @granny_gets_fit."
    )

    findings = scan_text(text)

    assert {f.kind for f in findings} == {
        "location",
        "employer",
        "institution",
        "handle",
    }
    for finding in findings:
        assert finding.reason[:1].isupper() and finding.reason.endswith(".")


@pytest.mark.parametrize(
    "unit",
    [
        "Eleanor Vantongeren Attended The Clinic From Leeds ",
        "a dot b at c dot ",
        "x[at]y[dot]",
        "@abc @def_1 ",
        "St Mary's Hospital Clinic Surgery ",
        "lives in Leeds, ",
        "Smith, a Jones, a ",
        "pt john pt mary ",
        "is a nurse at The Big Company Ltd ",
        "Kind regards, Kind regards, ",
        "E. F. G. H. ",
    ],
)
def test_repetitive_inputs_scan_with_consistent_offsets(unit):
    text = (unit * (6000 // len(unit) + 1))[:6000]

    findings = scan_text(text)

    assert all(text[f.start : f.end] == f.text for f in findings)
    assert all(a.end <= b.start for a, b in itertools.pairwise(findings))


def test_colleague_mention_is_no_handle_but_a_social_account_is():
    # Discussion messages pass the PHI gate and mention colleagues as @name.
    assert flagged("@colin can you see the rash? Thanks @ana_b.") == []
    assert flagged("Her Instagram is @sunflower_sally.") == [
        ("handle", "@sunflower_sally")
    ]
    assert flagged("Write to @example.org") == []
