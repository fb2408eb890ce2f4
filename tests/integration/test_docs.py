"""Every shell example in README.md and docs/*.md runs as written, as a user would run it.

Conventions (the docs follow them; README.md's Development section points here):

- Only fenced blocks whose info string is ``sh`` run. ``console``, ``toml``, ``json``, ``python``
  and unlabelled blocks are shown, not run.
- ``<!-- example: skip (REASON) -->`` on the line right before a block leaves it out; the reason
  is required (e.g. it needs a real GitHub repository, or it is the test run itself).
- The blocks of one file run in order, each in a fresh ``bash -e -o pipefail``, all in one
  temporary folder per file: what a block writes, the next finds (``cd`` does not carry over).
- A command that is expected to fail says so in the block (``… || echo "refused: …"``); any
  other non-zero exit fails the test, with the block and its output.
- Before a file's first block, every ``dist/<file>.whl`` the file names is written there as a
  small valid wheel (a reader has their own wheels).
- ``pkgindex``, ``python``, ``pip`` and ``uv`` are those of a fresh virtual environment
  (pkgindex runs from this checkout); pip and uv see no configuration file.
- Loopback stand-ins for GitHub: ``GITHUB_API_URL`` is a recording HTTP server on 127.0.0.1
  (``github_helpers.FakeGitHub``), and git rewrites ``https://github.com/`` to local bare
  repositories (``url.<base>.insteadOf``); ``GridTools/python-pkg-index`` is one, seeded as an
  index. ``XDG_CACHE_HOME`` and ``XDG_STATE_HOME`` point into the temporary folder.

The second half checks that every relative link of the docs, and every ``docs/…`` file and
``pkgindex COMMAND`` that a message of the code names, exists.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename
from tests.integration.conftest import REPO_ROOT, isolated_client_environment
from tests.integration.github_helpers import FakeGitHub, fake_github

from pkgindex.cli import COMMANDS

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\S*)\s*$")
SKIP = re.compile(r"^<!-- example: skip \((?P<reason>[^)]+)\) -->$")
DIST_WHEEL = re.compile(r"dist/([A-Za-z0-9_.!+-]+\.whl)")
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Doc Reader",
    "GIT_AUTHOR_EMAIL": "reader@example.org",
    "GIT_COMMITTER_NAME": "Doc Reader",
    "GIT_COMMITTER_EMAIL": "reader@example.org",
}


@dataclass(frozen=True, slots=True)
class Example:
    path: Path
    line: int
    code: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(REPO_ROOT)}:{self.line}"


def examples(path: Path) -> list[Example]:
    """The ```sh blocks of PATH that are not marked to be skipped."""
    found: list[Example] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        skipped = index > 0 and SKIP.match(lines[index - 1].strip())
        if match.group(1) == "sh" and not skipped:
            found.append(Example(path, index + 1, "\n".join(lines[index + 1 : end]) + "\n"))
        index = end + 1
    return found


def test_skip_markers_give_a_reason_and_precede_a_block() -> None:
    for path in DOCS:
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if line.lstrip().startswith("<!-- example"):
                assert SKIP.match(line.strip()), f"{path}:{number + 1}: {line}"
                assert lines[number + 1].startswith("```"), f"{path}:{number + 1}"


@pytest.fixture(scope="module")
def doc_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (with pip) whose bin/ also has pkgindex (this checkout) and uv."""
    import uv

    venv = tmp_path_factory.mktemp("doc-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    launcher = venv / "bin" / "pkgindex"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m pkgindex "$@"\n')
    launcher.chmod(0o755)
    (venv / "bin" / "uv").symlink_to(uv.find_uv_bin())
    return venv


@pytest.fixture(scope="module")
def github() -> Iterator[FakeGitHub]:
    with fake_github() as server:
        yield server


def _git(*args: str | Path, cwd: Path | None = None) -> None:
    subprocess.run(
        ["git", *map(str, args)],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={**os.environ, **GIT_IDENTITY},
    )


def _bare_index(base: Path, repository: str) -> None:
    """A bare repository at BASE/OWNER/NAME.git holding a minimal index (for publish)."""
    seed = base / "seed"
    seed.mkdir(parents=True)
    (seed / "pkgindex.toml").write_text('title = "Stand-in index"\n')
    _git("init", "-q", "-b", "main", seed)
    _git("add", ".", cwd=seed)
    _git("commit", "-q", "-m", "seed", cwd=seed)
    _git("clone", "-q", "--bare", seed, base / f"{repository}.git")


def _environment(folder: Path, venv: Path, github: FakeGitHub, stand_ins: Path) -> dict[str, str]:
    env = isolated_client_environment()
    env.update(GIT_IDENTITY)
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}",
        VIRTUAL_ENV=str(venv),
        PYTHONPATH=str(REPO_ROOT / "src"),
        GITHUB_API_URL=github.url,
        XDG_CACHE_HOME=str(folder / ".cache"),
        XDG_STATE_HOME=str(folder / ".state"),
        UV_CACHE_DIR=os.environ.get("UV_CACHE_DIR")
        or str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "uv"),
        GIT_CONFIG_COUNT="1",
        GIT_CONFIG_KEY_0=f"url.{stand_ins.as_uri()}/.insteadOf",
        GIT_CONFIG_VALUE_0="https://github.com/",
    )
    env.pop("PKGINDEX_LOG_DIR", None)
    return env


def _write_named_wheels(path: Path, folder: Path, make_wheel) -> None:  # type: ignore[no-untyped-def]
    for filename in sorted(set(DIST_WHEEL.findall(path.read_text(encoding="utf-8")))):
        name, version, _, tags = parse_wheel_filename(filename)
        tag = "-".join(sorted({f"{t.interpreter}-{t.abi}-{t.platform}" for t in tags}))
        make_wheel(folder / "dist", name, str(version), tag=tag)


@pytest.mark.slow
@pytest.mark.parametrize("path", DOCS, ids=lambda path: path.name)
def test_shell_examples_run(
    path: Path,
    tmp_path: Path,
    doc_venv: Path,
    github: FakeGitHub,
    make_wheel,  # type: ignore[no-untyped-def]
) -> None:
    blocks = examples(path)
    if not blocks:
        return  # nothing to run in this file (the parametrization still checks it is parsed)
    stand_ins = tmp_path / "stand-ins"
    _bare_index(stand_ins, "GridTools/python-pkg-index")
    folder = tmp_path / "reader"
    folder.mkdir()
    _write_named_wheels(path, folder, make_wheel)
    env = _environment(folder, doc_venv, github, stand_ins)
    dispatched = len(github.requests)
    for block in blocks:
        result = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", block.code],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, (
            f"{block} exited {result.returncode}\n{block.code}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    if any("pkgindex dispatch" in block.code for block in blocks):
        assert len(github.requests) > dispatched  # it reached the stand-in, not GitHub


# --- links and names --------------------------------------------------------------------------

LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_relative_links_of_the_docs_exist() -> None:
    for path in DOCS:
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            linked = (path.parent / file).resolve() if file else path
            assert linked.exists(), f"{path.name}: link to {target}: no such file"
            if anchor:
                assert anchor in _anchors(linked), f"{path.name}: link to {target}: no heading"


def _source_texts() -> Iterator[tuple[Path, str]]:
    for path in sorted((REPO_ROOT / "src" / "pkgindex").rglob("*.py")):
        yield path, path.read_text(encoding="utf-8")


def test_docs_named_by_the_code_exist() -> None:
    named = {
        (path.name, doc)
        for path, text in _source_texts()
        for doc in re.findall(r"\bdocs/[A-Za-z0-9_-]+\.md", text)
    }
    assert named, "the code names no docs/ file: the pattern is wrong"
    missing = sorted(
        f"{source} names {doc}" for source, doc in named if not (REPO_ROOT / doc).is_file()
    )
    assert not missing


def test_commands_named_in_messages_exist() -> None:
    """Every 'pkgindex WORD …' in a message, hint or doc is a command pkgindex has."""
    texts = [*_source_texts(), *((path, path.read_text(encoding="utf-8")) for path in DOCS)]
    named = {
        word for _, text in texts for word in re.findall(r"[`']pkgindex ([a-z][a-z-]+)\b", text)
    }
    assert {"add", "init", "generate"} <= named
    assert named - set(COMMANDS) == set()


def test_history_expansion_cannot_bite() -> None:
    """A '!' (as in the epoch of '43!2025.12.17') is inside single quotes in every sh block:
    an interactive shell would otherwise expand it ('event not found')."""
    unquoted = []
    for path in DOCS:
        for example in examples(path):
            for line in example.code.splitlines():
                quoted = False
                for character in line:
                    if character == "'":
                        quoted = not quoted
                    elif character == "!" and not quoted:
                        unquoted.append(f"{example}: {line}")
    assert unquoted == []
    assert any("'43!2025.12.17'" in example.code for example in examples(DOCS[0]))
