"""Hostile rows among ordinary ones, through ``datavask cleanse``: no row loses a value.

The bundled sample with a free-text ``Note`` column, and rows appended that a CRM export can hold:
control characters inside fields, 10,000-character fields, values that look like spreadsheet
formulas, a CPR number in the note, emoji and full-width digits, padding, a line written in
cp1252 in a UTF-8 file, German customers without a country and a phone with a stray digit. One
run as a subprocess, as users run it; every input cell is in ``records.parquet`` as written
(CPR numbers masked), and what the cleaned columns say about the odd rows is checked by name.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import polars as pl
import pytest

from datavask.cleansing.cpr import MASK
from datavask.connectors.output import read_excel_csv
from tests.conftest import SAMPLE
from tests.flows.cli import cleansed

_CPR = re.compile(r"(?<!\d)\d{6}[ -]?\d{4}(?!\d)")

LONG = "x" * 10_000
HOSTILE = [
    # Kundenr, Navn, Adresse, Postnr, By, Land, CVR-nr, EAN-nr, E-mail, Telefon, Note
    ["90001", "Kontrol\x01Tegn ApS", "Nørregade\x013", "1165", "København K", "", "", "",
     "kontrol@example.dk", "30 40 50 61", "a\x1fb"],
    ["90002", "Lang ApS", f"Algade {LONG}", "4000", "Roskilde", "", "", "", "lang@example.dk",
     "40 50 60 71", LONG],
    ["90003", '=HYPERLINK("http://example.com","klik")', "+SUM(A1:A2)", "-1234", "@By", "", "",
     "", "=1+1@example.dk", "+45 50 60 70 81", "=cmd|' /C calc'!A0"],
    ["90004", "Jens Hansen", "Bredgade 4", "5000", "Odense C", "", "", "", "jh@example.dk",
     "1 20304091", "CPR 010180-1234, ring efter kl. 16"],
    ["90005", "Bayer Werkzeuge GmbH", "Marienplatz 8", "80331", "München", "", "", "",
     "info@bayer-werkzeuge.de", "+49 89 12345678", ""],
    ["90006", "Klaus Müller", "Leopoldstraße 12", "80802", "München", "", "", "",
     "km@mueller.de", "089 1234567", ""],
    ["90007", "Tab\tog\rCR ApS", "Vej 8\r\n2. tv", "8000", "Aarhus C", "", "", "",
     "tab@example.dk", "20 30 40 91", "\u202eRTL\u200b"],
    ["90008", "😀 Emoji ApS", "Vej 9", "8000", "Aarhus C", "", "", "", "emoji@example.dk",
     "２０３０４０９２", ""],
    ["90009", "  Luft  ApS  ", "  Vej 10  ", "  8000 ", "Aarhus C", "", "", "", "", "", "  "],
]  # fmt: skip
CP1252_ROW = ["90010", "Ærø Bådebyggeri ApS", "Søndergade 11", "5970", "Ærøskøbing", "", "", "",
              "aero@example.dk", "60 70 80 93", "Åse"]  # fmt: skip


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[list[str]], Path]:
    """The header, every row as written and the run's output directory."""
    text = (SAMPLE / "customers.csv").read_bytes().decode("cp1252")
    header, *sample = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header = [*header, "Note"]
    rows = [[*row, ""] for row in sample] + HOSTILE
    root = tmp_path_factory.mktemp("hostile")
    source = root / "kunder.csv"
    source.write_bytes(_csv([header, *rows]).encode("utf-8") + _csv([CP1252_ROW]).encode("cp1252"))
    out = cleansed(source, root / "out", home=root / "home", timeout=600)
    return header, [*rows, CP1252_ROW], out


def _records(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / "records.parquet").sort("source_row")


def test_every_cell_is_kept_as_written(hostile: tuple[list[str], list[list[str]], Path]) -> None:
    """Every cell is in its ``src_`` column as written; a CPR number (the note's, and the one
    the sample plants in a phone field) is masked there and nothing else is changed."""
    header, rows, out = hostile
    records = _records(out)
    assert records["source_row"].to_list() == list(range(1, len(rows) + 1))
    kept = records.select(f"src_{h}" for h in header).rows()
    changed = [
        (i + 1, column, value, stored)
        for i, (row, stored_row) in enumerate(zip(rows, kept, strict=True))
        for column, value, stored in zip(header, row, stored_row, strict=True)
        if (stored or "") != value and _CPR.sub(MASK, value) != stored
    ]
    assert not changed, changed[:3]
    masked = [cell for row in kept for cell in row if cell and MASK in cell]
    assert len(masked) == 2  # the note of 90004 and the sample's planted one


def test_control_characters_separate_words(
    hostile: tuple[list[str], list[list[str]], Path],
) -> None:
    row = _records(hostile[2]).filter(pl.col("src_Kundenr") == "90001").row(0, named=True)
    assert (row["name"], row["street"], row["house_number"]) == (
        "Kontrol Tegn ApS",
        "Nørregade",
        "3",
    )


def test_german_customers_keep_their_postal_codes(
    hostile: tuple[list[str], list[list[str]], Path],
) -> None:
    records = _records(hostile[2]).filter(pl.col("src_Kundenr").is_in(["90005", "90006"]))
    assert records["country"].to_list() == ["DE", "DE"]
    assert records["postal_code"].to_list() == ["80331", "80802"]
    assert records["city"].to_list() == ["München", "München"]
    assert records["phone_e164"].to_list() == ["+498912345678", "+49891234567"]
    for flags in records["flags"].to_list():
        assert not {"UNKNOWN_POSTAL_CODE", "MISSING_ADDRESS", "INVALID_PHONE"} & set(flags)


def test_a_stray_digit_is_flagged_and_the_number_kept_as_written(
    hostile: tuple[list[str], list[list[str]], Path],
) -> None:
    """``1 20304091``: nine digits are no Danish number; which eight were meant is the customer's
    to say, so no number is made up — the value is flagged and goes back to the CRM as written."""
    out = hostile[2]
    row = _records(out).filter(pl.col("src_Kundenr") == "90004").row(0, named=True)
    assert row["phone_e164"] is None and "INVALID_PHONE" in row["flags"]
    update = read_excel_csv(out / "reimport" / "customers_update.csv")
    assert update.filter(pl.col("Kundenr") == "90004")["Telefon"].to_list() == ["1 20304091"]
