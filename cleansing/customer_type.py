"""Customer type: ``company``, ``public`` or ``person``, from what the record says about itself.

In: ``raw_customer_type`` (a source system's own type column: ``privat``, ``erhverv``,
``offentlig``, ``B2B`` …), ``cvr``, ``vat_number``, ``ean``, ``legal_form`` and ``name``
(missing columns count as null). Out: ``customer_type``. A record with only first and last
names falls to rule 6.

The evidence is weighed in this order, first that applies wins:

1. the source says public (``offentlig``, ``B2G``) → ``public``;
2. no company legal form, and either the name is a public body's (``Aarhus Kommune``,
   ``Region Midtjylland``, ``Skattestyrelsen``, ``Vestre Skole``, ``Rigshospitalet``; an
   institution's word only without a private business's word: :func:`public_key`) or the EAN
   starts with 5798, the range Danish public-sector EAN location numbers are issued from
   (``Rosenhallen`` with EAN 5798…) → ``public``;
3. a valid CVR number, a foreign VAT number or a legal form (``ApS``, ``v/``, ``ASA`` …) →
   ``company``;
4. the source says company or person → that;
5. an EAN (outside 5798: a business's GLN), a business word in the name (``Hansen Byg``,
   ``Nordic Consult``, ``Malerfirma``, ``Pinot Bistro``), an institution's word a private word
   outweighs (``Hundeskolen Vovse``) or an English word no person's name holds (``of``,
   ``the``, ``at``, ``on``, ``for``: ``Arnie Morton's of Chicago``, ``The Palm``, ``Chinois on
   Main``) → ``company``;
6. otherwise → ``person``.

The registry step may later overwrite ``customer_type`` from the registry's form code
(230/245/250 are public).
"""

from __future__ import annotations

from functools import cache

import polars as pl

from datavask.cleansing.names import (
    association_key,
    business_key,
    institution_word,
    only_where,
    text_key,
    word_list_pattern,
)
from datavask.cleansing.reference import load_reference

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
    return public_key(text_key(expr))


def public_key(key: pl.Expr) -> pl.Expr:
    """True for a name key (folded, lower case) that says public sector; null → False.

    An authority's word says so by itself (``aarhus kommune``, ``arbejdstilsynet``, ``retten i
    aarhus``). An institution's word (``skole``, ``hospital``, ``raadhus``, ``statens``) is
    borrowed by shops and trades, and by a street a shop is named after, so it says so only
    without a private business's word beside it: ``vestre skole`` is public, ``skolegades
    pizza``, ``raadhusapoteket`` and ``hundeskolen vovse`` are not. A private word never outweighs
    an authority's: ``kommunernes landsforening`` is public.
    """
    table = "public_sector_patterns"
    return (
        key.str.contains(word_list_pattern(table, "strong"))
        | (institution_word(key) & ~key.str.contains(word_list_pattern(table, "private")))
    ).fill_null(False)


def business_name(expr: pl.Expr) -> pl.Expr:
    """True for a name with a trade or business word: ``Hansen Byg``, ``Nordic Consult``.

    ``Jens Smed`` is a person: a trade word that is also a surname, after one or two given
    names, is not a business word (``Jensens Smed`` and ``Iversen Smede`` are firms).
    The trade surnames are the ``surname`` column of ``data/reference/business_words.csv``.
    """
    return business_key(association_key(expr, text_key(expr)))


# English words that join the words of a business's name and never a person's: "Arnie Morton's
# of Chicago", "The Palm", "Fenix at the Argyle", "Chinois on Main", "Friends for Life". ("and"
# and "og" join a couple's names too: "Jens og Mette Hansen".)
_NAME_JOINERS = r"(?:^|\s)(?:of|the|at|on|for)(?:\s|$)"

# Two single names joined by "&" — "Nielsen & Lauridsen", "Holm & Bach" — are a firm's name (an
# I/S or a partnership written without its form); "Jens & Anne Hansen" is not two single words.
_PARTNERSHIP = r"^\p{Lu}[\p{L}'-]+\s*&\s*\p{Lu}[\p{L}'-]+$"


def classify_customer_type(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``customer_type`` (company, public or person) by the rules of the module docstring.

    ``Aarhus Kommune`` → public; ``Hansen Byg`` → company; ``Jens Hansen`` with type ``privat``
    → person; ``Nordlys`` with a CVR number → company; ``Nordlys`` alone → person.
    """
    column_names = ("raw_customer_type", "cvr", "vat_number", "ean", "legal_form", "name")
    columns = {
        name: pl.col(name).cast(pl.String) if name in df.columns else pl.lit(None, pl.String)
        for name in column_names
    }
    # normalise_names has folded the name already; its key is what the word lists match.
    key = pl.col("name_key") if "name_key" in df.columns else text_key(columns["name"])
    has_form = columns["legal_form"].is_not_null()
    # The word lists' patterns read a name only where the rules before them leave the type open:
    # a public body's words where no legal form says company (rule 2), a business's where no
    # CVR number, VAT number or legal form does (rule 5). The other rows' keys are empty for
    # them: at 1M records the patterns cost 2.3 CPU-s run on every name.
    public_key_read = only_where(~has_form, key)
    company_unsaid = ~(
        columns["cvr"].is_not_null() | columns["vat_number"].is_not_null() | has_form
    )
    business_key_read = only_where(company_unsaid, key)
    frame = df.lazy().with_columns(
        _declared=declared_type(columns["raw_customer_type"]),
        _public_name=public_key(public_key_read),
        # an institution's word a private word outweighs is still an organisation's word
        # (``Hundeskolen Vovse``, ``Privathospitalet Kollund``)
        _business=business_key(business_key_read)
        | business_key_read.str.contains(_NAME_JOINERS)
        | business_key_read.str.contains(word_list_pattern("public_sector_patterns", "strong"))
        | institution_word(business_key_read),
        _ean=columns["ean"].str.strip_chars().replace("", None),
    )
    declared = pl.col("_declared")
    public_ean = pl.col("_ean").str.starts_with(PUBLIC_EAN_PREFIX).fill_null(False)
    public_name = pl.col("_public_name")
    estate = (
        pl.col("flag_DECEASED_ESTATE").fill_null(False)
        if "flag_DECEASED_ESTATE" in df.columns
        else pl.lit(False)
    )
    customer_type = (
        pl.when(declared == "public")
        .then(pl.lit("public"))
        .when(~has_form & (public_name | public_ean))
        .then(pl.lit("public"))
        # a foreign customer's VAT number (``NO923609016MVA``) is a business's as a CVR number is
        .when(columns["cvr"].is_not_null() | columns["vat_number"].is_not_null() | has_form)
        .then(pl.lit("company"))
        .when(declared.is_not_null())
        .then(declared)
        # a deceased person's estate, also one named by its executor alone (``Dødsboet v/advokat
        # Peter Holm``: a lawyer's business word), owes no CVR number
        .when(estate)
        .then(pl.lit("person"))
        .when(pl.col("_ean").is_not_null() | pl.col("_business").fill_null(False))
        .then(pl.lit("company"))
        .when(columns["name"].str.contains(_PARTNERSHIP).fill_null(False))
        .then(pl.lit("company"))
        .otherwise(pl.lit("person"))
    )
    # Only the new column is collected: collected whole, the frame came back in chunks of
    # 100,000 rows, every column of it copied.
    return df.with_columns(frame.select(customer_type=customer_type).collect().get_columns())
