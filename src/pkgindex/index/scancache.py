"""Remember, on this machine, which project folders a run found unchanged, so the next run
lists only the folders that changed since.

A folder store gives each folder a *stamp* (inode, mtime and ctime of the folder: see
``LocalStore.list_root``), which changes whenever an entry of the folder is added, removed or
renamed. The cache maps each folder to the stamp it had when it was last listed and the
fingerprint the listing gave (scan.py). A folder whose stamp is unchanged is taken at its
remembered fingerprint without being listed; anything else is listed as usual. The index
itself holds nothing of this: its pages stay the same on every machine and every clone.

The cache lives in ``$PKGINDEX_CACHE_DIR`` (else ``$XDG_CACHE_HOME/pkgindex``, else
``~/.cache/pkgindex``), one small JSON file per index root. It is only a hint: a missing,
unreadable or damaged file means every folder is listed, and a cache that cannot be written
is skipped with a debug message.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from pkgindex.stores.base import Store

log = logging.getLogger(__name__)

FORMAT = 1
_LIMIT = 64 << 20  # bytes: a larger cache file is ignored

Remembered = Mapping[str, tuple[str, str]]  # folder -> (stamp, fingerprint)


def cache_dir() -> Path:
    explicit = os.environ.get("PKGINDEX_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "pkgindex")


def cache_file(store: Store) -> Path | None:
    try:
        key = store.cache_key
    except OSError:
        return None
    if key is None:
        return None
    digest = hashlib.blake2b(key.encode("utf-8", "surrogateescape"), digest_size=16)
    return cache_dir() / "folders" / f"{digest.hexdigest()}.json"


def load(store: Store) -> dict[str, tuple[str, str]]:
    """What the last run on this root remembered; empty if nothing usable is there."""
    path = cache_file(store)
    if path is None:
        return {}
    try:
        with path.open("rb") as stream:
            text = stream.read(_LIMIT + 1)
        if len(text) > _LIMIT:
            return {}
        data = json.loads(text)
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    folders = data.get("folders")
    if not isinstance(folders, dict):
        return {}
    return {
        name: (entry[0], entry[1])
        for name, entry in folders.items()
        if isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and isinstance(entry[1], str)
    }


def save(store: Store, folders: Remembered, *, previous: Remembered) -> None:
    """Remember ``folders`` for the next run (written only when it changed)."""
    if dict(folders) == dict(previous):
        return
    path = cache_file(store)
    if path is None:
        return
    data = {
        "format": FORMAT,
        "root": store.location,
        "folders": {k: list(v) for k, v in folders.items()},
    }
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        log.debug("%s: not written (%s); the next run lists every folder", path, exc)
        with contextlib.suppress(OSError):  # not there, or its folder is not one
            temporary.unlink()
