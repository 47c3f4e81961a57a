"""Time from a registry change to a delivered webhook, in the scheduled setup users run.

A real Prefect server (services on), ``datavask serve`` with one ``[[monitor]]`` job on cron
``* * * * *``, a loopback ERST server and a loopback webhook receiver. Once the first scheduled
run has finished (its ``OUT/latest`` appears), the ERST server switches to version 2 of the
planted documents (t0); the figure is the arrival of the next webhook POST (t1) minus t0. With a
one-minute cron it is bounded by the wait for the next schedule slot plus the run itself.

    python -m bench.bench_alert_latency
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.connectors.erst_server import ErstServer
from tests.flows.monitor_fixtures import Receiver, planted_registry, write_customers
from tests.flows.prefect_server import start_server, stop_server

WAIT_S = 240


def _wait(predicate: Callable[[], Any], what: str, step: float = 0.2) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise SystemExit(f"timed out after {WAIT_S} s waiting for {what}")


def _config(root: Path, customers: Path, registry: str, hook: str) -> Path:
    config = root / "datavask.toml"
    config.write_text(
        f"""
[[monitor]]
name = "latency"
cron = "* * * * *"
input = "{customers}"
registry = "{registry}"
state = "{root / "state"}"
out = "{root / "alerts"}"
notify = ["{hook}"]
""",
        encoding="utf-8",
    )
    return config


def _serve_env(api_url: str, root: Path, server: ErstServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DATAVASK_"))}
    env.update(
        PREFECT_API_URL=api_url,
        DATAVASK_HOME=str(root / "home"),
        DATAVASK_CVR_USER=server.user,
        DATAVASK_CVR_PASSWORD=server.password,
        DATAVASK_WEBHOOK_SECRET="bench-hemmelighed",
    )
    return env


def _runs_after(api_url: str, since: datetime) -> list[dict[str, Any]]:
    """The flow runs that started after ``since`` (scheduled ones not started yet are left out)."""
    body = {"flow_runs": {"start_time": {"after_": since.isoformat(), "is_null_": False}},
            "sort": "START_TIME_ASC", "limit": 10}  # fmt: skip
    response = httpx.post(f"{api_url}/flow_runs/filter", json=body, timeout=30)
    response.raise_for_status()
    return [run for run in response.json() if run["start_time"]]


def main() -> None:
    planted = planted_registry()
    with tempfile.TemporaryDirectory(prefix="datavask-latency-") as tmp:
        root = Path(tmp)
        customers = write_customers(root / "kunder.csv", list(planted.cvrs.values()))
        arrivals: list[float] = []
        receiver = Receiver()
        prefect, api_url = start_server(root / "prefect")
        serve: subprocess.Popen[bytes] | None = None
        try:
            with ErstServer(documents=planted.version1) as erst, receiver:
                hook = receiver.url("/hook")
                config = _config(root, customers, erst.base_url, hook)
                with (root / "serve.log").open("ab") as log:
                    serve = subprocess.Popen(
                        [sys.executable, "-m", "datavask", "serve", "--config", str(config)],
                        stdout=log, stderr=log, env=_serve_env(api_url, root, erst),
                        start_new_session=True,
                    )  # fmt: skip
                _wait((root / "alerts" / "latest").exists, "the first scheduled run")
                seen = len(receiver.requests)
                erst.documents = planted.version2
                t0, t0_wall = time.monotonic(), datetime.now(UTC)

                def delivered() -> bool:
                    if len(receiver.requests) > seen:
                        arrivals.append(time.monotonic())
                        return True
                    return False

                _wait(delivered, "the webhook POST after the change", step=0.05)
                runs = _runs_after(api_url, t0_wall)
        finally:
            if serve is not None and serve.poll() is None:
                serve.send_signal(signal.SIGTERM)
                serve.wait(timeout=120)
            stop_server(prefect)
        latency = arrivals[0] - t0
        print(f"registry change (version 2 served) at {t0_wall:%H:%M:%S.%f} UTC")
        for run in runs:
            started = datetime.fromisoformat(run["start_time"])
            print(f"scheduled run {run['name']}: expected {run['expected_start_time']}, "
                  f"started {started:%H:%M:%S.%f} UTC "
                  f"(+{(started - t0_wall).total_seconds():.1f} s after the change)")  # fmt: skip
        print(f"change -> delivered webhook: {latency:.1f} s")


if __name__ == "__main__":
    main()
