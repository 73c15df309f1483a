"""HTTP plumbing for every response: ETag with 304 on If-None-Match."""

from __future__ import annotations

import hashlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ETagMiddleware:
    """Give every successful GET response a weak ETag (a hash of its body) and answer
    a matching ``If-None-Match`` with 304 Not Modified and no body."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        if_none_match = Headers(scope=scope).get("if-none-match")
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = MutableHeaders(raw=start["headers"])
            if start["status"] == 200 and "etag" not in headers:
                headers["ETag"] = 'W/"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
            headers["Vary"] = "Accept, Accept-Encoding"
            etag = headers.get("etag")
            if etag and if_none_match and _matches(if_none_match, etag):
                del headers["content-length"]
                for name in ("content-type", "content-disposition"):
                    if name in headers:
                        del headers[name]
                await send({"type": "http.response.start", "status": 304, "headers": headers.raw})
                await send({"type": "http.response.body", "body": b""})
                return
            headers["Content-Length"] = str(len(body))
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffer)


def _matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag.removeprefix("W/") in wanted
