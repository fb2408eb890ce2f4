"""Pure parts of pull mode: ref/owner/repo validation, URL templates, module discovery, backoff."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from pkgindex.config import ProjectConfig
from pkgindex.errors import ConfigError
from pkgindex.pull.builder import settings_digest
from pkgindex.pull.gitsource import (
    check_owner,
    check_ref,
    check_repo,
    clone_url,
    redact_url,
    ref_problems,
)
from pkgindex.pull.vcs import RetryPolicy
from pkgindex.pull.verify import top_level_modules


@pytest.mark.parametrize(
    "ref", ["main", "v1.0.0", "feature/x", "__gt4py-next-integration_2025", "a" * 40, "HEAD"]
)
def test_valid_refs(ref: str) -> None:
    assert check_ref(ref) == ref


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "-b",
        "--upload-pack=evil",
        "a..b",
        "a b",
        "x~1",
        "x^",
        "a:b",
        "a?",
        "a*",
        "a[",
        "a\\b",
        "x@{1}",
        "@",
        "/x",
        "x/",
        "a//b",
        "x.",
        ".hidden",
        "a/.b",
        "x.lock",
        "a\tb",
        "a\x7fb",
    ],
)
def test_invalid_refs(ref: str) -> None:
    assert ref_problems(ref)
    with pytest.raises(ConfigError):
        check_ref(ref)


def test_every_problem_is_reported_at_once() -> None:
    assert len(ref_problems("-a..b ")) >= 3


@pytest.mark.parametrize("owner", ["GridTools", "ghex-org", "a1"])
def test_valid_owners(owner: str) -> None:
    assert check_owner(owner) == owner


@pytest.mark.parametrize("owner", ["-x", "x-", "a--b", "a/b", "a b", "", "a" * 40])
def test_invalid_owners(owner: str) -> None:
    with pytest.raises(ConfigError):
        check_owner(owner)


@pytest.mark.parametrize("repo", ["dace", "GHEX", "python-pkg-index", "a.b_c"])
def test_valid_repos(repo: str) -> None:
    assert check_repo(repo) == repo


@pytest.mark.parametrize("repo", ["..", "../x", "a/b", "-x", ".x", "x.git", ""])
def test_invalid_repos(repo: str) -> None:
    with pytest.raises(ConfigError):
        check_repo(repo)


def test_clone_url_template() -> None:
    template = "https://github.com/{owner}/{repo}.git"
    assert clone_url(template, "GridTools", "dace") == "https://github.com/GridTools/dace.git"
    with pytest.raises(ConfigError):
        clone_url("https://x/{owner}/{branch}", "a", "b")


def test_redact_url_drops_credentials() -> None:
    url = "https://x-access-token:ghs_secret@github.com:443/GridTools/dace.git"
    assert redact_url(url) == "https://github.com:443/GridTools/dace.git"
    assert redact_url("file:///tmp/x") == "file:///tmp/x"


def test_top_level_modules_from_a_file_list() -> None:
    names = [
        "pkg/__init__.py",
        "pkg/sub/x.py",
        "single.py",
        "_speedups.cpython-311-x86_64-linux-gnu.so",
        "pkg-1.0.dist-info/METADATA",
        "pkg-1.0.data/scripts/tool",
        "README",
        "not-a-module.py",
    ]
    assert top_level_modules(names) == ("_speedups", "pkg", "single")


def test_settings_digest_changes_with_build_settings() -> None:
    base = ProjectConfig(name="dace")  # type: ignore[arg-type]
    env = ProjectConfig(name="dace", env={"GHEX_USE_GPU": "OFF"})  # type: ignore[arg-type]
    smoke = ProjectConfig(name="dace", smoke="python -c 'import dace'")  # type: ignore[arg-type]
    assert settings_digest(base, frontend="uv") != settings_digest(env, frontend="uv")
    assert settings_digest(base, frontend="uv") != settings_digest(base, frontend="build")
    assert settings_digest(base, frontend="uv") == settings_digest(smoke, frontend="uv")


def test_backoff_grows_and_stays_within_jitter() -> None:
    policy = RetryPolicy(attempts=5, backoff=1.0, jitter=0.5)
    assert policy.delay(0, lambda: 0.0) == 0.5
    assert policy.delay(0, lambda: 1.0) == 1.5
    assert policy.delay(3, lambda: 0.5) == 8.0


def test_verification_installs_dependencies_from_this_index_first() -> None:
    from pkgindex.pull.verify import install_command

    wheel = Path("/w/dace-1.0-py3-none-any.whl")
    settings = ProjectConfig(name=canonicalize_name("dace"), verify_extras=("mpi", "test"))
    argv = install_command(
        "uv", Path("/v/bin/python"), wheel, settings,
        own_index="file:///index", upstream_index="https://pypi.org/simple",
    )  # fmt: skip
    assert argv[argv.index("--index-strategy") + 1] == "first-index"
    assert argv[argv.index("--index") + 1] == "file:///index"
    assert argv[argv.index("--default-index") + 1] == "https://pypi.org/simple"
    assert argv[-1] == "dace[mpi,test] @ file:///w/dace-1.0-py3-none-any.whl"
    assert "--no-deps" not in argv and "--extra-index-url" not in argv

    offline = ProjectConfig(name=canonicalize_name("dace"), verify_deps=False)
    argv = install_command(
        "uv", Path("/v/bin/python"), wheel, offline,
        own_index="file:///index", upstream_index="https://pypi.org/simple",
    )  # fmt: skip
    assert {"--no-deps", "--no-index"} <= set(argv) and "--default-index" not in argv


def test_manylinux_tags_are_checked() -> None:
    from pkgindex.errors import BuildError
    from pkgindex.pull.repair import check_manylinux, is_linux_platform_wheel

    assert is_linux_platform_wheel("ghex-0.4.1-cp311-cp311-linux_x86_64.whl")
    assert not is_linux_platform_wheel("ghex-0.4.1-cp311-cp311-manylinux_2_28_x86_64.whl")
    assert not is_linux_platform_wheel("dace-1.0-py3-none-any.whl")
    check_manylinux("ghex-0.4.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    with pytest.raises(BuildError, match="tagged linux_x86_64, not manylinux"):
        check_manylinux("ghex-0.4.1-cp311-cp311-linux_x86_64.whl")


def test_an_unrepaired_linux_wheel_is_published_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from pkgindex.process import Runner
    from pkgindex.pull.repair import repair_wheel

    wheel = tmp_path / "ghex-0.4.1-cp311-cp311-linux_x86_64.whl"
    settings = ProjectConfig(name=canonicalize_name("ghex"), auditwheel=False)
    runner = Runner(log_dir=tmp_path / "logs")
    with caplog.at_level("WARNING", logger="pkgindex"):
        assert repair_wheel(wheel, tmp_path / "out", settings, runner=runner) == wheel
    assert (
        "ghex-0.4.1-cp311-cp311-linux_x86_64.whl is a linux_* wheel published unrepaired "
        "(auditwheel = false in pkgindex.toml)"
    ) in caplog.text
    pure = tmp_path / "dace-1.0-py3-none-any.whl"
    assert repair_wheel(pure, tmp_path / "out", settings, runner=runner) == pure
    assert not (tmp_path / "logs").exists()  # nothing ran
