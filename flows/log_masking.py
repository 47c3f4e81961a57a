"""CPR numbers masked in every log record Prefect stores or prints, and in every failed state.

Prefect writes a failed task's exception and traceback to its log table (and the console), and
the exception's text into the failed task's and flow's state message, which its server keeps in
the run's state history. The project's own errors are masked when they are made
(:class:`~datavask.connectors.errors.ConnectorError`), but a library's error can quote a cell:
``polars.exceptions.InvalidOperationError: conversion from `str` to `i64` failed in column
'kunde' for 1 out of 3 values: ["0101801234"]``. :class:`MaskCpr` masks every record on the
handlers of Prefect's loggers before it is formatted; :func:`failures_masked` (around a flow's
body) and :func:`masking_failures` (around a task's function) mask the exception itself before
Prefect makes a state of it.
"""

from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from datavask.cleansing.cpr import mask_message

_LOGGERS = (
    "prefect",
    "prefect.flow_runs",
    "prefect.task_runs",
    "prefect.extra",
    "prefect.workers",
    "datavask",
    "",
)
# The text attributes of an OSError that its message is made of, besides ``args``.
_TEXT_ATTRIBUTES = ("filename", "filename2", "strerror")

P = ParamSpec("P")
R = TypeVar("R")


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


class MaskedError(Exception):
    """A library's error whose text quoted a CPR number and could not be masked in place: the
    original type's name and the masked text."""


def masked_exception(exc: BaseException) -> BaseException | None:
    """``exc`` with the CPR numbers in its text masked — the same type where a copy can carry
    the masked text, else a :class:`MaskedError` — or None when the text shows none.

    The copy keeps no reference to the original (neither ``__cause__`` nor ``__context__``):
    the chain may quote the value too.
    """
    try:
        text = str(exc)
    except Exception:  # an exception whose text cannot be made shows nothing
        return None
    notes = [str(note) for note in getattr(exc, "__notes__", [])]
    safe_text, safe_notes = mask_message(text), [mask_message(note) for note in notes]
    if safe_text == text and safe_notes == notes:
        return None
    safe = _masked_copy(exc, safe_text)
    if safe is None:
        name = f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins.")
        safe = MaskedError(f"{name}: {safe_text}")
    if safe_notes:
        safe.__notes__ = safe_notes
    return safe


def _masked_copy(exc: BaseException, safe_text: str) -> BaseException | None:
    """A copy of ``exc`` whose text is ``safe_text``, if its type allows one."""
    try:
        clone = copy.copy(exc)
        # a copy made through a library's reduce (tblib, which distributed installs) can carry
        # the original's chain and traceback: the masked copy starts a chain of its own
        clone.__cause__ = clone.__context__ = None
        clone.__traceback__ = None
        clone.args = tuple(mask_message(a) if isinstance(a, str) else a for a in exc.args)
        for name in _TEXT_ATTRIBUTES:
            value = getattr(clone, name, None)
            if isinstance(value, str):
                setattr(clone, name, mask_message(value))
        same = str(clone) == safe_text
    except Exception:  # a type that cannot be copied gets a MaskedError
        return None
    return clone if same else None


@contextmanager
def failures_masked() -> Iterator[None]:
    """Re-raise an exception whose text shows a CPR number as its masked copy (same traceback)."""
    try:
        yield
    except Exception as exc:
        safe = masked_exception(exc)
        if safe is None:
            raise
        # Not chained: the original's text (the chain's, too) must not be printed with it.
        raise safe.with_traceback(exc.__traceback__) from None


def masking_failures(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` raising masked copies of its errors (:func:`failures_masked`): for a Prefect task."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with failures_masked():
            return fn(*args, **kwargs)

    return run
