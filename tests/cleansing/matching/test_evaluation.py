"""The matcher's own evaluation on a labelled file: blocking recall and pairwise cluster scores."""

from __future__ import annotations

import polars as pl
import pytest

from datavask.cleansing.matching.evaluation import evaluate


def _by_rule(rows: list[tuple[int, int, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"_l": pl.UInt32, "_r": pl.UInt32, "blocking_rule": pl.String}, orient="row"
    )


def test_blocking_recall_overall_and_per_rule() -> None:
    truth = pl.Series(["a", "a", "a", "b", "b", "c"])  # true pairs: 01 02 12 34
    by_rule = _by_rule(
        [(0, 1, "phone"), (0, 1, "name"), (1, 2, "name"), (2, 5, "name"), (3, 4, "birth")]
    )
    clusters = pl.Series(["C1", "C1", "C2", "C3", "C3", "C2"])
    found = evaluate(truth, by_rule, clusters, rule_order=["phone", "name", "birth"])
    assert found["true_pairs"] == 4
    assert found["candidate_pairs"] == 4
    assert found["pairs_per_record"] == pytest.approx(4 / 6, abs=1e-3)
    assert found["blocking_recall"] == 0.75  # 0-2 was never a candidate
    assert found["missed_true_pairs"] == 1
    assert found["rules"] == [
        {"blocking_rule": "phone", "true_pairs": 1, "only_this_rule": 0, "pairs": 1},
        {"blocking_rule": "name", "true_pairs": 2, "only_this_rule": 1, "pairs": 3},
        {"blocking_rule": "birth", "true_pairs": 1, "only_this_rule": 1, "pairs": 1},
    ]
    # clusters imply 01, 25, 34: two of them true, two of the four true pairs found
    assert found["clusters"] == {
        "precision": pytest.approx(2 / 3, abs=1e-6),
        "recall": 0.5,
        "f1": pytest.approx(4 / 7, abs=1e-6),
        "predicted_pairs": 3,
    }


def test_rules_are_listed_in_the_blocking_order_whatever_order_their_pairs_come_in() -> None:
    """An engine that blocks in chunks concatenates each chunk's pairs: a rule with one pair can
    come first in the rows though it is last among the rules."""
    truth = pl.Series(["a", "a", "b", "b"])
    chunked = _by_rule([(2, 3, "rare"), (0, 1, "phone"), (0, 1, "name"), (2, 3, "name")])
    whole = chunked.sort("blocking_rule", descending=True)
    clusters = pl.Series(["C1", "C1", "C2", "C2"])
    order = ["phone", "name", "unused", "rare"]
    found = evaluate(truth, chunked, clusters, rule_order=order)
    assert found == evaluate(truth, whole, clusters, rule_order=order)
    assert [rule["blocking_rule"] for rule in found["rules"]] == ["phone", "name", "rare"]


def test_unlabelled_records_take_no_part() -> None:
    truth = pl.Series(["a", None, "a", ""])
    by_rule = _by_rule([(0, 1, "name"), (0, 2, "name")])
    clusters = pl.Series(["C1", "C1", "C1", "C1"])
    found = evaluate(truth, by_rule, clusters, rule_order=["name"])
    assert found["labelled_records"] == 2
    assert found["true_pairs"] == 1
    assert found["blocking_recall"] == 1.0
    assert found["clusters"]["predicted_pairs"] == 1  # 0-2 only: 1 and 3 are unlabelled
    assert found["clusters"]["precision"] == 1.0


def test_linked_sources_count_only_pairs_across_them() -> None:
    truth = pl.Series(["a", "a", "a"])
    sources = pl.Series(["crm", "crm", "shop"])
    by_rule = _by_rule([(0, 2, "name")])
    found = evaluate(
        truth, by_rule, pl.Series(["C1", "C1", "C1"]), rule_order=["name"], sources=sources
    )
    assert found["true_pairs"] == 2  # 0-2 and 1-2; 0-1 lie within one source
    assert found["blocking_recall"] == 0.5
    assert found["clusters"]["recall"] == 1.0


def test_a_file_without_duplicates_scores_without_dividing_by_zero() -> None:
    found = evaluate(
        pl.Series(["a", "b"]), _by_rule([]), pl.Series(["C1", "C2"]), rule_order=["name"]
    )
    assert found["true_pairs"] == 0
    assert found["blocking_recall"] == 1.0
    assert found["rules"] == []
