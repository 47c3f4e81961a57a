"""Fixtures the flow tests share: the real Prefect server (tests/flows/prefect_server.py)."""

from tests.flows.prefect_server import prefect_server

__all__ = ["prefect_server"]
