"""Ctrl-C and SIGTERM stop a run within about two seconds, leaving no output and no scratch.

Python runs signal handlers in the main thread between bytecodes, so a signal that arrives while
polars or a Prefect task is busy in native code waits until that call returns — tens of seconds on
a large file. So the command line listens twice:

- the usual handler raises :class:`Interrupted` in the main thread; finally blocks remove the
  work and partial output directories, the command exits 130 (SIGINT) or 143 (SIGTERM);
- a watcher thread is woken by the same signal through :func:`signal.set_wakeup_fd`. If the main
  thread has not finished unwinding after :data:`GRACE_S`, it stops the run itself: nothing more is
  renamed into place, this process's scratch directories are removed, and the process exits with
  the same status.

A second Ctrl-C does not wait for the grace period.

A signal that lands while polars' Rust code is calling back into polars' own Python code (it builds
``Field`` and dtype objects that way) must not raise there: the exception meets an ``unwrap`` in
Rust, which panics and prints its stack backtrace to the user's terminal. When the interrupted frame
is polars' own, the handler only refuses further renames and leaves the stop to the watcher.
Prefect's flow engine installs its own SIGTERM handler for the run (it raises ``TerminationSignal``
wherever the main thread is); :func:`polars_frames_deferred` puts the same rule in front of it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Final

from datavask.connectors.scratch import refuse_commits, request_stop

GRACE_S = 1.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_received: list[int] = []
_installed: list[bool] = []
INTERRUPTED: Final = "interrupted; no output was written"
_stop_messages: list[Callable[[], str]] = []


def _package_dirs(*names: str) -> tuple[str, ...]:
    dirs = []
    for name in names:
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec else []:
            dirs.append(os.path.join(location, ""))
    return tuple(dirs)


# where the interrupted frame must not raise (it may have been called from Rust)
_NATIVE_CALLERS = _package_dirs("polars")
# the standard library's own frames, which polars' code calls in turn (``isinstance`` on an ABC)
_STDLIB = (os.path.join(os.path.dirname(os.__file__), ""), "<frozen ")


def _in_native_callback(frame: FrameType | None) -> bool:
    """Whether ``frame`` is polars' code, or the standard library's called from it (a CI run
    caught ``abc.__instancecheck__`` under polars' ``Struct.__init__``, called from Rust)."""
    while frame is not None and frame.f_code.co_filename.startswith(_STDLIB):
        frame = frame.f_back
    return frame is not None and frame.f_code.co_filename.startswith(_NATIVE_CALLERS)


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived; ``exit_code`` is 128 + its number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum


def on_stop(message: Callable[[], str]) -> None:
    """What a stop says instead of :data:`INTERRUPTED`, for a command that writes as it goes:
    ``datavask review`` has saved every decision made before the stop ("review stopped; 3
    decisions saved in …"). ``message`` is called when the stop is printed, from whichever
    thread prints it."""
    _stop_messages[:] = [message]


def stop_message() -> str:
    """The line a stop prints: :data:`INTERRUPTED`, or what :func:`on_stop` asked for."""
    if _stop_messages:
        with contextlib.suppress(Exception):  # the stop is printed whatever the message does
            return _stop_messages[0]()
    return INTERRUPTED


_announced: list[bool] = []
_announcing = threading.Lock()


def announce(write: Callable[[str], object]) -> None:
    """``write`` the stop line, unless it has been written: the main thread says it as it
    unwinds and the watcher as it stops the run, and a main thread still unwinding when the
    grace period ran out (a Dask cluster's workers shutting down) had it printed twice. Written
    under a lock, so that the watcher's exit waits for a line the main thread is printing."""
    with _announcing:
        if _announced:
            return
        _announced.append(True)
        with contextlib.suppress(Exception):  # the stop goes on whatever printing does
            write(stop_message())


def received() -> int | None:
    """The first stop signal this process received, if any."""
    return _received[0] if _received else None


def exit_code() -> int:
    """The exit status for the signal received (130 when none was recorded: a plain Ctrl-C)."""
    return 128 + (received() or signal.SIGINT)


def exit_now() -> None:
    """Exit with the signal's status without the interpreter's clean-up.

    After a large run, collecting the heap at exit takes seconds; an interrupted run has nothing
    left worth flushing.
    """
    request_stop()  # whatever a clean-up cut short by the signal left
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(exit_code())


def _deferred(signum: int, frame: FrameType | None) -> bool:
    """Record ``signum``; True when ``frame`` must not raise, so the watcher stops the run."""
    _received.append(signum)
    if _in_native_callback(frame):
        refuse_commits()  # the watcher stops the run after GRACE_S
        return True
    return False


def _handler(signum: int, frame: FrameType | None) -> None:
    if not _deferred(signum, frame):
        raise Interrupted(signum)


@contextlib.contextmanager
def polars_frames_deferred() -> Iterator[None]:
    """While inside, a SIGTERM handler installed by someone else (Prefect's flow engine) is not
    called in polars' own frames: the signal is recorded and the watcher stops the run.

    Only in a process that :func:`install`-ed the watcher (the command line): without it nothing
    would stop a deferred run, so a served flow run keeps Prefect's handler as it is.
    """
    outer = signal.getsignal(signal.SIGTERM)
    if (
        not _installed
        or threading.current_thread() is not threading.main_thread()
        or outer is _handler
        or not callable(outer)
    ):
        yield
        return
    call_outer: Callable[[int, FrameType | None], object] = outer

    def guarded(signum: int, frame: FrameType | None) -> None:
        if not _deferred(signum, frame):
            call_outer(signum, frame)

    signal.signal(signal.SIGTERM, guarded)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGTERM) is guarded:
            signal.signal(signal.SIGTERM, outer)


def _stop_in_a_finaliser(
    outer: Callable[[sys.UnraisableHookArgs], object],
) -> Callable[[sys.UnraisableHookArgs], None]:
    """An unraisable-exception hook for :class:`Interrupted` raised where Python cannot raise
    it: in a finaliser the main thread was running (Dask's ``Future.__del__``). Python printed
    "Exception ignored in: <function Future.__del__ …>" and its traceback above "interrupted;
    no output was written". The stop is left to the watcher, as in polars' frames: nothing more
    is renamed into place."""

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if isinstance(unraisable.exc_value, Interrupted):
            refuse_commits()  # the watcher stops the run after GRACE_S
            return
        outer(unraisable)

    return hook


def install() -> None:
    """Install both listeners; call once from the main thread before any work starts."""
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    sys.unraisablehook = _stop_in_a_finaliser(sys.unraisablehook)
    for signum in STOP_SIGNALS:
        signal.signal(signum, _handler)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    watcher = threading.Thread(
        target=_watch, args=(reader, writer), name="datavask-stop", daemon=True
    )
    watcher.start()
    _installed.append(True)


def _watch(reader: socket.socket, writer: socket.socket) -> None:
    # ``writer`` is passed along only to keep it open for as long as the watcher lives.
    while True:
        signum = reader.recv(1)[0]
        if signum not in STOP_SIGNALS:
            continue
        if not _received:
            _received.append(signum)
        reader.settimeout(GRACE_S)
        with contextlib.suppress(TimeoutError):
            while reader.recv(1)[0] not in STOP_SIGNALS:  # a second Ctrl-C: stop at once
                pass
        _stop_now()


def _stop_now() -> None:
    request_stop()
    announce(lambda line: os.write(sys.stderr.fileno(), f"\n{line}\n".encode()))
    os._exit(exit_code())
