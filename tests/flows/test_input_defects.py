"""Hostile inputs end to end (issue 9): each one finishes with every input row exactly once."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl

from datavask.flows.cleanse import CleanseOptions, run_pipeline

REPO = Path(__file__).resolve().parents[2]
SAMPLE_CSV = REPO / "data" / "sample" / "customers.csv"


def sample_rows() -> tuple[list[str], list[list[str]]]:
    """The sample's header and records (a record may span lines: c/o addresses)."""
    text = SAMPLE_CSV.read_bytes().decode("cp1252")
    header, *rows = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    return header, rows


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """A ';'-separated UTF-8 file the way Excel writes it (fields quoted only where needed)."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows([header, *rows])
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path


def cleanse(tmp_path: Path, source: Path | str, **options: object) -> Path:
    out = tmp_path / "out"
    opts = CleanseOptions(input=str(source), out=str(out), registry="none", **options)  # type: ignore[arg-type]
    run_pipeline(opts, orchestrated=False)
    return out


def assert_rows_conserved(out: Path, expected_rows: int) -> pl.DataFrame:
    records = pl.read_parquet(out / "records.parquet")
    assert records.height == expected_rows
    assert records["source_row"].to_list() == list(range(1, expected_rows + 1))
    assert records["record_id"].n_unique() == expected_rows
    assert any(c.startswith("src_") for c in records.columns)
    return records


def test_made_up_ids_never_collide_with_real_ones(tmp_path: Path) -> None:
    """A blank id on row 1 beside customer 1, and ids 5, 5, 5#1: the run finishes (was ShapeError)."""
    header, rows = sample_rows()
    rows = rows[:120]
    rows[9] = ["77", *rows[0][1:]]  # a duplicate of the row that will have no id
    for row, customer_number in zip(rows, ["", "1", "5", "5", "5#1"], strict=False):
        row[0] = customer_number
    source = write_rows(tmp_path / "ids.csv", header, rows)

    out = cleanse(tmp_path, source)
    records = assert_rows_conserved(out, 120)
    assert records["src_Kundenr"].head(5).to_list() == [None, "1", "5", "5", "5#1"]

    counts = json.loads((out / "run.json").read_text())["counts"]
    assert (counts["rows_without_id"], counts["repeated_ids"], counts["rows_with_repeated_id"]) == (
        1,
        1,
        2,
    )
    # The CRM gets back only ids it has: the row without one has an empty id cell ...
    update = pl.read_csv(
        out / "reimport" / "customers_update.csv", separator=";", infer_schema=False
    )
    assert update.height == 120
    assert update["Kundenr"].head(5).to_list() == [None, "1", "5", "5", "5#1"]
    # ... and the merge plan names records by the CRM's ids, or by input row where there is none.
    plan = pl.read_csv(out / "reimport" / "merge_plan.csv", infer_schema=False)
    crm_ids = set(records["src_Kundenr"].drop_nulls().to_list())
    named = plan["survivor_id"].drop_nulls().to_list() + [
        i for ids in plan["merged_ids"].drop_nulls().to_list() for i in ids.split(";")
    ]
    assert named and set(named) <= crm_ids
    first = plan.filter(pl.col("survivor_row") == "1").row(0, named=True)
    assert first["survivor_id"] is None and first["merged_ids"] == "77"
    assert first["merged_rows"] == "10"
