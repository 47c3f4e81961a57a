"""Registry snapshot benchmark: parse a 500,000-document snapshot and look up 100,000 CVRs.

    python -m bench.bench_registry [--docs 500000] [--lookups 100000] [--workers N]

The snapshot is built once under ``bench/out/``: documents from ``bench.generate`` (the shape
of the real ERST API) repeated with fresh CVR numbers until there are ``--docs`` of them. Two
runs follow, each in its own process so its peak memory is its own: the *first* run (checksum,
parse, Parquet cache written, look-up) and the *cached* run (checksum, Parquet read, look-up).
Timings are wall-clock (time.perf_counter); peak memory is the process's maximum resident set
(resource.getrusage), with the parse workers' peak reported separately.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
_CVR = re.compile(rb'"cvrNummer":(\d+)')


def build_snapshot(path: Path, docs: int, *, seed: int = 1) -> list[str]:
    """Write ``docs`` documents to ``path`` (gzip) and return their CVR numbers."""
    from bench.generate import generate

    template = generate(20_000, seed).registry_jsonl().splitlines()
    cvrs: list[str] = []
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        batch: list[bytes] = []
        for i in range(docs):
            number = 10_000_000 + i * 173 % 89_999_999
            line = _CVR.sub(f'"cvrNummer":{number}'.encode(), template[i % len(template)], count=1)
            batch.append(line)
            cvrs.append(str(number))
            if len(batch) == 20_000:
                out.write(b"\n".join(batch) + b"\n")
                batch = []
        if batch:
            out.write(b"\n".join(batch) + b"\n")
    return cvrs


def measure(snapshot: Path, cache_dir: Path, lookups: Path, workers: int | None) -> dict:
    """One run in this process: open the registry, look up every CVR in ``lookups``."""
    from datavask.connectors.cvr import open_registry

    wanted = lookups.read_text().split()
    started = time.perf_counter()
    with open_registry(str(snapshot), cache_dir=cache_dir, workers=workers) as registry:
        loaded = time.perf_counter()
        registry.frame()
        parsed = time.perf_counter()
        frame = registry.lookup(wanted)
        done = time.perf_counter()
    return {
        "seconds_total": round(done - started, 2),
        "seconds_load": round(parsed - loaded, 2),
        "seconds_lookup": round(done - parsed, 2),
        "rows": frame.height,
        "found": int(frame["found"].sum()),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_rss_workers_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=500_000)
    parser.add_argument("--lookups", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--measure", nargs=3, metavar=("SNAPSHOT", "CACHE_DIR", "LOOKUPS"))
    args = parser.parse_args(argv)
    if args.measure:
        snapshot, cache_dir, lookups = (Path(p) for p in args.measure)
        print(json.dumps(measure(snapshot, cache_dir, lookups, args.workers)))
        return 0

    OUT.mkdir(parents=True, exist_ok=True)
    snapshot = OUT / f"registry-{args.docs}.jsonl.gz"
    cvr_file = OUT / f"registry-{args.docs}.cvrs"
    if not snapshot.exists() or not cvr_file.exists():
        started = time.perf_counter()
        cvr_file.write_text("\n".join(build_snapshot(snapshot, args.docs)))
        print(f"built {snapshot.name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    known = cvr_file.read_text().split()
    rng = random.Random(7)
    wanted = rng.sample(known, min(len(known), args.lookups * 9 // 10))
    wanted += [
        str(rng.randrange(10_000_000, 99_999_999)) for _ in range(args.lookups - len(wanted))
    ]
    lookups = OUT / "registry-lookups.txt"
    lookups.write_text("\n".join(wanted))
    cache_dir = OUT / "registry-cache"
    shutil.rmtree(cache_dir, ignore_errors=True)

    results = {
        "docs": args.docs,
        "lookups": len(wanted),
        "snapshot_mb": round(snapshot.stat().st_size / 1e6, 1),
    }
    for run in ("first", "cached"):
        command = [sys.executable, "-m", "bench.bench_registry", "--measure"]
        command += [str(snapshot), str(cache_dir), str(lookups)]
        if args.workers:
            command += ["--workers", str(args.workers)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results[run] = json.loads(output)
    print(json.dumps(results, indent=2))
    (OUT / "registry_bench.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
