"""Arrow types no output writes are text once a Parquet input is read (connectors/parquet_types)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from datavask.connectors.files import read_input
from datavask.connectors.input_parts import PartsPlan, plan_parts, read_part
from datavask.connectors.output import write_table
from datavask.connectors.reimport import as_text

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

BASE = {
    "Kundenr": ["1", "2"],
    "Navn": ["Hansen Byg ApS", "Jens Olsen"],
    "Postnr": ["8000", "8000"],
}


def _write(path: Path, **columns: object) -> Path:
    pq.write_table(pa.table({**BASE, **columns}), path)
    return path


def test_map_duration_and_bytes_are_read_as_text_and_every_output_writes_them(
    tmp_path: Path,
) -> None:
    """Before: a map or duration column stopped the run with "internal error" (exit 1), and a
    column of bytes only at the write step of ``--format csv``, after the whole run."""
    path = _write(
        tmp_path / "kunder.parquet",
        attrs=pa.array([[("segment", 1)], []], type=pa.map_(pa.string(), pa.int64())),
        wait=pa.array([5400, None], type=pa.duration("s")),
        blob=pa.array([b"x", b"\xff\x00"], type=pa.binary()),
        seen=pa.array([dt.datetime(2024, 1, 2, 3, 4, 5), None], type=pa.timestamp("s", tz="UTC")),
        waits=pa.array([[1000], None], type=pa.list_(pa.duration("ms"))),
        packed=pa.array([{"b": b"\x01"}, None], type=pa.struct([("b", pa.binary())])),
        pair=pa.array([[1, 2], [3, 4]], type=pa.list_(pa.int64(), 2)),
        tags=pa.array([["a", "b"], []], type=pa.list_(pa.string())),
    )
    frame, info = read_input(path)
    assert frame.height == 2 and info.format == "parquet"
    assert frame["src_attrs"].to_list() == ['{"segment":1}', "{}"]
    assert frame["src_wait"].to_list() == ["PT1H30M", None]
    assert frame["src_blob"].to_list() == ["78", "ff00"]  # not all UTF-8: hexadecimal
    assert frame["src_seen"].to_list() == ["2024-01-02 03:04:05.000+00:00", None]
    assert frame["src_waits"].to_list() == ['["PT1S"]', None]
    assert frame["src_packed"].to_list() == ['{"b":"01"}', None]
    assert frame["src_pair"].to_list() == ["[1,2]", "[3,4]"]
    assert frame.schema["src_tags"] == pl.List(pl.String)  # a plain list stays a list
    for suffix in (".csv", ".xlsx", ".parquet"):
        write_table(frame, tmp_path / f"records{suffix}")
    frame.select(as_text(c, t) for c, t in frame.schema.items())


def test_a_string_column_written_as_bytes_is_read_as_its_text(tmp_path: Path) -> None:
    """Hive and Impala write string columns as bytes without the annotation: the names are
    the names, not hexadecimal."""
    path = tmp_path / "hive.parquet"
    names = pa.array(["Søren Møller".encode(), b"Jens Olsen"], type=pa.binary())
    pq.write_table(
        pa.table({"Kundenr": ["1", "2"], "Navn": names, "Postnr": ["8000", "8000"]}), path
    )
    frame, info = read_input(path)
    assert info.mapping["name"] == "Navn"
    assert frame["raw_name"].to_list() == ["Søren Møller", "Jens Olsen"]
    write_table(frame, tmp_path / "records.csv")


def test_parts_read_the_types_as_the_whole_read_does(tmp_path: Path) -> None:
    """A part is read as text like the whole file; a column of bytes is read whole, since a
    part cannot tell whether all of them are text."""
    path = tmp_path / "kunder.parquet"
    table = pa.table(
        {
            **BASE,
            "wait": pa.array([60, 120], type=pa.duration("s")),
            "attrs": pa.array([[("a", 1)], [("b", 2)]], type=pa.map_(pa.string(), pa.int64())),
        }
    )
    pq.write_table(table, path, row_group_size=1)
    plan = plan_parts(str(path), 2)
    assert isinstance(plan, PartsPlan)
    parts = [read_part(plan, part).table for part in plan.ranges]
    read = pl.concat([p.drop("source_row") for p in parts if p is not None])
    assert read["wait"].to_list() == ["PT1M", "PT2M"]
    assert read["attrs"].to_list() == ['{"a":1}', '{"b":2}']
    _write(path, blob=pa.array([b"x", b"y"], type=pa.binary()))
    assert "bytes is read whole" in str(plan_parts(str(path), 2))
