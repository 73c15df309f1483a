"""Results from the cluster: a finished task's result fetched (again if the client fails
to, computed again if its worker left with it), and a watch that fails the run when its
cluster has no workers left or has lost its scheduler."""

from __future__ import annotations

import logging
import time
from concurrent.futures import CancelledError

from geo_service.analysis.partition import Part
from geo_service.errors import BatchFailed

log = logging.getLogger(__name__)

#: How often (seconds) a run waiting for its tasks looks whether it still has workers.
WORKERS_POLL_S = 1.0
#: How many times a finished task's result is fetched when fetching it fails for a
#: reason of the client's (a transfer that broke, a result that did not load), not the
#: task's, a pause of WORKERS_POLL_S times the tries made between them.
FETCH_TRIES = 3


class WorkersWatch:
    """Fails the run once its cluster has been seen without workers for ``timeout_s``
    seconds (tasks with no worker to run them wait for ever), or has lost its scheduler.
    Asks the scheduler at most once a :data:`WORKERS_POLL_S`."""

    def __init__(self, client, timeout_s: float):
        self.client, self.timeout_s = client, timeout_s
        self.asked = time.monotonic()
        self.none_since: float | None = None  # first seen without workers

    def saw_workers(self) -> None:
        self.none_since = None

    def check(self) -> None:
        now = time.monotonic()
        if now - self.asked < WORKERS_POLL_S:
            return
        self.asked = now
        address = self.client.scheduler.address
        try:
            threads = self.client.nthreads()
        except OSError as exc:  # the scheduler is gone (CommClosedError is an OSError)
            raise BatchFailed(
                f"lost the Dask scheduler at {address} ({exc}); the batch was stopped and "
                "nothing was written"
            ) from exc
        if threads:
            self.none_since = None
        elif self.none_since is None:
            self.none_since = now
        elif now - self.none_since > self.timeout_s:
            raise BatchFailed(
                f"no Dask worker has been left in the cluster at {address} for "
                f"{self.timeout_s:g} s; the batch was stopped and nothing was written"
            )


def fetched(future, part: Part | str, watch: WorkersWatch):
    """The finished task's result. Its worker may have left meanwhile, taking it
    along: then it is computed again, if the cluster still has workers. Waits for the
    result to be there (moving no data), then fetches it with a time limit that
    doubles at each try, so that a large transfer is never cut for ever."""
    from distributed import wait

    fetch_s = watch.timeout_s
    tries = 0
    while True:
        try:
            wait(future, timeout=WORKERS_POLL_S)
        except TimeoutError:
            watch.check()
            continue
        try:
            result = _result(future, part, timeout_s=fetch_s)
        except TimeoutError:
            watch.check()
            fetch_s *= 2
            continue
        except _NotFetched as exc:
            tries += 1
            if tries >= FETCH_TRIES:
                raise BatchFailed(
                    f"{exc.what}: its result could not be fetched ({exc.reason}) "
                    f"{tries} times; the batch was stopped and nothing was written"
                ) from exc
            log.warning(
                "%s: fetching its result failed (%s); trying again",
                exc.what,
                exc.reason,
                exc_info=exc,
            )
            time.sleep(WORKERS_POLL_S * tries)
            watch.check()
            continue
        watch.saw_workers()
        return result


class _NotFetched(Exception):
    """A finished task's result could not be fetched, and the task did not fail: the
    client's failure (a transfer that broke, a result that did not load), not the task's.
    (A worker that leaves with the result is not one: Dask computes it again.)"""

    def __init__(self, what: str, reason: Exception) -> None:
        super().__init__(what)
        self.what = what
        self.reason = f"{type(reason).__name__}: {reason}"


def _result(future, part: Part | str, timeout_s: float):
    """The task's result; :class:`BatchFailed` if it failed or its worker kept dying,
    :class:`_NotFetched` if fetching it failed though it did not, ``TimeoutError`` if it
    is not there within ``timeout_s``."""
    from distributed import KilledWorker

    what = f"part {part.name}" if isinstance(part, Part) else f"the network layers of {part}"
    try:
        return future.result(timeout=timeout_s)
    except TimeoutError:
        if future.status != "error":  # not there yet (the task's own TimeoutError fails)
            raise
        failure = future.exception()
    except CancelledError as exc:
        raise BatchFailed(f"{what} was cancelled; nothing was written") from exc
    except KilledWorker as exc:
        raise BatchFailed(
            f"{what}: its worker died each time it ran ({exc}); the batch was stopped and "
            "nothing was written"
        ) from exc
    except Exception as exc:
        if future.status != "error":  # the task did not fail: its result was not fetched
            raise _NotFetched(what, exc) from exc
        failure = future.exception()  # the task's own, whatever the fetch raised
    raise BatchFailed(
        f"{what} failed ({type(failure).__name__}: {failure}); the batch was stopped and "
        "nothing was written"
    ) from failure
