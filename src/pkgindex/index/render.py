"""Render the index model as PEP 691 JSON pages, and what both page forms share. Pure.

HTML (html.py) and JSON come from the same model, so they cannot disagree. The project JSON page
is also the catalog: private data (provenance, tombstones of removed files, files withheld while
the project is quarantined) sits under ``_pkgindex`` keys, which clients ignore.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any
from urllib.parse import quote

from pkgindex.index.model import IndexFile, Project, Tombstone, format_upload_time

API_VERSION = "1.1"
STATUS_API_VERSION = "1.4"  # project status markers (PEP 792) came with API 1.4
PRIVATE_KEY = "_pkgindex"  # keys starting with "_" are reserved for server-private data
FORMAT_VERSION = 3  # bump when the rendered bytes change, so stale pages are rewritten


def file_url(filename: str) -> str:
    """A relative, percent-encoded link to a file beside the project page (no query string)."""
    if _UNQUOTED.fullmatch(filename):  # what quote() leaves as it is: most filenames
        return filename
    return quote(filename, safe="")  # mutate: skip (letters are never quoted: "XX" is "")


# the characters quote() never encodes
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]*")  # mutate: skip (a mutant never matches: quote() then)


def project_url(name: str) -> str:
    return f"{quote(name, safe='')}/"  # mutate: skip (letters are never quoted: "XX" is "")


def api_version(project: Project | None) -> str:
    """The lowest API version that describes the page: 1.4 when it carries a project status."""
    return STATUS_API_VERSION if project is not None and project.status else API_VERSION


def render_project_json(project: Project) -> bytes:
    """The PEP 691 project page, one file object per line (readable diffs; see render_root_json)."""
    offered = project.offered
    versions: dict[str, None] = dict.fromkeys(f.version for f in offered)
    document: dict[str, Any] = {
        "meta": {"api-version": api_version(project)},
        "name": project.name,
        "versions": list(versions),
    }
    if project.status is not None:
        document["project-status"] = {"status": project.status.status}
        if project.status.reason:
            document["project-status"]["reason"] = project.status.reason
    head = _ENCODE_TEXT(document)[:-1]
    times: dict[datetime, str] = {}  # the files of a run share their upload time
    files = ",\n".join([_json_file(f, times) for f in offered])
    tail = ""
    withheld = project.files if not offered else ()
    if project.removed or withheld:
        parts = []
        if project.removed:
            removed = ",\n".join([_ENCODE_TEXT(_json_tombstone(t)) for t in project.removed])
            parts.append(f'"removed": [\n{removed}\n]')
        if withheld:
            kept = ",\n".join([_json_file(f, times) for f in withheld])
            parts.append(f'"withheld": [\n{kept}\n]')
        tail = f', "{PRIVATE_KEY}": {{{", ".join(parts)}}}'
    return f'{head}, "files": [\n{files}\n]{tail}}}\n'.encode()


def _json_tombstone(tombstone: Tombstone) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "filename": tombstone.filename,
        "sha256": tombstone.sha256,
        "removed-at": format_upload_time(tombstone.removed_at),
    }
    if tombstone.reason:
        entry["reason"] = tombstone.reason
    return entry


_PER_PROJECT = ("fingerprints", "summaries")  # private maps written one project per line


def render_root_json(names: Iterable[str], state: dict[str, Any] | None = None) -> bytes:
    """The project list; ``state`` is private data (render format, site settings).

    Written one project per line: readable diffs, and the C encoder stays in use (an indented
    dump of thousands of projects goes through json's slow pure-Python path).
    """
    encode, text = _ENCODE_ASCII, _ENCODE_TEXT
    projects = ",\n".join([f'{{"name": {encode(name)}}}' for name in names])
    meta = encode({"api-version": API_VERSION})
    lines = [f'{{"meta": {meta},', f'"projects": [\n{projects}\n]']
    if state:
        private = {key: value for key, value in state.items() if key not in _PER_PROJECT}
        lines[-1] += ","
        body = text(private)[:-1]
        for key in _PER_PROJECT:
            if key in state:
                per_project = ",\n".join(
                    [f"{encode(name)}: {text(value)}" for name, value in (state[key] or {}).items()]
                )
                body += f'{", " if len(body) > 1 else ""}"{key}": {{\n{per_project}\n}}'
        lines.append(f'"{PRIVATE_KEY}": {body}}}')
    return ("\n".join(lines) + "\n}\n").encode("utf-8")


# json.dumps makes a new encoder for every call with other than default options: these are made
# once (they hold no state between calls)
_ENCODE_ASCII = json.JSONEncoder().encode
_ENCODE_TEXT = json.JSONEncoder(ensure_ascii=False).encode
_ENCODE_STRING = encode_basestring  # what _ENCODE_TEXT does with a str


def _json_file(file: IndexFile, times: dict[datetime, str]) -> str:
    """A file's object on one line: the bytes ``_ENCODE_TEXT`` makes of the dict
    ``{filename, url, hashes, requires-python?, core-metadata?, size, upload-time, yanked,
    _pkgindex?}``, written directly (a page holds one per file: encoding a dict per file
    costs three times as much)."""
    value = _json_value
    line = (
        f'{{"filename": {value(file.filename)}, "url": {value(file_url(file.filename))}, '
        f'"hashes": {{"sha256": {value(file.sha256)}}}'
    )
    if file.requires_python:
        line += f', "requires-python": {value(file.requires_python)}'
    if file.metadata_sha256:
        line += f', "core-metadata": {{"sha256": {value(file.metadata_sha256)}}}'
    moment = file.upload_time
    when = times.get(moment)
    if when is None:  # equal datetimes are the same instant: the same text
        when = times[moment] = value(format_upload_time(moment))
    yanked = (file.yanked or True) if file.yanked is not None else False
    line += f', "size": {value(file.size)}, "upload-time": {when}, "yanked": {value(yanked)}'
    private = dict(file.extra)
    if file.provenance is not None:
        private["provenance"] = dict(file.provenance)
    if private:
        line += f', "{PRIVATE_KEY}": {_ENCODE_TEXT(private)}'
    return line + "}"


def _json_value(value: object) -> str:
    """``_ENCODE_TEXT(value)``, taking the short way for a string or an int."""
    if type(value) is str:
        return _ENCODE_STRING(value)
    if type(value) is int:
        return int.__repr__(value)
    return _ENCODE_TEXT(value)
