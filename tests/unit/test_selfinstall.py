"""What a generated workflow installs, from how pkgindex was installed (PEP 610)."""

from __future__ import annotations

from pathlib import Path

from pkgindex import __version__
from pkgindex.github.selfinstall import origin_from_direct_url


def test_from_a_package_index_or_an_archive_url() -> None:
    assert origin_from_direct_url(None).requirement == f"pkgindex=={__version__}"
    origin = origin_from_direct_url({"url": "https://x/p.whl", "archive_info": {}})
    assert origin.requirement == "pkgindex @ https://x/p.whl"


def test_from_git_is_pinned_to_the_commit() -> None:
    origin = origin_from_direct_url(
        {
            "url": "https://github.com/example/pkgindex.git",
            "vcs_info": {"vcs": "git", "commit_id": "0123456789abcdef" * 2 + "01234567"},
        }
    )
    assert origin.requirement == (
        "pkgindex @ git+https://github.com/example/pkgindex.git"
        "@0123456789abcdef0123456789abcdef01234567"
    )
    assert origin.local is None


def test_from_an_archive_keeps_its_hash() -> None:
    origin = origin_from_direct_url(
        {
            "url": "https://example.org/pkgindex-0.1.0.tar.gz",
            "archive_info": {"hashes": {"sha256": "ab"}},
        }
    )
    assert origin.requirement == "pkgindex @ https://example.org/pkgindex-0.1.0.tar.gz#sha256=ab"


def test_from_a_local_folder_or_file_needs_a_hosted_wheel() -> None:
    for record in (
        {"url": "file:///home/me/pkgindex", "dir_info": {"editable": True}},
        {"url": "file:///home/me/pkgindex", "dir_info": {}},
        {"url": "file:///tmp/pkgindex-0.1.0-py3-none-any.whl", "archive_info": {}},
        {"url": "file:///srv/pkgindex.git", "vcs_info": {"vcs": "git", "commit_id": "ab"}},
    ):
        origin = origin_from_direct_url(record)
        assert origin.requirement is None
        assert origin.local == Path(record["url"].removeprefix("file://"))  # type: ignore[union-attr]
