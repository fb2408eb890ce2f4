"""Write small, valid distribution files in memory-light ways for unit tests."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from pathlib import Path


def metadata_text(name: str, version: str, requires_python: str | None = None) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    return "\n".join(lines) + "\n\nA description body.\n"


def write_wheel(
    folder: Path,
    name: str,
    version: str,
    *,
    requires_python: str | None = None,
    metadata: str | None = None,
    dist_info: str | None = None,
    tag: str = "py3-none-any",
) -> Path:
    """A wheel with a module, METADATA, WHEEL and a correct RECORD."""
    stem = f"{name}-{version}"
    info = dist_info or f"{stem}.dist-info"
    files = {
        f"{name}/__init__.py": b"VALUE = 1\n",
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: "
        + tag.encode()
        + b"\n",
    }
    if metadata != "":
        files[f"{info}/METADATA"] = (
            metadata or metadata_text(name, version, requires_python)
        ).encode()
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = folder / f"{stem}-{tag}.whl"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return path


def write_sdist(folder: Path, name: str, version: str, *, pkg_info: str | None = None) -> Path:
    stem = f"{name}-{version}"
    path = folder / f"{stem}.tar.gz"
    folder.mkdir(parents=True, exist_ok=True)
    data = (pkg_info if pkg_info is not None else metadata_text(name, version)).encode()
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo(f"{stem}/PKG-INFO")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return path
