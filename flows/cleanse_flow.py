"""The ``datavask-cleanse`` Prefect flow, with typed parameters.

The signature is the parameter schema Prefect shows as a form in its UI and enforces on the
server, so ``prefect deployment run datavask-cleanse/NAME --param format=docx`` is refused before a
run exists. The fields mirror :class:`datavask.flows.params.CleanseParams`, which adds the checks
across fields. A served job writes dated run directories (``dated_runs``), points ``latest`` at the
newest and applies its retention.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from prefect import flow
from pydantic import Field

from datavask.connectors.report_text import Text
from datavask.flows.cleanse import CleanseOptions, Reporter, _quiet_reporter, run_pipeline
from datavask.flows.params import (
    DEFAULT_TIMEZONE,
    CleanseParams,
    Engine,
    Language,
    OutputFormat,
)

OUTPUT_ARTIFACT = "datavask-output"  # the link to the run directory, read by `datavask run`


def run_cleanse(
    params: CleanseParams,
    *,
    orchestrated: bool,
    orchestration_note: str = "",
    reporter: Reporter = _quiet_reporter,
    dask_client: Any = None,
) -> dict[str, Any]:
    """One cleanse: into ``params.out`` itself, or a new dated directory under it."""
    from datavask.connectors.run_dirs import new_run_dir, point_latest, prune_runs

    root = Path(params.out)
    out = new_run_dir(root, params.timezone) if params.dated_runs else root
    options = CleanseOptions(**params.cleanse_options(str(out)))
    run = run_pipeline(
        options, orchestrated=orchestrated, orchestration_note=orchestration_note,
        reporter=reporter, dask_client=dask_client,
    )  # fmt: skip
    if params.dated_runs:
        point_latest(root, out)
        pruned = prune_runs(root, keep_runs=params.keep_runs, keep_days=params.keep_days)
        run["pruned_runs"] = [p.name for p in pruned]
    run["out"] = str(out)
    return run


@flow(name="datavask-cleanse", persist_result=False, log_prints=False)
def cleanse_flow(  # noqa: PLR0917 - one parameter per option, as Prefect's form shows them
    input: str,
    out: str,
    registry: str = "bundled",
    blacklist: str | None = None,
    mapping: str | None = None,
    format: OutputFormat = "parquet",
    review_band: tuple[float, float] | None = None,
    workers: Annotated[int, Field(ge=0)] = 0,
    only_changed: bool = False,
    check_deliverability: bool = False,
    decisions: str | None = None,
    sheet: str | None = None,
    lang: Language = "da",
    monitor_state: str | None = None,
    engine: Engine = "local",
    dask_address: str | None = None,
    dated_runs: bool = False,
    keep_runs: Annotated[int | None, Field(ge=1)] = None,
    keep_days: Annotated[int | None, Field(ge=1)] = None,
    timezone: str = DEFAULT_TIMEZONE,
    orchestration_note: str = "",
) -> dict[str, Any]:
    """Cleanse a customer export; the parameters are ``datavask cleanse``'s options."""
    from prefect.artifacts import create_link_artifact

    from datavask.flows import cleanse, signals
    from datavask.flows.log_masking import failures_masked, install

    install()  # no CPR number in Prefect's log table, whatever a step's error quotes
    # nor in the failed state's message, whatever the error quotes; and Prefect's SIGTERM
    # handler must not raise inside polars (it panics there)
    with failures_masked(), signals.polars_frames_deferred():
        params = CleanseParams(
            input=input, out=out, registry=registry, blacklist=blacklist, mapping=mapping,
            format=format, review_band=review_band, workers=workers, only_changed=only_changed,
            check_deliverability=check_deliverability, decisions=decisions, sheet=sheet, lang=lang,
            monitor_state=monitor_state, engine=engine, dask_address=dask_address,
            dated_runs=dated_runs, keep_runs=keep_runs, keep_days=keep_days, timezone=timezone,
        )  # fmt: skip
        with _task_runner(params) as runner:
            run = run_cleanse(
                params,
                orchestrated=True,
                orchestration_note=orchestration_note or Text("en")("orchestration_flow_run"),
                reporter=cleanse._reporter,
                dask_client=runner.client if runner is not None else None,
            )
        where = Path(run["out"]).resolve()
        create_link_artifact(
            link=where.as_uri(), link_text=str(where), key=OUTPUT_ARTIFACT,
            description=str(where),
        )  # fmt: skip
        return run


@contextlib.contextmanager
def _task_runner(params: CleanseParams) -> Iterator[Any]:
    """For ``engine = "dask"``: prefect-dask's ``DaskTaskRunner`` on the job's scheduler (or a
    temporary local cluster), held for the run; the engine's partitions go through its client.

    Not the flow's own ``task_runner=``: a served deployment loads this flow by its module path,
    so a runner set with ``with_options`` would not reach the run, and the scheduler's address
    is a parameter of the job, known only when the run starts.
    """
    if params.engine != "dask":
        yield None
        return
    from datavask.flows.engine_dask import dask_task_runner

    with dask_task_runner(params.dask_address, workers=params.workers) as runner:
        yield runner
