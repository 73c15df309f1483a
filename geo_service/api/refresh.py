"""Coverage kept current while the service runs.

After a change of one of the coverage run's input layers — made through this service, or
seen on a status check when another process made it — the derived layers are computed
again in the background, one run at a time (changes during a run make one more run).
A change made here starts the run once the layers have been quiet for
``coverage_refresh_delay_s`` (a QGIS commit of many edits makes one run, not one each). What
the service answers coverage, what-if, report and locator questions from (the coverage
context) is swapped in whole when the run is done, with the gazetteer and the map pages;
until then the previous results are served. :meth:`CoverageRefresh.status` says whether
they are ``fresh``, ``stale``, ``computing`` or ``failed``, and from which versions.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from geo_service.data.derived import (
    input_layers,
    read_inputs_with_versions,
    versions_digest,
)
from geo_service.data.gazetteer import build_gazetteer
from geo_service.maps.pages import MapPages
from geo_service.pipeline.coverage_context import coverage_context
from geo_service.pipeline.derived_layers import compute_derived

log = logging.getLogger(__name__)

#: Changes that go on for this many delays start a run all the same.
MAX_WAIT_DELAYS = 10


def _now(after_s: float = 0.0) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=after_s)
    return moment.replace(microsecond=0).isoformat()


class CoverageRefresh:
    """The background recomputation of an app's coverage (``app.state``: ``settings``,
    ``profile``, ``store``, ``coverage``, ``gazetteer``, ``pages``)."""

    def __init__(self, state):
        self.state = state
        self._lock = threading.Lock()
        self._running = False
        self._again = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coverage")
        self._timer: threading.Timer | None = None
        self._closed = False
        self._first_change: float | None = None  # monotonic time, while a timer waits
        #: When the waiting run starts (ISO 8601, UTC), if one waits for quiet.
        self.scheduled: str | None = None
        #: How many runs have started.
        self.runs = 0
        self.started: str | None = None
        self.finished: str | None = None
        self.error: str | None = None

    @property
    def inputs(self) -> list[str]:
        """The coverage run's input layers."""
        return input_layers(self.state.store.catalog, self.state.profile)

    def changed(self, layer_id: str) -> None:
        """Layer ``layer_id`` has a new version: recompute if coverage depends on it."""
        if self.state.coverage is not None and layer_id in self.inputs:
            self._start_when_quiet()

    def _start_when_quiet(self) -> None:
        """Start a run once no change has come for the delay (each change restarts the
        wait, up to :data:`MAX_WAIT_DELAYS` delays after the first)."""
        delay = self.state.settings.coverage_refresh_delay_s
        if delay <= 0:
            self.start()
            return
        with self._lock:
            now = time.monotonic()
            if self._timer is not None:
                self._timer.cancel()
            else:
                self._first_change = now
            wait = max(0.0, min(delay, self._first_change + MAX_WAIT_DELAYS * delay - now))
            self._timer = threading.Timer(wait, self._quiet)
            self._timer.daemon = True
            self.scheduled = _now(wait)
            self._timer.start()

    def _quiet(self) -> None:
        with self._lock:
            self._timer = self._first_change = self.scheduled = None
        self.start()

    def start(self) -> None:
        """Recompute in the background (once more after the current run, if running)."""
        with self._lock:
            if self._closed:
                return
            if self._running:
                self._again = True
                return
            self._running = True
            self.runs += 1
            self.started, self.error = _now(), None
        self._executor.submit(self._run)

    def _run(self) -> None:
        while True:
            try:
                self._compute()
            except Exception as exc:  # keep serving the previous results, say why
                log.exception("coverage: recomputing failed")
                self.error = f"{type(exc).__name__}: {exc}"
            self.finished = _now()
            with self._lock:
                if not self._again:
                    self._running = False
                    return
                self._again = False
                self.runs += 1
                self.started = _now()

    def _compute(self) -> None:
        state = self.state
        store, settings, profile = state.store, state.settings, state.profile
        frames, versions = read_inputs_with_versions(store, profile)
        log.info("coverage: recomputing after a change (%d input layers)", len(frames))
        manifest = compute_derived(
            store, settings, profile=profile, frames=frames, versions=versions
        )
        context = coverage_context(store, settings, manifest, profile, frames)
        state.gazetteer = build_gazetteer(store.catalog, store)
        state.pages = MapPages(settings, store, profile)
        state.compute.prepare(context)  # its workers ready before the first question
        state.coverage = context  # last: what answers questions now
        log.info("coverage: now from %s", manifest.get("inputs"))

    def status(self) -> dict:
        """``status`` (``fresh``: computed from the layers as they are; ``stale``: a layer
        changed since; ``computing``; ``failed``: the last run failed, the previous results
        are served), the versions the served results were computed from and the current
        ones, and when the last run started and finished. A stale status starts a run."""
        context = self.state.coverage
        if context is None:
            return {"status": "none", "detail": "this catalog has no coverage layers"}
        store = self.state.store
        current = {layer_id: store.version(layer_id) for layer_id in self.inputs}
        fresh = context.manifest.get("digest") == versions_digest(
            current, self.state.settings, self.state.profile
        )
        if not fresh and not self._running and self.error is None and self._timer is None:
            self.start()
        if self._running:
            status = "computing"
        else:
            status = "fresh" if fresh else ("failed" if self.error else "stale")
        return {
            "status": status,
            "computed_from": context.manifest.get("inputs"),
            "current": current,
            "started": self.started,
            "finished": self.finished,
            "scheduled": self.scheduled,
            "error": self.error,
        }

    def close(self) -> None:
        """Stop taking runs (a waiting one is dropped, a running one finishes)."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = self.scheduled = None
        self._executor.shutdown(wait=False, cancel_futures=True)
