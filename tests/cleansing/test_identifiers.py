"""CVR, EAN and P-number checks: corpora, agreement with python-stdnum, frame behaviour."""

from __future__ import annotations

import doctest
import random
import re

import polars as pl
import pytest
from stdnum import ean as stdnum_ean
from stdnum.dk import cvr as stdnum_cvr

from datavask.cleansing import identifiers
from datavask.cleansing.identifiers import (
    compact_cvr,
    is_valid_cvr,
    is_valid_ean,
    is_valid_p_number,
    legal_entity_number,
    normalise_identifiers,
)
from tests.cleansing.corpora import read_corpus


def test_doctests() -> None:
    result = doctest.testmod(identifiers)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("value", read_corpus("cvr_valid"))
def test_valid_cvr_corpus(value: str) -> None:
    assert is_valid_cvr(value)
    out = normalise_identifiers(pl.DataFrame({"raw_cvr": [value]}, schema={"raw_cvr": pl.String}))
    assert out["cvr"][0] == compact_cvr(value)
    assert stdnum_cvr.is_valid(compact_cvr(value))
    assert out["flag_INVALID_CVR"][0] is False


@pytest.mark.parametrize("value", read_corpus("cvr_invalid"))
def test_invalid_cvr_corpus(value: str) -> None:
    assert not is_valid_cvr(value)
    out = normalise_identifiers(pl.DataFrame({"raw_cvr": [value]}, schema={"raw_cvr": pl.String}))
    assert out["cvr"][0] is None
    assert out["flag_INVALID_CVR"][0] is True


@pytest.mark.parametrize("value", read_corpus("ean_valid"))
def test_valid_ean_corpus(value: str) -> None:
    assert is_valid_ean(value)
    out = normalise_identifiers(pl.DataFrame({"raw_ean": [value]}, schema={"raw_ean": pl.String}))
    assert out["ean"][0] == identifiers.compact_ean(value)
    assert stdnum_ean.is_valid(identifiers.compact_ean(value))
    assert out["flag_INVALID_EAN"][0] is False


@pytest.mark.parametrize("value", read_corpus("ean_invalid"))
def test_invalid_ean_corpus(value: str) -> None:
    assert not is_valid_ean(value)
    out = normalise_identifiers(pl.DataFrame({"raw_ean": [value]}, schema={"raw_ean": pl.String}))
    assert out["ean"][0] is None
    assert out["flag_INVALID_EAN"][0] is True


def _noisy_numbers(rng: random.Random, n: int, length: int, prefix_pool: list[str]) -> list[str]:
    """Digit strings near ``length`` long, in the dress customers put them in."""
    values = []
    for _ in range(n):
        size = length + rng.choice((-1, 0, 0, 0, 1))
        digits = "".join(rng.choice("0123456789") for _ in range(size))
        if rng.random() < 0.3:
            cut = rng.randrange(1, len(digits))
            digits = digits[:cut] + rng.choice(" -.") + digits[cut:]
        if rng.random() < 0.02:
            digits = digits.replace(rng.choice("0123456789"), rng.choice("AOIl"), 1)
        values.append(rng.choice(prefix_pool) + digits + rng.choice(("", "", " ", "\t")))
    return values


def _with_valid_share(values: list[str], rng: random.Random, make_valid) -> list[str]:
    # A random digit string is valid ~1 time in 11 (CVR) or 10 (EAN); mix in known-valid ones
    # so both outcomes are well represented.
    return values + [make_valid(rng) for _ in range(len(values) // 4)]


def test_cvr_expression_agrees_with_stdnum_on_a_big_corpus() -> None:
    rng = random.Random(20240601)

    def valid_cvr(r: random.Random) -> str:
        while True:
            candidate = str(r.randint(10_000_000, 99_999_999))
            if stdnum_cvr.is_valid(candidate):
                return r.choice(("", "DK", "DK ", "dk-")) + candidate

    values = _with_valid_share(
        _noisy_numbers(rng, 80_000, 8, ["", "", "DK", "DK ", "dk", " ", "DK-"]), rng, valid_cvr
    )
    out = normalise_identifiers(pl.DataFrame({"raw_cvr": values}, schema={"raw_cvr": pl.String}))
    # Eight digits and ".0" are a CVR number a spreadsheet wrote as a decimal (schema.whole_number)
    # where stdnum reads nine digits; every other value as stdnum reads it.
    read = [re.sub(r"^(\s*\d{8})\.0(\s*)$", r"\1\2", v) for v in values]
    expected = [stdnum_cvr.compact(v) if stdnum_cvr.is_valid(v) else None for v in read]
    assert out["cvr"].to_list() == expected
    assert [is_valid_cvr(v) for v in read] == [e is not None for e in expected]
    assert any(r != v for r, v in zip(read, values, strict=True)), "the corpus holds decimals"
    n_valid = sum(e is not None for e in expected)
    assert 10_000 < n_valid < 60_000, "the corpus must exercise both outcomes"


def test_ean_expression_agrees_with_stdnum_on_a_big_corpus() -> None:
    rng = random.Random(20240602)

    def valid_gln(r: random.Random) -> str:
        body = "57" + "".join(r.choice("0123456789") for _ in range(10))
        return body + stdnum_ean.calc_check_digit(body)

    values = _with_valid_share(_noisy_numbers(rng, 80_000, 13, ["", "", " "]), rng, valid_gln)
    out = normalise_identifiers(pl.DataFrame({"raw_ean": values}, schema={"raw_ean": pl.String}))

    def stdnum_gln(v: str) -> str | None:
        compact = stdnum_ean.compact(v)
        return compact if len(compact) == 13 and stdnum_ean.is_valid(v) else None

    read = [re.sub(r"^(\s*\d{13})\.0(\s*)$", r"\1\2", v) for v in values]  # as for CVR
    expected = [stdnum_gln(v) for v in read]
    assert out["ean"].to_list() == expected
    assert [is_valid_ean(v) for v in read] == [e is not None for e in expected]
    assert 10_000 < sum(e is not None for e in expected) < 60_000


def test_compact_cvr_matches_stdnum_compact() -> None:
    for value in ("DK 1358 5628", " dk-13.58.56.28 ", "13/58/56/28", "DK:13585628"):
        assert compact_cvr(value) == stdnum_cvr.compact(value)


def test_labels_in_front_are_removed() -> None:
    assert compact_cvr("CVR-nr.: DK 1358 5628") == "13585628"
    assert identifiers.compact_ean("EAN-nr. 5790000000005") == "5790000000005"
    assert not is_valid_cvr("CVR mangler")


def test_full_width_digits_are_not_accepted() -> None:
    # stdnum accepts them (str.isdigit); a CRM field holding them is an entry error, not a CVR.
    assert not is_valid_cvr("１３５８５６２８")
    assert not is_valid_ean("５７９００００００００００５")


def test_p_number_shape() -> None:
    assert is_valid_p_number("1007201377")
    assert is_valid_p_number("1007 201 377")
    assert not is_valid_p_number("0007201377")
    assert not is_valid_p_number("10072013771")
    assert not is_valid_p_number("１００７２０１３７７")
    assert not is_valid_p_number(None)


def test_missing_columns_and_empty_values_raise_no_flag() -> None:
    df = pl.DataFrame({"record_id": ["1", "2", "3"], "raw_cvr": [None, "", "   "]})
    out = normalise_identifiers(df)
    assert out["cvr"].to_list() == [None, None, None]
    assert out["ean"].to_list() == [None, None, None]
    assert not out["flag_INVALID_CVR"].any()
    assert not out["flag_INVALID_EAN"].any()
    assert out.columns[:2] == ["record_id", "raw_cvr"]
    assert out.schema["cvr"] == pl.String and out.schema["flag_INVALID_CVR"] == pl.Boolean


@pytest.mark.parametrize(
    ("value", "vat_number"),
    [
        ("DE129273398", "DE129273398"),
        ("de 129 273 398", "DE129273398"),
        ("Moms: SE556012579001", "SE556012579001"),
        ("CVR: DE129273398", "DE129273398"),
        ("GB980 7806 84", "GB980780684"),
        ("NO 974 760 673 MVA", "NO974760673MVA"),
        ("CHE-116.281.710 MWST", "CHE116281710MWST"),
        ("EL094259216", "EL094259216"),
        # a Swiss UID without its tax's suffix: INVALID_CVR blocked the customer's invoices
        ("CHE-123.456.788", "CHE123456788"),
        ("CHE116281704", "CHE116281704"),
        # a Faroese company's V-tal: no CVR number, its VAT number
        ("V-tal 123456", "FO123456"),
        ("V-tal nr.: 602 590", "FO602590"),
        ("FO602590", "FO602590"),
    ],
)
def test_a_foreign_vat_number_in_the_cvr_field_is_no_broken_cvr(
    value: str, vat_number: str
) -> None:
    out = normalise_identifiers(pl.DataFrame({"raw_cvr": [value]}, schema={"raw_cvr": pl.String}))
    assert out.select("cvr", "vat_number", "flag_INVALID_CVR").row(0) == (None, vat_number, False)


@pytest.mark.parametrize(
    "value",
    [
        "DE129273399",  # check digit wrong
        "SE556677889900",  # Luhn fails
        "US123456789",  # no VAT rules for the prefix
        "CHE-123.456.789",  # a Swiss UID with a wrong check digit
        "V-tal 1234567",  # a V-tal has six digits
        "123456",  # six digits without a label or a Faroese record are no V-tal
        "DK 1358 5627",  # a broken CVR number stays one
        "XX",
    ],
)
def test_a_broken_or_unknown_foreign_number_is_still_invalid(value: str) -> None:
    out = normalise_identifiers(pl.DataFrame({"raw_cvr": [value]}, schema={"raw_cvr": pl.String}))
    assert out.select("cvr", "vat_number", "flag_INVALID_CVR").row(0) == (None, None, True)


def test_a_swiss_vat_number_names_its_company_by_its_uid() -> None:
    numbers = pl.Series(["CHE116281710MWST", "CHE116281710TVA", "CHE116281710", "NO974760673MVA"])
    keys = pl.select(legal_entity_number(pl.lit(numbers))).to_series().to_list()
    assert keys == ["CHE116281710", "CHE116281710", "CHE116281710", "NO974760673MVA"]


@pytest.mark.parametrize(
    ("typed", "cvr", "invalid"),
    [
        ("XXXXXX-XXXX", None, False),  # ``150375-1234``, masked when the input was read
        ("CPR-nr.: XXXXXX-XXXX", None, False),
        ("(cpr XXXXXX-XXXX)", None, False),
        ("13585628 (cpr XXXXXX-XXXX)", "13585628", False),  # the number beside it is read
        ("13585627 / XXXXXX-XXXX", None, True),  # and a broken one is still broken
    ],
)
def test_a_masked_cpr_number_in_the_cvr_field_is_no_cvr_number(
    typed: str, cvr: str | None, invalid: bool
) -> None:
    """A private customer's CPR number in the CVR field was ``INVALID_CVR`` beside
    ``CPR_IN_DATA``: a person blocked from invoicing by a number the mask had taken away. The
    field is read as if the mask were not there."""
    frame = pl.DataFrame({"raw_cvr": [typed]}, schema={"raw_cvr": pl.String})
    out = normalise_identifiers(frame)
    assert out.select("cvr", "flag_INVALID_CVR").row(0) == (cvr, invalid)


def test_a_masked_cpr_number_leaves_room_for_the_number_the_name_notes() -> None:
    frame = pl.DataFrame(
        {"raw_cvr": ["XXXXXX-XXXX"], "raw_name": ["Hansen Byg ApS (CVR 13585628)"]}
    )
    out = normalise_identifiers(frame)
    assert out.select("cvr", "flag_INVALID_CVR").row(0) == ("13585628", False)
