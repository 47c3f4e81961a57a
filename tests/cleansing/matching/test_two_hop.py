"""Pairs of records linked to a common record become candidates (``two_hop``)."""

from __future__ import annotations

import polars as pl

from datavask.cleansing.matching import (
    BlockingRule,
    MatchSettings,
    _decision,
    bridge_evidence,
    cluster_links,
    find_duplicates,
)
from datavask.cleansing.matching.review_band import ReviewBand
from datavask.cleansing.matching.two_hop import COMPONENT, TWO_HOP, hop_rule_counts, two_hop_pairs
from tests.cleansing.matching.population import frame, population_rows


def _scored(
    links: list[tuple[int, int, float]], vetoed: tuple[int, int] | None = None
) -> pl.DataFrame:
    """Scored pairs (``_l``, ``_r``, probability): weight is the probability's log-odds sign."""
    return pl.DataFrame(
        {
            "_l": [left for left, _, _ in links],
            "_r": [r for _, r, _ in links],
            "match_probability": [p for _, _, p in links],
            "match_weight": [10.0 * (p - 0.5) for _, _, p in links],
            "hard_rule": ["household" if (left, r) == vetoed else None for left, r, _ in links],
        },
        schema_overrides={"_l": pl.UInt32, "_r": pl.UInt32, "hard_rule": pl.String},
    )


def _records(
    n: int, cvr: list[str | None] | None = None, source: list[str] | None = None
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_idx": pl.Series(range(n), dtype=pl.UInt32),
            "source": source or ["a"] * n,
            "cvr": cvr or [None] * n,
        },
        schema_overrides={"cvr": pl.String},
    )


def _hops(scored: pl.DataFrame, records: pl.DataFrame, **options: object) -> list[tuple[int, int]]:
    given = {"link_only": False, "apart_on": "cvr", "max_degree": 50} | options
    pairs = two_hop_pairs(scored, records, **given)  # type: ignore[arg-type]
    assert set(pairs["blocking_rule"]) <= {TWO_HOP}
    return list(zip(pairs["_l"], pairs["_r"], strict=True))


def test_two_records_linked_to_a_third_are_paired() -> None:
    scored = _scored([(0, 1, 0.9), (1, 2, 0.8), (2, 3, 0.1)])
    assert _hops(scored, _records(4)) == [(0, 2)]


def test_a_pair_compared_already_a_weak_link_or_a_vetoed_one_adds_nothing() -> None:
    assert _hops(_scored([(0, 1, 0.9), (1, 2, 0.8), (0, 2, 0.01)]), _records(3)) == []
    assert _hops(_scored([(0, 1, 0.9), (1, 2, 0.4)]), _records(3)) == []
    assert _hops(_scored([(0, 1, 0.9), (1, 2, 0.8)], vetoed=(1, 2)), _records(3)) == []


def test_pairs_blocking_would_not_allow_are_left_out() -> None:
    scored = _scored([(0, 1, 0.9), (1, 2, 0.8)])
    assert _hops(scored, _records(3, cvr=["11111111", None, "22222222"])) == []
    assert _hops(scored, _records(3, cvr=["11111111", None, "11111111"])) == [(0, 2)]
    two_sources = _records(3, source=["a", "b", "a"])
    assert _hops(scored, two_sources, link_only=True) == []
    assert _hops(scored, two_sources, link_only=False) == [(0, 2)]


def test_a_hub_over_the_degree_cap_pairs_nothing_and_the_budget_keeps_the_strongest() -> None:
    star = _scored([(0, i, 0.6 + 0.01 * i) for i in range(1, 6)])  # five links at record 0
    assert len(_hops(star, _records(6))) == 10
    assert _hops(star, _records(6), max_degree=4) == []
    # Budget 0.5 a record of 6: three pairs, those whose weaker link is strongest (4 and 5 first).
    assert sorted(_hops(star, _records(6), budget=0.5)) == [(3, 4), (3, 5), (4, 5)]


def _chain() -> pl.DataFrame:
    # One customer's three records: a and b share a phone, b and c an e-mail; a and c share no
    # key of the rules below.
    same = {
        "customer_type": "person",
        "first_name_key": "jens",
        "last_name_key": "hansen",
        "name_key": "hansen jens",
        "street_key": "vestergade",
        "house_number": "12",
        "postal_code": "8000",
    }
    chain = [
        same | {"record_id": "a", "phone_e164": "+4520000001", "email": "jens@a.dk"},
        same | {"record_id": "b", "phone_e164": "+4520000001", "email": "jens@b.dk"},
        same | {"record_id": "c", "phone_e164": "+4520000002", "email": "jens@b.dk"},
    ]  # fmt: skip
    return frame(population_rows() + chain)


def test_find_duplicates_compares_the_pair_no_key_found() -> None:
    rules = (
        BlockingRule("phone", pl.col("_phones"), uses=("phone",)),
        BlockingRule("email", pl.col("_emails"), uses=("email",)),
    )
    settings = MatchSettings(pair_floor=0.0, blocking_rules=rules, every_pair_budget=0)
    ids = ["a", "c"]
    result = find_duplicates(_chain(), settings=settings)
    found = result.pairs.filter(pl.col("record_id_l").is_in(ids) & pl.col("record_id_r").is_in(ids))
    assert found["blocking_rule"].to_list() == [TWO_HOP]
    report = result.blocking_report.filter(pl.col("blocking_rule") == TWO_HOP)
    assert report["pairs_new"].to_list() == [
        result.pairs.filter(pl.col("blocking_rule") == TWO_HOP).height
    ]
    off = MatchSettings(pair_floor=0.0, blocking_rules=rules, every_pair_budget=0, two_hop_budget=0)
    without = find_duplicates(_chain(), settings=off)
    assert (
        without.pairs.filter(
            pl.col("record_id_l").is_in(ids) & pl.col("record_id_r").is_in(ids)
        ).height
        == 0
    )
    assert TWO_HOP not in without.blocking_report["blocking_rule"].to_list()


def test_records_farther_apart_in_one_small_component_come_after_the_two_hop_pairs() -> None:
    chain = _scored([(0, 1, 0.9), (1, 2, 0.8), (2, 3, 0.7)])
    pairs = two_hop_pairs(chain, _records(4), link_only=False, apart_on="cvr", max_degree=50)
    assert pairs.rows() == [(0, 2, TWO_HOP), (0, 3, COMPONENT), (1, 3, TWO_HOP)]
    assert hop_rule_counts(pairs) == [(TWO_HOP, 2), (COMPONENT, 1)]
    # Budget for two pairs of 4 records: both two_hop pairs, not the component's.
    few = two_hop_pairs(
        chain, _records(4), link_only=False, apart_on=None, max_degree=3, budget=0.5
    )
    assert few["blocking_rule"].to_list() == [TWO_HOP, TWO_HOP]
    # A component over the cap pairs nothing beyond two hops.
    capped = two_hop_pairs(chain, _records(4), link_only=False, apart_on=None, max_degree=3)
    assert COMPONENT not in capped["blocking_rule"].to_list()


def test_a_link_component_pair_is_at_most_a_review_and_splits_nothing() -> None:
    scored = pl.DataFrame(
        {
            "_l": [0, 0, 1],
            "_r": [3, 2, 3],
            "match_probability": [0.999, 0.001, 0.4],
            "match_weight": [10.0, -10.0, -1.0],
            "hard_rule": [None, None, "different_names"],
            "blocking_rule": [COMPONENT, COMPONENT, COMPONENT],
            "_copies": [False, False, False],
        },
        schema_overrides={"_l": pl.UInt32, "_r": pl.UInt32, "hard_rule": pl.String},
    )
    band = ReviewBand(0.1, 0.9, "option")
    assert scored.select(_decision(band).alias("decision"))["decision"].to_list() == [
        "review",
        "non-match",
        "non-match",
    ]
    keyed = scored.with_columns(pl.lit("name").alias("blocking_rule"))
    assert keyed.select(_decision(band).alias("decision"))["decision"].to_list() == [
        "match",
        "non-match",
        "non-match",
    ]
    decided = scored.with_columns(_decision(band).alias("decision"))
    assert cluster_links(decided)[1].height == 0  # its veto is no cannot-link
    assert cluster_links(decided.with_columns(pl.lit("name").alias("blocking_rule")))[1].height == 1
    assert bridge_evidence(decided).height == 0  # nor its score a bridge's evidence
    assert bridge_evidence(keyed.with_columns(_decision(band).alias("decision"))).height == 3
