"""Corpora of valid and invalid field values, one per line; ``#`` lines are comments.

Lines are kept exactly as written (leading and trailing spaces are part of the test value).
"""

from __future__ import annotations

from pathlib import Path

CORPORA = Path(__file__).resolve().parent


def read_corpus(name: str) -> list[str]:
    """The values in ``tests/cleansing/corpora/<name>.txt``."""
    text = (CORPORA / f"{name}.txt").read_text(encoding="utf-8")
    return [line for line in text.split("\n") if line and not line.startswith("#")]
