"""The benchmark's contact export: one row per person, the truth the contact."""

from __future__ import annotations

import polars as pl

from bench.gen_contacts import COLUMNS, contact_export


def test_a_contact_export_has_people_at_companies_and_is_reproducible() -> None:
    frame, truth = contact_export(600, seed=5)
    assert frame.columns == list(COLUMNS) and frame.height == truth.len() == 600
    rows = frame.with_columns(truth.alias("truth"))
    companies = rows.filter(pl.col("Company Name").is_not_null())
    # Some companies have two or more contacts: rows of one company, different truths.
    per_company = companies.with_columns(pl.col("truth").str.split("/").list.first().alias("c"))
    contacts = per_company.group_by("c").agg(pl.col("truth").n_unique().alias("n"))
    assert contacts["n"].max() > 1  # type: ignore[operator]
    # One contact's rows are one person at one company.
    people = companies.group_by("truth").agg(pl.col("Last Name").n_unique().alias("n"))
    assert people["n"].max() == 1
    again, again_truth = contact_export(600, seed=5)
    assert again.equals(frame) and again_truth.equals(truth)
