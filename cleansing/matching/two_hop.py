"""Candidates through a common record: pairs of records both linked to a third (iterative blocking).

A customer with many records is found pair by pair: Thomas Buttler of Leeds and Tom Butler of
Leeds share a key, Tom Butler and T. Butler born 1861 share another, but Thomas Buttler and
T. Butler share none and are never compared. Pair recall counts every pair of a customer's records,
so on a file of large clusters (historical_50k: ten records a person on average) most missed pairs
lie inside a cluster the keys' pairs already hold together (65 % there), and more across two
clusters that one shared record links.

After the first scoring, every two records that are each *linked* to a common record — a pair
scored at posterior 0.5 or more (more likely one customer than two) and not vetoed — become
candidates too, under the rule ``two_hop``: compared, scored and decided as the keys' pairs are.
That also gives the cluster logic (the bridge check) the evidence of the pairs inside a cluster
that no key proposed.

Its cost is bounded by the file, not by the data's shape: a record linked to more than
``max_degree`` others (a hub: a switchboard's tenants all linked to one record) pairs nothing
(its neighbours' pairs would be a block over the cap), and at most :data:`TWO_HOP_BUDGET` pairs per
record are added, the strongest first (a pair's strength is its weaker link's weight, through the
best common record). On a file of small clusters (the Danish generator: one to three records a
customer) few records have two links, and the rule adds little (38 pairs at 200,000 rows).

The Dask engine takes the same steps over its chunks of pairs (:func:`hop_links` per chunk,
:func:`hop_candidates` once, :func:`hop_compared` per chunk, :func:`hop_chosen` once) and compares
the pairs as one more chunk, last, as the local run appends them last: the same pairs, scores and
clusters (``tests/flows/test_engine_dask.py``).
"""

from __future__ import annotations

import polars as pl

from datavask.cleansing.matching.blocking import _allowed, pair_key

TWO_HOP = "two_hop"

# A link is a pair the model finds more likely one customer than two: posterior 0.5, weight 0.
# Not the review band: the band's low end is where a person looks, not where the model believes.
LINK_PROBABILITY = 0.5

# Pairs per record the rule may add at most; the strongest first. On historical_50k it adds 1.75
# a record without the budget; the Danish generator's 200,000 rows far fewer.
TWO_HOP_BUDGET = 2.0


SCHEMA = {"_l": pl.UInt32, "_r": pl.UInt32, "blocking_rule": pl.String}


def hop_links(scored: pl.DataFrame) -> pl.DataFrame:
    """The links of scored pairs (all of them, or a chunk's): ``_l``, ``_r`` and their weight
    ``_w``, for pairs at posterior :data:`LINK_PROBABILITY` or more that no rule vetoed."""
    return scored.filter(
        (pl.col("match_probability") >= LINK_PROBABILITY) & pl.col("hard_rule").is_null()
    ).select("_l", "_r", pl.col("match_weight").alias("_w"))


def hop_candidates(links: list[pl.DataFrame], max_degree: int) -> pl.DataFrame:
    """Every pair (``_l`` < ``_r``) of records linked to a common record with at most
    ``max_degree`` links, and its strength (``_strength``: the weaker link's weight through the
    best common record), sorted by pair; compared pairs among them too."""
    both = pl.concat(links, how="vertical")
    ends = pl.concat(
        [
            both.select(pl.col("_l").alias("_hub"), pl.col("_r").alias("_end"), "_w"),
            both.select(pl.col("_r").alias("_hub"), pl.col("_l").alias("_end"), "_w"),
        ]
    )
    ends = ends.filter(pl.len().over("_hub").is_between(2, max_degree))
    return (
        ends.join(ends, on="_hub", suffix="_r")
        .filter(pl.col("_end") < pl.col("_end_r"))
        .group_by(pl.col("_end").alias("_l"), pl.col("_end_r").alias("_r"))
        .agg(pl.min_horizontal("_w", "_w_r").max().alias("_strength"))
        .sort(pair_key())
    )


def hop_compared(scored: pl.DataFrame, candidates: pl.DataFrame) -> pl.DataFrame:
    """The ``candidates`` (``_l``, ``_r``) that are among ``scored`` (all pairs, or a chunk's)."""
    return candidates.select("_l", "_r").join(
        scored.select("_l", "_r"), on=["_l", "_r"], how="semi"
    )


def hop_chosen(
    candidates: pl.DataFrame,
    compared: pl.DataFrame,
    sides: pl.DataFrame,
    *,
    link_only: bool,
    limit: int,
) -> pl.DataFrame:
    """The ``two_hop`` pairs (``_l``, ``_r``, ``blocking_rule``, sorted by pair) of
    :func:`hop_candidates`: not ``compared`` already, allowed as blocking allows a pair (``sides``:
    ``_idx``, ``source``, ``apart`` of at least the records the candidates name), the ``limit``
    strongest."""
    hops = candidates.join(compared, on=["_l", "_r"], how="anti")
    if hops.height == 0:
        return pl.DataFrame(schema=SCHEMA)
    hops = (
        hops.join(sides.rename(lambda c: f"{c}_l"), left_on="_l", right_on="_idx_l")
        .join(sides.rename(lambda c: f"{c}_r"), left_on="_r", right_on="_idx_r")
        .rename({"source_l": "_source_l", "source_r": "_source_r"})
        .rename({"apart_l": "_apart_l", "apart_r": "_apart_r"})
        .filter(_allowed(link_only))
    )
    if hops.height > limit:
        hops = hops.sort(["_strength", pair_key()], descending=[True, False]).head(limit)
    return hops.select("_l", "_r", pl.lit(TWO_HOP).alias("blocking_rule")).sort(pair_key())


def hop_sides(records: pl.DataFrame, apart_on: str | None) -> pl.DataFrame:
    """What :func:`hop_chosen` reads of records: ``_idx``, ``source`` and the ``apart_on`` value
    (``apart``)."""
    apart = pl.col(apart_on) if apart_on else pl.lit(None, dtype=pl.String)
    return records.select(
        pl.col("_idx").cast(pl.UInt32), pl.col("source"), apart.cast(pl.String).alias("apart")
    )


def hop_limit(records: int, budget: float) -> int:
    """At most this many ``two_hop`` pairs for a file of ``records`` records."""
    return int(budget * records)


def two_hop_pairs(
    scored: pl.DataFrame,
    records: pl.DataFrame,
    *,
    link_only: bool,
    apart_on: str | None,
    max_degree: int,
    budget: float = TWO_HOP_BUDGET,
) -> pl.DataFrame:
    """The ``two_hop`` candidates (``_l`` < ``_r``, ``blocking_rule``, sorted by pair) of every
    scored pair (``_l``, ``_r``, ``match_probability``, ``match_weight``, ``hard_rule``): pairs of
    records linked to a common record with at most ``max_degree`` links, not among ``scored``
    already, that blocking would allow (two ``apart_on`` values or, in link mode, one source: no),
    at most ``budget`` per record of ``records`` (the prepared records: ``_idx``, ``source``,
    ``apart_on``). The Dask engine calls the same steps a chunk at a time."""
    candidates = hop_candidates([hop_links(scored)], max_degree)
    if candidates.height == 0:
        return pl.DataFrame(schema=SCHEMA)
    return hop_chosen(
        candidates,
        hop_compared(scored, candidates),
        hop_sides(records, apart_on),
        link_only=link_only,
        limit=hop_limit(records.height, budget),
    )
