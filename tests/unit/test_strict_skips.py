"""The conftest hook that turns skips into failures in CI (tests/strict_skips.py), run for real
in an inner pytest session (pytester)."""

from __future__ import annotations

import pytest

CONFTEST = (
    "from tests.strict_skips import "
    "pytest_configure, pytest_make_collect_report, pytest_runtest_makereport\n"
)
INNER_TESTS = """
import pytest

def test_skips():
    pytest.skip("the frobnicator is not installed")

@pytest.mark.skipif(True, reason="never on this platform")
def test_skipif():
    pass

@pytest.mark.optional(reason="needs a GPU; CI runners have none")
def test_optional_skip():
    pytest.skip("no GPU")

@pytest.mark.optional
def test_optional_without_reason():
    pytest.skip("no GPU")

@pytest.mark.xfail(reason="known bug", strict=True)
def test_expected_failure():
    assert False

def test_passes():
    pass
"""


QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:benchmark")


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_inner=INNER_TESTS)
    return pytester


@pytest.mark.parametrize("value", ["true", "1"])
def test_in_ci_a_skip_fails_and_names_its_reason(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CI", value)
    result = inner.runpytest(*QUIET, "-rA")
    # a skipif mark skips during set-up, so it turns into an error rather than a failure
    result.assert_outcomes(passed=1, failed=2, errors=1, skipped=1, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [  # the short summary, in pytest's order
            "SKIPPED [[]1[]] test_inner.py:*: no GPU",
            "XFAIL test_inner.py::test_expected_failure - known bug",
            "ERROR test_inner.py::test_skipif - *skipped in CI: never on this platform",
            "A skip in CI is a failure: * or mark the test @pytest.mark.optional(reason=*",
            "FAILED test_inner.py::test_skips - *skipped in CI: the frobnicator is not installed",
            "*",
            "FAILED test_inner.py::test_optional_without_reason - *skipped in CI: no GPU",
        ]
    )


@pytest.mark.parametrize("value", [None, "false"])
def test_outside_ci_skips_stay_skips(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    result = inner.runpytest(*QUIET)
    result.assert_outcomes(passed=1, skipped=4, xfailed=1)
    assert result.ret == pytest.ExitCode.OK


def test_in_ci_a_module_skipped_at_collection_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        test_gone="import pytest\npytest.importorskip('no_such_module_xyz')\n"
        "def test_never(): pass\n"
    )
    monkeypatch.setenv("CI", "true")
    result = inner_run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED  # a collection error stops the run
    result.stdout.fnmatch_lines(["*test_gone.py skipped in CI: could not import*no_such_module*"])
    monkeypatch.setenv("CI", "false")
    assert inner_run(pytester).ret == pytest.ExitCode.NO_TESTS_COLLECTED


def inner_run(pytester: pytest.Pytester) -> pytest.RunResult:
    return pytester.runpytest(*QUIET)
