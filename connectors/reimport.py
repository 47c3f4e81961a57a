"""CRM-shaped files to load a run's result back where the data came from.

``reimport/customers_update.csv`` has the input's own headers in the input's order, delimiter and
encoding, one row per input row (or per changed row), with the cleaned values written into the
mapped columns and every other column exactly as read. A workbook input (which has no delimiter
or encoding) gets a CSV a Danish Excel opens, and ``customers_update.xlsx`` with its cells of the
kinds the sheet had (:mod:`connectors.reimport_xlsx`). The values are those of
:func:`cleansing.changes.input_shaped` over :func:`cleansing.survivorship.apply_golden` — so
``changes.csv`` lists exactly what this file changes, and cleansing the file again changes
nothing:

- every company record whose CVR the registry trusts gets the registry's proposals (the current
  name of a renamed company, the current address of one that moved), survivor or not;
- the record each cluster keeps carries the golden values of the whole cluster;
- records merged away keep their own cleaned values: the CRM bars or merges them
  (``merge_plan.csv``), and copying the survivor's values onto them would only hide what they
  held.

A value cleansing could not clean (an invalid phone number) keeps its original: it is flagged,
not erased. A one-line address column gets street, number, floor and door, plus postal code and
city only when the input has no columns of its own for them.

Phone numbers are written in E.164 (``+4512345678``): every CRM accepts it, it survives a round
trip through Excel as text, and the next cleansing run reads it back unchanged. The country,
customer type, dates and id columns are never rewritten (their vocabulary belongs to the CRM).

``reimport/merge_plan.csv`` says, per cluster with duplicates, which record survives, which are
merged into it, the weakest match probability that links them, and what to do in the CRM:
e-conomic cannot merge customers (update the survivor, bar the others), HubSpot merges two
records at a time, Salesforce up to three.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import unicodedata
from pathlib import Path
from typing import Any, Final

import polars as pl

from datavask.cleansing.changes import SHAPED_FIELDS, input_shaped, written_back
from datavask.cleansing.cpr import MASK
from datavask.cleansing.schema import SRC_PREFIX
from datavask.cleansing.survivorship import apply_golden
from datavask.connectors.mapping import postal_code_with_town
from datavask.connectors.output import neutralise_formulas, neutralised, write_excel_csv
from datavask.connectors.reimport_xlsx import write_update_xlsx

log = logging.getLogger(__name__)

CRMS: Final = ("generic", "economic", "hubspot", "salesforce", "dynamics")
# Headers only one CRM's export has: enough to tell the dialect when ingest did not.
_CRM_HEADERS: Final = {
    # e-conomic's API names, and its Danish export's: ``Telefon- og faxnummer`` is its field
    # telephoneAndFaxNumber, which no other system has (``Kundenr.``, ``CVR-nr.``, ``EAN-nr.``,
    # ``Kundegruppe`` are every Danish system's, and decide nothing).
    "economic": {
        "customernumber",
        "corporateidentificationnumber",
        "telephoneandfaxnumber",
        "telefon- og faxnummer",
    },
    "hubspot": {"record id", "company domain name", "hubspot owner", "associated contact"},
    # Dynamics 365 before Salesforce: its accounts have an "Account Name" too. An export made to
    # be imported again carries its "(Do Not Modify)" columns.
    "dynamics": {
        "(do not modify) account",
        "(do not modify) contact",
        "(do not modify) row checksum",
        "(do not modify) modified on",
        "address 1: street 1",
        "address 1: zip/postal code",
    },
    "salesforce": {
        "account id",
        "accountnumber",
        "billingstreet",
        "account name",
        "billingpostalcode",
    },
}
_MERGE_PLAN_SCHEMA: Final = {
    "survivor_id": pl.String,
    "merged_ids": pl.String,
    "score": pl.Float64,
    "crm_action": pl.String,
    "survivor_row": pl.String,  # input row numbers: the one handle on a record without an id
    "merged_rows": pl.String,
}


# Per CRM that merges a few records at a time: how many merge into the survivor at one step, and
# merge_plan.csv's instruction (the report translates it, connectors.report_text.CRM_ACTIONS).
_MERGE_STEPS: Final = {
    "hubspot": (1, "merge into survivor (HubSpot merges two records at a time)"),
    "salesforce": (
        2,
        "merge into survivor as master record (Salesforce merges up to three at once)",
    ),
    "dynamics": (1, "merge into survivor as master record (Dynamics 365 merges two at a time)"),
}


def detect_crm(input_info: dict[str, Any]) -> str:
    """The CRM the input was exported from: ingest's ``dialect`` when known, else by its headers."""
    dialect = str(input_info.get("dialect") or "").lower().replace("-", "")
    if dialect in CRMS:
        return dialect
    headers = {str(c).strip().lower() for c in input_info.get("columns", [])}
    for crm, marks in _CRM_HEADERS.items():
        if headers & marks:
            return crm
    return "generic"


def write_reimport(
    out_dir: Path,
    records: pl.DataFrame,
    golden: pl.DataFrame,
    pairs: pl.DataFrame | None,
    *,
    input_info: dict[str, Any],
    only_changed: bool = False,
    crm: str = "auto",
    shaped: pl.DataFrame | None = None,
    source: str | None = None,
) -> dict[str, Path]:
    """Write ``out_dir/reimport/customers_update.csv`` and ``merge_plan.csv``; return their paths.

    ``crm`` is one of :data:`CRMS` or ``auto`` (:func:`detect_crm`). ``only_changed`` keeps only
    the rows where at least one cell differs from the input. ``shaped`` is the records' cleaned
    values shaped like the input when already made (see :func:`customers_update`). ``source`` is
    the input as the run was given it: a workbook's number cells are read again from it
    (:func:`~datavask.connectors.reimport_xlsx.write_update_xlsx`).
    """
    if crm == "auto":
        crm = detect_crm(input_info)
    if crm not in CRMS:
        raise ValueError(f"unknown CRM {crm!r}; choose one of {', '.join(CRMS)}")
    target = out_dir / "reimport"
    target.mkdir(parents=True, exist_ok=True)

    update, changed = customers_update(records, golden, input_info=input_info, shaped=shaped)
    read = (
        rows_as_read(records, update, input_info, only=changed if only_changed else None)
        if input_info.get("format") == "xlsx"
        else None
    )
    if only_changed:
        update = update.filter(changed)
    update_path = target / "customers_update.csv"
    _write_like_input(update, update_path, input_info)
    if read is not None:
        write_update_xlsx(target / "customers_update.xlsx", update, read, input_info, source)

    plan_path = target / "merge_plan.csv"
    write_excel_csv(merge_plan(golden, pairs, crm=crm, ids=crm_ids(records, input_info)), plan_path)
    return {"customers_update": update_path, "merge_plan": plan_path}


def left_out_columns(input_info: dict[str, Any]) -> list[str]:
    """The input columns ``customers_update.csv`` leaves out, in the input's order: those datavask
    only passes on (a ``CPR-nr`` column, a note ``Bemærkning`` that mentions one) in which a CPR
    number was masked (``input.masked_columns``). Loaded into the CRM, the mask would overwrite
    the customers' numbers and notes. Columns datavask writes cleaned values into stay (a name's
    CPR remark is cleaned off), as does the customer number column, the rows' key.

    >>> left_out_columns({"columns": ["Kundenr", "Navn", "Bemærkning"],
    ...     "mapping": {"record_id": "Kundenr", "name": "Navn"},
    ...     "masked_columns": ["Navn", "Bemærkning"]})
    ['Bemærkning']
    """
    mapping: dict[str, str] = dict(input_info.get("mapping") or {})
    cleaned = {mapping[f] for f in SHAPED_FIELDS if f in mapping} | {mapping.get("record_id")}
    masked = set(input_info.get("masked_columns") or []) - cleaned
    return [c for c in input_info.get("columns") or [] if c in masked]


def customers_update(
    records: pl.DataFrame,
    golden: pl.DataFrame | None,
    *,
    input_info: dict[str, Any],
    shaped: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.Series]:
    """The input's columns with cleaned values in the mapped ones, and which rows changed.

    A row the reader reported (``source_problem``: too many or too few fields, the header again,
    a totals row, a quote never closed) is left out: its cells may stand in other columns than
    their headers (``Vestergade 1; 2. th`` unquoted moved the postal code into the city's column
    and the e-mail off the row), and loaded back it would write them there, or add a customer
    named ``Navn`` or ``I alt``. It stays in ``records.parquet`` with its problem.

    The cleaned values are :func:`cleansing.changes.input_shaped` over
    :func:`cleansing.survivorship.apply_golden`; ``shaped`` is that frame when the caller
    already made it (the verdict step does, for ``changes.csv``), row for row with ``records``;
    with it, ``golden`` is not needed (None).
    """
    mapping: dict[str, str] = dict(input_info.get("mapping") or {})
    masked = set(left_out_columns(input_info))
    columns = [c for c in input_info.get("columns") or [] if c not in masked]
    present = set(records.columns)  # a set: inputs with 100,000 columns exist
    missing = [c for c in columns if f"{SRC_PREFIX}{c}" not in present]
    if missing:
        raise ValueError(f"records lack the src_ columns of input columns {missing}")

    if shaped is None:
        if golden is None:
            raise ValueError("customers_update needs the golden records or the shaped values")
        shaped = input_shaped(
            apply_golden(records, golden),
            mapped=written_back(mapping),
            postal_town=postal_code_with_town(mapping),
        )
    elif not shaped.get_column("record_id").equals(
        records.get_column("record_id").cast(pl.String), check_names=False
    ):
        raise ValueError("the shaped values are not row for row with the records")
    # The column the CRM keys its rows by goes back as read (written_back).
    written = written_back(mapping)
    writable = {field: mapping[field] for field in SHAPED_FIELDS if field in written}
    by_column: dict[str, pl.Expr] = {}
    for field, column in writable.items():
        # A column mapped twice (address and street both on "Adresse") takes the first field.
        by_column.setdefault(
            column,
            pl.coalesce(
                pl.lit(shaped.get_column(field)), pl.col(f"{SRC_PREFIX}{column}").cast(pl.String)
            ),
        )
    update = records.select(
        [by_column.get(c, pl.col(f"{SRC_PREFIX}{c}")).alias(c) for c in columns]
    )

    # A row is changed where a cell as written (with the apostrophe a formula gets before it,
    # :func:`~datavask.connectors.output.neutralise_formulas`) differs from the cell as read:
    # ``+ ring før levering`` in a passed-on column goes back ``'+ ring før levering`` in the
    # whole re-import, so --only-changed writes that row too, and loading either file leaves the
    # CRM alike. A cell the CRM already holds so (``'-bent@x.dk``) is no change.
    def as_read(column: str) -> pl.Expr:
        return pl.col(f"{SRC_PREFIX}{column}").cast(pl.String).replace("", None)

    differs = [
        neutralised(by_column[c].replace("", None)).ne_missing(as_read(c)) for c in by_column
    ]
    schema = records.schema  # once: made anew on each call, 20,000 columns made it quadratic
    passed_on = [
        c for c in columns if c not in by_column and schema[f"{SRC_PREFIX}{c}"] == pl.String
    ]
    differs += [neutralised(as_read(c)).ne_missing(as_read(c)) for c in passed_on]
    changed = records.select(
        pl.any_horizontal(differs or [pl.lit(False)]).alias("changed")
    ).to_series()
    sound = reimported_rows(records, input_info)
    if not sound.all():
        update, changed = update.filter(sound), changed.filter(sound)
    return update, changed


def reimported_rows(records: pl.DataFrame, input_info: dict[str, Any]) -> pl.Series:
    """Per record, whether :func:`customers_update` writes its row: not where the reader
    reported the row (``source_problem``) nor where the CRM cannot find it by its key
    (:func:`_findable`)."""
    sound = _findable(records, dict(input_info.get("mapping") or {}).get("record_id"))
    if "source_problem" in records.columns:
        sound &= records.get_column("source_problem").is_null()
    return sound


def rows_as_read(
    records: pl.DataFrame,
    update: pl.DataFrame,
    input_info: dict[str, Any],
    *,
    only: pl.Series | None = None,
) -> pl.DataFrame:
    """Row for row with :func:`customers_update`'s ``update``: the records' ``source_row`` and
    the ``src_`` column of each of its columns; ``only`` the rows ``--only-changed`` keeps
    (customers_update's ``changed``)."""
    rows = records.select("source_row", *(f"{SRC_PREFIX}{c}" for c in update.columns)).filter(
        reimported_rows(records, input_info)
    )
    return rows if only is None else rows.filter(only)


def _findable(records: pl.DataFrame, key: str | None) -> pl.Series:
    """Per record, whether the CRM can find its row by the key column: false where the key was a
    CPR number, masked — every such row would carry the same ``XXXXXX-XXXX`` and, loaded back,
    update one customer with the others' values or add them anew (run.json counts them,
    ``counts.rows_with_masked_id``) — and false where several rows carry the key (``1002`` on
    Ole Berg's row and on Pia Dahl's): loaded by id, one customer would get the other's values
    (``counts.rows_with_repeated_id``). Such a row's record id was made ``<id>#<row>``
    (:func:`datavask.connectors.files.record_ids`)."""
    column = f"{SRC_PREFIX}{key}"
    if key is None or column not in records.columns:
        return pl.repeat(True, records.height, eager=True)
    ident = pl.col(column).cast(pl.String)
    typed = ident.str.strip_chars().replace("", None).is_not_null()
    shared = typed & pl.col("record_id").cast(pl.String).str.ends_with(
        pl.lit("#") + pl.col("source_row").cast(pl.String)
    )
    masked = ident.str.contains(MASK, literal=True)
    return records.select(~(masked | shared).fill_null(False)).to_series()


def crm_ids(records: pl.DataFrame, input_info: dict[str, Any]) -> pl.DataFrame:
    """``record_id → crm_id, source_row``: the id the CRM knows each record by, if any.

    ``record_id`` is datavask's own unique key; where the input had no id, or one several rows
    share, it is made up (:func:`connectors.files.record_ids`) and means nothing to the CRM.
    ``crm_id`` is the input's id cell as read (null when blank or when no id column is mapped).
    """
    column = dict(input_info.get("mapping") or {}).get("record_id")
    source = f"{SRC_PREFIX}{column}"
    ident = pl.col(source).cast(pl.String).str.strip_chars().replace("", None)
    # A masked CPR number is no id the CRM knows (see _findable).
    crm_id = (
        pl.when(~ident.str.contains(MASK, literal=True)).then(ident)
        if column and source in records.columns
        else pl.lit(None, dtype=pl.String)
    )
    return records.select(
        pl.col("record_id").cast(pl.String),
        crm_id.alias("crm_id"),
        pl.col("source_row").cast(pl.Int64),
    )


def merge_plan(
    golden: pl.DataFrame,
    pairs: pl.DataFrame | None,
    *,
    crm: str = "generic",
    ids: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per merge step: ``survivor_id, merged_ids (;-joined), score, crm_action``.

    ``score`` is the lowest ``match_probability`` of the ``match`` pairs inside the cluster: the
    weakest link that put the records together (null without pairs).

    With ``ids`` (:func:`crm_ids`) the plan speaks the CRM's language: ``survivor_id`` and
    ``merged_ids`` hold only ids the input had (a record without one is left out of
    ``merged_ids``, and ``survivor_id`` is empty), and ``survivor_row`` / ``merged_rows`` give
    the input row numbers of every record, so rows without an id (or sharing one) can be found.
    Without ``ids`` the plan lists datavask's record ids and no rows.
    """
    multi = golden.filter(pl.col("cluster_size") > 1).select(
        pl.col("cluster_id").cast(pl.String),
        pl.col("record_id").cast(pl.String).alias("survivor_id"),
        pl.col("member_ids").list.slice(1).alias("merged"),
    )
    if multi.height == 0:
        return pl.DataFrame(schema=_MERGE_PLAN_SCHEMA)
    multi = multi.join(
        _cluster_scores(multi, pairs), on="cluster_id", how="left", maintain_order="left"
    )
    steps = _crm_steps(multi, crm)
    plan = steps.select(
        "survivor_id",
        pl.col("step").list.join(";").alias("merged_ids"),
        pl.col("score").round(4),
        "crm_action",
        pl.lit(None, dtype=pl.String).alias("survivor_row"),
        pl.lit(None, dtype=pl.String).alias("merged_rows"),
    )
    if ids is not None:
        plan = _in_crm_ids(steps, ids)
    return plan.cast(_MERGE_PLAN_SCHEMA)  # type: ignore[arg-type]


def _in_crm_ids(steps: pl.DataFrame, ids: pl.DataFrame) -> pl.DataFrame:
    """The merge steps with datavask's record ids replaced by the CRM's ids and input rows.

    A customer number several rows share (``1`` on rows 1 and 2: their record ids were made
    ``1#1``, ``1#2``) names no one of them: kept, the plan read ``survivor_id 1; merged_ids
    1;5``, merging a customer into itself. Such a record is named by its row alone, as one
    without an id is.
    """
    row = pl.col("source_row").cast(pl.String)
    shared = pl.col("record_id").cast(pl.String).str.ends_with(pl.lit("#") + row)
    lookup = ids.select(
        pl.col("record_id").cast(pl.String),
        pl.when(~shared).then(pl.col("crm_id").cast(pl.String)).alias("crm_id"),
        row.alias("source_row"),
    )
    merged = (
        steps.with_row_index("_step_no")
        .select("_step_no", pl.col("step").cast(pl.List(pl.String)))
        .explode("step")
        .join(lookup, left_on="step", right_on="record_id", how="left", maintain_order="left")
        .group_by("_step_no", maintain_order=True)
        .agg(
            pl.col("crm_id").drop_nulls().str.join(";").alias("merged_ids"),
            pl.col("source_row").drop_nulls().str.join(";").alias("merged_rows"),
        )
    )
    survivor = lookup.rename(
        {"record_id": "survivor_id", "crm_id": "_survivor_crm", "source_row": "survivor_row"}
    )
    return (
        steps.with_row_index("_step_no")
        .join(survivor, on="survivor_id", how="left", maintain_order="left")
        .join(merged, on="_step_no", how="left", maintain_order="left")
        .select(
            pl.col("_survivor_crm").alias("survivor_id"),
            pl.col("merged_ids").replace("", None),
            pl.col("score").round(4),
            "crm_action",
            "survivor_row",
            "merged_rows",
        )
    )


def _crm_steps(multi: pl.DataFrame, crm: str) -> pl.DataFrame:
    """One row per merge step in ``crm``: survivor_id, score, step (list of ids), crm_action."""

    if crm == "economic":
        steps = multi.with_columns(
            pl.col("merged").alias("step"),
            pl.lit("update survivor; set barred=true on merged").alias("crm_action"),
        )
    elif crm in _MERGE_STEPS:
        per_step, action = _MERGE_STEPS[crm]
        steps = (
            multi.with_columns(
                pl.col("merged").list.eval(pl.element().cast(pl.String)).alias("merged"),
            )
            .explode("merged")
            .with_columns((pl.int_range(pl.len()).over("cluster_id") // per_step).alias("_step"))
            .group_by("cluster_id", "survivor_id", "score", "_step", maintain_order=True)
            .agg(pl.col("merged").alias("step"))
            .with_columns(pl.lit(action).alias("crm_action"))
        )
    else:
        steps = multi.with_columns(
            pl.col("merged").alias("step"),
            pl.lit("merge into survivor").alias("crm_action"),
        )
    return steps.select(
        "survivor_id", "score", pl.col("step").cast(pl.List(pl.String)), "crm_action"
    )


def _cluster_scores(multi: pl.DataFrame, pairs: pl.DataFrame | None) -> pl.DataFrame:
    members = multi.select(
        "cluster_id",
        pl.concat_list(pl.col("survivor_id"), pl.col("merged")).alias("rid"),
    ).explode("rid")
    empty = pl.DataFrame(schema={"cluster_id": pl.String, "score": pl.Float64})
    if pairs is None or pairs.height == 0 or "match_probability" not in pairs.columns:
        return empty
    candidate = pairs.select(
        pl.col("record_id_l").cast(pl.String),
        pl.col("record_id_r").cast(pl.String),
        pl.col("match_probability").cast(pl.Float64),
        (pl.col("decision") == "match").alias("is_match")
        if "decision" in pairs.columns
        else pl.lit(True).alias("is_match"),
    )
    inside = (
        candidate.join(members.rename({"rid": "record_id_l"}), on="record_id_l")
        .join(members.rename({"rid": "record_id_r", "cluster_id": "cluster_r"}), on="record_id_r")
        .filter(pl.col("cluster_id") == pl.col("cluster_r"))
    )
    return inside.group_by("cluster_id").agg(
        pl.coalesce(
            pl.col("match_probability").filter(pl.col("is_match")).min(),
            pl.col("match_probability").max(),
        ).alias("score")
    )


# customers_update.csv of a workbook input: what a Danish Excel opens by double-click.
_EXCEL_CSV: Final = (";", "utf-8-sig")


def _write_like_input(frame: pl.DataFrame, path: Path, input_info: dict[str, Any]) -> None:
    path.write_bytes(like_input_csv(frame, input_info))


def like_input_csv(
    frame: pl.DataFrame, input_info: dict[str, Any], *, header: bool = True
) -> bytes:
    """CSV with the input's delimiter and encoding; ``header=False`` for a later part of one
    file written in parts.

    A workbook has neither: its CSV is written as a Danish Excel opens it by double-click, UTF-8
    with BOM and ``;`` between fields, as ``changes.csv`` (with UTF-8 and ``,`` it opened as one
    column). Parquet and JSON-lines inputs, read by programs, get UTF-8 and ``,``.
    """
    fmt = input_info.get("format", "csv")
    delimiter, encoding = _EXCEL_CSV if fmt == "xlsx" else (",", "utf-8")
    if fmt == "csv":
        delimiter = str(input_info.get("delimiter") or delimiter)
        encoding = str(input_info.get("encoding") or encoding)
    # an emptied cell (a second address line whose text went to the first) is written empty,
    # as an empty cell of the input is, not as a quoted ""
    text_frame = neutralise_formulas(
        frame.select(as_text(name, dtype).replace("", None) for name, dtype in frame.schema.items())
    )
    terminator = str(input_info.get("line_terminator") or "\n")
    # Header cells the input had otherwise than datavask names the columns (blank, padded) are
    # written as the input had them: the CRM's import maps columns by them. One Excel would run
    # (``=HYPERLINK(…)``, ``@SUM(A1)``, ``+cmd|' /C calc'!A0``) is no column a CRM exported: it
    # gets the ``'`` a data cell gets.
    typed = dict(input_info.get("header_as_typed") or {})
    names = pl.DataFrame({"h": [typed.get(c, c) for c in frame.columns]}, schema={"h": pl.String})
    cells = names.select(neutralised(pl.col("h")).alias("h"))["h"].to_list()
    own_header = header and cells != frame.columns
    head = b""
    if own_header:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, lineterminator=terminator).writerow(cells)
        head = buffer.getvalue().encode(encoding, errors="replace")
    options: dict[str, Any] = {
        "separator": delimiter,
        "line_terminator": terminator,
        "include_header": header and not own_header,
    }
    if codecs.lookup(encoding).name == "utf-8":
        # polars writes UTF-8: the bytes as they are, not decoded into a str and encoded back
        buffer_bytes = io.BytesIO()
        text_frame.write_csv(buffer_bytes, **options)
        return head + buffer_bytes.getvalue()
    text = text_frame.write_csv(**options)
    try:
        body = text.encode(encoding)
    except UnicodeEncodeError:
        body = _encode_cell_by_cell(
            text_frame, encoding, delimiter, input_info, header=options["include_header"]
        )
    # An encoding with a byte-order mark (``utf-8-sig``, ``utf-16``) puts it before every text
    # it encodes: the file has it once, at its start (before the header line, whoever wrote it),
    # and a later part of a file written in parts has none (the Dask engine's row parts
    # concatenated read ``\ufeff10644`` at each part's first customer number otherwise).
    bom = "".encode(encoding)
    return head + (body.removeprefix(bom) if head or not header else body)


def as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    """A column as CSV text: lists and structs (from a Parquet input) as JSON, the rest cast."""
    if isinstance(dtype, pl.List | pl.Array | pl.Struct):
        nested = (
            pl.col(name) if isinstance(dtype, pl.Struct) else pl.struct(pl.col(name).alias("v"))
        )
        text = nested.struct.json_encode()
        if not isinstance(dtype, pl.Struct):  # {"v":[…]} → […]
            text = text.str.slice(5).str.strip_suffix("}")
        return pl.when(pl.col(name).is_null()).then(None).otherwise(text).alias(name)
    return pl.col(name).cast(pl.String)


def _encode_cell_by_cell(
    frame: pl.DataFrame,
    encoding: str,
    delimiter: str,
    input_info: dict[str, Any],
    *,
    header: bool = True,
) -> bytes:
    """The CSV with characters the encoding cannot hold (a registry name in cp1252) written as
    their letter without its accent (:func:`transliterated`), else as ``?``."""
    replaced = 0

    def encodable(value: str | None) -> str | None:
        nonlocal replaced
        if value is None:
            return None
        try:
            value.encode(encoding)
        except UnicodeEncodeError:
            replaced += 1
            return transliterated(value, encoding)
        return value

    safe = frame.with_columns(
        pl.col(c).map_elements(encodable, return_dtype=pl.String) for c in frame.columns
    )
    log.warning(
        "re-import: %d cells had characters %s cannot hold; written without their accents "
        "(or as '?')",
        replaced,
        encoding,
    )
    text = safe.write_csv(
        separator=delimiter,
        line_terminator=str(input_info.get("line_terminator") or "\n"),
        include_header=header,
    )
    return text.encode(encoding)


# Letters without a decomposition into a base letter and an accent.
_OWN_LETTERS: Final = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i"}


def transliterated(text: str, encoding: str) -> str:
    """``text`` with every character ``encoding`` cannot hold written as its base letter, its
    accent dropped (``Łódź Handel ApS`` in cp1252: ``Lódz Handel ApS``), or as ``?``.

    >>> transliterated("Łódź Handel ApS", "cp1252"), transliterated("Nowa Huta ☃", "cp1252")
    ('Lódz Handel ApS', 'Nowa Huta ?')
    """

    def held(char: str) -> str:
        try:
            char.encode(encoding)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", _OWN_LETTERS.get(char, char))
            bare = "".join(c for c in base if not unicodedata.combining(c))
            return bare.encode(encoding, errors="replace").decode(encoding) or "?"
        return char

    return "".join(held(char) for char in text)
