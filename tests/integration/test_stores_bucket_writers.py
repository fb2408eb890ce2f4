"""Many writers and faults against one bucket (a real S3 API on loopback, moto's server).

No lock server: conditional writes (If-None-Match on files, If-Match on pages) must make every
concurrent ``add`` land, and faults (throttling, server errors, refused credentials, a dead
endpoint) must give a clear error, leave the index valid, and let a re-run complete the job.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.integration.conftest import pkgindex_environment
from tests.integration.s3_fixtures import S3Server, start_server, stop_server
from tests.simple_html import parse_page

SECRET = "testing-secret-never-printed"


def spawn(server: S3Server, *args: str | Path, env: dict[str, str] | None = None):
    return subprocess.Popen(
        [sys.executable, "-m", "pkgindex", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**pkgindex_environment(), **server.env, **(env or {})},
    )


def run(server: S3Server, *args: str | Path, env: dict[str, str] | None = None):
    process = spawn(server, *args, env=env)
    try:
        stdout, stderr = process.communicate(timeout=300)
    finally:
        process.kill()
        process.wait()
    return process.returncode, stdout, stderr


def assert_valid(server: S3Server, bucket: str, prefix: str) -> dict[str, list[str]]:
    """Every page parses, HTML and JSON list the same files, every listed file is there.
    Returns the files listed per project."""
    client = server.client()

    def get(key: str) -> bytes:
        return client.get_object(Bucket=bucket, Key=f"{prefix}/{key}")["Body"].read()

    keys = {
        item["Key"][len(prefix) + 1 :]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", ())
    }
    root = json.loads(get("index.json"))
    listed: dict[str, list[str]] = {}
    for project in root["projects"]:
        name = project["name"]
        document = json.loads(get(f"{name}/index.json"))
        files = [entry["filename"] for entry in document["files"]]
        anchors = [text for _attrs, text in parse_page(get(f"{name}/index.html")).anchors]
        assert sorted(anchors) == sorted(files), name
        assert get(f"{name}/") == get(f"{name}/index.html")
        assert len(files) == len(set(files)), f"{name}: a file listed twice"
        for filename in files:
            assert f"{name}/{filename}" in keys, f"{name}/{filename}: listed but missing"
        listed[name] = files
    return listed


@pytest.mark.slow
def test_thirty_concurrent_adds_all_land(s3_server, make_wheel, tmp_path):
    bucket = s3_server.new_bucket()
    root = f"s3://{bucket}/simple"
    distinct = [make_wheel(tmp_path / "d", "crowd", f"1.{n}") for n in range(10)]
    distinct += [make_wheel(tmp_path / "d", f"solo{n}", "1.0") for n in range(10)]
    same = make_wheel(tmp_path / "s", "crowd", "2.0")
    processes = [spawn(s3_server, "add", "--root", root, path) for path in distinct]
    processes += [spawn(s3_server, "add", "--root", root, same) for _ in range(10)]
    outcomes = []
    try:
        for process in processes:
            outcomes.append((process.wait(timeout=600), *process.communicate()))
    finally:
        for process in processes:
            process.kill()
            process.wait()
    for status, stdout, stderr in outcomes:
        assert status == 0, f"{stdout}\n{stderr}"
    same_outcomes = [stdout for _status, stdout, _stderr in outcomes[20:]]
    assert sum("added crowd-2.0" in out for out in same_outcomes) >= 1
    listed = assert_valid(s3_server, bucket, "simple")
    assert sorted(listed) == ["crowd", *(f"solo{n}" for n in range(10))]
    expected = [*sorted(p.name for p in distinct if p.name.startswith("crowd")), same.name]
    assert sorted(listed["crowd"]) == sorted(expected)


def test_throttling_is_retried(s3_server, make_wheel, tmp_path):
    bucket = s3_server.new_bucket()
    root = f"s3://{bucket}/simple"
    s3_server.inject({"method": "PUT", "path": bucket, "status": 503, "code": "SlowDown",
                      "count": 3})  # fmt: skip
    status, stdout, stderr = run(s3_server, "add", "--root", root, make_wheel(tmp_path, "a", "1.0"))
    assert status == 0, stderr
    assert "added a-1.0-py3-none-any.whl" in stdout
    assert_valid(s3_server, bucket, "simple")


def test_server_errors_leave_a_valid_index_and_a_rerun_completes(s3_server, make_wheel, tmp_path):
    bucket = s3_server.new_bucket()
    root = f"s3://{bucket}/simple"
    first = make_wheel(tmp_path, "a", "1.0")
    assert run(s3_server, "add", "--root", root, first)[0] == 0
    second = make_wheel(tmp_path, "a", "2.0")
    # every page write fails, after the retries: the file is stored, the pages are not
    s3_server.inject({"method": "PUT", "path": "/a/index.html", "status": 500,
                      "code": "InternalError", "count": 100})  # fmt: skip
    status, _stdout, stderr = run(s3_server, "add", "--root", root, second)
    s3_server.inject()
    assert status == 1
    assert "simple/a/index.html: the S3 server answered InternalError" in stderr
    assert "Traceback" not in stderr
    assert assert_valid(s3_server, bucket, "simple") == {"a": [first.name]}
    status, stdout, stderr = run(s3_server, "add", "--root", root, second)
    assert status == 0, stderr
    assert f"added {second.name}" in stdout  # present but unlisted: listed now
    assert assert_valid(s3_server, bucket, "simple") == {"a": [first.name, second.name]}


def test_refused_credentials_are_a_clear_error_without_the_secret(make_wheel, tmp_path):
    server = start_server("--auth")  # moto knows no IAM user: every signature is refused
    try:
        status, stdout, stderr = run(
            server, "add", "--root", "s3://bucket/simple", make_wheel(tmp_path, "a", "1.0")
        )
    finally:
        stop_server(server.process)
    assert status == 1
    assert "access denied (InvalidAccessKeyId)" in stderr
    assert "hint: check the credentials" in stderr
    assert SECRET not in stdout + stderr and "Traceback" not in stderr


def test_a_stopped_server_is_a_clear_error(make_wheel, tmp_path):
    server = start_server()
    bucket = server.new_bucket()
    stop_server(server.process)
    status, _stdout, stderr = run(
        server, "add", "--root", f"s3://{bucket}/simple", make_wheel(tmp_path, "a", "1.0"),
        env={"AWS_MAX_ATTEMPTS": "2"},
    )  # fmt: skip
    assert status == 1
    assert f"error: s3://{bucket}/simple" in stderr and "Could not connect" in stderr
    assert "hint: check that the endpoint is reachable" in stderr
    assert "Traceback" not in stderr and os.environ.get("AWS_SECRET_ACCESS_KEY") != SECRET
