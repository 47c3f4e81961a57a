"""Issue 4's finish line: the sample's planted registry cases are flagged, from a snapshot and from
the ERST API alike, and no look-up failure ever reads as 'not found'."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest

from datavask.flows.cleanse import CleanseOptions, run_pipeline
from tests.connectors.erst_server import ErstServer

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
REGISTRY_CODES = (
    "COMPANY_BANKRUPT", "COMPANY_DISSOLVED", "COMPANY_DISTRESSED", "CVR_NOT_FOUND", "NAME_MISMATCH",
    "ADDRESS_MISMATCH", "MISSING_EAN",
)  # fmt: skip


def _run(tmp_path: Path, name: str, registry: str) -> pl.DataFrame:
    out = tmp_path / name
    run_pipeline(
        CleanseOptions(input=str(SAMPLE / "customers.csv"), out=str(out), registry=registry),
        orchestrated=False,
    )
    return pl.read_parquet(out / "records.parquet")


@pytest.fixture(scope="module")
def snapshot_records(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    return _run(tmp_path_factory.mktemp("snap"), "out", str(SAMPLE / "registry.jsonl.gz"))


@pytest.mark.parametrize("code", REGISTRY_CODES)
def test_every_planted_registry_case_is_flagged(snapshot_records: pl.DataFrame, code: str) -> None:
    truth = pl.read_parquet(SAMPLE / "truth.parquet")
    expected = set(truth.filter(pl.col("expected_flags").list.contains(code))["record_id"])
    got = set(snapshot_records.filter(pl.col("flags").list.contains(code))["record_id"])
    assert expected, f"the sample plants no {code}"
    assert got == expected


def test_erst_api_gives_identical_records(
    snapshot_records: pl.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with gzip.open(SAMPLE / "registry.jsonl.gz", "rt", encoding="utf-8") as fh:
        documents = [json.loads(line)["_source"] for line in fh if line.strip()]
    with ErstServer(documents=documents) as server:
        monkeypatch.setenv("DATAVASK_CVR_USER", server.user)
        monkeypatch.setenv("DATAVASK_CVR_PASSWORD", server.password)
        online = _run(tmp_path, "online", f"{server.host}/cvr-permanent")
        assert any("_search" in str(r) for r in server.requests)
    assert online.equals(snapshot_records)


def test_an_outage_is_unchecked_never_not_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ErstServer(documents=[]) as server:
        url = f"{server.host}/cvr-permanent"
        server.stop()  # the registry is down for the whole run
        monkeypatch.setenv("DATAVASK_CVR_USER", server.user)
        monkeypatch.setenv("DATAVASK_CVR_PASSWORD", server.password)
        monkeypatch.setenv("DATAVASK_HOME", str(tmp_path / "home"))  # no cached answers
        records = _run(tmp_path, "down", url)
    with_cvr = records.filter(pl.col("cvr").is_not_null())
    assert with_cvr.height > 0
    assert with_cvr["flags"].list.contains("REGISTRY_UNCHECKED").all()
    assert not records["flags"].list.contains("CVR_NOT_FOUND").any()
