"""``datavask serve`` and ``datavask run`` against a real Prefect server with its scheduler on.

One server for the session (tests/flows/prefect_server.py) and one ``datavask serve`` subprocess
for the module, serving two cleanse jobs: ``every-minute`` (``* * * * *``, so the server's scheduler
must create runs — this fails with SQLAlchemy 2.1) and ``on-demand`` (a cron a year away, for
runs started by hand). The server is asked over its REST API, as any client would.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.flows.prefect_server import free_port
from tests.flows.served import (
    RUN_WAIT_S,
    SAMPLE,
    Served,
    job_toml,
    run_datavask,
    serve_env,
    wait_for,
    write_config,
)

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def served(prefect_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("serve")
    customers = str(SAMPLE / "customers.csv")
    config = write_config(
        root,
        job_toml("cleanse", name="every-minute", cron="* * * * *", input=customers,
                 out="runs/every-minute", keep_runs=2),
        job_toml("cleanse", name="on-demand", cron="0 5 1 1 *", input=customers,
                 out="runs/on-demand"),
        job_toml("monitor", name="watch", cron="* * * * *", input=customers,
                 registry=str(SAMPLE / "registry.jsonl.gz"), state="monitor-state",
                 out="alerts/watch", keep_days=7),
    )  # fmt: skip
    served = Served(prefect_server, root, config, serve_env(prefect_server, root / "home"))
    served.start()
    try:
        yield served
    finally:
        if served.process and served.process.poll() is None:
            served.stop()


def test_scheduled_cleanse_writes_a_dated_run_and_latest(served: Served) -> None:
    root = served.root / "runs" / "every-minute"
    latest = root / "latest"
    wait_for((latest / "run.json").exists, RUN_WAIT_S, "a scheduled run's latest/run.json")
    assert latest.is_symlink()
    target = latest.resolve()
    assert target.parent == root.resolve() and target.name[:8].isdigit()
    run = json.loads((latest / "run.json").read_text())
    assert run["counts"]["records"] == 400
    assert "datavask serve" in run["orchestration"]
    scheduled = [r for r in served.flow_runs("every-minute") if r["state_type"] == "COMPLETED"]
    assert scheduled and all(r["auto_scheduled"] for r in scheduled)


def test_scheduled_monitor_writes_alerts_into_a_dated_run(served: Served) -> None:
    root = served.root / "alerts" / "watch"
    wait_for((root / "latest" / "run.json").exists, RUN_WAIT_S, "a scheduled monitor run")
    assert (root / "latest").is_symlink()
    assert (root / "latest" / "alerts.csv").exists()
    run = json.loads((root / "latest" / "run.json").read_text())
    assert run["command"] == "monitor" and "first_run" in run
    assert list((served.root / "monitor-state").glob("*.parquet"))
    runs = served.flow_runs("watch", flow="datavask-monitor")
    assert any(r["state_type"] == "COMPLETED" and r["auto_scheduled"] for r in runs)


def test_datavask_run_starts_a_served_job_with_a_parameter(served: Served) -> None:
    done = run_datavask(["run", "on-demand", "--param", "format=csv"], served.env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Completed" in done.stderr
    out = Path(done.stderr.split("output:", 1)[1].split()[0])
    assert out.parent == (served.root / "runs" / "on-demand").resolve()
    assert (out / "records.csv").exists() and (out / "records.parquet").exists()
    assert (served.root / "runs" / "on-demand" / "latest").resolve() == out
    runs = served.flow_runs("on-demand")
    assert any(r["parameters"].get("format") == "csv" for r in runs)


def test_prefect_deployment_run_with_a_parameter(served: Served) -> None:
    prefect = [sys.executable, "-m", "prefect", "deployment", "run", "datavask-cleanse/on-demand"]
    done = subprocess.run(
        [*prefect, "--param", "format=xlsx", "--watch", "--watch-timeout", str(RUN_WAIT_S)],
        capture_output=True, text=True, env=served.env, timeout=RUN_WAIT_S + 60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    runs = [r for r in served.flow_runs("on-demand") if r["parameters"].get("format") == "xlsx"]
    assert [r["state_type"] for r in runs] == ["COMPLETED"]
    assert list((served.root / "runs" / "on-demand").glob("*/records.xlsx"))


def test_a_bad_parameter_is_refused_before_a_run_exists(served: Served) -> None:
    before = len(served.flow_runs("on-demand"))
    ours = run_datavask(["run", "on-demand", "--param", "format=docx"], served.env, timeout=120)
    assert ours.returncode == 2
    assert "format" in ours.stderr and "Traceback" not in ours.stderr
    theirs = subprocess.run(
        [sys.executable, "-m", "prefect", "deployment", "run", "datavask-cleanse/on-demand",
         "--param", "format=docx"],
        capture_output=True, text=True, env=served.env, timeout=120, check=False,
    )  # fmt: skip
    assert theirs.returncode != 0
    assert "docx" in theirs.stdout + theirs.stderr
    assert len(served.flow_runs("on-demand")) == before


def test_an_unknown_job_is_one_line_and_exit_2(served: Served) -> None:
    done = run_datavask(["run", "no-such-job"], served.env, timeout=120)
    assert done.returncode == 2
    assert "no served datavask job named 'no-such-job'" in done.stderr
    assert "Traceback" not in done.stderr


def test_one_off_cleanse_reports_to_the_server_serve_uses(served: Served, tmp_path: Path) -> None:
    env = dict(served.env)
    env.pop("PREFECT_API_URL")  # only serve.json in DATAVASK_HOME says where the server is
    out = tmp_path / "one-off"
    done = run_datavask(
        ["cleanse", str(SAMPLE / "customers.csv"), "--lang", "en", "--out", str(out)], env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Prefect run" in done.stderr
    run = json.loads((out / "run.json").read_text())
    assert "datavask serve" in run["orchestration"]
    runs = served.post("/flow_runs/filter", {"limit": 200, "sort": "START_TIME_DESC"})
    assert any(r["parameters"].get("out") == str(out) for r in runs)


def test_stop_pauses_and_restart_resumes_without_duplicates(served: Served) -> None:
    assert served.stop() == 0
    assert not served.serving()
    jobs = (("every-minute", "datavask-cleanse"), ("on-demand", "datavask-cleanse"),
            ("watch", "datavask-monitor"))  # fmt: skip
    for name, flow in jobs:
        assert served.deployment(name, flow)["paused"] is True, name
    served.start()
    for name, flow in jobs:
        deployment = served.deployment(name, flow)
        assert deployment["paused"] is False, name
        schedules = served.get(f"/deployments/{deployment['id']}/schedules")
        assert len(schedules) == 1 and schedules[0]["active"], schedules

    def upcoming(name: str, flow: str) -> list[dict[str, Any]]:
        return [r for r in served.flow_runs(name, flow) if r["state_name"] == "Scheduled"]

    wait_for(lambda: upcoming("every-minute", "datavask-cleanse"), 120, "the resumed schedule")
    for name, flow in jobs:  # one run per scheduled time, however often serve was restarted
        starts = [r["expected_start_time"] for r in upcoming(name, flow)]
        assert len(starts) == len(set(starts)), name


class _Proxy:
    """A TCP forwarder to the Prefect server; closing it makes the server 'go away' for serve."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target = target_port
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.listener.settimeout(0.2)
        self.closed = threading.Event()
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.closed.set()
        self.acceptor.join(timeout=10)
        self.listener.close()
        with self.lock:
            for s in self.sockets:
                s.close()


def test_serve_exits_when_its_server_goes_away(prefect_server: str, tmp_path: Path) -> None:
    proxy = _Proxy(int(prefect_server.rsplit(":", 1)[1].split("/", maxsplit=1)[0]))
    config = write_config(
        tmp_path,
        job_toml("cleanse", name="proxied", cron="0 5 1 1 *", input=str(SAMPLE / "customers.csv"),
                 out="runs"),
    )  # fmt: skip
    env = serve_env(f"http://127.0.0.1:{proxy.port}/api", tmp_path / "home",
                    DATAVASK_SERVE_HEALTH_SECONDS="1")  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "datavask", "serve", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_for((tmp_path / "home" / "serve.json").exists, RUN_WAIT_S, "serve to start")
        proxy.close()
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert process.returncode == 1
    assert "stopped answering" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "home" / "serve.json").exists()
