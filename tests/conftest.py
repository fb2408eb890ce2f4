"""Fixtures shared by every test: real wheels and real corpora, written on the spot.

- ``make_wheel`` builds a small, installable wheel with zipfile (valid RECORD), with knobs to
  make it subtly wrong (METADATA name or version disagreeing with the filename, no METADATA).
- ``corpus`` writes a corpus with the repository's own ``benchmarks/corpus.py``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

import pytest
from benchmarks.corpus import write_corpus
from hypothesis import Phase, settings

from tests.strict_skips import (  # noqa: F401  (hooks: a skip in CI is a failure)
    pytest_configure,
    pytest_make_collect_report,
    pytest_runtest_makereport,
)

# tools/mutate.py runs the tests once per mutant: the same examples every time, fewer of them,
# no shrinking (a failure is all it needs to know), no example database.
settings.register_profile(
    "mutation",
    max_examples=10,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)

REPO_ROOT = Path(__file__).resolve().parents[1]
ZIP_EPOCH = (2024, 1, 1, 0, 0, 0)


def escaped_name(name: str) -> str:
    """A distribution name as wheel filenames and import packages spell it."""
    return re.sub(r"[-_.]+", "_", name).lower()


def core_metadata(
    name: str,
    version: str,
    *,
    requires_python: str | None = None,
    requires_dist: Sequence[str] = (),
) -> bytes:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", "Summary: test"]
    if requires_python is not None:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Requires-Dist: {requirement}" for requirement in requires_dist]
    return ("\n".join(lines) + "\n\n").encode()


def wheel_bytes(
    name: str,
    version: str,
    *,
    requires_python: str | None = None,
    requires_dist: Sequence[str] = (),
    tag: str = "py3-none-any",
    metadata: bytes | None = None,
    with_metadata: bool = True,
    payload: bytes = b"",
) -> bytes:
    """A real wheel: an importable module, METADATA, WHEEL and a RECORD with correct hashes."""
    module = escaped_name(name)
    dist_info = f"{module}-{version}.dist-info"
    if metadata is None:
        metadata = core_metadata(
            name, version, requires_python=requires_python, requires_dist=requires_dist
        )
    wheel_info = "Wheel-Version: 1.0\nGenerator: pkgindex-tests\nRoot-Is-Purelib: true\n"
    wheel_info += "".join(f"Tag: {t}\n" for t in _expand_tag(tag)) + "\n"
    files: list[tuple[str, bytes]] = [
        (f"{module}/__init__.py", f'VERSION = "{version}"\n'.encode())
    ]
    if payload:
        files.append((f"{module}/payload.bin", payload))
    if with_metadata:
        files.append((f"{dist_info}/METADATA", metadata))
    files.append((f"{dist_info}/WHEEL", wheel_info.encode()))
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files)
    files.append((f"{dist_info}/RECORD", (record + f"{dist_info}/RECORD,,\n").encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in files:
            info = zipfile.ZipInfo(path, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _expand_tag(tag: str) -> list[str]:
    pythons, abis, platforms = tag.split("-")
    return [
        f"{p}-{a}-{plat}"
        for p in pythons.split(".")
        for a in abis.split(".")
        for plat in platforms.split(".")
    ]


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class MakeWheel(Protocol):
    def __call__(
        self,
        directory: Path,
        name: str,
        version: str,
        *,
        requires_python: str | None = None,
        requires_dist: Sequence[str] = (),
        tag: str = "py3-none-any",
        metadata_name: str | None = None,
        metadata_version: str | None = None,
        with_metadata: bool = True,
        filename: str | None = None,
        payload: bytes = b"",
    ) -> Path: ...


def _make_wheel(
    directory: Path,
    name: str,
    version: str,
    *,
    requires_python: str | None = None,
    requires_dist: Sequence[str] = (),
    tag: str = "py3-none-any",
    metadata_name: str | None = None,
    metadata_version: str | None = None,
    with_metadata: bool = True,
    filename: str | None = None,
    payload: bytes = b"",
) -> Path:
    """Write ``{name}-{version}-{tag}.whl`` (or ``filename``) into ``directory``; return its path.

    ``metadata_name``/``metadata_version`` put other values in METADATA than in the filename.
    """
    metadata = core_metadata(
        metadata_name or name,
        metadata_version or version,
        requires_python=requires_python,
        requires_dist=requires_dist,
    )
    data = wheel_bytes(
        name,
        version,
        tag=tag,
        metadata=metadata,
        with_metadata=with_metadata,
        payload=payload,
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (filename or f"{escaped_name(name)}-{version}-{tag}.whl")
    path.write_bytes(data)
    return path


@pytest.fixture(scope="session")
def make_wheel() -> MakeWheel:
    """A function writing a real, installable wheel: ``make_wheel(dir, "dace", "1.0", ...)``."""
    return _make_wheel


MakeCorpus = Callable[..., Path]


@pytest.fixture(scope="session")
def corpus() -> MakeCorpus:
    """A function writing a corpus: ``corpus(out, projects=3, versions=2, sdists=True)`` -> out.

    Keyword arguments are those of :func:`benchmarks.corpus.write_corpus`.
    """

    def make(out: Path, **options: int | bool) -> Path:
        write_corpus(out, **options)  # type: ignore[arg-type]
        return out

    return make


@pytest.fixture(scope="session", autouse=True)
def _logs_of_failed_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Logs that failed runs keep go to a temporary folder, not the user's ~/.local/state."""
    with pytest.MonkeyPatch.context() as patch:
        folder = tmp_path_factory.mktemp("pkgindex-logs")
        patch.setenv("PKGINDEX_LOG_DIR", str(folder))
        yield folder


@pytest.fixture(scope="session", autouse=True)
def _scan_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The scan cache (pkgindex.index.scancache) goes to a temporary folder, not ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        folder = tmp_path_factory.mktemp("pkgindex-cache")
        patch.setenv("PKGINDEX_CACHE_DIR", str(folder))
        yield folder
