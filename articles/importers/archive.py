"""A .zip of importable files: each member is read by the reader for its suffix, in name order.

The archive is unpacked in memory, never onto disk, so member names cannot escape anywhere. Declared sizes
are not trusted: members are read through a bounded read, and the whole archive may unpack to at most
``NEWSNOTES_MAX_IMPORT_UNPACKED_BYTES`` in at most ``NEWSNOTES_MAX_IMPORT_FILES`` files.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.conf import settings

from articles.importers import ArticleRecord, ImportFailure


@dataclass
class Unpacked:
    files: list[tuple[Path, bytes]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # members of no importable type


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def _is_clutter(name: str) -> bool:
    # Archivers add these beside the real files (macOS resource forks, Finder and Explorer metadata).
    parts = PurePosixPath(name).parts
    return parts[0] == "__MACOSX" or any(part.startswith(".") for part in parts) or parts[-1] == "Thumbs.db"


def unpack(path: Path, data: bytes, suffixes: Iterable[str] | None = None) -> Unpacked:
    """The importable members (``suffixes``: the plain readers') as ``(archive/member path, bytes)``, in name order."""
    if suffixes is None:
        from articles.importers.registry import READERS as suffixes

    max_bytes = settings.NEWSNOTES_MAX_IMPORT_UNPACKED_BYTES
    max_files = settings.NEWSNOTES_MAX_IMPORT_FILES
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ImportFailure(path, None, "not a valid zip archive") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and not _is_clutter(m.filename)]
        if len(members) > max_files:
            raise ImportFailure(
                path, None, f"the archive holds {len(members)} files; at most {max_files} are read from one upload"
            )
        unpacked = Unpacked()
        wanted = []
        for member in sorted(members, key=lambda m: m.filename):
            suffix = PurePosixPath(member.filename).suffix.lower()
            if suffix == ".zip":
                raise ImportFailure(
                    f"{path}/{member.filename}", None, "a zip inside a zip is not read; put its files in the outer one"
                )
            if suffix in suffixes:
                wanted.append(member)
            else:
                unpacked.skipped.append(member.filename)
        if not wanted:
            raise ImportFailure(
                path,
                None,
                f"the archive holds no importable files ({', '.join(sorted(s for s in suffixes if s != '.zip'))})",
            )
        if sum(m.file_size for m in wanted) > max_bytes:
            raise ImportFailure(path, None, f"the archive unpacks to more than {_megabytes(max_bytes)}")
        remaining = max_bytes
        for member in wanted:
            where = f"{path}/{member.filename}"
            try:
                with archive.open(member) as stream:
                    # One byte past the allowance tells a member that lied about its size from one that fits.
                    content = stream.read(remaining + 1)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, OSError) as err:
                # Encrypted members, unsupported compression and corrupt data all land here.
                raise ImportFailure(where, None, f"cannot be unpacked ({err})") from None
            if len(content) > remaining:
                raise ImportFailure(path, None, f"the archive unpacks to more than {_megabytes(max_bytes)}")
            remaining -= len(content)
            unpacked.files.append((Path(where), content))
    return unpacked


def read(path: Path, data: bytes | None = None) -> Iterator[ArticleRecord]:
    from articles.importers.registry import PLAIN

    yield from PLAIN.reader_for(path)(path, data)
