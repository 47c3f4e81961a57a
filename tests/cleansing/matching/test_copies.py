"""Copies of one record are one customer however many there are (issue 9.9): also in a file
that holds nothing else, where every field agrees for every pair and so weighs nothing."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from datavask.cleansing.matching import find_duplicates
from datavask.cleansing.matching.copies import copy_pairs
from datavask.cleansing.matching.prepare import prepare_records
from tests.cleansing.matching.population import frame, population_rows

HANSEN: dict[str, Any] = {
    "customer_type": "company", "name_key": "hansen byg aps", "street_key": "vestergade",
    "house_number": "12", "postal_code": "8000", "phone_e164": "+4586123456",
    "email": "info@hansenbyg.dk", "cvr": "25313763",
}  # fmt: skip
PERSON: dict[str, Any] = {
    "customer_type": "person", "first_name_key": "lene", "last_name_key": "poulsen",
    "street_key": "skovvej", "house_number": "9", "postal_code": "5000",
}  # fmt: skip


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 51, 60, 100])
@pytest.mark.parametrize("record", [HANSEN, PERSON], ids=["company", "person"])
def test_a_file_of_identical_copies_is_one_customer(n: int, record: dict[str, Any]) -> None:
    result = find_duplicates(frame([{"record_id": f"K{i}", **record} for i in range(n)]))
    assert result.clusters["cluster_id"].n_unique() == 1
    assert result.clusters["cluster_size"].to_list() == [n] * n


def test_copies_among_other_customers_are_one_customer() -> None:
    rows = population_rows(120)
    copies = [{"record_id": f"K{i}", **HANSEN} for i in range(60)]
    result = find_duplicates(frame([*rows, *copies]))
    clusters = result.clusters.filter(pl.col("record_id").str.starts_with("K"))
    assert clusters["cluster_id"].n_unique() == 1
    assert clusters["cluster_size"].to_list() == [60] * 60


def _copies(rows: list[dict[str, Any]]) -> list[bool]:
    records = prepare_records(frame(rows))
    left = pl.Series([0] * (len(rows) - 1), dtype=pl.UInt32)
    right = pl.Series(range(1, len(rows)), dtype=pl.UInt32)
    return copy_pairs(records, left, right).to_list()


def test_copies_differ_only_in_id_row_and_update_time() -> None:
    rows = [
        {"record_id": "1", **HANSEN},
        {"record_id": "2", **HANSEN},  # a copy
        {"record_id": "3", **HANSEN, "email": "salg@hansenbyg.dk"},  # another mailbox
        {"record_id": "4", **HANSEN, "house_number": "12A"},  # another building
    ]
    assert _copies(rows) == [True, False, False]


def test_a_copied_name_alone_is_no_customer() -> None:
    """Two rows "Kontant" (cash sales) say nothing about who bought: the scores decide."""
    rows = [{"record_id": str(i), "customer_type": "company", "name_key": "kontant"}
            for i in range(3)]  # fmt: skip
    assert _copies(rows) == [False, False]
    named_and_phoned = [{**row, "phone_e164": "+4586123456"} for row in rows]
    assert _copies(named_and_phoned) == [True, True]


def test_pairs_of_copies_are_matches_in_the_pairs_table() -> None:
    rows = [{"record_id": f"K{i}", **HANSEN} for i in range(3)]
    result = find_duplicates(frame(rows))
    assert set(result.pairs["decision"]) == {"match"}
    assert result.pairs["hard_rule"].null_count() == result.pairs.height
