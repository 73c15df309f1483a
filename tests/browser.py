"""Pages in a real Chromium (Debian's, driven by Playwright): every request that leaves
127.0.0.1 is blocked and recorded, console errors are collected."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.support import ROOT

#: Where Debian's chromium package puts the browser binary (``/usr/bin/chromium`` is a
#: shell wrapper around it).
CHROMIUM_PATHS = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "build" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    for path in CHROMIUM_PATHS:
        if Path(path).exists():
            return path
    found = shutil.which("chromium")
    assert found, "Chromium is not installed (make test installs it)"
    return found


@dataclass
class Visit:
    """A page opened on our service, with what it tried to fetch elsewhere and the errors
    it logged."""

    page: object
    external: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def inject_axe(self) -> None:
        assert AXE_JS.exists(), f"{AXE_JS} is missing (make test runs npm ci)"
        self.page.add_script_tag(path=str(AXE_JS))

    def serious_accessibility_violations(self) -> list[str]:
        """axe-core's serious and critical violations, one line each."""
        self.inject_axe()
        result = self.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        return [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(node["target"][0] for node in v["nodes"][:3])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]


def open_page(browser, url: str, *, viewport=DESKTOP, bypass_csp: bool = False, **options):
    """Open ``url`` in a fresh context; requests to any host but 127.0.0.1 are aborted
    and recorded in :attr:`Visit.external`."""
    context = browser.new_context(viewport=viewport, bypass_csp=bypass_csp, **options)
    page = context.new_page()
    visit = Visit(page)

    def local_only(route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme == "file" or url.hostname == "127.0.0.1":
            route.continue_()
        else:
            visit.external.append(route.request.url)
            route.abort()

    context.route("**/*", local_only)
    page.on("console", lambda m: visit.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: visit.errors.append(str(error)))
    page.goto(url)
    return visit


def search_tips(query: str) -> str:
    """The map search's tips once they answer ``query``, not one of its prefixes typed
    before (the control waits 400 ms after a key; a slow typist gets a prefix's tips)."""
    return f".leaflet-control-search[data-query='{query}'] .search-tip"


def hold_requests(page, pattern: str, wanted) -> list:
    """Hold back the page's requests to ``pattern`` whose query ``wanted`` accepts (their
    routes are returned, to be let through later); the others go through."""
    held = []

    def route(route) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        if wanted(query):
            held.append(route)
        else:
            route.continue_()

    page.route(re.compile(pattern), route)
    return held


def wait_until(page, condition, what: str) -> None:
    """Wait (up to 10 s, letting the page run) until ``condition()`` holds on our side of
    the browser, e.g. a request held by :func:`hold_requests` has come."""
    for _ in range(200):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"waited 10 s for {what}")
