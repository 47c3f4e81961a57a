"""Survivorship: one golden record per customer (cluster), and where each of its values came from.

In: the record frame after matching (``record_id``, ``cluster_id``, the cleaned
fields of :data:`GOLDEN_FIELDS`, ``updated_at`` as raw text, and the ``registry_*`` columns of
:mod:`datavask.cleansing.registry`). Out of :func:`build_golden`: one row per cluster with

- ``cluster_id``, ``record_id`` (the survivor), ``cluster_size``, ``member_ids`` (list, best first);
- for each field ``<field>``, ``<field>_source`` (the record_id it came from) and ``<field>_rule``.

The survivor is the most complete record (most non-null golden fields), then the most recently
updated (``updated_at``, where it parses), then the one already holding most of the golden values
(the CRM keeps the record that is already right, and the update changes it least), then the
lowest ``record_id`` read naturally (:func:`natural_id_order`: ``10204`` before ``60204`` and
``K9`` before ``K10``), never the input row: the same customers exported in another order keep the
same survivor, and a value chosen by rank the same source. Completeness and agreement are
judged on each record as the CRM holds it after the re-import (its trusted registry proposals
applied): a merged record comes back exactly so, the survivor with the golden values, which it
then holds all of; ``updated_at`` and ``record_id`` are never rewritten. So cleansing
``reimport/customers_update.csv`` again keeps the same survivors (issue 9.10).

Each field's value is chosen among the values the cluster's records hold:

- ``registry``: for companies and public customers the registry wins — the name it proposes
  (the current legal name of a renamed company, the legal spelling of a typo), or a member's own
  name the registry accepts — equal to the registry's but for case and spacing, or a secondary
  name (a binavn) — taken from the best-ranked member, so a survivor holding a binavn keeps it;
  a member without a name has the registry's current name.
  (A record with ``NAME_MISMATCH`` and no proposed name gets nothing: then we cannot tell whether
  the name or the CVR number is wrong.) And the registry's current address: a proposed one, else
  a member's complete address the registry confirmed;
- contact fields (phone, e-mail) and the address prefer ``most_recent`` (customers move and change
  numbers), then ``most_frequent``; identity fields (name, legal form, CVR, EAN, type, country)
  prefer ``most_frequent``, then ``most_recent``;
- ``estate``: a deceased customer's name is its estate's (``Dødsboet efter Jens Hansen``, from
  the best-ranked record that names the estate), to which invoices and claims now go;
- ``most_complete``: otherwise the value of the best-ranked record that has one (also the rule
  when a single record holds the only value; when several records hold the same only value, it
  is ``most_frequent``).

The rule named is the one that decided: two records holding ``+4512345678`` against one holding
``+4587654321`` gives ``most_frequent``; the same with the single one updated later gives
``most_recent`` for the phone. The address (street, number, floor, door, postal code, city) survives
as one block from one record, never stitched together from several; a block that only lacks parts
another holds alike (no postal code, no floor) counts for the more complete one.

What the CRM gets back (:func:`apply_golden`, used by the re-import and by ``changes.csv``):

- every company or public record whose CVR the registry trusts gets the registry's proposals
  (:func:`apply_registry_proposals`): the current legal name of a renamed company (or the legal
  spelling of a typo) and the current address of a company that moved. A record with
  ``NAME_MISMATCH`` and no proposed name may carry another company's CVR: it gets nothing from
  the registry — that needs a person, not a rule;
- the survivor carries its cluster's golden record;
- every other record keeps its own cleaned values. The CRM bars or merges those records
  (``merge_plan.csv``), and giving them the survivor's values would only make duplicates look
  more alike than they were — the next run would then judge the copies, not the data.

So a second run over the re-imported file finds nothing left to propose: each proposal has been
applied where it was made, and the registry then agrees with the record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import cache

import polars as pl

from datavask.cleansing.addresses import danish_place_keys, per_distinct, street_key
from datavask.cleansing.name_lists import names_where
from datavask.cleansing.names import (
    fold,
    key_without_legal_form,
    legal_form_of,
    names_an_estate,
    normalise_names,
    only_where,
    text_key,
)
from datavask.cleansing.schema import stage_text

GOLDEN_FIELDS = (
    "name",
    "legal_form",
    "street",
    "house_number",
    "floor",
    "door",
    "postal_code",
    "city",
    "country",
    "phone_e164",
    "email",
    "cvr",
    "vat_number",
    "ean",
    "customer_type",
)
ADDRESS_FIELDS = ("street", "house_number", "floor", "door", "postal_code", "city")
RECENCY_FIRST = ("phone_e164", "email", "_address")
REGISTRY_TYPES = ("company", "public")
# ``apply_registry_proposals`` lists, per record, the cleaned fields the registry's value replaced.
REGISTRY_APPLIED = "registry_applied"
# ``apply_golden`` says, per record, whether the address it writes is another's than its own (the
# golden record's from another record of its cluster, or the registry's): a line kept as typed
# would then name the old one.
ADDRESS_TAKEN = "address_taken"
# ``apply_golden`` lists, per survivor, the cleaned fields whose written value is another
# record's (the golden record's), not the survivor's own nor the registry's: ``changes.csv`` then
# says ``golden_value``, not a formatting rule (a CVR number a duplicate gave is no compacting).
GOLDEN_APPLIED = "golden_applied"
# The columns golden records are made of (besides ``registry_*``).
_READ = frozenset(
    (
        "record_id",
        "cluster_id",
        "updated_at",
        "flag_NAME_MISMATCH",
        "flag_ADDRESS_MISMATCH",
        *GOLDEN_FIELDS,
    )
)

_ADDRESS = "_address"
_SEP = "\x1f"
# An undated record counts as older than any dated one.
_NEVER = datetime(1, 1, 1)
# ISO date-times lose their fraction and zone: only the order of updates matters here.
_ISO_FRACTION_AND_ZONE = (
    r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?$"
)
_DATE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d/%m/%Y",
)


def parse_updated_at(column: str = "updated_at") -> pl.Expr:
    """``updated_at`` text as a datetime: ISO 8601 (fraction and zone dropped) or Danish day-first.

    Text that is not a date becomes null, never an error.
    """
    text = (
        pl.col(column).cast(pl.String).str.strip_chars().str.replace(_ISO_FRACTION_AND_ZONE, "$1")
    )
    return pl.coalesce(
        [
            text.str.to_datetime(fmt, strict=False, exact=True, time_unit="us")
            for fmt in _DATE_FORMATS
        ]
    )


def rank_records(records: pl.DataFrame) -> pl.DataFrame:
    """``records`` with ``_cluster``, ``_updated`` and ``_rank`` (0 = the cluster's survivor)."""

    # The address counts once, as the block it survives as (street and postal code present):
    # a record with an old address that still has a floor and door must not outrank one that
    # carries the registry's current address without them.
    def filled(field: str) -> pl.Expr:
        return pl.col(field).cast(pl.String).str.strip_chars().fill_null("") != ""

    present = [f for f in GOLDEN_FIELDS if f in records.columns and f not in ADDRESS_FIELDS]
    parts = [filled(f) for f in present]
    address = [f for f in ("street", "postal_code") if f in records.columns]
    if address:
        parts.append(pl.all_horizontal(filled(f) for f in address))
    # Counted on the records as the CRM will hold them after the re-import (registry proposals
    # applied): the next run then ranks them on the same values and keeps the same survivor.
    counted = _registry_view(records).select(
        pl.sum_horizontal([part.cast(pl.Int32) for part in parts])
    )
    completeness = pl.lit(counted.to_series())
    cluster = (
        pl.col("cluster_id") if "cluster_id" in records.columns else pl.lit(None, dtype=pl.String)
    )
    updated = (
        parse_updated_at()
        if "updated_at" in records.columns
        else pl.lit(None, dtype=pl.Datetime("us"))
    )
    return (
        records.with_columns(
            cluster.cast(pl.String)
            .fill_null(pl.col("record_id").cast(pl.String))
            .alias("_cluster"),
            updated.alias("_updated"),
            completeness.alias("_completeness"),
            *natural_id_order(pl.col("record_id").cast(pl.String)),
        )
        .sort(
            ["_cluster", "_completeness", "_updated", *_ID_ORDER],
            descending=[False, True, True, *[False] * len(_ID_ORDER)],
            nulls_last=True,
        )
        .with_columns(pl.int_range(pl.len()).over("_cluster").alias("_rank"))
    )


# The columns :func:`natural_id_order` makes, in the order they are sorted on.
_ID_ORDER = ("_id_prefix", "_id_digits", "_id_number", "_id_text")


def natural_id_order(record_id: pl.Expr) -> list[pl.Expr]:
    """Sort keys that order record ids naturally: the text before the first number, that number
    by its value, then the whole id as text.

    The last tie-break of the survivor: ``10204`` before ``60204`` and ``9`` before ``10`` (a
    number, not text: ``"10" < "9"``), ``K9`` before ``K10``, numeric ids before ``ABC``. Read from
    the data, never from the row, so the same customers exported in another order keep the same
    survivor. The number's value is its digits without leading zeros, ordered by their count and
    then as text: ids longer than any integer type (a 25-digit GUID-like number) order right too.

    >>> ids = pl.DataFrame({"id": ["60204", "K10", "10204", "K9", "ABC", "9", "010"]})
    >>> ids.sort(natural_id_order(pl.col("id")))["id"].to_list()
    ['9', '010', '10204', '60204', 'ABC', 'K9', 'K10']
    """
    number = record_id.str.extract(r"^\D*(\d+)", 1).str.strip_chars_start("0")
    return [
        record_id.str.extract(r"^(\D*)", 1).alias("_id_prefix"),
        number.str.len_bytes().alias("_id_digits"),
        number.alias("_id_number"),
        record_id.alias("_id_text"),
    ]


def build_golden(records: pl.DataFrame) -> pl.DataFrame:
    """One row per cluster: the survivor, each golden field's value, its source record and rule.

    Most clusters are one record. Its golden row is that record's own trimmed values (rule
    ``most_complete``), but for the registry's name and address where the registry is trusted:
    computed here column-wise, it is the row the ranking and choosing of
    :func:`_build_golden_general` gives a one-record cluster, which then only runs on the rest.
    """
    # Only what ranking and choosing read travels through the split.
    records = records.select(c for c in records.columns if c in _READ or c.startswith("registry_"))
    records = _with_registry_display(records)
    cluster = (
        pl.col("cluster_id") if "cluster_id" in records.columns else pl.lit(None, dtype=pl.String)
    )
    keyed = records.with_columns(
        cluster.cast(pl.String).fill_null(pl.col("record_id").cast(pl.String)).alias("_cluster")
    )
    # A value holding the separator would split differently once packed into an address block.
    packed = [f"{prefix}{f}" for prefix in ("", "registry_proposed_") for f in ADDRESS_FIELDS]
    separated = pl.any_horizontal(
        [
            pl.col(c).cast(pl.String).str.contains(_SEP, literal=True)
            for c in packed
            if c in keyed.columns
        ]
        or [pl.lit(False)]
    ).fill_null(False)
    alone = keyed.select(((pl.len().over("_cluster") == 1) & ~separated).alias("_alone"))
    alone_mask = alone.get_column("_alone")
    singles = keyed.filter(alone_mask)
    rest = records.filter(~alone_mask)
    parts = []
    if singles.height:
        parts.append(_golden_of_singletons(singles))
    if rest.height or not parts:
        parts.append(_golden_of_clusters(rest))
    if len(parts) == 1:
        return parts[0]
    # Both parts in cluster order, merged: sorting their concatenation gathered every column
    # into a third frame beside the two (0.82 -> 0.72 GB high-water at 200,000 records).
    # Each cluster is in one part only, so there are no ties to order.
    singles_golden, rest_golden = (
        part if part.get_column("cluster_id").is_sorted() else part.sort("cluster_id")
        for part in parts
    )
    return singles_golden.merge_sorted(rest_golden, "cluster_id")


# The registry's name in display casing, where the golden name reads it (:func:`_registry_display`).
_DISPLAY = "_registry_display"


def _with_registry_display(records: pl.DataFrame) -> pl.DataFrame:
    """``records`` with :func:`_registry_display`: made once, read by one-record and larger
    clusters alike."""
    return records.with_columns(_registry_display(records))


def _registry_display(frame: pl.DataFrame) -> pl.Series:
    """The registry's name as the name module cleans a typed name, where the golden name reads it:
    the :data:`_DISPLAY` column, made here where ``frame`` lacks it.

    ERST writes most names in capitals; the display casing is what the next run reads back. It is
    read for a trusted record without a name, which takes it, and for one with a proposed name,
    which keeps its own where that is the display but for case. A trusted record with a name and
    no proposal keeps its name either way (the registry's but for case, or one the registry
    accepts: a binavn), so its registry name is not cleaned: 40,000 of 680,000 trusted records
    at 1M rows are.
    """
    if _DISPLAY in frame.columns:
        return frame.get_column(_DISPLAY)
    read = _registry_trusted(frame) & (
        _text(frame, "name").is_null() | _text(frame, "registry_proposed_name").is_not_null()
    )
    raw = frame.select(raw_name=pl.when(read).then(_text(frame, "registry_name")))
    return normalise_names(raw).get_column("name").alias(_DISPLAY)


def _golden_of_singletons(singles: pl.DataFrame) -> pl.DataFrame:
    """The golden rows of one-record clusters (``singles`` carries ``_cluster``)."""
    for field in GOLDEN_FIELDS:
        if field not in singles.columns:
            singles = singles.with_columns(pl.lit(None, dtype=pl.String).alias(field))
    address_mismatch = (
        pl.col("flag_ADDRESS_MISMATCH").cast(pl.Boolean).fill_null(False)
        if "flag_ADDRESS_MISMATCH" in singles.columns
        else pl.lit(False)
    )
    # Each input once, as a column: the choices below read them several times.
    facts = singles.select(
        pl.col("_cluster"),
        pl.col("record_id").cast(pl.String),
        *[_text(singles, f).alias(f"_own_{f}") for f in GOLDEN_FIELDS],
        *[_text(singles, f"registry_proposed_{f}").alias(f"_proposed_{f}") for f in ADDRESS_FIELDS],
        _text(singles, "registry_proposed_name").alias("_proposed_name"),
        _text(singles, "registry_name").alias("_registry_name"),
        _registry_trusted(singles).alias("_trusted"),
        _has_address_proposal(singles).alias("_has_proposal"),
        address_mismatch.alias("_address_mismatch"),
    )
    facts = facts.with_columns(_registry_display(singles))

    def folded(value: pl.Expr) -> pl.Expr:
        return value.str.to_lowercase().str.replace_all(r"\s+", " ")

    trusted = pl.col("_trusted")
    name = pl.col("_own_name")
    same_name = folded(name) == folded(pl.col("_registry_display"))
    registry_name = (
        pl.when(same_name.fill_null(False))
        .then(name)
        .when(name.is_null())
        .then(pl.col("_registry_display"))
        # as _registry_choices: a name the registry found and accepts is its choice too
        .otherwise(
            pl.coalesce(
                pl.col("_proposed_name"), pl.when(pl.col("_registry_name").is_not_null()).then(name)
            )
        )
    )
    confirmed_address = (
        ~pl.col("_has_proposal")
        & pl.col("_registry_name").is_not_null()
        & pl.col("_own_street").is_not_null()
        & pl.col("_own_postal_code").is_not_null()
        & ~pl.col("_address_mismatch")
    )
    facts = facts.with_columns(
        pl.when(trusted).then(registry_name).alias("_registry_choice"),
        (trusted & pl.col("_has_proposal")).alias("_proposed_address"),
        (trusted & confirmed_address).alias("_confirmed_address"),
        pl.any_horizontal(pl.col(f"_own_{f}").is_not_null() for f in ADDRESS_FIELDS).alias(
            "_own_address"
        ),
    )
    by_registry = pl.col("_registry_choice").is_not_null()
    address_rule = (
        pl.when(pl.col("_proposed_address") | pl.col("_confirmed_address"))
        .then(pl.lit("registry"))
        .when(pl.col("_own_address"))
        .then(pl.lit("most_complete"))
    )
    facts = facts.with_columns(
        address_rule.alias("_address_rule"),
        pl.when(by_registry)
        .then(pl.lit("registry"))
        .when(name.is_not_null())
        .then(pl.lit("most_complete"))
        .alias("_name_rule"),
    )
    record_id = pl.col("record_id")
    columns: list[pl.Expr] = [
        pl.col("_cluster").alias("cluster_id"),
        record_id,
        pl.lit(1, dtype=pl.Int64).alias("cluster_size"),
        pl.concat_list(record_id).alias("member_ids"),
    ]
    for field in GOLDEN_FIELDS:
        own = pl.col(f"_own_{field}")
        rule: pl.Expr
        if field == "name":
            value = pl.when(by_registry).then(pl.col("_registry_choice")).otherwise(own)
            value = pl.when(value != "").then(value)
            rule = pl.col("_name_rule")
        elif field in ADDRESS_FIELDS:
            value = (
                pl.when(pl.col("_proposed_address"))
                .then(pl.col(f"_proposed_{field}"))
                .otherwise(own)
            )
            rule = pl.col("_address_rule")
        else:
            value = own
            rule = pl.when(own.is_not_null()).then(pl.lit("most_complete"))
        columns += [
            value.alias(field),
            pl.when(rule.is_not_null()).then(record_id).alias(f"{field}_source"),
            rule.alias(f"{field}_rule"),
        ]
    return facts.select(columns)


def _build_golden_general(records: pl.DataFrame) -> pl.DataFrame:
    """:func:`build_golden` by ranking and choosing, for clusters of any size.

    The reference the faster paths of :func:`build_golden` are tested against: it chooses every
    cluster's values twice, before and after ranking by agreement.
    """
    ranked = _ranked(records)
    ranked = _rerank_by_agreement(ranked, _widen(_choose(ranked)))
    return _golden_rows(ranked, _widen(_choose(ranked)))


def _golden_of_clusters(records: pl.DataFrame) -> pl.DataFrame:
    """:func:`_build_golden_general`, choosing again only where ranking by agreement moved a record.

    Choosing reads the ranks, nothing else that reranking changes: a cluster whose ranks stayed
    gets the same values, sources and rules from the second choice as from the first.
    """
    ranked = _ranked(records).with_columns(pl.col("_rank").alias("_first_rank"))
    first = _widen(_choose(ranked))
    ranked = _rerank_by_agreement(ranked, first)
    moved = ranked.filter(pl.col("_rank") != pl.col("_first_rank")).get_column("_cluster").unique()
    if moved.len() == 0:
        return _golden_rows(ranked, first)
    again = _widen(_choose(ranked.filter(pl.col("_cluster").is_in(moved.implode()))))
    kept = first.filter(~pl.col("_cluster").is_in(moved.implode()))
    return _golden_rows(ranked, pl.concat([kept, again.select(kept.columns)], how="vertical"))


def _registry_view(records: pl.DataFrame) -> pl.DataFrame:
    """``records`` with trusted registry proposals applied, where there are any."""
    if not any(c.startswith("registry_proposed_") for c in records.columns):
        return records
    return apply_registry_proposals(records).drop(REGISTRY_APPLIED)


def _ranked(records: pl.DataFrame) -> pl.DataFrame:
    """:func:`rank_records` with ``record_id`` as text and every golden field present."""
    ranked = rank_records(records).with_columns(pl.col("record_id").cast(pl.String))
    for field in GOLDEN_FIELDS:
        if field not in ranked.columns:
            ranked = ranked.with_columns(pl.lit(None, dtype=pl.String).alias(field))
    return ranked


def _golden_rows(ranked: pl.DataFrame, wide: pl.DataFrame) -> pl.DataFrame:
    """One row per cluster of ``ranked``: survivor, size and members, and ``wide``'s choices."""
    clusters = ranked.group_by("_cluster").agg(
        pl.col("record_id").sort_by("_rank").first().alias("record_id"),
        pl.len().cast(pl.Int64).alias("cluster_size"),
        pl.col("record_id").sort_by("_rank").alias("member_ids"),
    )
    golden = clusters.join(wide, on="_cluster", how="left")
    columns = ["record_id", "cluster_size", "member_ids"]
    for field in GOLDEN_FIELDS:
        for column in (field, f"{field}_source", f"{field}_rule"):
            if column not in golden.columns:
                golden = golden.with_columns(pl.lit(None, dtype=pl.String).alias(column))
            columns.append(column)
    return (
        golden.select(pl.col("_cluster").alias("cluster_id"), *columns)
        .sort("cluster_id")
        .with_columns(pl.col("member_ids").cast(pl.List(pl.String)))
    )


def _choose(ranked: pl.DataFrame) -> pl.DataFrame:
    # A registry's or an estate's choice beats the rules for the same field, the registry's
    # first. Set apart from the rules' (one per cluster and field, a million at 1M records),
    # which are not sorted for it.
    preferred = pl.concat(
        [_registry_choices(ranked), _estate_choices(ranked)], how="vertical"
    ).unique(["_cluster", "field"], keep="first")
    by_rules = _choose_by_rules(ranked).join(preferred, on=["_cluster", "field"], how="anti")
    return pl.concat([preferred, by_rules], how="vertical")


def _rerank_by_agreement(ranked: pl.DataFrame, wide: pl.DataFrame) -> pl.DataFrame:
    """Ties in completeness and recency go to the record already holding most golden values.

    The CRM then keeps the record that is already right, and the update rewrites as little of
    it as possible: a survivor whose own values link its duplicates keeps linking them in the
    next run.
    """
    golden = wide.select("_cluster", *[pl.col(f).alias(f"_golden_{f}") for f in GOLDEN_FIELDS])
    agreement = pl.sum_horizontal(
        (pl.col(f).cast(pl.String).str.strip_chars() == pl.col(f"_golden_{f}"))
        .fill_null(False)
        .cast(pl.Int32)
        for f in GOLDEN_FIELDS
    )
    # As the CRM will hold the records (see rank_records): a record that only now carries the
    # registry's address must not lose a tie it would win after the re-import.
    agreed = (
        _registry_view(ranked)
        .join(golden, on="_cluster", how="left", maintain_order="left")
        .select(agreement.alias("_agreement"))
        .to_series()
    )
    # ``agreed`` is in ``ranked``'s order: the view and the join keep it.
    return (
        ranked.with_columns(agreed)
        .sort(
            ["_cluster", "_completeness", "_updated", "_agreement", *_ID_ORDER],
            descending=[False, True, True, True, *[False] * len(_ID_ORDER)],
            nulls_last=True,
        )
        .with_columns(pl.int_range(pl.len()).over("_cluster").alias("_rank"))
        .drop("_agreement")
    )


def mark_survivors(records: pl.DataFrame, golden: pl.DataFrame) -> pl.DataFrame:
    """``records`` with ``is_survivor``: true for the record each golden row kept."""
    survivors = golden.get_column("record_id").cast(pl.String).implode()
    return records.with_columns(
        pl.col("record_id").cast(pl.String).is_in(survivors).fill_null(False).alias("is_survivor")
    )


# The fields chosen one by one; the address fields are chosen as one block.
_SINGLE = tuple(f for f in GOLDEN_FIELDS if f not in ADDRESS_FIELDS)
# Ranks from here on tie when a value's spelling is chosen (:func:`_voted`): only in a cluster of
# a million records.
_RANK_CAP = 999_999


def _field_values(ranked: pl.DataFrame) -> pl.DataFrame:
    """One row per record of ``ranked``, in its order: each field's trimmed value, null where it
    is empty, and the address as one ``_address`` block."""
    address = pl.concat_str(
        [pl.col(f).cast(pl.String).str.strip_chars().fill_null("") for f in ADDRESS_FIELDS],
        separator=_SEP,
    )
    trimmed = [pl.col(f).cast(pl.String).str.strip_chars() for f in _SINGLE]
    return ranked.select(
        "_cluster",
        "record_id",
        "_rank",
        pl.col("_updated").fill_null(_NEVER).alias("_latest"),
        (pl.col("customer_type") == "person").fill_null(False).alias("_person"),
        *[pl.when(value != "").then(value) for value in trimmed],
        pl.when(address.str.replace_all(_SEP, "") != "").then(address).alias(_ADDRESS),
    )


def _long_values(values: pl.DataFrame) -> pl.DataFrame:
    """One row per (record, field, non-empty value) of :func:`_field_values`, each value with its
    ``key`` (:func:`_with_spellings`): frequency and recency count keys, so the spellings of one
    value vote together (and :func:`_fold_names_without_form` counts a company's name typed
    without its legal form for the name with it)."""
    long = values.unpivot(
        index=["_cluster", "record_id", "_rank", "_latest", "_person"],
        on=[*_SINGLE, _ADDRESS],
        variable_name="field",
        value_name="value",
    ).filter(pl.col("value").is_not_null())
    return _with_spellings(long)


# The fields one value of which is written several ways: ``Jagtvej 91`` / ``Jagtv. 91``,
# ``Niels Vestergaard Bach`` / ``Niels Bach``. Every other field's key is its value.
_SPELT = ("name", _ADDRESS)
# A name's last segment after a comma (``Kristensen Transport A/S, Helsingør``).
_AFTER_LAST_COMMA = r"\s*,\s*([^,]+)$"


@cache
def _town_keys() -> frozenset[str]:
    """Keys of Danish postal districts, also without their district's letters (``odense c``,
    ``odense``; ``koebenhavn k``, ``koebenhavn``)."""
    places = danish_place_keys()
    towns = {re.sub(r"\s\S{1,3}$", "", place) for place in places}
    return places | {town for town in towns if town}


def _with_spellings(long: pl.DataFrame) -> pl.DataFrame:
    """``long`` with each value's ``key``, ``_fullness`` (lower is fuller) and ``_bare``, computed
    once per distinct spelling.

    The key of an address block is its street's :func:`street_key` with the other parts
    (``Jagtv. 91`` and ``Jagtvej 91``: ``jagtvej``, ``91``); of a name its text key, a trailing
    Danish town after a company's legal form left out (``Kristensen Transport A/S, Helsingør``
    and ``Kristensen Transport A/S``), a person's first and last word (``Niels Vestergaard
    Bach`` and ``Niels Bach``: ``niels bach``). The fullest spelling has no such town, then the
    most letters (abbreviations written out, the middle name), then the most Danish letters and
    acute accents (``Åboulevard`` before ``Aaboulevard``, ``Sørensen`` before ``Sorensen``,
    ``Allé`` before ``Alle``), then the fewest grave ones (``Allè``, never Danish).

    ``_bare`` is a company name's key without its legal form, where it has one (``kristensen
    transport`` of ``Kristensen Transport A/S``), else null: :func:`_fold_names_without_form`
    counts the name typed without the form for the one with it."""
    spelt = long.filter(pl.col("field").is_in(_SPELT)).select("field", "value", "_person").unique()
    if spelt.height == 0:
        return long.with_columns(
            pl.col("value").alias("key"),
            pl.lit(0, pl.Int64).alias("_fullness"),
            pl.lit(None, pl.String).alias("_bare"),
        )
    value = pl.col("value")
    is_address = pl.col("field") == _ADDRESS
    # A name's town and text key made once each, as columns: its key, fullness and bare key
    # read them (an eager frame evaluates an expression each time it is written).
    names = spelt.filter(~is_address).with_columns(_town_after_form(value).alias("_trailing"))
    names = names.with_columns(
        text_key(
            pl.when("_trailing").then(value.str.replace(_AFTER_LAST_COMMA, "")).otherwise(value)
        ).alias("_typed")
    )
    # ``Sørensen``, ``Soerensen`` and ``Sorensen`` in one cluster are one name written three ways
    names = names.with_columns(
        pl.col("_typed").str.replace_many(["oe", "ae", "aa"], ["o", "a", "a"]).alias("_name")
    )
    name = pl.col("_name")
    bare = key_without_legal_form(pl.col("_typed")).str.replace_many(
        ["oe", "ae", "aa"], ["o", "a", "a"]
    )
    person = pl.concat_str(
        name.str.extract(r"^(\S+)\s", 1), name.str.extract(r"\s(\S+)$", 1), separator=" "
    )
    # Addresses and names keyed apart: in one ``when`` each row would be keyed both ways (a
    # street key of every name, a name key of every address), half of it thrown away.
    keys = pl.concat(
        [
            _address_keys(spelt.filter(is_address)),
            names.select(
                "field",
                "value",
                "_person",
                pl.when(pl.col("_person"))
                .then(pl.coalesce(person, name))
                .otherwise(name)
                .fill_null(value)
                .alias("key"),
                _fullness(pl.col("_trailing"), _spelling(value)).alias("_fullness"),
                # only a company's name with a form has one: ``Kristensen Transport A/S``
                pl.when(~pl.col("_person") & (bare != name)).then(bare).alias("_bare"),
            ),
        ],
        how="diagonal_relaxed",
    )
    return long.join(keys, on=["field", "value", "_person"], how="left").with_columns(
        pl.col("key").fill_null(value), pl.col("_fullness").fill_null(0)
    )


def _town_after_form(name: pl.Expr) -> pl.Expr:
    """Whether ``name`` ends with a Danish town after a comma and a legal form: ``Kristensen
    Transport A/S, Helsingør``."""
    before = name.str.replace(_AFTER_LAST_COMMA, "")
    town = text_key(name.str.extract(_AFTER_LAST_COMMA, 1))
    return (
        legal_form_of(before).is_not_null() & town.is_in(pl.lit(sorted(_town_keys())))
    ).fill_null(False)


def _spelling(shown: pl.Expr) -> pl.Expr:
    """Lower for the fuller spelling: the most letters (abbreviations written out, the middle
    name), then the most Danish letters and acute accents, then the fewest grave ones."""
    return (
        -(fold(shown).str.count_matches(r"\p{L}").clip(0, 9_999).cast(pl.Int64) * 10**11)
        - shown.str.count_matches(r"(?i)[æøåé]").clip(0, 999).cast(pl.Int64) * 10**8
        + shown.str.count_matches(r"(?i)[èàùì]").clip(0, 99).cast(pl.Int64) * 10**6
    )


def _fullness(trailing: pl.Expr, spelling: pl.Expr) -> pl.Expr:
    """Lower is fuller (:func:`_with_spellings`): no trailing town first, then ``spelling``."""
    return trailing.cast(pl.Int64) * 10**16 + spelling


def _address_keys(blocks: pl.DataFrame) -> pl.DataFrame:
    """The address ``blocks`` of :func:`_with_spellings` with their ``key`` and ``_fullness``.

    Both are the street's (its :func:`street_key` and :func:`_spelling`) with the block's other
    parts, worked out once per distinct street and city: the disputed blocks of a million
    records hold some 120,000 addresses on 29,000 streets. A town after a legal form needs a
    comma, which few blocks hold: the others are not looked at for one.
    """
    value = pl.col("value")
    part = blocks.select(
        value.str.split(_SEP).list.get(i, null_on_oob=True).fill_null("").alias(f"_part{i}")
        for i in range(len(ADDRESS_FIELDS))
    )
    street = per_distinct(part.get_column("_part0"), {"key": street_key, "spelling": _spelling})
    city = per_distinct(part.get_column("_part5"), {"key": text_key})
    with_comma = only_where(value.str.contains(",", literal=True), value)
    return blocks.hstack(part).select(
        "field",
        "value",
        "_person",
        pl.concat_str(
            pl.lit(street["key"]).fill_null(""),
            pl.col("_part1").str.to_lowercase(),
            *[pl.col(f"_part{i}") for i in (2, 3, 4)],
            pl.lit(city["key"]).fill_null(""),
            separator=_SEP,
        ).alias("key"),
        _fullness(_town_after_form(with_comma), pl.lit(street["spelling"])).alias("_fullness"),
    )


def _choose_by_rules(ranked: pl.DataFrame) -> pl.DataFrame:
    """Each (cluster, field)'s value by frequency, recency and rank, naming the deciding rule.

    ``ranked`` is in cluster and rank order, as :func:`rank_records` sorts it. Most fields need
    no vote (:func:`_agreed_and_disputed`): only the values of the others are keyed and counted
    (:func:`_voted`), some 15 % of a million records' values.
    """
    agreed, disputed = _agreed_and_disputed(_field_values(ranked))
    return pl.concat([agreed, _voted(_with_spellings(disputed))], how="vertical")


def _agreed_and_disputed(values: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The choices of the fields whose values the records of a cluster agree on, and the values
    (one row per record and field, as :func:`_long_values` without ``key``) of the rest.

    A cluster's records agree on a field when every record holding it holds the same value, as
    the same kind of customer (a person's name is keyed by its first and last word): two holding
    ``+4512345678``, or one holding it and the other no phone. That value is then the only key,
    spelt one way, and the vote is known: the value of the best-ranked record holding it, rule
    ``most_frequent`` where two or more hold it, else ``most_complete``. ``values`` is in cluster
    and rank order: a cluster's records are together, its best-ranked first.
    """
    cluster, value, person = pl.col("_cluster"), pl.col("value"), pl.col("_person")
    first = (cluster != cluster.shift()).fill_null(True)
    # the record before, of the same cluster, holds another value or is another kind of customer
    differs = ~first & ((value != value.shift()) | (person != person.shift()))
    agreed, voted = [], []
    for field in (*_SINGLE, _ADDRESS):
        held = values.select(
            "_cluster",
            "record_id",
            "_rank",
            "_latest",
            "_person",
            pl.lit(field).alias("field"),
            pl.col(field).alias("value"),
        ).filter(value.is_not_null())
        marked = held.select(
            first.alias("first"), (differs | (pl.col("_rank") >= _RANK_CAP)).alias("differs")
        )
        disputes = held.filter(marked.get_column("differs")).get_column("_cluster").unique()
        disputed = cluster.is_in(disputes.implode())
        voted.append(held.filter(disputed))
        # each cluster's first record holding the value is its best-ranked, and the records
        # holding it are its run of rows
        alike = held.with_columns(marked.get_column("first")).filter(~disputed)
        counts = alike.get_column("_cluster").rle().struct.field("len")
        agreed.append(
            alike.filter("first").select(
                "_cluster", "field", "value", pl.col("record_id").alias("source"), n=counts
            )
        )
    rule = pl.when(pl.col("n") > 1).then(pl.lit("most_frequent")).otherwise(pl.lit("most_complete"))
    chosen = pl.concat(agreed, how="vertical").select(
        "_cluster", "field", "value", "source", rule.alias("rule"), pl.lit(1).alias("_priority")
    )
    return chosen, pl.concat(voted, how="vertical")


def _voted(long: pl.DataFrame) -> pl.DataFrame:
    """:func:`_choose_by_rules` by counting the keys of :func:`_long_values`."""
    # Sorted once, newest first: each group's first record is then its most recent one (a
    # group keeps its rows' order), with no sort inside every group of a million clusters.
    # Of a key's spellings the survivor's (rank 0) comes first, then the fullest, then by rank.
    rank = pl.col("_rank").clip(0, _RANK_CAP).cast(pl.Int64)
    fullest = (
        pl.when(rank == 0).then(pl.lit(-(2**62), pl.Int64)).otherwise(pl.col("_fullness") + rank)
    )
    candidates = (
        long.sort(["_latest", "_rank"], descending=[True, False])
        .group_by("_cluster", "field", "key")
        .agg(
            pl.len().alias("n"),
            pl.col("_latest").max().alias("latest"),
            pl.col("_rank").min().alias("best_rank"),
            pl.col("record_id").get(pl.col("_rank").arg_min()).alias("ranked_source"),
            pl.col("record_id").first().alias("recent_source"),
            # the key's spelling: the best-ranked record's where it is the survivor's (the CRM's
            # own value is kept), else the fullest (:func:`_with_spellings`)
            pl.col("value").get(fullest.arg_min()).alias("value"),
            pl.col("record_id").get(fullest.arg_min()).alias("spelt_source"),
            pl.col("_bare").first(),
        )
        .with_columns(pl.col("field").is_in(list(RECENCY_FIRST)).alias("recency_first"))
    )
    candidates = _fold_names_without_form(_fold_partial_addresses(candidates))
    ordered = pl.concat(
        [
            candidates.filter(pl.col("recency_first")).sort(
                ["_cluster", "field", "latest", "n", "best_rank"],
                descending=[False, False, True, True, False],
            ),
            candidates.filter(~pl.col("recency_first")).sort(
                ["_cluster", "field", "n", "latest", "best_rank"],
                descending=[False, False, True, True, False],
            ),
        ]
    ).with_columns(pl.int_range(pl.len()).over("_cluster", "field").alias("_pos"))
    top = ordered.filter(pl.col("_pos") == 0)
    runner_up = ordered.filter(pl.col("_pos") == 1).select(
        "_cluster", "field", pl.col("n").alias("n2"), pl.col("latest").alias("latest2")
    )
    newer = pl.col("latest") > pl.col("latest2")
    commoner = pl.col("n") > pl.col("n2")
    rule = (
        pl.when(pl.col("n2").is_null() & (pl.col("n") > 1))
        .then(pl.lit("most_frequent"))  # the records agree
        .when(pl.col("n2").is_null())
        .then(pl.lit("most_complete"))
        .when(pl.col("recency_first") & newer)
        .then(pl.lit("most_recent"))
        .when(commoner)
        .then(pl.lit("most_frequent"))
        .when(newer)
        .then(pl.lit("most_recent"))
        .otherwise(pl.lit("most_complete"))
    )
    return (
        top.join(runner_up, on=["_cluster", "field"], how="left")
        .with_columns(rule.alias("rule"))
        .select(
            "_cluster",
            "field",
            "value",
            pl.when(pl.col("field").is_in(_SPELT))
            .then(pl.col("spelt_source"))
            .when(pl.col("rule") == "most_recent")
            .then(pl.col("recent_source"))
            .otherwise(pl.col("ranked_source"))
            .alias("source"),
            "rule",
            pl.lit(1).alias("_priority"),
        )
    )


def _fold_partial_addresses(candidates: pl.DataFrame) -> pl.DataFrame:
    """``candidates`` with each address block that another of its cluster completes counted
    for that one instead.

    ``184 Sophie Isle, Leicester`` (twice) and ``184 Sophie Isle, LE1 1NT Leicester`` (once) are
    one address, the second the more complete: the two records without a postal code vote for
    it, and the golden record keeps its code rather than losing it to the majority that never
    typed one. A block completes another when it holds every part the other holds, alike
    (by their keys: ``Jagtv. 91`` and ``Jagtvej 91, 2200`` are alike), and more (a postal code,
    a floor); a block two others complete votes for both. Only clusters with two or more blocks
    are compared (few: most duplicates share one address).
    """
    blocks = candidates.filter(
        (pl.col("field") == _ADDRESS) & (pl.len().over("_cluster", "field") > 1)
    )
    if blocks.height == 0:
        return candidates
    parts = blocks.select(
        "_cluster",
        "key",
        "n",
        "latest",
        *[
            pl.col("key").str.split(_SEP).list.get(i, null_on_oob=True).alias(f"_p{i}")
            for i in range(len(ADDRESS_FIELDS))
        ],
    )
    pairs = parts.join(parts, on="_cluster", suffix="_more").filter(
        (pl.col("key") != pl.col("key_more"))
        & pl.all_horizontal(
            (pl.col(f"_p{i}") == "") | (pl.col(f"_p{i}") == pl.col(f"_p{i}_more"))
            for i in range(len(ADDRESS_FIELDS))
        ).fill_null(False)
    )
    if pairs.height == 0:
        return candidates
    return _counted_for_fuller(candidates, pairs.with_columns(field=pl.lit(_ADDRESS)))


def _fold_names_without_form(candidates: pl.DataFrame) -> pl.DataFrame:
    """``candidates`` with a company name typed without its legal form counted for the same
    name with it, in its cluster.

    ``Kristensen Transport`` (once, or twice, or the newer) beside ``Kristensen Transport A/S``
    is one name, the second the fuller: the golden record keeps the form that ``legal_form`` and
    the invoices need, rather than the most recent or commonest spelling dropping it. A name
    without a form beside two forms of it (``ApS``, ``A/S``) counts for both; a name with
    another form is another value (``Hansen Byg ApS`` beside ``Hansen Byg A/S``).
    """
    # only clusters with two or more names (few: most duplicates are typed alike)
    names = candidates.filter(
        (pl.col("field") == "name") & (pl.len().over("_cluster", "field") > 1)
    )
    formed = names.filter(pl.col("_bare").is_not_null())
    if formed.height == 0:
        return candidates
    pairs = formed.select(
        "_cluster", "field", pl.col("_bare").alias("key"), pl.col("key").alias("key_more")
    ).join(names.select("_cluster", "field", "key", "n", "latest"), on=["_cluster", "field", "key"])
    if pairs.height == 0:
        return candidates
    return _counted_for_fuller(candidates, pairs)


def _counted_for_fuller(candidates: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """``candidates`` without each ``key`` of ``pairs``, its votes (``n``, ``latest``) given to
    the fuller value ``key_more`` of the same cluster and field (to each, where there are two)."""
    gained = pairs.group_by("_cluster", "field", "key_more").agg(
        pl.col("n").sum().alias("_n_more"), pl.col("latest").max().alias("_latest_more")
    )
    folded = pairs.select("_cluster", "field", "key").unique()
    return (
        candidates.join(folded, on=["_cluster", "field", "key"], how="anti")
        .join(
            gained,
            left_on=["_cluster", "field", "key"],
            right_on=["_cluster", "field", "key_more"],
            how="left",
        )
        .with_columns(
            (pl.col("n") + pl.col("_n_more").fill_null(0)).alias("n"),
            pl.max_horizontal("latest", "_latest_more").alias("latest"),
        )
        .drop("_n_more", "_latest_more")
    )


def _text(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A column survivorship declares (:data:`~datavask.cleansing.schema.STAGES`; all optional),
    trimmed, blanks as null."""
    return stage_text(frame, "survivorship", column, blank_as_null=True)


def _registry_trusted(frame: pl.DataFrame) -> pl.Expr:
    """Company and public records whose registry entry is theirs.

    ``NAME_MISMATCH`` with a proposed name is a renamed company (the record still carries a
    former name): the same legal entity. Without a proposal the CVR may be another company's.
    """
    if "customer_type" not in frame.columns:
        return pl.lit(False)
    mismatch = (
        pl.col("flag_NAME_MISMATCH").cast(pl.Boolean).fill_null(False)
        if "flag_NAME_MISMATCH" in frame.columns
        else pl.lit(False)
    )
    registered = pl.col("customer_type").is_in(list(REGISTRY_TYPES)).fill_null(False)
    return registered & (~mismatch | _text(frame, "registry_proposed_name").is_not_null())


def _has_address_proposal(frame: pl.DataFrame) -> pl.Expr:
    return (
        _text(frame, "registry_proposed_street").is_not_null()
        | _text(frame, "registry_proposed_postal_code").is_not_null()
    )


def apply_registry_proposals(records: pl.DataFrame) -> pl.DataFrame:
    """Records with the registry's proposed name and address in place of their own.

    Only where the registry is trusted (company and public records, not a ``NAME_MISMATCH``
    without a proposed name); the address is replaced as one block, so a proposal without a
    floor clears the record's floor. Adds ``registry_applied`` (list of the fields whose value
    changed), which ``changes.csv`` reads to name the rule ``registry``.

    >>> frame = pl.DataFrame({"record_id": ["1"], "customer_type": ["company"],
    ...     "name": ["Gammel Handel ApS"], "registry_proposed_name": ["Nyt Navn ApS"]})
    >>> apply_registry_proposals(frame).select("name", "registry_applied").row(0)
    ('Nyt Navn ApS', ['name'])
    """
    # Worked out on a frame of the columns read here; the record takes the results once. On
    # the whole record (some 90 columns) each eager call below copied every column it carries.
    read = ["name", "customer_type", "flag_NAME_MISMATCH", *ADDRESS_FIELDS]
    read += [f"registry_proposed_{f}" for f in ("name", *ADDRESS_FIELDS)]
    narrow = records.select(c for c in records.columns if c in read)
    if not narrow.width:  # a frame of no columns has no rows either
        return _registry_proposals_applied(records)
    proposed = _registry_proposals_applied(narrow)
    # the fields replaced (in place, or added where the record lacks one) and registry_applied
    made = [
        c for c in proposed.columns if c not in narrow.columns or c in ("name", *ADDRESS_FIELDS)
    ]
    return records.with_columns(proposed.select(made))


def _registry_proposals_applied(records: pl.DataFrame) -> pl.DataFrame:
    """:func:`apply_registry_proposals` on a frame of the columns it reads."""
    # Made once as columns: every field below reads them twice, and an eager frame evaluates
    # an expression each time it is written.
    trusted, block = pl.col("_registry_trusted"), pl.col("_registry_block")
    decided = records.with_columns(
        _registry_trusted(records).alias("_registry_trusted"),
        (_registry_trusted(records) & _has_address_proposal(records)).alias("_registry_block"),
    )
    name_proposal = pl.when(trusted).then(_text(records, "registry_proposed_name"))
    replaced: dict[str, pl.Expr] = {}
    if "name" in records.columns:
        replaced["name"] = pl.coalesce(name_proposal, pl.col("name").cast(pl.String))
    for field in ADDRESS_FIELDS:
        if field in records.columns or f"registry_proposed_{field}" in records.columns:
            own = _text(records, field) if field not in records.columns else pl.col(field)
            replaced[field] = (
                pl.when(block)
                .then(_text(records, f"registry_proposed_{field}"))
                .otherwise(own.cast(pl.String))
            )
    own_values = {f: _text(records, f) for f in replaced}
    changed = {
        f: expr.cast(pl.String).str.strip_chars().ne_missing(own_values[f])
        for f, expr in replaced.items()
    }
    applied = names_where(decided, changed).alias(REGISTRY_APPLIED)
    return (
        decided.with_columns(applied)
        .with_columns(expr.alias(f) for f, expr in replaced.items())
        .drop("_registry_trusted", "_registry_block")
    )


def registry_name_where_missing(records: pl.DataFrame) -> pl.DataFrame:
    """Records without a name whose registry entry is trusted, named as the registry names them.

    That is the name the re-import gives such a record when it keeps its cluster (the golden
    name's ``registry`` rule), so matching compares it under that name from the first run on and
    a rerun over the re-imported file finds the same customers (issue 9.10). ``registry_applied``
    gains ``name`` where the frame has that column.

    >>> frame = pl.DataFrame({"record_id": ["1", "2"], "customer_type": ["company"] * 2,
    ...     "name": [None, "Eget Navn ApS"], "registry_name": ["HANSEN BYG APS"] * 2})
    >>> registry_name_where_missing(frame)["name"].to_list()
    ['Hansen Byg ApS', 'Eget Navn ApS']
    """
    if "name" not in records.columns or "registry_name" not in records.columns:
        return records
    missing = _registry_trusted(records) & _text(records, "name").is_null()
    display = normalise_names(
        records.select(raw_name=pl.when(missing).then(_text(records, "registry_name")))
    ).get_column("name")
    filled = records.with_columns(pl.coalesce(pl.lit(display), pl.col("name")).alias("name"))
    if REGISTRY_APPLIED not in records.columns:
        return filled
    named = pl.lit(display).is_not_null()
    return filled.with_columns(
        pl.when(named)
        .then(pl.col(REGISTRY_APPLIED).list.concat(pl.lit(["name"])))
        .otherwise(pl.col(REGISTRY_APPLIED))
        .alias(REGISTRY_APPLIED)
    )


def _registry_choices(ranked: pl.DataFrame) -> pl.DataFrame:
    """The registry's name and proposed address for company and public-sector clusters."""
    empty = pl.DataFrame(
        schema={
            "_cluster": pl.String,
            "field": pl.String,
            "value": pl.String,
            "source": pl.String,
            "rule": pl.String,
            "_priority": pl.Int32,
        }
    )
    if "customer_type" not in ranked.columns:
        return empty

    # Predicates go through a column: a literal predicate (a missing column) must broadcast.
    registered = ranked.with_columns(
        _registry_trusted(ranked).alias("_trusted"),
        _has_address_proposal(ranked).alias("_has_proposal"),
    ).filter(pl.col("_trusted"))
    # ERST writes most names in capitals; the registry name gets the display casing the name
    # module gives any typed name, so the next run reads back exactly what was written.
    registered = registered.with_columns(_registry_display(registered))
    name = _text(registered, "name")

    def folded(value: pl.Expr) -> pl.Expr:
        return value.str.to_lowercase().str.replace_all(r"\s+", " ")

    same_name = folded(name) == folded(pl.col("_registry_display"))
    # Equal to ours but for case or spacing: keep our cleaned name.
    name_value = (
        pl.when(same_name.fill_null(False))
        .then(name)
        .when(name.is_null())
        .then(pl.col("_registry_display"))  # a record without a name gets the registry's
        # A name the registry found and accepts without a proposal (a secondary name, a binavn)
        # is the registry's choice as well, at its record's rank: a survivor holding a binavn
        # keeps it. Renamed to the legal name another member holds, it would no longer look
        # like the duplicates that share its binavn, and the next run would split them off.
        .otherwise(
            pl.coalesce(
                _text(registered, "registry_proposed_name"),
                pl.when(_text(registered, "registry_name").is_not_null()).then(name),
            )
        )
    )
    names = registered.select(
        "_cluster",
        "_rank",
        pl.lit(0).alias("_order"),
        pl.lit("name").alias("field"),
        name_value.alias("value"),
        pl.col("record_id").alias("source"),
    )

    def address_block(prefix: str) -> pl.Expr:
        return pl.concat_str(
            [_text(registered, f"{prefix}{f}").fill_null("") for f in ADDRESS_FIELDS],
            separator=_SEP,
        )

    proposed = registered.filter(pl.col("_has_proposal")).select(
        "_cluster",
        "_rank",
        pl.lit(0).alias("_order"),
        pl.lit(_ADDRESS).alias("field"),
        address_block("registry_proposed_").alias("value"),
        pl.col("record_id").alias("source"),
    )
    # A complete address the registry found and did not dispute is its current address too: it
    # beats an older address of a member the registry could not check (one without a CVR).
    mismatch = (
        pl.col("flag_ADDRESS_MISMATCH").cast(pl.Boolean).fill_null(False)
        if "flag_ADDRESS_MISMATCH" in registered.columns
        else pl.lit(False)
    )
    confirmed = registered.filter(
        ~pl.col("_has_proposal")
        & _text(registered, "registry_name").is_not_null()
        & _text(registered, "street").is_not_null()
        & _text(registered, "postal_code").is_not_null()
        & ~mismatch
    ).select(
        "_cluster",
        "_rank",
        pl.lit(1).alias("_order"),
        pl.lit(_ADDRESS).alias("field"),
        address_block("").alias("value"),
        pl.col("record_id").alias("source"),
    )
    return (
        pl.concat([names, proposed, confirmed])
        .filter(pl.col("value").is_not_null())
        .sort("_order", "_rank")
        .unique(["_cluster", "field"], keep="first")
        .select(
            "_cluster",
            "field",
            "value",
            "source",
            pl.lit("registry").alias("rule"),
            pl.lit(0, dtype=pl.Int32).alias("_priority"),
        )
        .cast({"_priority": pl.Int32})
    )


def _estate_choices(ranked: pl.DataFrame) -> pl.DataFrame:
    """A deceased customer's name is its estate's (``Dødsboet efter Jens Hansen``, rule
    ``estate``): invoices and claims are addressed to the estate, not to the person he was. The
    record is found by its name, not by ``DECEASED_ESTATE``, which the verdict gives every record
    of the customer (the Dask engine's golden records are made after it)."""
    return (
        ranked.filter(names_an_estate(pl.col("name")))
        .sort("_rank")
        .unique("_cluster", keep="first", maintain_order=True)
        .select(
            "_cluster",
            pl.lit("name").alias("field"),
            pl.col("name").cast(pl.String).alias("value"),
            pl.col("record_id").alias("source"),
            pl.lit("estate").alias("rule"),
            pl.lit(0, dtype=pl.Int32).alias("_priority"),
        )
    )


def _widen(chosen: pl.DataFrame) -> pl.DataFrame:
    """Long (cluster, field, value, source, rule) to one row per cluster, the address unpacked."""
    chosen = chosen.with_columns(pl.col("_priority").cast(pl.Int32))
    address = chosen.filter(pl.col("field") == _ADDRESS)
    parts = pl.col("value").str.split(_SEP)
    unpacked = pl.concat(
        [
            address.select(
                "_cluster",
                pl.lit(field).alias("field"),
                parts.list.get(i, null_on_oob=True).alias("value"),
                "source",
                "rule",
            )
            for i, field in enumerate(ADDRESS_FIELDS)
        ]
        or [pl.DataFrame()],
        how="vertical",
    )
    singles = chosen.filter(pl.col("field") != _ADDRESS).select(
        "_cluster", "field", "value", "source", "rule"
    )
    long = pl.concat([singles, unpacked], how="vertical").with_columns(
        pl.when(pl.col("value") != "").then(pl.col("value")).alias("value")
    )
    clusters = long.select("_cluster").unique()
    for field in GOLDEN_FIELDS:
        part = long.filter(pl.col("field") == field).select(
            "_cluster",
            pl.col("value").alias(field),
            pl.col("source").alias(f"{field}_source"),
            pl.col("rule").alias(f"{field}_rule"),
        )
        clusters = clusters.join(part, on="_cluster", how="left")
    return clusters


def apply_golden(records: pl.DataFrame, golden: pl.DataFrame) -> pl.DataFrame:
    """What the CRM gets back: registry proposals applied, and survivors carrying the golden record.

    Every record first gets its own trusted registry proposals (:func:`apply_registry_proposals`);
    then each survivor takes its cluster's golden values, the address as one block. Records that
    are merged away keep their own values. ``registry_applied`` lists, per record, the fields
    whose written value is the registry's and differs from the record's own cleaned value;
    ``golden_applied`` those whose value another record of the cluster gave.
    """
    # Only the columns read here travel through the join: a wide frame (every input column
    # beside the cleaned ones) would be copied whole. The rest is left as it is.
    narrow = records.select(golden_applied_columns(records.columns))
    return records.with_columns(_apply_golden(narrow, golden).get_columns())


def golden_applied_columns(columns: Iterable[str]) -> list[str]:
    """Of a record's ``columns``, those :func:`apply_golden` reads."""
    read = _READ | {"phone_numbers", "emails", "address_extra", REGISTRY_APPLIED}
    return [c for c in columns if c in read or c.startswith("registry_")]


def golden_view(golden: pl.DataFrame) -> pl.DataFrame:
    """The columns of the golden rows ``golden`` that :func:`apply_golden` reads: the survivor's
    ``record_id``, and each field's value and rule (not its source, nor the cluster's members)."""
    read = {"record_id", *GOLDEN_FIELDS, *(f"{f}_rule" for f in GOLDEN_FIELDS)}
    return golden.select(c for c in golden.columns if c in read)


def _apply_golden(records: pl.DataFrame, golden: pl.DataFrame) -> pl.DataFrame:
    present = [f for f in GOLDEN_FIELDS if f in golden.columns and f in records.columns]
    own = {f: f"_own_{f}" for f in present}
    proposed = apply_registry_proposals(
        records.with_columns(_text(records, f).alias(column) for f, column in own.items())
    )
    if golden.height == 0 or not present:
        address = [f for f in present if f in ADDRESS_FIELDS]
        taken = pl.any_horizontal(
            [_text(proposed, f).ne_missing(pl.col(own[f])) for f in address] or [pl.lit(False)]
        )
        return proposed.with_columns(
            taken.alias(ADDRESS_TAKEN),
            pl.lit([], dtype=pl.List(pl.String)).alias(GOLDEN_APPLIED),
        ).drop(own.values())
    values = golden.select(
        pl.col("record_id").cast(pl.String).alias("_survivor"),
        *[pl.col(f).alias(f"_golden_{f}") for f in present],
        *[
            (pl.col(f"{f}_rule") == "registry").fill_null(False).alias(f"_registry_{f}")
            if f"{f}_rule" in golden.columns
            else pl.lit(False).alias(f"_registry_{f}")
            for f in present
        ],
    )
    joined = proposed.with_columns(pl.col("record_id").cast(pl.String).alias("_survivor")).join(
        values.with_columns(pl.lit(True).alias("_is_survivor")),
        on="_survivor",
        how="left",
        maintain_order="left",
    )
    # The golden address is one block: a golden address without a floor clears the floor.
    golden_address = pl.any_horizontal(
        [pl.col(f"_golden_{f}").is_not_null() for f in present if f in ADDRESS_FIELDS]
        or [pl.lit(False)]
    )
    is_survivor = pl.col("_is_survivor").fill_null(False)
    # Made once as columns: an eager frame evaluates an expression each time it is written, and
    # every field below reads these several times.
    joined = joined.with_columns(
        (
            is_survivor
            & (golden_address if f in ADDRESS_FIELDS else pl.col(f"_golden_{f}").is_not_null())
        ).alias(f"_takes_{f}")
        for f in present
    ).with_columns(is_survivor.alias("_is_survivor"))
    is_survivor = pl.col("_is_survivor")
    takes_golden = {f: pl.col(f"_takes_{f}") for f in present}
    overlay = [
        pl.when(takes_golden[f])
        .then(pl.col(f"_golden_{f}").cast(records.schema[f]))
        .otherwise(pl.col(f))
        .alias(f)
        for f in present
    ]
    # Where the golden record decides, the value is the registry's when its rule says so and it
    # is not the record's own; elsewhere the record's own proposals say.
    from_registry = {
        f: pl.when(takes_golden[f])
        .then(
            pl.col(f"_registry_{f}")
            & pl.col(f"_golden_{f}").cast(pl.String).ne_missing(pl.col(own[f]))
        )
        .otherwise(pl.col(REGISTRY_APPLIED).list.contains(f))
        for f in present
    }
    # Registry fields outside the golden record keep their place first, as they were listed.
    kept = {
        f: pl.col(REGISTRY_APPLIED).list.contains(f)
        for f in ("name", *ADDRESS_FIELDS)
        if f not in present
    }
    applied = names_where(joined, kept | from_registry).alias(REGISTRY_APPLIED)
    # The golden value where it is not the record's own (registry proposals applied) and not
    # the registry's: another record of the cluster gave it.
    copied = {
        f: takes_golden[f]
        & ~pl.col(f"_registry_{f}")
        & pl.col(f"_golden_{f}").cast(pl.String).ne_missing(_text(joined, f))
        for f in present
    }
    golden_applied = names_where(joined, copied).alias(GOLDEN_APPLIED)
    address = [f for f in present if f in ADDRESS_FIELDS]
    final = {
        f: pl.when(takes_golden[f])
        .then(pl.col(f"_golden_{f}"))
        .otherwise(pl.col(f))
        .cast(pl.String)
        .str.strip_chars()
        .replace("", None)
        for f in address
    }
    moved = pl.any_horizontal(
        [final[f].ne_missing(pl.col(own[f])) for f in address] or [pl.lit(False)]
    )
    overlay.append(moved.alias(ADDRESS_TAKEN))
    if "address_extra" in records.columns and address:
        # What the line held after the number (``Vester Hassing``) belongs to the record's own
        # address: where the golden record or the registry gives another, it goes with it.
        overlay.append(
            pl.when(moved)
            .then(pl.lit(None, dtype=pl.String))
            .otherwise(pl.col("address_extra"))
            .alias("address_extra")
        )
    if "phone_e164" in present and "phone_numbers" in records.columns:
        # The golden phone first, so a phone column whose own number lost still gets a number.
        golden_phone = pl.col("_golden_phone_e164")
        overlay.append(
            pl.when(is_survivor & golden_phone.is_not_null())
            .then(
                pl.concat_list(golden_phone, pl.col("phone_numbers")).list.unique(
                    maintain_order=True
                )
            )
            .otherwise(pl.col("phone_numbers"))
            .alias("phone_numbers")
        )
    if "email" in present and "emails" in records.columns:
        overlay.append(
            pl.when(is_survivor & (pl.col("_golden_email") != pl.col("email")).fill_null(False))
            .then(pl.concat_list(pl.col("_golden_email")))
            .otherwise(pl.col("emails"))
            .alias("emails")
        )
    return (
        joined.with_columns(applied, golden_applied)
        .with_columns(overlay)
        .drop(
            "_survivor",
            "_is_survivor",
            *[f"_takes_{f}" for f in present],
            *[f"_golden_{f}" for f in present],
            *[f"_registry_{f}" for f in present],
            *own.values(),
        )
    )
