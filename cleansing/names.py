"""Company and person names: the display name, its legal form and the key used to match it.

A Danish customer name is written many ways for one legal entity: ``Hansen Byg ApS``,
``HANSEN BYG APS.``, ``Hansen Byg Anpartsselskab``. Three views of it come out of here:

- the **display name**, written the way the registry writes it (``Hansen Byg ApS``), mixed-case
  input left as typed (``IBM Danmark ApS``, ``McDonald's``);
- the **legal form** (``ApS``, ``A/S``, ``I/S``, ``K/S``, ``P/S``, ``IVS``, ``ENK`` for
  ``v/`` sole proprietors, ``AMBA`` …), from ``data/reference/legal_forms.csv``;
- the **name key**: legal form stripped, æ/ø/å and accents folded, case and punctuation
  dropped (``hansen byg``) — for blocking and comparison only, never shown.

Everything here is polars expressions over the whole column; no Python runs per row. The few
rows typed in ALL CAPS or lower case get their proper case on their own (most names are typed
in mixed case and keep it), so the casing passes never touch the rest.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Final

import polars as pl

from datavask.cleansing.reference import load_reference
from datavask.cleansing.schema import raw, require_columns, stage_text

# Danish letters fold the way Danes transliterate them (ø -> oe, not o), so ``Søren`` and
# ``Soeren`` meet; other accented and full-width letters fold to their ASCII base letter.
_DANISH_FOLDS = {
    "æ": "ae",
    "ø": "oe",
    "å": "aa",
    "ä": "ae",
    "ö": "oe",
    "ü": "ue",
    "ß": "ss",
    "œ": "oe",
    "ð": "d",
    "þ": "th",
    "ł": "l",
    "đ": "d",
    "ı": "i",
    # Decomposed input (macOS exports): a letter followed by a combining mark.
    "a\u030a": "aa",
    "a\u0308": "ae",
    "o\u0308": "oe",
    "u\u0308": "ue",
}
# How a key spells æ, ø and å: two letters each.
DANISH_LETTERS: Final = {letter: _DANISH_FOLDS[letter] for letter in "æøå"}
# What a key drops or spells out besides folding: ``A.P. Møller`` → ``ap moeller``, ``&`` → og.
_KEY_FOLDS = {"&": " og ", ".": "", "'": "", "’": "", "´": "", "`": ""}


@cache
def _fold_pairs(for_key: bool) -> tuple[list[str], list[str]]:
    """(from, to) for one ``replace_many`` pass that folds lower-cased text to ASCII letters.

    Built from Unicode decompositions once, so folding is one Aho-Corasick pass instead of a
    normalisation and a regex over every value.
    """
    table = dict(_DANISH_FOLDS)
    for code in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00), *range(0xFF01, 0xFF5F)):
        char = chr(code)
        if char in table or char != char.lower():
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        if base and base != char and base.isascii():
            table[char] = base.lower()
    for code in range(0x300, 0x370):  # stray combining marks
        table.setdefault(chr(code), "")
    if for_key:
        table.update(_KEY_FOLDS)
    return list(table), list(table.values())


# A registry name may carry its insolvency status; it is not part of the name.
_STATUS_WORDS = (
    r"under\s+konkurs|u\s*/?\s*konkurs|i\s+konkurs|under\s+tvangsopl(?:ø|oe|o)sning"
    r"|under\s+(?:frivillig\s+)?likvidation|i\s+(?:frivillig\s+)?likvidation"
    r"|u\s*/\s*likv(?:\.|idation)?"
    r"|under\s+rekonstruktion"
)
_STATUS_BODY = rf"[\s,\-]*\(?\s*(?i:{_STATUS_WORDS})\s*\)?"
# A remark after a company's name and legal form: a department in brackets (``Jensens Bøfhus A/S
# (afd. Aarhus)``), a store after a dash (``Dansk Supermarked A/S - Bilka Tilst``), a person to
# write to after a comma (``Hansen Byg ApS, att. Jens Hansen``), or a c/o or an attention line
# marked as one without it (``IKEA A/S c/o Inter IKEA``, ``Nielsen I/S att. Bo``; a bare ``att``
# is Swedish for "to": ``Konsten att leva AB``). The legal form before it is the name's.
# A generation after a person's name: ``Jens Hansen jun.``, ``Jens Hansen sen.``, ``John Smith,
# Jr.``, ``d.y.`` / ``d.æ.`` (den yngre, den ældre). Group 1 says junior or senior. ``Jun`` and
# ``Sen`` are surnames too, so they need their full stop.
_GENERATION_WORDS = r"(jun\.|junior|jr\.?|d\.\s?y\.)|sen\.|senior|sr\.?|d\.\s?æ\."
GENERATION = rf"(?i)(?:\s*,\s*|\s+)(?:{_GENERATION_WORDS})$"
# A guardian beside a person's name (``Ole Pedersen v/ værge Lise Pedersen``, ``Niels Bach
# v/værge advokat Sø Hansen``, ``Peter Møller, under værgemål``, ``Inge Lund (værge: Hanne
# Lund)``): whom to write to, as a c/o line is. ``v/værge`` names no sole proprietor's owner, and
# the comma before ``under værgemål`` no given name after a family name.
_GUARDIAN = (
    r"(?:(?:v\s*/\s*|c\s?/\s?o\s+|ved\s+)v(?:æ|ae)rge(?:m(?:å|aa)l)?"
    r"|(?:under\s+|u\s*/\s*)v(?:æ|ae)rgem(?:å|aa)l)(?-u:\b)|v(?:æ|ae)rge(?:m(?:å|aa)l)?\s*:"
)
GUARDIAN_NOTE: Final = rf"(?i)(?:\s*,\s*|\s+|\s*\(\s*)(?:{_GUARDIAN}).*$"
_REMARK = (
    r"(?i)\s*(?:\([^()]*\)|\s-\s.*|,\s*(?:att|attn|afd|afdeling|c/o)(?-u:\b).*"
    r"|\s(?:c\s?/\s?o|att[.:]|attn[.:]?)\s*\S.*"
    rf"|(?:,\s*|\s+)(?:{_GUARDIAN}).*"
    rf"|,?\s(?:{_GENERATION_WORDS}))$"
)
# A name's first part before a comma or a slash with more after it, or before a department a
# company's invoices go to (``Hansen A/S Kreditorbogholderiet``, ``Hansen ApS Afd. Vejle``).
_DEPARTMENTS = (
    r"bogholderi|kreditor|økonomi|oekonomi|regnskab|faktura|administration|afd\.|afdeling"
)
_BEFORE_SEPARATOR = rf"(?i)^(.+?)(?:\s*(?:,|\s/)\s*\S|\s+(?:{_DEPARTMENTS}))"
# Of those remarks, the ones that say whom to write to, not who the customer is: a c/o or an
# attention line (``Hansen Byg ApS, att. Bogholderiet``; ``Navn 2``'s ``Att. Kreditor``). They are
# no part of the name's key; a department or a store stays in it (``Dansk Supermarked A/S - Bilka
# Tilst`` and ``… - Føtex Vejle`` are two sites).
# A former name in brackets (``Hansen Byg ApS (tidl. Hansen & Søn)``) is none of the name either.
_ATTENTION = (
    r"(?i)\s*(?:,\s*(?:att|attn|c/o)(?-u:\b).*|\s(?:c\s?/\s?o|att[.:]|attn[.:]?)\s*\S.*"
    rf"|(?:,\s*|\s+|\(\s*)(?:{_GUARDIAN}).*"
    r"|\(\s*(?:tidl|tidligere|fka|formerly)[.:]?\s[^()]*\))$"
)
# A company's person after ``v/`` (``Hansen Byg ApS v/ Jens Hansen``): its director or contact,
# where a legal form stands before the mark; without one, the owner of a sole proprietorship.
OWNER_TAIL: Final = r"(?i)\s*,?\s+v\s*/.*$"
# ``Hansen Tømrer v/Jens Hansen``: the mark of a sole proprietorship (enkeltmandsvirksomhed).
# Word boundaries in hot patterns are ASCII ones: a Unicode \b keeps the regex engine off its
# fast DFA path, and the text they run over is folded to ASCII first.
_ASCII_BOUNDARY = r"(?-u:\b)"
_SOLE_PROPRIETOR = r"(?i)(?:^|\s)v\s*/\s*\S"
_SOLE_PROPRIETOR_MARK = r"(?i)(?:^|\s)v\s*/\s*"


def _variant_pattern(variant: str) -> str:
    """Regex for one legal-form spelling: optional dots in short ones, loose spaces and slashes."""
    if variant.isupper():  # written in capitals: a word in lower case (``Paradis Is``) is no form
        return rf"(?-i:{re.escape(variant)})"
    if variant != variant.lower():  # in mixed case: only as written (``Volksbank eG``, ``Jens Eg``)
        return rf"(?-i:{re.escape(variant)})"
    if variant.isalpha() and len(variant) <= 4:
        return r"\.?\s?".join(re.escape(letter) for letter in variant)
    parts = [re.escape(word) for word in variant.split(" ")]
    return r"\s+".join(parts).replace("/", r"\s*/\s*").replace(r"\.", r"\.\s?")


def _spellings(variant: str) -> tuple[str, ...]:
    """A variant and, for a short one, its spaced-out form (``A. S.`` normalises to ``a s``)."""
    if variant != variant.lower():
        return (variant.lower(),)
    if variant.isalpha() and len(variant) <= 4:
        return (variant, " ".join(variant))
    return (variant,)


@dataclass(frozen=True)
class _LegalForms:
    # The patterns match only the end (or start) of a name, so the regex engine resolves
    # groups over a few characters, not the whole value.
    suffix_pattern: str  # groups: tail (all that goes), form (as written), status
    prefix_pattern: str  # group 1: the form as written at the start of a name
    key_suffix_pattern: str  # a legal form (and status) at the end of a name key
    key_prefix_pattern: str  # a legal form at the start of a name key
    key_status_pattern: str  # an insolvency status at the end of a name key
    canonical: dict[str, str]  # normalised spelling -> legal form code
    display: dict[str, str]  # normalised spelling -> how it is written in a display name
    beside_small: list[str]  # forms (as the pattern finds them) only in a name with small letters


def _alternatives(patterns: list[str]) -> str:
    return "|".join(sorted(set(patterns), key=len, reverse=True))


@cache
def _legal_forms() -> _LegalForms:
    table = load_reference("legal_forms").with_columns(
        key=text_key(pl.col("variant")), prefix_allowed=pl.col("position") == "any"
    )
    variants = table["variant"].to_list()
    prefix_variants = table.filter("prefix_allowed")["variant"].to_list()
    # A form whose key is a word of names too (``sa``: Sá; ``spa``; ``ou``) stays in the key: the
    # key has no case or dots to tell ``Ana Sá`` from ``Dupont S.A.``.
    keyed = table.filter(pl.col("keyed").ne_missing("no"))
    key_forms = [
        re.escape(spelling)
        for key, variant in zip(keyed["key"], keyed["variant"], strict=True)
        for spelling in {key, *_spellings(variant)[1:]}
    ]
    key_prefix_forms = [re.escape(key) for key in table.filter("prefix_allowed")["key"]]
    key_status = _STATUS_WORDS.replace(r"(?:ø|oe|o)", "(?:oe|o)")
    suffix_alternatives = _alternatives([_variant_pattern(v) for v in variants])
    return _LegalForms(
        suffix_pattern=(
            rf"(?i)(?P<tail>[\s,\-]+(?P<form>{suffix_alternatives})\.?"
            rf"(?P<status>{_STATUS_BODY})?[\s.]*)$"
        ),
        prefix_pattern=(
            rf"(?i)^\s*({_alternatives([_variant_pattern(v) for v in prefix_variants])})"
            r"\.?[\s,]+\S"
        ),
        key_suffix_pattern=rf" (?:{_alternatives(key_forms)})(?: (?:{key_status}))?$",
        key_prefix_pattern=rf"^(?:{_alternatives(key_prefix_forms)}) ",
        key_status_pattern=rf" (?:{key_status})$",
        canonical={
            spelling.replace(".", ""): form
            for variant, form in zip(variants, table["legal_form"], strict=True)
            for spelling in _spellings(variant)
        },
        display={
            spelling.replace(".", ""): shown
            for variant, shown in zip(variants, table["display"], strict=True)
            if shown
            for spelling in _spellings(variant)
        },
        beside_small=table.filter(pl.col("position") == "mixed")["variant"].to_list(),
    )


def collapse_whitespace(expr: pl.Expr) -> pl.Expr:
    """Runs of any whitespace (tabs, newlines, no-break spaces) become one space; ends trimmed.

    Control characters count as whitespace: ``Nørregade\\x013`` from a legacy export is
    ``Nørregade 3``, not a street named with its number.
    """
    # Only runs and unusual spaces match, so a value with single spaces is left alone cheaply.
    return expr.str.replace_all(
        r"[\s\u200b\p{Cc}]{2,}|[^\S ]|[\u200b\p{Cc}]", " "
    ).str.strip_chars()


def fold(expr: pl.Expr) -> pl.Expr:
    """Lower case, æ→ae, ø→oe, å→aa, ä/ö/ü and accents folded to ASCII, full-width forms narrowed.

    ``Ålsgårde`` → ``aalsgaarde``; ``Aabenraa`` → ``aabenraa``; ``Müller`` → ``mueller``;
    ``Café`` → ``cafe``.
    """
    return expr.str.to_lowercase().str.replace_many(*_fold_pairs(False))


# Punctuation and unusual spacing between words (a run of anything but letters and digits that
# is more than one plain space). Single spaces, the common case, do not match at all.
_NOT_WORD = r"\s*[^\p{L}\p{N}\s][^\p{L}\p{N}]*|\s{2,}|[^\S ]"


def text_key(expr: pl.Expr) -> pl.Expr:
    """Folded text, ``&`` read as ``og``, dots and apostrophes dropped, other punctuation a space.

    The key of a person's name or a street; ``Hans-Jørgen`` → ``hans joergen``;
    ``McDonald's`` → ``mcdonalds``; blank or punctuation-only → null.
    """
    return (
        expr.str.to_lowercase()
        .str.replace_many(*_fold_pairs(True))
        .str.replace_all(_NOT_WORD, " ")
        .str.strip_chars()
        .replace("", None)
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


def legal_form_of(expr: pl.Expr) -> pl.Expr:
    """The canonical legal form of a company name, or null.

    ``Hansen Byg Aps.`` → ``ApS``; ``A/S Storebælt`` → ``A/S``; ``Hansen Tømrer v/Jens Hansen`` →
    ``ENK``; ``Danish Crown A.m.b.a.`` → ``AMBA``; ``Jens Hansen`` → null.
    """
    suffix_form = _suffix_form(expr, expr.str.extract(_legal_forms().suffix_pattern, 2))
    return _legal_form(expr, suffix_form)


def _suffix_form(text: pl.Expr, typed: pl.Expr) -> pl.Expr:
    """The legal form ``typed`` at the end of ``text`` in the spelling of the reference table;
    null for a form that is one only in a name with small letters (the table's ``mixed``) where
    ``text`` has none: ``Genève Montres SA`` is a société anonyme, ``JOAO SA`` a Portuguese Sá
    typed in capitals."""
    ambiguous = typed.is_in(_legal_forms().beside_small) & ~text.str.contains(r"\p{Ll}")
    # ``Jensen, E.K.`` is a person's name turned round, with initials: no eingetragener Kaufmann
    initials = text.str.contains(_INITIALS_AFTER_COMMA)
    return pl.when(~(ambiguous | initials).fill_null(False)).then(_normalised_variant(typed))


# Two initials after a comma that a German form is spelt with too (e.K., e.V.).
_INITIALS_AFTER_COMMA = r"(?i),\s*\p{L}\.\s?\p{L}\.?\s*$"


def _legal_form(expr: pl.Expr, suffix_form: pl.Expr) -> pl.Expr:
    """The legal form of ``expr`` given the normalised form its suffix pattern found (or null)."""
    forms = _legal_forms()
    prefix_form = _normalised_variant(expr.str.extract(forms.prefix_pattern, 1))
    from_table = pl.coalesce(suffix_form, prefix_form).replace_strict(
        forms.canonical, default=None, return_dtype=pl.String
    )
    sole_proprietor = pl.when(expr.str.contains(_SOLE_PROPRIETOR)).then(pl.lit("ENK"))
    return pl.coalesce(from_table, sole_proprietor)


# A housing, owners' or landowners' association written short (``A/B Solhaven``, ``E/F
# Vestergade 12``, ``G/F Lyngbakken``) or long (``Andelsboligforeningen Solhaven``, with or
# without the article): in a name key, both are the long word without the article, so that the
# two spellings of one association match and the word lists read it as an association. At the
# start of a name, or at its end (``Solhaven A/B``). The short forms only with their slash:
# ``A. B. Hansen`` is a person, ``AB Volvo`` Sweden's aktiebolag, ``GF Forsikring`` an insurer.
_ASSOCIATIONS: Final = (
    ("andelsboligforening", "a", "b", r"andels ?boligforening(?:en)?"),
    ("ejerforening", "e", "f", r"ejerforening(?:en)?"),
    ("grundejerforening", "g", "f", r"grundejerforening(?:en)?"),
)


def association_key(text: pl.Expr, key: pl.Expr) -> pl.Expr:
    """The name key ``key`` of ``text`` with an association's short or long form written the one
    way: ``A/B Solhaven`` and ``Andelsboligforeningen Solhaven`` → ``andelsboligforening
    solhaven``; ``Solhaven A/B`` → ``solhaven andelsboligforening``."""
    # The key first: the result is named as the key is.
    return pl.struct(key, text.alias("_association_text")).map_batches(
        _association_keys, return_dtype=pl.String, is_elementwise=True
    )


def _association_keys(names: pl.Series) -> pl.Series:
    """:func:`association_key` of a struct of ``text`` and ``key``."""
    frame = names.struct.unnest()
    frame.columns = ["key", "text"]
    maybe = frame.get_column("text").str.contains(r"(?i)/|forening").fill_null(False)
    keys = frame.get_column("key").alias(names.name)
    return on_hinted_rows(frame, maybe, _associations_written_long, keys)


def _associations_written_long(names: pl.DataFrame) -> pl.Series:
    """The ``key`` of each of ``names`` (``key``, ``text``) with an association's short or long
    form written the one way."""
    text, key = pl.col("text"), pl.col("key")
    for word, first, second, long_form in _ASSOCIATIONS:
        short = rf"{first}\s*/\s*{second}\.?"
        names = names.with_columns(
            key=pl.when(text.str.contains(rf"(?i)^\s*{short}(?:\s|$)"))
            .then(key.str.replace(rf"^{first} {second}\b", word))
            .when(text.str.contains(rf"(?i)\s{short}\s*$"))
            .then(key.str.replace(rf"\b{first} {second}$", word))
            .otherwise(key)
        ).with_columns(
            key=key.str.replace(rf"^(?:{long_form})( |$)", rf"{word}${{1}}").str.replace(
                rf" (?:{long_form})$", f" {word}"
            )
        )
    return names.get_column("key")


def _name_itself(text: pl.Expr) -> pl.Expr:
    """``text`` without what it holds beside the customer's own name: an addressee (``c/o DEAS
    A/S``, ``att. Bogholderiet``), a former name (``(tidl. Hansen & Søn)``) or a company's person
    after ``v/`` (``Hansen Byg ApS v/ Jens Hansen``); null where it holds none of them."""
    return text.map_batches(_names_themselves, return_dtype=pl.String, is_elementwise=True)


# What any of them needs, so that only those names go through the patterns.
_BESIDE_HINT = r"(?i)att|c\s?/\s?o|v\s*/|\(|v(?:æ|ae)rge"


def _names_themselves(texts: pl.Series) -> pl.Series:
    """:func:`_name_itself` of a column of names."""
    texts = texts.cast(pl.String)
    maybe = texts.str.contains(_BESIDE_HINT).fill_null(False)
    nothing = pl.Series(texts.name, dtype=pl.String).extend_constant(None, texts.len())
    return on_hinted_rows(texts.to_frame("text"), maybe, _without_what_is_beside, nothing)


def _without_what_is_beside(names: pl.DataFrame) -> pl.Series:
    """:func:`_name_itself` of ``names`` (``text``)."""
    text = pl.col("text")
    names = names.with_columns(
        _attention=text.str.contains(_ATTENTION).fill_null(False),
        _before_owner=text.str.replace(OWNER_TAIL, ""),
    )
    owned = text.str.contains(_SOLE_PROPRIETOR).fill_null(False)
    itself = (
        pl.when("_attention")
        .then(text.str.replace(_ATTENTION, ""))
        .when(owned & legal_form_of(pl.col("_before_owner")).is_not_null())
        .then(pl.col("_before_owner"))
    )
    return names.select(itself).to_series()


def name_key(expr: pl.Expr) -> pl.Expr:
    """The matching key of a company or person name: no legal form, folded, no punctuation.

    ``Hansen Byg ApS``, ``HANSEN BYG APS.`` and ``Hansen Byg Anpartsselskab`` → ``hansen byg``;
    ``Andersen & Søn A/S`` → ``andersen og soen``; ``Hansen Tømrer v/Jens Hansen`` →
    ``hansen toemrer jens hansen``; blank or punctuation-only → null.
    """
    return _strip_key_legal_form(_own_key(expr, _name_itself(expr)))


def _own_key(text: pl.Expr, itself: pl.Expr) -> pl.Expr:
    """The text key of a name ``text`` read as the customer's own name ``itself``
    (:func:`_name_itself`; null where the whole text is), a sole proprietor's mark a space and an
    association's form written the one way; with its legal form."""
    own = pl.coalesce(itself, text)
    key = text_key(own.str.replace_all(_SOLE_PROPRIETOR_MARK, " "))
    return association_key(own, _written_out(key))


def _written_out(key: pl.Expr) -> pl.Expr:
    """A name key with its abbreviated words written out (``name_abbreviations.csv``): ``heritage
    mfg`` → ``heritage manufacturing``, ``zenith intl`` → ``zenith international``,
    ``brdr hansen`` → ``broedrene hansen``. ``Brdr. Hansen A/S`` and ``Brødrene Hansen A/S``, or
    ``Heritage Mfg Corp`` and ``Heritage Manufacturing Corp.`` at one address, were two names (the
    second pair vetoed as sister companies). A person's name that starts with a given name the
    table also holds stays as typed: ``sys hansen`` (Sys is a woman's name) is no ``systems
    hansen``, a business (:func:`_persons_name`); ``sys a s`` and ``hansen sys`` are written
    out."""
    # Run on the key once it is worked out: as an expression the key's whole chain of regexes
    # ran again for every place it is read (the words looked for, the person's name, the
    # framing), 2.6 s over a registry's 530,000 names.
    return key.map_batches(_written_out_values, return_dtype=pl.String, is_elementwise=True)


def _written_out_values(key: pl.Series) -> pl.Series:
    """:func:`_written_out` of the keys ``key``: only the few with a word of the table are
    framed and written out."""
    shortened, written = _abbreviations()
    words = "|".join(re.escape(word.strip()) for word in shortened)
    at = key.str.contains(rf"(?:^|\s)(?:{words})(?:\s|$)").fill_null(False).arg_true()
    part = pl.DataFrame({"at": at, "key": key.gather(at)}).filter(~_persons_name(pl.col("key")))
    if part.height == 0:
        return key
    # each word framed by spaces, two between words, so that adjacent words both match
    framed = pl.lit(" ") + pl.col("key").str.replace_all(" ", "  ", literal=True) + " "
    out = framed.str.replace_many(shortened, written).str.replace_all(" {2,}", " ")
    return key.clone().scatter(part["at"], part.select(out.str.strip_chars()).to_series())


def _persons_name(key: pl.Expr) -> pl.Expr:
    """Whether a name key is a person's name that starts with a given name
    :func:`_written_out`'s table also holds: the given name, then one or two words each a given
    name, a surname of ``surnames_da.csv`` or a patronymic (``-sen``): ``sys kjaer``, ``sys marie
    hansen``, ``sys vindelevsen``; not ``sys a s``, ``sys data`` or ``sys`` alone."""
    words = key.str.split(" ")
    rest = words.list.slice(1)
    name_word = pl.element().is_in(_person_name_words()) | pl.element().str.contains(r"^\w{2,}sen$")
    return (
        words.list.first().is_in(_abbreviated_given_names())
        & rest.list.len().is_between(1, 2)
        & rest.list.eval(name_word).list.all()
    ).fill_null(False)


@cache
def _abbreviated_given_names() -> list[str]:
    """The abbreviations of ``name_abbreviations.csv`` that are also given names (``sys``)."""
    shortened = load_reference("name_abbreviations")["abbreviation"]
    return shortened.filter(shortened.is_in(given_name_genders()["name"])).to_list()


@cache
def _person_name_words() -> list[str]:
    """Given names (:func:`given_name_genders`) and the surnames of ``surnames_da.csv``,
    folded."""
    surnames = load_reference("surnames_da").select(fold(pl.col("name")))["name"]
    return [*given_name_genders()["name"].to_list(), *surnames.to_list()]


@cache
def _abbreviations() -> tuple[list[str], list[str]]:
    """(`` mfg ``, ``manufacturing``) pairs of :func:`_written_out`, each framed by spaces."""
    table = load_reference("name_abbreviations")
    return (
        [f" {word} " for word in table["abbreviation"]],
        [f" {word} " for word in table["written_out"]],
    )


def key_without_legal_form(key: pl.Expr) -> pl.Expr:
    """A name's :func:`text_key` without the legal form at its end (and a status after it) or at
    its start; unchanged where it has none, a status alone included.

    ``kristensen transport a s`` and ``a s kristensen transport`` → ``kristensen transport``;
    ``danish crown amba`` → ``danish crown``; ``hansen byg under konkurs`` stays.
    """
    forms = _legal_forms()
    return key.str.replace(forms.key_suffix_pattern, "").str.replace(forms.key_prefix_pattern, "")


def _strip_key_legal_form(key: pl.Expr) -> pl.Expr:
    """A text key without the legal form (and status) at its end or the legal form at its start."""
    forms = _legal_forms()
    return (
        key.str.replace(forms.key_status_pattern, "")
        .str.replace(forms.key_suffix_pattern, "")
        .str.replace(forms.key_prefix_pattern, "")
    )


@cache
def word_list_pattern(table: str, *strengths: str) -> str:
    """A regex over folded text that finds any word of a reference word list.

    ``table`` is a ``data/reference`` table with ``word`` and ``match`` columns (``word``,
    ``prefix``, ``suffix``, ``part``, ``last``: the text's last word, or ``name``: the whole
    text) and optionally ``strength``; ``strengths``, when given, select the rows of those.
    The words are folded like the text they are matched against (``Tømrer`` → ``toemrer``).
    """
    words = load_reference(table)
    if strengths:
        words = words.filter(pl.col("strength").is_in(strengths))
    words = words.with_columns(folded=fold(pl.col("word")))
    # An abbreviation is a word only where nothing can follow it (``Frederiksberg Kom.``) or
    # it is all there is (``DR``); ``Kom og køb`` and ``Dr. Hansen`` are no public bodies.
    anchors = {
        "word": (_ASCII_BOUNDARY, _ASCII_BOUNDARY),
        "prefix": (_ASCII_BOUNDARY, ""),
        "suffix": ("", _ASCII_BOUNDARY),
        "part": ("", ""),
        "last": (_ASCII_BOUNDARY, "$"),
        "name": ("^", "$"),
    }
    alternatives = []
    for word, match in zip(words["folded"], words["match"], strict=True):
        before, after = anchors[match]
        alternatives.append(before + re.escape(word).replace(r"\ ", r"\s+") + after)
    alternatives.sort(key=len, reverse=True)
    return "(?:" + "|".join(alternatives) + ")"


def institution_word(key: pl.Expr) -> pl.Expr:
    """An institution's (weak) word in a name key, but for a surname made of one after a Danish
    given name: ``vestre kirkegaard`` (a cemetery) has one, ``bent kirkegaard`` and ``jens
    kirkegaard andersen`` do not (the ``surname`` rows of ``public_sector_patterns.csv``)."""
    surnames = word_list_pattern("public_sector_patterns", "surname")
    given = key.str.extract(rf"^(\S+) (?:\S+ )?{surnames}(?: \S+)?$", 1)
    person = given.is_in(_given_names()).fill_null(False)
    return key.str.contains(word_list_pattern("public_sector_patterns", "weak")) & ~person


# A first name of two or three letters and nothing else (``JP``, ``Hc``).
_SHORT_FIRST_NAME = r"^\p{L}{2,3}$"


def _initials_together(first: pl.Expr) -> pl.Expr:
    """A first name that is initials typed together without dots, spaced as letters of their own
    (``JP`` → ``J P``), else the first name as it is.

    Initials are two or three letters without a vowel however cased (``JP``, ``HC``, ``JJ``;
    ``Jp`` of ``JP OLSEN`` cased), or in capitals where the display name kept them so, the rest
    of the name being typed in mixed case (``AC Hansen``), unless a given name (``BO``, ``IB``,
    ``OLE``, ``AL``: :func:`_short_given_names`). A name typed all in capitals cannot tell
    ``AC`` from ``Al``: ``AC HANSEN`` is cased ``Ac`` and stays a name, as ``Bo`` and ``Ib`` do.
    """
    short = first.str.contains(_SHORT_FIRST_NAME).fill_null(False)
    candidate = only_where(short, first)
    no_vowel = ~candidate.str.contains(r"(?i)[aeiouyæøåäöüéáí]")
    capitals = candidate.str.contains(r"^\p{Lu}+$") & ~fold(candidate).is_in(_short_given_names())
    return (
        pl.when(short & (no_vowel | capitals))
        .then(candidate.str.replace_all(r"(\p{L})", " $1").str.strip_chars())
        .otherwise(first)
    )


@cache
def _short_given_names() -> list[str]:
    """Given names of two or three letters, folded: the Danish ones (``bo``, ``ib``, ``ole``) and
    the names and short forms of the nickname tables (``al``, ``lis``)."""
    tables = [
        load_reference(table).select(pl.col(column).alias("name"))
        for table in ("given_name_nicknames", "given_name_nicknames_da")
        for column in ("name", "nickname")
    ]
    names = pl.concat([load_reference("given_names_da").select("name"), *tables])
    folded = names.select(fold(pl.col("name"))).unique()
    return folded.filter(pl.col("name").str.len_chars() <= 3)["name"].to_list()


@cache
def _given_names() -> list[str]:
    """Danish given names, folded as name keys are (``soeren``)."""
    return load_reference("given_names_da").select(fold(pl.col("name")))["name"].to_list()


@cache
def given_name_genders() -> pl.DataFrame:
    """The given names of ``data/reference/given_names_gender_da.csv`` (borne by 100 Danes or
    more: ``sys``, ``mikaela`` as well as ``jens``), folded as name keys are (``soeren``), with
    ``gender``: ``m`` or ``f`` where nine bearers in ten are men or women (``jan`` / ``janne``,
    ``carl`` / ``carla``), null where both bear it (``kim``, ``lykke``); and ``bearers``."""
    table = load_reference("given_names_gender_da").select(
        fold(pl.col("name")), pl.col("male", "female").cast(pl.Int64)
    )
    # ``Søren`` and ``Soren`` are one key: their bearers are added up.
    counts = table.group_by("name").agg(pl.col("male", "female").sum())
    share = pl.col("male") / (pl.col("male") + pl.col("female"))
    gender = pl.when(share >= 0.9).then(pl.lit("m")).when(share <= 0.1).then(pl.lit("f"))
    bearers = (pl.col("male") + pl.col("female")).alias("bearers")
    return counts.select("name", gender.alias("gender"), bearers).sort("name")


@cache
def _surnames_only() -> list[str]:
    """Danish surnames that are no Danish given name, folded (``jakobsen``, ``holm``; not
    ``steen`` or ``mark``, given names too)."""
    surnames = load_reference("surnames_da").select(fold(pl.col("name")))["name"]
    return surnames.filter(~surnames.is_in(_given_names())).to_list()


@cache
def _trade_surnames() -> str:
    table = load_reference("business_words").filter(pl.col("surname") == "yes")
    return "|".join(sorted(table["word"].to_list()))


def business_key(key: pl.Expr) -> pl.Expr:
    """True for a name key (folded, lower case) with a business word: ``hansen byg``.

    ``jens smed`` is a person: a trade word that is also a surname (the ``surname`` column of
    ``business_words.csv``), after one or two given names, is not a business word on its own;
    ``jensens smed``, ``iversen smede`` and ``jakobsen maler`` (a surname, no given name, before
    the trade) are firms.
    """
    words = word_list_pattern("business_words")
    # "jens smed" -> "jens ": the given names before a trade surname, none a possessive
    # surname ("jensens smed") and the first not a surname only ("jakobsen maler")
    given = key.str.extract(rf"^((?:\S+ ){{1,2}})(?:{_trade_surnames()})$", 1)
    surname_first = given.str.extract(r"^(\S+)", 1).is_in(_surnames_only())
    given = pl.when(~given.str.contains(r"sens ") & ~surname_first).then(given)
    return (
        pl.when(given.is_not_null())
        .then(given.str.contains(words))
        .otherwise(key.str.contains(words))
        .fill_null(False)
    )


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

    (any_from, any_to), inner = framed("any"), framed("inner")
    # A Scottish or Irish ``Mc`` is followed by a capital (``MCDONALD`` → ``McDonald``): the
    # prefix is never a word of its own, so every name that starts with it is one. (``Mac`` is
    # no such prefix: ``Mack``, ``Macy``, ``Machado``.) Listed last, the table's own spellings
    # (``McDonald's``) win.
    letters = "abcdefghijklmnopqrstuvwxyz"
    any_from += [f" Mc{letter}" for letter in letters]
    any_to += [f" Mc{letter.upper()}" for letter in letters]
    return (any_from, any_to), inner


# A word of two to four consonants (``GN``, ``DSV``, ``NKT``, ``KPMG``) is spelt with no name's
# letters: an abbreviation, kept in capitals when a company's name typed in them is put into
# proper case (``GN STORE NORD A/S`` → ``GN Store Nord A/S``). Not one ending with a dot, nor one
# :func:`_casing`'s table writes otherwise (``Brdr``, ``Skt``, ``Ltd``), nor a title, ``Nr`` or
# ``St`` (Sankt, Store) written without its dot (``Hr``, ``Mr``: :data:`_NO_ACRONYMS`).
_ACRONYM_WORD = r"[BCDFGHJKLMNPQRSTVWXZ][bcdfghjklmnpqrstvwxz]{1,3}"
_ACRONYM = rf"^{_ACRONYM_WORD}$"
# A text with such a word among its words.
_HOLDS_ACRONYM = rf"(?:^|\s){_ACRONYM_WORD}(?:\s|$)"
_NO_ACRONYMS: Final = ("Hr", "Fr", "Mr", "Ms", "Nr", "St")
# A person's name typed in capitals may start with two initials written without dots (``JP
# OLSEN``, ``HC ANDERSEN``): a first word of two consonants, which no given name is, stays in
# capitals (``JP Olsen``, not ``Jp Olsen``). ``Ng`` is a surname written first (``NG WAI MAN``),
# ``Mc`` a surname's prefix typed apart (``MC DONALD``).
_LEADING_INITIALS = r"^[BCDFGHJKLMNPQRSTVWXZ][bcdfghjklmnpqrstvwxz]"
_NO_INITIALS: Final = ("Ng", "Mc")


@cache
def _cased_words() -> list[str]:
    """The words :func:`_casing`'s table writes, as plain title case writes them, and the short
    words of consonants that are no abbreviation (:data:`_NO_ACRONYMS`)."""
    table = load_reference("name_casing").select(_title_case(pl.col("word")))
    return [*table["word"].to_list(), *_NO_ACRONYMS]


def _initials_in_capitals(text: pl.Expr, *, alone: bool = False) -> pl.Expr:
    """``text`` (a person's proper-cased name, or with ``alone`` a given name that may be the
    initials alone) with :data:`_LEADING_INITIALS` in capitals: ``Jp Olsen`` → ``JP Olsen``;
    ``Hr Olsen`` and ``St Olsen`` stay, and so does a name of one such word (``Kl``)."""
    first = text.str.head(2)
    after = r"(?:\s|$)" if alone else r"\s"
    initials = text.str.contains(_LEADING_INITIALS + after) & ~first.is_in(
        [*_cased_words(), *_NO_INITIALS]
    )
    return pl.when(initials).then(first.str.to_uppercase() + text.str.slice(2)).otherwise(text)


def _title_not_broadcaster(text: pl.Expr) -> pl.Expr:
    """``text`` (a person's proper-cased name, or the title typed before a first name) with a
    leading ``DR`` written as the title it is: the casing table keeps ``DR`` (the broadcaster)
    in capitals, which a person's name never means (``DR JENS HANSEN`` → ``Dr Jens Hansen``)."""
    return text.str.replace(r"^DR(\s|$)", "Dr$1")


def _acronyms_in_capitals(text: pl.Expr) -> pl.Expr:
    """``text`` (proper-cased words) with each :data:`_ACRONYM` in capitals: ``Dsv A/S`` →
    ``DSV A/S``."""
    word = pl.element()
    acronym = word.str.contains(_ACRONYM) & ~word.is_in(_cased_words())
    maybe = text.str.contains(_HOLDS_ACRONYM)
    capitals = (
        only_where(maybe, text)
        .str.split(" ")
        .list.eval(pl.when(acronym).then(word.str.to_uppercase()).otherwise(word))
        .list.join(" ")
    )
    return pl.when(maybe).then(capitals).otherwise(text)


# A name that is one word of two to four capitals, alone or before its legal form, is an
# abbreviation whatever its letters (``KL``, ``ATP``, ``SKAT``, ``ØK``, ``ABØ A/S``, ``ÅF A/S``):
# no company or authority is named by a short word typed in capitals but its initials. A vowel
# does not make it a word as it does inside a longer name, where ``BYG`` and ``SØN`` stand among
# other words; a person's whole name is hardly ever one such word.
_LONE_ABBREVIATION = r"^\p{Lu}{2,4}$"
# The small words of Danish and English names, cased as words wherever they stand.
_SMALL_WORDS: Final = (
    "og", "i", "på", "af", "de", "en", "et", "til", "ved", "for", "med", "hos", "the", "and", "of",
)  # fmt: skip


@cache
def _words_not_abbreviations() -> list[str]:
    """Folded words that stay words as a name's only word typed in capitals: Danish given names
    and surnames (``BO``, ``LUND``: a person or a firm named after one), the trade words of
    ``business_words.csv`` (``BYG``, ``JYSK``), the casing table's words (``DSB`` is written so
    there already) and :data:`_SMALL_WORDS`."""

    def folded(table: str, column: str) -> list[str]:
        return load_reference(table).select(fold(pl.col(column)))[column].to_list()

    return [
        *folded("given_names_da", "name"),
        *folded("surnames_da", "name"),
        *folded("business_words", "word"),
        *folded("name_casing", "word"),
        *pl.select(fold(pl.lit(pl.Series(_SMALL_WORDS)))).to_series().to_list(),
    ]


def _lone_abbreviation(text: pl.Expr, form_tail: pl.Expr) -> pl.Expr:
    """The abbreviation ``text`` (a name as typed) consists of, with ``form_tail`` (the legal form
    as the suffix pattern found it) after it, or null: ``ABØ A/S`` → ``ABØ``; ``ATP`` → ``ATP``;
    ``BO`` (a given name), ``BYG A/S`` (a trade word) and ``Abø A/S`` (not in capitals) → null."""
    head = (
        pl.when(form_tail.is_not_null())
        .then(text.str.head(-form_tail.str.len_chars().cast(pl.Int64)))
        .otherwise(text)
    )
    alone = head.str.contains(_LONE_ABBREVIATION) & ~text.str.contains(r"\p{Ll}")
    word = fold(only_where(alone, head)).is_in(_words_not_abbreviations())
    return pl.when(alone & ~word).then(head)


def _title_case(expr: pl.Expr) -> pl.Expr:
    # to_titlecase capitalises after every non-letter, which is right for Hans-Jørgen and
    # O'Brien but not for the possessive 's of McDonald's.
    titled = expr.str.to_titlecase().str.replace_all(r"(\p{L})(['’])S(?-u:\b)", "${1}${2}s")
    # Nor for an English ordinal: ``3rd st`` is ``3rd St``, not ``3Rd St``.
    for suffix in ("St", "Nd", "Rd", "Th"):
        titled = titled.str.replace_all(rf"(\d){suffix}(?-u:\b)", f"${{1}}{suffix.lower()}")
    return titled


def proper_case(expr: pl.Expr) -> pl.Expr:
    """Proper case for text typed in ALL CAPS or all lower case; mixed case is kept as typed.

    ``HANSEN BYG OG SØN`` → ``Hansen Byg og Søn``; ``jens hansen`` → ``Jens Hansen``;
    ``VVS HANSEN`` → ``VVS Hansen``; ``VVS-FIRMAET JENSEN`` → ``VVS-Firmaet Jensen``;
    ``RONALD MCDONALD`` → ``Ronald McDonald``; ``IBM Danmark`` stays.
    """
    has_upper = expr.str.contains(r"\p{Lu}")
    has_lower = expr.str.contains(r"\p{Ll}")
    # Only the rows that need it go through the passes below; the others are null there.
    needs_case = has_upper != has_lower
    (any_from, any_to), (inner_from, inner_to) = _casing()
    # Spaces doubled so that adjacent words each keep a space on both sides for replace_many.
    framed = (
        pl.lit(" ")
        + _title_case(only_where(needs_case, expr)).str.replace_all(" ", "  ", literal=True)
        + pl.lit(" ")
    )
    # The parts of a hyphenated word are words to the table too (``IT-HUSET`` → ``IT-Huset``):
    # each hyphen is framed as a word of its own for the first pass and put back after it. The
    # second pass sees them joined again, so a part after a hyphen keeps its capital as a first
    # word does (``Hansen-Og-Søn`` is no ``og``).
    hyphen = " \x00 "  # control characters are whitespace to a cleaned name: none is left
    anywhere = (
        framed.str.replace_all("-", hyphen, literal=True)
        .str.replace_many(any_from, any_to)
        .str.replace_all(hyphen, "-", literal=True)
    )
    # The first word loses its frame so that a leading ``Og`` or ``I`` keeps its capital.
    inner = anywhere.str.slice(1).str.replace_many(inner_from, inner_to)
    cased = (
        inner.str.replace_all(r" V\s*/", " v/")
        .str.replace_all("  ", " ", literal=True)
        .str.strip_chars()
    )
    return pl.when(needs_case).then(cased).otherwise(expr)


def _with_proper_case(
    frame: pl.DataFrame,
    source: str,
    target: str,
    *,
    acronyms: str | None = None,
    initials: bool = False,
) -> pl.DataFrame:
    """``frame`` with ``target`` = proper_case(``source``), worked out only where it is needed;
    where the column ``acronyms`` holds (a company's name), a word of three or four consonants
    stays in capitals (``DSV A/S``; a person's name has none: ``HLST`` is Holst mistyped); where
    it does not, and wherever ``initials`` is set (a given name), so do two initials a person's
    name starts with (:func:`_initials_in_capitals`).

    Most names are typed in mixed case; the few in ALL CAPS or lower case go through the
    casing passes on their own and are put back in place.
    """
    text = frame.get_column(source)
    has_upper = text.str.contains(r"\p{Lu}")
    has_lower = text.str.contains(r"\p{Ll}")
    rows = (has_upper != has_lower).fill_null(False).arg_true()
    columns = [source] if acronyms is None else [source, acronyms]
    part = frame.select(columns)[rows]
    cased = part.select(proper_case(pl.col(source))).to_series()
    if acronyms is not None:
        # on the cased text, a column: the casing passes are not run again for the condition
        text_cased = pl.col(source)
        cased = (
            part.with_columns(cased.alias(source))
            .select(
                pl.when(acronyms)
                .then(_acronyms_in_capitals(text_cased))
                .otherwise(_title_not_broadcaster(_initials_in_capitals(text_cased)))
            )
            .to_series()
        )
    elif initials:
        cased = pl.select(_initials_in_capitals(pl.lit(cased), alone=True)).to_series()
    return frame.with_columns(text.clone().scatter(rows, cased).alias(target))


def with_remark(name: pl.Expr) -> pl.Expr:
    """Whether a cleaned name carries more than the name: a remark after it (``Jensens Bøfhus A/S
    (afd. Aarhus)``, ``Dansk Supermarked A/S - Bilka Tilst``, ``Hansen Byg ApS, att. Jens
    Hansen``), a site or a contact after a comma or a slash (``Hansen A/S, Aarhus``) or a
    department its invoices go to (``Hansen A/S Kreditorbogholderiet``). Their words are in the
    name's key, but say where or whom within the company, not which company it is."""
    return name.str.contains(_REMARK) | name.str.contains(_BEFORE_SEPARATOR)


def only_where(condition: pl.Expr, expr: pl.Expr) -> pl.Expr:
    """``expr`` where ``condition`` holds, else an empty string.

    A string kernel runs over every value, including those behind a null, so a costly chain
    meant for a few rows is fed empty strings for the others and its result used only where
    ``condition`` holds.
    """
    return pl.when(condition).then(expr).otherwise(pl.lit(""))


def on_hinted_rows(
    frame: pl.DataFrame,
    hinted: pl.Series,
    work: Callable[[pl.DataFrame], pl.Series],
    otherwise: pl.Series,
) -> pl.Series:
    """``work`` of the rows of ``frame`` where ``hinted`` holds, in their places in ``otherwise``
    (every other row's value).

    A cheap pattern (a slash, an ``att``) says which few rows a costly chain of patterns may
    change; the chain runs over those alone, as :func:`only_where` does within one expression.
    """
    if not hinted.any():
        return otherwise
    return otherwise.clone().scatter(hinted.arg_true(), work(frame.filter(hinted)))


def _with_display_form(text: pl.Expr, parts: pl.Expr, form: pl.Expr) -> pl.Expr:
    """The legal form at the end of a name written canonically: ``Hansen Byg Aps.`` → ``… ApS``.

    ``parts`` is ``text.str.extract_groups(_legal_forms().suffix_pattern)`` (or that of the text
    before proper case), ``form`` its ``form`` group through ``_normalised_variant``.
    """
    shown = form.replace_strict(_legal_forms().display, default=None, return_dtype=pl.String)
    base = text.str.head(-parts.struct.field("tail").str.len_chars().cast(pl.Int64))
    # A status after the form reads in lower case, as the registry writes it (``i likvidation``).
    status = parts.struct.field("status").str.to_lowercase().fill_null("")
    rewritten = pl.concat_str(base, pl.lit(" "), shown, status)
    return pl.coalesce(rewritten, text)


def _with_typed_form(cased: pl.Expr, typed: pl.Expr, parts: pl.Expr, form: pl.Expr) -> pl.Expr:
    """A foreign customer's name ``cased`` (``typed`` in proper case) with its legal form as
    typed, not in the Danish spelling (see :func:`keep_typed_legal_forms`); ``parts`` and
    ``form`` as for :func:`_with_display_form`, of ``typed``.

    Its punctuation is the customer's too: ``Acme Corporation Inc.``, ``Dupont S.A.R.L.`` and
    ``Great Lakes Supply, L.L.C.`` stay as they are (their last full stop, and the comma, were cut
    off). Only a name typed all in capitals or in small letters gets its form cased: the short
    spelling the table's code has (``ACME CORPORATION INC`` → ``Acme Corporation Inc``, ``…
    GMBH`` → ``GmbH``), another short one in capitals (Norway's ``AS``, ``KS``; ``S.A.R.L.``), a
    long one as proper case writes it (``Aktiebolag``). ``Nordisk Fisk AS`` is no ``A/S``.
    """
    typed_form = parts.struct.field("form")
    code = form.replace_strict(_legal_forms().canonical, default=None, return_dtype=pl.String)
    tail = parts.struct.field("tail")
    # Where the form starts in the name: after the name and the separators before the form. Proper
    # case keeps a name's length, so the place is the same in ``cased``.
    start = (
        cased.str.len_chars()
        - tail.str.len_chars()
        + tail.str.extract(r"^([\s,\-]+)", 1).str.len_chars()
    ).cast(pl.Int64)
    length = typed_form.str.len_chars().cast(pl.Int64)
    needs_case = typed.str.contains(r"\p{Lu}") != typed.str.contains(r"\p{Ll}")
    short = typed_form.str.replace_all(r"[^\p{L}]", "").str.len_chars() <= 4
    # a code that ends with its full stop (``e.K.``) is written without it: the stop typed after
    # the form follows it
    code = code.str.strip_chars_end(".")
    # a form written out as the table writes it (``UG (haftungsbeschränkt)``) is cased so too
    display = form.replace_strict(_legal_forms().display, default=None, return_dtype=pl.String)
    shown = (
        pl.when(~needs_case)
        .then(typed_form)
        .when(typed_form.str.to_lowercase() == code.str.to_lowercase())
        .then(code)
        .when(typed_form.str.to_lowercase() == display.str.to_lowercase())
        .then(display)
        .when(short)
        .then(typed_form.str.to_uppercase())
        .otherwise(cased.str.slice(start, length))
    )
    rewritten = pl.concat_str(cased.str.head(start), shown, cased.str.slice(start + length))
    return pl.coalesce(rewritten, cased)


# A CPR number noted in a name field (``Jens Hansen cpr. 010190-1234``, masked or not) is no part
# of the name.
_CPR_REMARK = (
    r"(?i)[\s,;(\-–]*(?:(?:cpr|personnummer|pers)[\w.\-]*\s*:?\s*)?(?:X{6}-X{4}|\d{6}-?\d{4})\)?"
)
# Nor is a CVR number noted after it (``Hansen Byg ApS (CVR 12345678)``): it has its own column.
_CVR_REMARK = r"(?i)[\s,;(\-–]*cvr(?:-?nr)?\.?\s*:?\s*(?:DK)?\s*\d{2}\s?\d{2}\s?\d{2}\s?\d{2}\)?"
# A courtesy title is no given name: ``Dr. Jens Hansen`` has first name ``Jens``, and so has a
# German customer's ``Herr Jens Hansen`` (``Frau``). A couple's titles are one: ``Hr. og fru
# Hansen``, ``Mr & Mrs Smith`` have no first name.
_TITLES = "dr|hr|fr|fru|frk|prof|mr|mrs|ms|dir|fam|familien|familie|herr|frau"
# A degree before the name is a title too: ``cand.jur. Lene Borg``, ``mag.art.``, ``lic.theol.``,
# ``Dipl.-Ing. Klaus Berger`` (the degrees by name: ``Magnus`` is no ``mag.``).
_DEGREES = "jur|merc|polyt|scient|oecon|pharm|theol|psych|phil|techn|act|mag|med|odont|polit|art"
_ACADEMIC = rf"(?:cand|mag|lic)\.\s?(?:{_DEGREES})\.|dipl\.?\s?-\s?ing\."
_TITLE = rf"(?i)^(?:(?:(?:{_TITLES})\.?|{_ACADEMIC})\s+(?:(?:og|and|&|\+)\s+)?)+(?:med\.\s+)?"


def _untitled(given: pl.Expr) -> pl.Expr:
    """A first-name column's given names without a title before them (``Dr. Hans-Peter`` →
    ``Hans-Peter``, ``Frau Dr. Anna`` → ``Anna``); null where it holds a title alone (``Hr.``).

    A contact export's first-name column carries the title as often as a name column does; left
    in, ``Dr. Hans-Peter`` and ``Hans-Peter`` at one address were two given names, two people
    of a household.
    """
    return (given + pl.lit(" ")).str.replace(_TITLE, "").str.strip_chars().replace("", None)


def with_typed_title(first_name: pl.Expr, typed: pl.Expr) -> pl.Expr:
    """``first_name`` (cleaned, without a title) with the title the first-name column ``typed``
    held before it, in proper case where it was typed in capitals: what goes back to that
    column. ``Hans-Peter`` of ``DR. HANS-PETER`` → ``Dr. Hans-Peter``; ``Jens`` of ``jens`` →
    ``Jens``; ``Hr.`` alone (no first name) → ``Hr.``.

    The title is no part of the first name to compare, but it is the customer's to keep: the CRM
    would lose it.
    """
    typed_title = (typed + pl.lit(" ")).str.extract(_captured(_TITLE), 1).str.strip_chars()
    title = _title_not_broadcaster(proper_case(typed_title))
    return (
        pl.when(title.is_null())
        .then(first_name)
        .otherwise(pl.concat_str(title, first_name, separator=" ", ignore_nulls=True))
    )


def with_typed_remarks(part: pl.Expr, typed: pl.Expr) -> pl.Expr:
    """A first or last name ``part`` (cleaned) with what its cell ``typed`` held before or after
    it that says the customer is dead or bankrupt, or names a guardian, as typed: what goes back
    to that column. ``Knud`` of ``Dødsboet efter Knud`` → ``Dødsboet efter Knud``; ``Jensen`` of
    ``JENSEN (AFDØD)`` → ``Jensen (AFDØD)``; ``Lund`` of ``Lund v/værge`` → ``Lund v/værge``.

    The first and last names compared are the person's own (:func:`_estate_in_name_parts`), but
    the words are the CRM's: left out, the re-import would lose the estate from the customer's
    record. A ``part`` that kept them (a contact export's first name) is left as it is.
    """
    words = f"{_SET_ASIDE_WORDS}|{_BESIDE_GUARDIAN}"
    maybe = (typed.str.contains(words) & ~part.str.contains(words)).fill_null(False)
    text = collapse_whitespace(only_where(maybe, typed))
    before = pl.coalesce(
        *(
            text.str.extract(_captured(pattern), 1).str.strip_chars()
            for pattern in (_ESTATE_BEFORE, *(before for _, before, _ in _STATES.values()))
            if pattern is not None
        )
    )
    after = pl.coalesce(
        *(
            text.str.extract(_captured(pattern), 1)
            for pattern in (_ESTATE_AFTER, *(after for _, _, after in _STATES.values()))
        ),
        text.str.extract(_captured(GUARDIAN_NOTE), 1),
    )
    with_words = pl.concat_str((before + pl.lit(" ")).fill_null(""), part, after.fill_null(""))
    return pl.when(maybe & part.is_not_null()).then(with_words).otherwise(part)


# the same in a folded name key (``candjur``, ``cand jur``, ``dipl ing``)
_KEY_TITLE = (
    rf"^(?:(?:{_TITLES}|(?:cand|mag|lic) ?(?:{_DEGREES})|dipl ing) (?:(?:og|and) )?)+(?:med )?"
)


# A misspelt legal-form word this alike (rapidfuzz ratio) to a long spelling of the table is that
# form: "Anpartsselokab" (93), "Aktieselsab" (96); "Partnerskab" / partnerselskab (88) is not.
LEGAL_FORM_SIMILARITY = 90.0
_GLUED_FORM = (
    r"(\p{Ll})(ApS|A/S|I/S|K/S|P/S|IVS|Anpartsselskab|Aktieselskab|Interessentskab"
    r"|Iværksætterselskab)$"
)


@cache
def _long_form_words() -> tuple[str, ...]:
    table = load_reference("legal_forms")
    return tuple(sorted(v for v in table["variant"].to_list() if len(v) >= 10 and v.isalpha()))


def _mend_words(values: pl.Series) -> pl.Series:
    """Each misspelt long legal-form word replaced by the form the table knows.

    A word is mended the same wherever it stands, so each distinct word of ten letters or more
    is looked up once (rapidfuzz), not once per name; the names are then rebuilt as columns.
    """
    from rapidfuzz import fuzz, process

    long_forms = _long_form_words()
    known = set(long_forms)
    words = values.cast(pl.String).str.split(" ")
    distinct = words.explode().drop_nulls().unique()
    mended: dict[str, str] = {}
    for word in distinct.filter(distinct.str.len_chars() >= 10).to_list():
        folded = word.lower().strip(".,")
        if len(folded) < 10 or folded in known or not folded.isalpha():
            continue
        found = process.extractOne(
            folded, long_forms, scorer=fuzz.ratio, score_cutoff=LEGAL_FORM_SIMILARITY
        )
        if found is not None:
            mended[word] = _cased_as(word, found[0])
    if not mended:
        return values.cast(pl.String)
    rebuilt = words.list.eval(pl.element().replace(mended)).list.join(" ")
    return rebuilt.alias(values.name)


def _cased_as(typed: str, word: str) -> str:
    """``word`` in the case ``typed`` was written in: a misspelt form keeps its capitals, as a
    foreign customer's form is kept as typed (``Akriengesellschaft`` → ``Aktiengesellschaft``, not
    ``aktiengesellschaft``; ``AKTIESELSAB`` → ``AKTIESELSKAB``)."""
    if typed.isupper():
        return word.upper()
    return word[:1].upper() + word[1:] if typed[:1].isupper() else word


def mend_legal_forms(expr: pl.Expr) -> pl.Expr:
    """Legal-form words as the table knows them: a misspelt long form (``Anpartsselokab`` →
    ``anpartsselskab``, ``Aktieselsab``) and a form glued to the name (``Berg BygApS`` → ``Berg
    Byg ApS``, ``RavnAnpartsselskab``). Runs once per distinct name (see
    :func:`normalise_names`)."""
    unglued = expr.str.replace(_GLUED_FORM, "${1} ${2}")
    return unglued.map_batches(_mend_words, return_dtype=pl.String)


_QUOTES: Final = '"“”„«»'
_SEPARATORS: Final = " ,;:*_-"


def _clean_text(expr: pl.Expr) -> pl.Expr:
    """Whitespace collapsed, CPR remarks and stray quotes or separators trimmed; blank → null.

    ``v/`` is written against the owner's name: ``Hansens Bageri v/ Jens Hansen`` →
    ``Hansens Bageri v/Jens Hansen``. A quote is stray when it has no partner (``Jens Hansen"``)
    or it and its partner wrap the whole text (``"Jens Hansen"``); ``"Café Bøf" ApS`` and ``Ole
    "Søs" Hansen`` keep theirs (before, the first lost its opening quote and kept the other).
    """
    text = (
        collapse_whitespace(expr)
        .str.replace_all(f"{_CPR_REMARK}|{_CVR_REMARK}", "")
        .str.replace_all(r" ([vV]) ?/ ?", " ${1}/")
        .str.strip_chars(_SEPARATORS)
    )
    return (
        text.map_batches(_stray_quotes_trimmed, return_dtype=pl.String)
        .str.strip_chars()
        .replace("", None)
    )


def _stray_quotes_trimmed(texts: pl.Series) -> pl.Series:
    """``texts`` with a stray quote at either end trimmed (see :func:`_clean_text`); only the few
    texts holding a quote are looked at (every text: 0.5 s more per name column at 1M rows)."""
    quoted = texts.str.contains(f"[{_QUOTES}]").fill_null(False)
    if not quoted.any():
        return texts
    rows = quoted.arg_true()
    text = pl.col("text")
    quotes = text.str.count_matches(f"[{_QUOTES}]")
    wrapped = text.str.contains(f"^[{_QUOTES}].*[{_QUOTES}]$") & (quotes == 2)
    trimmed = pl.when(wrapped | (quotes % 2 == 1)).then(text.str.strip_chars(_QUOTES + _SEPARATORS))
    return texts.scatter(
        rows, texts.gather(rows).to_frame("text").select(trimmed.otherwise(text)).to_series()
    )


def _usable_key(key: pl.Expr, *, shortest: int = 2) -> pl.Expr:
    """A key that names someone: a letter, two characters (``3F``; ``shortest``), no placeholder
    (``n/a``)."""
    return (
        key.str.contains(r"\p{L}")
        & (key.str.len_chars() >= shortest)
        & ~key.is_in(_placeholders())
        & ~key.str.contains(r"^(?:x+|z+|test\s*\d*)$")
    ).fill_null(False)


@cache
def _town_names() -> list[str]:
    """Danish towns' names, folded, with and without their district's letters (``aarhus c``,
    ``aarhus``), but for the few that are given names too (Tim, Lem): after a comma a town is
    where the customer is, not his given name (``Nordlys, Aarhus``; ``Jensen, Viby``)."""
    towns = load_reference("dk_postal_codes").select(fold(pl.col("name")).alias("town"))
    bare = towns.select(pl.col("town").str.replace(r" [a-zø]{1,2}$", ""))
    given = pl.concat(
        load_reference(table).select(fold(pl.col(column)).alias("town"))
        for table in ("given_name_nicknames", "given_name_nicknames_da")
        for column in ("name", "nickname")
    )
    return pl.concat([towns, bare]).unique().join(given, on="town", how="anti")["town"].to_list()


# ``Hansen, Jens`` / ``Hansen Møller, Jens Peter``: a family name, a comma, given names.
# A word, or initials written together (``J.P.``, ``H.C``).
_WORD = r"(?:(?:\p{Lu}\.){1,3}\p{Lu}\.?|\p{L}[\p{L}'’\-]*\.?)"
COMMA_PERSON = rf"^({_WORD}(?: {_WORD})?), ?({_WORD}(?: {_WORD}){{0,2}})$"
# ``Jens Peter Hansen``: two to four words of letters. A couple's given names may be joined by
# ``&`` or ``+`` as well as by ``og`` (``Henrik & Lone Larsen``) when a surname follows: two single
# names joined by ``&`` (``Nielsen & Lauridsen``) are a firm.
_PERSON_NAME = (
    rf"^(?:{_WORD}(?: {_WORD}){{1,3}}|{_WORD}(?: {_WORD})? [&+] {_WORD}(?: {_WORD})? {_WORD})$"
)
_TITLED_PERSON = rf"^{_WORD}(?: {_WORD}){{0,3}}$"
_OWNER = r"(?i)(?:^|\s)v\s*/\s*(.+)$"


_NAME_INPUTS = ("raw_name", "raw_first_name", "raw_last_name")

# A deceased customer's estate: ``Dødsboet efter Jens Hansen``, ``Dødsbo Jens Hansen``, ``Boet
# efter Jens Hansen``, ``Estate of John Smith`` — or after the name, ``Jens Hansen (dødsbo)``,
# ``Jens Hansen - dødsbo``. What follows the deceased's name is the executor (``v/advokat Peter
# Holm``, ``c/o Bobestyrer …``). ``Bo`` alone is a first name, so ``bo`` needs ``efter``.
_DEAD = r"d(?:ø|oe|o)dsbo(?:et)?"
_ESTATE_BEFORE = (
    rf"(?i)^((?:(?:the\s+)?estate\s+of(?:\s+the\s+late)?|{_DEAD}(?:\s+(?:efter|e/|e\.))?"
    r"|bo(?:et)?\s+(?:efter|e/))(?:\s+afd(?:ø|oe|o)de)?)\s*[:,\-–]?\s+"
)
_EXECUTOR = r"(?i)(?:^|\s*,\s*|\s+)((?:v/|c/o|att\.?\s|ved\s).*)$"
# What may follow words after a name: its executor, trustee or liquidator (group 2).
_TAIL = r"((?:\s*,\s*|\s+)(?:v/|c/o|att\.?\s|ved\s).*)?$"


def _after(words: str, *, bare: str = "") -> str:
    """Words after a name (group 1, with what parts them from it) before an executor's (group 2):
    ``words`` after a space, a bracket, a dash or a comma, and ``bare`` after all but a space."""
    spaced = rf"(?:\s*[,\-–]\s*|\s*\(\s*|\s+)(?:{words})"
    marked = rf"|(?:\s*[,\-–]\s*|\s*\(\s*)(?:{bare})" if bare else ""
    return rf"(?i)((?:{spaced}{marked})\s*\)?){_TAIL}"


# ``Jens Hansen (afdød)``, ``Jens Hansen - død``, ``John Smith (deceased)``: the customer is dead,
# what it owes its estate's; the word alone needs a bracket, dash or comma (``Død`` may be a name).
_ESTATE_AFTER = _after(_DEAD, bare=r"(?:afd(?:ø|oe|o)de?|d(?:ø|oe|o)d|deceased|dec'?d)(?-u:\b)")
# A company's state written with its name, as a CRM user marks a customer (and as the law has a
# company in liquidation write ``i likvidation`` after its name): bankrupt — ``Konkursboet efter
# Hansen Byg ApS``, ``Konkursboet Hansen Byg ApS`` (a word after it: ``Konkursbo-Salg ApS`` is a
# company's own name), ``Hansen Byg ApS under konkurs``, ``under konkursbehandling``,
# ``u/konkurs``, ``i konkurs``, ``(konkurs)``, ``- KONKURS``;
# distressed — ``i likvidation``, ``under frivillig likvidation``, ``under tvangsopløsning``,
# ``under rekonstruktion``; ceased — ``(ophørt)``, ``- opløst``. A foreign customer's the way
# its country writes them: ``in liquidation``, ``in administration``, ``in receivership``,
# ``(dissolved)``, ``GmbH i.L.``, ``in Insolvenz``, Norway's ``under avvikling`` and
# ``konkursbo``. A word alone after the name needs a bracket, dash or comma. A trustee or
# liquidator (``v/kurator Lene Borg``) follows as an executor does.
_UNDER = r"(?:under\s+|u\s*/\s*|u\.\s*|i\s+|in\s+)"
_WINDING_UP = (
    r"(?:frivillig\s+)?likvidation|liquidation|tvangsopl(?:ø|oe|o)sning|rekonstruktion"
    r"|administration|receivership|avvikling"
)
_CEASED = r"oph(?:ø|oe|o)rt|(?:tvangs)?opl(?:ø|oe|o)st|dissolved"
_STATES: Final = {
    # state: (code, words before the name, words after it)
    "bankrupt": (
        "COMPANY_BANKRUPT",
        r"(?i)^(konkursbo(?:et)?(?:\s+(?:efter|e/|e\.))?)\s*[:,\-–]?\s+",
        _after(
            rf"{_UNDER}(?:konkurs(?:behandling)?|insolvenz|bankruptcy)|konkursbo(?:et)?",
            bare="konkurs(?:bo|behandling)?|bankrupt",
        ),
    ),
    "distressed": (
        "COMPANY_DISTRESSED",
        None,
        _after(rf"{_UNDER}(?:{_WINDING_UP})|i\.\s?l\.", bare=_WINDING_UP),
    ),
    "ceased": ("COMPANY_DISSOLVED", None, _after(rf"{_UNDER}(?:{_CEASED})", bare=_CEASED)),
}
STATE_CODES: Final = {state: code for state, (code, _, _) in _STATES.items()}
# A word every estate's or state's pattern needs: one pass finds the few names the patterns run on.
_SET_ASIDE_WORDS = (
    rf"(?i){_DEAD}|d(?:ø|oe|o)d|deceased|dec'?d|estate|bo(?:et)?\s+(?:efter|e/)|konkurs|insolvenz"
    rf"|bankrupt|{_WINDING_UP}"
    rf"|{_CEASED}|i\.\s?l\."
)


def names_an_estate(name: pl.Expr) -> pl.Expr:
    """Whether a name (as typed or as cleaned: the cleaned name keeps the estate's words) is a
    deceased person's estate's (``Dødsboet efter Jens Hansen``, ``Jens Hansen (dødsbo)``)."""
    text = collapse_whitespace(name)
    return (text.str.contains(_ESTATE_BEFORE) | text.str.contains(_ESTATE_AFTER)).fill_null(False)


def _captured(pattern: str) -> str:
    """A case-blind pattern as one capture group."""
    return "(?i)(" + pattern.removeprefix("(?i)") + ")"


def normalise_names(df: pl.DataFrame) -> pl.DataFrame:
    """Add the display name, legal form, keys and first/last names of each record.

    Reads ``raw_name``, ``raw_first_name`` and ``raw_last_name`` (a missing column counts as
    null) and adds ``name``, ``legal_form``, ``name_key``, ``first_name``, ``last_name``,
    ``first_name_key``, ``last_name_key`` and ``flag_MISSING_NAME``. For example
    ``HANSEN BYG APS.`` → ``Hansen Byg ApS`` / ``ApS`` / ``hansen byg``; ``Hansen, Jens`` →
    ``Jens Hansen`` with first name ``Jens`` and last name ``Hansen``; first name ``jens`` and
    last name ``HANSEN`` with no name → ``Jens Hansen``; ``ukendt`` → null and MISSING_NAME.
    """
    # A customer list repeats names (duplicates, common person names): each distinct
    # combination is cleaned once and joined back onto every row that has it.
    inputs = pl.DataFrame(_name_inputs(df, "names"))
    cleaned = _normalise_distinct_names(inputs.unique())
    # Joined onto the three inputs and set beside the record, not joined onto the record: a join
    # copies every column of its left side (at 1M records the fifty columns this stage is given,
    # 1.3 CPU-s, for three).
    found = inputs.join(
        cleaned, on=list(_NAME_INPUTS), how="left", nulls_equal=True, maintain_order="left"
    )
    found = found.drop(_NAME_INPUTS)
    # A frame cleaned before (normalised twice) gets its new columns beside the old ones, named
    # as a join names them (``name_right``).
    found = found.rename({c: f"{c}_right" for c in found.columns if c in df.columns})
    return pl.concat([df, found], how="horizontal")


def _name_inputs(df: pl.DataFrame, stage: str) -> dict[str, pl.Series]:
    """The texts a name is cleaned from (:data:`_NAME_INPUTS`), a missing column null; the name
    with its second line after it (``Navn 2``: ``Dansk Selskab for`` / ``Teoretisk Statistik``,
    ``Hansen Byg ApS`` / ``Att. Bogholderiet``), as an invoice prints the two."""
    texts = {
        column: pl.col(column).cast(pl.String)
        if column in df.columns
        else pl.repeat(None, pl.len(), dtype=pl.String)
        for column in _NAME_INPUTS
    }
    second = stage_text(df, stage, raw("name_2"))
    texts["raw_name"] = name_line(texts["raw_name"], second)
    line = df.select(expr.alias(column) for column, expr in texts.items())
    return {column: line.get_column(column) for column in _NAME_INPUTS}


def name_line(name: pl.Expr, second: pl.Expr) -> pl.Expr:
    """``name`` with a second name line after it, one space between; ``name`` as it is where the
    second line is blank."""
    second = second.str.strip_chars()
    joined = pl.concat_str(
        [name.str.strip_chars(), second], separator=" ", ignore_nulls=True
    ).str.strip_chars()
    return pl.when(second != "").then(joined).otherwise(name)


def keep_typed_legal_forms(df: pl.DataFrame, abroad: pl.Expr) -> pl.DataFrame:
    """``name`` with the legal form as typed on the records ``abroad`` selects (foreign ones).

    The legal-form table writes Danish forms the Danish way (``Hansen Byg as`` → ``Hansen Byg
    A/S``), but Norway's ``Nordisk Fisk AS`` is an aksjeselskap and its ``KS`` no Danish K/S: a
    foreign customer's name goes back to the CRM with the form its owner wrote. ``legal_form``
    keeps the table's code, which says what kind of company it is, but for the forms Norway
    writes without the Danish slash: an aksjeselskap is an ``AS`` and a kommandittselskap a
    ``KS``, no Danish ``A/S`` or ``K/S`` to count among them. Only the foreign names with a legal
    form are cleaned again, once per distinct name.
    """
    require_columns(df, "abroad")
    rows = df.select((abroad & pl.col("legal_form").is_not_null()).fill_null(False)).to_series()
    if not rows.any():
        return df
    inputs = pl.DataFrame(_name_inputs(df, "abroad"))
    distinct = inputs.filter(rows).unique()
    typed = _normalise_distinct_names(distinct, typed_forms=True).select(
        *_NAME_INPUTS, pl.col("name").alias("_typed_name")
    )
    found = inputs.join(typed, on=list(_NAME_INPUTS), how="left", nulls_equal=True,
                        maintain_order="left")["_typed_name"]  # fmt: skip
    name = pl.when(pl.lit(rows)).then(pl.coalesce(pl.lit(found), "name")).otherwise("name")
    unslashed = name.str.extract(r"(?i)\s(as|ks)\.?$", 1).str.to_uppercase()
    slashed = pl.col("legal_form").is_in(["A/S", "K/S"]) & (
        unslashed.str.slice(0, 1) == pl.col("legal_form").str.slice(0, 1)
    )
    return df.with_columns(
        name=name,
        legal_form=pl.when(pl.lit(rows) & slashed.fill_null(False))
        .then(unslashed)
        .otherwise("legal_form"),
    )


def _estate_set_aside(frame: pl.LazyFrame) -> pl.LazyFrame:
    """An estate's name (``_text``) read as the deceased's, a bankrupt or ceased company's as the
    company's: the words that say so (``_estate_before``, ``_estate_after``) and the executor,
    trustee or liquidator (``_executor``) are set aside and put back around the cleaned name at
    the end (:func:`_estate_name`); ``flag_DECEASED_ESTATE`` and ``state_by_name``."""
    # The patterns run on the few names holding one of their words, the others' text empty.
    frame = frame.with_columns(_maybe=pl.col("_text").str.contains(_SET_ASIDE_WORDS))
    text = only_where(pl.col("_maybe"), pl.col("_text"))
    patterns = [("dead", _ESTATE_BEFORE, _ESTATE_AFTER)] + [
        (state, before, after) for state, (_, before, after) in _STATES.items()
    ]
    frame = frame.with_columns(
        *(
            text.str.extract(before, 1).alias(f"_{state}_before")
            for state, before, _ in patterns
            if before is not None
        ),
        *(text.str.extract(after, 1).alias(f"_{state}_after") for state, _, after in patterns),
    )

    def found(state: str, before: str | None) -> pl.Expr:
        after = pl.col(f"_{state}_after").is_not_null()
        return after | pl.col(f"_{state}_before").is_not_null() if before is not None else after

    rest = text
    for _, before, after in patterns:
        rest = rest.str.replace(after, "${2}")
        rest = rest.str.replace(before, "") if before is not None else rest
    named = (rest.str.len_chars() > 0).fill_null(False)
    said = {state: found(state, before) & named for state, before, _ in patterns}
    state = pl.lit(None, dtype=pl.String)
    for name in reversed(_STATES):
        state = pl.when(said[name]).then(pl.lit(name)).otherwise(state)
    frame = frame.with_columns(
        flag_DECEASED_ESTATE=said["dead"],
        state_by_name=state,
        _estate=pl.any_horizontal(*said.values()),
        _estate_before=pl.coalesce(
            *(f"_{state}_before" for state, before, _ in patterns if before is not None)
        ),
        _estate_after=pl.coalesce(*(f"_{state}_after" for state, _, _ in patterns)),
        _deceased=pl.when("_maybe").then(rest).otherwise(pl.col("_text")),
    )
    frame = frame.with_columns(
        _executor=pl.when("_estate").then(pl.col("_deceased").str.extract(_EXECUTOR, 1)),
    )
    # ``Dødsboet v/advokat Peter Holm`` names no one but the executor: its text is then read
    # whole, as a business's (the executor's name is no person's name of the customer).
    unnamed = pl.col("_estate") & (
        pl.col("_deceased").str.replace(_EXECUTOR, "").str.len_chars() == 0
    )
    frame = frame.with_columns(
        *(
            pl.when(~unnamed).then(c).alias(c)
            for c in ("_estate_before", "_estate_after", "_executor")
        ),
        _text=pl.when(unnamed)
        .then(pl.col("_text"))
        .when("_estate")
        .then(pl.col("_deceased").str.replace(_EXECUTOR, ""))
        .otherwise(pl.col("_text")),
        _estate_unnamed=unnamed,
    )
    return frame


def _estate_in_name_parts(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Where no name column holds the customer's name, an estate or a company's state written in
    the first- and last-name columns read as :func:`_estate_set_aside` reads it in a name: the
    words before the name at the start of the first name (``Dødsboet efter Knud`` + ``Sørensen``),
    those after it, and an executor, at the end of the last name (``Hans`` + ``Jensen (afdød)``).
    The first and last names are the person's own (``Knud``, ``Jensen``) and the words go around
    the name as in a name column; before, the estate went unflagged and ``Dødsboet efter Knud``
    was a first name. A guardian noted in either (``Lund v/værge``) is set aside too, in
    ``_parts_note``, and follows the name."""
    first, last = pl.col("_first"), pl.col("_last")
    maybe = (
        pl.col("_text").is_null()
        & (
            first.str.contains(_SET_ASIDE_WORDS).fill_null(False)
            | last.str.contains(_SET_ASIDE_WORDS).fill_null(False)
        )
    ).fill_null(False)
    # the words before a first name in its cell (``Dødsboet efter`` alone would leave the
    # first-name column empty when written back)
    first_text = only_where(maybe, first)
    last_text = only_where(maybe, last)
    patterns = [("dead", _ESTATE_BEFORE, _ESTATE_AFTER)] + [
        (state, before, after) for state, (_, before, after) in _STATES.items()
    ]
    before_words = {
        state: first_text.str.extract(before, 1) for state, before, _ in patterns if before
    }
    after_words = {state: last_text.str.extract(after, 1) for state, _, after in patterns}
    rest_first, rest_last = first_text, last_text
    for _, before, after in patterns:
        rest_first = rest_first.str.replace(before, "") if before is not None else rest_first
        rest_last = rest_last.str.replace(after, "${2}")
    executor = rest_last.str.extract(_EXECUTOR, 1)
    rest_first = rest_first.str.strip_chars().replace("", None)
    rest_last = rest_last.str.replace(_EXECUTOR, "").str.strip_chars().replace("", None)
    named = rest_first.is_not_null() | rest_last.is_not_null()
    said = {
        state: maybe
        & named
        & (after_words[state].is_not_null() | before_words.get(state, pl.lit(None)).is_not_null())
        for state, _, _ in patterns
    }
    in_parts = pl.any_horizontal(*said.values())
    state = pl.lit(None, dtype=pl.String)
    for name in reversed(_STATES):
        state = pl.when(said[name]).then(pl.lit(name)).otherwise(state)
    frame = frame.with_columns(
        flag_DECEASED_ESTATE=pl.col("flag_DECEASED_ESTATE") | said["dead"],
        state_by_name=pl.coalesce("state_by_name", state),
        _estate=pl.col("_estate") | in_parts,
        _estate_before=pl.coalesce(
            "_estate_before", pl.when(in_parts).then(pl.coalesce(*before_words.values()))
        ),
        _estate_after=pl.coalesce(
            "_estate_after", pl.when(in_parts).then(pl.coalesce(*after_words.values()))
        ),
        _executor=pl.coalesce("_executor", pl.when(in_parts).then(executor)),
        _first=pl.when(in_parts).then(rest_first).otherwise(first),
        _last=pl.when(in_parts).then(rest_last).otherwise(last),
    )
    # A guardian after the first or the last name: whom to write to, no part of the person's name.
    first, last = pl.col("_first"), pl.col("_last")
    noted = pl.col("_text").is_null() & (
        first.str.contains(_BESIDE_GUARDIAN).fill_null(False)
        | last.str.contains(_BESIDE_GUARDIAN).fill_null(False)
    )
    first_note = only_where(noted, first).str.extract(_captured(GUARDIAN_NOTE), 1)
    last_note = only_where(noted, last).str.extract(_captured(GUARDIAN_NOTE), 1)
    return frame.with_columns(
        _parts_note=pl.coalesce(last_note, first_note),
        _first=pl.when(first_note.is_not_null())
        .then(first.str.replace(GUARDIAN_NOTE, "").replace("", None))
        .otherwise(first),
        _last=pl.when(last_note.is_not_null())
        .then(last.str.replace(GUARDIAN_NOTE, "").replace("", None))
        .otherwise(last),
    )


# What every guardian's note holds: one pass finds the few name parts it may be in.
_BESIDE_GUARDIAN = r"(?i)v(?:æ|ae)rge"


def _estate_name(name: pl.Expr) -> pl.Expr:
    """The display name of an estate: its words as typed before the cleaned name, with only their
    first letter a capital (``DØDSBOET EFTER`` → ``Dødsboet efter``), or after it as typed, and
    its executor after the name, its ``v/``, ``c/o`` or ``att.`` in small letters as a name's
    ``v/`` is (``V/ ADVOKAT LENE BORG`` → ``v/Advokat Lene Borg``)."""
    before, after = pl.col("_estate_before"), pl.col("_estate_after")
    before = before.str.slice(0, 1).str.to_uppercase() + before.str.slice(1).str.to_lowercase()
    executor = pl.col("_executor")
    marker = executor.str.extract(r"(?i)^(v/|c/o|att\.?|ved)", 1)
    executor = marker.str.to_lowercase() + executor.str.slice(marker.str.len_chars())
    return pl.concat_str(
        pl.when(before.is_not_null()).then(before + pl.lit(" ")).otherwise(pl.lit("")),
        name,
        # after the name as typed, in small letters if typed in capitals (``HANSEN BYG APS
        # U/KONKURS``); ``Müller Bau GmbH i.L.`` and ``in Insolvenz`` keep theirs
        pl.when(after == after.str.to_uppercase())
        .then(after.str.to_lowercase())
        .otherwise(after)
        .fill_null(""),
        (pl.lit(" ") + executor).fill_null(""),
    )


def _normalise_distinct_names(df: pl.DataFrame, *, typed_forms: bool = False) -> pl.DataFrame:
    """normalise_names on a frame with exactly the three input columns, all text; ``typed_forms``:
    legal forms as typed (:func:`_with_typed_form`)."""
    # Each step materialises what the next reads more than once, so no regex runs twice.
    given = {column: pl.col(column) for column in _NAME_INPUTS}
    frame = df.lazy().with_columns(
        _text=mend_legal_forms(_clean_text(given["raw_name"])),
        _first=_clean_text(given["raw_first_name"]),
        _last=_clean_text(given["raw_last_name"]),
    )
    frame = _estate_in_name_parts(_estate_set_aside(frame))
    frame = frame.with_columns(_itself=_name_itself(pl.col("_text")))
    itself = pl.col("_itself")
    frame = frame.with_columns(
        _key=_own_key(pl.col("_text"), itself),
        _first_key=text_key(pl.col("_first")),
        _last_key=text_key(pl.col("_last")),
    )
    text, key = pl.col("_text"), pl.col("_key")
    # a public body's word, strong or weak, is an organisation's, whoever it turns out to be
    public = word_list_pattern("public_sector_patterns", "strong")
    # A placeholder typed across the two columns (``Beskyttet`` + ``Adresse``, ``Ukendt`` +
    # ``Kunde``) names no one either.
    parts_named = ~pl.concat_str(pl.col("_first_key"), pl.col("_last_key"), separator=" ").is_in(
        _placeholders()
    ).fill_null(False)
    frame = frame.with_columns(
        _usable=_usable_key(key),
        # A first-name column's one letter is an initial (``C.`` + ``Lassen``), as in ``C. Lassen``.
        _first=pl.when(_usable_key(pl.col("_first_key"), shortest=1) & parts_named).then(
            pl.col("_first")
        ),
        _last=pl.when(_usable_key(pl.col("_last_key")) & parts_named).then(pl.col("_last")),
        _business=(business_key(key) | key.str.contains(public) | institution_word(key)).fill_null(
            False
        ),
    )
    frame = frame.with_columns(
        _text=pl.when("_usable").then(text),
        _key=pl.when("_usable").then(key),
    )
    # The legal form is found in the text as typed (``… IS`` is I/S only in capitals); the same
    # match places the canonical form in the proper-cased display name below.
    # A person's name with a remark after it (``Hansen, Jens (privat)``, ``Jens Hansen - ring efter
    # 16``) is read without it; the remark stays in the name as typed.
    frame = frame.with_columns(_bare=text.str.replace(_REMARK, ""))
    bare = pl.col("_bare")
    frame = frame.with_columns(
        _display_parts=text.str.extract_groups(_legal_forms().suffix_pattern),
        _comma=bare.str.extract_groups(COMMA_PERSON),
    )
    frame = frame.with_columns(
        _form=_suffix_form(text, pl.col("_display_parts").struct.field("form"))
    )
    remarked = text.str.contains(_REMARK).fill_null(False)
    separated = text.str.contains(_BEFORE_SEPARATOR).fill_null(False)
    # Whom to write to is not the customer: ``Hansen Byg ApS c/o DEAS A/S`` is an ApS, ``Jens
    # Hansen c/o DEAS A/S`` no company at all, ``Hansen Byg ApS v/ Jens Hansen`` no sole
    # proprietorship.
    frame = frame.with_columns(
        legal_form=pl.when(itself.is_not_null())
        .then(legal_form_of(itself))
        .otherwise(
            pl.coalesce(
                _legal_form(text, pl.col("_form")),
                legal_form_of(only_where(remarked, text).str.replace(_REMARK, "")),
                # what follows a comma or a slash after the form: a site or a contact
                # (``Hansen A/S, Aarhus``, ``Hansen A/S / Jens Hansen``)
                legal_form_of(only_where(separated, text).str.extract(_BEFORE_SEPARATOR, 1)),
            )
        )
    )
    # an estate's ``v/`` is its executor, no sole proprietor's owner
    frame = frame.with_columns(
        legal_form=pl.when(pl.col("_estate_unnamed")).then(None).otherwise("legal_form")
    )
    comma_last = pl.col("_comma").struct.field("1")
    comma_first = pl.col("_comma").struct.field("2")
    frame = frame.with_columns(
        _is_comma=comma_first.is_not_null()
        & pl.col("legal_form").is_null()
        & ~pl.col("_business")
        & ~fold(comma_first).is_in(_town_names()),
    )
    is_comma = pl.col("_is_comma")
    frame = frame.with_columns(
        _text=pl.when(is_comma)
        .then(
            pl.concat_str(
                comma_first, pl.lit(" "), comma_last, text.str.slice(bare.str.len_chars())
            )
        )
        .otherwise(text),
    )
    # A name turned round (``Hansen, Jens``) has no legal form, so its display parts are null.
    # A company's abbreviations stay in capitals when its name is cased (``DSV A/S``).
    frame = frame.with_columns(
        _company_like=(pl.col("legal_form").is_not_null() | pl.col("_business")).fill_null(False)
    )
    collected = _with_proper_case(frame.collect(), "_text", "_cased", acronyms="_company_like")
    # A name that is one abbreviation keeps it in capitals, a company's or not (``KL``, ``ATP``);
    # the few such names are written on their own.
    lone = collected.select(
        _lone_abbreviation(pl.col("_text"), pl.col("_display_parts").struct.field("tail"))
    ).to_series()
    if lone.is_not_null().any():
        collected = collected.with_columns(
            _cased=pl.when(lone.is_not_null())
            .then(pl.lit(lone) + pl.col("_cased").str.replace(r"^\S+", ""))
            .otherwise(pl.col("_cased"))
        )
    for source in ("_first", "_last", "_executor"):
        collected = _with_proper_case(collected, source, source, initials=source != "_last")
    frame = collected.lazy()
    frame = frame.with_columns(pl.col("_cased").str.replace_all(" V/", " v/", literal=True))
    frame = frame.with_columns(
        _display=_with_typed_form(pl.col("_cased"), text, pl.col("_display_parts"), pl.col("_form"))
        if typed_forms
        else _with_display_form(pl.col("_cased"), pl.col("_display_parts"), pl.col("_form"))
    )
    display = pl.col("_display")
    frame = frame.with_columns(_owner=display.str.extract(_OWNER, 1))
    owner = pl.col("_owner")
    frame = frame.with_columns(_display_bare=display.str.replace(_REMARK, ""))
    display_bare = pl.col("_display_bare")
    # After a title, one to four words: ``Hr. Hansen``, ``Mr & Mrs Smith``, ``Hr. og fru Jens
    # Hansen``.
    untitled_display = display_bare.str.replace(_TITLE, "")
    person_like = (
        pl.col("legal_form").is_null()
        & ~pl.col("_estate_unnamed")
        & ~pl.col("_business")
        & (
            display_bare.str.contains(_PERSON_NAME)
            | (untitled_display != display_bare) & untitled_display.str.contains(_TITLED_PERSON)
        )
    )
    owner_like = (pl.col("legal_form") == "ENK") & owner.str.contains(_PERSON_NAME)
    frame = frame.with_columns(
        _person=person_like,
        _split=pl.when(person_like).then(display_bare).when(owner_like).then(owner),
    )
    # After a title the one word left is the surname: ``Hr. Hansen``, ``Hr. og fru Hansen``.
    untitled = pl.col("_split").str.replace(_TITLE, "")
    frame = frame.with_columns(
        _split_parts=pl.when(untitled != pl.col("_split"))
        .then(untitled.str.extract_groups(r"^(?:(?P<first>.+) )?(?P<last>\S+)$"))
        .otherwise(untitled.str.extract_groups(r"^(?P<first>.+) (?P<last>\S+)$"))
    )
    split = pl.col("_split_parts")
    # A name turned round keeps its own split: ``Hansen Møller, Jens`` → ``Jens`` +
    # ``Hansen Møller``, cut from the proper-cased display name.
    comma_first_cased = display.str.head(comma_first.str.len_chars().cast(pl.Int64))
    comma_last_cased = display_bare.str.tail(comma_last.str.len_chars().cast(pl.Int64))
    frame = frame.with_columns(
        name=pl.coalesce(
            display,
            pl.concat_str(
                pl.col("_first"), pl.col("_last"), separator=" ", ignore_nulls=True
            ).replace("", None)
            + pl.col("_parts_note").fill_null(""),
        ).replace("", None),
        first_name=pl.coalesce(
            _untitled(pl.col("_first")),
            pl.when(is_comma).then(comma_first_cased),
            split.struct.field("first"),
        ),
        last_name=pl.coalesce(
            pl.col("_last"),
            pl.when(is_comma).then(comma_last_cased),
            split.struct.field("last"),
        ),
    )
    frame = frame.with_columns(
        # Initials written together are letters of their own: ``J.P.`` → ``j p``, which the
        # first-name comparison reads as an initial of ``jens peter``; so are ``JP`` and ``HC``
        # (:func:`_initials_together`).
        # A couple's ``+`` is its ``&``: ``Henrik + Lone`` → ``henrik og lone``.
        first_name_key=text_key(
            _initials_together(pl.col("first_name"))
            .str.replace_all(r"\.(\p{L})", " $1")
            .str.replace_all(" + ", " & ", literal=True)
        ),
        last_name_key=text_key(pl.col("last_name")),
        name=pl.when("_estate").then(_estate_name(pl.col("name"))).otherwise(pl.col("name")),
    )
    # The key of the text before ``Hansen, Jens`` was turned round is reused for all others.
    given_names_key = pl.concat_str(
        pl.col("first_name_key"), pl.col("last_name_key"), separator=" ", ignore_nulls=True
    )
    # A person's key has no title (``Hr. Jens Hansen``, ``Dr. med. Peter Holm``): another record
    # of the person rarely carries it. (A remark stays: taken off, Chicago's "Henry Booth House -
    # Humpty Dumpty", read as a person's name, lost what tells its sites apart.)
    frame = frame.with_columns(
        name_key=pl.when(is_comma | key.is_null())
        .then(given_names_key.replace("", None))
        .when(pl.col("_person"))
        .then(_strip_key_legal_form(key).str.replace(_KEY_TITLE, "").replace("", None))
        .otherwise(_strip_key_legal_form(key)),
        flag_MISSING_NAME=pl.col("name").is_null(),
    )
    temporary = [
        column
        for column in frame.collect_schema().names()
        if column.startswith("_") and column not in df.columns
    ]
    return frame.drop(temporary).collect()
