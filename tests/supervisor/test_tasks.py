"""The helpers the supervisor's long-running tasks share: the reconnect backoff, and a cancel
that ends a task even when a library call swallowed the request."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest

from appliance.supervisor.tasks import Backoff, cancel, cancel_all, stop_if_cancelled


def test_pauses_double_up_to_the_most_and_start_over_after_a_reset() -> None:
    backoff = Backoff(1.0, 10.0)
    assert [backoff.next() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    backoff.reset()
    assert [backoff.next() for _ in range(2)] == [1.0, 2.0]


class Calls:
    """A loop of library calls made with `asyncio.wait_for`, as aiomqtt and ocpp make them."""

    def __init__(self, checks: bool) -> None:
        self.checks = checks
        self.pending: asyncio.Future[int] | None = None
        self.answered = 0

    async def loop(self) -> None:
        while True:
            self.pending = asyncio.get_running_loop().create_future()
            self.answered += await asyncio.wait_for(self.pending, 10)
            if self.checks:
                stop_if_cancelled()


@pytest.mark.parametrize("checks", [True, False])
def test_a_cancel_that_wait_for_swallowed_still_ends_the_loop(checks: bool) -> None:
    """The call is answered in the very step `cancel` asks the loop to stop: Python 3.11's
    wait_for returns the answer and the request is lost. A loop that checks ends at once; one
    that does not is asked again after the grace, where the old `cancel` waited for good."""
    async def run() -> float:
        calls = Calls(checks)
        task = asyncio.create_task(calls.loop())
        await asyncio.sleep(0.01)  # the loop waits in wait_for
        assert calls.pending is not None
        calls.pending.set_result(1)
        started = time.monotonic()
        await cancel(task, grace_s=0.5)
        assert task.cancelled() and calls.answered == 1
        return time.monotonic() - started

    took = asyncio.run(run())
    if checks or sys.version_info >= (3, 12):  # 3.12's wait_for raises the CancelledError
        assert took < 0.1
    else:
        assert 0.5 <= took < 1.5


def test_cancel_all_stops_the_running_and_drops_the_error_of_a_failed_one() -> None:
    async def run() -> tuple[asyncio.Task[None], asyncio.Task[None]]:
        async def fails() -> None:
            raise RuntimeError("failed before the stop")

        failed = asyncio.create_task(fails())
        running = asyncio.create_task(asyncio.sleep(3600))
        await asyncio.sleep(0.01)
        await cancel_all([failed, None, running])
        return failed, running

    failed, running = asyncio.run(run())
    assert isinstance(failed.exception(), RuntimeError) and running.cancelled()
