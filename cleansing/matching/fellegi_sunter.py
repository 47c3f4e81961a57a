"""Fellegi–Sunter match weights, learnt from the data itself (no labelled pairs needed).

For each comparison level ``l`` of a comparison ``k``:

- ``u_k(l)`` — how often two *random* records (almost all different customers) land on that level,
  counted on a random sample of record pairs; for the top level of a term-frequency comparison it is
  computed exactly from the value counts (``Σ tf(v)²``), because a random sample rarely sees two
  records sharing a phone number;
- ``m_k(l)`` — how often two records of the *same* customer land there, estimated by
  expectation–maximisation over the candidate pairs with ``u`` held fixed (a two-class mixture
  under conditional independence, the classic Fellegi–Sunter/Winkler setup that Splink also uses).

A pair's ``match_weight`` is ``log2(π / (1 − π)) + Σ_k log2(m_k(l) / u_k(l))`` where π is the
chance that two random records match (EM's share λ of matches among candidate pairs, times
candidates over all pairs); a level whose value is missing on either side adds 0.
Term-frequency adjustment: where two records agree on a value ``v``, the comparison's weight gets
``log2(ū / tf(v))`` added, ``tf(v)`` being the share of records holding ``v`` and ``ū`` the
expected share — so a shared switchboard number or "Jensen" counts for less than a rare one.
``match_probability = 1 / (1 + 2^−match_weight)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Final

import numpy as np
import polars as pl

from datavask.cleansing.matching.compare import (
    FULL_NAME,
    Comparison,
    compare_pairs,
    tf_counted,
    tf_source,
)
from datavask.cleansing.names import fold
from datavask.cleansing.reference import load_reference

PROBABILITY_FLOOR = 1e-6

POPULATION: Final = 500
"""The fewest records the model counts its chances among (:func:`population`): a smaller file is
taken as part of a customer base of this many, the records it lacks all different customers."""


def population(n: float) -> float:
    """``n`` records (or holders of a value, or customers) counted as at least :data:`POPULATION`.

    u and term frequencies say how often two *random* customers agree. A file of two rows, one
    customer typed twice, has one pair, and it agrees on everything: counted from the file, every
    agreement is as common as chance (u = 1), and the duplicate is a non-match. A file of five
    rows whose two persons are both "Mette Larsen" gives her name a term frequency of one half.
    Those are not chances, they are the duplicate itself. Counted among at least
    :data:`POPULATION` records — the file plus a base of customers it was drawn from, who share no
    value with it or one another — an agreement of two records is as rare as it is in a
    customer file of that size, and the prior that two random records match is as small
    (:func:`population_pairs`). A file of :data:`POPULATION` records or more is counted as it is.
    """
    return max(float(n), float(POPULATION))


def record_share(n: int) -> float:
    """The share of the records of :func:`population` that a file of ``n`` records is."""
    return n / population(n) if n > 0 else 1.0


def file_share(n: int) -> float:
    """The share of the record pairs of :func:`population` that ``n`` records' own pairs are."""
    return n * (n - 1) / 2.0 / population_pairs(n * (n - 1) / 2.0)


def population_pairs(pairs: float) -> float:
    """``pairs`` record pairs counted as at least those of :data:`POPULATION` records (see
    :func:`population`)."""
    return max(float(pairs), POPULATION * (POPULATION - 1) / 2.0)


# The term-frequency table's share of a value were the pair's two records two customers, and the
# column of a pair frame saying they are counted as one (see score_pairs).
TF_APART = "tf_apart"
SAME_CUSTOMER = "_same_customer"


@dataclass
class FellegiSunterModel:
    """Estimated parameters; ``m[name][level]`` and ``u[name][level]`` are probabilities."""

    comparisons: tuple[Comparison, ...]
    m: dict[str, list[float]]
    u: dict[str, list[float]]
    match_share: float
    iterations: int = 0
    converged: bool = False
    tf_tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    tf_mean: dict[str, float] = field(default_factory=dict)
    prior: float | None = None
    # Per comparison and level: how far the per-rule EM estimates of log2 m lie apart (bits).
    m_spread: dict[str, list[float]] = field(default_factory=dict)
    # A file of fewer than POPULATION records: its u of partial agreement is a floor, not a count
    # (see level_weights).
    small_file: bool = False

    def prior_odds_bits(self) -> float:
        """log2 of the prior odds a pair is a match: of two random records when ``prior`` is set
        (see :func:`random_pair_prior`), else of a candidate pair."""
        p = self.prior if self.prior is not None else self.match_share
        return math.log2(p / (1.0 - p))

    def level_weights(self, name: str) -> list[float]:
        """``log2(m / u)`` per level of one comparison; a disagreeing level (see
        :func:`disagreement_weights`) never above 0, and in a ``small_file`` a partial agreement
        never above the whole one.

        In a small file few random pairs agree in part, so u of a partial level sits at its
        floor: in a 56-row file "jaro-winkler >= 0.92" on first names weighed 13.7 bits and the
        first given name 14.4, where the same first name weighed 10.6. Two names a typo apart are
        no stronger evidence than two names alike. In a larger file the counts say how often
        random pairs agree, and a partial level may rightly weigh more: the same restaurant chain's
        name at two addresses is common, a misspelt one is not.
        """
        weights = [math.log2(m / u) for m, u in zip(self.m[name], self.u[name], strict=True)]
        comparison = next((c for c in self.comparisons if c.name == name), None)
        if comparison is None:
            return weights
        weights = disagreement_weights(comparison, weights, self.m[name], self.u[name])
        if not self.small_file:
            return weights
        whole = weights[comparison.top]
        # A first or last name's whole agreement weighs its value's term frequency's bits less,
        # Danes' shares at the least (:func:`_at_least_national_share`); a partial one is not
        # counted by its values. So the whole agreement of a name as common as the file's
        # typical one caps it: in a 9-row file first names a letter apart weighed 13.0 bits where
        # the same first name weighed 6.1, and ``Jens Peter Hansen`` alone, without phone, e-mail
        # or birth date, was a certain link to a father and his son of one address.
        table = self.tf_tables.get(name)
        if name in NATIONAL_NAME_TABLES and table is not None and self.tf_mean.get(name):
            typical = table.get_column("tf").median()
            if isinstance(typical, float) and typical > 0:
                whole += min(0.0, math.log2(self.tf_mean[name] / typical))
        return [min(w, whole) if i < comparison.top else w for i, w in enumerate(weights)]

    def count_values(self, tables: dict[str, pl.DataFrame], means: dict[str, float]) -> None:
        """Weigh agreeing values by the term frequencies ``tables`` and ``means`` (see
        :func:`term_frequencies`), and make the u of agreement their ``Σ tf²`` wherever
        :func:`estimate_u` counted it so (names, phones, e-mails; not the address).

        A tf level's weight is ``log2(m / u) + log2(tf_mean / tf(value))``: the u and the mean
        must count values the same way, or the weight is ``log2(m / tf(value))`` plus their
        difference. They differed: u counted each value once per set of identical records, the
        mean once per customer. A re-imported file whose duplicates carry their golden values
        has more identical records, so its u fell and every shared name and e-mail address
        weighed ~0.08 bits more — enough to merge a pair the first run left in review.
        """
        self.tf_tables, self.tf_mean = tables, means
        for c in self.comparisons:
            # An address's u is sampled within postal codes (:data:`WITHIN_GROUP`), not counted.
            if c.name not in means or c.name in WITHIN_GROUP:
                continue
            u = self.u[c.name]
            agree = means[c.name]
            rest = sum(u[: c.top])
            scale = (1.0 - agree) / rest if rest > 0 else 1.0
            self.u[c.name] = _clamped([p * scale for p in u[: c.top]] + [agree] + u[c.top + 1 :])

    def weight_uncertainty(self) -> float:
        """The spread (bits) of a matching pair's weight over the per-rule estimates of m.

        Each comparison's m is the mean of one EM per blocking rule (:func:`train`). Where the
        fields are conditionally independent, as the model assumes, those estimates agree; where
        they are not (a company's e-mail domain repeats its name), they disagree, and the model's
        probabilities deserve less trust. Per comparison the variance of its level weight is
        averaged over the levels matches land on (weighted by m); the comparisons add up.
        """
        variance = 0.0
        for c in self.comparisons:
            spread = self.m_spread.get(c.name)
            if spread:
                variance += sum(m * s * s for m, s in zip(self.m[c.name], spread, strict=True))
        return math.sqrt(variance)

    def parameters(self) -> pl.DataFrame:
        """One row per comparison level: label, m, u and weight — the model, readable."""
        rows = []
        for c in self.comparisons:
            for level, label in enumerate(c.levels):
                rows.append(
                    {
                        "comparison": c.name,
                        "level": level,
                        "label": label,
                        "m": self.m[c.name][level],
                        "u": self.u[c.name][level],
                        "weight": self.level_weights(c.name)[level],
                    }
                )
        return pl.DataFrame(rows)


def disagreeing_levels(comparison: Comparison) -> tuple[int, ...]:
    """The levels of ``comparison`` at which its two values differ (labels ``different…``)."""
    return tuple(i for i, label in enumerate(comparison.levels) if label.startswith("different"))


def disagreement_weights(
    comparison: Comparison, weights: list[float], m: list[float], u: list[float]
) -> list[float]:
    """``weights`` (``log2(m / u)`` per level) with no disagreeing level above 0.

    Two values that differ are never evidence that two records are one customer. A comparison
    that splits "different" in two (e-mail: two different personal addresses · different) can
    make one part look like evidence *for* a match: the split says which kind of customer the
    pair is (two persons on free-mail domains), and matched pairs are mostly of one kind while
    random pairs mix kinds. Measured on 1M generated Danish rows: "different personal addresses"
    weighed +2.64 bits, so namesakes with different addresses, phones and e-mails sat at p 0.35,
    243,704 of them in review. Such a level gets the weight of the disagreement as a whole,
    ``log2(Σ m / Σ u)`` over the disagreeing levels (−1.9 bits on the Danish file), capped at 0.

    >>> c = Comparison("email", ("different", "different personal", "shared"), ("email",))
    >>> [round(w, 2) for w in disagreement_weights(
    ...     c, [math.log2(1e-4 / 0.92), math.log2(0.26 / 0.08), 13.0], [1e-4, 0.26, 0.74],
    ...     [0.92, 0.08, 1e-4])]
    [-13.17, -1.94, 13.0]
    """
    disagreeing = disagreeing_levels(comparison)
    if not any(weights[i] > 0 for i in disagreeing):
        return weights
    pooled = min(math.log2(sum(m[i] for i in disagreeing) / sum(u[i] for i in disagreeing)), 0.0)
    return [pooled if i in disagreeing and w > 0 else w for i, w in enumerate(weights)]


TfCodes = dict[str, tuple[pl.DataFrame, pl.Series]]


def tf_codes(records: pl.DataFrame, comparisons: tuple[Comparison, ...]) -> TfCodes:
    """Per tf comparison, the values :func:`term_frequencies` counts, coded: ``_record`` (record
    position) and ``code`` (UInt32), one row per value a record holds (each element of a list),
    and the distinct values by code. Each tf pass counts the values again per customer; coded
    once, a pass counts pairs of integers instead of text.

    Example: phones ``[["+4533121212"], [], ["+4533121212", "+4570101010"]]`` give the rows
    ``(0, 0), (2, 0), (2, 1)`` with the values ``["+4533121212", "+4570101010"]``.
    """
    codes: TfCodes = {}
    for c in tf_counted(comparisons):
        values = records.select(tf_source(c).alias("value")).with_row_index("_record")
        if isinstance(values.schema["value"], pl.List):
            values = values.explode("value")
        values = values.drop_nulls()
        distinct = values.get_column("value").unique(maintain_order=True)
        numbered = distinct.to_frame().with_row_index("code")
        coded = values.join(numbered, on="value", how="left").select("_record", "code")
        codes[c.name] = (coded, distinct)
    return codes


def term_frequencies(
    records: pl.DataFrame,
    comparisons: tuple[Comparison, ...],
    customers: pl.Series | None = None,
    *,
    codes: TfCodes | None = None,
) -> tuple[dict[str, pl.DataFrame], dict[str, float]]:
    """Per tf comparison: a table ``value → tf`` (share of records holding the value) and ``ū``,
    the chance that two random records holding values agree (``Σ tf²``).

    With ``customers`` (a cluster label per record) a value counts once per customer: three
    records of one company sharing ``mail@firma.dk`` make that address no more common among
    *different* customers than one record does. Counted per record, a customer's duplicates
    would make its own values look common and weaken the evidence that joins them — and a file
    whose duplicates were given their golden values would score its own pairs lower than the
    input it came from. The table's ``tf_apart`` is the share with one customer more, for a
    pair whose records are counted as one customer (see :func:`score_pairs`).
    ``codes``: the records' values as :func:`tf_codes` coded them, for counting pass after pass.
    """
    codes = codes if codes is not None else tf_codes(records, comparisons)
    tables: dict[str, pl.DataFrame] = {}
    means: dict[str, float] = {}
    for c in tf_counted(comparisons):
        if c.name not in codes:
            continue
        coded, distinct = codes[c.name]
        if customers is None:
            counts = coded.group_by("code").len("count")
        else:
            # The customers per value, counted in one grouping: not the distinct (value,
            # customer) rows first and then the values' rows (about half the CPU, every pass).
            customer = customers.gather(coded.get_column("_record")).alias("_customer")
            counts = (
                coded.select("code", customer)
                .group_by("code")
                .agg(pl.col("_customer").n_unique().cast(pl.UInt32).alias("count"))
            )
        if c.name in SHARED_AT and "_address" in records.columns:
            place = records.get_column("_address").gather(coded.get_column("_record"))
            places = (
                coded.select("code", place.alias("_place"))
                .group_by("code")
                .agg(_places(pl.col("_place")))
            )
            counts = counts.join(places, on="code", how="left")
        made = tf_table(
            counts.select(
                distinct.gather(counts.get_column("code")).alias("value"),
                pl.exclude("code"),
                "code",
            ),
            c.name,
            in_file=record_share(records.height),
        )
        if made is not None:
            tables[c.name], means[c.name] = made
    return tables, means


def _places(place: pl.Expr) -> pl.Expr:
    """How many addresses (``_address``: street, number, postal code) hold a value, as
    ``places``."""
    return place.drop_nulls().n_unique().cast(pl.UInt32).alias("places")


def tf_values(
    records: pl.DataFrame, comparison: Comparison, customers: pl.Series | None
) -> pl.DataFrame:
    """The values :func:`term_frequencies` counts for one comparison: ``value`` per record (one
    row per list element), and with ``customers`` each ``value``, ``_customer`` once; a phone's
    and an e-mail's with the address holding it, ``_place`` (:data:`SHARED_AT`). Those of row
    partitions add up when the rows of one value meet (then ``unique`` again, :func:`tf_counts`)."""
    values = records.select(tf_source(comparison).alias("value"))
    if customers is not None:
        values = values.with_columns(customers.alias("_customer"))
    if comparison.name in SHARED_AT and "_address" in records.columns:
        values = values.with_columns(records.get_column("_address").alias("_place"))
    if isinstance(values.schema["value"], pl.List):
        values = values.explode("value")
    values = values.drop_nulls([c for c in values.columns if c != "_place"])
    if customers is not None:
        values = values.unique()
    return values


def tf_counts(values: pl.DataFrame) -> pl.DataFrame:
    """How many customers hold each value (``count``) of :func:`tf_values` rows (those of several
    row partitions together), and at how many addresses where they say (``places``)."""
    values = values.unique()
    if "_place" not in values.columns:
        return values.group_by("value").len("count")
    return values.group_by("value").agg(
        pl.col("_customer").n_unique().cast(pl.UInt32).alias("count"), _places(pl.col("_place"))
    )


WEIGHT_DECIMALS = 9
"""The decimals of a pair's match weight (bits): see :func:`score_pairs`."""

TYPO_SHARE = 0.1
"""A name held at most a tenth as often as a name one keystroke away is taken for that name
mistyped (see :func:`typo_bases`)."""
PERSON_NAME_PARTS = ("first_name", "last_name")

SHARED_AT: Final = ("phone", "email")
"""The tf comparisons whose values count the addresses holding them too (``places``): a number
or mailbox held at :data:`CENTRAL_PLACES` addresses or more is a central one."""

CENTRAL_PLACES: Final = 5
"""A phone number or an e-mail address held at this many addresses or more is a central one
— a chain's invoice mailbox (``faktura@coop.dk`` at 33 shops of one file), a head office's
switchboard — and no evidence that two of its holders are one customer. One customer's records,
moved and mistyped, hold theirs at four at most in the generated Danish, Faker and contact
benchmarks; the Fellegi-Sunter weight ``log2(m / tf)`` of a value held by 19 shops of a
9,000-row file is still 9.4 bits, and with the chain's name on both (``Sunset Boulevard
Vestergade``, one in Lyngby, one in Rødovre) it merged two shops. Such a value weighs what a value
everyone holds weighs (``tf`` 1: :func:`tf_table`), ``log2(m)``, a fraction of a bit."""
# typo_bases packs a count (the high 32 bits) and a value's number (the low 32) into one UInt64.
_PACK = pl.lit(1 << 32, dtype=pl.UInt64)
_LOW = pl.lit((1 << 32) - 1, dtype=pl.UInt64)


def typo_bases(counts: pl.DataFrame) -> pl.DataFrame:
    """``value``, ``base``: the values (``value``, ``count``) that are a commoner value mistyped.

    Two values are one keystroke apart (a letter left out, added, changed, two swapped) when they
    share a variant with one letter deleted (``laresn`` → ``larsn`` ← ``larsen``). A value of four
    letters or more whose commonest such neighbour is held at least ``1 / TYPO_SHARE`` times as
    often is that neighbour mistyped: ``laresn`` (34 customers in the generated 1M-row file) is
    ``larsen`` (5,634). Two customers agreeing on a typo agree on the name it was typed from — the
    same slip in two records of one customer is as rare as in two records of two — so the typo
    weighs what the name weighs, not what its rarity would say (21 bits for "Anne Jnesen" = "Anne
    Jnesen", two different people).
    """
    values = counts.select(pl.col("value").cast(pl.String), pl.col("count").cast(pl.Int64))
    values = values.filter(pl.col("value").str.len_chars() >= 4)
    # Each value numbered in text order (equal texts one number) and packed with its count into
    # one integer that orders by count, then by text first: the commonest value of a variant, or
    # a value's commonest neighbour, is then one integer's max, not a sort and a group of texts.
    number = pl.col("value").rank("dense").cast(pl.UInt64)
    values = values.with_columns(number.alias("_v")).with_columns(
        (pl.col("count").cast(pl.UInt64) * _PACK + (_LOW - pl.col("_v"))).alias("_pick")
    )
    at = pl.col("_at")
    deleted = (
        values.with_columns(pl.int_ranges(0, pl.col("value").str.len_chars()).alias("_at"))
        .explode("_at")
        .select(
            "_v",
            "_pick",
            pl.concat_str(
                [pl.col("value").str.slice(0, at), pl.col("value").str.slice(at + 1)]
            ).alias("_key"),
        )
    )
    keys = pl.concat([deleted, values.select("_v", "_pick", pl.col("value").alias("_key"))])
    # Per variant its commonest value (ties to the first text, so that reruns agree), and per
    # value the commonest of its variants' other values.
    base = _LOW - pl.col("_top") % _PACK
    found = (
        keys.select("_v", pl.col("_pick").max().over("_key").alias("_top"))
        .filter(base != pl.col("_v"))
        .group_by("_v")
        .agg(pl.col("_top").max())
    )
    texts = values.group_by("_v").agg(pl.col("value").first(), pl.col("count").max()).sort("_v")
    found = (
        found.join(texts, on="_v")
        .filter((pl.col("_top") // _PACK).cast(pl.Int64) * TYPO_SHARE >= pl.col("count"))
        .sort("_v")
    )
    # The numbers run 1, 2, … over the values in text order: texts[number - 1] is the text.
    bases = texts.get_column("value").gather(found.select(base - 1).to_series())
    return found.select("value", bases.alias("base"))


def _held(counts: pl.DataFrame, name: str) -> pl.Expr:
    """How many customers hold each value of ``counts`` as the tf table counts it: a person name
    part's typo (:func:`typo_bases`) as many as its base; a whole name besides its own holders
    those of the name its parts were mistyped from (``hanne|laresn`` + ``hanne|larsen``)."""
    if name in PERSON_NAME_PARTS:
        return pl.coalesce(pl.col("_base_count"), pl.col("count"))
    return pl.col("count") + pl.col("_base_count").fill_null(0)


def _with_base_counts(counts: pl.DataFrame, name: str) -> pl.DataFrame:
    """``counts`` with ``_base_count``: the count of the value's base (null where it has none)."""
    counts = counts.with_columns(pl.col("value").cast(pl.String), pl.col("count").cast(pl.Int64))
    if name in PERSON_NAME_PARTS:
        bases = typo_bases(counts)
    elif name == FULL_NAME.name:
        first, last = _whole_name_parts()
        split = counts.with_columns(first.alias("_f"), last.alias("_l"))
        based = []
        for part in ("_f", "_l"):
            part_counts = split.group_by(part).agg(pl.col("count").sum()).rename({part: "value"})
            found = typo_bases(part_counts).rename({"value": part, "base": f"{part}_base"})
            based.append(found)
        whole = split.join(based[0], on="_f", how="left").join(based[1], on="_l", how="left")
        bases = whole.filter(
            pl.col("_f_base").is_not_null() | pl.col("_l_base").is_not_null()
        ).select(
            "value",
            pl.concat_str(
                [pl.coalesce("_f_base", "_f"), pl.coalesce("_l_base", "_l")], separator="|"
            ).alias("base"),
        )
    else:
        return counts.with_columns(pl.lit(None, dtype=pl.Int64).alias("_base_count"))
    base_counts = counts.select(pl.col("value").alias("base"), pl.col("count").alias("_base_count"))
    found = bases.join(base_counts, on="base", how="inner").select("value", "_base_count")
    return counts.join(found, on="value", how="left", maintain_order="left")


def _whole_name_parts() -> tuple[pl.Expr, pl.Expr]:
    """The first and last name of a whole name's ``value`` (``first|last``)."""
    parts = pl.col("value").str.split_exact("|", 1).struct
    return parts.field("field_0"), parts.field("field_1")


def _parts_held_apart(counts: pl.DataFrame) -> pl.Expr:
    """Per whole name (``first|last``) of ``counts``: how many holders one of its parts has with
    another partner, the first name's or the last name's, whichever has more.

    Namesakes are as many as the chance of the parts going together makes them; a first name
    that goes with one surname only, and that surname with it only, is no evidence of that. On
    PatentsView the 221 mentions of Hiroyuki Mizuno are one inventor, and neither part occurs
    without the other; the clusters keep him apart by employer and city, and counted as 21
    namesakes those clusters would keep each other apart. A family's or a region's names (and a
    typo of a common surname, which goes with one first name) have a part that goes elsewhere
    too: "Peter" with 40 other surnames."""
    first, last = _whole_name_parts()
    count = pl.col("count").cast(pl.Float64)
    return pl.max_horizontal(count.sum().over(first), count.sum().over(last)) - count


# The tables of how common Danish given names and surnames are (``data/reference``).
NATIONAL_NAME_TABLES: Final = {"first_name": "given_names_da", "last_name": "surnames_da"}


@cache
def _national_shares(name: str) -> pl.DataFrame:
    """``value`` (a name key, folded) → ``share`` of Danes holding it, for a comparison of
    :data:`NATIONAL_NAME_TABLES`."""
    table = load_reference(NATIONAL_NAME_TABLES[name])
    return (
        table.select(value=fold(pl.col("name")), share=pl.col("share").cast(pl.Float64))
        .group_by("value")
        .agg(pl.col("share").sum())
    )


def _at_least_national_share(table: pl.DataFrame, name: str) -> pl.DataFrame:
    """A small file's term frequencies of a first or last name, each at least the share of Danes
    holding it: counted among a file of 30 customers and the 470 others of its population,
    ``hansen`` held by two is rare (0.4 %), where one Dane's surname in 16 is Hansen, Jensen or
    Nielsen. Two Peter Hansens of a small file at one postal code merged on it."""
    shares = _national_shares(name)
    return (
        table.join(shares, on="value", how="left", maintain_order="left")
        .with_columns(
            pl.max_horizontal("tf", pl.col("share").fill_null(0.0)).alias("tf"),
            pl.max_horizontal(TF_APART, pl.col("share").fill_null(0.0)).alias(TF_APART),
        )
        .drop("share")
    )


def tf_table(
    counts: pl.DataFrame, name: str = "", *, in_file: float = 1.0
) -> tuple[pl.DataFrame, float] | None:
    """The ``value → tf`` table and ``ū`` of comparison ``name`` from how many records (or
    customers) hold each value (``value``, ``count``); None when nothing was counted.

    The whole person name (:data:`~.compare.FULL_NAME`) counts the customers *besides* the pair's
    own two (see :func:`score_pairs`), ``k = count − 2`` (``count − 1`` for ``tf_apart``, the pair
    counted as one customer), at most as many as a part has holders with another partner
    (:func:`_parts_held_apart`), and takes that count at the low end of what it can say, one
    standard deviation below: ``(k − √k) / total``. A name only the pair holds, or one other
    customer too (two Chicago organisations called "Onward Neighborhood House"), says nothing about
    how often its parts go together; 43 other customers named "Peter Nelsen" do.

    A first or last name that is a commoner one mistyped (:func:`typo_bases`) is as common as that
    name, and a whole name's holders include those of the name its parts were mistyped from; ``ū``
    still counts values as written (two random records agreeing exactly).

    ``in_file``: the file's records' share of :func:`population` (:func:`record_share`); a
    smaller file's holders are counted among as many more records, who hold other values."""
    total = int(counts["count"].sum() or 0)
    if total == 0:
        return None
    counts = _with_base_counts(counts, name)
    held = _held(counts, name).cast(pl.Float64)
    if name == FULL_NAME.name:
        apart = _parts_held_apart(counts)
        besides = (
            pl.min_horizontal(held - 2, apart).clip(lower_bound=0),
            pl.min_horizontal(held - 1, apart).clip(lower_bound=0),
        )
        low = [k - k.sqrt() for k in besides]
        others = counts.select(
            "value",
            (low[0] / (total / in_file)).alias("tf"),
            (low[1] / ((total + 1) / in_file)).alias(TF_APART),
            *(["code"] if "code" in counts.columns else []),
        )
        return others, float((others["tf"] ** 2).sort().sum())
    # Holders among the population (see population): as many more, in proportion, as the file
    # has too few records.
    among = total / in_file
    # A central number or mailbox (CENTRAL_PLACES) is as common as a value everyone holds.
    central = (
        (pl.col("places") >= CENTRAL_PLACES).fill_null(False)
        if "places" in counts.columns
        else pl.lit(False)
    )
    table = counts.select(
        "value",
        pl.when(central).then(1.0).otherwise(held / among).alias("tf"),
        # A pair of one customer is scored as if its two records were two customers: its own
        # merge must not make its shared value look rarer (see score_pairs).
        pl.when(central).then(1.0).otherwise((held + 1) / ((total + 1) / in_file)).alias(TF_APART),
        *(["code"] if "code" in counts.columns else []),
    )
    if in_file < 1.0 and name in NATIONAL_NAME_TABLES:
        table = _at_least_national_share(table, name)
    # ū is the chance that two random records agree exactly, typos and all: counted as written.
    # Summed in sorted order, so that reruns give bit-identical weights.
    mean = float(((counts["count"] / among) ** 2).sort().sum())
    return table, max(mean, 1.0 / (among * among))


def random_pairs(
    n: int, size: int, *, seed: int = 0, sources: pl.Series | None = None
) -> tuple[pl.Series, pl.Series]:
    """``size`` random pairs of distinct records (of different sources if ``sources`` is given)."""
    rng = np.random.default_rng(seed)
    left = rng.integers(0, n, size=size, dtype=np.uint32)
    right = rng.integers(0, n, size=size, dtype=np.uint32)
    keep = left != right
    if sources is not None and sources.null_count() < n:
        src = sources.to_numpy()
        keep &= src[left] != src[right]
    return pl.Series("_l", left[keep]), pl.Series("_r", right[keep])


def u_sample_size(n: int, cap: int) -> int:
    """How many random pairs estimate u for ``n`` records: ten per record, at least 20,000, at most
    ``cap`` — enough for the levels random pairs reach (the rare agreeing levels of term-frequency
    comparisons are computed exactly), and small inputs do not pay for a million-record sample."""
    return min(cap, max(10 * n, 20_000))


def all_pairs(n: int) -> tuple[pl.Series, pl.Series]:
    """Every pair of ``n`` records (``_l < _r``): u without sampling noise for small inputs."""
    left, right = np.triu_indices(n, k=1)
    return pl.Series("_l", left, dtype=pl.UInt32), pl.Series("_r", right, dtype=pl.UInt32)


def estimate_u(
    records: pl.DataFrame,
    comparisons: tuple[Comparison, ...],
    *,
    sample_size: int = 200_000,
    seed: int = 0,
    link_only: bool = False,
    tf_mean: dict[str, float] | None = None,
) -> tuple[dict[str, list[float]], pl.DataFrame]:
    """u probabilities per comparison level, from random record pairs; and those pairs compared on
    every comparison (:func:`level_patterns`), which :func:`sampled_prior` reads."""
    n = records.height
    if n < 2:
        uniform = {c.name: [1.0 / len(c.levels)] * len(c.levels) for c in comparisons}
        return uniform, pl.DataFrame(schema={"count": pl.Int64})
    size = u_sample_size(n, sample_size)
    if n * (n - 1) // 2 <= size and not link_only:
        left, right = all_pairs(n)
    else:
        sources = records["source"] if link_only else None
        left, right = random_pairs(n, size, seed=seed, sources=sources)
    tf_mean = tf_mean or {}
    exact = {c.name: _exact_u(records, c, tf_mean) for c in comparisons if len(c.levels) == 2}
    levels = compare_pairs(records, left, right, comparisons, with_tf_values=False)

    def within(c: Comparison) -> list[float]:
        return _u_within_group(records, c, WITHIN_GROUP[c.name], size=size, seed=seed)

    u = u_from_levels(levels, comparisons, exact, tf_mean, within, in_file=file_share(n))
    return u, level_patterns(levels, comparisons)


def u_from_levels(
    levels: pl.DataFrame,
    comparisons: tuple[Comparison, ...],
    exact: dict[str, list[float]],
    tf_mean: dict[str, float],
    within: Callable[[Comparison], list[float]],
    *,
    in_file: float = 1.0,
) -> dict[str, list[float]]:
    """u per comparison from the random pairs' ``levels``: the share of pairs at each level
    (floored at half a pair), ``exact`` where it was counted without sampling, ``within`` for the
    comparisons drawn inside groups (:data:`WITHIN_GROUP`). ``in_file``: the share of the
    population's pairs (:func:`file_share`) the file's own pairs are, the rest different."""
    u: dict[str, list[float]] = {}
    for c in comparisons:
        if c.name in WITHIN_GROUP:
            u[c.name] = _in_population(within(c), in_file, _ADDRESS_WHOLE_FROM)
            continue
        if c.name in exact:
            # A tf comparison's agreement is counted among the population already (tf_table).
            u[c.name] = (
                exact[c.name] if c.name in tf_mean else _in_population(exact[c.name], in_file)
            )
            continue
        counts = levels[f"lvl_{c.name}"].value_counts()
        observed = dict(
            zip(counts[counts.columns[0]].to_list(), counts["count"].to_list(), strict=True)
        )
        total = sum(v for k, v in observed.items() if k >= 0)
        floor = 1.0 / (2.0 * max(total, 1))
        probs = _in_population(
            [max(observed.get(level, 0) / max(total, 1), floor) for level in range(len(c.levels))],
            in_file,
        )
        if c.name in tf_mean:
            # The exact share of random pairs agreeing on a value; the sample rarely sees them.
            probs[c.top] = tf_mean[c.name]
        rest = sum(probs[: c.top])
        scale = (1.0 - probs[c.top]) / rest if rest > 0 else 1.0
        u[c.name] = [p * scale for p in probs[: c.top]] + [probs[c.top]]
    return {name: _clamped(probs) for name, probs in u.items()}


def _in_population(probs: list[float], in_file: float, whole_from: int = 1) -> list[float]:
    """u counted in a file whose pairs are ``in_file`` of the population's (:func:`population`):
    the pairs it lacks land on the lowest level, two different customers, but for the levels
    below ``whole_from``, which they reach as often as the file's own pairs do."""
    if in_file >= 1.0:
        return probs
    scaled = [p * in_file if level >= whole_from else p for level, p in enumerate(probs)]
    scaled[0] = max(0.0, 1.0 - sum(scaled[1:]))
    return scaled


# The first level of the address (:data:`WITHIN_GROUP`) that a small file's lacking pairs reach
# no more often than two different customers do: the same street and number. Below it, two
# customers of a base of 500 share a postal code or a street as often as the file's own two do, a
# local firm's customers living in a few. Counted as never, "same postal code" weighed 8.7 bits
# and "same street" 12.8 in files of 9 to 25 rows: two ``Mads Poulsen`` born 1958 and 1990 on two
# streets of one town were one debtor, and ``Jens Hansen`` of Kirkevej 4 the estate of his
# neighbour at number 2.
_ADDRESS_WHOLE_FROM: Final = 3


def _clamped(probs: list[float]) -> list[float]:
    """``probs`` with no level below :data:`PROBABILITY_FLOOR`, renormalised — as m is clamped.

    A field with a single distinct value (one record with a phone number, 200 records sharing a
    switchboard number) makes two random records agree with probability 1, so the "different"
    level would get u = 0 and a weight of log2(m / 0).
    """
    floored = [max(p, PROBABILITY_FLOOR) for p in probs]
    total = sum(floored)
    return [p / total for p in floored]


# Comparisons of an identifier that names one person or customer by definition (a CPR number, a
# customer number from another system): two different customers share one only by mistake.
IDENTIFIERS: Final = frozenset({"person_id"})


def identifier_u(n: int) -> list[float]:
    """u of an identifier's agreement in a file of ``n`` records: the chance the file can resolve
    (one in n²), as for any level no random pair reaches. Counted from the values, a file where
    three records hold one, the same person's twice, would put it at a third: its own duplicates
    counted as chance, and an identifier worth a bit and a half (one file of 3,000 rows with three
    CPR numbers merged no one by them)."""
    agree = 1.0 / (float(max(n, 2)) ** 2)
    return [1.0 - agree, agree]


def _exact_u(
    records: pl.DataFrame, comparison: Comparison, tf_mean: dict[str, float]
) -> list[float]:
    """u of an agree/disagree comparison (phone, e-mail, CVR, EAN) without sampling: two random
    records holding values agree with probability ``Σ tf(v)²`` over the value counts; an
    identifier's by :func:`identifier_u`."""
    if comparison.name in IDENTIFIERS:
        return identifier_u(records.height)
    if comparison.name in tf_mean:
        agree = tf_mean[comparison.name]
    else:
        counts = (
            records.get_column(comparison.columns[0]).drop_nulls().value_counts()["count"]
        ).cast(pl.Float64)
        total = float(counts.sum())
        if total < 2:
            agree = 0.5
        else:
            same = float((counts * (counts - 1)).sum()) / (total * (total - 1))
            agree = max(same, 1.0 / (total * total))
    return [1.0 - agree, agree]


# Comparisons whose agreeing levels all lie inside one group (every address level above
# "different" needs the same postal code): their u is sampled within the groups.
WITHIN_GROUP = {"address": "postal_code"}


def _u_within_group(
    records: pl.DataFrame, comparison: Comparison, group: str, *, size: int, seed: int
) -> list[float]:
    """u of a comparison that can only agree within ``group``: P(same group) exactly from the
    group sizes, times the level distribution of random pairs drawn inside one group.

    Two random addresses share a street perhaps once in 10⁵ pairs — a plain random sample sees
    that level a handful of times, if at all; sampling inside postal codes sees it thousands.
    """
    present = records.filter(pl.col(group).is_not_null()).select("_idx", group)
    sizes = present.group_by(group).len("n").filter(pl.col("n") > 1).sort(group)
    total = present.height
    levels_n = len(comparison.levels)
    if sizes.height == 0 or total < 2:
        return [1.0 - 1e-9 * (levels_n - 1)] + [1e-9] * (levels_n - 1)
    counts = sizes["n"].to_numpy().astype(np.float64)
    same_group = float((counts * (counts - 1)).sum() / (total * (total - 1)))
    members = present.join(sizes.select(group), on=group).sort(group, "_idx")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    rng = np.random.default_rng(seed + 1)
    chosen = rng.choice(
        len(counts), size=size, p=counts * (counts - 1) / (counts * (counts - 1)).sum()
    )
    n_chosen = counts[chosen].astype(np.int64)
    first = rng.integers(0, n_chosen)
    second = (first + rng.integers(1, n_chosen)) % n_chosen  # a different member of the group
    idx = members["_idx"].to_numpy()
    left = pl.Series(idx[starts[chosen] + first], dtype=pl.UInt32)
    right = pl.Series(idx[starts[chosen] + second], dtype=pl.UInt32)
    levels = compare_pairs(records, left, right, (comparison,), with_tf_values=False)
    observed = levels[f"lvl_{comparison.name}"].filter(levels[f"lvl_{comparison.name}"] >= 0)
    seen = max(observed.len(), 1)
    floor = 1.0 / (2.0 * seen)
    inside = [max(int((observed == level).sum()) / seen, floor) for level in range(levels_n)]
    u = [same_group * share for share in inside]
    u[0] += 1.0 - same_group
    return u


def _unlearned_m(c: Comparison) -> list[float]:
    """m for a comparison no fit could learn: EM's start (:func:`_initial_m`), with a quarter of
    matches disagreeing (duplicates typed apart, a new phone, a move)."""
    m = _initial_m(c)
    disagreeing = disagreeing_levels(c)
    if not disagreeing:
        return m
    rest = 1.0 - sum(m[i] for i in disagreeing)
    return [
        UNLEARNED_DISAGREEMENT / len(disagreeing)
        if i in disagreeing
        else p * (1.0 - UNLEARNED_DISAGREEMENT) / rest
        for i, p in enumerate(m)
    ]


UNLEARNED_DISAGREEMENT: Final = 0.25


def _initial_m(c: Comparison) -> list[float]:
    # Matches sit mostly on the top level; the rest share what is left, less the lower they are.
    raw = [0.05 * (level + 1) for level in range(c.top)] + [1.0]
    total = sum(raw)
    return [r / total for r in raw]


def level_patterns(levels: pl.DataFrame, comparisons: tuple[Comparison, ...]) -> pl.DataFrame:
    """How many pairs of ``levels`` share each pattern of the comparisons' levels: one
    ``lvl_<name>`` column per comparison and ``count``. Patterns of parts of the pairs add up
    (:func:`summed_patterns`), so EM can learn from pairs that never meet in one process."""
    columns = [f"lvl_{c.name}" for c in comparisons]
    # sorted: EM sums over the patterns in their order, and a hash grouping's order changes from
    # run to run, which moved a weight's last bit (and so explanations) between two equal runs
    counted = levels.group_by(columns).len("count").with_columns(pl.col("count").cast(pl.Int64))
    return counted.sort(columns)


def summed_patterns(parts: list[pl.DataFrame], comparisons: tuple[Comparison, ...]) -> pl.DataFrame:
    """The patterns of several parts of the pairs (:func:`level_patterns` each), counted as one."""
    columns = [f"lvl_{c.name}" for c in comparisons]
    frame = pl.concat([p.select(*columns, "count") for p in parts], how="vertical")
    if not columns:  # a session that sees nothing: only its size matters
        return frame.select(pl.col("count").sum())
    return frame.group_by(columns).agg(pl.col("count").sum()).sort(columns)


def fit_patterns(
    patterns: pl.DataFrame,
    comparisons: tuple[Comparison, ...],
    u: dict[str, list[float]],
    *,
    max_iterations: int = 200,
    tolerance: float = 1e-6,
    initial_match_share: float = 0.2,
    fixed_m: dict[str, list[float]] | None = None,
) -> FellegiSunterModel:
    """m probabilities and the match share λ by EM over the pattern counts of
    :func:`level_patterns` (one row per pattern of candidate pairs' levels), ``u`` fixed.

    Each iteration costs the number of distinct patterns (hundreds), not the number of pairs.
    With ``fixed_m`` only λ is estimated.

    A comparison's disagreeing levels (:func:`disagreeing_levels`: e-mail's "different personal
    addresses" and "different") are one level to EM, and their m is shared out in proportion to
    u afterwards, so they weigh the same. Apart, they tell EM which *kind* of customer a pair is
    (two persons on free-mail domains, or companies): in a name rule's session of a large file,
    whose capped blocks hold mostly namesakes, EM took "two persons" for its match class (λ ≈ 0.5,
    m of a different address 0.73–0.97 where matched pairs have 0.3), and those estimates made a
    different address, phone and e-mail weak evidence against a pair on the whole file.
    """
    pooled = {c.name: d for c in comparisons if len(d := disagreeing_levels(c)) > 1}
    if not pooled:
        return _fit_patterns(
            patterns,
            comparisons,
            u,
            max_iterations=max_iterations,
            tolerance=tolerance,
            initial_match_share=initial_match_share,
            fixed_m=fixed_m,
        )
    recoded = patterns.with_columns(
        pl.when(pl.col(f"lvl_{name}").is_in(list(levels[1:])))
        .then(levels[0])
        .otherwise(pl.col(f"lvl_{name}"))
        .cast(patterns.schema[f"lvl_{name}"])
        .alias(f"lvl_{name}")
        for name, levels in pooled.items()
    )
    model = _fit_patterns(
        recoded,
        comparisons,
        {name: _pool(probs, pooled.get(name)) for name, probs in u.items()},
        max_iterations=max_iterations,
        tolerance=tolerance,
        initial_match_share=initial_match_share,
        fixed_m=(
            {name: _pool(probs, pooled.get(name)) for name, probs in fixed_m.items()}
            if fixed_m
            else None
        ),
    )
    model.u = u
    model.m = {
        name: _unpooled(probs, u[name], pooled[name]) if name in pooled else probs
        for name, probs in model.m.items()
    }
    return model


def _pool(probs: list[float], levels: tuple[int, ...] | None) -> list[float]:
    """``probs`` with the first of ``levels`` holding their sum and the rest the floor."""
    if not levels:
        return probs
    out = list(probs)
    out[levels[0]] = sum(probs[i] for i in levels)
    for i in levels[1:]:
        out[i] = PROBABILITY_FLOOR
    return out


def _unpooled(m: list[float], u: list[float], levels: tuple[int, ...]) -> list[float]:
    """The pooled ``m`` of ``levels`` (held by their first, see :func:`_pool`) shared out in
    proportion to ``u``: each of them then weighs ``log2(Σ m / Σ u)``."""
    total_m = sum(m[i] for i in levels)
    total_u = sum(u[i] for i in levels)
    out = list(m)
    for i in levels:
        out[i] = total_m * u[i] / total_u
    return out


def _fit_patterns(
    patterns: pl.DataFrame,
    comparisons: tuple[Comparison, ...],
    u: dict[str, list[float]],
    *,
    max_iterations: int,
    tolerance: float,
    initial_match_share: float,
    fixed_m: dict[str, list[float]] | None,
) -> FellegiSunterModel:
    """:func:`fit_patterns` on levels as given."""
    columns = [f"lvl_{c.name}" for c in comparisons]
    # Sorted, so that sums run in one order and reruns give bit-identical weights.
    patterns = patterns.sort(columns)
    gamma = patterns.select(columns).to_numpy().astype(np.int64)
    counts = patterns["count"].to_numpy().astype(np.float64)
    log_u = _level_table(comparisons, u, gamma)
    m = dict(fixed_m) if fixed_m else {c.name: _initial_m(c) for c in comparisons}
    share = initial_match_share
    iterations, converged = 0, False
    if counts.sum() == 0:  # no candidate pairs: nothing to learn, nothing to score
        return FellegiSunterModel(comparisons, m=m, u=u, match_share=share)
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - the count is reported
        log_m = _level_table(comparisons, m, gamma)
        lm = math.log(share) + log_m.sum(axis=1)
        lu = math.log(1.0 - share) + log_u.sum(axis=1)
        posterior = 1.0 / (1.0 + np.exp(np.clip(lu - lm, -700, 700)))
        weighted = posterior * counts
        new_share = float(weighted.sum() / counts.sum())
        new_m: dict[str, list[float]] = dict(m) if fixed_m else {}
        for k, c in enumerate(() if fixed_m else comparisons):
            present = gamma[:, k] >= 0
            denominator = weighted[present].sum()
            probs = [
                float(weighted[gamma[:, k] == level].sum() / denominator) if denominator > 0 else p
                for level, p in enumerate(m[c.name])
            ]
            probs = [max(p, PROBABILITY_FLOOR) for p in probs]
            new_m[c.name] = [p / sum(probs) for p in probs]
        change = max(
            abs(new_share - share),
            *(
                abs(a - b)
                for c in comparisons
                for a, b in zip(new_m[c.name], m[c.name], strict=True)
            ),
        )
        m, share = new_m, min(max(new_share, 1e-9), 1 - 1e-9)
        if change < tolerance:
            converged = True
            break
    return FellegiSunterModel(
        comparisons=comparisons,
        m=m,
        u=u,
        match_share=share,
        iterations=iterations,
        converged=converged,
    )


def train(
    levels: pl.DataFrame,
    sessions: list[tuple[pl.Series, tuple[str, ...]]],
    comparisons: tuple[Comparison, ...],
    u: dict[str, list[float]],
    *,
    max_iterations: int = 200,
    min_pairs: int = 50,
) -> FellegiSunterModel:
    """m by EM per blocking rule, as Splink trains: each session is the rows of ``levels`` one
    rule produced and the comparisons that rule blocks on, which are left out of that session.

    Pairs that share a phone number by construction say nothing about how often *matches* share a
    phone, but they are an honest sample for every other field. Each comparison's m is the mean of
    its estimates over the sessions that could see it; λ is then estimated over all ``levels`` with
    m and u fixed. A comparison no session could see keeps the estimate of one EM over all pairs.
    """
    return train_patterns(
        level_patterns(levels, comparisons),
        [
            (session_patterns(levels, rows, held_out, comparisons), held_out)
            for rows, held_out in sessions
        ],
        comparisons,
        u,
        max_iterations=max_iterations,
        min_pairs=min_pairs,
    )


def session_visible(
    comparisons: tuple[Comparison, ...], held_out: tuple[str, ...]
) -> tuple[Comparison, ...]:
    """The comparisons a training session sees: all but those its rule blocks on."""
    return tuple(c for c in comparisons if c.name not in held_out)


def session_patterns(
    levels: pl.DataFrame,
    rows: pl.Series,
    held_out: tuple[str, ...],
    comparisons: tuple[Comparison, ...],
) -> pl.DataFrame:
    """The level patterns of one session's ``rows`` of ``levels``, over what it sees."""
    visible = session_visible(comparisons, held_out)
    if not visible:
        return pl.DataFrame(schema={"count": pl.Int64})
    return level_patterns(levels.select(f"lvl_{c.name}" for c in visible).gather(rows), visible)


def train_patterns(
    overall: pl.DataFrame,
    sessions: list[tuple[pl.DataFrame, tuple[str, ...]]],
    comparisons: tuple[Comparison, ...],
    u: dict[str, list[float]],
    *,
    max_iterations: int = 200,
    min_pairs: int = 50,
) -> FellegiSunterModel:
    """:func:`train` over pattern counts: ``overall`` of all training pairs and, per session, its
    patterns over the comparisons it sees and the comparisons held out (:func:`session_patterns`,
    or their sums over parts of the pairs)."""
    overall_model = fit_patterns(overall, comparisons, u, max_iterations=max_iterations)
    estimates: dict[str, list[list[float]]] = {c.name: [] for c in comparisons}
    for patterns, held_out in sessions:
        visible = session_visible(comparisons, held_out)
        if int(patterns["count"].sum() or 0) < min_pairs or len(visible) < 2:
            continue
        session = fit_patterns(patterns, visible, u, max_iterations=max_iterations)
        for c in visible:
            if _agreement_seen(patterns, c) and _plausible(session, c):
                estimates[c.name].append(session.m[c.name])
    m = {
        c.name: [sum(level) / len(level) for level in zip(*found, strict=True)]
        if (found := estimates[c.name])
        else overall_model.m[c.name]
        if _agreement_seen(overall, c) and _plausible(overall_model, c)
        else _unlearned_m(c)
        for c in comparisons
    }
    model = fit_patterns(overall, comparisons, u, max_iterations=max_iterations, fixed_m=m)
    model.iterations += overall_model.iterations
    model.m_spread = {c.name: _log2_spread(estimates[c.name], c) for c in comparisons}
    return model


def _agreement_seen(patterns: pl.DataFrame, comparison: Comparison) -> bool:
    """Whether some pair of ``patterns`` agrees on ``comparison`` at all: where every pair
    differs, EM puts m of agreeing at the floor (matches never agree), and that says nothing: a
    session of one town's customers without duplicates shares no phone number, and a shared one
    weighed 8.6 bits *against* a match."""
    disagreeing = disagreeing_levels(comparison)
    agreeing = [i for i in range(len(comparison.levels)) if i not in disagreeing]
    seen = patterns.filter(pl.col(f"lvl_{comparison.name}").is_in(agreeing))
    return int(seen["count"].sum()) > 0


SEPARATED_SHARE: Final = 0.999
"""EM that puts this share of the pairs or more in its match class separated nothing."""


def _plausible(model: FellegiSunterModel, comparison: Comparison) -> bool:
    """Whether ``model``'s m of ``comparison`` can be a match class's: EM separated two classes,
    or (every pair in the match class, λ → 1) the pairs agree on it fully more often than they
    disagree.

    λ → 1 is right for a session of pairs a rule made that are nearly all one person (RLdata's
    blocks on a full name and birth year), and what EM is left with where a file holds no
    duplicates at all: m is then how often *any* two of its records agree. Counted against a
    small file's population u (:func:`population`), a first name three edits from the other's
    became strong evidence and a shared phone number evidence *against* (m at the floor where
    every pair differs): 100 different customers of one town with one e-mail domain were merged
    into 45. Such an estimate is left out; a comparison no plausible fit saw keeps the prior m
    EM starts from (:func:`_initial_m`: matches sit mostly on the top level)."""
    if model.match_share < SEPARATED_SHARE:
        return True
    m = model.m[comparison.name]
    return sum(m[i] for i in disagreeing_levels(comparison)) < m[comparison.top]


MAD_TO_SD: float = 1.4826
"""The median absolute deviation of normal values times this is their standard deviation."""


def _log2_spread(found: list[list[float]], comparison: Comparison) -> list[float]:
    """Per level, the spread in bits of the sessions' estimates of m (0 for fewer than two):
    their robust standard deviation (:data:`MAD_TO_SD` times the median absolute deviation) over
    their mean, over ln 2 — the first-order spread of log2 m, which stays finite where one session
    puts a level at the floor (a rare level's log would not).

    Robust, because a session whose EM does not separate two classes puts every pair in one
    (λ = 1: m becomes the level shares of all its pairs, namesakes included) and lies far from
    the others. Name blocks of a larger file hold more namesakes, so such sessions grew with the
    file, and with them the standard deviation: on the generated Danish file 1.62 bits at 20,000
    rows, 2.45 at 200,000, 2.73 at 1M — a review band of ±5.5 bits holding 1.24 review pairs per
    record, 0.4 % of them duplicates. The median absolute deviation lets the sessions that agree
    say how far the estimates agree (0.76 and 0.59 bits at 20,000 and 200,000 rows)."""
    if len(found) < 2:
        return [0.0] * len(comparison.levels)
    m = np.asarray(found, dtype=np.float64)
    deviation = np.median(np.abs(m - np.median(m, axis=0)), axis=0) * MAD_TO_SD
    return [float(v) for v in deviation / m.mean(axis=0) / math.log(2)]


def random_pair_prior(match_share: float, candidates: int, total_pairs: int) -> float:
    """The chance that two random records match: matches among candidates over all pairs.

    Blocking picks candidates *because* their names or phones agree, so the share of matches
    among candidates already contains that evidence; scoring a candidate with it and then adding
    the name weight again would count the name twice (every "Jens Hansen" pair would match).
    Splink's ``probability_two_random_records_match`` is the same quantity.
    """
    if total_pairs <= 0 or candidates <= 0:
        return min(max(match_share, 1e-12), 1 - 1e-12)
    return min(max(match_share * candidates / total_pairs, 1e-12), 1 - 1e-12)


SAMPLE_STANDARD_ERRORS: float = 2.0
"""How many standard errors below the matches a random sample of pairs shows its estimate of the
prior lies (:func:`sampled_prior`)."""


def sampled_prior(
    model: FellegiSunterModel,
    prior: float,
    sample: pl.DataFrame,
    *,
    iterations: int = 100,
    in_file: float = 1.0,
) -> float:
    """The prior ``prior`` (estimated from the candidate pairs) brought within what a random
    sample of record pairs (``sample``: the u sample's :func:`level_patterns`) shows: raised where
    the sample shows more matches than it says, lowered where it says more than the sample holds.

    Raised: an estimate from the candidates counts no match among the pairs blocking never made.
    Where a block over the cap is split by finer keys, the pairs across them are those:
    PatentsView's benchmark holds 1,064 mentions of one inventor in one name block, and its
    candidates hold 0.11 of the true pairs. The prior from them was 0.0014 (log2 odds −9.4) where
    the truth is 0.0159 (−6.0), so two mentions of one full name at another employer weighed 3.5
    bits too little. A random pair is a random pair, compared or not: the share of the sample the
    model calls a match (weight plus the prior's odds at least 0) estimates the prior over all
    pairs. That share is counted, not summed over posteriors: 100,000 random pairs at posterior
    0.001 each (the model's error on pairs it rightly calls different) would make 100 matches of
    none. The count ``k`` is taken :data:`SAMPLE_STANDARD_ERRORS` standard errors low
    (``k − 2·√k``), so a sample with a handful of matches raises nothing. From ``prior`` upwards
    the iteration reaches the smallest fixed point.

    Lowered: a prior ``p`` says that ``p · n`` of ``n`` random pairs match, and the model's own
    posteriors count ``E`` of them in the sample. Where ``p · n`` lies above the 95 % upper bound
    of a Poisson count ``E`` (``E + 2·√(E + 1) + 1``: 3 at ``E = 0``, the exact bound), the prior
    is lowered to that bound, and again at the lower prior until they agree. EM's share of matches
    among the candidates counts pairs merely alike as matches: RLdata10000's 1,000 duplicates
    among 10,000 persons (prior 2·10⁻⁵) were estimated at 10⁻³, and two persons with one birth
    date and similar names were merged (precision 0.86); lowered to what its sample holds, 0.97.
    On every benchmark the lowered prior lies nearer the truth. A sample of ``n`` pairs cannot
    tell priors below about ``3 / n`` apart, so those are never lowered: a million customers'
    prior (10⁻⁶) is left as estimated.

    ``in_file``: the share of the population's pairs (:func:`population`) the file's own are; the
    sample is drawn from the file's, the pairs it lacks being two different customers.
    """
    if sample.height == 0 or not model.comparisons:
        return prior
    weights = _pattern_weights(model, sample)
    counts = sample["count"].to_numpy().astype(np.float64)
    size = float(counts.sum()) / in_file

    def odds(p: float) -> float:
        return math.log2(p / (1.0 - p))

    found = prior
    for _ in range(iterations):
        k = float(counts[weights + odds(found) >= 0.0].sum())
        shown = max(k - SAMPLE_STANDARD_ERRORS * math.sqrt(k), 0.0) / size
        following = min(max(prior, shown), 1 - 1e-12)
        if following <= found:
            break
        found = following
    if found > prior:
        return found
    for _ in range(iterations):
        posterior = 1.0 / (1.0 + np.exp2(np.clip(-(weights + odds(found)), -1000, 1000)))
        counted = float(np.sum(counts * posterior))
        upper = max((counted + 2.0 * math.sqrt(counted + 1.0) + 1.0) / size, 1e-12)
        if upper >= found * (1.0 - 1e-9):
            break
        found = upper
    return found


def _pattern_weights(model: FellegiSunterModel, patterns: pl.DataFrame) -> np.ndarray:
    """Per pattern of :func:`level_patterns`, its match weight without the prior: the level
    weights summed, a missing level adding 0 (term frequencies at their mean)."""
    comparisons = model.comparisons
    gamma = patterns.select(f"lvl_{c.name}" for c in comparisons).to_numpy().astype(np.int64)
    weights = np.zeros(gamma.shape[0], dtype=np.float64)
    for k, c in enumerate(comparisons):
        table = np.asarray(model.level_weights(c.name), dtype=np.float64)
        present = gamma[:, k] >= 0
        weights[present] += table[gamma[present, k]]
    return weights


def consistent_prior(
    model: FellegiSunterModel, patterns: pl.DataFrame, total_pairs: int, *, tolerance: float = 1e-9
) -> float:
    """The chance that two random records match, counted with the posteriors the decision uses:
    the ``π`` with ``π · total_pairs = Σ posterior(w + log2 π/(1−π))`` over the training pairs
    (``patterns``, :func:`level_patterns`, weighed by the model's level weights ``w``), pairs
    never compared adding nothing.

    :func:`random_pair_prior` counts λ·candidates matches, λ being the share EM gives the match
    class among candidate pairs. That class is "alike", not "one customer": a household (one
    address, phone and last name, two first names) or the namesakes a name key brings together
    agree on enough fields to sit in it at λ's odds, yet the decision, at the random pair's odds,
    calls them different. On the generated Danish file the estimate was 1.8 bits too high at
    20,000 rows, 3.0 at 200,000 and 4.1 at 1M, growing with the file as such pairs do. Counted
    this way it lands near the truth (bench/README "A prior that does not drift"). Starts from
    :func:`random_pair_prior` and iterates to the fixed point; the same patterns in any order give
    the same value. This is EM's update of the match share over *all* record pairs with m and u
    fixed; where the weights are weak (Σ 2^w over the pairs below the number of pairs) its only
    fixed point is 0, and 200 iterations end near it.
    """
    start = random_pair_prior(model.match_share, int(patterns["count"].sum() or 0), total_pairs)
    if total_pairs <= 0 or patterns.height == 0:
        return start
    patterns = patterns.sort([f"lvl_{c.name}" for c in model.comparisons])
    counts = patterns["count"].to_numpy().astype(np.float64)
    weights = _pattern_weights(model, patterns)
    prior = start
    for _ in range(200):
        odds = math.log2(prior / (1.0 - prior))
        posterior = 1.0 / (1.0 + np.exp2(np.clip(-(weights + odds), -1000, 1000)))
        found = float(np.sum(counts * posterior)) / total_pairs
        found = min(max(found, 1e-12), 1 - 1e-12)
        if abs(math.log2(found) - math.log2(prior)) < tolerance:
            return found
        prior = found
    return prior


def _level_table(
    comparisons: tuple[Comparison, ...], probs: dict[str, list[float]], gamma: np.ndarray
) -> np.ndarray:
    """log-probability of each pattern's level per comparison (0 where the level is missing)."""
    out = np.zeros(gamma.shape, dtype=np.float64)
    for k, c in enumerate(comparisons):
        table = np.log(np.asarray(probs[c.name], dtype=np.float64))
        present = gamma[:, k] >= 0
        out[present, k] = table[gamma[present, k]]
    return out


def encode_tf_values(levels: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, pl.Series]]:
    """``levels`` with each ``tfv_<name>`` (the pair's agreeing value, text) replaced by the
    value's position (UInt32) in a series of the distinct values, and those series by name.

    Scoring runs once per tf pass over every candidate pair; with the values encoded once, a
    pass looks each distinct value up in the tf table and gathers by position instead of
    joining every pair's text again, and the pairs hold four bytes per value instead of text.
    Example: ``tfv_phone`` ``["+4570101010", null, "+4570101010"]`` becomes ``[0, null, 0]``
    with the values ``["+4570101010"]``.
    """
    values: dict[str, pl.Series] = {}
    codes = []
    for column in (c for c in levels.columns if c.startswith("tfv_")):
        name = column.removeprefix("tfv_")
        given = levels.get_column(column).alias("value")
        # Most pairs agree on no value (null): only the others are joined with the distinct
        # values, and their codes put back by position (half the CPU).
        present = given.is_not_null()
        held = given.filter(present)
        distinct = held.unique().to_frame().with_row_index("code")
        coded = held.to_frame().join(distinct, on="value", how="left", maintain_order="left")
        code = pl.repeat(None, given.len(), dtype=pl.UInt32, eager=True)
        values[name] = distinct.get_column("value")
        codes.append(code.scatter(present.arg_true(), coded.get_column("code")).alias(column))
    return levels.with_columns(codes), values


def tf_value_codes(values: dict[str, pl.Series], codes: TfCodes) -> dict[str, pl.Series]:
    """Per tf comparison, the :func:`tf_codes` code of each of the pairs' distinct agreeing values
    (``values`` of :func:`encode_tf_values`; null for a value no record holds as counted).

    Worked out once, it lets every scoring pass find a value's term frequency by its code in the
    pass's table instead of joining the values' text with a table of every value of the file."""
    positions = {}
    for name, given in values.items():
        if name not in codes:
            continue
        numbered = codes[name][1].alias("value").to_frame().with_row_index("code")
        found = (
            given.alias("value")
            .to_frame()
            .join(numbered, on="value", how="left", maintain_order="left")
        )
        positions[name] = found.get_column("code")
    return positions


def _tf_by_value(
    name: str,
    table: pl.DataFrame,
    values: dict[str, pl.Series],
    value_codes: dict[str, pl.Series] | None = None,
) -> pl.DataFrame:
    """The tf table's ``tf`` and (where it has one) ``tf_apart`` of each of the pairs' distinct
    values of comparison ``name`` (``values[name]`` of :func:`encode_tf_values`, in its order;
    null for a value the table lacks): through the values' codes where the table has them
    (:func:`tf_value_codes`), else by joining on the text."""
    columns = ["tf"] + ([TF_APART] if TF_APART in table.columns else [])
    at = value_codes.get(name) if value_codes is not None else None
    if at is not None and "code" in table.columns:
        size = max(int(table["code"].max() or 0), int(at.max() or 0)) + 1  # type: ignore[arg-type]
        return pl.DataFrame(
            [
                pl.repeat(None, size, dtype=pl.Float64, eager=True)
                .scatter(table["code"], table[column])
                .gather(at)
                .alias(column)
                for column in columns
            ]
        )
    return (
        values[name]
        .alias("value")
        .to_frame()
        .join(table.select("value", *columns), on="value", how="left", maintain_order="left")
        .select(columns)
    )


def _tf_lookup(
    frame: pl.DataFrame,
    name: str,
    table: pl.DataFrame,
    values: dict[str, pl.Series] | None,
    value_codes: dict[str, pl.Series] | None = None,
) -> pl.DataFrame:
    """``_tf_<name>`` and ``_tfa_<name>``: the tf table's ``tf`` and ``tf_apart`` of each pair's
    ``tfv_<name>`` (null where it has none) — by position where the values are encoded
    (:func:`encode_tf_values`, :func:`_tf_by_value`), else by joining on the text."""
    tfv = f"tfv_{name}"
    aliases = {"tf": f"_tf_{name}", TF_APART: f"_tfa_{name}"}
    if values is None:
        renamed = table.drop("code", strict=False).rename({"value": tfv, **aliases}, strict=False)
        return frame.join(renamed, on=tfv, how="left", maintain_order="left")
    per_value = _tf_by_value(name, table, values, value_codes)
    codes = frame.get_column(tfv)
    return frame.with_columns(
        per_value.get_column(c).gather(codes).alias(aliases[c]) for c in per_value.columns
    )


def _tf_adjustment(
    frame: pl.DataFrame, name: str, table: pl.DataFrame, mean: float, *, apart: bool
) -> tuple[pl.DataFrame, pl.Expr]:
    """``frame`` with what the pair's agreeing value adds to its weight where the tf tables were
    joined to the pairs' text: ``log2(tf_mean / tf)`` (``tf_apart`` for a pair counted as one
    customer where ``apart``), 0 without a value."""
    frame = _tf_lookup(frame, name, table, None)
    tf = pl.col(f"_tf_{name}")
    if apart and f"_tfa_{name}" in frame.columns:
        tf = pl.when(pl.col(SAME_CUSTOMER)).then(pl.col(f"_tfa_{name}")).otherwise(tf)
    return frame, (pl.lit(mean) / tf).log(2).fill_null(0.0)


def _tf_adjustment_by_value(
    name: str, per_value: pl.DataFrame, mean: float, *, apart: bool
) -> pl.Expr:
    """:func:`_tf_adjustment` where the pairs' values are encoded: ``log2(tf_mean / tf)`` worked
    out once per distinct value (:func:`_tf_by_value`) and gathered to the pairs by the value's
    position. The same numbers, element by element, as working it out per pair: only the division
    and logarithm run over the distinct values instead of every candidate pair in every tf pass.
    An expression, so that the comparisons' weights are worked out side by side."""
    logs = per_value.select((pl.lit(mean) / pl.col(c)).log(2).alias(c) for c in per_value.columns)
    codes = pl.col(f"tfv_{name}")
    adjustment = pl.lit(logs.get_column("tf")).gather(codes)
    if apart and TF_APART in logs.columns:
        adjustment = (
            pl.when(pl.col(SAME_CUSTOMER))
            .then(pl.lit(logs.get_column(TF_APART)).gather(codes))
            .otherwise(adjustment)
        )
    return adjustment.fill_null(0.0)


def _full_name_correction(same_customer: bool) -> pl.Expr:
    """What the last name's weight loses where the whole name is commoner than its parts together:
    ``log2(tf(first) · tf(last) / tf(first last))``, the whole name's tf counting the customers
    besides the pair's own (never a gain).

    Fellegi–Sunter takes first and last name as independent evidence, so "Hanne" (0.5 % of
    persons) and "Larsen" (1.3 %) would meet in one of 15,000 random pairs. A family's or a
    region's names go together more often than that, and so do a common name's typos: 43 other
    customers named "Peter Nelsen" (a typo of Nielsen, rare on its own) make two more of them weak
    evidence, not 21 bits. Where the whole name is held by no one else, its parts are weighed as
    before."""

    def used(name: str) -> pl.Expr:
        tf, apart = pl.col(f"_tf_{name}"), pl.col(f"_tfa_{name}")
        return pl.when(pl.col(SAME_CUSTOMER)).then(apart).otherwise(tf) if same_customer else tf

    apart_parts = used("first_name") * used("last_name")
    others = used("full_name")
    return (
        pl.when(others > apart_parts)
        .then((apart_parts / others).log(2))
        .otherwise(0.0)
        .fill_null(0.0)
    )


def _full_name_correction_by_value(
    frame: pl.DataFrame, by_value: dict[str, pl.DataFrame], *, apart: bool
) -> pl.Series:
    """:func:`_full_name_correction` per pair where the values are encoded (``by_value``: the
    name parts' and the whole name's :func:`_tf_by_value`): worked out on the pairs that agree on
    the whole name, 0 for the others (as :func:`_full_name_correction` gives where the whole name
    has no tf)."""
    whole = FULL_NAME.name
    agree = frame.get_column(f"tfv_{whole}").is_not_null()
    rows = frame.filter(agree)
    looked_up = rows.select(
        per_value.get_column(column).gather(rows.get_column(f"tfv_{name}")).alias(alias)
        for name in ("first_name", "last_name", whole)
        for per_value in (by_value[name],)
        for column, alias in (("tf", f"_tf_{name}"), (TF_APART, f"_tfa_{name}"))
        if column in per_value.columns
    )
    if apart:
        looked_up = looked_up.with_columns(rows.get_column(SAME_CUSTOMER))
    corrected = looked_up.select(_full_name_correction(apart)).to_series()
    zeros = pl.repeat(0.0, frame.height, dtype=pl.Float64, eager=True)
    return zeros.scatter(agree.arg_true(), corrected)


def score_pairs(
    levels: pl.DataFrame,
    model: FellegiSunterModel,
    *,
    tf_values: dict[str, pl.Series] | None = None,
    value_codes: dict[str, pl.Series] | None = None,
) -> pl.DataFrame:
    """``levels`` plus ``w_<name>`` per comparison, ``match_weight`` and ``match_probability``.

    ``levels`` holds ``lvl_<name>`` and, for tf comparisons, ``tfv_<name>`` (the agreeing value;
    with ``tf_values``, its position among those values, see :func:`encode_tf_values`).
    Where it also holds ``_same_customer`` (the term frequencies count the pair's two records as
    one customer), the pair's shared value is weighed by ``tf_apart``: the question is whether
    two *different* customers would share it, so the pair's own merge must not make it rarer.
    Otherwise a borderline pair, once merged, would cross the threshold on the strength of its
    own merge, and a rerun that starts from the other side stays on the other side.
    """
    frame = levels
    apart = SAME_CUSTOMER in frame.columns
    weight_columns = []
    # With encoded values, each tf comparison's values looked up once per distinct value.
    by_value: dict[str, pl.DataFrame] = {}
    for c in model.comparisons:
        lvl = pl.col(f"lvl_{c.name}")
        weights = model.level_weights(c.name)
        base = pl.lit(0.0)
        for level, weight in enumerate(weights):
            base = pl.when(lvl == level).then(weight).otherwise(base)
        tfv = f"tfv_{c.name}"
        if c.name in model.tf_tables and tfv in frame.columns:
            table, mean = model.tf_tables[c.name], model.tf_mean[c.name]
            if tf_values is None:
                frame, adjustment = _tf_adjustment(frame, c.name, table, mean, apart=apart)
            else:
                by_value[c.name] = _tf_by_value(c.name, table, tf_values, value_codes)
                adjustment = _tf_adjustment_by_value(c.name, by_value[c.name], mean, apart=apart)
            base = base + pl.when(lvl.is_in(list(c.tf_levels))).then(adjustment).otherwise(0.0)
        weight_columns.append(base.alias(f"w_{c.name}"))
    frame = frame.with_columns(weight_columns)
    whole = FULL_NAME.name
    if tf_values is None:
        parts_looked_up = {"_tf_first_name", "_tf_last_name"} <= set(frame.columns)
    else:
        parts_looked_up = {"first_name", "last_name"} <= by_value.keys()
    if whole in model.tf_tables and f"tfv_{whole}" in frame.columns and parts_looked_up:
        if tf_values is None:
            frame = _tf_lookup(frame, whole, model.tf_tables[whole], None)
            correction: pl.Expr | pl.Series = _full_name_correction(apart)
        else:
            by_value[whole] = _tf_by_value(whole, model.tf_tables[whole], tf_values, value_codes)
            correction = _full_name_correction_by_value(frame, by_value, apart=apart)
        frame = frame.with_columns(pl.col("w_last_name") + correction)
    prior = model.prior_odds_bits()
    # Rounded to a billionth of a bit: the model's parameters come out of sums whose order the
    # threads decide, a last-bit difference between two runs. Unrounded, two pairs whose weights
    # are the same in theory (one person written 90 times) sorted either way round, the clusters
    # were joined in another order, and a rerun, or the Dask engine, split her otherwise.
    total = pl.sum_horizontal(
        pl.lit(prior), *(pl.col(f"w_{c.name}") for c in model.comparisons)
    ).round(WEIGHT_DECIMALS)
    return (
        frame.drop(
            c
            for c in frame.columns
            if any(
                c in (f"_tf_{k.name}", f"_tfa_{k.name}") for k in (*model.comparisons, FULL_NAME)
            )
        )
        .with_columns(total.alias("match_weight"))
        .with_columns((1.0 / (1.0 + (2.0 ** (-pl.col("match_weight"))))).alias("match_probability"))
    )


@dataclass(frozen=True)
class ScoringPatterns:
    """The distinct rows of compared pairs' levels and tf value codes (``lvl_<name>``,
    ``tfv_<name>`` as :func:`encode_tf_values` coded them), and each pair's row among them
    (``of_pair``, UInt32): what :func:`score_by_pattern` scores instead of every pair."""

    patterns: pl.DataFrame
    of_pair: pl.Series


def scoring_patterns(levels: pl.DataFrame) -> ScoringPatterns:
    """:class:`ScoringPatterns` of ``levels`` (``lvl_*`` and encoded ``tfv_*`` columns only).

    A pair's weight depends on its levels, the codes of its agreeing values and whether the pass
    counts its records as one customer, nothing else. Candidate pairs repeat those: two namesakes
    in one postal code agree on a first name and differ in all else, as thousands of others do
    (200,000 generated Danish rows: 692,531 pairs, 80,429 patterns)."""
    grouped = levels.with_row_index("_at").group_by(levels.columns, maintain_order=True).agg("_at")
    positions = grouped.get_column("_at")
    rows = positions.explode()
    numbers = pl.int_range(grouped.height, dtype=pl.UInt32, eager=True)
    pattern = numbers.repeat_by(positions.list.len()).explode()
    of_pair = pl.repeat(0, levels.height, dtype=pl.UInt32, eager=True).scatter(rows, pattern)
    return ScoringPatterns(grouped.drop("_at"), of_pair.alias("_pattern"))


def pattern_scores(
    patterns: ScoringPatterns,
    model: FellegiSunterModel,
    *,
    apart: bool,
    tf_values: dict[str, pl.Series] | None = None,
    value_codes: dict[str, pl.Series] | None = None,
) -> pl.DataFrame:
    """:func:`score_pairs`' ``w_<name>``, ``match_weight`` and ``match_probability`` of each
    pattern (:func:`scoring_patterns`); with ``apart`` twice, the patterns of pairs counted as
    two customers first, then as one (see :func:`pattern_rows`)."""
    table = patterns.patterns
    if apart:
        table = pl.concat(
            [table.with_columns(pl.lit(flag).alias(SAME_CUSTOMER)) for flag in (False, True)]
        )
    return score_pairs(table, model, tf_values=tf_values, value_codes=value_codes).drop(
        table.columns
    )


def pattern_rows(patterns: ScoringPatterns, same_customer: pl.Series | None = None) -> pl.Series:
    """Each pair's row in :func:`pattern_scores` (``apart`` where ``same_customer`` is given):
    its pattern's, among those counted as one customer where ``same_customer`` says so (null
    weighs as two customers, as in :func:`score_pairs`)."""
    if same_customer is None:
        return patterns.of_pair
    same = same_customer.fill_null(False).cast(pl.UInt32)
    return patterns.of_pair + same * patterns.patterns.height


def score_by_pattern(
    levels: pl.DataFrame,
    patterns: ScoringPatterns,
    model: FellegiSunterModel,
    *,
    same_customer: pl.Series | None = None,
    tf_values: dict[str, pl.Series] | None = None,
    value_codes: dict[str, pl.Series] | None = None,
) -> pl.DataFrame:
    """:func:`score_pairs` of ``levels`` (with ``same_customer`` as its ``_same_customer``
    column), scored once per pattern (:func:`pattern_scores`) and each pair's weights gathered
    from its pattern's (:func:`pattern_rows`): the same frame, number for number, as scoring
    every pair, for the work of the patterns and one gather per column."""
    scores = pattern_scores(
        patterns,
        model,
        apart=same_customer is not None,
        tf_values=tf_values,
        value_codes=value_codes,
    )
    if same_customer is not None:
        levels = levels.with_columns(same_customer.alias(SAME_CUSTOMER))
    return levels.hstack(scores[pattern_rows(patterns, same_customer)])
