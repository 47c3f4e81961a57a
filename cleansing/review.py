"""Clerical review of uncertain pairs: which to show first, and how to explain them to a person.

In: a run's ``pairs.parquet`` (decision ``review``) and ``records.parquet``. Out: the review queue
(:func:`review_queue`), the evidence of one pair field by field with both records' values
(:func:`evidence`), the two records side by side (:func:`side_by_side`) and what merging them would
do (:func:`merge_previews`). Pure and in no language: the review page (``connectors/review``) words
what these return in the reviewer's language.

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
    (8, "company_person"),
    (4, "both_invoice_ready"),
    (2, "cvr_or_ean"),
    (1, "several_records"),
)
"""Points and the key of what they are for (the page words the keys in its language)."""

_SIDE_COLUMNS: Final = (
    "record_id", "cluster_id", "cluster_size", "customer_type", "cvr", "ean", "invoice_ready",
)  # fmt: skip


def _side(records: pl.DataFrame, side: str) -> pl.DataFrame:
    present = [c for c in _SIDE_COLUMNS if c in records.columns]
    return records.select(present).rename({c: f"{c}_{side}" for c in present})


def review_queue(pairs: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """The ``review`` pairs of ``pairs`` in the order a reviewer should see them.

    Out: ``record_id_l``, ``record_id_r``, ``match_probability``, ``match_weight``,
    ``consequence`` (points, see the module docstring) and ``reasons`` (list of the keys of
    :data:`CONSEQUENCES` behind the points: ``["company_person", "cvr_or_ean"]``), most
    consequential first.
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


# --------------------------------------------------------------------------- evidence

# The record columns a comparison's values are read from, as the reviewer should see them (a
# comparison of a list column shows every value: ``phone`` compares all of ``phone_numbers``).
EVIDENCE_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "contact": ("first_name", "last_name"),
    "phone": ("phone_numbers",),
    "email": ("emails",),
    "address": ("street", "house_number", "floor", "door", "postal_code", "city"),
}
# Address parts told apart when an address agrees only in part: ``same street`` with other house
# numbers (``vestergade 12`` / ``vestergade 14``) is evidence for one customer on balance, so the
# level alone would hide what a reviewer must see, the other number.
ADDRESS_PARTS: Final = (
    ("street", ("street",)),
    ("house_number", ("house_number",)),
    ("unit", ("floor", "door")),
    ("postal_code", ("postal_code",)),
)
_PARTIAL_ADDRESS: Final = frozenset(
    {"same postal code", "same street", "same street and number", "same building, other unit",
     "same building"}
)  # fmt: skip


DIRECTIONS: Final = ("for", "against", "neutral")


@dataclass(frozen=True)
class Evidence:
    """One compared field's say on a pair, in no language (the page words it).

    ``field`` and ``level`` as ``pairs.parquet``'s explanation names them (``address``,
    ``same street``), ``weight`` in bits (0 when missing), ``direction`` ``for`` (weight above 0),
    ``against`` (below 0) or ``neutral`` (missing on a side, or no weight); ``left`` and ``right``
    the two records' values of the field; ``differs``: for an address that agrees in part, the
    parts that differ with both values (``[("house_number", "12", "14")]``).
    """

    field: str
    level: str
    weight: float
    direction: str
    left: str = ""
    right: str = ""
    differs: tuple[tuple[str, str, str], ...] = ()


def _values(record: dict[str, Any], field: str) -> str:
    columns = EVIDENCE_COLUMNS.get(field) or next(
        ((c,) for c in (field, f"evidence_{field}") if c in record), ()
    )
    if field == "address":
        street = _text(record, ("street", "house_number"))
        unit = _text(record, ("floor", "door"))
        town = _text(record, ("postal_code", "city"))
        return ", ".join(p for p in (street, unit, town) if p)
    if field in ("phone", "email") and not _text(record, columns):
        columns = ("phone_e164",) if field == "phone" else ("email",)
    return _text(record, columns)


def _address_differs(
    level: str, left: dict[str, Any], right: dict[str, Any]
) -> tuple[tuple[str, str, str], ...]:
    if level not in _PARTIAL_ADDRESS:
        return ()
    parts = ((part, _text(left, cols), _text(right, cols)) for part, cols in ADDRESS_PARTS)
    return tuple((p, a, b) for p, a, b in parts if a.casefold() != b.casefold())


def evidence(
    explanation: dict[str, Any] | None,
    left: dict[str, Any] | None = None,
    right: dict[str, Any] | None = None,
) -> list[Evidence]:
    """The per-field explanation of a pair (``{field: {level, weight}}``) with both records'
    values (``records.parquet`` rows ``left`` and ``right``): evidence for first, then against,
    then neutral, strongest first within each.

    >>> [(e.level, e.direction) for e in evidence({"name": {"level": "exact", "weight": 7.5}})]
    [('exact', 'for')]
    >>> evidence({"phone": {"level": "missing", "weight": 0.0}})[0].direction
    'neutral'
    """
    left, right = left or {}, right or {}
    out = []
    for name, part in (explanation or {}).items():
        if not part:
            continue
        level, weight = str(part.get("level")), float(part.get("weight") or 0.0)
        if math.isnan(weight) or level == "missing":
            weight = 0.0
        direction = "for" if weight > 0 else ("against" if weight < 0 else "neutral")
        out.append(
            Evidence(
                field=name,
                level=level,
                weight=weight,
                direction=direction,
                left=_values(left, name),
                right=_values(right, name),
                differs=_address_differs(level, left, right) if name == "address" else (),
            )
        )
    return sorted(out, key=lambda e: (DIRECTIONS.index(e.direction), -abs(e.weight)))


# --------------------------------------------------------------------------- side by side

# (row key, columns joined with a space) — cleaned values as records.parquet holds them; the page
# words the keys in its language
CLEANED_ROWS: Final = (
    ("name", ("name",)),
    ("first_last_name", ("first_name", "last_name")),
    ("customer_type", ("customer_type",)),
    ("legal_form", ("legal_form",)),
    ("co_name", ("co_name",)),
    ("street", ("street", "house_number")),
    ("floor_door", ("floor", "door")),
    ("postal_code_city", ("postal_code", "city")),
    ("country", ("country",)),
    ("phone", ("phone_e164",)),
    ("email", ("email",)),
    ("cvr", ("cvr",)),
    ("ean", ("ean",)),
    ("registry_name", ("registry_name",)),
    ("registry_status", ("registry_status",)),
    ("flags", ("flags",)),
    ("customer", ("cluster_id", "cluster_size")),
)


@dataclass(frozen=True)
class SideRow:
    """One row of the side-by-side table; cleaned values differ by content, originals by any
    character (a case change is what cleaning did, not a difference between the records).
    ``label``: a key of :data:`CLEANED_ROWS`, or an input column's own name for an original."""

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
            value = f"({value})"  # ``C000007 (3)``: the customer and how many records it has
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


@dataclass(frozen=True)
class MergePreview:
    """The customer a merge would make: survivor, members, and each golden value's origin."""

    survivor: str
    members: list[str]
    customers: list[str]
    fields: list[tuple[str, str, str, str]]  # (golden field, value, from record, rule)


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
        rule = str(golden.get(f"{name}_rule") or "")
        fields.append((name, str(value), str(golden.get(f"{name}_source") or ""), rule))
    return MergePreview(
        survivor=str(golden["record_id"]),
        members=[str(m) for m in golden["member_ids"]],
        customers=customers,
        fields=fields,
    )
