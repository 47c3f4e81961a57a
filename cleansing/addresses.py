"""Danish addresses: street, house number, floor, door, postal code, official city, country.

In: the canonical frame's ``raw_address`` (a whole address, one line or several joined by
newlines) and/or the structured ``raw_street``, ``raw_house_number``, ``raw_floor``,
``raw_door``, ``raw_postal_code``, ``raw_city``, ``raw_country`` (missing columns count as null);
``raw_phone`` and ``raw_mobile`` only as evidence of a foreign record's country.
Out: ``street``, ``house_number``, ``floor``, ``door``, ``postal_code``, ``city``, ``country``,
``co_name``, ``po_box``, ``street_key``, ``address_key``, ``flag_MISSING_ADDRESS``,
``flag_UNKNOWN_POSTAL_CODE`` and ``flag_POSTAL_CITY_MISMATCH``.

``Vestergade 12A, 2. tv, 8000 Kbh. K`` → ``Vestergade`` / ``12A`` / ``2`` / ``tv`` /
``8000`` / ``Aarhus C`` (the postal code's district over a city that is no other town's) / ``DK``;
``Algade 18, 5000 Aalborg`` keeps ``Aalborg``, POSTAL_CITY_MISMATCH: the code or the city is a
typo (another part of the country); ``2500 København`` is Valby.

The parse is a handful of regular expressions run over the whole column by polars; no Python
runs per row. Patterns that take a part off the end of a line are anchored there, so the regex
engine resolves groups over the tail only. Streets, cities and countries repeat across
customers, so their casing, keys and look-ups are worked out once per distinct value. A
structured input column, when given, wins over the same part parsed out of ``raw_address``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Final

import polars as pl

from datavask.cleansing.cpr import MASK
from datavask.cleansing.names import collapse_whitespace, fold, only_where, proper_case, text_key
from datavask.cleansing.reference import load_reference
from datavask.cleansing.schema import whole_number

_LETTER = r"[A-Za-zÆØÅæøåÄÖÜäöüÉé]"

# ``8000 Aarhus C`` (with or without a ``DK-``) at the end of an address, after a comma, newline
# or space; the city is letters only, so ``Vestergade 12, 2. tv`` never looks like one. Every
# pattern below that takes something off the end captures it as ``tail``: matched from the end,
# the regex engine resolves groups over the tail only, not the whole line.
_CITY = r"\p{L}[\p{L}\s.\-'’]*?"
_POSTAL_CITY_TAIL = (
    rf"(?P<tail>(?:^|[,\s])\s*(?i:dk\s*-?\s*)?(?P<code>\d{{4}})\s+(?P<city>{_CITY})[\s.]*)$"
)
# ``Storgatan 1, SE-211 20 Malmö``: a foreign code behind its country prefix.
_FOREIGN_TAIL = (
    r"(?P<tail>(?:^|[,\s])\s*(?P<prefix>[A-Za-z]{1,3})\s*-\s*(?P<code>\d[\d ]{1,6}\d)"
    rf"\s+(?P<city>{_CITY})[\s.]*)$"
)
# ``Storgatan 1, 114 55 Stockholm``, ``ul. Marszałkowska 10, 00-590 Warszawa``, ``Hauptstraße 5,
# 10115 Berlin``, ``Rua Augusta 2, 1100-053 Lisboa``, ``Niels Finsens gøta 5, 100 Tórshavn``: a
# code of a shape that is no Danish one (which country, the record's other fields say), with no
# prefix, only after a comma (a five-digit number after a space may be a house number).
_FOREIGN_SHAPED_TAIL = (
    r"(?P<tail>,\s*(?P<code>\d{3} \d{2}|\d{3}|\d{2}-\d{3}|\d{4}-\d{3}|\d{5}(?:-\d{4})?)"
    rf"\s+(?P<city>{_CITY})[\s.]*)$"
)
# Postal codes with letters in the shapes of the UK (``TQ13 8DF``), the Netherlands (``1012 AB``),
# Canada (``K1A 0B1``) and Ireland (``D02 X285``): never a mistyped Danish code such as ``80OO``.
_LETTERED_CODES = {
    "GB": r"[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}",
    "NL": r"\d{4}\s?[A-Z]{2}",
    "CA": r"[A-Z]\d[A-Z]\s?\d[A-Z]\d",
    "IE": r"[A-Z]\d{2}\s?[A-Z\d]{4}",
}
# Canada's provinces and territories, as Canada Post writes them before the postal code
# (``Toronto, ON M5X 1A9``).
_PROVINCES: Final = r"AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|QC|SK|YT"
# A city beside a lettered code, and the number of its postal district where Dublin writes one
# (``Dublin 2, D02 X285``).
_LETTERED_CITY = rf"{_CITY}(?:\s\d{{1,2}}\p{{L}}?)?"
# A lettered code at the end of a one-line address, its town before it (``10 Downing Street,
# London, SW1A 2AA``, ``221B Baker Street, London NW1 6XE``, ``5 Grafton Street, Dublin 2, D02
# X285``, ``100 King St W, Toronto, ON M5X 1A9``: the province set aside) or after it (``10
# Downing Street, SW1A 2AA London``, ``Keizersgracht 123, 1015 CJ Amsterdam``), or alone after a
# comma. In capitals only, as the countries' posts write them: read in any case, ``c3 1th`` of a
# Danish line would be a British code. A Dutch code only before its town: its four digits and two
# capitals at the end of a line may be a Danish code and town (``8680 RY``). The town before the
# code follows a comma: without one it cannot be told from the street.
_LETTERED_LINE_CODE = "|".join(
    shape for country, shape in _LETTERED_CODES.items() if country != "NL"
)
_LETTERED_TAIL = (
    rf"(?P<tail>(?:(?:^|,)\s*(?:(?P<city>{_LETTERED_CITY})(?:\s*,\s*|\s+))?"
    rf"(?:(?P<province>{_PROVINCES})\s+)?(?P<code>{_LETTERED_LINE_CODE})"
    rf"|(?:^|[,\s])\s*(?P<code_first>{'|'.join(_LETTERED_CODES.values())})"
    rf"\s+(?P<city_after>{_LETTERED_CITY}))[\s.]*)$"
)
# ``Vestergade 12, 8000``: a bare code only after a comma, so a 4-digit house number stays one.
_POSTAL_TAIL = r"(?P<tail>(?:^|,)\s*(?i:dk\s*-?\s*)?(?P<code>\d{4})[\s.]*)$"

_CO = r"(?i)(?:^|,)\s*c\s*/\s*o(?-u:\b)[:.]?\s*(?P<co>[^,]+)"
_ATTENTION = r"(?i)(?:^|,)\s*(?:att|attn|attention)(?-u:\b)[:.]?\s*[^,]*"
# Cheap test for a line that may hold an attention line.
_MAY_HOLD_ATTENTION = r"(?i)(?-u:\b)att"
_PO_BOX = (
    r"(?i)(?:^|[,\s])\s*(?:postboks|post\s*box|postbox|p\.?\s*o\.?\s*box|pb\.?|boks|box)"
    r"\s*(?:nr\.?\s*)?(?P<box>\d{1,6})(?-u:\b)[^,]*"
)

# Cheap test for a line that may hold a c/o, attention or post box segment.
# A building, block or entrance named before the street (``Bygning 3, Vestergade 12``).
# A flat, suite, unit or floor before its number, as English addresses write them (``Flat 2``,
# ``Apt. 4B``, ``Suite 200``, ``Fl 2``).
UNIT_WORD: Final = r"(?:flat|apt|apartment|suite|ste|unit|room|rm|floor|fl)"
# Also a flat or unit named before the street (``Flat 2, 10 Downing Street``, ``Unit 5, 12-14
# High Street``): its number is no house number. After the word a full stop, a space or the
# number, so ``Stenløse,`` is no ``Ste``.
# A Danish business's hall, warehouse, gate or house named before the street (``Hal 3,
# Transportvej 10``, ``Lagerhal 2, …``, ``Port 4, …``): no Danish street is called only that, so
# with its number and a comma after it the word is the building's, not a street's.
_BUILDING_WORD = r"(?:hal|lagerhal|produktionshal|port|lager|hus)"
_BUILDING = (
    r"(?i)(?:^|,)\s*(?:(?:bygning|bygn\.?|blok|opgang|indgang|afdeling|afd\.)\s*[\w\-]{1,5}"
    rf"|{_BUILDING_WORD}\s+[\w\-]{{1,5}}"
    rf"|{UNIT_WORD}(?:\.?\s*#?\s*\d[\w\-]{{0,4}}|\.?\s+[A-Za-z](?:\d[\w\-]{{0,3}})?))\s*,"
    # a line that is only a flat, room or suite (``Flat 5``, ``Lejl. 4``, ``Værelse 12``) names
    # no street: its number is no house number
    rf"|^\s*(?:{UNIT_WORD}|lejl|lejlighed|vær|værelse)\.?\s*#?\s*\d[\w\-]{{0,4}}\s*$"
)
_EXTRAS_HINT = (
    rf"(?i)c\s*/\s*o|att|box|boks|p\.?\s*o|pb|byg|blok|opgang|indgang|afd|^\s*{UNIT_WORD}(?-u:\b)"
    rf"|(?:^|,)\s*{_BUILDING_WORD}\s|^\s*(?:lejl|vær)"
)

# Leading segments without digits (a company or building name on its own line) before a later
# segment with a street and a number: set aside, so the street is read from that segment.
_LEADING_NAME_SEGMENTS = r"^((?:[^,\d]+,\s*)+)[^,]*\p{L}[^,]*\d"

# ``Vestergade 12A``, ``H.C. Andersens Boulevard 27``, ``Vestergade 12-14``: the house number is
# the first number after the start; what follows it is floor and door (checked by _FLOOR_DOOR).
_NUMBER_TAIL = (
    rf"(?P<tail>[\s,]+(?P<number>\d{{1,4}})\s?(?P<letter>{_LETTER})?"
    rf"(?:-(?P<to>\d{{1,4}}{_LETTER}?))?(?P<rest>(?:[\s,.\-].*)?))$"
)

# ``ul. Marszałkowska 10 m. 5``: the Polish flat (``mieszkanie``) after the house number is
# its door, not a letter M and a fifth floor.
_POLISH_FLAT = r"(\d)\s*m\.\s*(\d{1,4})\s*$"
# ``Keizersgracht 123-II``: the Dutch floor after the number, in Roman numerals (``III`` tried
# before ``II``).
_DUTCH_FLOORS: Final = {"III": "3", "IV": "4", "II": "2"}
# A house number typed without its space (``Nørregade3``, ``Strandvejen100 st``) in a line
# with no other number: a street word in lower case, the number, nothing or a floor after it.
_GLUED_NUMBER = rf"^(.*\p{{Ll}}{{2}})(\d{{1,4}}{_LETTER}?(?:[\s,.\-].*)?)$"
# What a line holds after its first comma (a floor's remainder).
_AFTER_FIRST_COMMA = r"^[^,]*,\s*(.+)$"
# What follows a floor's number when that is all the line has after its street: the ordinal's
# dot, perhaps ``sal``, and perhaps a door (``2. th``, ``1.``, ``3. sal tv``, ``st.`` has no
# digit and is read as a floor already).
_FLOOR_ONLY_REST = (
    r"(?i)^\.\s*(?:(?:sal|etage|etg)\.?\s*)?,?\s*"
    r"(?:(?:tv|th|mf|t\.\s?v|t\.\s?h|m\.\s?f|venstre|højre|midt)\.?)?\s*$"
)
# What a line read number first holds after its street (``Flat 2`` of ``10 Downing Street, Flat
# 2``); the comma after the number of ``12, rue de la Paix`` is none (the street came back twice).
_AFTER_NUMBER_FIRST_STREET = (
    rf"^\d{{1,5}}{_LETTER}?(?:-\d{{1,5}}{_LETTER}?)?(?:\s+|\s*,\s*)[^,]*,\s*(.+)$"
)
# What a flat, suite, unit or floor number follows at the end of a line read number first.
_UNIT_BEFORE_NUMBER = rf"(?i)[\s,](?:{UNIT_WORD}|#)\.?\s*#?$"
# A flat, suite, unit or floor at the end of a street read number first, without a comma before
# it (``1 Main St Apt 4``, ``350 Fifth Avenue Suite 100``, ``100 Main St Fl 2``, ``12 High Street
# #3``); after the word a full stop, a space or the number, so ``Old Stevens`` keeps its name.
_UNIT_AT_END = (
    rf"(?i)\s+({UNIT_WORD}(?:\.?\s*#?\s*\d\w{{0,5}}|\.?\s+#?\s*\w{{1,6}})|#\s*\w{{1,6}})$"
)
# The same before a comma and a floor (``Vestergade12B, 2. th``, ``Søndergade12, 3.``): the floor
# is a number of its own, which the line's number must not be taken for.
_GLUED_BEFORE_FLOOR = rf"^(.*\p{{Ll}}{{2}})(\d{{1,4}}{_LETTER}?)\s*,\s*(\S.*)$"

# ``2 Main Road``, ``435 S. La Cienega Blvd.``, ``12b Rue de Rivoli``: the number first, as in
# English, French and American addresses; tried only where no number follows the street. A
# letter after a space is the street's (``3901 S State St``: South), not the number's. A street
# may start with an English ordinal (``854 7th Ave``, ``156 2nd Avenue``).
# A French or Italian repeat after the number is the number's (``12 bis rue de la Paix``).
_NUMBER_FIRST = (
    rf"^(?P<number>\d{{1,5}})(?P<letter>{_LETTER})?(?:-(?P<to>\d{{1,5}}{_LETTER}?))?"
    r"(?P<repeat>\s+(?i:bis|ter|quater))?(?:\s+|,\s*)"
    r"(?P<street>(?:\p{L}|\d{1,3}(?i:st|nd|rd|th)\s+\p{L})[^,]*)"
)
# A street named after a date, its day before its number (``Straße des 17. Juni 135``, ``Den 9.
# April Gade 4``): the day is no house number. The word after the day's full stop is a month's,
# a capital and two letters more, no floor or door (``Vestergade 2. Sal``).
_DAY_IN_STREET = (
    r"^(?P<street>[^,\d]*\p{L}[^,\d]*\s\d{1,2}\.\s+(?P<word>\p{Lu}\p{Ll}{2,})[^,\d]*?)\s+\d"
)
_NOT_A_MONTH = ("sal", "etage", "stuen", "sal.", "lejl", "lejlighed", "dør")

# A note after the number, floor and door: from a bracket, or a dash between spaces, to the end
# of the line (``st. th. (ring 2 gange)``, ``2. th. - ring på hos Jensen``), kept with its mark.
_NOTE = r"^(?P<before>.*?)\s*(?P<note>\(.*|(?:^|\s)[-–]\s.*)$"

# Floor and door after the house number: ``2. tv``, ``st. th``, ``2. sal tv``, ``1.``, ``kl.``,
# ``3. 312``, ``lejl. 4``. Matched on the lower-cased rest with commas as spaces.
_FLOOR_WORD = r"st|stuen|stue|parterre|kl|kld|kælder(?:en)?|kaelder(?:en)?|\d{1,2}"
_DOOR_WORD = (
    r"tv|th|mf|t\.\s?v|t\.\s?h|m\.\s?f|venstre|højre|hoejre|midt|\d{1,4}[a-zæøå]?|[a-zæøå]\d{0,3}"
)
_FLOOR_DOOR = (
    rf"^[\s.\-]*(?:(?P<floor>{_FLOOR_WORD})(?:\s*\.\s*|\s+|$)(?:(?:sal|etage|etg)\.?(?:\s+|$))?)?"
    rf"(?:(?:lejl(?:ighed)?|dør|door)\.?\s*)?(?:(?P<door>{_DOOR_WORD})\.?)?[\s.]*$"
)
# A postal code column: ``DK-8000``, ``8000.0`` (Excel), ``800`` (lost zero), ``8000 Aarhus C``.
_POSTAL_CODE_VALUE = (
    r"^\s*(?:(?P<prefix>[A-Za-z]{1,3})\s*-\s*)?(?P<digits>\d[\d ]*\d|\d)(?:\.0+)?"
    r"(?:\s+(?P<city>\p{L}.*?))?\s*$"
)
# A house number column: ``12``, ``12 b``, ``12-14``.
_HOUSE_NUMBER_VALUE = (
    rf"^(?P<number>\d{{1,4}})\s?(?P<letter>{_LETTER})?(?:\s*-\s*(?P<to>\d{{1,4}}\s?{_LETTER}?))?$"
)
# The word a house number or door cell may start with, as a written line has it (``Engvej nr.
# 53d``): ``nr. 44``, ``Nr 44``, ``nr.44`` in a house-number column; ``dør 3``, ``lejl. 4`` in a
# door column.
_NUMBER_WORD = r"(?i)^\s*nr\.?\s*(\d)"
_DOOR_WORD_BEFORE = r"(?i)^\s*(?:lejl(?:ighed)?|dør|door)\.?\s*(\S)"
_FLOOR_NAMES = {
    "stuen": "st",
    "stue": "st",
    "parterre": "st",
    "0": "st",
    "kld": "kl",
    "kælder": "kl",
    "kaelder": "kl",
    "kælderen": "kl",
    "kaelderen": "kl",
}
_DOOR_NAMES = {"venstre": "tv", "højre": "th", "hoejre": "th", "midt": "mf"}


def _null() -> pl.Expr:
    return pl.lit(None, dtype=pl.String)


def _clean(expr: pl.Expr) -> pl.Expr:
    """Whitespace collapsed, stray separators and quotes trimmed from the ends; blank → null."""
    return collapse_whitespace(expr).str.strip_chars(" ,;:\"'“”").replace("", None)


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
    tail = rf"(?P<tail>(?:^|,)\s*(?P<country>(?i:{'|'.join(long_names)})|{'|'.join(codes)})[\s.]*)$"
    return lookup, tail


def country_tail() -> str:
    """A regex finding a country as an address's last segment; its first group is the country as
    written (``, Sverige``, ``, DEUTSCHLAND``)."""
    _, tail = _countries()
    return tail.replace("(?P<tail>", "(?:", 1)


def country_code(expr: pl.Expr) -> pl.Expr:
    """ISO 3166 alpha-2 of a country as written (``Danmark``, ``DNK``, ``Færøerne``), or null."""
    lookup, _ = _countries()
    # Most values are written as in the table; only the others are folded and looked up again.
    as_written = (
        expr.str.to_lowercase()
        .str.strip_chars(" .")
        .replace_strict(_country_names(), default=None, return_dtype=pl.String)
    )
    unsettled = as_written.is_null() & expr.is_not_null()
    folded = text_key(only_where(unsettled, expr)).replace_strict(
        lookup, default=None, return_dtype=pl.String
    )
    return pl.coalesce(as_written, folded)


# One-letter prefixes Europe wrote before postal codes (the old vehicle codes: ``D-80331 München``,
# ``S-211 20 Malmö``); two- and three-letter prefixes are ISO codes (``SE-``, ``DK-``, ``FIN-``).
_POSTAL_PREFIXES: Final = {
    "a": "AT", "b": "BE", "d": "DE", "e": "ES", "f": "FR", "h": "HU", "i": "IT", "l": "LU",
    "n": "NO", "p": "PT", "s": "SE",
}  # fmt: skip


def prefix_country(expr: pl.Expr) -> pl.Expr:
    """ISO 3166 alpha-2 of a postal-code prefix (``SE``, ``DK``, ``D``, ``FIN``), or null.

    One letter is read only here, as a prefix: ``D`` alone in a country column names nothing.
    """
    letter = expr.str.strip_chars().str.to_lowercase()
    return pl.coalesce(
        letter.replace_strict(_POSTAL_PREFIXES, default=None, return_dtype=pl.String),
        country_code(expr),
    )


@cache
def _country_names() -> dict[str, str]:
    table = load_reference("countries")
    return dict(zip(table["name"], table["iso2"], strict=True))


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
def _official_keys() -> tuple[dict[str, str | None], dict[str, str | None]]:
    """Code → the key of its official district name (``kgs lyngby``), and code → that key with
    its abbreviations written out (``kongens lyngby``): looked up per record, not folded anew."""
    _, official, _ = _postal_codes()
    names = pl.DataFrame({"code": list(official), "name": list(official.values())})
    keys = names.select("code", key=text_key(pl.col("name"))).with_columns(
        spelt_out=_spelt_out(pl.col("key"))
    )
    return (
        dict(zip(keys["code"], keys["key"], strict=True)),
        dict(zip(keys["code"], keys["spelt_out"], strict=True)),
    )


@cache
def _street_abbreviations(table_name: str = "street_abbreviations") -> list[tuple[str, str]]:
    table = load_reference(table_name)
    return list(zip(table["pattern"], table["replacement"], strict=True))


def street_key(expr: pl.Expr, abbreviations: str | None = "street_abbreviations") -> pl.Expr:
    """The matching key of a street name: folded, abbreviations expanded, no punctuation.

    ``Gl. Kongevej`` and ``Gammel Kongevej`` → ``gammel kongevej``; ``Vesterg.`` →
    ``vestergade``; ``H. C. Andersens Blvd.``, ``H.C.Andersens Boulevard`` → ``hc andersens
    boulevard``; ``Sankt Peders Stræde``, ``Skt. Peders Str.``, ``Sct. Peders Stræde`` → ``st
    peders straede``; ``Frb. Allé`` → ``frederiksberg alle``; ``Dronning Olgas V.`` → ``dr
    olgas vej`` (``V. Ringgade``, before a word, is Vester: ``v ringgade``). ``abbreviations``
    names the table (``street_abbreviations_en`` for English streets: ``E 75th St`` → ``east
    75th street``; None for none).
    """
    key = fold(expr)
    for pattern, replacement in _street_abbreviations(abbreviations) if abbreviations else []:
        key = key.str.replace_all(pattern, replacement)
    key = text_key(key)
    # ``H. C.`` and ``H.C.`` are one initialism; join runs of single letters.
    for _ in range(2):
        key = key.str.replace_all(r"(^|\s)(\p{L}) (\p{L})(\s|$)", "${1}${2}${3}${4}")
    return key


# Door designations as the address register writes them: tv/th/mf, a number, or a short code.
_DOOR_SHAPE = r"(?i)^(tv|th|mf|[1-9]\d{0,3}|[a-zæøå][1-9]?\d{0,2}|[1-9]\d{0,2}[a-zæøå])$"
_HOUSE_NUMBER_SHAPE = r"^\d{1,4}[A-ZÆØÅ]?(-(\d{1,4}[A-ZÆØÅ]?|[A-ZÆØÅ]))?$"
# Abroad a number written first runs to five digits (``12224 Ventura Blvd``, ``23725 W Malibu
# Rd``: American numbers count the distance along the street).
_FOREIGN_HOUSE_NUMBER_SHAPE = (
    r"^\d{1,5}[A-ZÆØÅ]?(-(\d{1,5}[A-ZÆØÅ]?|[A-ZÆØÅ]))?(?: (?:bis|ter|quater))?$"
)


def _place_name(city: pl.Expr, foreign: pl.Expr) -> pl.Expr:
    """Whether a city as typed reads like a place name: letters, no digits, no '@', no control
    or format characters, no stacked accents, at most 60 characters (full-width forms folded).

    A ``foreign`` record's city may start with its postal code: ``2022 Bevaix``, ``D-8301
    Furth`` or ``6211 LM Maastricht`` typed into the city column is the customer's place as
    written, kept (:data:`CITY_AFTER_CODE`), as may its postal district end it: ``Dublin 2``,
    ``Dublin 6W``, ``Praha 4``, ``Paris 15e`` (:data:`CITY_DISTRICT`); digits anywhere else are
    junk."""
    folded = city.str.normalize("NFKC")
    numbered = folded.str.contains(CITY_AFTER_CODE) | folded.str.contains(CITY_DISTRICT)
    return (
        folded.str.contains(r"\p{L}")
        & ~folded.str.contains(r"[@\p{Cc}\p{Cf}]|\p{M}{2,}")
        & (~folded.str.contains(r"\d") | (foreign & numbered))
        & (folded.str.len_chars() <= 60)
    )


# A foreign place written after its postal code: ``2022 Bevaix``, ``D-8301 Furth``, ``6211 LM
# Maastricht``, ``SE-211 20 Malmö`` — a code of digits (a letter prefix, a space, two capitals
# as the Dutch write them) and then words without digits.
CITY_AFTER_CODE: Final = (
    r"^(?:[A-Za-z]{1,3}\s*-\s*)?[0-9]{2,6}(?:\s[0-9]{2,3})?(?:\s?[A-Z]{2})?\s+\p{L}[^\d]*$"
)

# A foreign city followed by its postal district's number, as Dublin, Prague, Vienna and Paris
# write theirs: words without digits, then one or two digits and at most three letters
# (``Dublin 6W``, ``Paris 15e``, ``Lyon 3ème``).
CITY_DISTRICT: Final = r"^\p{L}[^\d]*\s[0-9]{1,2}\p{L}{0,3}\.?$"


def _placeholder(value: pl.Expr) -> pl.Expr:
    """Whether a value is a placeholder (``n/a``, ``NULL``, ``ukendt``, ``Ingen adresse``), as
    for names: one list, ``data/reference/name_placeholders.csv``."""
    placeholders = load_reference("name_placeholders")["value"].to_list()
    return text_key(value).is_in(placeholders).fill_null(False)


def address_key() -> pl.Expr:
    """The blocking key of a whole address, from the parsed columns of a frame.

    ``street_key``, house number, floor, door, ``po_box`` and postal code joined by spaces;
    null without a street or a Postboks (``'vestergade 12a 2 tv 8000'``). A box is keyed by its
    number, however its country words it (``PO Box 123``, ``Box 123``: ``postboks 123``).
    """
    box = pl.col("po_box").str.extract(r"(\d+)", 1).str.strip_chars_start("0")
    return pl.when(pl.col("street_key").is_not_null() | pl.col("po_box").is_not_null()).then(
        pl.concat_str(
            pl.col("street_key"),
            pl.col("house_number").str.to_lowercase(),
            pl.col("floor"),
            pl.col("door"),
            pl.lit("postboks ") + box,
            pl.col("postal_code"),
            separator=" ",
            ignore_nulls=True,
        )
    )


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


# A CPR number noted in an address (``Algade 3, 2. th (cpr 0101901234)``), masked when the input
# was read, is no part of it: left in, the floor and door before it are not read. A c/o naming
# nobody but the number (``c/o 0101901234, Algade 12``) goes with it: left, ``c/o`` alone went
# back to the CRM after the street (``Algade 12, c/o``).
_CPR_REMARK = (
    r"(?i)[\s,;(\-–]*(?:c/o\s*:?\s*)?(?:(?:cpr|personn(?:umme)?r|pers)[\w.\-]*\s*:?\s*)?"
    + re.escape(MASK)
    + r"\)?"
)


def _address_line(expr: pl.Expr) -> pl.Expr:
    """Several lines (newline, ``;`` or ``|``) as one comma-separated line, whitespace collapsed,
    without a (masked) CPR number noted in it."""
    return (
        expr.str.replace_all(_CPR_REMARK, "")
        .str.replace_all(r"\s*(?:\r\n|\r|\n|;|\|)+\s*", ", ")
        .pipe(collapse_whitespace)
        .str.replace_all(r"(?i)(?-u:\b)nr\.?\s*(\d)", "${1}")
        # a range of numbers written with spaces (``Landevejen 23 - 25``) is one house number
        .str.replace_all(rf"(\d)\s+-\s+(\d{{1,4}}{_LETTER}?)\s*(,|$)", "${1}-${2}${3}")
        .str.strip_chars(" ,")
    )


def _with_second_line(first: pl.Expr, second: pl.Series, *, number: pl.Expr) -> pl.Expr:
    """The address line with the input's second line (``Adresse 2``) read into it, where it
    stands in a written address: after the street and number, before the postal code and city
    that may end the first line (``Vestergade 12`` + ``2. tv`` → ``Vestergade 12, 2. tv``;
    ``c/o Hansen``, ``Postboks 7``, ``Bygning 3`` are read wherever they stand).

    ``number`` is the house-number column's value beside a street column, which goes after a
    street written without it, so the floor and door of the second line follow a number.
    """
    if not second.is_not_null().any():
        return first
    second_line = pl.lit(second).str.strip_chars(" ,")
    first = (
        pl.when(first.str.contains(r"\d").not_() & number.is_not_null())
        .then(pl.concat_str(first, number, separator=" "))
        .otherwise(first)
    )
    # before a Danish code and town, or a lettered code and its town (``10 Downing Street,
    # London, SW1A 2AA`` + ``Flat 2``: after the code, the flat hid it from the parse)
    danish_tail = first.str.extract_groups(_POSTAL_CITY_TAIL).struct.field("tail")
    tail = pl.coalesce(
        danish_tail,
        pl.when(danish_tail.is_null())
        .then(first)
        .str.extract_groups(_LETTERED_TAIL)
        .struct.field("tail"),
    )
    head = (
        pl.when(tail.is_not_null())
        .then(first.str.head(-tail.str.len_chars().cast(pl.Int64)))
        .otherwise(first)
    )
    joined = pl.concat_str(
        pl.concat_str(head.str.strip_chars(" ,"), second_line, separator=", ", ignore_nulls=True),
        tail,
        ignore_nulls=True,
    )
    return pl.when(second_line.is_null() | (second_line == "")).then(first).otherwise(joined)


def _tail(parts: str) -> pl.Expr:
    """The length of the ``tail`` a ``*_TAIL`` pattern matched, for cutting it off with head()."""
    return pl.col(parts).struct.field("tail").str.len_chars().cast(pl.Int64)


def _without_tail(text: pl.Expr, parts: str) -> pl.Expr:
    return text.str.head(-_tail(parts))


# A city cell with a Danish postal code after the town: ``Aarhus C 8000``, ``København K, 1165``
# (a "By/Postnr" column); ``separator`` is what stands between them, as the re-import writes it.
CITY_THEN_CODE: Final = (
    r"(?i)^\s*(?P<city>\p{L}[\p{L}\p{M} .'-]*?)(?P<separator>[\s,]+)(?:dk\s*-\s*)?"
    r"(?P<code>\d{4})\s*$"
)


# A postal code cell with its town glued to the code (``7400Herning``; three letters or more, so
# the Dutch ``1012LG`` stays a code) or after a space.
_CODE_GLUED_TO_TOWN: Final = r"(?i)^\s*((?:dk\s*-\s*)?\d{4})(\p{L}{3}.*)$"
# A cell that holds a town and no code at all (``København K``, ``Kbh. Ø``).
_TOWN_ONLY: Final = r"^\s*\p{L}[\p{L}\p{M} .'’-]*$"


def _postal_cell_code_first(postal: pl.Series, city: pl.Series) -> tuple[pl.Series, pl.Series]:
    """A "Postnr. og by" column's cell as :data:`_POSTAL_CODE_VALUE` reads it, code first, and
    the city column beside it.

    ``7400Herning`` → ``7400 Herning``; ``Herning 7400`` and ``Herning, 7400`` (the town first,
    :data:`CITY_THEN_CODE`) → ``7400 Herning``. A cell that holds only a town (``København
    K``) beside an empty city cell is the city: no code was typed, so none is unknown (the
    record misses its code, unless the town has one). Each distinct cell is read once; a file
    whose cells hold no letters is returned as it is.

    >>> postal = pl.Series(["7400Herning", "Herning 7400", "København K", "8000", None])
    >>> code, town = _postal_cell_code_first(postal, pl.Series([None] * 5, dtype=pl.String))
    >>> code.to_list(), town.to_list()
    (['7400 Herning', '7400 Herning', None, '8000', None], [None, None, 'København K', None, None])
    """
    if not postal.str.contains(r"\p{L}").any():
        return postal, city
    read = per_distinct(
        postal,
        {
            "_then": lambda value: value.str.extract_groups(CITY_THEN_CODE),
            "code_first": lambda value: pl.coalesce(
                pl.format("{} {}", *(pl.col("_then").struct.field(f) for f in ("code", "city"))),
                value.str.replace(_CODE_GLUED_TO_TOWN, "${1} ${2}"),
            ),
            "town_only": lambda value: value.str.contains(_TOWN_ONLY) & ~_placeholder(value),
        },
    )
    town_only = read["town_only"].fill_null(False) & ~city.str.contains(r"\S").fill_null(False)
    return (
        pl.select(pl.when(~town_only).then(read["code_first"])).to_series(),
        pl.select(pl.when(town_only).then(pl.lit(postal)).otherwise(pl.lit(city))).to_series(),
    )


def _without_own_code(line: pl.Expr) -> pl.Expr:
    """``line`` without the record's own postal code at its end, with the city after it as the
    city column holds it (``Assar Gabrielssons väg 9, 405 31 Göteborg`` beside ``405 31`` and
    ``Göteborg``); null where it does not end so. A code of no shape the tails know (a Swedish
    one without its ``SE-``) is no part of the street: kept, it came back into the house-number
    column (``9, 405 31 Göteborg``)."""
    text = line.str.to_lowercase()
    code = pl.col("_written_code").str.to_lowercase()
    with_city = pl.concat_str(code, pl.lit(" "), pl.col("_typed_city").str.to_lowercase())
    own = (
        pl.when(text.str.ends_with(with_city))
        .then(with_city.str.len_chars())
        .when(text.str.ends_with(code))
        .then(code.str.len_chars())
        .cast(pl.Int64)
    )
    before = line.str.head(-own)
    # after a comma or a space, and a street before it (an empty ``line``: none)
    return pl.when(before.str.contains(r"\p{L}.*[,\s]$")).then(before.str.strip_chars(" ,"))


def _written_code(value: pl.Expr, parts: pl.Expr) -> pl.Expr:
    """A postal code cell's code as written: without the city a combined cell holds after it
    (C5's ``Postnr/By``: ``SE-111 43 Stockholm`` → ``SE-111 43``), and whole where what follows
    the digits is no town (the Dutch ``1012 LG``). ``parts``: the cell read by
    :data:`_POSTAL_CODE_VALUE`."""
    town = parts.struct.field("city").str.contains(r"\p{L}{3}").fill_null(False)
    code = pl.concat_str(
        (parts.struct.field("prefix") + "-").fill_null(""), parts.struct.field("digits")
    )
    return pl.when(town).then(code).otherwise(_clean(value))


def _parse(frame: pl.LazyFrame, *, attention: bool = True) -> pl.LazyFrame:
    """Parse ``_line`` into ``_country_text``, ``_code``, ``_city``, ``_code_prefix``, ``_co``,
    ``_box``, ``_street``, ``_number`` and ``_after`` (the floor/door text after the number).

    Each step materialises what the next one reads more than once, so no regex runs twice.
    ``attention``: whether any line may hold an attention line (:data:`_MAY_HOLD_ATTENTION`).
    """
    _, country_tail = _countries()
    line = pl.col("_line")
    # An attention line may stand anywhere, after the postal code and city too
    # (``Vestergade 12, 8000 Aarhus C, att. Jens``): it is set aside first, and kept.
    if attention:
        held = line.str.contains(_MAY_HOLD_ATTENTION).fill_null(False)
        frame = frame.with_columns(
            _attention=pl.when(held).then(only_where(held, line).str.extract_all(_ATTENTION)),
            _line=pl.when(held)
            .then(only_where(held, line).str.replace_all(_ATTENTION, "").str.strip_chars(" ,"))
            .otherwise(line)
            .replace("", None),
        )
    else:
        frame = frame.with_columns(_attention=pl.lit(None, dtype=pl.List(pl.String)))
    frame = frame.with_columns(_country_parts=line.str.extract_groups(country_tail))
    frame = frame.with_columns(
        _country_text=pl.col("_country_parts").struct.field("country"),
        _line=pl.coalesce(_without_tail(line, "_country_parts"), line).str.strip_chars(" ,"),
    )
    frame = frame.with_columns(_with_city=line.str.extract_groups(_POSTAL_CITY_TAIL))
    # The rarer shapes are tried only on the lines the common one did not settle, a lettered
    # code (``London, SW1A 2AA``) also on those it read as a Dutch code's digits with its letters
    # as the city's first word (``1015`` / ``CJ Amsterdam``). Left to the Danish reading, a
    # British code went into address_extra and the record was Danish without a postal code.
    with_city = pl.col("_with_city")
    frame = frame.with_columns(
        _lettered=pl.when(
            with_city.struct.field("code").is_null()
            | with_city.struct.field("city").str.contains(r"^[A-Z]{2}\s+\p{L}")
        )
        .then(line)
        .str.extract_groups(_LETTERED_TAIL)
    )
    lettered = pl.col("_lettered")
    frame = frame.with_columns(
        _lettered_code=pl.coalesce(
            lettered.struct.field("code"), lettered.struct.field("code_first")
        ),
        _province=lettered.struct.field("province"),
    )
    unsettled = pl.when(
        with_city.struct.field("code").is_null() & pl.col("_lettered_code").is_null()
    ).then(line)
    frame = frame.with_columns(
        _with_city=pl.when(pl.col("_lettered_code").is_null()).then(with_city),
        _bare=unsettled.str.extract_groups(_POSTAL_TAIL),
        _foreign=unsettled.str.extract_groups(_FOREIGN_TAIL),
    )
    bare, foreign = pl.col("_bare"), pl.col("_foreign")
    frame = frame.with_columns(
        _shaped=pl.when(
            bare.struct.field("code").is_null() & foreign.struct.field("code").is_null()
        )
        .then(unsettled)
        .str.extract_groups(_FOREIGN_SHAPED_TAIL)
    )
    shaped = pl.col("_shaped")
    code = pl.coalesce(
        pl.col("_lettered_code"),
        with_city.struct.field("code"),
        bare.struct.field("code"),
        foreign.struct.field("code"),
        shaped.struct.field("code"),
    )
    frame = frame.with_columns(
        _code=code,
        _city=pl.coalesce(
            lettered.struct.field("city"),
            lettered.struct.field("city_after"),
            with_city.struct.field("city"),
            foreign.struct.field("city"),
            shaped.struct.field("city"),
        ),
        _code_prefix=foreign.struct.field("prefix"),
        _rest=pl.coalesce(
            _without_tail(line, "_lettered"),
            _without_tail(line, "_with_city"),
            _without_tail(line, "_bare"),
            _without_tail(line, "_foreign"),
            _without_tail(line, "_shaped"),
            _without_own_code(
                only_where(code.is_null() & pl.col("_written_code").is_not_null(), line)
            ),
            line,
        ),
    )
    rest = pl.col("_rest")
    frame = frame.with_columns(_has_extras=rest.str.contains(_EXTRAS_HINT).fill_null(False))
    has_extras = pl.col("_has_extras")
    extras = only_where(has_extras, rest)
    frame = frame.with_columns(
        _co=pl.when(has_extras).then(extras.str.extract(_CO, 1)),
        _box=pl.when(has_extras).then(extras.str.extract(_PO_BOX, 1)),
        # as typed, for a foreign record: ``PO Box 123``, ``Postboks 123 Sentrum``
        _box_as_typed=pl.when(has_extras).then(_clean(extras.str.extract(_PO_BOX, 0))),
        # a building named before the street is set aside with the attention line, and kept
        _building=pl.when(has_extras).then(extras.str.extract_all(_BUILDING)),
        _rest=pl.when(has_extras)
        .then(
            extras.str.replace_all(_CO, "")
            .str.replace_all(_BUILDING, ",")
            .str.replace_all(_PO_BOX, "")
            .str.strip_chars(" ,")
        )
        .otherwise(rest)
        .replace("", None),
    )
    frame = frame.with_columns(_lead=rest.str.extract(_LEADING_NAME_SEGMENTS, 1))
    lead = pl.col("_lead")
    frame = frame.with_columns(
        _rest=pl.when(lead.is_not_null())
        .then(rest.str.slice(lead.str.len_chars()))
        .otherwise(rest),
        # what the line held that is no part of the address proper, in the order written
        _set_aside=pl.concat_str(
            *(
                part.str.replace_all(r"\s*,[\s,]*", ", ").str.strip_chars(" ,").replace("", None)
                for part in (
                    pl.col("_attention").list.join(", "),
                    pl.col("_building").list.join(", "),
                    lead,
                    # a Canadian province before its code (``ON``): no part of the city
                    pl.col("_province"),
                )
            ),
            separator=", ",
            ignore_nulls=True,
        ).replace("", None),
    )
    floor_after = (
        rest.str.extract(_GLUED_BEFORE_FLOOR, 3)
        .str.to_lowercase()
        .str.replace_all(",", " ")
        .str.contains(_FLOOR_DOOR)
        .fill_null(False)
    )
    # a Polish flat and a Dutch floor after the number, read as the Danish ones are
    foreign_unit = rest.str.replace(_POLISH_FLAT, "${1}, lejl. ${2}")
    for roman, floor in _DUTCH_FLOORS.items():
        foreign_unit = foreign_unit.str.replace(
            rf"(\d)(?:\s*-\s*|\s+){roman}\s*$", f"${{1}}, {floor}."
        )
    frame = frame.with_columns(
        _rest=pl.when(floor_after)
        .then(rest.str.replace(_GLUED_BEFORE_FLOOR, "${1} ${2}, ${3}"))
        .otherwise(foreign_unit)
    )
    day = rest.str.extract_groups(_DAY_IN_STREET)
    day_street = (
        pl.when(~day.struct.field("word").str.to_lowercase().is_in(_NOT_A_MONTH))
        .then(day.struct.field("street"))
        .str.len_chars()
        .cast(pl.Int64)
    )
    frame = frame.with_columns(
        _number_parts=pl.coalesce(
            rest.str.slice(day_street).str.extract_groups(_NUMBER_TAIL),
            rest.str.extract_groups(_NUMBER_TAIL),
        )
    )
    # A line that starts with its number and ends with a flat or suite (``10 Downing Street, Flat
    # 2``, ``350 Fifth Avenue, Suite 100``) is read number first: the flat's number is no house
    # number (it went back as ``2 10 Downing Street, Flat``).
    unit_tail = rest.str.contains(r"^\d").fill_null(False) & _without_tail(
        rest, "_number_parts"
    ).str.contains(_UNIT_BEFORE_NUMBER).fill_null(False)
    frame = frame.with_columns(
        _number_parts=pl.when(~unit_tail).then(pl.col("_number_parts")),
        _unit_tail=unit_tail,
    )
    # Only a line with no number of its own is read with a number glued to its street.
    frame = frame.with_columns(
        _glued=pl.col("_number_parts").struct.field("number").is_null()
        & ~pl.col("_unit_tail")
        & rest.str.contains(_GLUED_NUMBER).fill_null(False)
    )
    glued = pl.col("_glued")
    frame = frame.with_columns(
        _rest=pl.when(glued).then(rest.str.replace(_GLUED_NUMBER, "${1} ${2}")).otherwise(rest)
    )
    frame = frame.with_columns(
        _number_parts=pl.when(glued)
        .then(rest.str.extract_groups(_NUMBER_TAIL))
        .otherwise(pl.col("_number_parts"))
    ).drop("_glued")
    # A floor after the street's comma, the house number not typed (``Vestergade, 2. th``,
    # ``Ukendt, 1.``): the ordinal's dot makes it a floor, not a house number. Read as one, it
    # went back to the CRM as ``Vestergade 2, th``: a number invented, the floor lost.
    parts = pl.col("_number_parts")
    floor_only = (
        parts.struct.field("tail").str.starts_with(",")
        & (parts.struct.field("number").str.len_bytes() <= 2)
        & parts.struct.field("letter").is_null()
        & parts.struct.field("to").is_null()
        & parts.struct.field("rest").str.contains(_FLOOR_ONLY_REST)
    ).fill_null(False)
    frame = frame.with_columns(
        _number_parts=pl.when(~floor_only).then(parts),
        _floor_only=pl.when(floor_only).then(rest.str.extract(_AFTER_FIRST_COMMA, 1)),
    )
    number = pl.col("_number_parts")
    has_number = number.struct.field("number").is_not_null()
    frame = frame.with_columns(
        _number_first=only_where(~has_number, rest).str.extract_groups(_NUMBER_FIRST)
    )
    first = pl.col("_number_first")
    # A line that is all ``NNNN words`` read as postal code and city (``8000 Aarhus C``) may be
    # a house-number-first street (``3901 S State St``); which one is decided with the country.
    code_first = _tail("_with_city") >= line.str.len_chars()
    return frame.with_columns(
        _line_first=pl.when(code_first).then(line).str.extract_groups(_NUMBER_FIRST),
        # Without a number the street is the first segment (``Lundgården, …``).
        _street=pl.coalesce(
            _without_tail(rest, "_number_parts"),
            first.struct.field("street").str.replace(_UNIT_AT_END, "").str.strip_chars(" ,"),
            pl.when(~has_number).then(only_where(~has_number, rest).str.extract(r"^([^,]+)", 1)),
        ),
        _number=pl.coalesce(
            _house_number(
                number.struct.field("number"),
                number.struct.field("letter"),
                number.struct.field("to"),
            ),
            _house_number(*(first.struct.field(part) for part in ("number", "letter", "to")))
            + first.struct.field("repeat")
            .str.to_lowercase()
            .str.replace(r"^\s+", " ")
            .fill_null(""),
        ),
        _after=_floor_door_text(
            pl.coalesce(number.struct.field("rest").replace("", None), pl.col("_floor_only"))
        ),
        # the same as typed, for what is no floor or door (``Vester Hassing``, ``baghuset``); of a
        # line read number first, what follows its street (``Suite 100``)
        _after_text=pl.coalesce(
            number.struct.field("rest"),
            pl.when(first.struct.field("number").is_not_null()).then(
                pl.concat_str(
                    first.struct.field("street").str.extract(_UNIT_AT_END, 1),
                    rest.str.extract(_AFTER_NUMBER_FIRST_STREET, 1),
                    separator=", ",
                    ignore_nulls=True,
                ).replace("", None)
            ),
            # a line without a number: what follows its street (``Lundgården, Vester Hassing``)
            pl.when(~has_number & first.struct.field("number").is_null()).then(
                rest.str.extract(_AFTER_FIRST_COMMA, 1)
            ),
        )
        .str.strip_chars(" ,.-")
        .replace("", None),
    )


def per_distinct(
    values: pl.Series, transforms: dict[str, Callable[[pl.Expr], pl.Expr]]
) -> dict[str, pl.Series]:
    """Each transform run once per distinct value of ``values`` and spread back over every row.

    Streets, cities, postal codes and countries repeat across customers: a million rows hold
    some tens of thousands of streets and a few dozen country spellings. The transforms run in
    order on one frame of the distinct values (column ``value``), so a later one may read an
    earlier one's column by its name.
    """
    distinct = values.unique().drop_nulls()
    results = pl.DataFrame({"value": distinct})
    for name, transform in transforms.items():
        results = results.with_columns(transform(pl.col("value")).alias(name))
    position = values.replace_strict(
        distinct, pl.int_range(distinct.len(), dtype=pl.UInt32, eager=True), default=None
    )
    return {name: results[name].gather(position) for name in transforms}


# A typed city is the code's Danish district when their keys are this alike (rapidfuzz ratio).
CITY_AGREEMENT = 85.0


_FOREIGN_CODE_SHAPE = rf"(?i)^(?:{'|'.join(_LETTERED_CODES.values())})$"


def _lettered_code_country(code: pl.Expr) -> pl.Expr:
    """The country whose postal codes have the shape of ``code`` (the shapes do not overlap), so
    a phone number written beside ``TQ13 8DF`` is read as a British one."""
    countries = [
        pl.when(code.str.contains(rf"(?i)^(?:{shape})$")).then(pl.lit(country))
        for country, shape in _LETTERED_CODES.items()
    ]
    return pl.coalesce(countries)


# What any country's postal code looks like: 2-10 letters, digits, spaces or dashes, with a digit.
_POSTAL_CODE_SHAPE = r"^(?:[A-Z]{1,3}-)?[A-Z\d](?:[A-Z\d \-]{0,8}[A-Z\d])?$"

# Abbreviations Danes write for district names (``Kbh. K`` for København K).
_DANISH_CITY_ABBREVIATIONS = frozenset({"kbh", "kbhvn", "frb", "frbg", "cph"})


@cache
def _po_box_towns() -> list[str]:
    """``<first digit>|<district key>`` of every Danish district and its first word (``5|odense
    c``, ``5|odense``): where a PO box code (:func:`_po_box_code`) may stand."""
    table = load_reference("dk_postal_codes").select(
        digit=pl.col("postal_code").str.head(1), key=text_key(pl.col("name"))
    )
    towns = table.vstack(table.with_columns(key=pl.col("key").str.split(" ").list.first()))
    return sorted(set(towns.select(pl.col("digit") + "|" + pl.col("key"))["digit"].to_list()))


def _po_box_code() -> pl.Expr:
    """A Postboks's four-digit code the street-address list lacks (``Postboks 2000, 5100
    Odense C``, ``8100 Aarhus C``, ``6701 Esbjerg``): PostNord gives PO boxes codes of their
    own, next to the town's street codes. Read as a code when the typed city is a Danish
    district whose codes start with the same digit; ``Vestergade 3, 5100 Odense C`` stays
    unknown."""
    town = pl.col("postal_code").str.head(1) + "|" + pl.col("_city_typed_key")
    return (
        pl.col("po_box").is_not_null()
        & pl.col("postal_code").str.contains(r"^\d{4}$")
        & town.is_in(_po_box_towns())
    )


# The abbreviated words of the postal table's district names and what they stand for: the
# table's ``Kgs. Lyngby`` is as often written ``Kongens Lyngby``, the name in full.
_DISTRICT_ABBREVIATIONS: Final = {"kgs": "kongens"}


def _spelt_out(key: pl.Expr) -> pl.Expr:
    """A district name's key with its abbreviated words written out (``kgs lyngby`` →
    ``kongens lyngby``); every other key as it is."""
    for short, full in _DISTRICT_ABBREVIATIONS.items():
        key = key.str.replace_all(rf"(^|\s){short}(\s|$)", f"${{1}}{full}${{2}}")
    return key


@cache
def _danish_places() -> frozenset[str]:
    """Keys of every Danish postal district name (``koebenhavn k``, ``aarhus c``), also with
    its abbreviations written out (``kgs lyngby``, ``kongens lyngby``)."""
    table = load_reference("dk_postal_codes")
    keys = table.select(text_key(pl.col("name")))["name"].drop_nulls()
    return frozenset(keys.to_list()) | frozenset(pl.select(_spelt_out(pl.lit(keys))).to_series())


def danish_place_keys() -> frozenset[str]:
    """The text keys of every Danish postal district name (``koebenhavn k``, ``helsingoer``)."""
    return _danish_places()


def _names_district(typed: str, district: str) -> bool:
    """Whether a typed city's key names a district's (``arhus`` / ``aarhus c``; ``kongens
    lyngby`` / ``kgs lyngby``, the abbreviation written out)."""
    from rapidfuzz import fuzz

    words = district.split(" ")
    district = " ".join(_DISTRICT_ABBREVIATIONS.get(word, word) for word in words)
    return (
        fuzz.ratio(typed, district) >= CITY_AGREEMENT
        or typed.startswith(district)
        or district.startswith(typed)
    )


@cache
def _town_regions() -> dict[str, frozenset[str]]:
    """Key of every Danish district name and of its first word (``aarhus c``, ``aarhus``) → the
    first digits of its postal codes, the region they lie in (``koebenhavn``: 1 and 2)."""
    table = load_reference("dk_postal_codes").select(
        key=text_key(pl.col("name")), digit=pl.col("postal_code").str.head(1)
    )
    towns = pl.concat([table, table.with_columns(pl.col("key").str.split(" ").list.first())])
    regions = towns.drop_nulls().group_by("key").agg(pl.col("digit").unique())
    return {key: frozenset(digits) for key, digits in regions.iter_rows()}


def _other_district(code: pl.Series, typed_city: pl.Series) -> pl.Series:
    """Per record: the typed city is a Danish town in another part of the country than its
    postal code (``5000`` with ``Aalborg``, ``2100`` with ``Roskilde``: the codes' first digits
    differ). False where it names the code's district, however spelt (``8000 Århus``), a town
    of the same region (``2500 København`` for Valby, ``8260 Aarhus`` for Viby J, ``3220
    Helsinge``: a customer writes the big town near them), no district at all (a village, ``Kbh.
    K``), or where there is no typed city or no Danish code."""
    regions = _town_regions()

    def other(postal_code: str, typed: str | None, district: str | None) -> bool:
        return (
            typed is not None
            and district is not None
            and postal_code[:1] not in regions.get(typed, frozenset(postal_code[:1]))
            and not _names_district(typed, district)
        )

    return _judged_per_district(code, typed_city, other, pl.Boolean).fill_null(False)


def typed_district(code: pl.Series, typed_city: pl.Series) -> pl.Series:
    """Per record: the key of the Danish district of ``code`` where the city typed beside it
    names that district (``4700`` with ``Næstved`` → ``naestved``); null where no city was typed,
    it names another place (``4760`` with ``Næstved``, a mistyped code) or the code is no Danish
    one."""

    def named(_: str, typed: str | None, district: str | None) -> str | None:
        return district if district and typed and _names_district(typed, district) else None

    return _judged_per_district(code, typed_city, named, pl.String)


def _judged_per_district(
    code: pl.Series,
    typed_city: pl.Series,
    judge: Callable[[str, str | None, str | None], object],
    dtype: pl.DataType | type[pl.DataType],
) -> pl.Series:
    """Per record, ``judge(code, typed city's key, the key of the code's Danish district or
    None)``; null where the code or the city is missing. Worked out once per distinct code and
    city."""
    _, official, _ = _postal_codes()
    pairs = pl.DataFrame({"code": code, "typed": typed_city})
    distinct = pairs.drop_nulls().unique()
    keys = distinct.select(
        "code",
        text_key(pl.col("typed")),
        text_key(
            pl.col("code").replace_strict(official, default=None, return_dtype=pl.String)
        ).alias("district"),
    )
    verdicts = pl.Series([judge(c, t, d) for c, t, d in keys.iter_rows()], dtype=dtype)
    found = distinct.with_columns(_verdict=verdicts)
    return pairs.join(found, on=["code", "typed"], how="left", nulls_equal=False)["_verdict"]


def _city_agrees(located: pl.DataFrame, official: dict[str, str], typed: pl.Series) -> pl.Series:
    """Per record: the typed city (``typed``, its key) is the Danish district of its 4-digit
    postal code (``8000 Aarhus C``, ``8000 Århus``) or at least a Danish district (``8000 Kbh.
    K``, a typed city the postal code overrules); null where there is no typed city or no known
    Danish code."""
    # Folded once per distinct city and code (a million rows hold a few thousand of each), and
    # without a select on ``located``, which would first copy all of its chunks into one.
    district = per_distinct(
        located["postal_code"],
        {
            "district": lambda code: text_key(
                code.replace_strict(official, default=None, return_dtype=pl.String)
            )
        },
    )["district"]
    pairs = pl.DataFrame({"typed": typed, "district": district})
    distinct = pairs.drop_nulls().unique()
    places = _danish_places()
    scores = [
        _names_district(a, b) or a in places or a.split(" ")[0] in _DANISH_CITY_ABBREVIATIONS
        for a, b in distinct.iter_rows()
    ]
    verdict = distinct.with_columns(agrees=pl.Series(scores, dtype=pl.Boolean))
    agrees = pairs.join(verdict, on=["typed", "district"], how="left", nulls_equal=False)["agrees"]
    # A town after the number of a line without a city agrees, or says nothing: a Danish village
    # (``Industrivej 4, Vester Hassing`` beside 9310, Vodskov) is no foreign city.
    in_line = located["_town_in_line"].is_not_null()
    return pl.select(pl.when(in_line & ~agrees).then(None).otherwise(agrees)).to_series()


# Street words of the neighbours whose customers Danish files hold, at the end of the street name
# (``Leopoldstraße``, ``Storgatan``, ``Karl Johans gate``); no Danish street ends in one.
_STREET_WORDS: Final = {
    "DE": r"stra(?:ß|ss)e|str\.|platz|gasse|damm|ufer|chaussee|weg|allee",
    # ``Assar Gabrielssons väg``: Sweden writes its roads as a word of their own too
    "SE": r"gatan|vägen|väg|gränd|torget|stigen|backen",
    "NO": r"gate|gata|veien|vegen|torget",
}
# How many digits the postal codes of those countries have (``10115``, ``114 55``, ``0154``).
_POSTAL_DIGITS: Final = {"DE": 5, "SE": 5, "NO": 4}


def _street_word_country(street: pl.Expr, digits: int | None = None) -> pl.Expr:
    """The country whose street word ends ``street`` (``Leopoldstraße`` → ``DE``), or null; with
    ``digits``, only a country whose postal codes have that many (``Rådhustorget`` beside
    ``1300`` is Norwegian, not Swedish, and ``Skt. Peders Str.`` beside ``4000`` names none)."""
    return pl.coalesce(
        pl.when(street.str.contains(rf"(?i)(?:{words})$")).then(pl.lit(country))
        for country, words in _STREET_WORDS.items()
        if digits is None or _POSTAL_DIGITS[country] == digits
    )


# A phone written with a country code that is not Denmark's (``+41 31 …``, ``0047 …``): a test
# polars runs over every record, so only the few that pass are parsed number by number.
_CALLING_CODE: Final = r"^[\s(]*(?:\+|00)\s*[1-9]"
_DANISH_CALLING_CODE: Final = r"^[\s(]*(?:\+|00)\s*45"


def _written_abroad(phone: pl.Expr) -> pl.Expr:
    """Whether ``phone`` starts with a country code other than 45 (``+47 63 80 00 00``); false
    for a Danish or a domestic number (``+45 20 30 40 50``, ``040-12 34 56``) and null."""
    return (
        phone.str.contains(_CALLING_CODE) & ~phone.str.contains(_DANISH_CALLING_CODE)
    ).fill_null(False)


def _calling_country(value: str) -> str | None:
    """The region of a number written with its country code (``+49 89 …``, ``0049 …``)."""
    import phonenumbers

    written = re.match(r"^[\s(]*(?:\+|00)\s*(\d)", value)
    if written is None:
        return None
    try:
        number = phonenumbers.parse("+" + value[written.start(1) :], None)
    except phonenumbers.NumberParseException:
        return None
    if number.country_code is None:
        return None
    region = phonenumbers.region_code_for_country_code(number.country_code)
    return None if region in ("ZZ", "001") else region


@cache
def _danish_place_words() -> list[str]:
    """The keys of Danish district names and of their first words (``aarhus c``, ``aarhus``)."""
    places = _danish_places()
    return sorted(places | {place.split(" ")[0] for place in places})


def _danish_like(city: str) -> bool:
    """A city key that is, or is a typo of, a Danish district name (``arhus``)."""
    from rapidfuzz import fuzz, process

    if city in _danish_places() or city.split(" ", maxsplit=1)[0] in _DANISH_CITY_ABBREVIATIONS:
        return True
    found = process.extractOne(
        city, _danish_place_words(), scorer=fuzz.ratio, score_cutoff=CITY_AGREEMENT
    )
    return found is not None


def _foreign_evidence(
    located: pl.DataFrame, phones: list[pl.Series], codes: list[str]
) -> pl.DataFrame:
    """``_foreign_record`` and ``_evidence_country`` per record: what the rest of a record without a
    written country says when its postal code is no Danish one.

    ``80331 München``: five digits cannot be a Danish code and München is no Danish place (nor a
    typo of one), so the record is foreign; a phone written with its country code
    (``+49 89 …``) or a street word (``Leopoldstraße``) names the country, else it stays unnamed.
    A four-digit code that is no Danish one needs the phone or the street as well (``0154 Oslo``
    beside ``+47 …`` is Norwegian; ``8001 Arhus`` is a Danish typo). A five-digit code beside a
    Danish city (``80000 Aarhus C``) is a Danish typo too, unless the phone or street names
    another country and the city is no Danish district as written (``83296 Helsingborg`` beside
    ``+46 42 …``).

    A code that may well be Danish (``3000`` is Bern's and Helsingør's; ``100`` Tórshavn's) is
    foreign only where the phone is written with a foreign country code or the street word names
    a country, and the city is no Danish place nor a typo of one: ``3000 Bern`` beside ``+41 31
    …`` is Swiss, ``100 Tórshavn`` beside ``+298 …`` Faroese, ``3000 Helsingør`` or ``2000
    Frederiksbrg`` beside ``+46 …`` a Danish customer with a Swedish phone.
    """
    code = pl.col("postal_code")
    unwritten = pl.col("_country").is_null() & ~pl.col("_raw_country").str.contains(
        r"\p{L}"
    ).fill_null(False)
    # five digits, or a shape of the Swedish ``114 55``, the Polish ``00-590``
    no_danish_shape = code.str.contains(
        r"^(?:\d{5}(?:-\d{4})?|\d{3} \d{2}|\d{2}-\d{3}|\d{4}-\d{3})$"
    )
    unlike_danish = no_danish_shape | (code.str.contains(r"^\d{4}$") & ~code.is_in(codes))
    # Both tests run over the whole column (the street word once per distinct street), so the
    # records of a Danish file never reach the number parse or the fuzzy city match below.
    phone_abroad = pl.any_horizontal(
        _written_abroad(pl.col(f"_phone{i}")) for i in range(len(phones))
    )
    # Beside a code that may be Danish, only a street word of a country with four-digit codes
    # counts: ``Str.`` is a Danish Stræde as often as a German Straße, and a German street
    # beside four digits is Swiss or Austrian rather than German.
    street_country = per_distinct(
        located["street"],
        {"any": _street_word_country, "four": lambda street: _street_word_country(street, 4)},
    )
    overlapping = (
        code.str.contains(r"^\d{3,4}$")
        & ~unlike_danish
        & (phone_abroad | ((code.str.len_chars() == 4) & pl.col("_street_four").is_not_null()))
        & pl.col("city").is_not_null()
    )
    frame = (
        located.select(code, "street", city=text_key(pl.col("_any_city")), _unwritten=unwritten)
        .with_columns(
            *(phone.alias(f"_phone{i}") for i, phone in enumerate(phones)),
            _street_any=street_country["any"],
            _street_four=street_country["four"],
        )
        .with_columns(
            overlapping=overlapping.fill_null(False),
            candidate=(pl.col("_unwritten") & (unlike_danish | overlapping)).fill_null(False),
        )
    )
    rows = frame.with_row_index("row").filter("candidate")
    if rows.height == 0:
        return pl.DataFrame(
            {
                "_foreign_record": [False] * located.height,
                "_evidence_country": [None] * located.height,
            },
            schema={"_foreign_record": pl.Boolean, "_evidence_country": pl.String},
        )
    cities = rows["city"].drop_nulls().unique().to_list()
    danish = {city: _danish_like(city) for city in cities}
    rows = rows.with_columns(
        _foreign_city=pl.col("city").replace_strict(
            {city: not agrees for city, agrees in danish.items()},
            default=None,
            return_dtype=pl.Boolean,
        )
    )
    # Only a number written with a foreign country code names a country (a Danish one says
    # nothing about where a record with a foreign-looking code is), and beside a code that may be
    # Danish only where the city is no Danish one: a Danish file's customers with Swedish
    # mobiles are not parsed one by one.
    phone_columns = [f"_phone{i}" for i in range(len(phones))]
    telling = rows.filter(~pl.col("overlapping") | pl.col("_foreign_city").fill_null(False))
    values = pl.concat([telling[c] for c in phone_columns]).drop_nulls().unique()
    values = values.filter(pl.select(_written_abroad(pl.lit(values))).to_series())
    abroad = {v: c for v in values.to_list() if (c := _calling_country(v)) is not None}
    # A street word names its country only beside a code of as many digits as the country's
    # codes have: ``Jannis-Klingler-Platz`` beside ``4020 Linz`` is Austrian, and
    # ``Bernasconistrasse`` beside ``4051 Basel`` Swiss, not German (whose codes have five).
    street_digits = pl.col("_street_any").replace_strict(
        _POSTAL_DIGITS, default=None, return_dtype=pl.Int64
    )
    code_digits = (
        pl.when(code.str.contains(r"^[\d ]+$"))
        .then(code.str.replace_all(r"\D", "").str.len_chars())
        .cast(pl.Int64)
    )
    rows = rows.with_columns(
        _phone_country=pl.coalesce(
            pl.col(c).replace_strict(abroad, default=None, return_dtype=pl.String)
            for c in phone_columns
        ),
    ).with_columns(
        _evidence_country=pl.coalesce(
            "_phone_country",
            pl.when("overlapping")
            .then(pl.col("_street_four"))
            .when((street_digits == code_digits).fill_null(True))
            .then(pl.col("_street_any")),
        ),
    )
    named = pl.col("_evidence_country").is_not_null()
    # a street word of a country whose codes have another length still says the record is abroad
    said_abroad = named | (~pl.col("overlapping") & pl.col("_street_any").is_not_null())
    foreign_city = pl.col("_foreign_city")
    places = _danish_places()
    # A code that is no Danish one, and the phone or street names the country: foreign unless the
    # city is a Danish district as written. ``83296 Helsingborg`` beside ``+46 42 …`` is Swedish
    # though Helsingborg is one letter pair from Helsinge, ``6737 Hansdal`` beside ``+47 …``
    # Norwegian. Without either, five digits beside no Danish city are foreign, four are not.
    danish_as_written = pl.col("city").is_in(pl.lit([c for c in cities if c in places]))
    # A code that may be Danish needs a city no Dane would write for it as well: a Danish
    # customer's phone may well be Swedish, and its district spelt wrong.
    foreign = (
        pl.when("overlapping")
        .then(named & foreign_city.fill_null(False))
        .when(said_abroad)
        .then(~danish_as_written.fill_null(False))
        .when(no_danish_shape)
        .then(foreign_city.fill_null(False))
        .otherwise(False)
    )
    decided = rows.select("row", "_evidence_country", _foreign_record=foreign)
    return (
        pl.DataFrame({"row": pl.int_range(located.height, dtype=pl.UInt32, eager=True)})
        .join(decided, on="row", how="left", maintain_order="left")
        .select(pl.col("_foreign_record").fill_null(False), "_evidence_country")
    )


# Regions tried for a file whose phones are mostly no Danish numbers and carry no country code:
# Denmark's neighbours and the countries Danish businesses trade with most, and North America.
_PHONE_REGIONS: Final = ("US", "GB", "DE", "SE", "NO", "NL", "FR", "IE", "FI", "PL", "ES", "IT")
# A file's phones are read for its country from at most this many distinct numbers, and only
# when at least the second many records hold one (a handful of rows is no file to judge).
_PHONE_SAMPLE: Final = 500
_PHONE_EVIDENCE: Final = 10


def _phone_file_country(located: pl.DataFrame, phones: list[pl.Series]) -> str | None:
    """The country the phones of a file's records without any written country say it is in.

    Only when most such records with a phone hold a number of nine digits or more that is not
    Danish-shaped (eight digits, after a ``45``/``0045``): an American export without a country
    column (``310/246-1501``) is American, so its phones are read as American numbers rather
    than flagged as broken Danish ones. Shorter numbers (``386-5286``, a local number without
    its area code) say nothing: they are valid in too many countries. The country is the region
    (named by a ``+``/``00`` prefix, else the first of :data:`_PHONE_REGIONS` reading the most of
    them) that makes at least half of up to 500 of those numbers valid; else None. Fewer than ten
    such records decide nothing, and neither does a file whose records name another country or
    several (a street word, :func:`_street_word_country`, or a number written with its country
    code): an export of Swedish, German and Norwegian customers has no one country to read
    their numbers in.
    """
    import phonenumbers

    unwritten = located.select(
        pl.col("_country").is_null()
        & ~pl.col("_raw_country").str.contains(r"\p{L}").fill_null(False)
    ).to_series()
    first = pl.select(pl.coalesce(phones)).to_series().filter(unwritten)
    digits = first.str.replace_all(r"\D", "")
    length = digits.str.len_chars().fill_null(0)
    danish = digits.str.contains(r"^(?:00)?(?:45)?\d{8}$").fill_null(False)
    foreign = first.filter((length >= 9) & ~danish)
    if foreign.len() < _PHONE_EVIDENCE or 2 * foreign.len() <= int((length >= 6).sum()):
        return None
    sample = foreign.unique(maintain_order=True).head(_PHONE_SAMPLE).to_list()
    votes = dict.fromkeys(_PHONE_REGIONS, 0)
    for value in sample:
        region = _calling_country(value)
        for candidate in (region,) if region else _PHONE_REGIONS:
            try:
                number = phonenumbers.parse(value, candidate)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                votes[candidate] = votes.get(candidate, 0) + 1
    best = max(votes, key=votes.__getitem__)  # the first of the most, in the order above
    if 2 * votes[best] < len(sample):
        return None
    # A file whose records name other countries (a street word, a number written with its
    # country code) holds customers of several: read in one country, the others' numbers
    # would be rewritten with its code (Hamburg's ``040 123456`` as Malmö's ``+4640123456``).
    streets = per_distinct(located["street"], {"country": _street_word_country})["country"]
    named = set(streets.filter(unwritten).drop_nulls().unique().to_list())
    named |= _countries_written(pl.concat([phone.filter(unwritten) for phone in phones]))
    return best if named <= {best} else None


def _countries_written(phones: pl.Series) -> set[str]:
    """The countries named by the numbers of ``phones`` written with a country code other than
    Denmark's (``+47 63 80 00 00`` → ``NO``). A country code has at most three digits, so one
    number is parsed per distinct first three digits after the ``+`` or ``00``."""
    written = phones.filter(pl.select(_written_abroad(pl.lit(phones))).to_series())
    lead = written.str.replace_all(r"\D", "").str.strip_chars_start("0").str.head(3)
    numbers = (
        pl.DataFrame({"number": written, "lead": lead})
        .group_by("lead")
        .agg(pl.col("number").first())["number"]
    )
    return {country for number in numbers if (country := _calling_country(number)) is not None}


def _decide_country(
    located: pl.DataFrame, official: dict[str, str], phone_country: str | None = None
) -> pl.Series:
    """Each record's country (ISO alpha-2), null for a foreign country that cannot be named.

    A country written in the record (its column, a ``SE-`` prefix, the last address line) wins.
    Otherwise a postal code shaped as British, Dutch, Canadian or Irish ones are (``TQ13 8DF``,
    ``1012 AB``), in the postal code column or ending the address line (``10 Downing Street,
    London, SW1A 2AA``), names that country, a code that is no Danish one in a record whose
    city, phone or street say it is foreign (:func:`_foreign_evidence`: ``80331 München``) is
    foreign, a code and city that another record names a foreign country for are in that
    country, a 39xx code is Greenland's, and a code whose typed city is its Danish district is
    Danish. What remains — no country, a code without a city, a city that is not the code's
    district — follows the file: Danish unless most records whose code and city can be checked
    disagree with the Danish table (an Australian register's ``3220 ryde`` is not Tisvildeleje,
    and neither is its ``4011``), and unless their phones say the file is foreign
    (:func:`_phone_file_country`): then they, and the foreign records nothing else names, are in
    ``phone_country``.
    """
    city_key = per_distinct(located["_any_city"], {"key": text_key})["key"]
    agrees = _city_agrees(located, official, city_key)
    frame = located.select(
        "_country", "_raw_country", "postal_code", "_written_code", "_typed_code",
        "_typed_city", "_foreign_record", "_evidence_country", _city_key=city_key,
        # the postal code column's code, else a lettered one the address line ends with
        # (``10 Downing Street, London, SW1A 2AA`` with the postal code column empty)
        _shaped_code=pl.coalesce("_written_code", "_lettered_code"),
    ).with_columns(agrees=agrees)  # fmt: skip
    # A postal code and city that records name a foreign country for (written in the record, or
    # said by its phone or street word) place the file's other records of them there too: one
    # customer's duplicate with the country column blank, or its phone written without ``+47``.
    # A country written in a record's column outweighs what another's phone or street word says:
    # ``4020 Linz`` beside ``Österreich`` stays Austrian in the twin whose column is blank.
    foreign = pl.col("_country").ne("DK").fill_null(False)
    said = pl.col("_foreign_record") & pl.col("_country").is_null()
    placed = (
        frame.filter(foreign | said)
        .group_by("postal_code", "_city_key")
        .agg(
            _written=pl.col("_country").filter(foreign).drop_nulls().unique(),
            _said=pl.col("_evidence_country").filter(said).drop_nulls().unique(),
        )
        .select(
            "postal_code",
            "_city_key",
            _placed=pl.when(pl.col("_written").list.len() == 1)
            .then(pl.col("_written").list.first())
            .when((pl.col("_written").list.len() == 0) & (pl.col("_said").list.len() == 1))
            .then(pl.col("_said").list.first()),
        )
        .filter(pl.col("_placed").is_not_null())
    )
    frame = frame.join(
        placed, on=["postal_code", "_city_key"], how="left", nulls_equal=False,
        maintain_order="left",
    )  # fmt: skip
    lettered = pl.col("_shaped_code").str.contains(_FOREIGN_CODE_SHAPE).fill_null(False)
    checked = frame.filter(pl.col("agrees").is_not_null() & pl.col("_country").is_null())
    disagreeing = int((~checked["agrees"]).sum())
    # Only the postal code column's lettered codes speak for the file: one an address line ends
    # with names its own record's country, and a Danish file's few British customers written on
    # one line would otherwise make its Danish typos (``80000 Aarhus C``) no one's.
    typed_lettered = pl.col("_written_code").str.contains(_FOREIGN_CODE_SHAPE).fill_null(False)
    lettered_codes = int(frame.select(typed_lettered.sum()).item())
    # A typed code of five digits without a typed city is no Danish one (``60609``, a Chicago
    # ZIP; ``80000 Aarhus C`` is a typo); without typed cities to check, the typed codes that
    # are Danish ones speak for the file instead.
    unwritten = pl.col("_country").is_null()
    typed = pl.col("_typed_code")
    five_digits, danish_codes = frame.select(
        five=(typed.str.contains(r"^\d{5}$") & unwritten & pl.col("_typed_city").is_null()).sum(),
        danish=(typed.is_in(list(official)) & unwritten).sum(),
    ).row(0)
    foreign_votes = disagreeing + lettered_codes + five_digits
    danish_votes = checked.height - disagreeing if checked.height else danish_codes
    danish_file = foreign_votes <= danish_votes and phone_country is None
    in_file = pl.lit(phone_country, dtype=pl.String)
    decided = (
        pl.when(pl.col("_country").is_not_null())
        .then(pl.col("_country"))
        .when(pl.col("_raw_country").str.contains(r"\p{L}").fill_null(False))
        .then(_null())
        .when(lettered)
        .then(_lettered_code_country(pl.col("_shaped_code")))
        .when(pl.col("_foreign_record"))
        .then(pl.coalesce(pl.col("_placed"), pl.col("_evidence_country"), in_file))
        # a Danish code whose city is its district stays Danish whatever another record says
        .when(pl.col("_placed").is_not_null() & ~pl.col("agrees").fill_null(False))
        .then(pl.col("_placed"))
        .when(_faroese_code_and_town())
        .then(pl.lit("FO"))
        .when(pl.col("postal_code").str.contains(r"^39\d\d$").fill_null(False) & danish_file)
        .then(pl.lit("GL"))
        .when(pl.col("agrees").fill_null(False) | pl.lit(danish_file))
        .then(pl.lit("DK"))
        .otherwise(in_file)
    )
    return frame.select(decided.alias("country"))["country"]


def _faroese_code_and_town() -> pl.Expr:
    """A three-digit code typed beside a Faroese town of that code (``100 Tórshavn``, ``700
    Klaksvík``, ``510 Gøta``): the Faroe Islands, though no country is written. Read as Danish
    the code was none (UNKNOWN_POSTAL_CODE, MISSING_ADDRESS) or, from 800 on, a Danish one with
    its leading zero lost (``800 Tvøroyri`` as 0800 Høje Taastrup). Both must agree: ``800 Høje
    Taastrup`` stays Danish."""
    code_town = pl.concat_str([pl.col("_written_code"), pl.col("_city_key")], separator=" ")
    return code_town.is_in(pl.lit(sorted(_faroese_places()))).fill_null(False)


@cache
def _faroese_places() -> set[str]:
    """``<code> <town key>`` of every Faroese postal code (``data/reference/fo_postal_codes``)."""
    table = load_reference("fo_postal_codes")
    keyed = table.select(
        pl.concat_str([pl.col("postal_code"), text_key(pl.col("town"))], separator=" ")
    )
    return set(keyed.to_series().to_list())


# The engine the parse's two wide frames (``parts``, ``located``: 60-odd columns) are collected
# with. Polars' default, the streaming engine, hands every column back in chunks of 100,000 rows,
# and each eager ``select`` or ``with_columns`` on such a frame first copies all of its columns
# into one chunk: at 1M records the copies and the chunked originals held 3.9 GB at the stage's
# peak, the run's highest. Collected whole they hold 2.9 GB, in the same CPU time.
WHOLE_COLUMNS: Final = "in-memory"


# Countries whose addresses are read the Danish way (their codes are in the Danish postal table,
# their streets written as in Denmark); the Danish abbreviations apply to their streets only.
DANISH_REALM: Final = ("DK", "GL", "FO")
# Countries whose streets are written in English. A foreign record whose country cannot be
# named gets the English abbreviations as well: most such files are American or British.
_ENGLISH_STREETS: Final = ("US", "GB", "IE", "CA", "AU", "NZ")
# The last word of an English street (``S State St``), not of a place name.
ENGLISH_STREET_SUFFIX: Final = (
    r"(?i)\s(?:st|street|ave?|avenue|rd|road|blvd|boulevard|dr|drive|ln|lane|ct|court|pl|place"
    r"|pkwy|parkway|hwy|highway|sq|square|ter|terrace|way)\.?$"
)


def _abroad(located: pl.DataFrame) -> pl.DataFrame:
    """The Danish readings of the address line taken back on records decided to be foreign.

    ``3901 S State St`` is no Danish postal code 3901 and city ``S State St`` but house number
    3901 of ``S State St``, where the record has its own postal code or city or the words end
    in a street word (``0154 Oslo`` alone stays a code and a city). Foreign streets get a key
    without the Danish abbreviations (``St`` is no ``Stræde``); English ones (and those of a
    country that cannot be named) get the English ones, so ``E 75th St`` meets ``E 75th Street``.
    """
    country = pl.col("country")
    abroad = country.is_null() | ~country.is_in(DANISH_REALM)
    first = pl.col("_line_first")
    number_first = (
        abroad
        & first.struct.field("number").is_not_null()
        & (
            pl.col("_typed_code").is_not_null()
            | pl.col("_typed_city").is_not_null()
            | pl.col("_city").str.contains(ENGLISH_STREET_SUFFIX)
        )
    ).fill_null(False)
    located = located.with_columns(
        _street=pl.when(number_first)
        .then(first.struct.field("street").str.strip_chars(" ,"))
        .otherwise(pl.col("_street")),
        house_number=pl.when(number_first)
        .then(
            pl.coalesce(
                pl.col("_given_number"),
                _house_number(*(first.struct.field(part) for part in ("number", "letter", "to"))),
            )
        )
        .otherwise(pl.col("house_number")),
        postal_code=pl.when(number_first)
        .then(pl.col("_typed_code"))
        .otherwise(pl.col("postal_code")),
        _any_city=pl.when(number_first).then(pl.col("_typed_city")).otherwise(pl.col("_any_city")),
        _abroad=abroad.fill_null(False),
    )
    foreign = per_distinct(
        located.select(pl.when("_abroad").then(pl.col("_street")))["_street"],
        {
            # A foreign street keeps the dot of its last abbreviation as written (``Blvd.``,
            # ``Str.``): no Danish rule says how it should read, and the key ignores it.
            "street": lambda text: proper_case(
                text.str.strip_chars(" ,-").str.strip_chars_start(".").replace("", None)
            ),
            "english": lambda _: street_key(pl.col("street"), "street_abbreviations_en"),
            "plain": lambda _: street_key(pl.col("street"), None),
        },
    )
    english = country.is_null() | country.is_in(_ENGLISH_STREETS)
    return located.with_columns(
        street=pl.when("_abroad").then(foreign["street"]).otherwise(pl.col("street")),
        street_key=pl.when(pl.col("_abroad") & english)
        .then(foreign["english"])
        .when("_abroad")
        .then(foreign["plain"])
        .otherwise(pl.col("street_key")),
    )


# Countries whose postal codes are all digits of one length and may start with 0 (UPU postal
# addressing: Oslo 0155, Dresden 01067, Helsinki 00100, Boston 02134, Darwin 0800): a spreadsheet
# reads such a code as a number and drops the zeros. The Faroe Islands' three digits (100
# Tórshavn) and Sweden's five (never with a leading 0) are not among them.
_ZERO_LED_POSTAL_LENGTH: Final = {
    "NO": 4, "AU": 4, "DE": 5, "FI": 5, "FR": 5, "IT": 5, "ES": 5, "US": 5,
}  # fmt: skip


def _leading_zeros(code: pl.Expr, country: pl.Expr) -> pl.Expr:
    """A foreign postal code of digits only, shorter than its country's codes, with the zeros a
    spreadsheet dropped put back: ``155`` in Norway is ``0155``, ``1067`` in Germany ``01067``.
    Every other code as it is."""
    length = country.replace_strict(_ZERO_LED_POSTAL_LENGTH, default=None, return_dtype=pl.Int64)
    short = code.str.contains(r"^\d+$") & (code.str.len_chars() < length)
    return pl.when(short.fill_null(False)).then(code.str.zfill(length)).otherwise(code)


def normalise_addresses(df: pl.DataFrame) -> pl.DataFrame:
    """Parse and clean each record's address; see the module docstring for the columns.

    ``Vestergade 12\\n8000 Aarhus C`` → ``Vestergade`` / ``12`` / ``8000`` / ``Aarhus C``;
    ``c/o Hansen, Postboks 123, 8000 Aarhus C`` → co_name ``Hansen``, po_box ``Postboks 123``;
    a DK address with no postal code → MISSING_ADDRESS; postal code ``8999`` → UNKNOWN_POSTAL_CODE.
    """
    fields = ("address", "street", "house_number", "floor", "door", "postal_code", "city")
    raw = {
        field: (
            df.get_column(f"raw_{field}").cast(pl.String)
            if f"raw_{field}" in df.columns
            else pl.repeat(None, df.height, dtype=pl.String, eager=True)
        )
        for field in (*fields, "address_2", "address_3", "country", "phone", "mobile")
    }
    # a third line is read after the second, as one more line of it
    raw["address_2"] = pl.select(
        pl.concat_str(
            [pl.lit(raw["address_2"]), pl.lit(raw.pop("address_3"))],
            separator=", ",
            ignore_nulls=True,
        ).replace("", None)
    ).to_series()
    # ``nr. 44`` in a house-number column is read as the written line's ``Engvej nr. 53d`` is:
    # left, the number was lost (null), matched neighbours on the street alone and went back
    # to the CRM as ``nr. 44``.
    raw["house_number"] = raw["house_number"].str.replace(_NUMBER_WORD, "${1}")
    # a phone read as the phones stage reads it (``20304050.0`` is no nine-digit number)
    for field in ("phone", "mobile"):
        raw[field] = raw[field].to_frame(field).select(whole_number(pl.col(field))).to_series()
    codes, official, code_by_city = _postal_codes()
    # A postal code cell that held a CPR number and nothing else is an empty cell: the town's
    # one code fills it as it fills an empty one (``010190-1234`` beside ``Roskilde`` is 4000).
    # Read as a typed code it was none, UNKNOWN_POSTAL_CODE, though the town's code stood in it.
    if raw["postal_code"].str.contains(MASK, literal=True).any():
        raw["postal_code"] = pl.select(
            pl.lit(raw["postal_code"])
            .str.replace_all(_CPR_REMARK, "")
            .str.strip_chars(" ,;-")
            .replace("", None)
        ).to_series()
    raw["postal_code"], raw["city"] = _postal_cell_code_first(raw["postal_code"], raw["city"])
    # A city column that holds a Danish postal code too (``8000 Aarhus C``, a "Postnr. og by"
    # column; ``Aarhus C 8000``, ``København K, 1165``, a "By/Postnr" one) beside an empty postal
    # code is read as a postal code column with its city. A foreign one (``D-8301 Furth``,
    # ``6211 LM Maastricht``) stays the city as written.
    code_first = raw["city"].str.extract(r"(?i)^\s*(?:dk\s*-\s*)?(\d{4})\s+\p{L}", 1)
    code_last = raw["city"].str.extract_groups(CITY_THEN_CODE)
    # the cell as a postal code column's combined cells have it: the code first
    as_postal = pl.select(
        pl.when(pl.lit(code_first).is_null() & pl.lit(code_last).struct.field("code").is_not_null())
        .then(pl.lit(code_last).struct.field("code") + " " + pl.lit(code_last).struct.field("city"))
        .otherwise(pl.lit(raw["city"]))
    ).to_series()
    code_in_city = code_first.fill_null(code_last.struct.field("code"))
    combined = code_in_city.is_in(codes).fill_null(False) & ~raw["postal_code"].str.contains(
        r"\S"
    ).fill_null(False)
    if combined.any():
        raw["postal_code"] = pl.select(
            pl.when(combined).then(as_postal).otherwise(raw["postal_code"])
        ).to_series()
        raw["city"] = pl.select(pl.when(~combined).then(raw["city"])).to_series()

    # Postal code, country, city and the structured parts repeat: read each distinct value once.
    read = pl.col("parts")
    postal = per_distinct(
        raw["postal_code"],
        {
            # ``FO 100``, ``DK 8000``: a country's capitals before the digits, as ``FO-100``
            "parts": lambda value: value.str.replace(
                r"^\s*(\p{Lu}{2,3})\s+(\d)", "${1}-${2}"
            ).str.extract_groups(_POSTAL_CODE_VALUE),
            "digits": lambda _: read.struct.field("digits").str.replace_all(" ", "", literal=True),
            "prefix": lambda _: read.struct.field("prefix"),
            "city": lambda _: read.struct.field("city"),
            "written": lambda value: _written_code(value, read),
        },
    )
    given_number = per_distinct(
        raw["house_number"],
        {
            "parts": lambda value: _clean(value).str.extract_groups(_HOUSE_NUMBER_VALUE),
            "number": lambda _: _house_number(
                *(pl.col("parts").struct.field(name) for name in ("number", "letter", "to"))
            ),
            "typed": lambda value: _clean(value).str.to_uppercase(),
        },
    )
    given_floor = per_distinct(
        raw["floor"],
        {
            "parts": lambda value: _floor_door_text(_clean(value)).str.extract_groups(_FLOOR_DOOR),
            "floor": lambda _: _floor(pl.col("parts").struct.field("floor")),
            "door": lambda _: _door(pl.col("parts").struct.field("door")),
        },
    )
    # A house-number cell holding more than the number (``12B, 2. th``, ``3 st.``, a CRM without
    # floor and door columns) beside a street without a number is the tail of the street's line:
    # read as one line, or the number is lost with the rest.
    tail = (
        given_number["number"].is_null()
        & raw["house_number"].str.contains(r"^\s*\d").fill_null(False)
        & raw["street"].str.contains(r"\p{L}").fill_null(False)
        & ~raw["street"].str.contains(r"\d").fill_null(True)
        & raw["address"].is_null()
    )
    if tail.any():
        raw["street"] = pl.select(
            pl.when(tail)
            .then(pl.concat_str([raw["street"], raw["house_number"]], separator=" "))
            .otherwise(raw["street"])
        ).to_series()
        given_number = {
            name: pl.select(pl.when(~tail).then(part)).to_series()
            for name, part in given_number.items()
        }
    digits = postal["digits"]
    line = _with_second_line(
        pl.coalesce(pl.lit(raw["address"]), pl.lit(raw["street"])),
        raw["address_2"],
        number=pl.when(pl.lit(raw["address"]).is_null()).then(pl.lit(raw["house_number"])),
    )
    # The parse works on a frame of its own columns and joins the record only at the end. On the
    # record, every eager select or with_columns below first copied all of its columns into one
    # chunk (a collected frame comes in several): 265 MB and a copy of the whole record each
    # time at 200,000 rows.
    rows = df.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_address_row"))
    frame = rows.lazy().with_columns(
        _line=_address_line(line).replace("", None),
        # Excel drops the leading zero of 0800-0999; a code typed with a space (``80 00``) is
        # closed up. Foreign codes keep their own shape: three digits below 800 (Tórshavn's
        # ``100``) were never a Danish code and are not made one.
        _typed_code=pl.when(pl.lit(digits).str.contains(r"^[89]\d\d$"))
        .then(pl.lit("0") + pl.lit(digits))
        .otherwise(pl.lit(digits)),
        _code_unreadable=(raw["postal_code"].str.contains(r"\S") & digits.is_null()).fill_null(
            False
        ),
        _written_code=postal["written"].str.to_uppercase(),
        _country_prefix=postal["prefix"],
        _raw_country=per_distinct(raw["country"], {"clean": _clean})["clean"],
        _typed_city=pl.coalesce(
            per_distinct(raw["city"], {"clean": _clean})["clean"], postal["city"]
        ),
        _given_number=pl.coalesce(given_number["number"], given_number["typed"]),
        _given_floor=given_floor["floor"],
        _given_door=pl.coalesce(
            per_distinct(
                raw["door"],
                {"door": lambda value: _door(_clean(value).str.replace(_DOOR_WORD_BEFORE, "${1}"))},
            )["door"],
            given_floor["door"],
        ),
    )
    # Most files hold no attention line at all: the step that sets one aside is left out.
    frame = _parse(
        frame,
        attention=any(
            raw[field].str.contains(_MAY_HOLD_ATTENTION).any()
            for field in ("address", "street", "address_2")
        ),
    )
    frame = frame.with_columns(_floor_door=pl.col("_after").str.extract_groups(_FLOOR_DOOR))
    parsed = pl.col("_floor_door")
    whole = parsed.struct.field("floor").is_not_null() | parsed.struct.field("door").is_not_null()
    # A note after the number, floor and door, in brackets or after a dash (``st. th. (ring 2
    # gange)``, ``2. th. - ring på hos Jensen``), is the customer's remark to the postman: set
    # apart as typed, or the floor and door before it are not read and the remark is re-cased.
    text = pl.col("_after_text")
    frame = frame.with_columns(
        _note_parts=pl.when(~whole & text.str.contains(r"\(|\s[-–]\s").fill_null(False))
        .then(text)
        .str.extract_groups(_NOTE)
    )
    note = pl.col("_note_parts")
    text = pl.coalesce(note.struct.field("before"), text).replace("", None)
    # A floor before a comma and more after it (``2. th, Vester Hassing``), or before a note:
    # the floor, and the rest kept (:data:`ADDRESS_EXTRA`).
    frame = frame.with_columns(
        _note=note.struct.field("note").str.strip_chars(),
        _head=pl.when(~whole & (text.str.contains(",", literal=True) | note.is_not_null()))
        .then(_floor_door_text(text.str.extract(r"^([^,]*)", 1)))
        .str.extract_groups(_FLOOR_DOOR),
    )
    head = pl.col("_head")
    in_head = head.struct.field("floor").is_not_null() | head.struct.field("door").is_not_null()
    frame = frame.with_columns(
        _extra=pl.when(whole)
        .then(_null())
        .when(in_head)
        .then(text.str.extract(_AFTER_FIRST_COMMA, 1).str.strip_chars(" ,.-").replace("", None))
        .otherwise(text),
        _in_head=in_head,
    )
    # After the floor, a Danish postal district is the city of a line without a postal code
    # (``Gothersvej 45 5.th, Bækmarksbro``, a one-column address): its code is read off it below.
    # Only a district's name: ``2. th, Baghuset`` stays an extra.
    frame = frame.with_columns(
        _district_after_floor=pl.when(
            in_head
            & text_key(pl.col("_extra")).is_in(pl.lit(sorted(_danish_places()))).fill_null(False)
        ).then(pl.col("_extra"))
    )
    parts = frame.with_columns(
        house_number=pl.coalesce(pl.col("_given_number"), pl.col("_number")),
        floor=pl.coalesce(
            pl.col("_given_floor"),
            _floor(parsed.struct.field("floor")),
            _floor(head.struct.field("floor")),
        ),
        door=pl.coalesce(
            pl.col("_given_door"),
            _door(parsed.struct.field("door")),
            _door(head.struct.field("door")),
        ),
        # Text after the number that is no floor or door may be the city of a line without
        # a postal code (``Vestergade 12 Aarhus C``).
        _after_city=pl.when(
            parsed.struct.field("floor").is_null()
            & parsed.struct.field("door").is_null()
            & ~pl.col("_in_head")
        )
        .then(pl.col("_after"))
        .str.extract(r"^(\p{L}[\p{L}\s.\-]*)$", 1)
        .fill_null(pl.col("_district_after_floor")),
        postal_code=pl.coalesce(pl.col("_typed_code"), pl.col("_code")),
        _any_city=pl.coalesce(pl.col("_typed_city"), pl.col("_city")),
    ).collect(engine=WHOLE_COLUMNS)
    # A full stop ending an abbreviation is part of the street as typed (``Vesterg.``, ``H.C.
    # Andersens Blvd.``, ``Toskiftevj.``: the key reads them as -gade, Boulevard, -vej), kept
    # where the key is another without it or the last word is one the table writes out; a stray
    # one after a word in full (``Vestergade.``) is not.
    dotted_end = pl.col("_dotted").str.ends_with(".")
    streets = per_distinct(
        parts["_street"],
        {
            "_bare": lambda text: text.str.strip_chars(" ,.-").replace("", None),
            "_dotted": lambda text: (
                text.str.strip_chars(" ,-").str.strip_chars_start(".").replace("", None)
            ),
            "street_key": lambda _: street_key(pl.col("_dotted")),
            # keyed without its full stop only where it has one (null is keyed for nothing)
            "_bare_key": lambda _: street_key(pl.when(dotted_end).then(pl.col("_bare"))),
            "_plain_key": lambda _: street_key(pl.when(dotted_end).then(pl.col("_bare")), None),
            "street": lambda _: proper_case(
                pl.when(
                    (pl.col("_bare_key").fill_null(pl.col("street_key")) == pl.col("street_key"))
                    & (
                        pl.col("_bare_key").str.extract(r"(\S+)$")
                        == pl.col("_plain_key").str.extract(r"(\S+)$")
                    ).fill_null(True)
                    # a word of three letters or fewer is no word in full: the Greenlandic
                    # ``Nuussuup Aqq.`` (Aqqusinersuaq, road) went back as ``Nuussuup Aqq``
                    & ~pl.col("_dotted").str.contains(r"(?:^|[\s.])\p{L}{1,3}\.$").fill_null(False)
                )
                .then(pl.col("_bare"))
                .otherwise(pl.col("_dotted"))
            ),
        },
    )
    countries = [
        per_distinct(parts[column], {"country": reading})["country"]
        for column, reading in (
            ("_raw_country", country_code),
            ("_country_prefix", prefix_country),
            ("_country_text", country_code),
            ("_code_prefix", prefix_country),
        )
    ]
    located = (
        parts.lazy()
        .with_columns(
            street=streets["street"],
            street_key=streets["street_key"],
            _country=pl.coalesce(countries),
            _any_city=pl.coalesce(pl.col("_any_city"), pl.col("_after_city")),
            # what was read as the city of a line without one is no extra (but see
            # _town_in_line: where the postal code's city is another, it is kept)
            _extra=pl.when(pl.col("_any_city").is_null() & pl.col("_after_city").is_not_null())
            .then(_null())
            .otherwise(pl.col("_extra")),
            _town_in_line=pl.when(pl.col("_any_city").is_null()).then(pl.col("_after_city")),
        )
        .collect(engine=WHOLE_COLUMNS)
    )
    located = pl.concat(
        [located, _foreign_evidence(located, [raw["phone"], raw["mobile"]], codes)],
        how="horizontal",
    )
    phone_country = _phone_file_country(located, [raw["phone"], raw["mobile"]])
    located = _abroad(
        located.with_columns(country=_decide_country(located, official, phone_country))
    )
    # A street typed because one was required and none was known (``Ukendt adresse``, ``Ingen
    # adresse``, ``n/a``, ``xxx``) is no street, as such a name is no name: the record has no
    # address to send an invoice to (MISSING_ADDRESS), and the line stays in ``src_`` and goes
    # back as typed. Only without a house number: beside one (``Ukendt 12``) it is the street's
    # name, and dropped the line would go back as ``12``. A floor and side alone (``Ukendt, 2.
    # th``) locate no building: the street and the floor go together.
    placeholder = per_distinct(located["street"], {"placeholder": _placeholder})["placeholder"]
    if placeholder.any():
        no_street = pl.lit(placeholder).fill_null(False) & pl.col("house_number").is_null()
        located = located.with_columns(
            pl.when(~no_street).then(pl.col(column)).alias(column)
            for column in ("street", "street_key", "floor", "door")
        )
    cities = per_distinct(
        located["_any_city"],
        {
            "code": lambda city: text_key(city).replace_strict(
                code_by_city, default=None, return_dtype=pl.String
            ),
            "as_typed": lambda city: _clean(proper_case(city)),
            "as_typed_key": lambda _: text_key(pl.col("as_typed")),
        },
    )
    typed_city = pl.select(
        pl.when(located["_town_in_line"].is_null()).then(located["_any_city"])
    ).to_series()
    frame = located.with_columns(
        _city_code=cities["code"],
        _city_as_typed=cities["as_typed"],
        _city_typed_key=cities["as_typed_key"],
        _other_district=_other_district(located["postal_code"], typed_city),
    ).lazy()
    is_dk = (pl.col("country") == "DK").fill_null(False)
    four_digits = pl.col("postal_code").str.contains(r"^\d{4}$").fill_null(False)
    # A Dutch code's letters read as the city's first word (``1015 CJ Amsterdam``).
    dutch_letters = (
        (pl.col("country") == "NL")
        & four_digits
        & pl.col("_any_city").str.contains(r"^[A-Z]{2}\s+\p{L}")
    ).fill_null(False)
    dutch_city = pl.col("_city_as_typed").str.replace(r"^\S+\s+", "")
    frame = frame.with_columns(
        postal_code=pl.when(dutch_letters)
        .then(pl.col("postal_code") + " " + pl.col("_any_city").str.head(2))
        .otherwise(pl.col("postal_code")),
        _city_as_typed=pl.when(dutch_letters).then(dutch_city).otherwise(pl.col("_city_as_typed")),
        _city_typed_key=pl.when(dutch_letters)
        .then(text_key(only_where(dutch_letters, dutch_city)))
        .otherwise(pl.col("_city_typed_key")),
    )
    frame = frame.with_columns(
        # A Danish code that is not four digits is unusable; a missing one may be read off a
        # city name that has only one code (``Aabenraa`` → 6200).
        postal_code=pl.when(~is_dk)
        .then(
            pl.coalesce(
                pl.when(
                    pl.col("_written_code").str.contains(_POSTAL_CODE_SHAPE)
                    & pl.col("_written_code").str.contains(r"\d")
                ).then(pl.col("_written_code")),
                pl.col("postal_code"),
            )
        )
        .when(four_digits)
        .then(pl.col("postal_code"))
        .when(pl.col("postal_code").is_null())
        .then(pl.col("_city_code")),
        _code_unusable=is_dk
        & (pl.col("_code_unreadable") | (pl.col("postal_code").is_not_null() & ~four_digits)),
    )
    frame = frame.with_columns(postal_code=_leading_zeros(pl.col("postal_code"), pl.col("country")))
    known = pl.col("postal_code").is_in(codes).fill_null(False)
    official_city = pl.col("postal_code").replace_strict(
        official, default=None, return_dtype=pl.String
    )
    # A city that is another town's district (``5000 Aalborg``): either may be the typo, so the
    # record says so (POSTAL_CITY_MISMATCH) and keeps the city as typed.
    other_town = is_dk & known & pl.col("_other_district")
    # The official name with its abbreviation written out is the customer's correct spelling,
    # kept: ``2800 Kongens Lyngby`` is no ``Kgs. Lyngby`` to correct.
    official_key, official_spelt_out = (
        pl.col("postal_code").replace_strict(keys, default=None, return_dtype=pl.String)
        for keys in _official_keys()
    )
    spelt_out = (
        is_dk
        & (official_spelt_out != official_key)
        & (pl.col("_city_typed_key") == official_spelt_out)
    ).fill_null(False)
    frame = frame.with_columns(
        city=pl.when(is_dk & known & ~other_town & ~spelt_out)
        .then(official_city)
        .otherwise(pl.col("_city_as_typed")),
        flag_POSTAL_CITY_MISMATCH=other_town,
        co_name=proper_case(_clean(pl.col("_co"))),
        # The Danish post's word for a Danish record's box (``PB 77`` is ``Postboks 77``); a
        # foreign one is its country's words, as typed (``PO Box 123``, ``Postboks 123 Sentrum``).
        po_box=pl.when(pl.col("country").is_in(DANISH_REALM).fill_null(False))
        .then(pl.lit("Postboks ") + pl.col("_box").str.strip_chars_start("0"))
        .otherwise(pl.col("_box_as_typed")),
    )
    # What the parts may look like: junk typed into a structured column (emoji, control
    # characters, 10 kB of digits) is dropped rather than passed on as a valid-looking value.
    # Each distinct value is looked at once: a million records hold some thousands of house
    # numbers and cities (on every record the patterns cost 1.5 CPU-s).
    placed = frame.collect()
    numbers = per_distinct(
        placed["house_number"],
        {
            "danish": lambda number: number.str.contains(_HOUSE_NUMBER_SHAPE),
            "foreign": lambda number: number.str.contains(_FOREIGN_HOUSE_NUMBER_SHAPE),
        },
    )
    floor_shaped = per_distinct(
        placed["floor"], {"shaped": lambda floor: floor.str.contains(r"^(st|kl|\d{1,2})$")}
    )["shaped"]
    door_shaped = per_distinct(
        placed["door"], {"shaped": lambda door: door.str.contains(_DOOR_SHAPE)}
    )["shaped"]
    places = per_distinct(
        placed["city"],
        {
            "danish": lambda city: _place_name(city, pl.lit(False)) & ~_placeholder(city),
            "foreign": lambda city: _place_name(city, pl.lit(True)) & ~_placeholder(city),
            "key": text_key,
        },
    )
    place = pl.when(is_dk).then(pl.lit(places["danish"])).otherwise(pl.lit(places["foreign"]))
    frame = placed.lazy().with_columns(
        house_number=pl.when(
            pl.lit(numbers["danish"]) | (~is_dk & pl.lit(numbers["foreign"]))
        ).then(pl.col("house_number")),
        floor=pl.when(pl.lit(floor_shaped)).then(pl.col("floor")),
        door=pl.when(pl.lit(door_shaped)).then(pl.col("door")),
        city=pl.when(place).then(pl.col("city")),
        # the key of the city kept, for the extras below
        _city_key=pl.when(place).then(pl.lit(places["key"])),
    )
    set_aside, town, note = pl.col("_set_aside"), pl.col("_town_in_line"), pl.col("_note")
    has_town = town.is_not_null()
    # Most files have neither (at 1M rows each pass over the column costs): left out then.
    nothing = _null()
    if not located["_set_aside"].is_not_null().any():
        set_aside = nothing
    if not located["_note"].is_not_null().any():
        note = nothing
    if not located["_town_in_line"].is_not_null().any():
        town, has_town = nothing, pl.lit(False)
    frame = frame.with_columns(
        # what was set aside (an attention line, a building or name before the street) first,
        # as typed: the address no longer holds it, so the line written back must
        address_extra=pl.concat_str(
            pl.concat_str(
                _clean(set_aside),
                pl.when((text_key(pl.col("_extra")) != pl.col("_city_key")).fill_null(True)).then(
                    proper_case(_clean(pl.col("_extra")))
                ),
                # A town after the number of a line without a city, where the postal code's city
                # is another: a village (``Industrivej 4, Vester Hassing`` beside 9310, Vodskov)
                # is no typo of it, and written back the line keeps it. (Few lines have one: the
                # others' text is empty for the folding.)
                pl.when(
                    has_town
                    & (text_key(only_where(has_town, town)) != pl.col("_city_key")).fill_null(False)
                ).then(proper_case(_clean(only_where(has_town, town)))),
                separator=", ",
                ignore_nulls=True,
            ).replace("", None),
            # a note after what it is about, as typed with its bracket or dash (``(ring 2 gange)``)
            note,
            separator=" ",
            ignore_nulls=True,
        ).replace("", None),
        address_key=address_key(),
        # A foreign address is read as typed, so only one with nothing at all is missing: no
        # street, post box, postal code or town to send an invoice to (Svensk Kunde AB, blank).
        flag_MISSING_ADDRESS=pl.when(is_dk)
        .then(
            pl.col("postal_code").is_null()
            | (pl.col("street").is_null() & pl.col("po_box").is_null())
        )
        .otherwise(
            pl.all_horizontal(
                pl.col(c).is_null() for c in ("street", "po_box", "postal_code", "city")
            )
        ),
        flag_UNKNOWN_POSTAL_CODE=is_dk
        & (
            (pl.col("postal_code").is_not_null() & ~known & ~_po_box_code())
            | pl.col("_code_unusable")
        ).fill_null(False),
    )
    temporary = [
        column
        for column in frame.collect_schema().names()
        if column.startswith("_") and column not in df.columns
    ]
    return df.with_columns(frame.drop(temporary).collect().get_columns())
