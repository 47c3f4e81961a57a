"""A mapping file's roles through ``datavask cleanse``: a column it names under ``[compare]`` is
that column's one role, never also guessed as a customer field."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from tests.flows.cli import cleansed


def test_a_compare_column_is_not_also_guessed_as_a_field(tmp_path: Path) -> None:
    """A mapping's ``[compare]`` column keeps its role: ``by`` (a year of birth here, and the
    Danish word for town) is compared as evidence, never read as the customer's city."""
    source = tmp_path / "people.csv"
    source.write_text(
        "navn;by\nJens Hansen;1949\nJens Hansen;1949\nMette Holm;1952\n", encoding="utf-8"
    )
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\nname = "navn"\n\n[compare]\nbirth_year = "by"\n', "utf-8")
    out = tmp_path / "out"
    cleansed(source, out, "--mapping", str(mapping))
    records = pl.read_parquet(out / "records.parquet")
    assert records["city"].to_list() == [None, None, None]
    assert records["src_by"].to_list() == ["1949", "1949", "1952"]
    mapped = json.loads((out / "run.json").read_text(encoding="utf-8"))["input"]["mapping"]
    assert mapped == {"name": "navn"}


def test_the_column_the_crm_keys_rows_by_goes_back_as_read(tmp_path: Path) -> None:
    """An export keyed by CVR number (``record_id`` and ``cvr`` both on ``CVR``): its key went
    back into customers_update.csv cleaned, ``DK 2531 3763`` → ``25313763``, which names no row
    the CRM has. The key column goes back as read and changes.csv lists no change to it; the
    CVR number is still read, checked and cleaned in records.parquet."""
    source = tmp_path / "kunder.csv"
    source.write_text(
        "CVR;Navn;Adresse;Postnr;By\n"
        "DK 2531 3763;hansen byg aps;Vestergade 12;8000;Aarhus C\n"
        "12345674;Jensen Transport A/S;Nørregade 1;5000;Odense C\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[columns]\nrecord_id = "CVR"\ncvr = "CVR"\nname = "Navn"\naddress = "Adresse"\n'
        'postal_code = "Postnr"\ncity = "By"\n',
        "utf-8",
    )
    out = tmp_path / "out"
    cleansed(source, out, "--mapping", str(mapping), "--registry", "none")
    update = (out / "reimport" / "customers_update.csv").read_text(encoding="utf-8").splitlines()
    assert [line.split(";")[:2] for line in update] == [
        ["CVR", "Navn"],
        ["DK 2531 3763", "Hansen Byg ApS"],  # the name is still cleaned
        ["12345674", "Jensen Transport A/S"],
    ]
    changes = pl.read_csv(out / "changes.csv", separator=";", infer_schema=False)
    assert changes.filter(pl.col("field") == "cvr").height == 0
    assert changes.filter(pl.col("field") == "name").height == 1
    records = pl.read_parquet(out / "records.parquet")
    assert records["cvr"].to_list() == ["25313763", "12345674"]


def test_a_column_mapped_as_phone_and_mobile_is_one_change(tmp_path: Path) -> None:
    """``phone`` and ``mobile`` may share a column; changes.csv listed the one cell's change
    twice, as ``phone`` and as ``mobile``. It goes back once, as the phone cleans it."""
    source = tmp_path / "kunder.csv"
    source.write_text("Kundenr;Navn;Telefon\n1;Jens Hansen;20 30 40 50\n", encoding="utf-8")
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[columns]\nrecord_id = "Kundenr"\nname = "Navn"\nphone = "Telefon"\nmobile = "Telefon"\n',
        "utf-8",
    )
    out = tmp_path / "out"
    cleansed(source, out, "--mapping", str(mapping), "--registry", "none")
    changes = pl.read_csv(out / "changes.csv", separator=";", infer_schema=False)
    assert changes.select("field", "after").rows() == [("phone", "+4520304050")]
    update = (out / "reimport" / "customers_update.csv").read_text(encoding="utf-8")
    assert update.splitlines()[1] == "1;Jens Hansen;+4520304050"
