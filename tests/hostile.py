"""Malformed and hostile distribution files, as bytes, for the hardening tests and the fuzzer.

Each builder returns ``(filename, data)``. They are small and quick to make, except the bombs,
which inflate to hundreds of MiB from a few hundred KiB.
"""

from __future__ import annotations

import io
import json
import struct
import tarfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable

Made = tuple[str, bytes]
MiB = 1 << 20


def metadata(name: str = "bad", version: str = "1.0", extra: str = "") -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{extra}\nBody.\n".encode()


def zip_bytes(
    members: Iterable[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data, compression)
    return buffer.getvalue()


def wheel(
    name: str = "bad",
    version: str = "1.0",
    meta: bytes | None = None,
    *,
    extra: Iterable[tuple[str, bytes]] = (),
    compression: int = zipfile.ZIP_DEFLATED,
) -> Made:
    stem = f"{name}-{version}"
    members = [
        (f"{name}/__init__.py", b"VALUE = 1\n"),
        (f"{stem}.dist-info/METADATA", metadata(name, version) if meta is None else meta),
        (f"{stem}.dist-info/WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"),
        *extra,
    ]
    return f"{stem}-py3-none-any.whl", zip_bytes(members, compression)


def tar_gz(members: Iterable[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def sdist(name: str = "bad", version: str = "1.0", pkg_info: bytes | None = None) -> Made:
    stem = f"{name}-{version}"
    data = metadata(name, version) if pkg_info is None else pkg_info
    info = tarfile.TarInfo(f"{stem}/PKG-INFO")
    info.size = len(data)
    return f"{stem}.tar.gz", tar_gz([(info, data)])


# --- malformed (issue 7, item 4) --------------------------------------------------------------


def non_ascii_name() -> Made:
    return wheel(meta="Metadata-Version: 2.1\nName: bäd\nVersion: 1.0\n\n".encode())


def invalid_utf8_metadata() -> Made:
    return wheel(meta=b"Metadata-Version: 2.1\nName: bad\xff\xfe\nVersion: 1.0\n\n")


def encrypted_member() -> Made:
    filename, data = wheel(compression=zipfile.ZIP_STORED)
    return filename, _patch_zip(data, flag_bits=0x1)


def unsupported_compression() -> Made:
    filename, data = wheel(compression=zipfile.ZIP_STORED)
    return filename, _patch_zip(data, method=99)  # 99: AES, which zipfile cannot read


def corrupt_stream(compression: int = zipfile.ZIP_DEFLATED) -> Made:
    """A METADATA whose compressed stream is damaged in the middle (CRC and sizes intact)."""
    text = metadata(extra="Description: " + " ".join(str(i * 7919) for i in range(3000)))
    filename, data = wheel(meta=text, compression=compression)
    start = data.index(b".dist-info/METADATA") + len(".dist-info/METADATA")
    middle = start + 200
    damaged = data[:middle] + bytes(b ^ 0x5A for b in data[middle : middle + 64])
    return filename, damaged + data[middle + 64 :]


def corrupt_lzma() -> Made:
    return corrupt_stream(zipfile.ZIP_LZMA)


def tiny_tar_gz() -> Made:
    return "bad-1.0.tar.gz", b"\x1f\x8b\x08"


def two_dist_info() -> Made:
    return wheel(extra=[("other-2.0.dist-info/METADATA", metadata("other", "2.0"))])


def duplicate_metadata() -> Made:
    filename, data = wheel(compression=zipfile.ZIP_STORED)
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": the point here
        archive.writestr("bad-1.0.dist-info/METADATA", metadata("evil", "6.6"))
    return filename, buffer.getvalue()


def long_name(length: int) -> Made:
    """A valid wheel whose filename has ``length`` characters."""
    name = "a" * (length - len("-1.0-py3-none-any.whl"))
    return wheel(name, "1.0")


def _patch_zip(data: bytes, *, flag_bits: int = 0, method: int | None = None) -> bytes:
    """Set flag bits or the compression method of every member, in both headers."""
    patched = bytearray(data)
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = patched.find(signature)
        while at != -1:
            (flags,) = struct.unpack_from("<H", patched, at + flags_at)
            struct.pack_into("<H", patched, at + flags_at, flags | flag_bits)
            if method is not None:
                struct.pack_into("<H", patched, at + flags_at + 2, method)
            at = patched.find(signature, at + 4)
    return bytes(patched)


# --- bombs (issue 7, item 3) --------------------------------------------------------------------


def _deflate_repeated(total: int, head: bytes = b"") -> tuple[bytes, int]:
    """A raw deflate stream of ``head`` and ``total`` bytes of "A", and its CRC-32."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)  # level 1: 4x faster, ratio 230
    parts, crc = [compressor.compress(head)], zlib.crc32(head)
    chunk = b"A" * MiB
    for _ in range(total // MiB):
        parts.append(compressor.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    parts.append(compressor.flush())
    return b"".join(parts), crc


def metadata_bomb(size: int = 256 * MiB) -> Made:
    """A wheel whose METADATA inflates to ``size`` bytes (a long Description header)."""
    head = metadata(extra="Description: ")
    stream, crc = _deflate_repeated(size, head)
    members = [
        ("bad/__init__.py", b"", 0, 0, zipfile.ZIP_STORED),
        ("bad-1.0.dist-info/METADATA", stream, crc, len(head) + size, zipfile.ZIP_DEFLATED),
    ]
    return "bad-1.0-py3-none-any.whl", _raw_zip(members)


def lying_size_bomb(size: int = 256 * MiB) -> Made:
    """A METADATA whose header claims 100 bytes and whose stream inflates to ``size``."""
    stream, crc = _deflate_repeated(size)
    members = [("bad-1.0.dist-info/METADATA", stream, crc, 100, zipfile.ZIP_DEFLATED)]
    return "bad-1.0-py3-none-any.whl", _raw_zip(members)


def many_members(count: int) -> Made:
    members = [(f"bad/m{i}.py", b"", 0, 0, zipfile.ZIP_STORED) for i in range(count)]
    members.append(("bad-1.0.dist-info/METADATA", metadata(), 0, 0, zipfile.ZIP_STORED))
    return "bad-1.0-py3-none-any.whl", _raw_zip(members)


def _raw_zip(members: Iterable[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip written from already-compressed member data (zipfile cannot do that)."""
    out, central = io.BytesIO(), io.BytesIO()
    count = 0
    for name, data, crc, size, method in members:
        raw = name.encode()
        crc = crc if method != zipfile.ZIP_STORED else zlib.crc32(data)
        size = size if method != zipfile.ZIP_STORED else len(data)
        offset = out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc,
                              len(data), size, len(raw), 0) + raw + data)  # fmt: skip
        central.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21,
                                  crc, len(data), size, len(raw), 0, 0, 0, 0, 0,
                                  offset) + raw)  # fmt: skip
        count += 1
    directory = central.getvalue()
    start = out.tell()
    out.write(directory)
    if count > 0xFFFF:  # zip64 end records carry the real count
        end64 = out.tell()
        out.write(struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count,
                              len(directory), start))  # fmt: skip
        out.write(struct.pack("<4sLQL", b"PK\x06\x07", 0, end64, 1))
    short = min(count, 0xFFFF)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, short, short, len(directory),
                          start, 0))  # fmt: skip
    return out.getvalue()


def _gzip_members(parts: Iterable[bytes | Callable[[], Iterable[bytes]]]) -> bytes:
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)  # gzip container, fast
    out = []
    for part in parts:
        for piece in part() if callable(part) else (part,):
            out.append(compressor.compress(piece))
    out.append(compressor.flush())
    return b"".join(out)


def _tar_header(name: str, size: int, kind: bytes = tarfile.REGTYPE) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type = size, kind
    return info.tobuf(format=tarfile.GNU_FORMAT)


def _zeros(size: int) -> Callable[[], Iterable[bytes]]:
    def pieces() -> Iterable[bytes]:
        block = b"\0" * MiB
        for _ in range(size // MiB):
            yield block

    return pieces


def pkg_info_bomb(size: int = 256 * MiB) -> Made:
    """An sdist whose PKG-INFO is ``size`` bytes."""
    head = metadata(extra="Description: ")
    parts: list[bytes | Callable[[], Iterable[bytes]]] = [
        _tar_header("bad-1.0/PKG-INFO", len(head) + size),
        head,
        _zeros(size),
        b"\0" * 1024,
    ]
    return "bad-1.0.tar.gz", _gzip_members(parts)


def long_name_header_bomb(size: int = 256 * MiB) -> Made:
    """An sdist whose first header is a GNU long name of ``size`` bytes."""
    parts: list[bytes | Callable[[], Iterable[bytes]]] = [
        _tar_header("././@LongLink", size, tarfile.GNUTYPE_LONGNAME),
        _zeros(size),
        b"\0" * 1024,
    ]
    return "bad-1.0.tar.gz", _gzip_members(parts)


def ratio_bomb(size: int = 256 * MiB) -> Made:
    """An sdist with ``size`` bytes of zeros in a member before its PKG-INFO."""
    pkg_info = metadata()
    parts: list[bytes | Callable[[], Iterable[bytes]]] = [
        _tar_header("bad-1.0/zeros.bin", size),
        _zeros(size),
        _tar_header("bad-1.0/PKG-INFO", len(pkg_info)),
        pkg_info + b"\0" * (512 - len(pkg_info) % 512),
        b"\0" * 1024,
    ]
    return "bad-1.0.tar.gz", _gzip_members(parts)


# --- catalog pages (issue 7, items 4 and 5) -----------------------------------------------------


def catalog_page(name: str, file: dict[str, object]) -> bytes:
    entry = {
        "filename": f"{name}-1.0-py3-none-any.whl",
        "url": f"{name}-1.0-py3-none-any.whl",
        "hashes": {"sha256": "0" * 64},
        "size": 10,
        "upload-time": "2024-01-01T00:00:00.000000Z",
        "yanked": False,
    }
    entry.update(file)
    document = {"meta": {"api-version": "1.1"}, "name": name, "versions": ["1.0"]}
    return json.dumps({**document, "files": [entry]}).encode()


def deep_json(depth: int = 100_000) -> bytes:
    return b'{"meta": {}, "name": "x", "files": ' + b"[" * depth + b"]" * depth + b"}"


MALFORMED: dict[str, Callable[[], Made]] = {
    "non-ascii-name": non_ascii_name,
    "invalid-utf8": invalid_utf8_metadata,
    "encrypted": encrypted_member,
    "unsupported-compression": unsupported_compression,
    "corrupt-deflate": corrupt_stream,
    "corrupt-lzma": corrupt_lzma,
    "tiny-tar-gz": tiny_tar_gz,
    "two-dist-info": two_dist_info,
    "duplicate-metadata": duplicate_metadata,
}
