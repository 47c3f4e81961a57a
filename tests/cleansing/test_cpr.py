"""CPR masking: dates agree with python-stdnum, context decides bare numbers, no false hits."""

from __future__ import annotations

import datetime
import doctest
import random

import polars as pl
import pytest
from stdnum.dk import cpr as stdnum_cpr
from stdnum.exceptions import ValidationError

from datavask.cleansing import cpr
from datavask.cleansing.cpr import MASK, mask_cpr, mask_text

# Synthetic numbers only; none of them belongs to a person as far as a test can know.


def test_doctests() -> None:
    result = doctest.testmod(cpr)
    assert result.attempted > 0
    assert result.failed == 0


def _stdnum_date_is_valid(number: str) -> bool:
    try:
        stdnum_cpr.get_birth_date(number)
    except ValidationError:
        return False
    return True


def test_date_rule_agrees_with_stdnum_on_every_day_and_century() -> None:
    rng = random.Random(11)
    numbers = []
    for _ in range(60_000):
        day, month, year = rng.randrange(0, 33), rng.randrange(0, 14), rng.randrange(100)
        numbers.append(
            f"{day:02d}{month:02d}{year:02d}{rng.randrange(10)}{rng.randrange(1000):03d}"
        )
    # Every 29 February with every century digit, the leap-year corner.
    numbers += [f"2902{year:02d}{digit}123" for year in range(100) for digit in range(10)]
    pattern = f"^{cpr.CPR_ANY}$"
    got = pl.Series(numbers).str.contains(pattern).to_list()
    expected = [_stdnum_date_is_valid(n) for n in numbers]
    assert got == expected
    assert 0.2 < sum(expected) / len(expected) < 0.9


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # A cell alone is a column whose every ten-digit number is a CPR number.
        ("0101901234", MASK),
        ("010190 1234", MASK),
        ("ring 0101901234", "ring 0101901234"),  # bare inside text: needs a word or the column
        ("cpr 0101901234", f"cpr {MASK}"),
        ("CPR-nr.: 010190 1234", f"CPR-nr.: {MASK}"),
        ("Personnummer 0101901234", f"Personnummer {MASK}"),
        ("person nr 010190-1234", f"person nr {MASK}"),
        ("010190-1234", MASK),
        ("Jens Hansen 010190-1234 ring efter 16", f"Jens Hansen {MASK} ring efter 16"),
        ("(010190-1234)", f"({MASK})"),
        ("010190–1234", MASK),  # en dash
        ("cpr: 010190-1234,020290-1234;030390-1234", f"cpr: {MASK},{MASK};{MASK}"),
        ("010190-1234,020290-1234", f"{MASK},{MASK}"),
        ("290200-4321", MASK),  # 29 Feb 2000
        # The one-space form on its own, as the dashed one (before: left in a note unless the
        # cell said "cpr"), and the short keyword p-nr (before: only cpr/personnummer).
        ("Ring til kunden, 031275 1235 efter 16", f"Ring til kunden, {MASK} efter 16"),
        ("(031275\u00a01235)", f"({MASK})"),
        ("p-nr 0312751235", f"p-nr {MASK}"),
        ("P.nr.: 0312751235", f"P.nr.: {MASK}"),
        ("pnr 03 12 75 12 35", f"pnr {MASK}"),
        # Not CPR numbers.
        ("290200-1234", "290200-1234"),  # 29 Feb 1900
        ("310490-1234", "310490-1234"),  # 31 April
        ("ORD-240115-0001", "ORD-240115-0001"),
        ("faktura 240115-0001/2", "faktura 240115-0001/2"),
        ("20304050", "20304050"),
        ("+45 20 30 40 50", "+45 20 30 40 50"),
        ("4520304050", "4520304050"),
        ("DK13585628", "DK13585628"),
        ("ean 5790000000005", "ean 5790000000005"),
        ("cpr 5790000000005", "cpr 5790000000005"),
        ("01-01-1990", "01-01-1990"),
        ("01011990", "01011990"),
        ("født 01.01.90 kl. 1234", "født 01.01.90 kl. 1234"),
        ("12010190-12345", "12010190-12345"),
        ("45 031275 1235", "45 031275 1235"),  # one space from other digits: groups of a number
        ("031275 1235 12", "031275 1235 12"),
        ("ab031275 1235", "ab031275 1235"),
        ("Snpnr 0312751235", "Snpnr 0312751235"),  # p-nr is a word of its own
        ("", ""),
    ],
)
def test_a_cell_on_its_own(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_none_stays_none() -> None:
    assert mask_text(None) is None


def _birthdays(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    start = datetime.date(1930, 1, 1)
    out = []
    for _ in range(n):
        day = start + datetime.timedelta(days=rng.randrange(25_000))
        century_digit = rng.choice("0123") if day.year < 2000 else "4"
        out.append(f"{day:%d%m%y}{century_digit}{rng.randrange(1000):03d}")
    return out


def test_a_column_of_bare_cpr_numbers_is_masked() -> None:
    numbers = _birthdays(500, seed=1)
    numbers[3] = "3102901234"  # a typo among them does not change what the column is
    df = pl.DataFrame({"src_Kundenr": numbers, "raw_name": ["Jens"] * 500})
    out = mask_cpr(df)
    assert (out["src_Kundenr"] == MASK).sum() == 499
    assert out["src_Kundenr"][3] == "3102901234"
    assert out["flag_CPR_IN_DATA"].sum() == 499
    assert out["raw_name"].to_list() == ["Jens"] * 500


def test_a_column_named_cpr_is_masked_whatever_its_share() -> None:
    df = pl.DataFrame({"src_CPR-nr": ["0101901234", "ukendt", "1234567890", None]})
    out = mask_cpr(df)
    assert out["src_CPR-nr"].to_list() == [MASK, "ukendt", "1234567890", None]
    assert out["flag_CPR_IN_DATA"].to_list() == [True, False, False, False]


def test_ten_digit_ids_are_not_masked() -> None:
    rng = random.Random(5)
    n = 5_000
    random_ids = [f"{rng.randrange(10**10):010d}" for _ in range(n)]
    # Order numbers YYMMDDNNNN: every one "is" a valid date, but the day part is the year.
    dated_orders = [
        f"{rng.choice((23, 24, 25))}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
        f"{rng.randrange(10_000):04d}"
        for _ in range(n)
    ]
    epoch_seconds = [str(rng.randrange(1_600_000_000, 1_800_000_000)) for _ in range(n)]
    phones_with_cc = [f"45{rng.randrange(20_000_000, 99_999_999)}" for _ in range(n)]
    hyphen_orders = [f"{o[:6]}-{o[6:]}" for o in dated_orders]
    spaced_orders = [f"{o[:6]} {o[6:]}" for o in dated_orders]
    df = pl.DataFrame(
        {
            "src_Ordrenr": dated_orders,
            "src_Id": random_ids,
            "src_Opdateret": epoch_seconds,
            "src_Telefon": phones_with_cc,
            "src_Bilag": hyphen_orders,
            "src_Sag": spaced_orders,
        }
    )
    out = mask_cpr(df)
    assert out.drop("flag_CPR_IN_DATA").equals(df)
    assert not out["flag_CPR_IN_DATA"].any()


def test_placeholder_numbers_do_not_make_a_phone_column_an_id_column() -> None:
    phones = ["20 30 40 50"] * 500 + ["1234567890"] * 30 + [f"{rng}" for rng in range(10)]
    phones += ["080478-2358", "190310-8360"]
    out = mask_cpr(pl.DataFrame({"src_Telefon": phones}))
    assert out["src_Telefon"].to_list()[-2:] == [MASK, MASK]
    assert out["flag_CPR_IN_DATA"].sum() == 2


def test_a_named_cpr_in_an_id_column_is_still_masked() -> None:
    rng = random.Random(6)
    ids = [f"{rng.randrange(10**10):010d}" for _ in range(1_000)]
    ids[10] = "cpr 0101901234"
    out = mask_cpr(pl.DataFrame({"src_Id": ids}))
    assert out["src_Id"][10] == f"cpr {MASK}"
    assert out["flag_CPR_IN_DATA"].sum() == 1


def test_every_string_column_is_masked_and_others_are_untouched() -> None:
    df = pl.DataFrame(
        {
            "record_id": ["1", "2"],
            "source_row": pl.Series([1, 2], dtype=pl.Int64),
            "raw_name": ["Jens Hansen 010190-1234", "Hansen Byg ApS"],
            "src_Navn": ["Jens Hansen 010190-1234", "Hansen Byg ApS"],
            "src_Note": [None, "cpr 0202021234"],
            "amount": [1.0, 2.0],
        }
    )
    out = mask_cpr(df)
    assert out["raw_name"].to_list() == [f"Jens Hansen {MASK}", "Hansen Byg ApS"]
    assert out["src_Navn"].to_list() == [f"Jens Hansen {MASK}", "Hansen Byg ApS"]
    assert out["src_Note"].to_list() == [None, f"cpr {MASK}"]
    assert out["flag_CPR_IN_DATA"].to_list() == [True, True]
    assert out.columns == [*df.columns, "flag_CPR_IN_DATA"]
    assert out.select("record_id", "source_row", "amount").equals(
        df.select("record_id", "source_row", "amount")
    )


def test_frame_without_text_or_numbers() -> None:
    out = mask_cpr(pl.DataFrame({"raw_name": ["A", None], "n": [1, 2]}))
    assert out["flag_CPR_IN_DATA"].to_list() == [False, False]
    assert mask_cpr(pl.DataFrame({"n": []})).columns == ["n", "flag_CPR_IN_DATA"]


def test_masked_text_holds_no_digit_of_the_number() -> None:
    numbers = _birthdays(2_000, seed=9)
    texts = [f"Kunde {n[:6]}-{n[6:]} ringede" for n in numbers]
    out = mask_cpr(pl.DataFrame({"src_Note": texts}))
    assert out["src_Note"].to_list() == [f"Kunde {MASK} ringede"] * len(numbers)


def test_the_share_of_ids_counts_every_filled_cell() -> None:
    # 25 ten-digit ids among a thousand notes do not make the notes an id column, so the
    # hyphenated CPR number in it is masked; judged on the rows with numbers alone, they would.
    rng = random.Random(7)
    notes = ["ring tilbage"] * 1_000 + [f"{rng.randrange(10**10):010d}" for _ in range(25)]
    notes.append("Kunde 010190-1234")
    out = mask_cpr(pl.DataFrame({"src_Note": notes}))
    assert out["src_Note"][-1] == f"Kunde {MASK}"
    assert out["src_Note"].to_list()[:-1] == notes[:-1]
    assert out["flag_CPR_IN_DATA"].sum() == 1


def test_a_keyword_in_another_cell_masks_nothing() -> None:
    df = pl.DataFrame({"src_Note": ["cpr oplyst ved opringning", "ordre 0101901234", "Jens"]})
    out = mask_cpr(df)
    assert out.drop("flag_CPR_IN_DATA").equals(df)
    assert not out["flag_CPR_IN_DATA"].any()


def test_a_foreign_customers_own_phone_number_is_no_cpr_number() -> None:
    """A Swedish mobile ``0701234567`` and a Berlin line ``0301234567`` have a CPR number's shape
    (7 January 1923, 3 January 1923). In the phone field of a record whose country column names
    Sweden or Germany each is one valid number of that country, and stays, in the input column it
    was read from as well; without a foreign country the same cell is masked."""
    df = pl.DataFrame(
        {
            "raw_phone": ["0701234567", "0301234567", "0701234567", "0701234567", "0301234567"],
            "src_Telefon": [" 0701234567", "0301234567", "0701234567", "0701234567", "0301234567"],
            "raw_country": ["Sverige", "DE", "Danmark", None, "Norge"],
            "src_CPR": ["0701234567", None, None, None, None],
        }
    )
    out = mask_cpr(df)
    # Sweden and Germany keep their numbers; Denmark, no country and a number Norway has no
    # such number as (eight digits there) are masked.
    assert out["raw_phone"].to_list() == ["0701234567", "0301234567", MASK, MASK, MASK]
    assert out["src_Telefon"].to_list() == [" 0701234567", "0301234567", MASK, MASK, MASK]
    assert out["src_CPR"].to_list() == [MASK, None, None, None, None]  # named CPR: masked
    assert out["flag_CPR_IN_DATA"].to_list() == [True, False, True, True, True]


def test_a_cpr_number_in_a_phone_field_is_masked_whatever_else_the_column_holds() -> None:
    """Before: one number with the country code written (``4520304051``) made the phone column no
    CPR column, and ``0101901234`` stayed in records, report and re-import."""
    df = pl.DataFrame(
        {
            "raw_phone": ["20304050", "4520304051", "0101901234"],
            "src_Telefon": ["20304050", "4520304051", "0101901234"],
        }
    )
    out = mask_cpr(df, person_text=frozenset({"raw_phone", "src_Telefon"}))
    assert out["raw_phone"].to_list() == ["20304050", "4520304051", MASK]
    assert out["src_Telefon"].to_list() == ["20304050", "4520304051", MASK]
    assert mask_cpr(df.select("raw_phone"))["raw_phone"].to_list()[2] == MASK


def test_a_cpr_number_in_a_foreign_records_name_is_still_masked() -> None:
    df = pl.DataFrame(
        {
            "raw_name": ["Sven Berg 0701234567"],
            "raw_phone": ["0701234567"],
            "raw_country": ["SE"],
        }
    )
    out = mask_cpr(df)
    assert out["raw_name"].to_list() == [f"Sven Berg {MASK}"]
    assert out["raw_phone"].to_list() == ["0701234567"]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("personnr 23.05.67-1235", f"personnr {MASK}"),
        ("født 29.02.00-4321, ring efter 16", f"født {MASK}, ring efter 16"),
        ("29.02.00-1234", "29.02.00-1234"),  # 1900 had no 29 February
        ("faktura 31.02.23-0042", "faktura 31.02.23-0042"),  # no such date
        ("møde 01.01.2024-1234", "møde 01.01.2024-1234"),  # a four-digit year
    ],
)
def test_a_birth_date_written_with_dots_before_the_serial(text: str, masked: str) -> None:
    assert mask_text(text) == masked
    frame = mask_cpr(pl.DataFrame({"src_Note": [text, "god kunde"]}))
    assert frame["src_Note"].to_list() == [masked, "god kunde"]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("cpr 03 12 75 12 35", f"cpr {MASK}"),
        ("CPR: 03.12.75.1235", f"CPR: {MASK}"),
        ("personnr 03.12.75 1235.", f"personnr {MASK}."),
        ("født 29 02 00 41 23", f"født {MASK}"),  # 29 February 2000
        ("cpr 03 12 75 12 35, tlf 20 30 40 50", f"cpr {MASK}, tlf 20 30 40 50"),
        ("cpr: 03 12 75 12 35,04 12 75 12 35", f"cpr: {MASK},{MASK}"),
        # Not CPR numbers: a phone number is eight digits, a group must not run on.
        ("cpr oplyst, tlf 20 30 40 50", "cpr oplyst, tlf 20 30 40 50"),
        ("cpr 45 03 12 75 12 35", "cpr 45 03 12 75 12 35"),
        ("cpr 03 12 75 12 35 20", "cpr 03 12 75 12 35 20"),
        ("født 01.01.1990 12:00", "født 01.01.1990 12:00"),  # a date and a time
        ("født 29 02 00 12 34", "født 29 02 00 12 34"),  # 1900 had no 29 February
        ("ring 03 12 75 12 35", "ring 03 12 75 12 35"),  # grouped inside text: needs a word
    ],
)
def test_a_cpr_number_written_in_digit_groups_in_a_cell_that_names_it(
    text: str, masked: str
) -> None:
    assert mask_text(text) == masked
    frame = mask_cpr(pl.DataFrame({"src_Note": [text, "god kunde"]}))
    assert frame["src_Note"].to_list() == [masked, "god kunde"]


def test_a_column_named_cpr_masks_digit_groups_and_a_lost_leading_zero() -> None:
    """A spreadsheet keeps ``0101901234`` typed into a number cell as ``101901234``; a form's
    boxes are copied out as ``03 12 75 12 35``. In a column named for CPR numbers both are one."""
    cells = ["101901234", " 101901234 ", "03 12 75 12 35", "03.12.75.1235", "0312751235",
             "123456789", "1019012345", "ukendt", None]  # fmt: skip
    out = mask_cpr(pl.DataFrame({"src_CPR-nr": cells, "src_Kundenr": cells}))
    assert out["src_CPR-nr"].to_list() == [MASK, MASK, MASK, MASK, MASK,
                                           "123456789", "1019012345", "ukendt", None]  # fmt: skip
    # Nine digits in a column not named for CPR numbers are an amount or an id.
    assert out["src_Kundenr"].to_list()[:2] == ["101901234", " 101901234 "]
    assert out["flag_CPR_IN_DATA"].to_list() == [True] * 5 + [False] * 4


def test_a_column_read_from_a_cpr_column_masks_a_lost_leading_zero() -> None:
    df = pl.DataFrame({"raw_person_id": ["101901234", "03 12 75 12 35", "123456789"]})
    out = mask_cpr(df, cpr_columns=frozenset({"raw_person_id"}))
    assert out["raw_person_id"].to_list() == [MASK, MASK, "123456789"]
    assert mask_cpr(df)["raw_person_id"].to_list() == df["raw_person_id"].to_list()


def test_digit_groups_in_a_name_or_a_message_are_masked() -> None:
    out = mask_cpr(pl.DataFrame({"raw_name": ["Jens Hansen 03 12 75 12 35"]}))
    assert out["raw_name"].to_list() == [f"Jens Hansen {MASK}"]
    assert cpr.mask_message("kunder 03.12.75.1235.csv") == f"kunder {MASK}.csv"


_GAPS = {"tab": "\t", "nul": "\x00", "ctrl": "\x01", "vt": "\x0b", "ff": "\x0c",
         "narrow nbsp": "\u202f", "nbsp": "\u00a0", "zero-width space": "\u200b",
         "soft hyphen": "\u00ad", "two spaces": "  "}  # fmt: skip


@pytest.mark.parametrize("gap", _GAPS.values(), ids=_GAPS.keys())
def test_any_whitespace_control_or_format_character_between_the_parts_is_a_gap(gap: str) -> None:
    """Before: ``Jens Hansen 010190<TAB>1234`` (or a NUL, ``\\x01``, U+202F there) was masked
    nowhere, and the cleaned name showed ``Jens Hansen 010190 1234`` in every output; a phone or
    e-mail cell ``0101<TAB>901234`` went back to the CRM as written. Now a run of such characters
    between digits is read as one space, and the mask replaces it with the number."""
    df = pl.DataFrame(
        {
            "raw_name": [f"Jens Hansen 010190{gap}1234", "Ole Berg"],
            "src_Navn": [f"Jens Hansen 010190{gap}1234", "Ole Berg"],
            "raw_address": [f"Algade 2 cpr 0101{gap}901234", f"Algade 2{gap}3"],
            "raw_phone": [f"0101{gap}901234", f"20{gap}30{gap}40{gap}50"],
            "raw_email": [f"0101{gap}901234@mail.dk", "ole@berg.dk"],
            "src_Note": [f"ring 010190{gap}1234", f"ordre 2401{gap}150001"],
        }
    )
    out = mask_cpr(df)
    assert out.row(0) == (
        f"Jens Hansen {MASK}", f"Jens Hansen {MASK}", f"Algade 2 cpr {MASK}", MASK,
        f"{MASK}@mail.dk", f"ring {MASK}", True,
    )  # fmt: skip
    # A cell without a CPR number keeps its gaps as written.
    assert out.row(1) == (*df.row(1), False)
    assert cpr.mask_message(f"kunder 010190{gap}1234.csv") == f"kunder {MASK}.csv"


@pytest.mark.parametrize(
    "gap",
    [g for g in _GAPS.values() if g not in (" ", "  ")],
    ids=[k for k in _GAPS if k != "two spaces"],
)
def test_an_odd_character_beside_the_dash_is_no_gap_in_the_number(gap: str) -> None:
    """``010190-<TAB>1234`` and ``010190<NUL>-1234`` (the odd character next to the dash, not
    between two digits) were masked nowhere."""
    df = pl.DataFrame(
        {
            "raw_name": [f"Jens Hansen 010190-{gap}1234", f"Ole Berg 010190{gap}-{gap}1234"],
            "src_Note": [f"ring 010190{gap}-1234", f"ordre 20-{gap}30"],
        }
    )
    out = mask_cpr(df)
    assert out["raw_name"].to_list() == [f"Jens Hansen {MASK}", f"Ole Berg {MASK}"]
    assert out["src_Note"].to_list() == [f"ring {MASK}", f"ordre 20-{gap}30"]
    assert cpr.mask_message(f"kunder 010190-{gap}1234.csv") == f"kunder {MASK}.csv"


def test_gaps_do_not_make_other_digits_a_cpr_number() -> None:
    cells = ["45\t010190 1234", "010190\t1234\t12", "født 01\t01\t1990 12:00", "+45\t20 30 40 50"]
    out = mask_cpr(pl.DataFrame({"src_Note": cells}))
    assert out["src_Note"].to_list() == cells


def test_a_foreign_number_written_in_pairs_stays_in_its_records_phone_field() -> None:
    """``0701 23 45 67`` is a Swedish mobile's way of being written; in pairs it is the shape of
    a CPR number a phone field masks (``0101 901234``), and a Swedish record keeps it."""
    df = pl.DataFrame(
        {"raw_phone": ["0701 23 45 67", "0701 23 45 67"], "raw_country": ["SE", None]}
    )
    assert mask_cpr(df)["raw_phone"].to_list() == ["0701 23 45 67", MASK]


def test_a_cpr_number_in_a_list_or_struct_column_is_masked_and_the_type_kept() -> None:
    """Before: a Parquet input's ``tags=["a","020285-4321"]`` and ``meta={"cpr":"010190-1234"}``
    reached records.parquet, records.csv and the re-import as written: only text and integer
    columns were read. A struct's field named ``cpr`` names the bare number too."""
    df = pl.DataFrame(
        {
            "src_tags": [["a", "020285-4321"], [], None],
            "src_meta": [{"x": 1, "cpr": "0101901234"}, {"x": 2, "cpr": None}, None],
            "src_ids": [{"cpr": 1010901234}, {"cpr": 5}, None],  # a number where an integer stood
            "_typed_padding": [["010190-1234"], None, None],  # the run's own column: not input
        }
    )
    out = mask_cpr(df)
    assert out.schema["src_tags"] == df.schema["src_tags"]
    assert out["src_tags"].to_list() == [["a", MASK], [], None]
    assert out["src_meta"].to_list() == [{"x": 1, "cpr": MASK}, {"x": 2, "cpr": None}, None]
    # No integer holds the mask: the column becomes its JSON text, masked.
    assert out["src_ids"].to_list() == [f'{{"cpr":{MASK}}}', '{"cpr":5}', None]
    assert out["_typed_padding"].to_list() == df["_typed_padding"].to_list()
    assert out["flag_CPR_IN_DATA"].to_list() == [True, False, False]
