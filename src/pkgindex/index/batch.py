"""Read many distribution files at once, on every core."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from pkgindex.errors import InvalidDistributionError, PkgIndexError
from pkgindex.index.distfile import Inspected, inspect_distribution

_PARALLEL_THRESHOLD = 64  # files; fewer small files are read in this process
_BIG_FILE = 1 << 20  # bytes; batches of files this big on average are hashed in threads
_BIG_BATCH = 64 << 20  # bytes; a few files adding up to this much are worth parallel hashing


Progress = Callable[[int, int], None]  # (files done, files in all)


def inspect_many(
    paths: Sequence[Path], progress: Progress | None = None
) -> list[Inspected | PkgIndexError]:
    """Hash and read many files on every core.

    Big files go to threads: hashlib releases the GIL while it hashes, so threads hash at the
    speed of every core without copying data between processes. Many small files go to
    processes, since their cost is the Python work of opening archives and parsing headers.
    ``progress`` is called as files are done.
    """
    report = progress or _no_progress
    count = len(paths)
    workers = min(os.cpu_count() or 1, 8)
    total = _total_size(paths) if len(paths) < 4 * _PARALLEL_THRESHOLD else 0
    if workers < 2 or (len(paths) < _PARALLEL_THRESHOLD and total < _BIG_BATCH):
        outcomes = []
        for path in paths:
            outcomes.append(_inspect_one(path))
            report(len(outcomes), count)
    else:
        from concurrent import futures  # deferred: costly to import, rarely needed

        pool: futures.Executor
        if total >= _BIG_FILE * len(paths):
            pool = futures.ThreadPoolExecutor(max_workers=workers)
        else:
            pool = futures.ProcessPoolExecutor(max_workers=workers)
        with pool:
            chunk = max(1, len(paths) // (workers * 8))
            outcomes = []
            for outcome in pool.map(_inspect_one, paths, chunksize=chunk):
                outcomes.append(outcome)
                report(len(outcomes), count)
    return [
        InvalidDistributionError(outcome[0], hint=outcome[1])
        if isinstance(outcome, tuple)
        else outcome
        for outcome in outcomes
    ]


def _no_progress(done: int, total: int) -> None:
    """Report nothing."""


def _total_size(paths: Sequence[Path]) -> int:
    total = 0
    for path in paths:
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    return total


def _inspect_one(path: Path) -> Inspected | tuple[str, str | None]:
    """Inspect one file (errors as tuples: they cross process borders)."""
    try:
        return inspect_distribution(path)
    except InvalidDistributionError as exc:
        return (exc.message, exc.hint)
