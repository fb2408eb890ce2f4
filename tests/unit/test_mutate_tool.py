"""tools/mutate.py's bookkeeping: equivalent-mutant pragmas and matching mutants across edits."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "mutate.py"


@pytest.fixture(scope="module")
def mutate() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("mutate_tool", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutate_tool"] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules["mutate_tool"]


@pytest.fixture
def repo(tmp_path: Path, mutate: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(mutate, "REPO", tmp_path)
    return tmp_path


SOURCE = """\
LIMIT = 16 << 20  # mutate: skip (a speed trade-off)


def big(size):
    return size > LIMIT
"""


def test_a_pragma_excludes_the_mutants_of_its_line_only(repo: Path, mutate: ModuleType) -> None:
    (repo / "m.py").write_text(SOURCE)
    kept, excluded = mutate.split_equivalent(mutate.mutants_of("m.py"))
    assert [(m.line, m.description) for m, _ in excluded] == [
        (1, "16 -> 17"),
        (1, "20 -> 21"),
        (1, "<< -> >>"),
    ]
    assert {why for _, why in excluded} == {"a speed trade-off"}
    assert [(m.line, m.description) for m in kept] == [(5, "> -> >=")]
    assert kept[0].text == "return size > LIMIT"


def test_a_pragma_without_a_reason_is_refused(repo: Path, mutate: ModuleType) -> None:
    (repo / "m.py").write_text("LIMIT = 16  # mutate: skip\n")
    with pytest.raises(SystemExit, match=r"m\.py:1: a mutate pragma reads"):
        mutate.split_equivalent(mutate.mutants_of("m.py"))
    (repo / "m.py").write_text("LIMIT = 16  # mutate: skip ( )\n")
    with pytest.raises(SystemExit):
        mutate.split_equivalent(mutate.mutants_of("m.py"))


def test_a_rerun_keeps_kills_on_moved_lines_and_runs_changed_ones(
    repo: Path, mutate: ModuleType
) -> None:
    (repo / "m.py").write_text("def f(a, b):\n    return a > b\n\n\ndef g(a):\n    return a == 1\n")
    before = mutate.mutants_of("m.py")
    outcomes = [
        mutate.Outcome(mutant=m, status="killed" if "==" in m.text else "survived", seconds=1.0)
        for m in before
    ]
    (repo / "run.json").write_text(json.dumps([asdict(o) for o in outcomes]))
    (repo / "m.py").write_text(
        "import os\n\n\ndef f(a, b):\n    return a >= b\n\n\ndef g(a):\n    return a == 1\n"
    )
    carried, to_run = mutate._carried_over(repo / "run.json", mutate.mutants_of("m.py"))
    assert sorted((o.mutant.line, o.mutant.description) for o in carried) == [
        (9, "1 -> 0"),
        (9, "== -> !="),
    ]
    assert [(m.line, m.description) for m in to_run] == [(5, ">= -> >")]
