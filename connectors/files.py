"""Read a customer export of any common shape into the canonical frame.

Supported: CSV/TSV/TXT with any of ``; , TAB |`` as delimiter in UTF-8, UTF-8 with BOM, UTF-16
(with or without BOM, as Excel's "Unicode text" writes it), UTF-32 (with or without BOM), cp1252
or latin-1 — and UTF-8 files
with a few cp1252 lines pasted in, decoded line by line; Excel ``.xlsx`` (the first sheet, or
the one asked for); Parquet; JSON lines. Any of them may be gzip-compressed (``.csv.gz``), and
``-`` reads standard input. The format is told by the content, not the name: an .xlsx renamed
.csv is read as a workbook.

Every data row of the file becomes exactly one row of the result, in file order: rows with too
many or too few fields are kept (extra values in ``src__overflow``) and reported in
``source_problem``, never dropped. A quote that opens a field and is never closed would make the
csv module swallow every line after it into one field; such a row is read again on its own line
and reported, so no row disappears. Entirely blank lines are not rows; they are counted.

The result is the canonical frame of :mod:`cleansing.schema`: ``record_id``, ``source_row``,
``source_problem``, ``raw_<field>`` (text) and ``src_<column>`` (every input column as read).
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import csv
import gzip
import hashlib
import io
import json
import os
import re
import sys
import threading
import zipfile
import zlib
from collections.abc import Collection, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl

from datavask.cleansing.dates import joined_date_parts
from datavask.cleansing.names import only_where
from datavask.cleansing.schema import (
    CANONICAL_FIELDS,
    PADDING_SPLIT,
    RAW_PREFIX,
    SRC_PREFIX,
    TYPED_PADDING,
)
from datavask.connectors.errors import InputError, listed
from datavask.connectors.mapping import organisations_named, resolve_mapping, type_flag
from datavask.connectors.masking import mask_input, masked_columns
from datavask.connectors.output import FORMULA_ESCAPED
from datavask.connectors.parquet_types import as_readable
from datavask.connectors.workbook_dates import (
    date_from_cell_text,
    render_excel_date,
    render_padded_number,
    table_date_formats,
)

MAX_FIELD_BYTES: Final = 1_000_000
_DELIMITERS: Final = (";", ",", "\t", "|")
# A header under a title line is looked for in this many rows below the first.
_TITLE_ROWS: Final = 20
_SNIFF_BYTES: Final = 256 * 1024
OVERFLOW_COLUMN: Final = "_overflow"
STDIN: Final = "-"
_UTF8_BOM: Final = b"\xef\xbb\xbf"
# UTF-32 first: its little-endian BOM starts with UTF-16's (``FF FE`` then ``00 00``).
_WIDE_BOMS: Final = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_UNBALANCED_QUOTE: Final = (
    'unbalanced quote: a field opens with " and is never closed; read as one line, '
    "the quote kept as text"
)


@dataclass
class InputInfo:
    """What was read and how: goes into ``run.json`` and lets the re-import mirror the input."""

    path: str
    sha256: str
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    line_terminator: str | None = None  # "\r\n" or "\n", as the text file's first line ends
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    # a field read from three columns, year, month and day: {"date_of_birth": ["by", "bm", "bd"]}
    date_parts: dict[str, list[str]] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    blank_lines_skipped: int = 0
    rows_with_problems: int = 0
    problem_rows: list[int] = field(default_factory=list)  # first 100 source_row numbers
    record_id_problems: str | None = None
    compression: str | None = None  # "gzip" for a .csv.gz (or any gzip-compressed input)
    sheet: str | None = None  # the workbook sheet that was read
    sheets_not_read: list[str] = field(default_factory=list)  # the workbook's other sheets
    # the sheet row the header was found on when title rows stand above it (1 = the first row)
    header_row: int = 1
    # input columns in which a CPR number was masked (left out of the re-import)
    masked_columns: list[str] = field(default_factory=list)
    fallback_encoding: str | None = None  # lines that were not UTF-8 in a UTF-8 file
    fallback_lines: list[int] = field(default_factory=list)  # their line numbers (first 100)
    fallback_line_count: int = 0
    ids_missing: int = 0  # rows whose id cell is empty
    ids_repeated: int = 0  # distinct ids that more than one row carries
    rows_with_repeated_id: int = 0
    # their source_row numbers (first 100): left out of the re-import, whose CRM finds rows by id
    repeated_id_rows: list[int] = field(default_factory=list)
    # a delimited file's header cells where they differ from the column's name: blank ones
    # (``column_7``: a trailing delimiter) and padded ones (`` Navn``), as the file has them
    header_as_typed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_table(
    path: Path | str, *, sheet: str | None = None
) -> tuple[pl.DataFrame, dict[int, str], InputInfo]:
    """Read any supported file as text columns plus ``source_row``, without mapping.

    Returns the table, the problems of individual rows (source_row → reason) and what was read.
    ``path`` may be ``-`` for standard input; ``sheet`` names the workbook sheet to read (the
    first one by default). A connector URL (``postgresql://…``, ``economic://…``) is read by
    :mod:`connectors.sources`.
    """
    if "://" in str(path):
        from datavask.connectors.sources import read_url_table

        return read_url_table(str(path))
    name, raw = _read_bytes(path)
    data, compression = _decompress(name, raw)
    if not data.strip():
        raise InputError(f"{name} is empty")

    # kunder.csv.gz holds a .csv: the name without .gz tells the format
    suffix = Path(name.stem).suffix if compression and name.suffix.lower() == ".gz" else name.suffix
    fmt = _detect_format(name, data, suffix.lower())
    if sheet is not None and fmt != "xlsx":
        raise InputError(f"--sheet {sheet!r}: {name} is not an Excel workbook")
    info = InputInfo(
        path=str(name), sha256=hashlib.sha256(raw).hexdigest(), format=fmt, compression=compression
    )
    problems: dict[int, str] = {}
    if fmt == "csv":
        table, problems, info.blank_lines_skipped = _read_delimited(name, data, info)
    elif fmt == "xlsx":
        table = _read_excel(name, data, info, sheet)
    elif fmt == "parquet":
        table = _read_parquet(name, data)
    else:
        table = _read_jsonl(name, data, info)
    if table.height == 0:
        others = listed(info.sheets_not_read)
        hint = f"; the workbook's other sheets: {others} (choose with --sheet)" if others else ""
        raise InputError(f"{name}{_sheet_label(info)} has a header but no data rows{hint}")
    info.columns = [c for c in table.columns if c not in ("source_row", OVERFLOW_COLUMN)]
    return table, problems, info


REPEATED_HEADER: Final = "the header row again (two exports joined?)"
_HEADER_CELLS: Final = 40  # the columns whose cells are looked at


def _repeated_headers(table: pl.DataFrame, columns: list[str]) -> list[int]:
    """The ``source_row`` of each row that is the header again: two or more cells filled, each
    holding its own column's name (two exports joined into one file, each with its header). Kept
    as a row like any other; :data:`REPEATED_HEADER` says what it is."""
    # The first columns say it: a wide export (20,000 columns) is not read 20,000 times over.
    schema = table.schema  # made once: a frame makes its schema anew on every call
    texts = [c for c in columns if schema[c] == pl.String and c.strip()][:_HEADER_CELLS]
    if len(texts) < 2:
        return []
    # a pattern per cell rather than a lower-cased copy of every cell: a million rows are read
    named = [
        pl.col(c).str.contains(rf"(?i)^\s*{re.escape(c.strip())}\s*$").fill_null(False)
        for c in texts
    ]
    hinted = table.filter(pl.sum_horizontal(named) >= 2)  # nearly every file has none
    if hinted.height == 0:
        return []
    filled = [pl.col(c).str.contains(r"\S").fill_null(False) for c in texts]
    found = hinted.filter(pl.sum_horizontal(named) == pl.sum_horizontal(filled))
    return found["source_row"].to_list()


def _read_bytes(path: Path | str) -> tuple[Path, bytes]:
    """The input's bytes: the file's, or standard input's for ``-``."""
    if str(path) == STDIN:
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError("- reads the customer file from standard input, but none is piped in")
        return Path("<stdin>"), sys.stdin.buffer.read()
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not a customer file")
    try:
        return path, path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _decompress(name: Path, raw: bytes) -> tuple[bytes, str | None]:
    """The content of a gzip-compressed input (by its magic bytes, whatever its name)."""
    if not raw.startswith(b"\x1f\x8b"):
        return raw, None
    try:
        return gzip.decompress(raw), "gzip"
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{name}: a damaged gzip file ({exc})") from None


def _sheet_label(info: InputInfo) -> str:
    return f" (sheet {info.sheet!r})" if info.sheet else ""


def sniff_format(path: Path) -> str:
    """The format of a file, from its name and first bytes; InputError when it is no customer file.

    Cheap (one small read), so the command line checks its input with it before Prefect starts.
    """
    if not path.exists():
        if path.is_symlink():
            raise InputError(
                f"{path} is a symbolic link to {os.readlink(path)}, which does not exist"
            )
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
    name = path
    if head.startswith(b"\x1f\x8b"):
        name = path.with_suffix("") if path.suffix.lower() in (".gz", ".gzip") else path
        try:
            with gzip.open(path, "rb") as fh:
                head = fh.read(_SNIFF_BYTES)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: a damaged gzip file ({exc})") from None
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"  # workbook or other zip: the reader opens the whole archive to tell
    return _detect_format(name, head, name.suffix.lower())


def read_input(
    path: Path | str,
    *,
    mapping: dict[str, str] | None = None,
    date_parts: dict[str, list[str]] | None = None,
    sheet: str | None = None,
    reserved: Collection[str] = (),
) -> tuple[pl.DataFrame, InputInfo]:
    """Read ``path`` into the canonical frame; InputError (one line) when it is unusable.

    ``date_parts`` names fields written in three columns (year, month, day), as
    :func:`datavask.connectors.mapping.load_date_parts` reads them from a mapping file;
    ``reserved`` columns are never guessed as a field (:func:`~datavask.connectors.mapping.
    resolve_mapping`).
    """
    table, problems, info = read_table(path, sheet=sheet)
    try:
        map_columns(info, mapping, date_parts, reserved)
    except InputError as exc:
        # A workbook's first sheet is often a cover page or a summary: say where else to look.
        if not info.sheets_not_read:
            raise
        others = listed(info.sheets_not_read)
        raise InputError(
            f"{exc} The sheet read was {info.sheet!r}; the workbook's other sheets: {others}"
            " (choose with --sheet)."
        ) from None
    frame = _canonical(table, info, problems)
    frame = mask_input(frame, info)  # before anything is written: CPR numbers never leave here
    info.masked_columns = masked_columns(frame)
    info.rows = frame.height
    flagged = frame.filter(pl.col("source_problem").is_not_null())
    info.rows_with_problems = flagged.height
    info.problem_rows = flagged["source_row"].head(100).to_list()
    return frame, info


def map_columns(
    info: InputInfo,
    mapping: dict[str, str] | None,
    date_parts: dict[str, list[str]] | None,
    reserved: Collection[str] = (),
) -> None:
    """Fill ``info``'s mapping, date parts and unmapped columns for its input's columns."""
    info.mapping = resolve_mapping(info.columns, mapping, date_parts, reserved)
    info.date_parts = dict(date_parts or {})
    read = {*info.mapping.values(), *(c for parts in info.date_parts.values() for c in parts)}
    info.unmapped = [c for c in info.columns if c not in read]


def _detect_format(path: Path, data: bytes, suffix: str) -> str:
    """The format by content first (a workbook renamed .csv is still a workbook), then by name."""
    head = data[:_SNIFF_BYTES]
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        if _is_workbook(data):
            return "xlsx"
        raise InputError(
            f"{path} is a zip archive, not an Excel workbook; unpack it and give datavask the "
            "customer file inside"
        )
    if head.startswith(b"\xd0\xcf\x11\xe0") or suffix == ".xls":
        raise InputError(f"{path} is an old .xls workbook; save it as .xlsx or CSV")
    if suffix in (".jsonl", ".ndjson") or (suffix == ".json" and head.lstrip()[:1] == b"{"):
        return "jsonl"
    if suffix == ".parquet":
        raise InputError(f"{path} is named .parquet but is not a Parquet file")
    if suffix in (".xlsx", ".xlsm"):
        raise InputError(f"{path} is named {suffix} but is not an Excel workbook")
    if b"\x00" in head and _wide_encoding(head) is None and not _text_with_nul_bytes(head):
        raise InputError(
            f"{path} looks like a binary file, not a text export (it contains NUL bytes)"
        )
    return "csv"


# The share of a text's characters that may be control characters (other than line ends and
# tabs) once its NUL bytes are set aside: a binary file's bytes are about one in eight.
_CONTROL_SHARE: Final = 0.01


def _text_with_nul_bytes(head: bytes) -> bool:
    """Whether ``head`` is a text export with some NUL bytes in it — a legacy system's padding
    (``Jens Hansen\\0\\0\\0``), a stray one — rather than a binary file: most of it is not NUL,
    and the rest reads as text. The NULs are read as the whitespace they stand for."""
    text = head.replace(b"\x00", b"")
    if len(text) < len(head) / 2:
        return False
    chars = text.decode("cp1252", errors="replace")  # a byte cp1252 leaves undefined: U+FFFD
    return len(_NOT_TEXT.findall(chars)) <= _CONTROL_SHARE * len(chars)


# Control characters but line ends and tabs, and what no cp1252 byte decodes to.
_NOT_TEXT: Final = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def _is_workbook(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


# --------------------------------------------------------------------------- delimited text


def detect_encoding(data: bytes) -> str:
    """The encoding of a text export: BOMs first, then strict UTF-8, then cp1252 or latin-1.

    UTF-16 and UTF-32 without a BOM show themselves by their NUL bytes (:func:`_wide_encoding`).
    cp1252 and latin-1 agree on every printable byte except 0x80–0x9F; Windows exports use those
    for € – " " …, so cp1252 wins unless a byte cp1252 leaves undefined shows the file is latin-1.
    """
    if data.startswith(_UTF8_BOM):
        return "utf-8-sig"
    wide = _wide_encoding(data[:_SNIFF_BYTES])
    if wide:
        return wide
    with contextlib.suppress(UnicodeDecodeError):
        data.decode("utf-8")
        return "utf-8"
    return _single_byte_encoding(data)


def _single_byte_encoding(data: bytes) -> str:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


def _wide_encoding(head: bytes) -> str | None:
    """``utf-32``/``utf-16`` by a byte-order mark, else ``utf-32-le``/``-be`` or
    ``utf-16-le``/``-be`` where NUL bytes fill the same places of (nearly) every character, as
    in Latin-script text; None for anything else (a binary file has NULs anywhere).

    ``Navn`` in UTF-32-LE is ``N\\0\\0\\0a\\0\\0\\0…``: three NULs a character, which UTF-16
    would read as ``N``, NUL, ``a``, NUL and its rows as rows of every other field.
    """
    for bom, encoding in _WIDE_BOMS:
        if head.startswith(bom):
            return encoding
    if b"\x00" not in head[:4096]:
        return None
    return _without_bom(head, 4, "utf-32") or _without_bom(head, 2, "utf-16")


def _without_bom(head: bytes, width: int, family: str) -> str | None:
    """``{family}-le``/``-be`` when the high half of (nearly) every ``width``-byte unit is NUL
    and its lowest byte is not: the high half comes last in little-endian, first in big.
    (UTF-16 read four bytes at a time has a letter in its third byte, so it is no UTF-32.)"""
    sample = head[: min(len(head), 8192) // width * width]
    units = len(sample) // width
    if units < 2:
        return None
    nuls = [sample[i::width].count(0) for i in range(width)]
    half = width // 2
    letter_first = nuls[0] <= 0.02 * units and min(nuls[half:]) >= 0.6 * units
    letter_last = nuls[-1] <= 0.02 * units and min(nuls[:half]) >= 0.6 * units
    if letter_first == letter_last:
        return None
    candidate = f"{family}-le" if letter_first else f"{family}-be"
    try:
        text = sample.decode(candidate)
    except UnicodeDecodeError:
        return None
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return candidate if printable >= 0.95 * len(text) else None


@dataclass
class DecodedText:
    text: str
    encoding: str
    fallback_encoding: str | None = None
    fallback_lines: list[int] = field(default_factory=list)  # 1-based physical lines


def decode_text(data: bytes) -> DecodedText:
    """The text of an export, never garbled by one odd line.

    A UTF-8 file with a few lines pasted in from a Windows program (cp1252) is not valid UTF-8;
    decoding all of it as cp1252 would garble every æøå of the UTF-8 lines. When the other lines
    hold UTF-8 beyond ASCII, each line is decoded on its own: UTF-8 where it is valid, else the
    fallback. A file without any such UTF-8 line is a cp1252 (or latin-1) file as a whole.
    """
    encoding = detect_encoding(data)
    if encoding not in ("cp1252", "latin-1"):
        with contextlib.suppress(UnicodeDecodeError):
            return DecodedText(data.decode(encoding), encoding)
        if encoding != "utf-8-sig":  # UTF-16 with an odd pair of bytes: say so, don't guess
            raise InputError(f"cannot be decoded as {encoding} text")
    bom = data.startswith(_UTF8_BOM)
    body = data[len(_UTF8_BOM) if bom else 0 :]
    # detect_encoding has tried the single-byte encodings already, unless a BOM said UTF-8
    single = encoding if encoding != "utf-8-sig" else _single_byte_encoding(data)
    if _MULTIBYTE.search(body) is None:  # no line can be UTF-8 beyond ASCII: a cp1252 file
        return DecodedText(data.decode(single), single)
    odd = _odd_lines(body)
    # The lines between the odd ones, newlines included: valid UTF-8, decoded a run at a time.
    bounds = zip([0, *(e for _, _, e in odd)], [*(s for _, s, _ in odd), len(body)], strict=True)
    runs = [body[after:before] for after, before in bounds]
    has_utf8 = any(not run.isascii() for run in runs)
    if not has_utf8:
        return DecodedText(data.decode(single), single)
    fallback = _single_byte_encoding(b"\n".join(body[s:e] for _, s, e in odd))
    decoded = [runs[0].decode("utf-8")]
    for (_, start, end), run in zip(odd, runs[1:], strict=True):
        decoded += [body[start:end].decode(fallback), run.decode("utf-8")]
    return DecodedText(
        "".join(decoded),
        "utf-8-sig" if bom else "utf-8",
        fallback_encoding=fallback,
        fallback_lines=[i + 1 for i, _, _ in odd],
    )


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _odd_lines(body: bytes) -> list[tuple[int, int, int]]:
    """The lines (split at ``\\n``) of ``body`` that are not UTF-8 on their own: (index, start,
    end) each, ``end`` at the line's ``\\n`` or the end of ``body``.

    UTF-8 starts afresh at every ``\\n`` (no sequence runs on over one), so these are the lines
    where decoding the whole runs into an error: one decode at C speed, told by its error handler
    to go on from the next line, instead of a decode per line (1.4 s for 20,000 lines).
    """
    errors: list[int] = []
    _FOUND.errors = errors
    try:
        body.decode("utf-8", errors=_ODD_LINE)
    finally:
        del _FOUND.errors
    odd: list[tuple[int, int, int]] = []
    line = counted = 0  # the index of the line that starts at ``counted``
    for bad in errors:
        start = body.rfind(b"\n", counted, bad) + 1 or counted
        line += body.count(b"\n", counted, start)
        end = body.find(b"\n", bad)
        end = len(body) if end < 0 else end
        odd.append((line, start, end))
        line, counted = line + 1, end + 1
    return odd


# What every line of UTF-8 beyond ASCII holds: a lead byte and a continuation byte.
_MULTIBYTE: Final = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
# Where :func:`_odd_lines` collects its decoder's errors: one list per thread.
_FOUND = threading.local()
_ODD_LINE: Final = "datavask-odd-line"


def _skip_line(exc: UnicodeError) -> tuple[str, int]:
    """The error handler of :func:`_odd_lines`: note the error, go on after its line."""
    assert isinstance(exc, UnicodeDecodeError)
    _FOUND.errors.append(exc.start)
    end = exc.object.find(b"\n", exc.start)
    return "", len(exc.object) if end < 0 else end


codecs.register_error(_ODD_LINE, _skip_line)


def detect_delimiter(sample: str) -> str:
    """The delimiter that splits the first records into the most, equally long, fields.

    When no delimiter splits the first record (a one-column file, or a title line above the
    header: :func:`_header_below_title`), the records from the first one of the next twenty that
    it splits are judged instead; ``,`` when none is.
    """
    lines = sample.splitlines()[:-1] or sample.splitlines()  # the last line may be cut
    text = "\n".join(lines[: 200 + _TITLE_ROWS])
    parsed: dict[str, list[list[str]]] = {}
    for delimiter in _DELIMITERS:
        with contextlib.suppress(csv.Error):
            parsed[delimiter] = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if r]
    for skip_title in (False, True):
        best, best_score = None, -1.0
        for delimiter, rows in parsed.items():
            start = 0
            if skip_title:
                start = next((i for i, r in enumerate(rows[: _TITLE_ROWS + 1]) if len(r) > 1), 0)
            judged = rows[start : start + 200]
            if not judged or len(judged[0]) < 2:
                continue
            width = len(judged[0])
            consistent = sum(len(r) == width for r in judged) / len(judged)
            score = consistent * 100 + width
            if score > best_score:
                best, best_score = delimiter, score
        if best is not None:
            return best
    return ","


def line_terminator_of(text: str) -> str:
    """``"\r\n"`` where the text's first line ends so, else ``"\n"``: the re-import's line ends."""
    end = text.find("\n", 0, _SNIFF_BYTES)
    return "\r\n" if end > 0 and text[end - 1] == "\r" else "\n"


def _read_delimited(
    path: Path, data: bytes, info: InputInfo
) -> tuple[pl.DataFrame, dict[int, str], int]:
    decoded = _decode(path, data, info)
    delimiter = detect_delimiter(decoded.text[:_SNIFF_BYTES])
    info.delimiter = delimiter
    info.line_terminator = line_terminator_of(decoded.text)

    csv.field_size_limit(2**31 - 1)  # the MAX_FIELD_BYTES check below gives the better message
    lines = _Lines(decoded.text)
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    try:
        header, info.header_row = _read_header(lines, reader, delimiter)
    except StopIteration:
        raise InputError(f"{path} is empty") from None
    except csv.Error as exc:
        raise InputError(f"{path}: the header cannot be parsed ({exc})") from None
    typed, header = header, _clean_header(header, path)
    info.header_as_typed = _header_as_typed(typed, header)
    parsed = parse_rows(path, lines, reader, delimiter, len(header), encoding=info.encoding)
    table = parsed.table(header)
    return table, parsed.problems, parsed.blank


@dataclass
class ParsedRows:
    """The data records of (a stretch of) a delimited file, numbered from 1 within it.

    Records read one by one wait in ``rows``, ``overflow`` and ``source_rows``; runs of plain
    lines (see :func:`parse_rows`) only as line ranges, split as whole columns by :meth:`table`,
    which gives every record as one frame in the file's order.
    """

    rows: list[list[str | None]] = field(default_factory=list)
    overflow: list[str | None] = field(default_factory=list)
    source_rows: list[int] = field(default_factory=list)
    problems: dict[int, str] = field(default_factory=dict)
    blank: int = 0
    records: int = 0  # data rows and blank lines: the next stretch numbers on from here
    # (first line, end line, record number of the first) of each run of plain lines
    plain_runs: list[tuple[int, int, int]] = field(default_factory=list)
    plain_text: pl.Series | None = None  # the lines the runs index, from line ``plain_offset``
    plain_offset: int = 0
    delimiter: str = ","

    def add_plain_run(self, start: int, end: int) -> None:
        self.plain_runs.append((start, end, self.records + 1))
        self.records += end - start

    def table(self, header: list[str]) -> pl.DataFrame:
        """Every record as text columns named by ``header``, then ``source_row`` and the
        overflow column."""
        read = _text_table(header, self.rows).with_columns(
            pl.Series("source_row", self.source_rows, dtype=pl.Int64),
            pl.Series(OVERFLOW_COLUMN, self.overflow, dtype=pl.String),
        )
        if not self.plain_runs or self.plain_text is None:
            return read
        plain = _split_plain(
            self.plain_text, self.plain_runs, self.plain_offset, header, self.delimiter
        )
        # Record numbers rise through the file: sorted by them, the two parts interleave back.
        return pl.concat([read, plain.select(read.columns)], how="vertical").sort("source_row")


def _split_plain(
    text: pl.Series,
    runs: list[tuple[int, int, int]],
    offset: int,
    header: list[str],
    delimiter: str,
) -> pl.DataFrame:
    """The runs' lines split at the delimiter as ``csv.reader`` splits a line without quotes:
    empty fields as null; ``source_row`` their record numbers."""
    start, end, first = zip(*runs, strict=True)
    where = (
        pl.DataFrame(
            {"start": start, "end": end, "first": first},
            schema=dict.fromkeys(("start", "end", "first"), pl.Int64),
        )
        .select(
            line=pl.int_ranges(pl.col("start") - offset, pl.col("end") - offset),
            source_row=pl.int_ranges("first", pl.col("first") + pl.col("end") - pl.col("start")),
        )
        .explode("line", "source_row")
    )
    names = _positions(len(header))
    fields = (
        text.gather(where["line"])
        .str.strip_chars_end("\r\n")
        .str.split_exact(delimiter, len(header) - 1)
        .struct.rename_fields(names)
        .struct.unnest()
    )
    return fields.select(
        pl.when(pl.col(n) != "").then(pl.col(n)).alias(h)
        for n, h in zip(names, header, strict=True)
    ).with_columns(
        where["source_row"].alias("source_row"),
        pl.lit(None, dtype=pl.String).alias(OVERFLOW_COLUMN),
    )


def _positions(width: int) -> list[str]:
    return [f"_field_{i}" for i in range(width)]


@dataclass(frozen=True)
class _PlainLines:
    text: pl.Series  # the lines as read, ends included
    mask: pl.Series  # true for a plain line


def _plain_lines(lines: list[str], delimiter: str, width: int) -> _PlainLines | None:
    """Which lines are plain records: no quote, the header's number of fields, nothing a
    ``csv.reader`` treats specially (a NUL byte) and no field over :data:`MAX_FIELD_BYTES`.

    Most lines of an export are plain; they are split as whole columns instead of one by one.
    None when the lines cannot be a text column (then every record is read by ``csv.reader``).
    """
    if width < 2 or not lines:
        return None
    try:
        text = pl.Series("line", lines, dtype=pl.String)
    except (TypeError, ValueError, pl.exceptions.PolarsError):
        return None
    content = text.str.strip_chars_end("\r\n")
    plain = (
        ~content.str.contains('"', literal=True)
        & ~content.str.contains("\x00", literal=True)
        & (content.str.count_matches(delimiter, literal=True) == width - 1)
        & (content.str.len_bytes() <= MAX_FIELD_BYTES)
    )
    return _PlainLines(text, plain.fill_null(False))


def parse_rows(
    path: Path,
    lines: _Lines,
    reader: Any,
    delimiter: str,
    width: int,
    *,
    encoding: str | None,
    stop: int | None = None,
) -> ParsedRows:
    """Every record from ``lines.pos`` on, as rows of ``width`` values, with their problems.

    ``stop``: read no record that starts at or after that line (the end of a byte range; a
    record that starts before it is read whole, also past it).

    Runs of plain lines (no quote, the header's number of fields: most of any export) are split
    as whole columns; every other record goes through ``csv.reader`` and the checks of
    :func:`_records`, which give the same values for a plain line.
    """
    parsed = ParsedRows(delimiter=delimiter)
    limit = len(lines.lines) if stop is None else min(stop, len(lines.lines))
    plain = _plain_lines(lines.lines[lines.pos : limit], delimiter, width)
    # the line numbers of the lines that are not plain: a run of plain lines ends at the next
    others: list[int] = []
    if plain is not None:
        parsed.plain_text, parsed.plain_offset = plain.text, lines.pos
        others = pl.int_range(lines.pos, limit, eager=True).filter(~plain.mask).to_list()
    records = _records(path, lines, reader, delimiter, width, stop=stop)
    try:
        while True:
            if plain is not None and lines.pos < limit:
                following = bisect.bisect_left(others, lines.pos)
                end = others[following] if following < len(others) else limit
                if end > lines.pos:
                    parsed.add_plain_run(lines.pos, end)
                    lines.pos = end
                    continue
            item = next(records, None)
            if item is None:
                break
            record, quote_problem = item
            parsed.records += 1
            record_no = parsed.records
            if not record or (all(not v.strip() for v in record) and len(record) <= 1):
                parsed.blank += 1
                continue
            _check_field_sizes(path, record_no, record)
            problem = quote_problem
            n = len(record)
            values: list[str | None] = [v if v != "" else None for v in record[:width]]
            if n > width:
                problem = problem or f"too many fields ({n}, header has {width})"
                parsed.overflow.append(delimiter.join(record[width:]))
            else:
                parsed.overflow.append(None)
                if n < width:
                    problem = problem or f"too few fields ({n}, header has {width})"
                    values += [None] * (width - n)
            if problem:
                parsed.problems[record_no] = problem
            parsed.rows.append(values)
            parsed.source_rows.append(record_no)
    except csv.Error as exc:
        raise InputError(
            f"{path}: row {parsed.records + 1} cannot be parsed as {encoding} text ({exc})"
        ) from None
    return parsed


def _text_table(header: list[str], rows: list[list[str | None]]) -> pl.DataFrame:
    """Rows of equal width as a frame of text columns.

    Built from one flat column cut into rows, not one Series per column: an export with
    100,000 columns would otherwise spend minutes creating Series.
    """
    if not rows:
        return pl.DataFrame(schema=dict.fromkeys(header, pl.String))
    flat = pl.Series("row", [value for row in rows for value in row], dtype=pl.String)
    return (
        flat.reshape((len(rows), len(header)))
        .to_frame()
        .select(pl.col("row").arr.to_struct(header))
        .unnest("row")
    )


def _decode(path: Path, data: bytes, info: InputInfo) -> DecodedText:
    try:
        decoded = decode_text(data)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    info.encoding = decoded.encoding
    info.fallback_encoding = decoded.fallback_encoding
    info.fallback_lines = decoded.fallback_lines[:100]
    info.fallback_line_count = len(decoded.fallback_lines)
    return decoded


def _check_field_sizes(path: Path, record_no: int, record: list[str]) -> None:
    for value in record:
        if len(value) > MAX_FIELD_BYTES:
            raise InputError(
                f"{path}: row {record_no} has a field of {len(value) / 1e6:.1f} MB "
                f"(limit {MAX_FIELD_BYTES / 1e6:.0f} MB); is a quote left open?"
            )


class _Lines:
    """The physical lines of a text, handed to ``csv.reader`` one at a time.

    The reader asks for one line at a time and keeps none back, so after each record ``pos`` is
    the first line of the next one, and moving ``pos`` back makes it read on from any line.
    """

    def __init__(self, text: str) -> None:
        self.lines = list(io.StringIO(text, newline=""))  # ends kept: \r\n inside quotes survive
        self.pos = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


def _read_header(lines: _Lines, reader: Any, delimiter: str) -> tuple[list[str], int]:
    """The header and its line number (1 unless a title stands above it, see
    :func:`_header_below_title`); ``lines`` is left at the first line after it."""
    header: list[str] = next(reader)
    if lines.pos > 1:  # a quote in the header swallowed the rows after it
        first = lines.lines[0].rstrip("\r\n").split(delimiter)
        if len(first) > 1 and _swallows_rows(lines.lines[: lines.pos], delimiter, len(first)):
            lines.pos = 1
            return first, 1
    # A title alone on its line, or in the first cell of a sheet saved as CSV (Excel pads the
    # row with delimiters: ``Kundeliste pr. 1/12-2026;;;;``).
    if sum(1 for field in header if field.strip()) <= 1:
        found = _header_below_title(lines, delimiter)
        if found is not None:
            return found
    return header, 1


def _header_below_title(lines: _Lines, delimiter: str) -> tuple[list[str], int] | None:
    """The header under a title line (``Kundeliste pr. 1/12-2026`` and maybe a blank line; the
    title's line may carry empty fields, as a sheet saved as CSV writes them):
    the first of the next twenty lines whose fields, none repeated, name at least two customer
    columns the automatic mapping knows, as for a workbook (:func:`_below_title_rows`). A file of
    one column (``Navn``) has no such line and keeps its header."""
    start = lines.pos
    for number in range(start, min(start + _TITLE_ROWS, len(lines.lines))):
        with contextlib.suppress(csv.Error):
            fields = next(csv.reader([lines.lines[number]], delimiter=delimiter), [])
            if _names_a_header(fields):
                lines.pos = number + 1
                return fields, number + 1
    return None


def _records(
    path: Path, lines: _Lines, reader: Any, delimiter: str, width: int, *, stop: int | None = None
) -> Iterator[tuple[list[str], str | None]]:
    """Every record with its problem, checked against the physical lines it was read from.

    A record over several lines is right when a quoted field holds a line break (a c/o line in
    an address). When the lines after its first are themselves whole rows, the quote was never
    closed: the record is read again as its first line alone (the quote kept as text) and
    reading goes on from the next line, so the swallowed rows come back as rows.
    """
    while stop is None or lines.pos < stop:
        start = lines.pos
        record = next(reader, None)
        if record is None:
            return
        span = lines.lines[start : lines.pos]
        first = span[0].rstrip("\r\n")
        # A quoted address whose second line has as many commas as a row ("c/o Jens Hansen\n
        # Vej 6, st.th, 5932 Humble",5932,…) is whole when the record has the header's width and
        # its first line alone is not a row: only an open quote makes a one-line row span more.
        whole = len(record) == width and first.count(delimiter) != width - 1
        if len(span) > 1 and width > 1 and not whole and _swallows_rows(span, delimiter, width):
            if first.count(delimiter) != width - 1:
                raise InputError(
                    f"{path}: line {start + 1}: a quote opened there is never closed and "
                    f"swallows lines {start + 2}–{lines.pos}; close or remove the quote"
                )
            lines.pos = start + 1
            yield first.split(delimiter), _UNBALANCED_QUOTE
        else:
            yield record, None


def _swallows_rows(span: list[str], delimiter: str, width: int) -> bool:
    """Whether a line after the first of a multi-line record is a whole row on its own.

    The record's last line holds the quote that closes the field; when that quote is its only one
    it ends a quoted line break (``"c/o Michael Larsen`` / ``Vej 6, st.th, 5932 Humble",5932,…``),
    however many delimiters the address's commas add to it.
    """
    for line in span[1:]:
        text = line.rstrip("\r\n")
        if line is span[-1] and text.count('"') % 2 == 1:
            continue
        if text.count(delimiter) == width - 1:
            return True
        with contextlib.suppress(csv.Error):
            if len(next(csv.reader([text], delimiter=delimiter), [])) == width:
                return True
    return False


def _header_as_typed(typed: list[str], names: list[str]) -> dict[str, str]:
    """Column name → header cell as the file has it, where :func:`_clean_header` named the
    column otherwise (a blank cell is ``column_7``, a padded one trimmed): the re-import writes
    them back as they were, for the CRM's import maps columns by them."""
    cells = [cell.lstrip("\ufeff") for cell in typed]
    return {name: cell for name, cell in zip(names, cells, strict=True) if name != cell}


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
            f"{path}: the header repeats column names {listed(duplicated)}; "
            "rename them so each column has its own name"
        )
    return names


# --------------------------------------------------------------------------- other formats


def _read_excel(path: Path, data: bytes, info: InputInfo, sheet: str | None) -> pl.DataFrame:
    """One sheet of a workbook, every cell as text: the first sheet, or ``sheet`` by name.

    The sheets not read are recorded in ``info`` (run.json), so nobody wonders where they went.
    """
    import fastexcel

    try:
        names = list(fastexcel.read_excel(data).sheet_names)
    except Exception as exc:  # fastexcel raises its own types; any failure is an unreadable file
        raise InputError(
            f"{path}: cannot be read as an Excel workbook ({type(exc).__name__}: {exc})"
        ) from None
    if not names:
        raise InputError(f"{path}: the workbook has no sheets")
    if sheet is not None and sheet not in names:
        raise InputError(f"{path} has no sheet {sheet!r}; its sheets are {listed(names)}")
    info.sheet = sheet if sheet is not None else names[0]
    info.sheets_not_read = [n for n in names if n != info.sheet]
    try:
        table = pl.read_excel(
            io.BytesIO(data),
            sheet_name=info.sheet,
            infer_schema_length=0,
            drop_empty_rows=False,
            drop_empty_cols=False,
            raise_if_empty=False,
        )
    except Exception as exc:  # as above
        raise InputError(
            f"{path}{_sheet_label(info)}: cannot be read ({type(exc).__name__}: {exc})"
        ) from None
    table = _dates_as_shown(table, table_date_formats(data, info.sheet))
    table, info.header_row, typed = _below_title_rows(table)
    # Header cells as a delimited file's are named: trimmed, a blank one ``column_7``; the
    # re-import writes them back as typed (``By `` stays ``By ``), for the ERP maps by them.
    names = _clean_header(typed, path)
    table = table.rename(dict(zip(table.columns, names, strict=True)))
    info.header_as_typed = _header_as_typed(typed, names)
    table = table.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("source_row"))
    data_cols = [c for c in table.columns if c != "source_row"]
    if not data_cols:
        return table.clear()
    return table.filter(pl.any_horizontal(pl.col(data_cols).str.strip_chars().ne("")))


def _below_title_rows(table: pl.DataFrame) -> tuple[pl.DataFrame, int, list[str]]:
    """The table under its real header when the sheet starts with a title, that header's
    sheet row (1 when the first row is the header) and its cells as typed (``By `` with its
    space; a blank one ``""``).

    A report saved as a workbook often starts ``Kundeliste pr. 1/12-2026``, a blank row, then
    the column names. The first row is taken for a title when at most one of its cells holds
    anything (the others read as ``__UNNAMED__…``) and the sheet is wider; the header is then
    the first of the next twenty rows whose cells, none repeated, name at least two customer
    columns as the automatic mapping knows them (``Navn``, ``Postnr``, ``CVR`` …). So a data row
    is never taken for a header, and a sheet whose header is its first row is read as it is.
    The rows above the header are no customers and are not read.
    """
    width = table.width
    # the reader names a blank header cell ``__UNNAMED__3``
    typed = ["" if c.startswith("__UNNAMED__") else c for c in table.columns]
    named = sum(1 for c in typed if c.strip())
    if width < 2 or named > 1:
        return table, 1, typed
    for index, row in enumerate(table.head(_TITLE_ROWS).iter_rows()):
        cells = [cell or "" for cell in row]
        if _names_a_header(cells):
            return table.slice(index + 1), index + 2, cells
    return table, 1, typed


def _names_a_header(cells: list[str]) -> bool:
    """Whether a row under a title is the header: its filled cells, none repeated, name at
    least two customer columns the automatic mapping knows (a data row names none)."""
    names = [cell.strip() for cell in cells if cell.strip()]
    if len(names) < 2 or len(set(names)) < len(names):
        return False
    try:
        return len(resolve_mapping(names)) >= 2
    except InputError:  # nothing maps
        return False


def _dates_as_shown(table: pl.DataFrame, formats: dict[tuple[int, int], str]) -> pl.DataFrame:
    """Date cells as the workbook showed them (``01-03-2024``), not ``2024-03-01 00:00:00``
    or a serial number, and numbers with the zeros their format pads them with (``00042``):
    that text is what the user knows and what the CRM gets back."""
    if not formats:
        return table
    columns = {c: table.get_column(name).to_list() for c, name in enumerate(table.columns)}
    for (row, col), code in formats.items():
        values = columns.get(col)
        if values is None or not 0 <= row < len(values) or values[row] is None:
            continue
        shown = render_padded_number(values[row], code)
        if shown is None:
            moment = date_from_cell_text(values[row])
            shown = render_excel_date(moment, code) if moment else None
        if shown is not None:
            values[row] = shown
    touched = {col for _, col in formats if col in columns}
    return table.with_columns(
        pl.Series(table.columns[c], columns[c], dtype=pl.String) for c in sorted(touched)
    )


def _read_parquet(path: Path, data: bytes) -> pl.DataFrame:
    try:
        table = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # polars' own ComputeError/OSError variants
        raise InputError(f"{path}: cannot be read as Parquet ({exc})") from None
    table = as_readable(table, path)
    if "source_row" in table.columns:
        table = table.rename({"source_row": "source_row_"})
    return table.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("source_row"))


def _read_jsonl(path: Path, data: bytes, info: InputInfo) -> pl.DataFrame:
    records: list[dict[str, Any]] = []
    source_rows: list[int] = []
    keys: dict[str, None] = {}
    text = _decode(path, data, info).text
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
    data_ = {c: [_json_text(r.get(c)) for r in records] for c in columns}
    table = pl.DataFrame(data_, schema=dict.fromkeys(columns, pl.String))
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
    overflow = OVERFLOW_COLUMN in table.columns and table[OVERFLOW_COLUMN].is_not_null().any()
    frame = canonical_columns(table, info, problems, overflow=overflow)
    frame = frame.with_columns(record_ids(frame, info))
    return frame.select("record_id", pl.exclude("record_id"))


def canonical_columns(
    table: pl.DataFrame, info: InputInfo, problems: dict[int, str], *, overflow: bool
) -> pl.DataFrame:
    """The canonical frame without ``record_id`` (which needs every row's id: :func:`record_ids`).

    ``overflow``: whether any row of the whole input has values beyond the header (then every
    part carries ``src__overflow``).
    """
    mapping, parts = info.mapping, info.date_parts
    schema = table.schema
    # the header again is a problem of its own row, unless the row has a worse one
    problems = dict.fromkeys(_repeated_headers(table, info.columns), REPEATED_HEADER) | problems
    read = {*mapping.values(), *(c for three in parts.values() for c in three)}
    typed = {c: _as_text(c, schema[c]) for c in read}
    text = {c: value.str.strip_chars() for c, value in typed.items()}
    key = mapping.get("record_id")
    # The apostrophe a CSV writer puts before a cell Excel would run as a formula (OWASP's rule,
    # the one datavask's own re-import follows: ``'-bent@x.dk``, ``'@Home Design ApS``, ``'=…``)
    # is no part of the value: read with it, the e-mail address was invalid and the name grew an
    # apostrophe on every round trip. ``src_`` keeps the cell as written; an id is kept as written
    # too, for the re-import to find its record by.
    text = {
        c: _apostrophe_dropped(value, FORMULA_ESCAPED) if c != key else value
        for c, value in text.items()
    }
    # A spreadsheet's text mark before a number (Shopify's "'9000", "'+4598123456") is no part of
    # it. Only the number fields are looked at.
    marked = {mapping[f] for f in _NUMBER_FIELDS if f in mapping} - {key}
    text = {
        c: _apostrophe_dropped(value, r"^'([+\d])") if c in marked else value
        for c, value in text.items()
    }
    # A company list's name column ("Company name", "Organization - Name") says what a type
    # column would: every row is an organisation (the type stage's "the source says company").
    organisations = organisations_named(mapping) is not None
    # A yes/no type column ("Er person", "Is a Company") says the type its yes names.
    flag = type_flag(mapping)
    raw = [
        (
            joined_date_parts(*(text[c] for c in parts[f]))
            if f in parts
            else pl.when(text[mapping[f]] != "").then(_type_of_flag(text[mapping[f]], flag))
            if f == "customer_type" and flag is not None
            else pl.when(text[mapping[f]] != "").then(text[mapping[f]]).otherwise(None)
            if f in mapping
            else pl.lit("company")
            if f == "customer_type" and organisations
            else pl.lit(None, dtype=pl.String)
        ).alias(f"{RAW_PREFIX}{f}")
        for f in CANONICAL_FIELDS
    ]
    src = [pl.col(c).alias(f"{SRC_PREFIX}{c}") for c in info.columns]
    if overflow:
        src.append(pl.col(OVERFLOW_COLUMN).alias(f"{SRC_PREFIX}{OVERFLOW_COLUMN}"))
    problem = (
        pl.Series("source_problem", [problems.get(r) for r in table["source_row"]], dtype=pl.String)
        if problems
        else pl.lit(None, dtype=pl.String).alias("source_problem")
    )
    frame = table.select(pl.col("source_row"), problem, *raw, *src)
    fields: dict[str, pl.Expr] = {
        f: typed[mapping[f]] for f in CANONICAL_FIELDS if f in mapping and f != "record_id"
    }
    frame = frame.with_columns(typed_padding(table, fields))
    frame = _composed(frame, [f"{RAW_PREFIX}{f}" for f in CANONICAL_FIELDS if f in mapping])
    return frame.with_columns(
        source_problem=pl.coalesce("source_problem", pl.when(_totals_row()).then(pl.lit(TOTALS)))
    )


def _apostrophe_dropped(value: pl.Expr, pattern: str) -> pl.Expr:
    """``value`` with ``pattern``, a text mark's apostrophe at the start and what follows it,
    replaced by its first group: read only in the cells that start with an apostrophe (one in
    thousands; at 1M rows the pattern cost 0.5 CPU-s run on every cell of ten columns)."""
    marked = value.str.starts_with("'")
    return (
        pl.when(marked)
        .then(only_where(marked, value).str.replace(pattern, "${1}"))
        .otherwise(value)
    )


TOTALS: Final = "a totals row (I alt), not a customer"
_TOTALS_WORDS: Final = (
    r"(?i)^(?:i\s*alt|total[st]?|sum|subtotal|sub-total|grand total|hovedtotal)\s*:?$"
)
# What a customer row has and a debtor list's totals row has not.
_CONTACT_FIELDS: Final = (
    "address", "address_2", "street", "postal_code", "city", "phone", "mobile", "email", "cvr",
    "ean",
)  # fmt: skip


def _totals_row() -> pl.Expr:
    """A list's totals row: ``I alt`` (``Total``, ``Sum``) where the name goes, and no address,
    phone, e-mail, CVR or EAN number (a sum in the balance column, or nothing)."""
    return (
        pl.col(f"{RAW_PREFIX}name").str.contains(_TOTALS_WORDS)
        & pl.all_horizontal(pl.col(f"{RAW_PREFIX}{f}").is_null() for f in _CONTACT_FIELDS)
    ).fill_null(False)


# The fields whose values are numbers a spreadsheet may have marked as text (``'9000``).
_NUMBER_FIELDS: Final = ("postal_code", "phone", "mobile", "cvr", "ean", "house_number")

_YES: Final = ("true", "ja", "yes", "j", "y", "1", "x", "sand")
_NO: Final = ("false", "nej", "no", "n", "0", "falsk")


def _type_of_flag(value: pl.Expr, yes: str) -> pl.Expr:
    """A yes/no customer-type column's value as the type it says (:func:`type_flag`): ``yes``
    for a yes, the other of ``person`` and ``company`` for a no, anything else as written
    (``Privat``)."""
    folded = value.str.to_lowercase()
    no = "company" if yes == "person" else "person"
    return (
        pl.when(folded.is_in(_YES))
        .then(pl.lit(yes))
        .when(folded.is_in(_NO))
        .then(pl.lit(no))
        .otherwise(value)
    )


# What text copied from a web page or typed on a Mac carries unseen: combining marks (``Århus``
# as ``A`` + U+030A, decomposed) and format characters (a zero-width space after an e-mail
# address, a soft hyphen, a byte-order mark, a direction mark).
_UNSEEN: Final = r"[\p{M}\p{Cf}]"


def typed_padding(table: pl.DataFrame, cells: dict[str, pl.Expr]) -> pl.Series:
    """:data:`~datavask.cleansing.schema.TYPED_PADDING` of each row of ``table``: the whitespace
    around each mapped field's cell as typed (``cells``: canonical field → the cell's text),
    where it has any (``Pedersen Ejendomme ApS `` → ``"\\x00 "``).

    Cleansing reads every value trimmed, and the re-import writes it so; ``changes.csv`` lists
    the trimming (rule ``trimmed``) from this. Only the whitespace is kept, never the value: the
    column is not one CPR masking reads. Only the rows with a padded cell are looked at twice.
    """
    padded = {f: cell != cell.str.strip_chars() for f, cell in cells.items()}
    empty = pl.Series(TYPED_PADDING, [None] * table.height, dtype=pl.List(pl.String))
    if not padded:
        return empty
    hinted = table.select(pl.any_horizontal(padded.values()).fill_null(False)).to_series()
    padding = pl.concat_list(
        pl.when(padded[f]).then(
            pl.concat_str(
                cells[f].str.extract(r"^(\s*)"),
                pl.lit(PADDING_SPLIT),
                cells[f].str.extract(r"(\s*)$"),
            )
        )
        if f in padded
        else pl.lit(None, dtype=pl.String)
        for f in CANONICAL_FIELDS
    )
    if not hinted.any():
        return empty
    rows = table.with_row_index("_row").filter(hinted)
    found = rows.select("_row", padding.alias(TYPED_PADDING))
    every = pl.DataFrame({"_row": pl.int_range(table.height, eager=True, dtype=pl.UInt32)})
    return every.join(found, on="_row", how="left", maintain_order="left")[TYPED_PADDING]


def _composed(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """``frame`` with the ``columns`` (the mapped fields' values, what cleansing reads) composed
    (NFC) and without format characters, so ``info@firma.dk`` + U+200B is an e-mail address and
    a decomposed ``Århus`` is the city. Only the cells that hold such characters are touched;
    ``src_*`` keeps every value as written."""
    fixes = []
    # One pass over every column at once (polars runs the columns side by side).
    found = frame.select(pl.col(columns).str.contains(_UNSEEN).fill_null(False))
    for column in columns:
        unseen = found.get_column(column)
        if not unseen.any():
            continue
        values, rows = frame.get_column(column), unseen.arg_true()
        fixed = (
            values.gather(rows)
            .str.replace_all(r"\p{Cf}", "")
            .str.normalize("NFC")
            .str.strip_chars()
        )
        fixed = pl.select(pl.when(fixed != "").then(fixed)).to_series()
        fixes.append(values.scatter(rows, fixed))
    return frame.with_columns(fixes) if fixes else frame


def _as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    """A column as text; a list or struct (from Parquet) as its JSON."""
    from datavask.connectors.reimport import as_text

    return as_text(name, dtype)


def record_ids(frame: pl.DataFrame, info: InputInfo) -> pl.Series:
    """A unique internal id per row: the input's id where it is present and unique.

    A row without an id gets its row number, a repeated id ``<id>#<row>``; where such a made-up
    id equals any id of the input (a blank id on row 1 beside a customer ``1``; ids ``5, 5,
    5#1``), it gets ``#<row>`` again until it is unique. Made-up ids all end in their own row
    number, so they cannot collide with each other. run.json counts the missing and repeated ids.
    """
    row = frame["source_row"].cast(pl.String)
    if "record_id" not in info.mapping:
        return row.alias("record_id")
    ident = frame[f"{RAW_PREFIX}record_id"]
    repeated = ident.is_duplicated() & ident.is_not_null()
    info.ids_missing = ident.null_count()
    info.ids_repeated = ident.filter(repeated).n_unique()
    info.rows_with_repeated_id = int(repeated.sum())
    info.repeated_id_rows = frame["source_row"].filter(repeated).head(100).to_list()
    if info.ids_missing or info.ids_repeated:
        info.record_id_problems = (
            f"{info.ids_missing} rows without an id and {info.rows_with_repeated_id} rows sharing "
            f"{info.ids_repeated} repeated ids in column {info.mapping['record_id']!r}: "
            "those rows got the row number or '<id>#<row>' as internal record_id"
        )
    made_up = ident.is_null() | repeated
    if not made_up.any():  # every row has an id of its own (at 1M rows the checks cost 0.5 s)
        return ident.alias("record_id")
    real = ident.drop_nulls().unique().implode()  # a made-up id never reads as an input id
    candidate = (
        frame.select(
            pl.when(ident.is_null())
            .then(row)
            .when(repeated)
            .then(pl.concat_str(ident, pl.lit("#"), row))
            .otherwise(ident)
        )
        .to_series()
        .alias("record_id")
    )
    while True:
        clash = made_up & candidate.is_in(real)
        if not clash.any():
            return candidate
        candidate = candidate.zip_with(~clash, candidate + "#" + row)
