"""The ASGI app: the request pipeline of SPEC §2, one small function per stage."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from . import events as page_events
from . import request as http
from .effects import (
    HandoffUnavailable,
    apply_effects,
    record_script,
    record_unbuilt_script,
    script_job,
)
from .errors import FunnelrunError
from .events import PageEvents
from .jsondata import utf8
from .render import render_page
from .responses import error_page, header_text, redirect
from .script import CookieEffect, ExecutorPool
from .session import Session
from .session_store import SessionKeeper
from .settings import Settings, load_settings
from .site import Brand, Page, Site
from .store import Store, open_store

logger = logging.getLogger("funnelrun")
PAGE_METHODS = ("GET", "HEAD", "POST")


@dataclass(eq=False)
class Visit:
    """One request on its way through the pipeline."""

    http: Request
    events: PageEvents
    host: str = ""  # the Host header without port, lower-cased
    body: bytes = b""
    brand: Brand | None = None
    page: Page | None = None
    request_view: dict[str, Any] = field(default_factory=dict)  # `request` for script and template
    session: Session = field(default_factory=Session)
    client: http.Address | None = None
    https: bool = False
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[CookieEffect] = field(default_factory=list)  # sent with any response
    variables: dict[str, Any] = field(default_factory=dict)  # from setVariable


class Funnelrun:
    """Serves one site. An ASGI app; `startup`/`shutdown` open and close the store and executors."""

    def __init__(self, site: Site, settings: Settings, *, store: Store | None = None) -> None:
        self.site = site
        self.settings = settings
        self.store = store
        self.trusted_proxies = http.parse_networks(settings.server.trusted_proxies)
        self.executors = ExecutorPool(settings.limits, settings.executor)
        self.sessions: SessionKeeper | None = None
        self.asgi = Starlette(
            routes=[Route("/{path:path}", self.serve, methods=list(PAGE_METHODS))],
            lifespan=self._lifespan,
        )

    async def __call__(self, scope, receive, send) -> None:
        await self.asgi(scope, receive, send)

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app):
        await self.startup()
        try:
            yield
        finally:
            await self.shutdown()

    async def startup(self) -> None:
        if self.store is None:
            self.store = open_store(self.settings.store.url, self.site.root)
        self.sessions = SessionKeeper(self.store, self.settings.session)
        if any(page.bundle is not None for page in self.site.pages()):
            await self.executors.start()

    async def shutdown(self) -> None:
        await self.executors.close()
        if self.store is not None:
            await self.store.close()

    # -- the pipeline ----------------------------------------------------------------------------

    async def serve(self, request: Request) -> Response:
        """The outermost error boundary: no traceback ever reaches a visitor."""
        visit = Visit(http=request, events=PageEvents())
        try:
            response = await self.pipeline(visit)
        except Exception as exc:
            logger.exception("request %s failed", visit.events.request_id)
            visit.events.error("internal_error", exc)
            response = error_page(500)
        response.headers["x-request-id"] = visit.events.request_id
        await self.record(visit, response)
        return response

    async def pipeline(self, visit: Visit) -> Response:
        response = (
            await self.read_request(visit)  # the body (413), host (400)
            or self.resolve(visit)  # 1. brand and page (404)
            or await self.load_session(visit)  # 3. session (created lazily on first write)
            or self.check_access(visit)  # 4. requires_login
            or await self.run_script(visit)  # 5-6. backend script and its effects
            or self.render(visit)  # 7. template
        )
        return await self.finish(visit, response)  # 8. save the session, cookies, headers

    async def read_request(self, visit: Visit) -> Response | None:
        request = visit.http
        host = http.host_name(request.headers.get("host"))
        if host is None:
            return error_page(400)
        visit.host = host
        try:
            visit.body = await http.read_body(request.stream(), request.headers.get("content-length"))
        except http.BodyTooLarge as exc:
            visit.events.warn("request.body", exc.message)
            return error_page(413, headers={"connection": "close"})
        except ClientDisconnect:  # gone (or cut off by the server's body deadline) mid-body
            visit.events.add("client_disconnected", while_reading="body")
            return error_page(400, headers={"connection": "close"})
        peer = request.client.host if request.client else None
        visit.client = http.client_address(
            peer, request.headers.get("x-forwarded-for"), self.trusted_proxies
        )
        visit.https = http.is_https(
            request.url.scheme, peer, request.headers.get("x-forwarded-proto"), self.trusted_proxies
        )
        return None

    def resolve(self, visit: Visit) -> Response | None:
        visit.brand = self.site.brand_for_host(visit.host)
        match = visit.brand.routes.match(visit.http.url.path) if visit.brand else None
        if match is None:
            visit.events.add("resolve", host=visit.host, path=page_events.clip(visit.http.url.path),
                             page=None)
            return error_page(404)
        visit.page, route_params = match
        visit.events.add("resolve", brand=visit.brand.id, page=visit.page.display)
        request = visit.http
        body, unparsed = http.parse_body(request.headers.get("content-type"), visit.body)
        if unparsed is not None:
            visit.events.add("request_body", parsed=False, reason=unparsed)
        visit.request_view = http.page_request(
            method=request.method,
            path=request.url.path,
            query=request.query_params,
            body=body,
            headers=request.headers,
            cookies=request.cookies,
            client=visit.client,
            route_params=route_params,
        )
        return None

    async def load_session(self, visit: Visit) -> Response | None:
        visit.session = await self.sessions.load(visit.brand.id, visit.http.cookies, visit.events)
        return None

    def check_access(self, visit: Visit) -> Response | None:
        front = visit.page.source.front_matter
        if not front.requires_login:
            return None
        if visit.session.is_customer:
            visit.events.add("access", decision="allowed", requires_login=True)
            return None
        decision = "redirect" if front.login_redirect else "not_found"
        visit.events.add("access", decision=decision, requires_login=True)
        if front.login_redirect:
            return redirect(front.login_redirect, 302)
        return error_page(404)

    async def run_script(self, visit: Visit) -> Response | None:
        if visit.page.script_problem is not None:
            record_unbuilt_script(visit.events, visit.page.script_problem)
            return None
        if visit.page.bundle is None:
            return None
        quota = await self.sessions.login_quota_left(visit.session, visit.client)
        job = script_job(visit, quota, self.settings.limits)
        result = await self.executors.run(job, HandoffUnavailable(visit.events))
        record_script(visit.events, result)
        return await apply_effects(visit, result.effects, self.sessions)

    def render(self, visit: Visit) -> Response:
        try:
            html = render_page(visit)
        except FunnelrunError as exc:
            visit.events.error("template_error", exc)
            return error_page(500)
        return HTMLResponse(utf8(html), status_code=visit.status)

    async def finish(self, visit: Visit, response: Response) -> Response:
        cookie = await self.sessions.save(visit.session, visit.events, secure=visit.https)
        if cookie is not None:
            visit.cookies.append(cookie)
        if response.status_code in (204, 304):
            response.body = b""  # these statuses carry no body
        for name, value in visit.headers.items():
            response.headers[name] = header_text(value)
        for cookie in visit.cookies:
            response.headers.append("set-cookie", cookie.header(visit.https))
        return response

    async def record(self, visit: Visit, response: Response) -> None:
        """Step 8: the request's page events go to the store; a store failure is only logged."""
        visit.events.respond(response.status_code)
        if self.store is None:
            return
        try:
            record = page_events.request_record(
                visit.events,
                brand=visit.brand.id if visit.brand else "",
                path=visit.http.url.path,
                method=visit.http.method,
                status=response.status_code,
            )
            await self.store.record_request(record)
        except FunnelrunError:
            logger.exception("request %s: page events not recorded", visit.events.request_id)


def create_app(site: Site, settings: Settings, *, store: Store | None = None) -> Funnelrun:
    return Funnelrun(site, settings, store=store)


def app_from_environment() -> Funnelrun:
    """The app for `funnelrun serve` workers: the site folder comes from FUNNELRUN_SITE.

    Under `--reload` an edit can break the site: the worker then lists the problems, as
    `serve` does, and exits; the next edit starts a new one."""
    from .cli import CHECK_SCRIPTS_ENV, SITE_ENV, load_site_or_report

    root = Path(os.environ[SITE_ENV])
    check_scripts = os.environ.get(CHECK_SCRIPTS_ENV) == "1"
    try:
        return create_app(load_site_or_report(root, check_scripts=check_scripts),
                          load_settings(root))
    except FunnelrunError as exc:
        print(f"funnelrun: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
