"""Options every subcommand shares: the index root, and the examples in each command's help.

The index root is named the same way by every command: ``--root DIR`` (default: the current
folder). ``generate DIR`` and ``init DIR`` also take it as a positional argument, as an alias.
:func:`index_root` is the one place that turns the argument into what the command works on.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from pkgindex.errors import UsageError

ROOT_HELP = "the index root: the folder with pkgindex.toml and one folder per project (default: .)"


def add_root_argument(
    parser: argparse.ArgumentParser,
    *,
    positional: bool = False,
    help: str = ROOT_HELP,
    default: str | None = ".",
) -> None:
    """Add ``--root DIR`` (and, with POSITIONAL, an optional ``DIR`` alias for it)."""
    parser.add_argument("--root", metavar="DIR", default=None, help=help)
    if positional:
        parser.add_argument(
            "root_alias", nargs="?", metavar="DIR", default=None, help="the same as --root DIR"
        )
    parser.set_defaults(root_default=default)


def index_root(args: argparse.Namespace) -> Path | None:
    """The index root named on the command line (None if there is no default and none given)."""
    given = [value for value in (args.root, getattr(args, "root_alias", None)) if value]
    if len(set(given)) > 1:
        raise UsageError(
            f"the index root is given twice ({given[1]} and --root {given[0]})",
            hint="pass it once, as --root DIR",
        )
    value = given[0] if given else args.root_default
    return Path(value) if value is not None else None


def examples(*lines: str, notes: Sequence[str] = ()) -> str:
    """An epilog: 'examples:' and the command lines, then notes (e.g. exit statuses)."""
    text = "examples:\n" + "\n".join(f"  {line}" for line in lines)
    return text + "".join(f"\n\n{note}" for note in notes)
