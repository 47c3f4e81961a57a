"""The matcher's blocking on a Dask cluster: a shuffle of the records' keys between the workers.

The steps are :mod:`datavask.cleansing.matching.shuffled_blocking`'s, submitted as tasks with
fixed keys (a task a dead worker held is recomputed from its spec). For ``P`` row partitions the
keys are cut into ``P`` buckets; what travels between tasks is keys and record positions, and the
driver receives only the blocking report and the oversized blocks:

====================  ======================================================================
task                  what it does
====================  ======================================================================
``prepared-i``        :func:`~datavask.cleansing.matching.prepare.prepare_records` of row
                      partition ``i`` with its offset (the file's ``_idx``)
``ksample-i``         a sample of partition ``i``'s keys per sorted-neighbourhood rule
``kbounds``           the sorted rules' bucket ranges from those samples
``keyed-i``           partition ``i`` keyed by every rule, cut into buckets
``kbucket-b``         bucket ``b`` of every partition, gathered (the shuffle)
``kheads-b``          the first keys of bucket ``b`` per sorted rule (the windows that span)
``ksizes-b``          bucket ``b``'s blocks over the cap per rule (key and size)
``kwhole``            the blocks over the cap compared whole, chosen among all buckets'
``kpairs-b``          bucket ``b``'s pairs per rule, cut by the row partition of ``_l``
``kmerged-p``         row partition ``p``'s pairs de-duplicated per rule and across rules
``kreport``           the blocking report and the oversized blocks
====================  ======================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl


def _prepared(view: pl.DataFrame, evidence: dict[str, str], offset: int) -> pl.DataFrame:
    from datavask.cleansing.matching.prepare import prepare_records
    from datavask.flows.cleanse import add_evidence

    return prepare_records(add_evidence(view, evidence), offset=offset)


def _facts(records: pl.DataFrame) -> dict[str, Any]:
    """What the driver needs of a partition to choose the rules: its sources, evidence counts."""
    from datavask.cleansing.matching.blocking import evidence_counts
    from datavask.cleansing.matching.prepare import evidence_fields

    fields = evidence_fields(records)
    return {
        "sources": set(records["source"].drop_nulls().unique().to_list()),
        "source_sizes": dict(records["source"].value_counts().iter_rows()),
        "fields": fields,
        "evidence": evidence_counts(records, fields),
    }


def _coarse(facts: Sequence[dict[str, Any]]) -> frozenset[str]:
    from datavask.cleansing.matching.blocking import coarse_fields

    return coarse_fields([f["evidence"] for f in facts])


def _item(container: Any, key: Any) -> Any:
    return container[key]


def _counts(merged: dict[str, Any]) -> dict[str, Any]:
    return {"generated": merged["generated"], "new": merged["new"]}


def _summary(
    summaries: Sequence[dict[str, Any]], counts: Sequence[dict[str, Any]], names: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    from datavask.cleansing.matching.shuffled_blocking import blocking_summary

    return blocking_summary(summaries, counts, names)


@dataclass
class Blocked:
    """Futures of the blocking's result: per row partition its pairs (``pairs``, in order) and
    every rule's pairs (``by_rule``), and the report with the oversized blocks (``report``); the
    row partitions' records as the matcher prepares them (``prepared``)."""

    pairs: list[Any]
    by_rule: list[Any]
    report: Any
    link_only: bool
    prepared: list[Any]
    sources: list[str]  # the records' sources, sorted (run.json steps.match.link_sources)


def partitioned_blocking(
    submit: Callable[..., Any],
    gather: Callable[[Any], Any],
    views: Sequence[Any],
    offsets: Sequence[int],
    evidence: dict[str, str],
) -> Blocked:
    """Block the records of the row partitions ``views`` (futures) as
    :func:`~datavask.cleansing.matching.find_duplicates` blocks them with its default settings.

    ``submit(stage, i, fn, *args)`` submits one task under a fixed key; ``gather`` fetches small
    results (the sources and evidence counts that choose the rules)."""
    from datavask.cleansing.matching import MatchSettings, blocking_apart_on
    from datavask.cleansing.matching import shuffled_blocking as sb
    from datavask.cleansing.matching.blocking import default_rules, pairs_among

    settings = MatchSettings()
    parts = len(views)
    prepared = [
        submit("prepared", i, _prepared, v, evidence, offset)
        for i, (v, offset) in enumerate(zip(views, offsets, strict=True))
    ]
    facts = gather([submit("kfacts", i, _facts, p) for i, p in enumerate(prepared)])
    sources = sorted(set().union(*(f["sources"] for f in facts)))
    link_only = len(sources) > 1
    fields = facts[0]["fields"]
    coarse = _coarse(facts)
    sizes: dict[Any, int] = {}
    for f in facts:
        for source, count in f["source_sizes"].items():
            sizes[source] = sizes.get(source, 0) + count
    total = pairs_among(list(sizes.values()), link_only=link_only)
    rules = default_rules(
        window=settings.sorted_window,
        evidence=fields,
        coarse=coarse,
        total_pairs=total,
        every_pair_budget=settings.every_pair_budget,
    )
    names = [r.name for r in rules]
    apart = blocking_apart_on(settings)

    samples = [submit("ksample", i, sb.key_sample, p, rules, apart) for i, p in enumerate(prepared)]
    bounds = submit("kbounds", 0, sb.sort_boundaries, samples, parts)
    keyed = [
        submit("keyed", i, sb.keyed_partition, p, rules, apart, parts, bounds)
        for i, p in enumerate(prepared)
    ]
    buckets = [
        submit(
            "kbucket",
            b,
            sb.bucket_of,
            [submit(f"kpiece{b}", i, _item, k, b) for i, k in enumerate(keyed)],
        )
        for b in range(parts)
    ]
    heads = [
        submit("kheads", b, sb.bucket_heads, bucket, rules) for b, bucket in enumerate(buckets)
    ]
    oversized = [
        submit("ksizes", b, _bucket_oversized, bucket, rules, settings.max_block_size)
        for b, bucket in enumerate(buckets)
    ]
    whole = submit(
        "kwhole",
        0,
        sb.whole_keys,
        oversized,
        settings.whole_block_pairs,
        settings.crowded_block_pairs,
    )
    made = [
        submit(
            "kpairs",
            b,
            _bucket_pairs,
            buckets[b],
            heads[b + 1 :],
            rules,
            list(offsets),
            {"max_block_size": settings.max_block_size, "link_only": link_only, "whole": whole},
        )
        for b in range(parts)
    ]
    merged = []
    for p in range(parts):
        pieces = [submit(f"kpart{p}", b, _pairs_for, m, p) for b, m in enumerate(made)]
        merged.append(submit("kmerged", p, sb.merged_pairs, pieces, names))
    summaries = [submit("ksummary", b, _item, m, 1) for b, m in enumerate(made)]
    counts = [submit("kcounts", p, _counts, m) for p, m in enumerate(merged)]
    report = submit("kreport", 0, _summary, summaries, counts, names)
    return Blocked(
        pairs=[submit("kfound", p, _item, m, "pairs") for p, m in enumerate(merged)],
        by_rule=[submit("kbyrule", p, _item, m, "by_rule") for p, m in enumerate(merged)],
        report=report,
        link_only=link_only,
        prepared=prepared,
        sources=sources,
    )


def _bucket_pairs(
    bucket: dict[str, pl.DataFrame],
    following: Sequence[dict[str, pl.DataFrame]],
    rules: Sequence[Any],
    offsets: list[int],
    options: dict[str, Any],
) -> tuple[list[dict[str, pl.DataFrame]], dict[str, Any]]:
    from datavask.cleansing.matching.shuffled_blocking import bucket_pairs

    return bucket_pairs(bucket, following, rules, offsets, **options)


def _bucket_oversized(
    bucket: dict[str, pl.DataFrame], rules: Sequence[Any], max_block_size: int
) -> dict[str, pl.DataFrame]:
    from datavask.cleansing.matching.shuffled_blocking import bucket_oversized

    return bucket_oversized(bucket, rules, max_block_size=max_block_size)


def _pairs_for(made: tuple[list[dict[str, pl.DataFrame]], dict[str, Any]], part: int) -> Any:
    return made[0][part]


def candidates(
    pairs: Sequence[pl.DataFrame],
    by_rule: Sequence[pl.DataFrame],
    report: tuple[pl.DataFrame, pl.DataFrame],
) -> Any:
    """The :class:`~datavask.cleansing.matching.blocking.Candidates` the partitions add up to."""
    from datavask.cleansing.matching.blocking import Candidates

    return Candidates(pl.concat(pairs), report[0], report[1], pl.concat(by_rule))
