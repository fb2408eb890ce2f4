"""What `pkgindex init` writes, as values (the disk side is in tests/integration)."""

from __future__ import annotations

import tomllib

import pytest

from pkgindex.config import config_from_mapping
from pkgindex.errors import ConfigError
from pkgindex.github.scaffold import (
    InitOptions,
    ProjectSource,
    render_config,
    render_readme,
    scaffold_files,
)
from pkgindex.github.workflows import INDEX_WORKFLOW_PATH


def options(**changes: object) -> InitOptions:
    values: dict[str, object] = {
        "title": 'GT4Py "custom" index',
        "url": "https://gridtools.github.io/python-pkg-index",
        "projects": (
            ProjectSource.from_argument("DaCe=GridTools/dace"),
            ProjectSource.from_argument("ghex=ghex-org/GHEX"),
        ),
    }
    return InitOptions(**{**values, **changes})  # type: ignore[arg-type]


def test_project_arguments_are_parsed_and_normalized() -> None:
    project = ProjectSource.from_argument("My_Package=Owner/my.repo")
    assert (project.name, project.source) == ("my-package", "Owner/my.repo")
    for bad in ("dace", "dace=GridTools", "=a/b", "da ce=a/b", "dace=a/b/c"):
        with pytest.raises(ConfigError):
            ProjectSource.from_argument(bad)


def test_the_config_loads_back_into_the_same_settings() -> None:
    config = config_from_mapping(tomllib.loads(render_config(options())))
    assert config.title == 'GT4Py "custom" index'
    assert config.url == "https://gridtools.github.io/python-pkg-index"
    assert {name: project.source for name, project in config.projects.items()} == {
        "dace": "GridTools/dace",
        "ghex": "ghex-org/GHEX",
    }


def test_the_readme_pins_each_project_to_an_explicit_uv_index() -> None:
    readme = render_readme(options())
    assert 'name = "gt4py-custom-index"' in readme
    assert 'url = "https://gridtools.github.io/python-pkg-index/"' in readme
    assert "explicit = true" in readme
    assert 'dace = { index = "gt4py-custom-index" }' in readme
    assert 'ghex = { index = "gt4py-custom-index" }' in readme
    assert (
        "pip install --extra-index-url https://gridtools.github.io/python-pkg-index/ dace" in readme
    )


def test_without_a_url_the_readme_says_what_to_fill_in() -> None:
    readme = render_readme(options(url=None))
    assert "https://OWNER.github.io/REPOSITORY/" in readme
    assert "--url URL --force" in readme


def test_the_scaffold_holds_every_file() -> None:
    files = scaffold_files(options())
    assert set(files) == {
        "pkgindex.toml", ".nojekyll", INDEX_WORKFLOW_PATH, "README.md",
        "dace/.gitkeep", "ghex/.gitkeep",
    }  # fmt: skip
    assert scaffold_files(options()) == files  # deterministic
