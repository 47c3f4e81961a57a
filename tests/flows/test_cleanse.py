"""The cleanse flow end to end on the bundled sample: contract files, rows kept, repeatable."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from datavask.cleansing.matching import SUBSTEPS
from datavask.flows.cleanse import CleanseOptions, run_pipeline

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"
CONTRACT_COLUMNS = [
    "record_id", "source_row", "cluster_id", "is_survivor", "customer_type", "name", "legal_form",
    "street", "house_number", "floor", "door", "postal_code", "city", "phone_e164", "email", "cvr",
    "ean", "registry_status", "registry_name", "flags", "invoice_ready", "collection_ready",
]  # fmt: skip
CONTRACT_FILES = [
    "records.parquet", "golden.parquet", "pairs.parquet", "changes.csv",
    "reimport/customers_update.csv", "reimport/merge_plan.csv", "report.html", "worklist.xlsx",
    "run.json",
]  # fmt: skip
CPR_PATTERN = re.compile(rb"(?<!\d)(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])\d{2}-?\d{4}(?!\d)")


def cleanse(tmp_path: Path, input_path: Path, name: str = "out", **options: object) -> Path:
    out = tmp_path / name
    opts = CleanseOptions(input=str(input_path), out=str(out), **options)  # type: ignore[arg-type]
    run_pipeline(opts, orchestrated=False)
    return out


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cleanse(tmp_path_factory.mktemp("sample"), SAMPLE / "customers.csv")


def test_every_contract_file_is_written(sample_run: Path) -> None:
    for name in CONTRACT_FILES:
        assert (sample_run / name).is_file(), name
    assert not list(sample_run.parent.glob(".*partial*"))


def test_records_keep_every_row_in_order_with_contract_columns(sample_run: Path) -> None:
    records = pl.read_parquet(sample_run / "records.parquet")
    raw = pl.read_csv(
        SAMPLE / "customers.csv", separator=";", encoding="cp1252", infer_schema=False
    )
    assert records.height == raw.height
    assert records["source_row"].to_list() == list(range(1, raw.height + 1))
    assert records.columns[: len(CONTRACT_COLUMNS)] == CONTRACT_COLUMNS
    assert records["record_id"].n_unique() == records.height
    assert records["flags"].list.eval(pl.element().sort()).equals(records["flags"])
    # originals sit beside cleaned values (CPR numbers masked, everything else unchanged)
    src = records.select(pl.col("^src_.*$")).rename(lambda c: c.removeprefix("src_"))
    assert src.columns == raw.columns
    same = (src["Navn"] == raw["Navn"]) | src["Navn"].str.contains("XXXXXX-XXXX")
    assert same.fill_null(True).all()


def test_run_json_describes_the_run(sample_run: Path) -> None:
    run = json.loads((sample_run / "run.json").read_text())
    assert run["input"]["sha256"] and run["input"]["rows"] == run["counts"]["records"]
    assert set(run["timings"]) >= {"read", "normalise", "registry", "match", "verdict"}
    assert run["versions"]["polars"] and run["versions"]["prefect"]
    assert run["options"]["registry"].endswith("registry.jsonl.gz")
    records = pl.read_parquet(sample_run / "records.parquet")
    assert run["counts"]["invoice_ready"] == records["invoice_ready"].sum()
    assert run["counts"]["customers"] == records["cluster_id"].n_unique()
    # the match step's own sub-steps, in the order they run, within the step's seconds; the
    # first pass's term frequencies and u run beside blocking and comparing, so those two
    # overlap the others and are bounded each on its own
    substeps = run["steps"]["match"]["substeps"]
    assert tuple(substeps) == SUBSTEPS
    assert all(seconds >= 0 for seconds in substeps.values())
    beside = ("term_frequencies", "u")
    in_turn = sum(seconds for name, seconds in substeps.items() if name not in beside)
    assert in_turn <= run["timings"]["match"] + 0.01
    assert all(substeps[name] <= run["timings"]["match"] + 0.01 for name in beside)


def test_run_json_records_the_review_band_used(sample_run: Path, tmp_path: Path) -> None:
    derived = json.loads((sample_run / "run.json").read_text())
    band = derived["steps"]["match"]["review_band"]
    assert derived["options"]["review_band"] is None
    assert band["source"] == "model" and band["low"] < 0.5 < band["high"]
    assert band["uncertainty_bits"] >= 0 and band["high_weight"] == -band["low_weight"]
    pairs = pl.read_parquet(sample_run / "pairs.parquet").filter(pl.col("hard_rule").is_null())
    review = pairs.filter(pl.col("decision") == "review")
    assert (review["match_probability"] >= band["low"]).all()
    # Above the band only a bridge the clusters refused: its two records stay apart.
    bridges = review.filter(pl.col("match_probability") >= band["high"])
    clusters = pl.read_parquet(sample_run / "records.parquet", columns=["record_id", "cluster_id"])
    sides = bridges.join(clusters, left_on="record_id_l", right_on="record_id").join(
        clusters, left_on="record_id_r", right_on="record_id", suffix="_r"
    )
    assert sides.height == bridges.height
    assert (sides["cluster_id"] != sides["cluster_id_r"]).all()

    out = cleanse(tmp_path, SAMPLE / "customers.csv", review_band=(0.2, 0.9))
    given = json.loads((out / "run.json").read_text())
    assert given["options"]["review_band"] == [0.2, 0.9]
    used = given["steps"]["match"]["review_band"]
    assert (used["low"], used["high"], used["source"]) == (0.2, 0.9, "option")


def test_no_cpr_number_survives_in_any_output(sample_run: Path) -> None:
    truth = pl.read_parquet(SAMPLE / "truth.parquet")
    planted = truth.filter(pl.col("expected_flags").list.contains("CPR_IN_DATA")).height
    assert planted > 0, "the sample must plant CPR numbers for this test to mean anything"
    for path in sample_run.rglob("*"):
        if path.suffix in (".csv", ".json", ".html"):
            assert not CPR_PATTERN.search(path.read_bytes()), path
    records = pl.read_parquet(sample_run / "records.parquet")
    assert not CPR_PATTERN.search(str(records.to_dicts()).encode())


def test_a_rerun_gives_the_same_records(sample_run: Path, tmp_path: Path) -> None:
    again = cleanse(tmp_path, SAMPLE / "customers.csv")
    first = pl.read_parquet(sample_run / "records.parquet")
    second = pl.read_parquet(again / "records.parquet")
    assert first.equals(second)
    assert pl.read_parquet(sample_run / "golden.parquet").equals(
        pl.read_parquet(again / "golden.parquet")
    )


@pytest.mark.parametrize("fmt", ["xlsx", "parquet", "jsonl"])
def test_rows_conserved_through_the_pipeline_for_every_format(tmp_path: Path, fmt: str) -> None:
    raw = pl.read_csv(
        SAMPLE / "customers.csv", separator=";", encoding="cp1252", infer_schema=False
    )
    path = tmp_path / f"customers.{fmt}"
    if fmt == "xlsx":
        raw.write_excel(path)
    elif fmt == "parquet":
        raw.write_parquet(path)
    else:
        raw.write_ndjson(path)
    out = cleanse(tmp_path, path, registry="none")
    records = pl.read_parquet(out / "records.parquet")
    assert records.height == raw.height
    assert records["src_Kundenr"].to_list() == raw["Kundenr"].to_list()


def test_a_crash_leaves_the_previous_result_untouched(
    sample_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = cleanse(tmp_path, SAMPLE / "customers.csv", registry="none")
    before = (out / "records.parquet").read_bytes()

    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("datavask.connectors.report.render_report", explode)
    with pytest.raises(RuntimeError, match="disk on fire"):
        cleanse(tmp_path, SAMPLE / "customers.csv", registry="none")
    assert (out / "records.parquet").read_bytes() == before
    assert not list(tmp_path.glob(".out.*"))


def test_the_local_engine_hands_the_first_two_frames_on_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """canonical.parquet and normalised.parquet are read by the next step only: the local engine
    keeps them in memory, writes the later work files, and lets go of the frames at the end."""
    from datavask.flows import cleanse as steps

    written: list[str] = []
    write = steps._write_work

    def recorded(frame: pl.DataFrame | pl.LazyFrame, path: Path) -> None:
        written.append(path.name)
        write(frame, path)

    monkeypatch.setattr(steps, "_write_work", recorded)
    out = cleanse(tmp_path, SAMPLE / "customers.csv", registry="none")
    assert "canonical.parquet" not in written and "normalised.parquet" not in written
    assert {"originals.parquet", "registered.parquet", "matched.parquet"} <= set(written)
    assert pl.read_parquet(out / "records.parquet").height == 400
    assert not steps._handed

    # Without the option (the Dask engine's driver) the read step writes its file as before.
    work = tmp_path / "work"
    work.mkdir()
    steps.read_step(str(work), {"input": str(SAMPLE / "customers.csv"), "mapping": None})
    assert pl.read_parquet(work / "canonical.parquet").height == 400
    assert not steps._handed


def test_a_failed_run_keeps_no_frame_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datavask.flows import cleanse as steps

    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("registry on fire")

    monkeypatch.setattr(steps, "registry_step", explode)
    with pytest.raises(RuntimeError, match="registry on fire"):
        cleanse(tmp_path, SAMPLE / "customers.csv", registry="none")
    assert not steps._handed  # normalise's frame, never taken, was let go with the run


@pytest.mark.prefect
def test_flow_runs_as_prefect_flow(prefect_harness: None, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    from datavask.flows.cleanse import cleanse_flow

    out = tmp_path / "out"
    state = cleanse_flow(input=str(SAMPLE / "customers.csv"), out=str(out), return_state=True)
    run = state.result()
    assert run["counts"]["records"] == pl.read_parquet(out / "records.parquet").height

    async def task_names_and_artifacts() -> tuple[list[str], dict[str, str | None]]:
        from prefect.client.schemas.filters import (
            ArtifactFilter,
            ArtifactFilterFlowRunId,
            FlowRunFilter,
            FlowRunFilterId,
        )

        flow_run_id = state.state_details.flow_run_id
        async with get_client() as client:
            runs = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
            artifacts = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])
                )
            )
        return sorted(r.name.split("-")[0] for r in runs), {a.key: a.type for a in artifacts}

    import asyncio

    names, artifacts = asyncio.run(task_names_and_artifacts())
    assert names == sorted(["read", "normalise", "registry", "match", "verdict", "write"])
    assert artifacts == {
        "datavask-summary": "markdown",
        "datavask-flags": "table",
        "datavask-output": "markdown",  # the link to the run directory
    }


# Runs the CLI as ``python -m datavask`` would, with an audit hook that writes every socket
# connection to stderr: a first run that waits on a network time-out (no internet) shows up here.
_COUNT_CONNECTIONS = """
import runpy, socket, sys
def hook(event, args):
    if event == "socket.connect" and args[0].family != socket.AF_UNIX:
        sys.stderr.write(f"NETWORK-CONNECT {args[1]!r}\\n")
sys.addaudithook(hook)
sys.argv[0] = "datavask"
runpy.run_module("datavask", run_name="__main__", alter_sys=True)
"""


def test_command_one_without_a_server_runs_without_prefect_and_says_so(tmp_path: Path) -> None:
    """README command 1 as a user runs it with no Prefect server: no server is started, Prefect
    is not even imported (seconds on a small machine), nothing connects to the network (a machine
    without internet must not wait on a time-out), and the summary says how to get runs into
    Prefect."""
    env = dict(os.environ, DATAVASK_HOME=str(tmp_path / "home"), PREFECT_HOME=str(tmp_path / "ph"))
    for key in (
        "PREFECT_API_URL",
        "DATAVASK_ORCHESTRATION",
        "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL",
    ):
        env.pop(key, None)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _COUNT_CONNECTIONS, "cleanse",
         str(SAMPLE / "customers.csv"), "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=300, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "NETWORK-CONNECT" not in done.stderr, re.findall(r"NETWORK-CONNECT .*", done.stderr)
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "prefect" not in imported
    said = " ".join(done.stderr.split())  # the summary table wraps long notes
    assert "kørt uden Prefect" in said and "PREFECT_API_URL" in said  # the summary is Danish
    assert not (tmp_path / "home" / "prefect" / "server.json").exists()
    run = json.loads((out / "run.json").read_text())
    assert run["orchestration"].startswith("ran without Prefect: no server configured")
    assert run["counts"]["records"] == 400


def test_blacklist_problems_are_reported_not_ignored(tmp_path: Path) -> None:
    blacklist = tmp_path / "blacklist.csv"
    blacklist.write_text("cvr;email;reason\n1234;;forkert cvr\n;a@b.dk;svindel;extra\n")
    out = cleanse(tmp_path, SAMPLE / "customers.csv", registry="none", blacklist=str(blacklist))
    problems = json.loads((out / "run.json").read_text())["steps"]["verdict"]["blacklist"][
        "problems"
    ]
    assert {(p["row"], p["problem"].split(" (")[0]) for p in problems} == {
        (1, "not a valid CVR number"),
        (2, "too many fields"),
    }


def test_the_match_step_hands_on_no_column_only_matching_reads(tmp_path: Path) -> None:
    """The keys matching compares and the person identifier's hash are read by no later step:
    the match step leaves them out of the records it hands on (at 1M records the keys held
    0.15 GB through the verdict)."""
    from dataclasses import asdict

    from datavask.flows import cleanse as flow

    options = CleanseOptions(input=str(SAMPLE / "customers.csv"), out=str(tmp_path / "out"))
    opts = asdict(options) | {"registry_source": str(SAMPLE / "registry.jsonl.gz")}
    work = str(tmp_path)
    for step in (flow.read_step, flow.normalise_step, flow.registry_step, flow.match_step):
        step(work, opts)
    matching_only = {"name_key", "first_name_key", "last_name_key", "address_key", "email_domain"}
    assert matching_only <= set(pl.read_parquet_schema(tmp_path / "registered.parquet"))
    matched = set(pl.read_parquet_schema(tmp_path / "matched.parquet"))
    assert not (matching_only | {"_person_key", "_registry_name_keys"}) & matched
    assert {"street_key", "name", "cluster_id"} <= matched  # the blacklist reads the street key
