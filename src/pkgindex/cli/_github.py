"""GitHub integration: ``dispatch``, ``init``, ``workflow index|dependent``, ``publish``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pkgindex import __version__
from pkgindex.cli._options import add_root_argument, examples, local_root
from pkgindex.cli._output import emit
from pkgindex.cli._progress import phases
from pkgindex.cli._stores import add_store_options, store_from_args
from pkgindex.config import DEFAULT_TITLE, load_config
from pkgindex.errors import PkgIndexError
from pkgindex.github.dispatch import DEFAULT_API_URL, DispatchRequest, dispatch, read_token
from pkgindex.github.scaffold import InitOptions, ProjectSource, init_index
from pkgindex.github.selfinstall import PROJECT, installed_origin
from pkgindex.github.workflows import (
    dependent_workflow,
    index_workflow,
)
from pkgindex.stores import local as storage

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def register(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """Add this group's subcommands."""
    _register_dispatch(subparsers, common)
    _register_init(subparsers, common)
    _register_workflow(subparsers, common)
    _register_publish(subparsers, common)


def _register_dispatch(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "dispatch",
        parents=[common],
        help="tell an index repository that a source has a new version (repository_dispatch)",
        description="Tell an index repository that a source has a new version.\n\n"
        "Sends the 'update_package_index' repository_dispatch event to the index "
        "repository; its workflow then runs 'pkgindex update'. The token comes from "
        "--token-file, else $PKG_UPDATE_TOKEN, else $GITHUB_TOKEN; it is never printed.",
        epilog=examples(
            "pkgindex dispatch --index-repo GridTools/python-pkg-index \\",
            "    --source-owner GridTools --source-repo dace --ref v1.0   # $PKG_UPDATE_TOKEN",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--index-repo", required=True, metavar="OWNER/NAME")
    parser.add_argument("--source-owner", required=True, metavar="OWNER")
    parser.add_argument("--source-repo", required=True, metavar="REPO")
    parser.add_argument("--ref", required=True, help="branch, tag or commit SHA to build")
    parser.add_argument(
        "--token-file", type=Path, metavar="FILE", help="a file holding the token (one line)"
    )
    parser.add_argument(
        "--api-url",
        default=os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL,
        metavar="URL",
        help=f"the GitHub API (default: $GITHUB_API_URL, else {DEFAULT_API_URL})",
    )
    parser.set_defaults(func=run_dispatch)


def run_dispatch(args: argparse.Namespace) -> int:
    token = read_token(token_file=args.token_file, environ=os.environ)
    request = DispatchRequest(
        index_repo=args.index_repo,
        source_owner=args.source_owner,
        source_repo=args.source_repo,
        ref=args.ref,
    )
    result = dispatch(request, token=token, api_url=args.api_url)
    document = {
        "command": "dispatch",
        "index_repo": request.index_repo,
        "event_type": request.event_type,
        "client_payload": dict(request.body()["client_payload"]),
        "attempts": result.attempts,
    }
    line = (
        f"dispatched {request.event_type} to {request.index_repo}: "
        f"{request.source_owner}/{request.source_repo} at {request.ref}"
    )
    emit(args, document, [line])
    return 0


def _register_init(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "init",
        parents=[common],
        help="scaffold an index repository (config, workflow, README, first pages)",
        description="Scaffold an index repository.\n\n"
        "Writes pkgindex.toml, .nojekyll, the update workflow, a README and the first pages "
        "into the index root (created if missing), and, when this pkgindex was installed from "
        "a local folder, its own wheel in pkgindex/ for the workflow to install. Checks "
        "everything first: a folder that holds another index is refused. Running it again "
        "changes nothing; a file that differs from what init would write is kept unless --force.",
        epilog=examples(
            "pkgindex init --root my-index --title 'GT4Py packages' --project dace=GridTools/dace",
            "pkgindex init --url https://gridtools.github.io/python-pkg-index/ --force",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_root_argument(parser, positional=True, buckets=False)
    parser.add_argument("--title", default=None, help="the index's title")
    parser.add_argument("--url", help="where the index is served, e.g. the GitHub Pages URL")
    parser.add_argument(
        "--project",
        action="append",
        default=[],
        metavar="NAME=OWNER/REPO",
        help="a project and its GitHub source (repeatable)",
    )
    parser.add_argument("--branch", default="main", help="the default branch (default: main)")
    parser.add_argument(
        "--pkgindex-requirement",
        default=None,
        metavar="REQ",
        help="what the workflow's 'pip install' installs: a requirement such as "
        "'pkgindex @ git+https://github.com/OWNER/pkgindex@COMMIT' or a path to a wheel "
        "(default: worked out from how this pkgindex was installed: the same index or git "
        "commit, else its own wheel, hosted by the index in pkgindex/)",
    )
    parser.add_argument(
        "--no-pages", action="store_true", help="do not deploy GitHub Pages from the workflow"
    )
    parser.add_argument("--force", action="store_true", help="overwrite files that differ")
    parser.set_defaults(func=run_init)


def run_init(args: argparse.Namespace) -> int:
    options = InitOptions(
        title=args.title or DEFAULT_TITLE,
        url=args.url,
        projects=tuple(ProjectSource.from_argument(item) for item in args.project),
        branch=args.branch,
        requirement=args.pkgindex_requirement,
        deploy_pages=not args.no_pages,
    )
    report = init_index(local_root(args), options, force=args.force)
    lines = [f"{outcome:9} {path}" for path, outcome in report.files.items()]
    root = report.root.resolve()
    lines += [f"written   {key}" for key in report.pages.written]
    if report.kept:
        lines.append("kept files differ from what init writes; pass --force to overwrite them")
    document: dict[str, Any] = {
        "command": "init",
        "root": str(report.root),
        "files": dict(report.files),
        "pages_written": [str(root / key) for key in report.pages.written],
    }
    emit(args, document, lines)
    return 0


def _register_workflow(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "workflow",
        help="print a GitHub Actions workflow (for the index or for a dependent repository)",
        description="Print a GitHub Actions workflow, or write it with -o FILE.",
        epilog=examples(
            "pkgindex workflow index -o .github/workflows/update-python-pkg-index.yml",
            "pkgindex workflow dependent --index-repo GridTools/python-pkg-index \\",
            "    --source-owner GridTools --source-repo dace --tag-pattern 'v*'",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="write the workflow to FILE (e.g. .github/workflows/NAME.yml) instead of stdout; "
        "a FILE with other content is kept unless --force",
    )
    shared.add_argument("--force", action="store_true", help="overwrite a FILE that differs")
    shared.add_argument("--branch", default="main", help="the index's default branch")
    shared.add_argument(
        "--pkgindex-requirement",
        default=None,
        metavar="REQ",
        help="what the workflow's 'pip install' installs: a requirement such as "
        "'pkgindex @ git+https://github.com/OWNER/pkgindex@COMMIT' or a path to a wheel "
        "(default: worked out from how this pkgindex was installed: the same index or git "
        "commit, else its own wheel, hosted by the index in pkgindex/)",
    )
    index = kinds.add_parser(
        "index",
        parents=[common, shared],
        help="the index repository's update workflow",
        description="Print the index repository's update workflow (the one 'init' writes): "
        "it runs 'pkgindex update' on a repository_dispatch event and deploys GitHub Pages.",
        epilog=examples("pkgindex workflow index -o .github/workflows/update-python-pkg-index.yml"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    index.add_argument("--no-pages", action="store_true", help="leave out the Pages deployment")
    add_root_argument(
        index,
        help="the index root whose pkgindex.toml names the apt-packages and platform tools the "
        "builds need (default: .)",
        buckets=False,
    )
    index.set_defaults(func=run_workflow)
    dependent = kinds.add_parser(
        "dependent",
        parents=[common, shared],
        help="the workflow of a repository that feeds the index",
        description="Print the workflow of a repository that feeds the index: on a tag push, "
        "it dispatches an update to the index (pull mode) or builds and publishes the wheel "
        "itself (push mode). It needs the secret PKG_UPDATE_TOKEN (see docs/github.md).",
        epilog=examples(
            "pkgindex workflow dependent --index-repo GridTools/python-pkg-index \\",
            "    --source-owner GridTools --source-repo dace --tag-pattern 'v*' \\",
            "    -o .github/workflows/update-package-index.yml",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dependent.add_argument("--index-repo", required=True, metavar="OWNER/NAME")
    dependent.add_argument("--source-owner", required=True, metavar="OWNER")
    dependent.add_argument("--source-repo", required=True, metavar="REPO")
    dependent.add_argument(
        "--tag-pattern",
        default="v*",
        metavar="GLOB",
        help="the tags whose push runs the workflow, a GitHub glob (default: %(default)s)",
    )
    dependent.add_argument(
        "--mode",
        choices=("pull", "push"),
        default="pull",
        help="pull: the index builds the wheel (dispatch); push: this repository builds it and "
        "runs 'pkgindex publish' (default: pull)",
    )
    dependent.add_argument(
        "--index-url",
        metavar="URL",
        help="where the index is served, to install pkgindex's hosted wheel from "
        "(default: https://OWNER.github.io/NAME/ of --index-repo)",
    )
    dependent.set_defaults(func=run_workflow)


def run_workflow(args: argparse.Namespace) -> int:
    if args.kind == "index":
        config = load_config(local_root(args))
        text = index_workflow(
            branch=args.branch,
            requirement=args.pkgindex_requirement or _hosted_requirement("./"),
            deploy_pages=not args.no_pages,
            apt_packages=config.apt_packages,
            platform=config.needs_platform_tools,
        )
    else:
        text = dependent_workflow(
            index_repo=args.index_repo,
            source_owner=args.source_owner,
            source_repo=args.source_repo,
            tag_pattern=args.tag_pattern,
            mode=args.mode,
            branch=args.branch,
            requirement=args.pkgindex_requirement
            or _hosted_requirement(args.index_url or _pages_url(args.index_repo), direct=True),
        )
    if args.output is None:
        if args.json:
            emit(args, {"command": "workflow", "kind": args.kind, "workflow": text}, [])
        else:
            sys.stdout.write(text)
        return 0
    _refuse_overwrite(args.output, text.encode(), force=args.force)
    storage.write_atomic(args.output, text.encode())
    emit(args, {"command": "workflow", "written": str(args.output)}, [str(args.output)])
    return 0


def _publish_to_store(args: argparse.Namespace, provenance: dict[str, Any]) -> int:
    from pkgindex.github.publish import check_files
    from pkgindex.index.add import add_files

    store = store_from_args(args, args.root)
    files = check_files(args.files)
    with phases(args) as on_phase:
        on_phase(f"adding {len(files)} file{'s' if len(files) != 1 else ''} to {store.location}")
        report = add_files(store, files, replace=args.replace, provenance=provenance)
    lines = [f"added     {name}" for name in report.added]
    lines += [f"unchanged {name}" for name in report.unchanged]
    lines += [f"repaired  {name}" for name in report.repaired]
    document = {
        "command": "publish",
        "root": store.location,
        "added": list(report.added),
        "unchanged": list(report.unchanged),
        "repaired": list(report.repaired),
        "written": [store.describe(key) for key in report.written],
    }
    emit(args, document, lines)
    return 0


def _register_publish(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "publish",
        parents=[common],
        help="add distribution files to a git- or bucket-hosted index (push mode)",
        description="Add distribution files to a git- or bucket-hosted index (push mode).\n\n"
        "Clones the index shallowly, adds the files (same validation and "
        "immutability rules as 'add'), regenerates, commits and pushes; a rejected push is "
        "rebased and retried. With --root s3://BUCKET/PREFIX the files go straight into the "
        "bucket (concurrent publishers are safe: conditional writes, no lock server).",
        epilog=examples(
            "pkgindex publish dist/*.whl \\",
            "    --index-url-git https://github.com/GridTools/python-pkg-index.git",
            "pkgindex publish dist/*.whl --root s3://BUCKET/simple",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="a wheel or sdist to publish"
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--index-url-git", metavar="URL", help="the git URL of the index repository")
    where.add_argument("--root", help="an index root to add to directly: s3://BUCKET/PREFIX")
    add_store_options(parser)
    parser.add_argument("--branch", default="main", help="default: %(default)s")
    parser.add_argument("--replace", action="store_true", help="replace a file with other bytes")
    parser.set_defaults(func=run_publish)


def run_publish(args: argparse.Namespace) -> int:
    # Imported here: publish needs git tooling (vcs) that the other commands do not.
    from pkgindex.github.publish import provenance_from_environment, publish

    if args.root:
        return _publish_to_store(args, provenance_from_environment(os.environ))
    with phases(args) as on_phase:
        report = publish(
            args.files,
            index_url_git=args.index_url_git,
            branch=args.branch,
            replace=args.replace,
            provenance=provenance_from_environment(os.environ),
            stream=args.verbose >= 2,
            on_phase=on_phase,
        )
    lines = [f"added     {name}" for name in report.added]
    lines += [f"unchanged {name}" for name in report.unchanged]
    if report.commit:
        lines.append(f"pushed {report.commit} to {report.branch}")
    document = {
        "command": "publish",
        "added": list(report.added),
        "unchanged": list(report.unchanged),
        "commit": report.commit,
        "branch": report.branch,
        "attempts": report.attempts,
    }
    emit(args, document, lines)
    return 0


def _pages_url(index_repo: str) -> str:
    owner, _, name = index_repo.partition("/")
    return f"https://{owner.lower()}.github.io/{name}/"


def _hosted_requirement(base: str, *, direct: bool = False) -> str:
    """What a workflow installs when not told: see pkgindex.github.selfinstall."""
    origin = installed_origin()
    if origin.requirement:
        return origin.requirement
    wheel = f"{PROJECT}/{PROJECT}-{__version__}-py3-none-any.whl"
    location = f"{base.rstrip('/')}/{wheel}"
    return f"{PROJECT} @ {location}" if direct else location


def _refuse_overwrite(path: Path, data: bytes, *, force: bool) -> None:
    try:
        current = path.read_bytes()
    except FileNotFoundError:
        return
    if current != data and not force:
        raise PkgIndexError(
            f"{path}: exists with other content (edited, or written with other options); "
            "nothing was written",
            hint="compare it with the output without -o, or pass --force to overwrite it",
        )
