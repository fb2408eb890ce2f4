"""The legacy upload API (``POST /legacy/``) that ``twine upload`` and ``uv publish`` speak.

The multipart body is parsed as it arrives (python-multipart): text fields are kept (with a cap
on their total size), the ``content`` part is streamed into a temporary file while its SHA-256,
BLAKE2b-256 and MD5 digests are computed, and the whole body is held to a size limit. Nothing
reaches the index before every check has passed; then the file goes through the index's own
``add``, so its pages are current when the client gets its answer.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from packaging.utils import canonicalize_name

from pkgindex.errors import InvalidDistributionError, UploadError
from pkgindex.index.distfile import DistFilename, parse_filename

DEFAULT_MAX_UPLOAD = 100 << 20  # bytes
_MAX_FIELDS = 4 << 20  # bytes of text fields (descriptions can be long)
_DIGEST_FIELDS = {
    "sha256_digest": "sha256",
    "blake2_256_digest": "blake2_256",
    "md5_digest": "md5",
}


class UploadRefused(UploadError):
    """An upload refused with an HTTP status (the message is the response body)."""

    def __init__(self, status: int, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadForm:
    """What the client sent: text fields (repeated keys kept) and the file, on disk."""

    fields: Mapping[str, tuple[str, ...]]
    filename: str | None
    path: Path | None
    size: int
    digests: Mapping[str, str]

    def field(self, key: str) -> str | None:
        values = self.fields.get(key)
        return values[0] if values else None


@dataclass(slots=True)
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    text: bytearray = field(default_factory=bytearray)


class FormReader:
    """Feed the request body in chunks; the ``content`` part lands in ``directory``."""

    def __init__(self, content_type: str, directory: Path, limit: int) -> None:
        from python_multipart.multipart import MultipartParser, parse_options_header

        kind, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise UploadRefused(
                400,
                "the upload must be a multipart/form-data body",
                hint="upload with twine or uv publish",
            )
        self._parse_options = parse_options_header
        self._directory = directory
        self._limit = limit
        self._received = 0
        self._fields: dict[str, list[str]] = {}
        self._field_bytes = 0
        self._part = _Part()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._file: BinaryIO | None = None
        self._filename: str | None = None
        self._size = 0
        self._hashes: dict[str, Any] = {
            "sha256": hashlib.sha256(),
            "blake2_256": hashlib.blake2b(digest_size=32),
            "md5": hashlib.md5(usedforsecurity=False),
        }
        callbacks: Any = {
            "on_part_begin": self._on_part_begin,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_header_field": lambda d, s, e: self._header_field.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
        }
        self._parser = MultipartParser(boundary, callbacks)

    def feed(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._received > self._limit:
            raise too_large(self._limit)
        try:
            self._parser.write(chunk)
        except UploadRefused:
            raise
        except Exception as exc:  # python-multipart raises its own and ValueError
            raise UploadRefused(400, f"the multipart body is malformed ({exc})") from exc

    def finish(self) -> UploadForm:
        try:
            self._parser.finalize()
        except Exception as exc:
            raise UploadRefused(400, f"the multipart body is malformed ({exc})") from exc
        if self._file is not None:
            self._file.close()
            self._file = None
        return UploadForm(
            fields={key: tuple(values) for key, values in self._fields.items()},
            filename=self._filename,
            path=self._directory / "content" if self._filename is not None else None,
            size=self._size,
            digests={name: digest.hexdigest() for name, digest in self._hashes.items()},
        )

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    # --- parser callbacks

    def _on_part_begin(self) -> None:
        self._part = _Part()

    def _on_header_end(self) -> None:
        key = self._header_field.decode("latin-1").lower()
        self._part.headers[key] = self._header_value.decode("utf-8", "replace")
        self._header_field.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        disposition = self._part.headers.get("content-disposition", "")
        _, options = self._parse_options(disposition)
        self._part.name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if self._part.name == "content":
            if self._filename is not None:
                raise UploadRefused(400, "the upload has more than one 'content' part")
            self._filename = filename.decode("utf-8", "replace") if filename else ""
            self._file = (self._directory / "content").open("wb")

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._part.name == "content" and self._file is not None:
            self._file.write(chunk)
            self._size += len(chunk)
            for digest in self._hashes.values():
                digest.update(chunk)
            return
        self._field_bytes += len(chunk)
        if self._field_bytes > _MAX_FIELDS:
            raise UploadRefused(413, f"the form fields exceed {_MAX_FIELDS >> 20} MiB")
        self._part.text.extend(chunk)

    def _on_part_end(self) -> None:
        if self._part.name == "content":
            if self._file is not None:
                self._file.close()
                self._file = None
            return
        value = self._part.text.decode("utf-8", "replace")
        self._fields.setdefault(self._part.name, []).append(value)


def too_large(limit: int) -> UploadRefused:
    return UploadRefused(
        413,
        f"the upload is larger than this server accepts ({limit} bytes)",
        hint="raise the limit with pkgindex serve --max-upload (and in a proxy in front)",
    )


def check_form(form: UploadForm) -> DistFilename:
    """Every check that needs only the form: action, file present, filename, digests, name."""
    action = form.field(":action")
    if action != "file_upload":
        raise UploadRefused(400, f"unsupported :action {action!r}; only file_upload is served")
    if form.field("protocol_version") not in (None, "1"):
        raise UploadRefused(400, "unsupported protocol_version; only 1 is served")
    if form.path is None or not form.filename:
        raise UploadRefused(400, "the upload has no file in its 'content' field")
    try:
        dist = parse_filename(form.filename)
    except InvalidDistributionError as exc:
        raise UploadRefused(400, f"invalid filename: {exc.message}", hint=exc.hint) from exc
    for key, algorithm in _DIGEST_FIELDS.items():
        sent = form.field(key)
        if sent is not None and sent.strip().lower() != form.digests[algorithm]:
            raise UploadRefused(
                400,
                f"{dist.filename}: {key} does not match the uploaded bytes "
                f"(sent {sent.strip()}, received {form.digests[algorithm]})",
                hint="the file was changed or truncated in transit; upload it again",
            )
    name = form.field("name")
    if name is not None and canonicalize_name(name) != dist.name:
        raise UploadRefused(
            400,
            f"{dist.filename}: the form says project {name!r}, the filename {dist.name!r}",
            hint="upload with twine or uv publish, which send the name from the metadata",
        )
    return dist


def place_for_add(form: UploadForm, dist: DistFilename) -> Path:
    """Give the temporary file its distribution filename (the index reads the name from it)."""
    assert form.path is not None
    target = form.path.with_name(dist.filename)
    form.path.rename(target)
    return target


def temporary_directory(parent: Path | None) -> Path:
    return Path(tempfile.mkdtemp(prefix="pkgindex-upload-", dir=parent))


def remove_directory(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
