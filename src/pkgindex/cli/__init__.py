"""The command line: argument parsing, output, exit statuses. No logic of its own.

Each group of subcommands lives in its own module with a ``register(subparsers)`` function that
adds parsers whose ``func`` takes the parsed arguments and returns an exit status. Errors are
handled here, in one place: a PkgIndexError becomes ``error:``/``hint:`` lines on stderr and its
exit status; a traceback is shown only with ``-v``.

Exit statuses: 0 success, 1 failure, 2 usage or configuration error, 3 partial failure of a
batch, 4 git, 5 build, 6 verification, 7 push failed after retries, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from pkgindex import __version__
from pkgindex.errors import EXIT_INTERRUPTED, EXIT_USAGE, PkgIndexError, ValidationError

SCHEMA_VERSION = 1
EXIT_STATUSES = """exit statuses:
  0    success (also when there was nothing to do)
  1    failure: invalid files, a conflict with a published file, a damaged catalog
  2    usage or configuration error
  3    partial: some files were left out (--skip-invalid)
  4    git fetch or clone failed
  5    build failed
  6    verification failed (the wheel did not install or import)
  7    push failed after the retries
  130  interrupted"""

# Which module registers each subcommand. Only the module of the command being run is imported,
# so that `pkgindex generate` does not pay for importing the git, build and HTTP machinery.
COMMANDS = {
    "generate": "index",
    "add": "index",
    "yank": "index",
    "unyank": "index",
    "update": "pull",
    "build": "pull",
    "demo": "pull",
    "dispatch": "github",
    "init": "github",
    "workflow": "github",
    "publish": "github",
    "sync": "stores",
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pkgindex",
        description="Host the Python packages your project needs but cannot take from PyPI.",
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pkgindex {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more output (-vv: stream subprocess output)",
    )
    common.add_argument("-q", "--quiet", action="store_true", help="only errors")
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    command = next((arg for arg in argv or () if not arg.startswith("-")), None)
    groups = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for name in groups:
        module = importlib.import_module(f"pkgindex.cli._{name}")
        module.register(subparsers, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)
    _configure_logging(args.verbose, args.quiet)
    try:
        status: int = args.func(args)
    except ValidationError as exc:
        for problem in exc.problems:
            _print_error(problem)
        _print_error(exc)
        _traceback(args, exc)
        return exc.exit_status
    except PkgIndexError as exc:
        _print_error(exc)
        _traceback(args, exc)
        return exc.exit_status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_USAGE
    return status


def emit(args: argparse.Namespace, document: dict[str, Any], lines: Sequence[str]) -> None:
    """Print a result: one JSON document with --json, else human lines (unless -q)."""
    if args.json:
        json.dump({"schema_version": SCHEMA_VERSION, **document}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif not args.quiet:
        for line in lines:
            print(line)


def _print_error(exc: PkgIndexError) -> None:
    print(f"error: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"  hint: {exc.hint}", file=sys.stderr)


def _traceback(args: argparse.Namespace, exc: BaseException) -> None:
    if args.verbose:
        logging.getLogger("pkgindex").debug("traceback", exc_info=exc)


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("pkgindex")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
