"""Build distributions in isolation.

``build_distributions`` runs an isolated PEP 517 build with ``uv build`` (default) or
``python -m build``, with the project's environment variables, CMake definitions, config settings
and subdirectory. The backend runs in the sandbox environment (see ``pkgindex.process``): it sees
the allowlisted variables, the project's ``env`` and ``pass-env``, never our credentials. Repair
and verification live in ``repair`` and ``verify``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pkgindex.config import ProjectConfig
from pkgindex.errors import BuildError, ConfigError
from pkgindex.index.distfile import is_distribution_filename
from pkgindex.process import Runner
from pkgindex.pull.verify import find_uv

logger = logging.getLogger(__name__)

Frontend = Literal["uv", "build"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    files: tuple[Path, ...]
    seconds: float  # time spent in the build frontend and backend

    @property
    def wheels(self) -> tuple[Path, ...]:
        return tuple(path for path in self.files if path.name.endswith(".whl"))


def settings_digest(settings: ProjectConfig, *, frontend: Frontend) -> str:
    """A digest of everything that changes what a build produces from the same commit."""
    document: dict[str, Any] = {
        "dists": list(settings.dists),
        "subdirectory": settings.subdirectory,
        "env": dict(sorted(settings.env.items())),
        "config_settings": dict(sorted(settings.config_settings.items())),
        "version_template": settings.version_template,
        "frontend": frontend,
    }
    # newer settings count only when set, so that existing builds keep their digest
    if settings.cmake_defines:
        document["cmake_defines"] = dict(sorted(settings.cmake_defines.items()))
    if settings.repair_exclude:
        document["repair_exclude"] = sorted(settings.repair_exclude)
    if settings.auditwheel is not None:
        document["auditwheel"] = settings.auditwheel
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
    env = {"UV_NO_PROGRESS": "1", "PYTHONDONTWRITEBYTECODE": "1", **settings.build_env()}
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
    project_dir = (source / relative).resolve()
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
