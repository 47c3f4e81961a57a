"""A Dask worker killed in the middle of a run: Dask recomputes what it held, the output is the same.

A real 2-process local cluster; while the matcher scores (or a row partition's normalise) runs on one
worker, that worker's process is killed with SIGKILL (what the kernel's OOM killer does to it).
Its nanny starts a new one, the scheduler reruns the task and recomputes the partitions the dead
worker held from their task specs (the parts it read from the file included), and the run's files
equal those of ``--engine local``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
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


def test_an_unreachable_scheduler_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datavask.connectors.errors import InputError
    from datavask.flows.engine_dask import dask_engine

    monkeypatch.setenv("DATAVASK_DASK_CONNECT_TIMEOUT", "2")
    started = time.monotonic()
    with (
        pytest.raises(InputError, match="no Dask scheduler answered"),
        dask_engine("tcp://127.0.0.1:1"),
    ):
        pass
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("address", ["not-a-scheduler", "tcp://scheduler", "http://h:8787"])
def test_a_malformed_address_is_told_so_at_once(address: str) -> None:
    """Before: "no Dask scheduler answered within 10 s (ValueError)", for an address that names
    no host and port (or the dashboard's ``http://``): no scheduler could ever answer there."""
    from datavask.connectors.errors import InputError
    from datavask.flows.engine_dask import dask_engine

    started = time.monotonic()
    expected = f"--dask-address not a Dask scheduler address: {re.escape(address)} "
    with pytest.raises(InputError, match=expected), dask_engine(address):
        pass
    assert time.monotonic() - started < 2


def test_the_command_line_refuses_a_malformed_address_before_reading(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "datavask", "cleanse", str(SAMPLE / "customers.csv")]
    command += ["--out", str(tmp_path / "out"), "--engine", "dask", "--dask-address", "notaurl"]
    done = subprocess.run(
        command, env=_env(tmp_path), capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 2
    assert (done.stdout + done.stderr).strip() == (
        "error: not a Dask scheduler address: notaurl (expected tcp://host:port)"
    )
    assert not (tmp_path / "out").exists()


def test_a_local_clusters_scratch_goes_with_its_work_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: every run left ``$TMPDIR/dask-scratch-space/{global,purge}.lock``, and a stopped
    one the scheduler's and workers' folders there too."""
    import tempfile

    from datavask.flows.engine_dask import dask_engine

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with dask_engine(None, workers=1) as engine:
        (worker,) = engine.client.run(_local_directory).values()
        assert Path(worker).parent.parent.name.startswith("datavask-work-"), worker
        assert not (tmp_path / "dask-scratch-space").exists()
    assert list(tmp_path.iterdir()) == []


def _local_directory(dask_worker: Any) -> str:
    return str(dask_worker.local_directory)


def _complain() -> None:
    import logging

    logging.getLogger("distributed.worker").error("Failed to communicate with scheduler")


def test_the_local_clusters_workers_do_not_print_their_logs(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """What a closing cluster does to its workers (the heartbeat's ``CommClosedError``, thirty
    times on a loaded machine) was printed between the last step and the summary; what really
    stops a run reaches the driver as an exception."""
    from datavask.flows.engine_dask import dask_engine

    with dask_engine(None, workers=1) as engine:
        engine.client.run(_complain)
    assert "Failed to communicate" not in capfd.readouterr().err


def test_a_gather_cut_short_by_a_stop_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A stopped run closes its client while a gather waits: asyncio logged each of the
    gather's tasks, ``Task exception was never retrieved … distributed.client.AllExit``."""
    import logging

    from distributed.client import AllExit

    from datavask.flows.engine_dask import _drop_gathers_cut_short

    _drop_gathers_cut_short()
    log = logging.getLogger("asyncio")
    for exc in (AllExit(), OSError("a real one")):
        log.error("Task exception was never retrieved", exc_info=(type(exc), exc, None))
    assert [r.exc_info[1] for r in caplog.records if r.exc_info] == [exc]


def test_distributed_says_nothing_once_the_run_is_stopped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The cluster closed by a stop gives distributed's loggers their level back, and the
    client's comms, closing after it, printed ``Batched Comm Closed`` with a traceback above
    "interrupted; no output was written"."""
    import logging

    from datavask.flows import signals
    from datavask.flows.engine_dask import _drop_gathers_cut_short

    log = logging.getLogger("distributed.batched")
    handler = logging.StreamHandler(sys.stderr)
    root = logging.getLogger("distributed")
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        _drop_gathers_cut_short()
        log.info("a line while the run goes on")
        monkeypatch.setattr(signals, "_received", [signal.SIGTERM])
        log.info("Batched Comm Closed")
        # a stop while the cluster starts: the nanny's start task, never awaited (asked of the
        # logger's filters: the test session's logging set-up may have disabled the logger)
        failed = RuntimeError("Nanny failed to start.")
        record = logging.LogRecord(
            "asyncio", logging.ERROR, __file__, 0, "Task exception was never retrieved", None,
            (RuntimeError, failed, None),
        )  # fmt: skip
        assert not logging.getLogger("asyncio").filter(record)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    said = capsys.readouterr().err
    assert "a line while the run goes on" in said
    assert "Batched Comm Closed" not in said


def _env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return {
        **os.environ, "DATAVASK_ORCHESTRATION": "none", "DATAVASK_HOME": str(tmp_path / "home"),
        "TMPDIR": str(tmp_path / "tmp"), "COLUMNS": "200",
    }  # fmt: skip


@pytest.mark.parametrize("when", ["starting", "running"])
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_to_the_whole_process_group_is_one_line_and_leaves_nothing(
    when: str, signum: int, code: int, tmp_path: Path
) -> None:
    """Ctrl-C in a terminal signals the driver and its workers. Before, it printed 11 to 76
    lines (``KeyboardInterrupt`` in each worker, ``AllExit`` never retrieved, heartbeats'
    ``CommClosedError``, the resource tracker's leaked semaphores) and left
    ``$TMPDIR/dask-scratch-space``; the local engine prints one line and leaves nothing."""
    data = write_dataset(generate(2_000, SEED), tmp_path / "data")
    command = [sys.executable, "-m", "datavask", "cleanse", str(data["customers"])]
    command += ["--registry", "none", "--out", str(tmp_path / "out"), "--engine", "dask"]
    process = subprocess.Popen(
        command, env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        # starting: the cluster's workers are being spawned; running: the input has been read
        sign = "*/dask-scratch-space" if when == "starting" else "*/input.json"
        deadline = time.monotonic() + 240
        while not list((tmp_path / "tmp").glob(f"datavask-work-{sign}")):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        os.killpg(process.pid, signum)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == code, stderr[-3000:]
    # the steps done ("  Reading input (1.7 s)"), then the line the local engine prints
    said = [line for line in stderr.splitlines() if line.strip() and not line.startswith("  ")]
    assert said == ["interrupted; no output was written"], stderr[-3000:]
    time.sleep(1)  # the workers' own exits
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not (tmp_path / "out").exists()


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
    malformed = job_toml("cleanse", **job, engine="dask", dask_address="10.0.0.5")
    with pytest.raises(
        ConfigError, match=r"dask_address: not a Dask scheduler address: 10\.0\.0\.5"
    ):
        load_config(write_config(tmp_path, malformed))


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
