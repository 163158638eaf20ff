"""The text being scanned and the pieces of pattern every detector shares.

:class:`_Doc` wraps a text with its ASCII-lower-cased copy and its set of
words, so a detector keyed on a few words only runs where one occurs;
``_UP`` and ``_LOW`` are the upper- and lower-case letter classes that the
name and place patterns are built from.
"""

from __future__ import annotations

import re
import string


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_UP = "A-ZÀ-ÖØ-ÞĀ-ſ"  # Latin Extended-A mixes cases; pragmatic
_LOW = "a-zß-öø-ÿĀ-ſ"
_LOWER_WORD = re.compile(r"[a-z]+")

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class _Doc:
    """The text being scanned, with what several detectors share.

    ``lower`` is ASCII-lower-cased (same length and offsets as ``text``), so
    labels match without a slow case-insensitive pattern; ``words`` is the
    set of ASCII words in it, so a detector keyed on words such as "fax" or
    "MRN" only runs where one of them actually occurs.
    """

    __slots__ = ("_starts", "lower", "text", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        lower = text.lower()
        # str.lower() is fast but a few characters grow ("İ" becomes two);
        # offsets must line up with the original, so fall back then.
        self.lower = lower if len(lower) == len(text) else text.translate(_ASCII_LOWER)
        self.words = frozenset(_LOWER_WORD.findall(self.lower))
        self._starts: dict[frozenset[str], list[int]] = {}

    def word_starts(self, keywords: frozenset[str]) -> list[int]:
        """Offsets where any of ``keywords`` (lower case) occurs as a word."""
        cached = self._starts.get(keywords)
        if cached is None:
            cached = self._starts[keywords] = self._find_starts(keywords)
        return cached

    def _find_starts(self, keywords: frozenset[str]) -> list[int]:
        lower, starts = self.lower, []
        for keyword in keywords & self.words:
            size = len(keyword)
            index = lower.find(keyword)
            while index != -1:
                end = index + size
                if (index == 0 or not _is_ascii_letter(lower[index - 1])) and (
                    end == len(lower) or not _is_ascii_letter(lower[end])
                ):
                    starts.append(index)
                index = lower.find(keyword, index + 1)
        starts.sort()
        return starts


def _is_ascii_letter(char: str) -> bool:
    return "a" <= char <= "z"
