"""Run external commands (git, uv, build backends) with their output captured to a log file.

Every command's combined stdout/stderr goes to one log file per call in ``log_dir``. On failure
the caller's error class is raised with the tail of that output and the path of the full log, so
the user sees why without scrolling through a build. With ``stream=True`` (``-vv``) the output is
also copied to stderr as it arrives. Secrets listed in ``redact`` never reach a log or a message.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pkgindex.errors import PkgIndexError

logger = logging.getLogger(__name__)

TAIL_LINES = 25
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Completed:
    """A finished command: its exit status and captured output (redacted)."""

    argv: tuple[str, ...]
    returncode: int
    output: str
    log: Path
    seconds: float

    @property
    def tail(self) -> str:
        return "\n".join(self.output.rstrip().splitlines()[-TAIL_LINES:])


@dataclass(frozen=True, slots=True, kw_only=True)
class Runner:
    """Runs commands, logging each to its own file under ``log_dir``."""

    log_dir: Path
    stream: bool = False
    redact: tuple[str, ...] = ()
    base_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def run(
        self,
        argv: Sequence[str],
        *,
        step: str,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Completed:
        """Run ``argv``; return its result whatever the exit status (see ``check``)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self._log_path(step)
        merged = {**self.base_env, **(env or {})}
        logger.debug("$ %s", self.scrub(" ".join(argv)))
        started = time.perf_counter()
        try:
            process = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=merged,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
        except OSError as exc:
            output = f"cannot run {argv[0]}: {exc.strerror}\n"
            log.write_text(output, encoding="utf-8")
            return Completed(argv=tuple(argv), returncode=127, output=output, log=log, seconds=0.0)
        with process:
            chunks = self._collect(process, log, timeout)
        seconds = time.perf_counter() - started
        return Completed(
            argv=tuple(argv),
            returncode=process.returncode,
            output="".join(chunks),
            log=log,
            seconds=seconds,
        )

    def check(
        self,
        argv: Sequence[str],
        *,
        step: str,
        error: type[PkgIndexError],
        message: str,
        hint: str | None = None,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Completed:
        """Run ``argv``; raise ``error`` with the output's tail and the log path if it fails."""
        result = self.run(argv, step=step, cwd=cwd, env=env, timeout=timeout)
        if result.returncode != 0:
            raise error(failure_message(message, result), hint=hint)
        return result

    def scrub(self, text: str) -> str:
        """Replace every secret in ``text`` with ``***``."""
        for secret in self.redact:
            if secret:
                text = text.replace(secret, "***")
        return text

    def _log_path(self, step: str) -> Path:
        stem = _SAFE_NAME.sub("-", step).strip("-") or "command"
        for number in range(len(list(self.log_dir.iterdir())) + 1, 100_000):
            path = self.log_dir / f"{number:03d}-{stem}.log"
            if not path.exists():
                return path
        raise PkgIndexError(f"{self.log_dir}: too many log files")

    def _collect(
        self, process: subprocess.Popen[str], log: Path, timeout: float | None
    ) -> list[str]:
        chunks: list[str] = []
        deadline = None if timeout is None else time.monotonic() + timeout
        assert process.stdout is not None
        with log.open("w", encoding="utf-8") as handle:
            for line in process.stdout:
                clean = self.scrub(line)
                chunks.append(clean)
                handle.write(clean)
                if self.stream:
                    sys.stderr.write(clean)
                if deadline is not None and time.monotonic() > deadline:
                    process.kill()
                    chunks.append(f"\n[killed after {timeout:.0f} s]\n")
                    break
            process.wait()
        return chunks


def failure_message(message: str, result: Completed) -> str:
    """``message``, the exit status, the output's last lines and where the full log is."""
    return (
        f"{message} (exit status {result.returncode})\n"
        f"{_indent(result.tail)}\n"
        f"full log: {result.log}"
    )


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines()) or "    (no output)"


KEPT_LOG_FOLDERS = 10


def logs_home(environ: Mapping[str, str] | None = None) -> Path:
    """Where the logs of failed runs are kept: $PKGINDEX_LOG_DIR, else
    $XDG_STATE_HOME/pkgindex/logs, else ~/.local/state/pkgindex/logs."""
    environ = os.environ if environ is None else environ
    if environ.get("PKGINDEX_LOG_DIR"):
        return Path(environ["PKGINDEX_LOG_DIR"])
    state = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "pkgindex" / "logs"


@contextmanager
def run_logs(purpose: str, environ: Mapping[str, str] | None = None) -> Iterator[Path]:
    """A log folder for one run: removed when the run succeeds, kept when it fails.

    Kept folders live in :func:`logs_home` (error messages name the log file); only the newest
    KEPT_LOG_FOLDERS are kept, so they never pile up.
    """
    home = logs_home(environ)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    folder = home / f"{purpose}-{stamp}-{os.getpid()}"
    try:
        yield folder
    except BaseException:
        if folder.exists():
            logger.info("logs kept in %s", folder)
            _prune(home)
        raise
    shutil.rmtree(folder, ignore_errors=True)


def _prune(home: Path) -> None:
    folders = sorted(
        (path for path in home.iterdir() if path.is_dir()), key=lambda path: path.stat().st_mtime
    )
    for old in folders[:-KEPT_LOG_FOLDERS]:
        shutil.rmtree(old, ignore_errors=True)
