"""A local stand-in for the ERST CVR Elasticsearch API (and cvrapi.dk), on 127.0.0.1.

It speaks the parts of the protocol datavask uses — ``POST /cvr-permanent/virksomhed/_search``
with ``term``/``terms``/``range``/``match_all`` queries on ``Vrvirksomhed.cvrNummer``, ``_source``
filtering, ``sort``, ``from``/``size`` with the 3000-document window error, the scroll API
(``?scroll=``, ``POST /_search/scroll``, ``DELETE /_search/scroll``), HTTP Basic auth answered
by an nginx-style HTML 401 — and ``GET /api?search=…`` the way cvrapi.dk answers.

Faults are queued per route and consumed one per request: 429 with ``Retry-After``, 503, a
stall longer than the client's timeout, a malformed JSON body, an expired scroll id.
"""

from __future__ import annotations

import base64
import copy
import itertools
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

MAX_WINDOW = 3000

NGINX_401 = (
    b"<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n"
    b"<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def _period(start: str | None = "2010-01-01", end: str | None = None) -> dict[str, Any]:
    return {"gyldigFra": start, "gyldigTil": end}


def make_document(
    cvr: int | str,
    *,
    name: str = "Hansen Byg ApS",
    former_names: Iterable[str] = (),
    binavne: Iterable[str] = (),
    former_binavne: Iterable[str] = (),
    form_code: int = 80,
    form_short: str = "APS",
    status: str | None = "NORMAL",
    history_status: str | None = None,
    credit_bankrupt: bool = False,
    ended: str | None = None,
    street: str | None = "Vestergade",
    house: int | None = 12,
    letter: str | None = None,
    floor: str | None = None,
    door: str | None = None,
    postal: int | None = 8000,
    city: str | None = "Aarhus C",
    co_name: str | None = None,
    phone: str | None = None,
    phone_secret: bool = False,
    email: str | None = None,
    reklame: bool = False,
    updated: str = "2024-01-01T00:00:00.000+01:00",
    detail: bool = False,
) -> dict[str, Any]:
    """One ``{"Vrvirksomhed": …}`` document in the shape ERST publishes (lists with periods).

    ``detail=True`` adds the bulky parts datavask never reads (participants, industries,
    employment, attributes) so a document weighs what a real one does.
    """
    former = list(former_names)
    names = [
        {"navn": old, "periode": _period(f"{2000 + i}-01-01", f"{2001 + i}-01-01")}
        for i, old in enumerate(reversed(former))
    ]
    names.append({"navn": name, "periode": _period("2015-01-01", ended)})
    current_binavne = list(binavne)
    binavn_items = [{"navn": b, "periode": _period("2016-01-01")} for b in current_binavne]
    binavn_items += [
        {"navn": b, "periode": _period("2005-01-01", "2012-01-01")} for b in former_binavne
    ]
    address = {
        "landekode": "DK",
        "fritekst": None,
        "vejkode": 832,
        "kommune": {"kommuneKode": 751, "kommuneNavn": "AARHUS", "periode": _period()},
        "husnummerFra": house,
        "husnummerTil": None,
        "bogstavFra": letter,
        "bogstavTil": None,
        "etage": floor,
        "sidedoer": door,
        "conavn": co_name,
        "postboks": None,
        "vejnavn": street,
        "bynavn": None,
        "postnummer": postal,
        "postdistrikt": city,
        "periode": _period("2014-06-11", ended),
    }
    form = {
        "virksomhedsformkode": form_code,
        "kortBeskrivelse": form_short,
        "langBeskrivelse": "Anpartsselskab",
        "ansvarligDataleverandoer": "E&S",
        "periode": _period("2011-06-16", ended),
    }
    history = history_status or (status.upper() if status else "NORMAL")
    vr: dict[str, Any] = {
        "cvrNummer": int(cvr),
        "reklamebeskyttet": reklame,
        "navne": names,
        "binavne": binavn_items,
        "postadresse": [],
        "beliggenhedsadresse": [address],
        "telefonNummer": (
            [{"kontaktoplysning": phone, "hemmelig": phone_secret, "periode": _period()}]
            if phone
            else []
        ),
        "elektroniskPost": (
            [{"kontaktoplysning": email, "hemmelig": False, "periode": _period()}] if email else []
        ),
        "livsforloeb": [{"periode": _period("1998-08-04", ended)}],
        "status": (
            [
                {
                    "statuskode": 5,
                    "statustekst": "Konkurs",
                    "kreditoplysningkode": 1,
                    "kreditoplysningtekst": "Konkurs",
                    "periode": _period("2023-01-01"),
                }
            ]
            if credit_bankrupt
            else []
        ),
        "virksomhedsstatus": [{"status": history, "periode": _period("1998-08-04", ended)}],
        "virksomhedsform": [form],
        "fejlRegistreret": False,
        "sidstOpdateret": updated,
        "enhedsNummer": 4_000_000_000 + int(cvr) % 1_000_000_000,
        "virksomhedMetadata": {
            "nyesteNavn": {"navn": name, "periode": _period("2015-01-01", ended)},
            "nyesteBinavne": current_binavne,
            "nyesteVirksomhedsform": form,
            "nyesteBeliggenhedsadresse": address,
            "sammensatStatus": status,
            "stiftelsesDato": "1998-08-04",
        },
    }
    if detail:
        vr.update(_detail(int(cvr)))
    return {"Vrvirksomhed": vr}


def _detail(cvr: int) -> dict[str, Any]:
    """The parts of a real document that datavask does not read, at their usual weight."""
    branch = {
        "branchekode": "642020",
        "branchetekst": "Ikke-finansielle holdingselskaber",
        "periode": _period("2009-01-01"),
        "sidstOpdateret": "2011-10-19T17:52:04.000+02:00",
    }
    participant = {
        "deltager": {
            "enhedsNummer": 4_000_046_142 + cvr % 1000,
            "enhedstype": "PERSON",
            "navne": [{"navn": "Jørgen Jørgensen", "periode": _period(None)}],
        },
        "kontorsteder": [],
        "organisationer": [
            {
                "enhedsNummerOrganisation": 4_004_607_671,
                "hovedtype": "LEDELSESORGAN",
                "organisationsNavn": [{"navn": "Bestyrelse", "periode": _period("1998-08-04")}],
                "medlemsData": [
                    {
                        "attributter": [
                            {
                                "sekvensnr": 0,
                                "type": "FUNKTION",
                                "vaerditype": "string",
                                "vaerdier": [
                                    {"vaerdi": "BESTYRELSE", "periode": _period("1998-12-28")},
                                    {"vaerdi": "FORMAND", "periode": _period("2017-02-27")},
                                ],
                            }
                        ]
                    }
                ],
            }
        ],
    }
    return {
        "regNummer": [{"regnummer": f"ApS{cvr % 999_999}", "periode": _period("1998-08-04")}],
        "hovedbranche": [branch],
        "bibranche1": [],
        "telefaxNummer": [],
        "hjemmeside": [],
        "aarsbeskaeftigelse": [
            {"aar": 2022, "antalAnsatte": 12, "intervalKodeAntalAnsatte": "ANTAL_10_19"}
        ],
        "attributter": [
            {
                "sekvensnr": 0,
                "type": "KAPITAL",
                "vaerditype": "decimal",
                "vaerdier": [{"vaerdi": "125000.00", "periode": _period("2000-06-30")}],
            },
            {
                "sekvensnr": 0,
                "type": "REGNSKABSÅR_START",
                "vaerditype": "gMonthDay",
                "vaerdier": [{"vaerdi": "--01-01", "periode": _period("1998-08-04")}],
            },
        ],
        "penheder": [{"pNummer": 1_007_201_377 + cvr % 1000, "periode": _period("1999-11-03")}],
        "deltagerRelation": [participant, copy.deepcopy(participant)],
        "samtId": 13,
        "dataAdgang": 0,
        "enhedstype": "VIRKSOMHED",
        "sidstIndlaest": "2024-09-13T14:09:02.084+02:00",
    }


# --------------------------------------------------------------------------- the server


@dataclass
class Fault:
    """One injected failure: ``kind`` is 429, 503, 500, stall, malformed or expired."""

    kind: str
    retry_after: str | None = None
    stall: float = 0.0


@dataclass
class _Scroll:
    hits: list[dict[str, Any]]
    position: int
    size: int


@dataclass
class ErstServer:
    """The fake registry. ``documents`` are ``{"Vrvirksomhed": …}`` dicts; start() to serve."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    user: str = "datavask"
    password: str = "hemmeligt"
    cvrapi: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, deque[Fault]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    # Fail every /_search/scroll after this many pages have been served by it (None: never).
    scroll_fails_after: int | None = None
    # cvrapi.dk's daily quota: answers QUOTA_EXCEEDED after this many look-ups (None: no limit).
    cvrapi_quota: int | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._scrolls: dict[str, _Scroll] = {}
        self._scroll_ids = itertools.count(1)
        self._scroll_pages = 0
        self._httpd: ThreadingHTTPServer | None = None

    # -- control ------------------------------------------------------------------------
    def start(self) -> ErstServer:
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> ErstServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.host}/cvr-permanent"

    def inject(self, route: str, *faults: Fault) -> None:
        """Queue faults for a route: ``search``, ``scroll`` or ``cvrapi``."""
        with self._lock:
            self.faults.setdefault(route, deque()).extend(faults)

    def _next_fault(self, route: str) -> Fault | None:
        with self._lock:
            queue = self.faults.get(route)
            return queue.popleft() if queue else None

    # -- the protocol -------------------------------------------------------------------
    def search(self, body: Mapping[str, Any], *, scroll: bool) -> tuple[int, dict[str, Any]]:
        size = int(body.get("size", 10))
        start = int(body.get("from", 0))
        if not scroll and start + size > MAX_WINDOW:
            return 400, _es_error(
                "illegal_argument_exception",
                f"Result window is too large, from + size must be less than or equal to: "
                f"[{MAX_WINDOW}] but was [{start + size}].",
            )
        hits = [doc for doc in self.documents if _matches(doc, body.get("query"))]
        hits = _sorted(hits, body.get("sort"))
        rendered = [_hit(doc, body.get("_source")) for doc in hits]
        if scroll:
            with self._lock:
                scroll_id = f"scroll-{next(self._scroll_ids)}"
                self._scrolls[scroll_id] = _Scroll(rendered, size, size)
            return 200, _response(rendered[:size], len(rendered), scroll_id)
        return 200, _response(rendered[start : start + size], len(rendered))

    def scroll(self, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            state = self._scrolls.get(str(body.get("scroll_id")))
            if state is None:
                return 404, _es_error("search_context_missing_exception", "No search context")
            self._scroll_pages += 1
            if self.scroll_fails_after is not None and self._scroll_pages > self.scroll_fails_after:
                return 500, _es_error("search_phase_execution_exception", "all shards failed")
            page = state.hits[state.position : state.position + state.size]
            state.position += state.size
            return 200, _response(page, len(state.hits), str(body.get("scroll_id")))


def _es_error(kind: str, reason: str) -> dict[str, Any]:
    return {
        "error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind},
        "status": 400,
    }


def _response(
    hits: list[dict[str, Any]], total: int, scroll_id: str | None = None
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "took": 1,
        "timed_out": False,
        "hits": {"total": total, "max_score": 1.0, "hits": hits},
    }
    if scroll_id is not None:
        answer["_scroll_id"] = scroll_id
    return answer


def _cvr(doc: Mapping[str, Any]) -> int:
    return int(doc["Vrvirksomhed"]["cvrNummer"])


def _field(doc: Mapping[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _matches(doc: Mapping[str, Any], query: Mapping[str, Any] | None) -> bool:
    if not query or "match_all" in query:
        return True
    if "term" in query:
        ((path, value),) = query["term"].items()
        value = value.get("value") if isinstance(value, Mapping) else value
        return str(_field(doc, path)) == str(value)
    if "terms" in query:
        ((path, values),) = query["terms"].items()
        return str(_field(doc, path)) in {str(v) for v in values}
    if "range" in query:
        ((path, bounds),) = query["range"].items()
        value = _field(doc, path)
        checks = {
            "gt": lambda b: value > b,
            "gte": lambda b: value >= b,
            "lt": lambda b: value < b,
            "lte": lambda b: value <= b,
        }
        return all(checks[op](int(bound)) for op, bound in bounds.items())
    if "bool" in query:
        return all(_matches(doc, clause) for clause in query["bool"].get("filter", []))
    raise ValueError(f"query not supported by the test server: {query}")


def _sorted(docs: list[dict[str, Any]], sort: Any) -> list[dict[str, Any]]:
    for spec in reversed(sort or []):
        ((path, order),) = spec.items() if isinstance(spec, Mapping) else ((spec, "asc"),)
        order = order.get("order", "asc") if isinstance(order, Mapping) else order
        docs = sorted(docs, key=lambda d, p=path: _field(d, p) or 0, reverse=order == "desc")
    return docs


def _hit(doc: Mapping[str, Any], source_filter: Any) -> dict[str, Any]:
    if source_filter is None or source_filter is True:
        source: Any = doc
    else:
        includes = (
            source_filter.get("includes") if isinstance(source_filter, Mapping) else source_filter
        )
        source = {}
        if includes is None:  # an "excludes"-only filter: ERST's clients never send one
            raise ValueError("only _source includes are served")
        for path in includes:
            value = _field(doc, path)
            if value is None and not _has(doc, path):
                continue
            target = source
            parts = path.split(".")
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = value
    return {"_index": "cvr-v-20240101", "_type": "_doc", "_id": str(_cvr(doc)), "_source": source}


def _has(doc: Mapping[str, Any], path: str) -> bool:
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False
        value = value[part]
    return True


class _Handler(BaseHTTPRequestHandler):
    owner: ErstServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def _send(
        self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] = {}
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any, headers: Mapping[str, str] = {}) -> None:
        self._send(status, orjson.dumps(payload), "application/json; charset=UTF-8", headers)

    def _authorised(self) -> bool:
        expected = base64.b64encode(f"{self.owner.user}:{self.owner.password}".encode()).decode()
        if self.headers.get("Authorization") == f"Basic {expected}":
            return True
        self._send(
            401,
            NGINX_401,
            "text/html",
            {"WWW-Authenticate": 'Basic realm="Restricted"', "Server": "nginx"},
        )
        return False

    def _apply_fault(self, route: str) -> bool:
        """Serve the next queued fault for ``route``; True when the request was answered by it."""
        fault = self.owner._next_fault(route)
        if fault is None:
            return False
        if fault.kind == "stall":
            time.sleep(fault.stall)
            return False  # then answer normally, too late for the client
        if fault.kind == "429":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            self._json(429, {"error": "too many requests"}, headers)
        elif fault.kind in ("503", "500"):
            self._send(
                int(fault.kind), b"<html><body>Service Unavailable</body></html>", "text/html"
            )
        elif fault.kind == "malformed":
            self._send(
                200, b'{"took": 1, "hits": {"total": 3, "hits": [{"_sour', "application/json"
            )
        elif fault.kind == "expired":
            self._json(
                404, _es_error("search_context_missing_exception", "No search context found")
            )
        else:
            raise ValueError(fault.kind)
        return True

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return orjson.loads(raw) if raw else {}

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = self._body()
        self.owner.requests.append(
            {"method": "POST", "path": url.path, "query": url.query, "body": body}
        )
        if not self._authorised():
            return
        if url.path == "/cvr-permanent/virksomhed/_search":
            if self._apply_fault("search"):
                return
            scroll = "scroll" in parse_qs(url.query)
            status, payload = self.owner.search(body, scroll=scroll)
            self._json(status, payload)
        elif url.path == "/_search/scroll":
            if self._apply_fault("scroll"):
                return
            status, payload = self.owner.scroll(body)
            self._json(status, payload)
        else:
            self._json(404, _es_error("index_not_found_exception", "no such index"))

    def do_DELETE(self) -> None:
        url = urlsplit(self.path)
        body = self._body()
        self.owner.requests.append({"method": "DELETE", "path": url.path, "body": body})
        if self._authorised():
            self._json(200, {"succeeded": True, "num_freed": 1})

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        self.owner.requests.append(
            {
                "method": "GET",
                "path": url.path,
                "query": query,
                "user_agent": self.headers.get("User-Agent"),
            }
        )
        if url.path != "/api":
            self._json(404, {"error": "NOT_FOUND"})
            return
        if self._apply_fault("cvrapi"):
            return
        if not (self.headers.get("User-Agent") or "").startswith("datavask"):
            self._json(200, {"error": "INVALID_UA"})
            return
        with self.owner._lock:
            if self.owner.cvrapi_quota is not None:
                if self.owner.cvrapi_quota <= 0:
                    self._json(200, {"error": "QUOTA_EXCEEDED"})
                    return
                self.owner.cvrapi_quota -= 1
        answer = self.owner.cvrapi.get(query.get("search", [""])[0])
        self._json(200, answer if answer is not None else {"error": "NOT_FOUND"})
