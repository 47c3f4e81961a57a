"""cvrapi.dk: a free, rate-limited gateway to the CVR registry, one company per request.

``GET https://cvrapi.dk/api?search=<cvr>&country=dk`` with a descriptive ``User-Agent`` (the
service refuses requests without one). Problems come back as an ``error`` key, also inside
HTTP 200 answers: ``NOT_FOUND`` is an answer; ``QUOTA_EXCEEDED`` (the daily quota) stops all
further asking and leaves the rest unchecked; ``INVALID_UA`` and ``BANNED`` stop the run.

The service gives less than ERST: no secondary names (binavne), no name history and no status
text, so ``registry_status`` is derived from its end date and credit fields.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any, Final

import httpx
import orjson
import polars as pl

from datavask.connectors.cvr_base import (
    CACHE_FILE,
    LookupCache,
    OnlineRegistry,
    RegistryAuthError,
    RegistryConfigError,
    RegistryQuotaError,
    default_cache_dir,
)
from datavask.connectors.cvr_document import (
    DOCUMENT_SCHEMA,
    FORM_SHORT,
    MASKED_DOCUMENT_COLUMNS,
    empty_document_frame,
    mask_registry_text,
    status_class,
)
from datavask.connectors.http import (
    ConnectorAuthError,
    ConnectorUnavailableError,
    RetryingClient,
    RetryPolicy,
)

CVRAPI_URL: Final = "https://cvrapi.dk/api"
USER_AGENT: Final = "datavask - customer master-data cleansing - CVR check of customer records"

# "Vestergade 12A, 2. tv" → street, number, rest.
_ADDRESS = re.compile(
    r"^(?P<street>.*?\D)\s*(?P<number>\d+\s?[A-Za-zÆØÅæøå]?)\b(?:,?\s*(?P<rest>.*))?$"
)
_FLOOR_DOOR = re.compile(r"^(?P<floor>st|kl|\d+)\.?\s*(?P<door>\S+)?$", re.IGNORECASE)
# cvrapi.dk dates: "04/08 - 1998".
_DATE = re.compile(r"^(?P<day>\d{2})/(?P<month>\d{2})\s*-\s*(?P<year>\d{4})$")


def _accept_error_body(response: httpx.Response) -> bool:
    """A 4xx with a JSON ``error`` body is cvrapi.dk answering, not the transport failing."""
    if not 400 <= response.status_code < 500 or response.status_code in (401, 403):
        return False
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return False
    return isinstance(body, dict) and "error" in body


class CvrapiRegistry(OnlineRegistry):
    """Look-ups at cvrapi.dk, one CVR per request, cached per CVR on disk."""

    batch_size = 1

    def __init__(
        self,
        *,
        country: str = "dk",
        base_url: str = CVRAPI_URL,
        user_agent: str = USER_AGENT,
        cache_dir: Path | None = None,
        max_age_days: float = 7,
        timeout: float = 30.0,
        concurrency: int = 2,
        rate: float | None = 2.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url
        self.country = country.lower()
        self.description = f"cvrapi.dk ({self.country})"
        self.http = RetryingClient(
            timeout=timeout,
            retry=retry,
            rate=rate,
            concurrency=concurrency,
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            transport=transport,
            sleep=sleep,
        )
        directory = cache_dir if cache_dir is not None else default_cache_dir()
        cache = LookupCache(
            directory / CACHE_FILE,
            namespace=f"cvrapi:{base_url}:{self.country}",
            max_age_days=max_age_days,
        )
        super().__init__(cache=cache, concurrency=concurrency)

    def close(self) -> None:
        self.http.close()
        super().close()

    def fetch(self, cvrs: list[str]) -> pl.DataFrame:
        rows = [row for row in (self._one(cvr) for cvr in cvrs) if row is not None]
        if not rows:
            return empty_document_frame()
        frame = pl.DataFrame(rows, schema=dict(DOCUMENT_SCHEMA), orient="row")
        return mask_registry_text(frame, MASKED_DOCUMENT_COLUMNS)

    def _one(self, cvr: str) -> tuple[Any, ...] | None:
        try:
            _, answer = self.http.request_json(
                "GET",
                self.base_url,
                params={"search": cvr, "country": self.country},
                accept=_accept_error_body,
            )
        except ConnectorAuthError as exc:
            raise RegistryAuthError("cvrapi.dk refused this client") from exc
        if not isinstance(answer, dict):
            raise ConnectorUnavailableError("cvrapi.dk: the answer is not a JSON object")
        error = answer.get("error")
        if error is not None:
            _raise_unless_not_found(str(error))
            return None
        if str(answer.get("vat")) != cvr:  # a free-text search may find another company
            return None
        return company_row(cvr, answer)


def _raise_unless_not_found(code: str) -> None:
    """Raise the exception that cvrapi.dk's ``error`` value means; return for NOT_FOUND."""
    if code == "NOT_FOUND":
        return None
    if code == "QUOTA_EXCEEDED":
        raise RegistryQuotaError("cvrapi.dk: the daily quota is used up")
    if code == "INVALID_UA":
        raise RegistryConfigError("cvrapi.dk refused the User-Agent: give a descriptive one")
    if code == "BANNED":
        raise RegistryAuthError("cvrapi.dk has banned this client")
    raise ConnectorUnavailableError(f"cvrapi.dk answered {code}")


def company_row(cvr: str, answer: Mapping[str, Any]) -> tuple[Any, ...]:
    """A cvrapi.dk company object as a document row (values in :data:`DOCUMENT_SCHEMA` order)."""
    street = number = floor = door = None
    match = _ADDRESS.match(_text(answer.get("address")) or "")
    if match:
        street, number = match["street"].strip(), match["number"].replace(" ", "")
        rest = _FLOOR_DOOR.match((match["rest"] or "").strip())
        if rest:
            floor, door = rest["floor"].lower(), rest["door"]
    elif answer.get("address"):
        street = _text(answer.get("address"))
    end = _date(answer.get("enddate"))
    credit = answer.get("creditstatus")
    credit_text = _text(credit) if isinstance(credit, str) else None
    if end is not None:
        status = "OPHØRT"
    elif answer.get("creditbankrupt"):
        status = "UNDER KONKURS"
    elif credit_text:
        status = credit_text.upper()
    else:
        status = "NORMAL"
    code = answer.get("companycode")
    code = int(code) if isinstance(code, int | str) and str(code).isdigit() else None
    postal = _text(answer.get("zipcode"))
    po_box = None
    if street and street.casefold().startswith("postboks"):
        po_box, street, number = (number or street), None, None
    values: dict[str, Any] = {
        "cvr": cvr,
        "registry_status": status,
        "registry_status_class": status_class(status) or "normal",
        "registry_name": _text(answer.get("name")),
        "registry_binavne": [],
        "registry_former_names": [],
        "registry_street": street,
        "registry_house_number": number,
        "registry_floor": floor,
        "registry_door": door,
        "registry_postal_code": postal.zfill(4) if postal and postal.isdigit() else postal,
        "registry_city": _text(answer.get("city")),
        "registry_co_name": _text(answer.get("addressco")),
        "registry_po_box": po_box,
        "registry_form_code": code,
        "registry_form": FORM_SHORT.get(code, _text(answer.get("companydesc")))
        if code is not None
        else _text(answer.get("companydesc")),
        "registry_phone": _text(answer.get("phone")),
        "registry_email": _text(answer.get("email")),
        "reklamebeskyttet": bool(answer.get("protected")),
        "registry_end_date": end,
    }
    return tuple(values[name] for name in DOCUMENT_SCHEMA)


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _date(value: object) -> date | None:
    match = _DATE.match(str(value or "").strip())
    if not match:
        return None
    try:
        return date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        return None
