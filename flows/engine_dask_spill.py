"""Row partitions kept in the run's work directory rather than in the Dask workers' memory.

A row partition (the read's and normalise's parts, the registry's outputs and views, the
matcher's prepared records, blocking's pairs per partition) is read by many tasks over a whole
step, and held by Dask as a result it is most of a worker's memory before the first pair is
compared. When every worker sees the work directory, the task that makes a partition writes it to
``rows/<stage>-<i>.parquet`` (under a temporary name and renamed: a task Dask runs again after a
lost worker writes the same file again, whole) and Dask holds only a :class:`SpilledFrame`, a
path. Every task the engine submits goes through :func:`loading`, which reads the handles among
its arguments back into frames, so the stage functions see frames as before; a function marked
with :func:`reads_handles` gets the handles themselves and reads only what it needs
(:func:`scanned`). The files go with the work directory, at the end of the run finished or
failed. Workers that do not see the work directory keep the partitions in memory, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

# Small row groups with statistics: a task that wants a few records of a partition
# (:func:`scanned`) reads only the row groups that hold them.
ROW_GROUP_ROWS = 16_384

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class SpilledFrame:
    """A row partition written to ``path`` (see the module docstring)."""

    path: str


def reads_handles(fn: F) -> F:
    """Mark ``fn`` as taking :class:`SpilledFrame` handles as they are (:func:`loading` does not
    read them for it)."""
    fn.reads_handles = True  # type: ignore[attr-defined]
    return fn


def loaded(value: Any) -> Any:
    """``value`` with every handle in it (itself, or inside lists, tuples and dicts) read back
    into a frame."""
    if isinstance(value, SpilledFrame):
        return pl.read_parquet(value.path, glob=False)
    if type(value) is dict:  # exactly: a named tuple or a dataclass is left as it is
        return {k: loaded(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(loaded(v) for v in value)
    return value


def loading(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` with the handles among ``args`` read back (the engine's every task)."""
    if getattr(fn, "reads_handles", False):
        return fn(*args)
    return fn(*(loaded(a) for a in args))


def spilling(fn: Callable[..., Any], target: str, *args: Any) -> Any:
    """``fn(*args)`` with every frame in it (the result itself, or inside lists, tuples and dicts:
    a verdict bucket, a bucket's pieces per row partition) written next to ``target`` and
    replaced by its handle; the task's result is that."""
    stem = target.removesuffix(".parquet")
    return _spilled(loading(fn, *args), stem)


def _spilled(value: Any, stem: str) -> Any:
    from datavask.connectors.output import replace_atomically

    if isinstance(value, pl.DataFrame):
        frame = value
        target = f"{stem}.parquet"
        replace_atomically(
            Path(target),
            lambda path: frame.write_parquet(
                path, compression="lz4", statistics=True, row_group_size=ROW_GROUP_ROWS
            ),
        )
        return SpilledFrame(target)
    if type(value) is dict:
        return {k: _spilled(v, f"{stem}.{k}") for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_spilled(v, f"{stem}.{i}") for i, v in enumerate(value))
    return value


def scanned(part: pl.DataFrame | SpilledFrame) -> pl.LazyFrame:
    """The partition as a lazy frame: a scan of its file, or the frame held in memory."""
    if isinstance(part, SpilledFrame):
        return pl.scan_parquet(part.path, glob=False)
    return part.lazy()
