"""Two updates at the same time, each from its own clone, both land at the origin intact."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pull_helpers import GIT_ENV, git, make_index, make_source, update_argv
from tests.processes import Finished, barrier_hook, pushes_arrived, run_together

TEMPLATE_CONFIG = (
    '[projects.widgets]\nsource = "acme/widgets"\nversion-template = "{version}+g{sha7}"\n'
)


def update_command(tmp: Path, root: Path, repo: str, ref: str) -> list[str]:
    argv = update_argv(tmp, root, repo, ref, "--push-attempts", "8")
    return [sys.executable, "-m", "pkgindex", *argv]


def run_both(tmp: Path, origin: Path, jobs: list[tuple[Path, str, str]]) -> list[Finished]:
    """Both updates at once; the origin holds each push until both arrived, so the two really
    race on the same tip: one lands, the other is rejected and retries on top of it."""
    barrier_hook(origin)
    finished = run_together(
        [update_command(tmp, root, repo, ref) for root, repo, ref in jobs],
        env={**os.environ, **GIT_ENV},
    )
    for result in finished:
        assert result.returncode == 0, result.describe()
    assert pushes_arrived(origin) == 3  # two racing pushes, and the loser's retry
    retried = [result for result in finished if "push: rejected; retrying" in result.stderr]
    assert len(retried) == 1, [result.stderr for result in finished]
    return finished


def test_two_projects_at_once(tmp_path: Path) -> None:
    make_source(tmp_path, "acme", "widgets", name="widgets", module="widgets")
    make_source(tmp_path, "acme", "gadgets", name="gadgets", module="gadgets")
    index = make_index(tmp_path)
    second = index.new_clone(tmp_path / "index-2")

    run_both(
        tmp_path, index.origin, [(index.clone, "widgets", "v1.0.0"), (second, "gadgets", "v1.0.0")]
    )

    files = index.origin_files()
    assert "widgets/widgets-1.0.0-py3-none-any.whl" in files
    assert "gadgets/gadgets-1.0.0-py3-none-any.whl" in files
    root_page = git("show", "main:index.html", cwd=index.origin)
    assert "widgets/" in root_page and "gadgets/" in root_page
    history = git("log", "--format=%s", "main", cwd=index.origin).splitlines()
    assert sum(line.startswith("updated dependency") for line in history) == 2


def test_same_project_two_commits_at_once(tmp_path: Path) -> None:
    source = make_source(tmp_path, "acme", "widgets", name="widgets", module="widgets")
    first = git("rev-parse", "HEAD", cwd=source.work)
    (source.work / "src" / "widgets" / "extra.py").write_text("X = 1\n")
    second = source.commit("second", tag="v1.0.1")
    index = make_index(tmp_path, config=TEMPLATE_CONFIG)
    other = index.new_clone(tmp_path / "index-2")

    run_both(
        tmp_path, index.origin, [(index.clone, "widgets", "v1.0.0"), (other, "widgets", "v1.0.1")]
    )

    files = index.origin_files()
    for sha in (first, second):
        assert f"widgets/widgets-1.0.0+g{sha[:7]}-py3-none-any.whl" in files
    page = index.origin_json("widgets")
    assert len(page["files"]) == 2


def test_a_rejected_push_is_reapplied_on_top_of_the_other_side(tmp_path: Path) -> None:
    """Someone pushes between our commit and our push: we retry on top, and keep their file."""
    from pkgindex.process import Runner
    from pkgindex.pull.vcs import RetryPolicy, commit_and_push

    index = make_index(tmp_path)
    rival = index.new_clone(tmp_path / "rival")
    calls: list[str] = []

    def apply(checkout: Path) -> str | None:
        calls.append(git("rev-parse", "HEAD", cwd=checkout))
        if len(calls) == 1:  # the rival pushes first
            (rival / "theirs.txt").write_text("theirs\n")
            git("add", "theirs.txt", cwd=rival)
            git("commit", "--quiet", "-m", "theirs", cwd=rival)
            git("push", "--quiet", "origin", "main", cwd=rival)
        (checkout / "ours.txt").write_text("ours\n")
        return "ours"

    sleeps: list[float] = []
    result = commit_and_push(
        index.clone,
        apply,
        runner=Runner(log_dir=tmp_path / "logs"),
        policy=RetryPolicy(attempts=3, backoff=0.01),
        sleep=sleeps.append,
    )

    assert result.pushed and result.attempts == 2 and len(sleeps) == 1
    assert calls[1] != calls[0]  # the second attempt started from the rival's tip
    assert {"theirs.txt", "ours.txt"} <= index.origin_files()
    assert git("log", "--format=%s", "-2", "main", cwd=index.origin).splitlines() == [
        "ours",
        "theirs",
    ]
