"""``POST /legacy/``: authenticate, receive, check, then add through the index core.

The order matters: credentials are checked from the headers before the body is read; the body
is streamed to a temporary folder under the size limit; the form and the token's scope are
checked; only then does the file go through ``add``, which validates its contents (name and
version against METADATA, hardening limits), refuses other bytes under a published name and
writes the pages, under the index lock, before the client gets its answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from pkgindex.errors import ConflictError, PkgIndexError
from pkgindex.index.add import add_files
from pkgindex.server.auth import Authenticator
from pkgindex.server.pages import PageCache
from pkgindex.server.responses import Receive, Response, text_response
from pkgindex.server.settings import Settings
from pkgindex.server.uploads import (
    FormReader,
    UploadRefused,
    check_form,
    place_for_add,
    remove_directory,
    temporary_directory,
    too_large,
)
from pkgindex.stores.base import Store

log = logging.getLogger(__name__)


class UploadHandler:
    def __init__(
        self, settings: Settings, store: Store, auth: Authenticator | None, pages: PageCache
    ) -> None:
        self.settings = settings
        self.store = store
        self.auth = auth
        self.pages = pages

    async def handle(self, headers: Mapping[bytes, bytes], receive: Receive) -> Response:
        if self.auth is None:
            await _Body(receive).drain(self.settings.max_upload)
            return text_response(
                403,
                "uploads are off on this server",
                hint="start it with a token store (pkgindex serve --tokens FILE)",
            )
        body = _Body(receive)
        record = self.auth.check(headers)
        if isinstance(record, Response):
            await body.drain(self.settings.max_upload)  # no more than that for a stranger
            return record
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.settings.max_upload:
            # refused before a byte is stored; the body is still read (and dropped) so that the
            # client sees the answer rather than a broken pipe. Only a token holder gets here.
            await body.drain()
            refused = too_large(self.settings.max_upload)
            return text_response(refused.status, refused.message, hint=refused.hint)
        try:
            filename, outcome = await self._receive_and_add(headers, body, record.allows)
        except UploadRefused as exc:
            await body.drain()
            return text_response(exc.status, exc.message, hint=exc.hint)
        log.info("upload by token %s: %s %s", record.id, filename, outcome)
        return text_response(200, f"{filename}: {outcome}")

    async def _receive_and_add(
        self, headers: Mapping[bytes, bytes], body: _Body, allows: Callable[[str], bool]
    ) -> tuple[str, str]:
        directory = temporary_directory(self.settings.upload_directory)
        reader: FormReader | None = None
        try:
            content_type = headers.get(b"content-type", b"").decode("latin-1")
            reader = FormReader(content_type, directory, self.settings.max_upload)
            while not body.done:
                reader.feed(await body.next())
            form = reader.finish()
            dist = check_form(form)
            if not allows(dist.name):
                raise UploadRefused(
                    403,
                    f"{dist.filename}: this token may not upload to project {dist.name!r}",
                    hint="use a token created with --project " + dist.name,
                )
            path = place_for_add(form, dist)
            try:
                report = await asyncio.to_thread(add_files, self.store, [path])
            except ConflictError as exc:
                raise UploadRefused(
                    409, f"File already exists: {exc.message}", hint=exc.hint
                ) from exc
            except PkgIndexError as exc:
                raise UploadRefused(400, exc.message, hint=exc.hint) from exc
            finally:
                self.pages.forget(dist.name)
                self.pages.forget("")
        finally:
            if reader is not None:
                reader.close()
            remove_directory(directory)
        outcome = "added" if report.added else "unchanged (already published with the same bytes)"
        return dist.filename, outcome


class _Body:
    """The request body as it arrives; ``drain`` reads what is left of a refused one, so the
    client gets the answer instead of a reset connection."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.done = False

    async def next(self) -> bytes:
        if self.done:
            return b""
        message = await self._receive()
        if message["type"] == "http.disconnect":
            self.done = True
            raise UploadRefused(400, "the client disconnected before the end of the body")
        self.done = not message.get("more_body", False)
        body: bytes = message.get("body", b"")
        return body

    async def drain(self, limit: float = float("inf")) -> None:
        """Read and drop the rest of the body (at most ``limit`` bytes: then the connection
        is left for the server to close)."""
        dropped = 0
        while not self.done and dropped <= limit:
            dropped += len(await self.next())
