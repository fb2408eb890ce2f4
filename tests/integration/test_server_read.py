"""`pkgindex serve`, reading: the simple API over real HTTP, with pip, uv and pypi-simple.

One server on 127.0.0.1 (port 0) serves a small generated index for the whole module.
"""

from __future__ import annotations

import gzip
import random
import socket
import time
from pathlib import Path

import pytest
from pypi_simple import ACCEPT_HTML_ONLY, ACCEPT_JSON_ONLY, PyPISimple
from tests.integration.conftest import client_install, run_pkgindex
from tests.integration.server_helpers import Server, fetch, running_server

V1_JSON = "application/vnd.pypi.simple.v1+json"
V1_HTML = "application/vnd.pypi.simple.v1+html"
HTML = "text/html; charset=utf-8"
LARGE_PAYLOAD = random.Random(0).randbytes(600_000)  # incompressible
SPECIAL = "special-1!2.0+local.1-py3-none-any.whl"  # pip asks for %21/%2B, uv for !/+


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, make_wheel) -> Path:
    root = tmp_path_factory.mktemp("served") / "index"
    make_wheel(root / "alpha", "alpha", "1.0", requires_dist=["beta>=2"])
    # big enough to be streamed from disk in chunks
    make_wheel(root / "beta", "beta", "2.0", requires_python=">=3.8", payload=LARGE_PAYLOAD)
    make_wheel(root / "special", "special", "1!2.0+local.1")
    generated = run_pkgindex("generate", root)
    assert generated.returncode == 0, generated.stderr
    return root


@pytest.fixture(scope="module")
def server(root: Path) -> Server:
    with running_server(root, None) as running:
        yield running


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (None, HTML),
        ("*/*", HTML),
        ("text/html", HTML),
        (V1_JSON, V1_JSON),
        ("application/vnd.pypi.simple.latest+json", V1_JSON),
        (f"{V1_JSON}, {V1_HTML};q=0.1, text/html;q=0.01", V1_JSON),  # pip and uv
        (f"{V1_JSON};q=0.2, {V1_HTML};q=0.5", V1_HTML),
        ("application/*;q=0.5, text/html;q=0.4", V1_HTML),
        (f"text/html;q=0, {V1_JSON};q=0.01", V1_JSON),
    ],
)
def test_negotiation_with_q_values(server: Server, accept: str | None, content_type: str):
    reply = fetch(f"{server.simple}alpha/", headers={"Accept": accept} if accept else {})
    assert reply.status == 200
    assert reply.headers["content-type"] == content_type
    assert reply.headers["vary"] == "Accept, Accept-Encoding"
    assert (b'"name": "alpha"' in reply.body) == (content_type == V1_JSON)


def test_format_parameter_and_406(server: Server):
    reply = fetch(f"{server.simple}?format={V1_JSON}", headers={"Accept": "text/html"})
    assert reply.headers["content-type"] == V1_JSON
    assert reply.json()["projects"] == [{"name": "alpha"}, {"name": "beta"}, {"name": "special"}]
    refused = fetch(f"{server.simple}alpha/", headers={"Accept": "image/png, text/html;q=0"})
    assert refused.status == 406
    assert refused.headers["content-type"] == "text/plain; charset=utf-8"
    assert V1_JSON.encode() in refused.body


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/", "/simple/"),
        ("/simple", "/simple/"),
        ("/simple/alpha", "/simple/alpha/"),
        ("/simple/Alpha/", "/simple/alpha/"),
        ("/simple/ALPHA", "/simple/alpha/"),
        ("/simple/Special/?format=text/html", "/simple/special/?format=text/html"),
    ],
)
def test_redirects(server: Server, method: str, path: str, location: str):
    reply = fetch(server.url + path, method=method)
    assert (reply.status, reply.headers["location"]) == (301, location)


@pytest.mark.parametrize(
    "path",
    [
        "/simple/gamma/",
        "/simple/gamma",
        "/simple/alpha/alpha-9.0-py3-none-any.whl",
        "/simple/alpha/index.json",
        "/simple/alpha/..%2Fbeta%2Findex.json",
        "/simple/-x-/",
        "/simple/beta/beta-2.0.tar.gz.metadata",
        "/nowhere",
    ],
)
def test_not_found(server: Server, path: str):
    reply = fetch(server.url + path)
    assert reply.status == 404, reply.body
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"


def test_methods(server: Server):
    assert fetch(f"{server.simple}alpha/", method="POST").status == 405
    reply = fetch(server.legacy)
    assert (reply.status, reply.headers["allow"]) == (405, "POST")
    health = fetch(f"{server.url}/-/health")
    assert (health.status, health.json()) == (200, {"status": "ok"})


def test_pages_are_the_static_tree(server: Server, root: Path):
    for project in ("", "alpha/"):
        html = fetch(server.simple + project, headers={"Accept": "text/html"})
        assert html.body == (root / project / "index.html").read_bytes()
        data = fetch(server.simple + project, headers={"Accept": V1_JSON})
        assert data.body == (root / project / "index.json").read_bytes()


def test_page_etag_and_gzip(server: Server, root: Path):
    plain = fetch(f"{server.simple}alpha/", headers={"Accept": V1_JSON})
    assert plain.headers["cache-control"] == "public, max-age=0"
    again = fetch(
        f"{server.simple}alpha/",
        headers={"Accept": V1_JSON, "If-None-Match": plain.headers["etag"]},
    )
    assert (again.status, again.body) == (304, b"")
    zipped = fetch(f"{server.simple}", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] != fetch(server.simple).headers["etag"]
    assert gzip.decompress(zipped.body) == (root / "index.html").read_bytes()


@pytest.mark.parametrize("spelling", [SPECIAL, SPECIAL.replace("!", "%21").replace("+", "%2B")])
def test_files_head_ranges_and_validators(server: Server, root: Path, spelling: str):
    url = f"{server.simple}special/{spelling}"
    data = (root / "special" / SPECIAL).read_bytes()
    whole = fetch(url)
    assert (whole.status, whole.body) == (200, data)
    assert whole.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert whole.headers["content-type"] == "application/zip"
    head = fetch(url, method="HEAD")
    assert (head.status, head.body, head.headers["content-length"]) == (200, b"", str(len(data)))
    tail = fetch(url, headers={"Range": "bytes=-22"})
    assert (tail.status, tail.body) == (206, data[-22:])
    assert tail.headers["content-range"] == f"bytes {len(data) - 22}-{len(data) - 1}/{len(data)}"
    middle = fetch(url, headers={"Range": "bytes=10-19"})
    assert (middle.status, middle.body) == (206, data[10:20])
    past = fetch(url, headers={"Range": f"bytes={len(data)}-"})
    assert (past.status, past.headers["content-range"]) == (416, f"bytes */{len(data)}")
    etag, modified = whole.headers["etag"], whole.headers["last-modified"]
    assert fetch(url, headers={"If-None-Match": etag}).status == 304
    assert fetch(url, headers={"If-Modified-Since": modified}).status == 304
    stale = fetch(url, headers={"If-Range": '"other"', "Range": "bytes=0-9"})
    assert (stale.status, stale.body) == (200, data)


def test_large_file_streams(server: Server, root: Path):
    name = "beta-2.0-py3-none-any.whl"
    data = (root / "beta" / name).read_bytes()
    assert len(data) > 512 << 10
    assert fetch(f"{server.simple}beta/{name}").body == data
    part = fetch(f"{server.simple}beta/{name}", headers={"Range": "bytes=1000-400999"})
    assert (part.status, part.body) == (206, data[1000:401000])


def test_metadata_file(server: Server, root: Path):
    name = "beta-2.0-py3-none-any.whl.metadata"
    reply = fetch(f"{server.simple}beta/{name}")
    assert reply.body == (root / "beta" / name).read_bytes()
    assert b"Requires-Python: >=3.8" in reply.body
    assert reply.headers["etag"].strip('"') == __import__("hashlib").sha256(reply.body).hexdigest()


@pytest.mark.parametrize("accept", [ACCEPT_JSON_ONLY, ACCEPT_HTML_ONLY])
def test_pypi_simple_reads_both_forms(server: Server, accept: str):
    with PyPISimple(server.simple, accept=accept) as client:
        page = client.get_project_page("special")
        index = client.get_index_page()
    assert index.projects == ["alpha", "beta", "special"]
    (package,) = page.packages
    assert package.filename == SPECIAL
    assert package.version == "1!2.0+local.1"
    assert package.has_metadata is True
    assert set(package.digests) == {"sha256"}
    assert (
        package.url == f"{server.simple}special/{SPECIAL.replace('!', '%21').replace('+', '%2B')}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("client", ["pip", "uv"])
@pytest.mark.parametrize("transport", ["json", "html"])
def test_clients_install(server: Server, fresh_venv, client_env, client: str, transport: str):
    """JSON: the index URL (both clients negotiate JSON). HTML: each project page with
    ?format=text/html as a find-links page, which both clients parse as HTML."""
    venv = fresh_venv()
    if transport == "json":
        source = ["--index-url", server.simple]
    else:
        source = ["--no-index"]
        for project in ("alpha", "beta"):
            source += ["--find-links", f"{server.simple}{project}/?format=text/html"]
    result = client_install(client, venv.python, *source, "alpha", env=client_env)
    assert result.returncode == 0, result.stderr
    assert venv.installed() == {"alpha": "1.0", "beta": "2.0"}


def test_change_on_disk_is_served_at_once(server: Server, root: Path, make_wheel, tmp_path):
    """A `pkgindex add` on the same root (another process) shows on the next request."""
    fetch(f"{server.simple}beta/", headers={"Accept": V1_JSON})  # cached now
    wheel = make_wheel(tmp_path, "beta", "3.0")
    added = run_pkgindex("add", wheel, "--root", root)
    assert added.returncode == 0, added.stderr
    started = time.monotonic()
    page = fetch(f"{server.simple}beta/", headers={"Accept": V1_JSON}).json()
    assert time.monotonic() - started < 0.2
    assert page["versions"] == ["2.0", "3.0"]  # type: ignore[index]


def test_clear_errors(root: Path, tmp_path: Path):
    taken = socket.create_server(("127.0.0.1", 0))
    try:
        port = taken.getsockname()[1]
        busy = run_pkgindex("serve", "--root", root, "--read-only", "--port", port)
    finally:
        taken.close()
    assert busy.returncode == 2
    assert f"error: 127.0.0.1:{port}: the port is in use" in busy.stderr
    missing = run_pkgindex("serve", "--root", tmp_path / "nowhere", "--read-only")
    assert (missing.returncode, missing.stderr.splitlines()[0]) == (
        2,
        f"error: {tmp_path / 'nowhere'}: no such folder",
    )
    empty = run_pkgindex("serve", "--root", tmp_path, "--read-only")
    assert f"error: {tmp_path}: not an index (no index.json)" in empty.stderr
    tokens = tmp_path / "tokens.json"
    no_store = run_pkgindex("serve", "--root", root, "--tokens", tokens)
    assert no_store.returncode == 2
    assert f"error: {tokens}: no token store" in no_store.stderr
    assert "hint: create a token first: pkgindex token create" in no_store.stderr
    inside = root / "tokens.json"
    leaked = run_pkgindex("serve", "--root", root, "--tokens", inside)
    assert "the token store is inside the index root" in leaked.stderr
