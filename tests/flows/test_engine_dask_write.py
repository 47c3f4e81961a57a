"""The Dask engine's write, without a cluster: the verdict per bucket of whole customers and the
outputs written in parts give the local run's files, whether the workers write the parts or hand
them to the driver (workers without the shared work directory).

The task functions run in this process through the engine's own seam (:class:`Tasks`: submit a
function, gather its result); the cluster path itself is ``tests/flows/test_engine_dask.py``'s.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from bench.compare_runs import differences
from datavask.cleansing.partitioning import row_slices, with_positions
from datavask.flows import cleanse
from datavask.flows.engine_dask_write import Tasks, verdict_in_buckets, write_step

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "customers.csv"
# Three cleanses of the 400-row sample: about a minute, several at a load average of 40-50.
pytestmark = pytest.mark.timeout(900)


def _here(stage: str, i: int, fn: Any, *args: Any) -> Any:
    return fn(*args)


def _run(tmp: Path, name: str, *, shared: bool | None) -> Path:
    """The sample cleansed into ``tmp/name/out``: locally (``shared`` None) or with the local
    steps up to the match and the Dask engine's verdict and write, on 3 row partitions."""
    out = tmp / name / "out"
    options = cleanse.CleanseOptions(input=str(SAMPLE), out=str(out), format="csv")
    if shared is None:
        cleanse.run_pipeline(options, orchestrated=False)
        return out
    opts = asdict(options) | {"registry_source": options.registry_source()}
    work = tmp / name / "work"
    work.mkdir(parents=True)
    run: dict[str, Any] = {"steps": {}, "timings": {}, "options": {}}
    run["input"] = cleanse.read_step(str(work), opts)
    for step in ("normalise", "registry", "match"):
        run["steps"][step] = getattr(cleanse, f"{step}_step")(str(work), opts)
    matched = pl.read_parquet(work / "matched.parquet")
    slices = row_slices(matched.height, 3)
    parts = [with_positions(matched.slice(offset, length), offset) for offset, length in slices]
    mapped = sorted(json.loads((work / "input.json").read_text(encoding="utf-8"))["mapping"])
    tasks = Tasks(_here, lambda results: results, shared)
    verdict = verdict_in_buckets(tasks, parts, hits=None, monitor=None, mapped=mapped)
    offsets = [offset for offset, _ in slices]
    write_step(tasks, verdict, offsets=offsets, work=str(work), options=opts, run=run)
    assert run["engine"]["write"]["row_parts"] == 3
    return out


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("write"), "local", shared=None)


@pytest.mark.parametrize("shared", [True, False])
def test_outputs_written_in_parts_are_the_local_files(
    local: Path, tmp_path: Path, shared: bool
) -> None:
    parts = _run(tmp_path, "parts", shared=shared)
    # run.json and the report's header: this harness runs no pipeline that stamps times and ids
    found = [d for d in differences(local, parts) if not d.startswith(("run.json", "report.html"))]
    assert found == []
    ran = [json.loads((d / "run.json").read_text(encoding="utf-8")) for d in (local, parts)]
    assert ran[0]["counts"] == ran[1]["counts"] and ran[0]["flags"] == ran[1]["flags"]
