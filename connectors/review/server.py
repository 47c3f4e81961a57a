"""The review page's web server: one run, one decisions file, 127.0.0.1 only.

Routes: ``GET /`` the page (with the first pair), ``GET /pair/{n}`` the n-th pair of the queue as
an HTML fragment (the page fetches the next ones ahead, so moving on never waits for the server),
``GET /state`` the pairs decided so far, ``POST /decide`` one decision (appended to the decisions
file before the answer is sent). Every page is a Jinja2 template with autoescape; nothing is loaded
from outside. POSTs carry a per-server token in a header, and only ``127.0.0.1``/``localhost`` are
accepted as Host, so no other web page the reviewer has open can decide pairs or read them.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from datavask.cleansing.matching.decisions import (
    DIFFERENT,
    SAME,
    WITHDRAWN,
    bad_lines,
    decision_history,
    pair_key,
)
from datavask.cleansing.review import (
    DIRECTIONS,
    MergePreview,
    evidence,
    merge_previews,
    review_queue,
    side_by_side,
)
from datavask.connectors.decisions import Decision, DecisionsFile
from datavask.connectors.errors import InputError
from datavask.connectors.report_text import Text, check_language
from datavask.connectors.review.words import EvidenceLine, ReviewWords

_TEMPLATES = Environment(
    loader=PackageLoader("datavask.connectors.review", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _read_run(run_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    missing = [n for n in ("records.parquet", "pairs.parquet") if not (run_dir / n).is_file()]
    if not run_dir.is_dir() or missing:
        raise InputError(
            f"{run_dir} is not a datavask run directory (missing {', '.join(missing) or 'itself'})"
        )
    try:
        return (
            pl.read_parquet(run_dir / "records.parquet", glob=False),
            pl.read_parquet(run_dir / "pairs.parquet", glob=False),
        )
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"{run_dir}: cannot read the run's Parquet files ({exc})") from None


def run_language(run_dir: Path) -> str:
    """The language the run was made in (``run.json`` ``options.lang``): the page speaks it as the
    run's report does. Danish when the run does not say (a run made before ``--lang``, or a
    ``run.json`` that cannot be read: the page needs only the Parquet files)."""
    try:
        run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        return check_language(str(run["options"]["lang"]))
    except (OSError, ValueError, KeyError, TypeError):
        return "da"


def _markup(words: ReviewWords) -> dict[str, Any]:
    """The templates' helpers: ``t(key, …)`` a catalogue text, escaped as every value is;
    ``tm(key, …)`` one whose values are pieces of markup built by ``b``, ``ident``, ``kbd`` or
    ``code`` (each escaped: ``b("<x>")`` is ``<b>&lt;x&gt;</b>``)."""

    def tm(key: str, /, **values: object) -> Markup:
        return Markup(escape(words.text.messages[f"review_{key}"])).format(**values)

    return {
        "t": words,
        "tm": tm,
        "b": lambda value: Markup("<b>{}</b>").format(value),
        "ident": lambda value: Markup('<span class="id">{}</span>').format(value),
        "kbd": lambda value: Markup("<kbd>{}</kbd>").format(value),
        "code": lambda value: Markup("<code>{}</code>").format(value),
        "lang": words.lang,
    }


def _shown_name(record: dict[str, Any]) -> str:
    """The name the page shows for ``record``: its cleaned name, else first and last name."""
    name = record.get("name") or " ".join(
        str(record[part]) for part in ("first_name", "last_name") if record.get(part)
    )
    return str(name or "")


def _grouped(lines: list[EvidenceLine]) -> list[tuple[str, list[EvidenceLine]]]:
    """The evidence under its headings, for first, then against, then what says nothing."""
    groups = [(d, [line for line in lines if line.direction == d]) for d in DIRECTIONS]
    return [(d, group) for d, group in groups if group]


@dataclass(frozen=True)
class PairInfo:
    """What the page needs of one queued pair that does not change while the server runs."""

    left: dict[str, Any]
    right: dict[str, Any]
    explanation: dict[str, Any]
    preview: MergePreview | None
    # why a pair the model scored as a match is only a review (pairs.parquet ``review_rule``)
    review_rule: str | None = None


class ReviewSession:
    """The run under review: its queue in order, each pair's facts, and the decisions file."""

    def __init__(
        self, run_dir: Path, decisions: Path, reviewer: str, *, lang: str | None = None
    ) -> None:
        """``lang``: the page's language, ``da`` or ``en``; None: the run's own
        (:func:`run_language`)."""
        records, pairs = _read_run(run_dir)
        self.run_dir = run_dir
        self.reviewer = reviewer
        self.words = ReviewWords(Text(lang or run_language(run_dir)))
        self.token = secrets.token_urlsafe(24)
        queue = review_queue(pairs, records)
        self.queue = queue.to_dicts()
        self.keys = [pair_key(q["record_id_l"], q["record_id_r"]) for q in self.queue]
        wanted = {rid for key in self.keys for rid in key}
        by_id = {
            str(row["record_id"]): row
            for row in records.filter(pl.col("record_id").cast(pl.String).is_in(list(wanted)))
            .unique("record_id", keep="first")
            .iter_rows(named=True)
        }
        in_review = [
            (pair_key(str(row["record_id_l"]), str(row["record_id_r"])), row)
            for row in pairs.filter(pl.col("decision") == "review").iter_rows(named=True)
        ]
        explained = {key: row.get("explanation") for key, row in in_review}
        # a run made before ``review_rule`` has no such column: no rule is named
        why = {key: row.get("review_rule") for key, row in in_review}
        previews = merge_previews(records, queue)
        self.info = [
            PairInfo(
                left=by_id.get(q["record_id_l"], {}),
                right=by_id.get(q["record_id_r"], {}),
                explanation=explained.get(key) or {},
                preview=previews.get((q["record_id_l"], q["record_id_r"])),
                review_rule=why.get(key),
            )
            for q, key in zip(self.queue, self.keys, strict=True)
        ]
        self.file = DecisionsFile(decisions)
        self.saved = 0  # lines this server appended, for what stopping it says
        self._lock = threading.Lock()
        with self._lock:
            lines = self.file.refresh()
        problems = bad_lines(lines)
        self.file_problems = problems.height

    def history(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """Each pair's standing decisions, with what anyone appended since the last look."""
        with self._lock:
            lines = self.file.refresh()
        return decision_history(lines)

    def state(self) -> dict[str, Any]:
        return self._decided(self.history())

    def _state_unlocked(self) -> dict[str, Any]:
        """:meth:`state`, for a caller that holds the lock already."""
        return self._decided(decision_history(self.file.refresh()))

    def _decided(self, history: dict[tuple[str, str], list[dict[str, Any]]]) -> dict[str, Any]:
        decided = {}
        for n, key in enumerate(self.keys):
            stack = history.get(key)
            if stack:
                decided[str(n)] = {
                    "decision": stack[-1]["decision"],
                    "by": stack[-1]["decided_by"],
                    "lines": len(stack),
                }
        return {"decided": decided, "total": len(self.keys)}

    def decide(self, n: int, decision: str, note: str) -> dict[str, Any]:
        left, right = self.queue[n]["record_id_l"], self.queue[n]["record_id_r"]
        # What the reviewer saw of each record goes with the decision: a customer number the CRM
        # gives to another customer later (``90001`` "Kjærs Murer ApS", then "Mette Skov") is
        # then asked about again instead of merged blindly.
        shown = self.info[n]
        decided = Decision(
            left,
            right,
            decision,
            note=note,
            decided_by=self.reviewer,
            name_l=_shown_name(shown.left),
            name_r=_shown_name(shown.right),
        )
        with self._lock:
            if decision == WITHDRAWN and not self._has_standing(n):
                # An undo with nothing of this reviewer's to withdraw (a decision that was never
                # saved, one already undone, another tab's undo) is no line: an ``undecided``
                # line withdrawing nothing only clutters the file and its history.
                return {"saved": None, "at": None} | self._state_unlocked()
            line = self.file.append(decided)
            self.saved += 1
        return {"saved": line[2], "at": line[4]} | self.state()

    def _has_standing(self, n: int) -> bool:
        """Whether this reviewer has a standing decision on the ``n``-th pair (the lock held)."""
        stack = decision_history(self.file.refresh()).get(self.keys[n], [])
        return any(row["decided_by"] == self.reviewer for row in stack)

    def pair_context(self, n: int) -> dict[str, Any]:
        entry, info = self.queue[n], self.info[n]
        cleaned, original = side_by_side(info.left, info.right)
        words = self.words
        stack = self.history().get(self.keys[n], [])
        same_customer = info.left.get("cluster_id") is not None and info.left.get(
            "cluster_id"
        ) == info.right.get("cluster_id")
        return {
            "n": n,
            "total": len(self.queue),
            "entry": entry,
            "left": info.left,
            "right": info.right,
            "probability": words.chance(float(entry["match_probability"])),
            "why_review": words.why_review(info.review_rule),
            "evidence": _grouped(words.evidence(evidence(info.explanation, info.left, info.right))),
            "cleaned": cleaned,
            "original": original,
            "preview": info.preview,
            "history": stack,
            "standing": stack[-1] if stack else None,
            "same_customer": same_customer,
        }


def render_page(session: ReviewSession) -> str:
    """The page (``GET /``) with the first pair of the queue, in the session's language."""
    first = session.pair_context(0) if session.queue else {}
    return _TEMPLATES.get_template("page.html").render(
        first,
        **_markup(session.words),
        script_words=session.words.script(),
        run=str(session.run_dir),
        decisions=str(session.file.path),
        reviewer=session.reviewer,
        token=session.token,
        total=len(session.queue),
        state=session.state(),
        file_problems=session.file_problems,
    )


def render_pair(session: ReviewSession, n: int) -> str:
    """The ``n``-th pair of the queue as the fragment ``GET /pair/{n}`` answers."""
    return _TEMPLATES.get_template("pair.html").render(
        session.pair_context(n), **_markup(session.words)
    )


def create_app(session: ReviewSession) -> Starlette:
    """The Starlette application serving ``session``."""

    def page(request: Request) -> Response:
        return HTMLResponse(render_page(session), headers={"Cache-Control": "no-store"})

    def pair(request: Request) -> Response:
        n = int(request.path_params["n"])
        if not 0 <= n < len(session.queue):
            return HTMLResponse(session.words("error_no_pair"), status_code=404)
        return HTMLResponse(render_pair(session, n), headers={"Cache-Control": "no-store"})

    def state(request: Request) -> Response:
        return JSONResponse(session.state())

    async def decide(request: Request) -> Response:
        if not secrets.compare_digest(request.headers.get("x-datavask-token", ""), session.token):
            return JSONResponse({"error": "missing or wrong token"}, status_code=403)
        try:
            body = await request.json()
            n, decision = int(body["n"]), str(body["decision"])
            note = str(body.get("note") or "")[:2000]
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "bad request"}, status_code=400)
        if decision not in (SAME, DIFFERENT, WITHDRAWN) or not 0 <= n < len(session.queue):
            return JSONResponse({"error": "bad request"}, status_code=400)
        # appending fsyncs: off the event loop, so other tabs are served meanwhile
        return JSONResponse(await run_in_threadpool(session.decide, n, decision, note))

    return Starlette(
        routes=[
            Route("/", page),
            Route("/pair/{n:int}", pair),
            Route("/state", state),
            Route("/decide", decide, methods=["POST"]),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])],
    )


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port`` (0: any free port); InputError if it is taken.

    ``SO_REUSEADDR``, as uvicorn binds its own: a server stopped while the page still had
    requests open leaves their connections in ``TIME_WAIT`` for a minute, and without it
    ``datavask review`` started again at once was told the port "is not free" although nothing
    listened on it. A port another program listens on is still refused (Linux and macOS refuse
    a second listener whatever the option).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise InputError(
            f"port {port} on 127.0.0.1 is not free ({exc.strerror}); choose another with --port"
        ) from None
    sock.listen(128)
    return sock


def serve(session: ReviewSession, sock: socket.socket, on_ready: Callable[[str], None]) -> None:
    """Serve ``session`` on ``sock`` until Ctrl-C; ``on_ready(url)`` once it answers."""
    import uvicorn

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            on_ready(f"http://127.0.0.1:{sock.getsockname()[1]}/")

    config = uvicorn.Config(
        create_app(session), log_level="warning", access_log=False, lifespan="off"
    )
    _Server(config).run(sockets=[sock])
