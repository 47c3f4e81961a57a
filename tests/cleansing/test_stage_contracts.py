"""Stage contracts: every field a user can map is read by some stage, and a stage handed a frame
without its inputs fails loudly instead of reading nulls."""

from __future__ import annotations

import polars as pl
import pytest

from datavask.cleansing.normalise import normalise
from datavask.cleansing.schema import (
    CANONICAL_FIELDS,
    STAGES,
    StageInputError,
    raw,
    require_columns,
)
from datavask.connectors.mapping import load_mapping_file


def test_every_mappable_field_is_consumed_by_a_stage() -> None:
    read = {column for stage in STAGES.values() for column in (*stage.reads, *stage.optional)}
    unread = [f for f in CANONICAL_FIELDS if f != "record_id" and raw(f) not in read]
    assert unread == []


def test_every_stage_output_is_produced_by_normalise() -> None:
    columns = {raw(f): ["x"] for f in CANONICAL_FIELDS if f != "record_id"}
    frame = pl.DataFrame(columns).with_columns(
        record_id=pl.lit("1"), source_row=pl.lit(1, dtype=pl.Int64)
    )
    out = normalise(frame)
    missing = [c for stage in STAGES.values() for c in stage.writes if c not in out.columns]
    assert missing == []


def test_missing_input_column_is_named() -> None:
    with pytest.raises(StageInputError, match="raw_person_id"):
        require_columns(pl.DataFrame({"raw_name": ["x"]}), "person_key")
    with pytest.raises(StageInputError, match="raw_date_of_birth"):
        normalise(pl.DataFrame({"record_id": ["1"], "raw_name": ["x"]}))


def test_person_id_can_be_mapped(tmp_path) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\nperson_id = "CPR-nr"\nname = "Navn"\n')
    assert load_mapping_file(mapping)["person_id"] == "CPR-nr"
