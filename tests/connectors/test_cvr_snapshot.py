"""Snapshot files of ERST documents: parsing, the Parquet cache, look-ups."""

from __future__ import annotations

import gzip
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import orjson
import pytest

from datavask.connectors import cvr_snapshot
from datavask.connectors.cvr import (
    RegistryConfigError,
    RegistrySnapshotError,
    open_registry,
    warm_registry,
)
from datavask.connectors.cvr_document import REGISTRY_SCHEMA
from datavask.connectors.cvr_snapshot import (
    cache_path,
    load_snapshot,
    parse_snapshot,
    snapshot_digest,
)
from tests.connectors.erst_server import make_document

DOCS = [
    make_document(
        21265837, name="Hansen Byg ApS", binavne=["Hansen Tømrer"], letter="a", floor="2", door="tv"
    ),
    make_document(10000009, name="Nordlys A/S", form_code=60, status="UNDER KONKURS"),
    make_document(10000017, name="Gammel Handel ApS", status="Ophørt", ended="2020-05-01"),
    make_document(
        10000025, name="Aarhus Kommune", form_code=250, form_short="KOM", phone="89402000"
    ),
    make_document(10000033, name="Skjult ApS", phone="11223344", phone_secret=True, reklame=True),
    make_document(
        10000041,
        name="Nyt Navn ApS",
        former_names=["Gammelt Navn ApS"],
        status="Normal",
        history_status="UNDER TVANGSOPLØSNING",
    ),
    make_document(10000050, name="Kredit ApS", status="NORMAL", credit_bankrupt=True),
]


def write_snapshot(
    path: Path, docs: list[dict], *, wrap_every: int = 2, extra: list[bytes] = ()
) -> Path:
    lines = [
        orjson.dumps({"_source": doc} if i % wrap_every == 0 else doc) for i, doc in enumerate(docs)
    ]
    data = b"\n".join([*lines, *extra]) + b"\n"
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", ["registry.jsonl", "registry.jsonl.gz"])
def test_a_snapshot_answers_lookups(tmp_path, name):
    snapshot = write_snapshot(tmp_path / name, DOCS)
    with open_registry(str(snapshot)) as registry:
        frame = registry.lookup(
            ["21265837", "10000009", "99999990", "10000017", "10000025", "10000033"]
        )
    assert dict(frame.schema) == dict(REGISTRY_SCHEMA)
    assert frame["found"].to_list() == [True, True, False, True, True, True]
    assert not frame["lookup_failed"].any()
    rows = {row["cvr"]: row for row in frame.iter_rows(named=True)}
    hansen = rows["21265837"]
    assert hansen["registry_house_number"] == "12A"  # husnummerFra + bogstavFra
    assert (hansen["registry_floor"], hansen["registry_door"]) == ("2", "tv")
    assert hansen["registry_postal_code"] == "8000"
    assert hansen["registry_binavne"] == ["Hansen Tømrer"]
    assert hansen["registry_form"] == "ApS"
    assert rows["10000009"]["registry_status_class"] == "bankrupt"
    assert rows["10000017"]["registry_status_class"] == "dissolved"
    assert rows["10000017"]["registry_end_date"] == date(2020, 5, 1)
    assert (rows["10000025"]["registry_form_code"], rows["10000025"]["registry_form"]) == (
        250,
        "KOM",
    )
    assert rows["10000025"]["registry_phone"] == "89402000"
    # A secret phone number is never exported.
    assert rows["10000033"]["registry_phone"] is None
    assert rows["10000033"]["reklamebeskyttet"] is True


def test_status_history_credit_status_and_former_names(tmp_path):
    frame = parse_snapshot(write_snapshot(tmp_path / "r.jsonl", DOCS))
    rows = {row["cvr"]: row for row in frame.iter_rows(named=True)}
    # sammensatStatus says Normal, the status history says compulsory dissolution is under way:
    # the status shown is the one the class (and so the flag) was read from.
    assert rows["10000041"]["registry_status"] == "UNDER TVANGSOPLØSNING"
    assert rows["10000041"]["registry_status_class"] == "distressed"
    assert rows["10000041"]["registry_former_names"] == ["Gammelt Navn ApS"]
    assert rows["10000050"]["registry_status_class"] == "bankrupt"
    assert rows["10000050"]["registry_status"] == "NORMAL, kreditstatus: Konkurs"


def test_the_status_shown_is_the_one_in_force_whatever_the_order_of_the_list(tmp_path):
    """``virksomhedsstatus`` newest first, ``[UNDER KONKURS (open), NORMAL (ended)]``, beside a
    ``sammensatStatus`` still ``NORMAL``: the company is bankrupt, and the status a reader sees
    (worklist "status i CVR", its class) says so, not ``NORMAL`` beside ``COMPANY_BANKRUPT``."""
    doc = make_document(10000068, name="Omvendt Orden ApS", status="NORMAL")
    doc["Vrvirksomhed"]["virksomhedsstatus"] = [
        {"status": "UNDER KONKURS", "periode": {"gyldigFra": "2026-10-01", "gyldigTil": None}},
        {"status": "NORMAL", "periode": {"gyldigFra": "2010-01-01", "gyldigTil": "2026-09-30"}},
    ]
    calm = make_document(10000076, name="Rolig ApS", status="NORMAL")
    (row, quiet) = parse_snapshot(write_snapshot(tmp_path / "r.jsonl", [doc, calm])).iter_rows(
        named=True
    )
    assert (row["registry_status"], row["registry_status_class"]) == ("UNDER KONKURS", "bankrupt")
    assert (quiet["registry_status"], quiet["registry_status_class"]) == ("NORMAL", "normal")


def test_bad_lines_are_skipped_and_duplicates_keep_the_newest_document(tmp_path):
    older = make_document(21265837, name="Forkert Navn ApS", updated="2001-01-01T00:00:00")
    snapshot = write_snapshot(
        tmp_path / "r.jsonl",
        [older, *DOCS],
        extra=[b"{not json", b'{"Vrvirksomhed": {"cvrNummer": null}}', b"[]", b"   "],
    )
    frame = parse_snapshot(snapshot)
    assert frame.height == len(DOCS)
    assert frame.filter(cvr="21265837")["registry_name"].to_list() == ["Hansen Byg ApS"]


def test_the_parsed_snapshot_is_cached_by_checksum(tmp_path, monkeypatch):
    snapshot = write_snapshot(tmp_path / "registry.jsonl.gz", DOCS)
    first = load_snapshot(snapshot)
    cached = cache_path(snapshot, snapshot_digest(snapshot))
    assert cached.is_file() and cached.parent == tmp_path

    def no_parsing(*args, **kwargs):
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(cvr_snapshot, "parse_snapshot", no_parsing)
    assert load_snapshot(snapshot).equals(first)
    # A changed snapshot has another checksum: parsed again, the stale cache removed.
    monkeypatch.undo()
    write_snapshot(snapshot, DOCS[:2])
    assert load_snapshot(snapshot).height == 2
    assert not cached.exists()


def test_the_cache_can_live_in_cache_dir(tmp_path):
    snapshot = write_snapshot(tmp_path / "registry.jsonl", DOCS)
    with open_registry(str(snapshot), cache_dir=tmp_path / "cache") as registry:
        registry.lookup(["21265837"])
    assert len(list((tmp_path / "cache").glob("registry.jsonl.*.parquet"))) == 1


def test_a_process_pool_gives_the_same_frame(tmp_path, monkeypatch):
    docs = [make_document(20000000 + i * 7, name=f"Firma {i}") for i in range(300)]
    snapshot = write_snapshot(tmp_path / "r.jsonl.gz", docs)
    monkeypatch.setattr(cvr_snapshot, "_CHUNK_BYTES", 20_000)  # several blocks
    serial = parse_snapshot(snapshot, workers=1)
    parallel = parse_snapshot(snapshot, workers=2)
    assert serial.height == 300
    assert parallel.equals(serial)


def test_a_missing_or_truncated_snapshot_is_a_clear_error(tmp_path):
    with pytest.raises(RegistrySnapshotError, match="not found"):
        open_registry(str(tmp_path / "nope.jsonl.gz"))
    truncated = tmp_path / "cut.jsonl.gz"
    truncated.write_bytes(gzip.compress(b"\n".join(orjson.dumps(d) for d in DOCS))[:-30])
    with pytest.raises(RegistrySnapshotError, match="cannot read"):
        parse_snapshot(truncated)


def test_unknown_sources_are_configuration_errors():
    with pytest.raises(RegistryConfigError, match="unknown registry source"):
        open_registry("ftp://example.com/registry")
    with pytest.raises(RegistryConfigError):
        open_registry("  ")


def test_none_checks_nothing():
    with open_registry("none") as registry:
        frame = registry.lookup(["21265837", "10000009"])
    assert frame["lookup_failed"].to_list() == [True, True]
    assert frame["found"].to_list() == [False, False]


JUNK_DOCUMENTS = [
    {"Vrvirksomhed": []},
    {"Vrvirksomhed": {"cvrNummer": "abc"}},
    {"Vrvirksomhed": {"cvrNummer": 12345}},
    {"Vrvirksomhed": {"cvrNummer": True}},
    {"Vrvirksomhed": {"cvrNummer": 31000001, "virksomhedMetadata": []}},
    {"Vrvirksomhed": {"cvrNummer": 31000002, "navne": "Hansen", "binavne": [None, 7]}},
    {"Vrvirksomhed": {"cvrNummer": 31000003, "virksomhedMetadata": {"nyesteNavn": "Hansen"}}},
    {
        "Vrvirksomhed": {
            "cvrNummer": "31000004",
            "beliggenhedsadresse": [{"husnummerFra": 7, "bogstavFra": 3, "postnummer": "80a0"}],
        }
    },
    {"Vrvirksomhed": {"cvrNummer": 31000005, "livsforloeb": [{"periode": []}]}},
    {
        "Vrvirksomhed": {
            "cvrNummer": 31000006,
            "virksomhedMetadata": {
                "sammensatStatus": "🦆" * 5000,
                "nyesteNavn": {"navn": "x" * 10_000},
            },
            "telefonNummer": [{"kontaktoplysning": 33301000, "hemmelig": False, "periode": {}}],
            "beliggenhedsadresse": [{"etage": 2, "vejnavn": "  Ves\ttergade ", "periode": {}}],
        }
    },
]


def test_junk_documents_are_skipped_or_read_never_raise(tmp_path):
    # Junk among more real documents: a file of mostly junk is refused (test_snapshot_garbage).
    snapshot = write_snapshot(tmp_path / "junk.jsonl", [*JUNK_DOCUMENTS, *DOCS], wrap_every=3)
    frame = parse_snapshot(snapshot)
    real = {str(doc["Vrvirksomhed"]["cvrNummer"]) for doc in DOCS}
    assert real <= set(frame["cvr"].to_list())
    rows = {row["cvr"]: row for row in frame.iter_rows(named=True)}
    assert set(rows) <= {*real, *(f"3100000{i}" for i in range(1, 7))}
    if "31000006" in rows:
        assert rows["31000006"]["registry_street"] == "Ves tergade"
        assert rows["31000006"]["registry_floor"] == "2"
        assert rows["31000006"]["registry_phone"] == "33301000"


_BUSY_POOL = """
import os, sys, time
from datavask.connectors.cvr_snapshot import parse_pool

if __name__ == "__main__":
    pool = parse_pool(2)
    busy = [pool.submit(time.sleep, 60) for _ in range(2)]
    while len(pool._processes) < 2:
        time.sleep(0.05)
    print(" ".join(str(pid) for pid in pool._processes), flush=True)
    time.sleep(60)
"""


def _initialised(pid: int) -> bool:
    """The pool worker ``pid`` has run its initialiser (it ignores SIGINT)."""
    status = Path(f"/proc/{pid}/status").read_text()
    ignored = int(
        next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1], 16
    )
    return bool(ignored & (1 << (signal.SIGINT - 1)))


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process states from /proc")
def test_parse_workers_end_when_a_stopped_run_exits(tmp_path):
    # A stopped run exits without shutting its pool down (os._exit; SIGKILL here): workers busy
    # with a block must not carry on as orphans.
    script = tmp_path / "busy_pool.py"
    script.write_text(_BUSY_POOL, encoding="utf-8")
    with subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True
    ) as parent:
        try:
            assert parent.stdout is not None
            workers = [int(pid) for pid in parent.stdout.readline().split()]
            deadline = time.monotonic() + 120  # a spawned worker imports polars first
            while not all(_initialised(pid) for pid in workers) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(workers) == 2 and all(_alive(pid) for pid in workers)
            parent.kill()
            parent.wait(timeout=10)
            deadline = time.monotonic() + 5
            while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not any(_alive(pid) for pid in workers)
        finally:
            parent.kill()


def _parsing_here_fails(*args, **kwargs):
    raise AssertionError("the snapshot was parsed in this process")


def test_a_snapshot_warmed_in_the_background_is_looked_up_from_its_cache(tmp_path, monkeypatch):
    snapshot = write_snapshot(tmp_path / "registry.jsonl.gz", DOCS)
    with open_registry(str(snapshot), cache_dir=tmp_path / "plain") as registry:
        expected = registry.lookup(["21265837", "10000009", "99999999"])
    monkeypatch.setattr(cvr_snapshot, "_WARM_THRESHOLD_BYTES", 0)
    monkeypatch.setattr(cvr_snapshot, "parse_snapshot", _parsing_here_fails)
    with (
        warm_registry(str(snapshot), cache_dir=tmp_path / "warm"),
        open_registry(str(snapshot), cache_dir=tmp_path / "warm") as registry,
    ):
        found = registry.lookup(["21265837", "10000009", "99999999"])
    assert found.equals(expected)
    assert not cvr_snapshot._warming  # the process ended with the block


def test_a_snapshot_that_fails_to_warm_fails_the_look_up_as_before(tmp_path, monkeypatch):
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("not json\n" * 10, encoding="utf-8")
    monkeypatch.setattr(cvr_snapshot, "_WARM_THRESHOLD_BYTES", 0)
    with (
        warm_registry(str(garbage), cache_dir=tmp_path / "cache"),
        open_registry(str(garbage), cache_dir=tmp_path / "cache") as registry,
        pytest.raises(RegistrySnapshotError, match="holds no ERST documents"),
    ):
        registry.lookup(["21265837"])
