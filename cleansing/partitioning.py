"""How the Dask engine cuts the record frame into partitions and puts it back together.

Pure polars, no I/O: the same functions run on the driver and on the workers. Two cuts:

- **rows**: contiguous slices in input order (:func:`row_slices`), for the stages that look at one
  record at a time (normalise, registry, the registry view);
- **whole customers**: every record of a cluster in one partition, for the stages that look at a
  customer's records together (verdict, survivorship, changes): by a hash of ``cluster_id``
  (:func:`cluster_buckets`), or by ranges of it (:func:`cluster_ranges` with bounds from
  :func:`range_bounds`), so that the buckets' golden rows, each sorted, follow one another in
  ``cluster_id`` order and can be written one after the other.

A record carries its input position in ``_pos`` between the two, so the outputs come back in input
order whatever the partition count: :func:`changes_by_position` builds ``changes`` per bucket,
:func:`by_row_partition` sends each bucket's records back to the row partitions they came from, and
:func:`in_input_order` restores the order within one.

Example: 5 rows in 2 row partitions are slices ``(0, 3)`` and ``(3, 2)``; records 0 and 4 of cluster
``C000001`` land in the same bucket, whichever row partition they came from.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import polars as pl

POSITION = "_pos"
_BUCKET = "_bucket"


def row_slices(height: int, parts: int) -> list[tuple[int, int]]:
    """``(offset, length)`` of ``parts`` contiguous slices covering ``height`` rows, none empty.

    >>> row_slices(5, 2)
    [(0, 3), (3, 2)]
    >>> row_slices(1, 4)
    [(0, 1)]
    """
    parts = max(1, min(parts, height))
    size, extra = divmod(height, parts)
    slices, offset = [], 0
    for i in range(parts):
        length = size + (1 if i < extra else 0)
        slices.append((offset, length))
        offset += length
    return slices


def with_positions(part: pl.DataFrame, offset: int) -> pl.DataFrame:
    """``part`` with its rows' input positions in ``_pos`` (``offset`` is the slice's first)."""
    return part.with_columns(
        pl.int_range(offset, offset + part.height, dtype=pl.Int64).alias(POSITION)
    )


def cluster_buckets(part: pl.DataFrame, buckets: int) -> list[pl.DataFrame]:
    """``part`` split into ``buckets`` frames such that a cluster's records share a bucket.

    The bucket is a hash of ``cluster_id`` (``record_id`` for a record without one), so every row
    partition sends a cluster's records to the same bucket. Row order within a bucket is kept.
    """
    cluster = pl.col("cluster_id").cast(pl.String).fill_null(pl.col("record_id").cast(pl.String))
    keyed = part.with_columns((cluster.hash(seed=0) % buckets).alias(_BUCKET))
    return [keyed.filter(pl.col(_BUCKET) == b).drop(_BUCKET) for b in range(buckets)]


def _cluster_key() -> pl.Expr:
    return pl.col("cluster_id").cast(pl.String).fill_null(pl.col("record_id").cast(pl.String))


def key_sample(part: pl.DataFrame, size: int) -> pl.Series:
    """Up to ``size`` evenly spaced values of the sorted distinct cluster keys of ``part``."""
    keys = part.select(_cluster_key().unique().sort()).to_series()
    if keys.len() <= size:
        return keys
    step = keys.len() / size
    return keys.gather([int(i * step) for i in range(size)])


def range_bounds(samples: Sequence[pl.Series], buckets: int) -> pl.Series:
    """At most ``buckets - 1`` sorted cluster keys that cut the sampled keys into even ranges.

    >>> range_bounds([pl.Series(["C3", "C1"]), pl.Series(["C2", "C4"])], 2).to_list()
    ['C3']
    """
    keys = pl.concat([s.cast(pl.String) for s in samples]).unique().sort()
    if buckets <= 1 or keys.is_empty():
        return pl.Series("bound", [], dtype=pl.String)
    cuts = sorted({int(keys.len() * b / buckets) for b in range(1, buckets)} - {0})
    return keys.gather(cuts).unique().sort().alias("bound")


def cluster_ranges(part: pl.DataFrame, bounds: pl.Series) -> list[pl.DataFrame]:
    """``part`` split into ``len(bounds) + 1`` frames by ranges of cluster key: bucket ``b`` holds
    the keys from ``bounds[b - 1]`` (included) to ``bounds[b]`` (excluded), so a cluster's records
    share a bucket and every key of bucket ``b`` sorts before every key of bucket ``b + 1``."""
    keys = part.select(_cluster_key()).to_series()
    bucket = bounds.search_sorted(keys, side="right")
    keyed = part.with_columns(bucket.alias(_BUCKET))
    return [keyed.filter(pl.col(_BUCKET) == b).drop(_BUCKET) for b in range(bounds.len() + 1)]


def by_row_partition(frame: pl.DataFrame, offsets: Sequence[int]) -> list[pl.DataFrame]:
    """``frame`` (rows carrying ``_pos``) split by the row partitions starting at ``offsets``."""
    starts = pl.Series(list(offsets), dtype=pl.Int64)
    part = starts.search_sorted(frame.get_column(POSITION), side="right") - 1
    keyed = frame.with_columns(part.alias(_BUCKET))
    return [keyed.filter(pl.col(_BUCKET) == i).drop(_BUCKET) for i in range(len(offsets))]


def in_input_order(pieces: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The records of all ``pieces`` in input order, without ``_pos``."""
    frames = [p for p in pieces if p.height] or list(pieces[:1])
    return pl.concat(frames, how="vertical").sort(POSITION).drop(POSITION)


def changes_by_position(
    records: pl.DataFrame,
    *,
    mapped: Collection[str] | None,
    shaped: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """:func:`~datavask.cleansing.changes.build_changes` for records that carry ``_pos``; the
    changes carry ``_pos`` too, so those of many buckets can be put in input order. ``shaped`` is
    :func:`~datavask.cleansing.changes.input_shaped` of ``records`` when already made.

    ``record_id`` may repeat in an input, so the position, not the id, says where a change goes:
    the changes are built with the position standing in for the id and the id put back after.
    """
    from datavask.cleansing.changes import build_changes

    ids = records.select(POSITION, pl.col("record_id").cast(pl.String).alias("_id"))
    stand_in_id = records.get_column(POSITION).cast(pl.String).alias("record_id")
    stand_in = records.with_columns(stand_in_id)
    if shaped is not None:
        shaped = shaped.with_columns(stand_in_id)
    changes = build_changes(stand_in, mapped=mapped, shaped=shaped)
    columns = changes.columns
    return (
        changes.with_columns(pl.col("record_id").cast(pl.Int64).alias(POSITION))
        .join(ids, on=POSITION, how="left", maintain_order="left")
        .with_columns(pl.col("_id").alias("record_id"))
        .select(*columns, POSITION)
    )


def changes_in_input_order(pieces: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The changes of all buckets in input order, each record's fields in their usual order."""
    frames = [p for p in pieces if p.height] or list(pieces[:1])
    return pl.concat(frames, how="vertical").sort(POSITION, maintain_order=True).drop(POSITION)


def golden_in_order(pieces: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The golden rows of all buckets, ordered by ``cluster_id`` as one run orders them."""
    frames = [p for p in pieces if p.height] or list(pieces[:1])
    return pl.concat(frames, how="vertical").sort("cluster_id")
