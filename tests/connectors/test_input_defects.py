"""Ingest of hostile files (issue 9): nothing is lost, garbled or misnamed, every row read once."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from datavask.cleansing.cpr import mask_text
from datavask.connectors.errors import InputError
from datavask.connectors.files import detect_encoding, read_input, read_table

REPO = Path(__file__).resolve().parents[2]
SAMPLE_CSV = REPO / "data" / "sample" / "customers.csv"


def sample_rows() -> tuple[list[str], list[list[str]]]:
    """The sample's header and 400 records; some hold a quoted line break (a c/o address)."""
    text = SAMPLE_CSV.read_bytes().decode("cp1252")
    header, *rows = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    return header, rows


def csv_line(row: list[str]) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerow(row)
    return buffer.getvalue()


# --------------------------------------------------------------------------- unbalanced quotes


def test_a_stray_quote_loses_no_row(tmp_path: Path) -> None:
    """400 rows, one name typed with an opening quote: 400 rows out (was 397), that one reported."""
    header, rows = sample_rows()
    lines = [csv_line(header)] + [csv_line(r) for r in rows]
    fields = lines[10].split(";")
    fields[1] = '"' + fields[1]  # row 10: "Kristian Bertelsen;…  (never closed)
    lines[10] = ";".join(fields)
    path = tmp_path / "stray.csv"
    path.write_text("".join(lines), encoding="utf-8", newline="")

    frame, info = read_input(path)
    assert frame.height == 400
    assert frame["source_row"].to_list() == list(range(1, 401))
    assert info.problem_rows == [10]
    assert "unbalanced quote" in frame["source_problem"][9]
    assert frame["src_Navn"][9] == '"' + rows[9][1]  # what the user typed, quote and all
    # every other row reads as it was written, the quoted c/o line breaks included
    others = frame.filter(pl.col("source_row") != 10)
    for column, field in (("src_Navn", 1), ("src_Adresse", 2), ("src_Telefon", 9)):
        # as written, with the CPR numbers the sample plants masked at reading
        expected = [mask_text(r[field] or None) for i, r in enumerate(rows) if i != 9]
        assert others[column].to_list() == expected
    assert any("\n" in r[2] for r in rows)  # the sample has quoted line breaks to keep


def test_a_corpus_with_stray_quotes_keeps_all_500_rows(tmp_path: Path) -> None:
    """Inch marks and unclosed quotes every 50 rows made 500 rows read as 5."""
    header, rows = sample_rows()
    plain = [[v.replace('"', "").replace("\n", " ").replace(";", ",") for v in r] for r in rows]
    plain = [list(r) for r in (plain * 2)[:500]]
    lines = [";".join(header)]
    for i, row in enumerate(plain):
        if i % 50 == 4:  # an inch mark closes one open quote, the address opens the next
            row[1], row[2] = row[1] + ' 24"', '"' + row[2]
        lines.append(";".join(row))
    path = tmp_path / "corpus.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")

    frame, info = read_input(path)
    assert frame.height == 500
    assert info.problem_rows == list(range(5, 500, 50))
    assert frame["src_Kundenr"].to_list() == [r[0] for r in plain]
    assert frame["src_Navn"][4].endswith(' 24"') and frame["src_Adresse"][4].startswith('"')


def test_a_stray_quote_in_the_header_does_not_eat_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text('Kundenr;"Navn;Postnr\n1;A;8000\n2;B;5000\n', encoding="utf-8")
    table, _, info = read_table(path)
    assert info.columns == ["Kundenr", '"Navn', "Postnr"]
    assert table["Kundenr"].to_list() == ["1", "2"]


def test_a_quote_that_cannot_be_undone_stops_with_the_line(tmp_path: Path) -> None:
    """When the row with the open quote is not a whole row on its own line: exit 2, naming it."""
    path = tmp_path / "broken.csv"
    path.write_text('Kundenr;Navn;Postnr\n1;"A;B;C;8000\n2;B;5000\n3;C;6000\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2: a quote opened there is never closed"):
        read_input(path)


def test_quoted_line_breaks_are_still_one_row(tmp_path: Path) -> None:
    path = tmp_path / "co.csv"
    path.write_text(
        'Kundenr;Navn;Adresse;Postnr\n1;A;"c/o B\nVej 1";8000\n2;"Multi\nline\nname";Vej 2;5000\n',
        encoding="utf-8",
    )
    frame, info = read_input(path)
    assert frame["src_Adresse"].to_list() == ["c/o B\nVej 1", "Vej 2"]
    assert frame["src_Navn"][1] == "Multi\nline\nname"
    assert info.rows_with_problems == 0


# --------------------------------------------------------------------------- encodings


def test_one_cp1252_line_in_a_utf8_file_garbles_nothing(tmp_path: Path) -> None:
    """401 UTF-8 rows and one row pasted from a Windows program: every name reads right."""
    names = [f"Ærø Bådebyggeri {i} ApS" for i in range(401)]
    body = [f"{i};{name};Søndergade {i}\n".encode() for i, name in enumerate(names)]
    body[200] = "200;Ærø Bådebyggeri 200 ApS;Søndergade 200\n".encode("cp1252")
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"Kundenr;Navn;Adresse\n" + b"".join(body))

    frame, info = read_input(path)
    assert frame["src_Navn"].to_list() == names
    assert frame["src_Adresse"][200] == "Søndergade 200"
    assert (info.encoding, info.fallback_encoding) == ("utf-8", "cp1252")
    assert info.fallback_lines == [202] and info.fallback_line_count == 1


def test_a_cp1252_file_is_still_cp1252_and_a_bom_file_with_a_cp1252_line_reads() -> None:
    from datavask.connectors.files import decode_text

    assert decode_text("Navn\nSøren\n".encode("cp1252")).encoding == "cp1252"
    mixed = b"\xef\xbb\xbf" + "Navn\nSøren\n".encode() + "Åse\n".encode("cp1252")
    decoded = decode_text(mixed)
    assert decoded.text == "Navn\nSøren\nÅse\n"
    assert decoded.encoding == "utf-8-sig" and decoded.fallback_lines == [3]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_text_not_binary(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "unicode.txt"
    path.write_bytes("Kundenr\tNavn\tBy\r\n1\tSøren Ærø\tÅrhus\r\n2\tB\tC\r\n".encode(encoding))
    frame, info = read_input(path)
    assert info.encoding == encoding and info.delimiter == "\t"
    assert frame["src_Navn"].to_list() == ["Søren Ærø", "B"]
    assert detect_encoding(path.read_bytes()) == encoding


@pytest.mark.parametrize("encoding", ["utf-32", "utf-32-le", "utf-32-be"])
def test_utf32_is_read_as_utf32_not_utf16(tmp_path: Path, encoding: str) -> None:
    """Before: a UTF-32 file (its BOM starts like UTF-16's) was read as UTF-16 with a NUL after
    every letter: ``S ø r e n``, an invented third row, and CPR numbers unmasked behind the NULs
    (without a BOM: "a binary file"). Every row is read once, as written, its CPR numbers masked."""
    path = tmp_path / "u32.csv"
    text = (
        "Kundenr;Navn;Adresse;Postnr;By;CPR-nr\n"
        "1;Søren Møller 0101901234;Nørregade 1;8000;Aarhus C;010190-1234\n"
        "2;Åse Ærø;Østergade 2;8000;Aarhus C;020285-4321\n"
    )
    path.write_bytes(text.encode(encoding))
    frame, info = read_input(path)
    assert (info.encoding, info.delimiter, frame.height) == (encoding, ";", 2)
    assert frame["record_id"].to_list() == ["1", "2"]
    assert frame["src_Navn"].to_list() == ["Søren Møller XXXXXX-XXXX", "Åse Ærø"]
    assert frame["src_CPR-nr"].to_list() == ["XXXXXX-XXXX", "XXXXXX-XXXX"]
    assert frame["source_problem"].is_null().all()
    assert detect_encoding(path.read_bytes()) == encoding


def test_utf16_is_not_taken_for_utf32() -> None:
    """UTF-16 text four bytes at a time has a letter in its third: it stays UTF-16."""
    for encoding in ("utf-16-le", "utf-16-be"):
        assert detect_encoding("Navn;By\nSøren;Århus\n".encode(encoding)) == encoding
    assert detect_encoding("Navn;By\n".encode("utf-16")) == "utf-16"


def test_binary_files_are_still_binary(tmp_path: Path) -> None:
    path = tmp_path / "image.csv"
    path.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(InputError, match="binary file"):
        read_input(path)


def test_a_text_export_padded_with_nul_bytes_is_read(tmp_path: Path) -> None:
    """Before: one NUL byte anywhere (a legacy system's fixed-width padding, a stray one) made
    the whole export "a binary file", exit 2. The NULs are whitespace to the cleansing; the
    originals keep them as read."""
    path = tmp_path / "c5.csv"
    path.write_bytes(
        b"Kundenr;Navn;Adresse;Postnr\n"
        b"1;Jens Hansen\x00\x00\x00\x00\x00\x00;Vestergade 1\x00\x00;8000\n"
        b"2;Anne Holm;Algade 3;4000\n"
    )
    frame, info = read_input(path)
    assert frame.height == 2 and info.delimiter == ";"
    assert frame["src_Navn"].to_list() == ["Jens Hansen\x00\x00\x00\x00\x00\x00", "Anne Holm"]


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        b"%PDF-1.7\n\x00\x01\x02\x03\x04\x05\x06\x07" * 50,
        b"\x00" * 600 + b"Kundenr;Navn\n1;Jens\n",  # mostly NUL bytes
    ],
)
def test_a_file_that_is_not_text_beside_its_nul_bytes_is_binary(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match="binary file"):
        read_input(path)


# --------------------------------------------------------------------------- workbooks


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


CUSTOMERS = [["Kundenr", "Navn", "Postnr"], [1, "Hansen Byg ApS", "8000"], [2, "Jensen", "5000"]]
SUPPLIERS = [["Nr", "Navn"], [9, "Leverandør A/S"]]


def test_an_xlsx_renamed_csv_is_read_as_a_workbook(tmp_path: Path) -> None:
    path = workbook(tmp_path / "kunder.xlsx", {"Kunder": CUSTOMERS})
    renamed = path.rename(tmp_path / "kunder.csv")
    frame, info = read_input(renamed)
    assert info.format == "xlsx"
    assert frame["src_Navn"].to_list() == ["Hansen Byg ApS", "Jensen"]


def test_a_zip_that_is_not_a_workbook_says_so(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "export.csv"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("kunder.csv", "Navn\nA\n")
    with pytest.raises(InputError, match="zip archive, not an Excel workbook"):
        read_input(path)


def test_the_first_sheet_is_read_and_the_others_are_named(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "book.xlsx", {"Kunder": CUSTOMERS, "Leverandører": SUPPLIERS, "Noter": [["x"]]}
    )
    frame, info = read_input(path)
    assert frame.height == 2
    assert info.sheet == "Kunder"
    assert info.sheets_not_read == ["Leverandører", "Noter"]
    assert "sheets_not_read" in info.to_dict()


def test_a_title_above_the_header_is_skipped(tmp_path: Path) -> None:
    """A report saved as a workbook: a title, a blank row, then the column names."""
    titled = [["Kundeliste pr. 1/12-2026"], [], *CUSTOMERS]
    frame, info = read_input(workbook(tmp_path / "book.xlsx", {"Kunder": titled}))
    assert info.header_row == 3 and info.columns == ["Kundenr", "Navn", "Postnr"]
    assert frame["src_Navn"].to_list() == ["Hansen Byg ApS", "Jensen"]
    assert frame["source_row"].to_list() == [1, 2]
    assert info.mapping["name"] == "Navn"
    # a sheet whose first row is its header, with a blank header cell, is read as before
    plain = [["Kundenr", "Navn", ""], [1, "Hansen Byg ApS", "x"]]
    frame, info = read_input(workbook(tmp_path / "plain.xlsx", {"Kunder": plain}))
    assert info.header_row == 1 and frame["src_Navn"].to_list() == ["Hansen Byg ApS"]
    # one named header cell over rows of data: no customer row is ever taken for a header
    narrow = [["Navn", "", ""], ["Hansen Byg ApS", "Nørregade 3", "8000"]]
    frame, info = read_input(workbook(tmp_path / "narrow.xlsx", {"Kunder": narrow}))
    assert info.header_row == 1 and frame["src_Navn"].to_list() == ["Hansen Byg ApS"]


def test_sheet_chooses_the_sheet_and_an_unknown_one_is_named(tmp_path: Path) -> None:
    path = workbook(tmp_path / "book.xlsx", {"Noter": [["x"]], "Kunder": CUSTOMERS})
    frame, info = read_input(path, sheet="Kunder")
    assert frame["src_Navn"].to_list() == ["Hansen Byg ApS", "Jensen"]
    assert info.sheet == "Kunder" and info.sheets_not_read == ["Noter"]
    with pytest.raises(InputError, match=r"no sheet 'Debitorer'; its sheets are 'Noter', 'Kunder'"):
        read_input(path, sheet="Debitorer")
    with pytest.raises(InputError, match="not an Excel workbook"):
        read_input(SAMPLE_CSV, sheet="Kunder")


def test_a_cover_sheet_first_names_the_sheets_to_choose_from(tmp_path: Path) -> None:
    """A workbook whose first sheet is a cover page: the error names the sheets it did not read."""
    cover = [["Debitorliste pr. 1/12-2026"], ["Udarbejdet af bogholderiet"]]
    path = workbook(tmp_path / "book.xlsx", {"Forside": cover, "Debitorer": CUSTOMERS})
    with pytest.raises(
        InputError,
        match=r"could not map any customer column .* The sheet read was 'Forside'; the "
        r"workbook's other sheets: 'Debitorer' \(choose with --sheet\)",
    ):
        read_input(path)
    frame, _ = read_input(path, sheet="Debitorer")
    assert frame["src_Navn"].to_list() == ["Hansen Byg ApS", "Jensen"]


# --------------------------------------------------------------------------- compression, stdin


def test_a_gzipped_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "kunder.csv.gz"
    path.write_bytes(gzip.compress(SAMPLE_CSV.read_bytes()))
    frame, info = read_input(path)
    plain, _ = read_input(SAMPLE_CSV)
    assert frame.drop("record_id").equals(plain.drop("record_id"))
    assert (info.compression, info.encoding, info.format) == ("gzip", "cp1252", "csv")
    assert info.path.endswith("kunder.csv.gz")
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()  # of the file as given


def test_a_damaged_gzip_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "kunder.csv.gz"
    path.write_bytes(gzip.compress(SAMPLE_CSV.read_bytes())[:500])
    with pytest.raises(InputError, match="damaged gzip"):
        read_input(path)


def test_dash_reads_standard_input() -> None:
    script = (
        "from datavask.connectors.files import read_input\n"
        "frame, info = read_input('-')\n"
        "print(frame.height, info.path, info.encoding)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=SAMPLE_CSV.read_bytes(),
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.decode().split() == ["400", "<stdin>", "cp1252"]


def test_excel_dates_read_as_the_workbook_shows_them(tmp_path: Path) -> None:
    """Date cells were read as '2024-03-01 00:00:00' (or serial numbers) and written back so."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Kunder"
    sheet["B3"], sheet["C3"], sheet["D3"], sheet["E3"] = "Navn", "Oprettet", "Født", "Opdateret"
    sheet["B4"], sheet["C4"] = "A", dt.date(2024, 3, 1)
    sheet["C4"].number_format = "dd-mm-yyyy"
    sheet["D4"] = dt.date(1980, 1, 2)
    sheet["D4"].number_format = "mm-dd-yy"  # built-in format 14: dd-mm-yyyy in a Danish Excel
    sheet["E4"] = dt.datetime(2024, 3, 1, 8, 5)
    sheet["E4"].number_format = '[$-406]d. mmmm yyyy "kl." hh:mm;@'
    sheet["B5"], sheet["C5"], sheet["D5"], sheet["E5"] = "B", "ukendt", 45352, 12.5
    path = tmp_path / "dates.xlsx"
    book.save(path)

    frame, _ = read_input(path)
    assert frame.select("^src_.*$").rows() == [
        ("A", "01-03-2024", "02-01-1980", "1. marts 2024 kl. 08:05"),
        ("B", "ukendt", "45352", "12.5"),  # numbers without a date format stay numbers
    ]


def test_a_customer_number_formatted_with_zeros_keeps_them(tmp_path: Path) -> None:
    """Kundenr 42 formatted 00000 shows 00042 in Excel and the CRM; it was read (and written back)
    as 42, a key that finds no row."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Kundenr", "Navn", "Saldo"])
    for number, name, balance in ((42, "Hansen Byg ApS", 1234.5), (10017, "Jens Hansen", 7)):
        sheet.append([number, name, balance])
    for row in (2, 3):
        sheet[f"A{row}"].number_format = "00000"
        sheet[f"C{row}"].number_format = "0.00"  # a decimal format: the number as it is
    path = tmp_path / "kunder.xlsx"
    book.save(path)

    frame, _ = read_input(path)
    assert frame["src_Kundenr"].to_list() == ["00042", "10017"]
    assert frame["src_Saldo"].to_list() == ["1234.5", "7"]


def test_a_quoted_line_break_followed_by_a_row_shaped_line_is_one_row(tmp_path: Path) -> None:
    """A c/o address whose second line has a row's worth of commas (bench.generate, row 11,130)."""
    path = tmp_path / "co_commas.csv"
    path.write_text(
        "Kundenr,Navn,Adresse,Postnr,By\n"
        '1,Larsens Murerforretning,"c/o Michael Larsen\nVej 6, st.th, 5932 Humble",5932,Humble\n'
        "2,B,Vej 2,5000,Odense C\n",
        encoding="utf-8",
    )
    frame, info = read_input(path)
    assert frame["src_Adresse"].to_list() == [
        "c/o Michael Larsen\nVej 6, st.th, 5932 Humble",
        "Vej 2",
    ]
    assert info.problem_rows == []


def test_a_quoted_line_break_whose_last_line_looks_like_a_row(tmp_path: Path) -> None:
    """A c/o line whose address carries as many commas as a row has delimiters is one record."""
    path = tmp_path / "co_commas.csv"
    path.write_text(
        "Kundenr,Navn,Adresse,Postnr,By\n"
        '1,Larsens Murer,"c/o Michael Larsen\nVærkstedparken 6, st.th, 5932 Humble",5932,Humble\n'
        "2,Henriksen Beton,Landskronastræde 83,2500,Valby\n",
        encoding="utf-8",
    )
    frame, info = read_input(path)
    assert frame.height == 2
    assert info.problem_rows == []
    assert frame["src_Adresse"][0] == "c/o Michael Larsen\nVærkstedparken 6, st.th, 5932 Humble"


def test_unseen_characters_are_taken_out_of_the_values_read(tmp_path: Path) -> None:
    """Copied from a web page or typed on a Mac: an e-mail address followed by a zero-width
    space, a soft hyphen in a name, a decomposed ``Århus`` (A + U+030A). The values cleansing
    reads are composed and without them, so the address is valid and the city is the city; the
    ``src_`` columns keep what was written."""
    path = tmp_path / "kunder.csv"
    path.write_text(
        "Kundenr;Navn;By;Email\n"
        "1;Hansen\u00adByg ApS;A\u030arhus C;info@hansenbyg.dk\u200b\n"
        "2;\u200b;Aarhus C;\ufeffjens@firma.dk\n",
        encoding="utf-8",
    )
    frame, _ = read_input(path)
    assert frame["raw_name"].to_list() == ["HansenByg ApS", None]
    assert frame["raw_city"].to_list() == ["\u00c5rhus C", "Aarhus C"]
    assert frame["raw_email"].to_list() == ["info@hansenbyg.dk", "jens@firma.dk"]
    assert frame["src_By"][0] == "A\u030arhus C"
    assert frame["src_Email"][0] == "info@hansenbyg.dk\u200b"
