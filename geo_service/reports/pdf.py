"""The report's HTML as PDF (WeasyPrint: Pango lays out the Chinese text with the Noto
CJK font installed on the system and embeds the glyphs used)."""

from __future__ import annotations

import logging


def html_to_pdf(html: str) -> bytes:
    """PDF bytes of a standalone HTML document (nothing fetched from outside)."""
    from weasyprint import HTML

    # WeasyPrint logs each CSS property it ignores as a warning; keep the log readable.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return HTML(string=html, base_url=None).write_pdf()
