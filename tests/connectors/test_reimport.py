from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from datavask.cleansing.survivorship import build_golden
from datavask.connectors.files import read_input, read_table
from datavask.connectors.output import read_excel_csv
from datavask.connectors.reimport import (
    detect_crm,
    like_input_csv,
    merge_plan,
    transliterated,
    write_reimport,
)

DANISH_HEADER = "Kundenr;Navn;Adresse;Postnr;By;Telefon;Mobil;E-mail;CVR-nr;Note"
DANISH_ROWS = [
    "1;hansen byg aps;vestergade 12,2tv;8000;århus c;12 34 56 78;;INFO@HANSENBYG.DK;DK 1234 5674;"
    "betaler sent – ring først",
    "2;Hansen Byg;Vestergade 12;8000;Aarhus C;;0045 8765 4321;;;",
    "3;Jensen's Æbler;Nørregade 1;5000;Odense C;12 34;;ikke en adresse;;€ 100 i rest",
]


def cleaned(frame: pl.DataFrame) -> pl.DataFrame:
    """What the normalisers would have added, by hand, keyed on record_id."""
    values = {
        "record_id": ["1", "2", "3"],
        "name": ["Hansen Byg ApS", "Hansen Byg", "Jensen's Æbler"],
        "street": ["Vestergade", "Vestergade", "Nørregade"],
        "house_number": ["12", "12", "1"],
        "floor": ["2", None, None],
        "door": ["tv", None, None],
        "postal_code": ["8000", "8000", "5000"],
        "city": ["Aarhus C", "Aarhus C", "Odense C"],
        "phone_e164": ["+4512345678", "+4587654321", None],
        "phone_numbers": [["+4512345678"], ["+4587654321"], []],
        "email": ["info@hansenbyg.dk", None, None],
        "emails": [["info@hansenbyg.dk"], [], []],
        "cvr": ["12345674", None, None],
        "customer_type": ["company", "company", "person"],
        "cluster_id": ["a", "a", "b"],
        "updated_at": [None, None, None],
    }
    extra = pl.DataFrame(
        values,
        schema={
            k: pl.List(pl.String) if k in ("phone_numbers", "emails") else pl.String for k in values
        },
    )
    return frame.join(extra, on="record_id", how="left", maintain_order="left")


def write_input(path: Path, header: str, rows: list[str], *, encoding: str, delimiter: str) -> Path:
    text = "\n".join([header, *rows]).replace(";", delimiter) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def run_reimport(tmp_path: Path, source: Path, **options: Any) -> tuple[Path, dict[str, Any]]:
    frame, info = read_input(source)
    records = cleaned(frame)
    golden = build_golden(records)
    pairs = pl.DataFrame(
        {
            "record_id_l": ["1"],
            "record_id_r": ["2"],
            "match_probability": [0.97],
            "decision": ["match"],
        }
    )
    paths = write_reimport(
        tmp_path / "out", records, golden, pairs, input_info=info.to_dict(), **options
    )
    return paths["customers_update"], info.to_dict()


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    # UTF-32 read as UTF-16 once gave every value a NUL after each letter
    [("cp1252", ";"), ("utf-8", ","), ("utf-8-sig", "\t"), ("utf-32", ";"), ("utf-32-be", ",")],
)
def test_update_file_has_the_inputs_shape(tmp_path: Path, encoding: str, delimiter: str) -> None:
    rows = DANISH_ROWS if delimiter == ";" else [r.replace(",", " ") for r in DANISH_ROWS]
    source = write_input(
        tmp_path / "in.csv", DANISH_HEADER, rows, encoding=encoding, delimiter=delimiter
    )
    update_path, info = run_reimport(tmp_path, source)

    back, _, back_info = read_table(update_path)
    assert back_info.encoding == info["encoding"] == encoding
    assert back_info.delimiter == delimiter
    assert back_info.columns == info["columns"]
    assert update_path.read_bytes().startswith(
        DANISH_HEADER.replace(";", delimiter).encode(encoding)
    )
    assert back.height == 3
    # untouched columns keep every byte, including characters only the input's encoding has
    assert back["Note"].to_list() == ["betaler sent – ring først", None, "€ 100 i rest"]
    assert back["Kundenr"].to_list() == ["1", "2", "3"]


@pytest.mark.parametrize("line_end", ["\r\n", "\n"])
def test_update_file_keeps_the_inputs_line_ends(tmp_path: Path, line_end: str) -> None:
    """Before: every re-import ended its lines with LF, though README promised the input's."""
    source = write_input(
        tmp_path / "in.csv", DANISH_HEADER, DANISH_ROWS, encoding="cp1252", delimiter=";"
    )
    source.write_bytes(source.read_bytes().replace(b"\n", line_end.encode()))
    update_path, info = run_reimport(tmp_path, source)
    assert info["line_terminator"] == line_end
    written = update_path.read_bytes()
    assert written.count(line_end.encode()) == 4
    assert written.count(b"\n") == 4  # no line ends otherwise


def test_cleaned_values_go_into_the_mapped_columns(tmp_path: Path) -> None:
    source = write_input(
        tmp_path / "in.csv", DANISH_HEADER, DANISH_ROWS, encoding="cp1252", delimiter=";"
    )
    update_path, _ = run_reimport(tmp_path, source)
    back = read_table(update_path)[0]
    first, second, third = back.rows(named=True)

    assert first["Navn"] == "Hansen Byg ApS"
    assert first["Adresse"] == "Vestergade 12, 2. tv"
    assert first["By"] == "Aarhus C"
    assert first["Telefon"] == "+4512345678"
    assert first["E-mail"] == "info@hansenbyg.dk"
    assert first["CVR-nr"] == "12345674"
    # the survivor of cluster a is record 1; record 2 keeps its own (cleaned) values
    assert second["Mobil"] == "+4587654321"
    assert second["Navn"] == "Hansen Byg"
    # values cleansing could not clean keep the original: they are flagged, not erased
    assert third["Telefon"] == "12 34"
    assert third["E-mail"] == "ikke en adresse"


def test_survivor_takes_golden_values_from_its_cluster(tmp_path: Path) -> None:
    rows = [
        "1;Hansen Byg ApS;Vestergade 12;8000;Aarhus C;;;;DK 1234 5674;",
        "2;Hansen Byg;Vestergade 12;8000;Aarhus C;;;info@hansenbyg.dk;;",
        "3;Jensen;Nørregade 1;5000;Odense C;;;;;",
    ]
    source = write_input(tmp_path / "in.csv", DANISH_HEADER, rows, encoding="utf-8", delimiter=";")
    frame, info = read_input(source)
    records = cleaned(frame).with_columns(
        pl.when(pl.col("record_id") == "2").then(pl.lit("info@hansenbyg.dk")).alias("email"),
        pl.when(pl.col("record_id") == "2")
        .then(pl.lit(["info@hansenbyg.dk"]))
        .otherwise(pl.lit([], dtype=pl.List(pl.String)))
        .alias("emails"),
    )
    golden = build_golden(records)
    assert golden.filter(pl.col("cluster_id") == "a")["record_id"].to_list() == ["1"]
    paths = write_reimport(tmp_path / "out", records, golden, None, input_info=info.to_dict())
    back = read_table(paths["customers_update"])[0]
    assert back["E-mail"].to_list() == ["info@hansenbyg.dk", "info@hansenbyg.dk", None]


def _with_two_cleaned(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (customers 1 and 9 as read) with their cleaned names and addresses."""
    return frame.join(
        pl.DataFrame(
            {
                "record_id": ["1", "9"],
                "name": ["Hansen Byg ApS", "Ren Kunde ApS"],
                "street": ["Vestergade", "Torvet"],
                "house_number": ["12", "1"],
                "floor": ["2", None],
                "door": ["tv", None],
                "postal_code": ["8000", "5000"],
                "city": ["Aarhus C", "Odense C"],
            }
        ),
        on="record_id",
        how="left",
        maintain_order="left",
    )


def test_only_changed_rows(tmp_path: Path) -> None:
    rows = [*DANISH_ROWS[:1], "9;Ren Kunde ApS;Torvet 1;5000;Odense C;;;;;"]
    source = write_input(tmp_path / "in.csv", DANISH_HEADER, rows, encoding="utf-8", delimiter=";")
    frame, info = read_input(source)
    records = _with_two_cleaned(frame)
    paths = write_reimport(
        tmp_path / "out",
        records,
        build_golden(records),
        None,
        input_info=info.to_dict(),
        only_changed=True,
    )
    back = read_table(paths["customers_update"])[0]
    assert back["Kundenr"].to_list() == ["1"]


def test_only_changed_writes_what_the_whole_re_import_changes(tmp_path: Path) -> None:
    """``+ ring før levering`` in a passed-on column goes back ``'+ ring før levering`` (a
    formula's apostrophe) in the whole re-import: --only-changed writes that row too, so loading
    either file leaves the CRM alike. The CRM's ``'+ ring før levering`` is no change."""
    header = "Kundenr;Navn;Adresse;Postnr;By;Telefon;Mobil;E-mail;CVR-nr;Note"
    rows = [
        "1;Hansen Byg ApS;Vestergade 12, 2. tv;8000;Aarhus C;;;;;+ ring før levering",
        "9;Ren Kunde ApS;Torvet 1;5000;Odense C;;;;;'+ ring før levering",
    ]
    source = write_input(tmp_path / "in.csv", header, rows, encoding="utf-8", delimiter=";")
    frame, info = read_input(source)
    records = _with_two_cleaned(frame)
    written = {
        only: read_table(
            write_reimport(
                tmp_path / f"out-{only}", records, build_golden(records), None,
                input_info=info.to_dict(), only_changed=only,
            )["customers_update"]
        )[0]
        for only in (False, True)
    }  # fmt: skip
    assert written[True].rows() == written[False].head(1).rows()
    assert written[True]["Note"].to_list() == ["'+ ring før levering"]


def test_a_customer_number_two_customers_share_is_not_re_imported(tmp_path: Path) -> None:
    """``1002`` on Ole Berg's row and on Pia Dahl's: loaded by id, one customer would get the
    other's values. Both rows are left out, as rows keyed by a masked CPR number are."""
    header = "Kundenr;Navn;Adresse;Postnr;By"
    rows = [
        "1002;Ole Berg;Algade 3;4000;Roskilde",
        "1002;Pia Dahl;Vestergade 9;8000;Aarhus C",
        "7;Holm ApS;Torvet 1;5000;Odense C",
    ]
    source = write_input(tmp_path / "in.csv", header, rows, encoding="utf-8", delimiter=";")
    records, info = read_input(source)
    assert info.repeated_id_rows == [1, 2]
    paths = write_reimport(
        tmp_path / "out", records, build_golden(records), None, input_info=info.to_dict()
    )
    assert read_table(paths["customers_update"])[0]["Kundenr"].to_list() == ["7"]


def test_merge_plan_per_crm() -> None:
    golden = pl.DataFrame(
        {
            "cluster_id": ["a", "b", "c"],
            "record_id": ["1", "4", "9"],
            "cluster_size": [4, 1, 2],
            "member_ids": [["1", "2", "3", "5"], ["4"], ["9", "8"]],
        }
    )
    pairs = pl.DataFrame(
        {
            "record_id_l": ["1", "2", "3", "8", "4"],
            "record_id_r": ["2", "3", "5", "9", "9"],
            "match_probability": [0.99, 0.91, 0.95, 0.88, 0.4],
            "decision": ["match", "match", "match", "review", "non-match"],
        }
    )
    economic = merge_plan(golden, pairs, crm="economic")
    assert economic.drop("survivor_row", "merged_rows").rows() == [
        ("1", "2;3;5", 0.91, "update survivor; set barred=true on merged"),
        ("9", "8", 0.88, "update survivor; set barred=true on merged"),
    ]
    hubspot = merge_plan(golden, pairs, crm="hubspot")
    assert hubspot.select("survivor_id", "merged_ids").rows() == [
        ("1", "2"),
        ("1", "3"),
        ("1", "5"),
        ("9", "8"),
    ]
    salesforce = merge_plan(golden, pairs, crm="salesforce")
    assert salesforce.select("survivor_id", "merged_ids").rows() == [
        ("1", "2;3"),
        ("1", "5"),
        ("9", "8"),
    ]
    dynamics = merge_plan(golden, pairs, crm="dynamics")
    assert (
        dynamics.select("survivor_id", "merged_ids").rows()
        == hubspot.select("survivor_id", "merged_ids").rows()
    )
    assert "Dynamics 365 merges two" in dynamics["crm_action"][0]
    generic = merge_plan(golden, None)
    assert generic["score"].to_list() == [None, None]
    assert merge_plan(golden.filter(pl.col("cluster_size") == 1), pairs).height == 0


def test_merge_plan_file_and_crm_from_headers(tmp_path: Path) -> None:
    header = ",".join(
        [
            "customerNumber",
            "name",
            "address",
            "zip",
            "city",
            "telephoneAndFaxNumber",
            "email",
            "corporateIdentificationNumber",
        ]
    )
    rows = [
        "1,hansen byg aps,vestergade 12,8000,aarhus c,12345678,,12345674",
        "2,Hansen Byg,Vestergade 12,8000,Aarhus C,,,",
        "3,Jensen,Nørregade 1,5000,Odense C,,,",
    ]
    source = write_input(tmp_path / "in.csv", header, rows, encoding="utf-8", delimiter=",")
    frame, info = read_input(source)
    assert detect_crm(info.to_dict()) == "economic"
    records = cleaned(frame)
    paths = write_reimport(
        tmp_path / "out", records, build_golden(records), None, input_info=info.to_dict()
    )
    plan = read_excel_csv(paths["merge_plan"])
    assert plan.columns == [
        "survivor_id", "merged_ids", "score", "crm_action", "survivor_row", "merged_rows"
    ]  # fmt: skip
    assert plan.row(0) == ("1", "2", None, "update survivor; set barred=true on merged", "1", "2")


def test_e_conomics_danish_export_is_e_conomics() -> None:
    """e-conomic cannot merge customers: its Danish export (``Telefon- og faxnummer``, the
    field telephoneAndFaxNumber) gets the barring plan too. Headers every Danish system writes
    (``Kundenr``, ``CVR-nr``, ``EAN``, ``Kundegruppe``) tell no CRM."""
    danish = "Kundenr.;Navn;Adresse;Postnr.;By;Land;Telefon- og faxnummer;E-mail;CVR-nr.;EAN-nr."
    assert detect_crm({"columns": [*danish.split(";"), "Kundegruppe"]}) == "economic"
    shared = "Kundenr;Navn;Adresse;Postnr;By;Land;Telefon;E-mail;CVR-nr;EAN;Kundegruppe"
    assert detect_crm({"columns": shared.split(";")}) == "generic"


def test_a_dynamics_365_export_is_told_from_a_salesforce_one(tmp_path: Path) -> None:
    """Both have an "Account Name"; Dynamics 365's "(Do Not Modify)" columns and its address
    headers tell it, and its "CVR Number" is the CVR number."""
    header = ",".join(
        [
            "(Do Not Modify) Account",
            "(Do Not Modify) Row Checksum",
            "(Do Not Modify) Modified On",
            "Account Name",
            "Main Phone",
            "Address 1: Street 1",
            "Address 1: ZIP/Postal Code",
            "Address 1: City",
            "CVR Number",
            "Account Number",
        ]
    )
    rows = [
        "a-1,x1,01-10-2026 10:12,Hansen Byg ApS,86121212,Industrivej 4,8000,Aarhus C,25313763,D-1",
        "a-2,x2,15-11-2026 08:00,HANSEN BYG APS,86121212,Industrivej 4,8000,Aarhus C,25313763,D-2",
    ]
    source = write_input(tmp_path / "in.csv", header, rows, encoding="utf-8", delimiter=",")
    frame, info = read_input(source)
    assert detect_crm(info.to_dict()) == "dynamics"
    assert info.mapping["cvr"] == "CVR Number"
    assert frame["raw_cvr"].to_list() == ["25313763", "25313763"]
    salesforce = {"columns": ["Account ID", "Account Name", "Billing Street"]}
    assert detect_crm(salesforce) == "salesforce"


def test_unknown_crm_is_refused(tmp_path: Path) -> None:
    source = write_input(
        tmp_path / "in.csv", DANISH_HEADER, DANISH_ROWS, encoding="utf-8", delimiter=";"
    )
    with pytest.raises(ValueError, match="unknown CRM"):
        run_reimport(tmp_path, source, crm="sap")


def test_round_trip_leaves_nothing_to_change(tmp_path: Path) -> None:
    """Cleansing the re-import file again (same reader, same normalisers) changes nothing more."""
    from datavask.cleansing.changes import build_changes
    from datavask.cleansing.normalise import normalise

    rows = [
        "1;hansen byg aps;vestergade 12,2tv;8000;århus c;20 30 40 50;;INFO@HANSENBYG.DK;"
        "DK 1358 5628;x",
        "2;Hansen Byg ApS;Vestergade 12, 2. tv;8000;Aarhus C;20304050;;info@hansenbyg.dk;13585628;",
        "3;Jensen's Æbler;Nørregade 1;5000;Odense C;12 34;;ikke en adresse;;€ 100 i rest",
        "4;Region Syddanmark;Damhaven 12;7100;;76631000;;;;",
    ]
    source = write_input(tmp_path / "in.csv", DANISH_HEADER, rows, encoding="cp1252", delimiter=";")
    frame, info = read_input(source)
    first = normalise(frame).with_columns(
        pl.when(pl.col("record_id").is_in(["1", "2"]))
        .then(pl.lit("a"))
        .otherwise(pl.col("record_id"))
        .alias("cluster_id")
    )
    assert build_changes(first, mapped=set(info.mapping)).height > 0
    paths = write_reimport(
        tmp_path / "out", first, build_golden(first), None, input_info=info.to_dict()
    )

    again, again_info = read_input(paths["customers_update"])
    assert again_info.encoding == "cp1252" and again_info.mapping == info.mapping
    assert build_changes(normalise(again), mapped=set(again_info.mapping)).rows() == []


def test_merge_plan_names_only_ids_the_crm_has() -> None:
    """Made-up record ids (blank or repeated customer numbers) never reach the merge plan, and
    nor does a customer number several rows share: ``survivor_id 5; merged_ids 5`` merged a
    customer into itself. Such rows are named by their rows."""
    golden = pl.DataFrame(
        {
            "cluster_id": ["a", "b"],
            "record_id": ["1#1", "5#4"],
            "cluster_size": [3, 2],
            "member_ids": [["1#1", "1", "4"], ["5#4", "5#3"]],
        }
    )
    ids = pl.DataFrame(
        {
            "record_id": ["1#1", "1", "5#3", "5#4", "4"],
            "crm_id": [None, "1", "5", "5", None],
            "source_row": [1, 2, 3, 4, 5],
        }
    )
    for crm in ("generic", "economic", "hubspot"):
        plan = merge_plan(golden, None, crm=crm, ids=ids)
        assert not plan["survivor_id"].str.contains("#").any(), crm
        assert not plan["merged_ids"].str.contains("#").any(), crm
    generic = merge_plan(golden, None, ids=ids)
    assert generic.select("survivor_id", "merged_ids", "survivor_row", "merged_rows").rows() == [
        (None, "1", "1", "2;5"),
        (None, None, "4", "3"),
    ]
    hubspot = merge_plan(golden, None, crm="hubspot", ids=ids)
    assert hubspot.select("survivor_id", "merged_ids", "merged_rows").rows() == [
        (None, "1", "2"),
        (None, None, "5"),
        (None, None, "3"),
    ]


def test_shaped_values_from_the_verdict_write_the_same_file(tmp_path: Path) -> None:
    """The verdict step hands over the values it shaped for changes.csv; the file is the same."""
    from datavask.cleansing.changes import input_shaped
    from datavask.cleansing.survivorship import apply_golden

    source = write_input(
        tmp_path / "in.csv", DANISH_HEADER, DANISH_ROWS, encoding="cp1252", delimiter=";"
    )
    frame, info = read_input(source)
    records = cleaned(frame)
    golden = build_golden(records)
    shaped = input_shaped(apply_golden(records, golden), mapped=set(info.mapping))
    made = write_reimport(tmp_path / "a", records, golden, None, input_info=info.to_dict())
    given = write_reimport(
        tmp_path / "b", records, golden, None, input_info=info.to_dict(), shaped=shaped
    )
    shaped_bytes = given["customers_update"].read_bytes()
    assert shaped_bytes == made["customers_update"].read_bytes()
    assert "Hansen Byg ApS" in shaped_bytes.decode("cp1252")
    with pytest.raises(ValueError, match="row for row"):
        write_reimport(
            tmp_path / "c",
            records,
            golden,
            None,
            input_info=info.to_dict(),
            shaped=shaped.reverse(),
        )


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
@pytest.mark.parametrize("typed", [{}, {"Kundenr": " Kundenr "}], ids=["named", "as-typed"])
def test_a_file_written_in_parts_has_its_byte_order_mark_once(
    encoding: str, typed: dict[str, str]
) -> None:
    """The Dask engine writes the re-import in row parts and puts them one after the other.
    Before, every part of a UTF-8-BOM or UTF-16 input's re-import began with the mark: read back,
    the first customer number of each later part was ``\ufeff3``; a UTF-16 file had ``FF FE``
    inside it (and after its own header line, when the input's header was written as typed)."""
    frame = pl.DataFrame({"Kundenr": ["1", "2", "3", "4"], "Navn": ["Ø", "Å", "Æ", "é"]})
    info = {"format": "csv", "encoding": encoding, "delimiter": ";", "header_as_typed": typed}
    whole = like_input_csv(frame, info)
    parts = [like_input_csv(frame.slice(offset, 2), info, header=offset == 0) for offset in (0, 2)]
    assert b"".join(parts) == whole
    bom = "".encode(encoding)  # what the encoding puts before every text: b"" for cp1252
    assert whole.startswith(bom) and (not bom or whole.count(bom) == 1)
    text = whole.decode(encoding).splitlines()
    assert [line.split(";")[0] for line in text[1:]] == ["1", "2", "3", "4"]


@pytest.mark.parametrize("typed", [{}, {"By": "By "}], ids=["named", "as-typed"])
def test_a_workbooks_update_csv_opens_in_a_danish_excel(typed: dict[str, str]) -> None:
    """A workbook has no encoding or delimiter to keep: its customers_update.csv was UTF-8 with
    ``,``, which a Danish Excel opens as one column, and its header ``By `` came back ``By``.
    Now it is UTF-8 with BOM and ``;`` (as changes.csv), once also when written in parts, with
    the sheet's header cells as typed. A Parquet input's stays UTF-8 and ``,``."""
    frame = pl.DataFrame({"Kundenr": ["1", "2"], "By": ["Århus C", "=1+1"]})
    info = {"format": "xlsx", "header_as_typed": typed}
    whole = like_input_csv(frame, info)
    header = ";".join(typed.get(c, c) for c in frame.columns)
    assert whole == f"\ufeff{header}\n1;Århus C\n2;'=1+1\n".encode()
    parts = [like_input_csv(frame.slice(offset, 1), info, header=offset == 0) for offset in (0, 1)]
    assert b"".join(parts) == whole
    assert like_input_csv(frame, {"format": "parquet"}).startswith(b"Kundenr,By\n")


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
@pytest.mark.parametrize("typed", [{}, {"Adresse": " Adresse "}], ids=["named", "padded"])
def test_a_header_excel_would_run_is_written_escaped(encoding: str, typed: dict[str, str]) -> None:
    """Before: row 1 of customers_update.csv held ``=HYPERLINK(…)``, ``@SUM(A1)`` and a DDE call
    ``+cmd|' /C calc'!A0`` as live cells. Now they get the data cells' ``'``; the other header
    cells stay as typed (a padded one padded)."""
    evil = ['=HYPERLINK("http://evil.example","x")', "@SUM(A1)", "+cmd|' /C calc'!A0"]
    frame = pl.DataFrame({name: ["1"] for name in ["Kundenr", "Adresse", *evil, "-"]})
    info = {"format": "csv", "encoding": encoding, "delimiter": ";", "header_as_typed": typed}
    written = like_input_csv(frame, info).decode(encoding)
    header = next(csv.reader(io.StringIO(written), delimiter=";"))
    adresse = typed.get("Adresse", "Adresse")
    assert header == ["Kundenr", adresse, *("'" + name for name in evil), "'-"]
    assert like_input_csv(frame, info, header=False).decode(encoding) == "1;1;1;1;1;1\n"


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("Łódź Handel ApS", "Lódz Handel ApS"),  # a registry name back into a cp1252 CRM
        ("Nowa Huta ☃", "Nowa Huta ?"),  # no letter beneath: a question mark
        ("Nyt Firma – Øst ApS", "Nyt Firma – Øst ApS"),  # cp1252 holds these
    ],
)
def test_what_cp1252_cannot_hold_is_written_without_its_accent(text: str, written: str) -> None:
    assert transliterated(text, "cp1252") == written
