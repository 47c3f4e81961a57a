"""Write an .xlsx workbook whose cells are made by polars expressions, not one Python call each.

A worklist at a million records holds tens of millions of cells; writing them one by one
(xlsxwriter's ``write_string``, openpyxl's ``append``) takes minutes. Here every row of a sheet is
one string built by a polars expression over whole columns, and the sheet's XML is streamed into
the zip in chunks, so memory stays at one chunk.

What comes out is the SpreadsheetML that xlsxwriter writes in its ``constant_memory`` mode, with
the same styles: in-line strings (``t="inlineStr"``), a bold shaded header row, column widths and
a column style with top alignment, a frozen header row, a filter over the whole sheet, and
hyperlinks in one column. Text is always text: nothing is ever written as a formula, whatever it
starts with; control characters become Excel's ``_xHHHH_`` escapes (and a literal ``_xHHHH_`` is
escaped in turn), as xlsxwriter does; numbers are written like xlsxwriter's ``write_number``
(``%.16G``). The package parts that never change (theme, styles) are xlsxwriter's own.

A column of :func:`typed_cells` holds a number or a text per cell: a number with its own number
format (``00000``, ``DD-MM-YYYY``, ``#,##0.00``) where the cell has one, the text elsewhere, as
a workbook typed by hand mixes them (the re-import writes such a sheet back so); each format
gets a cell style of its own beside the four above.
"""

from __future__ import annotations

import collections
import contextlib
import io
import itertools
import math
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final
from xml.sax.saxutils import escape, quoteattr

import polars as pl
from xlsxwriter.theme import THEME_XML_2007
from xlsxwriter.utility import quote_sheetname, xl_col_to_name

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

MAX_CELL: Final = 32_767  # characters Excel keeps in a cell
MAX_URLS: Final = 65_000  # Excel keeps at most 65,530 links per sheet
CHUNK_ROWS: Final = 50_000  # rows turned into XML at a time

_NS: Final = (
    'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)
_DECL: Final = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_REL: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT: Final = "application/vnd.openxmlformats-officedocument"
# Cell styles (cellXfs): 1 the header, 2 every data cell (top-aligned), 3 a hyperlink.
HEADER, DATA, LINK = "1", "2", "3"
_STYLES: Final = (
    _DECL + '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="3"><font><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/>'
    '<scheme val="minor"/></font><font><b/><sz val="11"/><color theme="1"/><name val="Calibri"/>'
    '<family val="2"/><scheme val="minor"/></font><font><u/><sz val="11"/><color theme="10"/>'
    '<name val="Calibri"/><family val="2"/></font></fonts><fills count="3"><fill>'
    '<patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFE8EDF3"/><bgColor indexed="64"/>'
    '</patternFill></fill></fills><borders count="2"><border><left/><right/><top/><bottom/>'
    '<diagonal/></border><border><left/><right/><top/><bottom style="thin"><color auto="1"/>'
    '</bottom><diagonal/></border></borders><cellStyleXfs count="2"><xf numFmtId="0" fontId="0" '
    'fillId="0" borderId="0"/><xf numFmtId="0" fontId="2" fillId="0" borderId="0" '
    'applyNumberFormat="0" applyFill="0" applyBorder="0" applyAlignment="0" applyProtection="0">'
    '<alignment vertical="top"/><protection locked="0"/></xf></cellStyleXfs><cellXfs count="4">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" '
    'fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" '
    'applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf><xf numFmtId="0" fontId="0" '
    'fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top"/></xf>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="1" applyAlignment="1" '
    'applyProtection="1"/></cellXfs><cellStyles count="2"><cellStyle name="Hyperlink" xfId="1" '
    'builtinId="8"/><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" '
    'defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
)
# A piece of a row's XML: a ``str`` is literal text, an expression a column's text.
Piece = str | pl.Expr
# Excel's _xHHHH_ escapes for the characters XML 1.0 cannot hold, and XML's own three.
_ESCAPES: Final = {chr(c): f"_x{c:04X}_" for c in [*range(0x09), *range(0x0B, 0x20)]} | {
    "\ufffe": "_xFFFE_",
    "\uffff": "_xFFFF_",
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
}


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a frame of text and number columns, its header row, widths and links.

    ``widths`` are Excel character widths, one per column; ``link`` names a column of URLs shown
    as hyperlinks on the first :data:`MAX_URLS` data rows (plain text after that); ``header``
    the header row's cells where they are not the frame's column names (``By `` with its
    space, two blank ones).
    """

    name: str
    frame: pl.DataFrame
    widths: Sequence[float]
    link: str | None = None
    header: Sequence[str] | None = None


def column_widths(frame: pl.DataFrame) -> list[float]:
    """Column widths from the header and the longest of the first 10,000 values, 8 to 60."""
    sample = frame.head(10_000)
    widths = []
    for name in frame.columns:
        longest = sample.select(
            pl.col(name)
            .cast(pl.String)
            .str.split("\n")
            .list.eval(pl.element().str.len_chars())
            .list.max()
            .max()
        ).item()
        widths.append(float(min(max(len(name), longest or 0, 8) + 2, 60)))
    return widths


def typed_cells(text: pl.Expr, number: pl.Expr, number_format: pl.Expr) -> pl.Expr:
    """A column whose cell is a number where ``number`` is not null — its text as a number cell
    holds it (``46540.37``, ``45014``), shown with ``number_format`` (null: General) — and
    ``text`` elsewhere (no cell where both are null)."""
    return pl.struct(text.alias("text"), number.alias("number"), number_format.alias("format"))


def write_xlsx(path: Path, sheets: Sequence[Sheet]) -> Path:
    """Write ``sheets`` as one workbook to ``path``; the first sheet is the one that opens."""
    links: dict[int, pl.DataFrame] = {}  # of the sheets whose rows are being built
    formats = _number_formats(sheets)

    def sheet_pieces(n: int, sheet: Sheet, build: Build) -> Iterator[str | Future[Rows]]:
        links[n] = _links(sheet)
        yield from _sheet_xml(sheet, links[n], selected=n == 1, build=build, formats=formats)

    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as book,
        _row_builders() as build,
    ):
        book.writestr("[Content_Types].xml", _content_types(len(sheets)))
        book.writestr("_rels/.rels", _package_rels())
        book.writestr("docProps/core.xml", _core_properties())
        book.writestr("xl/workbook.xml", _workbook(sheets))
        book.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        book.writestr("xl/styles.xml", _styles(formats))
        book.writestr("xl/theme/theme1.xml", THEME_XML_2007)
        # Every sheet's pieces in one stream, so rows are built ahead across a sheet's end too.
        pieces = _ahead(
            (n, piece)
            for n, sheet in enumerate(sheets, start=1)
            for piece in sheet_pieces(n, sheet, build)
        )
        for n, pieces_of_sheet in itertools.groupby(pieces, key=lambda item: item[0]):
            with book.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as part:
                _write_overlapped(part, (piece for _, piece in pieces_of_sheet))
            sheet_links = links.pop(n)
            if sheet_links.height:
                book.writestr(f"xl/worksheets/_rels/sheet{n}.xml.rels", _sheet_rels(sheet_links))
    return path


# Threads building row XML ahead of the one compressing it. A chunk of rows is one polars
# expression over its cells, which runs on one core; the compression is another. Two builders
# keep both cores busy while the rows are made (one sheet's compression no longer waits for the
# next chunk to be made after it), at the cost of one more chunk held in memory.
BUILDERS: Final = 2
Build = Callable[..., "Future[Rows]"]
# A chunk's rows as UTF-8, in the pieces polars' writer handed them over (a few MB each): they
# go into the zip as they are, never copied into one buffer.
Rows = list[bytes]


@contextlib.contextmanager
def _row_builders() -> Iterator[Build]:
    """``build(fn, *args, **kwargs)``: ``fn`` run in a builder thread, its future. Leaving on an
    error drops what has not started, so an interrupted write stops at once."""
    pool = ThreadPoolExecutor(BUILDERS, thread_name_prefix="xlsx-rows")
    try:
        yield pool.submit
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _ahead(
    items: Iterator[tuple[int, str | Future[Rows]]],
) -> Iterator[tuple[int, str | Rows]]:
    """``items`` in order, each future replaced by its result; the iterator is read ahead until
    :data:`BUILDERS` futures are pending, so that many chunks are built while the caller writes
    the one before them."""
    queue: collections.deque[tuple[int, str | Future[Rows]]] = collections.deque()

    def waiting() -> int:
        return sum(isinstance(piece, Future) for _, piece in queue)

    def first() -> tuple[int, str | Rows]:
        n, piece = queue.popleft()
        return n, piece.result() if isinstance(piece, Future) else piece

    for item in items:
        queue.append(item)
        while waiting() >= BUILDERS:
            yield first()
    while queue:
        yield first()


def _write_overlapped(part: IO[bytes], pieces: Iterable[str | Rows]) -> None:
    """Write ``pieces`` in order, compressing one while polars builds the next.

    zlib and polars both release the GIL, so on two cores the compression (about as long as
    building the rows at a million records) mostly disappears behind it.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="xlsx-zip") as writer:
        pending: Future[None] | None = None
        for piece in pieces:
            data = [piece.encode("utf-8")] if isinstance(piece, str) else piece
            if pending is not None:
                pending.result()
            pending = writer.submit(part.writelines, data)
        if pending is not None:
            pending.result()


# --------------------------------------------------------------------------- number formats

_FIRST_CUSTOM_FORMAT: Final = 164  # numFmtId below it are Excel's built-in formats


def _number_formats(sheets: Sequence[Sheet]) -> dict[str, str]:
    """Number format code → cell style (``"4"``, ``"5"`` …) of every format the sheets'
    :func:`typed_cells` columns use, in order of first use."""
    codes: dict[str, str] = {}
    for sheet in sheets:
        for name, dtype in sheet.frame.schema.items():
            if not isinstance(dtype, pl.Struct):
                continue
            cells = sheet.frame.get_column(name).struct.unnest()
            used = cells.filter(pl.col("number").is_not_null()).get_column("format")
            for code in used.drop_nulls().unique(maintain_order=True):
                codes.setdefault(code, str(4 + len(codes)))
    return codes


def _styles(formats: dict[str, str]) -> str:
    """styles.xml: xlsxwriter's four cell styles, then one per number format (top-aligned, as
    every data cell)."""
    if not formats:
        return _STYLES
    codes = "".join(
        f'<numFmt numFmtId="{_FIRST_CUSTOM_FORMAT + n}" formatCode={quoteattr(code)}/>'
        for n, code in enumerate(formats)
    )
    styles = "".join(
        f'<xf numFmtId="{_FIRST_CUSTOM_FORMAT + n}" fontId="0" fillId="0" borderId="0" xfId="0" '
        'applyNumberFormat="1" applyAlignment="1"><alignment vertical="top"/></xf>'
        for n in range(len(formats))
    )
    return (
        _STYLES.replace("<fonts ", f'<numFmts count="{len(formats)}">{codes}</numFmts><fonts ', 1)
        .replace('<cellXfs count="4">', f'<cellXfs count="{4 + len(formats)}">', 1)
        .replace("</cellXfs>", f"{styles}</cellXfs>", 1)
    )


# --------------------------------------------------------------------------- a sheet's XML


def _sheet_xml(
    sheet: Sheet,
    links: pl.DataFrame,
    *,
    selected: bool,
    build: Build,
    formats: dict[str, str],
) -> Iterator[str | Future[Rows]]:
    """The sheet's XML in pieces; the rows are chunks built by ``build`` (futures)."""
    frame = sheet.frame
    last_col = xl_col_to_name(max(frame.width - 1, 0))
    extent = f"A1:{last_col}{max(frame.height, 1) + 1}"  # the filter: header and data
    filled = f"A1:{last_col}{frame.height + 1}" if frame.width else "A1"
    tab = ' tabSelected="1"' if selected else ""
    yield (
        f'{_DECL}<worksheet {_NS}><dimension ref="{filled}"/>'
        f'<sheetViews><sheetView{tab} workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView>'
        f'</sheetViews><sheetFormatPr defaultRowHeight="15"/>{_cols(sheet.widths)}<sheetData>'
    )
    header = pl.DataFrame(
        [
            pl.Series(str(i), [name], pl.String)
            for i, name in enumerate(sheet.header or frame.columns)
        ]
    )
    yield build(_rows_xml, header, first_row=1, style=HEADER, link_column=None, formats={})
    link_column = frame.columns.index(sheet.link) if sheet.link in frame.columns else None
    for start in range(0, frame.height, CHUNK_ROWS):
        chunk = frame.slice(start, CHUNK_ROWS)
        yield build(
            _rows_xml,
            chunk,
            first_row=start + 2,
            style=DATA,
            link_column=link_column,
            formats=formats,
        )
    yield f'</sheetData><autoFilter ref="{extent}"/>'
    if links.height:
        yield "<hyperlinks>"
        yield "".join(
            f'<hyperlink ref="{ref}" r:id="rId{n}"/>' for n, ref in enumerate(links["ref"], start=1)
        )
        yield "</hyperlinks>"
    yield (
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        "</worksheet>"
    )


def _cols(widths: Sequence[float]) -> str:
    """``<cols>``, neighbours of the same width in one element as xlsxwriter writes them."""
    runs: list[list[Any]] = []  # [first, last, width], 1-based
    for i, width in enumerate(widths, start=1):
        if runs and runs[-1][2] == width:
            runs[-1][1] = i
        else:
            runs.append([i, i, width])
    cols = "".join(
        f'<col min="{a}" max="{b}" width="{_char_width(w):.16g}" style="{DATA}" customWidth="1"/>'
        for a, b, w in runs
    )
    return f"<cols>{cols}</cols>" if cols else ""


def _char_width(width: float) -> float:
    """Excel's stored width of a column ``width`` characters wide (Calibri 11, as xlsxwriter)."""
    pixels = int(width * 12 + 0.5) if width < 1 else int(width * 7 + 0.5) + 5
    return (pixels * 256 // 7) / 256.0


def _rows_xml(
    frame: pl.DataFrame,
    *,
    first_row: int,
    style: str,
    link_column: int | None,
    formats: dict[str, str],
) -> Rows:
    """The ``<row>`` elements of ``frame`` as UTF-8, its first row being sheet row ``first_row``;
    ``formats`` gives the cell style of each number format of a :func:`typed_cells` column.

    The rows go out through polars' CSV writer (no quoting, no separator, no line ends): the XML
    never becomes a Python string, which at a million rows costs more than building it.
    """
    if frame.width == 0 or frame.height == 0:
        return []
    row = pl.col("_row")
    # The pieces of the row, concatenated once (nulls left out): a column without nulls has its
    # cells' pieces inline; a cell that may be null is one piece, null when its value is.
    pieces: list[Piece] = ['<row r="', row, '">']
    columns: list[pl.Series] = []  # by position: a header text may be any string, "_row" too
    filled: list[pl.Expr] = []  # per column: where it has a cell
    for i, (name, dtype) in enumerate(frame.schema.items()):
        ref: list[Piece] = [f'<c r="{xl_col_to_name(i)}', row]  # the cell's opening, reference
        values = frame.get_column(name)
        if isinstance(dtype, pl.Struct):
            typed_columns, cell_xml, has_cell = _typed_cell(i, values, ref, style, formats)
            columns += typed_columns
            pieces.append(cell_xml)
            filled.append(has_cell)
            continue
        filled.append(pl.col(f"c{i}").is_not_null())
        if dtype == pl.String:
            cell_style: Piece = style
            if link_column == i:
                linked = pl.col("_n") <= MAX_URLS + 1
                cell_style = pl.when(linked).then(pl.lit(LINK)).otherwise(pl.lit(style))
            text, preserve = _escaped(values)
            columns.append(text.alias(f"c{i}"))
            attribute = None  # most chunks have no value that keeps its spaces: no such piece
            if preserve.null_count() < preserve.len():
                columns.append(preserve.alias(f"p{i}"))
                attribute = pl.col(f"p{i}")
            cell = _text_cell_pieces(pl.col(f"c{i}"), attribute, ref, cell_style)
        else:
            shown = _shown_numbers(values)
            columns.append(shown.alias(f"c{i}"))
            attribute = None
            cell = _number_cell_pieces(pl.col(f"c{i}"), ref, style)
            values = shown
        if values.null_count() == 0:
            pieces += cell
        elif attribute is None:  # the value is the cell's one piece that may be null
            pieces.append(_concat(cell, ignore_nulls=False))
        else:
            pieces.append(_whole_cell(cell, pl.col(f"c{i}")))
    numbers = pl.int_range(first_row, first_row + frame.height, eager=True)
    pieces.append("</row>")
    xml = _concat(pieces, ignore_nulls=True)
    rows = (
        pl.DataFrame(columns)
        .with_columns(pl.Series("_n", numbers), pl.Series("_row", numbers.cast(pl.String)))
        .filter(pl.any_horizontal(filled))  # a row without a value has no element, as in xlsxwriter
        .select(xml)
    )
    out = _Pieces()
    rows.write_csv(out, include_header=False, quote_style="never", line_terminator="")
    return out.pieces


class _Pieces(io.BytesIO):
    """A file polars' CSV writer writes to that keeps the pieces it is handed, as they are: a
    plain ``BytesIO`` copies each into its buffer and the whole once more (1.3 GB of worklist
    XML at a million records, twice: a second of CPU)."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: Rows = []

    def write(self, data: ReadableBuffer, /) -> int:
        self.pieces.append(bytes(data))  # polars hands over bytes: no copy
        return len(self.pieces[-1])


def _concat(pieces: Sequence[Piece], *, ignore_nulls: bool) -> pl.Expr:
    """``pieces`` as one text, neighbouring literals first joined into one (``</t></is></c>``
    and the next cell's ``<c r="B``): polars' concatenation costs per piece per row."""
    merged: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        else:
            merged.append(piece)
    exprs = [pl.lit(p) if isinstance(p, str) else p for p in merged]
    return pl.concat_str(exprs, ignore_nulls=ignore_nulls)


def _typed_cell(
    i: int,
    values: pl.Series,
    ref: list[Piece],
    style: str,
    formats: dict[str, str],
) -> tuple[list[pl.Series], pl.Expr, pl.Expr]:
    """Of the :func:`typed_cells` column ``i``: the columns its cells are made of (``c``, ``p``
    its escaped text and ``xml:space``, ``n`` its number, ``s`` the number's style), the cell
    (null where it has none) and where it has one."""
    cells = values.struct.unnest()
    text, preserve = _escaped(cells.get_column("text"))
    number_style = (
        cells.get_column("format")
        .replace_strict(formats, default=style, return_dtype=pl.String)
        .fill_null(style)
    )
    columns = [
        text.alias(f"c{i}"), preserve.alias(f"p{i}"),
        cells.get_column("number").alias(f"n{i}"), number_style.alias(f"s{i}"),
    ]  # fmt: skip
    number, shown = pl.col(f"n{i}"), pl.col(f"c{i}")
    as_number = _number_cell_pieces(number, ref, pl.col(f"s{i}"))
    as_text = _text_cell_pieces(shown, pl.col(f"p{i}"), ref, style)
    cell = (
        pl.when(number.is_not_null())
        .then(_concat(as_number, ignore_nulls=False))
        .when(shown.is_not_null())
        .then(_concat(as_text, ignore_nulls=True))
    )
    return columns, cell, number.is_not_null() | shown.is_not_null()


# A value that needs more than copying into the cell: XML's or Excel's escapes, a leading or
# trailing space (xml:space="preserve"); beside those, one longer than a cell holds.
_SPECIAL: Final = r"^\s|\s$|[\x00-\x08\x0B-\x1F&<>\x{FFFE}\x{FFFF}]|_x[0-9a-fA-F]{4}_"


def _escaped(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """The cell text of each value and its ``xml:space`` attribute (null where not needed).

    Most values need nothing: only the few that do go through the escapes, so a million-row
    sheet is not rewritten four times over for a handful of ampersands.
    """
    special = (values.str.contains(_SPECIAL) | (values.str.len_bytes() > MAX_CELL)).fill_null(False)
    preserve = pl.repeat(None, values.len(), dtype=pl.String, eager=True)
    if not special.any():
        return values, preserve
    at = special.arg_true()
    odd = values.gather(at).to_frame("v")
    fitted = (
        pl.when(pl.col("v").str.len_chars() > MAX_CELL)
        .then(pl.col("v").str.slice(0, MAX_CELL - 1) + pl.lit("…"))
        .otherwise(pl.col("v"))
    )
    # A literal "_x0041_" would read back as "A": its underscore is escaped first, as Excel does.
    done = odd.select(
        fitted.str.replace_all(r"(_x[0-9a-fA-F]{4}_)", "_x005F${1}")
        .str.replace_many(_ESCAPES)
        .alias("text"),
        pl.when(fitted.str.contains(r"^\s|\s$"))
        .then(pl.lit(' xml:space="preserve"'))
        .alias("preserve"),
    )
    return (
        values.scatter(at, done.get_column("text")),
        preserve.scatter(at, done.get_column("preserve")),
    )


def _text_cell_pieces(
    text: pl.Expr, preserve: pl.Expr | None, ref: list[Piece], style: Piece
) -> list[Piece]:
    """The pieces of ``<c … t="inlineStr">`` of an escaped text; ``preserve`` its ``xml:space``
    attribute (null where not needed), None where no value of the column needs it."""
    attribute: list[Piece] = [] if preserve is None else [preserve]
    return [
        *ref, '" s="', style, '" t="inlineStr"><is><t', *attribute, ">", text, "</t></is></c>",
    ]  # fmt: skip


def _whole_cell(pieces: list[Piece], value: pl.Expr) -> pl.Expr:
    """The cell made of ``pieces`` (nulls left out), or null where ``value`` is (no cell)."""
    return pl.when(value.is_not_null()).then(_concat(pieces, ignore_nulls=True))


def _shown_numbers(values: pl.Series) -> pl.Series:
    """Numbers in xlsxwriter's ``%.16G``; null for null, NaN or infinity (no cell)."""
    return pl.Series(
        [None if v is None or not math.isfinite(v) else f"{v:.16G}" for v in values.to_list()],
        dtype=pl.String,
    )


def _number_cell_pieces(shown: pl.Expr, ref: list[Piece], style: Piece) -> list[Piece]:
    """The pieces of ``<c …><v>…</v></c>`` of a number as :func:`_shown_numbers` writes it."""
    return [*ref, '" s="', style, '"><v>', shown, "</v></c>"]


def _links(sheet: Sheet) -> pl.DataFrame:
    """``ref`` and ``url`` of the link column's cells that become hyperlinks."""
    frame = sheet.frame
    if sheet.link not in frame.columns:
        return pl.DataFrame(schema={"ref": pl.String, "url": pl.String})
    letter = xl_col_to_name(frame.columns.index(sheet.link))
    return (
        frame.head(MAX_URLS)
        .select(pl.col(sheet.link).alias("url"))
        .with_row_index("_row", offset=2)
        .filter(pl.col("url").is_not_null())
        .select((pl.lit(letter) + pl.col("_row").cast(pl.String)).alias("ref"), "url")
    )


# --------------------------------------------------------------------------- package parts


def _content_types(n_sheets: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
        f'ContentType="{_CT}.spreadsheetml.worksheet+xml"/>'
        for n in range(1, n_sheets + 1)
    )
    return (
        f'{_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
        'package.core-properties+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.spreadsheetml.styles+xml"/>'
        f'<Override PartName="/xl/theme/theme1.xml" ContentType="{_CT}.theme+xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.spreadsheetml.sheet.main+xml"/>'
        f"{sheets}</Types>"
    )


def _package_rels() -> str:
    return (
        f'{_DECL}<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        f'<Relationship Id="rId2" Type="{_PKG_REL}/metadata/core-properties" '
        'Target="docProps/core.xml"/></Relationships>'
    )


def _core_properties() -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"{_DECL}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator></dc:creator>'
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def _workbook(sheets: Sequence[Sheet]) -> str:
    entries = "".join(
        f'<sheet name={quoteattr(sheet.name)} sheetId="{n}" r:id="rId{n}"/>'
        for n, sheet in enumerate(sheets, start=1)
    )
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
        f"{escape(_filter_range(sheet))}</definedName>"
        for n, sheet in sorted(enumerate(sheets), key=lambda item: item[1].name.lower())
    )
    return (
        f'{_DECL}<workbook {_NS}><fileVersion appName="xl" lastEdited="4" '
        'lowestEdited="4" rupBuild="4505"/><workbookPr defaultThemeVersion="124226"/><bookViews>'
        '<workbookView xWindow="240" yWindow="15" windowWidth="16095" windowHeight="9660"/>'
        f"</bookViews><sheets>{entries}</sheets>"
        f"{f'<definedNames>{filters}</definedNames>' if filters else ''}"
        '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
    )


def _filter_range(sheet: Sheet) -> str:
    last_col = xl_col_to_name(max(sheet.frame.width - 1, 0))
    last_row = max(sheet.frame.height, 1) + 1
    return f"{quote_sheetname(sheet.name)}!$A$1:${last_col}${last_row}"


def _workbook_rels(n_sheets: int) -> str:
    sheets = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, n_sheets + 1)
    )
    return (
        f'{_DECL}<Relationships xmlns="{_PKG_REL}">{sheets}'
        f'<Relationship Id="rId{n_sheets + 1}" Type="{_REL}/theme" Target="theme/theme1.xml"/>'
        f'<Relationship Id="rId{n_sheets + 2}" Type="{_REL}/styles" Target="styles.xml"/>'
        "</Relationships>"
    )


def _sheet_rels(links: pl.DataFrame) -> str:
    targets = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/hyperlink" Target={quoteattr(url)} '
        'TargetMode="External"/>'
        for n, url in enumerate(links["url"], start=1)
    )
    return f'{_DECL}<Relationships xmlns="{_PKG_REL}">{targets}</Relationships>'
