"""Options every subcommand shares: the index root, and the examples in each command's help.

The index root is named the same way by every command: ``--root DIR`` (default: the current
folder; a folder or ``s3://BUCKET/PREFIX``). ``generate DIR`` and ``init DIR`` also take it as a
positional argument, as an alias. :func:`index_root` reads it and :func:`open_index` turns it into
the Store a command works on, after checking that a folder is an index root
(:mod:`pkgindex.index.layout`): the one place where a root is parsed.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pkgindex.errors import UsageError

if TYPE_CHECKING:
    from pkgindex.stores.base import Store

ROOT_HELP = (
    "the index root: the folder with pkgindex.toml and one folder per project, "
    "or s3://BUCKET/PREFIX (default: .)"
)


def add_root_argument(
    parser: argparse.ArgumentParser,
    *,
    positional: bool = False,
    help: str = ROOT_HELP,
    default: str | None = ".",
    buckets: bool = True,
) -> None:
    """Add ``--root DIR`` (and, with POSITIONAL, an optional ``DIR`` alias for it), and the
    bucket options (``--endpoint-url``, ``--region``, ``--profile``) unless not BUCKETS."""
    parser.add_argument("--root", metavar="DIR", default=None, help=help)
    if positional:
        parser.add_argument(
            "root_alias", nargs="?", metavar="DIR", default=None, help="the same as --root DIR"
        )
    parser.set_defaults(root_default=default)
    if buckets:
        from pkgindex.cli._stores import add_store_options

        add_store_options(parser)


def index_root(args: argparse.Namespace) -> str | None:
    """The index root named on the command line (None if there is no default and none given)."""
    given = [value for value in (args.root, getattr(args, "root_alias", None)) if value]
    if len(set(given)) > 1:
        raise UsageError(
            f"the index root is given twice ({given[1]} and --root {given[0]})",
            hint="pass it once, as --root DIR",
        )
    value: str | None = given[0] if given else args.root_default
    return value


def is_bucket(root: str) -> bool:
    return root.startswith("s3://")


def local_root(args: argparse.Namespace) -> Path:
    """The index root as a folder (for commands that work on folders only)."""
    root = index_root(args) or "."
    if is_bucket(root):
        raise UsageError(f"--root {root}: this command works on a folder, not a bucket")
    return Path(root)


def open_index(args: argparse.Namespace, *, allow_missing: bool = False) -> Store:
    """The Store of the index root named on the command line; a folder must be an index root."""
    from pkgindex.cli._stores import store_from_args
    from pkgindex.index.layout import check_index_root

    root = index_root(args) or "."
    if not is_bucket(root):
        check_index_root(Path(root), allow_missing=allow_missing)
    return store_from_args(args, root)


def examples(*lines: str, notes: Sequence[str] = ()) -> str:
    """An epilog: 'examples:' and the command lines, then notes (e.g. exit statuses)."""
    text = "examples:\n" + "\n".join(f"  {line}" for line in lines)
    return text + "".join(f"\n\n{note}" for note in notes)
