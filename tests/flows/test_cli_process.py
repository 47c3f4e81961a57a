"""The command line as a process: --workers, signals, what killed runs leave, and the time it says.

Every test runs ``python -m datavask`` as a subprocess, as users and schedulers do, with its own
``TMPDIR`` so the work directories it looks for are its own.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SAMPLE

CUSTOMERS = SAMPLE / "customers.csv"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return {
        **os.environ,
        "DATAVASK_ORCHESTRATION": "none",
        "DATAVASK_HOME": str(tmp_path / "home"),
        "TMPDIR": str(tmp_path / "tmp"),
        "COLUMNS": "200",
        **extra,
    }


def _cleanse(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "datavask", "cleanse", *args],
        capture_output=True, text=True, env=_env(tmp_path, **env), timeout=600, check=False,
    )  # fmt: skip


def _work_dirs(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "tmp").glob("datavask-work-*"))


@pytest.fixture(scope="module")
def big_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated customers, enough that a run is still busy a few seconds after it starts."""
    from bench.generate import generate

    path = tmp_path_factory.mktemp("big") / "customers.csv"
    generate(8_000, seed=7).customers.write_csv(path, separator=";")
    return path


def _start(tmp_path: Path, input: Path, out: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "datavask", "cleanse", str(input), "--registry", "none",
         "--out", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env(tmp_path, **env),
    )  # fmt: skip


def _wait_for(process: subprocess.Popen[str], pattern: Path, name: str) -> Path:
    """The first ``pattern/name`` to appear while ``process`` runs."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        found = list(pattern.parent.glob(f"{pattern.name}/{name}"))
        if found:
            return found[0]
        assert process.poll() is None, process.communicate()[1][-2000:]
        time.sleep(0.05)
    raise AssertionError(f"{pattern}/{name} never appeared")


@pytest.fixture
def stopped() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)  # and close its pipes


# --------------------------------------------------------------------------- --workers


def test_workers_sets_the_thread_pool_polars_really_uses(tmp_path: Path) -> None:
    """Before: POLARS_MAX_THREADS was set after polars was imported, so it changed nothing."""
    for workers in ("1", "3"):
        out = tmp_path / f"out-{workers}"
        done = _cleanse(tmp_path, str(CUSTOMERS), "--registry", "none", "--out", str(out),
                        "--workers", workers)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        run = json.loads((out / "run.json").read_text(encoding="utf-8"))
        assert run["threads"] == int(workers)
        assert run["options"]["workers"] == int(workers)


def test_the_command_line_imports_no_polars_before_parsing_options() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import datavask.flows.cli"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "datavask.flows.cli" in imported
    assert not {name for name in imported if name.split(".")[0] == "polars"}


# --------------------------------------------------------------------------- signals


def _stop_mid_run(
    tmp_path: Path,
    big_input: Path,
    stopped: list[subprocess.Popen[str]],
    signum: int,
    code: int,
    **env: str,
) -> None:
    out = tmp_path / "out"
    process = _start(tmp_path, big_input, out, **env)
    stopped.append(process)
    # mid-run: the input has been read (input.json is the read step's last file; the canonical
    # frame goes on to normalise in memory) and the normalise step is busy in polars
    _wait_for(process, tmp_path / "tmp" / "datavask-work-*", "input.json")
    time.sleep(0.3)
    sent = time.monotonic()
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    waited = time.monotonic() - sent
    assert process.returncode == code, stderr[-2000:]
    assert waited < 2.5, f"took {waited:.1f} s to stop"
    assert "interrupted; no output was written" in stderr
    assert "Traceback" not in stderr
    assert not out.exists()
    assert list(tmp_path.glob(".out.*")) == []
    assert _work_dirs(tmp_path) == []


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_a_run_promptly_and_leaves_nothing(
    tmp_path: Path, big_input: Path, stopped: list[subprocess.Popen[str]], signum: int, code: int
) -> None:
    """Before: Ctrl-C let the run finish (exit 0); SIGTERM left the work directory behind."""
    _stop_mid_run(tmp_path, big_input, stopped, signum, code)


def test_a_piped_run_logs_each_step_when_it_is_done(
    tmp_path: Path, big_input: Path, stopped: list[subprocess.Popen[str]]
) -> None:
    """Before: without a terminal the progress bars were drawn once, at the end, so the log of a
    run killed midway (out of memory, a timeout) did not say how far it got."""
    process = _start(tmp_path, big_input, tmp_path / "out")
    stopped.append(process)
    _wait_for(process, tmp_path / "tmp" / "datavask-work-*", "input.json")
    time.sleep(0.3)
    process.kill()
    _, stderr = process.communicate(timeout=60)
    assert re.search(r"^  Reading input \([\d.]+ s\)$", stderr, flags=re.M), stderr[-2000:]
    assert "Finding duplicates" not in stderr
    assert "━" not in stderr


@pytest.mark.prefect
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_a_prefect_run_promptly(
    prefect_harness: None,
    tmp_path: Path,
    big_input: Path,
    stopped: list[subprocess.Popen[str]],
    signum: int,
    code: int,
) -> None:
    """Under a Prefect server the step runs as a task, and Prefect has its own SIGTERM handler."""
    from prefect.settings import get_current_settings

    api_url = str(get_current_settings().api.url)
    _stop_mid_run(tmp_path, big_input, stopped, signum, code,
                  DATAVASK_ORCHESTRATION="auto", PREFECT_API_URL=api_url)  # fmt: skip


# --------------------------------------------------------------------------- kill -9 leftovers


HOLDER = """
import sys, time
from pathlib import Path
from datavask.connectors.scratch import owned_dir
with owned_dir(Path(sys.argv[1]), sys.argv[2]) as path:
    print(path, flush=True)
    time.sleep(600)
"""


def test_the_next_run_removes_what_a_killed_run_left_but_not_a_live_runs(
    tmp_path: Path, big_input: Path, stopped: list[subprocess.Popen[str]]
) -> None:
    """Before: .out.partial-* and datavask-work-* stayed for ever after kill -9."""
    out = tmp_path / "out"
    killed = _start(tmp_path, big_input, out)
    stopped.append(killed)
    partial = _wait_for(killed, tmp_path, ".out.partial-*")
    work = _work_dirs(tmp_path)
    killed.kill()
    killed.wait(timeout=30)
    assert partial.exists() and len(work) == 1 and work[0].exists()  # what kill -9 leaves

    live = []
    for parent, prefix in ((tmp_path / "tmp", "datavask-work-"), (tmp_path, ".out.partial-")):
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(parent), prefix],
            stdout=subprocess.PIPE, text=True, env=_env(tmp_path),
        )  # fmt: skip
        stopped.append(holder)
        assert holder.stdout is not None
        live.append(Path(holder.stdout.readline().strip()))

    done = _cleanse(tmp_path, str(CUSTOMERS), "--registry", "none", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    assert not partial.exists() and not work[0].exists()
    assert all(path.exists() for path in live)  # another run still going is never touched
    assert (out / "records.parquet").exists()


# --------------------------------------------------------------------------- time and bad input


def test_a_file_without_a_name_column_is_told_so(tmp_path: Path) -> None:
    """A name column under a header no synonym knows was not read, and the run said nothing:
    every record MISSING_NAME, the duplicates found without names."""
    path = tmp_path / "in.csv"
    path.write_text(
        "Kundenr;Betegnelse;Adresse;Postnr;Telefon\n1;Hansen ApS;Vestergade 12;8000;86123456\n",
        encoding="utf-8",
    )
    done = _cleanse(tmp_path, str(path), "--registry", "none", "--lang", "en",
                    "--out", str(tmp_path / "o"))  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    said = " ".join(done.stderr.split())
    assert "No name no column was read as the customer's name; not read: 'Betegnelse'." in said
    named = tmp_path / "named.csv"
    named.write_text(
        path.read_text(encoding="utf-8").replace("Betegnelse;", "Navn;"), encoding="utf-8"
    )
    done = _cleanse(tmp_path, str(named), "--registry", "none", "--lang", "en",
                    "--out", str(tmp_path / "o2"))  # fmt: skip
    assert "No name" not in done.stderr


def test_summary_time_is_the_whole_wait(tmp_path: Path) -> None:
    """Before: the sum of the steps (1.6 s while the user waited 8–59 s)."""
    started = time.monotonic()
    done = _cleanse(
        tmp_path, str(CUSTOMERS), "--registry", "none", "--lang", "en", "--out", str(tmp_path / "o")
    )
    waited = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-2000:]
    said = float(re.search(r"^Time\s+([\d.]+) s", done.stderr, flags=re.M).group(1))  # type: ignore[union-attr]
    run = json.loads((tmp_path / "o" / "run.json").read_text(encoding="utf-8"))
    steps = sum(v for k, v in run["timings"].items() if k != "total_before_write")
    assert said > steps
    assert waited - 2.0 <= said <= waited + 0.1, (said, waited)


def test_summary_time_is_datavasks_own_when_a_shell_execs_it(tmp_path: Path) -> None:
    """A shell's last command is exec'd in the shell's own process, which keeps the shell's start
    time: `bash -c "pip install … && datavask cleanse …"` once said 1,292.6 s for a 9 s run."""
    out = tmp_path / "o"
    command = shlex.join([sys.executable, "-m", "datavask", "cleanse", str(CUSTOMERS),
                          "--registry", "none", "--lang", "en", "--out", str(out)])  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(
        ["bash", "-c", f"sleep 4 && exec {command}"],
        capture_output=True, text=True, env=_env(tmp_path), timeout=600, check=False,
    )  # fmt: skip
    waited = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-2000:]
    said = float(re.search(r"^Time\s+([\d.]+) s", done.stderr, flags=re.M).group(1))  # type: ignore[union-attr]
    assert said <= waited - 3.5, (said, waited)


@pytest.mark.prefect
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, ".xls workbook"),
        ("unknown.bin", b"\x00\x01\x02\x03" * 100, "binary file"),
        ("unreadable", None, "is a directory"),
    ],
)
def test_bad_input_is_found_before_prefect_starts(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    """Before: 15.6 s to the .xls error on a first run, and a Prefect server left running."""
    path = tmp_path / name
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    env = {"DATAVASK_ORCHESTRATION": "auto"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "datavask", "cleanse", str(path), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300, check=False,
        env={k: v for k, v in _env(tmp_path, **env).items() if not k.startswith("PREFECT_API")},
    )  # fmt: skip
    waited = time.monotonic() - started
    assert done.returncode == 2, done.stderr[-2000:]
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "home" / "prefect").exists()  # no server was started, none is left
    assert waited < 15, f"{waited:.1f} s"


@pytest.mark.parametrize("bad", ["mapping", "out"])
def test_bad_mapping_or_out_is_found_before_any_work(tmp_path: Path, bad: str) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_bytes(b'[columns]\nname = "Navn"\n' if bad != "mapping" else b"\xff\xfe[")
    out = tmp_path / ("x" * 300 if bad == "out" else "out")
    done = _cleanse(tmp_path, str(CUSTOMERS), "--mapping", str(mapping), "--out", str(out),
                    DATAVASK_ORCHESTRATION="auto")  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "home" / "prefect").exists()
