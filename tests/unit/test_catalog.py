"""Reading the catalog (the published JSON pages) back: what counts as damaged, and the defaults
for keys a page may leave out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from packaging.utils import NormalizedName

from pkgindex.errors import IntegrityError
from pkgindex.index import catalog
from pkgindex.index.catalog import (
    MAX_CATALOG_SIZE,
    MAX_DEPTH,
    RootState,
    project_from_json,
    root_state,
)
from pkgindex.index.model import ProjectSummary

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
        ({"filename": 7}, "('filename' must be a JSON string)"),
        ({"filename": "dace-1.0.txt"}, "dace-1.0.txt: not a distribution file"),
        ({"size": "ten"}, "(dace-1.0-py3-none-any.whl: size 'ten' is not a whole number of bytes)"),
        ({"size": -1}, "size -1 is not a whole number of bytes"),
        ({"size": True}, "size True is not a whole number of bytes"),
        ({"upload-time": "yesterday"}, "Invalid isoformat string"),
        ({"upload-time": 5}, "('upload-time' must be a JSON string)"),
        ({"hashes": None}, "('hashes' must be a JSON object)"),
        ({"hashes": {"sha256": "AB" * 32}}, "hashes sha256 'ABAB"),
        ({"hashes": {"sha256": "ab" * 31}}, "is not 64 hex digits"),
        ({"_pkgindex": [1]}, "('_pkgindex' must be a JSON object)"),
        ({"_pkgindex": {"provenance": "x"}}, "provenance must be an object"),
        ({"yanked": 5}, "'yanked' must be true, false or a reason"),
        ({"core-metadata": "ab"}, "'core-metadata' must be an object with a sha256"),
        ({"core-metadata": {"sha256": "x"}}, "core-metadata sha256 'x' is not 64 hex digits"),
        ({"requires-python": 3}, "'requires-python' must be a string"),
        ({"requires-python": "three"}, "Invalid specifier: 'three'"),
    ],
)
def test_a_damaged_entry_is_named(changes: dict[str, Any], why: str) -> None:
    assert why in damage(document(**changes))


def test_a_page_of_another_project_or_not_json_is_damaged() -> None:
    assert "it describes project 'ghex', not 'dace'" in damage(
        document().replace(b'"name": "dace"', b'"name": "ghex"')
    )
    assert "(it describes project None, not 'dace')" in damage(b"[1, 2]")
    assert "Expecting property name" in damage(b"{not json")
    assert "(missing 'files')" in damage(b'{"name": "dace"}')
    assert "('files' must be a list)" in damage(b'{"name": "dace", "files": {}}')


def page_with(**keys: Any) -> bytes:
    return json.dumps({"name": "dace", "files": [ENTRY], **keys}).encode()


@pytest.mark.parametrize(
    ("keys", "why"),
    [
        ({"project-status": "archived"}, "('project-status' must be an object)"),
        ({"project-status": {"status": "gone"}}, "(unknown project status 'gone')"),
        ({"project-status": {}}, "(unknown project status None)"),
        ({"project-status": {"status": "archived", "reason": 5}}, "('reason' must be a string)"),
        ({"_pkgindex": {"removed": ["dace-0.9.tar.gz"]}}, "(a removed file must be an object)"),
        ({"_pkgindex": {"removed": {}}}, "('removed' must be a list)"),
        ({"_pkgindex": {"withheld": [7]}}, "'int' object has no attribute 'get'"),
        ({"_pkgindex": {"removed": [{"filename": "dace-0.9.tar.gz", "sha256": "ab" * 32}]}},
         "('removed-at' must be a JSON string)"),
        ({"_pkgindex": {"removed": [{"filename": "dace-0.9.tar.gz", "sha256": "x",
                                     "removed-at": "2025-01-02T03:04:05.000000Z"}]}},
         "(dace-0.9.tar.gz: removed sha256 'x' is not 64 hex digits)"),
    ],
)  # fmt: skip
def test_a_damaged_status_or_private_list_is_named(keys: dict[str, Any], why: str) -> None:
    assert why in damage(page_with(**keys))


def test_status_and_tombstones_are_read_back() -> None:
    removed = {
        "filename": "dace-0.9.tar.gz",
        "sha256": "cd" * 32,
        "removed-at": "2025-01-02T03:04:05.000000Z",
        "reason": "leak",
    }
    project = project_from_json(
        page_with(**{"project-status": {"status": "archived", "reason": "done"},
                     "_pkgindex": {"removed": [removed, {**removed, "reason": None}]}}),
        name=NAME,
        origin="x",
    )  # fmt: skip
    assert project.status is not None and project.status.status == "archived"
    assert project.status.reason == "done"
    assert [(t.filename, t.sha256, t.reason) for t in project.removed] == [
        ("dace-0.9.tar.gz", "cd" * 32, "leak"),
        ("dace-0.9.tar.gz", "cd" * 32, None),
    ]
    assert project.removed[0].removed_at.isoformat() == "2025-01-02T03:04:05+00:00"


def test_a_size_is_any_whole_number_of_bytes() -> None:
    for size in (0, 1, 2**40):
        (file,) = project_from_json(document(size=size), name=NAME, origin="x").files
        assert file.size == size


def test_a_long_reason_is_cut_at_200_characters() -> None:
    name = "x" * 300
    why = f"it describes project {name!r}, not 'dace'"
    message = damage(document().replace(b'"name": "dace"', f'"name": "{name}"'.encode()))
    assert message == f"dace/index.json: the catalog page is damaged ({why[:200]})"


def test_false_core_metadata_means_none() -> None:
    (file,) = project_from_json(document(**{"core-metadata": False}), name=NAME, origin="x").files
    assert file.metadata_sha256 is None


def nested(depth: int) -> bytes:
    """A catalog page whose private data makes the whole document ``depth`` levels deep."""
    value: Any = "leaf"
    for _ in range(depth - 4):  # the document, files, the entry and _pkgindex: 4 levels
        value = {"x": value}
    return document(_pkgindex={"deep": value})


def test_nesting_is_limited() -> None:
    assert MAX_DEPTH == 16
    project_from_json(nested(MAX_DEPTH), name=NAME, origin="x")
    assert f"(nested more than {MAX_DEPTH} levels deep)" in damage(nested(MAX_DEPTH + 1))
    deep = b"[" * 100_000 + b"]" * 100_000  # deeper than the parser's own recursion limit
    assert f"(nested more than {MAX_DEPTH} levels deep)" in damage(deep)
    # within the parser's limit, but the depth is counted no further than the limit
    assert f"(nested more than {MAX_DEPTH} levels deep)" in damage(b"[" * 600 + b"]" * 600)
    assert root_state(b'{"projects": [], "x": ' + b"[" * 20 + b"]" * 20 + b"}") == RootState()


def test_size_is_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    assert MAX_CATALOG_SIZE == 64 << 20
    data = document()
    monkeypatch.setattr(catalog, "MAX_CATALOG_SIZE", len(data))
    project_from_json(data, name=NAME, origin="x")
    monkeypatch.setattr(catalog, "MAX_CATALOG_SIZE", len(data) - 1)
    assert f"({len(data)} bytes, more than the limit of {len(data) - 1})" in damage(data)


def test_a_damaged_root_page_is_as_good_as_none() -> None:
    assert root_state(b"{not json") == RootState()
    assert root_state(b'{"projects": [{"nom": "x"}]}') == RootState()
    assert root_state(b'{"projects": [{"name": "Not_Normal"}]}') == RootState()
    assert root_state(b'{"projects": [{"name": 5}]}') == RootState()
    assert root_state(b"{}", etags={"index.json": "e"}) == RootState(etags={"index.json": "e"})
    state = root_state(b'{"projects": [{"name": "a"}], "_pkgindex": ["not", "a", "dict"]}')
    assert state == RootState(names=("a",))
    state = root_state(
        b'{"projects": [{"name": "a"}], "_pkgindex": {"format": 2, "fingerprints": {"a": "f"}}}'
    )
    assert state.names == ("a",) and state.fingerprints == {"a": "f"}
    assert RootState(private={"fingerprints": "nonsense"}).fingerprints == {}


def test_damaged_summaries_in_the_root_state_are_left_out() -> None:
    state = RootState(
        private={
            "summaries": {
                "a": {"version": "1.0", "files": 2, "requires": ["b"]},
                "b": {"version": "1.0"},
                "c": "not an object",
                "d": {"files": 1, "status": "gone"},
                "e": {"files": 0},
            }
        }
    )
    assert list(state.summaries) == ["a", "e"]
    assert state.summaries["a"].requires == ("b",) and state.summaries["a"].files == 2
    assert RootState(private={"summaries": ["a"]}).summaries == {}


def test_summaries_are_read_once_and_do_not_change_equality() -> None:
    data = (
        b'{"projects": [{"name": "a"}], "_pkgindex": {"summaries": {"a": {"version": "1", '
        b'"files": 1}}}}'
    )
    state, other = root_state(data), root_state(data)
    first = state.summaries
    assert state.summaries is first  # cached, not parsed again
    assert dict(first) == {"a": ProjectSummary(name=NormalizedName("a"), version="1", files=1)}
    assert state == other  # whether or not its summaries were read
