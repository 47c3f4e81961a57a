"""``datavask cleanse --engine dask``: the cleanse's stages on a Dask cluster.

The same stage functions as the local engine, called on partitions:

======================  =========================================================================
stage                   where it runs
======================  =========================================================================
read                    workers, one task per byte range of a CSV or run of Parquet row groups
                        (:mod:`datavask.connectors.input_parts`); the driver streams the file for
                        its checksum and encoding, numbers the parts and gives out the record ids.
                        Inputs that cannot be cut are read whole by the driver, and their rows cut
                        into contiguous partitions that travel inside the tasks' specs
normalise               workers, one task per row partition
registry                look-up of the distinct CVR numbers on the driver (the connectors own the
                        network); :func:`~datavask.cleansing.registry.apply_registry` on workers
                        per row partition
registry view           workers, per row partition (the names and addresses matching compares)
blocking                workers: the records' blocking keys are shuffled into buckets that hold
                        whole blocks (hash of the key) or key ranges (sorted-neighbourhood rules),
                        the pairs into row partitions of their first record, where they are
                        de-duplicated (:mod:`~datavask.flows.engine_dask_blocking`)
match                   workers, per chunk of pairs (the pairs blocking left with a row partition):
                        comparisons and scoring, the pattern counts EM learns from, the term
                        frequencies' value counts, u from the random pairs' records only, the
                        components by label propagation and split in buckets of whole components
                        (:mod:`~datavask.flows.engine_dask_match`); the cluster ids go back to
                        the row partitions on the workers. The compared chunks and the output
                        pairs are Parquet files in the work directory when the workers see it
blacklist               workers, per row partition; the hits (a few ids) go to every bucket
verdict, survivorship,  workers, per bucket of whole customers: every row partition splits by
changes                 ranges of ``cluster_id`` and each bucket gathers its pieces
                        (:mod:`~datavask.flows.engine_dask_write`)
write                   workers write every output's parts (golden per bucket; records, changes
                        and the re-import's rows per row partition, the records sent back there);
                        the driver streams the parts into the run directory and writes
                        merge_plan.csv and run.json; a worker writes the report
                        (:mod:`.engine_dask_write`)
======================  =========================================================================

When every worker sees the run's work directory, the row partitions each stage leaves (read,
normalise, registry, the views, the matcher's prepared records, blocking's pairs per partition,
the scored chunks, the clusters joined) are Parquet files there, not results in the workers'
memory (:mod:`.engine_dask_spill`).

The partitions travel inside the task specs rather than being scattered: a worker that dies takes
its results with it, and Dask recomputes them from the spec on another worker, so the run still
finishes with the same output. Every function a worker runs lives in this module, its siblings
``engine_dask_blocking`` and ``engine_dask_write``, or ``datavask.cleansing``: the workers need
datavask installed (the same version).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from datavask.cleansing.partitioning import (
    row_slices,
    with_positions,
)
from datavask.connectors.errors import InputError

BYTES_PER_PARTITION = 64 << 20  # about 250,000 rows of a typical export (else: dask_partition_rows)
# The stages whose results are row partitions, a row partition's pairs, a chunk's scored pairs
# (``mscored<k>``, every tf pass), a row partition's records cut into the pieces each chunk of
# pairs needs (``mroute``, ``mhoproute``: one file a piece), or the verdict's buckets of whole
# customers and their pieces (``vsplit``, ``verdict``, ``wback``): kept in the work directory
# rather than in the workers' memory when the workers see it (:mod:`.engine_dask_spill`).
SPILLED_STAGES = frozenset(
    {
        "finished",
        "normalise",
        "registry",
        "view",
        "prepared",
        "kfound",
        "kbyrule",
        "mscored",
        "mroute",
        "mhoproute",
        "matched",
        "vsplit",
        "verdict",
        "wback",
    }
)
DEFAULT_WORKERS = 2


class ClusterUnreachable(InputError):
    """The scheduler at ``--dask-address`` did not answer in time (an unusable option: exit 2)."""


def address_problem(address: str) -> str | None:
    """Why ``address`` cannot name a Dask scheduler, or None.

    Before, ``--dask-address notaurl`` waited for the connection to fail and said "no Dask
    scheduler answered within 10 s (ValueError)": it names no host and port at all.

    >>> address_problem("notaurl")
    'not a Dask scheduler address: notaurl (expected tcp://host:port)'
    >>> address_problem("http://10.0.0.5:8787")  # the dashboard's
    'not a Dask scheduler address: http://10.0.0.5:8787 (expected tcp://host:port)'
    >>> address_problem("tcp://10.0.0.5:8786") is None, address_problem("10.0.0.5:8786") is None
    (True, True)
    """
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address)
        get_backend(scheme)  # ValueError for a scheme Dask does not speak (http://: a dashboard)
        if scheme in ("tcp", "tls", "ws", "wss"):  # the schemes of a scheduler on another host
            host, port = parse_host_port(location)
            if not host or not 0 < port < 65536:
                raise ValueError(location)
    except ValueError:
        return f"not a Dask scheduler address: {address} (expected tcp://host:port)"
    return None


# --------------------------------------------------------------------------- on the workers


def _normalise(part: pl.DataFrame, check_deliverability: bool, key: bytes) -> pl.DataFrame:
    from datavask.cleansing.normalise import normalise

    return normalise(part, check_deliverability=check_deliverability, match_key=key)


def _cvrs(part: pl.DataFrame) -> pl.Series:
    return part["cvr"].drop_nulls().unique()


def _apply_registry(part: pl.DataFrame, found: pl.DataFrame) -> pl.DataFrame:
    from datavask.cleansing.registry import apply_registry

    return apply_registry(part, found)


def _registry_view(part: pl.DataFrame) -> pl.DataFrame:
    from datavask.flows.cleanse import registry_view

    return registry_view(part)


def _with_clusters(part: pl.DataFrame, clusters: pl.DataFrame, offset: int) -> pl.DataFrame:
    from datavask.cleansing.schema import MATCH_ONLY_COLUMNS

    if not clusters["record_id"].equals(part["record_id"]):
        raise AssertionError("matching returned clusters out of input order")
    part = part.drop(MATCH_ONLY_COLUMNS, strict=False).hstack(clusters.drop("record_id"))
    return with_positions(part, offset)


def _blacklist_hits(part: pl.DataFrame, clean: pl.DataFrame) -> pl.DataFrame:
    from datavask.cleansing.blacklist import match_blacklist

    return match_blacklist(part, clean)


def _same(frame: pl.DataFrame) -> pl.DataFrame:
    return frame


def _height(part: pl.DataFrame) -> int:
    return part.height


def _warm_up() -> None:
    """Import the stage modules on a worker while the driver reads the input (seconds each)."""
    import datavask.cleansing.changes
    import datavask.cleansing.matching
    import datavask.cleansing.normalise
    import datavask.cleansing.registry
    import datavask.cleansing.survivorship
    import datavask.cleansing.verdict
    import datavask.flows.cleanse  # noqa: F401


# --------------------------------------------------------------------------- read, on the workers


def _visible(plan: Any, work: str) -> bool:
    from datavask.connectors.input_parts import visible

    return visible(plan, work)


def _read_part(plan: Any, part: tuple[int, int]) -> Any:
    from datavask.connectors.input_parts import read_part

    return read_part(plan, part)


def _part_counts(part: Any) -> dict[str, Any]:
    return part.counts()


def _canonical_part(part: Any, info: Any, offset: int, overflow: bool) -> pl.DataFrame:
    from datavask.connectors.input_parts import canonical_part

    return canonical_part(part, info, offset, overflow=overflow)


def _id_columns(frame: pl.DataFrame, info: Any) -> pl.DataFrame:
    from datavask.connectors.input_parts import id_columns

    return id_columns(frame, info)


def _finished_part(
    frame: pl.DataFrame,
    ids: pl.Series,
    info: Any,
    aside: list[str],
    target: str,
    *,
    match_key: bytes,
) -> pl.DataFrame:
    """The part masked and with its ids; the input columns no stage reads go to ``target`` (one
    Parquet part of ``originals.parquet``), the rest stays on the worker for normalise."""
    from datavask.connectors.input_parts import finished_part
    from datavask.connectors.output import replace_atomically
    from datavask.flows.cleanse import WORK_COMPRESSION

    frame = finished_part(frame, ids, info, match_key)
    originals = frame.select(aside)
    # whole or not at all: a rerun after a lost worker writes it again
    replace_atomically(
        Path(target), lambda path: originals.write_parquet(path, compression=WORK_COMPRESSION)
    )
    return frame.drop(aside)


def _problem_summary(frame: pl.DataFrame) -> dict[str, Any]:
    from datavask.connectors.input_parts import problem_summary

    return problem_summary(frame)


# --------------------------------------------------------------------------- on the driver

ROWS_SAMPLE_BYTES = 4 << 20


def _rows_about(source: str, size: int) -> int:
    """About how many rows a plain-text input (CSV, TSV, JSON lines) of ``size`` bytes holds, from
    the lines in its first bytes; 0 when that says nothing (compressed, Parquet, a workbook).

    A narrow export has many more rows per byte than :data:`BYTES_PER_PARTITION` assumes, and a
    row partition's rows (``dask_partition_rows``) are what a worker's matching holds at once."""
    if size <= 0:
        return 0
    with Path(source).open("rb") as handle:
        sample = handle.read(ROWS_SAMPLE_BYTES)
    if sample[:2] in (b"\x1f\x8b", b"PK") or sample[:4] == b"PAR1" or b"\x00" in sample:
        return 0
    return math.ceil(size * sample.count(b"\n") / max(1, len(sample)))


@dataclass
class DaskEngine:
    """The cleanse's normalise … verdict steps on a Dask cluster (see the module docstring).

    Each step has the local step's signature; between the steps the partitions stay on the
    workers, and the write step assembles the run directory from the parts they write.
    """

    client: Any  # distributed.Client
    partitions: int | None = None  # None: 2 per worker, more for big inputs
    _parts: list[Any] = field(default_factory=list)  # futures of the row partitions
    _offsets: list[int] = field(default_factory=list)
    _warm: list[Any] = field(default_factory=list)
    _found: Any = None  # the registry's answer, on the workers
    _read: dict[str, Any] = field(default_factory=dict)  # how the input was read, for run.json
    _verdict: Any = None  # the buckets of whole customers, on the workers, for write
    _held: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)  # a DB snapshot
    via: str = "distributed.Client"  # what connected the run to the cluster, for run.json
    _run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    _spill: str | None = None  # where the row partitions are kept (``work/rows``), if anywhere

    def __post_init__(self) -> None:
        # Held, so that they run: a released future is cancelled.
        self._warm = [
            self.client.submit(_warm_up, workers=[w], pure=False)
            for w in self.client.scheduler_info(n_workers=-1)["workers"]
        ]

    def _key(self, stage: str, i: int | str) -> str:
        return f"datavask-{stage}-{i}-{self._run}"

    def _gather(self, futures: Any) -> Any:
        return self.client.gather(futures)

    def normalise_step(self, work: str, options: dict[str, Any]) -> dict[str, Any]:
        from datavask.connectors.match_key import match_key
        from datavask.settings import settings

        if not self._parts:  # read on the driver: cut its frame into row partitions
            frame = pl.read_parquet(Path(work, "canonical.parquet"), glob=False)
            count = self.partitions or max(
                2 * self._workers(), math.ceil(frame.height / settings().dask_partition_rows)
            )
            slices = row_slices(frame.height, count)
            self._offsets = [offset for offset, _ in slices]
            self._parts = [frame.slice(offset, length) for offset, length in slices]
        deliverability, key = options.get("check_deliverability", False), match_key()
        self._spill_in(work)
        self._parts = [
            self._map(_normalise, part, deliverability, key, stage="normalise", i=i)
            for i, part in enumerate(self._parts)
        ]
        return {"rows": sum(self._gather([self._map(_height, p) for p in self._parts]))}

    def _workers(self) -> int:
        return max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))

    # ----------------------------------------------------------------------- read

    def read_step(self, work: str, options: dict[str, Any]) -> dict[str, Any]:
        """The local read step's files and answer, from parts read on the workers where the
        input allows (:mod:`datavask.connectors.input_parts`), else from the local read step.
        Either way the row partitions for normalise come from here."""
        from datavask.flows.cleanse import read_step

        reason = self._read_in_parts(work, options)
        if reason is None:
            return json.loads(Path(work, "input.json").read_text(encoding="utf-8"))
        self._parts, self._offsets = [], []
        self._read = {"where": "driver", "reason": reason}
        return read_step(work, options)

    def report(self) -> dict[str, Any]:
        """What run.json says of the engine: its workers and where the input was read."""
        return {"name": "dask", "workers": self._workers(), "via": self.via, "read": self._read}

    def _read_in_parts(self, work: str, options: dict[str, Any]) -> str | None:
        """Read the input in parts on the workers; None when done, else why it cannot be."""
        from datavask.connectors.input_parts import PartsPlan, plan_parts
        from datavask.settings import settings

        if options.get("sheet"):
            return "--sheet names a workbook sheet: read whole"
        source = str(options["input"])
        if source.split("://", 1)[0].lower() in ("postgresql", "postgres"):
            plan = self._postgres_plan(source)
        else:
            size = Path(source).stat().st_size if Path(source).is_file() else 0
            count = self.partitions or max(
                2 * self._workers(),
                math.ceil(size / BYTES_PER_PARTITION),
                round(_rows_about(source, size) / settings().dask_partition_rows),
            )
            plan = plan_parts(source, count)
        if not isinstance(plan, PartsPlan):
            return plan
        if plan.format != "postgresql":  # the workers' working directory may differ
            plan.path = str(Path(plan.path).resolve())
        workers = list(self.client.scheduler_info(n_workers=-1)["workers"])
        seen = [self.client.submit(_visible, plan, work, workers=[w], pure=False) for w in workers]
        if not all(self._gather(seen)):
            return "the workers do not see the input file or the run's work directory"
        reads, counts = self._read_fitted_parts(plan)
        if failed := next((c["fallback"] for c in counts if c["fallback"]), None):
            return str(failed)
        if not sum(c["rows"] for c in counts):
            return "no data rows: the whole read says so"
        self._finish_read(work, options, plan, reads, counts)
        self._read = {"where": "workers", "parts": len(reads), "format": plan.format}
        return None

    def _postgres_plan(self, url: str) -> Any:
        """Chunks of a PostgreSQL table in key (or ctid) ranges, its snapshot held open until the
        engine closes (:func:`~datavask.connectors.postgres.postgres_chunks`), or why it reads
        whole."""
        from datavask.connectors.input_parts import postgres_plan
        from datavask.connectors.postgres import postgres_chunks
        from datavask.settings import settings

        held = contextlib.ExitStack()
        planned = held.enter_context(
            postgres_chunks(
                url,
                chunk_rows=settings().dask_partition_rows,
                min_chunks=self.partitions or 2 * self._workers(),
            )
        )
        if isinstance(planned, str):
            held.close()
            return planned
        self._held.enter_context(held)
        return postgres_plan(*planned)

    def _read_fitted_parts(self, plan: Any) -> tuple[list[Any], list[dict[str, Any]]]:
        """The parts read on the workers, read again where a cut was not a record boundary
        (:func:`~datavask.connectors.input_parts.fitted`), with their counts."""
        from datavask.connectors.input_parts import fitted

        def read(part: tuple[int, int]) -> Any:
            return self.client.submit(_read_part, plan, part, key=self._key("read", f"{part}"))

        parts = [(part, read(part)) for part in plan.ranges]
        counts = self._gather([self._map(_part_counts, future) for _, future in parts])
        while True:
            ends = [
                c["end"] if not c["fallback"] else part[1]
                for (part, _), c in zip(parts, counts, strict=True)
            ]
            fit = fitted([part for part, _ in parts], ends)
            if [index for _, index in fit] == list(range(len(parts))):
                return [future for _, future in parts], counts
            parts = [parts[i] if i is not None else (part, read(part)) for part, i in fit]
            again = [
                self._map(_part_counts, parts[k][1]) for k, (_, i) in enumerate(fit) if i is None
            ]
            fresh = iter(self._gather(again))
            counts = [counts[i] if i is not None else next(fresh) for _, i in fit]

    def _finish_read(
        self,
        work: str,
        options: dict[str, Any],
        plan: Any,
        reads: list[Any],
        counts: list[dict[str, Any]],
    ) -> None:
        """Number, map, identify and mask the parts as one read does; write the read step's
        files (``originals.parquet`` assembled from the workers' parts, never held whole)."""
        import copy
        import itertools

        from datavask.connectors.files import map_columns, record_ids
        from datavask.connectors.masking import mask_info, masked_columns
        from datavask.connectors.match_key import match_key
        from datavask.flows.cleanse import (
            WORK_COMPRESSION,
            _check_blank_sources,
            _check_compare_columns,
            _check_truth_column,
            _compare_fields,
            _link_column,
            blank_sources,
            mapping_override,
            reserved_columns,
            with_link,
        )

        info = plan.info
        override, parts = mapping_override(options)
        evidence = _compare_fields(options)
        map_columns(info, override, parts, reserved_columns(options, evidence))
        info.blank_lines_skipped = sum(c["blank"] for c in counts)
        overflow = any(c["overflow"] for c in counts)
        offsets = [0, *itertools.accumulate(c["records"] for c in counts)]
        canonical = [
            self.client.submit(
                _canonical_part, r, info, offsets[i], overflow, key=self._key("canonical", i)
            )
            for i, r in enumerate(reads)
        ]
        id_parts = self._gather([self._map(_id_columns, c, info) for c in canonical])
        ids = record_ids(pl.concat(id_parts), info)  # repeated ids are told apart file-wide
        heights = [frame.height for frame in id_parts]
        self._offsets = [0, *itertools.accumulate(heights)][:-1]
        unmasked = copy.deepcopy(info)
        mask_info(info)
        _check_compare_columns(evidence, info.columns)
        _check_truth_column(options, info.columns, info.mapping, evidence)
        link = _link_column(options, info.columns, info.mapping, evidence)
        src = [f"src_{c}" for c in info.columns] + (["src__overflow"] if overflow else [])
        keep = {f"src_{c}" for c in [*info.mapping.values(), *evidence.values()]}
        keep |= {f"src_{link}"} if link is not None else set()
        aside = [c for c in src if c not in keep]
        Path(work, "originals").mkdir()
        targets = [str(Path(work, "originals", f"part-{i:05d}.parquet")) for i in range(len(reads))]
        self._spill_in(work)
        # The driver's match key: every part hashes a person identifier alike.
        finished = functools.partial(_finished_part, match_key=match_key())
        self._parts = [
            self._map(
                finished,
                c,
                ids.slice(offset, height),
                unmasked,
                aside,
                target,
                stage="finished",
                i=i,
            )
            for i, (c, offset, height, target) in enumerate(
                zip(canonical, self._offsets, heights, targets, strict=True)
            )
        ]
        if link is not None:
            _check_blank_sources(
                link, self._gather([self._map(blank_sources, p, link) for p in self._parts])
            )
        summaries = self._gather([self._map(_problem_summary, p) for p in self._parts])
        info.rows = sum(s["rows"] for s in summaries)
        info.rows_with_problems = sum(s["problems"] for s in summaries)
        info.problem_rows = [r for s in summaries for r in s["first"]][:100]
        originals = Path(work, "originals.parquet")
        if aside:
            pl.scan_parquet(targets).sink_parquet(originals, compression=WORK_COMPRESSION)
        else:
            pl.DataFrame().write_parquet(originals, compression=WORK_COMPRESSION)
        # as a whole read records them: the kept columns on the workers, the others in originals
        kept = self._gather([self._map(masked_columns, p) for p in self._parts])
        found = {c for part in kept for c in part} | set(
            masked_columns(pl.scan_parquet(originals)) if aside else []
        )
        info.masked_columns = [c for c in info.columns if c in found]
        Path(work, "src_columns.json").write_text(json.dumps(src), encoding="utf-8")
        Path(work, "evidence.json").write_text(
            json.dumps(with_link(evidence, link)), encoding="utf-8"
        )
        Path(work, "input.json").write_text(json.dumps(info.to_dict()), encoding="utf-8")

    def _map(self, fn: Any, *args: Any, stage: str | None = None, i: int = 0) -> Any:
        """Submit ``fn(*args)``: under a fixed key when ``stage`` is given; a row partition's stage
        (:data:`SPILLED_STAGES`) writes its frame to the work directory when the workers see it
        (:mod:`.engine_dask_spill`), and every task reads the handles it is given back."""
        from datavask.flows.engine_dask_spill import loading, spilling

        if stage is None:
            return self.client.submit(loading, fn, *args, pure=False)
        key = self._key(stage, i)
        if self._spill is not None and stage.rstrip("0123456789.") in SPILLED_STAGES:
            target = str(Path(self._spill, f"{stage}-{i:05d}.parquet"))
            return self.client.submit(spilling, fn, target, *args, key=key)
        return self.client.submit(loading, fn, *args, key=key)

    def _spill_in(self, work: str) -> None:
        """Keep the row partitions in ``work/rows`` from now on if every worker sees ``work``."""
        from datavask.flows.engine_dask_write import sees_work_dir

        if self._spill is None and sees_work_dir(self.client, work):
            Path(work, "rows").mkdir(exist_ok=True)
            self._spill = str(Path(work, "rows"))

    def registry_step(self, work: str, options: dict[str, Any]) -> dict[str, Any]:
        from datavask.flows.cleanse import registry_lookup

        cvrs = self._gather([self._map(_cvrs, p) for p in self._parts])
        found, detail = registry_lookup(pl.concat(cvrs), options["registry_source"])
        if found is not None:
            if self._spill is not None:  # written once, read by each task, held by nobody
                from datavask.flows.engine_dask_spill import spilling

                shared = spilling(_same, str(Path(self._spill, "found-00000.parquet")), found)
            else:
                # A task, not scattered data: a worker that dies with it can compute it again.
                self._found = self.client.submit(_same, found, key=self._key("found", 0))
                shared = self._found
            del found
            self._parts = [
                self._map(_apply_registry, p, shared, stage="registry", i=i)
                for i, p in enumerate(self._parts)
            ]
        return detail

    def match_step(self, work: str, options: dict[str, Any]) -> dict[str, Any]:
        from datavask.flows.cleanse import _decisions_detail, evidence_columns, truth_labels

        given = options.get("review_band")  # None: the band the model derives for this file
        band = (given[0], given[1]) if given else None
        decisions = None
        if options.get("decisions"):
            from datavask.connectors.decisions import read_decisions

            decisions = read_decisions(Path(options["decisions"]))
        from datavask.flows.engine_dask_blocking import partitioned_blocking
        from datavask.flows.engine_dask_match import partitioned_match
        from datavask.flows.engine_dask_write import sees_work_dir

        views = [self._map(_registry_view, p, stage="view", i=i) for i, p in enumerate(self._parts)]
        evidence = evidence_columns(work)
        blocked = partitioned_blocking(
            lambda stage, i, fn, *args: self._map(fn, *args, stage=stage, i=i),
            self._gather,
            views,
            self._offsets,
            evidence,
        )
        del views  # the blocking's prepared records replace them
        # Workers that see the work directory keep the compared chunks there, not in memory, and
        # write the output pairs there in parts; the directory goes with the run.
        spill = work if sees_work_dir(self.client, work) else None
        if spill is not None:
            Path(work, "chunks").mkdir(exist_ok=True)
            Path(work, "pairs").mkdir(exist_ok=True)
        match, clusters = partitioned_match(
            lambda stage, i, fn, *args: self._map(fn, *args, stage=stage, i=i),
            self._gather,
            blocked,
            self._offsets,
            band=band,
            decisions=decisions,
            truth=truth_labels(work, options),
            spill=spill,
            in_flight=2 * self._workers(),
        )
        self._parts = [
            self._map(_with_clusters, p, c, offset, stage="matched", i=i)
            for i, (p, c, offset) in enumerate(
                zip(self._parts, clusters, self._offsets, strict=True)
            )
        ]
        report = match.result()
        del match
        if isinstance(report["pairs"], pl.DataFrame):  # gathered: the workers do not see `work`
            report["pairs"].write_parquet(Path(work, "pairs.parquet"), compression="lz4")
            report["pairs"] = report["pairs"].height
        return {
            "pairs": report["pairs"],
            "clusters": report["clusters"],
            "review_band": report["review_band"],
            "blocking": report["blocking"],
            "oversized_blocks": report["oversized_blocks"],
            **({"link_sources": blocked.sources} if "source" in evidence else {}),
            **({"evaluation": report["evaluation"]} if report["evaluation"] is not None else {}),
            **(
                {"decisions": _decisions_detail(work, report["decisions"])}
                if decisions is not None
                else {}
            ),
        }

    def verdict_step(self, work: str, options: dict[str, Any]) -> dict[str, Any]:
        from datavask.flows.cleanse import blacklist_detail, read_blacklist

        detail: dict[str, Any] = {}
        hits = None
        if options.get("blacklist"):
            clean, problems = read_blacklist(options["blacklist"])
            pieces = self._gather([self._map(_blacklist_hits, p, clean) for p in self._parts])
            hits = pl.concat(pieces, how="vertical")
            detail["blacklist"] = blacklist_detail(clean, problems, hits)
        from datavask.cleansing.changes import written_back
        from datavask.connectors.mapping import postal_code_with_town
        from datavask.flows.engine_dask_write import verdict_in_buckets

        mapping = json.loads(Path(work, "input.json").read_text(encoding="utf-8"))["mapping"]
        mapped = sorted(written_back(mapping))
        self._verdict = verdict_in_buckets(
            self._tasks(),
            self._parts,
            hits=hits,
            monitor=_monitor_state(options),
            mapped=mapped,
            postal_town=postal_code_with_town(mapping),
        )
        return detail

    def write_step(self, work: str, options: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
        """The run directory from the parts the workers write (:mod:`.engine_dask_write`)."""
        from datavask.flows.engine_dask_write import sees_work_dir, write_step

        tasks = self._tasks(shared=sees_work_dir(self.client, work))
        self._parts = []  # the buckets hold the records now
        try:
            return write_step(
                tasks, self._verdict, offsets=self._offsets, work=work, options=options, run=run
            )
        finally:
            self._verdict = None

    def _tasks(self, *, shared: bool = True) -> Any:
        from datavask.flows.engine_dask_write import Tasks

        def submit(stage: str, i: int, fn: Any, *args: Any) -> Any:
            return self._map(fn, *args, stage=stage, i=i)

        return Tasks(submit, self._gather, shared)


def _monitor_state(options: dict[str, Any]) -> tuple[pl.DataFrame, pl.DataFrame, str] | None:
    """The monitor's state for the verdict tasks, read once on the driver (as the local step)."""
    if not options.get("monitor_state"):
        return None
    from datetime import UTC, datetime, timedelta

    from datavask.flows.monitor_steps import read_monitor_state

    current, history = read_monitor_state(Path(options["monitor_state"]))
    since = (datetime.now(UTC) - timedelta(days=90)).isoformat(timespec="seconds")
    return current, history, since


@contextlib.contextmanager
def dask_engine(
    address: str | None,
    *,
    workers: int = 0,
    partitions: int | None = None,
    client: Any = None,
) -> Iterator[DaskEngine]:
    """A :class:`DaskEngine` on the scheduler at ``address``, or on a local cluster of
    ``workers`` processes (default 2) that is closed when the block ends; or on ``client``, a
    client someone else opened and closes (a Prefect flow's :func:`dask_task_runner`)."""
    import dask
    from distributed import Client, LocalCluster

    _drop_gathers_cut_short()
    # The partitions travel inside the task specs on purpose (see the module docstring).
    with dask.config.set({"distributed.admin.large-graph-warning-threshold": "64GiB"}):
        if client is not None:
            engine = DaskEngine(client, partitions)
            engine.via = "prefect-dask DaskTaskRunner"
            with engine._held:
                yield engine
            return
        if address:
            client = _connect(address)
            with client:
                engine = DaskEngine(client, partitions)
                with engine._held:
                    yield engine
            return
        with local_cluster_scratch() as scratch:
            with _ctrl_c_for_the_driver_alone():
                cluster = LocalCluster(**_local_cluster_options(workers, scratch))
            with cluster, Client(cluster) as client:
                engine = DaskEngine(client, partitions)
                with engine._held:
                    yield engine


def _start_resource_tracker() -> None:
    """multiprocessing's resource tracker, started without its warning about leaked semaphores.

    A driver stopped by a signal exits before its cluster has closed (:mod:`.signals` waits a
    second); the tracker then unlinks the semaphores of the worker processes' queues, and said
    so: ``resource_tracker: There appear to be 12 leaked semaphore objects to clean up at
    shutdown`` under "interrupted; no output was written". The tracker takes the interpreter's
    ``-W`` options from ``sys.warnoptions`` when it starts; it still removes them.
    """
    from multiprocessing import resource_tracker

    quiet = "ignore:resource_tracker:UserWarning"
    sys.warnoptions.append(quiet)
    try:
        resource_tracker.ensure_running()
    finally:
        sys.warnoptions.remove(quiet)


class _GatherCutShort(logging.Filter):
    """Drops asyncio's ``Task exception was never retrieved … distributed.client.AllExit``: a
    client closed while a ``gather`` waited (the run was stopped) ends the gather's waiting
    tasks with ``AllExit``, which nobody retrieves, and asyncio logs each with its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        from distributed.client import AllExit

        return not (record.exc_info and isinstance(record.exc_info[1], AllExit))


def _drop_gathers_cut_short() -> None:
    asyncio_log = logging.getLogger("asyncio")
    if not any(isinstance(f, _GatherCutShort) for f in asyncio_log.filters):
        asyncio_log.addFilter(_GatherCutShort())
    # a stop during the cluster's start left ``Task exception was never retrieved …
    # RuntimeError('Nanny failed to start.')`` for asyncio to log
    if not any(isinstance(f, _QuietOnceStopped) for f in asyncio_log.filters):
        asyncio_log.addFilter(_QuietOnceStopped())
    # distributed's own lines go through the handlers of its root logger
    for handler in logging.getLogger("distributed").handlers:
        if not any(isinstance(f, _QuietOnceStopped) for f in handler.filters):
            handler.addFilter(_QuietOnceStopped())


class _QuietOnceStopped(logging.Filter):
    """Drops distributed's and asyncio's log lines once the run has been told to stop (a Ctrl-C,
    a SIGTERM).

    ``silence_logs`` quiets the driver's ``distributed`` loggers only while the local cluster is
    open: closed by the stop, it gives them their level back, and the client's comms, closing
    after it, logged ``distributed.batched - INFO - Batched Comm Closed`` with a
    ``CommClosedError`` traceback above "interrupted; no output was written". What stops a run
    is the signal, which the run reports in that one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        from datavask.flows.signals import received

        return received() is None


def _local_cluster_options(workers: int, scratch: Path) -> dict[str, Any]:
    return {
        "n_workers": workers or DEFAULT_WORKERS,
        "threads_per_worker": 1,
        "processes": True,
        "host": "127.0.0.1",
        "dashboard_address": None,
        # The run's own progress is the user's display, and what stops a run reaches the driver
        # as an exception (the one-line error, last-error.log, as locally). The workers' ERROR
        # lines were what closing the cluster does to them: ``Failed to communicate with
        # scheduler during heartbeat … CommClosedError`` thirty times between the last step and
        # the summary on a loaded machine, and after a Ctrl-C.
        "silence_logs": logging.CRITICAL,
        # the scheduler's and workers' scratch (``dask-scratch-space/``: their spill files and
        # lock files), inside a directory removed on exit and on a stop rather than in $TMPDIR
        "local_directory": str(scratch),
        # The scheduler serves /health and /metrics even without a dashboard, on port 8787 unless
        # told: with another cluster (a notebook's) holding it, every run printed "UserWarning:
        # Port 8787 is already in use … Hosting the HTTP server on port 35679 instead".
        "scheduler_kwargs": {"local_directory": str(scratch), "dashboard_address": "127.0.0.1:0"},
    }


@contextlib.contextmanager
def local_cluster_scratch() -> Iterator[Path]:
    """``dask-scratch-space`` in a work directory of datavask's own, for a local cluster.

    Dask's default, ``$TMPDIR/dask-scratch-space``, kept ``global.lock`` and ``purge.lock`` after
    every run, and the scheduler's and workers' folders (spilled data included) after a Ctrl-C.
    The work directory is removed when the cluster closes, by a stop (:func:`request_stop`), and,
    after a ``kill -9``, by the next run.
    """
    from datavask.connectors.scratch import work_dir

    with work_dir() as path:
        yield path / "dask-scratch-space"  # the name Dask would add to any other path


@contextlib.contextmanager
def _ctrl_c_for_the_driver_alone() -> Iterator[None]:
    """Start the local cluster with SIGINT blocked in this thread: the threads it starts (its
    event loop, the one per worker process that starts it) inherit the mask, and so do the
    worker processes they start, then and on any later restart.

    A Ctrl-C in a terminal goes to the whole process group. Before, each worker raised
    ``KeyboardInterrupt`` wherever it was (importing numpy, in its event loop) and printed the
    traceback, while the driver printed "interrupted; no output was written". Now the driver
    alone stops and closes the cluster; a worker whose driver died exits by itself (Dask's
    parent-alive pipe). A signal that arrives meanwhile is taken by another thread of the driver
    (the stop watcher of :mod:`datavask.flows.signals`), so the run still stops.

    multiprocessing's resource tracker is started first, here: started by the cluster's event
    loop (its first semaphore), it would unblock SIGINT in that thread when it is up.
    """
    import signal

    _start_resource_tracker()
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


@contextlib.contextmanager
def dask_task_runner(address: str | None, *, workers: int = 0) -> Iterator[Any]:
    """prefect-dask's ``DaskTaskRunner``, started: connected to the scheduler at ``address``, or
    owning a temporary local cluster of ``workers`` processes (default 2). A Prefect flow run
    with ``engine = "dask"`` holds it for the run; its client carries the engine's partitions.
    A scheduler that does not answer is :class:`ClusterUnreachable`, as on the command line."""
    from prefect_dask import DaskTaskRunner

    from datavask.settings import settings

    _drop_gathers_cut_short()
    scratch = contextlib.ExitStack()
    if address:
        if problem := address_problem(address):
            raise InputError(f"dask_address: {problem}")
        runner = DaskTaskRunner(
            address=address, client_kwargs={"timeout": settings().dask_connect_timeout}
        )
    else:
        runner = DaskTaskRunner(
            cluster_class="distributed.LocalCluster",
            cluster_kwargs=_local_cluster_options(
                workers, scratch.enter_context(local_cluster_scratch())
            ),
        )
    with scratch, runner:
        try:
            with _ctrl_c_for_the_driver_alone():
                runner.client  # noqa: B018 - connects (or starts the cluster) now
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterUnreachable(
                f"dask_address {address}: no Dask scheduler answered within "
                f"{settings().dask_connect_timeout:g} s ({type(exc).__name__})"
            ) from None
        yield runner


def _connect(address: str) -> Any:
    from distributed import Client

    from datavask.settings import settings

    if problem := address_problem(address):
        raise InputError(f"--dask-address {problem}")
    try:
        return Client(address, timeout=settings().dask_connect_timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterUnreachable(
            f"--dask-address {address}: no Dask scheduler answered within "
            f"{settings().dask_connect_timeout:g} s ({type(exc).__name__})"
        ) from None
