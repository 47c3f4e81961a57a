"""``datavask review`` without a browser: what a decision records. (The page itself, driven
by a browser: ``test_review_page.py``.)"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from datavask.connectors.decisions import read_decisions
from datavask.connectors.review.server import ReviewSession
from datavask.flows.cleanse import CleanseOptions, run_pipeline

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "customers.csv"


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("review") / "runs" / "first"
    run_pipeline(
        CleanseOptions(input=str(SAMPLE), out=str(out), review_band=(0.05, 0.999)),
        orchestrated=False,
    )
    return out


def test_a_decision_carries_the_names_the_page_showed(sample_run: Path, tmp_path: Path) -> None:
    session = ReviewSession(sample_run, tmp_path / "d.csv", "karen")
    session.decide(0, "same", "")
    line = read_decisions(tmp_path / "d.csv").row(0, named=True)
    names = dict(pl.read_parquet(sample_run / "records.parquet").select("record_id", "name").rows())
    assert (line["record_id_l"], line["record_id_r"]) == (
        session.queue[0]["record_id_l"],
        session.queue[0]["record_id_r"],
    )
    assert line["name_l"] == names[line["record_id_l"]] and line["name_l"]
    assert line["name_r"] == names[line["record_id_r"]] and line["name_r"]
