"""CPU-bound work runs in niced worker processes forked from the serving one
(geo_service.api.compute): not in the serving process, not pickled, stopped at the
timeout, replaced when the coverage changes."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from geo_service.api.compute import ComputePool
from geo_service.errors import ComputeUnavailable, InvalidQuery, RequestTimeout
from tests.support import run_in_own_loop


class Coverage:
    """A stand-in for the coverage context that cannot be pickled (it holds a lock)."""

    def __init__(self, name: str):
        self.name = name
        self.lock = threading.Lock()


def whoami(context: Coverage, extra: int) -> tuple[int, int, str, int]:
    return os.getpid(), os.nice(0), context.name, extra


def sleep_then_answer(context: Coverage, seconds: float) -> str:
    time.sleep(seconds)
    return context.name


def die(context: Coverage) -> None:
    os._exit(3)  # as a worker killed for memory would end


def refuse(context: Coverage) -> None:
    raise InvalidQuery(f"no such centre in {context.name}")


@pytest.fixture
def pool():
    compute = ComputePool(workers=1, nice=5, timeout_s=1.0)
    yield compute
    compute.close()


def test_work_runs_in_another_process_at_lower_priority_with_the_context_unpickled(pool):
    coverage = Coverage("binhu")
    pid, nice, name, extra = run_in_own_loop(pool.run(coverage, whoami, 7))
    assert pid != os.getpid()
    assert nice == min(19, os.nice(0) + 5)  # nice levels stop at 19
    assert (name, extra) == ("binhu", 7)


def scheduler(context: Coverage) -> int:
    return os.sched_getscheduler(0)


def test_idle_workers_run_under_sched_idle():
    compute = ComputePool(workers=1, nice=0, timeout_s=5.0, idle=True)
    try:
        assert run_in_own_loop(compute.run(Coverage("binhu"), scheduler)) == os.SCHED_IDLE
    finally:
        compute.close()
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the serving process is not idle


def test_without_workers_the_work_runs_in_a_thread_of_this_process():
    compute = ComputePool(workers=0, nice=5, timeout_s=1.0)
    pid, nice, name, _ = run_in_own_loop(compute.run(Coverage("binhu"), whoami, 1))
    assert (pid, nice, name) == (os.getpid(), os.nice(0), "binhu")


def test_errors_come_back_as_themselves(pool):
    with pytest.raises(InvalidQuery, match="no such centre in binhu"):
        run_in_own_loop(pool.run(Coverage("binhu"), refuse))


def test_work_past_the_timeout_is_stopped_and_the_worker_replaced(pool):
    coverage = Coverage("binhu")
    first_pid = run_in_own_loop(pool.run(coverage, whoami, 0))[0]
    with pytest.raises(RequestTimeout, match="longer than 1 s"):
        run_in_own_loop(pool.run(coverage, sleep_then_answer, 30.0))
    pid = run_in_own_loop(pool.run(coverage, whoami, 0))[0]
    assert pid != first_pid  # the worker running the slow task was killed
    assert run_in_own_loop(pool.run(coverage, sleep_then_answer, 0.01)) == "binhu"


def test_a_new_coverage_gets_workers_forked_from_it(pool):
    before = run_in_own_loop(pool.run(Coverage("before the edit"), whoami, 0))
    after = run_in_own_loop(pool.run(Coverage("after the edit"), whoami, 0))
    assert before[2] == "before the edit"
    assert after[2] == "after the edit"
    assert after[0] != before[0]


def test_a_slow_task_does_not_hold_up_the_event_loop(pool):
    """While a worker computes, the serving loop goes on answering."""

    async def both() -> tuple[str, int]:
        slow = asyncio.ensure_future(pool.run(Coverage("binhu"), sleep_then_answer, 0.5))
        ticks = 0
        while not slow.done():
            await asyncio.sleep(0.01)
            ticks += 1
        return await slow, ticks

    answer, ticks = run_in_own_loop(both())
    assert answer == "binhu"
    assert ticks >= 10  # the loop ran while the task computed (0.5 s / 10 ms = ~50)


def test_a_worker_that_dies_is_a_503_and_the_next_request_is_answered(pool):
    coverage = Coverage("binhu")
    with pytest.raises(ComputeUnavailable, match="exit code 3"):
        run_in_own_loop(pool.run(coverage, die))
    assert run_in_own_loop(pool.run(coverage, sleep_then_answer, 0.01)) == "binhu"
