"""A file that is not an ERST snapshot is bad input, not a registry that knows no one (issue 9.8)."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from datavask.connectors.cvr import RegistrySnapshotError, open_registry
from datavask.connectors.cvr_snapshot import parse_snapshot
from datavask.connectors.errors import InputError
from tests.connectors.erst_server import make_document

DOCUMENTS = [orjson.dumps({"_source": make_document(c)}) for c in (21265837, 10000009, 10000017)]
GARBAGE = {
    "text.jsonl": b"Kundenr;Navn\n10001;Hansen Byg ApS\n10002;Nordlys A/S\n",
    "empty.jsonl": b"",
    "blank-lines.jsonl": b"\n   \n\n",
    "wrong-shape.jsonl": b'{"cvr": 21265837, "name": "Hansen Byg ApS"}\n[1, 2, 3]\n"text"\n',
    "no-cvr.jsonl": b'{"Vrvirksomhed": {"navne": []}}\n{"_source": {"Vrvirksomhed": 5}}\n',
    "text.jsonl.gz": gzip.compress(b"this is not json\n" * 20),
    "mostly-garbage.jsonl": b"\n".join([*DOCUMENTS, *[b"not a document"] * 4]) + b"\n",
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_a_garbage_snapshot_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(GARBAGE[name])
    with pytest.raises(RegistrySnapshotError) as caught:
        parse_snapshot(path)
    assert isinstance(caught.value, InputError)  # the command line exits 2
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "ERST documents" in message


def test_a_few_bad_lines_in_a_real_snapshot_are_only_skipped(tmp_path: Path) -> None:
    path = tmp_path / "registry.jsonl"
    path.write_bytes(b"\n".join([*DOCUMENTS, b"{truncated"]) + b"\n")
    assert parse_snapshot(path)["cvr"].sort().to_list() == ["10000009", "10000017", "21265837"]


def test_an_empty_cache_of_a_garbage_file_is_not_trusted(tmp_path: Path) -> None:
    """An earlier version cached a garbage file's parse as an empty frame; it is parsed again."""
    path = tmp_path / "registry.jsonl"
    path.write_bytes(GARBAGE["text.jsonl"])
    with pytest.raises(RegistrySnapshotError):
        open_registry(str(path), cache_dir=tmp_path / "cache").lookup(["21265837"])
    from datavask.connectors.cvr_document import DocumentColumns
    from datavask.connectors.cvr_snapshot import cache_path, snapshot_digest

    cached = cache_path(path, snapshot_digest(path), tmp_path / "cache")
    cached.parent.mkdir(exist_ok=True)
    DocumentColumns().frame().write_parquet(cached)
    with pytest.raises(RegistrySnapshotError):
        open_registry(str(path), cache_dir=tmp_path / "cache").lookup(["21265837"])
