"""Write a corpus of valid, installable distribution files, for benchmarks and tests.

Layout (one folder per project, the layout an index root has)::

    OUT/<normalized project>/<name>-<version>-py3-none-any.whl
    OUT/<normalized project>/<name>-<version>.tar.gz          (with sdists=True)

Every wheel is a real wheel: an importable module, METADATA (with Requires-Python and
Requires-Dist), WHEEL and a RECORD with correct hashes, so pip and uv install it. ``payload_kib``
pads each wheel with incompressible bytes (to model large artifacts), ``flat`` writes every file
into OUT itself, ``mixed_names`` spells names like ``Bench_Pkg.00001`` (PEP 503 normalization).
The same arguments give byte-identical files.

    python -m benchmarks.corpus OUT --projects 2000 --versions 5
    python -m benchmarks.corpus OUT --projects 20 --versions 10 --payload-kib 4096

Tests import :func:`write_corpus` (fixture ``corpus`` in ``tests/conftest.py``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import random
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

ZIP_TIME = (2024, 1, 1, 0, 0, 0)
TAR_TIME = 1704067200  # the same moment, for sdists
REQUIRES_PYTHON = (">=3.8", ">=3.9", ">=3.10", ">=3.8,<4")


@dataclass(frozen=True, slots=True, kw_only=True)
class CorpusReport:
    files: int
    total_bytes: int
    projects: int


def file_stem(name: str) -> str:
    """The distribution name as wheel and sdist filenames (and import packages) spell it."""
    return canonicalize_name(name).replace("-", "_")


def record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def core_metadata(name: str, version: str, requires_python: str, requires: list[str]) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        f"Summary: Corpus package {name}",
        f"Requires-Python: {requires_python}",
        *(f"Requires-Dist: {requirement}" for requirement in requires),
    ]
    return "\n".join(lines) + "\n\n"


def wheel_bytes(
    name: str, version: str, requires_python: str, requires: list[str], payload: bytes = b""
) -> bytes:
    """A pure-Python wheel of NAME VERSION (optionally padded with PAYLOAD)."""
    module = file_stem(name)
    dist_info = f"{module}-{version}.dist-info"
    wheel = "Wheel-Version: 1.0\nGenerator: pkgindex-corpus\nRoot-Is-Purelib: true\n"
    members = [(f"{module}/__init__.py", f'__version__ = "{version}"\n'.encode())]
    if payload:
        members.append((f"{module}/payload.bin", payload))
    members += [
        (f"{dist_info}/METADATA", core_metadata(name, version, requires_python, requires).encode()),
        (f"{dist_info}/WHEEL", f"{wheel}Tag: py3-none-any\n\n".encode()),
    ]
    record = "".join(f"{path},{record_hash(data)},{len(data)}\n" for path, data in members)
    members.append((f"{dist_info}/RECORD", f"{record}{dist_info}/RECORD,,\n".encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in members:
            info = zipfile.ZipInfo(path, date_time=ZIP_TIME)
            stored = path.endswith(".bin")
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def sdist_bytes(name: str, version: str, requires_python: str, requires: list[str]) -> bytes:
    """An sdist (PEP 625 name, PKG-INFO 2.2) of NAME VERSION."""
    module = file_stem(name)
    top = f"{module}-{version}"
    pkg_info = core_metadata(name, version, requires_python, requires)
    pyproject = '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    members = {
        f"{top}/PKG-INFO": pkg_info.replace("Metadata-Version: 2.1", "Metadata-Version: 2.2"),
        f"{top}/pyproject.toml": pyproject,
        f"{top}/{module}/__init__.py": f'__version__ = "{version}"\n',
    }
    buffer = io.BytesIO()
    # mtime=0 in the gzip header keeps the bytes stable.
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for path, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(data), TAR_TIME, 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def project_name(number: int, *, mixed: bool = False) -> str:
    return f"Bench_Pkg.{number:05d}" if mixed else f"benchpkg{number:05d}"


def write_corpus(
    out: Path,
    *,
    projects: int = 100,
    versions: int = 5,
    payload_kib: int = 0,
    sdists: bool = False,
    flat: bool = False,
    mixed_names: bool = False,
    seed: int = 7,
) -> CorpusReport:
    """Write PROJECTS x VERSIONS wheels (and sdists) under OUT; deterministic for a seed."""
    rng = random.Random(seed)
    files = total = 0
    for number in range(projects):
        name = project_name(number, mixed=mixed_names)
        folder = out if flat else out / canonicalize_name(name)
        folder.mkdir(parents=True, exist_ok=True)
        for minor in range(versions):
            version = f"1.{minor}.0"
            requires_python = rng.choice(REQUIRES_PYTHON)
            requires = []
            if number and rng.random() < 0.3:
                requires = [f"{project_name(rng.randrange(number), mixed=mixed_names)}>=1.0"]
            payload = rng.randbytes(payload_kib * 1024) if payload_kib else b""
            outputs = [
                (
                    f"{file_stem(name)}-{version}-py3-none-any.whl",
                    wheel_bytes(name, version, requires_python, requires, payload),
                ),
            ]
            if sdists:
                outputs.append(
                    (
                        f"{file_stem(name)}-{version}.tar.gz",
                        sdist_bytes(name, version, requires_python, requires),
                    )
                )
            for filename, data in outputs:
                (folder / filename).write_bytes(data)
                files += 1
                total += len(data)
    return CorpusReport(files=files, total_bytes=total, projects=projects)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.corpus",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--payload-kib", type=int, default=0, help="incompressible bytes per wheel")
    parser.add_argument("--sdists", action="store_true", help="an sdist for every version too")
    parser.add_argument("--flat", action="store_true", help="every file into OUT itself")
    parser.add_argument("--mixed-names", action="store_true", help="names like Bench_Pkg.00001")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    report = write_corpus(
        args.out,
        projects=args.projects,
        versions=args.versions,
        payload_kib=args.payload_kib,
        sdists=args.sdists,
        flat=args.flat,
        mixed_names=args.mixed_names,
        seed=args.seed,
    )
    print(
        f"wrote {report.files} files, {report.total_bytes / 2**20:.1f} MiB, "
        f"{report.projects} projects into {args.out}"
    )


if __name__ == "__main__":
    main()
