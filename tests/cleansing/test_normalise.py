"""The composed normaliser: rows kept, and an export keyed by CPR numbers keeps unique ids."""

from __future__ import annotations

import polars as pl
import pytest

from datavask.cleansing.normalise import normalise
from datavask.cleansing.schema import CANONICAL_FIELDS


def canonical(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    columns = {f"raw_{f}": [r.get(f) for r in rows] for f in CANONICAL_FIELDS}
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))
    return frame.with_columns(
        record_id=pl.Series([r["record_id"] for r in rows], dtype=pl.String),
        source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        src_Kundenr=pl.Series([r["record_id"] for r in rows], dtype=pl.String),
    )


def test_cpr_keyed_export_keeps_unique_masked_ids() -> None:
    rows = [
        {"record_id": "010190-1234", "name": "Jens Hansen", "phone": "20304050"},
        {"record_id": "020290-2345", "name": "Ane Hansen", "phone": "20304051"},
        {"record_id": "K-17", "name": "Hansen Byg ApS", "cvr": "21265837"},
    ]
    out = normalise(canonical(rows))
    assert out.height == 3
    assert out["record_id"].n_unique() == 3
    assert out["record_id"].to_list() == ["XXXXXX-XXXX#1", "XXXXXX-XXXX#2", "K-17"]
    assert not out["src_Kundenr"].str.contains(r"\d{6}-\d{4}").any()
    assert out["flag_CPR_IN_DATA"].to_list() == [True, True, False]


def test_a_masked_repeated_id_takes_its_row_once() -> None:
    """Ids already made unique before masking (``0101801234#1``, a repeated CPR-number key) are
    the masked input id and the row, however often the frame is masked: never ``…#1#1``."""
    rows = [
        {"record_id": "0101801234", "name": "Kim Madsen", "phone": "26112233"},
        {"record_id": "1203021234", "name": "Anna Jensen", "phone": "26112234"},
        {"record_id": "K-1003", "name": "Bo Holm", "phone": "26112235"},
        {"record_id": "0101801234", "name": "Kim Madsen", "phone": "26112233"},
    ]
    frame = canonical(rows).with_columns(
        record_id=pl.Series(["0101801234#1", "1203021234", "K-1003", "0101801234#4"])
    )
    out = normalise(normalise(frame))
    assert out["record_id"].to_list() == [
        "XXXXXX-XXXX#1",
        "XXXXXX-XXXX#2",
        "K-1003",
        "XXXXXX-XXXX#4",
    ]


def test_every_column_comes_back_in_one_chunk() -> None:
    """A frame whose columns are chunked unlike each other is copied whole by every eager
    ``select`` on it: the stages' lazily collected columns (in chunks) are joined into one."""
    rows = [
        {"record_id": "1", "name": "Hansen Byg ApS", "address": "Vestergade 12, 8000 Aarhus C"},
        {"record_id": "2", "name": "Jens Hansen", "email": "jens@gmial.com", "phone": "20304050"},
    ]
    out = normalise(canonical(rows))
    assert {c: out[c].n_chunks() for c in out.columns if out[c].n_chunks() != 1} == {}


def _foreign(rows: list[dict[str, str | None]]) -> dict[str, dict[str, object]]:
    out = normalise(canonical(rows))
    return {r["record_id"]: r for r in out.iter_rows(named=True)}


def test_a_foreign_customer_keeps_its_legal_form_as_typed() -> None:
    by_id = _foreign(
        [
            {"record_id": "no", "name": "Nordisk Fisk AS", "address": "Karl Johans gate 12",
             "postal_code": "0154", "city": "Oslo", "country": "NO"},
            {"record_id": "ks", "name": "BERGEN HAVN KS", "postal_code": "5013",
             "city": "Bergen", "country": "Norge"},
            {"record_id": "dk", "name": "Hansen Byg as", "address": "Nørregade 3",
             "postal_code": "1165", "city": "København K"},
        ]
    )  # fmt: skip
    # an aksjeselskap and a kommandittselskap are written as Norway writes them ...
    assert by_id["no"]["name"] == "Nordisk Fisk AS"
    assert by_id["ks"]["name"] == "Bergen Havn KS"
    # ... and their legal_form is Norway's, no Danish A/S or K/S to be counted among them; a
    # Danish "as" is the Danish A/S
    assert (by_id["no"]["legal_form"], by_id["ks"]["legal_form"]) == ("AS", "KS")
    assert by_id["dk"]["legal_form"] == "A/S"
    assert by_id["dk"]["name"] == "Hansen Byg A/S"


@pytest.mark.parametrize(
    ("typed", "country", "name", "form"),
    [
        # a foreign form's punctuation is the customer's: the last full stop, the comma stay
        ("Acme Corporation Inc.", "US", "Acme Corporation Inc.", "Inc"),
        ("Great Lakes Supply, L.L.C.", "US", "Great Lakes Supply, L.L.C.", "LLC"),
        ("Dupont S.A.R.L.", "FR", "Dupont S.A.R.L.", "SARL"),
        ("Amsterdam Bloemen B.V.", "NL", "Amsterdam Bloemen B.V.", "BV"),
        ("Reykjavik Fisk ehf.", "IS", "Reykjavik Fisk ehf.", "ehf"),
        # a name typed in capitals gets its form cased as the form is written
        ("ACME CORPORATION INC", "US", "Acme Corporation Inc", "Inc"),
        ("MÜLLER BAU GMBH", "DE", "Müller Bau GmbH", "GmbH"),
        ("ZÜRICH UHREN AG", "CH", "Zürich Uhren AG", "AG"),
        ("SVENSKA BYGG AKTIEBOLAG", "SE", "Svenska Bygg Aktiebolag", "AB"),
        ("LILLESTRØM RØR AS", "NO", "Lillestrøm Rør AS", "AS"),
        ("Lillestrøm Rør AS", "Norge", "Lillestrøm Rør AS", "AS"),
        ("Lillestrøm Rør A/S", "Norge", "Lillestrøm Rør A/S", "A/S"),
        # a Danish customer's form is written the Danish way
        ("Hansen Byg AS.", None, "Hansen Byg A/S", "A/S"),
    ],
)
def test_a_foreign_legal_form_keeps_its_punctuation(
    typed: str, country: str | None, name: str, form: str
) -> None:
    """``Acme Corporation Inc.`` went back to the CRM as ``Acme Corporation Inc``, ``Dupont
    S.A.R.L.`` as ``Dupont S.A.R.L`` and ``ACME CORPORATION INC`` as ``Acme Corporation INC``."""
    (row,) = _foreign(
        [{"record_id": "1", "name": typed, "address": "Main Street 1", "country": country}]
    ).values()
    assert (row["name"], row["legal_form"]) == (name, form)


@pytest.mark.parametrize(
    ("typed", "country", "name", "form"),
    [
        ("ADOLPH SANITÄR OHG", "DE", "Adolph Sanitär OHG", "OHG"),
        ("Schuler Steuerberatung OHG", "DE", "Schuler Steuerberatung OHG", "OHG"),
        ("Müller oHG", "DE", "Müller oHG", "OHG"),
        ("MIES IMMOBILIEN E.K.", "DE", "Mies Immobilien e.K.", "e.K."),
        ("Tanner Bau e.K.", "CH", "Tanner Bau e.K.", "e.K."),
        ("Müller e.Kfm.", "DE", "Müller e.Kfm.", "e.K."),
        ("Schmidt & Partner GbR", "DE", "Schmidt & Partner GbR", "GbR"),
        ("HANSEN UG (HAFTUNGSBESCHRÄNKT)", "DE", "Hansen UG (haftungsbeschränkt)", "UG"),
        ("Sportverein Blau e.V.", "DE", "Sportverein Blau e.V.", "e.V."),
        ("Henkel AG & Co. KGaA", "DE", "Henkel AG & Co. KGaA", "KGaA"),
        ("BAUER GMBH & CO. KG", "AT", "Bauer GmbH & Co. KG", "KG"),
        ("Volksbank Mittelhessen eG", "DE", "Volksbank Mittelhessen eG", "eG"),
        ("Migros Genossenschaft", "CH", "Migros Genossenschaft", "eG"),
        ("Allianz SE", "DE", "Allianz SE", "SE"),
        # a misspelt form keeps the capital it was typed with
        ("Tobler Transporte Akriengesellschaft", "CH", "Tobler Transporte Aktiengesellschaft",
         "AG"),
        # initials after a comma are a person's; a word of a name is no form
        ("Jensen, E.K.", "DE", "E.K. Jensen", None),
        ("Jens Eg", None, "Jens Eg", None),
    ],
)  # fmt: skip
def test_german_austrian_and_swiss_legal_forms(
    typed: str, country: str | None, name: str, form: str | None
) -> None:
    """``Schuler Steuerberatung OHG`` was a person (no legal form), ``ADOLPH SANITÄR OHG`` went
    back as ``Adolph Sanitär Ohg``, ``Tobler Transporte Akriengesellschaft`` as ``Tobler
    Transporte aktiengesellschaft``."""
    (row,) = _foreign(
        [{"record_id": "1", "name": typed, "address": "Hauptstraße 1", "country": country}]
    ).values()
    assert (row["name"], row["legal_form"]) == (name, form)
    assert (row["customer_type"] == "company") == (form is not None)


def test_a_foreign_company_number_in_the_cvr_field_is_no_broken_cvr() -> None:
    rows: list[dict[str, str | None]] = [
        {"record_id": "se", "name": "Svensk Trä AB", "postal_code": "211 20", "city": "Malmö",
         "country": "SE", "cvr": "556012-5790"},
        {"record_id": "no", "name": "Nordisk Fisk AS", "postal_code": "0154", "city": "Oslo",
         "country": "NO", "cvr": "974760673"},
        {"record_id": "fi", "name": "Nokia Oyj", "postal_code": "02610", "city": "Espoo",
         "country": "FI", "cvr": "0112038-9"},
        {"record_id": "de", "name": "Siemens AG", "postal_code": "80333", "city": "München",
         "country": "DE", "cvr": "129273398"},
        {"record_id": "se_broken", "name": "Trasig AB", "postal_code": "211 20",
         "city": "Malmö", "country": "SE", "cvr": "556012-5791"},
        {"record_id": "dk_orgnr", "name": "Hansen Byg ApS", "postal_code": "1165",
         "city": "København K", "cvr": "556012-5790"},
    ]  # fmt: skip
    by_id = _foreign(rows)
    for country in ("se", "no", "fi", "de"):
        assert not by_id[country]["flag_INVALID_CVR"], country
        assert by_id[country]["cvr"] is None
    # a VAT number written without its prefix gets it; a registration number is no VAT number
    assert by_id["fi"]["vat_number"] == "FI01120389"
    assert by_id["de"]["vat_number"] == "DE129273398"
    assert by_id["se"]["vat_number"] is None and by_id["no"]["vat_number"] is None
    # a number valid nowhere, or a Danish record's, is still a broken CVR number
    assert by_id["se_broken"]["flag_INVALID_CVR"]
    assert by_id["dk_orgnr"]["flag_INVALID_CVR"]


def test_a_faroese_v_tal_is_no_broken_cvr() -> None:
    """A Faroese company is in the Faroese register, not the Danish CVR: its six-digit V-tal in
    the CVR column (``123456`` beside ``Færøerne``, or labelled ``V-tal 654321``) was
    INVALID_CVR, which blocked its invoices. It is its VAT number, ``FO123456``; a Danish or
    Greenlandic record's six digits (Greenland's companies are in the CVR) are still broken."""
    rows: list[dict[str, str | None]] = [
        {"record_id": "fo", "name": "Føroya Fisk P/F", "postal_code": "100", "city": "Tórshavn",
         "country": "Færøerne", "cvr": "123456"},
        {"record_id": "fo_label", "name": "Smyril Line P/F", "postal_code": "100",
         "city": "Tórshavn", "country": "FO", "cvr": "V-tal 654 321"},
        {"record_id": "label_only", "name": "Vága Fisk P/F", "cvr": "V-tal: 602590"},
        {"record_id": "fo_short", "name": "Faroe Ship P/F", "postal_code": "100",
         "city": "Tórshavn", "country": "FO", "cvr": "12345"},
        {"record_id": "gl", "name": "Nuuk Byg A/S", "postal_code": "3900", "city": "Nuuk",
         "country": "Grønland", "cvr": "123456"},
        {"record_id": "dk", "name": "Hansen Byg ApS", "postal_code": "4000", "city": "Roskilde",
         "country": "DK", "cvr": "123456"},
    ]  # fmt: skip
    by_id = _foreign(rows)
    got = {k: (v["cvr"], v["vat_number"], v["flag_INVALID_CVR"]) for k, v in by_id.items()}
    assert got == {
        "fo": (None, "FO123456", False),
        "fo_label": (None, "FO654321", False),
        "label_only": (None, "FO602590", False),
        "fo_short": (None, None, True),
        "gl": (None, None, True),
        "dk": (None, None, True),
    }


def test_a_swiss_uid_and_the_neighbours_numbers_are_no_broken_cvr() -> None:
    """``CHE-123.456.788`` (a valid Swiss UID, python-stdnum says) was INVALID_CVR, which blocked
    the customer's invoices, while the same number with ``MWST`` was its VAT number."""
    rows: list[dict[str, str | None]] = [
        {"record_id": "ch", "name": "Zürich Uhren AG", "postal_code": "8001", "city": "Zürich",
         "country": "Schweiz", "cvr": "CHE-123.456.788"},
        {"record_id": "ch_bare", "name": "Genève Montres SA", "postal_code": "1204",
         "city": "Genève", "country": "CH", "cvr": "116.281.704"},
        {"record_id": "ch_unnamed", "name": "Basel Chemie AG", "postal_code": "4001",
         "city": "Basel", "cvr": "CHE116281704"},
        {"record_id": "no", "name": "Fjord Data AS", "postal_code": "0154", "city": "Oslo",
         "country": "Norge", "cvr": "923609016"},
        {"record_id": "se", "name": "Svea Verktyg AB", "postal_code": "114 55",
         "city": "Stockholm", "country": "Sverige", "cvr": "556677-8899"},
        {"record_id": "de", "name": "Berliner Stahl GmbH", "postal_code": "10117",
         "city": "Berlin", "country": "Tyskland", "cvr": "DE 123450003"},
        {"record_id": "ch_broken", "name": "Falsch AG", "postal_code": "8001", "city": "Zürich",
         "country": "CH", "cvr": "CHE-123.456.789"},
    ]  # fmt: skip
    by_id = _foreign(rows)
    got = {k: (v["cvr"], v["vat_number"], v["flag_INVALID_CVR"]) for k, v in by_id.items()}
    assert got == {
        "ch": (None, "CHE123456788", False),
        "ch_bare": (None, "CHE116281704", False),
        "ch_unnamed": (None, "CHE116281704", False),
        "no": (None, None, False),
        "se": (None, None, False),
        "de": (None, "DE123450003", False),
        "ch_broken": (None, None, True),
    }


def test_numbers_a_spreadsheet_wrote_as_decimals_are_read() -> None:
    """A pandas export of a number column with a blank in it writes ``20304050.0``: the phone,
    CVR and EAN number are read, not flagged; a phone with a dot in it is no decimal."""
    by_id = _foreign(
        [
            {"record_id": "1", "name": "Hansen Byg ApS", "phone": "20304050.0",
             "mobile": "4530405060.0", "cvr": "25313763.0", "ean": "5790001330583.0"},
            {"record_id": "2", "name": "Jens Hansen", "phone": "2030.4050"},
            {"record_id": "3", "name": "Jens Hansen", "phone": "2030.0"},
        ]
    )  # fmt: skip
    one = by_id["1"]
    assert (one["phone_e164"], one["cvr"], one["ean"]) == (
        "+4520304050",
        "25313763",
        "5790001330583",
    )
    assert one["phone_numbers"] == ["+4520304050", "+4530405060"]
    assert not (one["flag_INVALID_PHONE"] or one["flag_INVALID_CVR"] or one["flag_INVALID_EAN"])
    assert by_id["2"]["phone_e164"] == "+4520304050"
    assert by_id["3"]["flag_INVALID_PHONE"]


def test_a_cvr_number_noted_in_the_name_fills_an_empty_cvr_field() -> None:
    by_id = _foreign(
        [
            {"record_id": "noted", "name": "HANSEN BYG APS (CVR 25313763)"},
            {"record_id": "dk", "name": "Hansen Byg ApS, cvr-nr: DK 2531 3763"},
            {"record_id": "typed", "name": "Hansen Byg ApS (CVR 25313763)", "cvr": "13585628"},
            {"record_id": "broken", "name": "Hansen Byg ApS CVR 25313764"},
            {"record_id": "word", "name": "Cvrsen 12345678 ApS"},
        ]
    )
    assert by_id["noted"]["cvr"] == by_id["dk"]["cvr"] == "25313763"
    assert by_id["noted"]["name"] == "Hansen Byg ApS"
    assert by_id["typed"]["cvr"] == "13585628"  # the CVR field wins
    assert by_id["broken"]["cvr"] is None and by_id["broken"]["flag_INVALID_CVR"]
    assert by_id["word"]["cvr"] is None and not by_id["word"]["flag_INVALID_CVR"]


def test_a_city_column_holding_the_postal_code_gives_the_code() -> None:
    """``1165 København K`` in the city column beside an empty postal code: a combined column."""
    by_id = _foreign(
        [
            {"record_id": "1", "name": "Hansen", "address": "Nørregade 3", "city": "1165 Kbh K"},
            {"record_id": "2", "name": "Jensen", "address": "Vestergade 1", "postal_code": "8000",
             "city": "1165 København K"},
        ]
    )  # fmt: skip
    assert (by_id["1"]["postal_code"], by_id["1"]["city"]) == ("1165", "København K")
    assert not by_id["1"]["flag_MISSING_ADDRESS"]
    assert by_id["2"]["postal_code"] == "8000"  # a typed postal code wins


def test_a_city_column_with_the_postal_code_after_the_town_gives_the_code() -> None:
    """A "By/Postnr" column: ``Aarhus C 8000``, ``København K, 1165``. Before: neither the code
    nor the town was read, MISSING_ADDRESS, and the re-import put the code into the line."""
    by_id = _foreign(
        [
            {"record_id": "1", "name": "Hansen", "address": "Vestergade 1", "city": "Aarhus C 8000"},
            {"record_id": "2", "name": "Jensen", "address": "Nørregade 5",
             "city": "København K, DK-1165"},
            {"record_id": "3", "name": "Holm", "address": "Algade 3", "city": "Roskilde 12"},
        ]
    )  # fmt: skip
    assert (by_id["1"]["postal_code"], by_id["1"]["city"]) == ("8000", "Aarhus C")
    assert (by_id["2"]["postal_code"], by_id["2"]["city"]) == ("1165", "København K")
    assert not by_id["1"]["flag_MISSING_ADDRESS"] and not by_id["2"]["flag_MISSING_ADDRESS"]
    assert by_id["3"]["postal_code"] is None  # no Danish code: the city as written


def test_a_foreign_city_with_its_postal_code_is_kept_as_written() -> None:
    """``2022 Bevaix`` in a Swiss customer's city column is no junk to drop; a Danish city
    column's ``1165 København K`` gives the code, and a foreign code is never read as Danish."""
    by_id = _foreign(
        [
            {"record_id": "ch", "name": "A B", "city": "2022 Bevaix", "country": "CH"},
            {"record_id": "de", "name": "A B", "city": "D-8301 FURTH", "country": "DE"},
            {"record_id": "dk", "name": "A B", "address": "Nørregade 3", "city": "DK-1165 Kbh K"},
            {"record_id": "dk_junk", "name": "A B", "address": "Nørregade 3", "postal_code": "1165",
             "city": "Kbh 123"},
        ]
    )  # fmt: skip
    assert (by_id["ch"]["city"], by_id["ch"]["postal_code"]) == ("2022 Bevaix", None)
    assert by_id["de"]["city"] == "D-8301 Furth"
    assert (by_id["dk"]["postal_code"], by_id["dk"]["city"]) == ("1165", "København K")
    assert by_id["dk_junk"]["city"] == "København K"  # the official city for a known code


def test_a_foreign_city_keeps_its_postal_district() -> None:
    """``Dublin 2`` in an Irish customer's city column was dropped as junk (a digit): Dublin,
    Prague and Paris number their districts after the city's name, so it is kept as written.
    Digits in a Danish city are still no city."""
    by_id = _foreign(
        [
            {"record_id": "ie", "name": "A B", "city": "Dublin 2", "country": "Ireland"},
            {"record_id": "ie6w", "name": "A B", "city": "DUBLIN 6W", "country": "IE"},
            {"record_id": "cz", "name": "A B", "city": "Praha 4", "country": "CZ"},
            {"record_id": "fr", "name": "A B", "city": "Paris 15e", "country": "FR"},
            {"record_id": "dk", "name": "A B", "address": "Nørregade 3", "city": "Aarhus 8",
             "country": "DK"},
        ]
    )  # fmt: skip
    assert [by_id[r]["city"] for r in ("ie", "ie6w", "cz", "fr")] == [
        "Dublin 2", "Dublin 6W", "Praha 4", "Paris 15e"
    ]  # fmt: skip
    assert by_id["dk"]["city"] is None


def test_a_house_number_typed_without_its_space_is_the_number() -> None:
    by_id = _foreign(
        [
            {"record_id": "1", "name": "A", "address": "Nørregade3", "postal_code": "1165"},
            {
                "record_id": "2",
                "name": "A",
                "address": "Vestergade12B st. th",
                "postal_code": "8000",
            },
            {
                "record_id": "3",
                "name": "A",
                "address": "c/o Hansen, Nørregade3",
                "postal_code": "1165",
            },
        ]
    )
    parts = [(by_id[i]["street"], by_id[i]["house_number"], by_id[i]["floor"]) for i in "123"]
    assert parts == [
        ("Nørregade", "3", None),
        ("Vestergade", "12B", "st"),
        ("Nørregade", "3", None),
    ]
    assert by_id["3"]["co_name"] == "Hansen"


def test_a_glued_house_number_before_a_comma_and_a_floor_is_the_number() -> None:
    # The floor is a number of its own: it was read as the house number, and the re-import
    # wrote "Vestergade12B 2, th" over the customer's address.
    lines = ["Vestergade12B, 2. th", "Søndergade12, 3.", "Algade 4B, 1. tv", "Nørregade3, st"]
    by_id = _foreign(
        [
            {"record_id": str(i), "name": "A", "address": line, "postal_code": "8000"}
            for i, line in enumerate(lines)
        ]
    )
    parts = [
        tuple(by_id[str(i)][c] for c in ("street", "house_number", "floor", "door"))
        for i in range(len(lines))
    ]
    assert parts == [
        ("Vestergade", "12B", "2", "th"),
        ("Søndergade", "12", "3", None),
        ("Algade", "4B", "1", "tv"),
        ("Nørregade", "3", "st", None),
    ]
    # A postal code and city after the comma are no floor: read as before.
    (coded,) = _foreign(
        [{"record_id": "k", "name": "A", "address": "Byvej12, 8000 Aarhus C"}]
    ).values()
    assert [coded[c] for c in ("street", "house_number", "floor", "postal_code", "city")] == [
        "Byvej", "12", None, "8000", "Aarhus C",
    ]  # fmt: skip


def test_what_an_address_line_holds_after_the_number_is_kept() -> None:
    # A village (supplerende bynavn), a building, a hall: no floor or door, and the line's own.
    rows = [
        ("v", "Hovedgaden 4, Vester Hassing", "9310", "Vodskov"),
        ("b", "Grønnegade 3, baghuset", "8000", "Aarhus C"),
        ("f", "Algade 1, 2. th, Baghuset", "4000", "Roskilde"),
        ("h", "Industrivej 7, Hal 3", "4000", "Roskilde"),
        ("c", "Vestergade 12 Aarhus C", None, None),  # the city of a line without one
        ("s", "Vestergade 12, Aarhus C", "8000", "Aarhus C"),  # the city again
        ("r", "Landevejen 23 - 25", "4000", "Roskilde"),  # a range written with spaces
    ]
    by_id = _foreign(
        [
            {"record_id": i, "name": "A", "address": line, "postal_code": code, "city": city}
            for i, line, code, city in rows
        ]
    )
    got = {
        i: tuple(by_id[i][c] for c in ("street", "house_number", "floor", "door", "address_extra"))
        for i, *_ in rows
    }
    assert got == {
        "v": ("Hovedgaden", "4", None, None, "Vester Hassing"),
        "b": ("Grønnegade", "3", None, None, "Baghuset"),  # cased as the street is
        "f": ("Algade", "1", "2", "th", "Baghuset"),
        "h": ("Industrivej", "7", None, None, "Hal 3"),
        "c": ("Vestergade", "12", None, None, None),
        "s": ("Vestergade", "12", None, None, None),
        "r": ("Landevejen", "23-25", None, None, None),
    }
    assert by_id["c"]["city"] == "Aarhus C"


def test_a_flat_or_suite_after_a_number_first_line_is_no_house_number() -> None:
    # "10 Downing Street, Flat 2" went back as "2 10 Downing Street, Flat".
    rows = [
        ("gb", "10 Downing Street, Flat 2", "SW1A 2AA", "London", "GB"),
        ("us", "350 Fifth Avenue, Suite 100", "10118", "New York", "US"),
        ("dk", "Vestergade 12, 2. th", "8000", "Aarhus C", None),
        # without a comma the flat stayed in the street: "Main St Apt 4"
        ("apt", "1 Main St Apt 4", "10001", "New York", "US"),
        ("hash", "12 High Street #3", "SW1A 1AA", "London", "GB"),
        ("both", "1 Main St Apt 4, Springfield", "62701", "Springfield", "US"),
        ("road", "12 Unit Road", "SW1A 1AA", "London", "GB"),
    ]
    by_id = _foreign(
        [
            {"record_id": i, "name": "A", "address": line, "postal_code": code, "city": city,
             "country": country}
            for i, line, code, city, country in rows
        ]
    )  # fmt: skip
    got = {
        i: tuple(by_id[i][c] for c in ("street", "house_number", "address_extra")) for i, *_ in rows
    }
    assert got == {
        "gb": ("Downing Street", "10", "Flat 2"),
        "us": ("Fifth Avenue", "350", "Suite 100"),
        "dk": ("Vestergade", "12", None),
        "apt": ("Main St", "1", "Apt 4"),
        "hash": ("High Street", "12", "#3"),
        "both": ("Main St", "1", "Apt 4, Springfield"),
        "road": ("Unit Road", "12", None),
    }


def test_utf8_read_once_as_cp1252_is_repaired_and_the_original_kept() -> None:
    rows = [
        {"record_id": "1", "name": "SÃ¸ren MÃ¸ller", "address": "NÃ¸rregade 14, 2. th",
         "postal_code": "6200", "city": "Ã…benrÃ¥"},
        # Written so by hand, or never UTF-8: left as typed.
        {"record_id": "2", "name": "João Ãrhus", "address": "Rua São Bento 3", "city": "São Paulo"},
    ]  # fmt: skip
    out = {r["record_id"]: r for r in normalise(canonical(rows)).iter_rows(named=True)}
    assert out["1"]["name"] == "Søren Møller"
    assert out["1"]["street"] == "Nørregade"
    assert out["1"]["raw_city"] == "Åbenrå"
    assert out["1"]["src_Kundenr"] == "1"  # the input's own cells are never touched
    assert out["2"]["raw_name"] == "João Ãrhus"
    assert out["2"]["raw_city"] == "São Paulo"
