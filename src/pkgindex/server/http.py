"""Pure HTTP helpers: PEP 691 content negotiation, byte ranges, conditional requests.

Values in, values out: no sockets, no clock (tests pass header values as strings).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Literal

PageFormat = Literal["html", "json"]

TEXT_HTML = "text/html"
V1_HTML = "application/vnd.pypi.simple.v1+html"
V1_JSON = "application/vnd.pypi.simple.v1+json"
LATEST_HTML = "application/vnd.pypi.simple.latest+html"
LATEST_JSON = "application/vnd.pypi.simple.latest+json"

# What the server offers, in its order of preference when q-values tie (as PyPI: a browser or
# curl sending */* gets HTML; pip and uv name the JSON type with the highest q-value).
OFFERS: tuple[tuple[str, PageFormat, str], ...] = (
    (TEXT_HTML, "html", "text/html; charset=utf-8"),
    (V1_HTML, "html", V1_HTML),
    (V1_JSON, "json", V1_JSON),
)
_ALIASES = {LATEST_HTML: V1_HTML, LATEST_JSON: V1_JSON}


@dataclass(frozen=True, slots=True)
class Choice:
    """The representation negotiated: which page, and the Content-Type to send it with."""

    format: PageFormat
    content_type: str


def negotiate(accept: str | None, format_parameter: str | None = None) -> Choice | None:
    """The page format for an Accept header (PEP 691), or None if nothing offered is acceptable.

    ``?format=`` (PEP 691's URL parameter) wins over the header. No header means HTML.
    """
    if format_parameter is not None:
        accept = format_parameter
    if accept is None or not accept.strip():
        return Choice("html", OFFERS[0][2])
    ranges = _parse_accept(accept)
    best: tuple[float, int] | None = None
    chosen: Choice | None = None
    for preference, (media_type, page_format, content_type) in enumerate(OFFERS):
        quality = _quality(ranges, media_type)
        if quality <= 0:
            continue
        key = (quality, -preference)
        if best is None or key > best:
            best, chosen = key, Choice(page_format, content_type)
    return chosen


def _parse_accept(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for item in accept.split(","):
        media_type, *parameters = (part.strip() for part in item.split(";"))
        if not media_type:
            continue
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        media_type = media_type.lower()
        ranges.append((_ALIASES.get(media_type, media_type), quality))
    return ranges


def _quality(ranges: list[tuple[str, float]], media_type: str) -> float:
    """The q-value of the most specific range matching ``media_type`` (RFC 9110 12.5.1)."""
    kind = media_type.split("/")[0]
    best_specificity, quality = -1, 0.0
    for candidate, value in ranges:
        if candidate == media_type:
            specificity = 2
        elif candidate == f"{kind}/*":
            specificity = 1
        elif candidate == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best_specificity:
            best_specificity, quality = specificity, value
    return quality


# --- byte ranges ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class UnsatisfiableRange(Exception):
    """A Range header none of whose ranges lies inside the file (416)."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """One byte range from a Range header, or None to send the whole file.

    Only single ranges are served (what uv and pip ask for); a multi-range or malformed header
    is ignored, as RFC 9110 allows. A range starting past the end raises UnsatisfiableRange.
    """
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if not first:  # suffix range: the last N bytes
            count = int(last)
            if count <= 0:
                raise UnsatisfiableRange(header)
            return ByteRange(max(size - count, 0), size - 1) if size else None
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start < 0 or (last and end < start):
        return None
    if start >= size:
        raise UnsatisfiableRange(header)
    return ByteRange(start, min(end, size - 1))


# --- conditional requests -------------------------------------------------------------------


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def not_modified(
    *, if_none_match: str | None, if_modified_since: str | None, etag: str, modified: datetime
) -> bool:
    """True if a GET may be answered 304 (If-None-Match wins over If-Modified-Since)."""
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if if_modified_since is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return modified.replace(microsecond=0) <= since
    return False


def range_applies(if_range: str | None, etag: str) -> bool:
    """If-Range: serve the range only if the client's copy is still current (by ETag)."""
    return if_range is None or if_range.strip() == etag
