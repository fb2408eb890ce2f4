"""Write an index's pages: render from the model, and store only what changed, atomically."""

from __future__ import annotations

import logging
from collections.abc import Container, Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from pkgindex.config import load_config
from pkgindex.errors import PkgIndexError
from pkgindex.index.catalog import RootState, project_from_json, root_state
from pkgindex.index.html import render_project_html, render_root_html
from pkgindex.index.model import Project, ProjectSummary, SiteInfo, latest_version
from pkgindex.index.render import FORMAT_VERSION, render_project_json, render_root_json
from pkgindex.index.scan import METADATA_SUFFIX, PAGE_HTML, PAGE_JSON
from pkgindex.stores import local as storage

log = logging.getLogger(__name__)


def render_pages(
    project: Project, site: SiteInfo, *, requires: Sequence[str] = (), on_index: Container[str] = ()
) -> dict[str, bytes]:
    return {
        PAGE_HTML: render_project_html(project, site, requires=requires, on_index=on_index),
        PAGE_JSON: render_project_json(project),
    }


def render_folder_pages(
    folder: Path, project: Project, site: SiteInfo, on_index: Container[str]
) -> tuple[dict[str, bytes], ProjectSummary]:
    """A project's pages and its root-page summary; reads its latest wheel's metadata file."""
    requires = read_requires(folder, project)
    rendered = render_pages(project, site, requires=requires, on_index=on_index)
    return rendered, ProjectSummary.from_project(project, requires)


def read_requires(folder: Path, project: Project) -> tuple[str, ...]:
    """The projects the latest wheel needs (Requires-Dist without extras), by normalized name."""
    latest = latest_version(project.offered)
    wheels = [
        f for f in project.offered if f.version == latest and f.metadata_sha256 and f.yanked is None
    ]
    if not wheels:
        return ()
    from email.parser import BytesHeaderParser  # deferred: only for projects being rendered
    from email.policy import compat32

    try:
        data = (folder / (wheels[-1].filename + METADATA_SUFFIX)).read_bytes()
    except OSError:
        return ()
    names: set[str] = set()
    for line in BytesHeaderParser(policy=compat32).parsebytes(data).get_all("Requires-Dist", []):
        try:
            requirement = Requirement(str(line))
        except InvalidRequirement:
            log.debug("%s: ignoring Requires-Dist %r", project.name, line)
            continue
        if requirement.marker is None or "extra" not in str(requirement.marker):
            names.add(canonicalize_name(requirement.name))
    names.discard(project.name)
    return tuple(sorted(names))


def write_pages(folder: Path, pages: Mapping[str, bytes]) -> list[Path]:
    """HTML first, JSON last: the catalog is the commit point if a run is interrupted."""
    written = []
    for name in (PAGE_HTML, PAGE_JSON):
        if storage.write_if_changed(folder / name, pages[name]):
            written.append(folder / name)
    return written


def root_pages(
    root: Path,
    names: Sequence[str],
    site: SiteInfo,
    fingerprints: Mapping[str, str],
    summaries: Mapping[str, ProjectSummary],
) -> dict[str, bytes]:
    """The root pages; a project without a summary has it computed from its catalog page."""
    lines = [summaries.get(name) or summarize(root, name) for name in names]
    state = {
        **site_state(site),
        "fingerprints": dict(fingerprints),
        "summaries": {line.name: line.to_json() for line in lines},
    }
    return {PAGE_HTML: render_root_html(lines, site), PAGE_JSON: render_root_json(names, state)}


def write_root(
    root: Path,
    names: Sequence[str],
    site: SiteInfo,
    fingerprints: Mapping[str, str],
    summaries: Mapping[str, ProjectSummary],
) -> list[Path]:
    written = []
    for name, data in root_pages(root, names, site, fingerprints, summaries).items():
        if storage.write_if_changed(root / name, data):
            written.append(root / name)
    return written


def summarize(root: Path, name: str) -> ProjectSummary:
    folder = root / name
    try:
        data = (folder / PAGE_JSON).read_bytes()
        project = project_from_json(
            data, name=canonicalize_name(name), origin=str(folder / PAGE_JSON)
        )
    except (OSError, PkgIndexError):
        return ProjectSummary(name=canonicalize_name(name))
    return ProjectSummary.from_project(project, read_requires(folder, project))


def load_site(root: Path, url: str | None = None) -> SiteInfo:
    """The title and URL the pages show: ``url`` (--url), else pkgindex.toml, else the URL the
    pages were last rendered with."""
    config = load_config(root)
    if url is None and config.url is None:
        previous = read_root_state(root).private.get("url")
        url = previous if isinstance(previous, str) and previous else None
    return SiteInfo(title=config.title, url=url or config.url)


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
