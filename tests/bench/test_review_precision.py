"""The review list's size and the share of it that is duplicates, from a cleanse's outputs."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from bench.review_precision import review_precision


def _run(out: Path) -> None:
    # Records in another order than the input rows: the truth is by source_row.
    pl.DataFrame({"record_id": ["r2", "r0", "r1", "r3"], "source_row": [2, 0, 1, 3]}).write_parquet(
        out / "records.parquet"
    )
    pl.DataFrame(
        {
            "record_id_l": ["r0", "r0", "r1", "r2"],
            "record_id_r": ["r1", "r2", "r3", "r3"],
            "decision": ["review", "review", "match", "review"],
        }
    ).write_parquet(out / "pairs.parquet")


def test_review_pairs_are_counted_and_checked_against_the_truth(tmp_path: Path) -> None:
    _run(tmp_path)
    entity = pl.Series(["a", "a", "b", None])  # rows 0 and 1 are one entity; row 3 unknown
    found = review_precision(tmp_path, entity)
    assert found == {
        "review_pairs": 3,
        "review_true": 1,
        "review_precision": round(1 / 3, 4),
        "review_per_record": 0.75,
    }


def test_an_empty_review_list_has_no_precision(tmp_path: Path) -> None:
    _run(tmp_path)
    pairs = pl.read_parquet(tmp_path / "pairs.parquet").with_columns(decision=pl.lit("match"))
    pairs.write_parquet(tmp_path / "pairs.parquet")
    found = review_precision(tmp_path, pl.Series(["a", "a", "b", "b"]))
    assert found["review_pairs"] == 0 and found["review_precision"] is None
