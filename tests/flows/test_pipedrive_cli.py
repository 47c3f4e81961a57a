"""A Pipedrive organisation export through ``datavask cleanse``.

Pipedrive writes an organisation's whole address as typed (``Organization - Address``) and, beside
it, the parts it read from it (``Organization - Address - ZIP/Postal code``, ``… - City/town/
village/locality``, ``… - Street/road name``, ``… - House number``, ``… - Country``). Both are read,
and both go back to the CRM as they were written: the whole address with its postal code and town,
each part in its column.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import polars as pl

from tests.flows.cli import cleansed

HEADER = [
    "Organization - ID",
    "Organization - Name",
    "Organization - Address",
    "Organization - Address - Street/road name",
    "Organization - Address - House number",
    "Organization - Address - ZIP/Postal code",
    "Organization - Address - City/town/village/locality",
    "Organization - Address - Country",
    "Organization - Update time",
    "Person - Phone",
]
ROWS = [
    ["101", "Nordisk Film A/S", "Mosedalvej 14, 2500 Valby, Danmark", "Mosedalvej", "14", "2500",
     "København", "Danmark", "2026-11-02 10:00:00", "+45 36 18 82 00"],
    ["102", "NORDISK FILM A/S", "Mosedalvej 14, Valby", "Mosedalvej", "14", "2500", "Valby",
     "Denmark", "2026-10-02 10:00:00", "36188200"],
    ["105", "Volvo Car Corporation", "Assar Gabrielssons väg 9, 405 31 Göteborg, Sverige",
     "Assar Gabrielssons väg", "9", "405 31", "Göteborg", "Sverige", "2026-09-01 09:00:00",
     "+46 31 59 00 00"],
]  # fmt: skip


def _update(out: Path) -> dict[str, dict[str, str]]:
    with (out / "reimport" / "customers_update.csv").open(encoding="utf-8") as fh:
        return {row["Organization - ID"]: row for row in csv.DictReader(fh)}


def test_a_pipedrive_export_keeps_its_whole_address_and_its_parts(tmp_path: Path) -> None:
    source = tmp_path / "organizations.csv"
    with source.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *ROWS])
    out = cleansed(source, tmp_path / "out")
    records = {r["record_id"]: r for r in pl.read_parquet(out / "records.parquet").to_dicts()}
    # every part is read: the postal code and the last change from their own columns
    assert [records[r]["postal_code"] for r in ("101", "102", "105")] == ["2500", "2500", "405 31"]
    assert records["101"]["updated_at"] == "2026-11-02T10:00:00"
    # the Swedish line repeats its own postal code and town: no part of the street or number
    assert (records["105"]["street"], records["105"]["house_number"]) == (
        "Assar Gabrielssons väg",
        "9",
    )
    assert records["105"]["address_extra"] is None
    assert records["101"]["cluster_id"] == records["102"]["cluster_id"]
    # an organisation's list: "Nordisk Film" is a company (without a legal form), owing a CVR
    assert records["102"]["customer_type"] == "company"
    assert "MISSING_CVR" in records["102"]["flags"]

    update = _update(out)
    # the whole address keeps its town; a part stays a part
    assert update["101"]["Organization - Address"] == "Mosedalvej 14, 2500 Valby"
    assert update["102"]["Organization - Address"] == "Mosedalvej 14, 2500 Valby"
    # a foreign customer's own line goes back as typed, its country too
    assert (
        update["105"]["Organization - Address"]
        == "Assar Gabrielssons väg 9, 405 31 Göteborg, Sverige"
    )
    assert update["105"]["Organization - Address - House number"] == "9"
    assert update["101"]["Organization - Address - City/town/village/locality"] == "Valby"

    # loaded back and cleansed again, nothing more changes
    again = tmp_path / "again.csv"
    shutil.copy(out / "reimport" / "customers_update.csv", again)
    second = cleansed(again, tmp_path / "out2")
    changes = pl.read_csv(second / "changes.csv", separator=";", infer_schema_length=0)
    assert changes.height == 0, changes.to_dicts()
