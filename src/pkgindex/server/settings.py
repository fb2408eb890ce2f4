"""How one server process serves one index root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pkgindex.server.uploads import DEFAULT_MAX_UPLOAD


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """How one server process serves one index root."""

    root: Path
    tokens: Path | None = None  # None: no uploads (and no private reads)
    private: bool = False  # reads need a token too
    max_upload: int = DEFAULT_MAX_UPLOAD
    page_ttl: float = 0.0  # seconds between checks of a cached page against the store
    page_max_age: int = 0  # Cache-Control max-age of pages
    upload_directory: Path | None = None  # temporary files (default: the system's)
    access_log: bool = True
