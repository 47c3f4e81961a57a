"""Bad input and bad options: one clear line, exit status 2, no traceback, no output directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datavask.flows.cli import app

BAD_FILES = {
    "empty.csv": b"",
    "header-only.csv": b"Navn;Postnr;By\r\n",
    "binary.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
    "unmappable.csv": b"foo;bar\n1;2\n",
    "duplicate-header.csv": b"Navn;Navn\nA;B\n",
    "huge-field.csv": b'Navn;By\n"' + b"x" * 5_000_000 + b'";C\n',
    "broken.xlsx": b"not a workbook",
}


@pytest.fixture(autouse=True)
def _no_prefect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAVASK_ORCHESTRATION", "none")


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_input_exits_2_with_one_line(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name])
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["cleanse", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("error:")
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not list(tmp_path.glob(".out.partial-*"))  # nothing half-written left behind


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--review-band", "0.9:0.5"], "--review-band"),
        (["--review-band", "abc"], "--review-band"),
        (["--mapping", "/nonexistent.toml"], "--mapping"),
        (["--blacklist", "/nonexistent.csv"], "--blacklist"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    path = tmp_path / "in.csv"
    path.write_text("Navn\nA\n")
    result = CliRunner().invoke(app, ["cleanse", str(path), *args])
    assert result.exit_code == 2
    assert message in result.output


def test_out_dir_that_is_not_a_run_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("Navn\nA\n")
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.docx").write_text("years of work")
    result = CliRunner().invoke(app, ["cleanse", str(path), "--out", str(precious)])
    assert result.exit_code == 2
    assert (precious / "thesis.docx").read_text() == "years of work"


def test_real_process_missing_file_has_no_traceback(tmp_path: Path) -> None:
    env = dict(os.environ, DATAVASK_ORCHESTRATION="none")
    done = subprocess.run(
        [sys.executable, "-m", "datavask", "cleanse", str(tmp_path / "missing.csv")],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "no such file" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
