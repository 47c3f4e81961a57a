"""Read one customer file in parts, each part on its own (a Dask worker), as one read would.

:func:`plan_parts` runs where the run starts: it streams the file once (its SHA-256 and its
encoding, decided as for a whole read), reads the header and the delimiter from its first MiB as
:func:`~datavask.connectors.files.read_table` does, and cuts the rest into ranges: byte ranges of a
CSV, each starting on a line, or runs of whole row groups of a Parquet file. :func:`read_part`
reads one range with the local reader's own record parser, so quoted line breaks and unbalanced
quotes come out as in a whole read. :func:`canonical_part` and :func:`finished_part` turn a part
into its slice of the canonical frame once the parts before it are counted (``source_row`` runs on
across parts; a repeated customer number is told apart over the whole file).

A CSV cut is only a guess at a record boundary: a line may lie inside a quoted field. Each part
therefore reads on past its end until its last record is complete, and reports where that record
ended; the next part, if it started elsewhere, is read again from there (:func:`fitted`). The
first part starts at the first record after the header, so every part then starts at a record
boundary of the whole read. A part that would need more than :data:`LOOK_AHEAD_BYTES` past its
end makes the whole file fall back to a whole read, never to a different result. Files that a
byte range cannot decode on its own (UTF-16, a mix of UTF-8 and cp1252 lines), compressed files,
workbooks, JSON lines, standard input and connector URLs are read whole: :func:`plan_parts`
returns the reason instead of a plan.

Example: ``id;navn\\n1;"Hansen\\nByg"\\n2;Olsen\\n`` cut after ``1;"Hansen\\n``: the first part
reads record 1 whole and ends after ``Byg"\\n``; the second part, which started at ``Byg"``, is
read again from there and holds record 2 (``source_row`` 2).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl

from datavask.connectors.errors import InputError
from datavask.connectors.files import (
    _SNIFF_BYTES,
    _UTF8_BOM,
    OVERFLOW_COLUMN,
    STDIN,
    InputInfo,
    _clean_header,
    _detect_format,
    _header_as_typed,
    _is_utf8,
    _Lines,
    _read_header,
    canonical_columns,
    detect_delimiter,
    line_terminator_of,
    parse_rows,
    sha256_of,
)
from datavask.connectors.parquet_types import as_readable, needs_whole_read

HEAD_BYTES: Final = 4 * _SNIFF_BYTES  # at least _SNIFF_BYTES characters of UTF-8
LOOK_AHEAD_BYTES: Final = 4 << 20
_BLOCK: Final = 4 << 20


@dataclass
class PartsPlan:
    """Where each part of a file lies, and what every part must know of the whole file."""

    path: str
    format: str  # csv, parquet or postgresql
    size: int
    mtime_ns: int
    ranges: list[tuple[int, int]]  # csv: [start, end) bytes; parquet: (first row, rows)
    info: InputInfo
    header: list[str] = field(default_factory=list)  # csv: the cleaned header
    codec: str = "utf-8"  # csv: how a range's bytes decode (no byte-order mark inside)
    chunks: Any = None  # postgresql: the ChunkPlan; the ranges are (chunk, 1)


@dataclass
class PartRead:
    """One part as read: its rows numbered from 1, or why the file must be read whole."""

    table: pl.DataFrame | None
    problems: dict[int, str] = field(default_factory=dict)
    blank: int = 0
    records: int = 0  # rows and blank lines: where the next part's numbering starts
    end: int = 0  # csv: the byte after its last record; parquet: the row after its last
    fallback: str | None = None

    def counts(self) -> dict[str, Any]:
        """What the driver needs to number the parts: no rows."""
        overflow = bool(
            self.table is not None
            and OVERFLOW_COLUMN in self.table.columns
            and self.table[OVERFLOW_COLUMN].is_not_null().any()
        )
        rows = 0 if self.table is None else self.table.height
        return {"rows": rows, "records": self.records, "blank": self.blank, "end": self.end,
                "overflow": overflow, "fallback": self.fallback}  # fmt: skip


# --------------------------------------------------------------------------- where the run starts


def plan_parts(path: str, parts: int) -> PartsPlan | str:
    """A plan of at most ``parts`` parts of ``path``, or why it is to be read whole."""
    if "://" in path or path == STDIN:
        return "not a file: read by its connector on the driver"
    file = Path(path)
    if not file.is_file():
        return "not a readable file"  # the whole read says what is wrong
    with file.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    if head[:2] == b"\x1f\x8b":
        return "a compressed file is read whole"
    if head.startswith(b"PK\x03\x04"):
        return "a workbook (or another zip archive) is read whole"
    try:
        fmt = _detect_format(file, head, file.suffix.lower())
        if fmt == "parquet":
            return _parquet_plan(file, parts)
        if fmt != "csv":
            return f"a {fmt} file is read whole"
        return _csv_plan(file, head, parts)
    except InputError:
        return "the file is not usable as it stands: the whole read says why"
    except Exception:  # pyarrow's and polars' errors for a damaged Parquet file
        return "the Parquet metadata cannot be read: the whole read says why"


def _stat(file: Path) -> tuple[int, int]:
    stat = file.stat()
    return stat.st_size, stat.st_mtime_ns


def _csv_plan(file: Path, head: bytes, parts: int) -> PartsPlan | str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head[:4096]:
        return "UTF-16 or UTF-32 text is read whole"
    bom = len(_UTF8_BOM) if head.startswith(_UTF8_BOM) else 0
    size, mtime = _stat(file)
    digest, encoding = _digest_and_encoding(file, bom=bom)
    if encoding is None:
        return "a mix of UTF-8 and other lines (decoded line by line): read whole"
    codec = "utf-8" if bom else encoding
    body = head[bom:]
    text = codecs.getincrementaldecoder(codec)().decode(body, final=len(head) == size)
    delimiter = detect_delimiter(text[:_SNIFF_BYTES])
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    try:
        typed, header_row = _read_header(lines, reader, delimiter)
        header = _clean_header(typed, file)
    except (StopIteration, csv.Error):
        return "the header cannot be read on its own: read whole"
    if lines.pos >= len(lines.lines) and len(head) < size:
        return "the header runs past the file's first MiB: read whole"
    start = bom + len("".join(lines.lines[: lines.pos]).encode(codec))
    info = InputInfo(path=str(file), sha256=digest, format="csv", encoding=encoding,
                     delimiter=delimiter, line_terminator=line_terminator_of(text))  # fmt: skip
    info.columns = header
    info.header_row = header_row
    info.header_as_typed = _header_as_typed(typed, header)
    plan = PartsPlan(str(file), "csv", size, mtime, _cuts(file, start, size, parts), info, header)
    plan.codec = codec
    return plan


def _digest_and_encoding(file: Path, *, bom: int) -> tuple[str, str | None]:
    """The file's SHA-256 and its encoding as :func:`~datavask.connectors.files.decode_text`
    decides it for the whole file, in one pass of 4 MiB blocks (the driver never holds the
    file); None for a UTF-8 file with lines in another encoding (decoded line by line)."""
    digest, decoder = hashlib.sha256(), codecs.getincrementaldecoder("utf-8")()
    utf8 = cp1252 = True
    utf8_line, carry = False, b""
    with file.open("rb") as fh:
        digest.update(fh.read(bom))
        for block in iter(lambda: fh.read(_BLOCK), b""):
            digest.update(block)
            utf8 = utf8 and _decodes(decoder, block)
            cp1252 = cp1252 and _decodes(codecs.getincrementaldecoder("cp1252")(), block)
            if not utf8 and not utf8_line:  # is any line beyond ASCII valid UTF-8?
                lines = (carry + block).split(b"\n")
                carry = lines.pop()
                utf8_line = any(not line.isascii() and _is_utf8(line) for line in lines)
    utf8 = utf8 and _decodes(decoder, b"", final=True)
    utf8_line = utf8_line or (not carry.isascii() and _is_utf8(carry))
    if utf8:
        return digest.hexdigest(), "utf-8-sig" if bom else "utf-8"
    if bom or utf8_line:
        return digest.hexdigest(), None
    return digest.hexdigest(), "cp1252" if cp1252 else "latin-1"


def _decodes(decoder: codecs.IncrementalDecoder, block: bytes, *, final: bool = False) -> bool:
    try:
        decoder.decode(block, final=final)
    except UnicodeDecodeError:
        return False
    return True


def _cuts(file: Path, start: int, size: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` byte ranges from ``start`` to the end, each starting just after a line feed."""
    bounds = [start]
    with file.open("rb") as fh:
        for k in range(1, parts):
            target = start + (size - start) * k // parts
            if target <= bounds[-1]:
                continue
            fh.seek(target - 1)  # a line feed right before the target is a cut at it
            chunk = fh.read(1 << 20)
            newline = chunk.find(b"\n")
            if newline >= 0 and target + newline < size:
                bounds.append(target + newline)
    bounds.append(size)
    return list(itertools.pairwise(bounds))


def _parquet_plan(file: Path, parts: int) -> PartsPlan | str:
    try:  # the row groups' sizes come from pyarrow's metadata reader (polars has none)
        import pyarrow.parquet as pq
    except ModuleNotFoundError:
        return "reading a Parquet file in parts needs pyarrow (pip install pyarrow)"

    if needs_whole_read(pl.scan_parquet(file, glob=False).collect_schema()):
        return "a column of bytes is read whole: whether they are text is told by all of them"
    size, mtime = _stat(file)
    groups = [g.num_rows for g in _row_groups(pq.ParquetFile(file).metadata)]
    total = sum(groups)
    ranges: list[tuple[int, int]] = []
    first = taken = 0
    for rows in groups:  # whole row groups, about total/parts rows each
        taken += rows
        if taken - first >= total / parts or taken == total:
            ranges.append((first, taken - first))
            first = taken
    digest = sha256_of(file)
    info = InputInfo(path=str(file), sha256=digest, format="parquet")
    schema = pl.scan_parquet(file, glob=False).collect_schema()
    info.columns = ["source_row_" if c == "source_row" else c for c in schema]
    return PartsPlan(str(file), "parquet", size, mtime, ranges or [(0, 0)], info)


def postgres_plan(chunks: Any, info: InputInfo) -> PartsPlan:
    """The parts of a PostgreSQL table read in key (or ctid) ranges
    (:func:`~datavask.connectors.postgres.postgres_chunks`): one per chunk, ``(chunk, 1)``."""
    ranges = [(i, 1) for i in range(chunks.chunks)]
    return PartsPlan(info.path, "postgresql", 0, 0, ranges, info, chunks=chunks)


def _row_groups(metadata: Any) -> list[Any]:
    return [metadata.row_group(i) for i in range(metadata.num_row_groups)]


# --------------------------------------------------------------------------- on the workers


def visible(plan: PartsPlan, work: str) -> bool:
    """Whether this machine sees the planned file, unchanged (or reaches the database), and the
    run's work directory."""
    if plan.format == "postgresql":
        from datavask.connectors.postgres import can_read_chunks

        return Path(work).is_dir() and can_read_chunks(plan.chunks)
    try:
        stat = os.stat(plan.path)
    except OSError:
        return False
    return (stat.st_size, stat.st_mtime_ns) == (plan.size, plan.mtime_ns) and Path(work).is_dir()


def read_part(plan: PartsPlan, part: tuple[int, int]) -> PartRead:
    """The rows of ``part`` (a range of ``plan``), numbered from 1 (see the module docstring)."""
    if plan.format in ("parquet", "postgresql"):
        first, count = part
        if plan.format == "parquet":
            table = pl.scan_parquet(plan.path, glob=False).slice(first, count).collect()
            table = as_readable(table, plan.path)
        else:
            from datavask.connectors.postgres import read_chunk

            table = read_chunk(plan.chunks, first)
        if "source_row" in table.columns:
            table = table.rename({"source_row": "source_row_"})
        table = table.with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("source_row")
        )
        return PartRead(table, records=table.height, end=first + count)
    try:
        return _read_csv_range(plan, part)
    except InputError:  # the whole read reports it with the file's own line numbers
        return PartRead(None, fallback="a row the reader refuses: read whole to report it")


def _read_csv_range(plan: PartsPlan, part: tuple[int, int]) -> PartRead:
    start, end = part
    with open(plan.path, "rb") as fh:
        fh.seek(start)
        own = fh.read(end - start)
        ahead = fh.read(LOOK_AHEAD_BYTES) if end < plan.size else b""
    complete = end + len(ahead) >= plan.size
    if not complete:
        ahead = ahead[: ahead.rfind(b"\n") + 1]
    own_lines = len(_Lines(own.decode(plan.codec)).lines)
    lines = _Lines((own + ahead).decode(plan.codec))
    reader = csv.reader(lines, delimiter=plan.info.delimiter or ",", strict=False)
    csv.field_size_limit(2**31 - 1)
    parsed = parse_rows(Path(plan.info.path), lines, reader, plan.info.delimiter or ",",
                        len(plan.header), encoding=plan.info.encoding, stop=own_lines)  # fmt: skip
    if not complete and lines.pos >= len(lines.lines):
        return PartRead(None, fallback="a record reaches far past its part: read whole")
    # where the part's last record really ends: past ``end`` when a quoted field spans the cut
    past = "".join(lines.lines[own_lines : lines.pos]).encode(plan.codec)
    table = parsed.table(plan.header)
    return PartRead(table, parsed.problems, parsed.blank, parsed.records, end=end + len(past))


def fitted(
    ranges: list[tuple[int, int]], ends: list[int]
) -> list[tuple[tuple[int, int], int | None]]:
    """The ranges made to meet where the records really end, each with the index of the part
    that read it as it stands, or None where it is to be read again.

    ``ends[i]`` is where part ``i``'s last record ended (past its range when a quoted field spans
    the cut). A part that does not start there is read again from there, or dropped when its
    predecessor's record covers it. A part read again has no known end yet: its range's end
    stands in until it is read (call again with the new ends until every part is kept).

    >>> fitted([(0, 10), (10, 20), (20, 30)], [14, 20, 30])
    [((0, 10), 0), ((14, 20), None), ((20, 30), 2)]
    >>> fitted([(0, 10), (10, 20), (20, 30)], [25, 20, 30])
    [((0, 10), 0), ((25, 30), None)]
    """
    kept: list[tuple[tuple[int, int], int | None]] = []
    position = ranges[0][0]
    for i, ((start, end), ended) in enumerate(zip(ranges, ends, strict=True)):
        if start == position:
            kept.append(((start, end), i))
            position = ended
        elif position < end:
            kept.append(((position, end), None))
            position = end
    return kept


def canonical_part(part: PartRead, info: InputInfo, offset: int, *, overflow: bool) -> pl.DataFrame:
    """The part's canonical columns (no ``record_id`` yet), ``source_row`` counted from the
    file's start: ``offset`` records lie before the part."""
    assert part.table is not None
    table = part.table.with_columns(pl.col("source_row") + offset)
    problems = {row + offset: problem for row, problem in part.problems.items()}
    return canonical_columns(table, info, problems, overflow=overflow)


def id_columns(frame: pl.DataFrame, info: InputInfo) -> pl.DataFrame:
    """What :func:`~datavask.connectors.files.record_ids` reads of a part (two columns)."""
    from datavask.cleansing.schema import RAW_PREFIX

    wanted = ["source_row"] + ([f"{RAW_PREFIX}record_id"] if "record_id" in info.mapping else [])
    return frame.select(wanted)


def finished_part(
    frame: pl.DataFrame, ids: pl.Series, info: InputInfo, match_key: bytes | None = None
) -> pl.DataFrame:
    """The part with its ``record_id`` first and every CPR number masked, as a whole read ends
    (the person identifier hashed under ``match_key``, the driver's)."""
    import copy

    from datavask.connectors.masking import mask_input

    frame = frame.with_columns(ids.alias("record_id"))
    frame = frame.select("record_id", pl.exclude("record_id"))
    return mask_input(frame, copy.deepcopy(info), match_key=match_key)


def problem_summary(frame: pl.DataFrame) -> dict[str, Any]:
    """A part's height and the ``source_row`` of its first 100 rows with problems."""
    flagged = frame.filter(pl.col("source_problem").is_not_null())
    return {"rows": frame.height, "problems": flagged.height,
            "first": flagged["source_row"].head(100).to_list()}  # fmt: skip
