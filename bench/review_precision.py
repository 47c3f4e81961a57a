"""How much of the review list a person would work is duplicates: from a ``datavask cleanse``
output directory and the truth, the number of pairs in review and the share of them that are one
entity (``review precision``), beside the review pairs per record.

The pairs are read from ``pairs.parquet`` (``decision == "review"``), the records' positions from
``records.parquet`` (``source_row``); the truth is one entity per input row in input order.

    python -m bench.review_precision --out /tmp/m1m --truth gen1m/truth.parquet
    python -m bench.review_precision --keep /tmp/cli-runs     # the sets bench_cli --keep kept
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import polars as pl

TRUTH_COLUMN = "true_entity"  # the column bench_cli writes the truth into (bench_cli.TRUTH_COLUMN)


def review_precision(out: Path, entity: pl.Series) -> dict[str, Any]:
    """``review_pairs``, how many of them are ``true``, ``review_precision`` (their share; None
    when the list is empty) and ``review_per_record``, for the run in ``out`` against ``entity``
    (one value per input row, input order; null where unknown, never a match)."""
    records = pl.read_parquet(out / "records.parquet", columns=["record_id", "source_row"])
    rows = records.sort("source_row").with_row_index("_pos").select("record_id", "_pos")
    truth = pl.DataFrame({"_pos": pl.int_range(entity.len(), eager=True, dtype=pl.UInt32)})
    truth = truth.with_columns(entity.cast(pl.String).alias("_entity"))
    located = rows.join(truth, on="_pos", how="left").select("record_id", "_entity")
    review = (
        pl.scan_parquet(out / "pairs.parquet")
        .filter(pl.col("decision") == "review")
        .select("record_id_l", "record_id_r")
        .collect()
    )
    both = review.join(
        located.rename({"record_id": "record_id_l", "_entity": "_l"}), on="record_id_l", how="left"
    ).join(
        located.rename({"record_id": "record_id_r", "_entity": "_r"}), on="record_id_r", how="left"
    )
    true = int((both["_l"] == both["_r"]).fill_null(False).sum())
    return {
        "review_pairs": review.height,
        "review_true": true,
        "review_precision": round(true / review.height, 4) if review.height else None,
        "review_per_record": round(review.height / max(records.height, 1), 4),
    }


def _truth_file(path: Path) -> pl.Series:
    """The entity per input row of a generator's truth (``source_row``, ``entity_id``)."""
    frame = pl.read_parquet(path, columns=["source_row", "entity_id"]).sort("source_row")
    return frame["entity_id"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.review_precision", description=__doc__)
    parser.add_argument("--out", type=Path, help="a cleanse output directory")
    parser.add_argument("--truth", type=Path, help="the generator's truth.parquet for --out")
    parser.add_argument("--keep", type=Path, help="a bench_cli --keep directory: every set in it")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    if args.out is not None:
        if args.truth is None:
            parser.error("--out needs --truth")
        results[str(args.out)] = review_precision(args.out, _truth_file(args.truth))
    if args.keep is not None:
        for work in sorted(p for p in args.keep.iterdir() if (p / "datavask-out").is_dir()):
            user_file = work / f"{work.name}.csv"
            entity = pl.read_csv(user_file, columns=[TRUTH_COLUMN], infer_schema=False)
            results[work.name] = review_precision(work / "datavask-out", entity[TRUTH_COLUMN])
    for name, r in results.items():
        print(name, json.dumps(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
