"""A real S3 HTTP API on loopback for the tests: moto's server app, one request at a time.

Run as ``python s3_server.py`` (it prints its port on the first line of stdout). Connections
are kept alive and served in threads, but requests are answered one at a time, so moto's
conditional writes (If-Match, If-None-Match) are atomic, as on S3. Two control endpoints let a
test inject faults and read counters:

- ``POST /__faults__`` with ``[{"method": "PUT", "path": "part", "status": 503,
  "code": "SlowDown", "count": 3}]``: the next COUNT matching requests get that error reply;
- ``GET /__requests__``: ``{"GET": n, "PUT": n, ...}`` counted since start.

With ``--auth`` every request must be signed by an IAM user moto knows (none: all refused).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import Counter
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server


class KeepAliveHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep connections open, as S3 does: far fewer TCP set-ups

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def faulty(app: Any) -> Any:
    faults: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == "/__faults__":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            faults[:] = json.loads(environ["wsgi.input"].read(size) or b"[]")
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if path == "/__requests__":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(counts).encode()]
        with lock:  # one request at a time: conditional writes are atomic, as on S3
            return answer(environ, start_response)

    def answer(environ: dict[str, Any], start_response: Any) -> Any:
        path, method = environ.get("PATH_INFO", ""), environ["REQUEST_METHOD"]
        counts[method] += 1
        for fault in faults:
            if fault["count"] > 0 and fault["method"] == method and fault["path"] in path:
                fault["count"] -= 1
                body = (
                    f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{fault['code']}</Code>"
                    "<Message>injected by the test</Message></Error>"
                ).encode()
                start_response(
                    f"{fault['status']} Injected",
                    [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
                )
                return [body]
        return list(app(environ, start_response))  # the whole reply, inside the lock

    return wsgi


def main() -> None:
    if "--auth" in sys.argv:
        os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
    from moto.server import DomainDispatcherApplication, create_backend_app

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(
        "127.0.0.1", 0, faulty(app), threaded=True, request_handler=KeepAliveHandler
    )
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
