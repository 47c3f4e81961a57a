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


def timed_cleanse(home: Path, out: Path) -> tuple[float, int]:
    """(wall seconds, peak RSS in MB) of one ``datavask cleanse`` subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DATAVASK_"))}
    env.update(DATAVASK_HOME=str(home), PREFECT_HOME=str(home / "prefect-home"))
    done = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-m", "datavask", "cleanse", str(SAMPLE),
         "--out", str(out)],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    assert wall and rss, done.stderr[-2000:]
    hours, minutes, seconds = wall.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds), int(rss.group(1)) // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    first, repeat = [], []
    for n in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="datavask-wall-") as tmp:
            home = Path(tmp) / "home"
            wall1, rss1 = timed_cleanse(home, Path(tmp) / "first")
            wall2, rss2 = timed_cleanse(home, Path(tmp) / "repeat")
        first.append(wall1)
        repeat.append(wall2)
        load = os.getloadavg()[0]
        print(f"round {n + 1}: first {wall1:.2f} s ({rss1} MB), repeat {wall2:.2f} s ({rss2} MB), "
              f"load {load:.1f}")  # fmt: skip
    print(f"median: first {statistics.median(first):.2f} s, repeat {statistics.median(repeat):.2f} s")


if __name__ == "__main__":
    main()
