"""Progress for long work, drawn with rich on stderr, only when someone is watching.

    with progress(args, "reading files") as advance:
        library_call(..., progress=advance)       # advance(done, total): a bar

    with phases(args) as on_phase:
        library_call(..., on_phase=on_phase)      # on_phase("building"): a spinner line

Nothing is drawn with --json, -q, or when stderr is not a terminal (CI, pipes, files): the
callables are then no-ops, and rich is not even imported. ``phases`` draws nothing with -vv
either, where the subprocesses' own output streams to the terminal. While something is drawn,
log lines go through rich (printed above the bar), so neither garbles the other.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Advance = Callable[[int, int], None]
Phase = Callable[[str], None]


def wanted(args: argparse.Namespace) -> bool:
    return not (args.json or args.quiet) and sys.stderr.isatty()


def _nothing(done: int, total: int) -> None:
    """No bar."""


def _no_phase(text: str) -> None:
    """No spinner."""


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
    with (
        Progress(*columns, console=console, transient=True, redirect_stdout=False) as bar,
        _logs_above(),
    ):
        task = bar.add_task(description, total=None, visible=False)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, visible=total > 1)

        yield advance


@contextmanager
def phases(args: argparse.Namespace) -> Iterator[Phase]:
    """Yield ``on_phase(text)``, which shows TEXT beside a spinner and the time elapsed."""
    if not wanted(args) or args.verbose >= 2:
        yield _no_phase
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    console = Console(stderr=True)
    with (
        Progress(*columns, console=console, transient=True, redirect_stdout=False) as line,
        _logs_above(),
    ):
        task = line.add_task("starting", total=None)

        def on_phase(text: str) -> None:
            line.update(task, description=text, refresh=True)  # drawn now, however short

        yield on_phase


@contextmanager
def _logs_above() -> Iterator[None]:
    """Point pkgindex's log handlers at ``sys.stderr`` as rich redirected it, then back."""
    proxy = sys.stderr
    terminal = getattr(proxy, "rich_proxied_file", None)  # None: rich did not redirect it
    handlers = [
        handler
        for handler in logging.getLogger("pkgindex").handlers
        if terminal is not None
        and isinstance(handler, logging.StreamHandler)
        and handler.stream is terminal
    ]
    for handler in handlers:
        handler.setStream(proxy)
    try:
        yield
    finally:
        for handler in handlers:
            handler.setStream(terminal)
