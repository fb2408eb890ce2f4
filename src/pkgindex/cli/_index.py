"""Index subcommands: generate, add, yank, unyank."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path

from pkgindex.cli import emit
from pkgindex.cli._stores import ROOT_HELP, add_store_options, store_from_args
from pkgindex.errors import EXIT_OK, EXIT_PARTIAL, ConfigError
from pkgindex.index import refresh as index


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    generate = subparsers.add_parser(
        "generate",
        parents=[common],
        help="scan project folders and write the index pages in place",
        description="Scan the project folders under ROOT and write PEP 503 HTML, PEP 691 JSON "
        "and PEP 658 metadata files in place. Reads only new files; writes only changed pages.",
        epilog="exit statuses: 0 done, 1 invalid or changed files (nothing written), "
        "2 usage or configuration error, 3 some files left out (--skip-invalid)",
    )
    generate.add_argument(
        "root",
        nargs="?",
        default=".",
        help=ROOT_HELP,
    )
    generate.add_argument("--verify", action="store_true", help="re-hash every file")
    generate.add_argument(
        "--skip-invalid", action="store_true", help="leave invalid files out, with warnings"
    )
    add_store_options(generate)
    generate.set_defaults(func=run_generate)

    add = subparsers.add_parser(
        "add",
        parents=[common],
        help="validate files, place them in their project folders, update the pages",
    )
    add.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add.add_argument("--root", default=".", help=ROOT_HELP)
    add.add_argument(
        "--replace",
        action="store_true",
        help="replace a published file that has other bytes (recorded in the catalog)",
    )
    add.add_argument("--skip-invalid", action="store_true", help="add the valid files only")
    add_store_options(add)
    add.set_defaults(func=run_add)

    for name, helptext in (("yank", "mark files as yanked"), ("unyank", "undo a yank")):
        parser = subparsers.add_parser(name, parents=[common], help=helptext)
        parser.add_argument("project")
        parser.add_argument("target", help="a version (all its files) or one filename")
        parser.add_argument("--root", default=".", help=ROOT_HELP)
        if name == "yank":
            parser.add_argument("--reason", default="", help="shown to installers")
        add_store_options(parser)
        parser.set_defaults(func=run_yank, yank=name == "yank")


def clock_from_environment() -> index.Clock:
    """SOURCE_DATE_EPOCH, when set, fixes the upload time of new files (reproducible runs)."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if not value:
        return index.utc_now
    try:
        moment = datetime.fromtimestamp(int(value), UTC)
    except ValueError:
        raise ConfigError(
            f"SOURCE_DATE_EPOCH={value!r} is not a number of seconds",
            hint="unset it, or set it to an integer such as $(git log -1 --format=%ct)",
        ) from None
    return lambda: moment


def run_generate(args: argparse.Namespace) -> int:
    store = store_from_args(args, args.root)
    report = index.generate(
        store,
        verify=args.verify,
        skip_invalid=args.skip_invalid,
        clock=clock_from_environment(),
    )
    lines = [store.describe(key) for key in report.written]
    lines.append(
        f"{len(report.projects)} projects, {len(report.indexed)} new files, "
        f"{len(report.written)} pages written"
    )
    emit(
        args,
        {
            "projects": list(report.projects),
            "indexed": list(report.indexed),
            "dropped": list(report.dropped),
            "written": [store.describe(key) for key in report.written],
            "skipped": [problem.message for problem in report.skipped],
        },
        lines,
    )
    return EXIT_PARTIAL if report.skipped else EXIT_OK


def run_add(args: argparse.Namespace) -> int:
    store = store_from_args(args, args.root)
    report = index.add_files(
        store,
        args.files,
        replace=args.replace,
        skip_invalid=args.skip_invalid,
        clock=clock_from_environment(),
    )
    lines = [f"added {name}" for name in report.added]
    lines += [
        f"unchanged {name} (already published with the same bytes)" for name in report.unchanged
    ]
    lines += [
        f"repaired {name} (the stored file did not match the catalog; restored from these bytes)"
        for name in report.repaired
    ]
    emit(
        args,
        {
            "added": list(report.added),
            "unchanged": list(report.unchanged),
            "repaired": list(report.repaired),
            "written": [store.describe(key) for key in report.written],
            "skipped": [problem.message for problem in report.skipped],
        },
        lines,
    )
    return EXIT_PARTIAL if report.skipped else EXIT_OK


def run_yank(args: argparse.Namespace) -> int:
    reason = args.reason if args.yank else None
    changed = index.set_yanked(store_from_args(args, args.root), args.project, args.target, reason)
    verb = "yanked" if args.yank else "unyanked"
    emit(args, {verb: list(changed)}, [f"{verb} {name}" for name in changed])
    return EXIT_OK
