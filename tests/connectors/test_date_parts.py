"""A date of birth written in three columns (year, month, day) under ``[columns]``: read into one
date text the dates stage parses, its columns claimed, a wrong list refused with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from datavask.connectors.errors import InputError
from datavask.connectors.files import read_input, read_table
from datavask.connectors.input_parts import canonical_part, plan_parts, read_part
from datavask.connectors.mapping import load_date_parts, load_mapping_file, resolve_mapping
from datavask.connectors.masking import mask_info

ROWS = "fname_c1,lname_c1,by,bm,bd\nCARSTEN,MEIER,1949,7,22\nGERD,BAUER,1968,2,31\nHANS,KOCH,,,\n"


def _mapping(tmp_path: Path, parts: str) -> Path:
    path = tmp_path / "map.toml"
    text = f'[columns]\nfirst_name = "fname_c1"\nlast_name = "lname_c1"\ndate_of_birth = {parts}\n'
    path.write_text(text, encoding="utf-8")
    return path


def test_a_list_of_three_columns_is_the_date_parts_and_no_column_name(tmp_path: Path) -> None:
    path = _mapping(tmp_path, '["by", "bm", "bd"]')
    assert load_mapping_file(path) == {"first_name": "fname_c1", "last_name": "lname_c1"}
    assert load_date_parts(path) == {"date_of_birth": ["by", "bm", "bd"]}
    assert load_date_parts(_mapping(tmp_path, '"dob"')) == {}


@pytest.mark.parametrize(
    "parts",
    ['["by", "bm"]', '["by", "bm", "bd", "bx"]', '["by", "by", "bd"]', '["by", 5, "bd"]', "[]"],
)
def test_a_list_that_is_not_three_column_names_is_refused(tmp_path: Path, parts: str) -> None:
    with pytest.raises(InputError, match=r"date_of_birth \(a list must name three different") as e:
        load_mapping_file(_mapping(tmp_path, parts))
    assert "\n" not in str(e.value)


def test_only_a_date_field_may_be_a_list(tmp_path: Path) -> None:
    path = tmp_path / "map.toml"
    path.write_text('[columns]\nname = ["a", "b", "c"]\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"name \(value must be a column name\)"):
        load_mapping_file(path)


def test_the_parts_claim_their_columns_and_their_field() -> None:
    columns = ["navn", "by", "bm", "bd", "dob"]
    assert resolve_mapping(columns)["city"] == "by"  # Danish for town, guessed without parts
    mapping = resolve_mapping(columns, None, {"date_of_birth": ["by", "bm", "bd"]})
    assert mapping == {"name": "navn"}  # neither "by" as city nor "dob" as a second birth date


def test_a_part_the_input_lacks_is_refused_naming_it() -> None:
    with pytest.raises(InputError, match="does not have: 'bd'"):
        resolve_mapping(["navn", "by", "bm"], None, {"date_of_birth": ["by", "bm", "bd"]})


def test_the_three_columns_are_read_as_one_date_text(tmp_path: Path) -> None:
    source = tmp_path / "rl.csv"
    source.write_text(ROWS, encoding="utf-8")
    path = _mapping(tmp_path, '["by", "bm", "bd"]')
    frame, info = read_input(
        source, mapping=load_mapping_file(path), date_parts=load_date_parts(path)
    )
    assert frame["raw_date_of_birth"].to_list() == ["22.7.1949", "31.2.1968", None]
    assert frame["raw_city"].to_list() == [None, None, None]
    assert frame["src_by"].to_list() == ["1949", "1968", None]  # the originals as read
    assert info.date_parts == {"date_of_birth": ["by", "bm", "bd"]}
    assert info.unmapped == []
    assert info.to_dict()["date_parts"] == {"date_of_birth": ["by", "bm", "bd"]}


def test_a_part_read_in_parts_reads_as_the_whole(tmp_path: Path) -> None:
    source = tmp_path / "rl.csv"
    source.write_text(ROWS, encoding="utf-8")
    whole, info = read_input(source, date_parts={"date_of_birth": ["by", "bm", "bd"]})
    plan = plan_parts(str(source), 1)
    part = read_part(plan, plan.ranges[0])  # type: ignore[union-attr]
    got = canonical_part(part, info, 0, overflow=False)
    assert got["raw_date_of_birth"].equals(whole["raw_date_of_birth"])


def test_a_masked_header_is_masked_in_the_date_parts_too(tmp_path: Path) -> None:
    source = tmp_path / "t.csv"
    source.write_text("navn,år 010180-1234,bm,bd\na,1980,4,9\n", encoding="utf-8")
    _, _, info = read_table(source)
    info.date_parts = {"date_of_birth": ["år 010180-1234", "bm", "bd"]}
    mask_info(info)
    assert "010180-1234" not in str(info.date_parts)
    assert info.date_parts["date_of_birth"][0] in info.columns
