"""The number cells of a sheet, where the reader's table has them, with their formats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

from datavask.connectors.workbook_cells import number_cells


def test_number_cells_stand_where_the_readers_table_has_them(tmp_path: Path) -> None:
    """A title above the header and an empty column A, as a hand-made sheet has them: row 0 is
    the first row below the sheet's first filled one (the title), column 0 its first filled
    column. Text is no number cell, digits typed as text neither; a built-in format is written
    out (``4``: ``#,##0.00``), as is a built-in date (``14``: as a Danish Excel shows it)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Kunder"
    sheet["B1"] = "Kunder 2026"
    sheet["B3"], sheet["C3"], sheet["D3"], sheet["E3"] = "Kundenr", "Telefon", "Saldo", "Født"
    sheet["B4"], sheet["C4"], sheet["D4"], sheet["E4"] = (
        42,
        "30513124",
        46540.37,
        dt.date(1980, 1, 2),
    )
    sheet["B5"], sheet["C5"], sheet["D5"] = 10017, 12345678, -7
    sheet["B4"].number_format = sheet["B5"].number_format = "00000"
    sheet["D4"].number_format = "#,##0.00"
    sheet["E4"].number_format = "mm-dd-yy"  # built-in 14
    path = tmp_path / "kunder.xlsx"
    book.save(path)

    cells = number_cells(path.read_bytes(), "Kunder")
    assert cells.rows() == [
        (2, 0, "42", "00000"),
        (2, 2, "46540.37", "#,##0.00"),
        (2, 3, "29222", "dd-mm-yyyy"),
        (3, 0, "10017", "00000"),
        (3, 1, "12345678", None),
        (3, 2, "-7", None),
    ]
    assert number_cells(path.read_bytes(), "Noter").height == 0
    assert number_cells(b"not a workbook", "Kunder").height == 0
