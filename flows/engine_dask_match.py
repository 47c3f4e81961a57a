"""The matcher after blocking on a Dask cluster: the pairs stay in chunks on the workers.

The steps are :mod:`datavask.cleansing.matching.chunked`'s, submitted as tasks with fixed keys (a
task a dead worker held is recomputed from its spec). A chunk is the pairs blocking left with one
row partition (``kfound-p``), plus one chunk for the reviewers' pairs blocking did not propose.
No task and not the driver holds all pairs or all records: what every record contributes travels
as summaries (the plan, the prior), samples drawn by position (u), labels (the components,
:mod:`~datavask.flows.engine_dask_components`) and the clusters stay with their row partitions.
The driver receives a few flags and counts.

The files (``chunks/``, ``pairs/``) are in the run's work directory, which the workers see on one
machine or on a shared file system (as the write step's parts, :mod:`.engine_dask_write`); each is
written under a temporary name and renamed, so a task recomputed after a lost worker writes it
again whole, and the work directory goes with the run, finished or failed. Workers that do not see
it hold the chunks in memory and send the pairs to ``mresult``, as before.

======================  ====================================================================
task                    what it does
======================  ====================================================================
``msummary-q``          what the plan and the prior read of row partition ``q``
                        (:func:`~.chunked.partition_summary`)
``mplan``               the comparisons, rules and reviewers' pairs, as the local run
                        chooses them (:func:`~.chunked.summarised_plan`)
``mwanted-c``           the records chunk ``c`` names, per row partition
``mroute-q``            row partition ``q`` read once and cut into one piece per chunk: the
                        records of ``q`` that chunk names (a shuffle by chunk; kept in the work
                        directory, one file a piece, ``rows/mroute-q.c.parquet``); without it
                        ``mpiece<c>-q`` hands chunk ``c`` its piece of route ``q``
``mchunk-c``            chunk ``c`` compared from its own pieces only: levels, vetoes, copies,
                        read by every pass; written to ``chunks/`` in the work directory (a
                        handle is what the task holds)
``mtrain-c``            its level patterns for EM; ``mrules-c``, ``mpicks``, ``msessions-c``:
                        each rule's sample, as the local run draws it, and its patterns
``mtfpieces<k>-q``      row partition ``q``'s values per tf comparison, once per customer, cut
                        into buckets by value; ``mtfbucket<k>-b`` one bucket's value counts;
                        ``mtf<k>`` the tables (tf pass ``k``)
``mudraws``             the record positions u's random pairs are (same seed, same draws);
                        ``mumembers-q`` the members drawn inside postal codes found by rank;
                        ``mupositions``, ``mupick-q``: only those records fetched
``muexact-q``           agree/disagree comparisons' value counts cut by value;
                        ``muexactb-b`` a bucket's sums (u without sampling)
``mu``, ``mupairs``     u from the fetched records (and their pairs' patterns), the number of
                        record pairs: for the prior
``mmodel``              m and λ by EM on the summed pattern counts, the review band
``mscored<k>-c``        chunk ``c`` scored in tf pass ``k`` (from the second, with the clusters
                        of its records: ``mcustroute<k>-q`` cuts partition ``q``'s cluster
                        labels into one piece per chunk); ``mlinks<k>-c`` its matched and
                        vetoed pairs
``mcc…<k>``             the components by label propagation, split and bridge-checked per
                        bucket of whole components; ``mclusters<k>-q`` partition ``q``'s
                        clusters (:mod:`~datavask.flows.engine_dask_components`)
``msame<k>-q``          whether partition ``q``'s clusters changed in tf pass ``k``
``mhoproute-q``         the two_hop chunk's records of partition ``q`` (when it has pairs)
``mfinish-c``           chunk ``c``'s output pairs (written to ``pairs/part-c.parquet`` in the
                        work directory), review records, reviewed pairs
``mclusters-q``         partition ``q``'s rows of the clusters frame (``cluster_id`` from its
                        records' cluster's first source row)
``mresult``             the match step's report: how many clusters, how many output pairs, the
                        review band, the decisions (their records only)
======================  ====================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from datavask.flows.engine_dask_spill import reads_handles

if TYPE_CHECKING:
    from datavask.cleansing.matching.chunked import Chunk


# A compared chunk is read by every tf pass and by the output step; held in a worker's memory it
# is the biggest thing the matcher keeps. :func:`spilled_chunk` writes it to Parquet files in a
# directory every worker sees and returns a small handle; :func:`loaded_chunk` reads it back.


@dataclass(frozen=True)
class SpilledChunk:
    """Where a compared chunk's files are, and what Parquet does not keep of it."""

    records: str  # the chunk's records
    pairs: str  # candidates, positions in ``records``, levels, vetoes, copies: one row a pair
    levels: tuple[str, ...]
    vetoes: str  # the series' names
    copied: str
    blocked: bool


def _written(frame: pl.DataFrame, target: str) -> None:
    """``frame`` at ``target``, whole or not at all (:func:`~.output.replace_atomically`): a task
    that runs again (a lost worker) writes the same file again."""
    from datavask.connectors.output import replace_atomically

    replace_atomically(
        Path(target), lambda path: frame.write_parquet(path, compression="lz4", statistics=False)
    )


def spilled_chunk(chunk: Chunk, stem: str) -> SpilledChunk:
    """Write ``chunk`` to ``stem``.records.parquet and ``stem``.pairs.parquet (see
    :class:`SpilledChunk`)."""
    pairs = pl.DataFrame(
        [
            *(chunk.candidates[c].alias(f"c:{c}") for c in chunk.candidates.columns),
            *(chunk.at[c].alias(f"a:{c}") for c in chunk.at.columns),
            *(chunk.levels[c].alias(f"l:{c}") for c in chunk.levels.columns),
            chunk.vetoes.alias("v"),
            chunk.copied.alias("k"),
        ],
        height=chunk.candidates.height,
    )
    spilled = SpilledChunk(
        records=f"{stem}.records.parquet",
        pairs=f"{stem}.pairs.parquet",
        levels=tuple(chunk.levels.columns),
        vetoes=chunk.vetoes.name,
        copied=chunk.copied.name,
        blocked=chunk.blocked,
    )
    _written(chunk.records, spilled.records)
    _written(pairs, spilled.pairs)
    return spilled


def loaded_chunk(chunk: Chunk | SpilledChunk) -> Chunk:
    """The chunk :func:`spilled_chunk` wrote (a chunk held in memory is returned as it is)."""
    from datavask.cleansing.matching.chunked import Chunk

    if not isinstance(chunk, SpilledChunk):
        return chunk
    pairs = pl.read_parquet(chunk.pairs, glob=False)

    def part(prefix: str) -> pl.DataFrame:
        taken = [c for c in pairs.columns if c.startswith(prefix)]
        return pairs.select(taken).rename({c: c[len(prefix) :] for c in taken})

    return Chunk(
        records=pl.read_parquet(chunk.records, glob=False),
        candidates=part("c:"),
        at=part("a:"),
        levels=part("l:").select(chunk.levels),
        vetoes=pairs["v"].alias(chunk.vetoes),
        copied=pairs["k"].alias(chunk.copied),
        blocked=chunk.blocked,
    )


def _plan(
    summaries: Sequence[dict[str, Any]],
    decisions: pl.DataFrame | None,
    link_only: bool,
    band: tuple[float, float] | None,
) -> Any:
    from datavask.cleansing.matching import MatchSettings
    from datavask.cleansing.matching.chunked import summarised_plan

    return summarised_plan(summaries, MatchSettings(), decisions, link_only, band)


def _u(
    drawn: dict[str, Any],
    pieces: Sequence[pl.DataFrame],
    exact: Sequence[dict[str, tuple[int, int]]],
    plan: Any,
    tf: Any,
) -> tuple[dict[str, list[float]], pl.DataFrame]:
    from datavask.cleansing.matching.chunked import sampled_u

    return sampled_u(drawn, pieces, exact, plan, tf[1])


def _u_and_pairs(
    u: tuple[dict[str, list[float]], pl.DataFrame], summaries: Sequence[dict[str, Any]], plan: Any
) -> tuple[tuple[dict[str, list[float]], pl.DataFrame], int]:
    from datavask.cleansing.matching.chunked import summarised_pairs

    return u, summarised_pairs(summaries, link_only=plan.link_only)


def _decided_ids(decisions: pl.DataFrame | None) -> pl.Series | None:
    """The record ids the reviewers' decisions name (a few): each partition says where they are."""
    if decisions is None:
        return None
    from datavask.cleansing.matching.decisions import resolve

    pairs = resolve(decisions)
    return pl.concat([pairs["record_id_a"], pairs["record_id_b"]]).cast(pl.String).unique()


def _held(pairs: pl.DataFrame, plan: Any) -> pl.DataFrame:
    from datavask.cleansing.matching.chunked import decided_held

    return decided_held(pairs, plan.decided)


def _extra(held: Sequence[pl.DataFrame], plan: Any) -> pl.DataFrame:
    from datavask.cleansing.matching.chunked import decided_extra

    return decided_extra(held, plan.decided)


def routed_records(
    records: pl.DataFrame, asked: Sequence[list[pl.Series]], q: int
) -> list[pl.DataFrame]:
    """Row partition ``q`` read once and cut into the pieces the chunks need: per chunk (its
    :func:`~.chunked.wanted`), the rows it asks of this partition (:func:`~.chunked.picked`, in
    ``_idx`` order; empty when it asks none). Kept in the work directory, the pieces are one file
    each (``mroute-q.c``)."""
    from datavask.cleansing.matching.chunked import picked

    return [picked(records, positions, q) for positions in asked]


@reads_handles
def _routed_chunk(
    pairs: Any, piece: tuple[Sequence[Any], int], plan: Any, blocked: bool, stem: str | None
) -> Any:
    """A chunk compared (:func:`_chunk`) from its own pieces of each row partition's route
    (:func:`routed_records`; ``piece``: the routes and which piece is the chunk's): only those
    are read (a route's other pieces are other chunks')."""
    from datavask.flows.engine_dask_spill import loaded

    return _chunk(loaded(pairs), own_pieces(*piece), plan, blocked, stem)


def own_pieces(routes: Sequence[Any], c: int) -> list[pl.DataFrame]:
    """Chunk ``c``'s piece of each route (:func:`routed_records`), read back if kept as a file:
    its records, partition by partition."""
    from datavask.flows.engine_dask_spill import loaded

    return [loaded(route[c]) for route in routes]


def _chunk(
    pairs: pl.DataFrame,
    pieces: Sequence[pl.DataFrame],
    plan: Any,
    blocked: bool,
    stem: str | None,
) -> Any:
    """Chunk ``pairs`` compared: written to ``stem``'s files when given (its handle returned,
    :func:`spilled_chunk`), else held."""
    from datavask.cleansing.matching.chunked import compared_chunk

    chunk = compared_chunk(pairs, pieces, plan, blocked=blocked)
    return chunk if stem is None else spilled_chunk(chunk, stem)


def _training(chunk: Any, plan: Any) -> pl.DataFrame:
    from datavask.cleansing.matching.chunked import training_patterns

    return training_patterns(loaded_chunk(chunk), plan)


def _sessions(chunk: Any, by_rule: pl.DataFrame, picks: list[Any], c: int, plan: Any) -> Any:
    from datavask.cleansing.matching.chunked import chunk_sessions

    return chunk_sessions(loaded_chunk(chunk), by_rule, picks[c], plan)


def _scored_first(chunk: Any, model: Any, band: Any, plan: Any) -> pl.DataFrame:
    from datavask.cleansing.matching.chunked import scored_chunk

    return scored_chunk(loaded_chunk(chunk), model, band, plan, None)


def _finished(
    chunk: Any, scored: pl.DataFrame, refused: pl.DataFrame, plan: Any, target: str | None
) -> dict[str, Any]:
    """Chunk's share of the match's outputs (:func:`~.chunked.finished_chunk`); with a
    ``target``, its pairs are written there (one part of ``pairs/``) and only counted here."""
    from datavask.cleansing.matching.chunked import finished_chunk

    finished = finished_chunk(loaded_chunk(chunk), scored, refused, plan)
    if target is not None:
        _written(finished["pairs"], target)
        finished["pairs"] = finished["pairs"].height
    return finished


def _hop_links(scored: pl.DataFrame) -> pl.DataFrame:
    from datavask.cleansing.matching.two_hop import hop_links

    return hop_links(scored)


def _hop_candidates(links: Sequence[pl.DataFrame], max_degree: int) -> pl.DataFrame:
    from datavask.cleansing.matching.two_hop import hop_candidates

    return hop_candidates(list(links), max_degree)


def _hop_compared(scored: pl.DataFrame, candidates: pl.DataFrame) -> pl.DataFrame:
    from datavask.cleansing.matching.two_hop import hop_compared

    return hop_compared(scored, candidates)


def _hop_sides(records: pl.DataFrame, asked: list[pl.Series], q: int, plan: Any) -> pl.DataFrame:
    """What the two_hop choice reads of the partition's records its candidates name."""
    from datavask.cleansing.matching import blocking_apart_on
    from datavask.cleansing.matching.chunked import picked
    from datavask.cleansing.matching.two_hop import hop_sides

    return hop_sides(picked(records, asked, q), blocking_apart_on(plan.settings))


def _hop_chosen(
    candidates: pl.DataFrame,
    compared: Sequence[pl.DataFrame],
    sides: Sequence[pl.DataFrame],
    summaries: Sequence[dict[str, Any]],
    plan: Any,
) -> pl.DataFrame:
    """The two_hop pairs the local run adds (:func:`~.matching.two_hop.two_hop_pairs`)."""
    from datavask.cleansing.matching.two_hop import hop_chosen, hop_limit

    records = sum(int(s["height"]) for s in summaries)
    return hop_chosen(
        candidates,
        pl.concat(list(compared), how="vertical"),
        pl.concat(list(sides), how="vertical"),
        link_only=plan.link_only,
        limit=hop_limit(records, plan.settings.two_hop_budget),
    )


def _height(frame: pl.DataFrame) -> int:
    return frame.height


def _item(container: Any, key: Any) -> Any:
    return container[key]


def _has_tf(tf: Any) -> bool:
    return bool(tf[0])


def _equal(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b))


def _tf_pieces(records: pl.DataFrame, plan: Any, clusters: pl.DataFrame, buckets: int) -> Any:
    from datavask.cleansing.matching.chunked import tf_pieces_of

    return tf_pieces_of(records, plan, clusters["_label"], buckets)


def routed_labels(
    clusters: pl.DataFrame, asked: Sequence[list[pl.Series]], q: int, start: int
) -> list[pl.Series]:
    """Per chunk, the cluster labels of the records of partition ``q`` that it names (row
    partition ``q``'s labels read once, cut by chunk)."""
    return [clusters["_label"].gather(positions[q] - start) for positions in asked]


def _scored(
    chunk: Any, model: Any, band: Any, plan: Any, piece: tuple[Sequence[list[pl.Series]], int]
) -> pl.DataFrame:
    """A chunk scored with the clusters of its records: its piece of each row partition's labels
    (:func:`routed_labels`; ``piece``: those routes and which piece is the chunk's)."""
    from datavask.cleansing.matching.chunked import scored_chunk_of

    routes, c = piece
    customers = pl.concat([route[c] for route in routes])
    return scored_chunk_of(loaded_chunk(chunk), model, band, plan, customers)


def _same_labels(previous: pl.DataFrame, current: pl.DataFrame) -> bool:
    return previous["_label"].equals(current["_label"])


def _review_records(finished: Sequence[dict[str, Any]]) -> pl.Series:
    return pl.concat([f["review_records"] for f in finished]).unique()


def _reviewed(finished: Sequence[dict[str, Any]]) -> pl.DataFrame:
    return pl.concat([f["reviewed"] for f in finished], how="vertical")


def _cluster_frame(
    records: pl.DataFrame, clusters: pl.DataFrame, review: pl.Series
) -> pl.DataFrame:
    """The partition's rows of :func:`~.clusters.cluster_frame`: ``cluster_id`` is ``C`` and the
    smallest source row of the cluster, which the partition holds for each of its records."""
    return pl.DataFrame(
        {
            "record_id": records["record_id"],
            "cluster_id": clusters.select(
                pl.format("C{}", pl.col("_first_row").cast(pl.String).str.zfill(6))
            ).to_series(),
            "cluster_size": clusters["_size"].cast(pl.Int64),
            "in_review_pair": records["_idx"].is_in(review.implode()).fill_null(False),
        }
    )


def _decided_at(
    records: pl.DataFrame, clusters: pl.DataFrame, reviewed: pl.DataFrame
) -> pl.DataFrame:
    """The label and record id of the partition's records that the reviewed pairs name."""
    named = pl.concat([reviewed["_l"], reviewed["_r"]]).cast(pl.Int64).unique()
    mine = records["_idx"].cast(pl.Int64).is_in(named.implode())
    return pl.DataFrame(
        {
            "_idx": records["_idx"].cast(pl.Int64),
            "_label": clusters["_label"],
            "record_id": records["record_id"],
        }
    ).filter(mine)


def _evaluated(records: pl.DataFrame, clusters: pl.DataFrame, plan: Any) -> pl.DataFrame:
    columns = [clusters["cluster_id"]]
    if plan.link_only:
        columns.append(records["source"])
    return pl.DataFrame(columns)


def _cluster_count(clusters: pl.DataFrame, start: int) -> int:
    """How many clusters have their smallest position in the partition."""
    own = pl.int_range(start, start + clusters.height, dtype=pl.Int64, eager=True)
    return int((clusters["_label"] == own).sum())


def _result(
    plan: Any,
    reviewed: pl.DataFrame,
    finished: Sequence[dict[str, Any]],
    given: dict[str, Any],
) -> dict[str, Any]:
    """What the match step returns but the clusters (per row partition): how many clusters, the
    output pairs and the step's report. ``given``: the model and band (``fitted``), the blocking
    report (``report``), the clusters' counts (``counts``), the reviewed pairs' records
    (``decided_at``), and with a ``truth`` every rule's pairs (``by_rule``) and every record's
    cluster id (``evaluated``) for the evaluation."""
    from datavask.cleansing.matching import _report_row
    from datavask.cleansing.matching.decisions import decision_report
    from datavask.cleansing.matching.evaluation import evaluate
    from datavask.cleansing.matching.two_hop import hop_rule_counts

    truth, report = given["truth"], given["report"]
    hop = given.get("two_hop")  # the two_hop pairs, if any (:mod:`~.matching.two_hop`)
    blocking = report[0]
    if hop is not None:
        blocking = pl.concat(
            [blocking] + [_report_row(blocking, r, n) for r, n in hop_rule_counts(hop)],
            how="vertical_relaxed",
        )
    evaluation = None
    if truth is not None:
        evaluated = pl.concat(list(given["evaluated"]), how="vertical")
        sources = evaluated["source"] if plan.link_only else None
        by_rule = pl.concat([*given["by_rule"], *([hop] if hop is not None else [])])
        evaluation = evaluate(
            truth,
            by_rule,
            evaluated["cluster_id"],
            rule_order=blocking["blocking_rule"].to_list(),
            sources=sources,
        )
    # The reviewed pairs' records only, their positions renumbered into that small frame.
    named = pl.concat(list(given["decided_at"]), how="vertical").sort("_idx")
    at = named["_idx"]
    compact = reviewed.with_columns(
        at.search_sorted(reviewed["_l"].cast(pl.Int64)).alias("_l"),
        at.search_sorted(reviewed["_r"].cast(pl.Int64)).alias("_r"),
    )
    band = given["fitted"][1]
    pairs = [f["pairs"] for f in finished]
    spilled = all(isinstance(p, int) for p in pairs)  # written to parts: counted only
    return {
        "clusters": sum(given["counts"]),
        "pairs": sum(pairs) if spilled else pl.concat(pairs, how="vertical"),
        "review_band": band.record(),
        "blocking": blocking.to_dicts(),
        "oversized_blocks": report[1].head(50).to_dicts(),
        "decisions": decision_report(compact, plan.decided, named["_label"], named["record_id"]),
        "evaluation": evaluation,
    }


def partitioned_match(
    submit: Callable[..., Any],
    gather: Callable[[Any], Any],
    blocked: Any,
    offsets: Sequence[int],
    *,
    band: tuple[float, float] | None,
    decisions: pl.DataFrame | None,
    truth: pl.Series | None,
    spill: str | None = None,
    in_flight: int | None = None,
) -> Any:
    """The future of the match step's result (see :func:`_result`) from the blocking's futures
    (:class:`~datavask.flows.engine_dask_blocking.Blocked`), computed as
    :func:`~datavask.cleansing.matching.find_duplicates` computes it with its default settings.

    ``submit(stage, i, fn, *args)`` submits one task under a fixed key; ``gather`` fetches the few
    flags that steer the passes. ``spill``: a directory every worker sees (the run's work
    directory); the compared chunks are kept there rather than in the workers' memory
    (``chunks/``), and the output pairs are written there in parts (``pairs/part-<c>.parquet``,
    in order) rather than gathered in ``mresult`` (its ``pairs`` is then their count). Without
    it, both are held in memory.

    The futures are let go as soon as their last consumer is submitted: Dask frees a result that
    no one holds once its dependents are done. ``in_flight``: with ``spill``, how many chunks
    may be submitted before the chunk ``in_flight`` places earlier is compared and written. A
    chunk's records come from the routes (``mroute``): each row partition read once and cut into
    one piece per chunk, kept as files when the row partitions are (else held, one future a
    piece), so no chunk reads every partition and no task holds every chunk's records."""
    from pathlib import Path

    from datavask.cleansing.matching import MatchSettings
    from datavask.cleansing.matching import chunked as ch
    from datavask.cleansing.matching.fellegi_sunter import WITHIN_GROUP
    from datavask.flows.engine_dask_components import partitioned_components

    settings = MatchSettings()
    parts = len(blocked.pairs)
    prepared = list(blocked.prepared)
    groups = tuple(WITHIN_GROUP.values())
    ids = _decided_ids(decisions)
    summaries = [
        submit("msummary", q, ch.partition_summary, prepared[q], ids, groups) for q in range(parts)
    ]
    plan = submit("mplan", 0, _plan, summaries, decisions, blocked.link_only, band)
    pairs = list(blocked.pairs)
    if decisions is not None:
        held = [submit("mheld", p, _held, found, plan) for p, found in enumerate(pairs)]
        pairs.append(submit("mextra", 0, _extra, held, plan))
        del held
    chunks: list[Any] = []

    def routed(stage: str, wanted: Sequence[Any]) -> list[Any]:
        """Each row partition read once and cut into the pieces the chunks ``wanted`` name (their
        records in that partition): a chunk reads its own pieces, not every partition."""
        return [
            submit(stage, q, routed_records, prepared[q], list(wanted), q) for q in range(parts)
        ]

    def compared(c: int, found: Any, routes: list[Any], r: int, blocked_pairs: bool) -> Any:
        """Chunk ``c`` of pairs ``found``, its records piece ``r`` of each route, compared
        (spilled when the workers see the work directory)."""
        stem = None if spill is None else str(Path(spill, "chunks", f"chunk-{c:05d}"))
        if spill is not None:  # the routes' pieces are files: the chunk's task reads its own
            return submit("mchunk", c, _routed_chunk, found, (routes, r), plan, blocked_pairs, stem)
        # Held in the workers' memory: one future a piece, so a chunk fetches only its own.
        pieces = [submit(f"mpiece{c}", q, _item, route, r) for q, route in enumerate(routes)]
        return submit("mchunk", c, _chunk, found, pieces, plan, blocked_pairs, stem)

    asked = [submit("mwanted", c, ch.wanted, found, list(offsets)) for c, found in enumerate(pairs)]
    routes = routed("mroute", asked)
    for c, found in enumerate(pairs):
        if spill is not None and in_flight and c >= in_flight:
            gather(chunks[c - in_flight])  # a handle: a few names
        chunks.append(compared(c, found, routes, c, c < parts))
    del pairs, found, routes
    blocked.pairs = []  # compared now: the chunks replace them

    training = [submit("mtrain", c, _training, chunks[c], plan) for c in range(parts)]
    counts = [submit("mrules", c, ch.rule_counts, blocked.by_rule[c]) for c in range(parts)]
    picks = submit("mpicks", 0, ch.session_picks, counts, plan)
    sessions = [
        submit("msessions", c, _sessions, chunks[c], blocked.by_rule[c], picks, c, plan)
        for c in range(parts)
    ]
    if truth is None:  # else they meet once more, to evaluate
        blocked.by_rule = []

    def term_frequencies(k: int, clusters: Any) -> Any:
        pieces = [
            submit(f"mtfpieces{k}", q, ch.tf_pieces, blocked.prepared[q], plan, None, parts)
            if clusters is None
            else submit(
                f"mtfpieces{k}", q, _tf_pieces, blocked.prepared[q], plan, clusters[q], parts
            )
            for q in range(parts)
        ]
        counts = [submit(f"mtfbucket{k}", b, ch.tf_bucket, pieces, b) for b in range(parts)]
        return submit(f"mtf{k}", 0, ch.tf_summed, counts, summaries)

    tf = term_frequencies(1, None)
    # u from the random pairs the local run draws: positions drawn, only those records fetched.
    drawn = submit("mudraws", 0, ch.u_draws, summaries, plan)
    members = [
        submit("mumembers", q, ch.within_members, prepared[q], drawn, q) for q in range(parts)
    ]
    drawn = submit("mupositions", 0, ch.drawn_positions, drawn, members, list(offsets))
    asked_u = submit("muasked", 0, _item, drawn, "asked")
    sample = [submit("mupick", q, ch.picked, prepared[q], asked_u, q) for q in range(parts)]
    exact_pieces = [
        submit("muexact", q, ch.exact_pieces, prepared[q], plan, parts) for q in range(parts)
    ]
    exact = [submit("muexactb", b, ch.exact_bucket, exact_pieces, b) for b in range(parts)]
    u = submit("mu", 0, _u, drawn, sample, exact, plan, tf)
    u_pairs = submit("mupairs", 0, _u_and_pairs, u, summaries, plan)
    fitted = submit("mmodel", 0, ch.fitted_from_summaries, u_pairs, plan, training, sessions, tf)
    model, review = submit("mfitted", 0, _item, fitted, 0), submit("mband", 0, _item, fitted, 1)
    del drawn, members, asked_u, sample, exact_pieces, exact, u, u_pairs, training, sessions
    del counts, picks

    clusters: Any = None
    two_hop: Any = None
    passes = 0
    tf_passes = settings.tf_passes if gather(submit("mhastf", 0, _has_tf, tf)) else 1
    while passes < tf_passes:
        passes += 1
        if clusters is None:
            scored = [
                submit(f"mscored{passes}", c, _scored_first, chunk, model, review, plan)
                for c, chunk in enumerate(chunks)
            ]
        else:
            tf = term_frequencies(passes, clusters)
            model = submit(f"mwithtf{passes}", 0, ch.with_tf, model, tf)
            labels = [
                submit(f"mcustroute{passes}", q, routed_labels, clusters[q], list(asked), q, start)
                for q, start in enumerate(offsets)
            ]
            scored = [
                submit(f"mscored{passes}", c, _scored, chunk, model, review, plan, (labels, c))
                for c, chunk in enumerate(chunks)
            ]
            del labels
        links = [submit(f"mlinks{passes}", c, ch.chunk_links, s) for c, s in enumerate(scored)]
        given_components = {
            "prepared": prepared,
            "offsets": offsets,
            "links": links,
            "scored": scored,
            "asked": asked,
            "band": review,
        }
        previous = clusters
        clusters, refused = partitioned_components(submit, gather, passes, given_components)
        if passes == 1 and settings.two_hop_budget > 0:
            # Pairs of records linked to a common record (:mod:`~.matching.two_hop`), as the local
            # run adds them after its first pass: a chunk of their own, compared, scored and
            # clustered with the rest from here on.
            ends = [submit("mhoplinks", c, _hop_links, s) for c, s in enumerate(scored)]
            found = submit("mhopcands", 0, _hop_candidates, ends, settings.max_block_size)
            seen = [submit("mhopseen", c, _hop_compared, s, found) for c, s in enumerate(scored)]
            named = submit("mhopwanted", 0, ch.wanted, found, list(offsets))
            sides = [
                submit("mhopsides", q, _hop_sides, prepared[q], named, q, plan)
                for q in range(parts)
            ]
            hop = submit("mhop", 0, _hop_chosen, found, seen, sides, summaries, plan)
            del ends, found, seen, named, sides
            if gather(submit("mhopany", 0, _height, hop)):
                c = len(chunks)
                asked.append(submit("mwanted", c, ch.wanted, hop, list(offsets)))
                chunks.append(compared(c, hop, routed("mhoproute", [asked[c]]), 0, False))
                scored.append(submit("mscored1", c, _scored_first, chunks[c], model, review, plan))
                links.append(submit("mlinks1", c, ch.chunk_links, scored[c]))
                clusters, refused = partitioned_components(submit, gather, "1h", given_components)
                two_hop = hop
        if previous is not None:
            same = [
                submit(f"msame{passes}", q, _same_labels, previous[q], clusters[q])
                for q in range(parts)
            ]
            if all(gather(same)):
                break

    finished = [
        submit(
            "mfinish",
            c,
            _finished,
            chunk,
            scored[c],
            refused,
            plan,
            None if spill is None else str(Path(spill, "pairs", f"part-{c:05d}.parquet")),
        )
        for c, chunk in enumerate(chunks)
    ]
    del chunks, scored
    review_records = submit("mreview", 0, _review_records, finished)
    out = [
        submit("mclusters", q, _cluster_frame, prepared[q], clusters[q], review_records)
        for q in range(parts)
    ]
    reviewed = submit("mreviewed", 0, _reviewed, finished)
    decided_at = [
        submit("mdecidedat", q, _decided_at, prepared[q], clusters[q], reviewed)
        for q in range(parts)
    ]
    given = {
        "fitted": fitted,
        "report": blocked.report,
        "truth": truth,
        # Every rule's pairs, and every record's cluster id, meet in one task only to evaluate
        # against a truth column.
        "by_rule": list(blocked.by_rule) if truth is not None else [],
        "evaluated": [
            submit("mevaluated", q, _evaluated, prepared[q], out[q], plan) for q in range(parts)
        ]
        if truth is not None
        else [],
        "counts": [
            submit("mcount", q, _cluster_count, clusters[q], offsets[q]) for q in range(parts)
        ],
        "decided_at": decided_at,
        "two_hop": two_hop,
    }
    return submit("mresult", 0, _result, plan, reviewed, finished, given), out
