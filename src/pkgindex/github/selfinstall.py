"""How a generated workflow installs the very pkgindex that wrote it, on a fresh runner.

pkgindex is not on PyPI, so a workflow cannot ``pip install pkgindex``. What it installs is
decided from where this pkgindex came from (PEP 610's ``direct_url.json``):

- from a package index (no ``direct_url.json``): ``pkgindex==VERSION`` from that index;
- from a remote git repository: ``pkgindex @ git+URL@COMMIT``, pinned to the commit;
- from a remote archive URL: ``pkgindex @ URL`` (with its hash when recorded);
- from anything local (a checkout, ``pip install .`` or ``-e .``, a wheel file): the runner
  cannot reach it, so the index hosts pkgindex's own wheel, in its ``pkgindex/`` project folder.
  The index workflow installs it from its checkout (``./pkgindex/<wheel>``); a dependent
  repository's workflow downloads it from the index's URL, pinned by its sha256.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from pkgindex import __version__
from pkgindex.errors import ConfigError

PROJECT = "pkgindex"


@dataclass(frozen=True, slots=True, kw_only=True)
class Origin:
    """Where the running pkgindex was installed from."""

    requirement: str | None  # a requirement a runner can install, if there is one
    local: Path | None = None  # the local folder or wheel it came from, otherwise


def installed_origin() -> Origin:
    """Where the running pkgindex came from, by its PEP 610 ``direct_url.json``."""
    return origin_from_direct_url(_read_direct_url())


def origin_from_direct_url(direct_url: dict[str, Any] | None) -> Origin:
    """An Origin from a ``direct_url.json`` document (None: installed from a package index)."""
    if direct_url is None:
        return Origin(requirement=f"{PROJECT}=={__version__}")
    url = str(direct_url.get("url", ""))
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Origin(requirement=None, local=Path(unquote(parsed.path)))
    subdirectory = direct_url.get("subdirectory")
    fragment = f"#subdirectory={subdirectory}" if subdirectory else ""
    vcs = direct_url.get("vcs_info")
    if isinstance(vcs, dict):
        commit = vcs.get("commit_id") or vcs.get("requested_revision") or ""
        pin = f"@{commit}" if commit else ""
        return Origin(requirement=f"{PROJECT} @ {vcs.get('vcs', 'git')}+{url}{pin}{fragment}")
    archive = direct_url.get("archive_info")
    hashes = archive.get("hashes", {}) if isinstance(archive, dict) else {}
    if "sha256" in hashes and not fragment:
        fragment = f"#sha256={hashes['sha256']}"
    return Origin(requirement=f"{PROJECT} @ {url}{fragment}")


def own_wheel(origin: Origin, out_dir: Path) -> Path:
    """A wheel of the running pkgindex in OUT_DIR: copied, or built from its source folder."""
    local = origin.local
    if local is None:
        raise ValueError("pkgindex was not installed from a local folder or file")
    out_dir.mkdir(parents=True, exist_ok=True)
    if local.is_file() and local.name.endswith(".whl"):
        return Path(shutil.copy2(local, out_dir / local.name))
    if not (local / "pyproject.toml").is_file():
        raise ConfigError(
            f"pkgindex was installed from {local}, which is gone, so its wheel cannot be built "
            "for the index to host",
            hint="pass --pkgindex-requirement (e.g. 'pkgindex @ git+https://…@COMMIT'), or "
            "reinstall pkgindex from a wheel or a git URL",
        )
    return _build(local, out_dir)


def wheel_sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _build(source: Path, out_dir: Path) -> Path:
    from pkgindex.pull.verify import find_uv  # deferred: only local installs need it

    with tempfile.TemporaryDirectory(prefix="pkgindex-self-") as scratch:
        command = [find_uv(), "build", "--wheel", "--quiet", "--out-dir", scratch, str(source)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        wheels = sorted(Path(scratch).glob(f"{PROJECT}-*.whl"))
        if result.returncode != 0 or len(wheels) != 1:
            tail = "\n".join(result.stderr.strip().splitlines()[-10:])
            raise ConfigError(
                f"cannot build pkgindex's own wheel from {source} for the index to host:\n{tail}",
                hint="pass --pkgindex-requirement with a requirement the runner can install",
            )
        return Path(shutil.move(wheels[0], out_dir / wheels[0].name))


def _read_direct_url() -> dict[str, Any] | None:
    try:
        text = metadata.distribution(PROJECT).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not text:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None
