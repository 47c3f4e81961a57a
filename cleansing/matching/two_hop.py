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

Records farther apart in one component of links — a chain a–b–c–d of four records, a and d
three hops apart — are paired too, under the rule ``link_component``, when the component has at
most ``max_degree`` records; they come after every ``two_hop`` pair in the budget (strongest
first: a component's pairs are as strong as its weakest link). On historical_50k they raise
blocking recall from 0.947 to 0.957 (1.1 pairs a record); the 7,600 true pairs still missed after
them join two customers' components that no compared pair connects at all, and share nearly
nothing (bench/README "Pairs through a common record"). Such a pair shares no key and was found
only because the clusters already hold its records together (or held them before a split), so it
is weak evidence as an ``every_pair`` pair is: it is at most a review, and neither its score nor
its veto splits a cluster (:func:`~datavask.cleansing.matching.bridge_evidence`,
:func:`~datavask.cleansing.matching.cluster_links`). Allowed to merge and split, these pairs split
customers the keys' pairs held together (a different-names veto on a customer's alias: recall 0.9108
to 0.9090), and allowed to merge only, they cost precision (0.9712 to 0.9705, F1 the same).

The Dask engine takes the same steps over its chunks of pairs (:func:`hop_links` per chunk,
:func:`hop_candidates` once, :func:`hop_compared` per chunk, :func:`hop_chosen` once) and compares
the pairs as one more chunk, last, as the local run appends them last: the same pairs, scores and
clusters (``tests/flows/test_engine_dask.py``).
"""

from __future__ import annotations

import polars as pl

from datavask.cleansing.matching.blocking import _allowed, pair_key
from datavask.cleansing.matching.clusters import connected_components

TWO_HOP = "two_hop"
# Pairs of one component of links farther apart than two hops (see :func:`hop_candidates`).
COMPONENT = "link_component"

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
    ``max_degree`` links (``_hops`` 2), and its strength (``_strength``: the weaker link's weight
    through the best common record), and every other pair of one component of links of at most
    ``max_degree`` records (``_hops`` 3, its strength the component's weakest link), sorted by pair;
    compared pairs among them too."""
    both = pl.concat(links, how="vertical")
    ends = pl.concat(
        [
            both.select(pl.col("_l").alias("_hub"), pl.col("_r").alias("_end"), "_w"),
            both.select(pl.col("_r").alias("_hub"), pl.col("_l").alias("_end"), "_w"),
        ]
    )
    hops = ends.filter(pl.len().over("_hub").is_between(2, max_degree))
    hops = (
        hops.join(hops, on="_hub", suffix="_r")
        .filter(pl.col("_end") < pl.col("_end_r"))
        .select(
            pl.col("_end").alias("_l"),
            pl.col("_end_r").alias("_r"),
            pl.min_horizontal("_w", "_w_r").alias("_strength"),
            pl.lit(2, dtype=pl.UInt8).alias("_hops"),
        )
    )
    return (
        pl.concat([hops, _component_pairs(both, max_degree)])
        .group_by("_l", "_r")
        .agg(
            pl.col("_hops").min(),
            pl.col("_strength").filter(pl.col("_hops") == pl.col("_hops").min()).max(),
        )
        .sort(pair_key())
    )


def _component_pairs(links: pl.DataFrame, max_size: int) -> pl.DataFrame:
    """Every pair (``_l`` < ``_r``) of records in one component of ``links`` (``_l``, ``_r``,
    ``_w``) of at most ``max_size`` records, its strength the component's weakest link."""
    if links.height == 0:
        return pl.DataFrame(
            schema={"_l": pl.UInt32, "_r": pl.UInt32, "_strength": pl.Float64, "_hops": pl.UInt8}
        )
    ids = pl.concat([links["_l"], links["_r"]]).unique().sort()
    left = ids.search_sorted(links["_l"])
    right = ids.search_sorted(links["_r"])
    labels = connected_components(ids.len(), left.to_numpy(), right.to_numpy())
    weakest = (
        pl.DataFrame({"_c": labels[left.to_numpy()], "_w": links["_w"]})
        .group_by("_c")
        .agg(pl.col("_w").min().alias("_strength"))
    )
    members = (
        pl.DataFrame({"_idx": ids, "_c": labels})
        .filter(pl.len().over("_c").is_between(3, max_size))
        .join(weakest, on="_c")
    )
    return (
        members.join(members.select("_idx", "_c"), on="_c", suffix="_r")
        .filter(pl.col("_idx") < pl.col("_idx_r"))
        .select(
            pl.col("_idx").alias("_l"),
            pl.col("_idx_r").alias("_r"),
            pl.col("_strength").cast(pl.Float64),
            pl.lit(3, dtype=pl.UInt8).alias("_hops"),
        )
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
    strongest (every ``two_hop`` pair before any ``link_component`` pair)."""
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
        hops = hops.sort(["_hops", "_strength", pair_key()], descending=[False, True, False])
        hops = hops.head(limit)
    rule = pl.when(pl.col("_hops") == 2).then(pl.lit(TWO_HOP)).otherwise(pl.lit(COMPONENT))
    return hops.select("_l", "_r", rule.alias("blocking_rule")).sort(pair_key())


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


def hop_rule_counts(hop: pl.DataFrame) -> list[tuple[str, int]]:
    """The blocking report's rows of :func:`two_hop_pairs`' pairs: (rule, pairs) for
    :data:`TWO_HOP` and :data:`COMPONENT`, those with pairs."""
    counts = dict(hop.group_by("blocking_rule").len().iter_rows())
    return [(rule, counts[rule]) for rule in (TWO_HOP, COMPONENT) if counts.get(rule)]
