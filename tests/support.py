"""Helpers the tests share: paths, the CLI in a subprocess, a live server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data" / "geojson"
CATALOG_DIR = ROOT / "layers"


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
