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
from typing import Any

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


def write_table(frame: pl.DataFrame, path: Path) -> Path:
    """Write ``frame`` in the format the path's suffix names (.parquet, .csv or .xlsx)."""
    suffix = path.suffix
    if suffix == ".parquet":
        frame.write_parquet(path, statistics=False)
    elif suffix == ".csv":
        flat_for_text(frame).write_csv(path)
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
