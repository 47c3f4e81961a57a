"""A real Dask cluster for engine tests, and the comparison of a Dask run with a local one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
from polars.testing import assert_frame_equal

# The run's files that must be identical whichever engine wrote them.
FRAMES = ("records.parquet", "golden.parquet", "pairs.parquet")
BYTES = ("changes.csv", "reimport/customers_update.csv", "reimport/merge_plan.csv")


@contextmanager
def local_cluster(workers: int = 2) -> Iterator[tuple[Any, Any]]:
    """A LocalCluster of ``workers`` single-threaded processes on 127.0.0.1, and its client."""
    from distributed import Client, LocalCluster

    # The dashboard on a free port: None means 8787, and a cluster of another program holding
    # it turns distributed's "port in use" warning into an error under -W error.
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        yield cluster, client


def tasks_executed(client: Any) -> int:
    """How many tasks the cluster's workers have run so far."""
    done = client.run(lambda dask_worker: dask_worker.state.executed_count)
    return int(sum(done.values()))


def assert_same_outputs(a: Path, b: Path) -> None:
    """The runs in ``a`` and ``b`` wrote the same records, golden records, pairs and changes."""
    for name in FRAMES:
        assert_frame_equal(pl.read_parquet(a / name), pl.read_parquet(b / name))
    for name in BYTES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
