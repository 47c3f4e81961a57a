"""The Dask engine's verdict and write: whole customers on the workers, then the contract's files
assembled from the parts the workers wrote, the driver never holding all records.

======================  =========================================================================
verdict (workers)       every row partition splits by ranges of ``cluster_id`` (the bounds cut a
                        sample of each partition's keys evenly); each bucket of whole customers
                        runs the verdict, survivorship, the values shaped for the re-import and the
                        changes, and counts what run.json counts (sums over whole customers)
golden (workers)        each bucket writes its golden rows, sorted by ``cluster_id``: the buckets
                        are ranges of it, so their parts one after the other are golden.parquet
records (workers)       each bucket sends its records, changes and shaped values back to the row
                        partitions they came from; each row partition puts them in input order,
                        joins the input columns no stage read (its slice of originals.parquet) and
                        writes its part of records.parquet, changes.csv and customers_update.csv
write (driver)          the parts in order, streamed into the run directory (Parquet through
                        ``sink_parquet``, CSV byte for byte: only the first part has a header);
                        merge_plan.csv from the customers of several records; run.json from the
                        buckets' counts
report (a worker)       report.html and worklist.xlsx, which read every record, from the run
                        directory being written, when the worker sees it (else on the driver)
======================  =========================================================================

The parts live in the run's work directory (``parts/``), removed with it; the run directory is
published atomically as locally. Workers that do not see the work directory (a cluster without a
shared file system) hand each part to the driver instead, one at a time, which writes it with the
same functions.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from datavask.cleansing.partitioning import (
    POSITION,
    by_row_partition,
    changes_by_position,
    changes_in_input_order,
    cluster_ranges,
    in_input_order,
    key_sample,
    range_bounds,
)
from datavask.flows.engine_dask_spill import reads_handles

PARTS = "parts"
KEY_SAMPLE = 256  # cluster keys per row partition for the range bounds
Submit = Callable[..., Any]  # (stage, i, fn, *args) -> future

# --------------------------------------------------------------------------- on the workers


@reads_handles  # a handle in, the handle out: the task that reads the piece reads its file
def _item(values: Sequence[Any], index: int) -> Any:
    return values[index]


def _key_sample(part: pl.DataFrame) -> pl.Series:
    return key_sample(part, KEY_SAMPLE)


def _ranges(part: pl.DataFrame, bounds: pl.Series) -> list[pl.DataFrame]:
    return cluster_ranges(part, bounds)


def bucket_counts(frame: pl.DataFrame) -> dict[str, dict[str, int]]:
    """What run.json counts of one bucket of whole customers (sums over buckets)."""
    from datavask.cleansing.verdict import flag_counts
    from datavask.connectors.report_model import customer_counts
    from datavask.flows.cleanse import record_counts

    return {
        "records": record_counts(frame),
        "customers": customer_counts(frame),
        "flags": flag_counts(frame),
    }


def summed(counts: Sequence[dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    """:func:`bucket_counts` of several buckets added up, keys in their first order."""
    total: dict[str, dict[str, int]] = {}
    for bucket in counts:
        for kind, values in bucket.items():
            into = total.setdefault(kind, {})
            for key, n in values.items():
                into[key] = into.get(key, 0) + n
    return total


def _verdict_bucket(
    pieces: Sequence[pl.DataFrame],
    hits: pl.DataFrame | None,
    monitor: tuple[pl.DataFrame, pl.DataFrame, str] | None,
    mapped: list[str],
    postal_town: bool = False,
) -> dict[str, Any]:
    """Verdict, golden records, survivors, shaped values and changes of one bucket of whole
    customers, as the local verdict step makes them for all, and the bucket's counts
    (``postal_town``: :func:`~datavask.cleansing.changes.input_shaped`'s)."""
    from datavask.cleansing.changes import input_shaped
    from datavask.cleansing.survivorship import apply_golden, build_golden, mark_survivors
    from datavask.cleansing.verdict import apply_verdict

    frame = pl.concat(list(pieces), how="vertical").sort(POSITION)
    if monitor is not None:
        from datavask.cleansing.monitoring import apply_monitor_state

        current, history, since = monitor
        frame = apply_monitor_state(frame, current, history, since=since)
    frame = apply_verdict(frame, blacklist_hits=hits)
    golden = build_golden(frame).sort("cluster_id")
    frame = mark_survivors(frame, golden)
    applied = apply_golden(frame, golden)
    shaped = input_shaped(applied, mapped=set(mapped), postal_town=postal_town)
    changes = changes_by_position(applied, mapped=set(mapped), shaped=shaped)
    return {
        "records": frame,
        "golden": golden,
        "changes": changes,
        "shaped": shaped.with_columns(frame.get_column(POSITION)),
        "counts": bucket_counts(frame),
    }


@reads_handles  # the counts only: the bucket's frames stay in their files
def _counts(bucket: dict[str, Any]) -> dict[str, dict[str, int]]:
    return bucket["counts"]


def _golden(bucket: dict[str, Any]) -> pl.DataFrame:
    return bucket["golden"]


def _back_to_rows(bucket: dict[str, Any], offsets: list[int]) -> list[dict[str, pl.DataFrame]]:
    """The bucket's records, changes and shaped values by the row partition they came from."""
    kinds = ("records", "changes", "shaped")
    split = [by_row_partition(bucket[kind], offsets) for kind in kinds]
    return [dict(zip(kinds, pieces, strict=True)) for pieces in zip(*split, strict=True)]


@dataclass(frozen=True)
class PartJob:
    """Where one part goes and how it is written: part ``index`` of each output."""

    index: int
    work: str
    formats: tuple[str, ...] = ()  # "csv": records and golden also as CSV parts
    offset: int = 0  # the row partition's first input position
    src_order: tuple[str, ...] = ()
    input_info: Any = None
    only_changed: bool = False

    def path(self, output: str) -> Path:
        return part_path(self.work, output, self.index)


# The parts of each output: (folder, suffix); the suffix says the format to write.
PART_KINDS = {
    "records": ".parquet",
    "records-csv": ".csv",
    "golden": ".parquet",
    "golden-csv": ".csv",
    "changes": ".csv",
    "update": ".csv",
    "update-parquet": ".parquet",
    "update-read": ".parquet",
}


def parts_dir(work: str, output: str) -> Path:
    return Path(work, PARTS, output)


def part_path(work: str, output: str, index: int) -> Path:
    return Path(work, PARTS, output, f"part-{index:05d}{PART_KINDS[output]}")


def write_golden_part(golden: pl.DataFrame, job: PartJob) -> int:
    """One bucket's golden rows as its parts of golden.parquet (and golden.csv)."""
    from datavask.connectors.output import replace_atomically, write_table

    replace_atomically(job.path("golden"), lambda tmp: write_table(golden, tmp))
    if "csv" in job.formats:
        header = job.index == 0
        replace_atomically(
            job.path("golden-csv"), lambda tmp: write_table(golden, tmp, header=header)
        )
    return golden.height


def _write_golden(bucket: dict[str, Any], job: PartJob) -> int:
    return write_golden_part(bucket["golden"], job)


def write_row_part(pieces: Sequence[dict[str, pl.DataFrame]], job: PartJob) -> int:
    """Records, changes and the re-import's rows of one row partition, in input order, written
    as that partition's parts (the first with the CSV headers); returns the rows written."""
    from datavask.connectors.output import replace_atomically, write_excel_csv, write_table
    from datavask.connectors.reimport import customers_update, like_input_csv, rows_as_read
    from datavask.flows.cleanse import joined_originals, records_view

    records = in_input_order([p["records"] for p in pieces])
    changes = changes_in_input_order([p["changes"] for p in pieces])
    shaped = in_input_order([p["shaped"] for p in pieces])
    originals = (
        pl.scan_parquet(Path(job.work, "originals.parquet"), glob=False)
        .slice(job.offset, records.height)
        .collect()
    )
    frame = joined_originals(records, originals, list(job.src_order))
    header = job.index == 0
    view = records_view(frame)
    replace_atomically(job.path("records"), lambda tmp: write_table(view, tmp))
    if "csv" in job.formats:
        replace_atomically(
            job.path("records-csv"), lambda tmp: write_table(view, tmp, header=header)
        )
    replace_atomically(
        job.path("changes"), lambda tmp: write_excel_csv(changes, tmp, header=header)
    )
    update, changed = customers_update(frame, None, input_info=job.input_info, shaped=shaped)
    workbook = job.input_info.get("format") == "xlsx"
    only = changed if job.only_changed else None
    read = rows_as_read(frame, update, job.input_info, only=only) if workbook else None
    if job.only_changed:
        update = update.filter(changed)
    data = like_input_csv(update, job.input_info, header=header)
    replace_atomically(job.path("update"), lambda tmp: tmp.write_bytes(data))
    if read is not None:  # customers_update.xlsx: from these parts, its cells as they were read
        replace_atomically(job.path("update-parquet"), update.write_parquet)
        replace_atomically(job.path("update-read"), read.write_parquet)
    return records.height


def _write_row_part(pieces: Sequence[dict[str, pl.DataFrame]], job: PartJob) -> int:
    return write_row_part(pieces, job)


def _sees(work: str, token: str) -> bool:
    try:
        return Path(work, ".dask-token").read_text(encoding="utf-8") == token
    except OSError:
        return False


# --------------------------------------------------------------------------- on the driver


@dataclass
class Tasks:
    """How the driver reaches the workers: ``submit(stage, i, fn, *args)`` a task (its key names
    the stage and index), ``gather`` results, and whether the workers see the work directory."""

    submit: Submit
    gather: Callable[[Any], Any]
    shared: bool = True


@dataclass
class Verdict:
    """The buckets of whole customers (futures on the workers) and their counts, added up."""

    buckets: list[Any]
    counts: dict[str, dict[str, int]]


def verdict_in_buckets(
    tasks: Tasks,
    parts: Sequence[Any],
    *,
    hits: pl.DataFrame | None,
    monitor: tuple[pl.DataFrame, pl.DataFrame, str] | None,
    mapped: list[str],
    postal_town: bool = False,
) -> Verdict:
    """Submit the verdict per bucket of whole customers (ranges of ``cluster_id``) of the row
    partitions ``parts``; the results stay on the workers, only their counts come back."""
    submit, gather = tasks.submit, tasks.gather
    samples = gather([submit("vsample", i, _key_sample, p) for i, p in enumerate(parts)])
    bounds = range_bounds(samples, len(parts))
    split = [submit("vsplit", i, _ranges, p, bounds) for i, p in enumerate(parts)]
    buckets = []
    for b in range(bounds.len() + 1):
        pieces = [submit(f"vpiece{b}", i, _item, s, b) for i, s in enumerate(split)]
        buckets.append(
            submit("verdict", b, _verdict_bucket, pieces, hits, monitor, mapped, postal_town)
        )
    counts = gather([submit("vcounts", b, _counts, f) for b, f in enumerate(buckets)])
    return Verdict(buckets, summed(counts))


def sees_work_dir(client: Any, work: str) -> bool:
    """Whether every worker sees the run's work directory (a shared file system, or one machine)."""
    token = secrets.token_hex(8)
    Path(work, ".dask-token").write_text(token, encoding="utf-8")
    workers = list(client.scheduler_info(n_workers=-1)["workers"])
    seen = [client.submit(_sees, work, token, workers=[w], pure=False) for w in workers]
    return all(client.gather(seen))


def write_parts(
    tasks: Tasks,
    verdict: Verdict,
    *,
    offsets: Sequence[int],
    work: str,
    options: dict[str, Any],
    input_info: dict[str, Any],
) -> tuple[int, int]:
    """Every part of every output in ``work/parts``: written by the workers when they see the
    work directory, else handed to the driver one at a time. Returns the counts of golden and
    row parts."""
    submit, gather, shared = tasks.submit, tasks.gather, tasks.shared
    for kind in PART_KINDS:
        parts_dir(work, kind).mkdir(parents=True)
    formats = ("csv",) if options["format"] == "csv" else ()
    order = json.loads(Path(work, "src_columns.json").read_text(encoding="utf-8"))
    goldens = [PartJob(b, work, formats) for b in range(len(verdict.buckets))]
    rows = [
        PartJob(i, work, formats, offset, tuple(order), input_info, bool(options["only_changed"]))
        for i, offset in enumerate(offsets)
    ]
    back = [
        submit("wback", b, _back_to_rows, f, list(offsets)) for b, f in enumerate(verdict.buckets)
    ]
    done = []
    for job, bucket in zip(goldens, verdict.buckets, strict=True):
        if shared:
            done.append(submit("wgolden", job.index, _write_golden, bucket, job))
        else:
            write_golden_part(gather(submit("wgolden", job.index, _golden, bucket)), job)
    for job in rows:
        pieces = [submit(f"wrows{job.index}", b, _item, f, job.index) for b, f in enumerate(back)]
        if shared:
            done.append(submit("wpart", job.index, _write_row_part, pieces, job))
        else:
            write_row_part(gather(pieces), job)
    gather(done)
    return len(goldens), len(rows)


def pairs_files(work: str) -> list[Path]:
    """The match step's pairs: one file, or parts of one."""
    whole = Path(work, "pairs.parquet")
    return [whole] if whole.exists() else sorted(Path(work, "pairs").glob("part-*.parquet"))


def _pairs_to_review(pairs: list[Path]) -> int:
    if not pairs or "decision" not in pl.scan_parquet(pairs[0], glob=False).collect_schema():
        return 0
    review = pl.scan_parquet(pairs, glob=False).filter(pl.col("decision") == "review")
    return int(review.select(pl.len()).collect().item())


def write_step(
    tasks: Tasks,
    verdict: Verdict,
    *,
    offsets: Sequence[int],
    work: str,
    options: dict[str, Any],
    run: dict[str, Any],
) -> dict[str, Any]:
    """The local write step's run directory, from the parts (see the module docstring)."""
    from datavask.connectors.output import atomic_dir, concat_files, sink_parquet_parts
    from datavask.flows.cleanse import Stopwatch, counts_of_run, finish_run_dir

    pairs = pairs_files(work)
    run["counts"] = counts_of_run(verdict.counts["records"], run)
    run["flags"] = verdict.counts["flags"]
    run["counts"] |= verdict.counts["customers"] | {"pairs_review": _pairs_to_review(pairs)}
    seconds: dict[str, float] = {}
    run["steps"]["write"] = {"seconds": seconds}
    timed = Stopwatch(seconds)
    with timed("parts"):
        buckets, row_parts = write_parts(
            tasks, verdict, offsets=offsets, work=work, options=options, input_info=run["input"]
        )

    run.setdefault("engine", {})["write"] = {
        "parts_written_by": "workers" if tasks.shared else "driver",
        "row_parts": row_parts,
        "customer_buckets": buckets,
    }

    def parts(output: str, count: int) -> list[Path]:
        return [part_path(work, output, i) for i in range(count)]

    records = parts("records", row_parts)
    out = Path(options["out"])
    with atomic_dir(out) as tmp:
        with timed("records_golden_pairs"):
            sink_parquet_parts(records, tmp / "records.parquet")
            sink_parquet_parts(parts("golden", buckets), tmp / "golden.parquet")
            if pairs:
                sink_parquet_parts(pairs, tmp / "pairs.parquet")
        with timed("changes_csv"):
            concat_files(parts("changes", row_parts), tmp / "changes.csv")
        if (fmt := options["format"]) != "parquet":
            with timed(f"records_golden_{fmt}"):
                if fmt == "csv":
                    concat_files(parts("records-csv", row_parts), tmp / "records.csv")
                    concat_files(parts("golden-csv", buckets), tmp / "golden.csv")
                else:  # a workbook holds at most 1,048,576 rows: written whole
                    _workbooks(tmp)
        with timed("reimport"):
            golden = parts("golden", buckets)
            _reimport(
                tmp, work, run["input"], records=records, golden=golden, pairs=pairs,
                source=str(options["input"]),
            )  # fmt: skip
        verdict.buckets = []  # written: the workers let the buckets go before the report

        def render(run_dir: Path, *, lang: str, alerts: pl.DataFrame | None) -> None:
            """The report on a worker when it sees the run directory (it reads every record; the
            driver holds only what steers the run), else here."""
            from datavask.connectors.report import render_report

            written = hashlib.sha256(Path(run_dir, "run.json").read_bytes()).hexdigest()
            on_worker = submit("report", 0, _rendered, str(run_dir), written, lang, alerts)
            seen = bool(gather(on_worker))
            if not seen:
                render_report(run_dir, lang=lang, alerts=alerts)
            run["engine"]["write"]["report_written_by"] = "a worker" if seen else "driver"

        submit, gather = tasks.submit, tasks.gather
        finish_run_dir(tmp, run, options, timed, cvrs=lambda: _cvrs(records), render=render)
    return {"out": str(out)}


def _rendered(run_dir: str, written: str, lang: str, alerts: pl.DataFrame | None) -> bool:
    """report.html and worklist.xlsx written into ``run_dir`` if this worker sees it (the
    run.json there is the one the driver wrote, sha256 ``written``); False leaves it to the
    driver."""
    from datavask.connectors.report import render_report

    try:
        seen = hashlib.sha256(Path(run_dir, "run.json").read_bytes()).hexdigest()
    except OSError:
        return False
    if seen != written:
        return False
    render_report(Path(run_dir), lang=lang, alerts=alerts)
    return True


def _workbooks(tmp: Path) -> None:
    from datavask.connectors.output import write_table

    for name in ("records", "golden"):
        write_table(pl.read_parquet(tmp / f"{name}.parquet", glob=False), tmp / f"{name}.xlsx")


def _cvrs(records: list[Path]) -> pl.Series:
    cvr = pl.scan_parquet(records, glob=False).select(pl.col("cvr").drop_nulls().unique())
    return cvr.collect().to_series()


def _reimport(
    tmp: Path,
    work: str,
    info: dict[str, Any],
    *,
    records: list[Path],
    golden: list[Path],
    pairs: list[Path],
    source: str,
) -> None:
    """reimport/: customers_update from its parts; merge_plan.csv from the customers of several
    records alone (their golden rows, ids and pairs), as :func:`write_reimport` writes them
    (``source``: the input as the run was given it)."""
    from datavask.connectors.output import concat_files, write_excel_csv
    from datavask.connectors.reimport import crm_ids, detect_crm, merge_plan
    from datavask.connectors.reimport_xlsx import write_update_xlsx

    target = tmp / "reimport"
    target.mkdir()
    row_parts = len(records)
    updates = [part_path(work, "update", i) for i in range(row_parts)]
    concat_files(updates, target / "customers_update.csv")
    if info.get("format") == "xlsx":
        sheet = [part_path(work, "update-parquet", i) for i in range(row_parts)]
        read = [part_path(work, "update-read", i) for i in range(row_parts)]
        write_update_xlsx(
            target / "customers_update.xlsx",
            pl.read_parquet(sheet, glob=False),
            pl.read_parquet(read, glob=False),
            info,
            source,
        )
    several = pl.col("cluster_size") > 1
    multi = pl.scan_parquet(golden, glob=False).filter(several).collect()
    members = pl.concat(
        [multi.get_column("record_id").cast(pl.String), multi.get_column("member_ids").explode()]
    ).cast(pl.String)
    found = None
    if pairs:
        left = pl.col("record_id_l").cast(pl.String).is_in(members.implode())
        found = pl.scan_parquet(pairs, glob=False).filter(left).collect()
    id_column = f"src_{(info.get('mapping') or {}).get('record_id')}"
    columns = list(pl.scan_parquet(records[0], glob=False).collect_schema())
    wanted = ["record_id", "source_row", *([id_column] if id_column in columns else [])]
    ids = pl.scan_parquet(records, glob=False).filter(several).select(wanted).collect()
    plan = merge_plan(multi, found, crm=detect_crm(info), ids=crm_ids(ids, info))
    write_excel_csv(plan, target / "merge_plan.csv")
