"""Danish hard rules: pairs that are never the same customer, whatever their score says.

A probabilistic score adds up evidence as if fields were independent; these rules encode what a
Danish bookkeeper knows for certain and the score cannot see. The household, group and name rules
need ``customer_type`` on both records (a person register without it, like FEBRL, gets only the
CVR rule). In: the candidate pairs with their
comparison levels (``lvl_<name>``, see :mod:`cleansing.matching.compare`) and the prepared records.
Out: a ``hard_rule`` column naming the first rule that vetoes the pair (null when none does):

``cvr_conflict``
    two different valid CVR numbers are two legal entities (``25313763`` / ``10150817``).
``ean_conflict``
    two different valid EAN numbers are two invoice recipients: a municipality's town hall and its
    school administration share one CVR number, and each has an EAN of its own that its invoices
    must carry. Merged, one of them would be invoiced at the other's EAN, and its invoices
    rejected.
``different_contacts``
    two organisations' records whose contact persons (the input's own first and last name
    columns beside the organisation's name: a contact export) are clearly two people (Jens Hansen
    / Mette Larsen of Bygma A/S) are two contacts, whatever else they share: the company's
    switchboard, its ``info@`` mailbox, its address, its CVR number. Merged, one of them would be
    lost from the CRM.
``household``
    two people with clearly different first names at one address (Jens and Anne Hansen,
    Vestergade 12 — or Vestergde 12, or Vestergade 14: a typo does not make them one person) are
    a household, unless a date of birth, national id or mapped person id says they are one
    person (a date of birth not where the first names and the phones or e-mails differ outright:
    twins). Names more than
    two edits apart are different however alike Jaro-Winkler finds them (Steen and Stephan), and
    so are two given names of their own however few letters apart (Christian and Christina, Hans
    and Hanne, Karen and Karin: a couple, a brother and sister). So
    are two people at one address whose dates of birth differ outright (no two of year, month
    and day alike, more than one edit apart) and a generation apart (:data:`GENERATION` years or
    more): Jens Hansen born 1951 and Jens Hansen born 1979 are father and son, whatever else they
    share. Dates of birth closer than that are more often one typed badly than two people. So
    are two people in two flats of one building whose last names differ outright and whose first
    names are not the same (Nina Hansen and Anna Andersen, 1. th and 1. tv): a woman who took her
    husband's name kept her first name.
``person_and_business``
    a person without a CVR number and a business with one, whose name is the person's name with
    more words (``Jens Hansen`` / ``Malermester Jens Hansen``, ``Birgitte Lund`` / ``Tandlæge
    Birgitte Lund``, ``Søren Dam`` / ``Elektrikeren i Ry v/ Søren Dam``), are the owner's private
    account and the registered business, whatever address and phone they share: merged, the
    private customer took the firm's CVR number and the firm the owner's private e-mail
    (:func:`owner_and_business`). A business record its duplicate calls a person for a legal
    form typed wrong (``Petersen ipS`` / ``Petersen ApS``) is not vetoed.
``group_company``
    two companies at one address with different names and no shared CVR are sister companies
    (``Hansen Holding ApS`` / ``Hansen Byg ApS``), not one customer under two names.
``different_names``
    records whose names disagree outright (``Hansen Byg`` / ``Nordic Cleaning``; Jens Hansen /
    Anne Olsen) are different customers even when they share a phone number or an address — the
    business centre switchboard — unless a CVR, EAN or national id number ties them. Two public
    bodies' CVR number does not: an authority's departments (``Region Hovedstaden, Center for
    Økonomi`` / ``Region Hovedstaden, Center for HR``) share its CVR number, address and
    switchboard, and each is invoiced at an EAN number of its own. Only one EAN number ties them.

Two more rules veto nothing but keep a pair from being merged on its score alone: it is at most
a ``review`` (:func:`review_only`), for a person to decide.

``neighbours``
    two records on one street with two house numbers (``Marianne Thygesen``, Nørrebrogade 138 /
    Nørrebrogade 140) and no phone, e-mail, CVR, EAN, date of birth or id number in common are
    two addresses: two namesakes of one street, or one customer who moved a few doors — or a
    house number mistyped (``12`` / ``13``, ``12`` / ``21``). The name alone cannot tell, and
    merged wrongly, one namesake's phone is written into the other's row.
``branches``
    two records of one CVR number whose names and addresses both differ (``SuperBrugsen
    Stationsvej``, Stationsvej 34 / ``SuperBrugsen Vestergade``, Vestergade 56) are two branches
    of one company — each with its own P-unit, delivery address and account — unless an EAN
    number says they are one invoice recipient, or one contact person (a contact export's) that
    they are one customer. A company renamed and moved is one customer too, and without its
    contact only a person can tell the two apart.
``surnames``
    two people of one first name at one address whose last names differ outright (``Peter
    Madsen`` / ``Peter Holm``, Hovedgaden 12B, one phone number) and no e-mail address, date of
    birth or id number in common: one person who took a spouse's name, or two people of one
    household. Merged wrongly, one of them is gone from the CRM.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

import polars as pl

from datavask.cleansing.matching.compare import BIRTH_LEVELS, COMPARISONS, FIRST_NAMES_APART

HARD_RULES: Final = (
    "cvr_conflict",
    "ean_conflict",
    "different_contacts",
    "household",
    "person_and_business",
    "group_company",
    "different_names",
)
SOFT_VETOES: Final = ("household", "person_and_business", "group_company", "different_names")
"""The rules that judge one pair from its own fields: in clustering they yield to links the model
is certain of (:mod:`~datavask.cleansing.matching.clusters`); two CVR or EAN numbers never do."""


# A date of birth vouches for one person only when it is the same date (not two parts of it).
_BIRTH_EXACT: Final = BIRTH_LEVELS.index("exact")
_NAME_EXACT: Final = COMPARISONS["name"].top
_FIRST_NAME_EXACT: Final = COMPARISONS["first_name"].top
_OTHER_UNIT: Final = COMPARISONS["address"].levels.index("same building, other unit")


REVIEW_RULES: Final = ("neighbours", "branches", "surnames")
"""The rules that make a pair at most a ``review`` (see the module docstring)."""

REVIEW_REASONS: Final = (*REVIEW_RULES, "namesakes", "every_pair", "link_component", "cluster")
"""Why a pair the model scored as a match is only a ``review`` (``pairs.parquet``'s
``review_rule``): :data:`REVIEW_RULES`, :mod:`.namesakes`, the only blocking rule that proposed
it, or the cluster check. While pairs are scored the reason is carried as its position here plus
one (:func:`review_reason`), a byte per candidate pair rather than a text."""


def review_reason(name: str) -> pl.Expr:
    """The code of the reason ``name`` (of :data:`REVIEW_REASONS`) as the scored pairs carry it."""
    return pl.lit(REVIEW_REASONS.index(name) + 1, dtype=pl.UInt8)


def review_reason_text(code: pl.Expr) -> pl.Expr:
    """A reason's code (:func:`review_reason`) as its name; null stays null."""
    names = {i + 1: name for i, name in enumerate(REVIEW_REASONS)}
    return code.replace_strict(names, default=None, return_dtype=pl.String)


_SAME_STREET: Final = COMPARISONS["address"].levels.index("same street")
_DOB_ONE_EDIT: Final = BIRTH_LEVELS.index("one edit")
_CONTACT_ALIKE: Final = COMPARISONS["contact"].levels.index("jaro-winkler >= 0.92")
_SAME_NUMBER: Final = COMPARISONS["address"].levels.index("same street and number")


def review_only(compared: Collection[str]) -> pl.Expr:
    """True for a scored pair (``lvl_<name>`` of the comparisons ``compared``) that
    :data:`REVIEW_RULES` keep from being merged on its score alone."""
    return pl.any_horizontal(*review_rules(compared).values())


def review_rules(compared: Collection[str]) -> dict[str, pl.Expr]:
    """Per rule of :data:`REVIEW_RULES`, whether it keeps a scored pair (``lvl_<name>`` of the
    comparisons ``compared``) from being merged on its score alone.

    ``Morten Karlsen``, Bredgade 33 / Bredgade 43, nothing else in common: ``neighbours``; with
    one mobile number as well, no rule. CVR ``23208725`` at ``SuperBrugsen Stationsvej``,
    Stationsvej 34 and ``SuperBrugsen Vestergade``, Vestergade 56: ``branches``. ``Peter Madsen``
    / ``Peter Holm``, Hovedgaden 12B, one phone number: ``surnames``."""

    def level(name: str) -> pl.Expr:
        return pl.col(f"lvl_{name}") if name in compared else pl.lit(-1, dtype=pl.Int8)

    shared_identifier = (
        (level("phone") == 1)
        | (level("email") == COMPARISONS["email"].top)
        | (level("cvr") == 1)
        | (level("ean") == 1)
        | (level("date_of_birth") >= _DOB_ONE_EDIT)
        | (level("national_id") >= 1)
        | (level("person_id") == 1)
    )
    neighbours = (level("address") == _SAME_STREET) & ~shared_identifier
    other_address = level("address").is_between(0, _SAME_STREET)
    # One contact person (a contact export's) is one customer's, renamed and moved: branches
    # have contacts of their own (``different_contacts``).
    same_contact = level("contact") >= _CONTACT_ALIKE
    branches = (
        (level("cvr") == 1)
        & (level("name") == 0)
        & other_address
        & (level("ean") != 1)
        & ~same_contact
    )
    # A phone shared says one household as well as one person: it does not vouch here.
    personal_identifier = (
        (level("email") == COMPARISONS["email"].top)
        | (level("date_of_birth") >= _DOB_ONE_EDIT)
        | (level("national_id") >= 1)
        | (level("person_id") == 1)
    )
    surnames = (
        (level("first_name") == _FIRST_NAME_EXACT)
        & (level("last_name") == 0)
        & (level("address") >= _SAME_NUMBER)
        & ~personal_identifier
    )
    return {
        "neighbours": neighbours.fill_null(False),
        "branches": branches.fill_null(False),
        "surnames": surnames.fill_null(False),
    }


def _level(levels: pl.DataFrame, name: str) -> pl.Expr:
    """A comparison's level, or -1 (unknown) where the comparison was not made."""
    column = f"lvl_{name}"
    return pl.col(column) if column in levels.columns else pl.lit(-1, dtype=pl.Int8)


def _top(levels: pl.DataFrame, name: str, top: int) -> pl.Expr:
    return _level(levels, name) >= top


def _same_address(levels: pl.DataFrame) -> pl.Expr:
    # "same street" counts: a typo in the street or the house number must not turn a household
    # back into one person.
    if "lvl_address" in levels.columns:
        return pl.col("lvl_address") >= 2
    return (
        _top(levels, "street", 3) & _top(levels, "house_number", 2) & _top(levels, "postal_code", 2)
    )


GENERATION: Final = 15
"""Years between two dates of birth that make two people of one name at one address parent and
child (the household rule)."""


def birth_years_apart(records: pl.DataFrame, left: pl.Series, right: pl.Series) -> pl.Series:
    """Per pair of record positions, the years between their dates of birth (null without both)."""
    if "date_of_birth" not in records.columns:
        return pl.Series([None] * left.len(), dtype=pl.Int32)
    year = records["date_of_birth"].cast(pl.String).str.slice(0, 4).cast(pl.Int32, strict=False)
    return (year.gather(left) - year.gather(right)).abs()


def both_public(records: pl.DataFrame, left: pl.Series, right: pl.Series) -> pl.Series:
    """Per pair of record positions: both are public bodies (``customer_type`` ``public``)."""
    if "customer_type" not in records.columns:
        return pl.repeat(False, left.len(), eager=True)
    public = records.select(
        (pl.col("customer_type").str.to_lowercase() == "public").fill_null(False)
    ).to_series()
    return public.gather(left) & public.gather(right)


def owner_and_business(records: pl.DataFrame, left: pl.Series, right: pl.Series) -> pl.Series:
    """Per pair of record positions: one is a person without a CVR number, the other a business
    with one whose name key holds the person's as whole words, and more (see
    ``person_and_business``)."""
    if not {"customer_type", "cvr", "name_key"} <= set(records.columns):
        return pl.repeat(False, left.len(), eager=True)
    sides = records.select(
        person=(pl.col("customer_type").str.to_lowercase() == "person").fill_null(False),
        cvr=pl.col("cvr").is_not_null(),
        key=pl.col("name_key"),
    )
    pairs = pl.concat(
        [
            sides[left].rename(lambda c: f"{c}_l"),
            sides[right].rename(lambda c: f"{c}_r"),
        ],
        how="horizontal",
    )

    def sides_of(person: str, business: str) -> pl.Expr:
        return (
            pl.col(f"person_{person}")
            & ~pl.col(f"cvr_{person}")
            & ~pl.col(f"person_{business}")
            & pl.col(f"cvr_{business}")
        )

    # Only the pairs of a private person and a registered business have their names read: at
    # 1M records they are a few of the millions of candidate pairs.
    candidate = pairs.select(
        left_person=sides_of("l", "r").fill_null(False),
        right_person=sides_of("r", "l").fill_null(False),
    )
    rows = candidate.with_row_index("row").filter(pl.col("left_person") | pl.col("right_person"))
    owner = pl.repeat(False, left.len(), eager=True)
    if rows.height == 0:
        return owner
    named = pairs[rows["row"]].with_columns(
        pl.when(rows["left_person"]).then(pl.col("key_l")).otherwise(pl.col("key_r")).alias("p"),
        pl.when(rows["left_person"]).then(pl.col("key_r")).otherwise(pl.col("key_l")).alias("b"),
    )
    inside = named.select(
        (
            (pl.lit(" ") + pl.col("b") + pl.lit(" ")).str.contains(
                pl.lit(" ") + pl.col("p") + pl.lit(" "), literal=True
            )
            & (pl.col("b").str.len_chars() > pl.col("p").str.len_chars())
        ).fill_null(False)
    ).to_series()
    return owner.scatter(rows["row"], inside)


def hard_rule_column(
    levels: pl.DataFrame,
    person_l: pl.Series,
    person_r: pl.Series,
    *,
    rules: tuple[str, ...] = HARD_RULES,
    years_apart: pl.Series | None = None,
    owner: pl.Series | None = None,
    public: pl.Series | None = None,
) -> pl.Series:
    """The first rule of ``rules`` that vetoes each pair, or null.

    ``person_l`` / ``person_r``: whether each side is a person, null where the type is unknown;
    ``years_apart``: the years between the pair's dates of birth (:func:`birth_years_apart`);
    ``owner``: whether the pair is an owner and the business (:func:`owner_and_business`);
    ``public``: whether both sides are public bodies (:func:`both_public`).
    """
    unknown = pl.repeat(False, levels.height, eager=True)
    frame = levels.with_columns(
        (owner if owner is not None else unknown).alias("_owner"),
        (public if public is not None else unknown).alias("_public"),
        person_l.alias("_person_l"),
        person_r.alias("_person_r"),
    )
    apart = pl.lit(None, dtype=pl.Int32)
    if years_apart is not None:
        frame = frame.with_columns(years_apart.alias("_years_apart"))
        apart = pl.col("_years_apart")
    persons = pl.col("_person_l") & pl.col("_person_r")
    companies = ~pl.col("_person_l") & ~pl.col("_person_r")
    same_identifier = (
        (_level(levels, "cvr") == 1)
        | (_level(levels, "ean") == 1)
        | (_level(levels, "national_id") >= 1)
        | (_level(levels, "person_id") == 1)
    )
    # One date of birth vouches for one person but where the first names differ outright and
    # so do their phones or e-mails: twins at one address (``Sofie`` and ``Maja Kristensen``, one
    # birthday, rooms 412 and 413, a mobile and a mailbox each) are two. Without contacts to
    # tell, a first name typed over (FEBRL's duplicates) is still one person.
    twins = (_level(levels, "first_name") == 0) & (
        (_level(levels, "phone") == 0) | _level(levels, "email").is_in([0, 1])
    )
    same_birth = (
        ((_level(levels, "date_of_birth") == _BIRTH_EXACT) & ~twins.fill_null(False))
        | (_level(levels, "national_id") >= 1)
        | (_level(levels, "person_id") == 1)
    )
    conditions: dict[str, pl.Expr] = {
        "cvr_conflict": _level(levels, "cvr") == 0,
        "ean_conflict": _level(levels, "ean") == 0,
        # two contacts of one company, or a person and another person's company record
        "different_contacts": _level(levels, "contact") == 0,
        "household": persons
        & _same_address(levels)
        & (
            _level(levels, "first_name").is_in([0, FIRST_NAMES_APART])
            | ((_level(levels, "date_of_birth") == 0) & (apart >= GENERATION))
            # neighbours: ``Nina Hansen`` and ``Anna Andersen``, 1. th and 1. tv
            | (
                (_level(levels, "address") == _OTHER_UNIT)
                & (_level(levels, "last_name") == 0)
                & (_level(levels, "first_name") != _FIRST_NAME_EXACT)
            )
        )
        & ~same_birth,
        "person_and_business": pl.col("_owner") & ~(_level(levels, "name") == _NAME_EXACT),
        "group_company": companies
        & _same_address(levels)
        & (_level(levels, "name") == 0)
        & ~same_identifier,
        "different_names": (
            (
                (companies & (_level(levels, "name") == 0))
                | (
                    persons
                    & (_level(levels, "first_name") == 0)
                    & (_level(levels, "last_name") == 0)
                )
            )
            & ~same_identifier
        )
        # two departments of one authority: its CVR number is no tie, one EAN number is
        | (pl.col("_public") & (_level(levels, "name") == 0) & ~(_level(levels, "ean") == 1)),
    }
    expr = pl.lit(None, dtype=pl.String)
    for rule in reversed(rules):
        expr = pl.when(conditions[rule].fill_null(False)).then(pl.lit(rule)).otherwise(expr)
    return frame.select(expr.alias("hard_rule")).to_series()
