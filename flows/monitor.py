"""The ``datavask monitor`` Prefect flow, which ``datavask serve`` schedules.

Its one parameter is :class:`MonitorParams` (a pydantic model), so the Prefect UI shows a form
and a wrong value is refused before the run starts. The steps live in
:mod:`datavask.flows.monitor_steps`, shared with the command line's run without Prefect.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from datavask.flows.monitor_steps import MonitorParams, run_monitor

__all__ = ["MonitorParams", "monitor_flow", "run_monitor"]


@flow(name="datavask-monitor", persist_result=False, log_prints=False)
def monitor_flow(params: MonitorParams) -> dict[str, Any]:
    """One monitor run (see :mod:`datavask.flows.monitor_steps`); alerts also become Prefect
    events (``datavask.registry.<type>`` on resource ``dk.cvr.<cvr>``)."""
    from datavask.flows import signals
    from datavask.flows.log_masking import failures_masked, install

    install()
    # no CPR number in a failed run's logs or state; no SIGTERM raised inside polars
    with failures_masked(), signals.polars_frames_deferred():
        return run_monitor(params, orchestrated=True)
