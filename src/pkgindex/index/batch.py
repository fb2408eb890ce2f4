"""Read many distribution files at once, on every core."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pkgindex.errors import InvalidDistributionError, PkgIndexError
from pkgindex.index.distfile import Inspected, inspect_distribution

if TYPE_CHECKING:
    import multiprocessing.context

_PARALLEL_THRESHOLD = 64  # files; fewer small files are read in this process
_BIG_FILE = 1 << 20  # bytes; batches of files this big on average are hashed in threads
_BIG_BATCH = 64 << 20  # bytes; a few files adding up to this much are worth parallel hashing
_PR_SET_PDEATHSIG = 1  # prctl(2) option, from <linux/prctl.h>


def inspect_many(paths: Sequence[Path]) -> list[Inspected | PkgIndexError]:
    """Hash and read many files on every core.

    Big files go to threads: hashlib releases the GIL while it hashes, so threads hash at the
    speed of every core without copying data between processes. Many small files go to
    processes, since their cost is the Python work of opening archives and parsing headers.
    """
    workers = min(os.cpu_count() or 1, 8)
    total = _total_size(paths) if len(paths) < 4 * _PARALLEL_THRESHOLD else 0
    if workers < 2 or (len(paths) < _PARALLEL_THRESHOLD and total < _BIG_BATCH):
        outcomes = [_inspect_one(path) for path in paths]
    else:
        from concurrent import futures  # deferred: costly to import, rarely needed

        pool: futures.Executor
        if total >= _BIG_FILE * len(paths):
            pool = futures.ThreadPoolExecutor(max_workers=workers)
        else:
            pool = futures.ProcessPoolExecutor(
                max_workers=workers,
                mp_context=_worker_context(),
                initializer=_die_with_parent,
            )
        with pool:
            chunk = max(1, len(paths) // (workers * 8))
            outcomes = list(pool.map(_inspect_one, paths, chunksize=chunk))
    return [
        InvalidDistributionError(outcome[0], hint=outcome[1])
        if isinstance(outcome, tuple)
        else outcome
        for outcome in outcomes
    ]


def _worker_context() -> multiprocessing.context.BaseContext:
    """Workers that inherit nothing: a forked worker would hold every descriptor of the
    command, the index lock among them, and keep it after the command is killed. The fork
    server is started with exec and only the descriptors it needs (spawn where it is missing)."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])  # each worker starts with this module loaded
    return context


def _die_with_parent() -> None:
    """Worker initializer: end when the process that started this worker ends.

    A killed command (SIGKILL from the OOM killer or a cancelled CI job) cannot stop its
    workers; without this they would run on under init. Linux delivers a signal when the
    parent dies; elsewhere a thread polls for the parent's death.
    """
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    else:
        import threading

        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


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
