"""Read many distribution files at once, on every core."""

from __future__ import annotations

import contextlib
import functools
import os
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
# the same for work sent to a given worker (Workers.map_at): fewer, since only this process
# takes them over, once; each round trip wakes this process's pool threads, which take the
# GIL from its own work (64 made writing a cold run's folders 12% slower than 16)
_PLACED_CHUNKS_PER_WORKER = 16


HERE = 0  # the place of the command's own process; pool workers are 1, 2, …


class Workers:
    """Worker processes for one run, started on first use and shared by its phases (reading
    files, then writing folders), so a cold run pays for starting them once.

    The command's own process works too: ``count`` processes in all, ``count - 1`` of them in
    the pool, so no core waits while the parent only collects results, and the parent's share
    is done while the pool is still starting (a fresh interpreter, about 0.1 s).

    Each worker is a pool of one process, so the place an item ran in (:meth:`map_placed`) can
    be given work again (:meth:`map_at`): what a function kept there (:func:`keep`) is taken by a
    later function in the same process (:func:`take`) instead of crossing to the command and
    back. ``token`` names what this run keeps.
    """

    __slots__ = ("_pools", "count", "token")

    def __init__(self) -> None:
        self.count = min(os.cpu_count() or 1, 8)
        self._pools: list[futures.ProcessPoolExecutor] = []
        self.token = f"{os.getpid()}.{id(self)}.{time.monotonic_ns()}"

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for pool in self._pools:
            # after an error or an interrupt, chunks not started yet are dropped
            pool.shutdown(cancel_futures=True)
        self._pools = []  # what the workers kept ends with them; what this process kept here
        _kept.pop(self.token, None)

    def map_placed(
        self, function: Callable[[T], R], items: Sequence[T], progress: Progress | None = None
    ) -> tuple[list[R], list[int]]:
        """``function`` over ``items``: the results in order, and the place each item ran in
        (``HERE`` or a worker). Chunks are dealt to the workers from the front, and this
        process takes them from the back for as long as no worker has started them.
        ``progress(done, total)`` is called as chunks finish."""
        report = progress or _no_progress
        if self.count < 2:  # mutate: skip (speed only: the same results in this process)
            return _collect(map(function, items), len(items), report), [HERE] * len(items)
        pools = self._start()
        chunks = _chunks(list(range(len(items))), self.count)
        # the function (with what it is bound to: a store, the names on the index) is pickled
        # once, not once per chunk; each worker unpickles it once (_unpickled)
        payload = _pickled(function)
        where = [1 + number % len(pools) for number in range(len(chunks))]
        pending: list[futures.Future[list[R]]] = [
            pools[where[number] - 1].submit(_run_chunk, payload, [items[i] for i in chunk])
            for number, chunk in enumerate(chunks)
        ]
        done: list[list[R] | None] = [None] * len(chunks)
        finished = 0
        for number in reversed(range(len(chunks))):
            if pending[number].cancel():  # not started by a worker: do it here
                where[number] = HERE
                done[number] = [function(items[i]) for i in chunks[number]]
                finished += len(chunks[number])
                report(finished, len(items))
        for number, future in enumerate(pending):
            if done[number] is None:
                done[number] = _result(future)
                finished += len(chunks[number])
                report(finished, len(items))
        places = [where[number] for number, chunk in enumerate(chunks) for _ in chunk]
        return [result for chunk in done for result in chunk or ()], places

    def map_at(
        self,
        function: Callable[[T], R],
        items: Sequence[T],
        places: Sequence[int],
        move: Callable[[list[T], int], list[T]] | None = None,
    ) -> list[R]:
        """``function`` over ``items``, each in the process ``places`` gives for it (a place
        :meth:`map_placed` returned, or any of ``range(count)``); results in order. The
        workers' chunks are queued first, then this process does its own items.

        With ``move(items, place)``, which brings items from a worker here with what was kept
        for them there, this process, once done with its own items, takes over half of what
        each worker has not started: no core waits while another has a queue.
        """
        indexes: dict[int, list[int]] = {}
        for index, place in enumerate(places):
            indexes.setdefault(place, []).append(index)
        results: list[Any] = [None] * len(items)
        queued: list[_Queued[R]] = []
        payload = b""
        if any(place != HERE for place in indexes):
            payload = _pickled(function)
            for place, chosen in indexes.items():
                if place != HERE:
                    chunks = _chunks(chosen, self.count, _PLACED_CHUNKS_PER_WORKER)
                    queued += self._queue(payload, items, chunks, place)
        for index in indexes.get(HERE, ()):
            results[index] = function(items[index])
        if move is not None and queued:
            queued = self._take_over(function, items, results, queued, move, payload)
        for chunk, _, future in queued:
            for index, result in zip(chunk, _result(future), strict=True):
                results[index] = result
        return results

    def _queue(
        self, payload: bytes, items: Sequence[T], chunks: list[list[int]], place: int
    ) -> list[_Queued[R]]:
        pool = self._start()[place - 1]
        return [
            (chunk, place, pool.submit(_run_chunk, payload, [items[i] for i in chunk]))
            for chunk in chunks
        ]

    def _take_over(
        self,
        function: Callable[[T], R],
        items: Sequence[T],
        results: list[Any],
        queued: list[_Queued[R]],
        move: Callable[[list[T], int], list[T]],
        payload: bytes,
    ) -> list[_Queued[R]]:
        """Do here the later half of each worker's chunks it has not started; queue the
        earlier half for it again, after its ``move``. Return the chunks left queued."""
        waiting: dict[int, list[list[int]]] = {}
        left: list[_Queued[R]] = []
        for chunk, place, future in queued:
            if future.cancel():
                waiting.setdefault(place, []).append(chunk)
            else:
                left.append((chunk, place, future))
        for place, chunks in waiting.items():
            half = len(chunks) // 2
            ours = [index for chunk in chunks[half:] for index in chunk]
            # the worker serves the move after the chunks it has started, then its own half
            moved = move([items[index] for index in ours], place)
            left += self._queue(payload, items, chunks[:half], place)
            for index, item in zip(ours, moved, strict=True):
                results[index] = function(item)
        return left

    def _start(self) -> list[futures.ProcessPoolExecutor]:
        if not self._pools:
            from concurrent import futures  # deferred: costly to import, rarely needed

            context = _worker_context()
            self._pools = [
                futures.ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=context,
                    initializer=_die_with_command,
                    initargs=(os.getpid(),),
                )
                for _ in range(self.count - 1)  # and this process
            ]
        return self._pools


# a chunk of item indexes, the place it is queued in, its future
_Queued = tuple[list[int], int, "futures.Future[list[R]]"]


def _chunks(
    indexes: list[int], count: int, per_worker: int = _CHUNKS_PER_WORKER
) -> list[list[int]]:
    """Work units for ``count`` processes: few (each is a round trip), enough that the
    processes, taking them as they go, finish together."""
    size = max(1, -(-len(indexes) // (count * per_worker)))
    return [indexes[start : start + size] for start in range(0, len(indexes), size)]


# What a function kept in the process that ran it, for a later function of the same run in
# the same process (Workers.map_at): the files a worker read stay in that worker until it
# writes their folder, instead of crossing to the command and back. Named by Workers.token; a
# worker's entries end with the worker, the command's when its Workers is closed.
_kept: dict[str, dict[str, Any]] = {}


def keep(token: str, key: str, value: object) -> None:
    """Keep ``value`` in this process under ``key`` for the run named ``token``."""
    _kept.setdefault(token, {})[key] = value


def take(token: str, key: str) -> Any:
    """What :func:`keep` kept in this process (once: it is forgotten)."""
    return _kept[token].pop(key)


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


def _pickled(function: Callable[..., object]) -> bytes:
    import pickle  # deferred: only work sent to workers is pickled (add and warm runs send none)

    return pickle.dumps(function, pickle.HIGHEST_PROTOCOL)


@functools.lru_cache(maxsize=1)
def _unpickled(payload: bytes) -> Any:
    import pickle

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
    """Hash and read many files on every core (see :func:`read_many`); with ``projects``,
    each file must be named for the project given for it (its folder's), or it is not read.
    ``progress`` is called as files are done."""
    # as strings: a Path costs a hundred times more to pickle than its text
    expected: Sequence[str | None] = projects if projects is not None else [None] * len(paths)
    items = list(zip([os.fspath(path) for path in paths], expected, strict=True))
    outcomes, _ = read_many(inspect_one, items, paths, progress, workers)
    return [
        InvalidDistributionError(outcome[0], hint=outcome[1])
        if isinstance(outcome, tuple)
        else outcome
        for outcome in outcomes
    ]


def read_many(
    function: Callable[[T], R],
    items: Sequence[T],
    paths: Sequence[str | os.PathLike[str]],
    progress: Progress | None = None,
    workers: Workers | None = None,
) -> tuple[list[R], list[int]]:
    """``function`` over ``items`` on every core, where item i reads the file ``paths[i]``:
    the results in order, and the place each item ran in (as :meth:`Workers.map_placed`).

    Big files go to threads: hashlib releases the GIL while it hashes, so threads hash at the
    speed of every core without copying data between processes. Many small files go to
    processes (``workers``, or a pool of its own), since their cost is the Python work of
    opening archives and parsing headers. A few small files are read in this process.
    """
    report = progress or _no_progress
    count = min(os.cpu_count() or 1, 8)
    total = _total_size(paths) if len(paths) < 4 * _PARALLEL_THRESHOLD else 0
    if count < 2 or (len(paths) < _PARALLEL_THRESHOLD and total < _BIG_BATCH):
        return _collect(map(function, items), len(items), report), [HERE] * len(items)
    if total >= _BIG_FILE * len(paths):
        from concurrent import futures  # deferred: costly to import, rarely needed

        with futures.ThreadPoolExecutor(max_workers=count) as threads:
            outcomes = _collect(threads.map(function, items), len(items), report)
        return outcomes, [HERE] * len(items)
    with contextlib.ExitStack() as stack:
        pool = workers or stack.enter_context(Workers())
        return pool.map_placed(function, items, report)


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
    # each worker starts with the modules that read files and write folders loaded, those a
    # run imports only once it reads a file included (the fork server imports them while the
    # command lists the folders)
    context.set_forkserver_preload(
        [
            __name__,
            "pkgindex.index.refresh",
            "pkgindex.index.archive",
            "pkgindex.index.headers",
            "packaging.specifiers",
        ]
    )
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


def _total_size(paths: Sequence[str | os.PathLike[str]]) -> int:
    total = 0
    for path in paths:
        with contextlib.suppress(OSError):
            total += os.stat(path).st_size
    return total


def inspect_one(item: tuple[str, str | None]) -> Inspected | tuple[str, str | None]:
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
