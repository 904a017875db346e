"""The ASGI app: the request pipeline of SPEC §2, one small function per stage."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import time
from collections.abc import AsyncIterator, Mapping
from typing import TypeVar

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from . import inbound, static
from .admin import AdminAccess, DebugWindow, with_panel
from .asset_urls import AssetLinks
from .device import device_of, load_device_rules
from .effects import apply_effects
from .errors import BodyTooLarge, FunnelrunError, HandoffError, StoreError
from .events import PageEvents, add_source_lines, clip, request_record
from .jsondata import encode_compact, utf8
from .language import visit_language
from .login_handoff import Handover, VisitHost, same_page_location, token_in_query
from .login_quota import LoginQuota
from .render import render_page
from .responses import RETRY_AFTER_S, error_page, header_text, redirect
from .script import ExecutorPool, ScriptJob
from .session import Session
from .sessions import SessionKeeper
from .settings import Settings
from .site import Brand, Page, Site
from .store import Clock, Store, open_store
from .tracking import note_click_id
from .visit import Arrival, Visit

logger = logging.getLogger("funnelrun")
PAGE_METHODS = ("GET", "HEAD", "POST")


class Funnelrun:
    """Serves one site. An ASGI app; `startup`/`shutdown` open and close the store and executors."""

    def __init__(self, site: Site, settings: Settings, *, store: Store | None = None,
                 clock: Clock = time.time) -> None:
        self.site = site
        self.settings = settings
        self.clock = clock  # epoch seconds: session lifetimes, quotas, retention (tests freeze it)
        self._store = store
        self._sessions: SessionKeeper | None = None
        self._login_quota: LoginQuota | None = None
        self._handover: Handover | None = None
        self.trusted_proxies = inbound.parse_networks(settings.server.trusted_proxies)
        self.executors = ExecutorPool(settings.limits, settings.executor)
        self.asset_links = {brand.id: AssetLinks(brand.assets, settings.assets.base_url)
                            for brand in site.brands.values()}  # asset() in pages and scripts
        self.brand_globals = {brand.id: encode_compact(brand.settings.public())
                              for brand in site.brands.values()}  # `brand` in scripts: JSON text
        token = settings.admin_token.reveal() if settings.admin_token else None
        self.debug_window = DebugWindow(
            site, AdminAccess(token, clock), lambda: self.store,
            recording=settings.events.record, https=self._is_https,
        )
        self.lifespan = Starlette(lifespan=self._lifespan)  # start-up and shut-down only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Every HTTP request, whatever its method or path, goes to `serve`, the one boundary
        (a PUT gets funnelrun's 405 with its request id, not a router's plain text) — except
        the debug window's own, for an admin."""
        if scope["type"] == "http":
            request = Request(scope, receive)
            if self.debug_window.claims(request):
                await self.debug_window(scope, receive, send)
                return
            arrival, response = await self.serve(request)
            try:
                await response(scope, receive, send)
            finally:  # recorded once the visitor has the answer: off the critical path
                await self.record(arrival, response)
        else:
            await self.lifespan(scope, receive, send)

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        await self.startup()
        try:
            yield
        finally:
            await self.shutdown()

    async def startup(self) -> None:
        if self._store is None:
            self._store = open_store(self.settings.store.url, self.site.root, clock=self.clock)
        try:
            await self._store.ping()  # a store that is not there is a start-up error, not 503s
        except StoreError:
            await self._store.close()
            raise
        session = self.settings.session
        self._sessions = SessionKeeper(self._store, session, clock=self.clock)
        self._login_quota = LoginQuota(self._store, per_session=session.login_quota_per_session,
                                       per_ip=session.login_quota_per_ip)
        self._handover = Handover(self.settings.secret_key_bytes(), self._store, self.clock)
        if any(page.bundle is not None for page in self.site.pages()):
            await self.executors.start()
        if any(".device" in text for brand in self.site.brands.values()
               for text in brand.texts.values()):
            load_device_rules()  # ~0.1 s now, rather than in the first visitor's request

    async def shutdown(self) -> None:
        await self.executors.close()
        if self._store is not None:
            await self._store.close()

    @property
    def store(self) -> Store:
        return _started(self._store)

    @property
    def sessions(self) -> SessionKeeper:
        return _started(self._sessions)

    @property
    def login_quota(self) -> LoginQuota:
        return _started(self._login_quota)

    @property
    def handover(self) -> Handover:
        return _started(self._handover)

    # -- the pipeline ----------------------------------------------------------------------------

    async def serve(self, request: Request) -> tuple[Arrival, Response]:
        """The outermost error boundary: no traceback ever reaches a visitor. The response,
        and the arrival whose page events `record` keeps once the response is sent."""
        arrival = Arrival(request=request, events=PageEvents())
        try:
            response = await self.pipeline(arrival)
        except StoreError as exc:  # Redis down, disk full: a plain 503, a page event, a log line
            arrival.events.error("store_unavailable", exc)
            response = error_page(503, headers={"retry-after": str(RETRY_AFTER_S)})
        except Exception as exc:
            logger.exception("request %s failed", arrival.events.request_id)
            arrival.events.error("internal_error", exc)
            response = self.internal_error_page(arrival)
        response.headers["x-request-id"] = arrival.events.request_id
        arrival.events.respond(response.status_code, worker=os.getpid())
        return arrival, response

    async def pipeline(self, arrival: Arrival) -> Response:
        early = await self.read_request(arrival)  # the method (405), body (413), host (400)
        if early is not None:
            return early
        if static.claims(arrival.request.scope["path"]):
            return await self.serve_asset(arrival)  # /assets/<path>: the brand's files
        visit = self.resolve(arrival)  # 1. brand and page
        if visit is None:
            return await self.error_response(arrival, 404)  # no page here: the 404 page
        response = (
            await self.load_session(visit)  # 3. session (created lazily on first write)
            or await self.hand_over(visit)  # 2. ?ef_session= login handoff (needs the session)
            or self.note_click(visit)  # ?click_id= into the session, on first sight
            or self.check_access(visit)  # 4. requires_login
            or await self.run_script(visit)  # 5-6. backend script and its effects
            or self.render(visit)  # 7. template
        )
        return await self.finish(visit, response)  # 8. save the session, cookies, headers

    async def read_request(self, arrival: Arrival) -> Response | None:
        request = arrival.request
        arrival.headers = headers = inbound.header_map(request.scope["headers"])
        arrival.path = inbound.url_path(request)
        if request.method not in PAGE_METHODS:
            return error_page(405, headers={"allow": ", ".join(PAGE_METHODS)})
        host = inbound.host_name(headers.get("host"))
        if host is None:
            return error_page(400)
        arrival.host = host
        try:
            arrival.body = await inbound.read_body(request.stream(), headers.get("content-length"))
        except BodyTooLarge as exc:
            arrival.events.warn("request.body", exc.message)
            return error_page(413, headers={"connection": "close"})
        except ClientDisconnect:  # gone (or cut off by the server's body deadline) mid-body
            arrival.events.add("client_disconnected", while_reading="body")
            return error_page(400, headers={"connection": "close"})
        peer = _peer(request)
        arrival.client = inbound.client_address(peer, headers.get("x-forwarded-for"),
                                                self.trusted_proxies)
        arrival.https = inbound.is_https(_scheme(request), peer, headers.get("x-forwarded-proto"),
                                         self.trusted_proxies)
        return None

    def _is_https(self, request: Request) -> bool:
        """`arrival.https` for a request outside the pipeline (the debug window's)."""
        return inbound.is_https(_scheme(request), _peer(request),
                                request.headers.get("x-forwarded-proto"), self.trusted_proxies)

    async def serve_asset(self, arrival: Arrival) -> Response:
        """A file of the brand's asset index (funnelrun.static); anything else under /assets/
        is the 404 page. Files served are not recorded as page events: a page's stylesheet,
        images and fonts would crowd its requests out of the debug window. Misses are."""
        request = arrival.request
        arrival.brand = brand = self.site.brand_for_host(arrival.host)
        if request.method not in static.METHODS:
            return error_page(405, headers={"allow": ", ".join(static.METHODS)})
        raw_path = request.scope.get("raw_path") or request.scope["path"].encode()
        path = static.requested_path(raw_path)
        asset = brand.assets.get(path) if brand is not None and path is not None else None
        if asset is None:
            arrival.events.add("resolve", host=arrival.host, path=clip(request.scope["path"]),
                               asset=None)
            return await self.error_response(arrival, 404)
        response = static.answer(asset, request.method, request.headers,
                                 request.scope["query_string"])
        arrival.recorded = False
        return response

    def resolve(self, arrival: Arrival) -> Visit | None:
        """The visit of the page the Host and path name; None when there is none (a 404)."""
        events = arrival.events
        arrival.brand = brand = self.site.brand_for_host(arrival.host)
        match = brand.routes.match(arrival.path) if brand else None
        if brand is None or match is None:
            events.add("resolve", host=arrival.host, path=clip(arrival.path), page=None)
            return None
        page, route_params = match
        events.add("resolve", brand=brand.id, page=page.site_path)
        return self.visit_of(arrival, brand, page, route_params)

    def visit_of(self, arrival: Arrival, brand: Brand, page: Page,
                 route_params: Mapping[str, str], session: Session | None = None) -> Visit:
        """A visit of `page`: the `request` its script and template see; an empty session
        until `load_session`, unless one is given."""
        request, headers = arrival.request, arrival.headers
        body, unparsed = inbound.parse_body(headers.get("content-type"), arrival.body)
        if unparsed is not None:
            arrival.events.add("request_body", parsed=False, reason=unparsed)
        request_object = inbound.request_object(
            method=request.method, path=arrival.path,
            query=inbound.query_map(request.scope["query_string"]), body=body, headers=headers,
            cookies=arrival.cookies, client=arrival.client, route_params=route_params,
        )
        return Visit(arrival, brand, page, request_object, session or Session(brand=brand.id),
                     assets=self.asset_links[brand.id])

    async def load_session(self, visit: Visit) -> Response | None:
        visit.session = await self.sessions.load(visit.brand.id, visit.arrival.cookies,
                                                 visit.events)
        return None

    async def hand_over(self, visit: Visit) -> Response | None:
        """A login handed over in the query: taken in, then a 303 to the same URL without the
        token (kept out of history and logs). A token that fails serves the page as it is."""
        scope = visit.request.scope
        found = token_in_query(scope.get("query_string", b"").decode("latin-1"))
        if found is None:
            return None
        token, rest = found
        try:
            handoff = await self.handover.take_in(visit.brand.id, visit.session, token)
        except HandoffError as refusal:
            visit.events.add("handoff", call="query", outcome="refused", reason=refusal.reason,
                             message=refusal.message)
            return None
        visit.events.add("handoff", call="query", outcome="logged_in",
                         email=handoff.customer["email"])
        path = (scope.get("raw_path") or visit.arrival.path.encode()).decode("latin-1")
        return redirect(same_page_location(path, rest), 303)

    def note_click(self, visit: Visit) -> Response | None:
        note_click_id(visit.session, visit.request_object["query"], visit.events)
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
        return self.error_page_of(visit, 404)

    async def run_script(self, visit: Visit) -> Response | None:
        page, session = visit.page, visit.session
        if page.script_problem is not None:
            visit.events.unbuilt_script(page.script_problem)
            return None
        if page.bundle is None:
            return None
        request = visit.request_object
        if page.bundle.names_device:  # a User-Agent parse only for scripts that read it
            request = {**request, "device": device_of(request)}
        job = ScriptJob(
            bundle=page.bundle, request=request, stored_session=session.items,
            session_bytes=session.total_bytes(), customer=session.customer,
            is_customer=session.is_customer,
            login_quota=await self.login_quota.left(session, visit.client)
            if page.bundle.names_set_customer else self.login_quota.most,
            limits=self.settings.limits, brand=self.brand_globals[visit.brand.id],
            i18n=visit_language(visit).script_config(page.bundle.dictionary_keys),
            assets=self.asset_links[visit.brand.id].script_config(page.bundle.asset_paths),
        )
        result = await self.executors.run(job, VisitHost(self.handover, visit))
        visit.events.script(result)
        return await apply_effects(visit, result.effects, self.login_quota)

    def render(self, visit: Visit) -> Response:
        try:
            html = render_page(visit, self.clock())
        except FunnelrunError as exc:
            visit.events.error("template_error", exc)
            return self.error_page_of(visit, 500)
        if self.debug_window.shows_panel(visit.request):
            html = with_panel(html, visit.events.request_id)
            visit.private = True
        return HTMLResponse(utf8(html), status_code=visit.status)

    async def error_response(self, arrival: Arrival, status: int) -> Response:
        """The 404 (or 500) of a request without a page — none at its path, a missing asset:
        the brand's own error page, shown with the visitor's session (read, never written);
        the built-in page when the Host names no brand or the brand has no such page."""
        brand = arrival.brand  # as resolve or serve_asset found it
        page = brand.error_pages.get(status) if brand is not None else None
        if brand is None or page is None:
            return error_page(status)
        session = await self.sessions.load(brand.id, arrival.cookies, arrival.events)
        return self.error_page_of(self.visit_of(arrival, brand, page, {}, session), status)

    def error_page_of(self, visit: Visit, status: int) -> Response:
        """Every 404 and 500 page a brand's visit gets is made here: its `pages/404.html` or
        `pages/500.html`, with a page's context (the request, the session read only, brand
        variables) and no script; the built-in page when the brand has none, or when its
        template fails (a `template_error` page event, as for any page)."""
        page = visit.brand.error_pages.get(status)
        if page is None:
            return error_page(status)
        visit.events.add("error_page", status=status, page=page.site_path)
        shown = dataclasses.replace(visit, page=page, status=status, variables={})
        try:
            html = render_page(shown, self.clock(), read_only=True)
        except FunnelrunError as exc:
            visit.events.error("template_error", exc)
            return error_page(status)
        private = self.debug_window.shows_panel(visit.request)
        if private:
            html = with_panel(html, visit.events.request_id)
        response = HTMLResponse(utf8(html), status_code=status)
        if private:
            response.headers["cache-control"] = "private, no-store"
        return response

    def internal_error_page(self, arrival: Arrival) -> Response:
        """The 500 after an unexpected exception: the brand's 500 page, given an empty session
        (nothing more is read after a failure), else — or if that fails too — the built-in."""
        brand = self.site.brand_for_host(arrival.host) if arrival.host else None
        page = brand.error_pages.get(500) if brand is not None else None
        if brand is None or page is None:
            return error_page(500)
        try:
            return self.error_page_of(self.visit_of(arrival, brand, page, {}), 500)
        except Exception:
            logger.exception("request %s: the 500 page failed", arrival.events.request_id)
            return error_page(500)

    async def finish(self, visit: Visit, response: Response) -> Response:
        cookie = await self.sessions.save(visit.session, visit.events, secure=visit.https)
        if cookie is not None:
            visit.cookies.append(cookie)
        if response.status_code in (204, 304):
            response.body = b""  # these statuses carry no body
        for name, value in visit.headers.items():
            response.headers[name] = header_text(value)
        if visit.private:  # an admin's page, with its panel: no cache may keep or share it
            response.headers["cache-control"] = "private, no-store"
        for cookie in visit.cookies:
            response.headers.append("set-cookie", cookie.header(visit.https))
        return response

    async def record(self, arrival: Arrival, response: Response) -> None:
        """Step 9: the request's page events go to the store (batched: see the store); a store
        failure is only logged."""
        events = arrival.events
        if self._store is None or not self.settings.events.record or not arrival.recorded:
            return
        if events.has_error:
            add_source_lines(events.items, self.site.source_line)
        try:
            record = request_record(
                arrival.events, brand=arrival.brand_id, path=arrival.path,
                method=arrival.request.method, status=response.status_code,
            )
            await self._store.record_request(record)
        except FunnelrunError:
            logger.exception("request %s: page events not recorded", arrival.events.request_id)


def create_app(site: Site, settings: Settings, *, store: Store | None = None,
               clock: Clock = time.time) -> Funnelrun:
    """The app serving `site`; `store` (else the settings' store URL) and `clock` (epoch
    seconds) are for embedding and tests: give the store the same clock."""
    return Funnelrun(site, settings, store=store, clock=clock)


def _peer(request: Request) -> str | None:
    """The address of the connection's other end (`request.client.host`)."""
    client = request.scope.get("client")
    return client[0] if client else None


def _scheme(request: Request) -> str:
    """The connection's scheme (`request.url.scheme`, without building the URL)."""
    scheme: str = request.scope.get("scheme", "http")
    return scheme


T = TypeVar("T")


def _started(part: T | None) -> T:
    """A part the app opens at start-up (store, sessions, quotas); an error before that."""
    if part is None:
        raise FunnelrunError("the app is not started: call startup() (ASGI lifespan) first")
    return part
