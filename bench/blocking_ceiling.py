"""How high blocking recall can go on historical_50k: the true pairs no key can find.

A blocking key brings two records together when they share a value (or a prefix, a phonetic
code, a q-gram of one). This script counts, over every true pair of Splink's historical_50k
persons (``bench/data/historical_50k.parquet``, the file ``bench.bench_cli`` writes), the pairs
whose two records

1. agree exactly on none of first name, surname, date of birth, birth place, postcode and
   occupation (lower-cased, trimmed; an empty value agrees with nothing), and
2. have no name word of one within Jaro-Winkler 0.8 of a name word of the other (``jaido
   morata`` / ``john vickers``: an alias, ``william charlton`` / ``bill browell``), and
3. no date of birth in the same year and no postcode in the same district (``ta4``).

Such a pair shares nothing a key could be built on short of comparing every record with every
other, so ``1 - unreachable / true pairs`` bounds the blocking recall of any key set. datavask's
own recall and Splink's come from ``bench.bench_cli`` (``block R``)::

    python -m bench.blocking_ceiling
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from rapidfuzz.distance import JaroWinkler

DATA = Path(__file__).parent / "data" / "historical_50k.parquet"
FIELDS = ["first_name", "surname", "dob", "birth_place", "postcode_fake", "occupation"]
NAME_SIMILAR = 0.8


def _name_similarity(left: list[str | None], right: list[str | None]) -> float:
    words_l = [w for v in left if v for w in v.split()]
    words_r = [w for v in right if v for w in v.split()]
    return max((JaroWinkler.similarity(a, b) for a in words_l for b in words_r), default=0.0)


def main() -> int:
    frame = pl.read_parquet(DATA).with_row_index("i")
    clean = frame.select(
        "i",
        "cluster",
        *[
            pl.col(c).str.strip_chars().str.to_lowercase().replace("", None).alias(c)
            for c in FIELDS
        ],
    )
    pairs = (
        clean.join(clean, on="cluster", suffix="_r")
        .filter(pl.col("i") < pl.col("i_r"))
        .drop("cluster")
    )
    agree = pl.any_horizontal((pl.col(c) == pl.col(f"{c}_r")).fill_null(False) for c in FIELDS)
    year = pl.col("dob").str.slice(0, 4) == pl.col("dob_r").str.slice(0, 4)
    district = pl.col("postcode_fake").str.extract(r"^(\S+)") == pl.col(
        "postcode_fake_r"
    ).str.extract(r"^(\S+)")
    nothing = pairs.filter(~agree & ~year.fill_null(False) & ~district.fill_null(False))
    similar = [
        _name_similarity([r["first_name"], r["surname"]], [r["first_name_r"], r["surname_r"]])
        for r in nothing.iter_rows(named=True)
    ]
    unreachable = sum(s < NAME_SIMILAR for s in similar)
    print(f"true pairs                                   {pairs.height:>9,}")
    print(f"agree on no field, year or district          {nothing.height:>9,}")
    print(f"… and no name word within Jaro-Winkler {NAME_SIMILAR}   {unreachable:>9,}")
    print(f"ceiling of any key set's blocking recall     {1 - unreachable / pairs.height:>9.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
