"""UTF-8 text that was once read as cp1252 (or latin-1), repaired: ``SÃ¸ren MÃ¸ller`` is
``Søren Møller``.

In: the canonical frame's ``raw_*`` text columns. Out: the same columns, a cell repaired only
where its whole text reads back as UTF-8; the input's own cell stays in ``src_*``.

A CRM that once imported a UTF-8 file as cp1252 holds such names and addresses for good: every
Danish letter became two characters (``ø`` → ``Ã¸``, ``Å`` → ``Ã…``). The file itself is read
right (see :mod:`datavask.connectors.files`); it is the values that are wrong, and they hide a
duplicate from its correctly written twin and go back to the CRM as they were. A cell is a
candidate only when it holds ``Ã`` or ``Â`` followed by another character (a vectorised test);
those few are encoded back to the bytes they came from and decoded as UTF-8, and the repair is
kept only when that succeeds strictly — ``Ãrhus`` typed by hand, or a Portuguese ``São`` that
was never UTF-8 in disguise, stays as written.
"""

from __future__ import annotations

from typing import Final

import polars as pl

# The lead bytes of two-byte UTF-8 sequences for Latin letters, as cp1252 shows them: the first
# character of every mis-decoded æ, ø, å, é, ü … (U+00C0–U+00FF).
_CANDIDATE: Final = r"[ÃÂ]."


def repaired(text: str) -> str:
    """``text`` decoded again as the UTF-8 its cp1252 (or latin-1) characters were, or as it is.

    >>> repaired("SÃ¸ren MÃ¸ller, NÃ¸rregade")
    'Søren Møller, Nørregade'
    >>> repaired("Ã…benrÃ¥")
    'Åbenrå'
    >>> repaired("São Paulo")
    'São Paulo'
    """
    for codec in ("cp1252", "latin-1"):
        try:
            fixed = text.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
        return fixed
    return text


def repair_mojibake(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """``frame`` with the text ``columns`` repaired (:func:`repaired`) where they hold UTF-8 read
    as cp1252; only the distinct candidate values are decoded one by one."""
    fixes = []
    for name in columns:
        if frame.schema[name] != pl.String:
            continue
        values = frame.get_column(name)
        suspect = values.str.contains(_CANDIDATE).fill_null(False)
        if not suspect.any():
            continue
        distinct = values.filter(suspect).unique()
        table = pl.DataFrame({"_from": distinct, "_to": [repaired(v) for v in distinct.to_list()]})
        fixes.append(values.replace(table["_from"], table["_to"]).alias(name))
    return frame.with_columns(fixes) if fixes else frame
