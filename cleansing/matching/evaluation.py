"""How well the matcher did on a labelled file: blocking recall and the clusters' pairwise scores.

A user with a labelled sample names the column that holds each record's true customer
(``[evaluation] truth = "column"`` in the mapping file). That column is never matching evidence:
it reaches :func:`evaluate` beside the matcher, not through the record frame.

In: the truth per record (input order; null for an unlabelled record, which takes no part), the
candidate pairs of every blocking rule (``_l``, ``_r``, ``blocking_rule``: a pair found by two
rules twice) and the cluster id per record. Out: a plain dict for run.json —

- ``true_pairs``: pairs of labelled records with one truth value (across sources only when the
  matcher linked sources), ``candidate_pairs`` and ``pairs_per_record``;
- ``blocking_recall``: the share of true pairs that became candidates — a true pair never
  compared can never be found; ``missed_true_pairs``;
- ``rules``: per rule, the true pairs it proposes (``true_pairs``), those only it proposes
  (``only_this_rule``) and all pairs it proposes (``pairs``);
- ``clusters``: pairwise precision, recall and F1 of the pairs the clusters imply.

Example: truth ``a a b`` with candidates (0, 1) and (1, 2) and clusters ``C1 C1 C2``: one true
pair, blocking recall 1.0, cluster precision, recall and F1 1.0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl


def _grouped_pairs(groups: pl.Series, sources: pl.Series | None) -> pl.DataFrame:
    """Pairs of positions (``_l`` < ``_r``) sharing a non-null group value; across sources only
    when ``sources`` is given."""
    frame = pl.DataFrame(
        {"g": groups, "_l": pl.int_range(groups.len(), dtype=pl.UInt32, eager=True)}
    )
    if sources is not None:
        frame = frame.with_columns(sources.alias("s"))
    frame = frame.drop_nulls("g")
    pairs = frame.join(frame, on="g", suffix="_r").filter(pl.col("_l") < pl.col("_l_r"))
    if sources is not None:
        pairs = pairs.filter((pl.col("s") != pl.col("s_r")).fill_null(True))
    return pairs.select("_l", pl.col("_l_r").alias("_r"))


def _share(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else 1.0


def _scores(predicted: pl.DataFrame, true: pl.DataFrame) -> dict[str, float | int]:
    hits = predicted.join(true, on=["_l", "_r"], how="semi").height
    precision = _share(hits, predicted.height)
    recall = _share(hits, true.height)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": round(f1, 6),
        "predicted_pairs": predicted.height,
    }


def evaluate(
    truth: pl.Series,
    by_rule: pl.DataFrame,
    cluster_ids: pl.Series,
    *,
    rule_order: Sequence[str],
    sources: pl.Series | None = None,
) -> dict[str, Any]:
    """Blocking recall (overall and per rule) and the clusters' pairwise precision, recall and F1
    against ``truth`` (see the module docstring); ``sources``: the record's source where the
    matcher only linked across sources. The rules are listed in ``rule_order`` (the blocking
    report's), not in the order ``by_rule``'s rows happen to come in: an engine that blocks in
    chunks meets a rule with few pairs first in another chunk than the whole frame does."""
    truth = truth.cast(pl.String).str.strip_chars().replace("", None)
    labelled = truth.is_not_null()
    true = _grouped_pairs(truth, sources)
    candidates = by_rule.select("_l", "_r").unique()
    found = true.join(candidates, on=["_l", "_r"], how="semi").height
    hits = by_rule.join(true, on=["_l", "_r"], how="semi")
    finders = hits.group_by("_l", "_r").agg(pl.col("blocking_rule").n_unique().alias("finders"))
    only = (
        hits.join(finders.filter(pl.col("finders") == 1), on=["_l", "_r"], how="semi")
        .group_by("blocking_rule")
        .len("only_this_rule")
    )
    order = pl.DataFrame({"blocking_rule": list(dict.fromkeys(rule_order))}).with_row_index("_at")
    per_rule = (
        by_rule.group_by("blocking_rule")
        .len("pairs")
        .join(order, on="blocking_rule", how="left")
        .sort("_at", "blocking_rule", nulls_last=True)
        .join(hits.group_by("blocking_rule").len("true_pairs"), on="blocking_rule", how="left")
        .join(only, on="blocking_rule", how="left")
        .select(
            "blocking_rule",
            pl.col("true_pairs").fill_null(0),
            pl.col("only_this_rule").fill_null(0),
            "pairs",
        )
    )
    n_labelled = int(labelled.sum())
    labelled_clusters = pl.select(pl.when(labelled).then(cluster_ids.cast(pl.String))).to_series()
    predicted = _grouped_pairs(labelled_clusters, sources)
    return {
        "labelled_records": n_labelled,
        "true_pairs": true.height,
        "candidate_pairs": candidates.height,
        "pairs_per_record": round(candidates.height / truth.len(), 3) if truth.len() else 0.0,
        "blocking_recall": _share(found, true.height),
        "missed_true_pairs": true.height - found,
        "rules": per_rule.to_dicts(),
        "clusters": _scores(predicted, true),
    }
