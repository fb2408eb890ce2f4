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
