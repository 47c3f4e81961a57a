"""The true customers behind the synthetic CRM export: one row per real-world entity.

An *entity* is a person, a company or a public body with its clean, current values (name, address,
phone, e-mail, CVR, EAN) and what the registry knows about it (status, former name, former address,
secondary names, secret contact data). Records (the CRM rows) are drawn from entities later, in
:mod:`bench.gen_records`; the registry documents in :mod:`bench.gen_registry`.

Hard negatives are planted here because they are relations *between* entities: households (same
surname, address and landline, different first names), group companies (``X Holding ApS`` next to
``X Byg ApS`` at one address), business centres (many companies sharing an address and a
switchboard number) and very common person names in different towns. They share values but never
an ``entity_id``.
"""

from __future__ import annotations

import polars as pl

from bench.gen_pools import (
    COMMON_PERSON_NAMES,
    COMPANY_MAILBOXES,
    FANTASY,
    FOREIGN_PHONES,
    FREE_MAIL,
    INSTITUTION_KINDS,
    INSTITUTION_PREFIXES,
    KOMMUNER,
    LANDLINE_PREFIXES,
    LEGAL_FORMS,
    MOBILE_PREFIXES,
    REGIONER,
    REGIONS,
    STYRELSER,
    TRADE_NOUNS,
    TRADES,
    Pools,
)
from bench.gen_random import Rng

DUPLICATE_ENTITY_RATE = 0.17
# Share of the customer entities per type; the rest are persons.
COMPANY_RATE = 0.60
PUBLIC_RATE = 0.08

# Registry plants, as shares of the companies in the customer file.
CVR_NOT_FOUND_RATE = 0.025
BANKRUPT_RATE = 0.03
DISSOLVED_RATE = 0.04
DISTRESSED_RATE = 0.03
RENAMED_RATE = 0.04
MOVED_RATE = 0.05
BINAVN_RATE = 0.08
SECRET_PHONE_RATE = 0.06
SECRET_EMAIL_RATE = 0.04
PUBLIC_WITHOUT_EAN_RATE = 0.12
COMPANY_EAN_RATE = 0.02
REGISTRY_EXTRA_RATE = 0.20

HOUSEHOLD_RATE = 0.05
GROUP_RATE = 0.04
CENTRE_RATE = 0.025
COMMON_NAME_RATE = 0.04


def _s(values: list[str] | tuple[str, ...]) -> pl.Series:
    return pl.Series(list(values), dtype=pl.String)


def ascii_fold(expr: pl.Expr) -> pl.Expr:
    """æ/ø/å (and é, ü) written the way a keyboard without them does: ae/oe/aa."""
    return expr.str.replace_many(
        ["æ", "ø", "å", "Æ", "Ø", "Å", "é", "ü", "É"],
        ["ae", "oe", "aa", "Ae", "Oe", "Aa", "e", "u", "E"],
    )


def slug(expr: pl.Expr) -> pl.Expr:
    """A mailbox/domain-safe lower-case form of a name: ``Hansens Tømrer`` -> ``hansenstoemrer``."""
    return ascii_fold(expr.str.to_lowercase()).str.replace_all(r"[^a-z0-9]", "")


def cvr_check_digit(prefix: pl.Expr) -> pl.Expr:
    """Modulus-11 check digit for a 7-digit CVR prefix (10 means: no valid CVR has this prefix)."""
    weights = (2, 7, 6, 5, 4, 3, 2)
    total = pl.sum_horizontal(
        [((prefix // (10 ** (6 - i))) % 10) * w for i, w in enumerate(weights)]
    )
    return (11 - total % 11) % 11


def gs1_check_digit(body: pl.Expr) -> pl.Expr:
    """GS1 check digit for a 12-digit GLN/EAN body given as text."""
    digits = [body.str.slice(i, 1).cast(pl.Int64) * (3 if i % 2 else 1) for i in range(12)]
    return ((10 - pl.sum_horizontal(digits) % 10) % 10).cast(pl.String)


def unique_cvrs(rng: Rng, count: int) -> pl.Series:
    """``count`` distinct, checksum-valid CVR numbers in a seed-dependent order.

    An affine permutation of the 9,000,000 seven-digit prefixes gives distinct prefixes; those whose
    check digit would be 10 are skipped.
    """
    space = 9_000_000
    multiplier = 7_654_321  # coprime with 9,000,000 = 2^6 * 3^2 * 5^6
    offset = int(rng.integers("cvr.offset", pl.Series([0]), space)[0])
    candidates = int(count * 1.12) + 64
    frame = pl.DataFrame({"k": pl.int_range(candidates, eager=True, dtype=pl.Int64)})
    frame = frame.with_columns(
        prefix=1_000_000 + (pl.col("k") * multiplier + offset) % space
    ).with_columns(check=cvr_check_digit(pl.col("prefix")))
    valid = frame.filter(pl.col("check") < 10).head(count)
    if valid.height < count:
        raise ValueError("not enough CVR candidates")
    return (valid["prefix"] * 10 + valid["check"]).cast(pl.String)


def record_counts(rng: Rng, n_rows: int) -> pl.Series:
    """Records per entity, for as many entities as it takes to reach exactly ``n_rows`` records."""
    idx = pl.int_range(n_rows, eager=True)
    has_dup = rng.bernoulli("e.has_dup", idx, DUPLICATE_ENTITY_RATE)
    extra = rng.weighted("e.n_dup", idx, [("1", 0.6), ("2", 0.3), ("3", 0.1)]).cast(pl.Int64)
    counts = 1 + pl.Series(has_dup).cast(pl.Int64) * extra
    cumulative = counts.cum_sum()
    n_entities = int(cumulative.search_sorted(n_rows, side="left")) + 1
    counts = counts.head(n_entities)
    overshoot = int(cumulative[n_entities - 1]) - n_rows
    if overshoot:
        counts[n_entities - 1] = int(counts[n_entities - 1]) - overshoot
    return counts.alias("n_records")


# Every Danish number the generator hands out is unique: a number belongs to one subscriber. Each
# phone slot of an entity (or business centre) owns a position in a permutation of the number
# space, so two customers share a number only where that is planted (a household's landline, a
# business centre's switchboard, a group's shared reception).
PHONE_SLOTS = {"e.phone": 0, "e.phone2": 1, "e.hhphone": 2, "c.phone": 3}
_NUMBERS_PER_PREFIX = 900_000  # third digit 1-9, then five digits
_PHONE_MULTIPLIER = 15_485_863  # a prime; coprime with both number spaces


def _unique_numbers(
    rng: Rng, position: pl.Series, prefixes: tuple[str, ...], tag: str
) -> pl.Series:
    """Distinct national numbers (``prefix`` + 6 digits) for distinct ``position`` values."""
    space = len(prefixes) * _NUMBERS_PER_PREFIX
    if position.len() and int(position.max()) >= space:  # type: ignore[arg-type]
        raise ValueError("more phone numbers than the number space holds")
    offset = int(rng.integers(f"{tag}.offset", pl.Series([0]), space)[0])
    value = (position.cast(pl.Int64) * _PHONE_MULTIPLIER + offset) % space
    rest = value % _NUMBERS_PER_PREFIX
    return (
        _s(prefixes).gather(value // _NUMBERS_PER_PREFIX)
        + (rest // 100_000 + 1).cast(pl.String)
        + (rest % 100_000).cast(pl.String).str.zfill(5)
    )


def _phone_columns(rng: Rng, idx: pl.Series, kind: pl.Series, tag: str) -> pl.DataFrame:
    """Calling code and national number for a phone of the given kind (mobile/landline/foreign)."""
    position = idx.cast(pl.Int64) * len(PHONE_SLOTS) + PHONE_SLOTS[tag]
    mobile = _unique_numbers(rng, position, MOBILE_PREFIXES, "phone.mobile")
    landline = _unique_numbers(rng, position, LANDLINE_PREFIXES, "phone.landline")
    which = rng.integers(f"{tag}.foreign", idx, len(FOREIGN_PHONES))
    foreign_cc = _s([f[0] for f in FOREIGN_PHONES]).gather(which)
    foreign_prefix = _s([f[1] for f in FOREIGN_PHONES]).gather(which)
    foreign_len = pl.Series([f[2] for f in FOREIGN_PHONES], dtype=pl.Int64).gather(which)
    tail = rng.integers(f"{tag}.ftail", idx, 10**8).cast(pl.String).str.zfill(8)
    frame = pl.DataFrame(
        {
            "kind": kind,
            "mobile": mobile,
            "landline": landline,
            "fcc": foreign_cc,
            "fnat": foreign_prefix + tail,
            "flen": foreign_len + foreign_prefix.str.len_chars().cast(pl.Int64),
        }
    )
    return frame.select(
        cc=pl.when(pl.col("kind") == "foreign").then(pl.col("fcc")).otherwise(pl.lit("45")),
        nat=pl.when(pl.col("kind") == "mobile")
        .then(pl.col("mobile"))
        .when(pl.col("kind") == "landline")
        .then(pl.col("landline"))
        .when(pl.col("kind") == "foreign")
        .then(pl.col("fnat").str.slice(0, pl.col("flen")))
        .otherwise(None),
    )


def _address_columns(
    rng: Rng, idx: pl.Series, pools: Pools, tag: str, floor_rate: pl.Series
) -> pl.DataFrame:
    """A Danish address: street, house number (``12A``), floor, door, postal code and district."""
    street = rng.choice(f"{tag}.street", idx, pools.streets)
    u = rng.uniform(f"{tag}.num", idx)
    number = (u * u * 160).floor().cast(pl.Int64) + 1
    letter = pl.Series([None, "A", "B", "C", "D"], dtype=pl.String).gather(
        rng.weighted(
            f"{tag}.letter", idx, [("0", 0.9), ("1", 0.05), ("2", 0.03), ("3", 0.015), ("4", 0.005)]
        ).cast(pl.Int64)
    )
    has_floor = rng.uniform(f"{tag}.hasfloor", idx) < floor_rate
    floor = rng.weighted(
        f"{tag}.floor",
        idx,
        [
            ("st", 0.3),
            ("1", 0.25),
            ("2", 0.19),
            ("3", 0.12),
            ("4", 0.08),
            ("5", 0.03),
            ("kl", 0.02),
            ("6", 0.01),
        ],
    )
    door = rng.weighted(
        f"{tag}.door",
        idx,
        [
            ("tv", 0.42),
            ("th", 0.42),
            ("mf", 0.06),
            ("1", 0.03),
            ("2", 0.03),
            ("3", 0.02),
            ("4", 0.01),
            ("12", 0.01),
        ],
    )
    slot = pools.postal_weights_cum.search_sorted(rng.uniform(f"{tag}.postal", idx), side="right")
    slot = slot.clip(upper_bound=pools.postal_codes.len() - 1)
    postal = pools.postal_codes.gather(slot)
    frame = pl.DataFrame(
        {
            "street": street,
            "num": number,
            "letter": letter,
            "has_floor": has_floor,
            "floor": floor,
            "door": door,
            "postal": postal,
        }
    )
    return frame.select(
        street=pl.col("street"),
        house_number=pl.col("num").cast(pl.String) + pl.col("letter").fill_null(""),
        floor=pl.when(pl.col("has_floor")).then(pl.col("floor")),
        # A basement or ground-floor flat may have a door; a floor-less address never has one.
        door=pl.when(pl.col("has_floor")).then(pl.col("door")),
        postal_code=pl.col("postal"),
        city=pl.col("postal").replace_strict(pools.postal_names, return_dtype=pl.String),
    )


def build_entities(rng: Rng, counts: pl.Series, pools: Pools) -> pl.DataFrame:
    """Every customer entity (``counts`` records each) plus registry-only companies.

    Returns one row per entity with ``eidx``, ``entity_id``, ``ctype``, ``in_customers``,
    ``n_records``, the clean current values, the registry plants and hard-negative tags.
    """
    n_customers = counts.len()
    n_cust_orgs_est = round(n_customers * (COMPANY_RATE + PUBLIC_RATE))
    n_extra = round(n_cust_orgs_est * REGISTRY_EXTRA_RATE)
    total = n_customers + n_extra
    idx = pl.int_range(total, eager=True, dtype=pl.Int64)
    in_customers = idx < n_customers
    ctype = rng.weighted(
        "e.ctype",
        idx,
        [
            ("company", COMPANY_RATE),
            ("public", PUBLIC_RATE),
            ("person", 1 - COMPANY_RATE - PUBLIC_RATE),
        ],
    )
    ent = pl.DataFrame(
        {
            "eidx": idx,
            "in_customers": in_customers,
            "ctype": pl.select(
                pl.when(pl.lit(in_customers)).then(pl.lit(ctype)).otherwise(pl.lit("company"))
            ).to_series(),
            "n_records": pl.concat([counts, pl.Series([0] * n_extra, dtype=pl.Int64)]),
            "gender": rng.weighted("e.gender", idx, [("m", 0.5), ("f", 0.5)]),
            "first_m": rng.choice("e.first_m", idx, pools.first_male),
            "first_f": rng.choice("e.first_f", idx, pools.first_female),
            "middle_m": rng.choice("e.middle_m", idx, pools.first_male),
            "middle_f": rng.choice("e.middle_f", idx, pools.first_female),
            "has_middle": rng.bernoulli("e.has_middle", idx, 0.15),
            "last": rng.choice("e.last", idx, pools.last),
            "last2": rng.choice("e.last2", idx, pools.last),
            "last3": rng.choice("e.last3", idx, pools.last),
            "trade": rng.choice("e.trade", idx, TRADES),
            "trade2": rng.choice("e.trade2", idx, TRADES),
            "noun": rng.choice("e.noun", idx, TRADE_NOUNS),
            "region": rng.choice("e.region", idx, REGIONS),
            "fantasy": rng.choice("e.fantasy", idx, FANTASY),
            "fantasy2": rng.choice("e.fantasy2", idx, FANTASY),
            "pattern": rng.weighted(
                "e.pattern",
                idx,
                [("A", 0.3), ("B", 0.15), ("C", 0.1), ("D", 0.05), ("E", 0.2), ("F", 0.2)],
            ),
            "form": rng.weighted(
                "e.form", idx, [(form, spec[3]) for form, spec in LEGAL_FORMS.items()]
            ),
            "enk_v": rng.bernoulli("e.enk_v", idx, 0.8),
            "public_kind": rng.weighted(
                "e.public_kind", idx, [("KOM", 0.3), ("REG", 0.03), ("STA", 0.12), ("INST", 0.55)]
            ),
            "inst_prefix": rng.choice("e.inst_prefix", idx, INSTITUTION_PREFIXES),
            "inst_kind": rng.weighted("e.inst_kind", idx, INSTITUTION_KINDS),
            "u_household": rng.uniform("e.household", idx),
            "u_group": rng.uniform("e.group", idx),
            "u_centre": rng.uniform("e.centre", idx),
            "u_common": rng.uniform("e.common", idx),
            "common_pick": rng.integers("e.common_pick", idx, len(COMMON_PERSON_NAMES)),
        }
    )
    ent = ent.with_columns(
        first=pl.when(pl.col("gender") == "m").then("first_m").otherwise("first_f"),
        middle=pl.when(pl.col("has_middle")).then(
            pl.when(pl.col("gender") == "m").then("middle_m").otherwise("middle_f")
        ),
    ).with_columns(
        middle=pl.when(pl.col("middle") != pl.col("first")).then("middle"),
    )

    # Addresses (current and former) and phones.
    is_person = ent["ctype"] == "person"
    floor_rate = pl.select(pl.when(pl.lit(is_person)).then(0.45).otherwise(0.15)).to_series()
    cur = _address_columns(rng, idx, pools, "e.addr", floor_rate)
    old = _address_columns(rng, idx, pools, "e.old", floor_rate)
    ent = ent.hstack(cur).hstack(old.rename({c: f"old_{c}" for c in old.columns}))

    phone_kind = pl.select(
        pl.when(pl.lit(is_person))
        .then(
            pl.lit(
                rng.weighted(
                    "e.pkind_p",
                    idx,
                    [("mobile", 0.82), ("landline", 0.09), ("foreign", 0.015), ("none", 0.075)],
                )
            )
        )
        .when(pl.lit(ent["ctype"] == "public"))
        .then(pl.lit(rng.weighted("e.pkind_o", idx, [("landline", 0.97), ("none", 0.03)])))
        .otherwise(
            pl.lit(
                rng.weighted(
                    "e.pkind_c",
                    idx,
                    [("landline", 0.76), ("mobile", 0.18), ("foreign", 0.01), ("none", 0.05)],
                )
            )
        )
    ).to_series()
    ph = _phone_columns(rng, idx, phone_kind, "e.phone")
    ph2 = _phone_columns(rng, idx, pl.Series(["mobile"] * total), "e.phone2")
    ent = ent.with_columns(
        phone_cc=ph["cc"], phone_nat=ph["nat"], phone2_cc=ph2["cc"], phone2_nat=ph2["nat"]
    )

    ent = _plant_hard_negatives(rng, ent, pools)
    ent = _names(ent)
    ent = _emails(rng, ent, idx)
    ent = _identifiers(rng, ent, idx)
    ent = _registry_plants(rng, ent, idx)
    return ent.with_columns(
        entity_id=pl.lit("E") + pl.col("eidx").cast(pl.String).str.zfill(8),
        phone_e164=pl.when(pl.col("phone_nat").is_not_null()).then(
            pl.lit("+") + pl.col("phone_cc") + pl.col("phone_nat")
        ),
    )


def _plant_hard_negatives(rng: Rng, ent: pl.DataFrame, pools: Pools) -> pl.DataFrame:
    """Households, group companies, business centres and common names (see module docstring)."""
    addr_cols = ["street", "house_number", "floor", "door", "postal_code", "city"]
    person = (pl.col("ctype") == "person") & pl.col("in_customers")
    company = (pl.col("ctype") == "company") & pl.col("in_customers")
    # Household: a person moves in with the previous person (in entity order): same surname,
    # address and landline, a first name of the other gender.
    persons = (
        ent.filter(person)
        .select(
            "eidx",
            "gender",
            "first",
            "middle",
            "last",
            "first_m",
            "first_f",
            *addr_cols,
            "phone_cc",
            "phone_nat",
            "u_household",
            "u_common",
            "common_pick",
        )
        .with_columns(raw=pl.col("u_household") < HOUSEHOLD_RATE)
        .with_columns(hh=pl.col("raw") & ~pl.col("raw").shift(1, fill_value=True))
        .with_columns(hh=pl.col("hh") & ~pl.col("hh").shift(1, fill_value=False))
    )
    landline = _phone_columns(
        rng, persons["eidx"], pl.Series(["landline"] * persons.height), "e.hhphone"
    )
    persons = persons.with_columns(hh_cc=landline["cc"], hh_nat=landline["nat"])
    prev = [pl.col(c).shift(1) for c in ("gender", "first", "last", *addr_cols)]
    persons = persons.with_columns(
        [
            p.alias(f"prev_{c}")
            for p, c in zip(prev, ("gender", "first", "last", *addr_cols), strict=True)
        ],
        prev_hh_nat=pl.col("hh_nat").shift(1),
        partner_of_next=pl.col("hh").shift(-1, fill_value=False),
    )
    new_first = pl.when(pl.col("prev_gender") == "m").then("first_f").otherwise("first_m")
    persons = persons.with_columns(
        gender=pl.when("hh")
        .then(pl.when(pl.col("prev_gender") == "m").then(pl.lit("f")).otherwise(pl.lit("m")))
        .otherwise("gender"),
        first=pl.when("hh").then(new_first).otherwise("first"),
        last=pl.when("hh").then("prev_last").otherwise("last"),
        **{c: pl.when("hh").then(f"prev_{c}").otherwise(c) for c in addr_cols},
        phone_cc=pl.when(pl.col("hh") | pl.col("partner_of_next"))
        .then(pl.lit("45"))
        .otherwise("phone_cc"),
        phone_nat=pl.when("hh")
        .then("prev_hh_nat")
        .when("partner_of_next")
        .then("hh_nat")
        .otherwise("phone_nat"),
        hn_household=pl.col("hh") | pl.col("partner_of_next"),
    )
    # Common names: a few very frequent first/last name pairs, each in its own town.
    common_first = [f for f, _ in COMMON_PERSON_NAMES]
    common_last = [lst for _, lst in COMMON_PERSON_NAMES]
    common_gender = ["m" if i % 2 == 0 else "f" for i in range(len(COMMON_PERSON_NAMES))]
    common_mask = (pl.col("u_common") < COMMON_NAME_RATE) & ~pl.col("hn_household")
    pick = pl.col("common_pick")
    persons = persons.with_columns(
        common=common_mask,
        first=pl.when(common_mask)
        .then(pick.replace_strict(dict(enumerate(common_first))))
        .otherwise("first"),
        last=pl.when(common_mask)
        .then(pick.replace_strict(dict(enumerate(common_last))))
        .otherwise("last"),
        gender=pl.when(common_mask)
        .then(pick.replace_strict(dict(enumerate(common_gender))))
        .otherwise("gender"),
    )
    # Only a name that really occurs more than once is a hard negative.
    persons = persons.with_columns(
        hn_common_name=pl.col("common") & (pl.len().over("first", "last", pl.col("common")) > 1)
    )

    # Group companies: a holding company next to the previous company, same owner surname and
    # address; business centres: many companies at one address with one switchboard number.
    companies = (
        ent.filter(company & (pl.col("form") != "ENK"))
        .select(
            "eidx",
            "pattern",
            "last2",
            "region",
            "fantasy",
            *addr_cols,
            "phone_cc",
            "phone_nat",
            "u_group",
            "u_centre",
        )
        .with_columns(raw=pl.col("u_group") < GROUP_RATE)
        .with_columns(grp=pl.col("raw") & ~pl.col("raw").shift(1, fill_value=True))
        .with_columns(grp=pl.col("grp") & ~pl.col("grp").shift(1, fill_value=False))
    )
    companies = companies.with_columns(
        [
            pl.col(c).shift(1).alias(f"prev_{c}")
            for c in ("pattern", "last2", "region", "fantasy", *addr_cols, "phone_cc", "phone_nat")
        ],
        partner_of_next=pl.col("grp").shift(-1, fill_value=False),
    )
    companies = companies.with_columns(
        pattern=pl.when("grp").then(pl.lit("H")).otherwise("pattern"),
        holding_head=pl.when(pl.col("prev_pattern") == "E")
        .then("prev_region")
        .when(pl.col("prev_pattern") == "F")
        .then("prev_fantasy")
        .otherwise("prev_last2"),
        **{c: pl.when("grp").then(f"prev_{c}").otherwise(c) for c in addr_cols},
        phone_nat=pl.when("grp").then("prev_phone_nat").otherwise("phone_nat"),
        phone_cc=pl.when("grp").then("prev_phone_cc").otherwise("phone_cc"),
        hn_group=pl.col("grp") | pl.col("partner_of_next"),
    )
    n_centres = max(1, companies.height // 150)
    centre_idx = pl.int_range(n_centres, eager=True, dtype=pl.Int64)
    centre_addr = _address_columns(
        rng, centre_idx, pools, "c.addr", pl.Series([0.0] * n_centres, dtype=pl.Float64)
    )
    centre_phone = _phone_columns(rng, centre_idx, pl.Series(["landline"] * n_centres), "c.phone")
    centres = centre_addr.with_columns(
        centre=centre_idx, c_cc=centre_phone["cc"], c_nat=centre_phone["nat"]
    ).rename({c: f"c_{c}" for c in addr_cols})
    in_centre = (companies["u_centre"] < CENTRE_RATE) & ~companies["hn_group"]
    centre_of = rng.integers("e.centre_of", companies["eidx"], n_centres)
    centre_floor = rng.weighted(
        "e.centre_floor", companies["eidx"], [("st", 0.3), ("1", 0.3), ("2", 0.25), ("3", 0.15)]
    )
    companies = (
        companies.with_columns(
            centre=pl.when(pl.lit(in_centre)).then(pl.lit(centre_of)),
            centre_floor=centre_floor,
        )
        .join(centres, on="centre", how="left", maintain_order="left")
        .with_columns(
            hn_centre=pl.col("centre").is_not_null() & (pl.len().over("centre") > 1),
        )
    )
    companies = companies.with_columns(
        **{
            c: pl.when("hn_centre").then(f"c_{c}").otherwise(c)
            for c in addr_cols
            if c not in ("floor", "door")
        },
        floor=pl.when("hn_centre").then("centre_floor").otherwise("floor"),
        door=pl.when("hn_centre").then(None).otherwise("door"),
        phone_cc=pl.when("hn_centre").then("c_cc").otherwise("phone_cc"),
        phone_nat=pl.when("hn_centre").then("c_nat").otherwise("phone_nat"),
    )

    persons = persons.with_columns(
        middle=pl.when(pl.col("hh") | pl.col("common")).then(None).otherwise(pl.col("middle"))
    )
    person_updates = persons.select(
        "eidx",
        "gender",
        "first",
        "middle",
        "last",
        *addr_cols,
        "phone_cc",
        "phone_nat",
        "hn_household",
        "hn_common_name",
    )
    company_updates = companies.select(
        "eidx",
        "pattern",
        "holding_head",
        *addr_cols,
        "phone_cc",
        "phone_nat",
        "hn_group",
        "hn_centre",
    )
    ent = ent.with_columns(
        hn_household=pl.lit(False),
        hn_common_name=pl.lit(False),
        hn_group=pl.lit(False),
        hn_centre=pl.lit(False),
        holding_head=pl.lit(None, dtype=pl.String),
    )
    ent = ent.update(person_updates, on="eidx", how="left", include_nulls=True)
    return ent.update(company_updates, on="eidx", how="left", include_nulls=True)


def _names(ent: pl.DataFrame) -> pl.DataFrame:
    """Display names: ``Jens Peter Hansen``, ``Hansen Byg ApS``, ``Aarhus Kommune``."""
    stem = (
        pl.when(pl.col("form") == "ENK")
        .then(
            pl.when(pl.col("enk_v"))
            .then(
                pl.col("last")
                + pl.lit("s ")
                + pl.col("noun")
                + pl.lit(" v/")
                + pl.col("first")
                + pl.lit(" ")
                + pl.col("last")
            )
            .otherwise(pl.col("last") + pl.lit("s ") + pl.col("noun"))
        )
        .when(pl.col("pattern") == "A")
        .then(pl.col("last2") + pl.lit(" ") + pl.col("trade"))
        .when(pl.col("pattern") == "B")
        .then(pl.col("last2") + pl.lit("s ") + pl.col("noun"))
        .when(pl.col("pattern") == "C")
        .then(pl.col("last2") + pl.lit(" & ") + pl.col("last3"))
        .when(pl.col("pattern") == "D")
        .then(pl.col("last2") + pl.lit(" & Søn"))
        .when(pl.col("pattern") == "E")
        .then(pl.col("region") + pl.lit(" ") + pl.col("trade"))
        .when(pl.col("pattern") == "H")
        .then(pl.col("holding_head") + pl.lit(" Holding"))
        .otherwise(pl.col("fantasy") + pl.lit(" ") + pl.col("trade"))
    )
    # C and D names must not repeat a surname ("Hansen & Hansen").
    ent = ent.with_columns(
        last3=pl.when(pl.col("last3") == pl.col("last2")).then(pl.lit("Holm")).otherwise("last3"),
        form=pl.when(pl.col("pattern") == "H")
        .then(pl.when(pl.col("form") == "A/S").then(pl.lit("A/S")).otherwise(pl.lit("ApS")))
        .otherwise("form"),
    ).with_columns(stem=stem)
    # Public bodies: the first 97 "kommune" entities take the real municipality names, the next
    # Bornholm, and so on for regions and state bodies; the rest are institutions.
    rank = pl.int_range(pl.len()).over("ctype", "public_kind")
    ent = ent.with_columns(public_rank=pl.when(pl.col("ctype") == "public").then(rank))
    kommune_names = [*[f"{k} Kommune" for k in KOMMUNER], "Bornholms Regionskommune"]
    kind = (
        pl.when(pl.col("ctype") != "public")
        .then(None)
        .when((pl.col("public_kind") == "KOM") & (pl.col("public_rank") < len(kommune_names)))
        .then(pl.lit("KOM"))
        .when((pl.col("public_kind") == "REG") & (pl.col("public_rank") < len(REGIONER)))
        .then(pl.lit("REG"))
        .when((pl.col("public_kind") == "STA") & (pl.col("public_rank") < len(STYRELSER)))
        .then(pl.lit("STA"))
        .otherwise(pl.lit("INST"))
    )
    ent = ent.with_columns(public_kind=kind)
    public_name = (
        pl.when(pl.col("public_kind") == "KOM")
        .then(
            pl.col("public_rank")
            .clip(0, len(kommune_names) - 1)
            .replace_strict(dict(enumerate(kommune_names)), return_dtype=pl.String)
        )
        .when(pl.col("public_kind") == "REG")
        .then(
            pl.col("public_rank")
            .clip(0, len(REGIONER) - 1)
            .replace_strict(dict(enumerate(REGIONER)), return_dtype=pl.String)
        )
        .when(pl.col("public_kind") == "STA")
        .then(
            pl.col("public_rank")
            .clip(0, len(STYRELSER) - 1)
            .replace_strict(dict(enumerate(STYRELSER)), return_dtype=pl.String)
        )
        .otherwise(pl.col("inst_prefix") + pl.col("inst_kind"))
    )
    person_name = pl.concat_str(
        [pl.col("first"), pl.col("middle"), pl.col("last")], separator=" ", ignore_nulls=True
    )
    return ent.with_columns(
        legal_form=pl.when(pl.col("ctype") == "company").then("form"),
        name=pl.when(pl.col("ctype") == "person")
        .then(person_name)
        .when(pl.col("ctype") == "public")
        .then(public_name)
        .when(pl.col("form") == "ENK")
        .then("stem")
        .otherwise(pl.col("stem") + pl.lit(" ") + pl.col("form")),
        # the part of the name a typo or a legal-form variant may touch
        name_core=pl.when(pl.col("ctype") == "company").then("stem"),
    )


def _emails(rng: Rng, ent: pl.DataFrame, idx: pl.Series) -> pl.DataFrame:
    """Clean current e-mail plus a second one (another contact person) per entity."""
    free = rng.weighted("e.freemail", idx, [(d, float(w)) for d, w in FREE_MAIL])
    free2 = rng.weighted("e.freemail2", idx, [(d, float(w)) for d, w in FREE_MAIL])
    box = rng.weighted("e.mailbox", idx, [(b, float(w)) for b, w in COMPANY_MAILBOXES])
    style = rng.weighted(
        "e.mailstyle", idx, [("dot", 0.45), ("plain", 0.2), ("year", 0.2), ("initial", 0.15)]
    )
    year = rng.integers("e.mailyear", idx, 100).cast(pl.String).str.zfill(2)
    has_email = pl.select(
        pl.when(pl.lit(ent["ctype"] == "person"))
        .then(pl.lit(rng.bernoulli("e.has_mail_p", idx, 0.75)))
        .otherwise(pl.lit(rng.bernoulli("e.has_mail_o", idx, 0.92)))
    ).to_series()
    first = slug(pl.col("first"))
    last = slug(pl.col("last"))
    local = (
        pl.when(pl.lit(style) == "dot")
        .then(first + pl.lit(".") + last)
        .when(pl.lit(style) == "plain")
        .then(first + last)
        .when(pl.lit(style) == "year")
        .then(first + pl.lit(year))
        .otherwise(first.str.slice(0, 1) + last)
    )
    domain_name = (
        pl.when(pl.col("public_kind") == "KOM")
        .then(pl.col("name").str.replace(r"s? (Kommune|Regionskommune)$", ""))
        .when(pl.col("public_kind") == "REG")
        .then(pl.lit("region ") + pl.col("name").str.replace("Region ", ""))
        .when(pl.col("ctype") == "public")
        .then(pl.col("name"))
        .otherwise(pl.col("stem").str.replace(r" v/.*$", ""))
    )
    ent = ent.with_columns(domain_name=domain_name)
    ent = ent.with_columns(org_domain=_unique_domains(ent))
    email = (
        pl.when(pl.col("ctype") == "person")
        .then(local + pl.lit("@") + pl.lit(free))
        .otherwise(pl.lit(box) + pl.lit("@") + pl.col("org_domain"))
    )
    email2 = (
        pl.when(pl.col("ctype") == "person")
        .then(first + last.str.slice(0, 1) + pl.lit(year) + pl.lit("@") + pl.lit(free2))
        .otherwise(first + pl.lit(".") + last + pl.lit("@") + pl.col("org_domain"))
    )
    ent = ent.with_columns(email=email, email2=email2, _mail_year=pl.lit(year))
    ent = _unique_person_mailboxes(rng, ent)
    return ent.with_columns(email=pl.when(pl.lit(has_email)).then("email")).drop(
        "domain_name", "_mail_year"
    )


def _first_unclaimed(frame: pl.DataFrame, alternatives: list[pl.Expr]) -> pl.Series:
    """``value`` where no earlier row (``order``) holds it, else the first alternative that is
    unclaimed after the previous round; the last alternative must be unique by construction."""
    later = pl.col("order").rank("ordinal").over("value") > 1
    for alternative in alternatives:
        frame = frame.with_columns(value=pl.when(later).then(alternative).otherwise("value"))
    return frame["value"]


def _unique_domains(ent: pl.DataFrame) -> pl.Series:
    """Each organisation its own domain: a second "Engblomst Holding" gets ``engblomst-holding.dk``,
    a third ``engblomstholding.com``, then the town (``engblomstholding-vejle.dk``); null for
    persons."""
    joined = slug(pl.col("domain_name"))
    hyphened = (
        ascii_fold(pl.col("domain_name").str.to_lowercase())
        .str.replace_all(r"[^a-z0-9]+", "-")
        .str.strip_chars("-")
    )
    town = slug(pl.col("city").fill_null("danmark"))
    orgs = ent.filter(pl.col("ctype") != "person").select(
        "eidx",
        order=pl.col("eidx"),
        value=joined + pl.lit(".dk"),
        joined=joined,
        hyphened=hyphened,
        town=town,
    )
    domains = _first_unclaimed(
        orgs,
        [
            pl.when(pl.col("hyphened") != pl.col("joined"))
            .then(pl.col("hyphened") + pl.lit(".dk"))
            .otherwise(pl.col("joined") + pl.lit("-") + pl.col("town") + pl.lit(".dk")),
            pl.col("joined") + pl.lit(".com"),
            pl.col("joined") + pl.lit("-") + pl.col("town") + pl.lit(".dk"),
            pl.col("joined") + pl.col("town") + pl.lit(".dk"),
            pl.col("joined") + pl.lit("-") + pl.col("order").cast(pl.String) + pl.lit(".dk"),
        ],
    )
    return (
        ent.select("eidx")
        .join(orgs.select("eidx", domains.alias("org_domain")), on="eidx", how="left")
        .sort("eidx")["org_domain"]
    )


def _unique_person_mailboxes(rng: Rng, ent: pl.DataFrame) -> pl.DataFrame:
    """Every person's two free-mail addresses unclaimed by any other person: the second Jens
    Hansen on gmail.com is ``jens.hansen71@gmail.com``, the third ``jhansen1971@gmail.com``."""
    persons = ent.filter(pl.col("ctype") == "person")
    birth_year = (1940 + rng.integers("e.mail_birth", persons["eidx"], 65)).cast(pl.String)
    number = rng.integers("e.mail_number", persons["eidx"], 900, low=100).cast(pl.String)
    first = slug(pl.col("first"))
    last = slug(pl.col("last"))
    domain = pl.col("value").str.extract(r"@(.+)$", 1)
    at = pl.lit("@") + domain
    slots = [
        persons.select(
            "eidx",
            "first",
            "last",
            order=pl.col("eidx") * 2 + slot,
            value=pl.col(column),
            year=pl.col("_mail_year"),
            birth=pl.lit(birth_year),
            number=pl.lit(number),
        )
        for slot, column in enumerate(("email", "email2"))
    ]
    long = pl.concat(slots).sort("order")
    unique = _first_unclaimed(
        long,
        [
            first + pl.lit(".") + last + pl.col("year") + at,
            first.str.slice(0, 1) + last + pl.col("birth") + at,
            first + last + pl.col("number") + at,
            first + pl.lit(".") + last + pl.lit(".") + pl.col("order").cast(pl.String) + at,
        ],
    )
    long = long.select("eidx", "order", unique.alias("address"))
    per_person = long.group_by("eidx").agg(
        pl.col("address").sort_by("order").first().alias("email"),
        pl.col("address").sort_by("order").last().alias("email2"),
    )
    return ent.update(per_person, on="eidx", how="left")


def _identifiers(rng: Rng, ent: pl.DataFrame, idx: pl.Series) -> pl.DataFrame:
    """CVR for every company and public body; EAN for most public bodies and a few companies."""
    org = ent["ctype"] != "person"
    cvrs = unique_cvrs(rng, int(org.sum()))
    ent = ent.with_columns(cvr=pl.lit(None, dtype=pl.String))
    org_rows = ent.filter(pl.lit(org)).select("eidx").with_columns(cvr=cvrs)
    ent = ent.update(org_rows, on="eidx", how="left")
    # GLN body: 5798 (public) / 5790 (private) + 8 digits from an affine permutation (unique).
    body_num = (idx * 48_271 + int(rng.integers("ean.offset", pl.Series([0]), 10**8)[0])) % 10**8
    ent = ent.with_columns(
        ean_body=pl.when(pl.col("ctype") == "public").then(pl.lit("5798")).otherwise(pl.lit("5790"))
        + pl.lit(body_num.cast(pl.String).str.zfill(8)),
        has_ean=pl.when(pl.col("ctype") == "public")
        .then(pl.lit(rng.uniform("e.has_ean_pub", idx)) >= PUBLIC_WITHOUT_EAN_RATE)
        .when(pl.col("ctype") == "company")
        .then(pl.lit(rng.uniform("e.has_ean_com", idx)) < COMPANY_EAN_RATE)
        .otherwise(pl.lit(False)),
    )
    return ent.with_columns(
        ean=pl.when("has_ean").then(pl.col("ean_body") + gs1_check_digit(pl.col("ean_body")))
    ).drop("ean_body")


def _registry_plants(rng: Rng, ent: pl.DataFrame, idx: pl.Series) -> pl.DataFrame:
    """What the registry knows that the CRM does not: status, new name, new address, binavne."""
    company = pl.col("ctype") == "company"
    u = pl.lit(rng.uniform("r.status", idx))
    status_kind = (
        pl.when(~company)
        .then(pl.lit("normal"))
        .when(u < BANKRUPT_RATE)
        .then(pl.lit("bankrupt"))
        .when(u < BANKRUPT_RATE + DISSOLVED_RATE)
        .then(pl.lit("dissolved"))
        .when(u < BANKRUPT_RATE + DISSOLVED_RATE + DISTRESSED_RATE)
        .then(pl.lit("distressed"))
        .otherwise(pl.lit("normal"))
    )
    dissolved_status = (
        pl.when(pl.col("form") == "ENK")
        .then(pl.lit("Ophørt"))
        .otherwise(
            pl.lit(
                rng.weighted(
                    "r.dissolved",
                    idx,
                    [
                        ("OPLØST EFTER KONKURS", 0.3),
                        ("TVANGSOPLØST", 0.25),
                        ("Ophørt", 0.15),
                        ("OPLØST EFTER FRIVILLIG LIKVIDATION", 0.2),
                        ("OPLØST EFTER FUSION", 0.05),
                        ("SLETTET", 0.05),
                    ],
                )
            )
        )
    )
    distressed_status = pl.lit(
        rng.weighted(
            "r.distressed",
            idx,
            [
                ("UNDER TVANGSOPLØSNING", 0.4),
                ("UNDER FRIVILLIG LIKVIDATION", 0.35),
                ("UNDER REKONSTRUKTION", 0.25),
            ],
        )
    )
    normal_status = (
        pl.when(pl.col("form") == "ENK")
        .then(pl.lit("Aktiv"))
        .otherwise(pl.lit(rng.weighted("r.normal", idx, [("NORMAL", 0.6), ("Normal", 0.4)])))
    )
    ent = ent.with_columns(status_kind=status_kind).with_columns(
        reg_status=pl.when(pl.col("status_kind") == "bankrupt")
        .then(pl.lit("UNDER KONKURS"))
        .when(pl.col("status_kind") == "dissolved")
        .then(dissolved_status)
        .when(pl.col("status_kind") == "distressed")
        .then(distressed_status)
        .when(pl.col("ctype") != "person")
        .then(normal_status),
    )
    in_cust = pl.col("in_customers")
    ent = ent.with_columns(
        cvr_not_found=company
        & in_cust
        & pl.lit(rng.bernoulli("r.notfound", idx, CVR_NOT_FOUND_RATE)),
        renamed=company
        & (pl.col("form") != "ENK")
        & pl.lit(rng.bernoulli("r.renamed", idx, RENAMED_RATE)),
        moved=(pl.col("ctype") != "person") & pl.lit(rng.bernoulli("r.moved", idx, MOVED_RATE)),
        has_binavn=company
        & (pl.col("form") != "ENK")
        & pl.lit(rng.bernoulli("r.binavn", idx, BINAVN_RATE)),
        secret_phone=(pl.col("ctype") != "person")
        & pl.lit(rng.bernoulli("r.secret_phone", idx, SECRET_PHONE_RATE)),
        secret_email=(pl.col("ctype") != "person")
        & pl.lit(rng.bernoulli("r.secret_email", idx, SECRET_EMAIL_RATE)),
        reg_upper=pl.lit(rng.bernoulli("r.upper", idx, 0.3)),
        founded=pl.lit(rng.integers("r.founded", idx, 365 * 70)),
    )
    # A renamed company's new name and a binavn are other stems with the same legal form.
    new_stem = (
        pl.when(pl.col("pattern") == "F")
        .then(pl.col("fantasy2") + pl.lit(" ") + pl.col("trade2"))
        .otherwise(pl.col("region") + pl.lit(" ") + pl.col("trade2"))
    )
    binavn_stem = pl.col("fantasy2") + pl.lit(" ") + pl.col("trade")
    return ent.with_columns(
        new_name=pl.when("renamed").then(new_stem + pl.lit(" ") + pl.col("form")),
        binavn=pl.when("has_binavn").then(binavn_stem + pl.lit(" ") + pl.col("form")),
        binavn_core=pl.when("has_binavn").then(binavn_stem),
    ).with_columns(
        # the rename must really change the name
        renamed=pl.col("renamed") & (pl.col("new_name") != pl.col("name")),
        new_name=pl.when(pl.col("new_name") != pl.col("name")).then("new_name"),
        has_binavn=pl.col("has_binavn") & (pl.col("binavn") != pl.col("name")),
        binavn=pl.when(pl.col("binavn") != pl.col("name")).then("binavn"),
    )
