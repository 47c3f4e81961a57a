"""Monitoring benchmark: 100,000 customers against a 500,000-company snapshot and a loopback API.

    python -m bench.bench_monitor [--docs 500000] [--customers 100000]

Documents come from ``bench.generate`` (the shape of the real ERST API), each given one owner
(EJERREGISTER with a share) and one director (LEDELSESORGAN Direktion) so the monitoring facts
are parsed at their real cost, repeated with fresh CVR numbers up to ``--docs``. The customers
are a cleanse run directory (records.parquet): 90 % with a CVR number in the registry, 10 % not.

Every measurement is ``datavask monitor`` run as a subprocess, the way a user runs it:

- snapshot, first run: the snapshot's facts are parsed (and cached), the state is recorded;
- snapshot, second run: facts from the cache, compared with the state;
- API: the same customers against a loopback ERST server on 127.0.0.1 (a real HTTP server
  answering the Elasticsearch ``terms`` queries in batches of 1,000 with Basic auth), first
  and second run.

Wall time is measured around the subprocess (time.perf_counter); peak memory is the maximum
resident set of the datavask process and its parse workers (``getrusage`` in a fresh wrapper
process per run, so each run's peak is its own); requests/s counts the server's answers.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import polars as pl

OUT = Path(__file__).resolve().parent / "out" / "monitor"
USER, PASSWORD = "bench", "bench-kode"
_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)


def _valid_cvrs(count: int, *, seed: int) -> list[str]:
    """``count`` distinct CVR numbers whose modulus-11 check holds, in a seeded order."""
    rng = random.Random(seed)
    seen: dict[str, None] = {}
    while len(seen) < count:
        digits = str(rng.randrange(1_000_000, 10_000_000))
        check = -sum(w * int(d) for w, d in zip(_WEIGHTS, digits, strict=False)) % 11
        if check < 10:
            seen.setdefault(digits + str(check), None)
    return list(seen)


def _relations(index: int) -> list[dict[str, Any]]:
    def person(number: int, name: str, kind: str, body: str, attribute: str, value: str) -> dict:
        period = {"gyldigFra": "2019-01-01", "gyldigTil": None}
        return {
            "deltager": {"enhedsNummer": number, "enhedstype": "PERSON",
                         "navne": [{"navn": name, "periode": period}]},
            "organisationer": [{
                "hovedtype": kind,
                "organisationsNavn": [{"navn": body, "periode": period}],
                "medlemsData": [{"attributter": [
                    {"type": attribute, "vaerdier": [{"vaerdi": value, "periode": period}]}]}],
            }],
        }  # fmt: skip

    return [
        person(4_100_000_000 + index, f"Ejer {index}", "REGISTER", "EJERREGISTER",
               "EJERANDEL_PROCENT", "1"),
        person(4_200_000_000 + index, f"Direktør {index}", "LEDELSESORGAN", "Direktion",
               "FUNKTION", "ADM. DIR."),
    ]  # fmt: skip


def build_snapshot(path: Path, docs: int) -> list[str]:
    """Write ``docs`` documents (gzip) and return their CVR numbers in file order."""
    from bench.generate import generate

    templates = [orjson.loads(line) for line in generate(20_000, 1).registry_jsonl().splitlines()]
    cvrs = _valid_cvrs(docs, seed=11)
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        batch: list[bytes] = []
        for i, cvr in enumerate(cvrs):
            document = templates[i % len(templates)]
            vr = document["_source"]["Vrvirksomhed"] if "_source" in document else document[
                "Vrvirksomhed"]  # fmt: skip
            vr["cvrNummer"] = int(cvr)
            vr["deltagerRelation"] = _relations(i)
            batch.append(orjson.dumps(document))
            if len(batch) == 20_000:
                out.write(b"\n".join(batch) + b"\n")
                batch = []
        if batch:
            out.write(b"\n".join(batch) + b"\n")
    return cvrs


def build_customers(run_dir: Path, known: list[str], count: int) -> list[str]:
    """A cleanse run directory whose records.parquet has ``count`` customers (90 % known)."""
    rng = random.Random(7)
    wanted = rng.sample(known, count * 9 // 10)
    wanted += _valid_cvrs(count - len(wanted) + 1000, seed=99)[: count - len(wanted)]
    run_dir.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(
        {
            "record_id": [f"K{i:07d}" for i in range(len(wanted))],
            "name": [f"Kunde {i}" for i in range(len(wanted))],
            "cvr": wanted,
        }
    ).write_parquet(run_dir / "records.parquet")
    (run_dir / "run.json").write_text("{}", encoding="utf-8")
    return wanted


# --------------------------------------------------------------------------- loopback API


class LoopbackErst:
    """The ERST search endpoint on 127.0.0.1, answering ``terms`` queries from an index."""

    def __init__(self, documents: dict[int, bytes]) -> None:
        self.documents = documents
        self.requests = 0
        self._lock = threading.Lock()
        self._auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = orjson.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.headers.get("Authorization") != owner._auth:
                    self._answer(401, b'{"error": "unauthorised"}')
                    return
                numbers = body["query"]["terms"]["Vrvirksomhed.cvrNummer"]
                hits = [owner.documents[n] for n in numbers if n in owner.documents]
                start, size = int(body.get("from", 0)), int(body.get("size", 10))
                page = hits[start : start + size]
                payload = (
                    b'{"took":1,"timed_out":false,"hits":{"total":' + str(len(hits)).encode()
                    + b',"hits":[' + b",".join(page) + b"]}}"
                )  # fmt: skip
                with owner._lock:
                    owner.requests += 1
                self._answer(200, payload)

            def _answer(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/cvr-permanent"

    def __enter__(self) -> LoopbackErst:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _hits(snapshot: Path, wanted: set[str]) -> dict[int, bytes]:
    """The search hits (``{"_source": …}``) of the wanted CVR numbers, from the snapshot."""
    hits: dict[int, bytes] = {}
    with gzip.open(snapshot, "rb") as fh:
        for line in fh:
            document = orjson.loads(line)
            source = document.get("_source", document)
            number = source["Vrvirksomhed"]["cvrNummer"]
            if str(number) in wanted:
                hits[number] = b'{"_source":' + orjson.dumps(source) + b"}"
    return hits


# --------------------------------------------------------------------------- measuring

_WRAPPER = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "print(json.dumps({'rc': r.returncode, 'seconds': time.perf_counter() - t,"
    " 'peak_rss_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,"
    " 'stderr': r.stderr[-2000:]}))\n"
)


def monitor(customers: Path, registry: str, state: Path, out: Path) -> dict[str, Any]:
    """``datavask monitor`` as a subprocess; wall time, peak memory, and its run.json."""
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-c", _WRAPPER, sys.executable, "-m", "datavask", "monitor",
               str(customers), "--registry", registry, "--state", str(state),
               "--out", str(out)]  # fmt: skip
    env = dict(os.environ, DATAVASK_CVR_USER=USER, DATAVASK_CVR_PASSWORD=PASSWORD,
               DATAVASK_HOME=str(OUT / "home"), DATAVASK_ORCHESTRATION="none")  # fmt: skip
    env.pop("PREFECT_API_URL", None)
    result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True,
                                       env=env).stdout)  # fmt: skip
    if result["rc"] != 0:
        raise RuntimeError(f"datavask monitor failed: {result['stderr']}")
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return {
        "seconds": round(result["seconds"], 1),
        "peak_rss_mb": round(result["peak_rss_mb"]),
        "steps": run["timings"],
        "counts": {k: v for k, v in run["counts"].items() if k != "alerts_by_type"},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=500_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--skip-api", action="store_true")
    args = parser.parse_args(argv)

    OUT.mkdir(parents=True, exist_ok=True)
    snapshot = OUT / f"registry-{args.docs}.jsonl.gz"
    cvr_file = OUT / f"registry-{args.docs}.cvrs"
    if not snapshot.exists() or not cvr_file.exists():
        started = time.perf_counter()
        cvr_file.write_text("\n".join(build_snapshot(snapshot, args.docs)))
        print(f"built {snapshot.name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    customers_dir = OUT / f"customers-{args.customers}"
    wanted = build_customers(customers_dir, cvr_file.read_text().split(), args.customers)
    shutil.rmtree(OUT / "home", ignore_errors=True)

    results: dict[str, Any] = {
        "docs": args.docs,
        "customers": len(wanted),
        "snapshot_mb": round(snapshot.stat().st_size / 1e6, 1),
    }
    state = OUT / "state-snapshot"
    shutil.rmtree(state, ignore_errors=True)
    for run in ("first", "second"):
        results[f"snapshot_{run}"] = monitor(customers_dir, str(snapshot), state, OUT / "o")
        print(json.dumps({run: results[f"snapshot_{run}"]}), file=sys.stderr)

    if not args.skip_api:
        hits = _hits(snapshot, set(wanted))
        state = OUT / "state-api"
        shutil.rmtree(state, ignore_errors=True)
        with LoopbackErst(hits) as server:
            for run in ("first", "second"):
                before = server.requests
                measured = monitor(customers_dir, server.url, state, OUT / "o")
                asked = server.requests - before
                lookup = measured["steps"]["registry"]
                measured["requests"] = asked
                measured["requests_per_s"] = round(asked / lookup, 1)
                measured["cvrs_per_s"] = round(len(wanted) / lookup)
                results[f"api_{run}"] = measured
                print(json.dumps({f"api_{run}": measured}), file=sys.stderr)
    print(json.dumps(results, indent=2))
    (OUT / "monitor_bench.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
