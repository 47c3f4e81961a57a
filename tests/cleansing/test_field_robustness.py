"""Junk into every field function: no exception, every row kept, nothing that looks valid out.

Each entry of ``FIELD_FUNCTIONS`` is a frame function of the canonical frame and the columns it
adds that must stay empty (null, or an empty list) for junk. Add a field module here when it
lands: ``pytest.param(normalise_x, ("x_clean", ...), id="x")``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import polars as pl
import pytest

from datavask.cleansing.addresses import CITY_AFTER_CODE, CITY_DISTRICT, normalise_addresses
from datavask.cleansing.cpr import mask_cpr
from datavask.cleansing.customer_type import classify_customer_type
from datavask.cleansing.emails import normalise_emails
from datavask.cleansing.identifiers import normalise_identifiers
from datavask.cleansing.names import normalise_names
from datavask.cleansing.phones import normalise_phones
from datavask.cleansing.schema import CANONICAL_FIELDS, raw

JUNK: tuple[str | None, ...] = (
    None,
    "",
    "   ",
    "\t\n\r",
    "１２３４５６７８",  # full-width digits of an unused Danish range
    "ＤＫ１３５８５６２８",
    "５７９００００００００００５",
    "😀",
    "📞 ☎️ ✉️",
    "😀" * 2_500,  # 10 kB
    "x" * 10_000,
    "1" * 10_000,
    "@" * 10_000,
    "a@" * 5_000,
    "\x00",
    "abc\x00def",
    "\x01\x02\x03\x1b[31m\x7f",
    "\u202e\u200f",  # right-to-left override and mark
    "\u202eabc\u202c",
    "\u200b\u200c\u200d\ufeff",  # zero-width characters and BOM
    "e\u0301\u0301\u0301",  # stacked combining accents
    "@",
    "+",
    "+45",
    "0045",
    "DK",
    "mailto:",
    "<>",
    '""',
    "-",
    "n/a",
    "NULL",
    "\ud7ff\ue000\uffff",
)

FrameFunction = Callable[[pl.DataFrame], pl.DataFrame]

FIELD_FUNCTIONS = [
    pytest.param(mask_cpr, (), id="cpr"),
    pytest.param(normalise_identifiers, ("cvr", "ean"), id="identifiers"),
    pytest.param(normalise_phones, ("phone_e164", "phone_numbers", "phone_extension"), id="phones"),
    pytest.param(normalise_emails, ("email", "emails", "email_domain"), id="emails"),
    pytest.param(normalise_names, ("legal_form",), id="names"),
    # An unknown postal code is kept and flagged UNKNOWN_POSTAL_CODE, and a foreign city is kept
    # as typed when it reads like a place name: both are checked below rather than listed here.
    pytest.param(normalise_addresses, ("floor", "door"), id="addresses"),
    pytest.param(
        lambda f: classify_customer_type(normalise_names(normalise_identifiers(f))),
        (),
        id="customer_type",
    ),
]


def junk_frame(values: tuple[str | None, ...] = JUNK) -> pl.DataFrame:
    """The canonical frame with ``values`` in every raw field and two source columns."""
    n = len(values)
    column = pl.Series(values, dtype=pl.String)
    return pl.DataFrame(
        {
            "record_id": [str(i + 1) for i in range(n)],
            "source_row": pl.Series(range(1, n + 1), dtype=pl.Int64),
            **{raw(field): column for field in CANONICAL_FIELDS if field != "record_id"},
            "src_Navn": column,
            "src_Telefon": column,
        }
    )


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, list) and not value)


@pytest.mark.parametrize(("function", "outputs"), FIELD_FUNCTIONS)
def test_junk_in_every_row_at_once(function: FrameFunction, outputs: tuple[str, ...]) -> None:
    frame = junk_frame()
    started = time.perf_counter()
    out = function(frame)
    assert time.perf_counter() - started < 10
    assert out.height == frame.height
    assert out["source_row"].to_list() == frame["source_row"].to_list()
    for column in outputs:
        leaked = [
            (frame["raw_phone"][i], v)
            for i, v in enumerate(out[column].to_list())
            if not _is_empty(v)
        ]
        assert leaked == [], (column, leaked[:5])
    for column in out.columns:
        if column.startswith("flag_"):
            assert out.schema[column] == pl.Boolean
            assert out[column].null_count() == 0


@pytest.mark.parametrize(("function", "outputs"), FIELD_FUNCTIONS)
@pytest.mark.parametrize("value", JUNK, ids=lambda v: repr(v)[:20])
def test_junk_alone(function: FrameFunction, outputs: tuple[str, ...], value: str | None) -> None:
    # Alone, a junk value is the whole column: column-level statistics see only it.
    out = function(junk_frame((value,)))
    assert out.height == 1
    for column in outputs:
        assert _is_empty(out[column].to_list()[0]), (column, out[column].to_list()[0])


@pytest.mark.parametrize(("function", "outputs"), FIELD_FUNCTIONS)
def test_empty_frame(function: FrameFunction, outputs: tuple[str, ...]) -> None:
    out = function(junk_frame(()))
    assert out.height == 0
    assert set(outputs) <= set(out.columns)


def test_junk_postal_codes_are_flagged_unknown() -> None:
    out = normalise_addresses(junk_frame())
    kept = out.filter(pl.col("postal_code").is_not_null())
    assert kept["flag_UNKNOWN_POSTAL_CODE"].all(), kept.select("postal_code")


def test_junk_never_yields_a_malformed_city_or_house_number() -> None:
    out = normalise_addresses(junk_frame())
    cities = out["city"].drop_nulls()
    assert cities.str.contains(r"\p{L}").all()
    assert not cities.str.contains(r"[@\p{Cc}\p{Cf}]|\p{M}{2,}").any()
    # digits only as a foreign postal code written before its place (``2022 Bevaix``) or its
    # district's number after it (``Dublin 2``)
    with_digits = cities.filter(cities.str.contains(r"\d")).str.normalize("NFKC")
    numbered = with_digits.str.contains(CITY_AFTER_CODE) | with_digits.str.contains(CITY_DISTRICT)
    assert numbered.all(), with_digits
    assert (cities.str.len_chars() <= 60).all()
    assert not cities.str.to_lowercase().is_in(["n/a", "null", "-", "ukendt"]).any()
    numbers = out["house_number"].drop_nulls()
    assert numbers.str.contains(r"^\d{1,4}[A-ZÆØÅ]?(-(\d{1,4}[A-ZÆØÅ]?|[A-ZÆØÅ]))?$").all()


def test_cpr_masking_leaves_junk_untouched() -> None:
    frame = junk_frame()
    out = mask_cpr(frame)
    assert out.drop("flag_CPR_IN_DATA").equals(frame)
    assert not out["flag_CPR_IN_DATA"].any()
