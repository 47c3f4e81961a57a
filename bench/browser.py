"""Headless Chromium through WebDriver (Debian's ``chromium`` and ``chromium-driver``) for the
report's browser tests and its load-time benchmark.

:func:`chromium` starts a fresh profile with the network-quiet flags; :func:`open_page` loads a
file and returns the console errors, every non-``file:`` request the page made, and how long it
took until report.js had drawn the tables (``performance.now()`` when ``data-ready`` was set).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def binaries() -> tuple[str, str] | None:
    """(chromium, chromedriver) when both are installed."""
    browser = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if Path(browser).exists() and Path(driver).exists():
        return browser, driver
    return None


@contextlib.contextmanager
def chromium(profile: Path, *, width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A WebDriver session on headless Chromium with a fresh ``--user-data-dir``."""
    import pytest
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = binaries()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are not installed")
        pytest.skip("chromium and chromium-driver are not installed")
    browser, driver_path = found
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.set_page_load_timeout(300)
        driver.set_script_timeout(300)
        yield driver
    finally:
        driver.quit()


def browser_cpu_seconds(profile: Path) -> float:
    """CPU seconds (user + system) used so far by the Chromium processes of ``profile``.

    On a shared machine the wall time of a page load says more about the neighbours than about
    the page; the CPU time its processes burn does not.
    """
    tick = os.sysconf("SC_CLK_TCK")
    marker = f"--user-data-dir={profile}".encode()
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker not in (proc / "cmdline").read_bytes():
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def open_page(driver: Any, path: Path, *, timeout: float = 300) -> dict[str, Any]:
    """Load ``path``; wait for report.js; return errors, requests and load time in ms."""
    uri = path.resolve().as_uri()
    driver.get("about:blank")
    driver.get_log("browser")
    driver.get_log("performance")
    profile = Path(driver.capabilities.get("chrome", {}).get("userDataDir", "/nonexistent"))
    cpu_before = browser_cpu_seconds(profile)
    started = time.perf_counter()
    driver.get(uri)
    deadline = time.monotonic() + timeout
    while driver.execute_script("return document.documentElement.dataset.ready") != "true":
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path}: report.js did not finish")
        time.sleep(0.05)
    wall_ms = (time.perf_counter() - started) * 1000
    cpu_s = browser_cpu_seconds(profile) - cpu_before
    ready_ms = driver.execute_script("return window.datavaskReadyMs")
    errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    requests = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            params = message["params"]
            url = params["request"]["url"]
            # what the report asked for; Chromium's own pages (new tab) are not the report's
            if params.get("documentURL") == uri and url != uri:
                requests.append(url)
    resources = driver.execute_script("return performance.getEntriesByType('resource').length")
    if resources:
        requests.append(f"{resources} resource entries")
    return {
        "errors": errors,
        "requests": requests,
        "ready_ms": ready_ms,
        "wall_ms": wall_ms,
        "cpu_s": cpu_s,
    }


def show_all_rows(driver: Any, table: str) -> list[str]:
    """Switch a table to one page of every row; the clusters (or row numbers) it shows."""
    return list(
        driver.execute_script(
            "const root = document.querySelector(`[data-table='${arguments[0]}']`);"
            "const size = root.querySelector('select.page-size');"
            "size.value = '0'; size.dispatchEvent(new Event('change'));"
            "return [...root.querySelectorAll('tbody tr')]"
            "  .map((tr, i) => tr.dataset.cluster || String(i));",
            table,
        )
    )
