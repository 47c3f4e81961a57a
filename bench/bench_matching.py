"""Duplicate finding: datavask's matcher against Splink, on FEBRL and on generated Danish data.

Accuracy is pairwise over all record pairs: a pair is predicted when both records end in one
cluster (and, separately, when the pair itself is scored a match), and it is true when both rows
come from one entity. Each (tool, data set) run is a child process, so its peak memory
(``ru_maxrss``) is its own; wall time covers the matching only, not reading or normalising.

    python -m bench.bench_matching                       # FEBRL3, FEBRL4, Danish 100k, speed 1M
    python -m bench.bench_matching --danish-rows 20000 --speed-rows 0 --splink-speed-rows 0

Splink (``pip install splink duckdb``, bench only) runs on DuckDB with a configuration over the
same columns; see :func:`splink_settings`. Results go to ``bench/out/bench_matching.json``.
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
    from cleansing.normalise import normalise
    from connectors.files import read_input

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
    from cleansing.matching import PERSON_REGISTER_COMPARISONS, MatchSettings, find_duplicates

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
        deterministic = (
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
        pred_path, clus_path = Path(tmp) / "pred.parquet", Path(tmp) / "clus.parquet"
        predictions.to_parquet(str(pred_path), overwrite=True)
        clusters.to_parquet(str(clus_path), overwrite=True)
        seconds = time.perf_counter() - started
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


def child(tool: str, dataset: str, rows: int, seed: int) -> dict[str, Any] | None:
    command = [
        sys.executable,
        "-m",
        "bench.bench_matching",
        "--one",
        tool,
        dataset,
        str(rows),
        str(seed),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"  {tool} on {dataset} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results: list[dict[str, Any]]) -> str:
    head = (
        f"{'data set':<16}{'tool':<10}{'records':>9}{'F1':>8}{'prec':>8}{'recall':>8}"
        f"{'pair F1':>9}{'seconds':>9}{'peak GB':>9}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        c, p = r["clusters"], r["pairs"]
        lines.append(
            f"{r['dataset']:<16}{r['tool']:<10}{r['records']:>9}{c['f1']:>8.4f}{c['precision']:>8.4f}"
            f"{c['recall']:>8.4f}{p['f1']:>9.4f}{r['seconds']:>9.1f}{r['peak_rss_gb']:>9.2f}"
        )
    lines.append("F1/prec/recall: pairs implied by the clusters; pair F1: pairs scored a match.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--danish-rows", type=int, default=100_000)
    parser.add_argument("--speed-rows", type=int, default=1_000_000)
    parser.add_argument("--splink-speed-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--one", nargs=4, metavar=("TOOL", "DATASET", "ROWS", "SEED"))
    args = parser.parse_args()
    if args.one:
        tool, dataset, rows, seed = args.one
        print(json.dumps(one_run(tool, dataset, int(rows), int(seed))))
        return

    tools = ["datavask"] if args.no_splink else ["datavask", "splink"]
    plan: list[tuple[str, str, int]] = [(t, d, 0) for d in ("febrl3", "febrl4") for t in tools]
    if args.danish_rows:
        plan += [(t, f"danish_{args.danish_rows}", args.danish_rows) for t in tools]
    if args.speed_rows:
        plan.append(("datavask", f"danish_{args.speed_rows}", args.speed_rows))
        if not args.no_splink and args.splink_speed_rows:
            plan.append(("splink", f"danish_{args.splink_speed_rows}", args.splink_speed_rows))
    results = []
    for tool, dataset, rows in plan:
        name = dataset if dataset.startswith("febrl") else "danish"
        if rows:
            danish_frames(rows, args.seed)  # generate + normalise once, outside the timing
        print(f"running {tool} on {dataset} …", flush=True)
        result = child(tool, name, rows, args.seed)
        if result is not None:
            result["dataset"] = dataset
            results.append(result)
    print(table(results))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_matching.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
