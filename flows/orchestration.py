"""Where a datavask flow run reports to: the user's Prefect server, or datavask's own local one.

Prefect's local mode starts a temporary server for every flow run (14–24 s on a small machine, and
sometimes over Prefect's own 20 s start-up timeout). Nobody waits that long to clean 300 rows, so
datavask keeps one local Prefect server of its own running in the background instead:

- ``PREFECT_API_URL`` configured (environment or Prefect profile): runs go to that server.
- otherwise (the default): datavask starts ``prefect server start`` on 127.0.0.1 once, with its own
  database under ``$DATAVASK_HOME/prefect`` (default ``~/.datavask/prefect``), and every later run
  reuses it (a flow run then costs ~2 s). ``datavask local-server stop`` stops it.
- if that server cannot be started in time, the pipeline still runs — the same steps, without
  orchestration — and the run says so (``run.json``'s ``orchestration``). It never fails on a
  Prefect start-up timeout.

``DATAVASK_ORCHESTRATION`` chooses explicitly: ``auto`` (the above), ``ephemeral`` (Prefect's own
temporary server per run) or ``none`` (no Prefect at all).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from datavask.settings import settings


@dataclass(frozen=True)
class Orchestration:
    """How this run is orchestrated, for the summary and run.json."""

    kind: str  # "server" | "local-server" | "ephemeral" | "none"
    api_url: str | None
    note: str

    @property
    def uses_prefect(self) -> bool:
        return self.kind != "none"


def datavask_home() -> Path:
    return settings().home


def _server_dir() -> Path:
    return datavask_home() / "prefect"


def _state_file() -> Path:
    return _server_dir() / "server.json"


def quiet_prefect_console() -> None:
    """Keep Prefect's INFO lines off the terminal (they still reach the server's run logs)."""
    # CRITICAL, not WARNING: a failed task logs its traceback at ERROR, and bad input must read
    # as the CLI's one line; internal failures are written to last-error.log by the CLI.
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def configured_api_url() -> str | None:
    """The Prefect API URL the user configured (environment or active profile), if any."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


def resolve(on_status: Callable[[str], None] = lambda _: None) -> Orchestration:
    """Decide how to orchestrate this run, starting datavask's local server if needed."""
    mode = settings().orchestration
    if mode == "none":
        return Orchestration("none", None, "Prefect disabled (DATAVASK_ORCHESTRATION=none)")
    if mode == "ephemeral":
        return Orchestration("ephemeral", None, "Prefect's temporary server for this run")
    url = configured_api_url()
    if url:
        return Orchestration("server", url, f"Prefect server at {url}")
    try:
        url = ensure_local_server(on_status)
    except LocalServerError as exc:
        return Orchestration(
            "none", None, f"ran without Prefect: the local Prefect server did not start ({exc})"
        )
    return Orchestration(
        "local-server", url, f"datavask's local Prefect server at {url.removesuffix('/api')}"
    )


class LocalServerError(RuntimeError):
    """datavask's local Prefect server could not be started; the run goes on without it."""


def _healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_state() -> dict[str, object] | None:
    try:
        state = json.loads(_state_file().read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def running_server() -> dict[str, object] | None:
    """The state of datavask's local server if it is up and answering."""
    state = _read_state()
    if not state:
        return None
    pid, url = state.get("pid"), state.get("api_url")
    if isinstance(pid, int) and isinstance(url, str) and _alive(pid) and _healthy(url):
        return state
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_local_server(on_status: Callable[[str], None] = lambda _: None) -> str:
    """The API URL of datavask's local Prefect server, starting it if it is not running."""
    directory = _server_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "server.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two runs at once start one server, not two
        state = running_server()
        if state:
            return str(state["api_url"])
        stale = _read_state()
        if stale and isinstance(stale.get("pid"), int) and _alive(int(stale["pid"])):  # type: ignore[call-overload]
            _terminate(int(stale["pid"]))  # type: ignore[call-overload]
        port = _free_port()
        url = f"http://127.0.0.1:{port}/api"
        env = dict(os.environ)
        for key in list(env):
            if key.startswith("PREFECT_API_"):
                del env[key]
        env.update(
            PREFECT_HOME=str(directory),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_SERVER_LOGGING_LEVEL="WARNING",
            PREFECT_UI_API_URL=url,
        )
        on_status("starting datavask's local Prefect server (first run only) …")
        log = (directory / "server.log").open("ab")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-services",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            start_new_session=True,
        )
        timeout = settings().server_start_timeout
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise LocalServerError(
                    f"it exited with status {process.returncode}; see {directory / 'server.log'}"
                )
            if _healthy(url, timeout=1.0):
                _state_file().write_text(
                    json.dumps({"pid": process.pid, "api_url": url, "port": port})
                )
                return url
            time.sleep(0.25)
        _terminate(process.pid)
        raise LocalServerError(f"not healthy after {timeout:.0f} s; see {directory / 'server.log'}")


def _terminate(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    for _ in range(40):
        if not _alive(pid):
            return
        time.sleep(0.25)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def stop_local_server() -> bool:
    """Stop datavask's local Prefect server; False when none was running."""
    state = _read_state()
    if not state or not isinstance(state.get("pid"), int):
        return False
    pid = int(state["pid"])  # type: ignore[call-overload]
    running = _alive(pid)
    if running:
        _terminate(pid)
    _state_file().unlink(missing_ok=True)
    return running
