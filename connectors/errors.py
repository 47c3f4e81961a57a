"""The project's own errors for everything that crosses the process boundary.

Lower-level failures (OSError, httpx errors, parser errors) are turned into these at one boundary
per connector, so the command line can tell bad input (exit 2) from an internal failure (exit 1)
without ever showing a traceback for the former. Registry-specific subclasses live in
``connectors.cvr`` and derive from :class:`ConnectorError`; add shared ones here.
"""

from __future__ import annotations


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
