"""Bring a normalised record frame into the shape the matcher works on.

In: the normalised record frame (any of :data:`INPUT_COLUMNS` may be missing or null).
Out: the same rows in the same order with only the input columns (all present), plus

- ``_idx`` (UInt32, 0-based row position) — pairs refer to records by it,
- ``_row`` (Int64) — ``source_row``, or the 1-based position where it is missing (cluster ids),
- ``_person`` (bool) — the record names a person (``customer_type == "person"``, or it has
  person name parts and no organisation name),
- ``_org`` — the name key with legal-form tokens removed (``"hansen byg aps"`` → ``"hansen
  byg"``); for persons too, so a person record and a company record of one customer can still
  compare their names,
- ``_org_names`` (list[str]) — the same for every name the registry knows for the record's CVR
  (current, secondary and former: ``_registry_name_keys``) when it knows more than one, else null,
- ``_phones`` / ``_emails`` (list[str]) — every distinct phone number / e-mail address (phones
  that are no valid number as ``#`` + their digits, see :func:`_phones`),
- ``_domain`` — the company e-mail domain (null for free-mail domains such as ``gmail.com``),
- ``_unit`` — floor and door together (``"2 tv"``), null when both are missing;
- ``_address`` — street, house number and postal code (``"vestergade|12|8000"``), null without a
  street or postal code;
- ``_address_text`` — the address line as written, folded, punctuation dropped (``"4910 s king
  drive"``), or house number and street; the address evidence of a record whose address did not
  parse into street and number (``4910 S Dr. Martin Luther``, an address abroad);
- ``contact_key``, ``_contact_first``, ``_contact_last`` — the contact person of an organisation's
  record, as the input's own first and last name columns give it beside the organisation's name
  (a contact export: ``First Name``, ``Last Name``, ``Company Name``), as name keys: whole, first
  name, last name; null for persons, where the name column is empty (a person register whose
  surname reads as a business word, ``Bishop``, has no contact person: it is the name), and
  where the name holds both the first and the last name (it is theirs, not a company's);
- ``_locals`` (list[str]) — the personal local parts of the e-mail addresses (``jens.hansen`` of
  ``jens.hansen@gmail.com``; role mailboxes such as ``info`` left out);
- ``_identical`` (UInt64) — a hash of every input column but the record's id, place and edit
  time (:func:`~.blocking.identical_key`): equal for copies of one record.

Extra evidence a mapping names (``[compare]``, e.g. a birth place or an occupation) arrives as
``evidence_<field>`` columns (:func:`evidence_frame`) and is kept as it is.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from datavask.cleansing.addresses import typed_district
from datavask.cleansing.emails import free_mail_domains, placeholder_email
from datavask.cleansing.identifiers import legal_entity_number
from datavask.cleansing.matching.blocking import IDENTICAL, identical_key
from datavask.cleansing.names import GENERATION, name_key, text_key
from datavask.cleansing.phones import FAX_LABEL, PHONE_LABEL

INPUT_COLUMNS: Final[dict[str, pl.DataType]] = {
    "record_id": pl.String(),
    "source_row": pl.Int64(),
    "source": pl.String(),
    "customer_type": pl.String(),
    "name": pl.String(),
    "name_key": pl.String(),
    "legal_form": pl.String(),
    "first_name_key": pl.String(),
    "last_name_key": pl.String(),
    "street_key": pl.String(),
    "house_number": pl.String(),
    "floor": pl.String(),
    "door": pl.String(),
    "postal_code": pl.String(),
    "city": pl.String(),
    "country": pl.String(),
    "address_key": pl.String(),
    "address_line2": pl.String(),
    "phone_e164": pl.String(),
    "phone_numbers": pl.List(pl.String()),
    "email": pl.String(),
    "emails": pl.List(pl.String()),
    "email_domain": pl.String(),
    "cvr": pl.String(),
    "vat_number": pl.String(),
    "ean": pl.String(),
    "national_id": pl.String(),
    "raw_address": pl.String(),
    "raw_city": pl.String(),
    "raw_phone": pl.String(),
    "raw_mobile": pl.String(),
    "raw_name": pl.String(),
    "raw_first_name": pl.String(),
    "raw_last_name": pl.String(),
    "_person_key": pl.String(),
    "_registry_name_keys": pl.List(pl.String()),
    "date_of_birth": pl.String(),
    "updated_at": pl.String(),
}
"""Columns the matcher reads (:data:`CONTACT_INPUTS` only for the contact person's keys).
``source`` (link mode), ``address_line2`` and ``national_id`` are
optional extras for linking person registers such as FEBRL; a Danish customer file has none."""

CONTACT_INPUTS: Final = ("raw_name", "raw_first_name", "raw_last_name")
"""What the contact person's keys are made of; not kept in the prepared frame."""

# Legal-form words as they appear in a lower-cased name key; removed so that
# "Hansen Byg ApS" and "Hansen Byg" compare as equal names.
LEGAL_FORM_TOKENS: Final = (
    "aps",
    "a/s",
    "as",
    "i/s",
    "k/s",
    "p/s",
    "ivs",
    "enk",
    "amba",
    "a.m.b.a.",
    "smba",
    "s.m.b.a.",
    "fmba",
    "f.m.b.a.",
    "a.s.",
    "aps.",
    "v/",
    "og",
    "&",
)


# Role mailboxes (RFC 2142 and their Danish equivalents): ``info@a.dk`` and ``info@b.dk`` share
# a local part and nothing else.
ROLE_MAILBOXES: Final = frozenset(
    {
        "info", "kontakt", "contact", "mail", "post", "postmaster", "salg", "sales", "faktura",
        "fakturering", "invoice", "invoices", "bogholderi", "regnskab", "accounting", "admin",
        "office", "kontor", "support", "service", "kundeservice", "ordre", "order", "orders",
        "booking", "hello", "hej", "noreply", "no-reply", "webmaster", "indkoeb", "indkob",
        "kreditor", "debitor", "okonomi", "oekonomi", "administration", "reception", "firma",
    }
)  # fmt: skip


def address_key() -> pl.Expr:
    """``street|house number|postal code``: one building; null without a street, and without a
    postal code unless the house number is known (``"main road|2|"``, an address abroad written
    without its code)."""
    number_known = pl.when(pl.col("house_number").is_not_null()).then(pl.lit(""))
    return pl.concat_str(
        pl.col("street_key"),
        pl.col("house_number").fill_null(""),
        pl.col("postal_code").fill_null(number_known),
        separator="|",
    )


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    text = expr.str.strip_chars()
    return pl.when(text.str.len_chars() > 0).then(text).otherwise(None)


def _org_name(key: pl.Expr | None = None) -> pl.Expr:
    # Whole tokens only: pad with spaces and remove " aps " etc. Two passes, because adjacent
    # tokens share their space ("a/s aps" -> " aps " is only found once " a/s " is gone).
    key = pl.col("name_key") if key is None else key
    padded = pl.lit(" ") + key.str.to_lowercase().str.replace_all(r"\s+", " ")
    padded = padded + pl.lit(" ")
    patterns = [f" {token} " for token in LEGAL_FORM_TOKENS]
    spaces = [" "] * len(patterns)
    kept = padded.str.replace_many(patterns, spaces).str.replace_many(patterns, spaces)
    return _blank_to_null(kept.str.replace_all(" {2,}", " "))


def org_name_key(name: pl.Expr) -> pl.Expr:
    """The ``_org`` of a name as written, its words in alphabetical order: what two records
    compare by when the question is whether they still name one customer, whatever the order,
    casing, spelling or legal form (``Kjærs Murer ApS``, ``KJAERS MURER`` → ``kjaers murer``;
    ``Skov, Mette`` and ``Mette Skov`` → ``mette skov``); null for a blank name."""
    key = _org_name(name_key(name))
    return key.str.split(" ").list.sort().list.join(" ")


def _distinct_values(list_col: str, single_col: str) -> pl.Expr:
    listed = pl.col(list_col).fill_null(pl.lit([], dtype=pl.List(pl.String())))
    single = pl.concat_list(pl.col(single_col))
    merged = pl.concat_list(listed, single).list.eval(
        pl.element().filter(pl.element().is_not_null() & (pl.element().str.len_chars() > 0))
    )
    return merged.list.unique(maintain_order=True)


def _phones() -> pl.Expr:
    """Every valid number of the record; without one, the digits as typed (``#3865286``).

    A number that cannot be made valid without knowing its country (a US number without its area
    code, a foreign number without its prefix) is still the same string on two records of one
    customer. The ``#`` keeps such keys apart from E.164 numbers. A placeholder of one repeated
    digit (``00000000``) is no phone: the record has none to compare.
    """
    return pl.when(_valid_phones().list.len() > 0).then(_valid_phones()).otherwise(_typed_phones())


def _valid_phones() -> pl.Expr:
    """Every valid number of the record (:func:`_phones`) but placeholders: ``99999999`` is a
    valid Danish number, and typed on every record whose phone nobody knew it says nothing."""
    return _distinct_values("phone_numbers", "phone_e164").list.eval(
        pl.element().filter(~_placeholder_number(pl.element()))
    )


# The last eight digits of a number typed because a phone was required and none was known: one
# digit repeated, or a run up or down the keypad.
_PLACEHOLDER_DIGITS: Final = sorted(
    {digit * 8 for digit in "0123456789"}
    | {"12345678", "23456789", "01234567", "87654321", "98765432", "76543210"}
)


def _placeholder_number(number: pl.Expr) -> pl.Expr:
    """Whether a number's digits (E.164 or as typed) end in a placeholder's eight, or are all one
    repeated digit (``0000000``)."""
    digits = number.str.replace_all(r"\D", "")
    return digits.str.slice(-8).is_in(_PLACEHOLDER_DIGITS) | digits.str.contains(
        r"^(?:0+|1+|2+|3+|4+|5+|6+|7+|8+|9+)$"
    )


def _typed_phones() -> pl.Expr:
    """The digits as typed, ``#`` first, placeholders and fax numbers left out (:func:`_phones`).

    A cell labelled as a fax's and not as a phone's (``Fax: 86 12 12 13``) holds no phone: two
    records sharing a fax machine are no more one customer than two sharing a switchboard.
    """
    typed = [
        pl.when(~(pl.col(c).str.contains(FAX_LABEL) & ~pl.col(c).str.contains(PHONE_LABEL))).then(
            pl.lit("#") + pl.col(c).str.replace_all(r"\D", "").str.slice(-10)
        )
        for c in ("raw_phone", "raw_mobile")
    ]
    # A placeholder (00000000, 12345678) is no number at all: missing, not evidence against.
    typed_list = pl.concat_list(typed).list.eval(
        pl.element().filter(
            (pl.element().str.len_chars() >= 7) & ~_placeholder_number(pl.element())
        )
    )
    return typed_list.list.unique(maintain_order=True)


def _only_where(records: pl.DataFrame, where: pl.Expr, expr: pl.Expr) -> pl.Series:
    """``pl.when(where).then(expr)`` over ``records``, ``expr`` evaluated only for the records
    ``where`` holds for: a list made and filtered per record costs as much for a record that
    then drops it as for one that keeps it."""
    keep = records.select(where.fill_null(False)).to_series()
    some = records.lazy().filter(keep).select(expr).collect().to_series()
    at = pl.select(pl.when(keep).then(keep.cast(pl.UInt32).cum_sum() - 1)).to_series()
    return some.gather(at)


def _contact_keys() -> dict[str, pl.Expr]:
    """The name keys of the person the input's first and last name columns give: whole, first
    name, last name (null without)."""
    first, last = text_key(pl.col("raw_first_name")), text_key(pl.col("raw_last_name"))
    whole = pl.concat_str(first, last, separator=" ", ignore_nulls=True)
    return {"contact_key": _blank_to_null(whole), "_contact_first": first, "_contact_last": last}


def _names_someone_else() -> pl.Expr:
    """Whether the record's name is not its first and last name's own: ``Bygma A/S`` or
    ``Hansen VVS ApS`` beside Jens Hansen, not ``Thomas Clifford, 1st Baron Clifford of
    Chudleigh`` beside Thomas and Chudleigh (a register's full name column, read as a business)."""
    name_words = text_key(pl.col("raw_name")).str.split(" ")
    keys = _contact_keys()

    def held(part: str) -> pl.Expr:
        words = keys[part].str.split(" ")
        return words.list.set_difference(name_words).list.len().fill_null(0) == 0

    own = held("_contact_first") & held("_contact_last")
    return pl.col("raw_name").is_not_null() & ~own.fill_null(False)


def contact_keys_of(records: pl.DataFrame, is_person: pl.Expr) -> list[pl.Series]:
    """The contact person's keys (:func:`_contact_keys`) of the organisations' records beside
    someone else's name, worked out for those alone: most files have no such record, and the
    keys of a million names are a second of text folding."""
    parts = pl.col("raw_first_name").is_not_null() | pl.col("raw_last_name").is_not_null()
    maybe = parts & ~is_person.fill_null(False) & pl.col("raw_name").is_not_null()
    keys = {name: pl.when(_names_someone_else()).then(key) for name, key in _contact_keys().items()}
    return [_only_where(records, maybe, key).alias(name) for name, key in keys.items()]


def phones_of(records: pl.DataFrame) -> pl.Series:
    """:func:`_phones` of ``records``, the typed digits worked out only for the records without a
    valid number."""
    valid = records.select(_valid_phones()).to_series()
    has_valid = (valid.list.len() > 0).fill_null(False)
    typed = _only_where(records, pl.lit(has_valid).not_(), _typed_phones())
    return pl.select(pl.when(has_valid).then(valid).otherwise(typed)).to_series().alias("_phones")


def org_names_of(records: pl.DataFrame) -> pl.Series:
    """Every name the registry knows for the record's CVR, as ``_org`` is; only where it knows
    more than one: its current name alone adds nothing to compare."""
    names = pl.col("_registry_name_keys")
    return _only_where(
        records, names.list.len() > 1, names.list.eval(_org_name(pl.element()).drop_nulls())
    ).alias("_org_names")


EVIDENCE_PREFIX: Final = "evidence_"


def evidence_frame(frame: pl.DataFrame, fields: dict[str, str]) -> pl.DataFrame:
    """``evidence_<field>`` for every ``field = "column"`` of a mapping's ``[compare]`` table: the
    column's text trimmed, lower-cased, inner whitespace collapsed, empty as null (``"  West
    Devon "`` → ``"west devon"``). The column itself is left as it is.

    The reserved field ``source`` (a mapping's ``[link]`` column) is not compared: it becomes the
    records' ``source``, its text trimmed and otherwise as written, which the matcher links on."""
    text = {
        f"{EVIDENCE_PREFIX}{field}": pl.col(column).cast(pl.String).str.to_lowercase()
        for field, column in fields.items()
        if field != "source"
    }
    link = [
        _blank_to_null(pl.col(column).cast(pl.String)).alias("source")
        for field, column in fields.items()
        if field == "source"
    ]
    return frame.select(
        *(_blank_to_null(expr.str.replace_all(r"\s+", " ")).alias(n) for n, expr in text.items()),
        *link,
    )


def evidence_fields(records: pl.DataFrame) -> tuple[str, ...]:
    """The evidence fields a record frame carries (``birth_place`` for ``evidence_birth_place``)."""
    return tuple(
        c.removeprefix(EVIDENCE_PREFIX) for c in records.columns if c.startswith(EVIDENCE_PREFIX)
    )


def _generation() -> pl.Expr:
    """``junior`` or ``senior`` where a person's name ends in a generation (``Jens Hansen jun.``,
    :data:`~datavask.cleansing.names.GENERATION`), in the name or the last-name column."""
    written = pl.coalesce(
        pl.when(pl.col(c).str.contains(GENERATION)).then(pl.col(c))
        for c in ("raw_name", "raw_last_name")
    )
    junior = written.str.extract(GENERATION, 1).is_not_null()
    return pl.when(written.is_not_null()).then(
        pl.when(junior).then(pl.lit("junior")).otherwise(pl.lit("senior"))
    )


def prepare_records(df: pl.DataFrame, offset: int = 0) -> pl.DataFrame:
    """The record frame with every input column present and the matcher's derived columns added.

    ``offset``: the position of ``df``'s first row in the whole file, for a row partition."""
    missing = [
        pl.lit(None, dtype=t).alias(c) for c, t in INPUT_COLUMNS.items() if c not in df.columns
    ]
    evidence = [c for c in df.columns if c.startswith(EVIDENCE_PREFIX)]
    # Only the columns the matcher reads: a normalised frame also carries every src_* column.
    records = df.select(*(c for c in INPUT_COLUMNS if c in df.columns), *evidence).with_columns(
        missing
    )
    records = records.with_columns(
        pl.col(c).cast(t) for c, t in INPUT_COLUMNS.items() if c != "source_row"
    )
    text_columns = [c for c, t in INPUT_COLUMNS.items() if t == pl.String() and c != "record_id"]
    records = records.with_columns(_blank_to_null(pl.col(c)).alias(c) for c in text_columns)
    # A foreign customer's VAT number names its legal entity as a CVR number does: the same one
    # is the same company, two different ones two companies (blocking, comparison, vetoes).
    # A Swiss VAT number is compared by its UID, whatever language its tax suffix is written in.
    records = records.with_columns(
        pl.coalesce("cvr", legal_entity_number(pl.col("vat_number"))).alias("cvr")
    )
    free_mail = sorted(free_mail_domains())
    has_person_parts = (
        pl.col("first_name_key").is_not_null() | pl.col("last_name_key").is_not_null()
    )
    is_person = (
        pl.when(pl.col("customer_type").is_not_null())
        .then(pl.col("customer_type").str.to_lowercase() == "person")
        .otherwise(has_person_parts & pl.col("name_key").is_null())
    )
    emails = _distinct_values("emails", "email").list.eval(
        # An address typed because one was required and none was known (``ingen@ingen.dk``,
        # ``x@x.dk``): shared by customers who have nothing else in common, it is no evidence.
        pl.element().str.to_lowercase().filter(~placeholder_email(pl.element().str.to_lowercase()))
    )
    domain = pl.coalesce(
        pl.col("email_domain").str.to_lowercase(),
        pl.col("email").str.to_lowercase().str.extract(r"@([^@\s]+)$"),
    )
    danish_code = records.select(pl.when(pl.col("country") == "DK").then("postal_code"))
    prepared = records.with_columns(
        pl.int_range(offset, offset + pl.len(), dtype=pl.UInt32).alias("_idx"),
        # the address comparison's: the district the city typed beside a Danish code confirms
        typed_district(danish_code.to_series(), records["raw_city"]).alias("_typed_district"),
        pl.coalesce(
            pl.col("source_row").cast(pl.Int64),
            pl.int_range(offset + 1, offset + pl.len() + 1, dtype=pl.Int64),
        ).alias("_row"),
        is_person.alias("_person"),
        _org_name().alias("_org"),
        org_names_of(records),  # renamed companies
        phones_of(records),
        emails.alias("_emails"),
        pl.when(domain.is_in(free_mail)).then(None).otherwise(domain).alias("_domain"),
        _blank_to_null(
            pl.concat_str(
                pl.col("floor").fill_null(""), pl.col("door").fill_null(""), separator=" "
            )
        )
        .str.to_lowercase()
        .alias("_unit"),
        address_key().alias("_address"),
        pl.when(is_person).then(_generation()).alias("_generation"),
        *contact_keys_of(records, is_person),
        pl.coalesce(
            text_key(pl.col("raw_address")),
            pl.concat_str(pl.col("house_number"), pl.col("street_key"), separator=" "),
        ).alias("_address_text"),
    ).with_columns(
        pl.col("_emails")
        .list.eval(
            pl.element()
            .str.extract(r"^([^@]+)@")
            .filter(~pl.element().str.extract(r"^([^@]+)@").is_in(list(ROLE_MAILBOXES)))
        )
        .alias("_locals"),
    )
    # The contact person's name as typed is read for its keys alone: hashed among the compared
    # columns, two copies of one record typed in other cases would no longer be copies. Its key
    # (``contact_key``) is hashed: two contacts of one company are no copies of each other.
    # The city as typed is read for the district it confirms alone: two copies of one record
    # with "Aarhus C" and "Århus" typed are copies still.
    prepared = prepared.drop(*CONTACT_INPUTS, "raw_city")
    return prepared.with_columns(identical_key().alias(IDENTICAL))
