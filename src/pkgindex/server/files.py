"""Distribution files and PEP 658 ``.metadata`` files, as the catalog lists them.

Only files the project's catalog lists are served (never a page, a dotfile or a stray file),
with a strong ETag from the catalog's hash, Last-Modified from the upload time, single byte
ranges (uv reads wheel metadata that way when PEP 658 is absent) and an immutable
Cache-Control: a published filename never changes its bytes. Metadata files are small and
read often, so they are also kept in memory, keyed by their hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pkgindex.index.model import IndexFile, Project
from pkgindex.index.scan import METADATA_SUFFIX
from pkgindex.server.http import (
    UnsatisfiableRange,
    http_date,
    not_modified,
    parse_range,
    range_applies,
)
from pkgindex.server.pages import PageSource
from pkgindex.server.responses import FileBody, Headers, Response, text_response

IMMUTABLE = b"public, max-age=31536000, immutable"
_CONTENT_TYPES = {
    ".whl": b"application/zip",
    ".zip": b"application/zip",
    ".tar.gz": b"application/gzip",
    METADATA_SUFFIX: b"text/plain; charset=utf-8",
}
_MEMORY_LIMIT = 64 << 10  # bytes; metadata files up to this size are kept in memory
_MEMORY_ENTRIES = 8192
_CONDITIONAL = {b"range", b"if-none-match", b"if-modified-since", b"if-range"}


@dataclass(frozen=True, slots=True)
class _Target:
    key: str  # the object's key in the store: project/filename
    etag: str
    modified: datetime
    content_type: bytes


@dataclass(slots=True)
class FileServer:
    source: PageSource
    _memory: dict[str, bytes] = field(default_factory=dict)
    # whole 200 answers for metadata files, with the catalog entry (object) they were made from
    _answers: dict[tuple[str, str], tuple[Project, Response]] = field(default_factory=dict)

    def respond(self, project: Project, filename: str, headers: Mapping[bytes, bytes]) -> Response:
        """The answer for one file; a plain GET of a metadata file is served from memory."""
        plain = not headers.keys() & _CONDITIONAL
        if plain:
            known = self._answers.get((project.name, filename))
            if known is not None and known[0] is project:  # same catalog entry: still valid
                return known[1]
        response = self._respond(project, filename, headers)
        if plain and response.status == 200 and isinstance(response.body, bytes):
            if len(self._answers) >= _MEMORY_ENTRIES:
                del self._answers[next(iter(self._answers))]
            self._answers[(project.name, filename)] = (project, response)
        return response

    def _respond(self, project: Project, filename: str, headers: Mapping[bytes, bytes]) -> Response:
        target = _find(project, filename)
        if target is None:
            return text_response(404, f"{project.name}/{filename}: no such file in the index")
        validators = [
            (b"etag", target.etag.encode()),
            (b"last-modified", http_date(target.modified).encode()),
            (b"cache-control", IMMUTABLE),
            (b"accept-ranges", b"bytes"),
        ]
        if not_modified(
            if_none_match=_text(headers.get(b"if-none-match")),
            if_modified_since=_text(headers.get(b"if-modified-since")),
            etag=target.etag,
            modified=target.modified,
        ):
            return Response(304, validators)
        content: bytes | None = self._memory.get(target.etag)
        size: int | None
        if content is None and target.key.endswith(METADATA_SUFFIX):
            content = self._remember(target)
        size = len(content) if content is not None else self._size(target.key)
        if size is None:
            return text_response(404, f"{target.key}: listed in the catalog but missing")
        return self._body(target, content, size, validators, headers)

    def _body(
        self,
        target: _Target,
        content: bytes | None,
        size: int,
        validators: Headers,
        headers: Mapping[bytes, bytes],
    ) -> Response:
        kind = [(b"content-type", target.content_type), *validators]
        requested = None
        if range_applies(_text(headers.get(b"if-range")), target.etag):
            try:
                requested = parse_range(_text(headers.get(b"range")), size)
            except UnsatisfiableRange:
                return Response(416, [*kind, (b"content-range", f"bytes */{size}".encode())])
        start, length, status = 0, size, 200
        if requested is not None:
            start, length, status = requested.start, requested.length, 206
            span = f"bytes {requested.start}-{requested.end}/{size}".encode()
            kind.append((b"content-range", span))
        if content is not None:
            return Response(status, kind, content[start : start + length])
        source, key = self.source, target.key
        return Response(status, kind, FileBody(lambda: source.open(key), start, length))

    def _remember(self, target: _Target) -> bytes | None:
        content = self.source.read(target.key)
        if content is not None and len(content) <= _MEMORY_LIMIT:
            if len(self._memory) >= _MEMORY_ENTRIES:
                del self._memory[next(iter(self._memory))]  # oldest first
            self._memory[target.etag] = content
        return content

    def _size(self, key: str) -> int | None:
        return self.source.size(key)


def _find(project: Project, filename: str) -> _Target | None:
    key = f"{project.name}/{filename}"
    if filename.endswith(METADATA_SUFFIX):
        entry = project.file(filename.removesuffix(METADATA_SUFFIX))
        if entry is None or entry.metadata_sha256 is None:
            return None
        return _Target(key, f'"{entry.metadata_sha256}"', entry.upload_time, _type(filename))
    entry = project.file(filename)
    if entry is None:
        return None
    return _Target(key, _etag(entry), entry.upload_time, _type(filename))


def _etag(entry: IndexFile) -> str:
    return f'"{entry.sha256}"'


def _type(filename: str) -> bytes:
    for suffix, content_type in _CONTENT_TYPES.items():
        if filename.endswith(suffix):
            return content_type
    return b"application/octet-stream"


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value is not None else None
