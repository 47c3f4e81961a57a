"""The review queue's order and the words a reviewer reads."""

from __future__ import annotations

import polars as pl

from datavask.cleansing.review import (
    evidence,
    merge_previews,
    review_queue,
    side_by_side,
)

RECORDS = pl.DataFrame(
    [
        # id, type, cvr, ean, invoice_ready, cluster, size
        ("co", "company", "25313763", None, True, "C1", 1),
        ("pe", "person", None, None, True, "C2", 1),
        ("lead-a", "person", None, None, False, "C3", 1),
        ("lead-b", "person", None, None, False, "C4", 1),
        ("inv-a", "person", None, None, True, "C5", 1),
        ("inv-b", "person", None, None, True, "C6", 1),
        ("big", "person", None, None, False, "C7", 3),
        ("ean", "public", None, "5790000000005", False, "C8", 1),
    ],
    schema=["record_id", "customer_type", "cvr", "ean", "invoice_ready", "cluster_id",
            "cluster_size"],
    orient="row",
)  # fmt: skip


def pairs(*rows: tuple[str, str, float, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            (left, right, weight, 1 / (1 + 2**-weight), decision)
            for left, right, weight, decision in rows
        ],
        schema=["record_id_l", "record_id_r", "match_weight", "match_probability", "decision"],
        orient="row",
    )


def test_most_consequential_first_then_least_certain() -> None:
    queue = review_queue(
        pairs(
            ("lead-a", "lead-b", 2.0, "review"),
            ("lead-a", "big", 5.0, "review"),
            ("inv-a", "inv-b", 5.0, "review"),
            ("co", "pe", 6.0, "review"),
            ("lead-b", "ean", 4.0, "review"),
            ("lead-a", "inv-a", 9.0, "match"),  # not for review
            ("inv-a", "lead-b", 1.0, "review"),
            ("lead-b", "inv-b", 3.0, "review"),
        ),
        RECORDS,
    )
    assert queue.select("record_id_l", "record_id_r", "consequence").rows() == [
        ("co", "pe", 14),  # company to person, both invoice-ready, a CVR
        ("lead-b", "ean", 10),  # a public customer to a person, an EAN
        ("inv-a", "inv-b", 4),  # two invoice-ready records
        ("lead-a", "big", 1),  # joins a customer of three records
        ("inv-a", "lead-b", 0),  # nothing at stake: the least certain first
        ("lead-a", "lead-b", 0),
        ("lead-b", "inv-b", 0),
    ]
    assert queue["consequence"].to_list() == sorted(queue["consequence"].to_list(), reverse=True)
    assert queue.row(0, named=True)["reasons"] == [
        "company_person",
        "both_invoice_ready",
        "cvr_or_ean",
    ]
    zeros = queue.filter(pl.col("consequence") == 0)
    assert zeros["match_weight"].abs().to_list() == sorted(zeros["match_weight"].abs().to_list())


def test_public_customer_and_person_is_a_company_person_join() -> None:
    queue = review_queue(pairs(("lead-b", "ean", 4.0, "review")), RECORDS)
    assert queue["consequence"].to_list() == [8 + 2]


def test_evidence_for_then_against_with_both_records_values() -> None:
    """Every weight below 0 counts against, however small: a different phone at -0.6 was
    "says little either way" and shown with the fields that were not compared."""
    left = {"name": "Hansen Byg ApS", "phone_numbers": ["+4512345678"], "email": None,
            "emails": [], "street": "Vestergade", "house_number": "12", "postal_code": "8000",
            "city": "Aarhus C"}  # fmt: skip
    right = {"name": "Hansen Byg", "phone_numbers": ["+4587654321", "+4522334455"],
             "email": "info@hansenbyg.dk", "emails": ["info@hansenbyg.dk"],
             "street": "Vestergade", "house_number": "12", "postal_code": "8000",
             "city": "Aarhus C"}  # fmt: skip
    found = evidence(
        {
            "name": {"level": "token >= 0.92", "weight": 4.2},
            "address": {"level": "exact", "weight": 9.1},
            "email": {"level": "missing", "weight": 0.0},
            "phone": {"level": "different", "weight": -0.6},
            "cvr": None,
        },
        left,
        right,
    )
    assert [(e.field, e.level, e.direction) for e in found] == [
        ("address", "exact", "for"),
        ("name", "token >= 0.92", "for"),
        ("phone", "different", "against"),
        ("email", "missing", "neutral"),
    ]
    assert [(e.left, e.right) for e in found] == [
        ("Vestergade 12, 8000 Aarhus C", "Vestergade 12, 8000 Aarhus C"),
        ("Hansen Byg ApS", "Hansen Byg"),
        ("+4512345678", "+4587654321, +4522334455"),
        ("", "info@hansenbyg.dk"),
    ]
    assert all(e.differs == () for e in found)


def test_an_address_that_agrees_in_part_says_which_part_differs() -> None:
    """``same street`` weighs for one customer (``Vestergade 12`` / ``Vestergade 14``): the
    page listed "same street: very strong evidence" and nothing of the other house number."""
    left = {"street": "Vestergade", "house_number": "12", "postal_code": "8000"}
    right = {"street": "Vestergade", "house_number": "14", "floor": "2", "postal_code": "8000"}
    street = evidence({"address": {"level": "same street", "weight": 9.9}}, left, right)[0]
    assert street.differs == (("house_number", "12", "14"), ("unit", "", "2"))
    assert (street.left, street.right) == ("Vestergade 12, 8000", "Vestergade 14, 2, 8000")
    exact = evidence({"address": {"level": "exact", "weight": 9.9}}, left, left)[0]
    assert exact.differs == ()


def test_side_by_side_marks_differences_and_keeps_originals() -> None:
    left = {
        "name": "Hansen Byg ApS",
        "phone_e164": "+4512345678",
        "src_Navn": "HANSEN BYG APS",
        "src_Tlf": "12 34 56 78",
        "email": None,
        "src_Note": None,
    }
    right = {"name": "Hansen Byg ApS", "phone_e164": "+4587654321", "src_Navn": "Hansen Byg",
             "src_Tlf": "87654321", "email": None, "src_Note": None}  # fmt: skip
    cleaned, original = side_by_side(left, right)
    assert [(r.label, r.differs) for r in cleaned] == [("name", False), ("phone", True)]
    assert [(r.label, r.left, r.right, r.differs) for r in original] == [
        ("Navn", "HANSEN BYG APS", "Hansen Byg", True),
        ("Tlf", "12 34 56 78", "87654321", True),
    ]


def test_merge_preview_joins_both_customers() -> None:
    records = pl.DataFrame(
        {
            "record_id": ["a1", "a2", "b1"],
            "source_row": [1, 2, 3],
            "cluster_id": ["A", "A", "B"],
            "name": ["Hansen Byg ApS", "Hansen Byg ApS", "Hansen Byg"],
            "phone_e164": [None, "+4512345678", "+4512345678"],
            "email": ["info@hansenbyg.dk", None, None],
            "customer_type": ["company"] * 3,
        }
    )
    queue = pl.DataFrame({"record_id_l": ["a2"], "record_id_r": ["b1"]})
    preview = merge_previews(records, queue)[("a2", "b1")]
    assert preview.customers == ["A", "B"]
    assert sorted(preview.members) == ["a1", "a2", "b1"]
    fields = {name: (value, source) for name, value, source, _ in preview.fields}
    assert fields["name"][0] == "Hansen Byg ApS"
    assert fields["phone_e164"][0] == "+4512345678"
    assert fields["email"] == ("info@hansenbyg.dk", "a1")
