"""Pull-mode subcommands: update, build, demo. Each calls one function of pkgindex.pull.update."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from pkgindex.cli import emit
from pkgindex.config import load_config
from pkgindex.errors import EXIT_OK
from pkgindex.pull import demo as demos
from pkgindex.pull import update as pipelines
from pkgindex.pull.vcs import RetryPolicy


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Add update, build and demo."""
    update = subparsers.add_parser(
        "update",
        parents=[common],
        help="build OWNER/REPO at REF, verify it, add it to the index, commit and push",
        description="Pull mode: fetch a source repository at a ref (with submodules), build its "
        "wheel in isolation, install it into a fresh environment and import it, add it to the "
        "index with its provenance, then commit and push when ROOT is in a git checkout. "
        "Exit statuses: 4 fetch, 5 build, 6 verify, 7 push.",
    )
    update.add_argument("--source-owner", required=True, metavar="OWNER")
    update.add_argument("--source-repo", required=True, metavar="REPO")
    update.add_argument("--ref", required=True, help="a branch, a tag or a full commit SHA")
    update.add_argument("--root", default=Path("."), type=Path, help="index root (default: .)")
    update.add_argument(
        "--source-url",
        default=os.environ.get("PKGINDEX_SOURCE_URL"),
        metavar="TEMPLATE",
        help="clone URL template with {owner} and {repo} (env PKGINDEX_SOURCE_URL; "
        "default: source-url in pkgindex.toml, else https://github.com/{owner}/{repo}.git)",
    )
    update.add_argument(
        "--replace",
        action="store_true",
        help="replace a published file that has other bytes (recorded in the catalog)",
    )
    update.add_argument("--no-commit", action="store_true", help="do not commit or push")
    update.add_argument("--push-attempts", type=int, default=5, metavar="N", help="default: 5")
    _add_frontend(update)
    update.set_defaults(func=run_update)

    build = subparsers.add_parser(
        "build",
        parents=[common],
        help="fetch, build and verify a wheel without publishing it",
        description="Build SOURCE (a folder, a git URL or OWNER/REPO) in isolation and verify the "
        "wheel in a fresh environment. A folder without --ref is built as it is.",
    )
    build.add_argument("source", metavar="SOURCE")
    build.add_argument("--ref", help="branch, tag or full commit SHA (default: the default branch)")
    build.add_argument("-o", "--out-dir", default=Path("dist"), type=Path, help="default: dist")
    build.add_argument(
        "--root",
        type=Path,
        default=Path("."),
        help="folder with pkgindex.toml; when it is an index, verification takes the projects it "
        "hosts from it (default: .)",
    )
    _add_frontend(build)
    build.set_defaults(func=run_build)

    demo = subparsers.add_parser(
        "demo",
        parents=[common],
        help="run the whole pull-mode pipeline on a sample repository, into a local index",
    )
    demo.add_argument("--root", type=Path, help="index root (default: a new temporary folder)")
    demo.set_defaults(func=run_demo)


def _add_frontend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--frontend", choices=("uv", "build"), default="uv", help="build frontend (default: uv)"
    )


def run_update(args: argparse.Namespace) -> int:
    report = pipelines.update(
        args.root,
        owner=args.source_owner,
        repo=args.source_repo,
        ref=args.ref,
        source_url=args.source_url,
        replace=args.replace,
        commit=not args.no_commit,
        frontend=args.frontend,
        retry=RetryPolicy(attempts=max(1, args.push_attempts)),
        stream=args.verbose >= 2,
    )
    if report.up_to_date:
        lines = [f"up to date: {name} (built from {report.commit[:12]})" for name in report.files]
    else:
        lines = [str(args.root / _project_folder(name) / name) for name in report.files]
        if report.pushed:
            lines.append(f"pushed {report.index_commit}")
    emit(args, _update_document(report), lines)
    return EXIT_OK


def run_build(args: argparse.Namespace) -> int:
    own_index = args.root.resolve().as_uri() if (args.root / "index.html").is_file() else None
    report = pipelines.build(
        args.source,
        args.out_dir,
        ref=args.ref,
        config=load_config(args.root),
        own_index=own_index,
        frontend=args.frontend,
        stream=args.verbose >= 2,
    )
    document = {
        "source": report.source,
        "commit": report.commit,
        "files": [str(path) for path in report.files],
        "timings": report.timings,
    }
    emit(args, document, [str(path) for path in report.files])
    return EXIT_OK


def run_demo(args: argparse.Namespace) -> int:
    report = demos.demo(args.root, stream=args.verbose >= 2)
    url = report.index_url
    lines = [
        f"index: {report.root}",
        *(f"  {name}" for name in report.update.files),
        *([f"pushed to {report.origin}"] if report.origin else []),
        "",
        "install from it:",
        f"  uv pip install --index-url {url} {report.project}",
        f"  pip install --index-url {url} {report.project}",
        '  python -c "import pkgindex_demo; print(pkgindex_demo.hello())"',
    ]
    document = {
        "root": str(report.root),
        "index_url": url,
        "origin": str(report.origin) if report.origin else None,
        "update": _update_document(report.update),
    }
    emit(args, document, lines)
    return EXIT_OK


def _update_document(report: pipelines.UpdateReport) -> dict[str, Any]:
    return {
        "source": report.source,
        "ref": report.ref,
        "commit": report.commit,
        "files": list(report.files),
        "up_to_date": report.up_to_date,
        "pushed": report.pushed,
        "index_commit": report.index_commit,
        "timings": report.timings,
        "backend_seconds": report.backend_seconds,
    }


def _project_folder(filename: str) -> str:
    from pkgindex.index.distfile import parse_filename

    return parse_filename(filename).name
