"""Markdown → safe HTML for everything clinicians type (messages, case notes).

Guarantees of :func:`render_markdown` and :func:`render_inline`:

- Raw HTML in the input is never interpreted: Python-Markdown's raw-HTML
  handling is switched off, so ``<script>`` shows up as the text ``<script>``
  rather than being dropped silently (the author sees what they typed).
- The output only ever contains the tags and attributes in ``ALLOWED_TAGS`` /
  ``ALLOWED_ATTRIBUTES``; bleach enforces this after rendering as a second,
  independent line of defence, so a bug in a Markdown extension cannot smuggle
  markup through.
- Links only keep ``http``, ``https`` and ``mailto`` targets (or relative
  ones); anything else (``javascript:``, ``data:``, ``vbscript:``, entity- or
  case-obfuscated variants) loses its ``href`` and becomes plain text.
- Every link opens in a new tab with ``rel="nofollow noopener noreferrer"``:
  following a link must not tear down the live case page (and its WebSocket),
  must not give the target a handle on ``window.opener``, and must not leak the
  case URL to a third party through the ``Referer`` header.
- Images are not embedded: an external image is a tracking beacon (it tells a
  third party who opened the case and when), so ``![alt](src)`` renders as a
  link to ``src``.
- No ``style`` attributes, so no CSS injection; table alignment uses the
  ``align`` attribute with a fixed set of values instead.

Headings are shifted down two levels (``#`` → ``<h3>``) so a message cannot
shout over the page's own headings.

Bounded cost (issue 13): every input up to the longest field (20,000
characters) renders in a small fraction of a second. Python-Markdown and
bleach's linkifier were quadratic on some inputs (a minute of CPU for
``'a.-' * 6667`` or ``'[' * 20000``, on the thread every request of the
process shares), so every call goes through one guard, :func:`_guard`:

- Linkify uses linear-time URL and e-mail patterns (:data:`URL_RE`,
  :data:`EMAIL_RE`): a match may only start where a word starts, host labels
  and local parts are bounded by their RFC lengths, and stripping trailing
  punctuation is linear (:class:`_LinkifyFilter`).
- Square brackets that cannot open a link (unmatched ones, and those nested
  more than :data:`MAX_BRACKET_DEPTH` deep) and container markers (list
  bullets, ``>``) nested more than :data:`MAX_CONTAINER_DEPTH` deep are
  swapped for private-use stand-ins before Markdown sees them and swapped
  back in the HTML, so they show exactly as typed, also inside code, but
  cost nothing to parse.
- A link's ``(destination "title")`` is looked for only up to the next
  ``[`` (Python-Markdown otherwise rescans to the end of the paragraph for
  every ``[text](``).
- Python-Markdown's code-span finder, table test and fenced-code search and
  bleach's tree walker are replaced by linear versions with the same
  results (:class:`_BacktickProcessor`, :class:`_TableProcessor`,
  :class:`_FenceSearch`, :class:`_TreeWalker`).
- If the parser still runs out of stack, the text is shown as plain text.

Rendering is also done once, before the write transaction that stores it
(see :func:`rendered_ahead`), never per page view.

Nothing here imports Django: the module is used from consumers, services and
management commands alike.
"""

from __future__ import annotations

import bisect
import contextvars
import html
import re
import threading
import xml.etree.ElementTree as etree
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial, wraps

import markdown
from bleach import html5lib_shim
from bleach.linkifier import TLDS, LinkifyFilter
from bleach.sanitizer import Cleaner
from markdown.extensions.tables import PIPE_LEFT, PIPE_NONE, PIPE_RIGHT, TableProcessor
from markdown.inlinepatterns import (
    BACKTICK_RE,
    IMAGE_LINK_RE,
    LINK_RE,
    BacktickInlineProcessor,
    ImageInlineProcessor,
    LinkInlineProcessor,
    SimpleTagInlineProcessor,
)
from markdown.treeprocessors import Treeprocessor

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_PROTOCOLS",
    "ALLOWED_TAGS",
    "EMAIL_RE",
    "INLINE_TAGS",
    "LINK_REL",
    "MAX_BRACKET_DEPTH",
    "MAX_CONTAINER_DEPTH",
    "URL_RE",
    "markdown_to_text",
    "prerendered",
    "render_inline",
    "render_markdown",
    "rendered_ahead",
]

INLINE_TAGS = frozenset({"a", "br", "code", "del", "em", "strong"})

ALLOWED_TAGS = INLINE_TAGS | {
    "blockquote",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}

ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

LINK_REL = "nofollow noopener noreferrer"

_LANGUAGE_CLASS = re.compile(r"language-[A-Za-z0-9_+-]{1,32}")
_ALIGN_VALUES = frozenset({"left", "center", "right"})
# Python-Markdown only emits ``start`` on ordered lists as a number.
_OL_START = re.compile(r"\d{1,9}")


def _allow_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a":
        return name in {"href", "title"}
    if tag == "code":
        return name == "class" and _LANGUAGE_CLASS.fullmatch(value) is not None
    if tag in {"th", "td"}:
        return name == "align" and value in _ALIGN_VALUES
    if tag == "ol":
        return name == "start" and _OL_START.fullmatch(value) is not None
    return False


ALLOWED_ATTRIBUTES = _allow_attribute


# --- The guard (see the module docstring) ------------------------------------------

# Linkify. bleach's own patterns may start a match at every position of a long
# word and scan to its end from each (quadratic). These are the same patterns
# with every start anchored at the start of a word (or of a dot-separated part
# of an e-mail local part) and every repetition bounded, so each position is
# scanned a bounded number of times.
_PROTOCOLS = "|".join(sorted(ALLOWED_PROTOCOLS | {"ftp"}))
_TLDS = "|".join(sorted(TLDS, reverse=True))  # "com" before "co"
URL_RE = re.compile(
    rf"""(?<!\()\(*                      # opening parentheses, from the first
    (?:(?<![\w@.-])|(?<=-)(?=(?:{_PROTOCOLS}):))\b  # a word start, or "-http:"
    (?:(?:{_PROTOCOLS}):/{{0,3}}(?:(?:\w{{1,64}}:)?\w{{1,64}}@)?)?
    (?:[\w-]{{1,63}}\.){{1,126}}(?:{_TLDS})(?::[0-9]{{1,5}})?(?!\.\w)\b
    (?:[/?][^\s{{}}|\\^`<>"]*)?          # path, query, fragment
    """,
    re.IGNORECASE | re.VERBOSE | re.UNICODE,
)
_ATOM = r"[-!#$%&'*+/=?^_`{}|~0-9A-Z]"
EMAIL_RE = re.compile(
    rf"""(?<!//)
    ((?<!{_ATOM})(?={_ATOM}[-!#$%&'*+/=?^_`{{}}|~0-9A-Z.]{{0,63}}@)
        {_ATOM}+(?:\.{_ATOM}+)*           # dot-atom, at most 64 characters
    |^"(?:[\001-\010\013\014\016-\037!#-\[\]-\177]|\\[\001-\011\013\014\016-\177])*"
    )@(?:[A-Z0-9](?:[A-Z0-9-]{{0,61}}[A-Z0-9])?\.){{1,126}}(?:{_TLDS})
    """,
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)


class _LinkifyFilter(LinkifyFilter):
    def strip_non_url_bits(self, fragment: str) -> tuple[str, str, str]:
        """bleach's rules, with indices instead of one copy per character."""
        start, end = 0, len(fragment)
        opens = fragment.count("(")
        while start < end:
            if fragment[start] == "(":
                start += 1
                opens -= 1
                if start < end and fragment[end - 1] == ")":
                    end -= 1
                continue
            last = fragment[end - 1]
            if (last == ")" and opens == 0) or last in ",.":
                end -= 1
                continue
            break
        return fragment[start:end], fragment[:start], fragment[end:]


class _BoundedLinkMixin:
    """Look for a link's ``(...)`` only up to the next ``[``."""

    def getLink(self, data: str, index: int):
        stop = data.find("[", index)
        return super().getLink(data if stop < 0 else data[:stop], index)


class _LinkProcessor(_BoundedLinkMixin, LinkInlineProcessor):
    pass


class _ImageProcessor(_BoundedLinkMixin, ImageInlineProcessor):
    pass


class _TableProcessor(TableProcessor):
    """Python-Markdown's table test without splitting the whole block.

    The stock test splits and strips every line of the block, and is run again
    on the rest of the block after each heading or rule is taken off its top:
    quadratic in the number of lines. Same decision, first two rows only
    (plus the pipe check of a one-column table, which stops at the first row
    without one, and only runs when the separator row would pass).
    """

    def test(self, parent: etree.Element, block: str) -> bool:
        first, newline, rest = block.partition("\n")
        if not newline:
            return False
        header0 = first.strip(" ")
        second = rest.partition("\n")[0].strip(" ")
        self.border = PIPE_NONE
        if header0.startswith("|"):
            self.border |= PIPE_LEFT
        if self.RE_END_BORDER.search(header0) is not None:
            self.border |= PIPE_RIGHT
        row0_len = len(self._split_row(header0))
        row = self._split_row(second)
        separator = len(row) == row0_len and set("".join(row)) <= set("|:- ")
        if row0_len == 1 and self.border and separator:
            for line in _lines(rest):
                line = line.strip(" ")
                if not (line.startswith("|") or self.RE_END_BORDER.search(line)):
                    return False
        elif row0_len <= 1 or not separator:
            return False
        self.separator = row
        return True


def _lines(text: str) -> Iterator[str]:
    """``text.split("\\n")``, lazily."""
    start = 0
    while (end := text.find("\n", start)) >= 0:
        yield text[start:end]
        start = end + 1
    yield text[start:]


_BACKTICK_RUN = re.compile(r"`+")


class _BacktickProcessor(BacktickInlineProcessor):
    """Python-Markdown's code spans, found without rescanning the text.

    ``find_code_spans`` scans from each opening run of backticks to the end of
    the text for a closing run of the same length (else the longest shorter
    one), so unclosed runs made it quadratic. Here the runs are indexed once
    per text: same results, a lookup per opening run. Texts change only
    before the point being scanned (a code span becomes a placeholder), so an
    index stays valid for every text that ends with the indexed tail.
    """

    def __init__(self, pattern: str) -> None:
        super().__init__(pattern)
        self._text = ""
        self._starts: list[int] = []  # run start positions, in order
        self._lengths: list[int] = []
        self._by_length: dict[int, list[int]] = {}  # length -> run indices
        self._longest: list[int] = []  # run index of the first longest run from i

    def _index(self, text: str) -> None:
        runs = [(m.start(), m.end() - m.start()) for m in _BACKTICK_RUN.finditer(text)]
        self._text = text
        self._starts = [start for start, _ in runs]
        self._lengths = [length for _, length in runs]
        self._by_length = {}
        for i, (_, length) in enumerate(runs):
            self._by_length.setdefault(length, []).append(i)
        longest = [0] * (len(runs) + 1)
        longest[len(runs)] = -1
        for i in range(len(runs) - 1, -1, -1):
            after = longest[i + 1]
            keep = after >= 0 and self._lengths[after] > self._lengths[i]
            longest[i] = after if keep else i
        self._longest = longest

    def find_code_spans(self, start: int, text: str) -> tuple[int, int | None]:
        ticks = len(_BACKTICK_RUN.match(text, start).group())
        after = start + ticks
        tail = len(text) - after
        if not self._text.endswith(text[after:]) or tail > len(self._text):
            self._index(text)
        shift = len(self._text) - len(text)
        first = bisect.bisect_left(self._starts, after + shift)
        same = self._by_length.get(ticks, [])
        match = bisect.bisect_left(same, first)
        if match < len(same):
            return after, self._starts[same[match]] - shift
        best = self._longest[first] if first < len(self._starts) else -1
        if best >= 0 and 0 < self._lengths[best] < ticks:
            longest = self._lengths[best]
            return after - (ticks - longest), self._starts[best] - shift
        return after + ticks, None


_FENCE_OPEN = re.compile(r"^(?:~{3,}|`{3,})", re.MULTILINE)


class _FenceSearch:
    """``FENCED_BLOCK_RE.search`` that tries only openers with a closing line.

    The fenced-code pattern, searched from every ```` ```x ```` line, scans
    to the end of the text for a closing fence each time. An opener can only
    match if a line of exactly its fence follows, so the others are skipped
    (the next closing line per fence string is remembered while the text is
    unchanged): same matches, in the same order, in linear time.
    """

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self._text: str | None = None
        self._closing: dict[str, int] = {}

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        if text is not self._text:
            self._text, self._closing = text, {}
        for opener in _FENCE_OPEN.finditer(text, pos):
            fence = opener.group()
            closing = self._closing.get(fence)
            if closing is None or 0 <= closing < opener.end():
                line = re.compile(rf"^{re.escape(fence)}[ ]*$", re.MULTILINE)
                found = line.search(text, opener.end())
                closing = self._closing[fence] = found.start() if found else -1
            if closing >= 0 and (m := self.pattern.match(text, opener.start())):
                return m
        return None


#: Brackets nested deeper than this (``[[[[[x]]]]]``) are plain text.
MAX_BRACKET_DEPTH = 4
#: List items and quotes nested deeper than this are plain text.
MAX_CONTAINER_DEPTH = 16

# Stand-ins for neutralised characters: private-use code points, which no
# Markdown rule gives a meaning. Any in the input are replaced first.
_STAND_IN = {
    "[": "\ue000",
    "]": "\ue001",
    ">": "\ue002",
    "-": "\ue003",
    "+": "\ue004",
    "*": "\ue005",
    ".": "\ue006",
    ")": "\ue007",
}
_SCRUB = {ord(c): "\ufffd" for c in _STAND_IN.values()}
_RESTORE = {ord(v): ("&gt;" if k == ">" else k) for k, v in _STAND_IN.items()}
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_BACKTICK = re.compile(BACKTICK_RE)
_ESCAPABLE = frozenset(markdown.Markdown().ESCAPED_CHARS)
_CONTAINER = re.compile(r"[ ]{0,3}>[ ]?|[ \t]*(?:[-+*]|\d{1,9}[.)])[ \t]+")
_RULE = re.compile(r"[ \t]*(?:[-*_][ \t]*)+")


def _code_spans(text: str) -> Iterator[tuple[int, int]]:
    """Python-Markdown's code spans in ``text``, as (start, end) ranges."""
    pos = 0
    while (m := _BACKTICK.search(text, pos)) is not None:
        if m.group(1):  # escaped backslashes before a backtick
            pos = m.end()
            continue
        start, end = _renderer.code_spans.find_code_spans(m.start(), text)
        if end is None:
            pos = start
        else:
            yield m.start(), end + (start - m.start())
            pos = end + (start - m.start())


def _neutralise_brackets(chunk: str, out: list[str], offset: int) -> None:
    """Mark unmatched and too deeply nested brackets of one paragraph."""
    spans = iter(_code_spans(chunk))
    span = next(spans, None)
    stack: list[int] = []
    i, n = 0, len(chunk)
    while i < n:
        if span is not None and i >= span[0]:
            i = max(i, span[1])
            span = next(spans, None)
            continue
        c = chunk[i]
        if c == "\\" and i + 1 < n and chunk[i + 1] in _ESCAPABLE:
            i += 2
            continue
        if c == "[":
            stack.append(i)
        elif c == "]" and stack:
            opened = stack.pop()
            if len(stack) >= MAX_BRACKET_DEPTH:
                out[offset + opened] = _STAND_IN["["]
                out[offset + i] = _STAND_IN["]"]
        i += 1
    for opened in stack:
        out[offset + opened] = _STAND_IN["["]


def _neutralise_containers(line: str, out: list[str], offset: int) -> None:
    """Mark the list/quote markers of a line beyond the nesting limit."""
    if _RULE.fullmatch(line):
        return  # a horizontal rule such as "- - - -", not nested lists
    indent = len(line) - len(line.lstrip(" \t"))
    depth = line.count("\t", 0, indent) + line.count(" ", 0, indent) // 4
    pos = 0
    while (m := _CONTAINER.match(line, pos)) is not None and m.end() > pos:
        depth += 1
        if depth > MAX_CONTAINER_DEPTH:
            marker = m.group().rstrip(" \t")
            out[offset + m.start() + len(marker) - 1] = _STAND_IN[marker[-1]]
            return
        pos = m.end()


def _guard(text: str) -> str:
    """``text`` with costly-to-parse characters swapped for stand-ins."""
    text = text.translate(_SCRUB).replace("\r\n", "\n").replace("\r", "\n")
    out = list(text)
    start = 0
    for brk in [*_BLANK_LINE.finditer(text), None]:
        end = len(text) if brk is None else brk.start()
        _neutralise_brackets(text[start:end], out, start)
        start = end if brk is None else brk.end()
    offset = 0
    for line in text.split("\n"):
        if len(line) > 1:
            _neutralise_containers(line, out, offset)
        offset += len(line) + 1
    return "".join(out)


def _unguard(html_text: str) -> str:
    return html_text.translate(_RESTORE)


def _plain(text: str) -> str:
    """Escaped text in one paragraph: the fallback when Markdown gives up."""
    body = html.escape(text.strip(), quote=False).replace("\n", "<br>\n")
    return f"<p>{body}</p>"


_HEADING_SHIFT = {"h1": "h3", "h2": "h4", "h3": "h5", "h4": "h6", "h5": "h6"}


class _DemoteHeadingsAndImages(Treeprocessor):
    """Shift headings down and turn images into plain links (see module doc)."""

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            if element.tag in _HEADING_SHIFT:
                element.tag = _HEADING_SHIFT[element.tag]
            elif element.tag == "img":
                src = element.get("src", "")
                label = element.get("alt") or element.get("title") or src
                element.attrib.clear()
                element.tag = "a"
                element.set("href", src)
                element.text = label


class _ConsiliumExtension(markdown.Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # Raw HTML is treated as text, not markup (see module doc).
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.inlinePatterns.register(
            SimpleTagInlineProcessor(r"(~~)(?=\S)(.+?)(?<=\S)~~", "del"), "del", 65
        )
        # Same names and priorities as Python-Markdown's own (see _guard).
        md.inlinePatterns.register(_LinkProcessor(LINK_RE, md), "link", 160)
        md.inlinePatterns.register(
            _ImageProcessor(IMAGE_LINK_RE, md), "image_link", 150
        )
        md.inlinePatterns.register(_BacktickProcessor(BACKTICK_RE), "backtick", 190)
        table = md.parser.blockprocessors["table"]
        md.parser.blockprocessors.register(
            _TableProcessor(md.parser, table.config), "table", 75
        )
        fenced = md.preprocessors["fenced_code_block"]
        fenced.FENCED_BLOCK_RE = _FenceSearch(fenced.FENCED_BLOCK_RE)
        # After "inline" (20) so images already exist as elements.
        md.treeprocessors.register(_DemoteHeadingsAndImages(md), "consilium", 5)


def _set_link_attributes(attrs: dict, new: bool = False) -> dict:
    attrs[(None, "rel")] = LINK_REL
    attrs[(None, "target")] = "_blank"
    return attrs


_EtreeWalker = html5lib_shim.getTreeWalker("etree")


class _TreeWalker(_EtreeWalker):
    """bleach's tree walker, finding a parent's position in O(1).

    The stock walker looks each parent up among its own parent's children
    with ``list.index`` on the way back up: quadratic for a list of thousands
    of items. Positions are indexed once per parent element instead.
    """

    def __init__(self, tree) -> None:
        super().__init__(tree)
        self._positions: dict[int, dict[int, int]] = {}

    def getParentNode(self, node):
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            return (element, key, parents, None) if parents else element
        parent = parents.pop()
        if not parents:
            return parent
        grandparent = parents[-1]
        positions = self._positions.get(id(grandparent))
        if positions is None:
            positions = {id(child): i for i, child in enumerate(grandparent)}
            self._positions[id(grandparent)] = positions
        return parent, positions[id(parent)], parents, None


def _cleaner(tags: frozenset[str] | set[str]) -> Cleaner:
    cleaner = Cleaner(
        tags=tags,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        # Linkify inside the sanitizer pass (after sanitizing): a separate
        # bleach.linkify() call re-escapes the text of skipped <code> blocks.
        # The callback also sets rel/target on links the author wrote.
        filters=[
            partial(
                _LinkifyFilter,
                callbacks=[_set_link_attributes],
                skip_tags={"pre", "code"},
                parse_email=True,
                url_re=URL_RE,
                email_re=EMAIL_RE,
            )
        ],
    )
    cleaner.walker = _TreeWalker
    return cleaner


class _Renderer(threading.local):
    """One Markdown and Cleaner set per thread: neither is thread-safe."""

    def __init__(self) -> None:
        self.md = markdown.Markdown(
            extensions=[
                "fenced_code",
                "tables",
                "sane_lists",
                "nl2br",
                _ConsiliumExtension(),
            ],
            extension_configs={"tables": {"use_align_attribute": True}},
            output_format="html",
        )
        self.cleaner = _cleaner(ALLOWED_TAGS)
        self.inline_cleaner = _cleaner(INLINE_TAGS - {"br"})
        self.code_spans = _BacktickProcessor(BACKTICK_RE)  # for _guard


_renderer = _Renderer()

# A line starting like a block (heading, quote, list item, rule) would lose its
# marker when block tags are stripped; escaping the marker keeps it as typed.
_BLOCK_START = re.compile(r"^(?:[#>]|[-+*](?=\s)|([-*_])(?=(?:\s*\1){2,}\s*$))")
_NUMBERED_ITEM = re.compile(r"^(\d+)([.)])(?=\s)")


def _render(text: str, cleaner: Cleaner) -> str:
    md = _renderer.md
    md.reset()
    try:
        converted = md.convert(_guard(text))
    except RecursionError:
        md.reset()
        return _plain(text)
    return _unguard(cleaner.clean(converted)).strip()


# Texts rendered ahead of a write transaction (see prerendered()).
_ahead: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "markdown_rendered_ahead", default=None
)


def render_markdown(text: str) -> str:
    """Render untrusted Markdown to HTML that is safe to insert into a page.

    Block elements (paragraphs, lists, tables, fenced code, quotes) are kept;
    see the module docstring for what is guaranteed about the output.
    Inside :func:`prerendered` a text rendered ahead is not rendered again.
    """
    if not text or not text.strip():
        return ""
    ahead = _ahead.get()
    if ahead is not None and text in ahead:
        return ahead[text]
    return _render(text, _renderer.cleaner)


@contextmanager
def prerendered(texts: Iterable[object]) -> Iterator[None]:
    """Render ``texts`` now; inside the block, rendering them is a lookup.

    For services that store rendered HTML: rendering is the slow part of a
    save, so it happens before the write transaction opens (and holds locks,
    or SQLite's single writer lock), not inside it. Non-strings are ignored.
    """
    cache = dict(_ahead.get() or {})
    for text in texts:
        if isinstance(text, str) and text.strip() and text not in cache:
            cache[text] = _render(text, _renderer.cleaner)
    token = _ahead.set(cache)
    try:
        yield
    finally:
        _ahead.reset(token)


def rendered_ahead(
    *sources: str | Callable[[Mapping[str, object]], Iterable[object]],
    strip: bool = False,
):
    """Decorate a keyword-only service so its Markdown renders before it runs.

    Put it above ``@transaction.atomic``. Each source is the name of a
    keyword argument holding Markdown, or a function of the keyword arguments
    returning texts; ``strip=True`` when the service stores ``text.strip()``.
    """

    def texts(kwargs: Mapping[str, object]) -> Iterator[object]:
        for source in sources:
            values = source(kwargs) if callable(source) else [kwargs.get(source)]
            for value in values:
                yield value.strip() if strip and isinstance(value, str) else value

    def decorate(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            with prerendered(texts(kwargs)):
                return func(*args, **kwargs)

        return wrapper

    return decorate


def render_inline(text: str) -> str:
    """Render one line of Markdown (titles, labels) with inline markup only.

    Emphasis, code, strikethrough and links survive; block structure is
    flattened to text and line breaks become spaces. Same safety guarantees
    as :func:`render_markdown`.
    """
    if not text or not text.strip():
        return ""
    one_line = " ".join(text.split())
    one_line = _BLOCK_START.sub(r"\\\g<0>", one_line, count=1)
    one_line = _NUMBERED_ITEM.sub(r"\1\\\2", one_line, count=1)
    return _render(one_line, _renderer.inline_cleaner)


_INLINE_NAMES = "|".join(sorted(INLINE_TAGS - {"br"}))
_INLINE_TAG = re.compile(rf"</?(?:{_INLINE_NAMES})\b[^>]*>")
_ANY_TAG = re.compile(r"<[^>]*>")


def markdown_to_text(text: str) -> str:
    """One line of plain text for previews (notification lists, toasts, e-mails).

    Markup is rendered and then dropped, so ``**sepsis**`` previews as
    ``sepsis`` and a list as its items; inline tags vanish without a gap,
    block boundaries become one space, and entities are decoded (the caller
    escapes the text for wherever it goes).
    """
    rendered = render_markdown(text)
    if not rendered:
        return ""
    flat = _ANY_TAG.sub(" ", _INLINE_TAG.sub("", rendered))
    return " ".join(html.unescape(flat).split())
