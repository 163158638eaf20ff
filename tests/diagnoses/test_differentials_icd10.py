"""ICD-10: code shape, normalisation, the bundled list and its search."""

from __future__ import annotations

import csv

import pytest
from django.core.exceptions import ValidationError

from diagnoses import icd10


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("j189", "J18.9"),
        (" J18.9 ", "J18.9"),
        ("l40", "L40"),
        ("s72001a", "S72.001A"),
        ("C4A.9", "C4A.9"),
        ("u07.1", "U07.1"),
        ("pneumonia", "PNEUMONIA"),
    ],
)
def test_normalise_puts_the_dot_after_the_category(raw, expected):
    assert icd10.normalise_icd10(raw) == expected


@pytest.mark.parametrize("code", ["A00", "J18.9", "L40.0", "S72.001A", "C4A.9", ""])
def test_well_formed_codes_pass(code):
    icd10.validate_icd10(code)


@pytest.mark.parametrize(
    "code", ["J1", "18.9", "J18.", "J18.12345", "J18-9", "JJ8.9", "j18.9"]
)
def test_malformed_codes_fail(code):
    with pytest.raises(ValidationError):
        icd10.validate_icd10(code)


def test_bundled_list_holds_hundreds_of_unique_well_formed_codes():
    with icd10.DATA_FILE.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    codes = [row["code"] for row in rows]
    assert len(codes) >= 300
    assert len(set(codes)) == len(codes)
    assert all(icd10.ICD10_RE.match(code) for code in codes)
    assert all(row["title"].strip() for row in rows)


def test_lookup_finds_a_listed_code_in_any_spelling():
    entry = icd10.lookup("j189")
    assert entry is not None
    assert entry.title == "Pneumonia, unspecified"
    assert icd10.lookup("Z99.99") is None


def test_search_by_code_prefix_comes_first():
    results = icd10.search("L40")
    assert results
    assert all(r.code.startswith("L40") for r in results)


def test_search_by_code_without_the_dot():
    assert [r.code for r in icd10.search("j189")] == ["J18.9"]


def test_search_by_title_words_in_any_order():
    codes = [r.code for r in icd10.search("psoriasis guttate")]
    assert codes == ["L40.4"]


def test_search_by_title_start_ranks_before_words_inside():
    results = icd10.search("pneumonia")
    assert results[0].title.lower().startswith("pneumonia")
    assert any("pneumonia" in r.title.lower() for r in results[1:])


def test_search_needs_two_characters_and_respects_the_limit():
    assert icd10.search("p") == []
    assert len(icd10.search("in", limit=5)) == 5
