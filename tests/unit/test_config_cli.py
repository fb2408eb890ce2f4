"""pkgindex.toml and the command table."""

from __future__ import annotations

import argparse
import importlib

import pytest

from pkgindex.cli import COMMANDS, build_parser, main
from pkgindex.config import config_from_mapping
from pkgindex.errors import ConfigError


def test_config_reports_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as error:
        config_from_mapping(
            {"title": 3, "colour": "blue", "projects": {"dace": {"dists": ["egg"], "envv": {}}}}
        )
    message = error.value.message
    for part in ("title must be a str", "unknown key 'colour'", "'egg'", "projects.dace.envv"):
        assert part in message


def test_config_reads_projects() -> None:
    config = config_from_mapping(
        {"title": "GT4Py", "projects": {"DaCe": {"source": "GridTools/dace", "env": {"A": 1}}}}
    )
    assert config.project("dace").source == "GridTools/dace"
    assert config.project("dace").env == {"A": "1"}
    assert config.project("ghex").source is None  # defaults for projects not mentioned


def test_command_table_matches_the_registered_subcommands() -> None:
    registered: dict[str, str] = {}
    for group in set(COMMANDS.values()):
        parser = argparse.ArgumentParser()
        subparsers = parser.add_subparsers()
        importlib.import_module(f"pkgindex.cli._{group}").register(
            subparsers, argparse.ArgumentParser(add_help=False)
        )
        registered.update(dict.fromkeys(subparsers.choices, group))
    assert registered == COMMANDS
    assert set(build_parser([])._subparsers._group_actions[0].choices) == set(COMMANDS)  # type: ignore[union-attr]


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--no-such-flag"]) == 2
    assert "error: unrecognized arguments: --no-such-flag" in capsys.readouterr().err


def test_build_settings_of_a_project() -> None:
    config = config_from_mapping(
        {
            "upstream-index": "http://127.0.0.1:9/simple",
            "projects": {
                "ghex": {
                    "env": {"GHEX_USE_GPU": "OFF", "CMAKE_ARGS": "-GNinja"},
                    "cmake-defines": {"GHEX_BUILD_PYTHON_BINDINGS": True, "N": 3},
                    "apt-packages": ["libopenmpi-dev", "libboost-dev"],
                    "pass-env": ["MPI_HOME"],
                    "repair-exclude": ["libmpi.so.*"],
                    "verify-extras": ["test"],
                },
                "dace": {"apt-packages": ["libboost-dev"]},
            },
        }
    )
    ghex = config.project("ghex")
    assert ghex.build_env() == {
        "GHEX_USE_GPU": "OFF",
        "CMAKE_ARGS": "-GNinja -DGHEX_BUILD_PYTHON_BINDINGS=ON -DN=3",
    }
    assert ghex.verify_deps is True  # the default: install the dependencies
    assert ghex.auditwheel is None
    assert ghex.needs_platform_tools
    assert not config.project("dace").needs_platform_tools
    assert config.apt_packages == ("libboost-dev", "libopenmpi-dev")
    assert config.needs_platform_tools
    assert config.upstream_index == "http://127.0.0.1:9/simple"


def test_build_settings_are_validated() -> None:
    with pytest.raises(ConfigError) as error:
        config_from_mapping(
            {
                "upstream-index": "pypi.org",
                "projects": {
                    "x": {
                        "pass-env": ["INDEX_PUSH_TOKEN", "GIT_CONFIG_VALUE_0", "bad name"],
                        "apt-packages": ["x; rm -rf /"],
                        "cmake-defines": {"A B": "1"},
                        "auditwheel": "yes",
                    }
                },
            }
        )
    message = error.value.message
    for part in (
        "upstream-index 'pypi.org' is not an http(s) or file URL",
        "projects.x.pass-env: INDEX_PUSH_TOKEN holds credentials",
        "projects.x.pass-env: GIT_CONFIG_VALUE_0 holds credentials",
        "projects.x.pass-env: 'bad name' is not valid",
        "projects.x.apt-packages: 'x; rm -rf /' is not valid",
        "projects.x.cmake-defines: 'A B' is not a CMake variable name",
        "projects.x.auditwheel must be true or false",
    ):
        assert part in message
