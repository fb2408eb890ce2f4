"""Secrets for real: credential variables never reach a build or a smoke check, and a source
cloned over authenticated HTTP never shows its password in any output, log, record or commit."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from git_http import serve_git
from pull_helpers import git, make_index, make_source, run_pkgindex

from pkgindex.pull.sample import write_sample_project

SECRETS = {
    "INDEX_PUSH_TOKEN": "ghs_indexPushToken0123456789",
    "GITHUB_TOKEN": "ghs_githubToken0123456789",
    "PKG_UPDATE_TOKEN": "github_pat_updateToken0123456789",
    "AWS_SECRET_ACCESS_KEY": "awsSecretKey0123456789abcdef",
    "GIT_CONFIG_COUNT": "2",
    "GIT_CONFIG_KEY_0": "protocol.file.allow",
    "GIT_CONFIG_VALUE_0": "always",
    "GIT_CONFIG_KEY_1": "credential.helper",
    "GIT_CONFIG_VALUE_1": "!f() { echo password=helperSecret0123456789; }; f",
}
SECRET_VALUES = (
    "ghs_indexPushToken0123456789",
    "ghs_githubToken0123456789",
    "github_pat_updateToken0123456789",
    "awsSecretKey0123456789abcdef",
    "helperSecret0123456789",
)
LOGS_KEPT = re.compile(r"logs kept in (\S+)")


def assert_no_secret(text: str, secrets: tuple[str, ...] = SECRET_VALUES) -> None:
    for secret in secrets:
        assert secret not in text


def kept_logs(stderr: str) -> str:
    """The text of every log file that a failed run kept (named in its stderr)."""
    found = LOGS_KEPT.search(stderr)
    assert found, stderr
    files = sorted(Path(found[1]).glob("*.log"))
    assert files
    return "".join(path.read_text(encoding="utf-8", errors="replace") for path in files)


def test_no_credential_reaches_the_build_backend(tmp_path: Path) -> None:
    make_source(tmp_path, "acme", "spy", name="spy", module="spy", record_env=["*"], tag="v1.0.0")
    index = make_index(tmp_path, config='\n[projects.spy]\nsource = "acme/spy"\n')
    argv = [
        "update",
        "--source-owner=acme",
        "--source-repo=spy",
        "--ref=v1.0.0",
        "--root",
        str(index.clone),
        "--source-url",
        f"{(tmp_path / 'sources').as_uri()}/{{owner}}/{{repo}}.git",
        "--json",
    ]
    result = run_pkgindex(argv, env=SECRETS)
    assert result.returncode == 0, result.stderr
    wheel = index.clone / "spy" / "spy-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        recorded = archive.read("spy/_build_info.py").decode()
    assert "'PATH':" in recorded  # the backend did record its environment
    for name in ("INDEX_PUSH_TOKEN", "GITHUB_TOKEN", "PKG_UPDATE_TOKEN", "GIT_CONFIG_COUNT"):
        assert f"'{name}'" not in recorded
    assert_no_secret(recorded)
    assert_no_secret(wheel.read_bytes().decode("latin-1"))
    assert_no_secret(result.stdout + result.stderr)


def test_no_credential_reaches_the_smoke_check_or_its_failure(tmp_path: Path) -> None:
    root = tmp_path / "config"
    root.mkdir()
    (root / "pkgindex.toml").write_text(
        "[projects.spy]\n"
        "verify-deps = false\n"
        """smoke = "python -c 'import os, sys; print(dict(os.environ)); sys.exit(3)'"\n""",
        encoding="utf-8",
    )
    project = write_sample_project(tmp_path / "spy", name="spy", module="spy")
    result = run_pkgindex(
        ["build", str(project), "--root", str(root), "-o", str(tmp_path / "out")], env=SECRETS
    )
    assert result.returncode == 6, result.stderr
    assert "the smoke check of spy-1.0.0-py3-none-any.whl failed" in result.stderr
    assert "'PATH':" in result.stderr  # the environment was printed, and is in the message
    assert_no_secret(result.stderr + result.stdout)
    logs = kept_logs(result.stderr)
    assert "'PATH':" in logs
    assert_no_secret(logs)


PASSWORD = "p@ss/w0rd-Secret"  # percent-encoded in the URL as p%40ss%2Fw0rd-Secret
USER = "ci"


def test_a_source_cloned_over_http_with_credentials_never_shows_them(tmp_path: Path) -> None:
    source = make_source(tmp_path, "acme", "private", name="private", module="private")
    sha = git("rev-parse", "v1.0.0", cwd=source.work)
    index = make_index(tmp_path, config='\n[projects.private]\nsource = "acme/private"\n')
    encoded = quote(PASSWORD, safe="")
    forms = (PASSWORD, encoded, "p%40ss", "ss/w0rd-Secret")
    with serve_git(tmp_path / "sources", user=USER, password=PASSWORD) as server:
        template = f"{server.url()}/{{owner}}/{{repo}}.git"
        assert encoded in template

        def update(ref: str, url_template: str = template) -> tuple[int, str, str]:
            argv = [
                "update", "--source-owner=acme", "--source-repo=private", f"--ref={ref}",
                "--root", str(index.clone), "--source-url", url_template, "--json",
            ]  # fmt: skip
            result = run_pkgindex(argv)
            return result.returncode, result.stdout, result.stderr

        # without credentials the server refuses: the credentials are exercised for real
        anonymous = f"{server.url(credentials=False)}/{{owner}}/{{repo}}.git"
        status, _, err = update("v1.0.0", anonymous)
        assert status == 4, err
        assert server.refused and not server.authorized

        status, out, err = update("no-such-tag")
        assert status == 4
        assert "ref 'no-such-tag' not found in http://127.0.0.1:" in err
        logs = kept_logs(err)
        assert "no-such-tag" in logs
        for text in (out, err, logs):
            assert_no_secret(text, forms)

        status, out, err = update("v1.0.0")
        assert status == 0, err
        assert server.authorized
    report = json.loads(out)
    assert report["commit"] == sha and report["pushed"] is True
    assert_no_secret(out + err, forms)
    provenance = index.origin_json("private")["files"][0]["_pkgindex"]["provenance"]
    assert provenance["url"] == f"http://127.0.0.1:{server.port}/acme/private.git"
    assert_no_secret(json.dumps(index.origin_json("private")), forms)
    assert_no_secret(git("log", "--format=%B", "main", cwd=index.origin), forms)
    assert_no_secret(git("show", "main", cwd=index.origin), forms)
    assert "***" not in git("log", "--format=%B", "main", cwd=index.origin)


@pytest.mark.parametrize("nested", [False, True], ids=["submodule", "nested-submodule"])
def test_a_missing_submodule_commit_is_named(tmp_path: Path, nested: bool) -> None:
    inner = make_source(tmp_path, "acme", "inner", tag=None, name="unused", module="unused")
    outer = make_source(tmp_path, "acme", "outer", tag=None, name="unused2", module="unused2")
    top = make_source(tmp_path, "acme", "top", tag=None, name="top", module="top")
    target = outer if nested else top
    git("submodule", "--quiet", "add", inner.bare.as_uri(), "vendor/inner", cwd=target.work)
    # a commit in the submodule that is recorded but never pushed
    (target.work / "vendor" / "inner" / "new.txt").write_text("x\n", encoding="utf-8")
    git("add", "-A", cwd=target.work / "vendor" / "inner")
    git("commit", "--quiet", "-m", "local only", cwd=target.work / "vendor" / "inner")
    missing = git("rev-parse", "HEAD", cwd=target.work / "vendor" / "inner")
    target.commit("record an unpushed submodule commit")
    if nested:
        git("submodule", "--quiet", "add", outer.bare.as_uri(), "vendor/outer", cwd=top.work)
    sha = top.commit("add submodules")
    index = make_index(tmp_path)
    argv = [
        "update", "--source-owner=acme", "--source-repo=top", f"--ref={sha}",
        "--root", str(index.clone),
        "--source-url", f"{(tmp_path / 'sources').as_uri()}/{{owner}}/{{repo}}.git",
    ]  # fmt: skip
    result = run_pkgindex(argv)
    assert result.returncode == 4, result.stderr
    path = "vendor/outer/vendor/inner" if nested else "vendor/inner"
    assert f"submodule {path} ({inner.bare.as_uri()}) has no commit {missing}" in result.stderr
    assert "never pushed to the submodule's repository" in result.stderr
    assert "\x00" not in result.stderr
