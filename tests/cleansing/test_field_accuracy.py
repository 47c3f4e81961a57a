"""Phones, e-mails, CVR and EAN against the generator's ground truth on a held-out seed.

The seed is used by no other test or tuning run. A field is correct when the cleaned value equals
the truth's; where the truth holds a value, at least 99.5 % must be correct and none may be
rejected (a false reject blocks an invoice that would have gone out).
"""

from __future__ import annotations

from functools import cache

import polars as pl
import pytest

from bench.generate import generate
from datavask.cleansing.cpr import mask_cpr
from datavask.cleansing.emails import normalise_emails
from datavask.cleansing.identifiers import normalise_identifiers
from datavask.cleansing.phones import normalise_phones
from datavask.cleansing.schema import CANONICAL_FIELDS, raw

HELD_OUT_SEED = 20261123
ROWS = 20_000

# The generator's Danish CRM dialect, mapped to canonical fields as the ingest connector would.
DANISH_COLUMNS = {
    "Kundenr": "record_id",
    "Navn": "name",
    "Adresse": "address",
    "Postnr": "postal_code",
    "By": "city",
    "Land": "country",
    "CVR-nr": "cvr",
    "EAN-nr": "ean",
    "E-mail": "email",
    "Telefon": "phone",
}


def canonical_frame(customers: pl.DataFrame) -> pl.DataFrame:
    field_to_header = {field: header for header, field in DANISH_COLUMNS.items()}
    return customers.select(
        pl.col("Kundenr").alias("record_id"),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("source_row"),
        *[
            (pl.col(field_to_header[f]) if f in field_to_header else pl.lit(None, pl.String))
            .cast(pl.String)
            .alias(raw(f))
            for f in CANONICAL_FIELDS
            if f != "record_id"
        ],
        *[pl.col(header).alias(f"src_{header}") for header in customers.columns],
    )


@cache
def _cleaned_with_truth() -> pl.DataFrame:
    dataset = generate(ROWS, HELD_OUT_SEED, dialect="danish")
    frame = canonical_frame(dataset.customers)
    cleaned = normalise_emails(normalise_phones(normalise_identifiers(mask_cpr(frame))))
    truth = dataset.truth.select(
        "true_phone_e164", "true_email", "true_cvr", "true_ean", "expected_flags"
    )
    return pl.concat([cleaned, truth], how="horizontal")


@pytest.mark.parametrize(
    ("ours", "truth", "code"),
    [
        ("phone_e164", "true_phone_e164", "INVALID_PHONE"),
        ("email", "true_email", "INVALID_EMAIL"),
        ("cvr", "true_cvr", "INVALID_CVR"),
        ("ean", "true_ean", "INVALID_EAN"),
    ],
)
def test_field_matches_truth(ours: str, truth: str, code: str) -> None:
    frame = _cleaned_with_truth()
    assert frame.height == ROWS
    with_value = frame.filter(pl.col(truth).is_not_null())
    assert with_value.height > 500, "the held-out data must exercise the field"
    correct = (with_value[ours] == with_value[truth]).sum()
    assert correct / with_value.height >= 0.995, (ours, with_value.height - correct)
    rejected = with_value.filter(pl.col(ours).is_null())
    assert rejected.height == 0, rejected.select(raw(ours.removesuffix("_e164")), truth).head(10)
    # The flag follows the truth's reason code for this field.
    expected = frame["expected_flags"].list.contains(code)
    assert (frame[f"flag_{code}"] == expected).mean() >= 0.995


def test_every_planted_cpr_number_is_masked() -> None:
    frame = _cleaned_with_truth()
    expected = frame["expected_flags"].list.contains("CPR_IN_DATA")
    assert expected.sum() > 10
    assert (frame["flag_CPR_IN_DATA"] == expected).all()
    text = frame.select(pl.col(pl.String)).select(
        pl.any_horizontal(pl.all().str.contains(r"\b[0-9]{6}-[0-9]{4}\b")).alias("left")
    )
    assert not text["left"].any()
