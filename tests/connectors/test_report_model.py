"""The report's view model on small frames: its customers' ids, order and codes."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest

from datavask.connectors.report import load_model
from datavask.connectors.report_model import build_model
from tests.connectors.runs import cleansed_text


def records(rows: list[tuple[str, str | None, bool, list[str]]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "cluster_id": pl.String,
            "record_id": pl.String,
            "is_survivor": pl.Boolean,
            "flags": pl.List(pl.String),
        },
        orient="row",
    ).with_columns(invoice_ready=False, collection_ready=False, name=pl.col("record_id"))


def test_record_ids_start_with_the_survivor_and_merged_ids_are_the_rest() -> None:
    """merged_ids is record_ids without the survivor's id, also when ids hold ', ' (a null id
    is in neither)."""
    frame = records(
        [
            ("a", "1, 2", False, ["DUPLICATE"]),
            ("a", "3", True, ["DUPLICATE", "INVALID_EMAIL"]),
            ("a", "", False, ["DUPLICATE"]),
            ("b", "7, 8", True, ["INVALID_PHONE"]),
            ("c", "9", False, ["DUPLICATE"]),
            ("c", "10, 11", True, ["DUPLICATE", "INVALID_PHONE"]),
            ("d", None, True, ["DUPLICATE"]),
            ("d", "12", False, ["DUPLICATE"]),
        ]
    )
    customers = build_model({"counts": {}}, frame).customers
    got = customers.select("cluster_id", "record_ids", "survivor_id", "merged_ids").rows()
    assert got == [
        ("a", "3, 1, 2, ", "3", "1, 2, "),
        ("b", "7, 8", "7, 8", None),
        ("c", "10, 11, 9", "10, 11", "9"),
        ("d", "12", None, "12"),
    ]


def test_customers_come_in_the_order_of_their_survivors() -> None:
    """The page lists customers in the order of their survivors in the records: the grouping's
    order is kept through the joins that add the codes and the merge plan."""
    rows = [(f"c{i % 500}", f"r{i}", i >= 500, ["INVALID_PHONE"]) for i in range(1000)]
    rows.reverse()  # the survivors (r500…r999) first, backwards
    customers = build_model({"counts": {}}, records(rows)).customers
    assert customers["survivor_id"].to_list() == [f"r{i}" for i in range(999, 499, -1)]
    assert customers["merged_ids"].to_list() == [f"r{i - 500}" for i in range(999, 499, -1)]
    assert customers["flagged"].to_list() == [
        f"INVALID_PHONE: r{i}, r{i - 500}" for i in range(999, 499, -1)
    ]


def _invoice_sheet(run: Path) -> tuple[tuple[object, ...], list[tuple[object, ...]]]:
    """The worklist's "Kan ikke faktureres" sheet: its header and rows."""
    import openpyxl

    book = openpyxl.load_workbook(run / "worklist.xlsx", read_only=True)
    try:
        header, *values = book["Kan ikke faktureres"].iter_rows(values_only=True)
    finally:
        book.close()  # a read-only workbook holds its file open until closed
    return header, values


def test_an_invalid_cvr_or_ean_number_is_shown_as_the_crm_has_it(tmp_path: Path) -> None:
    """Before: an INVALID_CVR customer's CVR cell was empty in the report and the worklist (the
    cleaned number is null), and no EAN was shown at all, so the credit manager told to fix one
    could not see what to fix."""
    run = cleansed_text(
        tmp_path,
        "Kundenr;Navn;Adresse;Postnr;By;CVR;EAN\n"
        "1;Berg Byg ApS;Industrivej 5;7100;Vejle;DK 12 34 56 78;\n"
        "2;Holm Tømrer ApS;Algade 3;4000;Roskilde;DK-31796903;\n"
        "3;Vejle Kommune, Skoleafdelingen;Skolegade 1;7100;Vejle;29189838;5798005770221\n"
        "4;Aarhus Kommune, Tandplejen;Rådhuspladsen 2;8000;Aarhus C;55133018;5798005770213\n",
    )
    model = load_model(run)
    rows = {r["name"]: r for r in model.customers.iter_rows(named=True)}
    assert rows["Berg Byg ApS"]["cvr"] is None
    assert rows["Berg Byg ApS"]["cvr_before"] == "DK 12 34 56 78"
    assert rows["Holm Tømrer ApS"]["cvr"] == "31796903"
    assert rows["Holm Tømrer ApS"]["cvr_before"] is None  # valid, only written otherwise
    school, dental = rows["Vejle Kommune, Skoleafdelingen"], rows["Aarhus Kommune, Tandplejen"]
    assert (school["ean"], school["ean_before"]) == (None, "5798005770221")
    assert (dental["ean"], dental["ean_before"]) == ("5798005770213", None)
    header, values = _invoice_sheet(run)
    typed = {row[header.index("CVR i CRM")] for row in values} - {None}
    typed_ean = {row[header.index("EAN i CRM")] for row in values} - {None}
    assert typed == {"DK 12 34 56 78"}
    assert typed_ean == {"5798005770221"}


def test_a_number_on_the_customers_other_record_holds_no_invoice(tmp_path: Path) -> None:
    """``Aarhus Kommune`` typed twice, once with its EAN number, and ``Hansen Byg ApS`` twice,
    once with its CVR number: the copies are MISSING_EAN and MISSING_CVR as records, but each
    customer is invoiced at the number its other record holds. Before, both customers were
    listed under "cannot be invoiced" and told to fetch a number they had; the records' own
    flags stay as they were."""
    run = cleansed_text(
        tmp_path,
        "Kundenr;Navn;Adresse;Postnr;By;Telefon;CVR;EAN\n"
        "1;Aarhus Kommune;Rådhuspladsen 2;8000;Aarhus C;89402000;55133018;\n"
        "2;Aarhus Kommune;Rådhuspladsen 2;8000;Aarhus C;89402000;55133018;5798000004566\n"
        "3;Hansen Byg ApS;Industrivej 4;7100;Vejle;75821212;25313763;\n"
        "4;Hansen Byg ApS;Industrivej 4;7100;Vejle;75821212;;\n"
        "5;Berg Byg ApS;Algade 3;4000;Roskilde;46323232;;\n",
    )
    records = pl.read_parquet(run / "records.parquet")
    flags = dict(records.select("record_id", "flags").iter_rows())
    assert "MISSING_EAN" in flags["1"] and "MISSING_CVR" in flags["4"]
    assert records.select("record_id", "cluster_id").n_unique("cluster_id") == 3
    counts = json.loads((run / "run.json").read_text(encoding="utf-8"))["counts"]
    assert counts["customers_blocked_invoice"] == 1  # Berg Byg ApS, no CVR on any record
    header, values = _invoice_sheet(run)
    assert [row[header.index("navn")] for row in values] == ["Berg Byg ApS"]
    model = load_model(run)
    invoice = next(g for g in model.groups if g.key == "invoice")
    assert [r.code for r in invoice.reasons] == ["MISSING_CVR"]
    assert (invoice.customers, invoice.reasons[0].customers) == (1, 1)
    # The two records their customer's other record settles are said beside the ready share:
    # "0 customers cannot be invoiced" above "98 % of records ready" read as a mistake.
    ready = next(m for m in model.headline if m.key == "invoice_ready")
    assert ready.note.endswith(
        "; 2 poster mere mangler et nummer, som kundens anden post har: kunden kan faktureres"
    ), ready.note


def test_a_post_box_and_a_foreign_vat_number_stay_filled_after_cleansing(tmp_path: Path) -> None:
    """A Swedish VAT number typed in the CVR column is the company's ``vat_number`` and a post
    box alone is ``po_box``, no street: "filled before and after" showed the CVR and address
    columns emptied by the cleanse, though every value was kept."""
    run = cleansed_text(
        tmp_path,
        "Kundenr;Navn;Adresse;Postnr;By;Land;CVR\n"
        "1;Svensk Trä AB;Storgatan 4;211 42;Malmö;Sverige;SE556677889901\n"
        "2;Hansen Byg ApS;Postboks 123;8000;Aarhus C;;25313763\n",
    )
    records = pl.read_parquet(run / "records.parquet")
    assert records["vat_number"].to_list() == ["SE556677889901", None]
    assert records["po_box"].to_list() == [None, "Postboks 123"]
    filled = {label: (before, after) for label, before, after in load_model(run).completeness}
    assert [filled[label] for label in ("navn", "adresse", "CVR")] == [(100.0, 100.0)] * 3


def test_a_customer_that_cannot_be_invoiced_shows_why_it_cannot_be_collected(
    tmp_path: Path,
) -> None:
    """``Anders And ApS`` without CVR number, phone or e-mail: listed under "cannot be invoiced"
    with MISSING_CVR alone, and in no list under "cannot go to collection" (that list holds the
    customers the first does not), so no list said it had no contact."""
    from datavask.connectors.report import page_data

    run = cleansed_text(
        tmp_path,
        "Kundenr;Navn;Adresse;Postnr;By;Telefon;CVR\n"
        "1;Anders And ApS;Paradisæblevej 13;8000;Aarhus C;;\n"
        "2;Berg Byg ApS;Algade 3;4000;Roskilde;46323232;\n"
        "3;Holm Tømrer ApS;Algade 5;4000;Roskilde;;31796903\n",
    )
    header, values = _invoice_sheet(run)
    reasons = {row[header.index("navn")]: row[header.index("årsagskoder")] for row in values}
    assert reasons == {
        "Anders And ApS": "MISSING_CVR, NO_CONTACT",
        "Berg Byg ApS": "MISSING_CVR",
    }
    model = load_model(run)
    invoice = next(g for g in model.groups if g.key == "invoice")
    assert [r.code for r in invoice.reasons] == ["MISSING_CVR"]  # the list's own reasons
    assert page_data(model)["tables"]["invoice"]["codes"] == ["MISSING_CVR", "NO_CONTACT"]


def test_the_run_is_described_in_the_reports_language(monkeypatch: pytest.MonkeyPatch) -> None:
    """The "Om kørslen" of a Danish report showed run.json's English orchestration note (``ran
    without Prefect: no server configured …``), the internal field names (``postal_code``) and
    step names (``normalise``). The note stays English in run.json, for the machines that read
    it; the page words it, the fields and the steps in its language."""
    from datavask.connectors.report import render_html
    from datavask.flows import orchestration

    monkeypatch.setattr(orchestration, "settings", lambda: SimpleNamespace(orchestration="auto"))
    monkeypatch.setattr(orchestration, "configured_api_url", lambda: None)
    monkeypatch.setattr(orchestration, "serve_api_url", lambda: None)
    monkeypatch.setattr(orchestration, "running_server", lambda: None)
    note = orchestration.resolve().note
    assert note == (  # run.json's value, as before
        "ran without Prefect: no server configured (set PREFECT_API_URL or run datavask serve "
        "to see runs in Prefect)"
    )
    run = {
        "counts": {},
        "orchestration": note,
        "options": {"registry": "none"},
        "input": {"mapping": {"record_id": "Kundenr", "postal_code": "Postnr", "cvr": "CVR-nr"}},
        "timings": {"read": 0.5, "normalise": 1.5, "total_before_write": 2.0},
    }
    frame = records([("a", "1", True, ["INVALID_PHONE"])])
    danish = build_model(run, frame)
    about = dict(danish.about)
    assert about["afvikling"].startswith("kørt uden Prefect: ingen server sat op")
    assert about["CVR-kilde"] == "ingen (--registry none)"
    assert danish.mapping == [
        ("Kundenr", "kundenummer"),
        ("Postnr", "postnummer"),
        ("CVR-nr", "CVR-nummer"),
    ]
    assert [step for step, _ in danish.timings] == [
        "indlæsning",
        "rensning af navne, adresser, telefon, e-mail og numre",
        "i alt før skrivning af output",
    ]
    page = render_html(danish)
    for english in ("ran without Prefect", "postal_code", "normalise", "total_before_write"):
        assert english not in page
    english_model = build_model(run, frame, lang="en")
    assert dict(english_model.about)["orchestration"] == note
    assert ("Postnr", "postal code") in english_model.mapping


def test_every_orchestration_note_has_its_words_in_every_language() -> None:
    """Each note a run can write (filled in as flows.orchestration fills it) is worded anew, and
    one the catalogue does not know is shown as written rather than lost."""
    from datavask.connectors.report_text import MESSAGES, Text

    notes = [key for key in MESSAGES["en"] if key.startswith("orchestration_")]
    assert len(notes) == 9
    for key in notes:
        written = Text("en")(key, url="http://127.0.0.1:4200/api")
        assert Text("da").orchestration(written) == Text("da")(key, url="http://127.0.0.1:4200/api")
        assert Text("en").orchestration(written) == written
    assert Text("da").orchestration("a note from elsewhere") == "a note from elsewhere"


def test_a_count_of_one_takes_the_singular() -> None:
    """ "1 kunder har 2 poster i alt; 1 af dem er dubletter" and a card "1 kunder kan ikke
    faktureres": every text where a count precedes a noun says ``{n|kunde|kunder}``, and the
    word follows its count, in Danish and English."""
    from datavask.connectors.report_model import headline
    from datavask.connectors.report_text import Text

    frame = records([("a", "1", True, ["DUPLICATE"]), ("a", "2", False, ["DUPLICATE"])])
    duplicates = build_model({"counts": {}}, frame).group("duplicates")
    assert duplicates is not None
    assert duplicates.lead.startswith("1 kunde har 2 poster i alt; 1 af dem er en dublet.")
    english = build_model({"counts": {}}, frame, lang="en").group("duplicates")
    assert english is not None
    assert english.lead.startswith("1 customer has 2 records in all; 1 of them is a duplicate.")
    da, en = Text("da"), Text("en")
    assert da("section_registry_lead", n="1").startswith("1 kunde har en hændelse i CVR")
    assert en("section_registry_lead", n="1").startswith("1 customer has an event")
    assert da("section_registry_lead", n="2").startswith("2 kunder har")
    assert da("section_invoice_lead", n="1", records="3").startswith("1 kunde (3 poster)")
    assert en("section_review_lead", n="1", low="", high="").startswith("1 pair of records looks")
    assert da("n_records", n="1") == "1 post" and da("n_records", n="1.001") == "1.001 poster"
    counts = {"customers_blocked_invoice": 1, "records_blocked_invoice": 1, "customers": 21}
    labels = {m.key: (m.label, m.note) for m in headline({"counts": counts}, da)}
    assert labels["customers_blocked_invoice"] == ("kunde kan ikke faktureres", "1 post")
    assert labels["customers"][0] == "kunder"
    assert da("customers") == "kunder"  # a column heading, no count: the plural


def test_no_count_precedes_a_noun_without_its_singular() -> None:
    """The catalogue's guard: ``{n} kunder`` written without ``{n|kunde|kunder}`` says "1
    kunder". (The review page's own texts count two or more, or keep ``_one``/``_many`` keys.)"""
    import re

    from datavask.connectors.report_text import MESSAGES

    nouns = (
        "kunder|poster|dubletter|beslutninger|felter|ændringer|rækker|kundenumre|CVR-numre|"
        "customers|records|duplicates|decisions|fields|changes|pairs|rows|numbers"
    )
    bare = re.compile(rf"\{{\w+\}} (?:\w+ )?(?:{nouns})\b")
    found = [
        (lang, key)
        for lang, messages in MESSAGES.items()
        for key, text in messages.items()
        if not key.startswith("review_") and bare.search(text)
    ]
    assert found == []


def test_the_review_table_counts_pairs() -> None:
    """The pairs table's counter said "3 af 3 kunder"; it counts pairs, and the monitor's
    table changes."""
    from datavask.connectors.report import page_data

    pairs = pl.DataFrame(
        {
            "record_id_l": ["1"],
            "record_id_r": ["2"],
            "match_probability": [0.6],
            "decision": ["review"],
        }
    )
    frame = records([("a", "1", True, ["REVIEW_MATCH"]), ("b", "2", True, ["REVIEW_MATCH"])])
    data = page_data(build_model({"counts": {}}, frame, pairs=pairs))
    review = data["tables"]["review"]
    assert data["text"][review["counted"]] == "{shown} af {total} par"
    assert data["text"]["shown"] == "{shown} af {total} {total|kunde|kunder}"
    english = page_data(build_model({"counts": {}}, frame, pairs=pairs, lang="en"))
    assert english["text"]["shown_pairs"] == "{shown} of {total} {total|pair|pairs}"


def test_the_review_lead_says_which_pairs_a_rule_holds() -> None:
    """The lead said three pairs were "ikke nok til at blive lagt sammen automatisk
    (sandsynlighed fra 33,333 % til 66,667 %)" above a table of pairs at 98,6 % and 97,2 %, held
    by a rule (two neighbours of one name). The band is said in whole percent, and the pairs a
    rule holds though they score higher are said apart, pointing at the why column."""
    run = {"counts": {}, "steps": {"match": {"review_band": {"low": 0.333333, "high": 0.666667}}}}
    frame = records([(c, c, True, ["REVIEW_MATCH"]) for c in "123456"])

    def lead(rules: list[str | None], lang: str = "da") -> str:
        pairs = pl.DataFrame(
            {
                "record_id_l": ["1", "3", "5"][: len(rules)],
                "record_id_r": ["2", "4", "6"][: len(rules)],
                "match_probability": [0.985764, 0.971935, 0.5][: len(rules)],
                "decision": ["review"] * len(rules),
                "review_rule": rules,
            },
            schema_overrides={"review_rule": pl.String},
        )
        return build_model(run, frame, pairs=pairs, lang=lang).review_lead

    assert lead([None, None, None]).startswith(
        "3 par af poster ligner hinanden, men ikke nok til at blive lagt sammen automatisk"
        " (sandsynlighed fra 33 % til 67 %)."
    )
    assert lead(["neighbours", "neighbours", None]) == (
        "3 par af poster skal vurderes af en person. 1 af dem ligner hinanden, men ikke nok til"
        " at blive lagt sammen automatisk (sandsynlighed fra 33 % til 67 %); 2 scorer højere,"
        " men holdes til vurdering af en regel — se kolonnen »hvorfor til vurdering«."
        " Start vurderingen med:"
    )
    assert lead(["neighbours", "neighbours"]).startswith(
        "2 par af poster scorer over vurderingsintervallet (33 % til 67 %), men holdes til"
        " vurdering af en regel — se kolonnen »hvorfor til vurdering«."
    )
    assert "1 scores higher, but is held for review by a rule — see the column “why in review”" in (
        lead(["neighbours", None, None], lang="en")
    )
