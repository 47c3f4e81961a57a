"""A public customer's departments through ``datavask cleanse``: one CVR number, an EAN each.

A municipality is one legal entity (one CVR number), and each of its administrations that buys is
invoiced at an EAN number of its own (the invoice is rejected at any other). The town hall and the
school administration are two customers of the CRM, however alike their names, addresses and
phones; the town hall written twice is one.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.flows.cli import cleansed

HEADER = "Konto;Navn;Adresse;Postnr;By;Telefon;CVR/SE nr.;EAN nummer\n"
TOWN_HALL, SCHOOLS = "5798005770008", "5798005770015"


def test_two_ean_numbers_of_one_municipality_are_two_customers(tmp_path: Path) -> None:
    source = tmp_path / "debitorer.csv"
    source.write_text(
        HEADER
        + f"1;Aalborg Kommune;Boulevarden 13;9000;Aalborg;99 31 31 31;29189420;{TOWN_HALL}\n"
        + f"2;AALBORG KOMMUNE;Boulevarden 13;9000;Aalborg;99313131;29189420;{TOWN_HALL}\n"
        # the school administration, typed by the name of its municipality as most are
        + f"3;Aalborg Kommune;Boulevarden 13;9000;Aalborg;99313131;29189420;{SCHOOLS}\n"
        + "4;Hansen Byg ApS;Industrivej 4;9000;Aalborg;98121212;25313763;\n",
        encoding="utf-8",
    )
    out = cleansed(source, tmp_path / "out")
    cluster = dict(
        pl.read_parquet(out / "records.parquet").select("record_id", "cluster_id").iter_rows()
    )
    assert cluster["1"] == cluster["2"]
    assert cluster["3"] != cluster["1"]
    pairs = pl.read_parquet(out / "pairs.parquet")
    vetoed = pairs.filter(pl.col("hard_rule") == "ean_conflict")
    assert {tuple(sorted(p)) for p in vetoed.select("record_id_l", "record_id_r").rows()} == {
        ("1", "3"),
        ("2", "3"),
    }
    plan = pl.read_csv(out / "reimport" / "merge_plan.csv", separator=";", infer_schema_length=0)
    merged = {(row[0], row[1]) for row in plan.select("survivor_id", "merged_ids").rows()}
    assert all("3" not in step or "1" not in step for step in map("".join, merged))


ROADS, SCHOOL_ADMINISTRATION = "5798004030806", "5798001311977"
LYNGBY = "Lyngby Torv 17;2800;Kongens Lyngby;45 97 30 00;85896695"


@pytest.mark.parametrize(
    ("header", "roads", "schools"),
    [
        # Business Central's second name line holds the department …
        (
            "Nr.;Navn;Navn 2;Adresse;Postnr.;By;Telefon;SE/CVR-nr.;EAN-nr.\n",
            "Lyngby-Taarbæk Kommune;Vej og Park",
            "Lyngby-Taarbæk Kommune;Skoleafdelingen",
        ),
        # … or the name cell does, after its municipality's name.
        (
            "Nr.;Navn;Adresse;Postnr.;By;Telefon;SE/CVR-nr.;EAN-nr.\n",
            "Lyngby-Taarbæk Kommune, Vej og Park",
            "Lyngby-Taarbæk Kommune, Skoleafdelingen",
        ),
    ],
    ids=["navn 2", "one cell"],
)
def test_a_department_without_ean_joins_its_own_department(
    tmp_path: Path, header: str, roads: str, schools: str
) -> None:
    # Before, in this three-row file the school administration's copy without EAN was merged
    # with the roads department (the names "share most words", weighed more than the same name)
    # and its own department's record went to review: the copy is the school administration's,
    # and takes its EAN.
    source = tmp_path / "debitorer.csv"
    source.write_text(
        header
        + f"K-0009;{roads};{LYNGBY};{ROADS}\n"
        + f"K-0010;{schools};{LYNGBY};{SCHOOL_ADMINISTRATION}\n"
        + f"K-0011;{schools};{LYNGBY};\n",
        encoding="utf-8",
    )
    out = cleansed(source, tmp_path / "out")
    cluster = dict(
        pl.read_parquet(out / "records.parquet").select("record_id", "cluster_id").iter_rows()
    )
    assert cluster["K-0011"] == cluster["K-0010"] != cluster["K-0009"]
    pairs = pl.read_parquet(out / "pairs.parquet")
    decision = {
        tuple(sorted((left, right))): made
        for left, right, made in pairs.select("record_id_l", "record_id_r", "decision").rows()
    }
    assert decision[("K-0010", "K-0011")] == "match"
    assert decision[("K-0009", "K-0011")] != "match"
    golden = pl.read_parquet(out / "golden.parquet")
    schools_customer = golden.filter(pl.col("cluster_id") == cluster["K-0010"])
    assert schools_customer["ean"].to_list() == [SCHOOL_ADMINISTRATION]


@pytest.mark.parametrize(
    ("header", "finance", "hr"),
    [
        (
            "Nummer;Navn;Navn 2;Adresse;Postnr.;By;Telefon;CVR-nr.;EAN-nr.\n",
            "Region Hovedstaden;Center for Økonomi",
            "Region Hovedstaden;Center for HR",
        ),
        (
            "Nummer;Navn;Adresse;Postnr.;By;Telefon;CVR-nr.;EAN-nr.\n",
            "Region Hovedstaden, Center for Økonomi",
            "Region Hovedstaden, Center for HR",
        ),
    ],
    ids=["navn 2", "one cell"],
)
def test_a_department_without_ean_is_no_other_departments_copy(
    tmp_path: Path, header: str, finance: str, hr: str
) -> None:
    """Before, the HR centre without an EAN number was merged into the finance centre at p 0.9999
    on the region's CVR number, address and switchboard: its invoices would have gone out at the
    finance centre's EAN. An authority's CVR number is its departments' too; only one EAN number
    makes two of them one customer."""
    region = "Kongens Vænge 2;3400;Hillerød;38 66 50 00;29190623"
    source = tmp_path / "debitorer.csv"
    source.write_text(
        header
        + f"D-2007;{finance};{region};5798000000018\n"
        + f"D-2008;{hr};{region};\n"
        + f"D-2009;{hr};{region};\n",  # the HR centre typed twice is one customer
        encoding="utf-8",
    )
    out = cleansed(source, tmp_path / "out")
    records = pl.read_parquet(out / "records.parquet")
    cluster = dict(records.select("record_id", "cluster_id").iter_rows())
    assert cluster["D-2008"] == cluster["D-2009"] != cluster["D-2007"]
    flags = dict(records.select("record_id", "flags").iter_rows())
    assert "MISSING_EAN" in flags["D-2008"] and "MISSING_EAN" not in flags["D-2007"]
    pairs = pl.read_parquet(out / "pairs.parquet")
    vetoed = pairs.filter(pl.col("hard_rule") == "different_names")
    assert {tuple(sorted(p)) for p in vetoed.select("record_id_l", "record_id_r").rows()} == {
        ("D-2007", "D-2008"),
        ("D-2007", "D-2009"),
    }
