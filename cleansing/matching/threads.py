"""Independent pieces of the matcher's work spread over the machine's cores.

Polars and rapidfuzz release the GIL while they compute, but most of the matcher's eager steps (a
string column gathered, compared, split) run on one core each. Pieces that do not depend on each
other — the slices of the candidate pairs, the blocking rules — run in as many threads as polars
has (two on a 2-core machine), and come back in the pieces' order: the result is the one a loop
would give. What the model needs of the records alone (term frequencies, u) is worked out beside
blocking and comparing (:func:`beside`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import polars as pl

T = TypeVar("T")
R = TypeVar("R")


def in_order(work: Callable[[T], R], pieces: Iterable[T]) -> list[R]:
    """``[work(p) for p in pieces]``, the pieces run side by side in up to
    ``polars.thread_pool_size()`` threads; the results in the pieces' order."""
    pieces = list(pieces)
    workers = min(len(pieces), pl.thread_pool_size())
    if workers <= 1:
        return [work(p) for p in pieces]
    with ThreadPoolExecutor(workers, thread_name_prefix="datavask-match") as pool:
        return list(pool.map(work, pieces))


@contextmanager
def beside(work: Callable[[], R]) -> Iterator[Future[R]]:
    """``work()`` started in a thread of its own while the block runs; its future (the block
    asks for ``.result()``). Leaving the block waits for the work to end."""
    with ThreadPoolExecutor(1, thread_name_prefix="datavask-match-beside") as pool:
        yield pool.submit(work)
