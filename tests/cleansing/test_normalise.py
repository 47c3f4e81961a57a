"""The composed normaliser: rows kept, and an export keyed by CPR numbers keeps unique ids."""

from __future__ import annotations

import polars as pl

from datavask.cleansing.normalise import normalise
from datavask.cleansing.schema import CANONICAL_FIELDS


def canonical(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    columns = {f"raw_{f}": [r.get(f) for r in rows] for f in CANONICAL_FIELDS}
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))
    return frame.with_columns(
        record_id=pl.Series([r["record_id"] for r in rows], dtype=pl.String),
        source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        src_Kundenr=pl.Series([r["record_id"] for r in rows], dtype=pl.String),
    )


def test_cpr_keyed_export_keeps_unique_masked_ids() -> None:
    rows = [
        {"record_id": "010190-1234", "name": "Jens Hansen", "phone": "20304050"},
        {"record_id": "020290-2345", "name": "Ane Hansen", "phone": "20304051"},
        {"record_id": "K-17", "name": "Hansen Byg ApS", "cvr": "21265837"},
    ]
    out = normalise(canonical(rows))
    assert out.height == 3
    assert out["record_id"].n_unique() == 3
    assert out["record_id"].to_list() == ["XXXXXX-XXXX#1", "XXXXXX-XXXX#2", "K-17"]
    assert not out["src_Kundenr"].str.contains(r"\d{6}-\d{4}").any()
    assert out["flag_CPR_IN_DATA"].to_list() == [True, True, False]
