"""The project's own errors for everything that crosses the process boundary.

Lower-level failures (OSError, httpx errors, parser errors) are turned into these at one boundary
per connector, so the command line can tell bad input (exit 2) from an internal failure (exit 1)
without ever showing a traceback for the former. Registry-specific subclasses live in
``connectors.cvr`` and derive from :class:`ConnectorError`; add shared ones here.
"""

from __future__ import annotations

from collections.abc import Iterable


class ConnectorError(Exception):
    """Something outside the process failed or answered in a way we cannot use.

    The message is CPR-masked when the error is made (it often quotes a file name, a header or
    a cell), so neither the console nor Prefect's log table ever shows a CPR number.
    """

    def __init__(self, *args: object) -> None:
        from datavask.cleansing.cpr import mask_message

        super().__init__(*(mask_message(a) if isinstance(a, str) else a for a in args))


class InputError(ConnectorError):
    """The user's input or options cannot be used; the message is one line saying what to do."""


def listed(items: Iterable[object], *, limit: int = 10, width: int = 40) -> str:
    """``items`` quoted for a one-line message, the first ``limit`` of them, each cut at
    ``width`` characters: a file's 2,000 blank headers made a 29 KB "one line" naming every
    ``column_N``.

    >>> listed(["Navn", "Postnr"])
    "'Navn', 'Postnr'"
    >>> listed([f"column_{i}" for i in range(1, 2001)], limit=3)
    "'column_1', 'column_2', 'column_3' and 1997 more"
    >>> listed(["x" * 50], width=5)
    "'xxxx…'"
    """
    values = [str(item) for item in items]
    shown = [v if len(v) <= width else v[: width - 1] + "…" for v in values[:limit]]
    more = f" and {len(values) - limit} more" if len(values) > limit else ""
    return ", ".join(map(repr, shown)) + more
