from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

from datavask.cleansing.schema import REASON_CODES
from datavask.connectors.report import (
    FLAG_TEXT,
    bar_chart,
    format_number,
    histogram,
    render_report,
    summary_markdown,
    summary_table,
)

COUNTS = {
    "records": 1234,
    "customers": 1100,
    "duplicate_records": 134,
    "clusters_with_duplicates": 120,
    "invoice_ready": 1002,
    "collection_ready": 951,
    "registry_checked": 700,
    "registry_unchecked": 12,
    "registry_not_found": 9,
}


def make_records() -> pl.DataFrame:
    rows = [
        {
            "record_id": "K-1",
            "cluster_id": "c1",
            "is_survivor": True,
            "customer_type": "company",
            "name": "Hansen Byg ApS",
            "street": "Vestergade",
            "postal_code": "8000",
            "city": "Aarhus C",
            "phone_e164": "+4512345678",
            "email": "info@hansenbyg.dk",
            "cvr": "12345674",
            "registry_status": "NORMAL",
            "registry_name": "Hansen Byg ApS",
            "flags": ["DUPLICATE", "INVALID_EMAIL"],
            "src_Navn": "hansen byg aps",
            "src_Adresse": "vestergade 12",
            "src_Postnr": "8000",
            "src_Telefon": "12 34 56 78",
            "src_Email": "info@hansenbyg",
            "src_CVR": "DK12345674",
        },
        {
            "record_id": "K-2",
            "cluster_id": "c1",
            "is_survivor": False,
            "customer_type": "company",
            "name": "Hansen Byg",
            "street": "Vestergade",
            "postal_code": "8000",
            "city": "Aarhus C",
            "phone_e164": None,
            "email": None,
            "cvr": None,
            "registry_status": None,
            "registry_name": None,
            "flags": ["DUPLICATE", "INVALID_PHONE", "MISSING_CVR"],
            "src_Navn": "Hansen Byg",
            "src_Adresse": "Vestergade 12",
            "src_Postnr": "8000",
            "src_Telefon": "12 34",
            "src_Email": None,
            "src_CVR": None,
        },
        {
            "record_id": "K-3",
            "cluster_id": "c2",
            "is_survivor": True,
            "customer_type": "company",
            "name": "Konkursen ApS <script>alert(1)</script>",
            "street": None,
            "postal_code": None,
            "city": None,
            "phone_e164": None,
            "email": None,
            "cvr": "87654321",
            "registry_status": "UNDER KONKURS",
            "registry_name": "Konkursen ApS",
            "flags": ["COMPANY_BANKRUPT", "MISSING_ADDRESS", "NO_CONTACT"],
            "src_Navn": "Konkursen ApS <script>alert(1)</script>",
            "src_Adresse": None,
            "src_Postnr": None,
            "src_Telefon": None,
            "src_Email": None,
            "src_CVR": "87654321",
        },
    ]
    return pl.DataFrame(rows)


def make_run(registry: str = "data/sample/registry.jsonl.gz") -> dict[str, Any]:
    flags = dict.fromkeys(REASON_CODES, 0)
    flags.update({"DUPLICATE": 134, "INVALID_EMAIL": 40, "INVALID_PHONE": 31, "MISSING_CVR": 60})
    flags.update({"COMPANY_BANKRUPT": 3, "MISSING_ADDRESS": 22, "NO_CONTACT": 51})
    return {
        "datavask_version": "0.1.0",
        "run_id": "20250101T120000-abcd",
        "started_at": "2025-01-01T12:00:00+00:00",
        "finished_at": "2025-01-01T12:00:07+00:00",
        "input": {
            "path": "/data/kunder.csv",
            "sha256": "ab" * 32,
            "format": "csv",
            "encoding": "cp1252",
            "delimiter": ";",
            "rows": 1234,
            "columns": ["Navn", "Adresse", "Postnr", "Telefon", "Email", "CVR"],
            "mapping": {
                "name": "Navn",
                "address": "Adresse",
                "postal_code": "Postnr",
                "phone": "Telefon",
                "email": "Email",
                "cvr": "CVR",
            },
        },
        "options": {"registry": registry, "review_band": [0.5, 0.9]},
        "counts": dict(COUNTS),
        "flags": flags,
        "timings": {"read": 0.12, "normalise": 1.5, "registry": 2.25, "match": 3.0, "verdict": 0.2},
        "versions": {"polars": "2.1.0", "prefect": "3.8.8"},
        "orchestration": "prefect (local server)",
    }


def make_run_dir(path: Path, *, registry: str = "data/sample/registry.jsonl.gz") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "run.json").write_text(json.dumps(make_run(registry)), encoding="utf-8")
    make_records().write_parquet(path / "records.parquet")
    scores = [i / 200 for i in range(200)] + [0.97] * 60 + [0.62] * 15
    pl.DataFrame(
        {
            "record_id_l": [str(i) for i in range(len(scores))],
            "record_id_r": [str(i + 1) for i in range(len(scores))],
            "match_probability": scores,
        }
    ).write_parquet(path / "pairs.parquet")
    return path


def metrics_in(html: str) -> dict[str, int]:
    found = re.findall(r'data-metric="([a-z_]+)" data-value="(\d+)">([^<]+)<', html)
    shown = {key: int(text.replace(".", "")) for key, _, text in found}
    assert shown == {key: int(value) for key, value, _ in found}
    return shown


def test_report_numbers_equal_run_json(tmp_path: Path) -> None:
    html = render_report(make_run_dir(tmp_path / "run")).read_text(encoding="utf-8")
    assert metrics_in(html) == COUNTS


def test_report_is_self_contained(tmp_path: Path) -> None:
    html = render_report(make_run_dir(tmp_path / "run")).read_text(encoding="utf-8")
    assert "<script" not in html.replace("&lt;script", "")  # the one in the data is escaped
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html)
    assert "@import" not in html and "url(" not in html
    assert "<svg" in html


def test_every_reason_code_is_explained_with_its_count(tmp_path: Path) -> None:
    html = render_report(make_run_dir(tmp_path / "run")).read_text(encoding="utf-8")
    run = make_run()
    for code in REASON_CODES:
        n = run["flags"][code]
        assert f'data-flag="{code}" data-value="{n}"' in html
        # raised codes get a section with examples, the rest one line in a compact table
        assert (f'id="flag-{code}"' in html) == (n > 0)
        assert FLAG_TEXT[code].replace("'", "&#x27;") in html
    assert set(FLAG_TEXT) == set(REASON_CODES)


def test_examples_show_before_and_after_of_the_flagged_field_only(tmp_path: Path) -> None:
    html = render_report(make_run_dir(tmp_path / "run")).read_text(encoding="utf-8")
    section = html.split('id="flag-INVALID_PHONE"')[1].split("</section>")[0]
    assert "K-2" in section and "12 34" in section
    # the example is about the phone: the customer's name and address are not repeated there
    assert "Hansen" not in section and "Vestergade" not in section
    cvr = html.split('id="flag-MISSING_CVR"')[1].split("</section>")[0]
    assert "K-2" in cvr and "K-1" not in cvr


def test_registry_skipped_is_said_instead_of_numbers(tmp_path: Path) -> None:
    html = render_report(make_run_dir(tmp_path / "run", registry="none")).read_text(
        encoding="utf-8"
    )
    assert "Registry checks skipped" in html
    assert 'data-metric="registry_checked"' not in html
    assert "registry checks skipped" in summary_markdown(make_run("none"))


def test_runs_without_pairs_still_render(tmp_path: Path) -> None:
    run_dir = make_run_dir(tmp_path / "run")
    (run_dir / "pairs.parquet").unlink()
    html = render_report(run_dir).read_text(encoding="utf-8")
    assert "No candidate pairs were scored" in html


def test_summary_table_and_markdown() -> None:
    run = make_run()
    table = summary_table(run)
    by_metric = {row["metric"]: row for row in table}
    assert by_metric["records"]["value"] == 1234
    assert by_metric["invoice-ready"]["share"] == "81,2 %"
    assert by_metric["DUPLICATE"]["value"] == 134
    assert "CPR_IN_DATA" not in by_metric  # zero counts are left out
    markdown = summary_markdown(run)
    assert markdown.startswith("# datavask: kunder.csv")
    assert "1.234 records → 1.100 customers" in markdown


def test_number_formatting() -> None:
    assert format_number(1234567) == "1.234.567"
    assert format_number(87.456, 1) == "87,5"
    assert format_number(None) == "–"


def test_charts_handle_empty_and_single_values() -> None:
    assert "Nothing to show" in bar_chart([], title="t")
    assert "<svg" in bar_chart([("A", 0, "#000", "0")], title="t")
    assert "No candidate pairs" in histogram(
        pl.Series([], dtype=pl.Float64), band=(0.5, 0.9), title="t"
    )
    svg = histogram(pl.Series([1.0, 0.0, 0.5, None]), band=(0.5, 0.996), title="t")
    assert svg.count("<rect") == 31  # 30 bins and the shaded band
    assert "match from 0.996" in svg  # thresholds shown as given, not rounded to 1.00


def test_score_histogram_places_pairs_by_match_weight() -> None:
    """0.5 is 0 bits, 0.996 about 8: a pair just below the match threshold lands in the band."""
    svg = histogram(pl.Series([0.5, 0.99]), band=(0.8, 0.996), title="t", bins=10)
    bars = re.findall(r"<title>(-?[\d.]+) to (-?[\d.]+) bits: (\d+) pairs</title>", svg)
    filled = [(float(lo), float(hi)) for lo, hi, n in bars if n == "1"]
    assert any(lo <= 0 < hi for lo, hi in filled)
    assert any(lo <= 6.6 < hi for lo, hi in filled)  # log2(0.99 / 0.01) ≈ 6.63


# --------------------------------------------------------------------------- in a real browser

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium_binary() -> str | None:
    return (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )


class DevTools:
    """A minimal Chrome DevTools Protocol client over the page's websocket."""

    def __init__(self, url: str) -> None:
        from websockets.sync.client import connect

        self.socket = connect(url, max_size=64 * 1024 * 1024, open_timeout=10)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while time.monotonic() < deadline:
            message = json.loads(self.socket.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            self.events.append(message)
            if message.get("method") == method:
                return message
        raise TimeoutError(method)

    def close(self) -> None:
        self.socket.close()


@contextlib.contextmanager
def headless_page(profile: Path) -> Iterator[DevTools]:
    binary = chromium_binary()
    if binary is None:
        if os.environ.get("CI"):  # scripts/test.sh installs it, so in CI a missing one fails
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    process = subprocess.Popen(
        [
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        page = next(t for t in targets if t.get("type") == "page")
        tools = DevTools(page["webSocketDebuggerUrl"])
        try:
            yield tools
        finally:
            tools.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def open_report(tools: DevTools, html_path: Path, screenshot: Path) -> dict[str, Any]:
    """Load the report, screenshot the whole page, return console errors and the numbers shown."""
    for domain in ("Page", "Runtime", "Log", "Network"):
        tools.call(f"{domain}.enable")
    tools.call(
        "Emulation.setDeviceMetricsOverride",
        width=1280,
        height=900,
        deviceScaleFactor=1,
        mobile=False,
    )
    tools.call("Page.navigate", url=html_path.resolve().as_uri())
    tools.wait_for("Page.loadEventFired")
    shown = tools.call(
        "Runtime.evaluate",
        expression=(
            "JSON.stringify([...document.querySelectorAll('[data-metric]')]"
            ".map(e => [e.dataset.metric, e.textContent]))"
        ),
        returnByValue=True,
    )["result"]["value"]
    resources = tools.call(
        "Runtime.evaluate",
        expression="performance.getEntriesByType('resource').length",
        returnByValue=True,
    )["result"]["value"]
    metrics = tools.call("Page.getLayoutMetrics")
    size = metrics["cssContentSize"]
    shot = tools.call(
        "Page.captureScreenshot",
        format="png",
        captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
    )
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    errors = [
        e
        for e in tools.events
        if (
            e.get("method") == "Runtime.consoleAPICalled"
            and e["params"].get("type") in ("error", "assert")
        )
        or e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"].get("level") == "error")
        or e.get("method") == "Network.loadingFailed"
    ]
    requested = [
        e["params"]["request"]["url"]
        for e in tools.events
        if e.get("method") == "Network.requestWillBeSent"
        and not e["params"]["request"]["url"].startswith("file://")
    ]
    return {
        "errors": errors,
        "shown": dict(json.loads(shown)),
        "resources": resources,
        "requested": requested,
    }


@pytest.mark.browser
def test_report_in_headless_chromium(tmp_path: Path) -> None:
    report = render_report(make_run_dir(tmp_path / "run"))
    screenshot = tmp_path / "report.png"
    with headless_page(tmp_path / "profile") as tools:
        result = open_report(tools, report, screenshot)
    assert result["errors"] == []
    assert result["requested"] == [] and result["resources"] == 0
    shown = {key: int(text.replace(".", "")) for key, text in result["shown"].items()}
    assert shown == COUNTS
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    assert screenshot.stat().st_size > 20_000  # a rendered page, not a blank one
