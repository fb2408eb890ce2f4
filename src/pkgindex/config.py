"""pkgindex.toml: the index title and URL, and per-project source and build settings.

Example::

    title = "GT4Py package index"
    url = "https://gridtools.github.io/python-pkg-index/"     # optional, shown in install hints
    source-url = "https://github.com/{owner}/{repo}.git"       # optional clone URL template

    [projects.dace]
    source = "GridTools/dace"
    version-template = "43!{date}"      # optional: rewrite the built version
    dists = ["wheel"]                   # "wheel", "sdist"
    subdirectory = ""                   # where pyproject.toml lives in the source
    env = { }                           # environment for the build
    config-settings = { }               # PEP 517 config settings
    smoke = "python -c 'import dace'"   # optional verify command; default imports top-level modules
    verify-deps = false                 # install dependencies (this index + PyPI) when verifying
    auditwheel = true                   # repair Linux platform wheels when auditwheel is installed
    keep = ["43!2026.4.27"]             # versions pinned by users: never pruned, never removed
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from packaging.utils import NormalizedName, canonicalize_name

from pkgindex.errors import ConfigError

CONFIG_FILENAME = "pkgindex.toml"
DEFAULT_TITLE = "Python package index"
DEFAULT_SOURCE_URL = "https://github.com/{owner}/{repo}.git"

DistKind = Literal["wheel", "sdist"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectConfig:
    name: NormalizedName
    source: str | None = None
    version_template: str | None = None
    dists: tuple[DistKind, ...] = ("wheel",)
    subdirectory: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    config_settings: Mapping[str, str] = field(default_factory=dict)
    smoke: str | None = None
    verify_deps: bool = False
    auditwheel: bool = True
    keep: tuple[str, ...] = ()  # pinned versions (PEP 440), normalized


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    title: str = DEFAULT_TITLE
    url: str | None = None
    source_url: str = DEFAULT_SOURCE_URL
    projects: Mapping[NormalizedName, ProjectConfig] = field(default_factory=dict)

    def project(self, name: str) -> ProjectConfig:
        """Settings for a project, defaults if the file does not mention it."""
        normalized = canonicalize_name(name)
        return self.projects.get(normalized) or ProjectConfig(name=normalized)


def load_config(root: Path) -> Config:
    """Read ROOT/pkgindex.toml; a missing file means defaults."""
    path = root / CONFIG_FILENAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    import tomllib  # deferred: most indexes have no pkgindex.toml

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", hint="fix the syntax") from exc
    return config_from_mapping(data, origin=str(path))


def config_from_mapping(data: Mapping[str, Any], *, origin: str = CONFIG_FILENAME) -> Config:
    problems: list[str] = []
    known = {"title", "url", "source-url", "projects"}
    problems += [f"unknown key {key!r}" for key in data if key not in known]
    title = _expect(data, "title", str, DEFAULT_TITLE, problems)
    url = _expect(data, "url", str, None, problems)
    source_url = _expect(data, "source-url", str, DEFAULT_SOURCE_URL, problems)
    projects: dict[NormalizedName, ProjectConfig] = {}
    raw_projects = _expect(data, "projects", dict, {}, problems)
    for name, table in raw_projects.items():
        if not isinstance(table, dict):
            problems.append(f"projects.{name} must be a table")
            continue
        projects[canonicalize_name(name)] = _project_config(name, table, problems)
    if problems:
        raise ConfigError(
            f"{origin}: " + "; ".join(problems),
            hint="see the example at the top of docs/configuration.md",
        )
    return Config(title=title, url=url, source_url=source_url, projects=projects)


def _project_config(name: str, table: Mapping[str, Any], problems: list[str]) -> ProjectConfig:
    known = {
        "source", "version-template", "dists", "subdirectory", "env",
        "config-settings", "smoke", "verify-deps", "auditwheel", "keep",
    }  # fmt: skip
    problems += [f"unknown key projects.{name}.{key}" for key in table if key not in known]
    dists = tuple(_expect(table, "dists", list, ["wheel"], problems))
    for dist in dists:
        if dist not in ("wheel", "sdist"):
            problems.append(f"projects.{name}.dists: {dist!r} is not 'wheel' or 'sdist'")
    env = _expect(table, "env", dict, {}, problems)
    settings = _expect(table, "config-settings", dict, {}, problems)
    return ProjectConfig(
        name=canonicalize_name(name),
        source=_expect(table, "source", str, None, problems),
        version_template=_expect(table, "version-template", str, None, problems),
        dists=dists,
        subdirectory=_expect(table, "subdirectory", str, "", problems),
        env={str(k): str(v) for k, v in env.items()},
        config_settings={str(k): str(v) for k, v in settings.items()},
        smoke=_expect(table, "smoke", str, None, problems),
        verify_deps=_expect(table, "verify-deps", bool, False, problems),
        auditwheel=_expect(table, "auditwheel", bool, True, problems),
        keep=_versions(name, _expect(table, "keep", list, [], problems), problems),
    )


def _versions(name: str, values: list[Any], problems: list[str]) -> tuple[str, ...]:
    from packaging.version import InvalidVersion, Version

    versions = []
    for value in values:
        try:
            versions.append(str(Version(str(value))))
        except InvalidVersion:
            problems.append(f"projects.{name}.keep: {value!r} is not a valid version (PEP 440)")
    return tuple(versions)


def _expect(
    table: Mapping[str, Any], key: str, kind: type, default: Any, problems: list[str]
) -> Any:
    value = table.get(key, default)
    if value is not default and not isinstance(value, kind):
        problems.append(f"{key} must be a {kind.__name__}, not {type(value).__name__}")
        return default
    return value
