"""`datavask monitor` end to end against a loopback ERST server: version 1, then version 2 with
one planted change per alert type, with 429/503 faults in between."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from datavask.connectors.http import RetryPolicy
from datavask.flows.monitor_steps import MonitorParams, run_monitor, state_lock
from tests.connectors.erst_server import ErstServer, Fault
from tests.flows.monitor_fixtures import planted_registry, write_customers

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, max_retry_after=0.05)


def _run(server: ErstServer, customers: Path, state: Path, out: Path) -> dict:
    params = MonitorParams(
        input=str(customers), registry=server.base_url, state=str(state), out=str(out)
    )
    options = {"credentials": (server.user, server.password), "retry": FAST}
    return run_monitor(params, registry_options=options)


def _alerts(out: Path) -> list[dict[str, str]]:
    with (out / "alerts.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def test_every_planted_change_alerts_exactly_once_and_faults_never(tmp_path: Path) -> None:
    planted = planted_registry()
    cvrs = planted.cvrs
    customers = write_customers(tmp_path / "kunder.csv", list(cvrs.values()))
    state = tmp_path / "state"
    with ErstServer(documents=planted.version1) as server:
        # First run: the state is recorded; only the customer already in distress alerts.
        first = _run(server, customers, state, tmp_path / "run1")
        assert first["first_run"]
        assert [(a["cvr"], a["alert"]) for a in _alerts(tmp_path / "run1")] == [
            (cvrs["recovered"], "DISTRESSED")
        ]
        recorded = pl.read_parquet(state / "current.parquet")

        # Version 2 is served, but every attempt of the look-up fails: nothing alerts and the
        # state stays as it was.
        server.documents = planted.version2
        server.inject("search", Fault("503"), Fault("429", retry_after="0"), Fault("503"))
        failed = _run(server, customers, state, tmp_path / "run2")
        assert failed["counts"]["unchecked"] == len(cvrs)
        assert _alerts(tmp_path / "run2") == []
        assert pl.read_parquet(state / "current.parquet").equals(recorded)

        # Transient faults the retries get past: each planted change gives exactly its alert.
        server.inject("search", Fault("429", retry_after="0"), Fault("503"))
        _run(server, customers, state, tmp_path / "run3")
        alerts = _alerts(tmp_path / "run3")
        assert {a["cvr"]: a["alert"] for a in alerts} == planted.expected
        assert len(alerts) == len(planted.expected)
        by_type = {a["alert"]: a for a in alerts}
        assert by_type["BANKRUPT"]["before"] == "NORMAL"
        assert by_type["BANKRUPT"]["after"] == "UNDER KONKURS, kreditstatus: Konkurs"
        assert by_type["BANKRUPT"]["registry_changed_at"] == "2023-01-01"
        assert by_type["MERGED"]["after"] == cvrs["successor"]
        assert by_type["MERGED"]["registry_changed_at"] == "2026-10-31"
        assert by_type["DISSOLVED"]["registry_changed_at"] == "2026-11-20"
        assert by_type["NAME_CHANGED"]["before"] == "Firma 5 ApS"
        assert by_type["NAME_CHANGED"]["after"] == "Nyt Navn ApS"
        assert by_type["ADDRESS_CHANGED"]["after"] == "Søndergade 3, 8200 Aarhus N"
        assert "Ny Ejer Holding ApS (4300000) 50%" in by_type["OWNER_CHANGED"]["after"]
        assert by_type["OWNER_CHANGED"]["registry_changed_at"] == "2026-11-01"
        assert by_type["MANAGEMENT_CHANGED"]["after"] == (
            "Direktion: Ny Direktør (4400000) ADM. DIR."
        )
        assert by_type["STATUS_CHANGED"]["before"] == "UNDER REKONSTRUKTION"
        # The customer with two records names both; the first customer is "bankrupt".
        assert by_type["BANKRUPT"]["record_ids"] == "K001|K999"

        # The vanished company was not found once: no alert yet. The second time, one alert;
        # the third time, none again.
        _run(server, customers, state, tmp_path / "run4")
        assert [(a["cvr"], a["alert"]) for a in _alerts(tmp_path / "run4")] == [
            (cvrs["vanished"], "CVR_NOT_FOUND")
        ]
        _run(server, customers, state, tmp_path / "run5")
        assert _alerts(tmp_path / "run5") == []

    # The audit trail: one immutable snapshot per run that got answers, what the registry said.
    snapshots = sorted((state / "snapshots").glob("*.parquet"))
    assert len(snapshots) == 5
    said = pl.read_parquet(snapshots[0]).filter(pl.col("cvr") == cvrs["bankrupt"])
    assert said["status"].to_list() == ["NORMAL"]
    history = pl.read_parquet(state / "alerts.parquet")
    assert history.height == 1 + len(planted.expected) + 1


def test_alert_files_are_safe_for_excel_and_the_report_escapes(tmp_path: Path) -> None:
    planted = planted_registry()
    cvrs = planted.cvrs
    hostile = planted.version1[0]["Vrvirksomhed"]
    hostile["navne"][-1]["navn"] = hostile["virksomhedMetadata"]["nyesteNavn"]["navn"] = (
        '=HYPERLINK("http://x") <script>alert(1)</script>'
    )
    hostile["virksomhedMetadata"]["sammensatStatus"] = "UNDER KONKURS"
    customers = write_customers(tmp_path / "kunder.csv", list(cvrs.values()))
    with ErstServer(documents=planted.version1) as server:
        _run(server, customers, tmp_path / "state", tmp_path / "out")
    raw = (tmp_path / "out" / "alerts.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    names = {a["alert"]: a["name"] for a in _alerts(tmp_path / "out")}
    assert names["BANKRUPT"].startswith("'=HYPERLINK")
    as_json = json.loads((tmp_path / "out" / "alerts.json").read_text(encoding="utf-8"))
    assert {a["alert"] for a in as_json} == {"BANKRUPT", "DISTRESSED"}
    assert all(len(a["alert_id"]) == 20 for a in as_json)
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_run_directory_is_a_customer_base(tmp_path: Path) -> None:
    planted = planted_registry()
    cvrs = list(planted.cvrs.values())
    run_dir = tmp_path / "cleanse-run"
    run_dir.mkdir()
    pl.DataFrame(
        {
            "record_id": ["A", "B", "C", "D"],
            "name": ["Kunde A", "Kunde B", "Kunde C", "Privat"],
            "cvr": [cvrs[0], cvrs[1], cvrs[0], None],
        }
    ).write_parquet(run_dir / "records.parquet")
    (run_dir / "run.json").write_text("{}", encoding="utf-8")
    with ErstServer(documents=planted.version1) as server:
        run = _run(server, run_dir, tmp_path / "state", tmp_path / "out")
    assert run["counts"]["customers"] == 2
    state = pl.read_parquet(tmp_path / "state" / "current.parquet")
    assert sorted(state["cvr"]) == sorted(cvrs[:2])


def test_a_runs_customer_lists_its_duplicate_typed_without_the_cvr(tmp_path: Path) -> None:
    """``Kvist Køleteknik ApS`` twice in one cluster, one record without the CVR number: the
    alert names both accounts, so the one without the number is not left open. A cluster of
    two CVR numbers lends neither; a record of no cluster with a CVR is listed by it alone."""
    from datavask.flows.monitor_steps import load_customers

    run_dir = tmp_path / "cleanse-run"
    run_dir.mkdir()
    pl.DataFrame(
        {
            "record_id": ["1", "2", "3", "4", "5", "6"],
            "name": ["Kvist Duplikat", "Kvist Køleteknik ApS", "Privat", "X ApS", "Y ApS", None],
            "cvr": [None, "56136797", None, "11111111", "22222222", None],
            "cluster_id": ["a", "a", "b", "c", "c", "c"],
        }
    ).write_parquet(run_dir / "records.parquet")
    customers = load_customers(str(run_dir))
    assert customers.rows() == [
        ("56136797", "1|2", "Kvist Køleteknik ApS"),
        ("11111111", "4", "X ApS"),
        ("22222222", "5", "Y ApS"),
    ]


def test_a_second_monitor_on_the_same_state_is_refused(tmp_path: Path) -> None:
    planted = planted_registry()
    customers = write_customers(tmp_path / "kunder.csv", list(planted.cvrs.values()))
    state = tmp_path / "state"
    snapshot = tmp_path / "registry.jsonl"
    snapshot.write_text("\n".join(json.dumps(d) for d in planted.version1) + "\n", "utf-8")
    command = [sys.executable, "-m", "datavask", "monitor", str(customers),
               "--registry", str(snapshot), "--state", str(state), "--out", str(tmp_path / "o")]  # fmt: skip
    with state_lock(state):
        held = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert held.returncode == 2, held.stderr
    assert "another datavask monitor" in held.stderr
    assert "Traceback" not in held.stderr
    assert len(held.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
    # Once the lock is free the same command runs (the lock never outlives its holder).
    free = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert free.returncode == 0, free.stderr
    assert (tmp_path / "o" / "alerts.csv").exists()


def test_a_daily_job_writes_to_one_out_day_after_day(tmp_path: Path) -> None:
    """The README's daily job writes to one ``--out`` (``…/alerts/today``): from its second day
    it was refused (exit 2) as holding a file datavask had not written, its own run.json, which
    the delivery results rewrite after the directory is recorded. No alert of that day was found
    or sent. A file the user puts there is still refused, and kept."""
    planted = planted_registry()
    customers = write_customers(tmp_path / "kunder.csv", list(planted.cvrs.values()))
    out = tmp_path / "today"
    days = []
    for version in (planted.version1, planted.version2, planted.version2):
        snapshot = tmp_path / "registry.jsonl"
        snapshot.write_text("\n".join(json.dumps(d) for d in version) + "\n", "utf-8")
        command = [sys.executable, "-m", "datavask", "monitor", str(customers), "--registry",
                   str(snapshot), "--state", str(tmp_path / "state"), "--out", str(out)]  # fmt: skip
        ran = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, ran.stderr
        days.append({a["alert"] for a in _alerts(out)})
    # day 2's changes, once; on day 3 only the vanished company, not found a second time
    assert "BANKRUPT" in days[1] and days[2] == {"CVR_NOT_FOUND"}
    (out / "mine.txt").write_text("noter", encoding="utf-8")
    refused = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "mine.txt" in refused.stderr
    assert (out / "mine.txt").read_text(encoding="utf-8") == "noter"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--notify", "ftp://example.dk/x"], "--notify"),
        (["--registry", "none"], "monitoring needs a registry"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    customers = write_customers(tmp_path / "kunder.csv", ["13585628"])
    base = ["--registry", str(tmp_path / "r.jsonl")] if "--registry" not in args else []
    command = [sys.executable, "-m", "datavask", "monitor", str(customers), "--state",
               str(tmp_path / "s"), *base, *args]  # fmt: skip
    (tmp_path / "r.jsonl").write_text("", encoding="utf-8")
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("state", ["a-file", "/proc/datavask-state"])
def test_a_state_that_cannot_be_a_directory_is_one_line_and_exit_2(
    tmp_path: Path, state: str
) -> None:
    """``--state`` naming a file, or a place no directory can be made, was an internal error
    (FileExistsError, FileNotFoundError) asking for a bug report."""
    customers = write_customers(tmp_path / "kunder.csv", ["13585628"])
    (tmp_path / "a-file").write_text("mine", encoding="utf-8")
    (tmp_path / "r.jsonl").write_text("", encoding="utf-8")
    command = [sys.executable, "-m", "datavask", "monitor", str(customers), "--registry",
               str(tmp_path / "r.jsonl"), "--state", state, "--out", str(tmp_path / "o")]  # fmt: skip
    result = subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    assert "--state" in result.stderr and "internal error" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (tmp_path / "a-file").read_text(encoding="utf-8") == "mine"


def test_cleanse_with_the_monitor_state_flags_and_lists_recent_alerts(tmp_path: Path) -> None:
    from datavask.flows.cleanse import CleanseOptions, run_pipeline

    planted = planted_registry()
    cvrs = planted.cvrs
    customers = write_customers(tmp_path / "kunder.csv", list(cvrs.values()))
    snapshot = tmp_path / "registry.jsonl"
    snapshot.write_text("\n".join(json.dumps(d) for d in planted.version1) + "\n", "utf-8")
    state = tmp_path / "state"
    params = MonitorParams(input=str(customers), registry=str(snapshot), state=str(state),
                           out=str(tmp_path / "alerts"))  # fmt: skip
    run_monitor(params)
    # --registry none: whatever the verdict knows about the registry comes from the monitor.
    options = CleanseOptions(input=str(customers), out=str(tmp_path / "run"), registry="none",
                             monitor_state=str(state))  # fmt: skip
    run_pipeline(options, orchestrated=False)
    records = pl.read_parquet(tmp_path / "run" / "records.parquet")
    row = records.filter(pl.col("cvr") == cvrs["recovered"]).row(0, named=True)
    assert row["monitor_alerts"] == ["DISTRESSED 1998-08-04"]
    assert "COMPANY_DISTRESSED" in row["flags"]
    assert not row["collection_ready"]
    calm = records.filter(pl.col("cvr") == cvrs["calm"]).row(0, named=True)
    assert calm["monitor_alerts"] == []
    assert "COMPANY_DISTRESSED" not in calm["flags"]
    # The report lists the monitor's recent alerts for these customers, and the worklist has them.
    html = (tmp_path / "run" / "report.html").read_text("utf-8")
    assert '"alerts": {' in html or '"alerts":{' in html


def test_the_reports_status_table_agrees_with_the_monitors_flags(tmp_path: Path) -> None:
    """A cleanse with an older snapshot (the company "Normal") and the monitoring state (under
    konkurs since): the customer is COMPANY_BANKRUPT and blocked, and the report's table of
    registry statuses said "aktiv" for it, beside the bankruptcy it listed."""
    from datavask.connectors.report import load_model
    from datavask.flows.cleanse import CleanseOptions, run_pipeline

    planted = planted_registry()
    customers = write_customers(tmp_path / "kunder.csv", list(planted.cvrs.values()))
    state = tmp_path / "state"
    for day, version in enumerate((planted.version1, planted.version2)):
        snapshot = tmp_path / f"registry{day}.jsonl"
        snapshot.write_text("\n".join(json.dumps(d) for d in version) + "\n", "utf-8")
        run_monitor(MonitorParams(input=str(customers), registry=str(snapshot), state=str(state),
                                  out=str(tmp_path / f"alerts{day}")))  # fmt: skip
    options = CleanseOptions(input=str(customers), out=str(tmp_path / "run"),
                             registry=str(tmp_path / "registry0.jsonl"), monitor_state=str(state))  # fmt: skip
    run_pipeline(options, orchestrated=False)
    records = pl.read_parquet(tmp_path / "run" / "records.parquet")
    bankrupt = records.filter(pl.col("cvr") == planted.cvrs["bankrupt"]).row(0, named=True)
    assert "COMPANY_BANKRUPT" in bankrupt["flags"]
    assert bankrupt["registry_status"].casefold() == "normal"  # the older snapshot's word
    classes = {
        row["key"]: row["customers"] for row in load_model(tmp_path / "run").registry_classes
    }
    assert classes.get("bankrupt", 0) >= 1, classes


def test_a_crash_before_the_state_advances_re_detects_the_same_alerts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datavask.flows import monitor_steps

    planted = planted_registry()
    customers = write_customers(tmp_path / "kunder.csv", list(planted.cvrs.values()))
    snapshot = tmp_path / "registry.jsonl"

    def run(version: list, out: str) -> dict:
        snapshot.write_text("\n".join(json.dumps(d) for d in version) + "\n", "utf-8")
        params = MonitorParams(input=str(customers), registry=str(snapshot),
                               state=str(tmp_path / "state"), out=str(tmp_path / out))  # fmt: skip
        return run_monitor(params)

    run(planted.version1, "run1")
    before = (tmp_path / "state" / "current.parquet").read_bytes()

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the power goes, or Ctrl-C, right after the alerts are written

    monkeypatch.setattr(monitor_steps, "advance_state", crash)
    with pytest.raises(KeyboardInterrupt):
        run(planted.version2, "run2")
    assert (tmp_path / "state" / "current.parquet").read_bytes() == before
    monkeypatch.undo()
    run(planted.version2, "run3")
    crashed = {a["alert_id"] for a in _alerts(tmp_path / "run2")}
    assert crashed == {a["alert_id"] for a in _alerts(tmp_path / "run3")}
    assert len(crashed) == len(planted.expected)
    assert not list(tmp_path.glob(".run*partial*"))


def test_a_state_that_lost_its_current_facts_does_not_alert_again(tmp_path: Path) -> None:
    """``current.parquet`` deleted, the alert history kept: the next run is a first run, and it
    raised the bankruptcies and the distress it had raised before again (the same ids)."""
    planted = planted_registry()
    customers = write_customers(tmp_path / "kunder.csv", list(planted.cvrs.values()))
    snapshot = tmp_path / "registry.jsonl"
    ids = []
    for version, out in ((planted.version1, "run1"), (planted.version2, "run2"),
                         (planted.version2, "run3")):  # fmt: skip
        snapshot.write_text("\n".join(json.dumps(d) for d in version) + "\n", "utf-8")
        if out == "run3":
            (tmp_path / "state" / "current.parquet").unlink()
        run_monitor(MonitorParams(input=str(customers), registry=str(snapshot),
                                  state=str(tmp_path / "state"), out=str(tmp_path / out)))  # fmt: skip
        ids.append({a["alert_id"] for a in _alerts(tmp_path / out)})
    assert ids[0] and ids[1] and ids[2] == set()


# The monitor command with its run stopped while the output is renamed into place: the signal
# handler has recorded the Ctrl-C, and the commit refuses with StopRequested.
_STOPPED_WHILE_WRITING = """
import signal, sys
from datavask.connectors.scratch import StopRequested
from datavask.flows import cli, monitor_steps, signals

def stopped(params, **options):
    signals._received.append(signal.SIGINT)
    raise StopRequested("stopped before the output was written")

monitor_steps.run_monitor = stopped
sys.argv = ["datavask", "monitor", *sys.argv[1:]]
cli.main()
"""


def test_ctrl_c_while_the_alerts_are_written_is_one_line_and_130(tmp_path: Path) -> None:
    """A Ctrl-C while the run's output was renamed into place printed "internal error …
    StopRequested … please send them with a bug report"; cleanse gives the one line and 130."""
    customers = write_customers(tmp_path / "kunder.csv", ["13585628"])
    (tmp_path / "r.jsonl").write_text("", encoding="utf-8")
    script = tmp_path / "stopped.py"
    script.write_text(_STOPPED_WHILE_WRITING, encoding="utf-8")
    command = [sys.executable, str(script), str(customers), "--registry",
               str(tmp_path / "r.jsonl"), "--state", str(tmp_path / "s")]  # fmt: skip
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 130, done.stderr
    assert "internal error" not in done.stdout + done.stderr
    assert "interrupted" in done.stdout + done.stderr
