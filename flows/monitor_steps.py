"""The steps of ``datavask monitor``: customers → fresh registry facts → diff with the kept state →
alerts written → state advanced → alerts delivered.

The state directory (``--state``) holds:

- ``current.parquet`` — the facts as last seen, one row per CVR (``monitoring.STATE_SCHEMA``);
- ``snapshots/<UTC time>-<run id>.parquet`` — what the registry said on each run, never changed
  (the audit trail: "what did the registry say on 3 March?");
- ``alerts.parquet`` — every alert ever raised, for the audit trail and ``cleanse --monitor-state``;
- ``outbox.json`` — alerts not yet delivered to a target;
- ``.lock`` — held while a monitor runs: a second monitor on the same state stops at once.

The order is what makes a crash safe: the alerts are written (``--out``, the outbox, the alert
history) before the state advances, so a crash re-detects the same changes — with the same
``alert_id`` — instead of losing them; delivery comes last, from the outbox.

:func:`run_monitor` runs them; :func:`datavask.flows.monitor.monitor_flow` is the same run as a
Prefect flow (``datavask serve`` schedules it). This module does not import Prefect, so the
command line starts quickly when no Prefect server is configured.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

from datavask.connectors.errors import InputError

log = logging.getLogger(__name__)

CURRENT = "current.parquet"
HISTORY = "alerts.parquet"
OUTBOX = "outbox.json"
LOCK = ".lock"


class MonitorParams(BaseModel):
    """Everything a monitor run depends on; the Prefect UI shows it as a form."""

    model_config = ConfigDict(extra="forbid")

    input: str = Field(
        description="A cleanse run directory, any cleanse INPUT, or a connector URL."
    )
    registry: str = Field(description="Snapshot file, https://…/cvr-permanent URL, or cvrapi://.")
    state: str = Field(description="Directory holding what the registry said on earlier runs.")
    out: str | None = Field(
        default=None, description="Where alerts.csv/json, run.json and report.html go."
    )
    notify: list[str] = Field(
        default_factory=list,
        description="Slack/Teams/webhook URLs and mailto: addresses to send the alerts to.",
    )
    mapping: str | None = Field(default=None, description="Column mapping TOML for a file input.")
    timeout: float = Field(default=30.0, gt=0, description="Seconds per registry request.")
    concurrency: int = Field(default=4, ge=1, le=16, description="Registry requests at once.")

    @field_validator("notify")
    @classmethod
    def _targets(cls, values: list[str]) -> list[str]:
        from datavask.connectors.alerts import DeliveryConfigError, parse_target

        for value in values:
            try:
                parse_target(value)
            except DeliveryConfigError as exc:
                raise ValueError(str(exc)) from None  # pydantic reports ValueErrors
        return values

    def out_dir(self, started: datetime) -> Path:
        if self.out:
            return Path(self.out)
        return Path("datavask-out") / f"monitor-{started.astimezone():%Y%m%d-%H%M%S}"


class MonitorLockedError(InputError):
    """Another monitor is using the same state directory."""


@contextlib.contextmanager
def state_lock(state: Path) -> Iterator[None]:
    """Hold ``state/.lock`` for the block; a second holder is refused at once, not queued.

    The kernel releases the lock when the process ends, however it ends, so a crash never
    leaves a stale lock behind.
    """
    if state.exists() and not state.is_dir():
        raise InputError(f"--state {state} is a file, not a directory; give a directory")
    try:
        state.mkdir(parents=True, exist_ok=True)
        fd = os.open(state / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:  # --state /proc/x, a read-only disk, a file on the way
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"--state {state}: cannot create or write it ({reason})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise MonitorLockedError(
                f"another datavask monitor (pid {holder}) is using the state {state}; "
                "wait for it to finish"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- steps


def load_customers(source: str, *, mapping: str | None = None) -> pl.DataFrame:
    """``cvr``, ``record_ids`` (``|``-joined, input order), ``customer_name``: one row per
    valid CVR number of a run directory's records.parquet or of any cleanse input.

    A run's customer is its cluster: a duplicate typed without the CVR number (``Kvist
    Køleteknik ApS`` twice, one with ``56136797``) is that CVR number's record too, so whoever
    blocks the accounts an alert lists blocks both. The name is a record's that carries the
    number. An input file is not matched: its records are listed by their own CVR numbers."""
    path = Path(source)
    if path.is_dir() and (path / "records.parquet").is_file():
        file = path / "records.parquet"
        wanted = ("record_id", "name", "cvr", "cluster_id")
        columns = [c for c in wanted if c in pl.read_parquet_schema(file)]
        records = _with_cluster_cvr(pl.read_parquet(file, columns=columns, glob=False))
    elif path.is_dir():
        raise InputError(f"{source} is a directory but not a datavask run (no records.parquet)")
    else:
        from datavask.cleansing.normalise import normalise
        from datavask.connectors.files import read_input
        from datavask.flows.cleanse import mapping_override

        override, parts = mapping_override({"mapping": mapping})
        frame, _ = read_input(source, mapping=override, date_parts=parts)
        records = normalise(frame).select("record_id", "name", "cvr", _own_cvr=pl.lit(True))
    return (
        records.filter(pl.col("cvr").is_not_null())
        .group_by("cvr", maintain_order=True)
        .agg(
            pl.col("record_id").cast(pl.String).str.join("|").alias("record_ids"),
            pl.col("name").filter(pl.col("_own_cvr")).drop_nulls().first().alias("customer_name"),
        )
    )


def _with_cluster_cvr(records: pl.DataFrame) -> pl.DataFrame:
    """``record_id``, ``name``, ``cvr`` (:func:`~datavask.cleansing.monitoring.customer_cvr`: a
    record without one gets its cluster's) and ``_own_cvr`` (the record carries it itself)."""
    from datavask.cleansing.monitoring import customer_cvr

    return records.select(
        "record_id",
        "name",
        customer_cvr(records.columns).alias("cvr"),
        _own_cvr=pl.col("cvr").is_not_null(),
    )


def lookup_facts(customers: pl.DataFrame, params: MonitorParams, **options: Any) -> pl.DataFrame:
    """The registry facts of every customer CVR, asked fresh."""
    from datavask.connectors.cvr import open_facts
    from datavask.flows.orchestration import datavask_home

    with open_facts(
        params.registry,
        cache_dir=datavask_home() / "cache",
        timeout=params.timeout,
        concurrency=params.concurrency,
        **options,
    ) as source:
        return source.lookup(customers["cvr"].to_list())


def read_state(state: Path) -> pl.DataFrame | None:
    path = state / CURRENT
    if not path.is_file():
        return None
    try:
        return pl.read_parquet(path, glob=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"the monitoring state {path} cannot be read: {exc}") from None


def read_monitor_state(state: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(current facts, alert history)`` of a monitoring state directory, for ``cleanse``."""
    from datavask.cleansing.monitoring import empty_alerts

    current = read_state(state)
    if current is None:
        raise InputError(f"--monitor-state {state}: no monitoring state there (run monitor first)")
    history = state / HISTORY
    return current, pl.read_parquet(history, glob=False) if history.is_file() else empty_alerts()


def _write_atomically(frame: pl.DataFrame, path: Path) -> None:
    """The state's files, on disk (fsync) before they replace the old ones."""
    from datavask.connectors.output import replace_atomically

    def write(temporary: Path) -> None:
        frame.write_parquet(temporary)
        with temporary.open("rb") as fh:
            os.fsync(fh.fileno())

    replace_atomically(path, write)


def _not_raised_before(alerts: pl.DataFrame, state: Path) -> pl.DataFrame:
    """``alerts`` but those the state's alert history already holds (the same ``alert_id``: the
    same change). A state whose current facts were lost (``current.parquet`` deleted, the history
    kept) ran as a first run and raised its customers' bankruptcies again."""
    history = state / HISTORY
    if not alerts.height or not history.is_file():
        return alerts
    try:
        raised = pl.read_parquet(history, columns=["alert_id"], glob=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"the monitoring state {history} cannot be read: {exc}") from None
    return alerts.join(raised, on="alert_id", how="anti", maintain_order="left")


def advance_state(
    state: Path, *, observed: pl.DataFrame, next_state: pl.DataFrame, alerts: pl.DataFrame,
    stamp: str, run_id: str,
) -> Path:  # fmt: skip
    """Record this run: the alert history, an immutable snapshot, then the current facts."""
    history = state / HISTORY
    if alerts.height:
        earlier = pl.read_parquet(history, glob=False) if history.is_file() else alerts.clear()
        merged = pl.concat([earlier, alerts]).unique("alert_id", keep="first", maintain_order=True)
        _write_atomically(merged, history)
    snapshots = state / "snapshots"
    snapshots.mkdir(exist_ok=True)
    snapshot = snapshots / f"{stamp}-{run_id[:8]}.parquet"
    _write_atomically(observed.with_columns(pl.lit(stamp).alias("checked_at")), snapshot)
    _write_atomically(next_state, state / CURRENT)
    return snapshot


def emit_alert_events(alerts: pl.DataFrame) -> int:
    """One Prefect event per alert (``datavask.registry.<type>`` on resource ``dk.cvr.<cvr>``),
    for users' own Automations. Only inside a Prefect flow run."""
    from prefect.context import FlowRunContext
    from prefect.events import emit_event

    if FlowRunContext.get() is None:
        return 0
    emitted = 0
    for alert in alerts.to_dicts():
        event = emit_event(
            event=f"datavask.registry.{alert['alert'].lower()}",
            resource={
                "prefect.resource.id": f"dk.cvr.{alert['cvr']}",
                "prefect.resource.name": alert["name"] or alert["cvr"],
                "dk.cvr.number": alert["cvr"],
            },
            payload={k: alert[k] for k in alert if k != "cvr"},
            id=uuid.UUID(hex=(alert["alert_id"] + "0" * 32)[:32]),
        )
        emitted += event is not None
    return emitted


# --------------------------------------------------------------------------- the run


def run_monitor(
    params: MonitorParams,
    *,
    orchestrated: bool = False,
    registry_options: dict[str, Any] | None = None,
    delivery_options: dict[str, Any] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """Run every step; returns run.json's content. ``registry_options`` and ``delivery_options``
    reach the registry client and the sender (transports, retries: for tests)."""
    from datavask.cleansing.monitoring import compare
    from datavask.connectors.alerts import (
        Outbox,
        Sender,
        check_targets,
        deliver,
        parse_target,
    )
    from datavask.connectors.sources import redact_url
    from datavask.settings import settings as current_settings

    started = clock()
    settings = current_settings()
    targets = [parse_target(t) for t in params.notify]
    check_targets(targets, settings)
    state = Path(params.state)
    out = params.out_dir(started)
    from datavask.connectors.output import check_out_dir

    check_out_dir(out)
    run_id = uuid.uuid4().hex
    # To the microsecond: snapshots sort by name in the order they were taken, even two a second.
    stamp = started.strftime("%Y%m%dT%H%M%S.%fZ")
    run: dict[str, Any] = {
        "command": "monitor",
        "run_id": run_id,
        "started_at": started.isoformat(timespec="seconds"),
        # a webhook URL carries its key: run.json names the target as the summary does
        "options": params.model_dump()
        | {"input": redact_url(params.input), "notify": [t.safe for t in targets]},
        "out": str(out),
        "timings": {},
    }
    with state_lock(state):
        timer = _Timer(run["timings"])
        with timer("read"):
            customers = load_customers(params.input, mapping=params.mapping)
        with timer("registry"):
            observed = lookup_facts(customers, params, **(registry_options or {}))
        with timer("compare"):
            previous = read_state(state)
            alerts, next_state = compare(
                observed, previous, customers, detected_at=run["started_at"]
            )
            alerts = _not_raised_before(alerts, state)
        run["first_run"] = previous is None
        run["counts"] = _counts(customers, observed, alerts)
        with timer("write"):
            _write_out(out, alerts, run)
            outbox = Outbox(state / OUTBOX)
            outbox.add(targets, alerts.to_dicts())
            held = outbox.readdress(targets)
            outbox.save()
            run["snapshot"] = str(advance_state(
                state, observed=observed, next_state=next_state, alerts=alerts, stamp=stamp,
                run_id=run_id,
            ))  # fmt: skip
        with timer("deliver"):
            run["events"] = emit_alert_events(alerts) if orchestrated else 0
            run["delivery"] = {"delivered": 0, "pending": outbox.count(), "failures": []}
            if outbox.count() and targets:
                with Sender(settings, **(delivery_options or {})) as sender:
                    run["delivery"] = deliver(outbox, sender, targets)
            if held:  # no --notify this run: kept for the next run that names a destination
                run["delivery"]["held"] = held
    run["finished_at"] = clock().isoformat(timespec="seconds")
    _rewrite_run_json(out, run)
    return run


class _Timer:
    def __init__(self, timings: dict[str, float]) -> None:
        self._timings = timings

    @contextlib.contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        begun = time.perf_counter()
        yield
        self._timings[step] = round(time.perf_counter() - begun, 3)


def _counts(
    customers: pl.DataFrame, observed: pl.DataFrame, alerts: pl.DataFrame
) -> dict[str, Any]:
    by_type = alerts.group_by("alert").len().sort("alert").rows()
    return {
        "customers": customers.height,
        "checked": int((~observed["lookup_failed"]).sum()),
        "unchecked": int(observed["lookup_failed"].sum()),
        "not_found": int((~observed["found"] & ~observed["lookup_failed"]).sum()),
        "alerts": alerts.height,
        "alerts_by_type": dict(by_type),
    }


def _write_out(out: Path, alerts: pl.DataFrame, run: dict[str, Any]) -> None:
    from datavask.connectors.alert_report import render_alert_report
    from datavask.connectors.alerts import write_alert_files
    from datavask.connectors.output import atomic_dir, write_json

    with atomic_dir(out) as tmp:
        write_alert_files(alerts, tmp)
        write_json(run, tmp / "run.json")
        render_alert_report(alerts, run, tmp / "report.html")


def _rewrite_run_json(out: Path, run: dict[str, Any]) -> None:
    """run.json again with the delivery results, replaced in one rename, and recorded as
    datavask's again: with the first run.json on record, a daily job writing to one ``--out``
    (``--out /srv/datavask/alerts/today``) was refused from its second day as holding a file
    datavask had not written, and no alert of that day was found or sent."""
    from datavask.connectors.output import mark_run_dir, replace_atomically, write_json

    # write_json as the first run.json: a CPR number that reached the run's record is masked
    replace_atomically(out / "run.json", lambda temporary: write_json(run, temporary))
    mark_run_dir(out)
