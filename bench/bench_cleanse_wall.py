"""Wall time of a one-off ``datavask cleanse`` on the bundled sample, as a user gets it.

Each round uses a fresh ``DATAVASK_HOME`` (no caches, no server) and runs the command twice under
``/usr/bin/time -v``: the first run ever, then a repeat. No Prefect server is configured, so this
measures the default path of a person at a terminal. Prints every round and the medians.

    .venv/bin/python bench/bench_cleanse_wall.py --rounds 5
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample" / "customers.csv"


def timed_cleanse(home: Path, out: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak RSS in MB) of one ``datavask cleanse`` subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DATAVASK_"))}
    env.update(DATAVASK_HOME=str(home), PREFECT_HOME=str(home / "prefect-home"))
    done = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-m", "datavask", "cleanse", str(SAMPLE),
         "--out", str(out)],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    cpu = [float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr)]
    assert wall and rss and len(cpu) == 2, done.stderr[-2000:]
    hours, minutes, seconds = wall.groups()
    wall_s = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    return wall_s, sum(cpu), int(rss.group(1)) // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    first: list[tuple[float, float]] = []
    repeat: list[tuple[float, float]] = []
    for n in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="datavask-wall-") as tmp:
            home = Path(tmp) / "home"
            wall1, cpu1, rss1 = timed_cleanse(home, Path(tmp) / "first")
            wall2, cpu2, rss2 = timed_cleanse(home, Path(tmp) / "repeat")
        first.append((wall1, cpu1))
        repeat.append((wall2, cpu2))
        load = os.getloadavg()[0]
        print(f"round {n + 1}: first {wall1:.2f} s wall / {cpu1:.2f} s CPU ({rss1} MB), "
              f"repeat {wall2:.2f} s / {cpu2:.2f} s ({rss2} MB), load {load:.1f}")  # fmt: skip
    for label, runs in (("first", first), ("repeat", repeat)):
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"median {label}: {wall:.2f} s wall, {cpu:.2f} s CPU (user + system)")


if __name__ == "__main__":
    main()
