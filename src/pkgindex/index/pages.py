"""Write an index's pages: render from the model, and store only what changed, atomically."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pkgindex.config import load_config
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
from pkgindex.stores import local as storage


def render_pages(project: Project, site: SiteInfo) -> dict[str, bytes]:
    return {
        PAGE_HTML: render_project_html(project, site),
        PAGE_JSON: render_project_json(project),
    }


def write_pages(folder: Path, pages: Mapping[str, bytes]) -> list[Path]:
    """HTML first, JSON last: the catalog is the commit point if a run is interrupted."""
    written = []
    for name in (PAGE_HTML, PAGE_JSON):
        if storage.write_if_changed(folder / name, pages[name]):
            written.append(folder / name)
    return written


def write_root(
    root: Path, names: Sequence[str], site: SiteInfo, fingerprints: Mapping[str, str]
) -> list[Path]:
    written = []
    state = {**site_state(site), "fingerprints": dict(fingerprints)}
    for name, data in (
        (PAGE_HTML, render_root_html(names, site)),
        (PAGE_JSON, render_root_json(names, state)),
    ):
        if storage.write_if_changed(root / name, data):
            written.append(root / name)
    return written


def load_site(root: Path) -> SiteInfo:
    """The title and URL the pages show, from pkgindex.toml."""
    config = load_config(root)
    return SiteInfo(title=config.title, url=config.url)


def site_state(site: SiteInfo) -> dict[str, Any]:
    return {"format": FORMAT_VERSION, "title": site.title, "url": site.url}


def read_root_state(root: Path) -> RootState:
    try:
        return root_state((root / PAGE_JSON).read_bytes())
    except FileNotFoundError:
        return RootState()


def same_site(state: RootState, site: SiteInfo) -> bool:
    """False if the pages were rendered by another format version or for other settings."""
    return all(state.private.get(key) == value for key, value in site_state(site).items())
