"""HTTP plumbing for every response: security headers, caching headers, 304 on If-None-Match."""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo_service.api.preconditions import none_match

#: Cache-Control by path, first match wins; other GET responses revalidate (``no-cache``:
#: a cache may keep them but asks with the ETag each time, and gets a 304 when unchanged).
CACHE_CONTROL = (
    ("/static/", "public, max-age=86400"),  # vendored assets, served as shipped
    ("/locator/nearest", "no-store"),  # "open now" depends on the time of asking
    ("/healthz", "no-store"),
    ("/coverage/status", "no-store"),
)
#: Responses differ by what the client accepts, how it compresses and who it is.
VARY = "Accept, Accept-Encoding, Authorization, X-API-Key"


def cache_control(path: str, method: str, *, authorised: bool) -> str:
    """The ``Cache-Control`` of a response to ``method path``: nothing but GET and HEAD is
    stored; a response to an API key is ``private`` (shared caches must not keep it)."""
    if method not in ("GET", "HEAD"):
        return "no-store"
    policy = next((p for prefix, p in CACHE_CONTROL if path.startswith(prefix)), "no-cache")
    if authorised and policy != "no-store":
        policy = "private, " + policy.removeprefix("public, ")
    return policy


class ResponseMiddleware:
    """Finish every response: security headers (``X-Content-Type-Options``,
    ``Referrer-Policy``; on HTML pages a Content-Security-Policy that allows inline scripts
    by hash), ``Vary``, ``Cache-Control`` by route, and 304 Not Modified for a matching
    ``If-None-Match``.

    Bodies stream through: a route that streams (downloads) is sent chunk by chunk, with
    the ETag it set from the layer's version. Only HTML pages (whose CSP needs the scripts)
    are held whole; a small answer sent in one piece without an ETag of its own gets a
    weak one, a hash of the bytes already in memory.
    """

    def __init__(self, app: ASGIApp, image_hosts: list[str] | None = None):
        self.app = app
        self.image_hosts = image_hosts or []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        is_get = scope["method"] == "GET"
        if_none_match = request_headers.get("if-none-match") if is_get else None
        policy = cache_control(
            scope["path"],
            scope["method"],
            authorised="authorization" in request_headers or "x-api-key" in request_headers,
        )
        start: Message = {}
        held: list[bytes] = []
        streaming = False
        not_modified = False

        async def finish(message: Message) -> None:
            nonlocal start, streaming, not_modified
            if message["type"] == "http.response.start":
                start = message
                return
            if not_modified:
                return  # the 304 went out; the rest of the body is not sent
            if streaming:
                await send(message)
                return
            body, more = message.get("body", b""), message.get("more_body", False)
            headers = MutableHeaders(raw=start["headers"])
            html = headers.get("content-type", "").startswith("text/html")
            if more and not html:  # a stream: its headers now, its chunks as they come
                streaming = True
                self._finish_headers(headers, policy, b"")
                if _not_modified(start, headers, is_get, if_none_match):
                    not_modified = True
                    await _send_304(send, headers)
                    return
                await send(start)
                await send(message)
                return
            held.append(body)
            if more:
                return
            whole = b"".join(held)
            self._finish_headers(headers, policy, whole if html else b"")
            if is_get and start["status"] == 200 and "etag" not in headers:
                headers["ETag"] = 'W/"' + hashlib.blake2b(whole, digest_size=16).hexdigest() + '"'
            if _not_modified(start, headers, is_get, if_none_match):
                await _send_304(send, headers)
                return
            if scope["method"] != "HEAD":  # a HEAD keeps the length the GET would have
                headers["Content-Length"] = str(len(whole))
            await send(start)
            await send({"type": "http.response.body", "body": whole})

        await self.app(scope, receive, finish)

    def _finish_headers(self, headers: MutableHeaders, policy: str, html: bytes) -> None:
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        headers["Vary"] = VARY
        if "cache-control" not in headers:
            headers["Cache-Control"] = policy
        if headers.get("content-type", "").startswith("text/html"):
            headers["Content-Security-Policy"] = content_security_policy(html, self.image_hosts)
            headers["X-Frame-Options"] = "DENY"


def _not_modified(start: Message, headers: MutableHeaders, is_get: bool, wanted) -> bool:
    etag = headers.get("etag")
    return bool(is_get and start["status"] == 200 and etag and none_match(wanted, etag))


async def _send_304(send: Send, headers: MutableHeaders) -> None:
    for name in ("content-length", "content-type", "content-disposition"):
        if name in headers:
            del headers[name]
    await send({"type": "http.response.start", "status": 304, "headers": headers.raw})
    await send({"type": "http.response.body", "body": b""})


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
