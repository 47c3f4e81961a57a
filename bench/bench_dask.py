"""Single machine vs Dask: ``datavask cleanse`` at 1M and 5M generated rows, as users run it.

For each size the generated data set (``python -m bench.generate``, cached in ``--data``) is
cleansed twice, each time as a subprocess under ``/usr/bin/time -v``:

- ``--engine local``;
- ``--engine dask --dask-address …`` on a fresh 2-worker cluster started here (``LocalCluster``,
  one process and one thread per worker, no memory limit): the driver's peak and CPU are the
  subprocess's, each worker's peak RSS and CPU seconds and the bytes it sent to other workers come
  from the worker itself (``client.run``); a scheduler plugin counts the tasks that finished and
  their compute seconds per stage (the stage in the engine's key, ``datavask-<stage>-<i>-<run>``,
  without what follows its first digit: ``mccask1h.2`` counts as ``mccask``).

A run whose processes together pass ``--memory-cap`` GB of resident memory (default 22, of this
machine's 24) is stopped and reported as not fitting, with the memory and time it had reached:
that is how "the 5M local run does not fit" is measured rather than claimed.

Prints one Markdown row per run — wall time, CPU seconds, driver and worker peaks, bytes moved
between workers, seconds per step (run.json's ``timings``; "rest" is the write step, start-up and
the cluster's start) and the load average — appends them as JSON lines to ``--data``/results.jsonl,
compares both runs' outputs with :mod:`bench.compare_runs`, and, given two sizes, how each step's
seconds grew from the smaller to the larger.

    .venv/bin/python -m bench.bench_dask --rows 1000000 5000000 --data /tmp/dask-bench
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

SEED = 2026
PARTITION_ROWS: list[int] = []  # --partition-rows, when given
STEPS = ("read", "normalise", "registry", "match", "verdict")  # run.json has no write timing
# The progress lines a step prints when it is done (``Reading input (0.1 s)``), in step order.
PROGRESS = {
    "read": "Reading input",
    "normalise": "Normalising",
    "registry": "Checking the CVR registry",
    "match": "Finding duplicates",
    "verdict": "Deciding flags",
    "write": "Writing outputs",
}


def step_reached(stderr: str) -> str:
    """The step a stopped run was in: the first whose progress line (on standard error) does not
    say it finished (a run without a terminal prints each when it is done); "unknown" when it
    printed none."""
    if not any(label in stderr for label in PROGRESS.values()):
        return "unknown"
    for step, label in PROGRESS.items():
        if not re.search(rf"{re.escape(label)}[^\n]*\([\d.,]+ s\)", stderr):
            return step
    return "after write"


COLUMNS = (
    "| rows | engine | wall | CPU driver / workers | driver peak | worker peaks | sent between "
    "workers | read / normalise / registry / match / verdict / rest (s) | load |"
)


def dataset(rows: int, data: Path) -> Path:
    """The generated data set of ``rows`` rows, generated once."""
    where = data / f"rows-{rows}"
    if not (where / "registry.jsonl.gz").exists():
        command = [sys.executable, "-m", "bench.generate", "--rows", str(rows), "--seed", str(SEED)]
        subprocess.run([*command, "--out", str(where)], check=True)
    return where


def _tree_rss(pid: int, also: list[int]) -> int:
    """Resident bytes of ``pid``, its descendants and the processes ``also`` (the workers)."""
    import psutil

    total = 0
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        procs = []
    for p in [*procs, *(psutil.Process(a) for a in also if psutil.pid_exists(a))]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def stop(pid: int) -> None:
    """SIGTERM to the cleanse under ``/usr/bin/time`` (its own handling removes its files): time
    itself does not pass the signal on, and a cleanse left running keeps its memory and the
    workers busy."""
    import psutil

    try:
        targets = psutil.Process(pid).children(recursive=True) or [psutil.Process(pid)]
    except psutil.NoSuchProcess:
        return
    for target in targets:
        with contextlib.suppress(psutil.NoSuchProcess):
            target.terminate()


def timed_cleanse(
    where: Path, out: Path, home: Path, *extra: str, cap_gb: float, workers: list[int]
) -> dict[str, Any]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one ``datavask cleanse``, and its timings;
    ``{"did_not_fit": …}`` when it and ``workers`` passed ``cap_gb`` together."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DATAVASK_"))}
    env.update(DATAVASK_HOME=str(home), DATAVASK_ORCHESTRATION="none")
    if PARTITION_ROWS:  # --partition-rows: the user's dask_partition_rows setting
        env["DATAVASK_DASK_PARTITION_ROWS"] = str(PARTITION_ROWS[0])
    command = [
        "/usr/bin/time", "-v", sys.executable, "-m", "datavask", "cleanse",
        str(where / "customers.csv"), "--registry", str(where / "registry.jsonl.gz"),
        "--out", str(out), *extra,
    ]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    peak: dict[str, Any] = {"bytes": 0, "others": 0, "stopped": False, "timeline": []}

    def watch() -> None:
        import psutil

        while process.poll() is None:
            rss = _tree_rss(process.pid, workers)
            memory = psutil.virtual_memory()
            if rss > peak["bytes"]:  # what the rest of the machine held at the run's peak
                peak["bytes"], peak["others"] = rss, memory.total - memory.available - rss
            seconds = time.perf_counter() - started
            if not peak["timeline"] or seconds - peak["timeline"][-1][0] >= 30:
                peak["timeline"].append((round(seconds), round(rss / 2**30, 2)))
            if rss > cap_gb * 2**30:
                peak["stopped"] = True
                stop(process.pid)
                return
            time.sleep(1.0)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    stdout, stderr = process.communicate()
    watcher.join()
    wall = time.perf_counter() - started
    # The kernel's OOM killer may stop the run before the cap does, when other processes hold
    # the rest of the machine: that too is a run that did not fit, with what the others held.
    killed = "Command terminated by signal 9" in stderr
    if peak["stopped"] or killed:
        return {"did_not_fit": True, "wall_s": round(wall, 1),
                "stopped_by": "the cap" if peak["stopped"] else "the kernel (out of memory)",
                "reached_gb": round(peak["bytes"] / 2**30, 1),
                "others_gb": round(peak["others"] / 2**30, 1),
                "step_reached": step_reached(stderr),
                "rss_timeline": peak["timeline"]}  # fmt: skip
    if process.returncode != 0:
        raise SystemExit(f"cleanse failed ({process.returncode}): {stdout[-1500:]}{stderr[-1500:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    cpu = [float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", stderr)]
    assert rss and len(cpu) == 2, stderr[-2000:]
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return {
        "wall_s": round(wall, 1),
        "driver_cpu_s": round(sum(cpu), 1),
        "driver_peak_mb": int(rss.group(1)) // 1024,
        "all_processes_peak_gb": round(peak["bytes"] / 2**30, 2),
        "steps_s": {s: run["timings"].get(s) for s in STEPS},
        "write_s": run["steps"].get("write", {}).get("seconds"),
        "engine": run.get("engine"),
    }


def _worker_stats(dask_worker: Any) -> dict[str, Any]:
    import os
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "pid": os.getpid(),
        "peak_mb": usage.ru_maxrss // 1024,
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "sent_bytes": int(dask_worker.transfer_outgoing_bytes_total),
    }


TASK_COUNTER = "bench-task-counter"


def task_counter() -> Any:
    """A scheduler plugin: per stage, how many tasks finished and their compute seconds."""
    from distributed.diagnostics.plugin import SchedulerPlugin

    class TaskCounter(SchedulerPlugin):
        name = TASK_COUNTER

        def __init__(self) -> None:
            self.count: dict[str, int] = {}
            self.seconds: dict[str, float] = {}

        def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
            if start != "processing" or finish != "memory":
                return
            words = str(key).split("-")
            word = words[1] if words[0] == "datavask" and len(words) > 1 else words[0]
            stage = re.sub(r"[0-9].*", "", word)  # mccask1h.2 -> mccask
            self.count[stage] = self.count.get(stage, 0) + 1
            for span in kwargs.get("startstops", ()):
                if span.get("action") == "compute":
                    seconds = span["stop"] - span["start"]
                    self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    return TaskCounter()


def _counted(dask_scheduler: Any) -> dict[str, Any]:
    plugin = dask_scheduler.plugins[TASK_COUNTER]
    return {"count": dict(plugin.count), "seconds": dict(plugin.seconds)}


def tasks_line(tasks: dict[str, Any]) -> str:
    """The tasks' total and the stages that took most compute seconds."""
    top = sorted(tasks["seconds"].items(), key=lambda kv: -kv[1])[:12]
    stages = ", ".join(f"{s} {tasks['count'].get(s, 0)}×{v:.1f}s" for s, v in top)
    return f"tasks: {sum(tasks['count'].values()):,}; compute seconds by stage: {stages}"


def dask_run(where: Path, out: Path, home: Path, workers: int, cap_gb: float) -> dict[str, Any]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, memory_limit=0,
        ) as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        cluster.scheduler.add_plugin(task_counter())  # in this process: a LocalCluster's
        before = client.run(_worker_stats)  # a worker's CPU before the run: its start-up
        pids = [s["pid"] for s in before.values()]
        result = timed_cleanse(
            where, out, home, "--engine", "dask", "--dask-address", cluster.scheduler_address,
            cap_gb=cap_gb, workers=pids,
        )  # fmt: skip
        stats = client.run(_worker_stats)
        result["tasks"] = client.run_on_scheduler(_counted)
    for w, s in stats.items():
        s["cpu_s"] = round(s["cpu_s"] - before[w]["cpu_s"], 1)
    result["workers"] = [stats[w] for w in sorted(stats)]
    return result


def row(rows: int, engine: str, result: dict[str, Any]) -> str:
    if result.get("did_not_fit"):
        return (
            f"| {rows:,} | {engine} | stopped by {result.get('stopped_by', 'the cap')} after "
            f"{result['wall_s']:.0f} s in {result.get('step_reached', '?')}: "
            f"{result['reached_gb']} GB (other processes {result.get('others_gb', '?')} GB) "
            f"| | | | | | {result['load']:.1f} |"
        )
    seconds = [result["steps_s"][s] or 0.0 for s in STEPS]
    rest = result["wall_s"] - sum(seconds)  # write, start-up and (dask) the cluster's start
    steps = " / ".join(f"{x:.0f}" for x in [*seconds, rest])
    workers = result.get("workers", [])
    peaks = ", ".join(f"{w['peak_mb']:,} MB" for w in workers) or "—"
    cpu = f"{result['driver_cpu_s']:.0f} s"
    if workers:
        cpu += " / " + ", ".join(f"{w['cpu_s']:.0f} s" for w in workers)
    sent = f"{sum(w['sent_bytes'] for w in workers) / 1e6:,.1f} MB" if workers else "—"
    return (
        f"| {rows:,} | {engine} | {result['wall_s']:.0f} s | {cpu} | "
        f"{result['driver_peak_mb']:,} MB | {peaks} | {sent} | {steps} | "
        f"{result['load']:.1f} |"
    )


def growth(results: dict[tuple[int, str], dict[str, Any]], small: int, large: int) -> list[str]:
    """How each step's seconds grew from ``small`` to ``large`` rows, per engine."""
    lines = [f"growth {small:,} → {large:,} rows (×{large / small:g}), seconds ratio per step:"]
    for engine in sorted({e for _, e in results}):
        a, b = results.get((small, engine)), results.get((large, engine))
        if not a or not b or a.get("did_not_fit") or b.get("did_not_fit"):
            continue
        ratios = []
        for step in STEPS:
            x, y = a["steps_s"][step], b["steps_s"][step]
            ratios.append(f"{step} ×{y / x:.1f}" if x and y else f"{step} –")
        ratios.append(f"wall ×{b['wall_s'] / a['wall_s']:.1f}")
        lines.append(f"  {engine}: " + ", ".join(ratios))
    return lines


def main() -> None:
    from bench.compare_runs import differences

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--engines", nargs="+", default=["local", "dask"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-cap", type=float, default=22.0, help="GB, all processes")
    parser.add_argument("--data", type=Path, default=Path("/tmp/datavask-bench-dask"))
    parser.add_argument(
        "--partition-rows",
        type=int,
        help="dask_partition_rows for the runs (default: the setting's own, 250,000): more "
        "partitions at a smaller size, as 5M rows make at the default",
    )
    args = parser.parse_args()
    if args.partition_rows:
        PARTITION_ROWS.append(args.partition_rows)
    args.data.mkdir(parents=True, exist_ok=True)
    print(COLUMNS)
    print("|---" * (COLUMNS.count("|") - 1) + "|")
    results: dict[tuple[int, str], dict[str, Any]] = {}
    for rows in args.rows:
        where = dataset(rows, args.data)
        outs = {}
        for engine in args.engines:
            out = args.data / engine / f"out-{rows}"  # one name: report.html quotes it
            subprocess.run(["rm", "-rf", str(out)], check=True)
            out.parent.mkdir(exist_ok=True)
            home = args.data / "home"
            if engine == "dask":
                result = dask_run(where, out, home, args.workers, args.memory_cap)
            else:
                result = timed_cleanse(where, out, home, cap_gb=args.memory_cap, workers=[])
            result |= {"rows": rows, "engine": engine, "load": os.getloadavg()[0]}
            results[rows, engine] = result
            if not result.get("did_not_fit"):
                outs[engine] = out
            print(row(rows, engine, result), flush=True)
            if result.get("tasks"):
                print(tasks_line(result["tasks"]), flush=True)
            with (args.data / "results.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(result) + "\n")
        if len(outs) == 2:
            found = differences(*outs.values())
            print(f"outputs identical at {rows:,} rows: {not found} {found[:5]}")
    for small, large in zip(args.rows, args.rows[1:], strict=False):
        print("\n".join(growth(results, small, large)))


if __name__ == "__main__":
    main()
