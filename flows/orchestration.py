"""Where a datavask flow run reports to: a Prefect server that is already there, or none.

A one-off ``datavask cleanse`` never starts a server: a person waiting at the terminal should not
pay 15–40 s for one on a small machine. It reports to

- the server ``PREFECT_API_URL`` names (environment or the active Prefect profile), or else
- the server a running ``datavask serve`` uses (serve records its API URL in
  ``$DATAVASK_HOME/serve.json``), or else
- datavask's own local server if it is already running (``datavask local-server start``),

and otherwise runs the same steps without Prefect, without importing it, and says so in the
summary and ``run.json``'s ``orchestration``. A configured server that does not answer is reported
the same way; a run never fails because of Prefect.

``datavask serve`` without ``PREFECT_API_URL`` starts datavask's local server
(``prefect server start`` on 127.0.0.1, its database under ``$DATAVASK_HOME/prefect``) *with* its
scheduler and event services, which scheduled runs need.

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

from datavask.connectors.report_text import Text
from datavask.connectors.secret_blocks import prefect_setting
from datavask.settings import settings

# The note is run.json's ``orchestration``, in the English catalogue's words: the report and
# the summary word it in their language again (Text.orchestration).
_NOTE = Text("en")


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
    """The Prefect API URL the user configured (environment or active profile), if any.

    Read from the environment and Prefect's profiles file directly: importing Prefect to ask
    costs seconds, which a run without a server should not pay.
    """
    return prefect_setting("PREFECT_API_URL")


def resolve(on_status: Callable[[str], None] = lambda _: None) -> Orchestration:
    """Decide how to orchestrate this run; never starts a server."""
    mode = settings().orchestration
    if mode == "none":
        return Orchestration("none", None, _NOTE("orchestration_disabled"))
    if mode == "ephemeral":
        return Orchestration("ephemeral", None, _NOTE("orchestration_ephemeral"))
    on_status("looking for a Prefect server …")
    url = configured_api_url()
    if url:
        if _healthy(url):
            return Orchestration("server", url, _NOTE("orchestration_server", url=url))
        return Orchestration("none", None, _NOTE("orchestration_not_answering", url=url))
    serving = serve_api_url()
    if serving:
        return Orchestration("server", serving, _NOTE("orchestration_serve", url=serving))
    state = running_server()
    if state:
        url = str(state["api_url"])
        note = _NOTE("orchestration_local_server", url=url.removesuffix("/api"))
        return Orchestration("local-server", url, note)
    return Orchestration("none", None, _NOTE("orchestration_no_server"))


def _serve_file() -> Path:
    return datavask_home() / "serve.json"


def record_serve(api_url: str) -> None:
    """Tell one-off runs where this ``datavask serve`` reports (removed again on exit)."""
    path = _serve_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "api_url": api_url}))
    os.replace(tmp, path)


def clear_serve_record() -> None:
    """Remove serve.json if this process wrote it."""
    try:
        state = json.loads(_serve_file().read_text())
    except (OSError, ValueError):
        return
    if isinstance(state, dict) and state.get("pid") == os.getpid():
        _serve_file().unlink(missing_ok=True)


def serve_api_url() -> str | None:
    """The API URL of a running ``datavask serve`` whose server answers, if any."""
    try:
        state = json.loads(_serve_file().read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict):
        return None
    pid, url = state.get("pid"), state.get("api_url")
    if isinstance(pid, int) and isinstance(url, str) and _alive(pid) and _healthy(url):
        return url
    return None


class LocalServerError(RuntimeError):
    """datavask's local Prefect server could not be started."""


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
        on_status("starting datavask's local Prefect server …")
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
