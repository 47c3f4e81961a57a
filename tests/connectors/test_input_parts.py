"""A file read in parts gives the rows of one whole read, or says why it must be read whole.

The parts are read here one after another, as the Dask engine's workers read them; the
engine end to end is ``tests/flows/test_engine_dask.py``. Cuts are forced into every line of
files with quoted line breaks, stray quotes, blank lines, ragged rows and other encodings: a part
either reads exactly the rows of the whole read or the plan falls back, never anything else.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from datavask.connectors.files import read_table
from datavask.connectors.input_parts import PartsPlan, fitted, plan_parts, read_part

REPO = Path(__file__).resolve().parents[2]
SAMPLE_CSV = REPO / "data" / "sample" / "customers.csv"


def _in_parts(path: Path, parts: int) -> tuple[pl.DataFrame, dict[int, str], int] | str:
    """The parts of ``path`` read and fitted as the engine does, or the fallback reason."""
    plan = plan_parts(str(path), parts)
    if not isinstance(plan, PartsPlan):
        return plan
    reads = [(part, read_part(plan, part)) for part in plan.ranges]
    while True:
        ends = [r.end if not r.fallback else part[1] for part, r in reads]
        fit = fitted([part for part, _ in reads], ends)
        if [i for _, i in fit] == list(range(len(reads))):
            break
        reads = [reads[i] if i is not None else (part, read_part(plan, part)) for part, i in fit]
    tables, problems, blank, offset = [], {}, 0, 0
    for _, part in reads:
        if part.fallback:
            return part.fallback
        assert part.table is not None
        tables.append(part.table.with_columns(pl.col("source_row") + offset))
        problems |= {row + offset: problem for row, problem in part.problems.items()}
        blank, offset = blank + part.blank, offset + part.records
    return pl.concat(tables), problems, blank


def _same_as_whole(path: Path, parts: int) -> str | None:
    """None when the parts read as the whole file does, else the fallback reason."""
    got = _in_parts(path, parts)
    if isinstance(got, str):
        return got
    whole = read_table(path)
    assert_frame_equal(got[0], whole[0])
    assert (got[1], got[2]) == (whole[1], whole[2].blank_lines_skipped)
    plan = plan_parts(str(path), parts)
    assert isinstance(plan, PartsPlan)
    info = whole[2]
    assert (plan.info.sha256, plan.info.encoding, plan.info.delimiter, plan.info.columns) == (
        info.sha256, info.encoding, info.delimiter, info.columns
    )  # fmt: skip
    return None


def _lines(rows: list[list[str]]) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def test_the_sample_in_parts_reads_as_a_whole() -> None:
    """The sample: cp1252, CRLF, quoted c/o line breaks; cut in 2 to 7 parts."""
    for parts in range(2, 8):
        assert _same_as_whole(SAMPLE_CSV, parts) is None


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_a_cut_at_every_line_reads_as_a_whole(tmp_path: Path, encoding: str) -> None:
    """Quoted line breaks, a stray quote, blank lines, too many and too few fields."""
    header = ["Kundenr", "Navn", "Adresse", "Postnr"]
    rows = [header]
    for i in range(60):
        address = f"c/o Jens Ærø\nVej {i}, st.th, 5932 Humble" if i % 7 == 3 else f"Vej {i}"
        rows.append([str(i), f"Firma {i} ApS", address, "5932"])
    text = _lines(rows)
    lines = text.split("\r\n")
    lines[20] = lines[20].replace("Firma", '"Firma', 1)  # an opening quote never closed
    lines[30] = ""  # a blank line
    lines[40] += ";extra"  # too many fields
    lines[45] = lines[45].rsplit(";", 1)[0]  # too few
    path = tmp_path / "hostile.csv"
    path.write_bytes("\r\n".join(lines).encode(encoding))
    for parts in (2, 3, 5, 8, 13, 40, 200):  # 200: a cut in every line
        assert _same_as_whole(path, parts) is None


def test_a_title_above_the_header_is_skipped_whole_and_in_parts(tmp_path: Path) -> None:
    """A title line and a blank line above the header: both readers start under the header,
    number the rows below it from 1 and record the header's line."""
    rows = [["Kundenr", "Navn", "Adresse", "Postnr"]]
    rows += [[str(i), f"Firma {i} ApS", f"Vej {i}", "5932"] for i in range(40)]
    path = tmp_path / "titled.csv"
    path.write_text("Kundeliste pr. 1/12-2026\r\n\r\n" + _lines(rows), encoding="utf-8")
    table, _, info = read_table(path)
    assert (info.header_row, info.delimiter, info.columns) == (3, ";", rows[0])
    assert table["Navn"][0] == "Firma 0 ApS" and table["source_row"][0] == 1
    assert table.height == 40
    for parts in (2, 3, 7):
        assert _same_as_whole(path, parts) is None
    plan = plan_parts(str(path), 2)
    assert isinstance(plan, PartsPlan) and plan.info.header_row == 3
    # a sheet saved as CSV pads the title's and the blank row's lines with delimiters
    padded = tmp_path / "padded.csv"
    padded.write_text("Kundeliste pr. 1/12-2026;;;\r\n;;;\r\n" + _lines(rows), encoding="utf-8")
    table, _, info = read_table(padded)
    assert (info.header_row, info.columns, table.height) == (3, rows[0], 40)
    for parts in (2, 7):
        assert _same_as_whole(padded, parts) is None
    # a file of one column keeps its header
    single = tmp_path / "single.csv"
    single.write_text("Navn\nHansen Byg ApS\nJensen & Co\n", encoding="utf-8")
    table, _, info = read_table(single)
    assert info.header_row == 1 and table["Navn"].to_list() == ["Hansen Byg ApS", "Jensen & Co"]


def test_what_cannot_be_cut_is_read_whole(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes("id;navn\n1;Ærø\n".encode() + "2;Ærø\n".encode("cp1252"))
    assert "mix of UTF-8" in str(plan_parts(str(mixed), 2))
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("id;navn\n1;Ærø\n".encode("utf-16"))
    assert "UTF-16" in str(plan_parts(str(utf16), 2))
    assert "not a file" in str(plan_parts("postgresql://db/kunder", 2))
    assert "not a readable file" in str(plan_parts(str(tmp_path / "missing.csv"), 2))
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(b"PAR1" + b"\x00" * 100)
    assert "Parquet metadata" in str(plan_parts(str(damaged), 2))
    workbook = tmp_path / "kunder.xlsx"
    workbook.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    assert "workbook" in str(plan_parts(str(workbook), 2))


def test_without_pyarrow_a_parquet_file_is_read_whole_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kunder.parquet"
    pl.DataFrame({"id": ["1", "2"]}).write_parquet(path)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # as on an install without it
    assert plan_parts(str(path), 2) == (
        "reading a Parquet file in parts needs pyarrow (pip install pyarrow)"
    )


def test_a_parquet_file_is_cut_by_row_groups(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"id": [str(i) for i in range(1000)], "source_row": list(range(1000))})
    path = tmp_path / "kunder.parquet"
    pq.write_table(table, path, row_group_size=100)
    plan = plan_parts(str(path), 4)
    assert isinstance(plan, PartsPlan)
    assert [rows for _, rows in plan.ranges] == [300, 300, 300, 100]
    assert _same_as_whole(path, 4) is None
