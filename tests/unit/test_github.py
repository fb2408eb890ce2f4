"""The pure parts of the dispatch client: token lookup, request checks, URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pkgindex.errors import ConfigError
from pkgindex.github.dispatch import (
    DispatchRequest,
    Token,
    check_request,
    dispatch_url,
    read_token,
)

SECRET = "ghp_0123456789abcdefSECRET"


def request(**changes: str) -> DispatchRequest:
    values = {"index_repo": "o/index", "source_owner": "o", "source_repo": "r", "ref": "main"}
    return DispatchRequest(**{**values, **changes})


def test_the_body_uses_the_names_the_index_workflow_reads() -> None:
    assert request(ref="v1").body() == {
        "event_type": "update_package_index",
        "client_payload": {"source_repo": "r", "source_org": "o", "dependency_ref": "v1"},
    }


def test_token_order_is_file_then_pkg_update_token_then_github_token(tmp_path: Path) -> None:
    environ = {"PKG_UPDATE_TOKEN": "pkg", "GITHUB_TOKEN": "gh"}
    token_file = tmp_path / ".token"
    token_file.write_text("  from-file\n")
    assert read_token(token_file=token_file, environ=environ).reveal() == "from-file"
    assert read_token(token_file=None, environ=environ).reveal() == "pkg"
    assert read_token(token_file=None, environ={"GITHUB_TOKEN": "gh"}).reveal() == "gh"
    with pytest.raises(ConfigError, match="no GitHub token"):
        read_token(token_file=None, environ={"PKG_UPDATE_TOKEN": " "})


def test_an_empty_or_missing_token_file_is_a_config_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match="empty"):
        read_token(token_file=empty, environ={})
    with pytest.raises(ConfigError, match="cannot read"):
        read_token(token_file=tmp_path / "missing", environ={})


def test_a_token_never_shows_itself() -> None:
    token = Token(SECRET)
    assert SECRET not in repr(token)
    assert SECRET not in str(token)
    assert SECRET not in f"{token}"
    assert token.scrub(f"bad {SECRET}!") == "bad ***!"


def test_every_problem_with_a_request_is_reported_at_once() -> None:
    bad = request(index_repo="nope", source_owner="a b", source_repo="", ref="--upload-pack=x")
    with pytest.raises(ConfigError) as caught:
        check_request(bad)
    message = caught.value.message
    for option in ("--index-repo", "--source-owner", "--source-repo", "--ref"):
        assert option in message


def test_a_good_request_passes() -> None:
    check_request(request(ref="0123456789abcdef0123456789abcdef01234567"))


def test_dispatch_url_and_plain_http() -> None:
    assert (
        dispatch_url("https://api.github.com/", "o/r")
        == "https://api.github.com/repos/o/r/dispatches"
    )
    assert (
        dispatch_url("https://ghe.example/api/v3", "o/r")
        == "https://ghe.example/api/v3/repos/o/r/dispatches"
    )
    assert dispatch_url("http://127.0.0.1:8080", "o/r").startswith("http://127.0.0.1:8080/")
    assert dispatch_url("http://localhost:1", "o/r").startswith("http://localhost:1/")
    with pytest.raises(ConfigError, match="plain http"):
        dispatch_url("http://api.example.com", "o/r")
    with pytest.raises(ConfigError, match="not an http"):
        dispatch_url("ftp://api.example.com", "o/r")
