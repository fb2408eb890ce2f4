"""Every command's help: a description, an example, explained arguments; commands by task.

Also: every command names the index root the same way (--root DIR).
"""

from __future__ import annotations

import pytest

from pkgindex.cli import COMMANDS, main


def help_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


SUBCOMMANDS = [
    ("generate",), ("add",), ("yank",), ("unyank",), ("update",), ("build",), ("demo",),
    ("dispatch",), ("init",), ("workflow",), ("workflow", "index"), ("workflow", "dependent"),
    ("publish",), ("sync",), ("remove",), ("prune",), ("check",), ("status",), ("serve",),
    ("token",), ("token", "create"), ("token", "list"), ("token", "revoke"),
]  # fmt: skip


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=" ".join)
def test_every_command_has_a_description_and_an_example(
    capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    text = help_text(capsys, *command)
    usage_end = text.index("\n\n")
    description = text[usage_end:].strip().split("\n")[0]
    assert description and not description.startswith(("positional", "options")), text
    assert "examples:\n  pkgindex " + command[0] in text


def test_top_level_help_lists_commands_by_task(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text(capsys)
    assert "commands, by task" in text
    assert text.index("  start:") < text.index("    init ") < text.index("  keep an index")


def test_help_explains_its_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    add = help_text(capsys, "add")
    assert "a wheel (.whl) or sdist" in add
    dependent = help_text(capsys, "workflow", "dependent")
    assert "pull: the index builds the wheel" in dependent
    assert "what the workflow's 'pip install' installs" in dependent
    assert "gt4py" not in dependent.lower()
    assert "(default: v*)" in dependent


def test_the_subcommand_list_is_complete() -> None:
    assert {command[0] for command in SUBCOMMANDS} == set(COMMANDS)


@pytest.mark.parametrize(
    "command", sorted(set(COMMANDS) - {"dispatch", "publish", "workflow", "sync", "token"})
)
def test_every_command_that_works_on_an_index_takes_root(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    assert "--root DIR" in help_text(capsys, command)


def test_workflow_with_json_prints_one_document(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["workflow", "index", "--pkgindex-requirement", "pkgindex==0", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["kind"] == "index"
    assert 'PKGINDEX_REQUIREMENT: "pkgindex==0"' in document["workflow"]
