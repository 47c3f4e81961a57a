"""report.html and worklist.xlsx of real runs: numbers, complete lists, languages, and safety.

The runs are real cleanses of the bundled sample (and of a hostile file) through
:func:`run_pipeline`; the page is checked as text, and in headless Chromium driven by WebDriver
(Debian's chromium-driver, :mod:`bench.browser`) in the tests marked ``browser``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from bench.browser import chromium, open_page, show_all_rows
from datavask.cleansing.schema import BLOCKS_INVOICE, REASON_CODES
from datavask.connectors.output import read_excel_csv
from datavask.connectors.report import render_report, summary_markdown, summary_table
from datavask.connectors.report_model import customer_counts
from datavask.connectors.report_text import FLAG_ACTION, FLAG_TEXT, LANGUAGES, MESSAGES, Text
from datavask.flows.cleanse import CleanseOptions, run_pipeline

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample" / "customers.csv"


def cleanse(out: Path, input_path: Path, **options: Any) -> Path:
    run_pipeline(CleanseOptions(input=str(input_path), out=str(out), **options), orchestrated=False)
    return out


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cleanse(tmp_path_factory.mktemp("report") / "run", SAMPLE)


@pytest.fixture(scope="module")
def english_run(sample_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("report-en") / "run"
    shutil.copytree(sample_run, run_dir)
    render_report(run_dir, lang="en")
    return run_dir


def page_json(html: str) -> dict[str, Any]:
    block = html.split('<script type="application/json" id="datavask-data">')[1]
    return dict(json.loads(block.split("</script>")[0]))


def metrics_in(html: str) -> dict[str, int]:
    found = re.findall(r'data-metric="([a-z_]+)" data-value="(\d+)">([^<]+)<', html)
    shown = {key: int(re.sub(r"[.,]", "", text)) for key, _, text in found}
    assert shown == {key: int(value) for key, value, _ in found}  # the text says the value
    return shown


def blocking_records(run_dir: Path) -> pl.DataFrame:
    """The records that hold their customer's invoices: an invoice-blocking code, but not a
    MISSING_CVR or MISSING_EAN of a customer holding that number on another record (the merge
    settles it)."""
    records = pl.read_parquet(run_dir / "records.parquet")
    holds = {
        code: set(records.filter(pl.col(column).is_not_null())["cluster_id"].to_list())
        for code, column in (("MISSING_CVR", "cvr"), ("MISSING_EAN", "ean"))
    }
    blocking = [
        any(c in BLOCKS_INVOICE and cluster not in holds.get(c, ()) for c in flags)
        for cluster, flags in records.select("cluster_id", "flags").iter_rows()
    ]
    return records.filter(pl.Series(blocking, dtype=pl.Boolean))


def blocked_clusters(run_dir: Path) -> set[str]:
    return set(blocking_records(run_dir)["cluster_id"].to_list())


# --------------------------------------------------------------------------- the numbers


def test_numbers_on_the_page_equal_run_json(sample_run: Path) -> None:
    html = (sample_run / "report.html").read_text(encoding="utf-8")
    run = json.loads((sample_run / "run.json").read_text(encoding="utf-8"))
    shown = metrics_in(html)
    assert shown and all(run["counts"][key] == value for key, value in shown.items())
    for key in ("records", "customers", "customers_blocked_invoice", "invoice_ready"):
        assert key in shown
    for code in REASON_CODES:
        assert f'data-flag="{code}" data-value="{run["flags"].get(code, 0)}"' in html


def test_customers_and_records_are_counted_one_way(sample_run: Path) -> None:
    run = json.loads((sample_run / "run.json").read_text(encoding="utf-8"))
    counts = run["counts"]
    records = pl.read_parquet(sample_run / "records.parquet")
    assert customer_counts(records) == {k: counts[k] for k in customer_counts(records)}
    # records that hold their customer's invoices: at most the records not invoice-ready, a code
    # the merge settles left out
    assert counts["records_blocked_invoice"] == blocking_records(sample_run).height
    assert counts["records_blocked_invoice"] <= counts["records"] - counts["invoice_ready"]
    assert counts["customers_blocked_invoice"] == len(blocked_clusters(sample_run))
    html = (sample_run / "report.html").read_text(encoding="utf-8")
    # the section says the same customers and records as the headline
    lead = Text("da")(
        "section_invoice_lead",
        n=counts["customers_blocked_invoice"],
        records=counts["records_blocked_invoice"],
    )
    assert lead.split(":")[0] in html
    assert f'data-group="invoice" data-value="{counts["customers_blocked_invoice"]}"' in html


def test_every_invoice_blocked_customer_is_listed_in_page_and_worklist(sample_run: Path) -> None:
    expected = blocked_clusters(sample_run)
    data = page_json((sample_run / "report.html").read_text(encoding="utf-8"))
    cluster = data["fields"].index("cluster_id")
    listed = {data["customers"][i][cluster] for i in data["tables"]["invoice"]["index"]}
    assert listed == expected and len(expected) > 20

    book = openpyxl.load_workbook(sample_run / "worklist.xlsx", read_only=True)
    rows = list(book["Kan ikke faktureres"].iter_rows(values_only=True))
    book.close()  # a read-only workbook holds its file open until closed
    header = rows[0]
    ids = {row[header.index("kunde-id")] for row in rows[1:]}
    assert ids == expected
    records = pl.read_parquet(sample_run / "records.parquet")
    bankrupt = records.filter(pl.col("flags").list.contains("COMPANY_BANKRUPT"))
    numbers = " ".join(str(row[header.index("kundenumre")]) for row in rows[1:])
    assert all(rid in numbers for rid in bankrupt["record_id"])  # all four, not three examples


def test_sections_come_in_money_order(sample_run: Path) -> None:
    html = (sample_run / "report.html").read_text(encoding="utf-8")
    order = [
        html.index(f'id="{key}"')
        for key in (
            "group-invoice",
            "group-collection",
            "group-registry",
            "group-duplicates",
            "review",
            "group-quality",
        )
    ]
    assert order == sorted(order)
    assert "datavask review " + str(sample_run) in html


def test_registry_statuses_are_classes_with_the_raw_status_beside(sample_run: Path) -> None:
    html = (sample_run / "report.html").read_text(encoding="utf-8")
    active = html.split('data-registry-class="active"')[1].split("</tr>")[0]
    assert "NORMAL" in active and "Aktiv" in active  # one class, both raw spellings
    assert 'data-registry-class="bankrupt"' in html and "UNDER KONKURS" in html


def test_danish_by_default_english_on_request(sample_run: Path, english_run: Path) -> None:
    danish = (sample_run / "report.html").read_text(encoding="utf-8")
    english = (english_run / "report.html").read_text(encoding="utf-8")
    assert '<html lang="da">' in danish and "Kan ikke faktureres" in danish
    assert "kan ikke sendes til inkasso" in danish and "dubletter" in danish
    assert '<html lang="en">' in english and "Cannot be invoiced" in english
    assert "Kan ikke faktureres" not in english
    for code in ("MISSING_CVR", "COMPANY_BANKRUPT"):  # codes keep their names
        assert code in danish and code in english
    assert FLAG_TEXT["da"]["COMPANY_BANKRUPT"] in danish
    assert FLAG_TEXT["en"]["COMPANY_BANKRUPT"] in english
    assert re.search(
        r"\d+\. (jan|feb|mar|apr|maj|jun|jul|aug|sep|okt|nov|dec)\.? \d{4} kl\. \d\d\.\d\d", danish
    )
    book = openpyxl.load_workbook(english_run / "worklist.xlsx", read_only=True)
    book.close()
    assert book.sheetnames[0] == "Cannot be invoiced"


def test_nothing_reads_as_deleted_and_no_bits(sample_run: Path) -> None:
    html = (sample_run / "report.html").read_text(encoding="utf-8")
    assert "→ empty" not in html and "bits" not in html
    # The band the run used (by default derived from the model) as the reader says it.
    band = json.loads((sample_run / "run.json").read_text())["steps"]["match"]["review_band"]
    assert band["source"] == "model"
    text = Text("da")
    said = f"{text.probability(band['low'])} – {text.probability(band['high'])}"
    assert f"{said} ({text('review_band_derived')})" in html
    # the review lead says the band in whole percent (33 %, not 33,333 %)
    assert f"(sandsynlighed fra {text.chance(band['low'])} til {text.chance(band['high'])})" in html


def test_monitoring_alerts_hook_lists_the_alerts(sample_run: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(sample_run, run_dir)
    alerts = pl.DataFrame(
        {"cvr": ["62043814"], "record_ids": ["10012"], "name": ["Engbørnehaven"],
         "alert": ["BANKRUPT"], "before": ["NORMAL"], "after": ["UNDER KONKURS"],
         "registry_changed_at": ["2026-11-30"], "detected_at": ["2026-12-01T05:00:00+00:00"]}
    )  # fmt: skip
    html = render_report(run_dir, alerts=alerts).read_text(encoding="utf-8")
    assert 'id="alerts"' in html and "BANKRUPT" in page_json(html)["tables"]["alerts"]["rows"][0]
    book = openpyxl.load_workbook(run_dir / "worklist.xlsx", read_only=True)
    rows = list(book["Overvågning"].iter_rows(values_only=True))
    book.close()
    assert rows[1][:4] == ("62043814", "10012", "Engbørnehaven", "BANKRUPT")
    assert 'id="alerts"' not in (sample_run / "report.html").read_text(encoding="utf-8")


def test_terminal_summary_speaks_the_report_language(
    sample_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datavask.flows.cli import _print_summary

    run = json.loads((sample_run / "run.json").read_text(encoding="utf-8"))
    blocked = str(run["counts"]["customers_blocked_invoice"])
    # run.json's note is English; the Danish "Tid" row said it so
    run["orchestration"] = MESSAGES["en"]["orchestration_no_server"]
    for lang, words in (("da", ("Kunder kan ikke faktureres", "Til vurdering", "poster",
                                "kørt uden Prefect: ingen server sat op")),
                        ("en", ("Customers cannot be invoiced", "To review", "records",
                                "ran without Prefect: no server configured"))):  # fmt: skip
        run["options"]["lang"] = lang
        _print_summary(run, wall=3.0)
        out = " ".join(capsys.readouterr().err.split())
        assert all(word in out for word in words), out
        assert f"Kunder kan ikke faktureres {blocked}" in out or f"invoiced {blocked}" in out


def test_catalogue_is_complete_in_every_language() -> None:
    for lang in LANGUAGES:
        assert set(MESSAGES[lang]) == set(MESSAGES["da"])
        assert set(FLAG_TEXT[lang]) == set(REASON_CODES) == set(FLAG_ACTION[lang])


def test_every_rule_changes_csv_can_carry_is_explained() -> None:
    """The rules as cleansing.changes writes them, read from its code (the literals its rule
    expressions hold, and the rule of each field): a new rule without words in the worklist's
    Ændringer sheet fails here, not in a credit manager's hands."""
    import ast
    import inspect

    from datavask.cleansing import changes
    from datavask.connectors.report_text import RULE_TEXT

    tree = ast.parse(inspect.getsource(changes))
    functions = {"build_changes", "_name_rule"}
    written = {
        call.args[0].value
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef) and function.name in functions
        for call in ast.walk(function)
        if isinstance(call, ast.Call)
        and ast.unparse(call.func) == "pl.lit"
        and call.args
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
        and call.args[0].value  # not the empty text a cell is emptied to
    }
    written |= set(changes._FIELD_RULE.values())
    assert {"name_case", "cpr_masked", "trimmed", "phone_e164", "cvr_compact"} <= written
    assert written <= set(changes.RULES)
    for lang in LANGUAGES:
        assert set(RULE_TEXT[lang]) == set(changes.RULES), lang


def test_numbers_and_times_in_danish_and_english() -> None:
    da, en = Text("da"), Text("en")
    assert da.number(1234567) == "1.234.567" and en.number(1234567) == "1,234,567"
    assert da.number(87.456, 1) == "87,5" and da.number(None) == "–"
    assert da.percent(343, 400) == "85,8 %" and en.percent(343, 400) == "85.8%"
    assert da.probability(0.996) == "99,6 %" and da.probability(0.8) == "80 %"
    # Copenhagen time: UTC+1 in winter, UTC+2 in summer
    assert da.time("2026-12-02T02:50:43+00:00") == "2. dec. 2026 kl. 03.50"
    assert en.time("2026-07-01T10:00:00+00:00") == "1 Jul 2026, 12:00"
    with pytest.raises(ValueError, match="--lang"):
        Text("de")


def test_why_a_decision_was_not_obeyed_in_danish_and_english() -> None:
    """Worded from run.json's reason and values, not from its English ``problem``; a run made
    before reasons were written shows its ``problem`` as it is."""
    reused = {
        "record_id_l": "90001", "record_id_r": "90002", "decision": "same",
        "problem": "record 90001 is another customer now: Mette Skov, not Kjærs Murer ApS",
        "reason": "another_customer",
        "values": {"record": "90001", "name_now": "Mette Skov", "name_then": "Kjærs Murer ApS"},
    }  # fmt: skip
    twice = {"problem": "…", "reason": "repeated_id", "values": {"record": "90003"}}
    assert Text("da").decision_problem(reused) == (
        "post 90001 er en anden kunde nu: Mette Skov, ikke Kjærs Murer ApS"
    )
    assert Text("en").decision_problem(reused) == reused["problem"]
    assert Text("da").decision_problem(twice).startswith("post 90003 står mere end én gang")
    older = {
        "record_id_l": "1",
        "record_id_r": "2",
        "problem": "record 1 is no longer in the input",
    }
    assert Text("da").decision_problem(older) == older["problem"]


def test_prefect_summaries_use_the_same_numbers(sample_run: Path) -> None:
    run = json.loads((sample_run / "run.json").read_text(encoding="utf-8"))
    rows = {row["metric"]: row for row in summary_table(run)}
    assert rows["kunder kan ikke faktureres"]["value"] == str(
        run["counts"]["customers_blocked_invoice"]
    )
    assert rows["COMPANY_BANKRUPT"]["note"].endswith(FLAG_TEXT["da"]["COMPANY_BANKRUPT"])
    markdown = summary_markdown(run)
    customers = run["counts"]["customers"]
    assert f"400 poster → {customers} kunder" in markdown
    assert f"400 records → {customers} customers" in summary_markdown(run, "en")
    run["input"]["path"] = "/x/<img src=x onerror=alert(1)>|.csv"
    assert "<img" not in summary_markdown(run)


def test_a_registry_that_knows_none_of_the_files_companies_is_a_warning_not_typos(
    sample_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another file's companies against the bundled sample registry (the default): each valid
    CVR number is CVR_NOT_FOUND, which says the registry does not cover them, not that all
    were mistyped. run.json, the terminal, the page and the worklist say so."""
    from datavask.flows.cli import _print_summary

    cvrs = ("55807302", "66086569", "65828235", "30215273", "79732915", "56136797")
    rows = [f"{i};Firma {chr(65 + i)} ApS;Algade {i};4000;Roskilde;{cvr}" for i, cvr in
            enumerate(cvrs, 1)]  # fmt: skip
    file = tmp_path / "kunder.csv"
    file.write_text("Kundenr;Navn;Adresse;Postnr;By;CVR-nr\n" + "\n".join(rows) + "\n", "utf-8")
    run_dir = cleanse(tmp_path / "run", file)
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    step = run["steps"]["registry"]
    assert (step["checked"], step["not_found"], step["uncovered"]) == (6, 6, True)
    assert "does not cover this file's companies" in step["warning"]
    assert run["flags"]["CVR_NOT_FOUND"] == 6  # the flags and the exit status stay as they were
    _print_summary(run, wall=1.0)
    out = " ".join(capsys.readouterr().err.split())
    assert "Advarsel registret kendte kun 0 af 6 CVR-numre" in out
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert 'id="registry-warning">Advarsel: CVR-registret' in html
    assert (
        page_json(html)["text"]["actions"]["CVR_NOT_FOUND"]
        == (MESSAGES["da"]["action_cvr_not_found_uncovered"])
    )
    sheet = openpyxl.load_workbook(run_dir / "worklist.xlsx")["Kan ikke faktureres"]
    header = [c.value for c in sheet[1]]
    todo = {row[header.index("hvad du skal gøre")] for row in sheet.iter_rows(min_row=2,
                                                                              values_only=True)}  # fmt: skip
    # the list's own reason first (a customer without a phone or e-mail says so after it)
    assert {t.split("\n")[0] for t in todo} == {MESSAGES["da"]["action_cvr_not_found_uncovered"]}
    # The sample's own companies are in the sample registry: no warning there.
    sample = json.loads((sample_run / "run.json").read_text(encoding="utf-8"))
    assert "warning" not in sample["steps"]["registry"]
    assert 'id="registry-warning"' not in (sample_run / "report.html").read_text("utf-8")


# --------------------------------------------------------------------------- worklist.xlsx


def test_worklist_sheets_are_ready_for_people(sample_run: Path) -> None:
    book = openpyxl.load_workbook(sample_run / "worklist.xlsx")
    assert book.sheetnames == [
        "Kan ikke faktureres",
        "Kan ikke inddrives",
        "CVR-hændelser",
        "Dubletter",
        "Sammenlægningsplan",
        "Til vurdering",
        "Datakvalitet",
        "Ændringer",
    ]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref, sheet.title
        assert sheet.column_dimensions["A"].width >= 8
    invoice = book["Kan ikke faktureres"]
    header = [c.value for c in invoice[1]]
    for column in (
        "kundenumre",
        "årsagskoder",
        "hvad du skal gøre",
        "navn i CRM",
        "CVR på virk.dk",
        "status i CVR",
    ):
        assert column in header
    link = header.index("CVR på virk.dk") + 1
    urls = [invoice.cell(r, link) for r in range(2, invoice.max_row + 1)]
    assert any(c.value and c.hyperlink for c in urls)
    assert all(
        c.value is None or c.value.startswith("https://datacvr.virk.dk/enhed/virksomhed/")
        for c in urls
    )
    changes = read_excel_csv(sample_run / "changes.csv")
    assert book["Ændringer"].max_row == changes.height + 1
    review = json.loads((sample_run / "run.json").read_text())["counts"]["pairs_review"]
    assert book["Til vurdering"].max_row == review + 1


def test_the_changes_sheet_says_each_field_and_rule_in_words(
    sample_run: Path, english_run: Path
) -> None:
    """Ændringer held the codes alone (``postal_code``, ``phone_e164``): the codes stay, for the
    filters, and their words stand beside them, Danish or English as the report."""
    from datavask.connectors.report_text import RULE_TEXT

    changes = read_excel_csv(sample_run / "changes.csv")
    assert {"phone_e164", "cvr_compact"} <= set(changes["rule"])
    for run_dir, lang, sheet in ((sample_run, "da", "Ændringer"), (english_run, "en", "Changes")):
        book = openpyxl.load_workbook(run_dir / "worklist.xlsx", read_only=True)
        header, *rows = book[sheet].iter_rows(values_only=True)
        book.close()
        text = Text(lang)
        column = {name: header.index(text(name)) for name in
                  ("x_field", "x_field_name", "x_rule", "x_rule_text")}  # fmt: skip
        assert len(rows) == changes.height
        for row in rows:
            rule = row[column["x_rule"]]
            assert row[column["x_rule_text"]] == RULE_TEXT[lang][rule]
            assert row[column["x_field_name"]] == text(f"field_{row[column['x_field']]}")
        phone = next(r for r in rows if r[column["x_field"]] == "phone")
        assert phone[column["x_field_name"]] == {"da": "telefon", "en": "phone"}[lang]


def test_probabilities_are_numbers_shown_as_percentages(sample_run: Path) -> None:
    """The worklist showed ``1``, ``0.9992``, ``0.9858`` in General format where the report says
    ``100 %`` and ``98,6 %``: each probability is a number (Excel sorts and filters it) with a
    percent number format."""
    book = openpyxl.load_workbook(sample_run / "worklist.xlsx")
    columns = {
        "Dubletter": "sandsynlighed",
        "Sammenlægningsplan": "sandsynlighed",
        "Til vurdering": "sandsynlighed for samme kunde",
    }
    for sheet, column in columns.items():
        header = [c.value for c in book[sheet][1]]
        cells = [row[header.index(column)] for row in book[sheet].iter_rows(min_row=2)]
        values = [c for c in cells if c.value is not None]
        assert values, sheet
        assert all(isinstance(c.value, float | int) and 0 <= c.value <= 1 for c in values), sheet
        assert {c.number_format for c in values} == {"0.0%"}, sheet


def sample_with(
    rows: list[dict[str, str]], path: Path, rename: dict[str, str] | None = None
) -> Path:
    """The sample export with ``rows`` appended (and its headers renamed), as UTF-8 CSV."""
    sample = pl.read_csv(SAMPLE, separator=";", encoding="cp1252", infer_schema=False)
    frame = pl.concat([sample, pl.DataFrame(rows).cast(pl.String)], how="diagonal")
    frame.rename(rename or {}).write_csv(path, separator=";")
    return path


def test_worklist_holds_no_formulas(tmp_path: Path) -> None:
    hostile = {
        "Kundenr": "=1+1",
        "Navn": '=HYPERLINK("http://x";"klik")',
        "Adresse": "@SUM(A1)",
        "Postnr": "8000",
        "By": "+Aarhus",
        "Telefon": "-45 12",
        "E-mail": "=a@b.dk",
    }
    source = sample_with([hostile], tmp_path / "kunder.csv")
    run_dir = cleanse(tmp_path / "run", source)
    book = openpyxl.load_workbook(run_dir / "worklist.xlsx")
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    values = " ".join(str(c.value) for s in book.worksheets for row in s.iter_rows() for c in row)
    assert "=1+1" in values and "@SUM(A1)" in values  # written, as text


def test_report_command_rerenders_in_english_and_refuses_a_broken_run(
    sample_run: Path, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(sample_run, run_dir)
    done = subprocess.run(
        [sys.executable, "-m", "datavask", "report", str(run_dir), "--lang", "en"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '<html lang="en">' in (run_dir / "report.html").read_text(encoding="utf-8")
    assert openpyxl.load_workbook(run_dir / "worklist.xlsx").sheetnames[0] == "Cannot be invoiced"
    (run_dir / "records.parquet").write_bytes(b"not parquet")
    done = subprocess.run(
        [sys.executable, "-m", "datavask", "report", str(run_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not list(run_dir.glob(".*.tmp"))


# --------------------------------------------------------------------------- hostile input

PAYLOADS = (
    "<script>window.__pwned=1;document.title='PWNED'</script>",
    '<img src=x onerror="window.__pwned=2">',
    '"><svg onload=window.__pwned=3>',
    "</script><script>window.__pwned=4</script>",
    "{{7*7}}<b onmouseover=window.__pwned=5>x</b>",
)


def hostile_run(tmp_path: Path) -> tuple[Path, list[str]]:
    """A cleanse of the sample with a payload in every field, two headers and the file name."""
    rename = {"Kundenr": f"Kundenr{PAYLOADS[1]}", "Navn": f"Navn{PAYLOADS[0]}"}
    rows = [
        {
            "Kundenr": f"{i}{payload}",
            "Navn": f"Firma {payload} ApS",
            "Adresse": f"Vej {payload} 1",
            "Postnr": "8000",
            "By": f"Aarhus{payload}",
            "E-mail": f"a{payload}@b.dk",
            "CVR-nr": payload,
            "Telefon": payload,
        }
        for i, payload in enumerate(PAYLOADS)
    ]
    folder = tmp_path / "in"
    folder.mkdir()
    source = sample_with(rows, folder / "kunder<img src=x onerror=window.__pwned=6>.csv", rename)
    mapping = folder / "mapping.toml"
    mapping.write_text(
        "[columns]\n"
        f"record_id = {json.dumps(rename['Kundenr'])}\nname = {json.dumps(rename['Navn'])}\n"
        'address = "Adresse"\npostal_code = "Postnr"\ncity = "By"\nemail = "E-mail"\n'
        'cvr = "CVR-nr"\nphone = "Telefon"\n',
        encoding="utf-8",
    )
    run_dir = cleanse(tmp_path / "run", source, mapping=str(mapping))
    return run_dir, list(rename.values())


def test_payloads_are_escaped_in_the_html(tmp_path: Path) -> None:
    run_dir, _ = hostile_run(tmp_path)
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    for payload in PAYLOADS:
        assert payload not in html
    assert "<img src=x" not in html and "<svg onload" not in html
    assert html.count("<script") == 2  # the JSON block and report.js, nothing from the data
    assert "{{7*7}}" in html  # data is never evaluated as a template
    assert "kunder&lt;img src=x onerror=window.__pwned=6&gt;.csv" in html  # the file name, escaped


# --------------------------------------------------------------------------- in a real browser


@pytest.mark.browser
def test_report_in_chromium_danish_and_english(
    sample_run: Path, english_run: Path, tmp_path: Path
) -> None:
    run = json.loads((sample_run / "run.json").read_text(encoding="utf-8"))
    with chromium(tmp_path / "profile") as driver:
        for run_dir, lang in ((sample_run, "da"), (english_run, "en")):
            page = open_page(driver, run_dir / "report.html")
            assert page["errors"] == [] and page["requests"] == [], page
            assert driver.execute_script("return document.documentElement.lang") == lang
            shown = driver.execute_script(
                "return [...document.querySelectorAll('[data-metric]')]"
                ".map(e => [e.dataset.metric, e.textContent.replace(/[.,]/g, '')])"
            )
            assert {k: int(v) for k, v in shown} == {k: run["counts"][k] for k, _ in shown}
            listed = show_all_rows(driver, "invoice")
            assert set(listed) == blocked_clusters(run_dir)
        title = driver.title
        assert "datavask" in title


@pytest.mark.browser
def test_search_and_sort_work_in_chromium(sample_run: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    records = pl.read_parquet(sample_run / "records.parquet")
    bankrupt = records.filter(pl.col("flags").list.contains("COMPANY_BANKRUPT")).row(0, named=True)
    with chromium(tmp_path / "profile") as driver:
        open_page(driver, sample_run / "report.html")
        table = driver.find_element(By.CSS_SELECTOR, '[data-table="invoice"]')
        search = table.find_element(By.CSS_SELECTOR, "input.search")
        search.send_keys(bankrupt["cvr"])
        rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
        assert [r.get_attribute("data-cluster") for r in rows] == [bankrupt["cluster_id"]]
        assert bankrupt["cvr"] in rows[0].text
        link = rows[0].find_element(By.CSS_SELECTOR, "a")
        assert (
            link.get_attribute("href")
            == f"https://datacvr.virk.dk/enhed/virksomhed/{bankrupt['cvr']}"
        )
        search.clear()
        search.send_keys("zzzz-nobody")
        assert table.find_elements(By.CSS_SELECTOR, "tbody tr") == []
        driver.execute_script(
            "arguments[0].value=''; arguments[0].dispatchEvent(new Event('input'))", search
        )

        # the reason filter keeps only the chosen code
        from selenium.webdriver.support.ui import Select

        Select(table.find_element(By.CSS_SELECTOR, "select.filter")).select_by_value(
            "COMPANY_BANKRUPT"
        )
        Select(table.find_element(By.CSS_SELECTOR, "select.page-size")).select_by_value("0")
        shown = {
            r.get_attribute("data-cluster")
            for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")
        }
        assert shown == set(
            records.filter(pl.col("flags").list.contains("COMPANY_BANKRUPT"))["cluster_id"]
        )
        Select(table.find_element(By.CSS_SELECTOR, "select.filter")).select_by_value("")

        # sort by CVR: ascending, then descending
        header = table.find_elements(By.CSS_SELECTOR, "thead th")[2]
        for descending in (False, True):
            header.click()
            cells = [c.text for c in table.find_elements(By.CSS_SELECTOR, "tbody td.c-cvr")]
            # a valid number, or the CRM's invalid one ("i CRM: 37599310 (ikke brugbar …)")
            # (the page sorts numbers as numbers: 26611709 before 250067710)
            filled = [int(re.findall(r"\d+", c)[0]) for c in cells if c]
            assert filled == sorted(filled, reverse=descending) and len(filled) > 10
            assert header.get_attribute("aria-sort") == (
                "descending" if descending else "ascending"
            )


@pytest.mark.browser
def test_each_table_counts_what_it_lists_in_chromium(sample_run: Path, tmp_path: Path) -> None:
    """The pairs table's counter said "3 af 3 kunder": it counts pairs, a customer table
    customers, and one of one takes the singular (report.js fills {total|kunde|kunder} in)."""
    from selenium.webdriver.common.by import By

    pairs = json.loads((sample_run / "run.json").read_text())["counts"]["pairs_review"]
    assert pairs > 1
    with chromium(tmp_path / "profile") as driver:
        open_page(driver, sample_run / "report.html")

        def status(table: str) -> str:
            root = driver.find_element(By.CSS_SELECTOR, f'[data-table="{table}"]')
            return str(root.find_element(By.CSS_SELECTOR, ".status").text)

        assert status("review") == f"{pairs} af {pairs} par"
        assert re.fullmatch(r"\d+ af \d+ kunder", status("invoice"))
        driver.execute_script(
            "const t = window.datavaskTables.invoice; t.rows = t.rows.slice(0, 1);"
            " t.view = t.rows; t.draw();"
        )
        assert status("invoice") == "1 af 1 kunde"


@pytest.mark.browser
def test_payloads_do_not_run_in_chromium(tmp_path: Path) -> None:
    run_dir, headers = hostile_run(tmp_path)
    with chromium(tmp_path / "profile") as driver:
        page = open_page(driver, run_dir / "report.html")
        for table in driver.execute_script("return Object.keys(window.datavaskTables)"):
            show_all_rows(driver, table)
        # hover and click every element a payload could have hidden a handler on
        driver.execute_script(
            "document.querySelectorAll('td, b, span, div').forEach(e => {"
            " e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})); })"
        )
        assert driver.execute_script("return window.__pwned") is None
        assert driver.title.startswith("datavask") and "PWNED" not in driver.title
        text = driver.execute_script("return document.body.innerText")
        for payload in PAYLOADS:
            assert payload in text, payload  # shown literally, as the customer wrote it
        assert "kunder<img src=x onerror=window.__pwned=6>.csv" in text  # the file name
        assert headers[1] in text  # a mapped column's name
        assert page["errors"] == [] and page["requests"] == []
        assert (
            driver.execute_script("return document.querySelectorAll('img, svg, iframe, b').length")
            == 0
        )


def test_every_registry_event_says_why(sample_run: Path, english_run: Path) -> None:
    """Before: the registry section's reasons table left "hvorfor" empty for every event."""
    for run_dir, renamed in ((sample_run, "nyere navn"), (english_run, "newer name")):
        html = (run_dir / "report.html").read_text(encoding="utf-8")
        first = html.index('data-reason="registry:')
        start = html.rindex('<table class="reasons">', 0, first)
        section = html[start : html.index("</table>", first)]
        rows = re.findall(r"<tr><td><span[^>]*>([^<]+)</span></td>\s*<td>([^<]*)</td>", section)
        assert len(rows) >= 3, section[:500]
        assert all(why.strip() for _, why in rows), rows
        assert any(renamed in why for _, why in rows)
