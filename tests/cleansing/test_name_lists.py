"""names_where against the list-per-row construction it replaces, on random conditions with nulls."""

from __future__ import annotations

import random

import polars as pl
import pytest

from datavask.cleansing.name_lists import names_where


def _reference(frame: pl.DataFrame, names: list[str]) -> pl.Series:
    raised = [pl.when(pl.col(n).fill_null(False)).then(pl.lit(n)) for n in names]
    return frame.select(pl.concat_list(raised).list.drop_nulls()).to_series()


@pytest.mark.parametrize("n_names", [1, 7, 21, 63])
def test_same_lists_as_concat_list_with_nulls(n_names: int) -> None:
    rng = random.Random(n_names)
    names = [f"CODE_{i:02d}" for i in range(n_names)]
    frame = pl.DataFrame(
        {n: [rng.choice([True, False, False, None]) for _ in range(2_000)] for n in names},
        schema=dict.fromkeys(names, pl.Boolean),
    )
    got = names_where(frame, {n: pl.col(n) for n in names})
    assert got.to_list() == _reference(frame, names).to_list()
    assert got.dtype == pl.List(pl.String) and got.len() == frame.height


def test_literal_conditions_and_no_names() -> None:
    frame = pl.DataFrame({"x": [1, 2, 3]})
    assert names_where(frame, {"a": pl.lit(True), "b": pl.lit(None)}).to_list() == [["a"]] * 3
    assert names_where(frame, {}).to_list() == [[], [], []]
    with pytest.raises(ValueError, match="at most 63"):
        names_where(frame, {f"n{i}": pl.lit(True) for i in range(64)})
