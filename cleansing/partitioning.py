"""How the Dask engine cuts the record frame into partitions and puts it back together.

Pure polars, no I/O: the same functions run on the driver and on the workers. Two cuts:

- **rows**: contiguous slices in input order (:func:`row_slices`), for the stages that look at one
  record at a time (normalise, registry, the registry view);
- **whole customers**: every record of a cluster in one partition (:func:`cluster_buckets`), for
  the stages that look at a customer's records together (verdict, survivorship, changes).

A record carries its input position in ``_pos`` between the two, so the outputs come back in input
order whatever the partition count: :func:`changes_by_position` builds ``changes`` per bucket and
:func:`in_input_order` restores the order.

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


def in_input_order(pieces: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The records of all ``pieces`` in input order, without ``_pos``."""
    frames = [p for p in pieces if p.height] or list(pieces[:1])
    return pl.concat(frames, how="vertical").sort(POSITION).drop(POSITION)


def changes_by_position(records: pl.DataFrame, *, mapped: Collection[str] | None) -> pl.DataFrame:
    """:func:`~datavask.cleansing.changes.build_changes` for records that carry ``_pos``; the
    changes carry ``_pos`` too, so those of many buckets can be put in input order.

    ``record_id`` may repeat in an input, so the position, not the id, says where a change goes:
    the changes are built with the position standing in for the id and the id put back after.
    """
    from datavask.cleansing.changes import build_changes

    ids = records.select(POSITION, pl.col("record_id").cast(pl.String).alias("_id"))
    stand_in = records.with_columns(pl.col(POSITION).cast(pl.String).alias("record_id"))
    changes = build_changes(stand_in, mapped=mapped)
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
