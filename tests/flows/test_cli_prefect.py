"""The command line under a Prefect server: bad input stays one line, secrets stay out of Prefect."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def _cli(args: list[str], api_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PREFECT_API_URL=api_url, DATAVASK_HOME=str(tmp_path / "home"))
    env.pop("DATAVASK_ORCHESTRATION", None)
    # the CLI's own console level, as users get it
    env.pop("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", None)
    return subprocess.run(
        [sys.executable, "-m", "datavask", *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def api_url(prefect_harness: None) -> str:
    from prefect.settings import get_current_settings

    return str(get_current_settings().api.url)


@pytest.mark.prefect
def test_bad_input_in_a_prefect_run_is_one_line(api_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "header-only.csv"
    bad.write_text("Navn;Postnr;By\n")
    done = _cli(["cleanse", str(bad), "--out", str(tmp_path / "out")], api_url, tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr + done.stdout
    assert "no data rows" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.prefect
@pytest.mark.postgres
def test_database_password_never_reaches_prefect_or_run_json(api_url: str, tmp_path: Path) -> None:
    dsn = os.environ.get("DATAVASK_TEST_PG_DSN")
    if not dsn:
        if os.environ.get("CI"):
            pytest.fail("DATAVASK_TEST_PG_DSN is not set (scripts/postgres.sh starts the server)")
        pytest.skip('no test PostgreSQL (eval "$(scripts/postgres.sh)")')
    import psycopg

    password = urlsplit(dsn).password
    assert password
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS cli_secret_customers")
        conn.execute(
            "CREATE TABLE cli_secret_customers (kundenr text primary key, navn text, postnr text)"
        )
        conn.execute("INSERT INTO cli_secret_customers VALUES ('1', 'Hansen Byg ApS', '8000')")
    out = tmp_path / "out"
    done = _cli(
        ["cleanse", f"{dsn}?table=cli_secret_customers", "--out", str(out), "--registry", "none"],
        api_url,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert password not in (out / "run.json").read_text()
    assert password not in done.stderr + done.stdout

    from prefect.client.orchestration import get_client

    async def parameters() -> list[str]:
        async with get_client() as client:
            runs = await client.read_flow_runs()
        return [str(run.parameters) for run in runs]

    stored = asyncio.run(parameters())
    assert any("cli_secret_customers" in p for p in stored)
    assert not any(password in p for p in stored)
