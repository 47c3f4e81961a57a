"""``datavask review`` without a browser: what a decision records, the port it listens on, and
what stopping it says. (The page itself, driven by a browser: ``test_review_page.py``.)"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from datavask.connectors.decisions import read_decisions
from datavask.connectors.errors import InputError
from datavask.connectors.review.server import ReviewSession, bind
from datavask.flows.cleanse import CleanseOptions, run_pipeline

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "customers.csv"


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("review") / "runs" / "first"
    run_pipeline(
        CleanseOptions(input=str(SAMPLE), out=str(out), review_band=(0.05, 0.999)),
        orchestrated=False,
    )
    return out


def test_a_decision_carries_the_names_the_page_showed(sample_run: Path, tmp_path: Path) -> None:
    session = ReviewSession(sample_run, tmp_path / "d.csv", "karen")
    session.decide(0, "same", "")
    line = read_decisions(tmp_path / "d.csv").row(0, named=True)
    names = dict(pl.read_parquet(sample_run / "records.parquet").select("record_id", "name").rows())
    assert (line["record_id_l"], line["record_id_r"]) == (
        session.queue[0]["record_id_l"],
        session.queue[0]["record_id_r"],
    )
    assert line["name_l"] == names[line["record_id_l"]] and line["name_l"]
    assert line["name_r"] == names[line["record_id_r"]] and line["name_r"]
    assert session.saved == 1


def test_a_port_left_in_time_wait_is_free_again_at_once() -> None:
    """The review stopped while the page had requests open: their connections, closed by the
    server, wait in ``TIME_WAIT``; started again at once, it was told "port … is not free"."""
    first = bind(0)
    port = first.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port), timeout=5)
    served, _ = first.accept()
    served.close()  # the server closes first: its side of the connection waits in TIME_WAIT
    assert client.recv(1) == b""
    client.close()
    first.close()
    again = bind(port)
    assert again.getsockname()[1] == port
    again.close()


def test_a_port_another_program_listens_on_is_still_refused() -> None:
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(InputError, match=f"port {port} on 127.0.0.1 is not free"):
            bind(port)


@pytest.mark.parametrize(("stop", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_stopping_the_review_says_what_was_saved(
    sample_run: Path, tmp_path: Path, stop: signal.Signals, status: int
) -> None:
    """Every decision is saved as it is made: a stop keeps its exit status, but "no output was
    written" (a cleanse's words) was not true of the decisions file."""
    import httpx

    decisions = tmp_path / "d.csv"
    env = dict(os.environ, DATAVASK_REVIEWER="karen", DATAVASK_ORCHESTRATION="none")
    env.pop("DISPLAY", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "datavask", "review", str(sample_run), "--decisions",
         str(decisions), "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        started = re.search(r"http://127\.0\.0\.1:\d+/", process.stdout.readline())
        assert started, process.communicate(timeout=30)
        url = started.group(0)
        page = httpx.get(url, timeout=10).text
        token = re.search(r'name="datavask-token" content="([^"]+)"', page)
        assert token
        for n in (0, 1):
            saved = httpx.post(
                url + "decide",
                json={"n": n, "decision": "different"},
                headers={"X-Datavask-Token": token.group(1)},
                timeout=10,
            )
            assert saved.status_code == 200
    finally:
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == status, stderr
    assert f"review stopped; 2 decisions saved in {decisions}" in stderr
    assert "no output was written" not in stderr
    assert read_decisions(decisions).height == 2
