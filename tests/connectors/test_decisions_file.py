"""The decisions file: appended durably, followed incrementally, shared by several writers."""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
from pathlib import Path

import polars as pl
import pytest

from datavask.connectors.decisions import (
    Decision,
    DecisionsFile,
    default_decisions_path,
    read_decisions,
    reviewer_name,
)
from datavask.connectors.errors import InputError

HEADER = "record_id_l,record_id_r,decision,decided_by,decided_at,note,name_l,name_r\n"
OLD_HEADER = "record_id_l,record_id_r,decision,decided_by,decided_at,note\n"  # before the names


def test_append_writes_header_once_and_quotes_notes(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    file = DecisionsFile(path)
    file.append(Decision("10056", "10201", "same", note='one firm, "same" phone', decided_by="al"))
    file.append(
        Decision("10063", "10074", "different", note="far og søn\nnew line", decided_by="b")
    )
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    assert text.count("record_id_l") == 1
    lines = read_decisions(path)
    assert lines.select("record_id_l", "decision", "decided_by", "note").rows() == [
        ("10056", "same", "al", 'one firm, "same" phone'),
        ("10063", "different", "b", "far og søn new line"),
    ]
    assert lines["line"].to_list() == [2, 3]
    assert all("T" in at and at[-6] in "+-" for at in lines["decided_at"])  # ISO 8601, with zone


def test_cpr_numbers_in_notes_are_masked(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    DecisionsFile(path).append(Decision("1", "2", "same", note="CPR 010190-1234 on both"))
    assert "010190" not in path.read_text(encoding="utf-8")
    assert read_decisions(path)["note"][0] == "CPR XXXXXX-XXXX on both"


def test_formulas_are_escaped_and_every_cell_comes_back_as_it_was(tmp_path: Path) -> None:
    """Before: ``=HYPERLINK(…)`` and ``@SUM(1+1)`` (a CRM's customer numbers) and a note ``=1+1``
    were written as live formulas; now with the ``'`` of every datavask CSV, read back without."""
    ids = ['=HYPERLINK("http://evil.example","10076")', "@SUM(1+1)", "'=HYPERLINK(1)", "-7", "+45"]
    path = tmp_path / "d.csv"
    file = DecisionsFile(path)
    file.append(Decision(ids[0], ids[1], "same", note="=1+1 see -2+3 @A1", decided_by="=me"))
    file.append(Decision(ids[2], ids[3], "different", note=" \t-2+3 Jens", decided_by="b"))
    file.append(Decision(ids[4], "10056", "same", note="'x", decided_by="b"))
    written = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    cells = [[row[i] for i in (0, 1, 3, 5)] for row in written[1:]]
    assert cells == [
        ["'" + ids[0], "'@SUM(1+1)", "'=me", "'=1+1 see -2+3 @A1"],
        # a record id that already starts as an escaped one (a re-imported CRM's) gets one more
        ["''=HYPERLINK(1)", "-7", "b", "'-2+3 Jens"],
        ["+45", "10056", "b", "'x"],  # numbers are no formulas: as they are
    ]
    lines = read_decisions(path)
    assert lines.select("record_id_l", "record_id_r", "decided_by", "note").rows() == [
        (ids[0], ids[1], "=me", "=1+1 see -2+3 @A1"),
        (ids[2], ids[3], "b", "-2+3 Jens"),
        (ids[4], "10056", "b", "'x"),
    ]
    assert DecisionsFile(path).refresh()["record_id_l"].to_list() == [ids[0], ids[2], ids[4]]


def test_who_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAVASK_REVIEWER", "Karen K")
    assert reviewer_name() == "Karen K"
    monkeypatch.delenv("DATAVASK_REVIEWER")
    monkeypatch.setenv("USER", "karen")
    assert reviewer_name() == "karen"


def test_who_decides_without_login_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """A service or ``env -i`` has no ``USER``/``LOGNAME``: the user database names the login,
    never ``unknown``."""
    import pwd

    for variable in ("DATAVASK_REVIEWER", "USER", "USERNAME", "LOGNAME"):
        monkeypatch.delenv(variable, raising=False)
    assert reviewer_name() == pwd.getpwuid(os.getuid()).pw_name != "unknown"


def test_default_file_is_beside_the_run(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "crm-nightly" / "20261202-0330"
    run.mkdir(parents=True)
    latest = run.parent / "latest"
    latest.symlink_to(run)
    assert default_decisions_path(run) == run.parent / "datavask-decisions.csv"
    assert default_decisions_path(latest) == run.parent / "datavask-decisions.csv"


def test_refresh_reads_only_what_was_appended_and_waits_for_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    mine, theirs = DecisionsFile(path), DecisionsFile(path)
    assert mine.refresh().is_empty()
    mine.append(Decision("a", "b", "same", decided_by="me"))
    theirs.append(Decision("a", "b", "different", decided_by="you"))
    assert mine.refresh()["decided_by"].to_list() == ["me", "you"]
    with path.open("a", encoding="utf-8") as handle:  # another writer, mid-line
        handle.write("c,d,sa")
    assert mine.refresh().height == 2
    with path.open("a", encoding="utf-8") as handle:
        handle.write("me,x,2026-12-02T03:00:00+00:00,\n")
    assert mine.refresh().select("record_id_l", "decision", "line").rows()[-1] == ("c", "same", 4)


def test_a_line_cut_short_by_a_crash_does_not_swallow_the_next(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(HEADER + "a,b,same,me,2026-12-02T03:00:00+00:00", encoding="utf-8")
    DecisionsFile(path).append(Decision("c", "d", "different", decided_by="me"))
    assert read_decisions(path).select("record_id_l", "decision").rows() == [
        ("a", "same"),
        ("c", "different"),
    ]


def _writer(path: str, who: str, n: int) -> None:
    file = DecisionsFile(Path(path))
    for i in range(n):
        file.append(Decision(f"{who}{i}", f"x{i}", "same", note="n" * 300, decided_by=who))


def test_two_processes_appending_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(path), who, 60)) for who in "pq"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    lines = read_decisions(path)
    assert lines.height == 120
    assert lines.group_by("decided_by").len().sort("decided_by").rows() == [("p", 60), ("q", 60)]
    assert (lines["note"].str.len_chars() == 300).all()


def test_not_a_decisions_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("Kundenr;Navn\n1;Hansen\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a decisions file"):
        read_decisions(path)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(HEADER.encode() + "a,b,same,Søren,x,\n".encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8"):
        read_decisions(latin)


def test_missing_or_empty_file_is_no_decisions(tmp_path: Path) -> None:
    assert read_decisions(tmp_path / "none.csv").is_empty()
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    assert read_decisions(tmp_path / "empty.csv").is_empty()
    assert read_decisions(tmp_path / "empty.csv").schema["decision"] == pl.String


def test_append_is_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    DecisionsFile(tmp_path / "d.csv").append(Decision("a", "b", "same"))
    assert len(synced) == 1


def test_the_names_the_reviewer_saw_go_with_the_decision(tmp_path: Path) -> None:
    """Each record's name as the page showed it (CPR numbers masked, formulas escaped), so a
    later run can tell a customer number given to another customer since."""
    path = tmp_path / "d.csv"
    DecisionsFile(path).append(
        Decision("90001", "90002", "same", decided_by="k",
                 name_l="Kjærs Murer ApS", name_r="=Jens 010190-1234")
    )  # fmt: skip
    assert path.read_text(encoding="utf-8").startswith(HEADER)
    assert "010190" not in path.read_text(encoding="utf-8")
    assert read_decisions(path).select("name_l", "name_r").row(0) == (
        "Kjærs Murer ApS",
        "=Jens XXXXXX-XXXX",
    )


def test_a_file_written_before_the_names_reads_and_takes_them(tmp_path: Path) -> None:
    """Its lines have no names (obeyed as before); a decision appended to it has them after the
    old header's last column, and is read with them."""
    path = tmp_path / "d.csv"
    path.write_text(OLD_HEADER + "1,2,same,k,2026-12-02T03:00:00+00:00,a note\n", encoding="utf-8")
    file = DecisionsFile(path)
    file.append(Decision("3", "4", "different", decided_by="k", name_l="Ole Berg", name_r="Pia"))
    assert path.read_text(encoding="utf-8").startswith(OLD_HEADER)  # never rewritten
    for lines in (read_decisions(path), file.refresh()):
        assert lines.select("record_id_l", "note", "name_l", "name_r").rows() == [
            ("1", "a note", "", ""),
            ("3", "", "Ole Berg", "Pia"),
        ]
