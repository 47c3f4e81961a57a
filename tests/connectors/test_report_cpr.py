"""What report.html and worklist.xlsx say of cells that held a CPR number, and of the dates of
birth a code is about: what the re-import does with them, named as the CRM names them.

One small real cleanse (:func:`run_pipeline`, ``--registry none``) of a file with a CPR number
in a phone cell, beside an old CVR number, in a note column datavask does not map, and a minor's
date of birth; the page is read as its data and, in the tests marked ``browser``, in headless
Chromium.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bench.browser import chromium, open_page, show_all_rows
from datavask.connectors.report import load_model
from tests.connectors.runs import cleansed_text

KUNDER = (
    "Kundenr;Navn;Adresse;Postnr;By;CVR-nr;Telefon;E-mail;Bemærkning;Fødselsdato\n"
    # a phone cell that held only a CPR number: the re-import empties it
    "1;Jens Jensen;Strandvejen 1;2900;Hellerup;;0101801234;jens@jensen.dk;;\n"
    # a CVR cell with a broken number beside a CPR number: the number goes back alone
    "2;Berg Byg ApS;Industrivej 5;7100;Vejle;1234567 010190-1234;75821212;berg@byg.dk;;\n"
    # an invalid phone number: the CRM keeps it
    "3;Ole Holm;Algade 3;4000;Roskilde;;12;ole@holm.dk;;\n"
    # a note column datavask does not map: left out of the re-import
    "4;Anna Pedersen;Strandvejen 100;2900;Hellerup;;;anna@pedersen.dk;"
    "personnummer 1505751234 ring efter kl 16;\n"
    # a minor (MINOR, cannot go to collection), and an adult (INVALID_EMAIL) whose date of
    # birth decides nothing
    "5;Lene Sørensen;Åvej 3;8900;Randers C;;86121212;lene@sorensen.dk;;12.05.2012\n"
    "6;Mads Æbelø;Ørstedsvej 11;5000;Odense C;;28293031;mads@aebelo;;03.04.1980\n"
)
# every CPR number of the file, as typed, in none of the outputs
NUMBERS = ("0101801234", "010190-1234", "1505751234", "150575-1234")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cleansed_text(tmp_path_factory.mktemp("report-cpr"), KUNDER)


def customer(run_dir: Path, record_id: str) -> dict[str, Any]:
    customers = load_model(run_dir).customers
    rows = [r for r in customers.iter_rows(named=True) if r["survivor_id"] == record_id]
    assert len(rows) == 1, customers
    return rows[0]


def worklist_rows(run_dir: Path, sheet: str) -> list[dict[str, Any]]:
    book = openpyxl.load_workbook(run_dir / "worklist.xlsx", read_only=True)
    try:
        header, *values = book[sheet].iter_rows(values_only=True)
    finally:
        book.close()
    return [dict(zip(header, row, strict=True)) for row in values]


def test_no_output_holds_a_cpr_number(run_dir: Path) -> None:
    for path in run_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".xlsx":
                import zipfile

                with zipfile.ZipFile(path) as book:
                    data = b"".join(book.read(name) for name in book.namelist())
            for number in NUMBERS:
                assert number.encode() not in data, path


def test_a_cpr_numbers_cell_says_what_the_reimport_does(run_dir: Path) -> None:
    """Jens Jensen's phone cell held only a CPR number; the report said "XXXXXX-XXXX (not
    usable, left as is in the CRM)" while changes.csv and the re-import empty it. Berg Byg's
    CVR cell goes back as ``1234567``, the CPR number beside it taken off; Ole Holm's invalid
    ``12`` is left as it is, and says so."""
    jens, berg, ole = (customer(run_dir, r) for r in ("1", "2", "3"))
    assert (jens["phone"], jens["phone_before"]) == (None, "XXXXXX-XXXX")
    assert (jens["cpr_emptied"], jens["cpr_stripped"]) == (["phone"], None)
    assert (berg["cvr"], berg["cvr_before"]) == (None, "1234567 XXXXXX-XXXX")
    assert (berg["cpr_emptied"], berg["cpr_stripped"]) == (None, ["cvr"])
    assert (ole["phone_before"], ole["cpr_emptied"], ole["cpr_stripped"]) == ("12", None, None)
    update = (run_dir / "reimport" / "customers_update.csv").read_text(encoding="utf-8-sig")
    assert "1;Jens Jensen;Strandvejen 1;2900;Hellerup;;;jens@jensen.dk" in update
    assert ";1234567;" in update

    quality = {r["kundenumre"]: r for r in worklist_rows(run_dir, "Datakvalitet")}
    assert (
        "telefon i CRM: CPR-nummer: feltet tømmes i CRM ved genindlæsning"
        in quality["1"]["hvad du skal gøre"]
    )
    assert "telefon i CRM" not in quality["3"]["hvad du skal gøre"]
    invoice = {r["kundenumre"]: r for r in worklist_rows(run_dir, "Kan ikke faktureres")}
    assert (
        "CVR i CRM: CPR-nummeret fjernes i CRM ved genindlæsning, resten står"
        in invoice["2"]["hvad du skal gøre"]
    )


def test_cpr_in_data_names_the_column_and_the_run_says_which_columns_were_left_out(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Anna Pedersen's note ``Bemærkning`` held a CPR number: the column datavask does not map
    is left out of customers_update.csv, whole. Before, CPR_IN_DATA said "delete the CPR number
    from the field" without naming it, and only run.json's ``input.masked_columns`` said the
    column was gone; now the row names the column as the CRM has it, and the report's run
    section and the terminal summary say which columns were left out, and why."""
    import json

    from datavask.flows.cli import _print_summary

    update = (run_dir / "reimport" / "customers_update.csv").read_text(encoding="utf-8-sig")
    assert "Bemærkning" not in update.splitlines()[0]
    quality = {
        r["kundenumre"]: r["hvad du skal gøre"] for r in worklist_rows(run_dir, "Datakvalitet")
    }
    assert (
        "CPR-nummeret stod i: Bemærkning (kolonnen er udeladt af genindlæsningen: slet "
        "CPR-nummeret her i CRM)." in quality["4"]
    )
    assert "CPR-nummeret stod i: Telefon (genindlæsningen fjerner det)." in quality["1"]
    assert "CPR-nummeret stod i" not in quality["3"]  # no CPR number, nothing named
    model = load_model(run_dir)
    about = dict(model.about)
    assert about["Kolonner med CPR-numre"].startswith(
        "udeladt af customers_update.csv: Bemærkning."
    )
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "Kolonner med CPR-numre" in html and "customers_update.csv: Bemærkning." in html
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    _print_summary(run, wall=1.0)
    out = " ".join(capsys.readouterr().err.split())
    assert "Kolonner med CPR-numre udeladt af customers_update.csv: Bemærkning." in out
    for number in NUMBERS:
        assert number not in out


def test_a_minors_date_of_birth_is_shown_beside_its_code(run_dir: Path) -> None:
    """Lene Sørensen is MINOR (born 12.05.2012), whose action says to correct the date of birth
    if it is wrong; neither the report nor the worklist showed it. Now the customer row carries
    it, the worklist has it as a date cell, and a sheet with no such customer (or a file with
    no date of birth) gets no empty column; an adult's date decides nothing and is not shown."""
    import datetime

    assert customer(run_dir, "5")["date_of_birth"] == "2012-05-12"
    assert customer(run_dir, "6")["date_of_birth"] is None
    book = openpyxl.load_workbook(run_dir / "worklist.xlsx")
    try:
        sheet = book["Kan ikke inddrives"]
        header = [c.value for c in sheet[1]]
        cell = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "5")[
            header.index("fødselsdato")
        ]
        assert cell.value == datetime.datetime(2012, 5, 12)
        assert cell.is_date and cell.number_format == "DD.MM.YYYY"
        assert "fødselsdato" not in [c.value for c in book["Datakvalitet"][1]]
    finally:
        book.close()


@pytest.mark.browser
def test_the_page_says_what_the_reimport_does_with_a_cpr_numbers_cell(
    run_dir: Path, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    with chromium(tmp_path / "profile") as driver:
        page = open_page(driver, run_dir / "report.html")
        assert page["errors"] == [], page
        show_all_rows(driver, "quality")
        show_all_rows(driver, "invoice")

        def row(table: str, record_id: str) -> str:
            rows = driver.find_elements(By.CSS_SELECTOR, f'[data-table="{table}"] tbody tr')
            found = [r.text for r in rows if record_id in r.text.split("\n")]
            assert len(found) == 1, [r.text for r in rows]
            return found[0]

        jens = row("quality", "1")
        assert "XXXXXX-XXXX (CPR-nummer: feltet tømmes i CRM ved genindlæsning)" in jens
        assert "uændret i CRM" not in jens
        assert "12 (ikke brugbar, uændret i CRM)" in row("quality", "3")
        berg = row("invoice", "2")
        assert "(CPR-nummeret fjernes i CRM ved genindlæsning, resten står)" in berg
        assert "CPR-nummeret stod i: Bemærkning (kolonnen er udeladt" in row("quality", "4")
        show_all_rows(driver, "collection")
        assert "Lene Sørensen\nfødt 12.05.2012" in row("collection", "5")
