"""Phone numbers: corpora, the polars fast path against phonenumbers on 100k+ values, rules."""

from __future__ import annotations

import doctest
import functools
import random
import sys
import time

import phonenumbers
import polars as pl
import pytest

from datavask.cleansing import phones
from datavask.cleansing.phones import (
    DK_NUMBER_TYPES,
    normalise_phones,
    parse_phone,
    phone_region,
    split_extension,
)
from tests.cleansing.corpora import read_corpus


def _frame(**columns: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))


def test_doctests() -> None:
    result = doctest.testmod(phones)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("value", read_corpus("phone_valid"))
def test_valid_phone_corpus(value: str) -> None:
    out = normalise_phones(_frame(raw_phone=[value]))
    assert out["phone_e164"][0] is not None
    assert out["phone_numbers"][0].to_list() == parse_phone(value)
    assert out["flag_INVALID_PHONE"][0] is False


@pytest.mark.parametrize("value", read_corpus("phone_invalid"))
def test_invalid_phone_corpus(value: str) -> None:
    out = normalise_phones(_frame(raw_phone=[value]))
    assert out["phone_e164"][0] is None
    assert out["phone_numbers"][0].to_list() == []
    assert out["flag_INVALID_PHONE"][0] is True
    assert parse_phone(value) == []


@pytest.mark.parametrize(
    ("phone", "mobile", "country", "numbers", "extension", "flagged"),
    [
        ("tlf. 33 12 34 56 lok. 123", None, None, ["+4533123456"], "123", False),
        ("12 34 56 78", "(+45) 30405060", None, ["+4530405060"], None, True),
        ("20304050 / 30405060", "20304050", None, ["+4520304050", "+4530405060"], None, False),
        ("20304050 20304050 ext 3", None, None, ["+4520304050"], "3", False),
        (None, "30 40 50 60 ext 7", "DK", ["+4530405060"], "7", False),
        ("32 10 00", None, "Grønland", ["+299321000"], None, False),
        ("31 22 33", None, "Færøerne", ["+298312233"], None, False),
        ("08-123 456 78", None, "Sverige", ["+46812345678"], None, False),
        ("08-123 456 78", None, "SE", ["+46812345678"], None, False),
        ("08-123 456 78", None, None, [], None, True),
        ("n/a", None, None, [], None, True),
        # A slash inside one number (an American area code, a German one) does not cut it in two;
        # a slash between two numbers still parts them, and a lone area code is no number.
        ("310/246-1501", None, "US", ["+13102461501"], None, False),
        ("310/246-1501 ext 12", None, "USA", ["+13102461501"], "12", False),
        ("030/1234567", None, "DE", ["+49301234567"], None, False),
        ("310/246-1501; 213/938-1447", None, "US", ["+13102461501", "+12139381447"], None, False),
        ("2030/4050", None, None, ["+4520304050"], None, False),
        ("20304050/30405060", None, None, ["+4520304050", "+4530405060"], None, False),
        ("310/246-1501", None, None, [], None, True),
        (None, "00000000", None, [], None, True),
        ("", "   ", None, [], None, False),
        # a CRM's label left without its number is a blank field, no invalid number
        ("Tlf:", "Mobil.", None, [], None, False),
        ("Tlf: ", "mobil: 30 40 50 60", None, ["+4530405060"], None, False),
        ("Tlf: 1234", None, None, [], None, True),
    ],
)
def test_frame_rules(
    phone: str | None,
    mobile: str | None,
    country: str | None,
    numbers: list[str],
    extension: str | None,
    flagged: bool,
) -> None:
    out = normalise_phones(_frame(raw_phone=[phone], raw_mobile=[mobile], raw_country=[country]))
    assert out["phone_numbers"][0].to_list() == numbers
    assert out["phone_e164"][0] == (numbers[0] if numbers else None)
    assert out["phone_extension"][0] == extension
    assert out["flag_INVALID_PHONE"][0] is flagged


def test_missing_columns_count_as_null() -> None:
    out = normalise_phones(pl.DataFrame({"record_id": ["1", "2"]}))
    assert out.columns == [
        "record_id",
        "phone_e164",
        "phone_numbers",
        "phone_extension",
        "flag_INVALID_PHONE",
    ]
    assert out["phone_e164"].to_list() == [None, None]
    assert not out["flag_INVALID_PHONE"].any()
    assert out.schema["phone_numbers"] == pl.List(pl.String)


def test_default_region_reaches_the_parse() -> None:
    df = _frame(raw_phone=["08-123 456 78"])
    assert normalise_phones(df)["phone_e164"][0] is None
    assert normalise_phones(df, default_region="SE")["phone_e164"][0] == "+46812345678"


def test_region_names() -> None:
    assert phone_region("Danmark") == "DK"
    assert phone_region("grønland") == "GL"
    assert phone_region("FO") == "FO"
    assert phone_region(None, "SE") == "SE"
    assert phone_region("Mordor", "NO") == "NO"


def test_split_extension_needs_a_number_first() -> None:
    assert split_extension("x 20304050") == ("x 20304050", None)
    assert split_extension("20304050 #12") == ("20304050", "12")
    assert split_extension("20304050 lokal 1234") == ("20304050", "1234")


def test_whitespace_is_pythons() -> None:
    # The polars expressions split and strip at the characters Python's str.strip() removes.
    python = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    assert set(phones.PY_WHITESPACE) == python


def test_danish_ranges_are_phonenumbers_metadata() -> None:
    # Every eight-digit prefix class: the compiled pattern and phonenumbers decide the same.
    rng = random.Random(3)
    nationals = [f"{rng.randrange(10**8):08d}" for _ in range(20_000)]
    compiled = pl.Series(nationals).str.contains(DK_NUMBER_TYPES).to_list()
    for national, in_ranges in zip(nationals, compiled, strict=True):
        number = phonenumbers.parse("+45" + national, "DK")
        assert phonenumbers.is_valid_number(number) == (in_ranges and national[0] in "23456789"), (
            national
        )


# --- the fast path against the reference ------------------------------------------------------

_DK_DRESSES = (
    "{a}{b}{c}{d}",
    "{a} {b} {c} {d}",
    "{a}{b} {c}{d}",
    "{a}-{b}-{c}-{d}",
    "{a}.{b}.{c}.{d}",
    "+45{a}{b}{c}{d}",
    "+45 {a} {b} {c} {d}",
    "+45-{a}{b}{c}{d}",
    "0045 {a}{b}{c}{d}",
    "0045{a}{b}{c}{d}",
    "(+45) {a} {b} {c} {d}",
    "(0045) {a}{b}{c}{d}",
    "tlf. {a} {b} {c} {d}",
    "Tlf: {a}{b}{c}{d}",
    "tel:+45{a}{b}{c}{d}",
    "Tel. +45 {a} {b} {c} {d}",
    "Mobil: {a} {b} {c} {d}",
    " {a}{b}{c}{d} ",
    # the slow path's share: extensions, two numbers, odd spacing, country code without +
    "{a} {b} {c} {d} lok. 12",
    "{a}{b}{c}{d} ext 7",
    "{a}{b}{c}{d} / 30405060",
    "{a}{b}/{c}{d}",
    "{a}{b}/{c}{d} / {b}{c}{d}{a}",
    "{a}{b}{c}{d}, 20304050",
    "{a}{b}{c}{d} 30405060",
    "45{a}{b}{c}{d}",
    "+45 ({a}) {b} {c} {d}",
    "{a}  {b} {c} {d}",
    "{a}{b}{c}{d} mobil",
    # the edges of the rules that settle a part of a value in polars
    "+45 {a}{b}{c}",
    "+45 {a}{b}{c}{d}9",
    "+45 45{a}{b}{c}{d}",
    "+4545{a}{b}{c}{d}",
    "+45 00{a}{b}{c}{d}",
    "00{a}{b}{c}{d}",
    "0{a}{b}{c}{d}",
    "45{a}{b}{c}{d}9",
    "{a}{b}{c}{d} og {b}{c}{d}{a}",
    "{a}{b}{c}{d} ELLER {b}{c}{d}{a} lokal 3",
    "{a}{b}{c}{d} / {b}{c}{d}{a} ext 3; {a}{b}{c}{d} x 4",
    "{a}{b}{c}{d};{a}{b}{c}{d}",
    "{a}{b}{c}{d} {a}{b}{c}{d}",
    "{a}{b}{c}{d}\u2003/\u2003{b}{c}{d}{a}",
    "{a}{b}{c}{d}\x1c",
    "{a}{b}{c}{d} #\x1c12",
    "{a}{b}{c}{d}\x00{b}{c}{d}{a}",
    "kl. {a}",
    "{a}{b}{c}{d} / " + "9" * 260,
)
_FOREIGN = (
    "+46 8 {a}{b} {c}{d}",
    "+47 {a} {b} {c} {d}",
    "+49 30 {a}{b}{c}{d}",
    "+49 30/{a}{b}{c}{d}",
    "+1 {b}{c}/{d}{a}",
    "+44 20 {a}{b} {c}{d}",
    "+299 {b} {c} {d}",
    "+298 {b} {c} {d}",
    "00 46 {a}{b}{c}{d}",
)


def _generated_phones(n: int, seed: int) -> tuple[list[str | None], list[str | None]]:
    """``n`` (value, country) pairs: Danish numbers in every dress, foreign, invalid, blank."""
    rng = random.Random(seed)
    values: list[str | None] = []
    countries: list[str | None] = []
    for _ in range(n):
        # Mostly plausible Danish numbers, some from unused ranges (0xxx, 1xxx, 25xx…).
        first = rng.choice("2345678923456789" + "01")
        national = first + f"{rng.randrange(10**7):07d}"
        a, b, c, d = national[0:2], national[2:4], national[4:6], national[6:8]
        roll = rng.random()
        country: str | None = rng.choice((None, None, None, "DK", "Danmark", "dk"))
        if roll < 0.80:
            value: str | None = rng.choice(_DK_DRESSES).format(a=a, b=b, c=c, d=d)
        elif roll < 0.87:
            value = rng.choice(_FOREIGN).format(a=a, b=b, c=c, d=d)
        elif roll < 0.90:
            value = rng.choice(("{b} {c} {d}", "{b}{c}{d}")).format(b=b, c=c, d=d)
            country = rng.choice(("Grønland", "GL", "Færøerne", "FO"))
        elif roll < 0.93:
            value = national[: rng.choice((6, 7))] if rng.random() < 0.5 else national + "1"
        elif roll < 0.95:
            value = rng.choice(("", " ", "-", "n/a", "ingen", None, None))
        elif roll < 0.97:
            value = national.replace(rng.choice(national), rng.choice("OoIl"), 1)
        elif roll < 0.98:
            value = national.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        else:
            value = f"+{rng.randrange(1, 999)} {national}"
        values.append(value)
        countries.append(country)
    return values, countries


@pytest.mark.parametrize(
    "n",
    [20_000, pytest.param(110_000, marks=pytest.mark.slow)],  # 110k: minutes on a loaded machine
)
def test_fast_path_and_phonenumbers_agree_on_generated_numbers(
    n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    values, countries = _generated_phones(n, seed=20240607)
    # phonenumbers' verdict on a part is a pure function of (part, region): both sides ask it
    # once per distinct pair, so what the frame path already asked the reference need not.
    searched = functools.cache(phones.numbers_in_part)
    slow_calls = 0

    def counting(part: str, region: str) -> list[str]:
        nonlocal slow_calls
        slow_calls += 1
        return searched(part, region)

    monkeypatch.setattr(phones, "numbers_in_part", counting)
    started = time.perf_counter()
    out = normalise_phones(_frame(raw_phone=values, raw_country=countries))
    frame_seconds = time.perf_counter() - started
    frame_calls = slow_calls

    expected = [parse_phone(v, phone_region(c)) for v, c in zip(values, countries, strict=True)]
    got = out["phone_numbers"].to_list()
    mismatches = [
        (v, c, g, e) for v, c, g, e in zip(values, countries, got, expected, strict=True) if g != e
    ]
    assert mismatches == [], mismatches[:20]
    assert out["phone_e164"].to_list() == [e[0] if e else None for e in expected]

    # Both outcomes and both paths are exercised, and the fast path carries the ordinary numbers.
    n_valid = sum(bool(e) for e in expected)
    assert 0.5 * n < n_valid < 0.9 * n
    assert 0.05 * n < frame_calls < 0.6 * n, frame_calls
    assert (
        frame_seconds < 60
    )  # a guard against pathological slowness; speed is bench_normalise's job


def test_fast_path_settles_plain_danish_numbers_without_phonenumbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def forbidden(value: str | None, region: str = "DK") -> tuple[list[str], str | None]:
        raise AssertionError(f"slow path called for {value!r}")

    def forbidden_part(part: str, region: str) -> list[str]:
        raise AssertionError(f"slow path called for {part!r}")

    monkeypatch.setattr(phones, "parse_phone_with_extension", forbidden)
    monkeypatch.setattr(phones, "numbers_in_part", forbidden_part)
    out = normalise_phones(
        _frame(
            raw_phone=[
                "20 30 40 50",
                "+45 33-12-34-56",
                "(0045) 20304050",
                "12345678",
                "tlf. 8020 3040",
            ],
            raw_country=[None, "DK", "Danmark", None, "dk"],
        )
    )
    assert out["phone_e164"].to_list() == [
        "+4520304050",
        "+4533123456",
        "+4520304050",
        None,
        "+4580203040",
    ]
    assert out["flag_INVALID_PHONE"].to_list() == [False, False, False, True, False]


# ---------------------------------------------------------------- foreign customers (issue 10)


def _customers(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    """Canonical frames through the whole normaliser: the country may come from the address."""
    from datavask.cleansing.normalise import normalise
    from datavask.cleansing.schema import CANONICAL_FIELDS

    columns = [f"raw_{f}" for f in CANONICAL_FIELDS if f != "record_id"]
    frame = pl.DataFrame(
        [{c: row.get(c) for c in columns} for row in rows], schema=dict.fromkeys(columns, pl.String)
    )
    return normalise(
        frame.with_columns(
            record_id=pl.int_range(pl.len()).cast(pl.String),
            source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        )
    )


@pytest.mark.parametrize(
    ("country", "written", "e164"),
    [
        ("Sverige", "08-123 456 78", "+46812345678"),
        ("Sweden", "070-123 45 67", "+46701234567"),
        ("Norge", "22 12 34 56", "+4722123456"),
        ("NO", "412 34 567", "+4741234567"),
        ("Tyskland", "030 1234567", "+49301234567"),
        ("Deutschland", "0151 23456789", "+4915123456789"),
        ("Storbritannien", "020 7946 0958", "+442079460958"),
        ("United Kingdom", "07911 123456", "+447911123456"),
    ],
)
def test_foreign_phone_by_country_column(country: str, written: str, e164: str) -> None:
    out = _customers([{"raw_name": "Kunde", "raw_phone": written, "raw_country": country}])
    assert out["phone_e164"].to_list() == [e164]
    assert out["flag_INVALID_PHONE"].to_list() == [False]


@pytest.mark.parametrize(
    ("address", "written", "e164", "country"),
    [
        ("Storgatan 1, 111 22 Stockholm, Sverige", "070-123 45 67", "+46701234567", "SE"),
        ("Karl Johans gate 1, 0154 Oslo, Norge", "412 34 567", "+4741234567", "NO"),
        ("Hauptstraße 5, 10115 Berlin, Deutschland", "0151 23456789", "+4915123456789", "DE"),
        ("2 Main Road|SW1A 1AA|London", "07911 123456", "+447911123456", "GB"),
        ("2 Main Road|TQ13 8DF|Ashburton", "01364 652000", "+441364652000", "GB"),
    ],
)
def test_foreign_phone_by_the_address(address: str, written: str, e164: str, country: str) -> None:
    """No country column: the address names the country (its last line, or a British postcode)."""
    line, code, city = ([*address.split("|"), None, None])[:3]
    out = _customers(
        [
            {
                "raw_name": "Kunde",
                "raw_address": line,
                "raw_postal_code": code,
                "raw_city": city,
                "raw_phone": written,
            }
        ]
    )
    assert out["country"].to_list() == [country]
    assert out["phone_e164"].to_list() == [e164]
    assert out["flag_INVALID_PHONE"].to_list() == [False]


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("0049 30 1234567", ["+49301234567"]),  # the international prefix says Germany
        ("+49 30 1234567", ["+49301234567"]),
        ("030 1234567", []),  # ten digits: cannot be Danish, and no country says German
        ("030 12345678", []),
        ("0151 23456789", []),
        ("49 30 1234567", []),  # not "+45 4930…" either
    ],
)
def test_a_german_number_without_a_country_is_never_made_danish(
    written: str, e164: list[str]
) -> None:
    """A record with no country is read as Danish, but a number that cannot be Danish is not
    forced into +45: it is flagged and kept as written (``src_``), never given a wrong number."""
    out = _customers([{"raw_name": "Kunde", "raw_phone": written}])
    assert out["phone_numbers"].to_list() == [e164]
    assert out["flag_INVALID_PHONE"].to_list() == [not e164]
    assert not any(n.startswith("+45") for n in out["phone_numbers"][0])


@pytest.mark.parametrize("code", ["D-80331", "DE-80331", "d-80331"])
def test_a_german_postal_prefix_makes_the_number_german(code: str) -> None:
    """``D-80331 München`` names Germany as ``SE-211 20`` names Sweden: ``089 12345678`` is
    Munich's number, not an invalid Danish one."""
    out = _customers(
        [
            {
                "raw_name": "Kunde",
                "raw_address": "Hauptstrasse 7",
                "raw_postal_code": code,
                "raw_city": "München",
                "raw_phone": "089 12345678",
            }
        ]
    )
    assert out["country"].to_list() == ["DE"]
    assert out["phone_e164"].to_list() == ["+498912345678"]
    assert out["flag_INVALID_PHONE"].to_list() == [False]


def test_a_danish_number_in_a_foreign_record_is_kept() -> None:
    """No British number, but a Danish one (a contact in Denmark): kept, not flagged."""
    out = _customers([{"raw_name": "Kunde", "raw_phone": "20 30 40 50", "raw_country": "UK"}])
    assert out["phone_e164"].to_list() == ["+4520304050"]
    assert out["flag_INVALID_PHONE"].to_list() == [False]


def test_a_german_address_without_a_country_makes_the_number_german() -> None:
    """``Leopoldstraße 12, 80802 München`` with no country: the street word and the five-digit
    code say Germany, so ``089 1234567`` is Munich's number, not an invalid Danish one."""
    out = _customers(
        [
            {
                "raw_name": "Klaus Müller",
                "raw_street": "Leopoldstraße 12",
                "raw_postal_code": "80802",
                "raw_city": "München",
                "raw_phone": "089 1234567",
            }
        ]
    )
    assert out["country"].to_list() == ["DE"]
    assert out["phone_e164"].to_list() == ["+49891234567"]
    assert out["flag_INVALID_PHONE"].to_list() == [False]


# Twelve American restaurants and their numbers as the Fodors guide writes them.
_AMERICAN = [
    ("435 S. La Cienega Blvd.", "310/246-1501"),
    ("12224 Ventura Blvd.", "818-762-1221"),
    ("12 Main St.", "213 938 1447"),
    ("854 7th Ave.", "212/765-3112"),
    ("156 2nd Ave.", "212-677-5588"),
    ("21 W. 52nd St.", "212-582-7200"),
    ("1 Ritz Carlton Dr.", "404 659 0400"),
    ("300 Main St.", "415-673-1888"),
    ("9 E. 75th St.", "212-879-4700"),
    ("70 Pine St.", "617-536-5700"),
    ("190 Columbus Ave.", "312-787-3345"),
    ("44 Ocean Ave.", "702-731-7110"),
]


def test_a_file_whose_phones_are_american_is_american() -> None:
    """An export of American customers with no country column: most of its numbers are ten
    digits, no Danish number's shape, and valid in the US. The file is American, so its numbers
    are read as American ones instead of being flagged as broken Danish numbers; a Danish
    customer among them (code and city of one Danish district) is still Danish."""
    rows = [{"raw_name": f"Kunde {i}", "raw_address": a, "raw_phone": p} for i, (a, p) in
            enumerate(_AMERICAN)]  # fmt: skip
    rows.append({"raw_name": "Hansen Byg ApS", "raw_address": "Vestergade 1",
                 "raw_postal_code": "8000", "raw_city": "Aarhus C", "raw_phone": "20304050"})  # fmt: skip
    out = _customers(rows)
    assert out["country"].to_list() == ["US"] * 12 + ["DK"]
    assert out["phone_e164"].to_list()[:3] == ["+13102461501", "+18187621221", "+12139381447"]
    assert out["phone_e164"][12] == "+4520304050"
    assert not out["flag_INVALID_PHONE"].any()


def test_a_file_of_customers_of_several_countries_has_no_one_country() -> None:
    """An export of Swedish, German and Norwegian customers without a country column: most of its
    numbers are valid Swedish ones, but its street words and ``+47`` name other countries too.
    Read as Swedish, Hamburg's ``040 123456`` was Malmö's ``+4640123456`` and the two customers
    one number; no file country is read, so the German number is kept as written."""
    swedish = [
        ("Storgatan 12", "114 55", "Stockholm", "08-123 456 78"),
        ("Södergatan 3", "211 34", "Malmö", "040-12 34 56"),
        ("Kungsgatan 3", "411 19", "Göteborg", "031-711 22 33"),
        ("Drottninggatan 2", "753 10", "Uppsala", "018-12 34 56"),
        ("Stora Södergatan 8", "222 23", "Lund", "046-12 34 56"),
        ("Drottninggatan 1", "252 21", "Helsingborg", "042-10 50 00"),
    ]
    german = [
        ("Friedrichstraße 100", "10117", "Berlin", "030 1234567"),
        ("Jungfernstieg 1", "20354", "Hamburg", "040 123456"),
        ("Holstenstraße 5", "24103", "Kiel", "0431 987654"),
        ("Breite Straße 10", "23552", "Lübeck", "0451 123456"),
        ("Am Markt 1", "28195", "Bremen", "0421 123456"),
    ]
    norwegian = [("Karl Johans gate 22", "0154", "Oslo", "+47 22 00 00 00")]
    rows = [
        {"raw_name": f"Kunde {i}", "raw_address": a, "raw_postal_code": c, "raw_city": t,
         "raw_phone": p}
        for i, (a, c, t, p) in enumerate(swedish + german + norwegian)
    ]  # fmt: skip
    out = _customers(rows)
    countries = out["country"].to_list()
    assert countries[:6] == ["SE"] * 6
    assert countries[6] == countries[8] == countries[9] == "DE"
    assert countries[7] is None  # Hamburg: foreign, and nothing names its country
    assert countries[11] == "NO"
    e164 = out["phone_e164"].to_list()
    assert e164[1] == "+4640123456"
    assert e164[7] != "+4640123456"
    assert e164[6] == "+49301234567"


def test_local_numbers_or_a_danish_majority_decide_no_file_country() -> None:
    """Seven-digit local numbers (``386-5286``, no area code) are valid in too many countries to
    name one; and a Danish file with a few foreign numbers stays Danish."""
    sites = [
        {"raw_name": f"Site {i}", "raw_address": f"{i} Main St.", "raw_phone": f"386-52{i:02d}"}
        for i in range(20)
    ]
    local = _customers(sites)
    assert set(local["country"].to_list()) == {"DK"}  # as any file without a country says
    danish = _customers(
        [{"raw_name": f"Kunde {i}", "raw_phone": f"2030{i:04d}"} for i in range(15)]
        + [{"raw_name": f"Customer {i}", "raw_phone": p} for i, (_, p) in enumerate(_AMERICAN)]
    )
    assert set(danish["country"].to_list()) == {"DK"}
    assert danish["flag_INVALID_PHONE"].sum() == 12


@pytest.mark.parametrize("written", ["+45 (0) 20304050", "+45(0)20 30 40 50", "0045 (0) 20304050"])
def test_a_trunk_zero_in_brackets_after_the_country_code_is_no_digit(written: str) -> None:
    """The international form's "(0)" is written out of habit; Denmark has no trunk prefix, so
    read as a digit it made every such number invalid."""
    assert parse_phone(written) == ["+4520304050"]
    frame = pl.DataFrame({"raw_phone": [written], "raw_mobile": [None], "raw_country": [None]})
    assert normalise_phones(frame)["phone_e164"].to_list() == ["+4520304050"]


# ---------------------------------------------------------------- fax numbers, shared digits


@pytest.mark.parametrize(
    ("written", "numbers"),
    [
        ("Fax 75 12 12 13, tlf 75 12 12 12", ["+4575121212"]),
        ("Tlf. 86 12 12 12, fax 86 12 12 13", ["+4586121212"]),
        ("Tlf. 86 12 12 12 Fax 86 12 12 13", ["+4586121212"]),
        ("T: 86 12 12 12 F: 86 12 12 13", ["+4586121212"]),
        ("Telefax: 86121213; mobil 20304050", ["+4520304050"]),
        ("faxnr. 86121213 eller 20304050", ["+4520304050"]),
        ("86 12 12 13 (fax)", []),
        # one number for both is a phone
        ("tlf/fax 86 12 12 12", ["+4586121212"]),
        # Faxe is a town, not a fax
        ("Faxe 20 30 40 50", ["+4520304050"]),
    ],
)
def test_a_fax_number_is_no_phone_number(written: str, numbers: list[str]) -> None:
    """``Fax 75 12 12 13, tlf 75 12 12 12`` made the fax the customer's phone: the worklist and
    collection would call a fax machine. A number labelled as a fax's is no phone number."""
    assert parse_phone(written) == numbers
    out = normalise_phones(_frame(raw_phone=[written], raw_mobile=[written]))
    assert out["phone_numbers"][0].to_list() == numbers
    assert out["phone_e164"][0] == (numbers[0] if numbers else None)
    assert out["flag_INVALID_PHONE"][0] is False


def test_a_field_holding_only_a_fax_is_no_invalid_phone() -> None:
    out = normalise_phones(_frame(raw_phone=["Fax: 86 12 12 13"], raw_mobile=["20304050"]))
    assert out["phone_numbers"][0].to_list() == ["+4520304050"]
    assert out["flag_INVALID_PHONE"][0] is False


@pytest.mark.parametrize(
    ("written", "numbers"),
    [
        ("20304050/51", ["+4520304050", "+4520304051"]),
        ("20 30 40 50 / 51 / 52", ["+4520304050", "+4520304051", "+4520304052"]),
        ("tlf. 86 12 12 12/3", ["+4586121212", "+4586121213"]),
        # three digits are no last digits: an extension or a number of their own
        ("86 12 12 12/123", ["+4586121212"]),
        ("2030/4050", ["+4520304050"]),
    ],
)
def test_last_digits_after_a_slash_are_the_next_number(written: str, numbers: list[str]) -> None:
    """``20304050/51`` is how Danish firms write two lines; only the first was kept."""
    assert parse_phone(written) == numbers
    out = normalise_phones(_frame(raw_phone=[written]))
    assert out["phone_numbers"][0].to_list() == numbers
    assert out["flag_INVALID_PHONE"][0] is False


def test_fax_and_slash_rules_agree_on_both_paths() -> None:
    """The frame path (fax parts dropped in polars) and the reference read the same numbers."""
    rng = random.Random(42)
    dresses = (
        "Fax {a} tlf {b}",
        "tlf {a}, fax {b}",
        "T: {a} F: {b}",
        "F: {a} M: {b}",
        "{a} (fax)",
        "telefax {a}\n{b}",
        "{a}/{c}",
        "{a} / {c} og fax {b}",
        "Fax\x00{a}, {b}",
        "fax {a} fax {b}",
        "tel/fax {a}",
    )
    values, countries = [], []
    for _ in range(2_000):
        a, b = (f"{rng.choice('23456789')}{rng.randrange(10**7):07d}" for _ in range(2))
        values.append(rng.choice(dresses).format(a=a, b=b, c=rng.randrange(100)))
        countries.append(rng.choice((None, "DK", "Danmark")))
    out = normalise_phones(_frame(raw_phone=values, raw_country=countries))
    expected = [parse_phone(v, phone_region(c)) for v, c in zip(values, countries, strict=True)]
    assert out["phone_numbers"].to_list() == expected
