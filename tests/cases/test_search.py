"""Feeds, filters, full-text search and pagination of the case list.

These run on SQLite here and on PostgreSQL in CI's scale run: the searches
use whole words that both the fallback and PostgreSQL's English stemmer find.
"""

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseParticipant, Tag
from cases.search import cases_search
from cases.selectors import Feed, cases_feed, cases_filter, cases_visible_to
from workspace.models import Specialty

pytestmark = pytest.mark.django_db

PUBLISHED = Case.Status.PUBLISHED
COMMUNITY = Case.Visibility.COMMUNITY


def _titles(response) -> list[str]:
    return [case.title for case in response.context["page"].object_list]


def _specialty(name: str) -> Specialty:
    return Specialty.objects.get(name=name)


def _tag(name: str) -> Tag:
    tag, _ = Tag.objects.get_or_create(name=name)
    return tag


@pytest.fixture
def library(cast):
    """A few published cases with distinct words, specialties, tags and bands."""
    now = timezone.now()
    rash = cast.case(
        title="Annular rash after hiking",
        presenting_complaint="Expanding red ring.",
        history="Tick bite in woodland; target lesion on the thigh.",
        specialty=_specialty("Dermatology"),
        age_band="30–39",
        published_at=now - timezone.timedelta(days=3),
    )
    rash.tags.set([_tag("rash"), _tag("travel")])
    chest = cast.case(
        title="Pleuritic chest pain after a flight",
        presenting_complaint="Sharp pain on breathing in.",
        history="Calf swelling; suspected pulmonary embolism.",
        specialty=_specialty("Emergency Medicine"),
        age_band="40–49",
        published_at=now - timezone.timedelta(days=2),
    )
    chest.tags.set([_tag("VTE")])
    thyroid = cast.case(
        title="Tremor and weight loss",
        presenting_complaint="Palpitations.",
        working_notes="Suppressed TSH; thinking of thyroid storm. A rash too.",
        specialty=_specialty("Endocrinology"),
        age_band="30–39",
        status=Case.Status.RESOLVED,
        published_at=now - timezone.timedelta(days=1),
    )
    hidden = cast.case(
        title="Private rash case",
        presenting_complaint="Itchy.",
        history="Rash and woodland tick bite as well.",
        visibility=Case.Visibility.PRIVATE,
    )
    return {"rash": rash, "chest": chest, "thyroid": thyroid, "hidden": hidden}


def test_search_matches_words_in_title_and_text(cast, library, client_for):
    client = client_for(cast.outsider)

    by_history = client.get(reverse("case_list"), {"q": "woodland"})
    by_title = client.get(reverse("case_list"), {"q": "tremor"})
    by_notes = client.get(reverse("case_list"), {"q": "thyroid"})
    two_words = client.get(reverse("case_list"), {"q": "calf embolism"})
    nothing = client.get(reverse("case_list"), {"q": "sarcoidosis"})

    assert _titles(by_history) == ["Annular rash after hiking"]
    assert _titles(by_title) == ["Tremor and weight loss"]
    assert _titles(by_notes) == ["Tremor and weight loss"]
    assert _titles(two_words) == ["Pleuritic chest pain after a flight"]
    assert _titles(nothing) == []
    assert "No cases match these filters" in nothing.content.decode()


def test_search_ranks_title_matches_first_and_never_leaks_hidden_cases(cast, library):
    results = list(cases_search(cases_visible_to(cast.outsider), "rash"))

    assert [c.title for c in results] == [
        "Annular rash after hiking",
        "Tremor and weight loss",
    ]
    owner_sees = {c.title for c in cases_search(cases_visible_to(cast.owner), "rash")}
    assert "Private rash case" in owner_sees


def test_blank_or_punctuation_search_is_harmless(cast, library):
    visible = cases_visible_to(cast.outsider)

    assert cases_search(visible, "   ").count() == visible.count()
    assert list(cases_search(visible, "%_'\";--")) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"specialty": "dermatology"}, ["Annular rash after hiking"]),
        ({"tag": "vte"}, ["Pleuritic chest pain after a flight"]),
        ({"tag": "VTE"}, ["Pleuritic chest pain after a flight"]),
        ({"status": "resolved"}, ["Tremor and weight loss"]),
        (
            {"age_band": "30–39"},
            ["Tremor and weight loss", "Annular rash after hiking"],
        ),
        (
            {"age_band": "30–39", "q": "rash", "tag": "travel"},
            ["Annular rash after hiking"],
        ),
        ({"tag": "no-such-tag"}, []),
    ],
)
def test_filters(cast, library, client_for, params, expected):
    response = client_for(cast.outsider).get(reverse("case_list"), params)

    assert _titles(response) == expected


def test_bad_filter_values_are_reported_and_ignored(cast, library, client_for):
    response = client_for(cast.outsider).get(
        reverse("case_list"), {"status": "deleted", "specialty": "astrology"}
    )

    assert response.status_code == 200
    assert len(_titles(response)) == 3
    assert "Select a valid choice" in response.content.decode()


def test_feeds(cast, library, make_case, make_workspace):
    now = timezone.now()
    other_ws = make_workspace(members={cast.member: "member"})
    mine = make_case(cast.member, title="Member's own draft")
    shared = make_case(
        cast.outsider,
        title="Outsider's draft shared with member",
        participants={cast.member: CaseParticipant.Role.VIEWER},
    )
    in_workspace = cast.case(
        title="Ward case", visibility=Case.Visibility.WORKSPACE, published_at=now
    )
    foreign_ws = make_case(
        cast.outsider,
        title="Other ward",
        visibility=Case.Visibility.WORKSPACE,
        workspace=make_workspace(),
        status=PUBLISHED,
        published_at=now,
    )
    archived = cast.case(title="Old archived", status=Case.Status.ARCHIVED)
    assert other_ws and foreign_ws and archived

    def feed(name):
        return set(
            cases_filter(cases_feed(cast.member, name)).values_list("title", flat=True)
        )

    assert feed(Feed.MINE) == {mine.title}
    assert feed(Feed.SHARED) == {shared.title}
    assert feed(Feed.WORKSPACE) == {in_workspace.title}
    assert feed(Feed.COMMUNITY) == {
        library["rash"].title,
        library["chest"].title,
        library["thyroid"].title,
    }
    assert feed(Feed.ALL) == (
        feed(Feed.MINE)
        | feed(Feed.SHARED)
        | feed(Feed.WORKSPACE)
        | feed(Feed.COMMUNITY)
    )


def test_archived_cases_show_only_when_asked_for(cast, client_for):
    cast.case(title="Old archived", status=Case.Status.ARCHIVED)
    client = client_for(cast.owner)

    assert _titles(client.get(reverse("case_list"))) == []
    archived = client.get(reverse("case_list"), {"status": "archived"})
    assert _titles(archived) == ["Old archived"]


def test_list_paginates_and_keeps_filters_in_page_links(cast, client_for):
    for i in range(23):
        cast.case(title=f"Rash case {i:02d}", published_at=timezone.now())
    client = client_for(cast.outsider)

    first = client.get(reverse("case_list"), {"q": "rash", "feed": "community"})
    second = client.get(
        reverse("case_list"), {"q": "rash", "feed": "community", "page": 2}
    )
    beyond = client.get(reverse("case_list"), {"page": 99})

    assert len(_titles(first)) == 20
    assert len(_titles(second)) == 3
    assert not set(_titles(first)) & set(_titles(second))
    assert "q=rash&amp;feed=community&amp;page=2" in first.content.decode()
    assert beyond.context["page"].number == 2


def _seed(cast, count: int) -> None:
    tags = [_tag("rash"), _tag("travel")]
    for i in range(count):
        case = cast.case(
            title=f"Rash case {i}",
            history="woodland rash",
            published_at=timezone.now(),
        )
        case.tags.set(tags)


@pytest.mark.parametrize(
    "params", [{}, {"q": "rash"}, {"tag": "rash", "specialty": "dermatology"}]
)
def test_list_query_count_is_constant(
    cast, client_for, django_assert_max_num_queries, params
):
    client = client_for(cast.member)
    _seed(cast, 5)
    client.get(reverse("case_list"), params)  # warm the session
    with django_assert_max_num_queries(12) as five:
        small = client.get(reverse("case_list"), params)
    _seed(cast, 45)
    with django_assert_max_num_queries(len(five.captured_queries)):
        large = client.get(reverse("case_list"), params)

    assert len(_titles(small)) == 5
    assert len(_titles(large)) == 20


def test_dashboard_query_count_is_constant(
    cast, client_for, django_assert_max_num_queries
):
    client = client_for(cast.collaborator)
    _seed(cast, 5)
    client.get("/")
    with django_assert_max_num_queries(20) as five:
        client.get("/")
    _seed(cast, 45)
    with django_assert_max_num_queries(len(five.captured_queries)):
        response = client.get("/")

    assert len(response.context["dash"].recent_activity) == 6


def test_postgres_stems_words(requires_postgres, cast, library):
    results = cases_search(cases_visible_to(cast.outsider), "hikes")

    assert [c.title for c in results] == ["Annular rash after hiking"]


def test_postgres_search_uses_the_gin_index(requires_postgres, cast, library):
    queryset = cases_search(Case.objects.all(), "woodland")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            plan = queryset.explain()
        finally:
            cursor.execute("SET enable_seqscan = on")

    assert "case_search" in plan
