"""Read a customer export of any common shape into the canonical frame.

Supported: CSV/TSV/TXT with any of ``; , TAB |`` as delimiter in UTF-8, UTF-8 with BOM, UTF-16
(with BOM, as Excel's "Unicode text" writes it), cp1252 or latin-1; Excel ``.xlsx``; Parquet;
JSON lines. Every data row of the file becomes exactly one row of the result, in file order:
rows with too many or too few fields are kept (extra values in ``src__overflow``) and reported in
``source_problem``, never dropped. Entirely blank lines are not rows; they are counted.

The result is the canonical frame of :mod:`cleansing.schema`: ``record_id``, ``source_row``,
``source_problem``, ``raw_<field>`` (text) and ``src_<column>`` (every input column as read).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl

from datavask.cleansing.schema import CANONICAL_FIELDS, RAW_PREFIX, SRC_PREFIX
from datavask.connectors.errors import InputError
from datavask.connectors.mapping import resolve_mapping
from datavask.connectors.masking import mask_input

MAX_FIELD_BYTES: Final = 1_000_000
_DELIMITERS: Final = (";", ",", "\t", "|")
_SNIFF_BYTES: Final = 256 * 1024
OVERFLOW_COLUMN: Final = "_overflow"


@dataclass
class InputInfo:
    """What was read and how: goes into ``run.json`` and lets the re-import mirror the input."""

    path: str
    sha256: str
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    blank_lines_skipped: int = 0
    rows_with_problems: int = 0
    problem_rows: list[int] = field(default_factory=list)  # first 100 source_row numbers
    record_id_problems: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_table(path: Path | str) -> tuple[pl.DataFrame, dict[int, str], InputInfo]:
    """Read any supported file as text columns plus ``source_row``, without mapping.

    Returns the table, the problems of individual rows (source_row → reason) and what was read.
    A connector URL (``postgresql://…``, ``economic://…``) is read by :mod:`connectors.sources`.
    """
    if "://" in str(path):
        from datavask.connectors.sources import read_url_table

        return read_url_table(str(path))
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not a customer file")
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not head.strip():
        raise InputError(f"{path} is empty")

    fmt = _detect_format(path, head)
    info = InputInfo(path=str(path), sha256=sha256_of(path), format=fmt)
    problems: dict[int, str] = {}
    if fmt == "csv":
        table, problems, info.blank_lines_skipped = _read_delimited(path, info)
    elif fmt == "xlsx":
        table = _read_excel(path)
    elif fmt == "parquet":
        table = _read_parquet(path)
    else:
        table = _read_jsonl(path)
    if table.height == 0:
        raise InputError(f"{path} has a header but no data rows")
    info.columns = [c for c in table.columns if c not in ("source_row", OVERFLOW_COLUMN)]
    return table, problems, info


def read_input(
    path: Path | str, *, mapping: dict[str, str] | None = None
) -> tuple[pl.DataFrame, InputInfo]:
    """Read ``path`` into the canonical frame; InputError (one line) when it is unusable."""
    table, problems, info = read_table(path)
    info.mapping = resolve_mapping(info.columns, mapping)
    info.unmapped = [c for c in info.columns if c not in info.mapping.values()]
    frame = _canonical(table, info, problems)
    frame = mask_input(frame, info)  # before anything is written: CPR numbers never leave here
    info.rows = frame.height
    flagged = frame.filter(pl.col("source_problem").is_not_null())
    info.rows_with_problems = flagged.height
    info.problem_rows = flagged["source_row"].head(100).to_list()
    return frame, info


def _detect_format(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        if suffix in (".xlsx", ".xlsm", ".zip", ""):
            return "xlsx"
        raise InputError(
            f"{path} is a zip archive; datavask reads .xlsx workbooks, not other archives"
        )
    if suffix in (".xls",):
        raise InputError(f"{path} is an old .xls workbook; save it as .xlsx or CSV")
    if suffix in (".jsonl", ".ndjson") or (suffix == ".json" and head.lstrip()[:1] == b"{"):
        return "jsonl"
    if suffix == ".parquet":
        raise InputError(f"{path} is named .parquet but is not a Parquet file")
    if suffix in (".xlsx", ".xlsm"):
        raise InputError(f"{path} is named {suffix} but is not an Excel workbook")
    if not head.startswith((b"\xff\xfe", b"\xfe\xff")) and b"\x00" in head:
        raise InputError(
            f"{path} looks like a binary file, not a text export (it contains NUL bytes)"
        )
    return "csv"


# --------------------------------------------------------------------------- delimited text


def detect_encoding(data: bytes) -> str:
    """The encoding of a text export: BOMs first, then strict UTF-8, then cp1252 or latin-1.

    cp1252 and latin-1 agree on every printable byte except 0x80–0x9F; Windows exports use those
    for € – " " …, so cp1252 wins unless a byte cp1252 leaves undefined shows the file is latin-1.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    with contextlib.suppress(UnicodeDecodeError):
        data.decode("utf-8")
        return "utf-8"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


def detect_delimiter(sample: str) -> str:
    """The delimiter that splits the first records into the most, equally long, fields."""
    best, best_score = ",", -1.0
    lines = sample.splitlines()[:-1] or sample.splitlines()  # the last line may be cut
    text = "\n".join(lines[:200])
    for delimiter in _DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = sum(len(r) == width for r in rows) / len(rows)
        score = consistent * 100 + width
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_delimited(path: Path, info: InputInfo) -> tuple[pl.DataFrame, dict[int, str], int]:
    data = path.read_bytes()
    encoding = detect_encoding(data)
    text = data.decode(encoding)
    delimiter = detect_delimiter(text[:_SNIFF_BYTES])
    info.encoding, info.delimiter = encoding, delimiter

    csv.field_size_limit(2**31 - 1)  # the MAX_FIELD_BYTES check below gives the better message
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path} is empty") from None
    header = _clean_header(header, path)
    width = len(header)

    rows: list[list[str | None]] = []
    overflow: list[str | None] = []
    source_rows: list[int] = []
    problems: dict[int, str] = {}
    blank = 0
    record_no = 0
    try:
        for record in reader:
            record_no += 1
            if not record or (all(not v.strip() for v in record) and len(record) <= 1):
                blank += 1
                continue
            for value in record:
                if len(value) > MAX_FIELD_BYTES:
                    raise InputError(
                        f"{path}: row {record_no} has a field of {len(value) / 1e6:.1f} MB "
                        f"(limit {MAX_FIELD_BYTES / 1e6:.0f} MB); is a quote left open?"
                    )
            n = len(record)
            values: list[str | None] = [v if v != "" else None for v in record[:width]]
            if n > width:
                problems[record_no] = f"too many fields ({n}, header has {width})"
                overflow.append(delimiter.join(record[width:]))
            else:
                overflow.append(None)
                if n < width:
                    problems[record_no] = f"too few fields ({n}, header has {width})"
                    values += [None] * (width - n)
            rows.append(values)
            source_rows.append(record_no)
    except csv.Error as exc:
        raise InputError(
            f"{path}: row {record_no + 1} cannot be parsed as {encoding} text ({exc})"
        ) from None

    columns = {name: [r[i] for r in rows] for i, name in enumerate(header)}
    table = pl.DataFrame(columns, schema=dict.fromkeys(header, pl.String))
    table = table.with_columns(
        pl.Series("source_row", source_rows, dtype=pl.Int64),
        pl.Series(OVERFLOW_COLUMN, overflow, dtype=pl.String),
    )
    return table, problems, blank


def _clean_header(header: list[str], path: Path) -> list[str]:
    names = [h.strip().lstrip("\ufeff") for h in header]
    if len(names) == 1 and not names[0]:
        raise InputError(f"{path} has an empty first line where the header should be")
    names = [n or f"column_{i + 1}" for i, n in enumerate(names)]
    seen: dict[str, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    duplicated = [n for n, count in seen.items() if count > 1]
    if duplicated:
        raise InputError(
            f"{path}: the header repeats column names {', '.join(map(repr, duplicated))}; "
            "rename them so each column has its own name"
        )
    return names


# --------------------------------------------------------------------------- other formats


def _read_excel(path: Path) -> pl.DataFrame:
    try:
        table = pl.read_excel(
            path,
            infer_schema_length=0,
            drop_empty_rows=False,
            drop_empty_cols=False,
            raise_if_empty=False,
        )
    except Exception as exc:  # fastexcel raises its own types; any failure is an unreadable file
        raise InputError(
            f"{path}: cannot be read as an Excel workbook ({type(exc).__name__}: {exc})"
        ) from None
    _clean_header(list(table.columns), path)
    table = table.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("source_row"))
    data_cols = [c for c in table.columns if c != "source_row"]
    return table.filter(pl.any_horizontal(pl.col(data_cols).str.strip_chars().ne("")))


def _read_parquet(path: Path) -> pl.DataFrame:
    try:
        table = pl.read_parquet(path)
    except Exception as exc:  # polars' own ComputeError/OSError variants
        raise InputError(f"{path}: cannot be read as Parquet ({exc})") from None
    if "source_row" in table.columns:
        table = table.rename({"source_row": "source_row_"})
    return table.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("source_row"))


def _read_jsonl(path: Path) -> pl.DataFrame:
    records: list[dict[str, Any]] = []
    source_rows: list[int] = []
    keys: dict[str, None] = {}
    try:
        text = path.read_bytes().decode(detect_encoding(path.read_bytes()[:_SNIFF_BYTES]))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not readable as text ({exc})") from None
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: line {line_no} is not valid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise InputError(f"{path}: line {line_no} is not a JSON object")
        keys.update(dict.fromkeys(obj))
        records.append(obj)
        source_rows.append(line_no)
    columns = list(keys)
    data = {c: [_json_text(r.get(c)) for r in records] for c in columns}
    table = pl.DataFrame(data, schema=dict.fromkeys(columns, pl.String))
    return table.with_columns(pl.Series("source_row", source_rows, dtype=pl.Int64))


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


# --------------------------------------------------------------------------- canonical frame


def _canonical(table: pl.DataFrame, info: InputInfo, problems: dict[int, str]) -> pl.DataFrame:
    mapping = info.mapping
    text = {c: pl.col(c).cast(pl.String).str.strip_chars() for c in info.columns}
    raw = [
        (
            pl.when(text[mapping[f]] != "").then(text[mapping[f]]).otherwise(None)
            if f in mapping
            else pl.lit(None, dtype=pl.String)
        ).alias(f"{RAW_PREFIX}{f}")
        for f in CANONICAL_FIELDS
    ]
    src = [pl.col(c).alias(f"{SRC_PREFIX}{c}") for c in info.columns]
    if OVERFLOW_COLUMN in table.columns and table[OVERFLOW_COLUMN].is_not_null().any():
        src.append(pl.col(OVERFLOW_COLUMN).alias(f"{SRC_PREFIX}{OVERFLOW_COLUMN}"))
    problem = (
        pl.Series("source_problem", [problems.get(r) for r in table["source_row"]], dtype=pl.String)
        if problems
        else pl.lit(None, dtype=pl.String).alias("source_problem")
    )
    frame = table.select(pl.col("source_row"), problem, *raw, *src)
    frame = frame.with_columns(_record_id(frame, info))
    return frame.select("record_id", pl.exclude("record_id"))


def _record_id(frame: pl.DataFrame, info: InputInfo) -> pl.Expr:
    """The input's id where it is present and unique, else the 1-based row number.

    Ids that are missing or repeated are made unique with ``#<source_row>`` so every later step
    can key on record_id; run.json says how many were.
    """
    row = pl.col("source_row").cast(pl.String)
    if "record_id" not in info.mapping:
        return row.alias("record_id")
    ident = pl.col(f"{RAW_PREFIX}record_id")
    missing = frame[f"{RAW_PREFIX}record_id"].null_count()
    repeated = frame.height - missing - frame[f"{RAW_PREFIX}record_id"].drop_nulls().n_unique()
    if missing or repeated:
        info.record_id_problems = (
            f"{missing} rows without an id and {repeated} repeated ids in column "
            f"{info.mapping['record_id']!r}: those rows got '<id>#<row>' or the row number"
        )
    duplicated = ident.is_duplicated() & ident.is_not_null()
    return (
        pl.when(ident.is_null())
        .then(row)
        .when(duplicated)
        .then(pl.concat_str(ident, pl.lit("#"), row))
        .otherwise(ident)
        .alias("record_id")
    )
