"""The shape of a record as it moves through datavask.

Connectors turn any input into the *canonical frame*: every column text, plus

- ``record_id`` (the input's id, or the 1-based row number) and ``source_row`` (1-based, Int64),
- ``raw_<field>`` for every field in :data:`CANONICAL_FIELDS` (null where the input lacks it),
- ``src_<column>`` for every input column, unchanged.

Each cleansing stage adds columns; a stage that finds a problem adds a boolean ``flag_<CODE>``
column, and :mod:`cleansing.verdict` gathers all ``flag_*`` columns into the sorted ``flags`` list.
"""

from __future__ import annotations

from typing import Final

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
