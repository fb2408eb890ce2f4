"""A new user's first hour (issue 12): each numbered surprise, reproduced and now handled.

The commands run as a user runs them (``python -m pkgindex`` in a subprocess, in a folder of the
test's own), and the tests assert the exact statuses, messages and files.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from tests.integration.conftest import REPO_ROOT, isolated_client_environment, run_pkgindex
from tests.processes import on_terminal

from pkgindex.cli import EXIT_STATUSES


def files_under(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


@pytest.fixture
def index(tmp_path: Path, make_wheel) -> Path:  # type: ignore[no-untyped-def]
    root = tmp_path / "index"
    make_wheel(root / "dace", "dace", "43!2025.12.17")
    make_wheel(root / "ghex", "ghex", "0.4.1")
    result = run_pkgindex("generate", "--root", root)
    assert result.returncode == 0, result.stderr
    return root


# --- 4, 7, 8: the index root ------------------------------------------------------------------


def test_every_command_takes_root_and_generate_keeps_dir(index: Path) -> None:
    by_option = run_pkgindex("generate", "--root", index, "--json")
    by_argument = run_pkgindex("generate", index, "--json")
    assert json.loads(by_option.stdout)["projects"] == json.loads(by_argument.stdout)["projects"]
    assert json.loads(by_option.stdout)["projects"] == ["dace", "ghex"]
    twice = run_pkgindex("generate", index, "--root", index.parent)
    assert twice.returncode == 2
    assert "the index root is given twice" in twice.stderr


def test_global_options_work_before_and_after_the_command(index: Path) -> None:
    before = run_pkgindex("-v", "--json", "generate", "--root", index)
    after = run_pkgindex("generate", "--root", index, "-v", "--json")
    assert before.returncode == after.returncode == 0, before.stderr
    assert json.loads(before.stdout)["command"] == json.loads(after.stdout)["command"] == "generate"
    quiet = run_pkgindex("-q", "generate", "--root", index)
    assert quiet.stdout == ""


def test_missing_root_is_a_usage_error_as_the_readme_table_says(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "path"
    result = run_pkgindex("generate", "--root", missing)
    assert result.returncode == 2
    assert f"error: {missing}: no such folder" in result.stderr
    readme = (REPO_ROOT / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| 2 |"))
    assert "missing or wrong index root" in row
    assert "2    usage or configuration error: a bad option, a missing or wrong index root" in (
        EXIT_STATUSES
    )


def test_the_exit_status_table_of_readme_and_help_agree() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    table = dict(re.findall(r"^\| (\d+) \| ([^|]+) \|$", readme, flags=re.MULTILINE))
    helped = dict(re.findall(r"^  (\d+) +(\S.*)$", EXIT_STATUSES, flags=re.MULTILINE))
    assert table.keys() == helped.keys()
    for status, meaning in helped.items():
        assert table[status].replace("`", "").startswith(meaning.split(":")[0]), status


def test_update_refuses_a_missing_root_instead_of_creating_it(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "path"
    result = run_pkgindex(
        "update", "--root", missing, "--source-owner", "acme", "--source-repo", "widgets",
        "--ref", "v1", "--source-url", f"{tmp_path.as_uri()}/{{owner}}/{{repo}}",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "no such folder" in result.stderr
    assert not (tmp_path / "no").exists()


def test_generate_refuses_folders_that_are_not_an_index(
    tmp_path: Path,
    index: Path,
    make_wheel,  # type: ignore[no-untyped-def]
) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "src" / "widgets").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("[project]\nname = 'widgets'\n")
    make_wheel(checkout / "dist", "widgets", "1.0")  # dist/ is not a project folder
    before = files_under(checkout)
    result = run_pkgindex("generate", "--root", checkout)
    assert result.returncode == 2
    assert "not an index root" in result.stderr
    assert f"pkgindex init {checkout}" in result.stderr
    assert files_under(checkout) == before
    above = run_pkgindex("generate", cwd=index.parent)
    assert above.returncode == 2
    assert "error: .: not an index root, but the index at index is inside it" in above.stderr
    assert "hint: pass the index root: --root index" in above.stderr
    inside = run_pkgindex("generate", "--root", index / "dace")
    assert inside.returncode == 2
    assert f"the project folder 'dace' of the index at {index}" in inside.stderr


def test_init_checks_before_writing(tmp_path: Path, index: Path) -> None:
    before = files_under(tmp_path)
    result = run_pkgindex("init", "--root", tmp_path, "--pkgindex-requirement", "pkgindex==0.1")
    assert result.returncode == 2
    assert "the index at" in result.stderr and "is inside it" in result.stderr
    assert files_under(tmp_path) == before
    project = run_pkgindex("init", index / "ghex", "--pkgindex-requirement", "pkgindex==0.1")
    assert project.returncode == 2
    assert "project folder 'ghex'" in project.stderr
    assert files_under(tmp_path) == before


def test_add_of_a_folder_says_so(index: Path, tmp_path: Path) -> None:
    (tmp_path / "wheels").mkdir()
    result = run_pkgindex("add", "--root", index, tmp_path / "wheels")
    assert result.returncode == 1
    assert f"error: {tmp_path / 'wheels'}: a folder, not a distribution file" in result.stderr
    assert f"hint: pass the files in it, e.g. {tmp_path / 'wheels'}/*.whl" in result.stderr


# --- 5, 9: add --------------------------------------------------------------------------------


def test_the_hint_for_a_wheel_in_the_root_fixes_it(index: Path, make_wheel) -> None:  # type: ignore[no-untyped-def]
    make_wheel(index, "dace", "2.0")
    failed = run_pkgindex("generate", "--root", index)
    assert failed.returncode == 1
    hint = next(line for line in failed.stderr.splitlines() if "hint: move it" in line)
    command = hint.split(": ", 2)[2]
    assert command == (
        f"mkdir -p {index / 'dace'} && mv {index / 'dace-2.0-py3-none-any.whl'} {index / 'dace'}/"
    )
    subprocess.run(["sh", "-e", "-c", command], check=True)
    assert not (index / "dace-2.0-py3-none-any.whl").exists()
    assert (index / "dace" / "dace-2.0-py3-none-any.whl").is_file()
    fixed = run_pkgindex("generate", "--root", index)
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout.startswith("2 projects, 1 new file, ")


def test_add_repairs_a_damaged_published_file(index: Path, tmp_path: Path, make_wheel) -> None:  # type: ignore[no-untyped-def]
    original = make_wheel(tmp_path / "dist", "ghex", "0.4.1")
    published = index / "ghex" / original.name
    assert published.read_bytes() == original.read_bytes()
    published.write_bytes(b"corrupt")
    damaged = run_pkgindex("generate", "--root", index)
    assert damaged.returncode == 1
    repaired = run_pkgindex("add", "--root", index, original)
    assert repaired.returncode == 0, repaired.stderr
    assert repaired.stdout.startswith(f"repaired {original.name} (the stored file did not match")
    assert published.read_bytes() == original.read_bytes()
    assert run_pkgindex("generate", "--root", index).returncode == 0
    again = run_pkgindex("add", "--root", index, original)
    assert "unchanged ghex-0.4.1-py3-none-any.whl" in again.stdout


# --- 10: output -------------------------------------------------------------------------------


def test_generate_prints_a_summary_and_the_paths_only_with_v(tmp_path: Path, make_wheel) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "one"
    make_wheel(root / "dace", "dace", "1.0")
    first = run_pkgindex("generate", "--root", root)
    assert re.fullmatch(r"1 project, 1 new file, 5 pages written in \d+\.\d s\n", first.stdout)
    make_wheel(root / "ghex", "ghex", "1.0")
    make_wheel(root / "ghex", "ghex", "2.0")
    verbose = run_pkgindex("generate", "--root", root, "-v")
    lines = verbose.stdout.splitlines()
    assert re.fullmatch(r"2 projects, 2 new files, 6 pages written in \d+\.\d s", lines[-1])
    assert f"written {root.resolve() / 'ghex' / 'index.json'}" in lines


def test_json_prints_one_document_also_on_failure(tmp_path: Path) -> None:
    for argv in (
        ("generate", "--root", tmp_path / "missing", "--json"),
        ("--json", "generate", "--no-such-option"),
        ("--json", "yank", "--root", tmp_path, "dace", "1.0"),
    ):
        result = run_pkgindex(*argv)
        document = json.loads(result.stdout)
        assert document["schema_version"] == 1
        assert document["error"]["exit_status"] == result.returncode != 0
        assert document["error"]["message"] in result.stderr


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    from benchmarks.corpus import write_corpus

    write_corpus(tmp_path / "big", projects=20, versions=10)
    plain = run_pkgindex("generate", "--root", tmp_path / "big")
    assert "reading files" not in plain.stderr
    write_corpus(tmp_path / "tty", projects=20, versions=10)
    process, drawn = on_terminal(
        [sys.executable, "-m", "pkgindex", "generate", "--root", str(tmp_path / "tty")],
        env=os.environ,
    )
    assert process.returncode == 0
    assert b"reading files" in drawn
    assert b"200/200" in drawn


# --- 11: workflow -o ------------------------------------------------------------------------


def test_workflow_output_keeps_a_changed_file_unless_force(tmp_path: Path) -> None:
    out = tmp_path / "update.yml"
    argv = ("workflow", "dependent", "--index-repo", "o/i", "--source-owner", "o",
            "--source-repo", "r", "--pkgindex-requirement", "pkgindex==0", "-o", out)  # fmt: skip
    assert run_pkgindex(*argv).returncode == 0
    written = out.read_text()
    assert run_pkgindex(*argv).returncode == 0  # the same bytes again: fine
    out.write_text(written + "# my change\n")
    refused = run_pkgindex(*argv)
    assert refused.returncode == 1
    assert f"error: {out}: exists with other content" in refused.stderr
    assert out.read_text().endswith("# my change\n")
    assert run_pkgindex(*argv, "--force").returncode == 0
    assert out.read_text() == written


# --- 12: the repository is self-contained -----------------------------------------------------


def test_readme_lists_every_test_tool() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    extra = pyproject["project"]["optional-dependencies"]["test"]
    tools = [re.split(r"[<>=; \[]", item)[0] for item in extra if not item.startswith("pkgindex")]
    readme = (REPO_ROOT / "README.md").read_text()
    sentence = readme[readme.index("Run the tests:") :].split("\n\n")[0]
    assert [tool for tool in tools if tool not in sentence] == []


# --- 13: temporary folders --------------------------------------------------------------------


def test_a_failed_build_keeps_its_log_in_one_place_and_nothing_in_tmp(tmp_path: Path) -> None:
    scratch, logs = tmp_path / "tmp", tmp_path / "logs"
    scratch.mkdir()
    source = tmp_path / "broken"
    source.mkdir()
    (source / "pyproject.toml").write_text("[build-system]\nrequires = [\n")
    result = run_pkgindex(
        "build", source, "-o", tmp_path / "dist",
        env={**isolated_client_environment(), "TMPDIR": str(scratch),
             "PKGINDEX_LOG_DIR": str(logs)},
    )  # fmt: skip
    assert result.returncode == 5, result.stderr
    log = Path(result.stderr.split("full log: ")[1].split()[0])
    assert log.is_file() and log.is_relative_to(logs)
    assert list(scratch.iterdir()) == []


# --- 1, 2: set-up on a fresh machine, and the generated workflow's install step ---------------


def _copy_of_the_repository(dest: Path) -> Path:
    """The repository's files as a fresh clone has them (plus files not committed yet)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    return dest


def _readme_block(heading: str) -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme[readme.index(heading) :]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


@pytest.mark.slow
def test_setup_command_then_init_then_the_workflow_install_step(tmp_path: Path) -> None:
    """README set-up command 1 as written, in a copy of the repository (no pip outside a venv);
    then that pkgindex runs `init`, and the workflow's install step, run in a clean venv from
    the files init wrote (pip from the package registry only), gives a working pkgindex."""
    from ruamel.yaml import YAML

    checkout = _copy_of_the_repository(tmp_path / "pkgindex")
    user_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    env = {
        **isolated_client_environment(),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        # the demo's index goes into this XDG_CACHE_HOME; pip and uv keep their usual caches
        "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR") or str(user_cache / "uv"),
        "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR") or str(user_cache / "pip"),
    }
    env.pop("PKGINDEX_LOG_DIR", None)
    command = _readme_block("## Set-up: two commands")
    assert command == "sh setup.sh && .venv/bin/pkgindex demo\n"
    script = (REPO_ROOT / "setup.sh").read_text().splitlines()
    installs = [line for line in script if "pip install" in line and "#" not in line]
    assert installs and all(".venv/bin/python -m pip install" in line for line in installs)
    setup = subprocess.run(
        ["bash", "-e", "-c", command], cwd=checkout, env=env,
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "uv pip install --index-url file://" in setup.stdout
    assert (tmp_path / "cache" / "pkgindex" / "demo" / "index").is_dir()

    index = tmp_path / "my-index"
    init = subprocess.run(
        [checkout / ".venv" / "bin" / "pkgindex", "init", "--root", index, "--title", "Mine"],
        env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    assert "written   pkgindex/pkgindex-0.1.0-py3-none-any.whl" in init.stdout
    workflow = YAML(typ="safe").load(
        (index / ".github" / "workflows" / "update-python-pkg-index.yml").read_text()
    )
    steps = workflow["jobs"]["update"]["steps"]
    install = next(step for step in steps if step.get("name") == "Install pkgindex")
    assert install["env"]["PKGINDEX_REQUIREMENT"] == "./pkgindex/pkgindex-0.1.0-py3-none-any.whl"

    runner = tmp_path / "runner-python"  # what actions/setup-python gives: a bare Python
    subprocess.run([sys.executable, "-m", "venv", runner], check=True, capture_output=True)
    step_env = {**env, **install["env"], "PATH": f"{runner / 'bin'}{os.pathsep}{env['PATH']}"}
    step = subprocess.run(
        ["bash", "-e", "-c", install["run"]], cwd=index, env=step_env,
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert step.returncode == 0, step.stdout + step.stderr
    version = subprocess.run(
        [runner / "bin" / "pkgindex", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout == "pkgindex 0.1.0\n"
