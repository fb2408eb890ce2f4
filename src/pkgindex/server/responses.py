"""Responses as values, and the one function that sends them over ASGI.

A handler returns a ``Response``; ``send_response`` writes it (HEAD: headers only), streaming a
file body from disk in chunks when it has one.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, BinaryIO

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = Sequence[tuple[bytes, bytes]]

TEXT = b"text/plain; charset=utf-8"
_CHUNK = 256 << 10  # bytes per read when streaming a file


@dataclass(frozen=True, slots=True)
class FileBody:
    """Part of a stored object to send: ``length`` bytes from ``start``."""

    open: Callable[[], AbstractContextManager[BinaryIO]]
    start: int
    length: int


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Headers
    body: bytes | FileBody = b""

    @property
    def length(self) -> int:
        return self.body.length if isinstance(self.body, FileBody) else len(self.body)


def text_response(
    status: int, message: str, *, hint: str | None = None, headers: Headers = ()
) -> Response:
    """A plain-text answer whose body names the status, the problem and what to do."""
    phrase = HTTPStatus(status).phrase
    text = f"{status} {phrase}: {message}\n" + (f"hint: {hint}\n" if hint else "")
    return Response(status, [(b"content-type", TEXT), *headers], text.encode())


def redirect(location: str) -> Response:
    return Response(
        301,
        [(b"location", location.encode()), (b"content-type", TEXT)],
        f"301 Moved Permanently: {location}\n".encode(),
    )


async def send_response(send: Send, response: Response, *, head: bool) -> None:
    headers = list(response.headers)
    if response.status != 304:  # a 304 has no body, and no length of its own
        headers.append((b"content-length", str(response.length).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    body = response.body
    if head or not isinstance(body, FileBody):
        await send({"type": "http.response.body", "body": b"" if head else body})
        return
    await _send_file(send, body)


async def _send_file(send: Send, body: FileBody) -> None:
    remaining = body.length
    loop = asyncio.get_running_loop()
    manager = body.open()  # opening a bucket object is a request: off the event loop
    handle = await loop.run_in_executor(None, manager.__enter__)
    try:
        await loop.run_in_executor(None, _skip, handle, body.start)
        while remaining > 0:
            chunk = await loop.run_in_executor(None, handle.read, min(_CHUNK, remaining))
            if not chunk:  # the file shrank under us: end the body short, the client notices
                break
            remaining -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
        if remaining > 0:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        manager.__exit__(None, None, None)


def _skip(handle: BinaryIO, count: int) -> None:
    """Move to byte ``count``: seek in a file, read and drop in a stream (a bucket object)."""
    if not count:
        return
    try:
        handle.seek(count)
    except (AttributeError, OSError, io.UnsupportedOperation):
        while count > 0 and (chunk := handle.read(min(count, _CHUNK))):
            count -= len(chunk)
