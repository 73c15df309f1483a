"""Helpers the tests share: paths, the CLI in a subprocess, a live server, the app in
process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data" / "geojson"
CATALOG_DIR = ROOT / "layers"
#: Where an :class:`InProcessClient` sends its requests: the app's links start with it.
IN_PROCESS_URL = "http://testserver"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(
    *args: str, env: dict | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run ``geo-service ARGS`` as a user would, in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "geo_service.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


class LiveServer:
    """``geo-service serve`` running in a subprocess on a free local port.

    Its output goes to a log file (a pipe nobody reads would fill up and block it).
    """

    def __init__(self, *args: str, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.started = time.perf_counter()
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            mode="w+", prefix="geo-service-", suffix=".log", encoding="utf-8"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "geo_service.cli", "serve", "--port", str(self.port), *args],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
        self.first_response_s = self._wait()

    def output(self) -> str:
        """What the server printed so far."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def _wait(self, timeout: float = 60.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.output()
                self.log.close()
                raise RuntimeError(f"server exited: {output}")
            try:
                httpx.get(f"{self.url}/healthz", timeout=1.0).raise_for_status()
                return time.perf_counter() - self.started
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not answer within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def run_in_own_loop(awaitable):
    """``asyncio.run(awaitable)`` in a thread of its own: the browser tests' driver may
    already run a loop in this one (its sync API keeps one going for the session)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, awaitable).result()


class InProcessClient:
    """The app called in process through httpx's ASGI transport, with a synchronous face
    (``get``, ``post``, ...): the routes' logic without a server. Its base URL is
    :data:`IN_PROCESS_URL`."""

    def __init__(self, app):
        self.app = app

    def _run(self, send):
        async def call():
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=IN_PROCESS_URL) as c:
                return await send(c)

        return run_in_own_loop(call())

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        return self._run(lambda c: c.request(method, url, **kwargs))

    def raw(self, method: str, url: str, **kwargs) -> tuple[httpx.Response, bytes]:
        """The response and its body as sent, not decoded (still gzipped if it was)."""

        async def send(c: httpx.AsyncClient) -> tuple[httpx.Response, bytes]:
            response = await c.send(c.build_request(method, url, **kwargs), stream=True)
            try:
                return response, b"".join([chunk async for chunk in response.aiter_raw()])
            finally:
                await response.aclose()

        return self._run(send)

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def options(self, url: str, **kwargs) -> httpx.Response:
        return self.request("OPTIONS", url, **kwargs)


@contextlib.contextmanager
def lifespan(app) -> Iterator[None]:
    """Run ``app``'s ASGI lifespan as a server does: its startup on entering, its shutdown
    on leaving (in a thread with a loop of its own, for as long as the block lasts)."""
    ready, started, stopped = threading.Event(), threading.Event(), threading.Event()
    box: dict = {"messages": []}

    async def serve_lifespan() -> None:
        inbox: asyncio.Queue = asyncio.Queue()
        box["loop"], box["inbox"] = asyncio.get_running_loop(), inbox

        async def send(message: dict) -> None:
            box["messages"].append(message)
            if message["type"].startswith("lifespan.startup."):
                started.set()
            elif message["type"].startswith("lifespan.shutdown."):
                stopped.set()

        ready.set()
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        try:
            await app(scope, inbox.get, send)
        except Exception as exc:  # raised again in the caller's thread
            box["error"] = exc
        finally:
            started.set()
            stopped.set()

    def tell(message_type: str) -> None:
        box["loop"].call_soon_threadsafe(box["inbox"].put_nowait, {"type": message_type})

    def failed(phase: str) -> list[dict]:
        return [m for m in box["messages"] if m["type"] == f"lifespan.{phase}.failed"]

    thread = threading.Thread(target=lambda: asyncio.run(serve_lifespan()), daemon=True)
    thread.start()
    ready.wait()
    tell("lifespan.startup")
    started.wait()
    if failed("startup") or "error" in box:
        thread.join(timeout=30)
        raise RuntimeError(f"app start-up failed: {box.get('error') or failed('startup')}")
    try:
        yield
    finally:
        tell("lifespan.shutdown")
        stopped.wait()
        thread.join(timeout=30)
        if failed("shutdown") or "error" in box:
            raise RuntimeError(f"app shutdown failed: {box.get('error') or failed('shutdown')}")


def make_district(folder: Path, *, drop_layers: tuple[str, ...] = (), **profile) -> Path:
    """A copy of the demo district in ``folder`` with profile fields replaced and layers
    (catalog entry, data file and map entry) left out."""
    shutil.copytree(CATALOG_DIR, folder / "layers")
    shutil.copytree(DATA_DIR, folder / "data" / "geojson")
    shutil.copytree(ROOT / "maps", folder / "maps")
    raw = yaml.safe_load((ROOT / "district.yaml").read_text(encoding="utf-8"))
    raw.update(profile)
    for layer in drop_layers:
        (folder / "layers" / f"{layer}.yaml").unlink()
        (folder / "data" / "geojson" / f"{layer}.geojson").unlink()
    planner = yaml.safe_load((folder / "maps" / "planner.yaml").read_text(encoding="utf-8"))
    planner["layers"] = [e for e in planner["layers"] if e["layer"] not in drop_layers]
    (folder / "maps" / "planner.yaml").write_text(yaml.safe_dump(planner, allow_unicode=True))
    (folder / "district.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    return folder


def writable_server(folder: Path, **env: str) -> tuple[LiveServer, str]:
    """A server over a copy of the demo data in ``folder``, and a staff key for it."""
    from geo_service.data.keys import KeyStore

    shutil.copytree(DATA_DIR, folder / "data")
    key, _ = KeyStore(folder / "state" / "keys.json").create("staff", "tests")
    live = LiveServer(
        env={
            "GEO_SERVICE_STORE": f"file:{folder / 'data'}",
            "GEO_SERVICE_DERIVED_DIR": str(folder / "derived"),
            "GEO_SERVICE_STATE_DIR": str(folder / "state"),
            **env,
        }
    )
    return live, key
