"""One way to keep secrets out of output: URLs without credentials, tokens replaced by ``***``.

Every path that prints, logs, records or raises text that may hold a secret goes through
:class:`Redactor` (subprocess output and logs, error messages, provenance, ``--json`` documents,
HTTP headers such as a redirect's ``Location``). It removes two kinds of secret:

- the user information of **any** URL in the text (``https://user:pass@host/`` becomes
  ``https://***@host/``), whoever the user is: a user name is not a secret by itself, so it is
  hidden where it sits in a URL, never searched for elsewhere (a short user name such as ``ci``
  would otherwise be starred out of every word that contains it);
- the values it was given (tokens, the password of a clone URL), everywhere they occur, in every
  spelling a tool may print: as given, percent-decoded and percent-encoded. Values shorter than
  :data:`MIN_SECRET_LENGTH` are only hidden inside URLs, for the same reason as user names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

MIN_SECRET_LENGTH = 6
MASK = "***"
# Environment variables whose values are credentials pkgindex itself may hold.
SECRET_VARIABLES = ("INDEX_PUSH_TOKEN", "GITHUB_TOKEN", "PKG_UPDATE_TOKEN", "GH_TOKEN")

# scheme://userinfo@ — userinfo stops at '/', '@', whitespace and quotes, as in RFC 3986.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s\"'<>]+@")


def redact_url(url: str) -> str:
    """``url`` without a user name or password: safe to log, print and publish."""
    try:
        parts = urlsplit(url)
        hostname, port = parts.hostname, parts.port
    except ValueError:
        return scrub_urls(url)
    if "@" not in parts.netloc:
        return url
    host = hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return urlunsplit(parts._replace(netloc=netloc))


def scrub_urls(text: str) -> str:
    """``text`` with the user information of every URL in it replaced by ``***``."""
    return _USERINFO.sub(rf"\g<scheme>{MASK}@", text)


def url_secrets(url: str) -> tuple[str, ...]:
    """The password of ``url`` (or a lone user name, which is then a token) in every spelling."""
    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:
        return ()
    secret = password if password is not None else user
    return spellings(secret) if secret else ()


def spellings(secret: str) -> tuple[str, ...]:
    """``secret`` as given, percent-decoded and percent-encoded (each once)."""
    decoded = unquote(secret)
    forms = dict.fromkeys((secret, decoded, quote(decoded, safe=""), quote(decoded)))
    return tuple(form for form in forms if form)


def environment_secrets(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The values of the credential variables set in ``environ``."""
    values: list[str] = []
    for name in SECRET_VARIABLES:
        if value := environ.get(name, "").strip():
            values += spellings(value)
    return tuple(values)


@dataclass(frozen=True, slots=True)
class Redactor:
    """Scrubs URL credentials and the given secrets out of text."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def for_values(cls, values: Iterable[str], *, min_length: int = MIN_SECRET_LENGTH) -> Redactor:
        """Secrets in every spelling; those shorter than ``min_length`` only inside URLs."""
        forms = {form for value in values if value for form in spellings(value)}
        kept = sorted((s for s in forms if len(s) >= min_length), key=len, reverse=True)
        return cls(tuple(kept))

    def with_secrets(self, values: Iterable[str]) -> Redactor:
        return Redactor.for_values((*self.secrets, *values))

    def scrub(self, text: str) -> str:
        text = scrub_urls(text)
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


def redactor_for(*, urls: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> Redactor:
    """A Redactor for the credentials of ``urls`` and the credential variables of ``environ``."""
    values = [secret for url in urls for secret in url_secrets(url)]
    if environ is not None:
        values += environment_secrets(environ)
    return Redactor.for_values(values)
