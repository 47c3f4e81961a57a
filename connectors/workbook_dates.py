"""Date cells of an .xlsx sheet, and numbers padded with zeros, as the workbook showed them.

An Excel date is a number with a date format; readers hand it over as a serial number
(``45352``) or as ``2024-03-01 00:00:00``, neither of which is what the user saw
(``01-03-2024``) nor what the CRM should get back. This module finds the date cells of a sheet
(the cell's style names a number format with days or years in it) and renders each value with
its own format, in Danish (month and day names), as Excel in Denmark shows it.

Only the standard library reads the workbook (it is a zip of XML files): the styles, then the
sheet's cells, streamed.

>>> render_excel_date(datetime(2024, 3, 1), "dd-mm-yyyy")
'01-03-2024'
>>> render_excel_date(datetime(2024, 3, 1, 8, 5), '[$-406]d. mmmm yyyy "kl." hh:mm;@')
'1. marts 2024 kl. 08:05'
>>> render_excel_date(datetime(2024, 3, 1), "0.00") is None
True

A customer number kept as a number with the format ``00000`` shows ``00042``; readers hand over
``42``, and written back so the CRM's key would no longer find its row. Such cells are rendered
with their zeros as well (:func:`render_padded_number`).
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from datetime import datetime, timedelta
from typing import IO, Final
from xml.etree.ElementTree import Element, iterparse

_MAIN: Final = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL: Final = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL: Final = "{http://schemas.openxmlformats.org/package/2006/relationships}"

# Built-in date formats (ECMA-376 §18.8.30) as a Danish Excel shows them.
_BUILTIN_DATE_FORMATS: Final = {
    14: "dd-mm-yyyy",
    15: "d-mmm-yy",
    16: "d-mmm",
    17: "mmm-yy",
    22: "dd-mm-yyyy hh:mm",
    27: "dd-mm-yyyy",
    30: "dd-mm-yyyy",
    36: "dd-mm-yyyy",
    50: "dd-mm-yyyy",
    57: "dd-mm-yyyy",
}
_MONTHS: Final = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
                  "september", "oktober", "november", "december")  # fmt: skip
_MONTHS_SHORT: Final = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt",
                        "nov", "dec")  # fmt: skip
_DAYS: Final = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
_TOKEN: Final = re.compile(
    r'"[^"]*"|\\.|\[[^\]]*\]|yyyy|yy|mmmmm|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s|am/pm|a/p|.',
    re.IGNORECASE,
)
_EXCEL_EPOCH: Final = datetime(1899, 12, 30)


def table_date_formats(data: bytes, sheet: str) -> dict[tuple[int, int], str]:
    """``(row, column) → format code`` of every date or padded-number cell of ``sheet``, as
    positions in the table a reader makes of it: the table starts at the first row and column
    holding a value, its first row is the header, and row 0 is the first row below it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            formats = _style_date_formats(book)
            path = sheet_path(book, sheet) if formats else None
            if path is None:
                return {}
            with book.open(path) as xml:
                cells, top, left = _date_cells(xml, formats)
    except (zipfile.BadZipFile, KeyError, SyntaxError, ValueError):
        return {}  # the reader proper reports a broken workbook; here: no formats known
    return {(row - top - 1, col - left): code for (row, col), code in cells.items()}


def render_excel_date(value: datetime, code: str) -> str | None:
    """``value`` written the way Excel shows it with number format ``code``; None if ``code``
    is not a date format this module can render."""
    section = code.split(";", maxsplit=1)[0]
    tokens = _TOKEN.findall(section)
    if not any(t.lower()[0] in "dy" for t in tokens if t[0] not in '"\\['):
        return None
    twelve_hour = any(t.lower() in ("am/pm", "a/p") for t in tokens)
    out: list[str] = []
    for i, token in enumerate(tokens):
        out.append(_render_token(value, token, tokens, i, twelve_hour))
    return "".join(out).strip()


_PADDED: Final = re.compile(r"0+")


def render_padded_number(text: str, code: str) -> str | None:
    """A whole number as a format of zeros shows it (``00000``: ``42`` → ``00042``); None if
    ``code`` is no such format or ``text`` no whole number (a reader's ``42`` or ``42.0``).

    >>> render_padded_number("42", "00000"), render_padded_number("42.0", "000000")
    ('00042', '000042')
    >>> render_padded_number("4.5", "00000") is None, render_padded_number("42", "0.00") is None
    (True, True)
    """
    section = code.split(";", maxsplit=1)[0]
    if not _PADDED.fullmatch(section):
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    if number < 0 or not number.is_integer():
        return None
    return str(int(number)).zfill(len(section))


def date_from_cell_text(text: str) -> datetime | None:
    """The date a reader made of a date cell: ISO text or an Excel serial number."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        serial = float(text)
    except ValueError:
        return None
    if not 0 < serial < 2_958_466:  # Excel's last day is 9999-12-31
        return None
    return _EXCEL_EPOCH + timedelta(days=serial)


# --------------------------------------------------------------------------- formats


def _render_token(value: datetime, token: str, tokens: list[str], i: int, twelve: bool) -> str:
    low = token.lower()
    if token.startswith('"'):
        return token[1:-1]
    if token.startswith("\\"):
        return token[1:]
    if token.startswith("[") or token == "@":
        return ""
    if low in ("am/pm", "a/p"):
        return ("AM" if value.hour < 12 else "PM") if low == "am/pm" else "ap"[value.hour >= 12]
    if low[0] == "m" and len(low) <= 2 and _is_minutes(tokens, i):
        return f"{value.minute:02d}" if low == "mm" else str(value.minute)
    hour = (value.hour % 12 or 12) if twelve else value.hour
    simple = {
        "yyyy": f"{value.year:04d}",
        "yy": f"{value.year % 100:02d}",
        "mmmmm": _MONTHS[value.month - 1][0],
        "mmmm": _MONTHS[value.month - 1],
        "mmm": _MONTHS_SHORT[value.month - 1],
        "mm": f"{value.month:02d}",
        "m": str(value.month),
        "dddd": _DAYS[value.weekday()],
        "ddd": _DAYS[value.weekday()][:3],
        "dd": f"{value.day:02d}",
        "d": str(value.day),
        "hh": f"{hour:02d}",
        "h": str(hour),
        "ss": f"{value.second:02d}",
        "s": str(value.second),
    }
    return simple.get(low, token)


def _is_minutes(tokens: list[str], i: int) -> bool:
    """``m``/``mm`` are minutes right after hours or right before seconds, else months."""

    def kind(j: int) -> str:
        return tokens[j].lower()[0] if 0 <= j < len(tokens) else ""

    before = next((kind(j) for j in range(i - 1, -1, -1) if kind(j) in "hdysm"), "")
    after = next((kind(j) for j in range(i + 1, len(tokens)) if kind(j) in "hdysm"), "")
    return before == "h" or after == "s"


def _is_shown_code(code: str) -> bool:
    """A format this module renders: a date's, or zeros padding a whole number."""
    return (
        render_excel_date(datetime(2000, 1, 1), code) is not None
        or render_padded_number("1", code) is not None
    )


def _style_date_formats(book: zipfile.ZipFile) -> dict[int, str]:
    """Cell style index → format code, for the styles that show a date or a padded number."""
    codes = _style_codes(book, _BUILTIN_DATE_FORMATS)
    return {i: code for i, code in codes.items() if _is_shown_code(code)}


# Built-in number formats (ECMA-376 §18.8.30) other than dates, whose codes the file leaves out.
_BUILTIN_FORMATS: Final = {
    1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%", 11: "0.00E+00",
    12: "# ?/?", 13: "# ??/??", 18: "h:mm AM/PM", 19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss",
    37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)",
    40: "#,##0.00;[Red](#,##0.00)", 45: "mm:ss", 46: "[h]:mm:ss", 47: "mmss.0", 48: "##0.0E+0",
    49: "@",
} | _BUILTIN_DATE_FORMATS  # fmt: skip


def style_formats(book: zipfile.ZipFile) -> dict[int, str]:
    """Cell style index → number format code, for every style with a format other than
    General: the workbook's own codes, and the built-in ones written out (``4`` is
    ``#,##0.00``; a built-in date as a Danish Excel shows it, ``14`` ``dd-mm-yyyy``)."""
    return _style_codes(book, _BUILTIN_FORMATS)


def _style_codes(book: zipfile.ZipFile, builtin: dict[int, str]) -> dict[int, str]:
    """Cell style index → format code, of the styles whose format the workbook writes out or
    ``builtin`` knows."""
    try:
        xml = book.read("xl/styles.xml")
    except KeyError:
        return {}
    custom: dict[int, str] = {}
    formats: dict[int, str] = {}
    in_cell_xfs = False
    index = 0
    for event, element in iterparse(io.BytesIO(xml), events=("start", "end")):
        if element.tag == f"{_MAIN}numFmt" and event == "end":
            custom[int(element.get("numFmtId", "-1"))] = element.get("formatCode", "")
        elif element.tag == f"{_MAIN}cellXfs":
            in_cell_xfs = event == "start"
        elif element.tag == f"{_MAIN}xf" and event == "end" and in_cell_xfs:
            fmt_id = int(element.get("numFmtId", "0"))
            code = custom.get(fmt_id) or builtin.get(fmt_id)
            if code and code != "General":
                formats[index] = code
            index += 1
    return formats


def sheet_path(book: zipfile.ZipFile, sheet: str) -> str | None:
    rel_id = None
    for _, element in iterparse(io.BytesIO(book.read("xl/workbook.xml"))):
        if element.tag == f"{_MAIN}sheet" and element.get("name") == sheet:
            rel_id = element.get(f"{_REL}id")
    if rel_id is None:
        return None
    for _, element in iterparse(io.BytesIO(book.read("xl/_rels/workbook.xml.rels"))):
        if element.tag == f"{_PKG_REL}Relationship" and element.get("Id") == rel_id:
            target = element.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


def _date_cells(
    xml: IO[bytes], formats: dict[int, str]
) -> tuple[dict[tuple[int, int], str], int, int]:
    """The date cells (absolute, 0-based) and the first row and column holding any value."""
    cells: dict[tuple[int, int], str] = {}
    top = left = sys.maxsize
    for _, cell in iterparse(xml):
        if cell.tag == f"{_MAIN}c" and _has_value(cell):
            row, col = cell_ref(cell.get("r", ""))
            top, left = min(top, row), min(col, left)
            style = cell.get("s")
            code = formats.get(int(style)) if style is not None else None
            if code and cell.get("t", "n") in ("n", "d"):
                cells[row, col] = code
        elif cell.tag == f"{_MAIN}row":
            cell.clear()  # keep memory flat on big sheets
    return cells, (0 if top == sys.maxsize else top), (0 if left == sys.maxsize else left)


def _has_value(cell: Element) -> bool:
    return any(child.tag in (f"{_MAIN}v", f"{_MAIN}is") for child in cell)


def cell_ref(ref: str) -> tuple[int, int]:
    """``"C12"`` → ``(11, 2)``."""
    match = re.fullmatch(r"([A-Z]+)(\d+)", ref)
    if not match:
        raise ValueError(f"cell reference {ref!r}")
    col = 0
    for letter in match.group(1):
        col = col * 26 + ord(letter) - ord("A") + 1
    return int(match.group(2)) - 1, col - 1
