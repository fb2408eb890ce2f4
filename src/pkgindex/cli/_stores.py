"""Store options shared by every command that takes an index root, and ``pkgindex sync``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pkgindex.cli import emit
from pkgindex.errors import EXIT_OK
from pkgindex.stores import open_store
from pkgindex.stores.base import Store

if TYPE_CHECKING:
    from pkgindex.index.sync import Progress, SyncPlan

ROOT_HELP = "index root: a folder or s3://BUCKET/PREFIX (default: .)"


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """Overrides of the AWS configuration chain, for bucket roots."""
    group = parser.add_argument_group("bucket roots (s3://BUCKET/PREFIX)")
    group.add_argument(
        "--endpoint-url", help="S3 API endpoint (default: AWS_ENDPOINT_URL, or AWS itself)"
    )
    group.add_argument("--region", help="bucket region (default: AWS_REGION, ~/.aws/config)")
    group.add_argument("--profile", help="AWS profile (default: AWS_PROFILE)")


def store_from_args(args: argparse.Namespace, root: str) -> Store:
    return open_store(
        root,
        endpoint_url=getattr(args, "endpoint_url", None),
        region=getattr(args, "region", None),
        profile=getattr(args, "profile", None),
    )


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    parser = subparsers.add_parser(
        "sync",
        parents=[common],
        help="copy an index between a folder and a bucket, only what is missing",
        description="Copy an index between a folder and a bucket, only what is missing.\n\n"
        "Copies every project of SOURCE into DEST (folders or s3://BUCKET/PREFIX), "
        "only the files DEST lacks, each checked against the sha256 in SOURCE's catalog; "
        "then the pages. The way off GitHub Pages, and the way to keep a mirror or backup.",
        epilog="examples:\n  pkgindex sync ./index s3://my-bucket/simple\n"
        "  pkgindex sync s3://my-bucket/simple ./backup",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", metavar="SOURCE", help="the index to copy from")
    parser.add_argument("destination", metavar="DEST", help="the index to copy into")
    add_store_options(parser)
    parser.set_defaults(func=run_sync)


def run_sync(args: argparse.Namespace) -> int:
    from pkgindex.index.sync import plan_sync, sync  # deferred: only this command needs it

    source = store_from_args(args, args.source)
    destination = store_from_args(args, args.destination)
    plan = plan_sync(source)
    with _progress_bar(args, plan) as progress:
        report = sync(source, destination, plan=plan, progress=progress)
    lines = [f"copied {destination.describe(key)}" for key in report.copied] if args.verbose else []
    lines.append(
        f"{len(report.projects)} projects: {len(report.copied)} files copied "
        f"({report.bytes_copied} bytes), {report.present} already present, "
        f"{len(report.pages)} pages written"
    )
    emit(
        args,
        {
            "command": "sync",
            "source": source.location,
            "destination": destination.location,
            "projects": report.projects,
            "copied": report.copied,
            "present": report.present,
            "bytes_copied": report.bytes_copied,
            "pages": report.pages,
        },
        lines,
    )
    return EXIT_OK


@contextmanager
def _progress_bar(args: argparse.Namespace, plan: SyncPlan) -> Iterator[Progress | None]:
    """A rich progress bar on a terminal (never with --json or -q, nor without a terminal)."""
    if args.json or args.quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.progress import (
        Progress as Bar,
    )

    with Bar(
        TextColumn("sync"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("sync", total=plan.total_bytes)
        yield lambda _key, size: bar.advance(task, size)
