"""Real pip and uv against an index written by ``pkgindex generate``.

Both clients install from the folder itself (pip: ``file://``; uv: a plain path) and over HTTP
from a static server serving that folder — the GitHub Pages situation. Only our index is used:
no configuration files, no find-links, no PyPI.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest
from tests.integration.conftest import client_install
from uv import find_uv_bin

pytestmark = pytest.mark.slow

EPOCH_VERSION = "43!2025.12.17"
LOCAL_VERSION = "1.0+cpu"
CLIENTS = ("pip", "uv")
TRANSPORTS = ("file", "http")


@dataclass(frozen=True, slots=True)
class Index:
    root: Path
    server: object  # StaticServer

    def url(self, client: str, transport: str) -> str:
        if transport == "http":
            return self.server.url  # type: ignore[attr-defined]
        # pip needs a URL; uv takes a plain path (a "path index")
        return self.root.as_uri() if client == "pip" else str(self.root)


@pytest.fixture(scope="module")
def index(tmp_path_factory, make_wheel, static_server, pkgindex) -> Index:
    root = tmp_path_factory.mktemp("client-index")
    # alpha needs beta; the newest beta needs a Python that does not exist yet
    make_wheel(root / "alpha", "alpha", "1.0", requires_dist=["beta>=1"], requires_python=">=3.8")
    make_wheel(root / "beta", "beta", "1.0", requires_python=">=3.8")
    make_wheel(root / "beta", "beta", "2.0", requires_python=">=3.99")
    # gamma 2.0 gets yanked
    make_wheel(root / "gamma", "gamma", "1.0")
    make_wheel(root / "gamma", "gamma", "2.0")
    # an epoch must win over a bigger-looking plain version
    make_wheel(root / "dace", "dace", "1.0")
    make_wheel(root / "dace", "dace", "2025.12.18")
    make_wheel(root / "dace", "dace", EPOCH_VERSION)
    # a local version: "+" in the filename
    make_wheel(root / "localver", "localver", "0.9")
    make_wheel(root / "localver", "localver", LOCAL_VERSION)
    generated = pkgindex("generate", root)
    assert generated.returncode == 0, generated.stderr
    yanked = pkgindex("yank", "gamma", "2.0", "--reason", "broken build", "--root", root)
    assert yanked.returncode == 0, yanked.stderr
    return Index(root=root, server=static_server(root))


def install(
    client: str, venv, index_url: str, *requirements: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    result = client_install(client, venv.python, "--index-url", index_url, *requirements, env=env)
    assert result.returncode == 0, (
        f"{client} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return result


@pytest.fixture
def installer(index: Index, fresh_venv, client_env) -> Callable[..., dict[str, str]]:
    """install(client, transport, *requirements) -> what the fresh venv then holds."""

    def run(client: str, transport: str, *requirements: str) -> dict[str, str]:
        venv = fresh_venv()
        install(client, venv, index.url(client, transport), *requirements, env=client_env)
        return venv.installed()

    return run


def requests_during(index: Index, action: Callable[[], object]) -> list[str]:
    """The paths the static server was asked for while ``action`` ran (percent-decoded)."""
    log = index.server.requests  # type: ignore[attr-defined]
    before = len(log)
    action()
    return [unquote(path) for path in log[before:]]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("client", CLIENTS)
def test_resolves_dependencies(installer, client, transport):
    installed = installer(client, transport, "alpha")
    # beta 2.0 requires Python >= 3.99: skipped, 1.0 satisfies alpha's requirement
    assert installed == {"alpha": "1.0", "beta": "1.0"}


def test_pip_reads_metadata_files_from_folder(index, fresh_venv, client_env):
    result = install(
        "pip", fresh_venv(), index.url("pip", "file"), "alpha", "--dry-run", env=client_env
    )
    output = result.stdout + result.stderr
    assert "alpha-1.0-py3-none-any.whl.metadata" in output
    assert "beta-1.0-py3-none-any.whl.metadata" in output


@pytest.mark.parametrize("client", CLIENTS)
def test_metadata_files_fetched_over_http(index, fresh_venv, client_env, client):
    venv = fresh_venv()
    paths = requests_during(
        index, lambda: install(client, venv, index.url(client, "http"), "alpha", env=client_env)
    )
    # dependency information comes from the PEP 658 files, not from downloading every wheel
    assert "/alpha/alpha-1.0-py3-none-any.whl.metadata" in paths
    assert "/beta/beta-1.0-py3-none-any.whl.metadata" in paths
    assert "/beta/beta-2.0-py3-none-any.whl" not in paths  # excluded by requires-python
    assert "/beta/beta-2.0-py3-none-any.whl.metadata" not in paths


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("client", CLIENTS)
def test_requires_python_excludes_newer(installer, client, transport):
    assert installer(client, transport, "beta") == {"beta": "1.0"}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("client", CLIENTS)
def test_yanked_file_is_skipped(installer, client, transport):
    assert installer(client, transport, "gamma") == {"gamma": "1.0"}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("client", CLIENTS)
def test_pinned_yanked_version_installs(installer, client, transport):
    # FY / pip: a yanked file is still installable when pinned with ==
    assert installer(client, transport, "gamma==2.0") == {"gamma": "2.0"}


def test_yanked_file_stays_listed(index):
    page = (index.root / "gamma" / "index.html").read_text()
    assert 'data-yanked="broken build"' in page
    assert (index.root / "gamma" / "gamma-2.0-py3-none-any.whl").is_file()


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("client", CLIENTS)
def test_epoch_wins(installer, client, transport):
    assert installer(client, transport, "dace") == {"dace": EPOCH_VERSION}


@pytest.mark.parametrize("client", CLIENTS)
def test_special_characters_download_over_http(index, fresh_venv, client_env, client):
    """``!`` and ``+`` in filenames: pip quotes them (%21, %2B); the files must still arrive."""
    venv = fresh_venv()
    url = index.url(client, "http")
    log = index.server.requests  # type: ignore[attr-defined]
    before = len(log)
    install(
        client, venv, url, f"dace=={EPOCH_VERSION}", f"localver=={LOCAL_VERSION}", env=client_env
    )
    raw = log[before:]
    assert venv.installed() == {"dace": EPOCH_VERSION, "localver": LOCAL_VERSION}
    decoded = [unquote(path) for path in raw]
    assert f"/dace/dace-{EPOCH_VERSION}-py3-none-any.whl" in decoded
    assert f"/localver/localver-{LOCAL_VERSION}-py3-none-any.whl" in decoded


# What each client says when the only index it may use lacks the project.
NOT_FOUND = {
    "pip": "ERROR: No matching distribution found for packaging",
    "uv": "Because packaging was not found in the package registry",
}


@pytest.mark.parametrize("client", CLIENTS)
def test_only_our_index_is_used(index, fresh_venv, client_env, client):
    """The machine's find-links (/opt/wheels) and configured indexes must not leak in:
    ``packaging`` is everywhere but in our index, so the install must fail for that reason."""
    venv = fresh_venv()
    command = (
        [sys.executable, "-m", "pip", "--python", str(venv.python), "install", "--isolated"]
        if client == "pip"
        else [find_uv_bin(), "pip", "install", "--python", str(venv.python), "--no-cache"]
    )
    log = index.server.requests
    before = len(log)
    result = subprocess.run(
        [*command, "--index-url", index.url(client, "http"), "packaging"],
        capture_output=True,
        text=True,
        env=client_env,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert NOT_FOUND[client] in result.stderr, result.stderr
    assert "/packaging/" in log[before:]  # it asked our index, and got a 404
    assert venv.installed() == {}
