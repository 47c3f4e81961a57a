"""``datavask serve`` and ``datavask run``: the jobs of datavask.toml as Prefect deployments.

Each job becomes one deployment of its flow (``datavask-cleanse/NAME``, ``datavask-monitor/NAME``)
with a ``Cron`` schedule in the job's time zone and a concurrency limit of one (a slow night does
not overlap the next); ``prefect.serve`` runs them all in this process and pauses their schedules
when it stops (SIGTERM, Ctrl-C). Serving again updates the same deployments, so their schedules
resume without duplicates.

The Prefect server is the one ``PREFECT_API_URL`` names, or datavask's own local server (started
with its scheduler and event services). Serve records the server's address in
``$DATAVASK_HOME/serve.json`` so a one-off ``datavask cleanse`` reports there too, and watches the
server: when it stops answering, serve says so and exits instead of hanging.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from datavask.connectors.report_text import Text
from datavask.flows.orchestration import (
    clear_serve_record,
    configured_api_url,
    ensure_local_server,
    record_serve,
    running_server,
    serve_api_url,
)
from datavask.flows.serve_config import CleanseJob, Job, MonitorJob, ServeConfig
from datavask.settings import settings

FLOW_NAMES = {"cleanse": "datavask-cleanse", "monitor": "datavask-monitor"}
HEALTH_SECONDS = settings().serve_health_seconds
HEALTH_FAILURES = 3  # consecutive failed health checks before serve gives up


class ServeError(RuntimeError):
    """serve or run cannot go on; the message is the one line the user sees."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------- serve


def serve_api(on_status: Callable[[str], None]) -> str:
    """The API URL serve uses: the configured server, else datavask's local one (started now)."""
    from datavask.flows.orchestration import LocalServerError

    url = configured_api_url()
    if url is None:
        try:
            url = ensure_local_server(on_status)
        except LocalServerError as exc:
            raise ServeError(f"datavask's local Prefect server did not start: {exc}") from None
    if not server_answers(url):
        raise ServeError(f"the Prefect server at {url} does not answer")
    return url


def server_answers(api_url: str, timeout: float = 3.0) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def build_deployments(config: ServeConfig, api_url: str) -> list[Any]:
    """One Prefect deployment per enabled job (raises ServeError for a job that cannot be built)."""
    from prefect.schedules import Cron

    deployments = []
    for job in config.jobs():
        if not job.enabled:
            continue
        flow, parameters = _flow_and_parameters(job)
        if isinstance(job, CleanseJob):
            # English, as every run.json note (the report words it again: Text.orchestration)
            note = Text("en")("orchestration_serve_job", url=api_url)
            parameters["orchestration_note"] = note
        deployments.append(
            flow.to_deployment(
                name=job.name,
                schedules=[Cron(job.cron, timezone=job.timezone)],
                concurrency_limit=1,
                parameters=parameters,
                description=f"datavask {_kind(job)} job {job.name!r} from datavask.toml",
                tags=["datavask", _kind(job)],
                entrypoint_type=_module_path(),
            )
        )
    return deployments


def _kind(job: Job) -> str:
    return "cleanse" if isinstance(job, CleanseJob) else "monitor"


def _module_path() -> Any:
    # The runner loads the flow by module (datavask.flows.cleanse_flow:…), not by file path, so
    # it works from the installed wheel as well as from a checkout.
    from prefect.deployments.runner import EntrypointType

    return EntrypointType.MODULE_PATH


def _flow_and_parameters(job: Job) -> tuple[Any, dict[str, Any]]:
    if isinstance(job, CleanseJob):
        from datavask.flows.cleanse_flow import cleanse_flow

        return cleanse_flow, job.params().model_dump(mode="json")
    assert isinstance(job, MonitorJob)
    from pydantic import ValidationError

    from datavask.flows.monitor import MonitorParams
    from datavask.flows.monitor_job import monitor_job_flow
    from datavask.flows.params import validation_problems

    try:
        params = MonitorParams(**job.params())
    except ValidationError as exc:
        problems = "; ".join(validation_problems(exc))
        raise ServeError(f"monitor job {job.name!r}: {problems}", code=2) from None
    parameters = {"params": params.model_dump(mode="json"), "timezone": job.timezone}
    parameters |= {k: v for k in ("keep_runs", "keep_days") if (v := getattr(job, k)) is not None}
    return monitor_job_flow, parameters


def watch_server(api_url: str, on_gone: Callable[[], None]) -> threading.Thread:
    """Call ``on_gone`` once the server has failed HEALTH_FAILURES health checks in a row."""

    def watch() -> None:
        failures = 0
        while True:
            time.sleep(HEALTH_SECONDS)
            failures = 0 if server_answers(api_url) else failures + 1
            if failures >= HEALTH_FAILURES:
                on_gone()
                return

    thread = threading.Thread(target=watch, name="datavask-serve-watchdog", daemon=True)
    thread.start()
    return thread


def serve_jobs(config: ServeConfig, api_url: str, on_gone: Callable[[], None]) -> None:
    """Serve every enabled job until SIGTERM/Ctrl-C; the schedules are paused on the way out.

    This is ``prefect.serve`` in two halves, so that serve.json is written only once the
    deployments exist on the server.
    """
    os.environ["PREFECT_API_URL"] = api_url  # for this process and the flow runs it starts
    import asyncio

    from prefect.exceptions import TerminationSignal
    from prefect.runner import Runner

    deployments = build_deployments(config, api_url)
    if not deployments:
        raise ServeError("every job in the file is disabled (enabled = false)", code=2)
    runner = Runner(name="datavask-serve", pause_on_shutdown=True)
    for deployment in deployments:
        runner.add_deployment(deployment)
    record_serve(api_url)
    watch_server(api_url, on_gone)
    try:
        asyncio.run(runner.start())
    except (KeyboardInterrupt, TerminationSignal):
        pass  # the runner has paused the schedules
    finally:
        clear_serve_record()


# --------------------------------------------------------------------------- run


def client_api_url() -> str:
    """The server ``datavask run`` asks: configured, serve's, or the local one; never started."""
    url = configured_api_url() or serve_api_url()
    if url is None:
        state = running_server()
        url = str(state["api_url"]) if state else None
    if url is None:
        raise ServeError(
            "no Prefect server to ask: start `datavask serve` or set PREFECT_API_URL", code=2
        )
    if not server_answers(url):
        raise ServeError(f"the Prefect server at {url} does not answer")
    return url


@dataclass
class RunOutcome:
    deployment: str
    flow_run_id: str
    state: str
    message: str
    seconds: float
    out: str | None
    ui_url: str


def trigger(name: str, overrides: dict[str, Any], timeout: float | None) -> RunOutcome:
    """Start one run of the served job ``name`` with ``overrides`` and wait for its end."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import PrefectHTTPStatusError

    api_url = client_api_url()
    os.environ["PREFECT_API_URL"] = api_url
    with get_client(sync_client=True) as client:
        deployment, flow_name = _find_deployment(client, name)
        overrides = _nest_monitor_overrides(flow_name, overrides, dict(deployment.parameters))
        _check_parameters(flow_name, dict(deployment.parameters) | overrides)
        try:
            flow_run = client.create_flow_run_from_deployment(
                deployment.id, parameters=overrides, tags=["datavask-run"]
            )
        except PrefectHTTPStatusError as exc:
            raise ServeError(f"the Prefect server refused the run: {_detail(exc)}", 2) from None
        started = time.monotonic()
        while not (flow_run.state and flow_run.state.is_final()):
            if timeout is not None and time.monotonic() - started > timeout:
                raise ServeError(f"run {flow_run.name} did not finish within {timeout:.0f} s")
            time.sleep(1.0)
            flow_run = client.read_flow_run(flow_run.id)
        seconds = time.monotonic() - started
        return RunOutcome(
            deployment=f"{flow_name}/{name}",
            flow_run_id=str(flow_run.id),
            state=(flow_run.state.name or flow_run.state.type.value) if flow_run.state else "?",
            message=(flow_run.state.message or "") if flow_run.state else "",
            seconds=seconds,
            out=_output_dir(client, flow_run.id),
            ui_url=f"{api_url.removesuffix('/api')}/runs/flow-run/{flow_run.id}",
        )


def _find_deployment(client: Any, name: str) -> tuple[Any, str]:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    found = client.read_deployments(
        deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[name]))
    )
    ours = []
    for deployment in found:
        flow_name = client.read_flow(deployment.flow_id).name
        if flow_name in FLOW_NAMES.values():
            ours.append((deployment, flow_name))
    if not ours:
        raise ServeError(f"no served datavask job named {name!r} (see datavask.toml)", code=2)
    if len(ours) > 1:
        both = ", ".join(f"{f}/{d.name}" for d, f in ours)
        raise ServeError(f"{name!r} names more than one job ({both}); rename one", code=2)
    deployment, flow_name = ours[0]
    if deployment.paused or str(deployment.status).upper().endswith("NOT_READY"):
        raise ServeError(
            f"{flow_name}/{name} is not being served right now: start `datavask serve`", code=2
        )
    return deployment, flow_name


def _nest_monitor_overrides(
    flow_name: str, overrides: dict[str, Any], current: dict[str, Any]
) -> dict[str, Any]:
    """``--param notify=[…]`` for a monitor job means the monitor's own ``params.notify``."""
    if flow_name != FLOW_NAMES["monitor"]:
        return overrides
    from datavask.flows.monitor import MonitorParams

    inner = {k: v for k, v in overrides.items() if k in MonitorParams.model_fields}
    if not inner:
        return overrides
    outer = {k: v for k, v in overrides.items() if k not in inner}
    return outer | {"params": dict(current.get("params") or {}) | inner}


def _check_parameters(flow_name: str, parameters: dict[str, Any]) -> None:
    """Refuse a bad value here, with datavask's own words, before the server sees it."""
    from pydantic import ValidationError

    from datavask.flows.params import CleanseParams, validation_problems

    try:
        if flow_name == FLOW_NAMES["cleanse"]:
            fields = {k: v for k, v in parameters.items() if k != "orchestration_note"}
            CleanseParams.model_validate(fields)
        else:
            from datavask.flows.monitor import MonitorParams

            MonitorParams.model_validate(parameters.get("params") or {})
    except ValidationError as exc:
        raise ServeError("; ".join(validation_problems(exc)), code=2) from None


def _detail(exc: Any) -> str:
    try:
        detail = exc.response.json().get("detail", "")
    except (ValueError, AttributeError):
        detail = ""
    return str(detail or exc).splitlines()[0]


def _output_dir(client: Any, flow_run_id: Any) -> str | None:
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )

    from datavask.flows.cleanse_flow import OUTPUT_ARTIFACT

    artifacts = client.read_artifacts(
        artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]),
            key=ArtifactFilterKey(any_=[OUTPUT_ARTIFACT]),
        )
    )
    return str(artifacts[0].description or artifacts[0].data) if artifacts else None
