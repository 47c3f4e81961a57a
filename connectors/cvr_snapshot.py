"""The registry from a snapshot file: JSON lines of ERST documents, plain or gzip.

Each line is ``{"_source": {"Vrvirksomhed": …}}`` or a bare ``{"Vrvirksomhed": …}``. Only the
fields the registry row needs are taken from each line (orjson per line; ``polars.read_ndjson``
on nested documents is an order of magnitude slower), on a pool of processes for large files.
The flat result is cached as Parquet beside the snapshot, or in ``cache_dir``, under the
snapshot's SHA-256, so the next run reads a few megabytes instead of parsing gigabytes.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import gzip
import hashlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from io import BufferedIOBase
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Final

import orjson
import polars as pl

from datavask.connectors.cvr_base import Registry, RegistryConfigError
from datavask.connectors.cvr_document import (
    FACTS_VERSION,
    PARSER_VERSION,
    DocumentColumns,
    FactColumns,
    deduplicate,
    facts_frame,
    registry_frame,
    requested_cvrs,
    unwrap,
)

log = logging.getLogger(__name__)

_GZIP_MAGIC: Final = b"\x1f\x8b"
_CHUNK_BYTES: Final = 16 * 1024 * 1024
# Below this size a process pool costs more to start than it saves.
_POOL_THRESHOLD_BYTES: Final = 64 * 1024 * 1024
# Below this size a snapshot parses in a few seconds: not worth a process of its own.
_WARM_THRESHOLD_BYTES: Final = 8 * 1024 * 1024


class RegistrySnapshotError(RegistryConfigError):
    """The snapshot file cannot be read (missing, unreadable, truncated archive)."""


def snapshot_digest(path: Path) -> str:
    """SHA-256 of the snapshot file as stored (compressed bytes for a .gz)."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def cache_path(
    snapshot: Path,
    digest: str,
    cache_dir: Path | None = None,
    columns: type[DocumentColumns | FactColumns] = DocumentColumns,
) -> Path:
    """Where the parsed snapshot is cached: keyed by its checksum and the parser version.

    The name also carries a hash of the snapshot's location, so snapshots of the same file name
    in different folders sharing one ``cache_dir`` do not evict each other's cache; the
    monitoring facts (``columns=FactColumns``) are cached apart from the registry rows.
    """
    directory = cache_dir if cache_dir is not None else snapshot.parent
    version = FACTS_VERSION if columns is FactColumns else PARSER_VERSION
    return directory / f"{_cache_name(snapshot, columns)}.{digest[:20]}.v{version}.parquet"


def _cache_name(snapshot: Path, columns: type[DocumentColumns | FactColumns]) -> str:
    return f"{_cache_stem(snapshot)}.facts" if columns is FactColumns else _cache_stem(snapshot)


def _cache_stem(snapshot: Path) -> str:
    where = hashlib.sha256(str(snapshot.resolve()).encode()).hexdigest()[:8]
    return f"{snapshot.name}.{where}"


def load_snapshot(
    path: Path, *, cache_dir: Path | None = None, workers: int | None = None
) -> pl.DataFrame:
    """The document frame of a snapshot (one row per CVR), from the cache when it is current."""
    return _load(path, DocumentColumns, cache_dir=cache_dir, workers=workers)


def load_snapshot_facts(
    path: Path, *, cache_dir: Path | None = None, workers: int | None = None
) -> pl.DataFrame:
    """The monitoring facts of a snapshot (one row per CVR), cached like :func:`load_snapshot`."""
    return _load(path, FactColumns, cache_dir=cache_dir, workers=workers)


def _load(
    path: Path,
    columns: type[DocumentColumns | FactColumns],
    *,
    cache_dir: Path | None,
    workers: int | None,
) -> pl.DataFrame:
    """Parse ``path`` into ``columns`` rows, or read them from the cache the last parse wrote."""
    if not path.is_file():
        raise RegistrySnapshotError(f"registry snapshot not found: {path}")
    if columns is DocumentColumns:
        _await_warming(path, cache_dir)
    try:
        digest = snapshot_digest(path)
    except OSError as exc:
        raise RegistrySnapshotError(f"cannot read the registry snapshot {path}: {exc}") from exc
    cached = cache_path(path, digest, cache_dir, columns)
    if cached.is_file():
        try:
            frame = pl.read_parquet(cached, glob=False)
        except (OSError, pl.exceptions.PolarsError) as exc:
            log.warning("ignoring unreadable snapshot cache %s: %s", cached, exc)
        else:
            if frame.height:  # an empty cache is an older version's parse of a garbage file
                return frame
    frame = parse_snapshot(path, workers=workers, columns=columns)
    # Twenty characters of digest: the registry rows' pattern must not match the facts' cache.
    _write_cache(frame, cached, stale=f"{_cache_name(path, columns)}.{'?' * 20}.v*.parquet")
    return frame


_warming: dict[tuple[Path, Path | None], BaseProcess] = {}


@contextlib.contextmanager
def warming(path: Path, *, cache_dir: Path | None = None) -> Iterator[None]:
    """Parse the snapshot into its cache in a process of its own while the block runs.

    A run reads and normalises its input before it looks anything up; the parse of a large
    snapshot (all of a CPU for most of a minute at 600,000 companies) runs beside that instead of
    after it. A look-up inside the block waits for the parse (:func:`_await_warming`) and then
    reads the cache; if the parse failed it parses again itself and meets the same error. The
    process ends with the block (or with this process). Small snapshots and ones already cached
    are left alone.
    """
    key = (path.resolve(), cache_dir)
    if key in _warming or not path.is_file() or path.stat().st_size < _WARM_THRESHOLD_BYTES:
        yield
        return
    context = multiprocessing.get_context("spawn")  # see parse_pool
    process = context.Process(
        target=_warm, args=(path, cache_dir, os.getpid()), name="datavask-registry", daemon=True
    )
    process.start()
    _warming[key] = process
    try:
        yield
    finally:
        _warming.pop(key, None)
        if process.is_alive():
            process.kill()
        process.join()
        process.close()


def _warm(path: Path, cache_dir: Path | None, parent: int) -> None:
    """The warming process: leave the CPUs but one to the run, cache the snapshot's parse."""
    _die_with_parent(parent)
    workers = max(1, (os.cpu_count() or 1) - 1)
    with contextlib.suppress(Exception):  # the look-up parses again and reports the problem
        digest = snapshot_digest(path)
        if not cache_path(path, digest, cache_dir).is_file():
            load_snapshot(path, cache_dir=cache_dir, workers=workers)


def _await_warming(path: Path, cache_dir: Path | None) -> None:
    process = _warming.get((path.resolve(), cache_dir))
    if process is not None:
        process.join()


def parse_snapshot(
    path: Path,
    *,
    workers: int | None = None,
    columns: type[DocumentColumns | FactColumns] = DocumentColumns,
) -> pl.DataFrame:
    """Parse every line of a snapshot into the document frame; bad lines are counted and skipped.

    ``workers`` processes parse in parallel (default: the CPUs, for files over 64 MB).
    ``columns`` chooses the row: the registry row, or :class:`FactColumns` for monitoring.
    """
    if workers is None:
        big = path.stat().st_size >= _POOL_THRESHOLD_BYTES
        workers = (os.cpu_count() or 1) if big else 1
    parts: list[pl.DataFrame] = []
    bad = 0
    try:
        with _open(path) as fh:
            chunks = _line_chunks(fh)
            results = (
                _parse_parallel(chunks, workers, columns)
                if workers > 1
                else (_parse_chunk(chunk, columns) for chunk in chunks)
            )
            for part, part_bad in results:
                parts.append(part)
                bad += part_bad
    except BrokenProcessPool:
        # A worker died, or the calling script re-runs itself under spawn (no __main__ guard).
        log.warning("parallel parse of %s failed; parsing in this process instead", path)
        return parse_snapshot(path, workers=1, columns=columns)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise RegistrySnapshotError(f"cannot read the registry snapshot {path}: {exc}") from exc
    good = sum(part.height for part in parts)
    _check_documents(path, good=good, bad=bad)
    if bad:
        log.warning("registry snapshot %s: skipped %d lines that are not ERST documents", path, bad)
    if not parts:
        return columns().frame()
    frame = deduplicate(pl.concat(parts, rechunk=True))
    log.info("registry snapshot %s: %d companies", path, frame.height)
    return frame


def _check_documents(path: Path, *, good: int, bad: int) -> None:
    """A snapshot with no ERST documents, or mostly other lines, is not a registry snapshot.

    Taking it for one would report every customer's CVR number as "not found" and make most
    records unfit for invoicing; a few damaged lines in a real snapshot are only skipped.
    """
    if good == 0:
        what = f"its {bad:,} lines are" if bad else "it is empty and"
        raise RegistrySnapshotError(
            f"registry snapshot {path} holds no ERST documents: {what} not "
            '{"Vrvirksomhed": {...}} JSON lines; give a snapshot made by `datavask registry sync`'
        )
    if bad > good:
        raise RegistrySnapshotError(
            f"registry snapshot {path} is mostly not ERST documents ({bad:,} of {good + bad:,} "
            "lines are not); check that it is the right file, or make a new one with "
            "`datavask registry sync`"
        )


def _open(path: Path) -> BufferedIOBase:
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == _GZIP_MAGIC:
        return gzip.open(path, "rb")
    return path.open("rb")


def _line_chunks(fh: BufferedIOBase) -> Iterator[bytes]:
    """Blocks of whole lines, about ``_CHUNK_BYTES`` each."""
    rest = b""
    while True:
        block = fh.read(_CHUNK_BYTES)
        if not block:
            if rest.strip():
                yield rest
            return
        block = rest + block
        cut = block.rfind(b"\n")
        if cut < 0:
            rest = block
            continue
        rest = block[cut + 1 :]
        yield block[: cut + 1]


def _parse_chunk(
    data: bytes, kind: type[DocumentColumns | FactColumns] = DocumentColumns
) -> tuple[pl.DataFrame, int]:
    """Rows of one block of lines (raw, duplicates kept) and how many lines were unusable."""
    columns = kind()
    bad = 0
    loads = orjson.loads
    # The parsed documents hold no reference cycles and are dropped line by line, so the cyclic
    # garbage collector only costs time here (a quarter of the parse).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for line in data.split(b"\n"):
            if not line or line.isspace():
                continue
            try:
                document = loads(line)
            except orjson.JSONDecodeError:
                bad += 1
                continue
            vr = unwrap(document) if isinstance(document, dict) else None
            if vr is None or not columns.add(vr):
                bad += 1
    finally:
        if collecting:
            gc.enable()
    return columns.raw_frame(), bad


def _parse_parallel(
    chunks: Iterable[bytes], workers: int, kind: type[DocumentColumns | FactColumns]
) -> Iterator[tuple[pl.DataFrame, int]]:
    """:func:`_parse_chunk` on a process pool, at most two blocks in flight per worker."""
    with parse_pool(workers) as pool:
        in_flight: deque[Future[tuple[pl.DataFrame, int]]] = deque()
        for chunk in chunks:
            in_flight.append(pool.submit(_parse_chunk, chunk, kind))
            if len(in_flight) >= 2 * workers:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()


def parse_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers end with the process that started them.

    A stopped run leaves with ``os._exit`` (:mod:`datavask.flows.signals`) and never shuts its
    pool down; a worker busy with a block would carry on as an orphan. So each worker dies with
    its parent (:func:`_die_with_parent`) and leaves Ctrl-C, which the terminal sends the whole
    process group, to the parent.
    """
    # spawn, not fork: forking a process that has started polars' thread pool can deadlock.
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_die_with_parent,
        initargs=(os.getpid(),),
    )


_PR_SET_PDEATHSIG: Final = 1
_PARENT_POLL_S: Final = 0.5


def _die_with_parent(parent: int) -> None:
    """Pool-worker initialiser: ignore Ctrl-C, and end as soon as ``parent`` is gone.

    On Linux the kernel kills the worker when its parent dies (``PR_SET_PDEATHSIG``); elsewhere
    a thread notices the worker was orphaned within half a second.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    else:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the worker was ready
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_S)
    os._exit(1)


def _write_cache(frame: pl.DataFrame, target: Path, *, stale: str) -> None:
    """Write the cache atomically and drop caches of older versions of the same snapshot."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        frame.write_parquet(temporary, compression="zstd", statistics=True)
        temporary.replace(target)
    except OSError as exc:
        log.warning("could not cache the parsed registry snapshot at %s: %s", target, exc)
        return
    for old in target.parent.glob(stale):
        if old != target:
            old.unlink(missing_ok=True)


class SnapshotRegistry(Registry):
    """Look-ups in a snapshot file; it is parsed (or read from its cache) on the first look-up."""

    def __init__(
        self, path: Path, *, cache_dir: Path | None = None, workers: int | None = None
    ) -> None:
        if not path.is_file():
            raise RegistrySnapshotError(f"registry snapshot not found: {path}")
        self.path = path
        self.description = f"snapshot {path.name}"
        self._cache_dir = cache_dir
        self._workers = workers
        self._frame: pl.DataFrame | None = None

    def frame(self) -> pl.DataFrame:
        """Every company in the snapshot, one row per CVR."""
        if self._frame is None:
            self._frame = load_snapshot(self.path, cache_dir=self._cache_dir, workers=self._workers)
        return self._frame

    def lookup(self, cvrs: Iterable[str]) -> pl.DataFrame:
        wanted = requested_cvrs(cvrs)
        known = self.frame().filter(pl.col("cvr").is_in(wanted))
        return registry_frame(wanted, known)


class SnapshotFacts(Registry):
    """Monitoring facts (:func:`facts_frame` rows) from a snapshot file, parsed on first use."""

    def __init__(
        self, path: Path, *, cache_dir: Path | None = None, workers: int | None = None
    ) -> None:
        if not path.is_file():
            raise RegistrySnapshotError(f"registry snapshot not found: {path}")
        self.path = path
        self.description = f"snapshot {path.name}"
        self._cache_dir = cache_dir
        self._workers = workers

    def lookup(self, cvrs: Iterable[str]) -> pl.DataFrame:
        wanted = requested_cvrs(cvrs)
        every = load_snapshot_facts(self.path, cache_dir=self._cache_dir, workers=self._workers)
        return facts_frame(wanted, every.filter(pl.col("cvr").is_in(wanted)))
