"""``datavask review`` without a browser: what a decision records, the port it listens on, and
what stopping it says. (The page itself, driven by a browser: ``test_review_page.py``.)"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from datavask.connectors.decisions import read_decisions
from datavask.connectors.errors import InputError
from datavask.connectors.report_text import MESSAGES, Text
from datavask.connectors.review.server import (
    ReviewSession,
    bind,
    render_page,
    render_pair,
    run_language,
)
from datavask.connectors.review.words import ReviewWords
from datavask.flows.cleanse import CleanseOptions, run_pipeline

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "customers.csv"


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("review") / "runs" / "first"
    run_pipeline(
        CleanseOptions(input=str(SAMPLE), out=str(out), review_band=(0.05, 0.999)),
        orchestrated=False,
    )
    return out


def test_a_decision_carries_the_names_the_page_showed(sample_run: Path, tmp_path: Path) -> None:
    session = ReviewSession(sample_run, tmp_path / "d.csv", "karen")
    session.decide(0, "same", "")
    line = read_decisions(tmp_path / "d.csv").row(0, named=True)
    names = dict(pl.read_parquet(sample_run / "records.parquet").select("record_id", "name").rows())
    assert (line["record_id_l"], line["record_id_r"]) == (
        session.queue[0]["record_id_l"],
        session.queue[0]["record_id_r"],
    )
    assert line["name_l"] == names[line["record_id_l"]] and line["name_l"]
    assert line["name_r"] == names[line["record_id_r"]] and line["name_r"]
    assert session.saved == 1


def test_a_port_left_in_time_wait_is_free_again_at_once() -> None:
    """The review stopped while the page had requests open: their connections, closed by the
    server, wait in ``TIME_WAIT``; started again at once, it was told "port … is not free"."""
    first = bind(0)
    port = first.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port), timeout=5)
    served, _ = first.accept()
    served.close()  # the server closes first: its side of the connection waits in TIME_WAIT
    assert client.recv(1) == b""
    client.close()
    first.close()
    again = bind(port)
    assert again.getsockname()[1] == port
    again.close()


def test_a_port_another_program_listens_on_is_still_refused() -> None:
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(InputError, match=f"port {port} on 127.0.0.1 is not free"):
            bind(port)


@pytest.mark.parametrize(("stop", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_stopping_the_review_says_what_was_saved(
    sample_run: Path, tmp_path: Path, stop: signal.Signals, status: int
) -> None:
    """Every decision is saved as it is made: a stop keeps its exit status, but "no output was
    written" (a cleanse's words) was not true of the decisions file."""
    import httpx

    decisions = tmp_path / "d.csv"
    env = dict(os.environ, DATAVASK_REVIEWER="karen", DATAVASK_ORCHESTRATION="none")
    env.pop("DISPLAY", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "datavask", "review", str(sample_run), "--decisions",
         str(decisions), "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        started = re.search(r"http://127\.0\.0\.1:\d+/", process.stdout.readline())
        assert started, process.communicate(timeout=30)
        url = started.group(0)
        page = httpx.get(url, timeout=10).text
        token = re.search(r'name="datavask-token" content="([^"]+)"', page)
        assert token
        for n in (0, 1):
            saved = httpx.post(
                url + "decide",
                json={"n": n, "decision": "different"},
                headers={"X-Datavask-Token": token.group(1)},
                timeout=10,
            )
            assert saved.status_code == 200
    finally:
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == status, stderr
    assert f"review stopped; 2 decisions saved in {decisions}" in stderr
    assert "no output was written" not in stderr
    assert read_decisions(decisions).height == 2


def page_text(html: str) -> str:
    """The words a reader sees: tags, the style sheet and the script left out."""
    import html as entities

    body = re.sub(r"<style>.*?</style>|<script>.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", entities.unescape(re.sub(r"<[^>]+>", " ", body)))


def test_the_page_speaks_the_language_the_run_was_made_in(sample_run: Path, tmp_path: Path) -> None:
    """The page was English only while the report, the worklist and the terminal summary of the
    same run were Danish."""
    import shutil

    danish = render_page(ReviewSession(sample_run, tmp_path / "d.csv", "karen"))
    assert '<html lang="da">' in danish
    words = page_text(danish)
    assert "Modellen vurderer chancen for, at det er samme kunde" in words
    assert "Det taler for og imod" in words and "Som indtastet" in words
    assert "Mellemrum" in words and "Alle par er afgjort" in words
    # no English sentence of the page's catalogue is left on the Danish page
    english = [v for k, v in MESSAGES["en"].items() if k.startswith("review_") and " " in v]
    assert [e for e in english if "{" not in e and e in words] == []
    script = json.loads(re.search(r'id="words">(.*?)</script>', danish).group(1))  # type: ignore[union-attr]
    assert script["progress"] == "{decided} af {total} afgjort"

    asked = render_page(ReviewSession(sample_run, tmp_path / "d.csv", "karen", lang="en"))
    assert '<html lang="en">' in asked and "The model puts the chance" in page_text(asked)

    english_run = tmp_path / "english"
    shutil.copytree(sample_run, english_run)
    run = json.loads((english_run / "run.json").read_text(encoding="utf-8"))
    run["options"]["lang"] = "en"
    (english_run / "run.json").write_text(json.dumps(run), encoding="utf-8")
    assert run_language(english_run) == "en"
    made_in_english = render_page(ReviewSession(english_run, tmp_path / "d.csv", "karen"))
    assert '<html lang="en">' in made_in_english
    (english_run / "run.json").unlink()
    assert run_language(english_run) == "da"


def _run_with_others(
    tmp_path: Path, rows: list[str], review_band: tuple[float, float] | None = None
) -> Path:
    """A run (``tmp_path / "run"``) of ``rows`` (``Kundenr;Navn;Adresse;Postnr;By;Telefon``)
    among twenty customers of five names in Odense, enough for the model to learn from;
    ``review_band`` None: the band the model derives."""
    people = ["Anne Nielsen", "Peter Holm", "Mette Lund", "Lars Berg", "Karen Olsen"]
    others = [
        f"{10 + i};{name};Skolevej {i + 3};{5000 + 100 * i};Odense;3{i:07d}"
        for i, name in enumerate(people * 4)
    ]
    lines = ["Kundenr;Navn;Adresse;Postnr;By;Telefon", *rows, *others]
    (tmp_path / "c.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    options = CleanseOptions(
        input=str(tmp_path / "c.csv"), out=str(out), registry="none", review_band=review_band
    )
    run_pipeline(options, orchestrated=False)
    return out


def test_evidence_against_and_what_differed_are_on_the_page(tmp_path: Path) -> None:
    """Hans Jensen at Vestergade 12 and at Vestergade 14: the address level ``same street``
    weighs for one customer, and the page said only "same street: very strong evidence" — the
    other house number and the other phone were nowhere in the explanation."""
    out = _run_with_others(
        tmp_path,
        ["1;Hans Jensen;Vestergade 12;8000;Aarhus C;20 11 22 33",
         "2;Hans Jensen;Vestergade 14;8000;Aarhus C;20 44 55 66"],
        review_band=(0.05, 0.9999),
    )  # fmt: skip
    session = ReviewSession(out, tmp_path / "d.csv", "karen")
    n = next(
        i for i, q in enumerate(session.queue) if {q["record_id_l"], q["record_id_r"]} == {"1", "2"}
    )
    words = page_text(render_pair(session, n))
    assert (
        "Adresse Vestergade 12, 8000 Aarhus C Vestergade 14, 8000 Aarhus C samme vej, andet"
        " husnummer (12 / 14): " in words
    )
    assert "Taler imod samme kunde Telefon +4520112233 +4520445566 forskellige: " in words
    english = page_text(render_pair(ReviewSession(out, tmp_path / "d.csv", "k", lang="en"), n))
    assert "same street, other house number (12 / 14): " in english


@pytest.mark.parametrize(
    ("probability", "da", "en"),
    [(0.9069, "91 %", "91%"), (0.997, "99,7 %", "99.7%"), (0.0031, "0,3 %", "0.3%"),
     (0.9996, "99,96 %", "99.96%")],
)  # fmt: skip
def test_a_probability_near_certain_is_not_rounded_to_certain(
    probability: float, da: str, en: str
) -> None:
    """0.997 read "the chance … at 100 %": a certainty the model does not claim."""
    assert ReviewWords(Text("da")).chance(probability).endswith(f" til {da}.")
    assert ReviewWords(Text("en")).chance(probability).endswith(f" at {en}.")


def test_an_undo_with_nothing_to_withdraw_writes_no_line(sample_run: Path, tmp_path: Path) -> None:
    """An undo of a pair the reviewer never decided (its saving failed; undone already in another
    tab) appended an ``undecided`` line withdrawing nothing."""
    decisions = tmp_path / "d.csv"
    karen = ReviewSession(sample_run, decisions, "karen")
    assert karen.decide(0, "undecided", "")["saved"] is None
    karen.decide(0, "same", "")
    ole = ReviewSession(sample_run, decisions, "ole")
    assert ole.decide(0, "undecided", "")["saved"] is None  # karen's decision is not ole's to undo
    answer = karen.decide(0, "undecided", "")
    assert answer["saved"] == "undecided" and "0" not in answer["decided"]
    assert karen.decide(0, "undecided", "")["saved"] is None  # undone already
    assert read_decisions(decisions)["decision"].to_list() == ["same", "undecided"]
    assert (karen.saved, ole.saved) == (2, 0)


def test_the_page_says_why_a_pair_the_model_would_merge_is_in_review(tmp_path: Path) -> None:
    """Morten Karlsen at Bredgade 33 and at Bredgade 43, nothing else in common, is scored as one
    customer and sent to review by the neighbours rule; the page showed only the model's high
    probability, and the reviewer could not tell why the pair was there."""
    out = _run_with_others(
        tmp_path,
        [
            "1;Morten Karlsen;Bredgade 33;7400;Herning;",
            "2;Morten Karlsen;Bredgade 43;7400;Herning;",
        ],
    )
    pairs = pl.read_parquet(out / "pairs.parquet")
    pair = pairs.filter(
        pl.col("record_id_l").is_in(["1", "2"]) & pl.col("record_id_r").is_in(["1", "2"])
    )
    assert pair.select("decision", "review_rule").row(0) == ("review", "neighbours")
    # a pair in review by its score alone names no rule
    assert (
        pairs.filter(pl.col("decision") != "review")["review_rule"].null_count()
        == pairs.filter(pl.col("decision") != "review").height
    )
    session = ReviewSession(out, tmp_path / "d.csv", "karen")
    n = next(
        i for i, q in enumerate(session.queue) if {q["record_id_l"], q["record_id_r"]} == {"1", "2"}
    )
    assert "Til vurdering trods scoren: samme navn på samme vej med to husnumre" in page_text(
        render_pair(session, n)
    )
    english = ReviewSession(out, tmp_path / "d.csv", "karen", lang="en")
    assert "In review despite the score: one name on one street" in page_text(
        render_pair(english, n)
    )
    # the worklist's sheet of pairs to review says it too, beside both records' addresses (it
    # listed only numbers, names and the probability)
    book = openpyxl.load_workbook(out / "worklist.xlsx", read_only=True)
    rows = list(book["Til vurdering"].iter_rows(values_only=True))
    book.close()
    assert rows[0] == (
        "kundenr. 1", "navn 1", "adresse 1", "kundenr. 2", "navn 2", "adresse 2",
        "sandsynlighed for samme kunde", "hvorfor til vurdering",
    )  # fmt: skip
    karlsen = next(row for row in rows if {row[0], row[3]} == {"1", "2"})
    assert {karlsen[2], karlsen[5]} == {"Bredgade 33, 7400 Herning", "Bredgade 43, 7400 Herning"}
    assert karlsen[7] == "samme navn og vej, to husnumre, intet andet fælles"
    # every pair says what pairs.parquet says of it: a pair below the band's upper end is there
    # by its score
    said = {
        "neighbours": "samme navn og vej, to husnumre, intet andet fælles",
        None: "scoren ligger i vurderingsintervallet",
    }
    expected = {
        frozenset((left, right)): said[rule]
        for left, right, rule in pairs.filter(pl.col("decision") == "review")
        .select("record_id_l", "record_id_r", "review_rule")
        .rows()
    }
    assert {frozenset((row[0], row[3])): row[7] for row in rows[1:]} == expected
    assert set(expected.values()) == set(said.values())
