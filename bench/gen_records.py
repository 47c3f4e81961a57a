"""CRM records drawn from entities: what each row *means* (truth) and how it is *written*.

Each entity yields ``n_records`` rows. Row 0 is the customer as first entered; rows 1..3 are the
duplicates somebody typed in later (hard positives: an old address, another contact's e-mail or
phone, no CVR, the secondary name). Every row then goes through two kinds of damage:

- *content* damage that a perfect normaliser cannot undo and therefore keeps in the truth: a typo,
  æ/ø/å written as ae/oe/aa, an old address;
- *form* damage that a perfect normaliser undoes: case, legal-form spelling, phone and e-mail
  formats, floor/door spellings, one-line addresses, city spellings, CVR prefixes.

Values that cannot be repaired (a junk phone, a mistyped CVR) have a null truth and a reason code
in ``expected_flags``. Every planted thing is named in ``scenario``.
"""

from __future__ import annotations

import polars as pl

from bench.gen_entities import ascii_fold
from bench.gen_pools import LEGAL_FORMS, Pools
from bench.gen_random import Rng

_FORM_VARIANTS = {form: spec[4] for form, spec in LEGAL_FORMS.items() if spec[4]}


def _u(rng: Rng, rows: pl.DataFrame, stream: str) -> pl.Series:
    return rng.uniform(stream, rows["rkey"])


def _uniforms(
    rng: Rng, rows: pl.DataFrame, prefix: str, keys: tuple[str, ...]
) -> tuple[pl.DataFrame, dict[str, pl.Expr]]:
    """Add one uniform column per key (``_u_<prefix>_<key>``); return the frame and references.

    Draws live in columns rather than literals so that polars evaluates each once.
    """
    names = {k: f"_u_{prefix}_{k}" for k in keys}
    rows = rows.with_columns([_u(rng, rows, f"{prefix}.{k}").alias(n) for k, n in names.items()])
    return rows, {k: pl.col(n) for k, n in names.items()}


def _apply_typo(
    rows: pl.DataFrame, column: str, mask: str, pos: pl.Expr, kind: pl.Expr, letter: pl.Expr
) -> pl.DataFrame:
    """``column`` with one keyboard slip where ``mask`` holds, computed in materialised steps."""
    rows = rows.with_columns(
        _tp=(pos * (pl.col(column).str.len_chars() - 3).clip(lower_bound=1)).floor().cast(pl.Int64)
        + 1,
        _tk=kind,
        _tl=letter,
    ).with_columns(
        _th=pl.col(column).str.slice(0, pl.col("_tp")),
        _ta=pl.col(column).str.slice(pl.col("_tp"), 1),
        _tb=pl.col(column).str.slice(pl.col("_tp") + 1, 1),
        _tt=pl.col(column).str.slice(pl.col("_tp") + 2),
    )
    h, a, b, t, k = (pl.col(c) for c in ("_th", "_ta", "_tb", "_tt", "_tk"))
    typo = (
        pl.when(k < 0.3)
        .then(h + b + t)
        .when(k < 0.5)
        .then(h + a + a + b + t)
        .when(k < 0.8)
        .then(h + b + a + t)
        .otherwise(h + pl.col("_tl") + b + t)
    )
    return rows.with_columns(pl.when(mask).then(typo).otherwise(pl.col(column)).alias(column)).drop(
        "_tp", "_tk", "_tl", "_th", "_ta", "_tb", "_tt"
    )


def _typo_possible(core: pl.Expr, pos_u: pl.Expr) -> pl.Expr:
    length = core.str.len_chars()
    p = (pos_u * (length - 3).clip(lower_bound=1)).floor().cast(pl.Int64) + 1
    return (length >= 5) & core.str.slice(p, 2).str.contains(r"^[a-zæøå]{2}$")


def build_rows(rng: Rng, ent: pl.DataFrame, pools: Pools) -> pl.DataFrame:
    """One row per CRM record, in file order, with ``t_*`` truth and ``w_*`` written columns."""
    addr = ["street", "house_number", "floor", "door", "postal_code", "city"]
    needed = [
        "eidx",
        "entity_id",
        "n_records",
        "ctype",
        "form",
        "name",
        "name_core",
        "binavn",
        "binavn_core",
        "has_binavn",
        "first",
        "middle",
        "last",
        "email",
        "email2",
        "phone_cc",
        "phone_nat",
        "phone2_cc",
        "phone2_nat",
        *addr,
        *(f"old_{c}" for c in addr),
        "moved",
        "cvr",
        "cvr_not_found",
        "ean",
        "renamed",
        "status_kind",
        "secret_phone",
        "secret_email",
        "hn_household",
        "hn_group",
        "hn_centre",
        "hn_common_name",
    ]
    rows = (
        ent.filter("in_customers")
        .select(needed)
        .with_columns(rec_no=pl.int_ranges(pl.col("n_records")))
        .explode("rec_no")
        .with_columns(rkey=pl.col("eidx") * 4 + pl.col("rec_no"), is_dup=pl.col("rec_no") > 0)
    )
    rows = rows.with_columns(order=rng.u64("row.order", rows["rkey"])).sort("order", "rkey")
    rows = rows.with_columns(source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
    for stage in (
        lambda r: _semantics(rng, r, pools),
        lambda r: _name_text(rng, r),
        lambda r: _address_text(rng, r, pools),
        lambda r: _contact_text(rng, r),
        lambda r: _ids_text(rng, r),
    ):
        # the uniform draws of a stage are not needed after it
        rows = stage(rows).select(pl.exclude("^_u_.*$"))
    return _truth(rows, pools)


def _semantics(rng: Rng, rows: pl.DataFrame, pools: Pools) -> pl.DataFrame:
    """Which values the row carries and which states its fields are in."""
    org = pl.col("ctype") != "person"
    company = pl.col("ctype") == "company"
    dup = pl.col("is_dup")
    rows, u = _uniforms(
        rng,
        rows,
        "row",
        (
            "dup_moved",
            "other_email",
            "other_phone",
            "dup_cvr",
            "binavn",
            "cvr_missing",
            "cvr_invalid",
            "ean_missing",
            "ean_invalid",
            "phone_bad",
            "phone_missing",
            "email_bad",
            "email_missing",
            "name_missing",
            "street_missing",
            "postal_missing",
            "unknown_postal",
            "cpr",
            "cpr_where",
        ),
    )
    rows = rows.with_columns(
        dup_moved=dup & (u["dup_moved"] < 0.25),
        dup_other_email=dup & (u["other_email"] < 0.2) & pl.col("email").is_not_null(),
        dup_other_phone=dup & (u["other_phone"] < 0.15),
        dup_missing_cvr=dup & company & (u["dup_cvr"] < 0.2),
        use_binavn=pl.col("has_binavn")
        & (u["binavn"] < pl.when(dup).then(pl.lit(0.5)).otherwise(pl.lit(0.2))),
        cpr=(pl.col("ctype") == "person") & (u["cpr"] < 0.004),
        cpr_in_phone=u["cpr_where"] < 0.5,
    ).with_columns(
        row_old=pl.col("moved") != pl.col("dup_moved"),
        cvr_state=pl.when(~org)
        .then(pl.lit("none"))
        .when(pl.col("dup_missing_cvr") | (company & (u["cvr_missing"] < 0.03)))
        .then(pl.lit("missing"))
        .when(u["cvr_invalid"] < pl.when(company).then(pl.lit(0.02)).otherwise(pl.lit(0.01)))
        .then(pl.lit("invalid"))
        .otherwise(pl.lit("valid")),
        ean_state=pl.when(pl.col("ean").is_null())
        .then(
            pl.when(pl.col("ctype") == "public").then(pl.lit("missing")).otherwise(pl.lit("none"))
        )
        .when(dup & (u["ean_missing"] < 0.1))
        .then(pl.lit("missing"))
        .when(u["ean_invalid"] < 0.03)
        .then(pl.lit("invalid"))
        .otherwise(pl.lit("valid")),
        email_state=pl.when(pl.col("email").is_null() | (u["email_missing"] < 0.03))
        .then(pl.lit("none"))
        .when(u["email_bad"] < 0.015)
        .then(pl.lit("invalid"))
        .otherwise(pl.lit("valid")),
        name_missing=u["name_missing"] < 0.004,
        street_missing=u["street_missing"] < 0.004,
        postal_missing=u["postal_missing"] < 0.004,
        unknown_postal=(pl.col("ctype") == "person") & (u["unknown_postal"] < 0.006),
    )
    rows = rows.with_columns(
        phone_cc=pl.when("dup_other_phone").then("phone2_cc").otherwise("phone_cc"),
        phone_nat=pl.when("dup_other_phone").then("phone2_nat").otherwise("phone_nat"),
        email=pl.when("dup_other_email").then("email2").otherwise("email"),
        phone_state=pl.when(pl.col("cpr") & pl.col("cpr_in_phone"))
        .then(pl.lit("invalid"))
        .when(pl.col("phone_nat").is_null() & ~pl.col("dup_other_phone"))
        .then(pl.lit("none"))
        .when(u["phone_missing"] < 0.03)
        .then(pl.lit("none"))
        .when(u["phone_bad"] < 0.015)
        .then(pl.lit("invalid"))
        .otherwise(pl.lit("valid")),
    )
    addr = ["street", "house_number", "floor", "door", "postal_code", "city"]
    rows = rows.with_columns(
        **{f"a_{c}": pl.when("row_old").then(f"old_{c}").otherwise(c) for c in addr},
    )
    unknown = rng.choice("row.unknown_code", rows["rkey"], pools.unknown_postal_codes)
    return rows.with_columns(
        a_postal_code=pl.when("unknown_postal").then(pl.lit(unknown)).otherwise("a_postal_code"),
        a_city=pl.when("unknown_postal").then(None).otherwise("a_city"),
        unknown_city=pl.lit(
            rng.choice("row.unknown_city", rows["rkey"], pools.postal_codes)
        ).replace_strict(pools.postal_names, return_dtype=pl.String),
    )


def _name_text(rng: Rng, rows: pl.DataFrame) -> pl.DataFrame:
    """Content of the name (``t_name``) and how it is written (``w_name``, ``w_first``...)."""
    rows, r = _uniforms(
        rng,
        rows,
        "name",
        (
            "typo",
            "typo_pos",
            "typo_kind",
            "fold",
            "form_var",
            "form_pick",
            "case",
            "comma",
            "space",
            "enk",
            "cpr_style",
        ),
    )
    letter = pl.lit(rng.choice("name.letter", rows["rkey"], list("abdeghiklmnorstuvy")))
    dup = pl.col("is_dup")
    person = pl.col("ctype") == "person"
    core = (
        pl.when(person)
        .then("last")
        .when(pl.col("ctype") == "public")
        .then("name")
        .when("use_binavn")
        .then("binavn_core")
        .otherwise("name_core")
    )
    typo_rate = pl.when(dup).then(pl.lit(0.2)).otherwise(pl.lit(0.025))
    rows = rows.with_columns(n_core=core, _letter=letter).with_columns(
        typo=(r["typo"] < typo_rate) & _typo_possible(pl.col("n_core"), r["typo_pos"]),
        fold=(r["fold"] < 0.03) & pl.col("name").str.contains("[æøåÆØÅ]"),
    )
    rows = _apply_typo(rows, "n_core", "typo", r["typo_pos"], r["typo_kind"], pl.col("_letter"))
    rows = rows.with_columns(
        n_core=pl.when("fold").then(ascii_fold(pl.col("n_core"))).otherwise("n_core"),
        _first=pl.when("fold").then(ascii_fold(pl.col("first"))).otherwise("first"),
        _middle=pl.when("fold").then(ascii_fold(pl.col("middle"))).otherwise("middle"),
    ).with_columns(
        t_given=pl.concat_str(
            [pl.col("_first"), pl.col("_middle")], separator=" ", ignore_nulls=True
        ),
    )
    enk = pl.col("form") == "ENK"
    t_name = (
        pl.when(person)
        .then(pl.col("t_given") + pl.lit(" ") + pl.col("n_core"))
        .when(pl.col("ctype") == "public")
        .then("n_core")
        .when(enk)
        .then("n_core")
        .otherwise(pl.col("n_core") + pl.lit(" ") + pl.col("form"))
    )
    rows = rows.with_columns(t_name=t_name)

    # How the name is written, one materialised step at a time.
    variants = pl.col("form").replace_strict(
        {f: list(v) for f, v in _FORM_VARIANTS.items()},
        default=None,
        return_dtype=pl.List(pl.String),
    )
    rows = rows.with_columns(_variants=variants).with_columns(
        _picked=pl.col("_variants").list.get(
            (r["form_pick"] * pl.col("_variants").list.len().cast(pl.Float64))
            .floor()
            .cast(pl.Int64),
            null_on_oob=True,
        ),
        name_form_variant=(pl.col("ctype") == "company")
        & ~enk
        & (r["form_var"] < 0.18)
        & ~pl.col("typo")
        & pl.col("_variants").is_not_null(),
        name_case=pl.when(r["case"] < 0.07)
        .then(pl.lit("upper"))
        .when(r["case"] < 0.10)
        .then(pl.lit("lower"))
        .otherwise(pl.lit("as_is")),
        name_comma=person & (r["comma"] < 0.05),
        name_space=r["space"] < 0.03,
        enk_variant=enk & pl.col("name").str.contains(" v/") & (r["enk"] < 0.25),
        cpr_text=_cpr_text(rng, rows),
        _cpr_suffix=pl.when(r["cpr_style"] < 0.5)
        .then(pl.lit(" cpr. "))
        .otherwise(pl.lit(" - CPR: ")),
    )
    w = pl.col("_w")
    upper = pl.col("name_case") == "upper"
    lower = pl.col("name_case") == "lower"
    cpr_name = pl.col("cpr") & ~pl.col("cpr_in_phone")
    rows = (
        rows.with_columns(
            _w=pl.when("name_form_variant")
            .then(pl.col("n_core") + pl.lit(" ") + pl.col("_picked"))
            .when("name_comma")
            .then(pl.col("n_core") + pl.lit(", ") + pl.col("t_given"))
            .otherwise("t_name"),
        )
        .with_columns(_w=pl.when("enk_variant").then(w.str.replace(" v/", " v/ ")).otherwise(w))
        .with_columns(
            _w=pl.when(upper)
            .then(w.str.to_uppercase())
            .when(lower)
            .then(w.str.to_lowercase())
            .otherwise(w),
            _wl=pl.when(upper)
            .then(pl.col("n_core").str.to_uppercase())
            .when(lower)
            .then(pl.col("n_core").str.to_lowercase())
            .otherwise("n_core"),
            _wf=pl.when(upper)
            .then(pl.col("t_given").str.to_uppercase())
            .when(lower)
            .then(pl.col("t_given").str.to_lowercase())
            .otherwise("t_given"),
        )
        .with_columns(
            _w=pl.when("name_space")
            .then(pl.lit(" ") + w.str.replace_all(" ", "  ", literal=True) + pl.lit(" "))
            .otherwise(w)
        )
        .with_columns(
            _w=pl.when(cpr_name).then(w + pl.col("_cpr_suffix") + pl.col("cpr_text")).otherwise(w),
            _wl=pl.when(cpr_name)
            .then(pl.col("_wl") + pl.col("_cpr_suffix") + pl.col("cpr_text"))
            .otherwise("_wl"),
        )
    )
    named = person & ~pl.col("name_missing")
    return rows.with_columns(
        w_name=pl.when("name_missing").then(None).otherwise(w),
        w_first=pl.when(named).then("_wf").when(~person).then("first"),
        w_last=pl.when(named).then("_wl").when(~person).then("last"),
        t_name=pl.when("name_missing").then(None).otherwise("t_name"),
    ).drop(
        "_w", "_wl", "_wf", "_variants", "_picked", "_cpr_suffix", "_letter", "_first", "_middle"
    )


def _cpr_text(rng: Rng, rows: pl.DataFrame) -> pl.Expr:
    """A plausible CPR number ``DDMMYY-SSSS`` (personal data: only ever synthetic here)."""
    key = rows["rkey"]
    day = rng.integers("cpr.day", key, 29, low=1).cast(pl.String).str.zfill(2)
    month = rng.integers("cpr.month", key, 13, low=1).cast(pl.String).str.zfill(2)
    year = rng.integers("cpr.year", key, 100).cast(pl.String).str.zfill(2)
    serial = rng.integers("cpr.serial", key, 10000).cast(pl.String).str.zfill(4)
    return pl.lit(day + month + year + "-" + serial)


def _address_text(rng: Rng, rows: pl.DataFrame, pools: Pools) -> pl.DataFrame:
    """Street content (``t_street``...) and the written address, postal code, city, country."""
    rows, r = _uniforms(
        rng,
        rows,
        "addr",
        (
            "typo",
            "typo_pos",
            "typo_kind",
            "fold",
            "fmt",
            "sep",
            "letter",
            "upper",
            "co",
            "postboks",
            "multi",
            "oneline",
            "keep_cols",
            "postal_fmt",
            "city_fmt",
            "country",
            "po_no",
        ),
    )
    letter = rng.choice("addr.letter_typo", rows["rkey"], list("aeilnorst"))
    dup = pl.col("is_dup")
    rows = rows.with_columns(
        _letter=letter,
        t_street=pl.col("a_street"),
        street_typo=(r["typo"] < pl.when(dup).then(pl.lit(0.08)).otherwise(pl.lit(0.015)))
        & _typo_possible(pl.col("a_street"), r["typo_pos"])
        & ~pl.col("street_missing"),
        street_fold=(r["fold"] < 0.02)
        & pl.col("a_street").str.contains("[æøåÆØÅ]")
        & ~pl.col("street_missing"),
    )
    rows = _apply_typo(
        rows, "t_street", "street_typo", r["typo_pos"], r["typo_kind"], pl.col("_letter")
    )
    rows = rows.with_columns(
        t_street=pl.when("street_fold").then(ascii_fold(pl.col("t_street"))).otherwise("t_street")
    )
    floor = pl.col("a_floor")
    door = pl.col("a_door")
    fmt = r["fmt"]
    floor_dot = pl.col("_floor_dot")
    floor_sal = pl.col("_floor_sal")
    rows = rows.with_columns(
        _floor_dot=floor + pl.lit("."),
        _floor_sal=pl.when(floor.is_in(["st", "kl"]))
        .then(floor + pl.lit("."))
        .otherwise(floor + pl.lit(". sal")),
    )
    floor_door = (
        pl.when(floor.is_null())
        .then(None)
        .when(door.is_null())
        .then(pl.when(fmt < 0.6).then(floor_dot).when(fmt < 0.8).then(floor_sal).otherwise(floor))
        .when(fmt < 0.55)
        .then(floor_dot + pl.lit(" ") + door)
        .when(fmt < 0.67)
        .then(floor_dot + door)
        .when(fmt < 0.77)
        .then(floor + pl.lit(" ") + door)
        .when(fmt < 0.84)
        .then(floor_sal + pl.lit(" ") + door)
        .when(fmt < 0.91)
        .then(floor_dot + door + pl.lit("."))
        .otherwise(floor_dot + pl.lit(" ") + door + pl.lit("."))
    )
    house = pl.col("a_house_number")
    has_letter = house.str.contains("[A-Z]$")
    house_w = (
        pl.when(has_letter & (r["letter"] < 0.3))
        .then(house.str.to_lowercase())
        .when(has_letter & (r["letter"] < 0.5))
        .then(house.str.slice(0, house.str.len_chars() - 1) + pl.lit(" ") + house.str.slice(-1))
        .otherwise(house)
    )
    street_w = (
        pl.when(r["upper"] < 0.03)
        .then(pl.col("t_street").str.to_uppercase())
        .otherwise(pl.col("t_street"))
    )
    company = pl.col("ctype") == "company"
    rows = rows.with_columns(
        _floor_door=floor_door,
        _line1=street_w + pl.lit(" ") + house_w,
        _sep=pl.when(r["sep"] < 0.6).then(pl.lit(", ")).otherwise(pl.lit(" ")),
        addr_multiline=(r["multi"] < 0.015) & floor.is_not_null(),
        addr_co=(r["co"] < 0.012),
        addr_postboks=company & (r["postboks"] < 0.015),
        addr_oneline=(r["oneline"] < 0.03) & ~pl.col("postal_missing"),
    )
    floor_door = pl.col("_floor_door")
    line1 = pl.col("_line1")
    rows = rows.with_columns(
        _addr=pl.when(floor_door.is_null())
        .then(line1)
        .when("addr_multiline")
        .then(line1 + pl.lit("\n") + floor_door)
        .otherwise(line1 + pl.col("_sep") + floor_door)
    )
    address = pl.col("_addr")
    contact = pl.col("first") + pl.lit(" ") + pl.col("last")
    address = (
        pl.when("addr_co")
        .then(
            pl.when(r["multi"] < 0.5)
            .then(pl.lit("c/o ") + contact + pl.lit("\n") + address)
            .otherwise(pl.lit("c/o ") + contact + pl.lit(", ") + address)
        )
        .otherwise(address)
    )
    po_no = (r["po_no"] * 900 + 100).floor().cast(pl.Int64).cast(pl.String)
    rows = rows.with_columns(_addr=address).with_columns(
        _addr=pl.when("addr_postboks")
        .then(pl.col("_addr") + pl.lit(", Postboks ") + po_no)
        .otherwise("_addr")
    )
    address = pl.col("_addr")
    # City as written: the official name, or a spelling a person would type.
    city = pl.col("a_city")
    cf = r["city_fmt"]
    kbh = city.str.starts_with("København")
    city_w = (
        pl.when(pl.col("unknown_postal"))
        .then("unknown_city")
        .when(cf < 0.04)
        .then(None)
        .when(kbh & (cf < 0.25))
        .then(city.str.replace("København", "Kbh.", literal=True))
        .when(kbh & (cf < 0.30))
        .then(city.str.replace("København", "Kbh", literal=True))
        .when(city.str.starts_with("Aarhus") & (cf < 0.3))
        .then(city.str.replace("Aarhus", "Århus", literal=True))
        .when(cf < 0.10)
        .then(city.str.to_uppercase())
        .when(cf < 0.11)
        .then(city.str.to_lowercase())
        .when(cf < 0.13)
        .then(ascii_fold(city))
        .otherwise(city)
    )
    pf = r["postal_fmt"]
    postal = pl.col("a_postal_code")
    postal_w = (
        pl.when(pf < 0.02)
        .then(pl.lit("DK-") + postal)
        .when(pf < 0.03)
        .then(pl.lit(" ") + postal + pl.lit(" "))
        .otherwise(postal)
    )
    keep = r["keep_cols"] < 0.3
    oneline = pl.col("addr_oneline")
    rows = rows.with_columns(
        city_variant=pl.when(pl.col("postal_missing") | (oneline & ~keep))
        .then(pl.lit("none"))
        .when(pl.col("unknown_postal"))
        .then(pl.lit("unknown"))
        .when(cf < 0.04)
        .then(pl.lit("missing"))
        .when((kbh & (cf < 0.30)) | (city.str.starts_with("Aarhus") & (cf < 0.3)))
        .then(pl.lit("abbrev"))
        .when(cf < 0.11)
        .then(pl.lit("case"))
        .when(cf < 0.13)
        .then(pl.lit("ascii"))
        .otherwise(pl.lit("official")),
        w_address=pl.when("street_missing")
        .then(None)
        .when(oneline)
        .then(
            address + pl.lit(", ") + postal + pl.lit(" ") + city.fill_null(pl.col("unknown_city"))
        )
        .otherwise(address),
        w_postal=pl.when("postal_missing")
        .then(None)
        .when(oneline & ~keep)
        .then(None)
        .otherwise(postal_w),
        w_city=pl.when("postal_missing")
        .then(None)
        .when(oneline & ~keep)
        .then(None)
        .otherwise(city_w),
        w_country=pl.lit(
            rng.weighted(
                "addr.country_w",
                rows["rkey"],
                [("Danmark", 0.5), ("", 0.3), ("DK", 0.14), ("Denmark", 0.05), ("DANMARK", 0.01)],
            )
        ),
        w_country_code=pl.lit(
            rng.weighted("addr.country_c", rows["rkey"], [("DK", 0.9), ("", 0.1)])
        ),
    )
    return rows.drop(
        "_letter", "_floor_dot", "_floor_sal", "_floor_door", "_line1", "_sep", "_addr"
    ).with_columns(
        w_country=pl.when(pl.col("w_country") == "").then(None).otherwise("w_country"),
        w_country_code=pl.when(pl.col("w_country_code") == "")
        .then(None)
        .otherwise("w_country_code"),
    )


def _phone_written(nat: pl.Expr, cc: pl.Expr, f: pl.Expr) -> pl.Expr:
    """A valid number in one of the ways people write it."""
    dk = cc == "45"
    pairs = pl.concat_str(
        [nat.str.slice(0, 2), nat.str.slice(2, 2), nat.str.slice(4, 2), nat.str.slice(6, 2)],
        separator=" ",
    )
    fours = nat.str.slice(0, 4) + pl.lit(" ") + nat.str.slice(4, 4)
    return (
        pl.when(~dk)
        .then(
            pl.when(f < 0.5)
            .then(pl.lit("+") + cc + pl.lit(" ") + nat)
            .when(f < 0.8)
            .then(pl.lit("00") + cc + nat)
            .otherwise(pl.lit("+") + cc + nat)
        )
        .when(f < 0.38)
        .then(nat)
        .when(f < 0.62)
        .then(pairs)
        .when(f < 0.70)
        .then(pl.lit("+45 ") + pairs)
        .when(f < 0.75)
        .then(pl.lit("+45") + nat)
        .when(f < 0.79)
        .then(pl.lit("0045 ") + nat)
        .when(f < 0.82)
        .then(pl.lit("(+45) ") + fours)
        .when(f < 0.85)
        .then(pl.lit("tlf. ") + pairs)
        .when(f < 0.88)
        .then(pairs.str.replace_all(" ", "-", literal=True))
        .when(f < 0.90)
        .then(pairs.str.replace_all(" ", ".", literal=True))
        .otherwise(fours)
    )


def _contact_text(rng: Rng, rows: pl.DataFrame) -> pl.DataFrame:
    """Phone and e-mail as written, with their scenario labels."""
    rows, r = _uniforms(rng, rows, "contact", ("pfmt", "pextra", "pjunk", "efmt", "ebad"))
    ext = pl.lit(rng.integers("contact.ext", rows["rkey"], 900, low=100).cast(pl.String))
    nat = pl.col("phone_nat")
    cc = pl.col("phone_cc")
    valid = _phone_written(nat, cc, r["pfmt"])
    org = pl.col("ctype") != "person"
    rows = rows.with_columns(
        phone_two=(pl.col("phone_state") == "valid") & (r["pextra"] < 0.02),
        phone_ext=(pl.col("phone_state") == "valid")
        & org
        & (r["pextra"] >= 0.02)
        & (r["pextra"] < 0.03),
        phone_format=pl.when(pl.col("phone_cc") != "45")
        .then(pl.lit("foreign"))
        .when(r["pfmt"] < 0.38)
        .then(pl.lit("plain"))
        .otherwise(pl.lit("formatted")),
    )
    junk = (
        pl.when(r["pjunk"] < 0.25)
        .then(nat.str.slice(0, 5))
        .when(r["pjunk"] < 0.45)
        .then(nat.str.slice(0, 7))
        .when(r["pjunk"] < 0.6)
        .then(pl.lit("+45 ") + nat.str.slice(1, 7))
        .when(r["pjunk"] < 0.7)
        .then(pl.lit("00000000"))
        .when(r["pjunk"] < 0.8)
        .then(pl.lit("ring efter kl. 16"))
        .when(r["pjunk"] < 0.9)
        .then(pl.lit("n/a"))
        .otherwise(pl.lit("1234567890"))
    ).fill_null(pl.lit("12345"))
    written = (
        pl.when(pl.col("phone_state") == "none")
        .then(None)
        .when(pl.col("cpr") & pl.col("cpr_in_phone"))
        .then("cpr_text")
        .when(pl.col("phone_state") == "invalid")
        .then(junk)
        .when("phone_two")
        .then(valid + pl.lit(" / ") + pl.col("phone2_nat"))
        .when("phone_ext")
        .then(valid + pl.lit(" lok. ") + ext)
        .otherwise(valid)
    )
    email = pl.col("email")
    ef = r["efmt"]
    local = email.str.extract(r"^([^@]+)@", 1)
    domain = email.str.extract(r"@(.+)$", 1)
    email_valid = (
        pl.when(ef < 0.86)
        .then(email)
        .when(ef < 0.91)
        .then(local.str.to_titlecase() + pl.lit("@") + domain.str.to_titlecase())
        .when(ef < 0.93)
        .then(email.str.to_uppercase())
        .when(ef < 0.945)
        .then(pl.lit("mailto:") + email)
        .when(ef < 0.96)
        .then(local + pl.lit(" @ ") + domain)
        .when(ef < 0.97)
        .then(email + pl.lit(";"))
        .when(ef < 0.975)
        .then(pl.lit(" ") + email + pl.lit(" "))
        .otherwise(email + pl.lit("; ") + pl.col("email2"))
    )
    eb = r["ebad"]
    email_bad = (
        pl.when(eb < 0.25)
        .then(email.str.replace(r"\.[a-z]+$", ""))
        .when(eb < 0.45)
        .then(email.str.replace("@", ".", literal=True))
        .when(eb < 0.6)
        .then(email.str.replace("@", "@@", literal=True))
        .when(eb < 0.75)
        .then(email.str.replace(".", " ", literal=True))
        .when(eb < 0.9)
        .then(email.str.replace(r"\.([a-z]+)$", ",$1"))
        .otherwise(email + pl.lit("."))
    )
    return rows.with_columns(
        w_phone=written,
        w_email=pl.when(pl.col("email_state") == "none")
        .then(None)
        .when(pl.col("email_state") == "invalid")
        .then(email_bad)
        .otherwise(email_valid),
        email_format=pl.when(ef < 0.86)
        .then(pl.lit("plain"))
        .when(ef < 0.93)
        .then(pl.lit("case"))
        .when(ef < 0.975)
        .then(pl.lit("decorated"))
        .otherwise(pl.lit("two")),
    )


def _ids_text(rng: Rng, rows: pl.DataFrame) -> pl.DataFrame:
    """CVR and EAN as written (prefixes, spaces, typos, Excel's scientific notation)."""
    rows, r = _uniforms(rng, rows, "ids", ("cfmt", "cbad", "cpos", "efmt", "ebad", "epos"))
    digit = pl.lit(rng.integers("ids.digit", rows["rkey"], 9, low=1))
    cvr = pl.col("cvr")

    def change_digit(value: pl.Expr, pos: pl.Expr, length: int) -> pl.Expr:
        p = (pos * length).floor().cast(pl.Int64)
        old = value.str.slice(p, 1).cast(pl.Int64)
        new = ((old + digit) % 10).cast(pl.String)
        return value.str.slice(0, p) + new + value.str.slice(p + 1)

    cvr_bad = (
        pl.when(r["cbad"] < 0.6)
        .then(change_digit(cvr, r["cpos"], 8))
        .when(r["cbad"] < 0.85)
        .then(cvr.str.slice(0, 7))
        .otherwise(cvr + pl.col("cvr").str.slice(3, 1))
    )
    # A changed first digit may yield a leading zero; CVR numbers never start with 0, still invalid.
    cf = r["cfmt"]
    cvr_ok = (
        pl.when(cf < 0.80)
        .then(cvr)
        .when(cf < 0.86)
        .then(pl.lit("DK") + cvr)
        .when(cf < 0.89)
        .then(pl.lit("DK ") + cvr)
        .when(cf < 0.93)
        .then(
            pl.concat_str(
                [
                    cvr.str.slice(0, 2),
                    cvr.str.slice(2, 2),
                    cvr.str.slice(4, 2),
                    cvr.str.slice(6, 2),
                ],
                separator=" ",
            )
        )
        .when(cf < 0.95)
        .then(cvr.str.slice(0, 4) + pl.lit("-") + cvr.str.slice(4, 4))
        .when(cf < 0.97)
        .then(pl.lit("DK-") + cvr)
        .otherwise(pl.lit("CVR ") + cvr)
    )
    ean = pl.col("ean")
    ean_bad = (
        pl.when(r["ebad"] < 0.6)
        .then(change_digit(ean, r["epos"], 13))
        .when(r["ebad"] < 0.85)
        .then(ean.str.slice(0, 1) + pl.lit(",") + ean.str.slice(1, 5) + pl.lit("E+12"))
        .otherwise(ean.str.slice(0, 12))
    )
    ef = r["efmt"]
    ean_ok = (
        pl.when(ef < 0.9)
        .then(ean)
        .when(ef < 0.95)
        .then(
            ean.str.slice(0, 4) + pl.lit(" ") + ean.str.slice(4, 4) + pl.lit(" ") + ean.str.slice(8)
        )
        .otherwise(pl.lit("EAN ") + ean)
    )
    return rows.with_columns(
        w_cvr=pl.when(pl.col("cvr_state") == "valid")
        .then(cvr_ok)
        .when(pl.col("cvr_state") == "invalid")
        .then(cvr_bad),
        cvr_format=pl.when(cf < 0.80).then(pl.lit("plain")).otherwise(pl.lit("decorated")),
        w_ean=pl.when(pl.col("ean_state") == "valid")
        .then(ean_ok)
        .when(pl.col("ean_state") == "invalid")
        .then(ean_bad),
    )


def _label_list(rules: list[tuple[str, pl.Expr]]) -> pl.Expr:
    """The labels whose rule holds, in the given order, as a list column.

    Joined as text and split once: ``concat_list`` over dozens of columns is far slower.
    """
    joined = pl.concat_str(
        [pl.when(rule).then(pl.lit(label + "|")) for label, rule in rules], ignore_nulls=True
    )
    return (
        pl.when(joined == "")
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(joined.str.strip_suffix("|").str.split("|"))
    )


def _truth(rows: pl.DataFrame, pools: Pools) -> pl.DataFrame:
    """True clean values, expected reason codes and scenario tags per row."""
    no_street = pl.col("street_missing")
    no_postal = pl.col("postal_missing")
    checked = (pl.col("cvr_state") == "valid") & ~pl.col("cvr_not_found")
    entity_checked = checked.any().over("entity_id")
    rows = rows.with_columns(
        t_street=pl.when(no_street).then(None).otherwise("t_street"),
        t_house_number=pl.when(no_street).then(None).otherwise("a_house_number"),
        t_floor=pl.when(no_street).then(None).otherwise("a_floor"),
        t_door=pl.when(no_street).then(None).otherwise("a_door"),
        t_postal_code=pl.when(no_postal).then(None).otherwise("a_postal_code"),
        t_city=pl.when(no_postal).then(None).otherwise("a_city"),
        t_phone_e164=pl.when(pl.col("phone_state") == "valid").then(
            pl.lit("+") + pl.col("phone_cc") + pl.col("phone_nat")
        ),
        t_email=pl.when(pl.col("email_state") == "valid").then("email"),
        t_cvr=pl.when(pl.col("cvr_state") == "valid").then("cvr"),
        t_ean=pl.when(pl.col("ean_state") == "valid").then("ean"),
        t_legal_form=pl.when(pl.col("ctype") == "company").then("form"),
        registry_checked=checked,
    )
    flag_rules = {
        "MISSING_NAME": pl.col("name_missing"),
        "MISSING_ADDRESS": no_street | no_postal,
        "UNKNOWN_POSTAL_CODE": pl.col("unknown_postal") & ~no_postal,
        "MISSING_CVR": (pl.col("ctype") == "company") & (pl.col("cvr_state") == "missing"),
        "INVALID_CVR": pl.col("cvr_state") == "invalid",
        "CVR_NOT_FOUND": (pl.col("cvr_state") == "valid") & pl.col("cvr_not_found"),
        "NAME_MISMATCH": checked
        & pl.col("renamed")
        & ~pl.col("use_binavn")
        & ~pl.col("name_missing"),
        "ADDRESS_MISMATCH": checked & pl.col("row_old") & ~no_street & ~no_postal,
        # The registry's word on a company reaches every record of the customer, also its
        # duplicate typed without the CVR number (the contract's whole-customer rule).
        "COMPANY_BANKRUPT": entity_checked & (pl.col("status_kind") == "bankrupt"),
        "COMPANY_DISSOLVED": entity_checked & (pl.col("status_kind") == "dissolved"),
        "COMPANY_DISTRESSED": entity_checked & (pl.col("status_kind") == "distressed"),
        "MISSING_EAN": (pl.col("ctype") == "public") & (pl.col("ean_state") == "missing"),
        "INVALID_EAN": pl.col("ean_state") == "invalid",
        "INVALID_PHONE": pl.col("phone_state") == "invalid",
        "INVALID_EMAIL": pl.col("email_state") == "invalid",
        "CPR_IN_DATA": pl.col("cpr"),
    }
    expected = _label_list(sorted(flag_rules.items()))
    tags = {
        "duplicate": pl.col("is_dup"),
        "dup:moved": pl.col("dup_moved"),
        "dup:other_email": pl.col("dup_other_email"),
        "dup:other_phone": pl.col("dup_other_phone"),
        "dup:missing_cvr": pl.col("dup_missing_cvr"),
        "name:binavn": pl.col("use_binavn"),
        "name:typo": pl.col("typo"),
        "name:ascii_fold": pl.col("fold"),
        "name:legal_form_variant": pl.col("name_form_variant"),
        "name:upper": pl.col("name_case") == "upper",
        "name:lower": pl.col("name_case") == "lower",
        "name:last_first": pl.col("name_comma"),
        "name:extra_spaces": pl.col("name_space"),
        "name:enk_v_space": pl.col("enk_variant"),
        "name:missing": pl.col("name_missing"),
        "address:street_typo": pl.col("street_typo"),
        "address:ascii_fold": pl.col("street_fold"),
        "address:one_line": pl.col("addr_oneline"),
        "address:multi_line": pl.col("addr_multiline"),
        "address:c/o": pl.col("addr_co"),
        "address:postboks": pl.col("addr_postboks"),
        "address:old": pl.col("row_old"),
        "address:missing_street": no_street,
        "address:missing_postal_code": no_postal,
        "address:unknown_postal_code": pl.col("unknown_postal"),
        "city:abbreviated": pl.col("city_variant") == "abbrev",
        "city:case": pl.col("city_variant") == "case",
        "city:ascii_fold": pl.col("city_variant") == "ascii",
        "city:missing": pl.col("city_variant") == "missing",
        "phone:formatted": (pl.col("phone_format") == "formatted")
        & (pl.col("phone_state") == "valid"),
        "phone:foreign": (pl.col("phone_format") == "foreign") & (pl.col("phone_state") == "valid"),
        "phone:two_numbers": pl.col("phone_two"),
        "phone:extension": pl.col("phone_ext"),
        "phone:invalid": (pl.col("phone_state") == "invalid") & ~pl.col("cpr"),
        "email:case": (pl.col("email_format") == "case") & (pl.col("email_state") == "valid"),
        "email:decorated": (pl.col("email_format") == "decorated")
        & (pl.col("email_state") == "valid"),
        "email:two_addresses": (pl.col("email_format") == "two")
        & (pl.col("email_state") == "valid"),
        "email:invalid": pl.col("email_state") == "invalid",
        "cvr:decorated": (pl.col("cvr_format") == "decorated") & (pl.col("cvr_state") == "valid"),
        "cvr:invalid": pl.col("cvr_state") == "invalid",
        "cvr:missing": pl.col("cvr_state") == "missing",
        "cvr:not_found": (pl.col("cvr_state") == "valid") & pl.col("cvr_not_found"),
        "ean:invalid": pl.col("ean_state") == "invalid",
        "ean:missing": (pl.col("ctype") == "public") & (pl.col("ean_state") == "missing"),
        "cpr:in_name": pl.col("cpr") & ~pl.col("cpr_in_phone"),
        "cpr:in_phone": pl.col("cpr") & pl.col("cpr_in_phone"),
        "registry:bankrupt": pl.col("status_kind") == "bankrupt",
        "registry:dissolved": pl.col("status_kind") == "dissolved",
        "registry:distressed": pl.col("status_kind") == "distressed",
        "registry:renamed": pl.col("renamed"),
        "registry:moved": pl.col("moved"),
        "registry:secret_phone": pl.col("secret_phone"),
        "registry:secret_email": pl.col("secret_email"),
        "hard_negative:household": pl.col("hn_household"),
        "hard_negative:group_company": pl.col("hn_group"),
        "hard_negative:business_centre": pl.col("hn_centre"),
        "hard_negative:common_name": pl.col("hn_common_name"),
    }
    scenario = _label_list(list(tags.items()))
    return rows.with_columns(
        expected_flags=expected, scenario=scenario, t_customer_type=pl.col("ctype")
    )
