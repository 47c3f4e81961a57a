"""``datavask serve`` under test: its config file, its environment, the subprocess, the CLI.

Shared by the tests that serve jobs against a real Prefect server (test_serve.py,
test_engine_dask_serve.py) and those that only load a config (test_serve_config.py,
test_engine_dask_faults.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
RUN_WAIT_S = 420  # a flow run is 5–20 s on a quiet machine, minutes when eight people share it


def job_toml(kind: str, **keys: str | int | list[str]) -> str:
    """One ``[[kind]]`` table of datavask.toml: ``job_toml("cleanse", name="crm", keep_runs=2)``."""
    lines = [f"[[{kind}]]"]
    lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in keys.items()]
    return "\n".join(lines) + "\n"


def write_config(directory: Path, *tables: str) -> Path:
    """``directory/datavask.toml`` holding ``tables`` (TOML text), one after the other."""
    path = directory / "datavask.toml"
    path.write_text("\n".join(tables), encoding="utf-8")
    return path


def serve_env(api_url: str | None, home: Path, **extra: str) -> dict[str, str]:
    """The environment a user's shell gives datavask: this API URL, ``home`` as DATAVASK_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "DATAVASK_"))}
    # the CLI's own console level, as users get it
    env.pop("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", None)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    env["DATAVASK_HOME"] = str(home)
    env.update(extra)
    return env


def run_datavask(
    args: list[str], env: dict[str, str], timeout: float = RUN_WAIT_S
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "datavask", *args],
        capture_output=True, text=True, env=env, timeout=timeout, check=False,
    )  # fmt: skip


def wait_for(predicate: Callable[[], Any], seconds: float, what: str, step: float = 1.0) -> Any:
    """Poll ``predicate`` until it answers something true, which is returned."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


@dataclass
class Served:
    """``datavask serve --config config`` as a subprocess, and the server it registers with."""

    api_url: str
    root: Path
    config: Path
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        """Start serving; returns once the ``on-demand`` job is registered and active."""
        with (self.root / "serve.log").open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "datavask", "serve", "--config", str(self.config)],
                stdout=log, stderr=log, env=self.env, text=True, start_new_session=True,
            )  # fmt: skip
        try:
            wait_for(lambda: self.deployment("on-demand").get("paused") is False and self.serving(),
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
