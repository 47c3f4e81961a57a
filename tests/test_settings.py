"""One settings object: every DATAVASK_* variable validated once, documented in one README table."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from datavask.settings import Settings, SettingsError, env_name, settings
from tests.conftest import REPO, SAMPLE

CODE_DIRS = ("flows", "cleansing", "connectors", "datavask")


def _environ_reads(path: Path) -> list[str]:
    """DATAVASK_* names read by ``os.environ.get(X)``, ``os.getenv(X)`` or ``os.environ[X]``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = {
        target.id: node.value.value
        for node in ast.walk(tree)
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Constant)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }

    def name_of(arg: ast.expr) -> str:
        if isinstance(arg, ast.Constant):
            return str(arg.value)
        return str(constants.get(arg.id, "")) if isinstance(arg, ast.Name) else ""

    reads = []
    for node in ast.walk(tree):
        source = ""
        if isinstance(node, ast.Call) and node.args:
            source = ast.unparse(node.func)
            key = node.args[0]
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            source = ast.unparse(node.value)
            key = node.slice
        if source in ("os.environ.get", "os.getenv", "os.environ") and name_of(key).startswith(
            "DATAVASK_"
        ):
            reads.append(name_of(key))
    return reads


def test_no_module_reads_datavask_variables_itself() -> None:
    """Before: 13 variables were read in 8 modules, each with its own parsing (or none)."""
    readers = {}
    for folder in CODE_DIRS:
        for path in (REPO / folder).rglob("*.py"):
            if path.name != "settings.py" and (names := _environ_reads(path)):
                readers[str(path.relative_to(REPO))] = names
    assert readers == {}


def _readme_rows() -> dict[str, str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(DATAVASK_[A-Z_]+)` \| ([^|]+) \|", section, flags=re.M)
    return {name: default.strip() for name, default in rows}


def test_readme_table_lists_every_setting_once() -> None:
    rows = _readme_rows()
    assert sorted(rows) == sorted(env_name(field) for field in Settings.model_fields)
    for field, info in Settings.model_fields.items():
        if isinstance(info.default, (int, float, str)) and not isinstance(info.default, bool):
            assert (
                rows[env_name(field)] == f"`{info.default:g}`"
                if isinstance(info.default, float)
                else f"`{info.default}`"
            )


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATAVASK_SERVER_START_TIMEOUT", "soon", "must be a number of seconds > 0"),
        ("DATAVASK_SERVER_START_TIMEOUT", "-5", "must be a number of seconds > 0"),
        ("DATAVASK_ORCHESTRATION", "prefect", "'auto', 'ephemeral' or 'none'"),
        ("DATAVASK_WORKERS", "many", "must be a whole number"),
        ("DATAVASK_DASK_CONNECT_TIMEOUT", "0", "must be a number of seconds > 0"),
    ],
)
def test_bad_value_names_the_variable_and_what_is_allowed(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        settings()
    message = str(caught.value)
    assert message.startswith(f"{variable}={value!r}: ")
    assert expected in message
    assert "\n" not in message


def test_every_problem_is_reported_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAVASK_SERVER_START_TIMEOUT", "x")
    monkeypatch.setenv("DATAVASK_ORCHESTRATION", "y")
    with pytest.raises(SettingsError, match=r"DATAVASK_ORCHESTRATION.*DATAVASK_SERVER_START"):
        settings()


def test_values_are_parsed_and_changes_seen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATAVASK_ORCHESTRATION", " None ")
    monkeypatch.setenv("DATAVASK_HOME", str(tmp_path))
    monkeypatch.setenv("DATAVASK_SERVER_START_TIMEOUT", "")  # empty counts as unset
    current = settings()
    assert (current.orchestration, current.home, current.server_start_timeout) == (
        "none", tmp_path, 120.0
    )  # fmt: skip
    monkeypatch.setenv("DATAVASK_HOME", str(tmp_path / "other"))
    assert settings().home == tmp_path / "other"


def test_secrets_are_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAVASK_CVR_PASSWORD", "hunter2-secret")
    monkeypatch.setenv("DATAVASK_PG_PASSWORD", "pg-secret-77")
    current = settings()
    assert current.cvr_password is not None
    assert current.cvr_password.get_secret_value() == "hunter2-secret"
    shown = repr(current) + str(current) + current.model_dump_json()
    assert "hunter2" not in shown and "pg-secret" not in shown


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "datavask", *args],
        capture_output=True, text=True, timeout=120, check=False, env={**os.environ, **env},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DATAVASK_SERVER_START_TIMEOUT", "abc"), ("DATAVASK_ORCHESTRATION", "bogus")],
)
def test_cli_exits_2_with_one_line_on_a_bad_setting(
    tmp_path: Path, variable: str, value: str
) -> None:
    """Before: a traceback even on --help (timeout), or exit 1 "internal error" (orchestration)."""
    done = _cli("cleanse", str(SAMPLE / "customers.csv"), "--out", str(tmp_path / "out"),
                **{variable: value})  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith(f"error: {variable}='{value}'")
    assert not (tmp_path / "out").exists()
    helped = _cli("--help", **{variable: value})
    assert helped.returncode == 0 and "Traceback" not in helped.stderr
    assert "cleanse" in helped.stdout
