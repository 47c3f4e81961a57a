"""Danish names the matcher and the verdict used to get wrong (issue 10)."""

from __future__ import annotations

import polars as pl
import pytest

from datavask.cleansing.normalise import normalise
from datavask.cleansing.schema import CANONICAL_FIELDS


def normalised(names: list[str]) -> pl.DataFrame:
    columns = {f"raw_{f}": [None] * len(names) for f in CANONICAL_FIELDS if f != "record_id"}
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String)).with_columns(
        raw_name=pl.Series(names),
        record_id=pl.Series([str(i) for i in range(len(names))]),
        source_row=pl.int_range(1, len(names) + 1, dtype=pl.Int64),
    )
    return normalise(frame)


@pytest.mark.parametrize(
    ("written", "name", "form"),
    [
        ("Hansen Anpartsselokab", "Hansen ApS", "ApS"),
        ("Jensen Aktieselsab", "Jensen A/S", "A/S"),
        ("Berg BygApS", "Berg Byg ApS", "ApS"),
        ("Hansen Partnerskab", "Hansen Partnerskab", None),  # a word, not a misspelt P/S
    ],
)
def test_misspelt_and_glued_legal_forms(written: str, name: str, form: str | None) -> None:
    out = normalised([written])
    assert out["name"].to_list() == [name]
    assert out["legal_form"].to_list() == [form]


def test_firms_without_a_legal_form_are_companies() -> None:
    out = normalised(
        ["Nielsen & Lauridsen", "Iversen Smede", "Caroline Winthers Optik", "Jens & Anne Hansen"]
    )
    assert out["customer_type"].to_list() == ["company", "company", "company", "person"]
