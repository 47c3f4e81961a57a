"""Alerts reach Slack, a signed webhook and a mailbox exactly once across runs, through 503s
and a mail server that is down for a run (the outbox sends them on the next run)."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
from pathlib import Path

import pytest

from datavask.connectors.alerts import DeliveryRetry
from datavask.connectors.http import RetryPolicy
from datavask.flows.monitor_steps import MonitorParams, run_monitor
from tests.connectors.erst_server import ErstServer
from tests.flows.monitor_fixtures import Receiver, iter_alert_ids, planted_registry, write_customers
from tests.flows.smtp_receiver import SmtpReceiver

SECRET = "hemmelig-nøgle"


def _alert_ids(out: Path) -> list[str]:
    with (out / "alerts.csv").open(encoding="utf-8-sig", newline="") as fh:
        return [row["alert_id"] for row in csv.DictReader(fh, delimiter=";")]


def test_every_alert_is_delivered_exactly_once_across_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = planted_registry()
    customers = write_customers(tmp_path / "kunder.csv", list(planted.cvrs.values()))
    smtp_dir = tmp_path / "smtp"
    smtp_dir.mkdir()
    receiver = Receiver(statuses={"/slack": [503], "/hook": [503]})
    with ErstServer(documents=planted.version1) as server, receiver:
        mail = SmtpReceiver(smtp_dir, "kredit", "smtp-kode")
        monkeypatch.setenv("DATAVASK_WEBHOOK_SECRET", SECRET)
        monkeypatch.setenv("DATAVASK_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("DATAVASK_SMTP_PORT", str(mail.port))
        monkeypatch.setenv("DATAVASK_SMTP_USER", "kredit")
        monkeypatch.setenv("DATAVASK_SMTP_PASSWORD", "smtp-kode")
        monkeypatch.setenv("DATAVASK_SMTP_FROM", "datavask@example.dk")
        monkeypatch.setenv("DATAVASK_SMTP_CA_FILE", str(mail.cert))
        notify = [f"slack+{receiver.url('/slack')}", receiver.url("/hook"),
                  "mailto:kredit@example.dk"]  # fmt: skip

        def run(out: str) -> dict:
            params = MonitorParams(input=str(customers), registry=server.base_url,
                                   state=str(tmp_path / "state"), out=str(tmp_path / out),
                                   notify=notify)  # fmt: skip
            return run_monitor(
                params,
                registry_options={"credentials": (server.user, server.password),
                                  "retry": RetryPolicy(attempts=2, base_delay=0.01)},
                delivery_options={"retry": DeliveryRetry(attempts=2, base_delay=0.01)},
            )  # fmt: skip

        # Run 1: each webhook answers 503 once, then 200; the mail server is up.
        with mail:
            first = run("run1")
        assert first["delivery"] == {"delivered": 3, "pending": 0, "failures": []}

        # Run 2: version 2's alerts; the generic webhook keeps failing and the mail server is
        # down: those wait in the outbox. Slack gets its messages.
        server.documents = planted.version2
        receiver.statuses["/hook"] = [503, 503]
        second = run("run2")
        changes = len(planted.expected)
        assert second["delivery"]["pending"] == 2 * changes
        assert second["delivery"]["delivered"] == changes

        # Run 3: everyone is back; the outbox goes out with run 3's one new alert.
        with SmtpReceiver(smtp_dir, "kredit", "smtp-kode", port=mail.port) as mail3:
            third = run("run3")
        assert third["delivery"] == {"delivered": 3 + 2 * changes, "pending": 0, "failures": []}

    every = [i for out in ("run1", "run2", "run3") for i in _alert_ids(tmp_path / out)]
    assert len(every) == len(set(every)) == 1 + changes + 1
    for path in ("/slack", "/hook"):
        if path == "/hook":
            delivered = list(iter_alert_ids(receiver.delivered(path)))
        else:
            delivered = [
                block["text"]["text"]
                for body in receiver.delivered(path)
                for block in body["blocks"][1:]
            ]
        assert len(delivered) == len(every), path
    assert sorted(iter_alert_ids(receiver.delivered("/hook"))) == sorted(every)

    # The generic webhook's signature checks out with the shared secret.
    for request in receiver.requests:
        if request["path"] != "/hook":
            continue
        stamp = request["headers"]["X-Datavask-Timestamp"]
        expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + request["body"],
                            hashlib.sha256).hexdigest()  # fmt: skip
        assert request["headers"]["X-Datavask-Signature"] == f"sha256={expected}"

    mailed = [
        alert_id
        for message in mail.mailbox.messages + mail3.mailbox.messages
        for alert_id in " ".join(message["X-Datavask-Alert-Ids"].split()).split(", ")
    ]
    assert sorted(mailed) == sorted(every)


FAILING = [503] * 50  # a receiver that is down for the whole test


class _Runs:
    """Monitor runs on one state against one registry server, each with its own ``--notify``."""

    def __init__(self, tmp_path: Path, server: ErstServer, customers: Path) -> None:
        self.tmp_path, self.server, self.customers = tmp_path, server, customers

    def __call__(self, out: str, notify: list[str]) -> dict:
        params = MonitorParams(input=str(self.customers), registry=self.server.base_url,
                               state=str(self.tmp_path / "state"), out=str(self.tmp_path / out),
                               notify=notify)  # fmt: skip
        return run_monitor(
            params,
            registry_options={"credentials": (self.server.user, self.server.password),
                              "retry": RetryPolicy(attempts=2, base_delay=0.01)},
            delivery_options={"retry": DeliveryRetry(attempts=2, base_delay=0.01)},
        )  # fmt: skip


def test_a_webhook_urls_secret_is_never_written_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: run.json's options.notify and outbox.json (keyed by the URL) held the Slack
    token, the URL's password and its ?token= in clear."""
    monkeypatch.setenv("DATAVASK_WEBHOOK_SECRET", SECRET)
    planted = planted_registry()
    customers = write_customers(tmp_path / "kunder.csv", list(planted.cvrs.values()))
    receiver = Receiver(statuses={"/services/T0/B0/SLACKTOKEN123": list(FAILING),
                                  "/hook?token=UrlTok77": list(FAILING)})  # fmt: skip
    with ErstServer(documents=planted.version1) as server, receiver:
        slack = f"slack+{receiver.url('/services/T0/B0/SLACKTOKEN123')}"
        hook = receiver.url("/hook?token=UrlTok77").replace("://", "://kredit:UrlPass99@")
        run = _Runs(tmp_path, server, customers)("run1", [slack, hook])
    assert run["delivery"]["pending"] == 2
    assert run["options"]["notify"] == ["slack 127.0.0.1", "webhook 127.0.0.1"]
    written = [tmp_path / "run1" / "run.json", tmp_path / "state" / "outbox.json"]
    for path in written:
        text = path.read_text(encoding="utf-8")
        for secret in ("SLACKTOKEN123", "UrlPass99", "UrlTok77", "/services/", "/hook"):
            assert secret not in text, (path.name, secret)
    outbox = json.loads(written[1].read_text(encoding="utf-8"))
    labels = sorted(d["label"] for d in outbox["destinations"].values())
    assert labels == ["slack 127.0.0.1", "webhook 127.0.0.1"]


def test_pending_alerts_follow_the_notify_of_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: alerts that failed at a mistyped URL were retried at it on every run, also
    without --notify, and never reached the URL the user put in its place."""
    monkeypatch.setenv("DATAVASK_WEBHOOK_SECRET", SECRET)
    planted = planted_registry()
    customers = write_customers(tmp_path / "kunder.csv", list(planted.cvrs.values()))
    receiver = Receiver(statuses={"/wrong": list(FAILING)})
    with ErstServer(documents=planted.version1) as server, receiver:
        runs = _Runs(tmp_path, server, customers)
        wrong, fixed = receiver.url("/wrong"), receiver.url("/fixed")

        # Run 1: the first run's one alert fails at the mistyped URL and waits in the outbox.
        first = runs("run1", [wrong])
        assert first["delivery"]["pending"] == 1
        tried = len(receiver.requests)
        assert tried == 2

        # Run 2 without --notify: nobody is contacted; the alert is kept and reported.
        second = runs("run2", [])
        assert len(receiver.requests) == tried
        assert second["delivery"] == {"delivered": 0, "pending": 1, "failures": [],
                                      "held": ["webhook 127.0.0.1"]}  # fmt: skip
        summary = json.loads((tmp_path / "run2" / "run.json").read_text(encoding="utf-8"))
        assert summary["delivery"]["pending"] == 1

        # Run 3 with the corrected URL: the alert goes there, the old URL hears nothing.
        third = runs("run3", [fixed])
        assert third["delivery"] == {"delivered": 1, "pending": 0, "failures": []}
        assert [r["path"] for r in receiver.requests[tried:]] == ["/fixed"]
        assert list(iter_alert_ids(receiver.delivered("/fixed"))) == _alert_ids(tmp_path / "run1")

        # Run 4: nothing pending, nothing sent again.
        assert runs("run4", [fixed])["delivery"]["delivered"] == 0
        assert len(receiver.requests) == tried + 1


def test_a_dropped_destinations_alerts_do_not_repeat_at_one_that_had_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two destinations, one down: dropping it leaves its alerts to the other, which already
    got them, so they are not sent again; the same URL given again is the same destination."""
    monkeypatch.setenv("DATAVASK_WEBHOOK_SECRET", SECRET)
    planted = planted_registry()
    customers = write_customers(tmp_path / "kunder.csv", list(planted.cvrs.values()))
    receiver = Receiver(statuses={"/down": list(FAILING), "/later": [503, 503]})
    with ErstServer(documents=planted.version1) as server, receiver:
        runs = _Runs(tmp_path, server, customers)
        up, down, later = receiver.url("/up"), receiver.url("/down"), receiver.url("/later")
        first = runs("run1", [up, down, later])
        assert first["delivery"]["delivered"] == 1 and first["delivery"]["pending"] == 2

        # /later is configured again (same URL, same destination: its alert goes there),
        # /down is dropped: /up had the alert already, /later gets it once.
        second = runs("run2", [up, later])
        assert second["delivery"] == {"delivered": 1, "pending": 0, "failures": []}
    every = _alert_ids(tmp_path / "run1")
    for path in ("/up", "/later"):
        assert list(iter_alert_ids(receiver.delivered(path))) == every, path
    assert not json.loads((tmp_path / "state" / "outbox.json").read_text())["destinations"]


def test_an_outbox_keyed_by_url_is_delivered_and_rewritten_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An outbox.json written before this change (``{url: {alert_id: alert}}``) still goes out
    to its URL when that is configured, and the file is rewritten without the URL."""
    monkeypatch.setenv("DATAVASK_WEBHOOK_SECRET", SECRET)
    planted = planted_registry()
    customers = write_customers(tmp_path / "kunder.csv", list(planted.cvrs.values()))
    alert = {"alert_id": "0123456789abcdef0123", "cvr": planted.cvrs["bankrupt"],
             "record_ids": "K001", "name": "Kunde 1 ApS", "alert": "BANKRUPT",
             "before": "NORMAL", "after": "UNDER KONKURS", "registry_changed_at": "2026-03-03",
             "detected_at": "2026-03-04T06:00:00+00:00"}  # fmt: skip
    receiver = Receiver(statuses={"/secret-path": [503, 503]})
    with ErstServer(documents=planted.version1) as server, receiver:
        hook = receiver.url("/secret-path")
        (tmp_path / "state").mkdir()
        outbox = tmp_path / "state" / "outbox.json"
        outbox.write_text(json.dumps({hook: {alert["alert_id"]: alert}}), encoding="utf-8")
        runs = _Runs(tmp_path, server, customers)
        first = runs("run1", [hook])  # down this time: kept, but no longer under its URL
        assert first["delivery"]["pending"] == 2
        assert "secret-path" not in outbox.read_text(encoding="utf-8")
        second = runs("run2", [hook])
        assert second["delivery"] == {"delivered": 2, "pending": 0, "failures": []}
    delivered = sorted(iter_alert_ids(receiver.delivered("/secret-path")))
    assert delivered == sorted([alert["alert_id"], *_alert_ids(tmp_path / "run1")])
