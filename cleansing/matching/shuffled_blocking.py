"""Blocking over record partitions: the steps of :func:`~.blocking.candidate_pairs` that a cluster
runs on its workers, each on a piece of the records, with the same pairs as one machine.

Pure polars, no Dask: ``flows/engine_dask.py`` sends these functions to the workers. For a record
frame cut into row partitions (each prepared with its own ``_idx`` offset):

1. :func:`keyed_partition` keys a row partition by every rule and cuts each rule's keys into
   *buckets*: an equality or ``identical`` rule by a hash of the key, so that every block lies
   wholly in one bucket and the cap and the finer keys act on it as on one machine; a
   sorted-neighbourhood rule by key range (:func:`sort_boundaries`, from a sample of keys), so
   that the buckets in order are the rule's global sort;
2. :func:`bucket_pairs` makes each bucket's pairs with the local stage functions; a
   sorted-neighbourhood bucket first takes the first ``window - 1`` keys of the buckets after it
   (:func:`bucket_heads`), so that a window spanning two buckets still pairs across them;
3. :func:`by_left_partition` sends every pair to the row partition of its ``_l`` record, and
   :func:`merged_pairs` de-duplicates there: per rule, then across rules in rule order (the first
   rule that found a pair keeps it), sorted by ``(_l, _r)``. The partitions in order are the local
   ``pairs``.

Example: with 1,000 rows in 4 partitions, records 3 and 998 sharing ``+4533121212`` meet in the
phone rule's bucket of that number; ``hansen jens`` at the end of one name bucket and
``hansen jenns`` at the start of the next are paired through the next bucket's head.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from datavask.cleansing.matching.blocking import (
    PAIR_SCHEMA,
    BlockingRule,
    _block_pairs,
    _every_pairs,
    _keyed,
    _neighbour_pairs,
    _star_pairs,
    oversized_blocks,
    oversized_frame,
    pair_key,
    report_frame,
    splits_oversized,
    whole_blocks,
)

# How many keys per row partition and rule decide the sorted-neighbourhood buckets' ranges.
BOUNDARY_SAMPLE = 1_000


def is_sorted(rule: BlockingRule) -> bool:
    """A sorted-neighbourhood rule: its buckets are key ranges, not hashes."""
    return rule.window > 1


def key_sample(
    records: pl.DataFrame, rules: Sequence[BlockingRule], apart_on: str | None, *, seed: int = 0
) -> dict[str, pl.Series]:
    """Per sorted-neighbourhood rule, up to :data:`BOUNDARY_SAMPLE` of a row partition's keys."""
    sample = {}
    for rule in rules:
        if is_sorted(rule):
            keys = _keyed(records, rule, apart_on)["key"]
            sample[rule.name] = keys.sample(min(keys.len(), BOUNDARY_SAMPLE), seed=seed)
    return sample


def sort_boundaries(samples: Sequence[dict[str, pl.Series]], buckets: int) -> dict[str, pl.Series]:
    """Per sorted-neighbourhood rule, up to ``buckets - 1`` ascending keys that cut the sampled
    keys into ranges of about equal size. Bucket ``b`` holds the keys with ``b`` boundaries at or
    below them: equal keys share a bucket, and each key of ``b`` sorts before those of ``b + 1``."""
    out = {}
    for name in samples[0] if samples else ():
        keys = pl.concat([s[name] for s in samples]).sort()
        cuts = [keys[(keys.len() * b) // buckets] for b in range(1, buckets)] if keys.len() else []
        out[name] = pl.Series(name, cuts, dtype=pl.String).unique().sort()
    return out


def _by_bucket(keyed: pl.DataFrame, bucket: pl.Series, buckets: int) -> list[pl.DataFrame]:
    parts = keyed.with_columns(bucket.cast(pl.Int64).alias("_bucket")).partition_by(
        "_bucket", as_dict=True, include_key=False
    )
    return [parts.get((b,), keyed.clear()) for b in range(buckets)]


def keyed_partition(
    records: pl.DataFrame,
    rules: Sequence[BlockingRule],
    apart_on: str | None,
    buckets: int,
    boundaries: dict[str, pl.Series],
) -> list[dict[str, pl.DataFrame]]:
    """One dict per bucket: every rule's keyed records of this row partition that fall in it (see
    :func:`~.blocking._keyed`). Equality rules carry their finer keys to the bucket."""
    out: list[dict[str, pl.DataFrame]] = [{} for _ in range(buckets)]
    for rule in rules:
        if is_sorted(rule):
            keyed = _keyed(records, rule, apart_on)
            bucket = boundaries[rule.name].search_sorted(keyed["key"], side="right")
        else:
            keyed = _keyed(records, rule, apart_on, finer=not rule.star)
            bucket = keyed["key"].hash(seed=0) % buckets
        for b, piece in enumerate(_by_bucket(keyed, bucket, buckets)):
            out[b][rule.name] = piece
    return out


def bucket_of(pieces: Sequence[dict[str, pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    """One bucket, one frame per rule, from that bucket's piece of every row partition's
    :func:`keyed_partition`."""
    names = pieces[0].keys() if pieces else ()
    return {name: pl.concat([p[name] for p in pieces]) for name in names}


def bucket_heads(bucket: dict[str, pl.DataFrame], rules: Sequence[BlockingRule]) -> dict[str, Any]:
    """Per sorted-neighbourhood rule, the bucket's first ``window - 1`` keyed records in sort
    order: the neighbours the bucket before it pairs its last records with."""
    return {
        rule.name: bucket[rule.name].sort("key", "_idx").head(rule.window - 1)
        for rule in rules
        if is_sorted(rule)
    }


def bucket_oversized(
    bucket: dict[str, pl.DataFrame], rules: Sequence[BlockingRule], *, max_block_size: int
) -> dict[str, pl.DataFrame]:
    """The bucket's blocks over ``max_block_size`` (``key``, ``size``, ``crowding``) per rule whose
    blocks over the cap may be compared whole (:func:`~.blocking.splits_oversized`)."""
    return {
        rule.name: oversized_blocks(bucket[rule.name], max_block_size, rule)
        for rule in rules
        if splits_oversized(rule)
    }


def whole_keys(
    oversized: Sequence[dict[str, pl.DataFrame]], budget: int, crowded_budget: int = 0
) -> dict[str, pl.Series]:
    """Per rule, the keys of the blocks over the cap compared whole
    (:func:`~.blocking.whole_blocks`) from every bucket's :func:`bucket_oversized`: chosen among
    all of the rule's blocks at once, as one machine chooses them."""
    names = oversized[0].keys() if oversized else ()
    return {
        name: whole_blocks(pl.concat([o[name] for o in oversized]), budget, crowded_budget)
        for name in names
    }


def bucket_pairs(
    bucket: dict[str, pl.DataFrame],
    following: Sequence[dict[str, pl.DataFrame]],
    rules: Sequence[BlockingRule],
    offsets: Sequence[int],
    *,
    max_block_size: int,
    link_only: bool,
    whole: dict[str, pl.Series] | None = None,
) -> tuple[list[dict[str, pl.DataFrame]], dict[str, Any]]:
    """The pairs of one bucket, per rule, cut by the row partition of ``_l`` (``offsets``: each
    row partition's first ``_idx``); and the bucket's summary for the blocking report.

    ``following``: :func:`bucket_heads` of the buckets after this one, in order; a window that
    runs past the bucket's last key continues into them. ``whole``: :func:`whole_keys`, the blocks
    over the cap compared whole (none without it)."""
    starts = pl.Series(offsets, dtype=pl.Int64)
    out: list[dict[str, pl.DataFrame]] = [{} for _ in offsets]
    summary: dict[str, Any] = {"stats": {}, "capped": [], "refined": {}}
    for rule in rules:
        keyed = bucket[rule.name]
        stats = {"records_keyed": keyed.height}
        if is_sorted(rule):
            heads = [h[rule.name] for h in following]
            after = pl.concat([keyed.head(0), *heads]).head(rule.window - 1)
            lazy_pairs = _neighbour_pairs(pl.concat([keyed, after]), rule, link_only)
        elif rule.star:
            lazy_pairs, stats = _star_pairs(keyed, link_only)
        elif rule.every:  # its one key puts the whole file in one bucket
            lazy_pairs, stats = _every_pairs(keyed, link_only)
        else:
            # a rule's own cap, as in candidate_pairs
            cap = max_block_size if rule.cap is None else min(rule.cap, max_block_size)
            lazy_pairs, stats, capped, refined = _block_pairs(
                None, keyed, rule, cap, link_only, whole=(whole or {}).get(rule.name)
            )
            summary["capped"].append(capped if rule.cap is None else capped.clear())
            summary["refined"][rule.name] = refined
        summary["stats"][rule.name] = stats
        pairs = lazy_pairs.filter(pair_key().is_first_distinct()).select("_l", "_r").collect()
        part = starts.search_sorted(pairs["_l"].cast(pl.Int64), side="right") - 1
        for p, piece in enumerate(_by_bucket(pairs, part, len(offsets))):
            out[p][rule.name] = piece
    return out, summary


def merged_pairs(
    pieces: Sequence[dict[str, pl.DataFrame]], rule_names: Sequence[str]
) -> dict[str, Any]:
    """The distinct pairs of one row partition of ``_l`` (its piece of every bucket's
    :func:`bucket_pairs`), each credited to the first rule (in ``rule_names`` order) that found
    it, sorted by ``(_l, _r)``; every rule's distinct pairs (``by_rule``), and per rule how many
    it generated and how many it was first to find."""
    found = []
    generated = {}
    for name in rule_names:
        frames = [p[name] for p in pieces if name in p]
        rule_pairs = (
            pl.concat(frames).filter(pair_key().is_first_distinct())
            if frames
            else pl.DataFrame(schema={"_l": pl.UInt32, "_r": pl.UInt32})
        ).with_columns(pl.lit(name).alias("blocking_rule"))
        generated[name] = rule_pairs.height
        found.append(rule_pairs)
    by_rule = pl.concat(found).cast(PAIR_SCHEMA)  # type: ignore[arg-type]
    pairs = by_rule.filter(pair_key().is_first_distinct()).sort("_l", "_r")
    new = dict(pairs["blocking_rule"].value_counts().iter_rows())
    return {"pairs": pairs, "by_rule": by_rule, "generated": generated, "new": new}


def blocking_summary(
    summaries: Sequence[dict[str, Any]],
    counts: Sequence[dict[str, Any]],
    rule_names: Sequence[str],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The blocking report and the oversized blocks, as :func:`~.blocking.candidate_pairs` gives
    them, from the buckets' summaries and the merged partitions' counts."""
    rows = []
    for name in rule_names:
        stats = [s["stats"][name] for s in summaries]
        refined = [s["refined"][name] for s in summaries if name in s["refined"]]
        row: dict[str, Any] = {
            "blocking_rule": name,
            "records_keyed": sum(s["records_keyed"] for s in stats),
            "blocks": sum(s.get("blocks", 0) for s in stats),
            "largest_block": max((s.get("largest_block", 0) for s in stats), default=0),
            "capped_blocks": sum(s.get("capped_blocks", 0) for s in stats),
            "capped_records": sum(s.get("capped_records", 0) for s in stats),
            "split_records": pl.concat(refined).n_unique() if refined else 0,
            "whole_blocks": sum(s.get("whole_blocks", 0) for s in stats),
            "pairs_generated": sum(c["generated"][name] for c in counts),
        }
        rows.append(row)
    new = {name: sum(c["new"].get(name, 0) for c in counts) for name in rule_names}
    new_per_rule = pl.DataFrame(
        {
            "blocking_rule": [n for n in rule_names if new[n]],
            "pairs_new": [new[n] for n in rule_names if new[n]],
        },
        schema={"blocking_rule": pl.String, "pairs_new": pl.UInt32},
    )
    capped = [c for s in summaries for c in s["capped"]]
    return report_frame(rows, new_per_rule), oversized_frame(capped)
