"""The typed parameters of the ``datavask-cleanse`` flow, shared by the CLI, serve and the flow.

Prefect builds the deployment's parameter schema (the form in its UI, and the check the server
makes before it creates a run) from the flow's signature; :class:`CleanseParams` holds the same
fields with the checks that span more than one field. ``tests/flows/test_params.py`` keeps the two
in step. Importing this module does not import Prefect, so a one-off cleanse stays fast.
"""

from __future__ import annotations

import json
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

OutputFormat = Literal["parquet", "csv", "xlsx"]
Language = Literal["da", "en"]
Engine = Literal["local", "dask"]
DEFAULT_TIMEZONE = "Europe/Copenhagen"


def check_review_band(band: tuple[float, float] | None) -> tuple[float, float] | None:
    """``None`` (the band the model derives per file) or ``0 ≤ LOW < HIGH ≤ 1``."""
    if band is None:
        return None
    low, high = band
    if not 0.0 <= low < high <= 1.0:
        raise ValueError(f"needs 0 ≤ LOW < HIGH ≤ 1 (got {low}, {high})")
    return band


def check_no_password(value: str) -> str:
    """A URL (input, registry) is refused with a password in it: logs and run.json show URLs."""
    if url_has_password(value):
        raise ValueError(
            "contains a password; give it through the environment, ~/.pgpass or a Prefect "
            "Secret block instead, never in a parameter or datavask.toml"
        )
    return value


class CleanseParams(BaseModel):
    """One cleanse run: what the CLI options and a ``[[cleanse]]`` job in datavask.toml say."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: str = Field(description="A file path or connector URL (postgresql://…?table=…).")
    out: str = Field(
        description="The run's output directory; with dated_runs, the root under which every run "
        "writes OUT/<local timestamp>/ and points OUT/latest at it."
    )
    registry: str = "bundled"
    blacklist: str | None = None
    mapping: str | None = None
    format: OutputFormat = "parquet"
    review_band: tuple[float, float] | None = None
    workers: int = Field(default=0, ge=0)
    only_changed: bool = False
    check_deliverability: bool = False
    decisions: str | None = Field(default=None, description="Reviewers' decisions file.")
    sheet: str | None = Field(default=None, description="The Excel sheet to read.")
    lang: Language = "da"
    monitor_state: str | None = Field(default=None, description="A datavask monitor --state.")
    engine: Engine = Field(default="local", description="local, or dask: a Dask cluster.")
    dask_address: str | None = Field(
        default=None, description="The Dask scheduler (tcp://host:8786); none: a local cluster."
    )
    dated_runs: bool = False
    keep_runs: int | None = Field(default=None, ge=1)
    keep_days: int | None = Field(default=None, ge=1)
    timezone: str = DEFAULT_TIMEZONE

    _band = field_validator("review_band")(check_review_band)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        return check_timezone(name)

    _no_password = field_validator("input", "registry")(check_no_password)

    @model_validator(mode="after")
    def _address_needs_dask(self) -> CleanseParams:
        if self.dask_address and self.engine != "dask":
            raise ValueError("dask_address needs engine = dask")
        return self

    @model_validator(mode="after")
    def _retention_needs_dated_runs(self) -> CleanseParams:
        if (self.keep_runs or self.keep_days) and not self.dated_runs:
            raise ValueError("keep_runs/keep_days only apply with dated_runs")
        return self

    def cleanse_options(self, out: str) -> dict[str, Any]:
        """Keyword arguments for ``CleanseOptions``, writing to ``out``."""
        return {
            "input": self.input, "out": out, "registry": self.registry,
            "blacklist": self.blacklist, "mapping": self.mapping, "format": self.format,
            "review_band": self.review_band, "workers": self.workers,
            "only_changed": self.only_changed, "check_deliverability": self.check_deliverability,
            "decisions": self.decisions, "sheet": self.sheet, "lang": self.lang,
            "monitor_state": self.monitor_state,
            "engine": self.engine, "dask_address": self.dask_address,
        }  # fmt: skip


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (an IANA name, e.g. Europe/Copenhagen)"
        ) from None
    return name


def url_has_password(value: str) -> bool:
    """True for ``scheme://user:secret@host`` or a ``password=`` query parameter."""
    if "://" not in value:
        return False
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(value, allow_fragments=False)
    try:
        password = parts.password
    except ValueError:
        password = None
    return bool(password or parse_qs(parts.query).get("password"))


def parse_param_pairs(pairs: list[str]) -> dict[str, Any]:
    """``["format=csv", "review_band=[0.7, 0.9]"]`` → values, JSON where the text is JSON.

    The same reading as ``prefect deployment run --param``: ``k=v`` with ``v`` parsed as JSON when
    it can be, else kept as text.
    """
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--param needs KEY=VALUE (got {pair!r})")
        try:
            values[key.strip()] = json.loads(text)
        except json.JSONDecodeError:
            values[key.strip()] = text
    return values


def validation_problems(exc: ValidationError) -> list[str]:
    """pydantic's errors as ``field: message`` lines a user can act on."""
    lines = []
    for error in exc.errors():
        where = "".join(f"[{p + 1}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
        where = where.lstrip(".") or "(file)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required"
        lines.append(f"{where}: {message}")
    return lines
