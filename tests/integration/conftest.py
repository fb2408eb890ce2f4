"""Fixtures for integration tests: a real HTTP server, real virtual environments, real clients.

- ``static_server(directory)`` serves a folder on 127.0.0.1 (like GitHub Pages would) and
  records every request path it received.
- ``fresh_venv()`` makes an empty virtual environment with ``uv venv`` (fast, offline).
- ``client_env`` is the environment for pip and uv: no user or site configuration, no
  find-links, no extra index — only the index a test passes reaches the client.
- ``run_pkgindex(*args)`` runs ``python -m pkgindex`` in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import distributions
from pathlib import Path

import pytest
from tests.integration.s3_fixtures import s3_server  # noqa: F401 (a fixture: an S3 API)
from uv import find_uv_bin

REPO_ROOT = Path(__file__).resolve().parents[2]

# --- clients --------------------------------------------------------------------------------

_CLIENT_VARIABLES = ("PIP_", "UV_", "PYTHONPATH", "VIRTUAL_ENV", "CONDA_PREFIX")


def isolated_client_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` without any pip/uv setting, plus settings that keep both away from the network
    and from configuration files: only an index passed on the command line is used."""
    env = {
        key: value
        for key, value in (os.environ if base is None else base).items()
        if not key.startswith(_CLIENT_VARIABLES)
    }
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        PIP_DEFAULT_TIMEOUT="30",
        UV_NO_CONFIG="1",
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
    )
    return env


@pytest.fixture(scope="session")
def client_env() -> dict[str, str]:
    return isolated_client_environment()


@dataclass(frozen=True, slots=True)
class Venv:
    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def site_packages(self) -> Path:
        found = sorted(self.path.glob("lib/python3*/site-packages"))
        assert found, f"no site-packages in {self.path}"
        return found[0]

    def installed(self) -> dict[str, str]:
        """Installed distributions, by normalized name: version as recorded in METADATA."""
        from packaging.utils import canonicalize_name

        return {
            canonicalize_name(dist.metadata["Name"]): dist.version
            for dist in distributions(path=[str(self.site_packages)])
        }


@pytest.fixture(scope="session")
def fresh_venv(
    tmp_path_factory: pytest.TempPathFactory, client_env: dict[str, str]
) -> Callable[[], Venv]:
    """A function making an empty virtual environment for the running Python, with uv."""
    uv = find_uv_bin()  # the way the product finds it: the uv dependency ships its binary

    def make() -> Venv:
        path = tmp_path_factory.mktemp("venv")
        subprocess.run(
            [uv, "venv", "--quiet", "--no-project", "--python", sys.executable, str(path)],
            check=True,
            capture_output=True,
            env=client_env,
        )
        return Venv(path)

    return make


# --- static HTTP server ---------------------------------------------------------------------


@dataclass(slots=True)
class StaticServer:
    """A folder served over HTTP on loopback, like a static host (GitHub Pages) serves it."""

    directory: Path
    url: str  # ends with "/"
    requests: list[str] = field(default_factory=list)  # raw request paths, in order

    def requested(self, suffix: str) -> list[str]:
        return [path for path in self.requests if path.split("?")[0].endswith(suffix)]


class _RecordingHandler(SimpleHTTPRequestHandler):
    record: list[str]

    def __init__(self, *args: object, record: list[str], **kwargs: object) -> None:
        self.record = record
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def send_head(self):  # type: ignore[no-untyped-def]
        self.record.append(self.path)
        return super().send_head()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def static_server() -> Iterator[Callable[[Path], StaticServer]]:
    """A function serving a folder on ``http://127.0.0.1:<free port>/`` until the session ends.

    Like ``python -m http.server``: directories answer with their index.html, ``/dir`` redirects
    to ``/dir/``, percent-encoded paths are decoded.
    """
    servers: list[ThreadingHTTPServer] = []

    def serve(directory: Path) -> StaticServer:
        record: list[str] = []
        handler = partial(_RecordingHandler, directory=str(directory), record=record)
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append(server)
        port = server.server_address[1]
        return StaticServer(directory=directory, url=f"http://127.0.0.1:{port}/", requests=record)

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


# --- pkgindex -------------------------------------------------------------------------------


def client_install(
    client: str, python: Path, *arguments: str, env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """``pip install`` or ``uv pip install`` into the environment of ``python``, without caches
    or configuration files; ``arguments`` name the index and the requirements."""
    if client == "pip":
        command = [sys.executable, "-m", "pip", "--python", str(python), "install", "--isolated"]
        command.append("--no-cache-dir")
    else:
        command = [find_uv_bin(), "pip", "install", "--python", str(python), "--no-cache"]
    return subprocess.run(
        [*command, *arguments], capture_output=True, text=True, env=dict(env), timeout=300
    )


def pkgindex_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SOURCE_DATE_EPOCH", None)
    env["PYTHONPATH"] = str(REPO_ROOT / "src")
    return env


def run_pkgindex(
    *args: str | Path, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m pkgindex ARGS`` in a subprocess; never raises on a non-zero status."""
    return subprocess.run(
        [sys.executable, "-m", "pkgindex", *map(str, args)],
        capture_output=True,
        text=True,
        env={**pkgindex_environment(), **(env or {})},
        cwd=cwd or tempfile.gettempdir(),
        timeout=600,
    )


@pytest.fixture(scope="session")
def pkgindex() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``pkgindex("generate", root, "--json")`` -> CompletedProcess (status not checked)."""
    return run_pkgindex
