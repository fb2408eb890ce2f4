"""Hostile and malformed input: every case is one of our errors, naming the file (issue 7)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from packaging.utils import NormalizedName

from pkgindex.errors import IntegrityError, InvalidDistributionError
from pkgindex.index import archive
from pkgindex.index.catalog import project_from_json, root_state
from pkgindex.index.distfile import (
    check_metadata,
    parse_filename,
    preference_conflict,
    read_metadata,
)
from pkgindex.index.html import render_project_html
from pkgindex.index.model import IndexFile, Project, SiteInfo
from tests import hostile


def read(made: hostile.Made) -> bytes | None:
    filename, data = made
    dist = parse_filename(filename)
    metadata = read_metadata(io.BytesIO(data), dist)
    if metadata is not None:
        check_metadata(dist, metadata)
    return metadata


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (hostile.non_ascii_name, "metadata name 'bäd' does not match the filename's 'bad'"),
        (hostile.invalid_utf8_metadata, "its core metadata is not valid UTF-8"),
        (hostile.encrypted_member, "bad-1.0.dist-info/METADATA is encrypted"),
        (hostile.unsupported_compression, "uses zip compression method 99"),
        (hostile.corrupt_stream, "cannot decompress bad-1.0.dist-info/METADATA (Error -3"),
        (hostile.corrupt_lzma, "cannot decompress bad-1.0.dist-info/METADATA (Corrupt input"),
        (hostile.tiny_tar_gz, "bad-1.0.tar.gz: not a readable archive"),
        (hostile.two_dist_info, "the wheel has 2 .dist-info folders"),
        (hostile.duplicate_metadata, "holds bad-1.0.dist-info/METADATA 2 times"),
    ],
    ids=lambda value: getattr(value, "__name__", "")[:20],
)
def test_malformed_archive_is_refused(make: Callable[[], hostile.Made], words: str) -> None:
    with pytest.raises(InvalidDistributionError) as error:
        read(make())
    assert error.value.message.startswith(make()[0] + ": ")
    assert words in error.value.message
    assert error.value.hint


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (hostile.metadata_bomb, "METADATA is 33554497 bytes; the limit is 4194304 (4 MiB)"),
        (hostile.pkg_info_bomb, "PKG-INFO is 33554497 bytes; the limit is 4194304"),
        (hostile.long_name_header_bomb, "an extension header of 33554432 bytes"),
        (hostile.ratio_bomb, "(more than 200 times)"),
    ],
    ids=lambda value: getattr(value, "__name__", "")[:20],
)
def test_bomb_is_refused(make: Callable[[int], hostile.Made], words: str) -> None:
    """32 MiB bombs here; the integration tests run 256 MiB ones under a memory limit."""
    with pytest.raises(InvalidDistributionError) as error:
        read(make(32 * hostile.MiB))
    assert words in error.value.message


def test_lying_size_is_not_believed() -> None:
    with pytest.raises(InvalidDistributionError, match="Bad CRC-32"):
        read(hostile.lying_size_bomb(32 * hostile.MiB))


def test_too_many_members_are_refused() -> None:
    with pytest.raises(InvalidDistributionError, match=r"100002 members \(the limit is 100000\)"):
        read(hostile.many_members(archive.MAX_MEMBERS + 1))


def test_huge_zip_directory_is_refused_before_parsing() -> None:
    filename, data = hostile.wheel()
    end = data.rindex(b"PK\x05\x06")
    forged = data[: end + 12] + (17 << 20).to_bytes(4, "little") + data[end + 16 :]
    with pytest.raises(InvalidDistributionError, match="the zip directory is 17825792 bytes"):
        read((filename, forged))


def test_metadata_at_the_limit_is_read() -> None:
    words = " ".join(str(number * 7919) for number in range(500_000))  # compresses ~2.5 times
    text = hostile.metadata(extra="Description: " + words)[: archive.MAX_METADATA_SIZE]
    assert len(text) == archive.MAX_METADATA_SIZE
    assert read(hostile.wheel(meta=text)) == text


def test_long_filename_limit() -> None:
    assert read(hostile.long_name(246)) is not None
    with pytest.raises(InvalidDistributionError, match="247 characters is too long"):
        parse_filename(hostile.long_name(247)[0])


def test_huge_version_number_is_refused() -> None:
    with pytest.raises(InvalidDistributionError, match="5021 characters is too long"):
        parse_filename(f"bad-{'9' * 5000}-py3-none-any.whl")
    with pytest.raises(InvalidDistributionError, match="metadata version"):
        read(hostile.wheel(meta=hostile.metadata(version="9" * 5000)))


# --- the catalog ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"size": 1e400}, "size inf is not a whole number of bytes"),
        ({"size": "10"}, "size '10' is not a whole number"),
        ({"size": True}, "size True is not a whole number"),
        ({"hashes": {"sha256": '"><script>alert(1)</script>'}}, "is not 64 hex digits"),
        ({"core-metadata": {"sha256": 'x" onmouseover="alert(1)'}}, "is not 64 hex digits"),
        ({"core-metadata": "yes"}, "'core-metadata' must be an object"),
        ({"upload-time": "yesterday"}, "Invalid isoformat string"),
        ({"upload-time": 5}, "'upload-time' must be a JSON string"),
        ({"requires-python": "<script>"}, "Invalid specifier"),
        ({"yanked": {"a": 1}}, "'yanked' must be true, false or a reason"),
        ({"filename": "../../etc/passwd"}, "may only contain letters"),
        ({"_pkgindex": {"provenance": "x"}}, "provenance must be an object"),
    ],
)
def test_tampered_catalog_value_is_refused(change: dict[str, object], words: str) -> None:
    page = hostile.catalog_page("bad", change)
    with pytest.raises(IntegrityError) as error:
        project_from_json(page, name=NormalizedName("bad"), origin="bad/index.json")
    assert error.value.message.startswith("bad/index.json: the catalog page is damaged (")
    assert words in error.value.message


@pytest.mark.parametrize(
    "page",
    [
        hostile.deep_json(100_000),
        hostile.deep_json(20),
        b"[]",
        b"null",
        b'{"name": "bad", "files": {}}',
        b"\xff",
        b" " * (64 << 20) + b"{}",
    ],
    ids=["deep", "deeper-than-16", "list", "null", "files-object", "binary", "huge"],
)
def test_malformed_catalog_is_refused(page: bytes) -> None:
    with pytest.raises(IntegrityError, match=r"^bad/index.json: the catalog page is damaged"):
        project_from_json(page, name=NormalizedName("bad"), origin="bad/index.json")


def test_damaged_root_state_is_ignored() -> None:
    assert root_state(hostile.deep_json()).names == ()
    hostile_names = json.dumps({"projects": [{"name": "<script>"}]}).encode()
    assert root_state(hostile_names).names == ()
    assert root_state(json.dumps({"projects": [{"name": "ok"}]}).encode()).names == ("ok",)


def test_every_value_in_html_is_escaped() -> None:
    """The renderer escapes even values the catalog reader would refuse."""
    attack = '"><script>alert(1)</script>'
    file = IndexFile(
        filename="bad-1.0-py3-none-any.whl",
        version="1.0",
        sha256=attack,
        size=1,
        upload_time=datetime(2024, 1, 1, tzinfo=UTC),
        requires_python=attack,
        metadata_sha256=attack,
        yanked=attack,
        provenance={
            "source": attack,
            "commit": attack,
            "ref": attack,
            "url": f"https://x/{attack}",
        },
    )
    page = render_project_html(
        Project(name=NormalizedName("bad"), files=(file,)), SiteInfo(title=attack, url=attack)
    ).decode()
    assert page.count("<script") == 1 and "<script>alert" not in page  # only the page's own
    assert page.count("&lt;script&gt;") >= 8


# --- installers' preference (item 10) -------------------------------------------------------


@pytest.mark.parametrize(
    ("new", "published", "reason"),
    [
        ("bar-2.0-1-py3-none-any.whl", "bar-2.0-py3-none-any.whl", "a higher build tag"),
        ("bar-2.0.0-py3-none-any.whl", "bar-2.0-py3-none-any.whl",
         "the same tags under another spelling of the name or version"),
        ("bar-2.0-py2.py3-none-any.whl", "bar-2.0-py3-none-any.whl", "the same tags"),
        ("bar-2.0.0.tar.gz", "bar-2.0.tar.gz", "a second sdist of the version"),
        ("bar-2.0.zip", "bar-2.0.tar.gz", "a second sdist of the version"),
        ("bar-2.0-py3-none-any.whl", "bar-2.0-py3-none-any.whl", None),
        ("bar-2.0-py3-none-any.whl", "bar-2.0-1-py3-none-any.whl", None),
        ("bar-2.0-cp312-cp312-linux_x86_64.whl", "bar-2.0-py3-none-any.whl", None),
        ("bar-2.1-py3-none-any.whl", "bar-2.0-py3-none-any.whl", None),
        ("bar-2.0-py3-none-any.whl", "bar-2.0.tar.gz", None),
        ("bar-2.0.tar.gz", "bar-2.0-py3-none-any.whl", None),
    ],
)  # fmt: skip
def test_preference_conflict(new: str, published: str, reason: str | None) -> None:
    assert preference_conflict(new, published) == reason
