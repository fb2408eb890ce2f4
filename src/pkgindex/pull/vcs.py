"""Commit and push an index repository, retrying when someone else pushed first.

``commit_and_push(checkout, apply)`` is the one way pkgindex changes a git-hosted index (pull mode's
``update`` and push mode's ``publish`` both use it). ``apply(checkout)`` makes the change — adds
files and regenerates pages — and returns the commit message, or None when nothing changed. If the
push is rejected, the checkout is reset onto the new remote tip and ``apply`` runs again: our files
are re-added on top of theirs and the pages regenerated from the union. That is a rebase that
cannot conflict and never drops the other side's files. Retries are bounded, with exponential
backoff and jitter; nothing is ever force-pushed. On final failure the checkout is put back exactly
where it was and PushError is raised.

``apply`` must therefore be repeatable and must not depend on files it wrote in an earlier
attempt (keep the inputs outside the checkout).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pkgindex.errors import GitError, PushError
from pkgindex.process import Completed, Runner, failure_message
from pkgindex.pull.gitsource import check_ref
from pkgindex.redact import redact_url

logger = logging.getLogger(__name__)

Apply = Callable[[Path], "str | None"]
# a pathspec that leaves out the temporary files of an atomic write (stores/local.py), which a
# killed run can leave in a project folder
_NO_TEMPORARIES = ":(exclude,glob)**/.*.tmp"
GIT_IDENTITY_ENV = {
    "GIT_AUTHOR_NAME": "pkgindex",
    "GIT_AUTHOR_EMAIL": "pkgindex@users.noreply.github.com",
    "GIT_COMMITTER_NAME": "pkgindex",
    "GIT_COMMITTER_EMAIL": "pkgindex@users.noreply.github.com",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class PushResult:
    """What ``commit_and_push`` did."""

    commit: str | None  # the pushed (or, without a remote, committed) commit; None: no change
    pushed: bool
    attempts: int
    message: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often and how patiently to retry a rejected push."""

    attempts: int = 5
    backoff: float = 0.5  # seconds before the first retry; doubles each time
    jitter: float = 0.5  # each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]

    def delay(self, retry: int, rng: Callable[[], float]) -> float:
        return float(self.backoff * 2**retry * (1 - self.jitter + 2 * self.jitter * rng()))


DEFAULT_RETRY = RetryPolicy()


def git_toplevel(path: Path, *, runner: Runner) -> Path | None:
    """The working tree root of the git checkout holding ``path``, or None if it is not in one."""
    result = runner.run(["git", "rev-parse", "--show-toplevel"], step="git-toplevel", cwd=path)
    if result.returncode != 0:
        return None
    return Path(result.output.strip())


def clone_index(
    url: str,
    dest: Path,
    *,
    runner: Runner,
    branch: str | None = None,
    depth: int | None = 1,
) -> Path:
    """Clone the index repository at ``url`` into ``dest`` (shallow by default); return ``dest``."""
    argv = ["git", "clone", "--quiet", "--no-tags"]
    if branch is not None:
        argv += ["--branch", check_ref(branch)]
    if depth is not None:
        argv += [f"--depth={depth}"]
    runner.check(
        [*argv, "--", url, str(dest)],
        step="git-clone-index",
        credentials=True,
        error=GitError,
        message=f"cannot clone the index repository {redact_url(url)}",
        hint="check the URL and that your token may read the repository",
    )
    return dest


def commit_and_push(
    checkout: Path,
    apply: Apply,
    *,
    runner: Runner,
    paths: Sequence[str] = (".",),
    remote: str = "origin",
    branch: str | None = None,
    policy: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
) -> PushResult:
    """Run ``apply``, commit ``paths`` and push to ``remote``/``branch``, retrying on rejection.

    ``branch`` defaults to the current branch. Without a remote the change is only committed.
    Refuses to start when tracked files have uncommitted changes (they would be lost).
    """
    git = _Git(runner=runner, checkout=checkout)
    git.require_clean()
    start = git.rev_parse("HEAD")
    branch = branch or git.current_branch()
    if not git.has_remote(remote):
        message = _apply_and_commit(git, apply, paths, start)
        return PushResult(
            commit=git.rev_parse("HEAD") if message else None,
            pushed=False,
            attempts=1,
            message=message,
        )
    try:
        return _push_loop(git, apply, paths, remote, branch, policy, sleep, rng)
    except BaseException:
        git.restore(start)
        raise


def _push_loop(
    git: _Git,
    apply: Apply,
    paths: Sequence[str],
    remote: str,
    branch: str,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    rng: Callable[[], float],
) -> PushResult:
    last: Completed | None = None
    start = git.rev_parse("HEAD")
    for attempt in range(1, policy.attempts + 1):
        if attempt > 1:
            delay = policy.delay(attempt - 2, rng)
            logger.info(
                "push: rejected; retrying in %.1f s (attempt %d of %d)",
                delay,
                attempt,
                policy.attempts,
            )
            sleep(delay)
        tip = git.fetch(remote, branch)
        if attempt == 1 and tip is not None and not git.is_ancestor(start, tip):
            raise GitError(
                f"{git.checkout}: the local branch has commits that are not on {remote}/{branch}",
                hint="push or drop them first; pkgindex resets the checkout onto the remote tip",
            )
        git.reset_onto(tip)
        message = _apply_and_commit(git, apply, paths, tip)
        if message is None:
            return PushResult(commit=None, pushed=False, attempts=attempt, message=None)
        last = git.push(remote, branch)
        if last.returncode == 0:
            commit = git.rev_parse("HEAD")
            logger.info("push: %s -> %s/%s", commit[:12], remote, branch)
            return PushResult(commit=commit, pushed=True, attempts=attempt, message=message)
    assert last is not None
    raise PushError(
        failure_message(f"push to {remote}/{branch} failed after {policy.attempts} attempts", last),
        hint="the index is unchanged; check write access to the index repository and run again",
    )


def _apply_and_commit(
    git: _Git, apply: Apply, paths: Sequence[str], parent: str | None
) -> str | None:
    message = apply(git.checkout)
    git.stage(paths)
    if message is None or not git.has_staged_changes():
        git.restore(parent)
        return None
    git.commit(message)
    return message


@dataclass(frozen=True, slots=True, kw_only=True)
class _Git:
    runner: Runner
    checkout: Path

    def run(self, *args: str, step: str, message: str, env: dict[str, str] | None = None) -> str:
        result = self.runner.check(
            ["git", *args],
            step=step,
            cwd=self.checkout,
            env=env,
            error=GitError,
            message=f"{self.checkout}: {message}",
        )
        return result.output

    def identity(self) -> dict[str, str]:
        """The committer: git's configured user, else a pkgindex bot identity."""
        configured = self.runner.run(
            ["git", "config", "user.email"], step="git-config", cwd=self.checkout
        )
        return {} if configured.output.strip() else GIT_IDENTITY_ENV

    def rev_parse(self, revision: str) -> str:
        return self.run(
            "rev-parse",
            "--verify",
            revision,
            step="git-rev-parse",
            message=f"cannot resolve {revision}",
        ).strip()

    def current_branch(self) -> str:
        name = self.run(
            "symbolic-ref",
            "--short",
            "HEAD",
            step="git-branch",
            message="HEAD is detached; pass the branch to push",
        ).strip()
        return check_ref(name)

    def has_remote(self, remote: str) -> bool:
        result = self.runner.run(
            ["git", "remote", "get-url", remote], step="git-remote", cwd=self.checkout
        )
        return result.returncode == 0

    def is_ancestor(self, commit: str, of: str) -> bool:
        result = self.runner.run(
            ["git", "merge-base", "--is-ancestor", commit, of],
            step="git-merge-base",
            cwd=self.checkout,
        )
        return result.returncode == 0

    def require_clean(self) -> None:
        status = self.run(
            "status",
            "--porcelain",
            "--untracked-files=no",
            step="git-status",
            message="cannot read the status",
        )
        if status.strip():
            raise GitError(
                f"{self.checkout} has uncommitted changes to tracked files",
                hint="commit or discard them first; pkgindex commits only its own changes",
            )

    def fetch(self, remote: str, branch: str) -> str | None:
        result = self.runner.run(
            ["git", "fetch", "--quiet", remote, "--end-of-options", f"refs/heads/{branch}"],
            step="git-fetch-index",
            cwd=self.checkout,
            credentials=True,
        )
        if result.returncode != 0:
            if "couldn't find remote ref" in result.output:
                return None  # the branch does not exist yet: the first push creates it
            raise PushError(
                failure_message(f"cannot fetch {remote}/{branch}", result),
                hint="the index is unchanged; check the network and the remote URL",
            )
        return self.rev_parse("FETCH_HEAD")

    def reset_onto(self, tip: str | None) -> None:
        if tip is not None:
            self.run(
                "reset",
                "--quiet",
                "--hard",
                tip,
                step="git-reset",
                message=f"cannot reset to {tip}",
            )

    def restore(self, commit: str | None) -> None:
        """Put the working tree and HEAD back to ``commit`` (files we staged disappear)."""
        self.run(
            "reset",
            "--quiet",
            "--hard",
            commit or "HEAD",
            step="git-reset",
            message="cannot restore the checkout",
        )

    def stage(self, paths: Sequence[str]) -> None:
        """Stage ``paths``, never a temporary file (``.NAME.PID.THREAD.tmp``) of a write."""
        self.run(
            "add",
            "--all",
            "--",
            *paths,
            _NO_TEMPORARIES,
            step="git-add",
            message="cannot stage the changes",
        )

    def has_staged_changes(self) -> bool:
        result = self.runner.run(
            ["git", "diff", "--cached", "--quiet"], step="git-diff", cwd=self.checkout
        )
        return result.returncode != 0

    def commit(self, message: str) -> None:
        self.run(
            "commit",
            "--quiet",
            "--no-verify",
            "-m",
            message,
            step="git-commit",
            message="cannot commit",
            env=self.identity(),
        )

    def push(self, remote: str, branch: str) -> Completed:
        return self.runner.run(
            ["git", "push", "--quiet", "--porcelain", remote, f"HEAD:refs/heads/{branch}"],
            step="git-push",
            cwd=self.checkout,
            credentials=True,
        )
