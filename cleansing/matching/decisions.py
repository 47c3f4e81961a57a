"""Reviewers' decisions on candidate pairs, and how the matcher obeys them.

A decisions file (``datavask review`` writes it; contract: ``docs/contract.md``) holds one line per
decision: ``record_id_l``, ``record_id_r``, ``decision``, ``decided_by``, ``decided_at``, ``note``.
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
- decisions about record ids the input no longer holds (or holds twice) are reported, not fatal.

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

DECISION_COLUMNS: Final = (
    "record_id_l",
    "record_id_r",
    "decision",
    "decided_by",
    "decided_at",
    "note",
)
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
    """The lines :func:`decision_history` ignores, with ``line`` (file line) and ``problem``."""
    problem = (
        pl.when(pl.col("record_id_l").fill_null("").str.strip_chars() == "")
        .then(pl.lit("record_id_l is empty"))
        .when(pl.col("record_id_r").fill_null("").str.strip_chars() == "")
        .then(pl.lit("record_id_r is empty"))
        .when(pl.col("record_id_l") == pl.col("record_id_r"))
        .then(pl.lit("a record paired with itself"))
        .when(~pl.col("decision").fill_null("").is_in(DECISION_VALUES))
        .then(pl.format("decision {} is not same or different", pl.col("decision").fill_null("")))
    )
    if "line" not in lines.columns:
        lines = lines.with_row_index("line", offset=2)
    return (
        lines.with_columns(problem.alias("problem"))
        .filter(pl.col("problem").is_not_null())
        .select(pl.col("line").cast(pl.Int64), "record_id_l", "record_id_r", "decision", "problem")
    )


def resolve(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per decided pair: its standing decision and how many earlier ones it overrides.

    Out: ``record_id_a`` <= ``record_id_b``, ``decision``, ``decided_by``, ``decided_at``, ``note``,
    ``earlier`` (standing decisions before the winning one).
    """
    rows = [
        {
            "record_id_a": a,
            "record_id_b": b,
            **{k: stack[-1][k] for k in ("decision", "decided_by", "decided_at", "note")},
            "earlier": len(stack) - 1,
        }
        for (a, b), stack in decision_history(lines).items()
    ]
    return pl.DataFrame(rows, schema=_RESOLVED_SCHEMA).sort("record_id_a", "record_id_b")


@dataclass
class Decided:
    """Resolved decisions located among the records being matched.

    ``pairs``: ``_l`` < ``_r`` (record positions) and ``reviewed`` (``same``/``different``);
    ``problems``: ``record_id_l``, ``record_id_r``, ``decision``, ``problem`` for every decision
    that could not be obeyed; ``lines``/``resolved``: how many lines and pairs the file held.
    """

    pairs: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_PAIR_SCHEMA))
    problems: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={c: pl.String for c in ("record_id_l", "record_id_r", "decision", "problem")}
        )
    )
    lines: int = 0
    resolved: int = 0

    @property
    def empty(self) -> bool:
        return self.pairs.is_empty()


def locate_decisions(lines: pl.DataFrame | None, records: pl.DataFrame) -> Decided:
    """The decisions of ``lines`` as record positions in ``records`` (``_idx``, ``record_id``,
    ``cvr``), with every decision that cannot be obeyed moved to ``problems``."""
    if lines is None:
        return Decided()
    resolved = resolve(lines)
    ids = records.select(pl.col("record_id").cast(pl.String), "_idx", "cvr")
    repeated = ids.filter(pl.col("record_id").is_duplicated())["record_id"].unique()
    unique_ids = ids.filter(~pl.col("record_id").is_in(repeated.implode()))
    located = resolved.join(
        unique_ids.rename({"record_id": "record_id_a", "_idx": "_a", "cvr": "_cvr_a"}),
        on="record_id_a",
        how="left",
    ).join(
        unique_ids.rename({"record_id": "record_id_b", "_idx": "_b", "cvr": "_cvr_b"}),
        on="record_id_b",
        how="left",
    )
    two_cvrs = (
        (pl.col("decision") == SAME)
        & pl.col("_cvr_a").is_not_null()
        & pl.col("_cvr_b").is_not_null()
        & (pl.col("_cvr_a") != pl.col("_cvr_b"))
    )

    def missing(side: str) -> pl.Expr:
        rid = pl.col(f"record_id_{side}")
        return (
            pl.when(rid.is_in(repeated.implode()))
            .then(pl.format("record {} appears more than once in the input", rid))
            .otherwise(pl.format("record {} is no longer in the input", rid))
        )

    problem = (
        pl.when(pl.col("_a").is_null())
        .then(missing("a"))
        .when(pl.col("_b").is_null())
        .then(missing("b"))
        .when(two_cvrs)
        .then(
            pl.format(
                "refused: 'same' would join two different CVR numbers ({} and {})",
                "_cvr_a",
                "_cvr_b",
            )
        )
    )
    located = located.with_columns(problem.alias("problem"))
    problems = located.filter(pl.col("problem").is_not_null()).select(
        pl.col("record_id_a").alias("record_id_l"),
        pl.col("record_id_b").alias("record_id_r"),
        "decision",
        "problem",
    )
    pairs = located.filter(pl.col("problem").is_null()).select(
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
        "problems": decided.problems.to_dicts(),
        "not_honoured": not_honoured,
    }
