"""Prove that a wheel works: install it with its dependencies into a fresh environment, import it.

The environment is made by ``uv venv`` for the Python running pkgindex (never the caller's
environment). The wheel is installed *with* its dependencies (``verify-deps = true``, the default)
from two indexes and no other, with uv's ``first-index`` strategy:

1. this index (``own_index``), for every project it hosts;
2. the upstream index (``upstream-index``, PyPI by default), for every other project.

A project found on this index is never taken from upstream, whatever versions upstream offers: the
rule that protects users from dependency confusion protects the check too. Extras
(``verify-extras``) are installed with the wheel; environment markers are evaluated by uv for the
Python that runs the check. uv's own configuration files and ``UV_*`` settings are ignored.

The smoke check imports every top-level module the wheel ships (or runs the project's ``smoke``
command). With ``verify-deps = false`` nothing but the wheel is installed (for offline use); a
smoke check that then fails on a module the wheel does not ship says that a dependency is missing.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import parse_wheel_filename

from pkgindex.config import DEFAULT_UPSTREAM_INDEX, ProjectConfig
from pkgindex.errors import InvalidDistributionError, VerificationError
from pkgindex.process import Completed, Runner, failure_message, printable
from pkgindex.redact import redact_url

logger = logging.getLogger(__name__)

_MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '(?P<module>[^']+)'")
_UNRESOLVED = re.compile(
    r"Because (?P<name>[A-Za-z0-9._-]+)(?: was not found in the package registry"
    r"| was not found in the provided package locations| has no versions)"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyReport:
    wheel: str
    installed: int  # distributions installed into the fresh environment, the wheel included
    seconds: float  # venv + install + smoke check
    with_dependencies: bool


def find_uv() -> str:
    """The path of the uv executable that the ``uv`` package installed."""
    import uv

    return uv.find_uv_bin()


def verify_wheel(
    wheel: Path,
    work_dir: Path,
    settings: ProjectConfig,
    *,
    runner: Runner,
    own_index: str | None = None,
    upstream_index: str = DEFAULT_UPSTREAM_INDEX,
) -> VerifyReport:
    """Install ``wheel`` into a fresh venv under ``work_dir`` and run the smoke check.

    Raises VerificationError naming what failed: the install (with the dependency that no index
    has, when that is why) or the smoke check (with the missing dependency, when that is why).
    """
    uv = find_uv()
    venv = work_dir / "venv"
    env = {"UV_NO_PROGRESS": "1", "UV_NO_CONFIG": "1", "VIRTUAL_ENV": str(venv)}
    made = runner.check(
        [uv, "venv", "--quiet", "--no-project", "--python", sys.executable, str(venv)],
        step="venv",
        env=env,
        error=VerificationError,
        message=f"cannot create a virtual environment in {venv}",
    )
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    argv = install_command(
        uv, python, wheel, settings, own_index=own_index, upstream_index=upstream_index
    )
    installed = runner.run(argv, step="install", env=env)
    if installed.returncode != 0:
        raise _install_failure(wheel, settings, installed, upstream_index)
    smoke = _smoke(wheel, settings, python, work_dir, env, runner)
    seconds = made.seconds + installed.seconds + smoke.seconds
    count = _installed_count(installed.output)
    logger.info(
        "verify: %s installed%s and imported in %.1f s",
        wheel.name,
        f" with {count - 1} dependencies" if settings.verify_deps else " without dependencies",
        seconds,
    )
    return VerifyReport(
        wheel=wheel.name, installed=count, seconds=seconds, with_dependencies=settings.verify_deps
    )


def install_command(
    uv: str,
    python: Path,
    wheel: Path,
    settings: ProjectConfig,
    *,
    own_index: str | None,
    upstream_index: str,
) -> list[str]:
    """``uv pip install`` for the wheel (with its extras) and, by default, its dependencies."""
    name, _, _, _ = parse_wheel_filename(wheel.name)
    extras = f"[{','.join(settings.verify_extras)}]" if settings.verify_extras else ""
    requirement = f"{name}{extras} @ {wheel.resolve().as_uri()}"
    argv = [uv, "pip", "install", "--python", str(python), "--no-config"]
    if not settings.verify_deps:
        return [*argv, "--no-deps", "--no-index", requirement]
    argv += ["--index-strategy", "first-index", "--default-index", upstream_index]
    if own_index is not None:
        argv += ["--index", own_index]  # searched before the default index
    return [*argv, requirement]


def _install_failure(
    wheel: Path, settings: ProjectConfig, result: Completed, upstream: str
) -> VerificationError:
    output = printable(result.output)
    if settings.verify_deps and (found := _UNRESOLVED.search(output)):
        missing = found["name"]
        return VerificationError(
            failure_message(
                f"{wheel.name}: a dependency is missing: {missing!r} is neither on this index "
                f"nor on {redact_url(upstream)}",
                result,
            ),
            hint=f"publish {missing} to this index first, or fix the requirement; to verify "
            f"offline without dependencies set verify-deps = false for {settings.name} in "
            "pkgindex.toml",
        )
    return VerificationError(
        failure_message(f"{wheel.name} does not install into a fresh environment", result),
        hint="read the log; a wheel that needs other tags or Python versions cannot be verified "
        "here",
    )


def _smoke(
    wheel: Path,
    settings: ProjectConfig,
    python: Path,
    work_dir: Path,
    env: dict[str, str],
    runner: Runner,
) -> Completed:
    smoke_dir = work_dir / "smoke"
    smoke_dir.mkdir(exist_ok=True)
    argv = smoke_command(wheel, settings, python)
    bin_dir = python.parent
    path = runner.base_env.get("PATH", os.defpath)
    smoke_env = {**env, "PATH": f"{bin_dir}{os.pathsep}{path}", "PYTHONPATH": ""}
    result = runner.run(argv, step="smoke", cwd=smoke_dir, env=smoke_env)
    if result.returncode == 0:
        return result
    found = _MISSING_MODULE.search(result.output)
    module = found["module"].split(".")[0] if found else None
    if module is not None and module not in wheel_modules(wheel):
        if not settings.verify_deps:
            return _raise(
                f"the smoke check of {wheel.name} failed: a dependency is missing: module "
                f"{module!r} is not in the wheel, and verify-deps = false installs no dependencies",
                result,
                hint=f"set verify-deps = true for {settings.name} in pkgindex.toml (the "
                "default) to install its dependencies from this index and the upstream index",
            )
        return _raise(
            f"the smoke check of {wheel.name} failed: module {module!r} is neither in the wheel "
            "nor in any of its declared dependencies",
            result,
            hint="add the distribution that provides it to the project's dependencies",
        )
    return _raise(
        f"the smoke check of {wheel.name} failed: {shlex.join(argv)}",
        result,
        hint="the wheel installs but does not work; fix the package or its 'smoke' command",
    )


def _raise(message: str, result: Completed, *, hint: str) -> Completed:
    raise VerificationError(failure_message(message, result), hint=hint)


def _installed_count(output: str) -> int:
    found = re.search(r"Installed (\d+) packages?", output)
    return int(found[1]) if found else 1


def smoke_command(wheel: Path, settings: ProjectConfig, python: Path) -> list[str]:
    """The project's ``smoke`` command, else ``python -c 'import m1; import m2'``."""
    if settings.smoke:
        argv = shlex.split(settings.smoke)
        if argv and argv[0] in ("python", "python3"):
            argv[0] = str(python)
        return argv
    modules = wheel_modules(wheel)
    if not modules:
        raise VerificationError(
            f"{wheel.name} has no top-level module to import",
            hint="set a 'smoke' command for this project in pkgindex.toml",
        )
    return [str(python), "-c", "; ".join(f"import {module}" for module in modules)]


def top_level_modules(names: Iterable[str]) -> tuple[str, ...]:
    """Importable top-level modules of a wheel, from its member names (RECORD order)."""
    modules: set[str] = set()
    for name in names:
        first, _, rest = name.partition("/")
        if first.endswith((".dist-info", ".data", ".libs")) or first == "__pycache__":
            continue
        candidate = first if rest else _module_name(first)
        if candidate and candidate.isidentifier():
            modules.add(candidate)
    return tuple(sorted(modules))


def _module_name(filename: str) -> str | None:
    if filename.endswith(".py"):
        return filename.removesuffix(".py")
    if filename.endswith((".so", ".pyd")):
        return filename.split(".")[0]
    return None


def wheel_modules(wheel: Path) -> tuple[str, ...]:
    """Top-level modules of ``wheel``: its top_level.txt if it has one, else its file list."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
            listed = [
                n for n in names if n.count("/") == 1 and n.endswith(".dist-info/top_level.txt")
            ]
            if listed:
                text = archive.read(listed[0]).decode("utf-8")
                declared = [line.strip().split("/")[0] for line in text.splitlines()]
                return tuple(sorted({m for m in declared if m.isidentifier()}))
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise InvalidDistributionError(f"{wheel.name}: cannot read the wheel: {exc}") from exc
    return top_level_modules(names)
