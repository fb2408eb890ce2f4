"""A small sample source project and git repository, for ``pkgindex demo`` and the tests.

The project builds with the in-tree backend in ``pkgindex.pull.sample_backend`` (copied next to its
pyproject.toml), so building it needs no network.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

from pkgindex.errors import GitError
from pkgindex.process import Runner
from pkgindex.pull import sample_backend

BACKEND_MODULE = "sample_backend"
GIT_IDENTITY = ("-c", "user.name=pkgindex demo", "-c", "user.email=demo@pkgindex.invalid")


def write_sample_project(
    dest: Path,
    *,
    name: str = "pkgindex-demo",
    version: str = "1.0.0",
    module: str = "pkgindex_demo",
    greeting: str = "Hello from a package built by pkgindex",
    dependencies: Sequence[str] = (),
    optional_dependencies: Mapping[str, Sequence[str]] | None = None,
    record_env: Sequence[str] | None = None,
    init_code: str = "",
) -> Path:
    """Write a buildable pure-Python project into ``dest``; return ``dest``."""
    package = dest / "src" / module
    package.mkdir(parents=True, exist_ok=True)
    deps = ", ".join(json.dumps(requirement) for requirement in dependencies)
    optional = "".join(
        f"{extra} = {json.dumps(list(requirements))}\n"
        for extra, requirements in (optional_dependencies or {}).items()
    )
    if optional:
        optional = f"\n[project.optional-dependencies]\n{optional}"
    tool = ""
    if record_env is not None:
        tool = f"\n[tool.sample-backend]\nrecord-env = [{', '.join(repr(n) for n in record_env)}]\n"
    (dest / "pyproject.toml").write_text(
        textwrap.dedent(f"""\
            [build-system]
            requires = []
            build-backend = "{BACKEND_MODULE}"
            backend-path = ["."]

            [project]
            name = "{name}"
            version = "{version}"
            description = "A sample package for pkgindex"
            requires-python = ">=3.8"
            dependencies = [{deps}]
            """)
        + optional
        + tool,
        encoding="utf-8",
    )
    (package / "__init__.py").write_text(
        f'"""{name}: a sample package."""\n\n{init_code}__version__ = "{version}"\n\n\n'
        f"def hello() -> str:\n    return {greeting!r}\n",
        encoding="utf-8",
    )
    backend_source = Path(sample_backend.__file__).read_text(encoding="utf-8")
    (dest / f"{BACKEND_MODULE}.py").write_text(backend_source, encoding="utf-8")
    return dest


def commit_all(repository: Path, message: str, *, runner: Runner) -> str:
    """Create the repository if needed, commit everything in it; return the commit SHA."""
    if not (repository / ".git").exists():
        _git(runner, repository, "init", "--quiet", "--initial-branch=main")
    _git(runner, repository, "add", "-A")
    _git(runner, repository, "commit", "--quiet", "--allow-empty", "-m", message)
    return _git(runner, repository, "rev-parse", "HEAD").strip()


def tag(repository: Path, name: str, *, runner: Runner) -> None:
    _git(runner, repository, "tag", name)


def _git(runner: Runner, repository: Path, *args: str) -> str:
    result = runner.check(
        ["git", *GIT_IDENTITY, *args],
        step=f"git-{args[0]}",
        cwd=repository,
        error=GitError,
        message=f"{repository}: git {args[0]} failed",
    )
    return result.output
