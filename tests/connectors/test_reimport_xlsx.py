"""customers_update.xlsx: a workbook input's re-import, each cell the kind the sheet had."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import polars as pl

from datavask.cleansing.cpr import MASK
from datavask.cleansing.survivorship import build_golden
from datavask.connectors.files import read_input
from datavask.connectors.reimport import write_reimport
from datavask.connectors.reimport_xlsx import typed_update

HEADER = ["Kundenr", "Navn", "Postnr", "By ", "Telefon", "Note", "Gruppe", "Oprettet", "Saldo"]


def hand_made_workbook(path: Path) -> Path:
    """A sheet as typed by hand: a title, an empty column A, numbers, dates, a zero-padded
    group number, digits typed as text, a padded header ``By ``, a text that starts with ``=``."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Kunder"
    sheet["B1"] = "Kundeliste pr. 1/12-2026"
    rows = [
        HEADER,
        [10000, "hansen byg aps", 8000, "Aarhus C", 12345678, "=1+1", 42,
         dt.date(2023, 3, 29), 46540.37],
        [10010, "Jensen Catering A/S", 6700, "Esbjerg", "30 81 00 99", "30513124", 7,
         dt.date(2022, 11, 24), 7],
    ]  # fmt: skip
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row, start=2):
            sheet.cell(r, c, value)
    sheet["G4"].data_type = "s"  # typed as text ('=1+1), not a formula
    for r in (4, 5):
        sheet.cell(r, 8).number_format = "00000"
        sheet.cell(r, 9).number_format = "DD-MM-YYYY"
        sheet.cell(r, 10).number_format = "#,##0.00"
    book.save(path)
    return path


def cleaned(frame: pl.DataFrame) -> pl.DataFrame:
    """What the normalisers would have added: the name re-cased, the phone numbers in E.164."""
    return frame.with_columns(
        pl.Series("name", ["Hansen Byg ApS", "Jensen Catering A/S"]),
        pl.Series("postal_code", ["8000", "6700"]),
        pl.Series("city", ["Aarhus C", "Esbjerg"]),
        pl.Series("phone_e164", ["+4512345678", "+4530810099"]),
        pl.Series("cluster_id", ["a", "b"]),
    )


def test_cells_go_back_as_the_kind_the_sheet_had(tmp_path: Path) -> None:
    """Before, every cell of customers_update.xlsx was text: the customer number ``10000``,
    the postal code, a balance ``46540.37`` and the dates — an ERP importing the workbook
    (Business Central, Uniconta) got text where the sheet had numbers and dates — and the header
    ``By `` came back ``By``."""
    source = hand_made_workbook(tmp_path / "kunder.xlsx")
    frame, info = read_input(source)
    records = cleaned(frame)
    write_reimport(
        tmp_path / "out", records, build_golden(records), None, input_info=info.to_dict()
    )
    book = openpyxl.load_workbook(tmp_path / "out" / "reimport" / "customers_update.xlsx")
    sheet = book["Kunder"]
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == HEADER

    def cell(row: int, column: str) -> tuple[object, str, str]:
        found = rows[row][HEADER.index(column)]
        return found.value, found.data_type, found.number_format

    assert cell(1, "Kundenr") == (10000, "n", "General")
    assert cell(1, "Postnr") == (8000, "n", "General")
    assert cell(1, "Gruppe") == (42, "n", "00000")  # shown 00042, as in the sheet
    assert cell(1, "Oprettet") == (dt.datetime(2023, 3, 29), "d", "DD-MM-YYYY")
    assert cell(1, "Saldo") == (46540.37, "n", "#,##0.00")
    # what the run cleaned is text; so is what the sheet had as text, digits or a formula's "="
    assert cell(1, "Navn") == ("Hansen Byg ApS", "s", "General")
    assert cell(1, "Telefon") == ("+4512345678", "s", "General")
    assert cell(1, "Note") == ("=1+1", "s", "General")
    assert cell(2, "Note") == ("30513124", "s", "General")
    assert cell(2, "Saldo") == (7, "n", "#,##0.00")
    assert all(c.data_type != "f" for row in rows for c in row)


def test_a_workbook_changed_since_the_run_read_it_goes_back_as_text(tmp_path: Path) -> None:
    """The sheet's number cells are read again from the input file: one saved since (another
    file, other rows) says nothing of the rows read, and every cell is written as text."""
    source = hand_made_workbook(tmp_path / "kunder.xlsx")
    frame, info = read_input(source)
    book = openpyxl.load_workbook(source)
    book["Kunder"]["C4"] = 99999
    book.save(source)
    records = cleaned(frame)
    write_reimport(
        tmp_path / "out", records, build_golden(records), None, input_info=info.to_dict()
    )
    sheet = openpyxl.load_workbook(tmp_path / "out" / "reimport" / "customers_update.xlsx").active
    assert {c.data_type for row in sheet.iter_rows() for c in row if c.value is not None} == {"s"}
    assert sheet["A2"].value == "10000"


def test_a_masked_cpr_number_never_goes_back_as_the_number_behind_it() -> None:
    """The sheet held 0101801234 as a number; read, it is masked, in src_ as in the value going
    back. Equal, but the number is the CPR number: the cell stays the mask, as text."""
    update = pl.DataFrame({"Kundenr": ["1", "2"], "Telefon": [MASK, "+4512345678"]})
    read = pl.DataFrame(
        {"source_row": [1, 2], "src_Kundenr": ["1", "2"], "src_Telefon": [MASK, "12345678"]}
    )
    cells = pl.DataFrame(
        {"row": [0, 0, 1, 1], "column": [0, 1, 0, 1],
         "value": ["1", "101801234", "2", "12345678"], "format": [None] * 4},
        schema_overrides={"format": pl.String},
    )  # fmt: skip
    info = {"columns": ["Kundenr", "Telefon"], "header_row": 1}
    typed = typed_update(update, read, cells, info)
    assert typed["Kundenr"].struct.field("number").to_list() == ["1", "2"]
    assert typed["Telefon"].struct.field("number").to_list() == [None, None]
    assert typed["Telefon"].struct.field("text").to_list() == [MASK, "+4512345678"]


def test_number_cells_that_do_not_match_the_rows_read_are_not_written() -> None:
    """Were the sheet's cells placed a row off (the reader's table starting elsewhere than
    thought), the numbers would be other rows' values under unchanged text: 6700 for 8000.
    A General number that is not the text read shows it; then every cell is text."""
    update = pl.DataFrame({"Postnr": ["8000", "6700"]})
    read = pl.DataFrame({"source_row": [1, 2], "src_Postnr": ["8000", "6700"]})
    cells = pl.DataFrame(
        {"row": [0, 1], "column": [0, 0], "value": ["6700", "5000"], "format": [None, None]},
        schema_overrides={"format": pl.String},
    )
    info = {"columns": ["Postnr"], "header_row": 1}
    assert typed_update(update, read, cells, info).equals(update)
    aligned = cells.with_columns(pl.Series("value", ["8000", "6700"]))
    typed = typed_update(update, read, aligned, info)
    assert typed["Postnr"].struct.field("number").to_list() == ["8000", "6700"]


def test_only_changed_rows_keep_their_own_numbers(tmp_path: Path) -> None:
    """With --only-changed the sheet holds the second customer alone: its cells are its own
    (``10010``, the balance ``7``), not the first row's."""
    source = hand_made_workbook(tmp_path / "kunder.xlsx")
    book = openpyxl.load_workbook(source)
    book["Kunder"]["G4"] = "ring først"  # '=1+1 would go back with an apostrophe: a change
    book.save(source)
    frame, info = read_input(source)
    records = cleaned(frame).with_columns(
        pl.Series("name", ["hansen byg aps", "Jensen Catering A/S"]),
        pl.Series("phone_e164", [None, "+4530810099"]),
    )
    write_reimport(
        tmp_path / "out", records, build_golden(records), None,
        input_info=info.to_dict(), only_changed=True,
    )  # fmt: skip
    sheet = openpyxl.load_workbook(tmp_path / "out" / "reimport" / "customers_update.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][HEADER.index("Kundenr")] == 10010
    assert rows[1][HEADER.index("Telefon")] == "+4530810099"
    assert rows[1][HEADER.index("Saldo")] == 7
