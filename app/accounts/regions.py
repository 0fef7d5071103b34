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

import json
import os
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
    """Folded code, full code and name of each subdivision of the country -> its code (`TX`).
    Read from pycountry's ISO 3166-2 data file, for this country only: pycountry's own
    subdivision objects cost every worker about 35 MB, this about 2 MB, once."""
    path = os.path.join(pycountry.DATABASE_DIR, "iso3166-2.json")
    with open(path, encoding="utf-8") as data:
        entries = json.load(data)["3166-2"]
    names: dict[str, str] = {}
    for entry in entries:
        full_code = entry["code"]
        subdivision_country, _, code = full_code.partition("-")
        if subdivision_country != country:
            continue
        for alias in (entry["name"], code, full_code):
            names.setdefault(_fold(alias), code)
    return names


def region_key(country: str, text: str | None) -> str:
    cleaned = clean_region(text)
    if cleaned is None:
        return ""
    folded = _fold(cleaned)
    return _subdivisions(country.upper()).get(folded, folded)
