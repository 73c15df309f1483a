"""Versions in HTTP headers: a layer's strong ETag, and the ``If-Match`` a write must
carry (RFC 9110 §13.1.1: strong comparison, so a weak ETag never matches)."""

from __future__ import annotations

from fastapi import Request

from geo_service.errors import PreconditionFailed, PreconditionRequired


def version_etag(version: str) -> str:
    """The strong ETag naming a layer (or feature) version token."""
    return f'"{version}"'


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
