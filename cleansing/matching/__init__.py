"""The duplicate finder: which records are the same customer.

:func:`find_duplicates` takes the normalised record frame and runs

1. **blocking** (:mod:`~cleansing.matching.blocking`) — candidate pairs from shared CVR, EAN,
   e-mail, phone, company e-mail domain, address, postal code + name prefix, date of birth, a
   mapping's ``[compare]`` evidence and sorted-neighbourhood passes over names and unparsed
   address lines (neighbours only when their keys are alike); two records with different CVR
   numbers are never paired; oversized blocks are split by finer keys, what stays too big is
   skipped and reported;
2. **comparison** (:mod:`~cleansing.matching.compare`) — discrete agreement levels per field;
3. **scoring** (:mod:`~cleansing.matching.fellegi_sunter`) — Fellegi–Sunter weights with u from
   random pairs, m by EM over the candidate pairs, term-frequency adjusted;
4. **hard rules** (:mod:`~cleansing.matching.hard_rules`) — Danish vetoes (two CVRs, households,
   sister companies, unrelated names);
5. **decision** (:mod:`~cleansing.matching.review_band`) — match, review or non-match by the pair's
   posterior against the review band: the user's, or by default one derived per file around
   posterior 0.5 from the model's uncertainty; namesakes at one address told apart only by a
   phone and a mailbox of their own are at most a review (:mod:`.namesakes`);
6. **clustering** (:mod:`~datavask.cleansing.matching.clusters`) — connected components over matched
   pairs, split where they hold two CVR numbers or a vetoed pair (a Danish rule's veto yields to
   links the model is certain of); a weak link between two groups of records holds only when the
   pairs compared across them reach the merge point on average, else it goes to review.

Example: two records of "Hansen Byg ApS", Vestergade 12, 8000 Aarhus C, one with CVR 25313763 and
one without but with the same phone number, score about 0.99 and share ``cluster_id`` ``C000001``;
"Hansen Holding ApS" at the same address with CVR 10150817 stays a customer of its own.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import polars as pl

from datavask.cleansing.matching.blocking import (
    CROWDED_BLOCK_PAIRS,
    EVERY_PAIR,
    EVERY_PAIR_BUDGET,
    IDENTICAL,
    PAIR_SCHEMA,
    WHOLE_BLOCK_PAIRS,
    BlockingRule,
    Candidates,
    candidate_pairs,
    coarse_evidence,
    default_rules,
    learned_from,
    pair_key,
    pairs_among,
)
from datavask.cleansing.matching.clusters import (
    check_bridges,
    cluster_frame,
    connected_components,
    split_conflicts,
    unjoined,
)
from datavask.cleansing.matching.compare import (
    DANISH_COMPARISONS,
    PERSON_REGISTER_COMPARISONS,
    Comparison,
    available_comparisons,
    compare_pairs,
    evidence_comparison,
)
from datavask.cleansing.matching.copies import COPIES, copies_match, copy_pairs
from datavask.cleansing.matching.decisions import (
    DIFFERENT,
    Decided,
    decision_report,
    link_strength,
    locate_decisions,
    obey,
    with_decided_pairs,
)
from datavask.cleansing.matching.evaluation import evaluate
from datavask.cleansing.matching.fellegi_sunter import (
    POPULATION,
    SAME_CUSTOMER,
    FellegiSunterModel,
    ScoringPatterns,
    TfCodes,
    consistent_prior,
    encode_tf_values,
    estimate_u,
    level_patterns,
    pattern_rows,
    pattern_scores,
    population_pairs,
    random_pair_prior,
    sampled_prior,
    scoring_patterns,
    term_frequencies,
    tf_codes,
    tf_value_codes,
    train,
)
from datavask.cleansing.matching.hard_rules import (
    HARD_RULES,
    SOFT_VETOES,
    birth_years_apart,
    both_public,
    hard_rule_column,
    owner_and_business,
    review_only,
    review_reason,
    review_reason_text,
    review_rules,
)
from datavask.cleansing.matching.namesakes import namesakes_to_review
from datavask.cleansing.matching.prepare import evidence_fields, prepare_records
from datavask.cleansing.matching.review_band import (
    ReviewBand,
    given_band,
    model_band,
    threshold_band,
    weight,
)
from datavask.cleansing.matching.threads import beside
from datavask.cleansing.matching.two_hop import (
    COMPONENT,
    TWO_HOP_BUDGET,
    hop_rule_counts,
    two_hop_pairs,
)

__all__ = [
    "DANISH_COMPARISONS",
    "DECISIONS",
    "HARD_RULES",
    "PERSON_REGISTER_COMPARISONS",
    "SUBSTEPS",
    "BlockingRule",
    "MatchResult",
    "MatchSettings",
    "ReviewBand",
    "find_duplicates",
]

DECISIONS: Final = ("match", "review", "non-match")

SUBSTEPS: Final = (
    "prepare",
    "blocking",
    "compare",
    "hard_rules",
    "term_frequencies",
    "u",
    "fit",
    "score",
    "cluster",
    "bridges",
    "output",
)
"""The matcher's sub-steps as :attr:`MatchResult.substeps` names them: preparing the records,
blocking, comparing the candidate pairs, the hard rules and copies, the term-frequency tables,
u from random pairs, m by EM, scoring and deciding the pairs, connected components split where
they conflict, the bridge check, and the output frames (pairs with explanations, clusters).
``term_frequencies``, ``score``, ``cluster`` and ``bridges`` are summed over the tf passes. The
first pass's term frequencies and ``u`` depend on the records alone and run beside ``blocking``,
``compare`` and ``hard_rules`` (:func:`~.threads.beside`): their seconds overlap those."""


class _Stopwatch:
    """Seconds per sub-step, summed over repeated entries (the tf passes)."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(SUBSTEPS, 0.0)

    @contextmanager
    def __call__(self, substep: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[substep] += time.perf_counter() - started


@dataclass(frozen=True)
class MatchSettings:
    """How the matcher is configured; the defaults suit a Danish customer master file.

    - ``comparisons``: comparison names (see :data:`~cleansing.matching.compare.COMPARISONS`);
      those whose columns are empty in the input are dropped automatically;
    - ``blocking_rules``: ``None`` for :func:`~datavask.cleansing.matching.blocking.default_rules`;
    - ``match_threshold``: when set and no review band is given, one match probability that
      splits match from non-match (nothing goes to review) — for experiments; by default the
      decision uses the review band derived from the model (:mod:`.review_band`);
    - ``every_pair_budget``: a file with at most this many record pairs compares every pair
      (:data:`~datavask.cleansing.matching.blocking.EVERY_PAIR_BUDGET`; 0 blocks every file);
    - ``prior``: how the chance that two random records match is estimated: ``candidates`` (EM's
      share of matches among the training pairs times their number, over all pairs:
      :func:`~.fellegi_sunter.random_pair_prior`) or ``posterior`` (the matches counted with the
      posteriors the decision uses: :func:`~.fellegi_sunter.consistent_prior`). ``posterior``
      is the better estimate (generated Danish 20,000 rows: 0.24 bits from the truth where
      ``candidates`` is 1.78 bits too high, and the gap grows with the file) but, with the band
      around posterior 0.5, costs recall on fake_1000, historical_50k and the Danish file
      (bench/README "A prior that does not drift"), so it is not the default;
    - ``two_hop_budget``: after the first scoring, every two records linked (posterior 0.5 or
      more, not vetoed) to a common record are compared too, rule ``two_hop``
      (:mod:`.two_hop`), then the other pairs of one small component of links, rule
      ``link_component`` (at most a review, and they split nothing), at most this many pairs per
      record, the strongest first (0: none). A
      customer's records that share no key with each other but each with a third are then
      compared: historical_50k's blocking recall 0.8475 -> 0.9474 at +0.9 pairs per record,
      Chicago's F1 0.8951 -> 0.9048 (bench/README "Pairs through a common record");
    - ``whole_block_pairs``: a rule's blocks over ``max_block_size`` are compared whole, the
      smallest first, while their pairs together stay within this many
      (:data:`~datavask.cleansing.matching.blocking.WHOLE_BLOCK_PAIRS`; 0: none), the rest only
      where a finer key splits them;
    - ``crowded_block_pairs``: before them, the blocks over the cap whose records crowd into one
      place (:data:`~datavask.cleansing.matching.blocking.CROWDED`: one customer written many
      times, not namesakes) are compared whole within this many pairs of their own
      (:data:`~datavask.cleansing.matching.blocking.CROWDED_BLOCK_PAIRS`; 0: none);
    - ``pair_floor``: non-match pairs below this probability are left out of ``pairs``;
    - ``tf_passes``: how many times pairs are scored. From the second pass on, term frequencies
      count a value once per cluster of the pass before (a customer's duplicates do not make its
      own phone or mailbox look common), until the clusters stop changing. A file whose
      duplicates carry their golden values then scores its pairs as the input did; on 20,000 /
      100,000 generated Danish rows 4 passes give cluster F1 0.9882 / 0.9894 (1 pass: 0.9878 /
      0.9892) at the same precision, FEBRL unchanged; with them a re-imported file finds the
      same clusters as its first run. A pair the pass before put in one cluster is weighed as
      two customers sharing the value (``tf_apart``): its own merge never makes the value look
      rarer, so a borderline pair cannot hold itself merged, and a re-imported file, which
      starts from more identical copies, ends where its first run ended (issue 9.10). Measured
      through the command line (``--registry none``): generated Danish 20,000 rows F1 0.9918 /
      P 0.9989 (0.9920 / 0.9991 without it: one record without a name, at a household's address
      and landline, joins the other member), FEBRL1 0.9919 (0.9940), FEBRL3 0.9932 (0.9941).
    """

    comparisons: tuple[str, ...] = DANISH_COMPARISONS
    blocking_rules: tuple[BlockingRule, ...] | None = None
    sorted_window: int = 5
    max_block_size: int = 50
    match_threshold: float | None = None
    hard_rules: tuple[str, ...] = HARD_RULES
    u_sample_size: int = 200_000
    em_max_iterations: int = 200
    training_pairs_per_rule: int = 200_000
    seed: int = 0
    pair_floor: float = 0.01
    tf_passes: int = 4
    every_pair_budget: int = EVERY_PAIR_BUDGET
    prior: str = "candidates"
    two_hop_budget: float = TWO_HOP_BUDGET
    whole_block_pairs: int = WHOLE_BLOCK_PAIRS
    crowded_block_pairs: int = CROWDED_BLOCK_PAIRS


@dataclass
class MatchResult:
    """What the matcher found.

    - ``pairs``: ``record_id_l``, ``record_id_r``, ``match_weight`` (log2 odds),
      ``match_probability`` and ``score`` (the same probability),
      ``decision`` (``match``/``review``/``non-match``),
      ``blocking_rule``, ``hard_rule`` (the veto, or null) and ``explanation`` — a struct with one
      ``{level, weight}`` struct per comparison. Non-match pairs below ``pair_floor`` are left out.
    - ``clusters``: ``record_id``, ``cluster_id``, ``cluster_size``, ``in_review_pair``, one row
      per input record in input order.
    - ``blocking_report``: per blocking rule, records keyed, blocks, largest block, blocks over the
      cap not compared whole, their records and those of them compared through a finer key
      (``split_records``), blocks over the cap compared whole (``whole_blocks``), pairs generated
      and pairs new.
    - ``oversized_blocks``: the blocks over the cap not compared whole (``blocking_rule``, ``key``,
      ``size``), compared only where a finer key split them.
    - ``model``: the estimated Fellegi–Sunter parameters (``model.parameters()`` as a table).
    - ``summary``: counts, and seconds in all (``total_s``).
    - ``substeps``: seconds per sub-step (:data:`SUBSTEPS`, in that order), those of the scoring
      passes summed over the passes.
    - ``decisions``: what the reviewers' decisions did (:func:`~.decisions.decision_report`).
    - ``review_band``: the band the decision used (:class:`~.review_band.ReviewBand`): the user's,
      or derived from the model.
    - ``evaluation``: blocking recall and the clusters' pairwise scores against the ``truth``
      given (:func:`~.evaluation.evaluate`); None without one.
    """

    pairs: pl.DataFrame
    clusters: pl.DataFrame
    blocking_report: pl.DataFrame
    oversized_blocks: pl.DataFrame
    model: FellegiSunterModel
    summary: dict[str, float | int] = field(default_factory=dict)
    substeps: dict[str, float] = field(default_factory=dict)
    decisions: dict[str, Any] = field(default_factory=dict)  # decisions.decision_report
    review_band: ReviewBand | None = None
    evaluation: dict[str, Any] | None = None


def blocking_apart_on(settings: MatchSettings) -> str | None:
    """The column two records must not differ in to be paired: CVR, unless its veto is off."""
    return "cvr" if "cvr_conflict" in settings.hard_rules else None


def _decision(band: ReviewBand, compared: Collection[str] = ()) -> pl.Expr:
    """Match, review or non-match by the pair's posterior against the band, a hard rule's veto
    first. A pair no blocking key proposed (only the ``every_pair`` rule of a small file found it,
    :data:`~.blocking.EVERY_PAIR_BUDGET`) is at most a review: it goes to a person, and the machine
    does not merge on it alone; nor on a ``link_component`` pair (:mod:`.two_hop`), found only
    because its records' links already hold them together. Allowed to merge, such pairs cost
    precision and recall on
    fake_1000 (a Clarke of another birth date joined seven Clarks; the bridges they made or tested
    split two customers and joined three), bench/README "Every pair of a small file". Nor does
    it merge on a pair its levels (``lvl_<name>`` of the comparisons ``compared``) leave to a
    person (:func:`~.hard_rules.review_only`: two house numbers of one street, two branches of
    one CVR number)."""
    p = pl.col("match_probability")
    vetoed = pl.col("hard_rule").is_not_null()
    low, high = band.low, band.high
    keyed = (~pl.col("blocking_rule").is_in([EVERY_PAIR, COMPONENT])).fill_null(True)
    return (
        pl.when(vetoed)
        .then(pl.lit("non-match"))
        .when((p >= high) & keyed & ~review_only(compared))
        .then(pl.lit("match"))
        .when(p >= low)
        .then(pl.lit("review"))
        .otherwise(pl.lit("non-match"))
    )


REVIEW_RULE: Final = "review_rule"
"""The column naming why a pair the model scored as a match is only a ``review`` (null for a
pair in review by its score alone): one of :data:`~.hard_rules.REVIEW_REASONS`, by its code
(:func:`~.hard_rules.review_reason`) until the pairs are written."""


def _review_rule(band: ReviewBand, compared: Collection[str] = ()) -> pl.Expr:
    """Why :func:`_decision` leaves a pair at or above the band's upper end as a ``review``, as
    :data:`REVIEW_RULE` codes it; null for every other pair."""
    above = pl.col("hard_rule").is_null() & (pl.col("match_probability") >= band.high)
    unkeyed = [
        pl.when(pl.col("blocking_rule") == rule).then(review_reason(rule))
        for rule in (EVERY_PAIR, COMPONENT)
    ]
    named = [
        pl.when(holds).then(review_reason(name)) for name, holds in review_rules(compared).items()
    ]
    return pl.when(above).then(pl.coalesce(*unkeyed, *named)).alias(REVIEW_RULE)


def _explanation(comparisons: tuple[Comparison, ...]) -> pl.Expr:
    fields = []
    for c in comparisons:
        labels = {-1: "missing", **dict(enumerate(c.levels))}
        fields.append(
            pl.struct(
                pl.col(f"lvl_{c.name}")
                .replace_strict(labels, return_dtype=pl.String)
                .alias("level"),
                pl.col(f"w_{c.name}").alias("weight"),
            ).alias(c.name)
        )
    return pl.struct(fields).alias("explanation")


def _sessions(
    found: Candidates, learn: pl.Series, rules: tuple[BlockingRule, ...], per_rule: int, seed: int
) -> list[tuple[pl.Series, tuple[str, ...]]]:
    """Training rows (positions among the candidates EM learns from, ``learn``) per rule, and what
    it blocks on."""
    # The candidates are sorted by (_l, _r), so their pair keys are too: a rule's pairs are found
    # among them by binary search rather than by a join per rule.
    kept = found.pairs.filter(learn).select(pair_key()).to_series().to_numpy()
    by_rule = found.by_rule.partition_by("blocking_rule", as_dict=True, include_key=False)
    sessions = []
    for rule in rules:
        # Copies agree on every field: nothing to learn from them alone; nor from a rule
        # with train=False.
        if not rule.trains:
            continue
        pairs = by_rule.get((rule.name,), pl.DataFrame(schema={"_l": pl.UInt32, "_r": pl.UInt32}))
        if pairs.height > per_rule:
            # Sorted first: blocking's row order is not deterministic, the sample must be.
            pairs = pairs.sort(pair_key()).sample(per_rule, seed=seed)
        # Sorted needles walk the sorted haystack in order: several times faster to look up.
        keys = np.sort(pairs.select(pair_key()).to_series().to_numpy())
        at = np.searchsorted(kept, keys).clip(max=max(len(kept) - 1, 0))
        found_at = at[kept[at] == keys] if len(kept) else at[:0]
        rows = pl.Series("_row_in_training", np.sort(found_at), dtype=pl.UInt32)
        sessions.append((rows, rule.uses))
    return sessions


@dataclass(frozen=True)
class _Compared:
    """Candidate pairs (``_l``, ``_r``, ``blocking_rule``) compared: their levels, tf values
    (:func:`~.fellegi_sunter.encode_tf_values`) and the values' codes, the distinct patterns of
    both (:func:`~.fellegi_sunter.scoring_patterns`), hard-rule vetoes and copies; what every
    scoring pass scores. The blocking's pairs are one, the ``two_hop`` pairs (:mod:`.two_hop`)
    another."""

    pairs: pl.DataFrame
    levels: pl.DataFrame
    tf_values: dict[str, pl.Series]
    value_codes: dict[str, pl.Series]
    patterns: ScoringPatterns
    vetoes: pl.Series
    copied: pl.Series


def _report_row(report: pl.DataFrame, rule: str, pairs: int) -> pl.DataFrame:
    """A blocking-report row for a rule that keys nothing and found ``pairs`` new pairs."""
    row: dict[str, object] = dict.fromkeys(report.columns, 0)
    row |= {"blocking_rule": rule, "pairs_generated": pairs, "pairs_new": pairs}
    return pl.DataFrame([row], schema=report.schema)


def _total_pairs(records: pl.DataFrame, *, link_only: bool) -> int:
    """How many record pairs there are to compare: n(n-1)/2, or across sources only."""
    if not link_only:
        return pairs_among([records.height], link_only=False)
    return pairs_among(records["source"].value_counts()["count"].to_list(), link_only=True)


def _cluster(
    records: pl.DataFrame, scored: pl.DataFrame, band: ReviewBand, clock: _Stopwatch
) -> tuple[np.ndarray, int, pl.DataFrame, pl.DataFrame]:
    """Cluster labels from the matched pairs, split where they join what must stay apart; the
    number of clusters split, the matched pairs and the matched pairs the clusters refused.

    A Danish rule's veto yields to links the model is certain of (see :mod:`.clusters`); two CVR
    numbers and a reviewer's ``different`` do not. A weak link between two groups of records then
    holds only when the pairs compared across them reach, on average, the merge point a single
    pair needs (:func:`~.clusters.check_bridges`); certain links, a reviewer's ``same`` and copies
    of one record join without that check."""
    with clock("cluster"):
        matched, cannot = cluster_links(scored)
        labels, split = split_components(records.height, records["cvr"], matched, cannot, band)
    with clock("bridges"):
        labels = check_bridges(
            labels,
            bridge_links(matched, band),
            bridge_evidence(scored),
            merge_weight=weight(band.high),
        )
        refused = unjoined(matched, labels)
    return labels, split, matched.drop("_copies_pair"), refused


def bridge_evidence(scored: pl.DataFrame) -> pl.DataFrame:
    """The scored pairs (``_l``, ``_r``, ``match_weight``) that :func:`~.clusters.check_bridges`
    weighs across a bridge: those a blocking key proposed, and the matches (copies of one record)
    among the pairs only the ``every_pair`` rule found (a small file's, see
    :data:`~.blocking.EVERY_PAIR_BUDGET`). A pair of one customer that shares no key is weak
    evidence by nature (a badly typed duplicate against its siblings); blocked, it was never
    compared and counted for nothing, and comparing every pair must not make it split a
    customer's records that the keys' pairs hold together (fake_1000: two seven-record customers
    split in two). The same for the ``link_component`` pairs (:mod:`.two_hop`)."""
    weights = scored.select("_l", "_r", "match_weight")
    if "blocking_rule" not in scored.columns:  # pairs of no rule's: every one counts
        return weights
    proposed = (~pl.col("blocking_rule").is_in([EVERY_PAIR, COMPONENT])).fill_null(True) | (
        pl.col("decision") == "match"
    )
    return weights.filter(scored.select(proposed).to_series())


def cluster_links(scored: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What clustering needs of scored pairs (all of them, or a chunk): the matched pairs
    (``_l``, ``_r``, ``match_weight`` as the link's strength, ``_copies_pair``) and the vetoed
    ones (``_l``, ``_r``, ``soft``: a Danish rule's veto a reviewer did not confirm)."""
    matched = scored.filter(pl.col("decision") == "match").select(
        "_l", "_r", link_strength(scored), pl.col(COPIES).alias("_copies_pair")
    )
    reviewed = pl.col("reviewed") if "reviewed" in scored.columns else pl.lit(None)
    soft = pl.col("hard_rule").is_in(SOFT_VETOES) & (reviewed != DIFFERENT).fill_null(True)
    vetoed = pl.col("hard_rule").is_not_null()
    if "blocking_rule" in scored.columns:
        # A pair only its component proposed joins when it matches but splits nothing: see
        # bridge_evidence.
        vetoed &= (pl.col("blocking_rule") != COMPONENT).fill_null(True)
    cannot = scored.filter(vetoed).select("_l", "_r", soft.alias("soft"))
    return matched, cannot


def split_components(
    n: int, cvr: pl.Series, matched: pl.DataFrame, cannot: pl.DataFrame, band: ReviewBand
) -> tuple[np.ndarray, int]:
    """Connected components of the ``n`` records over the matched pairs, split where they join
    two CVR numbers or a vetoed pair (:func:`cluster_links` gives both frames); also the number
    of components split."""
    labels = connected_components(n, matched["_l"].to_numpy(), matched["_r"].to_numpy())
    return split_conflicts(labels, matched, cvr, cannot, certain_weight=band.certain_weight)


def bridge_links(matched: pl.DataFrame, band: ReviewBand) -> pl.DataFrame:
    """The matched pairs as :func:`~.clusters.check_bridges` takes them: certain or not."""
    certain = (pl.col("match_weight") >= band.certain_weight) | pl.col("_copies_pair")
    return matched.select("_l", "_r", "match_weight", certain.alias("certain"))


def _pairs_frame(
    scored: pl.DataFrame,
    records: pl.DataFrame,
    comparisons: tuple[Comparison, ...],
    pair_floor: float,
) -> pl.DataFrame:
    """The pairs :attr:`MatchResult.pairs` describes: every pair but the non-matches below
    ``pair_floor`` that no reviewer decided, by record id, with their explanation. ``records``
    holds (at least) the records the pairs name, sorted by ``_idx``: all of them, or a chunk's."""
    pairs = scored.filter(_kept(pair_floor))
    positions, record_ids = records["_idx"], records["record_id"]
    at_l, at_r = positions.search_sorted(pairs["_l"]), positions.search_sorted(pairs["_r"])
    return pairs.select(
        record_ids.gather(at_l).alias("record_id_l"),
        record_ids.gather(at_r).alias("record_id_r"),
        "match_weight",
        "match_probability",
        pl.col("match_probability").alias("score"),
        "decision",
        "blocking_rule",
        "hard_rule",
        "reviewed",
        "model_decision",
        pl.when(pl.col("decision") == "review")
        .then(review_reason_text(pl.col(REVIEW_RULE)))
        .alias(REVIEW_RULE),
        _explanation(comparisons),
    )


def _kept(pair_floor: float) -> pl.Expr:
    """The scored pairs :attr:`MatchResult.pairs` holds: all but the non-matches below
    ``pair_floor`` that no reviewer decided."""
    return (
        (pl.col("decision") != "non-match")
        | (pl.col("match_probability") >= pair_floor)
        | pl.col("reviewed").is_not_null()
    )


# A scored pair's row in its batch's pattern weights, counted over the batches in order.
_PATTERN: Final = "_pattern"


def _with_weights(scored: pl.DataFrame, weights: list[pl.DataFrame]) -> pl.DataFrame:
    """``scored`` with each pair's ``w_<name>`` per comparison, gathered from the pattern weights
    of its batch (``weights``, one frame per batch in order; ``_pattern`` says the row)."""
    table = pl.concat(weights, how="vertical") if len(weights) > 1 else weights[0]
    return scored.hstack(table[scored.get_column(_PATTERN)]).drop(_PATTERN)


def _refused_to_review(scored: pl.DataFrame, refused: pl.DataFrame) -> pl.DataFrame:
    """``scored`` with the matched pairs the clusters refused (:func:`~.clusters.unjoined`) as
    ``review``; a reviewer's decision stands (a ``same`` that two CVR numbers further along
    its clusters keep apart stays ``match``: it was decided)."""
    if refused.height == 0:
        return scored
    flagged = refused.select("_l", "_r", pl.lit(True).alias("_refused"))
    undecided = pl.col("reviewed").is_null() if "reviewed" in scored.columns else pl.lit(True)
    return (
        scored.join(flagged, on=["_l", "_r"], how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("_refused").fill_null(False) & undecided)
            .then(pl.lit("review"))
            .otherwise(pl.col("decision"))
            .alias("decision"),
            pl.when(pl.col("_refused").fill_null(False) & undecided)
            .then(review_reason("cluster"))
            .otherwise(pl.col(REVIEW_RULE))
            .alias(REVIEW_RULE),
        )
        .drop("_refused")
    )


def _adapted(records: pl.DataFrame, names: tuple[str, ...]) -> tuple[str, ...]:
    """The comparisons for the fields this file has: without streets the whole-address comparison
    says nothing, so postal code and city are compared on their own (a British postcode or a
    town is evidence too). Without any postal code (an American customer list, a CRM that never
    asked for one) it is not made either — it places a street by its postal code — and the
    town is what the file has to place a customer: ``los angeles`` / ``studio city`` is
    weighed as the file shows towns differ, not read as two postal codes would be."""
    if "address" not in names:
        return names
    if records["street_key"].count() > 0 and records["postal_code"].count() > 0:
        return names
    return tuple(n for n in names if n != "address") + tuple(
        n for n in ("postal_code", "city") if n not in names
    )


def chosen_comparisons(
    records: pl.DataFrame, settings: MatchSettings, evidence: tuple[str, ...]
) -> tuple[Comparison, ...]:
    """The comparisons for the fields ``records`` fill (:func:`_adapted`), and one per evidence
    field some record holds. ``records``: every record, or one filled row per column (the Dask
    engine's partition summaries), which gives the same choice."""
    comparisons = available_comparisons(records, _adapted(records, settings.comparisons))
    return comparisons + tuple(
        evidence_comparison(f) for f in evidence if records[f"evidence_{f}"].count() > 0
    )


def _same_customer(customers: pl.Series, candidates: pl.DataFrame) -> pl.Series:
    """Per candidate pair: whether the term frequencies count its two records as one customer
    (see :func:`~.fellegi_sunter.score_pairs`)."""
    same = customers.gather(candidates["_l"]) == customers.gather(candidates["_r"])
    return same.alias(SAME_CUSTOMER)


PRIORS: Final = ("candidates", "posterior")


def estimated_prior(
    settings: MatchSettings,
    model: FellegiSunterModel,
    trained: int,
    patterns: pl.DataFrame | None,
    total_pairs: int,
    *,
    sample: pl.DataFrame,
) -> float:
    """The model's random-pair prior as ``settings.prior`` asks (see :class:`MatchSettings`) from
    the number of training pairs and, for ``posterior``, their level patterns; raised to what the
    random pairs of u (``sample``, their level patterns) show where they show more matches
    (:func:`~.fellegi_sunter.sampled_prior`)."""
    if settings.prior not in PRIORS:
        raise ValueError(f"prior must be one of {PRIORS}, got {settings.prior!r}")
    # A small file's records are counted among a customer base of POPULATION (see population).
    counted = population_pairs(total_pairs)
    if settings.prior == "posterior" and patterns is not None:
        prior = consistent_prior(model, patterns, int(counted))
    else:
        prior = random_pair_prior(model.match_share, trained, int(counted))
    return sampled_prior(model, prior, sample, in_file=total_pairs / counted)


def _band(
    review_band: tuple[float, float] | None, settings: MatchSettings, model: FellegiSunterModel
) -> ReviewBand:
    """The user's band, a single threshold from the settings, or the model's own band."""
    if review_band is not None:
        return given_band(review_band)
    if settings.match_threshold is not None:
        return threshold_band(settings.match_threshold)
    return model_band(model)


def find_duplicates(
    df: pl.DataFrame,
    *,
    review_band: tuple[float, float] | None = None,
    link_only: bool | None = None,
    settings: MatchSettings | None = None,
    decisions: pl.DataFrame | None = None,
    truth: pl.Series | None = None,
    blocking: Candidates | None = None,
) -> MatchResult:
    """Pairs and clusters of records that are the same customer.

    In: the normalised record frame (``record_id``, ``source_row``, ``customer_type``, ``name_key``,
    ``first_name_key``, ``last_name_key``, ``street_key``, ``house_number``, ``floor``, ``door``,
    ``postal_code``, ``phone_e164``/``phone_numbers``, ``email``/``emails``, ``email_domain``,
    ``cvr``, ``ean``, ``date_of_birth``…; any may be missing or null), and any ``evidence_<field>``
    columns (:func:`~datavask.cleansing.matching.prepare.evidence_frame`: a mapping's extra
    evidence such as a birth place), each compared as text and blocked on with the names and
    the birth date.
    ``review_band=(low, high)``: pairs with ``low <= match_probability < high`` become ``review``
    and only ``>= high`` is a match; without it the band is derived from the estimated model
    (:func:`~.review_band.model_band`), or ``settings.match_threshold`` splits match from
    non-match. ``link_only`` (default: when the frame has a ``source`` column with two or more
    values) compares only records of different sources. ``decisions``: the lines of a reviewers'
    decisions file, obeyed as :mod:`~datavask.cleansing.matching.decisions` describes.
    Copies of one record that say enough about it are a match whatever the scores say
    (:mod:`~datavask.cleansing.matching.copies`). ``truth``: each record's true customer (input
    order, null where unknown) for :attr:`MatchResult.evaluation` — never evidence.
    ``blocking``: the blocking's result when it
    was made elsewhere (the Dask engine blocks over partitions, see
    :mod:`.shuffled_blocking`) with the rules these settings give for this frame.
    """
    if review_band is not None:
        given_band(review_band)  # a nonsense band fails before the work, not after
    settings = settings or MatchSettings()
    clock = _Stopwatch()
    started = time.perf_counter()

    with clock("prepare"):
        records = prepare_records(df)
        # The input's text is held again, cleaned, in ``records``: freed now rather than beside
        # the candidate pairs for the whole step (when the caller holds no reference to it).
        del df
        if link_only is None:
            link_only = records["source"].drop_nulls().n_unique() > 1
        evidence = evidence_fields(records)
        comparisons = chosen_comparisons(records, settings, evidence)
        rules = settings.blocking_rules or default_rules(
            window=settings.sorted_window,
            evidence=evidence,
            coarse=coarse_evidence(records, evidence),
            total_pairs=_total_pairs(records, link_only=link_only),
            every_pair_budget=settings.every_pair_budget,
        )

    # Copies of one record are one customer from the start: 60 copies do not make its phone
    # number look like a switchboard's (which would keep them apart).
    copies = records.get_column(IDENTICAL)

    def from_records() -> tuple[
        TfCodes, dict[str, pl.DataFrame], dict[str, float], dict[str, list[float]], pl.DataFrame
    ]:
        """What the model needs of the records alone: the term frequencies' codes, tables and
        means, and u from random pairs (and those pairs' level patterns, for the prior)."""
        with clock("term_frequencies"):
            codes = tf_codes(records, comparisons)  # counted again in every pass
            tf_tables, tf_mean = term_frequencies(records, comparisons, copies, codes=codes)
        with clock("u"):
            u, sample = estimate_u(
                records,
                comparisons,
                sample_size=settings.u_sample_size,
                seed=settings.seed,
                link_only=link_only,
                tf_mean=tf_mean,
            )
        return codes, tf_tables, tf_mean, u, sample

    # They depend on the records alone: worked out beside blocking and comparing, on the other
    # core.
    with beside(from_records) as side:
        with clock("blocking"):
            if blocking is None:
                found = candidate_pairs(
                    records,
                    rules,
                    max_block_size=settings.max_block_size,
                    link_only=link_only,
                    apart_on=blocking_apart_on(settings),
                    whole_block_pairs=settings.whole_block_pairs,
                    crowded_block_pairs=settings.crowded_block_pairs,
                )
            elif blocking.report["blocking_rule"].to_list() != [r.name for r in rules]:
                raise ValueError("the candidates were blocked with other rules than this file's")
            else:
                found = blocking
            blocking_report, oversized = found.report, found.oversized
            decided: Decided = locate_decisions(decisions, records)
            # blocked pairs first, then decided
            candidates = with_decided_pairs(found.pairs, decided)

        with clock("compare"):
            levels, tf_values = encode_tf_values(
                compare_pairs(records, candidates["_l"], candidates["_r"], comparisons)
            )

        with clock("hard_rules"):
            # The Danish rules need to know what a record is; a register without customer types
            # (FEBRL) gets null here, and no household, group or name veto.
            is_person = pl.col("customer_type").str.to_lowercase() == "person"
            person = records.select(is_person).to_series()

            def vetoes_and_copies(
                pairs: pl.DataFrame, levels: pl.DataFrame
            ) -> tuple[pl.Series, pl.Series]:
                """The hard rules' veto and the copies test for ``pairs`` compared as ``levels``."""
                vetoes = hard_rule_column(
                    levels,
                    person.gather(pairs["_l"]),
                    person.gather(pairs["_r"]),
                    rules=settings.hard_rules,
                    years_apart=birth_years_apart(records, pairs["_l"], pairs["_r"]),
                    owner=owner_and_business(records, pairs["_l"], pairs["_r"]),
                    public=both_public(records, pairs["_l"], pairs["_r"]),
                )
                return vetoes, copy_pairs(records, pairs["_l"], pairs["_r"])

            vetoes, copied = vetoes_and_copies(candidates, levels)

        codes, tf_tables, tf_mean, u, sample = side.result()
    with clock("term_frequencies"):
        value_codes = tf_value_codes(tf_values, codes)
    with clock("fit"):
        blocked = found.pairs.height  # EM learns from the blocking's pairs, not from decided ones
        # Not vetoed, and found by a rule that trains (see BlockingRule.train).
        learn = vetoes.head(blocked).is_null() & found.pairs.select(learned_from(rules)).to_series()
        training = levels.head(blocked).filter(learn)
        model = train(
            training,
            _sessions(found, learn, rules, settings.training_pairs_per_rule, settings.seed),
            comparisons,
            u,
            max_iterations=settings.em_max_iterations,
        )
        model.count_values(tf_tables, tf_mean)
        model.small_file = records.height < POPULATION
        posterior = settings.prior == "posterior"
        model.prior = estimated_prior(
            settings,
            model,
            training.height,
            level_patterns(training, comparisons) if posterior else None,
            _total_pairs(records, link_only=link_only),
            sample=sample,
        )
        del training
    # Every rule's pairs (~10M rows at 1M records) were for training; beyond it only the
    # evaluation against a truth reads them.
    by_rule = found.by_rule if truth is not None else found.by_rule.clear()
    del found
    with clock("score"):
        patterns = scoring_patterns(levels)
    batches = [_Compared(candidates, levels, tf_values, value_codes, patterns, vetoes, copied)]
    band = _band(review_band, settings, model)
    compared = [c.name for c in comparisons]
    decide = copies_match(_decision(band, compared)).alias("decision")
    why_review = _review_rule(band, compared)

    # Per batch, its patterns' weights of the last pass (pattern_scores). A pass's pairs gather
    # only match_weight and match_probability from them, and their row (``_pattern``, counted
    # over the batches in order); the weight per comparison is gathered at the end for the pairs
    # kept (_with_weights), not for every candidate pair in every pass.
    weights: list[pl.DataFrame] = []

    def scored_batch(at: int, customers: pl.Series) -> pl.DataFrame:
        batch, pairs = batches[at], batches[at].pairs
        scores = pattern_scores(
            batch.patterns,
            model,
            apart=True,
            tf_values=batch.tf_values,
            value_codes=batch.value_codes,
        )
        same = _same_customer(customers, pairs)
        rows = pattern_rows(batch.patterns, same)
        offset = sum(part.height for part in weights[:at])
        weights[at:] = [scores.drop("match_weight", "match_probability")]
        return (
            batch.levels.with_columns(same, (rows + offset).alias(_PATTERN))
            .hstack(scores.select("match_weight", "match_probability")[rows])
            .with_columns(pairs["_l"], pairs["_r"], pairs["blocking_rule"])
            .with_columns(batch.vetoes, batch.copied)
            .with_columns(decide, why_review)
            .pipe(namesakes_to_review, records, pairs["_l"], pairs["_r"])
            .pipe(obey, decided)
        )

    def scored_with(customers: pl.Series) -> pl.DataFrame:
        with clock("score"):
            parts = [scored_batch(at, customers) for at in range(len(batches))]
            return parts[0] if len(parts) == 1 else pl.concat(parts, how="vertical_relaxed")

    scored = scored_with(copies)
    labels, split, matched, refused = _cluster(records, scored, band, clock)
    hop = pl.DataFrame(schema=PAIR_SCHEMA)
    if settings.two_hop_budget > 0:
        with clock("blocking"):
            hop = two_hop_pairs(
                scored,
                records,
                link_only=link_only,
                apart_on=blocking_apart_on(settings),
                max_degree=settings.max_block_size,
                budget=settings.two_hop_budget,
            )
    if hop.height:
        # Pairs of records linked to a common record (:mod:`.two_hop`): compared, scored and
        # clustered with the rest from here on.
        with clock("compare"):
            hop_levels, hop_values = encode_tf_values(
                compare_pairs(records, hop["_l"], hop["_r"], comparisons)
            )
        with clock("hard_rules"):
            hop_vetoes, hop_copied = vetoes_and_copies(hop, hop_levels)
        with clock("term_frequencies"):
            hop_codes = tf_value_codes(hop_values, codes)
        with clock("score"):
            hop_patterns = scoring_patterns(hop_levels)
            batches.append(
                _Compared(
                    hop, hop_levels, hop_values, hop_codes, hop_patterns, hop_vetoes, hop_copied
                )
            )
            hop_scored = scored_batch(len(batches) - 1, copies)
            scored = pl.concat([scored, hop_scored], how="vertical_relaxed")
        labels, split, matched, refused = _cluster(records, scored, band, clock)
        blocking_report = pl.concat(
            [blocking_report]
            + [_report_row(blocking_report, r, n) for r, n in hop_rule_counts(hop)],
            how="vertical_relaxed",
        )
    # Term frequencies count customers, not records (see term_frequencies): rescore with the
    # values counted once per cluster until the clusters stop changing.
    passes = 1
    while tf_tables and passes < settings.tf_passes:
        passes += 1
        customers = pl.Series(labels)
        with clock("term_frequencies"):
            model.count_values(*term_frequencies(records, comparisons, customers, codes=codes))
        del scored
        scored = scored_with(customers)
        previous = labels
        labels, split, matched, refused = _cluster(records, scored, band, clock)
        if np.array_equal(previous, labels):
            break

    with clock("output"):
        # A match the clusters refused is left to a person, as a pair inside the band is.
        scored = _refused_to_review(scored, refused)
        review = scored.filter(pl.col("decision") == "review")
        in_review = records["_idx"].is_in(pl.concat([review["_l"], review["_r"]]).implode())
        clusters = cluster_frame(records, labels, in_review)
        kept = _with_weights(scored.filter(_kept(settings.pair_floor)), weights)
        pairs = _pairs_frame(kept, records, comparisons, settings.pair_floor)

    evaluation = None
    if truth is not None:
        sources = records["source"] if link_only else None
        by_rule = pl.concat([by_rule, hop]) if hop.height else by_rule
        evaluation = evaluate(
            truth,
            by_rule,
            clusters["cluster_id"],
            rule_order=blocking_report["blocking_rule"].to_list(),
            sources=sources,
        )
    summary: dict[str, float | int] = {
        "records": records.height,
        "candidate_pairs": sum(batch.pairs.height for batch in batches),
        "matched_pairs": matched.height,
        "review_pairs": review.height,
        "vetoed_pairs": int(vetoes.is_not_null().sum()),
        "clusters_split": split,
        "links_refused": refused.height,
        "duplicate_clusters": int(
            clusters.filter(pl.col("cluster_size") > 1)["cluster_id"].n_unique()
        ),
        "em_iterations": model.iterations,
        "tf_passes": passes,
        "total_s": time.perf_counter() - started,
    }
    return MatchResult(
        pairs=pairs,
        clusters=clusters,
        blocking_report=blocking_report,
        oversized_blocks=oversized,
        model=model,
        summary=summary,
        substeps=clock.seconds,
        decisions=decision_report(scored, decided, pl.Series(labels), records["record_id"]),
        review_band=band,
        evaluation=evaluation,
    )
