"""Message bodies: Markdown → sanitized HTML, with @mentions linked.

The HTML is rendered once, when a message is saved, and served as stored.
``workspace.markdown.render_markdown`` guarantees the HTML is safe; mention
linking runs afterwards on its text nodes only (never inside code, pre or
links) and inserts nothing but a fixed ``<span>`` around an escaped username,
so it cannot open a hole in that guarantee.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from django.utils.html import escape

from workspace.markdown import render_markdown

__all__ = [
    "MAX_MENTIONS",
    "link_mentions",
    "mention_candidates",
    "render_body",
    "render_cost",
]

# Usernames are Django's default: letters, digits and @.+-_. An @ before the
# name must not follow a word character, so e-mail addresses never match.
_MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]*[\w+-])")
_TAG = re.compile(r"(<[^>]*>)")
_OPAQUE_TAGS = {"a", "code", "pre"}
# One message may notify at most this many people.
MAX_MENTIONS = 20


def _text_segments(html: str) -> Iterable[tuple[str, bool]]:
    """Split HTML into (segment, is_mentionable_text) pairs."""
    depth = 0
    for part in _TAG.split(html):
        if not part:
            continue
        if part.startswith("<"):
            name = part.strip("</>").split()[0].lower() if part.strip("</>") else ""
            if name in _OPAQUE_TAGS and not part.endswith("/>"):
                depth += -1 if part.startswith("</") else 1
            yield part, False
        else:
            yield part, depth == 0


def mention_candidates(html: str) -> list[str]:
    """Usernames written as @name in the rendered text, first seen first."""
    seen: dict[str, None] = {}
    for segment, mentionable in _text_segments(html):
        if mentionable:
            for match in _MENTION.finditer(segment):
                seen.setdefault(match.group(1), None)
    return list(seen)[:MAX_MENTIONS]


def link_mentions(html: str, resolve: Callable[[str], int | None]) -> str:
    """Wrap each @name that ``resolve`` maps to a user id in a mention span."""

    def replace(match: re.Match) -> str:
        user_id = resolve(match.group(1))
        if user_id is None:
            return match.group(0)
        return (
            f'<span class="mention" data-user-id="{int(user_id)}">'
            f"@{escape(match.group(1))}</span>"
        )

    return "".join(
        _MENTION.sub(replace, segment) if mentionable else segment
        for segment, mentionable in _text_segments(html)
    )


# Python-Markdown and bleach's linkifier take time quadratic in the length of
# a word without spaces (linkify's URL and e-mail patterns are retried from
# every position of the word) and in the distance from each "[" to its
# closing bracket (or the end of the paragraph). A 10,000-character body can
# cost a minute of CPU, on the thread every database call of the process
# shares. These budgets keep the worst case to a fraction of a second; above
# them the body is shown exactly as typed, as plain text.
MAX_WORD_COST = 300_000  # sum of squared word lengths: one 547-character word
MAX_BRACKET_COST = 300_000  # sum of "[" scan distances within paragraphs
_WORD = re.compile(r"\S+")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def render_cost(body: str) -> tuple[int, int]:
    """Linear-time estimate of the renderer's work: (word cost, bracket cost)."""
    words = sum(len(word) ** 2 for word in _WORD.findall(body))
    brackets = 0
    for paragraph in _PARAGRAPH_BREAK.split(body):
        open_at: list[int] = []
        for index, char in enumerate(paragraph):
            if char == "[":
                open_at.append(index)
            elif char == "]" and open_at:
                brackets += index - open_at.pop()
        brackets += sum(len(paragraph) - index for index in open_at)
    return words, brackets


def render_body(body: str) -> str:
    """Safe HTML for a message body (mentions not linked yet).

    Markdown through ``render_markdown``; a body whose estimated rendering
    cost is over budget (see above) becomes escaped plain text instead.
    """
    words, brackets = render_cost(body)
    if words > MAX_WORD_COST or brackets > MAX_BRACKET_COST:
        text = escape(body.strip()).replace("\r\n", "\n").replace("\n", "<br>\n")
        return f"<p>{text}</p>"
    return render_markdown(body)
