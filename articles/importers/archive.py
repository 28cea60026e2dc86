"""A .zip of importable files: each member is read by the reader for its suffix, in name order.

The archive is unpacked in memory, never onto disk, so member names cannot escape anywhere. Declared sizes
are not trusted: every member is first inflated in chunks and counted (nothing kept), and the whole archive
may unpack to at most ``NEWSNOTES_MAX_IMPORT_UNPACKED_BYTES`` in at most ``NEWSNOTES_MAX_IMPORT_FILES`` files;
then members are read one at a time. The preview and the import both go through ``unpack``.
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
    """An archive whose members were measured: ``files()`` unpacks them one at a time, in name order."""

    path: Path
    data: bytes
    members: list[zipfile.ZipInfo] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)  # measured, not declared
    skipped: list[str] = field(default_factory=list)  # members of no importable type

    def files(self) -> Iterator[tuple[Path, bytes]]:
        """``(archive/member path, bytes)``: only one member's bytes are held at a time."""
        with zipfile.ZipFile(io.BytesIO(self.data)) as archive:
            for member, size in zip(self.members, self.sizes, strict=True):
                with archive.open(member) as stream:
                    yield Path(f"{self.path}/{member.filename}"), stream.read(size)


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n} bytes"


def _is_clutter(name: str) -> bool:
    # Archivers add these beside the real files (macOS resource forks, Finder and Explorer metadata).
    parts = PurePosixPath(name).parts
    return parts[0] == "__MACOSX" or any(part.startswith(".") for part in parts) or parts[-1] == "Thumbs.db"


CHUNK = 64 * 1024


def unpack(path: Path, data: bytes, suffixes: Iterable[str] | None = None) -> Unpacked:
    """Measure the importable members (``suffixes``: the plain readers') with limits checked, without holding
    their contents; see ``Unpacked.files``."""
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
        unpacked = Unpacked(path=path, data=data)
        for member in sorted(members, key=lambda m: m.filename):
            suffix = PurePosixPath(member.filename).suffix.lower()
            if suffix == ".zip":
                raise ImportFailure(
                    f"{path}/{member.filename}", None, "a zip inside a zip is not read; put its files in the outer one"
                )
            if suffix in suffixes:
                unpacked.members.append(member)
            else:
                unpacked.skipped.append(member.filename)
        if not unpacked.members:
            raise ImportFailure(
                path,
                None,
                f"the archive holds no importable files ({', '.join(sorted(s for s in suffixes if s != '.zip'))})",
            )
        too_big = ImportFailure(path, None, f"the archive unpacks to more than {_size(max_bytes)}")
        if sum(m.file_size for m in unpacked.members) > max_bytes:
            raise too_big
        # Declared sizes are not trusted: inflate each member in chunks, counting and discarding, so a lying
        # member is caught after at most the allowance (and one chunk) has passed through memory.
        remaining = max_bytes
        for member in unpacked.members:
            size = 0
            try:
                with archive.open(member) as stream:
                    while chunk := stream.read(min(CHUNK, remaining - size + 1)):
                        size += len(chunk)
                        if size > remaining:
                            raise too_big
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, OSError) as err:
                # Encrypted members, unsupported compression and corrupt data all land here.
                raise ImportFailure(f"{path}/{member.filename}", None, f"cannot be unpacked ({err})") from None
            remaining -= size
            unpacked.sizes.append(size)
    return unpacked


def read(path: Path, data: bytes | None = None) -> Iterator[ArticleRecord]:
    from articles.importers.registry import PLAIN

    yield from PLAIN.reader_for(path)(path, data)
