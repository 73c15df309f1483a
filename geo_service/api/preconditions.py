"""Versions in HTTP headers: a layer's strong ETag, and the ``If-Match`` a write must
carry (RFC 9110 §13.1.1: strong comparison, so a weak ETag never matches)."""

from __future__ import annotations

import hashlib

from fastapi import Request

from geo_service import __version__
from geo_service.errors import PreconditionFailed, PreconditionRequired


def version_etag(version: str) -> str:
    """The strong ETag naming a layer (or feature) version token."""
    return f'"{version}"'


def query_etag(request: Request, version: str, *, role: str) -> str:
    """A weak ETag of a response from what decides its content: the layer's version, the
    path and query, the representation asked for, the caller's role and this build —
    known before the response is made, so a client that has it gets a 304 for nothing."""
    parts = [
        __version__,
        version,
        role,
        request.url.path,
        str(sorted(request.query_params.multi_items())),
        request.headers.get("accept", ""),
    ]
    return 'W/"v-' + hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest() + '"'


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, RFC 9110 §13.1.2): the
    client has this response already."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag.removeprefix("W/") in wanted


def if_match_tag(request: Request) -> str | None:
    """The version token the request's ``If-Match`` names; None without one, or for ``*``
    (any version).

    Raises
    ------
    PreconditionFailed
        A weak ETag or a list (an edit is based on one version, compared strongly).
    """
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    tag = header.strip()
    if tag.startswith("W/") or "," in tag or len(tag) < 3:
        raise PreconditionFailed(
            f"If-Match {tag[:80]!r} does not name one version; send the strong ETag you got"
        )
    return tag.strip('"')


def if_match_version(request: Request) -> str:
    """The version token the request's ``If-Match`` names, which it must.

    Raises
    ------
    PreconditionRequired
        No ``If-Match`` (a write must say which version it changes).
    PreconditionFailed
        A weak ETag, a list, or ``*`` (say which version, not any).
    """
    if request.headers.get("if-match") is None:
        raise PreconditionRequired(
            "send If-Match with the ETag of the version this change is based on"
        )
    tag = if_match_tag(request)
    if tag is None:
        raise PreconditionFailed("If-Match '*' does not name one version; send the ETag you got")
    return tag
