"""Read a PostgreSQL table or query as a text table, streamed with ``COPY … TO STDOUT``.

URL: ``postgresql://user[:password]@host[:port]/db?table=customers`` or ``?query=SELECT …``, with
optional ``schema=`` (for ``table=``), ``order_by=`` (``col[ desc], col2``) and
``statement_timeout=`` (seconds, default 600). Other parameters (``sslmode=``, ``connect_timeout=``
…) go to libpq unchanged. In ``query=`` write ``&`` and ``#`` as ``%26`` and ``%23``.

Rows come in a stable order: ``order_by`` when given, else the table's primary key, else its
physical order (``ctid``); a query's rows come in the order the query gives them. The order used
is recorded in :attr:`SourceInfo.order`.

Everything runs in one ``READ ONLY`` transaction with a statement timeout, so neither a query that
tries to write nor one that hangs can do harm. Values arrive in PostgreSQL's own text form with
ISO dates (``DateStyle ISO``), booleans as ``true``/``false`` and NULL as null; ``COPY`` streams
them in CSV, parsed by polars in batches of :data:`BATCH_BYTES`, so a million rows never become
a million Python tuples.

The password is taken from the URL, else ``PGPASSWORD``, else ``~/.pgpass`` (libpq's own
lookups), else ``DATAVASK_PG_PASSWORD``. It never appears in a message or in :class:`SourceInfo`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote, urlsplit, urlunsplit

import polars as pl

from datavask.connectors.errors import InputError, listed
from datavask.connectors.sources import SourceInfo, redact_url
from datavask.settings import settings

log = logging.getLogger(__name__)

ENV_PASSWORD: Final = "DATAVASK_PG_PASSWORD"
CONNECT_TIMEOUT: Final = 10  # seconds, unless the URL says connect_timeout=
STATEMENT_TIMEOUT: Final = 600.0  # seconds for the whole read, unless statement_timeout=
LOCK_TIMEOUT: Final = 30.0  # seconds to wait for a table someone holds an exclusive lock on
BATCH_BYTES: Final = 32 << 20
_OWN_PARAMS: Final = frozenset({"table", "query", "schema", "order_by", "statement_timeout"})
_BOOL_OID: Final = 16
_NO_PASSWORD: Final = "no password supplied"
_CONSTANT: Final = "__datavask_line__"


def read_postgres(url: str) -> tuple[pl.DataFrame, SourceInfo]:
    """The rows of ``?table=`` or ``?query=`` as text columns (no ``source_row`` yet)."""
    import psycopg

    where = redact_url(url)
    own, conninfo = _split_url(url, where)
    password = _url_password(url)
    info = SourceInfo(path=where, sha256="", format="postgresql")
    timeout = _seconds(own, "statement_timeout", STATEMENT_TIMEOUT, where)
    order_by = _order_by(own.get("order_by"), where)
    try:
        with _read_cursor(conninfo, where, password, timeout) as cur:
            select = _select(cur, own, order_by, info, where)
            columns = _columns(cur, select, where)
            table, info.sha256 = _copy(cur, select, columns)
    except InputError:
        raise
    except psycopg.errors.QueryCanceled:
        raise InputError(
            f"{where}: the read took longer than the statement timeout "
            f"({timeout:g} s); "
            "raise it with statement_timeout=SECONDS"
        ) from None
    except psycopg.errors.ReadOnlySqlTransaction as exc:
        raise InputError(
            f"{where}: datavask only reads; the query tried to change data "
            f"({_primary(exc, password)})"
        ) from None
    except psycopg.Error as exc:
        raise InputError(f"{where}: {_primary(exc, password)}") from None
    info.rows = table.height
    return table, info


# --------------------------------------------------------------------------- URL and connection


def _split_url(url: str, where: str) -> tuple[dict[str, str], str]:
    """Our own parameters, and the URL libpq should see (without them)."""
    parts = urlsplit(url, allow_fragments=False)
    own: dict[str, str] = {}
    passed: list[str] = []
    for item in parts.query.split("&") if parts.query else []:
        key, _, value = item.partition("=")
        if unquote(key) in _OWN_PARAMS:
            own[unquote(key)] = unquote(value).strip()
        elif item:
            passed.append(item)
    if "table" in own and "query" in own:
        raise InputError(f"{where}: give either table= or query=, not both")
    if not own.get("table") and not own.get("query"):
        raise InputError(f"{where}: say what to read with ?table=NAME or ?query=SELECT …")
    if "query" in own and ("schema" in own):
        raise InputError(f"{where}: schema= goes with table=; name the schema inside query=")
    if "connect_timeout" not in {p.split("=", 1)[0] for p in passed}:
        passed.append(f"connect_timeout={CONNECT_TIMEOUT}")
    return own, urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(passed), ""))


def _url_password(url: str) -> str | None:
    parts = urlsplit(url, allow_fragments=False)
    if parts.password:
        return unquote(parts.password)
    for item in parts.query.split("&"):
        key, _, value = item.partition("=")
        if key == "password":
            return unquote(value)
    return None


def _connect(conninfo: str, where: str, password: str | None) -> Any:
    """A connection; libpq finds the password (URL, PGPASSWORD, ~/.pgpass), else our variable."""
    import psycopg

    kwargs: dict[str, Any] = {"application_name": "datavask", "client_encoding": "UTF8"}
    fallback = _env_password()
    try:
        try:
            return psycopg.connect(conninfo, **kwargs)
        except psycopg.OperationalError as exc:
            if _NO_PASSWORD not in str(exc) or not fallback:
                raise
            password = fallback
            return psycopg.connect(conninfo, password=fallback, **kwargs)
    except psycopg.OperationalError as exc:
        reason = _last_line(exc, password)
        if _NO_PASSWORD in reason:
            reason = (
                "the server asks for a password; put it in the URL, PGPASSWORD, ~/.pgpass "
                f"or {ENV_PASSWORD}"
            )
        raise InputError(f"{where}: cannot connect to PostgreSQL: {reason}") from None
    except psycopg.ProgrammingError as exc:  # a malformed URL or an unknown libpq parameter
        reason = _last_line(exc, password)
        raise InputError(f"{where}: not a usable PostgreSQL URL: {reason}") from None


def _env_password() -> str | None:
    secret = settings().pg_password
    return secret.get_secret_value() if secret else None


def _last_line(exc: BaseException, password: str | None) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = lines[0] if lines else type(exc).__name__
    if "failed:" in text:  # 'connection to server at "h", port 5432 failed: FATAL:  …'
        text = text.rsplit("failed:", 1)[1].strip()
    if len(lines) > 1 and lines[1].startswith("Is the server"):
        text += f" ({lines[1]})"
    text = text.removeprefix("FATAL:").strip()
    return _scrub(text, password)


def _primary(exc: Any, password: str | None) -> str:
    diag = getattr(exc, "diag", None)
    message = (diag.message_primary if diag is not None else None) or str(exc).splitlines()[0]
    return _scrub(message, password)


def _scrub(text: str, password: str | None) -> str:
    for secret in (password, _env_password(), os.environ.get("PGPASSWORD")):
        if secret:
            text = text.replace(secret, "***")
    return text


def _seconds(own: dict[str, str], key: str, default: float, where: str) -> float:
    if key not in own:
        return default
    try:
        value = float(own[key])
    except ValueError:
        value = -1.0
    if value <= 0:
        raise InputError(f"{where}: {key}= must be a positive number of seconds")
    return value


# --------------------------------------------------------------------------- what to read


def _select(cur: Any, own: dict[str, str], order_by: str, info: SourceInfo, where: str) -> str:
    """The SELECT to stream, with its ORDER BY; records what and in which order in ``info``."""
    from psycopg import sql

    if "query" in own:
        query = own["query"].rstrip().rstrip(";").rstrip()
        info.source = "query"
        info.order = f"order_by ({own['order_by']})" if order_by else "as the query returns them"
        return f"SELECT * FROM ({query}) AS source" + (f" ORDER BY {order_by}" if order_by else "")

    name = own["table"]
    schema = own.get("schema")
    ident = sql.Identifier(schema, name) if schema else sql.Identifier(name)
    cur.execute(
        sql.SQL(
            "SELECT c.oid, c.relkind, n.nspname, c.relname FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass({})"
        ).format(sql.Literal(ident.as_string(cur))),
    )
    found = cur.fetchone()
    if found is None:
        raise InputError(f"{where}: {_no_such_table(cur, name, schema)}")
    oid, relkind, nspname, relname = found
    qualified = sql.Identifier(nspname, relname).as_string(cur)
    info.source = f"table {qualified}"
    if order_by:
        info.order = f"order_by ({own['order_by']})"
    else:
        cur.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a"
            " ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)"
            " WHERE i.indrelid = %s AND i.indisprimary"
            " ORDER BY array_position(i.indkey::int2[], a.attnum)",
            (oid,),
        )
        key = [row[0] for row in cur.fetchall()]
        if key:
            order_by = ", ".join(sql.Identifier(k).as_string(cur) for k in key)
            info.order = f"primary key ({', '.join(key)})"
        elif relkind in ("r", "m"):
            order_by = "ctid"
            info.order = (
                "physical order (ctid; not always insertion order): the table has no "
                "primary key; give order_by="
            )
        elif relkind == "p":
            order_by = "tableoid, ctid"
            info.order = "partition, then physical order (ctid): no primary key; give order_by="
        else:
            info.order = "as the server returns them: a view has no stable order; give order_by="
    return f"SELECT * FROM {qualified}" + (f" ORDER BY {order_by}" if order_by else "")


def _order_by(spec: str | None, where: str) -> str:
    """``"name, updated desc"`` → ``"name", "updated" DESC``; anything else is refused."""
    from psycopg import sql

    if not spec:
        return ""
    terms = []
    for term in spec.split(","):
        words = term.split()
        direction = words[-1].upper() if len(words) > 1 else ""
        if len(words) > 2 or not words or (direction and direction not in ("ASC", "DESC")):
            raise InputError(
                f"{where}: order_by= takes column names, each optionally followed by asc or desc"
            )
        column = sql.Identifier(words[0]).as_string(None)
        terms.append(f"{column} {direction}".strip())
    return ", ".join(terms)


def _no_such_table(cur: Any, name: str, schema: str | None) -> str:
    """Which tables there are instead: names only, the ones this user may read."""
    cur.execute(
        "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_schema = coalesce(%s, current_schema())"
        " ORDER BY table_name LIMIT 21",
        (schema,),
    )
    rows = cur.fetchall()
    where = f"schema {rows[0][0] if rows else schema or 'public'}"
    target = f"{schema}.{name}" if schema else name
    if not rows:
        return f"no table {target!r}, and no tables this user can see in {where}"
    names = ", ".join(r[1] for r in rows[:20]) + (", …" if len(rows) > 20 else "")
    return f"no table {target!r} in {where}; tables there: {names}"


def _check_columns(names: list[str], where: str) -> None:
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(
            f"{where}: the result repeats column names {listed(repeated)}; "
            "give them their own names (AS …)"
        )


# --------------------------------------------------------------------------- streaming


def _copy(cur: Any, select: str, columns: list[tuple[str, int]]) -> tuple[pl.DataFrame, str]:
    """Stream ``select`` as CSV and parse it in batches; return the table and the rows' sha256.

    A leading constant column keeps every CSV line non-empty (a lone NULL column would otherwise
    be an empty line, which a CSV parser skips).
    """
    names = [c for c, _ in columns]
    schema = {_CONSTANT: pl.String} | dict.fromkeys(names, pl.String)
    digest = hashlib.sha256("\x1f".join(names).encode() + b"\n")
    batches: list[pl.DataFrame] = []
    buffer = bytearray()
    rows = 0

    def flush() -> None:
        if buffer:
            digest.update(buffer)
            batches.append(
                pl.read_csv(bytes(buffer), has_header=False, schema=schema, quote_char='"').drop(
                    _CONSTANT
                )
            )
            buffer.clear()

    statement = f"COPY (SELECT 1, q.* FROM ({select}) AS q) TO STDOUT (FORMAT csv)"
    with cur.copy(statement) as copy:
        for data in copy:
            buffer += data
            rows += 1
            if len(buffer) >= BATCH_BYTES:
                flush()
    flush()
    table = (
        pl.concat(batches, rechunk=False)
        if batches
        else pl.DataFrame(schema=dict.fromkeys(names, pl.String))
    )
    if table.height != rows:
        raise AssertionError(f"COPY sent {rows} rows but {table.height} were parsed")
    booleans = [name for name, oid in columns if oid == _BOOL_OID]
    if booleans:
        table = table.with_columns(
            pl.col(booleans).replace_strict({"t": "true", "f": "false"}, default=None)
        )
    log.debug("read %d rows from PostgreSQL", rows)
    return table, digest.hexdigest()


# --------------------------------------------------------------------------- in chunks (Dask)


@dataclass
class ChunkPlan:
    """How workers read one table in key ranges, all in the snapshot the planner holds open.

    Chunk ``i`` holds the rows whose primary key lies from ``bounds[i - 1]`` (included) to
    ``bounds[i]`` (excluded), in key order, so the chunks one after the other are the rows of the
    whole read in its order (keyset pagination). A table without a primary key is read in its
    physical order, so its "key" is ``ctid`` and the bounds are row addresses (``'(block,item)'``)
    taken from its rows in the snapshot: ctids do not change inside one snapshot, and PostgreSQL
    (14 and later) reads such a range with a TID range scan, only the range's pages. The
    connection string carries no password: a worker connects with its own (``PGPASSWORD``,
    ``~/.pgpass`` or ``DATAVASK_PG_PASSWORD``).
    """

    conninfo: str
    where: str
    timeout: float
    snapshot: str
    table: str  # quoted and qualified
    key: list[str]  # quoted
    bounds: list[tuple[Any, ...]]
    columns: list[tuple[str, int]]

    @property
    def chunks(self) -> int:
        return len(self.bounds) + 1

    def select(self, index: int) -> str:
        """The SELECT of chunk ``index`` (key values as SQL literals)."""
        from psycopg import sql

        key = sql.SQL("({})").format(sql.SQL(", ").join(sql.SQL(k) for k in self.key))
        conditions = []
        cast = sql.SQL("::tid" if self.key == ["ctid"] else "")
        for bound, operator in ((index - 1, ">="), (index, "<")):
            if 0 <= bound < len(self.bounds):
                values = sql.SQL(", ").join(
                    sql.Composed([sql.Literal(v), cast]) for v in self.bounds[bound]
                )
                conditions.append(
                    sql.SQL("{} {} ({})").format(key, sql.SQL(operator), values).as_string(None)
                )
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return f"SELECT * FROM {self.table}{where} ORDER BY {', '.join(self.key)}"


@contextlib.contextmanager
def postgres_chunks(
    url: str, *, chunk_rows: int, min_chunks: int
) -> Iterator[tuple[ChunkPlan, SourceInfo] | str]:
    """A plan to read ``url`` in chunks of about ``chunk_rows`` rows (at least ``min_chunks``),
    and what the whole read would say of it; or why it is to be read whole. The snapshot the
    chunks read stays open as long as the block: a chunk read again (a lost worker) reads the
    same rows. The planner streams the rows once, for the whole read's checksum (never held)."""
    import psycopg

    where = redact_url(url)
    own, conninfo = _split_url(url, where)
    if "table" not in own or own.get("order_by"):
        yield "a query, or a table in an order_by= order, is read whole by the driver"
        return
    password = _url_password(url)
    info = SourceInfo(path=where, sha256="", format="postgresql")
    timeout = _seconds(own, "statement_timeout", STATEMENT_TIMEOUT, where)
    try:
        with _read_cursor(conninfo, where, password, timeout) as cur:
            select = _select(cur, own, "", info, where)
            key = _primary_key(cur, select) or _physical_key(select)
            if not key:
                yield _whole_reason(select)
                return
            columns = _columns(cur, select, where)
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]
            info.sha256, rows = _digest(cur, select, [c for c, _ in columns])
            chunks = max(min_chunks, -(-rows // max(chunk_rows, 1)))
            table = select.removeprefix("SELECT * FROM ").split(" ORDER BY ")[0]
            bounds = _bounds(cur, table, key, rows, chunks)
            info.rows = rows
            info.columns = ["source_row_" if c == "source_row" else c for c, _ in columns]
            plan = ChunkPlan(
                redact_url(conninfo), where, timeout, snapshot, table, key, bounds, columns
            )
            yield plan, info
    except InputError:
        raise
    except psycopg.Error as exc:
        raise InputError(f"{where}: {_primary(exc, password)}") from None


def _columns(cur: Any, select: str, where: str) -> list[tuple[str, int]]:
    """The names and type codes of what ``select`` (its names quoted by :func:`_select`) gives,
    checked as columns datavask can take (:func:`_check_columns`)."""
    cur.execute(f"SELECT * FROM ({select}) AS q LIMIT 0")
    columns = [(d.name, d.type_code) for d in cur.description or []]
    _check_columns([c for c, _ in columns], where)
    return columns


def _session(cur: Any, timeout: float) -> None:
    """The read's settings, in its transaction: timeouts and the text forms of values."""
    cur.execute(
        "SELECT set_config('statement_timeout', %s, true),"
        " set_config('lock_timeout', %s, true),"
        " set_config('DateStyle', 'ISO, YMD', true),"
        " set_config('IntervalStyle', 'iso_8601', true),"
        " set_config('extra_float_digits', '1', true)",
        (str(int(timeout * 1000)), str(int(LOCK_TIMEOUT * 1000))),
    )


def _primary_key(cur: Any, select: str) -> list[str]:
    """The quoted primary-key columns ``select`` is ordered by, or [] when it is not."""
    from psycopg import sql

    ordered = select.split(" ORDER BY ")
    if len(ordered) != 2 or ordered[1] in ("ctid", "tableoid, ctid"):
        return []
    table = ordered[0].removeprefix("SELECT * FROM ")
    cur.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a"
        " ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)"
        " WHERE i.indrelid = to_regclass(%s) AND i.indisprimary"
        " ORDER BY array_position(i.indkey::int2[], a.attnum)",
        (table,),
    )
    key = [sql.Identifier(row[0]).as_string(cur) for row in cur.fetchall()]
    return key if ", ".join(key) == ordered[1] else []


def _physical_key(select: str) -> list[str]:
    """``["ctid"]`` when ``select`` reads a table without a primary key in physical order."""
    return ["ctid"] if select.endswith(" ORDER BY ctid") else []


def _whole_reason(select: str) -> str:
    """Why a table that has neither a primary key nor a plain physical order is read whole."""
    if select.endswith(" ORDER BY tableoid, ctid"):
        # One ctid range means nothing across partitions: each has its own pages.
        return "a partitioned table without a primary key is read whole by the driver"
    if " ORDER BY " not in select:
        return "a view has no stable order to cut it by and is read whole by the driver"
    return "a table without a primary key is read whole by the driver"


def _digest(cur: Any, select: str, names: list[str]) -> tuple[str, int]:
    """The whole read's checksum (as :func:`_copy` makes it) and row count, streamed."""
    digest = hashlib.sha256("\x1f".join(names).encode() + b"\n")
    rows = 0
    with cur.copy(f"COPY (SELECT 1, q.* FROM ({select}) AS q) TO STDOUT (FORMAT csv)") as copy:
        for data in copy:
            digest.update(data)
            rows += 1
    return digest.hexdigest(), rows


def _bounds(cur: Any, table: str, key: list[str], rows: int, chunks: int) -> list[tuple[Any, ...]]:
    """The key values where chunks 1 … ``chunks - 1`` start: every ``rows / chunks``-th key."""
    starts = sorted({rows * k // chunks for k in range(1, chunks)} - {0})
    if not starts:
        return []
    columns = ", ".join(key)
    cur.execute(
        f"SELECT {columns} FROM (SELECT {columns}, row_number() OVER (ORDER BY {columns}) - 1"
        f" AS n FROM {table}) AS k WHERE n = ANY (%s) ORDER BY n",
        (starts,),
    )
    return [tuple(row) for row in cur.fetchall()]


def can_read_chunks(plan: ChunkPlan) -> bool:
    """Whether this machine reaches the server and the plan's snapshot with its own password."""
    try:
        with _chunk_cursor(plan):
            return True
    except (InputError, Exception):  # psycopg's errors, a missing driver: the driver reads
        return False


@contextlib.contextmanager
def _read_cursor(
    conninfo: str, where: str, password: str | None, timeout: float, snapshot: str | None = None
) -> Iterator[Any]:
    """A cursor in a read-only, repeatable-read transaction with the read's settings
    (:func:`_session`); in the exported ``snapshot`` when one is given (a chunk's read)."""
    import psycopg
    from psycopg import sql

    with _connect(conninfo, where, password) as conn:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.cursor() as cur:
            if snapshot is not None:
                cur.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
            _session(cur, timeout)
            yield cur


@contextlib.contextmanager
def _chunk_cursor(plan: ChunkPlan) -> Iterator[Any]:
    with _read_cursor(plan.conninfo, plan.where, None, plan.timeout, plan.snapshot) as cur:
        yield cur


def read_chunk(plan: ChunkPlan, index: int) -> pl.DataFrame:
    """Chunk ``index`` of ``plan``: its rows as text columns, as the whole read has them."""
    import psycopg

    try:
        with _chunk_cursor(plan) as cur:
            table, _ = _copy(cur, plan.select(index), plan.columns)
    except psycopg.errors.QueryCanceled:
        raise InputError(
            f"{plan.where}: a chunk took longer than the statement timeout ({plan.timeout:g} s)"
        ) from None
    except psycopg.Error as exc:
        raise InputError(f"{plan.where}: {_primary(exc, None)}") from None
    return table
