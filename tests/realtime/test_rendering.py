"""Message bodies render to inert HTML; mentions are linked only in text."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from cases.phi import finding_key, scan_fields
from realtime.rendering import (
    MAX_BRACKET_COST,
    MAX_WORD_COST,
    link_mentions,
    mention_candidates,
    render_body,
    render_cost,
)
from realtime.services import message_post, thread_default
from workspace.markdown import ALLOWED_TAGS

XSS_VECTORS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<svg/onload=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=//evil.example></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "``<script>alert(1)</script>``",
    '"><script>alert(1)</script>',
    "<<script>script>alert(1)<</script>/script>",
    '[a](http://x.org "title" onmouseover=alert(1))',
    "@<script>alert(1)</script>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "x" * 800 + "<script>alert(1)</script>",  # the plain-text fallback path
]


class _Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))


def assert_inert(html: str) -> None:
    for tag, attrs in _Elements(html).elements:
        assert tag in ALLOWED_TAGS | {"span"}, (tag, html)
        for name, value in attrs.items():
            assert not name.startswith("on"), (name, html)
            assert name in {"href", "title", "rel", "target", "class", "data-user-id"}
            if name == "href":
                scheme = value.split(":", 1)[0].lower() if ":" in value else ""
                assert scheme in {"", "http", "https", "mailto"}, (value, html)
            if name == "class" and tag == "span":
                assert value == "mention"


@pytest.mark.parametrize("body", XSS_VECTORS)
def test_xss_vectors_render_inert(body):
    assert_inert(render_body(body))


@pytest.mark.parametrize("body", XSS_VECTORS)
def test_xss_vectors_in_stored_messages_render_inert(discussion, body):
    thread = thread_default(case=discussion.case)
    text = body + "\n\n@colin"
    message = message_post(
        case=discussion.case,
        thread=thread,
        by=discussion.owner,
        body=text,
        client_id=f"xss-{XSS_VECTORS.index(body)}",
        # Some vectors hold a URL the PHI gate flags; the author lets it by.
        phi_dismissed=[finding_key(f) for f in scan_fields({"body": text})],
    ).message
    assert 'class="mention"' in message.body_html
    assert_inert(message.body_html)


def test_raw_html_shows_as_typed_text():
    assert render_body("<b>bold</b>") == "<p>&lt;b&gt;bold&lt;/b&gt;</p>"


def test_mentions_are_found_in_text_but_not_in_code_links_or_emails():
    html = render_body(
        "Hi @ana_b, @ben. See `@carl` and [@dora](https://x.org) or mail eve@example.org"
    )
    assert mention_candidates(html) == ["ana_b", "ben"]


def test_link_mentions_wraps_only_resolved_names():
    html = render_body("@ana and @ghost")
    linked = link_mentions(html, lambda name: 7 if name == "ana" else None)
    assert linked == (
        '<p><span class="mention" data-user-id="7">@ana</span> and @ghost</p>'
    )


def test_a_pathological_body_is_shown_as_plain_text():
    """A word long enough to make the linkifier crawl falls back to plain text."""
    body = "a.-" * 300 + "\n**not bold** <b>"
    words, _brackets = render_cost(body)
    assert words > MAX_WORD_COST
    html = render_body(body)
    assert html.startswith("<p>a.-a.-")
    assert "<br>\n**not bold** &lt;b&gt;</p>" in html


def test_unclosed_brackets_count_towards_the_bracket_budget():
    assert render_cost("[a] [b]")[1] == 4
    assert render_cost("[" * 1000)[1] > MAX_BRACKET_COST
    assert render_body("[" * 1000) == "<p>" + "[" * 1000 + "</p>"


def test_ordinary_long_messages_stay_markdown():
    body = ("The patient, a 45-year-old, [see](https://example.org) presented. " * 140)[
        :10_000
    ]
    words, brackets = render_cost(body)
    assert words < MAX_WORD_COST and brackets < MAX_BRACKET_COST
    assert '<a href="https://example.org"' in render_body(body)
