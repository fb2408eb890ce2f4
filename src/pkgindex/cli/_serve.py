"""Server subcommands: serve, token create/list/revoke."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pkgindex.cli import emit
from pkgindex.cli._options import add_root_argument, examples, index_root, is_bucket
from pkgindex.errors import EXIT_OK, ConfigError

if TYPE_CHECKING:
    from pkgindex.server.tokens import TokenStore

DEFAULT_PORT = 8080


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    serve = subparsers.add_parser(
        "serve",
        parents=[common],
        help="serve the index over HTTP, with the JSON API and uploads",
        description="Serve the index over HTTP, with the JSON API and uploads.\n\n"
        "Serves the index at /simple/ (PEP 503 HTML and PEP 691 JSON, negotiated) "
        "and accepts uploads from twine and uv publish at /legacy/.",
        epilog=examples(
            "pkgindex serve --root index --port 8080",
            "pkgindex serve --root index --read-only --host 0.0.0.0",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_root_argument(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", default=DEFAULT_PORT, type=int, help="0 picks a free port")
    serve.add_argument("--workers", default=1, type=_positive, help="worker processes")
    serve.add_argument("--tokens", type=Path, help=f"token store (default: {_default_tokens()})")
    serve.add_argument(
        "--read-only", action="store_true", help="no uploads (no token store needed)"
    )
    serve.add_argument("--private", action="store_true", help="reads need a token too")
    serve.add_argument(
        "--max-upload", default=100, type=_positive, metavar="MIB", help="upload limit (100)"
    )
    serve.add_argument(
        "--page-max-age", default=0, type=int, metavar="SECONDS", help="Cache-Control of pages"
    )
    serve.add_argument("--no-access-log", action="store_true", help="do not log every request")
    serve.set_defaults(func=run_serve)

    token = subparsers.add_parser(
        "token",
        help="create, list and revoke upload tokens",
        description="Create, list and revoke the upload tokens of 'pkgindex serve'.",
        epilog=examples(
            "pkgindex token create --project dace --expires 90 --description 'dace CI'",
            "pkgindex token list",
            "pkgindex token revoke ID",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = token.add_subparsers(dest="action", metavar="ACTION", required=True)
    tokens_option = argparse.ArgumentParser(add_help=False)
    tokens_option.add_argument(
        "--tokens", type=Path, help=f"token store (default: {_default_tokens()})"
    )
    create = actions.add_parser(
        "create",
        parents=[common, tokens_option],
        help="make a token (shown once)",
        description="Make an upload token; it is printed once and stored only as a hash.",
        epilog=examples("pkgindex token create --project dace --expires 90"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    create.add_argument(
        "--project",
        action="append",
        default=[],
        metavar="NAME",
        help="limit uploads to this project (repeatable; default: every project)",
    )
    create.add_argument("--expires", type=float, metavar="DAYS", help="valid for DAYS days")
    create.add_argument("--description", default="", help="a note shown by 'token list'")
    create.set_defaults(func=run_token_create)
    listing = actions.add_parser(
        "list",
        parents=[common, tokens_option],
        help="list tokens",
        description="List the tokens: id, projects, expiry, description (never the token).",
        epilog=examples("pkgindex token list --json"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    listing.set_defaults(func=run_token_list)
    revoke = actions.add_parser(
        "revoke",
        parents=[common, tokens_option],
        help="revoke a token",
        description="Revoke a token: uploads with it are refused from now on.",
        epilog=examples("pkgindex token revoke ID     # the id shown by 'pkgindex token list'"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    revoke.add_argument("id", help="the token id shown by 'token list'")
    revoke.set_defaults(func=run_token_revoke)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be at least 1")
    return value


def _default_tokens() -> Path:
    from pkgindex.server.tokens import default_store_path

    return default_store_path()


def run_serve(args: argparse.Namespace) -> int:
    from pkgindex.server.run import serve
    from pkgindex.server.settings import Settings

    if args.read_only and args.private:
        raise ConfigError(
            "--private needs tokens, --read-only has none", hint="drop one of the two options"
        )
    root = index_root(args) or "."
    settings = Settings(
        root=root if is_bucket(root) else str(Path(root).resolve()),
        endpoint_url=args.endpoint_url,
        region=args.region,
        profile=args.profile,
        tokens=None if args.read_only else (args.tokens or _default_tokens()),
        private=args.private,
        max_upload=args.max_upload << 20,
        page_max_age=args.page_max_age,
        access_log=not args.no_access_log,
    )

    def ready(url: str) -> None:
        emit(
            args,
            {"command": "serve", "url": f"{url}/simple/", "upload_url": f"{url}/legacy/"},
            [f"serving {settings.root} at {url}/simple/ (uploads: {url}/legacy/)"],
        )
        sys.stdout.flush()

    serve(settings, host=args.host, port=args.port, workers=args.workers, ready=ready)
    return EXIT_OK


def _store(args: argparse.Namespace) -> TokenStore:
    from pkgindex.server.tokens import TokenStore

    return TokenStore(args.tokens or _default_tokens())


def run_token_create(args: argparse.Namespace) -> int:
    token, record = _store(args).create(
        projects=args.project, expires_days=args.expires, description=args.description
    )
    scope = ", ".join(record.projects) or "every project"
    expires = f"{record.expires:%Y-%m-%d %H:%M} UTC" if record.expires else "never"
    emit(
        args,
        {
            "command": "token create",
            "id": record.id,
            "token": token,
            "projects": list(record.projects),
            "expires": (record.expires.isoformat() if record.expires else None),
        },
        [token],
    )
    if not args.json and not args.quiet:
        print(
            f"token {record.id} for {scope}, expires {expires}; it is shown only once: "
            "upload with username __token__ and this token as password",
            file=sys.stderr,
        )
    return EXIT_OK


def run_token_list(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    records = _store(args).records()
    lines = []
    for record in records:
        scope = ",".join(record.projects) or "*"
        state = (
            "expired"
            if record.expired(now)
            else (f"expires {record.expires:%Y-%m-%d}" if record.expires else "no expiry")
        )
        lines.append(f"{record.id}  {scope}  {state}  {record.description}".rstrip())
    emit(
        args,
        {
            "command": "token list",
            "tokens": [
                {
                    "id": record.id,
                    "projects": list(record.projects),
                    "created": record.created.isoformat(),
                    "expires": record.expires.isoformat() if record.expires else None,
                    "expired": record.expired(now),
                    "description": record.description,
                }
                for record in records
            ],
        },
        lines or ["no tokens"],
    )
    return EXIT_OK


def run_token_revoke(args: argparse.Namespace) -> int:
    record = _store(args).revoke(args.id)
    emit(args, {"command": "token revoke", "revoked": record.id}, [f"revoked {record.id}"])
    return EXIT_OK
