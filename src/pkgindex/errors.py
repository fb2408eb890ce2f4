"""The one exception root of pkgindex and its few subclasses.

Every error carries a message that names the thing and the problem, and an optional hint that
says what to do next. The CLI turns them into ``error: …`` / ``hint: …`` lines and an exit status.
"""

from __future__ import annotations

from collections.abc import Sequence

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_INTERRUPTED = 130


class PkgIndexError(Exception):
    """Base of every error pkgindex raises on purpose."""

    exit_status: int = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(PkgIndexError):
    """pkgindex.toml or the command line asks for something impossible."""

    exit_status = EXIT_USAGE


class UsageError(ConfigError):
    """The command line is wrong (an unknown option, a missing argument)."""


class InvalidDistributionError(PkgIndexError):
    """A distribution file is malformed, misnamed or misplaced."""


class ValidationError(PkgIndexError):
    """Several problems found in one batch; all are reported at once."""

    def __init__(self, problems: Sequence[PkgIndexError]) -> None:
        count = len(problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} found; nothing was written",
            hint="fix the files listed above, or pass --skip-invalid to leave them out",
        )
        self.problems = tuple(problems)


class ConflictError(PkgIndexError):
    """A published file would change: published files are immutable."""


class IntegrityError(PkgIndexError):
    """A published file's bytes no longer match its catalog entry."""


class StoreError(PkgIndexError):
    """The store holding the index (a folder, a bucket) could not be read or written."""


class StaleError(StoreError):
    """A conditional write lost a race: the object changed since it was read (re-read, merge and
    retry; see pkgindex.stores.base)."""


class GitError(PkgIndexError):
    """A git operation (clone, fetch, commit, push) failed."""

    exit_status = 4


class BuildError(PkgIndexError):
    """Building a distribution failed."""

    exit_status = 5


class VerificationError(PkgIndexError):
    """A built distribution did not install or did not import."""

    exit_status = 6


class PushError(GitError):
    """The index could not be pushed, even after retrying."""

    exit_status = 7


class UploadError(PkgIndexError):
    """An upload to the server or to GitHub was refused."""
