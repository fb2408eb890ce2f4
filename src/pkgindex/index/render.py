"""Render the index model as PEP 503/691 pages. Pure: model in, bytes out.

HTML and JSON come from the same model, so they cannot disagree. HTML pages are also meant
for people: a title, a heading, an install hint and a table, while each project page keeps
exactly one ``<a>`` per distribution file and no other anchors.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape
from typing import Any, TypedDict
from urllib.parse import quote

from pkgindex.index.model import IndexFile, Project, SiteInfo, format_upload_time

API_VERSION = "1.1"
PRIVATE_KEY = "_pkgindex"  # keys starting with "_" are reserved for server-private data
FORMAT_VERSION = 2  # bump when the rendered bytes change, so stale pages are rewritten

_STYLE = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;
background:#f7f8fa}
main{max-width:64rem;margin:0 auto;padding:2rem 1.25rem}
h1{font-size:1.6rem;margin:0 0 .25rem}
p.lead{color:#555;margin:0 0 1.25rem}
pre{background:#1d2330;color:#e8ecf3;padding:.75rem 1rem;border-radius:6px;overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #e2e5ea}
th,td{text-align:left;padding:.4rem .7rem;border-bottom:1px solid #eceef2;vertical-align:top}
th{background:#f0f2f5;font-weight:600;font-size:.85rem;text-transform:uppercase;letter-spacing:.03em}
td.num{text-align:right;white-space:nowrap}
a{color:#0b5cad;text-decoration:none}a:hover{text-decoration:underline}
ul.projects{list-style:none;padding:0;columns:16rem}ul.projects li{padding:.15rem 0}
tr.yanked td{color:#999}tr.yanked a{color:#999;text-decoration:line-through}
.badge{font-size:.75rem;background:#fde8e8;color:#9b1c1c;border-radius:4px;padding:0 .3rem}
small{color:#666}
""".strip()


class JsonFile(TypedDict, total=False):
    filename: str
    url: str
    hashes: dict[str, str]
    size: int
    yanked: bool | str
    # "requires-python", "core-metadata", "upload-time", "_pkgindex" (not identifiers)


def file_url(filename: str) -> str:
    """A relative, percent-encoded link to a file beside the project page (no query string)."""
    return quote(filename, safe="")


def project_url(name: str) -> str:
    return f"{quote(name, safe='')}/"


def render_project_html(project: Project, site: SiteInfo) -> bytes:
    rows = "\n".join(_file_row(file) for file in project.files) or (
        '<tr><td colspan="5"><small>No files yet.</small></td></tr>'
    )
    name = escape(project.name)
    counts = f"{_plural(len(project.files), 'file')}, {_plural(len(project.versions), 'version')}"
    headings = "".join(
        f"<th>{heading}</th>"
        for heading in ("File", "Size", "Uploaded (UTC)", "Python", "Built from")
    )
    body = f"""<h1>{name}</h1>
<p class="lead">{counts} in {escape(site.title)}.</p>
{_install_hint(site, project.name)}
<table>
<thead><tr>{headings}</tr></thead>
<tbody>
{rows}
</tbody>
</table>"""
    return _page(f"{project.name} · {site.title}", body)  # _page escapes the title


def render_root_html(names: Iterable[str], site: SiteInfo) -> bytes:
    items = "\n".join(
        f'<li><a href="{escape(project_url(name))}">{escape(name)}</a></li>' for name in names
    )
    body = f"""<h1>{escape(site.title)}</h1>
<p class="lead">A Python package index (PEP 503 / PEP 691 simple repository).</p>
{_install_hint(site, "PROJECT")}
<h2>Projects</h2>
<ul class="projects">
{items}
</ul>"""
    return _page(site.title, body)


def render_project_json(project: Project) -> bytes:
    """The PEP 691 project page, one file object per line (readable diffs; see render_root_json)."""
    head = json.dumps(
        {"meta": {"api-version": API_VERSION}, "name": project.name, "versions": project.versions},
        ensure_ascii=False,
    )[:-1]
    files = ",\n".join(json.dumps(_json_file(f), ensure_ascii=False) for f in project.files)
    return f'{head}, "files": [\n{files}\n]}}\n'.encode()


def render_root_json(names: Iterable[str], state: dict[str, Any] | None = None) -> bytes:
    """The project list; ``state`` is private data (render format, site settings).

    Written one project per line: readable diffs, and the C encoder stays in use (an indented
    dump of thousands of projects goes through json's slow pure-Python path).
    """
    projects = ",\n".join(json.dumps({"name": name}, ensure_ascii=False) for name in names)
    meta = json.dumps({"api-version": API_VERSION})
    lines = [f'{{"meta": {meta},', f'"projects": [\n{projects}\n]']
    if state:
        private = {key: value for key, value in state.items() if key != "fingerprints"}
        lines[-1] += ","
        body = json.dumps(private, ensure_ascii=False)[:-1]
        fingerprints = ",\n".join(
            f"{json.dumps(key)}: {json.dumps(value)}"
            for key, value in (state.get("fingerprints") or {}).items()
        )
        lines.append(f'"{PRIVATE_KEY}": {body}, "fingerprints": {{\n{fingerprints}\n}}}}')
    return ("\n".join(lines) + "\n}\n").encode("utf-8")


def _json_file(file: IndexFile) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "filename": file.filename,
        "url": file_url(file.filename),
        "hashes": {"sha256": file.sha256},
    }
    if file.requires_python:
        entry["requires-python"] = file.requires_python
    if file.metadata_sha256:
        entry["core-metadata"] = {"sha256": file.metadata_sha256}
    entry["size"] = file.size
    entry["upload-time"] = format_upload_time(file.upload_time)
    entry["yanked"] = (file.yanked or True) if file.yanked is not None else False
    private = dict(file.extra)
    if file.provenance is not None:
        private["provenance"] = dict(file.provenance)
    if private:
        entry[PRIVATE_KEY] = private
    return entry


def _file_row(file: IndexFile) -> str:
    # every value is escaped, even those the catalog reader validates (hex digests)
    attributes = [f'href="{escape(file_url(file.filename))}#sha256={escape(file.sha256)}"']
    if file.requires_python:
        attributes.append(f'data-requires-python="{escape(file.requires_python)}"')
    if file.metadata_sha256:
        value = escape(f"sha256={file.metadata_sha256}")
        attributes.append(f'data-core-metadata="{value}" data-dist-info-metadata="{value}"')
    if file.yanked is not None:
        attributes.append(f'data-yanked="{escape(file.yanked)}"')
    link = f"<a {' '.join(attributes)}>{escape(file.filename)}</a>"
    if file.yanked is not None:
        reason = f": {escape(file.yanked)}" if file.yanked else ""
        link += f' <span class="badge">yanked{reason}</span>'
    css = ' class="yanked"' if file.yanked is not None else ""
    python = escape(file.requires_python or "")
    uploaded = format_upload_time(file.upload_time)[:16].replace("T", " ")
    return (
        f'<tr{css}><td>{link}</td><td class="num">{escape(_human_size(file.size))}</td>'
        f"<td>{escape(uploaded)}</td><td>{python}</td><td>{_provenance_text(file)}</td></tr>"
    )


def _provenance_text(file: IndexFile) -> str:
    provenance = file.provenance
    if not provenance:
        return ""
    source = escape(str(provenance.get("source", "")))
    commit = escape(str(provenance.get("commit", ""))[:12])
    ref = provenance.get("ref")
    ref_text = (
        f" <small>({escape(str(ref))})</small>" if ref and ref != provenance.get("commit") else ""
    )
    return f"{source} @ <code>{commit}</code>{ref_text}"


def _install_hint(site: SiteInfo, name: str) -> str:
    url = escape(site.url) if site.url else "https://&lt;this index&gt;/"
    return (
        f"<pre>pip install --extra-index-url {url} {escape(name)}\n"
        f"uv pip install --index {url} {escape(name)}</pre>"
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _page(title: str, body: str) -> bytes:
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="pypi:repository-version" content="{API_VERSION}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""
    return page.encode("utf-8")
