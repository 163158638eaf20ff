"""Full-text search over cases, on PostgreSQL and (as a fallback) SQLite.

On PostgreSQL, :func:`cases_search` matches ``websearch_to_tsquery`` against a
weighted ``tsvector`` of the title (A), presenting complaint and final
diagnosis (B), history, examination and investigations (C) and working notes
(D), and orders by ``ts_rank``. Migration ``0003_case_search_index`` builds a
GIN index on exactly the expression :func:`case_search_vector` returns, so the
match is an index scan; keep the two in step (a PostgreSQL test checks the
plan uses the index).

On SQLite every word of the query must appear (case-insensitively, as a
substring) in at least one searched field; title matches rank first. There is
no stemming there: "fractures" does not find "fracture".
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import (
    CombinedSearchVector,
    SearchQuery,
    SearchRank,
    SearchVector,
)
from django.db import connections, models
from django.db.models import F, Q, QuerySet, Value, When

from cases.models import Case

__all__ = [
    "SEARCH_CONFIG",
    "SEARCH_FIELDS",
    "case_search_vector",
    "cases_search",
]

SEARCH_CONFIG = "english"
# (weight, fields), most important first.
SEARCH_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("A", ("title",)),
    ("B", ("presenting_complaint", "final_diagnosis")),
    ("C", ("history", "examination", "investigations")),
    ("D", ("working_notes",)),
)
MAX_TERMS = 8
# Ties: newest published first, drafts (no publication date) after them.
_NEWEST = (F("published_at").desc(nulls_last=True), "-updated", "-pk")
_TERM = re.compile(r"[\w'’+-]+")


def case_search_vector() -> SearchVector | CombinedSearchVector:
    """The weighted document the GIN index is built on (see module docstring)."""
    vector = None
    for weight, fields in SEARCH_FIELDS:
        part = SearchVector(*fields, weight=weight, config=SEARCH_CONFIG)
        vector = part if vector is None else vector + part
    assert vector is not None
    return vector


def _terms(text: str) -> list[str]:
    return _TERM.findall(text)[:MAX_TERMS]


def cases_search(queryset: QuerySet[Case], text: str) -> QuerySet[Case]:
    """``queryset`` narrowed to cases matching ``text``, best matches first.

    Blank text returns ``queryset`` unchanged. The result is ordered by
    relevance, newest first among equals.
    """
    text = (text or "").strip()[:200]
    if not text:
        return queryset
    if connections[queryset.db].vendor == "postgresql":
        query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        vector = case_search_vector()
        return (
            queryset.annotate(search=vector)
            .filter(search=query)
            .annotate(rank=SearchRank(vector, query))
            .order_by("-rank", *_NEWEST)
        )
    terms = _terms(text)
    if not terms:
        return queryset.none()
    fields = [name for _, names in SEARCH_FIELDS for name in names]
    for term in terms:
        any_field = Q()
        for name in fields:
            any_field |= Q(**{f"{name}__icontains": term})
        queryset = queryset.filter(any_field)
    in_title = Q()
    for term in terms:
        in_title &= Q(title__icontains=term)
    title_first = models.Case(
        When(in_title, then=Value(1)),
        default=Value(0),
        output_field=models.IntegerField(),
    )
    return queryset.annotate(rank=title_first).order_by("-rank", "-published_at", "-pk")
