"""Pull mode on sources shaped like the real ones: nested submodules, dependencies from this index
and from an upstream index (a loopback stand-in for PyPI), setuptools, hatchling and a
scikit-build-core + CMake extension repaired by auditwheel, installed by uv from the served index.

The build backends themselves (setuptools, hatchling, scikit-build-core) come from PyPI through
uv's isolated builds, as they do in the index workflow.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from pull_helpers import Source, git, make_index, make_source, python_output, uv_install
from tests.unit.wheels import write_wheel

from pkgindex.cli import main
from pkgindex.pull.sample import write_sample_project


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any, str]:
    status = main([*argv, "--json"])
    captured = capsys.readouterr()
    return status, json.loads(captured.out) if captured.out.strip() else {}, captured.err


def make_repo(tmp: Path, owner: str, repo: str, files: Mapping[str, str]) -> Source:
    """A source repository with ``files``, pushed to ``tmp/sources/OWNER/REPO.git``."""
    bare = tmp / "sources" / owner / f"{repo}.git"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    work = tmp / "work" / owner / repo
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(textwrap.dedent(text), encoding="utf-8")
    git("init", "--quiet", "--initial-branch=main", str(work))
    git("remote", "add", "origin", bare.as_uri(), cwd=work)
    source = Source(work=work, bare=bare)
    source.commit("initial")
    return source


def add_submodule(source: Source, sub: Source, path: str) -> None:
    git("submodule", "--quiet", "add", sub.bare.as_uri(), path, cwd=source.work)


def nested_submodules(tmp: Path, owner: str, at: str, files: Mapping[str, str]) -> Source:
    """level1 (with ``files``) holding level2 at vendor2/ (with deep.py): for ``at`` in a source."""
    level2 = make_repo(tmp, owner, f"level2-{at.replace('/', '-')}", {
        "__init__.py": "",
        "deep.py": "ANSWER = 42\n",
        "include/greet.hpp": '#include <string>\ninline std::string greeting() '
        '{ return "hello from level2"; }\n',
    })  # fmt: skip
    level1 = make_repo(tmp, owner, f"level1-{at.replace('/', '-')}", files)
    add_submodule(level1, level2, "vendor2")
    level1.commit("level2 submodule")
    return level1


def index_config(upstream: str, projects: str) -> str:
    return f'upstream-index = "{upstream}"\n{projects}'


def source_template(tmp: Path) -> str:
    return f"{(tmp / 'sources').as_uri()}/{{owner}}/{{repo}}.git"


def update_argv(tmp: Path, root: Path, repo: str, ref: str) -> list[str]:
    return [
        "update", "--source-owner=acme", f"--source-repo={repo}", f"--ref={ref}",
        "--root", str(root), "--source-url", source_template(tmp),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory, static_server: Callable[[Path], Any]) -> Any:
    """A loopback index standing in for PyPI: tinydep 1.0.0, and hosted-here 9.0.0 (a project
    that the index under test hosts too: it must never be taken from here)."""
    root = tmp_path_factory.mktemp("upstream")
    wheels = tmp_path_factory.mktemp("upstream-wheels")
    files = [
        write_wheel(wheels, "tinydep", "1.0.0"),
        write_wheel(wheels, "hosted_here", "9.0.0"),
    ]
    assert main(["add", *map(str, files), "--root", str(root), "-q"]) == 0
    return static_server(root)


@pytest.mark.slow
def test_nested_submodules_and_dependencies_with_the_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], upstream: Any
) -> None:
    level1 = nested_submodules(tmp_path, "acme", "nested", {"__init__.py": ""})
    source = make_source(
        tmp_path, "acme", "nested", tag=None, name="nested", module="nested",
        dependencies=["hosted-here", "nosuchdist-pkgindex; python_version < '3'"],
        optional_dependencies={"fast": ["tinydep"]},
        init_code="import hosted_here\nfrom nested.vendor1.vendor2 import deep\n",
    )  # fmt: skip
    add_submodule(source, level1, "src/nested/vendor1")
    sha = source.commit("nested submodules")
    smoke = (
        'python -c "import nested, tinydep, importlib.metadata as m; '
        "v = m.version('hosted-here'); assert v == '1.0.0', v\""
    )
    index = make_index(
        tmp_path,
        config=index_config(
            upstream.url,
            f'[projects.nested]\nsource = "acme/nested"\nverify-extras = ["fast"]\n'
            f"smoke = '''{smoke}'''\n",
        ),
    )
    # this index hosts hosted-here 1.0.0; upstream has 9.0.0
    hosted = write_wheel(tmp_path / "hosted", "hosted_here", "1.0.0")
    assert main(["add", str(hosted), "--root", str(index.clone), "-q"]) == 0
    git("add", "-A", cwd=index.clone)
    git("commit", "--quiet", "-m", "hosted-here", cwd=index.clone)
    git("push", "--quiet", "origin", "main", cwd=index.clone)

    status, report, err = run_json(update_argv(tmp_path, index.clone, "nested", sha), capsys)

    assert status == 0, err
    assert report["files"] == ["nested-1.0.0-py3-none-any.whl"] and report["pushed"]
    assert report["timings"]["verify"] > 0
    assert "verify: nested-1.0.0-py3-none-any.whl installed with 2 dependencies" in err
    with zipfile.ZipFile(index.clone / "nested" / report["files"][0]) as archive:
        assert "nested/vendor1/vendor2/deep.py" in archive.namelist()  # two levels deep
    assert upstream.requested("/tinydep/")  # the rest comes from upstream ...
    assert not upstream.requested("/hosted-here/")  # ... never what this index hosts
    assert not upstream.requested("/nosuchdist-pkgindex/")  # markers are respected


def test_without_dependencies_a_missing_one_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "config"
    root.mkdir()
    (root / "pkgindex.toml").write_text("[projects.needsdep]\nverify-deps = false\n")
    project = write_sample_project(
        tmp_path / "needsdep", name="needsdep", module="needsdep", init_code="import tinydep\n"
    )
    status = main(["build", str(project), "--root", str(root), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 6
    assert (
        "the smoke check of needsdep-1.0.0-py3-none-any.whl failed: a dependency is missing: "
        "module 'tinydep' is not in the wheel, and verify-deps = false installs no dependencies"
    ) in err
    assert "hint: set verify-deps = true for needsdep in pkgindex.toml" in err


@pytest.mark.slow
def test_a_dependency_on_no_index_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], upstream: Any
) -> None:
    root = tmp_path / "config"
    root.mkdir()
    (root / "pkgindex.toml").write_text(f'upstream-index = "{upstream.url}"\n')
    project = write_sample_project(
        tmp_path / "lonely", name="lonely", module="lonely", dependencies=["nosuchdist-pkgindex"]
    )
    status = main(["build", str(project), "--root", str(root), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 6
    assert (
        "lonely-1.0.0-py3-none-any.whl: a dependency is missing: 'nosuchdist-pkgindex' is "
        f"neither on this index nor on {upstream.url}"
    ) in err
    assert "set verify-deps = false for lonely" in err


SETUPTOOLS = {
    "pyproject.toml": """\
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "setpkg"
        version = "2.0.0"

        [tool.setuptools.packages.find]
        where = ["src"]
        """,
    "src/setpkg/__init__.py": "from setpkg.vendored.vendor2 import deep\n",
}
HATCHLING = {
    "pyproject.toml": """\
        [build-system]
        requires = ["hatchling>=1.25"]
        build-backend = "hatchling.build"

        [project]
        name = "hatchpkg"
        version = "3.0.0"
        requires-python = ">=3.8"

        [tool.hatch.build.targets.wheel]
        packages = ["src/hatchpkg"]
        """,
    "src/hatchpkg/__init__.py": "from hatchpkg.vendored.vendor2 import deep\n",
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("files", "name", "wheel"),
    [
        (SETUPTOOLS, "setpkg", "setpkg-2.0.0-py3-none-any.whl"),
        (HATCHLING, "hatchpkg", "hatchpkg-3.0.0-py3-none-any.whl"),
    ],
    ids=["setuptools", "hatchling"],
)
def test_backends_with_submodules_build_verify_and_publish(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    name: str,
    wheel: str,
) -> None:
    level1 = nested_submodules(tmp_path, "acme", name, {"__init__.py": ""})
    source = make_repo(tmp_path, "acme", name, files)
    add_submodule(source, level1, f"src/{name}/vendored")
    sha = source.commit("submodules")
    index = make_index(tmp_path)

    status, report, err = run_json(update_argv(tmp_path, index.clone, name, sha), capsys)

    assert status == 0, err
    assert report["files"] == [wheel] and report["pushed"]
    with zipfile.ZipFile(index.clone / name / wheel) as archive:
        assert f"{name}/vendored/vendor2/deep.py" in archive.namelist()
    assert f"{name}/{wheel}" in index.origin_files()


CMAKE_PROJECT = {
    "pyproject.toml": """\
        [build-system]
        requires = ["scikit-build-core>=0.10"]
        build-backend = "scikit_build_core.build"

        [project]
        name = "fastgreet"
        version = "0.1.0"
        requires-python = ">=3.8"
        """,
    "CMakeLists.txt": """\
        cmake_minimum_required(VERSION 3.18)
        project(fastgreet LANGUAGES CXX)
        find_package(Python COMPONENTS Interpreter Development.Module REQUIRED)
        # a library that auditwheel would bundle, standing in for MPI (kept out by repair-exclude)
        find_library(ZLIB_SO NAMES libz.so.1 z REQUIRED)
        python_add_library(fastgreet MODULE fastgreet.cpp WITH_SOABI)
        target_include_directories(fastgreet PRIVATE extern/level1/vendor2/include)
        target_compile_definitions(fastgreet PRIVATE
            GREETING_SUFFIX="${GREETING_SUFFIX}" GREETING_MODE="$ENV{FASTGREET_MODE}")
        target_link_libraries(fastgreet PRIVATE ${ZLIB_SO})
        install(TARGETS fastgreet DESTINATION .)
        """,
    "fastgreet.cpp": """\
        #define PY_SSIZE_T_CLEAN
        #include <Python.h>
        #include <string>
        #include "greet.hpp"

        extern "C" const char *zlibVersion(void);

        static PyObject *greet(PyObject *, PyObject *) {
            std::string text = greeting() + GREETING_SUFFIX + " " + GREETING_MODE;
            if (zlibVersion()[0] == '\\0') return nullptr;
            return PyUnicode_FromString(text.c_str());
        }
        static PyMethodDef methods[] = {
            {"greet", greet, METH_NOARGS, "greet"}, {nullptr, nullptr, 0, nullptr}};
        static struct PyModuleDef module = {
            PyModuleDef_HEAD_INIT, "fastgreet", nullptr, -1, methods};
        PyMODINIT_FUNC PyInit_fastgreet(void) { return PyModule_Create(&module); }
        """,
}


@pytest.mark.slow
def test_a_cmake_extension_is_repaired_verified_published_and_installed(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fresh_venv: Callable[[], Any],
    client_env: dict[str, str],
    static_server: Callable[[Path], Any],
) -> None:
    level1 = nested_submodules(tmp_path, "acme", "fastgreet", {"README": "level one\n"})
    source = make_repo(tmp_path, "acme", "fastgreet", CMAKE_PROJECT)
    add_submodule(source, level1, "extern/level1")
    sha = source.commit("nested submodule with the header")
    index = make_index(
        tmp_path,
        config="\n[projects.fastgreet]\n"
        'source = "acme/fastgreet"\n'
        'env = { FASTGREET_MODE = "cpu" }\n'
        'cmake-defines = { GREETING_SUFFIX = "!" }\n'
        "auditwheel = true\n"
        'repair-exclude = ["libz.so.*"]\n',
    )

    status, report, err = run_json(update_argv(tmp_path, index.clone, "fastgreet", sha), capsys)

    assert status == 0, err
    [wheel_name] = report["files"]
    assert "-manylinux_" in wheel_name and "linux_x86_64" not in wheel_name.split("manylinux")[0]
    assert "repair: fastgreet-0.1.0-" in err and "unrepaired" not in err
    wheel = index.clone / "fastgreet" / wheel_name
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [extension] = [n for n in names if n.startswith("fastgreet.") and n.endswith(".so")]
        (tmp_path / "ext.so").write_bytes(archive.read(extension))
    assert not [n for n in names if "libz" in n]  # excluded: not bundled
    needed = subprocess.run(
        ["readelf", "-d", str(tmp_path / "ext.so")], capture_output=True, text=True, check=True
    ).stdout
    assert "[libz.so.1]" in needed  # ... but linked: the exclusion did something

    served = static_server(index.clone)
    venv = fresh_venv()
    installed = uv_install(served.url, "fastgreet", venv.python, client_env)
    assert installed.returncode == 0, installed.stderr
    greeting = python_output(venv.python, "import fastgreet; print(fastgreet.greet())")
    assert greeting == "hello from level2! cpu"
