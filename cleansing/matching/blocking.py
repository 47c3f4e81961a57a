"""Candidate pairs: which records are worth comparing at all.

Comparing every record with every other is n²/2 pairs (5·10¹¹ for a million customers), so the
matcher only compares records that share a *blocking key*. Each :class:`BlockingRule` is a polars
expression over the prepared record frame (see :mod:`datavask.cleansing.matching.prepare`):

- an equality rule pairs every two records with the same key value (``cvr`` ``"25313763"``,
  phone ``"+4533121212"``, postal code + name prefix ``"8000|hansje"``); a list-valued key (all
  phone numbers of a record) pairs records sharing any element;
- a sorted-neighbourhood rule (``window > 1``) sorts the records by the key and pairs each with the
  next ``window - 1`` records, which catches name typos that break every equality key.

A block larger than ``max_block_size`` (the switchboard number of a business centre shared by 400
tenants, the 600 records born "1600-01-01" in a historical register) does not produce its 80,000
pairs: it is split by each of the rule's finer keys (:func:`refinements`: the short name key, the
postal code, the date of birth) and the sub-blocks within the cap are compared — tenants of one
switchboard with the same name, people of one birth date with the same name. What no finer key
splits small enough is compared whole while the rule's :data:`WHOLE_BLOCK_PAIRS` last, smallest
block first (:func:`whole_blocks`: a chain's 300 shops of one name), and only what is left is
skipped and reported; its records still meet their real duplicates through the other rules. Before
those, a block whose records crowd into one place (:func:`block_crowding`: an inventor named on 220
patents, 80 of them in Kokubunji) is one customer written many times rather than namesakes spread
over the country, and is compared whole within :data:`CROWDED_BLOCK_PAIRS` of its own.

Keys that are evidence only while they are rare (an e-mail's local part, a phone number without
its last two digits, the numbers of an unparsed address line) have no finer keys: a block over the
cap pairs nothing. A word of a name has a cap of its own, :data:`RARE_BLOCK`: the word ``sadd``
pairs Harold Sadd with Henry Samuel Sadd, the word ``jensen`` pairs nobody.

Seven more rare keys (``RARE_BLOCK``) and one sorted pass come after every other rule and do not
train the model (``BlockingRule.train``): the numbers of any address line (``2334 75`` of 2334 E
75th St and of 2334 E 75th Street, parsed into two street keys), its first number with the
street's first word (``78|van`` of 78 W Van Buren Street and of 78 West Van Buren Floor 1), a
person's locality with each word of the name (``london|eleanor``), a mapping's evidence field
with each name word's skeleton (``new forest|gdrd``) and with the birthday (``dublin|-10-16``),
a person's locality with the birth year,
a last name's consonant skeleton with the first initial (``btlr|t`` of Thomas Buttler and of Tom
Butler), and the e-mail addresses sorted, neighbours nearly equal (a typo). They add the pairs
the other keys miss; the model is the one the other rules' pairs give, and scores them.

A file of at most :data:`EVERY_PAIR_BUDGET` record pairs (a thousand customers) is small enough
to compare every pair: the ``every_pair`` rule (:func:`every_pair_rule`) comes after the rare keys,
does not train, and makes the blocking recall 1.0 by construction. A pair only it found is shown
to a person at most (``_decision`` in :mod:`datavask.cleansing.matching`), never merged on its own.

- an ``identical`` rule (``star=True``) pairs each record with the first record identical to it
  on every column the matcher reads: a customer copied 60 times fills every block of its own past
  the cap, and this rule still pairs all copies, with one pair per copy rather than 1,770.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process

from datavask.cleansing.addresses import DANISH_REALM
from datavask.cleansing.matching.threads import in_order

PAIR_SCHEMA = {"_l": pl.UInt32, "_r": pl.UInt32, "blocking_rule": pl.String}


@dataclass(frozen=True, eq=False)
class BlockingRule:
    """A named key expression; ``window > 1`` makes it a sorted-neighbourhood pass.

    ``min_similarity`` (sorted neighbourhood only) keeps a pair of neighbours only when their keys
    are at least that alike (rapidfuzz ``ratio``, 0..1): ``hansen jens`` / ``hansen jenns`` stay,
    ``hansen jens`` / ``hansen karen`` — neighbours only because the list is sorted — go. Without
    it most neighbour pairs are strangers that the comparison step would only veto.

    ``uses`` names the comparisons whose fields the key is made of: pairs found by this rule agree
    on them by construction, so they cannot teach the model how often matches agree there.
    """

    name: str
    key: pl.Expr
    window: int = 0
    uses: tuple[str, ...] = ()
    min_similarity: float = 0.0
    star: bool = False  # pair each record with its block's first only; blocks are never capped
    # Finer keys for a block over the cap (equality rules only); None for :func:`refinements`.
    refine: tuple[pl.Expr, ...] | None = None
    # A cap of the rule's own below the matcher's (equality rules only): a key that is evidence
    # only while it is rare (a name word, a house number) pairs nothing once it is common.
    cap: int | None = None
    # Whether the rule's pairs are a training session of their own (see ``uses``). A rare-key rule
    # that only adds a few candidates the other rules missed, most of them strangers, teaches the
    # model nothing the other sessions do not, and skews what they learned (``train=False``).
    train: bool = True
    # Pairs every record with every other (:data:`EVERY_PAIR_BUDGET`): the key is one constant,
    # its single block is never capped, and its pairs are made by position rather than a join.
    every: bool = False
    # The records the key can hold a value for (``_person`` for a person's name keys); the key is
    # null for every other record. Only these are keyed: a key made of regexes and splits costs
    # as much for a record it leaves null as for one it keys, and most keys hold for few records.
    where: pl.Expr | None = None

    @property
    def trains(self) -> bool:
        """The rule's pairs are a training session: not a copy rule, not ``train=False``."""
        return self.train and not self.star


# Neighbours whose sort keys are less alike than this are not worth comparing: a name this far
# from another also fails the name comparison, and a pair that shares anything else (a phone, an
# address) is found by that key's rule.
NEIGHBOUR_SIMILARITY = 0.75

# Neighbouring e-mail addresses at least this alike are one address typed twice: a typo or two
# in twenty characters. At 0.75 the Danish generator's ``info@`` and ``kontakt@`` addresses of
# look-alike firms paired (+0.14 candidate pairs per record at 200k rows, no true pair).
EMAIL_SIMILARITY = 0.85

# The largest block of a key that is evidence only while it is rare (``BlockingRule.cap``): a
# name word ten records share still pairs a nickname with its full name (fake_1000: blocking
# recall 0.82 -> 0.92); at fifty the Danish generator's common words tripled its candidates.
RARE_BLOCK = 10

# A file with at most this many record pairs compares every pair (the ``every_pair`` rule, which
# does not train): blocking exists to avoid n² comparisons, and below this n² costs little. Every
# pair costs about 8 s of CPU and 0.35 GB per million pairs through ``datavask cleanse`` (Chicago's
# 3,337 records, 5.6 million pairs: 46 s CPU and 2.2 GB against 2.4 s and 0.23 GB blocked;
# bench/README "Every pair of a small file"), so the budget bounds the cost, not the file: a
# thousand records (499,500 pairs) are compared in full, 1,414 at most, and a larger file is
# blocked as before. The same for every file; it was not tuned to a data set's scores.
EVERY_PAIR_BUDGET = 1_000_000

# Pairs per rule that blocks over the cap may add, compared whole, the smallest block first
# (:func:`whole_blocks`). Split by finer keys alone, PatentsView's 221 mentions of Hiroyuki Mizuno
# (one inventor at several employers) were compared only within a city, and his clusters followed
# his cities (F1 0.9834; 0.9898 with this budget, bench/README). The budget bounds the cost
# whatever the data: on a million generated Danish rows, whose blocks over the cap are namesakes,
# it adds 585,000 candidate pairs (+10 %), about 1.6 s of matching and 0.2 GB of peak, and the
# same F1 (0.9935).
WHOLE_BLOCK_PAIRS = 600_000

# A block over the cap whose records crowd into one place — at least this share of its pairs have
# one postal code (the city where there is none), :func:`block_crowding` — is one customer written
# many times rather than namesakes, and is compared whole before any other, within
# :data:`CROWDED_BLOCK_PAIRS` pairs per rule of its own. Namesakes spread over the country: on a
# million generated Danish rows no block over the cap reaches 0.02. One inventor's mentions
# crowd: each of PatentsView's blocks over the cap reaches 0.10 (Hiroyuki Mizuno's 221 mentions,
# 80 of them in Kokubunji), and split by city alone they were compared within a city, 38 % of
# their pairs never (blocking recall 0.6157). A block of one town's namesakes in a regional file
# crowds too, and is worth comparing whole: its addresses tell them apart.
CROWDED = 0.05
CROWDED_BLOCK_PAIRS = 2_000_000

NAME_USES = ("name", "first_name", "last_name")
ADDRESS_USES = ("address", "street", "house_number", "postal_code", "city")


@dataclass(frozen=True)
class Candidates:
    """What blocking produced (see :func:`candidate_pairs`)."""

    pairs: pl.DataFrame
    report: pl.DataFrame
    oversized: pl.DataFrame
    by_rule: pl.DataFrame


def _blank(text: pl.Expr) -> pl.Expr:
    """The text trimmed, null where empty."""
    text = text.str.strip_chars()
    return pl.when(text.str.len_chars() > 0).then(text)


def _prefix(column: str, length: int) -> pl.Expr:
    return pl.col(column).str.replace_all(" ", "", literal=True).str.slice(0, length)


def name_block_key() -> pl.Expr:
    """A short name key: ``hansje`` for Jens Hansen (4 of the surname + 2 of the first name),
    ``hansen`` for Hansen Byg ApS (the first 6 letters of the name without legal form)."""
    person = pl.concat_str(
        _prefix("last_name_key", 4), _prefix("first_name_key", 2).fill_null(""), ignore_nulls=False
    )
    return pl.when(pl.col("_person")).then(person).otherwise(_prefix("_org", 6))


def name_sort_key() -> pl.Expr:
    """Full name for sorting: ``hansen jens`` for a person, ``hansen byg`` for a company."""
    person = pl.concat_str(
        pl.col("last_name_key"), pl.col("first_name_key").fill_null(""), separator=" "
    )
    return pl.when(pl.col("_person")).then(person).otherwise(pl.col("_org"))


def unordered_name_key() -> pl.Expr:
    """A person's two name parts in alphabetical order: ``hansen jens`` for Jens Hansen and for
    Hansen Jens (first and last name typed into each other's fields); null for organisations."""
    first, last = pl.col("first_name_key"), pl.col("last_name_key")
    low = pl.min_horizontal(first, last)
    high = pl.max_horizontal(first, last)
    key = pl.concat_str(low, high, separator=" ", ignore_nulls=False)
    return pl.when(pl.col("_person")).then(key)


def _joined(*columns: str) -> pl.Expr:
    return _joined_expr(*(pl.col(c) for c in columns))


def _joined_expr(*keys: pl.Expr) -> pl.Expr:
    return pl.concat_str(keys, separator="|", ignore_nulls=False)


# Columns copies of one record may differ in: its id, its place in the file and when it was last
# edited; the rest (the matcher's columns) must be equal for two records to be "identical".
_NOT_COMPARED = ("record_id", "source_row", "source", "updated_at", "_idx", "_row")


def identical_key() -> pl.Expr:
    """A hash of every column the matcher reads (its ``_`` columns are derived from them):
    equal for copies of one record."""
    return pl.struct(pl.exclude(*_NOT_COMPARED).exclude("^_.*$")).hash(seed=0)


# The prepared frame's column holding :func:`identical_key`: hashed once, where blocking, the
# copies and the first pass's term frequencies each hashed every record again.
IDENTICAL = "_identical"


def refinements() -> tuple[pl.Expr, ...]:
    """The keys an oversized block is split by, each on its own: the short name key (``hansje``),
    the postal code (the city as written, folded, where there is none), the date of birth. A key
    the rule already holds splits nothing and costs one group-by."""
    return (name_block_key(), _postal_code_or_city(), pl.col("date_of_birth"))


# The column of a keyed record's place (``refine_1``: :func:`_postal_code_or_city` of
# :func:`refinements`), which :func:`block_crowding` reads.
PLACE = "refine_1"


def _postal_code_or_city() -> pl.Expr:
    """The postal code, else the city folded (``kokubunji``): a record abroad written with a city
    and no postal code still has a place that splits a name block. PatentsView's 221 mentions of
    Hiroyuki Mizuno fill one name block past the cap; split by city, the 80 of them in Kokubunji
    are compared."""
    return pl.coalesce(pl.col("postal_code"), _folded_city())


def _folded_city() -> pl.Expr:
    """The city as written, folded (``kingston-upon-hull``); null without one."""
    return _blank(pl.col("city").str.to_lowercase().str.replace_all(r"\s+", " "))


def postal_district() -> pl.Expr:
    """The outward code of a postal code written in two parts (``SE1`` of ``SE1 8XZ``, ``1012``
    of ``1012 AB``); null for one-part codes such as Danish ``8000``, which the postal code rules
    already cover."""
    code = pl.col("postal_code").str.strip_chars()
    return pl.when(code.str.contains(" ", literal=True)).then(code.str.split(" ").list.first())


def loose_postal_code(country: pl.Expr, postal_code: pl.Expr) -> pl.Expr:
    """Whether an address abroad has no postal code of four digits to pin its street to (an
    American ``3901 S State St`` with its ZIP on one record and none on the next): the address
    rule may miss its building, so its line as written is blocked and compared as well. Danish
    addresses (:data:`~datavask.cleansing.addresses.DANISH_REALM`) are never loose."""
    four_digits = postal_code.str.contains(r"^\d{4}$").fill_null(False)
    abroad = country.is_null() | ~country.is_in(DANISH_REALM)
    return (abroad & ~four_digits).fill_null(False)


def _loose_address() -> pl.Expr:
    """Whether the address rule may miss a record's building: its line did not parse into street
    and number, or it is a loose address abroad (:func:`loose_postal_code`)."""
    return pl.col("_address").is_null() | loose_postal_code(
        pl.col("country"), pl.col("postal_code")
    )


def address_sort_key() -> pl.Expr:
    """The address line with its numbers first: ``1718 s loomis blvd`` and ``1718 s loomis``
    sort next to each other, and so do ``12 2 vestergade tv`` and ``12 2 vestergde tv``."""
    text = pl.col("_address_text")
    numbers = text.str.extract_all(r"\d+").list.join(" ")
    words = text.str.replace_all(r"\d+", "").str.replace_all(r"\s+", " ").str.strip_chars()
    key = pl.concat_str(numbers, words, separator=" ").str.strip_chars()
    return pl.when(_loose_address()).then(key)


def name_words() -> pl.Expr:
    """The first two words of the name without legal form: ``albany park`` of Albany Park Comm
    Ctr and of Albany Park Community Center; a person's whole name."""
    return pl.col("_org").str.split(" ").list.slice(0, 2).list.join(" ")


def name_tokens() -> pl.Expr:
    """Every word of two letters or more of the name without legal form: ``sadd`` of Henry Samuel
    Sadd and of Harold Sadd, ``freya`` of Freya Shah and of a record holding only "Freya". A
    common word (``jensen``, ``byg``) fills a block past the cap and pairs nothing; a rare one
    pairs the records a nickname, a missing name part or a swapped field keeps apart."""
    words = pl.col("_org").str.split(" ")
    return words.list.eval(pl.element().filter(pl.element().str.len_chars() >= 2))


def phone_series() -> pl.Expr:
    """Each phone number without its last two digits: the extensions of one switchboard
    (``#85071`` of 8507176 and 8507490, a college's main line and its day-care centre)."""
    return pl.col("_phones").list.eval(pl.element().str.slice(0, pl.element().str.len_chars() - 2))


def address_numbers() -> pl.Expr:
    """The numbers of an address line that did not parse into street, number and postal code
    (``4540`` of 4540 N Campbell and of 4540 N Hamlin,
    ``2950 25`` of 2950 W 25th Street): one site however its street is written. A house number
    shared by thousands (``12`` in a national file) fills a block past the cap and pairs
    nothing."""
    numbers = pl.col("_address_text").str.extract_all(r"\d+").list.join(" ")
    return pl.when(_loose_address() & (numbers.str.len_chars() > 0)).then(numbers)


def address_line_numbers() -> pl.Expr:
    """The numbers of every address line, parsed or not (``2334 75`` of 2334 E 75th Street and of
    2334 E 75th St, whose street keys came out of normalising as two streets): a key only while
    rare (``RARE_BLOCK``), since a house number and a floor (``12 2``) are shared by thousands in a
    national file."""
    numbers = pl.col("_address_text").str.extract_all(r"\d+").list.join(" ")
    return pl.when(numbers.str.len_chars() > 0).then(numbers)


# A compass word between a house number and its street ("1020 W Bryn Mawr", "744 North
# Monticello"), written one way or the other on two records of one site.
_DIRECTION = r"(?:n|s|e|w|ne|nw|se|sw|north|south|east|west)"


def number_street_word() -> pl.Expr:
    """An address line's first number and the first word of three letters or more after it,
    past a compass word: ``78|van`` of 78 W Van Buren Street and of 78 West Van Buren Floor 1,
    whose other numbers (a floor, a suite) differ. Null for a line that does not start with its
    number (``vestergade 12``: the address rules' case). A key only while rare (``RARE_BLOCK``)."""
    text = pl.col("_address_text")
    number = text.str.extract(r"^(\d+)\b")
    word = text.str.extract(rf"^\d+\s+(?:{_DIRECTION}\s+)?([^\d\s]{{3,}})")
    return pl.concat_str(number, word, separator="|")


def locality() -> pl.Expr:
    """Where a record lives, as finely as its fields say: the district of a two-part postal code
    (``SE1``), else the postal code (``8000``), else the city as written, folded (``london``,
    ``kingston-upon-hull``); null without any."""
    return pl.coalesce(postal_district(), _blank(pl.col("postal_code")), _folded_city())


def locality_words() -> pl.Expr:
    """A person's locality with each word of the name: ``london|eleanor`` and
    ``london|richards`` of Eleanor Richards in London, so that a record holding only "Eleanor"
    in London meets her. A word common in its locality (``8000|jensen``) fills a block past the
    cap (``RARE_BLOCK``) and pairs nothing."""
    place = locality()
    words = name_tokens()
    joined = pl.concat_str(place, pl.lit("|"), words.list.join(pl.lit("\x1f") + place + "|"))
    return pl.when(pl.col("_person") & (words.list.len() > 0)).then(joined.str.split("\x1f"))


_VOWELS = r"[aeiouyhwæøåäöüéèêáàíóúâ]"
_DOUBLED = [c * 2 for c in "bcdfgjklmnpqrstvxz"]
_SINGLE = list("bcdfgjklmnpqrstvxz")


def consonant_skeleton(key: pl.Expr) -> pl.Expr:
    """A name's first letter and its consonants, vowels dropped and doubled letters written once:
    ``btlr`` of Butler and of Buttler, ``obrn`` of O'Brian and of O'Brien, ``hys`` of Hayes and of
    Heyes — the spelling variants a transliteration or a clerk makes."""
    letters = key.str.replace_all(r"[^\p{L}]", "")
    rest = letters.str.slice(1).str.replace_all(_VOWELS, "")
    rest = rest.str.replace_many(_DOUBLED, _SINGLE).str.replace_many(_DOUBLED, _SINGLE)
    return _blank(pl.concat_str(letters.str.slice(0, 1), rest))


def last_name_sound() -> pl.Expr:
    """A person's last name skeleton (:func:`consonant_skeleton`) and first initial: ``btlr|t``
    of Thomas Buttler and of Tom Butler."""
    first = pl.col("first_name_key").str.replace_all(r"[^\p{L}]", "").str.slice(0, 1)
    key = pl.concat_str(consonant_skeleton(pl.col("last_name_key")), _blank(first), separator="|")
    return pl.when(pl.col("_person")).then(key)


# An evidence field two random records share more often than this (an occupation: "politician",
# "cricketer"; a gender) is too coarse to pair with a first name or a birth year: such blocks hold
# thousands of strangers per true pair. It still pairs with the last name and the other fields.
COARSE_AGREEMENT = 0.02


def coarse_evidence(records: pl.DataFrame, fields: tuple[str, ...]) -> frozenset[str]:
    """The evidence fields whose values two random records share with probability (Σ share²)
    above :data:`COARSE_AGREEMENT`: ``occupation`` (0.039 on historical_50k), not
    ``birth_place`` (0.005)."""
    return coarse_fields([evidence_counts(records, fields)])


def evidence_counts(records: pl.DataFrame, fields: tuple[str, ...]) -> dict[str, pl.DataFrame]:
    """Per evidence field, each value (``value``) and how many records hold it (``count``)."""
    return {
        name: records.get_column(f"evidence_{name}")
        .drop_nulls()
        .alias("value")
        .value_counts(name="count")
        for name in fields
    }


def coarse_fields(counts: list[dict[str, pl.DataFrame]]) -> frozenset[str]:
    """:func:`coarse_evidence` from the :func:`evidence_counts` of the pieces of a record frame."""
    coarse = set()
    for name in counts[0] if counts else ():
        merged = pl.concat([c[name] for c in counts]).group_by("value").agg(pl.col("count").sum())
        total = int(merged["count"].sum() or 0)
        if total == 0:
            continue
        shares = merged["count"] / total
        if float((shares**2).sum()) > COARSE_AGREEMENT:
            coarse.add(name)
    return frozenset(coarse)


def evidence_rules(
    fields: tuple[str, ...], coarse: frozenset[str] = frozenset()
) -> tuple[BlockingRule, ...]:
    """Rules for extra evidence columns a mapping names (``evidence_<field>``, see
    :func:`~datavask.cleansing.matching.prepare.evidence_frame`): each with either name part, the
    birth date, the birth year, and each other evidence field — ``london|wally`` for a writer born
    in London; a ``coarse`` field (:func:`coarse_evidence`) only with the last name and the other
    evidence fields. Blocks over the cap are split like any other (``london|1861`` by name)."""
    rules: list[BlockingRule] = []
    for i, name in enumerate(fields):
        value = pl.col(f"evidence_{name}")
        partners = {
            "first": pl.col("first_name_key"),
            "last": pl.col("last_name_key"),
            "birth": pl.col("date_of_birth"),
            "year": pl.col("date_of_birth").str.slice(0, 4),
        }
        if name in coarse:
            partners = {"last": partners["last"]}
        partners |= {other: pl.col(f"evidence_{other}") for other in fields[i + 1 :]}
        rules += [
            BlockingRule(f"{name}_{partner}", pl.concat_str(value, key, separator="|"))
            for partner, key in partners.items()
        ]
    return tuple(rules)


# The largest block of :func:`evidence_words` (``BlockingRule.cap``). A birth place with a name
# word is rarer than either alone, so its blocks may be twice the name word's (``RARE_BLOCK``):
# historical_50k's 19 records of Solomon Schechter of Focșani, some written "Schechter" alone,
# fill one. There, at 10 the rule found 762 true pairs no other key did in 5,400 new candidate
# pairs; at 20, 1,260 in 15,000; at 30 and 50, 29 and 48 more for 6,400 and 14,500 more pairs.
EVIDENCE_WORD_BLOCK = 20


def evidence_words(field: str) -> pl.Expr:
    """A person's ``evidence_<field>`` value with each word of the name as its consonant skeleton
    (:func:`consonant_skeleton`): ``new forest|gdrd`` of Walter Goddard and of a record holding
    only "Goddard", both born in the New Forest; ``cherwell|dsn`` of Henry Dawson and of
    "Dowson". The word may be a first name on one record and a last name on the other, where
    the evidence rules' keys (:func:`evidence_rules`) pair first with first and last with last.
    Null for records without the value or a name word, and for organisations."""
    value = pl.col(f"evidence_{field}")
    words = name_tokens().list.eval(consonant_skeleton(pl.element())).list.drop_nulls()
    joined = pl.concat_str(value, pl.lit("|"), words.list.join(pl.lit("\x1f") + value + "|"))
    return pl.when(pl.col("_person") & (words.list.len() > 0)).then(joined.str.split("\x1f"))


def birthday() -> pl.Expr:
    """The day and month of a birth date (``-10-16`` of 1861-10-16 and of 1864-10-16: a year
    mistyped); null for 1 January, which a register writes for a year alone (``1600-01-01``)."""
    day = pl.col("date_of_birth").str.slice(4)
    return pl.when(day != "-01-01").then(day)


def rare_evidence_rules(
    fields: tuple[str, ...], coarse: frozenset[str] = frozenset()
) -> tuple[BlockingRule, ...]:
    """Rare keys for each evidence field: its value with each name word (:func:`evidence_words`,
    ``<field>_words``) and, for a field that is not ``coarse``, with the birthday
    (:func:`birthday`, ``<field>_birthday``: Francis Vane and "5th Bt", both of Dublin, born 16
    October 1861 and 1864). A ``coarse`` field's word blocks are capped at ``RARE_BLOCK``: an
    occupation with a name word ("painter|gdrd") found 153 true pairs no other key did in 8,100
    candidate pairs on historical_50k, at 20 records 286 in 29,000."""
    rules: list[BlockingRule] = []
    for name in fields:
        value = pl.col(f"evidence_{name}")
        rules.append(
            BlockingRule(
                f"{name}_words",
                evidence_words(name),
                uses=NAME_USES,
                refine=(),
                cap=RARE_BLOCK if name in coarse else EVIDENCE_WORD_BLOCK,
                train=False,
                where=pl.col("_person") & value.is_not_null(),
            )
        )
        if name in coarse:
            continue
        rules.append(
            BlockingRule(
                f"{name}_birthday",
                pl.when(pl.col("_person")).then(_joined_expr(value, birthday())),
                uses=("date_of_birth",),
                refine=(),
                cap=RARE_BLOCK,
                train=False,
                where=pl.col("_person")
                & value.is_not_null()
                & pl.col("date_of_birth").is_not_null(),
            )
        )
    return tuple(rules)


def pairs_among(source_sizes: list[int], *, link_only: bool) -> int:
    """How many record pairs a file has to compare: n(n-1)/2 of its ``n`` records, or in link mode
    the pairs across sources only (``source_sizes``: the records per source)."""
    n = sum(source_sizes)
    if not link_only:
        return n * (n - 1) // 2
    return (n * n - sum(s * s for s in source_sizes)) // 2


# The name of :func:`every_pair_rule`: the bridge check tells its pairs from the keys' pairs.
EVERY_PAIR = "every_pair"


def every_pair_rule() -> BlockingRule:
    """Every record with every other: for a file of at most :data:`EVERY_PAIR_BUDGET` pairs.

    It comes after every other rule and does not train: the model is the one the other rules'
    pairs give, and only scores the pairs no key found (a nickname and a moved customer of a
    thousand-record file). Its blocking recall is 1.0 by construction."""
    return BlockingRule("every_pair", pl.lit("*"), uses=(), refine=(), train=False, every=True)


def default_rules(
    *,
    window: int = 5,
    evidence: tuple[str, ...] = (),
    coarse: frozenset[str] = frozenset(),
    total_pairs: int | None = None,
    every_pair_budget: int = EVERY_PAIR_BUDGET,
) -> tuple[BlockingRule, ...]:
    """The standard rules, strongest evidence first (a pair is credited to the first that finds it),
    with :func:`evidence_rules` for the ``evidence`` fields a mapping names (``coarse``: those of
    them :func:`coarse_evidence` finds too coarse to pair with a first name or a birth year), and
    for a file of at most ``every_pair_budget`` record pairs (``total_pairs``, see
    :func:`pairs_among`; :data:`EVERY_PAIR_BUDGET` by default) :func:`every_pair_rule`.

    Rules whose columns are all null (no ``national_id`` in a Danish customer file) yield nothing.
    """
    return (
        BlockingRule("cvr", pl.col("cvr"), uses=("cvr",)),
        BlockingRule("ean", pl.col("ean"), uses=("ean",)),
        BlockingRule("national_id", pl.col("national_id"), uses=("national_id",)),
        BlockingRule("person_id", pl.col("_person_key"), uses=("person_id",)),
        BlockingRule("email", pl.col("_emails"), uses=("email",)),
        BlockingRule("phone", pl.col("_phones"), uses=("phone",)),
        BlockingRule("email_domain", pl.col("_domain"), uses=("email",)),
        # The personal part of an address whose domain was mistyped (``lucas@marrington.coh``).
        BlockingRule("email_local", pl.col("_locals"), uses=("email",), refine=()),
        BlockingRule("phone_series", phone_series(), uses=("phone",), refine=()),
        BlockingRule(
            "address", _joined("street_key", "house_number", "postal_code"), uses=ADDRESS_USES
        ),
        # A whole address line as written: one building whatever parsing made of it ("1653 W
        # 43rd St" with and without a postal code).
        BlockingRule(
            "address_line",
            pl.when(pl.col("raw_address").is_not_null()).then(pl.col("_address_text")),
            uses=ADDRESS_USES,
        ),
        BlockingRule(
            "postal_name",
            pl.concat_str(pl.col("postal_code"), name_block_key()),
            uses=NAME_USES + ADDRESS_USES,
        ),
        # A person's postal code with either name part: one typo'd name part breaks postal_name.
        BlockingRule(
            "postal_first",
            pl.when(pl.col("_person")).then(_joined("postal_code", "first_name_key")),
            uses=NAME_USES + ADDRESS_USES,
            where=pl.col("_person"),
        ),
        BlockingRule(
            "postal_last",
            pl.when(pl.col("_person")).then(_joined("postal_code", "last_name_key")),
            uses=NAME_USES + ADDRESS_USES,
            where=pl.col("_person"),
        ),
        # The start of a person's name across the country, for records without a phone number:
        # two records of one person that each hold one meet by it, or by their name in one town
        # or street. A register of people (FEBRL, a historical list) has none, and there this
        # rule finds a typo'd name at another address. Among a million Danish customers with
        # phones it paired every Jens Hansen with every Jens Hansson, 2.8 million pairs (two in
        # five candidates) for 0.03 % of the duplicates no other rule found.
        BlockingRule(
            "name_prefixes",
            pl.when(pl.col("_person")).then(
                pl.concat_str(_prefix("first_name_key", 3), _prefix("last_name_key", 4))
            ),
            uses=NAME_USES,
            where=pl.col("_person") & (pl.col("_phones").list.len().fill_null(0) == 0),
        ),
        # A two-part postal code (``SE1 8XZ``) holds a street or two: as fine as an address.
        BlockingRule(
            "postal",
            pl.when(postal_district().is_not_null()).then(pl.col("postal_code")),
            uses=ADDRESS_USES,
            refine=(),
        ),
        BlockingRule("name_words", name_words(), uses=NAME_USES),
        # Only words rare enough to fit a block: over the cap a word is no key at all.
        BlockingRule("name_tokens", name_tokens(), uses=NAME_USES, refine=(), cap=RARE_BLOCK),
        BlockingRule(
            "address_numbers",
            address_numbers(),
            uses=ADDRESS_USES,
            refine=(),
            where=_loose_address(),
        ),
        BlockingRule(
            "district_first",
            _joined_expr(postal_district(), pl.col("first_name_key")),
            uses=NAME_USES + ADDRESS_USES,
        ),
        BlockingRule(
            "district_last",
            _joined_expr(postal_district(), pl.col("last_name_key")),
            uses=NAME_USES + ADDRESS_USES,
        ),
        BlockingRule(
            "district_year",
            _joined_expr(postal_district(), pl.col("date_of_birth").str.slice(0, 4)),
            uses=ADDRESS_USES,
        ),
        BlockingRule("birth", pl.col("date_of_birth"), uses=("date_of_birth",)),
        BlockingRule(
            "birth_year_names",
            pl.concat_str(
                pl.col("date_of_birth").str.slice(0, 4),
                _prefix("first_name_key", 2),
                _prefix("last_name_key", 2),
            ),
            uses=NAME_USES,
            where=pl.col("date_of_birth").is_not_null(),
        ),
        BlockingRule(
            "birth_last",
            pl.concat_str(pl.col("date_of_birth"), _prefix("last_name_key", 1)),
            where=pl.col("date_of_birth").is_not_null(),
        ),
        BlockingRule(
            "birth_first",
            pl.concat_str(pl.col("date_of_birth"), _prefix("first_name_key", 1)),
            uses=("date_of_birth", *NAME_USES),
            where=pl.col("date_of_birth").is_not_null(),
        ),
        BlockingRule(
            "birth_postal",
            _joined("date_of_birth", "postal_code"),
            uses=("date_of_birth", *ADDRESS_USES),
        ),
        BlockingRule(
            "name_sorted",
            name_sort_key(),
            window=window,
            uses=NAME_USES,
            min_similarity=NEIGHBOUR_SIMILARITY,
        ),
        # Swapped name parts sort apart in "last first" order, together in alphabetical order.
        BlockingRule(
            "name_unordered_sorted",
            unordered_name_key(),
            window=window,
            uses=NAME_USES,
            where=pl.col("_person"),
            min_similarity=NEIGHBOUR_SIMILARITY,
        ),
        # An address line that did not parse into street and number still sorts by its numbers.
        BlockingRule(
            "address_sorted",
            address_sort_key(),
            window=window,
            uses=ADDRESS_USES,
            where=_loose_address(),
            min_similarity=NEIGHBOUR_SIMILARITY,
        ),
        # The whole name as written, whatever the record was classified as: "Caroline Winthers
        # Optik" the company and "Caroline Winthers Optik" the person sort together.
        BlockingRule(
            "full_name_sorted",
            pl.col("_org"),
            window=window,
            uses=NAME_USES,
            min_similarity=NEIGHBOUR_SIMILARITY,
        ),
        # Sorting the reversed name finds pairs whose first letters differ ("jensen" / "hjensen").
        BlockingRule(
            "name_reversed_sorted",
            name_sort_key().str.reverse(),
            window=window,
            uses=NAME_USES,
            min_similarity=NEIGHBOUR_SIMILARITY,
        ),
        *evidence_rules(evidence, coarse),
        # Rare keys only (over RARE_BLOCK a key pairs nothing): what the records of one customer
        # still share when names, birth dates and streets are each written another way.
        BlockingRule(
            "address_line_numbers",
            address_line_numbers(),
            uses=ADDRESS_USES,
            refine=(),
            cap=RARE_BLOCK,
            train=False,
        ),
        BlockingRule(
            "number_street_word",
            number_street_word(),
            uses=ADDRESS_USES,
            refine=(),
            cap=RARE_BLOCK,
            train=False,
        ),
        BlockingRule(
            "locality_words",
            locality_words(),
            uses=NAME_USES + ADDRESS_USES,
            refine=(),
            cap=RARE_BLOCK,
            train=False,
            where=pl.col("_person"),
        ),
        # A mapping's evidence field (a birth place) with each name word's skeleton: a person
        # written with one name word, or a typo in one, born in one place. On historical_50k
        # 1,260 true pairs no other key found, in 15,000 candidate pairs (+1 %). With the
        # birthday: a birth year mistyped, 99 true pairs in 1,500 pairs (blocking recall
        # 0.9674 -> 0.9679, F1 +0.0002). An occupation with a name word, within the smaller
        # cap of a coarse field: 0.9679 -> 0.9689, F1 +0.0002, for 8,900 pairs (+0.6 %). A
        # customer file without evidence fields has none of them.
        *rare_evidence_rules(evidence, coarse),
        BlockingRule(
            "locality_year",
            pl.when(pl.col("_person")).then(
                _joined_expr(locality(), pl.col("date_of_birth").str.slice(0, 4))
            ),
            uses=ADDRESS_USES,
            refine=(),
            cap=RARE_BLOCK,
            train=False,
            where=pl.col("_person") & pl.col("date_of_birth").is_not_null(),
        ),
        BlockingRule(
            "last_name_sound",
            last_name_sound(),
            uses=NAME_USES,
            refine=(),
            cap=RARE_BLOCK,
            train=False,
            where=pl.col("_person"),
        ),
        # An e-mail address typed twice with a typo ("l.ferguson46@shah.com" /
        # "l.fergson46@shah.com"): neighbours in sorted order, nearly equal.
        BlockingRule(
            "email_sorted",
            pl.col("_emails").list.first(),
            window=window,
            uses=("email",),
            min_similarity=EMAIL_SIMILARITY,
            train=False,
        ),
        *(
            (every_pair_rule(),)
            if total_pairs is not None and total_pairs <= every_pair_budget
            else ()
        ),
        # Last, so that it only adds the copies every other rule skipped. Its pairs agree on
        # everything by construction, so they are no training session of their own.
        BlockingRule("identical", pl.col(IDENTICAL), star=True),
    )


def _keyed(
    records: pl.DataFrame, rule: BlockingRule, apart_on: str | None, *, finer: bool = False
) -> pl.DataFrame:
    """``_idx``, ``source``, ``apart`` (the ``apart_on`` value) and ``key``, one row per record
    and key value; with ``finer`` also the rule's finer keys (``refine_<i>``), which a partition
    of the records must carry to its block (see :func:`_block_pairs`)."""
    apart = pl.col(apart_on) if apart_on else pl.lit(None, dtype=pl.String)
    extra = _finer_columns(rule) if finer else ()
    columns: list[str | pl.Expr] = ["_idx", "source", apart.alias("apart"), rule.key.alias("key")]
    columns += extra
    if rule.where is None:
        keyed = records.select(*columns)
    else:
        # Lazy, so that only the columns the key reads are filtered; the rows keep their order.
        keyed = records.lazy().filter(rule.where).select(*columns).collect()
    if isinstance(keyed.schema["key"], pl.List):
        # A record lists a number twice ("+4533121212; 33 12 12 12"): one key row each.
        keyed = keyed.explode("key").drop_nulls("key").unique(["_idx", "key"], maintain_order=True)
    keyed = keyed.drop_nulls("key")
    return keyed if rule.star else keyed.with_columns(pl.col("key").cast(pl.String))


def _finer_keys(rule: BlockingRule) -> tuple[pl.Expr, ...]:
    return refinements() if rule.refine is None else rule.refine


def _finer_columns(rule: BlockingRule) -> tuple[pl.Expr, ...]:
    return tuple(
        key.cast(pl.String).alias(f"refine_{i}") for i, key in enumerate(_finer_keys(rule))
    )


def _allowed(link_only: bool) -> pl.Expr:
    """Pairs that may be compared: not two different ``apart`` values; across sources in link
    mode."""
    allowed = (pl.col("_apart_l") == pl.col("_apart_r")).fill_null(True)
    if link_only:
        allowed = allowed & (pl.col("_source_l") != pl.col("_source_r")).fill_null(False)
    return allowed


def _block_numbers(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with ``_block``: the position of the first row of the row's ``key`` (one number
    per key), and ``_size``: the rows of that key."""
    at = "_at"
    return (
        frame.with_row_index(at)
        .with_columns(
            pl.col(at).min().over("key").alias("_block"), pl.len().over("key").alias("_size")
        )
        .drop(at)
    )


def _first_of_block() -> pl.Expr:
    """The first row of each key (after :func:`_block_numbers`)."""
    return pl.int_range(pl.len(), dtype=pl.UInt32) == pl.col("_block")


def splits_oversized(rule: BlockingRule) -> bool:
    """Whether the rule's blocks over the cap are split by finer keys and compared whole within
    :data:`WHOLE_BLOCK_PAIRS`: an equality rule, not a rare-key rule (whose common keys are no key
    at all), a sorted pass, the copies' or the every-pair rule."""
    equality = rule.window <= 1 and not rule.star and not rule.every
    return equality and rule.cap is None and bool(_finer_keys(rule))


def whole_blocks(oversized: pl.DataFrame, budget: int, crowded_budget: int = 0) -> pl.Series:
    """The keys of the blocks over the cap (``key``, ``size``, ``crowding``: one rule's, all of
    them, :func:`oversized_blocks`) that are compared whole: first the crowded ones
    (:data:`CROWDED`) as many as fit in ``crowded_budget`` pairs together, then of the others as
    many as fit in ``budget``; each the smallest first (then by key, so that every engine picks
    the same)."""
    pairs = pl.col("size").cast(pl.Int64) * (pl.col("size").cast(pl.Int64) - 1) // 2
    crowded = pl.col("crowding") >= CROWDED
    chosen = (
        oversized.filter(crowded)
        .sort("size", "key")
        .filter(pairs.cum_sum() <= crowded_budget)
        .get_column("key")
    )
    rest = oversized.filter(~pl.col("key").is_in(chosen.implode()))
    return pl.concat(
        [chosen, rest.sort("size", "key").filter(pairs.cum_sum() <= budget).get_column("key")]
    )


def oversized_blocks(keyed: pl.DataFrame, max_block_size: int, rule: BlockingRule) -> pl.DataFrame:
    """``key``, ``size`` and ``crowding`` (:func:`block_crowding`) of the blocks of ``keyed`` (one
    rule's keys, with its finer keys) over ``max_block_size``."""
    return block_crowding(keyed.filter(pl.len().over("key") > max_block_size), rule)


def block_crowding(members: pl.DataFrame, rule: BlockingRule) -> pl.DataFrame:
    """``key``, ``size`` (Int64) and ``crowding`` of the blocks whose records are ``members``
    (``key`` and, for a rule with the standard finer keys, the place :data:`PLACE`): the share of
    a block's pairs whose two records have one place (0 for a rule with finer keys of its own).
    Six records in Aarhus and four in Vejle: (15 + 6) / 45 = 0.47."""
    size = pl.len().cast(pl.Int64)
    blocks = members.group_by("key").agg(size.alias("size"))
    if rule.refine is not None or PLACE not in members.columns:
        return blocks.with_columns(crowding=pl.lit(0.0))
    together = (
        members.drop_nulls(PLACE)
        .group_by("key", PLACE)
        .agg(size.alias("n"))
        .group_by("key")
        .agg((pl.col("n") * (pl.col("n") - 1) // 2).sum().alias("_together"))
    )
    pairs = pl.col("size") * (pl.col("size") - 1) // 2
    crowding = (pl.col("_together").fill_null(0) / pairs).alias("crowding")
    return blocks.join(together, on="key", how="left").select("key", "size", crowding)


def _block_pairs(
    records: pl.DataFrame | None,
    keyed: pl.DataFrame,
    rule: BlockingRule,
    max_block_size: int,
    link_only: bool,
    *,
    whole_budget: int = 0,
    crowded_budget: int = 0,
    whole: pl.Series | None = None,
) -> tuple[pl.LazyFrame, dict[str, int], pl.DataFrame, pl.Series]:
    """Pairs within every block of at most ``max_block_size`` records, within the blocks over it
    compared whole (``whole``: their keys, else :func:`whole_blocks` of this rule's within
    ``whole_budget`` and ``crowded_budget`` pairs), and within the sub-blocks of at most that size
    that a finer key cuts out of the other larger blocks; the stats, the blocks over the cap left
    uncompared but for their sub-blocks, and the records compared through a finer key.

    ``keyed`` holds whole blocks. With ``records`` (all of them, by ``_idx``) the finer keys are
    computed here for the oversized blocks only; without, ``keyed`` carries them (``finer``)."""
    # Each block numbered once, by its first row: the text key is grouped once, and the filters
    # and the self-join below work on that number instead of joining the text again.
    keyed = _block_numbers(keyed)
    sizes = keyed.filter(_first_of_block()).select("key", pl.col("_size").alias("size"))
    oversized = sizes.filter(pl.col("size") > max_block_size)
    blocks = sizes.filter(pl.col("size").is_between(2, max_block_size)).height
    members = [keyed.lazy().filter(pl.col("_size").is_between(2, max_block_size))]
    # A rule without finer keys (the rare-key rules) leaves its oversized blocks alone: a common
    # name word's block holds most of a million records, not worth gathering to split nothing.
    finer = _finer_keys(rule) if oversized.height else ()
    big = keyed.filter(pl.col("_size") > max_block_size) if finer else keyed.clear()
    if records is not None and finer:
        # The finer keys of the records in oversized blocks only (a few thousand of a million).
        big = big.hstack(records[big["_idx"]].select(_finer_columns(rule)[: len(finer)]))
    if not (finer and splits_oversized(rule)):
        whole = oversized.get_column("key").clear()
    elif whole is None:
        whole = whole_blocks(block_crowding(big, rule), whole_budget, crowded_budget)
    in_whole = pl.col("key").is_in(whole.implode())
    if whole.len():
        members.append(keyed.lazy().filter(in_whole))
        oversized = oversized.filter(~in_whole)
        big = big.filter(~in_whole)
    split, refined = _split_blocks(big, len(finer), max_block_size)
    pairs = _pairs_within([*members, *split], link_only)
    stats = {
        "records_keyed": keyed.height,
        "blocks": blocks,
        "largest_block": sizes.height and int(sizes.get_column("size").max()),  # type: ignore[arg-type]
        "capped_blocks": oversized.height,
        "capped_records": int(oversized["size"].sum() or 0),
        "split_records": refined["_idx"].n_unique(),
        "whole_blocks": whole.len(),
    }
    capped = oversized.select(
        pl.lit(rule.name).alias("blocking_rule"), pl.col("key"), pl.col("size").cast(pl.Int64)
    )
    return pairs.select("_l", "_r"), stats, capped, refined["_idx"].unique()


def _split_blocks(
    big: pl.DataFrame, finer: int, max_block_size: int
) -> tuple[list[pl.LazyFrame], pl.DataFrame]:
    """The sub-blocks of at most ``max_block_size`` records that each of the ``finer`` keys
    (``refine_<i>``) cuts out of the blocks ``big``, and their records (``_idx``, once per key)."""
    parts = []
    refined = pl.DataFrame(schema={"_idx": pl.UInt32})
    for finer_key in (f"refine_{i}" for i in range(finer)):
        split = big.with_columns(pl.concat_str("key", finer_key, separator="\x1f").alias("key"))
        split = _block_numbers(split.drop_nulls("key"))
        within = split.filter(pl.col("_size").is_between(2, max_block_size))
        parts.append(within.lazy())
        refined = pl.concat([refined, within.select("_idx")])
    return parts, refined


def _pairs_within(members: list[pl.LazyFrame], link_only: bool) -> pl.LazyFrame:
    """Every two records of one ``_block`` of each of ``members`` (``_l`` < ``_r``, with their
    ``source`` and ``apart`` values), those :func:`_allowed` only."""
    return pl.concat(
        [
            m.join(m, on="_block", suffix="_r")
            .filter(pl.col("_idx") < pl.col("_idx_r"))
            .select(
                pl.col("_idx").alias("_l"),
                pl.col("_idx_r").alias("_r"),
                pl.col("source").alias("_source_l"),
                pl.col("source_r").alias("_source_r"),
                pl.col("apart").alias("_apart_l"),
                pl.col("apart_r").alias("_apart_r"),
            )
            for m in (part.select("_idx", "source", "apart", "_block") for part in members)
        ]
    ).filter(_allowed(link_only))


def _star_pairs(keyed: pl.DataFrame, link_only: bool) -> tuple[pl.LazyFrame, dict[str, int]]:
    """Each record with the first record (lowest ``_idx``) of its block: n - 1 pairs a block."""
    # Copies are rare: find them first, then work on them alone.
    members = keyed.filter(pl.col("key").is_duplicated()).with_columns(
        pl.col("_idx").min().over("key").alias("_first")
    )
    first = members.filter(pl.col("_idx") == pl.col("_first")).select(
        "_first", pl.col("source").alias("_source_l"), pl.col("apart").alias("_apart_l")
    )
    pairs = (
        members.lazy()
        .filter(pl.col("_idx") != pl.col("_first"))
        .join(first.lazy(), on="_first")
        .select(
            pl.col("_first").alias("_l"),
            pl.col("_idx").alias("_r"),
            "_source_l",
            pl.col("source").alias("_source_r"),
            "_apart_l",
            pl.col("apart").alias("_apart_r"),
        )
        .filter(_allowed(link_only))
    )
    sizes = members.group_by("key").len("size")
    stats = {
        "records_keyed": keyed.height,
        "blocks": sizes.height,
        "largest_block": int(sizes["size"].max() or 0),  # type: ignore[arg-type]
        "capped_blocks": 0,
        "capped_records": 0,
        "split_records": 0,
        "whole_blocks": 0,
    }
    return pairs.select("_l", "_r"), stats


def _every_pairs(keyed: pl.DataFrame, link_only: bool) -> tuple[pl.LazyFrame, dict[str, int]]:
    """Every two records of ``keyed`` (one block, the whole file) that may be compared
    (:func:`_allowed`), by position: n(n-1)/2 pairs without the self-join's n² rows."""
    ordered = keyed.sort("_idx")
    n = ordered.height
    left, right = (pl.Series(side) for side in np.triu_indices(n, k=1))
    sides = [
        ordered.select(
            pl.col(column).gather(positions).alias(f"{name}_{end}")
            for column, name in (("_idx", ""), ("apart", "_apart"), ("source", "_source"))
        )
        for positions, end in ((left, "l"), (right, "r"))
    ]
    pairs = (
        pl.concat(sides, how="horizontal")
        .filter(_allowed(link_only))
        .select(pl.col("_l", "_r").cast(pl.UInt32))
    )
    stats = {
        "records_keyed": n,
        "blocks": int(n > 1),
        "largest_block": n,
        "capped_blocks": 0,
        "capped_records": 0,
        "split_records": 0,
        "whole_blocks": 0,
    }
    return pairs.lazy(), stats


def _neighbour_pairs(keyed: pl.DataFrame, rule: BlockingRule, link_only: bool) -> pl.LazyFrame:
    # Neighbours carry their keys' numbers in sorted order rather than the keys: equal keys are
    # equal numbers, and a pair of keys recurring among neighbours is scored once.
    ordered = keyed.sort("key", "_idx").with_columns(
        ((pl.col("key") != pl.col("key").shift(1)).fill_null(True).cum_sum() - 1)
        .cast(pl.UInt32)
        .alias("_key")
    )
    shifted = [
        ordered.select(
            pl.col("_idx").alias("_l"),
            pl.col("_idx").shift(-k).alias("_r"),
            pl.col("source").alias("_source_l"),
            pl.col("source").shift(-k).alias("_source_r"),
            pl.col("apart").alias("_apart_l"),
            pl.col("apart").shift(-k).alias("_apart_r"),
            pl.col("_key").alias("_key_l"),
            pl.col("_key").shift(-k).alias("_key_r"),
        )
        for k in range(1, rule.window)
    ]
    pairs = pl.concat(shifted).drop_nulls("_r").filter(_allowed(link_only))
    if rule.min_similarity > 0:
        keys = ordered.filter(pl.col("_key").is_first_distinct()).get_column("key")
        pairs = _alike_keys(pairs, keys, rule.min_similarity)
    return pairs.lazy().select(
        pl.min_horizontal("_l", "_r").alias("_l"), pl.max_horizontal("_l", "_r").alias("_r")
    )


def _alike_keys(pairs: pl.DataFrame, keys: pl.Series, min_similarity: float) -> pl.DataFrame:
    """Neighbour pairs whose keys (``_key_l``/``_key_r``: positions in ``keys``) are equal or at
    least ``min_similarity`` alike; each distinct pair of keys is scored once."""
    # A pair of keys as one UInt64 (``_key_l`` in the high half): told apart and looked up as
    # one integer rather than two columns, unique and a semi join.
    both = pl.col("_key_l").cast(pl.UInt64) * (1 << 32) + pl.col("_key_r").cast(pl.UInt64)
    differ = pairs.filter(pl.col("_key_l") != pl.col("_key_r"))
    key_pairs = differ.select(both).to_series()
    distinct = differ.filter(key_pairs.is_first_distinct()).select("_key_l", "_key_r")
    text_l, text_r = keys.gather(distinct["_key_l"]), keys.gather(distinct["_key_r"])
    # ``fuzz.ratio`` is at most 2·min(len)/(len_l + len_r): keys too unequal in length cannot
    # reach the bar and need no scoring.
    len_l = text_l.str.len_chars().cast(pl.Float64).to_numpy()
    len_r = text_r.str.len_chars().cast(pl.Float64).to_numpy()
    possible = 2.0 * np.minimum(len_l, len_r) >= min_similarity * (len_l + len_r) - 1e-9
    scores = np.zeros(distinct.height, dtype=np.float32)
    scores[possible] = process.cpdist(
        text_l.filter(possible).to_list(),
        text_r.filter(possible).to_list(),
        scorer=fuzz.ratio,
        workers=-1,
        dtype=np.float32,
    )
    alike = distinct.filter(pl.Series(scores >= min_similarity * 100.0)).select(both)
    return pl.concat(
        [
            pairs.filter(pl.col("_key_l") == pl.col("_key_r")),
            differ.filter(key_pairs.is_in(alike.to_series().implode())),
        ]
    )


def pair_key() -> pl.Expr:
    """One UInt64 per pair (``_l`` in the high half): de-duplicating on it is faster than on two
    columns, and it orders pairs as (``_l``, ``_r``) does."""
    return pl.col("_l").cast(pl.UInt64) * (1 << 32) + pl.col("_r").cast(pl.UInt64)


def learned_from(rules: tuple[BlockingRule, ...]) -> pl.Expr:
    """True for a candidate pair the model may learn from: one whose ``blocking_rule`` (the first
    rule that found it) is no ``train=False`` rule. Those rules come after every rule that trains
    (:func:`candidate_pairs` checks), so a pair credited to one is a pair no training rule found:
    the model is the one the other rules' pairs give, and only scores the rare-key pairs."""
    untrained = [r.name for r in rules if not r.train]
    return ~pl.col("blocking_rule").is_in(untrained)


def _check_order(rules: tuple[BlockingRule, ...]) -> None:
    seen_untrained = False
    for rule in rules:
        if not rule.train:
            seen_untrained = True
        elif seen_untrained and not rule.star:
            raise ValueError(
                f"blocking rule {rule.name!r} trains but comes after a rule that does not"
            )


def candidate_pairs(
    records: pl.DataFrame,
    rules: tuple[BlockingRule, ...],
    *,
    max_block_size: int = 50,
    link_only: bool = False,
    apart_on: str | None = None,
    whole_block_pairs: int = WHOLE_BLOCK_PAIRS,
    crowded_block_pairs: int = CROWDED_BLOCK_PAIRS,
) -> Candidates:
    """Distinct candidate pairs of a prepared record frame, with what produced them.

    Returns :class:`Candidates`:

    - ``pairs``: ``_l`` < ``_r`` (record positions, UInt32) and ``blocking_rule``, the first rule
      (in ``rules`` order) that produced the pair; with ``link_only`` only pairs whose ``source``
      values differ (record linkage between two files rather than deduplication within one);
      with ``apart_on="cvr"`` no pair whose records hold two different values of that column (two
      CVR numbers are two legal entities: comparing "Hansen Holding" with "Hansen Holding" under
      another CVR number can only end in a veto, and such pairs were a third of all candidates);
    - ``report``: one row per rule — records with a key, blocks used, largest block, blocks and
      records over ``max_block_size`` not compared whole (``capped_*``), records of those blocks
      compared within a sub-block of a finer key (``split_records``), blocks over the cap compared
      whole within ``whole_block_pairs`` pairs per rule, and the crowded ones within
      ``crowded_block_pairs`` more (``whole_blocks``, see :func:`whole_blocks`), pairs generated
      and pairs new;
    - ``oversized``: the blocks over the cap not compared whole (``blocking_rule``, ``key``,
      ``size``), largest first — compared only where a finer key split them (a rule's own cap,
      ``BlockingRule.cap``, lists nothing: its common words are no key);
    - ``by_rule``: every pair of every rule (``_l``, ``_r``, ``blocking_rule``), a pair found by two
      rules twice — what per-rule training needs.
    """
    _check_order(rules)

    def blocked(rule: BlockingRule) -> tuple[pl.DataFrame, dict[str, object], pl.DataFrame | None]:
        """The rule's distinct pairs, its report row and its blocks over the cap."""
        keyed = _keyed(records, rule, apart_on)
        capped = None
        if rule.window > 1:
            lazy_pairs = _neighbour_pairs(keyed, rule, link_only)
            stats: dict[str, int] = {
                "records_keyed": keyed.height,
                "blocks": 0,
                "largest_block": 0,
                "capped_blocks": 0,
                "capped_records": 0,
                "split_records": 0,
                "whole_blocks": 0,
            }
        elif rule.star:
            lazy_pairs, stats = _star_pairs(keyed, link_only)
        elif rule.every:
            lazy_pairs, stats = _every_pairs(keyed, link_only)
        else:
            cap = max_block_size if rule.cap is None else min(rule.cap, max_block_size)
            lazy_pairs, stats, capped, _ = _block_pairs(
                records,
                keyed,
                rule,
                cap,
                link_only,
                whole_budget=whole_block_pairs,
                crowded_budget=crowded_block_pairs,
            )
            # A word over its rule's own cap is no key rather than a block left uncompared: listed,
            # "jensen" and "holding" would hide the blocks that matter.
            capped = capped if rule.cap is None else capped.clear()
        rule_pairs = (
            lazy_pairs.filter(pair_key().is_first_distinct())
            .select("_l", "_r", pl.lit(rule.name).alias("blocking_rule"))
            .collect()
        )
        return (
            rule_pairs,
            {"blocking_rule": rule.name, **stats, "pairs_generated": rule_pairs.height},
            capped,
        )

    # The rules are independent of each other: a few run side by side, their results in order.
    per_rule = in_order(blocked, rules)
    found = [rule_pairs for rule_pairs, _, _ in per_rule]
    stats_rows = [stats for _, stats, _ in per_rule]
    capped_blocks = [capped for _, _, capped in per_rule if capped is not None]
    all_pairs = pl.concat(found) if found else pl.DataFrame(schema=PAIR_SCHEMA)
    pairs = all_pairs.filter(pair_key().is_first_distinct()).cast(PAIR_SCHEMA)  # type: ignore[arg-type]
    new_per_rule = pairs.group_by("blocking_rule").len("pairs_new")
    report = report_frame(stats_rows, new_per_rule)
    # Sorted by one UInt64 rather than two columns: the same order (no two pairs are equal).
    return Candidates(pairs.sort(pair_key()), report, oversized_frame(capped_blocks), all_pairs)


def report_frame(stats_rows: list[dict[str, object]], new_per_rule: pl.DataFrame) -> pl.DataFrame:
    """The blocking report: one row of stats per rule and how many pairs it was first to find."""
    return (
        pl.DataFrame(stats_rows)
        .join(new_per_rule, on="blocking_rule", how="left")
        .with_columns(pl.col("pairs_new").fill_null(0))
    )


def oversized_frame(capped_blocks: list[pl.DataFrame]) -> pl.DataFrame:
    """The blocks over the cap of every rule, largest first."""
    return (
        pl.concat(capped_blocks)
        if capped_blocks
        else pl.DataFrame(schema={"blocking_rule": pl.String, "key": pl.String, "size": pl.Int64})
    ).sort("size", "blocking_rule", "key", descending=[True, False, False])
