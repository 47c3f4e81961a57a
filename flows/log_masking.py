"""CPR numbers masked in every log record Prefect stores or prints.

Prefect writes a failed task's exception and traceback to its log table (and the console). The
project's own errors are masked when they are made (:class:`~datavask.connectors.errors.
ConnectorError`), but a library's error can quote a cell; this filter masks every record on
the handlers of Prefect's loggers before it is formatted.
"""

from __future__ import annotations

import logging

from datavask.cleansing.cpr import mask_message

_LOGGERS = ("prefect", "prefect.flow_runs", "prefect.task_runs", "datavask", "")


class MaskCpr(logging.Filter):
    """Rewrites a record's message and traceback text with CPR numbers masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_message(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_message(record.exc_text)
        return True


def install() -> None:
    """Add :class:`MaskCpr` to every handler of Prefect's and datavask's loggers (once)."""
    for name in _LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, MaskCpr) for f in handler.filters):
                handler.addFilter(MaskCpr())
