"""A cold run big enough to read and write in worker processes writes the same bytes as runs
small enough to do everything in the command's own process."""

from __future__ import annotations

import os
import shutil
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
