from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from datavask.cleansing.schema import BLOCKS_COLLECTION, BLOCKS_INVOICE, REASON_CODES, flag
from datavask.cleansing.verdict import DECIDED_HERE, apply_verdict, flag_counts


def record(record_id: str, **values: Any) -> dict[str, Any]:
    """A clean, invoice-ready company record; keyword arguments override its values."""
    row: dict[str, Any] = {
        "record_id": record_id,
        "source_row": int(record_id) if record_id.isdigit() else 1,
        "customer_type": "company",
        "name": "Hansen Byg ApS",
        "cvr": "12345674",
        "ean": None,
        "phone_e164": "+4512345678",
        "phone_numbers": ["+4512345678"],
        "email": "info@hansenbyg.dk",
        "emails": ["info@hansenbyg.dk"],
        "cluster_id": f"c{record_id}",
        "cluster_size": 1,
        "in_review_pair": False,
    }
    row.update(values)
    return row


def frame(*rows: dict[str, Any]) -> pl.DataFrame:
    schema = {
        "record_id": pl.String,
        "source_row": pl.Int64,
        "customer_type": pl.String,
        "name": pl.String,
        "cvr": pl.String,
        "ean": pl.String,
        "phone_e164": pl.String,
        "phone_numbers": pl.List(pl.String),
        "email": pl.String,
        "emails": pl.List(pl.String),
        "cluster_id": pl.String,
        "cluster_size": pl.Int64,
        "in_review_pair": pl.Boolean,
    }
    extra = {k: pl.Boolean for r in rows for k in r if k.startswith("flag_")}
    extra |= {k: pl.String for r in rows for k in r if k == "state_by_name"}
    return pl.DataFrame(list(rows), schema={**schema, **extra})


def flags_of(result: pl.DataFrame, record_id: str) -> list[str]:
    return result.filter(pl.col("record_id") == record_id)["flags"].to_list()[0]


def test_clean_company_has_no_flags_and_is_ready() -> None:
    result = apply_verdict(frame(record("1")))
    assert result.select("flags", "invoice_ready", "collection_ready").row(0) == ([], True, True)
    for code in DECIDED_HERE:
        assert result[flag(code)].to_list() == [False]


def test_missing_cvr_on_company_without_any_cvr() -> None:
    result = apply_verdict(frame(record("1", cvr=None), record("2", cvr="  ")))
    assert result[flag("MISSING_CVR")].to_list() == [True, True]
    assert result["invoice_ready"].to_list() == [False, False]


def test_invalid_cvr_is_not_also_missing_cvr() -> None:
    result = apply_verdict(frame(record("1", cvr=None, flag_INVALID_CVR=True)))
    assert flags_of(result, "1") == ["INVALID_CVR"]


@pytest.mark.parametrize("customer_type", ["person", "public", None])
def test_missing_cvr_only_for_companies(customer_type: str | None) -> None:
    result = apply_verdict(
        frame(record("1", customer_type=customer_type, cvr=None, ean="5790000000005"))
    )
    assert "MISSING_CVR" not in flags_of(result, "1")


def test_missing_ean_on_public_customer() -> None:
    result = apply_verdict(frame(record("1", customer_type="public", ean=None)))
    assert flags_of(result, "1") == ["MISSING_EAN"]
    assert result["invoice_ready"].to_list() == [False]


def test_a_foreign_company_or_public_body_owes_no_cvr_or_ean() -> None:
    """CVR and EAN are Danish: a German GmbH or a Swedish kommun has neither to give, and a
    record whose country could not be named (null) is not Danish either."""
    rows = [
        record("1", cvr=None, country="DE"),
        record("2", customer_type="public", ean=None, country="SE"),
        record("3", cvr=None, country=None),
        record("4", cvr=None, country="DK"),
        record("5", customer_type="public", ean=None, country="DK"),
    ]
    result = apply_verdict(
        frame(*rows).with_columns(pl.Series("country", [r["country"] for r in rows]))
    )
    assert [flags_of(result, str(i)) for i in range(1, 6)] == [
        [],
        [],
        [],
        ["MISSING_CVR"],
        ["MISSING_EAN"],
    ]
    assert result["invoice_ready"].to_list() == [True, True, True, False, False]


def test_public_customer_with_ean_is_clean_and_invalid_ean_says_why() -> None:
    result = apply_verdict(
        frame(
            record("1", customer_type="public", ean="5798000000001"),
            record("2", customer_type="public", ean=None, flag_INVALID_EAN=True),
            record("3", customer_type="company", ean=None),
        )
    )
    assert flags_of(result, "1") == []
    assert flags_of(result, "2") == ["INVALID_EAN"]
    assert flags_of(result, "3") == []


def test_duplicate_from_cluster_size() -> None:
    result = apply_verdict(
        frame(
            record("1", cluster_id="a", cluster_size=2),
            record("2", cluster_id="a", cluster_size=2),
            record("3", cluster_id="b", cluster_size=1),
        )
    )
    assert result[flag("DUPLICATE")].to_list() == [True, True, False]
    # informational: a duplicate can still be invoiced
    assert result["invoice_ready"].to_list() == [True, True, True]


def test_duplicate_counted_from_cluster_id_when_size_is_absent() -> None:
    result = apply_verdict(
        frame(
            record("1", cluster_id="a"), record("2", cluster_id="a"), record("3", cluster_id="b")
        ).drop("cluster_size")
    )
    assert result[flag("DUPLICATE")].to_list() == [True, True, False]


def test_review_match_from_in_review_pair() -> None:
    result = apply_verdict(
        frame(record("1", in_review_pair=True), record("2", in_review_pair=None))
    )
    assert result[flag("REVIEW_MATCH")].to_list() == [True, False]


def test_no_contact_is_decided_per_cluster() -> None:
    bare = {"phone_e164": None, "phone_numbers": [], "email": None, "emails": None}
    result = apply_verdict(
        frame(
            # cluster a: one record has no contact, its twin has a phone: reachable
            record("1", cluster_id="a", cluster_size=2, **bare),
            record("2", cluster_id="a", cluster_size=2),
            # cluster b: nobody can be reached
            record("3", cluster_id="b", cluster_size=2, **bare),
            record("4", cluster_id="b", cluster_size=2, **bare),
            # an e-mail address alone is enough
            record("5", **{**bare, "email": "a@b.dk"}),
            # so is a number only in the list column
            record("6", **{**bare, "phone_numbers": ["+4512345678"]}),
        )
    )
    assert result[flag("NO_CONTACT")].to_list() == [False, False, True, True, False, False]
    assert result["invoice_ready"].to_list() == [True] * 6
    assert result["collection_ready"].to_list() == [True, True, False, False, True, True]


def test_blacklisted_spreads_to_the_whole_cluster() -> None:
    hits = pl.DataFrame({"record_id": ["2"], "blacklist_reason": ["unpaid"], "match_rule": ["cvr"]})
    result = apply_verdict(
        frame(
            record("1", cluster_id="a", cluster_size=2),
            record("2", cluster_id="a", cluster_size=2),
            record("3", cluster_id="b"),
        ),
        blacklist_hits=hits,
    )
    assert result[flag("BLACKLISTED")].to_list() == [True, True, False]
    assert result["invoice_ready"].to_list() == [False, False, True]
    assert result["collection_ready"].to_list() == [False, False, True]


def test_a_deceased_customer_is_an_estate_on_every_record() -> None:
    """His own record beside the estate's: the customer has died, whichever record is read."""
    estate = {flag("DECEASED_ESTATE"): True}
    alive = {flag("DECEASED_ESTATE"): False}
    result = apply_verdict(
        frame(
            record("1", cluster_id="a", cluster_size=2, customer_type="person", **alive),
            record("2", cluster_id="a", cluster_size=2, customer_type="person", **estate),
            record("3", cluster_id="b", customer_type="person", **alive),
        )
    )
    assert result[flag("DECEASED_ESTATE")].to_list() == [True, True, False]
    assert result["invoice_ready"].to_list() == [False, False, True]
    assert result["collection_ready"].to_list() == [False, False, True]


def test_a_minor_is_invoiced_but_not_sent_to_collection_on_every_record() -> None:
    """A person under 18 on one record (the dates stage says so) is the whole customer: the
    invoice may go to the guardian, the debt collector must not get a minor as a debtor."""
    minor = {flag("MINOR"): True}
    adult = {flag("MINOR"): False}
    result = apply_verdict(
        frame(
            record("1", cluster_id="a", cluster_size=2, customer_type="person", **adult),
            record("2", cluster_id="a", cluster_size=2, customer_type="person", **minor),
            record("3", cluster_id="b", customer_type="person", **adult),
        )
    )
    assert result[flag("MINOR")].to_list() == [True, True, False]
    assert result["invoice_ready"].to_list() == [True, True, True]
    assert result["collection_ready"].to_list() == [False, False, True]


def test_no_blacklist_hits_means_not_blacklisted() -> None:
    empty = pl.DataFrame(
        schema={"record_id": pl.String, "blacklist_reason": pl.String, "match_rule": pl.String}
    )
    for hits in (None, empty):
        assert apply_verdict(frame(record("1")), blacklist_hits=hits)[
            flag("BLACKLISTED")
        ].to_list() == [False]


def test_flags_gathers_upstream_flags_sorted_and_readiness_follows_the_contract() -> None:
    upstream = {
        flag(code): True for code in ("REGISTRY_UNCHECKED", "ADDRESS_MISMATCH", "CPR_IN_DATA")
    }
    result = apply_verdict(frame(record("1", **upstream)))
    assert flags_of(result, "1") == ["ADDRESS_MISMATCH", "CPR_IN_DATA", "REGISTRY_UNCHECKED"]
    assert result.select("invoice_ready", "collection_ready").row(0) == (True, True)


@pytest.mark.parametrize("code", sorted(set(REASON_CODES) - set(DECIDED_HERE)))
def test_each_upstream_code_blocks_what_the_contract_says(code: str) -> None:
    result = apply_verdict(frame(record("1", **{flag(code): True})))
    assert flags_of(result, "1") == [code]
    assert result["invoice_ready"].to_list() == [code not in BLOCKS_INVOICE]
    assert result["collection_ready"].to_list() == [code not in BLOCKS_COLLECTION]


def test_null_flag_values_count_as_not_raised() -> None:
    result = apply_verdict(frame(record("1", flag_COMPANY_BANKRUPT=None)))
    assert flags_of(result, "1") == []
    assert result[flag("COMPANY_BANKRUPT")].to_list() == [False]


def test_without_matching_columns_every_record_is_its_own_customer() -> None:
    bare = frame(record("1", phone_e164=None, phone_numbers=[], email=None, emails=[]), record("2"))
    result = apply_verdict(bare.drop("cluster_id", "cluster_size", "in_review_pair"))
    assert result[flag("DUPLICATE")].to_list() == [False, False]
    assert result[flag("NO_CONTACT")].to_list() == [True, False]


def test_running_twice_gives_the_same_frame() -> None:
    hits = pl.DataFrame({"record_id": ["1"], "blacklist_reason": ["x"], "match_rule": ["email"]})
    once = apply_verdict(frame(record("1", cvr=None), record("2")), blacklist_hits=hits)
    twice = apply_verdict(once, blacklist_hits=hits)
    assert once.equals(twice)


def test_unknown_flag_column_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="flag_SOMETHING"):
        apply_verdict(frame(record("1")).with_columns(pl.lit(True).alias("flag_SOMETHING")))


def test_flag_counts_covers_every_code() -> None:
    result = apply_verdict(
        frame(record("1", cvr=None), record("2", cvr=None, flag_INVALID_PHONE=True), record("3"))
    )
    counts = flag_counts(result)
    assert set(counts) == set(REASON_CODES)
    assert counts["MISSING_CVR"] == 2
    assert counts["INVALID_PHONE"] == 1
    assert counts["DUPLICATE"] == 0
    # the same answer from the flag columns alone, before the list exists
    assert flag_counts(result.drop("flags")) == counts


def test_a_customer_a_record_names_bankrupt_is_bankrupt_on_every_record() -> None:
    """ "Hansen Byg ApS under konkurs" beside the company's other record: the customer is bankrupt
    whichever record is read; the registry's answer stays per record. So for a name in
    liquidation (distressed) and a ceased one."""
    result = apply_verdict(
        frame(
            record("1", cluster_id="a", cluster_size=2, state_by_name=None),
            record("2", cluster_id="a", cluster_size=2, state_by_name="bankrupt"),
            record("3", cluster_id="b", state_by_name=None),
            record("4", cluster_id="c", state_by_name=None, **{flag("COMPANY_BANKRUPT"): True}),
            record("5", cluster_id="d", cluster_size=2, state_by_name="distressed"),
            record("6", cluster_id="d", cluster_size=2, state_by_name=None),
            record("7", cluster_id="e", state_by_name="ceased"),
        )
    )
    assert result[flag("COMPANY_BANKRUPT")].to_list() == [1, 1, 0, 1, 0, 0, 0]
    assert result[flag("COMPANY_DISTRESSED")].to_list() == [0, 0, 0, 0, 1, 1, 0]
    assert result[flag("COMPANY_DISSOLVED")].to_list() == [0, 0, 0, 0, 0, 0, 1]
    assert result["invoice_ready"].to_list() == [0, 0, 1, 0, 1, 1, 0]
    assert result["collection_ready"].to_list() == [0, 0, 1, 0, 0, 0, 0]


def test_the_registrys_bankruptcy_reaches_the_duplicate_typed_without_its_cvr() -> None:
    """``Kvist Køleteknik ApS`` twice, once with the CVR number the registry has UNDER KONKURS,
    once without: one customer, so both accounts are blocked, not only the one with the number
    (left open, the duplicate would still be invoiced). So for dissolved and distressed."""
    bankrupt, dissolved = {flag("COMPANY_BANKRUPT"): True}, {flag("COMPANY_DISSOLVED"): True}
    result = apply_verdict(
        frame(
            record("1", cluster_id="a", cluster_size=2, **bankrupt),
            record("2", cluster_id="a", cluster_size=2, cvr=None),
            record("3", cluster_id="b"),
            record("4", cluster_id="c", cluster_size=2, cvr=None),
            record("5", cluster_id="c", cluster_size=2, **dissolved),
            record("6", cluster_id="d", cluster_size=2, **{flag("COMPANY_DISTRESSED"): True}),
            record("7", cluster_id="d", cluster_size=2, cvr=None),
        )
    )
    assert result[flag("COMPANY_BANKRUPT")].to_list() == [1, 1, 0, 0, 0, 0, 0]
    assert result[flag("COMPANY_DISSOLVED")].to_list() == [0, 0, 0, 1, 1, 0, 0]
    assert result[flag("COMPANY_DISTRESSED")].to_list() == [0, 0, 0, 0, 0, 1, 1]
    assert flags_of(result, "2") == ["COMPANY_BANKRUPT", "DUPLICATE", "MISSING_CVR"]
    assert result["collection_ready"].to_list() == [0, 0, 1, 0, 0, 0, 0]
