"""Index subcommands: generate, add, yank, unyank."""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from pkgindex.cli._options import add_root_argument, examples, open_index
from pkgindex.cli._output import emit, plural
from pkgindex.cli._progress import progress
from pkgindex.errors import EXIT_OK, EXIT_PARTIAL, ConfigError
from pkgindex.index import refresh as index

FILE_HELP = "a wheel (.whl) or sdist (.tar.gz, .zip) to add; its project folder comes from its name"


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    _register_generate(subparsers, common)
    _register_add(subparsers, common)
    for name in ("yank", "unyank"):
        _register_yank(subparsers, common, name)


def _register_generate(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    parser = subparsers.add_parser(
        "generate",
        parents=[common],
        help="write the index pages for the project folders under the index root",
        description="Write the index pages for the project folders under the index root.\n\n"
        "Scans ROOT/<project>/ folders and writes PEP 503 HTML, PEP 691 JSON and PEP 658 "
        "metadata files in place. Reads only new files; writes only changed pages. Refuses a "
        "folder that is not an index root (see 'pkgindex init').",
        epilog=examples(
            "pkgindex generate                      # the index in the current folder",
            "pkgindex generate --root index         # (also: pkgindex generate index)",
            "pkgindex generate --root index --verify -v",
            notes=[
                "exit statuses: 0 done, 1 invalid or changed files (nothing written), "
                "2 usage error or not an index root, 3 some files left out (--skip-invalid)"
            ],
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_root_argument(parser, positional=True)
    parser.add_argument("--verify", action="store_true", help="re-hash every file")
    parser.add_argument(
        "--url",
        help="the index's public URL, for the install commands on the pages (kept for later "
        "runs; default: url in pkgindex.toml)",
    )
    parser.add_argument(
        "--skip-invalid", action="store_true", help="leave invalid files out, with warnings"
    )
    parser.set_defaults(func=run_generate)


def _register_add(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    parser = subparsers.add_parser(
        "add",
        parents=[common],
        help="validate files, place them in their project folders, update the pages",
        description="Validate distribution files, copy them into their project folders and "
        "update the pages.\n\nThe same file again is a no-op (a damaged published copy is "
        "repaired); another file under a published name is refused unless --replace.",
        epilog=examples(
            "pkgindex add dist/*.whl                # into the index in the current folder",
            "pkgindex add --root index dist/dace-1.0-py3-none-any.whl",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help=FILE_HELP)
    add_root_argument(parser)
    parser.add_argument(
        "--replace",
        action="store_true",
        help="replace a published file that has other bytes (recorded in the catalog)",
    )
    parser.add_argument(
        "--restore",
        action="store_true",
        help="bring back a removed file (only with the very bytes that were removed)",
    )
    parser.add_argument("--skip-invalid", action="store_true", help="add the valid files only")
    parser.set_defaults(func=run_add)


def _register_yank(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
    name: str,
) -> None:
    yank = name == "yank"
    summary = (
        "mark a version or file as yanked (PEP 592: installers skip it unless pinned)"
        if yank
        else "undo a yank"
    )
    example = (
        "pkgindex yank --root index dace '43!2025.12.17' --reason 'broken build'"
        if yank
        else "pkgindex unyank --root index dace '43!2025.12.17'"
    )
    parser = subparsers.add_parser(
        name,
        parents=[common],
        help=summary,
        description=f"{summary[0].upper()}{summary[1:]}.",
        epilog=examples(
            example,
            f"pkgindex {name} ghex ghex-0.4.1-cp311-cp311-linux_x86_64.whl   # one file",
            notes=["Quote versions with an epoch ('43!…'): ! is special in interactive shells."],
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("project", help="the project name, e.g. dace")
    parser.add_argument("target", help="a version (all its files) or one filename")
    add_root_argument(parser)
    if yank:
        parser.add_argument("--reason", default="", help="shown to installers")
    parser.set_defaults(func=run_yank, yank=yank)


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
    started = time.monotonic()
    store = open_index(args)
    with progress(args, "reading files") as advance:
        report = index.generate(
            store,
            verify=args.verify,
            skip_invalid=args.skip_invalid,
            clock=clock_from_environment(),
            progress=advance,
            url=args.url,
        )
    parts = [plural(len(report.projects), "project"), f"{plural(len(report.indexed), 'new file')}"]
    if report.dropped:
        parts.append(f"{plural(len(report.dropped), 'file')} gone")
    parts.append(f"{plural(len(report.written), 'page')} written")
    if report.skipped:
        parts.append(f"{plural(len(report.skipped), 'problem')} skipped")
    summary = f"{', '.join(parts)} in {time.monotonic() - started:.1f} s"
    written = [store.describe(key) for key in report.written] if args.json or args.verbose else []
    emit(
        args,
        {
            "command": "generate",
            "projects": list(report.projects),
            "indexed": list(report.indexed),
            "dropped": list(report.dropped),
            "written": written,
            "skipped": [problem.message for problem in report.skipped],
            "timings": {step: round(seconds, 4) for step, seconds in report.timings.items()},
        },
        [summary],
        details=[f"written {path}" for path in written]
        + [f"{step}: {seconds:.3f} s" for step, seconds in report.timings.items()],
    )
    return EXIT_PARTIAL if report.skipped else EXIT_OK


def run_add(args: argparse.Namespace) -> int:
    store = open_index(args)
    from pkgindex.index.add import add_files  # deferred: generate does not need it

    report = add_files(
        store,
        args.files,
        replace=args.replace,
        restore=args.restore,
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
            "command": "add",
            "added": list(report.added),
            "unchanged": list(report.unchanged),
            "repaired": list(report.repaired),
            "written": [store.describe(key) for key in report.written],
            "skipped": [problem.message for problem in report.skipped],
        },
        lines,
        details=[f"written {store.describe(key)}" for key in report.written],
    )
    return EXIT_PARTIAL if report.skipped else EXIT_OK


def run_yank(args: argparse.Namespace) -> int:
    reason = args.reason if args.yank else None
    from pkgindex.index.yank import set_yanked  # deferred: generate does not need it

    changed = set_yanked(open_index(args), args.project, args.target, reason)
    verb = "yanked" if args.yank else "unyanked"
    emit(args, {"command": verb[:-2], verb: list(changed)}, [f"{verb} {name}" for name in changed])
    return EXIT_OK
