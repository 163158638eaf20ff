"""Markdown rendering: normal markdown renders, hostile input renders inert."""

from __future__ import annotations

import random
import re
import threading
from html.parser import HTMLParser

import pytest

from workspace.markdown import (
    ALLOWED_TAGS,
    INLINE_TAGS,
    LINK_REL,
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
