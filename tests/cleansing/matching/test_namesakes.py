"""Namesakes at one address told apart only by a phone and a mailbox of their own: a review."""

from __future__ import annotations

import polars as pl

from datavask.cleansing.matching.compare import COMPARISONS
from datavask.cleansing.matching.namesakes import namesakes_to_review

LANDLINE = "+4599265658"


def _level(name: str, label: str) -> int:
    return COMPARISONS[name].levels.index(label)


def _decisions(phones: list[list[str]], *, email: str, birth: str = "missing") -> list[str]:
    """The decision of each pair (record 0, record i) of one name at one address, matched by the
    score, the records holding ``phones``."""
    records = pl.DataFrame({"_phones": phones}, schema={"_phones": pl.List(pl.String())})
    pairs = len(phones) - 1
    levels = {
        "first_name": COMPARISONS["first_name"].top,
        "last_name": COMPARISONS["last_name"].top,
        "address": COMPARISONS["address"].top,
        "phone": _level("phone", "shared number"),
        "email": _level("email", email),
        "date_of_birth": -1 if birth == "missing" else _level("date_of_birth", birth),
    }
    scored = pl.DataFrame(
        {f"lvl_{name}": [level] * pairs for name, level in levels.items()},
        schema={f"lvl_{name}": pl.Int8 for name in levels},
    ).with_columns(decision=pl.lit("match"))
    left = pl.Series([0] * pairs, dtype=pl.UInt32)
    right = pl.Series(range(1, pairs + 1), dtype=pl.UInt32)
    return namesakes_to_review(scored, records, left, right)["decision"].to_list()


def test_a_landline_shared_and_a_mobile_each_is_a_review() -> None:
    phones = [
        [LANDLINE, "+4530344199"],
        [LANDLINE, "+4527020365"],  # the son's own mobile: a review
        [LANDLINE],  # the landline alone: one of them, with no mobile on file
        [LANDLINE, "+4530344199"],  # the same mobile: one person with another mailbox
    ]
    assert _decisions(phones, email="different personal addresses") == [
        "review",
        "match",
        "match",
    ]


def test_a_shared_mailbox_or_one_birth_date_keeps_the_match() -> None:
    phones = [[LANDLINE, "+4530344199"], [LANDLINE, "+4527020365"]]
    assert _decisions(phones, email="shared address") == ["match"]
    assert _decisions(phones, email="different personal addresses", birth="exact") == ["match"]
