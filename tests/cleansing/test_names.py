"""Names: display name, legal form, name key, first/last names and MISSING_NAME."""

from __future__ import annotations

import polars as pl
import pytest

from cleansing.names import legal_form_of, name_key


def _apply(expr_fn, values: list[str | None]) -> list[str | None]:
    return (
        pl.DataFrame({"v": values}, schema={"v": pl.String})
        .select(expr_fn(pl.col("v")).alias("v"))["v"]
        .to_list()
    )


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Hansen Byg ApS", "hansen byg"),
        ("HANSEN BYG APS.", "hansen byg"),
        ("Hansen Byg Anpartsselskab", "hansen byg"),
        ("Hansen Byg, A.p.S.", "hansen byg"),
        ("  Hansen   Byg\tApS ", "hansen byg"),
        ("Andersen & Søn A/S", "andersen og soen"),
        ("Andersen og Søn A/S", "andersen og soen"),
        ("A/S Storebælt", "storebaelt"),
        ("Danish Crown A.m.b.a.", "danish crown"),
        ("Hansen Byg ApS under konkurs", "hansen byg"),
        ("Hansen Tømrer v/Jens Hansen", "hansen toemrer jens hansen"),
        ("Ålsgårde Køkkener", "aalsgaarde koekkener"),
        ("Aalsgaarde Koekkener", "aalsgaarde koekkener"),
        ("Müller Café GmbH", "mueller cafe"),
        ("McDonald's", "mcdonalds"),
        ("Ｈａｎｓｅｎ １２", "hansen 12"),
        ("Thomas", "thomas"),
        ("ApS", "aps"),
        ("  ... ", None),
        ("", None),
        (None, None),
    ],
)
def test_name_key(raw: str | None, key: str | None) -> None:
    assert _apply(name_key, [raw]) == [key]


@pytest.mark.parametrize(
    ("raw", "form"),
    [
        ("Hansen Byg ApS", "ApS"),
        ("Hansen Byg Aps.", "ApS"),
        ("HANSEN BYG APS", "ApS"),
        ("Hansen Byg Anpartsselskab", "ApS"),
        ("Andersen & Søn A/S", "A/S"),
        ("Andersen AS", "A/S"),
        ("Andersen A.S.", "A/S"),
        ("Andersen A / S", "A/S"),
        ("Danske Bank Aktieselskab", "A/S"),
        ("A/S Storebælt", "A/S"),
        ("Hansen & Co I/S", "I/S"),
        ("Hansen Holding ApS & Co. K/S", "K/S"),
        ("Hansen Advokater P/S", "P/S"),
        ("Hansen IVS", "IVS"),
        ("Hansen Tømrer v/Jens Hansen", "ENK"),
        ("Hansen Tømrer v/ Jens Hansen", "ENK"),
        ("Danish Crown A.m.b.a.", "AMBA"),
        ("Arla Foods amba", "AMBA"),
        ("Brugsforeningen F.M.B.A.", "FMBA"),
        ("Hansen Byg ApS i likvidation", "ApS"),
        ("Jens Hansen", None),
        ("Thomas", None),
        ("Aps", None),
        (None, None),
    ],
)
def test_legal_form_of(raw: str | None, form: str | None) -> None:
    assert _apply(legal_form_of, [raw]) == [form]
