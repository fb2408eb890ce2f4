"""Every generated workflow passes GitHub's workflow schema and the zizmor security linter."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from github_helpers import run_cli

from pkgindex.github.workflows import dependent_workflow, index_workflow

INDEX = "GridTools/python-pkg-index"


def all_workflows() -> dict[str, str]:
    return {
        "index.yml": index_workflow(),
        "index-no-pages.yml": index_workflow(deploy_pages=False, branch="1.10"),
        "index-platform.yml": index_workflow(
            apt_packages=["libopenmpi-dev", "libboost-dev"], platform=True
        ),
        "dependent-pull.yml": dependent_workflow(
            index_repo=INDEX, source_owner="GridTools", source_repo="dace"
        ),
        "dependent-push.yml": dependent_workflow(
            index_repo=INDEX, source_owner="ghex-org", source_repo="GHEX", mode="push"
        ),
    }


@pytest.fixture(scope="module")
def workflow_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("workflows")
    paths = []
    for name, text in all_workflows().items():
        path = folder / name
        path.write_text(text)
        paths.append(path)
    return paths


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: python -m pip install -e '.[test]'")
    return path


def test_workflows_match_the_github_schema(workflow_files: list[Path]) -> None:
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *workflow_files],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_of_medium_or_high_severity(workflow_files: list[Path]) -> None:
    # The auditor persona is the strictest; medium findings are fixed in the templates.
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--persona=auditor", "--format=json", *workflow_files],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    findings = json.loads(result.stdout or "[]")
    serious = [
        (finding["ident"], finding["determinations"]["severity"])
        for finding in findings
        if finding["determinations"]["severity"] in ("Medium", "High")
    ]
    assert serious == [], result.stdout
    assert result.returncode in (0, 10, 11, 12), result.stderr  # 1x: findings below medium


def test_the_cli_prints_and_writes_the_same_workflows(tmp_path: Path) -> None:
    printed = run_cli("workflow", "index", "--pkgindex-requirement", "pkgindex==0.1.0")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == index_workflow(requirement="pkgindex==0.1.0")
    out = tmp_path / "updater.yml"
    written = run_cli(
        "workflow", "dependent", "--index-repo", INDEX, "--source-owner", "ghex-org",
        "--source-repo", "GHEX", "--mode", "push", "--tag-pattern", "v*", "-o", out,
        "--pkgindex-requirement", "pkgindex==0.1.0",
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    assert out.read_text() == dependent_workflow(
        index_repo=INDEX, source_owner="ghex-org", source_repo="GHEX", mode="push",
        tag_pattern="v*", requirement="pkgindex==0.1.0",
    )  # fmt: skip


def test_bad_names_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "updater.yml"
    result = run_cli(
        "workflow", "dependent", "--index-repo", "not a repo", "--source-owner", "a\nb",
        "--source-repo", "dace", "-o", out,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--index-repo" in result.stderr
    assert "--source-owner" in result.stderr
    assert not out.exists()
