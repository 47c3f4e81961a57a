"""Stage contracts: every field a user can map is read by some stage, and a stage handed a frame
without its inputs fails loudly instead of reading nulls."""

from __future__ import annotations

import polars as pl
import pytest

from datavask.cleansing.normalise import normalise
from datavask.cleansing.schema import (
    CANONICAL_FIELDS,
    NORMALISE_STAGES,
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
    missing = [c for s in NORMALISE_STAGES for c in STAGES[s].writes if c not in out.columns]
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


def test_one_reader_for_every_stage() -> None:
    """The per-module copies (_column_or_null, _text) are gone: stages read through stage_text."""
    import inspect

    from datavask.cleansing import (
        blacklist,
        changes,
        emails,
        identifiers,
        phones,
        survivorship,
        verdict,
    )

    for module in (phones, identifiers, emails, verdict, survivorship, changes, blacklist):
        assert not hasattr(module, "_column_or_null"), module.__name__
        reader = getattr(module, "_text", None)
        assert reader is None or "stage_text(" in inspect.getsource(reader), module.__name__


def test_stage_text_optional_required_and_undeclared() -> None:
    from datavask.cleansing.schema import stage_text

    frame = pl.DataFrame({"record_id": ["1"], "cvr": [" 12345674 "]})
    # an optional column that is absent reads as null, at the frame's height
    assert frame.select(stage_text(frame, "verdict", "cluster_id")).to_series().to_list() == [None]
    # a present one is read as text, trimmed on request
    out = frame.select(stage_text(frame, "blacklist", "cvr", blank_as_null=True)).to_series()
    assert out.to_list() == ["12345674"]
    with pytest.raises(StageInputError, match="stage 'verdict' needs column customer_type"):
        stage_text(frame, "verdict", "customer_type")
    with pytest.raises(StageInputError, match="undeclared column record_id"):
        stage_text(frame, "phones", "record_id")


def test_the_verdict_fails_loudly_without_the_customer_type() -> None:
    """Without customer_type no company could ever be MISSING_CVR: a wiring fault, not nulls."""
    from datavask.cleansing.verdict import apply_verdict

    frame = pl.DataFrame(
        {"record_id": ["1"], "cvr": [None], "ean": [None], "phone_e164": [None], "email": [None]},
        schema=dict.fromkeys(["record_id", "cvr", "ean", "phone_e164", "email"], pl.String),
    )
    with pytest.raises(StageInputError, match="customer_type"):
        apply_verdict(frame)
