"""Write an index's pages: render from the model, and store only what changed, atomically.

Pages are replaced conditionally on the ETag they were read with (see pkgindex.stores.base), so
that writers that do not share a lock (a bucket) never lose each other's work: a lost race is a
StaleError, and the caller re-reads, merges and tries again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name

from pkgindex.config import CONFIG_FILENAME, Config, config_from_mapping
from pkgindex.errors import ConfigError, PkgIndexError, StaleError
from pkgindex.index.catalog import MAX_CATALOG_SIZE as CATALOG_LIMIT
from pkgindex.index.catalog import RootState, project_from_json, root_state
from pkgindex.index.html import (
    project_row,
    render_project_html,
    render_root_html_rows,
    root_rows,
)
from pkgindex.index.model import Project, ProjectSummary, SiteInfo
from pkgindex.index.render import FORMAT_VERSION, render_project_json, render_root_json
from pkgindex.index.scan import METADATA_SUFFIX, PAGE_HTML, PAGE_JSON
from pkgindex.stores.base import Store

log = logging.getLogger(__name__)

ROOT_ATTEMPTS = 12  # conditional replaces of the root pages before giving up
_CONFIG_LIMIT = 1 << 20  # bytes
_METADATA_LIMIT = 16 << 20  # bytes

Merge = Callable[[RootState], tuple[Sequence[str], Mapping[str, str], Mapping[str, ProjectSummary]]]


def render_pages(
    project: Project, site: SiteInfo, *, requires: Sequence[str] = (), on_index: Container[str] = ()
) -> dict[str, bytes]:
    return {
        PAGE_HTML: render_project_html(project, site, requires=requires, on_index=on_index),
        PAGE_JSON: render_project_json(project),
    }


def render_folder_pages(
    store: Store,
    project: Project,
    site: SiteInfo,
    on_index: Container[str],
    metadata: Mapping[str, bytes] | None = None,
) -> tuple[dict[str, bytes], ProjectSummary]:
    """A project's pages and its root-page line; reads its latest wheel's metadata file unless
    ``metadata`` (the .metadata bytes just written, by wheel filename) holds it."""
    requires = read_requires(store, project, metadata)
    rendered = render_pages(project, site, requires=requires, on_index=on_index)
    return rendered, ProjectSummary.from_project(project, requires)


def read_requires(
    store: Store, project: Project, known: Mapping[str, bytes] | None = None
) -> tuple[str, ...]:
    """The projects the latest wheel needs (Requires-Dist without extras), by normalized name.

    Its metadata file is read from the store, or taken from ``known`` (by wheel filename)."""
    latest = project.latest
    wheels = [
        f for f in project.offered if f.version == latest and f.metadata_sha256 and f.yanked is None
    ]
    if not wheels:
        return ()
    data = known.get(wheels[-1].filename) if known else None
    if data is None:
        try:
            found = store.read(
                f"{project.name}/{wheels[-1].filename}{METADATA_SUFFIX}", max_size=_METADATA_LIMIT
            )
        except PkgIndexError:
            found = None
        if found is None:
            return ()
        data = found.data
    lines = requires_dist(data)
    if not lines:
        return ()
    from packaging.requirements import InvalidRequirement, Requirement  # deferred: slow

    names: set[str] = set()
    for line in lines:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            log.debug("%s: ignoring Requires-Dist %r", project.name, line)
            continue
        if requirement.marker is None or "extra" not in str(requirement.marker):
            names.add(canonicalize_name(requirement.name))
    names.discard(project.name)
    return tuple(sorted(names))


def requires_dist(metadata: bytes) -> list[str]:
    """The Requires-Dist values of core metadata, as ``str()`` of what ``email``'s
    ``BytesHeaderParser`` (compat32) returns for them (bytes read as ASCII, others escaped)."""
    from pkgindex.index.headers import all_values  # deferred: a warm run reads no metadata

    text = metadata.decode("ascii", "surrogateescape")
    values = all_values(text, "requires-dist")
    if all(value.isascii() for value in values):
        return values
    # compat32 turns a value holding other bytes into a Header object: let email do it
    from email.parser import BytesHeaderParser  # deferred: rare
    from email.policy import compat32

    headers = BytesHeaderParser(policy=compat32).parsebytes(metadata)
    return [str(value) for value in headers.get_all("Requires-Dist", [])]


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


def backoff(attempt: int) -> float:
    """Seconds to wait after a lost race: random ("full jitter"), growing, at most 2 s."""
    import random  # deferred: only a lost race waits

    return random.uniform(0, min(2.0, 0.05 * 2**attempt))


def write_root(
    store: Store,
    state: RootState,
    names: Sequence[str],
    site: SiteInfo,
    fingerprints: Mapping[str, str],
    summaries: Mapping[str, ProjectSummary],
    *,
    merge: Merge | None = None,
) -> list[str]:
    """Write the root pages from ``state`` (as read, with its ETags) and the new project list.

    ``summaries`` are the lines this run changed; every other project keeps its line from
    ``state`` (see :func:`root_pages`). If another writer replaced the root since ``state`` was
    read, re-read it and call ``merge`` for the names, fingerprints and summaries to write
    instead (without ``merge``, StaleError is raised).
    """
    for attempt in range(ROOT_ATTEMPTS):
        try:
            return _write_root_once(store, state, names, site, fingerprints, summaries)
        except StaleError:
            if merge is None:
                raise
            log.info("the root pages changed while this run wrote; merging and retrying")
            time.sleep(backoff(attempt))
            state = read_root_state(store)
            names, fingerprints, summaries = merge(state)
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
    summaries: Mapping[str, ProjectSummary],
) -> list[str]:
    rows: Mapping[str, str] = {}
    if PAGE_HTML in state.etags and same_site(state, site):
        found = store.read(PAGE_HTML, max_size=CATALOG_LIMIT)
        if found is not None and found.etag == state.etags[PAGE_HTML]:
            rows = root_rows(found.data)
    previous = Previous(state=state, rows=rows)
    written = []
    rendered = root_pages(store, names, site, fingerprints, summaries, previous=previous)
    for name, data in rendered.items():
        if store.replace(name, data, etag=state.etags.get(name)):
            written.append(name)
    return written


@dataclass(frozen=True, slots=True, kw_only=True)
class Previous:
    """The root pages as a run read them: the lines it may keep."""

    state: RootState  # its summaries serve the projects the run did not change
    rows: Mapping[str, str]  # of the HTML page, by project name (none: render every row)


def root_pages(
    store: Store,
    names: Sequence[str],
    site: SiteInfo,
    fingerprints: Mapping[str, str],
    summaries: Mapping[str, ProjectSummary],
    *,
    previous: Previous | None = None,
) -> dict[str, bytes]:
    """The root pages. A project's line comes from ``summaries``; else from ``previous`` (the
    root as read): its lines there are kept as they are where the HTML page was rendered in
    this format for this site (so a run that changed one project renders one line of each
    page, not thousands), else rendered from its summary there; else from its catalog page.
    """
    kept = previous.state.private.get("summaries") if previous else None
    kept = kept if isinstance(kept, dict) else {}
    rows = previous.rows if previous else {}
    json_lines: dict[str, Any] = {}
    html_rows: list[str] = []
    for name in names:
        line = summaries.get(name)
        if line is None and name in rows and isinstance(kept.get(name), dict):
            json_lines[name] = kept[name]
            html_rows.append(rows[name])
            continue
        if line is None and previous is not None:
            line = previous.state.summaries.get(name)  # validated, read once
        line = line or summarize(store, name)
        json_lines[name] = line.to_json()
        html_rows.append(project_row(line))
    private = {**site_state(site), "fingerprints": dict(fingerprints), "summaries": json_lines}
    return {
        PAGE_HTML: render_root_html_rows(html_rows, site),
        PAGE_JSON: render_root_json(names, private),
    }


def summarize(store: Store, name: str) -> ProjectSummary:
    normalized = canonicalize_name(name)
    key = f"{normalized}/{PAGE_JSON}"
    try:
        found = store.read(key)
        if found is None:
            return ProjectSummary(name=normalized)
        project = project_from_json(found.data, name=normalized, origin=store.describe(key))
    except PkgIndexError:
        return ProjectSummary(name=normalized)
    return ProjectSummary.from_project(project, read_requires(store, project))


def load_site(store: Store, url: str | None = None, *, state: RootState | None = None) -> SiteInfo:
    """The title and URL the pages show: ``url`` (--url), else pkgindex.toml, else the URL the
    pages were last rendered with (kept in the root page's private state; pass ``state`` when
    it was read already: on a bucket each read is a request)."""
    config = load_store_config(store)
    if url is None and config.url is None:
        previous = (state or read_root_state(store)).private.get("url")
        url = previous if isinstance(previous, str) and previous else None
    return SiteInfo(title=config.title, url=url or config.url)


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
