"""Run the application under uvicorn (httptools parser, uvloop event loop).

The socket is bound here, before any worker starts, so that a port in use is one clear error,
port 0 works (the chosen port is reported), and every worker shares one listening socket.
Workers are separate processes (uvicorn's supervisor); each builds its own app from the
settings passed in the environment, since the app is built by a function, never imported.
uvicorn finishes in-flight requests (uploads included) on SIGINT/SIGTERM before exiting.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

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


def bind(host: str, port: int) -> socket.socket:
    try:
        return socket.create_server((host, port), backlog=2048)
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
    """Serve until interrupted. ``ready`` receives the base URL once the socket is bound."""
    import uvicorn  # deferred: only `pkgindex serve` needs the server stack

    check_settings(settings)
    sock = bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    options: dict[str, Any] = {
        "http": "httptools",
        "loop": "uvloop",
        "access_log": False,  # the app logs each request itself
        "log_config": None,  # the CLI configures logging
        "server_header": False,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN,
        "lifespan": "on",
    }
    try:
        if workers > 1:
            from uvicorn.supervisors import Multiprocess

            os.environ[SETTINGS_VARIABLE] = _dump(settings, logging.getLogger("pkgindex").level)
            config = uvicorn.Config(
                f"{__name__}:app_from_environment", factory=True, workers=workers, **options
            )
            ready(f"http://{shown}:{bound_port}")
            Multiprocess(config, sockets=[sock]).run()
        else:
            config = uvicorn.Config(create_app(settings), **options)
            ready(f"http://{shown}:{bound_port}")
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


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
