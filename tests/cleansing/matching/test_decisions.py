"""Reviewers' decisions: resolved line by line, and obeyed by the matcher whatever the scores."""

from __future__ import annotations

from functools import cache
from typing import Any

import polars as pl
import pytest

from datavask.cleansing.matching import MatchResult, MatchSettings, find_duplicates
from datavask.cleansing.matching.decisions import (
    DECIDED_RULE,
    DECISION_COLUMNS,
    bad_lines,
    decision_history,
    resolve,
)
from tests.cleansing.matching.population import frame, population_rows
from tests.cleansing.matching.test_find_duplicates import PLANTED

BAND = (0.5, 0.996)


def lines(*rows: tuple[str, ...]) -> pl.DataFrame:
    """A decisions file's lines: (left, right, decision[, by[, note]])."""
    full = [
        (r[0], r[1], r[2], r[3] if len(r) > 3 else "alice", f"2026-12-02T03:{i:02d}:00+00:00",
         r[4] if len(r) > 4 else "")
        for i, r in enumerate(rows)
    ]  # fmt: skip
    return pl.DataFrame(full, schema=dict.fromkeys(DECISION_COLUMNS, pl.String), orient="row")


# --------------------------------------------------------------------------- resolving lines


def test_a_later_line_wins_whatever_the_order_of_the_ids() -> None:
    resolved = resolve(lines(("b", "a", "same"), ("a", "b", "different", "bob")))
    assert resolved.select("record_id_a", "record_id_b", "decision", "decided_by").rows() == [
        ("a", "b", "different", "bob")
    ]
    assert resolved["earlier"].to_list() == [1]


def test_undo_withdraws_the_reviewers_own_latest_decision_only() -> None:
    history = decision_history(
        lines(
            ("a", "b", "same", "alice"),
            ("a", "b", "different", "bob"),
            ("b", "a", "undecided", "bob"),  # bob's undo: alice's decision stands again
            ("c", "d", "same", "alice"),
            ("c", "d", "undecided", "bob"),  # bob never decided c/d: nothing to withdraw
            ("e", "f", "same", "alice"),
            ("e", "f", "undecided", "alice"),
        )
    )
    assert [(k, [h["decision"] for h in v]) for k, v in history.items()] == [
        (("a", "b"), ["same"]),
        (("c", "d"), ["same"]),
    ]


def test_unusable_lines_are_reported_not_obeyed() -> None:
    file = lines(("a", "", "same"), ("a", "a", "same"), ("a", "b", "yes"), ("a", "b", "same"))
    assert bad_lines(file)["problem"].to_list() == [
        "record_id_r is empty",
        "a record paired with itself",
        "decision yes is not same or different",
    ]
    assert bad_lines(file)["line"].to_list() == [2, 3, 4]
    assert resolve(file)["decision"].to_list() == ["same"]


# --------------------------------------------------------------------------- the matcher obeys


@cache
def _input() -> pl.DataFrame:
    return frame(population_rows() + PLANTED)


# Blocked as a large file is (no every_pair rule): the decisions' pairs that blocking never
# proposed are what some of these tests are about.
SETTINGS = MatchSettings(pair_floor=0.0, every_pair_budget=0)


@cache
def _baseline() -> MatchResult:
    return find_duplicates(_input(), review_band=BAND, settings=SETTINGS)


def _run(decisions: pl.DataFrame | None) -> MatchResult:
    return find_duplicates(_input(), review_band=BAND, settings=SETTINGS, decisions=decisions)


def _cluster(result: MatchResult, record_id: str) -> str:
    return result.clusters.filter(pl.col("record_id") == record_id)["cluster_id"][0]


def _pair(result: MatchResult, a: str, b: str) -> dict[str, Any]:
    found = result.pairs.filter(
        pl.col("record_id_l").is_in([a, b]) & pl.col("record_id_r").is_in([a, b])
    )
    assert found.height == 1
    return found.row(0, named=True)


@cache
def _decided() -> MatchResult:
    return _run(
        lines(
            ("hh-anne", "hh-jens", "same"),  # a household veto, overruled
            ("swap-1", "swap-2", "different"),  # a sure match, refused
            ("centre-0", "chain-a", "same"),  # never a candidate pair
            ("cvr-a", "cvr-b", "same"),  # two CVR numbers: refused
            ("gone-1", "hh-jens", "different"),  # a record no longer in the input
        )
    )


def test_no_decisions_change_nothing() -> None:
    empty = _run(lines())
    assert empty.clusters.equals(_baseline().clusters)
    assert empty.pairs.drop("reviewed", "model_decision").equals(
        _baseline().pairs.drop("reviewed", "model_decision")
    )
    assert empty.decisions == {}


def test_same_merges_whatever_the_score_or_veto() -> None:
    assert _cluster(_baseline(), "hh-jens") != _cluster(_baseline(), "hh-anne")
    result = _decided()
    assert _cluster(result, "hh-jens") == _cluster(result, "hh-anne")
    pair = _pair(result, "hh-jens", "hh-anne")
    assert (pair["decision"], pair["reviewed"], pair["hard_rule"]) == ("match", "same", None)
    assert pair["model_decision"] == "non-match"


def test_different_keeps_apart_even_through_a_third_record() -> None:
    baseline = _baseline()
    assert _cluster(baseline, "swap-1") == _cluster(baseline, "swap-2")
    assert _cluster(baseline, "init-1") == _cluster(baseline, "swap-1")
    result = _decided()
    assert _cluster(result, "swap-1") != _cluster(result, "swap-2")
    pair = _pair(result, "swap-1", "swap-2")
    assert (pair["decision"], pair["reviewed"], pair["hard_rule"]) == (
        "non-match",
        "different",
        "reviewer_different",
    )


def test_same_on_a_pair_blocking_never_proposed_is_compared_and_merged() -> None:
    result = _decided()
    assert _cluster(result, "centre-0") == _cluster(result, "chain-a")
    assert _pair(result, "centre-0", "chain-a")["blocking_rule"] == DECIDED_RULE
    assert result.decisions["agreement"]["same"]["not a candidate"] == 1


def test_same_across_two_cvr_numbers_is_refused_and_reported() -> None:
    result = _decided()
    assert _cluster(result, "cvr-a") != _cluster(result, "cvr-b")
    problems = {
        (p["record_id_l"], p["record_id_r"]): p["problem"] for p in result.decisions["problems"]
    }
    assert "two different CVR numbers" in problems[("cvr-a", "cvr-b")]
    assert problems[("gone-1", "hh-jens")] == "record gone-1 is no longer in the input"


def test_decision_report_counts_and_agreement() -> None:
    report = _decided().decisions
    assert (report["lines"], report["pairs_decided"], report["obeyed"]) == (5, 5, 3)
    assert (report["same"], report["different"]) == (2, 1)
    # the household pair: the model said non-match; swap-1/swap-2: it said match
    assert report["model_agreed"] == 0
    assert report["not_honoured"] == []


def test_decided_review_pairs_are_no_longer_review() -> None:
    review = _baseline().pairs.filter(pl.col("decision") == "review")
    if review.is_empty():
        pytest.fail("the population has no review pairs in the band; widen BAND")
    decisions = lines(
        *(
            (left, right, "same" if i % 2 else "different")
            for i, (left, right) in enumerate(review.select("record_id_l", "record_id_r").rows())
        )
    )
    result = _run(decisions)
    keys = review.select("record_id_l", "record_id_r")
    decided = result.pairs.join(keys, on=["record_id_l", "record_id_r"])
    assert decided.height == review.height
    assert set(decided["decision"]) <= {"match", "non-match"}
    # a record is flagged only for a pair still waiting
    waiting = result.pairs.filter(pl.col("decision") == "review")
    waiting_ids = set(waiting["record_id_l"]) | set(waiting["record_id_r"])
    flagged = set(result.clusters.filter(pl.col("in_review_pair"))["record_id"])
    assert flagged == waiting_ids
    assert (set(keys["record_id_l"]) | set(keys["record_id_r"])) - waiting_ids
