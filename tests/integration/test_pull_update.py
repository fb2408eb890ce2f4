"""pkgindex update: real git sources over file://, real builds, a bare index origin, uv."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pull_helpers import (
    git,
    make_index,
    make_source,
    python_output,
    snapshot,
    source_url,
    update_argv,
    uv_install,
)

from pkgindex.cli import main
from pkgindex.pull import update as pipelines


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    status = main([*argv, "--json"])
    out = capsys.readouterr().out
    return status, json.loads(out) if out.strip() else {}


def test_update_builds_verifies_publishes_and_pushes(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fresh_venv: Callable[[], Any],
    client_env: dict[str, str],
    static_server: Callable[[Path], Any],
) -> None:
    source = make_source(tmp_path, "acme", "widgets", name="widgets", module="widgets")
    index = make_index(tmp_path)
    sha = git("rev-parse", "v1.0.0", cwd=source.work)

    status, report = run_json(update_argv(tmp_path, index.clone, "widgets", "v1.0.0"), capsys)

    assert status == 0
    assert report["schema_version"] == 1
    assert report["files"] == ["widgets-1.0.0-py3-none-any.whl"]
    assert report["pushed"] and report["commit"] == sha
    assert set(report["timings"]) == {"fetch", "build", "verify", "publish"}
    message = git("log", "-1", "--format=%s", "main", cwd=index.origin)
    assert message == f'updated dependency "acme/widgets" at {sha}'
    assert {
        "index.html",
        "widgets/index.html",
        "widgets/index.json",
        "widgets/widgets-1.0.0-py3-none-any.whl",
        "widgets/widgets-1.0.0-py3-none-any.whl.metadata",
    } <= index.origin_files()
    (entry,) = index.origin_json("widgets")["files"]
    provenance = entry["_pkgindex"]["provenance"]
    assert provenance["source"] == "acme/widgets"
    assert provenance["ref"] == "v1.0.0"
    assert provenance["commit"] == sha
    assert provenance["url"].startswith("file://")
    assert {"pkgindex", "python", "uv", "git"} <= set(provenance["tools"])
    assert sha[:7] in git("show", "main:widgets/index.html", cwd=index.origin)

    server = static_server(index.clone)
    venv = fresh_venv()
    installed = uv_install(server.url, "widgets", venv.python, client_env)
    assert installed.returncode == 0, installed.stderr
    assert python_output(venv.python, "import widgets; print(widgets.hello())").startswith("Hello")

    head = index.origin_head()
    status, again = run_json(update_argv(tmp_path, index.clone, "widgets", "v1.0.0"), capsys)
    assert status == 0
    assert again["up_to_date"] is True and "build" not in again["timings"]
    assert index.origin_head() == head


def test_update_by_sha_with_submodule_and_build_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vendored = make_source(tmp_path, "acme", "vendored", tag=None, name="unused", module="unused")
    (vendored.work / "src").rename(vendored.work / "payload")
    vendored.commit("move")
    config = (
        "[projects.gadgets]\n"
        'source = "acme/gadgets"\n'
        'env = { GHEX_USE_GPU = "OFF" }\n'
        'config-settings = { "cmake.define.X" = "1" }\n'
    )
    source = make_source(
        tmp_path,
        "acme",
        "gadgets",
        tag=None,
        name="gadgets",
        module="gadgets",
        record_env=["GHEX_USE_GPU"],
    )
    git(
        "submodule",
        "--quiet",
        "add",
        vendored.bare.as_uri(),
        "src/gadgets_vendored",
        cwd=source.work,
    )
    sha = source.commit("add the vendored submodule")
    index = make_index(tmp_path, config=config)

    status, report = run_json(update_argv(tmp_path, index.clone, "gadgets", sha), capsys)

    assert status == 0, capsys.readouterr().err
    assert report["commit"] == sha
    wheel = index.clone / "gadgets" / report["files"][0]
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = archive.read("gadgets/_build_info.py").decode()
    assert "gadgets_vendored/payload/unused/__init__.py" in names  # the submodule was checked out
    assert "'GHEX_USE_GPU': 'OFF'" in info
    assert "'cmake.define.X': '1'" in info


def test_version_template_rewrites_and_a_changed_wheel_is_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fresh_venv: Callable[[], Any],
    client_env: dict[str, str],
) -> None:
    source = make_source(tmp_path, "acme", "widgets", name="widgets", module="widgets")
    index = make_index(tmp_path)
    assert main(update_argv(tmp_path, index.clone, "widgets", "v1.0.0")) == 0
    (source.work / "src" / "widgets" / "extra.py").write_text("X = 1\n")
    second = source.commit("same version, other bytes")
    before, head = snapshot(index.clone), index.origin_head()
    capsys.readouterr()

    status = main(update_argv(tmp_path, index.clone, "widgets", "main"))

    err = capsys.readouterr().err
    assert status == 1
    assert "version-template" in err and "--replace" in err
    assert snapshot(index.clone) == before and index.origin_head() == head

    config = index.clone / "pkgindex.toml"
    config.write_text(
        config.read_text() + '[projects.widgets]\nsource = "acme/widgets"\n'
        'version-template = "{version}+g{sha7}"\n'
    )
    git("commit", "--quiet", "-am", "version template", cwd=index.clone)
    git("push", "--quiet", "origin", "main", cwd=index.clone)
    status, report = run_json(update_argv(tmp_path, index.clone, "widgets", "main"), capsys)
    assert status == 0
    assert report["files"] == [f"widgets-1.0.0+g{second[:7]}-py3-none-any.whl"]
    assert (index.clone / "widgets" / "widgets-1.0.0-py3-none-any.whl").exists()
    venv = fresh_venv()
    installed = uv_install(
        (index.clone).as_uri() + "/", f"widgets==1.0.0+g{second[:7]}", venv.python, client_env
    )
    assert installed.returncode == 0, installed.stderr
    version = python_output(
        venv.python, "import importlib.metadata as m; print(m.version('widgets'))"
    )
    assert version == f"1.0.0+g{second[:7]}"


def test_replace_replaces_explicitly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = make_source(tmp_path, "acme", "widgets", name="widgets", module="widgets")
    index = make_index(tmp_path)
    assert main(update_argv(tmp_path, index.clone, "widgets", "v1.0.0", "--no-commit")) == 0
    (source.work / "src" / "widgets" / "extra.py").write_text("X = 1\n")
    source.commit("other bytes")
    status = main(update_argv(tmp_path, index.clone, "widgets", "main", "--no-commit", "--replace"))
    assert status == 0
    wheel = index.clone / "widgets" / "widgets-1.0.0-py3-none-any.whl"
    assert "widgets/extra.py" in zipfile.ZipFile(wheel).namelist()
    page = json.loads((index.clone / "widgets" / "index.json").read_text())
    assert "replaced" in json.dumps(page["files"][0]["_pkgindex"])


def test_update_into_a_plain_folder_without_git(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_source(tmp_path, "acme", "widgets", name="widgets", module="widgets")
    root = tmp_path / "plain"
    root.mkdir()  # an empty folder is a new index root; update never creates a missing one
    status, report = run_json(update_argv(tmp_path, root, "widgets", "v1.0.0"), capsys)
    assert status == 0 and report["pushed"] is False
    assert (root / "widgets" / "index.html").is_file()


def test_update_reports_its_phases_in_order(tmp_path: Path) -> None:
    make_source(tmp_path, "acme", "widgets", name="widgets", module="widgets")
    root = tmp_path / "plain"
    root.mkdir()
    seen: list[str] = []
    update = {"owner": "acme", "repo": "widgets", "ref": "v1.0.0"}
    pipelines.update(root, **update, source_url=source_url(tmp_path), on_phase=seen.append)
    assert seen == [
        "fetching acme/widgets@v1.0.0",
        "building widgets (uv)",
        "verifying",
        "verifying widgets-1.0.0-py3-none-any.whl (installing with dependencies)",
        "publishing widgets-1.0.0-py3-none-any.whl",
    ]
    seen.clear()
    again = pipelines.update(root, **update, source_url=source_url(tmp_path), on_phase=seen.append)
    assert again.up_to_date
    assert seen == ["fetching acme/widgets@v1.0.0"]


def test_update_commits_only_what_the_index_owns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_source(tmp_path, "acme", "widgets", name="widgets", module="widgets")
    index = make_index(tmp_path)
    (index.clone / "notes-to-self.txt").write_text("not for publication\n")
    (index.clone / "scratch").mkdir()
    (index.clone / "scratch" / "local.whl.bak").write_text("junk\n")

    status, report = run_json(update_argv(tmp_path, index.clone, "widgets", "v1.0.0"), capsys)

    assert status == 0 and report["pushed"]
    published = index.origin_files()
    assert "widgets/widgets-1.0.0-py3-none-any.whl" in published
    assert "notes-to-self.txt" not in published
    assert not any(name.startswith("scratch/") for name in published)
    assert (index.clone / "notes-to-self.txt").read_text() == "not for publication\n"
