"""`pkgindex dispatch` against a real HTTP server standing in for the GitHub API."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from github_helpers import FakeGitHub, Reply, cli_env, fake_github, run_cli

TOKEN = "github_pat_11ABCDEFG0secretVALUE_do_not_print_me"
INDEX = "GridTools/python-pkg-index"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with fake_github() as server:
        yield server


def dispatch(github: FakeGitHub, *extra: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    args = [
        "dispatch", "-v", "--api-url", github.url, "--index-repo", INDEX,
        "--source-owner", "GridTools", "--source-repo", "dace", "--ref", "0123abc",
        *extra,
    ]  # fmt: skip
    result = run_cli(*args, env=env or cli_env({"PKG_UPDATE_TOKEN": TOKEN}))
    assert TOKEN not in result.stdout
    assert TOKEN not in result.stderr
    return result


def test_dispatch_sends_the_event_github_expects(github: FakeGitHub) -> None:
    result = dispatch(github)
    assert result.returncode == 0, result.stderr
    assert "dispatched update_package_index to GridTools/python-pkg-index" in result.stdout
    [request] = github.requests
    assert request.path == "/repos/GridTools/python-pkg-index/dispatches"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.json() == {
        "event_type": "update_package_index",
        "client_payload": {
            "source_repo": "dace",
            "source_org": "GridTools",
            "dependency_ref": "0123abc",
        },
    }


def test_token_file_wins_over_the_environment(github: FakeGitHub, tmp_path: Path) -> None:
    token_file = tmp_path / ".token"
    token_file.write_text(TOKEN + "\n")
    env = cli_env({"PKG_UPDATE_TOKEN": "other", "GITHUB_TOKEN": "third"})
    result = dispatch(github, "--token-file", str(token_file), env=env)
    assert result.returncode == 0, result.stderr
    assert github.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_github_token_is_the_fallback(github: FakeGitHub) -> None:
    env = cli_env({"GITHUB_TOKEN": TOKEN}, drop=["PKG_UPDATE_TOKEN"])
    result = dispatch(github, env=env)
    assert result.returncode == 0, result.stderr
    assert github.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_missing_token_is_a_usage_error(github: FakeGitHub) -> None:
    env = cli_env(drop=["PKG_UPDATE_TOKEN", "GITHUB_TOKEN"])
    result = dispatch(github, env=env)
    assert result.returncode == 2
    assert "no GitHub token" in result.stderr
    assert github.requests == []


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply.github_error(401, "Bad credentials"), ["(401)", "expired or revoked"]),
        (
            Reply.github_error(403, "Resource not accessible by personal access token"),
            ["(403)", "Contents: Read and write", "'repo' scope"],
        ),
        (
            Reply.github_error(403, "API rate limit exceeded", **{"X-RateLimit-Remaining": "0"}),
            ["rate limit", "X-RateLimit-Reset"],
        ),
        (Reply.github_error(404, "Not Found"), ["(404)", "not found", "give it access"]),
        (Reply.github_error(422, "Invalid request."), ["(422)", "client_payload"]),
        (Reply(307, {"Location": "/repos/New/name/dispatches"}), ["(307)", "renamed"]),
    ],
    ids=["401", "403", "403-rate-limit", "404", "422", "307"],
)
def test_error_statuses_say_what_to_fix(
    github: FakeGitHub, reply: Reply, expected: list[str]
) -> None:
    github.replies = [reply]
    result = dispatch(github)
    assert result.returncode == 1
    for text in expected:
        assert text in result.stderr
    assert len(github.requests) == 1  # not retried, redirect not followed


def test_server_errors_are_retried_then_succeed(github: FakeGitHub) -> None:
    github.replies = [Reply(502, {"Retry-After": "0"}), Reply(503, {"Retry-After": "0"})]
    result = dispatch(github)
    assert result.returncode == 0, result.stderr
    assert len(github.requests) == 3
    assert result.stderr.count("retrying") == 2


def test_server_errors_give_up_after_four_attempts(github: FakeGitHub) -> None:
    github.default = Reply(500, {"Retry-After": "0"})
    result = dispatch(github)
    assert result.returncode == 1
    assert "answered 500 4 times" in result.stderr
    assert len(github.requests) == 4


def test_a_token_echoed_by_the_server_is_scrubbed(github: FakeGitHub) -> None:
    github.replies = [Reply.github_error(401, f"token {TOKEN} is not valid")]
    result = dispatch(github)  # asserts the token is absent from the output
    assert result.returncode == 1
    assert "token *** is not valid" in result.stderr


def test_unreachable_api_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = [
        "dispatch", "--api-url", f"http://127.0.0.1:{port}", "--index-repo", INDEX,
        "--source-owner", "GridTools", "--source-repo", "dace", "--ref", "main",
    ]  # fmt: skip
    result = run_cli(*args, env=cli_env({"PKG_UPDATE_TOKEN": TOKEN}))
    assert result.returncode == 1
    assert "cannot reach the GitHub API" in result.stderr
    assert "--api-url" in result.stderr


def test_plain_http_is_refused_for_remote_hosts() -> None:
    args = [
        "dispatch", "--api-url", "http://github.example.com", "--index-repo", INDEX,
        "--source-owner", "GridTools", "--source-repo", "dace", "--ref", "main",
    ]  # fmt: skip
    result = run_cli(*args, env=cli_env({"PKG_UPDATE_TOKEN": TOKEN}))
    assert result.returncode == 2
    assert "refusing to send the token over plain http" in result.stderr


def test_json_output(github: FakeGitHub) -> None:
    result = dispatch(github, "--json")
    assert result.returncode == 0, result.stderr
    assert '"schema_version": 1' in result.stdout
    assert '"dependency_ref": "0123abc"' in result.stdout


def test_a_redirect_location_is_printed_without_secrets(github: FakeGitHub) -> None:
    location = f"https://user:hunter2pass@evil.example/repos/x/dispatches?token={TOKEN}"
    github.replies = [Reply(307, {"Location": location})]
    result = dispatch(github)  # asserts the token is absent from the output
    assert result.returncode != 0
    assert "redirected the dispatch for GridTools/python-pkg-index to " in result.stderr
    assert "https://***@evil.example/repos/x/dispatches?token=*** (307)" in result.stderr
    assert "hunter2pass" not in result.stderr
    assert len(github.requests) == 1  # the redirect was not followed
