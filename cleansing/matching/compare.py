"""Comparison vectors: how alike two records are, field by field, as discrete levels.

In: the prepared record frame and two aligned arrays of record positions (a pair per element).
Out: one ``lvl_<comparison>`` column (Int8) per comparison; ``-1`` means "cannot say" (a value is
missing on either side) and contributes no evidence; ``0`` is plain disagreement; higher levels are
stronger agreement. A comparison with term-frequency adjustment adds ``tf_<comparison>``: how common
the agreeing value is among all records (a shared "jensen" is weaker evidence than a shared
"vindelev").

String similarity is computed with :func:`rapidfuzz.process.cpdist`, element-wise over the pair
arrays on all cores, and only for pairs whose values differ (equal values are settled in polars).

The comparisons, with an example pair for each level (top level first):

``name`` — organisation name without legal form, token-based (word order does not matter); a
    record with a CVR also by every name the registry knows for it (a renamed company's old name)
    exact ``hansen byg`` = ``hansen byg`` · token ≥ 0.92 ``hansen vvs`` ~ ``hansens vvs`` ·
    token ≥ 0.80 ``hansen byg`` ~ ``hansen byg og anlæg`` (not when each name has a word the other
    lacks, even misspelt: ``svendsen trading`` / ``svendsen holding`` are sister companies; nor
    when both carry a legal form, ``Hansen Byg ApS`` / ``Hansen Byg og Anlæg ApS``) ·
    shares most words (at least two, and half the words of the shorter name)
    ``rauner family ymca`` ~ ``ymca of metropolitan chicago rauner`` ·
    different ``hansen holding`` / ``hansen byg`` (also a group company's word added, ``nielsen
    transport`` / ``nielsen transport holding``, a trade word added where both names carry a
    legal form, ``Svaneholm A/S`` / ``Svaneholm Service ApS``, two departments of a public
    body, each with a word the other lacks: ``lyngby taarbaek kommune vej og park`` /
    ``lyngby taarbaek kommune skoleafdelingen``, and two shops each named after its own street,
    ``kvickly oestergade`` at Østergade / ``kvickly soendergade`` at Søndergade:
    :func:`_branches_apart`)
``first_name`` / ``last_name`` — Jaro-Winkler, allowing first and last name to be swapped or the
    same words to be split another way (``jens peter`` + ``hansen`` / ``jens`` + ``peter hansen``)
    exact ``jens`` · Jaro-Winkler ≥ 0.92 ``jens`` ~ ``jenns`` · initial ``j`` ~ ``jens`` (also
    ``jens peter`` ~ ``jens``) · Jaro-Winkler ≥ 0.80 ``mette`` ~ ``mete`` ·
    different ``jens`` / ``anne`` (also two given names however alike as letters, a man's and a
    woman's or two common ones: ``christian`` / ``christina``, ``hans`` / ``hanne``, ``karen`` /
    ``karin``; :func:`_two_given_names`)
``address`` — the whole Danish address
    exact (same street, number, postal code and floor/door; a postal code one edit off in the same
    region — ``3095`` / ``3059`` — or with two digits swapped — ``3070`` / ``0370`` — counts as
    the same when street and number agree) ·
    same building (floor/door missing on one side) ·
    same building, other unit (``2 tv`` / ``3 th``) · same street and number (``vestergade 12`` ~
    ``vestergde 12``) · same street (``vestergade 12`` ~ ``vestergade 14``) — these two also where
    only one side has a postal code (``532 w 95th st`` ~ ``532 w 95th st 60628``), and neither
    where two Danish names differ in a qualifier (``vestergade`` / ``oestergade``,
    ``noerregade`` / ``noerrebrogade``: :func:`_other_street`) ·
    same postal code · different. Where either address did not parse into street and number
    (``4910 S Dr. Martin Luther``, ``435 S. La Cienega Blvd.``), the address lines as written are
    compared instead:
    equal text is exact; the same numbers and lines (or street words) with Jaro-Winkler ≥ 0.85
    (``1718 s loomis blvd`` ~ ``1718 s loomis``) same street and number; alike lines with other
    numbers (``1718 s loomis`` ~ ``1722 s loomis``) same street; else different
``street`` / ``city`` / ``address_line2`` — Jaro-Winkler exact / ≥ 0.92 / ≥ 0.80 / different
``house_number`` — exact ``12A`` · same number ``12`` ~ ``12A`` · different
``postal_code`` — exact · one edit ``8000`` ~ ``8001`` · different
``date_of_birth`` — exact · one edit or transposition ``1956-04-09`` ~ ``1956-04-90`` ·
    two of year, month and day agree (``1956-04-09`` ~ ``1956-04-27``, ``1956-04-09`` ~
    ``1948-04-09``) or day and month swapped in the same year (``1956-04-09`` ~ ``1956-09-04``) ·
    different (``1956-04-09`` ~ ``1965-09-04``)
``national_id`` — exact · one edit or transposition ``19560409`` ~ ``19560490`` · different
``phone`` — shares a number · different
``email`` — shares an address · different personal addresses (both on free-mail domains:
    ``jens43@gmail.com`` / ``jensh@hotmail.com``; people change private addresses, so this says
    less than) · different (``info@hansen-byg.dk`` / ``info@nordic-cleaning.dk``).
    Two addresses that share only their company domain
    (``jens@hansen-byg.dk`` / ``info@hansen-byg.dk``) or only a personal local part
    (``jens.hansen@gmail.com`` / ``jens.hansen@hotmail.com``) count as *missing*: both are
    usually made from the name, so they would repeat the name's evidence, and two contact persons
    of one customer should not count against the pair.
``cvr`` / ``ean`` / ``person_id`` — exact · different (``person_id`` compares the keyed hash of
    the mapped identifier, never the identifier)
evidence fields a mapping names (``[compare]``: a birth place, an occupation, a programme) —
    text, Jaro-Winkler: exact ``west devon`` · ≥ 0.92 ``blickling hall`` ~ ``blickling`` ·
    ≥ 0.80 · different ``devon`` / ``london``; term-frequency adjusted (a shared ``london`` says
    less than a shared ``coggeshall``). See :func:`evidence_comparison`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

import numpy as np
import polars as pl
from rapidfuzz import distance, fuzz, process

from datavask.cleansing.addresses import street_key
from datavask.cleansing.customer_type import public_key
from datavask.cleansing.matching.blocking import loose_postal_code
from datavask.cleansing.matching.threads import in_order
from datavask.cleansing.names import (
    DANISH_LETTERS,
    fold,
    given_name_genders,
    with_remark,
    word_list_pattern,
)
from datavask.cleansing.reference import load_reference

NULL_LEVEL: Final = -1


@dataclass(frozen=True)
class Comparison:
    """A field comparison: its level labels (index = level), the columns it needs, and whether
    term frequencies adjust its top levels."""

    name: str
    levels: tuple[str, ...]
    columns: tuple[str, ...]
    tf_levels: tuple[int, ...] = ()

    @property
    def top(self) -> int:
        return len(self.levels) - 1


JW_LEVELS: Final = ("different", "jaro-winkler >= 0.80", "jaro-winkler >= 0.92", "exact")
EDIT_LEVELS: Final = ("different", "one edit", "exact")
BIRTH_LEVELS: Final = ("different", "two of year, month, day", "one edit", "exact")

COMPARISONS: Final[dict[str, Comparison]] = {
    c.name: c
    for c in (
        Comparison(
            "name",
            ("different", "shares most words", "token >= 0.80", "token >= 0.92", "exact"),
            ("name_key",),
            tf_levels=(4,),
        ),
        Comparison(
            "first_name",
            (
                "different",
                "jaro-winkler >= 0.80, 3 edits or more",
                "jaro-winkler >= 0.80 or one edit",
                "initial, first given name or nickname",
                "jaro-winkler >= 0.92",
                "exact",
            ),
            ("first_name_key",),
            tf_levels=(5,),
        ),
        Comparison("last_name", JW_LEVELS, ("last_name_key",), tf_levels=(3,)),
        Comparison(
            "address",
            (
                "different",
                "same postal code",
                "same street",
                "same street and number",
                "same building, other unit",
                "same building",
                "exact",
            ),
            ("street_key", "postal_code"),
            tf_levels=(5, 6),
        ),
        Comparison("street", JW_LEVELS, ("street_key",), tf_levels=(3,)),
        Comparison("house_number", ("different", "same number", "exact"), ("house_number",)),
        Comparison("postal_code", EDIT_LEVELS, ("postal_code",), tf_levels=(2,)),
        Comparison("city", JW_LEVELS, ("city",), tf_levels=(3,)),
        Comparison("address_line2", JW_LEVELS, ("address_line2",), tf_levels=(3,)),
        Comparison("date_of_birth", BIRTH_LEVELS, ("date_of_birth",), tf_levels=(3,)),
        Comparison("national_id", EDIT_LEVELS, ("national_id",)),
        Comparison("person_id", ("different", "exact"), ("_person_key",)),
        Comparison("phone", ("different", "shared number"), ("phone_e164",), tf_levels=(1,)),
        Comparison(
            "email",
            ("different", "different personal addresses", "shared address"),
            ("email",),
            tf_levels=(2,),
        ),
        Comparison("contact", JW_LEVELS, ("contact_key",), tf_levels=(3,)),
        Comparison("cvr", ("different", "exact"), ("cvr",)),
        Comparison("ean", ("different", "exact"), ("ean",)),
    )
}

DANISH_COMPARISONS: Final = (
    "name",
    "first_name",
    "last_name",
    "address",
    "phone",
    "email",
    "contact",
    "cvr",
    "ean",
    "date_of_birth",
    "person_id",
)
"""The default set for a Danish customer frame: address as one comparison, because street, number
and postal code of a normalised Danish address are not independent evidence."""

PERSON_REGISTER_COMPARISONS: Final = (
    "first_name",
    "last_name",
    "street",
    "house_number",
    "address_line2",
    "postal_code",
    "city",
    "date_of_birth",
    "national_id",
    "person_id",
)
"""A set for person registers whose address parts are typed (and mistyped) independently (FEBRL)."""

_LIST_COLUMNS: Final = {"phone": "_phones", "email": "_emails"}


def evidence_comparison(field: str) -> Comparison:
    """The comparison of an evidence column a mapping names: ``evidence_<field>`` as text with
    Jaro-Winkler levels, its exact level term-frequency adjusted."""
    return Comparison(field, JW_LEVELS, (f"evidence_{field}",), tf_levels=(3,))


def _jaro_winkler() -> Any:
    return distance.JaroWinkler.normalized_similarity


class PairValues:
    """Values of both records of every pair, gathered once per column."""

    def __init__(self, records: pl.DataFrame, left: pl.Series, right: pl.Series) -> None:
        self.records = records
        self.left = left
        self.right = right
        self._cache: dict[tuple[str, str], pl.Series] = {}
        self.aligned_names: tuple[pl.Series, pl.Series, pl.Series, pl.Series] | None = None
        self.names_swapped: pl.Series | None = None
        # Jaro-Winkler of the aligned first names and of the aligned last names (null where
        # either side is), worked out while aligning them.
        self.aligned_similarity: tuple[pl.Series, pl.Series] | None = None

    def side(self, column: str, side: str) -> pl.Series:
        key = (column, side)
        if key not in self._cache:
            idx = self.left if side == "l" else self.right
            self._cache[key] = self.records.get_column(column).gather(idx)
        return self._cache[key]

    def both(self, column: str) -> tuple[pl.Series, pl.Series]:
        return self.side(column, "l"), self.side(column, "r")

    def some(self, column: str, at: pl.Series) -> tuple[pl.Series, pl.Series]:
        """Both records' values of the pairs at positions ``at`` alone (not kept): a list column
        that only a few pairs need whole."""
        values = self.records.get_column(column)
        return values.gather(self.left.gather(at)), values.gather(self.right.gather(at))

    def __len__(self) -> int:
        return self.left.len()


def similarity(
    a: pl.Series,
    b: pl.Series,
    scorer: Callable[..., Any],
    *,
    scale: float = 1.0,
    equal_score: float = 1.0,
) -> pl.Series:
    """Element-wise similarity in 0..1 of two aligned string series (null where either is null).

    Equal values score ``equal_score`` without calling the scorer (0 for a distance scorer); the
    rest go to one ``cpdist`` call, each distinct pair of values once.
    """
    return similarities(a, b, (scorer,), scale=scale, equal_score=equal_score)[0]


def similarities(
    a: pl.Series,
    b: pl.Series,
    scorers: tuple[Callable[..., Any], ...],
    *,
    scale: float = 1.0,
    equal_score: float = 1.0,
) -> list[pl.Series]:
    """:func:`similarity` under each of ``scorers``, the values told apart once for all of them.

    Candidate pairs repeat their values (postal codes, first names, a street against its
    neighbours), so each distinct pair of differing values goes to ``cpdist`` once.
    """
    both = (a.is_not_null() & b.is_not_null()).fill_null(False)
    differ = (both & (a != b)).fill_null(False)
    out = []
    computed: list[np.ndarray] = []
    if differ.any():
        pairs = pl.DataFrame({"a": a.filter(differ), "b": b.filter(differ)})
        # One group per distinct pair of values, with the positions of the pairs holding it: the
        # scores go back to those positions without joining the pairs' text again.
        distinct = pairs.with_row_index("_at").group_by("a", "b").agg("_at")
        values = distinct["a"].to_list(), distinct["b"].to_list()
        positions = distinct["_at"].explode().to_numpy()
        repeats = distinct["_at"].list.len().to_numpy()
        for scorer in scorers:
            scored = process.cpdist(*values, scorer=scorer, workers=-1, dtype=np.float32)
            per_pair = np.empty(pairs.height, dtype=np.float32)
            per_pair[positions] = np.repeat(scored, repeats)
            computed.append(per_pair)
    for i in range(len(scorers)):
        scores = np.full(a.len(), equal_score, dtype=np.float32)
        if computed:
            scores[differ.to_numpy()] = computed[i] / scale
        out.append(pl.select(pl.when(both).then(pl.Series("similarity", scores))).to_series())
    return out


def _edit_distance(a: pl.Series, b: pl.Series) -> pl.Series:
    return similarity(a, b, distance.DamerauLevenshtein.distance, equal_score=0.0)


def _banded(sim: pl.Series, exact: pl.Series, bands: tuple[float, ...]) -> pl.Series:
    """Levels from a similarity: top for exact, then one level per band (highest first), 0 else."""
    top = len(bands) + 1
    expr = pl.when(sim.is_null()).then(NULL_LEVEL).when(exact).then(top)
    for i, band in enumerate(bands):
        expr = expr.when(sim >= band).then(top - 1 - i)
    return pl.select(expr.otherwise(0).cast(pl.Int8)).to_series()


# Jaro-Winkler similarity bands of the levels below exact: alike, somewhat alike.
JW_BANDS: Final = (0.92, 0.80)


def _jw_levels(a: pl.Series, b: pl.Series) -> pl.Series:
    return _banded(similarity(a, b, _jaro_winkler()), (a == b).fill_null(False), JW_BANDS)


def _edit_levels(a: pl.Series, b: pl.Series) -> pl.Series:
    dist = _edit_distance(a, b)
    expr = (
        pl.when(dist.is_null())
        .then(NULL_LEVEL)
        .when(dist == 0)
        .then(2)
        .when(dist <= 1)
        .then(1)
        .otherwise(0)
    )
    return pl.select(expr.cast(pl.Int8)).to_series()


def _birth_levels(a: pl.Series, b: pl.Series) -> pl.Series:
    """:data:`BIRTH_LEVELS` of two dates of birth (ISO ``1956-04-09``, or ``19560409``): the
    edit levels, and below them two of year, month and day the same, or day and month swapped
    in one year (``04/09`` read one way on one record, the other way on the other)."""
    edit = _edit_levels(a, b)

    def parts(dates: pl.Series) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
        digits = pl.lit(dates).str.replace_all(r"\D", "")
        digits = pl.when(digits.str.len_chars() == 8).then(digits)
        return digits.str.slice(0, 4), digits.str.slice(4, 2), digits.str.slice(6, 2)

    (year_a, month_a, day_a), (year_b, month_b, day_b) = parts(a), parts(b)
    same = [(x == y).fill_null(False).cast(pl.Int8) for x, y in
            ((year_a, year_b), (month_a, month_b), (day_a, day_b))]  # fmt: skip
    swapped = (year_a == year_b) & (month_a == day_b) & (day_a == month_b)
    partial = (pl.sum_horizontal(same) >= 2) | swapped.fill_null(False)
    expr = pl.when(pl.lit(edit) >= 1).then(pl.lit(edit) + 1).when(partial).then(1)
    return pl.select(expr.otherwise(pl.lit(edit)).cast(pl.Int8)).to_series()


def _birth_date(pv: PairValues, comparison: Comparison) -> ComparisonOutput:
    a, b = pv.both("date_of_birth")
    level = _birth_levels(a, b)
    return level, _tf_value(a, level, comparison)


def _tf_value(values: pl.Series, level: pl.Series, comparison: Comparison) -> pl.Series:
    """The value whose frequency adjusts the weight, where the level is a tf level."""
    hit = level.is_in(list(comparison.tf_levels))
    return pl.select(pl.when(hit).then(values)).to_series()


ComparisonOutput = tuple[pl.Series, pl.Series | None]


def _name_similarity(a: pl.Series, b: pl.Series) -> pl.Series:
    # Plain ratio catches a typo in a first letter, which reorders sorted tokens ("sol byg" /
    # "sol tyg"); token sort catches reordered words; one name containing the other ("hansen
    # byg" / "hansen byg og anlæg") is a weaker agreement.
    plain, token_sort, token_set = similarities(
        a, b, (fuzz.ratio, fuzz.token_sort_ratio, fuzz.token_set_ratio), scale=100.0
    )
    return pl.select(pl.max_horizontal(plain, token_sort, token_set * 0.9)).to_series()


def _registry_name_similarity(pv: PairValues) -> tuple[pl.Series, pl.Series]:
    """Per pair, the best similarity of one side's name to a name the registry knows for the
    other side's CVR (``_org_names``: current, secondary, former), and whether one is equal.

    ``sørensen tandklinik`` (no CVR, the old name) / ``kastanje tandklinik`` (CVR, renamed from
    ``sørensen tandklinik``) → 1.0 and equal. Null where neither side has registry names.
    """
    best = np.full(len(pv), np.nan, dtype=np.float32)
    equal = np.zeros(len(pv), dtype=bool)
    for names_side, other_side in (("l", "r"), ("r", "l")):
        names = pv.side("_org_names", names_side)
        other = pv.side("_org", other_side)
        has = ((names.list.len() > 0) & other.is_not_null()).fill_null(False)
        if not has.any():
            continue
        candidates = (
            pl.DataFrame({"pos": np.flatnonzero(has.to_numpy()), "name": names.filter(has)})
            .with_columns(other=other.filter(has))
            .explode("name")
        )
        scored = candidates.with_columns(
            sim=_name_similarity(candidates["name"], candidates["other"]),
            equal=candidates["name"] == candidates["other"],
        )
        per_pair = scored.group_by("pos").agg(pl.col("sim").max(), pl.col("equal").any())
        pos = per_pair["pos"].to_numpy()
        best[pos] = np.fmax(best[pos], per_pair["sim"].fill_null(np.nan).to_numpy())
        equal[pos] |= per_pair["equal"].fill_null(False).to_numpy()
    return pl.Series(best, nan_to_null=True), pl.Series(equal)


# Two names that share fewer words than this share a surname or a trade at most.
SHARED_WORDS: Final = 2


# The words that name a company of a group by what it does for the group: owning the others,
# their buildings, their money (keys: folded, lower case).
_GROUP_WORDS: Final = (
    "holding", "holdings", "ejendom", "ejendomme", "ejendomsselskab", "ejendomsselskabet",
    "invest", "investering", "investment", "investments", "kapital", "capital", "finans",
    "udlejning", "administration", "properties", "property",
)  # fmt: skip
_GROUP_WORD: Final = r"\b(?:" + "|".join(_GROUP_WORDS) + r")\b"


def _group_apart(a: pl.Series, b: pl.Series) -> pl.Series:
    """Whether two company name keys differ in their group words (:data:`_GROUP_WORDS`) and, those
    left out, in at most one letter: ``nielsen transport`` / ``nielsen transport holding``, not
    ``nordhavn ejendomme holding`` / ``nordhavn ejendome holding`` (a typo in the word itself)."""

    def group_words(names: pl.Series) -> pl.Series:
        return names.str.extract_all(_GROUP_WORD).list.sort().list.join(" ")

    def rest(names: pl.Series) -> pl.Series:
        return names.str.replace_all(_GROUP_WORD, "").str.replace_all(r"\s+", " ").str.strip_chars()

    edits = distance.DamerauLevenshtein.distance
    same_rest = similarity(rest(a), rest(b), edits, equal_score=0.0) <= 1
    return ((group_words(a) != group_words(b)) & same_rest).fill_null(False)


def _shares_most_words(a: pl.Series, b: pl.Series) -> pl.Series:
    """Whether two names share at least :data:`SHARED_WORDS` words and at least half the words of
    the shorter one: ``ymca rauner family`` / ``ymca of metropolitan chicago rauner`` (a site
    under its own name and under its organisation's), ``rachels learning center 1`` /
    ``rachels learning center north lawndale``; not ``hansen holding`` / ``hansen byg``."""
    words = [side.str.split(" ").list.unique() for side in (a, b)]
    frame = pl.DataFrame({"a": words[0], "b": words[1]})
    shared = pl.col("a").list.set_intersection("b").list.len()
    shorter = pl.min_horizontal(pl.col("a").list.len(), pl.col("b").list.len())
    return frame.select(
        ((shared >= SHARED_WORDS) & (2 * shared >= shorter)).fill_null(False)
    ).to_series()


# A word of one name is the other's (misspelt) when the two are at least this alike, or one edit
# apart.
SAME_WORD: Final = 0.75
_NAME_BANDS: Final = (0.92, 0.80)


def _words_apart(a: pl.Series, b: pl.Series) -> pl.Series:
    """Whether each of two aligned names has a word that is no word of the other, even misspelt
    (:data:`SAME_WORD`, or one edit), and the names are more than one edit apart:
    ``svendsen trading`` / ``svendsen holding``; not ``hansen byg`` / ``hansen byg og anlæg``
    (one name holds the other), ``midt el`` / ``midt al``, ``nordic cleaning`` / ``nordik
    claening`` or ``fyns vvs`` / ``fynsnvvs`` (a space typed as a letter).

    Worked out once per distinct pair of names: the alike pairs repeat them (a company's records
    against its namesake's), half of them at 200,000 generated records."""
    return _per_distinct_pair(a, b, _distinct_words_apart)


def _per_distinct_pair(
    a: pl.Series, b: pl.Series, compute: Callable[[pl.Series, pl.Series], pl.Series]
) -> pl.Series:
    """``compute(a, b)`` for two aligned series, called once for each distinct pair of values
    (a null one too) and the result put back at every position holding it."""
    distinct = pl.DataFrame({"a": a, "b": b}).with_row_index("_at").group_by("a", "b").agg("_at")
    values = compute(distinct["a"], distinct["b"])
    # Position i holds the distinct pair of group which[i].
    which = np.empty(a.len(), dtype=np.uint32)
    repeats = distinct["_at"].list.len().to_numpy()
    which[distinct["_at"].explode().to_numpy()] = np.repeat(
        np.arange(distinct.height, dtype=np.uint32), repeats
    )
    return values.gather(which)


def _distinct_words_apart(a: pl.Series, b: pl.Series) -> pl.Series:
    """:func:`_words_apart`, every pair of names worked out."""
    edits = distance.DamerauLevenshtein.distance
    typo = similarity(a, b, edits, equal_score=0.0) <= 1
    # The words of both names (an empty one, of a double space, is none), for the pairs of names
    # more than one edit apart that both have words.
    nonempty = pl.element().filter(pl.element() != "")
    words = pl.DataFrame(
        {"a": a.str.split(" ").list.eval(nonempty), "b": b.str.split(" ").list.eval(nonempty)}
    ).with_row_index("pair")
    words = words.filter(
        (~typo).fill_null(False) & (pl.col("a").list.len() > 0) & (pl.col("b").list.len() > 0)
    )
    if words.height == 0:
        return pl.Series(np.zeros(a.len(), dtype=bool))
    # Every word of one name against every word of the other, pair by pair: a few words each,
    # row by row the word matrix of each pair (a's words down, b's across).
    cross = words.explode("a").explode("b")
    same = _per_distinct_pair(cross["a"], cross["b"], _same_word).to_numpy()
    rows_a = words["a"].list.len().to_numpy().astype(np.int64)
    rows_b = words["b"].list.len().to_numpy().astype(np.int64)
    lacks_a = _lacks_a_word(same, rows_a, rows_b)
    lacks_b = _lacks_a_word(_transposed(same, rows_a, rows_b), rows_b, rows_a)
    apart = np.zeros(a.len(), dtype=bool)
    apart[words["pair"].to_numpy()[lacks_a & lacks_b]] = True
    return pl.Series(apart)


def _same_word(a: pl.Series, b: pl.Series) -> pl.Series:
    """Whether two words are one, even misspelt (:data:`SAME_WORD`, or one edit of the letters
    as typed: ``soen`` / ``sun`` is Søn / Sun)."""
    ratio = similarity(a, b, fuzz.ratio, scale=100.0)
    return (ratio >= SAME_WORD) | (_letter_edits(a, b) <= 1)


# The keys spell æ, ø and å with two letters (cleansing.names); a typo in one is one edit.
FOLDED_INITIALS: Final = tuple(DANISH_LETTERS.values())


def _one_letter_each(words: pl.Series) -> pl.Series:
    """``words`` with the keys' two-letter æ, ø and å as one letter each (not the same one)."""
    return words.str.replace_many({two: one for one, two in DANISH_LETTERS.items()})


def _like_lengths(
    a: pl.Series, b: pl.Series, *, shortest: int, longest: int | None = None
) -> pl.Series:
    """Whether two aligned keys are one letter apart in length at most, the shorter of them
    ``shortest`` to ``longest`` letters long: the pairs one typo can make of a word that long."""
    length_a, length_b = a.str.len_chars(), b.str.len_chars()
    shorter = pl.select(pl.min_horizontal(length_a, length_b)).to_series()
    fits = shorter >= shortest if longest is None else shorter.is_between(shortest, longest)
    return (fits & ((length_a - length_b).abs() <= 1)).fill_null(False)


def _letter_edits(a: pl.Series, b: pl.Series) -> pl.Series:
    """Damerau-Levenshtein edits between two aligned series of keys, æ, ø and å one letter each
    (:func:`_one_letter_each`): a typo in one of them is one edit."""
    return _edit_distance(_one_letter_each(a), _one_letter_each(b))


def _transposed(values: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Matrices of ``rows`` x ``columns`` values laid out row by row one after another, each
    transposed in place."""
    size = rows * columns
    start = np.repeat(np.cumsum(size) - size, size)
    at = np.arange(values.size) - start
    width, height = np.repeat(columns, size), np.repeat(rows, size)
    out = np.empty_like(values)
    out[start + (at % width) * height + at // width] = values
    return out


def _lacks_a_word(same: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Per matrix of ``rows`` x ``columns`` booleans (none of them empty, laid out row by row
    one after another in ``same``), whether one of its rows holds no true value."""
    width = np.repeat(columns, rows)
    row_any = np.logical_or.reduceat(same, np.cumsum(width) - width)
    return np.logical_or.reduceat(~row_any, np.cumsum(rows) - rows)


def _name(pv: PairValues, comparison: Comparison) -> ComparisonOutput:
    a, b = pv.both("_org")
    # Two persons compare first and last names instead; a person and a company (one customer
    # classified two ways), or a "person" whose name has no first and last name, compare their
    # whole names here.
    parts = [
        pv.side("first_name_key", side).is_not_null() | pv.side("last_name_key", side).is_not_null()
        for side in ("l", "r")
    ]
    persons = pv.side("_person", "l") & pv.side("_person", "r") & parts[0] & parts[1]
    # Their whole names are not scored at all: most candidate pairs are two persons.
    whole = ~persons.fill_null(False)
    sim = _name_similarity(_where(whole, a), _where(whole, b))
    exact = (a == b).fill_null(False)
    # A renamed company: its record with a CVR is compared under the registry's current name,
    # its duplicate without one may still carry a name it had before — evidence too.
    registry_sim, registry_equal = _registry_name_similarity(pv)
    sim = pl.select(pl.max_horizontal(sim, registry_sim)).to_series()
    sim = pl.select(pl.when(a.is_not_null() & b.is_not_null()).then(sim)).to_series()
    banded = _banded(sim, exact | registry_equal, _NAME_BANDS)
    level = pl.select(
        pl.when(persons).then(NULL_LEVEL).when(banded > 0).then(banded + 1).otherwise(banded)
    ).to_series()
    # Names alike as strings but each with a word the other lacks are two names that share one
    # (``svendsen trading`` / ``svendsen holding``: sister companies), not one name misspelt.
    alike = ((level == 2) & ~registry_equal).fill_null(False)
    if alike.any():
        apart = _words_apart(a.filter(alike), b.filter(alike))
        level = level.scatter(alike.arg_true().filter(apart), 0)
    # Only names that disagree outright are looked at word by word, and letter by letter: one
    # typo in a short name (``ravn`` / ``rvan``, four letters at least) is too much for the
    # similarity bands.
    different = (level == 0).fill_null(False)
    if different.any():
        la, lb = a.filter(different), b.filter(different)
        near = _like_lengths(la, lb, shortest=4)
        typo = pl.Series(np.zeros(la.len(), dtype=bool))
        if near.any():
            edits = _letter_edits(la.filter(near), lb.filter(near))
            typo = typo.scatter(near.arg_true().filter((edits <= 1).fill_null(False)), True)
        shares = _shares_most_words(la, lb) | typo
        level = level.scatter(different.arg_true().filter(shares), 1)
    # A holding or a property company beside the company it owns, or its sister, shares the
    # whole of its name and adds a word (``nielsen transport`` / ``nielsen transport holding``,
    # ``hansen og soen`` / ``hansen og soen ejendomme``): two legal entities, not a name typed two
    # ways.
    # So does a sister company named by its trade, its legal form written beside both names
    # (``Svaneholm A/S`` / ``Svaneholm Service ApS``), and a chain's shop named after its street
    # beside another one named after its own (``kvickly oestergade`` / ``kvickly soendergade``):
    # two branches.
    partial = ((level > 0) & (level < comparison.top) & ~registry_equal).fill_null(False)
    if partial.any():
        at = partial.arg_true()
        pa, pb = a.gather(at), b.gather(at)
        group = _group_apart(pa, pb) | _departments_apart(pa, pb) | _branches_apart(pv, at)
        group = group | _trade_added(pv, at, pa, pb)
        level = level.scatter(at.filter(group), 0)
    return level.cast(pl.Int8), _tf_value(a, level, comparison)


# Words a name may add that say where, or which part of one company, a record is: a street
# (``Netto Vestergade``) or a department. They are business words, but name no other company.
_SITE_WORD: Final = r"^(?:afd|afdeling|afdelingen)$|(?:gade|torv|plads|straede|vej|alle)$"


def _trade_added(pv: PairValues, at: pl.Series, a: pl.Series, b: pl.Series) -> pl.Series:
    """Whether two company name keys (of the pairs at ``at``) are one name and that name with a
    trade or business word added (``business_words.csv``), both records with a legal form:
    ``svaneholm`` / ``svaneholm service`` (``Svaneholm A/S`` / ``Svaneholm Service ApS``),
    ``guldsmed`` / ``guldsmed entreprise`` (``Guldsmed I/S`` / ``Guldsmed Entreprise A/S``),
    ``christensen service`` / ``christensen el service``: the company and its sister, which a
    family often runs from one address and one phone. A company typed by its name alone leaves
    its legal form out too, so not ``svaneholm`` / ``svaneholm service`` of ``Svaneholm`` /
    ``Svaneholm Service ApS``; nor a department or a site written after the name (``Hansen Byg
    ApS (Regnskab)``, ``Hansen Byg ApS Kreditorafdelingen``: :func:`with_remark`)."""
    forms_l, forms_r = pv.some("legal_form", at)
    names_l, names_r = pv.some("name", at)
    frame = pl.DataFrame({"a": a, "b": b, "name_l": names_l, "name_r": names_r})
    # Only the pairs of two companies, each with its form, have their names read.
    rows = (
        frame.with_row_index("row")
        .filter(forms_l.is_not_null() & forms_r.is_not_null())
        .filter(~with_remark(pl.col("name_l")) & ~with_remark(pl.col("name_r")))
    )
    added = pl.Series(np.zeros(a.len(), dtype=bool))
    if rows.height == 0:
        return added
    words_a = pl.col("a").str.split(" ").list.unique()
    words_b = pl.col("b").str.split(" ").list.unique()
    only_a, only_b = words_a.list.set_difference(words_b), words_b.list.set_difference(words_a)
    # The words the longer name adds, where the shorter one has no word of its own.
    extra = (
        pl.when(only_a.list.len() == 0)
        .then(only_b)
        .when(only_b.list.len() == 0)
        .then(only_a)
        .otherwise(pl.lit([], dtype=pl.List(pl.String())))
    )
    trade = pl.element().str.contains(
        word_list_pattern("business_words")
    ) & ~pl.element().str.contains(_SITE_WORD)
    found = rows.select(extra.list.eval(trade).list.any().fill_null(False)).to_series()
    return added.scatter(rows["row"].filter(found), True)


def _branches_apart(pv: PairValues, at: pl.Series) -> pl.Series:
    """Per pair at positions ``at``, whether each record's name holds its own street
    (``rema 1000 hovedgaden`` at Hovedgaden 29) and the two streets are two
    (:func:`_two_streets`): two shops of one chain, each named after the street it stands in —
    ``rema 1000 hovedgaden`` / ``rema 1000 noerregade``, ``kvickly oestergade`` / ``kvickly
    soendergade`` (one letter apart as words, two streets as the contract has them). Not a name
    whose street is not its record's (``netto vestergade`` billed at the head office), nor one
    street typed two ways (``kvickly oestergade`` at Østergade / ``kvickly oestergde`` at
    Østergde)."""
    names = pv.some("_org", at)
    streets = pv.some("street_key", at)

    def holds_street(name: pl.Series, street: pl.Series) -> pl.Series:
        # The name read as a street is (``Skt. Clemens Torv`` → ``st clemens torv``).
        named = pl.select(street_key(pl.lit(name))).to_series()
        return pl.select(
            (pl.lit(" ") + named + pl.lit(" "))
            .str.contains(pl.lit(" ") + street + pl.lit(" "), literal=True)
            .fill_null(False)
        ).to_series()

    own = holds_street(names[0], streets[0]) & holds_street(names[1], streets[1])
    if not own.any():
        return own
    rows = own.arg_true()
    countries = pv.some("country", at.gather(rows))
    two = _two_streets(streets[0].gather(rows), streets[1].gather(rows), *countries)
    return own.scatter(rows, two)


def _two_streets(
    a: pl.Series, b: pl.Series, country_a: pl.Series, country_b: pl.Series
) -> pl.Series:
    """Whether two street keys name two streets: more than one edit apart (``hovedgaden`` /
    ``noerregade``), or one edit apart with qualifiers neither holds the other's (``vestergade``
    / ``oestergade``, :func:`_street_parts`); not a typo that hides a qualifier (``vetsergade`` /
    ``vestergade``)."""
    closed_a, closed_b = (side.str.replace_all(" ", "", literal=True) for side in (a, b))
    edits = _edit_distance(closed_a, closed_b)
    parts = [
        _street_parts(side, country).str.extract_all(r"\S+")
        for side, country in ((a, country_a), (b, country_b))
    ]
    nested = pl.select(
        (parts[0].list.set_difference(parts[1]).list.len() == 0)
        | (parts[1].list.set_difference(parts[0]).list.len() == 0)
    ).to_series()
    return ((closed_a != closed_b) & ((edits > 1) | ~nested)).fill_null(False)


def _departments_apart(a: pl.Series, b: pl.Series) -> pl.Series:
    """Whether two public bodies' name keys (:func:`~datavask.cleansing.customer_type.public_key`)
    each hold a word the other lacks, even misspelt (:func:`_words_apart`): two departments of
    one authority, ``lyngby taarbaek kommune vej og park`` / ``lyngby taarbaek kommune
    skoleafdelingen``, or two of its institutions, ``vestre skole sfo`` / ``vestre skole
    kantine``. A municipality is one legal entity (one CVR number, one address and switchboard),
    and each department that buys is a customer of its own, invoiced at an EAN number of its own:
    the authority's name they share is no evidence they are one. Not ``aarhus kommune`` /
    ``aarhus kommune skoleafdelingen`` (the department typed by its municipality's name alone)
    nor ``lyngby taarbaek kommune skoleafdelingen`` / ``lyngby tarbaek kommune skoleafdelingn``.
    """
    both = pl.select(public_key(pl.lit(a)) & public_key(pl.lit(b))).to_series()
    apart = pl.Series(np.zeros(a.len(), dtype=bool))
    if both.any():
        words = _words_apart(a.filter(both), b.filter(both))
        apart = apart.scatter(both.arg_true().filter(words), True)
    return apart


def _aligned_person_names(pv: PairValues) -> tuple[pl.Series, pl.Series, pl.Series, pl.Series]:
    """First and last names of both sides, with the right side swapped where that fits better
    (worked out once per pair set: both name comparisons need it)."""
    if pv.aligned_names is None:
        pv.aligned_names = _align_person_names(pv)
    return pv.aligned_names


def _align_person_names(pv: PairValues) -> tuple[pl.Series, pl.Series, pl.Series, pl.Series]:
    fl, fr = pv.both("first_name_key")
    ll, lr = pv.both("last_name_key")
    jw = _jaro_winkler()
    first, last = similarity(fl, fr, jw), similarity(ll, lr, jw)
    first_swapped, last_swapped = similarity(fl, lr, jw), similarity(ll, fr, jw)
    straight = first.fill_null(0) + last.fill_null(0)
    swapped = first_swapped.fill_null(0) + last_swapped.fill_null(0)
    # A first name beside a surname made of it (Jens / Jensen, Hans / Hansen) is no swap: Jens
    # Hansen and Hans Jensen are two people, however alike the crossed pairs read.
    swap = (
        (swapped > straight + 0.05) & _same_patronymic(fl, lr) & _same_patronymic(ll, fr)
    ).fill_null(False)
    # The same words split another way ("jens peter" + "hansen" / "jens" + "peter hansen") or in
    # another order are the same name: the right side takes the left side's split.
    regrouped = _regrouped(fl, fr, ll, lr)
    pv.names_swapped = swap | regrouped
    first_r = pl.select(pl.when(regrouped).then(fl).when(swap).then(lr).otherwise(fr)).to_series()
    last_r = pl.select(pl.when(regrouped).then(ll).when(swap).then(fr).otherwise(lr)).to_series()
    # The aligned names' similarities are among the four just scored: a regrouped right side is
    # the left side's own name (equal, 1 where present), a swapped one the crossed pair's.
    equal = pl.lit(1.0, dtype=pl.Float32)
    pv.aligned_similarity = (
        pl.select(
            pl.when(regrouped)
            .then(pl.when(fl.is_not_null()).then(equal))
            .when(swap)
            .then(first_swapped)
            .otherwise(first)
        ).to_series(),
        pl.select(
            pl.when(regrouped)
            .then(pl.when(ll.is_not_null()).then(equal))
            .when(swap)
            .then(last_swapped)
            .otherwise(last)
        ).to_series(),
    )
    return fl, first_r, ll, last_r


def _same_patronymic(left: pl.Series, right: pl.Series) -> pl.Series:
    """Per pair, false where one name is a patronymic the other is not: one ends in ``-sen`` /
    ``-son`` and is two or more letters longer (Jensen / Jens; a typo in the ending, Jackson /
    Jacksn, is still one name). True where either is missing: that decides nothing."""
    ending = r"s[eo]n$"
    longer = (left.str.len_chars() - right.str.len_chars()).abs() >= 2
    differ = left.str.contains(ending) != right.str.contains(ending)
    return pl.select((~(differ & longer)).fill_null(True)).to_series()


def _aligned_similarity(pv: PairValues) -> tuple[pl.Series, pl.Series]:
    """Jaro-Winkler of the aligned first names and of the aligned last names
    (:func:`_aligned_person_names`)."""
    _aligned_person_names(pv)
    assert pv.aligned_similarity is not None
    return pv.aligned_similarity


def _regrouped(fl: pl.Series, fr: pl.Series, ll: pl.Series, lr: pl.Series) -> pl.Series:
    """Per pair, whether the two whole person names hold the same words though the name parts
    differ (``jens peter`` + ``hansen`` / ``jens`` + ``peter hansen``, or the words in another
    order).

    Words are sorted only for the pairs whose whole names are equally long: the same words make
    names of the same length, and most pairs (other people, one typo) differ in length."""
    frame = pl.DataFrame({"fl": fl, "fr": fr, "ll": ll, "lr": lr})
    whole_l, whole_r = _whole_name("fl", "ll"), _whole_name("fr", "lr")
    parts_differ = ~((pl.col("fl") == pl.col("fr")) & (pl.col("ll") == pl.col("lr")))
    alike = (parts_differ & (whole_l.str.len_chars() == whole_r.str.len_chars())).fill_null(False)
    maybe = frame.select(alike).to_series()
    regrouped = pl.Series(np.zeros(len(frame), dtype=bool))
    if maybe.any():
        words = frame.filter(maybe).select(
            (_sorted_words(whole_l) == _sorted_words(whole_r)).fill_null(False)
        )
        regrouped = regrouped.scatter(maybe.arg_true(), words.to_series())
    return regrouped


def _whole_name(first: str, last: str) -> pl.Expr:
    """A person's first and last name as one text (null without either)."""
    parts = pl.col(first), pl.col(last)
    joined = pl.concat_str(parts, separator=" ", ignore_nulls=True)
    return pl.when(parts[0].is_not_null() | parts[1].is_not_null()).then(joined)


def _sorted_words(name: pl.Expr) -> pl.Expr:
    return name.str.split(" ").list.sort().list.join(" ")


def _unswapped(pv: PairValues, values: pl.Series) -> pl.Series:
    """``values`` where the names were compared as written, null where they were swapped: "white"
    is a rare *first* name and "holly" a rare *surname*, so a swapped pair's agreeing values have
    no honest term frequency — it keeps its level's weight without the rarity bonus."""
    swapped = pv.names_swapped
    if swapped is None:
        return values
    return pl.select(pl.when(~swapped).then(values)).to_series()


def _only_persons(pv: PairValues, level: pl.Series) -> pl.Series:
    persons = pv.side("_person", "l") & pv.side("_person", "r")
    return pl.select(pl.when(persons).then(level).otherwise(NULL_LEVEL)).to_series()


# Two first names more edits apart than this are two names more often than one, however alike
# Jaro-Winkler finds them: the level FIRST_NAMES_APART, below the alike one (_ALIKE).
FIRST_NAME_EDITS: Final = 2
FIRST_NAMES_APART: Final = COMPARISONS["first_name"].levels.index(
    "jaro-winkler >= 0.80, 3 edits or more"
)
_ALIKE: Final = FIRST_NAMES_APART + 1


def _first_name(pv: PairValues, comparison: Comparison) -> ComparisonOutput:
    fl, fr, _, _ = _aligned_person_names(pv)
    sim = _aligned_similarity(pv)[0]
    # Only a pair whose first names are neither equal nor alike asks whether one is the other's
    # initial: the words are looked at for those alone.
    asks = ((sim < 0.92) & (fl != fr)).fill_null(False)
    initial = pl.Series(np.zeros(len(pv), dtype=bool))
    if asks.any():
        asked_l, asked_r = fl.filter(asks), fr.filter(asks)
        initial = initial.scatter(
            asks.arg_true(), _initial(asked_l, asked_r) | _nicknames(asked_l, asked_r)
        )
    top = comparison.top
    expr = (
        pl.when(sim.is_null())
        .then(NULL_LEVEL)
        .when((fl == fr).fill_null(False))
        .then(top)
        .when(sim >= 0.92)
        .then(top - 1)
        .when(initial)
        .then(top - 2)
        .when(sim >= 0.80)
        .then(_ALIKE)
        .otherwise(0)
    )
    level = pl.select(expr.cast(pl.Int8)).to_series()
    # Jaro-Winkler finds "alma" and "valdemar" somewhat alike (0.83), "steen" and "stephan" too
    # (0.85): two names more often than one misspelt, which the model weighs as a level of its
    # own and the household rule as two names (one the start of the other, "mette" /
    # "mettelise", stays alike). It finds "yda" and "yad" unlike (0.56): one typo in a name of
    # three or four letters (longer ones one edit apart it finds alike). Only those pairs are
    # counted letter by letter.
    short_typo = (level == 0) & _like_lengths(fl, fr, shortest=3, longest=4)
    loose = ((level == _ALIKE) | short_typo).fill_null(False)
    if loose.any():
        ll, lr = fl.filter(loose), fr.filter(loose)
        edits = _letter_edits(ll, lr)
        started = (
            pl.DataFrame({"l": ll, "r": lr})
            .select(
                pl.col("l").str.starts_with(pl.col("r")) | pl.col("r").str.starts_with(pl.col("l"))
            )
            .to_series()
        )
        was = level.filter(loose)
        far = pl.select((was == _ALIKE) & (edits > FIRST_NAME_EDITS) & ~started).to_series()
        typo = pl.select((was == 0) & (edits <= 1)).to_series()
        at = loose.arg_true()
        level = level.scatter(at.filter(far.fill_null(False)), FIRST_NAMES_APART)
        level = level.scatter(at.filter(typo.fill_null(False)), _ALIKE)
    # Two given names of their own are two people however few letters apart: ``christian`` /
    # ``christina`` (Jaro-Winkler 0.98), ``hans`` / ``hanne``, ``jan`` / ``janne``, a couple or
    # a brother and sister at one address. A typo is seldom a name (``christain``, ``hnas``):
    # those stay alike. Only the pairs the letters found alike are looked up.
    alike = level.is_in([FIRST_NAMES_APART, _ALIKE, top - 1]).fill_null(False)
    if alike.any():
        at = alike.arg_true()
        two = _two_given_names(fl.gather(at), fr.gather(at))
        level = level.scatter(at.filter(two), 0)
    # A couple and one of the two (``henrik og lone`` / ``lone``, or ``henrik``) are alike: the
    # household's account may have been entered under either, but the couple's name is no
    # evidence that it is this one of them.
    couple = (_couple(fl, fr) & (level != top)).fill_null(False)
    if couple.any():
        level = level.scatter(couple.arg_true(), _ALIKE)
    level = _only_persons(pv, level)
    # Jens Hansen jun. and Jens Hansen sen. are two given names, and at one address so are Jens
    # Hansen and Jens Hansen jun.: father and son, a household. Elsewhere a generation written on
    # one record only says nothing (an inventor's "Jr." on some of his patents).
    gen_l, gen_r = pv.both("_generation")
    address_l, address_r = pv.both("_address")
    generations = (
        (gen_l.fill_null("") != gen_r.fill_null(""))
        & ((gen_l.is_not_null() & gen_r.is_not_null()) | (address_l == address_r))
        & (level > 0)
    ).fill_null(False)
    if generations.any():
        level = level.scatter(generations.arg_true(), 0)
    return level, _unswapped(pv, _tf_value(fl, level, comparison))


# Bearers that make a given name common (the names of ``given_names_da.csv``): two names of one
# gender are two people only when both are, see :func:`_two_given_names`.
COMMON_GIVEN_NAME: Final = 5000


def _two_given_names(fl: pl.Series, fr: pl.Series) -> pl.Series:
    """Whether the first words of two first names are two Danish given names
    (:func:`~datavask.cleansing.names.given_name_genders`), not one name misspelt.

    A man's and a woman's name are two people, however few letters apart: ``christian`` /
    ``christina``, ``hans`` / ``hanne``, ``jan`` / ``janne``, ``carl`` / ``carla``. So are two
    names of one gender (or borne by both) that are both common (:data:`COMMON_GIVEN_NAME`)
    and neither the start of the other: ``karen`` / ``karin``, ``lars`` / ``lasse``. A rare name
    beside a common one of its gender is more often the common one misspelt (``maia`` /
    ``maria``, ``esma`` / ``emma``), and ``anne`` / ``annemarie`` or ``lis`` / ``lise`` may be one
    woman's name written short. One name spelt two ways is one (:func:`_spelling`:
    ``christian`` / ``kristian``, ``carl`` / ``karl``, ``mette`` / ``mete``), and so is a name
    beside its nickname (:func:`_nicknames`). A word that is no listed name (``christain``,
    ``hnas``) decides nothing.
    """
    names = _spelt_given_names()
    first = pl.DataFrame({"l": fl.str.split(" ").list.first(), "r": fr.str.split(" ").list.first()})
    pairs = first.join(names, left_on="l", right_on="name", how="left").join(
        names, left_on="r", right_on="name", how="left", suffix="_r"
    )  # a left join keeps the pairs' order
    started = pl.col("l").str.starts_with(pl.col("r")) | pl.col("r").str.starts_with(pl.col("l"))
    man_and_woman = (pl.col("gender") != pl.col("gender_r")).fill_null(False)
    common = (pl.col("bearers") >= COMMON_GIVEN_NAME) & (pl.col("bearers_r") >= COMMON_GIVEN_NAME)
    two = pairs.select(
        (
            pl.col("bearers").is_not_null()
            & pl.col("bearers_r").is_not_null()
            & (pl.col("spelling") != pl.col("spelling_r"))
            & (man_and_woman | (common & ~started))
        ).fill_null(False)
    ).to_series()
    if two.any():
        at = two.arg_true()
        nickname = _nicknames(fl.gather(at), fr.gather(at))
        two = two.scatter(at.filter(nickname), False)
    return two


@cache
def _spelt_given_names() -> pl.DataFrame:
    """:func:`~datavask.cleansing.names.given_name_genders` with each name's ``spelling``
    (:func:`_spelling`), worked out once for the few thousand names rather than per pair."""
    return given_name_genders().with_columns(spelling=_spelling(pl.col("name")))


# Letters Danes write two ways in one given name (``christian`` / ``kristian``, ``carl`` /
# ``karl``, ``michael`` / ``mikael``, ``stephan`` / ``stefan``, ``mathias`` / ``matias``),
# in this order.
_SPELLINGS: Final = (("ch", "k"), ("ck", "k"), ("ph", "f"), ("th", "t"), ("c", "k"), ("q", "k"),
                     ("w", "v"), ("z", "s"))  # fmt: skip
_DOUBLED: Final = tuple(f"{letter}{letter}" for letter in "bcdfghjklmnprstv")


def _spelling(name: pl.Expr) -> pl.Expr:
    """A folded given name with its letters written one way (:data:`_SPELLINGS`) and doubled
    consonants single: ``christian`` and ``kristian`` → ``kristian``; ``mette`` and ``mete`` →
    ``mete``; ``hanne`` → ``hane``, not ``hans``."""
    # one after another: ``replace_many`` may take ``c`` of ``ch`` first
    for spelt, written in _SPELLINGS:
        name = name.str.replace_all(spelt, written, literal=True)
    return name.str.replace_many(list(_DOUBLED), [d[0] for d in _DOUBLED])


def _initial(fl: pl.Series, fr: pl.Series) -> pl.Series:
    """Whether one first name is the other's initial (``j`` / ``jens``, ``j.`` / ``jens peter``)
    or both start with the same word."""
    first_l = fl.str.replace_all(".", "", literal=True).str.split(" ").list.first()
    first_r = fr.str.replace_all(".", "", literal=True).str.split(" ").list.first()

    def initial_of(initial: pl.Series, name: pl.Series) -> pl.Series:
        # Ø., Æ. and Å. are one letter each, two in a key (oe, ae, aa): Ø. Andreasen / Øjvind.
        letter = (initial.str.len_chars() == 1) | initial.is_in(FOLDED_INITIALS)
        return letter & (name.str.slice(0, initial.str.len_chars()) == initial)

    return (initial_of(first_l, fr) | initial_of(first_r, fl) | (first_l == first_r)).fill_null(
        False
    )


# A couple's first names, keyed: ``henrik og lone`` (``Henrik & Lone``, ``Henrik + Lone``),
# ``john and mary``.
_COUPLE_JOINER: Final = r" (?:og|and) "


def _couple(fl: pl.Series, fr: pl.Series) -> pl.Series:
    """Whether one side is a couple and the other is one of the two, or the two couples share a
    name: ``henrik og lone`` / ``lone``."""
    couples = (fl.str.contains(_COUPLE_JOINER) | fr.str.contains(_COUPLE_JOINER)).fill_null(False)
    shared = pl.Series(np.zeros(len(fl), dtype=bool))
    if couples.any():

        def given_names(first: pl.Series) -> pl.Series:
            return (
                first.str.replace_all(_COUPLE_JOINER, "|")
                .str.split("|")
                .list.eval(pl.element().str.split(" ").list.first().str.strip_chars("."))
            )

        at = couples.arg_true()
        left, right = given_names(fl.gather(at)), given_names(fr.gather(at))
        common = left.list.set_intersection(right).list.len() > 0
        shared = shared.scatter(at, common.fill_null(False))
    return shared


@cache
def _nickname_groups() -> pl.DataFrame:
    """Each given name of ``data/reference/given_name_nicknames.csv`` (and its Danish companion,
    ``given_name_nicknames_da.csv``) with the names it is a nickname of, and each name with
    itself: ``bill`` → ``william``, ``william`` → ``william``; ``sole``: the word is the name
    itself, or a nickname of that name alone (``peggy``, not ``tina``, which nine names have)."""
    # Written as the keys they are compared with are: folded (``søren`` → ``soeren``).
    table = pl.concat(
        [load_reference("given_name_nicknames"), load_reference("given_name_nicknames_da")]
    ).select(fold(pl.col("name")), fold(pl.col("nickname")))
    groups = pl.concat(
        [table.select(word="name", group="name"), table.select(word="nickname", group="name")]
    ).unique()
    return groups.with_columns(
        sole=(pl.col("word") == pl.col("group")) | (pl.col("group").n_unique().over("word") == 1)
    )


def _nicknames(fl: pl.Series, fr: pl.Series) -> pl.Series:
    """Whether the first words of two first names are a name and its nickname (``bill`` /
    ``william``, ``harry`` / ``henry``), or two nicknames of one name that neither is a nickname
    of any other name (``peggy`` / ``maggie``). ``tina`` and ``erna`` are both Ernestine's, but
    ``tina`` is also Christina's, Martina's and six more: two women of one household, not one."""
    first = pl.DataFrame(
        {
            "l": fl.str.split(" ").list.first().str.strip_chars("."),
            "r": fr.str.split(" ").list.first().str.strip_chars("."),
        }
    ).with_row_index("_pair")
    groups = _nickname_groups()
    left = first.select("_pair", "l").join(groups, left_on="l", right_on="word")
    right = first.select("_pair", "r").join(groups, left_on="r", right_on="word")
    shared = left.join(right, on=["_pair", "group"], suffix="_r").filter(
        (pl.col("l") == pl.col("group")) | (pl.col("r") == pl.col("group"))
        | (pl.col("sole") & pl.col("sole_r"))
    )  # fmt: skip
    found = shared["_pair"].unique().to_numpy()
    alike = np.zeros(len(fl), dtype=bool)
    alike[found] = True
    return pl.Series(alike)


def _last_name(pv: PairValues, comparison: Comparison) -> ComparisonOutput:
    _, _, ll, lr = _aligned_person_names(pv)
    level = _only_persons(
        pv, _banded(_aligned_similarity(pv)[1], (ll == lr).fill_null(False), JW_BANDS)
    )
    return level, _unswapped(pv, _tf_value(ll, level, comparison))


def _address(pv: PairValues, comparison: Comparison) -> ComparisonOutput:
    pl_, pr = pv.both("postal_code")
    ul, ur = pv.both("_unit")
    key_l, key_r = pv.both("_address")
    # A postal code one digit off (``3095`` / ``3059``) with the same street and number is the
    # same building mistyped, not another address.
    # The first digit is the region (``8000`` Aarhus / ``5000`` Odense both have a Vestergade 12),
    # so a changed first digit is another town — unless two digits only swapped places
    # (``3070`` / ``0370``, ``2316`` / ``3216``), which is a slip of the fingers.
    region_l, region_r = pv.both("_postal_region")
    sorted_l, sorted_r = pv.both("_postal_sorted")
    same_region = ((region_l == region_r) | (sorted_l == sorted_r).fill_null(False)).fill_null(
        False
    )
    # Most candidate pairs (found by their names) lie in other regions: only the rest need an
    # edit distance, and only pairs with close postal codes (or one side without one) a street
    # similarity (every level it decides asks for that).
    # But two codes whose own towns were typed beside them, and differ, are two towns
    # (``Nygade 1, 4700 Næstved`` / ``Nygade 1, 4760 Vordingborg``).
    town_l, town_r = pv.both("_typed_district")
    two_towns = (town_l != town_r).fill_null(False)
    postal_close = (
        (_edit_distance(*(_where(same_region, side) for side in (pl_, pr))) <= 1)
        & same_region
        & ~two_towns
    ).fill_null(False)
    # A postal code on one side only (an address abroad written without its code on one record)
    # neither confirms nor denies the town: street and number still count, short of a building.
    postal_open = postal_close | pl_.is_null() | pr.is_null()
    # Spaces typed into a street name ("Bayly P Lace") do not make it another street.
    closed_l, closed_r = pv.both("_street_closed")
    street_sim = similarity(
        _where(postal_open, closed_l), _where(postal_open, closed_r), _jaro_winkler()
    )
    # Alike letters are not one street where the names' qualifiers differ: ``Vestergade`` /
    # ``Østergade`` are one letter apart and two streets (see :func:`_other_street`).
    street_sim = pl.select(
        pl.when(_other_street(pv, postal_open)).then(0.0).otherwise(street_sim)
    ).to_series()
    number_l, number_r = pv.both("_number_lower")
    same_number = (number_l == number_r).fill_null(False)
    same_street_number = (closed_l == closed_r).fill_null(False) & same_number
    same_building = (key_l == key_r).fill_null(False) | (same_street_number & postal_close)
    same_postal = (pl_ == pr).fill_null(False)
    units_known = ul.is_not_null() & ur.is_not_null()
    units_unknown = ul.is_null() & ur.is_null()
    expr = (
        pl.when(key_l.is_null() | key_r.is_null())
        .then(NULL_LEVEL)
        .when(same_building & (units_unknown | (units_known & (ul == ur))))
        .then(6)
        .when(same_building & ~units_known)
        .then(5)
        .when(same_building)
        .then(4)
        .when(postal_open & (street_sim >= 0.92) & same_number)
        .then(3)
        .when(postal_open & (street_sim >= 0.92))
        .then(2)
        .when(same_postal)
        .then(1)
        .otherwise(0)
    )
    level = pl.select(expr.cast(pl.Int8)).to_series()
    # An address abroad without a four-digit postal code (an American ZIP on one record, none
    # on the next) is compared by its line as written, as the blocking's address rules pair it.
    loose_l, loose_r = pv.both("_postal_loose")
    loose = loose_l | loose_r
    unparsed = (key_l.is_null() | key_r.is_null() | loose).fill_null(True)
    if unparsed.any():
        # Only the pairs with an unparsed side need their address lines, gathered for them alone.
        at = unparsed.arg_true()
        text_level = _address_text_level(*pv.some("_address_text", at))
        # Two postal codes more than a typo apart beside two towns are two places, however alike
        # the lines: ``Skolvägen 4, 77097 Varberg`` is not ``Skolgatan 9, 59584 Stockholm``. (A
        # ZIP code alone says less: Chicago's childcare sites are one address under two.)
        city_l, city_r = pv.some("city", at)
        apart = (
            (_edit_distance(*pv.some("postal_code", at)) > 1)
            & (city_l.str.to_lowercase() != city_r.str.to_lowercase())
        ).fill_null(False)
        level = level.scatter(
            at,
            pl.select(pl.when(apart & (text_level > 0)).then(0).otherwise(text_level)).to_series(),
        )
    # Lines alike in two countries are two addresses: ``Flensborggade 3, 6400 Sønderborg`` is not
    # ``Flensburger Straße 3, 24937 Flensburg``.
    country_l, country_r = pv.both("country")
    abroad = ((country_l != country_r) & (level > 0)).fill_null(False)
    if abroad.any():
        level = level.scatter(abroad.arg_true(), 0)
    # Term frequencies count parsed addresses: an address line as written is not adjusted.
    return level, _tf_value(key_l, level, comparison)


def _other_street(pv: PairValues, at: pl.Series) -> pl.Series:
    """Per pair, whether two Danish street names differ in a qualifier (:data:`STREET_QUALIFIERS`)
    and so name two streets, however alike their letters; asked only where ``at`` holds.

    ``vestergade`` / ``oestergade``, ``vesterbro`` / ``oesterbro``, ``ny kongevej`` /
    ``gammel kongevej``: each names a part the other does not. ``noerregade`` /
    ``noerrebrogade``, ``st kongensgade`` / ``kongensgade``: one names a part more, three or
    more letters more. A typo that hides or makes a part is one edit, and is no other street:
    ``vetsergade`` (no ``vester`` left) / ``vestergade``, ``vesterbrgade`` / ``vesterbrogade``.
    """
    parts_l, parts_r = (_where(at, side) for side in pv.both("_street_parts"))
    differ = (parts_l != parts_r).fill_null(False)
    if not differ.any():
        return differ
    rows = differ.arg_true()
    words_l, words_r = (side.gather(rows).str.extract_all(r"\S+") for side in (parts_l, parts_r))
    nested = pl.select(
        (words_l.list.set_difference(words_r).list.len() == 0)
        | (words_r.list.set_difference(words_l).list.len() == 0)
    ).to_series()
    edits = _edit_distance(*pv.some("_street_closed", rows))
    typo = nested & (edits <= 1).fill_null(False)
    return differ.scatter(rows, ~typo)


def _where(keep: pl.Series, values: pl.Series) -> pl.Series:
    """``values`` where ``keep`` holds, else null: a similarity skips the pairs it need not
    score."""
    return pl.select(pl.when(keep).then(values)).to_series()


# Address lines, or their street words, this alike (Jaro-Winkler) are one street written two
# ways: "1718 s loomis blvd" / "1718 s loomis", "w ogden" / "w ogden avenue".
TEXT_STREET_ALIKE: Final = 0.85


def _address_text_level(a: pl.Series, b: pl.Series) -> pl.Series:
    """Address levels from the address lines as written, ``a`` against ``b`` (records whose
    address did not parse): equal lines exact (6); the same numbers and alike lines or street
    words (in any order: a parsed side reads ``vestergade 12``) same street and number (3); alike
    lines with other numbers same street (2); else different (0); missing (-1)."""
    words_a, words_b = (_street_words(side) for side in (a, b))
    lines_alike = (similarity(a, b, _jaro_winkler()) >= TEXT_STREET_ALIKE).fill_null(False)
    words_alike = (similarity(words_a, words_b, _jaro_winkler()) >= TEXT_STREET_ALIKE).fill_null(
        False
    )
    numbers_l = a.str.extract_all(r"\d+").list.join(" ")
    numbers_r = b.str.extract_all(r"\d+").list.join(" ")
    same_numbers = (numbers_l == numbers_r).fill_null(False) & (numbers_l != "")
    expr = (
        pl.when(a.is_null() | b.is_null())
        .then(NULL_LEVEL)
        .when((a == b).fill_null(False))
        .then(6)
        .when(same_numbers & (lines_alike | words_alike))
        .then(3)
        .when(lines_alike)
        .then(2)
        .otherwise(0)
    )
    return pl.select(expr.cast(pl.Int8)).to_series()


def _street_words(text: pl.Series) -> pl.Series:
    words = text.str.replace_all(r"\d+", " ").str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.select(pl.when(words != "").then(words)).to_series()


def _jw_field(column: str) -> Callable[[PairValues, Comparison], ComparisonOutput]:
    def compare(pv: PairValues, comparison: Comparison) -> ComparisonOutput:
        a, b = pv.both(column)
        level = _jw_levels(a, b)
        return level, _tf_value(a, level, comparison)

    return compare


def _edit_field(column: str) -> Callable[[PairValues, Comparison], ComparisonOutput]:
    def compare(pv: PairValues, comparison: Comparison) -> ComparisonOutput:
        a, b = pv.both(column)
        level = _edit_levels(a, b)
        return level, _tf_value(a, level, comparison)

    return compare


def _exact_field(column: str) -> Callable[[PairValues, Comparison], ComparisonOutput]:
    def compare(pv: PairValues, comparison: Comparison) -> ComparisonOutput:
        a, b = pv.both(column)
        expr = pl.when(a.is_null() | b.is_null()).then(NULL_LEVEL).when(a == b).then(1).otherwise(0)
        return pl.select(expr.cast(pl.Int8)).to_series(), None

    return compare


def _contact(pv: PairValues, comparison: Comparison) -> ComparisonOutput:
    """The contact persons of two organisations' records, first and last name each compared as a
    person's are, the better of the names as written and one side's turned round (``Hansen``,
    ``Jens``). A name that differs outright in either part is another person (``Jens Hansen`` /
    ``Mette Hansen``: a family firm's two contacts); a part one side lacks is no evidence
    (``Hansen`` / ``Jens Hansen``).

    A record without a contact against an organisation's with one compares its own person's
    name with the contact's: a private customer's row of a contact export, or a company's row
    that lost its company name, is that person, not the company's other contact."""
    fl, fr = (_contact_or_person(pv, "first", side) for side in ("l", "r"))
    ll, lr = (_contact_or_person(pv, "last", side) for side in ("l", "r"))
    straight = _contact_level(fl, fr, ll, lr)
    crossed = _contact_level(fl, lr, ll, fr)
    level = pl.select(pl.max_horizontal(straight, crossed).cast(pl.Int8)).to_series()
    a, _ = pv.both("contact_key")
    return level, _tf_value(a, level, comparison)


def _contact_or_person(pv: PairValues, part: str, side: str) -> pl.Series:
    """One side's contact name part; for a record without a contact facing one with a contact,
    its own person's name part (a person's, or a company's row that names a person and no
    company); null between two records without a contact: persons' names are compared as
    theirs."""
    other = "r" if side == "l" else "l"
    has_contact = [
        pv.side("_contact_first", s).is_not_null() | pv.side("_contact_last", s).is_not_null()
        for s in (side, other)
    ]
    facing = ~has_contact[0] & has_contact[1]
    own = pv.side(f"{part}_name_key", side)
    return pl.select(
        pl.when(facing).then(own).otherwise(pv.side(f"_contact_{part}", side))
    ).to_series()


def _contact_level(fl: pl.Series, fr: pl.Series, ll: pl.Series, lr: pl.Series) -> pl.Series:
    """:func:`_contact`'s level for one alignment of the name parts: 3 both known parts equal,
    2 alike, 1 an initial or barely alike, 0 a part different, -1 no part on both sides."""
    jw = _jaro_winkler()
    first = _banded(similarity(fl, fr, jw), (fl == fr).fill_null(False), JW_BANDS)
    initial = pl.Series(np.zeros(len(fl), dtype=bool))
    asks = (first <= 1).fill_null(False) & fl.is_not_null() & fr.is_not_null()
    if asks.any():
        initial = initial.scatter(asks.arg_true(), _initial(fl.filter(asks), fr.filter(asks)))
    first = pl.select(pl.when(initial).then(1).otherwise(first)).to_series()
    last = _banded(similarity(ll, lr, jw), (ll == lr).fill_null(False), JW_BANDS)
    known_first, known_last = first != NULL_LEVEL, last != NULL_LEVEL
    return pl.select(
        pl.when(~known_first & ~known_last)
        .then(NULL_LEVEL)
        .when((known_first & (first == 0)) | (known_last & (last == 0)))
        .then(0)
        .otherwise(
            pl.min_horizontal(
                pl.when(known_first).then(first).otherwise(3),
                pl.when(known_last).then(last).otherwise(3),
            )
        )
        .cast(pl.Int8)
    ).to_series()


def _house_number(pv: PairValues, comparison: Comparison) -> ComparisonOutput:
    a, b = pv.both("house_number")
    digits_a, digits_b = a.str.extract(r"(\d+)"), b.str.extract(r"(\d+)")
    expr = (
        pl.when(a.is_null() | b.is_null())
        .then(NULL_LEVEL)
        .when(a.str.to_lowercase() == b.str.to_lowercase())
        .then(2)
        .when(digits_a == digits_b)
        .then(1)
        .otherwise(0)
    )
    return pl.select(expr.cast(pl.Int8)).to_series(), None


def _shared(pv: PairValues, column: str) -> pl.Series:
    """The first value two list columns share, null when they share none or either is empty."""
    return _by_list_length(
        pv,
        column,
        lambda x, y: pl.when(x == y).then(x),
        lambda x, y: x.list.set_intersection(y).list.first(),
    )


def _by_list_length(
    pv: PairValues,
    column: str,
    single: Callable[[pl.Expr, pl.Expr], pl.Expr],
    general: Callable[[pl.Expr, pl.Expr], pl.Expr],
) -> pl.Series:
    """``general`` of both records' lists in ``column``, worked out as ``single`` of their first
    values where neither list holds more than one value — nearly every pair: set operations on
    lists cost far more than comparing two strings, and gathering a list column for every pair
    about ten times more than a string column, so the lists are gathered only for the other
    pairs (the first values and lengths come from :func:`_record_values`)."""
    first_l, first_r = pv.both(f"{column}_first")
    count_l, count_r = pv.both(f"{column}_count")
    simple = ((count_l <= 1) & (count_r <= 1)).fill_null(False)
    x, y = pl.col("a"), pl.col("b")
    out = pl.DataFrame({"a": first_l, "b": first_r}).select(single(x, y)).to_series()
    if not simple.all():
        at = (~simple).arg_true()
        lists_l, lists_r = pv.some(column, at)
        rest = pl.DataFrame({"a": lists_l, "b": lists_r}).select(general(x, y)).to_series()
        out = out.scatter(at, rest)
    return out


def _list_empty(pv: PairValues, column: str) -> pl.Series:
    count_l, count_r = pv.both(f"{column}_count")
    return (count_l == 0) | (count_r == 0)


def _phone(pv: PairValues, comparison: Comparison) -> ComparisonOutput:
    shared = _shared(pv, "_phones")
    expr = (
        pl.when(_list_empty(pv, "_phones"))
        .then(NULL_LEVEL)
        .when(shared.is_not_null())
        .then(1)
        .otherwise(0)
    )
    level = pl.select(expr.cast(pl.Int8)).to_series()
    typed_a, typed_b = pv.both("_phones_typed")
    mixed = (level == 0) & (typed_a != typed_b)
    if mixed.any():
        # Only these pairs need their whole lists.
        at = mixed.arg_true()
        a, b = pv.some("_phones", at)
        typed_at = typed_a.gather(at)
        read = pl.select(pl.when(typed_at).then(b).otherwise(a)).to_series()
        typed = pl.select(pl.when(typed_at).then(a).otherwise(b)).to_series()
        found = _typed_in_read(typed, read)
        level = level.scatter(at, pl.select(found.is_not_null().cast(pl.Int8) * 2 - 1).to_series())
        shared = shared.scatter(at, found)
    return level, shared


def _typed_in_read(typed: pl.Series, read: pl.Series) -> pl.Series:
    """Per pair of a record whose phone could not be read (``typed``: its digits as written,
    ``#2139381447``) and one whose number was (``read``: E.164): the read number whose digits end
    with the typed ones, else null. ``213/938-1447`` of one record and ``+12139381447`` of the
    other are one number; typed digits that end no read number say nothing either way: a number
    that could not be read is no different number."""
    pairs = pl.DataFrame({"typed": typed, "read": read}).with_row_index("pair")
    hits = (
        pairs.explode("typed")
        .explode("read")
        .filter(
            pl.col("read")
            .str.replace_all(r"\D", "")
            .str.ends_with(pl.col("typed").str.strip_prefix("#"))
        )
        .group_by("pair")
        .agg(pl.col("read").first())
    )
    return pairs.join(hits, on="pair", how="left", maintain_order="left").get_column("read_right")


def _email(pv: PairValues, comparison: Comparison) -> ComparisonOutput:
    shared = _shared(pv, "_emails")
    same_local = _by_list_length(
        pv,
        "_locals",
        lambda x, y: (x == y).fill_null(False),
        lambda x, y: x.list.set_intersection(y).list.len() > 0,
    )
    dl, dr = pv.both("_domain")
    expr = (
        pl.when(_list_empty(pv, "_emails"))
        .then(NULL_LEVEL)
        .when(shared.is_not_null())
        .then(2)
        .when(same_local | (dl == dr).fill_null(False))
        .then(NULL_LEVEL)
        .when(dl.is_null() & dr.is_null())
        .then(1)
        .otherwise(0)
    )
    return pl.select(expr.cast(pl.Int8)).to_series(), shared


_COMPARE: Final[dict[str, Callable[[PairValues, Comparison], ComparisonOutput]]] = {
    "name": _name,
    "first_name": _first_name,
    "last_name": _last_name,
    "address": _address,
    "street": _jw_field("street_key"),
    "house_number": _house_number,
    "postal_code": _edit_field("postal_code"),
    "city": _jw_field("city"),
    "address_line2": _jw_field("address_line2"),
    "date_of_birth": _birth_date,
    "national_id": _edit_field("national_id"),
    "person_id": _exact_field("_person_key"),
    "phone": _phone,
    "email": _email,
    "contact": _contact,
    "cvr": _exact_field("cvr"),
    "ean": _exact_field("ean"),
}


def available_comparisons(records: pl.DataFrame, names: tuple[str, ...]) -> tuple[Comparison, ...]:
    """The named comparisons whose columns hold at least one value in ``records`` (all of them
    when none does)."""
    chosen = []
    for name in names:
        comparison = COMPARISONS[name]
        columns = [_LIST_COLUMNS.get(name, c) for c in comparison.columns]
        counts = records.select(
            (pl.col(c).list.len() > 0).sum() if c in _LIST_COLUMNS.values() else pl.col(c).count()
            for c in columns
        ).row(0)
        if all(n > 0 for n in counts):
            chosen.append(comparison)
    # A frame with no comparable value at all still gets its (all "missing") comparisons, so the
    # output keeps its shape.
    return tuple(chosen) or tuple(COMPARISONS[name] for name in names)


# Pairs are compared at most this many at a time: the values of both records of every pair,
# gathered once per column, are held while a slice is compared — for all 5.8 million candidate
# pairs of a million generated records at once, that was 3 GB and the run's peak memory. As many
# slices as polars has threads are compared side by side (:func:`~.threads.in_order`), so this
# many pairs per thread are in memory at once: at 1M pairs a slice, two slices were ~1 GB of
# the match step's peak; at 250,000 the same CPU (200,000 generated rows: peak 0.95 -> 0.77 GB).
COMPARE_SLICE: Final = 250_000

# Fewer pairs than this are compared in one piece: not worth a thread of their own.
MIN_SLICE: Final = 50_000


def compare_pairs(
    records: pl.DataFrame,
    left: pl.Series,
    right: pl.Series,
    comparisons: tuple[Comparison, ...],
    *,
    with_tf_values: bool = True,
) -> pl.DataFrame:
    """Comparison levels (``lvl_<name>``) and, if asked, tf values (``tfv_<name>``) of each pair.

    Every level depends on its own pair alone, so the pairs are compared a slice at a time
    (:data:`COMPARE_SLICE`), a few side by side, and the slices' rows put together in order."""
    records = _record_values(records, comparisons)
    n = left.len()
    # Most of a slice's work runs on one core: a few slices side by side keep every core busy, so
    # fewer pairs than a slice holds are still cut in as many parts as there are threads, and
    # more in a multiple of them, of equal size: no thread is left with a last slice alone.
    threads = pl.thread_pool_size()
    pieces = threads * max(1, -(-n // (threads * COMPARE_SLICE)))
    size = max(-(-n // pieces), MIN_SLICE)
    if n <= size or not comparisons:
        return _compare_slice(records, left, right, comparisons, with_tf_values=with_tf_values)

    def compared(start: int) -> pl.DataFrame:
        return _compare_slice(
            records,
            left.slice(start, size),
            right.slice(start, size),
            comparisons,
            with_tf_values=with_tf_values,
        )

    return pl.concat(in_order(compared, range(0, n, size)), how="vertical")


def _record_values(records: pl.DataFrame, comparisons: tuple[Comparison, ...]) -> pl.DataFrame:
    """``records`` with the values the comparisons read of each record of a pair, worked out
    once per record for every slice of pairs rather than once per pair (a record is in six pairs
    on average at a million records; see :data:`_PER_RECORD`)."""
    added = [
        expr
        for comparison in comparisons
        if comparison.name in _PER_RECORD
        for expr in _PER_RECORD[comparison.name](records)
    ]
    return records.with_columns(added) if added else records


def _list_values(*columns: str) -> list[pl.Expr | pl.Series]:
    """Each list column's first value (``<column>_first``) and length (``<column>_count``): a
    pair's two lists gathered whole cost ten times two strings (see :func:`_by_list_length`)."""
    return [
        expr
        for column in columns
        for expr in (
            pl.col(column).list.first().alias(f"{column}_first"),
            pl.col(column).list.len().alias(f"{column}_count"),
        )
    ]


def _phone_values(records: pl.DataFrame) -> list[pl.Expr | pl.Series]:
    """:func:`_list_values` of the phones, and whether the first phone is one that could not be
    read (``_phones_typed``)."""
    typed = pl.col("_phones").list.first().str.starts_with("#").fill_null(False)
    return [*_list_values("_phones"), typed.alias("_phones_typed")]


def _address_values(records: pl.DataFrame) -> list[pl.Expr | pl.Series]:
    """What the address comparison asks of each record: the postal code's region (its first
    digit, ``_postal_region``) and characters in order (``_postal_sorted``), whether the address
    is a loose one abroad (``_postal_loose``, :func:`~.blocking.loose_postal_code`), the street
    without spaces (``_street_closed``) and the house number in lower case (``_number_lower``).
    The district its typed city confirms (``_typed_district``) is the prepared records'."""
    return [
        pl.col("postal_code").str.slice(0, 1).alias("_postal_region"),
        _sorted_characters(records.get_column("postal_code")).alias("_postal_sorted"),
        loose_postal_code(pl.col("country"), pl.col("postal_code")).alias("_postal_loose"),
        pl.col("street_key").str.replace_all(" ", "", literal=True).alias("_street_closed"),
        pl.col("house_number").str.to_lowercase().alias("_number_lower"),
        _street_parts(records.get_column("street_key"), records.get_column("country")).alias(
            "_street_parts"
        ),
    ]


STREET_QUALIFIERS: Final = {
    **dict.fromkeys(("vester", "vestre", "vest", "v"), "v"),
    **dict.fromkeys(("oester", "oestre", "oest", "oe"), "oe"),
    **dict.fromkeys(("noerre", "nordre", "nord", "nr"), "nr"),
    **dict.fromkeys(("soender", "soendre", "syd", "sdr"), "sdr"),
    **dict.fromkeys(("nye", "ny"), "ny"),
    **dict.fromkeys(("gammel", "gamle", "gl"), "gl"),
    **dict.fromkeys(("store", "sankt", "skt", "st"), "st"),
    **dict.fromkeys(("lille", "ll"), "ll"),
    **dict.fromkeys(("mellem", "mlm"), "mlm"),
    "bro": "bro",
}
"""The words that qualify the base of a Danish street name — a direction, new or old, big or
small, the ``bro`` of ``Vesterbrogade`` — as a street key may hold them (spelled out, shortened as
``street_abbreviations.csv`` shortens them: ``Vestre Allé`` → ``v alle``, folded), each with the
part it names. ``Vester`` and ``Vestre`` name one part, as the key already has them."""

# The qualifiers written together with the rest of a word (``Vestergade``, ``Nygade``,
# ``Storegade``, ``Vesterbro``); a short form (``v``, ``st``) is a word of its own, never the
# start of one (``Strandvej``). ``vest``, ``oest``, ``nord`` and ``syd`` (``Vestvej``) need three
# letters after them, so that a whole ``vester`` or ``nordre`` is not read as ``vest`` + ``er``.
_QUALIFIER_PREFIX: Final = (
    r"(^|\s)(?:(vester|vestre|oester|oestre|noerre|nordre|soender|soendre|nye|ny|gammel|store"
    r"|lille|mellem)(\p{L}{2,})|(vest|oest|nord|syd)(\p{L}{3,}))"
)
# ``bro`` right after a qualifier, before the base or ending the name: ``vester brogade``,
# ``oester bro``.
_QUALIFIER_BRO: Final = (
    r"(^|\s)(" + "|".join(w for w in STREET_QUALIFIERS if w != "bro") + r")\s+bro(\p{L}*)"
)
# A qualifier comes before the base it qualifies: a last word that reads like one is something
# else, as ``Dronning Olgas V.`` (``dr olgas v``) ends in a ``Vej``, not a ``Vester``.
_LAST_WORD_QUALIFIER: Final = r"\s(?:" + "|".join(STREET_QUALIFIERS) + r")$"


def _street_parts(street_keys: pl.Series, country: pl.Series) -> pl.Series:
    """The qualifiers of each Danish street key, in order and joined by spaces (``''`` for none;
    null abroad or without a street): ``vesterbrogade`` → ``bro v``, ``ny oestergade`` → ``ny oe``,
    ``gammel kongevej`` → ``gl``, ``vester gade`` and ``vestregade`` → ``v``, ``kirkevej`` and
    ``dr olgas v`` → ``''``.
    Worked out once per distinct street (tens of thousands in a million records)."""
    distinct = street_keys.drop_nulls().unique()
    split = (
        pl.select(fold(pl.lit(distinct)))
        .to_series()
        .str.replace(_LAST_WORD_QUALIFIER, "")
        .str.replace_all(_QUALIFIER_PREFIX, "${1}${2}${4} ${3}${5}")
        .str.replace_all(_QUALIFIER_BRO, "${1}${2} bro ${3}")
        .str.split(" ")
    )
    parts = pl.select(
        split.list.eval(pl.element().replace_strict(STREET_QUALIFIERS, default=None))
        .list.drop_nulls()
        .list.unique()
        .list.sort()
        .list.join(" ")
    ).to_series()
    danish = (country.is_null() | (country == "DK")).fill_null(True)
    return pl.select(
        pl.when(danish).then(street_keys.replace_strict(distinct, parts, default=None))
    ).to_series()


def _sorted_characters(values: pl.Series) -> pl.Series:
    """Each value's characters in order, worked out once per distinct value (a thousand postal
    codes rather than a million records)."""
    distinct = values.drop_nulls().unique()
    ordered = distinct.str.split("").list.sort().list.join("")
    return values.replace_strict(distinct, ordered, default=None)


_PER_RECORD: Final[dict[str, Callable[[pl.DataFrame], list[pl.Expr | pl.Series]]]] = {
    "phone": _phone_values,
    "email": lambda records: _list_values("_emails", "_locals"),
    "address": _address_values,
}


def _compare_slice(
    records: pl.DataFrame,
    left: pl.Series,
    right: pl.Series,
    comparisons: tuple[Comparison, ...],
    *,
    with_tf_values: bool,
) -> pl.DataFrame:
    pv = PairValues(records, left, right)
    columns: list[pl.Series] = []
    agreeing: dict[str, pl.Series] = {}
    for comparison in comparisons:
        compare = _COMPARE.get(comparison.name) or _jw_field(comparison.columns[0])
        level, tf_value = compare(pv, comparison)
        columns.append(level.alias(f"lvl_{comparison.name}"))
        if with_tf_values and comparison.tf_levels:
            values = (
                tf_value if tf_value is not None else pl.Series([None] * len(pv), dtype=pl.String)
            )
            agreeing[comparison.name] = values.cast(pl.String).alias(f"tfv_{comparison.name}")
            columns.append(agreeing[comparison.name])
    if with_tf_values and FULL_NAME in tf_counted(comparisons):
        # Both names agree as written: the whole name, as :func:`tf_source` writes it.
        parts = [agreeing["first_name"], agreeing["last_name"]]
        whole = pl.select(pl.concat_str(parts, separator="|")).to_series()
        columns.append(whole.alias(f"tfv_{FULL_NAME.name}"))
    return pl.DataFrame(columns) if columns else pl.DataFrame({"_n": range(len(pv))}).drop("_n")


FULL_NAME: Final = Comparison(
    "full_name", ("different", "exact"), ("first_name_key", "last_name_key"), tf_levels=(1,)
)
"""Not a comparison of its own: the whole person name whose frequency the term frequencies count
beside its parts, so that a pair agreeing on both first and last name is weighed by how common the
two are *together* (see :func:`~.fellegi_sunter.score_pairs`). Its value is ``first|last`` (a key
holds no ``|``)."""


def tf_counted(comparisons: tuple[Comparison, ...]) -> tuple[Comparison, ...]:
    """The comparisons whose values term frequencies count, and :data:`FULL_NAME` where both name
    parts are among them."""
    counted = tuple(c for c in comparisons if c.tf_levels)
    if {"first_name", "last_name"} <= {c.name for c in counted}:
        counted += (FULL_NAME,)
    return counted


def tf_source(comparison: Comparison) -> pl.Expr:
    """Per-record values whose frequencies the comparison's tf adjustment counts."""
    sources: dict[str, pl.Expr] = {
        "full_name": pl.concat_str(
            [pl.col("first_name_key"), pl.col("last_name_key")], separator="|"
        ),
        "name": pl.col("_org"),
        "first_name": pl.col("first_name_key"),
        "last_name": pl.col("last_name_key"),
        "address": pl.col("_address"),
        "street": pl.col("street_key"),
        "postal_code": pl.col("postal_code"),
        "city": pl.col("city"),
        "address_line2": pl.col("address_line2"),
        "date_of_birth": pl.col("date_of_birth"),
        "phone": pl.col("_phones"),
        "email": pl.col("_emails"),
        "contact": pl.col("contact_key"),
    }
    return sources.get(comparison.name, pl.col(comparison.columns[0]))
