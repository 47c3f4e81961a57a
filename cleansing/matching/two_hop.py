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
customer) few records have two links, and the rule adds little.
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


def two_hop_pairs(
    scored: pl.DataFrame,
    records: pl.DataFrame,
    *,
    link_only: bool,
    apart_on: str | None,
    max_degree: int,
    budget: float = TWO_HOP_BUDGET,
) -> pl.DataFrame:
    """The ``two_hop`` candidates (``_l`` < ``_r``, ``blocking_rule``) of the scored pairs: pairs
    of records linked to a common record that are not among ``scored`` already, that blocking
    would allow (another ``apart_on`` value or, in link mode, one source: no), through a record
    with at most ``max_degree`` links, at most ``budget`` per record of ``records``, sorted
    by pair.

    ``scored``: every compared pair (``_l``, ``_r``, ``match_probability``, ``hard_rule``);
    ``records``: the prepared records (``_idx``, ``source``, and ``apart_on``)."""
    schema = {"_l": pl.UInt32, "_r": pl.UInt32, "blocking_rule": pl.String}
    links = scored.filter(
        (pl.col("match_probability") >= LINK_PROBABILITY) & pl.col("hard_rule").is_null()
    ).select("_l", "_r", pl.col("match_weight").alias("_w"))
    ends = pl.concat(
        [
            links.select(pl.col("_l").alias("_hub"), pl.col("_r").alias("_end"), "_w"),
            links.select(pl.col("_r").alias("_hub"), pl.col("_l").alias("_end"), "_w"),
        ]
    )
    ends = ends.filter(pl.len().over("_hub").is_between(2, max_degree))
    if ends.height == 0:
        return pl.DataFrame(schema=schema)
    hops = (
        ends.join(ends, on="_hub", suffix="_r")
        .filter(pl.col("_end") < pl.col("_end_r"))
        .group_by(pl.col("_end").alias("_l"), pl.col("_end_r").alias("_r"))
        .agg(pl.min_horizontal("_w", "_w_r").max().alias("_strength"))
        .join(scored.select("_l", "_r"), on=["_l", "_r"], how="anti")
    )
    apart = pl.col(apart_on) if apart_on else pl.lit(None, dtype=pl.String)
    sides = records.select("_idx", "source", apart.alias("apart"))
    hops = (
        hops.join(sides.rename(lambda c: f"{c}_l"), left_on="_l", right_on="_idx_l")
        .join(sides.rename(lambda c: f"{c}_r"), left_on="_r", right_on="_idx_r")
        .rename({"source_l": "_source_l", "source_r": "_source_r"})
        .rename({"apart_l": "_apart_l", "apart_r": "_apart_r"})
        .filter(_allowed(link_only))
    )
    limit = int(budget * records.height)
    if hops.height > limit:
        hops = hops.sort(["_strength", pair_key()], descending=[True, False]).head(limit)
    return hops.select("_l", "_r", pl.lit(TWO_HOP).alias("blocking_rule")).sort(pair_key())
