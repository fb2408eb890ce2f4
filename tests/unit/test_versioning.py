"""Version templates and wheel version rewriting (pure: files in, files out)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from packaging.version import Version

from pkgindex.errors import ConfigError
from pkgindex.pull.versioning import render_version, rewrite_wheel_version

NOW = datetime(2025, 12, 7, 9, 30, 5, tzinfo=UTC)
SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f80912345678"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("43!{date}", "43!2025.12.7"),
        ("{version}.dev{timestamp}", "2.1.0.dev20251207093005"),
        ("{version}+g{sha7}", "2.1.0+g1a2b3c4"),
        ("{version}", "2.1.0"),
    ],
)
def test_render_version(template: str, expected: str) -> None:
    rendered = render_version(template, version=Version("2.1.0+local"), commit=SHA, now=NOW)
    assert str(rendered) == expected


def test_epoch_template_sorts_above_pypi_releases() -> None:
    rendered = render_version("43!{date}", version=Version("1.0"), commit=SHA, now=NOW)
    assert rendered > Version("2099.1.1")


@pytest.mark.parametrize("template", ["{nope}", "{version}-{{", "not a version {sha}"])
def test_bad_templates_are_config_errors(template: str) -> None:
    with pytest.raises(ConfigError):
        render_version(template, version=Version("1.0"), commit=SHA, now=NOW)


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_wheel(directory: Path, *, version: str = "1.0.0") -> Path:
    dist_info = f"demo_pkg-{version}.dist-info"
    files = {
        "demo_pkg/__init__.py": b"X = 1\n",
        f"demo_pkg-{version}.data/scripts/tool": b"#!python\n",
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: demo-pkg\nVersion: {version}\n\nVersion: in the body\n"
        ).encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},{_digest(data)},{len(data)}\n" for path, data in files.items())
    files[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    path = directory / f"demo_pkg-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def test_rewrite_changes_every_place_that_names_the_version(tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path)
    result = rewrite_wheel_version(wheel, Version("43!2025.12.7"), tmp_path / "out")

    assert result.name == "demo_pkg-43!2025.12.7-py3-none-any.whl"
    with zipfile.ZipFile(result) as archive:
        names = archive.namelist()
        contents = {name: archive.read(name) for name in names}
    info = "demo_pkg-43!2025.12.7.dist-info"
    assert f"{info}/METADATA" in names and f"{info}/RECORD" in names
    assert "demo_pkg-43!2025.12.7.data/scripts/tool" in names
    assert not any("1.0.0" in name for name in names)
    metadata = contents[f"{info}/METADATA"].decode()
    assert "\nVersion: 43!2025.12.7\n" in metadata
    assert "Version: in the body" in metadata  # only the header changes
    rows = list(csv.reader(io.StringIO(contents[f"{info}/RECORD"].decode())))
    assert {row[0] for row in rows} == set(names)
    for path, digest, size in rows:
        if path.endswith("RECORD"):
            assert (digest, size) == ("", "")
        else:
            assert digest == _digest(contents[path]) and int(size) == len(contents[path])


def test_rewrite_with_a_local_version(tmp_path: Path) -> None:
    result = rewrite_wheel_version(write_wheel(tmp_path), Version("1.0.0+g1a2b3c4"), tmp_path / "o")
    assert result.name == "demo_pkg-1.0.0+g1a2b3c4-py3-none-any.whl"
    assert wheel_is_readable(result)


def wheel_is_readable(path: Path) -> bool:
    with zipfile.ZipFile(path) as archive:
        return archive.testzip() is None
