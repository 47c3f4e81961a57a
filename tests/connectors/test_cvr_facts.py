"""Monitoring facts from ERST documents: owners, management, mergers, status and their dates."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import polars as pl

from datavask.connectors.cvr_document import (
    FACTS_SCHEMA,
    DocumentColumns,
    FactColumns,
    facts_frame,
    unwrap,
)
from datavask.connectors.cvr_snapshot import load_snapshot_facts
from tests.connectors.erst_server import make_document

REAL = Path(__file__).parent / "data" / "erst_cvr_search_response_trimmed.json"


def _real() -> dict[str, Any]:
    vr = unwrap(json.loads(REAL.read_text(encoding="utf-8"))["hits"]["hits"][0])
    assert vr is not None
    return copy.deepcopy(dict(vr))


def _facts(*documents: dict[str, Any]) -> list[dict[str, Any]]:
    columns = FactColumns()
    for document in documents:
        assert columns.add(document.get("Vrvirksomhed", document))
    return columns.frame().to_dicts()


def _owner(number: int, name: str, share: str, since: str = "2020-01-01", until: str | None = None):
    return {
        "deltager": {"enhedsNummer": number, "enhedstype": "PERSON",
                     "navne": [{"navn": name, "periode": {"gyldigFra": None, "gyldigTil": None}}]},
        "organisationer": [{
            "hovedtype": "REGISTER",
            "organisationsNavn": [{"navn": "EJERREGISTER", "periode": {"gyldigFra": "2015-01-01", "gyldigTil": None}}],
            "medlemsData": [{"attributter": [{"type": "EJERANDEL_PROCENT", "vaerdier": [
                {"vaerdi": share, "periode": {"gyldigFra": since, "gyldigTil": until}}]}]}],
        }],
    }  # fmt: skip


def test_the_real_document_gives_its_current_facts() -> None:
    (row,) = _facts(_real())
    assert row["cvr"] == "21265837"
    assert row["name"] == "HOLDINGSELSKABET POUL ERIK BECH ERHVERV A/S"
    assert row["name_since"] == "2011-06-16"
    assert row["status"] == "NORMAL" and row["status_class"] == "normal"
    assert row["address"] == "Bremerholm 29, 1069 København K"
    assert row["address_id"] == "aaa13503-313b-4c54-945c-521ee55c0fdf"
    assert row["address_since"] == "2014-06-11"
    assert (row["legal_form"], row["industry_code"]) == ("A/S", "642020")
    assert row["industry"] == "Ikke-finansielle holdingselskaber"
    # The chairman's function changed from BESTYRELSE to FORMAND on 2017-02-27.
    assert row["management"] == "Bestyrelse: Jørgen Jørgensen (4000046142) FORMAND"
    assert row["management_since"] == "2017-02-27"
    # Participants are listed but no owner register: known to have no registered owners.
    assert row["owners"] == ""
    # It absorbed another company and continues: not a merger alert of its own.
    assert row["merged_into"] is None


def test_owners_with_shares_closed_shares_dropped_and_dated() -> None:
    vr = _real()
    vr["deltagerRelation"] = [
        _owner(4001, "Anne Holm", "0.6"),
        _owner(4002, "Bo Holm", "0.4", since="2020-01-01", until="2025-03-02"),
        _owner(4003, "Carl Holm", "0.4", since="2025-03-03"),
    ]
    (row,) = _facts(vr)
    assert row["owners"] == "Anne Holm (4001) 60%; Carl Holm (4003) 40%"
    assert row["owners_since"] == "2025-03-03"


def test_a_merger_names_the_successor_cvr() -> None:
    vr = _real()
    vr["fusioner"][0]["udgaaende"].append(
        {"type": "CVRNUMMER", "vaerdier": [{"vaerdi": "13585628",
                                              "periode": {"gyldigFra": "2025-11-15", "gyldigTil": None}}]}
    )  # fmt: skip
    vr["livsforloeb"][0]["periode"]["gyldigTil"] = "2025-11-15"
    vr["virksomhedMetadata"]["sammensatStatus"] = "OPLØST EFTER FUSION"
    (row,) = _facts(vr)
    assert row["merged_into"] == "13585628"
    assert row["status_class"] == "dissolved"
    assert row["end_date"] == "2025-11-15"


def test_a_merger_is_dated_by_its_own_start_never_by_the_documents_last_update() -> None:
    """ERST's ``fusioner`` names no successor CVR number (the real response's ``udgaaende`` holds
    ``FUNKTION`` attributes only), so the successor is ``?``; the date is the merger's start:
    its organisation's name, else the start of the status in force, not ``sidstOpdateret``."""
    vr = _real()
    vr["sidstOpdateret"] = "2024-05-02T08:14:11.000+02:00"
    vr["fusioner"] = [{"enhedsNummerOrganisation": 4999000001, "indgaaende": [], "udgaaende": [],
                       "organisationsNavn": [{"navn": "Fusion", "periode": {
                           "gyldigFra": "2026-06-01", "gyldigTil": None}}]}]  # fmt: skip
    vr["livsforloeb"][0]["periode"]["gyldigTil"] = "2026-06-01"
    vr["virksomhedMetadata"]["sammensatStatus"] = "OPLØST EFTER FUSION"
    vr["virksomhedsstatus"] = [
        {"status": "OPLØST EFTER FUSION", "periode": {"gyldigFra": "2026-05-20", "gyldigTil": None}}
    ]
    (row,) = _facts(vr)
    assert (row["merged_into"], row["merged_since"]) == ("?", "2026-06-01")
    del vr["fusioner"][0]["organisationsNavn"]
    (row,) = _facts(vr)
    assert (row["merged_into"], row["merged_since"]) == ("?", "2026-05-20")


def test_credit_status_bankrupt_and_missing_relations_are_unknown() -> None:
    doc = make_document(10000009, status="NORMAL", credit_bankrupt=True)
    (row,) = _facts(doc)
    assert row["status_class"] == "bankrupt"
    assert row["credit_status"] == "Konkurs"
    assert row["status_since"] == "2023-01-01"
    # A graver open virksomhedsstatus than sammensatStatus is the status an alert names.
    doc = make_document(10000068, status="NORMAL", history_status="UNDER KONKURS")
    (row,) = _facts(doc)
    assert (row["status"], row["status_class"]) == ("UNDER KONKURS", "bankrupt")
    # A document without deltagerRelation says nothing about owners: unknown, not "none".
    assert row["owners"] is None and row["management"] is None


def test_malformed_documents_are_refused_not_half_added() -> None:
    columns = FactColumns()
    assert not columns.add({"cvrNummer": "abc"})
    assert not columns.add({"cvrNummer": 21265837, "virksomhedMetadata": "x"})
    assert len(columns) == 0


def test_facts_frame_keeps_failed_lookups_apart_from_not_found() -> None:
    found = pl.DataFrame(_facts(make_document(21265837)), schema=dict(FACTS_SCHEMA))
    frame = facts_frame(["21265837", "10000009", "10000017"], found, failed=["10000017"])
    assert frame.select("cvr", "found", "lookup_failed").rows() == [
        ("21265837", True, False),
        ("10000009", False, False),
        ("10000017", False, True),
    ]


def test_snapshot_facts_parse_in_parallel_like_serially(tmp_path: Path) -> None:
    snapshot = tmp_path / "r.jsonl"
    docs = [make_document(30000000 + 13 * i, name=f"Firma {i} ApS", detail=True) for i in range(40)]
    snapshot.write_text("\n".join(json.dumps(d) for d in docs) + "\n", encoding="utf-8")
    serial = load_snapshot_facts(snapshot, cache_dir=tmp_path / "a", workers=1)
    parallel = load_snapshot_facts(snapshot, cache_dir=tmp_path / "b", workers=2)
    assert serial.height == 40
    assert serial.equals(parallel)
    assert serial["management"].str.contains("Bestyrelse: Jørgen Jørgensen").all()


def test_a_cpr_number_in_a_documents_text_is_masked_in_its_row_and_its_facts() -> None:
    """Before: a registry name ``Jens Hansen 010190-1234 …`` reached records.parquet's
    ``registry_name``, report and worklist, and the monitor's alerts, report and state."""
    document = make_document(
        10000009,
        name="Jens Hansen 010190-1234 VVS",
        former_names=["Jens Hansen 0101901234"],
        binavne=["JH 010190 1234 Service"],
        co_name="Jens Hansen, cpr 01 01 90 12 34",
    )["Vrvirksomhed"]
    rows = DocumentColumns()
    assert rows.add(document)
    (row,) = rows.frame().to_dicts()
    assert row["registry_name"] == "Jens Hansen XXXXXX-XXXX VVS"
    assert row["registry_former_names"] == ["Jens Hansen XXXXXX-XXXX"]
    assert row["registry_binavne"] == ["JH XXXXXX-XXXX Service"]
    assert row["registry_co_name"] == "Jens Hansen, cpr XXXXXX-XXXX"
    (facts,) = _facts(document)
    assert facts["name"] == "Jens Hansen XXXXXX-XXXX VVS"
    assert facts["address"].startswith("c/o Jens Hansen, cpr XXXXXX-XXXX")
    assert facts["cvr"] == "10000009"
