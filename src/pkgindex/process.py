"""Run external commands (git, uv, build backends) with their output captured to a log file.

Every command's combined stdout/stderr goes to one log file per call in ``log_dir``. On failure
the caller's error class is raised with the tail of that output and the path of the full log, so
the user sees why without scrolling through a build. With ``stream=True`` (``-vv``) the output is
also copied to stderr as it arrives. Secrets (``redact``, URL credentials, the credential
variables of the environment) never reach a log or a message; the log keeps every other byte as
the command wrote it, and messages show the output without control characters.

Commands run with an environment built from an allowlist (:func:`sandbox_environment`): build
backends, installers and smoke checks run someone else's code and never see the push token, the
GitHub token or git's credential helpers. Only git operations that talk to a remote ask for the
whole environment (``credentials=True``).
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
from pkgindex.redact import Redactor, environment_secrets

logger = logging.getLogger(__name__)

TAIL_LINES = 25
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
# ANSI escape sequences (colours, cursor moves) and every other control character but \n and \t.
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# Variables a build, an installer or an import may need. Anything else (tokens, GIT_CONFIG_*
# credential helpers, AWS_* keys, PIP_*/UV_* settings) stays out unless pkgindex.toml names it.
SANDBOX_VARIABLES = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "TEMP", "TMP", "TZ", "TERM",
        "LANG", "LANGUAGE", "CI", "SOURCE_DATE_EPOCH", "PYTHONHASHSEED", "PYTHONUTF8",
        "http_proxy", "https_proxy", "no_proxy", "all_proxy",
        "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
        "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "UV_CACHE_DIR",
        "CC", "CXX", "FC", "CPP", "LD", "AR", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS",
        "FFLAGS", "MAKEFLAGS", "CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH",
        "LIBRARY_PATH", "LD_LIBRARY_PATH", "PKG_CONFIG_PATH", "CMAKE_PREFIX_PATH",
        "CMAKE_GENERATOR", "CMAKE_BUILD_PARALLEL_LEVEL", "CMAKE_ARGS", "MAX_JOBS",
        "CUDA_HOME", "CUDA_PATH", "MPICC", "MPICXX", "MPI_HOME", "BOOST_ROOT",
        "MACOSX_DEPLOYMENT_TARGET", "ARCHFLAGS",
        "SYSTEMROOT", "SYSTEMDRIVE", "COMSPEC", "PATHEXT", "WINDIR", "APPDATA", "LOCALAPPDATA",
        "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL",
    }
)  # fmt: skip
SANDBOX_PREFIXES = ("LC_",)
# Names that pkgindex.toml may never pass to a build, whatever it says.
_FORBIDDEN = re.compile(
    r".*(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL).*|GIT_CONFIG.*|GIT_ASKPASS|SSH_ASKPASS"
    r"|SSH_AUTH_SOCK|AWS_.*|ACTIONS_.*|GITHUB_.*",
    re.IGNORECASE,
)


def is_forbidden_variable(name: str) -> bool:
    """True for a variable that must never reach someone else's code (a credential)."""
    return _FORBIDDEN.fullmatch(name) is not None


def sandbox_environment(environ: Mapping[str, str], pass_env: Sequence[str] = ()) -> dict[str, str]:
    """The allowlisted part of ``environ``, plus the variables named in ``pass_env``."""
    wanted = {name for name in pass_env if not is_forbidden_variable(name)}
    return {
        name: value
        for name, value in environ.items()
        if name in SANDBOX_VARIABLES or name.startswith(SANDBOX_PREFIXES) or name in wanted
    }


def printable(text: str) -> str:
    """``text`` without escape sequences and control characters (newlines and tabs stay)."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


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
    pass_env: tuple[str, ...] = ()  # extra variables for sandboxed commands (pkgindex.toml)

    @property
    def redactor(self) -> Redactor:
        return Redactor.for_values((*self.redact, *environment_secrets(self.base_env)))

    def run(
        self,
        argv: Sequence[str],
        *,
        step: str,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        credentials: bool = False,
    ) -> Completed:
        """Run ``argv``; return its result whatever the exit status (see ``check``).

        The command sees the sandbox environment plus ``env``; with ``credentials`` (git talking
        to a remote) it sees the whole environment of this process instead.
        """
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self._log_path(step)
        base = self.base_env if credentials else sandbox_environment(self.base_env, self.pass_env)
        merged = {**base, **(env or {})}
        redactor = self.redactor
        logger.debug("$ %s", redactor.scrub(" ".join(argv)))
        started = time.perf_counter()
        try:
            process = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=merged,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            output = f"cannot run {argv[0]}: {exc.strerror}\n"
            log.write_text(output, encoding="utf-8")
            return Completed(argv=tuple(argv), returncode=127, output=output, log=log, seconds=0.0)
        with process:
            chunks = self._collect(process, log, timeout, redactor)
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
        credentials: bool = False,
    ) -> Completed:
        """Run ``argv``; raise ``error`` with the output's tail and the log path if it fails."""
        result = self.run(
            argv, step=step, cwd=cwd, env=env, timeout=timeout, credentials=credentials
        )
        if result.returncode != 0:
            raise error(failure_message(message, result), hint=hint)
        return result

    def scrub(self, text: str) -> str:
        """``text`` without URL credentials or any secret this runner knows."""
        return self.redactor.scrub(text)

    def _log_path(self, step: str) -> Path:
        stem = _SAFE_NAME.sub("-", step).strip("-") or "command"
        for number in range(len(list(self.log_dir.iterdir())) + 1, 100_000):
            path = self.log_dir / f"{number:03d}-{stem}.log"
            if not path.exists():
                return path
        raise PkgIndexError(f"{self.log_dir}: too many log files")

    def _collect(
        self,
        process: subprocess.Popen[bytes],
        log: Path,
        timeout: float | None,
        redactor: Redactor,
    ) -> list[str]:
        """Copy the output to the log byte for byte (secrets scrubbed); return it as text."""
        chunks: list[str] = []
        deadline = None if timeout is None else time.monotonic() + timeout
        assert process.stdout is not None
        with log.open("wb") as handle:
            for raw in process.stdout:
                line = redactor.scrub(raw.decode("utf-8", "surrogateescape"))
                handle.write(line.encode("utf-8", "surrogateescape"))
                text = line.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                chunks.append(text)
                if self.stream:
                    sys.stderr.write(printable(text))
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
        f"{_indent(printable(result.tail))}\n"
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
