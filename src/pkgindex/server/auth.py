"""Who may upload (and, with --private, read): tokens from the Authorization header."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime

from pkgindex.server.responses import Response, text_response
from pkgindex.server.tokens import TokenRecord, TokenStore, verify


class Authenticator:
    """Checks presented tokens against the store, re-read whenever the store file changes."""

    def __init__(self, store: TokenStore) -> None:
        self.store = store
        self._marker: object = None
        self._records: list[TokenRecord] = []

    def check(self, headers: Mapping[bytes, bytes]) -> TokenRecord | Response:
        token = token_from_authorization(headers.get(b"authorization"))
        if token is None:
            return text_response(
                401,
                "this needs a token",
                hint="authenticate as __token__ with a token from 'pkgindex token create'",
                headers=[(b"www-authenticate", b'Basic realm="pkgindex"')],
            )
        marker = self.store.marker()
        if marker != self._marker:
            self._records, self._marker = self.store.records(), marker
        verdict, record = verify(self._records, token, datetime.now(UTC))
        if verdict == "expired" and record is not None and record.expires is not None:
            return text_response(
                403,
                f"token {record.id} expired on {record.expires:%Y-%m-%d %H:%M} UTC",
                hint="create a new one with 'pkgindex token create'",
            )
        if record is None:
            return text_response(
                403,
                "invalid or revoked token",
                hint="use the username __token__ and a token from 'pkgindex token create'",
            )
        return record


def token_from_authorization(value: bytes | None) -> str | None:
    """The token in ``Basic base64(__token__:TOKEN)`` or ``Bearer TOKEN``; None if absent."""
    if not value:
        return None
    scheme, _, credentials = value.decode("latin-1").strip().partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip() or None
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return ""
    user, _, password = decoded.partition(":")
    return password if user == "__token__" else ""
