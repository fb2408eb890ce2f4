"""Upload and read tokens: made once, shown once, stored only as a SHA-256 hash.

A token reads ``pkgindex_<id>_<secret>``: the id names it in ``token list`` and ``token revoke``,
the secret (32 random bytes) makes it unguessable, so a plain SHA-256 is the right hash (a slow
password hash protects guessable secrets only). The store is one JSON file, written atomically
with mode 0600, kept outside the index root so that it is never served or published.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any, Literal

from packaging.utils import InvalidName, NormalizedName, canonicalize_name

from pkgindex.errors import ConfigError, PkgIndexError
from pkgindex.stores import local as storage

PREFIX = "pkgindex_"
ENVIRONMENT_VARIABLE = "PKGINDEX_TOKENS"


def default_store_path() -> Path:
    """``$PKGINDEX_TOKENS``, else ``$XDG_CONFIG_HOME/pkgindex/tokens.json`` (~/.config)."""
    if value := os.environ.get(ENVIRONMENT_VARIABLE):
        return Path(value)
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "pkgindex" / "tokens.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRecord:
    id: str
    digest: str  # hex SHA-256 of the whole token
    projects: tuple[NormalizedName, ...]  # empty: every project
    created: datetime
    expires: datetime | None
    description: str = ""

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires

    def allows(self, project: str) -> bool:
        return not self.projects or project in self.projects


Verdict = Literal["ok", "unknown", "expired"]


@dataclass(frozen=True, slots=True)
class TokenStore:
    path: Path

    def check_usable(self, root: Path | None = None) -> None:
        """Refuse a store that is missing, or that sits inside the (published) index root."""
        if root is not None and self.path.resolve().is_relative_to(root.resolve()):
            raise ConfigError(
                f"{self.path}: the token store is inside the index root {root}, where it "
                "would be served or published",
                hint="keep it elsewhere (--tokens FILE or $PKGINDEX_TOKENS)",
            )
        if not self.path.is_file():
            raise ConfigError(
                f"{self.path}: no token store",
                hint=f"create a token first: pkgindex token create --tokens {self.path}; "
                "or serve without uploads: pkgindex serve --read-only",
            )

    def marker(self) -> Hashable | None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_size, info.st_mtime_ns)

    def records(self) -> list[TokenRecord]:
        try:
            document = json.loads(self.path.read_bytes())
            return [_record(entry) for entry in document["tokens"]]
        except FileNotFoundError:
            return []
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"{self.path}: the token store is damaged ({exc})",
                hint="restore it from a backup, or delete it and create new tokens",
            ) from exc

    def create(
        self,
        *,
        projects: Sequence[str] = (),
        expires_days: float | None = None,
        description: str = "",
        now: datetime | None = None,
    ) -> tuple[str, TokenRecord]:
        """Make a token; return it (shown once, never stored) and its record."""
        now = now or datetime.now(UTC)
        token_id = secrets.token_hex(4)
        token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        record = TokenRecord(
            id=token_id,
            digest=sha256(token.encode()).hexdigest(),
            projects=tuple(sorted({_project(name) for name in projects})),
            created=now,
            expires=now + timedelta(days=expires_days) if expires_days is not None else None,
            description=description,
        )
        self._write([*self.records(), record])
        return token, record

    def revoke(self, token_id: str) -> TokenRecord:
        records = self.records()
        found = [record for record in records if record.id == token_id]
        if not found:
            known = ", ".join(record.id for record in records) or "none"
            raise PkgIndexError(
                f"{token_id}: no such token in {self.path}", hint=f"token ids: {known}"
            )
        self._write([record for record in records if record.id != token_id])
        return found[0]

    def _write(self, records: Iterable[TokenRecord]) -> None:
        document = {"tokens": [_document(record) for record in records]}
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = (json.dumps(document, indent=2) + "\n").encode()
        old_umask = os.umask(0o077)
        try:
            storage.write_atomic(self.path, data)
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)


def verify(
    records: Iterable[TokenRecord], token: str, now: datetime
) -> tuple[Verdict, TokenRecord | None]:
    """Which record a presented token belongs to, and whether it is still valid."""
    token_id = token.removeprefix(PREFIX).partition("_")[0] if token.startswith(PREFIX) else ""
    digest = sha256(token.encode()).hexdigest()
    for record in records:
        if record.id == token_id and hmac.compare_digest(record.digest, digest):
            return ("expired", record) if record.expired(now) else ("ok", record)
    return "unknown", None


def _project(name: str) -> NormalizedName:
    try:
        return canonicalize_name(name, validate=True)
    except InvalidName:
        raise ConfigError(
            f"{name!r}: not a valid project name", hint="pass the name as it is published"
        ) from None


def _document(record: TokenRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "sha256": record.digest,
        "projects": list(record.projects),
        "created": record.created.isoformat(),
        "expires": record.expires.isoformat() if record.expires else None,
        "description": record.description,
    }


def _record(entry: dict[str, Any]) -> TokenRecord:
    expires = entry.get("expires")
    return TokenRecord(
        id=str(entry["id"]),
        digest=str(entry["sha256"]),
        projects=tuple(NormalizedName(str(name)) for name in entry.get("projects", [])),
        created=datetime.fromisoformat(entry["created"]),
        expires=datetime.fromisoformat(expires) if expires else None,
        description=str(entry.get("description", "")),
    )
