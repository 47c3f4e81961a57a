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
cluster                :func:`chunk_links` per chunk (matched and vetoed links); the components,
                       their splits and the bridge check per bucket of whole components on the
                       workers (:mod:`datavask.flows.engine_dask_components`)
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
    _band,
    _decision,
    _pairs_frame,
    _refused_to_review,
    _review_rule,
    _same_customer,
    chosen_comparisons,
    cluster_links,
    estimated_prior,
)
from datavask.cleansing.matching.blocking import (
    IDENTICAL,
    BlockingRule,
    coarse_fields,
    default_rules,
    evidence_counts,
    learned_from,
)
from datavask.cleansing.matching.compare import (
    Comparison,
    compare_pairs,
    tf_counted,
)
from datavask.cleansing.matching.copies import copies_match, copy_pairs
from datavask.cleansing.matching.decisions import (
    LOCATE_COLUMNS,
    Decided,
    input_ids,
    locate_decisions,
    obey,
    with_decided_pairs,
)
from datavask.cleansing.matching.fellegi_sunter import (
    IDENTIFIERS,
    POPULATION,
    WITHIN_GROUP,
    FellegiSunterModel,
    all_pairs,
    file_share,
    identifier_u,
    level_patterns,
    random_pairs,
    record_share,
    score_pairs,
    session_patterns,
    session_visible,
    summed_patterns,
    tf_counts,
    tf_table,
    tf_values,
    train_patterns,
    u_from_levels,
    u_sample_size,
)
from datavask.cleansing.matching.hard_rules import (
    birth_years_apart,
    both_public,
    hard_rule_column,
    owner_and_business,
)
from datavask.cleansing.matching.namesakes import namesakes_to_review
from datavask.cleansing.matching.prepare import evidence_fields
from datavask.cleansing.matching.review_band import ReviewBand


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
    records: int = 0  # how many records the run matches


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
        years_apart=birth_years_apart(records, at["_l"], at["_r"]),
        owner=owner_and_business(records, at["_l"], at["_r"]),
        public=both_public(records, at["_l"], at["_r"]),
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
    """The level patterns of the chunk's pairs EM learns from: blocked, not vetoed, found by a
    rule that trains."""
    if not chunk.blocked:
        return level_patterns(chunk.levels.clear(), plan.comparisons)
    return level_patterns(chunk.levels.filter(_learn(chunk, plan)), plan.comparisons)


def _learn(chunk: Chunk, plan: Plan) -> pl.Series:
    """The chunk's pairs EM learns from: not vetoed, found by a rule that trains (as the local
    run's ``learn``)."""
    trained = chunk.candidates.select(learned_from(plan.rules)).to_series()
    return chunk.vetoes.is_null() & trained


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
        if not rule.trains or total <= per_rule:
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
    """Per training session (a rule that trains, in rule order), the level patterns
    of the chunk's pairs it takes (see :func:`~datavask.cleansing.matching._sessions`)."""
    learn = _learn(chunk, plan)
    kept = chunk.candidates.select("_l", "_r").filter(learn)
    kept = kept.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row_in_training"))
    training = chunk.levels.filter(learn)
    out = []
    for rule in plan.rules:
        if not rule.trains:
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
    return tf_pieces_of(records, plan, customers, buckets)


def tf_pieces_of(
    records: pl.DataFrame, plan: Plan, customers: pl.Series, buckets: int
) -> dict[str, list[pl.DataFrame]]:
    """:func:`tf_pieces` with each record's customer given (``customers``, in the partition's
    order): its cluster's label, which the partition holds without every record's."""
    pieces = {}
    for c in tf_counted(plan.comparisons):
        values = tf_values(records, c, customers)
        bucket = values["value"].hash(seed=0) % buckets
        cut = values.with_columns(bucket.alias("_bucket")).partition_by(
            "_bucket", as_dict=True, include_key=False
        )
        empty = values.clear()
        pieces[c.name] = [cut.get((b,), empty) for b in range(buckets)]
    return pieces


def tf_bucket(pieces: Sequence[dict[str, list[pl.DataFrame]]], bucket: int) -> dict[str, Any]:
    """How many customers hold each value of one bucket, per tf comparison (and at how many
    addresses: :func:`~.fellegi_sunter.tf_counts`)."""
    names = pieces[0].keys() if pieces else ()
    return {
        name: tf_counts(pl.concat([p[name][bucket] for p in pieces], how="vertical"))
        for name in names
    }


def tf_summed(
    buckets: Sequence[dict[str, pl.DataFrame]], summaries: Sequence[dict[str, Any]]
) -> tuple[dict[str, pl.DataFrame], dict[str, float]]:
    """The term-frequency tables and ``ū`` (:func:`~.fellegi_sunter.term_frequencies`) from the
    buckets' counts, for the file the row partitions' ``summaries`` describe."""
    tables: dict[str, pl.DataFrame] = {}
    means: dict[str, float] = {}
    names = buckets[0].keys() if buckets else ()
    share = record_share(sum(int(s["height"]) for s in summaries))
    for name in names:
        made = tf_table(pl.concat([b[name] for b in buckets], how="vertical"), name, in_file=share)
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
    return scored_chunk_of(chunk, model, band, plan, customers)


def scored_chunk_of(
    chunk: Chunk,
    model: FellegiSunterModel,
    band: ReviewBand,
    plan: Plan,
    customers: pl.Series,
) -> pl.DataFrame:
    """:func:`scored_chunk` with the customer of each of the chunk's records given (in the order
    of ``chunk.records``): the copy key, or the record's cluster from the pass before."""
    extra = (
        chunk.candidates["_l"],
        chunk.candidates["_r"],
        chunk.candidates["blocking_rule"],
        chunk.vetoes,
        chunk.copied,
    )
    compared = [c.name for c in plan.comparisons]
    decide = copies_match(_decision(band, compared)).alias("decision")
    return (
        score_pairs(chunk.levels.with_columns(_same_customer(customers, chunk.at)), model)
        .with_columns(*extra)
        .with_columns(decide, _review_rule(band, compared))
        .pipe(namesakes_to_review, chunk.records, chunk.at["_l"], chunk.at["_r"])
        .pipe(obey, plan.decided)
    )


def chunk_links(scored: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The chunk's matched and vetoed pairs (:func:`~datavask.cleansing.matching.cluster_links`)."""
    return cluster_links(scored)


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


# --------------------------------------------------------------------------- without every record
#
# The plan, u and the prior from what each row partition says of itself, so that no process holds
# every record: :func:`partition_summary` per partition, :func:`summarised_plan` from them, the
# random pairs u is estimated from drawn by position (:func:`u_draws`, the local run's draws) and
# only those records fetched (:func:`wanted_positions`, :func:`picked`), :func:`sampled_u`.


def partition_summary(
    records: pl.DataFrame, decided_ids: pl.Series | None, groups: Sequence[str]
) -> dict[str, Any]:
    """What the plan and the model read of one row partition's prepared records.

    ``witness``: for every column its first row holding a value (a non-empty list for a list
    column): the plan only asks whether any record holds one, and these rows of every partition
    answer that as all records do. ``evidence``: the evidence fields' value counts; ``ids``: the
    records the reviewers' decisions name (``decided_ids``); ``sources``: records per source;
    ``groups``: per group column of a within-group u (postal code) the records per value."""
    firsts = []
    if records.height:
        for name, dtype in records.schema.items():
            firsts.append(pl.col(name).is_not_null().arg_max().alias(f"{name}\0n"))
            if isinstance(dtype, pl.List):
                firsts.append((pl.col(name).list.len() > 0).arg_max().alias(f"{name}\0l"))
    rows = sorted({r for r in records.select(firsts).row(0) if r is not None}) if firsts else []
    # a repeated id's records too (``90003#303``): a decision on ``90003`` is reported so
    ids = records.select(
        pl.col("record_id").cast(pl.String),
        *(c for c in LOCATE_COLUMNS[1:] if c in records.columns),
    ).with_columns(input_ids(records).alias("_input_id"))
    counted = {
        g: records.get_column(g).drop_nulls().value_counts(name="n")
        for g in groups
        if g in records.columns
    }
    return {
        "height": records.height,
        "witness": records[rows],
        "evidence": evidence_counts(records, evidence_fields(records)),
        "ids": ids.filter(pl.col("_input_id").is_in(decided_ids.implode())).drop("_input_id")
        if decided_ids is not None
        else ids.clear().drop("_input_id"),
        "sources": records.get_column("source").value_counts(name="count")
        if "source" in records.columns
        else None,
        "groups": counted,
    }


def summarised_plan(
    summaries: Sequence[dict[str, Any]],
    settings: MatchSettings,
    decisions: pl.DataFrame | None,
    link_only: bool,
    review_band: tuple[float, float] | None,
) -> Plan:
    """The comparisons and rules :func:`~datavask.cleansing.matching.find_duplicates` chooses for
    every record, and ``decisions`` located among them, from the row partitions'
    :func:`partition_summary` alone: the same plan the local run makes."""
    witness = pl.concat([s["witness"] for s in summaries], how="vertical")
    evidence = evidence_fields(witness)
    comparisons = chosen_comparisons(witness, settings, evidence)
    rules = settings.blocking_rules or default_rules(
        window=settings.sorted_window,
        evidence=evidence,
        coarse=coarse_fields([s["evidence"] for s in summaries]),
        total_pairs=summarised_pairs(summaries, link_only=link_only),
        every_pair_budget=settings.every_pair_budget,
    )
    ids = pl.concat([s["ids"] for s in summaries], how="vertical")
    decided = locate_decisions(decisions, ids)
    records = sum(s["height"] for s in summaries)
    return Plan(comparisons, rules, settings, link_only, decided, review_band, records)


def summarised_pairs(summaries: Sequence[dict[str, Any]], *, link_only: bool) -> int:
    """:func:`~datavask.cleansing.matching._total_pairs` from the summaries."""
    n = sum(s["height"] for s in summaries)
    if not link_only:
        return n * (n - 1) // 2
    sizes = (
        pl.concat([s["sources"] for s in summaries], how="vertical")
        .group_by("source")
        .agg(pl.col("count").sum())["count"]
        .to_list()
    )
    return (sum(sizes) ** 2 - sum(s * s for s in sizes)) // 2


def _group_sizes(summaries: Sequence[dict[str, Any]], group: str) -> pl.DataFrame:
    pieces = [s["groups"][group] for s in summaries if group in s["groups"]]
    if not pieces:
        return pl.DataFrame({group: [], "n": []}, schema={group: pl.String, "n": pl.UInt32})
    return pl.concat(pieces, how="vertical").group_by(group).agg(pl.col("n").sum())


def u_draws(summaries: Sequence[dict[str, Any]], plan: Plan) -> dict[str, Any]:
    """The record positions :func:`~.fellegi_sunter.estimate_u` draws for the file the summaries
    describe (same seed, same draws): ``pairs`` (``_l``, ``_r``, before the link-only filter, for
    which ``sources`` says whether any record has a source) and per within-group comparison the
    groups and member ranks drawn, cut per row partition (``within``)."""
    settings, n = plan.settings, sum(s["height"] for s in summaries)
    size = u_sample_size(n, settings.u_sample_size)
    empty = pl.DataFrame({"_l": [], "_r": []}, schema={"_l": pl.UInt32, "_r": pl.UInt32})
    drawn: dict[str, Any] = {"n": n, "size": size, "pairs": empty, "within": {}}
    if n < 2:
        return drawn
    if n * (n - 1) // 2 <= size and not plan.link_only:
        left, right = all_pairs(n)
    else:
        left, right = random_pairs(n, size, seed=settings.seed)
    drawn["pairs"] = pl.DataFrame([left.alias("_l"), right.alias("_r")])
    drawn["sources"] = plan.link_only and any(
        s["sources"] is not None and s["sources"].drop_nulls("source")["count"].sum() > 0
        for s in summaries
    )
    names = {c.name for c in plan.comparisons}
    for name, group in WITHIN_GROUP.items():
        if name in names:
            drawn["within"][name] = _within_draws(summaries, group, size, settings.seed)
    return drawn


def _within_draws(
    summaries: Sequence[dict[str, Any]], group: str, size: int, seed: int
) -> dict[str, Any]:
    """The draws of :func:`~.fellegi_sunter._u_within_group`: which groups, which members (their
    rank by position within the group), the ranks cut per row partition (``parts``: ``_draw``,
    ``_side``, ``group``, ``_rank`` within that partition's members of the group)."""
    merged = _group_sizes(summaries, group)
    sizes = merged.filter(pl.col("n") > 1).sort(group)
    total = int(merged["n"].sum() or 0)
    if sizes.height == 0 or total < 2:
        return {"total": total, "same_group": None, "parts": []}
    counts = sizes["n"].to_numpy().astype(np.float64)
    same_group = float((counts * (counts - 1)).sum() / (total * (total - 1)))
    rng = np.random.default_rng(seed + 1)
    chosen = rng.choice(
        len(counts), size=size, p=counts * (counts - 1) / (counts * (counts - 1)).sum()
    )
    n_chosen = counts[chosen].astype(np.int64)
    first = rng.integers(0, n_chosen)
    second = (first + rng.integers(1, n_chosen)) % n_chosen
    values = sizes[group].gather(pl.Series(chosen))
    ranks = pl.DataFrame(
        {
            "_draw": np.concatenate([np.arange(size), np.arange(size)]),
            "_side": np.repeat(np.array([0, 1], dtype=np.int8), size),
            group: pl.concat([values, values]),
            "_rank": np.concatenate([first, second]),
        }
    )
    # Members run in position order: partition q holds a group's ranks after the earlier ones'.
    parts, before = [], sizes.select(group, pl.lit(0, dtype=pl.Int64).alias("_before"))
    for s in summaries:
        here = (
            s["groups"][group].select(group, pl.col("n").cast(pl.Int64))
            if group in s["groups"]
            else before.clear().rename({"_before": "n"})
        )
        mine = (
            ranks.join(before, on=group)
            .join(here, on=group)
            .with_columns(pl.col("_rank") - pl.col("_before"))
            .filter((pl.col("_rank") >= 0) & (pl.col("_rank") < pl.col("n")))
            .select("_draw", "_side", group, "_rank")
        )
        parts.append(mine)
        before = before.join(here, on=group, how="left").select(
            group, pl.col("_before") + pl.col("n").fill_null(0)
        )
    return {"total": total, "same_group": same_group, "group": group, "parts": parts}


def within_members(records: pl.DataFrame, drawn: dict[str, Any], partition: int) -> dict[str, Any]:
    """Per within-group comparison the positions of the members :func:`u_draws` drew in one row
    partition (``_draw``, ``_side``, ``_idx``)."""
    found = {}
    for name, within in drawn["within"].items():
        if not within["parts"]:
            continue
        group = within["group"]
        members = (
            records.filter(pl.col(group).is_not_null())
            .select("_idx", group)
            .with_columns(pl.int_range(pl.len(), dtype=pl.Int64).over(group).alias("_rank"))
        )
        found[name] = (
            within["parts"][partition]
            .join(members, on=[group, "_rank"])
            .select("_draw", "_side", pl.col("_idx").cast(pl.UInt32))
        )
    return found


def drawn_positions(
    drawn: dict[str, Any], members: Sequence[dict[str, Any]], offsets: Sequence[int]
) -> dict[str, Any]:
    """The draws with the within-group ones as record positions (``within_pairs``: per
    comparison ``_l``, ``_r`` in draw order) and which positions every row partition is asked for
    (``asked``, as :func:`wanted`)."""
    within = {}
    for name in drawn["within"]:
        found = pl.concat([m[name] for m in members if name in m], how="vertical")
        size = drawn["size"]
        left = found.filter(pl.col("_side") == 0).sort("_draw")["_idx"]
        right = found.filter(pl.col("_side") == 1).sort("_draw")["_idx"]
        if left.len() != size or right.len() != size:
            raise AssertionError("a within-group draw found no record")
        within[name] = pl.DataFrame([left.alias("_l"), right.alias("_r")])
    every = pl.concat([drawn["pairs"], *within.values()], how="vertical")
    return drawn | {"within_pairs": within, "asked": wanted(every, offsets)}


def exact_pieces(records: pl.DataFrame, plan: Plan, buckets: int) -> dict[str, list[pl.DataFrame]]:
    """Per agree/disagree comparison, one row partition's value counts of its column cut into
    ``buckets`` by a hash of the value (for :func:`~.fellegi_sunter._exact_u` without every
    record)."""
    pieces = {}
    for c in plan.comparisons:
        if len(c.levels) != 2:
            continue
        counts = records.get_column(c.columns[0]).drop_nulls().alias("value").value_counts()
        bucket = counts["value"].hash(seed=0) % buckets
        cut = counts.with_columns(bucket.alias("_bucket")).partition_by(
            "_bucket", as_dict=True, include_key=False
        )
        pieces[c.name] = [cut.get((b,), counts.clear()) for b in range(buckets)]
    return pieces


def exact_bucket(pieces: Sequence[dict[str, list[pl.DataFrame]]], bucket: int) -> dict[str, Any]:
    """Per agree/disagree comparison, one bucket's ``Σ count`` and ``Σ count·(count−1)``."""
    names = pieces[0].keys() if pieces else ()
    sums = {}
    for name in names:
        counts = (
            pl.concat([p[name][bucket] for p in pieces], how="vertical")
            .group_by("value")
            .agg(pl.col("count").sum().cast(pl.Int64))["count"]
        )
        sums[name] = (int(counts.sum() or 0), int((counts * (counts - 1)).sum() or 0))
    return sums


def _exact_u_from(total: int, same_pairs: int) -> list[float]:
    """:func:`~.fellegi_sunter._exact_u` from the summed counts (integers: the float sums of the
    local run are exact, so the result is the same)."""
    if total < 2:
        agree = 0.5
    else:
        same = float(same_pairs) / (float(total) * (total - 1))
        agree = max(same, 1.0 / (float(total) * total))
    return [1.0 - agree, agree]


def sampled_u(
    drawn: dict[str, Any],
    pieces: Sequence[pl.DataFrame],
    counted: Sequence[dict[str, tuple[int, int]]],
    plan: Plan,
    tf_mean: dict[str, float],
) -> tuple[dict[str, list[float]], pl.DataFrame]:
    """:func:`~.fellegi_sunter.estimate_u` from the drawn records only (``drawn``: the
    :func:`drawn_positions`; ``pieces``: the :func:`picked` records of every row partition) and
    the exact counts (``counted``: :func:`exact_bucket` of every bucket): u, and the drawn pairs'
    level patterns."""
    comparisons, n = plan.comparisons, drawn["n"]
    if n < 2:
        uniform = {c.name: [1.0 / len(c.levels)] * len(c.levels) for c in comparisons}
        return uniform, pl.DataFrame(schema={"count": pl.Int64})
    sample = pl.concat(list(pieces), how="vertical")
    at = sample["_idx"]
    pairs = drawn["pairs"].filter(pl.col("_l") != pl.col("_r"))
    if drawn.get("sources"):
        src = sample["source"]
        differ = src.gather(at.search_sorted(pairs["_l"])).ne_missing(
            src.gather(at.search_sorted(pairs["_r"]))
        )
        pairs = pairs.filter(differ)

    def local(frame: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
        return (
            at.search_sorted(frame["_l"]).cast(pl.UInt32),
            at.search_sorted(frame["_r"]).cast(pl.UInt32),
        )

    exact = {}
    for c in comparisons:
        if len(c.levels) != 2:
            continue
        if c.name in IDENTIFIERS:
            exact[c.name] = identifier_u(n)
        elif c.name in tf_mean:
            exact[c.name] = [1.0 - tf_mean[c.name], tf_mean[c.name]]
        else:
            total = sum(e[c.name][0] for e in counted)
            same_pairs = sum(e[c.name][1] for e in counted)
            exact[c.name] = _exact_u_from(total, same_pairs)
    left, right = local(pairs)
    levels = compare_pairs(sample, left, right, comparisons, with_tf_values=False)

    def within(c: Comparison) -> list[float]:
        return _within_u(sample, c, drawn, local)

    u = u_from_levels(levels, comparisons, exact, tf_mean, within, in_file=file_share(n))
    return u, level_patterns(levels, comparisons)


def _within_u(
    sample: pl.DataFrame,
    comparison: Comparison,
    drawn: dict[str, Any],
    local: Any,
) -> list[float]:
    """:func:`~.fellegi_sunter._u_within_group` from the drawn members."""
    within = drawn["within"][comparison.name]
    levels_n = len(comparison.levels)
    if within["same_group"] is None:
        return [1.0 - 1e-9 * (levels_n - 1)] + [1e-9] * (levels_n - 1)
    pairs = drawn["within_pairs"][comparison.name]
    left, right = local(pairs)
    levels = compare_pairs(sample, left, right, (comparison,), with_tf_values=False)
    observed = levels[f"lvl_{comparison.name}"].filter(levels[f"lvl_{comparison.name}"] >= 0)
    seen = max(observed.len(), 1)
    floor = 1.0 / (2.0 * seen)
    inside = [max(int((observed == level).sum()) / seen, floor) for level in range(levels_n)]
    u = [within["same_group"] * share for share in inside]
    u[0] += 1.0 - within["same_group"]
    return u


def fitted_from_summaries(
    given: tuple[tuple[dict[str, list[float]], pl.DataFrame], int],
    plan: Plan,
    training: Sequence[pl.DataFrame],
    sessions: Sequence[list[pl.DataFrame]],
    tf: tuple[dict[str, pl.DataFrame], dict[str, float]],
) -> tuple[FellegiSunterModel, ReviewBand]:
    """The model the local run estimates and the review band it gives: m and λ by EM on the
    chunks' summed pattern counts, u (:func:`sampled_u`) and the number of record pairs
    (:func:`summarised_pairs`) from the partitions rather than from every record."""
    (u, sample), total_pairs = given
    settings, comparisons = plan.settings, plan.comparisons
    tf_tables, tf_mean = tf
    overall = summed_patterns(list(training), comparisons)
    rules = [r for r in plan.rules if r.trains]
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
    model.small_file = plan.records < POPULATION
    trained = int(overall["count"].sum() or 0)
    model.prior = estimated_prior(settings, model, trained, overall, total_pairs, sample=sample)
    return model, _band(plan.review_band, settings, model)
