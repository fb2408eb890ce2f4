"""Git's smart HTTP protocol on loopback, behind HTTP Basic authentication.

``serve_git(root, user, password)`` runs ``git http-backend`` (the CGI program that ships with git)
behind a small threaded HTTP server on 127.0.0.1: every bare repository under ``root`` can be
cloned as ``http://USER:PASSWORD@127.0.0.1:PORT/<path>``. A request without the right credentials
gets 401, so a test that clones with credentials in the URL exercises them for real, the way an
index workflow clones a private source. The server records which requests were authorized.
"""

from __future__ import annotations

import base64
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit


@dataclass
class GitServer:
    port: int
    user: str
    password: str
    authorized: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def url(self, *, credentials: bool = True) -> str:
        """``http://[user:password@]127.0.0.1:PORT`` (the password percent-encoded)."""
        if not credentials:
            return f"http://127.0.0.1:{self.port}"
        auth = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        return f"http://{auth}@127.0.0.1:{self.port}"


def _handler(root: Path, server: GitServer) -> type[BaseHTTPRequestHandler]:
    expected = "Basic " + base64.b64encode(f"{server.user}:{server.password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._cgi()

        def do_POST(self) -> None:
            self._cgi()

        def _cgi(self) -> None:
            if self.headers.get("Authorization") != expected:
                server.refused.append(self.path)
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            server.authorized.append(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            env = {
                "GIT_PROJECT_ROOT": str(root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": parts.path,
                "QUERY_STRING": parts.query,
                "REQUEST_METHOD": self.command,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_USER": server.user,
                "REMOTE_ADDR": "127.0.0.1",
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            }
            result = subprocess.run(
                ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
            )
            head, _, payload = result.stdout.partition(b"\r\n\r\n")
            status = 200
            headers: list[tuple[str, str]] = []
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve_git(root: Path, *, user: str, password: str) -> Iterator[GitServer]:
    """Serve the bare repositories under ``root`` until the block ends."""
    state = GitServer(port=0, user=user, password=password)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(root, state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
