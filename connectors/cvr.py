"""The CVR registry client: one ``open_registry(source)`` for every place the registry can live.

``source`` is what the user gives ``--registry``:

- a path to a ``.jsonl`` / ``.jsonl.gz`` snapshot of ERST documents (the default),
- an ``http(s)://…/cvr-permanent`` base URL of the ERST Elasticsearch API,
- ``cvrapi://`` (optionally ``cvrapi://?country=dk``) for cvrapi.dk,
- ``none`` to check nothing.

Every registry answers :meth:`Registry.lookup` with one row per requested CVR number in the
shape of :data:`REGISTRY_SCHEMA`. A look-up that could not be made is ``lookup_failed`` — the
cleansing step reports it as REGISTRY_UNCHECKED, never as CVR_NOT_FOUND.

>>> registry = open_registry("none")
>>> registry.lookup(["21265837"]).select("cvr", "found", "lookup_failed").row(0)
('21265837', False, True)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

import httpx
import polars as pl

from datavask.connectors.cvr_base import (
    NoRegistry,
    Registry,
    RegistryAuthError,
    RegistryConfigError,
    RegistryError,
    RegistryQuotaError,
)
from datavask.connectors.cvr_document import (
    FACTS_SCHEMA,
    REGISTRY_SCHEMA,
    SOURCE_FIELDS,
    facts_from_registry,
)
from datavask.connectors.cvr_erst import (
    ERST_URL,
    ErstFacts,
    ErstRegistry,
    SyncResult,
    erst_credentials,
    sync_snapshot,
)
from datavask.connectors.cvr_snapshot import (
    RegistrySnapshotError,
    SnapshotFacts,
    SnapshotRegistry,
    load_snapshot,
    warming,
)
from datavask.connectors.cvrapi import CVRAPI_URL, CvrapiRegistry
from datavask.connectors.http import RetryPolicy

__all__ = [
    "CVRAPI_URL",
    "ERST_URL",
    "FACTS_SCHEMA",
    "REGISTRY_SCHEMA",
    "SOURCE_FIELDS",
    "Registry",
    "RegistryAuthError",
    "RegistryConfigError",
    "RegistryError",
    "RegistryQuotaError",
    "RegistrySnapshotError",
    "SyncResult",
    "erst_credentials",
    "load_snapshot",
    "open_facts",
    "open_registry",
    "sync_snapshot",
    "warm_registry",
]


def open_registry(
    source: str,
    *,
    cache_dir: Path | None = None,
    timeout: float = 30.0,
    max_age_days: float = 7,
    concurrency: int = 4,
    rate: float | None = None,
    credentials: tuple[str, str] | None = None,
    retry: RetryPolicy | None = None,
    workers: int | None = None,
    transport: httpx.BaseTransport | None = None,
    cvrapi_url: str = CVRAPI_URL,
    sleep: Callable[[float], None] = time.sleep,
) -> Registry:
    """The registry behind ``source`` (see the module docstring); use it as a context manager.

    ``cache_dir`` holds the parsed-snapshot Parquet (default: beside the snapshot) and the
    online sources' per-CVR answers (default: ``~/.cache/datavask``), which are asked again
    after ``max_age_days``. ``timeout`` bounds every HTTP request; ``concurrency`` and ``rate``
    (requests per second; cvrapi.dk defaults to 2) bound how hard a service is asked.
    ``workers`` is the number of processes parsing a large snapshot.
    """
    text = source.strip()
    kind = _source_kind(text, none_too=True)
    if kind == "none":
        return NoRegistry()
    if kind == "cvrapi":
        query = parse_qs(urlsplit(text).query)
        return CvrapiRegistry(
            country=query.get("country", ["dk"])[0],
            base_url=cvrapi_url,
            cache_dir=cache_dir,
            max_age_days=max_age_days,
            timeout=timeout,
            concurrency=min(concurrency, 2),
            rate=rate if rate is not None else 2.0,
            retry=retry,
            transport=transport,
            sleep=sleep,
        )
    if kind == "erst":
        return ErstRegistry(
            text,
            credentials=credentials,
            cache_dir=cache_dir,
            max_age_days=max_age_days,
            timeout=timeout,
            concurrency=concurrency,
            rate=rate,
            retry=retry,
            transport=transport,
            sleep=sleep,
        )
    return SnapshotRegistry(Path(text).expanduser(), cache_dir=cache_dir, workers=workers)


def warm_registry(
    source: str, *, cache_dir: Path | None = None
) -> contextlib.AbstractContextManager[None]:
    """A block during which a snapshot ``source`` is parsed into its cache in the background
    (:func:`~datavask.connectors.cvr_snapshot.warming`), so that :func:`open_registry` with the
    same ``cache_dir`` finds it parsed; other sources need nothing done ahead."""
    text = source.strip()
    try:
        kind = _source_kind(text, none_too=True)
    except RegistryConfigError:  # reported when the registry is opened
        return contextlib.nullcontext()
    if kind != "snapshot":
        return contextlib.nullcontext()
    return warming(Path(text).expanduser(), cache_dir=cache_dir)


def _source_kind(text: str, *, none_too: bool) -> Literal["none", "cvrapi", "erst", "snapshot"]:
    """Which registry ``text`` (stripped) names; ``none_too``: the error offers ``none`` too."""
    if not text:
        raise RegistryConfigError("no registry source given")
    if text.lower() == "none":
        return "none"
    scheme = urlsplit(text).scheme.lower()
    if scheme == "cvrapi":
        return "cvrapi"
    if scheme in ("http", "https"):
        return "erst"
    if len(scheme) > 1:  # a one-letter "scheme" is a Windows drive
        raise RegistryConfigError(
            f"unknown registry source {text!r}: give a snapshot file, an ERST URL"
            + (", cvrapi:// or none" if none_too else " or cvrapi://")
        )
    return "snapshot"


class _RegistryFacts(Registry):
    """Monitoring facts from a source that only gives registry rows (cvrapi.dk)."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self.description = registry.description

    def lookup(self, cvrs: Iterable[str]) -> pl.DataFrame:
        return facts_from_registry(self._registry.lookup(cvrs))

    def close(self) -> None:
        self._registry.close()


def open_facts(
    source: str,
    *,
    cache_dir: Path | None = None,
    timeout: float = 30.0,
    concurrency: int = 4,
    rate: float | None = None,
    credentials: tuple[str, str] | None = None,
    retry: RetryPolicy | None = None,
    workers: int | None = None,
    transport: httpx.BaseTransport | None = None,
    cvrapi_url: str = CVRAPI_URL,
    sleep: Callable[[float], None] = time.sleep,
) -> Registry:
    """The monitoring facts behind ``source`` (same sources as :func:`open_registry`).

    ``lookup`` answers with ``cvr``, ``found``, ``lookup_failed`` and :data:`FACTS_SCHEMA`.
    Online sources are asked afresh: the look-up cache is bypassed. cvrapi.dk gives status,
    name, address and legal form only (owners, management and mergers stay unknown).
    """
    text = source.strip()
    kind = _source_kind(text, none_too=False)
    if kind == "none":
        raise RegistryConfigError("monitoring needs a registry: --registry none checks nothing")
    if kind == "erst":
        return ErstFacts(
            text,
            credentials=credentials,
            timeout=timeout,
            concurrency=concurrency,
            rate=rate,
            retry=retry,
            transport=transport,
            sleep=sleep,
        )
    if kind == "cvrapi":
        registry = open_registry(
            text, cache_dir=cache_dir, timeout=timeout, max_age_days=0, concurrency=concurrency,
            rate=rate, retry=retry, transport=transport, cvrapi_url=cvrapi_url, sleep=sleep,
        )  # fmt: skip
        return _RegistryFacts(registry)
    return SnapshotFacts(Path(text).expanduser(), cache_dir=cache_dir, workers=workers)
