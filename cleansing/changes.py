"""What cleansing changed, field by field, in the shape the input had.

A cleaned value is only comparable with the input when it has the input's shape: an input whose
``Adresse`` column held ``vestergade 12,2tv`` is compared with the line ``Vestergade 12, 2. tv``,
not with the parsed street ``Vestergade``. :func:`input_shaped` builds those values, one column
per canonical input field; :func:`build_changes` compares them with ``raw_<field>`` and the CRM
re-import (:mod:`connectors.reimport`) writes the same values back, so what ``changes.csv`` lists
is exactly what the re-import changes — and a second run over the re-imported file lists nothing.

In: the record frame after normalisation (``record_id``, ``raw_<field>``, the cleaned columns,
optionally ``registry_proposed_*``), best passed through
:func:`cleansing.survivorship.apply_golden` first (survivors carry their golden record); without
it, the registry's trusted proposals are applied here
(:func:`cleansing.survivorship.apply_registry_proposals`). Out of :func:`build_changes`: one row
per changed field — ``record_id``, ``field``, ``before``, ``after``, ``rule`` — where ``rule`` is
one of :data:`RULES`; ``registry`` where the value written is the registry's (the current name of
a renamed company, the current address of one that moved). A value that only differs by
surrounding whitespace is not a change, and a field whose cleaned value is null (an invalid phone
number, say) keeps its original: it is flagged, not changed — unless it held a masked CPR
number, whose cell is emptied (rule ``cpr_masked``): the mask is no value for the CRM. An empty
cell that cleansing can fill (the city of a postal code) is a change from null.

The one-line address column holds street, number, floor and door — and the postal code and city
only when the input has no column of its own for them: an input with ``Postnr`` and ``By``
columns gets ``Vestergade 12, 2. tv`` in ``Adresse`` (and ``8000`` / ``Aarhus C`` in their
columns), an input with only ``Adresse`` gets ``Vestergade 12, 2. tv, 8000 Aarhus C``. The rule
is per input, not per row, so the next run reads back the same line.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Final

import polars as pl

from datavask.cleansing.addresses import (
    CITY_THEN_CODE,
    DANISH_REALM,
    ENGLISH_STREET_SUFFIX,
    UNIT_WORD,
    country_tail,
)
from datavask.cleansing.cpr import MASK
from datavask.cleansing.emails import email_note
from datavask.cleansing.identifiers import noted_cvr
from datavask.cleansing.names import (
    COMMA_PERSON,
    name_key,
    name_line,
    only_where,
    proper_case,
    text_key,
    with_typed_remarks,
    with_typed_title,
)
from datavask.cleansing.schema import (
    CANONICAL_FIELDS,
    PADDING_SPLIT,
    STAGES,
    TYPED_PADDING,
    raw,
    stage_text,
    whole_number,
)
from datavask.cleansing.survivorship import (
    ADDRESS_TAKEN,
    GOLDEN_APPLIED,
    REGISTRY_APPLIED,
    apply_registry_proposals,
)

# The canonical input fields cleansing may rewrite, in the order changes are listed.
SHAPED_FIELDS: Final = (
    "name",
    "name_2",
    "first_name",
    "last_name",
    "address",
    "address_2",
    "address_3",
    "street",
    "house_number",
    "floor",
    "door",
    "postal_code",
    "city",
    "phone",
    "mobile",
    "email",
    "cvr",
    "ean",
)
# The cleaned fields each input field is written from: a registry value in any makes it a
# ``registry`` change.
_SOURCES: Final = {
    "name": ("name",),
    "name_2": ("name",),
    "address": ("street", "house_number", "floor", "door", "postal_code", "city"),
    "address_2": ("street", "house_number", "floor", "door"),
    "address_3": ("street", "house_number", "floor", "door"),
    "street": ("street", "house_number", "floor", "door"),
    "house_number": ("house_number",),
    "floor": ("floor",),
    "door": ("door",),
    "postal_code": ("postal_code",),
    "city": ("postal_code", "city"),
}
RULES: Final = (
    "name_case",
    "legal_form",
    "name_normalised",
    "address_parsed",
    "postal_code",
    "postal_city",
    "phone_e164",
    "email_normalised",
    "cvr_compact",
    "cvr_from_name",
    "ean_compact",
    "registry",
    "golden_value",
    "cpr_masked",
    "trimmed",
)

_FIELD_RULE: Final = {
    "address": "address_parsed",
    "address_2": "address_parsed",
    "address_3": "address_parsed",
    "street": "address_parsed",
    "house_number": "address_parsed",
    "floor": "address_parsed",
    "door": "address_parsed",
    "postal_code": "postal_code",
    "city": "postal_city",
    "phone": "phone_e164",
    "mobile": "phone_e164",
    "email": "email_normalised",
    "cvr": "cvr_compact",
    "ean": "ean_compact",
}
_CHANGE_SCHEMA: Final = {
    "record_id": pl.String,
    "field": pl.String,
    "before": pl.String,
    "after": pl.String,
    "rule": pl.String,
}


def _text(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A column the changes stage declares (:data:`~datavask.cleansing.schema.STAGES`): trimmed,
    blanks as null; a missing one raises."""
    return stage_text(frame, "changes", column, blank_as_null=True)


def _joined(parts: list[pl.Expr], separator: str) -> pl.Expr:
    """Non-null parts joined; null when every part is null.

    Each part appears once in the expression: the parts are themselves joined parts, and a
    ``when(joined != "").then(joined)`` doubled the tree at every level (the one-line address,
    five levels deep, was worked out 32 times over: 16 s of CPU at 1M records)."""
    return pl.concat_str(parts, separator=separator, ignore_nulls=True).replace("", None)


def floor_door(floor: pl.Expr, door: pl.Expr) -> pl.Expr:
    """Danish floor, door: ``2``/``tv`` → ``2. tv``; ``st``/null → ``st.``; null/``tv`` → ``tv``;
    null/``4`` → ``lejl. 4`` (an apartment's number alone would read as a floor)."""
    dotted = pl.when(floor.str.ends_with(".")).then(floor).otherwise(floor + pl.lit("."))
    apartment = floor.is_null() & door.str.contains(r"^\d").fill_null(False)
    return _joined([dotted, pl.when(apartment).then(pl.lit("lejl. ") + door).otherwise(door)], " ")


# A note the line held after the address, in brackets or after a dash (``(ring 2 gange)``, ``- ring
# på hos Jensen``), as the addresses stage keeps it in ``address_extra``.
_NOTE_FIRST: Final = r"^(?:\(|[-–]\s)"


def with_extra(text: pl.Expr, extra: pl.Expr) -> pl.Expr:
    """``text`` and what the line held beside the address after it: a note after a space, as
    typed (``Algade 3, 2. th (ring 2 gange)``), anything else after a comma (``Hovedgaden 4,
    Vester Hassing``); null when both are."""
    note = extra.str.contains(_NOTE_FIRST).fill_null(False)
    separator = pl.when(note).then(pl.lit(" ")).otherwise(pl.lit(", "))
    # ``text`` once in the expression (it is the address line being built): the separator goes
    # before ``extra``, and comes off again where ``text`` is null (``, Vester Hassing``).
    joined = pl.concat_str([text, pl.concat_str([separator, extra])], ignore_nulls=True)
    return joined.str.strip_prefix(", ").str.strip_prefix(" ").replace("", None)


def number_then_street(
    house_number: pl.Expr, street: pl.Expr, comma_after_number: pl.Expr | None = None
) -> pl.Expr:
    """``10`` + ``Downing Street`` → ``10 Downing Street``; ``12, rue de la Paix`` where
    ``comma_after_number`` is true."""
    spaced = _joined([house_number, street], " ")
    if comma_after_number is None:
        return spaced
    return pl.when(comma_after_number).then(_joined([house_number, street], ", ")).otherwise(spaced)


def _extra_first(shaped: pl.Expr, extra: pl.Expr, first: pl.Expr) -> pl.Expr:
    """``shaped`` with ``extra`` moved from its end to its front where ``first`` is true (``10
    Downing Street, Flat 2`` → ``Flat 2, 10 Downing Street``)."""
    after = pl.lit(", ") + extra
    moved = pl.concat_str(
        extra, pl.lit(", "), shaped.str.head(-after.str.len_chars().cast(pl.Int64))
    )
    held = first & shaped.str.ends_with(after).fill_null(False)
    return pl.when(held).then(moved).otherwise(shaped)


def address_line(
    street: pl.Expr,
    house_number: pl.Expr,
    floor: pl.Expr,
    door: pl.Expr,
    *,
    postal_code: pl.Expr | None = None,
    city: pl.Expr | None = None,
    co_name: pl.Expr | None = None,
    po_box: pl.Expr | None = None,
    number_first: pl.Expr | None = None,
    comma_after_number: pl.Expr | None = None,
    extra: pl.Expr | None = None,
) -> pl.Expr:
    """The one-line Danish address, with only the parts given and present; null when none is.

    ``c/o Jens Hansen, Vestergade 12, 2. tv, Vester Hassing, Postboks 7, 8000 Aarhus C``
    (``extra``: what the line held after the number that is no floor or door); where
    ``number_first`` is true the number leads, as a British or American address is written
    (``10 Downing Street``), after a comma where ``comma_after_number`` is (``12, rue de la
    Paix``).
    """
    parts = []
    if co_name is not None:
        parts.append(pl.lit("c/o ") + co_name)
    danish_order = _joined([street, house_number], " ")
    if number_first is None:
        parts.append(danish_order)
    else:
        parts.append(
            pl.when(number_first)
            .then(number_then_street(house_number, street, comma_after_number))
            .otherwise(danish_order)
        )
    unit = floor_door(floor, door)
    if extra is None:
        parts.append(unit)
    else:  # a note goes right after the number, floor and door it is about
        parts.append(with_extra(_joined([parts.pop(), unit], ", "), extra))
    if po_box is not None:
        parts.append(po_box)  # "Postboks 7": the parser keeps the word with the number
    if postal_code is not None or city is not None:
        nothing = pl.lit(None, dtype=pl.String)
        parts.append(
            _joined(
                [
                    postal_code if postal_code is not None else nothing,
                    city if city is not None else nothing,
                ],
                " ",
            )
        )
    return _joined(parts, ", ")


def _phone_for(records: pl.DataFrame, field: str) -> pl.Expr:
    """The cleaned number that came from ``raw_<field>``: the one whose digits its digits end with.

    ``records`` carries :func:`_with_numbers`' columns. ``phone_numbers`` holds every valid
    number of the record (phone and mobile columns alike); ``12 34 56 78``, ``+45 12345678`` and
    ``0045 1234 5678`` all pick ``+4512345678``, and so does ``tlf. 12 34 56 78``. A cell with a
    note beside its number (``+45 12 34 56 78 (Jens)``, ``12345678 efter kl. 16``) picks none:
    it goes back as written, the note being the customer's (:data:`_ONLY_A_NUMBER`).
    """
    if _NUMBERS not in records.columns:
        return pl.lit(None, dtype=pl.String)
    digits = pl.col(f"{_DIGITS}{field}")
    # A short value like "12" must not claim a number; six digits is the shortest real one.
    usable = (digits.str.len_chars() >= 6) & pl.col(f"{_BARE}{field}")
    numbers, tails = pl.col(_NUMBERS), pl.col(_TAILS)
    # The first number that matches: a coalesce, not a list of six per row (minutes at 1M).
    return pl.coalesce(
        pl.when(usable & tails.list.get(i, null_on_oob=True).str.ends_with(digits)).then(
            numbers.list.get(i, null_on_oob=True)
        )
        for i in range(_MAX_PHONES)
    )


def _with_numbers(records: pl.DataFrame) -> pl.DataFrame:
    """``records`` with what :func:`_phone_for` reads, made once (an eager select evaluates an
    expression as often as it is written): the record's distinct numbers, the same without
    their ``+``, and the digits of each phone field's raw value."""
    candidates: list[pl.Expr] = []
    if "phone_numbers" in records.columns:
        candidates.append(pl.col("phone_numbers").cast(pl.List(pl.String)))
    if "phone_e164" in records.columns:
        candidates.append(pl.concat_list(pl.col("phone_e164").cast(pl.String)))
    if not candidates:
        return records
    numbers = records.select(
        pl.concat_list(candidates)
        .list.drop_nulls()
        .list.unique(maintain_order=True)
        .alias(_NUMBERS)
    )
    digits = [
        whole_number(_text(records, raw(field)))
        # the international form's trunk "(0)" (``+45 (0) 20 30 40 50``) is no digit of it
        .str.replace_all(r"\(\s*0\s*\)", "")
        .str.replace_all(r"\D", "")
        .str.replace(r"^00", "")
        .str.strip_chars_start("0")
        .alias(f"{_DIGITS}{field}")
        for field in ("phone", "mobile")
    ]
    bare = [
        whole_number(_text(records, raw(field)))
        .str.replace_all(_PHONE_LABELS, "")
        # a masked CPR number beside the phone (``20304050 / XXXXXX-XXXX``) is none of the
        # customer's: the cell goes back as its number
        .str.replace_all(MASK, "", literal=True)
        .str.contains(_ONLY_A_NUMBER)
        .alias(f"{_BARE}{field}")
        for field in ("phone", "mobile")
    ]
    tails = pl.col(_NUMBERS).list.eval(pl.element().str.replace(r"^\+", "")).alias(_TAILS)
    # Lazily, so each field's whole-number text is made once for its digits and its labels.
    return (
        records.with_columns(numbers.to_series())
        .lazy()
        .with_columns(*digits, *bare)
        .with_columns(tails)
        .collect()
    )


# Words that only say a cell holds a phone number (``tlf.``, ``Mobil:``, ``T:``): written back as
# the E.164 number, the cell loses nothing.
# (ASCII word boundaries: the labels are ASCII, and Unicode ones keep the regex off its fast
# engine, a fifth of a second per million cells.)
_PHONE_LABELS: Final = (
    r"(?i)(?-u:\b)(?:tlf|tel|telefon|telephone|phone|mobil|mob|mobile|mobiltelefon|nr|nummer)"
    r"(?-u:\b)|(?-u:\b)[tm]:"
)
# A phone cell (labels taken off) that holds its number and nothing else: digits, the country
# code's dress, separators and a spreadsheet's text mark. Anything more (``(Jens)``, ``efter kl.
# 16``, ``lok. 12``, ``fax``) is a note the customer typed, which the CRM keeps.
_ONLY_A_NUMBER: Final = r"^[\s\d+\-.()/:']*$"


# A line that starts with its house number and then a word: ``10 Downing Street``, ``435 S. La
# Cienega Blvd.``, ``12b Baker St``, an ordinal street (``854 7th Avenue``), a comma after the
# number (``12, rue de la Paix``) or a flat named first (``Flat 2, 10 Downing Street``).
_NUMBER_FIRST: Final = (
    rf"(?i)^\s*(?:{UNIT_WORD}\.?\s*#?\s*\w{{1,5}}\s*,\s*)?\d{{1,5}}[a-z]?(?:-\d{{1,5}}[a-z]?)?"
    r"(?:\s+|\s*,\s*)(?:\p{L}|\d{1,3}(?:st|nd|rd|th)\s)"
)
# A line that starts with a flat or unit (``Flat 2, 10 Downing Street``, ``Apartment 4, The
# Maltings``).
_UNIT_FIRST: Final = rf"(?i)^\s*{UNIT_WORD}[.\s#]*\w{{1,5}}\s*,"
# ``12, rue de la Paix``: the comma after the number, as French addresses write it.
_COMMA_AFTER_NUMBER: Final = r"^\s*\d{1,5}[A-Za-z]?\s*,"
# Countries that write the house number before the street (``10 Downing Street``, ``12 rue de
# la Paix``, ``350 Fifth Avenue``): a line datavask composes for a record there is so written.
# (Not Belgium: bpost writes ``Rue de la Loi 16``.)
NUMBER_FIRST_COUNTRIES: Final = (
    "GB", "IE", "IM", "JE", "GG", "US", "CA", "AU", "NZ", "ZA", "SG", "FR", "MC", "LU",
)  # fmt: skip
# Records carry at most a handful of numbers; a fixed small bound keeps the lookup vectorised.
_MAX_PHONES: Final = 6
_NUMBERS: Final = "_phone_candidates"
_TAILS: Final = "_phone_candidate_digits"
_DIGITS: Final = "_phone_digits_of_"
_BARE: Final = "_phone_bare_"


def _with_registry(records: pl.DataFrame) -> pl.DataFrame:
    """``records`` with the trusted registry proposals applied, unless they already are."""
    if REGISTRY_APPLIED in records.columns:
        return records
    return apply_registry_proposals(records)


# What input_shaped and build_changes read of a record besides the changes stage's declared
# columns (read through _text): its id, its lists of numbers and addresses, which fields the
# registry's values and which a duplicate's replaced, and whether the address written is
# another's.
_ALSO_READ: Final = (
    "record_id", "phone_numbers", "emails", REGISTRY_APPLIED, GOLDEN_APPLIED, ADDRESS_TAKEN,
    TYPED_PADDING,
)  # fmt: skip


def changes_columns(columns: Iterable[str]) -> list[str]:
    """Of a record's ``columns``, those :func:`input_shaped` and :func:`build_changes` read once
    the registry's proposals are applied (as :func:`cleansing.survivorship.apply_golden` does)."""
    read = {*STAGES["changes"].reads, *STAGES["changes"].optional, *_ALSO_READ}
    return [c for c in columns if c in read]


def changes_view(records: pl.DataFrame) -> pl.DataFrame:
    """``records`` with only the :func:`changes_columns`, once the registry's proposals are
    applied; unchanged before that, as applying them reads more.

    A caller that holds nothing else of a wide record lets the rest go before the changes are
    made: at 1M records the columns read are half of the verdict's record.
    """
    if REGISTRY_APPLIED not in records.columns:
        return records
    return records.select(changes_columns(records.columns))


def written_back(mapping: Mapping[str, str]) -> set[str]:
    """The mapped fields (of a mapping ``field → column``) whose cleaned values go back into
    the input's columns: all but those on the column the CRM keys its rows by. An export keyed
    by CVR number (``record_id`` and ``cvr`` both on ``CVR``) written back with ``DK 2531 3763``
    cleaned to ``25313763`` would name no row the CRM has, so that column goes back as read and
    changes.csv lists no change to it.

    A column two fields are mapped to (``phone`` and ``mobile`` both on ``Telefon``) goes back
    once, as the first of them (in :data:`SHAPED_FIELDS` order) cleans it: changes.csv listed the
    one cell's change twice, as ``phone`` and as ``mobile``.

    >>> sorted(written_back({"record_id": "CVR", "cvr": "CVR", "name": "Navn"}))
    ['name', 'record_id']
    >>> sorted(written_back({"phone": "Telefon", "mobile": "Telefon"}))
    ['phone']
    """
    key = mapping.get("record_id")
    first: dict[str, str] = {}  # column → the first shaped field on it
    for field in SHAPED_FIELDS:
        if field in mapping:
            first.setdefault(mapping[field], field)
    return {
        field
        for field, column in mapping.items()
        if field == "record_id"
        or (column != key and (field not in SHAPED_FIELDS or first[column] == field))
    }


def input_shaped(
    records: pl.DataFrame, *, mapped: Collection[str] | None = None, postal_town: bool = False
) -> pl.DataFrame:
    """``record_id`` and, per :data:`SHAPED_FIELDS` field, the cleaned value shaped like the input.

    The one-line ``address`` holds street, number, floor and door, then the postal code when the
    input has no postal-code column (and the row's city cell does not carry it, ``8000 Aarhus
    C``), and the city when the input has neither a postal-code nor a city column; the postal
    code and city both where the row's line holds the code its postal-code cell holds. A ``street``
    column without a separate house-number column gets the street with its number; a combined
    postal/city column (``8000 aarhus c``) gets ``8000 Aarhus C``. Null means "keep the
    original". A field is filled (also where the row's cell is empty, e.g. the city of a known
    postal code) only when the input has its column: ``mapped`` (the input's canonical fields)
    says which; without it, a field counts as in the input when any row has a raw value.
    Trusted registry proposals are applied first unless ``records`` already went through
    :func:`datavask.cleansing.survivorship.apply_golden`. ``postal_town``: the postal-code column
    is one for the code and the town (``Postnr. og by``, with no city column:
    :func:`datavask.connectors.mapping.postal_code_with_town`), so an empty cell of it gets both.
    """
    records = _with_numbers(_with_registry(records))
    t = _text
    has = {f: t(records, raw(f)).is_not_null() for f in SHAPED_FIELDS}
    in_input = {
        f: f in mapped
        if mapped is not None
        else raw(f) in records.columns and records.get_column(raw(f)).is_not_null().any()
        for f in SHAPED_FIELDS
    }
    street, number, floor, door = (
        t(records, f) for f in ("street", "house_number", "floor", "door")
    )
    postal, city = t(records, "postal_code"), t(records, "city")
    # A city column starting with a postal code ("8000 Aarhus C") is a combined postal/city column.
    combined_city = has["city"] & t(records, raw("city")).str.contains(
        r"^\D{0,3}\d{4}\b"
    ).fill_null(False)
    # …or ending with it ("Aarhus C 8000", "København K, 1165": a "By/Postnr" column), written
    # back in that order, with what stood between them.
    city_then = t(records, raw("city")).str.extract_groups(CITY_THEN_CODE)
    city_code_separator = city_then.struct.field("separator")
    city_then_code = has["city"] & ~combined_city & city_code_separator.is_not_null()
    # Per input, not per row: a postal code written into its own (empty) cell must not also be in
    # the line, or the next run moves it out of the line again.
    postal_elsewhere = pl.lit(in_input["postal_code"]) | combined_city | city_then_code
    # A postal code column holding the city too ("Postnr. og by": "1165 Kbh K", C5's "Postnr/By":
    # "SE-111 43 Stockholm") keeps both.
    # Not a code that holds letters itself (the Dutch ``1012 LG``): the value is more than the code.
    raw_postal = t(records, raw("postal_code"))
    # The town first (``Herning 7400``, as a "By/Postnr" cell) goes back so, as the city
    # column's does; a town glued to the code (``7400Herning``) gets its space.
    postal_then = raw_postal.str.extract_groups(CITY_THEN_CODE).struct.field("separator")
    # Not without a cleaned code: ``LE1 1NT`` beside a golden record without one is no code and
    # town (``Leicester``), and is kept as typed.
    combined_postal = (
        has["postal_code"]
        & postal.is_not_null()
        # a letter glued to the digits that reads as one (``80OO``, ``800l``) is the code
        # mistyped, not its town
        & raw_postal.str.contains(r"^\D{0,3}\d[\d ]*\d(?:\s*[^\W\d_OoIl]|\s+\p{L})").fill_null(
            False
        )
        & (
            raw_postal.str.to_uppercase().str.replace_all(r"\s+", " ") != postal.str.to_uppercase()
        ).fill_null(True)
    )
    # A cell that held the town alone (``Herning``) gets the code the town has before it, in
    # the column's own order; beside a city column the town goes there and the code here.
    town_in_postal = (
        has["postal_code"]
        & ~pl.lit(in_input["city"])
        & raw_postal.str.contains(r"^\P{N}*\p{L}\P{N}*$").fill_null(False)
    )
    # An empty cell of a column for the code and the town ("Postnr. og by") gets both: the
    # code the address line held (``Postboks 123, 7400 Herning``) moves into it with its town,
    # ``7400 Herning``. Written as ``7400``, the town went back nowhere, the line left without it.
    town_with_code = (
        pl.lit(postal_town and not in_input["city"]) & ~has["postal_code"] & postal.is_not_null()
    )
    # A foreign customer's line written number first (``10 Downing Street``) goes back that way,
    # as does one whose street is English (``435 S. La Cienega Blvd.`` in a file with no country
    # to say it is American); Danish lines are turned into the Danish order. A frame without a
    # country column is Danish.
    # A null country is one abroad that could not be named (the addresses stage makes every
    # other record's country ``DK``).
    foreign = (~t(records, "country").is_in(DANISH_REALM)).fill_null("country" in records.columns)
    written = pl.coalesce(t(records, raw("address")), t(records, raw("street")))
    number_first = (
        written.str.contains(_NUMBER_FIRST)
        & (foreign | written.str.contains(ENGLISH_STREET_SUFFIX))
    ).fill_null(False)
    # A line composed from parts (the golden record's address, one typed all in capitals) is
    # written as the record's country writes addresses: ``184 Sophie Isle`` in Britain, whatever
    # order the line it replaces had. (A foreign record's own line goes back as typed, below.)
    number_first |= t(records, "country").is_in(NUMBER_FIRST_COUNTRIES).fill_null(False)
    comma = written.str.contains(_COMMA_AFTER_NUMBER).fill_null(False)
    co_name, po_box, extra = (t(records, f) for f in ("co_name", "po_box", "address_extra"))
    # An input with a second address line (``Adresse 2``) gets the address as the Danish post
    # writes it: street, number, floor and door on the first line; c/o, post box and the rest
    # (an attention line, a building, a village) on the second. Per input: the next run reads
    # the two lines as one again and finds the same.
    # A third line (``Adresse 3``) was read as more of the second: what either held goes back on
    # the second, and the third is emptied; without a second line of its own, on the third.
    second = _joined([t(records, raw("address_2")), t(records, raw("address_3"))], ", ")
    second_line = _joined([pl.lit("c/o ") + co_name, extra, po_box], ", ")
    if in_input["address_2"] or in_input["address_3"]:
        # Without a street they stay on the first line: moved, they would leave it empty, and
        # an empty line is written back as the CRM had it (``Postboks 2000`` on both lines).
        on_first = street.is_null()
        second_line = pl.when(~on_first).then(second_line)
        co_name, po_box, extra = (pl.when(on_first).then(x) for x in (co_name, po_box, extra))
    # A line that holds the postal code its row's own cell holds too (a CRM's whole address in
    # one field, ``Mosedalvej 14, 2500 Valby``, beside its parts) keeps it and the city: written
    # back as the street alone, the CRM's address would name no town. A code found only in the
    # line moves into its empty cell. Per row: the next run reads the same.
    # A line that ends with its town (``Mosedalvej 14, Valby``) holds it the same way.
    written_line = t(records, raw("address")).str.strip_chars(" ,.").str.to_lowercase()
    town = pl.lit(" ") + city.str.to_lowercase()
    typed_town = pl.lit(" ") + t(records, raw("city")).str.strip_chars().str.to_lowercase()
    held = has["postal_code"] & (
        written_line.str.contains(postal.str.to_lowercase(), literal=True)
        | written_line.str.ends_with(town)
        | written_line.str.ends_with(typed_town)
    ).fill_null(False)
    # Worked out once: the line's parts read it, each more than once.
    records = records.with_columns(held.alias("_line_holds_town"))
    held = pl.col("_line_holds_town")
    line = address_line(
        street,
        number,
        floor,
        door,
        postal_code=pl.when(~postal_elsewhere | held).then(postal),
        city=pl.when(pl.lit(not (in_input["postal_code"] or in_input["city"])) | held).then(city),
        co_name=co_name,
        po_box=po_box,
        number_first=number_first,
        comma_after_number=comma,
        extra=extra,
    )
    # With a house-number column the number goes there, and the street column holds the street:
    # per input, or a line's number written into an empty number cell would stand in both.
    street_shaped = (
        pl.when(pl.lit(in_input["house_number"]))
        .then(pl.when(number.is_null()).then(with_extra(street, extra)).otherwise(street))
        # written number first (``10 Downing Street, Flat 2``): its flat after it, as typed
        .when(number_first & (has["floor"] | has["door"]))
        .then(with_extra(number_then_street(number, street, comma), extra))
        .when(number_first)
        .then(
            address_line(
                street,
                number,
                floor,
                door,
                number_first=pl.lit(True),
                comma_after_number=comma,
                extra=extra,
            )
        )
        .when(has["floor"] | has["door"])
        .then(with_extra(_joined([street, number], " "), extra))
        .otherwise(address_line(street, number, floor, door, extra=extra))
    )
    # A street column with no address column beside it (Salesforce's "Billing Street") that held
    # a c/o or a post box gets them back, as the one-line address does (``c/o DEAS A/S,
    # Vestergade 12, 2. tv``); with a second line, they stand on it.
    if not in_input["address"]:
        street_shaped = _joined([pl.lit("c/o ") + co_name, street_shaped, po_box], ", ")
    # A flat or unit the line named first (``Flat 2, 10 Downing Street``, as the Royal Mail
    # writes it) stays first; a Danish building named first follows the number as before.
    # (Few files hold one: the others' lines are not written twice over.)
    unit_first = written.str.contains(_UNIT_FIRST).fill_null(False) & written.str.starts_with(extra)
    if records.select(unit_first.any()).item():
        line, street_shaped = (_extra_first(x, extra, unit_first) for x in (line, street_shaped))
    # Floor and door without a column of their own go where the input has room for them: a
    # floor column holds the door too (``Etage`` = ``2. th``), a house-number column both
    # (``Husnr`` = ``12B, 2. th``) and what followed them (``4, Vester Hassing``). Written as the
    # one field, each would lose the rest. Per input, so that the next run reads the same cells.
    floor_shaped = (
        floor
        if in_input["door"]
        else pl.when(door.is_not_null()).then(floor_door(floor, door)).otherwise(floor)
    )
    number_shaped = pl.when(number.is_not_null()).then(
        with_extra(
            _joined(
                [
                    number,
                    pl.lit(None, dtype=pl.String)
                    if in_input["floor"] or in_input["door"]
                    else floor_door(floor, door),
                ],
                ", ",
            ),
            extra,
        )
    )
    if "emails" in records.columns:
        emails = pl.col("emails").cast(pl.List(pl.String)).list.drop_nulls()
        email = (
            pl.when(emails.list.len() > 1)
            .then(emails.list.join("; "))
            .otherwise(t(records, "email"))
        )
    else:
        email = t(records, "email")
    # A note beside the address (``info@ejendom.dk (faktura)``, ``faktura: info@shape.dk``) is the
    # customer's, as a phone cell's is: the cell goes back as written, unless the address written
    # is another record's (the golden record's).
    typed_email = t(records, raw("email"))
    noted = email_note(only_where(typed_email.str.contains(r"[^\w.@%+\-]"), typed_email))
    if GOLDEN_APPLIED in records.columns:
        noted &= ~pl.col(GOLDEN_APPLIED).cast(pl.List(pl.String)).list.contains("email")
    email = pl.when(~noted.fill_null(False)).then(email)
    # A CVR number read from the name (``… (CVR 25313763)``) in a file without a CVR column has
    # nowhere else to go back to: the name keeps it, written the one way, or the CRM loses it.
    name = t(records, "name")
    if not in_input["cvr"]:
        noted = (noted_cvr(t(records, raw("name"))) == t(records, "cvr")).fill_null(False)
        with_cvr = pl.format("{} (CVR {})", name, t(records, "cvr"))
        name = pl.when(noted & name.is_not_null()).then(with_cvr).otherwise(name)
    # A person's name written last name first (``Hansen, Jens``, as many ERPs sort them) goes
    # back that way: the CRM's order is its own, and only the spelling is cleaned.
    first, last = t(records, "first_name"), t(records, "last_name")
    last_first = (
        t(records, raw("name"))
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .str.contains(COMMA_PERSON)  # as the names stage turned it round
        & (t(records, "customer_type") == "person")
        & (name == pl.concat_str(first, last, separator=" "))
    ).fill_null(False)
    name = pl.when(last_first).then(pl.concat_str(last, first, separator=", ")).otherwise(name)
    # A contact export's company column (first and last names beside it) stays empty on a
    # person's row: the name made of the person's own names is no company's ("Company Name" got
    # "Mette Holm", and the CRM a company of that name).
    if in_input["first_name"] or in_input["last_name"]:
        name = pl.when(has["name"]).then(name)
    name, name_2 = _name_lines(records, name) if in_input["name_2"] else (name, pl.lit(None))
    # emptied ("") where what it held is now on the first line, or the next run reads it twice
    second_shaped = (
        pl.when(second_line.is_null() & second.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(second_line.fill_null(""))
    )
    # A foreign customer's own address lines go back as typed: how its country writes them is
    # its own (``Straße des 17. Juni 135``, ``Keizersgracht 123-II``, ``12 bis rue de la Paix``,
    # the country at the end), and the parts read from them serve matching. Not where the
    # address written is another record's (the golden record's) or the registry's, and not a
    # line typed all in capitals or in lower case: that one is written from its parts, cased,
    # with the country it ended with.
    country = t(records, "country")
    typed_abroad = (country.is_not_null() & ~country.is_in(DANISH_REALM)).fill_null(False)
    if ADDRESS_TAKEN in records.columns:
        typed_abroad &= ~pl.col(ADDRESS_TAKEN).fill_null(False)
    typed = t(records, raw("address"))
    one_case = typed.str.contains(r"\p{Lu}") != typed.str.contains(r"\p{Ll}")
    as_typed = typed_abroad & ~one_case.fill_null(False)
    ended_with = proper_case(
        only_where(typed_abroad & one_case, typed).str.extract(country_tail(), 1)
    ).str.strip_chars(" .")
    # (``line`` once in the expression: written twice, the lazy engine makes it twice)
    line = pl.when(~as_typed).then(_joined([line, ended_with], ", "))
    second_shaped = pl.when(~as_typed).then(second_shaped)
    if not in_input["house_number"]:  # the street cell holds the whole line
        street_shaped = pl.when(~as_typed).then(street_shaped)
    shaped = {
        "name": name,
        "name_2": name_2,
        # the title its cell was typed with goes back with it (``Dr. Hans-Peter``)
        # and so do an estate's words and a guardian's note (``Dødsboet efter Knud``)
        "first_name": with_typed_remarks(
            with_typed_title(t(records, "first_name"), t(records, raw("first_name"))),
            t(records, raw("first_name")),
        ),
        "last_name": with_typed_remarks(t(records, "last_name"), t(records, raw("last_name"))),
        "address": line,
        "address_2": second_shaped,
        "address_3": second_shaped
        if not in_input["address_2"]
        else pl.when(has["address_3"]).then(pl.lit("")),
        "street": street_shaped,
        "house_number": number_shaped,
        "floor": floor_shaped,
        "door": door,
        "postal_code": pl.when(postal_then.is_not_null() & city.is_not_null())
        .then(pl.concat_str(city, postal_then, postal))
        .when(combined_postal | town_in_postal | town_with_code)
        .then(_joined([postal, city], " "))
        .otherwise(postal),
        "city": pl.when(combined_city)
        .then(_joined([postal, city], " "))
        .when(city_then_code & city.is_not_null() & postal.is_not_null())
        .then(pl.concat_str(city, city_code_separator, postal))
        .otherwise(city),
        # An empty phone cell gets the record's number unless a mobile cell holds it.
        "phone": pl.coalesce(
            _phone_for(records, "phone"),
            pl.when(~has["phone"] & ~has["mobile"]).then(t(records, "phone_e164")),
        ),
        "mobile": _phone_for(records, "mobile"),
        "email": email,
        "cvr": t(records, "cvr"),
        "ean": t(records, "ean"),
    }
    # Lazily: the columns' expressions share their parts (the line as written, the floor and
    # door, the note), which the lazy engine works out once each rather than once per use.
    return (
        records.lazy()
        .select(
            pl.col("record_id").cast(pl.String),
            *[
                (_without_mask(expr, t(records, raw(f))) if in_input[f] else pl.lit(None))
                .cast(pl.String)
                .alias(f)
                for f, expr in shaped.items()
            ],
        )
        .collect()
    )


def _without_mask(shaped: pl.Expr, typed: pl.Expr) -> pl.Expr:
    """``shaped`` where it has a value; where the cell held a masked CPR number and cleansing
    found nothing in it to write, what the user typed beside the mask (:func:`beside_mask`), or
    empty when that is nothing (an e-mail ``0101801234@gmail.com``, read
    ``XXXXXX-XXXX@gmail.com``, is ``INVALID_EMAIL``; a phone cell ``0101801234`` is no number).

    Kept as written, the cell would go back to the CRM holding the mask, and loaded it would
    overwrite the customer's value with ``XXXXXX-XXXX``: the same harm for which a passed-on
    column holding a mask is left out of the re-import. A value the cell held beside the mask
    (``Algade 3 (cpr XXXXXX-XXXX)`` → ``Algade 3``) is written as any cleaned value is; one
    cleansing cannot use (a broken CVR number, ``1234567 XXXXXX-XXXX`` → ``1234567``) goes back
    as typed, not lost with the mask.
    """
    # ``shaped`` once in the expression: written twice, the lazy engine made every field twice
    masked = typed.str.contains(MASK, literal=True).fill_null(False)
    return pl.coalesce(shaped, pl.when(masked).then(beside_mask(typed).fill_null("")))


# A masked CPR number with the label and brackets typed around it (``(cpr XXXXXX-XXXX)``,
# ``CPR-nr.: XXXXXX-XXXX``, ``p-nr XXXXXX-XXXX``, ``Personnummer XXXXXX-XXXX``).
_LABELLED_MASK: Final = (
    rf"(?i)\(?(?:\b(?:cpr|p|personnummer)(?:[-\s.]*(?:nr|nummer))?[\s.:]*)?{MASK}\)?"
)
# The mask as part of a word, not beside one: ``XXXXXX-XXXX@gmail.com``, ``nanna.XXXXXX-XXXX``.
_MASK_IN_WORD: Final = rf"(?i)[^\s/,;:|(.]{MASK}|{MASK}[^\s/,;:|)]"
_CELL_ENDS: Final = r"^[\s/,;:|\-]+|[\s/,;:|\-]+$"


def beside_mask(typed: pl.Expr) -> pl.Expr:
    """What a cell held beside its masked CPR numbers, with their labels and the separators
    left dangling taken off; null where there is nothing (no letter or digit) or where a mask
    is part of a word, whose rest means nothing alone (``@gmail.com``).

    >>> cells = pl.Series(["1234567 XXXXXX-XXXX", "(cpr XXXXXX-XXXX) 20304050",
    ...     "XXXXXX-XXXX", "XXXXXX-XXXX@gmail.com", "Top XXXXXX-XXXX"])
    >>> pl.select(beside_mask(pl.lit(cells))).to_series().to_list()
    ['1234567', '20304050', None, None, 'Top']
    """
    rest = (
        typed.str.replace_all(_LABELLED_MASK, " ")
        .str.replace_all(r"\s+", " ")
        .str.replace_all(_CELL_ENDS, "")
    )
    usable = rest.str.contains(r"[\p{L}\p{N}]") & ~typed.str.contains(_MASK_IN_WORD)
    return pl.when(usable).then(rest)


def _name_lines(records: pl.DataFrame, name: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """The cleaned ``name`` written back to a file with a second name line (``Navn 2``).

    The name was read from both lines. Where it is still the customer's own (the same key:
    only case or the legal form's spelling changed), both cells stay as typed, as the cleaned
    name cannot be cut back into two lines. Where it is another (the registry's name, a
    duplicate's), it goes on the first line, and the second is emptied when all its words are in
    it (a name's end: ``Dansk Selskab for`` / ``Teoretisk Statistik``), else kept (``Att.
    Bogholderiet``).
    """
    second = _text(records, raw("name_2"))
    typed = name_line(_text(records, raw("name")), second)
    two_lines = second.is_not_null() & name.is_not_null()
    own = (name_key(typed) == name_key(name)).fill_null(False)
    words = text_key(second).str.split(" ")
    within = words.list.set_difference(text_key(name).str.split(" ")).list.len() == 0
    return (
        pl.when(two_lines & own).then(pl.lit(None, dtype=pl.String)).otherwise(name),
        pl.when(two_lines & ~own & within.fill_null(False))
        .then(pl.lit(""))
        .otherwise(pl.lit(None, dtype=pl.String)),
    )


# The cleaned fields each input field is written from, for a value the golden record gave.
_GOLDEN_SOURCES: Final = {**_SOURCES, "email": ("email",), "cvr": ("cvr",), "ean": ("ean",)}


def _golden_values(records: pl.DataFrame) -> list[pl.Expr]:
    """``_golden``, the fields whose value the golden record gave (none without
    :func:`~datavask.cleansing.survivorship.apply_golden`), and ``_golden_phone``, the number it
    gave: a phone cell is written with the record's own number where it holds one, and with
    the golden number only where it was empty."""
    if GOLDEN_APPLIED not in records.columns:
        return [
            pl.lit([], dtype=pl.List(pl.String)).alias("_golden"),
            pl.lit(None, dtype=pl.String).alias("_golden_phone"),
        ]
    golden = pl.col(GOLDEN_APPLIED).cast(pl.List(pl.String))
    return [
        golden.alias("_golden"),
        pl.when(golden.list.contains("phone_e164"))
        .then(_text(records, "phone_e164"))
        .alias("_golden_phone"),
    ]


def _name_rule(before: pl.Expr, after: pl.Expr, legal_form: pl.Expr) -> pl.Expr:
    def folded(value: pl.Expr) -> pl.Expr:
        return value.str.replace_all(r"\s+", " ").str.to_lowercase()

    return (
        pl.when(folded(before) == folded(after))
        .then(pl.lit("name_case"))
        .when(legal_form.is_not_null())
        .then(pl.lit("legal_form"))
        .otherwise(pl.lit("name_normalised"))
    )


def build_changes(
    records: pl.DataFrame,
    *,
    mapped: Collection[str] | None = None,
    shaped: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per changed field: ``record_id, field, before, after, rule``, in record order.

    ``shaped`` is :func:`input_shaped` of the same ``records`` and ``mapped`` when the caller
    already has it (the re-import writes the same values).

    >>> frame = pl.DataFrame({"record_id": ["7"], "raw_cvr": ["DK 1234 5674"], "cvr": ["12345674"]})
    >>> build_changes(frame).row(0)
    ('7', 'cvr', 'DK 1234 5674', '12345674', 'cvr_compact')
    """
    records = _with_registry(records)
    if shaped is None:
        shaped = input_shaped(records, mapped=mapped)
    shaped = shaped.with_row_index("_order")
    before_frame = records.select(
        *[_text(records, raw(f)).alias(f"_before_{f}") for f in SHAPED_FIELDS],
        _text(records, "legal_form").alias("_legal_form"),
        pl.col(REGISTRY_APPLIED).cast(pl.List(pl.String)).alias("_registry"),
        noted_cvr(_text(records, raw("name"))).alias("_noted_cvr"),
        *_golden_values(records),
        (
            pl.col(TYPED_PADDING).cast(pl.List(pl.String))
            if TYPED_PADDING in records.columns
            else pl.lit(None, dtype=pl.List(pl.String))
        ).alias("_padding"),
    )
    both = pl.concat([shaped, before_frame], how="horizontal")

    parts = []
    for position, field in enumerate(SHAPED_FIELDS):
        before, after = pl.col(f"_before_{field}"), pl.col(field)
        if field in ("name", "name_2", "first_name", "last_name"):
            rule = _name_rule(
                before, after, pl.col("_legal_form") if field == "name" else pl.lit(None)
            )
        elif field == "cvr":
            # an empty CVR cell filled with the number the name noted (a duplicate's number,
            # survivorship's, is cvr_compact as before)
            from_name = before.is_null() & (pl.col("_noted_cvr") == after).fill_null(False)
            rule = pl.when(from_name).then(pl.lit("cvr_from_name"))
            rule = rule.otherwise(pl.lit(_FIELD_RULE[field]))
        else:
            rule = pl.lit(_FIELD_RULE[field])
        # a value another record of the customer gave (the golden record's): a copy, not a
        # cleaning of the record's own (a duplicate's CVR number is no ``cvr_compact``)
        copied = pl.col("_golden_phone") if field in ("phone", "mobile") else None
        if field in _GOLDEN_SOURCES:
            copied = pl.any_horizontal(
                pl.col("_golden").list.contains(source) for source in _GOLDEN_SOURCES[field]
            )
        if copied is not None:
            copied = (after == copied) if field in ("phone", "mobile") else copied
            rule = pl.when(copied.fill_null(False)).then(pl.lit("golden_value")).otherwise(rule)
        if field in _SOURCES:
            from_registry = pl.any_horizontal(
                pl.col("_registry").list.contains(source) for source in _SOURCES[field]
            )
            rule = pl.when(from_registry.fill_null(False)).then(pl.lit("registry")).otherwise(rule)
        # the cell emptied of a masked CPR number, or left with what was typed beside it
        # (:func:`_without_mask`)
        unmasked = before.str.contains(MASK, literal=True) & (
            (after == "") | (after == beside_mask(before))
        )
        rule = pl.when(unmasked.fill_null(False)).then(pl.lit("cpr_masked")).otherwise(rule)
        # A cell typed with whitespace around its value (``Pedersen Ejendomme ApS ``) that goes
        # back as the value alone: the re-import changes it, so this lists it, before as typed.
        padding = pl.col("_padding").list.get(CANONICAL_FIELDS.index(field), null_on_oob=True)
        trimmed = (padding.is_not_null() & (before == after)).fill_null(False)
        typed = pl.concat_str(
            padding.str.extract(f"^([^{PADDING_SPLIT}]*)"),
            before,
            padding.str.extract(f"{PADDING_SPLIT}(.*)$"),
        )
        parts.append(
            both.lazy()
            .select(
                "record_id",
                "_order",
                pl.lit(position).alias("_position"),
                pl.lit(field).alias("field"),
                pl.when(trimmed).then(typed).otherwise(before).alias("before"),
                after.alias("after"),
                pl.when(trimmed).then(pl.lit("trimmed")).otherwise(rule).alias("rule"),
            )
            .filter(pl.col("after").is_not_null() & pl.col("before").ne_missing(pl.col("after")))
        )
    # The fields' rows are found side by side (one field's comparison runs on one core).
    changes = pl.concat(
        [p.cast({"_order": pl.UInt32, "_position": pl.Int32}) for p in pl.collect_all(parts)],
        how="vertical",
    )
    return (
        changes.sort("_order", "_position", maintain_order=True)
        .select(list(_CHANGE_SCHEMA))
        .cast(
            _CHANGE_SCHEMA  # type: ignore[arg-type]
        )
    )
