"""``datavask registry …``: keep a local copy of the CVR registry.

``datavask registry sync --from URL --to FILE`` downloads the ERST ``cvr-permanent`` index with
the scroll API into a snapshot file that ``--registry FILE`` then reads offline. An interrupted
download continues where it stopped when the same command is run again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

registry_app = typer.Typer(no_args_is_help=True, add_completion=False)
console = Console(stderr=True, highlight=False, markup=False)  # paths may hold "["


@registry_app.callback()
def registry() -> None:
    """Copy and inspect the CVR registry."""


@registry_app.command("sync")
def sync(
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="ERST base URL, ending in /cvr-permanent (default: ERST's distribution server).",
            show_default=False,
        ),
    ] = None,
    dest: Annotated[
        Path,
        typer.Option("--to", help="Snapshot file to write (.jsonl, or .jsonl.gz to compress)."),
    ] = Path("registry.jsonl.gz"),
    full: Annotated[
        bool,
        typer.Option("--full", help="Keep whole documents, not only the fields datavask reads."),
    ] = False,
    page_size: Annotated[int, typer.Option(min=1, max=3000, help="Documents per page.")] = 1000,
    timeout: Annotated[float, typer.Option(min=1.0, help="Seconds to wait for each page.")] = 60.0,
) -> None:
    """Copy the CVR registry from the ERST API into a snapshot file (resumable)."""
    # Imported here: the command line parses its options before polars is imported.
    from datavask.connectors.cvr import ERST_URL, sync_snapshot
    from datavask.connectors.errors import ConnectorError, InputError

    columns = (
        TextColumn("[bold]CVR registry"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("sync", total=None)

        def advance(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        try:
            result = sync_snapshot(
                source or ERST_URL,
                dest,
                full=full,
                page_size=page_size,
                timeout=timeout,
                progress=advance,
            )
        except InputError as exc:
            progress.stop()
            console.print(Text.assemble(("error:", "bold red"), f" {exc}"), soft_wrap=True)
            raise typer.Exit(2) from None
        except ConnectorError as exc:
            progress.stop()
            console.print(
                Text.assemble(
                    ("the download stopped:", "bold red"),
                    f" {exc}\nWhat was downloaded is kept; run the same command again to continue.",
                ),
                soft_wrap=True,
            )
            raise typer.Exit(1) from None
    how = "resumed and finished" if result.resumed else "finished"
    console.print(
        f"{how}: {result.documents:,} documents in {result.seconds:,.0f} s → {result.path}"
    )
