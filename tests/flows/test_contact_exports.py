"""A CRM's contact export through the command line: each row is a person at a company.

HubSpot's, Salesforce's and Dynamics' contact exports give the contact's own first and last name
beside the company's name; two contacts of one company share its name, address, switchboard and
often its mailbox. Before, they were one customer and the merge plan merged their CRM records,
losing a contact. Now two clearly different contact persons are never merged
(``different_contacts``), and the same contact typed twice still is.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import polars as pl
import pytest

from tests.flows.cli import cleansed

HEADER = ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Company Name",
          "Street Address", "Postal Code", "City"]  # fmt: skip
COMPANIES = [
    ("Bygma A/S", "Industrivej 12", "5000", "Odense C", "bygma.dk", "70101010"),
    ("Nordlys ApS", "Havnegade 3", "8000", "Aarhus C", "nordlys.dk", "86121314"),
    ("Hansen VVS ApS", "Smedevej 7", "7100", "Vejle", "hansenvvs.dk", "75818283"),
    ("Kyst Revision I/S", "Strandvejen 40", "2900", "Hellerup", "kystrevision.dk", "39404142"),
    ("Fjord El ApS", "Torvet 1", "6000", "Kolding", "fjordel.dk", "79797979"),
    ("Skov Transport A/S", "Skovvej 88", "8600", "Silkeborg", "skovtransport.dk", "86818181"),
]
# Per company its contacts; the family firm's two Hansens differ only by first name.
CONTACTS = [
    [("Jens", "Hansen"), ("Mette", "Larsen")],
    [("Ole", "Nielsen"), ("Karen", "Holm")],
    [("Jens", "Hansen"), ("Mette", "Hansen")],
    [("Peter", "Kjær"), ("Anne", "Dahl"), ("Lars", "Berg")],
    [("Søren", "Bak")],
    [("Henrik", "Lund"), ("Pia", "Lund")],
]


def _rows() -> list[tuple[list[str], str]]:
    """The export's rows, each with its true contact; every first contact is in it twice, typed
    the second time as people type (lower case, the phone with spaces and a prefix)."""
    rows = []
    for c, ((company, street, postal, city, domain, phone), people) in enumerate(
        zip(COMPANIES, CONTACTS, strict=True)
    ):
        for p, (first, last) in enumerate(people):
            mailbox = f"{first.lower()}@{domain}" if p % 2 else f"info@{domain}"
            rows.append(([first, last, mailbox, phone, company, street, postal, city], f"{c}/{p}"))
        first, last = people[0]
        spaced = f"+45 {phone[:2]} {phone[2:4]} {phone[4:6]} {phone[6:]}"
        again = [first.lower(), last, f"INFO@{domain}", spaced, company, street, postal, city]
        rows.append((again, f"{c}/0"))
    # Private customers: a person without a company, once twice.
    for first, last, street, postal, city, phone in [
        ("Birgit", "Mortensen", "Lindevej 2", "4000", "Roskilde", "20304050"),
        ("Birgit", "Mortensen", "Lindevej 2", "4000", "Roskilde", "2030 4050"),
        ("Kurt", "Sørensen", "Bakken 9", "9000", "Aalborg", "30405060"),
    ]:
        rows.append(([first, last, "", phone, "", street, postal, city], f"{first} {last}"))
    return [([str(i + 1), *values], truth) for i, (values, truth) in enumerate(rows)]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("contacts")
    rows = _rows()
    source = tmp / "hubspot-contacts.csv"
    pl.DataFrame([values for values, _ in rows], schema=HEADER, orient="row").write_csv(source)
    out = cleansed(source, tmp / "out", home=tmp / "home")
    return out, {values[0]: truth for values, truth in rows}


def test_two_contacts_of_one_company_are_never_one_record(run: tuple[Path, dict[str, str]]) -> None:
    out, truth = run
    cluster = dict(
        pl.read_parquet(out / "records.parquet").select("record_id", "cluster_id").rows()
    )
    for a, b in combinations(truth, 2):
        if truth[a] != truth[b]:
            assert cluster[a] != cluster[b], f"rows {a} ({truth[a]}) and {b} ({truth[b]}) merged"


def test_the_same_contact_typed_twice_is_one_record(run: tuple[Path, dict[str, str]]) -> None:
    out, truth = run
    cluster = dict(
        pl.read_parquet(out / "records.parquet").select("record_id", "cluster_id").rows()
    )
    for a, b in combinations(truth, 2):
        if truth[a] == truth[b]:
            assert cluster[a] == cluster[b], f"rows {a} and {b} ({truth[a]}) not merged"


def test_the_pairs_show_the_contact_persons_compared(run: tuple[Path, dict[str, str]]) -> None:
    out, truth = run
    assert truth["7"] == truth["9"] == "2/0"  # Jens Hansen of the family firm, typed twice
    pairs = pl.read_parquet(out / "pairs.parquet")
    same = pairs.filter(
        pl.col("record_id_l").is_in(["7", "9"]) & pl.col("record_id_r").is_in(["7", "9"])
    )
    assert same["decision"].to_list() == ["match"]
    assert same["explanation"].struct.field("contact").struct.field("level").to_list() == ["exact"]
    # a vetoed pair that reached pairs.parquet names its veto
    vetoed = pairs.filter(pl.col("hard_rule") == "different_contacts")
    assert (vetoed["decision"] == "non-match").all()


def test_a_persons_empty_company_cell_stays_empty(tmp_path: Path) -> None:
    """A contact export's company column beside first and last names: a private person's row
    left it empty, and it went back to the CRM holding the person's own name (a company called
    "Mette Holm")."""
    source = tmp_path / "contacts.csv"
    source.write_text(
        "First Name,Last Name,Company Name,Phone\n"
        "Mette,Holm,,98123456\n"
        "Lars,Berg,BERG DESIGN APS,20304050\n",
        encoding="utf-8",
    )
    out = cleansed(source, tmp_path / "out")
    update = pl.read_csv(out / "reimport" / "customers_update.csv", infer_schema_length=0)
    assert update["Company Name"].to_list() == [None, "Berg Design ApS"]
