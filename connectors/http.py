"""One retrying HTTP transport for the online connectors, and the one place httpx errors are mapped.

:class:`RetryingClient` wraps an ``httpx.Client`` (its transport can be injected for tests) and
gives every request an explicit timeout. It retries only what can succeed on a second try —
timeouts, connection errors, 429 (honouring ``Retry-After``), 5xx and garbled JSON bodies — with
exponential back-off and jitter, and never 400/401/403. Whatever still fails leaves as one of the
errors below, never as an ``httpx`` exception.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from datavask.connectors.errors import ConnectorError

log = logging.getLogger(__name__)


class ConnectorUnavailableError(ConnectorError):
    """No usable answer after the retries: timeouts, connection errors, 429, 5xx, garbled bodies."""


class ConnectorTimeoutError(ConnectorUnavailableError):
    """The server did not answer within the timeout on the last attempt."""


class ConnectorRejectedError(ConnectorError):
    """The server refused the request (a 4xx other than 401/403/429): retrying cannot help."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class ConnectorAuthError(ConnectorError):
    """The server refused the credentials (401) or the access (403)."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How often and how patiently to ask again.

    Attempt ``n`` (0-based) waits ``min(max_delay, base_delay * 2**n)`` scaled by a random factor
    in [0.5, 1], unless the server said how long in ``Retry-After`` (capped at ``max_retry_after``).
    """

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 300.0

    def backoff(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * 2**attempt) * random.uniform(0.5, 1.0)


class RateLimiter:
    """Spaces request starts at least ``1 / rate`` seconds apart, across threads."""

    def __init__(self, rate: float | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._clock = clock
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self, sleep: Callable[[float], None]) -> None:
        if not self._interval:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            sleep(start - now)


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class RetryingClient:
    """An ``httpx.Client`` with retries, a rate limit and one error boundary.

    >>> client = RetryingClient(timeout=5.0)
    >>> client.timeout.read
    5.0
    >>> client.close()
    """

    def __init__(
        self,
        *,
        timeout: float,
        retry: RetryPolicy | None = None,
        rate: float | None = None,
        concurrency: int = 4,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive: every request needs a deadline")
        self.timeout = httpx.Timeout(timeout)
        self.retry = retry or RetryPolicy()
        self._limiter = RateLimiter(rate)
        self._sleep = sleep
        self._client = httpx.Client(
            timeout=self.timeout,
            headers=dict(headers or {}),
            auth=auth,
            transport=transport,
            limits=httpx.Limits(max_connections=max(1, concurrency)),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RetryingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request_json(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        accept: Callable[[httpx.Response], bool] | None = None,
    ) -> tuple[int, Any]:
        """Send one request, retrying transient failures; return ``(status, decoded JSON body)``.

        ``accept(response)`` may declare a non-2xx status to be an answer rather than an error
        (cvrapi.dk says "not found" with a 404 and a JSON body, for instance).
        """
        last: str = "no attempt made"
        timed_out = False
        for attempt in range(self.retry.attempts):
            self._limiter.wait(self._sleep)
            wait: float | None = None
            try:
                response = self._client.request(
                    method, url, json=json, params=params, timeout=self.timeout
                )
            except httpx.TimeoutException as exc:
                last, timed_out = (
                    f"no answer within {self.timeout.read:g} s ({type(exc).__name__})",
                    True,
                )
            except httpx.TransportError as exc:
                last, timed_out = f"connection failed ({type(exc).__name__}: {exc})", False
            except httpx.HTTPError as exc:  # redirects, decoding: not transient
                raise ConnectorError(f"{method} {_where(url)} failed: {exc}") from exc
            else:
                timed_out = False
                status = response.status_code
                answered = status < 300 or (accept is not None and accept(response))
                if answered:
                    try:
                        return status, orjson.loads(response.content)
                    except orjson.JSONDecodeError:
                        last = f"HTTP {status} with a body that is not JSON ({_snippet(response)})"
                elif status in (401, 403):
                    raise ConnectorAuthError(
                        f"{method} {_where(url)}: HTTP {status}", status_code=status
                    )
                elif status == 429 or status >= 500:
                    last = f"HTTP {status} ({_snippet(response)})"
                    wait = retry_after_seconds(response.headers.get("Retry-After"))
                else:
                    raise ConnectorRejectedError(
                        f"{method} {_where(url)}: HTTP {status}: {_snippet(response)}",
                        status_code=status,
                    )
            if attempt + 1 < self.retry.attempts:
                delay = self.retry.backoff(attempt)
                if wait is not None:
                    delay = min(wait, self.retry.max_retry_after)
                log.warning("%s %s: %s; retrying in %.1f s", method, _where(url), last, delay)
                self._sleep(delay)
        error = ConnectorTimeoutError if timed_out else ConnectorUnavailableError
        raise error(f"{method} {_where(url)}: {last}, after {self.retry.attempts} attempts")


def _where(url: str) -> str:
    """The URL without query string or credentials, for messages."""
    parsed = httpx.URL(url)
    return str(parsed.copy_with(query=None, userinfo=b""))


def _snippet(response: httpx.Response, limit: int = 120) -> str:
    text = " ".join(response.text.split())
    return text if len(text) <= limit else text[:limit] + "…"
