"""``--out`` and other paths: datavask replaces only what it wrote, and takes paths literally."""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from datavask.connectors.errors import InputError
from datavask.connectors.output import MARKER, atomic_dir
from datavask.flows.cli import app
from tests.conftest import SAMPLE


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAVASK_ORCHESTRATION", "none")
    monkeypatch.setenv("COLUMNS", "500")  # summary lines unwrapped, so paths can be found whole


def _cleanse(input: Path, out: Path, *args: str) -> Result:
    return CliRunner().invoke(
        app, ["cleanse", str(input), "--registry", "none", "--out", str(out), *args]
    )


@pytest.fixture(scope="module")
def bracket_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Result]:
    """A run whose input and output paths hold ``[`` and ``]`` (one run, shared by the tests)."""
    root = tmp_path_factory.mktemp("brackets")
    source = root / "eksport[" / "b] kunder.csv"  # printed, reads as rich markup: …eksport[/b] …
    source.parent.mkdir()
    shutil.copy(SAMPLE / "customers.csv", source)
    out = root / "Kunder [2024]" / "run"  # polars reads "[…]" in a path as a glob
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATAVASK_ORCHESTRATION", "none")
        patch.setenv("COLUMNS", "500")
        result = _cleanse(source, out)
    return source, out, result


def test_brackets_in_paths_are_taken_literally(bracket_run: tuple[Path, Path, Result]) -> None:
    """Before: a rich MarkupError after the run, and ComputeError (glob) in the write step."""
    source, out, result = bracket_run
    assert result.exit_code == 0, result.output
    assert (out / "records.parquet").exists() and (out / "report.html").exists()
    assert str(source) in result.output  # printed as it is, not as markup
    assert f"{out}/" in result.output


def _copy_run(run: Path, to: Path) -> Path:
    shutil.copytree(run, to)  # copy2 keeps sizes and modification times: still datavask's
    return to


def test_a_file_added_to_a_run_directory_is_never_deleted(
    bracket_run: tuple[Path, Path, Result], tmp_path: Path
) -> None:
    """Before: any directory holding run.json was replaced with everything in it."""
    source, run, _ = bracket_run
    out = _copy_run(run, tmp_path / "run")
    (out / "notes.txt").write_text("call Hansen Byg on Monday", encoding="utf-8")
    (out / "reimport" / "my-fixes.csv").write_text("id;name\n", encoding="utf-8")
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    result = _cleanse(source, out)
    assert result.exit_code == 2, result.output
    assert "notes.txt" in result.output and "reimport/my-fixes.csv" in result.output
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert (out / "notes.txt").read_text(encoding="utf-8") == "call Hansen Byg on Monday"


def test_an_output_edited_in_place_is_not_replaced(
    bracket_run: tuple[Path, Path, Result], tmp_path: Path
) -> None:
    source, run, _ = bracket_run
    out = _copy_run(run, tmp_path / "run")
    with (out / "changes.csv").open("a", encoding="utf-8") as fh:
        fh.write("checked by Lise\n")
    result = _cleanse(source, out)
    assert result.exit_code == 2
    assert "changes.csv" in result.output
    assert (out / "changes.csv").read_text(encoding="utf-8").endswith("checked by Lise\n")


def test_a_directory_datavask_did_not_write_is_refused(
    bracket_run: tuple[Path, Path, Result], tmp_path: Path
) -> None:
    """The issue's reproducer: a folder that merely holds a file named run.json."""
    source, _, _ = bracket_run
    out = tmp_path / "mine"
    out.mkdir()
    (out / "run.json").write_text("{}", encoding="utf-8")
    (out / "budget.xlsx").write_bytes(b"PK")
    result = _cleanse(source, out)
    assert result.exit_code == 2
    assert "not a directory datavask wrote" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["budget.xlsx", "run.json"]


def test_a_run_directory_is_replaced_after_report_rerenders_it(
    bracket_run: tuple[Path, Path, Result], tmp_path: Path
) -> None:
    source, run, _ = bracket_run
    out = _copy_run(run, tmp_path / "run")
    old_id = json.loads((out / "run.json").read_text(encoding="utf-8"))["run_id"]
    rendered = CliRunner().invoke(app, ["report", str(out)])
    assert rendered.exit_code == 0, rendered.output
    result = _cleanse(source, out)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["run_id"] != old_id
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    assert {"records.parquet", "run.json", "report.html", "reimport"} <= set(marker["files"])
    assert list(tmp_path.glob(".run.*")) == []  # neither a partial nor the replaced run is left


def test_report_refuses_a_worklist_edited_in_place(
    bracket_run: tuple[Path, Path, Result], tmp_path: Path
) -> None:
    """Before: ``datavask report`` said "report written" over a worklist with Lise's note in A2
    (and over an edited report.html), while ``cleanse --out`` refused the same directory."""
    import openpyxl

    source, run, _ = bracket_run
    out = _copy_run(run, tmp_path / "run")
    book = openpyxl.load_workbook(out / "worklist.xlsx")
    book.worksheets[0]["A2"] = "FIXED by Lise - called customer"
    book.save(out / "worklist.xlsx")
    with (out / "report.html").open("a", encoding="utf-8") as fh:
        fh.write("<!-- checked -->")
    edited = {name: (out / name).read_bytes() for name in ("worklist.xlsx", "report.html")}
    result = CliRunner().invoke(app, ["report", str(out)])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "report.html, worklist.xlsx changed since" in result.output
    assert "move or rename" in result.output
    assert {name: (out / name).read_bytes() for name in edited} == edited

    # Moved away, the edits are safe and the report is written; its record lists the new files,
    # so the next report and cleanse --out accept them.
    for name in edited:
        (out / name).rename(tmp_path / name)
    assert CliRunner().invoke(app, ["report", str(out)]).exit_code == 0
    assert (out / "worklist.xlsx").exists() and (out / "report.html").exists()
    again = CliRunner().invoke(app, ["report", str(out)])
    assert again.exit_code == 0, again.output
    assert _cleanse(source, out).exit_code == 0


def test_report_refuses_an_unmarked_run_s_worklist(
    bracket_run: tuple[Path, Path, Result], tmp_path: Path
) -> None:
    """An older datavask's run has no record to tell an edit by: its worklist is not overwritten."""
    out = _copy_run(bracket_run[1], tmp_path / "run")
    (out / MARKER).unlink()
    (out / "report.html").unlink()
    before = (out / "worklist.xlsx").read_bytes()
    result = CliRunner().invoke(app, ["report", str(out)])
    assert result.exit_code == 2, result.output
    assert f"no {MARKER}" in result.output and "worklist.xlsx cannot be told" in result.output
    assert (out / "worklist.xlsx").read_bytes() == before and not (out / "report.html").exists()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("run.json", "run.json is damaged"),
        ("records.parquet", "records.parquet is damaged"),
        ("missing-records", "has no records.parquet"),
        ("not-an-object", "run.json is damaged"),
    ],
)
def test_report_on_a_broken_run_directory_is_one_line(
    bracket_run: tuple[Path, Path, Result], tmp_path: Path, damage: str, message: str
) -> None:
    out = _copy_run(bracket_run[1], tmp_path / "run")
    if damage == "missing-records":
        (out / "records.parquet").unlink()
    elif damage == "not-an-object":
        (out / "run.json").write_text('["counts"]', encoding="utf-8")
    else:
        data = (out / damage).read_bytes()
        (out / damage).write_bytes(data[: len(data) // 2])
    result = CliRunner().invoke(app, ["report", str(out)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_output_directory_that_refuses_the_write_is_one_line(tmp_path: Path) -> None:
    """Before: a PermissionError or FileNotFoundError at the write step (the directory's
    permissions changed during the run) was "internal error" (exit 1). It is the user's to fix:
    InputError, one line, exit 2. An error about another path stays what it was."""
    out = tmp_path / "run"
    refused = r"--out .*run: cannot write it in .*Permission denied"
    with pytest.raises(InputError, match=refused), atomic_dir(out) as tmp:
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp / "records.parquet"))
    with pytest.raises(PermissionError), atomic_dir(out):
        raise PermissionError(errno.EACCES, "Permission denied", "/elsewhere/work.parquet")
    assert not out.exists()
