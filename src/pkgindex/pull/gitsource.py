"""Fetch a source repository at a ref (branch, tag or full commit SHA), submodules included.

Owner, repository and ref are validated before git sees them, so none of them can smuggle in a
git option or a path; the ref is also passed after ``--end-of-options``. The clone URL comes from a
template such as ``https://github.com/{owner}/{repo}.git``; credentials in it are never logged
or recorded (see ``redact_url``).
"""

from __future__ import annotations

import logging
import re
import string
from dataclasses import dataclass
from pathlib import Path

from pkgindex.errors import ConfigError, GitError
from pkgindex.process import Completed, Runner, printable
from pkgindex.redact import redact_url, url_secrets

__all__ = ["SourceCheckout", "fetch_source", "redact_url", "url_secrets"]

logger = logging.getLogger(__name__)

# GitHub's rules: owners are alphanumeric with single inner hyphens; repositories are
# alphanumeric, '-', '_' and '.'. Neither may start with '-' or '.'.
_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_REPO = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
_FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_REF_FORBIDDEN = set(" ~^:?*[\\")
_TEMPLATE_FIELDS = {"owner", "repo"}

# Submodules of a file:// source are file:// too; git refuses them unless told otherwise.
GIT_CONFIG = ("-c", "protocol.file.allow=always", "-c", "advice.detachedHead=false")


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceCheckout:
    """A source tree at one commit, ready to build."""

    path: Path
    url: str  # without credentials
    ref: str
    commit: str


def check_owner(owner: str) -> str:
    if not _OWNER.fullmatch(owner):
        raise ConfigError(
            f"source owner {owner!r} is not a valid GitHub user or organization name",
            hint="use letters, digits and single inner hyphens, e.g. GridTools",
        )
    return owner


def check_repo(repo: str) -> str:
    if not _REPO.fullmatch(repo) or repo.endswith(".git") or ".." in repo:
        raise ConfigError(
            f"source repository {repo!r} is not a valid repository name",
            hint="use letters, digits, '-', '_' and '.', without a '.git' suffix, e.g. dace",
        )
    return repo


def ref_problems(ref: str) -> list[str]:
    """Every way ``ref`` breaks ``git check-ref-format --allow-onelevel`` (plus: no leading '-')."""
    problems: list[str] = []
    if not ref:
        return ["it is empty"]
    if ref.startswith("-"):
        problems.append("it starts with '-' (it would be read as an option)")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in ref):
        problems.append("it contains a control character")
    if forbidden := sorted(_REF_FORBIDDEN.intersection(ref)):
        problems.append(f"it contains {' '.join(repr(char) for char in forbidden)}")
    if ".." in ref:
        problems.append("it contains '..'")
    if "@{" in ref or ref == "@":
        problems.append("it contains '@{' or is '@'")
    if ref.startswith("/") or ref.endswith("/") or "//" in ref:
        problems.append("it has an empty path component")
    if ref.endswith("."):
        problems.append("it ends with '.'")
    for part in ref.split("/"):
        if part.startswith("."):
            problems.append(f"component {part!r} starts with '.'")
        if part.endswith(".lock"):
            problems.append(f"component {part!r} ends with '.lock'")
    return problems


def check_ref(ref: str) -> str:
    """Return ``ref`` if it is a valid branch, tag or commit name; raise ConfigError if not."""
    if problems := ref_problems(ref):
        raise ConfigError(
            f"ref {ref!r} is not a valid git ref: {'; '.join(problems)}",
            hint="give a branch name, a tag name or a full 40-character commit SHA",
        )
    return ref


def is_full_sha(ref: str) -> bool:
    return _FULL_SHA.fullmatch(ref) is not None


def clone_url(template: str, owner: str, repo: str) -> str:
    """Fill a clone URL template such as ``https://github.com/{owner}/{repo}.git``."""
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    if unknown := fields - _TEMPLATE_FIELDS:
        raise ConfigError(
            f"source URL template {redact_url(template)!r} uses unknown fields {sorted(unknown)}",
            hint="only {owner} and {repo} can be used",
        )
    return template.format(owner=check_owner(owner), repo=check_repo(repo))


def fetch_source(url: str, ref: str, dest: Path, *, runner: Runner) -> SourceCheckout:
    """Check ``url`` out at ``ref`` into the empty or missing folder ``dest``, submodules too.

    A branch or tag is fetched shallowly; a full SHA is fetched directly when the server allows
    it, otherwise the whole history is fetched. Raises GitError if the clone or ref fails.
    """
    check_ref(ref)
    safe_url = redact_url(url)
    dest.mkdir(parents=True, exist_ok=True)
    git = ["git", *GIT_CONFIG]
    runner.check(
        [*git, "init", "--quiet", str(dest)],
        step="git-init",
        error=GitError,
        message=f"cannot create a git repository in {dest}",
    )
    runner.check(
        [*git, "remote", "add", "origin", url],
        step="git-remote",
        cwd=dest,
        error=GitError,
        message=f"cannot add remote {safe_url}",
    )
    fetched = runner.run(
        [*git, "fetch", "--quiet", "--depth=1", "origin", "--end-of-options", ref],
        step="git-fetch",
        cwd=dest,
        credentials=True,
    )
    if fetched.returncode != 0 and is_full_sha(ref):
        logger.info("fetch: the server refused commit %s by SHA; fetching the history", ref[:12])
        fetched = runner.run(
            [*git, "fetch", "--quiet", "--tags", "origin"],
            step="git-fetch-all",
            cwd=dest,
            credentials=True,
        )
        target = ref
    else:
        target = "FETCH_HEAD"
    if fetched.returncode != 0:
        raise GitError(
            _fetch_failure(safe_url, ref, fetched.output, fetched.log),
            hint="check that the repository exists and is reachable, and that the ref is a branch, "
            "a tag or a full commit SHA in it",
        )
    runner.check(
        [*git, "checkout", "--quiet", "--detach", target, "--"],
        step="git-checkout",
        cwd=dest,
        error=GitError,
        message=f"{safe_url}: cannot check out {ref!r}",
    )
    _update_submodules(dest, safe_url, ref, runner=runner)
    commit = runner.check(
        [*git, "rev-parse", "HEAD"],
        step="git-rev-parse",
        cwd=dest,
        error=GitError,
        message="cannot read the fetched commit",
    )
    sha = commit.output.strip()
    if is_full_sha(ref) and sha != ref:
        raise GitError(f"{safe_url}: fetched {sha} but asked for {ref}")
    return SourceCheckout(path=dest, url=safe_url, ref=ref, commit=sha)


def _update_submodules(dest: Path, url: str, ref: str, *, runner: Runner) -> None:
    """Check out every submodule, nested ones too, at the commit the superproject records."""
    result = runner.run(
        ["git", *GIT_CONFIG, "submodule", "update", "--init", "--recursive", "--quiet"],
        step="git-submodules",
        cwd=dest,
        credentials=True,
    )
    if result.returncode == 0:
        return
    if missing := _missing_submodule_commit(dest, result, runner=runner):
        path, commit, submodule_url = missing
        raise GitError(
            f"{url} at {ref!r}: submodule {path} ({redact_url(submodule_url)}) has no commit "
            f"{commit}\nfull log: {result.log}",
            hint="the superproject records a submodule commit that was never pushed to the "
            "submodule's repository: push it there, or update the submodule pointer and tag again",
        )
    raise GitError(
        _tail_message(f"{url} at {ref!r}: cannot check out the submodules", result),
        hint="check that every submodule URL in .gitmodules is reachable from here",
    )


# git: "Fetched in submodule path 'a/b', but it did not contain 0123abcd. Direct fetching of
# that commit failed." (older gits: "Unable to checkout '0123abcd' in submodule path 'a/b'")
_SUBMODULE_MISSING = re.compile(
    r"Fetched in submodule path '(?P<path>[^']+)', but it did not contain (?P<sha>[0-9a-f]{7,64})"
    r"|Unable to checkout '(?P<sha2>[0-9a-f]{7,64})' in submodule path '(?P<path2>[^']+)'"
    r"|upload-pack: not our ref (?P<sha3>[0-9a-f]{40,64})"
)


def _missing_submodule_commit(
    dest: Path, result: Completed, *, runner: Runner
) -> tuple[str, str, str] | None:
    """(submodule path, commit, URL) when the failure is a recorded commit missing upstream."""
    match = _SUBMODULE_MISSING.search(result.output)
    if match is None:
        return None
    commit = match["sha"] or match["sha2"] or match["sha3"]
    path = match["path"] or match["path2"] or _failed_submodule_path(result.output)
    if path is None:
        return None
    # the failing path is relative to the innermost superproject; find its URL there
    for gitmodules in sorted(dest.rglob(".gitmodules")):
        root = gitmodules.parent
        found = runner.run(
            ["git", "config", "--file", ".gitmodules", "--get-regexp", r"^submodule\..*\.path$"],
            step="git-submodule-paths",
            cwd=root,
        )
        for line in found.output.splitlines():
            key, _, value = line.partition(" ")
            full_path = (root.relative_to(dest) / value).as_posix()
            if path not in (value, full_path):  # git names it from the top or from its parent
                continue
            url = runner.run(
                ["git", "config", "--file", ".gitmodules", key.removesuffix(".path") + ".url"],
                step="git-submodule-url",
                cwd=root,
            )
            return full_path, commit, url.output.strip()
    return path, commit, "?"


def _failed_submodule_path(output: str) -> str | None:
    found = re.search(r"submodule path '([^']+)'", output)
    return found[1] if found else None


def _tail_message(message: str, result: Completed) -> str:
    lines = printable(result.output).strip().splitlines()
    tail = "\n".join(f"    {line}" for line in lines[-15:])
    return f"{message} (exit status {result.returncode})\n{tail}\nfull log: {result.log}"


def _fetch_failure(url: str, ref: str, output: str, log: Path) -> str:
    lines = printable(output).strip().splitlines()
    missing = any("couldn't find remote ref" in line or "not our ref" in line for line in lines)
    what = f"ref {ref!r} not found in {url}" if missing else f"cannot fetch {ref!r} from {url}"
    tail = "\n".join(f"    {line}" for line in lines[-15:])
    return f"{what}\n{tail}\nfull log: {log}"
