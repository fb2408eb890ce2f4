"""``pkgindex demo``: a sample source repository run through the whole pull-mode pipeline."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pkgindex.errors import GitError
from pkgindex.process import Runner
from pkgindex.pull.sample import commit_all, tag, write_sample_project
from pkgindex.pull.update import Clock, UpdateReport, update

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoReport:
    root: Path
    origin: Path | None  # the bare repository the demo index was pushed to
    update: UpdateReport
    project: str

    @property
    def index_url(self) -> str:
        return self.root.resolve().as_uri() + "/"


def demo(
    root: Path | None = None, *, stream: bool = False, clock: Clock | None = None
) -> DemoReport:
    """Make a sample source repository and run the whole pull-mode pipeline into a local index.

    Without ``root`` the index is a new git checkout in a temporary folder, with a bare
    repository as its origin, so the commit and the push run too.
    """
    base = Path(tempfile.mkdtemp(prefix="pkgindex-demo-"))
    runner = Runner(log_dir=base / "logs", stream=stream)
    source = write_sample_project(base / "sources" / "demo" / "hello")
    commit_all(source, "pkgindex-demo 1.0.0", runner=runner)
    tag(source, "v1.0.0", runner=runner)
    origin = None
    if root is None:
        root = base / "index"
        origin = base / "index-origin.git"
        init_index_repository(root, origin, runner=runner)
    logger.info("demo: sample source repository in %s", source)
    report = update(
        root,
        owner="demo",
        repo="hello",
        ref="v1.0.0",
        stream=stream,
        clock=clock,
        source_url=f"{(base / 'sources').as_uri()}/{{owner}}/{{repo}}",
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
