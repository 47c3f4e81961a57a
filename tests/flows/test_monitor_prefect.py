"""The monitor flow under a real Prefect server: typed parameters, and one event per alert."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.flows.monitor_fixtures import planted_registry, write_customers


@pytest.mark.prefect
def test_monitor_flow_emits_an_event_per_alert(prefect_harness: None, tmp_path: Path) -> None:
    from prefect.events.worker import EventsWorker
    from prefect.settings import PREFECT_API_URL

    from datavask.flows.monitor import MonitorParams, monitor_flow

    planted = planted_registry()
    customers = write_customers(tmp_path / "kunder.csv", list(planted.cvrs.values()))
    snapshot = tmp_path / "registry.jsonl"
    snapshot.write_text("\n".join(json.dumps(d) for d in planted.version1) + "\n", "utf-8")
    params = MonitorParams(
        input=str(customers), registry=str(snapshot), state=str(tmp_path / "s"),
        out=str(tmp_path / "o"),
    )  # fmt: skip
    run = monitor_flow(params)
    assert run["events"] == 1  # the first run's one customer already in distress
    EventsWorker.drain_all()

    api = PREFECT_API_URL.value()
    query = {"filter": {"event": {"prefix": ["datavask.registry."]},
                        "occurred": {"since": "2000-01-01T00:00:00Z"}}, "limit": 50}  # fmt: skip
    deadline = time.monotonic() + 60
    events: list[dict] = []
    while time.monotonic() < deadline and not events:
        events = httpx.post(f"{api}/events/filter", json=query, timeout=10).json()["events"]
        time.sleep(0.5)
    assert len(events) == 1
    (event,) = events
    assert event["event"] == "datavask.registry.distressed"
    assert event["resource"]["prefect.resource.id"] == f"dk.cvr.{planted.cvrs['recovered']}"
    assert event["payload"]["after"] == "UNDER REKONSTRUKTION"


@pytest.mark.prefect
def test_a_wrong_parameter_is_refused_before_the_run(prefect_harness: None, tmp_path: Path) -> None:
    from datavask.flows.monitor import monitor_flow

    with pytest.raises(Exception, match="notify"):
        monitor_flow(
            {"input": "x.csv", "registry": "r.jsonl", "state": str(tmp_path),
             "notify": ["ftp://nowhere"]}  # type: ignore[arg-type]
        )  # fmt: skip
    assert not any(tmp_path.iterdir())
