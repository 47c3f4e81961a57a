"""Dated run directories, the latest link, and retention that deletes only datavask's own runs."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from datavask.connectors.run_dirs import (
    LATEST,
    is_datavask_run,
    new_run_dir,
    point_latest,
    prune_runs,
)


def _run(root: Path, name: str, age_days: float = 0) -> Path:
    path = root / name
    path.mkdir(parents=True)
    (path / "run.json").write_text(json.dumps({"run_id": name, "datavask_version": "0.1.0"}))
    if age_days:
        then = time.time() - age_days * 86400
        os.utime(path, (then, then))
    return path


def test_run_dir_is_named_by_local_time_and_never_reused(tmp_path: Path) -> None:
    moment = datetime(2026, 3, 3, 2, 30, tzinfo=UTC)
    first = new_run_dir(tmp_path, "Europe/Copenhagen", now=moment)
    assert first.name == "20260303-033000"  # 03:30 in Copenhagen (UTC+1 in March before DST)
    first.mkdir()
    second = new_run_dir(tmp_path, "Europe/Copenhagen", now=moment)
    assert second.name == "20260303-033000-2"


def test_latest_is_replaced_atomically_and_never_missing(tmp_path: Path) -> None:
    runs = [_run(tmp_path, f"20260101-00000{i}") for i in range(3)]
    point_latest(tmp_path, runs[0])
    seen: list[bool] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.append((tmp_path / LATEST / "run.json").exists())

    reader = threading.Thread(target=read)
    reader.start()
    for _ in range(200):
        for run in runs:
            point_latest(tmp_path, run)
    stop.set()
    reader.join()
    assert seen and all(seen)
    assert os.readlink(tmp_path / LATEST) == runs[-1].name  # relative: the tree can be moved
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_retention_keeps_the_newest_and_never_touches_foreign_files(tmp_path: Path) -> None:
    runs = [_run(tmp_path, f"2026010{i}-030000") for i in range(1, 6)]
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "20260101-010101").mkdir()  # looks like a run but datavask did not write it
    (tmp_path / "20260101-010101" / "precious.csv").write_text("x")
    _run(tmp_path, "backup")  # a run.json, but not a dated run name
    point_latest(tmp_path, runs[-1])
    deleted = prune_runs(tmp_path, keep_runs=2, keep_days=None)
    assert sorted(p.name for p in deleted) == [r.name for r in runs[:3]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [LATEST, "notes.txt", "20260101-010101", "backup", runs[3].name, runs[4].name]
    )
    assert (tmp_path / "20260101-010101" / "precious.csv").exists()


def test_retention_by_age_and_by_count_keeps_what_either_keeps(tmp_path: Path) -> None:
    old = [_run(tmp_path, f"2026010{i}-030000", age_days=30) for i in range(1, 4)]
    new = _run(tmp_path, "20260201-030000", age_days=1)
    point_latest(tmp_path, new)
    assert prune_runs(tmp_path, keep_runs=None, keep_days=7) == old
    assert [p.name for p in tmp_path.iterdir() if is_datavask_run(p)] == [new.name]
    assert prune_runs(tmp_path, keep_runs=None, keep_days=None) == []


def test_the_run_latest_points_at_survives_retention(tmp_path: Path) -> None:
    runs = [_run(tmp_path, f"2026010{i}-030000") for i in range(1, 4)]
    point_latest(tmp_path, runs[0])  # e.g. a user pointed it back at an older run
    prune_runs(tmp_path, keep_runs=1, keep_days=None)
    assert runs[0].exists() and runs[2].exists() and not runs[1].exists()
