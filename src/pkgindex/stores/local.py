"""Where files and pages live: a local folder. Every write is atomic (temp file + rename)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from pkgindex.errors import ConfigError


def write_if_changed(path: Path, data: bytes, *, exists: bool = True) -> bool:
    """Write ``data`` to ``path`` atomically unless it already holds exactly these bytes.

    Returns True if the file was written. An unchanged file keeps its bytes and its mtime.
    ``exists=False`` says the caller knows the file is new, which saves the comparison.
    """
    if not exists:
        try:
            write_new(path, data)
        except FileExistsError:
            pass  # it appeared after all: compare as usual
        else:
            return True
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_atomic(path, data)
    return True


def write_new(path: Path, data: bytes) -> None:
    """Create a file that must not exist yet, without the temporary file and rename.

    Only for files nothing refers to yet (a new wheel's .metadata file, written before any page
    links to it): a crash part-way leaves a partial file that the next run finds and rewrites.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it into place."""
    _replace(path, lambda stream: stream.write(data))


def copy_atomic(source: Path, destination: Path) -> None:
    """Copy a file into place atomically: readers see the old file or the whole new one."""

    def copy(stream: BinaryIO) -> None:
        with source.open("rb") as original:
            shutil.copyfileobj(original, stream, 1 << 20)

    _replace(destination, copy)


def _replace(path: Path, fill: Callable[[BinaryIO], object]) -> None:
    """Fill a temporary file beside ``path`` and rename it into place.

    The temporary name is unique per process and thread, so it needs no random name (mkstemp
    costs several times more per file, which shows when a cold run writes thousands).
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    try:
        descriptor = os.open(temporary, flags, 0o644)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(temporary, flags, 0o644)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            fill(stream)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def remove_file(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold an exclusive lock on the index root (the folder itself; no lock file is left)."""
    try:
        descriptor = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        raise ConfigError(
            f"{root}: no such folder", hint="create it, or pass the index root with --root"
        ) from None
    except NotADirectoryError:
        raise ConfigError(f"{root}: not a folder", hint="pass the index root with --root") from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
