"""Helpers for the `pkgindex serve` tests: the real server in a subprocess, raw HTTP, forms.

``running_server(root, tokens, *options)`` starts ``python -m pkgindex serve --port 0``, reads
the URL it prints, and always stops and reaps it (SIGTERM, then SIGKILL after 20 s).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.integration.conftest import pkgindex_environment


@dataclass(frozen=True, slots=True)
class Server:
    url: str  # http://127.0.0.1:PORT (no slash)
    log: Path  # the server's stderr
    process: subprocess.Popen[str]

    @property
    def simple(self) -> str:
        return f"{self.url}/simple/"

    @property
    def legacy(self) -> str:
        return f"{self.url}/legacy/"


@contextlib.contextmanager
def running_server(
    root: Path | str,
    tokens: Path | None,
    *options: str,
    log: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """``log`` is needed for a bucket root (a folder root's log goes beside it)."""
    if log is None:
        assert isinstance(root, Path), "pass log= for a bucket root"
        log = root.parent / f"server-{uuid.uuid4().hex[:8]}.log"
    command = [sys.executable, "-m", "pkgindex", "serve", "--root", str(root), "--port", "0"]
    command += ["--tokens", str(tokens)] if tokens is not None else ["--read-only"]
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [*command, *options],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**pkgindex_environment(), **(env or {})},
        )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert " at http://" in line, f"server did not start: {line!r}\n{log.read_text()}"
        url = line.split(" at ", 1)[1].split("/simple/", 1)[0]
        yield Server(url=url, log=log, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def fetch(
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
) -> Reply:
    """One request, no redirects followed, the raw answer."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        data = response.read()
        found = {key.lower(): value for key, value in response.getheaders()}
        return Reply(response.status, found, data)
    finally:
        connection.close()


def multipart(fields: Mapping[str, str], filename: str | None, content: bytes) -> tuple[str, bytes]:
    """A multipart/form-data body as twine sends it: fields, then the file as ``content``."""
    boundary = uuid.uuid4().hex
    chunks = []
    for key, value in fields.items():
        disposition = f'Content-Disposition: form-data; name="{key}"'
        chunks.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    if filename is not None:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="content"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(chunks)


def basic(token: str) -> dict[str, str]:
    import base64

    credentials = base64.b64encode(f"__token__:{token}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


def upload(
    server: Server,
    filename: str | None,
    content: bytes,
    *,
    token: str | None,
    fields: Mapping[str, str] | None = None,
) -> Reply:
    """POST /legacy/ with twine's fields (sha256 of ``content`` unless ``fields`` says other)."""
    import hashlib

    form = {
        ":action": "file_upload",
        "protocol_version": "1",
        "sha256_digest": hashlib.sha256(content).hexdigest(),
        **(fields or {}),
    }
    content_type, body = multipart(form, filename, content)
    headers = {"Content-Type": content_type, **(basic(token) if token else {})}
    return fetch(server.legacy, method="POST", headers=headers, body=body)
