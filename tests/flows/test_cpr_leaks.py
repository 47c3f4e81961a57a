"""No CPR number leaves datavask unmasked: not in any output, log, error or temp file (issue 9.6).

The CPR numbers here are synthetic: ``0101801234`` has a valid date and fails modulus 11, as
numbers issued since 2007 may.
"""

from __future__ import annotations

import json
import logging
import re
import zipfile
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from datavask.connectors.output import read_excel_csv
from datavask.flows.cleanse import read_step
from datavask.flows.cli import app
from datavask.flows.log_masking import MaskCpr
from tests.flows.cli import cleanse, cleansed

DIGITS = re.compile(r"(?<!\d)0?101801234(?!\d)|010180[ -]1234|01[ .]01[ .]80[ .]12[ .]?34")
# Order numbers YYMMDDNNNN: valid-looking dates, one year in the "day" part.
ORDERS = [f"{y}{m:02d}{2 * m + 1:02d}{m:04d}" for y in (24, 25) for m in range(1, 13)]


@pytest.fixture(autouse=True)
def _no_prefect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAVASK_ORCHESTRATION", "none")


def _leaks(directory: Path) -> list[str]:
    """Every file under ``directory`` that shows a planted CPR number, Parquet cells and the
    parts of a workbook (compressed in its zip) included."""
    found = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
            text = json.dumps(frame.rows(), default=str, ensure_ascii=False)
            text += " ".join(frame.columns)
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as book:
                parts = [book.read(name) for name in book.namelist()]
            text = b" ".join(parts).decode("utf-8", errors="replace")
        else:
            text = path.read_bytes().decode("utf-8", errors="replace")
        if DIGITS.search(text):
            found.append(f"{path.relative_to(directory)}: {DIGITS.search(text)}")
    return found


def _planted_csv(directory: Path) -> Path:
    header = "Kundenr;Navn;Adresse;Postnr;By;E-mail;Note;Ordrenr;Kontakt 010180-1234"
    rows = [
        f"{i};Firma {i} ApS;Vej {i};8000;Aarhus C;info@firma{i}.dk;;{ORDERS[i]};" for i in range(24)
    ]
    rows[1] = f"1;Jens Hansen 0101801234;Vej 1;8000;Aarhus C;;;{ORDERS[1]};"
    rows[2] = f"2;Anne Jensen;Vestergade 12 010180 1234;8000;Aarhus C;;;{ORDERS[2]};"
    rows[3] = f"3;Bo Lund;Vej 3;8000;Aarhus C;0101801234@gmail.com;;{ORDERS[3]};"
    rows[4] = f"4;Lis Holm;Vej 4;8000;Aarhus C;;født 0101801234;{ORDERS[4]};"
    rows[5] = "5;Per Ravn;Vej 5;8000;Aarhus C;;;010180-1234;"
    path = directory / "kunder 0101801234.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_the_planted_numbers_are_found_and_the_others_kept(tmp_path: Path) -> None:
    source = _planted_csv(tmp_path)
    blacklist = tmp_path / "blacklist.csv"
    blacklist.write_text("name;cvr\nJens Hansen 0101801234;\n;0101801234\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["cleanse", str(source), "--out", str(out),
                                      "--registry", "none", "--blacklist", str(blacklist)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _leaks(out) == []
    assert not DIGITS.search(result.output)
    records = pl.read_parquet(out / "records.parquet")
    assert records["flags"].list.contains("CPR_IN_DATA").sum() == 5
    # order numbers (valid-looking dates, too) and phone numbers are not CPR numbers
    assert records["src_Ordrenr"].to_list()[6:] == ORDERS[6:24]


def test_the_work_directory_never_holds_a_cpr_number(tmp_path: Path) -> None:
    """What a kill after the read step would leave behind in ``datavask-work-*``."""
    work = tmp_path / "datavask-work-x"
    work.mkdir()
    info = read_step(str(work), {"input": str(_planted_csv(tmp_path)), "mapping": None})
    assert _leaks(work) == []
    assert not DIGITS.search(json.dumps(info))


def test_an_integer_cpr_column_in_parquet_is_masked(tmp_path: Path) -> None:
    source = tmp_path / "kunder.parquet"
    pl.DataFrame(
        {
            "name": [f"Person {i}" for i in range(5)],
            "cpr": pl.Series([101801234, 2802751234, 1234, None, 3112991234], dtype=pl.Int64),
            "amount": pl.Series([202020202, 5, 6, 7, 8], dtype=pl.Int64),  # 0202020202 "is" one
        }
    ).write_parquet(source)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["cleanse", str(source), "--out", str(out), "--registry", "none"]
    )
    assert result.exit_code == 0, result.output
    records = pl.read_parquet(out / "records.parquet")
    assert records["src_cpr"].to_list() == ["XXXXXX-XXXX", "XXXXXX-XXXX", "1234", None,
                                            "XXXXXX-XXXX"]  # fmt: skip
    assert records["src_amount"].to_list() == [202020202, 5, 6, 7, 8]  # amounts are no CPRs
    assert _leaks(out) == []


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_cpr_column_as_a_spreadsheet_holds_it_is_masked(tmp_path: Path, suffix: str) -> None:
    """Excel keeps ``0101801234`` typed into a cell as the number 101801234, and a form's boxes
    are copied out as ``01 01 80 12 34``: in the ``CPR-nr`` column both reached records.parquet
    and the work directory as written. A CSV export of the sheet holds the same text."""
    header = ["Kundenr", "Navn", "Adresse", "Postnr", "By", "CPR-nr", "Note", "Beløb"]
    rows = [
        [1, "Jens Hansen", "Vej 1", 8000, "Aarhus C", 101801234, "god kunde", 202020202],
        [2, "Anne Jensen", "Vej 2", 8000, "Aarhus C", "01 01 80 12 34", "ring 20 30 40 50", 5],
        [3, "Bo Lund", "Vej 3", 8000, "Aarhus C", "01.01.80.1234",
         "cpr 01 01 80 12 34, tlf 20 30 40 50", 6],
        [4, "Lis Holm", "Vej 4", 8000, "Aarhus C", 123456789, None, 7],  # 0123456789: month 23
    ]  # fmt: skip
    source = tmp_path / f"kunder{suffix}"
    if suffix == ".xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        for row in [header, *rows]:
            book.active.append(row)  # the numbers as number cells
        book.save(source)
    else:
        lines = [";".join("" if v is None else str(v) for v in row) for row in [header, *rows]]
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["cleanse", str(source), "--out", str(out), "--registry", "none"]
    )
    assert result.exit_code == 0, result.output
    # every output is searched, the workbooks' zipped parts too
    written = {p.relative_to(out).as_posix() for p in out.rglob("*")}
    assert written >= {
        "changes.csv", "golden.parquet", "records.parquet", "reimport/customers_update.csv",
        "report.html", "run.json", "worklist.xlsx",
    }  # fmt: skip
    assert _leaks(out) == []
    records = pl.read_parquet(out / "records.parquet").sort("source_row")
    assert records["src_CPR-nr"].to_list() == ["XXXXXX-XXXX"] * 3 + ["123456789"]
    assert records["src_Note"].to_list()[1:3] == [
        "ring 20 30 40 50",
        "cpr XXXXXX-XXXX, tlf 20 30 40 50",
    ]
    assert records["src_Beløb"].cast(pl.String).to_list()[0] == "202020202"  # an amount
    work = tmp_path / "datavask-work-x"
    work.mkdir()
    read_step(str(work), {"input": str(source), "mapping": None})
    assert _leaks(work) == []


def test_a_workbook_named_with_a_cpr_number_goes_back_with_its_number_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kunder_0101801234.xlsx`` is masked ``kunder_XXXXXX-XXXX.xlsx`` where it is named, and
    that masked name was the file the re-import read again for the sheet's number cells: no such
    file, so every cell of customers_update.xlsx went back as text (the customer number 10000,
    the postal code 8000), with a warning that the workbook had changed. The sheet's name (a
    CPR number in it is masked too) is found again likewise."""
    source = tmp_path / "kunder_0101801234.xlsx"
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Kunder 0101801234"
    for row in [["Kundenr", "Navn", "Adresse", "Postnr", "By"],
                [10000, "Hansen Byg ApS", "Vej 1", 8000, "Aarhus C"],
                [10010, "Jensen Catering A/S", "Vej 2", 6700, "Esbjerg"]]:  # fmt: skip
        book.active.append(row)
    book.save(source)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))  # the run's work directory, looked into below
    out = tmp_path / "out"
    done = cleanse(source, out)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "every cell is written as text" not in done.stdout + done.stderr
    sheet = openpyxl.load_workbook(out / "reimport" / "customers_update.xlsx")["Kunder XXXXXX-XXXX"]
    assert [(c.value, c.data_type) for c in sheet["A"]][1:] == [(10000, "n"), (10010, "n")]
    assert [(c.value, c.data_type) for c in sheet["D"]][1:] == [(8000, "n"), (6700, "n")]
    # opened by its own name, shown by the masked one: nowhere written or shown unmasked
    assert _leaks(out) == [] and _leaks(temp) == []
    assert not DIGITS.search(done.stdout + done.stderr)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["input"]["path"].endswith("kunder_XXXXXX-XXXX.xlsx")


def test_a_cpr_number_in_the_cvr_field_is_no_broken_cvr_number(tmp_path: Path) -> None:
    """Small systems keep a private customer's CPR number in the CVR field. Masked on reading,
    it was also ``INVALID_CVR``: a person blocked from invoicing ("Ret CVR-nummeret" for a
    privatkunde), and on the next run, the re-import having emptied the cell, not. Now it is
    ``CPR_IN_DATA`` only, and a company whose CVR cell held one has no CVR number."""
    source = tmp_path / "debitorer.csv"
    source.write_text(
        "Nr.;Navn;Adresse;Postnr.;By;Telefon;Kontakttype;SE/CVR-nr.\n"
        "10080;Karen Olsen;Lindevej 7;4700;Næstved;20290819;;010180-1234\n"
        "10090;Lone Berg;Lindevej 9;4700;Næstved;20290820;Person;010180-1234\n"
        "10100;Hansen Byg ApS;Industrivej 4;7400;Herning;90982636;;010180-1234\n"
        "10110;Malerfirma Holm v/Per Holm;Egevej 3;7400;Herning;24758601;;CPR 010180-1234\n"
        "10120;Anne Larsen;Skovvej 3;4000;Roskilde;62742358;Virksomhed;010180-1234\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["cleanse", str(source), "--out", str(out), "--registry", "none"]
    )
    assert result.exit_code == 0, result.output
    assert _leaks(out) == []
    records = pl.read_parquet(out / "records.parquet").sort("source_row")
    rows = records.select("customer_type", "flags", "invoice_ready").rows()
    assert rows == [
        ("person", ["CPR_IN_DATA"], True),
        ("person", ["CPR_IN_DATA"], True),
        ("company", ["CPR_IN_DATA", "MISSING_CVR"], False),
        ("company", ["CPR_IN_DATA", "MISSING_CVR"], False),  # a sole proprietor is a company
        ("company", ["CPR_IN_DATA", "MISSING_CVR"], False),
    ]
    # the cell goes back to the CRM empty, never as the mask
    update = pl.read_csv(
        out / "reimport" / "customers_update.csv", separator=";", infer_schema=False
    )
    assert update["SE/CVR-nr."].fill_null("").to_list() == [""] * 5


def test_a_postal_code_cell_that_held_a_cpr_number_is_an_empty_one(tmp_path: Path) -> None:
    """A CPR number typed into the postal code cell beside ``Roskilde``: the re-import wrote the
    town's code 4000 over it, yet the record was UNKNOWN_POSTAL_CODE and could not be invoiced.
    The cell is read as the empty cell it is for the address: the town's one code fills it, as
    it fills an empty cell, and without a town it goes back empty (``cpr_masked``), the record
    MISSING_ADDRESS. A c/o that named only a CPR number went back as ``Algade 12, c/o``."""
    source = tmp_path / "kunder.csv"
    source.write_text(
        "Kundenr;Navn;Adresse;Postnr;By;Telefon\n"
        "8005;Karl Lund;Algade 5;010180-1234;Roskilde;20304054\n"
        "8006;Kim Lund;Algade 6;;Roskilde;20304055\n"
        "8007;Kaj Lund;Algade 7;0101801234;;20304056\n"
        "8012;Finn Bak;c/o 010180-1234, Algade 12;4000;Roskilde;20304061\n",
        encoding="utf-8",
    )
    out = cleansed(source, tmp_path / "out")
    assert _leaks(out) == []
    records = pl.read_parquet(out / "records.parquet").sort("source_row")
    assert records.select("postal_code", "flags", "invoice_ready").rows() == [
        ("4000", ["CPR_IN_DATA"], True),
        ("4000", [], True),  # an empty cell, the same
        (None, ["CPR_IN_DATA", "MISSING_ADDRESS"], False),
        ("4000", ["CPR_IN_DATA"], True),
    ]
    assert records["address_extra"].to_list() == [None] * 4
    update = read_excel_csv(out / "reimport" / "customers_update.csv")
    assert update.select("Adresse", "Postnr").rows() == [
        ("Algade 5", "4000"),
        ("Algade 6", "4000"),
        ("Algade 7", None),
        ("Algade 12", "4000"),
    ]
    changes = read_excel_csv(out / "changes.csv").filter(pl.col("field") != "phone")
    assert changes.rows() == [
        ("8005", "postal_code", "XXXXXX-XXXX", "4000", "postal_code"),
        ("8006", "postal_code", None, "4000", "postal_code"),
        ("8007", "postal_code", "XXXXXX-XXXX", "", "cpr_masked"),
        ("8012", "address", "c/o XXXXXX-XXXX, Algade 12", "Algade 12", "address_parsed"),
    ]


def test_an_error_message_shows_no_cpr_number(tmp_path: Path) -> None:
    source = tmp_path / "0101801234.xls"
    source.write_bytes(b"\xd0\xcf\x11\xe0 not really a workbook")
    result = CliRunner().invoke(app, ["cleanse", str(source), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "XXXXXX-XXXX" in result.output and not DIGITS.search(result.output)


def test_log_records_are_masked_before_they_are_stored() -> None:
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    handler.addFilter(MaskCpr())
    log = logging.getLogger("test.cpr")
    log.addHandler(handler)
    try:
        log.error("value %s rejected", "010180 1234")
        try:
            raise ValueError("could not parse '0101801234'")
        except ValueError:
            log.exception("task failed")
    finally:
        log.removeHandler(handler)
    assert records and not any(DIGITS.search(text) for text in records)
    assert "XXXXXX-XXXX" in records[0] and "ValueError" in records[1]
