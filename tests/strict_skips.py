"""In CI a skipped test is a failed test, unless it is marked optional with a reason.

A skip that nobody sees is a test that silently stopped running: a missing tool, a missing
folder, an unset variable. With ``CI`` set (``true``/``1``/``yes``, as CI services set it) every
skip becomes a failure that names the skip's reason, except for tests marked::

    @pytest.mark.optional(reason="needs a GPU; CI runners have none")

Skips raised while collecting a module (``pytest.importorskip`` at module level) fail the same
way: there is no test yet to carry the marker, so skip inside the test or fixture instead.
Expected failures (``xfail``) are not skips and are left alone.

Loaded by ``tests/conftest.py``; ``tests/unit/test_strict_skips.py`` checks it with pytester.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

MARKER = "optional(reason): the test may skip in CI; the reason says why that is acceptable"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


def optional_reason(item: pytest.Item) -> str | None:
    """The reason of the item's ``optional`` marker, or None when it has none (or no reason)."""
    marker = item.get_closest_marker("optional")
    if marker is None:
        return None
    reason = marker.kwargs.get("reason", marker.args[0] if marker.args else "")
    return reason if isinstance(reason, str) and reason.strip() else None


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _fail(report: pytest.TestReport | pytest.CollectReport, what: str) -> None:
    report.longrepr = (
        f"{what} skipped in CI: {_skip_reason(report)}\n"
        "A skip in CI is a failure: install what the test needs in the project's own files "
        "(pyproject's test extra, .ci/run), or mark the test "
        '@pytest.mark.optional(reason="why it may skip").'
    )
    report.outcome = "failed"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and in_ci()
        and optional_reason(item) is None
    ):
        _fail(report, item.nodeid)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    if report.skipped and in_ci():
        _fail(report, collector.nodeid or "collection")
    return report
