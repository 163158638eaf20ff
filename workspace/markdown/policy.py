"""What rendered Markdown may contain: tags, attributes, link schemes, ``rel``.

bleach enforces this after rendering (:mod:`workspace.markdown.sanitizer`), as
a second line of defence independent of the Markdown extensions.
"""

from __future__ import annotations

import re

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
