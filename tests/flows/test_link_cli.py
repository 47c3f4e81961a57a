"""Linking sources through ``datavask cleanse``: a mapping's ``[link] source = "column"`` says
which system each row of a stacked file comes from, and the run then pairs only records of
different sources, on both engines alike.

The data: 12,000 generated Danish rows, shuffled, each row given one of two sources at random
(``"CRM"`` and ``"Økonomi "``, whose trailing space is trimmed), so that many customers have
records in both sources and many have two records in one. Within one source records are never
paired; they share a cluster only through a record of the other source (clusters are the
connected components of the cross-source match pairs). The same file through ``--engine dask``
on a 2-worker cluster of processes (16 row partitions, so a customer's records are in different
partitions) writes what ``--engine local`` writes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from bench.generate import generate, write_dataset
from tests.flows.dask_cluster import assert_same_outputs

pytestmark = pytest.mark.timeout(1500)

ROWS = 12_000
SEED = 21
PARTITIONS = 16
LINK = """[columns]
name = "Navn"

[link]
source = "Kilde"

[evaluation]
truth = "Kunde"
"""


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATAVASK_ORCHESTRATION="none", DATAVASK_HOME=str(tmp / "home"), NO_COLOR="1")
    env["DATAVASK_DASK_PARTITION_ROWS"] = str(ROWS // PARTITIONS)
    return env


def _cleanse(
    data: dict[str, Path], mapping: str, out: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    tmp = out.parent
    (tmp / f"{out.name}.toml").write_text(mapping, encoding="utf-8")
    command = [sys.executable, "-m", "datavask", "cleanse", str(data["customers"])]
    command += ["--mapping", str(tmp / f"{out.name}.toml"), "--registry", str(data["registry"])]
    command += ["--out", str(out), *extra]
    return subprocess.run(
        command, env=_env(tmp), capture_output=True, text=True, timeout=900, check=False
    )


def _stacked(tmp: Path, rows: int, blank: tuple[int, ...] = ()) -> dict[str, Path]:
    """``rows`` generated rows in random order with a ``Kilde`` (source) and a ``Kunde`` (the
    true customer) column; the rows at 0-based positions ``blank`` without a source."""
    data = generate(rows, SEED)
    customers = data.customers.with_columns(Kunde=data.truth["entity_id"])
    customers = customers.sample(fraction=1.0, shuffle=True, seed=SEED)
    pick = pl.int_range(pl.len()).shuffle(seed=SEED) % 2 == 0
    customers = customers.with_columns(
        Kilde=pl.when(pl.int_range(pl.len()).is_in(blank))
        .then(pl.lit("  "))
        .when(pick)
        .then(pl.lit("CRM"))
        .otherwise(pl.lit("Økonomi "))
    )
    return write_dataset(dataclasses.replace(data, customers=customers), tmp / "data")


@pytest.fixture(scope="module")
def stacked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _stacked(tmp_path_factory.mktemp("link-input"), ROWS)


@pytest.fixture(scope="module")
def linked(stacked: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("link-local") / "local"
    done = _cleanse(stacked, LINK, out, "--engine", "local")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return out


def test_only_records_of_different_sources_are_paired(
    stacked: dict[str, Path], linked: Path
) -> None:
    records = pl.read_parquet(linked / "records.parquet")
    assert records["src_Kilde"].unique().sort().to_list() == ["CRM", "Økonomi "]  # as written
    source = dict(zip(records["record_id"], records["src_Kilde"].str.strip_chars(), strict=True))
    pairs = pl.read_parquet(linked / "pairs.parquet", columns=["record_id_l", "record_id_r"])
    assert pairs.height > 1_000
    assert all(source[a] != source[b] for a, b in pairs.iter_rows())
    # The input has what link mode must leave alone: a customer's two records in one source.
    by_customer = records.group_by("src_Kunde").agg(pl.len(), pl.col("src_Kilde").n_unique())
    assert by_customer.filter((pl.col("len") > 1) & (pl.col("src_Kilde") == 1)).height > 100
    # A cluster of several records always spans both sources: one source's records share a
    # cluster only through a record of the other.
    clusters = records.group_by("cluster_id").agg(pl.len(), pl.col("src_Kilde").n_unique())
    several = clusters.filter(pl.col("len") > 1)
    assert several.height > 500 and (several["src_Kilde"] == 2).all()
    chained = several.filter(pl.col("len") > 2).height
    assert chained > 0  # such clusters are in the outputs, not only pairs
    # Every input row once.
    assert records.height == ROWS
    assert records["source_row"].sort().to_list() == list(range(1, ROWS + 1))
    golden = pl.read_parquet(linked / "golden.parquet")
    assert golden.height == records["cluster_id"].n_unique()
    run = json.loads((linked / "run.json").read_text(encoding="utf-8"))
    match = run["steps"]["match"]
    assert match["link_sources"] == ["CRM", "Økonomi"]  # trimmed, case kept
    assert match["evaluation"]["clusters"]["f1"] > 0.9  # counted on the pairs across sources


def test_the_dask_engine_links_as_the_local_engine_does(
    stacked: dict[str, Path], linked: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Through the CLI on a 2-process cluster: the sources travel in every row partition, and
    the pairs, clusters, golden records, changes and run.json are the local run's."""
    out = tmp_path_factory.mktemp("link-dask") / "dask"
    done = _cleanse(stacked, LINK, out, "--engine", "dask", "--workers", "2")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert_same_outputs(linked, out)
    ran = [json.loads((r / "run.json").read_text(encoding="utf-8")) for r in (linked, out)]
    for run in ran:
        run["steps"]["match"].pop("substeps", None)  # the local engine's only
        run["steps"].get("write", {}).pop("seconds", None)
    for key in ("counts", "flags", "steps", "input"):
        assert ran[0][key] == ran[1][key], key


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _stacked(tmp_path_factory.mktemp("link-small"), 200)


@pytest.mark.parametrize(
    ("mapping", "says"),
    [
        ('[link]\nsource = "Kilde"\nside = "A"\n', "[link]: unknown keys ['side']; use source"),
        ("[link]\nsource = 3\n", "[link]: source must be a column name"),
        ('[link]\nsource = "System"\n', "[link] source column 'System' is not in the input"),
        ('[link]\nsource = "Navn"\n', "'Navn' is also mapped as name"),
        ('[link]\nsource = "Kilde"\n[compare]\nsystem = "Kilde"\n', "mapped as [compare] system"),
        ('[link]\nsource = "Kilde"\n[evaluation]\ntruth = "Kilde"\n', "[evaluation] truth"),
        ('[compare]\nsource = "By"\n', "source (reserved: name the source column under [link])"),
    ],
)
def test_a_link_table_that_cannot_be_used_is_one_line_and_exit_2(
    small: dict[str, Path], tmp_path: Path, mapping: str, says: str
) -> None:
    done = _cleanse(small, '[columns]\nname = "Navn"\n' + mapping, tmp_path / "out")
    assert done.returncode == 2, done.stderr[-2000:]
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith("error: ") and says in error, error


def test_a_row_without_a_source_is_one_line_and_exit_2(tmp_path: Path) -> None:
    data = _stacked(tmp_path, 200, blank=(6, 41))
    done = _cleanse(data, LINK, tmp_path / "out")
    assert done.returncode == 2, done.stderr[-2000:]
    error = done.stderr.strip().splitlines()[-1]
    assert "'Kilde' is blank on 2 rows (first at source_row 7)" in error, error
