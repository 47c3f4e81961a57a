"""An ERP's second name line (Business Central's and Navision's "Navn 2" / "Name 2") through the
command line: read after the first, as an invoice prints the two, and written back without
losing or repeating a word.

Before, "Navn 2" was not mapped: a name cut over two lines (``Dansk Selskab for`` /
``Teoretisk Statistik``) was keyed by its first half and kept apart from its duplicate typed on
one line, and a legal form typed on the second line did not make the customer a company.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import openpyxl
import polars as pl

from tests.connectors.erst_server import make_document
from tests.flows.cli import cleansed

HEADER = "Nr.;Navn;Navn 2;Adresse;Postnr.;By;Telefon;CVR-nr."
ROWS = [
    "1;Dansk Selskab for;Teoretisk Statistik;Universitetsparken 5;2100;København Ø;35 32 00 00;",
    "2;Dansk Selskab for Teoretisk Statistik;;Universitetsparken 5;2100;København Ø;35320000;",
    "3;Hansen Byg;ApS;Industrivej 4;8000;Aarhus C;86 12 12 12;",
    "4;Hansen Byg ApS;Att. Bogholderiet;Industrivej 4;8000;Aarhus C;86121212;",
    "5;Jens Hansen;c/o DEAS A/S;Vestergade 12;8000;Aarhus C;20 12 34 56;",
    "6;Karen Holm;;Skovvej 2;9000;Aalborg;98 12 34 56;",
]


def _run(tmp_path: Path, rows: list[str], *options: str) -> tuple[dict[str, dict], Path]:
    source = tmp_path / "debitorer.csv"
    source.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    out = cleansed(source, tmp_path / "out", *options, home=tmp_path / "home")
    records = pl.read_parquet(out / "records.parquet")
    return {r["record_id"]: r for r in records.iter_rows(named=True)}, out


def _update(out: Path) -> dict[str, dict]:
    frame = pl.read_csv(
        out / "reimport" / "customers_update.csv", separator=";", infer_schema=False
    )
    return {r["Nr."]: r for r in frame.iter_rows(named=True)}


def test_a_second_name_line_is_read_after_the_first(tmp_path: Path) -> None:
    by_id, out = _run(tmp_path, ROWS)
    # a name cut over two lines is the name typed on one
    assert by_id["1"]["name"] == "Dansk Selskab for Teoretisk Statistik"
    assert by_id["1"]["cluster_id"] == by_id["2"]["cluster_id"]
    # a legal form on the second line makes a company, which owes a CVR number
    assert (by_id["3"]["legal_form"], by_id["3"]["customer_type"]) == ("ApS", "company")
    assert "MISSING_CVR" in by_id["3"]["flags"]
    # an attention line is whom to write to: no part of the name's key, nor its legal form
    assert by_id["3"]["cluster_id"] == by_id["4"]["cluster_id"]
    assert (by_id["5"]["legal_form"], by_id["5"]["customer_type"]) == (None, "person")
    assert "MISSING_CVR" not in by_id["5"]["flags"]
    # the customer's own names go back as typed, both lines: the cleaned name is not cut in two
    update = _update(out)
    for rid, row in zip("123456", ROWS, strict=True):
        assert [update[rid]["Navn"], update[rid]["Navn 2"]] == [
            cell or None for cell in row.split(";")[1:3]
        ], rid
    changed = pl.read_csv(out / "changes.csv", separator=";", infer_schema=False)
    assert not changed.filter(pl.col("field").is_in(["name", "name_2"])).height
    # the worklist shows the name as the CRM holds it, both lines
    book = openpyxl.load_workbook(out / "worklist.xlsx", read_only=True)
    rows = list(book["Dubletter"].iter_rows(values_only=True))
    book.close()  # a read-only workbook holds its file open until closed
    lines = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    in_crm = {line["overlevende kundenr."]: line["navn i CRM"] for line in lines}
    names = {"1": "Dansk Selskab for Teoretisk Statistik", "2": "Dansk Selskab for Teoretisk Statistik",
             "3": "Hansen Byg ApS", "4": "Hansen Byg ApS Att. Bogholderiet"}  # fmt: skip
    assert in_crm == {survivor: names[survivor] for survivor in in_crm}
    assert set(in_crm) & {"1", "3"}  # a survivor whose name is on two lines


def test_a_registry_name_goes_on_the_first_line_and_the_second_keeps_what_it_adds(
    tmp_path: Path,
) -> None:
    snapshot = tmp_path / "registry.jsonl.gz"
    documents = [
        make_document(25313763, name="Hansen Byg & Tømrer ApS", former_names=["Hansen Byg ApS"]),
        make_document(
            10150817,
            name="Dansk Selskab for Teoretisk Statistik og Sandsynlighed",
            form_code=140,
            form_short="FORENING",
            street="Universitetsparken",
            house=5,
            postal=2100,
            city="København Ø",
        ),
    ]
    snapshot.write_bytes(gzip.compress(b"".join(json.dumps(d).encode() + b"\n" for d in documents)))
    rows = [
        "1;Hansen Byg ApS;Att. Bogholderiet;Vestergade 12;8000;Aarhus C;86121212;25313763",
        "2;Dansk Selskab for;Teoretisk Statistik;Universitetsparken 5;2100;København Ø;;10150817",
    ]
    _, out = _run(tmp_path, rows, "--registry", str(snapshot))
    update = _update(out)
    # renamed: the new name on the first line, the attention line kept on the second
    assert (update["1"]["Navn"], update["1"]["Navn 2"]) == (
        "Hansen Byg & Tømrer ApS",
        "Att. Bogholderiet",
    )
    # every word of the second line is in the registry's name: it is emptied, not repeated
    assert (update["2"]["Navn"], update["2"]["Navn 2"]) == (
        "Dansk Selskab for Teoretisk Statistik og Sandsynlighed",
        None,
    )
    changed = pl.read_csv(out / "changes.csv", separator=";", infer_schema=False)
    assert changed.filter(pl.col("record_id") == "2").select("field", "after").rows() == [
        ("name", "Dansk Selskab for Teoretisk Statistik og Sandsynlighed"),
        ("name_2", ""),
    ]

    # the re-import cleansed again changes nothing
    again = cleansed(
        out / "reimport" / "customers_update.csv",
        tmp_path / "again",
        "--registry",
        str(snapshot),
        home=tmp_path / "home",
    )
    assert pl.read_csv(again / "changes.csv", separator=";").height == 0
