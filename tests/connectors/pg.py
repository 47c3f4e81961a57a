"""Helpers for tests against the real PostgreSQL server that ``scripts/postgres.sh`` starts.

The server's DSN comes from ``DATAVASK_TEST_PG_DSN``. Without it the tests skip, except under CI
(``CI`` set), where a missing server is a failure: CI must not pass by testing nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

ENV_DSN = "DATAVASK_TEST_PG_DSN"


def require_dsn() -> str:
    """The test server's DSN (with its password), or skip / fail as described above."""
    dsn = os.environ.get(ENV_DSN)
    if dsn:
        return dsn
    message = f'{ENV_DSN} is not set: run  eval "$(scripts/postgres.sh)"  first'
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def with_password(dsn: str, password: str | None) -> str:
    """``dsn`` with its password replaced (None: removed)."""
    parts = urlsplit(dsn)
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[-1]
    userinfo = f"{user}:{password}" if password is not None else user
    return urlunsplit((parts.scheme, f"{userinfo}@{host}", parts.path, parts.query, ""))


def password_of(dsn: str) -> str:
    password = urlsplit(dsn).password
    assert password, f"{ENV_DSN} must carry a password"
    return password


@contextmanager
def scratch_schema(dsn: str) -> Iterator[str]:
    """A schema of its own for one test, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


def execute(dsn: str, statement: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement in its own committed transaction; the rows it returns, if any."""
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(statement.encode(), params)  # bytes: a test's SQL is not a LiteralString
        return cur.fetchall() if cur.description else []


def load_rows(
    dsn: str,
    schema: str,
    table: str,
    columns: dict[str, str],
    rows: Sequence[Sequence[Any]],
    *,
    primary_key: str | None = None,
) -> None:
    """Create ``schema.table`` with ``columns`` (name → SQL type) and COPY ``rows`` into it."""
    target = sql.Identifier(schema, table)
    definition = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
        for name, kind in columns.items()
    )
    if primary_key:
        definition = sql.SQL("{}, PRIMARY KEY ({})").format(definition, sql.Identifier(primary_key))
    names = sql.SQL(", ").join(sql.Identifier(n) for n in columns)
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE TABLE {} ({})").format(target, definition))
        with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(target, names)) as copy:
            for row in rows:
                copy.write_row(row)
