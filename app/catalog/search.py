"""Catalog search and sort expressions that give the same results on SQLite and PostgreSQL.

Matching: every word of `q` must start a word of the product's name, SKU or description
(case-insensitive). The database's own full-text index answers it: SQLite's FTS5 table
`products_fts`, PostgreSQL's `search_vector` column (GIN). With SEARCH_FULLTEXT off, a plain
LIKE scan gives the same results on data whose words are not hidden inside longer words.

Relevance is computed the same way on both engines (not with bm25 or ts_rank, which differ):
a word starting the name counts 3, found in the SKU 2, starting a word of the description 1.
"""

import operator
import re
from functools import reduce
from typing import Any

from flask import current_app
from sqlalchemy import Select, String, and_, case, func, literal_column, or_, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from app.platform.db import db
from app.platform.models import Product

MAX_TERMS = 10
_WORD = re.compile(r"\w+")


class name_key(FunctionElement):
    """lower(name), compared byte by byte on every engine (PostgreSQL's locale would not)."""

    type = String()
    inherit_cache = True


@compiles(name_key)
def _name_key_default(element, compiler, **kw):
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(name_key, "postgresql")
def _name_key_postgresql(element, compiler, **kw):
    return f'(lower({compiler.process(element.clauses, **kw)}) COLLATE "C")'


def search_terms(q: str) -> list[str]:
    return _WORD.findall(q.lower())[:MAX_TERMS]


def matches(terms: list[str]) -> ColumnElement[bool]:
    """Products containing every term (as the start of a word)."""
    if not current_app.config["SEARCH_FULLTEXT"]:
        return _like_all(terms)
    if db.engine.dialect.name == "postgresql":
        query = " & ".join(f"{term}:*" for term in terms)
        return literal_column("products.search_vector").op("@@")(func.to_tsquery("simple", query))
    query = " AND ".join(f'"{term}"*' for term in terms)
    hits: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(text("products_fts"))
        .where(text("products_fts MATCH :fts_query").bindparams(fts_query=query))
    )
    return Product.id.in_(hits)


def _like(column, pattern: str) -> ColumnElement[bool]:
    return func.lower(func.coalesce(column, "")).like(pattern, escape="\\")


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _starts_a_word(column, term: str) -> ColumnElement[bool]:
    word = _escape(term)
    return _like(column, f"{word}%") | _like(column, f"% {word}%")


def _hits(term: str) -> list[tuple[ColumnElement[bool], int]]:
    """Where a term counts, with its weight: starting a word of the name, inside the SKU,
    starting a word of the description."""
    return [
        (_starts_a_word(Product.name, term), 3),
        (_like(Product.sku, f"%{_escape(term)}%"), 2),
        (_starts_a_word(Product.description, term), 1),
    ]


def _like_all(terms: list[str]) -> ColumnElement[bool]:
    return and_(*(or_(*(hit for hit, _weight in _hits(term))) for term in terms))


def relevance(terms: list[str]) -> ColumnElement[int]:
    scores = (case((hit, weight), else_=0) for term in terms for hit, weight in _hits(term))
    return reduce(operator.add, scores)
