"""The command line: `funnelrun serve | render | new | check`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Sequence
from importlib.resources import as_file, files
from pathlib import Path

import httpx

from . import server
from .app import create_app
from .errors import FunnelrunError, StoreError
from .settings import ADMIN_TOKEN_ENV, Settings, load_settings
from .site import Site, check_site
from .store import open_store, redacted_url
from .worker import CHECK_SCRIPTS_ENV, SITE_ENV, load_site_or_report

HANDOFF_OFF = (
    "funnelrun: warning: FUNNELRUN_SECRET_KEY is not set, so cross-domain session handoff is "
    "off (session.getToken answers null, ?ef_session= tokens are refused). Make a key with:\n"
    "  export FUNNELRUN_SECRET_KEY=$(python3 -c "
    "'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')"
)
# Command-line flags of `serve`, as the environment variables its worker processes read.
SERVE_FLAGS = {
    "host": "FUNNELRUN_SERVER_HOST",
    "port": "FUNNELRUN_SERVER_PORT",
    "workers": "FUNNELRUN_SERVER_WORKERS",
    "store": "FUNNELRUN_STORE_URL",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.command  # set by each subparser
    try:
        return command(args)
    except FunnelrunError as exc:
        print(f"funnelrun: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="funnelrun", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve a site over HTTP")
    serve.add_argument("site", type=Path)
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.add_argument("--store", help="store URL, e.g. sqlite:///.funnelrun/state.db")
    serve.add_argument("--reload", action="store_true", help="restart when site files change")
    serve.set_defaults(command=cmd_serve)

    render = commands.add_parser("render", help="serve one request in-process and print it")
    render.add_argument("site", type=Path)
    render.add_argument("path")
    render.add_argument("--host", default=None, help="Host header (default: the first domain)")
    render.add_argument("--method", default=None)
    render.add_argument("--data", help="form body, e.g. 'email=a@b.test&code=1'")
    render.add_argument("--json", dest="json_body", help="JSON body")
    render.add_argument("--cookie", action="append", default=[], metavar="K=V")
    render.add_argument("--header", action="append", default=[], metavar="'K: V'")
    render.add_argument("--store", help="store URL")
    render.add_argument("--events", action="store_true", help="print the page events too")
    render.set_defaults(command=cmd_render)

    new = commands.add_parser("new", help="write a working example site")
    new.add_argument("site", type=Path)
    new.set_defaults(command=cmd_new)

    check = commands.add_parser("check", help="compile every template and script; list problems")
    check.add_argument("site", type=Path)
    check.set_defaults(command=cmd_check)
    return parser


# -- serve -------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    root = _site_root(args.site)
    for flag, variable in SERVE_FLAGS.items():
        if getattr(args, flag) is not None:
            os.environ[variable] = str(getattr(args, flag))
    settings = load_settings(root)
    options = server.uvicorn_options(settings, root, reload=args.reload)
    site = load_site_or_report(root, check_syntax=not args.reload)
    asyncio.run(_check_store(settings, root))
    os.environ[SITE_ENV] = str(root)
    if args.reload:
        os.environ[CHECK_SCRIPTS_ENV] = "1"
    if settings.secret_key is None:
        print(HANDOFF_OFF, file=sys.stderr)
    base = _base_url(settings.server.host, settings.server.port)
    pages = sum(1 for _ in site.pages())
    print(f"funnelrun: serving {root} ({_count(len(site.brands), 'brand')}, "
          f"{_count(pages, 'page')}) at {base}, {_count(settings.server.workers, 'worker')}, "
          f"store {redacted_url(settings.store.url)}", file=sys.stderr)
    print(_debug_window_line(base, settings), file=sys.stderr)
    server.run(options)
    return 0


async def _check_store(settings: Settings, root: Path) -> None:
    """Open the store once before the workers start: one that is not there (Redis down, a
    folder that cannot be written) stops `serve` with one clear line."""
    try:
        store = open_store(settings.store.url, root)
        try:
            await store.ping()
        finally:
            await store.close()
    except StoreError as exc:
        raise FunnelrunError(f"{root}: not serving: {exc.message}") from None


def _debug_window_line(base: str, settings: Settings) -> str:
    """How to open the debug window. Without FUNNELRUN_ADMIN_TOKEN a token is made for this
    start (the workers read it from the environment) and printed in the login link."""
    login = f"{base}/_funnelrun/login?token="
    if settings.admin_token is not None:
        return f"funnelrun: debug window: {login}<FUNNELRUN_ADMIN_TOKEN>"
    token = secrets.token_urlsafe(24)
    os.environ[ADMIN_TOKEN_ENV] = token
    return (f"funnelrun: debug window: {login}{token}\n"
            f"  (a new token each start; set {ADMIN_TOKEN_ENV} to keep one)")


def _base_url(host: str, port: int) -> str:
    """The address a browser on this machine uses: 0.0.0.0 and :: listen everywhere,
    including on the loopback address."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


# -- render ------------------------------------------------------------------------------------


def cmd_render(args: argparse.Namespace) -> int:
    root = _site_root(args.site)
    settings = load_settings(root, overrides={"store.url": args.store})
    site = load_site_or_report(root)
    return asyncio.run(_render(args, site, settings))


async def _render(args: argparse.Namespace, site: Site, settings: Settings) -> int:
    headers = dict(_header(text) for text in args.header)
    host = args.host or _default_host(site)
    headers.setdefault("host", host)
    content: bytes | None = None
    if args.json_body is not None:
        content = args.json_body.encode()
        headers.setdefault("content-type", "application/json")
    elif args.data is not None:
        content = args.data.encode()
        headers.setdefault("content-type", "application/x-www-form-urlencoded")
    method = (args.method or ("POST" if content is not None else "GET")).upper()
    cookies = "; ".join(_cookie(text) for text in args.cookie)
    if cookies:
        headers["cookie"] = cookies

    app = create_app(site, settings)
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as client:
            response = await client.request(method, args.path, headers=headers, content=content)
        print(f"HTTP/1.1 {response.status_code} {response.reason_phrase}")
        for name, value in response.headers.multi_items():
            print(f"{name}: {value}")
        print()
        sys.stdout.write(response.text)
        if args.events:
            record = await app.store.get_request(response.headers["x-request-id"])
            print(f"\n-- page events of request {response.headers['x-request-id']} --")
            print(json.dumps(record.events if record else [], indent=2, ensure_ascii=False))
    finally:
        await app.shutdown()
    return 0


def _default_host(site: Site) -> str:
    for brand in site.brands.values():
        if brand.settings.domains:
            return brand.settings.domains[0]
    return "localhost"


def _header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        raise FunnelrunError(f"--header {text!r}: expected 'Name: value'")
    return name.strip().lower(), value.strip()


def _cookie(text: str) -> str:
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise FunnelrunError(f"--cookie {text!r}: expected name=value")
    return f"{name.strip()}={value}"


# -- new, check --------------------------------------------------------------------------------


def cmd_new(args: argparse.Namespace) -> int:
    target: Path = args.site
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FunnelrunError(f"{target}: already exists and is not empty; choose a new folder")
    with as_file(files(__package__).joinpath("scaffold")) as scaffold:
        shutil.copytree(scaffold, target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    print(f"funnelrun: wrote an example site to {target}; serve it with "
          f"'funnelrun serve {target}'", file=sys.stderr)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    root = _site_root(args.site)
    problems = check_site(root)
    for problem in problems:
        print(problem.headline())
    if problems:
        print(_count(len(problems), "problem"), file=sys.stderr)
        return 1
    print(f"ok: {root}", file=sys.stderr)
    return 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _site_root(path: Path) -> Path:
    if not path.is_dir():
        raise FunnelrunError(f"{path}: no such site folder")
    return path.resolve()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
