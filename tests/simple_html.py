"""Read a PEP 503 page back the way an installer does: every <a> with its attributes and text,
and every <meta>."""

from __future__ import annotations

from html.parser import HTMLParser

Attributes = dict[str, str | None]


class SimplePage(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[Attributes, str]] = []
        self.metas: list[Attributes] = []
        self._open: Attributes | None = None
        self._text: list[str] = []

    def meta(self, name: str) -> str | None:
        """The content of the first <meta name=NAME>."""
        return next((m.get("content") for m in self.metas if m.get("name") == name), None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open, self._text = dict(attrs), []
        elif tag == "meta":
            self.metas.append(dict(attrs))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.anchors.append((self._open, "".join(self._text)))
            self._open = None


def parse_page(page: bytes) -> SimplePage:
    parser = SimplePage()
    parser.feed(page.decode("utf-8"))
    parser.close()
    return parser
