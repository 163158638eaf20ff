"""The Python-Markdown extension: what Markdown means here, parsed in linear time.

Raw HTML is text, ``~~`` strikes through, headings are demoted and images
become links; the link, image, code-span, table and fenced-code processors
are replaced by versions with the same results and no quadratic rescans.
"""

from __future__ import annotations

import bisect
import re
import xml.etree.ElementTree as etree
from collections.abc import Iterator

import markdown
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
