"""What every CVR registry source shares: the errors, the ``Registry`` interface, and for the
online sources the per-CVR disk cache and the batched, concurrent look-up loop.

The public entry point is :mod:`datavask.connectors.cvr`; the sources live in ``cvr_snapshot``,
``cvr_erst`` and ``cvrapi``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Final

import orjson
import polars as pl

from datavask.connectors.cvr_document import (
    DOCUMENT_SCHEMA,
    PARSER_VERSION,
    cvr_text,
    empty_document_frame,
    registry_frame,
    requested_cvrs,
)
from datavask.connectors.errors import ConnectorError, InputError
from datavask.connectors.http import ConnectorAuthError, ConnectorUnavailableError
from datavask.settings import settings

log = logging.getLogger(__name__)


class RegistryError(ConnectorError):
    """Something about the CVR registry went wrong."""


class RegistryAuthError(RegistryError, InputError):
    """The registry refused the credentials or this client: the run stops."""


class RegistryQuotaError(RegistryError, ConnectorUnavailableError):
    """The registry's request quota is used up: the CVR numbers not yet asked stay unchecked."""


class RegistryConfigError(RegistryError, InputError):
    """The registry source cannot be used as given: unknown scheme, missing file, no credentials."""


def default_cache_dir() -> Path:
    """``$DATAVASK_CACHE_DIR``, else ``$XDG_CACHE_HOME/datavask``, else ``~/.cache/datavask``."""
    return settings().cache_dir


class Registry(ABC):
    """A source of CVR registry rows; use as a context manager so connections are closed."""

    #: Where the rows come from, safe to show (no credentials).
    description: str = ""

    @abstractmethod
    def lookup(self, cvrs: Iterable[str]) -> pl.DataFrame:
        """One row per distinct requested CVR (first-seen order) with :data:`REGISTRY_SCHEMA`.

        A CVR the registry could not be asked about has ``lookup_failed`` true and ``found``
        false; one that is not 8 digits is never sent and comes back not found.
        """

    def close(self) -> None:  # noqa: B027 - sources without connections have nothing to close
        """Release connections and files."""

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NoRegistry(Registry):
    """``--registry none``: nothing is checked, every CVR comes back unchecked."""

    description = "none"

    def lookup(self, cvrs: Iterable[str]) -> pl.DataFrame:
        wanted = requested_cvrs(cvrs)
        return registry_frame(wanted, empty_document_frame(), failed=wanted)


class LookupCache:
    """Answers of an online registry per CVR, in one SQLite file, so a rerun does not ask again.

    "Not found" is an answer and is kept; a failed look-up is not. Entries older than
    ``max_age_days`` are asked again. ``namespace`` keeps sources (ERST, cvrapi.dk) apart.
    """

    def __init__(
        self, path: Path, *, namespace: str, max_age_days: float, clock: Any = time.time
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._namespace = f"{namespace}#v{PARSER_VERSION}"
        self._max_age = max_age_days * 86400.0
        self._clock = clock
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS lookups (namespace TEXT NOT NULL, cvr TEXT NOT NULL,"
                " fetched_at REAL NOT NULL, row BLOB, PRIMARY KEY (namespace, cvr))"
            )

    def close(self) -> None:
        self._db.close()

    def get(self, cvrs: Sequence[str]) -> tuple[dict[str, dict[str, Any] | None], list[str]]:
        """``(answers, missing)``: the fresh cached answers (None = not found) and the rest."""
        oldest = self._clock() - self._max_age
        answers: dict[str, dict[str, Any] | None] = {}
        with self._lock:
            for chunk in _chunks(list(cvrs), 900):  # SQLite's bound-parameter limit
                marks = ",".join("?" * len(chunk))
                cursor = self._db.execute(
                    f"SELECT cvr, row FROM lookups WHERE namespace = ? AND fetched_at >= ?"
                    f" AND cvr IN ({marks})",
                    (self._namespace, oldest, *chunk),
                )
                for cvr, row in cursor:
                    answers[cvr] = orjson.loads(row) if row is not None else None
        return answers, [cvr for cvr in cvrs if cvr not in answers]

    def put(self, asked: Sequence[str], found: pl.DataFrame) -> None:
        """Remember the answer for every CVR in ``asked``: its row in ``found``, or not found."""
        rows = {row["cvr"]: row for row in found.to_dicts()}
        now = self._clock()
        records = [
            (self._namespace, cvr, now, orjson.dumps(rows[cvr]) if cvr in rows else None)
            for cvr in asked
        ]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO lookups VALUES (?, ?, ?, ?)", records)


def rows_to_document_frame(rows: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """Cached row dicts (dates as ISO text) back to a document frame."""
    rows = list(rows)
    if not rows:
        return empty_document_frame()
    schema = {**DOCUMENT_SCHEMA, "registry_end_date": pl.String()}
    frame = pl.from_dicts(rows, schema=schema)
    return frame.with_columns(pl.col("registry_end_date").str.to_date("%Y-%m-%d", strict=False))


class OnlineRegistry(Registry):
    """A registry asked over HTTP in batches, on a few threads, behind a :class:`LookupCache`.

    Subclasses implement :meth:`fetch` for one batch. A batch that fails after the client's
    retries (outage, timeout, quota) leaves its CVR numbers ``lookup_failed``; wrong
    credentials stop the whole look-up with :class:`RegistryAuthError`.
    """

    batch_size: int = 1

    def __init__(self, *, cache: LookupCache | None, concurrency: int) -> None:
        self._cache = cache
        self._concurrency = max(1, concurrency)
        self._quota_used_up = threading.Event()
        self._stop = threading.Event()

    @abstractmethod
    def fetch(self, cvrs: list[str]) -> pl.DataFrame:
        """Ask the registry about ``cvrs`` (8-digit text); the document rows of those it knows."""

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()

    def lookup(self, cvrs: Iterable[str]) -> pl.DataFrame:
        wanted = requested_cvrs(cvrs)
        askable = [cvr for cvr in wanted if cvr_text(cvr) == cvr]
        answers, missing = self._cache.get(askable) if self._cache else ({}, askable)
        frames = [self.empty_frame()]
        if answers:
            known = (row for row in answers.values() if row is not None)
            frames.append(rows_to_document_frame(known))
        failed: list[str] = []
        if missing:
            log.info(
                "registry %s: %d cached, asking for %d",
                self.description,
                len(answers),
                len(missing),
            )
        batches = list(_chunks(missing, self.batch_size))
        self._stop.clear()
        with ThreadPoolExecutor(self._concurrency, thread_name_prefix="cvr") as pool:
            futures: dict[Future[pl.DataFrame], list[str]] = {
                pool.submit(self._fetch_unless_stopped, batch): batch for batch in batches
            }
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in done:
                    batch = futures[future]
                    try:
                        found = future.result()
                    except ConnectorUnavailableError as exc:
                        failed.extend(batch)
                        if not isinstance(exc, RegistryQuotaError):
                            log.warning(
                                "registry %s: %d CVR numbers unchecked: %s",
                                self.description,
                                len(batch),
                                exc,
                            )
                        continue
                    except BaseException:
                        # Wrong credentials or a refused request: asking on cannot help.
                        self._stop.set()
                        for other in pending:
                            other.cancel()
                        raise
                    frames.append(found)
                    if self._cache is not None:
                        self._cache.put(batch, found)
        if self._quota_used_up.is_set():
            log.warning(
                "registry %s: quota used up; %d CVR numbers left unchecked",
                self.description,
                len(failed),
            )
        return self.assemble(wanted, pl.concat(frames), failed)

    def empty_frame(self) -> pl.DataFrame:
        """No rows, in the shape :meth:`fetch` returns."""
        return empty_document_frame()

    def assemble(self, wanted: list[str], found: pl.DataFrame, failed: list[str]) -> pl.DataFrame:
        """The answer of :meth:`lookup` from the rows found and the CVR numbers not asked."""
        return registry_frame(wanted, found, failed)

    def _fetch_unless_stopped(self, batch: list[str]) -> pl.DataFrame:
        if self._stop.is_set():
            raise ConnectorUnavailableError("look-up stopped")
        if self._quota_used_up.is_set():
            raise RegistryQuotaError("the registry's quota is used up")
        try:
            return self.fetch(batch)
        except RegistryQuotaError:
            self._quota_used_up.set()
            raise
        except ConnectorAuthError as exc:
            raise RegistryAuthError("the registry rejected the credentials") from exc


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


CACHE_FILE: Final = "cvr-lookups.sqlite"
