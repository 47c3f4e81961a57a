"""The ``datavask cleanse`` flow: read → normalise → registry → match → verdict → write.

Each step is one Prefect task that reads and writes Parquet files in the run's work directory:
paths, not frames, cross task boundaries, so nothing large is pickled or hashed and a step can be
retried on its own. The same step functions run without Prefect when orchestration is off
(:func:`run_pipeline` with ``orchestrated=False``), which is how a run survives a Prefect server
that will not start.
"""

from __future__ import annotations

import contextlib
import functools
import json
import platform
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from importlib.resources import files
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Final

import polars as pl

from datavask.settings import settings

STEPS = ("read", "normalise", "registry", "match", "verdict", "write")
BUNDLED_REGISTRY = Path(str(files("datavask.data") / "sample" / "registry.jsonl.gz"))
# The work directory's Parquet files live for one run: lz4 writes them 2.5x faster than the
# default zstd and reads them back 2.5x faster (1M records: 37 s vs 92 s to write on a loaded
# machine) for 1.6x the bytes. The outputs keep polars' default. The Dask engine's parts use it.
WORK_COMPRESSION: Final = "lz4"
# The local engine's work files never leave the machine and are read back whole within the
# minute: uncompressed and without column statistics they cost 0.6x lz4's CPU to write and
# 0.75x to read (200,000 matched records: 0.51 s against 0.82 s, 0.16 s against 0.21 s) for
# 1.8x the bytes, which stay in the page cache.
LOCAL_WORK: Final[dict[str, Any]] = {"compression": "uncompressed", "statistics": False}


@dataclass
class CleanseOptions:
    """Everything a run depends on; recorded in run.json so a run can be repeated."""

    input: str
    out: str
    registry: str = "bundled"
    blacklist: str | None = None
    mapping: str | None = None
    format: str = "parquet"
    review_band: tuple[float, float] | None = None  # None: derived per file from the model
    workers: int = 0
    only_changed: bool = False
    check_deliverability: bool = False
    decisions: str | None = None  # reviewers' decisions file (datavask review)
    sheet: str | None = None  # the Excel sheet to read; None: the first
    lang: str = "da"  # report.html, worklist.xlsx and the summaries: da or en
    monitor_state: str | None = None  # datavask monitor's --state: its flags and recent alerts
    engine: str = "local"  # local, or dask: the same steps on a Dask cluster (flows/engine_dask.py)
    dask_address: str | None = None  # the scheduler; None: a local cluster of `workers` processes

    def registry_source(self) -> str:
        if self.registry == "bundled":
            return settings().registry or str(BUNDLED_REGISTRY)
        return self.registry


@dataclass
class StepReport:
    name: str
    seconds: float
    detail: dict[str, Any] = field(default_factory=dict)


Reporter = Callable[[str, str, float | None], None]  # (step, "start"|"done", seconds)


def _quiet_reporter(step: str, event: str, seconds: float | None) -> None:
    return None


# --------------------------------------------------------------------------- steps


def read_step(work: str, options: dict[str, Any]) -> dict[str, Any]:
    from datavask.connectors.files import read_input

    override, parts = mapping_override(options)
    evidence = _compare_fields(options)
    frame, info = read_input(
        options["input"],
        mapping=override,
        date_parts=parts,
        sheet=options.get("sheet"),
        reserved=reserved_columns(options, evidence),
    )
    _check_compare_columns(evidence, info.columns)
    _check_truth_column(options, info.columns, info.mapping, evidence)
    link = _link_column(options, info.columns, info.mapping, evidence)
    if link is not None:
        _check_blank_sources(link, [blank_sources(frame, link)])
    # [compare] and [link] columns stay for matching
    mapped = [*info.mapping.values(), *evidence.values(), *([link] if link else [])]
    frame = set_aside_originals(frame, work, mapped=mapped)
    Path(work, "evidence.json").write_text(json.dumps(with_link(evidence, link)), encoding="utf-8")
    _leave(frame, Path(work, "canonical.parquet"), options)
    Path(work, "input.json").write_text(json.dumps(info.to_dict()), encoding="utf-8")
    return info.to_dict()


def mapping_override(
    options: dict[str, Any],
) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """The mapping file's ``[columns]``: field → column, and the fields written in three
    columns (year, month, day); (None, None) without a mapping file."""
    from datavask.connectors.mapping import load_date_parts, load_mapping_file

    if not options.get("mapping"):
        return None, None
    path = Path(options["mapping"])
    return load_mapping_file(path), load_date_parts(path)


def reserved_columns(options: dict[str, Any], evidence: dict[str, str]) -> list[str]:
    """The columns the mapping file gives a role of their own ([compare], truth, [link]): the
    automatic mapping never takes them for a field."""
    from datavask.connectors.mapping import load_link_column

    if not options.get("mapping"):
        return []
    named = [*evidence.values(), _truth_column(options), load_link_column(Path(options["mapping"]))]
    return [c for c in named if c is not None]


def _compare_fields(options: dict[str, Any]) -> dict[str, str]:
    from datavask.connectors.mapping import load_compare_fields

    return load_compare_fields(Path(options["mapping"])) if options.get("mapping") else {}


def _check_compare_columns(evidence: dict[str, str], columns: list[str]) -> None:
    from datavask.connectors.errors import InputError
    from datavask.connectors.mapping import missing_compare_columns

    if missing := missing_compare_columns(evidence, columns):
        raise InputError(
            f"the mapping's [compare] names columns the input does not have: {missing}; "
            f"its columns are {columns}"
        )


def _truth_column(options: dict[str, Any]) -> str | None:
    from datavask.connectors.mapping import load_truth_column

    return load_truth_column(Path(options["mapping"])) if options.get("mapping") else None


def _check_truth_column(
    options: dict[str, Any], columns: list[str], mapping: dict[str, str], evidence: dict[str, str]
) -> None:
    from datavask.connectors.errors import InputError
    from datavask.connectors.mapping import truth_column_problem

    truth = _truth_column(options)
    if truth is not None and (problem := truth_column_problem(truth, columns, mapping, evidence)):
        raise InputError(problem)


def _link_column(
    options: dict[str, Any], columns: list[str], mapping: dict[str, str], evidence: dict[str, str]
) -> str | None:
    """The mapping's ``[link]`` source column, checked against the input (None without one)."""
    from datavask.connectors.errors import InputError
    from datavask.connectors.mapping import link_column_problem, load_link_column

    if not options.get("mapping"):
        return None
    link = load_link_column(Path(options["mapping"]))
    if link is not None and (
        problem := link_column_problem(link, columns, mapping, evidence, _truth_column(options))
    ):
        raise InputError(problem)
    return link


def blank_sources(frame: pl.DataFrame, link: str) -> tuple[int, int | None]:
    """How many rows of ``frame`` have a blank ``[link]`` source, and the first one's source_row."""
    text = pl.col(f"src_{link}").cast(pl.String).str.strip_chars().fill_null("")
    rows = frame.filter(text == "")["source_row"]
    return rows.len(), int(rows.min()) if rows.len() else None  # type: ignore[arg-type]


def _check_blank_sources(link: str, counts: list[tuple[int, int | None]]) -> None:
    """Stop the run when a row says no source: it could be linked to neither side."""
    from datavask.connectors.errors import InputError
    from datavask.connectors.mapping import blank_source_problem

    firsts = [first for _, first in counts if first is not None]
    problem = blank_source_problem(link, sum(n for n, _ in counts), min(firsts, default=None))
    if problem:
        raise InputError(problem)


def with_link(evidence: dict[str, str], link: str | None) -> dict[str, str]:
    """evidence.json's content: the ``[compare]`` fields, and the ``[link]`` column under the
    reserved name ``source`` (which no ``[compare]`` field may take)."""
    return {**evidence, "source": link} if link is not None else evidence


def truth_labels(work: str, options: dict[str, Any]) -> pl.Series | None:
    """The labelled sample's true customer per record (input order), or None without one.

    The column is not mapped, so it waits with the other unread columns in originals.parquet
    (:func:`set_aside_originals`): it never reaches the record frame the matcher reads.
    """
    truth = _truth_column(options)
    if truth is None:
        return None
    return pl.read_parquet(Path(work, "originals.parquet"), columns=[f"src_{truth}"], glob=False)[
        f"src_{truth}"
    ]


def with_evidence(frame: pl.DataFrame, work: str) -> pl.DataFrame:
    """The frame with ``evidence_<field>`` for the mapping's ``[compare]`` fields (for matching
    only: the records keep their ``src_`` columns as read)."""
    return add_evidence(frame, evidence_columns(work))


def evidence_columns(work: str) -> dict[str, str]:
    """The mapping's ``[compare]`` fields and the ``src_`` column each is read from; ``source``:
    the ``[link]`` column, which becomes the records' ``source`` (:func:`evidence_frame`)."""
    path = Path(work, "evidence.json")
    evidence = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {field: f"src_{column}" for field, column in evidence.items()}


def add_evidence(frame: pl.DataFrame, columns: dict[str, str]) -> pl.DataFrame:
    from datavask.cleansing.matching.prepare import evidence_frame

    return frame.hstack(evidence_frame(frame, columns)) if columns else frame


def set_aside_originals(frame: pl.DataFrame, work: str, *, mapped: Iterable[str]) -> pl.DataFrame:
    """Keep the input columns no stage reads (``src_*`` of unmapped columns) out of the way.

    They wait in ``originals.parquet`` and rejoin the records in the write step
    (:func:`with_originals`), so an input with 100,000 columns costs the stages nothing.
    """
    src = [c for c in frame.columns if c.startswith("src_")]
    keep = {f"src_{c}" for c in mapped}
    aside = [c for c in src if c not in keep]
    _write_work(frame.select(aside), Path(work, "originals.parquet"))
    Path(work, "src_columns.json").write_text(json.dumps(src), encoding="utf-8")
    return frame.drop(aside)


def with_originals(frame: pl.DataFrame, work: str) -> pl.DataFrame:
    """The records with every ``src_*`` column again, in the input's order, after the others."""
    order = json.loads(Path(work, "src_columns.json").read_text(encoding="utf-8"))
    return joined_originals(
        frame, pl.read_parquet(Path(work, "originals.parquet"), glob=False), order
    )


def joined_originals(
    frame: pl.DataFrame, originals: pl.DataFrame, order: list[str]
) -> pl.DataFrame:
    """``frame`` with the set-aside ``originals`` (row for row) and every ``src_*`` column in
    the input's ``order``, after the others."""
    combined = frame.hstack(originals)
    first = [c for c in frame.columns if not c.startswith("src_")]
    return combined.select(first + order)


def normalise_step(work: str, options: dict[str, Any]) -> dict[str, Any]:
    from datavask.cleansing.normalise import normalise
    from datavask.connectors.match_key import match_key

    frame = _take(Path(work, "canonical.parquet"))
    frame = normalise(
        frame,
        check_deliverability=options.get("check_deliverability", False),
        match_key=match_key(),
    )
    _leave(frame, Path(work, "normalised.parquet"), options)
    return {"rows": frame.height}


def registry_step(work: str, options: dict[str, Any]) -> dict[str, Any]:
    frame = _take(Path(work, "normalised.parquet"))
    found, detail = registry_lookup(frame["cvr"], options["registry_source"])
    if found is not None:
        from datavask.cleansing.registry import apply_registry

        frame = apply_registry(frame, found)
    _write_work(frame, Path(work, "registered.parquet"))
    return detail


def registry_lookup(cvr: pl.Series, source: str) -> tuple[pl.DataFrame | None, dict[str, Any]]:
    """The registry's answer for the distinct CVR numbers in ``cvr`` (None for ``none``), and
    the step's counts. Both engines ask through here, so they ask the same question."""
    cvrs = cvr.drop_nulls().unique().sort().to_list()
    detail: dict[str, Any] = {"source": source, "cvrs": len(cvrs)}
    if source == "none":
        detail.update(checked=0, unchecked=0, not_found=0, skipped=True)
        return None, detail
    from datavask.connectors.cvr import open_registry

    with open_registry(source, cache_dir=_registry_cache()) as registry:
        found = registry.lookup(cvrs)
    detail.update(
        checked=int((~found["lookup_failed"]).sum()),
        unchecked=int(found["lookup_failed"].sum()),
        not_found=int((~found["found"] & ~found["lookup_failed"]).sum()),
        skipped=False,
    )
    if registry_uncovered(detail["checked"], detail["not_found"]):
        detail.update(
            uncovered=True,
            warning=(
                f"the registry {source} knew {detail['checked'] - detail['not_found']} of the "
                f"{detail['checked']} valid CVR numbers it was asked: it does not cover this "
                "file's companies (the bundled sample, or an old or partial snapshot?), so "
                "CVR_NOT_FOUND says little here; run again with --registry set to a full "
                "snapshot (datavask registry sync) or ERST's API"
            ),
        )
    return found, detail


# A registry that knows at most a tenth of the valid CVR numbers it was asked, of five or more,
# covers other companies than the file's: the bundled sample against a real customer file, or a
# snapshot of one region. Typing errors do not do that to nine numbers in ten; two of two can.
UNCOVERED_SHARE: Final = 0.9
UNCOVERED_MIN: Final = 5


def registry_uncovered(checked: int, not_found: int) -> bool:
    """Whether the registry's "not found" describes the registry rather than the numbers.

    >>> registry_uncovered(20, 19), registry_uncovered(20, 17), registry_uncovered(2, 2)
    (True, False, False)
    """
    return checked >= UNCOVERED_MIN and not_found >= UNCOVERED_SHARE * checked


def _registry_cache() -> Path:
    from datavask.flows.orchestration import datavask_home

    return datavask_home() / "cache"


def _registry_ahead(
    options: CleanseOptions, source: str
) -> contextlib.AbstractContextManager[None]:
    """The local engine parses a registry snapshot while it reads and normalises the input."""
    if options.engine != "local":
        return contextlib.nullcontext()
    from datavask.connectors.cvr import warm_registry

    return warm_registry(source, cache_dir=_registry_cache())


def registry_view(frame: pl.DataFrame) -> pl.DataFrame:
    """The records as the registry says they are now, for matching.

    A renamed or moved company is compared under its current name and address, so the first
    run already merges what the re-import would make identical (and a rerun finds the same
    clusters). The records themselves keep their own cleaned values.
    """
    if not any(c.startswith("registry_proposed_") for c in frame.columns):
        return frame
    from datavask.cleansing.addresses import address_key, street_key
    from datavask.cleansing.names import name_key
    from datavask.cleansing.survivorship import (
        REGISTRY_APPLIED,
        apply_registry_proposals,
        registry_name_where_missing,
    )

    view = registry_name_where_missing(apply_registry_proposals(frame))
    changed = pl.col(REGISTRY_APPLIED).list.len() > 0
    rekeyed = (
        view.with_row_index("_row")
        .filter(changed)
        .with_columns(name_key=name_key(pl.col("name")), street_key=street_key(pl.col("street")))
        .with_columns(address_key=address_key())
        .select("_row", "name_key", "street_key", "address_key")
    )
    return view.with_row_index("_row").update(rekeyed, on="_row").drop("_row", REGISTRY_APPLIED)


def _match_input(frame: pl.DataFrame, work: str) -> pl.DataFrame:
    """The columns of the records (as the registry says they are now) that the matcher reads."""
    from datavask.cleansing.matching.prepare import EVIDENCE_PREFIX, INPUT_COLUMNS

    view = with_evidence(registry_view(frame), work)
    return view.select(
        c for c in view.columns if c in INPUT_COLUMNS or c.startswith(EVIDENCE_PREFIX)
    )


def link_sources(sources: pl.Series) -> list[str]:
    """run.json ``steps.match.link_sources``: the ``[link]`` sources, sorted (the run pairs only
    records of different ones when there are two or more)."""
    return sorted(sources.drop_nulls().unique().to_list())


def _read_link_sources(registered: Path, work: str) -> list[str] | None:
    """:func:`link_sources` of the records in ``registered``, read from the ``[link]`` column
    alone as the matcher's ``source`` is made from it (:func:`add_evidence`); None without one."""
    column = evidence_columns(work).get("source")
    if column is None:
        return None
    linked = add_evidence(pl.read_parquet(registered, columns=[column], glob=False),
                          {"source": column})  # fmt: skip
    return link_sources(linked["source"])


def match_step(work: str, options: dict[str, Any]) -> dict[str, Any]:
    from datavask.cleansing.matching import find_duplicates
    from datavask.cleansing.matching.threads import beside
    from datavask.cleansing.schema import MATCH_ONLY_COLUMNS

    registered = Path(work, "registered.parquet")
    band = options.get("review_band")  # None: the band the model derives for this file
    decisions = None
    if options.get("decisions"):
        from datavask.connectors.decisions import read_decisions

        decisions = read_decisions(Path(options["decisions"]))
    sources = _read_link_sources(registered, work)
    # The frame goes to the matcher unbound here: the matcher lets it go once its records are
    # prepared (a name kept here held about 0.4 GB more through the whole step at 1M).
    result = find_duplicates(
        _match_input(pl.read_parquet(registered, glob=False), work),
        review_band=(band[0], band[1]) if band else None,
        decisions=decisions,
        truth=truth_labels(work, options),
    )
    # The whole record is never held here: the clusters join it on its way from
    # registered.parquet to matched.parquet, a chunk at a time. Read whole beside what the
    # matcher had just let go, it made the run's peak (3.8 GB at 1M records, 1-2 s). The person
    # identifier's hash and the keys are matching evidence only: they go no further.
    columns = [c for c in pl.read_parquet_schema(registered) if c not in MATCH_ONLY_COLUMNS]
    clusters = result.clusters  # one row per record, in input order
    order = pl.read_parquet(registered, columns=["record_id"], glob=False)["record_id"]
    if not clusters["record_id"].equals(order):
        raise AssertionError("matching returned clusters out of input order")
    matched = pl.concat(
        [
            pl.scan_parquet(registered, glob=False).select(columns),
            clusters.drop("record_id").lazy(),
        ],
        how="horizontal",
    )
    with beside(lambda: _write_work(result.pairs, Path(work, "pairs.parquet"))) as pairs:
        _write_work(matched, Path(work, "matched.parquet"))
        pairs.result()
    return {
        "pairs": result.pairs.height,
        "clusters": clusters["cluster_id"].n_unique(),
        "substeps": {name: round(seconds, 3) for name, seconds in result.substeps.items()},
        "review_band": result.review_band.record() if result.review_band else None,
        "blocking": result.blocking_report.to_dicts(),
        "oversized_blocks": result.oversized_blocks.head(50).to_dicts(),
        **({"link_sources": sources} if sources is not None else {}),
        **({"evaluation": result.evaluation} if result.evaluation is not None else {}),
        **(
            {"decisions": _decisions_detail(work, result.decisions)}
            if decisions is not None
            else {}
        ),
    }


def _decisions_detail(work: str, report: dict[str, Any]) -> dict[str, Any]:
    """The matcher's decision report, warning when record ids are only row numbers."""
    mapping = json.loads(Path(work, "input.json").read_text(encoding="utf-8")).get("mapping") or {}
    if report and "record_id" not in mapping:
        report["warning"] = (
            "the input has no id column, so the decisions refer to row numbers: "
            "they fit only an input with the same rows in the same order"
        )
    return report


def verdict_step(work: str, options: dict[str, Any]) -> dict[str, Any]:
    from datavask.cleansing.blacklist import match_blacklist
    from datavask.cleansing.changes import (
        build_changes,
        changes_columns,
        changes_view,
        input_shaped,
        written_back,
    )
    from datavask.cleansing.survivorship import (
        apply_golden,
        golden_applied_columns,
        golden_view,
        mark_survivors,
    )
    from datavask.connectors.mapping import postal_code_with_town

    # In one chunk: the verdict's first with_columns would otherwise copy every column of a frame
    # read in several (as the rechunk does here), and the golden records, made beside the verdict
    # from its input, would keep that input alive beside the copy (+0.26 GB at 200,000 records).
    frame = pl.read_parquet(Path(work, "matched.parquet"), glob=False).rechunk()
    detail: dict[str, Any] = {}
    hits = None
    if options.get("blacklist"):
        clean, problems = read_blacklist(options["blacklist"])
        hits = match_blacklist(frame, clean)
        detail["blacklist"] = blacklist_detail(clean, problems, hits)
    if options.get("monitor_state"):
        frame = _with_monitor_state(frame, Path(options["monitor_state"]))
    frame, golden = _verdict_and_golden(frame, hits)
    frame = mark_survivors(frame, golden)
    mapping = json.loads(Path(work, "input.json").read_text(encoding="utf-8"))["mapping"]
    mapped = written_back(mapping)
    # The step's files are written in the background while the next frame is made: the frames
    # are not changed once made, and the Parquet writer lets go of the GIL.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="verdict-write") as writer:
        written = [
            # Only the columns the write step reads cross to it: the raw_ values, keys and flag_
            # columns are about half the record's bytes, written and read back for nothing.
            writer.submit(_write_work, records_view(frame), Path(work, "final.parquet")),
            writer.submit(_write_work, golden, Path(work, "golden.parquet")),
        ]
        # changes.csv lists exactly what the re-import writes: survivors carry their golden
        # values. Both read the same values shaped like the input, made once here, from the
        # columns that applying the golden values and the changes read. Only the writer holds
        # the rest of the record and of the golden rows from here on, and lets go of each once
        # it is written: held to the end of the step beside the golden values applied, they
        # were the run's peak memory (1.7 GB of records and 0.9 GB of golden rows at 1M, where
        # 1.1 GB and 0.6 GB are read).
        read = {*golden_applied_columns(frame.columns), *changes_columns(frame.columns)}
        records = frame.select(c for c in frame.columns if c in read)
        golden = golden_view(golden)
        del frame
        applied = changes_view(apply_golden(records, golden))
        del records, golden
        shaped = input_shaped(applied, mapped=mapped, postal_town=postal_code_with_town(mapping))
        written.append(writer.submit(_write_work, shaped, Path(work, SHAPED)))
        changes = build_changes(applied, mapped=mapped, shaped=shaped)
        _write_work(changes, Path(work, "changes.parquet"))
        for done in written:
            done.result()
    return detail


def _verdict_and_golden(
    frame: pl.DataFrame, hits: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The matched records ``frame`` with the verdict
    (:func:`~datavask.cleansing.verdict.apply_verdict`), and their golden records.

    The golden records read nothing the verdict decides (its flags, and the two mismatch flags
    it only fills, which survivorship reads as false where null): they are made beside it.
    """
    from datavask.cleansing.matching.threads import beside
    from datavask.cleansing.survivorship import build_golden
    from datavask.cleansing.verdict import apply_verdict

    with beside(functools.partial(build_golden, frame)) as golden_made:
        verdict = apply_verdict(frame, blacklist_hits=hits)
    return verdict, golden_made.result()


def _write_work(frame: pl.DataFrame | pl.LazyFrame, path: Path) -> None:
    """One of the local run's work files (read back by a later step of this run only); a lazy
    frame is written as it is made, a chunk at a time."""
    if isinstance(frame, pl.LazyFrame):
        frame.sink_parquet(path, **LOCAL_WORK)
    else:
        frame.write_parquet(path, **LOCAL_WORK)


# The local engine runs its steps one after another in this process, and the frames the read
# step leaves for normalise (canonical.parquet) and normalise for the registry step
# (normalised.parquet) are read by that next step only. With HAND_OVER in the step options they
# stay in memory under the path they would have been written to: at 200,000 records writing and
# reading the two files back took 0.9 s of CPU, all of it on the run's critical path. The work
# files of the later steps are still written (several steps read them, and held in memory
# they would add to the match step's peak). The Dask engine's driver reads canonical.parquet
# itself, so without the option the file is written as before.
HAND_OVER: Final = "_hand_over"
_handed: dict[Path, pl.DataFrame] = {}


def _leave(frame: pl.DataFrame, path: Path, options: dict[str, Any]) -> None:
    """``frame`` for the next step, as ``path`` or (:data:`HAND_OVER`) in memory."""
    if options.get(HAND_OVER):
        _handed[path] = frame
    else:
        _write_work(frame, path)


def _take(path: Path) -> pl.DataFrame:
    """The frame the previous step left as ``path`` (see :func:`_leave`)."""
    frame = _handed.pop(path, None)
    return pl.read_parquet(path, glob=False) if frame is None else frame


@contextlib.contextmanager
def _handing_over(work: Path) -> Iterator[None]:
    """Frames left in memory under ``work`` are let go when the run ends, also a failed one."""
    try:
        yield
    finally:
        for path in [p for p in _handed if p.parent == work]:
            _handed.pop(path, None)


# The verdict's cleaned values shaped like the input (cleansing.changes.input_shaped), for the
# re-import. The Dask engine's verdict does not leave it; the re-import then shapes them itself.
SHAPED: Final = "shaped.parquet"


def read_blacklist(path: str) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """The blacklist normalised for matching, and the entries it could not use."""
    from datavask.cleansing.blacklist import normalise_blacklist
    from datavask.cleansing.cpr import mask_cpr
    from datavask.cleansing.schema import flag
    from datavask.connectors.files import OVERFLOW_COLUMN, read_table

    table, row_problems, _ = read_table(path)
    # Masked like the input: run.json quotes the entries it could not use.
    table = mask_cpr(table, person_text=frozenset({"name", "address", "email"}))
    table = table.drop(flag("CPR_IN_DATA"))
    clean, problems = normalise_blacklist(table.drop("source_row", OVERFLOW_COLUMN, strict=False))
    shape_problems = [
        {"row": row, "column": None, "value": None, "problem": problem}
        for row, problem in sorted(row_problems.items())
    ]
    return clean, shape_problems + problems.to_dicts()


def blacklist_detail(
    clean: pl.DataFrame, problems: list[dict[str, Any]], hits: pl.DataFrame
) -> dict[str, Any]:
    hit = hits["record_id"].n_unique()
    return {"entries": clean.height, "problems": problems, "records_hit": hit}


def _recent_alerts(cvr: pl.Series, state: Path) -> pl.DataFrame:
    """The monitor's alerts of the last 90 days for the CVR numbers of the records (``cvr``)."""
    from datetime import timedelta

    from datavask.flows.monitor_steps import read_monitor_state

    _, history = read_monitor_state(state)
    since = (datetime.now(UTC) - timedelta(days=90)).isoformat(timespec="seconds")
    cvrs = cvr.drop_nulls().unique()
    return history.filter(
        pl.col("cvr").is_in(cvrs.implode()) & (pl.col("detected_at").cast(pl.String) >= since)
    )


def _with_monitor_state(frame: pl.DataFrame, state: Path) -> pl.DataFrame:
    from datetime import timedelta

    from datavask.cleansing.monitoring import apply_monitor_state
    from datavask.flows.monitor_steps import read_monitor_state

    current, history = read_monitor_state(state)
    since = (datetime.now(UTC) - timedelta(days=90)).isoformat(timespec="seconds")
    return apply_monitor_state(frame, current, history, since=since)


# Columns of records.parquet, in order: the contract's, then what users asked for beyond it.
RECORD_COLUMNS = (
    "record_id", "source_row", "cluster_id", "is_survivor", "customer_type", "name", "legal_form",
    "street", "house_number", "floor", "door", "postal_code", "city", "phone_e164", "email", "cvr",
    "ean", "registry_status", "registry_name", "flags", "invoice_ready", "collection_ready",
    # additions (contract: add, never rename)
    "cluster_size", "first_name", "last_name", "country", "vat_number", "co_name", "po_box",
    "phone_numbers", "phone_extension", "emails", "reklamebeskyttet", "source_problem",
    "date_of_birth", "date_of_birth_invalid", "updated_at", "updated_at_invalid",
    "monitor_alerts", "address_extra",
)  # fmt: skip


def records_view(frame: pl.DataFrame) -> pl.DataFrame:
    """The records.parquet columns: contract columns, additions, then every ``src_*`` original."""
    present = [c for c in RECORD_COLUMNS if c in frame.columns]
    return frame.select(*present, pl.col("^src_.*$"))


def write_step(work: str, options: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    from datavask.connectors.output import atomic_dir

    out = Path(options["out"])
    # Seconds per output, in run.json's steps.write: a large run's write is most of its wait.
    seconds: dict[str, float] = {}
    run["steps"]["write"] = {"seconds": seconds}
    timed = Stopwatch(seconds)
    with atomic_dir(out) as tmp:
        # The tables' frames are let go before the report is built: held beside its view model
        # they were the run's peak memory. Only the CVR numbers stay, for the monitor.
        cvrs = _write_tables(tmp, work, options, run, timed)
        finish_run_dir(tmp, run, options, timed, cvrs=lambda: cvrs)
    return {"out": str(out)}


def _write_tables(
    tmp: Path, work: str, options: dict[str, Any], run: dict[str, Any], timed: Stopwatch
) -> pl.Series:
    """records/golden/pairs, changes.csv and the re-import into ``tmp``, run.json's counts into
    ``run``; returns the records' CVR numbers."""
    from datavask.cleansing.matching.threads import beside
    from datavask.cleansing.verdict import flag_counts
    from datavask.connectors.output import write_excel_csv, write_table
    from datavask.connectors.reimport import write_reimport
    from datavask.connectors.report_model import report_counts

    frame = with_originals(pl.read_parquet(Path(work, "final.parquet"), glob=False), work)
    golden = pl.read_parquet(Path(work, "golden.parquet"), glob=False)
    pairs = pl.read_parquet(Path(work, "pairs.parquet"), glob=False)
    changes = pl.read_parquet(Path(work, "changes.parquet"), glob=False)
    shaped_path = Path(work, SHAPED)
    shaped = pl.read_parquet(shaped_path, glob=False) if shaped_path.exists() else None
    records = records_view(frame)
    run["counts"] = run_counts(frame, run)
    run["flags"] = flag_counts(frame)
    run["counts"] |= report_counts(frame, pairs)  # customers, not only records

    def reimport() -> None:
        with timed("reimport"):
            write_reimport(
                tmp, frame, golden, pairs, input_info=run["input"],
                only_changed=options["only_changed"], shaped=shaped,
                # the file by its own name: run["input"] names it with a CPR number masked
                source=str(options["input"]),
            )  # fmt: skip

    # The re-import is written beside the tables: each output is its own file, read from frames
    # nobody changes, and polars and zlib let go of the GIL, so the two cores share the work.
    with beside(reimport) as reimported:
        with timed("records_golden_pairs"):
            write_table(records, tmp / "records.parquet")
            write_table(golden, tmp / "golden.parquet")
            write_table(pairs, tmp / "pairs.parquet")
        with timed("changes_csv"):
            write_excel_csv(changes, tmp / "changes.csv")  # for people: Danish Excel opens it
        if options["format"] != "parquet":
            with timed(f"records_golden_{options['format']}"):
                write_table(records, tmp / f"records.{options['format']}")
                write_table(golden, tmp / f"golden.{options['format']}")
        reimported.result()
    return frame.get_column("cvr")


def finish_run_dir(
    tmp: Path,
    run: dict[str, Any],
    options: dict[str, Any],
    timed: Stopwatch,
    *,
    cvrs: Callable[[], pl.Series],
    render: Callable[..., Any] | None = None,
) -> None:
    """run.json, report.html and worklist.xlsx into the run directory being written, once the
    tables are there (both engines); ``cvrs`` gives the records' CVR numbers, for the monitor.
    ``render``: what writes the report (``render_report``'s arguments; the Dask engine's runs it
    on a worker), else :func:`~datavask.connectors.report.render_report` here."""
    from datavask.connectors.output import write_json
    from datavask.connectors.report import render_report

    run["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    write_json(run, tmp / "run.json")
    alerts = (
        _recent_alerts(cvrs(), Path(options["monitor_state"]))
        if options.get("monitor_state")
        else None
    )
    # report.html and worklist.xlsx, with the monitor's recent alerts for these customers
    with timed("report_worklist"):
        (render or render_report)(tmp, lang=options.get("lang", "da"), alerts=alerts)
    write_json(run, tmp / "run.json")  # again, with the report's seconds


class Stopwatch:
    """``with stopwatch("part"):`` adds the block's seconds to a dict under that name."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self._seconds = seconds

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self._seconds[name] = round(time.perf_counter() - started, 3)


def record_counts(frame: pl.DataFrame) -> dict[str, int]:
    """run.json's counts of records and customers; sums over partitions of whole customers."""
    from datavask.cleansing.cpr import MASK

    # Only the cluster column is filtered: filtering the record copied all of its columns.
    multi = frame.select("cluster_id").filter(frame.get_column("cluster_size") > 1)
    return {
        "records": frame.height,
        "customers": frame["cluster_id"].n_unique(),
        "duplicate_records": int(multi.height - multi["cluster_id"].n_unique()),
        "clusters_with_duplicates": multi["cluster_id"].n_unique(),
        "invoice_ready": int(frame["invoice_ready"].sum()),
        "collection_ready": int(frame["collection_ready"].sum()),
        "rows_with_input_problems": int(frame["source_problem"].is_not_null().sum()),
        # customer numbers that are CPR numbers: masked, so the CRM cannot find these rows again
        "rows_with_masked_id": int(frame["record_id"].str.contains(MASK, literal=True).sum()),
    }


def run_counts(frame: pl.DataFrame, run: dict[str, Any]) -> dict[str, int]:
    return counts_of_run(record_counts(frame), run)


def counts_of_run(records: dict[str, int], run: dict[str, Any]) -> dict[str, int]:
    """run.json's counts: :func:`record_counts` and what the read and registry steps counted."""
    registry = run.get("steps", {}).get("registry", {})
    first = ("records", "customers", "duplicate_records", "clusters_with_duplicates")
    return {
        **{key: records[key] for key in (*first, "invoice_ready", "collection_ready")},
        "registry_checked": int(registry.get("checked", 0)),
        "registry_unchecked": int(registry.get("unchecked", 0)),
        "registry_not_found": int(registry.get("not_found", 0)),
        "rows_with_input_problems": records["rows_with_input_problems"],
        "rows_with_masked_id": records["rows_with_masked_id"],
        # customer numbers as the input has them: blank ones, and ones several rows share
        "rows_without_id": int(run.get("input", {}).get("ids_missing", 0)),
        "repeated_ids": int(run.get("input", {}).get("ids_repeated", 0)),
        "rows_with_repeated_id": int(run.get("input", {}).get("rows_with_repeated_id", 0)),
        # what of the input was read differently from the rest, or not at all
        "lines_in_other_encoding": int(run.get("input", {}).get("fallback_line_count", 0)),
        "sheets_not_read": len(run.get("input", {}).get("sheets_not_read") or []),
    }


# --------------------------------------------------------------------------- the pipeline


def _versions() -> dict[str, str]:
    names = ("datavask", "polars", "rapidfuzz", "phonenumbers", "httpx", "prefect", "python-stdnum",
             "email-validator")  # fmt: skip
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def run_pipeline(
    options: CleanseOptions,
    *,
    orchestrated: bool,
    orchestration_note: str = "",
    reporter: Reporter = _quiet_reporter,
    dask_client: Any = None,
) -> dict[str, Any]:
    """Run every step; returns run.json's content. Steps become Prefect tasks when orchestrated.

    ``dask_client``: for ``engine = "dask"``, a client the caller opened and closes (a Prefect
    flow's ``DaskTaskRunner``); None: the engine connects or starts a local cluster itself.
    """
    opts = asdict(options) | {"registry_source": options.registry_source()}
    opts["review_band"] = list(options.review_band) if options.review_band else None
    from datavask.cleansing.cpr import mask_message
    from datavask.connectors.sources import redact_url

    recorded = {k: v for k, v in opts.items() if k != "registry_source"}
    recorded |= {"registry": opts["registry_source"], "input": redact_url(options.input)}
    recorded = {k: mask_message(v) if isinstance(v, str) else v for k, v in recorded.items()}
    # The local engine hands the read and normalise steps' frames on in memory (see _leave).
    opts[HAND_OVER] = options.engine == "local"
    run: dict[str, Any] = {
        "datavask_version": _versions()["datavask"],
        "run_id": uuid.uuid4().hex,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": recorded,
        "orchestration": orchestration_note,
        "versions": _versions(),
        # the pool polars really uses: --workers only takes effect before polars is imported
        "threads": pl.thread_pool_size(),
        "timings": {},
        "steps": {},
    }

    def call(name: str, fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        reporter(name, "start", None)
        started = time.perf_counter()
        if orchestrated:
            from prefect import task  # imported only when orchestrated: a plain run stays fast
            from prefect.cache_policies import NONE

            from datavask.flows.log_masking import masking_failures

            # a library's error can quote a cell: no CPR number in the task's failed state
            step = masking_failures(fn)
            result = task(name=name, cache_policy=NONE, persist_result=False)(step)(*args)
        else:
            result = fn(*args)
        seconds = time.perf_counter() - started
        run["timings"][name] = round(seconds, 3)
        reporter(name, "done", seconds)
        return result

    from datavask.connectors.scratch import work_dir

    with (
        work_dir() as path,
        _engine(options, dask_client) as steps,
        _registry_ahead(options, opts["registry_source"]),
        _handing_over(path),
    ):
        work = str(path)
        run["input"] = call("read", steps.read_step, work, opts)
        if report := getattr(steps, "report", None):
            run["engine"] = report()  # where the Dask engine read the input, and why
        run["steps"]["normalise"] = call("normalise", steps.normalise_step, work, opts)
        run["steps"]["registry"] = call("registry", steps.registry_step, work, opts)
        run["steps"]["match"] = call("match", steps.match_step, work, opts)
        run["steps"]["verdict"] = call("verdict", steps.verdict_step, work, opts)
        run["timings"]["total_before_write"] = round(sum(run["timings"].values()), 3)
        # the Dask engine writes from the parts its workers wrote; the rest as written here
        call("write", getattr(steps, "write_step", write_step), work, opts, run)
    if orchestrated:
        _publish_artifacts(run)
    return run


@contextlib.contextmanager
def _engine(options: CleanseOptions, client: Any = None) -> Iterator[Any]:
    """The normalise … verdict steps of ``options.engine``: this module's, or the Dask engine's
    (the same stage functions on partitions, on a cluster that lives as long as the block)."""
    if options.engine != "dask":
        yield SimpleNamespace(
            read_step=read_step, normalise_step=normalise_step, registry_step=registry_step,
            match_step=match_step, verdict_step=verdict_step,
        )  # fmt: skip
        return
    from datavask.flows.engine_dask import dask_engine

    with dask_engine(options.dask_address, workers=options.workers, client=client) as engine:
        yield engine


def _publish_artifacts(run: dict[str, Any]) -> None:
    """The run's summary as Prefect artifacts, visible beside the flow run in the Prefect UI."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    from datavask.connectors.report import summary_markdown, summary_table

    lang = run.get("options", {}).get("lang", "da")
    create_markdown_artifact(summary_markdown(run, lang), key="datavask-summary")
    create_table_artifact(summary_table(run, lang), key="datavask-flags")


# The terminal's progress display; a module global because flow parameters must be plain data.
_reporter: Reporter = _quiet_reporter


def set_reporter(reporter: Reporter | None) -> None:
    global _reporter  # noqa: PLW0603 - one display per process, set by the command line
    _reporter = reporter or _quiet_reporter


def __getattr__(name: str) -> Any:
    # The Prefect flow lives in cleanse_flow.py so that importing this module does not import
    # Prefect (seconds on a small machine); ``from datavask.flows.cleanse import cleanse_flow``
    # keeps working.
    if name == "cleanse_flow":
        from datavask.flows.cleanse_flow import cleanse_flow

        return cleanse_flow
    raise AttributeError(name)
