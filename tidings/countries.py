"""Countries as ISO 3166-1 alpha-2 codes: one normaliser for imports, forms, filters and APIs.

"Germany", "germany", "de", "DE" and "DEU" are one country, DE. The list of countries and their
names comes from pycountry (the ISO 3166-1 data Debian's iso-codes maintains), so a renamed or
new country arrives with a package update instead of an edit here; ALIASES adds the English
names people commonly type that ISO does not list (UK, Russia, Holland...).

This module imports nothing from Tidings, so every layer may use it.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import pycountry

# Common English names ISO 3166-1 does not carry, by normalised spelling (see _key).
ALIASES = {
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "russia": "RU",
    "usa": "US",
    "us": "US",
    "u s": "US",
    "u s a": "US",
    "america": "US",
    "united states": "US",
    "holland": "NL",
    "the netherlands": "NL",
    "macedonia": "MK",
    "ivory coast": "CI",
    "turkey": "TR",
    "cape verde": "CV",
    "swaziland": "SZ",
    "burma": "MM",
    "vatican": "VA",
    "vatican city": "VA",
    "palestine": "PS",
    "brunei": "BN",
    "micronesia": "FM",
    "dr congo": "CD",
    "drc": "CD",
    "south korea": "KR",
    "korea": "KR",
    "czech republic": "CZ",
    "uae": "AE",
}


def _key(text: str) -> str:
    """Return text folded for comparison: no accents, lower case, punctuation as spaces, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join("".join(c if c.isalnum() else " " for c in plain).split())


@cache
def _index() -> dict[str, str]:
    """Return {folded spelling: alpha-2 code} for every code, name and alias."""
    index: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        for spelling in (
            code,
            country.alpha_3,
            country.name,
            getattr(country, "common_name", ""),
            getattr(country, "official_name", ""),
        ):
            if spelling:
                index.setdefault(_key(spelling), code)
    for spelling, code in ALIASES.items():
        index.setdefault(_key(spelling), code)
    return index


def country_code(value: object) -> str | None:
    """Return the ISO 3166-1 alpha-2 code (upper case) value names, or None when it names no country.

    value may be a code (alpha-2 or alpha-3, any case) or an English name, with or without
    accents and a leading "the".
    """
    if not isinstance(value, str):
        return None
    folded = _key(value)
    if not folded:
        return None
    code = _index().get(folded)
    if code is None and folded.startswith("the "):
        code = _index().get(folded[4:])
    return code


def country_name(code: str) -> str:
    """Return the English name of an alpha-2 code ("" for an unknown code)."""
    country = pycountry.countries.get(alpha_2=(code or "").upper()) if code else None
    if country is None:
        return ""
    return getattr(country, "common_name", "") or country.name


@cache
def country_choices() -> tuple[tuple[str, str], ...]:
    """Return (alpha-2 code, name) of every country, by name: the options of a country picker."""
    return tuple(sorted(((c.alpha_2, country_name(c.alpha_2)) for c in pycountry.countries), key=lambda c: _key(c[1])))


def country_spellings(code: str) -> list[str]:
    """Return the ways code may be stored by clients that did not normalise (codes and names, three casings).

    A filter by country matches these, so rows written before normalisation are still found.
    """
    code = (code or "").upper()
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return []
    names = {code, country.alpha_3, country.name}
    names.update(getattr(country, attribute, "") for attribute in ("common_name", "official_name"))
    names.update(alias for alias, target in ALIASES.items() if target == code)
    spellings: set[str] = set()
    for name in filter(None, names):
        spellings.update({name, name.lower(), name.upper(), name.title()})
    return sorted(spellings)


def country_matches(text: str, limit: int) -> list[tuple[str, str]]:
    """Return up to limit (code, name) of the countries text may start to name, best first.

    The country whose code or name text is comes first, then names starting with text, then
    names with a word starting with it ("king" finds United Kingdom).
    """
    folded = _key(text)
    if not folded:
        return []
    exact = country_code(text)
    ranked = []
    for code, name in country_choices():
        key = _key(name)
        if code == exact:
            rank = 0
        elif key.startswith(folded):
            rank = 1
        elif f" {folded}" in f" {key}":
            rank = 2
        else:
            continue
        ranked.append((rank, code, name))
    ranked.sort(key=lambda item: item[0])  # stable: names stay in order within a rank
    return [(code, name) for _, code, name in ranked[:limit]]
