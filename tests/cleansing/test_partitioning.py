"""The Dask engine's cuts: row slices cover every row once, a customer's records meet in one
bucket whatever row partition they came from, and the pieces go back together in input order."""

from __future__ import annotations

import itertools

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from datavask.cleansing.changes import build_changes
from datavask.cleansing.partitioning import (
    POSITION,
    by_row_partition,
    changes_by_position,
    changes_in_input_order,
    cluster_buckets,
    cluster_ranges,
    in_input_order,
    key_sample,
    range_bounds,
    row_slices,
    with_positions,
)


@pytest.mark.parametrize(("height", "parts"), [(0, 3), (1, 4), (10, 3), (20_000, 4), (7, 7)])
def test_row_slices_cover_every_row_once(height: int, parts: int) -> None:
    slices = row_slices(height, parts)
    covered = [i for offset, length in slices for i in range(offset, offset + length)]
    assert covered == list(range(height))
    assert all(length > 0 for _, length in slices) or height == 0


def _records(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_id": [f"r{i}" for i in range(n)],
            # clusters of 1-3 records spread over the whole frame; some records have none
            "cluster_id": [None if i % 11 == 0 else f"C{(i * 7) % (n // 3):06d}" for i in range(n)],
        }
    )


@pytest.mark.parametrize("parts", [1, 2, 5])
def test_a_customer_lands_in_one_bucket_whatever_the_row_partition(parts: int) -> None:
    records = _records(300)
    buckets: list[list[pl.DataFrame]] = [[] for _ in range(4)]
    for offset, length in row_slices(records.height, parts):
        part = with_positions(records.slice(offset, length), offset)
        for b, piece in enumerate(cluster_buckets(part, 4)):
            buckets[b].append(piece)
    gathered = [pl.concat(pieces) for pieces in buckets]
    owner: dict[str, int] = {}
    for b, frame in enumerate(gathered):
        for cluster in frame["cluster_id"].fill_null(frame["record_id"]).to_list():
            assert owner.setdefault(cluster, b) == b
    assert sum(1 for frame in gathered if frame.height) > 1  # the hash spreads them
    assert_frame_equal(in_input_order(gathered), records)


def test_changes_come_back_in_input_order_even_with_repeated_ids() -> None:
    frame = pl.DataFrame(
        {
            "record_id": ["7", "8", "7", "9"],  # a repeated customer number
            "raw_cvr": ["DK 1234 5674", "25313763", "DK25313763", "1234 5674"],
            "cvr": ["12345674", "25313763", "25313763", "12345674"],
            "raw_email": ["A@X.DK", None, "b@y.dk ", "C@Z.DK"],
            "email": ["a@x.dk", None, "b@y.dk", "c@z.dk"],
        }
    )
    expected = build_changes(frame)
    pieces = [
        changes_by_position(
            with_positions(frame, 0).filter(pl.col(POSITION).is_in(rows)), mapped=None
        )
        for rows in ([3, 0], [2], [1])
    ]
    assert_frame_equal(changes_in_input_order(pieces), expected)


@pytest.mark.parametrize("parts", [1, 3, 7])
def test_cluster_ranges_hold_whole_customers_in_key_order_and_go_back_to_their_rows(
    parts: int,
) -> None:
    records = _records(1_000)
    slices = row_slices(records.height, parts)
    pieces = [with_positions(records.slice(offset, length), offset) for offset, length in slices]
    bounds = range_bounds([key_sample(p, 16) for p in pieces], parts)
    assert bounds.len() <= parts - 1
    buckets = [
        pl.concat([cluster_ranges(p, bounds)[b] for p in pieces]) for b in range(bounds.len() + 1)
    ]
    keys = [b["cluster_id"].fill_null(b["record_id"]) for b in buckets]
    for left, right in itertools.pairwise(keys):  # ranges follow one another
        assert left.max() < right.min()  # type: ignore[operator]
    distinct = [set(ks.to_list()) for ks in keys]
    assert sum(len(d) for d in distinct) == len(set().union(*distinct))  # a customer, one bucket
    assert sum(1 for b in buckets if b.height) == parts  # the sample spreads them evenly
    offsets = [offset for offset, _ in slices]
    for i, (offset, length) in enumerate(slices):
        back = in_input_order([by_row_partition(b, offsets)[i] for b in buckets])
        assert_frame_equal(back, records.slice(offset, length))


def test_range_bounds_of_few_keys_make_fewer_buckets() -> None:
    assert range_bounds([pl.Series(["C1"]), pl.Series(["C1"])], 4).to_list() == []
    assert range_bounds([pl.Series([], dtype=pl.String)], 4).to_list() == []
