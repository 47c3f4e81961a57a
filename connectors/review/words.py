"""The review page's words: what :mod:`datavask.cleansing.review` returns, in the reviewer's language.

Every word comes from the catalogue (:data:`datavask.connectors.report_text.MESSAGES`, keys
``review_*``), so the page reads as the report does: Danish by default, English with ``--lang en``.
A comparison level the catalogue does not know (a mapping's own evidence column) is shown as
``pairs.parquet`` names it.

>>> from datavask.cleansing.review import Evidence
>>> words = ReviewWords(Text("da"))
>>> line = words.evidence([Evidence("address", "same street", 9.9, "for", "Vestergade 12",
...                                 "Vestergade 14", (("house_number", "12", "14"),))])[0]
>>> line.finding, line.strength, line.factor
('samme vej, andet husnummer (12 / 14)', 'meget stærkt bevis for, at det er samme kunde', '955× mere sandsynligt')
"""  # noqa: E501

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from datavask.cleansing.review import Evidence, MergePreview
from datavask.connectors.report_text import Text

# pairs.parquet's comparison levels (cleansing/matching/compare.py) as catalogue keys
_LEVELS: Final = {
    "exact": "exact",
    "missing": "missing",
    "different": "different",
    "shares most words": "most_words",
    "token >= 0.80": "somewhat_alike",
    "token >= 0.92": "very_alike",
    "jaro-winkler >= 0.80": "somewhat_alike",
    "jaro-winkler >= 0.92": "very_alike",
    "jaro-winkler >= 0.80, 3 edits or more": "somewhat_alike_3_edits",
    "jaro-winkler >= 0.80 or one edit": "somewhat_alike_or_one_edit",
    "one edit": "one_edit",
    "two of year, month, day": "two_of_date",
    "initial, first given name or nickname": "initial",
    "same postal code": "same_postal_code",
    "same street": "same_street",
    "same street and number": "same_street_and_number",
    "same building, other unit": "same_building_other_unit",
    "same building": "same_building",
    "same number": "same_number",
    "shared number": "shared_number",
    "shared address": "shared_address",
    "different personal addresses": "personal_addresses",
}
# The address part a level's words already name: ``same street, other house number (12 / 14)``
# needs no "house number" before the numbers; any other part that differs is named.
_NAMED_BY_LEVEL: Final = {
    "same street": "house_number",
    "same building, other unit": "unit",
    "same building": "unit",
}
# Words the page's script shows (progress, saving, errors), keyed as the script asks for them.
_SCRIPT_WORDS: Final = (
    "progress", "saved", "not_saved", "not_loaded", "nothing_to_undo",
    "decision_same", "decision_different", "decision_undecided",
)  # fmt: skip


@dataclass(frozen=True)
class EvidenceLine:
    """One compared field as the page shows it: both records' values and what they say."""

    field: str
    finding: str
    strength: str
    factor: str
    direction: str
    left: str
    right: str


class ReviewWords:
    """The review page's words in one language: ``ReviewWords(Text("da")).chance(0.997)``."""

    def __init__(self, text: Text) -> None:
        self.text = text
        self.lang = text.lang

    def __call__(self, key: str, /, **values: object) -> str:
        return self.text(f"review_{key}", **values)

    def _known(self, key: str, fallback: str) -> str:
        return self(key) if f"review_{key}" in self.text.messages else fallback

    def chance(self, probability: float) -> str:
        """The sentence about the model's match probability (``… til 99,7 %.``)."""
        return self("probability", percent=self.text.chance(probability))

    def decision(self, decision: str) -> str:
        """``same`` / ``different`` / ``undecided`` as the page says them."""
        return self._known(f"decision_{decision}", decision)

    def why_review(self, rule: str | None) -> str | None:
        """Why a pair the model scored as a match is only a review, for ``pairs.parquet``'s
        ``review_rule``; None for a pair in review by its score alone."""
        return None if rule is None else self._known(f"why_{rule}", rule)

    def stake(self, key: str) -> str:
        return self._known(f"stake_{key}", key)

    def row(self, key: str) -> str:
        """A side-by-side row's label (an input column's own name stays as it is)."""
        return self._known(f"row_{key}", key)

    def field(self, name: str) -> str:
        return self._known(f"field_{name}", name.removeprefix("evidence_").replace("_", " "))

    def level(self, level: str) -> str:
        key = _LEVELS.get(level)
        return self(f"level_{key}") if key else level

    def _strength(self, weight: float) -> tuple[str, str]:
        """What a weight in bits says, and how many times likelier it makes one customer."""
        size = abs(weight)
        if size == 0:
            return self("no_evidence"), ""
        word = self(
            "strength_"
            + (
                "weak"
                if size < 1
                else "some"
                if size < 3
                else "strong"
                if size < 6
                else "very_strong"
            )
        )
        times = self.text.number(2**size, 1 if size < 1 else 0)
        if weight > 0:
            return self("evidence_for", strength=word), self("factor_more", times=times)
        return self("evidence_against", strength=word), self("factor_less", times=times)

    def _finding(self, item: Evidence) -> str:
        finding = self.level(item.level)
        if not item.differs:
            return finding
        own = _NAMED_BY_LEVEL.get(item.level)
        parts = [
            ("" if part == own else f"{self(f'part_{part}')} ") + f"{left or '—'} / {right or '—'}"
            for part, left, right in item.differs
        ]
        return f"{finding} ({'; '.join(parts)})"

    def evidence(self, items: list[Evidence]) -> list[EvidenceLine]:
        """Each compared field of a pair (:func:`datavask.cleansing.review.evidence`) in words."""
        lines = []
        for item in items:
            strength, factor = self._strength(item.weight)
            lines.append(
                EvidenceLine(
                    field=self.field(item.field),
                    finding=self._finding(item),
                    strength=strength,
                    factor=factor,
                    direction=item.direction,
                    left=item.left,
                    right=item.right,
                )
            )
        return lines

    def golden(self, field: str) -> str:
        return self._known(f"golden_{field}", field)

    def rule(self, rule: str, record: str) -> str:
        """Where a merged customer's value comes from: ``fra CVR-registret (10001)``."""
        return self("rule_from", rule=self._known(f"rule_{rule}", rule), record=record)

    def preview(self, preview: MergePreview) -> str:
        """What a ``same`` does: ``Kunderne C1 og C2 bliver én kunde med 3 poster; post 10001
        overlever, og 10002 og 10003 lægges ind i den``."""
        many = "many" if len(preview.customers) > 1 else "one"
        customers = self.listing(preview.customers)
        text = self(f"preview_{many}", customers=customers, members=len(preview.members))
        text += self("preview_survivor", survivor=preview.survivor)
        if merged := preview.members[1:]:
            many = "many" if len(merged) > 1 else "one"
            text += self(f"preview_merged_{many}", merged=self.listing(merged))
        return text + "."

    def listing(self, items: list[str]) -> str:
        """``10002, 10003 og 10004``."""
        if len(items) < 2:
            return "".join(items)
        return ", ".join(items[:-1]) + self("and") + items[-1]

    def script(self) -> dict[str, str]:
        """The words the page's script fills in (``{n}``, ``{decision}`` … stay placeholders)."""
        return {key: self(key) for key in _SCRIPT_WORDS}
