"""Hostile inputs end to end (issue 9): each one finishes with every input row exactly once."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl

from datavask.connectors.output import read_excel_csv
from datavask.flows.cleanse import CleanseOptions, run_pipeline

REPO = Path(__file__).resolve().parents[2]
SAMPLE_CSV = REPO / "data" / "sample" / "customers.csv"
DATAVASK = shutil.which("datavask", path=str(Path(sys.executable).parent)) or "datavask"


def sample_rows() -> tuple[list[str], list[list[str]]]:
    """The sample's header and records (a record may span lines: c/o addresses)."""
    text = SAMPLE_CSV.read_bytes().decode("cp1252")
    header, *rows = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    return header, rows


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """A ';'-separated UTF-8 file the way Excel writes it (fields quoted only where needed)."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows([header, *rows])
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path


def cleanse(tmp_path: Path, source: Path | str, **options: object) -> Path:
    out = tmp_path / "out"
    opts = CleanseOptions(input=str(source), out=str(out), registry="none", **options)  # type: ignore[arg-type]
    run_pipeline(opts, orchestrated=False)
    return out


def assert_rows_conserved(out: Path, expected_rows: int) -> pl.DataFrame:
    records = pl.read_parquet(out / "records.parquet")
    assert records.height == expected_rows
    assert records["source_row"].to_list() == list(range(1, expected_rows + 1))
    assert records["record_id"].n_unique() == expected_rows
    assert any(c.startswith("src_") for c in records.columns)
    return records


def test_made_up_ids_never_collide_with_real_ones(tmp_path: Path) -> None:
    """A blank id on row 1 beside customer 1, and ids 5, 5, 5#1: the run finishes (was ShapeError)."""
    header, rows = sample_rows()
    rows = rows[:120]
    rows[9] = ["77", *rows[0][1:]]  # a duplicate of the row that will have no id
    for row, customer_number in zip(rows, ["", "1", "5", "5", "5#1"], strict=False):
        row[0] = customer_number
    source = write_rows(tmp_path / "ids.csv", header, rows)

    out = cleanse(tmp_path, source)
    records = assert_rows_conserved(out, 120)
    assert records["src_Kundenr"].head(5).to_list() == [None, "1", "5", "5", "5#1"]

    counts = json.loads((out / "run.json").read_text())["counts"]
    assert (counts["rows_without_id"], counts["repeated_ids"], counts["rows_with_repeated_id"]) == (
        1,
        1,
        2,
    )
    # The CRM gets back only ids it has: the row without one has an empty id cell ...
    update = pl.read_csv(
        out / "reimport" / "customers_update.csv", separator=";", infer_schema=False
    )
    # ... and the two rows sharing customer 5 stay out of it: loaded by id, one would overwrite
    # the other
    assert update.height == 118
    assert update["Kundenr"].head(3).to_list() == [None, "1", "5#1"]
    assert "5" not in update["Kundenr"].to_list()
    # ... and the merge plan names records by the CRM's ids, or by input row where there is none.
    plan = read_excel_csv(out / "reimport" / "merge_plan.csv")
    crm_ids = set(records["src_Kundenr"].drop_nulls().to_list())
    named = plan["survivor_id"].drop_nulls().to_list() + [
        i for ids in plan["merged_ids"].drop_nulls().to_list() for i in ids.split(";")
    ]
    assert named and set(named) <= crm_ids
    first = plan.filter(pl.col("survivor_row") == "1").row(0, named=True)
    assert first["survivor_id"] is None and first["merged_ids"] == "77"
    assert first["merged_rows"] == "10"


def test_customer_numbers_that_are_cpr_numbers_never_go_back_masked(tmp_path: Path) -> None:
    """An export keyed by CPR number: every key masked alike, so loaded back each row would
    update one customer with the others' values. Those rows stay out of the update, the merge
    plan names them by row, and run.json counts them."""
    header, rows = sample_rows()
    rows = rows[:60]
    rows[1] = ["0101901234", *rows[0][1:]]  # a duplicate of row 1, keyed by a CPR number
    rows[2][0] = "1505821122"
    source = write_rows(tmp_path / "cpr_keys.csv", header, rows)

    out = cleanse(tmp_path, source)
    records = assert_rows_conserved(out, 60)
    assert json.loads((out / "run.json").read_text())["counts"]["rows_with_masked_id"] == 2
    update = pl.read_csv(
        out / "reimport" / "customers_update.csv", separator=";", infer_schema=False
    )
    assert update["Kundenr"].to_list() == [r[0] for i, r in enumerate(rows) if i not in (1, 2)]
    plan = read_excel_csv(out / "reimport" / "merge_plan.csv")
    first = plan.filter(pl.col("survivor_row") == "1").row(0, named=True)
    assert first["survivor_id"] == rows[0][0] and first["merged_ids"] is None
    assert first["merged_rows"] == "2"
    written = b"".join(f.read_bytes() for f in out.rglob("*") if f.is_file())
    assert b"0101901234" not in written and b"1505821122" not in written
    assert records["src_Kundenr"].head(3).to_list()[1:] == ["XXXXXX-XXXX"] * 2


def test_the_update_has_the_inputs_header_as_typed(tmp_path: Path) -> None:
    """A trailing delimiter, a blank header cell and a padded one came back as column_3,
    column_7 and a trimmed name: the CRM's import maps columns by the header it wrote."""
    source = tmp_path / "bc.csv"
    header = "Kundenr;Navn;; Adresse;Postnr;By;"
    source.write_bytes(
        (header + "\r\n" + "00001;Hansen Byg ApS;x;Algade 1;4000;Roskilde;\r\n").encode("cp1252")
    )
    out = cleanse(tmp_path, source)
    update = (out / "reimport" / "customers_update.csv").read_bytes().decode("cp1252")
    assert update.split("\r\n")[0] == header
    assert update.split("\r\n")[1] == "00001;Hansen Byg ApS;x;Algade 1;4000;Roskilde;"


def test_a_stray_quote_loses_no_row_end_to_end(tmp_path: Path) -> None:
    """400 rows in, 400 out (was 397, exit 0), the row with the quote reported."""
    header, rows = sample_rows()
    source = write_rows(tmp_path / "stray.csv", header, rows)
    lines = source.read_bytes().split(b"\r\n")
    lines[10] = lines[10].replace(b";", b';"', 1)  # row 10: 10010;"Kristian Bertelsen;…
    source.write_bytes(b"\r\n".join(lines))

    out = cleanse(tmp_path, source)
    records = assert_rows_conserved(out, 400)
    assert records.filter(pl.col("source_problem").is_not_null())["source_row"].to_list() == [10]
    assert records["src_Kundenr"].to_list() == [r[0] for r in rows]
    run = json.loads((out / "run.json").read_text())
    assert run["counts"]["rows_with_input_problems"] == 1
    update = pl.read_csv(
        out / "reimport" / "customers_update.csv", separator=";", infer_schema=False
    )
    # the reported row is not loaded back: its cells may stand under other headers
    assert update.height == 399
    assert rows[9][0] not in update["Kundenr"].to_list()


def test_parquet_list_and_struct_columns_are_carried_through(tmp_path: Path) -> None:
    """A list or struct column crashed the write step; now src_* keeps it, CSVs get JSON text."""
    header, rows = sample_rows()
    table = pl.DataFrame(rows[:80], schema=header, orient="row")
    table = table.with_columns(
        pl.concat_list("Telefon", "E-mail").alias("Kontakter"),
        pl.struct("Postnr", "By").alias("Sted"),
        pl.lit(None, dtype=pl.List(pl.Int64)).alias("Tags"),
    )
    source = tmp_path / "nested.parquet"
    table.write_parquet(source)

    out = cleanse(tmp_path, source, format="csv")
    records = assert_rows_conserved(out, 80)
    assert records["src_Kontakter"].to_list() == table["Kontakter"].to_list()
    assert records["src_Sted"].to_list() == table["Sted"].to_list()
    assert records.schema["src_Tags"] == pl.List(pl.Int64)
    update = pl.read_csv(out / "reimport" / "customers_update.csv", infer_schema=False)
    first = rows[0]
    assert json.loads(update["Kontakter"][0]) == [first[9], first[8]]
    assert json.loads(update["Sted"][0]) == {"Postnr": first[3], "By": first[4]}
    assert update["Tags"].null_count() == 80
    assert pl.read_csv(out / "records.csv", infer_schema=False).height == 80


def test_a_wide_input_takes_seconds_not_minutes(tmp_path: Path) -> None:
    """20,000 columns: every stage carried them all, the re-import was quadratic (100,000
    columns ran for more than 15 minutes). Measured as CPU time of `datavask cleanse`, which a
    busy machine does not inflate the way it does wall time."""
    header, rows = sample_rows()
    extra = [f"Felt {i}" for i in range(20_000 - len(header))]
    values = [f"v{i % 7}" for i in range(len(extra))]
    source = write_rows(tmp_path / "wide.csv", header + extra, [r + values for r in rows[:20]])
    out = tmp_path / "out"

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [DATAVASK, "cleanse", str(source), "--out", str(out), "--registry", "none"],
        env=dict(os.environ, DATAVASK_ORCHESTRATION="none"),
        capture_output=True,
        timeout=280,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < 60, f"{cpu:.0f} s of CPU for 20,000 columns"
    records = assert_rows_conserved(out, 20)
    assert records.width > 20_000 and records["src_Felt 19989"].to_list() == ["v4"] * 20
    update = (out / "reimport" / "customers_update.csv").read_text(encoding="utf-8")
    assert update.splitlines()[0].count(";") == 19_999


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [DATAVASK, "cleanse", *args, "--registry", "none"],
        input=stdin,
        env=dict(os.environ, DATAVASK_ORCHESTRATION="none"),
        capture_output=True,
        timeout=280,
        check=False,
    )


def test_gzipped_csv_on_standard_input(tmp_path: Path) -> None:
    """`zcat`-less: `datavask cleanse - < kunder.csv.gz` reads the whole export."""
    out = tmp_path / "out"
    done = run_cli("-", "--out", str(out), stdin=gzip.compress(SAMPLE_CSV.read_bytes()))
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert_rows_conserved(out, 400)
    run = json.loads((out / "run.json").read_text())
    assert (run["input"]["path"], run["input"]["compression"]) == ("<stdin>", "gzip")


def test_sheet_option_and_the_sheets_not_read(tmp_path: Path) -> None:
    """Only the first sheet was read and nothing said so; --sheet picks one, run.json names the
    rest, and Excel dates go back to the CRM as the workbook showed them."""
    import openpyxl

    header, rows = sample_rows()
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Noter"
    notes.append(["Husk at ringe til revisor"])
    customers = book.create_sheet("Kunder")
    customers.append([*header, "Oprettet"])
    for i, row in enumerate(rows[:60]):
        customers.append([*row, dt.date(2020, 1, 1) + dt.timedelta(days=i)])
        customers.cell(i + 2, len(header) + 1).number_format = "dd-mm-yyyy"
    source = tmp_path / "kunder.xlsx"
    book.save(source)

    done = run_cli(str(source), "--out", str(tmp_path / "first"))
    assert done.returncode == 2
    assert b"Noter" in done.stderr and b"Traceback" not in done.stderr

    out = tmp_path / "out"
    done = run_cli(str(source), "--sheet", "Kunder", "--out", str(out))
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert_rows_conserved(out, 60)
    run = json.loads((out / "run.json").read_text())
    assert run["input"]["sheet"] == "Kunder" and run["input"]["sheets_not_read"] == ["Noter"]
    assert run["counts"]["sheets_not_read"] == 1
    # a workbook's CSV re-import opens in a Danish Excel: UTF-8 with BOM, ";"-separated
    update = read_excel_csv(out / "reimport" / "customers_update.csv")
    assert update["Oprettet"].head(2).to_list() == ["01-01-2020", "02-01-2020"]

    done = run_cli(str(source), "--sheet", "Debitorer", "--out", str(tmp_path / "none"))
    assert done.returncode == 2 and b"no sheet 'Debitorer'" in done.stderr
