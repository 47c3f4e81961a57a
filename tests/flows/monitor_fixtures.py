"""Registry versions with planted changes, and loopback receivers for monitoring tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.connectors.erst_server import make_document

WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)


def valid_cvrs(count: int, start: int = 20_000_000) -> list[str]:
    """The first ``count`` numbers from ``start`` whose modulus-11 check holds."""
    found: list[str] = []
    number = start
    while len(found) < count:
        text = str(number)
        if sum(w * int(d) for w, d in zip(WEIGHTS, text, strict=True)) % 11 == 0:
            found.append(text)
        number += 1
    return found


def _period(start: str | None, end: str | None = None) -> dict[str, Any]:
    return {"gyldigFra": start, "gyldigTil": end}


def owner(number: int, name: str, share: str, since: str = "2020-01-01") -> dict[str, Any]:
    return {
        "deltager": {"enhedsNummer": number, "enhedstype": "PERSON",
                     "navne": [{"navn": name, "periode": _period(None)}]},
        "organisationer": [{
            "hovedtype": "REGISTER",
            "organisationsNavn": [{"navn": "EJERREGISTER", "periode": _period("2015-01-01")}],
            "medlemsData": [{"attributter": [{"type": "EJERANDEL_PROCENT", "vaerdier": [
                {"vaerdi": share, "periode": _period(since)}]}]}],
        }],
    }  # fmt: skip


def manager(
    number: int, name: str, body: str, role: str, since: str = "2019-05-01"
) -> dict[str, Any]:
    return {
        "deltager": {"enhedsNummer": number, "enhedstype": "PERSON",
                     "navne": [{"navn": name, "periode": _period(None)}]},
        "organisationer": [{
            "hovedtype": "LEDELSESORGAN",
            "organisationsNavn": [{"navn": body, "periode": _period("2015-01-01")}],
            "medlemsData": [{"attributter": [{"type": "FUNKTION", "vaerdier": [
                {"vaerdi": role, "periode": _period(since)}]}]}],
        }],
    }  # fmt: skip


def _company(cvr: str, index: int, **changes: Any) -> dict[str, Any]:
    relations = changes.pop("relations", None)
    address_id = changes.pop("address_id", f"0a3f50a0-0000-4000-8000-{index:012d}")
    merger = changes.pop("merger", None)
    options: dict[str, Any] = {"name": f"Firma {index} ApS", "street": "Vestergade", "house": index}
    options |= changes
    doc = make_document(cvr, **options)
    vr = doc["Vrvirksomhed"]
    vr["virksomhedMetadata"]["nyesteBeliggenhedsadresse"]["adresseId"] = address_id
    vr["beliggenhedsadresse"][0]["adresseId"] = address_id
    vr["deltagerRelation"] = (
        relations
        if relations is not None
        else [
            owner(4_100_000 + index, f"Ejer {index}", "1"),
            manager(4_200_000 + index, f"Direktør {index}", "Direktion", "ADM. DIR."),
        ]
    )
    vr["fusioner"] = []
    if merger:
        successor, since = merger
        vr["fusioner"] = [{
            "enhedsNummerOrganisation": 4_007_381_638,
            "organisationsNavn": [{"navn": "Fusion", "periode": _period(since)}],
            "indgaaende": [],
            "udgaaende": [{"sekvensnr": 0, "type": "CVRNUMMER", "vaerditype": "string",
                           "vaerdier": [{"vaerdi": successor, "periode": _period(since)}]}],
        }]  # fmt: skip
    return doc


@dataclass
class Planted:
    """Two versions of the registry for the same customers and what version 2 changes."""

    cvrs: dict[str, str]  # role → CVR
    version1: list[dict[str, Any]]
    version2: list[dict[str, Any]]
    expected: dict[str, str] = field(default_factory=dict)  # CVR → the one alert it must raise


ROLES = (
    "bankrupt", "dissolved", "distressed", "recovered", "renamed", "moved", "new_owner",
    "new_director", "merged", "vanished", "calm", "cosmetic", "successor",
)  # fmt: skip


def planted_registry() -> Planted:
    """Version 1: ``recovered`` is UNDER REKONSTRUKTION (the first run's only alert); the rest
    normal. Version 2 plants one change per alert type; ``cosmetic`` changes only the casing of
    its status and the spelling of its town (same adresseId); ``vanished`` is gone."""
    cvrs = dict(zip(ROLES, valid_cvrs(len(ROLES)), strict=True))
    index = {role: i + 1 for i, role in enumerate(ROLES)}

    def company(role: str, **changes: Any) -> dict[str, Any]:
        return _company(cvrs[role], index[role], **changes)

    version1 = [
        company(role, status="UNDER REKONSTRUKTION" if role == "recovered" else "NORMAL")
        for role in ROLES
    ]
    i = index
    changed = {
        "bankrupt": company("bankrupt", status="UNDER KONKURS", credit_bankrupt=True),
        "dissolved": company("dissolved", status="TVANGSOPLØST", ended="2026-11-20"),
        "distressed": company("distressed", status="UNDER TVANGSOPLØSNING"),
        "recovered": company("recovered", status="NORMAL"),
        "renamed": company("renamed", name="Nyt Navn ApS", former_names=["Firma 5 ApS"]),
        "moved": company("moved", street="Søndergade", house=3, postal=8200, city="Aarhus N",
                         address_id="0a3f50a0-0000-4000-8000-999999999999"),
        "new_owner": company("new_owner", relations=[
            owner(4_100_000 + i["new_owner"], f"Ejer {i['new_owner']}", "0.5"),
            owner(4_300_000, "Ny Ejer Holding ApS", "0.5", since="2026-11-01"),
            manager(4_200_000 + i["new_owner"], f"Direktør {i['new_owner']}", "Direktion",
                    "ADM. DIR."),
        ]),
        "new_director": company("new_director", relations=[
            owner(4_100_000 + i["new_director"], f"Ejer {i['new_director']}", "1"),
            manager(4_400_000, "Ny Direktør", "Direktion", "ADM. DIR.", since="2026-11-10"),
        ]),
        "merged": company("merged", status="OPLØST EFTER FUSION", ended="2026-10-31",
                          merger=(cvrs["successor"], "2026-10-31")),
        "cosmetic": company("cosmetic", status="Normal", city="AARHUS C"),
    }  # fmt: skip
    version2 = [changed.get(role, doc) for role, doc in zip(ROLES, version1, strict=True)]
    version2 = [d for role, d in zip(ROLES, version2, strict=True) if role != "vanished"]
    expected = {
        cvrs["bankrupt"]: "BANKRUPT",
        cvrs["dissolved"]: "DISSOLVED",
        cvrs["distressed"]: "DISTRESSED",
        cvrs["recovered"]: "STATUS_CHANGED",
        cvrs["renamed"]: "NAME_CHANGED",
        cvrs["moved"]: "ADDRESS_CHANGED",
        cvrs["new_owner"]: "OWNER_CHANGED",
        cvrs["new_director"]: "MANAGEMENT_CHANGED",
        cvrs["merged"]: "MERGED",
    }
    return Planted(cvrs, version1, version2, expected)


def write_customers(path: Path, cvrs: list[str]) -> Path:
    """A CRM export: two records for the first customer, one for each other."""
    lines = ["Kundenr;Navn;CVR-nr;Adresse;Postnr;By"]
    for n, cvr in enumerate(cvrs, start=1):
        lines.append(f"K{n:03d};Kunde {n} ApS;{cvr};Vestergade {n};8000;Aarhus C")
    lines.append(f"K999;Kunde 1 ApS (dublet);{cvrs[0]};Vestergade 1;8000;Aarhus C")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- webhook receiver


@dataclass
class Receiver:
    """A loopback HTTP receiver: answers a path's queued statuses first, then 200; keeps every
    request."""

    statuses: dict[str, list[int]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{path}"

    def __enter__(self) -> Receiver:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with owner._lock:
                    queued = owner.statuses.get(self.path) or []
                    status = queued.pop(0) if queued else 200
                    owner.requests.append({"path": self.path, "status": status,
                                           "headers": dict(self.headers), "body": body})  # fmt: skip
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    def delivered(self, path: str) -> list[dict[str, Any]]:
        """The JSON bodies answered with 2xx on ``path``."""
        return [json.loads(r["body"]) for r in self.requests
                if r["path"] == path and r["status"] < 300]  # fmt: skip


def iter_alert_ids(bodies: list[dict[str, Any]]) -> Iterator[str]:
    for body in bodies:
        for alert in body["alerts"]:
            yield alert["alert_id"]
