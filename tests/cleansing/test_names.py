"""Names: display name, legal form, name key, first/last names and MISSING_NAME."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from datavask.cleansing.names import fold, legal_form_of, name_key, normalise_names

CORPORA = Path(__file__).parent / "corpora"


def _corpus(name: str) -> list[str]:
    lines = (CORPORA / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def _apply(expr_fn: Callable[[pl.Expr], pl.Expr], values: list[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return frame.select(expr_fn(pl.col("v")).alias("v"))["v"].to_list()


def _names(**columns: list[str | None]) -> pl.DataFrame:
    return normalise_names(pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String)))


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Hansen Byg ApS", "hansen byg"),
        ("HANSEN BYG APS.", "hansen byg"),
        ("Hansen Byg Anpartsselskab", "hansen byg"),
        ("Hansen Byg, A.p.S.", "hansen byg"),
        ("  Hansen   Byg\tApS ", "hansen byg"),
        ("Andersen & Søn A/S", "andersen og soen"),
        ("Andersen og Søn A/S", "andersen og soen"),
        ("A/S Storebælt", "storebaelt"),
        ("Danish Crown A.m.b.a.", "danish crown"),
        ("Hansen Byg ApS under konkurs", "hansen byg"),
        ("Hansen Tømrer v/Jens Hansen", "hansen toemrer jens hansen"),
        ("Ålsgårde Køkkener", "aalsgaarde koekkener"),
        ("Aalsgaarde Koekkener", "aalsgaarde koekkener"),
        ("Müller Café GmbH", "mueller cafe"),
        ("McDonald's", "mcdonalds"),
        ("A.P. Møller - Mærsk A/S", "ap moeller maersk"),
        ("Brdr. Hansen A/S", "broedrene hansen"),  # Brødrene, as firm names abbreviate it
        ("Brødrene Hansen A/S", "broedrene hansen"),
        ("Brdrup Hansen", "brdrup hansen"),
        ("Ｈａｎｓｅｎ １２", "hansen 12"),
        ("Thomas", "thomas"),
        ("ApS", "aps"),
        ("  ... ", None),
        ("", None),
        (None, None),
    ],
)
def test_name_key(raw: str | None, key: str | None) -> None:
    assert _apply(name_key, [raw]) == [key]


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("Heritage Mfg Corp", "Heritage Manufacturing Corp."),
        ("Zenith Intl Ltd.", "Zenith International Ltd."),
        ("CRESCENT SVCS CORP.", "Crescent Services Corp."),
        ("Acme Mgmt Inc", "Acme Management Inc."),
        ("Smith Bros Natl Grp", "Smith Brothers National Group"),
        ("Hansen Int. ApS", "Hansen International ApS"),
        ("Brdr. Dahl A/S", "Brødrene Dahl A/S"),
    ],
)
def test_an_abbreviated_word_of_a_company_name_has_the_words_key(short: str, long: str) -> None:
    """``Heritage Mfg Corp`` / ``Heritage Manufacturing Corp.``, ``Zenith Intl Ltd.`` / ``Zenith
    International Ltd.`` at one address, phone and e-mail scored 0.99 and were then vetoed as
    sister companies: their names compared as different."""
    assert _apply(name_key, [short]) == _apply(name_key, [long])
    out = _names(raw_name=[short, long])
    assert out["name_key"][0] == out["name_key"][1]


def test_a_word_like_an_abbreviation_is_left_alone() -> None:
    assert _apply(name_key, ["Intlsen Mfgård", "Jens Hansen", "Distr Tech"]) == [
        "intlsen mfgaard", "jens hansen", "distr tech"
    ]  # fmt: skip


def test_name_key_is_the_same_for_every_spelling_of_one_company() -> None:
    spellings = [
        "Hansen Byg ApS",
        "HANSEN BYG APS.",
        "hansen byg aps",
        "Hansen Byg Anpartsselskab",
        "Hansen  Byg,  ApS",
        "Hansen Byg A.p.S.",
    ]
    assert set(_apply(name_key, spellings)) == {"hansen byg"}


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Ålsgårde", "aalsgaarde"),
        ("Aabenraa", "aabenraa"),
        ("Søren Æbelø", "soeren aebeloe"),
        ("Müller Köhler Bär", "mueller koehler baer"),
        ("Café Señor Crème", "cafe senor creme"),
        ("A\u030alsga\u030arde", "aalsgaarde"),  # decomposed å, as macOS writes it
        ("ＡＢＣ１２３", "abc123"),
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert _apply(fold, [raw]) == [folded]


@pytest.mark.parametrize(
    ("raw", "form"),
    [
        ("Hansen Byg ApS", "ApS"),
        ("Hansen Byg Aps.", "ApS"),
        ("HANSEN BYG APS", "ApS"),
        ("Hansen Byg Anpartsselskab", "ApS"),
        ("Andersen & Søn A/S", "A/S"),
        ("Andersen AS", "A/S"),
        ("Andersen A.S.", "A/S"),
        ("Andersen A / S", "A/S"),
        ("Danske Bank Aktieselskab", "A/S"),
        ("A/S Storebælt", "A/S"),
        ("Hansen & Co I/S", "I/S"),
        ("Hansen & Co I.S.", "I/S"),
        ("HANSEN & CO IS", "I/S"),
        ("Hansen Holding ApS & Co. K/S", "K/S"),
        ("Hansen Advokater P/S", "P/S"),
        ("Hansen IVS", "IVS"),
        ("Hansen Tømrer v/Jens Hansen", "ENK"),
        ("Hansen Tømrer v/ Jens Hansen", "ENK"),
        ("Jens Hansen ENK", "ENK"),
        ("Jens Enk", None),
        ("Danish Crown A.m.b.a.", "AMBA"),
        ("Arla Foods amba", "AMBA"),
        ("Brugsforeningen F.M.B.A.", "FMBA"),
        ("Hansen Byg ApS i likvidation", "ApS"),
        ("Jens Hansen", None),
        ("Thomas", None),
        ("Paradis Is", None),
        ("Aps", None),
        (None, None),
    ],
)
def test_legal_form_of(raw: str | None, form: str | None) -> None:
    assert _apply(legal_form_of, [raw]) == [form]


def test_display_corpus() -> None:
    cases = [line.split(" => ") for line in _corpus("names_display.txt")]
    out = _names(raw_name=[raw for raw, _, _ in cases])
    for (raw, display, form), got_name, got_form in zip(
        cases, out["name"], out["legal_form"], strict=True
    ):
        assert (raw, got_name) == (raw, display)
        assert (raw, got_form) == (raw, None if form == "-" else form)


def test_mixed_case_names_stay_as_typed() -> None:
    names = _corpus("names_unchanged.txt")
    assert _names(raw_name=names)["name"].to_list() == names


def test_quotes_in_pairs_stay_and_stray_ones_go() -> None:
    """Before: a quote at either end went, its partner stayed (``Café Bøf" ApS``), and that half
    pair was written back to the CRM."""
    out = _names(
        raw_name=[
            '"Café Bøf" ApS',
            'Jens "Store" Hansen',
            "„Bo“ Jensen",
            '"Nordlys ApS"',
            'Lis Berg"',
        ]
    )
    assert out["name"].to_list() == [
        '"Café Bøf" ApS',
        'Jens "Store" Hansen',
        "„Bo“ Jensen",
        "Nordlys ApS",
        "Lis Berg",
    ]


def test_placeholders_are_missing_names() -> None:
    placeholders = [*_corpus("names_missing.txt"), None, "", "   "]
    out = _names(raw_name=placeholders)
    assert out["name"].to_list() == [None] * len(placeholders)
    assert out["flag_MISSING_NAME"].to_list() == [True] * len(placeholders)
    assert out["name_key"].to_list() == [None] * len(placeholders)


def test_a_placeholder_across_the_name_part_columns_is_a_missing_name() -> None:
    """A protected person's ``Beskyttet`` + ``Adresse`` (navne- og adressebeskyttelse) was the
    person ``Beskyttet Adresse``; neither column names anyone."""
    out = _names(
        raw_first_name=["Beskyttet", "Ukendt", "Anna"], raw_last_name=["Adresse", "Kunde", "Hansen"]
    )
    assert out["name"].to_list() == [None, None, "Anna Hansen"]
    assert out["first_name"].to_list() == [None, None, "Anna"]
    assert out["flag_MISSING_NAME"].to_list() == [True, True, False]


def test_real_names_are_not_missing() -> None:
    out = _names(raw_name=["Jens Hansen", "Ø", "Q8 Danmark A/S", "3F"])
    assert out["flag_MISSING_NAME"].to_list() == [False, False, False, False]


def test_a_persons_name_with_a_remark_is_split_without_it() -> None:
    """``Hansen, Jens (privat)`` and ``Jens Hansen - ring efter 16`` had no first and last name,
    so the pair with ``Jens Hansen`` was compared without them. The remark stays in the name."""
    out = _names(raw_name=["Hansen, Jens (privat)", "Jens Hansen - ring efter 16"])
    assert out["name"].to_list() == ["Jens Hansen (privat)", "Jens Hansen - ring efter 16"]
    assert out["first_name"].to_list() == ["Jens", "Jens"]
    assert out["last_name"].to_list() == ["Hansen", "Hansen"]
    assert out["name_key"][0] == "jens hansen"


def test_a_generation_after_a_name_is_no_surname() -> None:
    out = _names(raw_name=["Jens Hansen jun.", "John Smith, Jr.", "Peter Holm d.y.", "Amartya Sen"])
    assert out["name"].to_list() == [
        "Jens Hansen jun.", "John Smith, Jr.", "Peter Holm d.y.", "Amartya Sen"
    ]  # fmt: skip
    assert out["first_name"].to_list() == ["Jens", "John", "Peter", "Amartya"]
    assert out["last_name"].to_list() == ["Hansen", "Smith", "Holm", "Sen"]


def test_family_name_first_with_comma_is_turned_round() -> None:
    out = _names(raw_name=["Hansen, Jens", "HANSEN MØLLER, JENS PETER", "Hansen Byg, ApS"])
    assert out["name"].to_list() == [
        "Jens Hansen",
        "Jens Peter Hansen Møller",
        "Hansen Byg ApS",
    ]
    assert out["first_name"].to_list() == ["Jens", "Jens Peter", None]
    assert out["last_name"].to_list() == ["Hansen", "Hansen Møller", None]
    assert out["name_key"].to_list() == ["jens hansen", "jens peter hansen moeller", "hansen byg"]
    assert out["first_name_key"].to_list() == ["jens", "jens peter", None]
    assert out["last_name_key"].to_list() == ["hansen", "hansen moeller", None]


def test_person_names_are_split_and_companies_are_not() -> None:
    out = _names(
        raw_name=[
            "Mette Frederiksen",
            "Hans-Jørgen O'Brien",
            "Hansen Byg",
            "Aarhus Kommune",
            "Nordic Consult ApS",
            "Hansens Malerfirma v/Jens Hansen",
            "Dr. Jens Hansen",
            "Hansen & Co.",
        ]
    )
    assert out["first_name"].to_list() == [
        "Mette",
        "Hans-Jørgen",
        None,
        None,
        None,
        "Jens",
        "Jens",
        None,
    ]
    assert out["last_name"].to_list() == [
        "Frederiksen",
        "O'Brien",
        None,
        None,
        None,
        "Hansen",
        "Hansen",
        None,
    ]


def test_first_and_last_name_columns() -> None:
    out = _names(
        raw_name=[None, None, "Hansen Byg ApS", None],
        raw_first_name=["jens", "  Ole ", "Jens", "ukendt"],
        raw_last_name=["HANSEN", None, "Hansen", "-"],
    )
    assert out["name"].to_list() == ["Jens Hansen", "Ole", "Hansen Byg ApS", None]
    assert out["first_name"].to_list() == ["Jens", "Ole", "Jens", None]
    assert out["last_name"].to_list() == ["Hansen", None, "Hansen", None]
    assert out["name_key"].to_list() == ["jens hansen", "ole", "hansen byg", None]
    assert out["flag_MISSING_NAME"].to_list() == [False, False, False, True]


def test_an_initial_in_the_first_name_column_is_kept_as_in_one_name_column() -> None:
    """``C.`` + ``Lassen`` is ``C. Lassen``: an initial, which the household rule needs to see.
    Dropped, the record bridged two people of one household into one customer."""
    apart = _names(
        raw_name=[None, None, None], raw_first_name=["C.", "c", "-"], raw_last_name=["Lassen"] * 3
    )
    whole = _names(raw_name=["C. Lassen"], raw_first_name=[None], raw_last_name=[None])
    assert apart["name"].to_list() == ["C. Lassen", "C Lassen", "Lassen"]
    assert apart["first_name"].to_list() == ["C.", "C", None]
    assert apart["first_name_key"].to_list() == ["c", "c", None]
    assert whole.select("first_name", "first_name_key", "name_key").row(0) == apart.select(
        "first_name", "first_name_key", "name_key"
    ).row(0)


def test_name_key_never_overwrites_the_display_name() -> None:
    out = _names(raw_name=["Aabenraa Auto", "Ålsgårde Auto"])
    assert out["name"].to_list() == ["Aabenraa Auto", "Ålsgårde Auto"]
    assert out["name_key"].to_list() == ["aabenraa auto", "aalsgaarde auto"]


def test_missing_input_columns_count_as_null() -> None:
    out = normalise_names(pl.DataFrame({"record_id": ["1"]}))
    assert out.row(0, named=True) | {"record_id": "1"} == {
        "record_id": "1",
        "name": None,
        "legal_form": None,
        "name_key": None,
        "first_name": None,
        "last_name": None,
        "first_name_key": None,
        "last_name_key": None,
        "flag_MISSING_NAME": True,
        "flag_DECEASED_ESTATE": False,
        "state_by_name": None,
    }


def test_rows_and_other_columns_are_kept() -> None:
    frame = pl.DataFrame(
        {"record_id": ["1", "2"], "raw_name": ["B", "A"], "src_Navn": ["B", "A"]},
    )
    out = normalise_names(frame)
    assert out.select("record_id", "src_Navn").equals(frame.select("record_id", "src_Navn"))


@pytest.mark.parametrize(
    "junk",
    ["", "\u00a0", "😀😀", "１２３４", "Ｈａｎｓｅｎ", "x" * 10_000, "Å" * 5_000, "\n\t", "'" * 50],
)
def test_junk_never_raises(junk: str) -> None:
    out = _names(raw_name=[junk], raw_first_name=[junk], raw_last_name=[junk])
    assert out.height == 1
    assert out["flag_MISSING_NAME"].dtype == pl.Boolean


# Held out: the rules were developed on other seeds of the generator and never tuned on this one.
HELD_OUT_SEED = 20261123


def test_accuracy_on_generated_danish_crm_export() -> None:
    from bench.generate import generate

    data = generate(20_000, HELD_OUT_SEED)
    out = pl.concat(
        [normalise_names(data.customers.select(raw_name=pl.col("Navn"))), data.truth],
        how="horizontal",
    )
    named = out.filter(pl.col("true_name").is_not_null())
    assert (named["name"] == named["true_name"]).fill_null(False).mean() >= 0.99
    # A name the generator calls unusable is flagged, and no usable name is.
    expected = out["expected_flags"].list.contains("MISSING_NAME")
    assert (out["flag_MISSING_NAME"] == expected).mean() >= 0.998
    # A legal form is never invented: where the name shows none, none is reported.
    no_form = out.filter(pl.col("true_legal_form").is_null())
    assert no_form["legal_form"].null_count() == no_form.height


def test_control_characters_are_whitespace() -> None:
    from datavask.cleansing.names import collapse_whitespace

    values = ["Kontrol\x01Tegn ApS", "Nørregade\x013", "x\x00y\x1f z", " Hansen  Byg\u200bApS "]
    out = pl.DataFrame({"v": values}).select(collapse_whitespace(pl.col("v")))["v"]
    assert out.to_list() == ["Kontrol Tegn ApS", "Nørregade 3", "x y z", "Hansen Byg ApS"]


def test_a_legal_form_before_a_remark_is_the_names() -> None:
    # A department, a store, a person to write to, a bankruptcy written short: each was read as
    # a name without a legal form ("Jensens Bøfhus A/S (afd. Aarhus)" even as a person, so no
    # MISSING_CVR was raised). The name itself goes back as typed.
    names = [
        "Jensens Bøfhus A/S (afd. Aarhus)",
        "Dansk Supermarked A/S - Bilka Tilst",
        "Hansen Byg ApS, att. Jens Hansen",
        "Hansen Byg ApS u/konkurs",
        "Jens Hansen (privat)",
        "Hansen - Jensen",
    ]
    out = _names(raw_name=names)
    assert out["legal_form"].to_list() == ["A/S", "A/S", "ApS", "ApS", None, None]
    assert out["name"].to_list()[:3] == names[:3]
    assert out["first_name"].to_list()[:4] == [None] * 4
    assert _apply(name_key, ["Hansen Byg ApS u/konkurs"]) == ["hansen byg"]


def test_family_name_particles_are_lower_case_inside_a_name() -> None:
    out = _names(raw_name=["MADS VAN DER BERG", "hans von der lippe", "DER ER ET YNDIGT LAND"])
    assert out["name"].to_list() == [
        "Mads van der Berg",
        "Hans von der Lippe",
        "Der Er Et Yndigt Land",  # the first word keeps its capital
    ]


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        # Romance particles are lower case inside a name, as van and von are
        ("MARIA DE LA CRUZ", "Maria de la Cruz"),
        ("luiz inacio lula da silva", "Luiz Inacio Lula da Silva"),
        ("DE DANSKE SPRITFABRIKKER A/S", "De Danske Spritfabrikker A/S"),  # a first word keeps it
        # a Scottish or Irish Mc is followed by a capital; Mac is no such prefix
        ("RONALD MCDONALD", "Ronald McDonald"),
        ("ANNE MCINTOSH-HANSEN", "Anne McIntosh-Hansen"),
        ("JOHN MACK", "John Mack"),
        ("MCDONALD'S DANMARK APS", "McDonald's Danmark ApS"),
    ],
)
def test_particles_and_prefixes_of_family_names_are_cased_as_written_abroad(
    typed: str, name: str
) -> None:
    """``MCDONALD`` went back to the CRM as ``Mcdonald``, ``DE LA CRUZ`` as ``De La Cruz``."""
    assert _names(raw_name=[typed])["name"].to_list() == [name]


def test_a_family_name_in_its_own_column_is_cased_as_in_the_name() -> None:
    out = _names(raw_first_name=["RONALD"], raw_last_name=["MCDONALD"])
    assert (out["first_name"][0], out["last_name"][0]) == ("Ronald", "McDonald")
    assert out["name"].to_list() == ["Ronald McDonald"]


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        # the parts of a hyphenated word are words to the casing table
        ("IT-HUSET VEST APS", "IT-Huset Vest ApS"),
        ("VVS-FIRMAET JENSEN & SØN APS", "VVS-Firmaet Jensen & Søn ApS"),
        ("JENSEN VVS-SERVICE", "Jensen VVS-Service"),
        ("HANS-PETER MÜLLER", "Hans-Peter Müller"),
        ("HANSEN-OG-SØN", "Hansen-Og-Søn"),  # after a hyphen, a word as a first word
        # a company's word of two consonants is an abbreviation, as one of three or four is
        ("GN STORE NORD A/S", "GN Store Nord A/S"),
        ("JK TØMRER OG SNEDKER APS", "JK Tømrer og Snedker ApS"),
        ("MR PIZZA APS", "Mr Pizza ApS"),  # a title is no abbreviation
        ("ST JOHNS APS", "St Johns ApS"),
        # a person's name has none, but may start with two initials typed without dots
        ("BO HANSEN", "Bo Hansen"),
        ("KJ HANSEN", "KJ Hansen"),
    ],
)
def test_capitals_in_hyphenated_words_and_abbreviations_survive_proper_case(
    typed: str, name: str
) -> None:
    """``IT-HUSET VEST APS`` went back to the CRM as ``It-Huset Vest ApS``, ``GN STORE NORD A/S``
    as ``Gn Store Nord A/S``."""
    assert _names(raw_name=[typed])["name"].to_list() == [name]


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        # a name that is one short word in capitals is an abbreviation, vowels or not
        ("KL", "KL"),
        ("GN", "GN"),
        ("LO", "LO"),
        ("ATP", "ATP"),
        ("SKAT", "SKAT"),
        ("PKA", "PKA"),
        ("ØK", "ØK"),
        ("ABØ A/S", "ABØ A/S"),
        ("ÅF A/S", "ÅF A/S"),
        ("AKF APS", "AKF ApS"),
        ("DSB", "DSB"),
        ("NKT A/S", "NKT A/S"),
        ("DFDS A/S", "DFDS A/S"),
        # unless it is a given name, a surname, a trade word or a small word
        ("BO", "Bo"),
        ("LUND A/S", "Lund A/S"),
        ("BYG APS", "Byg ApS"),
        ("OG", "Og"),
        # among other words a vowel makes it a word (``SØN``, ``BYG``); persons are cased
        ("ØK HOLDING A/S", "Øk Holding A/S"),
        ("BO HANSEN", "Bo Hansen"),
        ("kl", "Kl"),
    ],
)
def test_a_name_that_is_one_abbreviation_keeps_its_capitals(typed: str, name: str) -> None:
    """``KL``, ``ATP``, ``ABØ A/S`` went back to the CRM as ``Kl``, ``Atp``, ``Abø A/S``, while
    ``DSB`` and ``NKT A/S`` stayed."""
    assert _names(raw_name=[typed])["name"].to_list() == [name]


@pytest.mark.parametrize(
    ("typed", "name", "first"),
    [
        ("JP OLSEN", "JP Olsen", "JP"),
        ("HC ANDERSEN", "HC Andersen", "HC"),
        ("hc andersen", "HC Andersen", "HC"),
        ("PK Madsen", "PK Madsen", "PK"),  # mixed case is kept as typed
        # a given name, a title, a surname written first or a surname's prefix are no initials
        ("BO HANSEN", "Bo Hansen", "Bo"),
        ("HR JENS HANSEN", "Hr Jens Hansen", "Jens"),
        ("NG WAI MAN", "Ng Wai Man", None),
        ("MC DONALD", "Mc Donald", None),
        ("CHR HANSEN", "Chr Hansen", "Chr"),  # three letters: Christian, abbreviated
        # the title, not DR the broadcaster the casing table keeps in capitals
        ("DR JENS HANSEN", "Dr Jens Hansen", "Jens"),
        ("dr jens hansen", "Dr Jens Hansen", "Jens"),
        ("DR. JENS HANSEN", "Dr. Jens Hansen", "Jens"),
    ],
)
def test_a_persons_initials_typed_without_dots_stay_in_capitals(
    typed: str, name: str, first: str | None
) -> None:
    """``JP OLSEN`` went back to the CRM as ``Jp Olsen`` and ``HC ANDERSEN`` as ``Hc Andersen``."""
    names = _names(raw_name=[typed])
    assert names["name"].to_list() == [name]
    if first is not None:
        assert names["first_name"].to_list() == [first]


@pytest.mark.parametrize(
    ("typed", "name", "first", "last"),
    [
        ("Dødsboet efter Jens Hansen", "Dødsboet efter Jens Hansen", "Jens", "Hansen"),
        # the executor after the deceased's name; capitals cased as a name's are
        (
            "DØDSBOET EFTER JENS HANSEN V/ ADVOKAT PETER HOLM",
            "Dødsboet efter Jens Hansen v/Advokat Peter Holm",
            "Jens",
            "Hansen",
        ),
        (
            "Boet efter Anna Larsen v/advokat Peter Holm",
            "Boet efter Anna Larsen v/advokat Peter Holm",
            "Anna",
            "Larsen",
        ),
        ("Dødsbo Karl Jensen", "Dødsbo Karl Jensen", "Karl", "Jensen"),
        ("Doedsboet e/ Ole Berg", "Doedsboet e/ Ole Berg", "Ole", "Berg"),
        ("Hansen, Jens (dødsbo)", "Jens Hansen (dødsbo)", "Jens", "Hansen"),
        ("Jens Hansen - dødsbo", "Jens Hansen - dødsbo", "Jens", "Hansen"),
        ("Estate of John Smith", "Estate of John Smith", "John", "Smith"),
        ("Dødsbo efter afdøde Jens Hansen", "Dødsbo efter afdøde Jens Hansen", "Jens", "Hansen"),
        ("Estate of the late John Smith", "Estate of the late John Smith", "John", "Smith"),
        # a dead customer marked after the name
        ("Jens Hansen (afdød)", "Jens Hansen (afdød)", "Jens", "Hansen"),
        ("Jens Hansen - død", "Jens Hansen - død", "Jens", "Hansen"),
        ("Hansen, Jens, afdøde", "Jens Hansen, afdøde", "Jens", "Hansen"),
        ("John Smith (deceased)", "John Smith (deceased)", "John", "Smith"),
        ("John Smith (dec'd)", "John Smith (dec'd)", "John", "Smith"),
    ],
)
def test_an_estate_is_read_as_the_deceased_persons_name(
    typed: str, name: str, first: str, last: str
) -> None:
    out = _names(raw_name=[typed])
    assert out.row(0, named=True) | {"name": name, "first_name": first, "last_name": last} == (
        out.row(0, named=True)
    )
    assert out["name_key"].to_list() == [f"{first} {last}".lower()]
    assert out["flag_DECEASED_ESTATE"].to_list() == [True]


@pytest.mark.parametrize(
    "typed",
    ["Bo Jensen", "Dødsbo", "Bo Efterslægt ApS", "Boet Café", "Jens Død", "Død Hansen ApS",
     "Mette Dodd"],
)  # fmt: skip
def test_a_name_that_only_looks_like_an_estate_is_none(typed: str) -> None:
    """``Bo`` is a first name; the word alone names no one."""
    assert _names(raw_name=[typed])["flag_DECEASED_ESTATE"].to_list() == [False]


@pytest.mark.parametrize(
    ("typed", "name", "form", "key", "state"),
    [
        ("Konkursboet efter Hansen Byg ApS", "Konkursboet efter Hansen Byg ApS", "ApS",
         "hansen byg", "bankrupt"),
        ("KONKURSBOET EFTER HANSEN BYG APS V/KURATOR LENE BORG",
         "Konkursboet efter Hansen Byg ApS v/Kurator Lene Borg", "ApS", "hansen byg", "bankrupt"),
        ("Konkursbo e/ Jens Hansen", "Konkursbo e/ Jens Hansen", None, "jens hansen", "bankrupt"),
        # as CRM users write it: without "efter", or "under konkursbehandling"
        ("Konkursboet Nørgaard Transport ApS", "Konkursboet Nørgaard Transport ApS", "ApS",
         "noergaard transport", "bankrupt"),
        ("Hansen Byg ApS (under konkursbehandling)", "Hansen Byg ApS (under konkursbehandling)",
         "ApS", "hansen byg", "bankrupt"),
        ("Hansen Byg ApS under konkurs", "Hansen Byg ApS under konkurs", "ApS", "hansen byg",
         "bankrupt"),
        ("Hansen Byg ApS under konkurs v/kurator Lene Borg",
         "Hansen Byg ApS under konkurs v/kurator Lene Borg", "ApS", "hansen byg", "bankrupt"),
        ("HANSEN BYG APS U/KONKURS", "Hansen Byg ApS u/konkurs", "ApS", "hansen byg", "bankrupt"),
        ("Hansen Byg A/S i konkurs", "Hansen Byg A/S i konkurs", "A/S", "hansen byg", "bankrupt"),
        ("Hansen Byg ApS (konkurs)", "Hansen Byg ApS (konkurs)", "ApS", "hansen byg", "bankrupt"),
        ("Hansen Byg ApS - KONKURS", "Hansen Byg ApS - konkurs", "ApS", "hansen byg", "bankrupt"),
        ("Hansen Byg ApS i likvidation", "Hansen Byg ApS i likvidation", "ApS", "hansen byg",
         "distressed"),
        ("Hansen Byg ApS under frivillig likvidation v/likvidator Lene Borg",
         "Hansen Byg ApS under frivillig likvidation v/likvidator Lene Borg", "ApS", "hansen byg",
         "distressed"),
        ("HANSEN BYG APS UNDER TVANGSOPLØSNING", "Hansen Byg ApS under tvangsopløsning", "ApS",
         "hansen byg", "distressed"),
        ("Hansen Byg ApS u/rekonstruktion", "Hansen Byg ApS u/rekonstruktion", "ApS",
         "hansen byg", "distressed"),
        ("Hansen Byg ApS (ophørt)", "Hansen Byg ApS (ophørt)", "ApS", "hansen byg", "ceased"),
        ("Hansen Byg ApS - OPLØST", "Hansen Byg ApS - opløst", "ApS", "hansen byg", "ceased"),
        # foreign customers, the way their countries write it
        ("Acme Trading Ltd (in liquidation)", "Acme Trading Ltd (in liquidation)", "Ltd",
         "acme trading", "distressed"),
        ("Acme Trading Ltd in administration", "Acme Trading Ltd in administration", "Ltd",
         "acme trading", "distressed"),
        ("Acme Trading Ltd - dissolved", "Acme Trading Ltd - dissolved", "Ltd", "acme trading",
         "ceased"),
        ("Müller Bau GmbH i.L.", "Müller Bau GmbH i.L.", "GmbH", "mueller bau", "distressed"),
        ("Müller Bau GmbH in Insolvenz", "Müller Bau GmbH in Insolvenz", "GmbH", "mueller bau",
         "bankrupt"),
        ("Nordisk Fisk A/S konkursbo", "Nordisk Fisk A/S konkursbo", "A/S", "nordisk fisk",
         "bankrupt"),
    ],
)  # fmt: skip
def test_a_name_that_says_its_company_is_bankrupt_or_ceased_is_read_as_the_companys_own(
    typed: str, name: str, form: str | None, key: str, state: str
) -> None:
    """The words that say the customer is bankrupt, in liquidation or ceased, and its trustee or
    liquidator, are set aside: the name is compared and checked against the registry as the
    company's own, and keeps the words."""
    row = _names(raw_name=[typed]).row(0, named=True)
    assert (row["name"], row["legal_form"], row["name_key"]) == (name, form, key)
    assert row["state_by_name"] == state
    assert not row["flag_DECEASED_ESTATE"]


def test_an_estate_written_after_the_name_keeps_its_executor() -> None:
    row = _names(raw_name=["Jens Hansen (dødsbo) v/advokat Peter Holm"]).row(0, named=True)
    assert (row["name"], row["first_name"], row["last_name"]) == (
        "Jens Hansen (dødsbo) v/advokat Peter Holm",
        "Jens",
        "Hansen",
    )
    assert row["flag_DECEASED_ESTATE"]


@pytest.mark.parametrize(
    "typed",
    ["Konkurs Consult ApS", "Dansk Konkursrådgivning ApS", "Jens Konkurs", "Konkursbosalg ApS",
     "Konkursboet", "Hansen Byg ApS", "Likvidation Partner ApS", "Rekonstruktion Byg ApS",
     "Hansen Ophørt", "Hansen Administration ApS", "Liquidation World Ltd"],
)  # fmt: skip
def test_a_name_that_only_mentions_bankruptcy_is_no_bankruptcy(typed: str) -> None:
    """A company may be called "Konkursbosalg ApS" (the estate is a word of its own); ``konkurs``,
    ``ophørt`` alone after a name need ``under``, ``u/``, ``i``, a bracket, dash or comma."""
    row = _names(raw_name=[typed]).row(0, named=True)
    assert row["state_by_name"] is None
    folded = typed.lower().replace("å", "aa").replace("ø", "oe")
    assert row["name_key"] == folded.removesuffix(" aps").removesuffix(" a/s").removesuffix(" ltd")


@pytest.mark.parametrize(
    ("first", "last", "name", "given", "family"),
    [
        ("Dødsboet efter Knud", "Sørensen", "Dødsboet efter Knud Sørensen", "Knud", "Sørensen"),
        ("Hans", "Jensen (afdød)", "Hans Jensen (afdød)", "Hans", "Jensen"),
        ("Anna", "Hansen (dødsbo) v/advokat Ib Holm", "Anna Hansen (dødsbo) v/advokat Ib Holm",
         "Anna", "Hansen"),
        ("DØDSBOET EFTER KNUD", "SØRENSEN", "Dødsboet efter Knud Sørensen", "Knud", "Sørensen"),
    ],
)  # fmt: skip
def test_an_estate_in_the_first_and_last_name_columns_is_an_estate(
    first: str, last: str, name: str, given: str, family: str
) -> None:
    """A ``Fornavn``/``Efternavn`` export: ``Dødsboet efter Knud`` was the first name and the
    customer no estate; ``Jensen (afdød)`` the last name. The names are the person's own, the
    name keeps the words, and the customer is DECEASED_ESTATE."""
    row = _names(raw_first_name=[first], raw_last_name=[last]).row(0, named=True)
    assert (row["name"], row["first_name"], row["last_name"]) == (name, given, family)
    assert row["name_key"] == " ".join(_apply(fold, [given, family]))  # type: ignore[arg-type]
    assert row["flag_DECEASED_ESTATE"]


@pytest.mark.parametrize(
    ("first", "last"), [("Jens", "Død"), ("Bo", "Efter"), ("Dødsbo", "Jensen")]
)
def test_name_parts_that_only_look_like_an_estate_are_none(first: str, last: str) -> None:
    row = _names(raw_first_name=[first], raw_last_name=[last]).row(0, named=True)
    assert (row["first_name"], row["last_name"]) == (first, last)
    assert not row["flag_DECEASED_ESTATE"]


def test_an_estates_words_go_back_to_the_name_part_columns() -> None:
    """Written back, the first- and last-name columns keep the words: the CRM would lose the
    estate."""
    from datavask.cleansing.names import with_typed_remarks

    parts = ["Knud", "Jensen", "Lund", "Knud", "Dødsboet efter Knud"]
    typed = ["Dødsboet efter Knud", "JENSEN (AFDØD)", "Lund v/værge", "Knud", "Dødsboet efter Knud"]
    frame = pl.DataFrame({"part": parts, "typed": typed})
    back = frame.select(with_typed_remarks(pl.col("part"), pl.col("typed"))).to_series()
    assert back.to_list() == [
        "Dødsboet efter Knud", "Jensen (AFDØD)", "Lund v/værge", "Knud", "Dødsboet efter Knud"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "first", "last"),
    [
        ("Ole Pedersen v/ værge Lise Pedersen", "Ole", "Pedersen"),
        ("Niels Bach v/værge advokat Sø Hansen", "Niels", "Bach"),
        ("Peter Møller, under værgemål", "Peter", "Møller"),
        ("Møller, Peter, under værgemål", "Peter", "Møller"),
        ("Inge Lund (værge: Hanne Lund)", "Inge", "Lund"),
        ("Anne Hansen c/o værge Ib Holm", "Anne", "Hansen"),
    ],
)
def test_a_guardian_beside_a_persons_name_is_whom_to_write_to(
    typed: str, first: str, last: str
) -> None:
    """``Ole Pedersen v/ værge Lise Pedersen`` was a sole proprietorship (ENK: a company without
    its CVR number, MISSING_CVR, no invoice) with first name ``værge Lise``; ``Peter Møller,
    under værgemål`` was read turned round, first name ``under værgemål``. The customer is the
    person; the guardian stays in the name as a c/o line does, and out of its key."""
    from datavask.cleansing.customer_type import classify_customer_type

    row = classify_customer_type(_names(raw_name=[typed])).row(0, named=True)
    assert (row["first_name"], row["last_name"], row["legal_form"]) == (first, last, None)
    assert row["customer_type"] == "person"
    assert row["name_key"] == " ".join(_apply(fold, [first, last]))  # type: ignore[arg-type]
    assert "rge" in row["name"]


def test_a_guardian_in_the_last_name_column_is_no_part_of_the_last_name() -> None:
    row = _names(raw_first_name=["Inge"], raw_last_name=["Lund v/værge"]).row(0, named=True)
    assert (row["name"], row["first_name"], row["last_name"]) == (
        "Inge Lund v/værge",
        "Inge",
        "Lund",
    )


def test_an_estate_named_by_its_executor_alone_names_no_person() -> None:
    """``v/`` is the executor here, no sole proprietor's owner: no ENK, no first or last name."""
    out = _names(raw_name=["Dødsboet v/advokat Peter Holm"])
    row = out.row(0, named=True)
    assert (row["name"], row["legal_form"], row["first_name"], row["last_name"]) == (
        "Dødsboet v/advokat Peter Holm",
        None,
        None,
        None,
    )
    assert row["flag_DECEASED_ESTATE"]


@pytest.mark.parametrize(
    ("typed", "form"),
    [
        ("IKEA A/S c/o Inter IKEA", "A/S"),
        ("Tømrerfirmaet Nielsen I/S att. Bo", "I/S"),
        ("Hansen Byg ApS Att: Bogholderiet", "ApS"),
        ("Hansen Byg ApS, att. Bogholderiet", "ApS"),
        ("Konsten att leva AB", "AB"),  # Swedish "att" (to) is no attention line
        # a site or a contact after a comma or a slash
        ("Hansen A/S, Aarhus", "A/S"),
        ("Hansen Byg ApS / Jens Hansen", "ApS"),
        ("Andersen & Søn A/S, Vejle afd.", "A/S"),
        ("Hansen/Jensen", None),
        # or a department its invoices go to
        ("Hansen A/S Kreditorbogholderiet", "A/S"),
        ("HANSEN APS ØKONOMI", "ApS"),
        ("Hansen ApS Afd. Vejle", "ApS"),
        ("Hansen Regnskab", None),
    ],
)
def test_a_c_o_or_attention_after_a_name_hides_no_legal_form(typed: str, form: str | None) -> None:
    """The name keeps what was typed after it; its legal form, before it, is found."""
    row = _names(raw_name=[typed]).row(0, named=True)
    assert (row["legal_form"], row["name"].casefold()) == (form, typed.casefold())


@pytest.mark.parametrize(
    ("typed", "first", "last"),
    [
        ("Hr. Jens Hansen", "Jens", "Hansen"),
        ("Fru Mette Hansen", "Mette", "Hansen"),
        ("Dr. med. Peter Holm", "Peter", "Holm"),
        ("Prof. Dr. Ole Berg", "Ole", "Berg"),
        # a degree before the name is one too; a name that starts like one is a name
        ("cand.jur. Lene Borg", "Lene", "Borg"),
        ("Cand. Merc. Lene Borg", "Lene", "Borg"),
        ("mag.art. Ole Hansen", "Ole", "Hansen"),
        ("Dipl.-Ing. Klaus Berger", "Klaus", "Berger"),
        ("Magnus Hansen", "Magnus", "Hansen"),
        ("Candy Hansen", "Candy", "Hansen"),
    ],
)
def test_a_persons_title_is_in_the_name_not_the_key(typed: str, first: str, last: str) -> None:
    """Another record of the person rarely carries the title: the key compares without it."""
    row = _names(raw_name=[typed]).row(0, named=True)
    assert (row["name"], row["first_name"], row["last_name"]) == (typed, first, last)
    assert row["name_key"] == f"{first} {last}".lower()


@pytest.mark.parametrize(
    ("typed", "first", "last", "key"),
    [
        # a couple's titles are one; the one word after them is the surname
        ("Hr. og fru Hansen", None, "Hansen", "hansen"),
        ("Hr og Fru Jensen", None, "Jensen", "jensen"),
        ("Mr & Mrs Smith", None, "Smith", "smith"),
        ("Mr. and Mrs. John Smith", "John", "Smith", "john smith"),
        ("Hr. og fru Jens Hansen", "Jens", "Hansen", "jens hansen"),
        ("Hr. Hansen", None, "Hansen", "hansen"),
        # no title: one word is no person's first and last name
        ("Madonna", None, None, "madonna"),
    ],
)
def test_a_couples_titles_are_no_first_name(
    typed: str, first: str | None, last: str | None, key: str
) -> None:
    row = _names(raw_name=[typed]).row(0, named=True)
    assert (row["name"], row["first_name"], row["last_name"]) == (typed, first, last)
    assert row["name_key"] == key


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("A/B Solhaven", "andelsboligforening solhaven"),
        ("A / B. Solhaven", "andelsboligforening solhaven"),
        ("Andelsboligforeningen Solhaven", "andelsboligforening solhaven"),
        ("Andels-Boligforeningen Solhaven", "andelsboligforening solhaven"),
        ("Solhaven, A/B", "solhaven andelsboligforening"),
        ("E/F Vestergade 12", "ejerforening vestergade 12"),
        ("Ejerforeningen Vestergade 12", "ejerforening vestergade 12"),
        ("G/F Lyngbakken", "grundejerforening lyngbakken"),
        ("Grundejerforening Lyngbakken", "grundejerforening lyngbakken"),
        # no slash, no association: initials, Sweden's aktiebolag
        ("A. B. Hansen", "a b hansen"),
        ("AB Volvo", "ab volvo"),
    ],
)
def test_an_associations_short_and_long_form_give_one_key(typed: str, key: str) -> None:
    assert _apply(name_key, [typed]) == [key]
    assert _names(raw_name=[typed], raw_first_name=[None], raw_last_name=[None])[
        "name_key"
    ].to_list() == [key]


@pytest.mark.parametrize(
    ("typed", "form", "key"),
    [
        # a foreign form written out is its short one: a company, keyed without it
        ("Svenska Bygg Aktiebolag", "AB", "svenska bygg"),
        ("Aktiebolaget Electrolux", "AB", "electrolux"),
        ("Equinor Allmennaksjeselskap", "ASA", "equinor"),
        ("Nokia Osakeyhtiö", "Oy", "nokia"),
        ("Müller Gesellschaft mit beschränkter Haftung", "GmbH", "mueller"),
        ("Siemens Aktiengesellschaft", "AG", "siemens"),
        ("Acme Incorporated", "Inc", "acme"),
        ("Foo Public Limited Company", "PLC", "foo"),
        ("Bar Limited Liability Company", "LLC", "bar"),
        # the Faroese forms, before the name or after it
        ("P/F Bakkafrost", "P/F", "bakkafrost"),
        ("Tórshavnar Handil Sp/F", "Sp/F", "torshavnar handil"),
        # a company's director or contact after v/: the company is the ApS, keyed without them
        ("Hansen Byg ApS v/ Jens Hansen", "ApS", "hansen byg"),
        ("Hansen Byg ApS, v/Jens Hansen", "ApS", "hansen byg"),
        ("A/S Storebælt v/ direktør Ole Berg", "A/S", "storebaelt"),
        # without a legal form before it, v/ names a sole proprietorship's owner, who is its key
        ("Tømrer Hansen v/ Jens Hansen", "ENK", "toemrer hansen jens hansen"),
        # a former name is no part of the name's key
        ("Hansen Byg ApS (tidl. Hansen & Søn)", "ApS", "hansen byg"),
        # a department is: two sites
        ("Hansen Byg ApS (afd. Aarhus)", "ApS", "hansen byg aps afd aarhus"),
        # an association written short after its name, with an addressee after it
        ("Solhaven A/B c/o DEAS A/S", None, "solhaven andelsboligforening"),
    ],
)
def test_a_company_names_legal_form_and_key(typed: str, form: str | None, key: str) -> None:
    """The name keeps what it was typed with (``v/ Jens`` written ``v/Jens``); the legal form and
    the key are read from the customer's own name, the same by the stage and by ``name_key``."""
    row = _names(raw_name=[typed]).row(0, named=True)
    assert row["name"].replace("v/ ", "v/") == typed.replace("v/ ", "v/")
    assert (row["legal_form"], row["name_key"]) == (form, key)
    assert _apply(name_key, [typed]) == [key]


@pytest.mark.parametrize("typed", ["Fam. Hansen", "Familien Hansen"])
def test_a_family_is_keyed_by_its_surname(typed: str) -> None:
    row = _names(raw_name=[typed]).row(0, named=True)
    assert (row["first_name"], row["last_name"], row["name_key"]) == (None, "Hansen", "hansen")


@pytest.mark.parametrize(
    ("typed", "first", "last", "first_key"),
    [
        ("Henrik og Lone Larsen", "Henrik og Lone", "Larsen", "henrik og lone"),
        ("Henrik & Lone Larsen", "Henrik & Lone", "Larsen", "henrik og lone"),
        ("Henrik + Lone Larsen", "Henrik + Lone", "Larsen", "henrik og lone"),
        (
            "Jens Peter & Anne Marie Holm",
            "Jens Peter & Anne Marie",
            "Holm",
            "jens peter og anne marie",
        ),
        # two single names joined by "&" are a firm, not a couple
        ("Nielsen & Lauridsen", None, None, None),
    ],
)
def test_a_couples_given_names_are_the_first_name(
    typed: str, first: str | None, last: str | None, first_key: str | None
) -> None:
    """``Henrik & Lone Larsen`` had no first or last name while ``Henrik og Lone Larsen`` had: the
    comparison then knew neither the surname nor that Lone is one of the two."""
    row = _names(raw_name=[typed]).row(0, named=True)
    assert (row["first_name"], row["last_name"], row["first_name_key"]) == (first, last, first_key)


@pytest.mark.parametrize(
    ("typed", "name", "first", "last"),
    [
        ("Hansen, Jens", "Jens Hansen", "Jens", "Hansen"),
        ("Møller, Anne Marie", "Anne Marie Møller", "Anne Marie", "Møller"),
        # a town after the comma is where the customer is, not his given name
        ("Nordlys, Aarhus", "Nordlys, Aarhus", None, None),
        ("Nordlys, Aarhus C", "Nordlys, Aarhus C", None, None),
        ("Jensen, Viby", "Jensen, Viby", None, None),
        # a town that is a given name too is read as the given name
        ("Hansen, Tim", "Tim Hansen", "Tim", "Hansen"),
    ],
)
def test_a_town_after_a_comma_is_no_given_name(
    typed: str, name: str, first: str | None, last: str | None
) -> None:
    """``Nordlys, Aarhus`` was turned round into the person ``Aarhus Nordlys``, and that name went
    back to the CRM."""
    row = _names(raw_name=[typed]).row(0, named=True)
    assert (row["name"], row["first_name"], row["last_name"]) == (name, first, last)


@pytest.mark.parametrize(
    ("first", "last", "name", "given", "key"),
    [
        ("Dr. Hans-Peter", "Schaefer", "Dr. Hans-Peter Schaefer", "Hans-Peter", "hans peter"),
        ("Frau Dr. Anna", "Müller", "Frau Dr. Anna Müller", "Anna", "anna"),
        ("HERR KLAUS", "MÜLLER", "Herr Klaus Müller", "Klaus", "klaus"),
        ("Hr. Jens", "Hansen", "Hr. Jens Hansen", "Jens", "jens"),
        ("Fru", "Hansen", "Fru Hansen", None, None),  # a title alone names no one
        ("Herrmann", "Hansen", "Herrmann Hansen", "Herrmann", "herrmann"),
    ],
)
def test_a_title_in_the_first_name_column_is_no_first_name(
    first: str, last: str, name: str, given: str | None, key: str | None
) -> None:
    """``Dr. Hans-Peter`` and ``Hans-Peter`` at one address were two given names, so the
    household rule kept one person's two records apart; the name keeps the title."""
    row = _names(raw_first_name=[first], raw_last_name=[last]).row(0, named=True)
    assert (row["name"], row["first_name"], row["first_name_key"]) == (name, given, key)
    assert row["name_key"] == " ".join(part for part in (key, *_apply(fold, [last])) if part)


@pytest.mark.parametrize(
    ("typed", "first"),
    [("Herr Klaus Müller", "Klaus"), ("Frau Dr. Anna Müller", "Anna")],
)
def test_german_courtesy_titles_are_titles(typed: str, first: str) -> None:
    row = _names(raw_name=[typed]).row(0, named=True)
    assert (row["name"], row["first_name"], row["last_name"]) == (typed, first, "Müller")
    assert row["name_key"] == f"{first.lower()} mueller"


@pytest.mark.parametrize(
    ("typed", "form", "key"),
    [
        ("Madrid Vinos SL", "SL", "madrid vinos sl"),
        ("MADRID VINOS SL", "SL", "madrid vinos sl"),
        ("Genève Montres SA", "SA", "geneve montres sa"),
        ("Rue Belge SA", "SA", "rue belge sa"),
        ("Dupont S.A.", "SA", "dupont sa"),
        ("Milano Moda S.r.l.", "SRL", "milano moda"),
        ("Bruxelles Chocolat SPRL", "SPRL", "bruxelles chocolat"),
        ("Roma Moda S.p.A.", "SpA", "roma moda spa"),
        ("Warszawa Meble Sp. z o.o.", "Sp. z o.o.", "warszawa meble"),
        ("Długa Sp.z o.o.", "Sp. z o.o.", "dluga"),
        ("Tallinn IT OÜ", "OÜ", "tallinn it oue"),
        # a form that is a word of names too: a person, and the word stays in the key
        ("JOAO SA", None, "joao sa"),  # Sá typed in capitals without its accent
        ("Ana Sá", None, "ana sa"),
        ("Nordic Spa", None, "nordic spa"),  # a business, but no S.p.A.
    ],
)
def test_a_foreign_legal_form_at_the_end_makes_a_company(
    typed: str, form: str | None, key: str
) -> None:
    """``Madrid Vinos SL`` and ``Genève Montres SA`` were persons with first name ``Madrid
    Vinos`` and last name ``SL``; ``Warszawa Meble Sp. z o.o.`` a person without names."""
    row = _names(raw_name=[typed]).row(0, named=True)
    assert (row["legal_form"], row["name_key"]) == (form, key)
    assert _apply(legal_form_of, [typed]) == [form]
    if form is not None:
        assert (row["first_name"], row["last_name"]) == (None, None)


@pytest.mark.parametrize(
    ("typed", "first_key"),
    [
        ("JP Olsen", "j p"),
        ("HC Andersen", "h c"),
        ("JJ Hansen", "j j"),
        ("AC Hansen", "a c"),  # capitals in a name typed in mixed case
        ("JP OLSEN", "j p"),  # all in capitals, but no vowel
        ("J.P. Holm", "j p"),
        # Given names stay names, typed in capitals or not; in a name all in capitals ``AC``
        # cannot be told from one.
        ("Bo Hansen", "bo"),
        ("BO HANSEN", "bo"),
        ("IB Hansen", "ib"),
        ("AL Jensen", "al"),
        ("AC HANSEN", "ac"),
        ("Ole Olsen", "ole"),
    ],
)
def test_initials_typed_together_are_letters_of_their_own(typed: str, first_key: str) -> None:
    """``JP Olsen`` and ``Jens-Peter Olsen`` at one address, with one phone and e-mail, were two
    people: the first names ``jp`` and ``jens peter`` were different, where ``J.P.`` was an
    initial."""
    row = _names(raw_name=[typed]).row(0, named=True)
    assert row["first_name_key"] == first_key
