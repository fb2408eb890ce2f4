"""Responses as values, and the one function that sends them over ASGI.

A handler returns a ``Response``; ``send_response`` writes it (HEAD: headers only), streaming a
file body from disk in chunks when it has one.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = Sequence[tuple[bytes, bytes]]

TEXT = b"text/plain; charset=utf-8"
_CHUNK = 256 << 10  # bytes per read when streaming a file


@dataclass(frozen=True, slots=True)
class FileBody:
    """Part of a file on disk to send: ``length`` bytes from ``start``."""

    path: Path
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
    with open(body.path, "rb") as handle:
        handle.seek(body.start)
        if remaining <= _CHUNK:
            await send({"type": "http.response.body", "body": handle.read(remaining)})
            return
        loop = asyncio.get_running_loop()
        while remaining > 0:
            chunk = await loop.run_in_executor(None, handle.read, min(_CHUNK, remaining))
            if not chunk:  # the file shrank under us: end the body short, the client notices
                break
            remaining -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
        if remaining > 0:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def file_size(path: Path) -> int | None:
    try:
        return os.stat(path).st_size
    except (FileNotFoundError, NotADirectoryError):
        return None
