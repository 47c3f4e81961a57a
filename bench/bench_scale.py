"""``datavask cleanse`` at scale (1M generated Danish rows) as users run it: wall, steps, peak RSS.

Runs the command as a subprocess under ``/usr/bin/time -v`` with its own ``DATAVASK_HOME``: the
first run of each round with a fresh home (the registry snapshot is parsed and cached), then a
repeat with the same home (the cache is used). Reports per run the wall and CPU seconds, the peak
RSS, every step's seconds from ``run.json`` (the write step split into its files) and the load
average, and writes them as JSON to ``bench/out/``. Without ``--input`` it generates (and caches
in ``bench/.cache/``) ``--rows`` rows with ``--seed``.

    .venv/bin/python -m bench.bench_scale --input /work/gen1m/customers.csv \\
        --registry /work/gen1m/registry.jsonl.gz --rounds 1
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent


def timed_cleanse(
    input_path: Path, registry: str, home: Path, out: Path, workers: int
) -> dict[str, Any]:
    """One ``datavask cleanse`` subprocess: wall and CPU seconds, peak RSS, run.json's timings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DATAVASK_"))}
    env.update(DATAVASK_HOME=str(home), PREFECT_HOME=str(home / "prefect-home"))
    command = [
        "/usr/bin/time", "-v", sys.executable, "-m", "datavask", "cleanse", str(input_path),
        "--registry", registry, "--out", str(out), "--workers", str(workers),
    ]  # fmt: skip
    load_before = os.getloadavg()[0]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"datavask cleanse failed ({done.returncode}): {done.stderr[-2000:]}")
    measured = _time_v(done.stderr)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    steps = {k: v for k, v in run["timings"].items() if k != "total_before_write"}
    write_parts = run.get("steps", {}).get("write", {}).get("seconds", {})
    if write_parts:
        steps["write"] = round(sum(write_parts.values()), 3)
    return measured | {
        "steps": steps,
        "write_parts": write_parts,
        "load_before": round(load_before, 1),
        "load_after": round(os.getloadavg()[0], 1),
        "records": run["counts"]["records"],
        "customers": run["counts"]["customers"],
    }


def _time_v(stderr: str) -> dict[str, Any]:
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    cpu = [float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", stderr)]
    if not (wall and rss and len(cpu) == 2):
        raise SystemExit(f"cannot read /usr/bin/time's report: {stderr[-2000:]}")
    hours, minutes, seconds = wall.groups()
    return {
        "wall_s": round(int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds), 2),
        "cpu_s": round(sum(cpu), 2),
        "peak_rss_gb": round(int(rss.group(1)) / 1024**2, 2),
    }


def _generated(rows: int, seed: int) -> tuple[Path, str]:
    """``customers.csv`` and ``registry.jsonl.gz`` of ``bench.generate`` (cached by arguments)."""
    out = BENCH / ".cache" / f"scale-{rows}-{seed}"
    if not (out / "customers.csv").exists():
        subprocess.run(
            [sys.executable, "-m", "bench.generate", "--rows", str(rows), "--seed", str(seed),
             "--out", str(out)],
            check=True,
        )  # fmt: skip
    return out / "customers.csv", str(out / "registry.jsonl.gz")


def _print(label: str, result: dict[str, Any]) -> None:
    steps = ", ".join(f"{k} {v:.1f}" for k, v in result["steps"].items())
    print(
        f"{label}: {result['wall_s']:.1f} s wall, {result['cpu_s']:.1f} s CPU, "
        f"{result['peak_rss_gb']:.2f} GB peak; steps: {steps}; "
        f"load {result['load_before']}→{result['load_after']}"
    )
    if result["write_parts"]:
        parts = ", ".join(f"{k} {v:.1f}" for k, v in result["write_parts"].items())
        print(f"    write: {parts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, help="customer file (default: generate --rows)")
    parser.add_argument("--registry", help="registry snapshot (default: the generated one)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0, help="--workers of datavask (0 = all)")
    parser.add_argument("--no-repeat", action="store_true", help="only the first (fresh) run")
    args = parser.parse_args()
    if args.input is None:
        args.input, generated_registry = _generated(args.rows, args.seed)
        args.registry = args.registry or generated_registry
    registry = args.registry or "none"
    results = []
    for n in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="datavask-scale-") as tmp:
            home = Path(tmp) / "home"
            first = timed_cleanse(args.input, registry, home, Path(tmp) / "first", args.workers)
            _print(f"round {n + 1} first run", first)
            results.append({"round": n + 1, "run": "first"} | first)
            if not args.no_repeat:
                again = timed_cleanse(
                    args.input, registry, home, Path(tmp) / "repeat", args.workers
                )
                _print(f"round {n + 1} repeat", again)
                results.append({"round": n + 1, "run": "repeat"} | again)
    target = BENCH / "out" / f"bench_scale-{time.strftime('%Y%m%d-%H%M%S')}.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text(
        json.dumps({"input": str(args.input), "registry": registry, "runs": results}, indent=1),
        encoding="utf-8",
    )
    print(f"-> {target}")


if __name__ == "__main__":
    main()
