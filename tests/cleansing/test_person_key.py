"""The person identifier takes part in matching as a keyed hash only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import polars as pl
import pytest

from datavask.cleansing.normalise import normalise
from datavask.cleansing.person_key import add_person_key
from datavask.cleansing.schema import CANONICAL_FIELDS
from datavask.connectors.match_key import match_key


def ids(values: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame({"raw_person_id": values}, schema={"raw_person_id": pl.String})


def test_spellings_of_one_identifier_share_a_key_others_do_not() -> None:
    out = add_person_key(
        ids(["010190-1234", "0101901234", " 0101 90 1234", "020290-2345", "", None]), b"k"
    )
    keys = out["_person_key"].to_list()
    assert keys[0] == keys[1] == keys[2]
    assert keys[3] != keys[0]
    assert keys[4] is None and keys[5] is None
    assert "0101901234" not in keys[0]


def test_the_key_changes_the_hash() -> None:
    a = add_person_key(ids(["0101901234"]), b"one")["_person_key"][0]
    b = add_person_key(ids(["0101901234"]), b"two")["_person_key"][0]
    assert a != b


def test_normalise_hashes_before_masking() -> None:
    columns = {f"raw_{f}": [None, None] for f in CANONICAL_FIELDS}
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String)).with_columns(
        raw_person_id=pl.Series(["010190-1234", "020290-2345"]),
        raw_name=pl.Series(["Jens Hansen", "Jens Hansen"]),
        record_id=pl.Series(["1", "2"]),
        source_row=pl.Series([1, 2], dtype=pl.Int64),
    )
    out = normalise(frame, match_key=b"k")
    assert out["_person_key"].n_unique() == 2  # masking first would make both XXXXXX-XXXX
    assert out["raw_person_id"].to_list() == ["XXXXXX-XXXX", "XXXXXX-XXXX"]


def test_match_key_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATAVASK_HOME", str(tmp_path))
    monkeypatch.setenv("DATAVASK_MATCH_KEY", "a secret")
    assert match_key() == b"a secret"
    assert not (tmp_path / "match.key").exists()


def test_match_key_generated_once_private(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATAVASK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATAVASK_MATCH_KEY", raising=False)
    first = match_key()
    assert len(first) == 64
    assert match_key() == first
    mode = stat.S_IMODE(os.stat(tmp_path / "home" / "match.key").st_mode)
    assert mode == 0o600
    assert [p.name for p in (tmp_path / "home").iterdir()] == ["match.key"]
