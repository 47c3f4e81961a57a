"""Foreign customers in a Danish CRM, through ``datavask cleanse`` as a user runs it.

A German GmbH or a Swedish AB owes no CVR number, a Swedish municipality no EAN: neither is
flagged and both stay fit for invoicing. A British or American address written number first
goes back to the CRM number first, and a second run over the re-imported file changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from datavask.connectors.output import read_excel_csv
from tests.flows.cli import cleansed

ROWS = """\
Kundenr;Navn;Adresse;Postnr;By;Land;Telefon;Type;CVR-nr
1;Siemens GmbH;Werner-von-Siemens-Str. 1;80333;München;DE;+49 89 636 00;;DE129273398
2;Göteborgs Stad;Gustaf Adolfs torg 4;411 10;Göteborg;SE;+46 31 365 00 00;public;
3;Foo Trading Ltd;10 Downing Street;SW1A 2AA;London;GB;+44 20 7946 0000;;
4;Hansen Byg ApS;Nørregade 3;1165;København K;DK;20304050;;
5;Nordhavn Kommune;Rådhuspladsen 1;1550;København V;DK;33663366;public;
6;Acme Corp;435 S. La Cienega Blvd.;90048;Los Angeles;US;+1 310 246 1501;;
7;Volvo Danmark A/S;Lyngbyvej 2;2100;København Ø;DK;70101010;;SE556012579001
8;Berlin Handel GmbH;Unter den Linden 5;10117;Berlin;DE;+49 30 1234567;;DE129273399
9;Nordisk Fisk AS;Karl Johans gate 12;0154;Oslo;NO;+47 22 33 44 55;;974760673
10;Svensk Trä AB;Storgatan 5;211 20;Malmö;SE;040-123 45 67;;556012-5790
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("foreign")
    source = root / "customers.csv"
    source.write_text(ROWS, encoding="utf-8")
    first = cleansed(source, root / "first")
    second = cleansed(first / "reimport" / "customers_update.csv", root / "second")
    return first, second


def test_foreign_companies_owe_no_cvr_and_foreign_public_bodies_no_ean(
    runs: tuple[Path, Path],
) -> None:
    records = pl.read_parquet(runs[0] / "records.parquet").sort("source_row")
    by_id = {r["record_id"]: r for r in records.iter_rows(named=True)}
    assert by_id["1"]["country"] == "DE" and by_id["1"]["customer_type"] == "company"
    assert by_id["2"]["country"] == "SE" and by_id["2"]["customer_type"] == "public"
    for foreign in ("1", "2", "3", "6"):
        assert "MISSING_CVR" not in by_id[foreign]["flags"]
        assert "MISSING_EAN" not in by_id[foreign]["flags"]
        assert by_id[foreign]["invoice_ready"], by_id[foreign]["flags"]
    # the Danish company and municipality still owe theirs
    assert "MISSING_CVR" in by_id["4"]["flags"]
    assert "MISSING_EAN" in by_id["5"]["flags"]


def test_a_foreign_vat_number_in_the_cvr_column_is_kept_and_no_broken_cvr(
    runs: tuple[Path, Path],
) -> None:
    records = pl.read_parquet(runs[0] / "records.parquet")
    by_id = {r["record_id"]: r for r in records.iter_rows(named=True)}
    assert (by_id["1"]["vat_number"], by_id["1"]["cvr"]) == ("DE129273398", None)
    assert by_id["1"]["src_CVR-nr"] == "DE129273398"
    # a Danish record with a Swedish VAT number: no CVR owed, none broken
    assert by_id["7"]["vat_number"] == "SE556012579001"
    assert not {"INVALID_CVR", "MISSING_CVR"} & set(by_id["7"]["flags"])
    # a German number whose check digit is wrong is still a broken number
    assert by_id["8"]["vat_number"] is None and "INVALID_CVR" in by_id["8"]["flags"]


def test_number_first_addresses_go_back_number_first(runs: tuple[Path, Path]) -> None:
    update = read_excel_csv(runs[0] / "reimport" / "customers_update.csv")
    lines = dict(zip(update["Kundenr"], update["Adresse"], strict=True))
    assert lines["3"] == "10 Downing Street"
    assert lines["6"] == "435 S. La Cienega Blvd."  # as written: nothing to write back
    assert lines["1"] == "Werner-von-Siemens-Str. 1"
    assert lines["4"] == "Nørregade 3"


def test_a_norwegian_as_and_a_swedish_company_number_go_back_as_written(
    runs: tuple[Path, Path],
) -> None:
    """Norway's ``AS`` is no Danish ``A/S``, and a Swedish AB's own registration number in the
    CVR column is no broken CVR number: both customers are fit for invoicing, and the CRM gets
    their names and numbers back as the user typed them."""
    records = pl.read_parquet(runs[0] / "records.parquet")
    by_id = {r["record_id"]: r for r in records.iter_rows(named=True)}
    assert by_id["9"]["name"] == "Nordisk Fisk AS"
    for foreign in ("9", "10"):
        assert "INVALID_CVR" not in by_id[foreign]["flags"]
        assert by_id[foreign]["invoice_ready"], by_id[foreign]["flags"]
    update = read_excel_csv(runs[0] / "reimport" / "customers_update.csv")
    rows = {r["Kundenr"]: r for r in update.iter_rows(named=True)}
    assert (rows["9"]["Navn"], rows["9"]["CVR-nr"]) == ("Nordisk Fisk AS", "974760673")
    assert rows["10"]["CVR-nr"] == "556012-5790"
    changes = read_excel_csv(runs[0] / "changes.csv")
    assert changes.filter(pl.col("field") == "name").height == 0, changes.rows()


def test_a_second_run_over_the_reimport_changes_nothing(runs: tuple[Path, Path]) -> None:
    leftover = read_excel_csv(runs[1] / "changes.csv")
    assert leftover.height == 0, leftover.rows()


def test_one_vat_number_is_one_company_and_two_are_two(tmp_path: Path) -> None:
    """Matching reads a foreign VAT number as a CVR number: two records of one GmbH under two
    spellings share it and are one customer; two GmbHs of one name, number and street with two
    different VAT numbers are two legal entities and never merged."""
    source = tmp_path / "customers.csv"
    source.write_text(
        "Kundenr;Navn;Adresse;Postnr;By;Land;CVR-nr\n"
        "1;Müller Maschinenbau GmbH;Industriestr. 5;70565;Stuttgart;DE;DE129273398\n"
        "2;Mueller Maschinen GmbH;Industriestrasse 5;70565;Stuttgart;DE;DE 129 273 398\n"
        "3;Schmidt Logistik GmbH;Hafenweg 2;20457;Hamburg;DE;DE136695976\n"
        "4;Schmidt Logistik GmbH;Hafenweg 2;20457;Hamburg;DE;DE811907980\n",
        encoding="utf-8",
    )
    out = cleansed(source, tmp_path / "out")
    records = pl.read_parquet(out / "records.parquet")
    cluster = dict(zip(records["record_id"], records["cluster_id"], strict=True))
    assert cluster["1"] == cluster["2"]
    assert cluster["3"] != cluster["4"]
    # the customer's golden record carries its VAT number
    golden = pl.read_parquet(out / "golden.parquet").filter(pl.col("cluster_id") == cluster["1"])
    assert golden["vat_number"].to_list() == ["DE129273398"]


def test_a_flat_after_a_number_first_street_goes_back_with_it(tmp_path: Path) -> None:
    """A Salesforce export's street column (``Billing Street``) holds the whole line; the flat
    after a British or American street is kept in it, not cut off."""
    source = tmp_path / "accounts.csv"
    source.write_text(
        "Account ID,Account Name,Billing Street,Billing City,Billing Zip/Postal Code,"
        "Billing Country\n"
        '001A,Acme Ltd,"10 Downing Street, Flat 2",London,SW1A 2AA,United Kingdom\n'
        "001B,Foo Inc,1 Main St Apt 4,Springfield,62701,United States\n"
        "001C,Bar Ltd,12 High Street,Oxford,OX1 4AA,United Kingdom\n",
        encoding="utf-8",
    )
    first = cleansed(source, tmp_path / "first")
    # written back like the input: comma-separated; a foreign customer's own line as typed
    update = pl.read_csv(first / "reimport" / "customers_update.csv", infer_schema=False)
    lines = dict(zip(update["Account ID"], update["Billing Street"], strict=True))
    assert lines == {
        "001A": "10 Downing Street, Flat 2",
        "001B": "1 Main St Apt 4",
        "001C": "12 High Street",
    }
    second = cleansed(first / "reimport" / "customers_update.csv", tmp_path / "second")
    assert read_excel_csv(second / "changes.csv").height == 0


def test_a_foreign_code_and_town_in_one_postal_column_go_back_both(tmp_path: Path) -> None:
    """C5's debtor list holds the postal code and the town in one column (``Postnr/By``). A
    Swedish one went back to the CRM as ``11143``: its town lost and its code closed up."""
    source = tmp_path / "debitorer.csv"
    source.write_text(
        "Konto;Navn;Adresse1;Postnr/By;Land\n"
        "100;Hansen Byg ApS;Industrivej 4;8200 ÅRHUS N;DANMARK\n"
        "103;Svenska Bygg AB;Kungsgatan 12;SE-111 43 Stockholm;SVERIGE\n"
        "104;Gamla Stan AB;Västerlånggatan 7;111 29 Stockholm;SVERIGE\n",
        encoding="utf-8",
    )
    out = cleansed(source, tmp_path / "out")
    records = pl.read_parquet(out / "records.parquet")
    assert records["city"].to_list() == ["Aarhus N", "Stockholm", "Stockholm"]
    assert records["postal_code"].to_list() == ["8200", "SE-111 43", "111 29"]
    update = read_excel_csv(out / "reimport" / "customers_update.csv")
    assert update["Postnr/By"].to_list() == [
        "8200 Aarhus N",
        "SE-111 43 Stockholm",
        "111 29 Stockholm",
    ]
    again = cleansed(out / "reimport" / "customers_update.csv", tmp_path / "again")
    assert read_excel_csv(again / "changes.csv").height == 0
