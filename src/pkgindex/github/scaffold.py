"""``pkgindex init``: lay out a new index repository.

It writes ``pkgindex.toml``, ``.nojekyll``, the update workflow, a README that tells users how to
install from the index (pip, and uv with an explicit index pinned through ``tool.uv.sources``),
a folder per project, and the first pages (through :func:`pkgindex.index.refresh.generate`).

Running it again changes nothing. A file that exists with other bytes than ``init`` would write
(someone edited it, or other options were given) is left alone and reported, unless ``force``.
Nothing is recorded beside the files: comparing with what ``init`` would write is enough.
"""

from __future__ import annotations

import json
import re
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final, Literal

from packaging.utils import InvalidName, NormalizedName, canonicalize_name

from pkgindex import __version__
from pkgindex.config import CONFIG_FILENAME, DEFAULT_TITLE, config_from_mapping
from pkgindex.errors import ConfigError
from pkgindex.github.selfinstall import PROJECT, installed_origin, own_wheel
from pkgindex.github.workflows import DEFAULT_REQUIREMENT, INDEX_WORKFLOW_PATH, index_workflow
from pkgindex.index.layout import check_index_root, classify
from pkgindex.index.refresh import Clock, GenerateReport, generate
from pkgindex.stores import local as storage
from pkgindex.stores.local import LocalStore

Outcome = Literal["written", "unchanged", "kept"]

_SOURCE = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
PLACEHOLDER_URL: Final = "https://OWNER.github.io/REPOSITORY/"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectSource:
    name: NormalizedName
    source: str  # OWNER/REPO on GitHub

    @classmethod
    def from_argument(cls, argument: str) -> ProjectSource:
        """Parse ``NAME=OWNER/REPO`` (as given to ``--project``)."""
        name, separator, source = argument.partition("=")
        if not separator or not _SOURCE.fullmatch(source):
            raise ConfigError(
                f"--project {argument!r} is not NAME=OWNER/REPO", hint="e.g. dace=GridTools/dace"
            )
        try:
            normalized = canonicalize_name(name, validate=True)
        except InvalidName as exc:
            raise ConfigError(f"--project {argument!r}: {name!r} is not a project name") from exc
        return cls(name=normalized, source=source)


@dataclass(frozen=True, slots=True, kw_only=True)
class InitOptions:
    title: str = DEFAULT_TITLE
    url: str | None = None
    projects: Sequence[ProjectSource] = ()
    branch: str = "main"
    requirement: str | None = None  # what the workflow installs; None: see selfinstall
    deploy_pages: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class InitReport:
    root: Path
    files: Mapping[str, Outcome]  # relative path -> what happened to it
    pages: GenerateReport

    @property
    def kept(self) -> tuple[str, ...]:
        return tuple(path for path, outcome in self.files.items() if outcome == "kept")


def scaffold_files(options: InitOptions) -> dict[str, bytes]:
    """Every file ``init`` writes, by path relative to the index root (but pkgindex's wheel)."""
    files = {
        CONFIG_FILENAME: render_config(options).encode(),
        ".nojekyll": b"",
        INDEX_WORKFLOW_PATH: index_workflow(
            branch=options.branch,
            requirement=options.requirement or DEFAULT_REQUIREMENT,
            deploy_pages=options.deploy_pages,
        ).encode(),
        "README.md": render_readme(options).encode(),
    }
    for project in options.projects:
        files[f"{project.name}/.gitkeep"] = b""
    return files


def init_index(
    root: Path, options: InitOptions, *, force: bool = False, clock: Clock | None = None
) -> InitReport:
    """Write the scaffold into ROOT (created if needed), then generate the first pages.

    Everything is checked before the first file is written: the options, what ROOT is (a
    folder holding another index, or a project folder of one, is refused), and what the
    workflow will install (pkgindex's own wheel is built first when the index must host it).
    """
    names = [project.name for project in options.projects]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"--project given twice for {', '.join(duplicates)}")
    found = classify(root)
    if found.kind in ("file", "project", "above-index"):
        check_index_root(root)  # raises, saying what ROOT is
    with tempfile.TemporaryDirectory(prefix="pkgindex-init-") as scratch:
        requirement, wheel = _workflow_requirement(root, options, Path(scratch))
        options = replace(options, requirement=requirement)
        files = scaffold_files(options)
        root.mkdir(parents=True, exist_ok=True)
        outcomes = {path: _place(root / path, data, force=force) for path, data in files.items()}
        if wheel is not None:
            relative = f"{PROJECT}/{wheel.name}"
            exists = (root / relative).exists()
            if not exists:
                storage.write_atomic(root / relative, wheel.read_bytes())
            outcomes[relative] = "unchanged" if exists else "written"
    pages = generate(LocalStore(root), clock=clock)
    return InitReport(root=root, files=outcomes, pages=pages)


def _workflow_requirement(
    root: Path, options: InitOptions, scratch: Path
) -> tuple[str, Path | None]:
    """The requirement the index workflow installs, and the wheel to host for it (if any)."""
    if options.requirement:
        return options.requirement, None
    origin = installed_origin()
    if origin.requirement:
        return origin.requirement, None
    hosted = sorted((root / PROJECT).glob(f"{PROJECT}-{__version__}-*.whl"))
    wheel = hosted[0] if hosted else own_wheel(origin, scratch)
    return f"./{PROJECT}/{wheel.name}", wheel


def render_config(options: InitOptions) -> str:
    lines = [
        "# pkgindex configuration (written by `pkgindex init`; edit freely).",
        f"title = {_quoted(options.title)}",
    ]
    if options.url:
        lines.append(f"url = {_quoted(options.url)}")
    for project in options.projects:
        lines += ["", f"[projects.{project.name}]", f"source = {_quoted(project.source)}"]
    text = "\n".join(lines) + "\n"
    config_from_mapping(tomllib.loads(text), origin=CONFIG_FILENAME)  # what we write must load
    return text


def render_readme(options: InitOptions) -> str:
    url = _index_url(options.url)
    index_name = _slug(options.title)
    example = options.projects[0].name if options.projects else "PROJECT"
    sources = "\n".join(
        f'{project.name} = {{ index = "{index_name}" }}' for project in options.projects
    )
    listing = "\n".join(
        f"- `{p.name}`, built from [{p.source}](https://github.com/{p.source})"
        for p in options.projects
    )
    return _README.format(
        title=options.title,
        url=url,
        index_name=index_name,
        example=example,
        sources=sources or f'{example} = {{ index = "{index_name}" }}',
        listing=listing or "- (none yet)",
        note="" if options.url else _URL_NOTE,
    )


def _place(path: Path, data: bytes, *, force: bool) -> Outcome:
    try:
        current = path.read_bytes()
    except FileNotFoundError:
        storage.write_atomic(path, data)
        return "written"
    if current == data:
        return "unchanged"
    if not force:
        return "kept"
    storage.write_atomic(path, data)
    return "written"


def _quoted(value: str) -> str:
    """VALUE as a TOML basic string (JSON escapes are valid TOML escapes)."""
    return json.dumps(value, ensure_ascii=True)


def _index_url(url: str | None) -> str:
    if not url:
        return PLACEHOLDER_URL
    return url if url.endswith("/") else f"{url}/"


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug or "package-index"


_URL_NOTE = """
> Replace `https://OWNER.github.io/REPOSITORY/` with this index's address (the GitHub Pages URL),
> or run `pkgindex init --url URL --force` to fill it in.
"""

_README = """\
# {title}

A Python package index (the PEP 503 "simple" API) made with
pkgindex and served by GitHub Pages at <{url}>. It holds:

{listing}
{note}
## Install with pip

```console
pip install --extra-index-url {url} {example}
```

pip merges all indexes and takes the highest version from any of them, so a package of the same
name on PyPI could win. Pin the version (`{example}==VERSION`), or better, use hash-pinned
requirements (`pip install --require-hashes -r requirements.txt`).

## Install with uv

Declare the index as *explicit*, so uv uses it only for the packages pinned to it and a
same-named package on PyPI is never picked. In `pyproject.toml`:

```toml
[[tool.uv.index]]
name = "{index_name}"
url = "{url}"
explicit = true

[tool.uv.sources]
{sources}
```

For a one-off install: `uv pip install --index {url} {example}` (uv takes a package from the first
index that has it, and `--index` comes before PyPI).

## How packages get here

- **Pull mode**: a repository tells this index about a new version (`pkgindex dispatch`, or its
  workflow on a tag push); `.github/workflows/update-python-pkg-index.yml` builds the wheel,
  verifies it, adds it and pushes.
- **Push mode**: a repository builds and verifies the wheel itself, then runs
  `pkgindex publish WHEEL --index-url-git <this repository's git URL>`.

See pkgindex's `docs/github.md` for installing the workflows and the token they need.
"""
