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
"""

from __future__ import annotations

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
