"""The monitoring diff on hand-made facts: one rule per case, and what must not alert."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from datavask.cleansing.monitoring import (
    ALERT_SCHEMA,
    FACTS_COLUMNS,
    STATE_SCHEMA,
    alert_id,
    apply_monitor_state,
    blocking,
    compare,
)

CUSTOMERS = pl.DataFrame(
    {"cvr": ["11111111", "22222222"], "record_ids": ["K1|K7", "K2"], "customer_name": ["A", "B"]}
)
BASE: dict[str, Any] = {
    "status": "NORMAL", "status_class": "normal", "status_since": "2010-01-01",
    "credit_status": None, "name": "Alfa ApS", "name_since": "2010-01-01",
    "address": "Vestergade 1, 8000 Aarhus C", "address_id": "id-1", "address_since": "2010-01-01",
    "legal_form": "ApS", "industry_code": "620100", "industry": "Computerprogrammering",
    "owners": "Ejer (1) 100%", "owners_since": "2010-01-01", "management": "Direktion: D (2) ADM. DIR.",
    "management_since": "2010-01-01", "merged_into": None, "merged_since": None, "end_date": None,
    "updated_at": "2024-01-01",
}  # fmt: skip


def observed(*rows: dict[str, Any]) -> pl.DataFrame:
    full = [{"cvr": "11111111", "found": True, "lookup_failed": False, **BASE, **r} for r in rows]
    schema = {"cvr": pl.String, "found": pl.Boolean, "lookup_failed": pl.Boolean,
              **dict.fromkeys(FACTS_COLUMNS, pl.String)}  # fmt: skip
    return pl.DataFrame(full, schema=schema)


def alerts_of(
    before: dict[str, Any] | None, after: dict[str, Any]
) -> list[tuple[str, str | None, str | None]]:
    state = None
    if before is not None:
        _, state = compare(observed(before), None, CUSTOMERS, detected_at="t0")
    alerts, _ = compare(observed(after), state, CUSTOMERS, detected_at="t1")
    return [(r["alert"], r["before"], r["after"]) for r in alerts.to_dicts()]


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ({"status": "UNDER KONKURS", "status_class": "bankrupt"}, ("BANKRUPT", "NORMAL", "UNDER KONKURS")),
        ({"credit_status": "Konkurs", "status_class": "bankrupt"},
         ("BANKRUPT", "NORMAL", "NORMAL, kreditstatus: Konkurs")),
        ({"status": "OPHØRT", "status_class": "dissolved"}, ("DISSOLVED", "NORMAL", "OPHØRT")),
        ({"status": "UNDER FRIVILLIG LIKVIDATION", "status_class": "distressed"},
         ("DISTRESSED", "NORMAL", "UNDER FRIVILLIG LIKVIDATION")),
        ({"name": "Beta ApS"}, ("NAME_CHANGED", "Alfa ApS", "Beta ApS")),
        ({"address": "Søndergade 2, 8000 Aarhus C", "address_id": "id-2"},
         ("ADDRESS_CHANGED", "Vestergade 1, 8000 Aarhus C", "Søndergade 2, 8000 Aarhus C")),
        ({"owners": "Ny (3) 100%"}, ("OWNER_CHANGED", "Ejer (1) 100%", "Ny (3) 100%")),
        ({"management": "Direktion: E (4) DIREKTØR"},
         ("MANAGEMENT_CHANGED", "Direktion: D (2) ADM. DIR.", "Direktion: E (4) DIREKTØR")),
        ({"merged_into": "22222222", "status": "OPLØST EFTER FUSION", "status_class": "dissolved"},
         ("MERGED", "Alfa ApS", "22222222")),
    ],
)  # fmt: skip
def test_each_change_gives_exactly_its_alert(after: dict[str, Any], expected: tuple) -> None:
    assert alerts_of({}, after) == [expected]


@pytest.mark.parametrize(
    "after",
    [
        {},  # nothing changed
        {"status": "Normal"},  # casing
        {"address": "VESTERGADE 1, 8000 AARHUS C"},  # same adresseId, respelled
        {"owners": None, "management": None},  # the source no longer says: unknown is no change
        {"industry_code": "620200", "legal_form": "A/S"},  # not monitored as alerts
    ],
)
def test_what_is_not_a_change_stays_quiet(after: dict[str, Any]) -> None:
    assert alerts_of({}, after) == []


def test_status_back_to_normal_is_a_status_change() -> None:
    before = {"status": "UNDER REKONSTRUKTION", "status_class": "distressed"}
    assert alerts_of(before, {}) == [("STATUS_CHANGED", "UNDER REKONSTRUKTION", "NORMAL")]


def _runs(*documents: dict[str, Any]) -> tuple[list[list[tuple]], pl.DataFrame]:
    """The alerts of each of ``documents`` seen in turn by one state, and the last state."""
    state, seen = None, []
    for i, document in enumerate(documents):
        alerts, state = compare(observed(document), state, CUSTOMERS, detected_at=f"t{i}")
        seen.append([(r["alert"], r["before"], r["after"]) for r in alerts.to_dicts()])
    assert state is not None
    return seen, state


def test_a_document_that_says_nothing_of_the_state_changes_nothing() -> None:
    """A trimmed document (only the name: no status, credit status or life span) alerted
    ``STATUS_CHANGED NORMAL → ''``, wiped the kept status, and alerted back the next day; one
    without an address forgot the kept address."""
    bankrupt = {"status": "UNDER KONKURS", "status_class": "bankrupt", "status_since": "2026-12-05"}
    trimmed = {"status": None, "status_class": None, "status_since": None, "credit_status": None,
               "address": None, "address_id": None, "address_since": None}  # fmt: skip
    seen, state = _runs(bankrupt, trimmed, bankrupt)
    assert seen == [[("BANKRUPT", None, "UNDER KONKURS")], [], []]
    row = state.row(0, named=True)
    assert (row["status_class"], row["address"]) == ("bankrupt", BASE["address"])


def test_older_news_after_newer_changes_nothing() -> None:
    """A stale snapshot synced after a newer one: "Normal since 2010" after "under konkurs since
    2026-12-05" alerted STATUS_CHANGED, un-bankrupted the customer (its cleanse no longer
    blocked invoicing), and with today's snapshot back alerted the bankruptcy again. A change
    dated after the kept one still alerts (a name changed back in 2027)."""
    bankrupt = {"status": "UNDER KONKURS", "status_class": "bankrupt", "status_since": "2026-12-05",
                "name": "Beta ApS", "name_since": "2026-06-01"}  # fmt: skip
    seen, state = _runs(bankrupt, {}, bankrupt, {**bankrupt, "name_since": "2027-01-02"} | {
        "name": "Alfa ApS"})  # fmt: skip
    assert seen == [
        [("BANKRUPT", None, "UNDER KONKURS")],
        [],
        [],
        [("NAME_CHANGED", "Beta ApS", "Alfa ApS")],
    ]
    assert state.row(0, named=True)["status_class"] == "bankrupt"


def test_first_sight_alerts_only_on_distress() -> None:
    assert alerts_of(None, {}) == []
    assert alerts_of(None, {"name": "Beta ApS"}) == []
    assert alerts_of(None, {"status": "UNDER KONKURS", "status_class": "bankrupt"}) == [
        ("BANKRUPT", None, "UNDER KONKURS")
    ]


def test_failed_lookups_change_nothing_and_not_found_alerts_on_the_second_sight() -> None:
    _, state = compare(observed({}), None, CUSTOMERS, detected_at="t0")
    failed = observed({}).with_columns(
        found=pl.lit(False), lookup_failed=pl.lit(True), name=pl.lit(None, pl.String)
    )
    alerts, after_failure = compare(failed, state, CUSTOMERS, detected_at="t1")
    assert alerts.is_empty()
    assert after_failure.equals(state)
    gone = failed.with_columns(lookup_failed=pl.lit(False))
    first, state = compare(gone, state, CUSTOMERS, detected_at="t2")
    second, state = compare(gone, state, CUSTOMERS, detected_at="t3")
    third, state = compare(gone, state, CUSTOMERS, detected_at="t4")
    assert first.is_empty() and third.is_empty()
    assert second.select("alert", "before", "record_ids").rows() == [
        ("CVR_NOT_FOUND", "Alfa ApS", "K1|K7")
    ]
    assert state["missing"].to_list() == [3]
    assert state["name"].to_list() == ["Alfa ApS"]  # the last known facts are kept


def test_the_state_keeps_customers_not_asked_this_time() -> None:
    _, state = compare(observed({}), None, CUSTOMERS, detected_at="t0")
    other = observed({}).with_columns(cvr=pl.lit("22222222"))
    _, state = compare(other, state, CUSTOMERS, detected_at="t1")
    assert state["cvr"].to_list() == ["11111111", "22222222"]
    assert state.schema == pl.Schema(STATE_SCHEMA)


def test_alert_ids_are_stable_and_blocking_alerts_are_picked() -> None:
    alerts, _ = compare(observed({"status": "UNDER KONKURS", "status_class": "bankrupt"}), None,
                        CUSTOMERS, detected_at="t0")  # fmt: skip
    again, _ = compare(observed({"status": "UNDER KONKURS", "status_class": "bankrupt"}), None,
                       CUSTOMERS, detected_at="t9")  # fmt: skip
    assert alerts["alert_id"].to_list() == again["alert_id"].to_list()
    assert alerts["alert_id"][0] == alert_id("11111111", "BANKRUPT", "UNDER KONKURS", "2010-01-01")
    assert blocking(alerts).height == 1


def test_the_diff_stays_pure() -> None:
    import ast
    import inspect

    from datavask.cleansing import monitoring

    tree = ast.parse(inspect.getsource(monitoring))
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__", "hashlib", "typing", "polars", "datavask"}


def test_a_cleanse_gives_the_monitors_word_to_the_duplicate_typed_without_the_cvr() -> None:
    """``Kvist Køleteknik ApS`` twice, once with its CVR number, in one cluster: the monitor saw
    the company bankrupt, so both records are, and both list the alert. A record of another
    customer without a CVR number, and a cluster of two CVR numbers, borrow none."""
    state = pl.DataFrame(
        [{"cvr": "11111111", "found": True, "missing": 0, **BASE, "status": "UNDER KONKURS",
          "status_class": "bankrupt", "first_seen": "2026-12-01", "checked_at": "2026-12-07"}],
        schema=STATE_SCHEMA,
    )  # fmt: skip
    alerts = pl.DataFrame(
        [{"alert_id": "0" * 20, "cvr": "11111111", "record_ids": "1", "name": "Alfa ApS",
          "alert": "BANKRUPT", "before": None, "after": "UNDER KONKURS",
          "registry_changed_at": "2026-10-15", "detected_at": "2026-12-07T07:00:00+00:00"}],
        schema=ALERT_SCHEMA,
    )  # fmt: skip
    records = pl.DataFrame(
        {
            "record_id": ["1", "2", "3", "4", "5"],
            "cvr": ["11111111", None, None, "11111111", "22222222"],
            "cluster_id": ["a", "a", "b", "c", "c"],
            "flag_COMPANY_BANKRUPT": [False] * 5,
        }
    )
    result = apply_monitor_state(records, state, alerts, since="2026-09-01")
    assert result["flag_COMPANY_BANKRUPT"].to_list() == [True, True, False, True, False]
    assert result["monitor_alerts"].to_list() == [
        ["BANKRUPT 2026-10-15"],
        ["BANKRUPT 2026-10-15"],
        [],
        ["BANKRUPT 2026-10-15"],
        [],
    ]
    assert not [c for c in result.columns if c.startswith("_")]
    assert result["cvr"].to_list() == records["cvr"].to_list()
