"""How fast field normalisation runs on a million customer rows, beside the naive per-row path.

    python -m bench.bench_normalise                      # 1,000,000 rows, naive path on 100,000
    python -m bench.bench_normalise --rows 200000 --naive-rows 20000 --repeat 1

The rows come from :func:`bench.generate.generate` (Danish CRM dialect) and are cached as Parquet
under ``bench/.cache/``; a missing cache is written by a child process, so the peak RSS reported
here (``resource.getrusage``) is that of loading and normalising only. The cached file is read by
the ingest connector (:func:`connectors.files.read_input`), so the stages see the canonical frame
a real run sees (``raw_*`` stripped, blanks null, ``src_*`` as read).

Measured, in one run (wall and CPU seconds; medians of ``--repeat`` runs, default 3, because the
machine is shared and noisy):

- every stage of :func:`cleansing.normalise.normalise` on its own, in pipeline order (rows/s);
- ``normalise()`` end to end (total wall time);
- the naive path for the four fields of this benchmark's owner — what a hand-written script does:
  python-stdnum per CVR/EAN, ``phonenumbers`` (:func:`cleansing.phones.parse_phone`) per phone,
  email-validator (:func:`cleansing.emails.parse_emails`) per e-mail, a Python regex plus a date
  check per text cell for CPR numbers — on every row of a subset, extrapolated linearly to the
  full row count.

Targets: 1M rows ≤ 20 s, peak RSS ≤ 4 GB, ≥ 10× faster than naive. Results are printed as a
table and written to ``bench/out/bench_normalise.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from statistics import median
from typing import Any

import polars as pl

from datavask.cleansing.addresses import normalise_addresses
from datavask.cleansing.cpr import mask_cpr
from datavask.cleansing.customer_type import classify_customer_type
from datavask.cleansing.emails import normalise_emails, parse_emails
from datavask.cleansing.identifiers import normalise_identifiers
from datavask.cleansing.names import normalise_names
from datavask.cleansing.phones import normalise_phones, parse_phone, phone_region

BENCH = Path(__file__).resolve().parent
CACHE = BENCH / ".cache"
OUT = BENCH / "out"
TARGET_SECONDS = 20.0
TARGET_RSS_GB = 4.0
TARGET_SPEEDUP = 10.0

Stage = Callable[[pl.DataFrame], pl.DataFrame]


def stages() -> list[tuple[str, Stage]]:
    """The field stages in :func:`datavask.cleansing.normalise.normalise` order."""
    return [
        ("cpr", mask_cpr),
        ("identifiers", normalise_identifiers),
        ("phones", normalise_phones),
        ("emails", normalise_emails),
        ("names", normalise_names),
        ("addresses", normalise_addresses),
        ("customer_type", classify_customer_type),
    ]


def full_normalise() -> tuple[str, Stage]:
    """The end-to-end function the pipeline runs."""
    from datavask.cleansing.normalise import normalise

    return "datavask.cleansing.normalise.normalise", normalise


# --- input --------------------------------------------------------------------------------------


def generator_digest() -> str:
    """A digest of the generator's source: a cached export is reused only while it is current."""
    digest = hashlib.sha256()
    for path in sorted(BENCH.glob("gen*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cached_customers(rows: int, seed: int) -> Path:
    """The generated CRM export as a Parquet file, generated into the cache by a child process."""
    path = CACHE / f"customers_danish_{rows}_seed{seed}_{generator_digest()}.parquet"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        code = (
            "import sys; from bench.generate import generate; "
            f"generate({rows}, {seed}, dialect='danish').customers.write_parquet(sys.argv[1])"
        )
        print(f"generating {rows:,} rows into {path} …", flush=True)
        subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=BENCH.parent)
    return path


def canonical_frame(path: Path) -> pl.DataFrame:
    """The canonical frame of the export, built by the ingest connector with its header mapping."""
    from datavask.connectors.files import read_input

    frame, _ = read_input(path)
    return frame


# --- the naive path -----------------------------------------------------------------------------

_NAIVE_CPR = re.compile(r"(?<![0-9])([0-9]{2})([0-9]{2})([0-9]{2})-?([0-9]{4})(?![0-9])")


def _naive_mask(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        day, month, year = (int(g) for g in match.groups()[:3])
        try:
            date(1900 + year, month, day)
        except ValueError:
            return match.group(0)
        return "XXXXXX-XXXX"

    return _NAIVE_CPR.sub(replace, text)


def naive_cpr(frame: pl.DataFrame) -> None:
    for column in frame.columns:
        if frame.schema[column] == pl.String:
            [_naive_mask(v) for v in frame[column].to_list() if v is not None]


def naive_identifiers(frame: pl.DataFrame) -> None:
    from stdnum import ean
    from stdnum.dk import cvr

    [cvr.compact(v) if cvr.is_valid(v) else None for v in frame["raw_cvr"].fill_null("")]
    [ean.compact(v) if ean.is_valid(v) else None for v in frame["raw_ean"].fill_null("")]


def naive_phones(frame: pl.DataFrame) -> None:
    regions = [phone_region(c) for c in frame["raw_country"].to_list()]
    for column in ("raw_phone", "raw_mobile"):
        values = frame[column].to_list()
        [parse_phone(v, r) for v, r in zip(values, regions, strict=True)]


def naive_emails(frame: pl.DataFrame) -> None:
    [parse_emails(v) for v in frame["raw_email"].to_list()]


NAIVE: dict[str, Callable[[pl.DataFrame], None]] = {
    "cpr": naive_cpr,
    "identifiers": naive_identifiers,
    "phones": naive_phones,
    "emails": naive_emails,
}


# --- measuring ----------------------------------------------------------------------------------


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB on Linux


def cpu_seconds() -> float:
    """CPU time of this process, all threads: steadier than wall time on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(function: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds, CPU seconds and the result of ``function()``."""
    cpu, started = cpu_seconds(), time.perf_counter()
    result = function()
    return time.perf_counter() - started, cpu_seconds() - cpu, result


def run(rows: int, naive_rows: int, seed: int, repeat: int = 3) -> dict[str, Any]:
    load_seconds, _, frame = timed(lambda: canonical_frame(cached_customers(rows, seed)))
    rss_after_load = peak_rss_gb()

    walls: dict[str, list[float]] = {name: [] for name, _ in stages()}
    cpus: dict[str, list[float]] = {name: [] for name, _ in stages()}
    total_walls: list[float] = []
    total_cpus: list[float] = []
    full_name, normalise = full_normalise()
    for _ in range(repeat):  # stage by stage, then end to end, alternating
        staged = frame
        for name, stage in stages():
            wall, cpu, staged = timed(partial(stage, staged))
            walls[name].append(wall)
            cpus[name].append(cpu)
        del staged
        wall, cpu, result = timed(lambda: normalise(frame))
        assert result.height == rows
        del result
        total_walls.append(wall)
        total_cpus.append(cpu)
    peak = peak_rss_gb()
    per_stage: list[dict[str, Any]] = [
        {
            "stage": name,
            "seconds": median(walls[name]),
            "cpu_seconds": median(cpus[name]),
            "runs": walls[name],
            "rows_per_s": rows / median(walls[name]),
        }
        for name in walls
    ]
    total_seconds = median(total_walls)

    subset = frame.head(naive_rows)
    scale = rows / subset.height
    naive: list[dict[str, Any]] = []
    for name, naive_function in NAIVE.items():
        seconds, cpu, _ = timed(partial(naive_function, subset))
        fast = next(s["seconds"] for s in per_stage if s["stage"] == name)
        naive.append(
            {
                "stage": name,
                "subset_rows": subset.height,
                "subset_seconds": seconds,
                "subset_cpu_seconds": cpu,
                "extrapolated_seconds": seconds * scale,
                "speedup": seconds * scale / fast,
            }
        )
    fast_total = sum(s["seconds"] for s in per_stage if s["stage"] in NAIVE)
    naive_total = sum(n["extrapolated_seconds"] for n in naive)
    return {
        "rows": rows,
        "seed": seed,
        "repeat": repeat,
        "load_seconds": load_seconds,
        "full_normalise": full_name,
        "total_seconds": total_seconds,
        "total_cpu_seconds": median(total_cpus),
        "total_runs": total_walls,
        "peak_rss_gb": peak,
        "rss_after_load_gb": rss_after_load,
        "stages": per_stage,
        "naive": naive,
        "naive_note": (
            f"naive path measured on the first {subset.height:,} rows and extrapolated "
            f"linearly ×{scale:g} to {rows:,}"
        ),
        "naive_seconds_owned_fields": naive_total,
        "fast_seconds_owned_fields": fast_total,
        "speedup_owned_fields": naive_total / fast_total,
        "targets": {
            "seconds": TARGET_SECONDS,
            "rss_gb": TARGET_RSS_GB,
            "speedup": TARGET_SPEEDUP,
            "met": total_seconds <= TARGET_SECONDS
            and peak <= TARGET_RSS_GB
            and naive_total / fast_total >= TARGET_SPEEDUP,
        },
        "machine": {
            "python": platform.python_version(),
            "polars": pl.__version__,
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
        },
    }


def render(results: dict[str, Any]) -> str:
    rows = results["rows"]
    lines = [
        f"normalisation of {rows:,} rows (seed {results['seed']}; medians of "
        f"{results['repeat']} runs; load average {results['machine']['load_average'][0]:.1f} "
        f"on {results['machine']['cpus']} CPUs)",
        "",
        f"{'stage':<15}{'seconds':>10}{'cpu s':>8}{'rows/s':>14}{'naive s*':>12}{'speedup':>10}",
    ]
    naive = {n["stage"]: n for n in results["naive"]}
    for stage in results["stages"]:
        n = naive.get(stage["stage"])
        lines.append(
            f"{stage['stage']:<15}{stage['seconds']:>10.2f}{stage['cpu_seconds']:>8.2f}"
            f"{stage['rows_per_s']:>14,.0f}"
            + (f"{n['extrapolated_seconds']:>12.1f}{n['speedup']:>9.1f}×" if n else "")
        )
    met = results["targets"]["met"]
    lines += [
        "",
        f"total ({results['full_normalise']}): {results['total_seconds']:.2f} s, "
        f"{results['total_cpu_seconds']:.2f} s CPU (target ≤ {TARGET_SECONDS:g} s)",
        f"peak RSS: {results['peak_rss_gb']:.2f} GB (target ≤ {TARGET_RSS_GB:g} GB; "
        f"{results['rss_after_load_gb']:.2f} GB after loading)",
        f"speed-up over naive on cpr+identifiers+phones+emails: "
        f"{results['naive_seconds_owned_fields']:.1f} s / "
        f"{results['fast_seconds_owned_fields']:.2f} s = "
        f"{results['speedup_owned_fields']:.1f}× (target ≥ {TARGET_SPEEDUP:g}×)",
        f"* {results['naive_note']}",
        f"targets {'met' if met else 'NOT met'}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--naive-rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs per stage; medians are shown")
    parser.add_argument("--out", type=Path, default=OUT / "bench_normalise.json")
    args = parser.parse_args(argv)
    results = run(args.rows, min(args.naive_rows, args.rows), args.seed, max(1, args.repeat))
    print(render(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
