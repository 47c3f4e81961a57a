"""The shape of a record as it moves through datavask.

Connectors turn any input into the *canonical frame*: every column text, plus

- ``record_id`` (the input's id, or the 1-based row number) and ``source_row`` (1-based, Int64),
- ``raw_<field>`` for every field in :data:`CANONICAL_FIELDS` (null where the input lacks it),
- ``src_<column>`` for every input column, unchanged.

Each cleansing stage adds columns; a stage that finds a problem adds a boolean ``flag_<CODE>``
column, and :mod:`cleansing.verdict` gathers all ``flag_*`` columns into the sorted ``flags`` list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

CANONICAL_FIELDS: Final = (
    "record_id",
    "name",
    # a second name line (``Navn 2``, ``Name 2``): read after the first
    "name_2",
    "first_name",
    "last_name",
    "address",
    # a second address line (``Adresse 2``, ``Address 2``): read with the first
    "address_2",
    # a third (Uniconta's ``Adresse 3``, Dynamics 365's ``Address 1: Street 3``): read after it
    "address_3",
    "street",
    "house_number",
    "floor",
    "door",
    "postal_code",
    "city",
    "country",
    "phone",
    "mobile",
    "email",
    "cvr",
    "ean",
    "customer_type",
    "date_of_birth",
    "updated_at",
    "person_id",
)

# The canonical reader's note of the whitespace it trimmed off the mapped fields' cells: per
# record, null where no cell had any; else a list in :data:`CANONICAL_FIELDS` order holding, for a
# padded cell, its leading and trailing whitespace joined by PADDING_SPLIT (``Hansen ApS `` →
# ``"\x00 "``). changes.csv lists the trimming the re-import writes from it.
TYPED_PADDING: Final = "_typed_padding"
PADDING_SPLIT: Final = "\x00"

RAW_PREFIX: Final = "raw_"
SRC_PREFIX: Final = "src_"
FLAG_PREFIX: Final = "flag_"

CUSTOMER_TYPES: Final = ("company", "public", "person")

# Reason codes of the contract, with what each blocks.
BLOCKS_INVOICE: Final = frozenset(
    {
        "MISSING_NAME",
        "MISSING_ADDRESS",
        "UNKNOWN_POSTAL_CODE",
        "MISSING_CVR",
        "INVALID_CVR",
        "CVR_NOT_FOUND",
        "NAME_MISMATCH",
        "COMPANY_BANKRUPT",
        "COMPANY_DISSOLVED",
        "DECEASED_ESTATE",
        "MISSING_EAN",
        "INVALID_EAN",
        "BLACKLISTED",
    }
)
# A minor (under 18, umyndig) may be invoiced, the invoice going to the guardian, but is no
# ordinary debtor for a debt collector: few debts bind a minor (værgemålsloven §§ 1, 42).
BLOCKS_COLLECTION: Final = BLOCKS_INVOICE | frozenset({"COMPANY_DISTRESSED", "NO_CONTACT", "MINOR"})
INFORMATIONAL: Final = frozenset(
    {
        "INVALID_PHONE",
        "INVALID_EMAIL",
        "ADDRESS_MISMATCH",
        "POSTAL_CITY_MISMATCH",
        "DUPLICATE",
        "REVIEW_MATCH",
        "REGISTRY_UNCHECKED",
        "CPR_IN_DATA",
    }
)
REASON_CODES: Final = tuple(sorted(BLOCKS_COLLECTION | INFORMATIONAL))


def raw(field: str) -> str:
    """Column name of a canonical field's raw text in the canonical frame."""
    return f"{RAW_PREFIX}{field}"


def flag(code: str) -> str:
    """Column name of the boolean column that raises ``code``."""
    if code not in REASON_CODES:
        raise ValueError(f"unknown reason code {code!r}")
    return f"{FLAG_PREFIX}{code}"


# ---------------------------------------------------------------------------- stage contracts


@dataclass(frozen=True)
class Stage:
    """What one cleansing stage reads and what it adds.

    ``reads`` must be present on entry (:func:`require_columns`); ``optional`` are columns the
    stage uses when a frame has them and reads as null when it does not — a field a blacklist or
    a partial table may lack, or a column an earlier, optional step adds.
    """

    reads: tuple[str, ...]
    writes: tuple[str, ...]
    optional: tuple[str, ...] = ()


def _raws(*fields: str) -> tuple[str, ...]:
    return tuple(raw(f) for f in fields)


_ADDRESS_PARTS: Final = ("street", "house_number", "floor", "door", "postal_code", "city")
# The input fields changes.csv reports on (cleansing.changes.SHAPED_FIELDS).
_SHAPED_FIELDS: Final = (
    "name", "name_2", "first_name", "last_name", "address", "address_2", "address_3",
    *_ADDRESS_PARTS, "phone", "mobile", "email", "cvr", "ean",
)  # fmt: skip


STAGES: Final[dict[str, Stage]] = {
    "person_key": Stage(_raws("person_id"), ("_person_key",)),
    # The field stages also clean a blacklist, which holds any of its columns: their fields are
    # optional; normalise checks the whole canonical frame before it runs them.
    "identifiers": Stage(
        (),
        ("cvr", "vat_number", "ean", "flag_INVALID_CVR", "flag_INVALID_EAN"),
        # name: a CVR number noted in it (``Hansen Byg ApS (CVR 25313763)``) when the field is empty
        optional=_raws("cvr", "ean", "name"),
    ),
    "phones": Stage(
        (),
        ("phone_e164", "phone_numbers", "phone_extension", "flag_INVALID_PHONE"),
        # country: the record's country as the addresses stage decided it (from the address
        # when the country column is empty), so a British number beside "TQ13 8DF" is British.
        optional=(*_raws("phone", "mobile", "country"), "country"),
    ),
    "emails": Stage(
        (), ("email", "emails", "email_domain", "flag_INVALID_EMAIL"), optional=_raws("email")
    ),
    "names": Stage(
        _raws("name", "first_name", "last_name"),
        (
            "name",
            "legal_form",
            "name_key",
            "first_name",
            "last_name",
            "first_name_key",
            "last_name_key",
            "flag_MISSING_NAME",
            "flag_DECEASED_ESTATE",
            # the name says the customer is bankrupt, in liquidation or ceased (names.STATE_CODES:
            # the verdict's COMPANY_BANKRUPT, COMPANY_DISTRESSED, COMPANY_DISSOLVED)
            "state_by_name",
        ),
        # a second name line is read after the first (a blacklist has none)
        optional=_raws("name_2"),
    ),
    "addresses": Stage(
        _raws(
            "address", "address_2", "street", "house_number", "floor", "door", "postal_code",
            "city", "country",
        ),
        (
            "street",
            "house_number",
            "floor",
            "door",
            "postal_code",
            "city",
            "country",
            "street_key",
            "address_key",
            "flag_MISSING_ADDRESS",
            "flag_UNKNOWN_POSTAL_CODE",
            "flag_POSTAL_CITY_MISMATCH",
            "co_name",
            "po_box",
            "address_extra",
        ),
        # a phone written with its country code names a foreign record's country (``80331``);
        # a third address line is read after the second (a blacklist has none)
        optional=_raws("phone", "mobile", "address_3"),
    ),
    # after addresses, once each record's country is known: a foreign customer's legal form as
    # typed, and its own company number in the CVR field no broken CVR number
    "abroad": Stage(
        ("country", "legal_form", "name", *_raws("name", "first_name", "last_name"),
         "vat_number", "flag_INVALID_CVR"),
        ("name", "vat_number", "flag_INVALID_CVR"),
        optional=_raws("cvr", "name_2"),
    ),
    # an estate is a person's, whatever business word its executor's name holds
    "customer_type": Stage(
        _raws("customer_type"),
        ("customer_type",),
        optional=("cvr", "vat_number", "ean", "legal_form", "name", "name_key",
                  "flag_DECEASED_ESTATE"),
    ),
    "dates": Stage(
        _raws("date_of_birth", "updated_at"),
        ("date_of_birth", "updated_at", "date_of_birth_invalid", "updated_at_invalid",
         "flag_MINOR"),
        # country: an American file's dates are read month first where they may be either;
        # customer_type: a company's record holds its owner's birth date, and is no minor
        optional=("country", "customer_type"),
    ),
    # ---- after normalisation: what the later stages read of the records
    "verdict": Stage(
        ("record_id", "customer_type", "cvr", "ean", "phone_e164", "email"),
        ("flags", "invoice_ready", "collection_ready"),
        # cluster_id: one cluster per record when matching did not run; country: a frame without
        # it is Danish (a foreign record owes no CVR or EAN number)
        optional=("cluster_id", "country", "vat_number", "state_by_name"),
    ),
    "survivorship": Stage(
        (),
        ("golden",),
        # golden records are built from whatever of these a frame has; registry_* only when the
        # registry was asked
        optional=(
            "name", "legal_form", "street", "house_number", "floor", "door", "postal_code",
            "city", "country", "phone_e164", "email", "cvr", "vat_number", "ean", "customer_type",
            "registry_name", "registry_proposed_name",
            *(f"registry_proposed_{f}" for f in _ADDRESS_PARTS),
        ),
    ),
    # the input fields as read: only the mapped ones exist in a frame that did not come through
    # the canonical reader, and only mapped fields are written back
    # and the cleaned value of each, which a frame of a few fields lacks too
    "changes": Stage(
        (),
        ("changes",),
        optional=(
            *_raws(*_SHAPED_FIELDS),
            *(f for f in _SHAPED_FIELDS
              if f not in ("name_2", "address", "address_2", "address_3", "phone", "mobile")),
            "legal_form", "co_name", "po_box", "address_extra", "phone_e164",
            "country",  # a foreign line written number first goes back number first
            "customer_type",  # a person's name written last name first goes back so
        ),
    ),
    "blacklist_file": Stage(
        (), ("entries",), optional=_raws("cvr", "phone", "email", "name", "address", "reason")
    ),
    "blacklist": Stage(
        ("record_id", "cvr", "phone_e164", "email", "house_number", "postal_code"),
        ("hits",),
    ),
}  # fmt: skip
"""Each stage's inputs and outputs: the normalisation stages in the order
:func:`~datavask.cleansing.normalise.normalise` runs them, then the stages after matching.
``record_id`` is read by every stage that reports on a record."""

NORMALISE_STAGES: Final = (
    "person_key", "identifiers", "phones", "emails", "names", "addresses", "abroad",
    "customer_type", "dates",
)  # fmt: skip
"""The stages :func:`~datavask.cleansing.normalise.normalise` runs: their outputs are its output."""

MATCH_ONLY_COLUMNS: Final = (
    "_person_key", "_registry_name_keys",
    # the normalised keys: the registry step and matching compare them; the blacklist makes its
    # own name key, and reads the street key, which stays
    "name_key", "first_name_key", "last_name_key", "address_key", "email_domain",
)  # fmt: skip
"""Columns that exist for matching only and are dropped once it is done, before anything is
written: no later stage reads them (at 1M records the keys are 0.15 GB the verdict would hold)."""


class StageInputError(ValueError):
    """A stage was handed a frame without a column it reads: a wiring fault, never user input."""


def require_columns(frame: pl.DataFrame, stage: str) -> None:
    """Raise :class:`StageInputError` naming every column ``stage`` reads that ``frame`` lacks."""
    missing = [c for c in STAGES[stage].reads if c not in frame.columns]
    if missing:
        raise StageInputError(f"stage {stage!r} needs column(s) {', '.join(missing)}")


def whole_number(value: pl.Expr, digits: str = "6,") -> pl.Expr:
    """A phone, CVR or EAN number a spreadsheet or dataframe wrote as a decimal, without its
    ``.0``: ``25313763.0`` → ``25313763``, ``20304050.0`` → ``20304050``.

    An export that read a number column with a blank in it as floating point (pandas does)
    writes every number so. Only a single ``.0`` after ``digits`` digits (a regex count: six or
    more for a phone, ``"8"`` for a CVR number) is dropped: ``2030.0000`` is a phone number with
    a dot in it, and ``1234567.0`` a CVR number with one (``12345670``), not the decimal 1234567.

    >>> pl.select(whole_number(pl.lit("25313763.0"))).item()
    '25313763'
    >>> pl.select(whole_number(pl.lit("2030.0000"))).item()
    '2030.0000'
    """
    return value.str.replace(rf"^(\s*\+?\d{{{digits}}})\.0(\s*)$", "${1}${2}")


def stage_text(
    frame: pl.DataFrame, stage: str, column: str, *, blank_as_null: bool = False
) -> pl.Expr:
    """``column`` of ``frame`` as text, for ``stage``: the one way a stage reads a column.

    A column the stage declares optional reads as null when ``frame`` lacks it; a required one
    that is missing, or one the stage does not declare at all, raises :class:`StageInputError`
    (the stage and its declaration have drifted apart). ``blank_as_null``: trimmed, and a value
    of only whitespace is null.
    """
    declared = STAGES[stage]
    if column not in frame.columns:
        if column in declared.optional:
            # a column of the frame's height, also in a select of nothing but such columns
            return pl.repeat(None, pl.len(), dtype=pl.String)
        kind = "needs" if column in declared.reads else "reads undeclared"
        raise StageInputError(f"stage {stage!r} {kind} column {column}")
    if column not in declared.reads and column not in declared.optional:
        raise StageInputError(f"stage {stage!r} reads undeclared column {column}")
    value = pl.col(column).cast(pl.String)
    if blank_as_null:
        # ``value`` once in the expression (a stage's helpers nest these reads)
        return value.str.strip_chars().replace("", None)
    return value
