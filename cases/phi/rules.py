"""The regex rule that most detectors are made of, and its boundary classes.

A :class:`_Rule` is one compiled pattern with the cheap tests (keywords, a
gate, a lower-cased source) that keep it fast over long texts; :func:`_rule`
builds one from pattern strings. The detector modules (``dates``,
``contacts``, ``identifiers``, ``addresses``) are lists of rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cases.phi.findings import REASONS, _Hit
from cases.phi.text import _Doc, _words


@dataclass(frozen=True)
class _Rule:
    """A regex detector; group ``v`` (else the whole match) is the finding.

    Speed matters, as every rule reads the whole text:

    - ``keywords`` (lower-case words): the pattern is only tried where one of
      them starts, so it must begin with one of them.
    - Otherwise patterns start with a literal or a character class, which lets
      the regex engine skip ahead quickly; the boundary a leading ``\\b`` or
      lookbehind would express is checked here instead, by ``not_after``: a
      class the character before the match must not belong to.
    - ``lower`` runs the pattern on the lower-cased text instead of using a
      (much slower) case-insensitive pattern.
    - ``gate`` skips the rule when a cheap test on the text fails.
    - ``lead_in`` (with ``keywords``): a pattern that must end right at the
      keyword; the match is then tried from where the lead-in starts.

    With ``value``, ``pattern`` finds only the label and ``value`` must match
    the original text right after it (for case-sensitive values).
    """

    kind: str
    pattern: re.Pattern[str]
    reason: str = ""
    check: Callable[[re.Match[str]], bool] | None = None
    lower: bool = False
    value: re.Pattern[str] | None = None
    weak: bool = False
    not_after: re.Pattern[str] | None = None
    gate: Callable[[str], bool] | None = None
    keywords: frozenset[str] | None = None
    lead_in: re.Pattern[str] | None = None

    def _matches(self, source: str, doc: _Doc) -> Iterator[re.Match[str]]:
        not_after = self.not_after
        if self.keywords is not None:
            for keyword_start in doc.word_starts(self.keywords):
                start = keyword_start
                if self.lead_in is not None:
                    # The match begins a little before the keyword ("3 March").
                    window = max(0, keyword_start - 64)
                    lead = self.lead_in.search(source, window, keyword_start)
                    if lead is None:
                        continue
                    start = lead.start()
                if (
                    start
                    and not_after is not None
                    and not_after.match(source, start - 1)
                ):
                    continue
                match = self.pattern.match(source, start)
                if match is not None:
                    yield match
            return
        search, pos = self.pattern.search, 0
        while (match := search(source, pos)) is not None:
            start = match.start()
            pos = max(match.end(), start + 1)
            if start and not_after is not None and not_after.match(source, start - 1):
                pos = start + 1  # as a lookbehind would: try the next position
                continue
            yield match

    def hits(self, doc: _Doc) -> Iterator[_Hit]:
        source = doc.lower if self.lower else doc.text
        if self.gate is not None and not self.gate(source):
            return
        reason = self.reason or REASONS[self.kind] + "."
        for found in self._matches(source, doc):
            match = found
            if self.value is not None:
                match = self.value.match(doc.text, found.end())
                if match is None:
                    continue
            if self.check is not None and not self.check(match):
                continue
            span = match.span("v" if "v" in match.re.groupindex else 0)
            if span[0] < span[1]:
                yield _Hit(*span, self.kind, reason, self.weak)


def _rule(
    kind: str,
    pattern: str,
    reason: str = "",
    *,
    check: Callable[[re.Match[str]], bool] | None = None,
    lower: bool = False,
    value: str | None = None,
    weak: bool = False,
    not_after: str | None = None,
    gate: Callable[[str], bool] | None = None,
    keywords: str | None = None,
    lead_in: str | None = None,
) -> _Rule:
    return _Rule(
        kind,
        re.compile(pattern),
        reason,
        check,
        lower,
        re.compile(value) if value is not None else None,
        weak,
        re.compile(not_after) if not_after is not None else None,
        gate,
        _words(keywords) if keywords is not None else None,
        re.compile(lead_in) if lead_in is not None else None,
    )


_WORD = r"\w"  # not_after for what a leading \b would say
_IN_NUMBER = r"[\w/.:+-]"  # not_after for numbers: not inside 1.2, a/b, x-1
_NOT_BEFORE_NUM = r"(?![\w/]|[.:-]\d)"
