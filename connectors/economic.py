"""Read customers from the e-conomic REST API (``economic://customers``) as a text table.

``GET {base}/customers?skippages=0&pagesize=1000&sort=customerNumber`` and then every
``pagination.nextPage`` the API hands back, with the tokens in ``X-AppSecretToken`` and
``X-AgreementGrantToken``. The base URL is ``https://restapi.e-conomic.com`` unless
``DATAVASK_ECONOMIC_URL`` says otherwise. The tokens come from ``DATAVASK_ECONOMIC_APP_SECRET`` /
``DATAVASK_ECONOMIC_GRANT`` or, when those are not set, from the Prefect Secret blocks
``datavask-economic-app-secret`` / ``datavask-economic-grant``. ``?filter=`` is passed on as
e-conomic's own filter (``economic://customers?filter=barred$eq:false``).

Each customer becomes one row with the columns of e-conomic's own customer export first
(:data:`EXPORT_COLUMNS`, so the automatic column mapping recognises them), then any other field,
nested objects flattened to dotted names (``customerGroup.customerGroupNumber``) and their
``self`` links left out. Retries (429 with ``Retry-After``, 5xx, timeouts) are
:class:`datavask.connectors.http.RetryingClient`'s; what still fails is an :class:`InputError`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

import httpx
import orjson
import polars as pl

from datavask.connectors.errors import ConnectorError, InputError
from datavask.connectors.http import (
    ConnectorAuthError,
    ConnectorRejectedError,
    RetryingClient,
    RetryPolicy,
)
from datavask.connectors.secret_blocks import SecretBlockUnavailable, secret_block
from datavask.connectors.sources import SourceInfo, csv_text
from datavask.settings import settings

log = logging.getLogger(__name__)

DEFAULT_URL: Final = "https://restapi.e-conomic.com"
ENV_URL: Final = "DATAVASK_ECONOMIC_URL"
ENV_APP_SECRET: Final = "DATAVASK_ECONOMIC_APP_SECRET"
ENV_GRANT: Final = "DATAVASK_ECONOMIC_GRANT"
SECRET_APP_SECRET: Final = "datavask-economic-app-secret"
SECRET_GRANT: Final = "datavask-economic-grant"
RESOURCES: Final = ("customers",)
PAGE_SIZE: Final = 1000  # e-conomic's maximum
TIMEOUT: Final = 30.0
MAX_PAGES: Final = 10_000  # ten million customers: past that the API is going round in circles

EXPORT_COLUMNS: Final = (
    "customerNumber",
    "name",
    "address",
    "zip",
    "city",
    "country",
    "corporateIdentificationNumber",
    "ean",
    "email",
    "telephoneAndFaxNumber",
    "mobilePhone",
    "barred",
    "lastUpdated",
)


def economic_tokens() -> tuple[str, str]:
    """``(app secret token, agreement grant token)`` from the environment, else Prefect blocks."""
    env = settings()
    app = env.economic_app_secret.get_secret_value() if env.economic_app_secret else None
    grant = env.economic_grant.get_secret_value() if env.economic_grant else None
    if app and grant:
        return app, grant
    try:
        app = app or secret_block(SECRET_APP_SECRET)
        grant = grant or secret_block(SECRET_GRANT)
    except SecretBlockUnavailable as exc:
        raise InputError(
            f"e-conomic needs tokens: set {ENV_APP_SECRET} and {ENV_GRANT}, or create Prefect "
            f"Secret blocks {SECRET_APP_SECRET!r} and {SECRET_GRANT!r} ({exc})"
        ) from None
    return app, grant


def read_economic(
    url: str,
    *,
    base_url: str | None = None,
    tokens: tuple[str, str] | None = None,
    page_size: int = PAGE_SIZE,
    timeout: float = TIMEOUT,
    retry: RetryPolicy | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[pl.DataFrame, SourceInfo]:
    """Every customer of the agreement as text columns (no ``source_row`` yet), in API order."""
    resource, params = _parse(url)
    base = (base_url or settings().economic_url or DEFAULT_URL).rstrip("/")
    app, grant = tokens or economic_tokens()
    info = SourceInfo(path=url, sha256="", format="economic", source=resource)
    info.order = "customerNumber (sort=customerNumber)"
    headers = {
        "X-AppSecretToken": app,
        "X-AgreementGrantToken": grant,
        "Accept": "application/json",
        "User-Agent": "datavask",
    }
    digest = hashlib.sha256()
    rows: list[dict[str, str | None]] = []
    first = {"skippages": "0", "pagesize": str(page_size), "sort": "customerNumber"} | params
    with RetryingClient(
        timeout=timeout, retry=retry, headers=headers, transport=transport, sleep=sleep
    ) as client:
        try:
            for page in _pages(client, f"{base}/{resource}", first):
                digest.update(orjson.dumps(page, option=orjson.OPT_SORT_KEYS))
                rows.extend(flatten(item) for item in page)
        except ConnectorAuthError as exc:
            raise InputError(
                f"{url}: e-conomic rejected the tokens (HTTP {exc.status_code}); check "
                f"{ENV_APP_SECRET} and {ENV_GRANT}"
            ) from None
        except ConnectorRejectedError as exc:
            raise InputError(f"{url}: e-conomic refused the request ({exc})") from None
        except ConnectorError as exc:
            raise InputError(f"{url}: e-conomic did not answer ({exc})") from None
    info.sha256 = digest.hexdigest()
    table = _table(rows)
    info.rows = table.height
    log.info("read %d %s from e-conomic", table.height, resource)
    return table, info


def _parse(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url, allow_fragments=False)
    resource = (parts.netloc + parts.path).strip("/")
    if resource not in RESOURCES:
        raise InputError(
            f"{url}: datavask reads {', '.join(f'economic://{r}' for r in RESOURCES)} "
            f"from e-conomic, not {resource or 'nothing'!r}"
        )
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(params) - {"filter"})
    if unknown:
        raise InputError(
            f"{url}: unknown parameter {', '.join(unknown)}; only filter= is passed on"
        )
    return resource, params


def _pages(
    client: RetryingClient, url: str, params: Mapping[str, str]
) -> Iterator[list[dict[str, Any]]]:
    """Each page's ``collection``, following ``pagination.nextPage`` on the same host only."""
    origin = httpx.URL(url).copy_with(path="/", query=None)
    seen: set[str] = set()
    next_url: str | None = url
    first: Mapping[str, str] | None = params
    while next_url:
        if len(seen) >= MAX_PAGES or next_url in seen:
            raise ConnectorError(f"the pages do not end (page {len(seen) + 1} is {next_url})")
        seen.add(next_url)
        _, body = client.request_json("GET", next_url, params=first)
        first = None
        if not isinstance(body, dict) or not isinstance(body.get("collection"), list):
            raise ConnectorError(f"{next_url} answered without a collection")
        yield [item for item in body["collection"] if isinstance(item, dict)]
        pagination = body.get("pagination") or {}
        next_url = pagination.get("nextPage") if isinstance(pagination, dict) else None
        if next_url and httpx.URL(next_url).copy_with(path="/", query=None) != origin:
            # The tokens go with every request: never to a host the user did not name.
            raise ConnectorError(f"the next page points at another host ({origin} expected)")


def flatten(item: Mapping[str, Any], prefix: str = "") -> dict[str, str | None]:
    """One e-conomic object as dotted text columns, without its ``self`` links.

    >>> flatten({"customerNumber": 7, "barred": False, "self": "https://…",
    ...          "customerGroup": {"customerGroupNumber": 1, "self": "https://…"}})
    {'customerNumber': '7', 'barred': 'false', 'customerGroup.customerGroupNumber': '1'}
    """
    flat: dict[str, str | None] = {}
    for key, value in item.items():
        if key == "self":
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = csv_text(value)
    return flat


def _table(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    """Export columns first, in e-conomic's order, then every other field as first seen."""
    extra: dict[str, None] = {}
    for row in rows:
        extra.update(dict.fromkeys(k for k in row if k not in extra))
    columns = list(EXPORT_COLUMNS) + [c for c in extra if c not in EXPORT_COLUMNS]
    data = {c: [row.get(c) for row in rows] for c in columns}
    return pl.DataFrame(data, schema=dict.fromkeys(columns, pl.String))
