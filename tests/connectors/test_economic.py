"""e-conomic customers against a local stand-in of the REST API (tests/connectors/economic_server)."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pytest

from datavask.connectors import economic as economic_connector
from datavask.connectors.economic import EXPORT_COLUMNS, read_economic
from datavask.connectors.errors import InputError
from datavask.connectors.files import read_input, read_table
from datavask.connectors.http import RetryPolicy
from datavask.connectors.secret_blocks import SecretBlockUnavailable
from tests.connectors.conftest import SleepRecorder
from tests.connectors.economic_server import EconomicServer, make_customer


@pytest.fixture
def economic() -> Iterator[EconomicServer]:
    customers = [
        make_customer(
            102,
            name="Østergård & Søn ApS",
            corporateIdentificationNumber="21265837",
            ean=None,
            mobilePhone="20 30 40 50",
            barred=True,
            balance=-99.5,
        ),
        make_customer(101, name="Åbo Æblehandel I/S", address=None, country=None),
        make_customer(103, name="Region Midtjylland", ean="5798000000001", email=None),
        make_customer(104, name="Kunde uden gruppe", customerGroup=None),
        make_customer(105, name="Femte Kunde ApS", website="https://femte.dk"),
    ]
    with EconomicServer(customers=customers) as server:
        yield server


@pytest.fixture
def env(economic: EconomicServer, monkeypatch: pytest.MonkeyPatch) -> EconomicServer:
    """The environment pointing datavask at the stand-in, with good tokens."""
    monkeypatch.setenv("DATAVASK_ECONOMIC_URL", economic.url)
    monkeypatch.setenv("DATAVASK_ECONOMIC_APP_SECRET", economic.app_secret)
    monkeypatch.setenv("DATAVASK_ECONOMIC_GRANT", economic.grant)
    return economic


def _no_prefect(name: str) -> str:
    raise SecretBlockUnavailable("no Prefect in unit tests")


def test_customers_read_through_read_table_in_customer_number_order(env: EconomicServer) -> None:
    table, problems, info = read_table("economic://customers")

    assert problems == {}
    assert table.columns[: len(EXPORT_COLUMNS)] == list(EXPORT_COLUMNS)
    assert table["customerNumber"].to_list() == ["101", "102", "103", "104", "105"]
    assert table["source_row"].to_list() == [1, 2, 3, 4, 5]
    assert set(table.schema.values()) == {pl.String, pl.Int64}
    oster = table.row(1, named=True)
    assert oster["name"] == "Østergård & Søn ApS"
    assert oster["corporateIdentificationNumber"] == "21265837"
    assert oster["barred"] == "true"
    assert oster["balance"] == "-99.5"
    assert oster["customerGroup.customerGroupNumber"] == "1"
    assert oster["ean"] is None and oster["mobilePhone"] == "20 30 40 50"
    abo = table.row(0, named=True)
    assert abo["address"] is None and abo["country"] is None
    assert abo["balance"] == "1250"  # a whole number without ".0"
    assert abo["barred"] == "false" and abo["lastUpdated"] == "2024-03-01T09:15:00Z"
    assert table["website"].to_list() == [None, None, None, None, "https://femte.dk"]
    assert table["customerGroup.customerGroupNumber"][3] is None
    assert not [c for c in table.columns if c == "self" or c.endswith(".self")]
    assert "totals.self" not in table.columns and "templates.invoice" in table.columns

    assert info.format == "economic"
    assert info.path == "economic://customers"
    assert info.rows == 5 and info.columns == table.columns[:-1]

    request = env.requests[0]
    assert request.path == "/customers"
    assert request.query == {"skippages": "0", "pagesize": "1000", "sort": "customerNumber"}
    assert request.headers["x-appsecrettoken"] == env.app_secret
    assert request.headers["x-agreementgranttoken"] == env.grant


def test_export_columns_map_automatically(env: EconomicServer) -> None:
    frame, info = read_input("economic://customers")
    assert info.mapping["record_id"] == "customerNumber"
    assert info.mapping["name"] == "name"
    assert info.mapping["postal_code"] == "zip"
    assert info.mapping["cvr"] == "corporateIdentificationNumber"
    assert info.mapping["phone"] == "telephoneAndFaxNumber"
    assert frame["record_id"].to_list() == ["101", "102", "103", "104", "105"]
    assert frame["raw_cvr"][1] == "21265837"


def test_three_pages_followed_by_next_page(env: EconomicServer) -> None:
    env.customers = [make_customer(n) for n in range(1, 2346)]

    table, _, info = read_table("economic://customers")

    assert table.height == 2345 == info.rows
    assert table["customerNumber"].to_list() == [str(n) for n in range(1, 2346)]
    assert [r.query.get("skippages") for r in env.requests] == ["0", "1", "2"]
    assert all(r.query.get("pagesize") == "1000" for r in env.requests)


def test_small_pages_and_filter_passed_on(economic: EconomicServer) -> None:
    table, _ = read_economic(
        "economic://customers?filter=barred$eq:false",
        base_url=economic.url,
        tokens=(economic.app_secret, economic.grant),
        page_size=2,
    )
    assert table["customerNumber"].to_list() == ["101", "102", "103", "104", "105"]
    assert len(economic.requests) == 3
    assert all(r.query["filter"] == "barred$eq:false" for r in economic.requests)


def test_429_with_retry_after_and_503_are_retried(
    economic: EconomicServer, sleeps: SleepRecorder, fast_retry: RetryPolicy
) -> None:
    economic.fail_next(429, headers={"Retry-After": "7"})
    economic.fail_next(503)

    table, _ = read_economic(
        "economic://customers",
        base_url=economic.url,
        tokens=(economic.app_secret, economic.grant),
        retry=fast_retry,
        sleep=sleeps,
    )

    assert table.height == 5
    assert len(economic.requests) == 3
    assert sleeps.waits[0] == 7.0  # the server's Retry-After, not our back-off
    assert 0 < sleeps.waits[1] <= fast_retry.max_delay


def test_an_api_that_stays_down_is_one_input_error(
    economic: EconomicServer, sleeps: SleepRecorder, fast_retry: RetryPolicy
) -> None:
    for _ in range(fast_retry.attempts):
        economic.fail_next(503)
    with pytest.raises(InputError, match=r"e-conomic did not answer \(.*HTTP 503") as info:
        read_economic(
            "economic://customers",
            base_url=economic.url,
            tokens=(economic.app_secret, economic.grant),
            retry=fast_retry,
            sleep=sleeps,
        )
    assert "\n" not in str(info.value)


def test_bad_token_is_rejected_without_showing_it(
    env: EconomicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAVASK_ECONOMIC_GRANT", "stolen-grant-4711")
    with pytest.raises(InputError, match="e-conomic rejected the tokens") as info:
        read_table("economic://customers")
    assert "stolen-grant-4711" not in str(info.value)
    assert env.app_secret not in str(info.value)
    assert len(env.requests) == 1  # a 401 is not retried


def test_missing_tokens_say_where_to_put_them(
    economic: EconomicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAVASK_ECONOMIC_URL", economic.url)
    monkeypatch.delenv("DATAVASK_ECONOMIC_APP_SECRET", raising=False)
    monkeypatch.delenv("DATAVASK_ECONOMIC_GRANT", raising=False)
    monkeypatch.setattr(economic_connector, "secret_block", _no_prefect)
    with pytest.raises(InputError, match=r"DATAVASK_ECONOMIC_APP_SECRET.*datavask-economic-grant"):
        read_table("economic://customers")
    assert economic.requests == []


def test_tokens_from_prefect_secret_blocks(
    env: EconomicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATAVASK_ECONOMIC_GRANT")
    blocks = {"datavask-economic-grant": env.grant}
    monkeypatch.setattr(economic_connector, "secret_block", blocks.__getitem__)
    assert read_table("economic://customers")[0].height == 5


def test_next_page_on_another_host_is_not_followed(env: EconomicServer) -> None:
    env.customers = [make_customer(n) for n in range(1, 1500)]
    env.next_page_host = "http://127.0.0.2:9"
    with pytest.raises(InputError, match="points at another host"):
        read_table("economic://customers")
    assert len(env.requests) == 1


def test_checksum_tells_two_reads_apart(env: EconomicServer) -> None:
    first = read_table("economic://customers")[2].sha256
    assert read_table("economic://customers")[2].sha256 == first
    env.customers[0]["email"] = "ny@example.dk"
    assert read_table("economic://customers")[2].sha256 != first


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("economic://invoices", "reads economic://customers from e-conomic, not 'invoices'"),
        ("economic://customers?pagesize=5", "unknown parameter pagesize"),
    ],
)
def test_unusable_urls(env: EconomicServer, url: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_table(url)
    assert env.requests == []


def test_no_customers_is_an_input_error(env: EconomicServer) -> None:
    env.customers = []
    with pytest.raises(InputError, match="economic://customers has no rows"):
        read_table("economic://customers")
