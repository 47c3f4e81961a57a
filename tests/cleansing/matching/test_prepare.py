"""prepare_records: the columns worked out for some records only equal their whole-frame
expressions."""

from __future__ import annotations

import polars as pl

from datavask.cleansing.matching.prepare import (
    _org_name,
    _phones,
    org_names_of,
    phones_of,
    prepare_records,
)
from tests.cleansing.matching.population import frame


def _records() -> pl.DataFrame:
    valid = [None, [], ["+4533121212"], ["+4533121212", "+4570101010"], [None]]
    e164 = [None, "+4528998567", ""]
    typed = [None, "38 65 28 6", "00000000", "+1 (312) 555-0100", "12"]
    names = [None, [], ["hansen byg aps"], ["hansen byg aps", "hansen & soen a/s"], ["a/s", "og"]]
    rows, columns = [], {"phone_numbers": [], "raw_phone": [], "raw_mobile": [], "names": []}
    i = 0
    for listed in valid:
        for single in e164:
            for raw in typed:
                rows.append({"record_id": f"r{i}", "name_key": "hansen byg", "phone_e164": single})
                columns["phone_numbers"].append(listed)
                columns["raw_phone"].append(raw)
                columns["raw_mobile"].append(typed[i % len(typed)])
                columns["names"].append(names[i % len(names)])
                i += 1
    return prepare_records(
        frame(rows).with_columns(
            pl.Series("phone_numbers", columns["phone_numbers"], dtype=pl.List(pl.String)),
            pl.Series("raw_phone", columns["raw_phone"], dtype=pl.String),
            pl.Series("raw_mobile", columns["raw_mobile"], dtype=pl.String),
            pl.Series("_registry_name_keys", columns["names"], dtype=pl.List(pl.String)),
        )
    )


def test_phones_worked_out_where_needed_equal_the_expression_over_every_record() -> None:
    records = _records()
    whole = records.select(_phones()).to_series()
    assert phones_of(records).equals(whole.alias("_phones"))
    assert records["_phones"].equals(whole.alias("_phones"))
    assert whole.list.len().min() == 0  # some records have none,
    assert whole.list.first().str.starts_with("#").any()  # some only typed digits,
    assert whole.list.first().str.starts_with("+").any()  # and some a valid number


def test_registry_names_worked_out_where_needed_equal_the_expression_over_every_record() -> None:
    records = _records()
    names = pl.col("_registry_name_keys")
    whole = records.select(
        pl.when(names.list.len() > 1).then(names.list.eval(_org_name(pl.element()).drop_nulls()))
    ).to_series()
    assert org_names_of(records).equals(whole.alias("_org_names"))
    assert whole.null_count() < records.height
    assert ["hansen byg", "hansen soen"] in whole.to_list()


def test_no_records() -> None:
    records = _records().clear()
    assert phones_of(records).len() == 0
    assert org_names_of(records).len() == 0
