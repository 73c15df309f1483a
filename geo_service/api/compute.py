"""CPU-bound work of requests, in worker processes of lower priority.

What-if scenarios, service circles and siting run scipy and shapely code that holds
the GIL for tens to hundreds of milliseconds. Run in a thread of the serving process, it
stalls every other request of that process, and a timeout cannot stop it. Here it runs
in a small pool of processes (pebble) forked from the serving process once its coverage
is loaded, so they share its walks copy-on-write and nothing large is pickled per
request. The workers run at a lower CPU priority (``nice``), so on a busy machine the
short requests of the serving processes come first, and a task that outlives the request
timeout is stopped by killing its worker (pebble starts another).

When the coverage is recomputed (an edit), the pool is replaced: new tasks go to workers
forked from the new coverage, tasks already running finish on the old one.
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

#: The coverage context a worker answers from: set in the worker by fork, never pickled.
_worker_context: Any = None


def _start_worker(context: Any, nice: int, idle: bool) -> None:
    global _worker_context
    _worker_context = context
    if nice:
        os.nice(nice)
    if idle and hasattr(os, "SCHED_IDLE"):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def _call(function: Callable[..., T], *args: Any) -> T:
    return function(_worker_context, *args)


class ComputePool:
    """``workers`` processes of priority ``nice`` answering ``function(context, *args)``
    (with ``idle``, under Linux's SCHED_IDLE: only on CPU time nothing else wants).

    ``workers=0`` runs the work in the serving process's thread pool instead (where
    processes cannot be forked, or to debug).
    """

    def __init__(self, workers: int, nice: int, timeout_s: float, *, idle: bool = False):
        self.workers = workers
        self.nice = nice
        self.idle = idle
        self.timeout_s = timeout_s
        self._pool: pebble.ProcessPool | None = None
        self._context: Any = None
        self._lock = threading.Lock()

    def _pool_for(self, context: Any) -> pebble.ProcessPool:
        with self._lock:
            if self._pool is None or self._context is not context:
                if self._pool is not None:
                    self._pool.close()  # running tasks finish on the old coverage
                    log.info("compute pool: coverage changed, forking new workers")
                self._pool = pebble.ProcessPool(
                    max_workers=self.workers,
                    initializer=_start_worker,
                    initargs=(context, self.nice, self.idle),
                    context=multiprocessing.get_context("fork"),
                )
                self._context = context
            return self._pool

    async def run(self, context: Any, function: Callable[..., T], *args: Any) -> T:
        """``function(context, *args)`` in a worker, awaited without blocking the loop.

        ``function`` must be a module-level function (it is sent by name); its answer
        and errors come back pickled. :class:`RequestTimeout` when it runs longer than
        the request timeout (the worker is killed).
        """
        if self.workers == 0:
            return await run_in_threadpool(function, context, *args)
        future = self._pool_for(context).schedule(
            _call, args=(function, *args), timeout=self.timeout_s
        )
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
            if self._pool is not None:
                self._pool.stop()
                self._pool.join()
                self._pool = None
                self._context = None
