"""Towns, cities and counties; hospitals and other institutions; employers.

One detector module each: :mod:`.locations` (towns, cities and counties from
the gazetteer and from residence cues, and the town on an address line),
:mod:`.institutions` (hospitals, clinics and other institutions, by a
facility word or a care verb) and :mod:`.employers` (after a word about work,
or with a company suffix). :func:`place_hits` runs the three in that order.

Its public names (:func:`place_after`, :func:`place_hits`,
:func:`town_after_address`) are importable from here as before the split.
"""

from __future__ import annotations

from collections.abc import Iterator

from cases.phi.employers import _employer_hits
from cases.phi.findings import _Hit
from cases.phi.institutions import _institution_hits
from cases.phi.locations import _location_hits, place_after, town_after_address
from cases.phi.text import _Doc


def place_hits(doc: _Doc) -> Iterator[_Hit]:
    yield from _location_hits(doc)
    yield from _institution_hits(doc)
    yield from _employer_hits(doc)


__all__ = ["place_after", "place_hits", "town_after_address"]
