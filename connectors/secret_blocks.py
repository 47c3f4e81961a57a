"""Prefect Secret blocks: where credentials live when the environment does not hold them.

A block can only be read from a Prefect API: the server ``PREFECT_API_URL`` names (environment
or the active Prefect profile), or — with no URL — Prefect's local database, which Prefect serves
by starting a temporary server. Starting that server takes 15–90 s on a small, busy machine, so it
is only worth it when the database exists: with no URL and no database there is no block to find,
and :func:`secret_block` says so at once, without importing Prefect.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import Any


class SecretBlockUnavailable(LookupError):
    """The block could not be read: no Prefect to ask, no such block, or the server failed."""


def prefect_setting(name: str) -> str | None:
    """A Prefect setting from the environment or the active profile, without importing Prefect."""
    if os.environ.get(name):
        return os.environ[name]
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or prefect_home() / "profiles.toml")
    try:
        profiles = tomllib.loads(path.expanduser().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    value = profiles.get("profiles", {}).get(active, {}).get(name)
    return str(value) if value else None


def prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()


def _prefect_can_answer() -> bool:
    """True when a Prefect API is configured, or Prefect's local database already exists."""
    if prefect_setting("PREFECT_API_URL") or prefect_setting("PREFECT_API_DATABASE_CONNECTION_URL"):
        return True
    if "prefect" in sys.modules:  # inside a flow run: Prefect's own settings say where to ask
        from prefect.settings import PREFECT_API_URL

        if PREFECT_API_URL.value():
            return True
    return (prefect_home() / "prefect.db").is_file()


def secret_block(name: str) -> str:
    """The value of the Prefect Secret block ``name``; :class:`SecretBlockUnavailable` if none."""
    if not _prefect_can_answer():
        raise SecretBlockUnavailable(
            f"no Prefect server configured (PREFECT_API_URL) and no local Prefect database: "
            f"no block {name!r}"
        )
    try:
        from prefect.blocks.system import Secret

        block: Any = Secret.load(name)
        return str(block.get())
    except Exception as exc:  # no server, no block, a server error: all mean "not available"
        problem = type(exc).__name__
        raise SecretBlockUnavailable(f"Prefect Secret block {name!r}: {problem}") from exc
