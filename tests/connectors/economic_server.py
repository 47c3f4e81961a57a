"""A local stand-in for the e-conomic REST API's ``GET /customers``, on 127.0.0.1.

It speaks e-conomic's collection format — ``{"collection": [...], "pagination": {"skipPages",
"pageSize", "maxPageSizeAllowed", "results", "resultsWithoutFilter", "firstPage", "nextPage",
"lastPage"}, "self": ...}`` with ``skippages``/``pagesize`` (at most 1000, else 400 like the real
API) and ``sort=customerNumber`` — and checks ``X-AppSecretToken`` / ``X-AgreementGrantToken``,
answering a JSON 401 when they are wrong.

Faults are queued and consumed one per request: ``(status, headers, body)``, e.g. a 429 with
``Retry-After`` or a 503. Every request is recorded for the tests to inspect.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson

MAX_PAGE_SIZE = 1000


def make_customer(number: int, **fields: Any) -> dict[str, Any]:
    """A customer the way e-conomic returns it, nested objects and ``self`` links included."""
    base = "https://restapi.e-conomic.com"
    customer: dict[str, Any] = {
        "customerNumber": number,
        "currency": "DKK",
        "paymentTerms": {"paymentTermsNumber": 1, "self": f"{base}/payment-terms/1"},
        "customerGroup": {"customerGroupNumber": 1, "self": f"{base}/customer-groups/1"},
        "address": f"Vestergade {number}",
        "balance": 1250.0,
        "dueAmount": 0.0,
        "corporateIdentificationNumber": "",
        "city": "Aarhus C",
        "country": "Danmark",
        "email": f"kunde{number}@example.dk",
        "name": f"Kunde {number} ApS",
        "zip": "8000",
        "telephoneAndFaxNumber": "86 12 34 56",
        "vatZone": {"vatZoneNumber": 1, "self": f"{base}/vat-zones/1"},
        "lastUpdated": "2024-03-01T09:15:00Z",
        "contacts": f"{base}/customers/{number}/contacts",
        "templates": {"invoice": f"{base}/customers/{number}/templates/invoice", "self": "x"},
        "totals": {"self": f"{base}/customers/{number}/totals"},
        "barred": False,
        "self": f"{base}/customers/{number}",
    }
    customer.update(fields)
    return customer


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class EconomicServer:
    """Serves ``customers``; use as a context manager, then ``url`` is the base URL."""

    customers: list[dict[str, Any]] = field(default_factory=list)
    app_secret: str = "app-secret-test-token"
    grant: str = "agreement-grant-test-token"
    faults: deque[tuple[int, dict[str, str], bytes]] = field(default_factory=deque)
    requests: list[Request] = field(default_factory=list)
    next_page_host: str | None = None  # to test a nextPage that points elsewhere
    url: str = ""
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> EconomicServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        server.daemon_threads = True
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def fail_next(self, status: int, *, headers: dict[str, str] | None = None) -> None:
        body = orjson.dumps({"message": f"fault {status}", "httpStatusCode": status})
        self.faults.append((status, headers or {}, body))

    # ----------------------------------------------------------------------- answering

    def answer(
        self, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(Request(path, query, headers))
            if self.faults:
                return self.faults.popleft()
        if path != "/customers":
            return _error(404, "E00010", f"no such resource {path}")
        if (
            headers.get("x-appsecrettoken") != self.app_secret
            or headers.get("x-agreementgranttoken") != self.grant
        ):
            return _error(401, "E00500", "The provided tokens are not valid.")
        try:
            skip = int(query.get("skippages", "0"))
            size = int(query.get("pagesize", "20"))
        except ValueError:
            return _error(400, "E04300", "skippages and pagesize must be integers")
        if size > MAX_PAGE_SIZE or size < 1 or skip < 0:
            return _error(400, "E04300", f"pagesize must be between 1 and {MAX_PAGE_SIZE}")
        items = self.customers
        if query.get("sort") == "customerNumber":
            items = sorted(items, key=lambda c: c["customerNumber"])
        page = items[skip * size : (skip + 1) * size]
        last = max(0, (len(items) - 1) // size)
        host = self.next_page_host or self.url

        def link(n: int, where: str = self.url) -> str:
            params = {k: v for k, v in query.items() if k not in ("skippages", "pagesize")}
            return f"{where}/customers?" + urlencode({"skippages": n, "pagesize": size} | params)

        pagination: dict[str, Any] = {
            "maxPageSizeAllowed": MAX_PAGE_SIZE,
            "skipPages": skip,
            "pageSize": size,
            "results": len(items),
            "resultsWithoutFilter": len(self.customers),
            "firstPage": link(0),
            "lastPage": link(last),
        }
        if skip < last:
            pagination["nextPage"] = link(skip + 1, host)
        if skip > 0:
            pagination["previousPage"] = link(skip - 1)
        body = {
            "collection": copy.deepcopy(page),
            "pagination": pagination,
            "self": link(skip),
        }
        return 200, {}, orjson.dumps(body)


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = {"message": message, "errorCode": code, "httpStatusCode": status, "logId": "test"}
    return status, {}, orjson.dumps(body)


def _handler(server: EconomicServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, body = server.answer(parts.path, query, headers)
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler
