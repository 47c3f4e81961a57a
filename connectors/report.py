"""The data-quality report of a run: one self-contained HTML file, readable offline.

:func:`render_report` reads ``run.json``, ``records.parquet`` and (when present) ``pairs.parquet``
from a run directory and writes ``report.html`` next to them: inline CSS and inline SVG charts,
no script, font, stylesheet or image from anywhere else. Every headline number carries
``data-metric="<key>"`` (its key in ``run.json``'s ``counts``) and ``data-value`` (the exact
number), so a test or a scraper reads the figures without parsing the Danish formatting.

Examples show only what a flag is about — the record id and the one or two fields concerned,
before and after — never a whole record: the report is shared more widely than the data.

:func:`summary_markdown` and :func:`summary_table` give the same headline for Prefect artifacts.
"""

from __future__ import annotations

import json
import math
import shlex
from html import escape
from pathlib import Path
from typing import Any, Final

import polars as pl
from jinja2 import Environment

from datavask.cleansing.schema import BLOCKS_COLLECTION, BLOCKS_INVOICE, REASON_CODES, SRC_PREFIX

# What each reason code means, in the words of the contract, for readers of the report.
FLAG_TEXT: Final = {
    "MISSING_NAME": "No usable name.",
    "MISSING_ADDRESS": "No street or no postal code after parsing the address.",
    "UNKNOWN_POSTAL_CODE": "A postal code that does not exist in Denmark.",
    "MISSING_CVR": "A company record without a CVR number.",
    "INVALID_CVR": "A CVR number with a bad length or modulus-11 checksum.",
    "CVR_NOT_FOUND": "A valid CVR number the registry does not know.",
    "NAME_MISMATCH": (
        "The name matches neither the registry's current name nor its secondary names (binavne): "
        "invoices would go to the wrong legal entity."
    ),
    "COMPANY_BANKRUPT": "Registry: under bankruptcy. Claims go to the estate.",
    "COMPANY_DISSOLVED": "Registry: ceased, dissolved, compulsorily dissolved or deleted.",
    "COMPANY_DISTRESSED": (
        "Registry: under compulsory dissolution, voluntary liquidation or restructuring."
    ),
    "MISSING_EAN": "A public-sector customer without an EAN number (public bodies invoice by EAN).",
    "INVALID_EAN": "An EAN/GLN number with a bad GS1 check digit or length.",
    "BLACKLISTED": "The customer (any record of its cluster) matches the blacklist.",
    "NO_CONTACT": "Neither a valid phone number nor a valid e-mail address in the whole cluster.",
    "INVALID_PHONE": "A phone value that is not a valid number.",
    "INVALID_EMAIL": "An e-mail value that is not a valid address.",
    "ADDRESS_MISMATCH": (
        "The address differs from the registry's current address: the customer may have moved."
    ),
    "DUPLICATE": "The record's cluster has more than one record.",
    "REVIEW_MATCH": "The record is in a candidate pair whose score falls in the review band.",
    "REGISTRY_UNCHECKED": (
        "The registry could not be asked (outage, quota, timeout): unknown is not 'not found'."
    ),
    "CPR_IN_DATA": "A Danish CPR number was found in a field; it is masked in every output.",
}

# The fields an example of each flag shows: (label, input field, cleaned column).
_EXAMPLE_FIELDS: Final[dict[str, tuple[tuple[str, str | None, str | None], ...]]] = {
    "MISSING_NAME": (("name", "name", "name"),),
    "MISSING_ADDRESS": (
        ("address", "address", "street"),
        ("postal code", "postal_code", "postal_code"),
    ),
    "UNKNOWN_POSTAL_CODE": (
        ("postal code", "postal_code", "postal_code"),
        ("city", "city", "city"),
    ),
    "MISSING_CVR": (("name", "name", "name"), ("CVR", "cvr", "cvr")),
    "INVALID_CVR": (("CVR", "cvr", "cvr"),),
    "CVR_NOT_FOUND": (("CVR", "cvr", "cvr"),),
    "NAME_MISMATCH": (("name", "name", "name"), ("registry name", None, "registry_name")),
    "COMPANY_BANKRUPT": (("name", "name", "name"), ("registry status", None, "registry_status")),
    "COMPANY_DISSOLVED": (("name", "name", "name"), ("registry status", None, "registry_status")),
    "COMPANY_DISTRESSED": (("name", "name", "name"), ("registry status", None, "registry_status")),
    "MISSING_EAN": (("name", "name", "name"), ("EAN", "ean", "ean")),
    "INVALID_EAN": (("EAN", "ean", "ean"),),
    "BLACKLISTED": (("name", "name", "name"),),
    "NO_CONTACT": (("phone", "phone", "phone_e164"), ("e-mail", "email", "email")),
    "INVALID_PHONE": (("phone", "phone", "phone_e164"),),
    "INVALID_EMAIL": (("e-mail", "email", "email"),),
    # The address the record carries (the registry's current one is in changes.csv, rule
    # ``registry``); before → after here would read as if cleaning had dropped the number.
    "ADDRESS_MISMATCH": (
        ("street on record", None, "street"),
        ("number", None, "house_number"),
        ("postal code", None, "postal_code"),
    ),
    "DUPLICATE": (("name", "name", "name"), ("cluster", None, "cluster_id")),
    "REVIEW_MATCH": (("name", "name", "name"), ("cluster", None, "cluster_id")),
    "REGISTRY_UNCHECKED": (("CVR", "cvr", "cvr"),),
    # The masked value is all there is to show, and the record id says where.
    "CPR_IN_DATA": (),
}
EXAMPLES_PER_FLAG: Final = 3

_HEADLINE: Final = (
    ("records", "records", "input rows"),
    ("customers", "customers", "after merging duplicates"),
    ("duplicate_records", "duplicate records", "merge into another record"),
    ("clusters_with_duplicates", "customers with duplicates", "clusters of two or more"),
    ("invoice_ready", "invoice-ready", "records with no invoice-blocking flag"),
    ("collection_ready", "collection-ready", "and no collection-blocking flag"),
)
_REGISTRY_METRICS: Final = (
    ("registry_checked", "checked in the registry"),
    ("registry_not_found", "not found in the registry"),
    ("registry_unchecked", "could not be checked"),
)
_COMPLETENESS: Final = (
    ("name", ("name",), ("name",)),
    ("street", ("street", "address"), ("street",)),
    ("postal code", ("postal_code",), ("postal_code",)),
    ("city", ("city",), ("city",)),
    ("phone", ("phone", "mobile"), ("phone_e164",)),
    ("e-mail", ("email",), ("email",)),
    ("CVR", ("cvr",), ("cvr",)),
    ("EAN", ("ean",), ("ean",)),
)

_RED: Final = "#c0392b"
_AMBER: Final = "#d68910"
_BLUE: Final = "#2e6da4"
_GREY: Final = "#98a2ad"
_GREEN: Final = "#2e8b57"


# --------------------------------------------------------------------------- numbers


def format_number(value: float | int | None, decimals: int = 0) -> str:
    """Danish style: ``1.234.567`` and ``87,5``; ``–`` for a missing value."""
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")


def share(part: int | float | None, whole: int | float | None) -> float | None:
    """``part`` as a percentage of ``whole``; None when there is no whole."""
    if part is None or not whole:
        return None
    return 100.0 * part / whole


def _percent(part: int | float | None, whole: int | float | None) -> str:
    value = share(part, whole)
    return "–" if value is None else f"{format_number(value, 1)} %"


# --------------------------------------------------------------------------- Prefect artifacts


def summary_table(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Headline numbers then flag counts, one dict per row, for a Prefect table artifact."""
    counts = run.get("counts", {})
    total = counts.get("records")
    rows: list[dict[str, Any]] = [
        {"metric": label, "value": counts.get(key), "share": _percent(counts.get(key), total)}
        for key, label, _ in _HEADLINE
    ]
    if _registry_skipped(run):
        rows.append({"metric": "registry", "value": None, "share": "registry checks skipped"})
    else:
        rows.extend(
            {"metric": label, "value": counts.get(key), "share": _percent(counts.get(key), total)}
            for key, label in _REGISTRY_METRICS
        )
    for code, n in sorted(run.get("flags", {}).items(), key=lambda item: (-item[1], item[0])):
        if n:
            rows.append({"metric": code, "value": n, "share": _percent(n, total)})
    return rows


def summary_markdown(run: dict[str, Any]) -> str:
    """A short Markdown summary of a run for a Prefect markdown artifact."""
    counts = run.get("counts", {})
    total = counts.get("records")
    source = Path(str(run.get("input", {}).get("path", "input"))).name
    lines = [
        f"# datavask: {source}",
        "",
        f"**{format_number(counts.get('records'))} records → "
        f"{format_number(counts.get('customers'))} customers**; "
        f"invoice-ready {_percent(counts.get('invoice_ready'), total)}, "
        f"collection-ready {_percent(counts.get('collection_ready'), total)}.",
        "",
        "| metric | value | share |",
        "|---|---:|---:|",
    ]
    lines.extend(
        f"| {row['metric']} | {format_number(row['value'])} | {row['share']} |"
        for row in summary_table(run)
    )
    return "\n".join(lines) + "\n"


def _registry_skipped(run: dict[str, Any]) -> bool:
    return str(run.get("options", {}).get("registry", "")).lower() == "none"


# --------------------------------------------------------------------------- SVG charts


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="chart">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def bar_chart(items: list[tuple[str, float, str, str]], *, title: str, width: int = 640) -> str:
    """Horizontal bars: (label, value, colour, value text) per row, scaled to the largest value."""
    if not items:
        return '<p class="muted">Nothing to show.</p>'
    label_w, row_h, text_w = 190, 24, 90
    bar_w = width - label_w - text_w
    top = max(value for _, value, _, _ in items) or 1
    body = []
    for i, (label, value, colour, text) in enumerate(items):
        y = i * row_h
        length = max(bar_w * value / top, 1 if value else 0)
        body.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" class="lbl">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{length:.1f}" height="{row_h - 8}" rx="2" '
            f'fill="{colour}"><title>{escape(label)}: {escape(text)}</title></rect>'
            f'<text x="{label_w + length + 6:.1f}" y="{y + 16}" class="val">{escape(text)}</text>'
        )
    return _svg(width, row_h * len(items) + 4, body, title)


def paired_bar_chart(
    items: list[tuple[str, float | None, float | None]], *, title: str, width: int = 640
) -> str:
    """Two bars per row (before in grey, after in blue), both on a 0–100 % scale."""
    label_w, row_h, text_w = 110, 34, 60
    bar_w = width - label_w - text_w
    body = [
        f'<rect x="{label_w}" y="2" width="10" height="10" fill="{_GREY}"/>'
        f'<text x="{label_w + 14}" y="11" class="val">before (input)</text>'
        f'<rect x="{label_w + 120}" y="2" width="10" height="10" fill="{_BLUE}"/>'
        f'<text x="{label_w + 134}" y="11" class="val">after cleaning</text>'
    ]
    for i, (label, before, after) in enumerate(items):
        y = 20 + i * row_h
        body.append(
            f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end" class="lbl">'
            f"{escape(label)}</text>"
        )
        for j, (value, colour) in enumerate(((before, _GREY), (after, _BLUE))):
            length = bar_w * (value or 0) / 100
            text = "not in input" if value is None else f"{format_number(value, 1)} %"
            body.append(
                f'<rect x="{label_w}" y="{y + 3 + j * 14}" width="{length:.1f}" height="12" rx="2" '
                f'fill="{colour}"><title>{escape(label)}: {escape(text)}</title></rect>'
                f'<text x="{label_w + length + 5:.1f}" y="{y + 13 + j * 14}" class="val small">'
                f"{escape(text)}</text>"
            )
    return _svg(width, 24 + row_h * len(items), body, title)


def _bits(probability: float) -> float:
    """A match probability as a match weight: log2 of the odds, clipped to ±40 bits."""
    p = min(max(probability, 1e-12), 1 - 1e-12)
    return max(-40.0, min(40.0, math.log2(p / (1 - p))))


def histogram(
    scores: pl.Series,
    *,
    band: tuple[float, float] | None,
    title: str,
    width: int = 640,
    bins: int = 30,
) -> str:
    """Candidate pairs by match weight (log2 of the odds), review band shaded and marked.

    Weights rather than probabilities: almost every pair sits within a hair of 0 or 1 on the
    probability scale, while the weight spreads them out and shows how far each is from the
    thresholds (0.8 ≈ 2 bits, 0.996 ≈ 8 bits).
    """
    scores = scores.drop_nulls().drop_nans().cast(pl.Float64)
    if scores.is_empty():
        return '<p class="muted">No candidate pairs were scored.</p>'
    p = scores.clip(1e-12, 1 - 1e-12)
    weights = (p / (1 - p)).log(2).clip(-40.0, 40.0)
    marks = [_bits(v) for v in band] if band is not None else []
    lo_w = math.floor(min(float(weights.min()), *marks) / 5) * 5  # type: ignore[arg-type]
    hi_w = math.ceil(max(float(weights.max()), *marks) / 5) * 5  # type: ignore[arg-type]
    hi_w = max(hi_w, lo_w + 5)
    span = hi_w - lo_w
    index = ((weights - lo_w) / span * bins).floor().clip(0, bins - 1).cast(pl.Int64)
    tally = index.value_counts()
    found = dict(zip(tally[tally.columns[0]].to_list(), tally["count"].to_list(), strict=True))
    counts = [int(found.get(i, 0)) for i in range(bins)]
    left, bottom, height = 48, 30, 200
    plot_w = width - left - 16

    def x_of(weight: float) -> float:
        return left + (weight - lo_w) / span * plot_w

    top = max(counts) or 1
    body = []
    if band is not None:
        body.append(
            f'<rect x="{x_of(marks[0]):.1f}" y="10" width="{x_of(marks[1]) - x_of(marks[0]):.1f}" '
            f'height="{height}" fill="{_AMBER}" opacity="0.12"/>'
        )
    bar = plot_w / bins
    for i, n in enumerate(counts):
        h = height * n / top
        start, end = lo_w + span * i / bins, lo_w + span * (i + 1) / bins
        colour = _BLUE
        if band is not None:
            middle = (start + end) / 2
            colour = _GREY if middle < marks[0] else (_AMBER if middle < marks[1] else _GREEN)
        body.append(
            f'<rect x="{left + i * bar + 1:.1f}" y="{10 + height - h:.1f}" width="{bar - 2:.1f}" '
            f'height="{h:.1f}" fill="{colour}"><title>{start:.1f} to {end:.1f} bits: '
            f"{format_number(n)} pairs</title></rect>"
        )
    axis_y = 10 + height
    body.append(
        f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" class="axis"/>'
    )
    step = 5 if span <= 50 else 10
    for tick in range(int(lo_w), int(hi_w) + 1, step):
        body.append(
            f'<text x="{x_of(tick):.1f}" y="{axis_y + 16}" text-anchor="middle" class="val small">'
            f"{tick}</text>"
        )
    body.append(
        f'<text x="{left + plot_w}" y="{axis_y + 28}" text-anchor="end" class="val small">'
        "match weight (bits)</text>"
    )
    body.append(
        f'<text x="{left - 6}" y="18" text-anchor="end" class="val small">'
        f"{format_number(top)}</text>"
    )
    body.append(f'<text x="{left - 6}" y="{axis_y}" text-anchor="end" class="val small">0</text>')
    if band is not None:
        # Labels inside the band: "review from" after its line, "match from" before its line.
        for value, weight, name, anchor, dx, y in (
            (band[0], marks[0], "review from", "start", 4, 20),
            (band[1], marks[1], "match from", "end", -4, 34),
        ):
            x = x_of(weight)
            body.append(
                f'<line x1="{x:.1f}" y1="6" x2="{x:.1f}" y2="{axis_y}" class="band"/>'
                f'<text x="{x + dx:.1f}" y="{y}" text-anchor="{anchor}" class="val small">'
                f"{name} {value:g}</text>"
            )
    return _svg(width, axis_y + bottom, body, title)


# --------------------------------------------------------------------------- data


def _flag_colour(code: str) -> str:
    if code in BLOCKS_INVOICE:
        return _RED
    if code in BLOCKS_COLLECTION:
        return _AMBER
    return _GREY


def _blocks(code: str) -> str:
    if code in BLOCKS_INVOICE:
        return "invoicing, collection" if code in BLOCKS_COLLECTION else "invoicing"
    return "collection" if code in BLOCKS_COLLECTION else "—"


def _filled(column: pl.Expr) -> pl.Expr:
    return (column.cast(pl.String).str.strip_chars().fill_null("") != "").cast(pl.Int64)


def _completeness(
    records: pl.DataFrame, mapping: dict[str, str]
) -> list[tuple[str, float | None, float | None]]:
    rows: list[tuple[str, float | None, float | None]] = []
    total = records.height
    for label, inputs, cleaned in _COMPLETENESS:
        sources = [f"{SRC_PREFIX}{mapping[f]}" for f in inputs if f in mapping]
        sources = [c for c in sources if c in records.columns]
        before = None
        if sources:
            any_filled = pl.max_horizontal([_filled(pl.col(c)) for c in sources])
            before = share(int(records.select(any_filled.sum()).item()), total)
        after_columns = [c for c in cleaned if c in records.columns]
        after = (
            share(
                int(
                    records.select(
                        pl.max_horizontal([_filled(pl.col(c)) for c in after_columns]).sum()
                    ).item()
                ),
                total,
            )
            if after_columns
            else None
        )
        if before is not None or after is not None:
            rows.append((label, before, after))
    return rows


def _registry_status_counts(records: pl.DataFrame) -> list[tuple[str, int]]:
    """Customers (each cluster's survivor) by registry status, or why they have none."""
    customers = records
    if "is_survivor" in records.columns:
        customers = records.filter(pl.col("is_survivor").fill_null(False))
    elif "cluster_id" in records.columns:
        customers = records.unique("cluster_id", keep="first", maintain_order=True)
    if customers.height == 0:
        return []

    def has(code: str) -> pl.Expr:
        if "flags" not in customers.columns:
            return pl.lit(False)
        return pl.col("flags").list.contains(code).fill_null(False)

    status = (
        pl.col("registry_status")
        if "registry_status" in customers.columns
        else pl.lit(None, pl.String)
    )
    customer_type = (
        pl.col("customer_type") if "customer_type" in customers.columns else pl.lit(None, pl.String)
    )
    cvr = pl.col("cvr") if "cvr" in customers.columns else pl.lit(None, pl.String)
    label = (
        pl.when(status.is_not_null())
        .then(status.cast(pl.String).str.to_uppercase())
        .when(has("CVR_NOT_FOUND"))
        .then(pl.lit("not found"))
        .when(has("REGISTRY_UNCHECKED"))
        .then(pl.lit("could not be checked"))
        .when(customer_type == "person")
        .then(pl.lit("person (no registry)"))
        .when(cvr.is_null())
        .then(pl.lit("no valid CVR"))
        .otherwise(pl.lit("not checked"))
    )
    counted = (
        customers.select(label.alias("status"))
        .group_by("status")
        .len()
        .sort(["len", "status"], descending=[True, False])
    )
    return [(str(s), int(n)) for s, n in counted.iter_rows()]


def _examples(
    records: pl.DataFrame, code: str, mapping: dict[str, str]
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a few example records for a flag: id, then before → after per field."""
    if "flags" not in records.columns:
        return [], []
    hits = records.filter(pl.col("flags").list.contains(code).fill_null(False)).head(
        EXAMPLES_PER_FLAG
    )
    header = ["record"]
    columns: list[tuple[str | None, str | None]] = []
    for label, field, cleaned_column in _EXAMPLE_FIELDS.get(code, ()):
        cleaned = cleaned_column
        source = f"{SRC_PREFIX}{mapping[field]}" if field is not None and field in mapping else None
        if source is not None and source not in records.columns:
            source = None
        if cleaned is not None and cleaned not in records.columns:
            cleaned = None
        if source is None and cleaned is None:
            continue
        header.append(label)
        columns.append((source, cleaned))
    rows = []
    for row in hits.iter_rows(named=True):
        cells = [str(row["record_id"])]
        for source, cleaned in columns:
            before = row[source] if source else None
            after = row[cleaned] if cleaned else None
            cells.append(_before_after(before, after, has_before=source is not None))
        rows.append(cells)
    return header, rows


def _before_after(before: Any, after: Any, *, has_before: bool) -> str:
    """HTML for one example cell: the input value and, when it differs, the cleaned one."""
    empty = '<span class="muted">empty</span>'
    after_html = escape(str(after)) if after not in (None, "") else empty
    if not has_before:
        return after_html
    before_text = None if before is None else str(before).strip()
    before_html = escape(before_text) if before_text else empty
    if before_text == (None if after is None else str(after)):
        return before_html
    return f'<span class="before">{before_html}</span> <span class="arrow">→</span> {after_html}'


# --------------------------------------------------------------------------- the page


_CSS: Final = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --bg:#f5f7fa; --card:#fff;
  --accent:#2e6da4; }
* { box-sizing: border-box; }
body { margin:0;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); background: var(--bg); }
header { background: #1f3a5f; color: #fff; padding: 24px 40px 20px; }
header h1 { margin: 0 0 4px; font-size: 24px; font-weight: 600; letter-spacing: .2px; }
header .meta { color: #c8d3e0; font-size: 13px; }
header .meta span + span::before { content: "·"; margin: 0 8px; color: #7d8fa6; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 40px 48px; }
h2 { font-size: 18px; font-weight: 600; margin: 32px 0 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 14px 16px; }
.card .num { display:block; font-size: 28px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .label { font-weight: 600; }
.card .sub { color: var(--muted); font-size: 12.5px; }
.card.good .num { color: #2e8b57; } .card.warn .num { color: #b9770e; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr;
  } main, header { padding-left: 16px; padding-right: 16px; } }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 16px 18px; }
.panel h3 { margin: 0 0 10px; font-size: 15px; font-weight: 600; }
.chart text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  fill: var(--ink); }
.chart .small { font-size: 11px; fill: var(--muted); }
.chart .axis { stroke: #9aa5b1; stroke-width: 1; }
.chart .band { stroke: #b9770e; stroke-width: 1.5; stroke-dasharray: 4 3; }
.legend { font-size: 12.5px; color: var(--muted); margin-top: 6px; }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px;
  margin: 0 4px 0 12px; vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { font-size: 12.5px; color: var(--muted); font-weight: 600; background: #fafbfc; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.flag { border: 1px solid var(--line); border-radius: 8px; background: var(--card);
  margin: 0 0 12px; }
.flag > .head { display:flex; gap: 12px; align-items: baseline; padding: 12px 16px;
  border-bottom: 1px solid var(--line); }
.flag code { font-weight: 650; font-size: 14px; }
.flag .count { margin-left: auto; font-variant-numeric: tabular-nums; font-weight: 600; }
.flag .what { padding: 8px 16px 4px; color: var(--ink); }
.flag table { margin: 4px 0 8px;
  } .flag th:first-child, .flag td:first-child { padding-left: 16px; }
.pill { font-size: 11.5px; padding: 1px 8px; border-radius: 10px; white-space: nowrap; }
.pill.inv { background: #fdecea; color: #a93226; } .pill.col { background: #fef5e7;
  color: #9c640c; }
.pill.info { background: #eef2f7; color: #52606d; }
.muted { color: var(--muted); }
h3.sub { font-size: 14px; font-weight: 600; margin: 20px 0 8px; color: var(--muted); }
.before { color: var(--muted); text-decoration: line-through; text-decoration-color: #c3cad3; }
.arrow { color: var(--muted); }
.note { background: #fff8e6; border: 1px solid #f3dca6; border-radius: 8px; padding: 10px 14px; }
footer { color: var(--muted); font-size: 12.5px; margin-top: 36px; }
footer table { font-size: 12.5px; }
"""


def _card(key: str | None, value: int | None, label: str, sub: str, kind: str = "") -> str:
    attrs = (
        f' data-metric="{escape(key)}" data-value="{value if value is not None else ""}"'
        if key
        else ""
    )
    return (
        f'<div class="card {kind}"><span class="num"{attrs}>{format_number(value)}</span>'
        f'<span class="label">{escape(label)}</span><div class="sub">{escape(sub)}</div></div>'
    )


def _legend(*items: tuple[str, str]) -> str:
    keys = "".join(f'<i style="background:{colour}"></i>{escape(text)}' for colour, text in items)
    return f'<div class="legend">{keys}</div>'


def _pill(code: str) -> str:
    if code in BLOCKS_INVOICE:
        return '<span class="pill inv">blocks invoicing</span>'
    if code in BLOCKS_COLLECTION:
        return '<span class="pill col">blocks collection</span>'
    return '<span class="pill info">informational</span>'


def _table(header: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(
        f'<th class="{"n" if i in numeric else ""}">{escape(h)}</th>' for i, h in enumerate(header)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"n" if i in numeric else ""}">{cell}</td>' for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(run: dict[str, Any], records: pl.DataFrame, pairs: pl.DataFrame | None) -> str:
    """The report page for a run's ``run.json`` content, records and pairs."""
    counts = run.get("counts", {})
    total = counts.get("records")
    flags = {code: int(run.get("flags", {}).get(code, 0)) for code in REASON_CODES}
    mapping = dict(run.get("input", {}).get("mapping") or {})
    options = run.get("options", {})
    band_option = options.get("review_band")
    band = (
        (float(band_option[0]), float(band_option[1]))
        if band_option and len(band_option) == 2
        else None
    )

    source = Path(str(run.get("input", {}).get("path", "input"))).name
    meta = [
        f"<span>{escape(text)}</span>"
        for text in (
            source,
            f"run {run['run_id']}" if run.get("run_id") else "",
            str(run.get("started_at") or ""),
            f"datavask {run['datavask_version']}" if run.get("datavask_version") else "",
        )
        if text
    ]

    cards = []
    for key, label, note in _HEADLINE:
        value = counts.get(key)
        sub = note
        kind = ""
        if key in ("invoice_ready", "collection_ready"):
            sub = f"{_percent(value, total)} of records — {sub}"
            ready = share(value, total)
            kind = "good" if ready is not None and ready >= 90 else "warn"
        cards.append(_card(key, value, label, sub, kind))

    if _registry_skipped(run):
        registry_cards = (
            '<div class="note">Registry checks skipped: the run had <code>--registry none</code>.'
            "</div>"
        )
        registry_chart = '<p class="muted">Registry checks skipped.</p>'
    else:
        registry_cards = (
            '<div class="cards">'
            + "".join(
                _card(key, counts.get(key), label, _percent(counts.get(key), total) + " of records")
                for key, label in _REGISTRY_METRICS
            )
            + "</div>"
        )
        statuses = _registry_status_counts(records)
        customers = sum(n for _, n in statuses)
        registry_chart = bar_chart(
            [
                (
                    status,
                    n,
                    _GREEN
                    if status in ("NORMAL", "AKTIV")
                    else (_GREY if status.islower() else _AMBER),
                    f"{format_number(n)} ({_percent(n, customers)})",
                )
                for status, n in statuses
            ],
            title="Customers by registry status",
            width=560,
        )

    raised = [
        (code, n) for code, n in sorted(flags.items(), key=lambda item: (-item[1], item[0])) if n
    ]
    flags_chart = bar_chart(
        [
            (code, n, _flag_colour(code), f"{format_number(n)} ({_percent(n, total)})")
            for code, n in raised
        ],
        title="Records per reason code",
        width=560,
    )
    completeness_chart = paired_bar_chart(
        _completeness(records, mapping), title="Completeness per field", width=560
    )
    scores = pl.Series("match_probability", [], dtype=pl.Float64)
    if pairs is not None and "match_probability" in pairs.columns:
        scores = pairs.get_column("match_probability")
    score_chart = histogram(scores, band=band, title="Match scores of candidate pairs", width=560)
    score_legend = (
        _legend((_GREY, "non-match"), (_AMBER, "review"), (_GREEN, "match"))
        if not scores.is_empty() and band
        else ""
    )

    flag_sections = []
    for code in sorted((c for c in REASON_CODES if flags[c]), key=lambda c: (-flags[c], c)):
        n = flags[code]
        header, rows = _examples(records, code, mapping)
        examples = _table(header, rows) if rows else ""
        flag_sections.append(
            f'<section class="flag" id="flag-{code}">'
            f'<div class="head"><code>{code}</code>{_pill(code)}'
            f'<span class="count" data-flag="{code}" data-value="{n}">{format_number(n)} '
            f'<span class="muted">({_percent(n, total)})</span></span></div>'
            f'<div class="what">{escape(FLAG_TEXT[code])}</div>{examples}</section>'
        )

    quiet = [
        [f"<code>{code}</code>", _pill(code), escape(FLAG_TEXT[code]),
         f'<span data-flag="{code}" data-value="0">0</span>']
        for code in REASON_CODES
        if not flags[code]
    ]  # fmt: skip
    if quiet:
        flag_sections.append(
            '<h3 class="sub">Not raised in this run</h3>'
            + _table(["code", "", "meaning", "records"], quiet, {3})
        )

    timings = run.get("timings", {})
    timing_rows = [
        [escape(str(step)), f"{format_number(float(seconds), 2)} s"]
        for step, seconds in timings.items()
    ]
    versions = run.get("versions", {})
    version_text = ", ".join(f"{escape(str(k))} {escape(str(v))}" for k, v in versions.items())
    input_info = run.get("input", {})
    input_rows = [
        ["file", escape(str(input_info.get("path", "")))],
        [
            "format",
            escape(f"{input_info.get('format', '')} {input_info.get('encoding') or ''}".strip()),
        ],
        ["sha256", f"<code>{escape(str(input_info.get('sha256', '')))}</code>"],
        ["registry", escape(str(options.get("registry", "")))],
        [
            "review band",
            escape(" – ".join(format_number(float(b), 2) for b in band) if band else "–"),
        ],
        ["orchestration", escape(str(run.get("orchestration", "")))],
        ["finished", escape(str(run.get("finished_at", "")))],
    ]

    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>datavask report — {escape(source)}</title>
<style>{_CSS}</style></head>
<body>
<header><h1>Customer data quality</h1><div class="meta">{"".join(meta)}</div></header>
<main>
<h2>Summary</h2>
<div class="cards">{"".join(cards)}</div>
<h2>Registry</h2>
{registry_cards}
<div class="grid2" style="margin-top:16px">
<div class="panel"><h3>Records per reason code</h3>{flags_chart}
{_legend((_RED, "blocks invoicing"), (_AMBER, "blocks collection"), (_GREY, "informational"))}</div>
<div class="panel"><h3>Customers by registry status</h3>{registry_chart}</div>
<div class="panel"><h3>Completeness per field</h3>{completeness_chart}</div>
<div class="panel"><h3>Match scores of candidate pairs</h3>{score_chart}
{score_legend}</div>
</div>
{review_section(run, pairs)}
<h2>Reason codes</h2>
{"".join(flag_sections)}
<footer>
<h2>About this run</h2>
<div class="grid2"><div>{_table(["input", ""], input_rows)}</div>
<div>{_table(["step", "time"], timing_rows, numeric={1})}</div></div>
<p>{version_text}</p>
</footer>
</main></body></html>
"""


def render_report(run_dir: Path) -> Path:
    """Write ``run_dir/report.html`` from the run's ``run.json``, ``records.parquet`` and pairs."""
    run_dir = Path(run_dir)
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    records = pl.read_parquet(run_dir / "records.parquet", glob=False)
    pairs_path = run_dir / "pairs.parquet"
    pairs = pl.read_parquet(pairs_path, glob=False) if pairs_path.exists() else None
    target = run_dir / "report.html"
    target.write_text(render_html(run, records, pairs), encoding="utf-8")
    return target


# --------------------------------------------------------------------------- review (issue 13)

_REVIEW_SECTION = Environment(autoescape=True).from_string(
    """<h2 id="review">Pairs to review</h2>
{% if waiting %}
<p><b>{{ waiting }}</b> pair{{ "s" if waiting != 1 }} of possible duplicates
 wait{{ "s" if waiting == 1 }} for a person to decide (flag <code>REVIEW_MATCH</code>).
 Decide them in a local page:</p>
<pre>datavask review {{ run_dir }}</pre>
<p>The decisions go to <code>datavask-decisions.csv</code> beside the run directory; the next run
obeys them with <code>--decisions</code>: same pairs are merged, different pairs never are, and
neither is asked about again.</p>
{% else %}
<p>No pairs wait for review.</p>
{% endif %}
{% if decisions %}
<p>This run obeyed {{ decisions.obeyed }} reviewers' decision{{ "s" if decisions.obeyed != 1 }}
 ({{ decisions.same }} same, {{ decisions.different }} different){% if decisions.problems %};
 {{ decisions.problems|length }} could not be obeyed:{% else %}.{% endif %}</p>
{% if decisions.problems %}
<ul>{% for p in decisions.problems %}
<li>{{ p.record_id_l }} / {{ p.record_id_r }}: {{ p.problem }}</li>
{% endfor %}</ul>
{% endif %}
{% endif %}
"""
)


def review_section(run: dict[str, Any], pairs: pl.DataFrame | None) -> str:
    """How many pairs wait for review and the command that starts it; what decisions did."""
    waiting = 0
    if pairs is not None and "decision" in pairs.columns:
        waiting = int((pairs.get_column("decision") == "review").sum())
    return _REVIEW_SECTION.render(
        waiting=waiting,
        run_dir=shlex.quote(str(run.get("options", {}).get("out") or "RUN_DIR")),
        decisions=run.get("steps", {}).get("match", {}).get("decisions") or None,
    )
