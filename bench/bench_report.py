"""What report.html and worklist.xlsx cost at scale: file sizes, the time to write them, and the
page's load time in headless Chromium.

For each size: the generator's export (``python -m bench.generate``, cached in ``bench/.cache``
or taken from ``--data DIR`` holding ``customers.csv`` and ``registry.jsonl.gz``) is cleansed by
``datavask cleanse`` run as a subprocess, as a user runs it (Prefect off, so the figure is the
report's and not the server's); then the report is opened ``--loads`` times in a fresh headless
Chromium (WebDriver) and the median time until report.js has drawn every table is reported,
beside the wall time of ``driver.get`` until then.

    python -m bench.bench_report --rows 100000 --rows 1000000
    python -m bench.bench_report --data /tmp/gen100k --rows 100000
    python -m bench.bench_report --run-dir datavask-out/run   # re-render and measure a run

``--screenshots DIR`` instead cleanses the bundled sample and saves screenshots of its Danish
report: ``report-sample.png`` (the top of the page), ``report-sample-registry.png``,
``report-sample-duplicates.png`` and ``report-sample-review.png`` (those sections).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.browser import chromium, open_page

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache"
OUT = ROOT / "bench" / "out"
SAMPLE = ROOT / "data" / "sample" / "customers.csv"


def generated(rows: int, seed: int) -> Path:
    """The generator's export of ``rows`` rows, made once and cached."""
    folder = CACHE / f"report_{rows}_{seed}"
    if not (folder / "customers.csv").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.generate",
                "--rows",
                str(rows),
                "--seed",
                str(seed),
                "--out",
                str(folder),
            ],
            check=True,
        )
    return folder


def cleanse(data: Path, out: Path, *extra: str) -> float:
    """``datavask cleanse`` as a subprocess; its wall time in seconds."""
    env = dict(os.environ, DATAVASK_ORCHESTRATION="none")
    command = [
        sys.executable,
        "-m",
        "datavask",
        "cleanse",
        str(data / "customers.csv"),
        "--out",
        str(out),
        *extra,
    ]
    registry = data / "registry.jsonl.gz"
    if registry.exists() and data != SAMPLE.parent:
        command += ["--registry", str(registry)]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"datavask cleanse failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.perf_counter() - started


def measure(rows: int, data: Path, loads: int, work: Path) -> dict[str, Any]:
    """Cleanse ``data`` as a user does, then measure what its report costs."""
    out = work / f"run-{rows}"
    wall = cleanse(data, out)
    return {"rows": rows, "cleanse_wall_s": round(wall, 1)} | measure_page(out, loads)


def rerender(run_dir: Path, *, xlsx: bool) -> dict[str, Any]:
    """Render an existing run's report.html (and worklist.xlsx) in this process, timed."""
    from datavask.connectors.report import load_model, render_html
    from datavask.connectors.worklist import write_worklist

    started = time.perf_counter()
    model = load_model(run_dir)
    timings = {"view_model_s": time.perf_counter() - started}
    started = time.perf_counter()
    (run_dir / "report.html").write_text(render_html(model), encoding="utf-8")
    timings["report_html_s"] = time.perf_counter() - started
    if xlsx:
        started = time.perf_counter()
        write_worklist(model, run_dir / "worklist.xlsx")
        timings["worklist_xlsx_s"] = time.perf_counter() - started
    return {k: round(v, 1) for k, v in timings.items()}


def measure_page(out: Path, loads: int) -> dict[str, Any]:
    """Sizes of a run's report files and the page's load time in headless Chromium."""
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    html, xlsx = out / "report.html", out / "worklist.xlsx"
    page_ms: list[float] = []
    wall_ms: list[float] = []
    cpu_s: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="datavask-chromium-") as profile,
        chromium(Path(profile)) as driver,
    ):
        for _ in range(loads):
            page = open_page(driver, html)
            if page["errors"] or page["requests"]:
                raise RuntimeError(f"the report misbehaved: {page}")
            page_ms.append(float(page["ready_ms"]))
            cpu_s.append(float(page["cpu_s"]))
            wall_ms.append(float(page["wall_ms"]))
        heap = driver.execute_script(
            "return performance.memory && performance.memory.usedJSHeapSize"
        )
        listed = driver.execute_script(
            "return Object.values(window.datavaskTables).reduce((n, t) => n + t.rows.length, 0)"
        )
    counts = run["counts"]
    return {
        "records": counts["records"],
        "customers": counts["customers"],
        "table_rows": int(listed),  # customers over all lists (one customer can be in several)
        "report_html_mb": round(html.stat().st_size / 1e6, 1),
        "worklist_xlsx_mb": round(xlsx.stat().st_size / 1e6, 1) if xlsx.exists() else None,
        "page_ready_ms_median": round(statistics.median(page_ms)),
        "page_wall_ms_median": round(statistics.median(wall_ms)),
        "page_ready_ms_all": [round(v) for v in page_ms],
        "browser_cpu_s_median": round(statistics.median(cpu_s), 2),
        "js_heap_mb": round(heap / 1e6) if heap else None,
        "load_average": os.getloadavg()[0],
    }


def screenshots(folder: Path, work: Path) -> list[Path]:
    out = work / "sample"
    cleanse(SAMPLE.parent, out)
    saved = []
    with (
        tempfile.TemporaryDirectory(prefix="datavask-chromium-") as profile,
        chromium(Path(profile), width=1400, height=1800) as driver,
    ):
        open_page(driver, out / "report.html")
        top = folder / "report-sample.png"
        driver.save_screenshot(str(top))
        saved.append(top)
        for section in ("group-registry", "group-duplicates", "review"):
            driver.execute_script("document.getElementById(arguments[0]).scrollIntoView()", section)
            path = folder / f"report-sample-{section.removeprefix('group-')}.png"
            driver.save_screenshot(str(path))
            saved.append(path)
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, action="append", default=[])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data", type=Path, help="a folder with customers.csv and registry.jsonl.gz"
    )
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument(
        "--run-dir",
        type=Path,
        action="append",
        default=[],
        help="re-render an existing run directory in this process (timed) and measure its page",
    )
    parser.add_argument("--no-xlsx", action="store_true", help="with --run-dir: skip the xlsx")
    parser.add_argument(
        "--screenshots", type=Path, help="save the sample report's screenshots here"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="datavask-bench-report-") as tmp:
        if args.screenshots:
            for path in screenshots(args.screenshots, Path(tmp)):
                print(path)
            return
        results = []
        for run_dir in args.run_dir:
            timings = rerender(run_dir, xlsx=not args.no_xlsx)
            result = timings | measure_page(run_dir, args.loads)
            print(json.dumps(result), flush=True)
            results.append(result)
        for rows in args.rows or ([] if args.run_dir else [100_000]):
            data = args.data or generated(rows, args.seed)
            result = measure(rows, data, args.loads, Path(tmp))
            print(json.dumps(result), flush=True)
            results.append(result)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "report.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    for r in results:
        print(
            f"{r['records']:,} records, {r['customers']:,} customers, {r['table_rows']:,} table "
            f"rows: report.html {r['report_html_mb']} MB, worklist.xlsx {r['worklist_xlsx_mb']} "
            f"MB, page ready {r['page_ready_ms_median']:,} ms, browser CPU "
            f"{r['browser_cpu_s_median']} s (medians of {args.loads}), load average "
            f"{r['load_average']:.1f}"
        )


if __name__ == "__main__":
    main()
