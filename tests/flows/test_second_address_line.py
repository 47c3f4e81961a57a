"""An ERP's second address line (Business Central's and Uniconta's "Adresse 2") through the
command line: read with the first, written back as the Danish post writes an address, and
nothing the two lines held is lost.

Before, "Adresse 2" was not mapped: a floor and door typed there (``2. tv``) were no part of the
record's address, and an attention line, a building or a name typed before the street in the
first line was parsed away and deleted from the line the CRM received.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import polars as pl

from tests.flows.cli import cleansed

HEADER = "Nr.;Navn;Adresse;Adresse 2;Postnr.;By;Telefon"
ROWS = [
    "10000;Hansen Byg ApS;Vesterbrogade 12;2. tv;1620;København V;33 12 12 12",
    "10001;Hansen Byg ApS;Vesterbrogade 12, 2. tv;;1620;København V;+45 33121212",
    "10002;Jens Jensen;Nørregade 5;c/o Mette Jensen;8000;Aarhus C;20304050",
    "10003;Aarhus Kommune;Rådhuspladsen 2;Postboks 1;8000;Aarhus C;89402000",
    "10004;Nordlys ApS;Att. Bogholderiet, Havnegade 3;;8000;Aarhus C;86121314",
    "10005;Lager & Logistik A/S;Kontorbygningen;Industrivej 4;7100;Vejle;75 10 20 30",
    "10006;Karen Holm;Skovvej 2;;9000;Aalborg;",
    # a post box and no street: it stays on the first line, written once
    "10007;Postboks Kunde A/S;Postboks 2000;;5100;Odense C;66 11 22 33",
]


def _cleanse(source: Path, out: Path, home: Path) -> pl.DataFrame:
    return pl.read_parquet(cleansed(source, out, home=home) / "records.parquet")


def _words(*cells: str | None) -> list[str]:
    return sorted(w for cell in cells for w in re.findall(r"\w+", (cell or "").casefold()))


def test_a_second_address_line_is_read_written_back_and_read_the_same_again(
    tmp_path: Path,
) -> None:
    source = tmp_path / "debitorer.csv"
    source.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    records = _cleanse(source, tmp_path / "out", tmp_path / "home")
    by_id = {r["record_id"]: r for r in records.iter_rows(named=True)}

    # the floor and door of the second line are the address's: the two records are one customer
    assert (by_id["10000"]["floor"], by_id["10000"]["door"]) == ("2", "tv")
    assert by_id["10000"]["cluster_id"] == by_id["10001"]["cluster_id"]
    assert by_id["10002"]["co_name"] == "Mette Jensen"
    assert by_id["10003"]["po_box"] == "Postboks 1"
    assert (by_id["10005"]["street"], by_id["10005"]["house_number"]) == ("Industrivej", "4")
    assert by_id["10005"]["address_extra"] == "Kontorbygningen"

    update = pl.read_csv(
        tmp_path / "out" / "reimport" / "customers_update.csv",
        separator=";",
        infer_schema=False,
    )
    lines = {r["Nr."]: (r["Adresse"], r["Adresse 2"]) for r in update.iter_rows(named=True)}
    # street, number, floor and door on the first line; c/o, post box and the rest on the second
    assert lines == {
        "10000": ("Vesterbrogade 12, 2. tv", None),
        "10001": ("Vesterbrogade 12, 2. tv", None),
        "10002": ("Nørregade 5", "c/o Mette Jensen"),
        "10003": ("Rådhuspladsen 2", "Postboks 1"),
        "10004": ("Havnegade 3", "Att. Bogholderiet"),
        "10005": ("Industrivej 4", "Kontorbygningen"),
        "10006": ("Skovvej 2", None),
        "10007": ("Postboks 2000", None),
    }
    # every word the two lines held is still in them
    typed = {row.split(";")[0]: row.split(";")[2:4] for row in ROWS}
    for record_id, (first, second) in lines.items():
        assert _words(first, second) == _words(*typed[record_id]), record_id

    # the worklist shows the address as the CRM holds it, its second line included
    book = openpyxl.load_workbook(tmp_path / "out" / "worklist.xlsx", read_only=True)
    rows = list(book["Dubletter"].iter_rows(values_only=True))
    book.close()  # a read-only workbook holds its file open until closed
    in_crm = [dict(zip(rows[0], row, strict=True))["adresse i CRM"] for row in rows[1:]]
    assert "Vesterbrogade 12, 2. tv, 1620 København V" in in_crm

    # the file written back is read the same again: a second run changes nothing
    again = tmp_path / "again.csv"
    again.write_bytes((tmp_path / "out" / "reimport" / "customers_update.csv").read_bytes())
    _cleanse(again, tmp_path / "out-again", tmp_path / "home")
    changes = pl.read_csv(tmp_path / "out-again" / "changes.csv", separator=";")
    assert changes.height == 0, changes.to_dicts()


def test_without_a_second_line_what_the_line_held_beside_the_address_goes_back_in_it(
    tmp_path: Path,
) -> None:
    source = tmp_path / "kunder.csv"
    source.write_text(
        "Kundenr;Navn;Adresse;Postnr;By\n"
        "1;Nordlys ApS;Att: Bogholderiet, Havnegade 3, 2. tv;8000;Aarhus C\n"
        "2;Lager & Logistik A/S;Bygning 3, Industrivej 4;7100;Vejle\n"
        "3;Hansen Byg ApS;Hansen Byg ApS, Industrivej 6;7100;Vejle\n",
        encoding="utf-8",
    )
    _cleanse(source, tmp_path / "out", tmp_path / "home")
    update = pl.read_csv(
        tmp_path / "out" / "reimport" / "customers_update.csv", separator=";", infer_schema=False
    )
    assert update["Adresse"].to_list() == [
        "Havnegade 3, 2. tv, Att: Bogholderiet",
        "Industrivej 4, Bygning 3",
        "Industrivej 6, Hansen Byg ApS",
    ]


def test_a_third_address_line_is_read_after_the_second(tmp_path: Path) -> None:
    """Uniconta's debtor list has "Adresse 1", "Adresse 2" and "Adresse 3". What the third holds
    (a village, a c/o) is the address's too, and goes back on the second line; nothing is lost."""
    header = "Konto;Navn;Adresse 1;Adresse 2;Adresse 3;Postnr;By;Telefon"
    rows = [
        "10001;Thisted Tømrer ApS;Industrivej 4;;Vester Hassing;9310;Vodskov;98 25 12 12",
        "10002;Thisted Tømrer ApS;Industrivej 4;Vester Hassing;;9310;Vodskov;98251212",
        "10003;Jens Jensen;Nørregade 5;2. tv;c/o Mette Jensen;8000;Aarhus C;20304050",
    ]
    source = tmp_path / "debitorer.csv"
    source.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    by_id = {
        r["record_id"]: r
        for r in _cleanse(source, tmp_path / "out", tmp_path / "home").iter_rows(named=True)
    }
    assert by_id["10001"]["address_extra"] == by_id["10002"]["address_extra"] == "Vester Hassing"
    assert by_id["10001"]["cluster_id"] == by_id["10002"]["cluster_id"]
    assert (by_id["10003"]["floor"], by_id["10003"]["door"]) == ("2", "tv")
    assert by_id["10003"]["co_name"] == "Mette Jensen"

    written = tmp_path / "out" / "reimport" / "customers_update.csv"
    update = pl.read_csv(written, separator=";", infer_schema=False)
    lines = {
        r["Konto"]: (r["Adresse 1"], r["Adresse 2"], r["Adresse 3"])
        for r in update.iter_rows(named=True)
    }
    assert lines == {
        "10001": ("Industrivej 4", "Vester Hassing", None),
        "10002": ("Industrivej 4", "Vester Hassing", None),
        "10003": ("Nørregade 5, 2. tv", "c/o Mette Jensen", None),
    }
    typed = {row.split(";")[0]: row.split(";")[2:5] for row in rows}
    for record_id, cells in lines.items():
        assert _words(*cells) == _words(*typed[record_id]), record_id

    again = tmp_path / "again.csv"
    again.write_bytes(written.read_bytes())
    _cleanse(again, tmp_path / "out-again", tmp_path / "home")
    changes = pl.read_csv(tmp_path / "out-again" / "changes.csv", separator=";")
    assert changes.height == 0, changes.to_dicts()


def test_a_street_column_keeps_its_c_o_and_post_box(tmp_path: Path) -> None:
    """Salesforce's "Billing Street" holds the whole street part, lines and all; there is no
    address column beside it. A c/o or a post box in it went back to the CRM without them."""
    header = "Account ID,Account Name,Billing Street,Billing City,Billing Zip/Postal Code,Phone"
    rows = [
        '001A,Hansen Byg ApS,"c/o DEAS A/S\nVestergade 12, 2. tv",Aarhus C,8000,86121212',
        '001B,Nordlys ApS,"Havnegade 3\nPostboks 12",Aarhus C,8000,86121314',
    ]
    source = tmp_path / "accounts.csv"
    source.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    records = _cleanse(source, tmp_path / "out", tmp_path / "home")
    by_id = {r["record_id"]: r for r in records.iter_rows(named=True)}
    assert by_id["001A"]["co_name"] == "Deas A/S"
    assert by_id["001B"]["po_box"] == "Postboks 12"

    written = tmp_path / "out" / "reimport" / "customers_update.csv"
    update = pl.read_csv(written, infer_schema=False)
    streets = dict(update.select("Account ID", "Billing Street").iter_rows())
    assert streets == {
        "001A": "c/o Deas A/S, Vestergade 12, 2. tv",
        "001B": "Havnegade 3, Postboks 12",
    }
    again = tmp_path / "again.csv"
    again.write_bytes(written.read_bytes())
    _cleanse(again, tmp_path / "out-again", tmp_path / "home")
    changes = pl.read_csv(tmp_path / "out-again" / "changes.csv", separator=";")
    assert changes.height == 0, changes.to_dicts()
