"""The ``datavask`` command line (contract: ``docs/contract.md``).

Exit status: 0 when a run finished (whatever it flagged), 2 for unusable input, options or
settings, 1 for an internal failure, 130/143 when stopped by Ctrl-C/SIGTERM. Bad input never shows a
traceback; internal failures write theirs to ``$DATAVASK_HOME/logs/last-error.log`` and say so.

Nothing here imports polars before the options are parsed: ``--workers`` sets polars' thread pool
through ``POLARS_MAX_THREADS``, which polars reads once, when it is imported. Everything printed
goes through a console without markup, so ``[`` in a path is printed as it is.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
import traceback
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

import datavask
from datavask.connectors.report_text import Language
from datavask.flows import signals
from datavask.flows.orchestration import datavask_home, quiet_prefect_console
from datavask.settings import SettingsError, settings

if TYPE_CHECKING:
    from datavask.connectors.report_text import Text as Words

quiet_prefect_console()  # before anything imports prefect

app = typer.Typer(
    name="datavask",
    help="Cleanse Danish customer master data: normalise, deduplicate, check against the CVR "
    "registry, and flag every record that is unfit for invoicing or collection.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, highlight=False, markup=False)


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
    try:
        settings()  # validated once, before any command does work
    except SettingsError as exc:
        raise _fail(str(exc)) from None


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


class Engine(StrEnum):
    local = "local"
    dask = "dask"


def _masked(text: str) -> str:
    """``text`` with CPR numbers masked: error messages quote file names, headers and cells."""
    from datavask.cleansing.cpr import mask_message

    return mask_message(text)


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(Text.assemble(("error:", "bold red"), " ", _masked(message)), soft_wrap=True)
    return typer.Exit(code)


def _interrupted() -> typer.Exit:
    signals.announce(console.print)
    return typer.Exit(signals.exit_code())


def _internal_failure(exc: BaseException) -> typer.Exit:
    log_dir = datavask_home() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "last-error.log"
    log.write_text(_masked("".join(traceback.format_exception(exc))), encoding="utf-8")
    console.print(
        Text.assemble(
            ("internal error:", "bold red"),
            f" {type(exc).__name__}: {_masked(str(exc))}\n"
            f"The details are in {log}; please send them with a bug report.",
        ),
        soft_wrap=True,
    )
    return typer.Exit(1)


def parse_review_band(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        low, high = (float(part) for part in text.split(":"))
    except ValueError:
        raise _fail(f"--review-band must be LOW:HIGH, e.g. 0.5:0.95 (got {text!r})") from None
    if not 0.0 <= low < high <= 1.0:
        raise _fail(f"--review-band needs 0 ≤ LOW < HIGH ≤ 1 (got {text!r})")
    return low, high


@app.command()
def cleanse(
    input: Annotated[
        str,
        typer.Argument(
            help="CSV/TSV, .xlsx, Parquet or JSON-lines export (also .gz; '-' reads standard "
            "input), or a connector URL (postgresql://…?table=customers, economic://customers)."
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
        str | None,
        typer.Option(
            help="Match probabilities LOW:HIGH that go to manual review. Default: a band around "
            "0.5 derived per file from the model's uncertainty (run.json: steps.match.review_band)."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="CPU threads to use (0 = all). Default: $DATAVASK_WORKERS, else 0.", min=0
        ),
    ] = None,
    only_changed: Annotated[
        bool, typer.Option(help="reimport/customers_update.csv holds only changed rows.")
    ] = False,
    check_deliverability: Annotated[
        bool, typer.Option(help="Look up e-mail domains in DNS (needs network; off by default).")
    ] = False,
    decisions: Annotated[
        Path | None,
        typer.Option(
            help="Reviewers' decisions (datavask review): same pairs merge, different never."
        ),
    ] = None,
    sheet: Annotated[
        str | None,
        typer.Option(help="The sheet of an Excel workbook to read (default: the first)."),
    ] = None,
    lang: Annotated[
        Language, typer.Option(help="Language of report.html, worklist.xlsx and the summary.")
    ] = Language.da,
    monitor_state: Annotated[
        Path | None,
        typer.Option(help="A datavask monitor --state: its registry flags and recent alerts."),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(help="local, or dask: the same run on a Dask cluster, identical outputs."),
    ] = Engine.local,
    dask_address: Annotated[
        str | None,
        typer.Option(
            help="The Dask scheduler for --engine dask (tcp://host:8786). "
            "Default: a local cluster of --workers processes (2 when --workers is 0)."
        ),
    ] = None,
) -> None:
    """Cleanse a customer export and write the results, the report and run.json.

    Every input row comes out exactly once, with its original values beside the cleaned ones.
    """
    workers = settings().workers if workers is None else workers
    if workers:
        os.environ["POLARS_MAX_THREADS"] = str(workers)  # polars reads it when imported, below
    band = parse_review_band(review_band)
    if dask_address is not None and engine is not Engine.dask:
        raise _fail("--dask-address needs --engine dask")
    if dask_address is not None:
        from datavask.flows.engine_dask import address_problem

        if problem := address_problem(dask_address):  # before the input is read
            raise _fail(problem)
    if blacklist is not None and not blacklist.exists():
        raise _fail(f"--blacklist {blacklist}: no such file")
    if mapping is not None and not mapping.exists():
        raise _fail(f"--mapping {mapping}: no such file")
    if decisions is not None:
        from datavask.flows.review_cli import decisions_problem

        problem = decisions_problem(decisions)  # before the run, not an hour into it
        if problem:
            raise _fail(problem)
    out = out or Path("datavask-out") / datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        _preflight(input, out, mapping=mapping, blacklist=blacklist)
        run = _run(
            input=input, out=str(out), registry=registry,
            blacklist=str(blacklist) if blacklist else None,
            mapping=str(mapping) if mapping else None, format=format.value,
            review_band=band, workers=workers, only_changed=only_changed,
            check_deliverability=check_deliverability,
            decisions=str(decisions) if decisions else None,
            sheet=sheet,
            lang=lang.value,
            monitor_state=str(monitor_state) if monitor_state else None,
            engine=engine.value, dask_address=dask_address,
        )  # fmt: skip
    except typer.Exit:
        raise
    except BaseException as exc:
        raise _failure(exc) from None
    _print_summary(run, wall=time.time() - datavask.STARTED_AT)


def _failure(exc: BaseException) -> typer.Exit:
    """The exit for what stopped a run: a signal, bad input, an unreachable service, or a bug."""
    from datavask.connectors.errors import ConnectorError, InputError

    if signals.received() or isinstance(exc, KeyboardInterrupt):
        return _interrupted()  # whatever the interrupted step raised on its way out
    if isinstance(exc, InputError):
        return _fail(str(exc))
    if isinstance(exc, ConnectorError):
        return _fail(str(exc), code=1)
    if _disk_full(exc):
        import tempfile

        return _fail(
            "the disk is full (no space left on device); no output was written. The run's work "
            f"files go under {tempfile.gettempdir()} ($TMPDIR) and its output beside --out: free "
            "space there, or point TMPDIR at a larger disk, and run again.",
            code=1,
        )
    if isinstance(exc, Exception):
        return _internal_failure(exc)
    raise exc


def _disk_full(exc: BaseException) -> bool:
    """Whether a full disk stopped the run: an ``OSError`` with ``ENOSPC`` anywhere in the chain
    of exceptions, or a library's error that only quotes it (polars' Parquet writer raises a
    ``ComputeError`` whose text ends in "No space left on device (os error 28)")."""
    import errno

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno == errno.ENOSPC:
            return True
        if "No space left on device" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _preflight(input: str, out: Path, *, mapping: Path | None, blacklist: Path | None) -> None:
    """Check what can be checked in a second, before Prefect is touched or a server started.

    Also removes what killed runs left behind: work directories and half-written outputs whose
    process is gone (never those of a run still going).
    """
    from datavask.connectors.errors import InputError
    from datavask.connectors.files import sniff_format
    from datavask.connectors.mapping import load_mapping_file
    from datavask.connectors.output import check_out_dir, remove_stale_partials
    from datavask.connectors.scratch import remove_stale_work_dirs

    remove_stale_work_dirs()
    remove_stale_partials(out)
    if "://" not in input and input != "-":
        sniff_format(Path(input))
    if mapping is not None:
        load_mapping_file(mapping)
    if blacklist is not None:
        try:
            sniff_format(blacklist)
        except InputError as exc:
            raise InputError(f"--blacklist: {exc}") from None
    check_out_dir(out)


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
        # a live bar only on a terminal: in a log or a pipe it is drawn once at the end, so a run
        # stopped midway would not say where; there each step prints its line when it is done
        disable=not console.is_terminal,
    )
    tasks = {s: progress.add_task(label, total=1, start=False) for s, label in STEP_LABELS.items()}

    def report(step: str, event: str, seconds: float | None) -> None:
        if event == "start":
            if not progress.disable:
                progress.start_task(tasks[step])
            return
        done = f"{STEP_LABELS[step]} ({seconds:.1f} s)"
        if progress.disable:
            console.print(f"  {done}")
        else:
            progress.update(tasks[step], completed=1, description=done)

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


# The fields that name the customer: a file with none of them mapped is worth a warning.
NAME_FIELDS: Final = frozenset({"name", "name_2", "first_name", "last_name"})


def _print_summary(run: dict[str, Any], *, wall: float) -> None:
    """The run's headline in the report's language: the same numbers as report.html.

    ``wall`` is the whole wait, from the moment datavask began to load to now.
    """
    from datavask.connectors.report import summary_rows
    from datavask.connectors.report_model import cpr_columns_text, repeated_ids_text
    from datavask.connectors.report_text import Text

    lang = run.get("options", {}).get("lang", "da")
    text = Text(lang)
    counts, flags = run["counts"], run["flags"]
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_column()
    input_info = run["input"]
    how = input_info["format"]
    if input_info.get("encoding"):
        how += f", {input_info['encoding']}, '{input_info['delimiter']}'"
    table.add_row(text("sum_input"), "", (f"{input_info['path']} ({how})"))
    if not NAME_FIELDS & input_info["mapping"].keys():
        # Every record then lacks a name (MISSING_NAME) and duplicates are found without one.
        unread = ", ".join(repr(c) for c in input_info.get("unmapped", [])[:6]) or "—"
        table.add_row(text("sum_no_name"), "", text("sum_no_name_note", columns=unread))
    for label, value, note in summary_rows(run, lang):
        table.add_row((label[:1].upper() + label[1:]), value, (note))
    if counts.get("rows_with_input_problems"):
        table.add_row(text("sum_input_problems"), text.number(counts["rows_with_input_problems"]),
                      text("sum_input_problems_note",
                           n=text.number(counts["rows_with_input_problems"])))  # fmt: skip
    if counts.get("rows_with_repeated_id"):
        table.add_row(text("sum_repeated_ids"), text.number(counts["rows_with_repeated_id"]),
                      repeated_ids_text(run, text))  # fmt: skip
    if counts.get("rows_with_masked_id"):
        table.add_row(text("sum_masked_ids"), text.number(counts["rows_with_masked_id"]),
                      text("sum_masked_ids_note"))  # fmt: skip
    left_out = cpr_columns_text(run, text)
    if left_out:  # a whole column missing from the re-import is said where the run is read
        table.add_row(text("sum_cpr_columns"), "", left_out)
    top = sorted(((n, c) for c, n in flags.items() if n), reverse=True)[:8]
    if top:
        table.add_row(text("sum_top"), "", ", ".join(f"{code} {text.number(n)}" for n, code in top))
    _decisions_rows(table, run, text)
    steps = sum(v for k, v in run["timings"].items() if k != "total_before_write")
    orchestration = text.orchestration(run.get("orchestration", ""))  # English in run.json
    table.add_row(text("sum_time"), text("seconds", n=text.number(wall, 1)),
                  (f"{text('seconds', n=text.number(steps, 1))} "
                         f"{text('sum_in_steps')}; {orchestration}"))  # fmt: skip
    if run.get("flow_run_id") and run.get("prefect_ui"):
        table.add_row(text("sum_prefect"), "",
                      f"{run['prefect_ui']}/runs/flow-run/{run['flow_run_id']}")  # fmt: skip
    out = Path(run["options"]["out"])
    table.add_row(text("sum_outputs"), "",
                  (f"{out}/  ({text('sum_report')}: {out / 'report.html'})"))  # fmt: skip
    console.print()
    console.print(table)


def _decisions_rows(table: Table, run: dict[str, Any], text: Words) -> None:
    """What the reviewers' decisions did (``--decisions``) and what could not be obeyed, in the
    summary's language (``text``: its :class:`~datavask.connectors.report_text.Text`)."""
    done = run["steps"].get("match", {}).get("decisions")
    if not done:
        return
    table.add_row(
        text("sum_decisions"),
        text.number(done["obeyed"]),
        text(
            "sum_decisions_note",
            same=text.number(done["same"]),
            different=text.number(done["different"]),
            agreed=text.number(done["model_agreed"]),
            band=text.number(done["in_review_band"]),
        ),
    )
    if done.get("warning"):
        table.add_row("", "", text("sum_decisions_row_numbers"))
    problems = done["problems"]
    if problems:
        shown = "; ".join(
            f"{p['record_id_l']}/{p['record_id_r']}: {text.decision_problem(p)}"
            for p in problems[:3]
        )
        more = text("sum_not_obeyed_more", n=len(problems) - 3) if len(problems) > 3 else ""
        table.add_row(text("sum_not_obeyed"), text.number(len(problems)), shown + more)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run's output directory.")],
    lang: Annotated[
        Language, typer.Option(help="Language of report.html and worklist.xlsx.")
    ] = Language.da,
) -> None:
    """Re-render report.html and worklist.xlsx of an earlier run from its run directory.

    Either of the two edited since the run wrote it (a note typed into the worklist) is refused,
    exit 2, never overwritten."""
    from datavask.connectors.errors import InputError
    from datavask.connectors.output import check_run_dir, check_unedited, note_rewritten
    from datavask.connectors.report import render_report

    rendered = ("report.html", "worklist.xlsx")
    try:
        check_run_dir(run_dir)
        check_unedited(run_dir, rendered)
        try:
            path = render_report(run_dir, lang=lang.value)
        finally:
            # What stands there now is datavask's (checked above), so the run's record lists it,
            # even when the workbook failed after the page was replaced: a later --out accepts it.
            for name in rendered:
                if (run_dir / name).is_file():
                    note_rewritten(run_dir, run_dir / name)
    except InputError as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:
        raise _internal_failure(exc) from None
    console.print(f"report written to {path!s} (and worklist.xlsx beside it)")


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


def _mount_review() -> None:
    from datavask.flows.review_cli import review

    app.command(name="review")(review)


_mount_review()


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
    # serve stops on its own terms: SIGTERM/Ctrl-C pause its schedules before it exits (0).
    if "serve" not in sys.argv[1:2]:
        signals.install()  # replaces the start-up's Ctrl-C handler (datavask/__init__.py)
    elif signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        app()
    except SystemExit:
        if signals.received():
            signals.exit_now()  # typer says 130 for any interrupt; SIGTERM is 143
        raise
    except KeyboardInterrupt:
        signals.announce(console.print)
        signals.exit_now()
    finally:
        # The process is about to exit: collecting a large run's heap first would add seconds
        # (measured 5.7 s after the sample's summary on a loaded machine) to the user's wait.
        gc.freeze()
