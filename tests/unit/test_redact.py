"""The one redaction function: URL credentials, tokens in every spelling, no over-redaction."""

from __future__ import annotations

import pytest

from pkgindex.github.dispatch import Token
from pkgindex.process import is_forbidden_variable, printable, sandbox_environment
from pkgindex.redact import Redactor, environment_secrets, redact_url, redactor_for, url_secrets


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x-access-token:ghs_secret@github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://u:p%40ss%2Fw0rd@host:8443/o/r.git", "https://host:8443/o/r.git"),
        ("https://ghp_tokenonly@github.com/o/r", "https://github.com/o/r"),
        ("http://u:pw@[::1]:8080/x", "http://[::1]:8080/x"),
        ("file:///tmp/x", "file:///tmp/x"),
        ("https://github.com/o/r@v1", "https://github.com/o/r@v1"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_a_percent_encoded_password_is_redacted_in_every_spelling() -> None:
    url = "https://ci:p%40ss%2Fw0rd@git.example/o/r.git"
    assert set(url_secrets(url)) >= {"p%40ss%2Fw0rd", "p@ss/w0rd"}
    redactor = redactor_for(urls=[url])
    text = (
        "auth p@ss/w0rd failed; sent p%40ss%2Fw0rd; cloning https://ci:p%40ss%2Fw0rd@git.example/"
    )
    assert redactor.scrub(text) == "auth *** failed; sent ***; cloning https://***@git.example/"


def test_a_short_user_name_is_hidden_in_urls_only() -> None:
    redactor = redactor_for(urls=["https://ci:longpassword@git.example/o/r.git"])
    text = "circle ci: decided https://ci:longpassword@git.example/o/r.git"
    assert redactor.scrub(text) == "circle ci: decided https://***@git.example/o/r.git"


def test_a_lone_user_name_is_a_token() -> None:
    assert url_secrets("https://ghp_abcdefgh@github.com/o/r") == ("ghp_abcdefgh",)
    redactor = redactor_for(urls=["https://ghp_abcdefgh@github.com/o/r"])
    assert redactor.scrub("bad credentials ghp_abcdefgh") == "bad credentials ***"


def test_any_url_credentials_are_hidden_without_being_told() -> None:
    text = "fatal: unable to access 'https://bob:hunter22@example.org/x.git/': 403"
    assert Redactor().scrub(text) == "fatal: unable to access 'https://***@example.org/x.git/': 403"


def test_credential_variables_of_the_environment_are_secrets() -> None:
    environ = {"INDEX_PUSH_TOKEN": "ghs_index", "GITHUB_TOKEN": "", "HOME": "/home/u"}
    assert environment_secrets(environ) == ("ghs_index",)
    assert redactor_for(environ=environ).scrub("push ghs_index to /home/u") == "push *** to /home/u"


def test_a_token_is_scrubbed_however_short() -> None:
    assert Token("abc").scrub("token abc, https://abc@h/") == "token ***, https://***@h/"


def test_the_sandbox_keeps_build_variables_and_drops_credentials() -> None:
    environ = {
        "PATH": "/bin",
        "HOME": "/root",
        "LC_ALL": "C.UTF-8",
        "HTTPS_PROXY": "http://proxy:3128",
        "CMAKE_PREFIX_PATH": "/opt",
        "INDEX_PUSH_TOKEN": "s1",
        "GITHUB_TOKEN": "s2",
        "PKG_UPDATE_TOKEN": "s3",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "credential.helper",
        "GIT_CONFIG_VALUE_0": "!echo password=s4",
        "AWS_SECRET_ACCESS_KEY": "s5",
        "PIP_INDEX_URL": "https://evil.example/simple",
        "UV_INDEX_URL": "https://evil.example/simple",
        "MPI_ROOT": "/opt/mpi",
    }
    env = sandbox_environment(environ, pass_env=("MPI_ROOT", "GITHUB_TOKEN"))
    assert env == {
        "PATH": "/bin",
        "HOME": "/root",
        "LC_ALL": "C.UTF-8",
        "HTTPS_PROXY": "http://proxy:3128",
        "CMAKE_PREFIX_PATH": "/opt",
        "MPI_ROOT": "/opt/mpi",
    }


@pytest.mark.parametrize(
    "name", ["INDEX_PUSH_TOKEN", "my_token", "GIT_CONFIG_KEY_0", "AWS_REGION", "GITHUB_ENV"]
)
def test_credential_names_are_forbidden(name: str) -> None:
    assert is_forbidden_variable(name)


def test_printable_drops_control_characters_but_keeps_lines() -> None:
    raw = "remote: \x1b[31merror\x1b[0m\x00 here\r\nnext\tline\x07\rprogress 50%"
    assert printable(raw) == "remote: error here\nnext\tline\nprogress 50%"
