"""Scratch directories: removed when their process is gone, never while it lives, never a user's."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from datavask.connectors import scratch
from datavask.connectors.output import remove_stale_partials

HOLD = """
import sys, time
from pathlib import Path
from datavask.connectors.scratch import owned_dir
with owned_dir(Path(sys.argv[1]), "datavask-work-") as path:
    (path / "canonical.parquet").write_bytes(b"PAR1")
    print(path, flush=True)
    time.sleep(600)
"""


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_owned_dir_is_removed_when_its_block_ends(tmp_path: Path) -> None:
    with scratch.owned_dir(tmp_path, "datavask-work-") as path:
        (path / "data.parquet").write_bytes(b"x")
        assert scratch.remove_stale(tmp_path, "datavask-work-*") == []  # our own, alive
    assert not path.exists()


def test_a_killed_owners_directory_is_removed_a_live_ones_kept(tmp_path: Path) -> None:
    command = [sys.executable, "-c", HOLD, str(tmp_path)]
    holders = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        paths = [Path(h.stdout.readline().strip()) for h in holders]  # type: ignore[union-attr]
        holders[0].kill()
        holders[0].wait(timeout=30)
        assert paths[0].exists()  # kill -9 leaves it
        assert scratch.remove_stale(tmp_path, "datavask-work-*") == [paths[0]]
        assert not paths[0].exists() and paths[1].exists()
    finally:
        for holder in holders:
            holder.kill()
            holder.communicate(timeout=30)


def test_unlocked_directories_are_removed_only_when_old_and_recognised(tmp_path: Path) -> None:
    legacy = tmp_path / ".run.partial-1a2b3c4d"  # an older datavask's half-written output
    legacy.mkdir()
    (legacy / "records.parquet").write_bytes(b"x")
    (legacy / "reimport").mkdir()
    theirs = tmp_path / ".thesis.partial-2024"  # someone else's, matching the pattern
    theirs.mkdir()
    (theirs / "chapter1.docx").write_bytes(b"years of work")
    fresh = tmp_path / ".new.partial-00000000"  # just created by a run about to lock it
    fresh.mkdir()
    for path in (legacy, theirs):
        _age(path, 2 * scratch.UNLOCKED_MAX_AGE_S)
    removed = remove_stale_partials(tmp_path / "run")
    assert removed == [legacy]
    assert (theirs / "chapter1.docx").exists() and fresh.exists()


def test_after_a_stop_nothing_is_committed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scratch, "_stop", type(scratch._stop)())
    with scratch.committing():
        pass
    scratch.request_stop()
    with pytest.raises(scratch.StopRequested), scratch.committing():
        raise AssertionError("the block must not run")
