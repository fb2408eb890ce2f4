"""The Store protocol's pure parts and the folder store's write rules."""

from __future__ import annotations

import json

import pytest

from pkgindex.errors import ConfigError, ConflictError, PkgIndexError, StaleError
from pkgindex.stores import open_store
from pkgindex.stores.base import (
    ANY,
    cache_control,
    check_key,
    content_type,
    key_kind,
)
from pkgindex.stores.local import LocalStore
from pkgindex.stores.s3 import json_root_page, parse_bucket_url

HTML, JSON = "text/html; charset=utf-8", "application/vnd.pypi.simple.v1+json"


@pytest.mark.parametrize(
    ("key", "kind", "ctype", "cache"),
    [
        ("dace/", "page-html", HTML, "public, max-age=60"),
        ("dace/index.html", "page-html", HTML, "public, max-age=60"),
        ("dace/index.json", "page-json", JSON, "public, max-age=60"),
        ("_json/dace/", "page-json", JSON, "public, max-age=60"),
        ("_json/", "page-json", JSON, "public, max-age=60"),
        ("dace/dace-1.0-py3-none-any.whl", "distribution", "application/zip",
         "public, max-age=31536000, immutable"),
        ("dace/dace-1.0.tar.gz", "distribution", "application/gzip",
         "public, max-age=31536000, immutable"),
        ("dace/dace-1.0-py3-none-any.whl.metadata", "metadata", "text/plain; charset=utf-8",
         "public, max-age=31536000, immutable"),
        ("dace/dace-1.0.zip", "distribution", "application/zip",
         "public, max-age=31536000, immutable"),
        ("", "page-html", HTML, "public, max-age=60"),
        ("index.html", "page-html", HTML, "public, max-age=60"),
        ("index.json", "page-json", JSON, "public, max-age=60"),
        ("_json/dace/index.html", "page-json", JSON, "public, max-age=60"),
        ("pkgindex.toml", "config", "text/plain; charset=utf-8", "public, max-age=60"),
        ("dace/pkgindex.toml", "other", "application/octet-stream", "public, max-age=60"),
        ("dace/notes.txt", "other", "application/octet-stream", "public, max-age=60"),
    ],
)  # fmt: skip
def test_key_kinds_have_their_headers(key, kind, ctype, cache):
    assert key_kind(key) == kind
    assert content_type(key) == ctype
    assert cache_control(key) == cache


@pytest.mark.parametrize("key", ["", "/etc/passwd", "a/../b", "a//b", "./a", ".."])
def test_keys_cannot_leave_the_root(key):
    with pytest.raises(PkgIndexError, match="not a valid path inside the index"):
        check_key(key)


def test_json_root_pages_point_back_to_the_project_folder():
    page = json.dumps({"name": "dace", "files": [{"url": "dace-1.0.tar.gz"},
                                                {"url": "https://elsewhere/x.whl"}]})  # fmt: skip
    rewritten = json.loads(json_root_page(page.encode(), "dace"))
    assert [f["url"] for f in rewritten["files"]] == [
        "../../dace/dace-1.0.tar.gz",
        "https://elsewhere/x.whl",
    ]


def test_bucket_urls():
    assert parse_bucket_url("s3://bucket") == ("bucket", "")
    assert parse_bucket_url("s3://bucket/a/simple/") == ("bucket", "a/simple/")
    for wrong in ("s3:///x", "s3://bucket/x?versionId=1", "s3://bucket/../x"):
        with pytest.raises((ConfigError, PkgIndexError)):
            parse_bucket_url(wrong)


def test_open_store_gives_a_folder_store_for_a_path(tmp_path):
    store = open_store(tmp_path)
    assert isinstance(store, LocalStore) and store.location == str(tmp_path)


@pytest.mark.parametrize("atomic", [True, False])
def test_create_never_overwrites(tmp_path, atomic):
    store = LocalStore(tmp_path)
    assert store.create("a/a-1.0.tar.gz", b"one", atomic=atomic) is True  # makes the folder
    assert store.create("a/a-1.0.tar.gz", b"one", atomic=atomic) is False
    with pytest.raises(
        ConflictError, match=r"a/a-1\.0\.tar\.gz: the index already has a different"
    ):
        store.create("a/a-1.0.tar.gz", b"two", atomic=atomic)
    assert (tmp_path / "a" / "a-1.0.tar.gz").read_bytes() == b"one"
    assert store.create("a/b.metadata", b"", atomic=atomic) is True
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["a-1.0.tar.gz", "b.metadata"]


def test_replace_is_conditional_on_the_etag_read(tmp_path):
    store = LocalStore(tmp_path)
    assert store.replace("a/index.json", b"{}", etag=None) is True
    with pytest.raises(StaleError):
        store.replace("a/index.json", b"{1}", etag=None)  # it exists now
    read = store.read("a/index.json")
    assert read is not None and read.data == b"{}"
    assert store.replace("a/index.json", b"{}", etag=read.etag) is False  # same bytes
    assert store.replace("a/index.json", b"{2}", etag=read.etag) is True
    with pytest.raises(StaleError):
        store.replace("a/index.json", b"{3}", etag=read.etag)  # changed since it was read
    assert store.replace("a/index.json", b"{4}", etag=ANY) is True
    assert (tmp_path / "a" / "index.json").read_bytes() == b"{4}"
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.endswith(".tmp")]


def test_a_linked_project_folder_is_refused(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "foo").symlink_to(tmp_path / "elsewhere")
    store = LocalStore(tmp_path / "root")
    with pytest.raises(PkgIndexError, match="foo/: a symbolic link"):
        store.create("foo/foo-1.0.tar.gz", b"x")
    with pytest.raises(PkgIndexError, match="foo/: a symbolic link"):
        store.create("foo/foo-1.0.tar.gz", b"x", atomic=False)
    listing = store.list_folder("foo", sized=lambda _name: True)
    assert listing is not None and "foo/: a symbolic link" in listing.problems[0].message
    assert list((tmp_path / "elsewhere").iterdir()) == []
