"""Two updates at the same time, each from its own clone, both land at the origin intact."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pull_helpers import GIT_ENV, git, make_index, make_source, source_url

TEMPLATE_CONFIG = (
    '[projects.widgets]\nsource = "acme/widgets"\nversion-template = "{version}+g{sha7}"\n'
)


def start_update(tmp: Path, root: Path, repo: str, ref: str) -> subprocess.Popen[str]:
    import os

    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pkgindex",
            "update",
            "--source-owner=acme",
            f"--source-repo={repo}",
            f"--ref={ref}",
            "--root",
            str(root),
            "--source-url",
            source_url(tmp),
            "--push-attempts",
            "8",
        ],
        env={**os.environ, **GIT_ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_both(tmp: Path, jobs: list[tuple[Path, str, str]]) -> None:
    processes = [start_update(tmp, root, repo, ref) for root, repo, ref in jobs]
    for process in processes:
        _out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err


def test_two_projects_at_once(tmp_path: Path) -> None:
    make_source(tmp_path, "acme", "widgets", name="widgets", module="widgets")
    make_source(tmp_path, "acme", "gadgets", name="gadgets", module="gadgets")
    index = make_index(tmp_path)
    second = index.new_clone(tmp_path / "index-2")

    run_both(tmp_path, [(index.clone, "widgets", "v1.0.0"), (second, "gadgets", "v1.0.0")])

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

    run_both(tmp_path, [(index.clone, "widgets", "v1.0.0"), (other, "widgets", "v1.0.1")])

    files = index.origin_files()
    for sha in (first, second):
        assert f"widgets/widgets-1.0.0+g{sha[:7]}-py3-none-any.whl" in files
    page = index.origin_json("widgets")
    assert len(page["files"]) == 2
