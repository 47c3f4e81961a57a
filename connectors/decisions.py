"""The reviewers' decisions file: read it, append to it safely, follow it while others write.

Format (contract: ``docs/contract.md``): CSV, UTF-8, header ``record_id_l, record_id_r, decision,
decided_by, decided_at, note, name_l, name_r``; one line per decision, appended, never rewritten.
``decision`` is ``same`` or ``different``, or ``undecided`` when a reviewer undid their own
decision (see :mod:`datavask.cleansing.matching.decisions`). ``name_l``/``name_r``: each record's
name as the page showed it, so that a customer number given to another customer since is not
decided for it; a file written before they existed has six columns, and a line appended to it
has the two names after the header's last column all the same (cells are read by position).

Appending takes an exclusive ``flock`` on the file, writes one whole line, flushes and fsyncs before
the lock is released: two review servers on one file never interleave half lines, and a decision
the page reported as saved survives a crash or a power cut. Notes are stored with every CPR number
masked, and a cell Excel would run as a formula with the ``'`` before it (read back without).
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
import pwd
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from datavask.cleansing.cpr import mask_text
from datavask.cleansing.matching.decisions import DECISION_COLUMNS, DECISION_VALUES, FILE_COLUMNS
from datavask.connectors.errors import InputError
from datavask.connectors.output import escape_cell, unescape_cell
from datavask.settings import settings

DEFAULT_NAME = "datavask-decisions.csv"


def default_decisions_path(run_dir: Path) -> Path:
    """Beside the run, not in it: ``<parent of RUN_DIR>/datavask-decisions.csv``.

    A scheduled job replaces its run directory every night (``OUT/<timestamp>/``, ``OUT/latest``);
    the decisions must outlive it, and every run written to the same place shares them.
    """
    return run_dir.resolve().parent / DEFAULT_NAME


def reviewer_name() -> str:
    """Who is deciding: ``DATAVASK_REVIEWER``, else the login name.

    The login name as the environment gives it (``USER``, ``USERNAME``, ``LOGNAME``), else as the
    system's user database has it for this process's user: a service or a container started
    without those variables (``env -i``, systemd, cron) still knows who it runs as.
    ``unknown`` only where neither can tell (a uid without a name).
    """
    configured = settings().reviewer
    if configured and configured.strip():
        return configured.strip()
    for variable in ("USER", "USERNAME", "LOGNAME"):
        value = os.environ.get(variable, "").strip()
        if value:
            return value
    try:
        return pwd.getpwuid(os.getuid()).pw_name.strip() or "unknown"
    except KeyError:  # a uid the user database does not name
        return "unknown"


def _parse(text: str, *, first_line: int) -> pl.DataFrame:
    """Rows of decisions CSV ``text`` (without header) as text columns, with their file ``line``
    (a line of an older file has no names: empty)."""
    rows = []
    for offset, fields in enumerate(csv.reader(io.StringIO(text))):
        if not any(field.strip() for field in fields):
            continue
        padded = [unescape_cell(f.strip()).strip() for f in fields[: len(FILE_COLUMNS)]]
        padded += [""] * (len(FILE_COLUMNS) - len(padded))
        rows.append([first_line + offset, *padded])
    frame = pl.DataFrame(
        rows,
        schema={"line": pl.Int64, **{c: pl.String for c in FILE_COLUMNS}},
        orient="row",
    )
    return frame.with_columns(pl.col("decision").str.to_lowercase())


def _check_header(header: list[str], path: Path) -> None:
    names = [h.strip().lstrip("\ufeff") for h in header]
    if names[:2] != list(DECISION_COLUMNS[:2]) or "decision" not in names:
        raise InputError(
            f"{path}: not a decisions file (header {','.join(names) or '(empty)'}; expected "
            f"{','.join(FILE_COLUMNS)})"
        )


def read_decisions(path: Path) -> pl.DataFrame:
    """Every line of the decisions file at ``path``, in file order (``line`` and the eight
    columns, the names empty on a line of a file written before them).

    A missing or empty file is no decisions; a file that is not a decisions file, or not UTF-8,
    is an :class:`InputError`.
    """
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
            text = handle.read()
    except FileNotFoundError:
        return _parse("", first_line=2)
    except UnicodeDecodeError:
        raise InputError(f"{path}: a decisions file must be UTF-8 text") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a decisions file") from None
    if not text.strip():
        return _parse("", first_line=2)
    header_line, _, body = text.lstrip("\ufeff").partition("\n")
    _check_header(next(csv.reader([header_line])), path)
    return _parse(body, first_line=2)


@dataclass(frozen=True)
class Decision:
    """One decision as the review page makes it; ``name_l``/``name_r``: the names it showed."""

    record_id_l: str
    record_id_r: str
    decision: str
    note: str = ""
    decided_by: str = ""
    decided_at: str = ""
    name_l: str = ""
    name_r: str = ""

    def row(self) -> list[str]:
        when = self.decided_at or datetime.now(UTC).astimezone().isoformat(timespec="seconds")
        note = mask_text(self.note.replace("\r", " ").replace("\n", " ")) or ""
        cells = [
            self.record_id_l,
            self.record_id_r,
            self.decision,
            self.decided_by or reviewer_name(),
            when,
            note.strip(),
            mask_text(self.name_l) or "",
            mask_text(self.name_r) or "",
        ]
        # A record id or note Excel would run (``=HYPERLINK(…)``, ``@SUM(1+1)``: a CRM's own
        # customer number, a reviewer's note) is written with the ``'`` every datavask CSV puts
        # before one, and read back without it, so the id still names its record.
        return [escape_cell(cell) for cell in cells]


class DecisionsFile:
    """A decisions file being appended to and followed by one review server.

    :meth:`append` writes a decision durably; :meth:`refresh` reads what anyone (this server or
    another one on the same file) appended since the last call, so the page can show it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._next_line = 2
        self.lines = _parse("", first_line=2)

    def append(self, decision: Decision) -> list[str]:
        """Append ``decision`` (flushed and fsynced under an exclusive lock); the line written."""
        if decision.decision not in DECISION_VALUES:
            raise ValueError(
                f"decision must be one of {DECISION_VALUES}, not {decision.decision!r}"
            )
        row = decision.row()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+", encoding="utf-8", newline="") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0, os.SEEK_END)
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            if handle.tell() == 0:
                writer.writerow(FILE_COLUMNS)
            else:
                handle.seek(handle.tell() - 1)
                if handle.read(1) != "\n":  # a line cut short by a crash stays a line of its own
                    buffer.write("\n")
            writer.writerow(row)
            handle.write(buffer.getvalue())
            handle.flush()
            os.fsync(handle.fileno())
        return row

    def refresh(self) -> pl.DataFrame:
        """All lines so far; reads only the bytes appended since the previous call."""
        try:
            with self.path.open("rb") as handle:
                fcntl.flock(handle, fcntl.LOCK_SH)
                handle.seek(self._offset)
                chunk = handle.read()
        except FileNotFoundError:
            return self.lines
        complete = chunk[: chunk.rfind(b"\n") + 1]  # a line still being written waits
        if not complete:
            return self.lines
        text = complete.decode("utf-8")
        if self._offset == 0:
            header, _, text = text.lstrip("\ufeff").partition("\n")
            _check_header(next(csv.reader([header])), self.path)
        new = _parse(text, first_line=self._next_line)
        self._next_line += text.count("\n")
        self._offset += len(complete)
        self.lines = pl.concat([self.lines, new], how="vertical")
        return self.lines
