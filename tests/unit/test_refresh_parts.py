"""The refresh's small parts: retrying lost races, which projects depend on a change."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pytest
from packaging.utils import NormalizedName

from pkgindex.errors import StaleError
from pkgindex.index import pages, refresh
from pkgindex.index.batch import HERE, Workers
from pkgindex.index.catalog import RootState
from pkgindex.index.model import ProjectSummary
from pkgindex.index.refresh import ATTEMPTS, dependents, retrying
from pkgindex.index.scan import scan_root
from pkgindex.stores.local import LocalStore
from tests.unit.wheels import write_wheel


def test_retrying_runs_again_after_a_lost_race(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(refresh.time, "sleep", waits.append)
    calls = 0

    def attempt() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise StaleError("index.json: changed by another writer since it was read")
        return "done"

    assert retrying(attempt, "/index") == "done"
    assert calls == 3 and len(waits) == 2 and all(0 <= wait <= 0.1 for wait in waits)


def test_retrying_gives_up_after_twelve_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(refresh.time, "sleep", waits.append)
    calls = 0

    def attempt() -> None:
        nonlocal calls
        calls += 1
        raise StaleError("index.json: changed by another writer since it was read")

    with pytest.raises(StaleError) as raised:
        retrying(attempt, "/index")
    assert raised.value.message == (
        "/index: other writers kept changing the same pages; gave up after 12 attempts"
    )
    assert ATTEMPTS == 12 and calls == 12 and len(waits) == 12
    assert sum(waits) > 0.5  # the pauses grow (full jitter, up to 2 s each)


def summary(name: str, *requires: str) -> dict[str, object]:
    return ProjectSummary(name=NormalizedName(name), files=1, requires=requires).to_json()


def test_dependents_are_projects_whose_dependencies_joined_or_left() -> None:
    state = RootState(
        names=("app", "dace", "ghex", "tool"),
        private={
            "summaries": {
                "app": summary("app", "dace", "numpy"),
                "dace": summary("dace", "ghex"),
                "ghex": summary("ghex"),
                "tool": summary("tool", "numpy"),
            }
        },
    )
    assert dependents(state, ["app", "dace", "ghex", "tool"]) == set()
    assert dependents(state, ["app", "dace", "ghex", "numpy", "tool"]) == {"app", "tool"}
    assert dependents(state, ["app", "dace", "tool"]) == {"dace"}  # ghex left
    assert dependents(state, ["app", "ghex", "tool"]) == {"app"}  # dace left; it is not asked
    assert dependents(RootState(), ["app", "numpy"]) == set()  # a first run renders everything


FOLDERS = 64  # folders a run writes in worker processes


def test_files_read_in_two_processes_meet_where_their_folder_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file stays in the process that read it; a folder read whole by the worker is written
    there, a folder read by both has the worker's file brought here and is written here."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    for number in range(FOLDERS):
        for version in ("1.0", "2.0"):
            write_wheel(tmp_path / f"p{number:02d}", f"p{number:02d}", version)
    store = LocalStore(tmp_path)
    with store.lock(), Workers() as workers:
        folders, problems = scan_root(store)
        catalogs = {
            folder.name: refresh._load_catalog(store, folder, problems) for folder in folders
        }
        keys = [folder.key(name) for folder in folders for name in sorted(folder.sizes)]
        # even folders: both files read by the worker; odd ones: version 1.0 here, 2.0 there
        places = [HERE if (index // 2) % 2 and index % 2 == 0 else 1 for index in range(len(keys))]
        items = [(key, str(tmp_path / key), key.partition("/")[0], None) for key in keys]
        read = functools.partial(refresh._read_and_keep, workers.token)
        assert workers.map_at(read, items, places) == [None] * len(keys)
        kept: dict[NormalizedName, dict[str, int]] = {}
        for key, place in zip(keys, places, strict=True):
            folder, _, filename = key.partition("/")
            kept.setdefault(NormalizedName(folder), {})[filename] = place

        jobs, where, dropped = refresh._plan_writes(
            folders, catalogs, kept, refresh.Batch(), workers, "processes"
        )
        assert problems == [] and dropped == []
        assert where == [1 if number % 2 == 0 else HERE for number in range(FOLDERS)]
        for number, job in enumerate(jobs):
            if number % 2 == 0:  # written by the worker, which holds both files
                assert job.found == {} and len(job.kept) == 2
            else:  # the worker's file comes with the job, the other is kept here
                assert [*job.found] == [f"p{number:02d}-2.0-py3-none-any.whl"]
                assert job.kept == (f"p{number:02d}-1.0-py3-none-any.whl",)

        now = refresh.utc_now()
        written = refresh._run_writes(
            store,
            jobs,
            where,
            pages.load_site(store),
            frozenset(catalogs),
            workers,
            now,
            "processes",
        )
    assert [name for name, *_ in written] == [folder.name for folder in folders]
    for folder in folders:
        page = json.loads((tmp_path / folder.name / "index.json").read_bytes())
        assert [file["filename"] for file in page["files"]] == sorted(folder.sizes)
        assert len(list((tmp_path / folder.name).glob("*.metadata"))) == 2


def test_jobs_that_may_go_anywhere_go_where_the_fewest_jobs_are() -> None:
    # two jobs placed in worker 1 and one here: the free ones fill this process up first
    assert refresh._spread([1, 1, None, None, None, HERE], 2) == [1, 1, HERE, HERE, 1, HERE]
    assert refresh._spread([None] * 5, 3) == [0, 1, 2, 0, 1]
    assert refresh._spread([None, None], 1) == [HERE, HERE]
