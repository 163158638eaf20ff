"""Markdown rendering: normal markdown renders, hostile input renders inert."""

from __future__ import annotations

import io
import json
import random
import re
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

from workspace.markdown import (
    ALLOWED_TAGS,
    INLINE_TAGS,
    LINK_REL,
    MAX_BRACKET_DEPTH,
    MAX_CONTAINER_DEPTH,
    _guard,
    prerendered,
    render_inline,
    render_markdown,
)

SAFE_SCHEMES = {"http", "https", "mailto"}


class _Collector(HTMLParser):
    """Parses output the way a browser would decode it (entities included)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


def _links(html: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs in _parse(html).tags if tag == "a"]


def _scheme(url: str) -> str | None:
    # Browsers drop ASCII whitespace and control characters before reading a
    # scheme, so "java\tscript:" is still javascript: to them. Dropping all of
    # them (not just tabs and newlines) errs on the side of calling it a scheme.
    cleaned = "".join(ch for ch in url if ord(ch) > 0x20 and ord(ch) != 0x7F)
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", cleaned)
    return match.group(1).lower() if match else None


def assert_inert(html: str, allowed_tags: frozenset[str] | set[str]) -> None:
    parsed = _parse(html)
    for tag, attrs in parsed.tags:
        assert tag in allowed_tags, f"unexpected <{tag}> in {html!r}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} in {html!r}"
            assert name not in {"style", "src", "srcdoc", "formaction", "action"}
            if name == "href":
                scheme = _scheme(value or "")
                assert scheme is None or scheme in SAFE_SCHEMES, html
    lowered = html.lower()
    for marker in ("<script", "<iframe", "<svg", "<img", "<style", "<object"):
        assert marker not in lowered


XSS_VECTORS = [
    # Raw HTML, OWASP XSS filter evasion cheat sheet style.
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;"
    "&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror=alert(1)//",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<body onload=alert('XSS')>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<div style=\"background-image: url(javascript:alert('XSS'))\">x</div>",
    "<div style=\"width: expression(alert('XSS'));\">x</div>",
    "<STYLE>@import'http://xss.example/xss.css';</STYLE>",
    '<LINK REL="stylesheet" HREF="javascript:alert(\'XSS\');">',
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(1);">',
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="/>',
    '<embed src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<<SCRIPT>alert("XSS");//<</SCRIPT>',
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>">',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    '<base href="javascript:alert(1)//">',
    "<p><b><i>unclosed <a href='javascript:x'>",
    "<!--<script>alert(1)//--><script>alert(2)</script>",
    # Markdown links and images.
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x]( javascript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    '[x](https://example.com "t\\" onmouseover=\\"alert(1)")',
    "[<img src=x onerror=alert(1)>](https://example.com)",
    "![x](javascript:alert(1))",
    '![x" onerror="alert(1)](https://example.com/a.png)',
    '![x](https://example.com/a.png" onerror="alert(1))',
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    # Markup hidden inside markdown constructs.
    "**<script>alert(1)</script>**",
    "> <script>alert(1)</script>",
    "| <script>x</script> | b |\n|---|---|\n| c | <img src=x onerror=y> |",
    "```html\n<script>alert(1)</script>\n```",
    "~~<svg onload=alert(1)>~~",
    "# <iframe src=//evil.example>",
    "www.example.com/<script>alert(1)</script>",
    "- [x](javascript:alert(1))\n- <img src=x onerror=alert(1)>",
]


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_render_markdown_output_has_no_executable_content(vector):
    html = render_markdown(vector)

    assert_inert(html, ALLOWED_TAGS)


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_render_inline_output_has_no_executable_content(vector):
    html = render_inline(vector)

    assert_inert(html, INLINE_TAGS)


def test_raw_html_is_shown_as_text_not_dropped():
    html = render_markdown("Tried <script>alert(1)</script> here")

    assert html == "<p>Tried &lt;script&gt;alert(1)&lt;/script&gt; here</p>"


def test_javascript_markdown_link_keeps_its_text_but_loses_its_target():
    html = render_markdown("[click me](javascript:alert(1))")

    [attrs] = _links(html)
    assert "href" not in attrs
    assert "click me" in html


def test_inline_formatting_renders():
    html = render_markdown("**bold**, _em_, `x < y` and ~~gone~~")

    assert html == (
        "<p><strong>bold</strong>, <em>em</em>, <code>x &lt; y</code> "
        "and <del>gone</del></p>"
    )


def test_headings_are_demoted_two_levels():
    html = render_markdown("# One\n\n## Two\n\n#### Four\n\n###### Six")

    assert html.split("\n") == [
        "<h3>One</h3>",
        "<h4>Two</h4>",
        "<h6>Four</h6>",
        "<h6>Six</h6>",
    ]


def test_lists_render_and_ordered_list_keeps_its_start_number():
    html = render_markdown("3. three\n4. four\n\n- a\n- b")

    assert html == (
        '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>\n'
        "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"
    )


def test_fenced_code_keeps_language_class_and_escapes_content_once():
    html = render_markdown("```python\nif a < b and c > d: print('&')\n```")

    assert html == (
        '<pre><code class="language-python">'
        "if a &lt; b and c &gt; d: print('&amp;')\n</code></pre>"
    )


def test_urls_inside_code_are_not_linkified():
    html = render_markdown("`https://example.com`\n\n```\nhttps://example.org\n```")

    assert "<a" not in html


def test_table_alignment_uses_align_attribute_not_style():
    html = render_markdown("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |")

    cells = [attrs for tag, attrs in _parse(html).tags if tag in {"th", "td"}]
    assert [c.get("align") for c in cells] == ["left", "center", "right"] * 2
    assert "style" not in html


def test_blockquote_and_horizontal_rule_render():
    html = render_markdown("> quoted\n\n---")

    assert html == "<blockquote>\n<p>quoted</p>\n</blockquote>\n<hr>"


def test_single_newlines_become_line_breaks():
    html = render_markdown("BP 120/80\nHR 72")

    assert html == "<p>BP 120/80<br>\nHR 72</p>"


def test_bare_urls_and_emails_are_linkified_with_safe_rel_and_new_tab():
    html = render_markdown("See https://example.com/a?b=1&c=2 or mail a@example.org")

    links = _links(html)
    assert [link["href"] for link in links] == [
        "https://example.com/a?b=1&c=2",
        "mailto:a@example.org",
    ]
    assert all(link["rel"] == LINK_REL for link in links)
    assert all(link["target"] == "_blank" for link in links)


def test_authored_links_keep_href_and_title_and_get_safe_rel():
    html = render_markdown('[guideline](https://example.org/ng1 "NICE NG1")')

    [attrs] = _links(html)
    assert attrs == {
        "href": "https://example.org/ng1",
        "title": "NICE NG1",
        "rel": LINK_REL,
        "target": "_blank",
    }


def test_images_become_links_instead_of_being_loaded():
    html = render_markdown("![chest x-ray](https://example.org/cxr.png)")

    assert "<img" not in html
    [attrs] = _links(html)
    assert attrs["href"] == "https://example.org/cxr.png"
    assert "chest x-ray" in html


def test_text_with_angle_brackets_and_ampersands_is_escaped_once():
    html = render_markdown("K < 3.5 & Na > 145")

    assert html == "<p>K &lt; 3.5 &amp; Na &gt; 145</p>"


@pytest.mark.parametrize("blank", ["", "   ", "\n\n\t"])
def test_blank_input_renders_empty(blank):
    assert render_markdown(blank) == ""
    assert render_inline(blank) == ""


def test_render_inline_keeps_inline_markup_and_drops_block_structure():
    html = render_inline("**Sepsis** with `lactate` 4\nsee [ref](https://example.org)")

    assert html == (
        "<strong>Sepsis</strong> with <code>lactate</code> 4 see "
        f'<a href="https://example.org" rel="{LINK_REL}" target="_blank">ref</a>'
    )
    assert "<p>" not in html
    assert "<br" not in html


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# not a heading", "# not a heading"),
        ("> not a quote", "&gt; not a quote"),
        ("- not a list", "- not a list"),
        ("1. not a list", "1. not a list"),
        ("---", "---"),
        ("* * *", "* * *"),
    ],
)
def test_render_inline_keeps_block_markers_as_typed(text, expected):
    assert render_inline(text) == expected


def test_rendering_is_consistent_across_threads():
    source = "# T\n\n**b** https://example.com\n\n```\ncode\n```"
    expected = render_markdown(source)
    results: list[str] = []

    def work():
        results.extend(render_markdown(source) for _ in range(20))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [expected] * 80


def test_random_mixtures_of_hostile_fragments_render_inert():
    rng = random.Random(1312)
    fragments = [
        "<script>",
        "</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "javascript:alert(1)",
        "[x](",
        ")",
        "![y](",
        "&#106;",
        "&#x3C;",
        '"',
        "'",
        "`",
        "```",
        "\n",
        "**",
        "_",
        "~~",
        "> ",
        "| a |",
        "<a href=",
        "<iframe src=//e>",
        "style=x:expression(alert(1))",
        "https://example.com/",
        "<!--",
        "-->",
        "<",
        ">",
    ]

    for _ in range(400):
        text = "".join(rng.choice(fragments) for _ in range(rng.randint(1, 15)))
        assert_inert(render_markdown(text), ALLOWED_TAGS)
        assert_inert(render_inline(text), INLINE_TAGS)


# --- Bounded cost (issue 13) ------------------------------------------------------
#
# Every input up to the longest field (20,000 characters: case history and
# notes; 10,000: messages and consult texts) must render in a fraction of a
# second. No timing asserts: the cost is bounded deterministically (characters
# the bracket matcher scans, the structure the guard hands to Markdown), and
# the whole pipeline runs in a child process under a CPU limit that the old,
# quadratic renderer exceeded several times over. Timings: benchmarks/
# markdown_worst.py.

PATHOLOGICAL = {
    "dot-dash word (issue)": "a.-" * 6667,
    "open brackets (issue)": "[" * 20000,
    "nested brackets": "[" * 10000 + "]" * 10000,
    "image openers": "![" * 10000,
    "unclosed link texts": "[a " * 6666,
    "unclosed destinations": "[a](" * 5000,
    "unclosed titles": "[a]('b)" * 2857,
    "backticks": "`" * 20000,
    "code spans hiding brackets": "[`]`" * 5000,
    "ampersands": "&" * 20000,
    "one long word": "a" * 20000,
    "long url host": "http://" + "a." * 9996,
    "hyphenated word": "a-" * 10000,
    "e-mail local parts": "a." * 9999 + "@",
    "many near-emails": ("a." * 32 + "a@" + "a-" * 100 + " ") * 70,
    "leading parentheses": "(" * 19995 + "a.com",
    "trailing dots": "a.com/" + "." * 19994,
    "unclosed fences": "```x\n" * 4000,
    "nested lists on one line": "1. " * 6666,
    "nested bullets": "+ " * 10000,
    "indented list ladder": "".join("    " * i + "- x\n" for i in range(95)),
    "nested quotes": "> " * 10000,
    "quote and list chain": "> - " * 5000,
    "escaped fence openers": "\\```[{" * 3333,
    "heading lines": "#\n" * 10000,
    "one-column table candidates": "# |\n|\n" * 3333,
    "a list of thousands of items": ".\n\n1. " * 3333,
}


_ROOT = str(Path(__file__).resolve().parents[2])
CPU_SECONDS = 5  # per input, both renderers; the old ones took 10 s to minutes

# Renders the named inputs in turn, each under a CPU limit of CPU_SECONDS more
# than the process has used so far, printing each name once both renderers
# are done with it. The soft RLIMIT_CPU kills the process (SIGXCPU) there.
_CHILD = """
import json, math, resource, sys
sys.path.insert(0, {root!r})
from tests.workspace.test_markdown import PATHOLOGICAL
from workspace.markdown import render_inline, render_markdown
for name in json.loads(sys.argv[1]):
    used = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    resource.setrlimit(resource.RLIMIT_CPU, (math.ceil(used) + {seconds}, hard))
    render_markdown(PATHOLOGICAL[name])
    render_inline(PATHOLOGICAL[name])
    print(name, flush=True)
"""


def _run_child(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def within_budget() -> dict[str, bool]:
    """Name → rendered within its CPU budget (one child; restarted on a kill)."""
    code = _CHILD.format(root=_ROOT, seconds=CPU_SECONDS)
    results: dict[str, bool] = {}
    remaining = sorted(PATHOLOGICAL)
    while remaining:
        done = _run_child(code, json.dumps(remaining))
        finished = done.stdout.splitlines()
        results.update(dict.fromkeys(finished, True))
        remaining = remaining[len(finished) :]
        if remaining:  # killed (or failed) on the first unfinished input
            results[remaining.pop(0)] = False
    return results


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_input_renders_within_a_cpu_budget(name, within_budget):
    assert within_budget[name], f"{name!r} used more than {CPU_SECONDS} CPU s"


def test_the_cpu_budget_kills_the_old_quadratic_linkifier():
    """The budget is tight enough to catch the bug it guards against."""
    code = (
        "import resource, bleach\n"
        f"resource.setrlimit(resource.RLIMIT_CPU, ({CPU_SECONDS}, {CPU_SECONDS} + 1))\n"
        "bleach.linkify('a.-' * 6667, parse_email=True)\n"
    )
    done = _run_child(code)

    assert done.returncode != 0


@pytest.fixture
def bracket_scans(monkeypatch):
    """Characters Python-Markdown's bracket and link matchers are handed."""
    from markdown.inlinepatterns import LinkInlineProcessor

    scanned = {"text": 0, "link": 0}
    get_text, get_link = LinkInlineProcessor.getText, LinkInlineProcessor.getLink

    def counting_text(self, data, index):
        result = get_text(self, data, index)
        scanned["text"] += result[1] - index
        return result

    def counting_link(self, data, index):
        scanned["link"] += len(data) - index
        return get_link(self, data, index)

    monkeypatch.setattr(LinkInlineProcessor, "getText", counting_text)
    monkeypatch.setattr(LinkInlineProcessor, "getLink", counting_link)
    return scanned


@pytest.mark.parametrize(
    "name",
    [
        "open brackets (issue)",
        "nested brackets",
        "image openers",
        "unclosed link texts",
        "unclosed destinations",
        "unclosed titles",
        "code spans hiding brackets",
    ],
)
def test_bracket_matching_scans_each_character_a_bounded_number_of_times(
    name, bracket_scans
):
    text = PATHOLOGICAL[name]

    render_markdown(text)

    # Unbounded, each "[" rescans to the end of the paragraph: ~n²/2.
    assert bracket_scans["text"] <= 4 * MAX_BRACKET_DEPTH * len(text)
    assert bracket_scans["link"] <= 4 * len(text)


def test_guard_leaves_markdown_a_bounded_structure():
    for text in PATHOLOGICAL.values():
        guarded = _guard(text)
        depth = deepest = 0
        for char in guarded:
            if char == "[":
                depth += 1
                deepest = max(deepest, depth)
            elif char == "]":
                depth = max(depth - 1, 0)
        assert deepest <= MAX_BRACKET_DEPTH
        for line in guarded.split("\n"):
            markers = re.match(
                r"(?:[ ]{0,3}>[ ]?|[ \t]*(?:[-+*]|\d+[.)])[ \t]+)*", line
            )
            assert markers.group().count(">") + len(
                re.findall(r"(?:^|\s)(?:[-+*]|\d+[.)])(?=\s)", markers.group())
            ) <= MAX_CONTAINER_DEPTH or re.fullmatch(r"[ \t]*(?:[-*_][ \t]*)+", line)


def test_neutralised_characters_show_exactly_as_typed():
    text = "[" * 30 + "x" + "]" * 30 + " `[[[[[[[y]]]]]]]` " + "[open"
    html = render_markdown(text)

    assert html == f"<p>{'[' * 30}x{']' * 30} <code>[[[[[[[y]]]]]]]</code> [open</p>"
    assert render_markdown("> " * 40 + "deep").count("<blockquote>") == (
        MAX_CONTAINER_DEPTH
    )
    assert "&gt; " * (40 - MAX_CONTAINER_DEPTH) + "deep" in render_markdown(
        "> " * 40 + "deep"
    )


def test_stand_in_characters_in_the_input_cannot_forge_markup():
    html = render_markdown("\ue000x\ue001(http://example.org) \ue002 \ue007")

    # Not restored as "[x](...)": no Markdown link, only the linkified URL.
    assert ">x</a>" not in html
    assert html.startswith("<p>\ufffdx\ufffd(<a href=")
    assert not set(html) & {chr(c) for c in range(0xE000, 0xE008)}


def test_ordinary_markdown_keeps_its_links_and_structure_under_the_guard():
    text = (
        "See [NICE [NG1]](https://example.org/ng1_(2024)) and ![x-ray][cxr].\n\n"
        "[cxr]: https://example.org/cxr.png\n\n"
        "1. one\n    - nested\n        - deeper\n\n> quoted\n> > twice\n\n"
        "- - -\n\nmail a.b@example.co.uk or www.example.com/path?x=1."
    )
    html = render_markdown(text)

    assert '<a href="https://example.org/ng1_(2024)"' in html
    assert ">NICE [NG1]</a>" in html
    assert '<a href="https://example.org/cxr.png"' in html
    assert html.count("<ul>") == 2 and html.count("<blockquote>") == 2
    assert "<hr>" in html
    assert 'href="mailto:a.b@example.co.uk"' in html
    assert 'href="http://www.example.com/path?x=1"' in html


# --- Rendered ahead of the write transaction --------------------------------------


def test_prerendered_texts_are_looked_up_not_rendered_again(monkeypatch):
    from workspace.markdown import rendering as md

    calls: list[str] = []
    real = md._render
    monkeypatch.setattr(
        md, "_render", lambda text, c: calls.append(text) or real(text, c)
    )

    with prerendered(["**a**", "", None]):
        first = render_markdown("**a**")
        second = render_markdown("**a**")
    after = render_markdown("**a**")

    assert first == second == after == "<p><strong>a</strong></p>"
    assert calls == ["**a**", "**a**"]  # once ahead, once after the block


@pytest.fixture
def render_order(monkeypatch):
    """Records "render" and each write statement, in order."""
    from django.db import connection

    from workspace.markdown import rendering as md

    events: list[str] = []
    real = md._render

    def recording(text, cleaner):
        events.append("render")
        return real(text, cleaner)

    def log_sql(execute, sql, params, many, context):
        verb = sql.lstrip().split(" ", 1)[0].upper()
        if verb in {"INSERT", "UPDATE", "DELETE", "SAVEPOINT"}:
            events.append(verb)
        return execute(sql, params, many, context)

    monkeypatch.setattr(md, "_render", recording)
    with connection.execute_wrapper(log_sql):
        yield events


def _renders_only_before_writes(events: list[str]) -> bool:
    writes = [i for i, event in enumerate(events) if event != "render"]
    renders = [i for i, event in enumerate(events) if event == "render"]
    return bool(writes) and bool(renders) and max(renders) < min(writes)


def _autosave_form(**fields):
    from workspace.models import Specialty

    data = {
        "title": "Annular rash after a camping trip",
        "specialty": Specialty.objects.get(name="Dermatology").pk,
        "age_band": "30–39",
        "sex": "female",
        "presenting_complaint": "Expanding red ring on the thigh.",
        "history": "",
        "examination": "",
        "investigations": "",
        "working_notes": "",
        "tags": "",
        "visibility": "private",
        "workspace": "",
    }
    data.update(fields)
    return data


@pytest.mark.django_db
def test_autosave_of_the_issue_input_saves_with_its_html(
    clinician, client_for, render_order
):
    from django.urls import reverse

    from cases.models import Case

    client = client_for(clinician)
    history = "a.-" * 3334

    created = client.post(reverse("case_create_autosave"), _autosave_form())
    render_order.clear()
    saved = client.post(created.json()["autosave_url"], _autosave_form(history=history))

    assert created.status_code == 201
    assert saved.status_code == 200, saved.content[:300]
    case = Case.objects.get()
    assert case.history == history
    assert case.rendered["history"] == f"<p>{history}</p>"
    assert case.html("history") == f"<p>{history}</p>"
    # The changed field was rendered once, before the transaction's first write.
    assert render_order.count("render") == 1
    assert _renders_only_before_writes(render_order)


@pytest.mark.django_db
def test_case_services_render_before_their_transaction(clinician, render_order):
    from cases.services import cases as services

    case = services.case_create(
        owner=clinician, title="Draft", history="**h**", working_notes="_w_"
    )
    assert _renders_only_before_writes(render_order)
    assert case.rendered["history"] == "<p><strong>h</strong></p>"

    render_order.clear()
    case = services.case_update(
        case=case, by=clinician, changes={"examination": "~~x~~"}, autosave=True
    )

    assert render_order.count("render") == 1
    assert _renders_only_before_writes(render_order)
    case.refresh_from_db()
    assert case.rendered["examination"] == "<p><del>x</del></p>"
    assert case.rendered["history"] == "<p><strong>h</strong></p>"  # kept


@pytest.mark.django_db
def test_consults_store_their_html_rendered_before_the_transaction(
    make_clinician, make_case, render_order, monkeypatch
):
    from django.test import Client
    from django.urls import reverse

    from cases.models import Case
    from consults import services as svc
    from consults.models import ConsultRequest
    from workspace.markdown import rendering as md
    from workspace.models import Specialty

    owner = make_clinician("owner")
    derm = make_clinician("derm", specialties=["Dermatology"])
    case = make_case(owner, title="Scaly plaques", status=Case.Status.PUBLISHED)
    render_order.clear()

    consult = svc.consult_request(
        case=case,
        by=owner,
        question="  Psoriasis **or** eczema?  ",
        specialty=Specialty.objects.get(name="Dermatology"),
    )

    assert render_order.count("render") == 1
    assert _renders_only_before_writes(render_order)
    stored = ConsultRequest.objects.get(pk=consult.pk)
    assert stored.question_html == "<p>Psoriasis <strong>or</strong> eczema?</p>"

    svc.consult_accept(consult=consult, by=derm)
    render_order.clear()
    svc.consult_answer(
        consult=consult, by=derm, impression="Plaque *psoriasis*", follow_up="2 weeks"
    )
    assert render_order.count("render") == 2
    assert _renders_only_before_writes(render_order)
    stored.refresh_from_db()
    assert stored.impression_html == "<p>Plaque <em>psoriasis</em></p>"
    assert stored.follow_up_html == "<p>2 weeks</p>"
    assert stored.recommendations_html == ""

    # The consult page prints the stored HTML: a GET renders nothing.
    def refuse(text, cleaner):
        raise AssertionError(f"rendered on a GET: {text!r}")

    monkeypatch.setattr(md, "_render", refuse)
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("consult_detail", args=[consult.pk]))
    assert page.status_code == 200
    assert "Plaque <em>psoriasis</em>" in page.content.decode()


@pytest.mark.django_db
def test_rerender_markdown_fills_rows_stored_without_html(make_clinician, make_case):
    from django.core.management import call_command

    from cases.models import Case
    from consults import services as svc
    from consults.models import ConsultRequest
    from workspace.models import Specialty

    owner = make_clinician("owner")
    case = make_case(owner, title="Scaly plaques", status=Case.Status.PUBLISHED)
    consult = svc.consult_request(
        case=case,
        by=owner,
        question="Psoriasis **or** eczema?",
        specialty=Specialty.objects.get(name="Dermatology"),
    )
    ConsultRequest.objects.filter(pk=consult.pk).update(question_html="")
    Case.objects.filter(pk=case.pk).update(rendered={})

    call_command("rerender_markdown", stdout=io.StringIO())

    consult.refresh_from_db()
    case.refresh_from_db()
    assert consult.question_html == "<p>Psoriasis <strong>or</strong> eczema?</p>"
    assert set(case.rendered) == {*Case.MARKDOWN_FIELDS, "_v"}
