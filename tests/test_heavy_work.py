"""CPU-bound work runs in niced worker processes started by a fork server
(geo_service.api.compute): not in the serving process, the coverage context pickled to
each worker once, not with each request; stopped at the timeout, replaced when the
coverage changes; and a fork-unsafe serving process (threads holding C locks) does not
hang them."""

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
    """A stand-in for the coverage context that counts how often it is pickled."""

    pickled = 0

    def __init__(self, name: str):
        self.name = name

    def __getstate__(self) -> dict:
        Coverage.pickled += 1
        return self.__dict__


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


def test_work_runs_in_another_process_at_lower_priority_with_the_context_sent_once(pool):
    coverage = Coverage("binhu")
    before = Coverage.pickled
    pid, nice, name, extra = run_in_own_loop(pool.run(coverage, whoami, 7))
    assert pid != os.getpid()
    assert nice == min(19, os.nice(0) + 5)  # nice levels stop at 19
    assert (name, extra) == ("binhu", 7)
    for extra in range(5):
        assert run_in_own_loop(pool.run(coverage, whoami, extra))[3] == extra
    assert Coverage.pickled - before == 1  # to the one worker as it started


#: A lock of this module, held by a thread of the serving process as the workers start.
_HELD = threading.Lock()


def take_the_lock(context: Coverage) -> str:
    if not _HELD.acquire(timeout=0.5):
        return "waited on a lock that no thread of this process holds"
    _HELD.release()
    return context.name


def test_workers_inherit_no_lock_another_thread_holds(pool):
    """A process forked while another of its threads holds a lock has that lock held for
    ever, with no thread to release it (seen with PROJ's database lock: every what-if
    timed out). Workers start from the fork server and hold none of ours."""
    with _HELD:
        answer = run_in_own_loop(pool.run(Coverage("binhu"), take_the_lock))
    assert answer == "binhu"


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


def test_a_new_coverage_gets_workers_of_its_own(pool):
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
