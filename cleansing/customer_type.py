"""Customer type: ``company``, ``public`` or ``person``, from what the record says about itself.

In: ``raw_customer_type`` (a source system's own type column: ``privat``, ``erhverv``,
``offentlig``, ``B2B`` …), ``cvr``, ``ean``, ``legal_form`` and ``name`` (missing columns count
as null). Out: ``customer_type``. A record with only first and last names falls to rule 7.

The evidence is weighed in this order, first that applies wins:

1. the source says public (``offentlig``, ``B2G``) → ``public``;
2. the name is a public body's (``Aarhus Kommune``, ``Region Midtjylland``, ``Skattestyrelsen``,
   ``Vestre Skole``, ``Rigshospitalet``) and carries no company legal form, or an EAN starting
   5798 (the Danish public-sector EAN range) comes with a weaker public word (``… Institution``,
   ``… Center``) → ``public``;
3. a valid CVR number or a legal form (``ApS``, ``v/`` …) → ``company``;
4. the source says company or person → that;
5. an EAN starting 5798 → ``public``; any other EAN → ``company`` (people are not e-invoiced);
6. a business word in the name (``Hansen Byg``, ``Nordic Consult``, ``Malerfirma``) → ``company``;
7. otherwise → ``person``.

The registry step may later overwrite ``customer_type`` from the registry's form code
(230/245/250 are public).
"""

from __future__ import annotations

from functools import cache

import polars as pl

from cleansing.names import fold, text_key, word_list_pattern
from cleansing.reference import load_reference

PUBLIC_EAN_PREFIX = "5798"


@cache
def _declared_types() -> dict[str, str]:
    table = load_reference("customer_type_values").with_columns(key=text_key(pl.col("value")))
    return dict(zip(table["key"], table["customer_type"], strict=True))


def declared_type(expr: pl.Expr) -> pl.Expr:
    """The customer type a source system's own type value means, or null when it says nothing.

    ``Privat`` → ``person``; ``B2B`` → ``company``; ``Offentlig myndighed`` → ``public``.
    """
    return text_key(expr).replace_strict(_declared_types(), default=None, return_dtype=pl.String)


def public_name(expr: pl.Expr) -> pl.Expr:
    """True for a name that by itself says public sector: ``Aarhus Kommune``, ``Vestre Skole``.

    ``Køreskolen Jensen`` and ``Dyrehospitalet`` are private despite the word; null → False.
    """
    folded = fold(expr)
    return (
        folded.str.contains(word_list_pattern("public_sector_patterns", "strong"))
        & ~folded.str.contains(word_list_pattern("public_sector_patterns", "exclude"))
    ).fill_null(False)


def business_name(expr: pl.Expr) -> pl.Expr:
    """True for a name with a trade or business word: ``Hansen Byg``, ``Nordic Consult``."""
    return fold(expr).str.contains(word_list_pattern("business_words")).fill_null(False)


def classify_customer_type(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``customer_type`` (company, public or person) by the rules of the module docstring.

    ``Aarhus Kommune`` → public; ``Hansen Byg`` → company; ``Jens Hansen`` with type ``privat``
    → person; ``Nordlys`` with a CVR number → company; ``Nordlys`` alone → person.
    """
    column_names = ("raw_customer_type", "cvr", "ean", "legal_form", "name")
    columns = {
        name: pl.col(name).cast(pl.String) if name in df.columns else pl.lit(None, pl.String)
        for name in column_names
    }
    declared = declared_type(columns["raw_customer_type"])
    name = columns["name"]
    ean = columns["ean"].str.strip_chars()
    has_ean = ean.str.len_bytes() > 0
    public_ean = ean.str.starts_with(PUBLIC_EAN_PREFIX)
    folded = fold(name)
    has_form = columns["legal_form"].is_not_null()
    weak_public = folded.str.contains(
        word_list_pattern("public_sector_patterns", "weak")
    ) & ~folded.str.contains(word_list_pattern("public_sector_patterns", "exclude"))
    customer_type = (
        pl.when(declared == "public")
        .then(pl.lit("public"))
        .when(~has_form & (public_name(name) | (public_ean & weak_public).fill_null(False)))
        .then(pl.lit("public"))
        .when(columns["cvr"].is_not_null() | has_form)
        .then(pl.lit("company"))
        .when(declared.is_not_null())
        .then(declared)
        .when(public_ean.fill_null(False))
        .then(pl.lit("public"))
        .when(has_ean.fill_null(False) | business_name(name))
        .then(pl.lit("company"))
        .otherwise(pl.lit("person"))
    )
    return df.with_columns(customer_type=customer_type)
