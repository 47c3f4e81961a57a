"""The dates stage: every accepted spelling gives the same date; impossible dates are flagged and
never replaced by an invented one."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from datavask.cleansing.dates import normalise_dates
from datavask.cleansing.schema import StageInputError

TODAY = date(2026, 12, 2)


def dates(values: list[str | None], field: str = "date_of_birth") -> pl.DataFrame:
    other = "updated_at" if field == "date_of_birth" else "date_of_birth"
    frame = pl.DataFrame(
        {f"raw_{field}": values, f"raw_{other}": [None] * len(values)},
        schema={f"raw_{field}": pl.String, f"raw_{other}": pl.String},
    )
    return normalise_dates(frame, today=TODAY)


@pytest.mark.parametrize(
    "written",
    ["1980-04-09", "19800409", "09041980", "9-4-1980", "09.04.1980", "9/4/1980", "09.04.80",
     " 1980-04-09 ", "29320", "1980-04-09T13:45:00+02:00", "9 4 1980",
     # the Danish day/month-year, year first with slashes or dots, the month by name
     "9/4-1980", "1980/04/09", "1980.04.09", "9. april 1980", "09-Apr-1980", "9 APR 80",
     "9. apr. 1980"],
)  # fmt: skip
def test_every_spelling_of_one_birth_date_agrees(written: str) -> None:
    out = dates([written])
    assert out["date_of_birth"].to_list() == ["1980-04-09"]
    assert out["date_of_birth_invalid"].to_list() == [False]


@pytest.mark.parametrize(
    "written",
    ["31-02-1980", "1980-13-01", "30.02.80", "0", "hello", "2030-01-01", "1980-04",
     "30. februar 1980", "april 1980", "9. april", "1980/02/30"],
)  # fmt: skip
def test_impossible_birth_dates_are_flagged_not_invented(written: str) -> None:
    out = dates([written])
    assert out["date_of_birth"].to_list() == [None]
    assert out["date_of_birth_invalid"].to_list() == [True]
    assert out["raw_date_of_birth"].to_list() == [written]  # the text is kept as written


def test_historical_births_are_dates() -> None:
    out = dates(["1630-08-01", "16300801", "01.08.1630", "0999-01-01"])
    assert out["date_of_birth"].to_list() == ["1630-08-01"] * 3 + [None]


def test_blank_is_missing_not_invalid() -> None:
    out = dates(["", "  ", None])
    assert out["date_of_birth"].to_list() == [None, None, None]
    assert out["date_of_birth_invalid"].to_list() == [False, False, False]


def test_two_digit_years_of_birth_are_in_the_past() -> None:
    out = dates(["01.01.05", "01.01.27", "01.01.99"])
    assert out["date_of_birth"].to_list() == ["2005-01-01", "1927-01-01", "1999-01-01"]


def test_updated_at_keeps_the_time_of_day() -> None:
    out = dates(
        ["2024-03-05T08:09:10.123Z", "05-03-2024 08:09", "45356.5", "05.03.24", "2024-02-30"],
        field="updated_at",
    )
    assert out["updated_at"].to_list() == [
        "2024-03-05T08:09:10",
        "2024-03-05T08:09:00",
        "2024-03-05T12:00:00",
        "2024-03-05T00:00:00",
        None,
    ]
    assert out["updated_at_invalid"].to_list() == [False, False, False, False, True]


def test_a_missing_input_column_fails_loudly() -> None:
    with pytest.raises(StageInputError, match="raw_updated_at"):
        normalise_dates(pl.DataFrame({"raw_date_of_birth": ["1980-04-09"]}))


def test_a_column_of_month_first_dates_is_read_month_first() -> None:
    """An American export's ``02/10/1947`` came back as 2 October: read day first, and every
    ``09/18/1947`` flagged. A column whose second parts run above 12 (and no first part does)
    is month first throughout; so is one where either order reads in an American file. Never
    row by row: in a day-first column ``02/18/1947`` is flagged, not swapped."""
    out = dates(["09/18/1947", "02/10/1947", "11/14/1987", "02.10.1947", "9/4-1980"])
    assert out["date_of_birth"].to_list() == [
        "1947-09-18", "1947-02-10", "1987-11-14", "1947-10-02", "1980-04-09"
    ]  # fmt: skip
    assert not out["date_of_birth_invalid"].any()
    day_first = dates(["18/09/1947", "02/10/1947", "02/18/1947"])
    assert day_first["date_of_birth"].to_list() == ["1947-09-18", "1947-10-02", None]
    assert day_first["date_of_birth_invalid"].to_list() == [False, False, True]
    american = normalise_dates(
        pl.DataFrame(
            {
                "raw_date_of_birth": ["02/10/1947", "03/04/1950", None],
                "raw_updated_at": ["01/02/2024 13:45", None, None],
                "country": ["US", "US", None],
            }
        ),
        today=TODAY,
    )
    assert american["date_of_birth"].to_list() == ["1947-02-10", "1950-03-04", None]
    assert american["updated_at"].to_list() == ["2024-01-02T13:45:00", None, None]
    danish = normalise_dates(
        pl.DataFrame(
            {"raw_date_of_birth": ["02/10/1947"], "raw_updated_at": [None], "country": ["DK"]},
            schema={
                "raw_date_of_birth": pl.String,
                "raw_updated_at": pl.String,
                "country": pl.String,
            },
        ),
        today=TODAY,
    )
    assert danish["date_of_birth"].to_list() == ["1947-10-02"]


def test_a_person_under_18_on_the_run_date_is_a_minor() -> None:
    """A 12-year-old's record was collection-ready: a minor is umyndig, bound by few debts, and
    no ordinary debtor for a debt collector. The 18th birthday is the line: on it, of age."""
    born = ["2008-12-03", "2008-12-02", "1980-04-09", "03.12.08", None, "2030-01-01", "2014-05-01"]
    frame = pl.DataFrame(
        {
            "raw_date_of_birth": born,
            "raw_updated_at": [None] * 7,
            "customer_type": ["person", "person", "person", None, "person", "person", "company"],
        }
    )
    out = normalise_dates(frame, today=TODAY)
    # born tomorrow 18 years ago; today; an adult; two digits (2008); none; not yet born (an
    # invalid date, no minor); a company's record holding its owner's date
    assert out["flag_MINOR"].to_list() == [True, False, False, True, False, False, False]


@pytest.mark.parametrize(
    ("today", "born", "minor"),
    [
        (date(2026, 2, 28), "2008-02-29", True),  # of age on 1 March in a year without 29 Feb
        (date(2026, 3, 1), "2008-02-29", False),
        (date(2028, 2, 29), "2010-03-01", True),
        (date(2028, 2, 29), "2010-02-28", False),
    ],
)
def test_a_leap_day_birthday_comes_of_age_on_1_march(today: date, born: str, minor: bool) -> None:
    out = normalise_dates(
        pl.DataFrame({"raw_date_of_birth": [born], "raw_updated_at": [None]}), today=today
    )
    assert out["flag_MINOR"].to_list() == [minor]
