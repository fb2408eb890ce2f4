"""A cold run big enough to read and write in worker processes writes the same bytes as runs
small enough to do everything in the command's own process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.integration.conftest import pkgindex_environment, run_pkgindex

PROJECTS = 80  # more than the 64 folders and 64 files from which workers read and write


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_parallel_cold_run_writes_what_serial_runs_write(tmp_path, corpus):
    source = corpus(tmp_path / "corpus", projects=PROJECTS, versions=1, sdists=True)
    env = {**pkgindex_environment(), "SOURCE_DATE_EPOCH": "1700000000"}
    parallel = tmp_path / "parallel"
    shutil.copytree(source, parallel)
    result = run_pkgindex("generate", parallel, "--json", env=env)
    assert result.returncode == 0, result.stderr

    serial = tmp_path / "serial"  # two runs of 40 folders: each written by the command itself
    serial.mkdir()
    folders = sorted(p for p in source.iterdir() if p.is_dir())
    for half in (folders[: PROJECTS // 2], folders[PROJECTS // 2 :]):
        for folder in half:
            shutil.copytree(folder, serial / folder.name)
        result = run_pkgindex("generate", serial, "--json", env=env)
        assert result.returncode == 0, result.stderr

    written, expected = _tree(parallel), _tree(serial)
    assert sorted(written) == sorted(expected)
    assert sum(name.endswith(".metadata") for name in written) == PROJECTS
    different = [name for name in written if written[name] != expected[name]]
    assert different == []
    assert not [name for name in os.listdir(parallel) if name.endswith(".tmp")]


UNGUARDED_SCRIPT = """
import sys
from pathlib import Path

from pkgindex.index.refresh import generate
from pkgindex.stores.local import LocalStore

generate(LocalStore(Path(sys.argv[1])))  # no `if __name__ == "__main__":`
"""


def test_a_script_without_a_main_guard_gets_an_error_not_a_hang(tmp_path, corpus):
    """Worker processes import the main script again; a command it runs at its top level
    would wait forever for the lock the script holds. It is refused in the worker, and the
    script gets an error that says what to do."""
    root = corpus(tmp_path / "index", projects=PROJECTS, versions=1)
    script = tmp_path / "publish.py"
    script.write_text(UNGUARDED_SCRIPT)
    env = {**pkgindex_environment(), "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, script, root], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 1, result.stderr
    assert "a worker process ended before it finished" in result.stderr
    assert "if __name__ == '__main__'" in result.stderr
    assert "imported the main script again" in result.stderr  # the worker said why
    assert not (root / "index.html").exists()  # nothing written: the run stopped while reading


def test_a_folder_read_by_two_processes_is_written_whole(tmp_path, corpus):
    """One folder holds almost every file: the workers take files from the front of the list
    and the command from the back, so both read some of its files, which meet in one process
    before the folder is written."""
    root = corpus(tmp_path / "index", projects=PROJECTS, versions=1)
    big = corpus(tmp_path / "big", projects=1, versions=2000) / "benchpkg00000"
    for wheel in big.iterdir():
        shutil.copyfile(wheel, root / "benchpkg00000" / wheel.name)
    result = run_pkgindex("generate", root, "--json", env=pkgindex_environment())
    assert result.returncode == 0, result.stderr
    files = {entry["filename"] for entry in _catalog(root / "benchpkg00000")["files"]}
    assert files == {wheel.name for wheel in big.iterdir()}
    assert len(list(root.glob("*/*.metadata"))) == 2000 + PROJECTS - 1


def _catalog(folder: Path) -> dict:
    return json.loads((folder / "index.json").read_bytes())
