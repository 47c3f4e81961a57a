"""``worklist.xlsx``: one sheet per action for the people who fix the data in the CRM.

Sheets, in money order: cannot be invoiced, cannot go to collection, registry events (and
monitoring alerts when given), duplicates to merge, the merge plan, pairs to review, data quality,
changes. Each has the columns a person needs to find the customer in the CRM and fix it (customer
numbers, the value in the CRM and the cleaned one, the registry's values and a link to the
company on datacvr.virk.dk), a frozen header row, filters and column widths; headers in the
report's language.

Every cell is written as text or a number, never as a formula: values starting with ``=``, ``+``,
``-`` or ``@`` stay text, as do URLs and number-like strings (:mod:`connectors.xlsx` writes
whole columns at once, with no formula path at all). CPR
numbers are already masked in the frames this is written from. A sheet holds at most Excel's
1,048,575 data rows; longer lists continue on sheets named ``… (2)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import polars as pl

from datavask.connectors.report_model import ReportModel
from datavask.connectors.report_text import FLAG_TEXT, Text
from datavask.connectors.xlsx import Sheet, column_widths, typed_cells, write_xlsx

MAX_ROWS: Final = 1_048_575  # Excel's limit, less the header
# The columns that hold a match probability (Dubletter's and Sammenlægningsplan's score, Til
# vurdering's probability), by their catalogue keys, and the number format they are shown in.
_PROBABILITIES: Final = ("x_score", "x_probability")
PERCENT: Final = "0.0%"
CVR_URL: Final = "https://datacvr.virk.dk/enhed/virksomhed/"
_EVENT_CODES: Final = {
    "bankrupt": "COMPANY_BANKRUPT",
    "dissolved": "COMPANY_DISSOLVED",
    "distressed": "COMPANY_DISTRESSED",
    "moved": "ADDRESS_MISMATCH",
}


def _explained(codes: pl.Expr, table: dict[str, str], allowed: list[str]) -> pl.Expr:
    """The texts of the ``allowed`` codes in a list column, one per line."""
    kept = codes.list.eval(pl.element().filter(pl.element().is_in(allowed)))
    return (
        kept.list.eval(
            pl.element().replace_strict(table, default=pl.element(), return_dtype=pl.String)
        )
        .list.unique(maintain_order=True)
        .list.join("\n")
    )


# A date cell's number format, as the report writes the date: 12.05.2012 in Danish.
_DATE_FORMATS: Final = {"da": ("DD.MM.YYYY", "%d.%m.%Y"), "en": ("YYYY-MM-DD", "%Y-%m-%d")}
_TYPED_CELL: Final = frozenset({"text", "number", "format"})


def _date_cells(iso: pl.Expr, lang: str) -> pl.Expr:
    """An ISO date column (``2012-05-12``) as date cells: Excel's day number (41041, days since
    1899-12-30) shown ``12.05.2012``, so the column sorts and filters as dates; the text (for
    the column's width) is the same date."""
    excel, python = _DATE_FORMATS.get(lang, _DATE_FORMATS["en"])
    day = iso.str.to_date("%Y-%m-%d", strict=False)
    serial = (day - pl.date(1899, 12, 30)).dt.total_days().cast(pl.String)
    return typed_cells(
        day.dt.strftime(python), serial, pl.when(day.is_not_null()).then(pl.lit(excel))
    )


def _lines(*parts: pl.Expr) -> pl.Expr:
    """The non-empty texts of ``parts``, one per line; null when none is."""
    kept = [pl.when(p != "").then(p) for p in parts]
    return pl.concat_str(kept, separator="\n", ignore_nulls=True).replace("", None)


def _cpr_notes(text: Text) -> pl.Expr:
    """What the re-import does to a CRM value the sheet shows that held a CPR number, one line
    per field: ``telefon i CRM: CPR-nummer: feltet tømmes i CRM ved genindlæsning`` beside a
    phone cell that was ``0101801234`` (the report says it beside the value). Without it, the
    empty cleaned cell beside ``XXXXXX-XXXX`` read as an invalid value the CRM keeps."""
    notes = [
        pl.when(pl.col(f"cpr_{how}").list.contains(field)).then(
            pl.lit(f"{text(f'x_{field}_before')}: {text(f'cpr_{how}')}")
        )
        for field in ("name", "address", "phone", "email", "cvr", "ean")
        for how in ("emptied", "stripped")
    ]
    return _lines(*notes)


def _customer_sheet(model: ReportModel, key: str, text: Text) -> pl.DataFrame:
    group = model.group(key)
    assert group is not None
    rows = model.customers[group.rows] if group.rows else model.customers.clear()
    lang = model.lang
    if key == "registry":
        codes = [reason.code for reason in group.reasons]
        events = {e: text(f"event_{e}") for e in codes}
        actions = {e: text.flag_action(_EVENT_CODES.get(e, "NAME_MISMATCH")) for e in codes}
        lead = [
            pl.col("events")
            .list.eval(
                pl.element().replace_strict(events, default=pl.element(), return_dtype=pl.String)
            )
            .list.join(", ")
            .alias(text("x_events")),
            _lines(_explained(pl.col("events"), actions, codes), _cpr_notes(text)).alias(
                text("x_todo")
            ),
        ]
    else:
        codes = group.codes
        todo = _lines(
            _explained(pl.col("flags"), text.flag_actions(), codes),
            # which of the CRM's fields held the number, by the input's column names
            pl.when(pl.lit("CPR_IN_DATA" in codes) & pl.col("flags").list.contains("CPR_IN_DATA"))
            .then(pl.col("cpr_where"))
            .otherwise(pl.lit(None, pl.String)),
            _cpr_notes(text),
        )
        lead = [
            pl.col("flags")
            .list.eval(pl.element().filter(pl.element().is_in(codes)))
            .list.join(", ")
            .alias(text("x_reasons")),
            _explained(pl.col("flags"), FLAG_TEXT[lang], codes).alias(text("x_why")),
            todo.alias(text("x_todo")),
        ]
    if key == "duplicates":
        lead = [
            pl.col("survivor_id").alias(text("x_survivor")),
            pl.col("merged_ids").alias(text("x_merged")),
            pl.col("merge_score").alias(text("x_score")),
            pl.col("merge_plan").alias(text("x_plan")),
        ]
    class_names = {
        c: text(f"class_{c}")
        for c in (
            "active",
            "distressed",
            "bankrupt",
            "dissolved",
            "not_found",
            "unchecked",
            "no_cvr",
            "person",
        )
    }
    # A MINOR's date of birth, which its action may call wrong; no column where no customer of
    # the sheet has one (a file without dates of birth, a sheet without such a code).
    born = []
    if rows.get_column("date_of_birth").is_not_null().any():
        born = [_date_cells(pl.col("date_of_birth"), lang).alias(text("x_date_of_birth"))]
    return rows.select(
        pl.col("record_ids").alias(text("x_record_ids")),
        pl.coalesce("flagged", "record_ids").alias(text("x_flagged_ids")),
        *lead,
        pl.col("name").alias(text("x_name")),
        pl.col("name_before").alias(text("x_name_before")),
        *born,
        pl.col("address").alias(text("x_address")),
        pl.col("address_before").alias(text("x_address_before")),
        pl.col("phone").alias(text("x_phone")),
        pl.col("phone_before").alias(text("x_phone_before")),
        pl.col("email").alias(text("x_email")),
        pl.col("email_before").alias(text("x_email_before")),
        pl.col("cvr").alias(text("x_cvr")),
        pl.col("cvr_before").alias(text("x_cvr_before")),  # an INVALID_CVR's, as typed
        pl.col("ean").alias(text("x_ean")),
        pl.col("ean_before").alias(text("x_ean_before")),  # an INVALID_EAN's, as typed
        pl.when(pl.col("cvr").str.contains(r"^\d{8}$"))
        .then(pl.lit(CVR_URL) + pl.col("cvr"))
        .alias(text("x_cvr_link")),
        pl.col("registry_name").alias(text("x_registry_name")),
        pl.col("registry_status").alias(text("x_registry_status")),
        pl.col("registry_class")
        .replace_strict(class_names, default=None, return_dtype=pl.String)
        .alias(text("x_registry_class")),
        pl.concat_str(
            ["registry_new_name", "registry_new_address"], separator=", ", ignore_nulls=True
        )
        .replace("", None)
        .alias(text("x_registry_new")),
        pl.col("cluster_id").alias(text("x_cluster")),
    )


def _renamed(frame: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    present = {k: v for k, v in names.items() if k in frame.columns}
    return frame.select(list(present)).rename(present)


def sheets(model: ReportModel) -> list[tuple[str, pl.DataFrame]]:
    """(sheet name, frame) for every sheet of the worklist, in order."""
    text = model.text
    out = [
        (text("sheet_invoice"), _customer_sheet(model, "invoice", text)),
        (text("sheet_collection"), _customer_sheet(model, "collection", text)),
        (text("sheet_registry"), _customer_sheet(model, "registry", text)),
    ]
    if model.alerts is not None:
        out.append((text("sheet_alerts"), model.alerts))
    out.append((text("sheet_duplicates"), _customer_sheet(model, "duplicates", text)))
    plan = model.merge_plan
    if "crm_action" in plan.columns:
        actions = {a: text.crm_action(a) for a in plan["crm_action"].drop_nulls().unique()}
        plan = plan.with_columns(
            pl.col("crm_action").replace_strict(actions, default=None, return_dtype=pl.String)
        )
    out.append(
        (
            text("sheet_merge_plan"),
            _renamed(
                plan,
                {
                    "survivor_id": text("x_survivor"),
                    "merged_ids": text("x_merged"),
                    "score": text("x_score"),
                    "crm_action": text("x_plan"),
                },
            ),
        )
    )
    out.append(
        (
            text("sheet_review"),
            _renamed(
                model.review_pairs,
                {
                    "record_id_l": text("x_left"),
                    "name_l": text("x_left_name"),
                    "address_l": text("x_left_address"),
                    "record_id_r": text("x_right"),
                    "name_r": text("x_right_name"),
                    "address_r": text("x_right_address"),
                    "match_probability": text("x_probability"),
                    "why": text("x_review_why"),
                },
            ),
        )
    )
    out.append((text("section_quality"), _customer_sheet(model, "quality", text)))
    out.append((text("sheet_changes"), _changes_sheet(model.changes, text)))
    return out


def _changes_sheet(changes: pl.DataFrame, text: Text) -> pl.DataFrame:
    """changes.csv with each code in words beside it: ``postal_code`` / ``postnummer`` and
    ``phone_e164`` / "Telefonnummeret skrevet i internationalt format …". The codes stay in
    columns of their own: people filter on them, and changes.csv has them so."""
    words = {
        "field": ("_field_name", text.field),
        "rule": ("_rule_text", text.rule_text),
    }
    changes = changes.with_columns(
        pl.col(code)
        .replace_strict(
            {value: say(value) for value in changes[code].drop_nulls().unique()},
            default=None,
            return_dtype=pl.String,
        )
        .alias(name)
        for code, (name, say) in words.items()
        if code in changes.columns
    )
    return _renamed(
        changes,
        {
            "record_id": text("x_record_id"),
            "field": text("x_field"),
            "_field_name": text("x_field_name"),
            "before": text("x_before"),
            "after": text("x_after"),
            "rule": text("x_rule"),
            "_rule_text": text("x_rule_text"),
        },
    )


def _as_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists joined, dates and anything else that is not a number or text as text."""
    exprs = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.List):
            exprs.append(pl.col(name).cast(pl.List(pl.String)).list.join(", "))
        elif dtype.is_numeric() or dtype == pl.String:
            exprs.append(pl.col(name))
        elif isinstance(dtype, pl.Struct) and {f.name for f in dtype.fields} == _TYPED_CELL:
            exprs.append(pl.col(name))  # a number or date cell (:func:`_date_cells`)
        elif isinstance(dtype, pl.Struct):
            exprs.append(pl.col(name).struct.json_encode())
        else:
            exprs.append(pl.col(name).cast(pl.String))
    return frame.select(exprs)


def _as_percent(frame: pl.DataFrame, columns: set[str]) -> pl.DataFrame:
    """The probability ``columns`` as number cells shown as a percentage (``0.9858`` as
    ``98.6%``, in a Danish Excel ``98,6%``): the report says ``98,6 %``, and a bare ``0.9858``
    in General format read as another number, while a number still sorts and filters. The merge
    plan's scores come from its CSV as text: each is read as a number, and one that is none
    stays the text it was."""
    return frame.with_columns(
        typed_cells(
            pl.col(name).cast(pl.String),
            pl.col(name).cast(pl.Float64, strict=False),
            pl.lit(PERCENT),
        ).alias(name)
        for name in columns & set(frame.columns)
    )


def _sheet_parts(
    name: str, frame: pl.DataFrame, *, link: str, percent: set[str] | None = None
) -> list[Sheet]:
    """A sheet, continued on sheets named ``… (2)`` past Excel's row limit; ``percent`` names
    its probability columns."""
    frame = _as_cells(frame)
    # a typed cell is as wide as its text
    widths = column_widths(
        frame.select(
            pl.col(n).struct.field("text").alias(n) if isinstance(t, pl.Struct) else pl.col(n)
            for n, t in frame.schema.items()
        )
    )
    frame = _as_percent(frame, percent or set())
    chunks = max(1, -(-frame.height // MAX_ROWS))
    return [
        Sheet(
            name=(name if part == 0 else f"{name[:24]} ({part + 1})")[:31],
            frame=frame.slice(part * MAX_ROWS, MAX_ROWS),
            widths=widths,
            link=link,
        )
        for part in range(chunks)
    ]


def write_worklist(model: ReportModel, path: Path) -> Path:
    """Write the worklist of a view model to ``path`` (an .xlsx file)."""
    link = model.text("x_cvr_link")
    percent = {model.text(key) for key in _PROBABILITIES}
    parts = [
        part
        for name, frame in sheets(model)
        for part in _sheet_parts(name, frame, link=link, percent=percent)
    ]
    return write_xlsx(path, parts)
