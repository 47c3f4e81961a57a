"""From matched pairs to customers: connected components, split where they contradict themselves.

In: the number of records, the matched pairs (record positions and their match weight), each
record's CVR number and the pairs that must never be joined (hard-rule vetoes).
Out: one component label per record.

Transitive closure can chain two customers together through a third record that resembles both
(Hansen Byg ApS, CVR 25313763 — "Hansen Byg" without CVR — Hansen Byg Holding, CVR 10150817).
Components are found with a vectorised hook-and-compress pass over all edges; only the few
components that hold two different CVR numbers or a vetoed pair are rebuilt, strongest link first,
refusing any link that would join what must stay apart — so the weakest link is the one dropped.

A *soft* veto (a Danish rule's judgement on one pair: a household, sister companies, unrelated
names) refuses only links weaker than ``certain_weight``: when A and B are certainly one customer
and B and C are too, a veto between A and C — their own pair badly typed — does not split them.
Two CVR numbers and a reviewer's ``different`` refuse every link.

Then the bridges (:func:`check_bridges`): a link below ``certain_weight`` that joins two groups of
two or more records is evidence about one pair, while the join says every record of the one group
is the customer of every record of the other; it holds only when the pairs compared across the
groups agree on average (average linkage across the bridge).
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl


def connected_components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Component label (the smallest member position) of each of ``n`` records.

    >>> connected_components(5, np.array([3, 1]), np.array([4, 0])).tolist()
    [0, 0, 2, 3, 3]
    """
    labels = np.arange(n, dtype=np.int64)
    if len(left) == 0:
        return labels
    a = np.asarray(left, dtype=np.int64)
    b = np.asarray(right, dtype=np.int64)
    while True:
        la, lb = labels[a], labels[b]
        if np.array_equal(la, lb):
            return labels
        low = np.minimum(la, lb)
        # Hook each root onto the smaller label its edges reach, then compress the pointer chains.
        np.minimum.at(labels, la, low)
        np.minimum.at(labels, lb, low)
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped


class _ConstrainedUnion:
    def __init__(
        self,
        members: list[int],
        cvr: dict[int, str],
        cannot: dict[int, set[int]],
        soft: dict[int, set[int]],
    ) -> None:
        self.parent = {m: m for m in members}
        self.cvr = {m: cvr.get(m) for m in members}
        self.members = {m: {m} for m in members}
        self.cannot = cannot
        self.soft = soft

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def try_union(self, a: int, b: int, *, certain: bool = False) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        ca, cb = self.cvr[ra], self.cvr[rb]
        if ca is not None and cb is not None and ca != cb:
            return False
        small, large = sorted((ra, rb), key=lambda r: len(self.members[r]))
        other = self.members[large]
        if any(self.cannot.get(x, set()) & other for x in self.members[small]):
            return False
        if not certain and any(self.soft.get(x, set()) & other for x in self.members[small]):
            return False
        self.parent[small] = large
        self.members[large] |= self.members.pop(small)
        self.cvr[large] = ca if ca is not None else cb
        return True


def split_conflicts(
    labels: np.ndarray,
    edges: pl.DataFrame,
    cvr: pl.Series,
    cannot_link: pl.DataFrame,
    *,
    certain_weight: float = float("inf"),
) -> tuple[np.ndarray, int]:
    """Labels with every contradictory component rebuilt; also the number of components split.

    ``edges``: ``_l``, ``_r``, ``match_weight`` of the matched pairs; ``cannot_link``: ``_l``,
    ``_r`` of vetoed pairs and optionally ``soft`` (true for a veto that links of at least
    ``certain_weight`` override); ``cvr``: each record's CVR number or null.
    """
    frame = pl.DataFrame({"_idx": np.arange(len(labels)), "label": labels, "cvr": cvr})
    multi_cvr = (
        frame.drop_nulls("cvr")
        .group_by("label")
        .agg(pl.col("cvr").n_unique().alias("n"))
        .filter(pl.col("n") > 1)["label"]
    )
    label_l = (
        pl.Series(labels).gather(cannot_link["_l"])
        if cannot_link.height
        else pl.Series([], dtype=pl.Int64)
    )
    label_r = (
        pl.Series(labels).gather(cannot_link["_r"])
        if cannot_link.height
        else pl.Series([], dtype=pl.Int64)
    )
    vetoed = label_l.filter(label_l == label_r)
    conflicted = set(multi_cvr.to_list()) | set(vetoed.to_list())
    if not conflicted:
        return labels, 0
    in_conflict = frame.filter(pl.col("label").is_in(list(conflicted)))
    members_of = in_conflict.group_by("label").agg("_idx").rows()
    cvr_of = {int(i): str(c) for i, c in in_conflict.drop_nulls("cvr").select("_idx", "cvr").rows()}
    conflicted_idx = in_conflict["_idx"]
    cannot: dict[int, set[int]] = {}
    soft: dict[int, set[int]] = {}
    soft_column = pl.col("soft") if "soft" in cannot_link.columns else pl.lit(False)
    for a, b, is_soft in (
        cannot_link.filter(pl.col("_l").is_in(conflicted_idx.implode()))
        .select("_l", "_r", soft_column.fill_null(False))
        .rows()
    ):
        kept = soft if is_soft else cannot
        kept.setdefault(int(a), set()).add(int(b))
        kept.setdefault(int(b), set()).add(int(a))
    inner = (
        edges.filter(pl.col("_l").is_in(conflicted_idx.implode()))
        .sort(["match_weight", "_l", "_r"], descending=[True, False, False])
        .select("_l", "_r", pl.col("match_weight") >= certain_weight)
        .rows()
    )
    members = [int(m) for _, group in members_of for m in group]
    union = _ConstrainedUnion(members, cvr_of, cannot, soft)
    for a, b, certain in inner:
        union.try_union(int(a), int(b), certain=bool(certain))
    out = labels.copy()
    for root, group in union.members.items():
        del root
        out[list(group)] = min(group)
    return out, len(conflicted)


def cluster_frame(records: pl.DataFrame, labels: np.ndarray, in_review: pl.Series) -> pl.DataFrame:
    """``record_id``, ``cluster_id``, ``cluster_size``, ``in_review_pair`` in input order.

    ``cluster_id`` is ``C`` and the smallest source row of the cluster, zero-padded (``C000123``),
    so the same input gives the same ids on every run.
    """
    frame = records.select("record_id", "_row").with_columns(
        pl.Series("_label", labels), in_review.alias("in_review_pair")
    )
    first_row = pl.col("_row").min().over("_label")
    return frame.select(
        "record_id",
        pl.format("C{}", first_row.cast(pl.String).str.zfill(6)).alias("cluster_id"),
        pl.len().over("_label").cast(pl.Int64).alias("cluster_size"),
        pl.col("in_review_pair").fill_null(False),
    )


def check_bridges(
    labels: np.ndarray,
    edges: pl.DataFrame,
    compared: pl.DataFrame,
    *,
    merge_weight: float,
) -> np.ndarray:
    """Labels with every component that weak links hold together rebuilt, each weak link between
    two groups of records checked against every pair compared across them.

    ``edges``: ``_l``, ``_r``, ``match_weight`` and ``certain`` of the matched pairs;
    ``compared``: ``_l``, ``_r``, ``match_weight`` of every scored pair. Links are taken strongest
    first. A certain link joins at once, and so does a link that adds a single record to a group:
    that is the pair's own decision, and a badly typed duplicate resembles the record it was copied
    from more than its siblings. A weak link between two groups of two or more records is a bridge:
    it says that every record of the one is the customer of every record of the other, and the
    pairs compared across them are evidence about that. The bridge holds only when their mean
    weight reaches ``merge_weight``, the weight a single pair needs to be a match (average
    linkage across the bridge); pairs never compared, which blocking did not propose, count for
    nothing either way.

    Example: {A, B} and {C, D} are certain pairs; B–C matches at 2 bits, A–C, A–D and B–D were
    compared at −6, −7 and −5 bits; with the merge point at 1.5 bits the mean across the bridge,
    (2 − 6 − 7 − 5) / 4 = −4 bits, keeps the two groups apart, and B–C is one of the matches
    :func:`unjoined` finds (on fake_1000 two families were chained through one name-only link
    this way).
    """
    sizes = np.bincount(labels, minlength=len(labels))
    label = pl.Series(labels)
    weak = edges.filter(~pl.col("certain"))
    # A bridge needs two groups of two: a component of four or more records.
    holding = label.gather(weak["_l"]).unique()
    affected = holding.filter(pl.Series(sizes).gather(holding) >= 4)
    if affected.len() == 0:
        return labels

    def within(frame: pl.DataFrame) -> pl.DataFrame:
        left, right = label.gather(frame["_l"]), label.gather(frame["_r"])
        return frame.filter((left == right) & left.is_in(affected.implode()))

    ordered = within(edges).sort(["match_weight", "_l", "_r"], descending=[True, False, False])
    # The certain links before the first weak one join whatever the order: joined at once here,
    # and the compared pairs summed per two of the groups they make, so that the loop below takes
    # the weak links and the groups' sums alone (PatentsView: 1.4M compared pairs, 0.1M weak).
    weak_at = (~ordered["certain"]).arg_true()
    certain_first = int(weak_at[0]) if weak_at.len() else ordered.height
    head = ordered.head(certain_first)
    joined = connected_components(len(labels), head["_l"].to_numpy(), head["_r"].to_numpy())
    across = _LinkSums.of_groups(joined, head, within(compared))
    for a, b, certain in ordered.slice(certain_first).select("_l", "_r", "certain").rows():
        ra, rb = across.find(a), across.find(b)
        if ra == rb:
            continue
        bridge = not certain and min(across.size(ra), across.size(rb)) > 1
        if bridge and across.mean(ra, rb) < merge_weight:
            continue
        across.union(ra, rb)
    out = labels.copy()
    for group in across.groups():
        out[group] = min(group)
    return out


def unjoined(matched: pl.DataFrame, labels: np.ndarray) -> pl.DataFrame:
    """The matched pairs (``_l``, ``_r``) whose two records ``labels`` keeps apart: a bridge
    :func:`check_bridges` refused, or a link :func:`split_conflicts` dropped because it would
    join two CVR numbers or a vetoed pair (Hansen Byg, CVR 75220111 — "Hansen Byg" without CVR —
    "Hansen Byggeri Anpartsselskab", CVR 75220111, the last two vetoed as different companies).
    The model called each a match and the clusters said no: a person decides.

    >>> unjoined(pl.DataFrame({"_l": [0, 1], "_r": [1, 2]}), np.array([0, 0, 2])).rows()
    [(1, 2)]
    """
    label = pl.Series(labels)
    apart = label.gather(matched["_l"]) != label.gather(matched["_r"])
    return matched.filter(apart).select("_l", "_r")


class _LinkSums:
    """Union-find over records that keeps, per pair of groups, the sum and count of the weights
    of the pairs compared across them (merged as the groups merge)."""

    def __init__(self, pairs: list[tuple[int, int, float]]) -> None:
        self.parent: dict[int, int] = {}
        self.sizes: dict[int, int] = {}
        self.links: dict[int, dict[int, list[float]]] = {}
        for a, b, w in pairs:
            for x, y in ((a, b), (b, a)):
                stats = self.links.setdefault(x, {}).setdefault(y, [0.0, 0.0])
                stats[0] += w
                stats[1] += 1

    @classmethod
    def of_groups(
        cls, group: np.ndarray, joined: pl.DataFrame, compared: pl.DataFrame
    ) -> _LinkSums:
        """The sums after the ``joined`` links (``_l``, ``_r``) were taken, ``group`` each record's
        group (its smallest member): the ``compared`` pairs (``_l``, ``_r``, ``match_weight``)
        summed per two groups, sorted, and every record of a group of two or more under it."""
        at = pl.Series(group)
        across = (
            compared.select(
                at.gather(compared["_l"]).alias("_a"),
                at.gather(compared["_r"]).alias("_b"),
                "match_weight",
            )
            .filter(pl.col("_a") != pl.col("_b"))
            .select(
                pl.min_horizontal("_a", "_b").alias("_a"),
                pl.max_horizontal("_a", "_b").alias("_b"),
                "match_weight",
            )
            .group_by("_a", "_b")
            .agg(pl.col("match_weight").sort().sum().alias("total"), pl.len().alias("count"))
            .sort("_a", "_b")
        )
        sums = cls([])
        for a, b, total, count in across.rows():
            sums.links.setdefault(a, {})[b] = [total, float(count)]
            sums.links.setdefault(b, {})[a] = [total, float(count)]
        members = pl.concat([joined["_l"], joined["_r"]]).unique().cast(pl.Int64)
        grouped = pl.DataFrame({"_x": members, "_g": at.gather(members)})
        for x, g in grouped.rows():
            sums.parent[x] = g
        for g, size in grouped.group_by("_g").len().rows():
            sums.sizes[g] = size
        return sums

    def find(self, x: int) -> int:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(x, x) != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def size(self, root: int) -> int:
        return self.sizes.get(root, 1)

    def mean(self, ra: int, rb: int) -> float:
        total, count = self.links.get(ra, {}).get(rb, (0.0, 0.0))
        return total / count if count else -math.inf

    def union(self, ra: int, rb: int) -> None:
        small, large = sorted((ra, rb), key=self.size)
        self.parent[small] = large
        self.sizes[large] = self.size(large) + self.size(small)
        for neighbour, stats in self.links.pop(small, {}).items():
            back = self.links[neighbour].pop(small)
            if neighbour == large:
                continue
            mine = self.links.setdefault(large, {}).setdefault(neighbour, [0.0, 0.0])
            theirs = self.links[neighbour].setdefault(large, [0.0, 0.0])
            mine[0], mine[1] = mine[0] + stats[0], mine[1] + stats[1]
            theirs[0], theirs[1] = theirs[0] + back[0], theirs[1] + back[1]

    def groups(self) -> list[list[int]]:
        found: dict[int, list[int]] = {}
        for member in self.links.keys() | self.parent.keys():
            found.setdefault(self.find(member), []).append(member)
        return [sorted(g) for g in found.values()]
