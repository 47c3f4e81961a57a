"""``cleanse --decisions`` with a file it cannot use: one clear line, exit 2, no output directory."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from datavask.flows.cli import app

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "customers.csv"


@pytest.fixture(autouse=True)
def _no_prefect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAVASK_ORCHESTRATION", "none")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"Kundenr;Navn\n1;Hansen\n", "not a decisions file"),
        (b"record_id_l,record_id_r,decision\n1,2,s\xf8\n", "must be UTF-8"),
    ],
)
def test_unusable_decisions_file_exits_2(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    decisions = tmp_path / "decisions.csv"
    if content is not None:
        decisions.write_bytes(content)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["cleanse", str(SAMPLE), "--out", str(out), "--decisions", str(decisions)]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_decisions_on_row_numbers_are_obeyed_with_a_warning(tmp_path: Path) -> None:
    sample = pl.read_csv(SAMPLE, separator=";", encoding="cp1252", infer_schema=False)
    source = tmp_path / "no-ids.csv"
    sample.drop("Kundenr").write_csv(source, separator=";")
    ids = sample["Kundenr"].to_list()
    left, right = (
        ids.index("10056") + 1,
        ids.index("10201") + 1,
    )  # a pair the sample leaves for review
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(
        "record_id_l,record_id_r,decision,decided_by,decided_at,note\n"
        f"{left},{right},different,karen,2026-12-02T03:00:00+00:00,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["cleanse", str(source), "--out", str(out), "--decisions", str(decisions)]
    )
    assert result.exit_code == 0, result.output
    assert "henviser til rækkenumre" in result.output  # the summary speaks the report's Danish
    records = pl.read_parquet(out / "records.parquet")
    cluster = dict(records.select("record_id", "cluster_id").rows())
    assert cluster[str(left)] != cluster[str(right)]
    report = json.loads((out / "run.json").read_text())["steps"]["match"]["decisions"]
    assert report["different"] == 1 and sum(report["agreement"]["different"].values()) == 1
    assert "row numbers" in report["warning"]


def test_decisions_on_ids_that_look_like_formulas_are_obeyed(tmp_path: Path) -> None:
    """The decisions file escapes ``=HYPERLINK(…)`` and ``@SUM(1+1)`` (a CRM's customer numbers)
    as every datavask CSV does, and reads them back as the ids of their records."""
    from datavask.connectors.decisions import Decision, DecisionsFile

    left, right = '=HYPERLINK("http://evil.example","10056")', "@SUM(1+1)"
    sample = pl.read_csv(SAMPLE, separator=";", encoding="cp1252", infer_schema=False)
    source = tmp_path / "formula-ids.csv"
    sample.with_columns(
        pl.col("Kundenr").replace({"10056": left, "10201": right})  # a pair left for review
    ).write_csv(source, separator=";")
    decisions = tmp_path / "decisions.csv"
    DecisionsFile(decisions).append(Decision(left, right, "same", note="=1+1", decided_by="k"))
    assert "'=HYPERLINK" in decisions.read_text(encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["cleanse", str(source), "--out", str(out), "--decisions", str(decisions)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "run.json").read_text())["steps"]["match"]["decisions"]
    assert report["problems"] == [] and report["obeyed"] == report["same"] == 1
    cluster = dict(
        pl.read_parquet(out / "records.parquet").select("record_id", "cluster_id").rows()
    )
    assert cluster[left] == cluster[right]


def test_a_decision_on_a_customer_number_given_to_another_customer_is_not_obeyed(
    tmp_path: Path,
) -> None:
    """The reviewer decided 10056 and 10201 (both "Stjerne Køkkener I/S") ``same``; next week
    the CRM has given 10056 to Mette Skov. The pair goes back to the model, and the summary and
    the report say why, in the report's language (Danish by default)."""
    from datavask.connectors.decisions import Decision, DecisionsFile

    decisions = tmp_path / "decisions.csv"
    DecisionsFile(decisions).append(
        Decision("10056", "10201", "same", decided_by="karen",
                 name_l="Stjerne Køkkener I/S", name_r="Stjerne Køkkener I/S")
    )  # fmt: skip
    sample = pl.read_csv(SAMPLE, separator=";", encoding="cp1252", infer_schema=False)
    source = tmp_path / "next-week.csv"
    sample.with_columns(
        pl.when(pl.col("Kundenr") == "10056")
        .then(pl.lit("Mette Skov"))
        .otherwise(pl.col("Navn"))
        .alias("Navn")
    ).write_csv(source, separator=";")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["cleanse", str(source), "--out", str(out), "--decisions", str(decisions)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "run.json").read_text())["steps"]["match"]["decisions"]
    assert report["obeyed"] == 0
    assert [(p["reason"], p["values"]) for p in report["problems"]] == [
        (
            "another_customer",
            {"record": "10056", "name_now": "Mette Skov", "name_then": "Stjerne Køkkener I/S"},
        )
    ]
    pairs = pl.read_parquet(out / "pairs.parquet").filter(
        pl.col("record_id_l").is_in(["10056", "10201"])
        & pl.col("record_id_r").is_in(["10056", "10201"])
    )
    assert pairs["reviewed"].drop_nulls().is_empty()
    said = "post 10056 er en anden kunde nu: Mette Skov, ikke Stjerne Køkkener I/S"
    summary = " ".join(result.output.split())
    assert "Ikke fulgt 1 10056/10201: " + said in summary, summary
    assert "Beslutninger 0 par fulgt" in summary
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "10056 / 10201: " + said in page
    assert "another customer" not in page


def test_review_takes_lang_as_cleanse_and_report_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``datavask review`` had no ``--lang``: its page was English beside a Danish report."""
    from datavask.connectors.review import server

    run_dir = tmp_path / "run"
    assert CliRunner().invoke(app, ["cleanse", str(SAMPLE), "--out", str(run_dir)]).exit_code == 0
    served: list[str] = []

    def serve(session: server.ReviewSession, sock: socket.socket, ready: object) -> None:
        sock.close()
        served.append(session.words.lang)

    monkeypatch.setattr(server, "serve", serve)
    review = ["review", str(run_dir), "--port", "0", "--no-browser"]
    for extra, lang in (([], "da"), (["--lang", "en"], "en"), (["--lang", "da"], "da")):
        result = CliRunner().invoke(app, [*review, *extra])
        assert result.exit_code == 0, result.output
        assert served[-1] == lang
    refused = CliRunner().invoke(app, [*review, "--lang", "de"])
    assert refused.exit_code == 2 and "--lang" in refused.output
