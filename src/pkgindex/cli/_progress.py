"""A progress bar for long work, drawn with rich on stderr, only when someone is watching.

    with progress(args, "reading files") as advance:
        library_call(..., progress=advance)       # advance(done, total)

No bar with --json, -q, or when stderr is not a terminal (CI, pipes, files): ``advance`` is then
a no-op, and rich is not even imported.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Advance = Callable[[int, int], None]


def wanted(args: argparse.Namespace) -> bool:
    return not (args.json or args.quiet) and sys.stderr.isatty()


def _nothing(done: int, total: int) -> None:
    """No bar."""


@contextmanager
def progress(args: argparse.Namespace, description: str) -> Iterator[Advance]:
    """Yield ``advance(done, total)``, which moves a bar (shown once total reaches 2)."""
    if not wanted(args):
        yield _nothing
        return
    from rich.console import Console
    from rich.progress import (  # deferred: only a terminal pays for it
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    console = Console(stderr=True)
    with Progress(*columns, console=console, transient=True, redirect_stdout=False) as bar:
        task = bar.add_task(description, total=None, visible=False)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, visible=total > 1)

        yield advance
