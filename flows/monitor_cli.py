"""``datavask monitor``: what changed in the registry for our customers since the last run.

Mounted on the main command line by :mod:`datavask.flows.cli`. Runs the monitor flow under
Prefect when ``PREFECT_API_URL`` names a server (alerts then also become Prefect events), else
the same steps directly, so a person at a terminal waits for no server and no Prefect import.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from datavask.settings import settings

console = Console(stderr=True, highlight=False, markup=False)  # paths may hold "["


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(Text.assemble(("error:", "bold red"), f" {message}"), soft_wrap=True)
    return typer.Exit(code)


def monitor(
    input: Annotated[
        str,
        typer.Argument(
            metavar="INPUT_OR_RUN",
            help="A cleanse run directory (its records.parquet) or any cleanse INPUT.",
        ),
    ],
    registry: Annotated[
        str,
        typer.Option(
            help="JSON-lines snapshot of ERST documents, https://…/cvr-permanent, or cvrapi://."
        ),
    ],
    state: Annotated[
        Path, typer.Option(help="Directory with what the registry said on earlier runs.")
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            help="Where alerts.csv/json, run.json, report.html go "
            "(default ./datavask-out/monitor-<timestamp>)."
        ),
    ] = None,
    notify: Annotated[
        list[str] | None,
        typer.Option(help="Slack/Teams/webhook URL or mailto:address; repeat for more."),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help='TOML with a [columns] table: field = "Input column".')
    ] = None,
    timeout: Annotated[float, typer.Option(min=1.0, help="Seconds per registry request.")] = 30.0,
    concurrency: Annotated[
        int, typer.Option(min=1, max=16, help="Registry requests at once (online sources).")
    ] = 4,
) -> None:
    """Compare the registry with what it said last time and report the changes as alerts."""
    from pydantic import ValidationError

    from datavask.flows.monitor_steps import MonitorParams

    if "://" not in input and not Path(input).exists():
        raise _fail(f"{input}: no such file or run directory")
    if mapping is not None and not mapping.exists():
        raise _fail(f"--mapping {mapping}: no such file")
    try:
        params = MonitorParams(
            input=input, registry=registry, state=str(state), out=str(out) if out else None,
            notify=list(notify or []), mapping=str(mapping) if mapping else None, timeout=timeout,
            concurrency=concurrency,
        )  # fmt: skip
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _fail(str(first.get("ctx", {}).get("error") or first["msg"])) from None
    try:
        with console.status("Checking the registry …"):
            run = _run(params)
    except typer.Exit:
        raise
    except BaseException as exc:
        # as cleanse: a stop is one line and 130/143 whatever the stopped step raised on its way
        # out (Ctrl-C while the output was renamed into place was an internal error)
        from datavask.flows.cli import _failure

        raise _failure(exc) from None
    _summary(run)


def _run(params: Any) -> dict[str, Any]:
    from datavask.flows.monitor_steps import run_monitor

    wanted = settings().orchestration
    if wanted != "none" and os.environ.get("PREFECT_API_URL"):
        from datavask.flows.monitor import monitor_flow

        state = monitor_flow(params, return_state=True)
        result: dict[str, Any] = state.result()
        return result
    return run_monitor(params)


def _summary(run: dict[str, Any]) -> None:
    counts = run["counts"]
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(counts["alerts_by_type"].items()))
    first = " (first run: only customers already in distress alert)" if run["first_run"] else ""
    console.print(
        f"{counts['customers']:,} customers with a CVR number: {counts['checked']:,} checked, "
        f"{counts['unchecked']:,} could not be checked, {counts['not_found']:,} not found"
    )
    console.print(f"{counts['alerts']:,} alerts{first}" + (f": {kinds}" if kinds else ""))
    delivery = run.get("delivery") or {}
    if delivery.get("pending"):
        reasons = [*delivery["failures"]] + [
            f"{label}: no longer configured, kept until --notify names a destination"
            for label in delivery.get("held", [])
        ]
        console.print(
            f"{delivery['pending']:,} notifications not delivered yet; "
            "they are sent again on the next run: " + "; ".join(reasons),
            soft_wrap=True,
        )
    elif delivery.get("delivered"):
        console.print(f"{delivery['delivered']:,} notifications delivered")
    out = Path(run["out"])
    console.print(f"Outputs: {out}/  (alerts.csv, report.html)")
