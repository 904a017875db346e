"""Runs `funnelrun serve` on uvicorn, hardened for visitors who do not play by the rules.

- Framing is llhttp's (httptools), chosen explicitly: a request with both Content-Length and
  Transfer-Encoding, or with bare-LF line endings, gets 400 and the connection is closed, so
  no leftover bytes are ever served as a second request.
- Slow clients meet deadlines that uvicorn lacks: each request's head (request line and
  headers) within `server.header_timeout_s`, its body within `server.body_timeout_s`.
- A head over `server.max_header_kb` gets 431; over `server.max_connections` open connections,
  requests get 503.
- uvicorn's proxy-headers middleware is off: one rule, `server.trusted_proxies` in
  funnelrun/request.py, decides whose X-Forwarded-For and X-Forwarded-Proto are believed.
- The log is funnelrun/server_log.py's: visitor-controlled text is escaped.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import resource
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httptools
import uvicorn
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from .admin import paths as admin_paths
from .errors import FunnelrunError
from .server_log import log_config
from .settings import ServerSettings, Settings
from .site.assets import ASSETS_DIR, MAX_DEPTH

APP = "funnelrun.worker:app_from_environment"
KEEPALIVE_TIMEOUT_S = 5  # an idle kept-alive connection is closed after this (uvicorn's default)
OPEN_FILES_RESERVE = 64  # descriptors besides connections: listener, store, executor pipes, logs
# Pages, components, modules and settings; and every file of an assets/ folder, whatever its
# type, down to the depth the index takes (uvicorn matches each pattern against the end of a
# path, one `*` per segment; dotfiles are excluded by uvicorn, and are not served anyway).
ASSET_PATTERNS = ["/".join([ASSETS_DIR] + ["*"] * depth) for depth in range(1, MAX_DEPTH + 2)]
RELOAD_PATTERNS = ["*.html", "*.js", "*.toml", *ASSET_PATTERNS]
BODY_HEADERS = (b"content-length", b"transfer-encoding")  # a request without either has no body

logger = logging.getLogger("funnelrun.server")


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """What one connection may take: seconds for a request's head and body, bytes of head."""

    header_timeout_s: float
    body_timeout_s: float
    max_header_bytes: int


def http_limits(server: ServerSettings) -> HttpLimits:
    """The limits of `[server]` (settings.py checks their ranges)."""
    return HttpLimits(server.header_timeout_s, server.body_timeout_s, server.max_header_kb * 1024)


def uvicorn_options(settings: Settings, root: Path, *, reload: bool) -> dict[str, Any]:
    """Everything `uvicorn.run` is given besides the app."""
    server = settings.server
    limits = http_limits(server)
    return {
        "factory": True,
        "host": server.host,
        "port": server.port,
        "workers": None if reload else server.workers,
        "reload": reload,
        "reload_dirs": [str(root)] if reload else None,
        "reload_includes": RELOAD_PATTERNS if reload else None,
        # A partial of a module-level class: uvicorn pickles it for each worker process.
        "http": functools.partial(GuardedHttpProtocol, limits=limits),
        "ws": "none",  # pages are HTTP only; an Upgrade header is ignored
        "proxy_headers": False,  # funnelrun's trusted_proxies rule alone decides (request.py)
        # uvicorn answers 503 once connections (this one included) or running requests reach
        # the limit; one more makes max_connections the number actually served at once.
        "limit_concurrency": server.max_connections + 1,
        "timeout_keep_alive": KEEPALIVE_TIMEOUT_S,
        "log_config": log_config(),
        "log_level": "info",
        "access_log": server.access_log,
        "loop": "uvloop",
        "server_header": False,
    }


def run(options: dict[str, Any]) -> None:
    """Serve until stopped (the site folder is in FUNNELRUN_SITE, set by the command line)."""
    limit = options["limit_concurrency"]
    _raise_open_files_limit(limit + OPEN_FILES_RESERVE)
    uvicorn.run(APP, **options)


def _raise_open_files_limit(needed: int) -> None:
    """Let each worker hold its connections: lift the soft RLIMIT_NOFILE (often 1024) toward the
    hard one, as nginx's worker_rlimit_nofile does. Worker processes inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        print(f"funnelrun: warning: the system allows {hard} open files per process "
              f"(ulimit -Hn); server.max_connections needs about {needed}", file=sys.stderr)


class HeadTooLarge(FunnelrunError):
    """Raised from a parser callback to stop parsing a request head over the cap; it never
    leaves this module (httptools hands it back as the context of its own error)."""

    reason = "head_too_large"


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol plus deadlines for each request's head and body and a cap
    on the head's size.

    At most one deadline is armed at a time: the head's, from the connection's opening (first
    request) or from the first byte after a response (later requests; silence there is
    uvicorn's keep-alive timeout); then the body's, from the end of the head while the app
    reads it. While the app works on a request nothing is armed: the script limits bound it.
    """

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: HttpLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits
        self.deadline: asyncio.TimerHandle | None = None
        self.reading_head = False  # from a request's first byte to the end of its headers
        self.head_parsed = 0  # bytes of the head the parser has handed over (url, headers)
        self.head_received = 0  # bytes of the chunks that arrived wholly inside the head
        self.has_body = False  # the head announced one (Content-Length, Transfer-Encoding)
        self.head_deadline_due = False  # arm the head's deadline once this chunk is parsed

    # -- the connection --------------------------------------------------------------------

    # Narrower than asyncio's BaseTransport, as in uvicorn's own method: a stream protocol is
    # always handed an asyncio.Transport.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.header_timeout_s, self._head_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """uvicorn's, with a 431 for an oversized head, and the head deadline armed by the
        first byte of a later request."""
        self._unset_keepalive_if_required()
        # Armed once the chunk is parsed, unless the head ended in it (`_disarm`, as it does
        # when a whole request arrives at once): the same deadline, without a timer made and
        # cancelled for most requests.
        self.head_deadline_due = self.deadline is None and self._between_requests()
        try:
            self._parse(data)
        finally:
            if self.head_deadline_due:
                self._arm(self.limits.header_timeout_s, self._head_too_slow)

    def _parse(self, data: bytes) -> None:
        inside_head = self.reading_head
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            logger.info("%s: Upgrade header ignored; funnelrun serves HTTP/1.1", self._peer())
            return
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, HeadTooLarge):
                self._refuse_large_head()
            else:
                message = "Invalid HTTP request received."
                self.logger.warning(message)
                self.send_400_response(message)
            return
        if inside_head and self.reading_head:
            # A head still incomplete: the parser holds a partial header we cannot see.
            self.head_received += len(data)
            if self.head_received > self.limits.max_header_bytes:
                self._refuse_large_head()

    # -- parser callbacks ------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.reading_head = True
        self.head_parsed = self.head_received = 0
        self.has_body = False

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self._count_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self._count_head(len(name) + len(value) + 4)  # "name: value\r\n"
        if not self.has_body and name.lower() in BODY_HEADERS:
            self.has_body = True

    def on_headers_complete(self) -> None:
        self.reading_head = False
        self._disarm()
        super().on_headers_complete()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        super()._start_asgi_task(cycle, app)
        # Called as a request starts, at the end of its head or, when it was queued behind
        # another (pipelining), once that one is answered: the body is read from then on.
        if self.has_body and cycle.more_body:
            self._arm(self.limits.body_timeout_s, self._body_too_slow, cycle)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def shutdown(self) -> None:
        """uvicorn's, except that a debug window's live stream is cut at once: it never ends
        by itself, and a shutdown waits for every response (the browser reconnects later)."""
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete \
                and cycle.scope.get("path") == admin_paths.LIVE:
            self.transport.close()
            return
        super().shutdown()

    # -- deadlines and refusals ------------------------------------------------------------

    def _arm(self, seconds: float, expired: Callable[..., None], *args: Any) -> None:
        self._disarm()
        self.deadline = self.loop.call_later(seconds, expired, *args)

    def _disarm(self) -> None:
        self.head_deadline_due = False
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _count_head(self, size: int) -> None:
        self.head_parsed += size
        if self.head_parsed > self.limits.max_header_bytes:
            raise HeadTooLarge(f"request head over {self.limits.max_header_bytes} bytes")

    def _head_too_slow(self) -> None:
        self.deadline = None
        if self.transport.is_closing():
            return
        seconds = self.limits.header_timeout_s
        if not self.reading_head:  # nothing of a request yet (a browser's preconnect, an attack)
            logger.info("%s: no request within %g s; connection closed", self._peer(), seconds)
            self.transport.close()
            return
        logger.info("%s: request head not complete within %g s; 408", self._peer(), seconds)
        self._answer_and_close(408, "The request took too long to arrive.")

    def _body_too_slow(self, cycle: RequestResponseCycle) -> None:
        self.deadline = None
        if self.transport.is_closing():
            return
        logger.info("%s: request body not complete within %g s; 408", self._peer(),
                    self.limits.body_timeout_s)
        if cycle.response_started:
            self.transport.close()
            return
        # The app waits for the body: it sees a disconnect, and its answer goes nowhere.
        cycle.disconnected = True
        cycle.message_event.set()
        self._answer_and_close(408, "The request took too long to arrive.")

    def _refuse_large_head(self) -> None:
        limit = self.limits.max_header_bytes
        logger.warning("%s: request head over %d bytes; 431", self._peer(), limit)
        if self._between_requests():
            self._answer_and_close(431, f"Request line and headers over {limit} bytes.")
        else:  # a pipelined request while a response is being written: no place for a 431
            self.transport.close()

    def _answer_and_close(self, status: int, message: str) -> None:
        body = message.encode("ascii")
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()

    def _peer(self) -> str:
        if self.client is None:
            return "a client"
        host, port = self.client
        return f"{host}:{port}"
