"""The matcher after blocking on a Dask cluster: the pairs stay in chunks on the workers.

The steps are :mod:`datavask.cleansing.matching.chunked`'s, submitted as tasks with fixed keys (a
task a dead worker held is recomputed from its spec). A chunk is the pairs blocking left with one
row partition (``kfound-p``), plus one chunk for the reviewers' pairs blocking did not propose.
No task and not the driver holds all pairs; one task holds every *record* (``mrecords``: the
comparisons chosen, u, the components). The driver receives a few flags.

====================  ======================================================================
task                  what it does
====================  ======================================================================
``mrecords``          every row partition's prepared records, concatenated
``mplan``             the comparisons, rules and reviewers' pairs (:func:`match_plan`)
``mwanted-c``         the records chunk ``c`` names, per row partition
``mpick<c>-q``        those records of partition ``q`` (the shuffle by record position)
``mchunk-c``          chunk ``c`` compared: levels, vetoes, copies (kept for every pass)
``mtrain-c``          its level patterns for EM; ``mrules-c``, ``mpicks``, ``msessions-c``:
                      each rule's sample, as the local run draws it, and its patterns
``mtfpieces<k>-q``    row partition ``q``'s values per tf comparison, once per customer, cut
                      into buckets by value; ``mtfbucket<k>-b`` one bucket's value counts;
                      ``mtf<k>`` the tables (tf pass ``k``)
``mmodel``            u from the records, m and λ by EM on the summed pattern counts, the
                      review band
``mscored<k>-c``      chunk ``c`` scored in tf pass ``k``; ``mlinks<k>-c`` its matched and
                      vetoed pairs
``msplit<k>``         the components over all links, split at conflicts
``mwithin<k>-c``      chunk ``c``'s pairs inside components a bridge could hold
``mbridges<k>``       the bridge check
``mfinish-c``         chunk ``c``'s output pairs, review records, reviewed pairs
``mresult``           the clusters in input order and the match step's report
====================  ======================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import polars as pl


def _records(prepared: Sequence[pl.DataFrame]) -> pl.DataFrame:
    return pl.concat(list(prepared), how="vertical")


def _plan(
    records: pl.DataFrame,
    decisions: pl.DataFrame | None,
    link_only: bool,
    band: tuple[float, float] | None,
) -> Any:
    from datavask.cleansing.matching import MatchSettings
    from datavask.cleansing.matching.chunked import match_plan

    return match_plan(records, MatchSettings(), decisions, link_only, band)


def _held(pairs: pl.DataFrame, plan: Any) -> pl.DataFrame:
    from datavask.cleansing.matching.chunked import decided_held

    return decided_held(pairs, plan.decided)


def _extra(held: Sequence[pl.DataFrame], plan: Any) -> pl.DataFrame:
    from datavask.cleansing.matching.chunked import decided_extra

    return decided_extra(held, plan.decided)


def _chunk(pairs: pl.DataFrame, pieces: Sequence[pl.DataFrame], plan: Any, blocked: bool) -> Any:
    from datavask.cleansing.matching.chunked import compared_chunk

    return compared_chunk(pairs, pieces, plan, blocked=blocked)


def _sessions(chunk: Any, by_rule: pl.DataFrame, picks: list[Any], c: int, plan: Any) -> Any:
    from datavask.cleansing.matching.chunked import chunk_sessions

    return chunk_sessions(chunk, by_rule, picks[c], plan)


def _item(container: Any, key: Any) -> Any:
    return container[key]


def _has_tf(tf: Any) -> bool:
    return bool(tf[0])


def _equal(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b))


def _result(
    records: pl.DataFrame,
    plan: Any,
    labels: np.ndarray,
    finished: Sequence[dict[str, Any]],
    given: dict[str, Any],
) -> dict[str, Any]:
    """What the match step returns: clusters in input order, the output pairs and the step's
    report. ``given``: the model and band (``fitted``), the blocking report (``report``), and
    with a ``truth`` every rule's pairs (``by_rule``) for the evaluation."""
    from datavask.cleansing.matching.clusters import cluster_frame
    from datavask.cleansing.matching.decisions import decision_report
    from datavask.cleansing.matching.evaluation import evaluate

    review = pl.concat([f["review_records"] for f in finished])
    in_review = records["_idx"].is_in(review.implode())
    clusters = cluster_frame(records, labels, in_review)
    reviewed = pl.concat([f["reviewed"] for f in finished], how="vertical")
    truth, report = given["truth"], given["report"]
    evaluation = None
    if truth is not None:
        sources = records["source"] if plan.link_only else None
        evaluation = evaluate(
            truth, pl.concat(list(given["by_rule"])), clusters["cluster_id"], sources=sources
        )
    band = given["fitted"][1]
    return {
        "clusters": clusters,
        "pairs": pl.concat([f["pairs"] for f in finished], how="vertical"),
        "review_band": band.record(),
        "blocking": report[0].to_dicts(),
        "oversized_blocks": report[1].head(50).to_dicts(),
        "decisions": decision_report(
            reviewed, plan.decided, pl.Series(labels), records["record_id"]
        ),
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
) -> Any:
    """The future of the match step's result (see :func:`_result`) from the blocking's futures
    (:class:`~datavask.flows.engine_dask_blocking.Blocked`), computed as
    :func:`~datavask.cleansing.matching.find_duplicates` computes it with its default settings.

    ``submit(stage, i, fn, *args)`` submits one task under a fixed key; ``gather`` fetches the few
    flags that steer the passes."""
    from datavask.cleansing.matching import MatchSettings
    from datavask.cleansing.matching import chunked as ch

    settings = MatchSettings()
    parts = len(blocked.pairs)
    records = submit("mrecords", 0, _records, blocked.prepared)
    plan = submit("mplan", 0, _plan, records, decisions, blocked.link_only, band)
    pairs = list(blocked.pairs)
    if decisions is not None:
        held = [submit("mheld", p, _held, found, plan) for p, found in enumerate(pairs)]
        pairs.append(submit("mextra", 0, _extra, held, plan))
    chunks = []
    for c, found in enumerate(pairs):
        asked = submit("mwanted", c, ch.wanted, found, list(offsets))
        pieces = [
            submit(f"mpick{c}", q, ch.picked, blocked.prepared[q], asked, q) for q in range(parts)
        ]
        chunks.append(submit("mchunk", c, _chunk, found, pieces, plan, c < parts))

    training = [submit("mtrain", c, ch.training_patterns, chunks[c], plan) for c in range(parts)]
    counts = [submit("mrules", c, ch.rule_counts, blocked.by_rule[c]) for c in range(parts)]
    picks = submit("mpicks", 0, ch.session_picks, counts, plan)
    sessions = [
        submit("msessions", c, _sessions, chunks[c], blocked.by_rule[c], picks, c, plan)
        for c in range(parts)
    ]

    def term_frequencies(k: int, labels: Any) -> Any:
        pieces = [
            submit(f"mtfpieces{k}", q, ch.tf_pieces, blocked.prepared[q], plan, labels, parts)
            for q in range(parts)
        ]
        counts = [submit(f"mtfbucket{k}", b, ch.tf_bucket, pieces, b) for b in range(parts)]
        return submit(f"mtf{k}", 0, ch.tf_summed, counts)

    tf = term_frequencies(1, None)
    fitted = submit("mmodel", 0, ch.fitted_model, records, plan, training, sessions, tf)
    model, review = submit("mfitted", 0, _item, fitted, 0), submit("mband", 0, _item, fitted, 1)

    labels: Any = None
    passes = 0
    tf_passes = settings.tf_passes if gather(submit("mhastf", 0, _has_tf, tf)) else 1
    while passes < tf_passes:
        passes += 1
        if labels is not None:
            tf = term_frequencies(passes, labels)
            model = submit(f"mwithtf{passes}", 0, ch.with_tf, model, tf)
        scored = [
            submit(f"mscored{passes}", c, ch.scored_chunk, chunk, model, review, plan, labels)
            for c, chunk in enumerate(chunks)
        ]
        links = [submit(f"mlinks{passes}", c, ch.chunk_links, s) for c, s in enumerate(scored)]
        split = submit(f"msplit{passes}", 0, ch.split_from_links, records, links, review)
        split_labels = submit(f"msplitlabels{passes}", 0, _item, split, 0)
        within = [
            submit(f"mwithin{passes}", c, ch.within_components, s, split_labels)
            for c, s in enumerate(scored)
        ]
        clustered = submit(f"mbridges{passes}", 0, ch.bridged, split_labels, links, within, review)
        previous, labels = labels, submit(f"mlabels{passes}", 0, _item, clustered, 0)
        refused = submit(f"mrefused{passes}", 0, _item, clustered, 1)
        if previous is not None and gather(submit(f"msame{passes}", 0, _equal, previous, labels)):
            break

    finished = [
        submit("mfinish", c, ch.finished_chunk, chunk, scored[c], refused, plan)
        for c, chunk in enumerate(chunks)
    ]
    given = {
        "fitted": fitted,
        "report": blocked.report,
        "truth": truth,
        # Every rule's pairs meet in one task only to evaluate against a truth column.
        "by_rule": list(blocked.by_rule) if truth is not None else [],
    }
    return submit("mresult", 0, _result, records, plan, labels, finished, given)
