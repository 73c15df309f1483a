"""Zip archives from outside — a zipped Shapefile, an XLSX workbook — checked before a
byte is unpacked.

A member may not leave the folder it would be unpacked in (``..``, an absolute path, a
drive letter), be a symbolic link, be encrypted, or unpack to more than the limits allow:
a zip bomb shows as a huge total or a huge compression ratio. Python's ``zipfile`` stops
reading a member at its declared size and checks its CRC, so the declared sizes checked
here bound what unpacking can write.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from geo_service.errors import ImportFailed

#: An archive unpacking to more than this is refused, bytes.
MAX_UNPACKED_BYTES = 2 * 1024**3
#: A member larger than :data:`RATIO_FLOOR_BYTES` unpacking to more than this many times
#: its packed size is refused (real tables and shapes pack 2–50×, a blank DBF rarely 300×).
MAX_COMPRESSION_RATIO = 500
RATIO_FLOOR_BYTES = 1024**2
#: More members than this is not a layer.
MAX_MEMBERS = 10_000


@dataclass(frozen=True)
class ArchiveLimits:
    """How big an archive may unpack: in all (bytes), per member (ratio), in members."""

    max_unpacked_bytes: int = MAX_UNPACKED_BYTES
    max_ratio: float = MAX_COMPRESSION_RATIO
    max_members: int = MAX_MEMBERS


#: The limits of a file given on the command line.
DEFAULT_LIMITS = ArchiveLimits()


def _escapes(name: str) -> bool:
    """Whether member ``name`` would be written outside the folder it is unpacked in."""
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    return (
        posix.is_absolute()
        or windows.is_absolute()
        or bool(windows.drive)
        or ".." in posix.parts
        or ".." in windows.parts
    )


def _is_symlink(member: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(member.external_attr >> 16)


def check_archive(
    path: Path, *, source: str, limits: ArchiveLimits = DEFAULT_LIMITS
) -> list[zipfile.ZipInfo]:
    """The members of the zip file ``path`` once they are all safe to unpack.

    Raises
    ------
    ImportFailed
        ``path`` is not a zip file, or a member escapes its folder, is a symbolic link or
        encrypted, or the archive unpacks to more than ``limits`` allow; the message names
        the member and the reason.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFailed(f"{source} is not a readable zip file: {exc}") from exc
    if len(members) > limits.max_members:
        raise ImportFailed(f"{source} holds {len(members)} files; at most {limits.max_members}")
    total = 0
    for member in members:
        name = member.filename
        if _escapes(name):
            raise ImportFailed(
                f"{source}: the entry {name!r} would unpack outside its folder "
                "('..' or an absolute path); refused"
            )
        if _is_symlink(member):
            raise ImportFailed(f"{source}: the entry {name!r} is a symbolic link; refused")
        if member.flag_bits & 0x1:
            raise ImportFailed(f"{source}: the entry {name!r} is encrypted; refused")
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_FLOOR_BYTES and ratio > limits.max_ratio:
            raise ImportFailed(
                f"{source}: the entry {name!r} unpacks {ratio:,.0f} times its packed size "
                f"(at most {limits.max_ratio:,.0f}); refused as a zip bomb"
            )
        total += member.file_size
        if total > limits.max_unpacked_bytes:
            raise ImportFailed(
                f"{source} unpacks to more than {limits.max_unpacked_bytes:,} bytes; refused"
            )
    return members
