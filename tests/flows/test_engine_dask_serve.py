"""A served ``engine = "dask"`` job runs on the cluster through prefect-dask's DaskTaskRunner.

A real Prefect server (tests/flows/prefect_server.py), ``datavask serve`` as a subprocess serving
one job whose ``dask_address`` is a real 2-process LocalCluster started here; ``datavask run``
triggers it, as a user would. The run's partitions land on that cluster (its workers count the
tasks they ran), run.json says the DaskTaskRunner connected it, and the outputs equal a local
``datavask cleanse`` of the same file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.flows.prefect_server import prefect_server  # noqa: F401 - fixture
from tests.flows.test_serve import RUN_WAIT_S, SAMPLE, Served, _datavask, _env

pytestmark = [pytest.mark.prefect, pytest.mark.slow, pytest.mark.timeout(1200)]


@pytest.fixture
def cluster() -> Iterator[tuple[Any, Any]]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None,
        ) as local,
        Client(local) as client,
    ):  # fmt: skip
        yield local, client


def _executed(client: Any) -> int:
    done = client.run(lambda dask_worker: dask_worker.state.executed_count)
    return int(sum(done.values()))


def test_a_triggered_dask_job_runs_on_the_cluster_and_writes_the_local_outputs(
    prefect_server: str,  # noqa: F811
    cluster: tuple[Any, Any],
    tmp_path: Path,
) -> None:
    local_cluster, client = cluster
    config = tmp_path / "datavask.toml"
    config.write_text(
        f"""
[[cleanse]]
name = "on-demand"
cron = "0 5 1 1 *"
input = "{SAMPLE / "customers.csv"}"
out = "runs/on-demand"
engine = "dask"
dask_address = "{local_cluster.scheduler_address}"
""",
        encoding="utf-8",
    )
    env = _env(prefect_server, tmp_path / "home")
    local_env = dict(env, DATAVASK_ORCHESTRATION="none")
    local = tmp_path / "local"
    done = subprocess.run(
        [sys.executable, "-m", "datavask", "cleanse", str(SAMPLE / "customers.csv"),
         "--out", str(local)],
        capture_output=True, text=True, env=local_env, timeout=RUN_WAIT_S, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    served = Served(prefect_server, tmp_path, config, env)
    before = _executed(client)
    served.start()
    try:
        ran = _datavask(["run", "on-demand"], env)
    finally:
        served.stop()
    assert ran.returncode == 0, (ran.stdout + ran.stderr)[-3000:]
    out = Path(ran.stderr.split("output:", 1)[1].split()[0])
    assert _executed(client) - before >= 4 * 3  # read, normalise, verdict … per partition
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["engine"]["via"] == "prefect-dask DaskTaskRunner"
    assert run["engine"]["read"]["where"] == "workers"
    for name in ("records.parquet", "golden.parquet", "pairs.parquet"):
        assert_frame_equal(pl.read_parquet(local / name), pl.read_parquet(out / name))
    for name in ("changes.csv", "reimport/customers_update.csv", "reimport/merge_plan.csv"):
        assert (local / name).read_bytes() == (out / name).read_bytes(), name
    assert run["counts"] == json.loads((local / "run.json").read_text())["counts"]
