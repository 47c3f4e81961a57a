"""The report of a run: ``report.html`` (one self-contained file, readable offline) and
``worklist.xlsx``, both drawn from one view model (:mod:`connectors.report_model`).

:func:`render_report` reads ``run.json``, ``records.parquet`` and, when present,
``pairs.parquet``, ``changes.csv`` and ``reimport/merge_plan.csv`` from a run directory and writes
``report.html`` and ``worklist.xlsx`` next to them. The page is rendered by Jinja2 with autoescape
on from ``templates/report.html.j2``; the complete customer lists travel inside it as JSON in a
``<script type="application/json">`` block (escaped by the ``tojson`` filter) and are searched,
sorted and paged by ``templates/report.js``, which puts values on the page only as text. Styles
and script are inline: the page makes no network request.

Every headline number carries ``data-metric="<key>"`` (its key in ``run.json``'s ``counts``) and
``data-value`` (the exact number), so a test or a scraper reads the figures without parsing the
Danish formatting. :func:`summary_markdown` and :func:`summary_table` give the same headline for
Prefect artifacts, :func:`summary_rows` for the terminal.
"""

from __future__ import annotations

import json
import secrets
import shlex
from pathlib import Path
from typing import Any, Final

import jinja2
import markupsafe
import orjson
import polars as pl

from datavask.cleansing.schema import BLOCKS_COLLECTION, BLOCKS_INVOICE
from datavask.connectors.alerts import ALERT_COLUMNS as ALERT_FILE_COLUMNS
from datavask.connectors.errors import InputError
from datavask.connectors.output import replace_atomically
from datavask.connectors.report_model import (
    CUSTOMER_FIELDS,
    ReportModel,
    build_model,
    headline,
    model_columns,
    registry_skipped,
)
from datavask.connectors.report_text import FLAG_TEXT, MESSAGES, Text

_ENV: Final = jinja2.Environment(
    loader=jinja2.PackageLoader("datavask.connectors", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)
# Words report.js needs; the rest of the catalogue stays on the server side.
_SCRIPT_WORDS: Final = (
    "in_crm",
    "not_usable",
    "cpr_emptied",
    "cpr_stripped",
    "born",
    "cvr_link_title",
    "col_survivor",
    "col_merged",
    "col_score",
    "search",
    "search_hint",
    "filter_all",
    "previous",
    "next",
    "page",
    "of",
    "shown",
    "shown_pairs",
    "shown_alerts",
)
_EVENT_ACTIONS: Final = {
    "bankrupt": "COMPANY_BANKRUPT",
    "dissolved": "COMPANY_DISSOLVED",
    "distressed": "COMPANY_DISTRESSED",
    "moved": "ADDRESS_MISMATCH",
    "renamed": "NAME_MISMATCH",
}
_GROUP_COLUMNS: Final = {
    "invoice": (
        ("customer", "col_name"),
        ("address", "col_address"),
        ("cvr", "col_cvr"),
        ("registry", "col_registry"),
        ("reasons", "col_reasons"),
        ("todo", "what_to_do"),
    ),
    "collection": (
        ("customer", "col_name"),
        ("contact", "col_contact"),
        ("cvr", "col_cvr"),
        ("registry", "col_registry"),
        ("reasons", "col_reasons"),
        ("todo", "what_to_do"),
    ),
    "registry": (
        ("customer", "col_name"),
        ("events", "col_events"),
        ("address", "col_address"),
        ("cvr", "col_cvr"),
        ("registry", "col_registry"),
        ("todo", "what_to_do"),
    ),
    "duplicates": (
        ("merge", "col_survivor"),
        ("customer", "col_name"),
        ("address", "col_address"),
        ("contact", "col_contact"),
        ("cvr", "col_cvr"),
        ("reasons", "col_reasons"),
    ),
    "quality": (
        ("customer", "col_name"),
        ("contact", "col_contact"),
        ("cvr", "col_cvr"),
        ("reasons", "col_reasons"),
        ("todo", "what_to_do"),
    ),
}
# The contract's alert columns, as alerts.csv has them (its de-duplication id left out).
ALERT_COLUMNS: Final = tuple(c for c in ALERT_FILE_COLUMNS if c != "alert_id")


def _blocks(code: str) -> str:
    if code in BLOCKS_INVOICE:
        return "inv"
    return "col" if code in BLOCKS_COLLECTION else "info"


def page_data(model: ReportModel) -> dict[str, Any]:
    """What report.js gets: the customer rows once, and per table its rows and columns."""
    text = model.text
    # as the catalogue has them: report.js fills in the counts and their {total|kunde|kunder}
    words = {key: MESSAGES[model.lang][key] for key in _SCRIPT_WORDS}
    words |= {k: v for k, v in MESSAGES[model.lang].items() if k.startswith(("event_", "class_"))}
    actions = text.flag_actions()
    actions |= {event: actions[code] for event, code in _EVENT_ACTIONS.items()}
    tables: dict[str, Any] = {}
    for group in model.groups:
        if not group.customers:
            continue
        tables[group.key] = {
            "group": group.key,
            "codes": group.codes,
            "index": group.rows,
            "columns": [
                {"type": kind, "label": text(label)} for kind, label in _GROUP_COLUMNS[group.key]
            ],
        }
    review = model.review_pairs
    if review.height:
        labels = (
            "x_left", "x_left_name", "x_left_address",
            "x_right", "x_right_name", "x_right_address",
            "x_probability", "x_review_why",
        )  # fmt: skip
        tables["review"] = {
            "columns": [
                {
                    "type": "percent" if k == "x_probability" else "text",
                    "index": i,
                    "label": text(k),
                }
                for i, k in enumerate(labels)
            ],
            "rows": review.rows(),
            "counted": "shown_pairs",
        }
    if model.alerts is not None and model.alerts.height:
        alerts = model.alerts.select([c for c in ALERT_COLUMNS if c in model.alerts.columns])
        tables["alerts"] = {
            "columns": [
                {"type": "text", "index": i, "label": c} for i, c in enumerate(alerts.columns)
            ],
            "rows": alerts.cast(pl.String).rows(),
            "counted": "shown_alerts",
        }
    return {
        "lang": model.lang,
        "fields": list(CUSTOMER_FIELDS),
        "customers": rows_json(model.customers),
        "blocks": {code: _blocks(code) for code in FLAG_TEXT["da"]},
        "text": words | {"flags": FLAG_TEXT[model.lang], "actions": actions},
        "tables": tables,
    }


# Column types :func:`rows_json` writes as orjson writes the same values taken out as Python
# objects. Not Float32 (polars writes its shortest form, orjson the double's), nor dates.
_JSON_TYPES: Final = frozenset(
    {pl.String, pl.Boolean, pl.Float64, pl.Null, pl.Int8, pl.Int16, pl.Int32, pl.Int64}
    | {pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64}
)


def _json_type(dtype: object) -> bool:
    if isinstance(dtype, pl.List):
        return _json_type(dtype.inner)
    return dtype in _JSON_TYPES


def rows_json(frame: pl.DataFrame) -> orjson.Fragment:
    """``frame.rows()`` as a JSON array of arrays, the bytes ``orjson.dumps`` writes, built by
    polars.

    Each value is JSON-encoded as the one field of a struct named ``""`` (``{"":value}``, the
    four leading and one trailing character cut off) and a row's values are joined with commas.
    No value becomes a Python object: a million customers as tuples were gigabytes of small
    objects and seconds of serialising under the GIL, beside the worklist being written.

    >>> orjson.dumps(rows_json(pl.DataFrame({"a": ["x", None], "b": [1.5, 2.0]})))
    b'[["x",1.5],[null,2.0]]'
    """
    unsupported = {c: t for c, t in frame.schema.items() if not _json_type(t)}
    if unsupported:
        raise TypeError(f"rows_json writes no column of types {unsupported}")
    if frame.is_empty():
        return orjson.Fragment(b"[]")
    values = [
        pl.struct(pl.col(c).alias("")).struct.json_encode().str.slice(4).str.head(-1)
        for c in frame.columns
    ]
    rows = frame.select(pl.concat_str(values, separator=",").str.join("],[").cast(pl.Binary))
    return orjson.Fragment(b"[[" + rows.item() + b"]]")


def _script_safe_bytes(data: Any) -> bytes:
    """:func:`script_safe_json` as UTF-8 (every escaped character is ASCII, one byte)."""
    text = orjson.dumps(data)
    for char, escaped in (
        (b"<", b"\\u003c"),
        (b">", b"\\u003e"),
        (b"&", b"\\u0026"),
        (b"'", b"\\u0027"),
    ):
        text = text.replace(char, escaped)
    return text


def script_safe_json(data: Any) -> markupsafe.Markup:
    r"""JSON that can sit inside a ``<script>`` block: ``<``, ``>``, ``&`` and ``'`` escaped.

    What Jinja2's ``tojson`` filter does, serialised by orjson: a large run's page data is big.

    >>> print(script_safe_json({"id": "</script><b>'&'"}))
    {"id":"\u003c/script\u003e\u003cb\u003e\u0027\u0026\u0027"}
    """
    return markupsafe.Markup(_script_safe_bytes(data).decode("utf-8"))


def _html_parts(model: ReportModel) -> tuple[str, bytes, str]:
    """The report page of a view model as the text before the page data, the page data (UTF-8)
    and the text after it: the data (hundreds of megabytes at a million records) is never
    copied into one string with the page."""
    model.extra.setdefault("blocks", {code: _blocks(code) for code in FLAG_TEXT["da"]})
    model.extra.setdefault("run_dir_shell", shlex.quote(model.meta.get("run_dir", "RUN_DIR")))
    template = _ENV.get_template("report.html.j2")
    mark = f"datavask-page-data-{secrets.token_hex(16)}"  # in no page: random, made here
    before, after = template.render(model=model, data_json=markupsafe.Markup(mark)).split(mark)
    return before, _script_safe_bytes(page_data(model)), after


def render_html(model: ReportModel) -> str:
    """The report page of a view model."""
    before, data, after = _html_parts(model)
    return before + data.decode("utf-8") + after


def write_html(model: ReportModel, path: Path) -> Path:
    """Write the report page of a view model to ``path`` (what :func:`render_html` returns)."""
    before, data, after = _html_parts(model)
    with path.open("w", encoding="utf-8") as page:
        page.write(before)
        page.flush()
        page.buffer.write(data)
        page.write(after)
    return path


# --------------------------------------------------------------------------- run directories


def _scan_csv(path: Path) -> pl.LazyFrame:
    """A CSV datavask wrote (``,`` or ``;``, with or without a BOM), every column as text."""
    if not path.exists():
        return pl.LazyFrame()
    with path.open(encoding="utf-8-sig") as handle:
        first = handle.readline()
    separator = ";" if first.count(";") > first.count(",") else ","
    return pl.scan_csv(
        path, separator=separator, infer_schema=False, encoding="utf8-lossy", glob=False
    )


# What the view model reads of pairs.parquet (:func:`~.report_model.build_model`: the pairs to
# review, by record and probability, and why each is there where a run says it: a run made
# before ``review_rule`` has no such column).
REVIEW_COLUMNS = ("record_id_l", "record_id_r", "match_probability", "decision")
REVIEW_WHY = "review_rule"


def _review_rows(path: Path) -> pl.LazyFrame | None:
    """Of the run's pairs, the rows and columns the view model reads: the pairs to review, scanned
    rather than read whole (at a million records the pairs are most of the report's memory)."""
    if not path.exists():
        return None
    pairs = pl.scan_parquet(path, glob=False)
    if "decision" not in pairs.collect_schema().names():
        return None  # nothing to review, as build_model says of such pairs
    why = [REVIEW_WHY] if REVIEW_WHY in pairs.collect_schema().names() else []
    return pairs.select(*REVIEW_COLUMNS, *why).filter(pl.col("decision") == "review")


def load_model(
    run_dir: Path, *, lang: str = "da", alerts: pl.DataFrame | None = None
) -> ReportModel:
    """The view model of a run directory; InputError when it is not a readable datavask run."""
    run_dir = Path(run_dir)
    try:
        run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        path = run_dir / "records.parquet"
        mapping = dict((run.get("input") or {}).get("mapping") or {})
        masked = list((run.get("input") or {}).get("masked_columns") or [])
        scanned = pl.scan_parquet(path, glob=False)
        columns = model_columns(list(scanned.collect_schema()), mapping, masked)
        review = _review_rows(run_dir / "pairs.parquet")
        # the four files are read side by side
        records, pairs, changes, plan = pl.collect_all(
            [
                scanned.select(columns),
                review if review is not None else pl.LazyFrame(),
                _scan_csv(run_dir / "changes.csv"),
                _scan_csv(run_dir / "reimport" / "merge_plan.csv"),
            ]
        )
    except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"{run_dir}: cannot read the run ({type(exc).__name__}: {exc})") from None
    if not isinstance(run, dict) or not {"cluster_id", "record_id"} <= set(records.columns):
        raise InputError(f"{run_dir}: run.json or records.parquet is not a datavask run's")
    return build_model(
        run,
        records,
        pairs=pairs if review is not None else None,
        changes=changes,
        merge_plan=plan,
        alerts=alerts,
        lang=lang,
    )


def render_report(run_dir: Path, *, lang: str = "da", alerts: pl.DataFrame | None = None) -> Path:
    """Write ``report.html`` and ``worklist.xlsx`` of a run directory; returns the report path.

    ``alerts`` is a monitor's alerts frame (contract: ``alerts.csv`` columns); given, the
    registry section lists the changes since the last monitoring run.
    """
    from datavask.cleansing.matching.threads import beside
    from datavask.connectors.worklist import write_worklist

    run_dir = Path(run_dir)
    model = load_model(run_dir, lang=lang, alerts=alerts)
    # The page is written while the workbook is: the workbook is polars and zlib, which let go
    # of the GIL, the page mostly orjson and Jinja2, so on two cores the page costs no wall time
    # (at a million records, seconds). Both only read the model.
    with beside(
        lambda: replace_atomically(run_dir / "report.html", lambda tmp: write_html(model, tmp))
    ) as page:
        replace_atomically(run_dir / "worklist.xlsx", lambda tmp: write_worklist(model, tmp))
        return page.result()


# --------------------------------------------------------------------------- summaries


def summary_rows(run: dict[str, Any], lang: str = "da") -> list[tuple[str, str, str]]:
    """(label, number, note) rows of the headline, for the terminal and Prefect artifacts."""
    text = Text(lang)
    counts = run.get("counts", {})
    rows = [(m.label, text.number(m.value), m.note) for m in headline(run, text)]
    if registry_skipped(run):
        rows.append(
            (text("sum_registry"), text("sum_registry_skipped"), text("sum_registry_skipped_note"))
        )
    elif "registry_checked" in counts:
        note = text(
            "sum_registry_note",
            n=text.number(counts.get("registry_checked")),
            not_found=text.number(counts.get("registry_not_found")),
            unchecked=text.number(counts.get("registry_unchecked")),
        )
        rows.append((text("sum_registry"), text.number(counts.get("registry_checked")), note))
        step = run.get("steps", {}).get("registry") or {}
        if step.get("uncovered"):
            checked = int(step.get("checked", 0))
            warning = text(
                "sum_registry_uncovered",
                known=text.number(checked - int(step.get("not_found", 0))),
                checked=text.number(checked),
            )
            rows.append((text("sum_warning"), "", warning))
    if "pairs_review" in counts:
        run_dir = shlex.quote(str(run.get("options", {}).get("out", "RUN_DIR")))
        rows.append(
            (
                text("sum_review"),
                text.number(counts["pairs_review"]),
                text("sum_review_note", n=text.number(counts["pairs_review"]), run_dir=run_dir),
            )
        )
    return rows


def summary_table(run: dict[str, Any], lang: str = "da") -> list[dict[str, Any]]:
    """Headline numbers then reason codes, one dict per row, for a Prefect table artifact."""
    text = Text(lang)
    total = run.get("counts", {}).get("records")
    rows = [
        {"metric": label, "value": value, "note": note}
        for label, value, note in summary_rows(run, lang)
    ]
    for code, n in sorted(run.get("flags", {}).items(), key=lambda item: (-item[1], item[0])):
        if n:
            note = f"{text.percent(n, total)} {text('share_of_records')}: {text.flag_text(code)}"
            rows.append({"metric": code, "value": text.number(n), "note": note})
    return rows


def summary_markdown(run: dict[str, Any], lang: str = "da") -> str:
    """A short Markdown summary of a run for a Prefect markdown artifact."""
    text = Text(lang)
    counts = run.get("counts", {})
    source = Path(str(run.get("input", {}).get("path", "input"))).name

    def cell(value: object) -> str:
        # Prefect renders the Markdown: a file name or value must not become markup.
        return (
            str(value)
            .replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace("|", "\\|")
            .replace("\n", " ")
        )

    lines = [
        f"# datavask: {cell(source)}",
        "",
        "**"
        + text(
            "records_customers",
            records=text.number(counts.get("records")),
            customers=text.number(counts.get("customers")),
        )
        + "**",
        "",
        f"| | {text('count')} | |",
        "|---|---:|---|",
    ]
    lines.extend(f"| {cell(a)} | {cell(b)} | {cell(c)} |" for a, b, c in summary_rows(run, lang))
    return "\n".join(lines) + "\n"
