"""CPR numbers masked in everything a read produced, before any of it is written anywhere.

:func:`mask_input` is called by :func:`datavask.connectors.files.read_input` on the canonical frame
and its :class:`~datavask.connectors.files.InputInfo`: every cell (text and integer columns, see
:func:`datavask.cleansing.cpr.mask_cpr`), every header cell, and the input's own file name. The
run's work directory, logs and outputs only ever see the masked frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import polars as pl

from datavask.cleansing.cpr import MASK, TEXT_MASKED_FIELDS, mask_cpr, mask_message, names_cpr
from datavask.cleansing.schema import RAW_PREFIX, SRC_PREFIX, raw

if TYPE_CHECKING:
    from datavask.connectors.files import InputInfo

BeforeMasking = Callable[[pl.DataFrame], pl.DataFrame]
PERSON_ID = raw("person_id")


def mask_input(
    frame: pl.DataFrame,
    info: InputInfo,
    *,
    before_masking: BeforeMasking | None = None,
    match_key: bytes | None = None,
) -> pl.DataFrame:
    """``frame`` with every CPR number masked; ``info``'s path, columns and mapping likewise.

    The person identifier's keyed hash (``_person_key``) is taken first, under ``match_key``
    (default: the installation's, :func:`datavask.connectors.match_key.match_key`; a cluster's
    workers are handed the driver's, so that every part hashes alike). ``before_masking`` gets
    the raw frame and returns it with whatever else must be derived from a raw CPR number — the
    one place a raw number may be read.
    """
    if before_masking is not None:
        frame = before_masking(frame)
    frame = _with_person_key(frame, match_key)
    # the input columns the person text and phone fields were read from, too
    person_text = frozenset(
        {f"{RAW_PREFIX}{f}" for f in TEXT_MASKED_FIELDS}
        | {f"{SRC_PREFIX}{info.mapping[f]}" for f in TEXT_MASKED_FIELDS if f in info.mapping}
    )
    frame = mask_cpr(frame, person_text=person_text, cpr_columns=_cpr_person_id(info))
    renamed = mask_info(info)
    if renamed:
        frame = frame.rename(
            {f"{SRC_PREFIX}{old}": f"{SRC_PREFIX}{new}" for old, new in renamed.items()}
        )
    return frame


def _with_person_key(frame: pl.DataFrame, key: bytes | None) -> pl.DataFrame:
    """``frame`` with ``_person_key``, the person identifier's keyed hash, taken while the
    identifier is still as written: once masked, every CPR number reads ``XXXXXX-XXXX`` and all
    would hash alike, so two people would agree on it (see :mod:`datavask.cleansing.person_key`).
    The hash is only ever read by matching and is dropped before anything is output."""
    if PERSON_ID not in frame.columns or frame[PERSON_ID].null_count() == frame.height:
        return frame
    from datavask.cleansing.person_key import add_person_key
    from datavask.connectors.match_key import match_key

    return add_person_key(frame, key if key is not None else match_key())


def _cpr_person_id(info: InputInfo) -> frozenset[str]:
    """``raw_person_id`` when it was read from a column named for CPR numbers (``CPR-nr``): its
    name no longer says so, yet a nine-digit number in it is a CPR number that lost its leading
    zero as surely as in the ``src_`` column beside it."""
    source = info.mapping.get("person_id")
    return frozenset({PERSON_ID}) if source is not None and names_cpr(source) else frozenset()


def mask_info(info: InputInfo) -> dict[str, str]:
    """``info``'s path, sheet names and column names masked in place; returns the renamed
    columns.

    What :func:`mask_input` does to ``info``, for a reader that masks its rows elsewhere (the Dask
    engine masks each partition on a worker and the input's description on the driver).
    """
    info.path = mask_message(info.path)
    # A workbook's sheet names are the file's words too (``Kunder 0101901234``): run.json, the
    # report and the terminal summary name them.
    if info.sheet is not None:
        info.sheet = mask_message(info.sheet)
    info.sheets_not_read = [mask_message(name) for name in info.sheets_not_read]
    renamed = _masked_names(info.columns)
    # A padded header cell as typed (`` Kunde 0101901234``), which the re-import writes back.
    info.header_as_typed = {
        renamed.get(c, c): mask_message(cell) for c, cell in info.header_as_typed.items()
    }
    if renamed:
        info.columns = [renamed.get(c, c) for c in info.columns]
        info.unmapped = [renamed.get(c, c) for c in info.unmapped]
        info.mapping = {f: renamed.get(c, c) for f, c in info.mapping.items()}
        info.date_parts = {
            f: [renamed.get(c, c) for c in parts] for f, parts in info.date_parts.items()
        }
    return renamed


def _masked_names(columns: list[str]) -> dict[str, str]:
    """Header cells holding a CPR number, and their masked names (kept unique)."""
    taken = set(columns)
    renamed: dict[str, str] = {}
    for column in columns:
        masked = mask_message(column)
        if masked == column:
            continue
        unique, n = masked, 1
        while unique in taken:
            n += 1
            unique = f"{masked} ({n})"
        taken.add(unique)
        renamed[column] = unique
    return renamed


def masked_columns(frame: pl.LazyFrame | pl.DataFrame) -> list[str]:
    """The input columns (``src_<column>``, named without the prefix) in which a CPR number was
    masked: the re-import leaves them out, so loading it never writes the mask over the CRM's
    numbers (:func:`datavask.connectors.reimport.customers_update`)."""
    lazy = frame.lazy()
    # a Parquet input's list or struct column is looked into as its JSON (``["a","XXXXXX-XXXX"]``)
    text = {
        name: pl.col(name)
        if dtype == pl.String
        else pl.struct(pl.col(name).alias("v")).struct.json_encode().alias(name)
        for name, dtype in lazy.collect_schema().items()
        if name.startswith(SRC_PREFIX) and (dtype == pl.String or dtype.is_nested())
    }
    if not text:
        return []
    found = lazy.select(
        value.str.contains(MASK, literal=True).any() for value in text.values()
    ).collect()
    return [name[len(SRC_PREFIX) :] for name in text if found[name][0]]
