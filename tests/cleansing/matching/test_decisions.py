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
    Decided,
    bad_lines,
    decision_history,
    locate_decisions,
    problem_entries,
    resolve,
)
from datavask.connectors.report_text import Text
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


# --------------------------------------------------------------------------- who the ids name


def _named(*rows: tuple[str, str, str, str, str]) -> pl.DataFrame:
    """Decision lines with the names the reviewer saw: (left, right, decision, name_l, name_r)."""
    return lines(*((r[0], r[1], r[2]) for r in rows)).with_columns(
        pl.Series("name_l", [r[3] for r in rows], pl.String),
        pl.Series("name_r", [r[4] for r in rows], pl.String),
    )


def _records(*rows: tuple[str, str | None, str | None]) -> pl.DataFrame:
    """Records as the matcher holds them: (record_id, name, cvr); row numbers from 1."""
    return pl.DataFrame(
        {
            "record_id": [r[0] for r in rows],
            "_idx": pl.Series(range(len(rows)), dtype=pl.UInt32),
            "_row": pl.Series(range(1, len(rows) + 1), dtype=pl.Int64),
            "name": [r[1] for r in rows],
            "cvr": [r[2] for r in rows],
        }
    )


def _reasons(decided: Decided) -> dict[tuple[str, str], tuple[str, dict[str, str]]]:
    return {
        (p["record_id_l"], p["record_id_r"]): (p["reason"], p["values"])
        for p in problem_entries(decided.problems)
    }


def test_a_customer_number_given_to_another_customer_is_asked_about_again() -> None:
    """90001 was "Kjærs Murer ApS" when it was decided ``same`` as 90002 "Kjærs Murer"; this week
    the CRM has given the number to "Mette Skov". Merging them would make Mette Skov the survivor
    of a company she has nothing to do with."""
    decisions = _named(
        ("90001", "90002", "same", "Kjærs Murer ApS", "Kjærs Murer"),
        ("90010", "90011", "different", "Hansen Byg", "Jens Hansen"),
    )
    week_a = _records(
        ("90001", "Kjærs Murer ApS", None), ("90002", "Kjærs Murer", None),
        ("90010", "Hansen Byg", None), ("90011", "Jens Hansen", None),
    )  # fmt: skip
    assert locate_decisions(decisions, week_a).pairs.height == 2
    week_b = _records(
        ("90001", "Mette Skov", None), ("90002", "Kjærs Murer", None),
        ("90010", "Hansen Byg", None), ("90011", "Ole Berg", None),
    )  # fmt: skip
    decided = locate_decisions(decisions, week_b)
    assert decided.pairs.is_empty()  # both go back to the model
    reasons = _reasons(decided)
    assert reasons[("90001", "90002")] == (
        "another_customer",
        {"record": "90001", "name_now": "Mette Skov", "name_then": "Kjærs Murer ApS"},
    )
    assert reasons[("90010", "90011")][1]["record"] == "90011"
    problems = {(p["record_id_l"], p["record_id_r"]): p["problem"] for p in
                problem_entries(decided.problems)}  # fmt: skip
    assert problems[("90001", "90002")] == (
        "record 90001 is another customer now: Mette Skov, not Kjærs Murer ApS"
    )


def test_the_same_customer_written_otherwise_keeps_its_decision() -> None:
    """Casing, legal form, Danish letters spelt out and word order are the matcher's one name;
    the records' addresses are not looked at (a decided pair whose address was corrected since
    still holds)."""
    decisions = _named(
        ("1", "2", "same", "Kjærs Murer ApS", "Kjærs Murer"),
        ("3", "4", "same", "Mette Skov", "Skov, Mette"),
        ("5", "6", "same", "", ""),  # written before the names were: obeyed as before
    )
    records = _records(
        ("1", "KJAERS MURER", None), ("2", "Kjærs Murer A/S", None),
        ("3", "Skov, Mette", None), ("4", "Mette Skov", None),
        ("5", "Mette Skov", None), ("6", "Ole Berg", None),
    )  # fmt: skip
    decided = locate_decisions(decisions, records)
    assert decided.problems.is_empty()
    assert decided.pairs.height == 3


def test_a_company_renamed_under_its_cvr_number_keeps_its_decision() -> None:
    decisions = _named(
        ("1", "2", "same", "Hansen Byg ApS", "Hansen Byg"),
        ("3", "4", "same", "Kyst VVS", "Kyst VVS ApS"),
    )
    records = _records(
        ("1", "Fjord Byg ApS", "25313763"), ("2", "Hansen Byg", "25313763"),  # one CVR still
        ("3", "Fjord VVS ApS", "10150817"), ("4", "Kyst VVS ApS", None),  # nothing to tell
    )  # fmt: skip
    decided = locate_decisions(decisions, records)
    assert decided.pairs.height == 1
    assert _reasons(decided)[("3", "4")][0] == "another_customer"


def test_a_line_naming_the_pair_the_other_way_round_keeps_each_name_with_its_record() -> None:
    resolved = resolve(_named(("b", "a", "same", "Name of b", "Name of a")))
    assert resolved.select("record_id_a", "name_a", "record_id_b", "name_b").row(0) == (
        "a", "Name of a", "b", "Name of b",
    )  # fmt: skip


def test_a_decision_on_an_id_the_input_holds_twice_says_so() -> None:
    """The input's two rows of 90003 became records ``90003#3`` and ``90003#5`` (their rows):
    which of them the reviewer meant is not known, and the id is there, so not "no longer in the
    input"."""
    records = _records(
        ("1", "Hansen Byg", None), ("2", "Torben Østergaard", None),
        ("90003#3", "Torben Østergaard", None), ("90004", "Torben Østergaard", None),
        ("90003#5", "Torben Østergaard", None), ("7#6", "Ole Berg", None),
    )  # fmt: skip
    decided = locate_decisions(
        lines(("90003", "90004", "same"), ("7", "1", "same"), ("9", "1", "same")), records
    )
    reasons = _reasons(decided)
    assert reasons[("90003", "90004")] == ("repeated_id", {"record": "90003"})
    # an id of the input that holds a ``#`` of its own is no repeated one
    assert reasons[("1", "7")] == ("not_in_input", {"record": "7"})
    assert reasons[("1", "9")] == ("not_in_input", {"record": "9"})


def test_lines_that_cannot_be_used_are_reported_with_the_rest() -> None:
    """The contract reports lines that cannot be used (an empty id, an unknown decision) in
    run.json, the terminal and the report; ``cleanse`` dropped them without a word."""
    records = _records(("1", "Hansen Byg", None), ("2", "Hansen Byg", None))
    decided = locate_decisions(
        lines(("1", "", "same"), ("1", "1", "same"), ("1", "2", "yes"), ("1", "2", "same")),
        records,
    )
    assert decided.pairs.height == 1  # the usable line is obeyed
    entries = problem_entries(decided.problems)
    assert [(e["reason"], e["values"]) for e in entries] == [
        ("empty_id", {"line": "2"}),
        ("same_record", {"line": "3"}),
        ("unknown_decision", {"line": "4", "value": "yes"}),
    ]
    assert entries[2]["problem"] == "line 4: decision yes is not same or different"
    assert [Text(lang).decision_problem(entries[2]) for lang in ("da", "en")] == [
        "linje 4 i beslutningsfilen: 'yes' er hverken 'same' eller 'different'",
        "line 4 of the decisions file: 'yes' is neither 'same' nor 'different'",
    ]
