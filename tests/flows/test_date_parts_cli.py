"""A date of birth in three columns through ``datavask cleanse`` as a subprocess: one cleaned date
beside the three originals, impossible dates kept and flagged, the date parts in run.json and
the report, the birth date compared in matching, and a wrong list stopping the run with one line."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.flows.cli import cleanse

ROWS = [
    # One person twice, her surname misspelt the second time: the birth date says it is her.
    ("CARSTEN", "MEIER", "1949", "7", "22"),
    ("CARSTEN", "MEIR", "1949", "7", "22"),
    # A namesake born another year, and a birth date that is no date (31 February).
    ("CARSTEN", "MEIER", "1971", "3", "5"),
    ("GERD", "BAUER", "1968", "2", "31"),
    ("HANS", "KOCH", "", "", ""),
]
MAPPING = """[columns]
first_name = "fname_c1"
last_name = "lname_c1"
date_of_birth = ["by", "bm", "bd"]
"""


def _cleanse(tmp: Path, mapping: str, rows: list[tuple[str, ...]] = ROWS) -> tuple[int, str, Path]:
    source = tmp / "rl.csv"
    frame = pl.DataFrame(rows, schema=["fname_c1", "lname_c1", "by", "bm", "bd"], orient="row")
    frame.write_csv(source)
    (tmp / "map.toml").write_text(mapping, encoding="utf-8")
    out = tmp / "out"
    mapped = ("--mapping", str(tmp / "map.toml"))
    done = cleanse(source, out, *mapped, "--lang", "en", home=tmp / "home")
    return done.returncode, done.stderr, out


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    code, stderr, out = _cleanse(tmp_path_factory.mktemp("parts"), MAPPING)
    assert code == 0, stderr[-2000:]
    return out


def test_one_date_of_birth_beside_the_three_columns_as_written(run: Path) -> None:
    records = pl.read_parquet(run / "records.parquet").sort("source_row")
    assert records["date_of_birth"].to_list() == [
        "1949-07-22", "1949-07-22", "1971-03-05", None, None
    ]  # fmt: skip
    assert records["date_of_birth_invalid"].to_list() == [False, False, False, True, False]
    written = records.select("src_by", "src_bm", "src_bd").row(3)
    assert written == ("1968", "2", "31")
    assert records["city"].null_count() == records.height  # "by" is no town here


def test_run_json_and_the_report_name_the_date_parts(run: Path) -> None:
    meta = json.loads((run / "run.json").read_text(encoding="utf-8"))
    assert meta["input"]["date_parts"] == {"date_of_birth": ["by", "bm", "bd"]}
    assert "date_of_birth" not in meta["input"]["mapping"]
    assert "by · bm · bd (year, month, day)" in (run / "report.html").read_text(encoding="utf-8")


def test_matching_compares_the_birth_date_read_from_the_parts(run: Path) -> None:
    # Five rows teach the model no weights worth asserting; the levels say the date arrived.
    pairs = pl.read_parquet(run / "pairs.parquet")
    level = {
        frozenset((a, b)): explained["date_of_birth"]["level"]
        for a, b, explained in pairs.select("record_id_l", "record_id_r", "explanation").iter_rows()
    }
    assert level[frozenset(("1", "2"))] == "exact"
    assert level[frozenset(("1", "3"))] == "different"


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ('["by", "bm"]', "a list must name three different columns"),
        ('["by", "bm", "birth_day"]', "does not have: 'birth_day'"),
    ],
)
def test_a_wrong_list_is_exit_2_with_one_line(tmp_path: Path, parts: str, message: str) -> None:
    mapping = MAPPING.replace('["by", "bm", "bd"]', parts)
    code, stderr, out = _cleanse(tmp_path, mapping)
    assert code == 2
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], stderr
    assert not out.exists()
