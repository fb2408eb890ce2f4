"""A moto S3 server started once per test session (see s3_server.py), and helpers around it."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SERVER_SCRIPT = Path(__file__).with_name("s3_server.py")
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing-secret-never-printed",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass(frozen=True, slots=True)
class S3Server:
    url: str  # http://127.0.0.1:PORT (no trailing slash)
    process: subprocess.Popen[str]

    @property
    def env(self) -> dict[str, str]:
        """What a pkgindex process needs to reach this server (the AWS chain's variables)."""
        return {
            **CREDENTIALS,
            "AWS_ENDPOINT_URL": self.url,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def new_bucket(self, *, public: bool = True) -> str:
        """A new bucket, readable by anyone (a public-read policy) unless ``public`` is off."""
        name = f"index-{uuid.uuid4().hex[:12]}"
        client = self.client()
        client.create_bucket(Bucket=name)
        if public:
            client.put_bucket_policy(Bucket=name, Policy=json.dumps(public_read_policy(name)))
        return name

    def inject(self, *faults: dict[str, Any]) -> None:
        request = urllib.request.Request(
            f"{self.url}/__faults__", data=json.dumps(list(faults)).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            reply.read()

    def requests(self) -> dict[str, int]:
        with urllib.request.urlopen(f"{self.url}/__requests__", timeout=10) as reply:
            counts: dict[str, int] = json.loads(reply.read())
            return counts


def public_read_policy(bucket: str) -> dict[str, Any]:
    """The policy docs/storage.md tells users to set: anyone may GET objects."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }


def start_server(*options: str) -> S3Server:
    process = subprocess.Popen(
        [sys.executable, str(SERVER_SCRIPT), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.strip().isdigit():
        stop_server(process)
        pytest.fail(f"the moto server did not start: {line!r}")
    return S3Server(url=f"http://127.0.0.1:{line.strip()}", process=process)


def stop_server(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout:
        process.stdout.close()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A moto S3 server on 127.0.0.1 for the whole session, stopped and reaped at the end."""
    pytest.importorskip("moto", reason="the test extra installs moto[server]")
    server = start_server()
    try:
        yield server
    finally:
        stop_server(server.process)
