"""Building the package: no setuptools banners, the data inside the wheel, and ``--version``."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from datavask import __version__
from tests.conftest import REPO


def test_wheel_builds_without_setuptools_banners(tmp_path: Path) -> None:
    """Before: "Package 'datavask.data.reference' is absent from the packages configuration"
    banners (and, earlier, the licence-table deprecation) framed in asterisks on every install."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation",
         "--no-cache-dir", "-w", str(tmp_path), "-v"],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    banners = [line for line in output.splitlines() if "****" in line or "Deprecat" in line]
    assert banners == [], "\n".join(banners)
    assert "BuildBackendWarning" not in output and "licen" not in output.lower()
    (wheel,) = tmp_path.glob("datavask-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "datavask/data/reference/dk_postal_codes.csv" in names
    assert "datavask/data/sample/customers.csv" in names
    assert "datavask/settings.py" in names


def test_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "datavask", "--version"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == f"datavask {__version__}"
