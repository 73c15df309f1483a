"""HTTP plumbing for every response: security headers, ETag with 304 on If-None-Match."""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ResponseMiddleware:
    """Finish every response in one pass over its body: security headers
    (``X-Content-Type-Options``, ``Referrer-Policy``; on HTML pages a Content-Security-Policy
    that allows inline scripts by hash), ``Vary``, and for a successful GET a weak ETag (a
    hash of the body) with 304 Not Modified for a matching ``If-None-Match``."""

    def __init__(self, app: ASGIApp, image_hosts: list[str] | None = None):
        self.app = app
        self.image_hosts = image_hosts or []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_get = scope["method"] == "GET"
        if_none_match = Headers(scope=scope).get("if-none-match") if is_get else None
        start: Message | None = None
        chunks: list[bytes] = []

        async def finish(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = MutableHeaders(raw=start["headers"])
            headers["X-Content-Type-Options"] = "nosniff"
            headers["Referrer-Policy"] = "same-origin"
            headers["Vary"] = "Accept, Accept-Encoding"
            if headers.get("content-type", "").startswith("text/html"):
                headers["Content-Security-Policy"] = content_security_policy(body, self.image_hosts)
                headers["X-Frame-Options"] = "DENY"
            if is_get and start["status"] == 200 and "etag" not in headers:
                headers["ETag"] = 'W/"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
            etag = headers.get("etag")
            if etag and if_none_match and _matches(if_none_match, etag):
                for name in ("content-length", "content-type", "content-disposition"):
                    if name in headers:
                        del headers[name]
                await send({"type": "http.response.start", "status": 304, "headers": headers.raw})
                await send({"type": "http.response.body", "body": b""})
                return
            headers["Content-Length"] = str(len(body))
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, finish)


def _matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag.removeprefix("W/") in wanted


_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.I)


def content_security_policy(body: bytes, image_hosts: list[str] | None = None) -> str:
    """A policy that allows nothing from another origin but images from ``image_hosts``
    (the tile servers of optional basemaps), and the page's own inline scripts by their
    SHA-256 hashes (never ``'unsafe-inline'`` for scripts)."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(body)
    )
    return (
        "default-src 'self'; "
        f"script-src 'self'{' ' + hashes if hashes else ''}; "
        "style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{''.join(' ' + host for host in image_hosts or [])}; "
        "font-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
