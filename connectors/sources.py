"""Read a connector URL (a database table, an accounting system's API) as a text table.

``read_url_table`` is what :func:`connectors.files.read_table` calls for any ``scheme://`` input,
and it keeps the same promise: every data column as text the way a CSV export would show it
(dates ISO, whole numbers without ``.0``, booleans ``true``/``false``, missing values null), plus
``source_row`` (Int64, 1-based) in a stable order, and an :class:`InputInfo` whose ``path`` is the
URL without its password and whose ``sha256`` is a checksum of the rows read.

Supported: ``postgresql://`` (:mod:`datavask.connectors.postgres`) and ``economic://``
(:mod:`datavask.connectors.economic`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import polars as pl

from datavask.connectors.errors import InputError
from datavask.connectors.files import InputInfo

SCHEMES: Final = ("postgresql", "postgres", "economic")
_SECRET_PARAMS: Final = frozenset({"password", "sslpassword"})


@dataclass
class SourceInfo(InputInfo):
    """:class:`InputInfo` plus what only a connector knows: what it read and in which order."""

    source: str | None = None  # e.g. 'table "public"."customers"', 'query', 'customers'
    order: str | None = None  # e.g. 'primary key (id)', 'physical order (ctid)'


def read_url_table(url: str) -> tuple[pl.DataFrame, dict[int, str], SourceInfo]:
    """Read a connector URL; same contract as :func:`datavask.connectors.files.read_table`.

    The second element (problems of individual rows) is always empty: a database or an API
    hands over well-formed rows.
    """
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("postgresql", "postgres"):
        from datavask.connectors.postgres import read_postgres

        table, info = read_postgres(url)
    elif scheme == "economic":
        from datavask.connectors.economic import read_economic

        table, info = read_economic(url)
    else:
        raise InputError(
            f"{redact_url(url)}: unknown connector {scheme!r}; datavask reads files and "
            "postgresql://… (or postgres://…) and economic://… URLs"
        )
    if table.height == 0:
        raise InputError(f"{info.path} has no rows")
    if "source_row" in table.columns:
        table = table.rename({"source_row": "source_row_"})
    info.columns = list(table.columns)
    table = table.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("source_row"))
    return table, {}, info


def redact_url(url: str) -> str:
    """``url`` without its password (in the user part or as a ``password=`` parameter).

    >>> redact_url("postgresql://ann:s3cret@db:5432/crm?table=customers&password=x")
    'postgresql://ann@db:5432/crm?table=customers'
    >>> redact_url("economic://customers")
    'economic://customers'
    """
    parts = urlsplit(url, allow_fragments=False)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}@{host}"
    query = parts.query
    if query:
        kept = [
            (k, v)
            for k, v in parse_qsl(query, keep_blank_values=True)
            if k.lower() not in _SECRET_PARAMS
        ]
        if len(kept) != len(parse_qsl(query, keep_blank_values=True)):
            query = urlencode(kept)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def csv_text(value: Any) -> str | None:
    """A JSON/Python value as a CSV export shows it: ``true``, ``12``, ``12.5``, or null.

    >>> [csv_text(v) for v in (None, True, 12, 12.0, 12.5, "x", {"a": 1})]
    [None, 'true', '12', '12', '12.5', 'x', '{"a": 1}']
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    return json.dumps(value, ensure_ascii=False)
