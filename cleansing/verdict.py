"""The verdict: the flags decided once every record is cleaned, checked and clustered.

In: the record frame after normalisation, registry enrichment and matching — the ``flag_<CODE>``
columns raised by earlier stages, ``customer_type``, ``cvr``, ``ean``, ``phone_e164`` /
``phone_numbers``, ``email`` / ``emails`` and, from matching, ``cluster_id``, ``cluster_size`` and
``in_review_pair``. Any of these may be missing (a stage that was skipped); a missing flag column
means "not raised" and a missing ``cluster_id`` makes every record its own customer.

Out: the same frame with the flags decided here added as ``flag_<CODE>`` columns —

- per record: ``MISSING_CVR`` (a Danish company with no CVR value at all, a masked CPR number in
  the CVR field counting as none; one whose CVR is present but broken is ``INVALID_CVR``
  instead), ``MISSING_EAN`` (a Danish public customer without a valid
  EAN, unless ``INVALID_EAN`` already says why) — a record's ``country`` (as the addresses stage
  decided it) other than ``DK`` raises neither: a German GmbH has no CVR number to give, and EAN
  invoicing is the Danish public sector's rule; a frame without a ``country`` column is Danish;
  a company with a valid foreign ``vat_number`` owes no CVR number either;
  ``DUPLICATE`` (``cluster_size > 1``), ``REVIEW_MATCH``
  (``in_review_pair``);
- per customer (the whole cluster gets the same answer): ``NO_CONTACT`` (no record of the cluster
  has a valid phone number or e-mail address), ``BLACKLISTED`` (any record of the cluster is in
  the blacklist hits), ``DECEASED_ESTATE`` (the names stage read an estate's name on any
  record of the cluster: ``Dødsboet efter Jens Hansen`` beside his own record), ``MINOR`` (the
  dates stage found a person under 18 on any record of the cluster) and
  ``COMPANY_BANKRUPT``, ``COMPANY_DISTRESSED`` and ``COMPANY_DISSOLVED`` where a record's name
  says so (``state_by_name``: ``Hansen Byg ApS under konkurs``, ``… i likvidation``,
  ``… (ophørt)``) or the registry (or a monitor's state) did for a record's CVR number: the
  duplicate typed without the CVR number is the same bankrupt company, and an account left open
  beside the blocked one would still be invoiced —

and then ``flags`` (``list[str]``, every raised code, sorted), ``invoice_ready`` and
``collection_ready`` (no flag of :data:`datavask.cleansing.schema.BLOCKS_INVOICE` /
:data:`~datavask.cleansing.schema.BLOCKS_COLLECTION` raised).
"""

from __future__ import annotations

from typing import Final

import polars as pl

from datavask.cleansing.name_lists import names_where
from datavask.cleansing.names import STATE_CODES
from datavask.cleansing.schema import (
    BLOCKS_COLLECTION,
    BLOCKS_INVOICE,
    FLAG_PREFIX,
    REASON_CODES,
    flag,
    stage_text,
)

# The codes this module decides; every other code arrives as a flag column from an earlier stage.
DECIDED_HERE = (
    "MISSING_CVR",
    "MISSING_EAN",
    "DUPLICATE",
    "REVIEW_MATCH",
    "NO_CONTACT",
    "BLACKLISTED",
    "DECEASED_ESTATE",
    "MINOR",
)

_VERDICT_COLUMNS = ("flags", "invoice_ready", "collection_ready")


def apply_verdict(
    records: pl.DataFrame, *, blacklist_hits: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Add the flags decided here, then ``flags``, ``invoice_ready`` and ``collection_ready``.

    ``blacklist_hits`` is :func:`cleansing.blacklist.match_blacklist`'s frame (its ``record_id``
    column is what counts). Running the verdict twice gives the same result: the columns it owns
    are recomputed, not appended to.

    A company without CVR number, phone or e-mail (the columns ``STAGES["verdict"]`` reads):

    >>> frame = pl.DataFrame(
    ...     {"record_id": ["1"], "customer_type": ["company"]}
    ...     | {c: [None] for c in ("cvr", "ean", "phone_e164", "email")},
    ...     schema_overrides={c: pl.String for c in ("cvr", "ean", "phone_e164", "email")},
    ... )
    >>> apply_verdict(frame).select("flags", "invoice_ready").row(0)
    (['MISSING_CVR', 'NO_CONTACT'], False)
    """
    unknown = sorted(
        c
        for c in records.columns
        if c.startswith(FLAG_PREFIX) and c[len(FLAG_PREFIX) :] not in REASON_CODES
    )
    if unknown:
        raise ValueError(f"flag columns without a contract reason code: {unknown}")

    frame = records.drop([c for c in _VERDICT_COLUMNS if c in records.columns])
    frame = frame.with_columns(
        _text(frame, "cluster_id").fill_null(pl.col("record_id")).alias("_cluster")
    )
    hit_ids = (
        blacklist_hits.get_column("record_id").cast(pl.String).unique()
        if blacklist_hits is not None and blacklist_hits.height
        else pl.Series("record_id", [], dtype=pl.String)
    )

    customer_type = _text(frame, "customer_type")
    # A country nothing could name (null) is foreign too; a frame without the column is Danish.
    danish = (_text(frame, "country") == "DK").fill_null("country" not in frame.columns)
    frame = frame.with_columns(
        (
            danish
            & (customer_type == "company")
            & _blank(frame, "cvr")
            & _blank(frame, "vat_number")
            & ~_raised(frame, "INVALID_CVR")
        ).alias(flag("MISSING_CVR")),
        (
            danish
            & (customer_type == "public")
            & _blank(frame, "ean")
            & ~_raised(frame, "INVALID_EAN")
        ).alias(flag("MISSING_EAN")),
        (_cluster_size(frame) > 1).alias(flag("DUPLICATE")),
        _bool(frame, "in_review_pair").alias(flag("REVIEW_MATCH")),
        (~_has_contact(frame).any().over("_cluster")).alias(flag("NO_CONTACT")),
        _blacklisted(frame, hit_ids).alias(flag("BLACKLISTED")),
        *(
            _of_the_cluster(frame, _raised(frame, code)).alias(flag(code))
            for code in ("DECEASED_ESTATE", "MINOR")
        ),
        *(
            _of_the_cluster(frame, _raised(frame, code) | _named(frame, state)).alias(flag(code))
            for state, code in STATE_CODES.items()
        ),
    )

    # Built in sorted code order, so it comes out sorted without a per-row sort.
    flags = names_where(frame, {code: _raised(frame, code) for code in REASON_CODES})
    # Ready unless a blocking code is raised: read from the flag columns, not searched in lists.
    ready = {
        column: ~pl.any_horizontal(pl.lit(False), *[_raised(frame, c) for c in sorted(codes)])
        for column, codes in (
            ("invoice_ready", BLOCKS_INVOICE),
            ("collection_ready", BLOCKS_COLLECTION),
        )
    }
    frame = frame.with_columns(
        [pl.col(c).fill_null(False) for c in frame.columns if c.startswith(FLAG_PREFIX)]
    ).with_columns(flags.alias("flags"), *[expr.alias(column) for column, expr in ready.items()])
    return frame.drop("_cluster")


# A record's codes its merge settles: the customer's CVR or EAN number on another of its records
# is the one the merged customer is invoiced at.
SETTLED_BY_MERGING: Final = {"MISSING_CVR": "cvr", "MISSING_EAN": "ean"}


def as_customers(records: pl.DataFrame) -> pl.DataFrame:
    """``records`` (after :func:`apply_verdict`) with ``flags``, ``invoice_ready`` and
    ``collection_ready`` as they stand for the customer each record is merged into.

    ``Aarhus Kommune`` typed twice, once with its EAN number: the copy without it is
    ``MISSING_EAN`` as a record, but the customer is invoiced at the EAN its other record holds —
    nothing to fetch, the records to merge. Lists of customers read these (the report's and the
    worklist's), ``records.parquet`` the record's own.

    >>> frame = pl.DataFrame({"record_id": ["1", "2"], "cluster_id": ["C1", "C1"],
    ...     "ean": [None, "5798000004566"], "flags": [["DUPLICATE", "MISSING_EAN"], ["DUPLICATE"]],
    ...     "invoice_ready": [False, True], "collection_ready": [False, True]})
    >>> as_customers(frame).select("flags", "invoice_ready").rows()
    [(['DUPLICATE'], True), (['DUPLICATE'], True)]
    """
    codes = {c: v for c, v in SETTLED_BY_MERGING.items() if v in records.columns}
    if "cluster_id" not in records.columns or not codes:
        return records  # every record its own customer: nothing to settle
    # Only the records that carry such a code are looked at (a few in a hundred), and of their
    # customers only those holding the number on another record.
    base = records.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_at"),
        _customer(records).alias("_customer"),
        "flags",
        *codes.values(),
    )
    carry = pl.any_horizontal(pl.col("flags").list.contains(code) for code in codes)
    flagged = base.filter(carry)
    if flagged.height == 0:
        return records
    holding = {
        code: base.filter(pl.col(column).is_not_null())
        .select("_customer")
        .join(flagged.select("_customer"), on="_customer", how="semi")
        .to_series()
        .implode()
        for code, column in codes.items()
    }
    settled = [
        pl.when(
            pl.col("flags").list.contains(code) & pl.col("_customer").is_in(holding[code])
        ).then(pl.lit(code))
        for code in codes
    ]
    at = flagged.with_columns(pl.concat_list(settled).list.drop_nulls().alias("settled")).filter(
        pl.col("settled").list.len() > 0
    )
    if at.height == 0:
        return records
    kept = pl.col("flags").list.set_difference("settled").list.sort()
    changed = at.select("_at", kept.alias("_flags")).with_columns(
        *(
            (~pl.col("_flags").list.eval(pl.element().is_in(sorted(codes))).list.any()).alias(
                f"_{column}"
            )
            for column, codes in (
                ("invoice_ready", BLOCKS_INVOICE),
                ("collection_ready", BLOCKS_COLLECTION | BLOCKS_INVOICE),
            )
        )
    )
    # Only the three columns are joined: the records' other columns stay where they are.
    columns = ("flags", "invoice_ready", "collection_ready")
    settled_values = (
        base.select("_at", *(records.get_column(c) for c in columns))
        .join(changed, on="_at", how="left", maintain_order="left")
        .select(pl.coalesce(f"_{c}", c).alias(c) for c in columns)
    )
    return records.with_columns(settled_values)


def _customer(records: pl.DataFrame) -> pl.Expr:
    return pl.col("cluster_id").cast(pl.String).fill_null(pl.col("record_id").cast(pl.String))


def flag_counts(records: pl.DataFrame) -> dict[str, int]:
    """How many records carry each reason code, for every code of the contract (zeros included).

    Reads ``flags`` when the verdict has run, else the ``flag_<CODE>`` columns.
    """
    counts = dict.fromkeys(REASON_CODES, 0)
    if "flags" in records.columns:
        exploded = records.select(pl.col("flags").explode().drop_nulls().alias("code"))
        for code, n in exploded.group_by("code").len().iter_rows():
            counts[code] = int(n)
        return counts
    for code in REASON_CODES:
        if flag(code) in records.columns:
            counts[code] = int(records.get_column(flag(code)).fill_null(False).sum())
    return counts


def _raised(frame: pl.DataFrame, code: str) -> pl.Expr:
    """The flag column of ``code`` as a non-null boolean; a missing column means not raised."""
    return _bool(frame, flag(code))


def _bool(frame: pl.DataFrame, column: str) -> pl.Expr:
    if column not in frame.columns:
        return pl.lit(False)
    return pl.col(column).cast(pl.Boolean).fill_null(False)


def _text(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A column the verdict declares (:data:`~datavask.cleansing.schema.STAGES`), as text."""
    return stage_text(frame, "verdict", column)


def _blank(frame: pl.DataFrame, column: str) -> pl.Expr:
    """True where a text column is missing, null or only whitespace."""
    return _text(frame, column).str.strip_chars().fill_null("") == ""


def _non_empty_list(frame: pl.DataFrame, column: str) -> pl.Expr:
    if column not in frame.columns:
        return pl.lit(False)
    # list.eval over the flat values: a tenth of list.drop_nulls().list.len() at 1M records
    return pl.col(column).list.eval(pl.element().is_not_null()).list.any().fill_null(False)


def _blacklisted(frame: pl.DataFrame, hit_ids: pl.Series) -> pl.Expr:
    """True for every record of a cluster with a record among ``hit_ids``."""
    if hit_ids.len() == 0:
        return pl.lit(False)
    hit = pl.col("record_id").cast(pl.String).is_in(hit_ids.implode())
    clusters = frame.filter(hit).get_column("_cluster").unique()
    return pl.col("_cluster").is_in(clusters.implode())


def _of_the_cluster(frame: pl.DataFrame, holds: pl.Expr) -> pl.Expr:
    """True on every record of a cluster where ``holds`` (an expression over its columns) holds
    for a record; no window over a million clusters when it holds for none."""
    holds = holds.fill_null(False)
    if not frame.select(holds.any()).item():
        return pl.lit(False)
    return holds.any().over("_cluster")


def _named(frame: pl.DataFrame, state: str) -> pl.Expr:
    """True where the names stage read ``state`` in the record's name (``Hansen Byg ApS under
    konkurs`` is ``bankrupt``); a frame without ``state_by_name`` names none."""
    if "state_by_name" not in frame.columns:
        return pl.lit(False)
    return pl.col("state_by_name") == state


def _has_contact(frame: pl.DataFrame) -> pl.Expr:
    """A record with a valid phone or e-mail: the cleaned value, or any entry of its list column."""
    return (
        ~_blank(frame, "phone_e164")
        | ~_blank(frame, "email")
        | _non_empty_list(frame, "phone_numbers")
        | _non_empty_list(frame, "emails")
    )


def _cluster_size(frame: pl.DataFrame) -> pl.Expr:
    """Matching's ``cluster_size``, or the size counted from ``cluster_id`` when it is absent."""
    counted = pl.len().over("_cluster")
    if "cluster_size" not in frame.columns:
        return counted
    if frame.get_column("cluster_size").null_count() == 0:
        return pl.col("cluster_size").cast(pl.Int64)  # no window over a million clusters
    return pl.col("cluster_size").cast(pl.Int64).fill_null(counted)
