"""Fuzz targets: filenames, METADATA bytes, mutated wheels and sdists, catalog pages.

Each target feeds generated input to pkgindex's own parsers; only pkgindex's errors may come
out. ``tests/unit/test_fuzz.py`` runs them briefly on every test run; ``python -m tests.fuzz``
runs them for as long as asked.
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from packaging.utils import NormalizedName

from pkgindex.errors import PkgIndexError
from pkgindex.index.catalog import project_from_json, root_state
from pkgindex.index.distfile import (
    check_metadata,
    parse_filename,
    preference_conflict,
    read_metadata,
)
from pkgindex.index.html import render_project_html
from pkgindex.index.model import SiteInfo
from pkgindex.index.render import render_project_json
from tests import hostile

Target = Callable[[], None]

# --- filenames ------------------------------------------------------------------------------

_NAMES = st.sampled_from(["bad", "Bad_Pkg", "a.b-c", "x" * 240, "", "bäd", "1", "-", "_"])
_VERSIONS = st.sampled_from(
    [
        "1.0",
        "2.0.0",
        "1!2.0",
        "1.0+local.1",
        "1.0rc1",
        "1.0.post1.dev2",
        "9" * 300,
        "v1",
        "",
        "1.0a",
    ]
)
_BUILDS = st.sampled_from(["", "-1", "-2a", "-a", "-01", "-" + "9" * 50])
_TAGS = st.sampled_from(
    ["py3-none-any", "py2.py3-none-any", "cp312-cp312-linux_x86_64", "py3-none", "a-b-c-d", ""]
)
_SUFFIXES = st.sampled_from([".whl", ".tar.gz", ".zip", ".tar", ".whl.metadata", ""])


@st.composite
def filenames(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.text(max_size=300))
    name, version, build = draw(_NAMES), draw(_VERSIONS), draw(_BUILDS)
    suffix = draw(_SUFFIXES)
    if suffix == ".whl":
        return f"{name}-{version}{build}-{draw(_TAGS)}{suffix}"
    return f"{name}-{version}{suffix}"


def _parse(filename: str) -> None:
    try:
        parse_filename(filename)
    except PkgIndexError:
        return


@given(filenames(), filenames())
def fuzz_filenames(first: str, second: str) -> None:
    _parse(first)
    with contextlib.suppress(PkgIndexError):
        preference_conflict(first, second)


# --- METADATA bytes -------------------------------------------------------------------------

_HEADERS = st.sampled_from(["Name", "Version", "Requires-Python", "Metadata-Version", "X"])
_VALUES = st.one_of(
    st.sampled_from(["bad", "1.0", ">=3.8", "<script>", "=== 1", "bäd", "1.0\n continued"]),
    st.text(max_size=60),
)


@st.composite
def metadata_bytes(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 3)) == 0:
        return draw(st.binary(max_size=2000))
    lines = [
        f"{draw(_HEADERS)}: {draw(_VALUES)}" for _ in range(draw(st.integers(0, 6)))
    ]  # fmt: skip
    text = "\n".join(lines) + draw(st.sampled_from(["\n\nBody\n", "", "\r\n", "\n\n\xff"]))
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "utf-16"]))
    return text.encode(encoding, "surrogatepass" if encoding != "latin-1" else "replace")


@given(metadata_bytes())
def fuzz_metadata(data: bytes) -> None:
    for filename in ("bad-1.0-py3-none-any.whl", "bad-1.0.tar.gz"):
        with contextlib.suppress(PkgIndexError):
            check_metadata(parse_filename(filename), data)


# --- mutated archives -----------------------------------------------------------------------


def _seeds() -> list[hostile.Made]:
    zip_sdist = hostile.zip_bytes([("bad-1.0/PKG-INFO", hostile.metadata())])
    return [
        hostile.wheel(),
        hostile.wheel(compression=zipfile.ZIP_STORED),
        hostile.wheel(compression=zipfile.ZIP_LZMA),
        hostile.wheel(compression=zipfile.ZIP_BZIP2),
        hostile.sdist(),
        ("bad-1.0.zip", zip_sdist),
        *(make() for make in hostile.MALFORMED.values()),
        hostile.long_name(246),
    ]


_SEEDS = _seeds()


@st.composite
def mutated_archives(draw: st.DrawFn) -> hostile.Made:
    filename, data = draw(st.sampled_from(_SEEDS))
    buffer = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        if not buffer:
            break
        at = draw(st.integers(0, len(buffer) - 1))
        kind = draw(st.integers(0, 5))
        if kind == 0:  # flip one byte
            buffer[at] ^= draw(st.integers(1, 255))
        elif kind == 1:  # truncate
            del buffer[at:]
        elif kind == 2:  # insert bytes
            buffer[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == 3:  # overwrite with an interesting 16/32-bit value (sizes, counts, offsets)
            value = draw(st.sampled_from([0, 1, 0x7F, 0xFF, 0xFFFF, 0xFFFFFFFF, 0x80000000]))
            buffer[at : at + 4] = value.to_bytes(4, "little")
        elif kind == 4:  # delete a range
            del buffer[at : at + draw(st.integers(1, 64))]
        else:  # duplicate a range
            buffer[at:at] = buffer[at : at + draw(st.integers(1, 64))]
    return filename, bytes(buffer)


@given(mutated_archives())
def fuzz_archives(made: hostile.Made) -> None:
    filename, data = made
    dist = parse_filename(filename)
    try:
        metadata = read_metadata(io.BytesIO(data), dist)
        if metadata is not None:
            check_metadata(dist, metadata)
    except PkgIndexError:
        pass


# --- catalog pages --------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
_FIELDS = st.sampled_from(
    [
        "filename",
        "hashes",
        "size",
        "upload-time",
        "yanked",
        "core-metadata",
        "requires-python",
        "_pkgindex",
        "url",
    ]
)


@st.composite
def catalog_pages(draw: st.DrawFn) -> bytes:
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return draw(st.binary(max_size=500))
    if choice == 1:
        return json.dumps(draw(_JSON)).encode()
    page = hostile.catalog_page("bad", {draw(_FIELDS): draw(_JSON)})
    if choice == 2:
        return page
    at = draw(st.integers(0, len(page) - 1))
    return page[:at] + draw(st.binary(max_size=8)) + page[at + 1 :]


@given(catalog_pages())
def fuzz_catalog(page: bytes) -> None:
    assume(page)
    root_state(page)  # a damaged root page is ignored, never an error
    try:
        project = project_from_json(page, name=NormalizedName("bad"), origin="bad/index.json")
    except PkgIndexError:
        return
    html = render_project_html(project, SiteInfo(title="t")).decode()
    assert html.lower().count("<script") == 1  # only the page's own script
    render_project_json(project)


TARGETS: dict[str, Target] = {
    "filenames": fuzz_filenames,
    "metadata": fuzz_metadata,
    "archives": fuzz_archives,
    "catalog": fuzz_catalog,
}


def run(target: Target, examples: int, *, derandomize: bool = True) -> int:
    """Run one target for ``examples`` cases (no example database); return the cases run.

    ``derandomize`` makes the run the same every time (the test suite); the long run explores.
    """
    inner = target.hypothesis.inner_test  # type: ignore[attr-defined]
    cases = 0

    def counted(*args: Any, **kwargs: Any) -> None:
        nonlocal cases
        cases += 1
        inner(*args, **kwargs)

    configured: Any = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=derandomize,
        suppress_health_check=list(HealthCheck),
    )(target)
    configured.hypothesis.inner_test = counted
    try:
        configured()
    finally:
        configured.hypothesis.inner_test = inner
    return cases
