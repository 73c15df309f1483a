"""Load-generation helpers shared by the serving benchmarks: keep-alive HTTP/1.1
connections from asyncio streams, each sending its next request when the last one is
answered, bounded in time. Loopback only."""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import socket
import subprocess
import time
import urllib.error
import urllib.request

import numpy as np


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


def wait_for_health(port: int, process: subprocess.Popen, seconds: float) -> float:
    """Seconds until ``/healthz`` answers 200 (the app loaded, not just the port bound)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return time.monotonic() - started
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /healthz within {seconds:.0f} s")


def _request_bytes(port: int, entry) -> bytes:
    """``entry`` is a GET path, or ``(method, path, JSON body bytes)``."""
    method, path, body = ("GET", entry, b"") if isinstance(entry, str) else entry
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


async def _connection(port: int, entries, until: float, samples: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for label, entry in entries:
            if time.perf_counter() >= until:
                break
            request = _request_bytes(port, entry)
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            samples.append((label, time.perf_counter() - started, status))
    finally:
        writer.close()


async def _drive(port: int, groups: list[tuple[dict, int]], seconds: float):
    """Each group is (mix, connections); every connection cycles through its mix."""
    samples: list = []
    until = time.perf_counter() + seconds
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _connection(
                port, itertools.islice(itertools.cycle(mix.items()), k, None), until, samples
            )
            for mix, connections in groups
            for k in range(connections)
        )
    )
    return samples, time.perf_counter() - started


def _figures(mix: dict, samples: list, elapsed: float) -> dict:
    result = {}
    for label in mix:
        mine = [(d, s) for name, d, s in samples if name == label]
        ms = np.array([d for d, _ in mine]) * 1000
        result[label] = {
            "requests": len(mine),
            "requests_per_s": round(len(mine) / elapsed, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 2) if len(ms) else None,
            "p99_ms": round(float(np.percentile(ms, 99)), 2) if len(ms) else None,
            "errors": sum(s >= 400 for _, s in mine),
        }
    return result


def drive(port: int, mix: dict, seconds: float, connections: int) -> dict:
    """Send the ``mix`` (label → path, in turn) for ``seconds``; per-label figures."""
    asyncio.run(_drive(port, [(mix, 2)], min(1.0, seconds)))  # warm-up
    samples, elapsed = asyncio.run(_drive(port, [(mix, connections)], seconds))
    return _figures(mix, samples, elapsed)


def _drive_in_process(port: int, mix: dict, connections: int, seconds: float, answers) -> None:
    """:func:`_drive` of one group, its samples sent back through ``answers`` (a queue)."""
    answers.put(asyncio.run(_drive(port, [(mix, connections)], seconds)))


def drive_beside(
    port: int,
    measured: dict,
    measured_connections: int,
    background: dict,
    background_connections: int,
    seconds: float,
) -> dict:
    """``measured`` and ``background`` at once for ``seconds``: per-label figures of each.
    The background connections run in a process of their own, so that reading their big
    answers does not delay the measured ones in this process's event loop (what is
    measured is the server, not the load generator)."""
    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    warm = context.Process(
        target=_drive_in_process, args=(port, background, 1, min(2.0, seconds), answers)
    )
    warm.start()
    asyncio.run(_drive(port, [(measured, 1)], min(2.0, seconds)))
    answers.get()
    warm.join()
    other = context.Process(
        target=_drive_in_process,
        args=(port, background, background_connections, seconds, answers),
    )
    other.start()
    samples, elapsed = asyncio.run(_drive(port, [(measured, measured_connections)], seconds))
    background_samples, background_elapsed = answers.get()
    other.join()
    return {
        "measured": _figures(measured, samples, elapsed),
        "background": _figures(background, background_samples, background_elapsed),
    }
