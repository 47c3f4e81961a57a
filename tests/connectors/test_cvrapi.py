"""cvrapi.dk client against the local stand-in (GET /api?search=…&country=dk)."""

from __future__ import annotations

from datetime import date

import pytest

from datavask.connectors.cvr import RegistryConfigError, open_registry
from datavask.connectors.http import RetryPolicy
from tests.connectors.erst_server import ErstServer, Fault

HANSEN = {
    "vat": 21265837,
    "name": "Hansen Byg ApS",
    "address": "Vestergade 12A, 2. tv",
    "zipcode": "8000",
    "city": "Aarhus C",
    "protected": True,
    "phone": "33301000",
    "email": None,
    "startdate": "04/08 - 1998",
    "enddate": None,
    "companycode": 80,
    "companydesc": "Anpartsselskab",
    "creditbankrupt": False,
    "creditstatus": None,
}
OPHOERT = {**HANSEN, "vat": 10000017, "name": "Gammel Handel ApS", "enddate": "01/05 - 2020"}
KONKURS = {
    **HANSEN,
    "vat": 10000009,
    "name": "Nordlys A/S",
    "creditbankrupt": True,
    "companycode": 60,
}


@pytest.fixture
def cvrapi() -> ErstServer:
    server = ErstServer(cvrapi={"21265837": HANSEN, "10000017": OPHOERT, "10000009": KONKURS})
    with server:
        yield server


def _registry(server, tmp_path, **options):
    options.setdefault("retry", RetryPolicy(attempts=2, base_delay=0.01))
    return open_registry(
        "cvrapi://?country=dk",
        cvrapi_url=f"{server.host}/api",
        cache_dir=tmp_path,
        rate=1000,
        **options,
    )


def _asked(server) -> list[str]:
    return [r["query"]["search"][0] for r in server.requests if r["path"] == "/api"]


def test_cvrapi_answers_are_registry_rows(cvrapi, tmp_path):
    with _registry(cvrapi, tmp_path) as registry:
        frame = registry.lookup(["21265837", "99999990", "10000017", "10000009"])
    assert frame["found"].to_list() == [True, False, True, True]
    assert not frame["lookup_failed"].any()
    hansen = frame.row(0, named=True)
    assert (hansen["registry_street"], hansen["registry_house_number"]) == ("Vestergade", "12A")
    assert (hansen["registry_floor"], hansen["registry_door"]) == ("2", "tv")
    assert (hansen["registry_form_code"], hansen["registry_form"]) == (80, "ApS")
    assert hansen["reklamebeskyttet"] is True
    assert frame["registry_status_class"].to_list() == ["normal", None, "dissolved", "bankrupt"]
    assert frame.row(2, named=True)["registry_end_date"] == date(2020, 5, 1)
    request = next(r for r in cvrapi.requests if r["path"] == "/api")
    assert request["query"]["country"] == ["dk"]
    assert request["user_agent"].startswith("datavask")


def test_the_used_up_quota_stops_asking_and_leaves_the_rest_unchecked(cvrapi, tmp_path):
    cvrapi.cvrapi_quota = 1
    with _registry(cvrapi, tmp_path, concurrency=1) as registry:
        frame = registry.lookup(["21265837", "10000017", "10000009", "99999990"])
    assert frame["found"].to_list() == [True, False, False, False]
    assert frame["lookup_failed"].to_list() == [False, True, True, True]
    # One answer, one QUOTA_EXCEEDED, then no more requests.
    assert len(_asked(cvrapi)) == 2


def test_cached_answers_are_not_asked_again(cvrapi, tmp_path):
    with _registry(cvrapi, tmp_path) as registry:
        registry.lookup(["21265837", "99999990"])
    with _registry(cvrapi, tmp_path) as registry:
        frame = registry.lookup(["21265837", "99999990"])
    assert frame["found"].to_list() == [True, False]
    assert len(_asked(cvrapi)) == 2


def test_server_errors_mark_the_cvr_unchecked(cvrapi, tmp_path, sleeps):
    cvrapi.inject("cvrapi", Fault("503"), Fault("503"))
    with _registry(cvrapi, tmp_path, sleep=sleeps, concurrency=1) as registry:
        frame = registry.lookup(["21265837"])
    assert frame.select("found", "lookup_failed").row(0) == (False, True)


def test_a_refused_user_agent_is_a_configuration_error(cvrapi, tmp_path):
    from datavask.connectors.cvrapi import CvrapiRegistry

    registry = CvrapiRegistry(
        base_url=f"{cvrapi.host}/api", user_agent="curl/8", cache_dir=tmp_path, rate=None
    )
    with registry, pytest.raises(RegistryConfigError, match="User-Agent"):
        registry.lookup(["21265837"])


def test_monitoring_facts_from_cvrapi_are_asked_fresh(cvrapi, tmp_path):
    from datavask.connectors.cvr import open_facts

    def facts():
        with open_facts(
            "cvrapi://", cvrapi_url=f"{cvrapi.host}/api", cache_dir=tmp_path,
            retry=RetryPolicy(attempts=2, base_delay=0.01),
        ) as source:  # fmt: skip
            return source.lookup(["21265837", "10000009", "99999999"])

    first = facts()
    asked = len([r for r in cvrapi.requests if r["path"] == "/api"])
    second = facts()
    assert len([r for r in cvrapi.requests if r["path"] == "/api"]) == 2 * asked  # no cache
    assert first.equals(second)
    rows = {row["cvr"]: row for row in first.to_dicts()}
    assert rows["21265837"]["name"] == "Hansen Byg ApS"
    assert rows["21265837"]["address"] == "Vestergade 12A, 2. tv, 8000 Aarhus C"
    assert rows["10000009"]["status_class"] == "bankrupt"
    assert not rows["99999999"]["found"] and not rows["99999999"]["lookup_failed"]
    # cvrapi.dk says nothing about owners or management: unknown, never compared.
    assert rows["21265837"]["owners"] is None and rows["21265837"]["management"] is None


def test_a_cpr_number_in_a_cvrapi_answer_is_masked(tmp_path):
    """Before: a sole proprietorship named ``Jens Hansen 010190-1234 VVS`` reached records,
    report and worklist with its owner's CPR number; the cache held it too."""
    named = {**HANSEN, "name": "Jens Hansen 010190-1234 VVS", "address": "Algade 3 (0101901234)"}
    with ErstServer(cvrapi={"21265837": named}) as server:
        with _registry(server, tmp_path) as registry:
            row = registry.lookup(["21265837"]).row(0, named=True)
        with _registry(server, tmp_path) as registry:  # from the cache
            cached = registry.lookup(["21265837"]).row(0, named=True)
    assert row["registry_name"] == cached["registry_name"] == "Jens Hansen XXXXXX-XXXX VVS"
    assert "0101901234" not in str(row) and "0101901234" not in str(cached)
