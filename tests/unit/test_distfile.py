"""Distribution files: names, metadata, and every way a file can be wrong."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.version import Version

from pkgindex.errors import InvalidDistributionError
from pkgindex.index.distfile import inspect_distribution, parse_filename
from tests.unit.wheels import metadata_text, write_sdist, write_wheel


@pytest.mark.parametrize(
    ("filename", "name", "version", "kind"),
    [
        ("dace-43!2025.12.17-py3-none-any.whl", "dace", "43!2025.12.17", "wheel"),
        ("My_Pkg-1.0+local.1-1-cp311-cp311-linux_x86_64.whl", "my-pkg", "1.0+local.1", "wheel"),
        ("ghex-0.4.1.tar.gz", "ghex", "0.4.1", "sdist"),
        ("old.style-2.0.zip", "old-style", "2.0", "sdist"),
    ],
)
def test_parse_filename(filename: str, name: str, version: str, kind: str) -> None:
    dist = parse_filename(filename)
    assert (dist.name, dist.version, dist.kind) == (name, Version(version), kind)


CHARACTERS = "a distribution filename may only contain letters, digits and . _ - ! +"


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("notes.txt", "notes.txt: not a distribution file"),
        ("dace.whl", "dace.whl: not a valid distribution filename"),
        ("dace-1.0.whl", "dace-1.0.whl: not a valid distribution filename"),
        ("dace-1.0-py3-none-any.tar.gz", "dace-1.0-py3-none-any.tar.gz: not a valid distribution"),
        ("dace-1 0-py3-none-any.whl", f"'dace-1 0-py3-none-any.whl': {CHARACTERS}"),
        ("<script>-1.0-py3-none-any.whl", f"'<script>-1.0-py3-none-any.whl': {CHARACTERS}"),
        ("../dace-1.0-py3-none-any.whl", f"'../dace-1.0-py3-none-any.whl': {CHARACTERS}"),
        ("dace-1.0-py3-none-any.whl\n", f"'dace-1.0-py3-none-any.whl\\n': {CHARACTERS}"),
        ("", f"'': {CHARACTERS}"),
        (".", f"'.': {CHARACTERS}"),
        ("..", f"'..': {CHARACTERS}"),
        ("d" * 238 + "-1.tar.gz", "d" * 40 + "…: a distribution filename of 247 characters"),
    ],
)  # fmt: skip
def test_parse_filename_refuses(filename: str, message: str) -> None:
    with pytest.raises(InvalidDistributionError) as error:
        parse_filename(filename)
    assert error.value.message.startswith(message)


def test_the_longest_filename_leaves_room_for_metadata() -> None:
    longest = "d" * 237 + "-1.tar.gz"
    assert len(longest) == 255 - len(".metadata")
    assert parse_filename(longest).version == Version("1")


def test_inspect_wheel(tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path, "dace", "43!2025.12.17", requires_python=">=3.10")
    result = inspect_distribution(wheel)
    assert result.sha256 == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert result.size == wheel.stat().st_size
    assert result.requires_python == ">=3.10"
    with zipfile.ZipFile(wheel) as archive:
        assert result.metadata == archive.read("dace-43!2025.12.17.dist-info/METADATA")


def test_inspect_a_wheel_larger_than_one_read(tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path, "dace", "2.0", requires_python=">=3.11")
    with zipfile.ZipFile(wheel, "a") as archive:  # stored, so the file grows past 16 MiB
        archive.writestr("dace/data.bin", bytes(range(256)) * (65 * 1024), zipfile.ZIP_STORED)
    assert wheel.stat().st_size > 16 << 20
    result = inspect_distribution(wheel)
    assert result.sha256 == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert result.size == wheel.stat().st_size
    assert result.requires_python == ">=3.11"
    with zipfile.ZipFile(wheel) as archive:
        assert result.metadata == archive.read("dace-2.0.dist-info/METADATA")


def test_inspect_an_sdist_larger_than_one_read(tmp_path: Path) -> None:
    sdist = tmp_path / "dace-2.0.tar.gz"
    noise = bytes((16 << 20) + 1)
    with tarfile.open(sdist, "w:gz", compresslevel=0) as archive:  # stored: it stays big
        for member, data in (("PKG-INFO", metadata_text("dace", "2.0", ">=3.12").encode()),
                             ("noise.bin", noise)):  # fmt: skip
            info = tarfile.TarInfo(f"dace-2.0/{member}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    assert sdist.stat().st_size > 16 << 20
    result = inspect_distribution(sdist)
    assert result.sha256 == hashlib.sha256(sdist.read_bytes()).hexdigest()
    assert (result.size, result.requires_python) == (sdist.stat().st_size, ">=3.12")


def test_inspect_sdist_reads_pkg_info(tmp_path: Path) -> None:
    sdist = write_sdist(
        tmp_path, "ghex", "0.4.1", pkg_info=metadata_text("ghex", "0.4.1", "<4,>=3.9")
    )
    result = inspect_distribution(sdist)
    assert result.requires_python == "<4,>=3.9"
    assert result.metadata is None  # metadata files are served for wheels only


def test_inspect_zip_sdist_reads_pkg_info(tmp_path: Path) -> None:
    sdist = tmp_path / "old_style-2.0.zip"
    with zipfile.ZipFile(sdist, "w") as archive:
        archive.writestr("old_style-2.0/PKG-INFO", metadata_text("old-style", "2.0", ">=3.8"))
    result = inspect_distribution(sdist)
    assert result.requires_python == ">=3.8"
    assert result.dist.kind == "sdist" and result.metadata is None
    with zipfile.ZipFile(sdist, "w") as archive:  # an old sdist without PKG-INFO: nothing to say
        archive.writestr("old_style-2.0/setup.py", "")
    assert inspect_distribution(sdist).requires_python is None


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (
            lambda d: write_wheel(d, "dace", "1.0", metadata=""),
            "has no dace-1.0.dist-info/METADATA",
        ),
        (
            lambda d: write_wheel(d, "dace", "1.0", metadata=metadata_text("ghex", "1.0")),
            "metadata name 'ghex'",
        ),
        (
            lambda d: write_wheel(d, "dace", "1.0", metadata=metadata_text("dace", "2.0")),
            "metadata version '2.0'",
        ),
        (
            lambda d: write_wheel(d, "dace", "1.0", dist_info="other-1.0.dist-info"),
            "has no dace-1.0.dist-info/METADATA",
        ),
        (
            lambda d: write_sdist(d, "dace", "1.0", pkg_info=metadata_text("ghex", "1.0")),
            "metadata name 'ghex'",
        ),
        (
            lambda d: write_wheel(d, "dace", "1.0", metadata="Metadata-Version: 2.1\nName: dace\n"),
            "dace-1.0-py3-none-any.whl: its core metadata has no Name or Version",
        ),
        (
            lambda d: write_wheel(
                d, "dace", "1.0", metadata="Metadata-Version: 2.1\nVersion: 1.0\n"
            ),
            "dace-1.0-py3-none-any.whl: its core metadata has no Name or Version",
        ),
        (
            lambda d: write_wheel(d, "dace", "1.0", metadata="Name: dace\nVersion: 1.0\xff\n"),
            "metadata version '1.0\xff' does not match",
        ),
        (  # the version as written is compared first: an empty one is no match
            lambda d: write_wheel(d, "dace", "1.0", metadata="Name: dace\nVersion: \n"),
            "metadata version '' does not match the filename's 1.0",
        ),
        (
            lambda d: write_sdist(d, "dace", "1.0", pkg_info="Name: dace\nVersion: dace-1.0\n"),
            "metadata version 'dace-1.0' does not match the filename's 1.0",
        ),
        (
            lambda d: write_sdist(d, "my-pkg", "1.0", pkg_info="Name: my-pkg\nVersion: pkg-1.0\n"),
            "metadata version 'pkg-1.0' does not match the filename's 1.0",
        ),
        (
            lambda d: write_wheel(d, "dace", "1.0", requires_python=">=three"),
            "Requires-Python '>=three' is not a valid version specifier",
        ),
    ],
)
def test_inspect_refuses_inconsistent_files(tmp_path: Path, make, words: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidDistributionError, match=words.replace(".", r"\.")):
        inspect_distribution(make(tmp_path))


def test_a_requires_python_is_judged_the_same_every_time(tmp_path: Path) -> None:
    """Valid and invalid values are remembered (files share a few values): each file with an
    invalid one is refused, not only the first, and a valid one passes every time."""
    for number in range(3):
        bad = write_wheel(tmp_path / f"bad{number}", "dace", "1.0", requires_python=">=three")
        with pytest.raises(InvalidDistributionError, match="'>=three' is not a valid"):
            inspect_distribution(bad)
        good = write_wheel(tmp_path / f"good{number}", "dace", "1.0", requires_python=">=3.9")
        assert inspect_distribution(good).requires_python == ">=3.9"


@pytest.mark.parametrize(
    ("filename_version", "metadata_version", "accepted"),
    [
        ("1.0", "1.0", True),  # the same text: not parsed again
        ("1.0", "1.0.0", True),  # another spelling of the same version
        ("1!2.0+local.1", "1!2.0+LOCAL.1", True),
        ("1.0", "1.0.1", False),
        ("1.0", " 1.0 ", True),  # packaging strips the spaces email leaves
        ("1.0", "1.0-x", False),
    ],
)
def test_metadata_version_is_compared_as_a_version(
    tmp_path: Path, filename_version: str, metadata_version: str, accepted: bool
) -> None:
    metadata = metadata_text("dace", metadata_version)
    wheel = write_wheel(tmp_path, "dace", filename_version, metadata=metadata)
    sdist = write_sdist(tmp_path, "dace", filename_version, pkg_info=metadata)
    for path in (wheel, sdist):
        if accepted:
            assert inspect_distribution(path).dist.version == Version(filename_version)
        else:
            with pytest.raises(InvalidDistributionError, match="does not match the filename"):
                inspect_distribution(path)


def test_inspect_refuses_truncated_wheel(tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path, "dace", "1.0")
    wheel.write_bytes(wheel.read_bytes()[:100])
    with pytest.raises(InvalidDistributionError, match="not a readable zip archive") as error:
        inspect_distribution(wheel)
    assert "truncated" in str(error.value.hint)


def test_inspect_refuses_garbage_sdist(tmp_path: Path) -> None:
    sdist = tmp_path / "dace-1.0.tar.gz"
    sdist.write_bytes(b"not gzip at all")
    with pytest.raises(InvalidDistributionError, match="not a readable archive"):
        inspect_distribution(sdist)


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidDistributionError) as raised:
        inspect_distribution(tmp_path / "dace-1.0-py3-none-any.whl")
    assert (
        raised.value.message == "dace-1.0-py3-none-any.whl: cannot read: No such file or directory"
    )
    (tmp_path / "dace-1.0.tar.gz").mkdir()
    with pytest.raises(InvalidDistributionError) as raised:
        inspect_distribution(tmp_path / "dace-1.0.tar.gz")
    assert raised.value.message == "dace-1.0.tar.gz: cannot read: Is a directory"
