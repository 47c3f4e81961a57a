"""The review band: which pairs are merged, which go to a person, which stay apart.

A pair's ``match_probability`` is the posterior of the Fellegi–Sunter model, whose prior (the
chance that two random records of *this* file are one customer) is estimated with m and u (see
:mod:`~datavask.cleansing.matching.fellegi_sunter`). The posterior crosses 0.5 at match weight 0:
there the evidence for and against a pair balances. How far either side of that point a pair must
lie before the machine decides alone depends on how far the model can be trusted on this file, so
by default the band is derived per file from the estimated model:

- half-width ``δ = z · σ`` bits, ``σ`` being
  :meth:`~datavask.cleansing.matching.fellegi_sunter.FellegiSunterModel.weight_uncertainty` — how
  much a matching pair's weight moves between the per-blocking-rule estimates of m, which agree
  when the fields are independent evidence and drift apart when they are not. The spread is a
  robust one (the median absolute deviation): a rule whose EM puts all its pairs in one class
  (λ = 1, namesakes and all) says nothing about how far the other estimates agree, and such rules
  grow with a file's name blocks — with the standard deviation the band widened from ±3.0 bits
  at 20,000 generated Danish rows to ±5.5 at 1M, 1.24 review pairs per record, 0.4 % of them
  duplicates;
- ``δ`` never below :data:`MIN_HALF_WIDTH` bits (odds 2:1 are not a decision) nor above
  :data:`MAX_HALF_WIDTH` (a band wider than that sends every pair to review);
- review from ``p(−δ)``, merged from ``p(+δ)``, where ``p(w) = 1 / (1 + 2^−w)``.

Example (measured through ``datavask cleanse``, bench/README "A review list a person can work"):
a register of people whose fields are typed independently (FEBRL2) gets ``σ = 0.33``, so
``δ = 1`` and the band 0.33 – 0.67; the generated Danish customer file gets ``σ = 0.24`` at
20,000 rows, 0.42 at 200,000 and 0.50 at 1M, so the same band, holding 44, 239 and 1,259 pairs
(36 %, 30 % and 22 % of them duplicates); Chicago's childcare sites ``σ = 0.48`` and
historical_50k ``σ = 0.59`` (0.31 – 0.69). EM sees a comparison's disagreeing levels as one
(:func:`~datavask.cleansing.matching.fellegi_sunter.fit_patterns`): before, the e-mail's two
"different" levels let the name rules' sessions take "two persons" for matches, and σ was 1.6
bits at 20,000 rows and 2.7 at 1M.
An explicit band (``--review-band LOW:HIGH``) replaces the derived one; either way the band used is
recorded in run.json and the report.

The band also says which links are *certain*: at least :data:`CERTAIN_WEIGHT` bits (odds 255:1) and
twice the merge point's weight. A Danish rule's veto on one pair (a household, sister companies)
does not split a cluster that certain links hold together (see
:mod:`~datavask.cleansing.matching.clusters`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

from datavask.cleansing.matching.fellegi_sunter import FellegiSunterModel

Z: Final = 2.0
MIN_HALF_WIDTH: Final = 1.0
MAX_HALF_WIDTH: Final = 10.0
CERTAIN_WEIGHT: Final = 8.0


def probability(weight: float) -> float:
    """The posterior of a match weight in bits.

    >>> probability(0.0), round(probability(1.0), 4)
    (0.5, 0.6667)
    """
    return 1.0 / (1.0 + 2.0 ** (-weight))


def weight(p: float) -> float:
    """The match weight (bits) of a posterior; ±inf at 1 and 0.

    >>> weight(0.5), round(weight(0.95), 2)
    (0.0, 4.25)
    """
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    return math.log2(p / (1.0 - p))


@dataclass(frozen=True)
class ReviewBand:
    """Posteriors ``low`` (review from here) and ``high`` (merged from here); where they came from
    (``model`` or ``option``) and, for a derived band, the model uncertainty behind it."""

    low: float
    high: float
    source: str
    uncertainty_bits: float | None = None

    @property
    def certain_weight(self) -> float:
        """The match weight from which a link holds a cluster together against a soft veto."""
        return max(CERTAIN_WEIGHT, 2.0 * weight(self.high))

    def record(self) -> dict[str, Any]:
        """What run.json keeps: the band in probability and in match weight, and its source."""
        out: dict[str, Any] = {
            "low": round(self.low, 6),
            "high": round(self.high, 6),
            "low_weight": _finite(weight(self.low)),
            "high_weight": _finite(weight(self.high)),
            "source": self.source,
            "certain_weight": _finite(self.certain_weight),
        }
        if self.uncertainty_bits is not None:
            out["uncertainty_bits"] = round(self.uncertainty_bits, 4)
        return out


def _finite(bits: float) -> float | None:
    return round(bits, 4) if math.isfinite(bits) else None


def given_band(band: tuple[float, float]) -> ReviewBand:
    """A band the user gave (``--review-band``); ``0 <= low < high <= 1``."""
    low, high = band
    if not 0.0 <= low < high <= 1.0:
        raise ValueError(f"review band must satisfy 0 <= low < high <= 1, got {band!r}")
    return ReviewBand(low, high, "option")


def threshold_band(threshold: float) -> ReviewBand:
    """One probability that splits match from non-match, with no review in between."""
    return ReviewBand(threshold, threshold, "threshold")


def model_band(model: FellegiSunterModel, *, z: float = Z) -> ReviewBand:
    """The band around posterior 0.5, ``z`` times the model's weight uncertainty either side."""
    sigma = model.weight_uncertainty()
    half = min(max(z * sigma, MIN_HALF_WIDTH), MAX_HALF_WIDTH)
    return ReviewBand(probability(-half), probability(half), "model", uncertainty_bits=sigma)
