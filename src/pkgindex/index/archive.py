"""Read the core metadata out of a wheel or sdist archive, with hard limits.

The archives come from anyone who can upload or open a pull request, so every read is bounded:
the metadata file's size, the number of members looked at, the compression ratio of what is
decompressed, and the size of tar extension headers. Every way an archive can be malformed ends
in an ``InvalidDistributionError`` naming the file, never in a crash or an unbounded read.
"""

from __future__ import annotations

import lzma
import os
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, BinaryIO

from pkgindex.errors import InvalidDistributionError

# PyPI accepts files up to 100 MiB; the largest real METADATA files (a long README as the
# description) are a few hundred KiB. 4 MiB leaves room for those and no room for a bomb.
MAX_METADATA_SIZE = 4 << 20
MAX_MEMBERS = 100_000  # members listed in a zip, or headers read from a tar before PKG-INFO
MAX_DIRECTORY_SIZE = 16 << 20  # bytes of a zip's central directory (100,000 long names fit)
MAX_RATIO = 200  # decompressed / compressed bytes; text compresses about 4-10 times
_RATIO_FLOOR = 16 << 20  # bytes decompressed before the ratio is checked (tar padding, tiny files)
_MAX_TAR_HEADER = 1 << 20  # bytes of a pax or GNU long-name header (real ones are < 1 KiB)
_EOCD_SIZE = 22  # bytes of a zip's end of central directory record, without its comment
_ZIP_METHODS = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "lzma",
}
# what reading a zip member can raise: a bad CRC, a truncated or corrupt deflate, bzip2
# (OSError) or LZMA stream, an encrypted member (RuntimeError), an unknown method
_DECOMPRESSION_ERRORS = (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError,
                         NotImplementedError, zlib.error, lzma.LZMAError)  # fmt: skip
_CORRUPT_HINT = "the file is corrupt or truncated; upload or rebuild it again"
_BOMB_HINT = "rebuild it with a current build backend; this index refuses archive bombs"


def wheel_metadata(handle: BinaryIO, filename: str, dist_info: str) -> bytes:
    """``{dist_info}/METADATA``: there must be one .dist-info folder and one METADATA in it."""
    with _open_zip(handle, filename) as archive:
        member = f"{dist_info}/METADATA"
        folders = _dist_info_folders(archive.filelist)
        if len(folders) > 1:
            raise InvalidDistributionError(
                f"{filename}: the wheel has {len(folders)} .dist-info folders "
                f"({', '.join(folders[:5])}); installers refuse it",
                hint="rebuild the wheel from a clean build folder (one .dist-info only)",
            )
        found = [info for info in archive.filelist if info.filename == member]
        if folders and folders[0] != dist_info:
            raise InvalidDistributionError(
                f"{filename}: the wheel has no {member} (its .dist-info folder is {folders[0]})",
                hint="rebuild the wheel; its name and version must match its .dist-info folder",
            )
        if not found:
            raise InvalidDistributionError(
                f"{filename}: the wheel has no {member}",
                hint="rebuild the wheel; its name and version must match its .dist-info folder",
            )
        if len(found) > 1:
            raise InvalidDistributionError(
                f"{filename}: the wheel holds {member} {len(found)} times",
                hint="rebuild the wheel; a zip member name must appear once",
            )
        return _read_zip_member(archive, found[0], filename)


def _dist_info_folders(members: list[zipfile.ZipInfo]) -> list[str]:
    """The top-level ``*.dist-info`` folders the members are in, sorted."""
    folders = set()
    for info in members:
        name = info.filename
        if ".dist-info/" in name:  # the cheap test first: most members are elsewhere
            top = name.partition("/")[0]
            if top.endswith(".dist-info"):
                folders.add(top)
    return sorted(folders)


def zip_sdist_metadata(handle: BinaryIO, filename: str, member: str) -> bytes | None:
    """A .zip sdist's PKG-INFO, or None if it has none."""
    with _open_zip(handle, filename) as archive:
        found = [info for info in archive.filelist if info.filename == member]
        if len(found) > 1:
            raise InvalidDistributionError(
                f"{filename}: the sdist holds {member} {len(found)} times",
                hint="rebuild it; a zip member name must appear once",
            )
        return _read_zip_member(archive, found[0], filename) if found else None


def tar_sdist_metadata(handle: BinaryIO, filename: str, member: str) -> bytes | None:
    """A .tar.gz sdist's PKG-INFO, or None if it has none; read as a stream, never seeking."""
    compressed_start = _position(handle)
    try:
        with tarfile.open(fileobj=handle, mode="r|gz", tarinfo=_BoundedTarInfo) as archive:
            for count, entry in enumerate(_entries(archive), start=1):
                if entry.name == member and entry.isfile():
                    _check_size(entry.size, filename, member)
                _check_tar_progress(handle, compressed_start, entry, count, filename)
                if entry.name == member and entry.isfile():
                    extracted = archive.extractfile(entry)
                    return _read_bounded(extracted, filename, member) if extracted else None
            return None
    except InvalidDistributionError:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError, TypeError, AttributeError) as exc:
        # tarfile raises TypeError/AttributeError on some truncated gzip streams (3.11-3.13)
        raise InvalidDistributionError(
            f"{filename}: not a readable archive ({_describe(exc)})", hint=_CORRUPT_HINT
        ) from exc


# --- zip ------------------------------------------------------------------------------------


def _open_zip(handle: BinaryIO, filename: str) -> zipfile.ZipFile:
    """``zipfile.ZipFile`` (for a with statement) with its errors turned into ours and a bound on
    the member count."""
    _check_central_directory(handle, filename)
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            NotImplementedError) as exc:  # fmt: skip
        # NotImplementedError: "zip file version 25.5" in a damaged central directory
        raise InvalidDistributionError(
            f"{filename}: not a readable zip archive ({_describe(exc)})", hint=_CORRUPT_HINT
        ) from exc
    count = len(archive.filelist)
    if count > MAX_MEMBERS:
        archive.close()
        raise InvalidDistributionError(
            f"{filename}: the archive has {count} members (the limit is {MAX_MEMBERS})",
            hint=_BOMB_HINT,
        )
    return archive


def _check_central_directory(handle: BinaryIO, filename: str) -> None:
    """Refuse a central directory too big to parse in bounded memory, before zipfile parses
    it (it builds one ZipInfo per entry, about ten times the entry's size). The end record says
    how big the directory is; a damaged one is left for zipfile to report."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    tail_size = min(size, _EOCD_SIZE + 0xFFFF)  # the end record, and a comment of up to 64 KiB
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    handle.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        return
    (directory,) = struct.unpack_from("<L", tail, at + 12)
    if directory == 0xFFFFFFFF and at >= 20 and tail[at - 20 : at - 16] == b"PK\x06\x07":
        (offset,) = struct.unpack_from("<Q", tail, at - 12)
        if 0 <= offset < size:
            handle.seek(offset)
            record = handle.read(56)
            handle.seek(0)
            if len(record) == 56 and record[:4] == b"PK\x06\x06":
                (directory,) = struct.unpack_from("<Q", record, 40)
    if directory > MAX_DIRECTORY_SIZE:
        raise InvalidDistributionError(
            f"{filename}: the zip directory is {directory} bytes (the limit is "
            f"{MAX_DIRECTORY_SIZE >> 20} MiB, about {MAX_MEMBERS} members)",
            hint=_BOMB_HINT,
        )


def _read_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, filename: str) -> bytes:
    member = info.filename
    if info.flag_bits & 0x1:
        raise InvalidDistributionError(
            f"{filename}: {member} is encrypted", hint="rebuild it without encryption"
        )
    if info.compress_type not in _ZIP_METHODS:
        raise InvalidDistributionError(
            f"{filename}: {member} uses zip compression method {info.compress_type}, which "
            "installers cannot read",
            hint=f"rebuild it with one of: {', '.join(_ZIP_METHODS.values())}",
        )
    _check_size(info.file_size, filename, member)
    if info.file_size > _RATIO_FLOOR // 16 and info.file_size > MAX_RATIO * info.compress_size:
        raise InvalidDistributionError(
            f"{filename}: {member} would inflate {info.compress_size} bytes to "
            f"{info.file_size} (more than {MAX_RATIO} times)",
            hint=_BOMB_HINT,
        )
    try:
        with archive.open(info) as stream:
            return _read_bounded(stream, filename, member)
    except InvalidDistributionError:
        raise
    except _DECOMPRESSION_ERRORS as exc:
        raise InvalidDistributionError(
            f"{filename}: cannot decompress {member} ({_describe(exc)})", hint=_CORRUPT_HINT
        ) from exc


# --- tar ------------------------------------------------------------------------------------


class _BoundedTarInfo(tarfile.TarInfo):
    """A TarInfo that refuses huge pax and GNU long-name headers before tarfile reads them
    into memory (a 10 KiB .tar.gz can declare a 1 GiB long name)."""

    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        extension = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE,
                     tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE)  # fmt: skip
        if self.type in extension and self.size > _MAX_TAR_HEADER:
            raise tarfile.HeaderError(f"an extension header of {self.size} bytes")
        return super()._proc_member(tarfile_)  # type: ignore[misc,no-any-return]


def _entries(archive: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    while (entry := archive.next()) is not None:
        yield entry


def _check_tar_progress(
    handle: BinaryIO, start: int, entry: tarfile.TarInfo, count: int, filename: str
) -> None:
    if count > MAX_MEMBERS:
        raise InvalidDistributionError(
            f"{filename}: no PKG-INFO among its first {MAX_MEMBERS} members", hint=_BOMB_HINT
        )
    inflated = entry.offset_data + max(entry.size, 0)
    compressed = max(_position(handle) - start, 1)
    if inflated > _RATIO_FLOOR and inflated > MAX_RATIO * compressed:
        raise InvalidDistributionError(
            f"{filename}: its tar headers announce {inflated} bytes after {compressed} "
            f"compressed bytes (more than {MAX_RATIO} times)",
            hint=_BOMB_HINT,
        )


def _position(handle: BinaryIO) -> int:
    try:
        return handle.tell()
    except (OSError, ValueError):
        return 0


# --- shared ---------------------------------------------------------------------------------


def _check_size(size: int, filename: str, member: str) -> None:
    if size > MAX_METADATA_SIZE:
        raise InvalidDistributionError(
            f"{filename}: {member} is {size} bytes; the limit is {MAX_METADATA_SIZE} "
            f"({MAX_METADATA_SIZE >> 20} MiB)",
            hint="keep the long description short (link to the docs), or rebuild it",
        )


def _read_bounded(stream: IO[bytes], filename: str, member: str) -> bytes:
    """Read at most the limit, whatever the archive's headers claim."""
    data = stream.read(MAX_METADATA_SIZE + 1)
    _check_size(len(data), filename, member)
    return data


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
