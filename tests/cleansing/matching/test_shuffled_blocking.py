"""Blocking over row partitions gives the pairs, report and oversized blocks of one machine.

The partitions here are many and small (a few dozen rows each) and the file is shuffled, so nearly
every block spans partitions, and the sorted-neighbourhood windows cross bucket boundaries at every
bucket: the trap the shuffle must not fall into. A block over the cap, split by a finer key, and
copies for the ``identical`` rule are planted too.
"""

from __future__ import annotations

import random
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from datavask.cleansing.matching import shuffled_blocking as sb
from datavask.cleansing.matching.blocking import (
    CROWDED_BLOCK_PAIRS,
    WHOLE_BLOCK_PAIRS,
    BlockingRule,
    Candidates,
    candidate_pairs,
    default_rules,
    pairs_among,
)
from datavask.cleansing.matching.prepare import prepare_records
from datavask.cleansing.partitioning import row_slices
from tests.cleansing.matching.population import frame, population_rows


def _planted(rng: random.Random) -> list[dict[str, Any]]:
    switchboard = [  # 70 tenants of one switchboard: over the cap, split by name and postal code
        {
            "customer_type": "company",
            "name_key": f"tenant {i % 9} aps",
            "postal_code": "8000" if i % 2 else "2100",
            "phone_e164": "+4533999999",
        }
        for i in range(70)
    ]
    copies = [
        {"customer_type": "person", "first_name_key": "ib", "last_name_key": "kopi", "cvr": None}
    ] * 5
    # One surname with many spellings: a run of alike neighbours in the sorted rules long enough
    # that bucket boundaries fall inside it.
    run = [
        {
            "customer_type": "person",
            "first_name_key": rng.choice(["jens", "jen", "jenns", "jensa", "jense"]),
            "last_name_key": "hansen" + "n" * (i % 3),
            "postal_code": str(1000 + i),
        }
        for i in range(300)
    ]
    return switchboard + copies + run


def distributed(
    records: pl.DataFrame,
    parts: int,
    buckets: int,
    rules: tuple[BlockingRule, ...] | None = None,
    **options: Any,
) -> tuple[Candidates, pl.DataFrame]:
    """The shuffle's steps in order, each on its piece, as the Dask engine runs them."""
    rules = rules or default_rules()
    names = [r.name for r in rules]
    slices = row_slices(records.height, parts)
    offsets = [offset for offset, _ in slices]
    prepared = [prepare_records(records.slice(o, n), offset=o) for o, n in slices]
    apart = options.pop("apart_on", None)
    samples = [sb.key_sample(p, rules, apart) for p in prepared]
    boundaries = sb.sort_boundaries(samples, buckets)
    keyed = [sb.keyed_partition(p, rules, apart, buckets, boundaries) for p in prepared]
    bucket = [sb.bucket_of([k[b] for k in keyed]) for b in range(buckets)]
    heads = [sb.bucket_heads(b, rules) for b in bucket]
    budget = options.pop("whole_block_pairs", WHOLE_BLOCK_PAIRS)
    crowded = options.pop("crowded_block_pairs", CROWDED_BLOCK_PAIRS)
    sizes = [
        sb.bucket_oversized(b, rules, max_block_size=options["max_block_size"]) for b in bucket
    ]
    whole = sb.whole_keys(sizes, budget, crowded)
    made = [
        sb.bucket_pairs(bucket[b], heads[b + 1 :], rules, offsets, whole=whole, **options)
        for b in range(buckets)
    ]
    merged = [sb.merged_pairs([m[0][p] for m in made], names) for p in range(len(offsets))]
    report, oversized = sb.blocking_summary([m[1] for m in made], merged, names)
    pairs = pl.concat([m["pairs"] for m in merged])
    by_rule = pl.concat([m["by_rule"] for m in merged])
    return Candidates(pairs, report, oversized, by_rule), pl.concat(prepared)


def _records() -> pl.DataFrame:
    rng = random.Random(3)
    rows = population_rows(seed=11) + population_rows(seed=12) + _planted(rng)
    rng.shuffle(rows)
    return frame(rows)


@pytest.mark.parametrize(
    ("parts", "buckets", "whole_block_pairs", "crowded_block_pairs"),
    [
        (23, 5, WHOLE_BLOCK_PAIRS, CROWDED_BLOCK_PAIRS),
        (8, 8, 3_000, 0),
        (8, 8, 0, 0),
        (8, 8, 0, CROWDED_BLOCK_PAIRS),
    ],
)
def test_partitioned_blocking_finds_what_one_machine_finds(
    parts: int, buckets: int, whole_block_pairs: int, crowded_block_pairs: int
) -> None:
    records = _records()
    options: dict[str, Any] = {
        "max_block_size": 50,
        "whole_block_pairs": whole_block_pairs,
        "crowded_block_pairs": crowded_block_pairs,
    }
    local = candidate_pairs(prepare_records(records), default_rules(), **options)
    found, prepared = distributed(records, parts, buckets, link_only=False, **options)
    assert_frame_equal(prepared, prepare_records(records))
    assert_frame_equal(found.pairs, local.pairs)
    assert_frame_equal(found.report, local.report)
    assert_frame_equal(found.oversized, local.oversized)
    assert_frame_equal(found.by_rule.sort(pl.all()), local.by_rule.sort(pl.all()))
    # The traps are really there: blocks over the cap compared whole (the switchboard's 2,415
    # pairs fit 3,000, and its tenants crowd into two postal codes; the 300 Jens Hansens' 44,850
    # do not fit, and spread over 300) or split, copies, windows across buckets.
    report = {row["blocking_rule"]: row for row in local.report.iter_rows(named=True)}
    if whole_block_pairs or crowded_block_pairs:
        assert report["phone"]["whole_blocks"] == 1 and report["phone"]["capped_blocks"] == 0
    else:
        assert report["phone"]["capped_blocks"] >= 1 and report["phone"]["split_records"] > 0
    prefixes = report["name_prefixes"]
    assert prefixes["whole_blocks" if whole_block_pairs > 44_850 else "capped_blocks"] >= 1
    assert report["identical"]["pairs_generated"] >= 4
    assert report["name_sorted"]["pairs_generated"] > 100


def _two_sources() -> pl.DataFrame:
    """The records, every third from the CRM and the rest from the ERP system."""
    return _records().with_columns(
        pl.when(pl.int_range(pl.len()) % 3 == 0)
        .then(pl.lit("crm"))
        .otherwise(pl.lit("erp"))
        .alias("source")
    )


def test_partitioned_linking_keeps_sources_and_cvr_numbers_apart() -> None:
    records = _two_sources()
    options = {"max_block_size": 50, "link_only": True, "apart_on": "cvr"}
    local = candidate_pairs(prepare_records(records), default_rules(), **options)  # type: ignore[arg-type]
    found, _ = distributed(records, 7, 3, **options)
    assert local.pairs.height > 100
    assert_frame_equal(found.pairs, local.pairs)
    assert_frame_equal(found.report, local.report)
    assert_frame_equal(found.oversized, local.oversized)


def test_every_pair_of_a_small_file_over_partitions_is_every_pair_one_machine_compares() -> None:
    records = _two_sources()
    sizes = records["source"].value_counts()["count"].to_list()
    rules = default_rules(total_pairs=pairs_among(sizes, link_only=True))
    options = {"max_block_size": 50, "link_only": True, "apart_on": "cvr"}
    prepared = prepare_records(records)
    local = candidate_pairs(prepared, rules, **options)  # type: ignore[arg-type]
    found, _ = distributed(records, 7, 3, rules, **options)
    assert_frame_equal(found.pairs, local.pairs)
    assert_frame_equal(found.report, local.report)
    # Every pair across the two sources but those of two different CVR numbers, each once.
    source, cvr = prepared["source"].to_list(), prepared["cvr"].to_list()
    expected = sum(
        1
        for i in range(prepared.height)
        for j in range(i + 1, prepared.height)
        if source[i] != source[j] and (cvr[i] is None or cvr[j] is None or cvr[i] == cvr[j])
    )
    assert local.pairs.height == expected
    assert local.pairs.filter(pl.col("blocking_rule") == "every_pair").height > 0


def test_coarse_evidence_from_partition_counts_is_the_whole_files() -> None:
    from datavask.cleansing.matching.blocking import (
        coarse_evidence,
        coarse_fields,
        evidence_counts,
    )

    records = pl.DataFrame(
        {
            "evidence_occupation": ["writer", "farmer", None, "writer"] * 50,
            "evidence_birth_place": [f"town {i}" for i in range(200)],
        }
    )
    fields = ("occupation", "birth_place")
    pieces = [evidence_counts(records.slice(o, n), fields) for o, n in row_slices(200, 7)]
    assert coarse_fields(pieces) == coarse_evidence(records, fields) == {"occupation"}


def test_the_matcher_from_a_partitioned_blocking_decides_as_from_its_own() -> None:
    from datavask.cleansing.matching import find_duplicates

    records = _records()
    # A file this small compares every pair (EVERY_PAIR_BUDGET), as find_duplicates' rules say.
    rules = default_rules(total_pairs=pairs_among([records.height], link_only=False))
    assert rules[-2].every
    found, _ = distributed(records, 9, 4, rules, max_block_size=50, link_only=False, apart_on="cvr")
    alone, shuffled = find_duplicates(records), find_duplicates(records, blocking=found)
    assert_frame_equal(shuffled.pairs, alone.pairs)
    assert_frame_equal(shuffled.clusters, alone.clusters)
    assert alone.clusters["cluster_size"].max() > 1  # type: ignore[operator]


def test_a_blocking_made_with_other_rules_is_refused() -> None:
    from datavask.cleansing.matching import find_duplicates

    records = _records()
    found, _ = distributed(records, 3, 2, max_block_size=50, link_only=False, apart_on="cvr")
    other = Candidates(found.pairs, found.report.tail(-1), found.oversized, found.by_rule)
    with pytest.raises(ValueError, match="other rules"):
        find_duplicates(records, blocking=other)
