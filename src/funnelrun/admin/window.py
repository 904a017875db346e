"""The debug window (SPEC §7): pages listing recorded requests and showing one in full, the JSON
API behind them, a live stream of new requests, and the panel on a site's own pages.

Only an admin reaches any of it. A page of the window without a valid admin cookie is not
answered here at all: the request goes on through the site's pipeline and gets the site's
own 404, like any missing page. The API answers 401 instead, so a script using it with a wrong
token learns why. Every answer from here carries a strict Content-Security-Policy; the pages'
scripts are files under /_funnelrun/assets/, and everything a visitor wrote reaches a page only
as escaped text.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

from markupsafe import escape
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, Router
from starlette.types import Message, Receive, Scope, Send

from ..errors import AdminQueryError, StoreError
from ..responses import RETRY_AFTER_S
from ..site import Site
from ..store import Cursor, RequestSummary, Store
from ..template import Environment, TemplateSource
from . import paths
from .access import AdminAccess, clearing_cookie_header
from .present import event_cards, summary_row
from .queries import (
    MAX_LIMIT,
    ListQuery,
    cursor_text,
    list_json,
    parse_cursor,
    parse_list_query,
    record_json,
    summary_json,
)

logger = logging.getLogger("funnelrun.admin")
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
}
ASSET_TYPES = {
    "admin.css": "text/css; charset=utf-8",
    "admin.js": "text/javascript; charset=utf-8",
    "panel.css": "text/css; charset=utf-8",
    "panel.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
TEMPLATES = frozenset({"layout", "requests", "request", "missing", "entered"})
LIVE_POLL_S = 1.0  # a live stream asks the store for new requests when woken, or this often
LIVE_HEARTBEAT_S = 15.0  # a comment line this often, so a dead connection is noticed
LIVE_MAX_S = 300.0  # then the stream ends; the browser's EventSource reconnects by itself
_REQUEST_ID_CHARS = frozenset("0123456789abcdefABCDEF")


class DebugWindow:
    """An ASGI app for the paths under /_funnelrun/ that `claims` says are its own."""

    def __init__(self, site: Site, access: AdminAccess, store: Callable[[], Store], *,
                 recording: bool, https: Callable[[Request], bool]) -> None:
        self.site = site
        self.access = access
        self.store = store  # the app's store, once it has started
        self.recording = recording
        self.https = https
        self.templates = Environment(loader=_template_source)
        self.router = Router(routes=[
            Route(paths.LOGIN, self.login, methods=["GET"]),
            Route(paths.LOGOUT, self.logout, methods=["GET"]),
            Route(paths.ADMIN_PATH, self.home, methods=["GET"]),
            Route(paths.HOME, self.home, methods=["GET"]),
            Route(paths.REQUEST_PAGE + "{request_id}", self.request_page, methods=["GET"]),
            Route(paths.ASSETS + "{name}", self.asset, methods=["GET"]),
            Route(paths.API_REQUESTS, self.api_requests, methods=["GET"]),
            Route(paths.API_REQUESTS + "/{request_id}", self.api_request, methods=["GET"]),
            Route(paths.LIVE, self.live, methods=["GET"]),
        ])

    def claims(self, request: Request) -> bool:
        """Whether this request is the window's to answer: an API call (401 without a token),
        a login with the right token, or anything else under /_funnelrun/ from an admin."""
        path = request.scope["path"]  # not request.url: this runs for every request
        if not paths.is_admin_path(path):
            return False
        if path.startswith(paths.API):
            return True
        if path == paths.LOGIN:
            return self.access.token_ok(request.query_params.get("token"))
        return self.access.allows(request.cookies)

    def shows_panel(self, request: Request) -> bool:
        """Whether a page's HTML gets the page-events panel: only for an admin."""
        return self.access.enabled and self.access.allows(request.cookies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(name, value) for name, value in message.get("headers", [])
                           if name.decode("latin-1").lower() not in SECURITY_HEADERS]
                headers += [(name.encode(), value.encode())
                            for name, value in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.router(scope, receive, send_with_headers)
        except StoreError as exc:  # the store is down: one log line, as for a visitor's request
            logger.error("debug window: %s: %s", scope.get("path", "?")[:200], exc.message)
            if not started:
                failed = Response("The debug window cannot reach the store; the server log "
                                  "says why.", status_code=503, media_type="text/plain",
                                  headers={"retry-after": str(RETRY_AFTER_S)})
                await failed(scope, receive, send_with_headers)
        except Exception:  # the window's own error boundary: logged, never a traceback
            logger.exception("debug window: %s failed", scope.get("path", "?")[:200])
            if not started:
                failed = Response("The debug window failed; the server log says why.",
                                  status_code=500, media_type="text/plain")
                await failed(scope, receive, send_with_headers)

    # -- logging in and out ----------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        """The token (checked by `claims`) for a cookie, and on to the window, which drops
        the token from the address bar. Not a 303: when the link was clicked on another
        site's page (a chat, a CI log), a browser would not send the new SameSite=Strict
        cookie along a redirect of that navigation; a refresh is a navigation of our own."""
        response = self._page("entered", {"host": request.headers.get("host", "")})
        response.headers["set-cookie"] = self.access.cookie_header(self.https(request))
        return response

    async def logout(self, request: Request) -> Response:
        return Response(status_code=303, headers={
            "location": "/", "set-cookie": clearing_cookie_header(self.https(request)),
        })

    # -- pages -------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        if request.url.path == paths.ADMIN_PATH:
            return Response(status_code=308, headers={"location": paths.HOME})
        problem = None
        try:
            query = parse_list_query(request.query_params)
        except AdminQueryError as exc:
            query, problem = ListQuery(), exc.message
        summaries = await self.store().list_requests(**query.store_arguments())
        following = query.before is None and query.after is None
        newest = summaries[0].cursor if summaries else Cursor(time.time(), "")
        older = (summaries[-1].cursor if len(summaries) >= query.limit else None)
        context = {
            "host": request.headers.get("host", ""),
            "requests": [summary_row(summary) for summary in summaries],
            "filters": query.filters(),
            "brands": [{"id": brand_id, "selected": brand_id == query.brand}
                       for brand_id in self.site.brands],
            "problem": problem,
            "recording": self.recording,
            "live_after": cursor_text(newest) if following else "",
            "live_query": urlencode(query.filters()),
            "older_href": _href(paths.HOME, {**query.filters(), "before": cursor_text(older)})
                          if older else "",
            "newest_href": _href(paths.HOME, query.filters()) if not following else "",
        }
        return self._page("requests", context)

    async def request_page(self, request: Request) -> Response:
        request_id = request.path_params["request_id"]
        record = await self.store().get_request(request_id) if _is_request_id(request_id) \
            else None
        context: dict[str, Any] = {"host": request.headers.get("host", ""),
                                   "request_id": request_id[:64]}
        if record is None:
            return self._page("missing", context, status=404)
        context.update({
            "request": summary_row(record),
            "events": event_cards(record),
            "export_href": f"{paths.API_REQUESTS}/{record.request_id}?download=1",
            "api_href": f"{paths.API_REQUESTS}/{record.request_id}",
        })
        return self._page("request", context)

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSET_TYPES:
            return Response("Not Found", status_code=404, media_type="text/plain")
        return Response(_asset(name), media_type=ASSET_TYPES[name])

    def _page(self, name: str, context: dict[str, Any], status: int = 200) -> Response:
        html = self.templates.get_template(name).render(context)
        return Response(html.encode(), status_code=status, media_type="text/html; charset=utf-8")

    # -- the JSON API --------------------------------------------------------------------------

    def _api_refusal(self, request: Request) -> Response | None:
        if self.access.allows(request.cookies) or \
                self.access.bearer_ok(request.headers.get("authorization")):
            return None
        why = ("the debug window is off: the server has no admin token" if not self.access.enabled
               else "an admin cookie or 'Authorization: Bearer <FUNNELRUN_ADMIN_TOKEN>' is needed")
        return JSONResponse({"error": why}, status_code=401,
                            headers={"www-authenticate": 'Bearer realm="funnelrun"'})

    async def api_requests(self, request: Request) -> Response:
        if refusal := self._api_refusal(request):
            return refusal
        try:
            query = parse_list_query(request.query_params)
        except AdminQueryError as exc:
            return JSONResponse({"error": exc.message}, status_code=400)
        summaries = await self.store().list_requests(**query.store_arguments())
        return JSONResponse(list_json(query, summaries))

    async def api_request(self, request: Request) -> Response:
        if refusal := self._api_refusal(request):
            return refusal
        request_id = request.path_params["request_id"]
        record = await self.store().get_request(request_id) if _is_request_id(request_id) \
            else None
        if record is None:
            return JSONResponse({"error": "no such request is recorded (kept: the last 1000 "
                                          "of each brand, for 24 hours)"}, status_code=404)
        headers = {}
        if request.query_params.get("download"):
            headers["content-disposition"] = \
                f'attachment; filename="funnelrun-request-{record.request_id}.json"'
        return JSONResponse(record_json(record), headers=headers)

    async def live(self, request: Request) -> Response:
        """Server-sent events: one `request` event per newly recorded request, oldest first,
        each with its cursor as the event id (so a reconnecting browser resumes after it)."""
        if refusal := self._api_refusal(request):
            return refusal
        try:
            query = parse_list_query(request.query_params)
            resume = request.headers.get("last-event-id")
            after = parse_cursor(resume) if resume else query.after
        except AdminQueryError as exc:
            return JSONResponse({"error": exc.message}, status_code=400)
        start = after or Cursor(time.time(), "")
        stream = self._follow(query, start)
        return StreamingResponse(stream, media_type="text/event-stream",
                                 headers={"x-accel-buffering": "no"})

    async def _follow(self, query: ListQuery, cursor: Cursor) -> AsyncIterator[str]:
        arguments = {**query.store_arguments(), "before": None, "limit": MAX_LIMIT}
        yield f"retry: {int(LIVE_POLL_S * 2000)}\n\n"
        started = last_sent = time.monotonic()
        while time.monotonic() - started < LIVE_MAX_S:
            try:
                found = await self.store().list_requests(**{**arguments, "after": cursor})
            except StoreError as exc:  # the store is down: the stream waits for it
                logger.warning("debug window: live stream: %s", exc.message)
                found = []
            if found:
                yield "".join(_event(summary) for summary in reversed(found))
                cursor = found[0].cursor
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent >= LIVE_HEARTBEAT_S:
                yield ": still here\n\n"
                last_sent = time.monotonic()
            await self.store().wait_for_requests(LIVE_POLL_S)


def with_panel(html: str, request_id: str) -> str:
    """A page's HTML with the page-events panel's script before its last `</body>` (or at the
    end). The script does nothing until Ctrl+Shift+F12."""
    tag = (f'<script src="{paths.ASSETS}panel.js" data-request-id="{escape(request_id)}" '
           'defer></script>')
    at = html.lower().rfind("</body")
    return html + tag if at < 0 else html[:at] + tag + html[at:]


def _event(summary: RequestSummary) -> str:
    data = json.dumps(summary_json(summary), ensure_ascii=False, separators=(",", ":"))
    return f"id: {cursor_text(summary.cursor)}\nevent: request\ndata: {data}\n\n"


def _href(path: str, params: dict[str, str]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def _is_request_id(text: str) -> bool:
    return 0 < len(text) <= 64 and _REQUEST_ID_CHARS.issuperset(text)


@cache
def _asset(name: str) -> bytes:
    return files(__package__).joinpath("assets", name).read_bytes()


def _template_source(name: str) -> TemplateSource | None:
    if name not in TEMPLATES:
        return None
    text = files(__package__).joinpath("templates", f"{name}.html").read_text(encoding="utf-8")
    return TemplateSource(text, f"funnelrun/admin/templates/{name}.html")

