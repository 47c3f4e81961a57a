"""The matcher after blocking, over chunks of the candidate pairs that never meet in one process.

:func:`~datavask.cleansing.matching.find_duplicates` holds every candidate pair at once. Here the
pairs stay in the chunks blocking left them in (the pairs whose first record lies in one row
partition, in the same order), and each step is the local step's function called per chunk; what
travels between chunks is small — level-pattern counts, the model, links and cluster labels:

=====================  =========================================================================
step                   per chunk of pairs, and what is put together from the chunks
=====================  =========================================================================
records                :func:`wanted`: the record positions the chunk's pairs name, per row
                       partition; :func:`picked`: those records of one partition; the chunk's
                       records are the pieces it asked for (a shuffle by record position)
compare                :func:`compared_chunk`: levels, hard-rule vetoes and copies of each pair,
                       kept with the chunk (:class:`Chunk`)
train                  :func:`training_patterns` and :func:`rule_counts` per chunk;
                       :func:`session_picks` samples each rule's pairs as the local run does (same
                       seed, same pairs), :func:`chunk_sessions` counts the sessions' patterns;
                       the counts summed are what the local EM fits
                       (:func:`~.fellegi_sunter.train_patterns`): the same model, bit for bit
term frequencies       :func:`tf_pieces` per row partition (values once per customer, cut by a
                       hash of the value), :func:`tf_bucket` counts a bucket's values,
                       :func:`tf_summed` makes the tables (:func:`with_tf` for each tf pass)
score                  :func:`scored_chunk` with the model and, from the second pass on, the
                       cluster labels
cluster                :func:`~datavask.cleansing.matching.cluster_links` per chunk; components
                       and their splits from all links; :func:`within_components` per chunk (the
                       pairs compared inside the components a bridge could hold) for the bridge
                       check
output                 :func:`finished_chunk`: refused links to review, the ``pairs`` rows, the
                       review pairs' records and the reviewed pairs
=====================  =========================================================================

A pair's order in the output is its order in the local run: the chunks in partition order, the
reviewers' pairs that blocking did not propose last (their own chunk, :func:`decided_extra`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from datavask.cleansing.matching import (
    MatchSettings,
    _adapted,
    _band,
    _decision,
    _pairs_frame,
    _refused_to_review,
    _same_customer,
    _total_pairs,
    bridge_links,
    cluster_links,
    split_components,
)
from datavask.cleansing.matching.blocking import (
    IDENTICAL,
    BlockingRule,
    coarse_evidence,
    default_rules,
)
from datavask.cleansing.matching.clusters import check_bridges
from datavask.cleansing.matching.compare import (
    Comparison,
    available_comparisons,
    compare_pairs,
    evidence_comparison,
)
from datavask.cleansing.matching.copies import copies_match, copy_pairs
from datavask.cleansing.matching.decisions import (
    Decided,
    locate_decisions,
    obey,
    with_decided_pairs,
)
from datavask.cleansing.matching.fellegi_sunter import (
    FellegiSunterModel,
    estimate_u,
    level_patterns,
    random_pair_prior,
    score_pairs,
    session_patterns,
    session_visible,
    summed_patterns,
    tf_table,
    tf_values,
    train_patterns,
)
from datavask.cleansing.matching.hard_rules import hard_rule_column
from datavask.cleansing.matching.prepare import evidence_fields
from datavask.cleansing.matching.review_band import ReviewBand, weight


@dataclass(frozen=True)
class Plan:
    """What every chunk needs to know, decided once from all records as the local run decides
    it: the comparisons, the blocking rules, the settings, the reviewers' pairs located."""

    comparisons: tuple[Comparison, ...]
    rules: tuple[BlockingRule, ...]
    settings: MatchSettings
    link_only: bool
    decided: Decided
    review_band: tuple[float, float] | None  # the user's, or None: the model's


def match_plan(
    records: pl.DataFrame,
    settings: MatchSettings,
    decisions: pl.DataFrame | None,
    link_only: bool,
    review_band: tuple[float, float] | None,
) -> Plan:
    """The comparisons and rules :func:`~datavask.cleansing.matching.find_duplicates` chooses for
    ``records`` (every record, prepared), and ``decisions`` located among them."""
    evidence = evidence_fields(records)
    comparisons = available_comparisons(records, _adapted(records, settings.comparisons))
    comparisons += tuple(
        evidence_comparison(f) for f in evidence if records[f"evidence_{f}"].count() > 0
    )
    rules = settings.blocking_rules or default_rules(
        window=settings.sorted_window, evidence=evidence, coarse=coarse_evidence(records, evidence)
    )
    decided = locate_decisions(decisions, records)
    return Plan(comparisons, rules, settings, link_only, decided, review_band)


# --------------------------------------------------------------------------- records of a chunk


def wanted(pairs: pl.DataFrame, offsets: Sequence[int]) -> list[pl.Series]:
    """Per row partition (starting at ``offsets``), the positions of its records that ``pairs``
    name, sorted."""
    named = pl.concat([pairs["_l"], pairs["_r"]]).unique().sort()
    bounds = [*offsets[1:], None]
    return [
        named.filter((named >= start) & (named < end) if end is not None else named >= start)
        for start, end in zip(offsets, bounds, strict=True)
    ]


def picked(records: pl.DataFrame, asked: list[pl.Series], partition: int) -> pl.DataFrame:
    """The records of one row partition that a chunk asked for (:func:`wanted`)."""
    positions = asked[partition]
    if positions.len() == 0:
        return records.clear()
    # A partition's positions run on without gaps from its first.
    return records.select(pl.all().gather(positions - records["_idx"][0]))


@dataclass
class Chunk:
    """A chunk of candidate pairs with what the local run computes once per pair: the records it
    names (sorted by ``_idx``), the pairs (``_l``, ``_r`` positions in the file,
    ``blocking_rule``) and their records' rows in ``records`` (``at``), levels, vetoes, copies."""

    records: pl.DataFrame
    candidates: pl.DataFrame
    at: pl.DataFrame
    levels: pl.DataFrame
    vetoes: pl.Series
    copied: pl.Series
    blocked: bool  # pairs of the blocking (else reviewers' pairs it did not propose)


def compared_chunk(
    pairs: pl.DataFrame, pieces: Sequence[pl.DataFrame], plan: Plan, *, blocked: bool = True
) -> Chunk:
    """The chunk ``pairs`` compared, from the records ``pieces`` (:func:`picked`) hold."""
    records = pl.concat(list(pieces), how="vertical")
    positions = records["_idx"]
    at = pl.DataFrame(
        {
            "_l": positions.search_sorted(pairs["_l"]).cast(pl.UInt32),
            "_r": positions.search_sorted(pairs["_r"]).cast(pl.UInt32),
        }
    )
    levels = compare_pairs(records, at["_l"], at["_r"], plan.comparisons)
    person = records.select(pl.col("customer_type").str.to_lowercase() == "person").to_series()
    vetoes = hard_rule_column(
        levels,
        person.gather(at["_l"]),
        person.gather(at["_r"]),
        rules=plan.settings.hard_rules,
    )
    copied = copy_pairs(records, at["_l"], at["_r"])
    return Chunk(
        records, pairs.select("_l", "_r", "blocking_rule"), at, levels, vetoes, copied, blocked
    )


def decided_held(pairs: pl.DataFrame, decided: Decided) -> pl.DataFrame:
    """The reviewers' pairs that are among a chunk's candidates."""
    return pairs.select("_l", "_r", "blocking_rule").join(
        decided.pairs.select("_l", "_r"), on=["_l", "_r"], how="semi", maintain_order="left"
    )


def decided_extra(held: Sequence[pl.DataFrame], decided: Decided) -> pl.DataFrame:
    """The reviewers' pairs blocking did not propose (:func:`decided_held` of every chunk says
    which it did), in the order the local run appends them."""
    proposed = pl.concat(list(held), how="vertical")
    return with_decided_pairs(proposed, decided).slice(proposed.height)


# --------------------------------------------------------------------------- the model


def training_patterns(chunk: Chunk, plan: Plan) -> pl.DataFrame:
    """The level patterns of the chunk's pairs EM learns from: blocked and not vetoed."""
    if not chunk.blocked:
        return level_patterns(chunk.levels.clear(), plan.comparisons)
    return level_patterns(chunk.levels.filter(chunk.vetoes.is_null()), plan.comparisons)


def rule_counts(by_rule: pl.DataFrame) -> dict[str, int]:
    """How many pairs each rule proposed in one chunk."""
    return dict(by_rule.group_by("blocking_rule").len().iter_rows())


def session_picks(
    counts: Sequence[dict[str, int]], plan: Plan
) -> list[dict[str, pl.Series | None]]:
    """Per chunk and rule, which of the rule's pairs (positions among the chunk's pairs of that
    rule, sorted by ``_l``, ``_r``) a training session takes: None for all of them.

    The local run samples a rule's pairs sorted by ``(_l, _r)``; the chunks hold them in that order
    one after another, and a sample's rows depend only on the row count and the seed, so the same
    pairs are drawn."""
    per_rule = plan.settings.training_pairs_per_rule
    picks: list[dict[str, pl.Series | None]] = [{} for _ in counts]
    for rule in plan.rules:
        sizes = [c.get(rule.name, 0) for c in counts]
        total = sum(sizes)
        if rule.star or total <= per_rule:
            for chunk in picks:
                chunk[rule.name] = None
            continue
        rows = pl.DataFrame({"_i": pl.int_range(total, eager=True, dtype=pl.Int64)})
        drawn = rows.sample(per_rule, seed=plan.settings.seed)["_i"].sort()
        start = 0
        for chunk, size in zip(picks, sizes, strict=True):
            chunk[rule.name] = drawn.filter((drawn >= start) & (drawn < start + size)) - start
            start += size
    return picks


def chunk_sessions(
    chunk: Chunk, by_rule: pl.DataFrame, picks: dict[str, pl.Series | None], plan: Plan
) -> list[pl.DataFrame]:
    """Per training session (a rule that is not a copy rule, in rule order), the level patterns
    of the chunk's pairs it takes (see :func:`~datavask.cleansing.matching._sessions`)."""
    kept = chunk.candidates.select("_l", "_r").filter(chunk.vetoes.is_null())
    kept = kept.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row_in_training"))
    training = chunk.levels.filter(chunk.vetoes.is_null())
    out = []
    for rule in plan.rules:
        if rule.star:
            continue
        pairs = by_rule.filter(pl.col("blocking_rule") == rule.name).select("_l", "_r")
        pairs = pairs.sort("_l", "_r")
        if (chosen := picks.get(rule.name)) is not None:
            pairs = pairs.select(pl.all().gather(chosen))
        rows = (
            pairs.join(kept, on=["_l", "_r"], how="inner")["_row_in_training"].sort()
            if chunk.blocked
            else pl.Series("_row_in_training", [], dtype=pl.UInt32)
        )
        out.append(session_patterns(training, rows, rule.uses, plan.comparisons))
    return out


def fitted_model(
    records: pl.DataFrame,
    plan: Plan,
    training: Sequence[pl.DataFrame],
    sessions: Sequence[list[pl.DataFrame]],
    tf: tuple[dict[str, pl.DataFrame], dict[str, float]],
) -> tuple[FellegiSunterModel, ReviewBand]:
    """The model the local run estimates, from every record (u), the term frequencies ``tf``
    (:func:`tf_summed`) and the chunks' pattern counts (m and λ), and the review band it gives."""
    settings, comparisons = plan.settings, plan.comparisons
    tf_tables, tf_mean = tf
    u = estimate_u(
        records,
        comparisons,
        sample_size=settings.u_sample_size,
        seed=settings.seed,
        link_only=plan.link_only,
        tf_mean=tf_mean,
    )
    overall = summed_patterns(list(training), comparisons)
    rules = [r for r in plan.rules if not r.star]
    per_session = [
        (
            summed_patterns([s[k] for s in sessions], session_visible(comparisons, rule.uses)),
            rule.uses,
        )
        for k, rule in enumerate(rules)
    ]
    model = train_patterns(
        overall, per_session, comparisons, u, max_iterations=settings.em_max_iterations
    )
    model.count_values(tf_tables, tf_mean)
    trained = int(overall["count"].sum() or 0)
    model.prior = random_pair_prior(
        model.match_share, trained, _total_pairs(records, link_only=plan.link_only)
    )
    return model, _band(plan.review_band, settings, model)


def tf_pieces(
    records: pl.DataFrame, plan: Plan, labels: np.ndarray | None, buckets: int
) -> dict[str, list[pl.DataFrame]]:
    """One row partition's share of the term frequencies: per tf comparison the values it holds
    (:func:`~.fellegi_sunter.tf_values`, once per customer: a copy key on the first pass, the
    cluster of ``labels`` after it), cut into ``buckets`` by a hash of the value, so that every
    value's rows meet in one bucket."""
    customers = (
        records.get_column(IDENTICAL)
        if labels is None
        else pl.Series(labels).gather(records["_idx"])
    )
    pieces = {}
    for c in plan.comparisons:
        if not c.tf_levels:
            continue
        values = tf_values(records, c, customers)
        bucket = values["value"].hash(seed=0) % buckets
        cut = values.with_columns(bucket.alias("_bucket")).partition_by(
            "_bucket", as_dict=True, include_key=False
        )
        empty = values.clear()
        pieces[c.name] = [cut.get((b,), empty) for b in range(buckets)]
    return pieces


def tf_bucket(pieces: Sequence[dict[str, list[pl.DataFrame]]], bucket: int) -> dict[str, Any]:
    """How many customers hold each value of one bucket, per tf comparison."""
    names = pieces[0].keys() if pieces else ()
    return {
        name: pl.concat([p[name][bucket] for p in pieces], how="vertical")
        .unique()
        .group_by("value")
        .len("count")
        for name in names
    }


def tf_summed(
    buckets: Sequence[dict[str, pl.DataFrame]],
) -> tuple[dict[str, pl.DataFrame], dict[str, float]]:
    """The term-frequency tables and ``ū`` (:func:`~.fellegi_sunter.term_frequencies`) from the
    buckets' counts."""
    tables: dict[str, pl.DataFrame] = {}
    means: dict[str, float] = {}
    names = buckets[0].keys() if buckets else ()
    for name in names:
        made = tf_table(pl.concat([b[name] for b in buckets], how="vertical"))
        if made is not None:
            tables[name], means[name] = made
    return tables, means


def with_tf(
    model: FellegiSunterModel, tf: tuple[dict[str, pl.DataFrame], dict[str, float]]
) -> FellegiSunterModel:
    """The model with the term frequencies of a tf pass (:func:`tf_summed`)."""
    import copy

    passed = copy.copy(model)
    passed.u = dict(model.u)  # count_values replaces its entries: the task's input stays as it was
    passed.count_values(*tf)
    return passed


# --------------------------------------------------------------------------- scoring, clusters


def scored_chunk(
    chunk: Chunk,
    model: FellegiSunterModel,
    band: ReviewBand,
    plan: Plan,
    labels: np.ndarray | None,
) -> pl.DataFrame:
    """The chunk's pairs scored and decided as the local run scores them; ``labels``: the cluster
    of every record from the pass before (None on the first pass: copies count as one)."""
    if labels is None:
        customers = chunk.records.get_column(IDENTICAL)
    else:
        customers = pl.Series(labels).gather(chunk.records["_idx"])
    extra = (
        chunk.candidates["_l"],
        chunk.candidates["_r"],
        chunk.candidates["blocking_rule"],
        chunk.vetoes,
        chunk.copied,
    )
    decide = copies_match(_decision(band)).alias("decision")
    return (
        score_pairs(chunk.levels.with_columns(_same_customer(customers, chunk.at)), model)
        .with_columns(*extra)
        .with_columns(decide)
        .pipe(obey, plan.decided)
    )


def chunk_links(scored: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The chunk's matched and vetoed pairs (:func:`~datavask.cleansing.matching.cluster_links`)."""
    return cluster_links(scored)


def split_from_links(
    records: pl.DataFrame, links: Sequence[tuple[pl.DataFrame, pl.DataFrame]], band: ReviewBand
) -> tuple[np.ndarray, int]:
    """Components over every chunk's matched pairs, split as the local run splits them."""
    matched = pl.concat([m for m, _ in links], how="vertical")
    cannot = pl.concat([c for _, c in links], how="vertical")
    return split_components(records.height, records["cvr"], matched, cannot, band)


def bridged(
    labels: np.ndarray,
    links: Sequence[tuple[pl.DataFrame, pl.DataFrame]],
    within: Sequence[pl.DataFrame],
    band: ReviewBand,
) -> tuple[np.ndarray, pl.DataFrame]:
    """The split components' bridges checked (:func:`~.clusters.check_bridges`) against the
    pairs compared inside them (:func:`within_components` of every chunk, in chunk order: the
    order the local run sums their weights in)."""
    matched = pl.concat([m for m, _ in links], how="vertical")
    return check_bridges(
        labels,
        bridge_links(matched, band),
        pl.concat(list(within), how="vertical"),
        merge_weight=weight(band.high),
    )


def within_components(scored: pl.DataFrame, labels: np.ndarray) -> pl.DataFrame:
    """The chunk's pairs (``_l``, ``_r``, ``match_weight``) inside one component of four or more
    records: the only pairs the bridge check (:func:`~.clusters.check_bridges`) reads."""
    label = pl.Series(labels)
    sizes = pl.Series(np.bincount(labels, minlength=len(labels)))
    left, right = label.gather(scored["_l"]), label.gather(scored["_r"])
    inside = (left == right) & (sizes.gather(left) >= 4)
    return scored.select("_l", "_r", "match_weight").filter(inside)


def finished_chunk(
    chunk: Chunk, scored: pl.DataFrame, refused: pl.DataFrame, plan: Plan
) -> dict[str, Any]:
    """The chunk's share of the match's outputs: its ``pairs`` rows (see
    :class:`~datavask.cleansing.matching.MatchResult`), the records of its review pairs, its
    reviewed pairs and counts."""
    scored = _refused_to_review(scored, refused)
    review = scored.filter(pl.col("decision") == "review")
    pairs = _pairs_frame(scored, chunk.records, plan.comparisons, plan.settings.pair_floor)
    return {
        "pairs": pairs,
        "review_records": pl.concat([review["_l"], review["_r"]]).unique(),
        "reviewed": scored.filter(pl.col("reviewed").is_not_null()),
        "review_pairs": review.height,
    }
