"""Content negotiation: the ``f`` parameter first, then the Accept header."""

from __future__ import annotations

from fastapi import Request

from geo_service.errors import InvalidQuery


def wants_html(request: Request, f: str | None) -> bool:
    """HTML if ``f=html``, or no ``f`` and the Accept header asks for HTML (a browser)."""
    if f is not None:
        if f not in ("json", "html"):
            raise InvalidQuery(f"f must be json or html here, not {f!r}")
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept


def base_url(request: Request) -> str:
    """The service root URL, ending in '/'."""
    return str(request.base_url)
