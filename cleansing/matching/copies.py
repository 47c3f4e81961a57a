"""Copies of one record: the same customer, whatever the scores say.

Two records are copies when every column the matcher reads is equal (their ids, input rows and
``updated_at`` may differ, see :func:`~datavask.cleansing.matching.blocking.identical_key`).
Fellegi–Sunter cannot see that on its own: in a file of nothing but copies every random pair
agrees on every field, so agreement weighs nothing (u = m) and three copies of "Hansen Byg ApS,
Vestergade 12, 8000 Aarhus C" would stay three customers. Issue 9 asks that identical records
merge however many there are.

A copy must say at least :data:`MIN_FACTS` things about the customer (a name and an address, a
phone and an e-mail address …): two rows holding only the name "Kontant" are no evidence of one
customer.

Example: ``1;Hansen Byg ApS;Vestergade 12;8000`` and ``2;Hansen Byg ApS;Vestergade 12;8000`` are
copies (name and address); ``1;Jens Hansen`` and ``2;Jens Hansen`` are not (a name alone).
"""

from __future__ import annotations

from typing import Final

import polars as pl

from datavask.cleansing.matching.blocking import _NOT_COMPARED, IDENTICAL

MIN_FACTS: Final = 2
COPIES: Final = "_copies"


def _facts() -> pl.Expr:
    """How many independent things a prepared record says about its customer."""

    def present(column: str) -> pl.Expr:
        return pl.col(column).is_not_null().cast(pl.Int32)

    def listed(column: str) -> pl.Expr:
        return (pl.col(column).list.len().fill_null(0) > 0).cast(pl.Int32)

    name = (
        pl.col("name_key").is_not_null()
        | pl.col("first_name_key").is_not_null()
        | pl.col("last_name_key").is_not_null()
    ).cast(pl.Int32)
    return pl.sum_horizontal(
        name,
        present("_address"),
        listed("_phones"),
        listed("_emails"),
        present("cvr"),
        present("ean"),
        present("date_of_birth"),
        present("_person_key"),
        present("national_id"),
    )


def copy_pairs(records: pl.DataFrame, left: pl.Series, right: pl.Series) -> pl.Series:
    """Per pair of record positions: the two prepared records are copies that say enough.

    ``records`` is the matcher's prepared frame (:func:`~.prepare.prepare_records`). Equal keys
    are confirmed on the values themselves, so a hash collision never merges two customers.
    """
    keyed = records.select(
        pl.col(IDENTICAL).alias("_key"),
        (_facts() >= MIN_FACTS).alias("_enough"),
    )
    key = keyed["_key"]
    candidate = (key.gather(left) == key.gather(right)) & keyed["_enough"].gather(left)
    if not candidate.any():
        return candidate.alias(COPIES)
    # Confirm on the compared columns themselves (only the pairs whose keys agree).
    positions = pl.int_range(candidate.len(), eager=True).filter(candidate)
    compared = records.select(pl.exclude(*_NOT_COMPARED).exclude("^_.*$"))
    lhs = compared.select(pl.all().gather(left.gather(positions)))
    rhs = compared.select(pl.all().gather(right.gather(positions)))
    equal = pl.DataFrame([lhs[c].eq_missing(rhs[c]).alias(c) for c in compared.columns]).select(
        pl.all_horizontal(pl.all())
    )
    confirmed = candidate.scatter(positions, equal.to_series())
    return confirmed.alias(COPIES)


def copies_match(decision: pl.Expr) -> pl.Expr:
    """``decision`` with every pair of copies a ``match`` unless a hard rule vetoed it."""
    return (
        pl.when(pl.col(COPIES) & pl.col("hard_rule").is_null())
        .then(pl.lit("match"))
        .otherwise(decision)
    )
