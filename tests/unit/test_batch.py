"""Worker processes share a batch with the command's own process (index/batch.py)."""

from __future__ import annotations

import functools
import os
import time

import pytest

from pkgindex.index.batch import HERE, Workers, keep, take

ITEMS = 120
PAUSE = 0.01  # seconds per item: 1.2 s in all, far longer than a worker takes to start


def _pid_after_pause(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _fail_on_negative(number: int) -> int:
    if number < 0:
        raise ValueError(f"negative: {number}")
    return number * 2


def _keep_pid(token: str, key: str) -> int:
    """Keep this process's pid under ``key``, and say it."""
    keep(token, key, os.getpid())
    return os.getpid()


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


@pytest.mark.usefixtures("two_cores")
def test_the_pool_takes_chunks_from_the_front_and_this_process_from_the_back() -> None:
    progress: list[tuple[int, int]] = []
    with Workers() as workers:
        pids, _ = workers.map_placed(
            _pid_after_pause, [PAUSE] * ITEMS, lambda done, total: progress.append((done, total))
        )
    assert len(pids) == ITEMS
    here = os.getpid()
    assert pids[0] != here, "the first chunk is queued for the pool before this process starts"
    assert pids[-1] == here, "this process starts with the last chunk"
    assert len(set(pids)) == 2, "one worker process beside this one on two cores"
    # each process's items are one run: the pool's from the front, this process's at the back
    switch = pids.index(here)
    assert set(pids[:switch]) == {pids[0]} and set(pids[switch:]) == {here}
    done = [count for count, _ in progress]
    assert done == sorted(done) and done[-1] == ITEMS
    assert {total for _, total in progress} == {ITEMS}


@pytest.mark.usefixtures("two_cores")
def test_results_keep_the_order_of_the_items() -> None:
    items = list(range(1000))
    with Workers() as workers:
        assert workers.map_placed(_fail_on_negative, items)[0] == [number * 2 for number in items]


@pytest.mark.usefixtures("two_cores")
@pytest.mark.parametrize("where", [0, -1], ids=["in-the-pool", "in-this-process"])
def test_an_error_in_any_process_is_raised_and_the_rest_is_dropped(where: int) -> None:
    items = list(range(2000))
    items[where] = -1  # the first chunk goes to the pool, the last is done here
    with pytest.raises(ValueError, match="negative: -1"), Workers() as workers:
        workers.map_placed(_fail_on_negative, items)


def test_one_core_does_everything_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    with Workers() as workers:
        assert set(workers.map_placed(_pid_after_pause, [0.0] * 10)[0]) == {os.getpid()}
        assert workers._pools == []  # no process was started


@pytest.mark.usefixtures("two_cores")
def test_what_a_map_keeps_is_taken_where_it_was_kept() -> None:
    keys = [str(number) for number in range(400)]
    with Workers() as workers:
        pids, places = workers.map_placed(functools.partial(_keep_pid, workers.token), keys)
        assert set(places) == {HERE, 1}, "both processes took part"
        for pid, place in zip(pids, places, strict=True):
            assert (pid == os.getpid()) == (place == HERE)
        # sent back to where each key ran, every value is found there, once
        kept = workers.map_at(functools.partial(take, workers.token), keys, places)
        assert kept == pids
        with pytest.raises(KeyError):  # taken: forgotten
            workers.map_at(functools.partial(take, workers.token), keys[:1], places[:1])


@pytest.mark.usefixtures("two_cores")
def test_map_at_runs_items_in_the_places_given() -> None:
    places = [HERE, 1] * 50
    with Workers() as workers:
        pids = workers.map_at(_pid_after_pause, [0.0] * 100, places)
    here = os.getpid()
    assert [pid == here for pid in pids] == [place == HERE for place in places]
    assert len(set(pids)) == 2


@pytest.mark.usefixtures("two_cores")
def test_this_process_takes_over_half_of_what_a_worker_has_not_started() -> None:
    moved: list[tuple[list[float], int]] = []

    def move(items: list[float], place: int) -> list[float]:
        moved.append((list(items), place))
        return [0.0] * len(items)  # what was kept for them comes with them: here, no pause

    with Workers() as workers:
        pids = workers.map_at(_pid_after_pause, [PAUSE] * ITEMS, [1] * ITEMS, move)
    here = os.getpid()
    assert len(moved) == 1 and moved[0][1] == 1, "one move, from the worker"
    taken = len(moved[0][0])
    # the later items, about half of what the worker had not started, ran here
    assert pids[-taken:] == [here] * taken and here not in pids[:-taken]
    assert ITEMS // 4 <= taken <= ITEMS // 2
