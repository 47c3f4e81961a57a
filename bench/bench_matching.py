"""Duplicate finding: datavask's matcher against Splink, on FEBRL and on generated Danish data.

Accuracy is pairwise over all record pairs: a pair is predicted when both records end in one
cluster (F1 / precision / recall; "pair F1" counts the pairs scored a match instead), and it is
true when both rows come from one entity. Each (tool, data set) run is a child process, so its peak
memory (``ru_maxrss``) is its own; wall time covers matching only (training, scoring, clustering),
not generating, reading or normalising the data, which happens once, outside the timing, and is
cached in ``bench/.cache`` (keyed by the generator's source, so a changed generator regenerates).

Reproduce (seed 1; each command prints the side-by-side table and writes one JSON file per data
set and size to ``bench/out/matching_<data set>.json`` — other sizes' files are left alone)::

    python -m bench.bench_matching                          # everything below, ~10 min
    python -m bench.bench_matching --only febrl             # FEBRL3 and FEBRL4, both tools
    python -m bench.bench_matching --only danish --danish-rows 20000 100000
    python -m bench.bench_matching --only danish --danish-rows 1000000   # both tools at 1M
    python -m bench.bench_matching --only danish --danish-rows 1000000 --no-splink

Danish rows come from ``bench.generate.generate(rows, seed)``, read with
``connectors.files.read_input`` and normalised with ``cleansing.normalise.normalise``, exactly as
``datavask cleanse`` does. datavask runs ``find_duplicates`` with its defaults (the review band
derived from the model; pairs above it are matches) — FEBRL with ``PERSON_REGISTER_COMPARISONS``
because FEBRL's address parts are typed apart.
Splink 5 (bench-only dependency: ``pip install splink duckdb``) runs on DuckDB with the
configuration in :func:`splink_settings` over the same columns, trained as Splink's tutorials do
(prior from deterministic rules, u by random sampling, m by EM per blocking rule), threshold 0.5.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CACHE = ROOT / "bench" / ".cache"


# ---------------------------------------------------------------------------- data sets


def generator_version() -> str:
    """A short hash of the generator's source, so a changed generator never reuses a stale cache."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "bench").glob("gen*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def danish_frames(rows: int, seed: int) -> tuple[Path, Path]:
    """Generated Danish CRM rows, read and normalised by datavask: (records, truth) parquet."""
    version = generator_version()
    records = CACHE / f"danish_{rows}_{seed}_{version}.parquet"
    truth = CACHE / f"danish_{rows}_{seed}_{version}_truth.parquet"
    if records.exists() and truth.exists():
        return records, truth
    from bench.generate import generate
    from datavask.cleansing.normalise import normalise
    from datavask.connectors.files import read_input

    CACHE.mkdir(parents=True, exist_ok=True)
    data = generate(rows, seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.csv"
        data.customers.write_csv(path)
        canonical, _ = read_input(path)
    normalised = normalise(canonical)
    entity = normalised.select("record_id", "source_row").join(
        data.truth.select("source_row", "entity_id"), on="source_row", how="left"
    )
    normalised.write_parquet(records)
    entity.write_parquet(truth)
    return records, truth


def febrl_frames(name: str) -> tuple[Path, Path]:
    """FEBRL3 or FEBRL4 as matcher input: (records, truth) parquet."""
    from bench.febrl import febrl3, febrl4

    CACHE.mkdir(parents=True, exist_ok=True)
    records, truth = CACHE / f"{name}.parquet", CACHE / f"{name}_truth.parquet"
    frame = febrl3() if name == "febrl3" else febrl4()
    frame.drop("entity_id").write_parquet(records)
    frame.select("record_id", "source_row", "entity_id").write_parquet(truth)
    return records, truth


# ---------------------------------------------------------------------------- scoring


def true_pair_count(truth: pl.DataFrame, *, link: bool) -> int:
    if link:
        sides = truth.with_columns(pl.col("record_id").str.slice(0, 1).alias("side"))
        per = (
            sides.group_by("entity_id", "side")
            .len()
            .pivot(on="side", index="entity_id", values="len")
        )
        per = per.fill_null(0)
        return int((per["a"] * per["b"]).sum())
    sizes = truth.drop_nulls("entity_id").group_by("entity_id").len()["len"]
    return int((sizes * (sizes - 1) // 2).sum())


def score(predicted: pl.DataFrame, truth: pl.DataFrame, *, link: bool) -> dict[str, float]:
    """Precision, recall, F1 of predicted pairs (``a``, ``b`` record ids) against entity ids."""
    ent = truth.select("record_id", "entity_id")
    predicted = predicted.unique(["a", "b"])
    joined = predicted.join(ent.rename({"record_id": "a", "entity_id": "ea"}), on="a").join(
        ent.rename({"record_id": "b", "entity_id": "eb"}), on="b"
    )
    tp = int((joined["ea"] == joined["eb"]).fill_null(False).sum())
    n_true = true_pair_count(truth, link=link)
    precision = tp / predicted.height if predicted.height else 0.0
    recall = tp / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "predicted_pairs": predicted.height}


def cluster_pairs(clusters: pl.DataFrame, *, link: bool) -> pl.DataFrame:
    """All pairs of records sharing a cluster (``record_id``, ``cluster_id``)."""
    c = clusters.select("record_id", "cluster_id").with_row_index("i")
    pairs = c.join(c, on="cluster_id", suffix="_r").filter(pl.col("i") < pl.col("i_r"))
    pairs = pairs.select(
        pl.min_horizontal("record_id", "record_id_r").alias("a"),
        pl.max_horizontal("record_id", "record_id_r").alias("b"),
    )
    if link:
        pairs = pairs.filter(pl.col("a").str.slice(0, 1) != pl.col("b").str.slice(0, 1))
    return pairs


def ordered(frame: pl.DataFrame, left: str, right: str) -> pl.DataFrame:
    return frame.select(
        pl.min_horizontal(left, right).alias("a"), pl.max_horizontal(left, right).alias("b")
    )


# ---------------------------------------------------------------------------- tools


def run_datavask(records: Path, kind: str) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    from datavask.cleansing.matching import (
        PERSON_REGISTER_COMPARISONS,
        MatchSettings,
        find_duplicates,
    )

    frame = pl.read_parquet(records)
    settings = (
        MatchSettings(comparisons=PERSON_REGISTER_COMPARISONS)
        if kind == "febrl"
        else MatchSettings()
    )
    started = time.perf_counter()
    result = find_duplicates(frame, settings=settings)
    seconds = time.perf_counter() - started
    matched = ordered(
        result.pairs.filter(pl.col("decision") == "match"), "record_id_l", "record_id_r"
    )
    return matched, result.clusters, {"seconds": seconds, **result.summary}


def splink_settings(kind: str, *, link: bool) -> Any:
    """A sensible Splink 5 configuration over the same columns datavask reads."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    comparisons: list[Any]  # Splink's own annotations want the union types in the list
    blocking: list[Any]
    if kind == "febrl":
        comparisons = [
            cl.NameComparison("first_name_key").configure(term_frequency_adjustments=True),
            cl.NameComparison("last_name_key").configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.LevenshteinAtThresholds("national_id", [1, 2]),
            cl.ExactMatch("house_number"),
            cl.JaroWinklerAtThresholds("street_key", [0.9, 0.8]).configure(
                term_frequency_adjustments=True
            ),
            cl.JaroWinklerAtThresholds("address_line2", [0.9, 0.8]),
            cl.JaroWinklerAtThresholds("city", [0.9, 0.8]).configure(
                term_frequency_adjustments=True
            ),
            cl.LevenshteinAtThresholds("postal_code", [1, 2]),
        ]
        blocking = [
            block_on("first_name_key", "last_name_key"),
            block_on("date_of_birth"),
            block_on("national_id"),
            block_on("postal_code", "substr(last_name_key, 1, 2)"),
            block_on("street_key", "house_number"),
        ]
    else:
        comparisons = [
            cl.JaroWinklerAtThresholds("name_key", [0.92, 0.8]).configure(
                term_frequency_adjustments=True
            ),
            cl.NameComparison("first_name_key").configure(term_frequency_adjustments=True),
            cl.NameComparison("last_name_key").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("street_key", [0.92]).configure(
                term_frequency_adjustments=True
            ),
            cl.ExactMatch("house_number"),
            cl.ExactMatch("postal_code"),
            cl.ExactMatch("phone_e164").configure(term_frequency_adjustments=True),
            cl.EmailComparison("email"),
            cl.ExactMatch("cvr"),
            cl.ExactMatch("ean"),
        ]
        blocking = [
            block_on("cvr"),
            block_on("phone_e164"),
            block_on("email"),
            block_on("street_key", "house_number", "postal_code"),
            block_on("postal_code", "substr(name_key, 1, 4)"),
        ]
    return SettingsCreator(
        link_type="link_only" if link else "dedupe_only",
        unique_id_column_name="record_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False,
    )


def run_splink(
    records: Path, kind: str, *, link: bool
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    import duckdb
    from splink import DuckDBAPI, Linker, block_on

    keep = {
        "febrl": ["record_id", "first_name_key", "last_name_key", "date_of_birth", "national_id",
                  "house_number", "street_key", "address_line2", "city", "postal_code", "source"],
        "danish": ["record_id", "name_key", "first_name_key", "last_name_key", "street_key",
                   "house_number", "postal_code", "phone_e164", "email", "cvr", "ean"],
    }[kind]  # fmt: skip
    frame = pl.read_parquet(records)
    frame = frame.select(c for c in keep if c in frame.columns)
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect()
        parts = frame.partition_by("source", as_dict=False) if link else [frame]
        for i, part in enumerate(parts):
            path = Path(tmp) / f"in{i}.parquet"
            part.drop("source", strict=False).write_parquet(path)
            con.execute(f"create table input_{i} as select * from read_parquet('{path}')")
        started = time.perf_counter()
        db_api = DuckDBAPI(connection=con)
        tables = [db_api.register(f"input_{i}") for i in range(len(parts))]
        linker = Linker(
            tables if link else tables[0], splink_settings(kind, link=link), log_level=None
        )
        deterministic: list[Any] = (
            [block_on("first_name_key", "last_name_key", "date_of_birth")]
            if kind == "febrl"
            else [block_on("cvr"), block_on("email", "name_key")]
        )
        linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
        training = (
            [block_on("first_name_key", "last_name_key"), block_on("date_of_birth")]
            if kind == "febrl"
            else [block_on("postal_code", "substr(name_key, 1, 4)"), block_on("phone_e164")]
        )
        for rule in training:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        predictions = linker.inference.predict(threshold_match_probability=0.5)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=0.5
        )
        # Both are DuckDB tables by now; exporting them for scoring is not part of the run.
        seconds = time.perf_counter() - started
        pred_path, clus_path = Path(tmp) / "pred.parquet", Path(tmp) / "clus.parquet"
        predictions.to_parquet(str(pred_path), overwrite=True)
        clusters.to_parquet(str(clus_path), overwrite=True)
        pred = pl.read_parquet(pred_path)
        clus = pl.read_parquet(clus_path)
    matched = ordered(pred.select("record_id_l", "record_id_r"), "record_id_l", "record_id_r")
    clusters_frame = clus.select(pl.col("record_id"), pl.col("cluster_id").cast(pl.String))
    return matched, clusters_frame, {"seconds": seconds}


# ---------------------------------------------------------------------------- one run


def one_run(tool: str, dataset: str, rows: int, seed: int) -> dict[str, Any]:
    """Run one tool on one data set in this process; the parent reads the printed JSON."""
    kind = "febrl" if dataset.startswith("febrl") else "danish"
    link = dataset == "febrl4"
    if kind == "febrl":
        records, truth_path = febrl_frames(dataset)
    else:
        records, truth_path = danish_frames(rows, seed)
    truth = pl.read_parquet(truth_path)
    if tool == "datavask":
        matched, clusters, detail = run_datavask(records, kind)
    else:
        matched, clusters, detail = run_splink(records, kind, link=link)
    out: dict[str, Any] = {
        "tool": tool,
        "dataset": dataset,
        "records": truth.height,
        "seconds": detail.pop("seconds"),
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "clusters": score(cluster_pairs(clusters, link=link), truth, link=link),
        "pairs": score(matched, truth, link=link),
        "detail": {k: v for k, v in detail.items() if isinstance(v, int | float)},
    }
    return out


def child(tool: str, dataset: str, rows: int, seed: int, timeout: float) -> dict[str, Any]:
    """One run in a fresh process; a failure or timeout is reported, not raised."""
    command = [sys.executable, "-m", "bench.bench_matching", "--one", tool, dataset]
    command += [str(rows), str(seed)]
    try:
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"tool": tool, "failed": f"no result within {timeout:.0f} s"}
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["(no output)"]
        print(f"  {tool} on {dataset} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return {"tool": tool, "failed": f"exit {done.returncode}: {tail[0][:300]}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def table(results: list[dict[str, Any]]) -> str:
    head = (
        f"{'data set':<16}{'tool':<10}{'records':>9}{'F1':>8}{'prec':>8}{'recall':>8}"
        f"{'pair F1':>9}{'seconds':>9}{'peak GB':>9}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        if "failed" in r:
            lines.append(f"{r['dataset']:<16}{r['tool']:<10}  failed: {r['failed']}")
            continue
        c, p = r["clusters"], r["pairs"]
        lines.append(
            f"{r['dataset']:<16}{r['tool']:<10}{r['records']:>9}{c['f1']:>8.4f}{c['precision']:>8.4f}"
            f"{c['recall']:>8.4f}{p['f1']:>9.4f}{r['seconds']:>9.1f}{r['peak_rss_gb']:>9.2f}"
        )
    lines.append("F1/prec/recall: pairs implied by the clusters; pair F1: pairs scored a match.")
    return "\n".join(lines)


def comparison(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Splink's wall time over datavask's and the F1 difference, when both ran."""
    by_tool = {r["tool"]: r for r in results if "failed" not in r}
    if "datavask" not in by_tool or "splink" not in by_tool:
        return {}
    ours, theirs = by_tool["datavask"], by_tool["splink"]
    return {
        "splink_seconds_over_datavask": theirs["seconds"] / ours["seconds"],
        "f1_datavask_minus_splink": ours["clusters"]["f1"] - theirs["clusters"]["f1"],
    }


def _plan(args: argparse.Namespace) -> list[tuple[str, int]]:
    plan: list[tuple[str, int]] = []
    if args.only in (None, "febrl"):
        plan += [("febrl3", 0), ("febrl4", 0)]
    if args.only in (None, "danish"):
        plan += [(f"danish_{rows}", rows) for rows in args.danish_rows]
    return plan


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_matching",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--danish-rows",
        type=int,
        nargs="+",
        default=[20_000, 100_000, 1_000_000],
        help="sizes of the generated Danish data sets (default: 20000 100000 1000000)",
    )
    parser.add_argument("--only", choices=["febrl", "danish"], help="run only these data sets")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--no-splink", action="store_true", help="run datavask only")
    parser.add_argument(
        "--splink-timeout",
        type=float,
        default=1800.0,
        help="seconds after which a Splink run is given up and reported (default 1800)",
    )
    parser.add_argument("--one", nargs=4, metavar=("TOOL", "DATASET", "ROWS", "SEED"))
    args = parser.parse_args()
    if args.one:
        tool, dataset, rows, seed = args.one
        print(json.dumps(one_run(tool, dataset, int(rows), int(seed))))
        return

    tools = ["datavask"] if args.no_splink else ["datavask", "splink"]
    OUT.mkdir(parents=True, exist_ok=True)
    everything: list[dict[str, Any]] = []
    for dataset, rows in _plan(args):
        if rows:
            danish_frames(rows, args.seed)  # generate + normalise once, outside the timing
        name = dataset if dataset.startswith("febrl") else "danish"
        results = []
        for tool in tools:
            print(f"running {tool} on {dataset} …", flush=True)
            timeout = args.splink_timeout if tool == "splink" else 3600.0
            result = child(tool, name, rows, args.seed, timeout)
            result["dataset"] = dataset
            results.append(result)
        record = {
            "dataset": dataset,
            "seed": args.seed if rows else None,
            "generator": generator_version() if rows else None,
            "results": results,
            **comparison(results),
        }
        (OUT / f"matching_{dataset}.json").write_text(json.dumps(record, indent=2))
        everything += results
        print(table(results), flush=True)
        if record.get("splink_seconds_over_datavask"):
            print(f"Splink took {record['splink_seconds_over_datavask']:.1f}x datavask's time")
    print(table(everything))


if __name__ == "__main__":
    main()
