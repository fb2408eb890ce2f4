"""Retention plans: what prune keeps and removes, and why (pure: no files, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from packaging.utils import NormalizedName
from packaging.version import Version

from pkgindex.index.model import IndexFile, Project
from pkgindex.index.prune import Retention, plan_project

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def project(*specs: str) -> Project:
    """Each spec is ``VERSION[:DAYS_OLD][:y]`` (y: yanked); one wheel per version."""
    files = []
    for spec in specs:
        version, _, rest = spec.partition(":")
        days, _, yanked = rest.partition(":")
        files.append(
            IndexFile(
                filename=f"nightly-{version}-py3-none-any.whl",
                version=str(Version(version)),
                sha256="0" * 64,
                size=10,
                upload_time=NOW - timedelta(days=int(days or 0)),
                yanked="broken" if yanked else None,
            )
        )
    return Project.from_files(NormalizedName("nightly"), files)


CASES = [
    # (id, versions, retention, versions kept)
    ("newest-n", ["1.0", "1.1", "1.2", "2.0"], Retention(keep=2), {"2.0", "1.2"}),
    (
        "epochs-beat-release-numbers",
        ["2026.4.1", "43!2026.1.1", "43!2026.2.1", "99.0"],
        Retention(keep=2),
        {"43!2026.2.1", "43!2026.1.1"},
    ),
    (
        "pre-releases-count-as-versions",
        ["1.0", "1.1.dev3", "1.1rc1", "1.1"],
        Retention(keep=2),
        {"1.1", "1.1rc1"},
    ),
    (
        "local-versions-sort-after-their-public-version",
        ["1.0", "1.0+cuda", "1.0+cpu", "0.9"],
        Retention(keep=2),
        {"1.0+cuda", "1.0+cpu"},
    ),
    (
        "pins-survive",
        ["43!2026.4.27", "43!2026.4.28", "43!2026.4.29", "43!2026.4.30"],
        Retention(keep=1, pins=("43!2026.4.27",)),
        {"43!2026.4.30", "43!2026.4.27"},
    ),
    (
        "pins-compare-as-versions",
        ["1.0", "1.1", "2.0"],
        Retention(keep=1, pins=("1.0.0",)),
        {"2.0", "1.0"},
    ),
    (
        "keep-pattern-on-versions",
        ["1.0", "1.1", "2.0", "2.1"],
        Retention(keep=1, keep_patterns=("1.*",)),
        {"2.1", "1.0", "1.1"},
    ),
    (
        "older-than-keeps-recent-uploads",
        ["1.0:40", "1.1:20", "1.2:10", "1.3:1"],
        Retention(keep=1, older_than=timedelta(days=30)),
        {"1.3", "1.2", "1.1"},
    ),
    (
        "never-only-yanked-files",
        ["1.0", "1.1", "2.0::y", "2.1::y"],
        Retention(keep=2),
        {"2.1", "2.0", "1.1"},
    ),
    (
        "yanked-old-versions-go-like-others",
        ["1.0::y", "1.1", "1.2"],
        Retention(keep=1),
        {"1.2"},
    ),
    ("nothing-to-do", ["1.0"], Retention(keep=3), {"1.0"}),
]


@pytest.mark.parametrize(
    ("versions", "rule", "kept"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_prune_keeps_exactly_what_it_promises(
    versions: list[str], rule: Retention, kept: set[str]
) -> None:
    plans = plan_project(project(*versions), rule, NOW)
    assert {plan.version for plan in plans if not plan.remove} == {str(Version(v)) for v in kept}
    # newest first, every version once
    ordered = [Version(plan.version) for plan in plans]
    assert ordered == sorted(ordered, reverse=True) and len(plans) == len(versions)


def test_every_decision_says_why() -> None:
    plans = plan_project(
        project("1.0:90", "1.1:90", "1.2:5", "1.3:90", "2.0:90:y", "2.1:90:y"),
        Retention(keep=1, older_than=timedelta(days=30), pins=("1.0",), keep_patterns=("1.3",)),
        NOW,
    )
    assert [(plan.version, plan.remove, plan.why) for plan in plans] == [
        ("2.1", False, "one of the newest 1"),
        ("2.0", True, "older than the newest 1, uploaded over 30 days ago"),
        ("1.3", False, "matches 1.3"),
        ("1.2", False, "uploaded in the last 30 days"),
        ("1.1", True, "older than the newest 1, uploaded over 30 days ago"),
        ("1.0", False, "pinned in pkgindex.toml"),
    ]
