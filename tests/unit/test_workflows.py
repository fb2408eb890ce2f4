"""The workflow templates: pinned actions, no expressions in scripts, least privilege."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from ruamel.yaml import YAML  # comes with check-jsonschema (test extras); reads YAML 1.2

from pkgindex.errors import ConfigError
from pkgindex.github.workflows import ACTIONS, dependent_workflow, index_workflow

INDEX = "GridTools/python-pkg-index"
SHA_PIN = re.compile(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}")


def variants() -> dict[str, str]:
    return {
        "index": index_workflow(),
        "index-no-pages": index_workflow(deploy_pages=False),
        "pull": dependent_workflow(index_repo=INDEX, source_owner="GridTools", source_repo="dace"),
        "push": dependent_workflow(
            index_repo=INDEX, source_owner="GridTools", source_repo="dace", mode="push"
        ),
    }


def parse(text: str) -> dict[str, Any]:
    document = YAML(typ="safe", pure=True).load(text)
    assert isinstance(document, dict)
    return document


def steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


@pytest.mark.parametrize("name", list(variants()))
def test_no_expression_inside_any_run_block(name: str) -> None:
    for step in steps(parse(variants()[name])):
        assert "${{" not in step.get("run", ""), step


@pytest.mark.parametrize("name", list(variants()))
def test_every_action_is_pinned_to_a_full_sha_with_a_version_comment(name: str) -> None:
    text = variants()[name]
    uses = [step["uses"] for step in steps(parse(text)) if "uses" in step]
    assert uses
    for action in uses:
        assert SHA_PIN.fullmatch(action), action
        assert re.search(re.escape(action) + r" # v\d+\.\d+\.\d+\n", text), action


@pytest.mark.parametrize("name", list(variants()))
def test_permissions_are_empty_at_the_top_and_granted_per_job(name: str) -> None:
    document = parse(variants()[name])
    assert document["permissions"] == {}
    for job in document["jobs"].values():
        assert "permissions" in job
        granted = set((job["permissions"] or {}).items())
        assert granted <= {
            ("contents", "read"),
            ("contents", "write"),
            ("pages", "write"),
            ("id-token", "write"),
        }


# How many checkout steps each variant has: the pull variant checks nothing out (it only sends
# a dispatch), so that it has none is itself the guarantee.
CHECKOUTS = {"index": 2, "index-no-pages": 1, "pull": 0, "push": 1}


@pytest.mark.parametrize("name", list(variants()))
def test_checkout_never_persists_credentials(name: str) -> None:
    checkouts = [
        step
        for step in steps(parse(variants()[name]))
        if step.get("uses", "").startswith("actions/checkout@")
    ]
    assert len(checkouts) == CHECKOUTS[name]
    for step in checkouts:
        assert step["with"]["persist-credentials"] is False


SECRET = re.compile(r"\$\{\{\s*(secrets\.|github\.token)")
USES_A_TOKEN = re.compile(r"^pkgindex (update|publish|dispatch) ", re.MULTILINE)


@pytest.mark.parametrize("name", list(variants()))
def test_tokens_reach_only_the_step_that_needs_them(name: str) -> None:
    """A token is in the environment of exactly one step, the pkgindex command that pushes or
    dispatches; no script writes it anywhere (no credential config, no .netrc)."""
    holders = []
    for step in steps(parse(variants()[name])):
        env = step.get("env") or {}
        if any(SECRET.search(str(value)) for value in env.values()):
            holders.append(step)
            assert USES_A_TOKEN.search(step["run"]), step
        assert not re.search(r"credential|extraheader|netrc|insteadOf", step.get("run", ""))
    assert len(holders) == 1


def test_the_index_workflow_listens_for_dispatches_and_runs_update() -> None:
    document = parse(index_workflow())
    triggers = document["on"]
    assert triggers["repository_dispatch"] == {"types": ["update_package_index"]}
    assert set(triggers["workflow_dispatch"]["inputs"]) == {
        "source_repo",
        "source_org",
        "dependency_ref",
    }
    update = document["jobs"]["update"]
    assert update["permissions"] == {"contents": "write"}
    assert "github.workflow" in update["concurrency"]["group"]
    assert update["concurrency"]["cancel-in-progress"] is False
    [install] = [step for step in update["steps"] if step.get("name") == "Install pkgindex"]
    assert install["env"]["PKGINDEX_REQUIREMENT"] == "pkgindex==0.1.0"
    [run] = [step for step in update["steps"] if "pkgindex update" in step.get("run", "")]
    assert run["env"]["SOURCE_ORG"].startswith("${{ github.event.client_payload.source_org")
    assert '--ref "$DEPENDENCY_REF"' in run["run"]
    deploy = document["jobs"]["deploy"]
    assert deploy["needs"] == "update"
    assert "github.workflow" in deploy["concurrency"]["group"]
    assert deploy["environment"]["name"] == "github-pages"


def test_the_index_workflow_can_leave_out_pages() -> None:
    assert set(parse(index_workflow(deploy_pages=False))["jobs"]) == {"update"}


def test_the_pull_workflow_dispatches_the_tag_commit() -> None:
    text = dependent_workflow(
        index_repo=INDEX, source_owner="GridTools", source_repo="dace", tag_pattern="v*"
    )
    document = parse(text)
    assert document["on"]["push"] == {"tags": ["v*"]}
    [job] = document["jobs"].values()
    assert job["permissions"] == {}
    [send] = [step for step in job["steps"] if "pkgindex dispatch" in step.get("run", "")]
    assert send["env"]["PKG_UPDATE_TOKEN"] == "${{ secrets.PKG_UPDATE_TOKEN }}"
    assert send["env"]["DEPENDENCY_REF"] == "${{ inputs.ref || github.sha }}"
    assert send["env"]["INDEX_REPO"] == INDEX
    assert "exit 1" not in text


def test_the_push_workflow_builds_without_the_token_and_publishes_separately() -> None:
    document = parse(
        dependent_workflow(
            index_repo=INDEX, source_owner="GridTools", source_repo="dace", mode="push"
        )
    )
    build, publish = document["jobs"]["build"], document["jobs"]["publish"]
    assert "secrets." not in json.dumps(build)
    assert any("pkgindex build" in step.get("run", "") for step in build["steps"])
    assert publish["needs"] == "build"
    [push] = [step for step in publish["steps"] if "pkgindex publish" in step.get("run", "")]
    assert push["env"]["INDEX_URL_GIT"] == f"https://github.com/{INDEX}.git"
    assert push["env"]["GIT_CONFIG_KEY_0"] == "credential.https://github.com.helper"


def test_values_are_quoted_so_they_cannot_change_the_structure() -> None:
    pattern = "v*': injected\n  evil: \"x"
    document = parse(
        dependent_workflow(
            index_repo=INDEX, source_owner="o", source_repo="r", tag_pattern="v*\"'#"
        )
    )
    assert document["on"]["push"]["tags"] == ["v*\"'#"]
    with pytest.raises(ConfigError, match="--tag-pattern"):
        dependent_workflow(index_repo=INDEX, source_owner="o", source_repo="r", tag_pattern=pattern)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("index_repo", "no-slash"),
        ("index_repo", "a/b/c"),
        ("source_owner", "evil\nowner"),
        ("source_repo", "repo name"),
        ("source_repo", "${{ github.token }}"),
    ],
)
def test_bad_names_are_refused(field: str, value: str) -> None:
    arguments = {"index_repo": INDEX, "source_owner": "o", "source_repo": "r", field: value}
    with pytest.raises(ConfigError):
        dependent_workflow(**arguments)


def test_bad_branch_and_requirement_are_refused() -> None:
    with pytest.raises(ConfigError, match="--branch"):
        index_workflow(branch="main\nevil: x")
    with pytest.raises(ConfigError, match="requirement"):
        index_workflow(requirement="pkgindex\nrm -rf /")


def test_requirement_is_written_as_data() -> None:
    requirement = "pkgindex @ git+https://github.com/example/pkgindex@0123456789abcdef"
    [install] = [
        step
        for step in steps(parse(index_workflow(requirement=requirement)))
        if step.get("name") == "Install pkgindex"
    ]
    assert install["env"]["PKGINDEX_REQUIREMENT"] == requirement
    assert install["run"] == 'python -m pip install "$PKGINDEX_REQUIREMENT"'


def test_the_pinned_actions_table_is_well_formed() -> None:
    for action, version in ACTIONS.values():
        assert SHA_PIN.fullmatch(action)
        assert re.fullmatch(r"v\d+\.\d+\.\d+", version)


@pytest.mark.parametrize("branch", ["1.10", "true", "null", "0x10", "1e3", "no"])
def test_a_branch_stays_a_string_everywhere(branch: str) -> None:
    index = parse(index_workflow(branch=branch))
    assert index["on"]["push"]["branches"] == [branch]
    deploy = index["jobs"]["deploy"]["steps"][0]
    assert deploy["with"]["ref"] == branch
    push = parse(
        dependent_workflow(
            index_repo=INDEX, source_owner="o", source_repo="r", mode="push", branch=branch
        )
    )
    publish = [s for s in steps(push) if "INDEX_BRANCH" in s.get("env", {})]
    assert [s["env"]["INDEX_BRANCH"] for s in publish] == [branch]


def test_apt_packages_and_the_platform_extra_reach_the_index_workflow() -> None:
    document = parse(
        index_workflow(
            apt_packages=["libopenmpi-dev", "libboost-dev"],
            platform=True,
            requirement="pkgindex==1.2.3",
        )
    )
    update = document["jobs"]["update"]["steps"]
    names = [step["name"] for step in update]
    apt = names.index("Install the system packages the builds need")
    assert apt < names.index("Install pkgindex") < names.index("Update the index")
    assert update[apt]["env"]["APT_PACKAGES"] == "libopenmpi-dev libboost-dev"
    assert "$APT_PACKAGES" in update[apt]["run"]
    install = update[names.index("Install pkgindex")]
    assert install["env"]["PKGINDEX_REQUIREMENT"] == "pkgindex[platform]==1.2.3"


def test_without_build_needs_there_is_no_apt_step() -> None:
    names = [step["name"] for step in steps(parse(index_workflow()))]
    assert "Install the system packages the builds need" not in names


@pytest.mark.parametrize("package", ["libfoo; rm -rf /", "-y", "Lib Foo", "$(id)"])
def test_apt_package_names_are_validated(package: str) -> None:
    with pytest.raises(ConfigError, match="not Debian package names"):
        index_workflow(apt_packages=[package])
