"""Small files as users have them: a handful of customers typed twice, through the command line.

A user trying datavask, or cleansing one branch's list, has five, twenty or a hundred rows, not
fifty thousand. The model learns how rare an agreement is from the file itself (u, term
frequencies), and a tiny file says little about that. This script cuts small files out of the
labelled sets of :mod:`bench.bench_cli` — whole customers drawn at random until the file has its
rows, so a customer's duplicates come along as they would — runs ``datavask cleanse FILE --mapping
MAP.toml --registry none`` as a subprocess on each, exactly as :mod:`bench.bench_cli` does, and
pools the pairs of all files of one size: precision, recall and F1 over every file's true and
implied pairs, and how many files had a duplicate and found none of it.

Splink is not run beside it: it needs far more pairs than such a file has to estimate its model.

    python -m bench.bench_small --sizes 5 20 100 --files 8
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from bench import bench_cli
from bench.bench_cli import OUT, DataSet

SOURCES = ("danish", "febrl1", "fake_1000", "rldata500", "restaurants", "chicago")


def source(name: str) -> DataSet:
    """A labelled set of :mod:`bench.bench_cli` to cut small files from (the Danish generator at
    2,000 rows)."""
    return bench_cli.danish(2000) if name == "danish" else bench_cli.DATASETS[name]()


def small_file(data: DataSet, rows: int, seed: int) -> DataSet:
    """Whole customers of ``data`` in random order until ``rows`` rows (the last customer may take
    it past), in the set's own row order."""
    entities = data.truth.unique(maintain_order=True).to_numpy()
    order = np.random.default_rng(seed).permutation(len(entities))
    counted = data.truth.value_counts()
    sizes = dict(zip(counted[data.truth.name].to_list(), counted["count"].to_list(), strict=True))
    chosen, count = [], 0
    for k in order:
        entity = entities[k]
        chosen.append(entity)
        count += int(sizes[entity])
        if count >= rows:
            break
    keep = data.truth.is_in(pl.Series(chosen, dtype=data.truth.dtype).implode())
    return DataSet(
        name=f"{data.name}_{rows}_{seed}",
        frame=data.frame.filter(keep),
        truth=data.truth.filter(keep),
    )


def run_one(data: DataSet, mapping_name: str) -> dict[str, Any]:
    """datavask on one small file, as :func:`bench.bench_cli.one` runs it."""
    truth = bench_cli.true_pairs(data.truth, None)
    with tempfile.TemporaryDirectory(prefix="bench-small-") as tmp:
        work = Path(tmp)
        file = bench_cli.write_user_file(data, work)
        mapping = bench_cli.labelled_mapping(bench_cli.mapping_path(mapping_name), work)
        result = bench_cli.run_datavask(data, file, mapping, work, truth)
    if "failed" in result:
        raise RuntimeError(f"{data.name}: {result['failed']}")
    predicted, true = result["predicted_pairs"], result["true_pairs"]
    hits = round(result["recall"] * true)
    return {
        "file": data.name,
        "rows": data.frame.height,
        "true_pairs": true,
        "predicted_pairs": predicted,
        "hits": hits,
        "missed_all": true > 0 and hits == 0,
        "seconds": result["seconds"],
    }


def pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Precision, recall and F1 over the pairs of every run."""
    hits = sum(r["hits"] for r in runs)
    predicted = sum(r["predicted_pairs"] for r in runs)
    true = sum(r["true_pairs"] for r in runs)
    precision = hits / predicted if predicted else 1.0
    recall = hits / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "files": len(runs),
        "rows": sum(r["rows"] for r in runs),
        "true_pairs": true,
        "predicted_pairs": predicted,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "files_with_duplicates": sum(r["true_pairs"] > 0 for r in runs),
        "files_missing_every_duplicate": sum(r["missed_all"] for r in runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", nargs="+", default=list(SOURCES), choices=SOURCES)
    parser.add_argument("--sizes", nargs="+", type=int, default=[5, 20, 100])
    parser.add_argument("--files", type=int, default=8, help="files per source and size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--parallel", type=int, default=2, help="runs at a time")
    args = parser.parse_args(argv)

    jobs = []
    for name in args.sources:
        data = source(name)
        for rows in args.sizes:
            for k in range(args.files):
                jobs.append((name, rows, small_file(data, rows, args.seed * 1000 + k)))
    with ThreadPoolExecutor(args.parallel) as pool:
        done = list(pool.map(lambda job: (job[0], job[1], run_one(job[2], job[0])), jobs))

    results: dict[str, Any] = {"sizes": args.sizes, "files": args.files, "by": []}
    head = f"{'source':<14}{'rows':>6}{'files':>6}{'pairs':>7}{'P':>8}{'R':>8}{'F1':>8}"
    print(f"{head}{'none found':>12}")
    for name in args.sources:
        for rows in args.sizes:
            runs = [r for n, s, r in done if n == name and s == rows]
            p = pooled(runs)
            results["by"].append({"source": name, "size": rows, **p, "runs": runs})
            print(
                f"{name:<14}{rows:>6}{p['files']:>6}{p['true_pairs']:>7}{p['precision']:>8.4f}"
                f"{p['recall']:>8.4f}{p['f1']:>8.4f}"
                f"{p['files_missing_every_duplicate']:>6} of {p['files_with_duplicates']:<3}"
            )
    for rows in args.sizes:
        p = pooled([r for _, s, r in done if s == rows])
        results["by"].append({"source": "all", "size": rows, **p})
        print(
            f"{'all':<14}{rows:>6}{p['files']:>6}{p['true_pairs']:>7}{p['precision']:>8.4f}"
            f"{p['recall']:>8.4f}{p['f1']:>8.4f}"
            f"{p['files_missing_every_duplicate']:>6} of {p['files_with_duplicates']:<3}"
        )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "small_files.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
