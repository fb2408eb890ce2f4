"""Push mode for a git-hosted index: ``pkgindex publish FILE... --index-url-git URL``.

The dependent project built and verified its distributions itself; this hands them to the index:
clone the index repository shallowly into a temporary folder, add the files with
:func:`pkgindex.index.add.add_files` (same validation and immutability rules as
``pkgindex add``), commit and push with :func:`pkgindex.pull.vcs.commit_and_push`, which rebases and
retries when someone else pushed first — the same retry pull mode uses. Publishing files the index
already holds (same name, same bytes) is a no-op that pushes nothing.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from pkgindex import __version__
from pkgindex.errors import ConfigError
from pkgindex.index.add import AddReport, add_files
from pkgindex.index.refresh import Clock
from pkgindex.process import Runner, run_logs
from pkgindex.pull.gitsource import check_ref, redact_url, url_secrets
from pkgindex.pull.vcs import RetryPolicy, clone_index, commit_and_push
from pkgindex.stores.local import LocalStore

logger = logging.getLogger(__name__)

PROVENANCE_SCHEMA: Final = 1
Phase = Callable[[str], None]  # told what is being done now, e.g. "pushing to main": a CLI draws it


def no_phase(text: str) -> None:
    """Nobody is watching."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishReport:
    added: tuple[str, ...]
    unchanged: tuple[str, ...]
    commit: str | None  # the pushed commit; None when the index already had every file
    branch: str
    attempts: int


def publish(
    files: Sequence[Path],
    *,
    index_url_git: str,
    branch: str = "main",
    replace: bool = False,
    provenance: Mapping[str, Any] | None = None,
    policy: RetryPolicy | None = None,
    stream: bool = False,
    clock: Clock | None = None,
    on_phase: Phase = no_phase,
) -> PublishReport:
    """Add FILES to the index repository at INDEX_URL_GIT and push BRANCH.

    Command logs are kept (and their folder logged) only when something fails. ``on_phase`` is
    told each step as it starts: cloning the index, adding the files, pushing (again on a retry).
    """
    sources = check_files(files)
    check_ref(branch)
    with run_logs("publish") as log_dir:
        runner = Runner(log_dir=log_dir, stream=stream, redact=url_secrets(index_url_git))
        return _publish(
            sources,
            index_url_git=index_url_git,
            branch=branch,
            replace=replace,
            provenance=provenance,
            runner=runner,
            policy=policy or RetryPolicy(),
            clock=clock,
            on_phase=on_phase,
        )


def _publish(
    sources: Sequence[Path],
    *,
    index_url_git: str,
    branch: str,
    replace: bool,
    provenance: Mapping[str, Any] | None,
    runner: Runner,
    policy: RetryPolicy,
    clock: Clock | None,
    on_phase: Phase,
) -> PublishReport:
    with tempfile.TemporaryDirectory(prefix="pkgindex-publish-") as temporary:
        on_phase(f"cloning the index {redact_url(index_url_git)}")
        checkout = clone_index(
            index_url_git, Path(temporary) / "index", runner=runner, branch=branch, depth=1
        )
        reports: list[AddReport] = []

        def apply(root: Path) -> str | None:
            on_phase(f"adding {len(sources)} file{'s' if len(sources) != 1 else ''}")
            report = add_files(
                LocalStore(root), sources, replace=replace, provenance=provenance, clock=clock
            )
            reports.append(report)
            if report.added:
                on_phase(f"pushing to {branch}")
            return commit_message(report)

        result = commit_and_push(checkout, apply, runner=runner, branch=branch, policy=policy)
    last = reports[-1]
    if result.commit:
        logger.info("published to %s (%s)", redact_url(index_url_git), branch)
    return PublishReport(
        added=last.added if result.commit else (),
        unchanged=last.unchanged if result.commit else last.unchanged + last.added,
        commit=result.commit,
        branch=branch,
        attempts=result.attempts,
    )


def check_files(files: Sequence[Path]) -> tuple[Path, ...]:
    """Every FILE as an absolute path; all missing ones reported at once."""
    if not files:
        raise ConfigError("no files to publish", hint="pass the wheels or sdists to publish")
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        raise ConfigError(
            f"no such file: {', '.join(missing)}",
            hint="build the distributions first, e.g. with 'pkgindex build . -o dist'",
        )
    return tuple(path.resolve() for path in files)


def commit_message(report: AddReport) -> str | None:
    if not report.added:
        return None
    names = ", ".join(report.added)
    return f"published {names}\n\nAdded by pkgindex {__version__} (push mode)."


def provenance_from_environment(
    environ: Mapping[str, str], *, clock: Clock | None = None
) -> dict[str, Any]:
    """What the publisher says about the files; in GitHub Actions, the run that built them."""
    now = clock() if clock else datetime.now(UTC)
    provenance: dict[str, Any] = {
        "schema": PROVENANCE_SCHEMA,
        "mode": "publish",
        "published_at": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tools": {"pkgindex": __version__},
    }
    repository, server = environ.get("GITHUB_REPOSITORY"), environ.get("GITHUB_SERVER_URL")
    if repository:
        provenance["source"] = repository
        for key, name in (("commit", "GITHUB_SHA"), ("ref", "GITHUB_REF")):
            if environ.get(name):
                provenance[key] = environ[name]
        if server and environ.get("GITHUB_RUN_ID"):
            provenance["run"] = f"{server}/{repository}/actions/runs/{environ['GITHUB_RUN_ID']}"
    return provenance
