"""The ASGI application: the simple API, files, uploads and a health check.

``create_app(settings)`` builds it; there is no module-level app. It is a small hand-routed
ASGI callable (five routes), which keeps the per-request cost to a dictionary lookup and a
``stat``: the page bytes come from memory (pages.py).

    /                       301 to /simple/
    /simple/                root page (PEP 503/691, negotiated)
    /simple/<name>/         project page; 301 from an un-normalized name or a missing slash
    /simple/<name>/<file>   distribution and .metadata files (files.py)
    /legacy/                uploads (uploads.py), with or without the slash
    /-/health               200 and a small JSON document
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from urllib.parse import quote, unquote

from packaging.utils import InvalidName, NormalizedName, canonicalize_name

from pkgindex.server.auth import Authenticator
from pkgindex.server.files import FileServer
from pkgindex.server.http import OFFERS, Choice, negotiate
from pkgindex.server.pages import FolderSource, Page, PageCache, source_for
from pkgindex.server.responses import (
    Receive,
    Response,
    Scope,
    Send,
    redirect,
    send_response,
    text_response,
)
from pkgindex.server.settings import BUCKET_PAGE_TTL, Settings
from pkgindex.server.tokens import TokenStore
from pkgindex.server.upload_handler import UploadHandler
from pkgindex.stores import open_store
from pkgindex.stores.base import Store

log = logging.getLogger(__name__)
access_log = logging.getLogger("pkgindex.server.access")

_READ_METHODS = ("GET", "HEAD")
_NOT_ACCEPTABLE = "none of the offered types is acceptable: " + ", ".join(
    media_type for media_type, _, _ in OFFERS
)


class App:
    """The ASGI callable. Build it with ``create_app``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = open_settings_store(settings)
        source = source_for(self.store)
        ttl = settings.page_ttl
        if ttl is None:
            ttl = 0.0 if isinstance(source, FolderSource) else BUCKET_PAGE_TTL
        self.pages = PageCache(source, ttl=ttl)
        self.files = FileServer(source)
        tokens = TokenStore(settings.tokens) if settings.tokens is not None else None
        self.auth = Authenticator(tokens) if tokens is not None else None
        self.uploads = UploadHandler(settings, self.store, self.auth, self.pages)
        self._normalized: dict[str, NormalizedName] = {}
        self._choices: dict[tuple[bytes | None, str | None], Choice | None] = {}
        self._page_cache_control = f"public, max-age={settings.page_max_age}".encode()
        if settings.private:
            self._page_cache_control = f"private, max-age={settings.page_max_age}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await _lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = dict(scope["headers"])
        method = scope["method"]
        try:
            response = await self._route(scope, method, headers, receive)
        except Exception:
            log.exception("%s %s: internal error", method, scope["path"])
            response = text_response(500, "internal error; the server log has the details")
        await send_response(send, response, head=method == "HEAD")
        if self.settings.access_log:
            access_log.info(
                '%s "%s %s HTTP/%s" %d %d %.1fms',
                (scope.get("client") or ("-",))[0],
                method,
                quote(scope["path"]),
                scope.get("http_version", "1.1"),
                response.status,
                response.length,
                (time.perf_counter() - started) * 1000,
            )

    async def _route(
        self, scope: Scope, method: str, headers: Mapping[bytes, bytes], receive: Receive
    ) -> Response:
        path: str = scope["path"]
        if path.startswith("/simple/"):
            if method not in _READ_METHODS:
                return _not_allowed("GET, HEAD")
            return self._read(path[len("/simple/") :], scope, headers)
        if path in ("/legacy/", "/legacy"):
            if method != "POST":
                return _not_allowed("POST")
            return await self.uploads.handle(headers, receive)
        if path in ("/", "/simple"):
            return redirect("/simple/")
        if path == "/-/health":
            return Response(200, [(b"content-type", b"application/json")], b'{"status":"ok"}\n')
        return text_response(404, f"{path}: not found", hint="the index is at /simple/")

    def _read(self, rest: str, scope: Scope, headers: Mapping[bytes, bytes]) -> Response:
        if self.settings.private:
            denied = self._authorize_read(headers)
            if denied is not None:
                return denied
        name, slash, filename = rest.partition("/")
        if not name:
            page = self.pages.root()
            if page is None:
                return text_response(
                    503,
                    "the index has no root page yet",
                    hint="run 'pkgindex generate' on the index root",
                )
            return self._page(page, scope, headers)
        normalized = self._normalized.get(name)
        if normalized is None:
            try:
                normalized = canonicalize_name(name, validate=True)
            except InvalidName:
                return text_response(404, f"{name!r}: not a valid project name")
            if len(self._normalized) >= 65536:  # bounded: names come from the network
                self._normalized.clear()
            self._normalized[name] = normalized
        project = self.pages.project(normalized)
        if project is None:  # always 404, never a redirect: uv's first-index strategy needs it
            return text_response(404, f"{normalized}: no such project in this index")
        if normalized != name or not slash:
            query = scope.get("query_string", b"").decode("latin-1")
            location = f"/simple/{normalized}/" + (filename if slash else "")
            return redirect(location + (f"?{query}" if query else ""))
        if filename:
            assert project.project is not None
            return self.files.respond(project.project, filename, headers)
        return self._page(project, scope, headers)

    def _page(self, page: Page, scope: Scope, headers: Mapping[bytes, bytes]) -> Response:
        format_parameter = None
        query = scope.get("query_string")
        if query:
            format_parameter = _format_parameter(query.decode("latin-1"))
        choice = self._negotiate(headers.get(b"accept"), format_parameter)
        vary = (b"vary", b"Accept, Accept-Encoding")
        if choice is None:
            return text_response(406, _NOT_ACCEPTABLE, headers=[vary])
        body = page.body(choice.format)
        data, etag = body.data, body.etag
        encoding: list[tuple[bytes, bytes]] = []
        if body.gzipped is not None and b"gzip" in headers.get(b"accept-encoding", b""):
            data, etag = body.gzipped, body.gzip_etag
            encoding = [(b"content-encoding", b"gzip")]
        common = [
            vary,
            (b"etag", etag.encode()),
            (b"cache-control", self._page_cache_control),
        ]
        if_none_match = headers.get(b"if-none-match")
        if if_none_match is not None and etag.encode() in if_none_match:
            return Response(304, common)
        content_type = (b"content-type", choice.content_type.encode())
        return Response(200, [content_type, *encoding, *common], data)

    def _negotiate(self, accept: bytes | None, format_parameter: str | None) -> Choice | None:
        """negotiate(), remembered: clients send a handful of distinct Accept headers."""
        key = (accept, format_parameter)
        if key in self._choices:
            return self._choices[key]
        choice = negotiate(accept.decode("latin-1") if accept else None, format_parameter)
        if len(self._choices) >= 4096:  # bounded: headers come from the network
            self._choices.clear()
        self._choices[key] = choice
        return choice

    def _authorize_read(self, headers: Mapping[bytes, bytes]) -> Response | None:
        if self.auth is None:
            return text_response(403, "this index is private and has no token store")
        outcome = self.auth.check(headers)
        return outcome if isinstance(outcome, Response) else None


def open_settings_store(settings: Settings) -> Store:
    return open_store(
        settings.root,
        endpoint_url=settings.endpoint_url,
        region=settings.region,
        profile=settings.profile,
    )


def create_app(settings: Settings) -> App:
    """The ASGI application serving ``settings.root``."""
    return App(settings)


def _format_parameter(query: str) -> str | None:
    """``?format=`` with ``+`` kept as a plus: media types are written unencoded."""
    for item in query.split("&"):
        key, _, value = item.partition("=")
        if key == "format":
            return unquote(value)
    return None


def _not_allowed(allow: str) -> Response:
    return text_response(
        405, f"method not allowed here; use {allow}", headers=[(b"allow", allow.encode())]
    )


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


__all__ = ["App", "Settings", "create_app"]
