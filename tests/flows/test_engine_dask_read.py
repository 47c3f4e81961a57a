"""``--engine dask`` reads a hostile file in parts on the workers and writes what one read gives.

The sample (cp1252, CRLF, quoted c/o line breaks) made worse: repeated and blank customer
numbers, a stray quote, blank lines, a row with an extra field, a CPR number in a header cell, the
header again halfway.
``datavask cleanse`` runs as a user runs it, once per engine, on a 2-process cluster; run.json
says the workers read the input, and every output is the same (``bench.compare_runs``). The byte
ranges themselves are tested cut by cut in ``tests/connectors/test_input_parts.py``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.compare_runs import differences

REPO = Path(__file__).resolve().parents[2]
SAMPLE_CSV = REPO / "data" / "sample" / "customers.csv"


def _hostile_sample(path: Path) -> Path:
    text = SAMPLE_CSV.read_bytes().decode("cp1252")
    header, *rows = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header[7] = "EAN 010190-1234"  # a CPR number in a header cell
    rows[5][0] = rows[6][0] = rows[7][0]  # a customer number three rows share
    rows[8][0] = rows[300][0] = ""  # and rows without one
    rows[100][1] = '"' + rows[100][1]  # a quote never closed
    rows[200].append("ekstra")  # one field too many
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for i, row in enumerate(rows):
        if i in (50, 250):
            buffer.write("\r\n")  # blank lines
        if i == 150:
            writer.writerow(header)  # two exports joined: the header again
        if i == 100:
            buffer.write(";".join(row) + "\r\n")  # the stray quote as typed
        else:
            writer.writerow(row)
    path.write_bytes(buffer.getvalue().encode("cp1252"))
    return path


def _cleanse(source: Path, out: Path, *extra: str, tmp: Path) -> dict[str, object]:
    env = dict(os.environ)
    env.update(DATAVASK_ORCHESTRATION="none", DATAVASK_HOME=str(tmp / "home"), NO_COLOR="1")
    command = [sys.executable, "-m", "datavask", "cleanse", str(source), "--out", str(out)]
    done = subprocess.run(
        [*command, "--registry", "none", *extra],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads((out / "run.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.slow  # two cleanses and a cluster: about a minute on a loaded 2-core machine
@pytest.mark.timeout(900)
def test_a_hostile_file_read_in_parts_gives_the_local_outputs(tmp_path: Path) -> None:
    source = _hostile_sample(tmp_path / "kunder.csv")
    local = _cleanse(source, tmp_path / "local", tmp=tmp_path)
    dask = _cleanse(source, tmp_path / "dask", "--engine", "dask", "--workers", "2", tmp=tmp_path)
    assert dask["engine"]["read"]["where"] == "workers", dask["engine"]
    assert local["input"]["rows_with_problems"] >= 3 and local["input"]["ids_repeated"] == 1
    assert local["input"]["blank_lines_skipped"] == 2
    assert "010190-1234" not in json.dumps(dask)
    assert differences(tmp_path / "local", tmp_path / "dask") == []


def test_a_narrow_text_input_is_cut_by_its_rows_not_only_its_bytes(tmp_path: Path) -> None:
    """Partitions of about ``dask_partition_rows`` rows (:func:`_rows_about`): from the lines in
    the first bytes of a plain-text input; nothing for a compressed file or Parquet."""
    import gzip

    import polars as pl

    from datavask.flows.engine_dask import ROWS_SAMPLE_BYTES, _rows_about

    rows = 3 * ROWS_SAMPLE_BYTES // 40  # past the sample: the rest is estimated
    frame = pl.DataFrame({"name": [f"Kunde {i} ApS" for i in range(rows)], "cvr": range(rows)})
    text = tmp_path / "customers.csv"
    frame.write_csv(text)
    estimate = _rows_about(str(text), text.stat().st_size)
    assert abs(estimate - (rows + 1)) < rows * 0.05, (estimate, rows)
    packed = tmp_path / "customers.csv.gz"
    packed.write_bytes(gzip.compress(text.read_bytes()))
    assert _rows_about(str(packed), packed.stat().st_size) == 0
    table = tmp_path / "customers.parquet"
    frame.write_parquet(table)
    assert _rows_about(str(table), table.stat().st_size) == 0
    assert _rows_about(str(text), 0) == 0
