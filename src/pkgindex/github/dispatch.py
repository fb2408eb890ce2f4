"""The GitHub REST API client pkgindex needs: send a ``repository_dispatch`` event.

A dependent repository (or a person) tells the index repository that ``OWNER/REPO`` has a new
version at a ref; the index's workflow then runs ``pkgindex update``. The request is::

    POST {api_url}/repos/{index_repo}/dispatches
    {"event_type": "update_package_index",
     "client_payload": {"source_repo": R, "source_org": O, "dependency_ref": REF}}

GitHub answers 204 No Content. The token is read from a file or the environment, kept in a
:class:`Token` whose ``repr`` hides it, sent only in the ``Authorization`` header, never logged and
scrubbed from every message we raise. Redirects are not followed (urllib would forward the
``Authorization`` header to wherever they point); 5xx and 429 answers are retried with backoff.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Final, TypedDict

from pkgindex import __version__
from pkgindex.errors import ConfigError, UploadError
from pkgindex.redact import Redactor, scrub_urls

logger = logging.getLogger(__name__)

EVENT_TYPE: Final = "update_package_index"
DEFAULT_API_URL: Final = "https://api.github.com"
API_VERSION: Final = "2022-11-28"
TOKEN_VARIABLES: Final = ("PKG_UPDATE_TOKEN", "GITHUB_TOKEN")
MAX_PAYLOAD_CHARS: Final = 65_535
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_OWNER = re.compile(r"[A-Za-z0-9_.-]+")
_PERMISSION_HINT: Final = (
    "a fine-grained token needs 'Contents: Read and write' (and 'Metadata: Read') on {repo}; "
    "a classic token needs the 'repo' scope"
)


class Token:
    """A secret that does not show itself: ``str()``/``repr()`` print ``***``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def scrub(self, text: str) -> str:
        """TEXT without the token (in any spelling) or any URL's credentials."""
        return Redactor.for_values([self._value], min_length=1).scrub(text)

    def __repr__(self) -> str:
        return "Token('***')"

    __str__ = __repr__


class ClientPayload(TypedDict):
    source_repo: str
    source_org: str
    dependency_ref: str


class DispatchBody(TypedDict):
    event_type: str
    client_payload: ClientPayload


@dataclass(frozen=True, slots=True, kw_only=True)
class DispatchRequest:
    """What to tell the index: REPO of OWNER has something new at REF."""

    index_repo: str
    source_owner: str
    source_repo: str
    ref: str
    event_type: str = EVENT_TYPE

    def body(self) -> DispatchBody:
        payload = ClientPayload(
            source_repo=self.source_repo, source_org=self.source_owner, dependency_ref=self.ref
        )
        return DispatchBody(event_type=self.event_type, client_payload=payload)


@dataclass(frozen=True, slots=True, kw_only=True)
class DispatchResult:
    url: str
    status: int
    attempts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes


Send = Callable[[urllib.request.Request, float], Response]


def read_token(*, token_file: Path | None, environ: Mapping[str, str]) -> Token:
    """The token from TOKEN_FILE, else $PKG_UPDATE_TOKEN, else $GITHUB_TOKEN."""
    if token_file is not None:
        try:
            value = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{token_file}: cannot read the token file: {exc.strerror}") from exc
        if not value:
            raise ConfigError(f"{token_file}: the token file is empty")
        return Token(value)
    for name in TOKEN_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return Token(value)
    raise ConfigError(
        "no GitHub token: pass --token-file FILE or set PKG_UPDATE_TOKEN (or GITHUB_TOKEN)",
        hint="create a token that can write to the index repository; see docs/github.md",
    )


def check_request(request: DispatchRequest) -> None:
    """Report every problem with REQUEST at once, before anything is sent."""
    problems: list[str] = []
    if not _REPOSITORY.fullmatch(request.index_repo):
        problems.append(f"--index-repo {request.index_repo!r} is not OWNER/NAME")
    if not _OWNER.fullmatch(request.source_owner):
        problems.append(f"--source-owner {request.source_owner!r} is not a GitHub user or org")
    if not _OWNER.fullmatch(request.source_repo):
        problems.append(f"--source-repo {request.source_repo!r} is not a repository name")
    if (
        not request.ref.strip()
        or request.ref.startswith("-")
        or any(c.isspace() for c in request.ref)
    ):
        problems.append(f"--ref {request.ref!r} is not a branch, tag or commit")
    if not 1 <= len(request.event_type) <= 100:
        problems.append("the event type must be 1 to 100 characters")
    if len(json.dumps(request.body())) > MAX_PAYLOAD_CHARS:
        problems.append(f"the request is larger than GitHub's {MAX_PAYLOAD_CHARS} characters")
    if problems:
        raise ConfigError("; ".join(problems))


def dispatch_url(api_url: str, index_repo: str) -> str:
    """The dispatch endpoint; refuses to send a token over plain http except to loopback."""
    parsed = urllib.parse.urlsplit(api_url)
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        raise ConfigError(f"--api-url {scrub_urls(api_url)!r} is not an http(s) URL")
    if parsed.scheme == "http" and not _is_loopback(parsed.hostname):
        raise ConfigError(
            f"--api-url {scrub_urls(api_url)}: refusing to send the token over plain http",
            hint="use https (GitHub Enterprise: https://HOST/api/v3)",
        )
    return f"{api_url.rstrip('/')}/repos/{index_repo}/dispatches"


def dispatch(
    request: DispatchRequest,
    *,
    token: Token,
    api_url: str = DEFAULT_API_URL,
    attempts: int = 4,
    timeout: float = 30.0,
    send: Send | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DispatchResult:
    """POST a repository_dispatch event; retry 5xx/429; raise UploadError with a remedy."""
    check_request(request)
    url = dispatch_url(api_url, request.index_repo)
    data = json.dumps(request.body()).encode()
    http_request = urllib.request.Request(url, data=data, method="POST", headers=_headers(token))
    transport = send or send_without_redirects
    for attempt in range(1, attempts + 1):
        logger.debug("POST %s (attempt %d of %d)", scrub_urls(url), attempt, attempts)
        response = _send(transport, http_request, timeout, url, token)
        if response.status == 204:
            logger.info("dispatched %s to %s", request.event_type, request.index_repo)
            return DispatchResult(url=url, status=response.status, attempts=attempt)
        if not _retryable(response) or attempt == attempts:
            raise _error_for(response, request, url, token, attempt)
        delay = _retry_delay(response, attempt)
        logger.warning("GitHub answered %d; retrying in %.0f s", response.status, delay)
        sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def send_without_redirects(request: urllib.request.Request, timeout: float) -> Response:
    """Send REQUEST with urllib; any status (also 3xx) comes back as a Response."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as answer:
            return Response(
                status=answer.status, headers=_header_map(answer.headers), body=answer.read()
            )
    except urllib.error.HTTPError as exc:
        with exc:
            return Response(status=exc.code, headers=_header_map(exc.headers), body=exc.read())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _send(
    transport: Send, request: urllib.request.Request, timeout: float, url: str, token: Token
) -> Response:
    try:
        return transport(request, timeout)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UploadError(
            token.scrub(f"cannot reach the GitHub API at {url}: {reason}"),
            hint="check the network connection and --api-url (GitHub Enterprise: https://HOST/api/v3)",
        ) from exc


def _headers(token: Token) -> dict[str, str]:
    return {
        "Accept": "application/vnd.github+json",
        "Authorization": f"Bearer {token.reveal()}",
        "X-GitHub-Api-Version": API_VERSION,
        "Content-Type": "application/json",
        "User-Agent": f"pkgindex/{__version__}",
    }


def _retryable(response: Response) -> bool:
    return response.status >= 500 or response.status == 429


def _retry_delay(response: Response, attempt: int) -> float:
    retry_after = response.headers.get("retry-after", "")
    if retry_after.isdigit():
        return min(float(retry_after), 60.0)
    return float(2 ** (attempt - 1))


def _error_for(
    response: Response, request: DispatchRequest, url: str, token: Token, attempt: int
) -> UploadError:
    repo = request.index_repo
    said = token.scrub(_github_message(response.body))
    detail = f": {said}" if said else ""
    status = response.status
    if status == 401:
        return UploadError(
            f"GitHub rejected the token for {repo} (401){detail}",
            hint="the token is wrong, expired or revoked: create a new one and store it as "
            "PKG_UPDATE_TOKEN (or pass --token-file)",
        )
    if status == 403 and response.headers.get("x-ratelimit-remaining") == "0":
        return UploadError(
            f"GitHub API rate limit exhausted for this token (403){detail}",
            hint="wait until the limit resets (header X-RateLimit-Reset) and run again",
        )
    if status == 403:
        return UploadError(
            f"the token may not dispatch events to {repo} (403){detail}",
            hint=_PERMISSION_HINT.format(repo=repo)
            + "; an organization may also have to approve a fine-grained token",
        )
    if status == 404:
        return UploadError(
            f"repository {repo} not found, or the token cannot see it (404){detail}",
            hint=f"check the spelling of --index-repo; GitHub answers 404 when the token has no "
            f"access: give it access to {repo} ({_PERMISSION_HINT.format(repo=repo)})",
        )
    if status == 422:
        return UploadError(
            f"GitHub refused the dispatch to {repo} as invalid (422){detail}",
            hint="the event type must be 1-100 characters and client_payload at most 10 keys "
            f"and {MAX_PAYLOAD_CHARS} characters",
        )
    if 300 <= status < 400:
        location = token.scrub(response.headers.get("location", "?"))
        return UploadError(
            f"GitHub redirected the dispatch for {repo} to {location} ({status})",
            hint="the repository was probably renamed or moved: pass its new OWNER/NAME",
        )
    if _retryable(response):
        return UploadError(
            token.scrub(f"GitHub API answered {status} {attempt} times for {url}{detail}"),
            hint="GitHub may be having trouble (https://www.githubstatus.com); try again later",
        )
    return UploadError(token.scrub(f"GitHub API answered {status} for {url}{detail}"))


def _github_message(body: bytes) -> str:
    try:
        document = json.loads(body)
    except ValueError:
        return ""
    message = document.get("message") if isinstance(document, dict) else None
    return message[:300] if isinstance(message, str) else ""


def _header_map(headers: Message) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
