"""Comparison levels: one example pair per level, swapped names, initials, missing values."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from datavask.cleansing.matching.compare import COMPARISONS, compare_pairs, evidence_comparison
from datavask.cleansing.matching.prepare import evidence_frame, prepare_records
from tests.cleansing.matching.population import frame


def _label(name: str, left: dict[str, Any], right: dict[str, Any]) -> str:
    """The level label ``name`` gives the pair (left, right)."""
    records = prepare_records(frame([left, right]))
    levels = compare_pairs(
        records,
        pl.Series([0], dtype=pl.UInt32),
        pl.Series([1], dtype=pl.UInt32),
        (COMPARISONS[name],),
    )
    level = levels[f"lvl_{name}"][0]
    return "missing" if level < 0 else COMPARISONS[name].levels[level]


def _company(name: str) -> dict[str, Any]:
    return {"customer_type": "company", "name_key": name}


@pytest.mark.parametrize(
    ("a", "b", "label"),
    [
        ("hansen byg", "hansen byg", "exact"),
        ("hansen byg aps", "hansen byg", "exact"),  # legal form left in the key is ignored
        ("sol byg", "sol tyg", "token >= 0.80"),  # a typo that reorders sorted tokens
        ("byg hansen", "hansen byg", "token >= 0.92"),  # word order
        ("hansens vvs service", "hansen vvs service", "token >= 0.92"),
        ("hansen byg", "hansen byg og anlaeg", "token >= 0.80"),  # one contains the other
        # One site under its own name and under its organisation's.
        ("rauner family ymca", "ymca of metropolitan chicago rauner", "shares most words"),
        ("hansen holding", "hansen byg", "different"),
        # Alike as strings, but each has a word the other lacks: sister companies.
        ("svendsen trading", "svendsen holding", "different"),
        ("midt el", "midt al", "token >= 0.80"),  # a typo in a short word
        ("fyns vvs", "fynsnvvs", "token >= 0.80"),  # a space typed as a letter
        ("nordic cleaning", "nordik claening", "token >= 0.80"),  # a typo in every word
        ("hansen byg vest", "jensen byg nord", "different"),  # one shared word is a trade
        # A holding or property company beside the company it owns: two legal entities.
        ("nielsen transport", "nielsen transport holding", "different"),
        ("hansen og soen", "hansen og soen ejendomme", "different"),
        ("nordhavn ejendomme", "nordhavn ejendomme holding", "different"),
        ("nordhavn ejendomme holding", "nordhavn ejendome holding", "token >= 0.92"),
        # Two departments of one municipality (one CVR number, an EAN each): two customers.
        (
            "lyngby taarbaek kommune vej og park",
            "lyngby taarbaek kommune skoleafdelingen",
            "different",
        ),
        ("region midtjylland it", "region midtjylland hr", "different"),
        ("vestre skole sfo", "vestre skole kantine", "different"),
        # The department under its municipality's name alone, or misspelt, is not another.
        ("aarhus kommune", "aarhus kommune skoleafdelingen", "token >= 0.80"),
        (
            "lyngby taarbaek kommune skoleafdelingen",
            "lyngby tarbaek kommune skoleafdelingn",
            "token >= 0.92",
        ),
    ],
)
def test_company_name_levels(a: str, b: str, label: str) -> None:
    assert _label("name", _company(a), _company(b)) == label


def _formed(name: str, form: str | None, key: str) -> dict[str, Any]:
    return {"customer_type": "company", "name": name, "legal_form": form, "name_key": key}


@pytest.mark.parametrize(
    ("a", "b", "label"),
    [
        # A sister company named by its trade, both with a legal form: two legal entities.
        (
            ("Svaneholm A/S", "A/S", "svaneholm"),
            ("Svaneholm Service ApS", "ApS", "svaneholm service"),
            "different",
        ),
        (
            ("Guldsmed I/S", "I/S", "guldsmed"),
            ("Guldsmed Entreprise A/S", "A/S", "guldsmed entreprise"),
            "different",
        ),
        (
            ("Christensen Service ApS", "ApS", "christensen service"),
            ("Christensen El-service A/S", "A/S", "christensen el service"),
            "different",
        ),
        (
            ("Svaneholm ApS", "ApS", "svaneholm"),
            ("Svaneholm Service ApS", "ApS", "svaneholm service"),
            "different",
        ),
        # A name typed without its legal form may be typed short too.
        (
            ("Svaneholm", None, "svaneholm"),
            ("Svaneholm Service ApS", "ApS", "svaneholm service"),
            "token >= 0.80",
        ),
        # The words added are no trade, or say which part of the company: the same company.
        (
            ("Mikkelsen ApS", "ApS", "mikkelsen"),
            ("Mikkelsen Vestergade ApS", "ApS", "mikkelsen vestergade"),
            "token >= 0.80",
        ),
        (
            ("Hansen Byg ApS", "ApS", "hansen byg"),
            ("Hansen Byg ApS (Regnskab)", "ApS", "hansen byg aps regnskab"),
            "token >= 0.80",
        ),
        (
            ("Hansen Byg ApS", "ApS", "hansen byg"),
            ("Hansen Byg ApS Bogholderiet", "ApS", "hansen byg aps bogholderiet"),
            "token >= 0.80",
        ),
    ],
)
def test_company_name_levels_with_legal_forms(
    a: tuple[str, str | None, str], b: tuple[str, str | None, str], label: str
) -> None:
    assert _label("name", _formed(*a), _formed(*b)) == label


def _shop(name: str, street: str, number: str = "12") -> dict[str, Any]:
    return {**_company(name), "street_key": street, "house_number": number, "postal_code": "8000"}


@pytest.mark.parametrize(
    ("a", "b", "label"),
    [
        # Two shops of one chain, each named after the street it stands in: two branches. They
        # were "token >= 0.80" (+5.4 bits) and "shares most words" (+6.4).
        (
            _shop("kvickly oestergade", "oestergade"),
            _shop("kvickly soendergade", "soendergade"),
            "different",
        ),
        (
            _shop("rema 1000 hovedgaden", "hovedgaden"),
            _shop("rema 1000 noerregade", "noerregade"),
            "different",
        ),
        (
            _shop("netto vestergade", "vestergade"),
            _shop("netto oestergade", "oestergade"),
            "different",
        ),
        # The name read as a street: ``Skt.`` is the key's ``st``.
        (
            _shop("foetex skt clemens torv", "st clemens torv"),
            _shop("foetex torvet", "torvet"),
            "different",
        ),
        # One street typed two ways is one shop.
        (
            _shop("kvickly oestergade", "oestergade"),
            _shop("kvickly oestergde", "oestergde"),
            "token >= 0.92",
        ),
        # A name that is not its record's street says nothing of the branch.
        (
            _shop("kvickly oestergade", "oestergade"),
            _shop("kvickly soendergade", "havnegade"),
            "token >= 0.80",
        ),
        (
            _shop("hansen byg vest", "vestergade"),
            _shop("hansen byg", "oestergade"),
            "token >= 0.80",
        ),
    ],
)
def test_shops_named_after_their_own_streets_are_two_names(
    a: dict[str, Any], b: dict[str, Any], label: str
) -> None:
    assert _label("name", a, b) == label


# The first-name level of an initial, the first given name or a nickname.
ALIKE = "initial, first given name or nickname"
JW_ALIKE = "jaro-winkler >= 0.80 or one edit"


def _person(first: str | None, last: str | None) -> dict[str, Any]:
    return {"customer_type": "person", "first_name_key": first, "last_name_key": last}


@pytest.mark.parametrize(
    ("a", "b", "first", "last"),
    [
        (("jens", "hansen"), ("jens", "hansen"), "exact", "exact"),
        (("jens", "hansen"), ("hansen", "jens"), "exact", "exact"),  # swapped fields
        (("j", "hansen"), ("jens", "hansen"), ALIKE, "exact"),
        (("j.", "hansen"), ("jens", "hansen"), ALIKE, "exact"),
        (("jens peter", "hansen"), ("jens", "hansen"), ALIKE, "exact"),
        (("jens", "hansen"), ("jenns", "hansn"), "jaro-winkler >= 0.92", "jaro-winkler >= 0.92"),
        (("jens", "hansen"), ("anne", "hansen"), "different", "exact"),
        # A surname made of the other's first name is no swap: Hans Jensen is someone else.
        (("jens", "hansen"), ("hans", "jensen"), "different", "different"),
        (("ole", "nielsen"), ("niels", "olsen"), "different", "different"),
        (("peter", "andersson"), ("anders", "petersson"), "different", "different"),
        (("jensen", "jens"), ("jens", "jensen"), "exact", "exact"),  # swapped fields
        # a nickname, or two of one name (data/reference/given_name_nicknames.csv)
        (("bill", "smith"), ("william", "smith"), ALIKE, "exact"),
        (("bill", "smith"), ("will", "smith"), ALIKE, "exact"),
        (("harry", "hoare"), ("henry", "hoare"), ALIKE, "exact"),
        (("bill", "smith"), ("george", "smith"), "different", "exact"),
        # two nicknames of Ernestine, but Tina is eight more names' too: two people
        (("tina", "eriksen"), ("erna", "eriksen"), "different", "exact"),
        (("ann", "holm"), ("tina", "holm"), "different", "exact"),
        (("tina", "holm"), ("christina", "holm"), ALIKE, "exact"),
        # Danish short forms (data/reference/given_name_nicknames_da.csv), folded as keys are
        (("lis", "larsen"), ("elisabeth", "larsen"), ALIKE, "exact"),
        (("gitte", "holm"), ("birgitte", "holm"), ALIKE, "exact"),
        (("grethe", "holm"), ("margrethe", "holm"), ALIKE, "exact"),
        (("chr", "hansen"), ("christian", "hansen"), ALIKE, "exact"),
        (("johs", "hansen"), ("johannes", "hansen"), ALIKE, "exact"),
        (("mette", "holm"), ("margrethe", "holm"), "different", "exact"),
        (("hans", "holm"), ("johannes", "holm"), "different", "exact"),
        (("jens", None), ("jens", "hansen"), "exact", "missing"),
        # The same words split another way, or all in one field: the same name.
        (("jens peter", "hansen"), ("jens", "peter hansen"), "exact", "exact"),
        (("peter", "jens hansen"), ("hansen", "jens peter"), "exact", "exact"),
        ((None, "jens hansen"), ("jens", "hansen"), "missing", "exact"),
        (("jens peter", "hansen"), ("jens", "hansen"), ALIKE, "exact"),
        # A couple (``Henrik og Lone``, ``Henrik & Lone``, ``John and Mary``) and one of the two:
        # alike, never a household's two names; and no more than alike.
        (("henrik og lone", "larsen"), ("lone", "larsen"), JW_ALIKE, "exact"),
        (("henrik og lone", "larsen"), ("henrik", "larsen"), JW_ALIKE, "exact"),
        (("lone", "larsen"), ("henrik og lone", "larsen"), JW_ALIKE, "exact"),
        (("john and mary", "smith"), ("mary", "smith"), JW_ALIKE, "exact"),
        (("henrik og lone", "larsen"), ("lone og henrik", "larsen"), "exact", "exact"),
        (("henrik og lone", "larsen"), ("lone og peter", "larsen"), JW_ALIKE, "exact"),
        (("henrik og lone", "larsen"), ("henrik og lone", "larsen"), "exact", "exact"),
        (("henrik og lone", "larsen"), ("mette", "larsen"), "different", "exact"),
        (("henrik og lone", "larsen"), ("jens og mette", "larsen"), "different", "exact"),
        # Two given names of their own are two people, however alike as letters
        # (data/reference/given_names_gender_da.csv): a man's and a woman's name ...
        (("christian", "bach"), ("christina", "bach"), "different", "exact"),
        (("hans", "lund"), ("hanne", "lund"), "different", "exact"),
        (("martin", "holm"), ("maria", "holm"), "different", "exact"),
        (("jan", "skov"), ("janne", "skov"), "different", "exact"),
        (("carl", "holm"), ("carla", "holm"), "different", "exact"),
        (("daniel", "holm"), ("daniela", "holm"), "different", "exact"),
        (("jens peter", "holm"), ("jane", "holm"), "different", "exact"),
        # ... or two common names of one gender
        (("karen", "holm"), ("karin", "holm"), "different", "exact"),
        # A typo is no name; one name spelt two ways, a rare name beside a common one of its
        # gender, and a woman's name and its start stay alike.
        (("christian", "bach"), ("christain", "bach"), "jaro-winkler >= 0.92", "exact"),
        (("hans", "lund"), ("hnas", "lund"), "jaro-winkler >= 0.92", "exact"),
        (("martin", "holm"), ("martni", "holm"), "jaro-winkler >= 0.92", "exact"),
        (("christian", "bach"), ("kristian", "bach"), JW_ALIKE, "exact"),
        (("carl", "holm"), ("karl", "holm"), JW_ALIKE, "exact"),
        (("michael", "holm"), ("mikael", "holm"), JW_ALIKE, "exact"),
        (("mette", "holm"), ("mete", "holm"), "jaro-winkler >= 0.92", "exact"),
        (("maria", "holm"), ("maia", "holm"), "jaro-winkler >= 0.92", "exact"),
        (("lis", "holm"), ("lise", "holm"), "jaro-winkler >= 0.92", "exact"),
    ],
)
def test_person_name_levels(a: tuple[str, str], b: tuple[str, str], first: str, last: str) -> None:
    assert _label("first_name", _person(*a), _person(*b)) == first
    assert _label("last_name", _person(*a), _person(*b)) == last


@pytest.mark.parametrize(
    ("a", "b", "first", "elsewhere"),
    [
        ("Jens Hansen", "Jens Hansen jun.", "different", "exact"),  # father and son
        ("Jens Hansen sen.", "Jens Hansen jun.", "different", "different"),
        ("John Smith, Jr.", "John Smith Jr", "exact", "exact"),
        ("Jens Hansen jun.", "Jens Hansen junior", "exact", "exact"),
        ("Peter Holm d.y.", "Peter Holm sen.", "different", "different"),
        ("Amartya Sen", "Amartya Sen", "exact", "exact"),  # a surname, not a generation
    ],
)
def test_two_generations_are_two_given_names(a: str, b: str, first: str, elsewhere: str) -> None:
    """Two different generations after one name (``jun.``, ``sen.``, ``Jr.``, ``d.y.``) make two
    people of it; at one address, so does a generation on one record only (a household)."""
    here = _address("vestergade", "12", "8000")
    left, right = (
        _person("jens", "hansen") | here | {"raw_name": name} for name in (a, b)
    )  # the keys as the names stage makes them; only the generation differs
    assert _label("first_name", left, right) == first
    moved = right | _address("parkvej", "3", "5000")
    assert _label("first_name", left, moved) == elsewhere


def test_person_names_are_not_compared_with_a_company() -> None:
    company = _company("jens hansen") | {"first_name_key": "jens", "last_name_key": "hansen"}
    assert _label("first_name", _person("jens", "hansen"), company) == "missing"


def _contact(first: str | None, last: str | None) -> dict[str, Any]:
    """Bygma A/S's record with its contact person, as a contact export's columns give it."""
    return _company("bygma") | {
        "raw_name": "Bygma A/S",
        "raw_first_name": first,
        "raw_last_name": last,
    }


@pytest.mark.parametrize(
    ("a", "b", "label"),
    [
        (("Jens", "Hansen"), ("Jens", "Hansen"), "exact"),
        (("Jens", "Hansen"), ("jens", "hansen "), "exact"),
        (("Hansen", "Jens"), ("Jens", "Hansen"), "exact"),  # typed round in the columns
        (("Jens", "Hansen"), ("Jnes", "Hansen"), "jaro-winkler >= 0.92"),
        (("J.", "Hansen"), ("Jens", "Hansen"), "jaro-winkler >= 0.80"),  # an initial
        ((None, "Hansen"), ("Jens", "Hansen"), "exact"),  # a part one side lacks: no evidence
        (("Jens", None), ("Jens", "Hansen"), "exact"),
        # Another person: the family firm's other Hansen, a namesake's other surname
        (("Jens", "Hansen"), ("Mette", "Hansen"), "different"),
        (("Jens", "Hansen"), ("Jens", "Nielsen"), "different"),
        (("Jens", "Hansen"), ("Mette", "Larsen"), "different"),
        ((None, None), ("Jens", "Hansen"), "missing"),
    ],
)
def test_contact_person_levels(
    a: tuple[str | None, str | None], b: tuple[str | None, str | None], label: str
) -> None:
    assert _label("contact", _contact(*a), _contact(*b)) == label


def test_an_organisation_named_by_its_first_and_last_name_alone_has_no_contact_person() -> None:
    """FEBRL's ``Caitlin Bishop`` reads as a business (a bishop), but the name is hers: no name
    column beside her first and last name, so no contact person to veto her duplicate."""
    bishop = _company("caitlin bishop") | {"raw_first_name": "Caitlin", "raw_last_name": "Bishop"}
    other = _company("hollie bishop") | {"raw_first_name": "Hollie", "raw_last_name": "Bishop"}
    assert _label("contact", bishop, other) == "missing"


def test_a_full_name_column_beside_first_and_last_name_is_no_contact_person() -> None:
    """historical_50k's full name, read as a business for its ``of``: the name holds both parts."""
    baron = {"customer_type": "company", "name_key": "thomas clifford 1st baron clifford"}
    a = baron | {
        "raw_name": "Thomas Clifford, 1st Baron Clifford of Chudleigh",
        "raw_first_name": "Thomas",
        "raw_last_name": "Chudleigh",
    }
    b = baron | {"raw_name": "Tom Clifford of Chudleigh", "raw_first_name": "Tom",
                 "raw_last_name": "Chudleigh"}  # fmt: skip
    assert _label("contact", a, b) == "missing"
    # The family firm named after its contacts' surname still has contact persons.
    family = _company("hansen vvs") | {"raw_name": "Hansen VVS ApS", "raw_last_name": "Hansen"}
    jens, mette = (family | {"raw_first_name": first} for first in ("Jens", "Mette"))
    assert _label("contact", jens, mette) == "different"


def test_a_person_is_compared_with_an_organisations_contact_by_name() -> None:
    """A person has no contact person: between two persons the comparison is not made (their
    names are compared as theirs). Facing a company's record with a contact, the person's own
    name is compared with the contact's: Gunhild Knuden's row is not Bygma's Åse Nielsen."""
    person = _person("jens", "hansen") | {"raw_first_name": "Jens", "raw_last_name": "Hansen"}
    other = _person("mette", "hansen") | {"raw_first_name": "Mette", "raw_last_name": "Hansen"}
    assert _label("contact", person, other) == "missing"
    assert _label("contact", person, _contact("Jens", "Hansen")) == "exact"
    assert _label("contact", _contact("Jens", "Hansen"), other) == "different"


def _address(
    street: str | None, number: str | None, postal: str | None, **unit: str
) -> dict[str, Any]:
    return {"street_key": street, "house_number": number, "postal_code": postal, **unit}


@pytest.mark.parametrize(
    ("a", "b", "label"),
    [
        (_address("vestergade", "12", "8000"), _address("vestergade", "12", "8000"), "exact"),
        (
            _address("vestergade", "12", "8000", floor="2", door="tv"),
            _address("vestergade", "12", "8000", floor="2", door="tv"),
            "exact",
        ),
        (
            _address("vestergade", "12", "8000", floor="2", door="tv"),
            _address("vestergade", "12", "8000"),
            "same building",
        ),
        (
            _address("vestergade", "12", "8000", floor="2", door="tv"),
            _address("vestergade", "12", "8000", floor="3", door="th"),
            "same building, other unit",
        ),
        (_address("vestergade", "12", "8000"), _address("vestergade", "14", "8000"), "same street"),
        (
            _address("vestergade", "12", "8000"),
            _address("vestergde", "12", "8000"),
            "same street and number",
        ),
        (
            _address("vestergade", "12", "8000"),
            _address("parkvej", "3", "8000"),
            "same postal code",
        ),
        # Street names that differ in a qualifier (a direction, ny/gammel, store/lille, the bro
        # of Vesterbrogade) are two streets, however alike their letters ...
        (_address("vestergade", "26", "5000"), _address("oestergade", "26", "5000"),
         "same postal code"),
        (_address("vestervej", "39", "5000"), _address("oestervej", "39", "5000"),
         "same postal code"),
        (_address("vestergade", "25", "5000"), _address("vesterbrogade", "25", "5000"),
         "same postal code"),
        (_address("noerregade", "42", "5000"), _address("noerrebrogade", "42", "5000"),
         "same postal code"),
        (_address("vesterbro", "55", "5000"), _address("oesterbro", "55", "5000"),
         "same postal code"),
        (_address("st kongensgade", "60", "1264"), _address("kongensgade", "60", "1264"),
         "same postal code"),
        (_address("vestvej", "3", "5000"), _address("oestvej", "3", "5000"), "same postal code"),
        # ... but a typo in the qualifier, or one that hides it, is still the same street.
        (_address("oestergade", "26", "5000"), _address("oestregade", "26", "5000"),
         "same street and number"),
        (_address("vestergade", "12", "8000"), _address("vetsergade", "12", "8000"),
         "same street and number"),
        (_address("vesterbrogade", "12", "8000"), _address("vesterbrgade", "12", "8000"),
         "same street and number"),
        (_address("noerregade", "8", "8000"), _address("noeregade", "8", "8000"),
         "same street and number"),
        (_address("vester brogade", "12", "8000"), _address("vesterbrogade", "14", "8000"),
         "same street"),
        # A short form ending the name qualifies nothing: ``Dronning Olgas V.`` is a Vej.
        (_address("dr olgas v", "76B", "2000"), _address("dr olgas vej", "76B", "2000"),
         "same street and number"),
        (_address("vestergade", "12", "8000"), _address("vestergade", "12", "5000"), "different"),
        # A mistyped postal code in the same region does not move the building.
        (_address("vestergade", "12", "3095"), _address("vestergade", "12", "3059"), "exact"),
        (_address("vestergade", "12", "8000"), _address("vestergade", "12", "8001"), "exact"),
        # ... unless each code's own town was typed beside it: two towns, not a typo.
        (_address("nygade", "1", "4700", country="DK", raw_city="Næstved"),
         _address("nygade", "1", "4760", country="DK", raw_city="Vordingborg"), "different"),
        (_address("nygade", "1", "4700", country="DK", raw_city="Næstved"),
         _address("nygade", "1", "4760", country="DK", raw_city="Naestved"), "exact"),
        (_address("nygade", "1", "4700", country="DK", raw_city="Næstved"),
         _address("nygade", "1", "4760", country="DK"), "exact"),
        (_address("nørregade", "4", "1165", country="DK", raw_city="København K"),
         _address("nørregade", "4", "1156", country="DK", raw_city="Kbh. K"), "exact"),
        (_address(None, None, "8000"), _address("vestergade", "12", "8000"), "missing"),
        # Spaces typed into a street, a house number's letter in another case: one building.
        (_address("vester gade", "12A", "8000"), _address("vestergade", "12a", "8000"), "exact"),
        (_address("vester gade", "12B", "8000"), _address("vestergade", "12a", "8000"),
         "same street"),
        # A postal code on one side only, or none of four digits: the lines as written are
        # compared ("532 W 95th St" and "532 W 95TH ST" with its ZIP code are one line).
        (_address("w 95th st", "532", None), _address("w 95th st", "532", "60628"), "exact"),
        (_address("w 95th st", "532", None), _address("w 95th st", "540", "60628"), "same street"),
        (_address("w 95th st", "532", None), _address("s state st", "532", "60628"), "different"),
        # Lines alike in two countries are two addresses.
        (_address("flensborggade", "3", "6400", raw_address="Flensborggade 3"),
         _address("flensburger strasse", "3", None, raw_address="Flensburger Straße 3"),
         "same street and number"),
        # So are lines alike beside two postal codes more than a typo apart and two towns; two
        # ZIP codes of one town alone are not.
        (_address("skolvaegen", "4", "77097", raw_address="Skolvägen 4", country="SE",
                  city="Varberg"),
         _address("skolgatan", "9", "59584", raw_address="Skolgatan 9", country="SE",
                  city="Stockholm"),
         "different"),
        (_address("w 95th st", "532", "60621", raw_address="532 W 95th St", city="Chicago"),
         _address("w 95th st", "532", "60628", raw_address="532 W 95th St", city="CHICAGO"),
         "exact"),
        (_address("skolgatan", "9", "59548", raw_address="Skolgatan 9", country="SE"),
         _address("skolgatan", "9", "59584", raw_address="Skolgatan 9", country="SE"),
         "exact"),
        (_address("flensborggade", "3", "6400", raw_address="Flensborggade 3", country="DK"),
         _address("flensburger strasse", "3", "24937", raw_address="Flensburger Straße 3",
                  country="DE"),
         "different"),
    ],
)  # fmt: skip
def test_address_levels(a: dict[str, Any], b: dict[str, Any], label: str) -> None:
    assert _label("address", a, b) == label


@pytest.mark.parametrize(
    ("a", "b", "label"),
    [
        ("jens@hansen-byg.dk", "JENS@hansen-byg.dk", "shared address"),
        ("jens.hansen@gmail.com", "jens.hansen@hotmail.com", "missing"),  # the name's evidence
        ("info@hansen-byg.dk", "info@birkedal.dk", "different"),  # a role mailbox
        ("jens@hansen-byg.dk", "bogholderi@hansen-byg.dk", "missing"),  # the name's evidence
        ("jens@gmail.com", "anne@gmail.com", "different personal addresses"),  # no company
        ("jens43@gmail.com", "jensh@hotmail.com", "different personal addresses"),
        ("jens@hansen-byg.dk", "jens43@gmail.com", "different"),
        ("jens@gmail.com", None, "missing"),
    ],
)
def test_email_levels(a: str, b: str | None, label: str) -> None:
    assert _label("email", {"email": a}, {"email": b}) == label


@pytest.mark.parametrize(
    ("a", "b", "label"),
    [
        ("12", "12", "exact"),
        ("12A", "12a", "exact"),
        ("12", "12B", "same number"),
        ("12", "14", "different"),
    ],
)
def test_house_number_levels(a: str, b: str, label: str) -> None:
    assert _label("house_number", {"house_number": a}, {"house_number": b}) == label


@pytest.mark.parametrize(
    ("a", "b", "label"),
    [
        ("19560409", "19560409", "exact"),
        ("19560409", "19560490", "one edit"),  # transposition
        ("19560409", "19560408", "one edit"),
        ("19560409", "19650904", "different"),  # day and month swapped, another year
        ("1956-04-09", "1956-04-09", "exact"),  # as the dates stage writes them
        ("1956-04-09", "1956-04-27", "two of year, month, day"),
        ("1956-04-09", "1948-04-09", "two of year, month, day"),
        ("1956-04-09", "1956-11-09", "two of year, month, day"),
        ("1956-04-09", "1956-09-04", "two of year, month, day"),  # day and month swapped
        ("1956-04-09", "1957-05-09", "different"),  # only the day
        ("1956-04-09", "1957-05-10", "different"),
    ],
)
def test_date_of_birth_levels(a: str, b: str, label: str) -> None:
    assert _label("date_of_birth", {"date_of_birth": a}, {"date_of_birth": b}) == label


def test_phone_and_cvr_are_exact() -> None:
    assert _label("phone", {"phone_e164": "+4586121212"}, {"phone_e164": "+4586121212"}) == (
        "shared number"
    )
    assert _label("phone", {"phone_e164": "+4586121212"}, {"phone_e164": "+4586121213"}) == (
        "different"
    )
    assert _label("cvr", {"cvr": "25313763"}, {"cvr": "25313763"}) == "exact"
    assert _label("cvr", {"cvr": "25313763"}, {"cvr": "10150817"}) == "different"
    assert _label("cvr", {"cvr": "25313763"}, {}) == "missing"


def test_a_placeholder_phone_is_missing_not_different() -> None:
    # 00000000 typed where the number was unknown says nothing against a real number: a moved
    # customer with it on one record must not be kept apart by it. Typed numbers that are no
    # valid number are still compared as typed.
    typed = ["00000000", "9999 9999", "3865286", "386 52 86", None]
    rows = frame([{"phone_e164": "+4528998567" if t is None else None} for t in typed])
    records = prepare_records(rows.with_columns(raw_phone=pl.Series(typed), raw_mobile=None))
    assert records["_phones"].to_list() == [[], [], ["#3865286"], ["#3865286"], ["+4528998567"]]
    levels = compare_pairs(
        records,
        pl.Series([0, 1, 2], dtype=pl.UInt32),
        pl.Series([4, 4, 3], dtype=pl.UInt32),
        (COMPARISONS["phone"],),
    )
    labels = [
        "missing" if lv < 0 else COMPARISONS["phone"].levels[lv] for lv in levels["lvl_phone"]
    ]
    assert labels == ["missing", "missing", "shared number"]


def test_a_number_that_could_not_be_read_is_compared_by_its_digits_not_called_different() -> None:
    # 213/938-1447 left unread on one record, +12139381447 read on the other: one number. Digits
    # that end no read number say nothing either way; two read numbers, or two typed ones, that
    # differ are still different.
    typed = ["213/938-1447", "938-1447", "555-0199 99", None, None, "555-0199 99"]
    read = [None, None, None, "+12139381447", "+12135550100", None]
    rows = frame([{"phone_e164": r} for r in read])
    records = prepare_records(rows.with_columns(raw_phone=pl.Series(typed), raw_mobile=None))
    assert records["_phones"].to_list()[:3] == [["#2139381447"], ["#9381447"], ["#555019999"]]
    levels = compare_pairs(
        records,
        pl.Series([0, 1, 2, 3, 0, 0], dtype=pl.UInt32),
        pl.Series([3, 3, 3, 4, 1, 5], dtype=pl.UInt32),
        (COMPARISONS["phone"],),
    )
    labels = [
        "missing" if lv < 0 else COMPARISONS["phone"].levels[lv] for lv in levels["lvl_phone"]
    ]
    assert labels == [
        "shared number",
        "shared number",
        "missing",
        "different",
        "different",
        "different",
    ]
    assert levels["tfv_phone"].to_list()[:2] == ["+12139381447", "+12139381447"]


JUNK = ["", " ", "１２３４", "🙂🙂", "x" * 10_000, "-", "a@b@c"]


@pytest.mark.parametrize("junk", JUNK)
def test_junk_values_never_raise(junk: str) -> None:
    row = {
        "customer_type": "person",
        "name_key": junk,
        "first_name_key": junk,
        "last_name_key": junk,
        "street_key": junk,
        "house_number": junk,
        "postal_code": junk,
        "email": junk,
        "phone_e164": junk,
        "cvr": junk,
        "date_of_birth": junk,
    }
    for name in COMPARISONS:
        label = _label(name, row, _person("jens", "hansen") | _address("vestergade", "1", "8000"))
        assert label in (*COMPARISONS[name].levels, "missing")


@pytest.mark.parametrize(
    ("a", "b", "label"),
    [
        # Two digits swapped: a slip of the fingers, even across the region digit.
        (_address("lance hill avenue", "26", "3070"), _address("lance hill avenue", "26", "0370"),
         "exact"),
        (_address("vestergade", "12", "2316"), _address("vestergade", "12", "3216"), "exact"),
        # Another first digit that is no swap is another region: Aarhus is not Odense.
        (_address("vestergade", "12", "8000"), _address("vestergade", "12", "9000"), "different"),
        # A swap is only forgiven where street and number agree.
        (_address("vestergade", "12", "3070"), _address("parkvej", "3", "0370"), "different"),
    ],
)  # fmt: skip
def test_a_postal_code_with_two_digits_swapped(
    a: dict[str, Any], b: dict[str, Any], label: str
) -> None:
    assert _label("address", a, b) == label


def test_swapped_names_keep_their_level_without_a_rarity_bonus() -> None:
    # "white" is a rare first name and "holly" a rare surname, but not rare as names: the swapped
    # pair agrees exactly, and no term frequency from the wrong column inflates its weight.
    records = prepare_records(
        frame([_person("white", "holly"), _person("holly", "white"), _person("holly", "white")])
    )
    levels = compare_pairs(
        records,
        pl.Series([0, 1], dtype=pl.UInt32),
        pl.Series([1, 2], dtype=pl.UInt32),
        (COMPARISONS["first_name"], COMPARISONS["last_name"]),
    )
    assert levels["lvl_first_name"].to_list() == [COMPARISONS["first_name"].top] * 2
    assert levels["lvl_last_name"].to_list() == [3, 3]
    assert levels["tfv_first_name"].to_list() == [None, "holly"]
    assert levels["tfv_last_name"].to_list() == [None, "white"]


def _person_named(first: str, last: str) -> dict[str, Any]:
    """A business name with person-like words that the classifier took for a person."""
    return _person(first, last) | {"name_key": f"{first} {last}"}


def test_business_names_with_person_like_words() -> None:
    # Against the company record of the same firm the whole names are compared.
    iversen = _person_named("iversen", "smede")
    assert _label("name", iversen, _company("iversen smede aps")) == "exact"
    optik = _person_named("caroline", "winthers optik")
    assert _label("name", optik, _company("winthers optik")) == "token >= 0.80"
    # Two such records split their words differently: still the same name, no veto material.
    a, b = _person_named("nielsen", "& lauridsen"), _person_named("lauridsen", "& nielsen")
    assert (_label("first_name", a, b), _label("last_name", a, b)) == ("exact", "exact")
    a, b = _person_named("arnie", "morton's of chicago"), _person_named("arnie", "morton's")
    assert _label("first_name", a, b) == "exact"
    assert _label("last_name", a, b) != "different"


def _levels_of(comparison: Any, pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[str]:
    rows = [row for pair in pairs for row in pair]
    extra = {k for row in rows for k in row if k not in frame([]).columns}
    df = frame([{k: v for k, v in row.items() if k not in extra} for row in rows])
    df = df.with_columns(pl.Series(k, [row.get(k) for row in rows]) for k in sorted(extra))
    records = prepare_records(df)
    left = pl.Series(range(0, len(rows), 2), dtype=pl.UInt32)
    right = pl.Series(range(1, len(rows), 2), dtype=pl.UInt32)
    levels = compare_pairs(records, left, right, (comparison,))[f"lvl_{comparison.name}"]
    return ["missing" if lv < 0 else comparison.levels[lv] for lv in levels]


def test_address_lines_that_did_not_parse_are_compared_as_written() -> None:
    def line(text: str | None) -> dict[str, Any]:
        return {"customer_type": "company", "name_key": "site", "raw_address": text}

    pairs = [
        (line("1718 S Loomis Blvd"), line("1718 S Loomis Blvd")),
        (line("1718 S Loomis Blvd"), line("1718 S. Loomis")),
        (line("1718 S Loomis"), line("1722 S Loomis")),
        (line("1900 W Polk"), line("2610 W 25th Pl")),
        (line("4910 S King Drive"), line(None)),
        # one side parsed, the other not: the parsed side's number and street stand in
        (_address("vestergade", "12", "8000"), line("Vestergade 12")),
    ]
    assert _levels_of(COMPARISONS["address"], pairs) == [
        "exact",
        "same street and number",
        "same street",
        "different",
        "missing",
        "same street and number",
    ]


@pytest.mark.parametrize(
    ("a", "b", "label"),
    [
        ("west devon", "west devon", "exact"),
        ("blickling hall", "blickling", "jaro-winkler >= 0.92"),
        ("coggeshall", "cogeshall", "jaro-winkler >= 0.92"),
        ("devon", "london", "different"),
        ("devon", None, "missing"),
    ],
)
def test_evidence_field_levels(a: str | None, b: str | None, label: str) -> None:
    birth_place = evidence_comparison("birth_place")
    assert birth_place.columns == ("evidence_birth_place",) and birth_place.tf_levels == (3,)
    pair = ({"evidence_birth_place": a}, {"evidence_birth_place": b})
    assert _levels_of(birth_place, [pair]) == [label]


def test_evidence_frame_folds_text_and_keeps_empty_as_null() -> None:
    raw = pl.DataFrame({"src_Birth place": ["  West  Devon ", "", None, "LONDON"]})
    out = evidence_frame(raw, {"birth_place": "src_Birth place"})
    assert out.columns == ["evidence_birth_place"]
    assert out["evidence_birth_place"].to_list() == ["west devon", None, None, "london"]


def _listed_records(
    phones: list[list[str]], emails: list[list[str]], typed: list[str | None] | None = None
) -> pl.DataFrame:
    """Company records with these phone numbers and e-mail addresses (several to a record), and
    phones typed that could not be read."""
    rows = frame(
        [{"customer_type": "company", "name_key": f"firma {i}"} for i in range(len(phones))]
    )
    listed = pl.List(pl.String())
    return prepare_records(
        rows.with_columns(
            phone_numbers=pl.Series(phones, dtype=listed),
            emails=pl.Series(emails, dtype=listed),
            raw_phone=pl.Series(typed or [None] * len(phones), dtype=pl.String),
            raw_mobile=None,
        )
    )


def test_phones_and_emails_are_compared_by_every_value_of_a_record() -> None:
    # Most records have one phone and one e-mail, and those pairs are compared by their first
    # values alone; a record with none or several must still be compared by all of them.
    phones = [
        [],
        ["+4586111111"],
        ["+4586111111", "+4586222222"],
        ["+4586222222", "+4586333333"],
        ["+4586333333"],
        ["+4586444444", "+4586111111"],
    ]
    emails = [
        [],
        ["jens@hansen-byg.dk"],
        ["info@hansen-byg.dk", "jens@hansen-byg.dk"],
        ["anne@firma.dk", "jens.hansen@gmail.com"],
        ["jens.hansen@hotmail.com"],
        ["lars@birkedal.dk", "anne@firma.dk"],
    ]
    records = _listed_records(phones, emails)
    pairs = [(i, j) for i in range(len(phones)) for j in range(i + 1, len(phones))]
    levels = compare_pairs(
        records,
        pl.Series([i for i, _ in pairs], dtype=pl.UInt32),
        pl.Series([j for _, j in pairs], dtype=pl.UInt32),
        (COMPARISONS["phone"], COMPARISONS["email"]),
    )
    for field, values in (("phone", phones), ("email", emails)):
        shared = [next((v for v in values[i] if v in values[j]), None) for i, j in pairs]
        assert levels[f"tfv_{field}"].to_list() == shared, field
        top = COMPARISONS[field].top
        assert [lv == top for lv in levels[f"lvl_{field}"]] == [s is not None for s in shared]
        # Missing where either record has none, and for the two e-mail lists whose second
        # addresses share a personal local part (the name's evidence, see COMPARISONS).
        missing = [
            not values[i] or not values[j] or (field, i, j) == ("email", 3, 4) for i, j in pairs
        ]
        assert [lv == -1 for lv in levels[f"lvl_{field}"]] == missing, field


def test_a_fax_number_typed_alone_is_no_phone_to_compare() -> None:
    """A fax is no phone number of the customer (the phones stage leaves it out); its digits as
    typed are not compared either, unless the cell says it is a phone's too."""
    typed = ["Fax: 3865286", "386 52 86 (fax)", "tlf/fax 3865286", "Faxe 3865286"]
    rows = frame([{"phone_e164": None} for _ in typed])
    records = prepare_records(rows.with_columns(raw_phone=pl.Series(typed), raw_mobile=None))
    assert records["_phones"].to_list() == [[], [], ["#3865286"], ["#3865286"]]


def test_a_typed_phone_is_found_among_several_read_numbers() -> None:
    # 99 99 99 8 could not be read; the other record's second number ends with its digits.
    phones = [[], ["+4586111111", "+4599999998"], ["+4586222222"]]
    records = _listed_records(phones, [[], [], []], ["99 99 99 8", None, None])
    assert records["_phones"][0].to_list() == ["#9999998"]
    levels = compare_pairs(
        records,
        pl.Series([0, 0], dtype=pl.UInt32),
        pl.Series([1, 2], dtype=pl.UInt32),
        (COMPARISONS["phone"],),
    )
    assert levels["lvl_phone"].to_list() == [1, -1]
    assert levels["tfv_phone"].to_list() == ["+4599999998", None]


def test_a_pairwise_function_is_called_once_per_distinct_pair_and_put_back_in_place() -> None:
    from datavask.cleansing.matching.compare import _per_distinct_pair

    seen: list[int] = []

    def joined(a: pl.Series, b: pl.Series) -> pl.Series:
        seen.append(a.len())
        return pl.select(pl.concat_str(pl.lit(a), pl.lit(b), separator="/")).to_series()

    a = pl.Series(["x", "y", "x", None, "x", None, "y"])
    b = pl.Series(["p", "p", "p", "p", "q", "p", "p"])
    out = _per_distinct_pair(a, b, joined)
    assert out.to_list() == ["x/p", "y/p", "x/p", None, "x/q", None, "y/p"]
    assert seen == [4]  # (x, p), (y, p), (None, p), (x, q)
    empty = pl.Series([], dtype=pl.String)
    assert _per_distinct_pair(empty, empty, joined).to_list() == []


def test_names_apart_are_the_same_whether_repeated_or_not() -> None:
    from datavask.cleansing.matching.compare import _distinct_words_apart, _words_apart

    # Names of other lengths each way round (each pair's words are a matrix, read both ways),
    # a double space, an empty name and a missing one.
    names = [
        ("svendsen trading", "svendsen holding", True),
        ("svendsen trading aps vest", "svendsen holding", True),
        ("svendsen holding", "svendsen trading aps vest", True),
        ("hansen byg", "hansen byg og anlæg", False),
        ("hansen byg og anlæg", "hansen  byg", False),
        ("midt el", "midt al", False),
        ("nordic cleaning", "nordik claening", False),
        ("", "hansen byg", False),
        (None, "hansen byg", False),
    ]
    a = pl.Series([x for x, _, _ in names] * 3, dtype=pl.String)
    b = pl.Series([y for _, y, _ in names] * 3, dtype=pl.String)
    assert _words_apart(a, b).to_list() == [apart for _, _, apart in names] * 3
    assert _words_apart(a, b).equals(_distinct_words_apart(a, b))
    assert _distinct_words_apart(a.head(0), b.head(0)).to_list() == []


def test_placeholder_numbers_and_addresses_are_no_evidence() -> None:
    """``99999999`` is a valid Danish number and ``ingen@ingen.dk`` a valid address: typed on
    every record whose phone or e-mail nobody knew, they merged Poul Kjær and Poul Kjeldsen at
    p 1.0. A placeholder is no value to compare; a real one beside it still is."""
    records = _listed_records(
        phones=[["+4599999999"], ["+4599999999", "+4520304050"], [], ["+4520304050"]],
        emails=[["ingen@ingen.dk"], ["ingen@mail.dk", "jens@firma.dk"], ["none@none.com"],
                ["x@x.dk"]],
        typed=[None, None, "12345678", None],
    )  # fmt: skip
    assert records["_phones"].to_list() == [[], ["+4520304050"], [], ["+4520304050"]]
    assert records["_emails"].to_list() == [[], ["jens@firma.dk"], [], []]
