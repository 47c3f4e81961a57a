"""The ``datavask`` command line (contract: ``docs/contract.md``).

Exit status: 0 when a run finished (whatever it flagged), 2 for unusable input or options, 1 for an
internal failure. Bad input never shows a traceback; internal failures write theirs to
``$DATAVASK_HOME/logs/last-error.log`` and say so.
"""

from __future__ import annotations

import os
import sys
import traceback
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from datavask.flows.orchestration import datavask_home, quiet_prefect_console

quiet_prefect_console()  # before anything imports prefect

app = typer.Typer(
    name="datavask",
    help="Cleanse Danish customer master data: normalise, deduplicate, check against the CVR "
    "registry, and flag every record that is unfit for invoicing or collection.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, highlight=False)


def _version(value: bool) -> None:
    if value:
        from datavask import __version__

        typer.echo(f"datavask {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Cleanse Danish customer master data."""


STEP_LABELS = {
    "read": "Reading input",
    "normalise": "Normalising names, addresses, phones, e-mails, ids",
    "registry": "Checking the CVR registry",
    "match": "Finding duplicates",
    "verdict": "Deciding flags, golden records, changes",
    "write": "Writing outputs and report",
}


class OutputFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"
    xlsx = "xlsx"


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    return typer.Exit(code)


def _internal_failure(exc: BaseException) -> typer.Exit:
    log_dir = datavask_home() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "last-error.log"
    log.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    console.print(
        f"[bold red]internal error:[/] {type(exc).__name__}: {exc}\n"
        f"The details are in {log}; please send them with a bug report.",
        soft_wrap=True,
    )
    return typer.Exit(1)


def parse_review_band(text: str) -> tuple[float, float]:
    try:
        low, high = (float(part) for part in text.split(":"))
    except ValueError:
        raise _fail(f"--review-band must be LOW:HIGH, e.g. 0.8:0.996 (got {text!r})") from None
    if not 0.0 <= low < high <= 1.0:
        raise _fail(f"--review-band needs 0 ≤ LOW < HIGH ≤ 1 (got {text!r})")
    return low, high


@app.command()
def cleanse(
    input: Annotated[
        str,
        typer.Argument(
            help="CSV/TSV, .xlsx, Parquet or JSON-lines export, or a connector URL "
            "(postgresql://…?table=customers, economic://customers)."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="Output directory (default ./datavask-out/<timestamp>)."),
    ] = None,
    registry: Annotated[
        str,
        typer.Option(
            help="JSON-lines snapshot of ERST documents, an https://…/cvr-permanent URL, "
            "cvrapi://, or none. Default: $DATAVASK_REGISTRY, else the bundled sample snapshot."
        ),
    ] = "bundled",
    blacklist: Annotated[
        Path | None, typer.Option(help="CSV with cvr, phone, email, name, address, reason.")
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help='TOML with a [columns] table: field = "Input column".')
    ] = None,
    format: Annotated[
        OutputFormat, typer.Option(help="Also write records/golden in this format.")
    ] = OutputFormat.parquet,
    review_band: Annotated[
        str, typer.Option(help="Match probabilities LOW:HIGH that go to manual review.")
    ] = "0.8:0.996",
    workers: Annotated[int, typer.Option(help="CPU threads to use (0 = all).", min=0)] = 0,
    only_changed: Annotated[
        bool, typer.Option(help="reimport/customers_update.csv holds only changed rows.")
    ] = False,
    check_deliverability: Annotated[
        bool, typer.Option(help="Look up e-mail domains in DNS (needs network; off by default).")
    ] = False,
    monitor_state: Annotated[
        Path | None,
        typer.Option(help="A datavask monitor --state: its registry flags and recent alerts."),
    ] = None,
) -> None:
    """Cleanse a customer export and write the results, the report and run.json.

    Every input row comes out exactly once, with its original values beside the cleaned ones.
    """
    if workers:
        os.environ["POLARS_MAX_THREADS"] = str(workers)
        os.environ["DATAVASK_WORKERS"] = str(workers)
    band = parse_review_band(review_band)
    if blacklist is not None and not blacklist.exists():
        raise _fail(f"--blacklist {blacklist}: no such file")
    if mapping is not None and not mapping.exists():
        raise _fail(f"--mapping {mapping}: no such file")
    if "://" not in input and not Path(input).exists():
        raise _fail(f"{input}: no such file")
    out = out or Path("datavask-out") / datetime.now().strftime("%Y%m%d-%H%M%S")

    from datavask.connectors.errors import ConnectorError, InputError
    from datavask.connectors.output import check_out_dir

    try:
        check_out_dir(out)
        run = _run(
            input=input, out=str(out), registry=registry,
            blacklist=str(blacklist) if blacklist else None,
            mapping=str(mapping) if mapping else None, format=format.value,
            review_band=band, workers=workers, only_changed=only_changed,
            check_deliverability=check_deliverability,
            monitor_state=str(monitor_state) if monitor_state else None,
        )  # fmt: skip
    except InputError as exc:
        raise _fail(str(exc)) from None
    except ConnectorError as exc:
        raise _fail(str(exc), code=1) from None
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise _internal_failure(exc) from None
    _print_summary(run)


def _keep_password_out_of_parameters(options: dict[str, Any]) -> None:
    """Move a database password from the input URL into the environment.

    Flow parameters are stored by the Prefect server; the connector finds the password in
    ``DATAVASK_PG_PASSWORD`` when the URL has none.
    """
    from urllib.parse import parse_qs, urlsplit

    from datavask.connectors.sources import redact_url

    url = options["input"]
    if "://" not in url:
        return
    parts = urlsplit(url, allow_fragments=False)
    password = parts.password or (parse_qs(parts.query).get("password") or [None])[0]
    if password:
        os.environ["DATAVASK_PG_PASSWORD"] = password
        options["input"] = redact_url(url)


def _run(**options: Any) -> dict[str, Any]:
    from datavask.flows.cleanse import CleanseOptions, run_pipeline, set_reporter
    from datavask.flows.orchestration import resolve

    _keep_password_out_of_parameters(options)

    with console.status("Preparing …") as status:
        orchestration = resolve(status.update)

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    tasks = {s: progress.add_task(label, total=1, start=False) for s, label in STEP_LABELS.items()}

    def report(step: str, event: str, seconds: float | None) -> None:
        if event == "start":
            progress.start_task(tasks[step])
        else:
            progress.update(
                tasks[step], completed=1, description=f"{STEP_LABELS[step]} ({seconds:.1f} s)"
            )

    set_reporter(report)
    try:
        with progress:
            if not orchestration.uses_prefect:
                run = run_pipeline(
                    CleanseOptions(**options),
                    orchestrated=False,
                    orchestration_note=orchestration.note,
                    reporter=report,
                )
            elif orchestration.api_url:  # configured, serve's or the local server
                from prefect.settings import PREFECT_API_URL, temporary_settings

                with temporary_settings(updates={PREFECT_API_URL: orchestration.api_url}):
                    run = _run_flow(options, orchestration.note)
            else:
                run = _run_flow(options, orchestration.note)
    finally:
        set_reporter(None)
    run["orchestration_kind"] = orchestration.kind
    run["prefect_ui"] = (orchestration.api_url or "").removesuffix("/api") or None
    return run


def _run_flow(options: dict[str, Any], note: str) -> dict[str, Any]:
    from datavask.flows.cleanse_flow import cleanse_flow
    from datavask.flows.params import CleanseParams

    params = CleanseParams(**options).model_dump()
    state = cleanse_flow(**params, orchestration_note=note, return_state=True)
    run: dict[str, Any] = state.result()  # re-raises the step's own exception on failure
    run["flow_run_id"] = str(state.state_details.flow_run_id)
    return run


def _print_summary(run: dict[str, Any]) -> None:
    counts, flags = run["counts"], run["flags"]
    records = counts["records"] or 1
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_column()
    input_info = run["input"]
    how = input_info["format"]
    if input_info.get("encoding"):
        how += f", {input_info['encoding']}, '{input_info['delimiter']}'"
    table.add_row("Input", "", f"{input_info['path']} ({how})")
    table.add_row("Records", f"{counts['records']:,}", "")
    table.add_row("Customers", f"{counts['customers']:,}", "after merging duplicates")
    table.add_row(
        "Duplicates",
        f"{counts['duplicate_records']:,}",
        f"records in {counts['clusters_with_duplicates']:,} customers with more than one record",
    )
    for key, label in (
        ("invoice_ready", "Invoice-ready"),
        ("collection_ready", "Collection-ready"),
    ):
        table.add_row(label, f"{counts[key] / records:.1%}", f"{counts[key]:,} records")
    registry = run["steps"]["registry"]
    if registry.get("skipped"):
        table.add_row("Registry", "skipped", "--registry none: no CVR checks were made")
    else:
        table.add_row(
            "Registry",
            f"{counts['registry_checked']:,}",
            f"CVR numbers checked, {counts['registry_not_found']:,} not found, "
            f"{counts['registry_unchecked']:,} could not be checked",
        )
    if counts.get("rows_with_input_problems"):
        table.add_row("Input problems", f"{counts['rows_with_input_problems']:,}",
                      "rows with too many/few fields (kept; see source_problem)")  # fmt: skip
    top = sorted(((n, c) for c, n in flags.items() if n), reverse=True)[:8]
    if top:
        table.add_row("Top flags", "", ", ".join(f"{code} {n:,}" for n, code in top))
    seconds = sum(v for k, v in run["timings"].items() if k != "total_before_write")
    table.add_row("Time", f"{seconds:.1f} s", run.get("orchestration", ""))
    if run.get("flow_run_id") and run.get("prefect_ui"):
        table.add_row("Prefect run", "", f"{run['prefect_ui']}/runs/flow-run/{run['flow_run_id']}")
    out = Path(run["options"]["out"])
    table.add_row("Outputs", "", f"{out}/  (report: {out / 'report.html'})")
    console.print()
    console.print(table)


@app.command()
def report(run_dir: Annotated[Path, typer.Argument(help="A run's output directory.")]) -> None:
    """Re-render report.html of an earlier run from its run.json and records.parquet."""
    from datavask.connectors.errors import InputError
    from datavask.connectors.report import render_report

    if not (run_dir / "run.json").exists():
        raise _fail(f"{run_dir} is not a datavask run directory (no run.json)")
    try:
        path = render_report(run_dir)
    except InputError as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:
        raise _internal_failure(exc) from None
    console.print(f"report written to {path}")


local_server = typer.Typer(help="datavask's own local Prefect server (started by serve).")
app.add_typer(local_server, name="local-server")


@local_server.command("status")
def local_server_status() -> None:
    """Say whether the local Prefect server is running, and where."""
    from datavask.flows.orchestration import running_server

    state = running_server()
    if state:
        console.print(f"running (pid {state['pid']}): {str(state['api_url']).removesuffix('/api')}")
    else:
        console.print("not running")


@local_server.command("start")
def local_server_start() -> None:
    """Start the local Prefect server (scheduler and events on); one-off runs then report to it."""
    from datavask.flows.orchestration import LocalServerError, ensure_local_server

    try:
        with console.status("Starting …") as status:
            url = ensure_local_server(status.update)
    except LocalServerError as exc:
        raise _fail(f"the local Prefect server did not start: {exc}", code=1) from None
    console.print(f"running: {url.removesuffix('/api')}")


@local_server.command("stop")
def local_server_stop() -> None:
    """Stop the local Prefect server; the next run starts it again."""
    from datavask.flows.orchestration import stop_local_server

    console.print("stopped" if stop_local_server() else "was not running")


def _mount_registry() -> None:
    from datavask.flows.registry_cli import registry_app

    app.add_typer(registry_app, name="registry", help="Copy and inspect the CVR registry.")


_mount_registry()


def _mount_monitor() -> None:
    from datavask.flows.monitor_cli import monitor

    app.command("monitor")(monitor)


_mount_monitor()


def _mount_serve() -> None:
    from datavask.flows.serve_cli import run_command, serve_command

    app.command("serve")(serve_command)
    app.command("run")(run_command)


_mount_serve()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        console.print("interrupted; no output was written")
        sys.exit(130)
