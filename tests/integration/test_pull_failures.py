"""Every failure of pkgindex update leaves the index as it was and has its own exit status."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pull_helpers import Source, make_index, make_source, snapshot, update_argv

from pkgindex.cli import main


def break_build(source: Source) -> None:
    (source.work / "pyproject.toml").write_text("[build-system]\nrequires = [\n")
    source.commit("broken pyproject", tag="broken")


def break_import(source: Source) -> None:
    (source.work / "src" / "widgets" / "__init__.py").write_text("raise ImportError('boom')\n")
    source.commit("import fails", tag="broken")


def reject_pushes(origin: Path) -> None:
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected branch' >&2\nexit 1\n")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("bad-ref", 2, "not a valid git ref"),
        ("missing-ref", 4, "not found"),
        ("clone", 4, "cannot fetch"),
        ("build", 5, "building"),
        ("import", 6, "smoke check"),
        ("push", 7, "push to origin/main failed after 2 attempts"),
    ],
)
def test_failure_leaves_the_index_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, status: int, message: str
) -> None:
    source = make_source(tmp_path, "acme", "widgets", name="widgets", module="widgets")
    index = make_index(tmp_path)
    repo, ref = "widgets", "v1.0.0"
    if case == "bad-ref":
        ref = "--upload-pack=touch /tmp/pwned"
    elif case == "missing-ref":
        ref = "no-such-branch"
    elif case == "clone":
        repo = "missing"
    elif case == "build":
        break_build(source)
        ref = "broken"
    elif case == "import":
        break_import(source)
        ref = "broken"
    elif case == "push":
        reject_pushes(index.origin)
    before, head = snapshot(index.clone), index.origin_head()
    capsys.readouterr()

    code = main([*update_argv(tmp_path, index.clone, repo, ref, "--push-attempts", "2")])

    err = capsys.readouterr().err
    assert code == status, err
    assert message in err
    assert snapshot(index.clone) == before
    assert index.origin_head() == head
    if case in ("build", "import", "push"):
        assert "full log: " in err
        log = Path(err.split("full log: ")[1].split()[0])
        assert log.is_file()
    if case == "build":
        assert "requires" in err  # the tail of the build output is shown
    if case == "push":
        assert "protected branch" in err


@pytest.mark.parametrize(
    ("owner", "repo"), [("-x", "widgets"), ("acme", "../etc"), ("acme", "w/x"), ("a b", "w")]
)
def test_owner_and_repo_are_validated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], owner: str, repo: str
) -> None:
    code = main(
        [
            "update",
            f"--source-owner={owner}",
            f"--source-repo={repo}",
            "--ref=main",
            "--root",
            str(tmp_path),
        ]
    )
    assert code == 2
    assert "error:" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
