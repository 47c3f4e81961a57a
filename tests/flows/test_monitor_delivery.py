"""Alerts reach Slack, a signed webhook and a mailbox exactly once across runs, through 503s
and a mail server that is down for a run (the outbox sends them on the next run)."""

from __future__ import annotations

import csv
import hashlib
import hmac
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
