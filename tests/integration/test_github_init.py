"""`pkgindex init`: the scaffold, idempotence, edited files, and installing from the result."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from github_helpers import run_cli, tree_state, write_wheel

URL = "https://gridtools.github.io/python-pkg-index"
ARGS = ("--title", "GT4Py package index", "--project", "dace=GridTools/dace",
        "--project", "ghex=ghex-org/GHEX", "--url", URL)  # fmt: skip


def init(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    result = run_cli("init", root, *ARGS, *extra)
    assert result.returncode == 0, result.stderr
    return result


def test_init_writes_the_scaffold(tmp_path: Path) -> None:
    root = tmp_path / "index"
    init(root)
    config = tomllib.loads((root / "pkgindex.toml").read_text())
    assert config["title"] == "GT4Py package index"
    assert config["projects"]["dace"]["source"] == "GridTools/dace"
    assert (root / ".nojekyll").read_bytes() == b""
    workflow = (root / ".github/workflows/update-python-pkg-index.yml").read_text()
    assert "pkgindex update" in workflow
    readme = (root / "README.md").read_text()
    assert "explicit = true" in readme
    assert 'dace = { index = "gt4py-package-index" }' in readme
    assert "https://gridtools.github.io/python-pkg-index/" in readme
    assert (root / "index.html").is_file()
    assert (root / "dace" / ".gitkeep").is_file()


def test_init_twice_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "index"
    init(root)
    before = tree_state(root)
    second = init(root)
    assert tree_state(root) == before  # same bytes, same mtimes
    assert "written" not in second.stdout


def test_init_keeps_an_edited_file_unless_forced(tmp_path: Path) -> None:
    root = tmp_path / "index"
    init(root)
    readme = root / "README.md"
    readme.write_text("# our own words\n")
    result = init(root)
    assert readme.read_text() == "# our own words\n"
    assert "kept      README.md" in result.stdout
    assert "--force" in result.stdout
    init(root, "--force")
    assert "explicit = true" in readme.read_text()


def test_bad_project_argument_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("init", tmp_path, "--project", "dace")
    assert result.returncode == 2
    assert "NAME=OWNER/REPO" in result.stderr


@pytest.mark.slow
def test_pip_installs_from_an_initialized_index(tmp_path: Path) -> None:
    root = tmp_path / "index"
    init(root)
    write_wheel(root / "dace", "dace", "43!2025.12.17")
    generated = run_cli("generate", root)
    assert generated.returncode == 0, generated.stderr
    target = tmp_path / "site"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-cache-dir", "--index-url", root.as_uri() + "/", "--target", target, "dace"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert pip.returncode == 0, pip.stderr
    assert (target / "dace" / "__init__.py").read_text() == 'VERSION = "43!2025.12.17"\n'
