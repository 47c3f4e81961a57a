"""Every environment variable datavask reads, in one validated object.

The command line validates them once when it starts, so a bad value stops the run with one line
naming the variable (exit 2) instead of failing deep inside a step. Every layer reads them through
:func:`settings`; nothing else in datavask reads ``DATAVASK_*`` from ``os.environ``.

Adding a variable is one line in :class:`Settings` (its name without the ``DATAVASK_`` prefix, its
type, its default and a description) and one row in the README's settings table; a test checks the
two agree. Secrets are :class:`~pydantic.SecretStr`: they print as ``**********`` and are never
logged or written.

>>> import os
>>> os.environ["DATAVASK_SERVER_START_TIMEOUT"] = "soon"
>>> try:
...     settings()
... except SettingsError as exc:
...     print(str(exc).split(" (")[0])
DATAVASK_SERVER_START_TIMEOUT='soon': must be a number of seconds > 0
>>> del os.environ["DATAVASK_SERVER_START_TIMEOUT"]
>>> settings().server_start_timeout
120.0
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "DATAVASK_"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "datavask"


class Settings(BaseSettings):
    """datavask's environment: ``DATAVASK_<FIELD>``; an empty variable counts as unset."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_ignore_empty=True, extra="ignore", frozen=True
    )

    home: Path = Field(
        default_factory=lambda: Path.home() / ".datavask",
        description="datavask's own state: the local Prefect server, caches, last-error.log",
    )
    orchestration: Literal["auto", "ephemeral", "none"] = Field(
        default="auto",
        description="auto: PREFECT_API_URL's server, else datavask's local one; "
        "ephemeral: Prefect's temporary server per run; none: no Prefect",
    )
    server_start_timeout: float = Field(
        default=120.0, gt=0, description="seconds to wait for the local Prefect server to start"
    )
    workers: int = Field(default=0, ge=0, description="default for --workers (0 = all CPU cores)")
    dask_partition_rows: int = Field(
        default=250_000,
        gt=0,
        description="rows per partition of --engine dask (at least 2 partitions per worker)",
    )
    dask_connect_timeout: float = Field(
        default=10.0,
        gt=0,
        description="seconds to wait for the Dask scheduler of --dask-address to answer",
    )
    registry: str | None = Field(
        default=None, description="default for --registry (else the bundled sample snapshot)"
    )
    reference_dir: Path | None = Field(
        default=None,
        description="refreshed reference tables instead of the shipped data/reference/",
    )
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="registry answers cache (default $XDG_CACHE_HOME/datavask)",
    )
    cvr_user: str | None = Field(default=None, description="user for the ERST CVR API")
    cvr_password: SecretStr | None = Field(
        default=None, description="password for the ERST CVR API"
    )
    economic_url: str | None = Field(default=None, description="e-conomic REST API base URL")
    economic_app_secret: SecretStr | None = Field(
        default=None, description="e-conomic app secret token"
    )
    economic_grant: SecretStr | None = Field(
        default=None, description="e-conomic agreement grant token"
    )
    pg_password: SecretStr | None = Field(
        default=None,
        description="PostgreSQL password when the URL, PGPASSWORD and ~/.pgpass have none",
    )
    reviewer: str | None = Field(
        default=None, description="who decides in datavask review (default: the login name)"
    )
    serve_health_seconds: float = Field(
        default=10.0, gt=0, description="how often datavask serve checks its Prefect server"
    )
    webhook_secret: SecretStr | None = Field(
        default=None, description="signs generic JSON webhooks of datavask monitor (HMAC-SHA256)"
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for mailto: alerts")
    smtp_port: int = Field(default=587, gt=0, description="SMTP port")
    smtp_user: str | None = Field(default=None, description="SMTP login")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password")
    smtp_from: str | None = Field(default=None, description="sender address of alert e-mails")
    smtp_starttls: bool = Field(default=True, description="use STARTTLS (true/false)")
    smtp_ca_file: Path | None = Field(
        default=None, description="CA bundle that signs the SMTP server's certificate"
    )
    smtp_timeout: float = Field(default=30.0, gt=0, description="seconds per SMTP conversation")
    webhook_timeout: float = Field(default=15.0, gt=0, description="seconds per webhook POST")
    match_key: SecretStr | None = Field(
        default=None,
        description="key that turns person identifiers (CPR) into matching evidence (HMAC); "
        "default: one generated per installation in $DATAVASK_HOME/match.key",
    )

    @field_validator("orchestration", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


class SettingsError(ValueError):
    """One or more ``DATAVASK_*`` variables hold values datavask cannot use; one line."""


def env_name(field: str) -> str:
    return PREFIX + field.upper()


# What a number field accepts, said the way a user sets it.
_ALLOWED: dict[object, str] = {
    float: "must be a number of seconds > 0",
    int: "must be a whole number ≥ 0",
}


def _describe(error: ErrorDetails) -> str:
    """``DATAVASK_X='value': what is allowed``; a secret's value is never shown."""
    field = str(error["loc"][0]) if error["loc"] else "?"
    info = Settings.model_fields.get(field)
    annotation = info.annotation if info is not None else None
    shown = "" if "SecretStr" in str(annotation) else f"={error['input']!r}"
    allowed = _ALLOWED.get(annotation)
    reason = f"{allowed} ({error['msg']})" if allowed else error["msg"]
    return f"{env_name(field)}{shown}: {reason}"


@lru_cache(maxsize=8)
def _load(_environment: tuple[tuple[str, str], ...]) -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError("; ".join(_describe(e) for e in exc.errors())) from None


def settings() -> Settings:
    """The settings of the current environment (re-read when a ``DATAVASK_*`` variable changes).

    Raises :class:`SettingsError` with one line naming every bad variable.
    """
    relevant = tuple(
        sorted(
            (key, value)
            for key, value in os.environ.items()
            if key.upper().startswith(PREFIX) or key in {"HOME", "XDG_CACHE_HOME"}
        )
    )
    return _load(relevant)
