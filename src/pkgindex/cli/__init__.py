"""The command line: argument parsing, output, exit statuses. No logic of its own.

Each group of subcommands lives in its own module with a ``register(subparsers, common)`` function
that adds parsers whose ``func`` takes the parsed arguments and returns an exit status. The
conventions every subcommand follows (so that all of them behave alike):

- ``common`` as a parent: ``-v/-q/--json`` work before and after the subcommand;
- :func:`pkgindex.cli._options.add_root_argument` for the index root (``--root``, default ``.``)
  and :func:`pkgindex.cli._options.index_root` to read it;
- :func:`emit` for the result: one JSON document with ``--json``, else a summary line (and the
  details with ``-v``); :func:`pkgindex.cli._progress.progress` for a progress bar;
- a ``description`` (one line, then more) and an ``epilog`` with at least one example
  (:func:`pkgindex.cli._options.examples`).

Errors are handled here, in one place: a PkgIndexError becomes ``error:``/``hint:`` lines on stderr
(and an ``error`` object in the ``--json`` document) with its exit status; a traceback only with
``-v``. Exit statuses: see EXIT_STATUSES (the README's table says the same; a test checks it).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import NoReturn

from pkgindex import __version__
from pkgindex.cli._output import emit, emit_error, plural
from pkgindex.errors import EXIT_INTERRUPTED, EXIT_USAGE, PkgIndexError, UsageError

__all__ = ["emit", "main", "plural"]

EXIT_STATUSES = """exit statuses:
  0    success (also when there was nothing to do)
  1    failure: invalid files, a conflict with a published file, a damaged catalog
  2    usage or configuration error: a bad option, a missing or wrong index root, a bad
       pkgindex.toml
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
    "remove": "health",
    "prune": "health",
    "check": "health",
    "status": "health",
    "update": "pull",
    "build": "pull",
    "demo": "pull",
    "dispatch": "github",
    "init": "github",
    "workflow": "github",
    "publish": "github",
    "serve": "serve",
    "token": "serve",
    "sync": "stores",
}

# The top-level help lists the commands by task; a command not named here is listed under
# "other commands".
TASKS = {
    "start": ("demo", "init"),
    "keep an index of files": ("generate", "add", "yank", "unyank"),
    "keep it healthy": ("check", "remove", "prune", "status"),
    "pull mode: build from source repositories": ("update", "build"),
    "GitHub and push mode": ("dispatch", "publish", "workflow"),
    "serve over HTTP (uploads from twine, uv publish)": ("serve", "token"),
    "folders and buckets": ("sync",),
}

DESCRIPTION = """\
Host the Python packages your project needs but cannot take from PyPI.

Every command works on an index root: a folder with pkgindex.toml, pages written by pkgindex, or
project folders of distribution files (--root, default: the current folder)."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors reach main() (for the --json error document)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, hint=f"see '{self.prog} --help'")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pkgindex",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pkgindex {__version__}")
    _add_global_options(parser, default=True)
    common = argparse.ArgumentParser(add_help=False)
    _add_global_options(common, default=False)
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    command = _command_name(argv or ())
    groups = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for name in groups:
        module = importlib.import_module(f"pkgindex.cli._{name}")
        module.register(subparsers, common)
    parser.epilog = _commands_by_task(subparsers) + "\n\n" + EXIT_STATUSES
    subparsers.help = argparse.SUPPRESS  # listed by task in the epilog instead
    return parser


def _add_global_options(parser: argparse.ArgumentParser, *, default: bool) -> None:
    """-v/-q/--json on the main parser (with defaults) and on each subcommand (without, so that
    a subcommand's absent option does not reset one given before it)."""
    keep = argparse.SUPPRESS
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0 if default else keep,
        help="more output: every path written, debug logs (-vv: stream subprocess output)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=False if default else keep,
        help="print errors only",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=False if default else keep,
        help="print one JSON document on stdout (also on failure), no progress bar",
    )


def _command_name(argv: Sequence[str]) -> str | None:
    return next((arg for arg in argv if not arg.startswith("-")), None)


def _commands_by_task(subparsers: argparse._SubParsersAction[_Parser]) -> str:
    helps = {action.dest: action.help or "" for action in subparsers._choices_actions}
    lines = ["commands, by task (pkgindex COMMAND --help for examples):"]
    listed: set[str] = set()
    for task, names in [*TASKS.items(), ("other commands", tuple(helps))]:
        present = [name for name in names if name in helps and name not in listed]
        if not present:
            continue
        lines.append(f"  {task}:")
        lines += [f"    {name:10}  {helps[name]}" for name in present]
        listed.update(present)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    wants_json = (
        "--json" in arguments[: arguments.index("--")]
        if "--" in arguments
        else ("--json" in arguments)
    )
    command = _command_name(arguments)
    try:
        parser = build_parser(arguments)
        args = parser.parse_args(arguments)
    except UsageError as exc:
        return emit_error(exc, json_output=wants_json, command=command, verbose=0)
    _configure_logging(args.verbose, args.quiet)
    with _sigterm_interrupts():
        try:
            status: int = args.func(args)
        except PkgIndexError as exc:
            return emit_error(exc, json_output=args.json, command=command, verbose=args.verbose)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            return EXIT_USAGE
    return status


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (a cancelled CI job, ``timeout``, systemd) ends a command like Ctrl-C does, so
    that temporary folders and locks are cleaned up on the way out instead of left behind.
    ``serve`` replaces it with the server's graceful shutdown."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("pkgindex")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
