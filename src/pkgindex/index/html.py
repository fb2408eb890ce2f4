"""The HTML pages: PEP 503 pages that installers parse and people read. Pure: model in, bytes out.

A project page holds exactly one ``<a>`` per offered file and no other anchor (installers take
every anchor for a file); navigation and source links are small GET forms instead. The root page
holds one ``<a>`` per project. Every value is escaped with ``html.escape(quote=True)``, except
the few this module makes from numbers or percent-encodes (sizes, times, file URLs) and a filename
its URL leaves as it is, which hold no character that needs it.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Sequence
from datetime import UTC, datetime
from html import escape, unescape

from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import Version

from pkgindex.index.assets import SCRIPT, STYLE
from pkgindex.index.model import (
    IndexFile,
    Project,
    ProjectSummary,
    SiteInfo,
)
from pkgindex.index.render import api_version, file_url, project_url


def render_project_html(
    project: Project,
    site: SiteInfo,
    *,
    requires: Sequence[str] = (),
    on_index: Container[str] = (),
) -> bytes:
    """``requires``: what the latest wheel depends on; ``on_index``: names this index has."""
    files = project.offered
    name = _e(project.name)
    counts = f"{_plural(len(files), 'file')}, {_plural(len({f.version for f in files}), 'version')}"
    latest = project.latest
    title = _e(site.title)
    lead = f"{counts} in {title}" + (f". Latest: <strong>{_e(latest)}</strong>" if latest else "")
    body = f"""<nav><form class="link" action="../" method="get"><button type="submit">\
&larr; All projects in {title}</button></form></nav>
<h1>{name}{_status_badge(project)}</h1>
<p class="lead">{lead}.</p>
{_status_banner(project)}{_install_section(project, site, requires, on_index)}
<h2>Files</h2>
<table>
<thead><tr><th>File</th><th class="num">Size</th><th>Uploaded (UTC)</th><th class="tags">Python \
/ platform</th><th class="rp">Requires-Python</th><th>Source</th></tr></thead>
<tbody>
{_file_rows(files, project)}
</tbody>
</table>"""
    return _page(
        f"{project.name} · {site.title}",
        body,
        site,
        root="../",
        version=api_version(project),
        status=project.status.status if project.status else None,
        reason=project.status.reason if project.status else None,
    )


def render_root_html(projects: Iterable[ProjectSummary], site: SiteInfo) -> bytes:
    return render_root_html_rows([project_row(summary) for summary in projects], site)


def render_root_html_rows(project_rows: Sequence[str], site: SiteInfo) -> bytes:
    """The root page around its rows (:func:`project_row`, one line each)."""
    rows = "\n".join(project_rows) or (
        '<tr><td colspan="5"><small>No projects yet.</small></td></tr>'
    )
    count = len(project_rows)
    body = f"""<h1>{_e(site.title)}</h1>
<p class="lead">A Python package index (PEP 503 / PEP 691 simple repository) with \
{_plural(count, "project")}.</p>
<div class="install">
{_needs_url(site, f"<p>Index URL: {_url_code(site)}</p>")}
<p class="muted">Open a project for commands that install it from this index only, with pip or \
uv. Do not add this index with <code>--extra-index-url</code>: a project of the same name on PyPI \
could be installed instead.</p>
</div>
<h2>Projects</h2>
<input type="search" id="filter" placeholder="Filter projects" aria-label="Filter projects" \
autocomplete="off" hidden>
<p class="muted"><span id="shown">{count}</span> of {count} shown</p>
<table>
<thead><tr><th>Project</th><th>Latest version</th><th class="num">Files</th>\
<th>Last upload (UTC)</th><th>Status</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>"""
    return _page(site.title, body, site, root="./", version=api_version(None))


# --- rows -----------------------------------------------------------------------------------


_ROW_START = '<tr data-name="'
_URL_UNSAFE = re.compile(r"[\s\"'<>]")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def root_rows(page: bytes) -> dict[str, str]:
    """The project rows of a root page this module rendered, by project name (nothing if the
    page is not of that shape)."""
    text = page.decode("utf-8", "replace")
    start, end = text.find("<tbody>\n"), text.rfind("\n</tbody>")
    rows: dict[str, str] = {}
    if start < 0 or end < start:
        return rows
    for line in text[start + len("<tbody>\n") : end].split("\n"):
        close = line.find('"', len(_ROW_START))
        if not line.startswith(_ROW_START) or close < 0:
            return {}
        rows[unescape(line[len(_ROW_START) : close])] = line
    return rows


def project_row(summary: ProjectSummary) -> str:
    """A project's row on the root page: one line (root_rows finds it by its name)."""
    name = _e(summary.name)
    status = f'<span class="badge note">{_e(summary.status)}</span>' if summary.status else ""
    return (
        f'{_ROW_START}{name}"><td><a href="{_e(project_url(summary.name))}">'
        f"{name}</a></td><td>{_e(summary.version or '')}</td>"
        f'<td class="num">{summary.files}</td><td class="when">{_when(summary)}</td>'
        f"<td>{status}</td></tr>"
    )


def _file_rows(files: Sequence[IndexFile], project: Project) -> str:
    if not files:
        withheld = project.files and not project.offered
        text = "Files are withheld while the project is quarantined." if withheld else "No files."
        return f'<tr><td colspan="6"><small>{text}</small></td></tr>'
    rows: list[str] = []
    version = None
    unyanked = {f.version for f in files if f.yanked is None}  # a version without is yanked
    tags: dict[str, str] = {}  # by the filename's last three parts: files mostly share them
    times: dict[datetime, str] = {}  # the files of a run share their upload time
    by_name = sorted(files, key=_filename)
    for file in sorted(by_name, key=_version, reverse=True):  # newest first
        if file.version != version:
            version = file.version
            mark = "" if version in unyanked else ' <span class="badge">yanked</span>'
            rows.append(f'<tr class="version"><th colspan="6">{_e(version)}{mark}</th></tr>')
        rows.append(_file_row(file, tags, times))
    return "\n".join(rows)


def _filename(file: IndexFile) -> str:
    return file.filename


def _version(file: IndexFile) -> Version:
    return file.sort_key[0]


def _file_row(file: IndexFile, tags_seen: dict[str, str], times: dict[datetime, str]) -> str:
    # not escaped, as nothing in them needs it: a URL quoted with safe="" (letters, digits,
    # _.-~ and %XX), a size and a time this module formats from numbers; and a filename its
    # URL leaves as it is (it holds only those characters)
    filename = file.filename
    url = file_url(filename)
    attributes = f'href="{url}#sha256={_e(file.sha256)}"'
    requires_python = _e(file.requires_python) if file.requires_python else ""
    if requires_python:
        attributes += f' data-requires-python="{requires_python}"'
    if file.metadata_sha256:
        value = _e(f"sha256={file.metadata_sha256}")
        attributes += f' data-core-metadata="{value}" data-dist-info-metadata="{value}"'
    css = badge = ""
    if file.yanked is not None:
        reason = _e(file.yanked)
        attributes += f' data-yanked="{reason}"'
        css = ' class="yanked"'
        badge = f' <span class="badge">yanked{": " + reason if reason else ""}</span>'
    # every filename in the model was parsed as a distribution filename (catalog.py,
    # distfile.py), so the tags cell depends only on the last three parts
    tags_key = "-".join(filename.split("-")[-3:])
    tags = tags_seen.get(tags_key)
    if tags is None:
        tags = tags_seen[tags_key] = _tags(filename)
    moment = file.upload_time
    when = times.get(moment)
    if when is None:  # equal datetimes are the same instant: the same text
        when = times[moment] = _when(file)
    shown = filename if url == filename else _e(filename)
    return (
        f'<tr{css}><td class="file"><a {attributes}>{shown}</a>{badge}</td>'
        f'<td class="num">{_human_size(file.size)}</td><td class="when">{when}</td>'
        f'<td class="tags">{tags}</td><td class="rp">{requires_python}</td>'
        f"<td>{_provenance(file)}</td></tr>"
    )


def _tags(filename: str) -> str:
    if not filename.endswith(".whl"):
        return "<small>source</small>"
    try:
        tags = parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return ""
    pythons = sorted({tag.interpreter for tag in tags})
    platforms = sorted({tag.platform for tag in tags})
    return f"{_e('.'.join(pythons))} <small>/ {_e(', '.join(platforms))}</small>"


def _provenance(file: IndexFile) -> str:
    """Pull-mode builds link to their source commit; anything else was uploaded."""
    provenance = file.provenance
    if not provenance:  # most files
        return "uploaded"
    commit, source = provenance.get("commit"), provenance.get("source")
    if provenance.get("mode") == "publish" or not commit or not source:
        by = f" <small>from {_e(str(source))}</small>" if source else ""
        return f"uploaded{by}"
    text = f"{_e(str(source))} @ <code>{_e(str(commit)[:12])}</code>"
    url = str(provenance.get("url") or "")
    if url.startswith("https://") and not _URL_UNSAFE.search(url):
        target = f"{url.removesuffix('.git').rstrip('/')}/commit/{commit}"
        return (
            f'<form class="link" action="{_e(target)}" method="get">'
            f'<button type="submit" title="{_e(target)}">{text}</button></form>'
        )
    return text


# --- install snippets -----------------------------------------------------------------------


def _install_section(
    project: Project, site: SiteInfo, requires: Sequence[str], on_index: Container[str]
) -> str:
    if not project.offered:
        return ""
    name = _e(project.name)
    url = _url_code(site)
    elsewhere = [dep for dep in requires if dep not in on_index]
    here = [dep for dep in requires if dep in on_index]
    if elsewhere:
        deps = ", ".join(f"<code>{_e(dep)}</code>" for dep in elsewhere)
        also = "".join(f" {_e(dep)}" for dep in here)
        pip = f"""<h3>pip</h3>
<p>{name} needs {deps}, which this index does not have. pip cannot take one project from one \
index and the rest from another safely, so install in two steps (the second takes only the \
missing dependencies, from PyPI):</p>
<pre>pip install --no-deps --index-url {url} {name}{also}
pip install {name}</pre>"""
    else:
        pip = f"""<h3>pip</h3>
<pre>pip install --index-url {url} {name}</pre>"""
    index = _index_name(site)
    sources = "\n".join(f'{_e(dep)} = {{ index = "{index}" }}' for dep in [project.name, *here])
    uv = f"""<h3>uv</h3>
<p>In <code>pyproject.toml</code>: only the projects listed under sources come from this index.</p>
<pre>[[tool.uv.index]]
name = "{index}"
url = "{url}"
explicit = true

[tool.uv.sources]
{sources}</pre>
<p>then <code>uv add {name}</code>.</p>"""
    return f'<div class="install">\n<h2>Install</h2>\n{_needs_url(site, pip + uv)}\n</div>\n'


def _needs_url(site: SiteInfo, html: str) -> str:
    """Show ``html`` as is when the URL is known; else only once the script has filled it in,
    with a sentence for readers without JavaScript."""
    if site.url:
        return html
    return (
        '<p data-no-url class="muted">The index URL is the address of the index\'s root page '
        "(the page listing every project). Its install commands appear here with JavaScript "
        f"on.</p>\n<div data-needs-url hidden>\n{html}\n</div>"
    )


def _url_code(site: SiteInfo) -> str:
    """The index URL; when unknown, the page's script derives it from the page's address."""
    if site.url:
        return f"<code>{_e(_with_slash(site.url))}</code>"
    return "<code data-index-url></code>"


def _index_name(site: SiteInfo) -> str:
    slug = _NOT_SLUG.sub("-", site.title.lower()).strip("-")
    return slug[:40].strip("-") or "pkgindex"


# --- page -----------------------------------------------------------------------------------


def _page(
    title: str,
    body: str,
    site: SiteInfo,
    *,
    root: str,
    version: str,
    status: str | None = None,
    reason: str | None = None,
) -> bytes:
    metas = [f'<meta name="pypi:repository-version" content="{_e(version)}">']
    if status:
        metas.append(f'<meta name="pypi:project-status" content="{_e(status)}">')
        if reason:
            metas.append(f'<meta name="pypi:project-status-reason" content="{_e(reason)}">')
    url = f' data-url="{_e(_with_slash(site.url))}"' if site.url else ""
    head = "\n".join(metas)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
{head}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{STYLE}</style>
</head>
<body data-root="{_e(root)}"{url}>
<main>
{body}
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""
    return page.encode("utf-8")


def _status_badge(project: Project) -> str:
    if project.status is None or project.status.status == "active":
        return ""
    return f' <span class="badge note">{_e(project.status.status)}</span>'


def _status_banner(project: Project) -> str:
    status = project.status
    if status is None or status.status == "active":
        return ""
    meaning = {
        "archived": "This project is archived: it is not expected to receive new versions.",
        "deprecated": "This project is deprecated: it is obsolete and may have been superseded.",
        "quarantined": "This project is quarantined: its files are withheld.",
    }[status.status]
    reason = f" Reason: {_e(status.reason)}" if status.reason else ""
    warn = " warn" if status.status == "quarantined" else ""
    return f'<p class="banner{warn}">{_e(meaning)}{reason}</p>\n'


def _when(item: IndexFile | ProjectSummary) -> str:
    """The upload time to the minute, in UTC: digits, dashes, a space and a colon."""
    moment = item.upload_time if isinstance(item, IndexFile) else item.last_upload
    if moment is None:
        return ""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(sep=" ", timespec="minutes")[:16]


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _e(text: str) -> str:
    # most values (hashes, versions, names) hold none of the characters escape() replaces:
    # looking for them costs a third of replacing each in turn
    if "&" in text or "<" in text or ">" in text or '"' in text or "'" in text:
        return escape(text, quote=True)
    return text


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")
