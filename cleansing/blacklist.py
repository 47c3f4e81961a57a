"""The blacklist: customers the business will not invoice or chase, and which records are them.

A blacklist is a table with any of the columns ``cvr``, ``phone``, ``email``, ``name``,
``address`` and ``reason`` (header case and surrounding spaces do not matter). Its values are
cleaned by the same field modules as the customer records — :mod:`datavask.cleansing.identifiers`,
:mod:`datavask.cleansing.phones`, :mod:`datavask.cleansing.emails`, :mod:`datavask.cleansing.names`,
:mod:`cleansing.addresses` — so ``DK 1234 5674`` on the blacklist finds ``12345674`` in the CRM.

:func:`normalise_blacklist` returns the usable entries and, separately, every problem with an
entry (an invalid CVR number, a phone value that is no number, an empty row, a name with no
address): bad entries are reported, never silently dropped, and an entry keeps its usable parts.

:func:`match_blacklist` finds the records that match an entry:

- ``cvr``: the record's CVR number equals the entry's;
- ``phone``: any of the record's numbers equals any of the entry's (E.164);
- ``email``: any of the record's addresses equals any of the entry's;
- ``name_address``: same postal code and house number, street keys at least
  :data:`STREET_THRESHOLD` similar and name keys at least :data:`NAME_THRESHOLD` similar
  (rapidfuzz ``token_sort_ratio``) — ``Hansen Byg ApS, Vestergade 12, 8000`` matches
  ``Hansen Byg, Vesterg. 12, 8000 Aarhus C``; ``Hansen Byg ApS, Vestergade 14, 8000`` does not.

A name alone is too weak to blacklist anyone on (many Jens Hansens), so such entries are
reported as problems. Each matched record appears once, with its strongest rule.
"""

from __future__ import annotations

from typing import Final

import polars as pl
from rapidfuzz import fuzz, process

from datavask.cleansing.addresses import normalise_addresses, street_key
from datavask.cleansing.emails import normalise_emails
from datavask.cleansing.identifiers import normalise_identifiers
from datavask.cleansing.names import name_key
from datavask.cleansing.phones import normalise_phones
from datavask.cleansing.schema import flag, raw, stage_text

BLACKLIST_COLUMNS: Final = ("cvr", "phone", "email", "name", "address", "reason")
RULES: Final = ("cvr", "phone", "email", "name_address")
NAME_THRESHOLD: Final = 90.0
STREET_THRESHOLD: Final = 90.0

_HIT_SCHEMA: Final = pl.Schema(
    {
        "record_id": pl.String,
        "blacklist_reason": pl.String,
        "match_rule": pl.String,
    }
)
_PROBLEM_SCHEMA: Final = pl.Schema(
    {
        "row": pl.Int64,
        "column": pl.String,
        "value": pl.String,
        "problem": pl.String,
    }
)


def _text(frame: pl.DataFrame, column: str, stage: str = "blacklist") -> pl.Expr:
    """A column the blacklist stages declare (:data:`~datavask.cleansing.schema.STAGES`):
    trimmed, blanks as null."""
    return stage_text(frame, stage, column, blank_as_null=True)


def normalise_blacklist(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Clean a blacklist table; return ``(entries, problems)``.

    ``entries``: ``row`` (1-based), ``reason``, ``cvr``, ``phones`` (list, E.164), ``emails``
    (list), ``name``, ``name_key``, ``street_key``, ``house_number``, ``postal_code`` — one row per
    entry with at least one usable key. ``problems``: ``row``, ``column``, ``value``, ``problem``.
    """
    headers = {c.strip().lower(): c for c in df.columns}
    unknown = sorted(set(headers) - set(BLACKLIST_COLUMNS))
    named = df.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("row"),
        *[pl.col(headers[c]).alias(raw(c)) for c in BLACKLIST_COLUMNS if c in headers],
    )
    table = named.select(
        "row", *[_text(named, raw(c), "blacklist_file").alias(raw(c)) for c in BLACKLIST_COLUMNS]
    )
    cleaned = normalise_addresses(normalise_emails(normalise_phones(normalise_identifiers(table))))
    cleaned = cleaned.with_columns(name_key(pl.col(raw("name"))).alias("name_key"))

    has_address = pl.col("street_key").is_not_null() & pl.col("postal_code").is_not_null()
    has_name_address = pl.col("name_key").is_not_null() & has_address
    any_key = (
        pl.col("cvr").is_not_null()
        | (pl.col("phone_numbers").list.len() > 0)
        | (pl.col("emails").list.len() > 0)
        | has_name_address
    )
    problems = [
        ("cvr", pl.col(flag("INVALID_CVR")), "not a valid CVR number (8 digits, modulus 11)"),
        ("phone", pl.col(flag("INVALID_PHONE")), "not a valid phone number"),
        ("email", pl.col(flag("INVALID_EMAIL")), "not a valid e-mail address"),
        (
            "address",
            pl.col(raw("address")).is_not_null() & ~has_address,
            "address without a street and a postal code: cannot be matched",
        ),
        (
            "name",
            pl.col("name_key").is_not_null() & ~has_address,
            "a name without an address is too weak to match on; add address, CVR, phone or e-mail",
        ),
        (
            "address",
            pl.col("name_key").is_null() & has_address,
            "an address without a name is too weak to match on (shared offices); add the name",
        ),
    ]
    reported = [
        cleaned.filter(condition.fill_null(False)).select(
            "row",
            pl.lit(column).alias("column"),
            pl.col(raw(column)).alias("value"),
            pl.lit(problem).alias("problem"),
        )
        for column, condition, problem in problems
    ]
    everything_empty = pl.all_horizontal(
        [pl.col(raw(c)).is_null() for c in BLACKLIST_COLUMNS if c != "reason"]
    )
    reported.append(
        cleaned.filter(everything_empty).select(
            "row",
            pl.lit(None, dtype=pl.String).alias("column"),
            pl.lit(None, dtype=pl.String).alias("value"),
            pl.lit("empty entry: no cvr, phone, email, name or address").alias("problem"),
        )
    )
    reported.extend(
        pl.DataFrame(
            {
                "row": [None],
                "column": [header],
                "value": [None],
                "problem": ["unknown column, ignored"],
            },
            schema=_PROBLEM_SCHEMA,
        )
        for header in unknown
    )
    problems_df = pl.concat([p.cast(_PROBLEM_SCHEMA) for p in reported], how="vertical").sort(
        "row", "column", nulls_last=True
    )

    entries = cleaned.filter(any_key).select(
        "row",
        pl.col(raw("reason")).alias("reason"),
        "cvr",
        pl.col("phone_numbers").alias("phones"),
        "emails",
        pl.col(raw("name")).alias("name"),
        "name_key",
        pl.when(has_name_address).then(pl.col("street_key")).alias("street_key"),
        pl.when(has_name_address).then(pl.col("house_number")).alias("house_number"),
        pl.when(has_name_address).then(pl.col("postal_code")).alias("postal_code"),
    )
    return entries, problems_df


def match_blacklist(records: pl.DataFrame, blacklist: pl.DataFrame) -> pl.DataFrame:
    """The records the normalised blacklist matches: ``record_id, blacklist_reason, match_rule``.

    Reads ``record_id``, ``cvr``, ``phone_e164``/``phone_numbers``, ``email``/``emails``, ``name``,
    ``street``, ``house_number`` and ``postal_code`` where present.
    """
    if blacklist.height == 0 or records.height == 0:
        return pl.DataFrame(schema=_HIT_SCHEMA)
    ids = pl.col("record_id").cast(pl.String)
    hits = [
        _exact(
            records.select(ids, _text(records, "cvr").alias("key")),
            blacklist.select("reason", pl.col("cvr").alias("key")),
            "cvr",
        ),
        _exact(
            _exploded(records, "phone_e164", "phone_numbers"),
            blacklist.select("reason", pl.col("phones").alias("key")).explode("key"),
            "phone",
        ),
        _exact(
            _exploded(records, "email", "emails"),
            blacklist.select("reason", pl.col("emails").alias("key")).explode("key"),
            "email",
        ),
        _name_address(records, blacklist),
    ]
    rank = {rule: i for i, rule in enumerate(RULES)}
    return (
        pl.concat([h.cast(_HIT_SCHEMA) for h in hits], how="vertical")
        .with_columns(
            pl.col("match_rule").replace_strict(rank, return_dtype=pl.Int32).alias("_rank")
        )
        .sort("_rank", maintain_order=True)
        .unique("record_id", keep="first", maintain_order=True)
        .sort(pl.col("record_id").cast(pl.String))
        .select(list(_HIT_SCHEMA))
    )


def _exploded(records: pl.DataFrame, single: str, many: str) -> pl.DataFrame:
    """``record_id, key``: every value of a record's single and list column, one per row."""
    parts: list[pl.Expr] = []
    if single in records.columns:
        parts.append(pl.concat_list(_text(records, single)))
    if many in records.columns:
        parts.append(pl.col(many).cast(pl.List(pl.String)).fill_null([]))
    if not parts:
        return pl.DataFrame(schema={"record_id": pl.String, "key": pl.String})
    return records.select(
        pl.col("record_id").cast(pl.String), pl.concat_list(parts).alias("key")
    ).explode("key")


def _exact(keys: pl.DataFrame, entries: pl.DataFrame, rule: str) -> pl.DataFrame:
    keys = keys.filter(pl.col("key").is_not_null()).unique()
    entries = entries.filter(pl.col("key").is_not_null()).unique(
        "key", keep="first", maintain_order=True
    )
    return keys.join(entries, on="key").select(
        "record_id", pl.col("reason").alias("blacklist_reason"), pl.lit(rule).alias("match_rule")
    )


def _name_address(records: pl.DataFrame, blacklist: pl.DataFrame) -> pl.DataFrame:
    """Fuzzy name and street within the same postal code and house number, scored pairwise."""
    needed = ("name", "street", "postal_code")
    if any(c not in records.columns for c in needed):
        return pl.DataFrame(schema=_HIT_SCHEMA)
    candidates = records.select(
        pl.col("record_id").cast(pl.String),
        name_key(pl.col("name").cast(pl.String)).alias("name_key"),
        # The key normalise_addresses made, so both sides are keyed by the same code path.
        (
            pl.col("street_key").cast(pl.String)
            if "street_key" in records.columns
            else street_key(pl.col("street").cast(pl.String))
        ).alias("street_key"),
        _text(records, "house_number").str.to_lowercase().alias("house_number"),
        _text(records, "postal_code").alias("postal_code"),
    ).drop_nulls(["name_key", "street_key", "postal_code"])
    entries = blacklist.filter(pl.col("street_key").is_not_null()).select(
        "reason",
        pl.col("name_key").alias("entry_name"),
        pl.col("street_key").alias("entry_street"),
        pl.col("house_number").str.to_lowercase().alias("entry_number"),
        "postal_code",
    )
    pairs = candidates.join(entries, on="postal_code").filter(
        pl.col("house_number").eq_missing(pl.col("entry_number"))
    )
    if pairs.height == 0:
        return pl.DataFrame(schema=_HIT_SCHEMA)
    name_scores = process.cpdist(
        pairs["name_key"].to_list(), pairs["entry_name"].to_list(), scorer=fuzz.token_sort_ratio
    )
    street_scores = process.cpdist(
        pairs["street_key"].to_list(), pairs["entry_street"].to_list(), scorer=fuzz.ratio
    )
    return (
        pairs.with_columns(
            pl.Series("name_score", name_scores, dtype=pl.Float64),
            pl.Series("street_score", street_scores, dtype=pl.Float64),
        )
        .filter(
            (pl.col("name_score") >= NAME_THRESHOLD) & (pl.col("street_score") >= STREET_THRESHOLD)
        )
        .select(
            "record_id",
            pl.col("reason").alias("blacklist_reason"),
            pl.lit("name_address").alias("match_rule"),
        )
    )
