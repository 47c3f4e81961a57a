"""The report's customer rows as JSON: polars writes the bytes orjson wrote from Python tuples.

:func:`~datavask.connectors.report.rows_json` replaced ``orjson.dumps(frame.rows())``; the page
must not change by a byte, whatever the values, and must stay safe inside its ``<script>`` block.
"""

from __future__ import annotations

import json
import random
from typing import Any

import orjson
import polars as pl
import pytest

from datavask.connectors.report import render_html, rows_json, script_safe_json
from datavask.connectors.report_model import CUSTOMER_FIELDS, build_model

CONTROL = "".join(chr(c) for c in range(0x20)) + "\x7f\x80\x9f"
HOSTILE = (
    'say "hi"',
    "back\\slash\\",
    '\\"',
    "</script><script>alert('x')</script>",
    "<!--",
    "a & b",
    "line\u2028separator\u2029paragraph",
    CONTROL,
    "æøå ÆØÅ",
    "😀 👨‍👩‍👧 \U0010ffff",
    "",
    " ",
    '{"":1}',
    "],[",
    "\ufeff",
)


def orjson_rows(frame: pl.DataFrame) -> bytes:
    """What the page carried before: the rows as Python tuples, serialised by orjson."""
    return orjson.dumps(frame.rows())


def polars_rows(frame: pl.DataFrame) -> bytes:
    return orjson.dumps(rows_json(frame))


def test_hostile_text_is_written_as_orjson_writes_it() -> None:
    values = [*HOSTILE, None]
    frame = pl.DataFrame(
        {
            "text": values,
            "reversed": [v[::-1] if v is not None else None for v in reversed(values)],
        }
    )
    assert polars_rows(frame) == orjson_rows(frame)


def test_numbers_booleans_nulls_and_nested_lists() -> None:
    floats = [0.95, 1.0, -0.0, 1e20, 1e21, 1e-7, 0.1 + 0.2, 5e-324, 1.7976931348623157e308]
    floats += [float("nan"), float("inf"), -float("inf"), None, 123456789012345680.0, 100.0]
    n = len(floats)
    frame = pl.DataFrame(
        {
            "float": floats,
            "int": [2**63 - 1, -(2**63), 0, -1, None, *range(n - 5)],
            "uint": pl.Series([2**64 - 1, *range(n - 1)], dtype=pl.UInt64),
            "small": pl.Series([None, *range(n - 1)], dtype=pl.Int8),
            "bool": [True, False, None] * (n // 3),
            "null": [None] * n,
            "words": [["a", '"', None], [], None, [HOSTILE[3]], *[[h] for h in HOSTILE[: n - 4]]],
            "nested": [[[1, 2], None, []], None, [[None]], *[[[i]] for i in range(n - 3)]],
        }
    )
    assert polars_rows(frame) == orjson_rows(frame)


def test_random_text_from_a_hostile_alphabet() -> None:
    alphabet = [*CONTROL, '"', "\\", "/", "<", ">", "&", "'", "\u2028", "\u2029", "æ", "ø", "å"]
    alphabet += ["😀", "\ufffd", "a", " ", ",", "[", "]", "{", "}", ":"]
    pick = random.Random(14)
    words = [
        "".join(pick.choices(alphabet, k=pick.randint(0, 12))) if pick.random() > 0.1 else None
        for _ in range(5000)
    ]
    frame = pl.DataFrame({"a": words, "b": list(reversed(words))})
    lists = frame.select(pl.concat_list("a", "b").alias("ab"))
    assert polars_rows(frame) == orjson_rows(frame)
    assert polars_rows(lists) == orjson_rows(lists)


def test_the_customer_columns_of_a_large_frame() -> None:
    """Every column type the page's customers have, over more rows than one chunk of work."""
    pick = random.Random(2028)
    n = 20_000
    frame = pl.DataFrame(
        {
            "cluster_id": [f"c{i}" for i in range(n)],
            "records": [pick.randint(1, 9) for _ in range(n)],
            "name": [pick.choice(HOSTILE) if pick.random() < 0.5 else None for _ in range(n)],
            "flags": [pick.sample(HOSTILE, pick.randint(0, 3)) for _ in range(n)],
            "merge_score": [pick.random() if pick.random() < 0.7 else None for _ in range(n)],
        }
    )
    assert polars_rows(frame) == orjson_rows(frame)


def test_empty_frames() -> None:
    empty = pl.DataFrame(schema={"a": pl.String, "b": pl.List(pl.String)})
    assert polars_rows(empty) == orjson_rows(empty) == b"[]"


@pytest.mark.parametrize(
    "dtype", [pl.Float32, pl.Date, pl.Datetime, pl.Decimal(10, 2), pl.Struct({"a": pl.String})]
)
def test_a_type_written_otherwise_is_refused(dtype: pl.DataType) -> None:
    """Types whose JSON differs from orjson's (Float32's shortest form, dates) are refused."""
    frame = pl.DataFrame({"ok": ["x"]}).with_columns(pl.lit(None, dtype).alias("bad"))
    with pytest.raises(TypeError, match="bad"):
        rows_json(frame)


def test_rows_stay_safe_inside_a_script_block() -> None:
    frame = pl.DataFrame({"text": [*HOSTILE, None], "list": [[h] for h in HOSTILE] + [None]})
    safe = str(script_safe_json({"customers": rows_json(frame)}))
    assert not {"<", ">", "&", "'"} & set(safe)
    assert json.loads(safe)["customers"] == json.loads(orjson_rows(frame))


def test_a_hostile_customer_on_the_page() -> None:
    """The whole page: its data block is the orjson rows, escaped for ``<script>``."""
    records = pl.DataFrame(
        {
            "cluster_id": ["1", "1", "3"],
            "record_id": ["1", "2", "3"],
            "is_survivor": [True, False, True],
            "flags": [["DUPLICATE"], ["DUPLICATE", "INVALID_EMAIL"], ["INVALID_PHONE"]],
            "invoice_ready": [True, True, False],
            "collection_ready": [True, False, False],
            "name": [HOSTILE[3], HOSTILE[6], HOSTILE[7]],
            "email": [HOSTILE[0], HOSTILE[1], HOSTILE[9]],
        }
    )
    model = build_model({"counts": {"records": 3}}, records)
    assert model.customers.columns == list(CUSTOMER_FIELDS)
    html = render_html(model)
    block = html.split('<script type="application/json" id="datavask-data">')[1]
    block = block.split("</script>")[0]
    assert not {"<", ">", "&", "'"} & set(block)
    data: dict[str, Any] = json.loads(block)
    assert data["customers"] == json.loads(orjson_rows(model.customers))
    assert HOSTILE[3] in {row[CUSTOMER_FIELDS.index("name")] for row in data["customers"]}
