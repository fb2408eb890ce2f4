"""What counts as an index root, so that no command writes pages into the wrong folder.

A folder is an index root when any of these holds:

- it has ``pkgindex.toml`` (written by ``pkgindex init``, or by hand);
- its ``index.json`` is a root page written by pkgindex (a ``projects`` list and our private key);
- it has a project folder: a subfolder named by the project of a distribution file in it, or
  holding a project ``index.json`` (an existing index such as GT4Py's, before pkgindex first
  ran on it; a source checkout's ``dist/`` does not count);
- distribution files sit in it directly (``generate`` then says where they belong);
- it is empty (a new index).

Anything else — a source checkout, a home folder, the folder above an index, a project folder
of an index — is refused with a message that says what the folder is and what to pass instead.
``pkgindex init DIR`` makes any folder an index root.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pkgindex.config import CONFIG_FILENAME
from pkgindex.errors import ConfigError, InvalidDistributionError
from pkgindex.index.distfile import is_distribution_filename, parse_filename
from pkgindex.index.render import PRIVATE_KEY

PAGE_JSON = "index.json"

Kind = Literal["index", "empty", "missing", "file", "project", "above-index", "other"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RootCheck:
    kind: Kind
    related: Path | None = None  # the index a project folder belongs to, or the one below


def classify(path: Path) -> RootCheck:
    """Say what PATH is, as a candidate index root."""
    if not path.exists():
        return RootCheck(kind="missing")
    if not path.is_dir():
        return RootCheck(kind="file")
    if (path / CONFIG_FILENAME).is_file() or _page_kind(path / PAGE_JSON) == "root":
        return RootCheck(kind="index")
    if _page_kind(path / PAGE_JSON) == "project" and _is_index_root(path.parent):
        return RootCheck(kind="project", related=path.parent)
    entries = [entry for entry in os.scandir(path) if not entry.name.startswith(".")]
    if not entries:
        return RootCheck(kind="empty")
    if any(entry.is_file() and is_distribution_filename(entry.name) for entry in entries):
        return RootCheck(kind="index")
    folders = sorted((entry for entry in entries if entry.is_dir()), key=lambda e: e.name)
    for entry in folders:
        if _is_index_root(entry.path):
            return RootCheck(kind="above-index", related=Path(entry.path))
    if any(_is_project_folder(Path(entry.path)) for entry in folders):
        return RootCheck(kind="index")
    return RootCheck(kind="other")


def check_index_root(path: Path, *, allow_missing: bool = False) -> RootCheck:
    """Raise ConfigError (exit status 2) unless PATH is an index root (or may become one)."""
    found = classify(path)
    if found.kind in ("index", "empty") or (found.kind == "missing" and allow_missing):
        return found
    raise _refusal(path, found)


def _refusal(path: Path, found: RootCheck) -> ConfigError:
    shown = str(path)
    if found.kind == "missing":
        return ConfigError(
            f"{shown}: no such folder",
            hint=f"check the path, or create an index there with 'pkgindex init {shown}'",
        )
    if found.kind == "file":
        return ConfigError(f"{shown}: not a folder", hint="pass the index root folder with --root")
    if found.kind == "project" and found.related is not None:
        return ConfigError(
            f"{shown}: this is the project folder '{path.name}' of the index at {found.related}, "
            "not an index root",
            hint=f"pass the index root: --root {found.related}",
        )
    if found.kind == "above-index" and found.related is not None:
        return ConfigError(
            f"{shown}: not an index root, but the index at {found.related} is inside it",
            hint=f"pass the index root: --root {found.related}",
        )
    return ConfigError(
        f"{shown}: not an index root (no {CONFIG_FILENAME}, no index.json written by pkgindex, "
        "no project folders with distribution files); nothing was written",
        hint=f"create an index with 'pkgindex init {shown}', or pass the index root with --root",
    )


def _is_index_root(path: str | os.PathLike[str]) -> bool:
    """PATH has pkgindex.toml or a root index.json written by pkgindex. Run on each subfolder
    of a new index (thousands on a first run): a folder without either costs two stat calls."""
    folder = os.fspath(path)
    if os.path.isfile(os.path.join(folder, CONFIG_FILENAME)):
        return True
    page = os.path.join(folder, PAGE_JSON)
    return os.path.isfile(page) and _page_kind(Path(page)) == "root"


def _is_project_folder(path: Path) -> bool:
    try:
        with os.scandir(path) as listing:
            names = [entry.name for entry in listing]
    except OSError:
        return False
    if any(_project_of(name) == path.name for name in names):
        return True
    return PAGE_JSON in names and _page_kind(path / PAGE_JSON) == "project"


def _project_of(filename: str) -> str | None:
    if filename.startswith(".") or not is_distribution_filename(filename):
        return None
    try:
        return parse_filename(filename).name
    except InvalidDistributionError:
        return None


def _page_kind(page: Path) -> Literal["root", "project", None]:
    """'root' for a root page written by pkgindex, 'project' for a PEP 691 project page."""
    try:
        document = json.loads(page.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    if isinstance(document.get("projects"), list) and PRIVATE_KEY in document:
        return "root"
    if isinstance(document.get("files"), list) and "name" in document:
        return "project"
    return None
