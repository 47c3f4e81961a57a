"""Danish addresses: street, house number, floor, door, postal code, official city, country.

In: the canonical frame's ``raw_address`` (a whole address, one line or several joined by
newlines) and/or the structured ``raw_street``, ``raw_house_number``, ``raw_floor``,
``raw_door``, ``raw_postal_code``, ``raw_city``, ``raw_country`` (missing columns count as null).
Out: ``street``, ``house_number``, ``floor``, ``door``, ``postal_code``, ``city``, ``country``,
``co_name``, ``po_box``, ``street_key``, ``address_key``, ``flag_MISSING_ADDRESS`` and
``flag_UNKNOWN_POSTAL_CODE``.

``Vestergade 12A, 2. tv, 8000 Kbh. K`` → ``Vestergade`` / ``12A`` / ``2`` / ``tv`` /
``8000`` / ``Aarhus C`` (the postal code wins over the typed city) / ``DK``.

The parse is a handful of anchored regular expressions run over the whole column by polars;
no Python runs per row. A structured input column, when given, wins over the same part parsed
out of ``raw_address``.
"""

from __future__ import annotations

import re
from functools import cache

import polars as pl

from cleansing.names import collapse_whitespace, fold, proper_case, text_key
from cleansing.reference import load_reference

_LETTER = r"[A-Za-zÆØÅæøåÄÖÜäöüÉé]"

# ``8000 Aarhus C`` (with or without a ``DK-``) at the end of an address, after a comma, newline
# or space; the city is letters only, so ``Vestergade 12, 2. tv`` never looks like one.
_CITY = r"\p{L}[\p{L}\s.\-'’]*?"
_POSTAL_CITY_TAIL = (
    rf"^(?:(?P<rest>.*?)[,\s]\s*)?(?i:dk\s*-?\s*)?(?P<code>\d{{4}})\s+(?P<city>{_CITY})[\s.]*$"
)
# ``Storgatan 1, SE-211 20 Malmö``: a foreign code behind its country prefix.
_FOREIGN_TAIL = (
    rf"^(?:(?P<rest>.*?)[,\s]\s*)?(?P<prefix>[A-Za-z]{{1,3}})\s*-\s*(?P<code>\d[\d ]{{1,6}}\d)"
    rf"\s+(?P<city>{_CITY})[\s.]*$"
)
# ``Vestergade 12, 8000``: a bare code only after a comma, so a 4-digit house number stays one.
_POSTAL_TAIL = r"^(?:(?P<rest>.*?),\s*)?(?i:dk\s*-?\s*)?(?P<code>\d{4})[\s.]*$"

_CO = r"(?i)(?:^|,)\s*c\s*/\s*o(?-u:\b)[:.]?\s*(?P<co>[^,]+)"
_ATTENTION = r"(?i)(?:^|,)\s*(?:att|attn|attention)(?-u:\b)[:.]?\s*[^,]*"
_PO_BOX = (
    r"(?i)(?:^|,)\s*(?:postboks|post\s*box|postbox|p\.?\s*o\.?\s*box|pb\.?|boks|box)"
    r"\s*(?:nr\.?\s*)?(?P<box>\d{1,6})(?-u:\b)[^,]*"
)

# The segment that holds the street: skip leading segments without digits (a company or
# building name on its own line) when a later one has a street and a number.
_STREET_SEGMENT = r"^(?:[^,\d]+,\s*)*?(?P<street_part>[^,]*\p{L}[^,]*\d.*)$"

# ``Vestergade 12A``, ``H.C. Andersens Boulevard 27``, ``Vestergade 12-14``: the street runs up
# to the first number that is followed only by floor/door text (checked by _FLOOR_DOOR).
_STREET_NUMBER = (
    rf"^(?P<street>.*?\p{{L}}.*?)[\s,]+(?P<number>\d{{1,4}})\s?(?P<letter>{_LETTER})?"
    rf"(?:\s*-\s*(?P<to>\d{{1,4}}\s?{_LETTER}?))?(?P<rest>(?:[\s,.].*)?)$"
)

# Floor and door after the house number: ``2. tv``, ``st. th``, ``2. sal tv``, ``1.``, ``kl.``,
# ``3. 312``, ``lejl. 4``. Matched on the lower-cased rest with commas as spaces.
_FLOOR_WORD = r"st|stuen|stue|parterre|kl|kld|kælder|kaelder|\d{1,2}"
_DOOR_WORD = (
    r"tv|th|mf|t\.\s?v|t\.\s?h|m\.\s?f|venstre|højre|hoejre|midt|\d{1,4}[a-zæøå]?|[a-zæøå]\d{0,3}"
)
_FLOOR_DOOR = (
    rf"^[\s.]*(?:(?P<floor>{_FLOOR_WORD})(?:\s*\.\s*|\s+|$)(?:(?:sal|etage|etg)\.?(?:\s+|$))?)?"
    rf"(?:(?:lejl(?:ighed)?|dør|door)\.?\s*)?(?:(?P<door>{_DOOR_WORD})\.?)?[\s.]*$"
)
_FLOOR_NAMES = {
    "stuen": "st",
    "stue": "st",
    "parterre": "st",
    "0": "st",
    "kld": "kl",
    "kælder": "kl",
    "kaelder": "kl",
}
_DOOR_NAMES = {"venstre": "tv", "højre": "th", "hoejre": "th", "midt": "mf"}


def _null() -> pl.Expr:
    return pl.lit(None, dtype=pl.String)


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.str.len_bytes() > 0).then(expr).otherwise(_null())


def _clean(expr: pl.Expr) -> pl.Expr:
    """Whitespace collapsed, stray separators and quotes trimmed from the ends; blank → null."""
    return _blank_to_null(collapse_whitespace(expr).str.strip_chars(" ,;:\"'“”"))


@cache
def _countries() -> tuple[dict[str, str], str]:
    """(folded country name → ISO alpha-2, regex finding a country as the last address segment)."""
    table = load_reference("countries").with_columns(key=text_key(pl.col("name")))
    lookup = dict(zip(table["key"], table["iso2"], strict=True))
    # Two-letter codes only in capitals at the end of an address: ", no" or ", de" are words.
    long_names = sorted(
        {re.escape(name) for name in table["name"] if len(name) > 3}, key=len, reverse=True
    )
    codes = sorted({re.escape(name.upper()) for name in table["name"] if len(name) <= 3})
    tail = rf"(?:^|,)\s*(?P<country>(?i:{'|'.join(long_names)})|{'|'.join(codes)})[\s.]*$"
    return lookup, tail


def country_code(expr: pl.Expr) -> pl.Expr:
    """ISO 3166 alpha-2 of a country as written (``Danmark``, ``DNK``, ``Færøerne``), or null."""
    lookup, _ = _countries()
    return text_key(expr).replace_strict(lookup, default=None, return_dtype=pl.String)


@cache
def _postal_codes() -> tuple[list[str], dict[str, str], dict[str, str]]:
    """(all codes, code → official district name, folded unique district name → its one code)."""
    table = load_reference("dk_postal_codes")
    official = dict(zip(table["postal_code"], table["name"], strict=True))
    unique = (
        table.with_columns(key=text_key(pl.col("name")))
        .group_by("key")
        .agg(pl.col("postal_code"))
        .filter(pl.col("postal_code").list.len() == 1)
    )
    by_name = dict(zip(unique["key"], unique["postal_code"].list.first(), strict=True))
    return table["postal_code"].to_list(), official, by_name


@cache
def _street_abbreviations() -> list[tuple[str, str]]:
    table = load_reference("street_abbreviations")
    return list(zip(table["pattern"], table["replacement"], strict=True))


def street_key(expr: pl.Expr) -> pl.Expr:
    """The matching key of a street name: folded, abbreviations expanded, no punctuation.

    ``Gl. Kongevej`` and ``Gammel Kongevej`` → ``gammel kongevej``; ``Vesterg.`` →
    ``vestergade``; ``H. C. Andersens Blvd.`` → ``hc andersens boulevard``; ``Sankt Peders
    Stræde``, ``Skt. Peders Str.`` → ``st peders straede``.
    """
    key = fold(expr)
    for pattern, replacement in _street_abbreviations():
        key = key.str.replace_all(pattern, replacement)
    key = text_key(key)
    # ``H. C.`` and ``H.C.`` are one initialism; join runs of single letters.
    for _ in range(2):
        key = key.str.replace_all(r"(^|\s)(\p{L}) (\p{L})(\s|$)", "${1}${2}${3}${4}")
    return key


def _house_number(number: pl.Expr, letter: pl.Expr, to: pl.Expr) -> pl.Expr:
    """``12`` + ``a`` → ``12A``; ``012`` → ``12``; a range keeps its end: ``12-14``."""
    first = number.str.strip_chars_start("0")
    ranged = to.str.replace_all(r"\s+", "").str.to_uppercase().str.strip_chars_start("0")
    joined = pl.concat_str(
        first, letter.str.to_uppercase(), pl.lit("-") + ranged, ignore_nulls=True
    )
    return pl.when(first.str.len_bytes() > 0).then(joined)


def _floor(expr: pl.Expr) -> pl.Expr:
    floor = expr.str.to_lowercase().str.strip_chars_start("0")
    floor = pl.when(floor == "").then(pl.lit("0")).otherwise(floor)
    return floor.replace(_FLOOR_NAMES)


def _door(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_lowercase().str.replace_all(r"[.\s]", "").replace(_DOOR_NAMES)


def _floor_door_text(expr: pl.Expr) -> pl.Expr:
    """Text after the house number, ready for _FLOOR_DOOR: lower case, commas as spaces."""
    return (
        expr.str.to_lowercase()
        .str.replace_all(",", " ")
        .str.replace_all(r"(\d)(tv|th|mf)(?-u:\b)", "${1} ${2}")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def _address_line(expr: pl.Expr) -> pl.Expr:
    """Several lines (newline, ``;`` or ``|``) as one comma-separated line, whitespace collapsed."""
    return (
        expr.str.replace_all(r"\s*(?:\r\n|\r|\n|;|\|)+\s*", ", ")
        .str.replace_all(r"[\s\u00a0]+", " ")
        .str.replace_all(r"\s*,[\s,]*", ", ")
        .str.replace_all(r"(?i)(?-u:\b)nr\.?\s*(\d)", "${1}")
        .str.strip_chars(" ,")
    )


def _parse_line(line: pl.Expr) -> dict[str, pl.Expr]:
    """Stage 1 of the parse: country, postal code and city off the end; c/o and post box out."""
    _, country_tail = _countries()
    country_found = line.str.extract_groups(country_tail).struct.field("country")
    line = (
        pl.when(country_found.is_not_null())
        .then(line.str.replace(country_tail, "").str.strip_chars(" ,"))
        .otherwise(line)
    )
    with_city = line.str.extract_groups(_POSTAL_CITY_TAIL)
    bare = line.str.extract_groups(_POSTAL_TAIL)
    foreign = line.str.extract_groups(_FOREIGN_TAIL)
    code = pl.coalesce(
        with_city.struct.field("code"), bare.struct.field("code"), foreign.struct.field("code")
    )
    rest = (
        pl.when(with_city.struct.field("code").is_not_null())
        .then(with_city.struct.field("rest"))
        .when(bare.struct.field("code").is_not_null())
        .then(bare.struct.field("rest"))
        .when(foreign.struct.field("code").is_not_null())
        .then(foreign.struct.field("rest"))
        .otherwise(line)
    )
    co = rest.str.extract_groups(_CO).struct.field("co")
    box = rest.str.extract_groups(_PO_BOX).struct.field("box")
    rest = (
        rest.str.replace_all(_CO, "")
        .str.replace_all(_ATTENTION, "")
        .str.replace_all(_PO_BOX, "")
        .str.strip_chars(" ,")
    )
    return {
        "_country_text": country_found,
        "_code": code,
        "_city": pl.coalesce(with_city.struct.field("city"), foreign.struct.field("city")),
        "_code_prefix": foreign.struct.field("prefix"),
        "_co": co,
        "_box": box,
        "_rest": _blank_to_null(rest),
    }


def _parse_street(rest: pl.Expr) -> dict[str, pl.Expr]:
    """Stage 2: street, house number and the text after it from what stage 1 left."""
    segment = pl.coalesce(
        rest.str.extract_groups(_STREET_SEGMENT).struct.field("street_part"),
        rest.str.extract(r"^([^,]+)", 1),
    )
    parts = segment.str.extract_groups(_STREET_NUMBER)
    has_number = parts.struct.field("number").is_not_null()
    return {
        "_street": pl.when(has_number).then(parts.struct.field("street")).otherwise(segment),
        "_number": _house_number(
            parts.struct.field("number"), parts.struct.field("letter"), parts.struct.field("to")
        ),
        "_after": pl.when(has_number).then(_floor_door_text(parts.struct.field("rest"))),
    }


def _clean_postal_code(expr: pl.Expr) -> dict[str, pl.Expr]:
    """``DK-8000``, ``8000.0`` (Excel), ``800`` (lost zero), ``8000 Aarhus C`` in one column."""
    parts = expr.str.extract_groups(
        r"^\s*(?:(?P<prefix>[A-Za-z]{1,3})\s*-\s*)?(?P<digits>\d[\d ]*\d|\d)(?:\.0+)?"
        r"(?:\s+(?P<city>\p{L}.*?))?\s*$"
    )
    digits = parts.struct.field("digits").str.replace_all(" ", "")
    four = pl.when(digits.str.len_chars() == 3).then(pl.lit("0") + digits).otherwise(digits)
    return {
        "_raw_code": four,
        "_raw_code_prefix": parts.struct.field("prefix"),
        "_raw_code_city": parts.struct.field("city"),
        "_raw_code_bad": expr.str.contains(r"\S") & digits.is_null(),
    }


def normalise_addresses(df: pl.DataFrame) -> pl.DataFrame:
    """Parse and clean each record's address; see the module docstring for the columns.

    ``Vestergade 12\\n8000 Aarhus C`` → ``Vestergade`` / ``12`` / ``8000`` / ``Aarhus C``;
    ``c/o Hansen, Postboks 123, 8000 Aarhus C`` → co_name ``Hansen``, po_box ``Postboks 123``;
    a DK address with no postal code → MISSING_ADDRESS; postal code ``8999`` → UNKNOWN_POSTAL_CODE.
    """
    fields = ("address", "street", "house_number", "floor", "door", "postal_code", "city")
    raw = {
        field: (pl.col(f"raw_{field}").cast(pl.String) if f"raw_{field}" in df.columns else _null())
        for field in (*fields, "country")
    }
    codes, official, code_by_city = _postal_codes()

    frame = df.lazy().with_columns(
        _line=_blank_to_null(_address_line(pl.coalesce(raw["address"], raw["street"]))),
        **_clean_postal_code(raw["postal_code"]),
        _raw_country=_clean(raw["country"]),
    )
    frame = frame.with_columns(**_parse_line(pl.col("_line")))
    frame = frame.with_columns(**_parse_street(pl.col("_rest")))
    floor_door = pl.col("_after").str.extract_groups(_FLOOR_DOOR)
    given_floor_door = _floor_door_text(_clean(raw["floor"])).str.extract_groups(_FLOOR_DOOR)
    given_door = _floor_door_text(_clean(raw["door"])).str.extract_groups(_FLOOR_DOOR)
    given_number = _clean(raw["house_number"]).str.extract_groups(
        rf"^(?P<number>\d{{1,4}})\s?(?P<letter>{_LETTER})?(?:\s*-\s*(?P<to>\d{{1,4}}\s?{_LETTER}?))?$"
    )
    frame = frame.with_columns(
        street=_clean(proper_case(pl.col("_street").str.strip_chars(" ,.-"))),
        house_number=pl.coalesce(
            _house_number(
                given_number.struct.field("number"),
                given_number.struct.field("letter"),
                given_number.struct.field("to"),
            ),
            _clean(raw["house_number"]).str.to_uppercase(),
            pl.col("_number"),
        ),
        floor=pl.coalesce(
            _floor(given_floor_door.struct.field("floor")),
            _floor(floor_door.struct.field("floor")),
        ),
        door=pl.coalesce(
            _door(given_door.struct.field("door")),
            _door(given_floor_door.struct.field("door")),
            _door(floor_door.struct.field("door")),
            _clean(raw["door"]).str.to_lowercase(),
        ),
        # Text after the number that is no floor or door may be the city of a line without
        # a postal code (``Vestergade 12 Aarhus C``).
        _after_city=pl.when(
            floor_door.struct.field("floor").is_null()
            & floor_door.struct.field("door").is_null()
            & pl.col("_after").str.contains(r"^\p{L}[\p{L}\s.\-]*$")
        ).then(pl.col("_after")),
        country=pl.coalesce(
            country_code(pl.col("_raw_country")),
            country_code(pl.col("_raw_code_prefix")),
            country_code(pl.col("_country_text")),
            country_code(pl.col("_code_prefix")),
        ),
    )
    typed_city = pl.coalesce(_clean(raw["city"]), pl.col("_raw_code_city"), pl.col("_city"))
    frame = frame.with_columns(
        _typed_city=typed_city,
        _any_city=pl.coalesce(typed_city, pl.col("_after_city")),
        postal_code=pl.coalesce(pl.col("_raw_code"), pl.col("_code")),
    )
    # A 39xx code is Greenland's (not in the Danish list); an unrecognised country is foreign.
    country = (
        pl.when(pl.col("country").is_not_null())
        .then(pl.col("country"))
        .when(pl.col("_raw_country").is_not_null() & pl.col("_raw_country").str.contains(r"\p{L}"))
        .then(_null())
        .when(pl.col("postal_code").str.contains(r"^39\d\d$"))
        .then(pl.lit("GL"))
        .otherwise(pl.lit("DK"))
    )
    frame = frame.with_columns(country=country)
    is_dk = (pl.col("country") == "DK").fill_null(False)
    from_city = text_key(pl.col("_any_city")).replace_strict(
        code_by_city, default=None, return_dtype=pl.String
    )
    frame = frame.with_columns(
        postal_code=pl.when(is_dk & pl.col("postal_code").is_null())
        .then(from_city)
        .when(is_dk & ~pl.col("postal_code").str.contains(r"^\d{4}$"))
        .then(_null())
        .otherwise(pl.col("postal_code")),
        _bad_code=is_dk
        & (
            pl.col("_raw_code_bad")
            | (
                pl.col("postal_code").is_not_null()
                & ~pl.col("postal_code").str.contains(r"^\d{4}$")
            )
        ),
    )
    known = pl.col("postal_code").is_in(codes)
    official_city = pl.col("postal_code").replace_strict(
        official, default=None, return_dtype=pl.String
    )
    frame = frame.with_columns(
        city=pl.when(is_dk & known)
        .then(official_city)
        .otherwise(_clean(proper_case(pl.col("_any_city")))),
        co_name=_clean(pl.col("_co")),
        po_box=pl.when(pl.col("_box").is_not_null()).then(
            pl.lit("Postboks ") + pl.col("_box").str.strip_chars_start("0")
        ),
    )
    frame = frame.with_columns(street_key=street_key(pl.col("street")))
    frame = frame.with_columns(
        address_key=pl.when(
            pl.col("street_key").is_not_null() | pl.col("po_box").is_not_null()
        ).then(
            pl.concat_str(
                pl.col("street_key"),
                pl.col("house_number").str.to_lowercase(),
                pl.col("floor"),
                pl.col("door"),
                pl.col("po_box").str.to_lowercase(),
                pl.col("postal_code"),
                separator=" ",
                ignore_nulls=True,
            )
        ),
        flag_MISSING_ADDRESS=is_dk
        & (
            pl.col("postal_code").is_null()
            | (pl.col("street").is_null() & pl.col("po_box").is_null())
        ),
        flag_UNKNOWN_POSTAL_CODE=is_dk
        & ((pl.col("postal_code").is_not_null() & ~known) | pl.col("_bad_code")).fill_null(False),
    )
    temporary = [
        name
        for name in frame.collect_schema().names()
        if name.startswith("_") and name not in df.columns
    ]
    return frame.drop(temporary).collect()
