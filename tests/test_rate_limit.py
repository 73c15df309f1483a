"""The rate limit of expensive requests (geo_service.api.rate_limit): per client, shared
by workers through Redis, and bounded in memory however many clients come."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import limits
import pytest
import redis
from pydantic import ValidationError

from geo_service.api.rate_limit import RateLimiter
from geo_service.errors import TooManyRequests
from geo_service.settings import Settings
from tests.support import free_port


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A throwaway ``redis-server`` on a free loopback port (Debian's redis-server, which
    ``make test`` installs). Without one the Redis tests are skipped, except in CI."""
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("GEO_SERVICE_REQUIRE_POSTGIS"):  # set by make test and CI
            pytest.fail("redis-server is not installed (make system-deps installs it)")
        pytest.skip("redis-server is not installed")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not _answers(url):
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("redis-server did not start")
        time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url).ping())
    except redis.ConnectionError:
        return False


def _refused(limiter: RateLimiter, client: str) -> bool:
    try:
        limiter.take(client)
    except TooManyRequests:
        return True
    return False


def test_each_client_has_its_own_count_and_is_told_when_to_retry():
    limiter = RateLimiter(limits.RateLimitItemPerMinute(3))
    assert [_refused(limiter, "10.0.0.1") for _ in range(4)] == [False, False, False, True]
    assert not _refused(limiter, "10.0.0.2")  # another client is not held back
    with pytest.raises(TooManyRequests) as refused:
        limiter.take("10.0.0.1")
    assert 1 <= refused.value.retry_after <= 60


#: The window of the many-clients test (seconds).
WINDOW_S = 4


@pytest.mark.slow  # seconds of waiting
def test_many_clients_cost_memory_only_for_their_window():
    """10,000 addresses each use their 2 requests of a 4-second window; once the window has
    passed (the sliding window counts the previous one too), the memory holds only the
    clients that came since. (Each client is checked right after its requests, and the
    window is long enough for all of them on a busy machine.)"""
    limiter = RateLimiter(limits.RateLimitItemPerSecond(2, WINDOW_S))
    clients = [f"10.{k // 65536}.{k // 256 % 256}.{k % 256}" for k in range(10_000)]
    started = time.monotonic()
    refused = 0
    for k, client in enumerate(clients):
        limiter.take(client)
        limiter.take(client)
        if k < 100:
            refused += _refused(limiter, client)
    assert refused == 100
    counted = limiter.storage.storage
    assert time.monotonic() - started < WINDOW_S, "the clients took longer than a window"
    assert len(counted) >= 10_000
    time.sleep(2 * WINDOW_S + 0.5)
    limiter.take("192.168.0.1")  # activity sweeps what expired
    time.sleep(0.2)
    assert 1 <= len(counted) <= 2
    assert not _refused(limiter, clients[0])


def test_workers_sharing_redis_count_together(redis_url):
    """Two limiters on one Redis, as two uvicorn workers (or servers) would be: a client's
    requests to either count against one limit."""
    rate = limits.RateLimitItemPerMinute(5)
    first, second = RateLimiter(rate, redis_url), RateLimiter(rate, redis_url)
    answers = [_refused(w, "10.1.1.1") for w in (first, second, first, second, first)]
    assert answers == [False] * 5
    assert _refused(second, "10.1.1.1") and _refused(first, "10.1.1.1")
    assert not _refused(second, "10.1.1.2")


def test_many_clients_in_redis_expire_with_their_window(redis_url):
    limiter = RateLimiter(limits.RateLimitItemPerSecond(1), redis_url)
    for k in range(2_000):
        limiter.take(f"172.16.{k // 256}.{k % 256}")
    keys = redis.Redis.from_url(redis_url)
    assert len(keys.keys("*172.16.*")) >= 2_000
    time.sleep(2.5)
    assert keys.keys("*172.16.*") == []


def test_an_unreachable_redis_lets_requests_through(caplog):
    limiter = RateLimiter(limits.RateLimitItemPerMinute(1), f"redis://127.0.0.1:{free_port()}")
    for _ in range(3):
        limiter.take("10.0.0.1")
    assert "rate limit storage unavailable" in caplog.text


def test_the_storage_setting_accepts_memory_and_redis_only():
    assert Settings(rate_limit_storage="redis://cache:6379/2").rate_limit_storage
    with pytest.raises(ValidationError, match="rate_limit_storage"):
        Settings(rate_limit_storage="file:///tmp/counts")
