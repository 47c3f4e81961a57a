"""Telephone numbers: every valid number in a phone field, in E.164 form.

A phone field in a Danish CRM holds an eight-digit Danish number in many dresses —
``20 30 40 50``, ``20-30-40-50``, ``2030.4050``, ``+45 20304050``, ``0045 20304050``,
``(+45) 20 30 40 50``, ``tlf. 20304050``, ``Tel: +45 20 30 40 50`` — and sometimes a foreign
number (``+46 8 123 456 78``, Greenland ``+299 32 10 00``, Faroe ``+298 31 22 33``), two
numbers (``20304050 / 30405060``), or a number with an extension (``33 12 34 56 lok. 123``).

The rules (the reference is :func:`parse_phone`, one value at a time with ``phonenumbers``):

- a number labelled as a fax's (``fax``, ``telefax``, ``faxnr.``, ``F:``) is no phone number: the
  worklist and collection would call a fax machine, and two customers sharing a fax say less than
  sharing a phone. Such a part is left out before anything else (:func:`without_fax`); a label
  after a number starts a new part (``Tlf. 86 12 12 12 Fax 86 12 12 13``), and a part labelled as
  a phone's too (``tlf/fax 86 12 12 12``) stays a phone. A field holding only a fax holds no
  phone: blank, not ``INVALID_PHONE``;
- a value is split into parts at ``; , |``, new lines and the words *og*, *eller*, *or*, and at
  ``/`` unless the text between those separators is, as a whole, one valid number of the region
  (``310/246-1501``, an American area code written with a slash, ``030/1234567`` in Germany):
  ``20304050 / 30405060`` is two Danish numbers, sixteen digits no Danish number has. One or two
  digits after a ``/`` are the next number's last digits, the rest shared with the number before
  (``20304050/51`` is ``20304050`` and ``20304051``, as Danish firms write a series of lines);
- an extension (``lok. 12``, ``lokal 12``, ``ext 12``, ``x12``, ``#12``) is cut off a part and kept
  apart (:func:`split_extension`);
- each part is parsed with ``phonenumbers.parse`` in the record's region (from ``raw_country``,
  else the country the addresses stage decided, else the default region ``DK``; a foreign
  record's field with no number of its country is read as Danish too) and kept when
  ``phonenumbers.is_valid_number`` says so; a part that does not parse as one valid number is
  searched for valid numbers (``phonenumbers.PhoneNumberMatcher``), which finds both in
  ``20304050 30405060``; a number found there that is only the head or tail of a longer run of
  digit groups (``0151 23456789``, a German mobile number in a record without a country) is not
  kept — the part is one number this region cannot read, not a Danish one with digits to spare;
- the result is every valid number, in E.164 (``+4520304050``), in order, without repeats;
- a part longer than 250 characters (phonenumbers' own limit) holds no number.

A number is valid when phonenumbers' metadata knows it as a number in use in its country —
in Denmark eight digits in the fixed-line, mobile, toll-free or premium-rate ranges, so
``12 34 56 78`` is rejected. The frame function :func:`normalise_phones` settles ordinary
Danish numbers with one polars regular expression and the Danish ranges compiled from that same
metadata (:data:`DK_NUMBER_TYPES`). The other values are split into parts and their extensions cut
off in polars too, parts polars can tell are settled there (see :func:`_part_numbers_fast`), and
only the rest go through phonenumbers (:func:`numbers_in_part`), once per distinct part.
``tests/cleansing/test_phones.py`` shows both paths agree on 20,000 generated numbers
(110,000 with ``pytest -m slow``).

Digits are ASCII or any Unicode decimal digit that phonenumbers accepts (it reads full-width
``２０３０４０５０`` as a Danish number); letters are not read as digits on a keypad.
"""

from __future__ import annotations

import re
from typing import Final

import phonenumbers
import polars as pl
from phonenumbers import Leniency, NumberParseException, PhoneMetadata, PhoneNumberFormat

from datavask.cleansing.schema import flag, raw, stage_text, whole_number

# The number types phonenumbers.is_valid_number accepts (every type but UNKNOWN).
_NUMBER_TYPE_DESCS: Final = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)


def _number_patterns(region: str) -> tuple[str, str]:
    """The region's overall national-number pattern and the union of its number-type patterns."""
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        raise ValueError(f"phonenumbers has no metadata for region {region!r}")
    general = metadata.general_desc.national_number_pattern
    types = [getattr(metadata, name) for name in _NUMBER_TYPE_DESCS]
    patterns = [
        d.national_number_pattern for d in types if d is not None and d.national_number_pattern
    ]
    # Metadata patterns write \d; our input is ASCII by then, and [0-9] keeps the Rust engine
    # from accepting other scripts' digits.
    return (
        f"^(?:{general})$".replace(r"\d", "[0-9]"),
        f"^(?:{'|'.join(patterns)})$".replace(r"\d", "[0-9]"),
    )


#: Danish national numbers in use, straight from phonenumbers' metadata: (overall, any type).
DK_NUMBER_PATTERNS: Final = _number_patterns("DK")
DK_NUMBER_TYPES: Final = DK_NUMBER_PATTERNS[1]

# An ordinary Danish number: an optional word in front (tlf., tel:, mobil), an optional +45 /
# 0045 / (+45), then eight ASCII digits with at most one space, dash or dot between two digits.
_FAST_DK: Final = (
    r"^(?:[a-zæøå]+[.:]?[ ]?)?"
    r"(?:(?:\+45|0045|\(\+45\)|\(0045\))[ .\-]?)?"
    r"(?P<digits>[0-9](?:[ .\-]?[0-9]){7})$"
)

# A field holding only the word a number would follow, or nothing.
_BARE_LABEL: Final = (
    r"^(?:(?:tlf|tel|telefon|telephone|phone|mobil|mob|mobile|mobiltelefon|fax|direkte|privat"
    r"|arbejde|kontor|hjem|nr|nummer)[ .:]*)?$"
)

# The separators that always part two numbers; ``/`` parts them only where the text it sits in is
# no one number (:func:`slash_parts`).
_SPLIT: Final = re.compile(r"[;,|\n\r]|\s+(?:og|eller|or)\s+", re.IGNORECASE)

# Labels that say what a number is (Python's and polars' regex dialects alike). A one-letter label
# needs its colon (``T: … F: …`` on a letterhead); ``\bf:`` is not the end of ``tlf:``.
FAX_LABEL: Final = r"(?i)\b(?:tele)?fax(?:nr|nummer)?\b|\bf:"
PHONE_LABEL: Final = (
    r"(?i)\b(?:tlf|tel|telefon\w*|telephone|phone|mobil\w*|mob|mobile|cell)\b|\b[tm]:"
)
# A value that may hold a fax number: the cheap test that keeps every other value on the fast path.
_FAX_HINT: Final = r"(?i)fax|f:"
# A label written after a number and before the next one starts a new part: ``Tlf. 86 12 12 12
# Fax 86 12 12 13`` is two parts, so the fax label stays with its own number. A label after the
# last number (``86 12 12 13 (fax)``) labels that number.
_NEXT_LABEL: Final = (
    r"(?:(?:(?:tele)?fax(?:nr|nummer)?|tlf|tel|telefon\w*|telephone|phone|mobil\w*|mob|mobile)\b"
    r"|\b[tmf]:)"
)
_LABEL_BREAK: Final = re.compile(rf"(?i)([0-9]\s+)({_NEXT_LABEL}[\s.:+(\-]*[0-9])")
_FAX_LABEL_RE: Final = re.compile(FAX_LABEL)
_PHONE_LABEL_RE: Final = re.compile(PHONE_LABEL)
_FAX_HINT_RE: Final = re.compile(_FAX_HINT)


def _is_fax(part: str) -> bool:
    """Whether a part of a value is labelled as a fax's number and not as a phone's."""
    return bool(_FAX_LABEL_RE.search(part)) and not _PHONE_LABEL_RE.search(part)


def without_fax(value: str) -> str:
    """``value`` without its parts labelled as fax numbers; the parts kept are joined with ``;``.

    >>> without_fax('Fax 75 12 12 13, tlf 75 12 12 12')
    ' tlf 75 12 12 12'
    >>> without_fax('T: 86 12 12 12 F: 86 12 12 13')
    'T: 86 12 12 12 '
    >>> without_fax('tlf/fax 86 12 12 12')
    'tlf/fax 86 12 12 12'
    """
    if not _FAX_HINT_RE.search(value):
        return value
    parts = _SPLIT.split(_LABEL_BREAK.sub(r"\1;\2", value))
    return ";".join(part for part in parts if not _is_fax(part))


_EXTENSION: Final = re.compile(
    r"^(?P<number>.*[0-9].*?)[\s,]*"
    r"(?:lok(?:al)?|ext(?:ension)?|x|#)[.:]?\s*(?P<extension>[0-9]{1,6})\s*$",
    re.IGNORECASE | re.DOTALL,
)

# Country names customers write, to phonenumbers regions; ISO 3166 alpha-2 codes map to themselves.
_COUNTRY_REGIONS: Final = {
    "danmark": "DK",
    "denmark": "DK",
    "dänemark": "DK",
    "dnk": "DK",
    "grønland": "GL",
    "greenland": "GL",
    "kalaallit nunaat": "GL",
    "grl": "GL",
    "færøerne": "FO",
    "færørne": "FO",
    "faroe islands": "FO",
    "føroyar": "FO",
    "fro": "FO",
    "sverige": "SE",
    "sweden": "SE",
    "swe": "SE",
    "norge": "NO",
    "norway": "NO",
    "nor": "NO",
    "tyskland": "DE",
    "germany": "DE",
    "deutschland": "DE",
    "deu": "DE",
    "finland": "FI",
    "island": "IS",
    "iceland": "IS",
    "holland": "NL",
    "nederlandene": "NL",
    "netherlands": "NL",
    "england": "GB",
    "storbritannien": "GB",
    "united kingdom": "GB",
    "uk": "GB",
    "frankrig": "FR",
    "france": "FR",
    "spanien": "ES",
    "spain": "ES",
    "italien": "IT",
    "italy": "IT",
    "polen": "PL",
    "poland": "PL",
    "belgien": "BE",
    "belgium": "BE",
    "østrig": "AT",
    "austria": "AT",
    "schweiz": "CH",
    "switzerland": "CH",
    "usa": "US",
    "united states": "US",
}
_REGIONS: Final = {
    **{region.lower(): region for region in phonenumbers.SUPPORTED_REGIONS},
    **_COUNTRY_REGIONS,
}


def phone_region(country: str | None, default_region: str = "DK") -> str:
    """The phonenumbers region for a country as customers write it (ISO code or name).

    >>> phone_region('Grønland')
    'GL'
    >>> phone_region(' se ')
    'SE'
    >>> phone_region('Atlantis')
    'DK'
    """
    if country is None:
        return default_region
    return _REGIONS.get(country.strip().lower(), default_region)


def split_extension(part: str) -> tuple[str, str | None]:
    """The number and the extension written after it (``lok.``, ``ext``, ``x``, ``#``).

    >>> split_extension('33 12 34 56 lok. 123')
    ('33 12 34 56', '123')
    >>> split_extension('33 12 34 56')
    ('33 12 34 56', None)
    """
    match = _EXTENSION.match(part)
    if match is None:
        return part, None
    return match["number"], match["extension"]


# phonenumbers.parse refuses longer input; searching it (and the extension pattern, which
# backtracks) would cost seconds per 10 kB of digits.
MAX_PART_LENGTH: Final = 250


# ``+45 (0) 20304050``: the international form's "(0)", a trunk prefix the country may not have
# (Denmark has none); written after a country code it is no digit of the number.
_TRUNK_ZERO: Final = re.compile(r"((?:\+|(?<![0-9])00)[0-9]{1,3})\s*\(0\)")


def numbers_in_part(part: str, region: str) -> list[str]:
    """The valid numbers in one part of a value (split, extension cut off), the reference's way.

    >>> numbers_in_part('20304050 30405060', 'DK')
    ['+4520304050', '+4530405060']
    >>> numbers_in_part('+45 (0) 20304050', 'DK')
    ['+4520304050']
    """
    part = _TRUNK_ZERO.sub(r"\1 ", part)
    try:
        number = phonenumbers.parse(part, region)
    except NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        return [phonenumbers.format_number(number, PhoneNumberFormat.E164)]
    matches = list(phonenumbers.PhoneNumberMatcher(part, region, leniency=Leniency.VALID))
    covered = [False] * len(part)
    for match in matches:
        covered[match.start : match.end] = [True] * (match.end - match.start)
    return [
        phonenumbers.format_number(match.number, PhoneNumberFormat.E164)
        for match in matches
        if not _fragment(part, match.start, match.end, covered)
    ]


def one_number(text: str, region: str) -> bool:
    """Whether ``text`` (extension cut off) is as a whole one valid number of ``region``.

    >>> one_number('310/246-1501', 'US'), one_number('20304050 / 30405060', 'DK')
    (True, False)
    """
    number, _ = split_extension(text.strip())
    if not number or len(number) > MAX_PART_LENGTH:
        return False
    try:
        parsed = phonenumbers.parse(number, region)
    except NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(parsed))


def slash_parts(chunk: str, region: str) -> list[str]:
    """``chunk`` (a value's text between separators other than ``/``) split at ``/``, unless it is
    as a whole one valid number of ``region``.

    >>> slash_parts('310/246-1501', 'US'), slash_parts('20304050 / 30405060', 'DK')
    (['310/246-1501'], ['20304050 ', ' 30405060'])
    """
    if "/" in chunk and not one_number(chunk, region):
        return _with_shared_digits(chunk.split("/"))
    return [chunk]


# The digits after a ``/`` that end the number before it: ``20304050/51``.
_LAST_DIGITS: Final = re.compile(r"[0-9]{1,2}")


def _with_shared_digits(pieces: list[str]) -> list[str]:
    """``pieces`` (a chunk split at ``/``) with a piece of one or two digits made the number
    before it with those last digits: ``['20304050', '51']`` is ``['20304050', '20304051']``.

    The number before must end in as many digits, and be a number (six digits or more); three
    digits or more after a ``/`` are left alone (an extension, or a number of their own).

    >>> _with_shared_digits(['20 30 40 50', '51', ' 52'])
    ['20 30 40 50', '20 30 40 51', '20 30 40 52']
    >>> _with_shared_digits(['030', '12'])
    ['030', '12']
    """
    result: list[str] = []
    head = ""  # the last number written whole, without trailing whitespace
    for piece in pieces:
        last = piece.strip()
        if _LAST_DIGITS.fullmatch(last) and _LAST_DIGITS.fullmatch(head[-len(last) :]):
            result.append(head[: -len(last)] + last)
            continue
        result.append(piece)
        head = piece.rstrip()
        if sum(c in "0123456789" for c in head) < 6:
            head = ""
    return result


def _fragment(part: str, start: int, end: int, covered: list[bool]) -> bool:
    """True when the match ``part[start:end]`` is the tail or head of a longer run of digit groups
    (``0151 23456789``: a German number whose last eight digits look Danish). Its neighbour,
    past spaces and ``- . / ( )``, is then a digit that no other match holds."""
    before = start - 1
    while before >= 0 and part[before] in _GROUP_SEPARATORS:
        before -= 1
    after = end
    while after < len(part) and part[after] in _GROUP_SEPARATORS:
        after += 1
    return any(
        0 <= i < len(part) and part[i].isdecimal() and not covered[i] for i in (before, after)
    )


_GROUP_SEPARATORS: Final = frozenset(" -./()\t\xa0")


def parse_phone_with_extension(
    value: str | None, region: str = "DK"
) -> tuple[list[str], str | None]:
    """Every valid number in ``value`` (E.164, in order, no repeats) and the first extension."""
    if value is None or not value.strip():
        return [], None
    numbers: list[str] = []
    first_extension = None
    value = without_fax(value)
    raw_parts = (part for chunk in _SPLIT.split(value) for part in slash_parts(chunk, region))
    for raw_part in raw_parts:
        if len(raw_part) > MAX_PART_LENGTH:
            continue
        part, extension = split_extension(raw_part.strip())
        if not part:
            continue
        # phonenumbers finds a number written twice in one part twice: it is kept once.
        found = list(dict.fromkeys(n for n in numbers_in_part(part, region) if n not in numbers))
        if found and first_extension is None:
            first_extension = extension
        numbers.extend(found)
    return numbers, first_extension if numbers else None


def parse_phone(value: str | None, region: str = "DK") -> list[str]:
    """Every valid phone number in ``value``, in E.164 form, in order, without repeats.

    >>> parse_phone('tlf. 20 30 40 50 / (+45) 30-40-50-60')
    ['+4520304050', '+4530405060']
    >>> parse_phone('+299 32 10 00')
    ['+299321000']
    >>> parse_phone('12 34 56 78')
    []
    """
    return parse_phone_with_extension(value, region)[0]


def _region_expr(df: pl.DataFrame, default_region: str) -> pl.Expr:
    """The record's region: its country column as written, else the country the addresses stage
    decided (``country``: from a ``SE-`` prefix, the last address line, a ``TQ13 8DF``-shaped
    postal code), else ``default_region``."""
    written = stage_text(df, "phones", raw("country")).str.strip_chars().str.to_lowercase()
    decided = stage_text(df, "phones", "country").str.strip_chars().str.to_lowercase()
    return pl.coalesce(
        written.replace_strict(_REGIONS, default=None, return_dtype=pl.String),
        decided.replace_strict(_REGIONS, default=None, return_dtype=pl.String),
        pl.lit(default_region),
    )


def _numbers_here_or_home(values: pl.DataFrame, default_region: str) -> pl.DataFrame:
    """:func:`_field_numbers`, and for a foreign record whose field holds no number of its
    country, the numbers it holds as a ``default_region`` one: a Danish contact's number in a
    Swedish customer's record is kept (when unsure, keep), a Swedish one read as Swedish."""
    found = _field_numbers(values)
    retry = values.select(
        (pl.col("region") != default_region) & found["present"] & (found["numbers"].list.len() == 0)
    ).to_series()
    if not retry.any():
        return found
    rows = pl.int_range(values.height, dtype=pl.UInt32, eager=True).filter(retry)
    home = _field_numbers(
        values.filter(retry).with_columns(region=pl.lit(default_region))
    ).with_columns(row=rows)
    return found.with_row_index("row").update(home, on="row").drop("row")


_NUMBERS: Final = pl.List(pl.String)

# What Python's ``str.strip()`` and ``\s`` call whitespace (``str.isspace``), spelled out so the
# polars (Rust) expressions below split, strip and cut extensions exactly as the reference does.
PY_WHITESPACE: Final = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_WS: Final = f"[{PY_WHITESPACE}]"
# _SPLIT and _EXTENSION in the polars regex dialect.
_SPLIT_EXPR: Final = f"(?i)[;,|\\n\\r]|{_WS}+(?:og|eller|or){_WS}+"
_EXTENSION_EXPR: Final = (
    f"(?is)^(.*[0-9].*?)[{PY_WHITESPACE},]*"
    f"(?:lok(?:al)?|ext(?:ension)?|x|#)[.:]?{_WS}*([0-9]{{1,6}}){_WS}*$"
)
_PART_BREAK: Final = "\x00"
# _LABEL_BREAK in the polars regex dialect.
_LABEL_BREAK_EXPR: Final = f"(?i)([0-9]{_WS}+)({_NEXT_LABEL}[{PY_WHITESPACE}.:+(\\-]*[0-9])"


def _dk_numbers(national: pl.Expr) -> pl.Expr:
    """Expression: ``[+45…]`` when ``national`` is a Danish number in use, else ``[]``."""
    general, types = DK_NUMBER_PATTERNS
    valid = national.str.contains(general) & national.str.contains(types)
    return pl.when(valid).then(pl.concat_list(pl.lit("+45") + national)).otherwise(pl.lit([]))


def _part_numbers_fast(number: pl.Expr, region: pl.Expr) -> pl.Expr:
    """Expression: the numbers in one part (extension cut off) where polars can tell, else null.

    In the Danish region: an ordinary Danish number (:data:`_FAST_DK`); a run of ASCII digits,
    which phonenumbers reads as a national number (valid only at eight digits) or, at ten digits
    starting ``45``, as ``45`` and a national number; ``+45`` and a run of digits of another
    length than eight, which is no number, nor is the run on its own (checked by the same rule).
    Runs starting ``00`` (an international prefix) are left to phonenumbers. In any region: a
    part without a single digit (any script) holds no number.
    """
    digits = number.str.to_lowercase().str.extract(_FAST_DK, 1).str.replace_all(r"[^0-9]", "")
    run = number.str.extract(r"^(?:\+45 ?)?([0-9]+)$", 1)
    run_is_45_national = (run.str.len_bytes() == 10) & run.str.starts_with("45")
    in_dk = region == "DK"
    return (
        pl.when(~number.str.contains(r"\d"))
        .then(pl.lit([], dtype=_NUMBERS))
        .when(in_dk & digits.is_not_null())
        .then(_dk_numbers(digits))
        .when(in_dk & run.is_not_null() & ~run.str.starts_with("00"))
        .then(
            pl.when(number.str.starts_with("+"))
            .then(pl.when(~run_is_45_national).then(pl.lit([], dtype=_NUMBERS)))
            .when(run_is_45_national)
            .then(_dk_numbers(run.str.slice(2)))
            .otherwise(pl.lit([], dtype=_NUMBERS))
        )
    )


def _pending_numbers(pending: pl.DataFrame) -> pl.DataFrame:
    """:func:`parse_phone_with_extension` for each distinct (``value``, ``region``) of ``pending``.

    The value is split into parts and the extension cut off in polars, as the reference does;
    parts polars can settle (:func:`_part_numbers_fast`) are settled, and phonenumbers sees each
    remaining distinct (part, region) once. Returns ``value``, ``region``, ``slow`` (list[str])
    and ``extension``.
    """
    # A value holding the character the parts are joined with goes to the reference whole.
    odd = pending.filter(pl.col("value").str.contains(_PART_BREAK, literal=True))
    odd_parsed = [parse_phone_with_extension(v, r) for v, r in odd.iter_rows()]
    odd_result = odd.with_columns(
        slow=pl.Series([numbers for numbers, _ in odd_parsed], dtype=_NUMBERS),
        extension=pl.Series([extension for _, extension in odd_parsed], dtype=pl.String),
    )
    keyed = pending.filter(~pl.col("value").str.contains(_PART_BREAK, literal=True))
    keyed = keyed.with_row_index("key")
    parts = (
        _slash_split(
            keyed.select(
                "key",
                "region",
                part=pl.col("value")
                .str.replace_all(_SPLIT_EXPR, _PART_BREAK)
                .str.split(_PART_BREAK),
            ).explode("part")
        )
        .filter(pl.col("part").str.len_chars() <= MAX_PART_LENGTH)
        .with_columns(pl.col("part").str.strip_chars(PY_WHITESPACE))
        .with_columns(
            number=pl.coalesce(pl.col("part").str.extract(_EXTENSION_EXPR, 1), pl.col("part")),
            extension=pl.col("part").str.extract(_EXTENSION_EXPR, 2),
        )
        .filter(pl.col("number") != "")
        .with_columns(fast=_part_numbers_fast(pl.col("number"), pl.col("region")))
    )
    unsettled = parts.filter(pl.col("fast").is_null()).select("number", "region").unique()
    searched = unsettled.with_columns(
        searched=pl.Series(
            [numbers_in_part(n, r) for n, r in unsettled.iter_rows()], dtype=_NUMBERS
        )
    )
    found = (
        parts.join(searched, on=["number", "region"], how="left", maintain_order="left")
        .select("key", "extension", found=pl.coalesce("fast", "searched"))
        .explode("found")
        .filter(pl.col("found").is_not_null())
        # A number already found in an earlier part of the value is not repeated.
        .filter(pl.struct("key", "found").is_first_distinct())
        .group_by("key", maintain_order=True)
        .agg(slow="found", extension=pl.col("extension").drop_nulls().first())
    )
    result = keyed.join(found, on="key", how="left").select(
        "value",
        "region",
        pl.col("slow").fill_null(pl.lit([], dtype=_NUMBERS)),
        "extension",
    )
    return pl.concat([result, odd_result])


def _slash_split(chunks: pl.DataFrame) -> pl.DataFrame:
    """``chunks`` (``key``, ``region``, ``part``: a value's text between the separators other than
    ``/``) with each part split at ``/`` unless it is as a whole one valid number of its region
    (:func:`slash_parts`); phonenumbers sees each distinct (part, region) holding a ``/`` once."""
    slashed = chunks.filter(pl.col("part").str.contains("/", literal=True))
    if slashed.height == 0:
        return chunks
    distinct = slashed.select("part", "region").unique()
    pieces = distinct.with_columns(
        pieces=pl.Series([slash_parts(p, r) for p, r in distinct.iter_rows()], dtype=_NUMBERS)
    )
    return (
        chunks.join(pieces, on=["part", "region"], how="left", maintain_order="left")
        .with_columns(
            part=pl.when(pl.col("pieces").is_null())
            .then(pl.concat_list("part"))
            .otherwise("pieces")
        )
        .explode("part")
        .drop("pieces")
    )


def _without_fax_numbers(values: pl.DataFrame) -> pl.DataFrame:
    """``values`` with each ``value`` that may hold a fax number :func:`without_fax`, in polars;
    only the few values with ``fax`` or ``f:`` in them pay for it."""
    faxy = values.select(pl.col("value").str.contains(_FAX_HINT).fill_null(False)).to_series()
    if not faxy.any():
        return values
    rows = values.with_row_index("row").filter(faxy)
    # A value holding the character the parts are split at goes to the reference whole.
    odd = rows.filter(pl.col("value").str.contains(_PART_BREAK, literal=True))
    odd = odd.with_columns(value=pl.Series([without_fax(v) for v in odd["value"]], dtype=pl.String))
    fax = pl.element().str.contains(FAX_LABEL) & ~pl.element().str.contains(PHONE_LABEL)
    plain = rows.filter(~pl.col("value").str.contains(_PART_BREAK, literal=True)).with_columns(
        value=pl.col("value")
        .str.replace_all(_LABEL_BREAK_EXPR, "${1};${2}")
        .str.replace_all(_SPLIT_EXPR, _PART_BREAK)
        .str.split(_PART_BREAK)
        .list.eval(pl.element().filter(~fax))
        .list.join(";")
    )
    rewritten = pl.concat([plain, odd]).select("row", "value")
    return values.with_row_index("row").update(rewritten, on="row").drop("row")


def _field_numbers(values: pl.DataFrame) -> pl.DataFrame:
    """Numbers and extension for one phone field.

    ``values`` has ``value`` and ``region``; the result has ``numbers`` (list[str]),
    ``extension`` and ``present`` (a value that is not blank), row for row.
    """
    values = _without_fax_numbers(values)
    cleaned = pl.col("value").str.strip_chars().str.to_lowercase()
    # Materialised once: inside when/then every use would run the regular expression again.
    # A label with no number (``Tlf:``, a CRM's template left as it was) is a blank field.
    staged = values.with_columns(
        present=~cleaned.fill_null("").str.contains(_BARE_LABEL)
    ).with_columns(
        digits=pl.when("present").then(
            cleaned.str.extract(_FAST_DK, 1).str.replace_all("[^0-9]", "")
        )
    )
    staged = staged.with_columns(
        settled=~pl.col("present") | ((pl.col("region") == "DK") & pl.col("digits").is_not_null()),
        fast=_dk_numbers(pl.col("digits")).fill_null(pl.lit([], dtype=_NUMBERS)),
    )
    pending = staged.filter(~pl.col("settled")).select("value", "region").unique()
    slow = _pending_numbers(pending)
    joined = staged.join(slow, on=["value", "region"], how="left", maintain_order="left")
    return joined.select(
        numbers=pl.when(pl.col("settled")).then(pl.col("fast")).otherwise(pl.col("slow")),
        extension=pl.col("extension"),
        present=pl.col("present"),
    )


def normalise_phones(df: pl.DataFrame, *, default_region: str = "DK") -> pl.DataFrame:
    """Add ``phone_e164``, ``phone_numbers``, ``phone_extension`` and ``flag_INVALID_PHONE``.

    Reads ``raw_phone``, ``raw_mobile``, ``raw_country`` (ISO code or a name such as
    ``Danmark``/``Grønland``) and ``country`` (the addresses stage's decision), all optional
    (:data:`~datavask.cleansing.schema.STAGES`); the region is the first of the two countries
    phonenumbers knows, else ``default_region``, and a field with no number of a foreign region
    is read in ``default_region`` too. ``phone_numbers`` holds every valid number of both
    fields (phone first, no repeats), ``phone_e164`` the first of them, ``phone_extension`` the
    extension written with it. The flag is raised when a field is not blank and yields no valid
    number — ``n/a`` and ``00000000`` are typed values that are not numbers, so they are flagged
    too. Examples:
    ``raw_phone = 'tlf. 20 30 40 50 lok. 12'`` gives ``+4520304050`` with extension ``12``;
    ``raw_phone = '12 34 56 78', raw_mobile = '(+45) 30405060'`` gives ``+4530405060`` and the flag.
    """
    # taken once for both fields, and once per distinct spelling of the two country columns (a
    # million records hold a few dozen): on every record it cost 0.2 CPU-s a field
    read = [raw("country"), "country"]
    countries = df.select(stage_text(df, "phones", column).alias(column) for column in read)
    distinct = countries.unique()
    regions = distinct.with_columns(_region=_region_expr(distinct, default_region))
    region = countries.join(regions, on=read, how="left", nulls_equal=True, maintain_order="left")[
        "_region"
    ]
    phone, mobile = (
        _numbers_here_or_home(
            df.select(value=whole_number(stage_text(df, "phones", raw(name))), region=region),
            default_region,
        ).select(pl.all().name.prefix(f"{name}_"))
        for name in ("phone", "mobile")
    )
    fields = pl.concat([phone, mobile], how="horizontal").with_row_index("row")
    fields = fields.with_columns(
        found_phone=pl.col("phone_numbers").list.len() > 0,
        found_mobile=pl.col("mobile_numbers").list.len() > 0,
    )
    # Merging two lists costs a list operation per row; only rows with a mobile number need it.
    merged = fields.filter("found_mobile").select(
        "row",
        pl.concat_list("phone_numbers", "mobile_numbers").list.unique(maintain_order=True),
    )
    if merged.height:
        fields = fields.update(merged, on="row")
    result = fields.select(
        phone_e164=pl.col("phone_numbers").list.first(),
        phone_numbers="phone_numbers",
        phone_extension=pl.when("found_phone")
        .then(pl.col("phone_extension"))
        .otherwise(pl.col("mobile_extension")),
        **{
            flag("INVALID_PHONE"): (pl.col("phone_present") & ~pl.col("found_phone"))
            | (pl.col("mobile_present") & ~pl.col("found_mobile"))
        },
    )
    return df.with_columns(result.get_columns())
