"""How many expensive requests (downloads, scenarios, siting) one client may make.

Counted with the ``limits`` library in a sliding window per client (the API key's id,
or the address), in this process's memory by default, or in Redis
(``GEO_SERVICE_RATE_LIMIT_STORAGE=redis://host:6379``) shared by every worker and
server. Either way a client's counters expire with their window: many clients cost
memory for a minute, not forever.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Annotated

import limits
import limits.errors
import limits.storage
import limits.strategies
from fastapi import Depends, Request

from geo_service.api.deps import Caller, get_caller
from geo_service.errors import TooManyRequests

log = logging.getLogger(__name__)

#: The namespace of the counters (a shared Redis may count other things too).
NAMESPACE = "geo_service:expensive"


class RateLimiter:
    """At most ``rate`` (e.g. ``limits.RateLimitItemPerMinute(60)``) per client, counted
    in the storage at ``storage_uri`` (``memory://``, ``redis://…``)."""

    def __init__(self, rate: limits.RateLimitItem, storage_uri: str = "memory://"):
        self.rate = rate
        self.storage = limits.storage.storage_from_string(storage_uri, wrap_exceptions=True)
        self.strategy = limits.strategies.SlidingWindowCounterRateLimiter(self.storage)

    def take(self, client: str) -> None:
        """Count one request of ``client``'s; :class:`TooManyRequests` past the rate.

        If the storage cannot be reached (Redis down), the request is let through and the
        failure logged: a broken counter must not take the service down with it.
        """
        try:
            allowed = self.strategy.hit(self.rate, NAMESPACE, client)
            if allowed:
                return
            reset, _ = self.strategy.get_window_stats(self.rate, NAMESPACE, client)
        except limits.errors.StorageError as exc:
            log.warning("rate limit storage unavailable, request let through: %s", exc)
            return
        wait = max(1, math.ceil(reset - time.time()))
        raise TooManyRequests(f"too many expensive requests; retry in {wait} s", wait)


async def expensive(request: Request, caller: Annotated[Caller, Depends(get_caller)]) -> None:
    """Dependency for costly routes (downloads, scenarios): one request counted."""
    client = caller.key_id or (request.client.host if request.client else "unknown")
    request.app.state.rate_limiter.take(client)
