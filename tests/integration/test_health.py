"""remove, prune, check and status on a real index, with real pip and uv after each operation."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import uv
from tests.conftest import escaped_name
from tests.integration.conftest import run_pkgindex
from tests.simple_html import parse_page


def build_index(root: Path, make_wheel, pkgindex, projects: dict[str, list[str]]) -> Path:
    for name, versions in projects.items():
        for version in versions:
            make_wheel(root / name, name, version)
    result = pkgindex("generate", root)
    assert result.returncode == 0, result.stderr
    return root


def wheel_name(name: str, version: str) -> str:
    return f"{escaped_name(name)}-{version}-py3-none-any.whl"


def listed(root: Path, project: str) -> tuple[list[str], list[str]]:
    """The filenames the JSON page and the HTML page list."""
    document = json.loads((root / project / "index.json").read_text())
    anchors = parse_page((root / project / "index.html").read_bytes()).anchors
    return [entry["filename"] for entry in document["files"]], sorted(text for _, text in anchors)


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def pip_download(url: str, requirement: str, target: Path, env) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip", "download", "--isolated", "--no-cache-dir"]
    command += ["--no-deps", "--index-url", url, "-d", str(target), requirement]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def uv_install(url: str, requirement: str, target: Path, env) -> subprocess.CompletedProcess[str]:
    command = [uv.find_uv_bin(), "pip", "install", "--no-cache", "--no-deps", "--target"]
    command += [str(target), "--python", sys.executable, "--index-url", url, requirement]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


# --- remove ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_removed_file_is_gone_for_pip_and_uv(
    tmp_path, make_wheel, pkgindex, static_server, client_env
):
    root = build_index(tmp_path / "index", make_wheel, pkgindex, {"dace": ["1.0", "2.0"]})
    server = static_server(root)
    old = wheel_name("dace", "1.0")
    result = pkgindex("remove", "dace", "1.0", "--reason", "wrong version", "--root", root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"removed dace/{old}", "1 file removed from dace"]
    assert listed(root, "dace") == ([wheel_name("dace", "2.0")], [wheel_name("dace", "2.0")])
    assert not (root / "dace" / old).exists()
    assert not (root / "dace" / f"{old}.metadata").exists()
    tombstone = json.loads((root / "dace" / "index.json").read_text())["_pkgindex"]["removed"]
    assert [(t["filename"], t["reason"]) for t in tombstone] == [(old, "wrong version")]

    gone = pip_download(server.url, "dace==1.0", tmp_path / "pip", client_env)
    assert gone.returncode == 1 and "No matching distribution found for dace==1.0" in gone.stderr
    gone = uv_install(server.url, "dace==1.0", tmp_path / "uv", client_env)
    assert gone.returncode == 1 and "dace==1.0" in gone.stderr, gone.stderr
    kept = uv_install(server.url, "dace", tmp_path / "uv", client_env)
    assert kept.returncode == 0, kept.stderr
    assert (tmp_path / "uv" / "dace-2.0.dist-info").is_dir()
    check = pkgindex("check", "--root", root)
    assert check.returncode == 0, check.stdout + check.stderr


def test_removed_filename_never_returns_with_other_bytes(tmp_path, make_wheel, pkgindex):
    root = build_index(tmp_path / "index", make_wheel, pkgindex, {"dace": ["1.0", "2.0"]})
    original = tmp_path / "kept" / wheel_name("dace", "1.0")
    original.parent.mkdir()
    shutil.copy(root / "dace" / original.name, original)
    assert pkgindex("remove", "dace", original.name, "--root", root).returncode == 0

    other = make_wheel(tmp_path / "other", "dace", "1.0", payload=b"other bytes")
    for extra in ((), ("--restore",), ("--replace",)):
        refused = pkgindex("add", other, "--root", root, *extra)
        assert refused.returncode == 1, refused.stdout
        assert f"dace/{original.name}: this filename was removed on " in refused.stderr
        assert "cannot return with other bytes" in refused.stderr

    same = pkgindex("add", original, "--root", root)
    assert same.returncode == 1
    assert f"error: dace/{original.name}: this file was removed on" in same.stderr
    assert "pkgindex add --restore FILE" in same.stderr

    shutil.copy(original, root / "dace" / original.name)  # put back by hand: generate refuses
    before = snapshot(root)
    generated = pkgindex("generate", root)
    assert generated.returncode == 1 and "this file was removed on" in generated.stderr
    assert snapshot(root) == before
    (root / "dace" / original.name).unlink()

    restored = pkgindex("add", original, "--root", root, "--restore")
    assert restored.returncode == 0, restored.stderr
    files, anchors = listed(root, "dace")
    assert files == anchors == sorted([original.name, wheel_name("dace", "2.0")])
    assert "_pkgindex" not in json.loads((root / "dace" / "index.json").read_text())


def test_remove_refuses_clearly_and_writes_nothing(tmp_path, make_wheel, pkgindex):
    root = build_index(tmp_path / "index", make_wheel, pkgindex, {"dace": ["1.0", "43!2026.4.27"]})
    (root / "pkgindex.toml").write_text('[projects.dace]\nkeep = ["43!2026.4.27"]\n')
    assert pkgindex("generate", root).returncode == 0
    before = snapshot(root)
    cases = [
        (("nope", "1.0"), 1, "error: nope: no such project in"),
        (("dace", "9.9", "8.8"), 1, "error: dace: no file or version '8.8'"),
        (("dace", "43!2026.4.27"), 2, "error: dace 43!2026.4.27 is pinned in pkgindex.toml"),
    ]
    for arguments, status, message in cases:
        result = pkgindex("remove", *arguments, "--root", root)
        assert result.returncode == status, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr
    dry = pkgindex("remove", "dace", "1.0", "--dry-run", "--root", root)
    assert dry.stdout.splitlines()[0] == f"would remove dace/{wheel_name('dace', '1.0')}"
    assert snapshot(root) == before


# --- install commands ---------------------------------------------------------------------


def test_install_commands_follow_dependencies_joining_the_index(tmp_path, make_wheel, pkgindex):
    root = tmp_path / "index"
    make_wheel(root / "dace", "dace", "1.0", requires_dist=["ghex>=0.4", "numpy; extra == 'x'"])
    assert pkgindex("generate", root, "--url", "https://example.org/simple").returncode == 0
    page = (root / "dace" / "index.html").read_text()
    assert "dace needs <code>ghex</code>, which this index does not have" in page
    assert (
        "pip install --no-deps --index-url <code>https://example.org/simple/</code> dace\n" in page
    )

    added = pkgindex("add", make_wheel(tmp_path / "new", "ghex", "0.5"), "--root", root)
    assert added.returncode == 0, added.stderr
    page = (root / "dace" / "index.html").read_text()  # no --url: the one given before is kept
    assert (
        "<pre>pip install --index-url <code>https://example.org/simple/</code> dace</pre>" in page
    )
    assert 'ghex = { index = "python-package-index" }' in page
    assert pkgindex("check", "--root", root).returncode == 0

    shutil.rmtree(root / "ghex")  # a project leaving the index: generate re-renders dace
    assert pkgindex("generate", root).returncode == 0
    assert "which this index does not have" in (root / "dace" / "index.html").read_text()
    assert pkgindex("check", "--root", root).returncode == 0


# --- prune ----------------------------------------------------------------------------------


def test_prune_plans_then_removes_with_tombstones(tmp_path, make_wheel, pkgindex, client_env):
    nightlies = ["43!2026.4.26", "43!2026.4.27", "43!2026.4.28", "43!2026.4.29", "43!2026.4.30"]
    root = build_index(
        tmp_path / "index", make_wheel, pkgindex, {"dace": nightlies, "ghex": ["0.5"]}
    )
    (root / "pkgindex.toml").write_text('[projects.dace]\nkeep = ["43!2026.4.27"]\n')
    assert pkgindex("generate", root).returncode == 0
    before = snapshot(root)
    plan = pkgindex("prune", "--keep", "2", "--root", root, "--json")
    assert plan.returncode == 0, plan.stderr
    actions = [
        (v["project"], v["version"], v["action"]) for v in json.loads(plan.stdout)["versions"]
    ]
    assert actions == [
        ("dace", "43!2026.4.30", "keep"),
        ("dace", "43!2026.4.29", "keep"),
        ("dace", "43!2026.4.28", "remove"),
        ("dace", "43!2026.4.27", "keep"),
        ("dace", "43!2026.4.26", "remove"),
        ("ghex", "0.5", "keep"),
    ]
    assert snapshot(root) == before
    table = pkgindex("prune", "dace", "--keep", "2", "--root", root)
    assert "43!2026.4.28" in table.stdout and "pinned in pkgindex.toml" in table.stdout
    assert table.stdout.splitlines()[-1].startswith("would remove 2 versions (2 files, ")
    assert snapshot(root) == before

    done = pkgindex("prune", "dace", "--keep", "2", "--yes", "--root", root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("removed 2 versions (2 files, ")
    files, anchors = listed(root, "dace")
    kept = ["43!2026.4.27", "43!2026.4.29", "43!2026.4.30"]
    assert files == anchors == [wheel_name("dace", v) for v in kept]
    removed = json.loads((root / "dace" / "index.json").read_text())["_pkgindex"]["removed"]
    assert {(t["filename"], t["reason"]) for t in removed} == {
        (wheel_name("dace", v), "pruned (keep 2)") for v in ("43!2026.4.26", "43!2026.4.28")
    }
    assert pkgindex("check", "--root", root).returncode == 0
    unknown = pkgindex("prune", "dace", "nope", "--keep", "1", "--root", root)
    assert unknown.returncode == 1 and "error: nope: no such project" in unknown.stderr


# --- check ----------------------------------------------------------------------------------


def test_check_reports_each_problem_with_its_path(tmp_path, make_wheel, pkgindex):
    root = build_index(
        tmp_path / "index", make_wheel, pkgindex, {"dace": ["1.0", "2.0"], "ghex": ["0.5"]}
    )
    clean = pkgindex("check", "--root", root)
    assert clean.returncode == 0, clean.stdout
    assert clean.stdout.splitlines()[-1].startswith("0 problems, 0 warnings; 6 files re-hashed")

    flipped = root / "dace" / wheel_name("dace", "1.0")
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0xFF
    flipped.write_bytes(bytes(data))
    (root / "dace" / f"{wheel_name('dace', '2.0')}.metadata").unlink()
    make_wheel(root / "ghex", "ghex", "0.6")  # never indexed: an orphan
    page = root / "ghex" / "index.html"
    page.write_text(page.read_text().replace("<h1>", "<h1>edited by hand "))
    root_page = root / "index.html"
    root_page.write_bytes(root_page.read_bytes().replace(b'<a href="ghex/">ghex</a>', b"ghex"))

    result = pkgindex("check", "--root", root, "--json")
    assert result.returncode == 1, result.stdout
    report = json.loads(result.stdout)
    found = {(problem["kind"], problem["path"]) for problem in report["problems"]}
    assert found == {
        ("hash", f"dace/{wheel_name('dace', '1.0')}"),
        ("missing-metadata", f"dace/{wheel_name('dace', '2.0')}.metadata"),
        ("orphan", f"ghex/{wheel_name('ghex', '0.6')}"),
        ("stale-page", "ghex/index.html"),
        ("page-disagrees", "index.html"),
    }
    assert report["ok"] is False and [p["name"] for p in report["projects"]] == ["dace", "ghex"]
    human = pkgindex("check", "--root", root)
    assert f"error: dace/{wheel_name('dace', '1.0')}: the file's bytes changed" in human.stdout
    assert "error: index.html: misses ghex/: run pkgindex generate [page-disagrees]" in human.stdout


def broken_wheel(directory: Path) -> Path:
    """A valid wheel whose module fails on import."""
    import base64
    import hashlib
    import zipfile

    files = {
        "broken/__init__.py": b"raise ImportError('broken on purpose')\n",
        "broken-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: broken\nVersion: 1.0\n\n",
        "broken-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n\n",
    }
    record = ""
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += f"{name},sha256={digest},{len(data)}\n"
    files["broken-1.0.dist-info/RECORD"] = (record + "broken-1.0.dist-info/RECORD,,\n").encode()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "broken-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


@pytest.mark.slow
def test_check_install_fails_on_a_wheel_that_does_not_import(tmp_path, make_wheel, pkgindex):
    root = build_index(tmp_path / "index", make_wheel, pkgindex, {"good": ["1.0"]})
    passed = pkgindex("check", "--install", "--root", root)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "installed and imported good==1.0" in passed.stdout
    broken_wheel(root / "broken")
    assert pkgindex("generate", root).returncode == 0
    failed = pkgindex("check", "--install", "--root", root, "--json")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    report = json.loads(failed.stdout)
    assert [(p["kind"], p["path"]) for p in report["problems"]] == [
        ("install", "broken/broken-1.0-py3-none-any.whl")
    ]
    assert (
        "the smoke check of broken-1.0-py3-none-any.whl failed" in report["problems"][0]["message"]
    )
    assert report["installed"] == ["good==1.0"]


# --- status ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_status_markers_in_both_forms(tmp_path, make_wheel, pkgindex, static_server, client_env):
    root = build_index(tmp_path / "index", make_wheel, pkgindex, {"dace": ["1.0"]})
    server = static_server(root)
    result = pkgindex("status", "dace", "archived", "--reason", "moved to dace2", "--root", root)
    assert result.returncode == 0 and result.stdout == "dace: archived (moved to dace2)\n"
    document = json.loads((root / "dace" / "index.json").read_text())
    assert document["project-status"] == {"status": "archived", "reason": "moved to dace2"}
    assert document["meta"]["api-version"] == "1.4"
    page = parse_page((root / "dace" / "index.html").read_bytes())
    assert page.meta("pypi:project-status") == "archived"
    assert page.meta("pypi:project-status-reason") == "moved to dace2"
    refused = pkgindex("add", make_wheel(tmp_path / "new", "dace", "2.0"), "--root", root)
    assert refused.returncode == 1
    assert "project dace is archived and accepts no new files (PEP 792)" in refused.stderr
    fetched = pip_download(server.url, "dace", tmp_path / "a", client_env)
    assert fetched.returncode == 0, fetched.stderr  # archived: files are still offered

    assert pkgindex("status", "dace", "quarantined", "--root", root).returncode == 0
    assert listed(root, "dace") == ([], [])
    withheld = pip_download(server.url, "dace", tmp_path / "b", client_env)
    assert withheld.returncode == 1 and "No matching distribution" in withheld.stderr
    assert pkgindex("check", "--root", root).returncode == 0

    assert pkgindex("status", "dace", "active", "--root", root).returncode == 0
    assert "project-status" not in json.loads((root / "dace" / "index.json").read_text())
    assert listed(root, "dace")[0] == [wheel_name("dace", "1.0")]
    unknown = pkgindex("status", "dace", "sleeping", "--root", root)
    assert unknown.returncode == 2 and "invalid choice: 'sleeping'" in unknown.stderr


# --- the same on a bucket -------------------------------------------------------------------


def test_remove_prune_check_on_a_bucket(s3_server, make_wheel, tmp_path):
    bucket = s3_server.new_bucket()
    root = f"s3://{bucket}/simple"
    built = [make_wheel(tmp_path, "dace", v) for v in ("1.0", "2.0", "3.0")]

    def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return run_pkgindex(*args, env=s3_server.env)

    assert cli("add", *built, "--root", root).returncode == 0
    removed = cli("remove", "dace", "1.0", "--root", root)
    assert removed.returncode == 0, removed.stderr
    client = s3_server.client()
    keys = {item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert f"simple/dace/{wheel_name('dace', '1.0')}" not in keys
    assert f"simple/dace/{wheel_name('dace', '1.0')}.metadata" not in keys
    document = json.loads(
        client.get_object(Bucket=bucket, Key="simple/dace/index.json")["Body"].read()
    )
    assert [t["filename"] for t in document["_pkgindex"]["removed"]] == [wheel_name("dace", "1.0")]
    again = cli("add", built[0], "--root", root)
    assert again.returncode == 1 and "this file was removed on" in again.stderr

    pruned = cli("prune", "--keep", "1", "--yes", "--root", root)
    assert pruned.returncode == 0 and "removed 1 version (1 file, " in pruned.stdout
    assert cli("check", "--root", root).returncode == 0
    client.delete_object(Bucket=bucket, Key=f"simple/dace/{wheel_name('dace', '3.0')}.metadata")
    found = cli("check", "--root", root, "--json")
    assert found.returncode == 1
    problems = [(p["kind"], p["path"]) for p in json.loads(found.stdout)["problems"]]
    assert problems == [("missing-metadata", f"dace/{wheel_name('dace', '3.0')}.metadata")]
