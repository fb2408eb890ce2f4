"""Read a few fields of core metadata exactly as ``email``'s compat32 header parser does.

Core metadata (every Metadata-Version, 1.0 to 2.4) is a block of RFC 822 headers; packaging
and installers read it with ``email.parser`` and the compat32 policy. The index needs three
fields (Name, Version, Requires-Python) of every file a cold run reads, and the Requires-Dist
lines of each project's latest wheel (for its page); the stdlib parser builds a whole message
(every header, the body as lines) for them: about a fifth of the time spent on a small wheel.
This module walks the header block once and keeps the values of the wanted fields, following
``email.feedparser`` line by line:

- lines end at ``\\r\\n``, ``\\r`` or ``\\n``;
- the block ends at the first line that is empty or is not a header (a name of printable
  ASCII without ``:`` followed by ``:``), a continuation (starts with a space or tab) or
  ``From ``;
- a continuation line is appended to the previous header (with its line break), and ignored
  when there is none; ``From `` lines and lines starting with ``:`` end the previous header
  and are skipped;
- a value is what follows the first ``:``, spaces and tabs stripped on the left, line breaks
  on the right; a name is matched case-insensitively, as written (``Name :`` is another name).

``tests/unit/test_headers.py`` checks it against ``email.parser`` on generated input.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator

# a line of the header block, with its line break (none at the end of the text): ``From ``, a
# header (its name in group 1) or a continuation; any other line ends the block
_LINE = re.compile(r"(?:From |([\041-\071\073-\176]*):|[\t ])[^\r\n]*(?:\r\n|\r|\n)?")


def first_values(text: str, fields: Collection[str]) -> dict[str, str]:
    """The first value of each of ``fields`` (lower-case names) found in the header block."""
    found: dict[str, str] = {}
    for name, value in _headers(text):
        if name in fields and name not in found:
            found[name] = value
            if len(found) == len(fields):
                break  # later values are not first values
    return found


def all_values(text: str, field: str) -> list[str]:
    """Every value of ``field`` (a lower-case name) in the header block, in order, as
    ``email``'s ``get_all`` returns them (for values of ASCII text: compat32 turns a value
    holding undecodable bytes into a ``Header`` object instead)."""
    return [value for name, value in _headers(text) if name == field]


def _headers(text: str) -> Iterator[tuple[str, str]]:
    """(lower-case name, value) of every header of the block, in order."""
    current: str | None = None  # lower-case name of the header being read
    value: list[str] = []
    match = _LINE.match
    position, size = 0, len(text)
    while position < size and (found := match(text, position)) is not None:
        line, name, position = found[0], found[1], found.end()
        if line[0] in " \t":
            if current is not None:
                value.append(line)
            continue
        if current is not None:
            yield current, "".join(value).rstrip("\r\n")
            current = None
        if name:  # None for a "From " line, "" for one starting with ":"
            current, value = name.lower(), [line[len(name) + 1 :].lstrip(" \t")]
    if current is not None:
        yield current, "".join(value).rstrip("\r\n")
