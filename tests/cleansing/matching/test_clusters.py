"""Connected components and the splitting of contradictory clusters."""

from __future__ import annotations

import numpy as np
import polars as pl

from datavask.cleansing.matching.clusters import (
    check_bridges,
    cluster_frame,
    connected_components,
    split_conflicts,
    unjoined,
)


def test_components_of_a_chain_and_singletons() -> None:
    labels = connected_components(7, np.array([5, 4, 1]), np.array([6, 5, 2]))
    assert labels.tolist() == [0, 1, 1, 3, 4, 4, 4]


def test_components_without_edges_are_singletons() -> None:
    assert connected_components(3, np.array([]), np.array([])).tolist() == [0, 1, 2]


def _edges(rows: list[tuple[int, int, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"_l": pl.Int64, "_r": pl.Int64, "match_weight": pl.Float64}, orient="row"
    )


NO_VETOES = pl.DataFrame(schema={"_l": pl.Int64, "_r": pl.Int64})


def test_cluster_with_two_cvrs_is_split_at_its_weakest_link() -> None:
    # 0 (CVR A) —12— 1 (no CVR) —5— 2 (CVR B): the weak 1–2 link is the one dropped.
    edges = _edges([(0, 1, 12.0), (1, 2, 5.0)])
    labels = connected_components(3, edges["_l"].to_numpy(), edges["_r"].to_numpy())
    assert labels.tolist() == [0, 0, 0]
    cvr = pl.Series(["25313763", None, "10150817"])
    split, count = split_conflicts(labels, edges, cvr, NO_VETOES)
    assert split.tolist() == [0, 0, 2]
    assert count == 1


def test_cluster_holding_a_vetoed_pair_is_split() -> None:
    edges = _edges([(0, 1, 9.0), (1, 2, 11.0), (3, 4, 10.0)])
    labels = connected_components(5, edges["_l"].to_numpy(), edges["_r"].to_numpy())
    vetoed = pl.DataFrame({"_l": [0], "_r": [2]}, schema={"_l": pl.Int64, "_r": pl.Int64})
    split, count = split_conflicts(labels, edges, pl.Series([None] * 5, dtype=pl.String), vetoed)
    assert split.tolist() == [0, 1, 1, 3, 3]
    assert count == 1


def test_consistent_clusters_are_left_alone() -> None:
    edges = _edges([(0, 1, 9.0)])
    labels = connected_components(2, edges["_l"].to_numpy(), edges["_r"].to_numpy())
    split, count = split_conflicts(labels, edges, pl.Series(["25313763", "25313763"]), NO_VETOES)
    assert (split.tolist(), count) == ([0, 0], 0)


def test_cluster_ids_come_from_the_smallest_source_row() -> None:
    records = pl.DataFrame({"record_id": ["k9", "k3", "k7"], "_row": [12, 3, 1234567]})
    clusters = cluster_frame(records, np.array([0, 1, 0]), pl.Series([False, True, False]))
    assert clusters.rows() == [
        ("k9", "C000012", 2, False),
        ("k3", "C000003", 1, True),
        ("k7", "C000012", 2, False),
    ]


def _vetoes(rows: list[tuple[int, int, bool]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"_l": pl.Int64, "_r": pl.Int64, "soft": pl.Boolean}, orient="row"
    )


def test_a_soft_veto_yields_to_certain_links() -> None:
    # 0 —20— 1 —18— 2, a household veto on 0–2 (their own pair badly typed): the certain links
    # hold the three together; the weak 2–3 link still gives way to the veto on 0–3.
    edges = _edges([(0, 1, 20.0), (1, 2, 18.0), (2, 3, 5.0)])
    labels = connected_components(4, edges["_l"].to_numpy(), edges["_r"].to_numpy())
    vetoes = _vetoes([(0, 2, True), (0, 3, True)])
    nulls = pl.Series([None] * 4, dtype=pl.String)
    split, _ = split_conflicts(labels, edges, nulls, vetoes, certain_weight=8.0)
    assert split.tolist() == [0, 0, 0, 3]
    # Without a certain level every soft veto splits, as before.
    split, _ = split_conflicts(labels, edges, nulls, vetoes)
    assert split.tolist() == [0, 0, 2, 2]


def test_a_hard_veto_and_two_cvrs_yield_to_nothing() -> None:
    edges = _edges([(0, 1, 30.0), (1, 2, 30.0)])
    labels = connected_components(3, edges["_l"].to_numpy(), edges["_r"].to_numpy())
    nulls = pl.Series([None] * 3, dtype=pl.String)
    reviewer = _vetoes([(0, 2, False)])  # a reviewer's "different"
    split, _ = split_conflicts(labels, edges, nulls, reviewer, certain_weight=8.0)
    assert split[0] != split[2]
    cvr = pl.Series(["25313763", None, "10150817"])
    split, _ = split_conflicts(labels, edges, cvr, NO_VETOES, certain_weight=8.0)
    assert split[0] != split[2]


def _bridged(
    matched: list[tuple[int, int, float]], compared: list[tuple[int, int, float]], n: int
) -> tuple[list[int], list[tuple[int, int]]]:
    edges = _edges(matched).with_columns(certain=pl.col("match_weight") >= 8.0)
    labels = connected_components(n, edges["_l"].to_numpy(), edges["_r"].to_numpy())
    out = check_bridges(labels, edges, _edges(matched + compared), merge_weight=1.5)
    return out.tolist(), unjoined(edges, out).rows()


def test_a_weak_bridge_between_two_groups_that_disagree_is_refused() -> None:
    # {0, 1} and {2, 3} certain; 1–2 matches at 2 bits, but 0–2, 0–3 and 1–3 were compared at
    # −6, −7 and −5: the mean across the bridge is −4 bits, below the merge point.
    matched = [(0, 1, 20.0), (2, 3, 18.0), (1, 2, 2.0)]
    labels, refused = _bridged(matched, [(0, 2, -6.0), (0, 3, -7.0), (1, 3, -5.0)], 5)
    assert labels == [0, 0, 2, 2, 4]
    assert refused == [(1, 2)]


def test_a_bridge_the_cross_pairs_support_holds() -> None:
    matched = [(0, 1, 20.0), (2, 3, 18.0), (1, 2, 2.0)]
    labels, refused = _bridged(matched, [(0, 2, 3.0), (1, 3, 1.0)], 4)
    assert labels == [0, 0, 0, 0]  # (2 + 3 + 1) / 3 = 2 bits across
    assert refused == []


def test_a_single_record_joins_on_its_own_pair() -> None:
    # A badly typed duplicate (3) resembles the record it was copied from (0) more than its
    # siblings: the pair's own decision adds it, whatever 1–3 and 2–3 say.
    matched = [(0, 1, 20.0), (1, 2, 19.0), (0, 3, 2.0)]
    labels, refused = _bridged(matched, [(1, 3, -6.0), (2, 3, -6.0)], 4)
    assert labels == [0, 0, 0, 0]
    assert refused == []


def test_certain_links_are_never_refused() -> None:
    matched = [(0, 1, 20.0), (2, 3, 18.0), (1, 2, 9.0)]
    labels, refused = _bridged(matched, [(0, 2, -6.0), (0, 3, -7.0), (1, 3, -5.0)], 4)
    assert labels == [0, 0, 0, 0]
    assert refused == []
