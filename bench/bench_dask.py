"""Single machine vs Dask: ``datavask cleanse`` at 1M and 5M generated rows, as users run it.

For each size the generated data set (``python -m bench.generate``, cached in ``--data``) is
cleansed twice, each time as a subprocess under ``/usr/bin/time -v``:

- ``--engine local``;
- ``--engine dask --dask-address …`` on a fresh 2-worker cluster started here (``LocalCluster``,
  one process and one thread per worker): the driver's peak is the subprocess's, each worker's peak
  and the bytes it sent to other workers come from the worker itself (``client.run``).

Prints one Markdown row per run — wall time, driver and worker peaks, bytes moved between workers,
seconds per step (run.json's ``timings``; "rest" is the write step, start-up and the
cluster's start) and the load average — and appends them as JSON lines
to ``--out``/results.jsonl. Both runs' outputs are compared (records, golden, pairs, changes).

    .venv/bin/python -m bench.bench_dask --rows 1000000 --data /tmp/dask-bench
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SEED = 2026
STEPS = ("read", "normalise", "registry", "match", "verdict")  # run.json has no write timing


def dataset(rows: int, data: Path) -> Path:
    """The generated data set of ``rows`` rows, generated once."""
    where = data / f"rows-{rows}"
    if not (where / "registry.jsonl.gz").exists():
        command = [sys.executable, "-m", "bench.generate", "--rows", str(rows), "--seed", str(SEED)]
        subprocess.run([*command, "--out", str(where)], check=True)
    return where


def timed_cleanse(where: Path, out: Path, home: Path, *extra: str) -> dict[str, Any]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one ``datavask cleanse``, and its timings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DATAVASK_"))}
    env.update(DATAVASK_HOME=str(home), DATAVASK_ORCHESTRATION="none")
    command = [
        "/usr/bin/time", "-v", sys.executable, "-m", "datavask", "cleanse",
        str(where / "customers.csv"), "--registry", str(where / "registry.jsonl.gz"),
        "--out", str(out), *extra,
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"cleanse failed ({done.returncode}): {done.stdout[-1500:]}{done.stderr[-1500:]}"
        )
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    cpu = [float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr)]
    assert rss and len(cpu) == 2, done.stderr[-2000:]
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return {
        "wall_s": round(wall, 1),
        "driver_cpu_s": round(sum(cpu), 1),
        "driver_peak_mb": int(rss.group(1)) // 1024,
        "steps_s": {s: run["timings"].get(s) for s in STEPS},
    }


def _worker_stats(dask_worker: Any) -> dict[str, int]:
    import resource

    return {
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "sent_bytes": int(dask_worker.transfer_outgoing_bytes_total),
    }


def dask_run(where: Path, out: Path, home: Path, workers: int) -> dict[str, Any]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, memory_limit=0,
        ) as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        result = timed_cleanse(
            where, out, home, "--engine", "dask", "--dask-address", cluster.scheduler_address
        )
        stats = client.run(_worker_stats)
    result["workers"] = [stats[w] for w in sorted(stats)]
    return result


def same_outputs(a: Path, b: Path) -> bool:
    import polars as pl

    for name in ("records.parquet", "golden.parquet", "pairs.parquet"):
        if not pl.read_parquet(a / name).equals(pl.read_parquet(b / name)):
            return False
    return (a / "changes.csv").read_bytes() == (b / "changes.csv").read_bytes()


def row(rows: int, engine: str, result: dict[str, Any]) -> str:
    seconds = [result["steps_s"][s] or 0.0 for s in STEPS]
    rest = result["wall_s"] - sum(seconds)  # write, start-up and (dask) the cluster's start
    steps = " / ".join(f"{x:.0f}" for x in [*seconds, rest])
    workers = ", ".join(f"{w['peak_mb']:,} MB" for w in result.get("workers", [])) or "—"
    sent = sum(w["sent_bytes"] for w in result.get("workers", []))
    return (
        f"| {rows:,} | {engine} | {result['wall_s']:.0f} s | {result['driver_peak_mb']:,} MB | "
        f"{workers} | {sent / 1e6:,.0f} MB | {steps} | {result['load']:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--engines", nargs="+", default=["local", "dask"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", type=Path, default=Path("/tmp/datavask-bench-dask"))
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    print("| rows | engine | wall | driver peak | worker peaks | sent between workers | "
          "read / normalise / registry / match / verdict / rest (s) | load |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for rows in args.rows:
        where = dataset(rows, args.data)
        outs = {}
        for engine in args.engines:
            out = args.data / f"out-{rows}-{engine}"
            subprocess.run(["rm", "-rf", str(out)], check=True)
            home = args.data / "home"
            if engine == "dask":
                result = dask_run(where, out, home, args.workers)
            else:
                result = timed_cleanse(where, out, home)
            result |= {"rows": rows, "engine": engine, "load": os.getloadavg()[0]}
            outs[engine] = out
            print(row(rows, engine, result), flush=True)
            with (args.data / "results.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(result) + "\n")
        if len(outs) == 2:
            print(f"outputs identical at {rows:,} rows: {same_outputs(*outs.values())}")


if __name__ == "__main__":
    main()
