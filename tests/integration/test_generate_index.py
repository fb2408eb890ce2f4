"""The generator's guarantees end to end, through the command line (``python -m pkgindex``).

- incremental: a run with no change writes nothing and reads no distribution file; adding a
  file reads only that file; a fresh clone regenerates byte-identical pages; upload times stay;
- bad input: every problem reported in one run, exit status 1, pages untouched, no traceback;
  ``--skip-invalid`` leaves the bad files out with warnings and exit status 3;
- immutability of published files (``add``, ``--replace``, ``--verify``);
- the GT4Py index layout, converted in place;
- the pages themselves: anchors, attributes, JSON, metadata files, and their agreement.

"Reads no distribution file" is checked without tracing system calls: every wheel is replaced
by garbage of the same size. A run that read one would fail on it; a run that did not succeeds.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from tests.simple_html import SimplePage
from tests.simple_html import parse_page as parse_simple_page

REPO_ROOT = Path(__file__).resolve().parents[2]
EPOCH_VERSION = "43!2025.12.17"
DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")


# --- helpers --------------------------------------------------------------------------------


Snapshot = dict[str, tuple[bytes, int]]


def snapshot(root: Path) -> Snapshot:
    """Every file under ROOT (symlinks not followed): its bytes and its mtime in nanoseconds."""
    result: Snapshot = {}
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = Path(directory, name)
            if path.is_symlink() or ".git" in path.relative_to(root).parts:
                continue
            result[str(path.relative_to(root))] = (path.read_bytes(), path.lstat().st_mtime_ns)
    return result


def contents(root: Path) -> dict[str, bytes]:
    return {name: data for name, (data, _mtime) in snapshot(root).items()}


def dist_files(root: Path) -> list[Path]:
    return sorted(
        path
        for path in root.rglob("*")
        if path.name.endswith(DIST_SUFFIXES) and path.is_file() and not path.is_symlink()
    )


def garble(paths: list[Path]) -> None:
    """Replace each file by garbage of the same size: any run that reads it must fail."""
    for path in paths:
        size = path.stat().st_size
        path.write_bytes(bytes((i * 7 + 13) % 256 for i in range(size)))


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"status {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result


def as_json(result: subprocess.CompletedProcess[str]) -> dict:
    document = json.loads(ok(result).stdout)
    assert document["schema_version"] == 1
    return document


def parse_page(path: Path) -> SimplePage:
    return parse_simple_page(path.read_bytes())


def listed_files(root: Path) -> set[str]:
    """Every filename any project JSON page lists."""
    names: set[str] = set()
    for page in root.glob("*/index.json"):
        names |= {entry["filename"] for entry in json.loads(page.read_bytes())["files"]}
    return names


def wheel_metadata(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        (member,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return archive.read(member)


@pytest.fixture
def index_root(tmp_path: Path, make_wheel, pkgindex) -> Path:
    """A small generated index: dace (with an epoch), ghex (platform wheel, local version)."""
    root = tmp_path / "index"
    make_wheel(root / "dace", "dace", "1.0", requires_python=">=3.8")
    make_wheel(root / "dace", "dace", EPOCH_VERSION, requires_python=">=3.9,<4")
    make_wheel(root / "ghex", "ghex", "0.4.1", tag="cp311-cp311-linux_x86_64")
    make_wheel(root / "ghex", "ghex", "0.5+cpu", requires_dist=["numpy>=1.20"])
    ok(pkgindex("generate", root))
    return root


# --- incremental and deterministic ----------------------------------------------------------


def test_warm_run_writes_nothing(index_root, pkgindex):
    before = snapshot(index_root)
    report = as_json(pkgindex("generate", index_root, "--json"))
    assert report["written"] == []
    assert report["indexed"] == []
    assert report["projects"] == ["dace", "ghex"]
    assert snapshot(index_root) == before


def test_json_report_times_the_steps_that_ran(tmp_path, index_root, pkgindex):
    warm = as_json(pkgindex("generate", index_root, "--json"))
    assert set(warm["timings"]) == {"scan"}  # nothing to read, no folder or root page written
    copy = tmp_path / "copy"
    shutil.copytree(index_root, copy)
    (copy / "index.html").unlink()  # the root page is written again, nothing else
    assert set(as_json(pkgindex("generate", copy, "--json"))["timings"]) == {"scan", "root"}
    for page in copy.glob("*/index.*"):
        page.unlink()
    cold = as_json(pkgindex("generate", copy, "--json"))
    assert set(cold["timings"]) == {"scan", "read", "write", "root"}
    assert all(seconds >= 0 for seconds in cold["timings"].values())


def test_warm_run_reads_no_distribution_file(index_root, pkgindex):
    wheels = dist_files(index_root)
    garble(wheels)
    before = snapshot(index_root)
    report = as_json(pkgindex("generate", index_root, "--json"))
    assert report["written"] == [] and report["indexed"] == []
    assert snapshot(index_root) == before


def test_verify_reports_every_changed_file(index_root, pkgindex):
    wheels = dist_files(index_root)
    garble(wheels)
    before = snapshot(index_root)
    result = pkgindex("generate", index_root, "--verify")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for wheel in wheels:
        lines = [line for line in result.stderr.splitlines() if wheel.name in line]
        assert lines, f"{wheel.name} not reported:\n{result.stderr}"
        # the fact that matters: the published bytes changed (not merely "corrupt zip")
        assert any("changed after it was published" in line for line in lines), lines
    assert snapshot(index_root) == before


def test_verify_catches_same_size_replacement(index_root, make_wheel, pkgindex, tmp_path):
    target = index_root / "dace" / "dace-1.0-py3-none-any.whl"
    first = make_wheel(tmp_path / "a", "dace", "2.0", payload=b"x" * 100)
    for filler in b"abcdefghijklmnopqrstuvw":  # a different wheel of exactly the same size
        second = make_wheel(tmp_path / "b", "dace", "2.0", payload=bytes([filler]) * 100)
        if second.stat().st_size == first.stat().st_size:
            break
    else:
        pytest.fail("could not build a same-size twin wheel")
    ok(pkgindex("add", first, "--root", index_root))
    shutil.copyfile(second, index_root / "dace" / first.name)
    # not read by a normal run (same size): by design
    ok(pkgindex("generate", index_root))
    before = snapshot(index_root)
    result = pkgindex("generate", index_root, "--verify")
    assert result.returncode == 1
    assert f"dace/{first.name}: the file changed after it was published" in result.stderr
    assert target.name not in result.stderr
    assert snapshot(index_root) == before


def test_size_change_is_reported_without_verify(index_root, pkgindex):
    wheel = index_root / "ghex" / "ghex-0.5+cpu-py3-none-any.whl"
    with wheel.open("ab") as handle:
        handle.write(b"\0")
    before = snapshot(index_root)
    result = pkgindex("generate", index_root)
    assert result.returncode == 1
    assert f"{wheel.name}: the file changed after it was published" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(index_root) == before


def git(*args: str | Path, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *map(str, args)],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_fresh_clone_regenerates_identical_pages(index_root, pkgindex, tmp_path):
    git("init", "-q", "-b", "main", cwd=index_root)
    git("add", ".", cwd=index_root)
    git("commit", "-q", "-m", "index", cwd=index_root)
    clone = tmp_path / "clone"
    git("clone", "-q", index_root, clone, cwd=tmp_path)
    expected = contents(index_root)

    report = as_json(pkgindex("generate", clone, "--json"))
    assert report["written"] == [] and report["indexed"] == []
    assert contents(clone) == expected

    # everything but the project catalogs (index.json) is derived: delete it, get it back
    for path in [*clone.rglob("*.html"), *clone.rglob("*.metadata"), clone / "index.json"]:
        path.unlink()
    ok(pkgindex("generate", clone))
    assert contents(clone) == expected


def upload_times(root: Path, project: str) -> dict[str, str]:
    page = json.loads((root / project / "index.json").read_bytes())
    return {entry["filename"]: entry["upload-time"] for entry in page["files"]}


def test_upload_time_is_fixed_when_first_indexed(tmp_path, make_wheel, pkgindex):
    root = tmp_path / "index"
    make_wheel(root / "dace", "dace", "1.0")
    ok(pkgindex("generate", root, env={"SOURCE_DATE_EPOCH": "1700000000"}))
    first = upload_times(root, "dace")
    assert first == {"dace-1.0-py3-none-any.whl": "2023-11-14T22:13:20.000000Z"}

    new = make_wheel(tmp_path / "incoming", "dace", "2.0")
    ok(pkgindex("add", new, "--root", root, env={"SOURCE_DATE_EPOCH": "1800000000"}))
    make_wheel(root / "dace", "dace", "3.0")
    ok(pkgindex("generate", root))  # the real clock
    ok(pkgindex("generate", root, "--verify", env={"SOURCE_DATE_EPOCH": "1900000000"}))
    times = upload_times(root, "dace")
    assert times["dace-1.0-py3-none-any.whl"] == "2023-11-14T22:13:20.000000Z"
    assert times["dace-2.0-py3-none-any.whl"] == "2027-01-15T08:00:00.000000Z"
    assert times["dace-3.0-py3-none-any.whl"] not in {
        "2023-11-14T22:13:20.000000Z",
        "2027-01-15T08:00:00.000000Z",
        "2030-03-17T17:46:40.000000Z",
    }


def test_add_reads_only_the_new_file(index_root, make_wheel, pkgindex, tmp_path):
    garble(dist_files(index_root))
    ghex_before = {k: v for k, v in snapshot(index_root).items() if k.startswith("ghex/")}
    new = make_wheel(tmp_path / "incoming", "dace", "2.0")
    result = as_json(pkgindex("add", new, "--root", index_root, "--json"))
    assert result["added"] == [new.name]
    assert new.name in listed_files(index_root)
    assert (index_root / "dace" / new.name).read_bytes() == new.read_bytes()
    ghex_after = {k: v for k, v in snapshot(index_root).items() if k.startswith("ghex/")}
    assert ghex_after == ghex_before


def test_generate_reads_only_the_new_file(index_root, make_wheel, pkgindex):
    garble(dist_files(index_root))
    new = make_wheel(index_root / "ghex", "ghex", "0.6")
    report = as_json(pkgindex("generate", index_root, "--json"))
    assert report["indexed"] == [new.name]
    written = {str(Path(path).relative_to(index_root)) for path in report["written"]}
    # the root pages may change too (private state; each project's latest version and file
    # count); nothing of dace's may
    assert written - {"index.json", "index.html"} == {
        "ghex/index.html",
        "ghex/index.json",
        f"ghex/{new.name}.metadata",
    }


def test_missing_metadata_file_is_restored(index_root, pkgindex):
    metadata = index_root / "dace" / f"dace-{EPOCH_VERSION}-py3-none-any.whl.metadata"
    expected = metadata.read_bytes()
    metadata.unlink()
    pages = {k: v for k, v in snapshot(index_root).items() if k.endswith("index.html")}
    ok(pkgindex("generate", index_root))
    assert metadata.read_bytes() == expected
    assert {k: v for k, v in snapshot(index_root).items() if k.endswith("index.html")} == pages


def test_damaged_catalog_is_reported(index_root, pkgindex):
    (index_root / "ghex" / "index.json").write_text("{not json")
    before = snapshot(index_root)
    result = pkgindex("generate", index_root)
    assert result.returncode == 1
    assert "ghex/index.json" in result.stderr and "damaged" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(index_root) == before


# --- bad input ------------------------------------------------------------------------------

# Each case: (id, function(root, make_wheel, outside) -> None, text stderr must contain)
BadCase = tuple[str, Callable[[Path, object, Path], None], str]


def _truncated(root, make_wheel, outside):
    path = make_wheel(root / "dace", "dace", "2.0")
    path.write_bytes(path.read_bytes()[:200])


def _garbage(root, make_wheel, outside):
    (root / "dace" / "dace-2.1-py3-none-any.whl").write_bytes(b"not a zip file at all")


def _no_metadata(root, make_wheel, outside):
    make_wheel(root / "dace", "dace", "3.0", with_metadata=False)


def _metadata_name(root, make_wheel, outside):
    make_wheel(root / "dace", "dace", "4.0", metadata_name="notdace")


def _metadata_version(root, make_wheel, outside):
    make_wheel(root / "dace", "dace", "5.0", metadata_version="5.1")


def _bad_filename(root, make_wheel, outside):
    make_wheel(root / "dace", "dace", "1.0", filename="dace-notaversion-py3-none-any.whl")


def _wrong_folder(root, make_wheel, outside):
    make_wheel(root / "dace", "ghex", "9.0")


def _misspelled_folder(root, make_wheel, outside):
    make_wheel(root / "Dace", "dace", "6.0")


def _symlink_out(root, make_wheel, outside):
    target = make_wheel(outside, "dace", "7.0")
    (root / "dace" / target.name).symlink_to(target)


def _html_folder(root, make_wheel, outside):
    make_wheel(root / "<script>", "script", "1.0")


def _html_filename(root, make_wheel, outside):
    make_wheel(root / "dace", "dace", "8.0", tag="py3-none-<script>")


def _in_root(root, make_wheel, outside):
    make_wheel(root, "dace", "9.0")


BAD_CASES: list[BadCase] = [
    ("truncated", _truncated, "dace-2.0-py3-none-any.whl"),
    ("garbage", _garbage, "dace-2.1-py3-none-any.whl"),
    ("no-metadata", _no_metadata, "dace-3.0-py3-none-any.whl"),
    ("metadata-name", _metadata_name, "dace-4.0-py3-none-any.whl"),
    ("metadata-version", _metadata_version, "dace-5.0-py3-none-any.whl"),
    ("unparseable-filename", _bad_filename, "dace-notaversion-py3-none-any.whl"),
    ("wrong-folder", _wrong_folder, "ghex-9.0-py3-none-any.whl"),
    ("misspelled-folder", _misspelled_folder, "Dace/"),
    ("symlink-leaving-root", _symlink_out, "dace-7.0-py3-none-any.whl"),
    ("html-in-folder-name", _html_folder, "<script>/"),
    ("html-in-filename", _html_filename, "dace-8.0-py3-none-<script>.whl"),
    ("file-in-root", _in_root, "dace-9.0-py3-none-any.whl"),
]
BAD_FILENAMES = {
    "dace-2.0-py3-none-any.whl",
    "dace-2.1-py3-none-any.whl",
    "dace-3.0-py3-none-any.whl",
    "dace-4.0-py3-none-any.whl",
    "dace-5.0-py3-none-any.whl",
    "dace-notaversion-py3-none-any.whl",
    "ghex-9.0-py3-none-any.whl",
    "dace-6.0-py3-none-any.whl",
    "dace-7.0-py3-none-any.whl",
    "script-1.0-py3-none-any.whl",
    "dace-8.0-py3-none-<script>.whl",
    "dace-9.0-py3-none-any.whl",
}


@pytest.mark.parametrize(
    ("make_bad", "reported"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES]
)
def test_bad_input_is_refused(index_root, make_wheel, pkgindex, tmp_path, make_bad, reported):
    make_bad(index_root, make_wheel, tmp_path / "outside")
    before = snapshot(index_root)
    result = pkgindex("generate", index_root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert reported in result.stderr
    assert "error:" in result.stderr and "Traceback" not in result.stderr
    assert snapshot(index_root) == before

    skipped = pkgindex("generate", index_root, "--skip-invalid")
    assert skipped.returncode == 3, skipped.stdout + skipped.stderr
    assert reported in skipped.stderr and "Traceback" not in skipped.stderr
    assert not listed_files(index_root) & BAD_FILENAMES
    assert (index_root / "index.html").read_text().count("<script>") == 1  # only the page's own


def test_every_problem_reported_in_one_run(index_root, make_wheel, pkgindex, tmp_path):
    cases = [case for case in BAD_CASES if case[0] != "html-in-filename"]
    for _id, make_bad, _reported in cases:
        make_bad(index_root, make_wheel, tmp_path / "outside")
    good = make_wheel(index_root / "dace", "dace", "9.9")
    before = snapshot(index_root)

    result = pkgindex("generate", index_root)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for _id, _make_bad, reported in cases:
        assert reported in result.stderr, f"{_id}: {reported!r} not reported"
    assert f"{len(cases)} problems found" in result.stderr
    assert snapshot(index_root) == before

    skipped = pkgindex("generate", index_root, "--skip-invalid", "--json")
    assert skipped.returncode == 3
    report = json.loads(skipped.stdout)
    assert len(report["skipped"]) == len(cases)
    assert report["indexed"] == [good.name]
    assert listed_files(index_root) & BAD_FILENAMES == set()
    assert good.name in listed_files(index_root)
    assert "Traceback" not in skipped.stderr


def test_add_refuses_bad_files_and_writes_nothing(index_root, make_wheel, pkgindex, tmp_path):
    incoming = tmp_path / "incoming"
    bad = [
        make_wheel(incoming, "dace", "4.0", metadata_name="notdace"),
        make_wheel(incoming, "dace", "3.0", with_metadata=False),
    ]
    good = make_wheel(incoming, "dace", "2.0")
    before = snapshot(index_root)
    result = pkgindex("add", *bad, good, "--root", index_root)
    assert result.returncode == 1
    for path in bad:
        assert path.name in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(index_root) == before

    partial = pkgindex("add", *bad, good, "--root", index_root, "--skip-invalid")
    assert partial.returncode == 3
    assert listed_files(index_root) & {p.name for p in bad} == set()
    assert good.name in listed_files(index_root)


# --- immutability ---------------------------------------------------------------------------


def test_adding_the_same_file_again_is_a_no_op(index_root, make_wheel, pkgindex, tmp_path):
    new = make_wheel(tmp_path / "incoming", "dace", "2.0")
    ok(pkgindex("add", new, "--root", index_root))
    before = snapshot(index_root)
    report = as_json(pkgindex("add", new, "--root", index_root, "--json"))
    assert report["added"] == [] and report["unchanged"] == [new.name]
    assert report["written"] == []
    assert snapshot(index_root) == before


def test_other_bytes_under_a_published_name_are_refused(index_root, make_wheel, pkgindex, tmp_path):
    published = index_root / "dace" / "dace-1.0-py3-none-any.whl"
    old_sha = hashlib.sha256(published.read_bytes()).hexdigest()
    other = make_wheel(tmp_path / "incoming", "dace", "1.0", payload=b"rebuilt")
    before = snapshot(index_root)
    result = pkgindex("add", other, "--root", index_root)
    assert result.returncode == 1
    assert "dace-1.0-py3-none-any.whl: the index already has a different file" in result.stderr
    assert "--replace" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(index_root) == before

    ok(pkgindex("add", other, "--root", index_root, "--replace"))
    assert published.read_bytes() == other.read_bytes()
    page = json.loads((index_root / "dace" / "index.json").read_bytes())
    (entry,) = [f for f in page["files"] if f["filename"] == published.name]
    assert entry["hashes"]["sha256"] == hashlib.sha256(other.read_bytes()).hexdigest()
    history = entry["_pkgindex"]["replaced"]
    assert [item["sha256"] for item in history] == [old_sha]
    ok(pkgindex("generate", index_root, "--verify"))


def test_yank_and_unyank_round_trip(index_root, pkgindex):
    before = contents(index_root)
    reason = 'broken <b>"build"</b> & more'
    ok(pkgindex("yank", "dace", EPOCH_VERSION, "--reason", reason, "--root", index_root))
    anchors = dict(
        (text, attrs) for attrs, text in parse_page(index_root / "dace" / "index.html").anchors
    )
    assert anchors[f"dace-{EPOCH_VERSION}-py3-none-any.whl"]["data-yanked"] == reason
    assert "data-yanked" not in anchors["dace-1.0-py3-none-any.whl"]
    page = json.loads((index_root / "dace" / "index.json").read_bytes())
    assert [f["yanked"] for f in page["files"]] == [False, reason]
    ok(pkgindex("unyank", "dace", EPOCH_VERSION, "--root", index_root))
    assert contents(index_root) == before

    missing = pkgindex("yank", "dace", "7.7", "--root", index_root)
    assert missing.returncode == 1 and "7.7" in missing.stderr
    assert "Traceback" not in missing.stderr


# --- exit statuses --------------------------------------------------------------------------


def test_exit_statuses(index_root, make_wheel, pkgindex):
    assert pkgindex("generate", index_root).returncode == 0
    usage = pkgindex("generate", index_root, "--no-such-option")
    assert usage.returncode == 2
    config = pkgindex("generate", index_root, env={"SOURCE_DATE_EPOCH": "yesterday"})
    assert config.returncode == 2 and "SOURCE_DATE_EPOCH" in config.stderr
    make_wheel(index_root / "dace", "dace", "4.0", metadata_name="notdace")
    assert pkgindex("generate", index_root).returncode == 1
    assert pkgindex("generate", index_root, "--skip-invalid").returncode == 3


def code_exit_statuses() -> set[int]:
    """Every status the code can exit with: the EXIT_ constants and every error class's."""
    import pkgutil

    import pkgindex
    from pkgindex import errors

    for module in pkgutil.walk_packages(pkgindex.__path__, "pkgindex."):
        if not module.name.endswith(".__main__"):  # that one runs the command line
            importlib.import_module(module.name)  # error classes defined anywhere are registered
    statuses = {value for key, value in vars(errors).items() if key.startswith("EXIT_")}
    pending = [errors.PkgIndexError]
    while pending:
        cls = pending.pop()
        statuses.add(cls.exit_status)
        pending += cls.__subclasses__()
    return statuses


def documented_statuses(text: str, row: str) -> dict[int, str]:
    return {int(m["status"]): m["meaning"].strip() for m in re.finditer(row, text, re.MULTILINE)}


def test_exit_statuses_are_documented(pkgindex):
    expected = code_exit_statuses()
    assert {0, 1, 2, 3, 4, 5, 6, 7, 130} <= expected
    readme = (REPO_ROOT / "README.md").read_text()
    table = readme.split("## Exit statuses", 1)[1].split("\n## ", 1)[0]
    in_readme = documented_statuses(table, r"^\| (?P<status>\d+) \| (?P<meaning>.+?) \|$")
    assert set(in_readme) == expected
    text = ok(pkgindex("--help")).stdout
    block = text.split("exit statuses:\n", 1)[1]
    in_help = documented_statuses(block, r"^  (?P<status>\d+) +(?P<meaning>\S.*)$")
    assert set(in_help) == expected
    # generate's own help names the statuses it uses, in one sentence
    text = " ".join(ok(pkgindex("generate", "--help")).stdout.split())
    sentence = text.split("exit statuses: ", 1)[1]
    assert {int(n) for n in re.findall(r"(?:^|, )(\d+) [a-z]", sentence)} == {0, 1, 2, 3}


# --- the GT4Py index layout -----------------------------------------------------------------

OLD_PROJECT_PAGE = """<!DOCTYPE html>
<html>
  <body>
    <a href="{name}">{name}</a><br>
  </body>
</html>
"""


@pytest.fixture
def gt4py_checkout(tmp_path: Path, make_wheel) -> Path:
    """A checkout laid out like the existing GT4Py index repository."""
    root = tmp_path / "python-pkg-index"
    dace = make_wheel(root / "dace", "dace", EPOCH_VERSION)
    make_wheel(root / "dace", "dace", "43!2025.11.3")
    ghex = make_wheel(root / "ghex", "ghex", "0.4.1", tag="cp311-cp311-linux_x86_64")
    for folder, wheel in (("dace", dace), ("ghex", ghex)):
        (root / folder / ".gitkeep").write_text("")
        (root / folder / "index.html").write_text(OLD_PROJECT_PAGE.format(name=wheel.name))
    (root / "index.html").write_text(
        '<!DOCTYPE html>\n<html><body><a href="dace">dace</a><br><a href="ghex">ghex</a>'
        "</body></html>\n"
    )
    (root / "update_workflows").mkdir()
    (root / "update_workflows" / "dace-updater.yml").write_text("on: push\n")
    (root / "update_workflows" / "ghex-updater.yml").write_text("on: push\n")
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "update-python-pkg-index.yml").write_text("on: push\n")
    (root / "generator.py").write_text("print('old generator')\n")
    (root / "issue_update.sh").write_text("#!/bin/sh\n")
    (root / "README.md").write_text("# Custom GT4Py Python Package Index Server\n")
    return root


@pytest.mark.slow
def test_gt4py_layout_is_converted_in_place(
    gt4py_checkout, pkgindex, fresh_venv, client_env, static_server
):
    root = gt4py_checkout
    untouched = {
        name: data for name, data in contents(root).items() if not name.endswith("index.html")
    }
    report = as_json(pkgindex("generate", root, "--json"))
    assert report["projects"] == ["dace", "ghex"]
    after = contents(root)
    for name, data in untouched.items():
        assert after[name] == data, f"{name} changed"
    root_page = parse_page(root / "index.html")
    assert [(a["href"], text) for a, text in root_page.anchors] == [
        ("dace/", "dace"),
        ("ghex/", "ghex"),
    ]
    for project in ("dace", "ghex"):
        wheels = sorted(p.name for p in (root / project).glob("*.whl"))
        anchors = parse_page(root / project / "index.html").anchors
        assert sorted(text for _attrs, text in anchors) == wheels
        assert (root / project / ".gitkeep").exists()
    assert not (root / "update_workflows" / "index.html").exists()

    server = static_server(root)
    venv = fresh_venv()
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv.python), "install", "--isolated",
         "--no-cache-dir", "--index-url", server.url, "dace"],
        check=True, capture_output=True, env=client_env, timeout=300,
    )  # fmt: skip
    assert venv.installed() == {"dace": EPOCH_VERSION}


# --- the pages ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rich_index(tmp_path_factory, make_wheel, corpus, pkgindex) -> Path:
    """Wheels and sdists, mixed-case names, epochs, local versions, a yank with a nasty reason."""
    root = tmp_path_factory.mktemp("rich") / "index"
    corpus(root, projects=3, versions=2, sdists=True, mixed_names=True)
    make_wheel(root / "dace", "dace", "1.0", requires_python=">=3.8,<4")
    make_wheel(root / "dace", "dace", "2025.12.18", requires_python=">=3.9, !=3.9.1")
    make_wheel(root / "dace", "dace", EPOCH_VERSION)
    make_wheel(root / "dace", "dace", "1.1.dev0")
    make_wheel(root / "ghex", "ghex", "0.5+cpu", tag="cp311-cp311-linux_x86_64")
    make_wheel(root / "ghex", "ghex", "0.4.1", tag="cp311-cp311-linux_x86_64")
    ok(pkgindex("generate", root))
    ok(pkgindex("yank", "dace", "1.0", "--reason", 'a <b>"bad"</b> & build', "--root", root))
    ok(pkgindex("yank", "ghex", "0.4.1", "--root", root))  # yanked without a reason
    return root


def project_folders(root: Path) -> list[Path]:
    return sorted(path.parent for path in root.glob("*/index.json"))


def test_rich_index_projects(rich_index):
    names = [folder.name for folder in project_folders(rich_index)]
    assert names == ["bench-pkg-00000", "bench-pkg-00001", "bench-pkg-00002", "dace", "ghex"]


def test_project_pages_have_one_anchor_per_file(rich_index):
    for folder in project_folders(rich_index):
        page = parse_page(folder / "index.html")
        on_disk = sorted(
            path.name for path in folder.iterdir() if path.name.endswith(DIST_SUFFIXES)
        )
        texts = [text for _attrs, text in page.anchors]
        assert sorted(texts) == on_disk, folder.name  # exactly one per file, nothing else
        for attrs, text in page.anchors:
            href = attrs["href"]
            assert href is not None
            url = urlsplit(href)
            assert not url.scheme and not url.netloc and not url.path.startswith("/")
            assert unquote(url.path) == text  # the URL's last segment is the filename
            assert (
                url.fragment == "sha256=" + hashlib.sha256((folder / text).read_bytes()).hexdigest()
            )


def test_pages_declare_repository_version(rich_index):
    for page in [rich_index / "index.html", *rich_index.glob("*/index.html")]:
        metas = parse_page(page).metas
        versions = [m["content"] for m in metas if m.get("name") == "pypi:repository-version"]
        assert versions == ["1.1"], page


def test_html_attributes(rich_index):
    raw = (rich_index / "dace" / "index.html").read_text()
    assert 'data-requires-python="&gt;=3.8,&lt;4"' in raw
    # a valid specifier has no quotes; quote escaping is checked on the yank reason below
    anchors = {
        text: attrs for attrs, text in parse_page(rich_index / "dace" / "index.html").anchors
    }
    assert anchors["dace-1.0-py3-none-any.whl"]["data-yanked"] == 'a <b>"bad"</b> & build'
    assert anchors["dace-1.0-py3-none-any.whl"]["data-requires-python"] == ">=3.8,<4"
    ghex = {text: attrs for attrs, text in parse_page(rich_index / "ghex" / "index.html").anchors}
    assert ghex["ghex-0.4.1-cp311-cp311-linux_x86_64.whl"]["data-yanked"] == ""
    assert "data-yanked" not in ghex["ghex-0.5+cpu-cp311-cp311-linux_x86_64.whl"]
    for attrs in [*anchors.values(), *ghex.values()]:
        assert attrs["data-core-metadata"] == attrs["data-dist-info-metadata"]
        assert attrs["data-core-metadata"].startswith("sha256=")


def test_files_sorted_by_version(rich_index):
    page = json.loads((rich_index / "dace" / "index.json").read_bytes())
    assert [f["filename"] for f in page["files"]] == [
        "dace-1.0-py3-none-any.whl",
        "dace-1.1.dev0-py3-none-any.whl",
        "dace-2025.12.18-py3-none-any.whl",
        f"dace-{EPOCH_VERSION}-py3-none-any.whl",
    ]
    html = [text for _a, text in parse_page(rich_index / "dace" / "index.html").anchors]
    assert html == [f["filename"] for f in reversed(page["files"])]  # for people: newest first


def test_json_pages(rich_index):
    for folder in project_folders(rich_index):
        page = json.loads((folder / "index.json").read_bytes())
        assert page["meta"]["api-version"] == "1.1"
        assert page["name"] == folder.name
        assert "dist-info-metadata" not in json.dumps(page)
        versions = page["versions"]
        assert len(versions) == len(set(versions))
        for entry in page["files"]:
            path = folder / entry["filename"]
            assert entry["size"] == path.stat().st_size
            assert entry["hashes"] == {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
            assert entry["upload-time"].endswith("Z")
            assert ("core-metadata" in entry) == path.name.endswith(".whl")
    root = json.loads((rich_index / "index.json").read_bytes())
    assert root["meta"]["api-version"] == "1.1"
    assert [p["name"] for p in root["projects"]] == [f.name for f in project_folders(rich_index)]


def test_html_and_json_agree(rich_index):
    for folder in project_folders(rich_index):
        page = json.loads((folder / "index.json").read_bytes())
        parsed = parse_page(folder / "index.html").anchors
        anchors = {text: attrs for attrs, text in parsed}
        # one <a> per file (the HTML page lists the newest version first)
        assert len(parsed) == len(anchors) == len(page["files"])
        assert sorted(anchors) == sorted(entry["filename"] for entry in page["files"])
        for entry in page["files"]:
            attrs = anchors[entry["filename"]]
            assert attrs["href"] == f"{entry['url']}#sha256={entry['hashes']['sha256']}"
            assert attrs.get("data-requires-python") == entry.get("requires-python")
            metadata = entry.get("core-metadata")
            expected = f"sha256={metadata['sha256']}" if metadata else None
            assert attrs.get("data-core-metadata") == expected
            yanked = entry["yanked"]
            if yanked is False:
                assert "data-yanked" not in attrs
            else:
                assert attrs["data-yanked"] == ("" if yanked is True else yanked)


def test_metadata_files_match_wheels(rich_index):
    for folder in project_folders(rich_index):
        page = json.loads((folder / "index.json").read_bytes())
        for entry in page["files"]:
            metadata_file = folder / (entry["filename"] + ".metadata")
            if not entry["filename"].endswith(".whl"):
                assert not metadata_file.exists()
                continue
            data = metadata_file.read_bytes()
            assert data == wheel_metadata(folder / entry["filename"])
            assert entry["core-metadata"] == {"sha256": hashlib.sha256(data).hexdigest()}


def test_root_page(rich_index):
    page = parse_page(rich_index / "index.html")
    names = [folder.name for folder in project_folders(rich_index)]
    assert [(attrs["href"], text) for attrs, text in page.anchors] == [
        (f"{name}/", name) for name in names
    ]


def test_a_deleted_root_page_is_written_again(index_root, pkgindex):
    before = contents(index_root)
    (index_root / "index.html").unlink()
    report = as_json(pkgindex("generate", index_root, "--json"))
    assert contents(index_root) == before
    assert [Path(path).relative_to(index_root) for path in report["written"]] == [
        Path("index.html")
    ]
