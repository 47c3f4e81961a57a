"""A served ``[[monitor]]`` job: ``datavask monitor`` into a dated run directory, then ``latest``.

The flow is registered under the monitor's own flow name (``datavask-monitor``), so a served job is
``datavask-monitor/NAME`` beside the monitor's manual runs in the Prefect UI. Its parameters are
the monitor's typed :class:`~datavask.flows.monitor.MonitorParams` plus the run-directory layout:
each run writes ``OUT/<local timestamp>/`` (alerts.csv/json, run.json, report.html), points
``OUT/latest`` at it and applies the job's retention.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from prefect import flow
from pydantic import Field

from datavask.flows.monitor import MonitorParams, run_monitor
from datavask.flows.params import DEFAULT_TIMEZONE


@flow(name="datavask-monitor", persist_result=False, log_prints=False)
def monitor_job_flow(
    params: MonitorParams,
    keep_runs: Annotated[int | None, Field(ge=1)] = None,
    keep_days: Annotated[int | None, Field(ge=1)] = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> dict[str, Any]:
    """One scheduled monitor run into ``params.out/<local timestamp>/``."""
    from prefect.artifacts import create_link_artifact

    from datavask.connectors.run_dirs import new_run_dir, point_latest, prune_runs
    from datavask.flows.cleanse_flow import OUTPUT_ARTIFACT
    from datavask.flows.log_masking import failures_masked, install

    install()
    with failures_masked():  # no CPR number in a failed run's logs or state
        if not params.out:
            raise ValueError("a served monitor job needs out")
        root = Path(params.out)
        out = new_run_dir(root, timezone)
        run = run_monitor(params.model_copy(update={"out": str(out)}), orchestrated=True)
        point_latest(root, out)
        pruned = prune_runs(root, keep_runs=keep_runs, keep_days=keep_days)
        run["pruned_runs"] = [p.name for p in pruned]
        where = out.resolve()
        create_link_artifact(
            link=where.as_uri(), link_text=str(where), key=OUTPUT_ARTIFACT, description=str(where)
        )
        return run
