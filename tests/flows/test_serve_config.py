"""datavask.toml: every problem reported at once, secrets refused, DST gaps caught, paths anchored."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from datavask.flows.serve_config import (
    CleanseJob,
    ConfigError,
    cron_hours,
    dst_gap_problem,
    load_config,
    skipped_hours,
)
from tests.flows.served import SAMPLE, write_config

GOOD = f"""
[[cleanse]]
name = "crm-nightly"
cron = "30 3 * * *"
input = "{SAMPLE / "customers.csv"}"
registry = "none"
out = "runs/crm"
keep_runs = 14
format = "csv"

[[monitor]]
name = "customers"
cron = "0 6 * * 1-5"
input = "runs/crm/latest"
registry = "https://erst.example/cvr-permanent"
state = "monitor/customers"
out = "alerts/customers"
notify = ["https://hooks.slack.com/services/T/B/x", "mailto:kredit@example.dk"]
"""


def test_a_good_file_loads_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, GOOD))
    (job,) = config.cleanse
    assert isinstance(job, CleanseJob)
    assert job.timezone == "Europe/Copenhagen"
    assert job.out == str(tmp_path / "runs" / "crm")
    params = job.params()
    assert params.dated_runs and params.keep_runs == 14 and params.format == "csv"
    (monitor,) = config.monitor
    assert monitor.state == str(tmp_path / "monitor" / "customers")
    assert monitor.input == str(tmp_path / "runs" / "crm" / "latest")  # may not exist yet
    assert monitor.registry == "https://erst.example/cvr-permanent"


def test_every_problem_is_reported_together(tmp_path: Path) -> None:
    bad = f"""
[[cleanse]]
name = "crm nightly"
cron = "30 2 * * *"
input = "postgresql://datavask:hunter2@db/crm?table=customers"
out = "runs"
format = "docx"
review_band = [0.9, 0.5]
colour = "blue"

[[cleanse]]
name = "second"
cron = "61 3 * * *"
timezone = "Mars/Olympus"
input = "missing.csv"
out = "runs"

[[cleanse]]
name = "second"
cron = "0 4 * * *"
input = "{SAMPLE / "customers.csv"}"
blacklist = "nope.csv"
out = "runs"

[[monitor]]
name = "m"
cron = "0 6 * * *"
input = "x"
out = "o"
notify = ["ftp://example.dk/"]

[extra]
"""
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, bad))
    problems = "\n".join(caught.value.problems)
    for expected in (
        "extra: unknown table",
        "cleanse[1].name:",
        "cleanse[1].input: contains a password",
        "cleanse[1].format:",
        "cleanse[1].review_band: needs 0 ≤ LOW < HIGH ≤ 1",
        "cleanse[1].colour: unknown key",
        "cleanse[2].cron: '61' is outside 0–59",
        "cleanse[2].timezone: unknown time zone 'Mars/Olympus'",
        "cleanse[3].name: 'second' is also the name of cleanse[2]",
        "cleanse[3].blacklist: nope.csv: no such file",
        "monitor[1].state: required",
        "monitor[1].notify:",
    ):
        assert expected in problems, expected
    assert "hunter2" not in problems


def test_a_password_in_a_query_string_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace('registry = "none"', 'registry = "https://erst.example/cvr?password=x"')
    with pytest.raises(ConfigError, match="contains a password"):
        load_config(write_config(tmp_path, text))


def test_cron_hours() -> None:
    assert cron_hours("30 3 * * *") == {3}
    assert cron_hours("0 1-3,22 * * *") == {1, 2, 3, 22}
    assert cron_hours("0 */6 * * mon-fri") == {0, 6, 12, 18}
    assert cron_hours("* * * * *") is None
    for bad in ("* * * *", "0 24 * * *", "x 3 * * *", "0 5-2 * * *"):
        with pytest.raises(ValueError):
            cron_hours(bad)


def test_the_spring_forward_gap() -> None:
    assert skipped_hours("Europe/Copenhagen", date(2026, 1, 1)) == {2}
    assert skipped_hours("UTC", date(2026, 1, 1)) == set()
    assert skipped_hours("America/New_York", date(2026, 1, 1)) == {2}
    assert dst_gap_problem("30 2 * * *", "Europe/Copenhagen")
    assert dst_gap_problem("30 3 * * *", "Europe/Copenhagen") is None
    assert dst_gap_problem("30 2 * * *", "UTC") is None
    assert (
        dst_gap_problem("*/15 * * * *", "Europe/Copenhagen") is None
    )  # the hour just is not there


def test_serve_check_says_what_is_wrong_and_exits_2(tmp_path: Path) -> None:
    path = write_config(tmp_path, GOOD.replace('cron = "30 3 * * *"', 'cron = "15 2 * * *"'))
    env = dict(os.environ, DATAVASK_HOME=str(tmp_path / "home"))
    done = subprocess.run(
        [sys.executable, "-m", "datavask", "serve", "--config", str(path), "--check"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "cleanse[1].cron" in done.stderr and "Traceback" not in done.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "datavask", "serve", "--config", str(write_config(tmp_path, GOOD)),
         "--check"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "crm-nightly" in ok.stderr and "customers" in ok.stderr


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write_config(tmp_path, "[[cleanse]\n"))
    with pytest.raises(ConfigError, match="no jobs"):
        load_config(write_config(tmp_path, ""))
