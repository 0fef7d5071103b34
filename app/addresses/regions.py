"""Regions of a country (a state, province, county...), as addresses and tax rates name them:
one normalisation for storing them and one key for matching them, the same on every engine.

- `clean_region(text)` is what is stored: NFKC (fullwidth letters become plain ones),
  invisible format characters (zero-width spaces and joiners, the BOM) removed, runs of
  whitespace made one space, trimmed; nothing left is None (the whole country).
- `region_key(country, text)` is what is compared: the ISO 3166-2 code of the country's
  subdivision the region names by code (`TX`, `US-TX`) or by name (`Texas`, `ÁVILA`,
  `Avila`), else the cleaned text case-folded without accents; "" for no region. Computed in
  Python (SQLite's lower() folds ASCII only, PostgreSQL's the whole alphabet), stored beside
  each tax rate and computed from the address at checkout.
"""

import unicodedata
from functools import cache

import pycountry


def clean_region(text: str | None) -> str | None:
    if text is None:
        return None
    text = unicodedata.normalize("NFKC", text)
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return " ".join(text.split()) or None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@cache
def _subdivisions(country: str) -> dict[str, str]:
    """Folded code, full code and name of each subdivision -> its code (`TX`)."""
    names: dict[str, str] = {}
    for subdivision in pycountry.subdivisions.get(country_code=country) or ():
        code = subdivision.code.split("-", 1)[1]
        for alias in (subdivision.name, code, subdivision.code):
            names.setdefault(_fold(alias), code)
    return names


def region_key(country: str, text: str | None) -> str:
    cleaned = clean_region(text)
    if cleaned is None:
        return ""
    folded = _fold(cleaned)
    return _subdivisions(country.upper()).get(folded, folded)
