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
    "first_name",
    "last_name",
    "address",
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
        "MISSING_EAN",
        "INVALID_EAN",
        "BLACKLISTED",
    }
)
BLOCKS_COLLECTION: Final = BLOCKS_INVOICE | frozenset({"COMPANY_DISTRESSED", "NO_CONTACT"})
INFORMATIONAL: Final = frozenset(
    {
        "INVALID_PHONE",
        "INVALID_EMAIL",
        "ADDRESS_MISMATCH",
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
    """What one cleansing stage reads (must be present on entry) and what it adds."""

    reads: tuple[str, ...]
    writes: tuple[str, ...]


def _raws(*fields: str) -> tuple[str, ...]:
    return tuple(raw(f) for f in fields)


STAGES: Final[dict[str, Stage]] = {
    "person_key": Stage(_raws("person_id"), ("_person_key",)),
    "identifiers": Stage(
        _raws("cvr", "ean"), ("cvr", "ean", "flag_INVALID_CVR", "flag_INVALID_EAN")
    ),
    "phones": Stage(
        _raws("phone", "mobile", "country"),
        ("phone_e164", "phone_numbers", "phone_extension", "flag_INVALID_PHONE"),
    ),
    "emails": Stage(_raws("email"), ("email", "emails", "email_domain", "flag_INVALID_EMAIL")),
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
        ),
    ),
    "addresses": Stage(
        _raws(
            "address", "street", "house_number", "floor", "door", "postal_code", "city", "country"
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
        ),
    ),
    "customer_type": Stage(_raws("customer_type"), ("customer_type",)),
    "dates": Stage(
        _raws("date_of_birth", "updated_at"),
        ("date_of_birth", "updated_at", "date_of_birth_invalid", "updated_at_invalid"),
    ),
}
"""Each normalisation stage's inputs and outputs, in the order :func:`~datavask.cleansing.normalise.
normalise` runs them. ``record_id`` is read by every stage that reports on a record."""

MATCH_ONLY_COLUMNS: Final = ("_person_key",)
"""Columns that exist for matching only and are dropped before anything is written."""


class StageInputError(ValueError):
    """A stage was handed a frame without a column it reads: a wiring fault, never user input."""


def require_columns(frame: pl.DataFrame, stage: str) -> None:
    """Raise :class:`StageInputError` naming every column ``stage`` reads that ``frame`` lacks."""
    missing = [c for c in STAGES[stage].reads if c not in frame.columns]
    if missing:
        raise StageInputError(f"stage {stage!r} needs column(s) {', '.join(missing)}")
