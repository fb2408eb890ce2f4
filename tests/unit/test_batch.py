"""Worker processes share a batch with the command's own process (index/batch.py)."""

from __future__ import annotations

import os
import time

import pytest

from pkgindex.index.batch import Workers

ITEMS = 120
PAUSE = 0.01  # seconds per item: 1.2 s in all, far longer than a worker takes to start


def _pid_after_pause(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _fail_on_negative(number: int) -> int:
    if number < 0:
        raise ValueError(f"negative: {number}")
    return number * 2


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


@pytest.mark.usefixtures("two_cores")
def test_the_pool_takes_chunks_from_the_front_and_this_process_from_the_back() -> None:
    progress: list[tuple[int, int]] = []
    with Workers() as workers:
        pids = workers.map(
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
        assert workers.map(_fail_on_negative, items) == [number * 2 for number in items]


@pytest.mark.usefixtures("two_cores")
@pytest.mark.parametrize("where", [0, -1], ids=["in-the-pool", "in-this-process"])
def test_an_error_in_any_process_is_raised_and_the_rest_is_dropped(where: int) -> None:
    items = list(range(2000))
    items[where] = -1  # the first chunk goes to the pool, the last is done here
    with pytest.raises(ValueError, match="negative: -1"), Workers() as workers:
        workers.map(_fail_on_negative, items)


def test_one_core_does_everything_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    with Workers() as workers:
        assert set(workers.map(_pid_after_pause, [0.0] * 10)) == {os.getpid()}
        assert workers._pool is None  # no process was started
