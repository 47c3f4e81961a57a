"""The view model of a run: plain data that report.html, worklist.xlsx, the terminal summary and
the Prefect artifacts are all drawn from, so every one of them shows the same numbers.

Two units, defined once (:data:`UNITS`): a *record* is one input row; a *customer* is a cluster,
the records judged to be the same customer. Lists are of customers; each list says how many
records its customers hold. A customer belongs to a group when any of its records does:

- ``invoice``: a record with an invoice-blocking reason code (``invoice_ready`` false);
- ``collection``: invoiceable, but a record with a collection-blocking code (distressed, no
  contact); all customers that cannot go to collection are ``invoice`` ∪ ``collection``;
- ``registry``: an event in the CVR registry (bankrupt, dissolved, distressed, renamed, moved);
- ``duplicates``: more than one record;
- ``quality``: an invalid phone or e-mail, a CPR number in a field, a registry that did not answer.

:func:`build_model` takes the frames of a run directory (records, pairs, changes, merge plan) and
``run.json``; :func:`customer_counts` gives the customer numbers that ``run.json`` records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl

from datavask.cleansing.cpr import MASK
from datavask.cleansing.matching.hard_rules import REVIEW_REASONS
from datavask.cleansing.schema import (
    BLOCKS_COLLECTION,
    BLOCKS_INVOICE,
    CANONICAL_FIELDS,
    REASON_CODES,
    SRC_PREFIX,
)
from datavask.cleansing.verdict import as_customers
from datavask.connectors.cvr_document import status_class
from datavask.connectors.reimport import left_out_columns
from datavask.connectors.report_text import Text

UNITS: Final = "record = one input row; customer = one cluster of records (duplicates merged)"

GROUPS: Final = ("invoice", "collection", "registry", "duplicates", "quality")
COLLECTION_ONLY: Final = BLOCKS_COLLECTION - BLOCKS_INVOICE
QUALITY_CODES: Final = frozenset(
    {"INVALID_PHONE", "INVALID_EMAIL", "POSTAL_CITY_MISMATCH", "CPR_IN_DATA", "REGISTRY_UNCHECKED"}
)
EVENTS: Final = ("bankrupt", "dissolved", "distressed", "renamed", "moved")
_EVENT_FLAGS: Final = {
    "COMPANY_BANKRUPT": "bankrupt",
    "COMPANY_DISSOLVED": "dissolved",
    "COMPANY_DISTRESSED": "distressed",
    "ADDRESS_MISMATCH": "moved",
}
# Registry status classes as the reader sees them; ERST's "normal" reads "active".
STATUS_CLASSES: Final = (
    "active",
    "distressed",
    "bankrupt",
    "dissolved",
    "not_found",
    "unchecked",
    "no_cvr",
    "person",
)
# Codes that belong to a whole cluster: which record carries them says nothing.
_CLUSTER_CODES: Final = frozenset(
    {"DUPLICATE", "REVIEW_MATCH", "NO_CONTACT", "BLACKLISTED", "DECEASED_ESTATE", "MINOR"}
)
_ADDRESS_FIELDS: Final = ("street", "house_number", "floor", "door", "postal_code", "city")
# Codes a customer's date of birth decides (MINOR: under 18 by it): its action says to correct the
# date if it is wrong, so the date is shown beside them, and only there.
BIRTH_CODES: Final = frozenset({"MINOR"})

# The customer table's fields, in the order the page's JSON rows carry them.
CUSTOMER_FIELDS: Final = (
    "cluster_id",
    "record_ids",
    "survivor_id",
    "records",
    "name",
    "name_before",
    "address",
    "address_before",
    "phone",
    "phone_before",
    "email",
    "email_before",
    "cvr",
    "cvr_before",
    "ean",
    "ean_before",
    # ISO (``2012-05-12``), of a customer with a code of BIRTH_CODES only
    "date_of_birth",
    # the fields above whose CRM value the re-import empties of a CPR number, or takes it off
    # (:func:`_cpr_removed`): shown so, not as a value left as it is
    "cpr_emptied",
    "cpr_stripped",
    # CPR_IN_DATA's input columns by their own names and what the re-import does there
    # (:func:`_cpr_where`): ``CPR-nummeret stod i: Bemærkning (kolonnen er udeladt …).``
    "cpr_where",
    "registry_name",
    "registry_status",
    "registry_class",
    "registry_new_name",
    "registry_new_address",
    "flags",
    "events",
    "flagged",
    "merged_ids",
    "merge_score",
    "merge_plan",
)


@dataclass
class Metric:
    """One headline number: ``key`` in run.json's counts, its value, label and note."""

    key: str
    value: int | None
    label: str
    note: str


@dataclass
class Reason:
    """A reason code within a group: how many customers and records, why, and what to do."""

    code: str
    customers: int
    records: int
    text: str
    action: str
    # a registry event's why (its ``text`` is the event's name: ``konkurs``, ``nyt navn``)
    why: str = ""


@dataclass
class Group:
    """One list of customers to act on (see the module doc), in money order."""

    key: str
    title: str
    lead: str
    customers: int
    records: int
    reasons: list[Reason]
    rows: list[int]  # indices into ReportModel.customers
    # Codes a row shows beside its reasons: a customer that cannot be invoiced cannot go to
    # collection either, and is in no other list to say why (NO_CONTACT, MINOR).
    also: list[str] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        """The codes a row of this list shows: its reasons', then :attr:`also`."""
        return [reason.code for reason in self.reasons] + self.also


@dataclass
class ReportModel:
    lang: str
    text: Text
    meta: dict[str, str]
    counts: dict[str, int]
    headline: list[Metric]
    groups: list[Group]
    customers: pl.DataFrame  # CUSTOMER_FIELDS, one row per customer in any group
    review_pairs: pl.DataFrame
    review_lead: str
    changes: pl.DataFrame
    merge_plan: pl.DataFrame
    registry_skipped: bool
    registry_warning: str | None  # the registry did not cover the file (registry_uncovered)
    registry_classes: list[dict[str, Any]]
    completeness: list[tuple[str, float | None, float | None]]
    reason_codes: list[dict[str, Any]]
    about: list[tuple[str, str]]
    mapping: list[tuple[str, str]]  # (input column, the field it is read as, in words)
    timings: list[tuple[str, str]]
    versions: str
    alerts: pl.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def group(self, key: str) -> Group | None:
        return next((g for g in self.groups if g.key == key), None)


# --------------------------------------------------------------------------- numbers


def customer_counts(records: pl.DataFrame) -> dict[str, int]:
    """Customers (clusters) and records that cannot be invoiced / go to collection, as customers:
    a code their merge settles holds nothing (:func:`~datavask.cleansing.verdict.as_customers`).

    >>> frame = pl.DataFrame({"cluster_id": ["a", "a", "b", "c"],
    ...     "invoice_ready": [True, False, True, True],
    ...     "collection_ready": [True, False, False, True]})
    >>> customer_counts(frame)["customers_blocked_invoice"], customer_counts(frame)[
    ...     "customers_blocked_collection"]
    (1, 2)
    """
    blocked = as_customers(records).select(
        invoice=~pl.col("invoice_ready").fill_null(False),
        collection=~pl.col("collection_ready").fill_null(False),
        cluster_id=pl.col("cluster_id"),
    )
    return {
        "customers_blocked_invoice": int(blocked.filter("invoice")["cluster_id"].n_unique()),
        "customers_blocked_collection": int(blocked.filter("collection")["cluster_id"].n_unique()),
        "records_blocked_invoice": int(blocked["invoice"].sum()),
        "records_blocked_collection": int(blocked["collection"].sum()),
    }


def report_counts(records: pl.DataFrame, pairs: pl.DataFrame | None) -> dict[str, int]:
    """The counts run.json gains for the report: :func:`customer_counts` and pairs to review."""
    review = 0
    if pairs is not None and "decision" in pairs.columns:
        review = int((pairs["decision"] == "review").sum())
    return customer_counts(records) | {"pairs_review": review}


def headline(run: dict[str, Any], text: Text) -> list[Metric]:
    """The run's headline from run.json alone: what the page, summary and artifacts lead with."""
    counts = run.get("counts", {})
    keys = (
        "records",
        "customers",
        "customers_blocked_invoice",
        "customers_blocked_collection",
        "invoice_ready",
        "collection_ready",
        "duplicate_records",
        "clusters_with_duplicates",
    )
    metrics = []
    for key in keys:
        if key not in counts:
            continue
        if key in ("customers_blocked_invoice", "customers_blocked_collection"):
            records_key = key.replace("customers_", "records_")
            note = text("n_records", n=text.number(counts.get(records_key)))
        elif key in ("invoice_ready", "collection_ready"):
            share = text.percent(counts[key], counts.get("records"))
            note = f"{share} {text('share_of_records')}, {text(key + '_note')}"
            if settled := _settled_records(counts, key):
                # else "0 customers (0 records) cannot be invoiced" beside 98 % ready reads wrong
                note += f"; {text('settled_note', n=text.number(settled))}"
        else:
            note = text(f"{key}_note")
        label = text(key, n=text.number(counts.get(key)))  # "1 kunde kan ikke faktureres"
        metrics.append(Metric(key, counts.get(key), label, note))
    return metrics


def _settled_records(counts: dict[str, Any], ready: str) -> int:
    """Records neither ``ready`` nor counted as blocked: a MISSING_CVR or MISSING_EAN their
    customer's other record settles (:func:`customer_counts`)."""
    if ready != "invoice_ready" or not {"records", "records_blocked_invoice"} <= counts.keys():
        return 0
    return max(
        0, int(counts["records"]) - int(counts[ready]) - int(counts["records_blocked_invoice"])
    )


def registry_skipped(run: dict[str, Any]) -> bool:
    return str(run.get("options", {}).get("registry", "")).lower() == "none"


def registry_uncovered(run: dict[str, Any], text: Text) -> str | None:
    """The warning for a run whose registry knew almost none of the file's CVR numbers
    (``steps.registry.uncovered``: the bundled sample against a customer file), else None."""
    step = run.get("steps", {}).get("registry") or {}
    if not step.get("uncovered"):
        return None
    checked = int(step.get("checked", 0))
    return text(
        "registry_uncovered",
        source=str(step.get("source", "")),
        known=text.number(checked - int(step.get("not_found", 0))),
        checked=text.number(checked),
    )


# --------------------------------------------------------------------------- customers


# The record columns the model reads (besides the input columns of RECORD_INPUT_FIELDS).
RECORD_FIELDS: Final = (
    "cluster_id", "record_id", "is_survivor", "flags", "invoice_ready", "collection_ready",
    "customer_type", "name", *_ADDRESS_FIELDS, "phone_e164", "email", "cvr", "ean", "registry_name",
    "registry_status", "date_of_birth", "po_box", "vat_number",
)  # fmt: skip
RECORD_INPUT_FIELDS: Final = (
    "name", "name_2", "first_name", "last_name", "address", "address_2", "address_3",
    *_ADDRESS_FIELDS, "phone", "mobile", "email", "cvr", "ean",
)  # fmt: skip


def model_columns(
    columns: list[str], mapping: dict[str, str], masked: list[str] | None = None
) -> list[str]:
    """Of a records table's ``columns``, those :func:`build_model` reads: a run directory's
    records.parquet is read without the rest (its input columns can be thousands). ``masked``:
    the input columns in which a CPR number was masked (``input.masked_columns``), read to name
    them where the number was (:func:`_cpr_where`)."""
    wanted = set(RECORD_FIELDS)
    wanted |= {f"{SRC_PREFIX}{mapping[f]}" for f in RECORD_INPUT_FIELDS if f in mapping}
    wanted |= {f"{SRC_PREFIX}{c}" for c in masked or []}
    return [c for c in columns if c in wanted]


def _mapped(records: pl.DataFrame, mapping: dict[str, str], *fields: str) -> list[str]:
    columns = [f"{SRC_PREFIX}{mapping[f]}" for f in fields if f in mapping]
    return [c for c in columns if c in records.columns]


def _joined(columns: list[str], separator: str = " ") -> pl.Expr:
    """The non-empty values of ``columns`` joined; null when all are empty."""
    if not columns:
        return pl.lit(None, pl.String)
    parts = [pl.col(c).cast(pl.String).str.strip_chars() for c in columns]
    parts = [pl.when(p != "").then(p) for p in parts]
    return pl.concat_str(parts, separator=separator, ignore_nulls=True).replace("", None)


def _typed_where(records: pl.DataFrame, mapping: dict[str, str], field: str, code: str) -> pl.Expr:
    """A field as the CRM has it where it is what is to be fixed: a number ``code`` says is
    invalid (null once cleaned). A valid one written otherwise (``DK-12345678``) is no news."""
    if "flags" not in records.columns:
        return pl.lit(None, pl.String)
    return pl.when(pl.col("flags").list.contains(code)).then(
        _joined(_mapped(records, mapping, field))
    )


def _col(records: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in records.columns else pl.lit(None, pl.String)


def _address_after(records: pl.DataFrame) -> pl.Expr:
    street = _joined([c for c in ("street", "house_number") if c in records.columns])
    unit = _joined([c for c in ("floor", "door") if c in records.columns], ". ")
    town = _joined([c for c in ("postal_code", "city") if c in records.columns])
    return pl.concat_str([street, unit, town], separator=", ", ignore_nulls=True).replace("", None)


def _cpr_where(records: pl.DataFrame, run: dict[str, Any], text: Text) -> pl.Expr:
    """Per record: the input columns whose cell held a CPR number, by their own names, each
    with what the re-import does there: ``Bemærkning (kolonnen er udeladt af genindlæsningen:
    slet CPR-nummeret her i CRM)`` for a note datavask only passes on, ``Telefon
    (genindlæsningen fjerner det)`` for a column it writes cleaned values into. CPR_IN_DATA
    said "delete the CPR number from the field" and named no field; the note column was in no
    list, and only run.json said it was left out. The column, never the number: the cells hold
    the mask (``XXXXXX-XXXX``), and so does a header that held a number."""
    info = run.get("input", {})
    left_out, key = set(left_out_columns(info)), (info.get("mapping") or {}).get("record_id")
    phrases = []
    for column in info.get("masked_columns") or []:
        if f"{SRC_PREFIX}{column}" not in records.columns:
            continue
        how = "left_out" if column in left_out else "key" if column == key else "written"
        held = pl.col(f"{SRC_PREFIX}{column}").cast(pl.String).str.contains(MASK, literal=True)
        phrases.append(pl.when(held).then(pl.lit(text(f"cpr_where_{how}", column=column))))
    if not phrases:
        return pl.lit(None, pl.List(pl.String))
    return pl.concat_list(phrases).list.drop_nulls()


def _record_view(
    records: pl.DataFrame, mapping: dict[str, str], cpr_where: pl.Expr | None = None
) -> pl.DataFrame:
    """Per record: the values a reader compares, as in the CRM (before) and cleaned (after);
    ``cpr_where`` is :func:`_cpr_where`'s."""
    name_before = _mapped(records, mapping, "name", "name_2") or _mapped(
        records, mapping, "first_name", "last_name"
    )
    address_before = _joined(_mapped(records, mapping, "address", *_ADDRESS_FIELDS[:4]))
    second_line = _joined(_mapped(records, mapping, "address_2", "address_3"))  # ``Adresse 2``, 3
    town_before = _joined(_mapped(records, mapping, "postal_code", "city"))
    survivor = _col(records, "is_survivor").cast(pl.Boolean).fill_null(False)
    return records.select(
        cluster_id=pl.col("cluster_id").cast(pl.String),
        record_id=pl.col("record_id").cast(pl.String),
        is_survivor=survivor,
        flags=pl.col("flags").fill_null([]) if "flags" in records.columns else pl.lit([]),
        invoice_ready=_col(records, "invoice_ready").cast(pl.Boolean).fill_null(False),
        collection_ready=_col(records, "collection_ready").cast(pl.Boolean).fill_null(False),
        customer_type=_col(records, "customer_type").cast(pl.String),
        name=_col(records, "name").cast(pl.String),
        name_before=_joined(name_before),
        address=_address_after(records),
        address_before=pl.concat_str(
            [address_before, second_line, town_before], separator=", ", ignore_nulls=True
        ).replace("", None),
        phone=_col(records, "phone_e164").cast(pl.String),
        phone_before=_joined(_mapped(records, mapping, "phone", "mobile"), " / "),
        email=_col(records, "email").cast(pl.String),
        email_before=_joined(_mapped(records, mapping, "email")),
        cvr=_col(records, "cvr").cast(pl.String),
        # as typed, where it is what is to be fixed: an INVALID_CVR's number (null once cleaned);
        # a valid one written otherwise (``DK-12345678``) or a foreign VAT number is no news
        cvr_before=_typed_where(records, mapping, "cvr", "INVALID_CVR"),
        ean=_col(records, "ean").cast(pl.String),
        ean_before=_typed_where(records, mapping, "ean", "INVALID_EAN"),
        registry_name=_col(records, "registry_name").cast(pl.String),
        registry_status=_col(records, "registry_status").cast(pl.String),
        date_of_birth=_col(records, "date_of_birth").cast(pl.String),
        cpr_where=pl.lit(None, pl.List(pl.String)) if cpr_where is None else cpr_where,
    )


def _registry_proposals(changes: pl.DataFrame) -> pl.LazyFrame:
    """Per record id: the registry's current name and address where they differ (rule registry)."""
    if changes.is_empty() or "rule" not in changes.columns:
        return pl.LazyFrame(
            schema={
                "record_id": pl.String,
                "registry_new_name": pl.String,
                "registry_new_address": pl.String,
            }
        )
    proposed = (
        changes.lazy()
        .filter(pl.col("rule") == "registry")
        .select(
            pl.col("record_id").cast(pl.String), pl.col("field"), pl.col("after").cast(pl.String)
        )
    )
    order = {f: i for i, f in enumerate(("address", *_ADDRESS_FIELDS))}
    proposed = proposed.with_columns(
        _order=pl.col("field").replace_strict(order, default=99, return_dtype=pl.Int64)
    ).sort("record_id", "_order")
    town = pl.col("field").is_in(["postal_code", "city"])

    def joined(which: pl.Expr) -> pl.Expr:
        return pl.col("after").filter(which).drop_nulls().str.join(" ").replace("", None)

    return (
        proposed.group_by("record_id", maintain_order=True)
        .agg(
            registry_new_name=pl.col("after").filter(pl.col("field") == "name").first(),
            _street=joined((pl.col("field") != "name") & ~town),
            _town=joined(town),
        )
        .select(
            "record_id",
            "registry_new_name",
            registry_new_address=pl.concat_str(
                ["_street", "_town"], separator=", ", ignore_nulls=True
            ).replace("", None),
        )
    )


# The customer table's before/after fields, and the fields of changes.csv each is drawn from.
_CHANGE_FIELDS: Final = {
    "name": ("name", "name_2", "first_name", "last_name"),
    "address": ("address", "address_2", "address_3", *_ADDRESS_FIELDS),
    "phone": ("phone", "mobile"),
    "email": ("email",),
    "cvr": ("cvr",),
    "ean": ("ean",),
}


def _cpr_removed(changes: pl.DataFrame) -> pl.LazyFrame | None:
    """Per record id and field of the customer table (``_cpr_phone``, …): ``emptied`` where the
    re-import empties the CRM's cell of a masked CPR number (``0101801234`` in Telefon, rule
    ``cpr_masked`` with ``after`` empty), ``stripped`` where it takes the number off and keeps
    what was typed beside it (``1234567 XXXXXX-XXXX`` in CVR-nr goes back ``1234567``). The
    report said "not usable, left as is in the CRM" of both, and the CRM got the cell emptied.
    None when no cell held one (the common run: nothing to join)."""
    if changes.is_empty() or not {"rule", "field", "record_id"} <= set(changes.columns):
        return None
    masked = changes.lazy().filter(pl.col("rule") == "cpr_masked")
    if masked.select(pl.len()).collect().item() == 0:
        return None
    emptied = pl.col("after").cast(pl.String).fill_null("") == ""
    how = pl.when(emptied).then(pl.lit("emptied")).otherwise(pl.lit("stripped"))
    return masked.group_by(pl.col("record_id").cast(pl.String)).agg(
        # "emptied" sorts first: one of the field's cells emptied is said of the field
        how.filter(pl.col("field").is_in(list(fields))).min().alias(f"_cpr_{name}")
        for name, fields in _CHANGE_FIELDS.items()
    )


def _cpr_lists(fields: list[str], how: str) -> pl.Expr:
    """The fields whose ``_cpr_<field>`` is ``how``, as a list; null when none is."""
    listed = pl.concat_list(
        pl.when(pl.col(f"_cpr_{f}") == how).then(pl.lit(f)).otherwise(pl.lit(None, pl.String))
        for f in fields
    ).list.drop_nulls()
    return pl.when(listed.list.len() > 0).then(listed).alias(f"cpr_{how}")


def _status_classes(statuses: list[str]) -> pl.Expr:
    """The reader's registry class of a customer; ``statuses``: every registry status there is."""
    classes = {s: {"normal": "active"}.get(c, c) for s in statuses if (c := status_class(s))}
    has = pl.col("flags").list
    registry = pl.col("registry_status").replace_strict(
        classes, default=None, return_dtype=pl.String
    )
    # The monitoring state's word (a cleanse with --monitor-state and an older snapshot) or the
    # name's (``… under konkurs``), where graver than the status the run's registry gave: the
    # table said "aktiv 300" beside four bankrupt customers.
    flagged = (
        pl.when(has.contains("COMPANY_DISSOLVED"))
        .then(pl.lit("dissolved"))
        .when(has.contains("COMPANY_BANKRUPT"))
        .then(pl.lit("bankrupt"))
        .when(has.contains("COMPANY_DISTRESSED"))
        .then(pl.lit("distressed"))
    )
    rank = {"active": 0, "distressed": 1, "bankrupt": 2, "dissolved": 3}
    graver = (
        flagged.replace_strict(rank, default=None, return_dtype=pl.Int8)
        > registry.replace_strict(rank, default=None, return_dtype=pl.Int8).fill_null(-1)
    ).fill_null(False)
    return (
        pl.when(graver)
        .then(flagged)
        .when(pl.col("registry_status").is_not_null())
        .then(registry)
        .when(has.contains("CVR_NOT_FOUND"))
        .then(pl.lit("not_found"))
        .when(has.contains("REGISTRY_UNCHECKED"))
        .then(pl.lit("unchecked"))
        .when(pl.col("customer_type") == "person")
        .then(pl.lit("person"))
        .when(pl.col("cvr").is_null())
        .then(pl.lit("no_cvr"))
    )


def _customers(
    view: pl.DataFrame,
    proposals: pl.LazyFrame,
    plan: pl.DataFrame,
    cpr: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """One row per cluster: the survivor's values, the cluster's codes, groups and merge plan;
    ``cpr`` is :func:`_cpr_removed`'s, said of the record whose CRM value a field shows.

    A plan: the clusters' values and the codes their records carry (``flagged``) are two
    groupings of the records, joined, so the in-memory engine runs them side by side.
    """
    statuses = view["registry_status"].drop_nulls().unique().to_list()
    ordered = view.lazy().join(proposals, on="record_id", how="left", maintain_order="left")
    if cpr is not None:
        ordered = ordered.join(cpr, on="record_id", how="left", maintain_order="left")
    ordered = ordered.sort("is_survivor", descending=True, maintain_order=True)
    first = [
        pl.col(c).drop_nulls().first()
        for c in (
            "name",
            "name_before",
            "address",
            "address_before",
            "phone",
            "phone_before",
            "email",
            "email_before",
            "cvr",
            "cvr_before",
            "ean",
            "ean_before",
            "registry_name",
            "registry_status",
            "registry_new_name",
            "registry_new_address",
            "customer_type",
            "date_of_birth",
        )
    ]
    # of the record whose CRM value is shown (the first with one, as ``first`` takes it)
    removed = [
        pl.col(f"_cpr_{f}").filter(pl.col(f"{f}_before").is_not_null()).first()
        for f in _CHANGE_FIELDS
        if cpr is not None
    ]
    flagged = (
        view.lazy()
        .select("cluster_id", "record_id", pl.col("flags").alias("code"))
        .explode("code")
        .filter(pl.col("code").is_not_null() & ~pl.col("code").is_in(list(_CLUSTER_CODES)))
        .group_by("cluster_id", "code", maintain_order=True)
        .agg(pl.col("record_id").unique(maintain_order=True))
        .with_columns(pl.col("record_id").list.join(", "))
        .sort("cluster_id", "code")
        .group_by("cluster_id", maintain_order=True)
        .agg(flagged=pl.format("{}: {}", "code", "record_id"))
        .with_columns(pl.col("flagged").list.join("; "))
    )
    # Texts of a group are joined after the grouping, as lists: ``str.join`` inside it runs once
    # per group (0.8 s of CPU for the record ids of 800,000 customers, the list's join 0.3 s).
    customers = ordered.group_by("cluster_id", maintain_order=True).agg(
        pl.col("record_id").alias("record_ids"),
        pl.col("record_id").first().alias("survivor_id"),
        pl.len().cast(pl.Int64).alias("records"),
        pl.col("flags")
        .list.explode(keep_nulls=False, empty_as_null=False)
        .drop_nulls()
        .unique()
        .sort()
        .alias("flags"),
        (~pl.col("invoice_ready")).sum().cast(pl.Int64).alias("_blocked_invoice"),
        (~pl.col("collection_ready")).sum().cast(pl.Int64).alias("_blocked_collection"),
        *first,
        *removed,
        pl.col("cpr_where")
        .list.explode(keep_nulls=False, empty_as_null=False)
        .drop_nulls()
        .unique(maintain_order=True),
    )
    customers = customers.with_columns(pl.col("record_ids").list.join(", "))
    if cpr is None:
        nothing = pl.lit(None, pl.List(pl.String))
        customers = customers.with_columns(cpr_emptied=nothing, cpr_stripped=nothing)
    else:
        fields = list(_CHANGE_FIELDS)
        customers = customers.with_columns(
            _cpr_lists(fields, "emptied"), _cpr_lists(fields, "stripped")
        ).drop(f"_cpr_{f}" for f in fields)
    # A newer name or address the customer's kept values already carry is no event.
    customers = customers.with_columns(
        # record_ids is the survivor's id, ", " and the merged ones' (a null id is in neither)
        merged_ids=pl.col("record_ids")
        .str.slice((pl.col("survivor_id").str.len_chars() + 2).fill_null(0))
        .replace("", None),
        registry_new_name=pl.when(
            pl.col("registry_new_name").str.to_lowercase() != pl.col("name").str.to_lowercase()
        )
        .then("registry_new_name")
        .when(pl.col("name").is_null())
        .then("registry_new_name"),
        registry_new_address=pl.when(
            pl.col("registry_new_address").str.to_lowercase()
            != pl.col("address").str.to_lowercase()
        )
        .then("registry_new_address")
        .when(pl.col("address").is_null())
        .then("registry_new_address"),
    )
    customers = customers.with_columns(
        registry_class=_status_classes(statuses),
        date_of_birth=pl.when(
            pl.any_horizontal(pl.col("flags").list.contains(c) for c in sorted(BIRTH_CODES))
        ).then("date_of_birth"),
        events=pl.concat_list(
            *[
                pl.when(pl.col("flags").list.contains(code))
                .then(pl.lit([event]))
                .otherwise(pl.lit([], pl.List(pl.String)))
                for code, event in _EVENT_FLAGS.items()
            ],
            pl.when(pl.col("registry_new_name").is_not_null())
            .then(pl.lit(["renamed"]))
            .otherwise(pl.lit([], pl.List(pl.String))),
        ).list.unique(maintain_order=True),
    )
    # (the customers' order is the groups' order: the joins keep it)
    customers = customers.join(flagged, on="cluster_id", how="left", maintain_order="left").join(
        plan.lazy(), on="survivor_id", how="left", maintain_order="left"
    )
    # Only a cluster of several records needs to say which record carries which code.
    customers = customers.with_columns(
        flagged=pl.when(pl.col("records") > 1).then("flagged"),
        merge_score=pl.when(pl.col("records") > 1).then("merge_score"),
        merge_plan=pl.when(pl.col("records") > 1).then("merge_plan"),
    )
    return customers


def _group_masks(customers: pl.DataFrame) -> pl.DataFrame:
    flags = pl.col("flags").list
    invoice = pl.col("_blocked_invoice") > 0
    return customers.select(
        invoice=invoice,
        collection=~invoice & (pl.col("_blocked_collection") > 0),
        registry=pl.col("events").list.len() > 0,
        duplicates=pl.col("records") > 1,
        quality=pl.any_horizontal([flags.contains(c) for c in sorted(QUALITY_CODES)]),
    )


def _plan_by_survivor(plan: pl.DataFrame, text: Text) -> pl.DataFrame:
    schema = {"survivor_id": pl.String, "merge_score": pl.Float64, "merge_plan": pl.String}
    if plan.is_empty() or "survivor_id" not in plan.columns:
        return pl.DataFrame(schema=schema)
    actions = {a: text.crm_action(a) for a in plan["crm_action"].drop_nulls().unique().to_list()}
    return (
        plan.group_by(pl.col("survivor_id").cast(pl.String), maintain_order=True)
        .agg(
            merge_score=pl.col("score").cast(pl.Float64, strict=False).min(),
            merge_plan=pl.col("crm_action").first(),
        )
        .with_columns(
            merge_plan=pl.col("merge_plan").replace_strict(
                actions, default=None, return_dtype=pl.String
            )
        )
        .cast(schema)  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------- groups


def _reasons(
    customers: pl.DataFrame, codes: frozenset[str], text: Text, view: pl.DataFrame
) -> list[Reason]:
    """Customers and records per code among ``codes``, most customers first."""
    if customers.is_empty():
        return []
    per_customer = (
        customers.select("cluster_id", pl.col("flags").alias("code"))
        .explode("code")
        .filter(pl.col("code").is_in(sorted(codes)))
        .group_by("code")
        .agg(pl.len().alias("customers"))
    )
    clusters = customers["cluster_id"]
    per_record = (
        view.filter(pl.col("cluster_id").is_in(clusters.implode()))
        .select(pl.col("flags").alias("code"))
        .explode("code")
        .filter(pl.col("code").is_in(sorted(codes)))
        .group_by("code")
        .agg(pl.len().alias("records"))
    )
    rows = per_customer.join(per_record, on="code", how="left").sort(
        ["customers", "code"], descending=[True, False]
    )
    return [
        Reason(code, int(n), int(r or 0), text.flag_text(code), text.flag_action(code))
        for code, n, r in rows.iter_rows()
    ]


def _event_reasons(customers: pl.DataFrame, text: Text) -> list[Reason]:
    events = customers.select(pl.col("events").alias("event"), "records").explode("event")
    counted = (
        events.drop_nulls("event")
        .group_by("event")
        .agg(pl.len().alias("customers"), pl.col("records").sum())
    )
    found = {e: (int(n), int(r)) for e, n, r in counted.iter_rows()}
    reasons = []
    for event in EVENTS:
        if event in found:
            code = next((c for c, e in _EVENT_FLAGS.items() if e == event), "")
            action = text.flag_action(code) if code else text.flag_action("NAME_MISMATCH")
            why = text.flag_text(code) if code else text("event_renamed_why")
            reasons.append(Reason(event, *found[event], text(f"event_{event}"), action, why))
    return reasons


def _groups(
    customers: pl.DataFrame,
    masks: pl.DataFrame,
    view: pl.DataFrame,
    counts: dict[str, int],
    text: Text,
) -> list[Group]:
    groups = []
    number = text.number
    for key in GROUPS:
        index = masks.with_row_index("_i").filter(key)["_i"].to_list()
        members = customers[index] if index else customers.clear()
        n, records = members.height, int(members["records"].sum()) if index else 0
        if key in ("invoice", "collection"):  # the records that carry a blocking code
            records = int(members[f"_blocked_{key}"].sum()) if index else 0
        also: list[str] = []
        if key == "invoice":
            reasons = _reasons(members, BLOCKS_INVOICE, text, view)
            lead = text("section_invoice_lead", n=number(n), records=number(records))
            also = [r.code for r in _reasons(members, COLLECTION_ONLY, text, view)]
        elif key == "collection":
            reasons = _reasons(members, COLLECTION_ONLY, text, view)
            total = counts.get("customers_blocked_collection", n)
            lead = text(
                "section_collection_lead", n=number(n), records=number(records), total=number(total)
            )
        elif key == "registry":
            reasons = _event_reasons(members, text)
            lead = text("section_registry_lead", n=number(n))
        elif key == "duplicates":
            reasons = _reasons(members, frozenset({"DUPLICATE"}), text, view)
            lead = text(
                "section_duplicates_lead",
                n=number(n),
                records=number(records),
                extra=number(records - n),
            )
        else:
            reasons = _reasons(members, QUALITY_CODES, text, view)
            lead = text("section_quality_lead", n=number(n))
        groups.append(Group(key, text(f"section_{key}"), lead, n, records, reasons, index, also))
    return groups


# --------------------------------------------------------------------------- the rest


def _review_pairs(pairs: pl.DataFrame | None, view: pl.DataFrame, text: Text) -> pl.DataFrame:
    """The pairs to review with both records' names and cleaned addresses and why each is there
    (a rule that kept a likely match from merging, else the uncertain score), most probable
    first."""
    schema = {
        "record_id_l": pl.String,
        "name_l": pl.String,
        "address_l": pl.String,
        "record_id_r": pl.String,
        "name_r": pl.String,
        "address_r": pl.String,
        "match_probability": pl.Float64,
        "why": pl.String,
    }
    if pairs is None or "decision" not in pairs.columns:
        return pl.DataFrame(schema=schema)
    # a run made before ``review_rule`` names no rule: its pairs are there by their score
    rule = (
        pl.col("review_rule").cast(pl.String)
        if "review_rule" in pairs.columns
        else pl.lit(None, pl.String)
    )
    why = rule.replace_strict(
        {r: text(f"review_rule_{r}") for r in REVIEW_REASONS},
        default=rule,
        return_dtype=pl.String,
    ).fill_null(text("review_rule_score"))
    # Four decimals, as the merge plan's scores: the model's last bits are no reader's business,
    # and two engines summing in another order may differ in them.
    review = pairs.filter(pl.col("decision") == "review").select(
        pl.col("record_id_l").cast(pl.String),
        pl.col("record_id_r").cast(pl.String),
        pl.col("match_probability").cast(pl.Float64).round(4),
        why.alias("why"),
    )
    # The names of the records in a pair to review, not of every record: the unique ran over a
    # million records for a thousand pairs.
    ids = pl.concat([review["record_id_l"], review["record_id_r"]]).implode()
    names = (
        view.select("record_id", "name", "address")
        .filter(pl.col("record_id").is_in(ids))
        .unique("record_id", keep="first")
    )
    return (
        review.join(
            names.rename({"record_id": "record_id_l", "name": "name_l", "address": "address_l"}),
            on="record_id_l",
            how="left",
        )
        .join(
            names.rename({"record_id": "record_id_r", "name": "name_r", "address": "address_r"}),
            on="record_id_r",
            how="left",
        )
        .sort("match_probability", descending=True)
        .select(list(schema))
    )


def _held_by_rule(pairs: pl.DataFrame | None, high: float) -> int:
    """The pairs to review that score above the band but a rule holds (``review_rule``: two
    neighbours of one name, two branches of one CVR number …): the band does not explain them."""
    if pairs is None or "review_rule" not in pairs.columns or "decision" not in pairs.columns:
        return 0
    held = (
        (pl.col("decision") == "review")
        & pl.col("review_rule").is_not_null()
        & (pl.col("match_probability").cast(pl.Float64) > high)
    )
    return int(pairs.select(held.sum()).item() or 0)


def _review_lead(n: int, held: int, band: tuple[float, float], text: Text) -> str:
    """The review section's lead: the pairs in the band "ligner hinanden, men ikke nok", and
    those a rule holds though they score higher said apart, pointing at the why column (a lead
    that said all three pairs were between 33 % and 67 % listed them at 98,6 % and 97,2 %).
    The band in whole percent, as a reader says it: 33 % til 67 %, not 33,333 % til 66,667 %."""
    values = {
        "n": text.number(n),
        "low": text.chance(float(band[0])),
        "high": text.chance(float(band[1])),
        "why": text("x_review_why"),
    }
    if not held:
        return text("section_review_lead", **values)
    if held >= n:
        return text("section_review_lead_all_held", **values)
    return text(
        "section_review_lead_held",
        **values,
        band=text.number(n - held),
        held=text.number(held),
    )


def _registry_classes(customers_all: pl.DataFrame, text: Text) -> list[dict[str, Any]]:
    counted = (
        customers_all.group_by("registry_class")
        .agg(pl.len().alias("n"), pl.col("registry_status").drop_nulls().unique().sort())
        .to_dicts()
    )
    by_class = {row["registry_class"]: row for row in counted}
    rows = []
    for key in STATUS_CLASSES:
        if key in by_class:
            row = by_class[key]
            rows.append(
                {
                    "key": key,
                    "label": text(f"class_{key}"),
                    "customers": row["n"],
                    "raw": ", ".join(row["registry_status"]),
                }
            )
    return rows


def _mapping_rows(
    run: dict[str, Any], mapping: dict[str, str], text: Text
) -> list[tuple[str, str]]:
    """The report's mapping table: the input column and the field it is read as, in the
    reader's words (``Postnr`` → ``postnummer``, not ``postal_code``), in the canonical order
    (customer number, name, address …); a field read from three columns as ``by · bm · bd
    (år, måned, dag)``."""
    parts = dict(run.get("input", {}).get("date_parts") or {})
    rows = dict(mapping) | {
        field: f"{' · '.join(columns)} ({text('date_parts')})" for field, columns in parts.items()
    }
    order = {field: i for i, field in enumerate(CANONICAL_FIELDS)}
    fields = sorted(rows, key=lambda f: (order.get(f, len(order)), f))
    return [(rows[field], text.field(field)) for field in fields]


def _completeness(
    records: pl.DataFrame, mapping: dict[str, str], text: Text
) -> list[tuple[str, float | None, float | None]]:
    # After cleansing, a post box is an address and a foreign VAT number read from the CVR
    # column its company number: counted apart, a credit manager read moved values as lost.
    fields = (
        ("col_name", ("name",), ("name",)),
        ("col_address", ("street", "address"), ("street", "po_box")),
        ("x_cvr", ("cvr",), ("cvr", "vat_number")),
        ("x_phone", ("phone", "mobile"), ("phone_e164",)),
        ("x_email", ("email",), ("email",)),
    )
    total = records.height or 1
    wanted = {
        (key, when): columns
        for key, inputs, cleaned in fields
        for when, columns in (
            ("before", _mapped(records, mapping, *inputs)),
            ("after", [c for c in cleaned if c in records.columns]),
        )
        if columns
    }
    counts: dict[str, Any] = {}
    if wanted:  # every count in one pass over the records
        filled_any = (
            pl.any_horizontal(
                [pl.col(c).cast(pl.String).str.strip_chars().fill_null("") != "" for c in columns]
            )
            .sum()
            .alias(f"{key} {when}")
            for (key, when), columns in wanted.items()
        )
        counts = records.select(filled_any).row(0, named=True)

    def filled(key: str, when: str) -> float | None:
        n = counts.get(f"{key} {when}")
        return None if n is None else 100.0 * int(n) / total

    rows = []
    for key, _, _ in fields:
        before, after = filled(key, "before"), filled(key, "after")
        if before is not None or after is not None:
            rows.append((text(key).split(" (")[0], before, after))
    return rows


def _reason_codes(run: dict[str, Any], text: Text) -> list[dict[str, Any]]:
    flags = run.get("flags", {})
    rows = []
    for code in REASON_CODES:
        blocks = [
            text(k)
            for k, s in (
                ("blocks_invoice", BLOCKS_INVOICE),
                ("blocks_collection", BLOCKS_COLLECTION),
            )
            if code in s
        ]
        rows.append(
            {
                "code": code,
                "records": int(flags.get(code, 0)),
                "blocks": ", ".join(blocks) or text("blocks_nothing"),
                "text": text.flag_text(code),
                "action": text.flag_action(code),
            }
        )
    return sorted(rows, key=lambda r: (-r["records"], r["code"]))


def review_band_used(run: dict[str, Any]) -> tuple[float, float] | None:
    """The band the run's decision used: derived from the model or given (``--review-band``)."""
    used = (run.get("steps", {}).get("match") or {}).get("review_band")
    if used:
        return float(used["low"]), float(used["high"])
    given = run.get("options", {}).get("review_band")  # runs from before the derived band
    return (float(given[0]), float(given[1])) if given else None


def _evaluation_text(run: dict[str, Any], text: Text) -> str:
    """One line on how the run did against the truth column a mapping names, or ''."""
    evaluation = (run.get("steps", {}).get("match") or {}).get("evaluation")
    if not evaluation:
        return ""
    clusters = evaluation["clusters"]
    return text(
        "evaluation_text",
        recall=text.percent(evaluation["blocking_recall"], 1.0, 2),
        pairs=text.number(evaluation["true_pairs"]),
        per_record=text.number(evaluation["pairs_per_record"], 1),
        precision=text.number(clusters["precision"], 4),
        found=text.number(clusters["recall"], 4),
        f1=text.number(clusters["f1"], 4),
    )


def repeated_ids_text(run: dict[str, Any], text: Text) -> str:
    """What the report and the summary say of customer numbers several rows share (empty when
    none is): the rows, left out of customers_update.csv, for the CRM to give numbers of their
    own."""
    info = run.get("input", {})
    if not info.get("rows_with_repeated_id"):
        return ""
    rows = ", ".join(str(r) for r in info.get("repeated_id_rows") or [])
    if int(info["rows_with_repeated_id"]) > len(info.get("repeated_id_rows") or []):
        rows += ", …"
    return text("sum_repeated_ids_note", ids=text.number(info.get("ids_repeated", 0)), rows=rows)


def _registry_source(source: str, text: Text) -> str:
    """``--registry`` as given, but its ``none`` in words: no CVR lookups at all."""
    return text("registry_none") if source.lower() == "none" else source


def cpr_columns_text(run: dict[str, Any], text: Text) -> str:
    """What the report and the summary say of the columns customers_update.csv leaves out
    because a CPR number was masked in them (empty when none is): which, and why. Before, only
    run.json (``input.masked_columns``) said a whole ``Bemærkning`` column was gone."""
    columns = left_out_columns(run.get("input", {}))
    return text("sum_cpr_columns_note", columns=", ".join(columns)) if columns else ""


def _about(run: dict[str, Any], text: Text) -> list[tuple[str, str]]:
    info, options = run.get("input", {}), run.get("options", {})
    band = review_band_used(run) or ()
    derived = ((run.get("steps", {}).get("match") or {}).get("review_band") or {}).get("source")
    band_text = " – ".join(text.probability(b) for b in band)
    if band_text and derived == "model":
        band_text += f" ({text('review_band_derived')})"
    how = " ".join(str(v) for v in (info.get("format"), info.get("encoding")) if v)
    rows = [
        (text("input_file"), str(info.get("path", ""))),
        (text("format"), how),
        ("sha256", str(info.get("sha256", ""))),
        (text("registry"), _registry_source(str(options.get("registry", "")), text)),
        (text("review_band"), band_text),
        (text("evaluation"), _evaluation_text(run, text)),
        (text("sum_repeated_ids"), repeated_ids_text(run, text)),
        (text("sum_cpr_columns"), cpr_columns_text(run, text)),
        (text("orchestration"), text.orchestration(str(run.get("orchestration", "")))),
        (text("started"), f"{text.time(run.get('started_at'))} ({text('copenhagen_time')})"),
        (text("finished"), f"{text.time(run.get('finished_at'))} ({text('copenhagen_time')})"),
    ]
    return [(k, v) for k, v in rows if v]


def build_model(
    run: dict[str, Any],
    records: pl.DataFrame,
    *,
    pairs: pl.DataFrame | None = None,
    changes: pl.DataFrame | None = None,
    merge_plan: pl.DataFrame | None = None,
    alerts: pl.DataFrame | None = None,
    lang: str = "da",
) -> ReportModel:
    """The view model of a run (see the module doc); ``alerts`` is a monitor's alerts frame."""
    registry = run.get("steps", {}).get("registry") or {}
    text = Text(lang, registry_uncovered=bool(registry.get("uncovered")))
    mapping = dict(run.get("input", {}).get("mapping") or {})
    changes = changes if changes is not None else pl.DataFrame()
    merge_plan = merge_plan if merge_plan is not None else pl.DataFrame()
    # The lists are of customers: a code the merge settles (the EAN on the customer's other
    # record) is no reason to hold its invoices.
    view = _record_view(as_customers(records), mapping, _cpr_where(records, run, text))
    # The in-memory engine runs the two sides of a join side by side, as the eager frames had;
    # the streaming one spent a quarter more CPU on these groupings (1M records, 2 cores).
    all_customers = _customers(
        view,
        _registry_proposals(changes),
        _plan_by_survivor(merge_plan, text),
        _cpr_removed(changes),
    ).collect(engine="in-memory")
    counts = dict(run.get("counts", {}))
    for key, value in customer_counts(view).items():
        counts.setdefault(key, value)
    masks = _group_masks(all_customers)
    keep = masks.select(pl.any_horizontal(pl.all())).to_series()
    customers, masks = all_customers.filter(keep), masks.filter(keep)
    where = text("cpr_where", columns="\0").split("\0")  # its text around the columns
    customers = customers.with_columns(
        cpr_where=pl.when(pl.col("cpr_where").list.len() > 0).then(
            pl.concat_str(pl.lit(where[0]), pl.col("cpr_where").list.join(", "), pl.lit(where[1]))
        )
    )
    groups = _groups(customers, masks, view, counts, text)
    review = _review_pairs(pairs, view, text)
    band = review_band_used(run) or (0.5, 0.95)
    run_with_counts = dict(run, counts=counts)
    source = Path(str(run.get("input", {}).get("path", "input"))).name
    return ReportModel(
        lang=lang,
        text=text,
        meta={
            "source": source,
            "run_id": str(run.get("run_id", "")),
            "started": text.time(run.get("started_at")),
            "version": str(run.get("datavask_version", "")),
            "run_dir": str(run.get("options", {}).get("out", "RUN_DIR")),
        },
        counts=counts,
        headline=headline(run_with_counts, text),
        groups=groups,
        customers=customers.select(CUSTOMER_FIELDS),
        review_pairs=review,
        review_lead=_review_lead(review.height, _held_by_rule(pairs, band[1]), band, text),
        changes=changes,
        merge_plan=merge_plan,
        registry_skipped=registry_skipped(run),
        registry_warning=registry_uncovered(run, text),
        registry_classes=_registry_classes(all_customers, text),
        completeness=_completeness(records, mapping, text),
        reason_codes=_reason_codes(run, text),
        about=_about(run, text),
        mapping=_mapping_rows(run, mapping, text),
        timings=[
            (text.step(str(step)), text("seconds", n=text.number(float(s), 2)))
            for step, s in run.get("timings", {}).items()
        ],
        versions=", ".join(f"{k} {v}" for k, v in run.get("versions", {}).items()),
        alerts=alerts,
        extra={"decisions": run.get("steps", {}).get("match", {}).get("decisions") or None},
    )
