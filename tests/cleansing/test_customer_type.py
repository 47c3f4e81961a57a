"""Customer type: company, public or person, from the source's type, identifiers and the name."""

from __future__ import annotations

import polars as pl
import pytest

from datavask.cleansing.customer_type import (
    business_name,
    classify_customer_type,
    declared_type,
    public_name,
)
from datavask.cleansing.names import normalise_names

COLUMNS = ("raw_name", "raw_customer_type", "cvr", "ean")


def _classify(rows: list[tuple[str | None, ...]]) -> list[str]:
    frame = pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String), orient="row")
    return classify_customer_type(normalise_names(frame))["customer_type"].to_list()


@pytest.mark.parametrize(
    ("name", "declared", "cvr", "ean", "expected"),
    [
        # Public bodies by name, with or without their CVR number.
        ("Aarhus Kommune", None, None, None, "public"),
        ("AARHUS KOMMUNE", None, "55133018", None, "public"),
        ("Region Midtjylland", "erhverv", None, None, "public"),
        ("Skattestyrelsen", None, None, None, "public"),
        ("Vestre Skole", None, None, None, "public"),
        ("Rigshospitalet", None, None, None, "public"),
        ("Rigspolitiet", None, None, None, "public"),
        ("Børnehaven Solstrålen", None, None, None, "public"),
        ("Rosenplejecentret", None, None, None, "public"),
        # A public EAN makes a customer without a company legal form public.
        ("Rosenhallen", None, "12345674", "5798000000007", "public"),
        ("Hansen Byg ApS", None, None, "5798000000007", "company"),
        # The source's own type.
        ("Jens Hansen", "privat", None, None, "person"),
        ("Jens Hansen", "B2C", None, None, "person"),
        ("Nordlys", "Erhverv", None, None, "company"),
        ("Nordlys", "B2B", None, None, "company"),
        ("Nordlys", "Offentlig", None, None, "public"),
        # A CVR number or a legal form beats the source's "person".
        ("Jens Hansen", "privat", "12345674", None, "company"),
        ("Hansen Byg ApS", "privat", None, None, "company"),
        ("Hansen Tømrer v/Jens Hansen", None, None, None, "company"),
        # A legal form keeps a company that has a public word in its name a company.
        ("Hansen Skat & Revision ApS", None, None, None, "company"),
        ("Hospitalsudstyr A/S", None, None, None, "company"),
        # Business words.
        ("Hansen Byg", None, None, None, "company"),
        ("Nordic Consult", None, None, None, "company"),
        ("Hansens Malerfirma", None, None, None, "company"),
        ("Køreskolen Jensen", None, None, None, "company"),
        ("Dyrehospitalet Nord", None, None, None, "company"),
        # English business words and the words that join a business's name, never a person's.
        ("Pinot Bistro", None, None, None, "company"),
        ("Art's Delicatessen", None, None, None, "company"),
        ("Easter Seals Society", None, None, None, "company"),
        ("LEARN Charter School", None, None, None, "company"),
        ("Arnie Morton's of Chicago", None, None, None, "company"),
        ("The Palm", None, None, None, "company"),
        ("Chinois on Main", None, None, None, "company"),
        ("Fenix at the Argyle", None, None, None, "company"),
        # A shop named after its street is a branch, never a person (but Solvej is a first name).
        ("Netto Vestergade", None, None, None, "company"),
        ("Føtex Store Torv", None, None, None, "company"),
        ("Solvej Andersen", None, None, None, "person"),
        # A department is an organisation's; no person has one.
        ("Dansk Røde Kors, Afd. Aarhus", None, None, None, "company"),
        ("Nordea afdeling Vejle", None, None, None, "company"),
        # ... but a couple's names joined by "og"/"and" stay a person, as do names like words.
        ("Jens og Mette Hansen", None, None, None, "person"),
        ("John and Mary Smith", None, None, None, "person"),
        ("Finn Bart Theilgaard", None, None, None, "person"),
        ("Anton Barfod", None, None, None, "person"),
        # A private EAN (GLN) is a business's.
        ("Jens Hansen", None, None, "5790000000005", "company"),
        # Nothing else known: a person.
        ("Jens Hansen", None, None, None, "person"),
        ("Nordlys", None, None, None, "person"),
        ("Politiken", None, None, None, "person"),
        (None, None, None, None, "person"),
    ],
)
def test_classify(
    name: str | None, declared: str | None, cvr: str | None, ean: str | None, expected: str
) -> None:
    assert _classify([(name, declared, cvr, ean)]) == [expected]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # An authority's word says public by itself: a compound's end (-tilsynet, -nævnet,
        # -ombud), a court, a municipality written short, a state body whose name says nothing.
        ("Arbejdstilsynet", "public"),
        ("Finanstilsynet", "public"),
        ("Planklagenævnet", "public"),
        ("Huslejenævnet", "public"),
        ("Folketingets Ombudsmand", "public"),
        ("Forbrugerombudsmanden", "public"),
        ("Politiets Efterretningstjeneste", "public"),
        ("Rigsrevisionen", "public"),
        ("Retten i Aarhus", "public"),
        ("Retten på Frederiksberg", "public"),
        ("Frederiksberg Kom.", "public"),
        ("Gentofte Kom.", "public"),
        # Faroese and Greenlandic municipalities (were persons)
        ("Tórshavnar Kommuna", "public"),
        ("Qeqqata Kommunia", "public"),
        ("Kommuneqarfik Sermersooq", "public"),
        ("VIA University College", "public"),
        ("Banedanmark", "public"),
        ("DR", "public"),
        ("Danmarks Radio", "public"),
        # ... and no private word outweighs it (a hospital's pharmacy is the region's).
        ("Kommunernes Landsforening", "public"),
        ("Region Hovedstadens Apotek", "public"),
        ("Sygehusapoteket Fyn", "public"),
        # An abbreviation is one only where it stands alone or ends the name.
        ("Kom og Køb", "person"),
        ("Dr. Hansen", "person"),
        # An institution's word without a private word beside it: public. A kommune's daycare
        # and residential home, a museum, a royal institution, a folkekirke church (invoiced to
        # its menighedsråd through EAN).
        ("Nationalmuseet", "public"),
        ("Moesgaard Museum", "public"),
        ("Statens Museum for Kunst", "public"),
        ("Statens Serum Institut", "public"),
        # the state's funds and agencies whose words read private or like a person's
        ("Statens Kunstfond", "public"),
        ("Innovationsfonden", "public"),
        ("Familieretshuset", "public"),
        ("Det Kongelige Teater", "public"),
        ("Det Kongelige Bibliotek", "public"),
        ("Børnehuset Mælkebøtten", "public"),
        ("Børnehuset Regnbuen", "public"),
        ("Bostedet Lyngly", "public"),
        ("Vor Frue Kirke", "public"),
        ("Sankt Pauls Kirke", "public"),
        ("Bakkeskolen", "public"),
        ("Vejle Musikskole", "public"),
        ("Regionshospitalet Randers", "public"),
        ("Sportshallen Ikast", "public"),
        # The same word beside a shop's, an eatery's, a trade's, an association's or a hobby
        # school's word, or a street named after the institution: a business.
        ("Skolegades Pizza", "company"),
        ("Hospitalsgadens Bageri", "company"),
        ("Hospitalsgadens Konditori", "company"),
        ("Skolevejens Kiosk", "company"),
        ("Rådhusapoteket", "company"),
        ("Rådhuskroen", "company"),
        ("Rådhuscaféen", "company"),
        ("Biblioteksbaren", "company"),
        ("Statens Pizza", "company"),
        ("Statens Grill", "company"),
        ("Sogn Auto", "company"),
        ("Regions Bilpleje", "company"),
        ("Kirkegårdens Blomster", "company"),
        ("Kirkegårdsgartner Holm", "company"),
        ("Skat & Regnskab Holm", "company"),
        ("Psykiatrifonden", "company"),
        ("Bibliotekarforbundet", "company"),
        ("Skoleforeningen Vesterbro", "company"),
        ("Hundeskolen Vovse", "company"),
        ("Golfskolen Hedeland", "company"),
        ("Surfskolen Klitmøller", "company"),
        ("Privathospitalet Kollund", "company"),
        ("Privatskolen Sydhavn", "company"),
        ("Apostolsk Kirke Vejle", "company"),
        # A hall is a shop's as often as a sports club's: by its name alone, a business.
        ("Fiskehallen", "company"),
        ("Kødhallen Brønshøj", "company"),
        ("Møbelhallen Vejle", "company"),
    ],
)
def test_public_by_name(name: str, expected: str) -> None:
    """Before: ``skole``, ``hospital``, ``rådhus``, ``statens`` or ``-hallen`` anywhere in a name
    made a pizzeria or a pharmacy public, MISSING_EAN and not invoice-ready, and a name with none
    of the listed words (``Arbejdstilsynet``, ``Retten i Aarhus``) a person."""
    assert _classify([(name, None, None, None)]) == [expected]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Pinsekirken Vejle", "company"),
        ("Frikirken Herning", "company"),
        ("Baptistkirken i Aarhus", "company"),
        ("Missionskirken Vejle", "company"),
        ("Metodistkirken København", "company"),
        ("Adventistkirken Nærum", "company"),
        ("Københavns Valgmenighed", "company"),
        ("Frimenigheden Holstebro", "company"),
        ("Den Katolske Kirke i Danmark", "company"),
        ("Missionshuset Bethesda", "company"),
        # a folkekirke church and a cemetery stay public; a surname of their word names a person
        ("Vor Frue Kirke", "public"),
        ("Vestre Kirkegård", "public"),
        ("Bent Kirkegaard", "person"),
        ("Jean-Baptiste Dupont", "person"),
    ],
)
def test_a_free_church_is_a_business(name: str, expected: str) -> None:
    """``Pinsekirken Vejle`` (Kundenr 10 of an Excel customer list) was the person
    ``Pinsekirken`` ``Vejle``: a free church's word was only a word that keeps a church from the
    folkekirke, no business's."""
    assert _classify([(name, None, None, None)]) == [expected]


def test_works_without_names_module_columns() -> None:
    frame = pl.DataFrame({"name": ["Aarhus Kommune", "Hansen Byg", "Jens Hansen"]})
    assert classify_customer_type(frame)["customer_type"].to_list() == [
        "public",
        "company",
        "person",
    ]


def test_an_estate_is_a_persons_whatever_its_executors_name_says() -> None:
    """``Dødsboet v/advokat Peter Holm``: a lawyer is a business word, the estate owes no CVR."""
    frame = pl.DataFrame(
        {
            "name": ["Dødsboet v/advokat Peter Holm", "Advokat Peter Holm"],
            "flag_DECEASED_ESTATE": [True, False],
        }
    )
    assert classify_customer_type(frame)["customer_type"].to_list() == ["person", "company"]


def test_a_foreign_vat_number_or_legal_form_is_a_companys() -> None:
    """A Norwegian customer with its VAT number and no form the table knew was a person."""
    frame = normalise_names(
        pl.DataFrame(
            {
                "raw_name": ["Nordisk Fiskeeksport", "Equinor ASA", "Nokia Oyj", "Siemens AG"],
                "vat_number": ["NO923609016MVA", None, None, None],
            },
            schema=dict.fromkeys(["raw_name", "vat_number"], pl.String),
        )
    )
    assert classify_customer_type(frame)["customer_type"].to_list() == ["company"] * 4


def test_missing_columns_count_as_null() -> None:
    out = classify_customer_type(pl.DataFrame({"record_id": ["1", "2"]}))
    assert out["customer_type"].to_list() == ["person", "person"]
    assert out["record_id"].to_list() == ["1", "2"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Privat", "person"),
        ("privatkunde", "person"),
        ("B2C", "person"),
        ("Erhverv", "company"),
        ("B2B", "company"),
        ("Offentlig myndighed", "public"),
        ("offentlig", "public"),
        ("B2G", "public"),
        # Dinero's and Billy's Kontakttype, an ERP's Kundetype, Odoo's Company Type
        *[(v, "company") for v in ("Virksomhed", "virksomhed", "Firma", "Erhverv")],
        *[(v, "company") for v in ("Company", "Business")],
        *[(v, "person") for v in ("Person", "person", "Private", "Individual")],
        ("VIP", None),
        # a Salesforce Type picklist names no customer type: the name and CVR number decide
        ("Customer - Direct", None),
        ("Prospect", None),
        ("Partner", None),
        ("", None),
        (None, None),
    ],
)
def test_declared_type(value: str | None, expected: str | None) -> None:
    frame = pl.DataFrame({"v": [value]}, schema={"v": pl.String})
    assert frame.select(declared_type(pl.col("v")))["v"].to_list() == [expected]


def test_word_lists() -> None:
    names = [
        "Aarhus Kommune",
        "Køreskolen Jensen",
        "Hansen Byg",
        "Jens Hansen",
        "Rådhusapoteket",
        None,
    ]
    frame = pl.DataFrame({"n": names}, schema={"n": pl.String})
    out = frame.select(public=public_name(pl.col("n")), business=business_name(pl.col("n")))
    assert out["public"].to_list() == [True, False, False, False, False, False]
    assert out["business"].to_list() == [False, True, True, False, True, False]


# Held out: the rules were developed on other seeds of the generator and never tuned on this one.
HELD_OUT_SEED = 20261123


def test_accuracy_on_generated_danish_crm_export() -> None:
    from bench.generate import generate
    from datavask.cleansing.identifiers import normalise_identifiers

    data = generate(20_000, HELD_OUT_SEED)
    raw = data.customers.select(
        raw_name=pl.col("Navn"), raw_cvr=pl.col("CVR-nr"), raw_ean=pl.col("EAN-nr")
    )
    out = classify_customer_type(normalise_names(normalise_identifiers(raw)))
    truth = data.truth["true_customer_type"]
    assert (out["customer_type"] == truth).mean() >= 0.99


def test_empty_and_all_null_frames() -> None:
    from datavask.cleansing.addresses import normalise_addresses

    empty = pl.DataFrame(schema={"raw_name": pl.String, "raw_address": pl.String})
    assert classify_customer_type(normalise_addresses(normalise_names(empty))).height == 0
    # A column read from a file with no values at all may arrive without a string type.
    all_null = pl.DataFrame({"raw_name": [None, None], "raw_address": [None, None]})
    out = classify_customer_type(normalise_addresses(normalise_names(all_null)))
    assert out["flag_MISSING_NAME"].to_list() == [True, True]
    assert out["flag_MISSING_ADDRESS"].to_list() == [True, True]
    assert out["customer_type"].to_list() == ["person", "person"]


@pytest.mark.parametrize("typed", ["A/B Solhaven", "E/F Vestergade 12", "G/F Lyngbakken"])
def test_an_association_written_short_is_an_organisation(typed: str) -> None:
    assert _classify([(typed, None, None, None)]) == ["company"]
    frame = pl.DataFrame({"name": [typed]})
    assert frame.select(business_name(pl.col("name")))["name"].to_list() == [True]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # A chain's branch, written without its company's form: before, persons (no MISSING_CVR).
        ("Føtex Aarhus", "company"),
        ("Rema 1000 Skanderborg", "company"),
        ("Dagli'Brugsen Galten", "company"),
        ("SuperBrugsen Hammel", "company"),
        ("Circle K Horsens", "company"),
        ("7-Eleven Hovedbanen", "company"),
        ("Harald Nyborg Randers", "company"),
        ("Salling Aarhus", "company"),
        # A chain's name that is a Danish surname too names a person after a given name.
        ("Jens Salling", "person"),
        ("Ole Illum", "person"),
    ],
)
def test_a_chains_branch_is_a_business(name: str, expected: str) -> None:
    assert _classify([(name, None, None, None)]) == [expected]


@pytest.mark.parametrize(
    "name",
    [
        "Jensens Bøfhus Torvet",
        "Hansens Spisehus",
        "Bodega Hansen",
        "Værtshuset Ankeret",
        "Hansens Pølsevogn",
        "Kebab House Aarhus",
        "Burger Hansen",
    ],
)
def test_an_eating_place_is_a_business(name: str) -> None:
    """``Jensens Bøfhus Torvet`` (a steak restaurant named after its square) was a person, so the
    restaurant got no MISSING_CVR and was compared as a person's name."""
    assert _classify([(name, None, None, None)]) == ["company"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # A surname and a trade or ware, without a form: before, persons (no MISSING_CVR).
        ("Hansen Installation", "company"),
        ("Lund Ventilation", "company"),
        ("Dahl Trælast", "company"),
        ("Holm Vinduer", "company"),
        ("Madsen Blik", "company"),
        ("Laursen Montage", "company"),
        ("Lauridsen Køleteknik", "company"),
        ("Jakobsen Brolægning", "company"),
        ("Jensen Tagdækning", "company"),
        ("Iversen Catering", "company"),
        # A trade that is a surname too names a firm after a surname, a person after given names.
        ("Jakobsen Maler", "company"),
        ("Poulsen Maler", "company"),
        ("Jens Smed", "person"),
        ("Ole Maler", "person"),
        ("Jens Peter Snedker", "person"),
        ("Steen Maler", "person"),  # Steen is a given name as well as a surname
        # An owner after v/ makes a business of any name.
        ("Jakobsen Maler v/ Susanne Jakobsen", "company"),
        ("Nordlys v/ Susanne Jakobsen", "company"),
    ],
)
def test_a_surname_and_a_trade_is_a_business(name: str, expected: str) -> None:
    """``Hansen Installation`` was the person ``Hansen`` ``Installation`` (no MISSING_CVR), and
    ``Jakobsen Maler`` beside ``Jakobsen Maler v/ Susanne Jakobsen`` at one address and e-mail
    was kept apart from it as the owner's private account (``person_and_business``)."""
    assert _classify([(name, None, None, None)]) == [expected]


@pytest.mark.parametrize(
    "name",
    ["Klaksvíkar Handil", "Gøtu Bakarí", "Argir Bygg", "Tvøroyrar Sparikassi", "Malmö Stad",
     "Lunds kommun"],
)  # fmt: skip
def test_a_faroese_or_swedish_firm_named_by_its_town_is_a_business(name: str) -> None:
    """A Faroese shop, bakery, builder or savings bank named by its town, and a Swedish
    municipality, were persons: the matcher's rules for people (namesakes, households) then
    applied to them."""
    assert _classify([(name, None, None, None)]) == ["company"]
