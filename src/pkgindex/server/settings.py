"""How one server process serves one index root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pkgindex.server.uploads import DEFAULT_MAX_UPLOAD

BUCKET_PAGE_TTL = 1.0  # seconds: how stale a replica's page of a bucket index can be


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """How one server process serves one index root."""

    root: str  # a folder (absolute) or s3://BUCKET/PREFIX
    endpoint_url: str | None = None  # bucket roots: overrides of the AWS configuration chain
    region: str | None = None
    profile: str | None = None
    tokens: Path | None = None  # None: no uploads (and no private reads)
    private: bool = False  # reads need a token too
    max_upload: int = DEFAULT_MAX_UPLOAD
    page_ttl: float | None = None  # seconds between checks of a cached page against the store
    # (None: 0 for a folder, where a check is one stat; BUCKET_PAGE_TTL for a bucket)
    page_max_age: int = 0  # Cache-Control max-age of pages
    upload_directory: Path | None = None  # temporary files (default: the system's)
    access_log: bool = True
