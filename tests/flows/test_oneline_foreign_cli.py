"""Foreign customers whose whole address is in one column and whose country column is blank,
through ``datavask cleanse`` as a user runs it.

The British, Dutch, Irish or Canadian postal code that ends the line names the country: the
record gets its postal code and city, owes no CVR number, has its phone read in that country,
and its line goes back to the CRM as typed, number first where it was. Before, each was a
Danish record without a postal code (MISSING_ADDRESS, MISSING_CVR, INVALID_PHONE, NO_CONTACT)
whose line went back as ``Downing Street 10, London, SW1A 2AA``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from datavask.connectors.output import read_excel_csv
from tests.flows.cli import cleansed

ROWS = """\
Kundenr;Navn;Adresse;Land;Telefon
1;Britannia Ltd;10 Downing Street, London, SW1A 2AA;;020 7946 0958
2;Thames Tools Ltd;221B Baker Street, London NW1 6XE;;07911 123456
3;Van der Berg BV;Keizersgracht 123, 1015 CJ Amsterdam;;020 123 4567
4;Dublin Pubs Ltd;5 Grafton Street, Dublin 2, D02 X285;;01 677 0000
5;Toronto Maple Inc;100 King St W, Toronto, ON M5X 1A9;;416 555 0100
6;Downing Trading Ltd;10 Downing Street, SW1A 2AA London;;020 7946 0959
7;Hansen Byg ApS;Vestergade 12, 8000 Aarhus C;;20304050
8;Roskilde Tømrer ApS;Algade 5, 4000 Roskilde;;20304051
"""

# country, street, house number, postal code, city, E.164 phone
EXPECTED = {
    "1": ("GB", "Downing Street", "10", "SW1A 2AA", "London", "+442079460958"),
    "2": ("GB", "Baker Street", "221B", "NW1 6XE", "London", "+447911123456"),
    "3": ("NL", "Keizersgracht", "123", "1015 CJ", "Amsterdam", "+31201234567"),
    "4": ("IE", "Grafton Street", "5", "D02 X285", "Dublin 2", "+35316770000"),
    "5": ("CA", "King St W", "100", "M5X 1A9", "Toronto", "+14165550100"),
    "6": ("GB", "Downing Street", "10", "SW1A 2AA", "London", "+442079460959"),
    "7": ("DK", "Vestergade", "12", "8000", "Aarhus C", "+4520304050"),
    "8": ("DK", "Algade", "5", "4000", "Roskilde", "+4520304051"),
}
PARTS = ("country", "street", "house_number", "postal_code", "city", "phone_e164")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("oneline_foreign")
    source = root / "customers.csv"
    source.write_text(ROWS, encoding="utf-8")
    return cleansed(source, root / "out")


def test_the_lettered_postcode_names_the_country_and_gives_code_and_city(run: Path) -> None:
    records = pl.read_parquet(run / "records.parquet")
    got = {r["record_id"]: tuple(r[p] for p in PARTS) for r in records.iter_rows(named=True)}
    assert got == EXPECTED
    flags = dict(zip(records["record_id"], records["flags"].to_list(), strict=True))
    for foreign in ("1", "2", "3", "4", "5", "6"):
        assert flags[foreign] == [], (foreign, flags[foreign])
    # the Danish companies still owe their CVR numbers
    assert flags["7"] == flags["8"] == ["MISSING_CVR"]


def test_the_foreign_lines_go_back_as_typed(run: Path) -> None:
    update = read_excel_csv(run / "reimport" / "customers_update.csv")
    source = pl.read_csv(ROWS.encode(), separator=";", infer_schema=False)
    typed = dict(zip(source["Kundenr"], source["Adresse"], strict=True))
    assert dict(zip(update["Kundenr"], update["Adresse"], strict=True)) == typed
    changes = read_excel_csv(run / "changes.csv")
    assert changes.filter(pl.col("field") == "address").height == 0, changes.rows()
