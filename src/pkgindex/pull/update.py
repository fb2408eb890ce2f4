"""Pull mode composed from its parts: ``update`` (fetch, build, verify, publish, push), ``build``.

``update`` is what the index repository's workflow runs when a dependency has a new version. Each
step is timed and logged. Nothing touches the index before every check has passed, and a failure
at any step leaves it exactly as it was; subprocess logs are kept (and named in the error) only
when something fails.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name, parse_wheel_filename

from pkgindex import __version__
from pkgindex.config import DEFAULT_UPSTREAM_INDEX, Config, ProjectConfig, load_config
from pkgindex.errors import ConfigError, ConflictError, GitError
from pkgindex.index.add import add_files
from pkgindex.index.distfile import parse_filename
from pkgindex.index.layout import check_index_root
from pkgindex.index.pages import load_store_config
from pkgindex.index.refresh import load_project
from pkgindex.process import Runner, run_logs
from pkgindex.pull.builder import Frontend, build_distributions, settings_digest
from pkgindex.pull.gitsource import (
    SourceCheckout,
    check_owner,
    check_ref,
    check_repo,
    clone_url,
    fetch_source,
)
from pkgindex.pull.repair import repair_wheel
from pkgindex.pull.sample import commit_all, tag, write_sample_project
from pkgindex.pull.vcs import DEFAULT_RETRY, RetryPolicy, commit_and_push, git_toplevel
from pkgindex.pull.verify import find_uv, verify_wheel
from pkgindex.pull.versioning import render_version, rewrite_wheel_version
from pkgindex.redact import redact_url, url_secrets
from pkgindex.stores.base import Store
from pkgindex.stores.local import LocalStore

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Phase = Callable[[str], None]  # told what is being done now, e.g. "building": a CLI draws it
PROVENANCE_SCHEMA = 1


def no_phase(text: str) -> None:
    """Nobody is watching."""


@dataclass(slots=True)
class Timings:
    """Wall-clock seconds per step, in the order the steps ran; each step told to ``on_phase``."""

    steps: dict[str, float] = field(default_factory=dict)
    on_phase: Phase = no_phase

    @contextmanager
    def step(self, name: str, phase: str | None = None) -> Iterator[None]:
        self.on_phase(phase or name)
        logger.info("%s ...", name)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.steps[name] = time.perf_counter() - started
        logger.info("%s: done in %.2f s", name, self.steps[name])


@dataclass(frozen=True, slots=True, kw_only=True)
class Verification:
    """Where verification finds dependencies: this index first, then the upstream index."""

    own_index: str | None = None
    upstream_index: str = DEFAULT_UPSTREAM_INDEX


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateReport:
    source: str  # OWNER/REPO
    ref: str
    commit: str  # the source commit built
    files: tuple[str, ...]  # distribution filenames published (or already there)
    up_to_date: bool  # the index already had this build: nothing was built
    pushed: bool
    index_commit: str | None
    timings: Mapping[str, float]
    backend_seconds: float  # time inside the build frontend + backend


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildReport:
    source: str
    commit: str | None
    files: tuple[Path, ...]
    timings: Mapping[str, float]
    backend_seconds: float


def project_for_source(config: Config, owner: str, repo: str) -> ProjectConfig:
    """The project whose ``source`` is OWNER/REPO in pkgindex.toml, else defaults named REPO."""
    wanted = f"{owner}/{repo}".lower()
    for project in config.projects.values():
        if project.source and project.source.lower() == wanted:
            return project
    return ProjectConfig(name=canonicalize_name(repo))


def update(
    root: Path,
    *,
    owner: str,
    repo: str,
    ref: str,
    source_url: str | None = None,
    replace: bool = False,
    commit: bool = True,
    frontend: Frontend = "uv",
    retry: RetryPolicy = DEFAULT_RETRY,
    stream: bool = False,
    clock: Clock | None = None,
    store: Store | None = None,
    on_phase: Phase = no_phase,
) -> UpdateReport:
    """Build OWNER/REPO at REF, prove the wheel works, add it to the index at ROOT and push.

    With ``store`` (a bucket), the files are added to that store instead: no git commit.
    ``on_phase`` is told each step as it starts ("fetching OWNER/REPO@REF", "building", ...).
    """
    clock = clock or (lambda: datetime.now(UTC))
    source = f"{check_owner(owner)}/{check_repo(repo)}"
    check_ref(ref)
    if store is None:
        check_index_root(root)
    config = load_config(root) if store is None else load_store_config(store)
    settings = project_for_source(config, owner, repo)
    check_settings(settings)
    url = clone_url(source_url or config.source_url, owner, repo)
    digest = settings_digest(settings, frontend=frontend)
    verification = Verification(
        own_index=root.resolve().as_uri() if store is None else config.url,
        upstream_index=config.upstream_index,
    )
    with _workspace(
        "update", stream=stream, secrets=url_secrets(url), pass_env=settings.pass_env
    ) as (work, runner):
        timings = Timings(on_phase=on_phase)
        with timings.step("fetch", f"fetching {source}@{ref}"):
            checkout = fetch_source(url, ref, work / "source", runner=runner)
        logger.info("fetch: %s at %s is commit %s", source, ref, checkout.commit)
        index = store or LocalStore(root)
        if existing := find_build(index, source=source, commit=checkout.commit, digest=digest):
            logger.info(
                "the index already has %s built from %s with these settings; nothing to do",
                ", ".join(existing),
                checkout.commit[:12],
            )
            return UpdateReport(
                source=source,
                ref=ref,
                commit=checkout.commit,
                files=existing,
                up_to_date=True,
                pushed=False,
                index_commit=None,
                timings=timings.steps,
                backend_seconds=0.0,
            )
        files, backend = _build_and_verify(
            checkout, work, settings, runner, frontend, clock, timings, verification
        )
        provenance = _provenance(source, checkout, digest, frontend, clock(), runner)
        where = f" to {store.location}" if store is not None else ""
        with timings.step("publish", f"publishing {_count(files)}{where}"):
            if store is not None:
                pushed, index_commit = _publish_to_store(store, files, provenance, replace, clock)
            else:
                pushed, index_commit = _publish(
                    root,
                    files,
                    provenance,
                    source=source,
                    checkout=checkout,
                    replace=replace,
                    commit=commit,
                    runner=runner,
                    retry=retry,
                    clock=clock,
                )
    return UpdateReport(
        source=source,
        ref=ref,
        commit=checkout.commit,
        files=tuple(path.name for path in files),
        up_to_date=False,
        pushed=pushed,
        index_commit=index_commit,
        timings=timings.steps,
        backend_seconds=backend,
    )


def build(
    source: str,
    out_dir: Path,
    *,
    ref: str | None = None,
    config: Config | None = None,
    own_index: str | None = None,
    frontend: Frontend = "uv",
    stream: bool = False,
    clock: Clock | None = None,
    on_phase: Phase = no_phase,
) -> BuildReport:
    """Fetch SOURCE (a folder, git URL or OWNER/REPO), build, verify; copy the files to OUT_DIR.

    A folder without ``ref`` is built as it is, uncommitted changes included. Dependencies are
    resolved from ``own_index`` (when given) first, then the configured upstream index.
    """
    clock = clock or (lambda: datetime.now(UTC))
    config = config or Config()
    url, settings = _resolve_source(source, config, ref=ref)
    verification = Verification(own_index=own_index, upstream_index=config.upstream_index)
    secrets = url_secrets(url or "")
    with _workspace("build", stream=stream, secrets=secrets, pass_env=settings.pass_env) as (
        work,
        runner,
    ):
        timings = Timings(on_phase=on_phase)
        checkout: SourceCheckout | None = None
        if url is not None:
            with timings.step("fetch", f"fetching {redact_url(source)}@{ref or 'HEAD'}"):
                checkout = fetch_source(
                    url, check_ref(ref or "HEAD"), work / "source", runner=runner
                )
        tree = checkout.path if checkout else Path(source).resolve()
        built = SourceCheckout(
            path=tree,
            url=redact_url(source),
            ref=ref or "",
            commit=checkout.commit if checkout else "",
        )
        files, backend = _build_and_verify(
            built, work, settings, runner, frontend, clock, timings, verification
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        copied = tuple(Path(shutil.copy2(path, out_dir / path.name)) for path in files)
    return BuildReport(
        source=redact_url(source),
        commit=checkout.commit if checkout else None,
        files=copied,
        timings=timings.steps,
        backend_seconds=backend,
    )


def check_settings(settings: ProjectConfig) -> None:
    if settings.version_template and "sdist" in settings.dists:
        raise ConfigError(
            f"projects.{settings.name}: a version-template rewrites wheels only; "
            "an sdist would keep the source's version",
            hint="remove 'sdist' from dists, or remove version-template",
        )


def find_build(store: Store, *, source: str, commit: str, digest: str) -> tuple[str, ...]:
    """Filenames in the index built from ``source`` at ``commit`` with settings ``digest``."""
    found: list[str] = []
    if not store.exists():
        return ()
    for name in store.list_root().folders:
        project = load_project(store, name)
        for file in project.files if project else ():
            made = file.provenance or {}
            if (
                str(made.get("source", "")).lower() == source.lower()
                and made.get("commit") == commit
                and made.get("settings_digest") == digest
            ):
                found.append(file.filename)
    return tuple(found)


@contextmanager
def _workspace(
    purpose: str, *, stream: bool, secrets: Sequence[str], pass_env: Sequence[str] = ()
) -> Iterator[tuple[Path, Runner]]:
    """A temporary work folder and a runner whose logs survive only a failure (see run_logs)."""
    with run_logs(purpose) as log_dir:
        runner = Runner(
            log_dir=log_dir, stream=stream, redact=tuple(secrets), pass_env=tuple(pass_env)
        )
        work = tempfile.mkdtemp(prefix=f"pkgindex-{purpose}-")
        try:
            yield Path(work), runner
        finally:
            _remove_work_folder(Path(work))


def _remove_work_folder(work: Path) -> None:
    """Remove a work folder. A child started just as the run was interrupted (SIGTERM arriving
    while ``subprocess`` forks git) may still be writing into it for a moment: try again
    shortly after, and never let the cleanup hide how the run ended."""
    error: OSError | None = None
    for pause in (0.0, 0.2, 1.0):
        time.sleep(pause)
        try:
            shutil.rmtree(work)
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            error = exc
    logger.warning("%s: not removed (%s); remove it by hand", work, error)


def _resolve_source(
    source: str, config: Config, *, ref: str | None
) -> tuple[str | None, ProjectConfig]:
    """(clone URL, or None to build a folder as it is; settings) for ``pkgindex build SOURCE``."""
    path = Path(source)
    if path.is_dir():
        settings = config.project(path.resolve().name)
        return (path.resolve().as_uri() if ref is not None else None), settings
    if "://" in source or source.startswith("git@"):
        return source, config.project(source.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1])
    owner, slash, repo = source.partition("/")
    if not slash:
        raise ConfigError(
            f"{source!r} is not a folder, a git URL or OWNER/REPO",
            hint="for example: pkgindex build GridTools/dace --ref main",
        )
    settings = project_for_source(config, owner, repo)
    return clone_url(config.source_url, owner, repo), settings


def _build_and_verify(
    checkout: SourceCheckout,
    work: Path,
    settings: ProjectConfig,
    runner: Runner,
    frontend: Frontend,
    clock: Clock,
    timings: Timings,
    verification: Verification,
) -> tuple[list[Path], float]:
    check_settings(settings)
    with timings.step("build", f"building {settings.name} ({frontend})"):
        result = build_distributions(
            checkout.path, work / "dist", settings, runner=runner, frontend=frontend
        )
        files = [
            _finish_wheel(path, work, settings, checkout, clock, runner)
            if path.name.endswith(".whl")
            else path
            for path in result.files
        ]
    with timings.step("verify", "verifying"):
        for wheel in (path for path in files if path.name.endswith(".whl")):
            how = "with" if settings.verify_deps else "without"
            timings.on_phase(f"verifying {wheel.name} (installing {how} dependencies)")
            verify_wheel(
                wheel,
                work / f"verify-{wheel.name}",
                settings,
                runner=runner,
                own_index=verification.own_index,
                upstream_index=verification.upstream_index,
            )
    return files, result.seconds


def _finish_wheel(
    wheel: Path,
    work: Path,
    settings: ProjectConfig,
    checkout: SourceCheckout,
    clock: Clock,
    runner: Runner,
) -> Path:
    """Repair a platform wheel (auditwheel), then apply the version template."""
    wheel = repair_wheel(wheel, work / "repaired", settings, runner=runner)
    if not settings.version_template:
        return wheel
    _, built_version, _, _ = parse_wheel_filename(wheel.name)
    version = render_version(
        settings.version_template,
        version=built_version,
        commit=checkout.commit or "0" * 40,
        now=clock(),
    )
    rewritten = rewrite_wheel_version(wheel, version, work / "versioned")
    logger.info(
        "version: %s -> %s (template %r)", built_version, version, settings.version_template
    )
    return rewritten


def _provenance(
    source: str,
    checkout: SourceCheckout,
    digest: str,
    frontend: Frontend,
    now: datetime,
    runner: Runner,
) -> dict[str, Any]:
    return {
        "schema": PROVENANCE_SCHEMA,
        "source": source,
        "url": checkout.url,
        "ref": checkout.ref,
        "commit": checkout.commit,
        "built_at": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "settings_digest": digest,
        "frontend": frontend,
        "tools": tool_versions(runner),
    }


def tool_versions(runner: Runner) -> dict[str, str]:
    """Versions of pkgindex, Python, uv and git, as recorded in provenance."""
    versions = {"pkgindex": __version__, "python": platform.python_version()}
    for name, argv in (("uv", [find_uv(), "--version"]), ("git", ["git", "--version"])):
        result = runner.run(argv, step=f"{name}-version")
        words = result.output.split()
        versions[name] = next((w for w in words if w[:1].isdigit()), "unknown")
    return versions


def _count(files: Sequence[Path]) -> str:
    return files[0].name if len(files) == 1 else f"{len(files)} files"


def _publish_to_store(
    store: Store,
    files: Sequence[Path],
    provenance: Mapping[str, Any],
    replace: bool,
    clock: Clock,
) -> tuple[bool, str | None]:
    """Add the files straight to a store (a bucket): published once the pages are written."""
    report = add_files(store, files, provenance=provenance, replace=replace, clock=clock)
    for name in report.unchanged:
        logger.info("publish: %s is already in the index with the same bytes", name)
    return bool(report.added), None


def _publish(
    root: Path,
    files: Sequence[Path],
    provenance: Mapping[str, Any],
    *,
    source: str,
    checkout: SourceCheckout,
    replace: bool,
    commit: bool,
    runner: Runner,
    retry: RetryPolicy,
    clock: Clock,
) -> tuple[bool, str | None]:
    """Add the files to the index; commit and push when ROOT is in a git checkout."""

    def apply(_checkout: Path) -> str | None:
        try:
            report = add_files(
                LocalStore(root), files, provenance=provenance, replace=replace, clock=clock
            )
        except ConflictError as exc:
            raise ConflictError(
                exc.message,
                hint="a rebuild must not replace published bytes: set a version-template for this "
                "project in pkgindex.toml (e.g. '{version}+g{sha7}' or '43!{date}'), "
                "or pass --replace to replace it explicitly",
            ) from exc
        for name in report.unchanged:
            logger.info("publish: %s is already in the index with the same bytes", name)
        if not report.added:
            return None
        return f'updated dependency "{source}" at {checkout.commit}'

    toplevel = git_toplevel(root, runner=runner) if commit else None
    if toplevel is None:
        apply(root)
        return False, None
    relative = root.resolve().relative_to(toplevel.resolve())
    # stage only what the index owns for these files, never unrelated untracked files
    owned = {parse_filename(file.name).name for file in files} | {"index.html", "index.json"}
    paths = [(relative / name).as_posix() for name in sorted(owned)]
    result = commit_and_push(toplevel, apply, runner=runner, paths=paths, policy=retry)
    return result.pushed, result.commit


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoReport:
    root: Path
    origin: Path | None  # the bare repository the demo index was pushed to
    update: UpdateReport
    project: str

    @property
    def index_url(self) -> str:
        return self.root.resolve().as_uri() + "/"


def demo_home(environ: Mapping[str, str] | None = None) -> Path:
    """Where ``demo`` keeps its index: $XDG_CACHE_HOME/pkgindex/demo or ~/.cache/pkgindex/demo."""
    environ = os.environ if environ is None else environ
    cache = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "pkgindex" / "demo"


def demo(
    root: Path | None = None,
    *,
    stream: bool = False,
    clock: Clock | None = None,
    on_phase: Phase = no_phase,
) -> DemoReport:
    """Make a sample source repository and run the whole pull-mode pipeline into a local index.

    Without ``root`` the index is a new git checkout in :func:`demo_home` (replacing the previous
    demo's, so demos never pile up), with a bare repository beside it as its origin, so the
    commit and the push run too. The sample source lives in a temporary folder, removed at the end.
    """
    origin = None
    if root is None:
        home = demo_home()
        if home.exists():
            shutil.rmtree(home)
        root = home / "index"
        origin = home / "index-origin.git"
    else:
        check_index_root(root, allow_missing=True)
    with run_logs("demo") as log_dir, tempfile.TemporaryDirectory(prefix="pkgindex-demo-") as tmp:
        runner = Runner(log_dir=log_dir, stream=stream)
        on_phase("making the sample source repository")
        sources = Path(tmp) / "sources"
        source = write_sample_project(sources / "demo" / "hello")
        commit_all(source, "pkgindex-demo 1.0.0", runner=runner)
        tag(source, "v1.0.0", runner=runner)
        if origin is not None:
            init_index_repository(root, origin, runner=runner)
        else:
            root.mkdir(parents=True, exist_ok=True)
        logger.info("demo: sample source repository in %s", source)
        report = update(
            root,
            owner="demo",
            repo="hello",
            ref="v1.0.0",
            stream=stream,
            clock=clock,
            source_url=f"{sources.as_uri()}/{{owner}}/{{repo}}",
            on_phase=on_phase,
        )
    return DemoReport(root=root, origin=origin, update=report, project="pkgindex-demo")


def init_index_repository(root: Path, origin: Path, *, runner: Runner) -> None:
    """A new index checkout at ``root`` whose origin is a new bare repository at ``origin``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pkgindex.toml").write_text(
        'title = "pkgindex demo"\n\n[projects.pkgindex-demo]\nsource = "demo/hello"\n',
        encoding="utf-8",
    )
    for argv, cwd in (
        (["git", "init", "--quiet", "--bare", "--initial-branch=main", str(origin)], None),
        (["git", "init", "--quiet", "--initial-branch=main", str(root)], None),
        (["git", "remote", "add", "origin", origin.as_uri()], root),
    ):
        runner.check(
            argv, step="git-init", cwd=cwd, error=GitError, message="cannot create the demo index"
        )
    commit_all(root, "pkgindex demo index", runner=runner)
