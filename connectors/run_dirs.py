"""Dated run directories under a scheduled job's output root, a stable ``latest``, and retention.

A scheduled job writes each run to ``ROOT/<local timestamp>/`` (``20260303-033000``) and then points
``ROOT/latest`` at it. The link is replaced atomically (a new link renamed over the old one), so a
reader following ``latest`` sees the previous run or the new one, never a missing or half-written
directory. Retention deletes only directories that are demonstrably datavask runs: named by
:func:`new_run_dir`'s pattern and holding a ``run.json`` that datavask wrote; anything else a user
keeps under the root is never touched, nor is the run ``latest`` points at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

LATEST = "latest"
RUN_NAME = re.compile(r"^\d{8}-\d{6}(-\d+)?$")


def new_run_dir(root: Path, timezone: str, now: datetime | None = None) -> Path:
    """A not-yet-existing ``ROOT/<local timestamp>`` path (suffixed ``-2``… when taken)."""
    local = (now or datetime.now(ZoneInfo(timezone))).astimezone(ZoneInfo(timezone))
    stamp = local.strftime("%Y%m%d-%H%M%S")
    candidate, n = root / stamp, 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = root / f"{stamp}-{n}"
    return candidate


def point_latest(root: Path, run_dir: Path) -> Path:
    """Make ``ROOT/latest`` a relative symlink to ``run_dir``, replacing the old one atomically."""
    link = root / LATEST
    if link.exists() and not link.is_symlink():
        raise FileExistsError(f"{link} exists and is not a symlink; datavask will not replace it")
    tmp = root / f".{LATEST}.{uuid.uuid4().hex[:8]}"
    os.symlink(run_dir.name, tmp)
    os.replace(tmp, link)
    return link


def is_datavask_run(path: Path) -> bool:
    """A directory named like a dated run that holds the run.json datavask writes."""
    if path.is_symlink() or not path.is_dir() or not RUN_NAME.match(path.name):
        return False
    try:
        run = json.loads((path / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    # cleanse's run.json names datavask's version; monitor's names its command
    return (
        isinstance(run, dict)
        and "run_id" in run
        and ("datavask_version" in run or "command" in run)
    )


def prune_runs(
    root: Path, *, keep_runs: int | None, keep_days: int | None, now: datetime | None = None
) -> list[Path]:
    """Delete the dated runs beyond the newest ``keep_runs`` or older than ``keep_days``.

    With both set, a run is kept while either rule keeps it. Returns what was deleted.
    """
    if keep_runs is None and keep_days is None:
        return []
    runs = sorted((p for p in root.iterdir() if is_datavask_run(p)), key=lambda p: p.name)
    current = (root / LATEST).resolve() if (root / LATEST).is_symlink() else None
    newest = set(runs[-keep_runs:]) if keep_runs else set()
    cutoff = (now or datetime.now()).timestamp() - (keep_days or 0) * 86400
    deleted = []
    for run in runs:
        recent = keep_days is not None and run.stat().st_mtime >= cutoff
        if run in newest or recent or run.resolve() == current:
            continue
        shutil.rmtree(run)
        deleted.append(run)
    return deleted
