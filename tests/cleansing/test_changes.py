from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from datavask.cleansing.changes import (
    RULES,
    address_line,
    build_changes,
    changes_columns,
    changes_view,
    input_shaped,
)
from datavask.cleansing.normalise import normalise
from datavask.cleansing.schema import CANONICAL_FIELDS, TYPED_PADDING
from datavask.cleansing.survivorship import (
    apply_golden,
    build_golden,
    golden_applied_columns,
    golden_view,
)


def frame(**columns: list[Any]) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    data: dict[str, Any] = {"record_id": [str(i + 1) for i in range(n)], **columns}
    return pl.DataFrame(
        data,
        schema={
            k: pl.List(pl.String) if k in ("phone_numbers", "emails") else pl.String for k in data
        },
    )


def changes_of(records: pl.DataFrame) -> list[tuple[str, str, str | None, str, str]]:
    return [tuple(r) for r in build_changes(records).rows()]  # type: ignore[misc]


def test_whitespace_only_difference_is_not_a_change() -> None:
    records = frame(raw_name=["  Hansen Byg ApS "], name=["Hansen Byg ApS"], legal_form=["ApS"])
    assert changes_of(records) == []


def test_a_cell_typed_with_whitespace_around_it_is_trimmed() -> None:
    """``Pedersen Ejendomme ApS `` goes back trimmed: the re-import changes the cell, so
    changes.csv lists it (rule ``trimmed``), before as typed. A cell that keeps its original
    (an invalid phone number) is written as typed, and is no change."""
    fields = len(CANONICAL_FIELDS)
    padded = [None] * fields
    padded[CANONICAL_FIELDS.index("name")] = "\x00 "
    padded[CANONICAL_FIELDS.index("email")] = " \x00"
    padded[CANONICAL_FIELDS.index("phone")] = "\x00  "
    records = frame(
        raw_name=["Pedersen Ejendomme ApS", "Holm ApS"],
        name=["Pedersen Ejendomme ApS", "Holm ApS"],
        legal_form=["ApS", "ApS"],
        raw_email=["bo@pedersen.dk", "bo@holm.dk"],
        email=["bo@pedersen.dk", "bo@holm.dk"],
        raw_phone=["12 34", None],
        phone_numbers=[[], []],
    ).with_columns(pl.Series(TYPED_PADDING, [padded, None], dtype=pl.List(pl.String)))
    assert changes_of(records) == [
        ("1", "name", "Pedersen Ejendomme ApS ", "Pedersen Ejendomme ApS", "trimmed"),
        ("1", "email", " bo@pedersen.dk", "bo@pedersen.dk", "trimmed"),
    ]


def test_an_e_mail_cells_note_goes_back_as_written() -> None:
    """A note beside the address (``(faktura)``, ``faktura:``) is the customer's, as a phone
    cell's is; a label that only says it is an e-mail is not, nor is a joining ``og``."""
    records = frame(
        raw_email=[
            "info@ejendom.dk (faktura)",
            "faktura: info@shape.dk",
            "E-mail: Info@Hansen.DK",
            "info@vvs.dk og ordre@vvs.dk",
        ],
        email=["info@ejendom.dk", "info@shape.dk", "info@hansen.dk", "info@vvs.dk"],
        emails=[["info@ejendom.dk"], ["info@shape.dk"], ["info@hansen.dk"],
                ["info@vvs.dk", "ordre@vvs.dk"]],
    )  # fmt: skip
    assert [(r, after) for r, _, _, after, _ in changes_of(records)] == [
        ("3", "info@hansen.dk"),
        ("4", "info@vvs.dk; ordre@vvs.dk"),
    ]


def test_a_person_written_last_name_first_goes_back_so() -> None:
    """``Hansen, Jens`` (an ERP sorting its customers by last name) keeps its order; only the
    spelling is cleaned. A company's comma is no such order."""
    records = frame(
        raw_name=["HANSEN, JENS", "Holm, Mette Louise", "Jensen & Co, Tømrerfirma"],
        name=["Jens Hansen", "Mette Louise Holm", "Jensen & Co, Tømrerfirma"],
        first_name=["Jens", "Mette Louise", None],
        last_name=["Hansen", "Holm", None],
        customer_type=["person", "person", "company"],
    )
    assert changes_of(records) == [("1", "name", "HANSEN, JENS", "Hansen, Jens", "name_case")]


def test_null_cleaned_value_keeps_the_original() -> None:
    records = frame(
        raw_phone=["12 34"],
        phone_e164=[None],
        phone_numbers=[[]],
        raw_email=["not an address"],
        email=[None],
    )
    assert changes_of(records) == []


def test_a_cell_that_held_only_a_masked_cpr_number_goes_back_empty() -> None:
    """An e-mail made of a CPR number (``0101801234@gmail.com``, read ``XXXXXX-XXXX@gmail.com``:
    ``INVALID_EMAIL``) and a phone cell that was one: written back as read, the CRM's value
    would become the mask. They are emptied (rule ``cpr_masked``); a number beside the mask
    goes back alone."""
    records = frame(
        raw_phone=["XXXXXX-XXXX", "20304050 / XXXXXX-XXXX", "12 34"],
        phone_e164=[None, "+4520304050", None],
        phone_numbers=[[], ["+4520304050"], []],
        raw_email=["XXXXXX-XXXX@gmail.com", "nanna.XXXXXX-XXXX@gmail.com", "not an address"],
        email=[None, None, None],
    )
    assert changes_of(records) == [
        ("1", "phone", "XXXXXX-XXXX", "", "cpr_masked"),
        ("1", "email", "XXXXXX-XXXX@gmail.com", "", "cpr_masked"),
        ("2", "phone", "20304050 / XXXXXX-XXXX", "+4520304050", "phone_e164"),
        ("2", "email", "nanna.XXXXXX-XXXX@gmail.com", "", "cpr_masked"),
    ]


def test_what_was_typed_beside_a_masked_cpr_number_goes_back() -> None:
    """A broken CVR number typed beside a CPR number (``1234567 010190-1234``, read
    ``1234567 XXXXXX-XXXX``) is no value cleansing can write, but it is the user's: it goes back
    without the mask and its label, not emptied with it. A mask inside a word (an e-mail's
    ``@gmail.com``) leaves nothing worth writing."""
    records = frame(
        raw_cvr=["1234567 XXXXXX-XXXX", "(CPR-nr. XXXXXX-XXXX) 2531376", "XXXXXX-XXXX"],
        cvr=[None, None, None],
        raw_phone=["2030405 / XXXXXX-XXXX", None, None],
        phone_e164=[None, None, None],
        phone_numbers=[[], [], []],
    )
    assert changes_of(records) == [
        ("1", "phone", "2030405 / XXXXXX-XXXX", "2030405", "cpr_masked"),
        ("1", "cvr", "1234567 XXXXXX-XXXX", "1234567", "cpr_masked"),
        ("2", "cvr", "(CPR-nr. XXXXXX-XXXX) 2531376", "2531376", "cpr_masked"),
        ("3", "cvr", "XXXXXX-XXXX", "", "cpr_masked"),
    ]


@pytest.mark.parametrize(
    ("raw_name", "name", "legal_form", "rule"),
    [
        ("HANSEN BYG APS", "Hansen Byg ApS", "ApS", "name_case"),
        ("Hansen Byg Anpartsselskab", "Hansen Byg ApS", "ApS", "legal_form"),
        ("Hansen Byg A.p.S.", "Hansen Byg ApS", "ApS", "legal_form"),
        ("Hansen & Søn", "Hansen og Søn", None, "name_normalised"),
    ],
)
def test_name_rules(raw_name: str, name: str, legal_form: str | None, rule: str) -> None:
    records = frame(raw_name=[raw_name], name=[name], legal_form=[legal_form])
    assert changes_of(records) == [("1", "name", raw_name, name, rule)]


def test_one_line_address_is_written_back_in_danish_format() -> None:
    records = frame(
        raw_address=["vestergade 12,2tv", "vestergade 12, 2. tv, 8000 aarhus c"],
        raw_postal_code=["8000", None],
        street=["Vestergade", "Vestergade"],
        house_number=["12", "12"],
        floor=["2", "2"],
        door=["tv", "tv"],
        postal_code=["8000", "8000"],
        city=["Aarhus C", "Aarhus C"],
    )
    assert changes_of(records) == [
        ("1", "address", "vestergade 12,2tv", "Vestergade 12, 2. tv", "address_parsed"),
        # the input has a postal-code column: the code moves out of the line into its cell
        (
            "2",
            "address",
            "vestergade 12, 2. tv, 8000 aarhus c",
            "Vestergade 12, 2. tv",
            "address_parsed",
        ),
        ("2", "postal_code", None, "8000", "postal_code"),
    ]


@pytest.mark.parametrize(
    ("raw_address", "country", "after"),
    [
        # a Danish record is written the Danish way, whichever way it came
        ("12 vestergade", "DK", "Vestergade 12"),
        # a foreign one keeps its number first, and so does an English street in any record
        ("10 downing street", "GB", "10 Downing Street"),
        ("10 downing street", None, "10 Downing Street"),
        ("435 s la cienega blvd", "DK", "435 S La Cienega Blvd"),
        # written street first, it stays street first
        ("Downing Street 10", "GB", None),
    ],
)
def test_number_first_lines_of_foreign_records_stay_number_first(
    raw_address: str, country: str | None, after: str | None
) -> None:
    street = " ".join(w.capitalize() for w in raw_address.split() if not w.isdigit())
    records = frame(
        raw_address=[raw_address],
        street=[street],
        house_number=["".join(c for c in raw_address if c.isdigit())],
        country=[country],
    )
    expected = [] if after is None else [("1", "address", raw_address, after, "address_parsed")]
    assert changes_of(records) == expected


def test_a_foreign_unit_goes_back_where_it_was_typed() -> None:
    """Before: ``12 100 Main Street, Floor``, ``7th Avenue 854`` and ``rue de la Paix 12, rue de la
    Paix`` went back into the CRM."""
    records = frame(
        raw_street=[
            "100 Main Street, Floor 12",
            "Flat 2, 10 Downing Street",
            "12, rue de la Paix",
            "854 7th Avenue",
        ],
        street=["Main Street", "Downing Street", "rue de la Paix", "7th Avenue"],
        house_number=["100", "10", "12", "854"],
        address_extra=["Floor 12", "Flat 2", None, None],
        country=["US", "GB", "FR", "US"],
    )
    assert changes_of(records) == []


def test_address_line_carries_postal_code_and_city_only_without_their_columns() -> None:
    cleaned = {
        "street": ["Vestergade", "Vestergade"],
        "house_number": ["12", "12"],
        "postal_code": ["8000", "8000"],
        "city": ["Aarhus C", "Aarhus C"],
    }
    only_line = frame(raw_address=["vestergade 12, 8000 aarhus c", "Vestergade 12"], **cleaned)
    assert input_shaped(only_line, mapped={"address"})["address"].to_list() == [
        "Vestergade 12, 8000 Aarhus C",
        "Vestergade 12, 8000 Aarhus C",
    ]
    with_columns = frame(
        raw_address=["vestergade 12, 8000 aarhus c", "Vestergade 12"],
        raw_postal_code=[None, "8000"],
        raw_city=[None, "Aarhus C"],
        **cleaned,
    )
    shaped = input_shaped(with_columns, mapped={"address", "postal_code", "city"})
    assert shaped["address"].to_list() == ["Vestergade 12", "Vestergade 12"]
    assert shaped["postal_code"].to_list() == ["8000", "8000"]
    # a postal-code column without a city column: the city follows from the code
    shaped = input_shaped(with_columns, mapped={"address", "postal_code"})
    assert shaped["address"].to_list() == ["Vestergade 12", "Vestergade 12"]
    # a city column without a postal-code column: the code stays in the line, unless the
    # row's city cell carries it ("8000 Aarhus C")
    city_only = frame(
        raw_address=["Vestergade 12, 8000", "Vestergade 12"],
        raw_city=["Aarhus C", "8000 Aarhus C"],
        **cleaned,
    )
    shaped = input_shaped(city_only, mapped={"address", "city"})
    assert shaped["address"].to_list() == ["Vestergade 12, 8000", "Vestergade 12"]
    assert shaped["city"].to_list() == ["Aarhus C", "8000 Aarhus C"]


def test_only_fields_the_input_has_are_filled() -> None:
    records = frame(
        raw_name=["Hansen Byg", None],
        name=["Hansen Byg", "Jensen ApS"],
        raw_postal_code=["8000", None],
        postal_code=["8000", "5000"],
        city=["Aarhus C", "Odense C"],
    )
    # city has no column in the input: not filled; the empty postal cell and name cell are
    assert changes_of(records) == [
        ("2", "name", None, "Jensen ApS", "name_normalised"),
        ("2", "postal_code", None, "5000", "postal_code"),
    ]
    assert changes_of_mapped(records, {"name"}) == [
        ("2", "name", None, "Jensen ApS", "name_normalised")
    ]
    assert input_shaped(records, mapped={"city"})["city"].to_list() == ["Aarhus C", "Odense C"]


def changes_of_mapped(records: pl.DataFrame, mapped: set[str]) -> list[tuple[str, ...]]:
    return [tuple(r) for r in build_changes(records, mapped=mapped).rows()]


def test_an_address_lines_extra_text_goes_back_with_it() -> None:
    # Dropping "Vester Hassing" from the line would delete it from the CRM on re-import.
    records = frame(
        raw_address=["hovedgaden 4, vester hassing", "Algade 1,2.th, Baghuset"],
        raw_postal_code=["9310", "4000"],
        street=["Hovedgaden", "Algade"],
        house_number=["4", "1"],
        floor=[None, "2"],
        door=[None, "th"],
        address_extra=["vester hassing", "Baghuset"],
        postal_code=["9310", "4000"],
    )
    assert changes_of(records) == [
        ("1", "address", "hovedgaden 4, vester hassing", "Hovedgaden 4, vester hassing",
         "address_parsed"),
        ("2", "address", "Algade 1,2.th, Baghuset", "Algade 1, 2. th, Baghuset",
         "address_parsed"),
    ]  # fmt: skip
    # A street column holding the whole line, beside a floor column, keeps it too.
    street = frame(
        raw_street=["Hovedgaden 4, Vester Hassing"],
        raw_floor=["2"],
        street=["Hovedgaden"],
        house_number=["4"],
        floor=["2"],
        address_extra=["Vester Hassing"],
    )
    assert changes_of(street) == []


def test_a_note_after_the_floor_goes_back_as_typed() -> None:
    """Before: ``Rosenvængets Allé 21, St. Th. (Ring 2 Gange)``: the note re-cased in the CRM."""
    records = frame(
        raw_address=["Rosenvængets Allé 21, st. th. (ring 2 gange)", "Algade 3, 2. th - ring"],
        street=["Rosenvængets Allé", "Algade"],
        house_number=["21", "3"],
        floor=["st", "2"],
        door=["th", "th"],
        address_extra=["(ring 2 gange)", "- ring"],
    )
    assert input_shaped(records, mapped={"address"})["address"].to_list() == [
        "Rosenvængets Allé 21, st. th (ring 2 gange)",
        "Algade 3, 2. th - ring",
    ]
    # a house-number column holds the note after the floor and door it is about
    number = frame(
        raw_street=["Algade"],
        raw_house_number=["3, 2. th (ring)"],
        street=["Algade"],
        house_number=["3"],
        floor=["2"],
        door=["th"],
        address_extra=["(ring)"],
    )
    assert changes_of(number) == []


def test_street_column_without_number_column_keeps_its_number() -> None:
    records = frame(raw_street=["vestergade 12"], street=["Vestergade"], house_number=["12"])
    assert changes_of(records) == [
        ("1", "street", "vestergade 12", "Vestergade 12", "address_parsed")
    ]


def test_separate_columns_are_compared_one_by_one() -> None:
    records = frame(
        raw_street=["Vestergade"],
        raw_house_number=["12 a"],
        street=["Vestergade"],
        house_number=["12A"],
        raw_postal_code=["DK-8000"],
        postal_code=["8000"],
        raw_city=["Århus C"],
        city=["Aarhus C"],
    )
    assert changes_of(records) == [
        ("1", "house_number", "12 a", "12A", "address_parsed"),
        ("1", "postal_code", "DK-8000", "8000", "postal_code"),
        ("1", "city", "Århus C", "Aarhus C", "postal_city"),
    ]


def test_combined_postal_city_column() -> None:
    records = frame(raw_city=["8000 århus c"], postal_code=["8000"], city=["Aarhus C"])
    assert changes_of(records) == [("1", "city", "8000 århus c", "8000 Aarhus C", "postal_city")]


def test_a_city_column_with_the_code_after_the_town_goes_back_so() -> None:
    """ "By/Postnr": the code after the town, the comma where there was one; not into the line."""
    records = frame(
        raw_address=["Vestergade 1", "Nørregade 5"],
        raw_city=["aarhus c 8000", "København K, 1165"],
        street=["Vestergade", "Nørregade"],
        house_number=["1", "5"],
        postal_code=["8000", "1165"],
        city=["Aarhus C", "København K"],
    )
    assert changes_of(records) == [("1", "city", "aarhus c 8000", "Aarhus C 8000", "postal_city")]


def test_each_phone_column_gets_its_own_number() -> None:
    records = frame(
        raw_phone=["12 34 56 78", "+45 12345678"],
        raw_mobile=["0045 8765 4321", "12"],
        phone_e164=["+4512345678", "+4512345678"],
        phone_numbers=[["+4512345678", "+4587654321"], ["+4512345678"]],
    )
    assert changes_of(records) == [
        ("1", "phone", "12 34 56 78", "+4512345678", "phone_e164"),
        ("1", "mobile", "0045 8765 4321", "+4587654321", "phone_e164"),
        ("2", "phone", "+45 12345678", "+4512345678", "phone_e164"),
    ]


def test_a_note_in_the_phone_cell_goes_back_with_it() -> None:
    """``+45 20 30 40 50 (Jens)`` went back to the CRM as ``+4520304050``, the note deleted,
    while ``2030 4050 (efter kl. 16)`` went back as typed: a note beside the number is the
    customer's, and the cell is kept. A label that only says it is a phone goes."""
    records = frame(
        raw_phone=[
            "+45 20 30 40 50 (Jens)",
            "2030 4050 (efter kl. 16)",
            "20304050 privat",
            "Mobil: +45 2030 4050",
            "tlf. 20 30 40 50",
            "T: 20 30 40 50",
        ],
        phone_e164=["+4520304050"] * 6,
        phone_numbers=[["+4520304050"]] * 6,
    )
    assert [(r, after) for r, _, _, after, _ in changes_of(records)] == [
        ("4", "+4520304050"),
        ("5", "+4520304050"),
        ("6", "+4520304050"),
    ]


def test_a_fax_beside_the_phone_stays_in_the_cell() -> None:
    records = frame(
        raw_phone=["Fax 75 12 12 13, tlf 75 12 12 12", "75121212 fax 75121213"],
        phone_e164=["+4575121212"] * 2,
        phone_numbers=[["+4575121212"]] * 2,
    )
    assert changes_of(records) == []


def test_a_number_written_with_its_trunk_zero_gets_its_number() -> None:
    """``+45 (0) 20 30 40 50`` is read as +4520304050; its digits with the ``(0)`` (45020…)
    matched no number, and the cell went back to the CRM as it was."""
    records = frame(
        raw_phone=["+45 (0) 20 30 40 50", "+44 (0)20 7946 0958"],
        phone_e164=["+4520304050", "+442079460958"],
        phone_numbers=[["+4520304050"], ["+442079460958"]],
    )
    assert [(f, after) for _, f, _, after, _ in changes_of(records)] == [
        ("phone", "+4520304050"),
        ("phone", "+442079460958"),
    ]


def test_email_cvr_and_ean_rules() -> None:
    records = frame(
        raw_email=["Info@Hansen.DK"],
        email=["info@hansen.dk"],
        emails=[["info@hansen.dk"]],
        raw_cvr=["DK 12 34 56 74"],
        cvr=["12345674"],
        raw_ean=["5798 0000 0000 1"],
        ean=["5798000000001"],
    )
    assert [(f, r) for _, f, _, _, r in changes_of(records)] == [
        ("email", "email_normalised"),
        ("cvr", "cvr_compact"),
        ("ean", "ean_compact"),
    ]


def registry_records() -> pl.DataFrame:
    """A renamed company that moved, a company whose CVR names another company, a person."""
    address = {
        "raw_address": ["Vestergade 12", "Vestergade 12", "Vestergade 12"],
        "street": ["Vestergade"] * 3,
        "house_number": ["12"] * 3,
        "floor": [None] * 3,
        "door": [None] * 3,
        "raw_postal_code": ["8000"] * 3,
        "postal_code": ["8000"] * 3,
        "raw_city": ["Aarhus C"] * 3,
        "city": ["Aarhus C"] * 3,
    }
    return frame(
        customer_type=["company", "company", "person"],
        raw_name=["gammel handel aps", "Nordlys A/S", "Jens Hansen"],
        name=["Gammel Handel ApS", "Nordlys A/S", "Jens Hansen"],
        registry_proposed_name=["Nyt Navn ApS", None, None],
        registry_proposed_street=["Havnegade", "Havnegade", "Havnegade"],
        registry_proposed_house_number=["3", "3", "3"],
        registry_proposed_floor=["2", "2", "2"],
        registry_proposed_door=["tv", "tv", "tv"],
        registry_proposed_postal_code=["5000", "5000", "5000"],
        registry_proposed_city=["Odense C", "Odense C", "Odense C"],
        **address,
    ).with_columns(flag_NAME_MISMATCH=pl.Series([True, True, False]))


def test_trusted_registry_proposals_are_applied_and_listed_as_registry_changes() -> None:
    assert changes_of(registry_records()) == [
        ("1", "name", "gammel handel aps", "Nyt Navn ApS", "registry"),
        ("1", "address", "Vestergade 12", "Havnegade 3, 2. tv", "registry"),
        ("1", "postal_code", "8000", "5000", "registry"),
        ("1", "city", "Aarhus C", "Odense C", "registry"),
    ]


def test_a_cvr_naming_another_company_changes_nothing() -> None:
    """NAME_MISMATCH without a proposed name: the CVR may be wrong — a person decides."""
    records = registry_records()
    shaped = input_shaped(records, mapped={"name", "address", "postal_code", "city"})
    assert [c for c in changes_of(records) if c[0] != "1"] == []
    assert shaped["address"].to_list()[1:] == ["Vestergade 12", "Vestergade 12"]
    assert shaped["postal_code"].to_list()[1:] == ["8000", "8000"]


def test_applied_proposals_leave_nothing_to_propose_on_the_next_run() -> None:
    applied = registry_records().with_columns(
        raw_name=pl.lit("Nyt Navn ApS"),
        name=pl.lit("Nyt Navn ApS"),
        raw_address=pl.lit("Havnegade 3, 2. tv"),
        street=pl.lit("Havnegade"),
        house_number=pl.lit("3"),
        floor=pl.lit("2"),
        door=pl.lit("tv"),
        raw_postal_code=pl.lit("5000"),
        postal_code=pl.lit("5000"),
        raw_city=pl.lit("Odense C"),
        city=pl.lit("Odense C"),
    )
    # the registry agrees now; a proposal equal to the record is not a change
    assert changes_of(applied.head(1)) == []


def test_changes_come_in_record_order_with_known_rules() -> None:
    records = frame(raw_cvr=["DK12345674", None, "12 34 56 74"], cvr=["12345674", None, "12345674"])
    changes = build_changes(records)
    assert changes["record_id"].to_list() == ["1", "3"]
    assert set(changes["rule"]) <= set(RULES)
    assert changes.schema == pl.Schema(
        {
            "record_id": pl.String,
            "field": pl.String,
            "before": pl.String,
            "after": pl.String,
            "rule": pl.String,
        }
    )


def test_no_input_columns_means_no_changes() -> None:
    records = frame(name=["Hansen Byg ApS"])
    assert build_changes(records).height == 0
    assert input_shaped(records)["name"].to_list() == [None]


def test_address_line_parts() -> None:
    out = pl.DataFrame(
        {
            "street": ["Vestergade", "Vestergade", None, "Algade"],
            "number": ["12", "12", None, "12"],
            "floor": ["st", None, None, None],
            "door": [None, "tv", None, "4"],
            "co": [None, "Jens Hansen", None, None],
            "postal": ["8000", "8000", None, "4000"],
            "city": ["Aarhus C", "Aarhus C", None, "Roskilde"],
        }
    ).select(
        address_line(
            pl.col("street"),
            pl.col("number"),
            pl.col("floor"),
            pl.col("door"),
            postal_code=pl.col("postal"),
            city=pl.col("city"),
            co_name=pl.col("co"),
        )
    )
    assert out.to_series().to_list() == [
        "Vestergade 12, st., 8000 Aarhus C",
        "c/o Jens Hansen, Vestergade 12, tv, 8000 Aarhus C",
        None,
        # an apartment's number without a floor would read as the floor ("Algade 12, 4")
        "Algade 12, lejl. 4, 4000 Roskilde",
    ]


def test_an_empty_cvr_cell_filled_from_the_name_says_so() -> None:
    """cvr_from_name only where the name noted that number; an empty cell filled from a
    duplicate (survivorship) is cvr_compact as before."""
    frame = pl.DataFrame(
        {
            "record_id": ["1", "2", "3"],
            "raw_name": ["Hansen Byg ApS (CVR 25313763)", None, "Hansen Byg ApS"],
            "raw_cvr": [None, "DK 1234 5674", None],
            "cvr": ["25313763", "12345674", "25313763"],
        }
    )
    rules = build_changes(frame, mapped={"cvr"}).select("record_id", "before", "after", "rule")
    assert rules.rows() == [
        ("1", None, "25313763", "cvr_from_name"),
        ("2", "DK 1234 5674", "12345674", "cvr_compact"),
        ("3", None, "25313763", "cvr_compact"),
    ]


def test_a_combined_postal_code_column_keeps_its_city() -> None:
    """A "Postnr. og by" column goes back as code and city, not as the code alone."""
    frame = pl.DataFrame(
        {"record_id": ["1"], "raw_postal_code": ["1165 Kbh K"], "postal_code": ["1165"],
         "city": ["København K"]}
    )  # fmt: skip
    assert build_changes(frame).select("field", "after").rows() == [
        ("postal_code", "1165 København K")
    ]
    # A Dutch code holds letters of its own: "1012 LG" is the code, not a code and a city
    # (it went back as "1012 LG Amsterdam").
    dutch = pl.DataFrame(
        {"record_id": ["1", "2"], "raw_postal_code": ["1012 LG", "1012 lg  Amsterdam"],
         "postal_code": ["1012 LG", "1012 LG"], "city": ["Amsterdam", "Amsterdam"]}
    )  # fmt: skip
    assert build_changes(dutch).select("record_id", "field", "after").rows() == [
        ("2", "postal_code", "1012 LG Amsterdam")
    ]


def test_a_postal_code_column_with_its_town_first_or_glued_goes_back_in_its_order() -> None:
    """``Herning 7400`` goes back town first (as a "By/Postnr" city cell does), ``7400Herning``
    with its space, and a town typed alone with the code its town has; before, the two went back
    as typed with no postal code read."""
    frame = pl.DataFrame(
        {
            "record_id": ["1", "2", "3", "4"],
            "raw_postal_code": ["7400Herning", "herning 7400", "Herning, 7400", "Herning"],
            "postal_code": ["7400"] * 4,
            "city": ["Herning"] * 4,
        }
    )
    assert build_changes(frame).select("record_id", "after").rows() == [
        ("1", "7400 Herning"),
        ("2", "Herning 7400"),
        ("4", "7400 Herning"),
    ]


def test_a_postal_code_mistyped_with_letters_goes_back_as_the_code() -> None:
    """``80OO`` (two O's for noughts) beside Aarhus C went back as ``8000 Aarhus C`` into the
    postal code column, read as a code and its town; ``7400 Oslo`` is a code and a town."""
    frame = pl.DataFrame(
        {
            "record_id": ["1", "2", "3"],
            "raw_postal_code": ["80OO", "800l", "7400 Oslo"],
            "raw_city": ["Aarhus C", "Aarhus C", None],
            "postal_code": ["8000", "8000", "7400"],
            "city": ["Aarhus C", "Aarhus C", "Oslo"],
        }
    )
    changes = build_changes(frame).filter(pl.col("field") == "postal_code")
    # (the third cell keeps its code and town as typed: nothing to change)
    assert changes.select("record_id", "after").rows() == [("1", "8000"), ("2", "8000")]


def test_a_cvr_number_from_the_name_stays_in_it_without_a_cvr_column() -> None:
    """No CVR column to write it to: the cleaned name keeps the number, or the CRM loses it."""
    frame = pl.DataFrame(
        {"record_id": ["1", "2", "3"],
         "raw_name": ["HANSEN BYG APS (CVR 25313763)", "JENSEN VVS", "Hansen Byg"],
         "name": ["Hansen Byg ApS", "Jensen VVS", "Hansen Byg"], "raw_cvr": [None, None, None],
         "cvr": ["25313763", None, "25313763"]},
        schema_overrides={"raw_cvr": pl.String},
    )  # fmt: skip
    shaped = input_shaped(frame, mapped={"name"})
    # the third record's number is its duplicate's: its name never noted one
    assert shaped["name"].to_list() == ["Hansen Byg ApS (CVR 25313763)", "Jensen VVS", "Hansen Byg"]
    # with a CVR column the number goes there and the name is the name
    shaped = input_shaped(frame, mapped={"name", "cvr"})
    assert shaped["name"].to_list() == ["Hansen Byg ApS", "Jensen VVS", "Hansen Byg"]
    assert shaped["cvr"].to_list() == ["25313763", None, "25313763"]


def normalised_customers() -> pl.DataFrame:
    """Normalised records with every input field, two customers of two records each, the
    registry's proposals for one of them, and columns the changes never read (``src_``, keys)."""
    rows = [
        {"name": "gammel handel aps", "address": "vestergade 12,2tv", "postal_code": "8000",
         "city": "aarhus c", "phone": "86 12 34 56", "mobile": "0045 2012 3456",
         "email": "INFO@Handel.dk", "cvr": "DK 2126 5837", "customer_type": "company",
         "updated_at": "2024-01-05"},
        {"name": "Gammel Handel ApS", "address": "Vestergade 12, 2. tv", "postal_code": "8000",
         "city": "Aarhus C", "phone": "+45 20123456", "email": "info@handel.dk; bogholderi@handel.dk",
         "cvr": "21265837", "ean": "5790000123456", "customer_type": "company",
         "updated_at": "2025-03-01"},
        {"first_name": "jens", "last_name": "hansen", "street": "Nørregade", "house_number": "4 st",
         "postal_code": "5000", "city": "Odense C", "mobile": "30 40 50 60",
         "email": "jens@example.dk", "customer_type": "person", "date_of_birth": "1970-02-01"},
        {"first_name": "Jens", "last_name": "Hansen", "street": "Nørregade 4", "floor": "st",
         "postal_code": "5000", "country": "DK", "phone": "66 11 22 33", "customer_type": "person"},
        {"name": "Harbour Ltd", "address": "10 Downing Street", "city": "London SW1A 2AA",
         "country": "GB", "phone": "+44 20 7946 0958", "cvr": "GB980780684",
         "customer_type": "company"},
    ]  # fmt: skip
    columns = {f"raw_{f}": [r.get(f) for r in rows] for f in CANONICAL_FIELDS if f != "record_id"}
    canonical = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String)).with_columns(
        record_id=pl.Series(["1", "2", "3", "4", "5"]),
        raw_record_id=pl.Series(["1", "2", "3", "4", "5"]),
        source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        src_Kundenr=pl.Series(["1", "2", "3", "4", "5"]),
    )
    return normalise(canonical).with_columns(
        cluster_id=pl.Series(["1", "1", "3", "3", "5"]),
        cluster_size=pl.Series([2, 2, 2, 2, 1]),
        registry_name=pl.Series(["Nyt Navn ApS", "Nyt Navn ApS", None, None, None]),
        registry_proposed_name=pl.Series(["Nyt Navn ApS", "Nyt Navn ApS", None, None, None]),
        registry_proposed_street=pl.Series(["Havnegade", "Havnegade", None, None, None]),
        registry_proposed_house_number=pl.Series(["3", "3", None, None, None]),
        registry_proposed_postal_code=pl.Series(["8000", "8000", None, None, None]),
        registry_proposed_city=pl.Series(["Aarhus C", "Aarhus C", None, None, None]),
    )


def test_changes_view_reads_as_the_whole_record() -> None:
    """The verdict step makes the changes from :func:`changes_view` of the applied records, so
    that the rest of the record can go first: shaped values and changes stay the same."""
    records = normalised_customers()
    applied = apply_golden(records, build_golden(records))
    view = changes_view(applied)
    mapped = {f for f in CANONICAL_FIELDS if records.get_column(f"raw_{f}").is_not_null().any()}
    shaped = input_shaped(applied, mapped=mapped)
    assert_frame_equal(input_shaped(view, mapped=mapped), shaped)
    assert_frame_equal(
        build_changes(view, mapped=mapped), build_changes(applied, mapped=mapped, shaped=shaped)
    )
    # the fixture exercises what the view must keep: numbers from two columns, an address
    # replaced by the registry's, several e-mail addresses
    assert {"registry", "phone_e164"} <= set(build_changes(applied, mapped=mapped)["rule"])
    assert view.width < applied.width
    assert not [c for c in view.columns if c.startswith("src_") or c.endswith("_key")]


def test_golden_values_applied_from_the_columns_read() -> None:
    """The verdict step applies the golden values to the columns that, and the changes, read,
    from the golden columns it reads: the record the changes see is the same."""
    records = normalised_customers()
    golden = build_golden(records)
    read = {*golden_applied_columns(records.columns), *changes_columns(records.columns)}
    narrow = apply_golden(
        records.select(c for c in records.columns if c in read), golden_view(golden)
    )
    assert_frame_equal(changes_view(narrow), changes_view(apply_golden(records, golden)))
    assert golden_view(golden).width < golden.width


def test_changes_view_keeps_a_record_whose_proposals_are_not_applied() -> None:
    records = registry_records()
    assert changes_view(records) is records


def test_a_foreign_post_box_goes_back_as_typed() -> None:
    """A foreign customer's post box is its country's words (``PO Box 123``, ``Box 123``,
    ``Postboks 123 Sentrum``): it went back to the CRM as a Danish ``Postboks 123``, ``Sentrum``
    lost. A Danish record's box is still written the Danish post's way."""
    rows = [("PO Box 123", "10001", "New York", "USA"),
            ("Box 123", "101 23", "Stockholm", "Sverige"),
            ("Postboks 123 Sentrum", "0102", "Oslo", "Norge"),
            ("Box 45", "8000", "Aarhus C", None)]  # fmt: skip
    columns = {f"raw_{f}": [None] * len(rows) for f in CANONICAL_FIELDS if f != "record_id"}
    for i, field in enumerate(("address", "postal_code", "city", "country")):
        columns[f"raw_{field}"] = [row[i] for row in rows]
    canonical = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String)).with_columns(
        record_id=pl.Series([str(i + 1) for i in range(len(rows))]),
        source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
    )
    records = normalise(canonical)
    assert records["po_box"].to_list() == [
        "PO Box 123", "Box 123", "Postboks 123 Sentrum", "Postboks 45",
    ]  # fmt: skip
    addresses = [c for c in changes_of(records) if c[1] == "address"]
    assert addresses == [("4", "address", "Box 45", "Postboks 45", "address_parsed")]


def test_a_first_name_columns_title_goes_back_with_the_first_name() -> None:
    """The names stage reads ``Dr. Hans-Peter`` as the first name ``Hans-Peter``; written back
    without its title, the CRM lost it."""
    records = frame(
        raw_first_name=["Dr. Hans-Peter", "DR. HANS", "Fru", "DR JENS"],
        raw_last_name=["Schaefer", "SCHMIDT", "Hansen", "HOLM"],
        first_name=["Hans-Peter", "Hans", None, "Jens"],
        last_name=["Schaefer", "Schmidt", "Hansen", "Holm"],
        customer_type=["person", "person", "person", "person"],
    )
    assert [c for c in changes_of(records) if c[1] == "first_name"] == [
        ("2", "first_name", "DR. HANS", "Dr. Hans", "name_case"),
        # the title, not DR the broadcaster the casing table keeps in capitals
        ("4", "first_name", "DR JENS", "Dr Jens", "name_case"),
    ]


def test_an_estates_words_go_back_with_the_first_and_last_names() -> None:
    """The names stage reads ``Dødsboet efter Knud`` + ``Sørensen`` as Knud Sørensen's estate
    and ``Jensen (afdød)`` as the last name ``Jensen``; written back without the words, the CRM
    would lose the estate."""
    records = frame(
        raw_first_name=["Dødsboet efter Knud", "Hans", "Inge"],
        raw_last_name=["Sørensen", "Jensen (afdød)", "Lund v/værge"],
        first_name=["Knud", "Hans", "Inge"],
        last_name=["Sørensen", "Jensen", "Lund"],
        customer_type=["person", "person", "person"],
    )
    assert [c for c in changes_of(records) if c[1] in ("first_name", "last_name")] == []


def test_a_foreign_customers_own_line_goes_back_as_typed() -> None:
    """How a country writes its addresses is its own: before, the re-import turned ``Straße des
    17. Juni 135`` into ``Straße des 17, Juni 135``, ``Keizersgracht 123-II`` into
    ``Keizersgracht 123, II``, and dropped the country the line ended with. A line typed in one
    case is written from its parts, cased, with its country."""
    typed = [
        "Straße des 17. Juni 135, 10623 Berlin, Deutschland",
        "Keizersgracht 123-II, 1015 CJ Amsterdam",
        "STORGATAN 1, 114 55 STOCKHOLM, SVERIGE",
        "Vestergade 12, 2. th., 8000 Aarhus C",
    ]
    records = frame(
        raw_address=typed,
        street=["Straße des 17. Juni", "Keizersgracht", "Storgatan", "Vestergade"],
        house_number=["135", "123", "1", "12"],
        floor=[None, None, None, "2"],
        door=[None, None, None, "th"],
        address_extra=[None, "II", None, None],
        postal_code=["10623", "1015 CJ", "114 55", "8000"],
        city=["Berlin", "Amsterdam", "Stockholm", "Aarhus C"],
        country=["DE", "NL", "SE", "DK"],
    )
    shaped = input_shaped(records, mapped={"address"})
    assert shaped["address"].to_list() == [
        None,  # kept as the CRM has it
        None,
        "Storgatan 1, 114 55 Stockholm, Sverige",
        "Vestergade 12, 2. th, 8000 Aarhus C",
    ]


def test_a_foreign_survivor_given_another_records_address_gets_it_from_its_parts() -> None:
    records = frame(
        raw_address=["Storgatan 1, 114 55 Stockholm", "Storgatan 12, 114 55 Stockholm"],
        street=["Storgatan", "Storgatan"],
        house_number=["1", "12"],
        postal_code=["114 55", "114 55"],
        city=["Stockholm", "Stockholm"],
        country=["SE", "SE"],
        address_taken=["false", "true"],
    ).with_columns(pl.col("address_taken") == "true")
    shaped = input_shaped(records, mapped={"address"})
    assert shaped["address"].to_list() == [None, "Storgatan 12, 114 55 Stockholm"]


def test_a_line_composed_abroad_is_written_as_its_country_writes_it() -> None:
    """A British survivor given its duplicates' address, and a line typed in capitals, are
    written from their parts, number first as Britain and France write them (before:
    ``Sophie Isle 184``); a Danish record's line is turned as before. A record abroad whose
    country could not be named (null) keeps a line it typed number first."""
    records = frame(
        raw_address=["Sophie Isle 184", "RUE DE LA PAIX 12", "12 Vestergade", "184 Sophie Isle"],
        street=["Sophie Isle", "Rue De La Paix", "Vestergade", "Sophie Isle"],
        house_number=["184", "12", "12", "184"],
        country=["GB", "FR", "DK", None],
    ).with_columns(pl.Series("address_taken", [True, False, False, False]))
    shaped = input_shaped(records, mapped={"address"})
    assert shaped["address"].to_list() == [
        "184 Sophie Isle",
        "12 Rue De La Paix",
        "Vestergade 12",
        "184 Sophie Isle",
    ]


def test_a_foreign_postal_code_is_kept_where_the_golden_record_has_none() -> None:
    """``LE1 1NT`` reads like a code before a town; without a cleaned code beside it (the
    golden record had none) it went back as the town, ``Leicester``. It is kept."""
    records = frame(
        raw_postal_code=["LE1 1NT", "8000 Aarhus C"],
        postal_code=[None, "8000"],
        city=["Leicester", "Aarhus C"],
        country=["GB", "DK"],
    )
    shaped = input_shaped(records, mapped={"postal_code"})
    assert shaped["postal_code"].to_list() == [None, "8000 Aarhus C"]


def test_a_value_a_duplicate_gave_is_listed_as_a_copy() -> None:
    """A survivor given its duplicate's CVR number, or its phone number in an empty cell, gets
    rule ``golden_value``: before, they read ``cvr_compact`` and ``phone_e164``, and an auditor
    could not tell a copy from a formatting fix. Its own values cleaned keep their rules, also
    where the golden number is another (the cell keeps the survivor's own number)."""
    records = frame(
        cluster_id=["a", "a", "b", "b", "c", "c"],
        source_row=["1", "2", "3", "4", "5", "6"],
        name=["Hansen Byg ApS", "Hansen Byg ApS", "Jens Hansen", "Jens Hansen", "Bo Holm",
              "Bo Holm"],
        raw_cvr=["DK 2531 3763", None, None, None, None, None],
        cvr=["25313763", None, None, None, None, None],
        raw_phone=[None, "20304050", None, "20 30 40 51", "86 12 12 12", "20 30 40 52"],
        phone_e164=[None, "+4520304050", None, "+4520304051", "+4586121212", "+4520304052"],
        phone_numbers=[[], ["+4520304050"], [], ["+4520304051"], ["+4586121212"],
                       ["+4520304052"]],
        raw_email=[None, "a@hansenbyg.dk", "jens@hansen.dk", None, "bo@holm.dk", None],
        email=[None, "a@hansenbyg.dk", "jens@hansen.dk", None, "bo@holm.dk", None],
        updated_at=[None, None, "2025-01-01", "2024-01-01", "2024-01-01", "2025-01-01"],
    ).with_columns(pl.col("source_row").cast(pl.Int64))  # fmt: skip
    golden = build_golden(records)
    assert golden["record_id"].to_list() == ["2", "3", "5"]
    changes = changes_of(apply_golden(records, golden))
    assert changes == [
        ("1", "cvr", "DK 2531 3763", "25313763", "cvr_compact"),
        ("2", "phone", "20304050", "+4520304050", "phone_e164"),
        ("2", "cvr", None, "25313763", "golden_value"),
        ("3", "phone", None, "+4520304051", "golden_value"),
        ("4", "phone", "20 30 40 51", "+4520304051", "phone_e164"),
        ("5", "phone", "86 12 12 12", "+4586121212", "phone_e164"),
        ("6", "phone", "20 30 40 52", "+4520304052", "phone_e164"),
    ]


def test_a_code_moved_into_a_postal_code_and_town_column_takes_its_town() -> None:
    """A "Postnr. og by" column (``postal_town``) gets the code the line held with its town; a
    "Postnr." column the code alone, the town being the code's."""
    frame = pl.DataFrame(
        {"record_id": ["1", "2"], "raw_address": ["Postboks 123, 7400 Herning", "Algade 1"],
         "raw_postal_code": [None, "4000"], "po_box": ["Postboks 123", None],
         "street": [None, "Algade"], "house_number": [None, "1"],
         "postal_code": ["7400", "4000"], "city": ["Herning", "Roskilde"]}
    )  # fmt: skip
    fields = {"address", "postal_code"}
    both = input_shaped(frame, mapped=fields, postal_town=True)
    assert both.select("address", "postal_code").rows() == [
        ("Postboks 123", "7400 Herning"),
        ("Algade 1", "4000"),  # the code alone as typed: kept so
    ]
    code = input_shaped(frame, mapped=fields)
    assert code.get_column("postal_code").to_list() == ["7400", "4000"]
