"""pkgindex build (fetch, build, verify only), a C extension end to end, and pkgindex demo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from github_helpers import cli_env
from packaging.utils import parse_wheel_filename
from pull_helpers import git, make_index, make_source, python_output, source_url, uv_install
from tests.processes import on_terminal

from pkgindex.cli import main
from pkgindex.pull import update as pipelines
from pkgindex.pull.sample import write_sample_project


def test_build_a_folder_as_it_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = write_sample_project(tmp_path / "project", name="widgets", module="widgets")
    out = tmp_path / "out"
    assert main(["build", str(project), "-o", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["commit"] is None
    assert [Path(path).name for path in report["files"]] == ["widgets-1.0.0-py3-none-any.whl"]
    assert (out / "widgets-1.0.0-py3-none-any.whl").is_file()


def test_build_reports_its_phases_in_order(tmp_path: Path) -> None:
    source = make_source(tmp_path, "acme", "widgets", name="widgets", module="widgets")
    seen: list[str] = []
    url = source.bare.as_uri()
    pipelines.build(url, tmp_path / "out", ref="v1.0.0", on_phase=seen.append)
    assert seen == [
        f"fetching {url}@v1.0.0",
        "building widgets (uv)",
        "verifying",
        "verifying widgets-1.0.0-py3-none-any.whl (installing with dependencies)",
    ]


def test_build_draws_its_phases_only_on_a_terminal(tmp_path: Path) -> None:
    project = write_sample_project(tmp_path / "widgets", name="widgets", module="widgets")
    build = [sys.executable, "-m", "pkgindex", "build", str(project), "-o", str(tmp_path / "out")]
    piped = subprocess.run(build, capture_output=True, env=cli_env(), timeout=120, check=False)
    assert piped.returncode == 0, piped.stderr
    assert b"building widgets" not in piped.stderr
    assert b"\x1b[" not in piped.stderr  # no terminal control at all
    for quiet in ("--json", "-q"):
        result, drawn = on_terminal([*build, quiet], env=cli_env())
        assert result.returncode == 0, drawn
        assert b"building widgets" not in drawn
        assert b"verifying" not in drawn
    result, drawn = on_terminal(build, env=cli_env())
    assert result.returncode == 0, drawn
    assert result.stdout.decode().strip().endswith("widgets-1.0.0-py3-none-any.whl")
    building = drawn.index(b"building widgets (uv)")
    assert drawn.index(b"verifying widgets-1.0.0-py3-none-any.whl (installing with", building)


def test_build_a_git_url_at_a_tag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = make_source(tmp_path, "acme", "widgets", name="widgets", module="widgets")
    out = tmp_path / "out"
    status = main(["build", source.bare.as_uri(), "--ref", "v1.0.0", "-o", str(out), "--json"])
    assert status == 0
    report = json.loads(capsys.readouterr().out)
    assert report["commit"] == git("rev-parse", "v1.0.0", cwd=source.work)
    assert set(report["timings"]) == {"fetch", "build", "verify"}


def test_build_fails_when_the_import_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_sample_project(tmp_path / "project", name="widgets", module="widgets")
    (project / "src" / "widgets" / "__init__.py").write_text("import no_such_module\n")
    assert main(["build", str(project), "-o", str(tmp_path / "out")]) == 6
    assert "no_such_module" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


C_SETUP = textwrap.dedent("""\
    from setuptools import Extension, setup

    setup(
        name="fastmath",
        version="0.1.0",
        ext_modules=[Extension("fastmath", ["fastmath.c"])],
    )
    """)
C_SOURCE = textwrap.dedent("""\
    #define PY_SSIZE_T_CLEAN
    #include <Python.h>

    static PyObject *add(PyObject *self, PyObject *args) {
        long a, b;
        if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
        return PyLong_FromLong(a + b);
    }
    static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "add two ints"}, {NULL}};
    static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "fastmath", NULL, -1, methods};
    PyMODINIT_FUNC PyInit_fastmath(void) { return PyModule_Create(&module); }
    """)


@pytest.mark.slow
def test_c_extension_builds_verifies_publishes_and_installs(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fresh_venv: Callable[[], Any],
    client_env: dict[str, str],
) -> None:
    source = make_source(tmp_path, "acme", "fastmath", name="unused", module="unused")
    for leftover in ("pyproject.toml", "sample_backend.py"):
        (source.work / leftover).unlink()
    git("rm", "-r", "--quiet", "--cached", "src", cwd=source.work)
    (source.work / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    (source.work / "setup.py").write_text(C_SETUP)
    (source.work / "fastmath.c").write_text(C_SOURCE)
    (source.work / ".gitignore").write_text("src/\n")
    source.commit("a C extension", tag="v0.1.0")
    index = make_index(tmp_path)

    status = main(
        [
            "update",
            "--source-owner=acme",
            "--source-repo=fastmath",
            "--ref=v0.1.0",
            "--root",
            str(index.clone),
            "--source-url",
            source_url(tmp_path),
            "--json",
        ]
    )

    assert status == 0, capsys.readouterr().err
    (filename,) = json.loads(capsys.readouterr().out)["files"]
    assert filename.startswith("fastmath-0.1.0-cp3")
    # auditwheel (a test dependency) repaired the linux_* wheel into a manylinux one
    platforms = {tag.platform for tag in parse_wheel_filename(filename)[3]}
    assert platforms and all(p.startswith("manylinux") for p in platforms), filename
    assert f"fastmath/{filename}" in index.origin_files()
    venv = fresh_venv()
    installed = uv_install(index.clone.as_uri() + "/", "fastmath", venv.python, client_env)
    assert installed.returncode == 0, installed.stderr
    assert python_output(venv.python, "import fastmath; print(fastmath.add(2, 3))") == "5"


def test_demo_runs_the_whole_pipeline(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fresh_venv: Callable[[], Any],
    client_env: dict[str, str],
) -> None:
    assert main(["demo", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["update"]["pushed"] is True
    assert Path(report["origin"]).is_dir()
    venv = fresh_venv()
    installed = uv_install(report["index_url"], "pkgindex-demo", venv.python, client_env)
    assert installed.returncode == 0, installed.stderr
    hello = python_output(venv.python, "import pkgindex_demo; print(pkgindex_demo.hello())")
    assert hello == "Hello from a package built by pkgindex"


def test_demo_into_a_given_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--root", str(tmp_path / "index")]) == 0
    out = capsys.readouterr().out
    assert "uv pip install --index-url file://" in out
    assert (tmp_path / "index" / "pkgindex-demo" / "index.html").is_file()


def test_build_json_never_shows_url_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make_source(tmp_path, "acme", "widgets", name="widgets", module="widgets")
    path = source.bare.as_posix()
    url = f"file://ci:p%40ssw0rd-Secret@localhost{path}"
    status = main(["build", url, "--ref", "v1.0.0", "-o", str(tmp_path / "out"), "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    report = json.loads(captured.out)
    assert report["source"] == f"file://localhost{path}"
    for secret in ("p%40ssw0rd-Secret", "p@ssw0rd-Secret"):
        assert secret not in captured.out + captured.err


def test_build_a_relative_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_sample_project(tmp_path / "widgets", name="widgets", module="widgets")
    monkeypatch.chdir(tmp_path)
    assert main(["build", "widgets", "-o", "out"]) == 0, capsys.readouterr().err
    assert (tmp_path / "out" / "widgets-1.0.0-py3-none-any.whl").is_file()


@pytest.mark.slow
def test_sigterm_ends_a_run_like_ctrl_c_and_leaves_no_temporary_folder(tmp_path: Path) -> None:
    """A cancelled CI job or `timeout` sends SIGTERM: the run says so, exits 130 and removes its
    work folders on the way out (without a handler Python dies at once and leaves them)."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(temporary),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PKGINDEX_LOG_DIR": str(tmp_path / "logs"),
    }
    command = [sys.executable, "-m", "pkgindex", "demo", "--root", str(tmp_path / "index")]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while not any(temporary.glob("pkgindex-*")) and process.poll() is None:
            assert time.monotonic() < deadline, "demo made no work folder"
            time.sleep(0.05)
        assert process.poll() is None, "demo ended before it could be interrupted"
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    assert "interrupted" in err
    assert list(temporary.glob("pkgindex-*")) == []
