"""Hypothesis strategies for PEP 440 versions whose string order disagrees with version order:
1.9 < 1.10, pre-releases before the release, post after, dev before everything, local versions,
epochs."""

from __future__ import annotations

from hypothesis import strategies as st
from packaging.version import Version


@st.composite
def versions(draw: st.DrawFn) -> str:
    """A canonical PEP 440 version string (``str(Version(...))``)."""
    epoch = draw(st.sampled_from(["", "", "", "1!", "2!"]))
    release = ".".join(str(n) for n in draw(st.lists(st.integers(0, 12), min_size=1, max_size=3)))
    pre = draw(st.sampled_from(["", "", "a1", "b2", "rc1", "rc10", "a10"]))
    post = draw(st.sampled_from(["", "", ".post1", ".post10"]))
    dev = draw(st.sampled_from(["", "", ".dev0", ".dev3"]))
    local = draw(st.sampled_from(["", "", "+cpu", "+cu121", "+g1a2b3c4", "+local.9", "+local.10"]))
    return str(Version(f"{epoch}{release}{pre}{post}{dev}{local}"))


def version_lists(min_size: int = 2, max_size: int = 8) -> st.SearchStrategy[list[str]]:
    """Distinct versions, in the order drawn (not sorted)."""
    return st.lists(versions(), min_size=min_size, max_size=max_size, unique=True)


# Fixed cases that string sorting gets wrong, checked on every run besides the drawn ones.
TRICKY = [
    "1.10", "1.9", "1.9.1", "1.10rc1", "1.10a1", "1.10.dev0", "1.10.post1",
    "1.10+cpu", "1.9+local.10", "1.9+local.9", "1!0.1", "2!0.0.1", "0.0.1",
]  # fmt: skip
