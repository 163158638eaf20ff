"""Hashtags in a patient's description, kept with their link.

Nothing here imports Django.
"""

from __future__ import annotations

import unicodedata

MAX_HASHTAGS = 30
MAX_HASHTAG_LENGTH = 100


def _is_tag_char(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] in {"L", "M", "N"} or ch == "\u200d"


def extract_hashtags(description: str) -> list[str]:
    """Hashtags in ``description`` without the ``#``, first spelling kept.

    A tag is ``#`` followed by letters, marks, digits or ``_`` (any script) and
    must contain a letter; ``#1`` and HTML entities such as ``&#39;`` are not
    tags. Duplicates are dropped case-insensitively, order is kept, and at
    most ``MAX_HASHTAGS`` tags of ``MAX_HASHTAG_LENGTH`` characters are kept.
    """
    tags: list[str] = []
    seen: set[str] = set()
    text = unicodedata.normalize("NFC", description or "")
    index = text.find("#")
    while index != -1 and len(tags) < MAX_HASHTAGS:
        end = index + 1
        while end < len(text) and _is_tag_char(text[end]):
            end += 1
        tag = text[index + 1 : end].strip("\u200d")
        before = text[index - 1] if index else " "
        starts_word = not (_is_tag_char(before) or before in "&#")
        if (
            starts_word
            and tag
            and len(tag) <= MAX_HASHTAG_LENGTH
            and any(unicodedata.category(ch)[0] == "L" for ch in tag)
        ):
            key = tag.casefold()
            if key not in seen:
                seen.add(key)
                tags.append(tag)
        index = text.find("#", max(end, index + 1))
    return tags
