"""A Dask worker killed in the middle of a run: Dask recomputes what it held, the output is the same.

A real 2-process local cluster; while the matcher scores (or a row partition's normalise) runs on one
worker, that worker's process is killed with SIGKILL (what the kernel's OOM killer does to it).
Its nanny starts a new one, the scheduler reruns the task and recomputes the partitions the dead
worker held from their task specs (the parts it read from the file included), and the run's files
equal those of ``--engine local``.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bench.generate import generate, write_dataset
from datavask.flows.cleanse import CleanseOptions, run_pipeline
from tests.flows.dask_cluster import assert_same_outputs, local_cluster, tasks_executed
from tests.flows.served import SAMPLE, job_toml, write_config

ROWS = 4_000
SEED = 41


def _kill_the_worker_running(client: Any, prefix: str, killed: list[str]) -> None:
    """End the process of the worker running a task whose key starts with ``prefix``, as soon
    as one runs it."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for worker, keys in client.processing().items():
            if any(str(key).startswith(prefix) for key in keys):
                pid = client.run(os.getpid, workers=[worker])[worker]
                os.kill(pid, signal.SIGKILL)
                killed.append(worker)
                return
        time.sleep(0.01)


@pytest.mark.slow  # about 2 min each on a loaded 2-core machine: a local and a Dask run
@pytest.mark.parametrize(
    ("step", "prefix"),
    [
        # the second scoring pass: the dead worker takes compared chunks and scores with it
        ("match", "datavask-mscored2-"),
        ("normalise", "datavask-normalise-"),  # a row partition: the parts it read go with it
    ],
)
def test_a_worker_killed_mid_run_changes_nothing(step: str, prefix: str, tmp_path: Path) -> None:
    data = write_dataset(generate(ROWS, SEED), tmp_path / "data")
    options = {"input": str(data["customers"]), "registry": str(data["registry"])}
    run_pipeline(CleanseOptions(out=str(tmp_path / "local"), **options), orchestrated=False)

    killed: list[str] = []
    with local_cluster(2) as (cluster, client):

        def reporter(name: str, event: str, seconds: float | None) -> None:
            if name == step and event == "start":
                killer = threading.Thread(
                    target=_kill_the_worker_running, args=(client, prefix, killed)
                )
                killer.start()

        dask = CleanseOptions(
            out=str(tmp_path / "dask"), engine="dask", dask_address=cluster.scheduler_address,
            **options,
        )  # fmt: skip
        run = run_pipeline(dask, orchestrated=False, reporter=reporter)
        assert killed, f"no {prefix}* task ever ran on a worker"
        assert killed[0] not in client.scheduler_info(n_workers=-1)["workers"]
    assert run["engine"]["read"]["where"] == "workers"
    assert_same_outputs(tmp_path / "local", tmp_path / "dask")


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:1", "not-a-scheduler"])
def test_an_unreachable_scheduler_is_an_input_error(
    address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datavask.connectors.errors import InputError
    from datavask.flows.engine_dask import dask_engine

    monkeypatch.setenv("DATAVASK_DASK_CONNECT_TIMEOUT", "2")
    started = time.monotonic()
    with pytest.raises(InputError, match="no Dask scheduler answered"), dask_engine(address):
        pass
    assert time.monotonic() - started < 30


def test_a_served_job_takes_the_engine_and_the_scheduler(tmp_path: Path) -> None:
    from datavask.flows.serve_config import ConfigError, load_config

    job = {"name": "crm", "cron": "30 4 * * *", "input": "in.csv", "out": "runs"}
    (tmp_path / "in.csv").write_text("navn\nHansen Byg ApS\n", encoding="utf-8")
    good = write_config(
        tmp_path, job_toml("cleanse", **job, engine="dask", dask_address="tcp://10.0.0.5:8786")
    )
    (loaded,) = load_config(good).cleanse
    params = loaded.params()
    assert (params.engine, params.dask_address) == ("dask", "tcp://10.0.0.5:8786")
    assert params.cleanse_options("o")["engine"] == "dask"
    bad = write_config(tmp_path, job_toml("cleanse", **job, dask_address="tcp://10.0.0.5:8786"))
    with pytest.raises(ConfigError, match='dask_address: needs engine = "dask"'):
        load_config(bad)


@pytest.mark.prefect
def test_the_flow_runs_its_steps_on_a_dask_cluster(prefect_harness: None, tmp_path: Path) -> None:
    """What a served ``engine = "dask"`` job runs: the Prefect flow, its partitions on the cluster
    through prefect-dask's DaskTaskRunner (served and triggered: test_engine_dask_serve.py)."""
    from datavask.flows.cleanse_flow import cleanse_flow

    sample = SAMPLE / "customers.csv"
    run_pipeline(
        CleanseOptions(input=str(sample), out=str(tmp_path / "local"), registry="none"),
        orchestrated=False,
    )
    with local_cluster(1) as (cluster, client):
        state = cleanse_flow(
            input=str(sample), out=str(tmp_path / "dask"), registry="none", engine="dask",
            dask_address=cluster.scheduler_address, return_state=True,
        )  # fmt: skip
        ran = state.result()
        executed = tasks_executed(client)
    assert ran["options"]["engine"] == "dask"
    assert ran["engine"]["via"] == "prefect-dask DaskTaskRunner"
    assert executed >= 4 * 3  # normalise, registry view, split, verdict … per partition
    assert_same_outputs(tmp_path / "local", tmp_path / "dask")
