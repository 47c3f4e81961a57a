"""The clusters of the Dask matcher without a task that holds every record.

The local run (:func:`~datavask.cleansing.matching._cluster`) takes the connected components of
all matched pairs, splits those that join two CVR numbers or a vetoed pair, then checks their
bridges. Here:

=======================  =======================================================================
task                     what it does
=======================  =======================================================================
``mcclabel<k>.0-q``      row partition ``q``'s component labels, each record its own position
``mccnodes<k>-c``        the records chunk ``c``'s matched pairs name, per row partition
``mccask<k>.<r>-q``      round ``r``: the labels partition ``q`` holds of each chunk's records,
                         cut by chunk (the partition read once; a chunk takes its pieces)
``mccprop<k>.<r>-c``     the components of chunk ``c``'s links under those labels: every record
                         and every label it holds proposes the smallest label of its component
``mccmin<k>.<r>-q``      partition ``q``'s labels lowered to the smallest proposal; the rounds go
                         on until no label changes (the driver gathers the count)
``mccat<k>-q``           the final labels partition ``q`` holds of each chunk's records (all of
                         them), cut by chunk
``mccout<k>-c``          chunk ``c``'s matched and vetoed pairs and its pairs inside one
                         component, cut into buckets of whole components (by label)
``mccmembers<k>-q``      partition ``q``'s records in a component of two or more (their CVR
                         number and source row), cut the same way
``mccsplit<k>-b``        bucket ``b``: the local split (:func:`~.clusters.split_conflicts`) and
                         bridge check (:func:`~.clusters.check_bridges`) on its components
``mclusters<k>-q``       partition ``q``'s final labels, cluster sizes and first source rows
=======================  =======================================================================

The rounds are label propagation with the roots hooked as well (a chunk proposes its component's
smallest label both to its records and to the labels they held), so a chain across chunks
shortens by more than one link a round. A label is always the position of a record of the same
component, so when no label changes every component carries the smallest position of its records:
the local run's label. Buckets hold whole components and the pairs keep their order (chunks in
order, each in its own), so the split and the bridge check see what the local run sees of each
component, and sum the weights across a bridge in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

# --------------------------------------------------------------------------- label propagation


def initial_labels(records: pl.DataFrame) -> dict[str, Any]:
    """A row partition's labels before the first round: each record its own position."""
    positions = records["_idx"].to_numpy().astype(np.int64)
    start = int(positions[0]) if len(positions) else 0
    return {"start": start, "label": positions}


def link_nodes(links: tuple[pl.DataFrame, pl.DataFrame], offsets: Sequence[int]) -> list[pl.Series]:
    """Per row partition, the records the chunk's matched pairs name (sorted)."""
    from datavask.cleansing.matching.chunked import wanted

    return wanted(links[0], offsets)


def looked_up(state: dict[str, Any], asked: list[pl.Series], partition: int) -> np.ndarray:
    """The labels of the records ``asked[partition]`` names."""
    positions = asked[partition].to_numpy().astype(np.int64)
    return state["label"][positions - state["start"]]


def looked_up_routed(
    state: dict[str, Any], asked: Sequence[list[pl.Series]], partition: int
) -> list[np.ndarray]:
    """Per chunk, the labels of the records of the partition it names (:func:`looked_up`): the
    partition's labels read once, cut by chunk."""
    return [looked_up(state, a, partition) for a in asked]


def _owners(offsets: Sequence[int], positions: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.asarray(offsets, dtype=np.int64), positions, side="right") - 1


def proposals(
    links: tuple[pl.DataFrame, pl.DataFrame],
    nodes: list[pl.Series],
    piece: tuple[Sequence[Sequence[np.ndarray]], int],
    offsets: Sequence[int],
) -> list[pl.DataFrame]:
    """Per row partition, the lower labels (``node``, ``label``) the chunk's matched pairs
    propose: the smallest label in each component of the chunk's links, to its records and to
    the labels they hold (``piece``: every partition's labels cut by chunk,
    :func:`looked_up_routed`, and which piece is this chunk's)."""
    from datavask.cleansing.matching.clusters import connected_components

    routes, c = piece
    looked = [route[c] for route in routes]

    positions = pl.concat(list(nodes)).to_numpy().astype(np.int64)
    labels = np.concatenate([np.asarray(x, dtype=np.int64) for x in looked]) if looked else None
    empty = pl.DataFrame(schema={"node": pl.Int64, "label": pl.Int64})
    if labels is None or len(positions) == 0:
        return [empty for _ in offsets]
    matched = links[0]
    left = np.searchsorted(positions, matched["_l"].to_numpy())
    right = np.searchsorted(positions, matched["_r"].to_numpy())
    component = connected_components(len(positions), left, right)
    smallest = labels.copy()
    np.minimum.at(smallest, component, labels)
    lowered = smallest[component]
    down = lowered < labels
    frame = pl.DataFrame(
        {
            "node": np.concatenate([positions[down], labels[down]]),
            "label": np.concatenate([lowered[down], lowered[down]]),
        }
    )
    owner = _owners(offsets, frame["node"].to_numpy())
    cut = frame.with_columns(pl.Series("_owner", owner)).partition_by(
        "_owner", as_dict=True, include_key=False
    )
    return [cut.get((q,), empty) for q in range(len(offsets))]


def lowered(
    state: dict[str, Any], proposed: Sequence[list[pl.DataFrame]], partition: int
) -> tuple[dict[str, Any], int]:
    """The partition's labels lowered to the smallest label proposed for each, and how many
    changed."""
    label = state["label"].copy()
    mine = pl.concat([p[partition] for p in proposed], how="vertical")
    if mine.height:
        np.minimum.at(label, mine["node"].to_numpy() - state["start"], mine["label"].to_numpy())
    return {"start": state["start"], "label": label}, int((label != state["label"]).sum())


def total(counts: Sequence[int]) -> int:
    return int(sum(counts))


# --------------------------------------------------------------------------- buckets of components


def _bucket_of(label: pl.Expr | pl.Series, buckets: int) -> Any:
    return label % buckets


def chunk_out(
    links: tuple[pl.DataFrame, pl.DataFrame],
    scored: pl.DataFrame,
    asked: list[pl.Series],
    piece: tuple[Sequence[Sequence[np.ndarray]], int],
    buckets: int,
) -> list[dict[str, pl.DataFrame]]:
    """The chunk's matched pairs, its vetoed pairs inside one component and its scored pairs
    (``_l``, ``_r``, ``match_weight``) inside one component, cut into ``buckets`` by the
    component's label (``piece``: every partition's labels cut by chunk,
    :func:`looked_up_routed`, and which piece holds the labels of this chunk's records;
    ``asked`` their positions)."""
    from datavask.cleansing.matching import bridge_evidence

    routes, c = piece
    looked = [route[c] for route in routes]
    positions = pl.concat(list(asked))
    labels = pl.Series(np.concatenate([np.asarray(x, dtype=np.int64) for x in looked]))

    def labelled(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            labels.gather(positions.search_sorted(frame["_l"])).alias("_lab_l"),
            labels.gather(positions.search_sorted(frame["_r"])).alias("_lab_r"),
        )

    matched, cannot = (labelled(f) for f in links)
    inside = labelled(bridge_evidence(scored))
    cannot = cannot.filter(pl.col("_lab_l") == pl.col("_lab_r"))
    inside = inside.filter(pl.col("_lab_l") == pl.col("_lab_r"))

    def cut(frame: pl.DataFrame) -> list[pl.DataFrame]:
        keyed = frame.with_columns(_bucket_of(pl.col("_lab_l"), buckets).alias("_bucket"))
        parts = keyed.partition_by("_bucket", as_dict=True, include_key=False)
        empty = frame.clear()
        return [parts.get((b,), empty).drop("_lab_l", "_lab_r") for b in range(buckets)]

    pieces = [cut(matched), cut(cannot), cut(inside)]
    return [
        {"matched": pieces[0][b], "cannot": pieces[1][b], "inside": pieces[2][b]}
        for b in range(buckets)
    ]


def members(
    records: pl.DataFrame,
    state: dict[str, Any],
    nodes: Sequence[list[pl.Series]],
    partition: int,
    buckets: int,
) -> list[pl.DataFrame]:
    """The partition's records some matched pair names, with their component label, CVR number
    and source row, cut into ``buckets`` by label."""
    named = pl.concat([n[partition] for n in nodes]).unique().sort()
    rows = (named - state["start"]).cast(pl.Int64)
    found = records.select("_idx", "cvr", "_row")[rows].with_columns(
        pl.Series("_label", state["label"][rows.to_numpy()])
    )
    parts = found.with_columns(_bucket_of(pl.col("_label"), buckets).alias("_bucket")).partition_by(
        "_bucket", as_dict=True, include_key=False
    )
    return [parts.get((b,), found.clear()) for b in range(buckets)]


def split_bucket(
    member_pieces: Sequence[list[pl.DataFrame]],
    outs: Sequence[list[dict[str, pl.DataFrame]]],
    bucket: int,
    band: Any,
    offsets: Sequence[int],
) -> tuple[list[pl.DataFrame], pl.DataFrame]:
    """The bucket's components split and their bridges checked as the local run does it (see
    :func:`~datavask.cleansing.matching._cluster`), on its own records: per row partition the
    final label, cluster size and first source row of each member (``_idx``, ``_label``,
    ``_size``, ``_first_row``), and the matched pairs the clusters refused."""
    from datavask.cleansing.matching import bridge_links
    from datavask.cleansing.matching.clusters import check_bridges, split_conflicts, unjoined
    from datavask.cleansing.matching.review_band import weight

    found = pl.concat([m[bucket] for m in member_pieces], how="vertical").sort("_idx")
    matched = pl.concat([o[bucket]["matched"] for o in outs], how="vertical")
    cannot = pl.concat([o[bucket]["cannot"] for o in outs], how="vertical")
    inside = pl.concat([o[bucket]["inside"] for o in outs], how="vertical")
    positions = found["_idx"]

    def local(frame: pl.DataFrame) -> pl.DataFrame:
        # Positions in the bucket keep their order, so sorting by them sorts as the local run.
        return frame.with_columns(
            positions.search_sorted(frame["_l"]).cast(frame.schema["_l"]).alias("_l"),
            positions.search_sorted(frame["_r"]).cast(frame.schema["_r"]).alias("_r"),
        )

    labels = positions.search_sorted(found["_label"]).to_numpy().astype(np.int64)
    matched, cannot, inside = local(matched), local(cannot), local(inside)
    split, _ = split_conflicts(
        labels, matched, found["cvr"], cannot, certain_weight=band.certain_weight
    )
    label = pl.Series(split)
    sizes = pl.Series(np.bincount(split, minlength=len(split)))
    left, right = label.gather(inside["_l"]), label.gather(inside["_r"])
    within = inside.filter((left == right) & (sizes.gather(left) >= 4))
    final = check_bridges(
        split, bridge_links(matched, band), within, merge_weight=weight(band.high)
    )
    refused = unjoined(matched, final)
    out = found.select(
        "_idx",
        positions.gather(pl.Series(final)).cast(pl.Int64).alias("_label"),
        "_row",
    ).with_columns(
        pl.len().over("_label").cast(pl.Int64).alias("_size"),
        pl.col("_row").min().over("_label").alias("_first_row"),
    )
    owner = _owners(offsets, out["_idx"].to_numpy().astype(np.int64))
    cut = (
        out.drop("_row")
        .with_columns(pl.Series("_owner", owner))
        .partition_by("_owner", as_dict=True, include_key=False)
    )
    empty = out.drop("_row").clear()
    refused = refused.select(
        positions.gather(refused["_l"]).cast(refused.schema["_l"]).alias("_l"),
        positions.gather(refused["_r"]).cast(refused.schema["_r"]).alias("_r"),
    )
    return [cut.get((q,), empty) for q in range(len(offsets))], refused


def partition_clusters(
    records: pl.DataFrame, split: Sequence[tuple[list[pl.DataFrame], pl.DataFrame]], partition: int
) -> pl.DataFrame:
    """Per record of the partition (in order): its final label (``_label``: the smallest
    position of its cluster), ``_size`` and ``_first_row`` (the smallest source row)."""
    own = records.select(
        pl.col("_idx").cast(pl.Int64),
        pl.col("_idx").cast(pl.Int64).alias("_label"),
        pl.lit(1, dtype=pl.Int64).alias("_size"),
        pl.col("_row").alias("_first_row"),
    )
    found = pl.concat([s[0][partition] for s in split], how="vertical")
    if found.height == 0:
        return own.drop("_idx")
    found = found.select(
        pl.col("_idx").cast(pl.Int64),
        "_label",
        "_size",
        pl.col("_first_row").cast(own.schema["_first_row"]),
    )
    return own.update(found, on="_idx", how="left").drop("_idx")


def refused_links(split: Sequence[tuple[list[pl.DataFrame], pl.DataFrame]]) -> pl.DataFrame:
    """The matched pairs the clusters refused (a few)."""
    return pl.concat([s[1] for s in split], how="vertical")


# --------------------------------------------------------------------------- the driver's side


def partitioned_components(
    submit: Any,
    gather: Any,
    k: int | str,
    parts: dict[str, Any],
) -> tuple[list[Any], Any]:
    """Per row partition the future of its clusters (:func:`partition_clusters`) after tf pass
    ``k`` (``"1h"``: after the two-hop pass), and the future of the refused links. ``parts``:
    ``prepared`` (the row partitions' records), ``offsets``, ``links``, ``scored`` and ``asked``
    (per chunk), ``band``."""
    prepared, offsets = parts["prepared"], list(parts["offsets"])
    links, scored, asked, band = parts["links"], parts["scored"], parts["asked"], parts["band"]
    rows, chunks = range(len(prepared)), range(len(links))
    state = [submit(f"mcclabel{k}.0", q, initial_labels, prepared[q]) for q in rows]
    nodes = [submit(f"mccnodes{k}", c, link_nodes, links[c], offsets) for c in chunks]
    rounds = 0
    while True:
        rounds += 1
        # Each partition's labels read once a round and cut by chunk; a chunk takes its pieces.
        looked = [
            submit(f"mccask{k}.{rounds}", q, looked_up_routed, state[q], nodes, q) for q in rows
        ]
        proposed = [
            submit(f"mccprop{k}.{rounds}", c, proposals, links[c], nodes[c], (looked, c), offsets)
            for c in chunks
        ]
        del looked
        updated = [submit(f"mccmin{k}.{rounds}", q, lowered, state[q], proposed, q) for q in rows]
        state = [submit(f"mccstate{k}.{rounds}", q, _item, u, 0) for q, u in enumerate(updated)]
        changed = [submit(f"mccchanged{k}.{rounds}", q, _item, u, 1) for q, u in enumerate(updated)]
        if gather(submit(f"mcctotal{k}.{rounds}", 0, total, changed)) == 0:
            break
    buckets = len(prepared)
    looked = [submit(f"mccat{k}", q, looked_up_routed, state[q], asked, q) for q in rows]
    outs = [
        submit(f"mccout{k}", c, chunk_out, links[c], scored[c], asked[c], (looked, c), buckets)
        for c in chunks
    ]
    del looked
    found = [
        submit(f"mccmembers{k}", q, members, prepared[q], state[q], nodes, q, buckets) for q in rows
    ]
    split = [
        submit(f"mccsplit{k}", b, split_bucket, found, outs, b, band, offsets)
        for b in range(buckets)
    ]
    clusters = [submit(f"mclusters{k}", q, partition_clusters, prepared[q], split, q) for q in rows]
    return clusters, submit(f"mrefused{k}", 0, refused_links, split)


def _item(container: Any, key: Any) -> Any:
    return container[key]
