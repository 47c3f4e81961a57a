"""The Dask engine's matcher, step by step and without a cluster: its chunked steps, called in
order, give what :func:`~datavask.cleansing.matching.find_duplicates` gives on the whole frame.

The end-to-end identity test (``test_engine_dask.py``) runs both engines as a user does; this one
covers in seconds what that file does not use: reviewers' decisions (pairs blocking did not
propose among them), a truth column for the evaluation, and linking sources (a ``source`` column:
pairs across sources only), which ``datavask cleanse`` cannot be asked for yet; the last also on
a 2-process cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from datavask.cleansing.matching import find_duplicates
from datavask.cleansing.matching.blocking import EVERY_PAIR_BUDGET
from datavask.cleansing.partitioning import row_slices
from datavask.flows.engine_dask_blocking import partitioned_blocking
from datavask.flows.engine_dask_match import partitioned_match
from datavask.flows.engine_dask_spill import loaded
from tests.cleansing.matching.population import frame, population_rows
from tests.cleansing.matching.test_decisions import lines
from tests.cleansing.matching.test_find_duplicates import PLANTED

PARTITIONS = 5


def _direct(stage: str, i: int, fn: Any, *args: Any) -> Any:
    del stage, i
    return fn(*args)


def _records(populations: int = 1) -> pl.DataFrame:
    """A population (or several, of other seeds) whose duplicates lie in different row
    partitions."""
    drawn = [row for seed in range(populations) for row in population_rows(300, seed=11 + seed)]
    rows = frame(drawn + PLANTED)
    return rows.sample(fraction=1.0, shuffle=True, seed=5)


# One population (~390 records) compares every pair (EVERY_PAIR_BUDGET: the every_pair rule, its
# pairs at most a review); four (~1,520) are over the budget, so a reviewer's pair can be one
# blocking never proposed.
@pytest.mark.parametrize(("populations", "far_apart_rule"), [(1, "every_pair"), (4, None)])
def test_chunked_match_gives_what_the_whole_frame_gives(
    populations: int, far_apart_rule: str | None
) -> None:
    records = _records(populations)
    n = records.height
    assert (n * (n - 1) // 2 > EVERY_PAIR_BUDGET) == (far_apart_rule is None)
    ids = records["record_id"]
    local = find_duplicates(records, decisions=None)
    matched = local.pairs.filter(pl.col("decision") == "match")
    decisions = lines(
        (ids[0], ids[1], "same"),  # far apart: no blocking rule proposes them
        (ids[2], ids[3], "different"),
        (matched["record_id_l"][0], matched["record_id_r"][0], "different"),
        (matched["record_id_l"][1], matched["record_id_r"][1], "same"),
        ("gone", ids[4], "same"),
    )
    truth = records["entity_id"]
    local = find_duplicates(records, decisions=decisions, truth=truth)

    slices = row_slices(records.height, PARTITIONS)
    views = [records.slice(offset, length) for offset, length in slices]
    offsets = [offset for offset, _ in slices]
    blocked = partitioned_blocking(_direct, lambda x: x, views, offsets, {})
    found, clusters = partitioned_match(
        _direct, lambda x: x, blocked, offsets, band=None, decisions=decisions, truth=truth
    )

    decided = "reviewer decision" if far_apart_rule is None else far_apart_rule
    assert local.pairs.filter(pl.col("blocking_rule") == decided).height >= 1
    assert_frame_equal(pl.concat(clusters), local.clusters)
    assert found["clusters"] == local.clusters["cluster_id"].n_unique()
    assert_frame_equal(found["pairs"], local.pairs)
    assert local.review_band is not None
    assert found["review_band"] == local.review_band.record()
    assert found["decisions"] == local.decisions
    assert found["evaluation"] == local.evaluation
    assert local.evaluation is not None and local.evaluation["true_pairs"] > 50


def test_spilled_chunks_give_the_same_match(tmp_path: Path) -> None:
    """With a spill directory the compared chunks live in Parquet files there and the output pairs
    are written in parts, in order; the match is the one held in memory gives."""
    records = _records()
    local = find_duplicates(records, decisions=None)
    slices = row_slices(records.height, PARTITIONS)
    views = [records.slice(offset, length) for offset, length in slices]
    offsets = [offset for offset, _ in slices]
    blocked = partitioned_blocking(_direct, lambda x: x, views, offsets, {})
    (tmp_path / "chunks").mkdir()
    (tmp_path / "pairs").mkdir()
    found, clusters = partitioned_match(
        _direct, lambda x: x, blocked, offsets, band=None, decisions=None, truth=None,
        spill=str(tmp_path), in_flight=2,
    )  # fmt: skip

    assert_frame_equal(pl.concat(clusters), local.clusters)
    parts = sorted((tmp_path / "pairs").glob("part-*.parquet"))
    assert len(parts) == PARTITIONS
    assert found["pairs"] == local.pairs.height
    assert_frame_equal(pl.read_parquet(parts), local.pairs)
    assert len(list((tmp_path / "chunks").glob("*.parquet"))) == 2 * PARTITIONS
    assert not list(tmp_path.rglob(".*"))  # no temporary file left (hidden until renamed)


def test_spilled_row_partitions_give_the_same_match(tmp_path: Path) -> None:
    """The engine's row partitions, blocking's pairs and scored chunks kept as Parquet files
    (:mod:`~datavask.flows.engine_dask_spill`, every task reading its handles back, a chunk's
    records picked from the files): the match the frames held in memory give."""
    from datavask.flows.engine_dask import SPILLED_STAGES
    from datavask.flows.engine_dask_spill import SpilledFrame, loading, spilling

    rows = tmp_path / "rows"
    rows.mkdir()
    spilled: list[str] = []

    def submit(stage: str, i: int, fn: Any, *args: Any) -> Any:
        if stage.rstrip("0123456789.") in SPILLED_STAGES:
            spilled.append(stage)
            return spilling(fn, str(rows / f"{stage}-{i:05d}.parquet"), *args)
        return loading(fn, *args)

    records = _records()
    local = find_duplicates(records, decisions=None)
    slices = row_slices(records.height, PARTITIONS)
    views = [
        spilling(
            lambda frame: frame, str(rows / f"view-{i}.parquet"), records.slice(offset, length)
        )
        for i, (offset, length) in enumerate(slices)
    ]
    offsets = [offset for offset, _ in slices]
    blocked = partitioned_blocking(submit, lambda x: x, views, offsets, {})
    assert all(isinstance(p, SpilledFrame) for p in [*blocked.prepared, *blocked.pairs])
    (tmp_path / "chunks").mkdir()
    (tmp_path / "pairs").mkdir()
    found, clusters = partitioned_match(
        submit, lambda x: x, blocked, offsets, band=None, decisions=None, truth=None,
        spill=str(tmp_path), in_flight=2,
    )  # fmt: skip

    assert {"prepared", "kfound", "kbyrule", "mscored1"} <= set(spilled)
    assert_frame_equal(pl.concat(clusters), local.clusters)
    assert found["pairs"] == local.pairs.height
    assert_frame_equal(pl.read_parquet(sorted((tmp_path / "pairs").glob("*.parquet"))), local.pairs)
    assert not list(tmp_path.rglob(".*"))  # no temporary file left (hidden until renamed)


def test_a_spilled_chunk_reads_back_as_it_was(tmp_path: Path) -> None:
    from datavask.cleansing.matching.chunked import Chunk
    from datavask.flows.engine_dask_match import loaded_chunk, spilled_chunk

    records = _records().with_row_index("_idx")
    pairs = pl.DataFrame({"_l": [0, 1, 2], "_r": [1, 2, 3], "blocking_rule": ["a", "b", "a"]})
    chunk = Chunk(
        records=records.head(4),
        candidates=pairs,
        at=pairs.select(pl.col("_l", "_r").cast(pl.UInt32)),
        levels=pl.DataFrame(
            {"name": [0, 1, 2], "cvr": [None, 3, 1]}, schema_overrides={"name": pl.Int8}
        ),
        vetoes=pl.Series("veto", [None, "cvr", None], dtype=pl.String),
        copied=pl.Series("copy", [True, False, False]),
        blocked=False,
    )
    handle = spilled_chunk(chunk, str(tmp_path / "chunk-00000"))
    again = loaded_chunk(handle)
    for field in ("records", "candidates", "at", "levels"):
        assert_frame_equal(getattr(again, field), getattr(chunk, field))
    assert again.vetoes.equals(chunk.vetoes) and again.vetoes.name == "veto"
    assert again.copied.equals(chunk.copied) and again.copied.name == "copy"
    assert again.blocked is False
    assert loaded_chunk(chunk) is chunk


def _linked(populations: int) -> pl.DataFrame:
    """:func:`_records` from three sources linked (``source`` set: pairs across sources only),
    their records interleaved through every row partition; each customer's records in different
    sources, but a fifth of the customers wholly in one (pairs link-only mode must not propose)."""
    rank = pl.int_range(pl.len()).over("entity_id")
    return _records(populations).with_columns(
        pl.when(pl.col("entity_id").is_null() | (pl.col("entity_id").hash(3) % 5 == 0))
        .then(pl.lit("crm"))
        .otherwise(
            pl.lit(["crm", "webshop", "erp"]).list.get(
                ((pl.col("entity_id").hash(5) + rank) % 3).cast(pl.Int64)
            )
        )
        .alias("source")
    )


def _linked_match(records: pl.DataFrame, submit: Any, gather: Any, **spill: Any) -> None:
    """The chunked steps through ``submit``/``gather`` give what the whole frame gives."""
    truth = records["entity_id"]  # the evaluation counts true pairs across sources only
    local = find_duplicates(records, decisions=None, truth=truth)
    sources = dict(zip(records["record_id"], records["source"], strict=True))
    pairs = local.pairs.select("record_id_l", "record_id_r").rows()
    assert len(pairs) > 100 and all(sources[a] != sources[b] for a, b in pairs)
    by_entity = records.group_by("entity_id").agg(pl.len(), pl.col("source").n_unique())
    assert by_entity.filter((pl.col("len") > 1) & (pl.col("source") == 1)).height > 5

    slices = row_slices(records.height, PARTITIONS)
    views = [records.slice(offset, length) for offset, length in slices]
    offsets = [offset for offset, _ in slices]
    assert all(view["source"].n_unique() == 3 for view in views)
    part = pl.Series([o for o, _ in slices]).search_sorted(
        pl.Series(range(records.height)), "right"
    )
    where = dict(zip(records["record_id"], part, strict=True))
    assert sum(where[a] != where[b] for a, b in pairs) > len(pairs) // 2  # blocks span partitions
    blocked = partitioned_blocking(submit, gather, views, offsets, {})
    assert blocked.link_only
    found, clusters = partitioned_match(
        submit, gather, blocked, offsets, band=None, decisions=None, truth=truth, **spill
    )
    found = gather(found)  # the report, a task's result on a cluster
    assert_frame_equal(pl.concat(loaded(gather(list(clusters)))), local.clusters)
    if spill:
        written = sorted(Path(spill["spill"], "pairs").glob("part-*.parquet"))
        assert found["pairs"] == local.pairs.height
        assert_frame_equal(pl.read_parquet(written), local.pairs)
    else:
        assert_frame_equal(found["pairs"], local.pairs)
    assert local.review_band is not None
    assert found["review_band"] == local.review_band.record()
    assert found["evaluation"] == local.evaluation


def test_linking_sources_in_chunks_gives_what_the_whole_frame_gives() -> None:
    _linked_match(_linked(4), _direct, lambda x: x)


def test_linking_on_a_cluster_of_processes_gives_what_the_whole_frame_gives(
    tmp_path: Path,
) -> None:
    """The same on a 2-process cluster, with 10,000 records, each task under its own key and the
    row partitions' stages, compared chunks and output pairs spilled as the engine does: the
    sources travel between processes (whose string hashing differs) and still link the same.
    A harness calling the engine's steps: ``datavask cleanse`` has no way yet to say which source
    a row comes from, so a user cannot start a link-only run."""
    from datavask.flows.engine_dask import SPILLED_STAGES
    from datavask.flows.engine_dask_spill import loading, spilling
    from tests.flows.dask_cluster import local_cluster

    records = _linked(27)
    assert records.height >= 10_000
    for folder in ("rows", "chunks", "pairs"):
        (tmp_path / folder).mkdir()
    with local_cluster(2) as (_, client):

        def submit(stage: str, i: int, fn: Any, *args: Any) -> Any:
            key = f"link-{stage}-{i}"
            if stage.rstrip("0123456789.") in SPILLED_STAGES:
                target = str(tmp_path / "rows" / f"{stage}-{i:05d}.parquet")
                return client.submit(spilling, fn, target, *args, key=key)
            return client.submit(loading, fn, *args, key=key)

        _linked_match(records, submit, client.gather, spill=str(tmp_path), in_flight=4)


def _three_partitions() -> tuple[list[pl.DataFrame], list[int]]:
    """30 records in row partitions of 10, 12 and 8, each its own ``_idx`` and name."""
    records = pl.DataFrame(
        {"_idx": pl.Series(range(30), dtype=pl.UInt32), "name": [f"n{i}" for i in range(30)]}
    )
    offsets = [0, 10, 22]
    bounds = [*offsets[1:], records.height]
    return [records.slice(a, b - a) for a, b in zip(offsets, bounds, strict=True)], offsets


# Chunk 0: each pair's two records in different partitions (0-2, 1-0, 2-1); chunk 1: records of
# partition 1 only (partitions 0 and 2 empty pieces); chunk 2: no pairs at all.
CHUNK_PAIRS = [[(3, 25), (12, 7), (29, 10), (3, 7)], [(11, 15), (15, 21)], []]


@pytest.mark.parametrize("spilled", [False, True])
def test_a_chunk_gets_its_records_from_the_partitions_they_sit_in(
    tmp_path: Path, spilled: bool
) -> None:
    """The shuffle by chunk: each row partition cut once into one piece per chunk
    (``routed_records``), each chunk assembling its own pieces (``own_pieces``), gives every
    chunk exactly the records its pairs name, in position order, from the partitions that hold
    them, kept as files or held."""
    from datavask.cleansing.matching.chunked import wanted
    from datavask.flows.engine_dask_match import own_pieces, routed_records
    from datavask.flows.engine_dask_spill import SpilledFrame, spilling

    parts, offsets = _three_partitions()
    whole = pl.concat(parts)
    asked = [
        wanted(
            pl.DataFrame(pairs, schema={"_l": pl.UInt32, "_r": pl.UInt32}, orient="row"), offsets
        )
        for pairs in CHUNK_PAIRS
    ]
    if spilled:
        routes = [
            spilling(routed_records, str(tmp_path / f"mroute-{q}.parquet"), part, asked, q)
            for q, part in enumerate(parts)
        ]
        assert all(isinstance(piece, SpilledFrame) for route in routes for piece in route)
        assert len(list(tmp_path.glob("mroute-*.parquet"))) == len(parts) * len(CHUNK_PAIRS)
    else:
        routes = [routed_records(part, asked, q) for q, part in enumerate(parts)]

    for c, pairs in enumerate(CHUNK_PAIRS):
        pieces = own_pieces(routes, c)
        assert len(pieces) == len(parts)
        named = sorted({i for pair in pairs for i in pair})
        for q, piece in enumerate(pieces):  # each piece from its own partition
            end = offsets[q + 1] if q + 1 < len(offsets) else whole.height
            assert piece["_idx"].to_list() == [i for i in named if offsets[q] <= i < end]
        assert_frame_equal(pl.concat(pieces), whole.filter(pl.col("_idx").is_in(named)))
    assert [p.height for p in own_pieces(routes, 1)] == [0, 3, 0]
    assert [p.height for p in own_pieces(routes, 2)] == [0, 0, 0]


def test_a_chunk_gets_the_cluster_labels_of_its_own_records() -> None:
    """Each partition's cluster labels cut once by chunk (``routed_labels``, the tf passes) and
    its component labels (``looked_up_routed``, the components' rounds): a chunk's pieces, in
    order, are the labels of the records it names, whichever partition holds them."""
    from datavask.cleansing.matching.chunked import wanted
    from datavask.flows.engine_dask_components import initial_labels, looked_up_routed
    from datavask.flows.engine_dask_match import routed_labels

    parts, offsets = _three_partitions()
    label = pl.Series("_label", [100 + (i * 7) % 30 for i in range(30)], dtype=pl.Int64)
    clusters = [label.slice(p["_idx"][0], p.height).to_frame() for p in parts]
    asked = [
        wanted(
            pl.DataFrame(pairs, schema={"_l": pl.UInt32, "_r": pl.UInt32}, orient="row"), offsets
        )
        for pairs in CHUNK_PAIRS
    ]
    routes = [routed_labels(clusters[q], asked, q, start) for q, start in enumerate(offsets)]
    states = [initial_labels(p) for p in parts]
    for state, held in zip(states, clusters, strict=True):
        state["label"] = held["_label"].to_numpy()
    looked = [looked_up_routed(state, asked, q) for q, state in enumerate(states)]
    for c, pairs in enumerate(CHUNK_PAIRS):
        named = sorted({i for pair in pairs for i in pair})
        expected = label.gather(named).to_list()
        assert pl.concat([route[c] for route in routes]).to_list() == expected
        assert [int(x) for route in looked for x in route[c]] == expected
