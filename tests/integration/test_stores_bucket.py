"""An index in an S3 bucket: a real S3 HTTP API (moto's server) on loopback, real pip and uv.

The same wheels go into a folder and into a bucket; the pages must be byte-identical, pip must
install through the bucket's HTML root and uv through its JSON root, with no server of ours in
between, and ``sync`` must copy an index both ways.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from email.message import Message
from pathlib import Path

import pytest
from tests.integration.conftest import run_pkgindex
from tests.integration.s3_fixtures import S3Server

EPOCH = "1767225600"  # 2026-01-01: the same upload times in the folder and the bucket
PROJECTS = {"alpha": ["1.0"], "beta": ["1.0", "2.0"], "gamma": ["1.0", "2.0"]}


def wheels(make_wheel, out: Path) -> list[Path]:
    made = [make_wheel(out, "alpha", "1.0", requires_dist=["beta>=1"])]
    made.append(make_wheel(out, "beta", "1.0"))
    made.append(make_wheel(out, "beta", "2.0", requires_python=">=3.99"))
    made += [make_wheel(out, "gamma", version) for version in PROJECTS["gamma"]]
    return made


def cli(server: S3Server, *args: str | Path, env: dict[str, str] | None = None):
    return run_pkgindex(*args, env={**server.env, "SOURCE_DATE_EPOCH": EPOCH, **(env or {})})


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def get(url: str) -> tuple[bytes, Message]:
    """An anonymous GET, as pip or a browser would send it (headers: case-insensitive)."""
    with urllib.request.urlopen(url, timeout=30) as reply:
        return reply.read(), reply.headers


def bucket_objects(server: S3Server, bucket: str, prefix: str) -> dict[str, bytes]:
    client = server.client()
    keys = [
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", ())
    ]
    return {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


@pytest.fixture(scope="module")
def twin(s3_server, make_wheel, tmp_path_factory):
    """The same index built in a folder and in a bucket: (folder, "s3://bucket/simple", bucket)."""
    built = wheels(make_wheel, tmp_path_factory.mktemp("wheels"))
    folder = tmp_path_factory.mktemp("folder-index")
    bucket = s3_server.new_bucket()
    root = f"s3://{bucket}/simple"
    for target in (str(folder), root):
        ok(cli(s3_server, "add", *built, "--root", target))
        ok(cli(s3_server, "yank", "gamma", "2.0", "--reason", "broken", "--root", target))
    return folder, root, bucket


def test_pages_are_byte_identical_to_the_folder_store(s3_server, twin):
    folder, _root, bucket = twin
    objects = bucket_objects(s3_server, bucket, "simple/")
    for name in PROJECTS:
        for page in ("index.html", "index.json"):
            assert objects[f"simple/{name}/{page}"] == (folder / name / page).read_bytes()
        assert objects[f"simple/{name}/"] == (folder / name / "index.html").read_bytes()
    assert objects["simple/index.html"] == (folder / "index.html").read_bytes()
    assert objects["simple/index.json"] == (folder / "index.json").read_bytes()
    wheel = "alpha/alpha-1.0-py3-none-any.whl"
    assert objects[f"simple/{wheel}"] == (folder / wheel).read_bytes()
    assert objects[f"simple/{wheel}.metadata"] == (folder / f"{wheel}.metadata").read_bytes()


def test_objects_carry_content_type_and_cache_control(s3_server, twin):
    _folder, _root, bucket = twin
    base = f"{s3_server.url}/{bucket}/simple"
    page, headers = get(f"{base}/gamma/")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "public, max-age=60"
    assert b'data-yanked="broken"' in page
    document, headers = get(f"{base}/_json/gamma/")
    assert headers["Content-Type"] == "application/vnd.pypi.simple.v1+json"
    urls = [entry["url"] for entry in json.loads(document)["files"]]
    assert urls == [f"../../gamma/gamma-{v}-py3-none-any.whl" for v in ("1.0", "2.0")]
    _, headers = get(f"{base}/gamma/gamma-1.0-py3-none-any.whl")
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    _, headers = get(f"{base}/_json/")
    assert headers["Content-Type"] == "application/vnd.pypi.simple.v1+json"


def test_warm_generate_reads_only_the_catalog_and_writes_nothing(s3_server, twin):
    _folder, root, _bucket = twin
    before = s3_server.requests()
    report = json.loads(ok(cli(s3_server, "generate", root, "--json")).stdout)
    after = s3_server.requests()
    assert report["written"] == [] and report["indexed"] == []
    assert after.get("PUT", 0) == before.get("PUT", 0)
    # one flat listing (a request per 1,000 objects), the root page, pkgindex.toml; a HEAD
    assert after["GET"] - before["GET"] == 3
    assert after["HEAD"] - before["HEAD"] == 1


def test_add_to_a_bucket_is_immutable(s3_server, twin, make_wheel, tmp_path):
    _folder, root, bucket = twin
    again = ok(cli(s3_server, "add", "--root", root, make_wheel(tmp_path, "beta", "1.0")))
    assert "unchanged beta-1.0-py3-none-any.whl" in again.stdout
    other = make_wheel(tmp_path / "other", "beta", "1.0", payload=b"other bytes")
    refused = cli(s3_server, "add", "--root", root, other)
    assert refused.returncode == 1
    assert "beta-1.0-py3-none-any.whl: the index already has a different file" in refused.stderr
    key = "simple/beta/beta-1.0-py3-none-any.whl"
    stored = s3_server.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    assert stored == (tmp_path / "beta-1.0-py3-none-any.whl").read_bytes()


def test_adding_one_file_makes_a_constant_number_of_requests(s3_server, make_wheel, tmp_path):
    bucket = s3_server.new_bucket()
    root = f"s3://{bucket}/simple"
    many = [make_wheel(tmp_path / "many", f"p{n:03d}", "1.0") for n in range(30)]
    ok(cli(s3_server, "add", "--root", root, *many))
    before = s3_server.requests()
    ok(cli(s3_server, "add", "--root", root, make_wheel(tmp_path, "p007", "2.0")))
    after = s3_server.requests()
    used = sum(after.values()) - sum(before.values())
    assert used <= 25, (before, after)  # and never one per project of the bucket


@pytest.mark.slow
def test_pip_installs_from_the_bucket_html_root(s3_server, twin, fresh_venv, client_env):
    _folder, _root, bucket = twin
    venv = fresh_venv()
    url = f"{s3_server.url}/{bucket}/simple/"
    command = [sys.executable, "-m", "pip", "--python", str(venv.python), "install",
               "--isolated", "--no-cache-dir", "--index-url", url, "alpha", "gamma"]  # fmt: skip
    ok(subprocess.run(command, capture_output=True, text=True, env=client_env, timeout=300))
    assert venv.installed() == {"alpha": "1.0", "beta": "1.0", "gamma": "1.0"}


@pytest.mark.slow
def test_uv_installs_from_the_bucket_json_root(s3_server, twin, fresh_venv, client_env):
    from uv import find_uv_bin

    _folder, _root, bucket = twin
    venv = fresh_venv()
    url = f"{s3_server.url}/{bucket}/simple/_json/"
    command = [find_uv_bin(), "pip", "install", "--python", str(venv.python), "--no-cache",
               "--index-url", url, "alpha"]  # fmt: skip
    ok(subprocess.run(command, capture_output=True, text=True, env=client_env, timeout=300))
    assert venv.installed() == {"alpha": "1.0", "beta": "1.0"}


def test_sync_both_ways(s3_server, twin, tmp_path):
    folder, _root, _bucket = twin
    bucket = s3_server.new_bucket()
    mirror = f"s3://{bucket}/mirror"
    first = json.loads(ok(cli(s3_server, "sync", folder, mirror, "--json")).stdout)
    assert len(first["copied"]) == 10 and first["present"] == 0  # 5 wheels, 5 metadata files
    second = json.loads(ok(cli(s3_server, "sync", folder, mirror, "--json")).stdout)
    assert second["copied"] == [] and second["present"] == 5 and second["pages"] == []
    back = tmp_path / "back"
    back.mkdir()
    ok(cli(s3_server, "sync", mirror, back))
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            assert (back / path.relative_to(folder)).read_bytes() == path.read_bytes(), path
    warm = json.loads(ok(cli(s3_server, "generate", back, "--json")).stdout)
    assert warm["written"] == []


def test_missing_bucket_is_a_clear_error(s3_server):
    result = cli(s3_server, "generate", "s3://no-such-bucket-here/simple")
    assert result.returncode == 1
    assert "error: s3://no-such-bucket-here: no such bucket" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_endpoint_is_a_clear_error(s3_server):
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens
    result = cli(s3_server, "generate", "s3://bucket/simple", env={"AWS_ENDPOINT_URL": dead})
    assert result.returncode == 1
    assert "Could not connect to the endpoint URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_publish_into_a_bucket(s3_server, make_wheel, tmp_path):
    bucket = s3_server.new_bucket()
    root = f"s3://{bucket}/simple"
    wheel = make_wheel(tmp_path, "pushed", "1.0")
    env = {"GITHUB_REPOSITORY": "acme/pushed", "GITHUB_SHA": "f" * 40}
    report = json.loads(
        ok(cli(s3_server, "publish", wheel, "--root", root, "--json", env=env)).stdout
    )
    assert report["added"] == [wheel.name] and report["root"] == root
    page = s3_server.client().get_object(Bucket=bucket, Key="simple/pushed/index.json")
    entry = json.loads(page["Body"].read())["files"][0]
    assert entry["_pkgindex"]["provenance"]["commit"] == "f" * 40


@pytest.mark.slow
def test_update_publishes_into_a_bucket_without_git(s3_server, tmp_path):
    from tests.integration.pull_helpers import make_source, update_argv

    make_source(tmp_path, "acme", "widgets", name="widgets", module="widgets")
    bucket = s3_server.new_bucket()
    root = f"s3://{bucket}/simple"
    argv = update_argv(tmp_path, tmp_path / "unused", "widgets", "v1.0.0")
    argv[argv.index("--root") + 1] = root
    first = json.loads(ok(cli(s3_server, *argv, "--json")).stdout)
    assert first["pushed"] is True and first["index_commit"] is None
    key = "simple/widgets/widgets-1.0.0-py3-none-any.whl"
    assert s3_server.client().head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    again = json.loads(ok(cli(s3_server, *argv, "--json")).stdout)
    assert again["up_to_date"] is True


def test_a_cold_run_on_many_folders_writes_what_a_folder_gets(s3_server, corpus, tmp_path):
    """Enough files to read in worker processes and folders to write from threads: what the
    workers read comes back to the command, which writes the bucket."""
    source = corpus(tmp_path / "corpus", projects=70, versions=1)
    bucket = s3_server.new_bucket()
    client = s3_server.client()
    for path in sorted(source.rglob("*.whl")):
        key = f"simple/{path.relative_to(source).as_posix()}"
        client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    ok(cli(s3_server, "generate", "--root", f"s3://{bucket}/simple"))
    ok(cli(s3_server, "generate", "--root", source))
    objects = bucket_objects(s3_server, bucket, "simple/")
    written = {
        path.relative_to(source).as_posix(): path.read_bytes()
        for path in source.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    }
    assert sum(name.endswith(".metadata") for name in written) == 70
    for name, data in written.items():
        assert objects[f"simple/{name}"] == data, name
