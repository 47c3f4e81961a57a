"""The review band: derived per file from the model's uncertainty, or given by the user."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from datavask.cleansing.matching import MatchSettings, find_duplicates
from datavask.cleansing.matching.compare import COMPARISONS
from datavask.cleansing.matching.fellegi_sunter import FellegiSunterModel, train
from datavask.cleansing.matching.review_band import (
    CERTAIN_WEIGHT,
    MAX_HALF_WIDTH,
    MIN_HALF_WIDTH,
    given_band,
    model_band,
    probability,
    threshold_band,
    weight,
)
from tests.cleansing.matching.population import population

PHONE = COMPARISONS["phone"]
DOB = COMPARISONS["date_of_birth"]


def _model(spread: dict[str, list[float]]) -> FellegiSunterModel:
    return FellegiSunterModel(
        comparisons=(PHONE, DOB),
        m={"phone": [0.2, 0.8], "date_of_birth": [0.1, 0.1, 0.8]},
        u={"phone": [0.99, 0.01], "date_of_birth": [0.98, 0.01, 0.01]},
        match_share=0.1,
        m_spread=spread,
    )


@pytest.mark.parametrize("p", [0.01, 0.2, 0.5, 0.9, 0.999])
def test_weight_and_probability_are_inverse(p: float) -> None:
    assert probability(weight(p)) == pytest.approx(p)


def test_a_model_whose_estimates_agree_gets_the_narrowest_band() -> None:
    band = model_band(_model({"phone": [0.0, 0.0], "date_of_birth": [0.0, 0.0, 0.0]}))
    assert band.source == "model"
    assert band.uncertainty_bits == 0.0
    assert (band.low, band.high) == pytest.approx((1 / 3, 2 / 3))  # odds 2:1 either side
    assert weight(band.high) == pytest.approx(MIN_HALF_WIDTH)


def test_the_band_widens_with_the_spread_of_the_estimates() -> None:
    # Variance of a matching pair's weight: sum over levels of m * spread².
    spread = {"phone": [1.0, 2.0], "date_of_birth": [0.0, 3.0, 1.0]}
    sigma = math.sqrt(0.2 * 1 + 0.8 * 4 + 0.1 * 9 + 0.8 * 1)
    band = model_band(_model(spread))
    assert band.uncertainty_bits == pytest.approx(sigma)
    assert weight(band.high) == pytest.approx(2 * sigma)
    assert weight(band.low) == pytest.approx(-2 * sigma)
    assert band.low + band.high == pytest.approx(1.0)  # symmetric around posterior 0.5


def test_the_band_is_capped() -> None:
    band = model_band(_model({"phone": [50.0, 50.0]}))
    assert weight(band.high) == pytest.approx(MAX_HALF_WIDTH)


def test_certain_links_lie_well_beyond_the_merge_point() -> None:
    assert threshold_band(0.5).certain_weight == CERTAIN_WEIGHT
    wide = model_band(_model({"phone": [5.0, 5.0]}))  # half-width 10 bits
    assert wide.certain_weight == pytest.approx(20.0)
    assert given_band((0.5, 1.0)).certain_weight == math.inf  # nothing is certain enough


def test_the_record_names_band_weights_and_source() -> None:
    record = given_band((0.2, 0.9)).record()
    assert record["source"] == "option"
    assert (record["low"], record["high"]) == (0.2, 0.9)
    assert record["high_weight"] == pytest.approx(math.log2(9), abs=1e-4)
    assert given_band((0.0, 1.0)).record()["low_weight"] is None  # -inf is not JSON


@pytest.mark.parametrize("band", [(0.9, 0.5), (-0.1, 0.5), (0.5, 1.5), (0.5, 0.5)])
def test_a_nonsense_band_is_refused(band: tuple[float, float]) -> None:
    with pytest.raises(ValueError, match="review band"):
        given_band(band)


def _levels(rows: list[tuple[int, int]]) -> pl.DataFrame:
    a, b = zip(*rows, strict=True)
    return pl.DataFrame(
        {"lvl_phone": a, "lvl_date_of_birth": b},
        schema={"lvl_phone": pl.Int8, "lvl_date_of_birth": pl.Int8},
    )


def _consistent_then_drifting() -> tuple[
    pl.DataFrame, dict[str, list[float]], pl.Series, pl.Series
]:
    """Matches (phone 1, birth 2) and non-matches (0, 0): the first 1,000 pairs' matches agree on
    the birth date as often as on the phone, the second 1,000's half differ in it; u of both
    fields; the positions of the first and of the second 1,000."""
    consistent = [(1, 2)] * 300 + [(0, 0)] * 700
    drifting = [(1, 2)] * 150 + [(1, 0)] * 150 + [(0, 0)] * 700
    u = {"phone": [0.99, 0.01], "date_of_birth": [0.98, 0.01, 0.01]}
    first = pl.Series(np.arange(1000), dtype=pl.UInt32)
    second = pl.Series(np.arange(1000, 2000), dtype=pl.UInt32)
    return _levels(consistent + drifting), u, first, second


def test_sessions_that_disagree_make_the_model_less_certain() -> None:
    # Matches (phone 1, birth 2) and non-matches (0, 0). In the first session the matches' birth
    # dates agree as often as the phones; in the second many matches differ in birth date — the
    # two sessions estimate m for the birth date differently, as dependent fields make them do.
    levels, u, first, second = _consistent_then_drifting()
    agreeing = train(levels.head(1000), [(first, ()), (first, ())], (PHONE, DOB), u)
    disagreeing = train(levels, [(first, ()), (second, ())], (PHONE, DOB), u)
    assert agreeing.weight_uncertainty() == pytest.approx(0.0, abs=1e-6)
    assert disagreeing.weight_uncertainty() > 0.5
    assert model_band(disagreeing).high > model_band(agreeing).high


def test_find_duplicates_decides_on_the_band_it_reports() -> None:
    records = population()
    result = find_duplicates(records, settings=MatchSettings(pair_floor=0.0))
    band = result.review_band
    assert band is not None and band.source == "model"
    assert band.low < 0.5 < band.high
    pairs = result.pairs.filter(pl.col("hard_rule").is_null())
    p = pairs["match_probability"]
    assert (pairs.filter(p >= band.high)["decision"] == "match").all()
    assert (pairs.filter((p >= band.low) & (p < band.high))["decision"] == "review").all()
    assert (pairs.filter(p < band.low)["decision"] == "non-match").all()

    given = find_duplicates(records, review_band=(0.2, 0.9))
    assert given.review_band is not None
    assert (given.review_band.low, given.review_band.high, given.review_band.source) == (
        0.2,
        0.9,
        "option",
    )


def test_one_session_that_drifts_among_agreeing_ones_does_not_widen_the_band() -> None:
    # Three rules' sessions agree; a fourth, whose EM took namesakes for matches, does not. A
    # robust spread lets the three say how far the estimates agree: a larger file with more such
    # sessions does not get a wider band for it.
    levels, u, first, second = _consistent_then_drifting()
    sessions = [(first, ()), (first, ()), (first, ()), (second, ())]
    model = train(levels, sessions, (PHONE, DOB), u)
    assert model.weight_uncertainty() == pytest.approx(0.0, abs=1e-6)
    half_drifting = train(
        levels, [(first, ()), (first, ()), (second, ()), (second, ())], (PHONE, DOB), u
    )
    assert half_drifting.weight_uncertainty() > 0.5  # where half disagree, the band widens
