"""A short fuzz run of every target in tests/fuzzing.py; only pkgindex errors may come out.

The long run is ``python -m tests.fuzz`` (see the README's Development section).
"""

from __future__ import annotations

import pytest

from tests.fuzzing import TARGETS, run

EXAMPLES = {"filenames": 150, "metadata": 150, "archives": 200, "catalog": 100}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz(name: str) -> None:
    assert run(TARGETS[name], EXAMPLES[name]) >= EXAMPLES[name] // 2
