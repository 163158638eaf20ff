"""The guard: characters that are costly to parse are swapped out first.

Square brackets that cannot open a link (unmatched ones, and those nested
more than :data:`MAX_BRACKET_DEPTH` deep) and container markers (list
bullets, ``>``) nested more than :data:`MAX_CONTAINER_DEPTH` deep become
private-use stand-ins before Markdown sees them, and are swapped back in the
HTML, so they show exactly as typed but cost nothing to parse.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import markdown
from markdown.inlinepatterns import BACKTICK_RE

from .extension import _BacktickProcessor

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


class _CodeSpanFinder(threading.local):
    """One code-span finder per thread: it keeps the index of its last text."""

    def __init__(self) -> None:
        self.code_spans = _BacktickProcessor(BACKTICK_RE)


_finder = _CodeSpanFinder()


def _code_spans(text: str) -> Iterator[tuple[int, int]]:
    """Python-Markdown's code spans in ``text``, as (start, end) ranges."""
    pos = 0
    while (m := _BACKTICK.search(text, pos)) is not None:
        if m.group(1):  # escaped backslashes before a backtick
            pos = m.end()
            continue
        start, end = _finder.code_spans.find_code_spans(m.start(), text)
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
