"""``datavask serve`` and ``datavask run`` against a real Prefect server with its scheduler on.

One server for the session (tests/flows/prefect_server.py) and one ``datavask serve`` subprocess
for the module, serving two cleanse jobs: ``every-minute`` (``* * * * *``, so the server's scheduler
must create runs — this fails with SQLAlchemy 2.1) and ``on-demand`` (a cron a year away, for
runs started by hand). The server is asked over its REST API, as any client would.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.flows.prefect_server import free_port, prefect_server  # noqa: F401 - fixture

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
RUN_WAIT_S = 420  # a flow run is 5–20 s on a quiet machine, minutes when eight people share it

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(900)]


def _env(api_url: str | None, home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "DATAVASK_"))}
    env.pop(
        "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", None
    )  # the CLI's own default, as users get it
    if api_url:
        env["PREFECT_API_URL"] = api_url
    env["DATAVASK_HOME"] = str(home)
    env.update(extra)
    return env


def _datavask(args: list[str], env: dict[str, str], timeout: float = RUN_WAIT_S):
    return subprocess.run(
        [sys.executable, "-m", "datavask", *args],
        capture_output=True, text=True, env=env, timeout=timeout, check=False,
    )  # fmt: skip


def _wait(predicate: Any, seconds: float, what: str, step: float = 1.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


@dataclass
class Served:
    api_url: str
    root: Path
    config: Path
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        with (self.root / "serve.log").open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "datavask", "serve", "--config", str(self.config)],
                stdout=log, stderr=log, env=self.env, text=True, start_new_session=True,
            )  # fmt: skip
        try:
            _wait(lambda: self.deployment("on-demand").get("paused") is False and self.serving(),
                  RUN_WAIT_S, "serve to register its deployments")  # fmt: skip
        except BaseException:
            self.process.kill()
            self.process.wait(timeout=60)
            raise

    def serving(self) -> bool:
        return (Path(self.env["DATAVASK_HOME"]) / "serve.json").exists()

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=120)

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.api_url}{path}", timeout=60)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = httpx.post(f"{self.api_url}{path}", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def deployment(self, name: str, flow: str = "datavask-cleanse") -> dict[str, Any]:
        try:
            return self.get(f"/deployments/name/{flow}/{name}")  # type: ignore[no-any-return]
        except httpx.HTTPError:  # not there yet, or a server too busy to answer in time
            return {}

    def flow_runs(self, name: str, flow: str = "datavask-cleanse") -> list[dict[str, Any]]:
        deployment_id = self.deployment(name, flow)["id"]
        return self.post(  # type: ignore[no-any-return]
            "/flow_runs/filter",
            {"deployments": {"id": {"any_": [deployment_id]}}, "limit": 200},
        )


@pytest.fixture(scope="module")
def served(prefect_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:  # noqa: F811
    root = tmp_path_factory.mktemp("serve")
    config = root / "datavask.toml"
    config.write_text(
        f"""
[[cleanse]]
name = "every-minute"
cron = "* * * * *"
input = "{SAMPLE / "customers.csv"}"
out = "runs/every-minute"
keep_runs = 2

[[cleanse]]
name = "on-demand"
cron = "0 5 1 1 *"
input = "{SAMPLE / "customers.csv"}"
out = "runs/on-demand"

[[monitor]]
name = "watch"
cron = "* * * * *"
input = "{SAMPLE / "customers.csv"}"
registry = "{SAMPLE / "registry.jsonl.gz"}"
state = "monitor-state"
out = "alerts/watch"
keep_days = 7
""",
        encoding="utf-8",
    )
    served = Served(prefect_server, root, config, _env(prefect_server, root / "home"))
    served.start()
    try:
        yield served
    finally:
        if served.process and served.process.poll() is None:
            served.stop()


def test_scheduled_cleanse_writes_a_dated_run_and_latest(served: Served) -> None:
    root = served.root / "runs" / "every-minute"
    latest = root / "latest"
    _wait((latest / "run.json").exists, RUN_WAIT_S, "a scheduled run's latest/run.json")
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
    _wait((root / "latest" / "run.json").exists, RUN_WAIT_S, "a scheduled monitor run")
    assert (root / "latest").is_symlink()
    assert (root / "latest" / "alerts.csv").exists()
    run = json.loads((root / "latest" / "run.json").read_text())
    assert run["command"] == "monitor" and "first_run" in run
    assert list((served.root / "monitor-state").glob("*.parquet"))
    runs = served.flow_runs("watch", flow="datavask-monitor")
    assert any(r["state_type"] == "COMPLETED" and r["auto_scheduled"] for r in runs)


def test_datavask_run_starts_a_served_job_with_a_parameter(served: Served) -> None:
    done = _datavask(["run", "on-demand", "--param", "format=csv"], served.env)
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
    ours = _datavask(["run", "on-demand", "--param", "format=docx"], served.env, timeout=120)
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
    done = _datavask(["run", "no-such-job"], served.env, timeout=120)
    assert done.returncode == 2
    assert "no served datavask job named 'no-such-job'" in done.stderr
    assert "Traceback" not in done.stderr


def test_one_off_cleanse_reports_to_the_server_serve_uses(served: Served, tmp_path: Path) -> None:
    env = dict(served.env)
    env.pop("PREFECT_API_URL")  # only serve.json in DATAVASK_HOME says where the server is
    out = tmp_path / "one-off"
    done = _datavask(
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

    _wait(lambda: upcoming("every-minute", "datavask-cleanse"), 120, "the resumed schedule")
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


def test_serve_exits_when_its_server_goes_away(prefect_server: str, tmp_path: Path) -> None:  # noqa: F811
    proxy = _Proxy(int(prefect_server.rsplit(":", 1)[1].split("/", maxsplit=1)[0]))
    config = tmp_path / "datavask.toml"
    config.write_text(
        f'[[cleanse]]\nname = "proxied"\ncron = "0 5 1 1 *"\n'
        f'input = "{SAMPLE / "customers.csv"}"\nout = "runs"\n'
    )
    env = _env(f"http://127.0.0.1:{proxy.port}/api", tmp_path / "home",
               DATAVASK_SERVE_HEALTH_SECONDS="1")  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "datavask", "serve", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        _wait((tmp_path / "home" / "serve.json").exists, RUN_WAIT_S, "serve to start")
        proxy.close()
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert process.returncode == 1
    assert "stopped answering" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "home" / "serve.json").exists()
