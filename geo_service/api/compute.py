"""CPU-bound work of requests, in worker processes of lower priority.

What-if scenarios, service circles and siting run scipy and shapely code that holds
the GIL for tens to hundreds of milliseconds. Run in a thread of the serving process, it
stalls every other request of that process, and a timeout cannot stop it. Here it runs
in a small pool of processes (pebble) that hold the coverage context: it is pickled to
each worker once, when the worker starts, so that a request sends only its own small
arguments. The workers run at a lower CPU priority (``nice``), so on a busy machine the
short requests of the serving processes come first, and a task that outlives the request
timeout is stopped by killing its worker (pebble starts another).

The workers are started by multiprocessing's fork server, never forked from the serving
process: that one runs threads, and a fork taken while another thread holds a lock of a C
library leaves the child waiting on it for ever (a PROJ database lock, seen in the
tests: every what-if then timed out). The fork server is a fresh single-threaded process
that has imported the analysis modules once (a worker starts in well under a second,
plus the time to unpickle the coverage).

When the coverage is recomputed (an edit), the pool is replaced: new tasks go to workers
started with the new coverage, tasks already running finish on the old one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pebble
from starlette.concurrency import run_in_threadpool

from geo_service.errors import ComputeUnavailable, RequestTimeout

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The coverage context a worker answers from: set when the worker starts.
_worker_context: Any = None

#: Workers start from a fork server that has imported what the tasks need.
_START_METHOD = multiprocessing.get_context("forkserver")
_START_METHOD.set_forkserver_preload(
    ["__main__", "geo_service.api.tasks", "geo_service.pipeline.coverage_context"]
)


def _start_worker(context: Any, nice: int, idle: bool) -> None:
    global _worker_context
    _worker_context = context
    if nice:
        os.nice(nice)
    if idle and hasattr(os, "SCHED_IDLE"):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def _ready() -> None:
    """A task that does nothing: scheduled to start a new pool's workers."""


def _call(function: Callable[..., T], *args: Any) -> T:
    return function(_worker_context, *args)


#: (a coverage context, the pool whose workers hold it, the future of their start)
_Workers = tuple[Any, pebble.ProcessPool, concurrent.futures.Future]


class ComputePool:
    """``workers`` processes of priority ``nice`` answering ``function(context, *args)``
    (with ``idle``, under Linux's SCHED_IDLE: only on CPU time nothing else wants).

    ``workers=0`` runs the work in the serving process's thread pool instead (where
    processes cannot be started, or to debug).
    """

    def __init__(self, workers: int, nice: int, timeout_s: float, *, idle: bool = False):
        self.workers = workers
        self.nice = nice
        self.idle = idle
        self.timeout_s = timeout_s
        #: (the coverage context, the pool whose workers hold it, the future of the
        #: task that says they have started), replaced as one
        self._current: _Workers | None = None
        self._lock = threading.Lock()

    def _workers_for(self, context: Any) -> _Workers:
        """(``context``, the pool whose workers hold it, the future of their start): the
        current one, or a new pool started now (which pickles the context to each worker:
        call it off the event loop)."""
        with self._lock:
            if self._current is not None and self._current[0] is context:
                return self._current
            if self._current is not None:
                self._current[1].close()  # running tasks finish on the old coverage
                log.info("compute pool: coverage changed, starting new workers")
            pool = pebble.ProcessPool(
                max_workers=self.workers,
                initializer=_start_worker,
                initargs=(context, self.nice, self.idle),
                context=_START_METHOD,
            )
            self._current = (context, pool, pool.schedule(_ready))  # _ready starts them
            return self._current

    def prepare(self, context: Any) -> None:
        """Start workers holding ``context`` and wait until one has unpickled it (seconds
        for a city's coverage): blocking, for a thread; :meth:`run` then finds them ready."""
        if self.workers:
            self._workers_for(context)[2].result()

    async def run(self, context: Any, function: Callable[..., T], *args: Any) -> T:
        """``function(context, *args)`` in a worker, awaited without blocking the loop.

        ``function`` must be a module-level function (it is sent by name); its answer
        and errors come back pickled. :class:`RequestTimeout` when it runs longer than
        the request timeout (the worker is killed).
        """
        if self.workers == 0:
            return await run_in_threadpool(function, context, *args)
        current = self._current
        if current is None or current[0] is not context:
            # starting workers pickles the context: not on the event loop
            current = await run_in_threadpool(self._workers_for, context)
        pool = current[1]
        future = pool.schedule(_call, args=(function, *args), timeout=self.timeout_s)
        try:
            return await asyncio.wrap_future(future)
        except concurrent.futures.TimeoutError as exc:
            raise RequestTimeout(
                f"the computation took longer than {self.timeout_s:g} s and was stopped"
            ) from exc
        except pebble.ProcessExpired as exc:
            log.error("compute worker died (exit code %s) while answering", exc.exitcode)
            raise ComputeUnavailable(
                f"the process computing the answer died (exit code {exc.exitcode}); "
                "a new one has started: send the request again"
            ) from exc
        finally:
            future.cancel()  # the request went away: a queued task is dropped, a running one killed

    def close(self) -> None:
        """Stop the workers (running tasks are killed)."""
        with self._lock:
            if self._current is not None:
                pool = self._current[1]
                self._current = None
                pool.stop()
                pool.join()
