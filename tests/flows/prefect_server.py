"""A real Prefect server for a test session: ``prefect server start`` with its services on.

Unlike ``prefect_test_harness`` (an in-process server without a scheduler), this is the server
users run: it creates scheduled runs and stores events, on a free 127.0.0.1 port, with its own
PREFECT_HOME and SQLite database. Tests that need scheduling use the ``prefect_server`` fixture
(import it into the test module); it starts once per session and is stopped at the end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

START_TIMEOUT_S = 240  # ~30 s on a quiet 2-core machine; far more when eight people share it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def start_server(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``prefect server start`` under ``home``; returns the process and its API URL."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_LOGGING_LEVEL="WARNING",
        PREFECT_UI_ENABLED="false",
        # the scheduler looks for work every 10 s instead of every 60 s
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="10",
    )
    with (home / "server.log").open("ab") as log:  # the server keeps its own copy
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
             "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"prefect server exited: {(home / 'server.log').read_text()[-2000:]}"
            )
        if healthy(api_url):
            return process, api_url
        time.sleep(0.5)
    stop_server(process)
    raise RuntimeError(f"prefect server not healthy after {START_TIMEOUT_S} s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API URL of a real Prefect server with its scheduler and event services."""
    process, api_url = start_server(tmp_path_factory.mktemp("prefect-server"))
    try:
        yield api_url
    finally:
        stop_server(process)
