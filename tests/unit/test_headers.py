"""headers.first_values and pages.requires_dist read what email's compat32 parser reads."""

from __future__ import annotations

from email.parser import BytesHeaderParser, HeaderParser
from email.policy import compat32

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pkgindex.index.headers import all_values, first_values
from pkgindex.index.pages import requires_dist

FIELDS = ("name", "version", "requires-python")
_NAMES = st.sampled_from(
    ["Name", "name", "NAME", "Version", "Requires-Python", "Metadata-Version", "X", "Name ",
     "From", "", " Name", "\tVersion", "Ver sion", "Nämé", "Requires-Dist", "requires-dist",
     "Requires-Dist "]
)  # fmt: skip
_VALUES = st.one_of(
    st.sampled_from(["demo", " 1.0 ", ">=3.8", "", "a:b", "\t2.0"]),
    st.text(alphabet=st.sampled_from("ab1.: \t\r\n\x0b\x0c\x1c\x85\u2028é"), max_size=12),
)
_ENDS = st.sampled_from(["\n", "\r\n", "\r", "\x0b", "\u2028", ""])


def stdlib(text: str) -> dict[str, str]:
    message = HeaderParser(policy=compat32).parsestr(text)
    return {field: str(value) for field in FIELDS if (value := message.get(field)) is not None}


@st.composite
def header_blocks(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            odd = [" continued", "\tmore", "From x", "", ":v", "junk"]
            lines.append(draw(st.sampled_from(odd)))
        else:
            lines.append(f"{draw(_NAMES)}:{draw(_VALUES)}")
    ends = [draw(_ENDS) for _ in lines]
    text = "".join(line + end for line, end in zip(lines, ends, strict=True))
    return text + draw(st.sampled_from(["", "\n", "\nName: body\n", "\r\n\r\nVersion: 9\n"]))


@settings(max_examples=400, derandomize=True, deadline=None)
@given(header_blocks())
def test_same_fields_as_email_parser(text: str) -> None:
    assert first_values(text, FIELDS) == stdlib(text)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(max_size=300))
def test_same_fields_as_email_parser_on_any_text(text: str) -> None:
    assert first_values(text, FIELDS) == stdlib(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Metadata-Version: 1.0\nName: demo\nVersion: 1.0\n\nName: body",
         {"name": "demo", "version": "1.0"}),
        ("Name: a\nName: b\n", {"name": "a"}),
        ("From me\nName: a\n continued\r\n", {"name": "a\n continued"}),
        ("NAME:\t b \nName: a\nName : c\nVersion: 1\n", {"name": "b "}),
        ("X: y\nbroken line\nName: a\n", {}),
        (" lead\nRequires-Python: >=3.8\r", {"requires-python": ">=3.8"}),
    ],
)  # fmt: skip
def test_known_blocks(text: str, expected: dict[str, str]) -> None:
    assert first_values(text, FIELDS) == expected == stdlib(text)


def stdlib_requires(data: bytes) -> list[str]:
    message = BytesHeaderParser(policy=compat32).parsebytes(data)
    return [str(value) for value in message.get_all("Requires-Dist", [])]


@settings(max_examples=400, derandomize=True, deadline=None)
@given(header_blocks(), st.sampled_from(["utf-8", "latin-1"]))
def test_same_requires_dist_as_email_parser(text: str, encoding: str) -> None:
    data = text.encode(encoding, "replace")
    assert requires_dist(data) == stdlib_requires(data)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.binary(max_size=300))
def test_same_requires_dist_as_email_parser_on_any_bytes(data: bytes) -> None:
    assert requires_dist(data) == stdlib_requires(data)


def test_requires_dist_values_in_order() -> None:
    text = (
        "Requires-Dist: a>=1\r\nrequires-dist: b\r\n  ; extra == 'x'\nSummary: s\n"
        "REQUIRES-DIST:\tc \n\nRequires-Dist: body\n"
    )
    expected = ["a>=1", "b\r\n  ; extra == 'x'", "c "]
    assert all_values(text, "requires-dist") == expected
    assert requires_dist(text.encode()) == expected == stdlib_requires(text.encode())
    caf = "Requires-Dist: x @ https://example.org/café\n".encode()
    assert requires_dist(caf) == stdlib_requires(caf) == ["x @ https://example.org/caf��"]
