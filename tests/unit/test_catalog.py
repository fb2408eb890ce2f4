"""Reading the catalog (the published JSON pages) back: what counts as damaged, and the defaults
for keys a page may leave out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from packaging.utils import NormalizedName

from pkgindex.errors import IntegrityError
from pkgindex.index.catalog import RootState, project_from_json, root_state

NAME = NormalizedName("dace")
ENTRY: dict[str, Any] = {
    "filename": "dace-1.0-py3-none-any.whl",
    "url": "dace-1.0-py3-none-any.whl",
    "hashes": {"sha256": "ab" * 32},
    "size": 10,
    "upload-time": "2025-01-02T03:04:05.000000Z",
}


def document(**changes: Any) -> bytes:
    entry = {**ENTRY, **changes}
    entry = {key: value for key, value in entry.items() if value is not None}
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "dace", "files": [entry]}).encode()


def damage(data: bytes) -> str:
    with pytest.raises(IntegrityError) as raised:
        project_from_json(data, name=NAME, origin="dace/index.json")
    assert raised.value.message.startswith("dace/index.json: the catalog page is damaged (")
    assert raised.value.hint is not None and "git checkout" in raised.value.hint
    return raised.value.message


def test_keys_a_page_may_leave_out_have_their_defaults() -> None:
    (file,) = project_from_json(document(), name=NAME, origin="x").files
    assert file.yanked is None  # no "yanked" key: not yanked
    assert file.requires_python is None and file.metadata_sha256 is None
    assert file.provenance is None and dict(file.extra) == {}


@pytest.mark.parametrize(("value", "expected"), [(False, None), (True, ""), ("bad", "bad")])
def test_yanked_values(value: object, expected: str | None) -> None:
    (file,) = project_from_json(document(yanked=value), name=NAME, origin="x").files
    assert file.yanked == expected


def test_private_data_is_split_into_provenance_and_the_rest() -> None:
    private = {"provenance": {"commit": "abc"}, "replaced": [{"sha256": "00"}]}
    data = document(**{"_pkgindex": private, "core-metadata": {"sha256": "cd" * 32}})
    (file,) = project_from_json(data, name=NAME, origin="x").files
    assert file.provenance == {"commit": "abc"}
    assert dict(file.extra) == {"replaced": [{"sha256": "00"}]}
    assert file.metadata_sha256 == "cd" * 32


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"filename": 7}, "(filename must be a string)"),
        ({"filename": "dace-1.0.txt"}, "dace-1.0.txt: not a distribution file"),
        ({"size": "ten"}, "invalid literal for int()"),
        ({"upload-time": "yesterday"}, "Invalid isoformat string"),
        ({"hashes": None}, "('hashes')"),
    ],
)
def test_a_damaged_entry_is_named(changes: dict[str, Any], why: str) -> None:
    assert why in damage(document(**changes))


def test_a_page_of_another_project_or_not_json_is_damaged() -> None:
    assert "it describes project 'ghex', not 'dace'" in damage(
        document().replace(b'"name": "dace"', b'"name": "ghex"')
    )
    damage(b"{not json")
    damage(b'{"name": "dace"}')


def test_a_damaged_root_page_is_as_good_as_none() -> None:
    assert root_state(b"{not json") == RootState()
    assert root_state(b'{"projects": [{"nom": "x"}]}') == RootState()
    state = root_state(b'{"projects": [{"name": "a"}], "_pkgindex": ["not", "a", "dict"]}')
    assert state == RootState(names=("a",))
    state = root_state(
        b'{"projects": [{"name": "a"}], "_pkgindex": {"format": 2, "fingerprints": {"a": "f"}}}'
    )
    assert state.names == ("a",) and state.fingerprints == {"a": "f"}
    assert RootState(private={"fingerprints": "nonsense"}).fingerprints == {}
