"""Clerical review of uncertain pairs: which to show first, and how to explain them to a person.

In: a run's ``pairs.parquet`` (decision ``review``) and ``records.parquet``. Out: the review queue
(:func:`review_queue`), the evidence of one pair in words (:func:`evidence_in_words`), the two
records side by side (:func:`side_by_side`) and what merging them would do (:func:`merge_preview`).
Pure: the review page (``connectors/review``) renders what these return.

**Order — most consequential first.** A wrong merge costs most where it moves invoices or joins
legal entities, so each pair gets points for what a merge would put at stake:

- 8 — it joins a company or public customer to a person (a private person would be invoiced as a
  business, or a business's invoices go to a person);
- 4 — both records are invoice-ready today (two live billing accounts become one: open invoices,
  payments and reminders move to the survivor);
- 2 — either record carries a CVR or EAN number (a legal entity or an e-invoicing address is
  at stake);
- 1 — either record already belongs to a customer of several records (the merge joins more than
  two records).

Higher points first; among equal points the pair the model is least sure of (match weight closest
to 0) first, then by record ids so the order is the same on every screen. Example: "Hansen Byg ApS"
(CVR 25313763, invoice-ready) against "Jens Hansen" (a person at the same address) scores 8 + 4 + 2
= 14 and comes before two e-mail-only leads that differ in one letter (0 points).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from datavask.cleansing.survivorship import GOLDEN_FIELDS, build_golden

CONSEQUENCES: Final = (
    (8, "joins a company to a person"),
    (4, "both records are invoice-ready"),
    (2, "a CVR or EAN number is at stake"),
    (1, "joins customers that already have several records"),
)

_SIDE_COLUMNS: Final = (
    "record_id", "cluster_id", "cluster_size", "customer_type", "cvr", "ean", "invoice_ready",
)  # fmt: skip


def _side(records: pl.DataFrame, side: str) -> pl.DataFrame:
    present = [c for c in _SIDE_COLUMNS if c in records.columns]
    return records.select(present).rename({c: f"{c}_{side}" for c in present})


def review_queue(pairs: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """The ``review`` pairs of ``pairs`` in the order a reviewer should see them.

    Out: ``record_id_l``, ``record_id_r``, ``match_probability``, ``match_weight``,
    ``consequence`` (points, see the module docstring) and ``reasons`` (list of the texts behind
    the points), most consequential first.
    """
    review = pairs.filter(pl.col("decision") == "review").select(
        pl.col("record_id_l").cast(pl.String),
        pl.col("record_id_r").cast(pl.String),
        "match_probability",
        "match_weight",
    )
    ids = records.with_columns(pl.col("record_id").cast(pl.String)).unique(
        "record_id", keep="first", maintain_order=True
    )
    joined = review.join(
        _side(ids, "l"), left_on="record_id_l", right_on="record_id_l", how="left"
    ).join(_side(ids, "r"), left_on="record_id_r", right_on="record_id_r", how="left")

    def col(name: str, side: str, default: Any = None) -> pl.Expr:
        column = f"{name}_{side}"
        return pl.col(column) if column in joined.columns else pl.lit(default)

    person = [col("customer_type", s).fill_null("") == "person" for s in "lr"]
    business = [col("customer_type", s).fill_null("").is_in(["company", "public"]) for s in "lr"]
    conditions = (
        (person[0] & business[1]) | (person[1] & business[0]),
        col("invoice_ready", "l", False).fill_null(False)
        & col("invoice_ready", "r", False).fill_null(False),
        pl.any_horizontal(col(f, s).is_not_null() for f in ("cvr", "ean") for s in "lr"),
        pl.any_horizontal(col("cluster_size", s, 1).fill_null(1) > 1 for s in "lr"),
    )
    points = pl.sum_horizontal(
        pl.when(cond).then(pl.lit(p)).otherwise(pl.lit(0))
        for cond, (p, _) in zip(conditions, CONSEQUENCES, strict=True)
    )
    reasons = pl.concat_list(
        pl.when(cond).then(pl.lit([text])).otherwise(pl.lit([], dtype=pl.List(pl.String)))
        for cond, (_, text) in zip(conditions, CONSEQUENCES, strict=True)
    )
    return (
        joined.with_columns(points.alias("consequence"), reasons.alias("reasons"))
        .with_columns(pl.col("match_weight").abs().alias("_certainty"))
        .sort(
            ["consequence", "_certainty", "record_id_l", "record_id_r"],
            descending=[True, False, False, False],
        )
        .select(
            "record_id_l",
            "record_id_r",
            "match_probability",
            "match_weight",
            "consequence",
            "reasons",
        )
    )


# --------------------------------------------------------------------------- evidence in words

_LEVEL_WORDS: Final = {
    "exact": "identical",
    "missing": "not on both records",
    "different": "different",
    "token >= 0.80": "somewhat alike",
    "shares most words": "most words shared",
    "token >= 0.92": "very alike",
    "jaro-winkler >= 0.80": "somewhat alike",
    "jaro-winkler >= 0.92": "very alike",
    "one edit": "one character apart",
    "two of year, month, day": "two of year, month and day agree, or day and month swapped",
    "initial, first given name or nickname": (
        "an initial or the first given name agrees, or one is a nickname (Bill, William)"
    ),
}
_FIELD_WORDS: Final = {
    "name": "Name",
    "first_name": "First name",
    "last_name": "Last name",
    "address": "Address",
    "street": "Street",
    "house_number": "House number",
    "postal_code": "Postal code",
    "city": "City",
    "address_line2": "Address line 2",
    "date_of_birth": "Date of birth",
    "national_id": "Personal id",
    "phone": "Phone",
    "email": "E-mail",
    "cvr": "CVR number",
    "ean": "EAN number",
}


@dataclass(frozen=True)
class Evidence:
    """One field's say on a pair: ``direction`` is ``for``, ``against`` or ``neutral``."""

    field: str
    finding: str
    strength: str
    direction: str
    factor: str


def _strength(weight: float) -> tuple[str, str, str]:
    size = abs(weight)
    if size < 1:
        return "says little either way", "neutral", ""
    word = "some" if size < 3 else ("strong" if size < 6 else "very strong")
    direction = "for" if weight > 0 else "against"
    times = 2**size
    factor = f"{times:,.0f}× {'more' if weight > 0 else 'less'} likely"
    what = "the same customer" if weight > 0 else "them being one customer"
    return f"{word} evidence {'for' if weight > 0 else 'against'} {what}", direction, factor


def evidence_in_words(explanation: dict[str, Any] | None) -> list[Evidence]:
    """The per-field explanation of a pair (``{field: {level, weight}}``) for a person.

    >>> [e.finding for e in evidence_in_words({"name": {"level": "exact", "weight": 7.5}})]
    ['identical']
    >>> evidence_in_words({"phone": {"level": "missing", "weight": 0.0}})[0].direction
    'neutral'
    """
    out = []
    for name, part in (explanation or {}).items():
        if not part:
            continue
        level, weight = str(part.get("level")), float(part.get("weight") or 0.0)
        if math.isnan(weight):
            weight = 0.0
        if level == "missing":
            strength, direction, factor = "no evidence", "neutral", ""
        else:
            strength, direction, factor = _strength(weight)
        out.append(
            Evidence(
                field=_FIELD_WORDS.get(name, name.replace("_", " ").capitalize()),
                finding=_LEVEL_WORDS.get(level, level),
                strength=strength,
                direction=direction,
                factor=factor,
            )
        )
    order = {"for": 0, "against": 1, "neutral": 2}
    return sorted(out, key=lambda e: order[e.direction])


def probability_in_words(probability: float) -> str:
    """The model's match probability as a reviewer reads it.

    >>> probability_in_words(0.9069)
    'The model puts the chance that these are one customer at 91 %.'
    """
    return (
        f"The model puts the chance that these are one customer at {probability:.0%}".replace(
            "%", " %"
        )
        + "."
    )


# --------------------------------------------------------------------------- side by side

# (label, columns joined with a space) — cleaned values as records.parquet holds them
CLEANED_ROWS: Final = (
    ("Name", ("name",)),
    ("First / last name", ("first_name", "last_name")),
    ("Type", ("customer_type",)),
    ("Legal form", ("legal_form",)),
    ("c/o", ("co_name",)),
    ("Street", ("street", "house_number")),
    ("Floor / door", ("floor", "door")),
    ("Postal code / city", ("postal_code", "city")),
    ("Country", ("country",)),
    ("Phone", ("phone_e164",)),
    ("E-mail", ("email",)),
    ("CVR", ("cvr",)),
    ("EAN", ("ean",)),
    ("Registry name", ("registry_name",)),
    ("Registry status", ("registry_status",)),
    ("Flags", ("flags",)),
    ("Customer", ("cluster_id", "cluster_size")),
)


@dataclass(frozen=True)
class SideRow:
    """One row of the side-by-side table; cleaned values differ by content, originals by any
    character (a case change is what cleaning did, not a difference between the records)."""

    label: str
    left: str
    right: str
    exact: bool = False

    @property
    def differs(self) -> bool:
        if self.exact:
            return self.left != self.right
        return self.left.casefold() != self.right.casefold()


def _text(record: dict[str, Any], columns: tuple[str, ...]) -> str:
    parts = []
    for column in columns:
        value = record.get(column)
        if value is None:
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif column == "cluster_size":
            value = f"({value} record{'s' if value != 1 else ''})"
        parts.append(str(value).strip())
    return " ".join(p for p in parts if p)


def side_by_side(
    left: dict[str, Any], right: dict[str, Any]
) -> tuple[list[SideRow], list[SideRow]]:
    """Cleaned values and the original ``src_*`` values of two records, row by row.

    Rows where neither record has a value are left out; :attr:`SideRow.differs` marks the rows to
    highlight.
    """
    cleaned = [
        SideRow(label, _text(left, columns), _text(right, columns))
        for label, columns in CLEANED_ROWS
    ]
    sources = [c for c in left if c.startswith("src_")]
    original = [
        SideRow(c.removeprefix("src_"), _text(left, (c,)), _text(right, (c,)), exact=True)
        for c in sources
    ]
    keep = [row for row in cleaned if row.left or row.right]
    return keep, [row for row in original if row.left or row.right]


# --------------------------------------------------------------------------- what a merge does

_GOLDEN_LABELS: Final = {
    "name": "Name", "legal_form": "Legal form", "street": "Street", "house_number": "House number",
    "floor": "Floor", "door": "Door", "postal_code": "Postal code", "city": "City",
    "country": "Country", "phone_e164": "Phone", "email": "E-mail", "cvr": "CVR", "ean": "EAN",
    "customer_type": "Type",
}  # fmt: skip
_RULE_WORDS: Final = {
    "registry": "from the CVR registry",
    "most_frequent": "held by most records",
    "most_recent": "from the most recently updated record",
    "most_complete": "from the most complete record",
}


@dataclass(frozen=True)
class MergePreview:
    """The customer a merge would make: survivor, members, and each golden value's origin."""

    survivor: str
    members: list[str]
    customers: list[str]
    fields: list[tuple[str, str, str, str]]  # (field, value, from record, rule in words)


def merge_previews(
    records: pl.DataFrame, queue: pl.DataFrame
) -> dict[tuple[str, str], MergePreview]:
    """What survivorship would make of each pair of ``queue``: every record of both records'
    customers (``records.parquet`` rows) as one customer. One survivorship pass for all pairs."""
    ids = records.with_columns(pl.col("record_id").cast(pl.String))
    cluster_of = ids.select("record_id", "cluster_id").unique("record_id", keep="first")
    wanted = (
        queue.select("record_id_l", "record_id_r")
        .with_row_index("_pair")
        .unpivot(index="_pair", value_name="record_id")
        .join(cluster_of, on="record_id", how="inner")
        .select("_pair", "cluster_id")
        .unique()
    )
    members = wanted.join(ids, on="cluster_id", how="inner")
    customers = wanted.group_by("_pair").agg(pl.col("cluster_id").sort())
    golden = build_golden(
        members.with_columns(pl.format("P{}", "_pair").alias("cluster_id")).drop("_pair")
    )
    keys = queue.select("record_id_l", "record_id_r").rows()
    of_pair = {int(p): [str(c) for c in cs] for p, cs in customers.iter_rows()}
    previews = {}
    for row in golden.iter_rows(named=True):
        pair = int(str(row["cluster_id"]).removeprefix("P"))
        previews[keys[pair]] = _preview(row, of_pair.get(pair, []))
    return previews


def _preview(golden: dict[str, Any], customers: list[str]) -> MergePreview:
    fields = []
    for name in GOLDEN_FIELDS:
        value = golden.get(name)
        if value is None or str(value).strip() == "":
            continue
        rule = golden.get(f"{name}_rule") or ""
        label = _GOLDEN_LABELS.get(name, name)
        fields.append(
            (
                label,
                str(value),
                str(golden.get(f"{name}_source") or ""),
                _RULE_WORDS.get(rule, rule),
            )
        )
    return MergePreview(
        survivor=str(golden["record_id"]),
        members=[str(m) for m in golden["member_ids"]],
        customers=customers,
        fields=fields,
    )
