"""Are two ``datavask cleanse`` output directories the same result? For speed work on the pipeline.

Compares every file a run writes: the Parquet files frame by frame (values, column order and
types), ``changes.csv`` and the re-import CSVs byte for byte, ``worklist.xlsx`` sheet by sheet
(every cell's value), ``report.html`` with the run's id, output directory, time stamps and durations
taken out, and
``run.json`` without what differs between any two runs (id, times, timings and the steps' seconds,
versions, paths).
Exits 1 and names each difference when there is one; exits 2 with one line when either path is
not a run's output directory (no ``run.json`` in it), so a mistyped path is never "identical".

    .venv/bin/python -m bench.compare_runs /tmp/before /tmp/after
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import polars as pl

# run.json keys that differ between two runs of the same input by nature
_RUN_SPECIFIC = {
    "run_id", "started_at", "finished_at", "timings", "versions", "threads", "options",
    "engine",  # where the run ran (local, or Dask and where it read the input)
}  # fmt: skip
# in report.html: the run's id and time stamps, and durations written as "12.3 s"
_HTML_VOLATILE = (
    re.compile(r"[0-9a-f]{32}"),
    re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?([+-]\d\d:\d\d|Z)?"),
    re.compile(r"\d{1,2}[.:]\d\d( UTC)?"),
    re.compile(r"[\d.,]+\s*(s|sek\.?|seconds|sekunder|min)\b"),
)


def differences(before: Path, after: Path) -> list[str]:
    """One line per file that differs, or that exists in only one of the two directories."""
    names_before = _files(before)
    names_after = _files(after)
    found = [f"only in {before}: {n}" for n in sorted(names_before - names_after)]
    found += [f"only in {after}: {n}" for n in sorted(names_after - names_before)]
    for name in sorted(names_before & names_after):
        problem = _compare(name, before / name, after / name)
        if problem:
            found.append(f"{name}: {problem}")
    return found


def _files(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


def _compare(name: str, a: Path, b: Path) -> str | None:
    if name.endswith(".parquet"):
        return _compare_frames(pl.read_parquet(a), pl.read_parquet(b))
    if name.endswith(".xlsx"):
        return _compare_workbooks(a, b)
    if name == "run.json":
        return _compare_run_json(a, b)
    if name.endswith(".html"):
        text_a = _stable_html(a.read_text(encoding="utf-8"), a.parent)
        text_b = _stable_html(b.read_text(encoding="utf-8"), b.parent)
        return None if text_a == text_b else _first_text_difference(text_a, text_b)
    return None if a.read_bytes() == b.read_bytes() else "bytes differ"


def _compare_frames(a: pl.DataFrame, b: pl.DataFrame) -> str | None:
    if a.schema != b.schema:
        return f"schema differs: {dict(a.schema)} vs {dict(b.schema)}"
    if a.height != b.height:
        return f"{a.height} vs {b.height} rows"
    if a.equals(b, null_equal=True):
        return None
    columns = [
        c for c in a.columns if not a.get_column(c).equals(b.get_column(c), check_names=True)
    ]
    floats = {c: float((a[c] - b[c]).abs().max()) for c in columns if a.schema[c].is_float()}  # type: ignore[arg-type]
    spread = "".join(f"; {c} by at most {d:.3g}" for c, d in floats.items())
    return f"values differ in {columns[:10]}{spread}"


def _compare_workbooks(a: Path, b: Path) -> str | None:
    from openpyxl import load_workbook

    book_a = load_workbook(a, read_only=True)
    book_b = load_workbook(b, read_only=True)
    if book_a.sheetnames != book_b.sheetnames:
        return f"sheets {book_a.sheetnames} vs {book_b.sheetnames}"
    for sheet in book_a.sheetnames:
        rows_a = list(book_a[sheet].iter_rows(values_only=True))
        rows_b = list(book_b[sheet].iter_rows(values_only=True))
        if rows_a != rows_b:
            at = next(
                (i for i, (x, y) in enumerate(zip(rows_a, rows_b, strict=False)) if x != y), None
            )
            sizes = f"{len(rows_a)} vs {len(rows_b)} rows"
            return f"sheet {sheet!r}: {sizes}, first difference at row {at}"
    return None


def _compare_run_json(a: Path, b: Path) -> str | None:
    run_a, run_b = (_stable_run(json.loads(p.read_text(encoding="utf-8"))) for p in (a, b))
    if run_a == run_b:
        return None
    keys = sorted(k for k in set(run_a) | set(run_b) if run_a.get(k) != run_b.get(k))
    return f"differs in {keys}"


def _stable_run(run: dict[str, Any]) -> dict[str, Any]:
    stable = {k: v for k, v in run.items() if k not in _RUN_SPECIFIC}
    steps = {
        name: {k: v for k, v in step.items() if k != "substeps"} if isinstance(step, dict) else step
        for name, step in stable.get("steps", {}).items()
        if name != "write"  # its seconds
    }  # and the match step's seconds per sub-step
    return stable | {"steps": steps}


def _stable_html(text: str, out_dir: Path) -> str:
    text = text.replace(str(out_dir), "OUT")  # the commands it suggests name the directory
    for pattern in _HTML_VOLATILE:
        text = pattern.sub("·", text)
    return text


def _first_text_difference(a: str, b: str) -> str:
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    return f"text differs at character {at}: {a[at - 60 : at + 60]!r} vs {b[at - 60 : at + 60]!r}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    for path in (args.before, args.after):
        if not (path / "run.json").is_file():
            what = "does not exist" if not path.exists() else "has no run.json"
            print(f"compare_runs: {path} {what}: not a cleanse output directory", file=sys.stderr)
            sys.exit(2)
    found = differences(args.before, args.after)
    for line in found:
        print(line)
    print("identical" if not found else f"{len(found)} files differ")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
