"""Housing, owners' and landowners' associations (A/B, E/F, G/F) through ``datavask cleanse``.

A Danish customer file writes one association two ways: ``A/B Solhaven`` beside
``Andelsboligforeningen Solhaven``. Both are one customer, an organisation that owes a CVR number,
and the registry's long name agrees with the short one.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl

from tests.connectors.erst_server import make_document
from tests.flows.cli import cleansed

HEADER = "Nr.;Navn;Adresse;Postnr.;By;Land/område-kode;Telefon;CVR-nr.\n"


def _records(out: Path) -> dict[str, dict[str, object]]:
    frame = pl.read_parquet(out / "records.parquet")
    return {row["record_id"]: row for row in frame.iter_rows(named=True)}


def test_the_short_and_the_long_name_of_an_association_are_one_customer(tmp_path: Path) -> None:
    source = tmp_path / "debitorer.csv"
    source.write_text(
        HEADER
        + "1;Andelsboligforeningen Solhaven;Solhavevej 12;2650;Hvidovre;DK;36 49 12 00;\n"
        + "2;A/B Solhaven;Solhavevej 12;2650;Hvidovre;DK;+45 36491200;\n"
        + "3;E/F Vestergade 12;Vestergade 12;8000;Aarhus C;DK;86 12 34 56;\n"
        + "4;Ejerforeningen Vestergade 12;Vestergade 12;8000;Aarhus C;DK;86123456;\n"
        + "5;A. B. Hansen;Nørregade 3;8000;Aarhus C;DK;;\n",
        encoding="utf-8",
    )
    out = cleansed(source, tmp_path / "out")
    records = _records(out)
    # the two spellings are one name to the matcher
    pairs = pl.read_parquet(out / "pairs.parquet")
    levels = {
        (row["record_id_l"], row["record_id_r"]): row["explanation"]["name"]["level"]
        for row in pairs.iter_rows(named=True)
    }
    assert levels[("1", "2")] == levels[("3", "4")] == "exact"
    assert records["1"]["cluster_id"] == records["2"]["cluster_id"]
    assert records["3"]["cluster_id"] == records["4"]["cluster_id"]
    # an association is an organisation: without its CVR number it cannot be invoiced
    for rid in "1234":
        assert records[rid]["customer_type"] == "company", rid
        assert "MISSING_CVR" in records[rid]["flags"], rid
    # initials are no association
    assert records["5"]["customer_type"] == "person"
    assert records["5"]["cluster_id"] not in {records[r]["cluster_id"] for r in "1234"}
    # the file's country column (Business Central's "Land/område-kode") is read
    assert {records[r]["country"] for r in "12345"} == {"DK"}


def test_the_registrys_long_name_agrees_with_the_short_one(tmp_path: Path) -> None:
    snapshot = tmp_path / "registry.jsonl.gz"
    document = make_document(
        25313763,
        name="Andelsboligforeningen Solhaven",
        form_code=140,
        form_short="FORENING",
        street="Solhavevej",
        postal=2650,
        city="Hvidovre",
    )
    snapshot.write_bytes(gzip.compress(json.dumps(document).encode() + b"\n"))
    source = tmp_path / "debitorer.csv"
    source.write_text(
        HEADER + "1;A/B Solhaven;Solhavevej 12;2650;Hvidovre;DK;;25313763\n", encoding="utf-8"
    )
    out = cleansed(source, tmp_path / "out", "--registry", str(snapshot))
    record = _records(out)["1"]
    assert "NAME_MISMATCH" not in record["flags"]
    assert record["invoice_ready"] is True
