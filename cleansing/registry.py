"""What the CVR registry says about each record: status, legal name, address, public sector.

In: ``records`` with the normalised columns ``cvr`` (8 digits or null), ``name``, ``name_key``,
``street``, ``street_key``, ``house_number``, ``floor``, ``door``, ``postal_code``, ``city``,
``customer_type``; and ``registry``, the frame :func:`datavask.connectors.cvr.open_registry` returns
(one row per CVR: ``found``, ``lookup_failed``, ``registry_*``).

Out: the records, in order, with ``registry_status``, ``registry_name``, ``reklamebeskyttet``,
the flags ``COMPANY_BANKRUPT`` / ``COMPANY_DISSOLVED`` / ``COMPANY_DISTRESSED`` (from the
registry's status class), ``CVR_NOT_FOUND`` (a valid CVR the registry answered "unknown" for),
``REGISTRY_UNCHECKED`` (the look-up failed or was not made: unknown is not "not found"; nor
is a document that says nothing of the company's state healthy),
``NAME_MISMATCH``, ``ADDRESS_MISMATCH``, ``customer_type`` set to ``public`` for public-sector
forms (and from ``public`` to ``company`` for a trading company's form), and
``registry_proposed_<field>`` for ``changes.csv`` (rule ``registry``).

Names are compared on their keys (legal form stripped, æ→ae, case and punctuation gone):

- ``Hansen Byg`` / registry ``HANSEN BYG ApS`` — same key, no mismatch;
- ``Hansen Bgy ApS`` / ``Hansen Byg ApS`` — a typo (similarity ≥ :data:`NAME_MATCH_SCORE`),
  no mismatch, the registry's spelling is proposed;
- ``Hansen Tømrer`` / binavn ``Hansen Tømrer`` — a secondary name, no mismatch;
- ``Gammel Handel ApS`` / former name ``Gammel Handel ApS``, now ``Nyt Navn ApS`` — a
  mismatch (the invoice names an entity that no longer carries that name), registry name proposed;
- ``Nordlys A/S`` / ``Hansen Byg ApS`` — a mismatch, nothing proposed (the CVR may be the
  wrong one rather than the name).
"""

from __future__ import annotations

from typing import Final

import polars as pl
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from datavask.cleansing.addresses import per_distinct, street_key
from datavask.cleansing.names import (
    OWNER_TAIL,
    legal_form_of,
    name_key,
    normalise_names,
    text_key,
)
from datavask.cleansing.schema import flag

# ERST virksomhedsformkode of public authorities, invoiced through EAN (NemHandel): 230 state
# administrative unit (STA), 235 independent public enterprise (SOV), 240 former county (AMT),
# 245 region (REG), 250 municipality (KOM), 260 national-church institution (FKI).
PUBLIC_FORM_CODES: Final = (230, 235, 240, 245, 250, 260)
# ERST virksomhedsformkode of businesses that trade for their owners: 10 ENK, 15 PMV, 30 I/S,
# 40 K/S, 50 partrederi, 60 A/S, 70 P/S, 80 ApS, 81 IVS, 140 AMBA, 150/152 FMBA, 151 SMBA, 160
# EØFG, 195 SCE. A public word in such a company's name (``Bowlinghallen``, ``Privathospitalet``,
# ``Skolernes Boghandel``) does not make it a public customer. Foundations, associations and
# self-governing institutions (a friskole) are left to what the record says.
COMMERCIAL_FORM_CODES: Final = (10, 15, 30, 40, 50, 60, 70, 80, 81, 140, 150, 151, 152, 160, 195)

# Name keys at least this similar (0-100, the better of rapidfuzz's ratio and token-sort ratio)
# are the same name written differently. Calibrated in tests/cleansing/test_registry.py on
# one- and two-letter typos of Danish company names (all ≥ 85 above 8 letters) against
# different companies sharing a word (mostly < 80).
NAME_MATCH_SCORE: Final = 85.0
# Below the match score but at least this similar: a variant worth proposing the registry name for.
NAME_VARIANT_SCORE: Final = 70.0
# Street keys this similar, with the same first letter, are the same street (a typo, not a move).
STREET_MATCH_SCORE: Final = 85.0

PROPOSED_FIELDS: Final = ("street", "house_number", "floor", "door", "postal_code", "city")

_STATUS_FLAGS: Final = {
    "bankrupt": "COMPANY_BANKRUPT",
    "dissolved": "COMPANY_DISSOLVED",
    "distressed": "COMPANY_DISTRESSED",
}
REGISTRY_NAME_KEYS: Final = "_registry_name_keys"
"""Match-only column: name keys of every name the registry knows for the record's CVR."""

_REGISTRY_COLUMNS: Final = (
    "cvr",
    "found",
    "lookup_failed",
    "registry_status",
    "registry_status_class",
    "registry_name",
    "registry_binavne",
    "registry_former_names",
    "registry_street",
    "registry_house_number",
    "registry_floor",
    "registry_door",
    "registry_postal_code",
    "registry_city",
    "registry_form_code",
    "reklamebeskyttet",
)


# The record columns the checks read; the rest of the record never enters them.
_READ: Final = (
    "cvr", "name", "name_key", "street", "street_key", "house_number", "floor", "door",
    "postal_code", "city", "po_box", "customer_type", "legal_form",
)  # fmt: skip


def apply_registry(records: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """Join the registry's answer to each record and raise the registry flags (see module doc).

    The checks run on a frame of the columns they read, and what they add (or change:
    ``customer_type``) joins the record once at the end. On the whole record (some 75 columns)
    the join and the final sort copied every column it carries (at a million records, most of
    the step's seconds).
    """
    read = [c for c in _READ if c in records.columns]
    checked = _checked(records.select(read), _prepared_registry(registry), records.columns)
    added = [c for c in checked.columns if c not in read or c == "customer_type"]
    return records.with_columns(checked.select(added))


def _checked(records: pl.DataFrame, reg: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """:func:`apply_registry` on ``records`` (a frame of the record's ``columns`` it reads)."""
    frame = records.with_row_index("_row").join(
        reg, left_on="cvr", right_on="_cvr", how="left", maintain_order="left"
    )
    has_cvr = pl.col("cvr").is_not_null()
    found = has_cvr & pl.col("_found").fill_null(False)
    # A document found without a word on the company's state (no status class) cannot say it
    # is healthy: unchecked, like a look-up that got no answer.
    unknown_state = found & pl.col("_class").is_null()
    frame = frame.with_columns(
        _found=found,
        **{
            flag("REGISTRY_UNCHECKED"): (has_cvr & pl.col("_failed").fill_null(True))
            | unknown_state
        },
        **{
            flag("CVR_NOT_FOUND"): has_cvr
            & ~pl.col("_found").fill_null(True)
            & ~pl.col("_failed").fill_null(True)
        },
        **{
            flag(code): found & (pl.col("_class") == status).fill_null(False)
            for status, code in _STATUS_FLAGS.items()
        },
    )
    frame = _name_checks(frame)
    frame = _address_checks(frame)
    # Every name the company has carried (current, binavne, former), for matching only: its
    # record is compared under the current name, a duplicate without CVR may carry an old one.
    names = pl.concat_list(pl.concat_list("_name_key"), "_binavn_keys", "_former_keys")
    frame = frame.with_columns(
        **{REGISTRY_NAME_KEYS: pl.when("_found").then(names.list.drop_nulls().list.unique())}
    )
    form = pl.col("_form_code")
    public = pl.col("_found") & form.is_in(PUBLIC_FORM_CODES).fill_null(False)
    commercial = pl.col("_found") & form.is_in(COMMERCIAL_FORM_CODES).fill_null(False)
    customer_type = (
        pl.col("customer_type") if "customer_type" in records.columns else pl.lit(None, pl.String)
    )
    frame = frame.with_columns(
        registry_status=pl.when("_found").then(pl.col("_status")),
        registry_name=pl.when("_found").then(pl.col("_name")),
        reklamebeskyttet=pl.when("_found").then(pl.col("_reklame")),
        customer_type=pl.when(public)
        .then(pl.lit("public"))
        .when(commercial & (customer_type == "public"))
        .then(pl.lit("company"))
        .otherwise(customer_type),
    )
    helpers = [
        c
        for c in frame.columns
        if c.startswith("_") and c not in columns and c != REGISTRY_NAME_KEYS
    ]
    return frame.sort("_row").drop(helpers)


def _prepared_registry(registry: pl.DataFrame) -> pl.DataFrame:
    """The registry frame with keys for comparison, one row per CVR, columns prefixed ``_``."""
    missing = [c for c in _REGISTRY_COLUMNS if c not in registry.columns]
    if missing:
        raise ValueError(f"the registry frame lacks {missing}")
    keys = pl.element()
    companies = registry.select(_REGISTRY_COLUMNS).unique("cvr", keep="first", maintain_order=True)
    # Companies share streets (at 1M records: 528,817 companies on 10,147 streets): each street's
    # key is made once.
    street_keys = per_distinct(companies["registry_street"], {"key": street_key})["key"]
    return companies.select(
        _cvr=pl.col("cvr"),
        _found=pl.col("found"),
        _failed=pl.col("lookup_failed"),
        _status=pl.col("registry_status"),
        _class=pl.col("registry_status_class"),
        _name=pl.col("registry_name"),
        _name_key=name_key(pl.col("registry_name")),
        _binavn_keys=pl.col("registry_binavne").list.eval(name_key(keys).drop_nulls()),
        _former_keys=pl.col("registry_former_names").list.eval(name_key(keys).drop_nulls()),
        _street=pl.col("registry_street"),
        _street_key=street_keys,
        _house_number=pl.col("registry_house_number").str.to_uppercase(),
        _floor=pl.col("registry_floor"),
        _door=pl.col("registry_door"),
        _postal_code=pl.col("registry_postal_code"),
        _city=pl.col("registry_city"),
        _form_code=pl.col("registry_form_code"),
        _reklame=pl.col("reklamebeskyttet"),
    )


def name_similarity(left: list[str], right: list[str]) -> list[float]:
    """Pairwise similarity (0-100) of name keys: the better of ratio and token-sort ratio.

    >>> scores = name_similarity(["hansen byg", "hansen byg"], ["hansen bgy", "byg hansen"])
    >>> [round(score) for score in scores]
    [90, 100]
    """
    if not left:
        return []
    plain = cpdist(left, right, scorer=fuzz.ratio, dtype="float32")
    sorted_ = cpdist(left, right, scorer=fuzz.token_sort_ratio, dtype="float32")
    return [float(max(a, b)) for a, b in zip(plain.tolist(), sorted_.tolist(), strict=True)]


def _name_checks(frame: pl.DataFrame) -> pl.DataFrame:
    """NAME_MISMATCH and registry_proposed_name, from the best match among the registry's names."""
    record_key = pl.col("name_key")
    exact = (record_key == pl.col("_name_key")) | pl.col("_binavn_keys").list.contains(record_key)
    comparable = pl.col("_found") & record_key.is_not_null() & pl.col("_name_key").is_not_null()
    frame = frame.with_columns(_exact=(comparable & exact.fill_null(False)))
    scores = _candidate_scores(frame.filter(comparable & ~pl.col("_exact")))
    frame = frame.join(scores, on="_row", how="left")
    frame = frame.join(_owner_left_out(frame.filter(comparable & ~pl.col("_exact"))), on="_row",
                       how="left")  # fmt: skip
    frame = frame.join(_registered_name_within(frame.filter(comparable & ~pl.col("_exact"))),
                       on="_row", how="left")  # fmt: skip
    current = pl.col("_current_score").fill_null(0.0)
    former = pl.col("_former_score").fill_null(0.0)
    matches = (
        pl.col("_exact")
        | (current >= NAME_MATCH_SCORE)
        | pl.col("_owner_left_out").fill_null(False)
        | pl.col("_registered_within").fill_null(False)
    )
    mismatch = comparable & ~matches
    # A close variant of the current name (typo) or the former name: propose the legal name.
    # Not for a name unrelated to every registry name: the CVR may be what is wrong. Nor for
    # the owner after ``v/`` on one side only (``Malerfirma Holm`` / ``Malerfirma Holm v/Per
    # Holm``): the same name, so no rename for the report and nothing for the CRM to rewrite.
    propose = (
        comparable
        & ~pl.col("_exact")
        & ~pl.col("_owner_left_out").fill_null(False)
        & (
            (pl.col("_best_is_main") & (current >= NAME_VARIANT_SCORE))
            | ((former >= NAME_MATCH_SCORE) & (former > current))
        )
    )
    frame = frame.with_columns(
        **{flag("NAME_MISMATCH"): mismatch.fill_null(False)},
        _propose_name=(propose | _other_legal_form(frame)).fill_null(False),
    )
    # ERST writes most names in capitals with a mixed-case form (``NORDISK VÆRKTØJ ApS``);
    # written all in capitals, the name module gives it the display casing of a typed name.
    name = pl.col("_name")
    shouting = name.str.count_matches(r"\p{Lu}") >= 0.75 * name.str.count_matches(r"\p{L}")
    display = pl.when(shouting).then(name.str.to_uppercase()).otherwise(name)
    proposed = normalise_names(frame.select(raw_name=pl.when("_propose_name").then(display)))[
        "name"
    ]
    return frame.with_columns(registry_proposed_name=proposed)


def _other_legal_form(frame: pl.DataFrame) -> pl.Series:
    """Per row: the record's name is the registry's but for its legal form (``Hansen Holding
    A/S`` / ERST's ``Hansen Holding ApS``). The matching key leaves the form out, so that is no
    NAME_MISMATCH; but an invoice must name the form the company has, so the registry's name
    is proposed."""
    if "legal_form" not in frame.columns:
        return pl.repeat(False, frame.height, eager=True)
    registered = legal_form_of(pl.col("_name"))
    other = pl.col("_exact") & registered.is_not_null() & (registered != pl.col("legal_form"))
    return frame.select(other.fill_null(False)).to_series()


def _owner_left_out(rows: pl.DataFrame) -> pl.DataFrame:
    """Per record row: its name is the registry's with the owner after ``v/`` written on one side
    only: ``Malerfirma Holm`` / ERST's ``Malerfirma Holm v/Per Holm``, ``Malerfirma Berg v/ Ole
    Berg`` / ``Malerfirma Berg``. The same business, no mismatch; two owners are not left out."""
    if "name" not in rows.columns:
        return pl.DataFrame(schema={"_row": pl.UInt32, "_owner_left_out": pl.Boolean})
    owned, registry_owned = (pl.col(c).str.contains(OWNER_TAIL) for c in ("name", "_name"))
    rows = rows.filter((owned ^ registry_owned).fill_null(False))
    plain, registry_plain = (
        name_key(pl.col(c).str.replace(OWNER_TAIL, "")) for c in ("name", "_name")
    )
    return rows.select("_row", _owner_left_out=(plain == registry_plain).fill_null(False))


# Where a department, an addressee or a remark is set apart from the name it stands beside.
_NAME_SEGMENTS: Final = r"\s*(?:[,;:()\[\]]|\s[-–—]\s)\s*"


def _registered_name_within(rows: pl.DataFrame) -> pl.DataFrame:
    """Per record row: its name is a registered name (the name or a binavn) with a department,
    an addressee or a remark beside it — set apart by punctuation (``Hansen Byg ApS -
    Bogholderiet``, ``Bogholderiet, Hansen Byg ApS``, ``Hansen Byg ApS (Regnskab)``) or after
    the legal form that ends the legal name (``Hansen Byg ApS Kreditorafdelingen``). The invoice
    names the entity the CVR number is; no mismatch. ``Jens Hansen Byg ApS`` is another name."""
    schema = {"_row": pl.UInt32, "_registered_within": pl.Boolean}
    if "name" not in rows.columns or rows.is_empty():
        return pl.DataFrame(schema=schema)
    parts = rows.select(
        "_row",
        "_name_key",
        "_binavn_keys",
        _legal_text=pl.when(legal_form_of(pl.col("_name")).is_not_null()).then(
            text_key(pl.col("_name"))
        ),
        _part=pl.col("name").str.replace_all(_NAME_SEGMENTS, "\x1f").str.split("\x1f"),
    ).explode("_part")
    part_key = name_key(pl.col("_part"))
    set_apart = (part_key == pl.col("_name_key")) | pl.col("_binavn_keys").list.contains(part_key)
    after_form = text_key(pl.col("_part")).str.starts_with(pl.col("_legal_text") + " ")
    return (
        parts.group_by("_row")
        .agg(
            _registered_within=((pl.len() > 1) & set_apart.fill_null(False).any())
            | after_form.fill_null(False).any()
        )
        .cast(schema)  # type: ignore[arg-type]
    )


def _candidate_scores(rows: pl.DataFrame) -> pl.DataFrame:
    """Per record row: best similarity to a current name/binavn, to a former name, and whether
    the best current match is the main name (not a binavn)."""
    schema = {
        "_row": pl.UInt32(),
        "_current_score": pl.Float64(),
        "_former_score": pl.Float64(),
        "_best_is_main": pl.Boolean(),
    }
    if rows.is_empty():
        return pl.DataFrame(schema=schema)
    pairs = pl.concat(
        [
            rows.select("_row", "name_key", _candidate=pl.col("_name_key"), _kind=pl.lit("main")),
            rows.select(
                "_row", "name_key", _candidate=pl.col("_binavn_keys"), _kind=pl.lit("binavn")
            ).explode("_candidate"),
            rows.select(
                "_row", "name_key", _candidate=pl.col("_former_keys"), _kind=pl.lit("former")
            ).explode("_candidate"),
        ]
    ).drop_nulls("_candidate")
    pairs = pairs.with_columns(
        _score=pl.Series(
            name_similarity(pairs["name_key"].to_list(), pairs["_candidate"].to_list()),
            dtype=pl.Float64,
        )
    )
    best = pairs.group_by("_row").agg(
        _current_score=pl.col("_score").filter(pl.col("_kind") != "former").max(),
        _main_score=pl.col("_score").filter(pl.col("_kind") == "main").max(),
        _former_score=pl.col("_score").filter(pl.col("_kind") == "former").max(),
    )
    return best.select(
        "_row",
        "_current_score",
        "_former_score",
        _best_is_main=(pl.col("_main_score") >= pl.col("_current_score")).fill_null(False),
    ).cast(schema)  # type: ignore[arg-type]


def _address_checks(frame: pl.DataFrame) -> pl.DataFrame:
    """ADDRESS_MISMATCH against the registry's current address, and the proposed address."""
    record_street = pl.col("street_key")
    registry_street = pl.col("_street_key")
    # Only a complete address (street and postal code) can differ; an incomplete one is
    # MISSING_ADDRESS's business, and gets the registry's address proposed below.
    comparable = (
        pl.col("_found")
        & registry_street.is_not_null()
        & record_street.is_not_null()
        & pl.col("postal_code").is_not_null()
    )
    rows = frame.filter(comparable & (record_street != registry_street)).with_columns(
        _record_text=text_key(pl.col("street")), _registry_text=text_key(pl.col("_street"))
    )
    similar = rows.select(
        "_row",
        # The key writes direction words short (Vestre → v), so a typo in one (Vsetre) is
        # also compared on the street as written.
        _street_score=pl.max_horizontal(
            pl.Series(name_similarity(rows["street_key"].to_list(), rows["_street_key"].to_list())),
            pl.Series(
                name_similarity(rows["_record_text"].to_list(), rows["_registry_text"].to_list())
            ),
        ).cast(pl.Float64),
    )
    frame = frame.join(similar, on="_row", how="left")
    # Vestegade or Vestergaade is Vestergade mistyped, but Østergade is another street: Danish
    # street names share their endings, so a typo must leave the first letter alone.
    same_street = (record_street == registry_street) | (
        (pl.col("_street_score") >= STREET_MATCH_SCORE)
        & (record_street.str.head(1) == registry_street.str.head(1))
    )
    # A range (12-14) is at the registry's husnummerFra (12).
    record_number = pl.col("house_number").str.to_uppercase().str.replace(r"-.*$", "")
    same_number = (record_number == pl.col("_house_number")) | (
        pl.col("house_number").is_null() | pl.col("_house_number").is_null()
    )
    same_postal = (pl.col("postal_code") == pl.col("_postal_code")) | pl.col(
        "postal_code"
    ).is_null()
    mismatch = comparable & ~(same_street.fill_null(False) & same_number & same_postal)
    # Propose the registry's address where the record's differs or is incomplete; a record
    # addressed to a PO box keeps it.
    incomplete = pl.col("street").is_null() | pl.col("postal_code").is_null()
    if "po_box" in frame.columns:
        incomplete = incomplete & pl.col("po_box").is_null()
    propose = pl.col("_found") & registry_street.is_not_null() & (mismatch | incomplete)
    # The same address with the street spelt otherwise (Lelgravsgade, Ryesvaenget): the registry's
    # spelling is proposed, the rest of the record's address kept. Left alone, the typo would
    # be the "confirmed" address of a cluster in the next run and could take the survivor.
    misspelt = comparable & ~mismatch & (pl.col("street") != pl.col("_street")) & ~propose
    # The three conditions are columns first: written into each of the six proposed fields, the
    # street comparison and the house number's regex ran thirteen times per record.
    frame = frame.with_columns(
        _mismatch=mismatch, _propose=propose.fill_null(False), _misspelt=misspelt.fill_null(False)
    )
    return frame.with_columns(
        **{flag("ADDRESS_MISMATCH"): pl.col("_mismatch").fill_null(False)},
        **{
            f"registry_proposed_{field}": pl.when("_propose")
            .then(pl.col(f"_{field}"))
            .when("_misspelt")
            .then(pl.col("_street") if field == "street" else pl.col(field).cast(pl.String))
            for field in PROPOSED_FIELDS
        },
    )
