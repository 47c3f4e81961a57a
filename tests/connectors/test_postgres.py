"""PostgreSQL input against a real server (``eval "$(scripts/postgres.sh)"``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from datavask.connectors import postgres as pg_connector
from datavask.connectors.errors import InputError
from datavask.connectors.files import read_table
from datavask.connectors.sources import read_url_table, redact_url
from tests.connectors.pg import (
    execute,
    load_rows,
    password_of,
    require_dsn,
    scratch_schema,
    with_password,
)

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample" / "customers.csv"


@pytest.fixture
def dsn() -> str:
    return require_dsn()


@pytest.fixture
def schema(dsn: str) -> Iterator[str]:
    with scratch_schema(dsn) as name:
        yield name


@pytest.fixture
def customers(dsn: str, schema: str) -> str:
    """A small customer table with Danish text, NULLs and typed columns; its URL."""
    load_rows(
        dsn,
        schema,
        "customers",
        {
            "kundenr": "integer",
            "navn": "text",
            "saldo": "numeric(12,2)",
            "rabat": "double precision",
            "oprettet": "date",
            "spærret": "boolean",
            "note": "text",
        },
        [
            (3, "Østergård & Søn ApS", Decimal("1250.50"), 2.5, dt.date(2021, 3, 9), False, None),
            (1, "Åbo Æblehandel I/S", Decimal("-10.00"), 0.0, None, True, 'siger "hej"; ok'),
            (2, None, None, None, dt.date(1999, 12, 31), None, ""),
        ],
        primary_key="kundenr",
    )
    return f"{dsn}?table=customers&schema={schema}"


# --------------------------------------------------------------------------- no server needed


def test_redact_url_removes_every_password() -> None:
    assert redact_url("postgresql://ann:pw@h:5/db?table=t") == "postgresql://ann@h:5/db?table=t"
    assert redact_url("postgresql://h/db?password=pw&table=t") == "postgresql://h/db?table=t"
    assert redact_url("postgres://ann@h/db?table=t") == "postgres://ann@h/db?table=t"


def test_unknown_scheme_names_the_supported_ones() -> None:
    with pytest.raises(InputError, match=r"postgresql://.*economic://") as info:
        read_table("mysql://root:hunter2@localhost/crm?table=customers")
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("", r"\?table=NAME or \?query="),
        ("?table=a&query=SELECT 1", "either table= or query="),
        ("?table=a&order_by=x; drop", "order_by= takes column names"),
        ("?table=a&statement_timeout=soon", "statement_timeout= must be a positive"),
    ],
)
def test_unusable_parameters_stop_before_connecting(params: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_url_table(f"postgresql://ann:pw@127.0.0.1:1/db{params}")


# --------------------------------------------------------------------------- real server


@pytest.mark.postgres
def test_values_read_as_text_the_way_a_csv_export_shows_them(customers: str) -> None:
    table, problems, info = read_url_table(customers)

    assert problems == {}
    assert table.schema == pl.Schema(
        dict.fromkeys(
            ["kundenr", "navn", "saldo", "rabat", "oprettet", "spærret", "note"], pl.String
        )
        | {"source_row": pl.Int64}
    )
    assert table.to_dicts() == [  # primary key order, not insertion order
        {
            "kundenr": "1",
            "navn": "Åbo Æblehandel I/S",
            "saldo": "-10.00",
            "rabat": "0",
            "oprettet": None,
            "spærret": "true",
            "note": 'siger "hej"; ok',
            "source_row": 1,
        },
        {
            "kundenr": "2",
            "navn": None,
            "saldo": None,
            "rabat": None,
            "oprettet": "1999-12-31",
            "spærret": None,
            "note": "",
            "source_row": 2,
        },
        {
            "kundenr": "3",
            "navn": "Østergård & Søn ApS",
            "saldo": "1250.50",
            "rabat": "2.5",
            "oprettet": "2021-03-09",
            "spærret": "false",
            "note": None,
            "source_row": 3,
        },
    ]
    assert info.format == "postgresql"
    assert info.order == "primary key (kundenr)"
    assert info.source is not None and "customers" in info.source
    assert info.columns == ["kundenr", "navn", "saldo", "rabat", "oprettet", "spærret", "note"]
    assert info.rows == 3


@pytest.mark.postgres
def test_info_path_and_messages_carry_no_password(customers: str, dsn: str) -> None:
    _, _, info = read_url_table(customers)
    secret = password_of(dsn)
    assert secret not in json.dumps(info.to_dict())
    assert info.path == redact_url(customers)
    assert info.path.startswith("postgresql://") and "table=customers" in info.path


@pytest.mark.postgres
def test_ten_thousand_rows_stream_in_batches_in_key_order(
    dsn: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = list(range(1, 10_001))
    random.Random(7).shuffle(ids)
    rows = [(i, f"Kunde {i} æøå", None if i % 7 == 0 else f"{i:08d}") for i in ids]
    load_rows(
        dsn, schema, "big", {"id": "int", "navn": "text", "cvr": "text"}, rows, primary_key="id"
    )
    monkeypatch.setattr(pg_connector, "BATCH_BYTES", 16 * 1024)  # ~40 batches

    table, _, info = read_url_table(f"{dsn}?table=big&schema={schema}")

    assert table.height == 10_000 == info.rows
    assert table["id"].to_list() == [str(i) for i in range(1, 10_001)]
    assert table["source_row"].to_list() == list(range(1, 10_001))
    assert table["navn"][41] == "Kunde 42 æøå"
    assert table["cvr"].null_count() == 10_000 // 7
    assert table["cvr"][6] is None and table["cvr"][7] == "00000008"


@pytest.mark.postgres
def test_without_primary_key_rows_come_in_physical_order(dsn: str, schema: str) -> None:
    load_rows(dsn, schema, "loose", {"navn": "text"}, [("b",), ("a",), (None,), ("c",)])

    table, _, info = read_url_table(f"{dsn}?table=loose&schema={schema}")

    assert table["navn"].to_list() == ["b", "a", None, "c"]  # a lone NULL column is still a row
    assert info.order is not None and "ctid" in info.order


@pytest.mark.postgres
def test_order_by_overrides_the_key(customers: str) -> None:
    table, _, info = read_url_table(f"{customers}&order_by=oprettet desc, kundenr")
    assert table["kundenr"].to_list() == ["1", "3", "2"]  # NULL sorts first in DESC
    assert info.order == "order_by (oprettet desc, kundenr)"


@pytest.mark.postgres
def test_query_reads_what_it_selects_in_its_own_order(
    customers: str, dsn: str, schema: str
) -> None:
    query = (
        f"SELECT kundenr AS id, upper(navn) AS navn FROM {schema}.customers"
        " WHERE navn IS NOT NULL ORDER BY kundenr DESC"
    )
    table, _, info = read_url_table(f"{dsn}?query={query}")

    assert table.select("id", "navn").rows() == [
        ("3", "ØSTERGÅRD & SØN APS"),
        ("1", "ÅBO ÆBLEHANDEL I/S"),
    ]
    assert info.source == "query"
    assert info.order == "as the query returns them"


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT kundenr, {schema}.wipe() FROM {schema}.customers", "datavask only reads"),
        ("SELECT kundenr, nextval('{schema}.seq') FROM {schema}.customers", "datavask only reads"),
        (
            "WITH gone AS (DELETE FROM {schema}.customers RETURNING *) SELECT * FROM gone",
            "data-modifying statement",
        ),
        ("DELETE FROM {schema}.customers RETURNING *", "syntax error"),
    ],
)
def test_a_query_that_writes_is_refused(
    customers: str, dsn: str, schema: str, query: str, message: str
) -> None:
    execute(dsn, f"CREATE SEQUENCE {schema}.seq")
    execute(
        dsn,
        f"CREATE FUNCTION {schema}.wipe() RETURNS int LANGUAGE sql"
        f" AS 'DELETE FROM {schema}.customers RETURNING 1'",
    )
    with pytest.raises(InputError, match=message):
        read_url_table(f"{dsn}?query={query.format(schema=schema)}")
    assert execute(dsn, f"SELECT count(*) FROM {schema}.customers") == [(3,)]
    assert execute(dsn, f"SELECT last_value, is_called FROM {schema}.seq") == [(1, False)]


@pytest.mark.postgres
def test_bad_password_is_one_line_without_any_password(customers: str, dsn: str) -> None:
    wrong = "not-the-password-4711"
    with pytest.raises(InputError) as info:
        read_url_table(with_password(customers, wrong))
    message = str(info.value)
    assert "password authentication failed" in message
    assert "\n" not in message
    assert wrong not in message and password_of(dsn) not in message


@pytest.mark.postgres
def test_password_from_datavask_variable_when_the_url_has_none(
    customers: str, dsn: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    bare = with_password(customers, None)

    monkeypatch.delenv("DATAVASK_PG_PASSWORD", raising=False)
    with pytest.raises(InputError, match=r"asks for a password.*DATAVASK_PG_PASSWORD"):
        read_url_table(bare)

    monkeypatch.setenv("DATAVASK_PG_PASSWORD", password_of(dsn))
    table, _, info = read_url_table(bare)
    assert table.height == 3
    assert password_of(dsn) not in json.dumps(info.to_dict())


@pytest.mark.postgres
def test_password_from_pgpass(
    customers: str, dsn: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"*:*:*:*:{password_of(dsn)}\n", encoding="utf-8")
    pgpass.chmod(0o600)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.delenv("DATAVASK_PG_PASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))

    table, _, _ = read_url_table(with_password(customers, None))
    assert table.height == 3


@pytest.mark.postgres
def test_unknown_table_lists_the_tables_there_and_nothing_secret(
    customers: str, dsn: str, schema: str
) -> None:
    with pytest.raises(InputError) as info:
        read_url_table(f"{dsn}?table=kunder&schema={schema}")
    message = str(info.value)
    assert f"no table '{schema}.kunder' in schema {schema}; tables there: customers" in message
    assert password_of(dsn) not in message


@pytest.mark.postgres
def test_unknown_column_in_query_is_an_input_error(customers: str, dsn: str, schema: str) -> None:
    with pytest.raises(InputError, match='column "telefon" does not exist'):
        read_url_table(f"{dsn}?query=SELECT telefon FROM {schema}.customers")


@pytest.mark.postgres
def test_statement_timeout_stops_a_slow_read(dsn: str) -> None:
    with pytest.raises(InputError, match=r"longer than the statement timeout \(0.3 s\)"):
        read_url_table(f"{dsn}?query=SELECT pg_sleep(5)::text AS x&statement_timeout=0.3")


@pytest.mark.postgres
def test_no_server_is_an_input_error(dsn: str) -> None:
    with pytest.raises(InputError, match=r"cannot connect to PostgreSQL.*refused"):
        read_url_table("postgresql://ann:pw@127.0.0.1:1/db?table=customers")


@pytest.mark.postgres
def test_empty_table_is_an_input_error(dsn: str, schema: str) -> None:
    load_rows(dsn, schema, "tom", {"navn": "text"}, [])
    with pytest.raises(InputError, match="has no rows"):
        read_url_table(f"{dsn}?table=tom&schema={schema}")


@pytest.mark.postgres
def test_checksum_tells_two_reads_apart(customers: str, dsn: str, schema: str) -> None:
    first = read_url_table(customers)[2].sha256
    assert read_url_table(customers)[2].sha256 == first
    execute(dsn, f"UPDATE {schema}.customers SET navn = 'Ny' WHERE kundenr = 2")
    assert read_url_table(customers)[2].sha256 != first


@pytest.mark.postgres
def test_cleanse_from_postgres_matches_the_csv_run(dsn: str, schema: str, tmp_path: Path) -> None:
    from datavask.flows.cleanse import CleanseOptions, run_pipeline

    sample, _, _ = read_table(SAMPLE)
    columns = [c for c in sample.columns if c not in ("source_row", "_overflow")]
    # The CSV is in customer-number order; as the primary key it gives the table the same order.
    assert sample["Kundenr"].is_sorted()
    load_rows(
        dsn,
        schema,
        "customers",
        dict.fromkeys(columns, "text"),
        sample.select(columns).rows(),
        primary_key="Kundenr",
    )
    url = f"{dsn}?table=customers&schema={schema}"

    runs = {}
    for name, source in (("csv", str(SAMPLE)), ("pg", url)):
        out = tmp_path / name
        runs[name] = run_pipeline(
            CleanseOptions(input=source, out=str(out), registry="none"), orchestrated=False
        )
        runs[name]["records"] = pl.read_parquet(out / "records.parquet")

    csv_records, pg_records = runs["csv"]["records"], runs["pg"]["records"]
    assert pg_records.schema == csv_records.schema
    assert pg_records.equals(csv_records)
    assert runs["pg"]["input"]["format"] == "postgresql"
    assert password_of(dsn) not in runs["pg"]["input"]["path"]


@pytest.mark.postgres
def test_run_json_carries_no_password(customers: str, dsn: str, tmp_path: Path) -> None:
    from datavask.flows.cleanse import CleanseOptions, run_pipeline

    out = tmp_path / "run"
    run_pipeline(CleanseOptions(input=customers, out=str(out), registry="none"), orchestrated=False)
    assert password_of(dsn) not in (out / "run.json").read_text(encoding="utf-8")


_STREAM_MILLION = """
import os, resource, sys, time
from datavask.connectors.sources import read_url_table
query = "SELECT g AS id, 'Kunde ' || g || ' Østergård ApS' AS navn, (g % 3 = 0) AS spaerret,"
query += " date '2020-01-01' + g % 1000 AS oprettet FROM generate_series(1, 1000000) g ORDER BY g"
start = time.perf_counter()
table, _, info = read_url_table(os.environ["DATAVASK_TEST_PG_DSN"] + "?query=" + query)
seconds = time.perf_counter() - start
assert table.height == 1_000_000 and table["id"][-1] == "1000000", table.tail(1)
assert table["spaerret"][2] == "true" and table["oprettet"][0] == "2020-01-02"
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{table.height / seconds:.0f} {peak:.0f} {table.estimated_size('mb'):.0f}")
"""


@pytest.mark.postgres
@pytest.mark.slow
def test_a_million_rows_stream_in_bounded_memory(dsn: str) -> None:
    """Peak memory stays a small multiple of the result, not of a million Python rows."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _STREAM_MILLION],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={**os.environ, "DATAVASK_TEST_PG_DSN": dsn},
    )
    rows_per_s, peak_mb, frame_mb = map(float, done.stdout.split())
    assert peak_mb < 150 + 3 * frame_mb, done.stdout  # ~60 MB interpreter + polars + psycopg
    assert rows_per_s > 50_000, done.stdout


@pytest.mark.postgres
def test_a_query_repeating_a_column_name_is_refused(dsn: str) -> None:
    with pytest.raises(InputError, match=r"repeats column names 'navn'; give them their own"):
        read_url_table(f"{dsn}?query=SELECT 'a' AS navn, 'b' AS navn")


# --------------------------------------------------------------------------- in chunks (Dask)


@pytest.mark.postgres
def test_chunks_in_key_ranges_are_the_whole_read_in_one_snapshot(
    dsn: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from polars.testing import assert_frame_equal

    from datavask.connectors.postgres import postgres_chunks, read_chunk

    rng = random.Random(3)
    rows = [
        (rng.choice(["a", "æ", "ø", "Å", "b b"]), i, f"Kunde {i}", None if i % 5 else "note, med ;")
        for i in range(1_000)
    ]
    rng.shuffle(rows)  # inserted out of key order: the chunks must follow the key, not the heap
    columns = {"gruppe": "text", "nr": "integer", "navn": "text", "note": "text"}
    load_rows(dsn, schema, "kunder", columns, rows)
    execute(dsn, f'ALTER TABLE "{schema}".kunder ADD PRIMARY KEY (gruppe, nr)')
    url = f"{dsn}?table=kunder&schema={schema}"
    whole, _, whole_info = read_url_table(url)
    # a worker connects with its own password, never one sent with the plan
    monkeypatch.setenv("DATAVASK_PG_PASSWORD", password_of(dsn))
    with postgres_chunks(url, chunk_rows=150, min_chunks=2) as planned:
        assert not isinstance(planned, str)
        plan, info = planned
        execute(dsn, f"INSERT INTO \"{schema}\".kunder VALUES ('a', -1, 'late', NULL)")
        chunks = [read_chunk(plan, i) for i in range(plan.chunks)]
    assert plan.chunks == 7 and all(chunk.height for chunk in chunks)
    assert password_of(dsn) not in plan.conninfo + repr(plan)
    assert (info.sha256, info.order, info.rows) == (whole_info.sha256, whole_info.order, 1_000)
    # the snapshot: the row written after planning is in no chunk
    assert_frame_equal(pl.concat(chunks), whole.drop("source_row"))


@pytest.mark.postgres
def test_chunks_of_a_table_without_a_key_are_its_physical_order_in_ctid_ranges(
    dsn: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A keyless table is read in ranges of its rows' ctids, bounds taken from the rows in the
    snapshot: pages emptied by deletes and rows moved by updates (into the holes a VACUUM left)
    neither unbalance the chunks nor change the rows or their order."""
    from polars.testing import assert_frame_equal

    from datavask.connectors.postgres import postgres_chunks, read_chunk

    rows = [(i, f"Kunde {i}", "x" * 200 if i % 3 else None) for i in range(1_200)]
    load_rows(dsn, schema, "loose", {"nr": "integer", "navn": "text", "fyld": "text"}, rows)
    table = f'"{schema}".loose'
    execute(dsn, f"DELETE FROM {table} WHERE nr % 7 = 0 OR nr BETWEEN 300 AND 520")
    execute(dsn, f"VACUUM {table}")  # the deleted rows' space becomes holes to fill
    execute(dsn, f"UPDATE {table} SET navn = navn || ' (ny)' WHERE nr % 11 = 0")
    url = f"{dsn}?table=loose&schema={schema}"
    whole, _, whole_info = read_url_table(url)
    numbers = whole["nr"].cast(pl.Int64)
    assert not numbers.is_sorted()  # the updates really moved rows out of insertion order
    monkeypatch.setenv("DATAVASK_PG_PASSWORD", password_of(dsn))
    with postgres_chunks(url, chunk_rows=150, min_chunks=2) as planned:
        assert not isinstance(planned, str), planned
        plan, info = planned
        # Written after planning: no chunk sees it, though it moves rows and fills holes.
        execute(dsn, f"DELETE FROM {table} WHERE nr BETWEEN 600 AND 650")
        execute(dsn, f"UPDATE {table} SET navn = 'flyttet' WHERE nr % 5 = 0")
        execute(dsn, f"INSERT INTO {table} VALUES (-1, 'late', NULL)")
        chunks = [read_chunk(plan, i) for i in range(plan.chunks)]
        middle = execute(dsn, f"EXPLAIN {plan.select(1)}")
        version = execute(dsn, "SHOW server_version_num")[0][0]
    assert plan.key == ["ctid"] and plan.chunks == -(-whole.height // 150)
    heights = [chunk.height for chunk in chunks]
    assert max(heights) - min(heights) <= 1, heights  # balanced by rows, not by pages
    assert (info.sha256, info.order, info.rows) == (
        whole_info.sha256,
        whole_info.order,
        whole.height,
    )
    assert_frame_equal(pl.concat(chunks), whole.drop("source_row"))
    if int(version) >= 140000:  # a chunk reads its own pages, not the whole table
        assert "Tid Range Scan" in " ".join(line for (line,) in middle), middle


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ("query=SELECT 1 AS a", "a query"),
        ("table=customers&schema={schema}&order_by=navn", "order_by="),
        ("table=parted&schema={schema}", "a partitioned table without a primary key"),
        ("table=loose_view&schema={schema}", "a view"),
    ],
)
def test_what_cannot_be_cut_by_its_key_is_read_whole(
    customers: str, dsn: str, schema: str, params: str, reason: str
) -> None:
    from datavask.connectors.postgres import postgres_chunks

    load_rows(dsn, schema, "loose", {"navn": "text"}, [("a",), ("b",)])
    execute(dsn, f'CREATE VIEW "{schema}".loose_view AS SELECT * FROM "{schema}".loose')
    execute(dsn, f'CREATE TABLE "{schema}".parted (navn text) PARTITION BY LIST (navn)')
    execute(dsn, f'CREATE TABLE "{schema}".parted_a PARTITION OF "{schema}".parted DEFAULT')
    execute(dsn, f"INSERT INTO \"{schema}\".parted VALUES ('a'), ('b')")
    url = f"{dsn}?{params.format(schema=schema)}"
    with postgres_chunks(url, chunk_rows=1, min_chunks=2) as planned:
        assert isinstance(planned, str) and reason in planned
