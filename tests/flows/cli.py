"""``datavask cleanse`` as a user runs it: a subprocess of this Python, without Prefect, with a
home directory of the test's own — for the tests that measure or check what the command line
gives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cleanse(
    source: Path | str, out: Path, *options: str, home: Path | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``datavask cleanse SOURCE --out OUT [OPTIONS]``, with ``--registry none`` unless the
    options name a registry; ``home`` is ``DATAVASK_HOME`` (the user's own when None)."""
    env = {**os.environ, "DATAVASK_ORCHESTRATION": "none"}
    if home is not None:
        env["DATAVASK_HOME"] = str(home)
    registry = [] if "--registry" in options else ["--registry", "none"]
    command = [sys.executable, "-m", "datavask", "cleanse", str(source), "--out", str(out)]
    return subprocess.run(
        [*command, *registry, *options],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def cleansed(
    source: Path | str, out: Path, *options: str, home: Path | None = None, timeout: int = 300
) -> Path:
    """:func:`cleanse`, which must succeed; the run directory."""
    done = cleanse(source, out, *options, home=home, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return out
