"""``datavask.toml``: the scheduled jobs ``datavask serve`` runs, read and checked as a whole.

Every problem in the file is collected and reported together (``ConfigError.problems``), each as
``cleanse[1].cron: …`` so the user can fix them in one go. Secrets never belong in the file: a URL
with a password in it is refused (the environment, ``~/.pgpass`` or a Prefect Secret block hold
them).

A cron in the hour that a daylight-saving change skips (02:00–03:00 in Europe/Copenhagen on the
last Sunday of March) is refused: Prefect would move that night's run an hour, so a job meant for
02:30 runs at 03:30 once a year. A cron that fires every hour is fine; the skipped hour simply does
not happen.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from datavask.flows.params import (
    DEFAULT_TIMEZONE,
    CleanseParams,
    Engine,
    Language,
    OutputFormat,
    check_no_password,
    check_review_band,
    check_timezone,
    url_has_password,
    validation_problems,
)

JobName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")]
CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


class ConfigError(ValueError):
    """The configuration cannot be used; ``problems`` lists every reason."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class Job(BaseModel):
    """What every scheduled job has: a name, when it runs, and where its runs go."""

    model_config = ConfigDict(extra="forbid")

    name: JobName
    cron: str
    timezone: str = DEFAULT_TIMEZONE
    input: str
    registry: str = "bundled"
    out: str
    keep_runs: int | None = Field(default=None, ge=1)
    keep_days: int | None = Field(default=None, ge=1)
    enabled: bool = True

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        return check_timezone(name)

    @field_validator("cron")
    @classmethod
    def _cron(cls, cron: str) -> str:
        cron_hours(cron)  # raises on a malformed expression
        return cron

    _no_password = field_validator("input", "registry")(check_no_password)


class CleanseJob(Job):
    blacklist: str | None = None
    mapping: str | None = None
    format: OutputFormat = "parquet"
    review_band: tuple[float, float] | None = None
    workers: int = Field(default=0, ge=0)
    only_changed: bool = False
    check_deliverability: bool = False
    decisions: str | None = None
    sheet: str | None = None
    lang: Language = "da"
    monitor_state: str | None = None
    engine: Engine = "local"  # dask: the run's stages on the Dask cluster at dask_address
    dask_address: str | None = None

    _band = field_validator("review_band")(check_review_band)

    def params(self) -> CleanseParams:
        """The flow parameters of this job's deployment."""
        return CleanseParams(
            input=self.input, out=self.out, registry=self.registry, blacklist=self.blacklist,
            mapping=self.mapping, format=self.format, review_band=self.review_band,
            workers=self.workers, only_changed=self.only_changed,
            check_deliverability=self.check_deliverability, decisions=self.decisions,
            sheet=self.sheet, lang=self.lang, monitor_state=self.monitor_state, dated_runs=True,
            engine=self.engine, dask_address=self.dask_address,
            keep_runs=self.keep_runs, keep_days=self.keep_days, timezone=self.timezone,
        )  # fmt: skip


class MonitorJob(Job):
    registry: str  # no bundled default: monitoring the sample snapshot would alert on nothing real
    state: str
    notify: list[str] = Field(default_factory=list)
    timeout: float | None = Field(default=None, gt=0)
    concurrency: int | None = Field(default=None, ge=1, le=16)

    @field_validator("notify")
    @classmethod
    def _targets(cls, targets: list[str]) -> list[str]:
        from datavask.connectors.alerts import parse_target
        from datavask.connectors.errors import InputError

        for target in targets:
            if url_has_password(target):
                raise ValueError(f"{target!r} contains a password")
            try:
                parse_target(target)
            except InputError as exc:
                raise ValueError(str(exc).removeprefix("--notify ")) from None
        return targets

    def params(self) -> dict[str, Any]:
        """The monitor's own parameters (``MonitorParams`` fields) for this job."""
        fields = {
            "input": self.input, "registry": self.registry, "state": self.state,
            "out": self.out, "notify": self.notify, "timeout": self.timeout,
            "concurrency": self.concurrency,
        }  # fmt: skip
        return {k: v for k, v in fields.items() if v is not None}


class ServeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cleanse: list[CleanseJob] = Field(default_factory=list)
    monitor: list[MonitorJob] = Field(default_factory=list)

    def jobs(self) -> list[Job]:
        return [*self.cleanse, *self.monitor]


def load_config(path: Path) -> ServeConfig:
    """Read and check ``path``; raises :class:`ConfigError` naming every problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, ["no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [f"cannot be read ({exc})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"is not valid TOML ({exc})"]) from None
    problems = [f"{key}: unknown table (expected [[cleanse]] or [[monitor]])"
                for key in raw if key not in ("cleanse", "monitor")]  # fmt: skip
    jobs: dict[str, list[Any]] = {"cleanse": [], "monitor": []}
    names: dict[str, str] = {}
    for kind, model in (("cleanse", CleanseJob), ("monitor", MonitorJob)):
        entries = raw.get(kind, [])
        if not isinstance(entries, list):
            problems.append(f"{kind}: write each job as a [[{kind}]] table")
            continue
        for i, entry in enumerate(entries, 1):
            where = f"{kind}[{i}]"
            name = entry.get("name") if isinstance(entry, dict) else None
            if isinstance(name, str) and name in names:
                problems.append(f"{where}.name: {name!r} is also the name of {names[name]}")
            elif isinstance(name, str):
                names[name] = where
            try:
                job = model.model_validate(entry)
            except ValidationError as exc:
                problems += [f"{where}.{p}" for p in validation_problems(exc)]
                continue
            problems += [f"{where}.{p}" for p in _job_problems(job, base=path.parent)]
            jobs[kind].append(_absolute(job, base=path.parent))
    problems += _monitor_inputs(jobs["monitor"], jobs["cleanse"])
    if not raw.get("cleanse") and not raw.get("monitor"):
        problems.append("no jobs: add a [[cleanse]] or [[monitor]] table")
    if problems:
        raise ConfigError(path, problems)
    return ServeConfig(cleanse=jobs["cleanse"], monitor=jobs["monitor"])


def _absolute(job: Job, base: Path) -> Job:
    """Relative paths in the file are relative to the file, wherever serve is started from."""

    def where(value: str | None) -> str | None:
        if value is None or "://" in value or value in ("bundled", "none"):
            return value
        return str((base / value).expanduser().absolute())

    keys = ("input", "registry", "out", "blacklist", "mapping", "state", "monitor_state")
    return job.model_copy(update={k: where(getattr(job, k)) for k in keys if hasattr(job, k)})


def _job_problems(job: Job, base: Path) -> list[str]:
    problems = []
    gap = dst_gap_problem(job.cron, job.timezone)
    if gap:
        problems.append(f"cron: {gap}")
    files: dict[str, str | None] = {"input": job.input} if isinstance(job, CleanseJob) else {}
    if isinstance(job, CleanseJob):
        files |= {"blacklist": job.blacklist, "mapping": job.mapping}
        if job.dask_address and job.engine != "dask":
            problems.append('dask_address: needs engine = "dask"')
        elif job.dask_address:
            from datavask.flows.engine_dask import address_problem

            if problem := address_problem(job.dask_address):
                problems.append(f"dask_address: {problem}")
    if job.registry not in ("bundled", "none") and "://" not in job.registry:
        files["registry"] = job.registry
    for key, value in files.items():
        if value and "://" not in value and not (base / value).expanduser().exists():
            problems.append(f"{key}: {value}: no such file")
    return problems


def _monitor_inputs(monitors: list[MonitorJob], cleanses: list[CleanseJob]) -> list[str]:
    """A monitor's input must exist, unless a cleanse job of the same file will write it."""
    roots = [Path(job.out) for job in cleanses]
    problems = []
    for i, job in enumerate(monitors, 1):
        path = Path(job.input)
        if "://" in job.input or path.exists() or any(path.is_relative_to(r) for r in roots):
            continue
        problems.append(f"monitor[{i}].input: {job.input}: no such file or run directory")
    return problems


def cron_hours(cron: str) -> set[int] | None:
    """The hours a five-field cron fires in; None when it fires every hour.

    >>> sorted(cron_hours("30 2,14 * * *"))
    [2, 14]
    >>> cron_hours("*/5 * * * *") is None
    True
    """
    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(f"{cron!r} is not a five-field cron (minute hour day month weekday)")
    expanded = [
        _cron_field(text, low, high) for text, (low, high) in zip(fields, CRON_RANGES, strict=True)
    ]
    return None if len(expanded[1]) == 24 else expanded[1]


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NAMES = {**{m: i for i, m in enumerate(_MONTHS, 1)}, **{d: i for i, d in enumerate(_DAYS)}}


def _cron_field(text: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in text.lower().split(","):
        span, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if span == "*":
                start, end = low, high
            elif "-" in span:
                start, end = (int(_NAMES.get(x, x)) for x in span.split("-", 1))
            else:
                start = int(_NAMES.get(span, span))
                end = high if step_text else start
        except ValueError:
            raise ValueError(f"{part!r} is not a cron field value") from None
        if not low <= start <= end <= high or step < 1:
            raise ValueError(f"{part!r} is outside {low}–{high}")
        values.update(range(start, end + 1, step))
    return values


def dst_gap_problem(cron: str, timezone: str, today: date | None = None) -> str | None:
    """Why ``cron`` would be moved by a daylight-saving change in ``timezone``, or None."""
    hours = cron_hours(cron)
    if hours is None:
        return None
    skipped = sorted(hours & skipped_hours(timezone, today or datetime.now(UTC).date()))
    if not skipped:
        return None
    names = ", ".join(f"{h:02d}:00–{h + 1:02d}:00" for h in skipped)
    return (
        f"{cron!r} fires in {names} {timezone} time, which does not exist on the day clocks go "
        "forward (Prefect would run it an hour late); choose another hour, e.g. 03:30"
    )


def skipped_hours(timezone: str, start: date) -> set[int]:
    """Local hours that some day in the coming year skips (spring-forward gaps)."""
    zone = ZoneInfo(timezone)
    hours = set()
    for offset in range(366):
        day = start + timedelta(days=offset)
        for hour in range(24):
            local = datetime(day.year, day.month, day.day, hour, 30)
            there = local.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
            if there.replace(tzinfo=None) != local:
                hours.add(hour)
    return hours


def describe(config: ServeConfig) -> list[dict[str, Any]]:
    """One line of facts per job, for serve's start-up message."""
    return [
        {"name": job.name, "kind": "cleanse" if isinstance(job, CleanseJob) else "monitor",
         "cron": job.cron, "timezone": job.timezone, "out": job.out, "enabled": job.enabled}
        for job in config.jobs()
    ]  # fmt: skip
