"""`pkgindex publish` (push mode) into a bare git origin served by file://, with races."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from github_helpers import cli_env, git, run_cli, write_wheel
from tests.conftest import wheel_bytes
from tests.processes import Finished, barrier_hook, on_terminal, pushes_arrived, run_together

from pkgindex.github import publish as push_mode
from pkgindex.index.distfile import inspect_distribution

pytestmark = pytest.mark.slow


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """A bare index repository whose main branch holds a freshly initialized index."""
    bare = tmp_path / "origin.git"
    git("init", "--quiet", "--bare", "--initial-branch=main", bare)
    seed = tmp_path / "seed"
    git("clone", "--quiet", bare.as_uri(), seed)
    result = run_cli("init", seed, "--title", "Test index", "--project", "alpha=Example/alpha")
    assert result.returncode == 0, result.stderr
    git("add", ".", cwd=seed)
    git("commit", "--quiet", "-m", "init", cwd=seed)
    git("push", "--quiet", "origin", "HEAD:main", cwd=seed)
    return bare


def publish(origin: Path, *wheels: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("publish", *wheels, "--index-url-git", origin.as_uri(), "--branch", "main")


def checkout_of(origin: Path, where: Path) -> Path:
    git("clone", "--quiet", origin.as_uri(), where)
    return where


def commit_count(origin: Path) -> int:
    return int(git("rev-list", "--count", "main", cwd=origin))


def test_publish_adds_commits_and_pushes(origin: Path, tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path / "dist", "alpha", "1.0")
    result = publish(origin, wheel)
    assert result.returncode == 0, result.stderr
    assert "added     alpha-1.0-py3-none-any.whl" in result.stdout
    assert "pushed " in result.stdout
    assert "pushing to main" not in result.stderr  # no terminal: no progress drawn
    index = checkout_of(origin, tmp_path / "check")
    assert (index / "alpha" / wheel.name).read_bytes() == wheel.read_bytes()
    assert wheel.name in (index / "alpha" / "index.html").read_text()
    assert 'href="alpha/"' in (index / "index.html").read_text()
    assert git("log", "-1", "--format=%s", cwd=index).startswith("published alpha-1.0")

    before = commit_count(origin)
    again = publish(origin, wheel)
    assert again.returncode == 0, again.stderr
    assert "unchanged alpha-1.0-py3-none-any.whl" in again.stdout
    assert commit_count(origin) == before


def test_publish_reports_its_phases(origin: Path, tmp_path: Path) -> None:
    seen: list[str] = []
    wheels = [write_wheel(tmp_path / "dist", "alpha", version) for version in ("1.0", "1.1")]
    push_mode.publish(wheels, index_url_git=origin.as_uri(), on_phase=seen.append)
    assert seen == [f"cloning the index {origin.as_uri()}", "adding 2 files", "pushing to main"]
    seen.clear()
    push_mode.publish(wheels[:1], index_url_git=origin.as_uri(), on_phase=seen.append)
    assert seen == [f"cloning the index {origin.as_uri()}", "adding 1 file"]  # nothing to push


def test_publish_draws_its_phases_on_a_terminal_only_without_json(
    origin: Path, tmp_path: Path
) -> None:
    argv = [sys.executable, "-m", "pkgindex", "publish", "--index-url-git", origin.as_uri()]
    result, drawn = on_terminal([*argv, str(write_wheel(tmp_path, "alpha", "1.0"))], env=cli_env())
    assert result.returncode == 0, drawn
    assert b"cloning the index" in drawn
    assert b"pushing to main" in drawn
    wheel = write_wheel(tmp_path, "alpha", "2.0")
    result, drawn = on_terminal([*argv, str(wheel), "--json"], env=cli_env())
    assert result.returncode == 0, drawn
    assert b"pushing to main" not in drawn
    assert b"\x1b[" not in drawn  # log lines only: no terminal control at all


def published_bytes(origin: Path, path: str) -> bytes:
    return subprocess.run(
        ["git", "show", f"main:{path}"], cwd=origin, capture_output=True, check=True
    ).stdout


def test_publish_refuses_other_bytes_under_a_published_name(origin: Path, tmp_path: Path) -> None:
    first = write_wheel(tmp_path / "one", "alpha", "1.0")
    assert publish(origin, first).returncode == 0
    published = published_bytes(origin, f"alpha/{first.name}")
    # the same name, other bytes, and a wheel valid in every other way: a conflict is the
    # only reason left to refuse it
    other = tmp_path / "two" / first.name
    other.parent.mkdir()
    other.write_bytes(wheel_bytes("alpha", "1.0", payload=b"another build"))
    assert inspect_distribution(other).sha256 != hashlib.sha256(published).hexdigest()
    before = commit_count(origin)
    result = publish(origin, other)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        f"error: {first.name}: the index already has a different file with this name\n"
        in result.stderr
    )
    assert "hint: published files are immutable" in result.stderr
    assert "--replace" in result.stderr
    assert "Traceback" not in result.stderr
    assert commit_count(origin) == before
    assert published_bytes(origin, f"alpha/{first.name}") == published == first.read_bytes()


def retries(finished: list[Finished]) -> int:
    return sum(result.stderr.count("push: rejected; retrying") for result in finished)


def test_concurrent_publishes_both_land(origin: Path, tmp_path: Path) -> None:
    # The origin holds every push until all three arrived: they race on the same tip.
    barrier_hook(origin, parties=3)
    wheels = [
        write_wheel(tmp_path / "dist", "beta", "1.0"),
        write_wheel(tmp_path / "dist", "gamma", "2.0"),
        write_wheel(tmp_path / "dist", "alpha", "3.0"),
    ]
    argv = [sys.executable, "-m", "pkgindex", "publish", "--index-url-git", origin.as_uri()]
    finished = run_together([[*argv, str(wheel)] for wheel in wheels], env=cli_env(), timeout=120)
    for result in finished:
        assert result.returncode == 0, result.describe()
    # one of the three lands first; the other two are rejected and retry (git may reject a
    # retry that lost again before it reaches the hook, so arrivals can trail the retries)
    assert retries(finished) >= 2
    assert 3 + 2 <= pushes_arrived(origin) <= 3 + retries(finished)
    index = checkout_of(origin, tmp_path / "check")
    root_page = (index / "index.html").read_text()
    for wheel in wheels:
        project = wheel.name.split("-")[0]
        assert (index / project / wheel.name).read_bytes() == wheel.read_bytes()
        assert wheel.name in (index / project / "index.html").read_text()
        assert f'href="{project}/"' in root_page


def test_publish_races_a_pull_mode_update(tmp_path: Path) -> None:
    # Reuses the pull-mode test helpers: a sample source repository and an index origin.
    from pull_helpers import GIT_ENV, make_index, make_source, source_url

    make_source(tmp_path, "acme", "widgets", name="widgets", module="widgets")
    index = make_index(tmp_path)
    barrier_hook(index.origin)
    wheel = write_wheel(tmp_path / "dist", "gadgets", "1.0")
    commands = [
        ["update", "--source-owner=acme", "--source-repo=widgets", "--ref=v1.0.0",
         "--root", str(index.clone), "--source-url", source_url(tmp_path)],
        ["publish", str(wheel), "--index-url-git", index.origin.as_uri()],
    ]  # fmt: skip
    finished = run_together(
        [[sys.executable, "-m", "pkgindex", *command] for command in commands],
        env=cli_env(GIT_ENV),
        timeout=180,
    )
    for result in finished:
        assert result.returncode == 0, result.describe()
    assert retries(finished) == 1 and pushes_arrived(index.origin) == 3
    files = index.origin_files()
    assert "widgets/widgets-1.0.0-py3-none-any.whl" in files
    assert "gadgets/gadgets-1.0-py3-none-any.whl" in files
    root_page = git("show", "main:index.html", cwd=index.origin)
    assert 'href="widgets/"' in root_page
    assert 'href="gadgets/"' in root_page
