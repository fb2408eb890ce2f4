"""An index in an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO, Ceph RGW, GCS's S3 API).

Writers share no lock. Distribution and ``.metadata`` files are created with
``If-None-Match: *`` (a key is never overwritten); pages are replaced with ``If-Match`` on the
ETag they were read with, and a lost race is a StaleError that the index core answers by
re-reading and merging. Every object carries its Content-Type and Cache-Control, so that pip
and uv read the bucket's HTTP endpoint directly:

- ``PREFIX/<project>/`` and ``PREFIX/<project>/index.html``: the PEP 503 page (HTML root
  ``PREFIX/``);
- ``PREFIX/_json/<project>/``: the PEP 691 JSON page, served as
  ``application/vnd.pypi.simple.v1+json`` (JSON root ``PREFIX/_json/``, PEP 691's "endpoint
  configuration").

The alias keys are server-side copies of the page just written, made after it: whichever
writer copies last copies the newest page.

Settings come from the standard AWS chain (``AWS_PROFILE``, ``AWS_ENDPOINT_URL``,
``AWS_REGION``, ``~/.aws/config``); :class:`BucketOptions` overrides them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast
from urllib.parse import urlsplit

from pkgindex.errors import ConfigError, ConflictError, IntegrityError, StaleError, StoreError
from pkgindex.stores.base import (
    ANY,
    JSON_ROOT,
    Listing,
    ObjectInfo,
    RootListing,
    Versioned,
    cache_control,
    check_key,
    content_type,
)

if TYPE_CHECKING:
    from botocore.client import BaseClient

log = logging.getLogger(__name__)

_DOWNLOAD_WORKERS = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class BucketOptions:
    """Overrides of the AWS configuration chain (None: take it from the chain)."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None


def parse_bucket_url(text: str) -> tuple[str, str]:
    """``s3://BUCKET/PREFIX`` -> (bucket, prefix with a trailing slash, or "")."""
    parts = urlsplit(text)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            f"{text}: not a bucket root", hint="write it as s3://BUCKET or s3://BUCKET/PREFIX"
        )
    prefix = parts.path.strip("/")
    if prefix:
        check_key(prefix)
    return parts.netloc, f"{prefix}/" if prefix else ""


def open_bucket(text: str, options: BucketOptions | None = None) -> BucketStore:
    """The store for ``s3://BUCKET/PREFIX``, with a boto3 client from the AWS chain."""
    bucket, prefix = parse_bucket_url(text)
    return BucketStore(bucket=bucket, prefix=prefix, client=make_client(options))


def make_client(options: BucketOptions | None = None) -> BaseClient:
    options = options or BucketOptions()
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise ConfigError(
            "bucket roots need boto3, which is not installed",
            hint="pip install 'pkgindex[s3]'",
        ) from None
    endpoint = options.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3")
    endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL")
    config = Config(
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=10,
        read_timeout=60,
        # S3-compatible servers (MinIO, moto, Ceph) want path-style URLs; AWS takes either
        s3={"addressing_style": "path" if endpoint else "auto"},
        max_pool_connections=_DOWNLOAD_WORKERS * 2,
    )
    try:
        session = boto3.session.Session(profile_name=options.profile)
        return session.client(
            "s3", endpoint_url=endpoint, region_name=options.region, config=config
        )
    except Exception as exc:  # botocore's ProfileNotFound, invalid endpoint URL...
        raise ConfigError(
            f"cannot set up the S3 client: {exc}",
            hint="check AWS_PROFILE, AWS_ENDPOINT_URL and ~/.aws/config",
        ) from exc


class BucketStore:
    """An index under ``PREFIX/`` in an S3 bucket."""

    __slots__ = ("_scanned", "bucket", "client", "prefix")

    def __init__(self, *, bucket: str, prefix: str, client: BaseClient) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._scanned: dict[str, list[dict[str, Any]]] = {}  # list_root's, for list_folder
        self.client = client

    def __repr__(self) -> str:
        return f"BucketStore({self.location!r})"

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    @property
    def writes_in_processes(self) -> bool:
        return False

    @property
    def cache_key(self) -> None:
        return None  # a bucket is listed on every run: no folder has a stamp to remember

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"

    def lock(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()  # many writers; conditional writes keep them safe

    def exists(self) -> bool:
        """A prefix always exists; a missing or unreachable bucket is a StoreError that says
        which (rather than a plain False that could only say "no index")."""
        self._call(self.client.head_bucket, "", Bucket=self.bucket)
        return True

    # --- reading ---------------------------------------------------------------------------

    def list_root(self) -> RootListing:
        """One flat listing of the whole prefix: a request per 1,000 objects, not one per
        project. The folders' contents are kept for the ``list_folder`` calls of the same scan
        (each used once; any write drops them)."""
        folders: dict[str, list[dict[str, Any]]] = {}
        files: list[str] = []
        for page in self._pages(self.prefix, flat=True):
            for item in page.get("Contents", ()):
                rest = item["Key"][len(self.prefix) :]
                folder, slash, name = rest.partition("/")
                if folder.startswith((".", "_")) or not folder:
                    continue
                if not slash:
                    files.append(folder)
                elif "/" not in name:
                    folders.setdefault(folder, []).append({**item, "Name": name})
        self._scanned.clear()
        self._scanned.update(folders)
        return RootListing(folders=tuple(sorted(folders)), files=tuple(sorted(files)))

    def list_folder(self, folder: str, *, sized: Callable[[str], bool]) -> Listing | None:
        start = f"{self.prefix}{check_key(folder)}/"
        items = self._scanned.pop(folder, None)
        if items is None:
            items = [
                {**item, "Name": item["Key"][len(start) :]}
                for page in self._pages(start)
                for item in page.get("Contents", ())
            ]
        sizes: dict[str, int] = {}
        etags: dict[str, str] = {}
        names: list[str] = []
        for item in items:
            name = item["Name"]
            if not name or name.startswith("."):
                continue  # "" is the page alias <folder>/
            if sized(name):
                sizes[name] = int(item["Size"])
            else:
                names.append(name)
            etags[name] = item["ETag"]
        if not sizes and not names:
            return None
        return Listing(sizes=sizes, names=frozenset(names), etags=etags)

    def read(self, key: str, *, max_size: int | None = None) -> Versioned | None:
        try:
            reply = self._call(self.client.get_object, key, Bucket=self.bucket, Key=self._key(key))
        except FileNotFoundError:
            return None
        body = reply["Body"]
        with contextlib.closing(body):
            if max_size is not None and int(reply["ContentLength"]) > max_size:
                raise IntegrityError(
                    f"{self.describe(key)}: {reply['ContentLength']} bytes, more than the "
                    f"{max_size} allowed",
                    hint="restore it from a backup, or delete it",
                )
            data = self._guard(key, body.read)
        return Versioned(data=data, etag=reply["ETag"])

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        reply = self._call(self.client.get_object, key, Bucket=self.bucket, Key=self._key(key))
        with contextlib.closing(reply["Body"]) as body:
            yield cast(BinaryIO, body)

    def stat(self, key: str) -> ObjectInfo | None:
        try:
            reply = self._call(self.client.head_object, key, Bucket=self.bucket, Key=self._key(key))
        except FileNotFoundError:
            return None
        return ObjectInfo(size=int(reply["ContentLength"]), etag=reply["ETag"])

    @contextlib.contextmanager
    def local_paths(self, keys: Sequence[str]) -> Iterator[Mapping[str, str]]:
        """Download the objects into a temporary folder (in parallel), removed afterwards."""
        with tempfile.TemporaryDirectory(prefix="pkgindex-s3-") as temporary:
            paths = {
                key: os.path.join(temporary, str(number), key.rpartition("/")[2])
                for number, key in enumerate(keys)
            }

            def download(key: str) -> None:
                os.mkdir(os.path.dirname(paths[key]))
                self._call(self.client.download_file, key, self.bucket, self._key(key), paths[key])

            if len(keys) < 2:
                for key in keys:
                    download(key)
            else:
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(max_workers=_DOWNLOAD_WORKERS) as pool:
                    list(pool.map(download, keys))
            yield paths

    # --- writing ---------------------------------------------------------------------------

    def create(self, key: str, source: bytes | Path, *, atomic: bool = True) -> bool:
        # every PUT is atomic: ``atomic=False`` changes nothing here
        try:
            self._put(key, source, IfNoneMatch="*")
        except StaleError:
            existing = self.stat(key)
            if existing is not None and self._same(key, existing, source):
                return False
            raise ConflictError(
                f"{self.describe(key)}: the index already has a different file with this name",
                hint="published files are immutable: publish the new build under a new version",
            ) from None
        return True

    def replace(self, key: str, data: bytes, *, etag: str | None) -> bool:
        digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
        if etag == ANY:
            current = self.stat(key)
            if current is not None and current.etag.strip('"') == digest:
                return False
            written = self._put(key, data)
        elif etag is None:
            written = self._put(key, data, IfNoneMatch="*")
        elif etag.strip('"') == digest:
            return False  # already these bytes (an S3 ETag of a simple upload is its MD5)
        else:
            written = self._put(key, data, IfMatch=etag)
        self._write_aliases(key, data, written)
        return True

    def overwrite(self, key: str, source: Path) -> None:
        self._put(key, source)

    def delete(self, key: str) -> bool:
        self._scanned.clear()
        if self.stat(key) is None:
            return False
        self._call(self.client.delete_object, key, Bucket=self.bucket, Key=self._key(key))
        for alias in self._aliases(key):
            self._call(self.client.delete_object, alias, Bucket=self.bucket, Key=alias)
        return True

    # --- helpers ---------------------------------------------------------------------------

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _aliases(self, key: str) -> list[str]:
        """Full keys that serve a page at the URL clients ask for (see the module docstring)."""
        folder, _, name = key.rpartition("/")
        if name == "index.html":
            return [f"{self.prefix}{folder}/"] if folder else ([self.prefix] if self.prefix else [])
        if name == "index.json":
            return [
                f"{self.prefix}{JSON_ROOT}/{folder}/" if folder else f"{self.prefix}{JSON_ROOT}/"
            ]
        return []

    def _write_aliases(self, key: str, data: bytes, etag: str) -> None:
        """Serve a page just written at its alias keys too.

        HTML pages and the root JSON page are copied server-side: whichever writer copies last
        copies the newest page. A project's JSON page moves to ``_json/<project>/``, so its
        relative file URLs are rewritten; the alias is rewritten until it matches the newest
        page (another writer may have replaced the page meanwhile).
        """
        folder = key.rpartition("/")[0]
        for alias in self._aliases(key):
            if not (folder and key.endswith("/index.json")):
                self._copy(key, alias)
                continue
            for _attempt in range(8):
                self._put_alias(alias, json_root_page(data, folder))
                current = self.read(key)
                if current is None or current.etag == etag:
                    break
                data, etag = current.data, current.etag

    def _put_alias(self, alias: str, data: bytes) -> None:
        relative = alias[len(self.prefix) :]
        self._call(
            self.client.put_object,
            alias,
            Bucket=self.bucket,
            Key=alias,
            Body=data,
            ContentType=content_type(relative),
            CacheControl=cache_control(relative),
        )

    def _put(self, key: str, source: bytes | Path, **conditions: str) -> str:
        """Put one object with its headers; its new ETag."""
        self._scanned.clear()  # a listing read before a write is not reused after it
        headers = {"ContentType": content_type(key), "CacheControl": cache_control(key)}
        with contextlib.ExitStack() as stack:
            body = source if isinstance(source, bytes) else stack.enter_context(source.open("rb"))
            reply = self._call(
                self.client.put_object,
                key,
                Bucket=self.bucket,
                Key=self._key(key),
                Body=body,
                **headers,
                **conditions,
            )
        return str(reply["ETag"])

    def _copy(self, key: str, alias: str) -> None:
        """Copy a page to an alias key, with the alias's own Content-Type."""
        self._call(
            self.client.copy_object,
            key,
            Bucket=self.bucket,
            Key=alias,
            CopySource={"Bucket": self.bucket, "Key": self._key(key)},
            MetadataDirective="REPLACE",
            ContentType=content_type(alias[len(self.prefix) :]),
            CacheControl=cache_control(key),
        )

    def _same(self, key: str, existing: ObjectInfo, source: bytes | Path) -> bool:
        size = len(source) if isinstance(source, bytes) else source.stat().st_size
        if existing.size != size:
            return False
        if existing.etag.strip('"') == _md5(source):  # a simple upload's ETag is its MD5
            return True
        with self.local_paths([key]) as paths:  # multipart or encrypted: compare the bytes
            return _sha256(Path(paths[key])) == _sha256(source)

    def _pages(self, start: str, *, flat: bool = False) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_objects_v2")
        folders = {} if flat else {"Delimiter": "/"}
        pages = paginator.paginate(Bucket=self.bucket, Prefix=start, **folders)
        iterator = iter(pages)
        while True:
            page = self._guard(start, lambda: next(iterator, None))
            if page is None:
                return
            yield page

    def _call(self, method: Callable[..., Any], key: str, *args: Any, **kwargs: Any) -> Any:
        return self._guard(key, lambda: method(*args, **kwargs))

    def _guard(self, key: str, action: Callable[[], Any]) -> Any:
        """Run one request; turn what botocore raises into our errors, naming the object."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            return action()
        except ClientError as exc:
            raise _client_error(self, key, exc) from None
        except NoCredentialsError:
            raise StoreError(
                f"{self.location}: no AWS credentials found",
                hint="set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            ) from None
        except BotoCoreError as exc:  # the endpoint is down, a read timed out...
            raise StoreError(
                f"{self.describe(key) if key else self.location}: {exc}",
                hint="check that the endpoint is reachable (AWS_ENDPOINT_URL), then run the "
                "command again: the index is valid and a re-run completes the job",
            ) from None


_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_PRECONDITION = {"412", "PreconditionFailed", "409", "ConditionalRequestConflict"}
_DENIED = {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


def _client_error(store: BucketStore, key: str, exc: Any) -> Exception:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    where = store.describe(key) if key else store.location
    if code == "NoSuchBucket" or (code in _NOT_FOUND | {"404"} and not key):
        return StoreError(
            f"s3://{store.bucket}: no such bucket",
            hint="create it (e.g. aws s3 mb s3://BUCKET), or check the name and endpoint",
        )
    if code in _NOT_FOUND or status == "404":
        return FileNotFoundError(where)
    if code in _PRECONDITION or status in ("409", "412"):
        return StaleError(f"{where}: changed by another writer since it was read")
    if code in _DENIED or status == "403":
        return StoreError(
            f"{where}: access denied ({code or status})",
            hint="check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID) and the bucket policy",
        )
    return StoreError(
        f"{where}: the S3 server answered {code or status}: {error.get('Message', '')}".rstrip(
            ": "
        ),
        hint="run the command again; the index is valid and a re-run completes the job",
    )


def json_root_page(data: bytes, project: str) -> bytes:
    """A project's PEP 691 page as served from ``_json/<project>/``: relative file URLs point
    back to ``<project>/``."""
    document = json.loads(data)
    for entry in document.get("files", ()):
        url = entry.get("url", "")
        if url and "://" not in url and not url.startswith("/"):
            entry["url"] = f"../../{project}/{url}"
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _md5(source: bytes | Path) -> str:
    if isinstance(source, bytes):
        return hashlib.md5(source, usedforsecurity=False).hexdigest()
    with source.open("rb") as stream:
        return hashlib.file_digest(stream, lambda: hashlib.md5(usedforsecurity=False)).hexdigest()


def _sha256(source: bytes | Path) -> str:
    if isinstance(source, bytes):
        return hashlib.sha256(source).hexdigest()
    with source.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()
