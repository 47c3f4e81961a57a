"""A failed Prefect run shows no CPR number: not in its state, its state history, its task runs'
states or its logs, whatever the error quotes (issue 9.6, the errors that are not datavask's own).

The CPR number is synthetic: ``0101801234`` has a valid date and fails modulus 11, as numbers
issued since 2007 may.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any
from uuid import UUID

import polars as pl
import pytest

from datavask.flows.log_masking import (
    MaskedError,
    failures_masked,
    masked_exception,
    masking_failures,
)

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
CPR = re.compile(r"(?<!\d)0?101801234(?!\d)|010180[ -]1234")


def _what_prefect_kept(flow_run_id: UUID) -> list[str]:
    """Every state message of the flow run and its task runs, and every log message."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=30)  # the log lines still on their way to the server

    async def read() -> list[str]:
        async with get_client() as client:
            states = await client.read_flow_run_states(flow_run_id)
            tasks = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
            task_states = [s for t in tasks for s in await client.read_task_run_states(t.id)]
            logs = await client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
            )
        return [s.message or "" for s in [*states, *task_states]] + [log.message for log in logs]

    return asyncio.run(read())


def _assert_masked(kept: list[str]) -> None:
    assert not [text for text in kept if CPR.search(text)]
    assert any("XXXXXX-XXXX" in text for text in kept)


@pytest.mark.prefect
def test_a_failed_flow_runs_state_and_logs_are_masked(
    prefect_harness: None, tmp_path: Path
) -> None:
    """The run finishes its steps, then cannot point ``latest`` at itself: a FileExistsError (not
    one of datavask's own errors) quoting the output folder, whose name holds a CPR number."""
    from datavask.flows.cleanse import cleanse_flow

    root = tmp_path / "kunde 0101801234"
    (root / "latest").mkdir(parents=True)  # a folder of the user's, not datavask's symlink
    state = cleanse_flow(input=str(SAMPLE / "customers.csv"), out=str(root), registry="none",
                         dated_runs=True, return_state=True)  # fmt: skip
    assert state.is_failed()
    assert "FileExistsError" in (state.message or "")
    with pytest.raises(FileExistsError, match="XXXXXX-XXXX") as raised:
        state.result()
    assert not CPR.search(str(raised.value))
    _assert_masked(_what_prefect_kept(state.state_details.flow_run_id))


@pytest.mark.prefect
def test_a_failed_task_runs_state_and_logs_are_masked(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step that fails inside polars, whose message lists the cells it could not convert."""
    from datavask.flows import cleanse

    def verdict_step(work: str, options: dict[str, Any]) -> dict[str, Any]:
        pl.Series("kunde", ["Jens Hansen 0101801234"]).cast(pl.Int64)
        return {}

    monkeypatch.setattr(cleanse, "verdict_step", verdict_step)
    state = cleanse.cleanse_flow(input=str(SAMPLE / "customers.csv"), out=str(tmp_path / "out"),
                                 registry="none", return_state=True)  # fmt: skip
    assert state.is_failed()
    with pytest.raises(pl.exceptions.InvalidOperationError, match="XXXXXX-XXXX"):
        state.result()
    kept = _what_prefect_kept(state.state_details.flow_run_id)
    _assert_masked(kept)
    assert any("InvalidOperationError" in text for text in kept)
    assert not (tmp_path / "out").exists()


class _TwoParts(Exception):
    def __init__(self, what: str, value: str) -> None:
        super().__init__(f"{what}: {value}")


class _Formatted(Exception):
    """An error whose text is made from an attribute, not from its arguments."""

    def __init__(self, value: str) -> None:
        super().__init__()
        self.value = value

    def __str__(self) -> str:
        return f"bad value {self.value}"


def test_an_error_is_masked_as_its_own_type_where_it_can_be() -> None:
    try:
        Path("/nonexistent/kunder_0101801234.csv").read_text()
    except OSError as exc:
        masked = masked_exception(exc)
    assert isinstance(masked, FileNotFoundError)
    assert masked.filename == "/nonexistent/kunder_XXXXXX-XXXX.csv"
    assert (
        str(masked) == "[Errno 2] No such file or directory: '/nonexistent/kunder_XXXXXX-XXXX.csv'"
    )
    # a type whose text is not its arguments becomes a MaskedError naming it
    other = masked_exception(_Formatted("0101801234"))
    assert isinstance(other, MaskedError)
    assert str(other).endswith("_Formatted: bad value XXXXXX-XXXX")
    # a type that cannot be rebuilt from its arguments is a MaskedError, or (once a library such as
    # tblib, which distributed imports, teaches exceptions to copy without __init__) a masked copy
    two = masked_exception(_TwoParts("cpr", "0101801234"))
    assert isinstance(two, (MaskedError, _TwoParts))
    assert str(two).endswith("cpr: XXXXXX-XXXX")
    # nothing to mask: nothing changes
    assert masked_exception(ValueError("ring 4520304050")) is None


def test_the_masked_error_keeps_no_trace_of_the_original() -> None:
    import traceback

    with pytest.raises(ValueError, match="XXXXXX-XXXX") as raised, failures_masked():
        try:
            int("0101801234x")
        except ValueError as inner:
            raise ValueError(f"row 3: {inner}") from inner
    printed = "".join(traceback.format_exception(raised.value))
    assert "XXXXXX-XXXX" in printed and not CPR.search(printed)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_copy_made_through_tblib_keeps_no_chain() -> None:
    from tblib import pickling_support

    class Chained(Exception):
        def __init__(self, what: str, value: str) -> None:
            super().__init__(f"{what}: {value}")

    pickling_support.install(Chained)  # as distributed does: copies no longer call __init__
    try:
        try:
            int("0101801234x")
        except ValueError as inner:
            raise Chained("cpr", "0101801234") from inner
    except Chained as exc:
        masked = masked_exception(exc)
    assert isinstance(masked, Chained) and str(masked) == "cpr: XXXXXX-XXXX"
    assert masked.__cause__ is None and masked.__context__ is None and masked.__traceback__ is None


def test_a_step_that_succeeds_returns_what_it_returned() -> None:
    assert masking_failures(lambda a, b: a + b)(2, 3) == 5
    with failures_masked():
        pass
