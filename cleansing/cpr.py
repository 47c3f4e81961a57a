"""Danish CPR numbers (personnumre) found anywhere in a record, masked before anything is written.

A CPR number is ten digits, ``DDMMYY-SSSS``: a birth date and a four-digit serial whose first
digit gives the century (0–3: 1900s; 4 and 9: 2000s up to year 36, else 1900s; 5–8: 2000s up to
year 57, else 1800s). Customers' data holds it as ``010190-1234``, ``0101901234`` or
``010190 1234``, a note now and then as ``01.01.90-1234`` (masked as the dashed form is), and a
form's boxes copied out as digit groups, ``01 01 90 12 34``, ``0101 901234`` or ``01.01.90.1234``
(masked as the bare form is). Whatever stands between the parts where a space may — a tab, a
padded export's NUL, ``\\x01``, U+202F, a zero-width space, two spaces — is read as one space:
``010190<TAB>1234`` is ``010190 1234`` and masked whole, gap and all. A spreadsheet cell
holding ``0101901234`` as a number reads ``101901234``.
The modulus-11 check is not used: numbers issued since 2007 need not satisfy it. The date must
exist: ``300290-1234`` is not a CPR number, ``290200-4321`` is (29 February 2000),
``290200-1234`` is not (1900 was not a leap year). Birth dates in the future are not rejected —
masking a number that merely looks like a CPR number costs less than leaking one.

Ten-digit numbers are common in CRM data, so where a number stands decides whether it is masked:

- the hyphenated form ``DDMMYY-SSSS`` standing on its own (not glued to letters, digits, ``-``
  or ``/``, as in ``ORD-240115-0001``) is masked in any column, and so is the one-space form
  ``DDMMYY SSSS`` standing on its own and not one space from other digits (``45 031275 1235``);
- the bare ``DDMMYYSSSS`` form and the digit groups are masked when the cell names it (``CPR``,
  ``cpr-nr``, ``personnummer``, ``person nr``, ``p-nr``), when the
  column's name does, or when the
  column holds whole-cell ten-digit numbers that are almost all (≥ 90 %) valid CPR numbers whose
  day-of-month part is spread out the way birthdays are — an order-number column of
  ``YYMMDDNNNN`` values has valid-looking "dates" whose day part is only ever the year, and a
  column of random ten-digit ids has only 1 in 27 valid dates;
- in a column of ten-digit ids (at least half its cells, 20 or more different numbers, few
  valid dates or a narrow day spread) nothing is masked unless the cell names a CPR number;
- in a column named for CPR numbers a whole-cell nine-digit number is masked when it is a CPR
  number with its leading zero dropped (``101901234``): a spreadsheet's number cell lost it.

Digit groups need the date's groups apart and the serial apart from the date (``01.01.1990
12:00`` is a date and a time), and must not run on into another group of digits: a phone number
is eight digits (``tlf 20 30 40 50``), ``45 20 30 40 50`` has no valid day.

A number must not touch another digit: an EAN (13 digits), a phone number with country code
``4520304050`` (day 45), a CVR number or a date written ``01-01-1990`` is never a CPR number.
Every masked number becomes ``XXXXXX-XXXX``.

A phone column is the one place a ten-digit number with a valid date is routinely something
else: a foreign customer's national number with its trunk ``0`` (a Swedish mobile
``0701234567``, a Berlin line ``0301234567``). In a record whose country column names another
country, a phone cell that is as a whole one valid number of that country (``phonenumbers``) is
a phone number and stays. Without a written country it is masked: the record may be Danish, and
masking a phone number costs less than leaking a CPR number.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from datavask.cleansing.schema import SRC_PREFIX, flag

MASK: Final = "XXXXXX-XXXX"

_HYPHEN: Final = "[-‐‑–]"  # hyphen-minus, hyphen, non-breaking hyphen, en dash
_ANY_SEPARATOR: Final = "[-‐‑– \u00a0]?"


def _day_month_year(dot: str) -> str:
    """Day and month that exist in every year, then the two-digit year; ``dot`` between them."""
    return (
        f"(?:(?:0[1-9]|[12][0-9]|3[01]){dot}(?:0[13578]|1[02])"
        f"|(?:0[1-9]|[12][0-9]|30){dot}(?:0[469]|11)"
        f"|(?:0[1-9]|1[0-9]|2[0-8]){dot}02){dot}[0-9]{{2}}"
    )


def _cpr_pattern(separator: str, dot: str = "", pair: str = "") -> str:
    """A CPR number with a valid date; 29 February only in leap years (2000, not 1900).

    ``separator`` stands between date and serial, ``dot`` between the date's parts and ``pair``
    between the serial's two pairs of digits."""
    leap_years = "(?:0[48]|[2468][048]|[13579][26])"
    serial = f"[0-9]{{2}}{pair}[0-9]{{2}}"
    return (
        f"(?:{_day_month_year(dot)}{separator}{serial}"
        f"|29{dot}02{dot}(?:{leap_years}{separator}{serial}"
        f"|00{separator}[4-9][0-9]{pair}[0-9]{{2}}))"
    )


# The birth date written with dots before the serial (``23.05.67-1235``): a CPR number in a note.
_CPR_DOTTED: Final = _cpr_pattern(_HYPHEN, r"\.")
CPR_ANY: Final = f"(?:{_cpr_pattern(_ANY_SEPARATOR)}|{_CPR_DOTTED})"
CPR_HYPHENATED: Final = f"(?:{_cpr_pattern(_HYPHEN)}|{_CPR_DOTTED})"
# Digit groups split by a space or a dot (``03 12 75 12 35``, ``03.12.75.1235``): the date's parts
# apart, the serial apart from the date, its two pairs apart or not.
_GROUP: Final = "[ .\u00a0]"
CPR_GROUPED: Final = _cpr_pattern(_GROUP, _GROUP, f"{_GROUP}?")

# Replacement patterns keep the boundary characters in groups 1 and 2.
_ANY_IN_TEXT: Final = f"(^|[^0-9])({CPR_ANY})([^0-9]|$)"
_STANDALONE_CHARS: Final = r"[^0-9\p{L}\-‐‑–/]"
_HYPHENATED_STANDALONE: Final = f"(^|{_STANDALONE_CHARS})({CPR_HYPHENATED})({_STANDALONE_CHARS}|$)"
# The one-space form (``031275 1235``) standing on its own the same way, and not one space away
# from another group of digits (``45 031275 1235`` is none): a note's CPR number without its dash.
_SPACE: Final = "[ \u00a0]"
_NOT_SPACE_STANDALONE: Final = r"[^0-9\p{L}\-‐‑–/ \u00a0]"
_SPACED_STANDALONE: Final = (
    f"(^|[^0-9 \u00a0]{_SPACE}|{_NOT_SPACE_STANDALONE})({_cpr_pattern(_SPACE)})"
    f"({_SPACE}[^0-9 \u00a0]|{_SPACE}$|{_NOT_SPACE_STANDALONE}|$)"
)
_STANDALONE: Final = (_HYPHENATED_STANDALONE, _SPACED_STANDALONE)
# A group of digits one separator away is the same number's: ``45 03 12 75 12 35`` is none.
_NOT_GROUPED: Final = "[^0-9 .\u00a0]"
_GROUPED_IN_TEXT: Final = (
    f"(^{_GROUP}?|[^0-9]{_GROUP}|{_NOT_GROUPED})({CPR_GROUPED})"
    f"({_GROUP}?$|{_GROUP}[^0-9]|{_NOT_GROUPED})"
)
# A form's ten digits in pairs with a space between any of them (``0101 901234``, ``01 01901234``):
# masked where digit groups are. Not followed by ``:`` — ``01 01 1990 12:00`` is a date and a time.
_CPR_LOOSE: Final = _cpr_pattern(f"{_SPACE}?", f"{_SPACE}?", f"{_SPACE}?")
_LOOSE_IN_TEXT: Final = (
    f"(^{_SPACE}?|[^0-9]{_SPACE}|{_NOT_GROUPED})({_CPR_LOOSE})"
    f"({_SPACE}?$|{_SPACE}[^0-9:]|[^0-9 .\u00a0:])"
)
_REPLACEMENT: Final = f"${{1}}{MASK}${{3}}"

# What may stand between a number's parts besides a dash: whitespace of any kind (a tab, U+202F),
# a control character (a padded export's NUL, ``\x01``) or a format character (a zero-width
# space, a soft hyphen). Between two digits a run of them is one space (:func:`_plain_gaps`).
_GAP_CHARS: Final = r"\s\p{Cc}\p{Cf}\p{Zs}"
_ODD_GAP_BETWEEN_DIGITS: Final = (
    f"([0-9])(?:[{_GAP_CHARS}]*[{_GAP_CHARS}&&[^ ]][{_GAP_CHARS}]*| {{2,}})([0-9])"
)
# The same odd characters beside the dash of a dashed number (``010190-<TAB>1234``,
# ``010190<NUL>-1234``) are read as nothing: the dash joins the digits as typed.
_ODD_GAP: Final = f"[{_GAP_CHARS}]*[{_GAP_CHARS}&&[^ ]][{_GAP_CHARS}]*"
_ODD_GAP_BEFORE_DASH: Final = f"([0-9]){_ODD_GAP}({_HYPHEN})"
_ODD_GAP_AFTER_DASH: Final = f"({_HYPHEN}){_ODD_GAP}([0-9])"

# ``p-nr`` is also a CVR production unit's number: masking one that looks like a CPR number costs
# less than leaking a personnummer written the short way.
_KEYWORD: Final = (
    r"(?i)cpr|person\s*-?\s*n(?:umme)?r|pers\.\s*nr|\bp\s*[-.]?\s*nr\b|fødselsnummer|født"
)
# Every cell a mask could change holds one of these (gaps of any kind, before they are read as
# spaces): five pairs of digits, gaps between them or not; the dashed forms; dotted digit groups.
_GAP_RUN: Final = f"[{_GAP_CHARS}]+"
_TEN_DIGITS_ANYWHERE: Final = (
    f"[0-9]{{2}}(?:[{_GAP_CHARS}]*[0-9]{{2}}){{4}}"
    f"|[0-9]{{6}}[{_GAP_CHARS}]*{_HYPHEN}[{_GAP_CHARS}]*[0-9]{{4}}"
    f"|[0-9]{{2}}\\.[0-9]{{2}}\\.[0-9]{{2}}{_HYPHEN}[0-9]{{4}}"
    f"|[0-9]{{2}}(?:(?:\\.|{_GAP_RUN})[0-9]{{2}}){{3}}(?:\\.|{_GAP_RUN})?[0-9]{{2}}"
)
_WHOLE_CELL_NINE_DIGITS: Final = r"^\s*[0-9]{9}\s*$"
_WHOLE_CELL_TEN_DIGITS: Final = f"^\\s*[0-9]{{6}}{_ANY_SEPARATOR}[0-9]{{4}}\\s*$"
_WHOLE_CELL_CPR: Final = f"^\\s*{CPR_ANY}\\s*$"
# A phone cell that is as a whole a CPR number in any form a phone field masks (``0701 23 45 67``).
_WHOLE_CELL_PHONE_SHAPED: Final = f"^\\s*(?:{CPR_ANY}|{CPR_GROUPED}|{_CPR_LOOSE})\\s*$"

# A column is a CPR column when this share of its whole-cell ten-digit numbers are CPR numbers.
CPR_COLUMN_SHARE: Final = 0.9
# Below this share the ten-digit numbers are ids; valid-looking dates among them are chance.
ID_COLUMN_SHARE: Final = 0.5
# …judged only on this many distinct whole-cell numbers: one order number in a notes column
# proves nothing.
MIN_ID_CELLS: Final = 20
# Birthdays spread over the days of a month; ids with a date prefix (YYMMDD) do not.
MIN_DISTINCT_DAYS: Final = 10


def is_cpr(value: str) -> bool:
    """Whether ``value`` is exactly one CPR number (a valid date, any of the three forms).

    >>> is_cpr('010190-1234')
    True
    >>> is_cpr('290200-4321'), is_cpr('290200-1234')
    (True, False)
    >>> is_cpr('310490-1234')
    False
    """
    return bool(pl.select(pl.lit(value).str.contains(_WHOLE_CELL_CPR)).item())


def mask_text(value: str | None) -> str | None:
    """``value`` with every CPR number masked, reading the cell on its own (no column context).

    >>> mask_text('CPR: 0101901234, tlf. 20304050')
    'CPR: XXXXXX-XXXX, tlf. 20304050'
    >>> mask_text('Kunde 010190-1234')
    'Kunde XXXXXX-XXXX'
    >>> mask_text('Ordre ORD-240115-0001, ean 5790000000005')
    'Ordre ORD-240115-0001, ean 5790000000005'
    """
    masked = mask_cpr(pl.DataFrame({"value": [value]}, schema={"value": pl.String}))
    return masked["value"][0]


def mask_message(text: str) -> str:
    """``text`` with every ten-digit number that has a valid date masked, in any of the forms
    (digit groups too) — for what has no column to judge by: a file name, a header cell, an
    error message.

    >>> mask_message("kunder_0101801234.csv: line 3 '010180 1234' is not valid; ring 4520304050")
    "kunder_XXXXXX-XXXX.csv: line 3 'XXXXXX-XXXX' is not valid; ring 4520304050"
    """
    return mask_messages([text])[0]


def mask_messages(texts: list[str]) -> list[str]:
    """:func:`mask_message` of each of ``texts``, in one pass (the strings of a run.json).

    >>> mask_messages(["Ark 010190-1234", "Kunder"])
    ['Ark XXXXXX-XXXX', 'Kunder']
    """
    written = pl.Series("text", texts, dtype=pl.String)
    plain = _plain_gaps(pl.col("text"))
    masked = _mask_all(plain)
    kept = pl.when(masked != plain).then(masked).otherwise(pl.col("text"))
    return pl.select(written).select(kept).to_series().to_list()


def _plain_gaps(text: pl.Expr) -> pl.Expr:
    """``text`` with every run of whitespace, control and format characters between two digits
    read as one space: ``010190\\t1234`` and ``010190\\x001234`` (a padded export's NUL) are
    ``010190 1234``, as cleansing later shows them, and ``0101\\u200b901234`` is ``0101 901234``.
    A cell is masked on this reading and otherwise keeps its gaps as written."""
    # Two passes: a match consumes its right digit, so ``1\\t2\\t3`` needs a second one.
    return (
        text.str.replace_all(_ODD_GAP_BEFORE_DASH, "${1}${2}")
        .str.replace_all(_ODD_GAP_AFTER_DASH, "${1}${2}")
        .str.replace_all(_ODD_GAP_BETWEEN_DIGITS, "${1} ${2}")
        .str.replace_all(_ODD_GAP_BETWEEN_DIGITS, "${1} ${2}")
    )


def _mask_all(text: pl.Expr) -> pl.Expr:
    # Two passes: a match consumes its right boundary, so of two numbers one character apart
    # the second is found only on the second pass. Digit groups after the ten-digit forms.
    for pattern in (_ANY_IN_TEXT, _GROUPED_IN_TEXT, _LOOSE_IN_TEXT):
        text = text.str.replace_all(pattern, _REPLACEMENT).str.replace_all(pattern, _REPLACEMENT)
    return text


def _mask_named(text: pl.Expr) -> pl.Expr:
    """A column named for CPR numbers: :func:`_mask_all`, and a whole-cell nine-digit number that
    is a CPR number without its leading zero — a spreadsheet's number cell drops it, so
    ``0101901234`` typed into Excel is read ``101901234``."""
    padded = text.str.strip_chars().str.zfill(10)
    lost_zero = text.str.contains(_WHOLE_CELL_NINE_DIGITS) & padded.str.contains(_WHOLE_CELL_CPR)
    return pl.when(lost_zero).then(pl.lit(MASK)).otherwise(_mask_all(text))


def _mask_hyphenated(text: pl.Expr) -> pl.Expr:
    """The standalone dashed and one-space forms; two passes each, as in :func:`_mask_all`."""
    for pattern in _STANDALONE:
        text = text.str.replace_all(pattern, _REPLACEMENT).str.replace_all(pattern, _REPLACEMENT)
    return text


def names_cpr(column: str) -> bool:
    """Whether a column's name says it holds CPR numbers (``CPR-nr``, ``Personnummer``)."""
    lowered = column.lower()
    return "cpr" in lowered or "personnummer" in lowered or "personnr" in lowered


# Canonical fields that hold a person's own words (names, addresses, e-mail): a ten-digit number
# with a valid date in one of them is a CPR number, written with or without its dash.
PERSON_TEXT_FIELDS: Final = (
    "name", "first_name", "last_name", "co_name", "address", "street", "city", "email",
    "address_line2",
)  # fmt: skip
# Canonical fields that hold phone numbers: a foreign record's own number there is no CPR number.
PHONE_FIELDS: Final = ("phone", "mobile")
# Where any CPR number is masked, whatever the rest of the column holds: the person text, and the
# phone fields (one ``4520304051`` beside a CPR number made the column no CPR column).
TEXT_MASKED_FIELDS: Final = (*PERSON_TEXT_FIELDS, *PHONE_FIELDS)
_PERSON_TEXT_COLUMNS: Final = frozenset(f"raw_{f}" for f in TEXT_MASKED_FIELDS)
_PHONE_COLUMNS: Final = tuple(f"raw_{f}" for f in PHONE_FIELDS)
_COUNTRY_COLUMN: Final = "raw_country"


def _column_masks(
    hits: pl.DataFrame,
    filled: dict[str, int],
    person_text: frozenset[str] = frozenset(),
    cpr_named: frozenset[str] = frozenset(),
) -> dict[str, pl.Expr]:
    """The masking expression for each column of ``hits`` that may hold a CPR number.

    ``hits`` holds the rows where some column has a ten-digit run (every cell a mask can change
    and every whole-cell number is among them); ``filled`` counts each column's non-null cells
    in the whole frame; ``cpr_named`` are the columns whose name says they hold CPR numbers.
    Columns where no number would be masked are left out (see the module doc). Whether a
    column's cells name CPR numbers is judged on these rows only: a keyword in a cell without a
    number masks nothing.
    """
    columns = hits.columns
    stats = hits.select(
        pl.struct(
            cells=pl.col(c).str.contains(_WHOLE_CELL_TEN_DIGITS).sum(),
            distinct=pl.col(c).filter(pl.col(c).str.contains(_WHOLE_CELL_TEN_DIGITS)).n_unique(),
            cprs=pl.col(c).str.contains(_WHOLE_CELL_CPR).sum(),
            days=pl.col(c)
            .filter(pl.col(c).str.contains(_WHOLE_CELL_CPR))
            .str.strip_chars()
            .str.slice(0, 2)
            .n_unique(),
            named=pl.col(c).str.contains(_KEYWORD).any(),
            hyphenated=pl.any_horizontal(pl.col(c).str.contains(p) for p in _STANDALONE).sum(),
        ).alias(c)
        for c in columns
    ).row(0, named=True)
    masks = {}
    for column in columns:
        cells, distinct, cprs, days, named, hyphenated = stats[column].values()
        text = pl.col(column)
        days_needed = min(MIN_DISTINCT_DAYS, -(-cprs // 3))
        is_cpr_column = cells and cprs >= CPR_COLUMN_SHARE * cells and days >= days_needed
        # An id column is mostly ten-digit numbers, and many different ones: a phone column
        # with a few ``1234567890`` placeholders is not one.
        is_id_column = (
            distinct >= MIN_ID_CELLS
            and cells >= ID_COLUMN_SHARE * filled[column]
            and (cprs < ID_COLUMN_SHARE * cells or days < days_needed)
        )
        # In an id column a dashed number is out of pattern unless the ids are written so.
        odd_dash = hyphenated and (not is_id_column or hyphenated < ID_COLUMN_SHARE * cells)
        if column in cpr_named:
            masks[column] = _mask_named(text)
        elif is_cpr_column or column in person_text:
            masks[column] = _mask_all(text)
        elif odd_dash:
            unnamed = _mask_hyphenated(text)
            masks[column] = (
                pl.when(text.str.contains(_KEYWORD)).then(_mask_all(text)).otherwise(unnamed)
                if named
                else unnamed
            )
        elif named:
            masks[column] = (
                pl.when(text.str.contains(_KEYWORD)).then(_mask_all(text)).otherwise(text)
            )
    return masks


def _as_text(df: pl.DataFrame, cpr_named: frozenset[str]) -> tuple[pl.DataFrame, list[str]]:
    """``df`` with its integer columns as text, ten digits wide where a number could be a CPR
    number that lost its leading zero (``101801234`` is ``0101801234``); and their names."""

    def wide(c: str) -> pl.Expr:
        return pl.col(c).cast(pl.Int64, strict=False).is_between(10**8, 10**10 - 1)

    integers = [name for name, dtype in df.schema.items() if dtype.is_integer()]
    if not integers:
        return df, []
    # Only a column named for CPR numbers, or one whose numbers are mostly ten digits wide: a
    # nine-digit amount among small ones is not a CPR number without its leading zero.
    share = df.select(wide(c).mean().alias(c) for c in integers).row(0, named=True)
    numbers = [c for c in integers if c in cpr_named or (share[c] or 0) >= ID_COLUMN_SHARE]
    as_text = [
        pl.when(wide(c))
        .then(pl.col(c).cast(pl.String).str.zfill(10))
        .otherwise(pl.col(c).cast(pl.String))
        .alias(c)
        for c in numbers
    ]
    return df.with_columns(as_text), numbers


def _nested_as_json(df: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """``df`` with its list and struct columns (a Parquet input's ``tags``, ``meta``) as JSON text,
    ``{"v":["a","020285-4321"]}``, ``{"v":{"cpr":"0101901234"}}``, so that they are masked as
    any text is (a struct's field named ``cpr`` names the number); and their names. The run's own
    work columns (``_typed_padding``, named with a leading ``_``) hold no input text."""
    nested = [
        name for name, dtype in df.schema.items() if dtype.is_nested() and not name.startswith("_")
    ]
    as_json = (pl.struct(pl.col(c).alias("v")).struct.json_encode().alias(c) for c in nested)
    return df.with_columns(as_json), nested


def _nested_back(masked: pl.Series, original: pl.Series) -> pl.Series:
    """A list or struct column read back from its masked JSON (:func:`_nested_as_json`): the
    cells a mask changed decoded to the column's type, the others as they were. A column whose
    masked cells do not decode (a number masked where an integer stood, a type JSON cannot give
    back) becomes its JSON text, as an integer column with a masked number becomes text."""
    changed = masked.str.contains(MASK, literal=True).fill_null(False)
    if not changed.any():
        return original
    # Only the changed cells are decoded (the others are null to the decoder).
    json = pl.when(changed).then(masked)
    decoded = json.str.json_decode(pl.Struct({"v": original.dtype})).struct.field("v")
    try:
        back = pl.when(changed).then(decoded).otherwise(original)
        return pl.select(back.alias(original.name)).to_series()
    except pl.exceptions.PolarsError:
        text = masked.str.slice(5).str.strip_suffix("}")  # {"v":[…]} → […]
        return pl.select(
            pl.when(original.is_not_null()).then(text).alias(original.name)
        ).to_series()


def _foreign_phones(df: pl.DataFrame) -> dict[str, pl.Series]:
    """Per column of ``df``, true for a cell that is one valid phone number of the foreign country
    the record's country column names (see the module doc); only columns with such a cell.

    The phone fields' ``raw_`` columns are asked; an input column (``src_``) holding the same cell
    in that row is the phone field's own column as read, and keeps it too. Only whole-cell
    ten-digit numbers in records with a country are asked of ``phonenumbers``: a handful of rows.
    """
    from datavask.cleansing.phones import one_number, phone_region

    phones = [c for c in _PHONE_COLUMNS if c in df.columns and df.schema[c] == pl.String]
    if _COUNTRY_COLUMN not in df.columns or not phones:
        return {}
    region = df.get_column(_COUNTRY_COLUMN).cast(pl.String)
    sources = [
        c
        for c, dtype in df.schema.items()
        if c.startswith(SRC_PREFIX) and dtype == pl.String and not names_cpr(c)
    ]
    found: dict[str, pl.Series] = {}
    placed = region.is_not_null().arg_true()  # most files have no country column at all
    for column in phones:
        shaped = df.get_column(column).gather(placed).str.contains(_WHOLE_CELL_PHONE_SHAPED)
        positions = placed.filter(shaped.fill_null(False))
        if positions.is_empty():
            continue
        cells = df.get_column(column).gather(positions)
        keep = pl.Series(
            [
                (home := phone_region(country, "DK")) != "DK" and one_number(cell, home)
                for cell, country in zip(cells, region.gather(positions), strict=True)
            ],
            dtype=pl.Boolean,
        )
        if not keep.any():
            continue
        positions, cells = positions.filter(keep), cells.filter(keep)
        for target in (column, *sources):
            same = df.get_column(target).gather(positions).str.strip_chars() == cells
            exempt = found.get(target, pl.repeat(False, df.height, dtype=pl.Boolean, eager=True))
            found[target] = exempt.scatter(positions.filter(same), True)
    return {c: exempt for c, exempt in found.items() if exempt.any()}


def mask_cpr(
    df: pl.DataFrame,
    *,
    person_text: frozenset[str] | None = None,
    cpr_columns: frozenset[str] = frozenset(),
) -> pl.DataFrame:
    """Mask CPR numbers in every text and integer column and add ``flag_CPR_IN_DATA``.

    Every ``pl.String`` column is read (``raw_*``, ``src_*``, ``record_id``, anything), and every
    integer column as its ten-digit text (an Int64 ``cpr`` column of a Parquet export); an
    integer column with a masked number becomes text; a list or struct column (a Parquet input's)
    is read as its JSON (:func:`_nested_as_json`). ``person_text`` names the columns that
    hold names, addresses, e-mail addresses and phones (default: the ``raw_`` columns of
    :data:`TEXT_MASKED_FIELDS`): any CPR number in them is masked, with or without its dash.
    A foreign record's own number in its phone fields (and the input column they were read
    from) stays (see the module doc). A column named for CPR numbers (:func:`names_cpr`), and
    each of ``cpr_columns`` (read from one: the person id mapped from ``CPR-nr``), has its
    nine-digit numbers that lost a leading zero masked as well. A ``record_id`` whose input id
    held a CPR number becomes ``XXXXXX-XXXX#<source_row>`` (:func:`_unique_masked_ids`).
    The flag is true for a row where any column held a CPR number (or where an earlier
    ``mask_cpr`` flagged it). Examples: ``'Jens Hansen, cpr 0101901234'`` becomes ``'Jens
    Hansen, cpr XXXXXX-XXXX'`` (flagged); ``'20304050'`` and ``'5790000000005'`` stay as they
    are (not flagged).

    This is the one place CPR numbers are masked. Anything that needs a raw number (a keyed
    hash for matching) must be derived from the frame before it reaches this function — in
    :func:`datavask.connectors.files.read_input`, whose ``before_masking`` hook exists for that.
    """
    original = df
    cpr_named = cpr_columns | {c for c in df.columns if names_cpr(c)}
    df, numbers = _as_text(df, cpr_named)
    df, nested = _nested_as_json(df)
    person_text = _PERSON_TEXT_COLUMNS if person_text is None else person_text
    foreign = _foreign_phones(df)
    # A foreign phone number is out of the masking's sight, and back once it is done.
    hidden = df.with_columns(
        pl.when(keep).then(None).otherwise(pl.col(c)).alias(c) for c, keep in foreign.items()
    )
    masked = _mask_text_columns(hidden, person_text, cpr_named).with_columns(
        pl.when(keep).then(df[c]).otherwise(pl.col(c)).alias(c) for c, keep in foreign.items()
    )
    changed_numbers = [c for c in numbers if not masked[c].equals(df[c], null_equal=True)]
    # Integer columns stay integers unless a number in them was masked.
    masked = masked.with_columns(
        original[c] for c in numbers if c not in changed_numbers
    ).with_columns(
        pl.when(pl.col(c) == MASK).then(pl.col(c)).otherwise(original[c].cast(pl.String))
        for c in changed_numbers
    )
    masked = masked.with_columns(_nested_back(masked[c], original[c]) for c in nested)
    name = flag("CPR_IN_DATA")
    if name in original.columns and original.schema[name] == pl.Boolean:
        masked = masked.with_columns((pl.col(name) | original[name]).alias(name))
    return _unique_masked_ids(masked)


_ID: Final = "record_id"
_RAW_ID: Final = f"raw_{_ID}"


def _unique_masked_ids(df: pl.DataFrame) -> pl.DataFrame:
    """``record_id`` of every row whose id held a CPR number: the masked id and the row,
    ``XXXXXX-XXXX#<source_row>``.

    The id is judged as the input holds it (``raw_record_id``): a repeated id is already
    ``0101801234#3`` in ``record_id``, a form no column rule masks, so ``record_id`` alone would
    leak it; and masked ids all read alike, so each takes its row to stay unique. Made from the
    masked input id every time, the result is the same however often a frame is masked (never
    ``XXXXXX-XXXX#3#3``). A frame without the input's id (one built in a test) has its masked
    ``record_id`` take its row once.
    """
    # (an id that is no text, an empty frame's, holds no mask)
    if _ID not in df.columns or "source_row" not in df.columns or df.schema[_ID] != pl.String:
        return df
    suffix = pl.concat_str(pl.lit("#"), pl.col("source_row").cast(pl.String))
    ident = pl.col(_ID)
    own = ident.str.contains(MASK, literal=True) & ~ident.str.ends_with(suffix)
    fixed = pl.when(own.fill_null(False)).then(ident + suffix).otherwise(ident)
    if df.schema.get(_RAW_ID) == pl.String:
        held = pl.col(_RAW_ID).str.contains(MASK, literal=True).fill_null(False)
        fixed = pl.when(held).then(pl.col(_RAW_ID) + suffix).otherwise(fixed)
    return df.with_columns(fixed.alias(_ID))


def _may_change(column: str, cpr_named: frozenset[str]) -> pl.Expr:
    """The cells a mask could change: those with a ten-digit run, grouped or not, and in a column
    named for CPR numbers a whole-cell nine-digit number too (see :func:`_mask_named`)."""
    runs = pl.col(column).str.contains(_TEN_DIGITS_ANYWHERE)
    if column not in cpr_named:
        return runs
    return runs | pl.col(column).str.contains(_WHOLE_CELL_NINE_DIGITS)


def _mask_text_columns(
    df: pl.DataFrame, person_text: frozenset[str], cpr_named: frozenset[str]
) -> pl.DataFrame:
    name = flag("CPR_IN_DATA")
    no_flag = pl.lit(False).alias(name)
    columns = [c for c, dtype in df.schema.items() if dtype == pl.String and c != name]
    # One cheap scan per column; everything else looks only at the few rows with a ten-digit run.
    runs = df.select(_may_change(c, cpr_named) for c in columns)
    candidates = [c for c in columns if runs[c].any()]
    if not candidates:
        return df.with_columns(no_flag)
    rows = runs.select(pl.any_horizontal(candidates)).to_series().arg_true()
    written = df.select(pl.col(candidates).gather(rows))
    # Judged and masked with their gaps read as spaces (``010190<TAB>1234``); a cell with no CPR
    # number keeps them as written.
    hits = written.select(_plain_gaps(pl.col(candidates)))
    filled = {c: df[c].count() for c in candidates}
    masks = _column_masks(hits, filled, person_text, cpr_named)
    if not masks:
        return df.with_columns(no_flag)
    masked = hits.select(
        pl.when(expr.ne_missing(pl.col(column))).then(expr).alias(column)
        for column, expr in masks.items()
    )
    changed = masked.select(pl.any_horizontal(pl.col(c).is_not_null() for c in masks)).to_series()
    flags = pl.repeat(False, df.height, dtype=pl.Boolean, eager=True).alias(flag("CPR_IN_DATA"))
    return df.with_columns(
        *(df[c].clone().scatter(rows, masked[c].fill_null(written[c])) for c in masks),
        flags.scatter(rows, changed),
    )
