"""Where an index lives: the Store protocol (base), a local folder (local), an S3 bucket (s3).

:func:`open_store` is the one place that turns what the user wrote as a root (``DIR`` or
``s3://BUCKET/PREFIX``) into a store; only the CLI and the server call it.
"""

from __future__ import annotations

from pathlib import Path

from pkgindex.stores.base import Store


def open_store(
    root: str | Path,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    profile: str | None = None,
) -> Store:
    """The store for ROOT: a folder path, or ``s3://BUCKET/PREFIX`` for a bucket (its client
    configured by the AWS chain, with these overrides)."""
    text = str(root)
    if text.startswith("s3://"):
        from pkgindex.stores.s3 import BucketOptions, open_bucket  # deferred: optional extra

        options = BucketOptions(endpoint_url=endpoint_url, region=region, profile=profile)
        return open_bucket(text, options)
    from pkgindex.stores.local import LocalStore

    return LocalStore(Path(text))
