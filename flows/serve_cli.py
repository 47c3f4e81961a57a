"""``datavask serve`` and ``datavask run`` on the command line (the work is in ``serve.py``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

console = Console(stderr=True, highlight=False, markup=False)  # paths may hold "["


def _fail(message: str, code: int) -> typer.Exit:
    console.print(Text.assemble(("error:", "bold red"), f" {message}"), soft_wrap=True)
    return typer.Exit(code)


def serve_command(
    config: Annotated[
        Path, typer.Option("--config", help="The jobs to schedule ([[cleanse]], [[monitor]]).")
    ] = Path("datavask.toml"),
    check: Annotated[
        bool, typer.Option("--check", help="Only check the file and say what would be served.")
    ] = False,
) -> None:
    """Serve the jobs of datavask.toml as Prefect deployments with their schedules.

    Runs until stopped (Ctrl-C or SIGTERM), which pauses the schedules; serving again resumes them.
    """
    from datavask.flows.serve import ServeError, serve_api, serve_jobs
    from datavask.flows.serve_config import CleanseJob, ConfigError, load_config

    try:
        jobs = load_config(config)
    except ConfigError as exc:
        lines = "\n".join(f"  - {problem}" for problem in exc.problems)
        console.print(
            Text.assemble(("error:", "bold red"), f" {exc.path} cannot be used:\n{lines}"),
            soft_wrap=True,
        )
        raise typer.Exit(2) from None
    for job in jobs.jobs():
        kind = "cleanse" if isinstance(job, CleanseJob) else "monitor"
        state = "" if job.enabled else "  (disabled)"
        console.print(f"{kind:8} {job.name:24} {job.cron:14} {job.timezone}  → {job.out}{state}")
    if check:
        console.print(f"{config}: OK")
        return
    try:
        with console.status("Connecting to Prefect …") as status:
            api_url = serve_api(status.update)
    except ServeError as exc:
        raise _fail(str(exc), exc.code) from None

    def gone() -> None:
        from datavask.flows.orchestration import clear_serve_record

        console.print(
            f"error: the Prefect server at {api_url} stopped answering; datavask serve is stopping",
            soft_wrap=True,
        )
        clear_serve_record()
        os._exit(1)  # the runner's own loop would retry for ever

    ui = api_url.removesuffix("/api")
    console.print(f"serving on {ui} — Ctrl-C or SIGTERM stops and pauses the schedules")
    try:
        serve_jobs(jobs, api_url, on_gone=gone)
    except ServeError as exc:
        raise _fail(str(exc), exc.code) from None
    except Exception as exc:
        from datavask.flows.cli import _internal_failure
        from datavask.flows.serve import server_answers

        if not server_answers(api_url):
            raise _fail(f"the Prefect server at {api_url} stopped answering", 1) from None
        raise _internal_failure(exc) from None
    console.print("stopped; the schedules are paused until datavask serve runs again")


def run_command(
    name: Annotated[str, typer.Argument(help="The job's name in datavask.toml.")],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="KEY=VALUE overriding the job's parameter (repeatable)."),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Give up waiting after this many seconds.", min=1)
    ] = None,
) -> None:
    """Run one served job now, with changed parameters if given, and wait for its outcome."""
    from datavask.flows.params import parse_param_pairs
    from datavask.flows.serve import ServeError, trigger

    try:
        overrides = parse_param_pairs(param or [])
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    try:
        with console.status(f"Running {name} …"):
            outcome = trigger(name, overrides, timeout)
    except ServeError as exc:
        raise _fail(str(exc), exc.code) from None
    ok = outcome.state == "Completed"
    colour = "green" if ok else "bold red"
    console.print(
        Text.assemble(
            f"{outcome.deployment}: ",
            (outcome.state, colour),
            f" in {outcome.seconds:.1f} s"
            + ("" if ok or not outcome.message else f" — {outcome.message}"),
        ),
        soft_wrap=True,
    )
    if outcome.out:
        console.print(f"output: {outcome.out}", soft_wrap=True)
    console.print(f"Prefect: {outcome.ui_url}", soft_wrap=True)
    if not ok:
        raise typer.Exit(1)
