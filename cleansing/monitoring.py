"""Credit monitoring: what changed in the registry since the last look, as alerts.

In: the facts observed now (one row per CVR: ``cvr``, ``found``, ``lookup_failed`` and the
registry facts of ``FACTS_COLUMNS`` — see ``connectors.cvr_document.FACTS_SCHEMA``), the state
kept from the previous run (:data:`STATE_SCHEMA`, or None on the first run) and the customers
(``cvr``, ``record_ids``, ``customer_name``).
Out: the alerts (:data:`ALERT_SCHEMA`) and the next state. Pure polars: no I/O.

The rules, per CVR number:

- a look-up that got no answer (``lookup_failed``) changes nothing and never alerts;
- "not found" alerts ``CVR_NOT_FOUND`` the second time in a row it is seen, once;
- a company seen for the first time (the first run, or a new customer) alerts only when it is
  already in distress: ``BANKRUPT``, ``DISSOLVED``, ``DISTRESSED`` (``MERGED`` when it ceased in
  a merger);
- otherwise each fact known on both sides is compared: status (``BANKRUPT``, ``DISSOLVED``,
  ``DISTRESSED`` when it got worse into that class, ``STATUS_CHANGED`` for any other change of
  status or credit status), ``NAME_CHANGED``, ``ADDRESS_CHANGED`` (by ``adresseId`` when both
  have one), ``OWNER_CHANGED``, ``MANAGEMENT_CHANGED`` and ``MERGED`` (``after`` is the
  successor CVR). A merger replaces the DISSOLVED/STATUS_CHANGED alert of the same company.

Example: Hansen Byg ApS seen ``NORMAL`` in March and ``UNDER KONKURS`` in April gives one row
``alert = BANKRUPT, before = NORMAL, after = UNDER KONKURS, registry_changed_at = 2026-04-02``.
"""

from __future__ import annotations

import hashlib
from typing import Final

import polars as pl

ALERT_TYPES: Final = (
    "BANKRUPT",
    "DISSOLVED",
    "DISTRESSED",
    "MERGED",
    "CVR_NOT_FOUND",
    "STATUS_CHANGED",
    "OWNER_CHANGED",
    "MANAGEMENT_CHANGED",
    "NAME_CHANGED",
    "ADDRESS_CHANGED",
)
#: Alerts that mean a customer can no longer be invoiced or sent to collection as it is.
BLOCKING_ALERTS: Final = frozenset({"BANKRUPT", "DISSOLVED", "MERGED", "CVR_NOT_FOUND"})

FACTS_COLUMNS: Final = (
    "status",
    "status_class",
    "status_since",
    "credit_status",
    "name",
    "name_since",
    "address",
    "address_id",
    "address_since",
    "legal_form",
    "industry_code",
    "industry",
    "owners",
    "owners_since",
    "management",
    "management_since",
    "merged_into",
    "merged_since",
    "end_date",
    "updated_at",
)

STATE_SCHEMA: Final[dict[str, pl.DataType]] = {
    "cvr": pl.String(),
    "found": pl.Boolean(),
    "missing": pl.Int32(),
    **{name: pl.String() for name in FACTS_COLUMNS},
    "first_seen": pl.String(),
    "checked_at": pl.String(),
}

ALERT_SCHEMA: Final[dict[str, pl.DataType]] = {
    "alert_id": pl.String(),
    "cvr": pl.String(),
    "record_ids": pl.String(),
    "name": pl.String(),
    "alert": pl.String(),
    "before": pl.String(),
    "after": pl.String(),
    "registry_changed_at": pl.String(),
    "detected_at": pl.String(),
}

_SEVERITY: Final = {"normal": 0, "distressed": 1, "bankrupt": 2, "dissolved": 3}
_CLASS_ALERT: Final = {"bankrupt": "BANKRUPT", "dissolved": "DISSOLVED", "distressed": "DISTRESSED"}
_NEW: Final = "_new"  # suffix of this run's facts in the comparison frame
_OLD: Final = "_old"  # suffix of the kept facts


def empty_state() -> pl.DataFrame:
    return pl.DataFrame(schema=STATE_SCHEMA)


def empty_alerts() -> pl.DataFrame:
    return pl.DataFrame(schema=ALERT_SCHEMA)


def compare(
    observed: pl.DataFrame,
    previous: pl.DataFrame | None,
    customers: pl.DataFrame,
    *,
    detected_at: str,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(alerts, next_state)`` for this run; see the module docstring for the rules.

    ``previous`` None is the first run. CVR numbers in ``previous`` that were not looked up this
    time keep their state unchanged.
    """
    kept = empty_state() if previous is None else previous.select(list(STATE_SCHEMA))
    joined = _join(observed, kept)
    alerts = pl.concat(
        [
            _first_sight(joined),
            _not_found(joined),
            *_changes(joined),
        ],
        how="vertical",
    )
    alerts = _finish(alerts, customers, detected_at)
    return alerts, _next_state(joined, kept, detected_at)


def _join(observed: pl.DataFrame, kept: pl.DataFrame) -> pl.DataFrame:
    """This run's facts beside the kept ones (``name_new`` / ``name_old``…), one row per CVR."""
    new = observed.select(
        "cvr",
        "found",
        "lookup_failed",
        *[pl.col(c).cast(pl.String).alias(c + _NEW) for c in FACTS_COLUMNS],
    )
    old = kept.select(
        "cvr",
        pl.lit(True).alias("seen_before"),
        pl.col("found").alias("found" + _OLD),
        pl.col("missing").alias("missing" + _OLD),
        pl.col("first_seen"),
        *[pl.col(c).alias(c + _OLD) for c in FACTS_COLUMNS],
    )
    joined = new.join(old, on="cvr", how="left", maintain_order="left")
    return joined.with_columns(
        pl.col("seen_before").fill_null(False),
        # Facts known before: the company was found at least once.
        pl.col("status_class" + _OLD).is_not_null().alias("known_before"),
        pl.col("missing" + _OLD).fill_null(0),
    )


def _alert(
    frame: pl.DataFrame,
    condition: pl.Expr,
    alert: str | pl.Expr,
    *,
    before: pl.Expr,
    after: pl.Expr,
    changed_at: pl.Expr,
) -> pl.DataFrame:
    return frame.filter(condition).select(
        "cvr",
        (pl.lit(alert) if isinstance(alert, str) else alert).alias("alert"),
        before.cast(pl.String).alias("before"),
        after.cast(pl.String).alias("after"),
        changed_at.cast(pl.String).alias("registry_changed_at"),
        pl.coalesce(pl.col("name" + _NEW), pl.col("name" + _OLD)).alias("registry_name"),
    )


def _status_label(suffix: str) -> pl.Expr:
    """``UNDER KONKURS`` or ``NORMAL, kreditstatus: Konkurs``."""
    credit = pl.col("credit_status" + suffix)
    return (
        pl.when(credit.is_not_null())
        .then(
            pl.concat_str(
                pl.col("status" + suffix),
                pl.lit("kreditstatus: ") + credit,
                separator=", ",
                ignore_nulls=True,
            )
        )
        .otherwise(pl.col("status" + suffix))
    )


def _severity(suffix: str) -> pl.Expr:
    return pl.col("status_class" + suffix).replace_strict(_SEVERITY, default=0)


def _merged_now() -> pl.Expr:
    new, old = pl.col("merged_into" + _NEW), pl.col("merged_into" + _OLD)
    return new.is_not_null() & (old.is_null() | (old != new))


def _first_sight(joined: pl.DataFrame) -> pl.DataFrame:
    """Companies seen for the first time: alerts only for those already in distress."""
    first = pl.col("found") & ~pl.col("known_before")
    cls = pl.col("status_class" + _NEW)
    merged = pl.col("merged_into" + _NEW).is_not_null() & (cls == "dissolved")
    distress = _alert(
        joined,
        first & cls.is_in(list(_CLASS_ALERT)) & ~merged,
        cls.replace_strict(_CLASS_ALERT, default=None),
        before=pl.lit(None),
        after=_status_label(_NEW),
        changed_at=pl.col("status_since" + _NEW),
    )
    merger = _alert(
        joined,
        first & merged,
        "MERGED",
        before=pl.lit(None),
        after=pl.col("merged_into" + _NEW),
        changed_at=pl.col("merged_since" + _NEW),
    )
    return pl.concat([distress, merger])


def _not_found(joined: pl.DataFrame) -> pl.DataFrame:
    """The second "not found" in a row alerts; the first may be the registry catching up."""
    absent = ~pl.col("found") & ~pl.col("lookup_failed")
    return _alert(
        joined,
        absent & (pl.col("missing" + _OLD) + 1 == 2),
        "CVR_NOT_FOUND",
        before=pl.col("name" + _OLD),
        after=pl.lit(None),
        changed_at=pl.lit(None),
    )


def _changes(joined: pl.DataFrame) -> list[pl.DataFrame]:
    """Alerts from comparing the facts of companies found now and known before."""
    both = pl.col("found") & pl.col("known_before")

    def differs(column: str) -> pl.Expr:
        new, old = pl.col(column + _NEW), pl.col(column + _OLD)
        return new.is_not_null() & old.is_not_null() & (new != old)

    def fact(alert: str, column: str, condition: pl.Expr | None = None) -> pl.DataFrame:
        return _alert(
            joined,
            both & ~_stale(column) & (differs(column) if condition is None else condition),
            alert,
            before=pl.col(column + _OLD),
            after=pl.col(column + _NEW),
            changed_at=pl.col(column + "_since" + _NEW),
        )

    return [
        _status_changes(joined, both),
        _alert(
            joined,
            both & _merged_now(),
            "MERGED",
            before=pl.col("name" + _OLD),
            after=pl.col("merged_into" + _NEW),
            changed_at=pl.col("merged_since" + _NEW),
        ),
        fact("NAME_CHANGED", "name"),
        fact("ADDRESS_CHANGED", "address", _address_differs()),
        fact("OWNER_CHANGED", "owners"),
        fact("MANAGEMENT_CHANGED", "management"),
    ]


def _address_differs() -> pl.Expr:
    """By ``adresseId`` when both sides have one, else by the address text (spacing, case)."""
    ids = pl.col("address_id" + _NEW).is_not_null() & pl.col("address_id" + _OLD).is_not_null()

    def text(suffix: str) -> pl.Expr:
        return pl.col("address" + suffix).str.replace_all(r"\s+", " ").str.to_lowercase()

    by_text = text(_NEW).is_not_null() & text(_OLD).is_not_null() & (text(_NEW) != text(_OLD))
    by_id = pl.col("address_id" + _NEW) != pl.col("address_id" + _OLD)
    return pl.when(ids).then(by_id).otherwise(by_text)


def _status_changes(joined: pl.DataFrame, both: pl.Expr) -> pl.DataFrame:
    cls_new, cls_old = pl.col("status_class" + _NEW), pl.col("status_class" + _OLD)
    worse = _severity(_NEW) > _severity(_OLD)
    label_new, label_old = _status_label(_NEW), _status_label(_OLD)
    changed = (cls_new != cls_old) | (
        label_new.str.to_lowercase().fill_null("") != label_old.str.to_lowercase().fill_null("")
    )
    alert = (
        pl.when(worse & cls_new.is_in(list(_CLASS_ALERT)))
        .then(cls_new.replace_strict(_CLASS_ALERT, default=None))
        .otherwise(pl.lit("STATUS_CHANGED"))
    )
    return _alert(
        joined,
        # a document that says nothing of the state (class null), or older news, changes nothing
        both
        & cls_old.is_not_null()
        & cls_new.is_not_null()
        & ~_stale("status_class")
        & changed
        & ~_merged_now(),
        alert,
        before=label_old,
        after=label_new,
        changed_at=pl.col("status_since" + _NEW),
    )


def alert_id(cvr: str, alert: str, after: str | None, changed_at: str | None) -> str:
    """A stable id receivers can de-duplicate by: the same change gives the same id on every run.

    >>> alert_id("21265837", "BANKRUPT", "UNDER KONKURS", "2026-03-03")
    '18a6533abee7093af6a0'
    """
    key = "\x1f".join((cvr, alert, after or "", changed_at or ""))
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def _finish(alerts: pl.DataFrame, customers: pl.DataFrame, detected_at: str) -> pl.DataFrame:
    """Customers' record ids and names, the stable id, contract columns, in a useful order."""
    people = customers.select("cvr", "record_ids", "customer_name").unique("cvr", keep="first")
    order = {name: rank for rank, name in enumerate(ALERT_TYPES)}
    with_ids = alerts.join(people, on="cvr", how="left").with_columns(
        pl.coalesce("registry_name", "customer_name").alias("name"),
        pl.lit(detected_at).alias("detected_at"),
        pl.struct("cvr", "alert", "after", "registry_changed_at")
        .map_elements(
            lambda row: alert_id(
                row["cvr"], row["alert"], row["after"], row["registry_changed_at"]
            ),
            return_dtype=pl.String,
        )
        .alias("alert_id"),
        pl.col("alert").replace_strict(order, default=len(order)).alias("_order"),
    )
    return (
        with_ids.sort("_order", "cvr")
        .select([pl.col(name).cast(dtype) for name, dtype in ALERT_SCHEMA.items()])
        .unique("alert_id", keep="first", maintain_order=True)
    )


# Facts that go together, each group taken from the document that says its first column: a
# document without a status (or address, owners, management) keeps the kept ones. Unknown is
# never a change, and a trimmed document must not make the state forget a bankruptcy.
_FACT_GROUPS: Final = (
    ("status_class", ("status", "status_class", "status_since", "credit_status")),
    ("name", ("name", "name_since")),
    ("address", ("address", "address_id", "address_since")),
    ("legal_form", ("legal_form",)),
    ("industry_code", ("industry_code", "industry")),
    ("owners", ("owners", "owners_since")),
    ("management", ("management", "management_since")),
)
# The date each dated group holds since. A document whose group is dated before the kept one is
# older news (a stale snapshot synced after a newer one), not a change: yesterday's "Normal since
# 2015" after today's "under konkurs since 2026-12-05" un-bankrupted the customer and, with
# today's snapshot back, alerted the bankruptcy again.
_SINCE: Final = {
    "status_class": "status_since",
    "name": "name_since",
    "address": "address_since",
    "owners": "owners_since",
    "management": "management_since",
}


def _stale(first: str) -> pl.Expr:
    """The group of ``first`` (:data:`_FACT_GROUPS`) is dated before the kept one."""
    if first not in _SINCE:
        return pl.lit(False)
    new, old = pl.col(_SINCE[first] + _NEW), pl.col(_SINCE[first] + _OLD)
    return (new < old).fill_null(False)


def _next_state(joined: pl.DataFrame, kept: pl.DataFrame, checked_at: str) -> pl.DataFrame:
    """Found: this run's facts (a group the document says nothing of: the kept ones, see
    :data:`_FACT_GROUPS`). Not found: the kept facts, one more miss. Failed: unchanged."""
    answered = joined.filter(~pl.col("lookup_failed"))
    found = pl.col("found")
    said = {
        column: pl.col(first + _NEW).is_not_null() & ~_stale(first)
        for first, columns in _FACT_GROUPS
        for column in columns
    }
    rows = answered.select(
        "cvr",
        "found",
        pl.when(found).then(0).otherwise(pl.col("missing" + _OLD) + 1).cast(pl.Int32)
        .alias("missing"),
        *[
            pl.when(found & said.get(c, pl.lit(True)))
            .then(pl.col(c + _NEW))
            .otherwise(pl.col(c + _OLD))
            .alias(c)
            for c in FACTS_COLUMNS
        ],
        pl.col("first_seen").fill_null(checked_at),
        pl.lit(checked_at).alias("checked_at"),
    )  # fmt: skip
    untouched = kept.join(rows.select("cvr"), on="cvr", how="anti")
    state = pl.concat([untouched, rows.select(list(STATE_SCHEMA)).cast(dict(STATE_SCHEMA.items()))])
    return state.sort("cvr")


def blocking(alerts: pl.DataFrame) -> pl.DataFrame:
    """The alerts that stop invoicing or collection (:data:`BLOCKING_ALERTS`)."""
    return alerts.filter(pl.col("alert").is_in(list(BLOCKING_ALERTS)))


# The monitoring state's word on a company, as the cleanse verdict's registry flags.
_STATE_FLAGS: Final = {
    "COMPANY_BANKRUPT": pl.col("status_class") == "bankrupt",
    "COMPANY_DISSOLVED": pl.col("status_class") == "dissolved",
    "COMPANY_DISTRESSED": pl.col("status_class") == "distressed",
    "CVR_NOT_FOUND": pl.col("missing") >= 2,
}


def customer_cvr(columns: list[str]) -> pl.Expr:
    """The CVR number of a record's customer: its own, else (a frame with ``cluster_id``) the one
    CVR number of its cluster. ``Kvist Køleteknik ApS`` typed twice, once with ``56136797``, is
    one customer: the record without the number is that company's too. A cluster of two CVR
    numbers (matched before the rule that keeps them apart) lends neither."""
    if "cluster_id" not in columns:
        return pl.col("cvr")
    cluster = pl.col("cvr").drop_nulls()
    lent = pl.when(cluster.n_unique().over("cluster_id") == 1).then(
        cluster.first().over("cluster_id")
    )
    return pl.col("cvr").fill_null(lent)


def apply_monitor_state(
    records: pl.DataFrame, state: pl.DataFrame, alerts: pl.DataFrame, *, since: str
) -> pl.DataFrame:
    """What monitoring knows, in a cleanse: flags from the kept state, recent alerts per record.

    In: records with ``cvr`` (and ``cluster_id`` once matched); the monitoring state
    (:data:`STATE_SCHEMA`) and its alert history (:data:`ALERT_SCHEMA`); ``since`` (ISO date)
    bounds "recent". Out: the records with the registry flags of :data:`_STATE_FLAGS` raised where
    the state says so of the record's customer (:func:`customer_cvr`; never lowered: the
    cleanse's own registry look-up may know more), and ``monitor_alerts`` (``list[str]``, e.g.
    ``BANKRUPT 2026-03-03``) of the customer's alerts detected since ``since``.
    """
    facts = state.select(
        "cvr",
        *[
            condition.fill_null(False).alias(f"_m_{code}")
            for code, condition in _STATE_FLAGS.items()
        ],
    )
    recent = (
        alerts.filter(pl.col("detected_at") >= since)
        .sort("detected_at")
        .group_by("cvr", maintain_order=True)
        .agg(
            pl.concat_str("alert", pl.col("registry_changed_at").fill_null(""), separator=" ")
            .str.strip_chars()
            .alias("monitor_alerts")
        )
    )
    keyed = records.with_columns(customer_cvr(records.columns).alias("_customer_cvr"))
    joined = keyed.join(
        facts, left_on="_customer_cvr", right_on="cvr", how="left", maintain_order="left"
    ).join(recent, left_on="_customer_cvr", right_on="cvr", how="left", maintain_order="left")
    flags = []
    for code in _STATE_FLAGS:
        column, mark = f"flag_{code}", pl.col(f"_m_{code}").fill_null(False)
        flags.append((pl.col(column) | mark if column in records.columns else mark).alias(column))
    return joined.with_columns(
        *flags, pl.col("monitor_alerts").fill_null(pl.lit([], dtype=pl.List(pl.String)))
    ).drop("_customer_cvr", *[f"_m_{code}" for code in _STATE_FLAGS])
