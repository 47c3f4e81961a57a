"""EM recovers known parameters; term frequencies weaken common values."""

from __future__ import annotations

import dataclasses
import math
import random

import polars as pl
import pytest

from datavask.cleansing.matching import fellegi_sunter
from datavask.cleansing.matching.compare import COMPARISONS, Comparison, compare_pairs
from datavask.cleansing.matching.fellegi_sunter import (
    SAME_CUSTOMER,
    TYPO_SHARE,
    FellegiSunterModel,
    all_pairs,
    encode_tf_values,
    estimate_u,
    fit_patterns,
    level_patterns,
    score_by_pattern,
    score_pairs,
    scoring_patterns,
    session_patterns,
    summed_patterns,
    term_frequencies,
    tf_codes,
    tf_counts,
    tf_table,
    tf_value_codes,
    tf_values,
    train,
    train_patterns,
    typo_bases,
    u_sample_size,
)
from datavask.cleansing.matching.prepare import prepare_records
from tests.cleansing.matching.population import frame

NAME = Comparison("name", ("different", "fuzzy", "exact"), ("name_key",))
PHONE = Comparison("phone", ("different", "shared number"), ("phone_e164",))
ADDRESS = Comparison("address", ("different", "same street", "exact"), ("street_key",))


@pytest.fixture
def counted_as_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    """A few records counted as a file of their own, not among a customer base of
    :data:`~fellegi_sunter.POPULATION` (see :func:`~fellegi_sunter.population`): the arithmetic
    these tests check is that of the file's own values."""
    monkeypatch.setattr(fellegi_sunter, "POPULATION", 2)


TRUE_M = {"name": [0.05, 0.15, 0.80], "phone": [0.30, 0.70], "address": [0.10, 0.20, 0.70]}
TRUE_U = {"name": [0.90, 0.08, 0.02], "phone": [0.97, 0.03], "address": [0.85, 0.10, 0.05]}


def _draw(probs: list[float], rng: random.Random) -> int:
    return rng.choices(range(len(probs)), weights=probs)[0]


def _synthetic_levels(n: int, share: float, seed: int = 1) -> pl.DataFrame:
    """Pairs from the two-class model: a share of matches, fields conditionally independent."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        probs = TRUE_M if rng.random() < share else TRUE_U
        rows.append({f"lvl_{k}": _draw(p, rng) for k, p in probs.items()})
    return pl.DataFrame(rows, schema={f"lvl_{k}": pl.Int8 for k in TRUE_M})


def test_em_recovers_m_and_match_share_from_unlabelled_pairs() -> None:
    levels = _synthetic_levels(20_000, share=0.25)
    model = fit_patterns(
        level_patterns(levels, (NAME, PHONE, ADDRESS)), (NAME, PHONE, ADDRESS), TRUE_U
    )
    assert model.converged
    assert model.match_share == pytest.approx(0.25, abs=0.02)
    for name, m in TRUE_M.items():
        assert model.m[name] == pytest.approx(m, abs=0.03), name


def test_training_on_pattern_counts_summed_over_parts_gives_the_same_model() -> None:
    """The Dask engine trains on the pattern counts of its chunks of pairs: the model must be the
    one trained on all the pairs at once, to the last bit."""
    comparisons = (NAME, PHONE, ADDRESS)
    levels = _synthetic_levels(6_000, share=0.25)
    rows = pl.Series(range(0, 6_000, 3), dtype=pl.UInt32)
    sessions = [(rows, ("phone",)), (pl.Series(range(4_000), dtype=pl.UInt32), ("name",))]
    whole = train(levels, sessions, comparisons, TRUE_U)
    cuts = [(0, 1_000), (1_000, 2_500), (3_500, 2_500)]
    parts = [level_patterns(levels.slice(start, n), comparisons) for start, n in cuts]
    per_session = []
    for session_rows, held_out in sessions:
        pieces = []
        for start, n in cuts:
            inside = session_rows.filter((session_rows >= start) & (session_rows < start + n))
            pieces.append(
                session_patterns(levels.slice(start, n), inside - start, held_out, comparisons)
            )
        visible = tuple(c for c in comparisons if c.name not in held_out)
        per_session.append((summed_patterns(pieces, visible), held_out))
    summed = train_patterns(summed_patterns(parts, comparisons), per_session, comparisons, TRUE_U)
    assert summed.m == whole.m
    assert summed.match_share == whole.match_share
    assert summed.m_spread == whole.m_spread
    assert summed.iterations == whole.iterations


def test_em_ignores_missing_levels() -> None:
    levels = _synthetic_levels(20_000, share=0.25).with_columns(
        pl.when(pl.int_range(pl.len()) % 3 == 0)
        .then(-1)
        .otherwise(pl.col("lvl_phone"))
        .cast(pl.Int8)
        .alias("lvl_phone")
    )
    model = fit_patterns(
        level_patterns(levels, (NAME, PHONE, ADDRESS)), (NAME, PHONE, ADDRESS), TRUE_U
    )
    assert model.m["phone"] == pytest.approx(TRUE_M["phone"], abs=0.04)


def test_weights_are_log_likelihood_ratios_and_missing_adds_nothing() -> None:
    model = FellegiSunterModel(
        (NAME,), m={"name": [0.1, 0.1, 0.8]}, u={"name": [0.8, 0.1, 0.1]}, match_share=0.5
    )
    scored = score_pairs(
        pl.DataFrame({"lvl_name": [2, 0, -1]}, schema={"lvl_name": pl.Int8}), model
    )
    assert scored["w_name"].to_list() == pytest.approx([3.0, -3.0, 0.0])
    assert scored["match_probability"].to_list() == pytest.approx([8 / 9, 1 / 9, 0.5])


def test_in_a_small_file_a_partial_agreement_weighs_no_more_than_the_whole() -> None:
    """A small file's u of a partial level is a floor: "alike" weighed 13.7 bits where "exact"
    weighed 10.6. In a larger file the counts may rightly say otherwise."""
    model = FellegiSunterModel(
        (NAME,), m={"name": [0.1, 0.2, 0.7]}, u={"name": [0.99, 1e-5, 1e-3]}, match_share=0.5
    )
    exact = math.log2(0.7 / 1e-3)
    assert model.level_weights("name")[1] == pytest.approx(math.log2(0.2 / 1e-5))
    model.small_file = True
    assert model.level_weights("name") == pytest.approx([math.log2(0.1 / 0.99), exact, exact])


def test_a_shared_common_value_weighs_less_than_a_shared_rare_one() -> None:
    rows = [{"record_id": f"r{i}", "phone_e164": "+4570101010"} for i in range(40)]
    rows += [{"record_id": f"s{i}", "phone_e164": f"+45200000{i:02d}"} for i in range(40)]
    rows += [{"record_id": "s_dup", "phone_e164": "+4520000000"}]
    records = prepare_records(frame(rows))
    tables, means = term_frequencies(
        records, (Comparison("phone", PHONE.levels, ("phone_e164",), (1,)),)
    )
    phone = Comparison("phone", PHONE.levels, ("phone_e164",), (1,))
    model = FellegiSunterModel(
        (phone,),
        m={"phone": [0.3, 0.7]},
        u={"phone": [0.99, 0.01]},
        match_share=0.5,
        tf_tables=tables,
        tf_mean=means,
    )
    levels = pl.DataFrame(
        {"lvl_phone": [1, 1], "tfv_phone": ["+4570101010", "+4520000000"]},
        schema={"lvl_phone": pl.Int8, "tfv_phone": pl.String},
    )
    switchboard, rare = score_pairs(levels, model)["w_phone"].to_list()
    assert rare > switchboard + 4  # 40 holders vs 2: log2(20) ≈ 4.3 bits apart


def test_encoded_tf_values_score_as_the_text_does() -> None:
    rows = [{"record_id": f"r{i}", "phone_e164": "+4570101010"} for i in range(5)]
    rows += [{"record_id": f"s{i}", "phone_e164": f"+45200000{i:02d}"} for i in range(5)]
    records = prepare_records(frame(rows))
    phone = Comparison("phone", PHONE.levels, ("phone_e164",), (1,))
    tables, means = term_frequencies(records, (phone,))
    model = FellegiSunterModel(
        (phone,),
        m={"phone": [0.3, 0.7]},
        u={"phone": [0.99, 0.01]},
        match_share=0.5,
        tf_tables=tables,
        tf_mean=means,
    )
    levels = pl.DataFrame(
        {
            "lvl_phone": [1, 0, 1, 1, -1],
            "tfv_phone": ["+4570101010", None, "+4520000003", "+4570101010", None],
            SAME_CUSTOMER: [False, False, True, True, False],
        },
        schema={"lvl_phone": pl.Int8, "tfv_phone": pl.String, SAME_CUSTOMER: pl.Boolean},
    )
    encoded, values = encode_tf_values(levels)
    assert encoded.schema["tfv_phone"] == pl.UInt32
    assert encoded["tfv_phone"].null_count() == 2
    assert values["phone"].gather(encoded["tfv_phone"].drop_nulls()).to_list() == [
        "+4570101010",
        "+4520000003",
        "+4570101010",
    ]
    as_text = score_pairs(levels, model)
    as_codes = score_pairs(encoded, model, tf_values=values)
    assert as_codes.drop("tfv_phone").equals(as_text.drop("tfv_phone"))
    assert as_text["w_phone"][0] != as_text["w_phone"][2]  # the tf adjustment took part


@pytest.mark.usefixtures("counted_as_they_are")
def test_u_of_an_identifier_is_the_chance_two_random_records_share_it() -> None:
    cvrs = ["25313763", "25313763", "25313763", "10150817", "10150817", None]
    records = prepare_records(frame([{"record_id": str(i), "cvr": c} for i, c in enumerate(cvrs)]))
    u, _ = estimate_u(records, (COMPARISONS["cvr"],))
    # 5 records with a CVR: 20 ordered pairs, 3·2 + 2·1 = 8 of them agree
    assert u["cvr"] == pytest.approx([1 - 8 / 20, 8 / 20])


def test_a_small_files_agreements_are_counted_among_a_customer_base() -> None:
    """Two records of one customer agree on their CVR number: counted from the file, its one pair
    agrees, u = 1 and the CVR weighs nothing. Among POPULATION records, the others different
    customers, one pair in P0 agrees; a name two of five records hold is two of POPULATION's."""
    population = fellegi_sunter.POPULATION
    pairs = population * (population - 1) / 2
    records = prepare_records(frame([{"record_id": str(i), "cvr": "25313763"} for i in range(2)]))
    u, _ = estimate_u(records, (COMPARISONS["cvr"],))
    assert u["cvr"] == pytest.approx([1 - 1 / pairs, 1 / pairs])
    phone = Comparison("phone", PHONE.levels, ("phone_e164",), (1,))
    numbers = ["+4565139218", "+4565139218", "+4570101010", "+4520000001", "+4520000002"]
    records = prepare_records(
        frame([{"record_id": str(i), "phone_e164": n} for i, n in enumerate(numbers)])
    )
    tables, means = term_frequencies(records, (phone,))
    tf = dict(tables["phone"].select("value", "tf").iter_rows())
    assert tf["+4565139218"] == pytest.approx(2 / population)
    assert means["phone"] == pytest.approx((4 + 1 + 1 + 1) / population**2)
    # a file of POPULATION records or more is counted as it is
    assert fellegi_sunter.file_share(population) == 1.0
    assert fellegi_sunter.record_share(population + 1) == 1.0


def test_u_sample_scales_with_the_input_and_small_inputs_use_every_pair() -> None:
    assert u_sample_size(400, 200_000) == 20_000
    assert u_sample_size(100_000, 200_000) == 200_000
    assert u_sample_size(1_000_000, 200_000) == 200_000
    left, right = all_pairs(4)
    assert list(zip(left, right, strict=True)) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]


@pytest.mark.usefixtures("counted_as_they_are")
def test_a_value_counts_once_per_customer() -> None:
    # Three records of one company share its mailbox; a switchboard is held by three companies.
    phone = Comparison("phone", PHONE.levels, ("phone_e164",), (1,))
    numbers = ["+4565139218"] * 3 + ["+4570101010"] * 3 + [f"+45200000{i:02d}" for i in range(4)]
    records = prepare_records(
        frame([{"record_id": str(i), "phone_e164": n} for i, n in enumerate(numbers)])
    )
    customers = pl.Series([0, 0, 0, 3, 4, 5, 6, 7, 8, 9])
    per_record, _ = term_frequencies(records, (phone,))
    per_customer, mean = term_frequencies(records, (phone,), customers)
    tf = dict(per_customer["phone"].select("value", "tf").iter_rows())
    # 8 customer-number pairs: the company's own number once, the switchboard three times
    assert tf["+4565139218"] == pytest.approx(1 / 8)
    assert tf["+4570101010"] == pytest.approx(3 / 8)
    per_record_tf = dict(per_record["phone"].select("value", "tf").iter_rows())
    assert per_record_tf["+4565139218"] == pytest.approx(3 / 10)
    assert mean["phone"] == pytest.approx(sum(t * t for t in tf.values()))


@pytest.mark.usefixtures("counted_as_they_are")
def test_a_mailbox_held_at_many_addresses_is_no_evidence() -> None:
    """``faktura@sunset.dk``, the chain's invoice mailbox of 19 shops, weighed 9.4 bits as a
    shared e-mail address: two ``Sunset Boulevard Vestergade`` shops of two towns were merged on
    it. A value held at :data:`~fellegi_sunter.CENTRAL_PLACES` addresses or more is a central
    one, as common as a value everyone holds; one customer's mailbox at four of its addresses
    (moved, mistyped) is still weighed by its term frequency. The Dask engine's count of row
    partitions (:func:`~fellegi_sunter.tf_counts`) says the same."""
    email = COMPARISONS["email"]
    shops = [
        {"email": "faktura@coop.dk", "street_key": street, "house_number": "12"}
        for street in ("vestergade", "oestergade", "noerregade", "torvet", "algade")
    ]
    # Moved once, the street and the number mistyped once each: four addresses.
    moves = (("kirkevej", "4"), ("kirkevej", "4"), ("kirkevej", "44"), ("kirkvej", "4"))
    mover = [
        {"email": "mail@hansen.dk", "street_key": street, "house_number": number}
        for street, number in (*moves, ("skolevej", "9"))
    ]
    others = [
        {"email": f"info@firma{i}.dk", "street_key": "havnegade", "house_number": str(i)}
        for i in range(10)
    ]
    rows = [
        {"record_id": str(i), "postal_code": "8000", **row}
        for i, row in enumerate(shops + mover + others)
    ]
    records = prepare_records(frame(rows))
    customers = pl.Series(range(records.height))
    tables, means = term_frequencies(records, (email,), customers)
    tf = dict(tables["email"].select("value", "tf").iter_rows())
    assert tf["faktura@coop.dk"] == 1.0
    assert tf["mail@hansen.dk"] < 0.5
    model = FellegiSunterModel(
        (email,), m={"email": [0.1, 0.1, 0.8]}, u={"email": [0.9, 0.09, 0.01]}, match_share=0.1
    )
    model.count_values(tables, means)
    levels = pl.DataFrame(
        {"lvl_email": [2, 2], "tfv_email": ["faktura@coop.dk", "mail@hansen.dk"]},
        schema={"lvl_email": pl.Int8, "tfv_email": pl.String},
    )
    central, mover_weight = score_pairs(levels, model)["w_email"].to_list()
    assert -1.0 < central <= 0.0
    assert mover_weight > 1.0
    # Counted in two row partitions, as the Dask engine counts them.
    halves = [
        tf_values(part, email, customers.slice(offset, part.height))
        for offset, part in ((0, records.head(8)), (8, records.tail(records.height - 8)))
    ]
    counted = tf_counts(pl.concat(halves))
    dask_table, dask_mean = tf_table(counted, "email", in_file=fellegi_sunter.record_share(20))
    assert dict(dask_table.select("value", "tf").iter_rows()) == pytest.approx(tf)
    assert dask_mean == pytest.approx(means["email"])


def test_a_pairs_own_merge_does_not_make_its_shared_value_rarer() -> None:
    """Three records share a phone; whether the first two are one customer or two, their pair
    weighs the same: counted as one customer, the pair would cross the threshold on the strength
    of its own merge and stay merged in a rerun that started there (issue 9.10, seed 14)."""
    rows = [{"record_id": f"p{i}", "phone_e164": "+4523627110"} for i in range(3)]
    rows += [{"record_id": f"o{i}", "phone_e164": f"+45300000{i:02d}"} for i in range(60)]
    records = prepare_records(frame(rows))
    phone = Comparison("phone", PHONE.levels, ("phone_e164",), (1,))
    levels = pl.DataFrame(
        {"lvl_phone": [1], "tfv_phone": ["+4523627110"]},
        schema={"lvl_phone": pl.Int8, "tfv_phone": pl.String},
    )
    weights = []
    # p0 and p1 apart ({p0}, {p1, p2}), then together ({p0, p1, p2})
    for labels in ([0, 1, 1], [0, 0, 0]):
        customers = pl.Series([*labels, *range(10, 70)])
        tables, means = term_frequencies(records, (phone,), customers)
        model = FellegiSunterModel(
            (phone,), m={"phone": [0.3, 0.7]}, u={"phone": [0.99, 0.01]}, match_share=0.5,
            tf_tables=tables, tf_mean=means,
        )  # fmt: skip
        same = pl.Series(SAME_CUSTOMER, [labels[0] == labels[1]])
        weights.append(score_pairs(levels.with_columns(same), model)["w_phone"].item())
    apart, together = weights
    assert together == pytest.approx(apart, abs=0.05)
    # without the pair's own view, the merged state would weigh a whole bit more
    customers = pl.Series([0, 0, 0, *range(10, 70)])
    tables, means = term_frequencies(records, (phone,), customers)
    model = FellegiSunterModel(
        (phone,), m={"phone": [0.3, 0.7]}, u={"phone": [0.99, 0.01]}, match_share=0.5,
        tf_tables=tables, tf_mean=means,
    )  # fmt: skip
    assert score_pairs(levels, model)["w_phone"].item() > apart + 0.9


@pytest.mark.usefixtures("counted_as_they_are")
def test_a_shared_value_weighs_the_same_however_many_records_are_copies() -> None:
    """A customer's three records, once given their golden values, are copies of one another (a
    re-imported file): other customers' shared values must weigh what they weighed before. The u
    of agreement counted values per set of copies and the tf adjustment per customer, so the
    re-import weighed every shared value ~0.08 bits more and merged a pair the first run left in
    review (the round trip's fixed point, 3,000 rows, seed 11)."""
    phone = Comparison("phone", PHONE.levels, ("phone_e164",), (1,))
    rows = [{"record_id": f"c{i}", "phone_e164": "+4565139218"} for i in range(3)]
    rows += [{"record_id": f"s{i}", "phone_e164": "+4523627110"} for i in range(2)]
    rows += [{"record_id": f"o{i}", "phone_e164": f"+45300000{i:02d}"} for i in range(20)]
    records = prepare_records(frame(rows))
    customers = pl.Series([0, 0, 0, *range(1, 23)])
    levels = pl.DataFrame(
        {"lvl_phone": [1], "tfv_phone": ["+4523627110"]},
        schema={"lvl_phone": pl.Int8, "tfv_phone": pl.String},
    )
    weights = []
    # before: the customer's records differ elsewhere; after: all three are copies
    for copies in ([0, 1, 2, *range(3, 25)], [0, 0, 0, *range(3, 25)]):
        _, copy_means = term_frequencies(records, (phone,), pl.Series(copies))
        u, _ = estimate_u(records, (phone,), tf_mean=copy_means)
        model = FellegiSunterModel((phone,), m={"phone": [0.3, 0.7]}, u=u, match_share=0.5)
        model.count_values(*term_frequencies(records, (phone,), customers))
        weights.append(score_pairs(levels, model)["w_phone"].item())
        assert model.u["phone"][1] == pytest.approx(model.tf_mean["phone"])
    before, after = weights
    assert after == pytest.approx(before)
    # the shared number is held by 2 of 23 customer-number pairs
    assert before == pytest.approx(math.log2(0.7 / (2 / 23)))


def test_an_address_keeps_the_u_sampled_within_its_postal_code() -> None:
    address = COMPARISONS["address"]
    sampled = [0.9, 0.05, 0.02, 0.01, 0.005, 0.005, 0.01]
    model = FellegiSunterModel(
        (address,), m={"address": [1 / 7] * 7}, u={"address": list(sampled)}, match_share=0.5
    )
    model.count_values({}, {"address": 0.3})
    assert model.u["address"] == sampled


OTHERS_8 = 8 - math.sqrt(8)  # eight other holders of a whole name, one standard deviation lower


def _namesakes(holders: int) -> pl.DataFrame:
    """``holders`` customers named "peter nelsen" (a typo of a common name, rare on its own), 40
    other peters and 950 persons of other names."""
    names = [("peter", "nelsen")] * holders
    names += [("peter", f"name{i}") for i in range(40)]
    names += [(f"first{i}", f"last{i}") for i in range(950)]
    rows = [
        {"record_id": str(i), "customer_type": "person", "first_name_key": f, "last_name_key": n}
        for i, (f, n) in enumerate(names)
    ]
    return prepare_records(frame(rows))


def _name_model(records: pl.DataFrame) -> FellegiSunterModel:
    first, last = COMPARISONS["first_name"], COMPARISONS["last_name"]
    model = FellegiSunterModel(
        (first, last),
        m={"first_name": [0.05, 0.02, 0.03, 0.05, 0.05, 0.8], "last_name": [0.1, 0.05, 0.05, 0.8]},
        u={"first_name": [0.9, 0.02, 0.02, 0.03, 0.02, 0.01], "last_name": [0.9, 0.05, 0.04, 0.01]},
        match_share=0.5,
    )
    model.count_values(*term_frequencies(records, (first, last)))
    return model


def _names_compared(records: pl.DataFrame, pairs: list[tuple[int, int]]) -> pl.DataFrame:
    """The levels and agreeing values of ``pairs`` of record positions, as the matcher compares
    them."""
    left = pl.Series([a for a, _ in pairs], dtype=pl.UInt32)
    right = pl.Series([b for _, b in pairs], dtype=pl.UInt32)
    names = (COMPARISONS["first_name"], COMPARISONS["last_name"])
    return compare_pairs(records, left, right, names)


def test_a_whole_name_many_customers_hold_weighs_as_the_whole_name_not_its_parts() -> None:
    """Ten of 1,000 customers are "peter nelsen": taken as independent, "peter" (50 of 1,000) and
    "nelsen" (10) would agree in one of 2,000 random pairs. Eight customers *besides* the pair's
    two hold the whole name (the generated 1M-row file: dozens of "Peter Nelsen"s, typos of the
    common Nielsen), at the low end 8 − √8, so the two names agreeing are worth
    log2(0.8 · 0.8 / ((8 − √8) / 1000)) bits — what the whole name's frequency says — 3.4 bits
    less than the product of its parts'."""
    records = _namesakes(10)
    scored = score_pairs(_names_compared(records, [(0, 1)]), _name_model(records))
    names = scored["w_first_name"].item() + scored["w_last_name"].item()
    assert scored["w_first_name"].item() == pytest.approx(math.log2(0.8 / (50 / 1000)))
    assert names == pytest.approx(math.log2(0.8 * 0.8 / (OTHERS_8 / 1000)))
    parts = math.log2(0.8 / (50 / 1000)) + math.log2(0.8 / (10 / 1000))
    assert names < parts - 3.3


@pytest.mark.usefixtures("counted_as_they_are")
@pytest.mark.parametrize("holders", [2, 3])
def test_a_whole_name_at_most_one_other_customer_holds_keeps_the_weight_of_its_parts(
    holders: int,
) -> None:
    """No one but the pair's two records, or one other customer, is "peter nelsen": nothing says
    the parts go together more often than chance (one other holder, less one standard deviation,
    is none), so they weigh what they weigh apart."""
    records = _namesakes(holders)
    scored = score_pairs(_names_compared(records, [(0, 1)]), _name_model(records))
    total = holders + 990
    assert scored["w_last_name"].item() == pytest.approx(math.log2(0.8 / (holders / total)))
    assert scored["w_first_name"].item() == pytest.approx(math.log2(0.8 / ((40 + holders) / total)))


def _one_name(holders: int, first_elsewhere: int) -> pl.DataFrame:
    """``holders`` customers named "hiroyuki mizuno", ``first_elsewhere`` more named "hiroyuki"
    with other surnames, and 950 persons of other names."""
    names = [("hiroyuki", "mizuno")] * holders
    names += [("hiroyuki", f"other{i}") for i in range(first_elsewhere)]
    names += [(f"first{i}", f"last{i}") for i in range(950)]
    rows = [
        {"record_id": str(i), "customer_type": "person", "first_name_key": f, "last_name_key": n}
        for i, (f, n) in enumerate(names)
    ]
    return prepare_records(frame(rows))


@pytest.mark.usefixtures("counted_as_they_are")
def test_a_whole_name_whose_parts_are_never_held_apart_keeps_the_weight_of_its_parts() -> None:
    """21 of 971 customers are "hiroyuki mizuno", and no one else holds either part: one inventor
    whose mentions the clusters keep apart by employer and city (PatentsView), not 21 namesakes
    whose parts go together by chance. Counting them as namesakes would keep them apart because
    they were kept apart; the parts weigh what they weigh apart."""
    records = _one_name(21, 0)
    scored = score_pairs(_names_compared(records, [(0, 1)]), _name_model(records))
    assert scored["w_first_name"].item() == pytest.approx(math.log2(0.8 / (21 / 971)))
    assert scored["w_last_name"].item() == pytest.approx(math.log2(0.8 / (21 / 971)))


@pytest.mark.usefixtures("counted_as_they_are")
def test_the_whole_name_counts_at_most_as_many_others_as_a_part_has_other_partners() -> None:
    """Three other surnames beside "hiroyuki" (of 974 customers): at most three customers besides
    the pair's two are taken for namesakes, at the low end 3 − √3."""
    records = _one_name(21, 3)
    scored = score_pairs(_names_compared(records, [(0, 1)]), _name_model(records))
    names = scored["w_first_name"].item() + scored["w_last_name"].item()
    assert names == pytest.approx(math.log2(0.8 * 0.8 / ((3 - math.sqrt(3)) / 974)))
    parts = math.log2(0.8 / (24 / 974)) + math.log2(0.8 / (21 / 974))
    assert names < parts - 1.0


def test_the_whole_name_scores_the_same_from_encoded_values_and_from_text() -> None:
    records = _namesakes(10)
    model = _name_model(records)
    # two "peter nelsen"s, a "peter nelsen" and a "peter name3", the pair again as one customer,
    # and two persons of other names ("first0 last0", "first3 last3")
    levels = _names_compared(records, [(0, 1), (0, 13), (2, 3), (50, 53)])
    assert levels["tfv_full_name"].to_list() == ["peter|nelsen", None, "peter|nelsen", None]
    levels = levels.with_columns(pl.Series(SAME_CUSTOMER, [False, False, True, False]))
    encoded, values = encode_tf_values(levels)
    as_text = score_pairs(levels, model)
    as_codes = score_pairs(encoded, model, tf_values=values)
    keep = ["w_first_name", "w_last_name", "match_weight"]
    assert as_codes.select(keep).equals(as_text.select(keep))
    corrected = math.log2(0.8 * 0.8 / (OTHERS_8 / 1000)) - math.log2(0.8 / (50 / 1000))
    assert as_text["w_last_name"][0] == pytest.approx(corrected)
    # one customer: nine others besides it, the parts each one holder more
    apart = (9 - math.sqrt(9)) / 1001
    parts = (51 / 1001) * (11 / 1001)
    assert as_text["w_last_name"][2] == pytest.approx(
        math.log2(0.8 / (11 / 1001)) + math.log2(parts / apart)
    )


def test_a_name_a_tenth_as_common_as_one_a_keystroke_away_is_that_name_mistyped() -> None:
    counts = pl.DataFrame(
        {
            "value": ["larsen", "laresn", "larrsen", "lars", "hansen", "hansne", "ole", "ola"],
            "count": [500, 10, 5, 300, 400, 60, 50, 1],
        }
    )
    bases = dict(typo_bases(counts).iter_rows())
    # swapped letters, a doubled letter; not "lars" (two letters less), not "hansne" (60 of
    # 400: more than a tenth), not "ola" (three letters: one keystroke makes another name)
    assert bases == {"laresn": "larsen", "larrsen": "larsen"}
    table, mean = tf_table(counts, "last_name") or (pl.DataFrame(), 0.0)
    tf = dict(table.select("value", "tf").iter_rows())
    assert tf["laresn"] == tf["larsen"] == pytest.approx(500 / 1326)
    assert tf["hansne"] == pytest.approx(60 / 1326)
    # agreeing exactly, typos and all, stays as rare as it is
    assert mean == pytest.approx(sum((c / 1326) ** 2 for c in counts["count"]))


def _typo_bases_by_hand(counts: dict[str, int]) -> dict[str, str]:
    """typo_bases as its docstring says it, one value at a time."""
    values = {v: c for v, c in counts.items() if len(v) >= 4}

    def variants(v: str) -> list[str]:
        return [v] + [v[:i] + v[i + 1 :] for i in range(len(v))]

    holders: dict[str, set[str]] = {}
    for v in values:
        for key in variants(v):
            holders.setdefault(key, set()).add(v)
    commonest = {key: min(vs, key=lambda v: (-values[v], v)) for key, vs in holders.items()}
    bases = {}
    for v, count in values.items():
        others = [commonest[key] for key in variants(v) if commonest[key] != v]
        if others:
            base = min(others, key=lambda b: (-values[b], b))
            if values[base] * TYPO_SHARE >= count:
                bases[v] = base
    return bases


@pytest.mark.parametrize("seed", range(40))
def test_typo_bases_finds_what_one_value_at_a_time_finds(seed: int) -> None:
    # Short words of few letters (æ, ø, å among them) meet often one keystroke apart, and ties
    # in count are common: the commonest neighbour, ties to the first text, decides.
    rng = random.Random(seed)
    words = {
        "".join(rng.choice("abeæøå") for _ in range(rng.randint(2, 7)))
        for _ in range(rng.randint(0, 80))
    }
    counts = {w: rng.choice([1, 1, 2, 3, 5, 10, 30, 100]) for w in sorted(words)}
    frame = pl.DataFrame(
        {"value": list(counts), "count": list(counts.values())},
        schema={"value": pl.String, "count": pl.Int64},
    )
    found = typo_bases(frame)
    assert found["value"].to_list() == sorted(found["value"].to_list())
    assert dict(found.iter_rows()) == _typo_bases_by_hand(counts)


def test_two_customers_sharing_a_typo_of_a_common_name_agree_no_more_than_on_the_name() -> None:
    """Two of 1,000 customers are "hanne laresn" (a typo of Larsen), 100 are "hanne larsen".
    The typo is rare (2 of 1,000), but the same slip in two records says nothing about their being
    one customer: they agree on "hanne larsen", which 100 others besides them hold."""
    names = [("hanne", "laresn")] * 2 + [("hanne", "larsen")] * 100
    names += [(f"first{i}", f"last{i}") for i in range(898)]
    rows = [
        {"record_id": str(i), "customer_type": "person", "first_name_key": f, "last_name_key": n}
        for i, (f, n) in enumerate(names)
    ]
    records = prepare_records(frame(rows))
    scored = score_pairs(_names_compared(records, [(0, 1)]), _name_model(records))
    names_weight = scored["w_first_name"].item() + scored["w_last_name"].item()
    others = (100 - math.sqrt(100)) / 1000
    assert names_weight == pytest.approx(math.log2(0.8 * 0.8 / others))
    rare_typo = math.log2(0.8 / (102 / 1000)) + math.log2(0.8 / (2 / 1000))
    assert names_weight < rare_typo - 8


def _phone_and_email(*, match_share: float) -> FellegiSunterModel:
    """Two agree/disagree comparisons, each worth ±9.96 bits: both agreeing is +19.9 bits, one
    alone 0."""
    phone = Comparison("phone", ("different", "exact"), ("phone_e164",))
    email = Comparison("email", ("different", "exact"), ("email",))
    return FellegiSunterModel(
        (phone, email),
        m={"phone": [0.001, 0.999], "email": [0.001, 0.999]},
        u={"phone": [0.999, 0.001], "email": [0.999, 0.001]},
        match_share=match_share,
    )


def test_the_consistent_prior_counts_matches_with_the_decisions_posteriors() -> None:
    from datavask.cleansing.matching.fellegi_sunter import consistent_prior, random_pair_prior

    # 100 pairs agree on phone and e-mail (+19.9 bits), 900 on one of them only (a household:
    # 0 bits), among 10⁶ record pairs. EM's λ of 0.55 counts 550 matches; counted with the
    # posteriors at the random pair's odds (−13 bits) the 900 are strangers, and about 100 match.
    model = _phone_and_email(match_share=0.55)
    phone, email = model.comparisons
    patterns = pl.DataFrame(
        {"lvl_phone": [1, 1, 0], "lvl_email": [1, 0, 1], "count": [100, 450, 450]}
    )
    total = 10**6
    assert random_pair_prior(0.55, 1000, total) == pytest.approx(550 / total)
    prior = consistent_prior(model, patterns, total)
    assert 95 / total < prior < 101 / total
    # The fixed point: the matches the posteriors count at this prior are the prior's.
    odds = math.log2(prior / (1 - prior))
    both = sum(model.level_weights(c.name)[1] for c in (phone, email))
    one = model.level_weights("phone")[1] + model.level_weights("email")[0]
    counted = 100 / (1 + 2.0 ** -(both + odds)) + 900 / (1 + 2.0 ** -(one + odds))
    assert counted / total == pytest.approx(prior, rel=1e-6)
    assert consistent_prior(model, patterns.reverse(), total) == prior


def test_the_prior_is_brought_within_what_a_random_sample_shows() -> None:
    from datavask.cleansing.matching.fellegi_sunter import sampled_prior

    # Of 10,000 random record pairs 200 agree on phone and e-mail (+19.9 bits) and 900 on the
    # phone alone (0 bits). The candidates' prior (10⁻⁵, −16.6 bits) called the 200 matches all
    # the same, so the sample shows a prior 170 times higher, counted 2 standard errors low.
    model = _phone_and_email(match_share=0.5)
    sample = pl.DataFrame(
        {"lvl_phone": [1, 1, 0, -1], "lvl_email": [1, 0, 0, 0], "count": [200, 900, 8800, 100]}
    )
    prior = sampled_prior(model, 1e-5, sample)
    assert prior == pytest.approx((200 - 2 * math.sqrt(200)) / 10_000)
    # the household pairs stay strangers at that prior: the fixed point holds
    assert sampled_prior(model, prior, sample) == prior
    # A handful of matches in the sample is within its noise: the prior stays.
    few = sample.with_columns(pl.Series("count", [4, 900, 8996, 100]))
    assert sampled_prior(model, 1e-5, few) == 1e-5
    # A prior of 0.05 says 500 of the 10,000 match; the posteriors count 245 (the 200, and the
    # households at 0.05 each). Lowered to the 95 % bound of what the sample holds, and again,
    # until the two agree.
    lowered = sampled_prior(model, 0.05, sample)
    odds = math.log2(lowered / (1 - lowered))
    held = 200 / (1 + 2.0 ** -(19.93 + odds)) + 900 / (1 + 2.0**-odds)
    assert lowered * 10_000 == pytest.approx(held + 2 * math.sqrt(held + 1) + 1, rel=1e-3)
    assert 0.02 < lowered < 0.03
    # A prior within the bound stays as it is, and so does one below what 10,000 pairs can tell.
    assert sampled_prior(model, lowered * 0.9, sample) == lowered * 0.9
    nothing = pl.DataFrame({"lvl_phone": [0], "lvl_email": [0], "count": [10_000]})
    assert sampled_prior(model, 2e-4, nothing) == 2e-4
    assert sampled_prior(model, 1e-3, nothing) == pytest.approx(3 / 10_000, rel=1e-5)
    # Posteriors are counted, not summed: 10,000 pairs at 0.001 each raise nothing (and hold
    # the prior that gave them 0.001).
    weak = pl.DataFrame({"lvl_phone": [1], "lvl_email": [0], "count": [10_000]})
    assert sampled_prior(model, 2.0**-10, weak) == 2.0**-10
    assert sampled_prior(model, 1e-5, sample.clear()) == 1e-5


def test_the_sampled_prior_leaves_a_file_whose_blocking_finds_its_pairs_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import datavask.cleansing.matching as matching
    from tests.cleansing.matching.population import frame, population_rows

    df, settings = frame(population_rows()), matching.MatchSettings(every_pair_budget=0)
    found = matching.find_duplicates(df, settings=settings).model.prior
    monkeypatch.setattr(matching, "sampled_prior", lambda model, prior, sample, **_: prior)
    assert found == matching.find_duplicates(df, settings=settings).model.prior


def test_the_prior_setting_is_checked() -> None:
    from datavask.cleansing.matching import MatchSettings, find_duplicates
    from tests.cleansing.matching.population import frame, population_rows

    with pytest.raises(ValueError, match="prior must be one of"):
        find_duplicates(frame(population_rows()), settings=MatchSettings(prior="guess"))


def test_the_posterior_prior_is_below_the_candidates_prior_on_a_population() -> None:
    from datavask.cleansing.matching import MatchSettings, find_duplicates
    from tests.cleansing.matching.population import frame, population_rows

    df = frame(population_rows())
    settings = MatchSettings(every_pair_budget=0)
    candidates = find_duplicates(df, settings=settings).model
    posterior = find_duplicates(df, settings=dataclasses.replace(settings, prior="posterior")).model
    # The same m, u and λ; only the prior differs, and the households and namesakes EM's λ
    # counts as matches are counted at the posterior the decision gives them.
    assert posterior.parameters().equals(candidates.parameters())
    assert posterior.match_share == candidates.match_share
    assert candidates.prior is not None and posterior.prior is not None
    assert posterior.prior < candidates.prior


EMAIL = Comparison("email", ("different", "different personal addresses", "shared"), ("email",))


def test_a_disagreeing_level_is_never_evidence_for_a_match() -> None:
    # Matches are mostly two persons on free-mail addresses, random pairs mostly not: the finer
    # "different" level has m > u, yet two different addresses are no evidence for one customer.
    model = FellegiSunterModel(
        comparisons=(EMAIL, PHONE),
        m={"email": [0.0001, 0.26, 0.7399], "phone": [0.3, 0.7]},
        u={"email": [0.92, 0.0799, 0.0001], "phone": [0.97, 0.03]},
        match_share=0.1,
    )
    weights = model.level_weights("email")
    assert weights[1] <= 0.0
    assert weights[1] == pytest.approx(math.log2(0.2601 / 0.9999))  # the disagreement as a whole
    assert weights[0] == pytest.approx(math.log2(0.0001 / 0.92))  # its own, already negative
    assert weights[2] == pytest.approx(math.log2(0.7399 / 0.0001))
    assert model.level_weights("phone") == [math.log2(0.3 / 0.97), math.log2(0.7 / 0.03)]
    levels = pl.DataFrame(
        {"lvl_email": [1], "lvl_phone": [0]},
        schema=dict.fromkeys(("lvl_email", "lvl_phone"), pl.Int8),
    )
    scored = score_pairs(levels, model)
    assert scored["w_email"][0] == pytest.approx(weights[1])


def test_a_disagreeing_level_pooled_above_zero_weighs_nothing() -> None:
    model = FellegiSunterModel(
        comparisons=(EMAIL,),
        m={"email": [0.2, 0.6, 0.2]},
        u={"email": [0.5, 0.3, 0.2]},
        match_share=0.1,
    )
    assert model.level_weights("email")[1] == 0.0


def test_em_sees_a_comparisons_disagreeing_levels_as_one() -> None:
    # Matches share a phone; the e-mail's two "different" levels split the pairs by kind of
    # customer (persons on free-mail domains, level 1; companies, level 0), not by identity. EM
    # must not learn the split: both disagreeing levels get one m/u ratio.
    rows = [(1, 2)] * 200 + [(1, 1)] * 60 + [(1, 0)] * 40 + [(0, 1)] * 500 + [(0, 0)] * 200
    levels = pl.DataFrame(
        {"lvl_phone": [a for a, _ in rows], "lvl_email": [b for _, b in rows]},
        schema={"lvl_phone": pl.Int8, "lvl_email": pl.Int8},
    )
    u = {"phone": [0.99, 0.01], "email": [0.6, 0.3999, 0.0001]}
    model = fit_patterns(level_patterns(levels, (PHONE, EMAIL)), (PHONE, EMAIL), u)
    weights = model.level_weights("email")
    assert weights[0] == pytest.approx(weights[1])
    assert weights[1] < 0.0
    assert sum(model.m["email"]) == pytest.approx(1.0, abs=1e-4)
    assert model.u["email"] == u["email"]  # u is the one given, not the pooled one


def test_scoring_by_pattern_gives_every_pair_the_weights_scoring_it_alone_gives() -> None:
    """Pairs that repeat a pattern of levels and agreeing values, counted as one customer or two,
    scored once per pattern, are the frame scoring every pair gives, number for number; with
    the tf tables' codes and without them."""
    records = _namesakes(10)
    first, last = COMPARISONS["first_name"], COMPARISONS["last_name"]
    rng = random.Random(3)
    # namesakes, peters of other last names and persons of other names, many pairs more than once
    pairs = [(rng.randrange(0, 60), rng.randrange(60, 120)) for _ in range(150)]
    pairs += [(a, b) for a in range(10) for b in range(a + 1, 10)] * 2 + [(0, 13), (50, 53)] * 5
    levels, values = encode_tf_values(_names_compared(records, pairs))
    same = pl.Series(SAME_CUSTOMER, [rng.random() < 0.3 for _ in pairs])
    patterns = scoring_patterns(levels)
    assert patterns.patterns.height < levels.height / 2
    model = _name_model(records)
    codes = tf_codes(records, (first, last))
    coded_model = dataclasses.replace(model)
    coded_model.count_values(*term_frequencies(records, (first, last), codes=codes))
    for scoring, by_code in ((model, None), (coded_model, tf_value_codes(values, codes))):
        each = score_pairs(
            levels.with_columns(same), scoring, tf_values=values, value_codes=by_code
        )
        by_pattern = score_by_pattern(
            levels, patterns, scoring, same_customer=same, tf_values=values, value_codes=by_code
        )
        assert by_pattern.equals(each)
        # the pair of namesakes weighs differently as one customer and as two
        namesakes = each.filter(pl.col("tfv_full_name").is_not_null())
        assert namesakes["w_last_name"].n_unique() > 1
    plain = score_by_pattern(levels, patterns, model, tf_values=values)
    assert plain.equals(score_pairs(levels, model, tf_values=values))


def test_a_small_files_common_danish_name_is_as_common_as_among_danes() -> None:
    """Two of a small file's 30 customers named Hansen made the name rare (2 among the 500 of its
    population: 0.4 %) where one Danish surname in 20 is it; two Peter Hansens at one postal code merged
    on it. A name the table does not know, and a file of 500 records or more, keep their counts."""
    counts = pl.DataFrame({"value": ["hansen", "vindelev", "jensen"], "count": [2, 2, 26]})
    small, _ = tf_table(counts, "last_name", in_file=fellegi_sunter.record_share(30))
    tf = dict(zip(small["value"], small["tf"], strict=True))
    assert tf["hansen"] == pytest.approx(0.051861)  # surnames_da.csv's share
    assert tf["vindelev"] == pytest.approx(2 / 500)
    large, _ = tf_table(counts, "last_name", in_file=1.0)
    assert dict(zip(large["value"], large["tf"], strict=True))["hansen"] == pytest.approx(2 / 30)


def test_a_small_files_customers_share_a_postal_code_or_street_as_its_records_do() -> None:
    """The pairs a small file lacks of its customer base of POPULATION agree on a whole address
    as rarely as different customers do, but share a postal code or a street as often as the
    file's own pairs: a local firm's customers live in a few postal codes. Counted as never,
    "same postal code" weighed 8.7 bits in a 25-row file."""
    counted = [0.7, 0.2, 0.05, 0.03, 0.01, 0.005, 0.005]
    in_file = 0.01
    u = fellegi_sunter._in_population(counted, in_file, 3)
    assert u[1:3] == pytest.approx([0.2, 0.05])
    assert u[3:] == pytest.approx([p * in_file for p in counted[3:]])
    assert sum(u) == pytest.approx(1.0)
