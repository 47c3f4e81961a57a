"""Reviewers' decisions on candidate pairs, and how the matcher obeys them.

A decisions file (``datavask review`` writes it; contract: ``docs/contract.md``) holds one line per
decision: ``record_id_l``, ``record_id_r``, ``decision``, ``decided_by``, ``decided_at``, ``note``,
and the names the reviewer saw, ``name_l`` and ``name_r`` (empty in a file written before them).
The order of the two ids does not matter and a later line for the same pair wins. ``undecided``
(written by *undo* on the review page) withdraws the latest standing decision of the same reviewer
on that pair, so an undo never deletes a line and never erases someone else's decision.

What the matcher does with the resolved decisions (:func:`locate_decisions`, :func:`obey`):

- ``same``: the pair is a match, whatever its score and whatever soft veto (household, sister
  company, unrelated names) the hard rules raised; in clustering the link is kept before every
  scored one. A pair the blocking never proposed is compared and added (blocking rule
  ``reviewer decision``). Refused, and reported: a ``same`` that would join two different valid
  CVR numbers — two legal entities are never one customer, and the line is more likely a slip of
  the key than a discovery;
- ``different``: the pair is a non-match and a veto — the two records never share a cluster, even
  through a third record;
- decided pairs are never ``review``, so their records are not flagged ``REVIEW_MATCH`` for them;
- decisions about record ids the input no longer holds (or holds twice) are reported, not fatal;
  so is one whose record is another customer now (the id given out again: its name is not the one
  the reviewer saw, and the two records do not share a CVR number) — the pair goes back to the
  model.

The decisions are *not* used to move the thresholds: they come from the review band only, so they
say little about the scores outside it. :func:`decision_report` counts, per decision, what the model
would have decided without it (``model_decision``), which shows whether the band is well placed —
``same`` pairs the model scored as non-matches, or ``different`` pairs it scored as matches, are the
ones to look at.

Example: ``10056,10201,same`` for "Stjerne Køkkener" (same phone, other address; score 0.91, in
the review band) makes them one customer; ``10063,10074,different`` keeps a father and son
apart although they share a phone and a surname.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import polars as pl

from datavask.cleansing.cpr import mask_text
from datavask.cleansing.matching.prepare import org_name_key

DECISION_COLUMNS: Final = (
    "record_id_l",
    "record_id_r",
    "decision",
    "decided_by",
    "decided_at",
    "note",
)
NAME_COLUMNS: Final = ("name_l", "name_r")
"""What the reviewer saw of each record: its name as the page showed it. Written after
:data:`DECISION_COLUMNS`; a file written before they existed has none, and its decisions are
obeyed without the check (:func:`locate_decisions`)."""
FILE_COLUMNS: Final = (*DECISION_COLUMNS, *NAME_COLUMNS)
SAME: Final = "same"
DIFFERENT: Final = "different"
WITHDRAWN: Final = "undecided"
DECISION_VALUES: Final = (SAME, DIFFERENT, WITHDRAWN)
DECIDED_RULE: Final = "reviewer decision"
REVIEWER_VETO: Final = "reviewer_different"
NOT_A_CANDIDATE: Final = "not a candidate"

_RESOLVED_SCHEMA: Final = {
    "record_id_a": pl.String,
    "record_id_b": pl.String,
    "decision": pl.String,
    "decided_by": pl.String,
    "decided_at": pl.String,
    "note": pl.String,
    "name_a": pl.String,
    "name_b": pl.String,
    "earlier": pl.Int64,
}
_PAIR_SCHEMA: Final = {"_l": pl.UInt32, "_r": pl.UInt32, "reviewed": pl.String}


def pair_key(a: str, b: str) -> tuple[str, str]:
    """The two ids of a pair in a fixed order.

    >>> pair_key("10201", "10056")
    ('10056', '10201')
    """
    return (a, b) if a <= b else (b, a)


def decision_history(lines: pl.DataFrame) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Each pair's standing decisions, oldest first, withdrawn ones removed.

    ``lines``: the decisions file in file order (every column text). A line whose decision is not
    ``same``/``different``/``undecided`` or that lacks an id is ignored here; see :func:`bad_lines`.
    """
    standing: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in lines.iter_rows(named=True):
        a, b, decision = row["record_id_l"], row["record_id_r"], row["decision"]
        if not a or not b or a == b or decision not in DECISION_VALUES:
            continue
        stack = standing.setdefault(pair_key(a, b), [])
        if decision != WITHDRAWN:
            stack.append(row)
            continue
        mine = [i for i, old in enumerate(stack) if old["decided_by"] == row["decided_by"]]
        if mine:
            del stack[mine[-1]]
    return {key: stack for key, stack in standing.items() if stack}


def bad_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """The lines :func:`decision_history` ignores, with ``line`` (file line), ``problem`` (in
    English) and ``reason`` (``empty_id``, ``same_record``, ``unknown_decision``)."""
    empty_l = pl.col("record_id_l").fill_null("").str.strip_chars() == ""
    empty_r = pl.col("record_id_r").fill_null("").str.strip_chars() == ""
    itself = pl.col("record_id_l") == pl.col("record_id_r")
    unknown = ~pl.col("decision").fill_null("").is_in(DECISION_VALUES)
    problem = (
        pl.when(empty_l)
        .then(pl.lit("record_id_l is empty"))
        .when(empty_r)
        .then(pl.lit("record_id_r is empty"))
        .when(itself)
        .then(pl.lit("a record paired with itself"))
        .when(unknown)
        .then(pl.format("decision {} is not same or different", pl.col("decision").fill_null("")))
    )
    reason = (
        pl.when(empty_l | empty_r)
        .then(pl.lit("empty_id"))
        .when(itself)
        .then(pl.lit("same_record"))
        .when(unknown)
        .then(pl.lit("unknown_decision"))
    )
    if "line" not in lines.columns:
        lines = lines.with_row_index("line", offset=2)
    return (
        lines.with_columns(problem.alias("problem"), reason.alias("reason"))
        .filter(pl.col("problem").is_not_null())
        .select(
            pl.col("line").cast(pl.Int64),
            "record_id_l",
            "record_id_r",
            "decision",
            "problem",
            "reason",
        )
    )


def resolve(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per decided pair: its standing decision and how many earlier ones it overrides.

    Out: ``record_id_a`` <= ``record_id_b``, ``decision``, ``decided_by``, ``decided_at``, ``note``,
    ``name_a``/``name_b`` (the names the winning line saw, null in a file without them),
    ``earlier`` (standing decisions before the winning one).
    """
    rows = []
    for (a, b), stack in decision_history(lines).items():
        last = stack[-1]
        names = (last.get("name_l") or None, last.get("name_r") or None)
        if last["record_id_l"] != a:  # the line named the pair the other way round
            names = names[::-1]
        rows.append(
            {
                "record_id_a": a,
                "record_id_b": b,
                **{k: last[k] for k in ("decision", "decided_by", "decided_at", "note")},
                "name_a": names[0],
                "name_b": names[1],
                "earlier": len(stack) - 1,
            }
        )
    return pl.DataFrame(rows, schema=_RESOLVED_SCHEMA).sort("record_id_a", "record_id_b")


PROBLEM_COLUMNS: Final = (
    "record_id_l", "record_id_r", "decision", "problem",
    "reason", "record", "name_now", "name_then", "cvr_l", "cvr_r", "line", "value",
)  # fmt: skip
"""A decision not obeyed: the pair, ``problem`` (in English), ``reason`` and the values the
report's message for it (``decision_problem_<reason>``) is written with; null where a reason
has no such value. Reasons: ``not_in_input``, ``repeated_id``, ``another_customer``,
``name_gone``, ``two_cvrs``; and for a line of the file that cannot be used at all (its
``line``, see :func:`bad_lines`), ``empty_id``, ``same_record``, ``unknown_decision`` (the
decision as written in ``value``)."""

LOCATE_COLUMNS: Final = (
    "record_id", "_idx", "_row", "cvr", "name", "name_key", "first_name_key", "last_name_key",
)  # fmt: skip
"""What :func:`locate_decisions` reads of each record the decisions name."""


@dataclass
class Decided:
    """Resolved decisions located among the records being matched.

    ``pairs``: ``_l`` < ``_r`` (record positions) and ``reviewed`` (``same``/``different``);
    ``problems``: :data:`PROBLEM_COLUMNS` for every decision that could not be obeyed;
    ``lines``/``resolved``: how many lines and pairs the file held.
    """

    pairs: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_PAIR_SCHEMA))
    problems: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=dict.fromkeys(PROBLEM_COLUMNS, pl.String))
    )
    lines: int = 0
    resolved: int = 0

    @property
    def empty(self) -> bool:
        return self.pairs.is_empty()


def input_ids(records: pl.DataFrame) -> pl.Series:
    """Each record's id as the input holds it: ``90003`` of the ``90003#303`` a repeated id got
    on row 303 (``_row``; ``90003#303#303`` where that was an id of the input already, see
    :func:`datavask.connectors.files.record_ids`), every other id as it is.

    A decision names records by the input's id, so one on ``90003`` finds the two records
    ``90003#303`` and ``90003#305``: the input holds the id twice, and which of them the reviewer
    meant is not known. (Only rows whose id holds a ``#`` are looked at again.)
    """
    ids = records["record_id"].cast(pl.String)
    if "_row" not in records.columns:
        return ids
    suffix = pl.lit("#") + pl.col("_row").cast(pl.String)
    frame = records.select(pl.col("record_id").cast(pl.String), "_row").with_row_index("_at")
    made_up = frame.filter(pl.col("record_id").str.contains("#", literal=True))
    while True:
        ends = made_up.filter(pl.col("record_id").str.ends_with(suffix))
        if ends.is_empty():
            break
        made_up = made_up.update(
            ends.with_columns(pl.col("record_id").str.strip_suffix(suffix)), on="_at"
        )
    return ids.scatter(made_up["_at"], made_up["record_id"]) if made_up.height else ids


def _located(resolved: pl.DataFrame, records: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """``resolved`` with, per side ``a``/``b``, the record's position (``_a``), ``_cvr_a``,
    ``_name_a``, ``_key_a``, ``_first_a``, ``_last_a`` (null where the input does not hold the id
    once), and the ids the input holds more than once."""
    ids = records.select(
        pl.col("record_id").cast(pl.String),
        input_ids(records).alias("_input_id"),
        "_idx",
        *(
            pl.col(c).cast(pl.String) if c in records.columns else pl.lit(None, pl.String).alias(c)
            for c in LOCATE_COLUMNS[3:]
        ),
    )
    # a repeated id is held by records that all got another one (``90003#303``, ``90003#305``)
    repeated = ids.filter(pl.col("_input_id").is_duplicated())["_input_id"].unique()
    unique_ids = ids.filter(~pl.col("record_id").is_in(repeated.implode()))
    located = resolved
    for s in ("a", "b"):
        named = {"record_id": f"record_id_{s}", "_idx": f"_{s}", "cvr": f"_cvr_{s}",
                 "name": f"_name_{s}", "name_key": f"_key_{s}", "first_name_key": f"_first_{s}",
                 "last_name_key": f"_last_{s}"}  # fmt: skip
        located = located.join(
            unique_ids.select(list(named)).rename(named), on=f"record_id_{s}", how="left"
        )
    return located, repeated


def _name_changed(side: str) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """For record ``side`` of a located decision: its name now (its name key, or the person's
    name keys, where a frame has no name), whether the matcher keys it as another name than the
    line saw (``name_a``), and whether it has no name left. Both False for a line without names."""
    now = pl.coalesce(
        pl.col(f"_name_{side}"),
        pl.col(f"_key_{side}"),
        pl.concat_str(
            pl.col(f"_first_{side}"), pl.col(f"_last_{side}"), separator=" ", ignore_nulls=True
        ).replace("", None),
    )
    then_key, now_key = org_name_key(pl.col(f"name_{side}")), org_name_key(now)
    checked = then_key.is_not_null()
    return now, checked & now_key.is_not_null() & (now_key != then_key), checked & now_key.is_null()


def _reasons(located: pl.DataFrame, repeated: pl.Series) -> pl.DataFrame:
    """``located`` (:func:`_located`) with why each decision cannot be obeyed (``reason``, null
    when it can) and the values its message names (``record``, ``name_now``, ``name_then``,
    ``cvr_l``, ``cvr_r``)."""
    (now_a, other_a, gone_a), (now_b, other_b, gone_b) = _name_changed("a"), _name_changed("b")
    # the CVR number names the company whatever it is called now
    one_cvr = (pl.col("_cvr_a") == pl.col("_cvr_b")).fill_null(False)
    located = located.with_columns(
        now_a.alias("_now_a"),
        now_b.alias("_now_b"),
        ((other_a | gone_a) & ~one_cvr).fill_null(False).alias("_changed_a"),
        ((other_b | gone_b) & ~one_cvr).fill_null(False).alias("_changed_b"),
        gone_a.fill_null(False).alias("_gone_a"),
        gone_b.fill_null(False).alias("_gone_b"),
    )
    gone = pl.col("_a").is_null() | pl.col("_b").is_null()
    changed = pl.col("_changed_a") | pl.col("_changed_b")
    two_cvrs = (pl.col("decision") == SAME) & (pl.col("_cvr_a") != pl.col("_cvr_b")).fill_null(
        False
    )

    def at(column: str) -> pl.Expr:
        """``column`` of the record a problem is about: ``a`` unless only ``b`` is."""
        first = pl.col("_a").is_null() | (pl.col("_b").is_not_null() & pl.col("_changed_a"))
        return pl.when(first).then(pl.col(f"{column}_a")).otherwise(pl.col(f"{column}_b"))

    reason = (
        pl.when(gone)
        .then(
            pl.when(at("record_id").is_in(repeated.implode()))
            .then(pl.lit("repeated_id"))
            .otherwise(pl.lit("not_in_input"))
        )
        .when(changed)
        .then(pl.when(at("_gone")).then(pl.lit("name_gone")).otherwise(pl.lit("another_customer")))
        .when(two_cvrs)
        .then(pl.lit("two_cvrs"))
    )
    return located.with_columns(
        reason.alias("reason"),
        pl.when(gone | changed).then(at("record_id")).alias("record"),
        pl.when(~gone & changed).then(at("_now")).alias("name_now"),
        pl.when(~gone & changed).then(at("name")).alias("name_then"),
        pl.when(~gone & ~changed & two_cvrs).then("_cvr_a").alias("cvr_l"),
        pl.when(~gone & ~changed & two_cvrs).then("_cvr_b").alias("cvr_r"),
    )


def _problem_text() -> pl.Expr:
    """A reason (:func:`_reasons`) in English, for run.json; the report words it itself."""
    reason = pl.col("reason")
    return (
        pl.when(reason == "repeated_id")
        .then(pl.format("record {} appears more than once in the input", "record"))
        .when(reason == "not_in_input")
        .then(pl.format("record {} is no longer in the input", "record"))
        .when(reason == "another_customer")
        .then(
            pl.format(
                "record {} is another customer now: {}, not {}", "record", "name_now", "name_then"
            )
        )
        .when(reason == "name_gone")
        .then(pl.format("record {} has no name now; it was {}", "record", "name_then"))
        .when(reason == "two_cvrs")
        .then(
            pl.format(
                "refused: 'same' would join two different CVR numbers ({} and {})", "cvr_l", "cvr_r"
            )
        )
    )


def locate_decisions(lines: pl.DataFrame | None, records: pl.DataFrame) -> Decided:
    """The decisions of ``lines`` as record positions in ``records`` (:data:`LOCATE_COLUMNS`;
    any but ``record_id`` and ``_idx`` may be missing), with every decision that cannot be obeyed
    moved to ``problems`` (:data:`PROBLEM_COLUMNS`).

    Not obeyed: a decision on an id the input no longer holds, or holds twice; a ``same`` that
    would join two CVR numbers; and one whose record is another customer now — its name, as the
    matcher keys it, is not the one the reviewer saw (``name_l``/``name_r`` of the line): customer
    number ``90001`` was "Kjærs Murer ApS" when it was decided ``same`` as "Kjærs Murer" and is
    "Mette Skov" this week, a number the CRM gave out again. The pair then goes back to the model
    (and to review, in the band). Casing, legal form, spelling and word order are no new name
    (``KJAERS MURER``), nor are a new address, phone or e-mail; and a company renamed keeps its
    decision while both records still carry one CVR number. A line written before the names were
    (none on it) is obeyed as before.
    """
    if lines is None:
        return Decided()
    resolved = resolve(lines)
    located, repeated = _located(resolved, records)
    located = _reasons(located, repeated).with_columns(_problem_text().alias("problem"))
    problems = located.filter(pl.col("reason").is_not_null()).select(
        pl.col("record_id_a").alias("record_id_l"),
        pl.col("record_id_b").alias("record_id_r"),
        *(pl.col(c).cast(pl.String) for c in PROBLEM_COLUMNS[2:] if c in located.columns),
    )
    # Lines that name no pair or no decision: reported with the rest, not dropped unsaid.
    unusable = bad_lines(lines).select(
        pl.col("record_id_l").cast(pl.String),
        pl.col("record_id_r").cast(pl.String),
        pl.col("decision").cast(pl.String),
        pl.format("line {}: {}", "line", "problem").alias("problem"),
        "reason",
        pl.col("line").cast(pl.String),
        pl.when(pl.col("reason") == "unknown_decision")
        .then(pl.col("decision").fill_null(""))
        .alias("value"),
    )
    problems = pl.concat([unusable, problems], how="diagonal").select(PROBLEM_COLUMNS)
    pairs = located.filter(pl.col("reason").is_null()).select(
        pl.min_horizontal("_a", "_b").cast(pl.UInt32).alias("_l"),
        pl.max_horizontal("_a", "_b").cast(pl.UInt32).alias("_r"),
        pl.col("decision").alias("reviewed"),
    )
    return Decided(pairs=pairs, problems=problems, lines=lines.height, resolved=resolved.height)


def with_decided_pairs(candidates: pl.DataFrame, decided: Decided) -> pl.DataFrame:
    """``candidates`` (``_l``, ``_r``, ``blocking_rule``) and, after them, every decided pair the
    blocking did not propose (rule ``reviewer decision``), so that it is compared and scored too."""
    if decided.empty:
        return candidates
    new = decided.pairs.join(candidates.select("_l", "_r"), on=["_l", "_r"], how="anti")
    added = new.select(
        pl.col("_l").cast(candidates.schema["_l"]),
        pl.col("_r").cast(candidates.schema["_r"]),
        pl.lit(DECIDED_RULE).alias("blocking_rule"),
    )
    return pl.concat([candidates, added.select(candidates.columns)], how="vertical")


def obey(scored: pl.DataFrame, decided: Decided) -> pl.DataFrame:
    """Scored pairs with the reviewers' decisions applied.

    Adds ``reviewed`` (``same``/``different``/null) and ``model_decision`` (what the scores and hard
    rules decided); a ``same`` pair becomes a ``match`` with its veto lifted, a ``different`` pair a
    ``non-match`` vetoed by ``reviewer_different`` (unless a hard rule vetoed it already).
    """
    reviewed = pl.col("reviewed")
    if decided.empty:  # no join over every candidate pair for nothing
        joined = scored.with_columns(pl.lit(None, dtype=pl.String).alias("reviewed"))
    else:
        joined = scored.join(decided.pairs, on=["_l", "_r"], how="left")
    return joined.with_columns(
        pl.col("decision").alias("model_decision"),
        pl.when(reviewed == SAME)
        .then(pl.lit("match"))
        .when(reviewed == DIFFERENT)
        .then(pl.lit("non-match"))
        .otherwise(pl.col("decision"))
        .alias("decision"),
        pl.when(reviewed == SAME)
        .then(pl.lit(None, dtype=pl.String))
        .when(reviewed == DIFFERENT)
        .then(pl.col("hard_rule").fill_null(REVIEWER_VETO))
        .otherwise(pl.col("hard_rule"))
        .alias("hard_rule"),
    )


def link_strength(scored: pl.DataFrame) -> pl.Expr:
    """The weight clustering links a matched pair by: a reviewer's ``same`` before any score."""
    if "reviewed" not in scored.columns:
        return pl.col("match_weight")
    return (
        pl.when(pl.col("reviewed") == SAME)
        .then(pl.lit(float("inf")))
        .otherwise(pl.col("match_weight"))
        .alias("match_weight")
    )


def problem_entries(problems: pl.DataFrame) -> list[dict[str, Any]]:
    """``problems`` (:data:`PROBLEM_COLUMNS`) as run.json lists them: the pair, ``decision``,
    ``problem`` in English, and ``reason`` with its ``values`` for the report to word it in its
    own language (``{"record": "90001", "name_now": "Mette Skov", "name_then": "Kjærs Murer
    ApS"}``); a CPR number in a name is masked, as everywhere else."""
    entries = []
    for row in problems.iter_rows(named=True):
        values = {k: mask_text(row[k]) for k in PROBLEM_COLUMNS[5:] if row[k] is not None}
        entries.append(
            {
                **{k: row[k] for k in ("record_id_l", "record_id_r", "decision")},
                "problem": mask_text(row["problem"]),
                "reason": row["reason"],
                "values": values,
            }
        )
    return entries


def decision_report(
    scored: pl.DataFrame, decided: Decided, labels: pl.Series, record_ids: pl.Series
) -> dict[str, Any]:
    """What the decisions did, for run.json: counts, problems, and the model's agreement.

    ``scored``: the pairs after :func:`obey` (with ``model_decision``); ``labels`` and
    ``record_ids``: the final cluster label and the id of each record position. A ``same`` pair
    the clustering still could not join (it contradicts a ``different`` decision or another CVR)
    is listed under ``not_honoured``.
    """
    if decided.lines == 0 and decided.problems.is_empty():
        return {}
    obeyed = scored.filter(pl.col("reviewed").is_not_null()).with_columns(
        pl.when(pl.col("blocking_rule") == DECIDED_RULE)
        .then(pl.lit(NOT_A_CANDIDATE))
        .otherwise(pl.col("model_decision"))
        .alias("model_decision")
    )
    agreement: dict[str, dict[str, int]] = {SAME: {}, DIFFERENT: {}}
    for reviewed, model, n in (
        obeyed.group_by("reviewed", "model_decision").len().sort("reviewed", "model_decision")
    ).iter_rows():
        agreement[reviewed][model] = int(n)
    model = pl.col("model_decision")
    agree = ((pl.col("reviewed") == SAME) & (model == "match")) | (
        (pl.col("reviewed") == DIFFERENT) & model.is_in(["non-match", NOT_A_CANDIDATE])
    )
    same = obeyed.filter(pl.col("reviewed") == SAME)
    apart = same.filter(labels.gather(same["_l"]) != labels.gather(same["_r"]))
    not_honoured = [
        {"record_id_l": record_ids[a], "record_id_r": record_ids[b]}
        for a, b in apart.select("_l", "_r").iter_rows()
    ]
    return {
        "lines": decided.lines,
        "pairs_decided": decided.resolved,
        "obeyed": obeyed.height,
        "same": same.height,
        "different": obeyed.height - same.height,
        "model_agreed": int(obeyed.select(agree.sum()).item()),
        "in_review_band": int((obeyed["model_decision"] == "review").sum()),
        "agreement": agreement,
        "problems": problem_entries(decided.problems),
        "not_honoured": not_honoured,
    }
