"""`pkgindex serve` over a bucket root (moto's S3 API on loopback): reads, an upload, and a
second replica on the same bucket that sees the upload within the page TTL."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import wheel_bytes
from tests.integration.conftest import run_pkgindex
from tests.integration.s3_fixtures import S3Server
from tests.integration.server_helpers import fetch, running_server, upload
from tests.integration.test_server_upload import create_token

V1_JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}
BUCKET_PAGE_TTL = 1.0


def files_of(reply) -> list[str]:
    assert reply.status == 200, reply.body
    return [entry["filename"] for entry in reply.json()["files"]]


def test_serve_a_bucket_with_two_replicas(s3_server: S3Server, make_wheel, tmp_path: Path):
    root = f"s3://{s3_server.new_bucket()}/simple"
    wheel = make_wheel(tmp_path, "alpha", "1.0")
    added = run_pkgindex("add", wheel, "--root", root, env=s3_server.env)
    assert added.returncode == 0, added.stderr
    tokens = tmp_path / "tokens.json"
    token = create_token(tokens, "--project", "alpha")
    with (
        running_server(root, tokens, log=tmp_path / "a.log", env=s3_server.env) as first,
        running_server(root, tokens, log=tmp_path / "b.log", env=s3_server.env) as second,
    ):
        assert files_of(fetch(f"{second.simple}alpha/", headers=V1_JSON)) == [wheel.name]
        html = fetch(f"{first.simple}alpha/")
        assert html.headers["content-type"] == "text/html; charset=utf-8"
        assert wheel.name.encode() in html.body
        download = fetch(f"{first.simple}alpha/{wheel.name}")
        assert download.body == wheel.read_bytes()
        part = fetch(f"{first.simple}alpha/{wheel.name}", headers={"Range": "bytes=5-14"})
        assert (part.status, part.body) == (206, wheel.read_bytes()[5:15])
        assert fetch(f"{first.simple}gamma/").status == 404

        content = wheel_bytes("alpha", "2.0")
        reply = upload(first, "alpha-2.0-py3-none-any.whl", content, token=token)
        assert reply.status == 200, reply.body
        assert "alpha-2.0-py3-none-any.whl" in files_of(
            fetch(f"{first.simple}alpha/", headers=V1_JSON)
        )  # the replica that took the upload: at once
        started = time.monotonic()
        while "alpha-2.0-py3-none-any.whl" not in files_of(
            fetch(f"{second.simple}alpha/", headers=V1_JSON)
        ):
            assert time.monotonic() - started < BUCKET_PAGE_TTL + 1, "stale beyond the TTL"
            time.sleep(0.05)
        assert fetch(f"{second.simple}alpha/alpha-2.0-py3-none-any.whl").body == content
        other = wheel_bytes("alpha", "2.0", payload=b"other bytes")
        conflict = upload(second, "alpha-2.0-py3-none-any.whl", other, token=token)
        assert conflict.status == 409, conflict.body
        assert conflict.body.startswith(b"409 Conflict: File already exists")
    client = s3_server.client()
    bucket = root.removeprefix("s3://").split("/")[0]
    stored = client.get_object(Bucket=bucket, Key="simple/alpha/alpha-2.0-py3-none-any.whl")
    assert stored["Body"].read() == content
