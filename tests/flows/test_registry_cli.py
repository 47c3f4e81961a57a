"""``datavask registry sync`` end to end against the local ERST stand-in."""

from __future__ import annotations

import gzip

from typer.testing import CliRunner

from datavask.flows.registry_cli import registry_app
from tests.connectors.erst_server import ErstServer, make_document

runner = CliRunner()


def test_sync_writes_a_snapshot(tmp_path, monkeypatch):
    docs = [make_document(30000000 + i * 13, name=f"Firma {i} ApS") for i in range(7)]
    with ErstServer(documents=docs) as server:
        monkeypatch.setenv("DATAVASK_CVR_USER", server.user)
        monkeypatch.setenv("DATAVASK_CVR_PASSWORD", server.password)
        dest = tmp_path / "registry.jsonl.gz"
        result = runner.invoke(
            registry_app, ["sync", "--from", server.base_url, "--to", str(dest), "--page-size", "3"]
        )
    assert result.exit_code == 0, result.output
    assert "7 documents" in result.output
    assert len(gzip.decompress(dest.read_bytes()).splitlines()) == 7


def test_wrong_credentials_exit_2_without_a_traceback(tmp_path, monkeypatch):
    with ErstServer() as server:
        monkeypatch.setenv("DATAVASK_CVR_USER", "nobody")
        monkeypatch.setenv("DATAVASK_CVR_PASSWORD", "wrong")
        result = runner.invoke(
            registry_app, ["sync", "--from", server.base_url, "--to", str(tmp_path / "r.jsonl")]
        )
    assert result.exit_code == 2
    assert "rejected the credentials" in result.output
    assert "Traceback" not in result.output
    assert "wrong" not in result.output


def test_an_outage_exits_1_and_says_how_to_continue(tmp_path, monkeypatch):
    with ErstServer() as server:
        url = server.base_url
    monkeypatch.setenv("DATAVASK_CVR_USER", "a")
    monkeypatch.setenv("DATAVASK_CVR_PASSWORD", "b")
    monkeypatch.setattr("datavask.connectors.http.RetryPolicy.backoff", lambda self, attempt: 0.0)
    result = runner.invoke(
        registry_app, ["sync", "--from", url, "--to", str(tmp_path / "r.jsonl"), "--timeout", "1"]
    )
    assert result.exit_code == 1
    assert "run the same command again" in result.output
