"""ERST CVR registry documents for the generated companies, shaped like the real API's ``_source``.

One document per company or public body in the customer file (except the planted CVR_NOT_FOUND
numbers) plus unrelated registry-only companies. Each is ``{"_source": {"Vrvirksomhed": {...}}}``
with the keys, nesting and types of the real ERST search response (the trimmed one in the shared
reference): ``cvrNummer`` as an int, history lists whose elements carry
``periode.gyldigFra/gyldigTil`` (``gyldigTil: null`` = current), ``virksomhedMetadata.nyeste*``
current values and the inconsistently cased ``sammensatStatus``.

Planted cases: bankrupt (``UNDER KONKURS`` + a current ``Konkurs`` credit status), dissolved
(``livsforloeb`` ended; ``OPLØST EFTER KONKURS`` keeps an *ended* ``Konkurs`` entry), distressed,
renamed (former name ended in ``navne``), moved (former address ended in
``beliggenhedsadresse``), secondary names (``binavne``) and secret phone/e-mail (``hemmelig``).

Documents are built as nested polars structs, so a million customers' registry is written by
polars' JSON writer rather than a Python loop.
"""

from __future__ import annotations

import polars as pl

from bench.gen_pools import LEGAL_FORMS, PUBLIC_FORMS
from bench.gen_random import Rng

_STAMP = "2024-05-02T08:14:11.000+02:00"
_NULL_STR = pl.lit(None, dtype=pl.String)
_NULL_INT = pl.lit(None, dtype=pl.Int64)


def _empty() -> pl.Expr:
    return pl.lit([], dtype=pl.List(pl.Null))


def _periode(start: pl.Expr, end: pl.Expr | None = None) -> pl.Expr:
    return pl.struct(gyldigFra=start, gyldigTil=end if end is not None else _NULL_STR)


def _address(prefix: str, start: pl.Expr, end: pl.Expr | None) -> pl.Expr:
    house = pl.col(f"{prefix}house_number")
    return pl.struct(
        landekode=pl.lit("DK"),
        fritekst=_NULL_STR,
        vejkode=pl.col(f"{prefix}vejkode"),
        kommune=pl.lit(None, dtype=pl.Struct({"kommuneKode": pl.Int64, "kommuneNavn": pl.String})),
        husnummerFra=house.str.extract(r"^(\d+)", 1).cast(pl.Int64),
        adresseId=_NULL_STR,
        sidstValideret=_NULL_STR,
        husnummerTil=_NULL_INT,
        bogstavFra=house.str.extract(r"([A-Z])$", 1),
        bogstavTil=_NULL_STR,
        etage=pl.col(f"{prefix}floor"),
        sidedoer=pl.col(f"{prefix}door"),
        conavn=_NULL_STR,
        postboks=_NULL_STR,
        vejnavn=pl.col(f"{prefix}street"),
        bynavn=_NULL_STR,
        postnummer=pl.col(f"{prefix}postal_code").cast(pl.Int64),
        postdistrikt=pl.col(f"{prefix}city"),
        periode=_periode(start, end),
        sidstOpdateret=pl.lit(_STAMP),
    )


def _form_struct(start: pl.Expr) -> pl.Expr:
    codes = {f: s[0] for f, s in LEGAL_FORMS.items()} | {k: v[0] for k, v in PUBLIC_FORMS.items()}
    short = {f: s[1] for f, s in LEGAL_FORMS.items()} | {k: v[1] for k, v in PUBLIC_FORMS.items()}
    long = {f: s[2] for f, s in LEGAL_FORMS.items()} | {k: v[2] for k, v in PUBLIC_FORMS.items()}
    key = pl.col("form_key")
    return pl.struct(
        virksomhedsformkode=key.replace_strict(codes, return_dtype=pl.Int64),
        kortBeskrivelse=key.replace_strict(short, return_dtype=pl.String),
        langBeskrivelse=key.replace_strict(long, return_dtype=pl.String),
        ansvarligDataleverandoer=pl.lit("E&S"),
        periode=_periode(start),
        sidstOpdateret=pl.lit(_STAMP),
    )


def _optional(element: pl.Expr, present: pl.Expr) -> pl.Expr:
    """A list of zero or one element (``[]`` where ``present`` is false)."""
    return pl.concat_list([element]).list.head(present.cast(pl.Int64))


def _history(reg: pl.DataFrame, former: tuple[pl.Expr, pl.Expr], current: pl.Expr) -> pl.Series:
    """A two-step history list per document: ``[former, current]`` where the mask holds, else
    ``[current]``. Built in long form and grouped, because ``concat_list`` over struct columns is
    orders of magnitude slower in polars."""
    mask, element = former
    long = pl.concat(
        [
            reg.filter(mask).select("doc", pos=pl.lit(0), el=element),
            reg.select("doc", pos=pl.lit(1), el=current),
        ]
    ).sort("doc", "pos")
    grouped = long.group_by("doc", maintain_order=True).agg("el")
    return grouped["el"]


def build_registry(rng: Rng, ent: pl.DataFrame) -> pl.DataFrame:
    """Registry documents for every registered entity: columns ``cvr`` (text) and ``_source``."""
    reg = (
        ent.filter((pl.col("ctype") != "person") & ~pl.col("cvr_not_found"))
        .sort("cvr")
        .with_row_index("doc")
    )
    key = reg["eidx"]
    reg = reg.with_columns(
        vejkode=pl.lit(rng.integers("reg.vejkode", key, 9000, low=10)),
        old_vejkode=pl.lit(rng.integers("reg.old_vejkode", key, 9000, low=10)),
        change_day=pl.lit(rng.integers("reg.change", key, 2200)),
        end_day=pl.lit(rng.integers("reg.end", key, 400, low=30)),
        reklame=pl.lit(rng.bernoulli("reg.reklame", key, 0.12)),
        form_key=pl.when(pl.col("ctype") == "public")
        .then(
            pl.when(pl.col("public_kind").is_in(["REG", "STA"]))
            .then("public_kind")
            .otherwise(pl.lit("KOM"))
        )
        .otherwise("form"),
    )
    founded = pl.date(1955, 1, 1) + pl.duration(days=pl.col("founded") % (365 * 66))
    change = pl.max_horizontal(
        pl.date(2018, 1, 1) + pl.duration(days="change_day"), founded + pl.duration(days=200)
    )
    end = change + pl.duration(days="end_day")
    reg = reg.with_columns(
        d0=founded.dt.strftime("%Y-%m-%d"),
        d1=change.dt.strftime("%Y-%m-%d"),
        d1_before=(change - pl.duration(days=1)).dt.strftime("%Y-%m-%d"),
        d_end=end.dt.strftime("%Y-%m-%d"),
    )
    kind = pl.col("status_kind")
    dissolved = kind == "dissolved"

    def registered(name: pl.Expr) -> pl.Expr:
        return pl.when("reg_upper").then(name.str.to_uppercase()).otherwise(name)

    current_name = registered(pl.when("renamed").then("new_name").otherwise("name"))
    reg = reg.with_columns(
        navne=_history(
            reg,
            (
                pl.col("renamed"),
                pl.struct(
                    navn=registered(pl.col("name")),
                    periode=_periode(pl.col("d0"), pl.col("d1_before")),
                    sidstOpdateret=pl.lit(_STAMP),
                ),
            ),
            pl.struct(
                navn=current_name,
                periode=_periode(pl.when("renamed").then("d1").otherwise("d0")),
                sidstOpdateret=pl.lit(_STAMP),
            ),
        )
    )
    binavne = _optional(
        pl.struct(
            navn=pl.col("binavn"), periode=_periode(pl.col("d1")), sidstOpdateret=pl.lit(_STAMP)
        ),
        pl.col("has_binavn"),
    )
    current_address = _address("", pl.when("moved").then("d1").otherwise("d0"), None)
    reg = reg.with_columns(
        addresses=_history(
            reg,
            (pl.col("moved"), _address("old_", pl.col("d0"), pl.col("d1_before"))),
            current_address,
        )
    )
    phone_value = (
        pl.when(pl.col("phone_cc") == "45")
        .then("phone_nat")
        .otherwise(pl.lit("+") + pl.col("phone_cc") + pl.col("phone_nat"))
    )
    phones = _optional(
        pl.struct(
            kontaktoplysning=phone_value,
            hemmelig=pl.col("secret_phone"),
            periode=_periode(pl.col("d0")),
            sidstOpdateret=pl.lit(_STAMP),
        ),
        pl.col("phone_nat").is_not_null(),
    )
    emails = _optional(
        pl.struct(
            kontaktoplysning=pl.col("email"),
            hemmelig=pl.col("secret_email"),
            periode=_periode(pl.col("d0")),
            sidstOpdateret=pl.lit(_STAMP),
        ),
        pl.col("email").is_not_null(),
    )
    livsforloeb = pl.concat_list(
        [
            pl.struct(
                periode=_periode(pl.col("d0"), pl.when(dissolved).then("d_end")),
                sidstOpdateret=pl.lit(_STAMP),
            )
        ]
    )
    status_upper = pl.col("reg_status").str.to_uppercase().replace({"AKTIV": "NORMAL"})
    reg = reg.with_columns(
        virksomhedsstatus=_history(
            reg,
            (
                kind != "normal",
                pl.struct(
                    status=pl.lit("NORMAL"),
                    periode=_periode(pl.col("d0"), pl.col("d1_before")),
                    sidstOpdateret=pl.lit(_STAMP),
                ),
            ),
            pl.struct(
                status=status_upper,
                periode=_periode(
                    pl.when(kind != "normal").then("d1").otherwise("d0"),
                    pl.when(dissolved).then("d_end"),
                ),
                sidstOpdateret=pl.lit(_STAMP),
            ),
        )
    )
    konkurs = pl.struct(
        statuskode=pl.lit(1, dtype=pl.Int64),
        statustekst=pl.lit("Konkurs"),
        kreditoplysningkode=pl.lit(1, dtype=pl.Int64),
        kreditoplysningtekst=pl.lit("Konkurs"),
        periode=_periode(pl.col("d1"), pl.when(kind != "bankrupt").then("d_end")),
        sidstOpdateret=pl.lit(_STAMP),
    )
    status = _optional(
        konkurs, (kind == "bankrupt") | (pl.col("reg_status") == "OPLØST EFTER KONKURS")
    )
    contacts = pl.concat_list(
        [
            pl.when(pl.col("phone_nat").is_not_null() & ~pl.col("secret_phone")).then(phone_value),
            pl.when(pl.col("email").is_not_null() & ~pl.col("secret_email")).then("email"),
        ]
    ).list.drop_nulls()
    metadata = pl.struct(
        nyesteNavn=pl.struct(
            navn=current_name,
            periode=_periode(pl.when("renamed").then("d1").otherwise("d0")),
            sidstOpdateret=pl.lit(_STAMP),
        ),
        nyesteBinavne=pl.concat_list([pl.col("binavn")]).list.drop_nulls(),
        nyesteVirksomhedsform=_form_struct(pl.col("d0")),
        nyesteBeliggenhedsadresse=current_address,
        nyesteHovedbranche=pl.lit(None, dtype=pl.Struct({"branchekode": pl.String})),
        nyesteStatus=pl.when(kind == "bankrupt").then(
            pl.struct(
                kreditoplysningkode=pl.lit(1, dtype=pl.Int64),
                kreditoplysningtekst=pl.lit("Konkurs"),
            )
        ),
        nyesteKontaktoplysninger=contacts,
        antalPenheder=pl.lit(1, dtype=pl.Int64),
        sammensatStatus=pl.col("reg_status"),
        stiftelsesDato=pl.col("d0"),
        virkningsDato=pl.col("d0"),
    )
    doc = pl.struct(
        cvrNummer=pl.col("cvr").cast(pl.Int64),
        regNummer=_empty(),
        brancheAnsvarskode=_NULL_STR,
        reklamebeskyttet=pl.col("reklame"),
        navne=pl.col("navne"),
        binavne=binavne,
        postadresse=_empty(),
        beliggenhedsadresse=pl.col("addresses"),
        telefonNummer=phones,
        telefaxNummer=_empty(),
        sekundaertTelefonNummer=_empty(),
        sekundaertTelefaxNummer=_empty(),
        elektroniskPost=emails,
        hjemmeside=_empty(),
        obligatoriskEmail=_empty(),
        livsforloeb=livsforloeb,
        hovedbranche=_empty(),
        bibranche1=_empty(),
        bibranche2=_empty(),
        bibranche3=_empty(),
        status=status,
        virksomhedsstatus=pl.col("virksomhedsstatus"),
        virksomhedsform=pl.concat_list([_form_struct(pl.col("d0"))]),
        aarsbeskaeftigelse=_empty(),
        kvartalsbeskaeftigelse=_empty(),
        maanedsbeskaeftigelse=_empty(),
        attributter=_empty(),
        penheder=_empty(),
        deltagerRelation=_empty(),
        fusioner=_empty(),
        spaltninger=_empty(),
        virksomhedMetadata=metadata,
        samtId=pl.lit(1, dtype=pl.Int64),
        fejlRegistreret=pl.lit(False),
        dataAdgang=pl.lit(0, dtype=pl.Int64),
        enhedsNummer=pl.col("eidx") + 4_000_000_000,
        enhedstype=pl.lit("VIRKSOMHED"),
        sidstIndlaest=pl.lit(_STAMP),
        sidstOpdateret=pl.lit(_STAMP),
        fejlVedIndlaesning=pl.lit(False),
        naermesteFremtidigeDato=_NULL_STR,
        fejlBeskrivelse=_NULL_STR,
        virkningsAktoer=pl.lit("R"),
    )
    return reg.select(cvr=pl.col("cvr"), _source=pl.struct(Vrvirksomhed=doc))
