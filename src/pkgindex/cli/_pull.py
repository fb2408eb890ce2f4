"""Pull-mode subcommands: update, build, demo. Each calls one function of pkgindex.pull.update."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from pkgindex.cli._options import (
    add_root_argument,
    examples,
    index_root,
    is_bucket,
    local_root,
    open_index,
)
from pkgindex.cli._output import emit
from pkgindex.cli._progress import phases
from pkgindex.config import load_config
from pkgindex.errors import EXIT_OK
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
        description="Build OWNER/REPO at REF, verify it, add it to the index, commit and push."
        "\n\nPull mode: fetch a source repository at a ref (with submodules), build its "
        "wheel in isolation, install it into a fresh environment and import it, add it to the "
        "index with its provenance, then commit and push when the index root is in a git "
        "checkout. The index root must exist (see 'pkgindex init').",
        epilog=examples(
            "pkgindex update --source-owner GridTools --source-repo dace \\",
            "    --ref v1.0 --root path/to/index-checkout",
            "pkgindex update --source-owner me --source-repo tool --ref main --no-commit",
            notes=[
                "exit statuses: 2 usage or not an index root, 4 fetch, 5 build, 6 verify, 7 push"
            ],
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    update.add_argument("--source-owner", required=True, metavar="OWNER")
    update.add_argument("--source-repo", required=True, metavar="REPO")
    update.add_argument("--ref", required=True, help="a branch, a tag or a full commit SHA")
    add_root_argument(
        update,
        help="the index root: a folder (committed and pushed when in a git checkout) or "
        "s3://BUCKET/PREFIX (written directly) (default: .)",
    )
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
        description="Fetch, build and verify a wheel without publishing it.\n\n"
        "Build SOURCE (a folder, a git URL or OWNER/REPO) in isolation and verify the "
        "wheel in a fresh environment. A folder without --ref is built as it is. Build "
        "settings come from pkgindex.toml in --root, if there is one.",
        epilog=examples(
            "pkgindex build .                       # the project in the current folder",
            "pkgindex build GridTools/dace --ref v1.0 -o dist",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build.add_argument(
        "source", metavar="SOURCE", help="a folder, a git URL, or OWNER/REPO on GitHub"
    )
    build.add_argument("--ref", help="branch, tag or full commit SHA (default: the default branch)")
    build.add_argument("-o", "--out-dir", default=Path("dist"), type=Path, help="default: dist")
    add_root_argument(
        build,
        help="an index root whose pkgindex.toml has the build settings; verification takes "
        "the projects it hosts from it (default: .)",
        buckets=False,
    )
    _add_frontend(build)
    build.set_defaults(func=run_build)

    demo = subparsers.add_parser(
        "demo",
        parents=[common],
        help="run the whole pull-mode pipeline on a sample repository, into a local index",
        description="Run the whole pull-mode pipeline on a sample repository, into a local "
        "index.\n\nMakes a small git repository, then runs 'pkgindex update' on it: fetch, "
        "build, verify, add, commit and push (to a bare repository beside the index). Without "
        "--root the index is kept in ~/.cache/pkgindex/demo/ ($XDG_CACHE_HOME), replaced by "
        "the next demo.",
        epilog=examples("pkgindex demo", "pkgindex demo --root /tmp/demo-index --json"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_root_argument(
        demo,
        help="the index root (created if missing; default: ~/.cache/pkgindex/demo/index)",
        default=None,
        buckets=False,
    )
    demo.set_defaults(func=run_demo)


def _add_frontend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--frontend", choices=("uv", "build"), default="uv", help="build frontend (default: uv)"
    )


def run_update(args: argparse.Namespace) -> int:
    root = index_root(args) or "."
    store = open_index(args) if is_bucket(root) else None
    if store is None:
        open_index(args)  # checks that the folder is an index root
    with phases(args) as on_phase:
        report = pipelines.update(
            Path("." if store else root),
            owner=args.source_owner,
            repo=args.source_repo,
            ref=args.ref,
            source_url=args.source_url,
            replace=args.replace,
            commit=not args.no_commit,
            frontend=args.frontend,
            retry=RetryPolicy(attempts=max(1, args.push_attempts)),
            stream=args.verbose >= 2,
            store=store,
            on_phase=on_phase,
        )
    if report.up_to_date:
        lines = [f"up to date: {name} (built from {report.commit[:12]})" for name in report.files]
    else:
        lines = [f"added {name}" for name in report.files]
        if report.pushed:
            lines.append(f"pushed {report.index_commit}")
    emit(args, _update_document(report), lines)
    return EXIT_OK


def run_build(args: argparse.Namespace) -> int:
    with phases(args) as on_phase:
        report = pipelines.build(
            args.source,
            args.out_dir,
            ref=args.ref,
            config=load_config(local_root(args)),
            own_index=_own_index(local_root(args)),
            frontend=args.frontend,
            stream=args.verbose >= 2,
            on_phase=on_phase,
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
    root = index_root(args)
    with phases(args) as on_phase:
        report = pipelines.demo(
            Path(root) if root else None, stream=args.verbose >= 2, on_phase=on_phase
        )
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


def _own_index(root: Path) -> str | None:
    """``root`` as an index URL for verification, when it holds an index."""
    return root.resolve().as_uri() if (root / "index.html").is_file() else None
