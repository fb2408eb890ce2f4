"""Results and errors on stdout/stderr: one JSON document with --json, else lines for people.

The ``--json`` document always has ``schema_version``; on failure it has an ``error`` object
(``message``, ``hint``, ``exit_status``, ``problems``) and the same status is the exit status.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from pkgindex.errors import PkgIndexError, ValidationError

SCHEMA_VERSION = 1


def emit(
    args: argparse.Namespace,
    document: Mapping[str, Any],
    lines: Sequence[str],
    *,
    details: Sequence[str] = (),
) -> None:
    """Print a result: one JSON document with --json, else LINES (unless -q).

    DETAILS (e.g. every path written) are printed before LINES, and only with -v.
    """
    if args.json:
        _dump({"schema_version": SCHEMA_VERSION, **document})
    elif not args.quiet:
        for line in [*(details if args.verbose else ()), *lines]:
            print(line)


def emit_error(exc: PkgIndexError, *, json_output: bool, command: str | None, verbose: int) -> int:
    """Report EXC (stderr lines, and the --json document); return its exit status."""
    problems = exc.problems if isinstance(exc, ValidationError) else ()
    for problem in problems:
        _print_error(problem)
    _print_error(exc)
    if verbose:
        logging.getLogger("pkgindex").debug("traceback", exc_info=exc)
    if json_output:
        error = {
            "message": exc.message,
            "hint": exc.hint,
            "exit_status": exc.exit_status,
            "problems": [{"message": p.message, "hint": p.hint} for p in problems],
        }
        _dump({"schema_version": SCHEMA_VERSION, "command": command, "error": error})
    return exc.exit_status


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 project', '2 projects', '0 files'."""
    word = singular if count == 1 else plural_form or f"{singular}s"
    return f"{count:,} {word}"


def _dump(document: Mapping[str, Any]) -> None:
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")
    sys.stdout.flush()


def _print_error(exc: PkgIndexError) -> None:
    print(f"error: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"  hint: {exc.hint}", file=sys.stderr)
