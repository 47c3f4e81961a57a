"""``datavask review RUN_DIR``: decide a run's uncertain pairs in a local web page.

The page lists the pairs the run left for review (``pairs.parquet`` decision ``review``), most
consequential first, and appends every decision to the decisions file that
``datavask cleanse --decisions FILE`` then obeys. Default file: ``datavask-decisions.csv`` in the
folder that holds RUN_DIR, so the decisions outlive the run directory the next run replaces.
"""

from __future__ import annotations

import os
import sys
import webbrowser
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from datavask.connectors.report_text import Language
from datavask.flows import signals

console = Console(stderr=True, highlight=False, markup=False)  # paths may hold "["


def decisions_problem(path: Path) -> str | None:
    """Why ``cleanse --decisions PATH`` cannot use the file, or None."""
    from datavask.connectors.decisions import read_decisions
    from datavask.connectors.errors import InputError

    if not path.is_file():
        return f"--decisions {path}: no such file"
    try:
        read_decisions(path)
    except InputError as exc:
        return f"--decisions {exc}"
    return None


def stopped(saved: int, path: Path) -> str:
    """What stopping the review says: every decision was saved as it was made, so a stop loses
    none (the exit status is still 130/143, a stop's).

    >>> stopped(0, Path("d.csv")), stopped(1, Path("d.csv"))
    ('review stopped; no decisions made', 'review stopped; 1 decision saved in d.csv')
    """
    if not saved:
        return "review stopped; no decisions made"
    return f"review stopped; {saved} decision{'s' if saved != 1 else ''} saved in {path}"


def _has_display() -> bool:
    return sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


def review(
    run_dir: Annotated[Path, typer.Argument(help="A run's output directory.")],
    decisions: Annotated[
        Path | None,
        typer.Option(
            help="Decisions file to append to (default: datavask-decisions.csv beside RUN_DIR)."
        ),
    ] = None,
    port: Annotated[
        int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).", min=0, max=65535)
    ] = 8765,
    browser: Annotated[
        bool, typer.Option(help="Open the page in the browser (when there is a display).")
    ] = True,
    lang: Annotated[
        Language | None,
        typer.Option(
            help="Language of the page. Default: the run's own (run.json options.lang), else da."
        ),
    ] = None,
) -> None:
    """Decide the pairs a run left for review, in a local web page (same / different / skip)."""
    from datavask.connectors.decisions import default_decisions_path, reviewer_name
    from datavask.connectors.errors import InputError
    from datavask.connectors.review.server import ReviewSession, bind, serve

    path = decisions or default_decisions_path(run_dir)
    try:
        session = ReviewSession(run_dir, path, reviewer_name(), lang=lang.value if lang else None)
        sock = bind(port)
    except InputError as exc:
        console.print(Text.assemble(("error:", "bold red"), f" {exc}"), soft_wrap=True)
        raise typer.Exit(2) from None

    signals.on_stop(lambda: stopped(session.saved, path))

    def ready(url: str) -> None:
        typer.echo(f"Reviewing {len(session.queue)} pairs of {run_dir} at {url}")
        typer.echo(f"Decisions go to {path} (as {session.reviewer}). Ctrl-C stops.")
        sys.stdout.flush()
        if browser and _has_display():
            webbrowser.open(url)

    try:
        serve(session, sock, ready)
    except KeyboardInterrupt:  # uvicorn stops serving, then passes the signal on
        console.print(stopped(session.saved, path), soft_wrap=True)
        raise typer.Exit(signals.exit_code()) from None
