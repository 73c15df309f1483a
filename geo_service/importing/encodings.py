"""Which text encoding a CSV or a Shapefile's ``.dbf`` is in.

Files from Chinese desktop software (Excel, WPS, ArcGIS) are often GBK rather than UTF-8.
Detection is simple and stated in the report: a byte-order mark wins, then valid UTF-8,
then GB18030 (a superset of GBK and GB2312); anything else must be named by the caller.
"""

from __future__ import annotations

import codecs
import struct
from dataclasses import dataclass

from geo_service.errors import ImportFailed

#: GB18030 decodes every GBK and GB2312 file; the report names it as both.
GB18030 = "GB18030"
#: dBase language driver ids of East Asian code pages (byte 29 of a .dbf header).
_EAST_ASIAN_LDID = {0x4D: "CP936", 0x7A: "CP936", 0x4F: "CP950", 0x78: "CP950", 0x7B: "CP932"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)


@dataclass(frozen=True)
class Encoding:
    """The encoding used to read a file's text, and how it was chosen."""

    name: str
    source: str

    def describe(self) -> str:
        """e.g. ``GB18030 (GBK-compatible; detected: not valid UTF-8)``."""
        name = f"{self.name} (GBK/GB2312-compatible)" if self.name == GB18030 else self.name
        return f"{name}; {self.source}"


def check_codec(name: str) -> str:
    """The Python codec called ``name``; :class:`ImportFailed` if there is none."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ImportFailed(f"unknown text encoding {name!r} (e.g. utf-8, gbk, gb18030)") from None


def decode_text(data: bytes, encoding: str | None, *, source: str) -> tuple[str, Encoding]:
    """The text of a CSV file and the encoding it was read with.

    ``encoding`` (the caller's) wins; otherwise a byte-order mark, then UTF-8, then GB18030.
    """
    if encoding is not None:
        codec = check_codec(encoding)
        try:
            return data.decode(codec), Encoding(encoding.upper(), "stated by the caller")
        except UnicodeDecodeError as exc:
            raise ImportFailed(f"{source} is not valid {encoding}: {exc.reason}") from None
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec), Encoding(name, "byte-order mark")
            except UnicodeDecodeError as exc:
                raise ImportFailed(f"{source}: broken {name} text: {exc.reason}") from None
    try:
        return data.decode("utf-8"), Encoding("UTF-8", "detected: valid UTF-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFailed(
            f"{source} is neither UTF-8 nor GBK/GB18030 text; state its encoding with encoding="
        ) from None
    return text, Encoding(GB18030, "detected: not valid UTF-8, decodes as GBK/GB18030")


def _dbf_text(dbf: bytes) -> bytes:
    """The record bytes of a dBase file (the header and field descriptors skipped)."""
    if len(dbf) < 12:
        return b""
    records, header_length, record_length = struct.unpack("<IHH", dbf[4:12])
    return dbf[header_length : header_length + records * record_length]


def dbf_encoding(dbf: bytes) -> Encoding:
    """The encoding of a ``.dbf`` that has no ``.cpg``: ``UTF-8`` when its text is valid
    UTF-8; else the East Asian code page its header's language driver id names; else
    ``GB18030`` when its text decodes as GBK/GB18030. (A Western code page in the header
    is not trusted: desktop GIS writes one by default over GBK text.)

    Raises :class:`ImportFailed` when none of these fits.
    """
    text = _dbf_text(dbf)
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return Encoding("UTF-8", "detected: no .cpg file, the .dbf text is valid UTF-8")
    code_page = _EAST_ASIAN_LDID.get(dbf[29]) if len(dbf) > 29 else None
    if code_page is not None:
        return Encoding(code_page, f"no .cpg file; language driver {dbf[29]:#04x} in the .dbf")
    try:
        text.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFailed(
            "the Shapefile has no .cpg file and its .dbf text is neither UTF-8 nor "
            "GBK/GB18030; state its encoding with encoding="
        ) from None
    return Encoding(GB18030, "detected: no .cpg file, the .dbf text is not valid UTF-8")
