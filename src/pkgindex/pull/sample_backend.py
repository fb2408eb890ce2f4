"""A tiny, self-contained PEP 517 build backend for pure-Python sample projects.

``pkgindex demo`` and the tests copy this file into a sample source tree and point
``build-backend`` at it with ``backend-path = ["."]`` (the way pypa/build's own tests do), so a real
isolated build runs without downloading anything. Standard library only; Python 3.11+.

It reads ``[project]`` (name, version, description, requires-python, dependencies) from
pyproject.toml and packages every folder under ``src/``. ``[tool.sample-backend] record-env`` lists
environment variables (``["*"]``: every variable) whose values, with the PEP 517 config
settings, are written to ``<package>/_build_info.py`` so a test can see what the build was
given. Archives are reproducible: fixed timestamps and sorted entries, so the same tree gives
the same bytes.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

_EPOCH = (1980, 1, 1, 0, 0, 0)


def _project() -> dict[str, Any]:
    data = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))
    project: dict[str, Any] = data["project"]
    project["_tool"] = data.get("tool", {}).get("sample-backend", {})
    return project


def _stem(project: Mapping[str, Any]) -> str:
    name = str(project["name"]).replace("-", "_").replace(".", "_").lower()
    return f"{name}-{project['version']}"


def _metadata(project: Mapping[str, Any]) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {project['version']}"]
    if "description" in project:
        lines.append(f"Summary: {project['description']}")
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {requirement}" for requirement in project.get("dependencies", [])]
    for extra, requirements in sorted(project.get("optional-dependencies", {}).items()):
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {r}; extra == "{extra}"' for r in requirements]
    return "\n".join(lines) + "\n\n"


def _sources() -> Iterator[tuple[str, bytes]]:
    root = Path("src")
    for path in sorted(root.rglob("*")):
        skip = "__pycache__" in path.parts or ".git" in path.parts or path.name == ".git"
        if path.is_file() and not skip and path.suffix != ".pyc":
            yield path.relative_to(root).as_posix(), path.read_bytes()


def _build_info(
    project: Mapping[str, Any], settings: Mapping[str, Any] | None
) -> list[tuple[str, bytes]]:
    names = project["_tool"].get("record-env")
    if names is None:
        return []
    wanted = sorted(os.environ) if "*" in names else names
    env = {name: os.environ.get(name) for name in wanted}
    text = f"ENV = {env!r}\nCONFIG_SETTINGS = {dict(settings or {})!r}\n"
    packages = sorted({path.split("/")[0] for path, _ in _sources() if "/" in path})
    return [(f"{package}/_build_info.py", text.encode()) for package in packages]


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings: Mapping[str, Any] | None = None) -> list[str]:
    return []


def get_requires_for_build_sdist(config_settings: Mapping[str, Any] | None = None) -> list[str]:
    return []


def build_wheel(
    wheel_directory: str,
    config_settings: Mapping[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    project = _project()
    stem = _stem(project)
    dist_info = f"{stem}.dist-info"
    entries = dict(_sources())
    entries.update(_build_info(project, config_settings))
    top_level = sorted({path.split("/")[0].removesuffix(".py") for path in entries})
    entries[f"{dist_info}/METADATA"] = _metadata(project).encode()
    entries[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: pkgindex-sample-backend\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n"
    )
    entries[f"{dist_info}/top_level.txt"] = ("\n".join(top_level) + "\n").encode()
    record = [_record_line(path, data) for path, data in entries.items()]
    record.append(f"{dist_info}/RECORD,,")
    entries[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    filename = f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(Path(wheel_directory) / filename, "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in entries.items():
            info = zipfile.ZipInfo(path, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            wheel.writestr(info, data)
    return filename


def build_sdist(sdist_directory: str, config_settings: Mapping[str, Any] | None = None) -> str:
    project = _project()
    stem = _stem(project)
    files = [("pyproject.toml", Path("pyproject.toml").read_bytes())]
    files += [(f"src/{path}", data) for path, data in _sources()]
    files += [
        (name, Path(name).read_bytes()) for name in sorted(os.listdir(".")) if name.endswith(".py")
    ]
    files.append(("PKG-INFO", _metadata(project).encode()))
    filename = f"{stem}.tar.gz"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as sdist:
        for path, data in files:
            info = tarfile.TarInfo(f"{stem}/{path}")
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 315532800
            sdist.addfile(info, io.BytesIO(data))
    with gzip.GzipFile(Path(sdist_directory) / filename, "wb", mtime=0) as compressed:
        compressed.write(buffer.getvalue())
    return filename
