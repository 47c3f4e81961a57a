"""``cleanse --decisions`` with a file it cannot use: one clear line, exit 2, no output directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from datavask.flows.cli import app

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "customers.csv"


@pytest.fixture(autouse=True)
def _no_prefect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAVASK_ORCHESTRATION", "none")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"Kundenr;Navn\n1;Hansen\n", "not a decisions file"),
        (b"record_id_l,record_id_r,decision\n1,2,s\xf8\n", "must be UTF-8"),
    ],
)
def test_unusable_decisions_file_exits_2(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    decisions = tmp_path / "decisions.csv"
    if content is not None:
        decisions.write_bytes(content)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["cleanse", str(SAMPLE), "--out", str(out), "--decisions", str(decisions)]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
