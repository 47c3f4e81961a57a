"""Reference tables shipped in ``data/reference/``, each a CSV behind ``#`` provenance lines.

They are read once per process and cached; they are part of the program, not user input, so
reading them here keeps the cleansing functions pure for their callers.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

import polars as pl

from datavask.settings import settings


def reference_dir() -> Path:
    """Where the reference tables live; ``DATAVASK_REFERENCE_DIR`` overrides (refreshed data)."""
    override = settings().reference_dir
    if override:
        return override
    return Path(str(files("datavask.data") / "reference"))


@cache
def load_reference(name: str) -> pl.DataFrame:
    """The table ``data/reference/<name>.csv``, every column as text.

    >>> load_reference("dk_postal_codes").filter(pl.col("postal_code") == "1069")["name"][0]
    'København K'
    """
    path = reference_dir() / f"{name}.csv"
    return pl.read_csv(path, comment_prefix="#", infer_schema=False, glob=False)


def provenance(name: str) -> list[str]:
    """The ``#`` header lines of a reference table: where it came from and when."""
    lines = []
    with (reference_dir() / f"{name}.csv").open(encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            lines.append(line[1:].strip())
    return lines
