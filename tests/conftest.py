"""Test-wide settings: no test may reach a real Prefect server, the user's home or the network."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="datavask-test-home-"))
# Gone when the session ends, however it ends short of a kill: a test run leaves nothing in /tmp.
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
# Set before anything imports prefect: an accidental flow call outside the harness fails fast
# instead of starting a temporary server, and nothing is written to the user's ~/.prefect.
os.environ["PREFECT_SERVER_EPHEMERAL_ENABLED"] = "false"
os.environ["PREFECT_HOME"] = str(_HOME / "prefect")
os.environ["DATAVASK_HOME"] = str(_HOME / "datavask")
os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "WARNING"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.pop("PREFECT_API_URL", None)
os.environ.pop("DATAVASK_REGISTRY", None)
os.environ.pop("DATAVASK_CVR_USER", None)
os.environ.pop("DATAVASK_CVR_PASSWORD", None)

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "sample"


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test server for every flow test of the session (~13 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
