"""Namesakes at one address whom only their own phones and mailboxes tell apart: at most a review.

A father and his son of one name at one address, with no ``jun.``/``sen.`` and no date of birth on
file, share the household's landline and have a mobile and a free-mail address each (``Henrik
Johnsen``, Vinkelvej 20, Aalborg, landline ``99 26 56 58``; mobiles ``30 34 41 99`` / ``27 02 03
65``, ``henrik.johnsen@jubii.dk`` / ``henjoh@live.dk``). One person who got a new mobile and a new
mailbox looks the same, so the score, which sees the shared number, the name and the address,
merges both at p = 1.0. Merged, survivorship writes one man's mobile and e-mail into the other's
CRM row; the pair goes to a person instead (the review band's ``review``).

Only that pattern: the same first and last name, one address, no date of birth or id number on
either record, a phone number in common and one of its own on each side, and two different
personal e-mail addresses. Two records of one name at one address with no number in common and
other personal e-mails are more often one person whose contacts changed (the generated Danish
customer files' duplicates), and stay with the score.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from datavask.cleansing.matching.compare import COMPARISONS
from datavask.cleansing.matching.hard_rules import review_reason

_FIRST_EXACT: Final = COMPARISONS["first_name"].top
_LAST_EXACT: Final = COMPARISONS["last_name"].top
_SAME_NUMBER: Final = COMPARISONS["address"].levels.index("same street and number")
_SHARED_PHONE: Final = COMPARISONS["phone"].levels.index("shared number")
_PERSONAL_EMAILS: Final = COMPARISONS["email"].levels.index("different personal addresses")


def _level(scored: pl.DataFrame, name: str) -> pl.Expr:
    """A comparison's level, or -1 (unknown) where the comparison was not made."""
    column = f"lvl_{name}"
    return pl.col(column) if column in scored.columns else pl.lit(-1, dtype=pl.Int8)


def namesakes_to_review(
    scored: pl.DataFrame, records: pl.DataFrame, left: pl.Series, right: pl.Series
) -> pl.DataFrame:
    """``scored`` (pairs with their ``lvl_<name>`` levels and a ``decision``) with the matches of
    two namesakes at one address told apart only by a phone and an e-mail address of their own
    (see the module) made a ``review``, its ``review_rule`` that of ``namesakes``. ``left`` /
    ``right``: the pairs' positions in ``records`` (the matcher's prepared frame, whose
    ``_phones`` they are read by)."""
    if "lvl_first_name" not in scored.columns or "_phones" not in records.columns:
        return scored
    alike = scored.select(
        (
            (pl.col("decision") == "match")
            & (_level(scored, "first_name") == _FIRST_EXACT)
            & (_level(scored, "last_name") == _LAST_EXACT)
            & (_level(scored, "address") >= _SAME_NUMBER)
            & (_level(scored, "date_of_birth") < 0)
            & (_level(scored, "national_id") < 0)
            & (_level(scored, "person_id") < 0)
            & (_level(scored, "phone") == _SHARED_PHONE)
            & (_level(scored, "email") == _PERSONAL_EMAILS)
        ).fill_null(False)
    ).to_series()
    if not alike.any():
        return scored
    # Only these few pairs have their numbers read: each needs one the other lacks.
    at = alike.arg_true()
    phones = records["_phones"]
    mine, theirs = phones.gather(left.gather(at)), phones.gather(right.gather(at))
    own = pl.DataFrame({"l": mine, "r": theirs}).select(
        (
            (pl.col("l").list.set_difference("r").list.len() > 0)
            & (pl.col("r").list.set_difference("l").list.len() > 0)
        ).fill_null(False)
    )
    review = alike.scatter(at, own.to_series())
    # why a match is only a review, as the matcher names it (REVIEW_RULE)
    before = pl.col("review_rule") if "review_rule" in scored.columns else pl.lit(None, pl.UInt8)
    return scored.with_columns(
        pl.when(review).then(pl.lit("review")).otherwise(pl.col("decision")).alias("decision"),
        pl.when(review).then(review_reason("namesakes")).otherwise(before).alias("review_rule"),
    )
