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
