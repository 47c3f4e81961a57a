"""Fixtures for connector tests: a local ERST stand-in and fast, recorded retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from datavask.connectors.http import RetryPolicy
from tests.connectors.erst_server import ErstServer, make_document


@pytest.fixture
def erst_server() -> Iterator[ErstServer]:
    """A running ERST stand-in with three companies; add documents or faults per test."""
    server = ErstServer(
        documents=[
            make_document(21265837, name="Hansen Byg ApS", binavne=["Hansen Tømrer"]),
            make_document(
                10000009, name="Nordlys A/S", form_code=60, status="UNDER KONKURS", phone="33301000"
            ),
            make_document(10000017, name="Gammel Handel ApS", status="Ophørt", ended="2020-05-01"),
        ]
    )
    with server:
        yield server


@pytest.fixture
def credentials(erst_server: ErstServer) -> tuple[str, str]:
    return (erst_server.user, erst_server.password)


class SleepRecorder:
    """Stands in for time.sleep: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def fast_retry() -> RetryPolicy:
    return RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
