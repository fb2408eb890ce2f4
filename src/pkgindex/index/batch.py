"""Read many distribution files at once, on every core."""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import select
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pkgindex.errors import InvalidDistributionError, PkgIndexError
from pkgindex.index.distfile import Inspected, inspect_distribution, parse_filename

if TYPE_CHECKING:
    import multiprocessing.context
    from concurrent import futures

T = TypeVar("T")
R = TypeVar("R")

_PARALLEL_THRESHOLD = 64  # files; fewer small files are read in this process
_BIG_FILE = 1 << 20  # bytes; batches of files this big on average are hashed in threads
_BIG_BATCH = 64 << 20  # bytes; a few files adding up to this much are worth parallel hashing
# work units per process: few (each is a round trip), enough that the pool and this process,
# taking them from both ends, finish together
_CHUNKS_PER_WORKER = 64


class Workers:
    """Worker processes for one run, started on first use and shared by its phases (reading
    files, then writing folders), so a cold run pays for starting them once.

    The command's own process works too: ``count`` processes in all, ``count - 1`` of them in
    the pool, so no core waits while the parent only collects results, and the parent's share
    is done while the pool is still starting (a fresh interpreter, about 0.1 s).
    """

    __slots__ = ("_pool", "count")

    def __init__(self) -> None:
        self.count = min(os.cpu_count() or 1, 8)
        self._pool: futures.ProcessPoolExecutor | None = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            # after an error or an interrupt, chunks not started yet are dropped
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def map(
        self, function: Callable[[T], R], items: Sequence[T], progress: Progress | None = None
    ) -> list[R]:
        """``function`` over ``items``, results in order: chunks are queued for the pool
        from the front, and this process takes them from the back for as long as the pool has
        not started them. ``progress(done, total)`` is called as chunks finish."""
        report = progress or _no_progress
        if self.count < 2:  # mutate: skip (speed only: the same results in this process)
            return _collect(map(function, items), len(items), report)
        pool = self._start()
        size = max(1, -(-len(items) // (self.count * _CHUNKS_PER_WORKER)))
        chunks = [items[start : start + size] for start in range(0, len(items), size)]
        # the function (with what it is bound to: a store, the names on the index) is pickled
        # once, not once per chunk; each worker unpickles it once (_unpickled)
        payload = pickle.dumps(function, pickle.HIGHEST_PROTOCOL)
        pending: list[futures.Future[list[R]]] = [
            pool.submit(_run_chunk, payload, chunk) for chunk in chunks
        ]
        done: list[list[R] | None] = [None] * len(chunks)
        finished = 0
        for number in reversed(range(len(chunks))):
            if pending[number].cancel():  # not started by the pool: do it here
                done[number] = [function(item) for item in chunks[number]]
                finished += len(chunks[number])
                report(finished, len(items))
        for number, future in enumerate(pending):
            if done[number] is None:
                done[number] = _result(future)
                finished += len(chunks[number])
                report(finished, len(items))
        return [result for chunk in done for result in chunk or ()]

    def _start(self) -> futures.ProcessPoolExecutor:
        if self._pool is None:
            from concurrent import futures  # deferred: costly to import, rarely needed

            self._pool = futures.ProcessPoolExecutor(
                max_workers=self.count - 1,  # and this process
                mp_context=_worker_context(),
                initializer=_die_with_command,
                initargs=(os.getpid(),),
            )
        return self._pool


def _result(future: futures.Future[list[R]]) -> list[R]:
    """A chunk's results; a worker that died is our error, not a traceback."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool:
        raise PkgIndexError(
            "a worker process ended before it finished: it was killed (out of memory?), or it "
            "imported a script that calls pkgindex outside if __name__ == '__main__': and ran "
            "its commands again (see above)",
            hint="run the command again; in a script, call pkgindex under "
            "if __name__ == '__main__': (worker processes import the script)",
        ) from None


def _run_chunk(payload: bytes, chunk: Sequence[T]) -> list[R]:
    """One work unit in a worker: a round trip carries a chunk, not an item."""
    function: Callable[[T], R] = _unpickled(payload)
    return [function(item) for item in chunk]


@functools.lru_cache(maxsize=1)
def _unpickled(payload: bytes) -> Any:
    return pickle.loads(payload)


def _collect(results: Iterable[R], total: int, report: Progress) -> list[R]:
    """The results as they come, reporting progress."""
    collected = []
    for result in results:
        collected.append(result)
        report(len(collected), total)
    return collected


Progress = Callable[[int, int], None]  # (files done, files in all)


def inspect_many(
    paths: Sequence[Path],
    progress: Progress | None = None,
    workers: Workers | None = None,
    *,
    projects: Sequence[str] | None = None,
) -> list[Inspected | PkgIndexError]:
    """Hash and read many files on every core; with ``projects``, each file must be named
    for the project given for it (its folder's), or it is not read.

    Big files go to threads: hashlib releases the GIL while it hashes, so threads hash at the
    speed of every core without copying data between processes. Many small files go to
    processes (``workers``, or a pool of its own), since their cost is the Python work of
    opening archives and parsing headers. ``progress`` is called as files are done.
    """
    report = progress or _no_progress
    count = min(os.cpu_count() or 1, 8)
    # as strings: a Path costs a hundred times more to pickle than its text
    expected: Sequence[str | None] = projects if projects is not None else [None] * len(paths)
    items = list(zip([os.fspath(path) for path in paths], expected, strict=True))
    total = _total_size(paths) if len(paths) < 4 * _PARALLEL_THRESHOLD else 0
    if count < 2 or (len(paths) < _PARALLEL_THRESHOLD and total < _BIG_BATCH):
        outcomes = _collect(map(_inspect_one, items), len(items), report)
    elif total >= _BIG_FILE * len(paths):
        from concurrent import futures  # deferred: costly to import, rarely needed

        with futures.ThreadPoolExecutor(max_workers=count) as threads:
            outcomes = _collect(threads.map(_inspect_one, items), len(items), report)
    else:
        with contextlib.ExitStack() as stack:
            pool = workers or stack.enter_context(Workers())
            outcomes = pool.map(_inspect_one, items, report)
    return [
        InvalidDistributionError(outcome[0], hint=outcome[1])
        if isinstance(outcome, tuple)
        else outcome
        for outcome in outcomes
    ]


def _no_progress(done: int, total: int) -> None:
    """Report nothing."""


def start_early() -> None:
    """Start the fork server that workers are forked from, for a run that knows early it will
    need workers (a first run, ``--verify``). It starts in the background and spends about
    0.1 s importing the modules that read and write, while the command lists the folders,
    instead of while the command waits for its first worker."""
    if min(os.cpu_count() or 1, 8) < 2:  # mutate: skip (speed only: no workers either way)
        return
    if _worker_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _worker_context() -> multiprocessing.context.BaseContext:
    """Workers that inherit nothing: a forked worker would hold every descriptor of the
    command, the index lock among them, and keep it after the command is killed. The fork
    server is started with exec and only the descriptors it needs (spawn where it is missing);
    the lock's descriptor is not inheritable (O_CLOEXEC, as Python opens every file)."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # each worker starts with the modules that read files and write folders loaded
    context.set_forkserver_preload([__name__, "pkgindex.index.refresh"])
    return context


def _die_with_command(command: int) -> None:
    """Worker initializer: end the worker when the command that started the pool ends.

    A killed command (SIGKILL from the OOM killer or a cancelled CI job) cannot stop its
    workers, and they would not notice: each holds both ends of its task queue, and the fork
    server that is their parent lives as long as they do. So each worker watches the command:
    on Linux through a pidfd, which becomes readable when the process ends; elsewhere by polling.
    """
    import threading

    try:
        descriptor = os.pidfd_open(command)
    except ProcessLookupError:
        os._exit(1)  # the command is gone already
    except (AttributeError, OSError):  # not Linux 5.3 or later
        watch: Callable[[], None] = lambda: _poll_command(command)  # noqa: E731
    else:
        watch = lambda: _wait_readable(descriptor)  # noqa: E731
    threading.Thread(target=watch, name="watch-command", daemon=True).start()


def _wait_readable(descriptor: int) -> None:
    select.select([descriptor], [], [])
    os._exit(1)


def _poll_command(command: int) -> None:
    while True:
        try:
            os.kill(command, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass  # alive, under another user (the pid was reused): keep watching
        time.sleep(0.2)


def _total_size(paths: Sequence[Path]) -> int:
    total = 0
    for path in paths:
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    return total


def _inspect_one(item: tuple[str, str | None]) -> Inspected | tuple[str, str | None]:
    """Inspect one file (errors as tuples: they cross process borders)."""
    path, project = item
    try:
        dist = parse_filename(os.path.basename(path))
        if project is not None and dist.name != project:
            return (
                f"{dist.filename}: project {dist.name!r} does not match folder {project!r}",
                f"move the file to {dist.name}/ (or use 'pkgindex add'), or rebuild it",
            )
        return inspect_distribution(path, dist)
    except InvalidDistributionError as exc:
        return (exc.message, exc.hint)
