"""bench.compare_runs on real run directories: two runs of one input, a changed file, no run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample" / "customers.csv"


def _compare(before: Path, after: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.compare_runs", str(before), str(after)],
        cwd=REPO,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _cleanse(out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "datavask", "cleanse", str(SAMPLE), "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
        env={**os.environ, "DATAVASK_ORCHESTRATION": "none"},
    )
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _cleanse(tmp_path_factory.mktemp("runs") / "a")


def test_two_runs_of_one_input_are_identical(run_dir: Path, tmp_path: Path) -> None:
    result = _compare(run_dir, _cleanse(tmp_path / "b"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("identical")


def test_a_changed_csv_is_named(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "b"
    shutil.copytree(run_dir, copy)
    changes = copy / "changes.csv"
    changes.write_bytes(changes.read_bytes() + b"x\n")
    result = _compare(run_dir, copy)
    assert result.returncode == 1
    assert "changes.csv" in result.stdout


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_a_path_that_is_no_run_is_exit_2_with_one_line(
    run_dir: Path, tmp_path: Path, kind: str
) -> None:
    other = tmp_path / "nothing"
    if kind == "empty":
        other.mkdir()
    result = _compare(run_dir, other)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(other) in lines[0]
