"""Scratch directories owned by a live process, and the removal of those whose owner is gone.

A run writes its intermediate Parquet files into ``$TMPDIR/datavask-work-*`` and its output into a
hidden ``.<out>.partial-*`` sibling of ``--out``. A run killed with ``kill -9`` cannot remove
them, and the work directory may hold unmasked input. So each such directory carries a lock file
that its process holds (``flock``) for as long as it lives: the kernel releases the lock when the
process dies, however it dies, and the next run removes every directory whose lock it can take —
never one whose owner is still running (another terminal's run, another user's job).

A directory without the lock file (left by a datavask that predates it) is removed only when it is
an hour old and the caller recognises it as datavask's (``legacy``): a folder of someone else's that
happens to match the name pattern is never touched.

:func:`stopping` and :func:`committing` let a signal handler and the final rename agree: once a
stop is requested nothing is renamed into place, and a rename under way is finished first.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

LOCK_NAME = ".datavask-owner"
WORK_PREFIX = "datavask-work-"
UNLOCKED_MAX_AGE_S = 3600.0

_live: set[Path] = set()
_live_guard = threading.Lock()
_commit = threading.Lock()
_stop = threading.Event()


class StopRequested(RuntimeError):
    """A stop signal arrived before the output was renamed into place."""


@contextlib.contextmanager
def owned_dir(parent: Path, prefix: str, *, private: bool = True) -> Iterator[Path]:
    """A new directory ``parent/prefix*`` locked by this process; removed when the block ends.

    ``private`` directories are readable by their owner only (the work directory holds input
    data); others get the usual permissions (the output directory is renamed into place).
    """
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent)) if private else _mkdir(parent, prefix)
    fd = os.open(path / LOCK_NAME, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, f"{os.getpid()}\n".encode())
        with _live_guard:
            _live.add(path)
        yield path
    finally:
        _remove(path)  # before forgetting it: a stop arriving now removes it again
        with _live_guard:
            _live.discard(path)
        os.close(fd)


def _mkdir(parent: Path, prefix: str) -> Path:
    while True:
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path


def work_dir() -> contextlib.AbstractContextManager[Path]:
    """The run's private work directory under the system's temp directory."""
    return owned_dir(Path(tempfile.gettempdir()), WORK_PREFIX)


def remove_stale_work_dirs() -> list[Path]:
    """Work directories of runs that were killed (the ``datavask-work-`` prefix is ours alone)."""
    return remove_stale(Path(tempfile.gettempdir()), f"{WORK_PREFIX}*", legacy=lambda _: True)


def remove_stale(
    parent: Path, pattern: str, *, legacy: Callable[[Path], bool] = lambda _: False
) -> list[Path]:
    """Remove the directories ``parent/pattern`` whose owning process is gone; returns them.

    ``legacy`` says whether a directory without a lock file is datavask's (see the module doc).
    """
    removed: list[Path] = []
    try:
        candidates = sorted(parent.glob(pattern))
    except OSError:
        return removed
    for path in candidates:
        if path.is_dir() and not path.is_symlink() and _remove_if_stale(path, legacy):
            removed.append(path)
    return removed


def _remove_if_stale(path: Path, legacy: Callable[[Path], bool]) -> bool:
    try:
        fd = os.open(path / LOCK_NAME, os.O_RDONLY)
    except FileNotFoundError:
        try:
            old = time.time() - path.stat().st_mtime > UNLOCKED_MAX_AGE_S and legacy(path)
        except OSError:
            return False
        if old:
            _remove(path)
        return old
    except OSError:
        return False  # not ours to judge (another user's, unreadable)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # its owner is alive
        _remove(path)
        return True
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    # polars' threads may still be finishing a file after a stop interrupted the step: try again.
    for pause in (0.0, 0.05, 0.1, 0.2, 0.4):
        time.sleep(pause)
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return


def request_stop() -> None:
    """Stop for good: nothing more is renamed into place; this process's scratch is removed.

    Waits for a rename under way (:func:`committing`) so the output is whole or absent.
    """
    _stop.set()
    with _commit:
        with _live_guard:
            live = list(_live)
        for path in live:
            _remove(path)


def refuse_commits() -> None:
    """Nothing more is renamed into place; safe to call from a signal handler (takes no lock)."""
    _stop.set()


def stopping() -> bool:
    return _stop.is_set()


@contextlib.contextmanager
def committing() -> Iterator[None]:
    """Hold while renaming results into place; raises :class:`StopRequested` after a stop."""
    with _commit:
        if _stop.is_set():
            raise StopRequested("stopped before the output was written")
        yield
