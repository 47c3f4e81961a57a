"""The ERST client against a real HTTP server on 127.0.0.1 speaking the ERST protocol."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from datavask.connectors.cvr import (
    RegistryAuthError,
    RegistryConfigError,
    open_registry,
    sync_snapshot,
)
from datavask.connectors.cvr_document import SOURCE_FIELDS
from datavask.connectors.cvr_erst import MAX_WINDOW, ErstClient, erst_credentials
from datavask.connectors.http import (
    ConnectorRejectedError,
    ConnectorTimeoutError,
    ConnectorUnavailableError,
    RetryingClient,
    RetryPolicy,
)
from tests.connectors.conftest import SleepRecorder
from tests.connectors.erst_server import ErstServer, Fault, make_document


def _registry(server, credentials, tmp_path, **options):
    options.setdefault("retry", RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05))
    return open_registry(server.base_url, credentials=credentials, cache_dir=tmp_path, **options)


def _searches(server: ErstServer) -> list[dict]:
    return [r for r in server.requests if r["path"].endswith("/_search")]


# --------------------------------------------------------------------------- look-ups


def test_lookup_returns_one_row_per_requested_cvr(erst_server, credentials, tmp_path):
    with _registry(erst_server, credentials, tmp_path) as registry:
        frame = registry.lookup(["10000009", "99999990", "21265837", "10000009", None, "12"])
    assert frame["cvr"].to_list() == ["10000009", "99999990", "21265837", "12"]
    assert frame["found"].to_list() == [True, False, True, False]
    assert frame["lookup_failed"].to_list() == [False, False, False, False]
    row = frame.row(0, named=True)
    assert (row["registry_status"], row["registry_status_class"]) == ("UNDER KONKURS", "bankrupt")
    assert row["registry_phone"] == "33301000"
    assert frame.row(2, named=True)["registry_binavne"] == ["Hansen Tømrer"]


def test_lookup_sends_terms_queries_with_source_filtering_in_batches(
    erst_server, credentials, tmp_path
):
    erst_server.documents += [make_document(20000000 + i * 11) for i in range(7)]
    wanted = [f"{20000000 + i * 11}" for i in range(7)]
    with _registry(erst_server, credentials, tmp_path, concurrency=2) as registry:
        registry.batch_size = 3
        frame = registry.lookup(wanted)
    assert frame["found"].all()
    searches = _searches(erst_server)
    assert sorted(len(r["body"]["query"]["terms"]["Vrvirksomhed.cvrNummer"]) for r in searches) == [
        1,
        3,
        3,
    ]
    for request in searches:
        body = request["body"]
        assert body["_source"] == list(SOURCE_FIELDS)
        assert body["from"] + body["size"] <= MAX_WINDOW


def test_documents_pages_within_the_window_when_a_cvr_has_several_documents(
    erst_server, credentials
):
    erst_server.documents += [
        make_document(21265837, name="Hansen Byg ApS (fejl)", updated="2001-01-01T00:00:00")
    ]
    client = ErstClient(erst_server.base_url, credentials=credentials)
    try:
        frame = client.documents(["21265837"])
    finally:
        client.close()
    # Two documents, asked for one per page: the second page was fetched, the newest one kept.
    assert [r["body"]["from"] for r in _searches(erst_server)] == [0, 1]
    assert frame["registry_name"].to_list() == ["Hansen Byg ApS"]


def test_the_server_refuses_a_window_beyond_3000_and_the_client_never_asks_for_one(
    erst_server, credentials
):
    client = ErstClient(erst_server.base_url, credentials=credentials)
    try:
        with pytest.raises(ConnectorRejectedError) as refused:
            client.search({"query": {"match_all": {}}, "from": 2990, "size": 20})
        assert refused.value.status_code == 400
        with pytest.raises(ValueError):
            client.documents([f"{10000000 + i}" for i in range(MAX_WINDOW + 1)])
    finally:
        client.close()


def test_wrong_credentials_stop_the_run(erst_server, tmp_path):
    with (
        _registry(erst_server, ("datavask", "forkert"), tmp_path) as registry,
        pytest.raises(RegistryAuthError, match="the registry rejected the credentials"),
    ):
        registry.lookup(["21265837"])
    # 401 is never retried.
    assert len(_searches(erst_server)) == 1


def test_credentials_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATAVASK_CVR_USER", "u")
    monkeypatch.setenv("DATAVASK_CVR_PASSWORD", "p")
    assert erst_credentials() == ("u", "p")


def test_missing_credentials_are_a_configuration_error(monkeypatch):
    monkeypatch.delenv("DATAVASK_CVR_USER", raising=False)
    monkeypatch.delenv("DATAVASK_CVR_PASSWORD", raising=False)
    # Unit tests never start Prefect: make its Secret blocks unavailable.
    monkeypatch.setitem(sys.modules, "prefect.blocks.system", None)
    with pytest.raises(RegistryConfigError, match="DATAVASK_CVR_USER"):
        erst_credentials()


def test_missing_credentials_without_prefect_fail_at_once(tmp_path: Path) -> None:
    """No credentials, no Prefect server and no local Prefect database: there is no Secret block
    to find, so the user hears so at once — not after Prefect has spent a minute starting a
    temporary server only to find nothing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DATAVASK_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), DATAVASK_HOME=str(tmp_path / "home"))
    probe = (
        "import sys\n"
        "from datavask.connectors.cvr_erst import erst_credentials\n"
        "from datavask.connectors.cvr_base import RegistryConfigError\n"
        "try:\n    erst_credentials()\nexcept RegistryConfigError as exc:\n    print(exc)\n"
        "print('prefect imported' if 'prefect' in sys.modules else 'prefect not imported')\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "DATAVASK_CVR_USER" in done.stdout and "no local Prefect database" in done.stdout
    assert done.stdout.strip().endswith("prefect not imported")
    assert not (tmp_path / "prefect").exists()  # nothing written to the user's Prefect home
    assert time.monotonic() - started < 60


# --------------------------------------------------------------------------- faults


def test_429_is_retried_after_the_servers_retry_after(
    erst_server, credentials, tmp_path, sleeps: SleepRecorder
):
    erst_server.inject("search", Fault("429", retry_after="7"), Fault("503"))
    with _registry(erst_server, credentials, tmp_path, sleep=sleeps) as registry:
        frame = registry.lookup(["21265837"])
    assert frame["found"].to_list() == [True]
    assert sleeps.waits[0] == 7.0
    assert len(sleeps.waits) == 2  # one wait for the 429, one back-off for the 503


def test_malformed_json_is_retried(erst_server, credentials, tmp_path, sleeps):
    erst_server.inject("search", Fault("malformed"))
    with _registry(erst_server, credentials, tmp_path, sleep=sleeps) as registry:
        assert registry.lookup(["21265837"])["found"].to_list() == [True]


@pytest.mark.parametrize("fault", ["503", "500", "malformed", "429"])
def test_a_failing_registry_marks_cvrs_unchecked_never_not_found(
    erst_server, credentials, tmp_path, sleeps, fault
):
    erst_server.inject("search", *[Fault(fault, retry_after="1")] * 3)
    with _registry(erst_server, credentials, tmp_path, sleep=sleeps) as registry:
        frame = registry.lookup(["21265837", "99999990"])
    assert frame["lookup_failed"].to_list() == [True, True]
    assert frame["found"].to_list() == [False, False]
    assert len(_searches(erst_server)) == 3


def test_a_refused_connection_marks_cvrs_unchecked(tmp_path, sleeps):
    with ErstServer() as server:
        url = server.base_url
    # The server is gone: nothing listens on that port any more.
    registry = open_registry(
        url,
        credentials=("a", "b"),
        cache_dir=tmp_path,
        sleep=sleeps,
        retry=RetryPolicy(attempts=2, base_delay=0.01),
    )
    with registry:
        frame = registry.lookup(["21265837"])
    assert frame.select("found", "lookup_failed").row(0) == (False, True)


def test_a_stalled_server_fails_within_the_timeout(erst_server, credentials, tmp_path):
    erst_server.inject("search", Fault("stall", stall=3.0), Fault("stall", stall=3.0))
    started = time.perf_counter()
    with _registry(
        erst_server,
        credentials,
        tmp_path,
        timeout=0.3,
        retry=RetryPolicy(attempts=2, base_delay=0.01),
    ) as registry:
        frame = registry.lookup(["21265837"])
    elapsed = time.perf_counter() - started
    assert frame.select("found", "lookup_failed").row(0) == (False, True)
    assert elapsed < 2.0


def test_every_request_carries_a_timeout():
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json={"hits": {"total": 0, "hits": []}})

    client = RetryingClient(timeout=4.0, transport=httpx.MockTransport(handler))
    client.request_json("POST", "http://registry.test/cvr-permanent/virksomhed/_search", json={})
    client.close()
    assert seen == [{"connect": 4.0, "read": 4.0, "write": 4.0, "pool": 4.0}]
    with pytest.raises(ValueError):
        RetryingClient(timeout=0)


def test_the_stalled_call_raises_the_projects_timeout_error(erst_server, credentials):
    erst_server.inject("search", Fault("stall", stall=2.0))
    client = ErstClient(
        erst_server.base_url, credentials=credentials, timeout=0.2, retry=RetryPolicy(attempts=1)
    )
    try:
        with pytest.raises(ConnectorTimeoutError):
            client.search({"query": {"match_all": {}}, "size": 1})
    finally:
        client.close()


def test_no_httpx_error_leaks_out_of_the_client():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("server hung up", request=request)

    client = RetryingClient(
        timeout=1.0,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=2),
        sleep=lambda s: None,
    )
    with pytest.raises(ConnectorUnavailableError) as failure:
        client.request_json("GET", "http://registry.test/api")
    assert not isinstance(failure.value, httpx.HTTPError)
    client.close()


# --------------------------------------------------------------------------- the disk cache


def test_a_rerun_is_answered_from_the_disk_cache(erst_server, credentials, tmp_path):
    with _registry(erst_server, credentials, tmp_path) as registry:
        first = registry.lookup(["21265837", "99999990", "10000017"])
    asked = len(_searches(erst_server))
    with _registry(erst_server, credentials, tmp_path) as registry:
        second = registry.lookup(["21265837", "99999990", "10000017"])
    assert len(_searches(erst_server)) == asked
    assert second.equals(first)


def test_failed_lookups_are_not_cached_and_old_answers_expire(
    erst_server, credentials, tmp_path, sleeps
):
    erst_server.inject("search", *[Fault("503")] * 3)
    with _registry(erst_server, credentials, tmp_path, sleep=sleeps) as registry:
        assert registry.lookup(["21265837"])["lookup_failed"].to_list() == [True]
        assert registry.lookup(["21265837"])["found"].to_list() == [True]
    before = len(_searches(erst_server))
    with _registry(erst_server, credentials, tmp_path, max_age_days=0) as registry:
        registry.lookup(["21265837"])
    assert len(_searches(erst_server)) == before + 1


# --------------------------------------------------------------------------- bulk download


def _company_docs(n: int) -> list[dict]:
    docs = [make_document(30000000 + i * 13, name=f"Firma {i} ApS", detail=True) for i in range(n)]
    # A CVR with two documents: a resumed download must not lose or double the second.
    docs.append(make_document(30000000 + 13 * 5, name="Firma 5 ApS (anden)", detail=True))
    return docs


def _lines(path: Path) -> list[dict]:
    with gzip.open(path, "rb") as fh:
        return [orjson.loads(line) for line in fh]


def test_sync_writes_every_document_sorted_and_filtered(credentials, tmp_path):
    with ErstServer(documents=_company_docs(25)) as server:
        dest = tmp_path / "registry.jsonl.gz"
        seen: list[tuple[int, int | None]] = []
        result = sync_snapshot(
            server.base_url,
            dest,
            credentials=credentials,
            page_size=4,
            progress=lambda done, total: seen.append((done, total)),
        )
    docs = _lines(dest)
    assert result.documents == len(docs) == 26
    cvrs = [d["Vrvirksomhed"]["cvrNummer"] for d in docs]
    assert cvrs == sorted(cvrs)
    # Only the fields datavask reads: owners and management (monitoring) yes, P-units no.
    assert "penheder" not in docs[0]["Vrvirksomhed"]
    assert "deltagerRelation" in docs[0]["Vrvirksomhed"]
    assert seen[-1] == (26, 26)
    assert not dest.with_name(dest.name + ".partial").exists()
    assert not dest.with_name(dest.name + ".state.json").exists()
    # The snapshot is usable as a registry source.
    with open_registry(str(dest), cache_dir=tmp_path / "cache") as registry:
        assert registry.lookup([f"{30000000 + 13 * 3}"])["registry_name"].to_list() == [
            "Firma 3 ApS"
        ]


def test_an_interrupted_sync_resumes_to_a_byte_identical_file(credentials, tmp_path, sleeps):
    docs = _company_docs(40)
    with ErstServer(documents=docs) as server:
        whole = tmp_path / "whole.jsonl.gz"
        sync_snapshot(server.base_url, whole, credentials=credentials, page_size=3)

    with ErstServer(documents=docs, scroll_fails_after=2) as server:
        dest = tmp_path / "resumed.jsonl.gz"
        with pytest.raises(ConnectorUnavailableError):
            sync_snapshot(
                server.base_url,
                dest,
                credentials=credentials,
                page_size=3,
                sleep=sleeps,
                retry=RetryPolicy(attempts=2, base_delay=0.01),
            )
        assert not dest.exists()  # never a truncated file at dest
        assert dest.with_name(dest.name + ".partial").exists()
        server.scroll_fails_after = None
        result = sync_snapshot(server.base_url, dest, credentials=credentials, page_size=3)
        resumed_query = [r for r in server.requests if r["path"].endswith("/_search")][-1]
    assert result.resumed
    assert "range" in resumed_query["body"]["query"]
    assert dest.read_bytes() == whole.read_bytes()


def test_a_sync_interrupted_inside_a_cvr_with_two_documents_keeps_both(
    credentials, tmp_path, sleeps
):
    docs = _company_docs(12)
    with ErstServer(documents=docs) as server:
        whole = tmp_path / "whole.jsonl"
        sync_snapshot(server.base_url, whole, credentials=credentials, page_size=6)
    # Pages of 6: the two documents of the sixth company are split across pages 1 and 2.
    with ErstServer(documents=docs, scroll_fails_after=0) as server:
        dest = tmp_path / "resumed.jsonl"
        with pytest.raises(ConnectorUnavailableError):
            sync_snapshot(
                server.base_url,
                dest,
                credentials=credentials,
                page_size=6,
                sleep=sleeps,
                retry=RetryPolicy(attempts=1),
            )
        server.scroll_fails_after = None
        sync_snapshot(server.base_url, dest, credentials=credentials, page_size=6)
    assert dest.read_bytes() == whole.read_bytes()
    assert len(dest.read_bytes().splitlines()) == 13


def test_an_expired_scroll_is_restarted_from_the_last_complete_cvr(credentials, tmp_path):
    docs = _company_docs(20)
    with ErstServer(documents=docs) as server:
        whole = tmp_path / "whole.jsonl.gz"
        sync_snapshot(server.base_url, whole, credentials=credentials, page_size=4)
        server.inject("scroll", Fault("expired"))
        dest = tmp_path / "again.jsonl.gz"
        result = sync_snapshot(server.base_url, dest, credentials=credentials, page_size=4)
    assert not result.resumed
    assert dest.read_bytes() == whole.read_bytes()


def test_a_sync_with_other_options_starts_over(credentials, tmp_path, sleeps):
    docs = _company_docs(10)
    with ErstServer(documents=docs, scroll_fails_after=1) as server:
        dest = tmp_path / "registry.jsonl"
        with pytest.raises(ConnectorUnavailableError):
            sync_snapshot(
                server.base_url,
                dest,
                credentials=credentials,
                page_size=3,
                sleep=sleeps,
                retry=RetryPolicy(attempts=1),
            )
        server.scroll_fails_after = None
        result = sync_snapshot(
            server.base_url, dest, credentials=credentials, page_size=3, full=True
        )
    assert not result.resumed
    assert "deltagerRelation" in orjson.loads(dest.read_bytes().splitlines()[0])["Vrvirksomhed"]


def test_sync_with_wrong_credentials_leaves_nothing(erst_server, tmp_path):
    dest = tmp_path / "registry.jsonl.gz"
    with pytest.raises(RegistryAuthError):
        sync_snapshot(erst_server.base_url, dest, credentials=("x", "y"))
    assert not dest.exists()


# --------------------------------------------------------------------------- live


@pytest.mark.live
def test_live_erst_lookup(tmp_path):
    if not os.environ.get("DATAVASK_CVR_USER"):
        pytest.skip("needs DATAVASK_CVR_USER / DATAVASK_CVR_PASSWORD")
    with open_registry("http://distribution.virk.dk/cvr-permanent", cache_dir=tmp_path) as registry:
        frame = registry.lookup(["21265837"])
    assert frame["found"].to_list() == [True]


@pytest.mark.parametrize("fault", ["503", "malformed", "stall"])
def test_through_the_cleansing_step_an_outage_is_unchecked_never_not_found(
    erst_server, credentials, tmp_path, sleeps, fault
):
    from datavask.cleansing.registry import apply_registry
    from tests.cleansing.test_registry import records

    erst_server.inject("search", *[Fault(fault, stall=1.0)] * 2)
    recs = records(
        {"name": "Hansen Byg ApS", "cvr": "21265837"},
        {"name": "Ukendt ApS", "cvr": "10000025"},
        {"name": "Uden CVR"},
    )
    with _registry(
        erst_server,
        credentials,
        tmp_path,
        sleep=sleeps,
        timeout=0.3,
        retry=RetryPolicy(attempts=2, base_delay=0.01),
    ) as registry:
        out = apply_registry(recs, registry.lookup(recs["cvr"].drop_nulls()))
    assert not out["flag_CVR_NOT_FOUND"].any()
    assert out["flag_REGISTRY_UNCHECKED"].to_list() == [True, True, False]
    assert not out["flag_NAME_MISMATCH"].any()
    # Once the registry answers again, the unknown CVR is reported as not found.
    with _registry(erst_server, credentials, tmp_path) as registry:
        out = apply_registry(recs, registry.lookup(recs["cvr"].drop_nulls()))
    assert out["flag_CVR_NOT_FOUND"].to_list() == [False, True, False]
    assert not out["flag_REGISTRY_UNCHECKED"].any()
