"""A matching field with one distinct value: u must stay positive, the weights finite (issue 9.1)."""

from __future__ import annotations

import math

import polars as pl
import pytest

from datavask.cleansing.matching.compare import COMPARISONS
from datavask.cleansing.matching.fellegi_sunter import (
    PROBABILITY_FLOOR,
    FellegiSunterModel,
    estimate_u,
    term_frequencies,
)
from datavask.cleansing.matching.prepare import prepare_records
from tests.cleansing.matching.population import COLUMNS

PHONE, EMAIL = COMPARISONS["phone"], COMPARISONS["email"]


def _records(phones: list[str | None], emails: list[str | None]) -> pl.DataFrame:
    n = len(phones)
    columns = {name: [None] * n for name in COLUMNS}
    columns |= {
        "record_id": [str(i) for i in range(1, n + 1)],
        "source_row": list(range(1, n + 1)),
        "customer_type": ["company"] * n,
        "name_key": [f"firma {i}" for i in range(n)],
        "phone_e164": phones,
        "email": emails,
    }
    return prepare_records(pl.DataFrame(columns, schema=COLUMNS))


@pytest.mark.parametrize(
    ("phones", "emails"),
    [
        # three rows of which one has a phone
        ([None, "+4522378415", None], [None, None, None]),
        # 200 rows sharing one switchboard number
        (["+4533121212"] * 200, [None] * 200),
        # 200 rows of which one has an e-mail
        ([None] * 200, ["info@firma.dk"] + [None] * 199),
    ],
    ids=["one-phone-of-three", "one-switchboard", "one-email-of-200"],
)
def test_one_distinct_value_gives_finite_weights(
    phones: list[str | None], emails: list[str | None]
) -> None:
    records = _records(phones, emails)
    comparisons = (PHONE, EMAIL)
    tables, means = term_frequencies(records, comparisons)
    u, _ = estimate_u(records, comparisons, tf_mean=means)
    for name, probs in u.items():
        assert min(probs) >= PROBABILITY_FLOOR / 2, (name, probs)
        assert sum(probs) == pytest.approx(1.0)
    model = FellegiSunterModel(comparisons, m={c.name: [0.3 / c.top] * c.top + [0.7] for c in comparisons}, u=u,
                               match_share=0.1, tf_tables=tables, tf_mean=means)  # fmt: skip
    for c in comparisons:
        assert all(math.isfinite(w) for w in model.level_weights(c.name))
