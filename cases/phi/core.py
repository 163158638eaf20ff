"""The regex detectors of :mod:`cases.phi`, in the order the scanner runs them.

Each detector family has its own module: ``dates`` (dates and ages),
``contacts`` (phone, fax, e-mail, web and IP addresses), ``identifiers``
(record, SSN, device and vehicle numbers), ``addresses`` (street addresses
and postcodes) and ``names`` (names after titles, relations and naming
words); they are built from ``findings``, ``text`` and ``rules``. This module
gathers their rules into :data:`_SIMPLE_RULES`.

It also keeps importable from here the names it held before it was split
(the public ones and those the other modules of the package used), so
``from cases.phi.core import Finding`` still works. Nothing here imports
Django.
"""

from __future__ import annotations

from cases.phi.addresses import (
    _ADDRESS_RULES,
    _US_STATES,
    _ZIP_RULES,
    _zips_after_addresses,
)
from cases.phi.contacts import (
    _CC_TLDS,
    _IPV4,
    _PHONE_RULES,
    _TLD_LIST,
    _WEB_RULES,
    _bare_domain_hits,
    _ipv6_hits,
)
from cases.phi.dates import _AGE_RULES, _DATE_RULES, _MONTH_NAMES
from cases.phi.findings import _RANK, KINDS, REASONS, Finding, _Hit
from cases.phi.identifiers import (
    _DEVICE_RULES,
    _RECORD_RULES,
    _SSN_RULES,
    _VEHICLE_RULES,
)
from cases.phi.names import (
    _ACRONYMS,
    _AFTER_NAME_NOT_PERSON,
    _DISEASE_WORDS,
    _EPONYMS,
    _FIRST_NAMES,
    _NOT_NAMES,
    _TOKEN,
    _name_span,
    _names,
)
from cases.phi.text import _LOW, _UP, _Doc, _words

_SIMPLE_RULES = (
    _DATE_RULES
    + _AGE_RULES
    + _PHONE_RULES
    + _WEB_RULES
    + [_IPV4]
    + _RECORD_RULES
    + _SSN_RULES
    + _ZIP_RULES
    + _DEVICE_RULES
    + _VEHICLE_RULES
)

__all__ = [
    "KINDS",
    "REASONS",
    "_ACRONYMS",
    "_ADDRESS_RULES",
    "_AFTER_NAME_NOT_PERSON",
    "_CC_TLDS",
    "_DISEASE_WORDS",
    "_EPONYMS",
    "_FIRST_NAMES",
    "_LOW",
    "_MONTH_NAMES",
    "_NOT_NAMES",
    "_RANK",
    "_SIMPLE_RULES",
    "_TLD_LIST",
    "_TOKEN",
    "_UP",
    "_US_STATES",
    "Finding",
    "_Doc",
    "_Hit",
    "_bare_domain_hits",
    "_ipv6_hits",
    "_name_span",
    "_names",
    "_words",
    "_zips_after_addresses",
]
