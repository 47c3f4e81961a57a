"""The CRM round trip: load ``reimport/customers_update.csv`` back and cleanse it again.

The update file is read with the same reader as any input (it becomes the input of a second run).
Cleansing is idempotent when that second run has nothing left to change: ``changes.csv`` is
empty — every normalisation, every survivor's golden value and every trusted registry proposal
(the current name of a renamed company, the current address of a company that moved) was
written the first time. A ``NAME_MISMATCH`` without a proposed name (a CVR that names another
company) is flagged for a person in both runs and is never a change.

Nothing here depends on how many rows ``data/sample`` holds or what it plants: the sample may
be regenerated.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from bench.generate import generate, write_dataset
from datavask.connectors.files import read_input
from datavask.connectors.output import read_excel_csv
from datavask.flows.cleanse import CleanseOptions, run_pipeline

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"
SEED = 7


def cleanse(source: Path, out: Path, **options: object) -> Path:
    run_pipeline(
        CleanseOptions(input=str(source), out=str(out), **options),  # type: ignore[arg-type]
        orchestrated=False,
    )
    return out


def changes(run: Path) -> pl.DataFrame:
    return read_excel_csv(run / "changes.csv")


def update_file(run: Path) -> Path:
    return run / "reimport" / "customers_update.csv"


def partition(run: Path) -> set[frozenset[int]]:
    """The clusters as sets of source rows: the same customers, whatever the cluster ids."""
    records = pl.read_parquet(run / "records.parquet", columns=["source_row", "cluster_id"])
    groups = records.group_by("cluster_id").agg("source_row")["source_row"].to_list()
    return {frozenset(group) for group in groups}


@pytest.fixture(scope="module")
def sample_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("roundtrip-sample")
    first = cleanse(SAMPLE / "customers.csv", tmp / "first")
    second = cleanse(update_file(first), tmp / "second")
    return first, second


@pytest.fixture(scope="module")
def economic_input(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An e-conomic export: UTF-8, comma-separated, English API headers."""
    tmp = tmp_path_factory.mktemp("roundtrip-economic")
    dataset = generate(300, SEED, dialect="economic")
    return write_dataset(dataset, tmp / "data", encoding="utf-8", delimiter=",")


@pytest.fixture(scope="module")
def economic_runs(
    economic_input: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("roundtrip-economic-runs")
    registry = str(economic_input["registry"])
    first = cleanse(economic_input["customers"], tmp / "first", registry=registry)
    second = cleanse(update_file(first), tmp / "second", registry=registry)
    return first, second


def assert_shaped_like(update: Path, source: Path) -> None:
    """Same headers in the same order, delimiter, encoding, mapping and rows in input order."""
    frame, info = read_input(update)
    source_frame, source_info = read_input(source)
    assert info.columns == source_info.columns
    assert info.delimiter == source_info.delimiter
    assert info.encoding == source_info.encoding
    assert info.mapping == source_info.mapping
    assert frame["record_id"].to_list() == source_frame["record_id"].to_list()


def test_sample_first_run_changes_something(sample_runs: tuple[Path, Path]) -> None:
    first, _ = sample_runs
    assert changes(first).height > 0
    assert "registry" in set(changes(first)["rule"])


def test_sample_second_run_has_nothing_left_to_change(sample_runs: tuple[Path, Path]) -> None:
    _, second = sample_runs
    leftover = changes(second)
    assert leftover.rows() == [], leftover.group_by("rule", "field").len().rows()


def test_sample_update_file_has_the_inputs_shape(sample_runs: tuple[Path, Path]) -> None:
    first, _ = sample_runs
    assert_shaped_like(update_file(first), SAMPLE / "customers.csv")


def test_name_mismatch_without_proposal_is_left_to_a_person(
    sample_runs: tuple[Path, Path],
) -> None:
    """Records whose CVR names another company keep their name and stay flagged."""
    first, second = sample_runs
    records = pl.read_parquet(first / "records.parquet")
    again = pl.read_parquet(second / "records.parquet")
    mismatched = set(
        records.filter(pl.col("flags").list.contains("NAME_MISMATCH"))["record_id"].to_list()
    )
    still = set(again.filter(pl.col("flags").list.contains("NAME_MISMATCH"))["record_id"])
    # a renamed company was given its current name; every other mismatch is still there
    assert still <= mismatched
    kept = records.filter(pl.col("record_id").is_in(list(still))).select("record_id", "name")
    assert kept.equals(
        again.filter(pl.col("record_id").is_in(list(still))).select("record_id", "name")
    )


def test_sample_second_run_finds_the_same_clusters(sample_runs: tuple[Path, Path]) -> None:
    first, second = sample_runs
    assert partition(second) == partition(first)


def test_economic_second_run_has_nothing_left_to_change(
    economic_runs: tuple[Path, Path],
) -> None:
    first, second = economic_runs
    assert changes(first).height > 0
    assert changes(second).rows() == []


def test_economic_update_file_has_the_inputs_shape(
    economic_input: dict[str, Path], economic_runs: tuple[Path, Path]
) -> None:
    first, _ = economic_runs
    assert_shaped_like(update_file(first), economic_input["customers"])
    _, info = read_input(update_file(first))
    assert (info.encoding, info.delimiter) == ("utf-8", ",")


def test_economic_second_run_finds_the_same_clusters(economic_runs: tuple[Path, Path]) -> None:
    first, second = economic_runs
    assert partition(second) == partition(first)


def test_only_changed_writes_exactly_the_changed_rows(tmp_path: Path) -> None:
    first = cleanse(SAMPLE / "customers.csv", tmp_path / "first", only_changed=True)
    changed_ids = set(changes(first)["record_id"])
    update, info = read_input(update_file(first))
    _, source_info = read_input(SAMPLE / "customers.csv")
    assert info.columns == source_info.columns
    assert (info.encoding, info.delimiter) == (source_info.encoding, source_info.delimiter)
    # every changed row is there, once; no unchanged row is
    assert sorted(update["record_id"].to_list()) == sorted(changed_ids)
    all_ids = set(pl.read_parquet(first / "records.parquet")["record_id"])
    assert all_ids - changed_ids, "the sample should have rows cleansing leaves alone"

    second = cleanse(update_file(first), tmp_path / "second")
    assert changes(second).rows() == []
