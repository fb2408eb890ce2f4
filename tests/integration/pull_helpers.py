"""Helpers for the pull-mode integration tests: real git repositories in a temp folder.

Source repositories are bare repositories under ``<tmp>/sources/<owner>/<repo>.git``, filled from a
work tree next to them, so the tests clone them over ``file://`` with a URL template.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pkgindex.pull.sample import write_sample_project

GIT_ENV = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "protocol.file.allow",
    "GIT_CONFIG_VALUE_0": "always",
}


def git(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"git {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return result.stdout.strip()


@dataclass
class Source:
    """A source repository: a work tree and the bare repository it pushes to."""

    work: Path
    bare: Path

    def commit(self, message: str, *, tag: str | None = None) -> str:
        git("add", "-A", cwd=self.work)
        git("commit", "--quiet", "--allow-empty", "-m", message, cwd=self.work)
        if tag:
            git("tag", tag, cwd=self.work)
        git("push", "--quiet", "--tags", "origin", "HEAD:refs/heads/main", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)


def make_source(
    tmp: Path, owner: str, repo: str, *, tag: str | None = "v1.0.0", **project: Any
) -> Source:
    """A sample project (in-tree backend) pushed to ``tmp/sources/OWNER/REPO.git``."""
    bare = tmp / "sources" / owner / f"{repo}.git"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    work = tmp / "work" / owner / repo
    write_sample_project(work, **project)
    git("init", "--quiet", "--initial-branch=main", str(work))
    git("remote", "add", "origin", bare.as_uri(), cwd=work)
    source = Source(work=work, bare=bare)
    source.commit("initial", tag=tag)
    return source


def source_url(tmp: Path) -> str:
    return f"{(tmp / 'sources').as_uri()}/{{owner}}/{{repo}}.git"


@dataclass
class IndexRepo:
    origin: Path  # bare
    clone: Path

    def origin_head(self) -> str:
        return git("rev-parse", "refs/heads/main", cwd=self.origin)

    def origin_files(self) -> set[str]:
        return set(git("ls-tree", "-r", "--name-only", "main", cwd=self.origin).splitlines())

    def origin_json(self, project: str) -> dict[str, Any]:
        text = git("show", f"main:{project}/index.json", cwd=self.origin)
        data: dict[str, Any] = json.loads(text)
        return data

    def new_clone(self, dest: Path) -> Path:
        git("clone", "--quiet", self.origin.as_uri(), str(dest))
        return dest


def update_argv(
    tmp: Path, root: Path, repo: str, ref: str, *extra: str, owner: str = "acme"
) -> list[str]:
    """``pkgindex update`` arguments for a source made by make_source in TMP."""
    return [
        "update",
        f"--source-owner={owner}",
        f"--source-repo={repo}",
        f"--ref={ref}",
        "--root",
        str(root),
        "--source-url",
        source_url(tmp),
        *extra,
    ]


def make_index(tmp: Path, *, config: str = "") -> IndexRepo:
    """A bare index origin with one commit (pkgindex.toml) and a clone of it."""
    origin = tmp / "index-origin.git"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    seed = tmp / "index-seed"
    git("init", "--quiet", "--initial-branch=main", str(seed))
    (seed / "pkgindex.toml").write_text(f'title = "test index"\n{config}', encoding="utf-8")
    git("add", "-A", cwd=seed)
    git("commit", "--quiet", "-m", "index", cwd=seed)
    git("push", "--quiet", origin.as_uri(), "HEAD:refs/heads/main", cwd=seed)
    index = IndexRepo(origin=origin, clone=tmp / "index")
    index.new_clone(index.clone)
    return index


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (except .git internals) with its bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def run_pkgindex(
    args: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m pkgindex ARGS`` in a subprocess, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "pkgindex", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


def uv_install(
    index_url: str, requirement: str, python: Path, env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """Install ``requirement`` from ``index_url`` only into the venv of ``python``."""
    import uv

    return subprocess.run(
        [
            uv.find_uv_bin(),
            "pip",
            "install",
            "--python",
            str(python),
            "--index-url",
            index_url,
            requirement,
        ],
        capture_output=True,
        text=True,
        env=dict(env),
        check=False,
    )


def python_output(python: Path, code: str) -> str:
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return result.stdout.strip()
