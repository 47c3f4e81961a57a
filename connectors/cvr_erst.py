"""The ERST CVR Elasticsearch API: batched look-ups and the resumable bulk download.

``POST {base}/virksomhed/_search`` (``base`` ends in ``/cvr-permanent``) with HTTP Basic auth.
Look-ups send a ``terms`` query on ``Vrvirksomhed.cvrNummer`` for up to 1,000 numbers and ask
only for the fields the registry row uses; ERST refuses ``from + size`` beyond 3,000, so a batch
never pages past that window. The bulk download (:func:`sync_snapshot`) reads the index with the
scroll API, sorted by CVR number, and can resume after an interruption from the last complete
CVR it wrote, because scroll ids expire.

Credentials come from ``DATAVASK_CVR_USER`` / ``DATAVASK_CVR_PASSWORD`` or, when those are not
set, from the Prefect Secret blocks ``datavask-cvr-user`` / ``datavask-cvr-password``.
"""

from __future__ import annotations

import gzip
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypedDict, Unpack

import httpx
import orjson
import polars as pl

from datavask.connectors.cvr_base import (
    CACHE_FILE,
    LookupCache,
    OnlineRegistry,
    RegistryAuthError,
    RegistryConfigError,
    default_cache_dir,
)
from datavask.connectors.cvr_document import (
    FACT_FIELDS,
    SOURCE_FIELDS,
    DocumentColumns,
    FactColumns,
    cvr_text,
    empty_facts_frame,
    facts_frame,
    unwrap,
)
from datavask.connectors.http import (
    ConnectorAuthError,
    ConnectorRejectedError,
    ConnectorUnavailableError,
    RetryingClient,
    RetryPolicy,
)
from datavask.connectors.secret_blocks import SecretBlockUnavailable, secret_block
from datavask.settings import settings

log = logging.getLogger(__name__)

ERST_URL: Final = "http://distribution.virk.dk/cvr-permanent"
MAX_WINDOW: Final = 3000
ENV_USER: Final = "DATAVASK_CVR_USER"
ENV_PASSWORD: Final = "DATAVASK_CVR_PASSWORD"
SECRET_USER: Final = "datavask-cvr-user"
SECRET_PASSWORD: Final = "datavask-cvr-password"
USER_AGENT: Final = "datavask (customer master-data cleansing)"
_CVR_FIELD: Final = "Vrvirksomhed.cvrNummer"
# A deterministic order, so a resumed download writes the same bytes as an uninterrupted one.
_SCROLL_SORT: Final = ({_CVR_FIELD: "asc"}, {"Vrvirksomhed.enhedsNummer": "asc"})


def erst_credentials() -> tuple[str, str]:
    """``(user, password)`` from the environment, else from Prefect Secret blocks."""
    env = settings()
    user = env.cvr_user
    password = env.cvr_password.get_secret_value() if env.cvr_password else None
    if user and password:
        return user, password
    try:
        user = user or secret_block(SECRET_USER)
        password = password or secret_block(SECRET_PASSWORD)
    except SecretBlockUnavailable as exc:
        raise RegistryConfigError(
            f"the ERST registry needs credentials: set {ENV_USER} and {ENV_PASSWORD}, or create "
            f"Prefect Secret blocks {SECRET_USER!r} and {SECRET_PASSWORD!r} ({exc})"
        ) from None
    return user, password


class ErstClient:
    """A small client for the ERST ``cvr-permanent`` index; every request has ``timeout``."""

    def __init__(
        self,
        base_url: str,
        *,
        credentials: tuple[str, str],
        timeout: float = 30.0,
        concurrency: int = 4,
        rate: float | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        url = httpx.URL(self.base_url)
        # Scroll continuations are served at the host root, not under the index.
        self.host = str(url.copy_with(path="/", query=None)).rstrip("/")
        self.http = RetryingClient(
            timeout=timeout,
            retry=retry,
            rate=rate,
            concurrency=concurrency,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            auth=httpx.BasicAuth(*credentials),
            transport=transport,
            sleep=sleep,
        )

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            _, payload = self.http.request_json(method, url, json=body)
        except ConnectorAuthError as exc:
            raise RegistryAuthError("the registry rejected the credentials") from exc
        if not isinstance(payload, dict):
            raise ConnectorUnavailableError(f"{url}: the answer is not a JSON object")
        return payload

    def search(self, body: dict[str, Any], *, scroll: str | None = None) -> dict[str, Any]:
        url = f"{self.base_url}/virksomhed/_search"
        if scroll:
            url += f"?scroll={scroll}"
        return self._call("POST", url, body)

    def scroll(self, scroll_id: str, *, keep_alive: str) -> dict[str, Any]:
        body = {"scroll": keep_alive, "scroll_id": scroll_id}
        return self._call("POST", f"{self.host}/_search/scroll", body)

    def clear_scroll(self, scroll_id: str) -> None:
        """Free the server's scroll context; a failure here costs nothing but server memory."""
        try:
            self._call("DELETE", f"{self.host}/_search/scroll", {"scroll_id": [scroll_id]})
        except (ConnectorUnavailableError, ConnectorRejectedError) as exc:
            log.debug("could not clear the scroll context: %s", exc)

    def documents(
        self,
        cvrs: Sequence[str],
        *,
        fields: Sequence[str] = SOURCE_FIELDS,
        kind: type[DocumentColumns | FactColumns] = DocumentColumns,
    ) -> pl.DataFrame:
        """The rows of those of ``cvrs`` (at most 3,000) the registry knows.

        ``fields`` is the ``_source`` filter, ``kind`` the row: the registry row by default,
        :class:`FactColumns` for monitoring.
        """
        if len(cvrs) > MAX_WINDOW:
            raise ValueError(f"at most {MAX_WINDOW} CVR numbers per request")
        columns = kind()
        query = {"terms": {_CVR_FIELD: [int(cvr) for cvr in cvrs]}}
        start, size = 0, max(1, len(cvrs))
        while True:
            body = {"query": query, "_source": list(fields), "from": start, "size": size}
            payload = self.search(body)
            hits, total = _hits(payload)
            for hit in hits:
                vr = unwrap(hit)
                if vr is not None:
                    columns.add(vr)
            start += len(hits)
            if not hits or start >= total:
                break
            if start >= MAX_WINDOW:
                # Only duplicate documents can lie beyond the window; one per CVR is enough.
                log.warning("ERST: %d documents beyond the 3000 window not read", total - start)
                break
            size = min(size, MAX_WINDOW - start)
        return columns.frame()


def _hits(payload: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The hits of a search answer and the total (ES 6 gives an int, ES 7 an object)."""
    block = payload.get("hits")
    hits = block.get("hits") if isinstance(block, dict) else None
    if not isinstance(hits, list):
        raise ConnectorUnavailableError("the registry's answer has no hits list")
    total = block.get("total") if isinstance(block, dict) else None
    if isinstance(total, dict):
        total = total.get("value")
    return hits, int(total) if isinstance(total, int) else len(hits)


class _ErstOptions(TypedDict, total=False):
    """The options both ERST look-ups take (defaults in :class:`_ErstSource`)."""

    credentials: tuple[str, str] | None
    timeout: float
    concurrency: int
    rate: float | None
    batch_size: int
    retry: RetryPolicy | None
    transport: httpx.BaseTransport | None
    sleep: Callable[[float], None]


class _ErstSource(OnlineRegistry):
    """What both ERST look-ups share: the client, batches of up to 1,000, closing both.

    Without credentials they come from :func:`erst_credentials`. :meth:`_answers` makes the
    look-up cache for the client's base URL; here there is none (always ask afresh).
    """

    def __init__(
        self,
        base_url: str,
        *,
        credentials: tuple[str, str] | None = None,
        timeout: float = 30.0,
        concurrency: int = 4,
        rate: float | None = None,
        batch_size: int = 1000,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 1 <= batch_size <= MAX_WINDOW:
            raise ValueError(f"batch_size must be between 1 and {MAX_WINDOW}")
        self.client = ErstClient(
            base_url,
            credentials=credentials or erst_credentials(),
            timeout=timeout,
            concurrency=concurrency,
            rate=rate,
            retry=retry,
            transport=transport,
            sleep=sleep,
        )
        self.description = f"ERST {self.client.base_url}"
        self.batch_size = batch_size
        # Made after the client: missing credentials must not leave a cache file open.
        super().__init__(cache=self._answers(self.client.base_url), concurrency=concurrency)

    def _answers(self, url: str) -> LookupCache | None:
        """The look-up cache for the registry at ``url``; None: always ask afresh."""
        return None

    def close(self) -> None:
        self.client.close()
        super().close()


class ErstRegistry(_ErstSource):
    """Look-ups against the ERST API in batches of up to 1,000, cached per CVR on disk.

    Answers are kept in ``cache_dir`` (default: ``~/.cache/datavask``) and asked again after
    ``max_age_days``; the other options are :class:`_ErstSource`'s.
    """

    def __init__(
        self,
        base_url: str,
        *,
        cache_dir: Path | None = None,
        max_age_days: float = 7,
        **options: Unpack[_ErstOptions],
    ) -> None:
        self._cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        self._max_age_days = max_age_days
        super().__init__(base_url, **options)

    def _answers(self, url: str) -> LookupCache:
        return LookupCache(
            self._cache_dir / CACHE_FILE, namespace=f"erst:{url}", max_age_days=self._max_age_days
        )

    def fetch(self, cvrs: list[str]) -> pl.DataFrame:
        return self.client.documents(cvrs)


class ErstFacts(_ErstSource):
    """Monitoring facts from the ERST API: always asked fresh (no cache), in batches of 1,000.

    :meth:`lookup` answers with :func:`facts_frame` rows: a batch that fails after the client's
    retries leaves its CVR numbers ``lookup_failed`` — unknown, never "not found".
    """

    def fetch(self, cvrs: list[str]) -> pl.DataFrame:
        return self.client.documents(cvrs, fields=FACT_FIELDS, kind=FactColumns)

    def empty_frame(self) -> pl.DataFrame:
        return empty_facts_frame()

    def assemble(self, wanted: list[str], found: pl.DataFrame, failed: list[str]) -> pl.DataFrame:
        return facts_frame(wanted, found, failed)


# --------------------------------------------------------------------------- bulk download


@dataclass(frozen=True)
class SyncResult:
    """What :func:`sync_snapshot` wrote."""

    path: Path
    documents: int
    resumed: bool
    seconds: float


@dataclass
class _Progress:
    """How far the partial file is complete: every CVR up to ``last_cvr`` is in its first
    ``offset`` bytes (``count`` lines). Lines after ``offset`` may belong to an unfinished CVR."""

    offset: int = 0
    count: int = 0
    last_cvr: int | None = None


def sync_snapshot(
    url: str,
    dest: Path,
    *,
    credentials: tuple[str, str] | None = None,
    full: bool = False,
    page_size: int = 1000,
    keep_alive: str = "5m",
    timeout: float = 60.0,
    retry: RetryPolicy | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int, int | None], None] | None = None,
    max_restarts: int = 3,
) -> SyncResult:
    """Download the registry into a snapshot file at ``dest`` (gzip when it ends in ``.gz``).

    Documents are written sorted by CVR number, one ``{"Vrvirksomhed": …}`` per line, with only
    the fields datavask reads (cleansing and monitoring: ``FACT_FIELDS``) unless ``full``.
    Work goes to ``dest.partial`` with a ``dest.state.json`` beside it; an interrupted run
    leaves both, and the next call with the same ``url`` and options continues after the last
    complete CVR and produces the same bytes as an uninterrupted run. An expired scroll is
    restarted the same way, up to ``max_restarts`` times without progress. ``dest`` itself only
    ever appears complete.
    ``progress(done, total)`` is called after every page.
    """
    started = time.perf_counter()
    partial = dest.with_name(dest.name + ".partial")
    state_path = dest.with_name(dest.name + ".state.json")
    fields = None if full else list(FACT_FIELDS)
    options = {"version": 1, "url": url.rstrip("/"), "fields": fields, "page_size": page_size}
    state, resumed = _load_state(state_path, partial, options)
    client = ErstClient(
        url,
        credentials=credentials or erst_credentials(),
        timeout=timeout,
        concurrency=1,
        retry=retry,
        transport=transport,
        sleep=sleep,
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with partial.open("r+b" if resumed else "wb") as out:
            restarts = 0
            while True:
                out.seek(state.offset)
                out.truncate()
                before = state.offset
                try:
                    _scroll_into(
                        client,
                        out,
                        state,
                        state_path=state_path,
                        options=options,
                        fields=fields,
                        keep_alive=keep_alive,
                        page_size=page_size,
                        progress=progress,
                    )
                    break
                except ConnectorRejectedError as exc:
                    # 404 search_context_missing: the scroll expired. Start a new one from the
                    # last complete CVR.
                    if exc.status_code != 404:
                        raise
                    restarts = 0 if state.offset > before else restarts + 1
                    if restarts > max_restarts:
                        raise
                    log.warning("ERST scroll expired; continuing after the last complete CVR")
            out.flush()
            os.fsync(out.fileno())
    finally:
        client.close()
    _publish(partial, dest)
    state_path.unlink(missing_ok=True)
    partial.unlink(missing_ok=True)
    return SyncResult(dest, state.count, resumed, time.perf_counter() - started)


def _scroll_into(
    client: ErstClient,
    out: Any,
    state: _Progress,
    *,
    state_path: Path,
    options: dict[str, Any],
    fields: list[str] | None,
    keep_alive: str,
    page_size: int,
    progress: Callable[[int, int | None], None] | None,
) -> None:
    """Scroll from after ``state.last_cvr`` to the end, appending lines and committing state."""
    query: dict[str, Any] = (
        {"range": {_CVR_FIELD: {"gt": state.last_cvr}}}
        if state.last_cvr is not None
        else {"match_all": {}}
    )
    body: dict[str, Any] = {"query": query, "size": page_size, "sort": list(_SCROLL_SORT)}
    if fields is not None:
        body["_source"] = fields
    payload = client.search(body, scroll=keep_alive)
    hits, remaining = _hits(payload)
    total = state.count + remaining
    # Lines already in the file but after the committed offset were truncated away: count anew.
    written = state.count
    group_cvr = state.last_cvr
    scroll_id = payload.get("_scroll_id")
    try:
        while hits:
            lines = []
            boundary: _Progress | None = None
            offset = out.tell()
            for hit in hits:
                source = hit.get("_source")
                vr = unwrap(hit)
                cvr = vr.get("cvrNummer") if vr is not None else None
                if vr is None or cvr_text(cvr) is None:
                    raise ConnectorUnavailableError(
                        "the registry sent a document without a CVR number"
                    )
                if cvr != group_cvr:
                    # Every CVR before this line is complete.
                    boundary = _Progress(offset, written, group_cvr)
                    group_cvr = cvr
                line = orjson.dumps(source) + b"\n"
                lines.append(line)
                offset += len(line)
                written += 1
            out.write(b"".join(lines))
            out.flush()
            os.fsync(out.fileno())
            if boundary is not None and boundary.last_cvr is not None:
                state.offset, state.count, state.last_cvr = (
                    boundary.offset,
                    boundary.count,
                    boundary.last_cvr,
                )
                _save_state(state_path, state, options)
            if progress is not None:
                progress(written, total)
            if not isinstance(scroll_id, str):
                raise ConnectorUnavailableError("the registry's answer has no scroll id")
            payload = client.scroll(scroll_id, keep_alive=keep_alive)
            scroll_id = payload.get("_scroll_id", scroll_id)
            hits, _ = _hits(payload)
    finally:
        if isinstance(scroll_id, str):
            client.clear_scroll(scroll_id)
    state.offset, state.count = out.tell(), written
    state.last_cvr = group_cvr


def _load_state(state_path: Path, partial: Path, options: dict[str, Any]) -> tuple[_Progress, bool]:
    """The saved progress when it belongs to these options and its partial file is intact."""
    if not (state_path.is_file() and partial.is_file()):
        return _Progress(), False
    try:
        saved = orjson.loads(state_path.read_bytes())
        progress = _Progress(int(saved["offset"]), int(saved["count"]), saved["last_cvr"])
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return _Progress(), False
    if saved.get("options") != options or partial.stat().st_size < progress.offset:
        log.warning("ignoring an earlier unfinished download made with other options")
        return _Progress(), False
    log.info("resuming the registry download after %d documents", progress.count)
    return progress, True


def _save_state(state_path: Path, state: _Progress, options: dict[str, Any]) -> None:
    payload = {
        "options": options,
        "offset": state.offset,
        "count": state.count,
        "last_cvr": state.last_cvr,
    }
    temporary = state_path.with_name(state_path.name + ".tmp")
    with temporary.open("wb") as fh:
        fh.write(orjson.dumps(payload))
        fh.flush()
        os.fsync(fh.fileno())
    temporary.replace(state_path)


def _publish(partial: Path, dest: Path) -> None:
    """Move the finished download to ``dest`` atomically, compressing it for a ``.gz`` name."""
    temporary = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    with partial.open("rb") as source, temporary.open("wb") as raw:
        if dest.name.endswith(".gz"):
            # No timestamp or file name in the header: the same documents give the same bytes.
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
                shutil.copyfileobj(source, packed, 1 << 20)
        else:
            shutil.copyfileobj(source, raw, 1 << 20)
        raw.flush()
        os.fsync(raw.fileno())
    temporary.replace(dest)
    directory = os.open(dest.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
