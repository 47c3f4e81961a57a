"""A served ``engine = "dask"`` job runs on the cluster through prefect-dask's DaskTaskRunner.

A real Prefect server (tests/flows/prefect_server.py), ``datavask serve`` as a subprocess serving
one job whose ``dask_address`` is a real 2-process LocalCluster started here; ``datavask run``
triggers it, as a user would. The run's partitions land on that cluster (its workers count the
tasks they ran), run.json says the DaskTaskRunner connected it, and the outputs equal a local
``datavask cleanse`` of the same file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.flows.dask_cluster import assert_same_outputs, local_cluster, tasks_executed
from tests.flows.served import (
    SAMPLE,
    Served,
    job_toml,
    run_datavask,
    serve_env,
    write_config,
)

pytestmark = [pytest.mark.prefect, pytest.mark.slow, pytest.mark.timeout(1200)]


def test_a_triggered_dask_job_runs_on_the_cluster_and_writes_the_local_outputs(
    prefect_server: str, tmp_path: Path
) -> None:
    customers = str(SAMPLE / "customers.csv")
    env = serve_env(prefect_server, tmp_path / "home")
    local = tmp_path / "local"
    done = run_datavask(["cleanse", customers, "--out", str(local)],
                        dict(env, DATAVASK_ORCHESTRATION="none"))  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    with local_cluster(2) as (cluster, client):
        config = write_config(
            tmp_path,
            job_toml("cleanse", name="on-demand", cron="0 5 1 1 *", input=customers,
                     out="runs/on-demand", engine="dask", dask_address=cluster.scheduler_address),
        )  # fmt: skip
        served = Served(prefect_server, tmp_path, config, env)
        before = tasks_executed(client)
        served.start()
        try:
            ran = run_datavask(["run", "on-demand"], env)
        finally:
            served.stop()
        assert ran.returncode == 0, (ran.stdout + ran.stderr)[-3000:]
        assert tasks_executed(client) - before >= 4 * 3  # read, normalise, verdict … per partition
    out = Path(ran.stderr.split("output:", 1)[1].split()[0])
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["engine"]["via"] == "prefect-dask DaskTaskRunner"
    assert run["engine"]["read"]["where"] == "workers"
    assert_same_outputs(local, out)
    assert run["counts"] == json.loads((local / "run.json").read_text())["counts"]
