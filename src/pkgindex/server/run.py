"""Run the application under granian (Rust HTTP server, uvloop event loop in each worker).

granian was chosen over uvicorn (httptools, uvloop) by measurement: in benchmarks/serve.py on
the 10,000-wheel corpus it served 1.4 to 3.7 times as many requests per second with the same
application and two workers (docs/benchmarks.md). Each worker listens on the port itself
(SO_REUSEPORT), so the port is checked here first, by binding it once without that option:
a port in use is one clear error, and ``--port 0`` is resolved to a free port that is reported.
Workers are separate processes; each builds its own app from the settings passed in the
environment, since the app is built by a function, never imported. On SIGINT/SIGTERM granian
stops accepting connections and lets in-flight requests (uploads included) finish.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from pkgindex.errors import ConfigError
from pkgindex.index.scan import PAGE_JSON
from pkgindex.server.app import App, create_app, open_settings_store
from pkgindex.server.settings import Settings
from pkgindex.server.tokens import TokenStore

SETTINGS_VARIABLE = "PKGINDEX_SERVE_SETTINGS"
GRACEFUL_SHUTDOWN = 30  # seconds to finish in-flight requests after SIGTERM


def check_settings(settings: Settings) -> None:
    """Refuse to start on an unreadable root or a missing token store, with a clear error."""
    if settings.root.startswith("s3://"):
        _check_store_root(settings)
    else:
        _check_folder_root(Path(settings.root))
    if settings.tokens is not None:
        inside = None if settings.root.startswith("s3://") else Path(settings.root)
        TokenStore(settings.tokens).check_usable(inside)


def _check_folder_root(root: Path) -> None:
    if not root.is_dir():
        raise ConfigError(f"{root}: no such folder", hint="pass the index root with --root")
    if not os.access(root, os.R_OK | os.X_OK) or not os.access(root / PAGE_JSON, os.R_OK):
        what = "not readable" if (root / PAGE_JSON).exists() else "not an index (no index.json)"
        raise ConfigError(
            f"{root}: {what}",
            hint=f"run 'pkgindex generate {root}' first, and serve as a user who can read it",
        )


def _check_store_root(settings: Settings) -> None:
    store = open_settings_store(settings)
    if not store.exists() or store.stat(PAGE_JSON) is None:
        raise ConfigError(
            f"{settings.root}: not an index (no {PAGE_JSON})",
            hint=f"run 'pkgindex generate {settings.root}' first, and check the credentials",
        )


def free_port(host: str, port: int) -> int:
    """The port to serve on: ``port`` if nothing listens there, a free one for 0."""
    try:
        with socket.create_server((host, port)) as probe:
            chosen: int = probe.getsockname()[1]
            return chosen
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"{host}:{port}: the port is in use",
                hint="stop the other server, or pick another port with --port",
            ) from None
        raise ConfigError(f"{host}:{port}: cannot listen ({exc.strerror})") from None


def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int = 1,
    ready: Callable[[str], None] = lambda url: None,
) -> None:
    """Serve until interrupted. ``ready`` receives the base URL once the port is chosen."""
    from granian.constants import Interfaces, Loops  # deferred: only `serve` needs them
    from granian.server import Server

    check_settings(settings)
    port = free_port(host, port)
    os.environ[SETTINGS_VARIABLE] = _dump(settings, logging.getLogger("pkgindex").level)
    server = Server(
        f"{__name__}:app_from_environment",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        loop=Loops.uvloop,
        factory=True,
        log_enabled=False,  # pkgindex logs (the access log included) through `logging`
        backlog=2048,
        workers_kill_timeout=GRACEFUL_SHUTDOWN,
    )
    shown = f"[{host}]" if ":" in host else host
    watcher = threading.Thread(
        target=_announce, args=(host, port, lambda: ready(f"http://{shown}:{port}")), daemon=True
    )
    watcher.start()
    server.serve()


def _announce(host: str, port: int, ready: Callable[[], None], timeout: float = 60) -> None:
    """Call ``ready`` once a worker accepts connections (granian binds in its workers)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                ready()
                return
        except OSError:
            time.sleep(0.02)


def app_from_environment() -> App:
    """The app of one worker process, from the settings the supervisor put in the environment."""
    document = json.loads(os.environ[SETTINGS_VARIABLE])
    level = document.pop("log_level")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("pkgindex")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
    for key in ("tokens", "upload_directory"):
        if document[key] is not None:
            document[key] = Path(document[key])
    return create_app(Settings(**document))


def _dump(settings: Settings, log_level: int) -> str:
    document = asdict(settings)
    for key in ("tokens", "upload_directory"):
        if document[key] is not None:
            document[key] = str(document[key])
    return json.dumps({**document, "log_level": log_level})
