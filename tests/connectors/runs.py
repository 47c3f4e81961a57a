"""A customer file written and cleansed in-process, for the report's and worklist's tests."""

from __future__ import annotations

from pathlib import Path

from datavask.flows.cleanse import CleanseOptions, run_pipeline


def cleansed_text(directory: Path, text: str) -> Path:
    """``text`` written as ``directory/kunder.csv`` and cleansed without a registry into
    ``directory/run``; the run directory."""
    source = directory / "kunder.csv"
    source.write_text(text, encoding="utf-8")
    run = directory / "run"
    run_pipeline(CleanseOptions(input=str(source), out=str(run), registry="none"),
                 orchestrated=False)  # fmt: skip
    return run
