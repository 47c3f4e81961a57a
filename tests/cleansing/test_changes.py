from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from cleansing.changes import RULES, address_line, build_changes, input_shaped


def frame(**columns: list[Any]) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    data: dict[str, Any] = {"record_id": [str(i + 1) for i in range(n)], **columns}
    return pl.DataFrame(
        data,
        schema={
            k: pl.List(pl.String) if k in ("phone_numbers", "emails") else pl.String for k in data
        },
    )


def changes_of(records: pl.DataFrame) -> list[tuple[str, str, str | None, str, str]]:
    return [tuple(r) for r in build_changes(records).rows()]  # type: ignore[misc]


def test_whitespace_only_difference_is_not_a_change() -> None:
    records = frame(raw_name=["  Hansen Byg ApS "], name=["Hansen Byg ApS"], legal_form=["ApS"])
    assert changes_of(records) == []


def test_null_cleaned_value_keeps_the_original() -> None:
    records = frame(
        raw_phone=["12 34"],
        phone_e164=[None],
        phone_numbers=[[]],
        raw_email=["not an address"],
        email=[None],
    )
    assert changes_of(records) == []


@pytest.mark.parametrize(
    ("raw_name", "name", "legal_form", "rule"),
    [
        ("HANSEN BYG APS", "Hansen Byg ApS", "ApS", "name_case"),
        ("Hansen Byg Anpartsselskab", "Hansen Byg ApS", "ApS", "legal_form"),
        ("Hansen Byg A.p.S.", "Hansen Byg ApS", "ApS", "legal_form"),
        ("Hansen & Søn", "Hansen og Søn", None, "name_normalised"),
    ],
)
def test_name_rules(raw_name: str, name: str, legal_form: str | None, rule: str) -> None:
    records = frame(raw_name=[raw_name], name=[name], legal_form=[legal_form])
    assert changes_of(records) == [("1", "name", raw_name, name, rule)]


def test_one_line_address_is_written_back_in_danish_format() -> None:
    records = frame(
        raw_address=["vestergade 12,2tv", "vestergade 12, 2. tv, 8000 aarhus c"],
        raw_postal_code=["8000", None],
        street=["Vestergade", "Vestergade"],
        house_number=["12", "12"],
        floor=["2", "2"],
        door=["tv", "tv"],
        postal_code=["8000", "8000"],
        city=["Aarhus C", "Aarhus C"],
    )
    assert changes_of(records) == [
        ("1", "address", "vestergade 12,2tv", "Vestergade 12, 2. tv", "address_parsed"),
        (
            "2",
            "address",
            "vestergade 12, 2. tv, 8000 aarhus c",
            "Vestergade 12, 2. tv, 8000 Aarhus C",
            "address_parsed",
        ),
        # the row's empty postal-code cell is filled from the address line
        ("2", "postal_code", None, "8000", "postal_code"),
    ]


def test_only_fields_the_input_has_are_filled() -> None:
    records = frame(
        raw_name=["Hansen Byg", None],
        name=["Hansen Byg", "Jensen ApS"],
        raw_postal_code=["8000", None],
        postal_code=["8000", "5000"],
        city=["Aarhus C", "Odense C"],
    )
    # city has no column in the input: not filled; the empty postal cell and name cell are
    assert changes_of(records) == [
        ("2", "name", None, "Jensen ApS", "name_normalised"),
        ("2", "postal_code", None, "5000", "postal_code"),
    ]
    assert changes_of_mapped(records, {"name"}) == [
        ("2", "name", None, "Jensen ApS", "name_normalised")
    ]
    assert input_shaped(records, mapped={"city"})["city"].to_list() == ["Aarhus C", "Odense C"]


def changes_of_mapped(records: pl.DataFrame, mapped: set[str]) -> list[tuple[str, ...]]:
    return [tuple(r) for r in build_changes(records, mapped=mapped).rows()]


def test_street_column_without_number_column_keeps_its_number() -> None:
    records = frame(raw_street=["vestergade 12"], street=["Vestergade"], house_number=["12"])
    assert changes_of(records) == [
        ("1", "street", "vestergade 12", "Vestergade 12", "address_parsed")
    ]


def test_separate_columns_are_compared_one_by_one() -> None:
    records = frame(
        raw_street=["Vestergade"],
        raw_house_number=["12 a"],
        street=["Vestergade"],
        house_number=["12A"],
        raw_postal_code=["DK-8000"],
        postal_code=["8000"],
        raw_city=["Århus C"],
        city=["Aarhus C"],
    )
    assert changes_of(records) == [
        ("1", "house_number", "12 a", "12A", "address_parsed"),
        ("1", "postal_code", "DK-8000", "8000", "postal_code"),
        ("1", "city", "Århus C", "Aarhus C", "postal_city"),
    ]


def test_combined_postal_city_column() -> None:
    records = frame(raw_city=["8000 århus c"], postal_code=["8000"], city=["Aarhus C"])
    assert changes_of(records) == [("1", "city", "8000 århus c", "8000 Aarhus C", "postal_city")]


def test_each_phone_column_gets_its_own_number() -> None:
    records = frame(
        raw_phone=["12 34 56 78", "+45 12345678"],
        raw_mobile=["0045 8765 4321", "12"],
        phone_e164=["+4512345678", "+4512345678"],
        phone_numbers=[["+4512345678", "+4587654321"], ["+4512345678"]],
    )
    assert changes_of(records) == [
        ("1", "phone", "12 34 56 78", "+4512345678", "phone_e164"),
        ("1", "mobile", "0045 8765 4321", "+4587654321", "phone_e164"),
        ("2", "phone", "+45 12345678", "+4512345678", "phone_e164"),
    ]


def test_email_cvr_and_ean_rules() -> None:
    records = frame(
        raw_email=["Info@Hansen.DK"],
        email=["info@hansen.dk"],
        emails=[["info@hansen.dk"]],
        raw_cvr=["DK 12 34 56 74"],
        cvr=["12345674"],
        raw_ean=["5798 0000 0000 1"],
        ean=["5798000000001"],
    )
    assert [(f, r) for _, f, _, _, r in changes_of(records)] == [
        ("email", "email_normalised"),
        ("cvr", "cvr_compact"),
        ("ean", "ean_compact"),
    ]


def test_registry_proposals_are_listed_as_registry_changes() -> None:
    records = frame(
        raw_name=["Hansen Byg ApS"],
        name=["Hansen Byg ApS"],
        registry_proposed_name=["Hansen Byg & Søn ApS"],
        street=["Vestergade"],
        registry_proposed_street=["Havnegade"],
        registry_proposed_city=[None],
    )
    assert changes_of(records) == [
        ("1", "name", "Hansen Byg ApS", "Hansen Byg & Søn ApS", "registry"),
        ("1", "street", "Vestergade", "Havnegade", "registry"),
    ]


def test_changes_come_in_record_order_with_known_rules() -> None:
    records = frame(raw_cvr=["DK12345674", None, "12 34 56 74"], cvr=["12345674", None, "12345674"])
    changes = build_changes(records)
    assert changes["record_id"].to_list() == ["1", "3"]
    assert set(changes["rule"]) <= set(RULES)
    assert changes.schema == pl.Schema(
        {
            "record_id": pl.String,
            "field": pl.String,
            "before": pl.String,
            "after": pl.String,
            "rule": pl.String,
        }
    )


def test_no_input_columns_means_no_changes() -> None:
    records = frame(name=["Hansen Byg ApS"])
    assert build_changes(records).height == 0
    assert input_shaped(records)["name"].to_list() == [None]


def test_address_line_parts() -> None:
    out = pl.DataFrame(
        {
            "street": ["Vestergade", "Vestergade", None],
            "number": ["12", "12", None],
            "floor": ["st", None, None],
            "door": [None, "tv", None],
            "co": [None, "Jens Hansen", None],
            "postal": ["8000", "8000", None],
            "city": ["Aarhus C", "Aarhus C", None],
        }
    ).select(
        address_line(
            pl.col("street"),
            pl.col("number"),
            pl.col("floor"),
            pl.col("door"),
            postal_code=pl.col("postal"),
            city=pl.col("city"),
            co_name=pl.col("co"),
        )
    )
    assert out.to_series().to_list() == [
        "Vestergade 12, st., 8000 Aarhus C",
        "c/o Jens Hansen, Vestergade 12, tv, 8000 Aarhus C",
        None,
    ]
