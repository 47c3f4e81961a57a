"""The Dask matcher's clusters without a task holding every record
(:mod:`datavask.flows.engine_dask_components`): label propagation over chunks of links, then the
split and the bridge check per bucket of whole components, give the local run's clusters.

Here the steps are called in order without a cluster, on links made to be hard: a long chain whose
records lie in every row partition and whose links lie in different chunks (so its label needs
several rounds to travel), with two CVR numbers at its ends that must split it; a vetoed pair
inside another component; a weak bridge between two pairs of certain links. The end-to-end test
(a chain of reviewers' ``same`` decisions across partitions, both engines as a user runs them) is
in ``test_engine_dask.py``.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

from datavask.cleansing.matching import bridge_links, split_components
from datavask.cleansing.matching.chunked import wanted
from datavask.cleansing.matching.clusters import check_bridges, unjoined
from datavask.cleansing.matching.review_band import given_band, weight
from datavask.flows.engine_dask_components import partitioned_components

ROWS, PARTITIONS = 60, 6
OFFSETS = list(range(0, ROWS, ROWS // PARTITIONS))
# Each link lies with the partition of its smaller position: consecutive links of the chain lie
# in different chunks, and its smallest position (1) sits at its far end.
CHAIN = [3, 57, 14, 41, 22, 8, 35, 50, 19, 44, 27, 53, 59, 33, 45, 58, 48, 1]
BAND = given_band((0.5, 0.9))


def _records() -> pl.DataFrame:
    cvr: list[str | None] = [None] * ROWS
    cvr[CHAIN[0]], cvr[CHAIN[-1]] = "11111111", "22222222"
    rows = list(range(1000, 1000 - ROWS, -1))  # the smallest source row is the largest position
    return pl.DataFrame(
        {
            "_idx": pl.Series(range(ROWS), dtype=pl.UInt32),
            "record_id": [f"R{i}" for i in range(ROWS)],
            "cvr": cvr,
            "_row": pl.Series(rows, dtype=pl.Int64),
        }
    )


def _scored() -> pl.DataFrame:
    """Every compared pair: ``_l``, ``_r``, ``match_weight``, ``decision``, ``hard_rule``."""
    rows: list[tuple[int, int, float, str, str | None]] = []
    # The chain's weights rise towards its CVR-less middle: the split drops the weakest link.
    for k, (a, b) in enumerate(itertools.pairwise(CHAIN)):
        rows.append((a, b, 5.0 + min(k, len(CHAIN) - k) * 0.1, "match", None))
    # A component with a vetoed pair inside it: 4 - 23 - 46, 4 and 46 must stay apart.
    rows += [(4, 23, 6.0, "match", None), (23, 46, 5.5, "match", None)]
    rows += [(4, 46, -3.0, "non-match", "different_person")]
    # Two pairs of certain links joined by one weak link whose cross pairs disagree: a bridge.
    rows += [(5, 38, 40.0, "match", None), (16, 55, 40.0, "match", None)]
    rows += [(38, 16, 4.0, "match", None)]
    rows += [(5, 16, -6.0, "non-match", None), (5, 55, -7.0, "non-match", None)]
    rows += [(38, 55, -5.0, "non-match", None)]
    frame = pl.DataFrame(
        rows,
        schema={
            "_l": pl.UInt32,
            "_r": pl.UInt32,
            "match_weight": pl.Float64,
            "decision": pl.String,
            "hard_rule": pl.String,
        },
        orient="row",
    )
    return frame.with_columns(
        pl.min_horizontal("_l", "_r").alias("_l"), pl.max_horizontal("_l", "_r").alias("_r")
    )


def _links(scored: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    matched = scored.filter(pl.col("decision") == "match").select(
        "_l", "_r", "match_weight", pl.lit(False).alias("_copies_pair")
    )
    cannot = scored.filter(pl.col("hard_rule").is_not_null()).select(
        "_l", "_r", pl.lit(False).alias("soft")
    )
    return matched, cannot


def _local(records: pl.DataFrame, scored: pl.DataFrame) -> tuple[np.ndarray, pl.DataFrame]:
    matched, cannot = _links(scored)
    labels, split = split_components(ROWS, records["cvr"], matched, cannot, BAND)
    assert split == 2  # the chain (two CVR numbers) and the vetoed component
    labels = check_bridges(
        labels,
        bridge_links(matched, BAND),
        scored.select("_l", "_r", "match_weight"),
        merge_weight=weight(BAND.high),
    )
    return labels, unjoined(matched, labels)


def test_components_across_partitions_and_chunks_are_the_local_ones() -> None:
    records, scored = _records(), _scored()
    chunk = pl.Series(OFFSETS).search_sorted(scored["_l"], side="right") - 1
    chunks = [scored.filter(chunk == c) for c in range(PARTITIONS)]
    in_chain = pl.col("_l").is_in(CHAIN) & pl.col("_r").is_in(CHAIN)
    assert all(c.filter(in_chain).height > 0 for c in chunks)  # links in every chunk
    stages: list[str] = []

    def submit(stage: str, i: int, fn: Any, *args: Any) -> Any:
        del i
        stages.append(stage)
        return fn(*args)

    clusters, refused = partitioned_components(
        submit,
        lambda x: x,
        1,
        {
            "prepared": [records.slice(o, ROWS // PARTITIONS) for o in OFFSETS],
            "offsets": OFFSETS,
            "links": [_links(c) for c in chunks],
            "scored": [c.select("_l", "_r", "match_weight") for c in chunks],
            "asked": [wanted(c, OFFSETS) for c in chunks],
            "band": BAND,
        },
    )
    labels, local_refused = _local(records, scored)
    found = pl.concat(clusters)
    assert found["_label"].to_list() == labels.tolist()
    frame = records.with_columns(pl.Series("_label", labels))
    expected = frame.select(
        pl.len().over("_label").cast(pl.Int64).alias("_size"),
        pl.col("_row").min().over("_label").alias("_first_row"),
    )
    assert_frame_equal(found.select("_size", "_first_row"), expected)
    assert_frame_equal(refused.sort("_l", "_r"), local_refused.sort("_l", "_r"))
    # Every match the clusters refused, for a person to decide: the chain's weakest link (two
    # CVR numbers), the vetoed component's weaker link, and the bridge.
    assert sorted(local_refused.rows()) == [(3, 57), (16, 38), (23, 46)]
    chain = frame.filter(pl.col("_idx").is_in(CHAIN))["_label"]
    assert chain.n_unique() == 2  # split at its weakest link
    rounds = sum(s.startswith("mccmin1.") for s in stages) // PARTITIONS
    assert rounds >= 3, rounds  # the chain's label travelled over several rounds
