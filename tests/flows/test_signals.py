"""The stop signal meets polars: a signal that lands in polars' own Python code must not panic.

polars' Rust code calls back into polars' Python code to build ``Field`` and dtype objects; an
exception raised there by a signal handler meets an ``unwrap`` in Rust, which panics and prints a
stack backtrace (a CI run caught it once, in the run's normalise step).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from datavask.connectors import scratch
from datavask.flows import signals

# Rust reads a struct schema back into Python through ``Field.__init__`` and dtype ``__eq__``:
# most of this loop's time is spent in polars' Python code called from Rust.
# ``HANDLER`` is the context the loop runs in: none, or Prefect's flow engine's SIGTERM bridge
# with the command line's guard inside it (as ``cleanse_flow`` runs).
_BUSY_IN_POLARS_CALLBACKS = textwrap.dedent(
    """
    import contextlib, os, signal, sys, threading
    from datavask.flows import signals

    signals.install()
    import polars as pl

    HANDLER

    struct = pl.Struct({f"f{j}": pl.Int64 for j in range(50)})
    frame = pl.LazyFrame(schema={f"c{i}": struct for i in range(200)})
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM)).start()
    try:
        with handler():
            while True:
                frame.collect_schema()
    except BaseException as exc:  # Interrupted, or Prefect's TerminationSignal
        print("interrupted; no output was written", type(exc).__name__, file=sys.stderr)
        signals.exit_now()
    """
)
_OWN_HANDLER = "handler = contextlib.nullcontext"
_PREFECTS_HANDLER = """
from prefect.utilities.engine import capture_sigterm

@contextlib.contextmanager
def handler():
    with capture_sigterm(), signals.polars_frames_deferred():
        yield
"""


@pytest.mark.parametrize(
    "handler", [_OWN_HANDLER, _PREFECTS_HANDLER], ids=["own handler", "under Prefect's handler"]
)
def test_a_signal_inside_polars_callbacks_stops_the_run_without_a_panic(
    tmp_path: Path, handler: str
) -> None:
    """Before: three runs of three panicked (``called Result::unwrap() on an Err``), exit 1.
    Under Prefect's handler (a CI run of the command line caught it): three of three too."""
    script = tmp_path / "busy.py"
    script.write_text(_BUSY_IN_POLARS_CALLBACKS.replace("HANDLER", handler))
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 128 + signal.SIGTERM, done.stderr[-2000:]
        assert "panicked" not in done.stderr
        assert "Traceback" not in done.stderr
        assert "interrupted; no output was written" in done.stderr


def test_a_signal_in_polars_code_refuses_the_final_rename() -> None:
    """Left to the watcher, the main thread runs on for up to a second: it must not commit."""
    polars_code = compile(
        "import sys\nframe = sys._getframe()", signals._NATIVE_CALLERS[0] + "x.py", "exec"
    )
    namespace: dict[str, object] = {}
    exec(polars_code, namespace)
    received = list(signals._received)
    try:
        signals._handler(signal.SIGTERM, namespace["frame"])
        assert scratch.stopping()
        # entering the commit is what raises: the block itself never runs
        with pytest.raises(scratch.StopRequested), scratch.committing():
            pass
        with pytest.raises(signals.Interrupted):
            signals._handler(signal.SIGTERM, sys._getframe())
    finally:
        scratch._stop.clear()
        signals._received[:] = received


def test_a_stop_raised_in_a_finaliser_is_not_printed_and_refuses_the_rename(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Ctrl-C that lands in Dask's ``Future.__del__`` cannot raise there: Python printed
    "Exception ignored in …" and the traceback, and the run went on as if never stopped."""
    monkeypatch.setattr(sys, "unraisablehook", signals._stop_in_a_finaliser(sys.unraisablehook))

    class Held:
        def __del__(self) -> None:
            raise signals.Interrupted(signal.SIGINT)

    try:
        Held()
        assert capsys.readouterr().err == ""
        assert scratch.stopping()
    finally:
        scratch._stop.clear()


def test_a_served_run_keeps_prefects_handler_as_it_is() -> None:
    """A flow run started by Prefect's runner has no watcher to stop a deferred signal, and the
    runner's cancellation checks that its own handler is the one installed."""
    from prefect.utilities.engine import capture_sigterm, is_prefect_sigterm_handler_installed

    assert not signals._installed  # pytest is not the command line
    with capture_sigterm(), signals.polars_frames_deferred():
        assert is_prefect_sigterm_handler_installed()


# The console script as pip writes it, with a Ctrl-C where its imports would still be running.
_CONSOLE_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from datavask.flows import signals  # imports the package first, as the console script does
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while typer, rich and the rest import
    import typer, rich  # noqa: F401
    print("not interrupted")
    """
)


def test_ctrl_c_while_the_command_starts_is_one_line_and_130(tmp_path: Path) -> None:
    """Before: a Ctrl-C in the command's first tenths of a second (its imports) printed a
    KeyboardInterrupt traceback from inside them; now the one line and 130, as later."""
    script = tmp_path / "datavask"  # the console script's name is what says "the command"
    script.write_text(_CONSOLE_SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 130, done.stderr
    assert (done.stderr, done.stdout) == ("interrupted; no output was written\n", "")


def test_a_program_importing_datavask_keeps_its_own_ctrl_c() -> None:
    """Only the command ends at once: a script (or a spawned worker handed the command's
    ``sys.argv``) importing datavask keeps Python's KeyboardInterrupt."""
    check = (
        "import datavask, signal; "
        "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"
    )
    for argv in (
        [sys.executable, "-c", check],
        [sys.executable, "-c", f"import sys; sys.argv = ['/x/bin/datavask']; {check}"],
    ):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert done.stdout.strip() == "True", done.stderr


def test_the_stop_line_is_said_once_whoever_says_it() -> None:
    """The main thread prints the stop line as it unwinds, and the watcher as it stops the run
    after the grace period: a Dask run whose workers took longer than that to shut down printed
    "interrupted; no output was written" twice (a CI run caught it)."""
    said: list[str] = []
    try:
        signals.announce(said.append)
        signals.announce(said.append)
        assert said == [signals.stop_message()]  # what on_stop asked for, else INTERRUPTED
    finally:
        signals._announced.clear()
