"""Limits on what one request may cost: its query, its body and its time."""

from __future__ import annotations

import asyncio
import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _error(status: int, code: str, description: str) -> tuple[dict, bytes]:
    body = json.dumps({"code": code, "description": description}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {"type": "http.response.start", "status": status, "headers": headers}, body


#: Routes that take a file, and may be as large as the upload limit.
_UPLOADS = re.compile(r"^/collections/[^/]+/uploads$")
#: Room for a multipart body's boundaries and form fields beside the file.
_MULTIPART_OVERHEAD = 64 * 1024


class RequestLimitsMiddleware:
    """Refuse over-long query strings (414) and over-size bodies (413) before any route
    runs, and answer 503 when a request takes longer than the timeout."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_query_chars: int,
        max_body_bytes: int,
        max_upload_bytes: int,
        timeout_s: float,
        upload_timeout_s: float,
    ):
        self.app = app
        self.max_query = max_query_chars
        self.max_body = max_body_bytes
        self.max_upload = max_upload_bytes + _MULTIPART_OVERHEAD
        self.timeout = timeout_s
        self.upload_timeout = upload_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self.max_query:
            await self._send(
                send, 414, "URITooLong", f"the query string is over {self.max_query} characters"
            )
            return
        upload = bool(_UPLOADS.match(scope["path"]))
        max_body = self.max_upload if upload else self.max_body
        timeout = self.upload_timeout if upload else self.timeout
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_body):
            await self._send(
                send, 413, "PayloadTooLarge", f"the request body is over {max_body} bytes"
            )
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > max_body:
                raise _BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            async with asyncio.timeout(timeout):
                await self.app(scope, counted_receive, tracked_send)
        except _BodyTooLarge:
            if not started:
                await self._send(
                    send, 413, "PayloadTooLarge", f"the request body is over {max_body} bytes"
                )
        except TimeoutError:
            if not started:
                await self._send(
                    send, 503, "Timeout", f"the request took longer than {timeout:g} s"
                )

    @staticmethod
    async def _send(send: Send, status: int, code: str, description: str) -> None:
        start, body = _error(status, code, description)
        await send(start)
        await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    pass
