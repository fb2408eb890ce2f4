"""The server's pure parts: negotiation, ranges, validators, tokens, form parsing."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pkgindex.errors import ConfigError
from pkgindex.server.auth import token_from_authorization
from pkgindex.server.http import (
    ByteRange,
    UnsatisfiableRange,
    negotiate,
    not_modified,
    parse_range,
)
from pkgindex.server.tokens import TokenStore, verify
from pkgindex.server.uploads import FormReader, UploadRefused, check_form

JSON = "application/vnd.pypi.simple.v1+json"


@pytest.mark.parametrize(
    ("accept", "parameter", "expected"),
    [
        (None, None, "html"),
        ("", None, "html"),
        ("*/*", None, "html"),
        (JSON, None, "json"),
        ("application/vnd.pypi.simple.latest+json", None, "json"),
        ("application/*", None, "html"),  # v1+html before v1+json on a tie
        (f"text/html;q=0.5, {JSON};q=0.6", None, "json"),
        (f"TEXT/HTML;Q=0.9, {JSON};q=0.8", None, "html"),
        (f"{JSON};q=0, */*", None, "html"),
        ("text/html", JSON, "json"),  # ?format= wins
        ("image/png", None, None),
        ("text/html;q=0", None, None),
        ("text/html;q=x", None, None),
        ("*/*", "image/png", None),
    ],
)
def test_negotiate(accept: str | None, parameter: str | None, expected: str | None):
    choice = negotiate(accept, parameter)
    assert (choice.format if choice else None) == expected


def test_negotiated_content_types():
    assert negotiate("text/html").content_type == "text/html; charset=utf-8"  # type: ignore[union-attr]
    assert negotiate(JSON).content_type == JSON  # type: ignore[union-attr]
    assert negotiate("application/vnd.pypi.simple.v1+html").content_type == (  # type: ignore[union-attr]
        "application/vnd.pypi.simple.v1+html"
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-9", ByteRange(0, 9)),
        ("bytes=90-", ByteRange(90, 99)),
        ("bytes=-10", ByteRange(90, 99)),
        ("bytes=-500", ByteRange(0, 99)),
        ("bytes=50-500", ByteRange(50, 99)),
        ("bytes=0-1,5-6", None),  # multiple ranges: the whole file
        ("items=0-1", None),
        ("bytes=9-3", None),
        ("bytes=x-3", None),
    ],
)
def test_parse_range(header: str | None, expected: ByteRange | None):
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=200-300", "bytes=-0"])
def test_unsatisfiable_range(header: str):
    with pytest.raises(UnsatisfiableRange):
        parse_range(header, 100)


def test_not_modified():
    moment = datetime(2025, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    check = dict(etag='"abc"', modified=moment)
    assert not_modified(if_none_match='"x", W/"abc"', if_modified_since=None, **check)
    assert not not_modified(if_none_match='"x"', if_modified_since=None, **check)
    assert not_modified(if_none_match="*", if_modified_since=None, **check)
    assert not_modified(
        if_none_match=None, if_modified_since="Thu, 02 Jan 2025 03:04:05 GMT", **check
    )
    assert not not_modified(
        if_none_match=None, if_modified_since="Thu, 02 Jan 2025 03:04:04 GMT", **check
    )
    assert not not_modified(if_none_match=None, if_modified_since="yesterday", **check)


def test_tokens_are_stored_as_hashes(tmp_path: Path):
    store = TokenStore(tmp_path / "config" / "tokens.json")
    now = datetime(2025, 1, 1, tzinfo=UTC)
    token, record = store.create(projects=["Foo.Bar", "foo_bar", "baz"], expires_days=1, now=now)
    assert token.startswith(f"pkgindex_{record.id}_")
    assert record.projects == ("baz", "foo-bar")
    assert token not in store.path.read_text()
    assert hashlib.sha256(token.encode()).hexdigest() in store.path.read_text()
    assert store.path.stat().st_mode & 0o777 == 0o600
    records = store.records()
    assert verify(records, token, now) == ("ok", record)
    assert verify(records, token, now + timedelta(days=1)) == ("expired", record)
    assert verify(records, token + "x", now) == ("unknown", None)
    assert verify(records, "pypi-abc", now) == ("unknown", None)
    assert record.allows("foo-bar") and not record.allows("other")
    store.revoke(record.id)
    assert verify(store.records(), token, now) == ("unknown", None)
    with pytest.raises(Exception, match=f"{record.id}: no such token"):
        store.revoke(record.id)


def test_token_store_must_exist_outside_the_root(tmp_path: Path):
    with pytest.raises(ConfigError, match="no token store"):
        TokenStore(tmp_path / "missing.json").check_usable()
    inside = TokenStore(tmp_path / "index" / "tokens.json")
    inside.create()
    with pytest.raises(ConfigError, match="inside the index root"):
        inside.check_usable(tmp_path / "index")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        (b"", None),
        (b"Bearer tok", "tok"),
        (b"Basic " + base64.b64encode(b"__token__:tok"), "tok"),
        (b"Basic " + base64.b64encode(b"alice:tok"), ""),  # a user name: refused, not absent
        (b"Basic !!!", ""),
        (b"Digest x", None),
    ],
)
def test_token_from_authorization(header: bytes | None, expected: str | None):
    assert token_from_authorization(header) == expected


def _form(tmp_path: Path, body: bytes, limit: int = 1 << 20, chunk: int = 7):
    reader = FormReader("multipart/form-data; boundary=XyZ", tmp_path, limit)
    try:
        for start in range(0, len(body), chunk):  # split anywhere, as the network does
            reader.feed(body[start : start + chunk])
        return reader.finish()
    finally:
        reader.close()


def _body(content: bytes, filename: str = "a-1.0-py3-none-any.whl", **fields: str) -> bytes:
    parts = [
        f'--XyZ\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in {":action": "file_upload", **fields}.items()
    ]
    parts.append(
        b'--XyZ\r\nContent-Disposition: form-data; name="content"; filename="'
        + filename.encode()
        + b'"\r\n\r\n'
        + content
        + b"\r\n--XyZ--\r\n"
    )
    return b"".join(parts)


def test_form_reader_streams_the_file_and_its_digests(tmp_path: Path):
    content = bytes(range(256)) * 40
    form = _form(tmp_path, _body(content, classifiers="A", **{"name": "a"}))
    assert form.filename == "a-1.0-py3-none-any.whl"
    assert form.path is not None and form.path.read_bytes() == content
    assert form.size == len(content)
    assert form.digests["sha256"] == hashlib.sha256(content).hexdigest()
    assert form.digests["md5"] == hashlib.md5(content).hexdigest()
    assert form.digests["blake2_256"] == hashlib.blake2b(content, digest_size=32).hexdigest()
    assert form.field("name") == "a"
    assert check_form(form).name == "a"


def test_form_reader_limit_and_checks(tmp_path: Path):
    with pytest.raises(UploadRefused, match="larger than this server accepts") as caught:
        _form(tmp_path, _body(b"x" * 5000), limit=4096)
    assert caught.value.status == 413
    with pytest.raises(UploadRefused, match="multipart/form-data"):
        FormReader("application/json", tmp_path, 10)
    bad = _form(tmp_path, _body(b"x", sha256_digest="00"))
    with pytest.raises(UploadRefused, match="sha256_digest does not match"):
        check_form(bad)
    escaping = _form(tmp_path, _body(b"x", filename="../a-1.0-py3-none-any.whl"))
    with pytest.raises(UploadRefused, match="invalid filename"):
        check_form(escaping)
