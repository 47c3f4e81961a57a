"""Per row, the list of the names whose condition holds — ``flags``, ``registry_applied``.

Building such a list with ``concat_list`` of one ``when(condition).then(name)`` per name and
``list.drop_nulls`` costs a string column per name and a list per row: 55 s for the verdict's 21
reason codes at a million records on a loaded 2-core machine. Here the conditions become one bit
mask per row, each distinct mask (a few hundred) gets its list once, and the rows gather theirs:
0.3 s for the same column, the same lists.

>>> frame = pl.DataFrame({"a": [True, False, True], "b": [True, None, False]})
>>> names_where(frame, {"a": pl.col("a"), "b": pl.col("b")}).to_list()
[['a', 'b'], [], ['a']]
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

_MAX_NAMES = 63  # bits of one UInt64 mask


def names_where(frame: pl.DataFrame, conditions: Mapping[str, pl.Expr]) -> pl.Series:
    """A ``list[str]`` Series, one list per row of ``frame``: the names whose condition is true.

    Names keep the order of ``conditions``; a null condition counts as false. At most 63 names.
    """
    names = list(conditions)
    if len(names) > _MAX_NAMES:
        raise ValueError(f"at most {_MAX_NAMES} names fit one mask, got {len(names)}")
    if not names:
        return pl.Series(values=[[]] * frame.height, dtype=pl.List(pl.String))
    bits = [
        condition.fill_null(False).cast(pl.UInt64) * (1 << i)
        for i, condition in enumerate(conditions.values())
    ]
    masks = frame.select(pl.sum_horizontal(bits).cast(pl.UInt64).alias("mask")).to_series()
    if masks.len() != frame.height:  # conditions that are all literals give one value
        masks = masks.extend_constant(masks[0], frame.height - masks.len())
    distinct = masks.unique().sort()
    lists = pl.Series(
        values=[[n for i, n in enumerate(names) if mask >> i & 1] for mask in distinct.to_list()],
        dtype=pl.List(pl.String),
    )
    return lists.gather(distinct.search_sorted(masks))
