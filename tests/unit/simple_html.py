"""Read a PEP 503 page back the way an installer does: every <a> with its attributes."""

from __future__ import annotations

from html.parser import HTMLParser


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self.meta: dict[str, str] = {}
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open, self._text = dict(attrs), []
        elif tag == "meta":
            values = dict(attrs)
            if values.get("name"):
                self.meta[str(values["name"])] = str(values.get("content"))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.anchors.append((self._open, "".join(self._text)))
            self._open = None


def parse_anchors(page: bytes) -> tuple[list[tuple[dict[str, str | None], str]], dict[str, str]]:
    parser = _Anchors()
    parser.feed(page.decode("utf-8"))
    parser.close()
    return parser.anchors, parser.meta
