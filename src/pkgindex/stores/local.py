"""Where files and pages live: a local folder. Every write is atomic (temp file + rename).

:class:`LocalStore` implements :class:`pkgindex.stores.base.Store` for a folder; the functions
below it are the folder primitives it (and ``init``) writes with.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, TypeAlias

from pkgindex.errors import (
    ConfigError,
    ConflictError,
    IntegrityError,
    PkgIndexError,
    StaleError,
    StoreError,
    UsageError,
)
from pkgindex.stores.base import ANY, Listing, ObjectInfo, RootListing, Versioned, check_key

_COPY_BUFFER = 1 << 20  # mutate: skip (a buffer size: any, even 0, copies every byte)
StrPath: TypeAlias = "str | os.PathLike[str]"  # mutate: skip (a type, not a value)
# a folder changed this recently has no stamp (see list_root)
RACY_NS = 1_000_000_000  # mutate: skip (a nanosecond more or less)


class LocalStore:
    """An index in a local folder (a git checkout, a web server's document root)."""

    __slots__ = ("_base", "_checked", "_locked", "_root")

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.abspath(root))
        self._checked: set[str] = set()  # folders known not to be symbolic links
        self._locked = False

    @property
    def root(self) -> Path:
        return self._root

    @root.setter
    def root(self, root: Path) -> None:
        self._root = root
        self._base = str(root)  # keys become paths as strings: a cold run makes thousands

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    @property
    def location(self) -> str:
        return str(self.root)

    @property
    def writes_in_processes(self) -> bool:
        return True

    @property
    def cache_key(self) -> str:
        status = self.root.stat()
        return f"{os.path.realpath(self.root)}\0{status.st_dev}:{status.st_ino}"

    def describe(self, key: str) -> str:
        return os.path.join(self.root, key)  # no Path per key: a cold run describes thousands

    def exists(self) -> bool:
        return self.root.is_dir()

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder's flock; resolve the root once (a linked root is fine, linked
        project folders are not)."""
        self.root = self.root.resolve()
        with locked(self.root):
            self._locked = True
            remove_stale_temporaries(self.root)  # the root's; project folders' when listed
            try:
                yield
            finally:
                self._locked = False

    # --- reading ---------------------------------------------------------------------------

    def list_root(self) -> RootListing:
        """The root's entries, and a stamp per project folder: adding, removing or renaming an
        entry of a folder (which is how every writer here, git and ``mv`` change it) changes
        its mtime and ctime, ``mv`` of another folder in its place its inode. A folder changed
        within :data:`RACY_NS` of the listing gets no stamp: a change in the same clock tick
        could leave the same times."""
        folders: list[str] = []
        files: list[str] = []
        stamps: dict[str, str] = {}
        recent = time.time_ns() - RACY_NS
        with os.scandir(self.root) as listing:
            for entry in listing:
                name = entry.name
                if name.startswith("."):
                    if self._locked and name.endswith(".tmp"):
                        remove_if_stale(Path(entry.path))
                    continue
                if entry.is_dir():
                    folders.append(name)
                    if not entry.is_symlink():
                        self._checked.add(name)  # mutate: skip (saves list_folder an lstat)
                        status = entry.stat(follow_symlinks=False)  # mutate: skip (not a link)
                        changed = max(status.st_mtime_ns, status.st_ctime_ns)
                        if changed < recent:  # mutate: skip (the nanosecond at the edge)
                            stamps[name] = (
                                f"{status.st_ino}:{status.st_mtime_ns}:{status.st_ctime_ns}"
                            )
                else:
                    files.append(name)
        return RootListing(
            folders=tuple(sorted(folders)), files=tuple(sorted(files)), stamps=stamps
        )

    def list_folder(self, folder: str, *, sized: Callable[[str], bool]) -> Listing | None:
        """One ``scandir``, and one ``stat`` per sized entry: this runs for every folder of the
        index on every run. Stale temporary files of dead writers are removed under the lock."""
        try:
            path = self._folder(check_key(folder))  # as text: no Path per folder
        except StoreError as exc:
            return Listing(sizes={}, names=frozenset(), problems=(exc,))
        try:
            with os.scandir(path) as listing:
                found = list(listing)
        except (FileNotFoundError, NotADirectoryError):
            return None
        sizes: dict[str, int] = {}
        names: list[str] = []
        problems: list[PkgIndexError] = []
        for entry in found:
            name = entry.name
            if name[0] == ".":
                if self._locked and name.endswith(".tmp"):
                    remove_if_stale(Path(entry.path))
                continue
            if not sized(name):
                names.append(name)
            elif entry.is_symlink() and not _inside(self.root, Path(entry.path)):
                problems.append(
                    PkgIndexError(
                        f"{folder}/{name}: a symbolic link that leaves the index root",
                        hint="copy the file into the index instead of linking to it",
                    )
                )
            else:
                try:
                    sizes[name] = entry.stat().st_size
                except FileNotFoundError:
                    problems.append(PkgIndexError(f"{folder}/{name}: a broken symbolic link"))
        if not sizes and not names and not problems:
            return None
        return Listing(
            sizes=sizes, names=frozenset(names), etags=_Etags(path), problems=tuple(problems)
        )

    def read(self, key: str, *, max_size: int | None = None) -> Versioned | None:
        path = self._file(key)
        try:
            with open(path, "rb") as stream:
                status = os.fstat(stream.fileno())
                if max_size is not None and status.st_size > max_size:
                    raise IntegrityError(
                        f"{path}: {status.st_size} bytes, more than the {max_size} allowed",
                        hint="restore the file from version control, or delete it",
                    )
                return Versioned(data=stream.read(), etag=_etag(status))
        except (FileNotFoundError, NotADirectoryError):
            return None

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        with self._path(key).open("rb") as stream:
            yield stream

    def stat(self, key: str) -> ObjectInfo | None:
        try:
            status = os.stat(self._file(key))
        except (FileNotFoundError, NotADirectoryError):
            return None
        return ObjectInfo(size=status.st_size, etag=_etag(status))

    @contextlib.contextmanager
    def local_paths(self, keys: Sequence[str]) -> Iterator[Mapping[str, str]]:
        yield {key: self._file(key) for key in keys}

    # --- writing ---------------------------------------------------------------------------

    def create(
        self,
        key: str,
        source: bytes | Path,
        *,
        atomic: bool = True,  # mutate: skip (in place differs only in a crash)
    ) -> bool:
        path = self._file(key)
        if not atomic and isinstance(source, bytes):  # mutate: skip (only a crash can tell)
            try:
                write_new(path, source)  # no stat first: an existing file is EEXIST
                return True
            except FileExistsError:
                pass
            except FileNotFoundError:
                pass  # no folder yet: made below
        try:
            status = os.stat(path)
        except FileNotFoundError:
            if isinstance(source, Path):
                copy_atomic(source, path)
            else:
                write_atomic(path, source)
            return True
        if _same_bytes(path, status.st_size, source):
            return False
        raise ConflictError(
            f"{key}: the index already has a different file with this name",
            hint="published files are immutable: publish the new build under a new version",
        )

    def replace(self, key: str, data: bytes, *, etag: str | None) -> bool:
        path = self._file(key)
        try:
            status = os.stat(path)
        except FileNotFoundError:
            if etag not in (None, ANY):
                raise StaleError(f"{path}: removed by another writer") from None
            write_atomic(path, data)
            return True
        if etag is None or (etag != ANY and etag != _etag(status)):
            raise StaleError(f"{path}: changed by another writer since it was read")
        if status.st_size == len(data) and _read(path) == data:
            return False
        write_atomic(path, data)
        return True

    def overwrite(self, key: str, source: Path) -> None:
        copy_atomic(source, self._path(key))

    def delete(self, key: str) -> bool:
        return remove_file(self._path(key))

    def _path(self, key: str) -> Path:
        return Path(self._file(key))

    def _file(self, key: str) -> str:
        """The file for a key. Project folders must be real folders inside the root: reading or
        writing through a symbolic link to a folder is refused (files may be links that stay
        inside the root; list_folder checks them)."""
        check_key(key)
        folder, slash, _ = key.partition("/")
        if slash and folder not in self._checked:
            self._folder(folder)
        return f"{self._base}/{key}"

    def _folder(self, folder: str) -> str:
        path = f"{self._base}/{folder}"
        if folder not in self._checked:
            if os.path.islink(path):
                raise linked_folder_error(folder)
            self._checked.add(folder)  # mutate: skip (saves the next lstat)
        return path


class _Etags(Mapping[str, str]):
    """A folder's ETags, computed on demand (a ``stat`` each): only the pages that are written
    need one. The folder is kept as text: a folder is sent to the worker that writes it, and a
    Path costs several times more to pickle."""

    __slots__ = ("_path",)

    def __init__(self, path: str) -> None:
        self._path = path

    def __getitem__(self, name: str) -> str:
        try:
            return _etag(os.stat(os.path.join(self._path, name)))
        except FileNotFoundError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(os.listdir(self._path))

    def __len__(self) -> int:
        return len(os.listdir(self._path))


def _etag(status: os.stat_result) -> str:
    return f"{status.st_ino:x}-{status.st_mtime_ns:x}-{status.st_size:x}"


def _same_bytes(path: StrPath, size: int, source: bytes | Path) -> bool:
    if isinstance(source, bytes):
        return size == len(source) and _read(path) == source
    if size != source.stat().st_size:
        return False
    return _sha256(path) == _sha256(source)


def _read(path: StrPath) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _sha256(path: StrPath) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def linked_folder_error(folder: str) -> StoreError:
    return StoreError(
        f"{folder}/: a symbolic link; project folders must be real folders inside the index root",
        hint=f"replace the link with a folder (or remove it): rm {folder} && mkdir {folder}",
    )


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the temporary files of dead writers directly in ``folder`` (under the lock)."""
    with os.scandir(folder) as listing:
        stale = [Path(e.path) for e in listing if e.name[0] == "." and e.name.endswith(".tmp")]
    return [path for path in stale if remove_if_stale(path)]


def remove_if_stale(path: Path) -> bool:
    """Remove a temporary file ``.NAME.PID.TID.tmp`` whose writer process is gone.

    Only called under the index lock, so a live writer of this index cannot own it.
    """
    try:
        pid = int(path.name.split(".")[-3])
    except (ValueError, IndexError):
        return False
    if pid == os.getpid() or _alive(pid):
        return False
    return remove_file(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: alive
    return True


def _inside(root: Path, path: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(root)


def write_new(path: StrPath, data: bytes) -> None:
    """Create a file that must not exist yet, without the temporary file and rename.

    Only for files nothing refers to yet (a new wheel's .metadata file, written before any page
    links to it): a crash part-way leaves a partial file that the next run finds and rewrites.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        _write_all(descriptor, data)
    except BaseException:
        os.close(descriptor)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # ours: O_EXCL created it
        raise
    os.close(descriptor)


def write_atomic(path: StrPath, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it into place."""
    _replace(path, data)


def _write_all(descriptor: int, data: bytes) -> None:
    """``data`` to a file descriptor, without a buffered file object (a cold run writes
    thousands of small files, each in one call)."""
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def copy_atomic(source: Path, destination: StrPath) -> None:
    """Copy a file into place atomically: readers see the old file or the whole new one."""

    import shutil  # deferred: only add and sync copy files

    def copy(stream: BinaryIO) -> None:
        with source.open("rb") as original:
            shutil.copyfileobj(original, stream, _COPY_BUFFER)

    _replace(destination, copy)


def temporary_name(name: str) -> str:
    """``.NAME.PID.THREAD.tmp``, NAME cut short so that the whole fits in 255 bytes (a
    246-character wheel name plus ``.metadata`` is 255 already). Each thread writes one file
    at a time, so a shortened name is still unique."""
    return f".{name[:200]}.{os.getpid()}.{threading.get_ident()}.tmp"


def _replace(path: StrPath, fill: bytes | Callable[[BinaryIO], object]) -> None:
    """Fill a temporary file beside ``path`` (with bytes, or by a function given the open
    file) and rename it into place.

    The temporary name is unique per process and thread, so it needs no random name (mkstemp
    costs several times more per file, which shows when a cold run writes thousands).
    """
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, temporary_name(name))
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    try:
        descriptor = os.open(temporary, flags, 0o644)
    except FileNotFoundError:
        os.makedirs(
            folder,
            exist_ok=True,  # mutate: skip (only a race can tell)
        )
        descriptor = os.open(temporary, flags, 0o644)
    try:
        if isinstance(fill, bytes):
            try:
                _write_all(descriptor, fill)
            finally:
                os.close(descriptor)
        else:
            with os.fdopen(descriptor, "wb") as stream:
                fill(stream)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _refuse_in_a_starting_worker(root: Path) -> None:
    """A worker process that starts by importing the main script (multiprocessing's fork
    server and spawn do, under the name ``__mp_main__``) must not run a command the script
    calls at its top level: it would wait forever for the lock its parent holds."""
    multiprocessing = sys.modules.get("multiprocessing")  # not imported: not a worker
    starting = multiprocessing is not None and getattr(
        multiprocessing.current_process(), "_inheriting", False
    )
    if starting:
        raise UsageError(
            f"{root}: a worker process started to run a pkgindex command while it imported "
            "the main script again",
            hint="in a script, call pkgindex under if __name__ == '__main__': (worker "
            "processes import the script)",
        )


def remove_file(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold an exclusive lock on the index root (the folder itself; no lock file is left)."""
    _refuse_in_a_starting_worker(root)
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
