"""``reimport/customers_update.xlsx``: the re-import of a workbook input as a workbook.

Its rows and columns are ``customers_update.csv``'s (:func:`connectors.reimport.customers_update`),
its header cells the sheet's as typed (``By `` keeps its space). A cell the run left as it was
goes back as the kind the sheet had: the customer number ``10000``, the postal code ``6000`` and
the balance ``46540.37`` as numbers, ``29-03-2023`` as a date, ``00042`` as the number 42 shown
with its format ``00000`` — each with the sheet's own number format, so an ERP loading the
workbook (Business Central, Uniconta) gets numbers and dates where the sheet had them. A value the
run cleaned (a phone number, ``+4530513124``; a name) is text, as is every cell that was text in
the sheet (``30513124`` typed as text stays text). No cell is a formula: text is text in a
workbook, an ``=`` before it included.

The sheet's number cells are read again from the input file (:mod:`connectors.workbook_cells`),
when it is still the file the run read (its SHA-256); otherwise, or for a workbook piped in on
standard input, every cell is text, as ``customers_update.csv`` writes it. The file is opened by
the path the run was given: the input's description names it with any CPR number masked
(``kunder_XXXXXX-XXXX.xlsx`` for ``kunder_010190-1234.xlsx``), a name no file has, and so is its
sheet's (``Kunder XXXXXX-XXXX``), found again among the workbook's by its masked name.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from pathlib import Path
from typing import Any

import polars as pl

from datavask.cleansing.cpr import MASK, mask_message
from datavask.cleansing.schema import SRC_PREFIX
from datavask.connectors.workbook_cells import number_cells
from datavask.connectors.xlsx import Sheet, column_widths, typed_cells, write_xlsx

log = logging.getLogger(__name__)


def write_update_xlsx(
    path: Path,
    update: pl.DataFrame,
    as_read: pl.DataFrame,
    input_info: dict[str, Any],
    source: str | None = None,
) -> Path:
    """Write ``update`` (``customers_update``'s rows) to ``path`` as one sheet.

    ``as_read`` is, row for row with ``update``, the records' ``source_row`` and the ``src_``
    column of each of ``update``'s columns: a cell is written as the sheet's number only where
    the value going back is the one read. ``source`` is the input as the run was given it, the
    file read again for its number cells; None: ``input_info``'s path, which is that file only
    where its name holds no CPR number (masked, it names no file).
    """
    cells = _input_number_cells(input_info, source)
    frame = typed_update(update, as_read, cells, input_info)
    typed = dict(input_info.get("header_as_typed") or {})
    sheet = Sheet(
        name=str(input_info.get("sheet") or "Sheet1"),
        frame=frame,
        widths=column_widths(update),
        header=[typed.get(c, c) for c in update.columns],
    )
    return write_xlsx(path, [sheet])


def typed_update(
    update: pl.DataFrame,
    as_read: pl.DataFrame,
    cells: pl.DataFrame | None,
    input_info: dict[str, Any],
) -> pl.DataFrame:
    """``update`` with each column that had number cells in the sheet as
    :func:`~datavask.connectors.xlsx.typed_cells`: the sheet's number (value and format) where
    the cell goes back as read (``10000`` under ``Kunde nr.``), the text elsewhere (``30 81 00
    99`` cleaned to ``+4530810099``). ``cells`` are :func:`~datavask.connectors.workbook_cells.
    number_cells` of the sheet read (None: none known, every cell text)."""
    text = update.select(pl.all().cast(pl.String))
    if cells is None or cells.height == 0:
        return text
    position = {c: i for i, c in enumerate(input_info.get("columns") or [])}
    # The table row of number_cells is the row below the sheet's first; source_row 1 is the row
    # below the header, which stood header_row - 1 rows below the first (titles above it).
    header_row = int(input_info.get("header_row") or 1)
    numbers = cells.select(
        "column", (pl.col("row") - header_row + 2).alias("source_row"), "value", "format"
    )
    rows = as_read.select(pl.col("source_row").cast(pl.Int64))
    read, value, out = pl.col("read"), pl.col("value"), pl.col("out")
    # A masked CPR number (src_ holds XXXXXX-XXXX) never goes back as the number behind it.
    kept = (out == read) & ~read.str.contains(MASK, literal=True)
    # A number shown General is read as itself (``6000``, ``46540.37``): one that is not says
    # the cells do not stand where the reader's rows and columns had them.
    astray = (
        value.is_not_null()
        & pl.col("format").is_null()
        & ~read.str.contains(MASK, literal=True)
        & read.cast(pl.Float64, strict=False).ne_missing(value.cast(pl.Float64))
    )
    columns: list[pl.Series] = []
    for name in update.columns:
        own = numbers.filter(pl.col("column") == position.get(name, -1))
        if own.height == 0:
            columns.append(text.get_column(name))
            continue
        found = rows.join(own, on="source_row", how="left", maintain_order="left")
        cell = pl.DataFrame(
            {
                "out": text.get_column(name),
                "read": as_read.get_column(f"{SRC_PREFIX}{name}").cast(pl.String),
                "value": found.get_column("value"),
                "format": found.get_column("format"),
            }
        )
        if cell.select(astray.any()).item():
            log.warning(
                "customers_update.xlsx: the sheet's number cells do not match the rows read "
                "(column %r); every cell is written as text",
                name,
            )
            return text
        typed = typed_cells(out, pl.when(kept).then(value), pl.when(kept).then("format"))
        columns.append(cell.select(typed.alias(name)).to_series())
    return pl.DataFrame(columns)


def _input_number_cells(input_info: dict[str, Any], source: str | None) -> pl.DataFrame | None:
    """The number cells of the sheet the run read, from the input file (``source``, else
    ``input_info``'s path) when it is still the one read; None when it cannot be read again
    (standard input, moved, changed since)."""
    shown, sheet = input_info.get("path"), input_info.get("sheet")
    path = source or shown
    if not path or not sheet:
        return None
    try:
        raw = Path(path).read_bytes()
    except OSError:
        raw = b""
    if hashlib.sha256(raw).hexdigest() != input_info.get("sha256"):
        # named as everywhere else: with a CPR number in the file name masked
        log.warning(
            "customers_update.xlsx: %s is not the workbook the run read (changed, moved or "
            "read from standard input); every cell is written as text",
            shown,
        )
        return None
    data = gzip.decompress(raw) if input_info.get("compression") == "gzip" else raw
    return number_cells(data, _sheet_named(data, str(sheet)))


def _sheet_named(data: bytes, sheet: str) -> str:
    """The workbook's own name of the sheet the input's description names ``sheet``: a CPR
    number in it is masked there (``Kunder XXXXXX-XXXX`` for ``Kunder 0101901234``). The one
    sheet whose name masks to it; ``sheet`` itself when none or several do (the latter's cells
    then are none, and every cell is text)."""
    if MASK not in sheet:
        return sheet
    import fastexcel

    try:
        names = fastexcel.read_excel(data).sheet_names
    except Exception:  # fastexcel raises its own types; the reader proper reported any
        return sheet
    found = [name for name in names if mask_message(name) == sheet]
    return found[0] if len(found) == 1 else sheet
