"""Keeping an index healthy: remove, prune, check, status."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName

from pkgindex.cli import emit, plural
from pkgindex.cli._options import add_root_argument, examples, open_index
from pkgindex.cli._progress import progress
from pkgindex.errors import EXIT_FAILURE, EXIT_OK
from pkgindex.index import check, prune, remove, status
from pkgindex.index.model import STATUSES
from pkgindex.stores.base import Store


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    parser = subparsers.add_parser(
        "remove",
        parents=[common],
        help="take versions or files out of the index (remembered: never back with other bytes)",
        description="Remove versions (all their files) or single files from the pages and the "
        "store. The filename and its sha256 stay in the catalog: the name can never be published "
        "again with other bytes, and the same bytes return only with 'pkgindex add --restore'. "
        "Prefer 'pkgindex yank' for a broken release that users may have pinned.",
        epilog=examples(
            "pkgindex remove --root index dace '43!2026.4.27' --reason 'wrong commit'",
            "pkgindex remove --root index ghex ghex-0.4.1-cp311-cp311-linux_x86_64.whl --dry-run",
            notes=["exit statuses: 0 done, 1 unknown project or version, 2 a pinned version"],
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("project")
    parser.add_argument("targets", nargs="+", metavar="VERSION|FILENAME")
    _root(parser)
    parser.add_argument("--reason", help="recorded with the tombstone")
    parser.add_argument("--dry-run", action="store_true", help="say what would go; change nothing")
    parser.set_defaults(func=run_remove)

    parser = subparsers.add_parser(
        "prune",
        parents=[common],
        help="remove old versions (nightly builds), keeping the newest N; a dry run unless --yes",
        description="Remove all but the newest N versions of each project (or of PROJECTs). "
        "Never removes a version pinned with keep = [...] in pkgindex.toml, one matching "
        "--keep-pattern, one uploaded in the last --older-than days, or the last version that is "
        "not yanked. Prints the plan; --yes carries it out (removals are recorded like remove).",
        epilog=examples(
            "pkgindex prune --root index --keep 5                 # the plan only",
            "pkgindex prune --root index dace --keep 5 --older-than 30 --yes",
            "pkgindex prune --root index --keep 3 --keep-pattern '*.post*' --json",
            notes=["exit statuses: 0 done (or planned), 1 unknown project, 2 usage error"],
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("projects", nargs="*", metavar="PROJECT", help="default: every project")
    parser.add_argument("--keep", type=int, required=True, metavar="N", help="newest versions kept")
    parser.add_argument("--older-than", type=int, metavar="DAYS", help="only remove older uploads")
    parser.add_argument(
        "--keep-pattern",
        action="append",
        default=[],
        metavar="GLOB",
        help="keep versions or filenames matching this shell pattern (repeatable)",
    )
    parser.add_argument("--yes", action="store_true", help="remove; without it, only the plan")
    _root(parser)
    parser.set_defaults(func=run_prune)

    parser = subparsers.add_parser(
        "check",
        parents=[common],
        help="re-hash every file against the catalog; find orphans, missing files, stale pages",
        description="Audit the index without changing it: re-hash every distribution and "
        "metadata file against the catalog (on every core), find orphans, missing files, removed "
        "files that are back, pages that are stale or disagree with the catalog, and sizes near "
        "GitHub's limits (100 MiB per file, 50 MiB warning, 1 GB per Pages site).",
        epilog=examples(
            "pkgindex check --root index",
            "pkgindex check --root s3://my-bucket/simple --json",
            "pkgindex check --root index --install   # also install and import every project",
            notes=[
                "exit statuses: 0 no problem (warnings allowed), 1 problems found, 2 usage error"
            ],
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _root(parser)
    parser.add_argument(
        "--install",
        action="store_true",
        help="also install the newest wheel of every project into a fresh environment (uv) and "
        "import it",
    )
    parser.set_defaults(func=run_check)

    parser = subparsers.add_parser(
        "status",
        parents=[common],
        help="set a project's status marker (PEP 792): active, archived, deprecated, quarantined",
        description="Archived and quarantined projects accept no new files; a quarantined "
        "project's pages offer no files. 'active' clears the marker.",
        epilog=examples(
            "pkgindex status --root index ghex archived --reason 'moved to ghex2'",
            "pkgindex status --root index ghex active",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("project")
    parser.add_argument("state", choices=STATUSES, metavar="STATE", help=", ".join(STATUSES))
    parser.add_argument("--reason", help="shown on the pages and to installers")
    _root(parser)
    parser.set_defaults(func=run_status)


def _root(parser: argparse.ArgumentParser) -> None:
    add_root_argument(parser)


def run_remove(args: argparse.Namespace) -> int:
    report = remove.remove(
        open_index(args),
        args.project,
        args.targets,
        reason=args.reason,
        dry_run=args.dry_run,
    )
    verb = "would remove" if report.dry_run else "removed"
    lines = [f"{verb} {report.project}/{name}" for name in report.removed]
    done = "would be removed" if report.dry_run else "removed"
    lines.append(f"{plural(len(report.removed), 'file')} {done} from {report.project}")
    emit(
        args,
        {
            "command": "remove",
            "project": report.project,
            "dry_run": report.dry_run,
            "removed": list(report.removed),
            "deleted": list(report.deleted),
            "written": list(report.written),
        },
        lines,
        details=[f"written {page}" for page in report.written]
        + [f"deleted {key}" for key in report.deleted],
    )
    return EXIT_OK


def run_prune(args: argparse.Namespace) -> int:
    report = prune.prune(
        open_index(args),
        args.projects,
        keep=args.keep,
        older_than_days=args.older_than,
        keep_patterns=args.keep_pattern,
        apply=args.yes,
    )
    removals = report.removals
    files = sum(len(plan.files) for plan in removals)
    size = sum(plan.size for plan in removals)
    projects = len({plan.project for plan in removals})
    what = (
        f"{plural(len(removals), 'version')} ({plural(files, 'file')}, {_size(size)}) "
        f"of {plural(projects, 'project')}"
    )
    summary = f"removed {what}" if report.applied else f"would remove {what}"
    if not removals:
        summary = "nothing to remove"
    elif not report.applied:
        summary += "; run again with --yes to remove them"
    if args.json:
        emit(args, {"command": "prune", "applied": report.applied, "versions": _plans(report)}, [])
    elif not args.quiet:
        _print_prune_table(report)
        print(summary)
    return EXIT_OK


def _plans(report: prune.PruneReport) -> list[dict[str, Any]]:
    return [
        {
            "project": plan.project,
            "version": plan.version,
            "action": "remove" if plan.remove else "keep",
            "why": plan.why,
            "files": [f.filename for f in plan.files],
            "size": plan.size,
            "uploaded": plan.uploaded.isoformat().replace("+00:00", "Z"),
        }
        for plan in report.plans
    ]


def _print_prune_table(report: prune.PruneReport) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for heading in ("project", "version", "files", "size", "uploaded", "action", "why"):
        table.add_column(heading, justify="right" if heading in ("files", "size") else "left")
    for plan in report.plans:
        action = "remove" if plan.remove else "keep"
        style = "red" if plan.remove else None
        table.add_row(
            plan.project,
            plan.version,
            str(len(plan.files)),
            _size(plan.size),
            plan.uploaded.strftime("%Y-%m-%d %H:%M"),
            "would remove" if plan.remove and not report.applied else action,
            plan.why,
            style=style,
        )
    width = None if sys.stdout.isatty() else 200  # a pipe or file gets whole lines
    Console(width=width, highlight=False).print(table)


def run_check(args: argparse.Namespace) -> int:
    store = open_index(args)
    with progress(args, "re-hashing files") as advance, _installer(args, store) as install:
        report = check.check_index(store, progress=advance, install=install)
    document = {
        "command": "check",
        "ok": not report.problems,
        "problems": [_finding(f) for f in report.problems],
        "warnings": [_finding(f) for f in report.warnings],
        "projects": [{"name": u.name, "files": u.files, "size": u.size} for u in report.usage],
        "total_size": report.total_size,
        "hashed": report.hashed,
        "installed": list(report.installed),
    }
    lines = [f"{f.severity}: {f.path}: {f.message} [{f.kind}]" for f in report.findings]
    lines += [f"{u.name}: {plural(u.files, 'file')}, {_size(u.size)}" for u in report.usage]
    lines += [f"installed and imported {name}" for name in report.installed]
    lines.append(
        f"{plural(len(report.problems), 'problem')}, {plural(len(report.warnings), 'warning')}; "
        f"{plural(report.hashed, 'file')} re-hashed in {plural(len(report.usage), 'project')} "
        f"({_size(report.total_size)})"
    )
    emit(args, document, lines)
    return EXIT_FAILURE if report.problems else EXIT_OK


def _finding(finding: check.Finding) -> dict[str, str]:
    return {"kind": finding.kind, "path": finding.path, "message": finding.message}


@contextmanager
def _installer(args: argparse.Namespace, store: Store) -> Iterator[check.Installer | None]:
    """Install a wheel into a fresh environment with uv and import it (pull mode's check)."""
    if not args.install:
        yield None
        return
    from pkgindex.errors import PkgIndexError
    from pkgindex.index.pages import load_store_config
    from pkgindex.process import Runner
    from pkgindex.pull.verify import verify_wheel
    from pkgindex.stores.local import LocalStore

    config = load_store_config(store)
    # dependencies: this index first (never upstream for what it hosts), then upstream-index
    own_index = store.root.as_uri() if isinstance(store, LocalStore) else config.url
    with tempfile.TemporaryDirectory(prefix="pkgindex-check-") as work:
        runner = Runner(log_dir=Path(work) / "logs", stream=args.verbose >= 2)

        def install(name: NormalizedName, wheel: Path) -> str | None:
            directory = Path(work) / name
            directory.mkdir()
            try:
                verify_wheel(
                    wheel,
                    directory,
                    config.project(name),
                    runner=runner,
                    own_index=own_index,
                    upstream_index=config.upstream_index,
                )
            except PkgIndexError as exc:
                return exc.message.split("\n")[0]
            return None

        yield install


def run_status(args: argparse.Namespace) -> int:
    store = open_index(args)
    changed = status.set_status(store, args.project, args.state, args.reason)
    reason = f" ({args.reason})" if args.reason else ""
    line = f"{args.project}: {args.state}{reason}" + ("" if changed else " (unchanged)")
    document = {"command": "status", "project": args.project, "status": args.state}
    emit(args, {**document, "changed": changed}, [line])
    return EXIT_OK


def _size(size: int) -> str:
    if size < 1000:
        return f"{size} B"
    for unit in ("kB", "MB", "GB"):
        size_in_unit = size / 1000 ** ("kMG".index(unit[0]) + 1)
        if size_in_unit < 1000 or unit == "GB":
            break
    return f"{size_in_unit:.1f} {unit}"
