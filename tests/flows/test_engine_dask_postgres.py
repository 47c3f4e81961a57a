"""``--engine dask`` reads a PostgreSQL table in key ranges on the workers and writes what the
local run, reading the table whole, writes.

3,000 generated customers in a table whose primary key is not its physical order, read in 6
chunks on a 2-process cluster; and the same customers in a table without a primary key, with
holes that deletes left and rows that updates moved, read in 6 ranges of its rows' ctids (its
physical order, the order the local read gives it). The workers connect with their own password
(``DATAVASK_PG_PASSWORD``), never one sent with the tasks. The chunks themselves (snapshot, key
ranges, checksum) are tested without a cluster in ``tests/connectors/test_postgres.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from bench.compare_runs import differences
from bench.generate import generate, write_dataset
from tests.connectors.pg import (
    execute,
    load_rows,
    password_of,
    require_dsn,
    scratch_schema,
    with_password,
)

# Two cleanses of 3,000 rows, one on a 2-process cluster: minutes on a loaded 2-core machine.
pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(1500)]

ROWS = 3_000


def _cleanse(source: str, registry: Path, out: Path, env: dict[str, str], *extra: str) -> None:
    command = [sys.executable, "-m", "datavask", "cleanse", source, "--registry", str(registry)]
    done = subprocess.run(
        [*command, "--out", str(out), *extra],
        env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


@pytest.mark.parametrize("keyed", [True, False], ids=["primary-key", "no-key"])
def test_dask_reads_a_table_in_chunks_and_writes_what_local_writes(
    tmp_path: Path, keyed: bool
) -> None:
    dsn = require_dsn()
    dataset = generate(ROWS, 21)
    data = write_dataset(dataset, tmp_path / "data")
    table = (
        dataset.customers.with_row_index("id", offset=1)
        .with_columns(pl.col("id").cast(pl.Int64))
        .sample(fraction=1.0, shuffle=True, seed=21)  # the heap out of key order
    )
    columns = {name: "bigint" if name == "id" else "text" for name in table.columns}
    env = dict(os.environ)
    env.update(
        DATAVASK_ORCHESTRATION="none",
        DATAVASK_HOME=str(tmp_path / "home"),
        DATAVASK_DASK_PARTITION_ROWS="500",
        DATAVASK_PG_PASSWORD=password_of(dsn),
        NO_COLOR="1",
    )
    with scratch_schema(dsn) as schema:
        load_rows(dsn, schema, "kunder", columns, table.rows(), primary_key="id" if keyed else None)
        if not keyed:  # holes in the pages, and rows moved into them out of insertion order
            name = f'"{schema}".kunder'
            execute(dsn, f"DELETE FROM {name} WHERE id % 13 = 0 OR id BETWEEN 1000 AND 1200")
            execute(dsn, f"VACUUM {name}")
            execute(dsn, f'UPDATE {name} SET "Navn" = "Navn" || \' \' WHERE id % 17 = 0')
        url = f"{with_password(dsn, None)}?table=kunder&schema={schema}"
        _cleanse(url, data["registry"], tmp_path / "local" / "out", env)
        _cleanse(url, data["registry"], tmp_path / "dask" / "out", env, "--engine", "dask")
    run = json.loads((tmp_path / "dask" / "out" / "run.json").read_text(encoding="utf-8"))
    assert run["engine"]["read"] == {"where": "workers", "parts": 6, "format": "postgresql"}
    expected = "primary key (id)" if keyed else "physical order (ctid"
    assert run["input"]["order"].startswith(expected)
    assert differences(tmp_path / "local" / "out", tmp_path / "dask" / "out") == []
    assert password_of(dsn) not in (tmp_path / "dask" / "out" / "run.json").read_text()
