"""A personal identifier as matching evidence that cannot be read back.

In: ``raw_person_id`` (a CPR number, social-security number or customer identifier, as written).
Out: ``_person_key`` — HMAC-SHA256 of the identifier (upper-cased, without spaces, dashes, dots
or slashes, so ``010190-1234`` and ``0101901234`` agree) under the installation's match key, hex;
null where nothing usable was written.

The key never leaves the process that was handed it (see
:func:`datavask.connectors.match_key.match_key`), so the hash cannot be reversed by trying every
CPR number, and ``_person_key`` is in :data:`~datavask.cleansing.schema.MATCH_ONLY_COLUMNS`: it is
dropped before anything is written. The key is made before CPR numbers are masked — afterwards
every CPR number reads ``XXXXXX-XXXX`` and all would agree.
"""

from __future__ import annotations

import hashlib
import hmac

import polars as pl

from datavask.cleansing.schema import raw, require_columns


def _canonical_id() -> pl.Expr:
    text = pl.col(raw("person_id")).cast(pl.String).str.to_uppercase()
    text = text.str.replace_all(r"[\s\-./]", "")
    return pl.when(text.str.contains(r"[0-9A-Z]")).then(text)


def add_person_key(frame: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """``frame`` with ``_person_key`` (see module docstring)."""
    require_columns(frame, "person_key")
    ids = frame.select(_canonical_id().alias("id"))["id"]
    distinct = ids.drop_nulls().unique()
    hashed = {
        value: hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
        for value in distinct.to_list()
    }
    keys = ids.replace_strict(hashed, default=None, return_dtype=pl.String)
    return frame.with_columns(keys.alias("_person_key"))
