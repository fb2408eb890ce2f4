"""The refresh's small parts: retrying lost races, which projects depend on a change."""

from __future__ import annotations

import pytest
from packaging.utils import NormalizedName

from pkgindex.errors import StaleError
from pkgindex.index import refresh
from pkgindex.index.catalog import RootState
from pkgindex.index.model import ProjectSummary
from pkgindex.index.refresh import ATTEMPTS, dependents, retrying


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
