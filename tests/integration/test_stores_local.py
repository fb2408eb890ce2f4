"""The folder store at its edges: linked project folders, interrupted and damaged adds."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.integration.conftest import run_pkgindex

LINKED = "foo/: a symbolic link; project folders must be real folders inside the index root"


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def listed(root: Path, project: str) -> list[str]:
    document = json.loads((root / project / "index.json").read_bytes())
    return [entry["filename"] for entry in document["files"]]


def linked_index(tmp_path: Path, make_wheel) -> tuple[Path, Path]:
    root, outside = tmp_path / "index", tmp_path / "elsewhere"
    make_wheel(root / "bar", "bar", "1.0")
    ok(run_pkgindex("generate", root))
    outside.mkdir()
    (outside / "index.html").write_text("precious")
    (root / "foo").symlink_to(outside)
    return root, outside


def test_add_refuses_a_linked_project_folder(tmp_path, make_wheel):
    root, outside = linked_index(tmp_path, make_wheel)
    before = snapshot(root)
    result = run_pkgindex("add", make_wheel(tmp_path, "foo", "1.0"), "--root", root)
    assert result.returncode == 1
    assert f"error: {LINKED}" in result.stderr
    assert snapshot(outside) == {"index.html": b"precious"}
    assert snapshot(root) == before


def test_generate_skips_a_linked_project_folder(tmp_path, make_wheel):
    root, outside = linked_index(tmp_path, make_wheel)
    make_wheel(outside, "foo", "1.0")
    refused = run_pkgindex("generate", root)
    assert refused.returncode == 1 and LINKED in refused.stderr
    skipped = run_pkgindex("generate", root, "--skip-invalid")
    assert skipped.returncode == 3 and LINKED in skipped.stderr
    assert sorted(snapshot(outside)) == ["foo-1.0-py3-none-any.whl", "index.html"]
    assert (outside / "index.html").read_text() == "precious"
    assert b'"foo"' not in (root / "index.json").read_bytes()


def test_add_after_an_interrupted_add_lists_the_file_and_removes_stale_temporaries(
    tmp_path, make_wheel
):
    root = tmp_path / "index"
    root.mkdir()
    ok(run_pkgindex("add", make_wheel(tmp_path, "a", "1.0"), "--root", root))
    second = make_wheel(tmp_path, "a", "2.0")
    # what a killed add leaves: the file copied, the pages not yet written, a temporary file
    (root / "a" / second.name).write_bytes(second.read_bytes())
    dead = 2**22 + 1  # no process has it (above the largest pid_max): nobody to signal
    stale = root / "a" / f".index.json.{dead}.1.tmp"
    stale.write_text("{")
    root_stale = root / f".index.html.{dead}.1.tmp"
    root_stale.write_text("<")
    alive = root / f".index.html.{os.getpid()}.1.tmp"  # a live writer's: not ours to remove
    alive.write_text("<")
    result = ok(run_pkgindex("add", second, "--root", root))
    assert f"added {second.name}" in result.stdout
    assert "unchanged" not in result.stdout
    assert listed(root, "a") == ["a-1.0-py3-none-any.whl", second.name]
    assert not stale.exists() and not root_stale.exists()
    assert alive.exists()


def test_add_of_the_original_bytes_repairs_a_damaged_published_file(tmp_path, make_wheel):
    root = tmp_path / "index"
    wheel = make_wheel(tmp_path, "a", "1.0")
    root.mkdir()
    ok(run_pkgindex("add", wheel, "--root", root))
    before = snapshot(root)
    stored = root / "a" / wheel.name
    stored.write_bytes(b"X" * stored.stat().st_size)  # same size: a warm generate cannot see it
    result = ok(run_pkgindex("add", wheel, "--root", root))
    assert f"repaired {wheel.name} (the stored file did not match the catalog" in result.stdout
    assert "unchanged" not in result.stdout
    assert snapshot(root) == before


def test_sync_verifies_every_copied_file_against_the_catalog(tmp_path, make_wheel):
    source, mirror = tmp_path / "index", tmp_path / "mirror"
    make_wheel(source / "a", "a", "1.0")
    make_wheel(source / "b", "b", "1.0")
    ok(run_pkgindex("generate", source))
    mirror.mkdir()
    damaged = source / "b" / "b-1.0-py3-none-any.whl"
    damaged.write_bytes(b"X" * damaged.stat().st_size)
    result = run_pkgindex("sync", source, mirror)
    assert result.returncode == 1
    assert f"error: {damaged}: sha256 " in result.stderr
    assert "does not match the catalog" in result.stderr
    assert not (mirror / "b").exists() or not (mirror / "b" / damaged.name).exists()
    assert not (mirror / "index.json").exists()  # the root pages come last
