"""Hostile but ordinary input ends in a finished run or exit 2 with one line (issue 9).

Each test carries the reproducer of the defect it guards against.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from datavask.flows.cli import app

HEADER = "Kundenr;Navn;Adresse;Postnr;By;Telefon;E-mail\n"
ROWS = [
    "1;Hansen Byg ApS;Vestergade 12;8000;Aarhus C;;",
    "2;Jensen VVS ApS;Nørregade 3;8000;Aarhus C;22378415;",
    "3;Møller A/S;Algade 1;4000;Roskilde;;",
    "4;Hansen Byg ApS;Vestergade 12;8000;Aarhus C;;info@hansenbyg.dk",
    "5;Lene Poulsen;Skovvej 9;5000;Odense C;;",
]


@pytest.fixture(autouse=True)
def _no_prefect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAVASK_ORCHESTRATION", "none")


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def cleanse_text(tmp_path: Path, text: str, *args: str, name: str = "in.csv") -> Path:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code, output = run_cli("cleanse", str(source), "--out", str(out), "--registry", "none", *args)
    assert code == 0, output
    return out


# ----------------------------------------------------------------- item 1: tiny and one-valued


@pytest.mark.parametrize("rows", [1, 2, 3, 4, 5])
def test_tiny_files_finish(tmp_path: Path, rows: int) -> None:
    out = cleanse_text(tmp_path, HEADER + "\n".join(ROWS[:rows]) + "\n")
    records = pl.read_parquet(out / "records.parquet")
    assert records["record_id"].to_list() == [str(i) for i in range(1, rows + 1)]


@pytest.mark.parametrize(
    "column", ["phone", "email"], ids=["one-switchboard-for-200", "one-email-of-200"]
)
def test_a_field_with_one_distinct_value_finishes(tmp_path: Path, column: str) -> None:
    rows = []
    for i in range(1, 201):
        phone = "33121212" if column == "phone" else ""
        email = "info@firma.dk" if column == "email" and i == 1 else ""
        rows.append(f"{i};Firma {i} ApS;Vej {i};8000;Aarhus C;{phone};{email}")
    out = cleanse_text(tmp_path, HEADER + "\n".join(rows) + "\n")
    assert pl.read_parquet(out / "records.parquet").height == 200


# ----------------------------------------------------------------- item 8: garbage registry


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("registry.txt", b"this is not a registry\n"),
        ("registry.jsonl", b""),
        ("registry.jsonl", b'{"cvr": "21265837"}\n{"cvr": "10000009"}\n'),
    ],
    ids=["text", "empty", "wrong-shape"],
)
def test_a_garbage_registry_snapshot_exits_2(tmp_path: Path, name: str, content: bytes) -> None:
    snapshot = tmp_path / name
    snapshot.write_bytes(content)
    source = tmp_path / "in.csv"
    source.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    code, output = run_cli("cleanse", str(source), "--out", str(out), "--registry", str(snapshot))
    assert code == 2, output
    lines = [line for line in output.splitlines() if line.strip() and "━" not in line]
    assert lines[-1].startswith("error:") and "ERST documents" in output, output
    assert "Traceback" not in output
    assert not out.exists()
