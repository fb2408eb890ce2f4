"""`pkgindex publish` (push mode) into a bare git origin served by file://, with races."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from github_helpers import cli_env, git, run_cli, write_wheel

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


def test_publish_refuses_other_bytes_under_a_published_name(origin: Path, tmp_path: Path) -> None:
    first = write_wheel(tmp_path / "one", "alpha", "1.0")
    assert publish(origin, first).returncode == 0
    other = write_wheel(tmp_path / "two", "alpha-other", "1.0")
    renamed = other.with_name(first.name)
    other.rename(renamed)  # same filename, other bytes (and a name that disagrees)
    before = commit_count(origin)
    result = publish(origin, renamed)
    assert result.returncode != 0
    assert "error:" in result.stderr
    assert commit_count(origin) == before


def test_concurrent_publishes_both_land(origin: Path, tmp_path: Path) -> None:
    # Make every push slow, so both publishers clone the same tip and one push is rejected.
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\ncat >/dev/null\nsleep 1\n")
    hook.chmod(0o755)
    wheels = [
        write_wheel(tmp_path / "dist", "beta", "1.0"),
        write_wheel(tmp_path / "dist", "gamma", "2.0"),
        write_wheel(tmp_path / "dist", "alpha", "3.0"),
    ]
    argv = [sys.executable, "-m", "pkgindex", "publish", "--index-url-git", origin.as_uri()]
    processes = [
        subprocess.Popen(
            [*argv, str(wheel)],
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for wheel in wheels
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
    assert any("retrying" in stderr for _, stderr in outputs), "no push was ever rejected"
    index = checkout_of(origin, tmp_path / "check")
    root_page = (index / "index.html").read_text()
    for wheel in wheels:
        project = wheel.name.split("-")[0]
        assert (index / project / wheel.name).is_file()
        assert wheel.name in (index / project / "index.html").read_text()
        assert f'href="{project}/"' in root_page


def test_publish_races_a_pull_mode_update(tmp_path: Path) -> None:
    # Reuses the pull-mode test helpers: a sample source repository and an index origin.
    from pull_helpers import GIT_ENV, make_index, make_source, source_url

    make_source(tmp_path, "acme", "widgets", name="widgets", module="widgets")
    index = make_index(tmp_path)
    hook = index.origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\ncat >/dev/null\nsleep 1\n")
    hook.chmod(0o755)
    wheel = write_wheel(tmp_path / "dist", "gadgets", "1.0")
    env = cli_env(GIT_ENV)
    commands = [
        ["update", "--source-owner=acme", "--source-repo=widgets", "--ref=v1.0.0",
         "--root", str(index.clone), "--source-url", source_url(tmp_path)],
        ["publish", str(wheel), "--index-url-git", index.origin.as_uri()],
    ]  # fmt: skip
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "pkgindex", *command],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=180)
        assert process.returncode == 0, stderr
    files = index.origin_files()
    assert "widgets/widgets-1.0.0-py3-none-any.whl" in files
    assert "gadgets/gadgets-1.0-py3-none-any.whl" in files
    root_page = git("show", "main:index.html", cwd=index.origin)
    assert 'href="widgets/"' in root_page
    assert 'href="gadgets/"' in root_page
