"""Bad options are bad input, not internal errors: exit 2 with one line, nothing written.

Each case was found by feeding the command line what an attacker or a hurried user would; before,
each ended in "internal error" (exit 1) with a traceback in last-error.log.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datavask.flows.cli import app
from tests.conftest import SAMPLE


@pytest.fixture(autouse=True)
def _no_prefect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAVASK_ORCHESTRATION", "none")
    monkeypatch.setenv("COLUMNS", "500")


def _one_line_exit_2(args: list[str], expected: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert expected in lines[0]
    assert "internal error" not in result.output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('[columns]\nname = "Firmanavn"\nby = "København"\n'.encode("latin-1"), "not UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "not UTF-8"),
        (None, "is a directory"),
        # Before: exit 0, every record MISSING_NAME and a phone change changes.csv listed that
        # customers_update.csv did not carry; and the company's name read as its street.
        (
            b'[columns]\nname = "Telefon"\nphone = "Telefon"\n',
            "'Telefon' is named for name and phone",
        ),
        (b'[columns]\nname = "Navn"\naddress = "Navn"\n', "'Navn' is named for name and address"),
        (b'[columns]\npostal_code = "P"\ncity = "P"\n', "'P' is named for postal_code and city"),
        (b'[columns]\ncity = "by"\ndate_of_birth = ["by", "bm", "bd"]\n', "'by' is named for city"),
    ],
    ids=["latin-1", "binary", "directory", "name-phone", "name-address", "code-city", "date-part"],
)
def test_unusable_mapping_file(tmp_path: Path, content: bytes | None, expected: str) -> None:
    mapping = tmp_path / "mapping.toml"
    if content is None:
        mapping.mkdir()
    else:
        mapping.write_bytes(content)
    out = tmp_path / "out"
    _one_line_exit_2(
        ["cleanse", str(SAMPLE / "customers.csv"), "--mapping", str(mapping), "--out", str(out)],
        expected,
    )
    assert not out.exists()


def test_out_under_a_read_only_parent(tmp_path: Path) -> None:
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        if os.access(parent, os.W_OK):  # root ignores modes; /proc/sys is read-only even for root
            parent = Path("/proc/sys")
        _one_line_exit_2(
            ["cleanse", str(SAMPLE / "customers.csv"), "--out", str(parent / "run")],
            "is not writable",
        )
    finally:
        (tmp_path / "locked").chmod(0o755)


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux's /proc")
def test_out_where_the_modes_say_writable_but_the_file_system_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before: to root, /sys and /proc pass ``os.access`` (modes do not bind root), so
    ``--out /sys/foo`` ran the whole cleanse and then failed with "internal error:
    PermissionError" (exit 1). Creating a directory there is tried before the run."""
    monkeypatch.setattr(os, "access", lambda *_args, **_kwargs: True)  # root's view, for anyone
    _one_line_exit_2(
        ["cleanse", str(SAMPLE / "customers.csv"), "--out", "/proc/datavask-run"],
        "cannot create it, /proc is not writable",
    )


def test_out_with_a_300_character_name(tmp_path: Path) -> None:
    out = tmp_path / ("k" * 300)
    _one_line_exit_2(["cleanse", str(SAMPLE / "customers.csv"), "--out", str(out)], "at most")


def test_out_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    out = tmp_path / "file" / "run"
    _one_line_exit_2(["cleanse", str(SAMPLE / "customers.csv"), "--out", str(out)], "is a file")


def test_dangling_symlinks(tmp_path: Path) -> None:
    link = tmp_path / "customers.csv"
    link.symlink_to(tmp_path / "moved-away.csv")
    _one_line_exit_2(["cleanse", str(link), "--out", str(tmp_path / "o")], "does not exist")
    out_link = tmp_path / "out"
    out_link.symlink_to(tmp_path / "nowhere")
    _one_line_exit_2(
        ["cleanse", str(SAMPLE / "customers.csv"), "--out", str(out_link)], "symbolic link"
    )
    assert out_link.is_symlink()  # the user's link is left as it was


def test_report_on_a_directory_that_is_no_run(tmp_path: Path) -> None:
    _one_line_exit_2(["report", str(tmp_path)], "no run.json")
    _one_line_exit_2(["report", str(tmp_path / "missing")], "is not a directory")
