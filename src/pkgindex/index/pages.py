"""Write an index's pages: render from the model, and store only what changed, atomically.

Pages are replaced conditionally on the ETag they were read with (see pkgindex.stores.base), so
that writers that do not share a lock (a bucket) never lose each other's work: a lost race is a
StaleError, and the caller re-reads, merges and tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pkgindex.config import CONFIG_FILENAME, Config, config_from_mapping
from pkgindex.errors import ConfigError, StaleError
from pkgindex.index.catalog import RootState, root_state
from pkgindex.index.model import Project, SiteInfo
from pkgindex.index.render import (
    FORMAT_VERSION,
    render_project_html,
    render_project_json,
    render_root_html,
    render_root_json,
)
from pkgindex.index.scan import PAGE_HTML, PAGE_JSON
from pkgindex.stores.base import Store

log = logging.getLogger(__name__)

ROOT_ATTEMPTS = 8  # conditional replaces of the root pages before giving up
_CONFIG_LIMIT = 1 << 20  # bytes


def render_pages(project: Project, site: SiteInfo) -> dict[str, bytes]:
    return {
        PAGE_HTML: render_project_html(project, site),
        PAGE_JSON: render_project_json(project),
    }


def write_pages(
    store: Store, folder: str, pages: Mapping[str, bytes], etags: Mapping[str, str | None]
) -> list[str]:
    """HTML first, JSON last: the catalog is the commit point if a run is interrupted. Each is
    replaced only if it still has the ETag it was read with (None: it did not exist)."""
    written = []
    for name in (PAGE_HTML, PAGE_JSON):
        key = f"{folder}/{name}"
        if store.replace(key, pages[name], etag=etags.get(name)):
            written.append(key)
    return written


def write_root(
    store: Store,
    state: RootState,
    names: Sequence[str],
    site: SiteInfo,
    fingerprints: Mapping[str, str],
    *,
    merge: Callable[[RootState], tuple[Sequence[str], Mapping[str, str]]] | None = None,
) -> list[str]:
    """Write the root pages from ``state`` (as read, with its ETags) and the new project list.

    If another writer replaced the root since ``state`` was read, re-read it and call ``merge``
    for the names and fingerprints to write instead (without ``merge``, StaleError is raised).
    """
    for _attempt in range(ROOT_ATTEMPTS):
        try:
            return _write_root_once(store, state, names, site, fingerprints)
        except StaleError:
            if merge is None:
                raise
            log.info("the root pages changed while this run wrote; merging and retrying")
            state = read_root_state(store)
            names, fingerprints = merge(state)
    raise StaleError(
        f"{store.describe(PAGE_JSON)}: still changing after {ROOT_ATTEMPTS} attempts",
        hint="another writer keeps replacing it; run the command again",
    )


def _write_root_once(
    store: Store,
    state: RootState,
    names: Sequence[str],
    site: SiteInfo,
    fingerprints: Mapping[str, str],
) -> list[str]:
    written = []
    private = {**site_state(site), "fingerprints": dict(fingerprints)}
    for name, data in (
        (PAGE_HTML, render_root_html(names, site)),
        (PAGE_JSON, render_root_json(names, private)),
    ):
        if store.replace(name, data, etag=state.etags.get(name)):
            written.append(name)
    return written


def load_site(store: Store) -> SiteInfo:
    """The title and URL the pages show, from pkgindex.toml."""
    config = load_store_config(store)
    return SiteInfo(title=config.title, url=config.url)


def load_store_config(store: Store) -> Config:
    """The store's pkgindex.toml; a missing one means defaults."""
    found = store.read(CONFIG_FILENAME, max_size=_CONFIG_LIMIT)
    if found is None:
        return Config()
    origin = store.describe(CONFIG_FILENAME)
    import tomllib  # deferred: most indexes have no pkgindex.toml

    try:
        data = tomllib.loads(found.data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}", hint="fix the syntax") from exc
    return config_from_mapping(data, origin=origin)


def site_state(site: SiteInfo) -> dict[str, Any]:
    return {"format": FORMAT_VERSION, "title": site.title, "url": site.url}


def read_root_state(store: Store) -> RootState:
    """The root JSON page as the catalog of projects, with the root pages' ETags."""
    found = store.read(PAGE_JSON)
    html = store.stat(PAGE_HTML)
    etags: dict[str, str] = {PAGE_HTML: html.etag} if html else {}
    if found is None:
        return RootState(etags=etags)
    etags[PAGE_JSON] = found.etag
    return root_state(found.data, etags=etags)


def same_site(state: RootState, site: SiteInfo) -> bool:
    """False if the pages were rendered by another format version or for other settings."""
    return all(state.private.get(key) == value for key, value in site_state(site).items())
