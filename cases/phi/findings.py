"""What the detectors report: the kinds of identifier, their reasons, findings.

:data:`KINDS` is ordered most specific first, which decides the kind of
merged, overlapping findings; :data:`REASONS` is the sentence shown for each
kind. Detectors yield :class:`_Hit` (a span, a kind and a reason); the
scanner merges them into the :class:`Finding` objects it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

# Most specific first: decides the kind of merged, overlapping findings.
KINDS = (
    "ssn",
    "email",
    "url",
    "handle",
    "ip",
    "vehicle_id",
    "device_id",
    "record_number",
    "fax",
    "phone",
    "date",
    "age",
    "address",
    "zip",
    "employer",
    "institution",
    "location",
    "name",
)
_RANK = {kind: rank for rank, kind in enumerate(KINDS)}

REASONS = {
    "name": "Looks like a person's name",
    "date": "Looks like a date more specific than a year",
    "age": "Gives an age over 89; Safe Harbor allows only “90 or older”",
    "phone": "Looks like a phone number",
    "fax": "Looks like a fax number",
    "email": "Looks like an email address",
    "url": "Looks like a web address; remove it if it could lead to the patient",
    "ip": "Looks like an IP address",
    "record_number": "Looks like a record, account, insurance or licence number",
    "ssn": "Looks like a US Social Security number",
    "address": "Looks like a street address",
    "zip": "Looks like a postcode or ZIP code",
    "device_id": "Looks like a device serial number or identifier",
    "vehicle_id": "Looks like a vehicle identifier (VIN or number plate)",
    "handle": "Looks like a social media handle or profile",
    "location": "Names a town, city or county; Safe Harbor allows only the state",
    "institution": "Names a hospital, clinic, practice or other institution, "
    "which can place the patient",
    "employer": "Names an employer, which can identify the patient",
}


@dataclass(frozen=True)
class Finding:
    field: str
    start: int
    end: int
    text: str
    kind: str
    reason: str


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    kind: str
    reason: str
    # Unlabelled guesses (an NHS-like checksum, any long number) yield to a
    # labelled or better-shaped finding on the same text.
    weak: bool = False
