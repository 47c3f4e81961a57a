"""Blocking: each key pairs the records it should, and nothing explodes."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest

from datavask.cleansing.matching.blocking import (
    EVIDENCE_WORD_BLOCK,
    PLACE,
    RARE_BLOCK,
    BlockingRule,
    _block_pairs,
    _keyed,
    _postal_code_or_city,
    block_crowding,
    candidate_pairs,
    coarse_evidence,
    consonant_skeleton,
    default_rules,
    evidence_rules,
)
from datavask.cleansing.matching.prepare import prepare_records
from tests.cleansing.matching.population import frame


def _pairs(rows: list[dict[str, object]], rule: str, **options: object) -> set[tuple[str, str]]:
    records = prepare_records(frame(rows))
    rules = tuple(r for r in default_rules() if r.name == rule)
    pairs = candidate_pairs(records, rules, **options).pairs  # type: ignore[arg-type]
    ids = records["record_id"]
    return set(zip(ids.gather(pairs["_l"]), ids.gather(pairs["_r"]), strict=True))


def test_cvr_blocks_equal_numbers_only() -> None:
    rows = [
        {"record_id": "a", "cvr": "25313763"},
        {"record_id": "b", "cvr": "25313763"},
        {"record_id": "c", "cvr": "10150817"},
        {"record_id": "d"},
    ]
    assert _pairs(rows, "cvr") == {("a", "b")}


def test_phone_blocks_on_any_shared_number_of_the_list() -> None:
    rows = [
        {"record_id": "a", "phone_e164": "+4586127845"},
        {"record_id": "b", "phone_e164": "+4586345612"},
        {"record_id": "c", "phone_e164": "+4586111122"},
    ]
    df = frame(rows).with_columns(
        pl.Series("phone_numbers", [["+4586127845"], ["+4586345612", "+4586127845"], []])
    )
    records = prepare_records(df)
    rules = tuple(r for r in default_rules() if r.name == "phone")
    pairs = candidate_pairs(records, rules).pairs
    assert pairs.select("_l", "_r").rows() == [(0, 1)]


def test_email_blocks_on_lower_cased_address() -> None:
    rows = [
        {"record_id": "a", "email": "Jens@Hansen-Byg.dk"},
        {"record_id": "b", "email": "jens@hansen-byg.dk"},
        {"record_id": "c", "email": "anne@hansen-byg.dk"},
    ]
    assert _pairs(rows, "email") == {("a", "b")}


def test_company_domain_blocks_but_free_mail_does_not() -> None:
    rows = [
        {"record_id": "a", "email": "jens@hansen-byg.dk"},
        {"record_id": "b", "email": "bogholderi@hansen-byg.dk"},
        {"record_id": "c", "email": "jens@gmail.com"},
        {"record_id": "d", "email": "anne@gmail.com"},
        {"record_id": "e", "email": "ole@hotmail.dk"},
        {"record_id": "f", "email": "eva@hotmail.dk"},
        # Greenland's and the Faroe Islands' consumer mail: two namesakes in Qaqortoq were
        # one customer by their ISP's domain
        {"record_id": "g", "email": "niviheilmann70@greennet.gl"},
        {"record_id": "h", "email": "niviheilmann@greennet.gl"},
        {"record_id": "i", "email": "handil@olivant.fo"},
        {"record_id": "j", "email": "joan@post.olivant.fo"},
        {"record_id": "k", "email": "sunnva@post.olivant.fo"},
    ]
    assert _pairs(rows, "email_domain") == {("a", "b")}


def test_postal_code_and_name_prefix() -> None:
    rows = [
        {"record_id": "a", "name_key": "hansen byg", "postal_code": "8000"},
        {"record_id": "b", "name_key": "hansen bygg", "postal_code": "8000"},
        {"record_id": "c", "name_key": "hansen byg", "postal_code": "5000"},
        {"record_id": "d", "customer_type": "person", "first_name_key": "jens",
         "last_name_key": "hansen", "postal_code": "8000"},
        {"record_id": "e", "customer_type": "person", "first_name_key": "jensine",
         "last_name_key": "hansen", "postal_code": "8000"},
        {"record_id": "f", "customer_type": "person", "first_name_key": "anne",
         "last_name_key": "hansen", "postal_code": "8000"},
    ]  # fmt: skip
    assert _pairs(rows, "postal_name") == {("a", "b"), ("d", "e")}


def test_street_house_number_and_postal_code() -> None:
    rows = [
        {"record_id": "a", "street_key": "vestergade", "house_number": "12", "postal_code": "8000"},
        {"record_id": "b", "street_key": "vestergade", "house_number": "12", "postal_code": "8000"},
        {"record_id": "c", "street_key": "vestergade", "house_number": "14", "postal_code": "8000"},
        {"record_id": "d", "street_key": "vestergade", "house_number": "12", "postal_code": "5000"},
    ]
    assert _pairs(rows, "address") == {("a", "b")}


def test_sorted_neighbourhood_pairs_neighbours_within_the_window() -> None:
    names = ["aaa", "aab", "aac", "zzz", "zzy"]
    rows = [{"record_id": n, "name_key": n} for n in names]
    records = prepare_records(frame(rows))
    rule = BlockingRule("sn", pl.col("_org"), window=2)
    pairs = candidate_pairs(records, (rule,)).pairs
    ids = records["record_id"]
    found = set(zip(ids.gather(pairs["_l"]), ids.gather(pairs["_r"]), strict=True))
    # sorted: aaa aab aac zzy zzz; a pair is named in input order
    assert found == {("aaa", "aab"), ("aab", "aac"), ("aac", "zzy"), ("zzz", "zzy")}


def test_oversized_block_over_the_budget_is_skipped_and_reported() -> None:
    switchboard = "+4570101010"
    rows = [{"record_id": f"t{i}", "phone_e164": switchboard} for i in range(30)]
    rows += [
        {"record_id": "x", "phone_e164": "+4522283746"},
        {"record_id": "y", "phone_e164": "+4522283746"},
    ]
    records = prepare_records(frame(rows))
    rules = tuple(r for r in default_rules() if r.name == "phone")
    found = candidate_pairs(records, rules, max_block_size=10, whole_block_pairs=434)
    pairs, report, oversized = found.pairs, found.report, found.oversized
    assert pairs.height == 1  # x–y only, not the 435 pairs of the switchboard
    assert oversized.rows() == [("phone", switchboard, 30)]
    phone = report.filter(pl.col("blocking_rule") == "phone").row(0, named=True)
    assert (phone["capped_blocks"], phone["capped_records"], phone["largest_block"]) == (1, 30, 30)
    assert phone["whole_blocks"] == 0


def test_oversized_blocks_within_the_budget_are_compared_whole_smallest_first() -> None:
    # Two switchboards over the cap of 10: 30 tenants (435 pairs) and 40 (780). A budget of 1,000
    # pairs takes the smaller whole; the larger, alone within it, is not taken after it.
    small, large = "+4570101010", "+4570202020"
    rows = [{"record_id": f"s{i}", "phone_e164": small} for i in range(30)]
    rows += [{"record_id": f"l{i}", "phone_e164": large} for i in range(40)]
    rows += [
        {"record_id": "x", "phone_e164": "+4522283746"},
        {"record_id": "y", "phone_e164": "+4522283746"},
    ]
    records = prepare_records(frame(rows))
    rules = tuple(r for r in default_rules() if r.name == "phone")
    found = candidate_pairs(records, rules, max_block_size=10, whole_block_pairs=1_000)
    pairs = _found(records, found.pairs)
    assert len(pairs) == 435 + 1 and ("s0", "s29") in pairs and ("x", "y") in pairs
    assert not any(a.startswith("l") for a, _ in pairs)
    assert found.oversized.rows() == [("phone", large, 40)]
    phone = found.report.row(0, named=True)
    assert (phone["whole_blocks"], phone["capped_blocks"], phone["capped_records"]) == (1, 1, 40)
    # Both within the budget: both whole, and nothing is left over the cap.
    both = candidate_pairs(records, rules, max_block_size=10, whole_block_pairs=1_215)
    assert both.pairs.height == 435 + 780 + 1 and both.oversized.height == 0
    # A rule without finer keys (a rare key) never compares its common keys whole.
    series = tuple(r for r in default_rules() if r.name == "phone_series")
    assert candidate_pairs(records, series, max_block_size=10).pairs.height == 1


def test_link_mode_pairs_only_across_sources() -> None:
    rows = [
        {"record_id": "a1", "cvr": "25313763"},
        {"record_id": "a2", "cvr": "25313763"},
        {"record_id": "b1", "cvr": "25313763"},
    ]
    df = frame(rows).with_columns(pl.Series("source", ["a", "a", "b"]))
    records = prepare_records(df)
    rules = tuple(r for r in default_rules() if r.name == "cvr")
    pairs = candidate_pairs(records, rules, link_only=True).pairs
    assert pairs.select("_l", "_r").rows() == [(0, 2), (1, 2)]


def test_a_pair_found_by_two_rules_is_credited_to_the_first() -> None:
    rows = [
        {"record_id": "a", "cvr": "25313763", "phone_e164": "+4586127845"},
        {"record_id": "b", "cvr": "25313763", "phone_e164": "+4586127845"},
    ]
    records = prepare_records(frame(rows))
    found = candidate_pairs(records, default_rules())
    pairs, report = found.pairs, found.report
    assert pairs["blocking_rule"].to_list() == ["cvr"]
    by_rule = dict(report.select("blocking_rule", "pairs_new").rows())
    assert by_rule["cvr"] == 1
    assert by_rule["phone"] == 0


@pytest.mark.parametrize("value", [None, "", "   "])
def test_blank_keys_never_block(value: str | None) -> None:
    rows = [{"record_id": "a", "cvr": value}, {"record_id": "b", "cvr": value}]
    assert _pairs(rows, "cvr") == set()


def test_records_with_two_different_cvr_numbers_are_never_paired() -> None:
    rows = [
        {"record_id": "a", "name_key": "kyst vvs aps", "postal_code": "8000", "cvr": "25313763"},
        {"record_id": "b", "name_key": "kyst vvs aps", "postal_code": "8000", "cvr": "10150817"},
        {"record_id": "c", "name_key": "kyst vvs", "postal_code": "8000"},
        {"record_id": "d", "name_key": "kyst vvs", "postal_code": "8000", "cvr": "25313763"},
    ]
    records = prepare_records(frame(rows))
    rules = tuple(r for r in default_rules() if r.name in ("postal_name", "name_sorted"))
    pairs = candidate_pairs(records, rules, apart_on="cvr").pairs
    ids = records["record_id"]
    found = set(zip(ids.gather(pairs["_l"]), ids.gather(pairs["_r"]), strict=True))
    assert found == {("a", "c"), ("a", "d"), ("b", "c"), ("c", "d")}
    assert len(candidate_pairs(records, rules).pairs) == 6


def test_swapped_first_and_last_name_are_neighbours() -> None:
    person = {"customer_type": "person"}
    rows = [
        {"record_id": "a", **person, "first_name_key": "cameron", "last_name_key": "jessup"},
        {"record_id": "b", **person, "first_name_key": "jessup", "last_name_key": "cameron"},
        {"record_id": "c", **person, "first_name_key": "karen", "last_name_key": "dahl"},
        {"record_id": "d", **person, "first_name_key": "ib", "last_name_key": "dam"},
        {"record_id": "e", **person, "first_name_key": "jens", "last_name_key": "kruse"},
    ]
    assert ("a", "b") in _pairs(rows, "name_unordered_sorted")
    assert ("a", "b") not in _pairs(rows, "name_sorted")


def test_neighbours_with_unlike_names_are_not_paired() -> None:
    rows = [
        {"record_id": "a", "name_key": "hansen byg"},
        {"record_id": "b", "name_key": "hansen bygg"},
        {"record_id": "c", "name_key": "hansens vvs og blik"},
    ]
    assert _pairs(rows, "name_sorted") == {("a", "b")}
    records = prepare_records(frame(rows))
    unfiltered = BlockingRule("sn", pl.col("_org"), window=3)
    assert len(candidate_pairs(records, (unfiltered,)).pairs) == 3


def test_identical_copies_pair_however_many_there_are() -> None:
    """200 copies fill every block past the cap; the identical rule pairs each with the first."""
    copy = {"name_key": "hansen byg", "postal_code": "8000", "phone_e164": "+4522378415"}
    rows = [{"record_id": f"k{i}", **copy} for i in range(200)]
    rows += [{"record_id": "other", **copy, "phone_e164": "+4522378416"}]
    records = prepare_records(frame(rows))
    found = candidate_pairs(records, default_rules(), max_block_size=50)
    identical = found.by_rule.filter(pl.col("blocking_rule") == "identical")
    assert identical.height == 199
    assert set(identical["_l"].to_list()) == {0}
    assert set(identical["_r"].to_list()) == set(range(1, 200))


def _found(records: pl.DataFrame, pairs: pl.DataFrame) -> set[tuple[str, str]]:
    ids = records["record_id"]
    return set(zip(ids.gather(pairs["_l"]), ids.gather(pairs["_r"]), strict=True))


def test_oversized_block_is_still_compared_through_a_finer_key() -> None:
    # 40 people born on the "unknown" date 1600-01-01; two of them are one man written twice.
    rows: list[dict[str, object]] = [
        {
            "record_id": f"p{i}",
            "customer_type": "person",
            "first_name_key": first,
            "last_name_key": last,
            "date_of_birth": "1600-01-01",
        }
        for i, (first, last) in enumerate(
            (f, la) for f in ("anne", "peter", "mette", "lars") for la in LAST_NAMES
        )
    ]
    rows += [
        {"record_id": "w1", "customer_type": "person", "first_name_key": "william",
         "last_name_key": "cartwright", "date_of_birth": "1600-01-01"},
        {"record_id": "w2", "customer_type": "person", "first_name_key": "william",
         "last_name_key": "cartwright", "date_of_birth": "1600-01-01"},
    ]  # fmt: skip
    records = prepare_records(frame(rows))
    birth = tuple(r for r in default_rules() if r.name == "birth")
    found = candidate_pairs(records, birth, max_block_size=10, whole_block_pairs=0)
    # 42 records over the cap of 10: not 861 pairs, but the one pair sharing a name key too.
    assert _found(records, found.pairs) == {("w1", "w2")}
    assert found.oversized.rows() == [("birth", "1600-01-01", 42)]
    report = found.report.row(0, named=True)
    assert (report["capped_blocks"], report["capped_records"], report["split_records"]) == (
        1,
        42,
        2,
    )


def test_a_name_block_abroad_without_postal_codes_is_split_by_city() -> None:
    # 24 mentions of one name, no postal code anywhere: 12 in Kokubunji (two written "KOKUBUNJI "),
    # 12 in 12 other cities. Over the cap of 20, the block is compared within its cities.
    rows: list[dict[str, object]] = [
        {"record_id": f"k{i:02d}", "customer_type": "person", "first_name_key": "hiroyuki",
         "last_name_key": "mizuno"}
        for i in range(12)
    ] + [
        {"record_id": f"o{i:02d}", "customer_type": "person", "first_name_key": "hiroyuki",
         "last_name_key": "mizuno"}
        for i in range(12)
    ]  # fmt: skip
    cities = ["KOKUBUNJI "] * 2 + ["Kokubunji"] * 10 + [f"City {i}" for i in range(12)]
    prefixes = tuple(r for r in default_rules() if r.name == "name_prefixes")

    def found(postal_codes: list[str | None]) -> set[tuple[str, str]]:
        records = prepare_records(
            frame(rows).with_columns(
                pl.Series("city", cities), pl.Series("postal_code", postal_codes, pl.String)
            )
        )
        found = candidate_pairs(
            records, prefixes, max_block_size=20, whole_block_pairs=0, crowded_block_pairs=0
        )
        return _found(records, found.pairs)

    kokubunji = sorted(f"k{i:02d}" for i in range(12))
    assert found([None] * 24) == {(a, b) for a in kokubunji for b in kokubunji if a < b}
    # A postal code, where there is one, splits the block as before: the city is not read.
    coded = found(["185-0001"] * 6 + ["185-0002"] * 18)
    assert ("k00", "k05") in coded and ("k05", "k06") not in coded
    assert ("o00", "o01") in coded


def _namesakes(places: list[str]) -> pl.DataFrame:
    """One name in each of ``places`` (a postal code each; ``-`` none, and no city either)."""
    rows = [
        {"record_id": f"r{i:03d}", "customer_type": "person", "first_name_key": "jens",
         "last_name_key": "hansen", "postal_code": None if place == "-" else place}
        for i, place in enumerate(places)
    ]  # fmt: skip
    return prepare_records(frame(rows))


def test_crowding_is_the_share_of_a_blocks_pairs_in_one_place() -> None:
    prefixes = next(r for r in default_rules() if r.name == "name_prefixes")
    members = _namesakes(["8000"] * 6 + ["7100"] * 4 + ["-"] * 2).select(
        pl.lit("jenhans").alias("key"), _postal_code_or_city().alias(PLACE)
    )
    crowding = block_crowding(members, prefixes).row(0, named=True)
    # 6 in Aarhus and 4 in Vejle of 12: (15 + 6) / 66 pairs; two without a place share none
    assert crowding == {"key": "jenhans", "size": 12, "crowding": pytest.approx(21 / 66)}
    spread = members.with_columns(pl.int_range(pl.len()).cast(pl.String).alias(PLACE))
    assert block_crowding(spread, prefixes)["crowding"].to_list() == [0.0]


def test_a_crowded_block_over_the_cap_is_compared_whole_a_spread_one_split() -> None:
    prefixes = tuple(r for r in default_rules() if r.name == "name_prefixes")
    # 30 records of one name over a cap of 20: 20 of them in one postal code, 10 in ten others
    crowded = _namesakes(["8000"] * 20 + [str(7000 + i) for i in range(10)])
    found = candidate_pairs(crowded, prefixes, max_block_size=20, whole_block_pairs=0)
    assert found.pairs.height == 30 * 29 // 2 and found.oversized.height == 0
    # without a budget of their own, split by postal code as before: the 20 in 8000 only
    found = candidate_pairs(
        crowded, prefixes, max_block_size=20, whole_block_pairs=0, crowded_block_pairs=0
    )
    assert found.pairs.height == 20 * 19 // 2 and found.oversized["size"].to_list() == [30]
    # namesakes in thirty places: never whole but within whole_block_pairs
    spread = _namesakes([str(7000 + i) for i in range(30)])
    found = candidate_pairs(spread, prefixes, max_block_size=20, whole_block_pairs=0)
    assert found.pairs.height == 0 and found.oversized["size"].to_list() == [30]
    # a crowded block past its budget is split, as any other
    found = candidate_pairs(
        crowded, prefixes, max_block_size=20, whole_block_pairs=0, crowded_block_pairs=434
    )
    assert found.pairs.height == 20 * 19 // 2


def test_rule_without_finer_keys_skips_its_oversized_block() -> None:
    rows = [
        {"record_id": f"p{i}", "customer_type": "person", "first_name_key": "jens",
         "last_name_key": "hansen", "date_of_birth": "1600-01-01"}
        for i in range(12)
    ]  # fmt: skip
    records = prepare_records(frame(rows))
    rule = BlockingRule("birth", pl.col("date_of_birth"), refine=())
    assert candidate_pairs(records, (rule,), max_block_size=10).pairs.height == 0


LAST_NAMES = ("hansen", "jensen", "nielsen", "pedersen", "andersen", "larsen", "olsen", "moeller",
              "madsen", "poulsen")  # fmt: skip


def test_two_part_postal_codes_block_alone_and_by_district() -> None:
    rows = [
        {"record_id": "a", "postal_code": "SE1 8XZ", "first_name_key": "wally",
         "customer_type": "person"},
        {"record_id": "b", "postal_code": "SE1 8XZ", "first_name_key": "walter",
         "customer_type": "person"},
        {"record_id": "c", "postal_code": "SE1 7AB", "first_name_key": "wally",
         "customer_type": "person"},
        {"record_id": "d", "postal_code": "8000", "first_name_key": "jens",
         "customer_type": "person"},
        {"record_id": "e", "postal_code": "8000", "first_name_key": "anne",
         "customer_type": "person"},
    ]  # fmt: skip
    assert _pairs(rows, "postal") == {("a", "b")}  # a Danish 8000 is no address
    assert _pairs(rows, "district_first") == {("a", "c")}


def test_unparsed_address_lines_meet_by_their_numbers() -> None:
    lines = {
        "a": "1718 S Loomis Blvd",
        "b": "1718 S. Loomis",
        "c": "4910 S King Drive",
        "d": "2905 N. Leavitt",
        "e": "17 Loomis Road",
    }
    rows = [{"record_id": k, "name_key": f"site {k}"} for k in lines]
    df = frame(rows).with_columns(pl.Series("raw_address", list(lines.values())))
    records = prepare_records(df)
    rules = tuple(r for r in default_rules() if r.name == "address_sorted")
    assert _found(records, candidate_pairs(records, rules).pairs) == {("a", "b")}


def test_name_words_pair_abbreviated_organisation_names() -> None:
    rows = [
        {"record_id": "a", "customer_type": "company", "name_key": "albany park comm ctr"},
        {"record_id": "b", "customer_type": "company", "name_key": "albany park community center"},
        {"record_id": "c", "customer_type": "company", "name_key": "albany hansen byg"},
    ]
    assert _pairs(rows, "name_words") == {("a", "b")}


def test_evidence_fields_block_with_names_and_birth_date() -> None:
    rows = [
        {"record_id": "a", "customer_type": "person", "first_name_key": "wally",
         "last_name_key": "roth", "date_of_birth": "1861-04-02"},
        {"record_id": "b", "customer_type": "person", "first_name_key": "walter",
         "last_name_key": "rothe"},
        {"record_id": "c", "customer_type": "person", "first_name_key": "wally",
         "last_name_key": "smith", "date_of_birth": "1861-04-02"},
    ]  # fmt: skip
    df = frame(rows).with_columns(
        pl.Series("evidence_birth_place", ["london", "london", "leeds"]),
        pl.Series("evidence_occupation", ["writer", "writer", "writer"]),
    )
    records = prepare_records(df)
    rules = evidence_rules(("birth_place", "occupation"))
    assert [r.name for r in rules] == [
        "birth_place_first",
        "birth_place_last",
        "birth_place_birth",
        "birth_place_year",
        "birth_place_occupation",
        "occupation_first",
        "occupation_last",
        "occupation_birth",
        "occupation_year",
    ]
    by_rule = candidate_pairs(records, rules).by_rule
    ids = records["record_id"]
    found = {(rule, ids[left], ids[right]) for left, right, rule in by_rule.iter_rows()}
    # b and c share only an occupation, and no name or birth date with it
    assert found == {
        ("birth_place_occupation", "a", "b"),
        ("occupation_first", "a", "c"),
        ("occupation_birth", "a", "c"),
        ("occupation_year", "a", "c"),
    }


def test_address_lines_as_written_pair_whatever_the_postal_code() -> None:
    rows = [
        {"record_id": "a", "name_key": "chicago commons", "postal_code": None},
        {"record_id": "b", "name_key": "paulo freire", "postal_code": "60609"},
        # a register with street and number fields but no address line is left to the address rule
        {"record_id": "c", "street_key": "w 43rd st", "house_number": "1653"},
        {"record_id": "d", "street_key": "w 43rd st", "house_number": "1653"},
    ]
    df = frame(rows).with_columns(
        pl.Series("raw_address", ["1653 W. 43rd St", "1653 W 43rd St", None, None])
    )
    records = prepare_records(df)
    rules = tuple(r for r in default_rules() if r.name == "address_line")
    assert _found(records, candidate_pairs(records, rules).pairs) == {("a", "b")}


def test_coarse_evidence_pairs_only_with_last_names_and_other_evidence() -> None:
    # 3 occupations over 60 records (two random records share one 1 time in 3), 60 birth places
    occupations = ["writer", "politician", "cricketer"] * 20
    places = [f"town {i}" for i in range(60)]
    df = frame([{"record_id": f"r{i}"} for i in range(60)]).with_columns(
        pl.Series("evidence_occupation", occupations), pl.Series("evidence_birth_place", places)
    )
    records = prepare_records(df)
    coarse = coarse_evidence(records, ("birth_place", "occupation"))
    assert coarse == {"occupation"}
    names = [r.name for r in evidence_rules(("birth_place", "occupation"), coarse)]
    assert names == [
        "birth_place_first",
        "birth_place_last",
        "birth_place_birth",
        "birth_place_year",
        "birth_place_occupation",
        "occupation_last",
    ]


def _crowd(prefix: str, shared: dict[str, str], distinct: dict[str, str]) -> list[dict[str, str]]:
    """One record more than :data:`RARE_BLOCK`, all holding ``shared`` (a key too common to pair
    anything) and each its own value of every ``distinct`` field (the text and the record's
    number)."""
    return [
        {"record_id": f"{prefix}{i:02}", **shared}
        | {name: f"{text}{i:02}" for name, text in distinct.items()}
        for i in range(RARE_BLOCK + 1)
    ]


def test_rare_name_words_pair_a_nickname_with_the_full_name() -> None:
    rows = [
        {"record_id": "a", "customer_type": "person", "name_key": "henry samuel sadd"},
        {"record_id": "b", "customer_type": "person", "name_key": "harold sadd"},
        {"record_id": "c", "customer_type": "person", "name_key": "freya"},
        {"record_id": "d", "customer_type": "person", "name_key": "freya shah"},
    ]  # fmt: skip
    # a word shared by more records than the rule's cap is no key: eleven Jensens pair nothing
    rows += [
        row | {"name_key": f"{row['name_key']} jensen"}
        for row in _crowd("j", {"customer_type": "person"}, {"name_key": "x"})
    ]
    assert _pairs(rows, "name_tokens") == {("a", "b"), ("c", "d")}
    # counted in the report, but not listed among the blocks left uncompared
    records = prepare_records(frame(rows))
    found = candidate_pairs(records, tuple(r for r in default_rules() if r.name == "name_tokens"))
    assert found.report.row(0, named=True)["capped_records"] == 11
    assert found.oversized.height == 0


def test_email_local_part_pairs_a_mistyped_domain() -> None:
    rows = [
        {"record_id": "a", "email": "lucas@harrington.com"},
        {"record_id": "b", "email": "lucas@marrington.coh"},
        {"record_id": "c", "email": "info@harrington.com"},
        {"record_id": "d", "email": "info@marrington.coh"},  # role mailboxes say nothing
    ]
    assert _pairs(rows, "email_local") == {("a", "b")}


def test_phone_series_pairs_extensions_of_one_switchboard() -> None:
    rows = [
        {"record_id": "a", "phone_e164": "+4586123400"},
        {"record_id": "b", "phone_e164": "+4586123417"},
        {"record_id": "c", "phone_e164": "+4586125400"},
    ]
    assert _pairs(rows, "phone_series") == {("a", "b")}


def test_address_numbers_pair_unparsed_lines_of_one_site() -> None:
    lines = {"a": "4540 N Campbell", "b": "4540 N Hamlin Ave", "c": "4541 N Campbell"}
    rows = [{"record_id": k, "name_key": f"site {k}"} for k in lines]
    df = frame(rows).with_columns(pl.Series("raw_address", list(lines.values())))
    records = prepare_records(df)
    rules = tuple(r for r in default_rules() if r.name == "address_numbers")
    assert _found(records, candidate_pairs(records, rules).pairs) == {("a", "b")}


def _rule_pairs(df: pl.DataFrame, rule: str) -> set[tuple[str, str]]:
    records = prepare_records(df)
    rules = tuple(r for r in default_rules() if r.name == rule)
    assert rules, f"no rule {rule}"
    return _found(records, candidate_pairs(records, rules).pairs)


def test_address_line_numbers_pair_parsed_lines_whose_streets_differ() -> None:
    # Both lines parsed, into two street keys ("e 75th st" and "e 75th street"): the address
    # rules miss them, their numbers do not. A number shared by more than the cap pairs nothing.
    rows = [
        {"record_id": "a", "name_key": "kenyatta day care", "street_key": "e 75th st",
         "house_number": "2334"},
        {"record_id": "b", "name_key": "marcy newberry association", "street_key": "e 75th street",
         "house_number": "2334", "postal_code": "60649"},
        {"record_id": "c", "name_key": "other site", "street_key": "e 75th street",
         "house_number": "2335"},
    ]  # fmt: skip
    rows += _crowd("v", {"house_number": "12"}, {"name_key": "firma ", "street_key": "vej "})
    df = frame(rows).with_columns(
        pl.Series(
            "raw_address",
            ["2334 E 75th St", "2334 E. 75th Street", "2335 E 75th Street"]
            + [None] * (RARE_BLOCK + 1),
        )
    )
    assert _rule_pairs(df, "address_line_numbers") == {("a", "b")}


def test_locality_words_pair_a_partial_name_in_one_place() -> None:
    # "Eleanor" alone and Eleanor Richards, both in Manchester; not the Eleanor in Leeds, and not
    # the eleven Smiths of one postal code (a common word in its place is no key).
    rows = [
        {"record_id": "a", "customer_type": "person", "name_key": "eleanor",
         "first_name_key": "eleanor"},
        {"record_id": "b", "customer_type": "person", "name_key": "eleanor richards",
         "first_name_key": "eleanor", "last_name_key": "richards"},
        {"record_id": "c", "customer_type": "person", "name_key": "eleanor jones",
         "first_name_key": "eleanor", "last_name_key": "jones"},
    ]  # fmt: skip
    rows += _crowd(
        "s",
        {"customer_type": "person", "last_name_key": "smith", "postal_code": "8000"},
        {"first_name_key": "x"},
    )
    cities = ["Manchester", " manchester ", "Leeds"] + [None] * (RARE_BLOCK + 1)
    df = frame(rows).with_columns(pl.Series("city", cities))
    assert _rule_pairs(df, "locality_words") == {("a", "b")}


def test_evidence_words_pair_a_name_word_in_either_field_born_in_one_place() -> None:
    # "Goddard" alone (read as a first name) and Walter Goddard, both born in the New Forest;
    # "Dowson" and Henry Dawson, a letter apart. Not the Goddard born in Leeds, not a company,
    # and not the 21 Smiths born in London (over the rule's cap).
    rows = [
        {"record_id": "a", "customer_type": "person", "name_key": "goddard",
         "first_name_key": "goddard"},
        {"record_id": "b", "customer_type": "person", "name_key": "walter goddard",
         "first_name_key": "walter", "last_name_key": "goddard"},
        {"record_id": "c", "customer_type": "person", "name_key": "walter goddard",
         "first_name_key": "walter", "last_name_key": "goddard"},
        {"record_id": "d", "customer_type": "company", "name_key": "goddard"},
        {"record_id": "e", "customer_type": "person", "name_key": "henry dawson",
         "first_name_key": "henry", "last_name_key": "dawson"},
        {"record_id": "f", "customer_type": "person", "name_key": "dowson",
         "first_name_key": "dowson"},
    ]  # fmt: skip
    places = ["new forest", "new forest", "leeds", "new forest", "cherwell", "cherwell"]
    rows += [
        {"record_id": f"s{i:02}", "customer_type": "person", "name_key": "smith",
         "last_name_key": "smith"}
        for i in range(EVIDENCE_WORD_BLOCK + 1)
    ]  # fmt: skip
    places += ["london"] * (EVIDENCE_WORD_BLOCK + 1)
    records = prepare_records(frame(rows).with_columns(pl.Series("evidence_birth_place", places)))
    rules = tuple(
        r for r in default_rules(evidence=("birth_place",)) if r.name.startswith("birth_")
    )
    words = tuple(r for r in rules if r.name.endswith("_words"))
    assert [r.name for r in words] == ["birth_place_words"]
    assert _found(records, candidate_pairs(records, words).pairs) == {("a", "b"), ("e", "f")}


def test_coarse_evidence_words_pair_only_within_the_rare_block() -> None:
    # "Goddard" alone and Walter Goddard, both painters; not the sculptor Walter Goddard, and not
    # the eleven painters named Smith: a coarse field's word blocks are capped at RARE_BLOCK.
    rows = [
        {"record_id": "a", "customer_type": "person", "name_key": "goddard",
         "first_name_key": "goddard"},
        {"record_id": "b", "customer_type": "person", "name_key": "walter goddard",
         "first_name_key": "walter", "last_name_key": "goddard"},
        {"record_id": "c", "customer_type": "person", "name_key": "walter goddard",
         "first_name_key": "walter", "last_name_key": "goddard", "date_of_birth": "1850-10-16"},
    ]  # fmt: skip
    rows += _crowd("s", {"customer_type": "person", "last_name_key": "smith"}, {})
    jobs = ["painter", "painter", "sculptor"] + ["painter"] * (RARE_BLOCK + 1)
    records = prepare_records(frame(rows).with_columns(pl.Series("evidence_occupation", jobs)))
    rules = default_rules(evidence=("occupation",), coarse=frozenset({"occupation"}))
    rare = tuple(r for r in rules if r.name.startswith("occupation_") and not r.train)
    assert [r.name for r in rare] == ["occupation_words"]  # no birthday for a coarse field
    assert _found(records, candidate_pairs(records, rare).pairs) == {("a", "b")}


def test_evidence_birthday_pairs_a_mistyped_birth_year_in_one_place() -> None:
    # Francis Vane and "5th Bt", both of Dublin, born 16 October 1861 and 1864. Not the one born
    # that day in London, not two born 1 January (a year alone), not an occupation (coarse).
    rows = [
        {"record_id": "a", "customer_type": "person", "name_key": "francis vane",
         "first_name_key": "francis", "last_name_key": "vane", "date_of_birth": "1861-10-16"},
        {"record_id": "b", "customer_type": "person", "name_key": "5th bt",
         "first_name_key": "5th", "last_name_key": "bt", "date_of_birth": "1864-10-16"},
        {"record_id": "c", "customer_type": "person", "name_key": "jane eyre",
         "first_name_key": "jane", "last_name_key": "eyre", "date_of_birth": "1850-10-16"},
        {"record_id": "d", "customer_type": "person", "name_key": "tom kettle",
         "first_name_key": "tom", "last_name_key": "kettle", "date_of_birth": "1880-01-01"},
        {"record_id": "e", "customer_type": "person", "name_key": "ann beck",
         "first_name_key": "ann", "last_name_key": "beck", "date_of_birth": "1881-01-01"},
    ]  # fmt: skip
    df = frame(rows).with_columns(
        pl.Series("evidence_birth_place", ["dublin", "dublin", "london", "dublin", "dublin"]),
        pl.Series("evidence_occupation", ["painter"] * 5),
    )
    records = prepare_records(df)
    rules = default_rules(evidence=("birth_place", "occupation"), coarse=frozenset({"occupation"}))
    birthday = tuple(r for r in rules if r.name.endswith("_birthday"))
    assert [r.name for r in birthday] == ["birth_place_birthday"]
    assert _found(records, candidate_pairs(records, birthday).pairs) == {("a", "b")}


def test_locality_year_pairs_persons_born_one_year_in_one_place() -> None:
    rows = [
        {"record_id": "a", "customer_type": "person", "first_name_key": "eliza",
         "date_of_birth": "1983-01-12"},
        {"record_id": "b", "customer_type": "person", "first_name_key": "eiza",
         "last_name_key": "taylor", "date_of_birth": "1983-02-10"},
        {"record_id": "c", "customer_type": "person", "first_name_key": "eliza",
         "date_of_birth": "1984-01-12"},
        {"record_id": "d", "customer_type": "company", "name_key": "glasgow ltd",
         "date_of_birth": "1983-01-01"},
    ]  # fmt: skip
    df = frame(rows).with_columns(pl.Series("city", ["Glasgow", "glasgow", "Glasgow", "Glasgow"]))
    assert _rule_pairs(df, "locality_year") == {("a", "b")}


def test_consonant_skeleton_folds_spelling_variants() -> None:
    names = pl.Series("n", ["butler", "buttler", "o'brian", "obrien", "hayes", "heyes", "ward",
                            "warde", "hansen", "", None])  # fmt: skip
    got = pl.select(consonant_skeleton(pl.lit(names))).to_series().to_list()
    assert got == ["btlr", "btlr", "obrn", "obrn", "hs", "hs", "wrd", "wrd", "hnsn", None, None]


def test_last_name_sound_pairs_spelling_variants_with_one_initial() -> None:
    rows = [
        {"record_id": "a", "customer_type": "person", "first_name_key": "thomas",
         "last_name_key": "buttler"},
        {"record_id": "b", "customer_type": "person", "first_name_key": "tom",
         "last_name_key": "butler"},
        {"record_id": "c", "customer_type": "person", "first_name_key": "anne",
         "last_name_key": "butler"},
        {"record_id": "d", "customer_type": "person", "last_name_key": "butler"},
    ]  # fmt: skip
    assert _pairs(rows, "last_name_sound") == {("a", "b")}


def test_sorted_email_addresses_pair_a_typo() -> None:
    rows = [
        {"record_id": "a", "email": "l.ferguson46@shah.com"},
        {"record_id": "b", "email": "l.fergson46@shah.com"},
        {"record_id": "c", "email": "l.fischer@shah.com"},  # a neighbour, not alike enough
    ]
    assert _pairs(rows, "email_sorted") == {("a", "b")}


def test_house_number_and_street_word_pair_lines_whose_other_numbers_differ() -> None:
    lines = {
        "a": "78 West Van Buren Floor 1",
        "b": "78 W Van Buren Street",
        "c": "78 W Jackson Blvd",  # the same number, another street
        "d": "Vestergade 78",  # the street first: the address rules' case, no key here
        "e": "Vestergade 78, 1. th",
    }
    rows = [{"record_id": k, "name_key": f"site {k}"} for k in lines]
    df = frame(rows).with_columns(pl.Series("raw_address", list(lines.values())))
    assert _rule_pairs(df, "number_street_word") == {("a", "b")}


def test_a_rule_keys_only_the_records_its_where_admits_and_drops_none_it_would_key() -> None:
    """A rule's ``where`` saves evaluating its key for records it leaves null; keyed with it or
    without it, every rule gives the same rows in the same order."""
    kinds = [
        {"customer_type": "person", "name_key": "eliza taylor", "first_name_key": "eliza",
         "last_name_key": "taylor"},
        {"customer_type": "company", "name_key": "glasgow byg aps"},
        {"customer_type": None, "first_name_key": "jens", "last_name_key": "hansen"},
        {"customer_type": None, "name_key": "hansen og soen", "first_name_key": "jens"},
    ]  # fmt: skip
    places = [
        {"street_key": "vestergade", "house_number": "12", "postal_code": "8000", "country": "DK"},
        {"postal_code": "SE1 8XZ", "country": "GB"},
        {"street_key": "main road", "house_number": "2", "country": "US"},
        {"country": None},
    ]
    births = [None, "1983-01-12", ""]
    lines = [None, "1718 S Loomis Blvd", "Vestergade 12, 2. tv"]
    rows, raw = [], []
    for i, (kind, place, birth, line) in enumerate(
        (k, p, b, ln) for k in kinds for p in places for b in births for ln in lines
    ):
        rows.append({"record_id": f"r{i}", **kind, **place, "date_of_birth": birth})
        raw.append(line)
    records = prepare_records(frame(rows).with_columns(pl.Series("raw_address", raw)))
    guarded = [r for r in default_rules(evidence=()) if r.where is not None]
    assert {r.name for r in guarded} >= {"locality_words", "last_name_sound", "address_sorted"}
    for rule in guarded:
        for finer in (False, True):
            got = _keyed(records, rule, "cvr", finer=finer)
            whole = _keyed(records, replace(rule, where=None), "cvr", finer=finer)
            assert got.equals(whole), rule.name
            assert whole.height > 0, rule.name  # the rule keys some records, and not all
            assert whole["_idx"].n_unique() < records.height, rule.name


def test_block_pairs_are_every_pair_of_each_key_within_the_cap() -> None:
    """The blocks are numbered (``_block_numbers``), not joined on their text: the pairs are still
    every two records of one key, for keys of at most the cap and for the sub-blocks a finer key
    cuts out of a larger one; a record first in two blocks (two keys of its own) pairs in both,
    and the report counts the blocks as before."""
    keys = [
        ["a", "b"], ["a"], ["b"], ["a", "b"], ["c"], ["c"], ["c"], ["c"], ["d"], [], ["e", "c"],
    ]  # fmt: skip
    finer = ["x", "x", "y", "y", "x", "x", "y", None, "x", "x", "x"]
    keyed = (
        pl.DataFrame(
            {
                "_idx": pl.Series(range(len(keys)), dtype=pl.UInt32),
                "source": pl.Series([None] * len(keys), dtype=pl.String),
                "apart": pl.Series([None] * len(keys), dtype=pl.String),
                "key": keys,
                "refine_0": finer,
            }
        )
        .explode("key")
        .drop_nulls("key")
    )
    rule = BlockingRule("test", pl.col("key"), refine=(pl.col("refine_0"),))
    cap = 3  # "c" (5 records) is over it and split by the finer key

    def reference(frame: pl.DataFrame) -> set[tuple[int, int]]:
        rows = frame.select("_idx", "key").rows()
        found = set()
        for key in {k for _, k in rows}:
            members = sorted(i for i, k in rows if k == key)
            if 2 <= len(members) <= cap:
                found |= {(a, b) for a in members for b in members if a < b}
        return found

    split = keyed.filter(pl.col("key") == "c").with_columns(
        pl.concat_str("key", "refine_0", separator="\x1f").alias("key")
    )
    want = reference(keyed) | reference(split.drop_nulls("key"))
    assert (0, 3) in want and (4, 5) in want and (6, 7) not in want  # a, b both; c split
    pairs, stats, capped, refined = _block_pairs(None, keyed, rule, cap, link_only=False)
    assert set(pairs.collect().rows()) == want
    assert stats["blocks"] == 2  # "a" and "b"; "d" and "e" are alone, "c" is over the cap
    assert (stats["largest_block"], stats["capped_blocks"], stats["capped_records"]) == (5, 1, 5)
    assert capped.rows() == [("test", "c", 5)]
    assert sorted(refined.to_list()) == [4, 5, 10]
