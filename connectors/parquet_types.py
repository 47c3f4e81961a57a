"""A Parquet input's columns in types every later step reads and writes.

The cleansing reads a mapped column as text, and the outputs write every input column back:
``records.parquet`` as it is, ``records.csv``/``.xlsx``, ``worklist.xlsx`` and
``customers_update.csv`` as text, a list joined (``a|b``) and a struct as JSON. Arrow has types
none of those takes — a map, a duration, bytes, a time-zoned timestamp in a list — and each one
stopped the run with an internal error, a byte column only at the write step after the whole
run. So they become text as the file is read, before anything else happens:

- a duration in ISO 8601: ``PT1H30M``;
- bytes as their UTF-8 text where every value of the column is UTF-8 (Hive and Impala write
  string columns so, without the annotation that says so), else in hexadecimal: ``ff00``;
- a time-zoned timestamp as polars writes it: ``2024-01-02 04:04:05.000000+01:00``;
- a map, a fixed-size list, a list of lists, and a list or struct holding any of these as its
  JSON text: ``{"a":1}``, ``["PT1S"]``, ``{"b":"ff00"}`` (bytes inside one in hexadecimal).

A list of plain values or a struct of them stays as it is (``src_tags`` a list in
``records.parquet``); a type that cannot be turned into text either is refused with the column
named, before the run starts.
"""

from __future__ import annotations

from typing import Final

import polars as pl
from polars.datatypes import DataTypeClass

from datavask.connectors.errors import InputError

# polars 2 reads a Parquet map as a Map; polars 1 as a list of key/value structs, a plain list.
_MAP: Final = getattr(pl, "Map", None)
# A nested type's inner types may be given as classes (``pl.List(pl.String)``).
_Type = pl.DataType | DataTypeClass


def as_readable(table: pl.DataFrame, path: object) -> pl.DataFrame:
    """``table`` with every column of a type no later step takes turned into text (see the
    module docstring); InputError naming the column where that cannot be done."""
    schema = table.schema
    converted = []
    for name, dtype in schema.items():
        if _kept(dtype):
            continue
        try:
            converted.append(_as_text(table.get_column(name), dtype))
        except pl.exceptions.PolarsError as exc:
            raise InputError(
                f"{path}: column {name!r} is of a Parquet type datavask cannot read as text "
                f"({dtype}: {str(exc).splitlines()[0]}); convert it to text or leave it out"
            ) from None
    return table.with_columns(converted) if converted else table


def needs_whole_read(schema: pl.Schema) -> bool:
    """Whether a column holds bytes at its top level: whether they are UTF-8 text is told by
    the whole column, which a part of the file does not see."""
    return any(dtype == pl.Binary for dtype in schema.values())


def _plain(dtype: _Type) -> bool:
    """A value every output writes as it is or casts to text: ``Kundenr``, ``8000``, a date."""
    if isinstance(dtype, pl.Datetime):
        return dtype.time_zone is None  # Excel has no time zones
    return (
        dtype.is_numeric()
        or isinstance(dtype, pl.Date | pl.Time | pl.Categorical | pl.Enum)
        or dtype in (pl.String, pl.Boolean, pl.Null)
    )


def _kept(dtype: _Type) -> bool:
    """Plain, or a list of plain values or structs, or a struct of kept fields: the outputs
    join a list's values and write a struct as JSON."""
    if isinstance(dtype, pl.List):
        return _plain(dtype.inner) or (isinstance(dtype.inner, pl.Struct) and _kept(dtype.inner))
    if isinstance(dtype, pl.Struct):
        return all(_kept(f.dtype) for f in dtype.fields)
    return _plain(dtype)


def _as_text(column: pl.Series, dtype: pl.DataType) -> pl.Series:
    if dtype == pl.Binary:
        try:
            return column.cast(pl.String)  # a string column written without its annotation
        except pl.exceptions.ComputeError:  # "invalid utf8": no text, bytes
            return column.bin.encode("hex")
    if isinstance(dtype, pl.Duration):
        return column.dt.to_string("iso")
    if not dtype.is_nested():
        return column.cast(pl.String)
    # JSON of the value wrapped in a struct, {"v":…} cut off, as reimport.as_text writes lists
    value = _hexed_bytes(pl.col(column.name), dtype).alias("v")
    text = pl.struct(value).struct.json_encode().str.slice(5).str.strip_suffix("}")
    frame = column.to_frame()
    nonnull = pl.when(pl.col(column.name).is_not_null()).then(text)
    return frame.select(nonnull.alias(column.name)).to_series()


def _hexed_bytes(expr: pl.Expr, dtype: _Type) -> pl.Expr:
    """``expr`` with bytes anywhere inside it in hexadecimal: polars writes no bytes as JSON."""
    if not _holds_bytes(dtype):
        return expr
    if dtype == pl.Binary:
        return expr.bin.encode("hex")
    if isinstance(dtype, pl.List):
        return expr.list.eval(_hexed_bytes(pl.element(), dtype.inner))
    if isinstance(dtype, pl.Array):
        return expr.arr.to_list().list.eval(_hexed_bytes(pl.element(), dtype.inner))
    if isinstance(dtype, pl.Struct):
        fields = [
            _hexed_bytes(expr.struct.field(f.name), f.dtype).alias(f.name) for f in dtype.fields
        ]
        return pl.when(expr.is_not_null()).then(pl.struct(fields))
    if _MAP is not None and isinstance(dtype, _MAP):  # as its key/value pairs
        pair = pl.Struct({"key": dtype.key, "value": dtype.value})
        return _hexed_bytes(expr.cast(pl.List(pair)), pl.List(pair))
    raise pl.exceptions.InvalidOperationError(f"bytes inside {dtype}")


def _holds_bytes(dtype: _Type) -> bool:
    if dtype == pl.Binary:
        return True
    if isinstance(dtype, pl.List | pl.Array):
        return _holds_bytes(dtype.inner)
    if isinstance(dtype, pl.Struct):
        return any(_holds_bytes(f.dtype) for f in dtype.fields)
    if _MAP is not None and isinstance(dtype, _MAP):
        return _holds_bytes(dtype.key) or _holds_bytes(dtype.value)
    return False
