"""Runs every detector over a text and merges what they find.

See :mod:`cases.phi` for what is found and how findings merge and are keyed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Iterator, Mapping

from cases.phi.addresses import _ADDRESS_RULES, _zips_after_addresses
from cases.phi.contacts import _bare_domain_hits, _ipv6_hits
from cases.phi.core import _SIMPLE_RULES
from cases.phi.findings import _RANK, Finding, _Hit
from cases.phi.locations import town_after_address
from cases.phi.names import _names
from cases.phi.people import name_hits
from cases.phi.places import place_hits
from cases.phi.text import _Doc
from cases.phi.web import handle_hits, obfuscated_email_hits


def _hits(text: str) -> Iterator[_Hit]:
    doc = _Doc(text)
    yield from _names(doc)
    yield from name_hits(doc)
    yield from _ipv6_hits(text)
    yield from _bare_domain_hits(doc)
    yield from handle_hits(doc)
    yield from obfuscated_email_hits(doc)
    for rule in _SIMPLE_RULES:
        yield from rule.hits(doc)
    addresses = [hit for rule in _ADDRESS_RULES for hit in rule.hits(doc)]
    yield from addresses
    yield from _zips_after_addresses(text, addresses)
    # The town on an address line ("3 Rosebank Close, Ipswich IP4 2LT",
    # "15 Elm Grove, Didsbury.") is a place of its own to remove.
    for address in addresses:
        town = town_after_address(text, address.end)
        if town is not None:
            yield town
    yield from place_hits(doc)


def _merge(hits: list[_Hit]) -> list[_Hit]:
    """Union overlapping hits; the merged hit takes the most specific kind."""
    hits.sort(key=lambda h: (h.start, -h.end))
    merged: list[_Hit] = []
    group: list[_Hit] = []
    group_end = -1
    for hit in hits:
        if group and hit.start >= group_end:
            merged.append(_combine(group))
            group = []
        if not group:
            group_end = hit.end
        group.append(hit)
        group_end = max(group_end, hit.end)
    if group:
        merged.append(_combine(group))
    return merged


def _combine(group: list[_Hit]) -> _Hit:
    best = min(group, key=lambda h: (h.weak, _RANK[h.kind], h.start - h.end))
    if best.kind == "location":
        # A place word inside a longer name is part of the name: "J Smith
        # MD" (Smith before Maryland's code), "Mrs Paris Hilton".
        around = [
            h
            for h in group
            if h.kind == "name"
            and h.start <= best.start
            and h.end >= best.end
            and h.end - h.start > best.end - best.start
        ]
        if around:
            best = around[0]
    start = min(h.start for h in group)
    end = max(h.end for h in group)
    return _Hit(start, end, best.kind, best.reason)


def scan_text(text: str, *, field: str = "") -> list[Finding]:
    """Findings in ``text``, sorted by position and never overlapping."""
    if not text:
        return []
    return [
        Finding(
            field, hit.start, hit.end, text[hit.start : hit.end], hit.kind, hit.reason
        )
        for hit in _join_address_parts(text, _merge(list(_hits(text))))
    ]


_BETWEEN_ADDRESS_PARTS = re.compile(r"[ \t]*,?[ \t]*")


def _join_address_parts(text: str, hits: list[_Hit]) -> list[_Hit]:
    """One finding for a flat and its street ("Flat 4, 19 Chapel Street",
    "1420 Maple Ave, Apt 3B"): a clinician fixes them together."""
    joined: list[_Hit] = []
    for hit in hits:
        last = joined[-1] if joined else None
        if (
            last is not None
            and last.kind == hit.kind == "address"
            and _BETWEEN_ADDRESS_PARTS.fullmatch(text, last.end, hit.start)
        ):
            joined[-1] = _Hit(last.start, hit.end, "address", last.reason)
        else:
            joined.append(hit)
    return joined


def scan_fields(mapping: Mapping[str, str]) -> list[Finding]:
    """Findings for every field, in the mapping's order, each field sorted."""
    findings: list[Finding] = []
    for field, text in mapping.items():
        findings.extend(scan_text(text or "", field=field))
    return findings


def _normalise(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def finding_key(finding: Finding) -> str:
    """Stable fingerprint of a finding: field, kind and normalised text.

    Independent of position and of spacing, case and punctuation in the text,
    so "(555) 201-4477" and "555 201 4477" in the same field share a key.
    """
    material = (
        f"phi-v1\x1f{finding.field}\x1f{finding.kind}\x1f{_normalise(finding.text)}"
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def findings_unresolved(
    findings: Iterable[Finding], dismissed: Collection[str]
) -> list[Finding]:
    """The findings whose :func:`finding_key` is not among ``dismissed``."""
    return [f for f in findings if finding_key(f) not in dismissed]
