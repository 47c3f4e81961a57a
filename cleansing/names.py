"""Company and person names: the display name, its legal form and the key used to match it.

A Danish customer name is written many ways for one legal entity: ``Hansen Byg ApS``,
``HANSEN BYG APS.``, ``Hansen Byg Anpartsselskab``. Three views of it come out of here:

- the **display name**, written the way the registry writes it (``Hansen Byg ApS``), mixed-case
  input left as typed (``IBM Danmark ApS``, ``McDonald's``);
- the **legal form** (``ApS``, ``A/S``, ``I/S``, ``K/S``, ``P/S``, ``IVS``, ``ENK`` for
  ``v/`` sole proprietors, ``AMBA`` …), from ``data/reference/legal_forms.csv``;
- the **name key**: legal form stripped, æ/ø/å and accents folded, case and punctuation
  dropped (``hansen byg``) — for blocking and comparison only, never shown.

Everything here is a polars expression over the whole column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import polars as pl

from cleansing.reference import load_reference

# Fold the letters Danish data is written with to ASCII the way Danes transliterate them
# (ø -> oe, not o), so ``Søren`` and ``Soeren`` meet; accents go after NFKD decomposition.
_FOLD_FROM = ["æ", "ø", "å", "ä", "ö", "ü", "ß", "œ", "ð", "þ", "ł", "đ"]
_FOLD_TO = ["ae", "oe", "aa", "ae", "oe", "ue", "ss", "oe", "d", "th", "l", "d"]

# A registry name may carry its insolvency status; it is not part of the name.
_STATUS_BODY = (
    r"[\s,\-]*\(?\s*(?i:under\s+konkurs|i\s+konkurs|under\s+tvangsopl(?:ø|oe|o)sning"
    r"|under\s+(?:frivillig\s+)?likvidation|i\s+(?:frivillig\s+)?likvidation"
    r"|under\s+rekonstruktion)\s*\)?"
)
_STATUS_SUFFIX = rf"{_STATUS_BODY}\s*$"
# ``Hansen Tømrer v/Jens Hansen``: the mark of a sole proprietorship (enkeltmandsvirksomhed).
_SOLE_PROPRIETOR = r"(?i)(?:^|\s)v\s*/\s*\S"
_SOLE_PROPRIETOR_MARK = r"(?i)(?:^|\s)v\s*/\s*"


def _variant_pattern(variant: str) -> str:
    """Regex for one legal-form spelling: optional dots in short ones, loose spaces and slashes."""
    if variant.isalpha() and len(variant) <= 4:
        return r"\.?\s?".join(re.escape(letter) for letter in variant)
    parts = [re.escape(word) for word in variant.split(" ")]
    return r"\s+".join(parts).replace("/", r"\s*/\s*")


def _spellings(variant: str) -> tuple[str, ...]:
    """A variant and, for a short one, its spaced-out form (``A. S.`` normalises to ``a s``)."""
    if variant.isalpha() and len(variant) <= 4:
        return (variant, " ".join(variant))
    return (variant,)


@dataclass(frozen=True)
class _LegalForms:
    suffix_pattern: str  # group 1: the name before the form, group 2: the form as written
    prefix_pattern: str  # group 1: the form as written, group 2: the rest of the name
    canonical: dict[str, str]  # normalised spelling -> legal form code
    display: dict[str, str]  # normalised spelling -> how it is written in a display name


@cache
def _legal_forms() -> _LegalForms:
    table = load_reference("legal_forms")
    variants = sorted(table["variant"].to_list(), key=len, reverse=True)
    prefix_variants = sorted(
        table.filter(pl.col("position") == "any")["variant"].to_list(), key=len, reverse=True
    )
    suffix_alternatives = "|".join(_variant_pattern(v) for v in variants)
    prefix_alternatives = "|".join(_variant_pattern(v) for v in prefix_variants)
    return _LegalForms(
        suffix_pattern=rf"(?i)^(.*?[^\s,\-])[\s,\-]+({suffix_alternatives})\.?\s*$",
        prefix_pattern=rf"(?i)^({prefix_alternatives})\.?[\s,]+(\S.*)$",
        canonical={
            spelling: form
            for variant, form in zip(table["variant"], table["legal_form"], strict=True)
            for spelling in _spellings(variant)
        },
        display={
            spelling: shown
            for variant, shown in zip(table["variant"], table["display"], strict=True)
            if shown
            for spelling in _spellings(variant)
        },
    )


def collapse_whitespace(expr: pl.Expr) -> pl.Expr:
    """Runs of any whitespace (tabs, newlines, no-break spaces) become one space; ends trimmed."""
    return expr.str.replace_all(
        r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000]+", " "
    ).str.strip_chars()


def fold(expr: pl.Expr) -> pl.Expr:
    """Lower case, æ→ae, ø→oe, å→aa, ä/ö/ü and accents folded to ASCII, full-width forms narrowed.

    ``Ålsgårde`` → ``aalsgaarde``; ``Aabenraa`` → ``aabenraa``; ``Müller`` → ``mueller``;
    ``Café`` → ``cafe``.
    """
    return (
        expr.str.to_lowercase()
        .str.replace_many(_FOLD_FROM, _FOLD_TO)
        .str.normalize("NFKD")
        .str.replace_all(r"\p{M}+", "")
    )


def _normalised_variant(expr: pl.Expr) -> pl.Expr:
    """A legal form as written (``A.p.S.``, ``A / S``) in the spelling of the reference table."""
    return (
        expr.str.to_lowercase()
        .str.replace_all(r"\.", "")
        .str.replace_all(r"\s*/\s*", "/")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def _without_status(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace(_STATUS_SUFFIX, "")


def _legal_form_parts(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(name without its legal form, the legal form as written) of a whitespace-collapsed name."""
    forms = _legal_forms()
    text = _without_status(expr)
    suffix = text.str.extract_groups(forms.suffix_pattern)
    prefix = text.str.extract_groups(forms.prefix_pattern)
    base = (
        pl.when(suffix.struct.field("2").is_not_null())
        .then(suffix.struct.field("1"))
        .when(prefix.struct.field("1").is_not_null())
        .then(prefix.struct.field("2"))
        .otherwise(text)
    )
    written = pl.coalesce(suffix.struct.field("2"), prefix.struct.field("1"))
    return base, written


def legal_form_of(expr: pl.Expr) -> pl.Expr:
    """The canonical legal form of a company name, or null.

    ``Hansen Byg Aps.`` → ``ApS``; ``A/S Storebælt`` → ``A/S``; ``Hansen Tømrer v/Jens Hansen`` →
    ``ENK``; ``Danish Crown A.m.b.a.`` → ``AMBA``; ``Jens Hansen`` → null.
    """
    forms = _legal_forms()
    text = collapse_whitespace(expr)
    _, written = _legal_form_parts(text)
    from_table = _normalised_variant(written).replace_strict(
        forms.canonical, default=None, return_dtype=pl.String
    )
    return (
        pl.when(from_table.is_not_null())
        .then(from_table)
        .when(text.str.contains(_SOLE_PROPRIETOR))
        .then(pl.lit("ENK"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def name_key(expr: pl.Expr) -> pl.Expr:
    """The matching key of a company or person name: no legal form, folded, no punctuation.

    ``Hansen Byg ApS``, ``HANSEN BYG APS.`` and ``Hansen Byg Anpartsselskab`` → ``hansen byg``;
    ``Andersen & Søn A/S`` → ``andersen og soen``; ``Hansen Tømrer v/Jens Hansen`` →
    ``hansen toemrer jens hansen``; blank or punctuation-only → null.
    """
    base, _ = _legal_form_parts(collapse_whitespace(expr))
    return text_key(base.str.replace_all(_SOLE_PROPRIETOR_MARK, " "))


def text_key(expr: pl.Expr) -> pl.Expr:
    """Folded text, ``&`` read as ``og``, dots and apostrophes dropped, other punctuation a space.

    The key of a person's name or a street; ``Hans-Jørgen`` → ``hans joergen``;
    ``McDonald's`` → ``mcdonalds``; blank or punctuation-only → null.
    """
    key = (
        fold(expr)
        .str.replace_all("&", " og ")
        .str.replace_all(r"[.'’´`]", "")
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
    )
    return pl.when(key.str.len_bytes() > 0).then(key).otherwise(pl.lit(None, dtype=pl.String))


@cache
def word_list_pattern(table: str, strength: str | None = None) -> str:
    """A regex over folded text that finds any word of a reference word list.

    ``table`` is a ``data/reference`` table with ``word`` and ``match`` columns (``word``,
    ``prefix``, ``suffix`` or ``part``) and optionally ``strength``, which ``strength`` selects.
    The words are folded like the text they are matched against (``Tømrer`` → ``toemrer``).
    """
    words = load_reference(table)
    if strength is not None:
        words = words.filter(pl.col("strength") == strength)
    words = words.with_columns(folded=fold(pl.col("word")))
    anchors = {
        "word": (r"\b", r"\b"),
        "prefix": (r"\b", ""),
        "suffix": ("", r"\b"),
        "part": ("", ""),
    }
    alternatives = []
    for word, match in zip(words["folded"], words["match"], strict=True):
        before, after = anchors[match]
        alternatives.append(before + re.escape(word).replace(r"\ ", r"\s+") + after)
    alternatives.sort(key=len, reverse=True)
    return "(?:" + "|".join(alternatives) + ")"


@cache
def _placeholders() -> list[str]:
    return load_reference("name_placeholders")["value"].to_list()


@cache
def _casing() -> tuple[tuple[list[str], list[str]], tuple[list[str], list[str]]]:
    """Word fixes after title case, each framed by spaces: (anywhere, only after the first word).

    Each is (a word as plain title case writes it, how it should read).
    """
    table = load_reference("name_casing").with_columns(titled=_title_case(pl.col("word")))

    def framed(position: str) -> tuple[list[str], list[str]]:
        rows = table.filter(pl.col("position") == position)
        return [f" {word} " for word in rows["titled"]], [f" {word} " for word in rows["display"]]

    return framed("any"), framed("inner")


def _title_case(expr: pl.Expr) -> pl.Expr:
    # to_titlecase capitalises after every non-letter, which is right for Hans-Jørgen and
    # O'Brien but not for the possessive 's of McDonald's.
    return expr.str.to_titlecase().str.replace_all(r"(\p{L})(['’])S\b", "${1}${2}s")


def proper_case(expr: pl.Expr) -> pl.Expr:
    """Proper case for text typed in ALL CAPS or all lower case; mixed case is kept as typed.

    ``HANSEN BYG OG SØN`` → ``Hansen Byg og Søn``; ``jens hansen`` → ``Jens Hansen``;
    ``VVS HANSEN`` → ``VVS Hansen``; ``IBM Danmark`` stays.
    """
    has_upper = expr.str.contains(r"\p{Lu}")
    has_lower = expr.str.contains(r"\p{Ll}")
    (any_from, any_to), (inner_from, inner_to) = _casing()
    # Spaces doubled so that adjacent words each keep a space on both sides for replace_many.
    framed = pl.lit(" ") + _title_case(expr).str.replace_all(" ", "  ") + pl.lit(" ")
    anywhere = framed.str.replace_many(any_from, any_to)
    # The first word loses its frame so that a leading ``Og`` or ``I`` keeps its capital.
    inner = anywhere.str.slice(1).str.replace_many(inner_from, inner_to)
    cased = inner.str.replace_all(r" V\s*/", " v/").str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.when(has_upper != has_lower).then(cased).otherwise(expr)


@cache
def _display_pattern() -> str:
    """Groups: 1 the name before the legal form, 2 the form as written, 3 a status suffix."""
    forms = _legal_forms()
    return forms.suffix_pattern.removesuffix(r"\.?\s*$") + rf"\.?({_STATUS_BODY})?\s*$"


def _with_display_form(expr: pl.Expr) -> pl.Expr:
    """The legal form at the end of a name written canonically: ``Hansen Byg Aps.`` → ``… ApS``."""
    parts = expr.str.extract_groups(_display_pattern())
    shown = _normalised_variant(parts.struct.field("2")).replace_strict(
        _legal_forms().display, default=None, return_dtype=pl.String
    )
    rewritten = pl.concat_str(
        parts.struct.field("1"),
        pl.lit(" "),
        shown,
        parts.struct.field("3").fill_null(""),
    )
    return pl.when(shown.is_not_null()).then(rewritten).otherwise(expr)


def _clean_text(expr: pl.Expr) -> pl.Expr:
    """Whitespace collapsed and stray quotes or separators trimmed from the ends; blank → null."""
    text = collapse_whitespace(expr).str.strip_chars(' ,;:"“”„«»*_').str.strip_chars()
    return pl.when(text.str.len_bytes() > 0).then(text).otherwise(pl.lit(None, dtype=pl.String))


def _is_usable(text: pl.Expr) -> pl.Expr:
    """A name that names someone: letters, not a placeholder (``ukendt``, ``n/a``, ``xxx``)."""
    key = text_key(text)
    return (
        key.is_not_null()
        & (key.str.count_matches(r"\p{L}") >= 2)
        & ~key.is_in(_placeholders())
        & ~key.str.contains(r"^(?:x+|z+|test\s*\d*)$")
    ).fill_null(False)


# ``Hansen, Jens`` / ``Hansen Møller, Jens Peter``: a family name, a comma, given names.
_WORD = r"\p{L}[\p{L}'’\-]*\.?"
_COMMA_PERSON = rf"^({_WORD}(?: {_WORD})?), ?({_WORD}(?: {_WORD}){{0,2}})$"
# ``Jens Peter Hansen``: two to four words of letters.
_PERSON_NAME = rf"^{_WORD}(?: {_WORD}){{1,3}}$"
_OWNER = r"(?i)(?:^|\s)v\s*/\s*(.+)$"


def _is_business_like(text: pl.Expr) -> pl.Expr:
    folded = fold(text)
    return folded.str.contains(word_list_pattern("business_words")) | folded.str.contains(
        word_list_pattern("public_sector_patterns", "strong")
    )


def normalise_names(df: pl.DataFrame) -> pl.DataFrame:
    """Add the display name, legal form, keys and first/last names of each record.

    Reads ``raw_name``, ``raw_first_name`` and ``raw_last_name`` (a missing column counts as
    null) and adds ``name``, ``legal_form``, ``name_key``, ``first_name``, ``last_name``,
    ``first_name_key``, ``last_name_key`` and ``flag_MISSING_NAME``. For example
    ``HANSEN BYG APS.`` → ``Hansen Byg ApS`` / ``ApS`` / ``hansen byg``; ``Hansen, Jens`` →
    ``Jens Hansen`` with first name ``Jens`` and last name ``Hansen``; first name ``jens`` and
    last name ``HANSEN`` with no name → ``Jens Hansen``; ``ukendt`` → null and MISSING_NAME.
    """
    raw_columns = {
        column: pl.col(column) if column in df.columns else pl.lit(None, dtype=pl.String)
        for column in ("raw_name", "raw_first_name", "raw_last_name")
    }
    staged = df.lazy().with_columns(
        _text=_clean_text(raw_columns["raw_name"].cast(pl.String)),
        _first=_clean_text(raw_columns["raw_first_name"].cast(pl.String)),
        _last=_clean_text(raw_columns["raw_last_name"].cast(pl.String)),
    )
    staged = staged.with_columns(
        _text=pl.when(_is_usable(pl.col("_text"))).then(pl.col("_text")),
        _first=pl.when(_is_usable(pl.col("_first"))).then(proper_case(pl.col("_first"))),
        _last=pl.when(_is_usable(pl.col("_last"))).then(proper_case(pl.col("_last"))),
    )
    staged = staged.with_columns(
        legal_form=legal_form_of(pl.col("_text")),
        _business=_is_business_like(pl.col("_text")),
        _comma=pl.col("_text").str.extract_groups(_COMMA_PERSON),
    )
    comma_last = pl.col("_comma").struct.field("1")
    comma_first = pl.col("_comma").struct.field("2")
    is_comma_person = (
        comma_first.is_not_null() & pl.col("legal_form").is_null() & ~pl.col("_business")
    )
    staged = staged.with_columns(
        _text=pl.when(is_comma_person)
        .then(pl.concat_str(comma_first, pl.lit(" "), comma_last))
        .otherwise(pl.col("_text")),
    )
    staged = staged.with_columns(
        _display=_with_display_form(proper_case(pl.col("_text"))),
    )
    display = pl.col("_display")
    owner = display.str.extract(_OWNER, 1)
    person_like = (
        pl.col("legal_form").is_null() & ~pl.col("_business") & display.str.contains(_PERSON_NAME)
    )
    owner_like = (pl.col("legal_form") == "ENK") & owner.str.contains(_PERSON_NAME)
    split_source = pl.when(person_like).then(display).when(owner_like).then(owner)
    staged = staged.with_columns(
        name=pl.coalesce(
            display,
            pl.concat_str(pl.col("_first"), pl.col("_last"), separator=" ", ignore_nulls=True),
        ),
        first_name=pl.coalesce(
            pl.col("_first"),
            pl.when(is_comma_person).then(proper_case(comma_first)),
            split_source.str.extract(r"^(.+) \S+$", 1),
        ),
        last_name=pl.coalesce(
            pl.col("_last"),
            pl.when(is_comma_person).then(proper_case(comma_last)),
            split_source.str.extract(r" (\S+)$", 1),
        ),
    )
    staged = staged.with_columns(
        name=pl.when(pl.col("name").str.len_bytes() > 0).then(pl.col("name")),
    ).with_columns(
        name_key=name_key(pl.col("name")),
        first_name_key=text_key(pl.col("first_name")),
        last_name_key=text_key(pl.col("last_name")),
        flag_MISSING_NAME=pl.col("name").is_null(),
    )
    return staged.drop("_text", "_first", "_last", "_business", "_comma", "_display").collect()
