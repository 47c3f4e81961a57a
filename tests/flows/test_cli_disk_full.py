"""A full disk is the machine's problem, not a bug: one line that says so and where, exit 1.

Found at 5M rows on the Dask engine: the write step's Parquet parts filled the disk and the run
ended in "internal error: ComputeError: parquet: File out of specification: underlying IO error:
No space left on device (os error 28)" and a request for a bug report. A full disk cannot be made
on this machine without mounting a file system, so the error is raised where the run would raise
it (the pipeline call), with the text polars really gave.
"""

from __future__ import annotations

import errno
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import datavask.flows.cli as cli
from datavask.flows.cli import app
from tests.conftest import SAMPLE

POLARS_TEXT = (
    "parquet: File out of specification: underlying IO error: No space left on device (os error 28)"
)


@pytest.fixture(autouse=True)
def _no_prefect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAVASK_ORCHESTRATION", "none")
    monkeypatch.setenv("COLUMNS", "500")


def _chained() -> BaseException:
    try:
        raise OSError(errno.ENOSPC, "No space left on device")
    except OSError as inner:
        try:
            raise RuntimeError("writing records.parquet failed") from inner
        except RuntimeError as outer:
            return outer


@pytest.mark.parametrize(
    "error",
    [
        pl.exceptions.ComputeError(POLARS_TEXT),
        OSError(errno.ENOSPC, "No space left on device"),
        _chained(),
    ],
    ids=["polars", "oserror", "chained"],
)
def test_a_full_disk_is_one_line_not_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    def full(**_: object) -> dict[str, object]:
        raise error

    monkeypatch.setattr(cli, "_run", full)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["cleanse", str(SAMPLE / "customers.csv"), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output and "bug report" not in result.output
    assert result.output.startswith("error: the disk is full"), result.output
    assert "TMPDIR" in result.output
    assert not out.exists()


def test_other_failures_stay_internal_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: object) -> dict[str, object]:
        raise pl.exceptions.ComputeError("parquet: File out of specification: bad footer")

    monkeypatch.setattr(cli, "_run", broken)
    monkeypatch.setenv("DATAVASK_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(
        app, ["cleanse", str(SAMPLE / "customers.csv"), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 1
    assert "internal error" in result.output
