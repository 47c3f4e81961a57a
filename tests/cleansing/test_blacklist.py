from __future__ import annotations

from typing import Any

import polars as pl

from datavask.cleansing.blacklist import match_blacklist, normalise_blacklist
from datavask.cleansing.schema import flag
from datavask.cleansing.verdict import apply_verdict


def blacklist(**columns: list[Any]) -> pl.DataFrame:
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))


def records(*rows: dict[str, Any]) -> pl.DataFrame:
    base: dict[str, Any] = {
        "record_id": None,
        "cluster_id": None,
        "name": None,
        "street": None,
        "house_number": None,
        "postal_code": None,
        "cvr": None,
        "ean": None,
        "customer_type": None,
        "phone_e164": None,
        "phone_numbers": [],
        "email": None,
        "emails": [],
    }
    schema = {
        k: pl.List(pl.String) if k in ("phone_numbers", "emails") else pl.String for k in base
    }
    return pl.DataFrame([{**base, **row} for row in rows], schema=schema)


def hits_of(recs: pl.DataFrame, entries: pl.DataFrame) -> list[tuple[str, str | None, str]]:
    return [tuple(r) for r in match_blacklist(recs, normalise_blacklist(entries)[0]).rows()]  # type: ignore[misc]


def test_entries_are_cleaned_like_records() -> None:
    entries, problems = normalise_blacklist(
        blacklist(
            CVR=["DK 1234 5674"],
            Phone=["+45 20 30 40 50"],
            Email=["  Svindel@Firma.DK "],
            reason=["konkurs 2023"],
        )
    )
    assert problems.height == 0
    row = entries.row(0, named=True)
    assert (row["cvr"], row["phones"], row["emails"], row["reason"]) == (
        "12345674",
        ["+4520304050"],
        ["svindel@firma.dk"],
        "konkurs 2023",
    )


def test_bad_entries_are_reported_not_dropped_silently() -> None:
    entries, problems = normalise_blacklist(
        blacklist(
            cvr=["1234", "12345674", None, None, None],
            phone=["20304050", None, "12", None, None],
            email=[None, None, None, None, "ikke-en-adresse"],
            name=[None, None, None, "Jens Hansen", None],
            reason=["a", "b", "c", "d", "e"],
        )
    )
    assert problems.select("row", "column").rows() == [
        (1, "cvr"),
        (3, "phone"),
        (4, "name"),
        (5, "email"),
    ]
    # row 1 keeps its valid phone; rows 3 to 5 have nothing usable left
    assert entries["row"].to_list() == [1, 2]


def test_empty_rows_and_unknown_columns_are_reported() -> None:
    _, problems = normalise_blacklist(
        blacklist(cvr=["12345674", None, " "], kommentar=["x", "y", "z"])
    )
    assert problems.select("row", "column").rows() == [(2, None), (3, None), (None, "kommentar")]
    assert problems.filter(pl.col("row") == 2)["problem"].item().startswith("empty entry")


def test_exact_rules() -> None:
    recs = records(
        {"record_id": "1", "cvr": "12345674"},
        {
            "record_id": "2",
            "phone_e164": "+4599999999",
            "phone_numbers": ["+4599999999", "+4520304050"],
        },
        {"record_id": "3", "email": "a@b.dk", "emails": ["a@b.dk", "svindel@firma.dk"]},
        {
            "record_id": "4",
            "cvr": "87654321",
            "phone_numbers": ["+4511111111"],
            "emails": ["ok@ok.dk"],
        },
    )
    entries = blacklist(
        cvr=["12345674", None, None],
        phone=[None, "20 30 40 50", None],
        email=[None, None, "SVINDEL@firma.dk"],
        reason=["konkurs", "svindel", "spam"],
    )
    assert hits_of(recs, entries) == [
        ("1", "konkurs", "cvr"),
        ("2", "svindel", "phone"),
        ("3", "spam", "email"),
    ]


def test_name_and_address_match_fuzzily_within_the_postal_code() -> None:
    recs = records(
        # same customer, name without legal form, same address
        {
            "record_id": "1",
            "name": "Hansen Byg",
            "street": "Vestergade",
            "house_number": "12",
            "postal_code": "8000",
        },
        # same name, other house number: a neighbour, not the blacklisted customer
        {
            "record_id": "2",
            "name": "Hansen Byg",
            "street": "Vestergade",
            "house_number": "14",
            "postal_code": "8000",
        },
        # same name and street in another town
        {
            "record_id": "3",
            "name": "Hansen Byg",
            "street": "Vestergade",
            "house_number": "12",
            "postal_code": "5000",
        },
        # another company at the same address (shared office)
        {
            "record_id": "4",
            "name": "Jensen Revision",
            "street": "Vestergade",
            "house_number": "12",
            "postal_code": "8000",
        },
    )
    entries = blacklist(
        name=["HANSEN BYG ApS"], address=["Vestergade 12, 8000 Aarhus C"], reason=["ubetalt"]
    )
    assert hits_of(recs, entries) == [("1", "ubetalt", "name_address")]


def test_strongest_rule_wins_and_each_record_appears_once() -> None:
    recs = records(
        {
            "record_id": "1",
            "cvr": "12345674",
            "phone_numbers": ["+4520304050"],
            "name": "Hansen Byg",
            "street": "Vestergade",
            "house_number": "12",
            "postal_code": "8000",
        }
    )
    entries = blacklist(
        cvr=[None, "12345674"],
        phone=["20304050", None],
        name=["Hansen Byg", None],
        address=["Vestergade 12, 8000 Aarhus C", None],
        reason=["by phone", "by cvr"],
    )
    assert hits_of(recs, entries) == [("1", "by cvr", "cvr")]


def test_no_entries_no_hits_and_a_clean_record_is_not_blacklisted() -> None:
    recs = records({"record_id": "1", "cvr": "12345674", "cluster_id": "a"})
    empty, _ = normalise_blacklist(blacklist(cvr=[]))
    assert match_blacklist(recs, empty).height == 0
    other = normalise_blacklist(blacklist(cvr=["87654321"]))[0]
    hits = match_blacklist(recs, other)
    assert hits.height == 0
    assert apply_verdict(recs, blacklist_hits=hits)[flag("BLACKLISTED")].to_list() == [False]


def test_blacklisted_through_the_verdict_for_the_whole_cluster() -> None:
    recs = records(
        {
            "record_id": "1",
            "cluster_id": "a",
            "email": "svindel@firma.dk",
            "emails": ["svindel@firma.dk"],
        },
        {"record_id": "2", "cluster_id": "a"},
        {"record_id": "3", "cluster_id": "b"},
    )
    hits = match_blacklist(recs, normalise_blacklist(blacklist(email=["svindel@firma.dk"]))[0])
    result = apply_verdict(recs, blacklist_hits=hits)
    assert result[flag("BLACKLISTED")].to_list() == [True, True, False]
    assert result["invoice_ready"].to_list() == [False, False, True]
