"""Build distributions in isolation, repair platform wheels, and prove a wheel works.

``build_distributions`` runs an isolated PEP 517 build with ``uv build`` (default) or
``python -m build``, with the project's environment variables, config settings and subdirectory.
``verify_wheel`` installs the wheel into a fresh virtual environment made by ``uv venv`` (never the
caller's Python) and runs the smoke check: by default, import every top-level module the wheel
ships. ``repair_wheel`` runs ``auditwheel repair`` on a Linux platform wheel when auditwheel is
installed, and says so when it is not.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shlex
import shutil
import sys
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from packaging.utils import parse_wheel_filename

from pkgindex.config import ProjectConfig
from pkgindex.errors import BuildError, ConfigError, InvalidDistributionError, VerificationError
from pkgindex.index.distfile import is_distribution_filename
from pkgindex.process import Runner

logger = logging.getLogger(__name__)

Frontend = Literal["uv", "build"]
PYPI_SIMPLE = "https://pypi.org/simple"
_MODULE_SUFFIXES = (".py", ".so", ".pyd", ".abi3.so")


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    files: tuple[Path, ...]
    seconds: float  # time spent in the build frontend and backend

    @property
    def wheels(self) -> tuple[Path, ...]:
        return tuple(path for path in self.files if path.name.endswith(".whl"))


def find_uv() -> str:
    """The path of the uv executable that the ``uv`` package installed."""
    import uv

    return uv.find_uv_bin()


def settings_digest(settings: ProjectConfig, *, frontend: Frontend) -> str:
    """A digest of everything that changes what a build produces from the same commit."""
    document = {
        "dists": list(settings.dists),
        "subdirectory": settings.subdirectory,
        "env": dict(sorted(settings.env.items())),
        "config_settings": dict(sorted(settings.config_settings.items())),
        "version_template": settings.version_template,
        "frontend": frontend,
    }
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(encoded).hexdigest()


def build_distributions(
    source: Path,
    out_dir: Path,
    settings: ProjectConfig,
    *,
    runner: Runner,
    frontend: Frontend = "uv",
) -> BuildResult:
    """Build the distributions ``settings.dists`` asks for from ``source`` into ``out_dir``."""
    project_dir = _project_dir(source, settings.subdirectory)
    out_dir.mkdir(parents=True, exist_ok=True)
    before = set(out_dir.iterdir())
    argv = _build_command(project_dir, out_dir, settings, frontend)
    env = {"UV_NO_PROGRESS": "1", "PYTHONDONTWRITEBYTECODE": "1", **settings.env}
    result = runner.check(
        argv,
        step="build",
        cwd=project_dir,
        env=env,
        error=BuildError,
        message=f"building {settings.name or project_dir.name} failed",
        hint="read the log above; fix the build, or its env and config-settings in pkgindex.toml",
    )
    files = tuple(
        sorted(
            path for path in set(out_dir.iterdir()) - before if is_distribution_filename(path.name)
        )
    )
    if not any(path.name.endswith(".whl") for path in files) and "wheel" in settings.dists:
        raise BuildError(f"the build of {project_dir} succeeded but wrote no wheel to {out_dir}")
    return BuildResult(files=files, seconds=result.seconds)


def _project_dir(source: Path, subdirectory: str) -> Path:
    relative = PurePosixPath(subdirectory)
    if relative.is_absolute() or ".." in relative.parts:
        raise ConfigError(
            f"subdirectory {subdirectory!r} must be a relative path inside the source"
        )
    project_dir = source / relative
    if not (project_dir / "pyproject.toml").is_file() and not (project_dir / "setup.py").is_file():
        raise BuildError(
            f"{project_dir}: no pyproject.toml or setup.py",
            hint="set 'subdirectory' in pkgindex.toml to the folder that holds pyproject.toml",
        )
    return project_dir


def _build_command(
    project_dir: Path, out_dir: Path, settings: ProjectConfig, frontend: Frontend
) -> list[str]:
    kinds = [f"--{kind}" for kind in settings.dists]
    if frontend == "uv":
        argv = [find_uv(), "build", "--python", sys.executable, "--out-dir", str(out_dir), *kinds]
    else:
        argv = [sys.executable, "-m", "build", "--outdir", str(out_dir), *kinds]
    for key, value in settings.config_settings.items():
        argv += ["--config-setting", f"{key}={value}"]
    return [*argv, str(project_dir)]


def repair_wheel(wheel: Path, out_dir: Path, *, runner: Runner) -> Path:
    """Make a Linux platform wheel a manylinux wheel with auditwheel, when that is possible.

    Returns the wheel to publish: the repaired one, or ``wheel`` itself when it is pure, not a
    Linux wheel, or auditwheel is not installed (logged).
    """
    _, _, _, tags = parse_wheel_filename(wheel.name)
    if not sys.platform.startswith("linux") or not any(
        t.platform.startswith("linux_") for t in tags
    ):
        return wheel
    auditwheel = shutil.which("auditwheel")
    if auditwheel is None:
        logger.info("repair: auditwheel is not installed; publishing %s as built", wheel.name)
        return wheel
    out_dir.mkdir(parents=True, exist_ok=True)
    runner.check(
        [auditwheel, "repair", "--wheel-dir", str(out_dir), str(wheel)],
        step="auditwheel",
        error=BuildError,
        message=f"auditwheel repair of {wheel.name} failed",
        hint="set auditwheel = false for this project in pkgindex.toml to publish it as built",
    )
    repaired = sorted(out_dir.glob("*.whl"))
    if len(repaired) != 1:
        raise BuildError(f"auditwheel wrote {len(repaired)} wheels to {out_dir}, expected one")
    return repaired[0]


def top_level_modules(names: Iterable[str]) -> tuple[str, ...]:
    """Importable top-level modules of a wheel, from its member names (RECORD order)."""
    modules: set[str] = set()
    for name in names:
        first, _, rest = name.partition("/")
        if first.endswith((".dist-info", ".data")) or first == "__pycache__":
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


def verify_wheel(
    wheel: Path,
    work_dir: Path,
    settings: ProjectConfig,
    *,
    runner: Runner,
    extra_index_urls: Sequence[str] = (),
) -> None:
    """Install ``wheel`` into a fresh venv under ``work_dir`` and run the smoke check.

    Dependencies are installed only with ``settings.verify_deps``, from PyPI plus
    ``extra_index_urls`` (this index); otherwise ``--no-deps``. Raises VerificationError.
    """
    uv = find_uv()
    venv = work_dir / "venv"
    env = {"UV_NO_PROGRESS": "1", "VIRTUAL_ENV": str(venv)}
    runner.check(
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        step="venv",
        env=env,
        error=VerificationError,
        message=f"cannot create a virtual environment in {venv}",
    )
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    install = [uv, "pip", "install", "--python", str(python), str(wheel)]
    if settings.verify_deps:
        install += ["--index-url", PYPI_SIMPLE]
        for url in extra_index_urls:
            install += ["--extra-index-url", url]
    else:
        install.append("--no-deps")
    runner.check(
        install,
        step="install",
        env=env,
        error=VerificationError,
        message=f"{wheel.name} does not install into a fresh environment",
        hint="read the log; set verify-deps = true in pkgindex.toml if it needs its dependencies",
    )
    smoke_dir = work_dir / "smoke"
    smoke_dir.mkdir(exist_ok=True)
    argv = _smoke_command(wheel, settings, python)
    bin_dir = python.parent
    smoke_env = {
        **env,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": "",
    }
    runner.check(
        argv,
        step="smoke",
        cwd=smoke_dir,
        env=smoke_env,
        error=VerificationError,
        message=f"the smoke check of {wheel.name} failed: {shlex.join(argv)}",
        hint="the wheel installs but does not work; fix the package or its 'smoke' command",
    )


def _smoke_command(wheel: Path, settings: ProjectConfig, python: Path) -> list[str]:
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
