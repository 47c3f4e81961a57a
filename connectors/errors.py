"""The project's own errors for everything that crosses the process boundary.

Lower-level failures (OSError, httpx errors, parser errors) are turned into these at one boundary
per connector, so the command line can tell bad input (exit 2) from an internal failure (exit 1)
without ever showing a traceback for the former. Registry-specific subclasses live in
``connectors.cvr`` and derive from :class:`ConnectorError`; add shared ones here.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Something outside the process failed or answered in a way we cannot use."""


class InputError(ConnectorError):
    """The user's input or options cannot be used; the message is one line saying what to do."""
