"""Ingest: every format, encoding and broken-file case a real CRM export throws at us."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest

from datavask.cleansing.customer_type import declared_type
from datavask.cleansing.schema import CANONICAL_FIELDS, TYPED_PADDING
from datavask.connectors.errors import InputError
from datavask.connectors.files import detect_delimiter, detect_encoding, read_input, read_table

HEADER = [
    "Kundenr",
    "Navn",
    "Adresse",
    "Postnr",
    "By",
    "Land",
    "CVR-nr",
    "EAN-nr",
    "E-mail",
    "Telefon",
]
ROWS = [
    ["1001", "Hansen Byg ApS", "Vestergade 12, 2. tv", "8000", "Aarhus C", "DK", "12345674", "", "info@hansenbyg.dk", "12 34 56 78"],
    ["1002", "Søren Ærø Åberg", "Ølgade 3\nBaghuset", "1050", "København K", "DK", "", "", "søren@ærø.dk", "+45 87654321"],
    ["1003", "Brødrene \"Bøg\" I/S", "Æblevej 7", "5000", "Odense C", "DK", "DK 12 34 56 74", "5798000000001", "", ""],
]  # fmt: skip


def write_csv(
    path: Path, rows: list[list[str]], *, delimiter: str = ";", encoding: str = "utf-8"
) -> Path:
    def quote(value: str) -> str:
        if any(ch in value for ch in (delimiter, '"', "\n")):
            return '"' + value.replace('"', '""') + '"'
        return value

    text = "\r\n".join(delimiter.join(quote(v) for v in row) for row in [HEADER, *rows]) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"])
@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_encodings_and_delimiters_round_trip(tmp_path: Path, encoding: str, delimiter: str) -> None:
    rows = ROWS if encoding not in ("cp1252", "latin-1") else [
        [v.replace("ærø", "aero") for v in r] for r in ROWS  # IDN e-mail is not in these code pages
    ]  # fmt: skip
    path = write_csv(tmp_path / "in.csv", rows, delimiter=delimiter, encoding=encoding)
    frame, info = read_input(path)
    assert info.delimiter == delimiter
    assert frame.height == 3
    assert frame["src_Navn"].to_list() == [r[1] for r in rows]  # æøå survive
    assert frame["raw_address"][1] == "Ølgade 3\nBaghuset"  # embedded newline kept
    assert frame["raw_name"][2] == 'Brødrene "Bøg" I/S'
    assert frame["record_id"].to_list() == ["1001", "1002", "1003"]
    assert frame["source_row"].to_list() == [1, 2, 3]


def test_detect_encoding_prefers_cp1252_for_windows_bytes() -> None:
    assert detect_encoding("Ærø – “kunde”".encode("cp1252")) == "cp1252"
    assert detect_encoding("Ærø".encode()) == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbfNavn") == "utf-8-sig"
    assert detect_encoding(b"caf\xe9 \x81") == "latin-1"  # 0x81 is undefined in cp1252


def test_detect_delimiter_ignores_commas_inside_fields() -> None:
    sample = 'Navn;Adresse\n"Hansen, Jens";"Vestergade 12, 2. tv"\nOle;Gade 1\n'
    assert detect_delimiter(sample) == ";"


@pytest.mark.parametrize("fmt", ["csv", "tsv", "xlsx", "parquet", "jsonl"])
def test_row_conservation_every_format(tmp_path: Path, fmt: str) -> None:
    n = 1234
    data = {
        h: [f"{h}-{i}" if h != "Postnr" else f"{1000 + i % 8000:04d}" for i in range(n)]
        for h in HEADER
    }
    data["Navn"][17] = None  # an empty cell is a row still
    table = pl.DataFrame(data)
    path = tmp_path / f"in.{fmt}"
    if fmt == "csv":
        table.write_csv(path, separator=";")
    elif fmt == "tsv":
        table.write_csv(path, separator="\t")
    elif fmt == "xlsx":
        table.write_excel(path)
    elif fmt == "parquet":
        table.write_parquet(path)
    else:
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in table.to_dicts()))
    frame, info = read_input(path)
    assert frame.height == n == info.rows
    assert frame["source_row"].to_list() == list(range(1, n + 1))
    assert frame["src_Kundenr"].to_list() == data["Kundenr"]
    assert frame["record_id"].n_unique() == n
    assert frame["raw_name"][17] is None


def test_excel_keeps_leading_zero_text_and_integer_numbers(tmp_path: Path) -> None:
    path = tmp_path / "in.xlsx"
    pl.DataFrame(
        {"Navn": ["A", "B"], "Postnr": ["0800", "8000"], "Telefon": [12345678, None]}
    ).write_excel(path)
    frame, _ = read_input(path)
    assert frame["raw_postal_code"].to_list() == ["0800", "8000"]
    assert frame["raw_phone"].to_list() == ["12345678", None]


@pytest.mark.parametrize("title", [False, True])
def test_a_workbooks_header_cells_are_named_trimmed_and_kept_as_typed(
    tmp_path: Path, title: bool
) -> None:
    """A header typed by hand, ``By `` with a space after it: under a title row it was read as
    ``By`` and the re-import wrote ``By`` back; without one records.parquet named the column
    ``src_By `` and a blank header cell ``src___UNNAMED__3``. Now a workbook's header cells are
    named as a delimited file's (trimmed, a blank one ``column_4``) and kept as typed."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    if title:
        sheet.append(["Kunder 2026"])
        sheet.append([])
    sheet.append(["Navn", "Postnr", "By ", None, "Note"])
    sheet.append(["Hansen Byg ApS", 8000, "Aarhus C", "x", "ring først"])
    path = tmp_path / "kunder.xlsx"
    book.save(path)

    frame, info = read_input(path)
    assert info.columns == ["Navn", "Postnr", "By", "column_4", "Note"]
    assert info.header_as_typed == {"By": "By ", "column_4": ""}
    assert info.header_row == (3 if title else 1)
    assert frame["src_By"].to_list() == ["Aarhus C"]
    assert frame["raw_city"].to_list() == ["Aarhus C"]


def test_ragged_rows_are_kept_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "Navn;Postnr;By\nA;8000;Aarhus C\nB;8000;Aarhus C;extra;more\nC\n\nD;5000;Odense C\n"
    )
    frame, info = read_input(path)
    assert frame["raw_name"].to_list() == ["A", "B", "C", "D"]
    assert frame["source_problem"].to_list() == [
        None, "too many fields (5, header has 3)", "too few fields (1, header has 3)", None
    ]  # fmt: skip
    assert frame["src__overflow"].to_list() == [None, "extra;more", None, None]
    assert info.rows_with_problems == 2 and info.problem_rows == [2, 3]
    assert info.blank_lines_skipped == 1
    assert frame["source_row"].to_list() == [1, 2, 3, 5]


def test_the_header_again_is_kept_and_reported(tmp_path: Path) -> None:
    """Two exports joined into one file: the second header is a row, said to be one."""
    path = tmp_path / "in.csv"
    path.write_text(
        "Kundenr;Navn;Postnr\n1;Hansen Byg ApS;8000\nKundenr;NAVN ; Postnr\n2;Jensen;5000\n"
        ";Navn;\n3;Navn;Postnr\n"
    )
    frame, info = read_input(path)
    assert frame.height == 5
    # one cell is no header, and a row with a value of its own is a customer's
    assert frame["source_problem"].to_list() == [
        None, "the header row again (two exports joined?)", None, None, None
    ]  # fmt: skip
    assert info.problem_rows == [2]


def test_a_totals_row_is_kept_and_reported(tmp_path: Path) -> None:
    """A debtor list's foot: ``I alt`` where the name goes and a sum beside it. A customer named
    so with an address or a phone is a customer."""
    path = tmp_path / "in.csv"
    path.write_text(
        "Kundenr;Navn;Adresse;Telefon;Saldo\n1;Hansen Byg ApS;Vestergade 12;;100\n"
        ";I alt:;;;100\n2;Total;Nygade 1;;\n3;SUM;;86123456;\n"
    )
    frame, info = read_input(path)
    assert frame["source_problem"].to_list() == [
        None, "a totals row (I alt), not a customer", None, None
    ]  # fmt: skip
    assert info.problem_rows == [2]


def test_repeated_and_missing_ids_are_made_unique(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("Kundenr;Navn\n7;A\n7;B\n;C\n8;D\n")
    frame, info = read_input(path)
    assert frame["record_id"].to_list() == ["7#1", "7#2", "3", "8"]
    assert info.record_id_problems is not None


def test_a_repeated_customer_number_that_is_a_cpr_number_is_masked_in_record_id(
    tmp_path: Path,
) -> None:
    """A patient registered twice under her CPR number among customer numbers of another form:
    the repeated id's ``0101801234#3`` is no whole-cell number, yet the id it was made from is a
    CPR number. Each such row's id is the masked id and its row, as a CPR-keyed export's is."""
    path = tmp_path / "in.csv"
    path.write_text(
        "Kundenr;Navn;Postnr\nP-1001;Hanne Jørgensen;2200\n0101801234;Kim Madsen;2200\n"
        "0101801234;Kim Madsen;2200\nP-1004;Kim Madsen;2200\n"
    )
    frame, _ = read_input(path)
    assert frame["record_id"].to_list() == ["P-1001", "XXXXXX-XXXX#2", "XXXXXX-XXXX#3", "P-1004"]
    assert frame["src_Kundenr"][1] == "XXXXXX-XXXX"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"  \r\n\r\n", "is empty"),
        (b"Navn;Postnr;By\r\n", "no data rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        (b"foo;bar;baz\n1;2;3\n", "could not map any customer column"),
        (b"Navn;Navn;By\nA;B;C\n", "repeats column names 'Navn'"),
        (b'Navn;By\n"A' + b"x" * 5_000_000 + b'";C\n', "5.0 MB"),
    ],
    ids=["empty", "blank", "header-only", "binary", "unmappable", "duplicate-header", "5MB-field"],
)
def test_bad_input_is_one_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as caught:
        read_input(path)
    assert "\n" not in str(caught.value)


def test_unmappable_error_names_the_columns_seen(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("foo;bar\n1;2\n")
    with pytest.raises(InputError, match="columns seen: 'foo', 'bar'"):
        read_input(path)


def test_a_wide_files_errors_name_a_few_columns_and_count_the_rest(tmp_path: Path) -> None:
    """Before: 2,000 blank headers made the one-line error 29 KB, naming every ``column_N``;
    so did 2,000 repeated ones. The first ten are named, the rest counted."""
    path = tmp_path / "wide.csv"
    path.write_text(";" * 1999 + "\n" + ";".join(["1"] * 2000) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_input(path)
    message = str(caught.value)
    assert "'column_1', 'column_2'" in message and "'column_11'" not in message
    assert "'column_10' and 1990 more" in message and len(message) < 400
    path.write_text(";".join([f"x{i}" for i in range(2000)] * 2) + "\n1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"repeats column names 'x0', .* and 1990 more;"):
        read_input(path)


def test_missing_directory_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_input(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a directory"):
        read_input(tmp_path)
    locked = tmp_path / "locked.csv"
    locked.write_text("Navn\nA\n")
    locked.chmod(0)
    # root reads anything, so there an unreadable kernel file stands in for the locked one
    unreadable = Path("/proc/self/mem") if os.geteuid() == 0 else locked
    with pytest.raises(InputError, match="cannot be read"):
        read_input(unreadable)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("in.parquet", b"Navn\nA\n", "not a Parquet file"),
        ("in.xlsx", b"Navn\nA\n", "not an Excel workbook"),
        ("in.xls", b"\xd0\xcf\x11\xe0", "old .xls"),
        ("in.jsonl", b'{"Navn": "A"}\n{broken\n', "line 2 is not valid JSON"),
    ],
)
def test_misnamed_and_broken_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_table(path)


@pytest.mark.parametrize(
    "header",
    [
        "customerNumber;name;address;zip;city;country;corporateIdentificationNumber;ean;email;telephoneAndFaxNumber",
        "Kundenr;Navn;Adresse;Postnr;By;Land;CVR-nr;EAN-nr;E-mail;Telefon",
        # e-conomic in Danish, Uniconta, Business Central in Danish and in English
        "Kundenr.;Navn;Adresse;Postnr.;By;Land;CVR-nr.;EAN-nr.;E-mail;Telefon- og faxnummer",
        "Konto;Navn;Adresse 1;Postnr;By;Land;CVR/SE nr.;EAN nummer;E-mail;Telefon",
        "Nr.;Navn;Adresse;Postnr.;By;Lande-/områdekode;SE/CVR-nr.;GLN;Mail;Telefon",
        "No.;Name;Address;Post Code;City;Country/Region Code;VAT Registration No.;GLN;E-Mail;"
        "Phone No.",
    ],
)
def test_export_headers_map_automatically(tmp_path: Path, header: str) -> None:
    path = tmp_path / "in.csv"
    path.write_text(header + "\n" + ";".join(["x"] * 10) + "\n")
    _, info = read_input(path)
    assert set(info.mapping) == {
        "record_id", "name", "address", "postal_code", "city", "country", "cvr", "ean", "email", "phone"
    }  # fmt: skip


def test_nr_is_a_house_number_beside_a_street_and_an_id_without_one(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("Navn;Vej;Nr.;Postnr;By\nHansen;Nørregade;3;1165;København K\n")
    assert read_input(path)[1].mapping["house_number"] == "Nr."
    path.write_text("Nr.;Navn;Adresse;Postnr;By\nD10000;Hansen;Nørregade 3;1165;København K\n")
    _, info = read_input(path)
    assert info.mapping["record_id"] == "Nr." and "house_number" not in info.mapping
    path.write_text("Navn;Adresse;Postnr. og by\nHansen;Nørregade 3;1165 København K\n")
    assert read_input(path)[1].mapping["postal_code"] == "Postnr. og by"


def test_mapping_override_and_its_errors(tmp_path: Path) -> None:
    from datavask.connectors.mapping import load_mapping_file

    path = tmp_path / "in.csv"
    path.write_text("Debitor;Firma;Kontakt tlf\n1;A;12345678\n")
    toml = tmp_path / "m.toml"
    toml.write_text('[columns]\nrecord_id = "Debitor"\nphone = "Kontakt tlf"\n')
    frame, info = read_input(path, mapping=load_mapping_file(toml))
    assert info.mapping["phone"] == "Kontakt tlf" and frame["record_id"][0] == "1"
    assert info.mapping["name"] == "Firma"  # the automatic guess still fills the rest
    toml.write_text('[columns]\nphone = "Telefax"\nshoe_size = "Firma"\n')
    with pytest.raises(InputError, match="shoe_size"):
        load_mapping_file(toml)
    toml.write_text('[columns]\nphone = "Telefax"\n')
    with pytest.raises(InputError, match="'Telefax'"):
        read_input(path, mapping=load_mapping_file(toml))


def test_a_mapping_file_without_columns_maps_them_automatically(tmp_path: Path) -> None:
    """A mapping file that only names the truth column of a labelled sample (or extra evidence,
    or link sources) needs no [columns] restating what the automatic mapping finds; a file with
    none of the tables is still refused (a wrong file given, most likely)."""
    from datavask.connectors.mapping import load_mapping_file

    path = tmp_path / "in.csv"
    path.write_text("Kundenr;Navn;Telefon;Sand kunde\n1;Jens Hansen;20304050;K1\n")
    toml = tmp_path / "m.toml"
    toml.write_text('[evaluation]\ntruth = "Sand kunde"\n')
    assert load_mapping_file(toml) == {}
    _, info = read_input(path, mapping=load_mapping_file(toml), reserved=["Sand kunde"])
    assert info.mapping["name"] == "Navn" and info.mapping["phone"] == "Telefon"
    toml.write_text('[colums]\nname = "Navn"\n')  # misspelt: nothing it could mean
    with pytest.raises(InputError, match=r"has no \[columns\] table"):
        load_mapping_file(toml)


@pytest.mark.parametrize(
    "columns",
    [
        'phone = "Telefon"\nmobile = "Telefon"',  # a column of phone and mobile numbers
        'record_id = "Patientnr"\nperson_id = "Patientnr"',  # keyed by the person's own number
        'name = "Navn"\ncustomer_type = "Navn"\nname_2 = "Navn 2"',
    ],
)
def test_fields_may_share_a_column_where_nothing_written_back_clashes(
    tmp_path: Path, columns: str
) -> None:
    from datavask.connectors.mapping import load_mapping_file

    toml = tmp_path / "m.toml"
    toml.write_text(f"[columns]\n{columns}\n", encoding="utf-8")
    assert len(load_mapping_file(toml)) == columns.count("\n") + 1


def test_every_column_two_fields_cannot_share_is_named_in_one_line(tmp_path: Path) -> None:
    from datavask.connectors.mapping import load_mapping_file

    toml = tmp_path / "m.toml"
    toml.write_text(
        '[columns]\nname = "Telefon"\nphone = "Telefon"\nmobile = "Telefon"\n'
        'street = "Adresse"\naddress = "Adresse"\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as refused:
        load_mapping_file(toml)
    message = str(refused.value)
    assert "\n" not in message
    assert "column 'Telefon' is named for name, phone and mobile" in message
    assert "column 'Adresse' is named for street and address" in message


# Plain lines, quoted fields with delimiters and line breaks, an open quote that swallows rows,
# too few and too many fields, blank lines, a line of only delimiters, a lone \r line end: every
# way a line can leave the column-wise split for csv.reader and come back.
_MIXED_LINES = (
    "id;name;address;phone\r\n"
    "1;Hansen Byg ApS;Vestergade 12;12345678\r\n"
    '2;"Jensen; Søn";"c/o Per\r\nVej 6, st.th";\r\n'
    "3;;;\r\n"
    "\r\n"
    "4;Too;Few\r\n"
    "5;Too;Many;Fields;Here\r\n"
    '6;"Open quote;Vej 1;87654321\r\n'
    "7;After the quote;Vej 2;11223344\r\n"
    "8;Mac line end;Vej 3;1\r"
    "9;Tab\tinside;Vej 4;2\r\n"
    "   \r\n"
    "10;Last;Line without end;3"
)


@pytest.mark.parametrize("stretch", [0, 1, 5])
def test_plain_lines_split_as_columns_read_as_csv_reader_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stretch: int
) -> None:
    path = tmp_path / "mixed.csv"
    lines = _MIXED_LINES.split("\r\n")
    lines = lines[:1] + lines[1:] * (stretch + 1) if stretch else lines
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    fast, fast_problems, _ = read_table(path)
    monkeypatch.setattr("datavask.connectors.files._plain_lines", lambda *args: None)
    slow, slow_problems, _ = read_table(path)
    assert fast.equals(slow)
    assert fast_problems == slow_problems
    assert fast.height >= 10 and fast_problems  # the file holds both kinds of line


def test_columns_the_mapping_reserves_are_never_guessed_as_a_field(tmp_path: Path) -> None:
    """``by`` (Danish for town) is a city by its name; named under ``[compare]`` (RLdata's year
    of birth) or as the truth column it is that and nothing else."""
    source = tmp_path / "people.csv"
    source.write_text("navn,by,id\nJens Hansen,1949,7\nMette Holm,1952,8\n", encoding="utf-8")
    guessed = read_input(source)[1].mapping
    assert guessed.get("city") == "by"
    mapping = read_input(source, reserved=["by", "id"])[1].mapping
    assert "city" not in mapping and "by" not in mapping.values()
    assert "id" not in mapping.values()
    assert mapping["name"] == "navn"


def test_a_salesforce_report_export_maps_its_postal_code(tmp_path: Path) -> None:
    """A Salesforce report labels the column "Billing Zip/Postal Code" (the API name is
    BillingPostalCode): without it every record lacked its postal code (MISSING_ADDRESS)."""
    path = tmp_path / "accounts.csv"
    path.write_text(
        '"Account ID","Account Name","Billing Street","Billing City",'
        '"Billing Zip/Postal Code","Billing Country","Phone"\n'
        '"0015g00000abc01","Hansen Byg ApS","Vestergade 12","Aarhus C","8000","Denmark",'
        '"20304050"\n',
        encoding="utf-8",
    )
    frame, info = read_input(path)
    assert info.mapping["postal_code"] == "Billing Zip/Postal Code"
    assert frame["raw_postal_code"].to_list() == ["8000"]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Mobile Phone No.", "mobile"),
        ("Kontakt-ID", "record_id"),
        ("GLN-nummer", "ean"),
        ("unique_id", "record_id"),
        ("rec_id", "record_id"),
        ("suburb", "city"),
        ("Adresse 2", "address_2"),
        ("Address 2", "address_2"),
        ("Address 1: Street 2", "address_2"),
        ("Street Address 2", "address_2"),
        ("Navn 2", "name_2"),
        ("Name 2", "name_2"),
        ("Land/område-kode", "country"),
        ("Debitor", "record_id"),
        ("CVR Number", "cvr"),
        ("CVR-nr./SE-nr.", "cvr"),
        ("Momsreg.nr.", "cvr"),
        ("EAN Number", "ean"),
        ("EAN/GLN", "ean"),
        ("Organization - Address - ZIP/Postal code", "postal_code"),
        ("Organization - Address - City/town/village/locality", "city"),
        ("Organization - Address - Street/road name", "street"),
        ("Organization - Update time", "updated_at"),
        ("Lokationsnummer", "ean"),
        ("Faktura EAN", "ean"),
        ("NemHandel EAN", "ean"),
        ("Privat/Erhverv", "customer_type"),
        ("Født", "date_of_birth"),
        ("Senest ændret", "updated_at"),
    ],
    ids=[
        "business-central-mobile",
        "dinero-contact-id",
        "gln-nummer",
        "unique-id",
        "rec-id",
        "suburb",
        "uniconta-adresse-2",
        "business-central-address-2",
        "dynamics-365-street-2",
        "hubspot-street-address-2",
        "business-central-navn-2",
        "business-central-name-2",
        "land-omraade-kode",
        "c5-debitor",
        "dynamics-365-cvr-number",
        "cvr-and-se",
        "momsreg-nr",
        "ean-number",
        "ean-gln",
        "pipedrive-address-postal-code",
        "pipedrive-address-city",
        "pipedrive-address-street",
        "pipedrive-update-time",
        "lokationsnummer",
        "faktura-ean",
        "nemhandel-ean",
        "privat-erhverv",
        "foedt",
        "senest-aendret",
    ],
)
def test_more_system_headers_are_known(header: str, field: str) -> None:
    from datavask.connectors.mapping import auto_map

    assert auto_map(["Navn", "Adresse", header])[field] == header


@pytest.mark.parametrize(
    ("columns", "name"),
    [
        # dedupe.io's Chicago sites: "Site name" before "Program Name"
        (["Id", "Source", "Site name", "Address", "Zip", "Phone", "Program Name"], "Site name"),
        (["Store Name", "Street", "Zip"], "Store Name"),
        (["Leverandørnavn", "Adresse"], "Leverandørnavn"),
        (["First Name", "Last Name", "Business Name"], "Business Name"),
        # a column that is the name already wins; a name of something else is none
        (["Navn", "Site name"], "Navn"),
        (["Username", "Product name", "Address"], None),
    ],
)
def test_a_name_column_named_after_what_the_rows_are(columns: list[str], name: str | None) -> None:
    """Before: "Site name" (Chicago's early-childhood sites) was no name column, so a file
    cleansed without a mapping file had no names to compare: F1 0.8522 against 0.9165."""
    from datavask.connectors.mapping import auto_map

    assert auto_map(columns).get("name") == name


def test_abbreviated_and_contact_headers_are_known() -> None:
    """Before: "addr" (the restaurant guides' address), "fname"/"lname" and a contact export's
    "Contact First Name"/"Contact Last Name" were left unmapped: no address, no person's names."""
    from datavask.connectors.mapping import auto_map

    assert auto_map(["name", "addr", "city", "phone"])["address"] == "addr"
    assert auto_map(["fname", "lname", "street", "house_no"]) == {
        "first_name": "fname", "last_name": "lname", "street": "street", "house_number": "house_no",
    }  # fmt: skip
    contacts = auto_map(["Company", "Contact First Name", "Contact Last Name", "Address Line 1"])
    assert contacts["name"] == "Company"
    assert contacts["first_name"] == "Contact First Name"
    assert contacts["last_name"] == "Contact Last Name"


@pytest.mark.parametrize(
    ("header", "organisations"),
    [
        (["Record ID", "Company name", "Phone Number"], True),  # HubSpot's companies
        (["Organization - ID", "Organization - Name", "Organization - Address"], True),  # Pipedrive
        (["Person - ID", "Person - Name", "Person - Email"], False),  # Pipedrive's people
        (["Org - Name", "Org - Address"], True),
        (["Kundenr", "Virksomhedsnavn", "Adresse"], True),
        (["Kundenr", "Navn", "Adresse"], False),
        (["Account ID", "Account Name", "Billing Street"], False),  # a person account may be one
        (["First Name", "Last Name", "Company Name"], False),  # a contact's company
        (["Company name", "Type"], False),  # the file's own type column says
    ],
)
def test_a_company_lists_name_column_says_every_row_is_an_organisation(
    tmp_path: Path, header: list[str], organisations: bool
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(",".join(header) + "\n" + ",".join(["Nordisk Film"] * len(header)) + "\n")
    frame, _ = read_input(path)
    declared = frame["raw_customer_type"].to_list()
    assert declared == (["company"] if organisations else [declared[0]])
    if not organisations and "Type" not in header:
        assert declared == [None]


@pytest.mark.parametrize(
    ("header", "values", "types"),
    [
        ("Er person", ["true", "False", ""], ["person", "company", None]),  # Dinero
        ("Privatkunde", ["Ja", "nej", "Privat"], ["person", "company", "Privat"]),
        ("IsPerson", ["1", "0", "x"], ["person", "company", "person"]),
        ("Is a Company", ["True", "False", "Company"], ["company", "person", "Company"]),  # Odoo
        ("Kundetype", ["Ja", "Erhverv", "Nej"], ["Ja", "Erhverv", "Nej"]),  # a type, not a flag
    ],
)
def test_a_yes_no_person_column_says_person_or_organisation(
    tmp_path: Path, header: str, values: list[str], types: list[str | None]
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        f"Navn;{header}\n" + "".join(f"Nordisk Film;{v}\n" for v in values), encoding="utf-8"
    )
    frame, _ = read_input(path)
    assert frame["raw_customer_type"].to_list() == types


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [
        ("Kontakttype", ","),  # Dinero: Person / Virksomhed
        ("Kontakttype", ";"),  # Billy writes the values lower case
        ("Kontakt type", ";"),
        ("Contact type", ","),
        ("Customer Type", ","),
        ("Debitortype", ";"),
        ("Kundetype", ";"),
    ],
)
def test_a_contact_type_column_is_the_customer_type(
    tmp_path: Path, header: str, delimiter: str
) -> None:
    """Dinero's and Billy's ``Kontakttype`` was an unmapped column: a business typed
    ``Virksomhed`` with a person's name and no CVR number (``Anne Larsen``) came out a person,
    without ``MISSING_CVR``. Its values are read as a type column's."""
    path = tmp_path / "in.csv"
    rows = [("1", "Person", "Søren Poulsen"), ("2", "virksomhed", "Anne Larsen")]
    rows += [("3", "Virksomhed", "Jens Smed"), ("4", "", "Lone Holm")]
    path.write_text(
        "\n".join(delimiter.join(r) for r in [("Kontakt-ID", header, "Navn"), *rows]) + "\n",
        encoding="utf-8",
    )
    frame, info = read_input(path)
    assert info.mapping["customer_type"] == header
    assert header not in info.unmapped
    declared = frame.select(declared_type(pl.col("raw_customer_type"))).to_series()
    assert declared.to_list() == ["person", "company", "company", None]


SUPEROFFICE = [
    "Nummer", "Firma", "Afdeling", "Gadeadresse - Adresse 1", "Gadeadresse - Postnummer",
    "Gadeadresse - Sted", "Postadresse - Adresse 1", "Postadresse - Adresse 2",
    "Postadresse - Postnummer", "Postadresse - Sted", "Land", "Telefon", "Org.nr.",
]  # fmt: skip


def test_one_kind_of_address_is_read_whole() -> None:
    """SuperOffice writes a company's postal and street addresses side by side, each part after
    its kind: the postal address is read (the one an invoice goes to), all of it, and not the
    street address's postal code beside the postal address's street."""
    from datavask.connectors.mapping import auto_map

    mapping = auto_map(SUPEROFFICE)
    assert {f: c for f, c in mapping.items() if c.startswith(("Gade", "Post"))} == {
        "address": "Postadresse - Adresse 1",
        "address_2": "Postadresse - Adresse 2",
        "postal_code": "Postadresse - Postnummer",
        "city": "Postadresse - Sted",
    }
    assert (mapping["record_id"], mapping["name"], mapping["cvr"]) == ("Nummer", "Firma", "Org.nr.")
    assert "name_2" not in mapping  # a department is no part of the name
    # a billing address before a delivery address, in whatever order the columns stand
    english = auto_map(
        ["Company", "Delivery address - Street", "Delivery address - City",
         "Billing address - Street", "Billing address - Zip code", "Billing address - City"]
    )  # fmt: skip
    assert (english["street"], english["city"]) == (
        "Billing address - Street",
        "Billing address - City",
    )


@pytest.mark.parametrize(
    ("columns", "read", "unread"),
    [
        pytest.param(
            ["Account Name", "Shipping Street", "Shipping Code", "Billing Street", "Billing City",
             "Billing Code", "Billing Country", "VAT Number"],
            # the billing address, though the delivery address's columns stand first
            {"street": "Billing Street", "postal_code": "Billing Code"},
            (),
            id="zoho",
        ),
        pytest.param(
            ["Name", "Company Type", "Street", "Street2", "Zip", "Tax ID"],
            {"customer_type": "Company Type", "postal_code": "Zip", "cvr": "Tax ID"},
            (),
            id="odoo",
        ),
        pytest.param(
            ["Customer ID", "First Name", "Last Name", "Email", "Default Address Company",
             "Default Address Address1", "Default Address Address2", "Default Address City",
             "Default Address Province Code", "Default Address Country Code",
             "Default Address Zip", "Default Address Phone", "Phone"],
            {
                "name": "Default Address Company",  # a B2B customer's company
                "address": "Default Address Address1",
                "address_2": "Default Address Address2",
                "postal_code": "Default Address Zip",
                "country": "Default Address Country Code",
                "phone": "Phone",
                "mobile": "Default Address Phone",
            },
            (),
            id="shopify",
        ),
        pytest.param(
            ["Name", "Given Name", "Family Name", "Organization 1 - Name", "E-mail 1 - Value",
             "E-mail 2 - Value", "Phone 1 - Value", "Address 1 - Formatted",
             "Address 1 - Street", "Address 1 - Extended Address", "Address 1 - Postal Code",
             "Address 2 - Street"],
            {
                "email": "E-mail 1 - Value",
                "phone": "Phone 1 - Value",
                "street": "Address 1 - Street",
                "address_2": "Address 1 - Extended Address",
                "address": None,  # the formatted address is carried through as it is
            },
            ("Organization 1 - Name",),  # a person's employer
            id="google-contacts",
        ),
        pytest.param(
            ["First Name", "Last Name", "Company", "Home Street", "Home City",
             "Business Street", "Business City", "Business Postal Code",
             "Business Country/Region"],
            # the business address, though the home address's columns stand first
            {"street": "Business Street", "city": "Business City",
             "postal_code": "Business Postal Code"},
            (),
            id="outlook",
        ),
        pytest.param(
            ["ID", "Email", "First Name", "Last Name", "Billing Company", "Billing Address 1",
             "Billing Postcode", "Billing Phone", "Shipping Company", "Shipping Address 1"],
            {"name": "Billing Company", "address": "Billing Address 1",
             "postal_code": "Billing Postcode", "phone": "Billing Phone"},
            (),
            id="woocommerce",
        ),
        pytest.param(
            ["Customer no.", "Name", "Corporate Identification No."],
            {"cvr": "Corporate Identification No."},
            (),
            id="economic-english",
        ),
        pytest.param(
            ["contactNo", "type", "name", "street", "zipcodeText", "cityText", "countryId",
             "phone", "email", "registrationNo", "ean", "createdTime"],
            {"record_id": "contactNo", "postal_code": "zipcodeText", "city": "cityText",
             "country": "countryId", "cvr": "registrationNo"},
            (),
            id="billy",
        ),
        pytest.param(
            ["Account ID", "Account Name", "BillingStreet", "BillingPostalCode", "CVR__c",
             "EAN__c"],
            # a custom field's API name: what its name says, before Salesforce's __c
            {"cvr": "CVR__c", "ean": "EAN__c"},
            (),
            id="salesforce-custom-fields",
        ),
        pytest.param(
            ["Debitornr.", "Firmanavn/navn", "Vejnavn", "Husnr.", "Postnr./By", "Telefon/mobil",
             "Mail", "CVR/SE-nr", "A/B"],
            # a header naming either of two things: the first that is a field. The name column
            # was not read, and every record was MISSING_NAME.
            {"record_id": "Debitornr.", "name": "Firmanavn/navn", "postal_code": "Postnr./By",
             "phone": "Telefon/mobil", "cvr": "CVR/SE-nr"},
            ("A/B",),
            id="either-of-two",
        ),
        pytest.param(
            ["Kundenr", "Navn eller firma", "Adresse", "Postnr. og by"],
            {"name": "Navn eller firma", "postal_code": "Postnr. og by"},
            (),
            id="either-of-two-in-words",
        ),
        pytest.param(
            ["Kundenummer", "Navn", "Adresselinje 1", "Adresselinje 2", "Telefon 1", "Telefon 2",
             "Email 1", "Email 2", "Privattelefon"],
            # the first of numbered columns; the second phone is the mobile number
            {"record_id": "Kundenummer", "address": "Adresselinje 1",
             "address_2": "Adresselinje 2", "phone": "Telefon 1", "mobile": "Telefon 2",
             "email": "Email 1"},
            ("Email 2",),
            id="numbered",
        ),
    ],
)  # fmt: skip
def test_a_systems_export_headers_are_read(
    columns: list[str], read: dict[str, str | None], unread: tuple[str, ...]
) -> None:
    from datavask.connectors.mapping import auto_map

    mapping = auto_map(columns)
    assert {field: mapping.get(field) for field in read} == read
    assert not set(unread) & set(mapping.values())


def test_a_spreadsheets_text_mark_before_a_number_is_no_part_of_it(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "Customer ID,Name,Zip,Phone\n'7001,Mette Holm,'9000,'+4598123456\n", encoding="utf-8"
    )
    frame, _ = read_input(path)
    row = frame.row(0, named=True)
    assert (row["record_id"], row["raw_postal_code"], row["raw_phone"]) == (
        "'7001",  # an id as written: the re-import finds its record by it
        "9000",
        "+4598123456",
    )
    assert row["src_Zip"] == "'9000"


def test_a_formulas_apostrophe_is_no_part_of_the_value(tmp_path: Path) -> None:
    """``'-bent@x.dk`` and ``'@Home Design ApS`` are cells as a CSV writer (datavask's re-import
    among them) escapes a formula: read with the apostrophe, the address was invalid and the
    name grew one on every round trip. The id and ``src_`` keep the cell as written."""
    path = tmp_path / "in.csv"
    path.write_text(
        "Kundenr;Navn;E-mail;Bemærkning\n'=7;'@Home Design ApS;'-bent@x.dk;'+ ring før\n"
        "8;Jens' Ost;'jens@ost.dk;\n",
        encoding="utf-8",
    )
    frame, _ = read_input(path)
    assert frame.select("record_id", "raw_name", "raw_email").rows() == [
        ("'=7", "@Home Design ApS", "-bent@x.dk"),
        ("8", "Jens' Ost", "'jens@ost.dk"),  # no formula after it: the apostrophe is typed
    ]
    assert frame.row(0, named=True)["src_E-mail"] == "'-bent@x.dk"
    assert frame.row(0, named=True)["src_Bemærkning"] == "'+ ring før"


def test_the_whitespace_around_a_cell_is_noted(tmp_path: Path) -> None:
    """The value is read trimmed; the whitespace trimmed off it is noted, for changes.csv to
    list the trimming the re-import writes."""
    path = tmp_path / "in.csv"
    path.write_text(
        "Kundenr;Navn;E-mail\n1;Pedersen ApS ; bo@p.dk\n2;Holm ApS;bo@holm.dk\n",
        encoding="utf-8",
    )
    frame, _ = read_input(path)
    assert frame["raw_name"].to_list() == ["Pedersen ApS", "Holm ApS"]
    padding = frame[TYPED_PADDING].to_list()
    assert padding[1] is None
    by_field = dict(zip(CANONICAL_FIELDS, padding[0], strict=True))
    assert (by_field["name"], by_field["email"], by_field["phone"]) == ("\x00 ", " \x00", None)


def test_only_an_address_part_is_read_after_address() -> None:
    from datavask.connectors.mapping import auto_map

    # "Address - Name" is no customer's name, "Address - Notes" nothing at all
    mapping = auto_map(["Navn", "Organization - Address - Name", "Address - Notes"])
    assert mapping == {"name": "Navn"}


def test_a_debitor_column_without_a_name_beside_it_is_no_customer_number() -> None:
    from datavask.connectors.mapping import auto_map

    assert "record_id" not in auto_map(["Debitor", "Adresse", "Postnr"])
    assert auto_map(["Debitor", "Adresse", "Postnr"])["name"] == "Debitor"


@pytest.mark.parametrize(
    "header", ["Customer", "Client", "Kunde", "Account", "Debitor", "KUNDE", "Skyldner", "Patient"]
)
def test_a_header_naming_the_rows_alone_is_their_name(header: str) -> None:
    """``Customer,Address,Phone,Email``: the names were not read, and every row was
    MISSING_NAME, while ``Customer Name`` was read. So were a collection agency's ``Skyldner``
    and a dental clinic's ``Patient``."""
    from datavask.connectors.mapping import auto_map

    assert auto_map([header, "Address", "Phone", "Email"])["name"] == header


@pytest.mark.parametrize(
    "header",
    ["Abonnentnr", "Lejemålsnr", "Lejemaalsnr", "Patientnr", "Medlemsnr", "Medlemsnummer",
     "Kontonr", "Debitornr"],
)  # fmt: skip
def test_a_private_customers_number_is_the_record_id(header: str) -> None:
    """A telecom's ``Abonnentnr``, a housing association's ``Lejemålsnr``, a clinic's
    ``Patientnr``: before, the rows had no id but their row numbers, and the re-import and the
    merge plan could not name the customers."""
    from datavask.connectors.mapping import auto_map

    mapping = auto_map([header, "Fornavn", "Efternavn", "Adresse"])
    assert mapping["record_id"] == header
    patients = auto_map(["Patientnr", "Patient", "CPR", "Adresse"])
    assert (patients["record_id"], patients["name"]) == ("Patientnr", "Patient")


@pytest.mark.parametrize(
    ("columns", "name"),
    [
        (["Kunde", "Navn", "Adresse"], "Navn"),
        (["Customer", "Customer Name", "Address"], "Customer Name"),
        (["Account", "Account Name"], "Account Name"),
        # a contact export's person is its first and last name
        (["Customer", "First Name", "Last Name"], None),
    ],
)
def test_a_header_naming_the_rows_is_no_name_beside_a_name(
    columns: list[str], name: str | None
) -> None:
    from datavask.connectors.mapping import auto_map

    mapping = auto_map(columns)
    assert mapping.get("name") == name
    assert "Kunde" not in mapping.values() and "Customer" not in mapping.values()


def test_customer_numbers_under_a_kunde_header_are_no_names(tmp_path: Path) -> None:
    """A ``Kunde`` column of customer numbers read as the name holds names without letters: no
    name (MISSING_NAME, as before), and the numbers go back to the CRM as they were."""
    from datavask.cleansing.normalise import normalise

    path = tmp_path / "kunder.csv"
    path.write_text("Kunde;Adresse;Postnr\n1001;Algade 1;8000\n", encoding="utf-8")
    frame, _ = read_input(path)
    out = normalise(frame)
    assert (out["raw_name"][0], out["name"][0], out["src_Kunde"][0]) == ("1001", None, "1001")


def test_a_dynamics_365_account_export_maps_its_address_phone_and_modified_date(
    tmp_path: Path,
) -> None:
    """Dynamics 365 writes "Address 1: Street 1", "Address 1: ZIP/Postal Code", "Main Phone" and,
    in an export made to be imported again, "(Do Not Modify) Modified On": unmapped, every
    account was MISSING_ADDRESS and NO_CONTACT, and the most recent record was not known."""
    path = tmp_path / "accounts.csv"
    path.write_text(
        "(Do Not Modify) Account,(Do Not Modify) Row Checksum,(Do Not Modify) Modified On,"
        "Account Name,Main Phone,Address 1: Street 1,Address 1: City,"
        "Address 1: ZIP/Postal Code,Address 1: Country/Region,Email,Account Number\n"
        "a1b2,xx,05-03-2025 10:00,Hansen Byg ApS,20304050,Skovvej 3,Roskilde,4000,Danmark,"
        "info@hansenbyg.dk,K-1001\n",
        encoding="utf-8",
    )
    _, info = read_input(path)
    assert info.mapping == {
        "updated_at": "(Do Not Modify) Modified On",
        "name": "Account Name",
        "phone": "Main Phone",
        "address": "Address 1: Street 1",
        "city": "Address 1: City",
        "postal_code": "Address 1: ZIP/Postal Code",
        "country": "Address 1: Country/Region",
        "email": "Email",
        "record_id": "Account Number",
    }


def test_headers_named_after_what_they_belong_to_are_read_by_their_field(tmp_path: Path) -> None:
    """Pipedrive names its columns "Organization - Name", "Person - Email": no header was a known
    synonym, and the run stopped ("could not map any customer column"). A header that is no
    synonym but is one after such a name ("Organization", "Person", "Contact", "Kunde", …) is read
    by what follows; an unknown field after it stays unmapped."""
    path = tmp_path / "organizations.csv"
    path.write_text(
        "Organization - ID,Organization - Name,Organization - Address,Organization - Owner,"
        "Organization - CVR\n"
        '1,Jensen Consult ApS,"Algade 12, 9000 Aalborg",Mette,31796903\n',
        encoding="utf-8",
    )
    frame, info = read_input(path)
    assert info.mapping == {
        "record_id": "Organization - ID",
        "name": "Organization - Name",
        "address": "Organization - Address",
        "cvr": "Organization - CVR",
    }
    assert frame["raw_cvr"].to_list() == ["31796903"]
    from datavask.connectors.mapping import auto_map

    people = auto_map(["Person - Name", "Person - Email", "Person - Phone", "Owner - Name"])
    assert people == {"name": "Person - Name", "email": "Person - Email", "phone": "Person - Phone"}
    kinds = auto_map(["Person - Name", "Person - Phone - Work", "Person - Phone - Mobile",
                      "Person - Email - Work", "Person - Email - Home"])  # fmt: skip
    assert kinds == {
        "name": "Person - Name",
        "phone": "Person - Phone - Work",
        "mobile": "Person - Phone - Mobile",
        "email": "Person - Email - Work",
    }


def test_a_cpr_number_in_a_parquet_list_or_struct_column_is_masked_when_read(
    tmp_path: Path,
) -> None:
    """Before: ``src_tags`` and ``src_meta`` kept ``020285-4321`` and ``010190-1234`` as written,
    and the re-import passed both columns on. Now both are masked and named as masked columns,
    which the re-import leaves out."""
    from datavask.connectors.masking import masked_columns

    path = tmp_path / "in.parquet"
    pl.DataFrame(
        {
            "Kundenr": ["1", "2"],
            "Navn": ["Hansen Byg ApS", "Jens Olsen"],
            "tags": [["a", "020285-4321"], []],
            "meta": [{"x": 1, "cpr": "010190-1234"}, {"x": 2, "cpr": None}],
            "labels": [["b"], ["c"]],
        }
    ).write_parquet(path)
    frame, _ = read_input(path)
    assert frame["src_tags"].to_list() == [["a", "XXXXXX-XXXX"], []]
    assert frame["src_meta"].to_list() == [{"x": 1, "cpr": "XXXXXX-XXXX"}, {"x": 2, "cpr": None}]
    assert frame["flag_CPR_IN_DATA"].to_list() == [True, False]
    assert masked_columns(frame) == ["tags", "meta"]


def test_sheet_names_and_a_padded_header_holding_a_cpr_number_are_masked(tmp_path: Path) -> None:
    """Before: run.json held ``"sheet": "Kunder 0101901234"`` and ``"sheets_not_read": ["Ark
    010190-1234"]``; a padded header cell went back to the re-import's header as typed."""
    import xlsxwriter

    path = tmp_path / "in.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Kunder 0101901234")
    for j, cell in enumerate(["Kundenr", "Navn", "Postnr", " Note 0101901234"]):
        sheet.write_string(0, j, cell)
    for j, cell in enumerate(["1", "Jens Hansen", "8000", "god"]):
        sheet.write_string(1, j, cell)
    book.add_worksheet("Ark 010190-1234").write_string(0, 0, "y")
    book.close()
    _, info = read_input(path)
    assert info.sheet == "Kunder XXXXXX-XXXX"
    assert info.sheets_not_read == ["Ark XXXXXX-XXXX"]
    assert "0101901234" not in json.dumps(info.to_dict())
    csv = tmp_path / "in.csv"
    csv.write_text("Kundenr;Navn; Note 0101901234 \n1;Jens Hansen;god\n", encoding="utf-8")
    _, info = read_input(csv)
    assert info.header_as_typed == {"Note XXXXXX-XXXX": " Note XXXXXX-XXXX "}
