"""`pkgindex serve`, uploading: twine and uv publish with scoped tokens, hostile uploads,
concurrent uploads with two workers, and a restart that serves the same index."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.conftest import wheel_bytes
from tests.integration.conftest import client_install, run_pkgindex
from tests.integration.server_helpers import (
    Reply,
    Server,
    basic,
    fetch,
    multipart,
    running_server,
    upload,
)
from uv import find_uv_bin

V1_JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


def make_index(root: Path) -> Path:
    root.mkdir(parents=True)
    generated = run_pkgindex("generate", root)
    assert generated.returncode == 0, generated.stderr
    return root


def create_token(tokens: Path, *options: str) -> str:
    made = run_pkgindex("token", "create", "--tokens", tokens, "--json", *options)
    assert made.returncode == 0, made.stderr
    token: str = json.loads(made.stdout)["token"]
    return token


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def project_files(server: Server, project: str) -> list[str]:
    reply = fetch(f"{server.simple}{project}/", headers=V1_JSON)
    assert reply.status == 200, reply.body
    document = reply.json()
    assert isinstance(document, dict)
    return [entry["filename"] for entry in document["files"]]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("uploads")
    root = make_index(base / "index")
    tokens = base / "private" / "tokens.json"
    scoped = create_token(tokens, "--project", "Alpha")
    other = create_token(tokens, "--project", "beta")
    expired = create_token(tokens, "--project", "alpha", "--expires", "0")
    with running_server(root, tokens, "--max-upload", "1") as server:
        yield {
            "root": root,
            "server": server,
            "tokens": tokens,
            "scoped": scoped,
            "other": other,
            "expired": expired,
            "base": base,
        }


def test_token_store_holds_only_hashes(site):
    text = site["tokens"].read_text()
    assert site["scoped"] not in text
    assert hashlib.sha256(site["scoped"].encode()).hexdigest() in text
    assert site["tokens"].stat().st_mode & 0o777 == 0o600
    listed = run_pkgindex("token", "list", "--tokens", site["tokens"])
    assert listed.returncode == 0
    assert len(listed.stdout.splitlines()) == 3
    assert "alpha" in listed.stdout and "expired" in listed.stdout
    assert site["scoped"] not in listed.stdout


@pytest.mark.slow
def test_twine_upload_then_pip_installs(site, tmp_path, make_wheel, fresh_venv, client_env):
    server: Server = site["server"]
    wheel = make_wheel(tmp_path, "alpha", "1.0")
    command = [
        sys.executable,
        "-m",
        "twine",
        "upload",
        "--disable-progress-bar",
        "--repository-url",
        server.legacy,
        "-u",
        "__token__",
        "-p",
        site["scoped"],
        str(wheel),
    ]
    env = {**client_env, "TWINE_NON_INTERACTIVE": "1"}
    for attempt in range(2):  # the same bytes again is a success, not an error
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert result.returncode == 0, f"attempt {attempt}: {result.stdout}{result.stderr}"
    assert project_files(server, "alpha") == [wheel.name]
    other = make_wheel(tmp_path / "other", "alpha", "1.0", payload=b"different")
    refused = subprocess.run(
        [*command[:-1], "--verbose", str(other)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert refused.returncode == 1
    assert "409 Conflict" in refused.stdout + refused.stderr
    assert "File already exists" in refused.stdout + refused.stderr
    venv = fresh_venv()
    installed = client_install(
        "pip", venv.python, "--index-url", server.simple, "alpha", env=client_env
    )
    assert installed.returncode == 0, installed.stderr
    assert venv.installed() == {"alpha": "1.0"}


@pytest.mark.slow
def test_uv_publish_with_check_url(site, tmp_path, make_wheel, client_env):
    server: Server = site["server"]
    wheel = make_wheel(tmp_path, "alpha", "2.0")
    command = [
        find_uv_bin(),
        "publish",
        "--publish-url",
        server.legacy,
        "--check-url",
        server.simple,
        "--token",
        site["scoped"],
        str(wheel),
    ]
    first = subprocess.run(command, capture_output=True, text=True, env=client_env, timeout=120)
    assert first.returncode == 0, first.stderr
    assert wheel.name in project_files(server, "alpha")
    again = subprocess.run(command, capture_output=True, text=True, env=client_env, timeout=120)
    assert again.returncode == 0, again.stderr
    assert f"File {wheel.name} already exists, skipping" in again.stderr, again.stderr
    assert site["server"].log.read_text().count(f"{wheel.name} added") == 1


def _bomb() -> bytes:
    """A wheel whose METADATA inflates from about 32 KiB to 32 MiB."""
    metadata = b"Metadata-Version: 2.1\nName: alpha\nVersion: 6.0\nSummary: " + b"a" * (32 << 20)
    return wheel_bytes("alpha", "6.0", metadata=metadata)


def _hostile_cases() -> dict[str, tuple[Callable[[dict], dict], int, str]]:
    good = wheel_bytes("alpha", "5.0")

    def case(
        filename: str | None,
        content: bytes | Callable[[], bytes] = good,
        token: str = "scoped",
        fields: dict[str, str] | None = None,
    ) -> Callable[[dict], dict]:
        return lambda site: {
            "filename": filename,
            "content": content() if callable(content) else content,
            "token": site[token] if token else None,
            "fields": fields,
        }

    return {
        "traversal": (case("../alpha-5.0-py3-none-any.whl"), 400, "invalid filename"),
        "separator": (case("alpha/alpha-5.0-py3-none-any.whl"), 400, "invalid filename"),
        "control": (case("alpha-5.0-py3-none-any\x01.whl"), 400, "invalid filename"),
        "no file": (case(None), 400, "no file in its 'content' field"),
        "sha256": (
            case("alpha-5.0-py3-none-any.whl", fields={"sha256_digest": "0" * 64}),
            400,
            "sha256_digest does not match the uploaded bytes",
        ),
        "md5": (
            case("alpha-5.0-py3-none-any.whl", fields={"md5_digest": "0" * 32}),
            400,
            "md5_digest does not match",
        ),
        "blake2": (
            case("alpha-5.0-py3-none-any.whl", fields={"blake2_256_digest": "0" * 64}),
            400,
            "blake2_256_digest does not match",
        ),
        "form name": (
            case("alpha-5.0-py3-none-any.whl", fields={"name": "beta"}),
            400,
            "the form says project 'beta', the filename 'alpha'",
        ),
        "metadata name": (
            case(
                "alpha-5.0-py3-none-any.whl",
                wheel_bytes(
                    "alpha", "5.0", metadata=b"Metadata-Version: 2.1\nName: beta\nVersion: 5.0\n\n"
                ),
            ),
            400,
            "metadata name 'beta' does not match the filename's 'alpha'",
        ),
        "metadata version": (
            case(
                "alpha-5.0-py3-none-any.whl",
                wheel_bytes(
                    "alpha", "5.0", metadata=b"Metadata-Version: 2.1\nName: alpha\nVersion: 5.1\n\n"
                ),
            ),
            400,
            "metadata version '5.1' does not match",
        ),
        "not a zip": (
            case("alpha-5.0-py3-none-any.whl", b"this is not a zip archive"),
            400,
            "not a readable zip archive",
        ),
        "over limit": (
            case("alpha-5.0-py3-none-any.whl", os.urandom(1 << 20)),
            413,
            "the upload is larger than this server accepts (1048576 bytes)",
        ),
        "no token": (case("alpha-5.0-py3-none-any.whl", token=""), 401, "this needs a token"),
        "wrong token": (
            case("alpha-5.0-py3-none-any.whl", token="wrong"),
            403,
            "invalid or revoked token",
        ),
        "other project": (
            case("alpha-5.0-py3-none-any.whl", token="other"),
            403,
            "this token may not upload to project 'alpha'",
        ),
        "expired": (case("alpha-5.0-py3-none-any.whl", token="expired"), 403, "expired on"),
        "bomb": (
            case("alpha-6.0-py3-none-any.whl", _bomb),
            400,
            "alpha-6.0.dist-info/METADATA is 33554488 bytes; the limit is 4194304 (4 MiB)",
        ),
    }


HOSTILE = _hostile_cases()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_upload_changes_nothing(site, name: str):
    make, status, message = HOSTILE[name]
    site = {**site, "wrong": "pkgindex_00000000_" + "x" * 43}
    request = make(site)
    before = snapshot(site["root"])
    reply: Reply = upload(
        site["server"],
        request["filename"],
        request["content"],
        token=request["token"],
        fields=request["fields"],
    )
    assert reply.status == status, reply.body
    assert message in reply.body.decode(), reply.body
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"
    if status == 401:
        assert reply.headers["www-authenticate"] == 'Basic realm="pkgindex"'
    assert snapshot(site["root"]) == before


def test_bearer_token_and_conflict(site):
    server: Server = site["server"]
    content = wheel_bytes("alpha", "3.0")
    reply = upload(server, "alpha-3.0-py3-none-any.whl", content, token=None, fields={})
    assert reply.status == 401
    import hashlib as _hashlib

    from tests.integration.server_helpers import multipart

    form = {
        ":action": "file_upload",
        "protocol_version": "1",
        "sha256_digest": _hashlib.sha256(content).hexdigest(),
        "name": "Alpha",
    }
    content_type, body = multipart(form, "alpha-3.0-py3-none-any.whl", content)
    headers = {"Content-Type": content_type, "Authorization": f"Bearer {site['scoped']}"}
    accepted = fetch(server.legacy.rstrip("/"), method="POST", headers=headers, body=body)
    assert accepted.status == 200, accepted.body
    assert "alpha-3.0-py3-none-any.whl" in project_files(server, "alpha")  # visible at once
    before = snapshot(site["root"])
    other = wheel_bytes("alpha", "3.0", payload=b"other bytes")
    conflict = upload(server, "alpha-3.0-py3-none-any.whl", other, token=site["scoped"])
    assert conflict.status == 409
    assert conflict.body.startswith(b"409 Conflict: File already exists: ")
    assert snapshot(site["root"]) == before


@pytest.mark.slow
def test_concurrent_uploads_with_two_workers(tmp_path: Path):
    root = make_index(tmp_path / "index")
    tokens = tmp_path / "tokens.json"
    token = create_token(tokens)
    distinct = {f"many-{n}.0-py3-none-any.whl": wheel_bytes("many", f"{n}.0") for n in range(50)}
    same = ("same-1.0-py3-none-any.whl", wheel_bytes("same", "1.0"))
    jobs = [*distinct.items()] + [same] * 50
    with running_server(root, tokens, "--workers", "2", "--no-access-log") as server:
        with ThreadPoolExecutor(max_workers=25) as pool:
            replies = list(pool.map(lambda job: upload(server, job[0], job[1], token=token), jobs))
        assert [reply.status for reply in replies] == [200] * 100, [
            reply.body for reply in replies if reply.status != 200
        ]
        assert sum(b": added" in reply.body for reply in replies[50:]) == 1
        assert sorted(project_files(server, "many")) == sorted(distinct)
        assert project_files(server, "same") == [same[0]]
        index = fetch(server.simple, headers=V1_JSON).json()
        assert index["projects"] == [{"name": "many"}, {"name": "same"}]  # type: ignore[index]
        pages = {p: fetch(f"{server.simple}{p}/", headers=V1_JSON).body for p in ("many", "same")}
    for filename, data in distinct.items():
        assert (root / "many" / filename).read_bytes() == data
    check = run_pkgindex("generate", root, "--verify", "--json")
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout)["written"] == []  # pages were complete and consistent
    with running_server(root, tokens) as restarted:
        for project, body in pages.items():
            assert fetch(f"{restarted.simple}{project}/", headers=V1_JSON).body == body


def test_revoked_token_is_refused_at_once(site):
    tokens = site["tokens"]
    token = create_token(tokens, "--project", "alpha")
    token_id = token.split("_")[1]
    assert run_pkgindex("token", "revoke", token_id, "--tokens", tokens).returncode == 0
    reply = upload(
        site["server"], "alpha-7.0-py3-none-any.whl", wheel_bytes("alpha", "7.0"), token=token
    )
    assert reply.status == 403
    assert b"invalid or revoked token" in reply.body


def test_private_reads_need_a_token(tmp_path: Path, make_wheel):
    root = make_index(tmp_path / "index")
    added = run_pkgindex("add", make_wheel(tmp_path, "alpha", "1.0"), "--root", root)
    assert added.returncode == 0, added.stderr
    tokens = tmp_path / "tokens.json"
    token = create_token(tokens, "--project", "beta")  # any valid token may read
    with running_server(root, tokens, "--private") as server:
        anonymous = fetch(f"{server.simple}alpha/")
        assert (anonymous.status, anonymous.headers["www-authenticate"]) == (
            401,
            'Basic realm="pkgindex"',
        )
        assert fetch(f"{server.simple}alpha/", headers=basic("wrong")).status == 403
        assert fetch(f"{server.simple}alpha/", headers=basic(token)).status == 200
        assert fetch(f"{server.simple}gamma/", headers=basic(token)).status == 404
        assert fetch(f"{server.simple}alpha/").headers.get("cache-control") is None
        page = fetch(f"{server.simple}alpha/", headers=basic(token))
        assert page.headers["cache-control"] == "private, max-age=0"


def test_shutdown_finishes_an_upload_in_flight(tmp_path: Path):
    """SIGTERM while a body is half sent: the upload completes and lands, then the server
    exits with status 0."""
    root = make_index(tmp_path / "index")
    tokens = tmp_path / "tokens.json"
    token = create_token(tokens)
    content = wheel_bytes("late", "1.0")
    form = {":action": "file_upload", "sha256_digest": hashlib.sha256(content).hexdigest()}
    content_type, body = multipart(form, "late-1.0-py3-none-any.whl", content)
    headers = {"Content-Type": content_type, **basic(token)}
    with running_server(root, tokens) as server:
        host, port = server.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            connection.putrequest("POST", "/legacy/")
            for key, value in {**headers, "Content-Length": str(len(body))}.items():
                connection.putheader(key, value)
            connection.endheaders(body[:100])
            time.sleep(0.3)
            server.process.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            connection.send(body[100:])
            response = connection.getresponse()
            assert (response.status, response.read()) == (
                200,
                b"200 OK: late-1.0-py3-none-any.whl: added\n",
            )
        finally:
            connection.close()
        assert server.process.wait(timeout=20) == 0
    assert (root / "late" / "late-1.0-py3-none-any.whl").read_bytes() == content
    assert '"POST /legacy/ HTTP/1.1" 200' in server.log.read_text()  # the access log
