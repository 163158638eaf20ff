"""bleach's pass over rendered HTML: the allow-list, linkify, link attributes.

The linkifier uses linear-time URL and e-mail patterns and a tree walker that
finds a parent's position in O(1); bleach's own are quadratic on some inputs.
"""

from __future__ import annotations

import re
from functools import partial

from bleach import html5lib_shim
from bleach.linkifier import TLDS, LinkifyFilter
from bleach.sanitizer import Cleaner

from .policy import ALLOWED_ATTRIBUTES, ALLOWED_PROTOCOLS, LINK_REL

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
