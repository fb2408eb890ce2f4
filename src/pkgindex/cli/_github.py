"""GitHub integration: ``dispatch``, ``init``, ``workflow index|dependent``, ``publish``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pkgindex.cli import emit
from pkgindex.config import DEFAULT_TITLE, load_config
from pkgindex.github.dispatch import DEFAULT_API_URL, DispatchRequest, dispatch, read_token
from pkgindex.github.scaffold import InitOptions, ProjectSource, init_index
from pkgindex.github.workflows import (
    DEFAULT_REQUIREMENT,
    DEFAULT_TAG_PATTERN,
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
        description="Send the 'update_package_index' repository_dispatch event to the index "
        "repository. The token comes from --token-file, else $PKG_UPDATE_TOKEN, else "
        "$GITHUB_TOKEN; it is never printed.",
    )
    parser.add_argument("--index-repo", required=True, metavar="OWNER/NAME")
    parser.add_argument("--source-owner", required=True, metavar="OWNER")
    parser.add_argument("--source-repo", required=True, metavar="REPO")
    parser.add_argument("--ref", required=True, help="branch, tag or commit SHA to build")
    parser.add_argument("--token-file", type=Path, metavar="FILE")
    parser.add_argument("--api-url", default=DEFAULT_API_URL, help="default: %(default)s")
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
        description="Write pkgindex.toml, .nojekyll, the update workflow, a README and the "
        "first pages into DIR. Running it again changes nothing; a file that differs from "
        "what init would write is kept unless --force.",
    )
    parser.add_argument("root", nargs="?", type=Path, default=Path("."), metavar="DIR")
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
        default=DEFAULT_REQUIREMENT,
        metavar="REQ",
        help="what the workflow installs (default: %(default)s)",
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
    report = init_index(args.root, options, force=args.force)
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
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("-o", "--output", type=Path, metavar="FILE", help="write FILE, not stdout")
    shared.add_argument("--branch", default="main", help="the index's default branch")
    shared.add_argument("--pkgindex-requirement", default=DEFAULT_REQUIREMENT, metavar="REQ")
    index = kinds.add_parser(
        "index", parents=[common, shared], help="the index repository's update workflow"
    )
    index.add_argument("--no-pages", action="store_true", help="leave out the Pages deployment")
    index.add_argument(
        "--root",
        type=Path,
        default=Path("."),
        help="index root whose pkgindex.toml names the apt-packages and platform tools the "
        "builds need (default: .)",
    )
    index.set_defaults(func=run_workflow)
    dependent = kinds.add_parser(
        "dependent",
        parents=[common, shared],
        help="the workflow of a repository that feeds the index",
    )
    dependent.add_argument("--index-repo", required=True, metavar="OWNER/NAME")
    dependent.add_argument("--source-owner", required=True, metavar="OWNER")
    dependent.add_argument("--source-repo", required=True, metavar="REPO")
    dependent.add_argument(
        "--tag-pattern", default=DEFAULT_TAG_PATTERN, help="default: %(default)s"
    )
    dependent.add_argument("--mode", choices=("pull", "push"), default="pull")
    dependent.set_defaults(func=run_workflow)


def run_workflow(args: argparse.Namespace) -> int:
    if args.kind == "index":
        config = load_config(args.root)
        text = index_workflow(
            branch=args.branch,
            requirement=args.pkgindex_requirement,
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
            requirement=args.pkgindex_requirement,
        )
    if args.output is None:
        sys.stdout.write(text)
        return 0
    storage.write_atomic(args.output, text.encode())
    emit(args, {"command": "workflow", "written": str(args.output)}, [str(args.output)])
    return 0


def _register_publish(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "publish",
        parents=[common],
        help="add distribution files to a git-hosted index and push (push mode)",
        description="Clone the index shallowly, add the files (same validation and "
        "immutability rules as 'add'), regenerate, commit and push; a rejected push is "
        "rebased and retried.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--index-url-git", required=True, metavar="URL")
    parser.add_argument("--branch", default="main", help="default: %(default)s")
    parser.add_argument("--replace", action="store_true", help="replace a file with other bytes")
    parser.set_defaults(func=run_publish)


def run_publish(args: argparse.Namespace) -> int:
    # Imported here: publish needs git tooling (vcs) that the other commands do not.
    from pkgindex.github.publish import provenance_from_environment, publish

    report = publish(
        args.files,
        index_url_git=args.index_url_git,
        branch=args.branch,
        replace=args.replace,
        provenance=provenance_from_environment(os.environ),
        stream=args.verbose >= 2,
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
