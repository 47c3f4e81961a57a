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
_STATUS_SUFFIX = (
    r"(?i)[\s,\-]*\(?\s*(?:under\s+konkurs|i\s+konkurs|under\s+tvangsopl(?:ø|oe|o)sning"
    r"|under\s+(?:frivillig\s+)?likvidation|i\s+(?:frivillig\s+)?likvidation"
    r"|under\s+rekonstruktion)\s*\)?\s*$"
)
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
    key = (
        fold(base)
        .str.replace_all(_SOLE_PROPRIETOR_MARK, " ")
        .str.replace_all("&", " og ")
        .str.replace_all(r"[.'’´`]", "")
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
    )
    return pl.when(key.str.len_bytes() > 0).then(key).otherwise(pl.lit(None, dtype=pl.String))
