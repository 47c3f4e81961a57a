"""Excel number formats rendered the way a Danish Excel shows a date cell."""

from __future__ import annotations

from datetime import datetime

import pytest

from datavask.connectors.workbook_dates import date_from_cell_text, render_excel_date

MOMENT = datetime(2024, 3, 1, 14, 5, 9)


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("dd-mm-yyyy", "01-03-2024"),
        ("d/m/yy", "1/3/24"),
        ("yyyy-mm-dd", "2024-03-01"),
        ("dd.mm.yyyy hh:mm", "01.03.2024 14:05"),  # mm after hh is minutes
        ("yyyy mm:ss", "2024 05:09"),  # mm before ss is minutes
        ("d. mmm yyyy", "1. mar 2024"),
        ("dddd d. mmmm", "fredag 1. marts"),
        ("[$-406]d\\.m\\.yyyy;@", "1.3.2024"),
        ('dd"."mm"."yyyy', "01.03.2024"),
        ("[Red]dd-mm-yyyy", "01-03-2024"),
        ("d/m/yyyy h:mm AM/PM", "1/3/2024 2:05 PM"),
    ],
)
def test_date_formats(code: str, shown: str) -> None:
    assert render_excel_date(MOMENT, code) == shown


@pytest.mark.parametrize("code", ["General", "0.00", "#,##0", '0 "kr."', "hh:mm", "@"])
def test_formats_without_a_date_are_not_dates(code: str) -> None:
    assert render_excel_date(MOMENT, code) is None


def test_cell_text_from_readers() -> None:
    assert date_from_cell_text("2024-03-01 00:00:00") == datetime(2024, 3, 1)
    assert date_from_cell_text("45352") == datetime(2024, 3, 1)  # a serial number
    assert date_from_cell_text("45352.5") == datetime(2024, 3, 1, 12)
    assert date_from_cell_text("ukendt") is None
    assert date_from_cell_text("-3") is None
